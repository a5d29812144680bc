// Minimal JSON writer for the host test (output parsed by tests/plugin/*.py).
#ifndef AN_DEPLOY_HOST_TEST_JSON_H
#define AN_DEPLOY_HOST_TEST_JSON_H

#include <cstdint>
#include <string>
#include <vector>

namespace an_test
{

std::string jsonString(std::string const& s);
std::string jsonNumber(double v);

//! Builds one JSON object: add("key", rawJsonValue).
class JsonObject
{
public:
    JsonObject& add(std::string const& key, std::string const& rawValue);
    JsonObject& addString(std::string const& key, std::string const& value);
    JsonObject& addInt(std::string const& key, int64_t value);
    JsonObject& addBool(std::string const& key, bool value);
    std::string str() const;

private:
    std::vector<std::string> mItems;
};

std::string jsonArray(std::vector<std::string> const& rawValues);
std::string jsonStringArray(std::vector<std::string> const& values);

} // namespace an_test

#endif // AN_DEPLOY_HOST_TEST_JSON_H
