#include "hostTestJson.h"

#include <cmath>
#include <cstdio>

namespace an_test
{

std::string jsonString(std::string const& s)
{
    std::string out = "\"";
    for (unsigned char ch : s)
    {
        if (ch == '"' || ch == '\\')
        {
            out += '\\';
            out += static_cast<char>(ch);
        }
        else if (ch < 0x20 || ch >= 0x7f)
        {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", ch);
            out += buf;
        }
        else
        {
            out += static_cast<char>(ch);
        }
    }
    return out + "\"";
}

std::string jsonNumber(double v)
{
    if (std::isnan(v))
    {
        return "\"nan\"";
    }
    if (std::isinf(v))
    {
        return v > 0 ? "\"inf\"" : "\"-inf\"";
    }
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.9g", v);
    return buf;
}

JsonObject& JsonObject::add(std::string const& key, std::string const& rawValue)
{
    mItems.push_back(jsonString(key) + ": " + rawValue);
    return *this;
}

JsonObject& JsonObject::addString(std::string const& key, std::string const& value)
{
    return add(key, jsonString(value));
}

JsonObject& JsonObject::addInt(std::string const& key, int64_t value)
{
    return add(key, std::to_string(value));
}

JsonObject& JsonObject::addBool(std::string const& key, bool value)
{
    return add(key, value ? "true" : "false");
}

std::string JsonObject::str() const
{
    std::string out = "{";
    for (size_t i = 0; i < mItems.size(); ++i)
    {
        out += (i ? ", " : "") + mItems[i];
    }
    return out + "}";
}

std::string jsonArray(std::vector<std::string> const& rawValues)
{
    std::string out = "[";
    for (size_t i = 0; i < rawValues.size(); ++i)
    {
        out += (i ? ", " : "") + rawValues[i];
    }
    return out + "]";
}

std::string jsonStringArray(std::vector<std::string> const& values)
{
    std::vector<std::string> raw;
    for (std::string const& v : values)
    {
        raw.push_back(jsonString(v));
    }
    return jsonArray(raw);
}

} // namespace an_test
