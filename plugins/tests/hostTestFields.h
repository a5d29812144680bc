// Field collections for the host test: parsed from text (cases written in Python) or generated at random.
#ifndef AN_DEPLOY_HOST_TEST_FIELDS_H
#define AN_DEPLOY_HOST_TEST_FIELDS_H

#include "NvInferRuntime.h"

#include <cstdint>
#include <istream>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace an_test
{

//! Owns the names and data that its PluginFields point to.
class FieldSet
{
public:
    //! Append a field; `bytes` is copied (data is null if nullData). A null name if nullName.
    void add(std::string const& name, nvinfer1::PluginFieldType type, int32_t length, std::vector<uint8_t> bytes,
        bool nullName = false, bool nullData = false);
    //! Copy every field of an existing collection (deep copy of name and `length` elements of data).
    void copyFrom(nvinfer1::PluginFieldCollection const& fc);
    nvinfer1::PluginFieldCollection const* collection();
    size_t size() const
    {
        return mNames.size();
    }

private:
    std::vector<std::unique_ptr<std::string>> mNames;
    std::vector<std::unique_ptr<std::vector<uint8_t>>> mData;
    std::vector<nvinfer1::PluginField> mFields;
    std::vector<bool> mNullName;
    std::vector<bool> mNullData;
    std::vector<nvinfer1::PluginFieldType> mTypes;
    std::vector<int32_t> mLengths;
    nvinfer1::PluginFieldCollection mCollection{};
};

//! Bytes per element of a field type (0 if unknown, 1 for packed sub-byte types).
size_t fieldElementSize(nvinfer1::PluginFieldType type);

//! Parse lines "name type length v0 v1 ..." (type: PluginFieldType integer; name "<null>" for a null name,
//! value "<nulldata>" for null data). Empty lines are skipped. Returns false with `error` on bad syntax.
bool parseFieldText(std::istream& in, FieldSet& out, std::string& error);

//! A random field collection: mixture of valid, mistyped, wrong-length, unknown, duplicate, null fields.
void randomFields(std::mt19937& rng, FieldSet& out);

//! Value of a serialized field as JSON (number, or array when length != 1, or raw type info).
std::string fieldValueJson(nvinfer1::PluginField const& field);

} // namespace an_test

#endif // AN_DEPLOY_HOST_TEST_FIELDS_H
