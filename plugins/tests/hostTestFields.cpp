#include "hostTestFields.h"

#include "hostTestJson.h"

#include <cstring>
#include <limits>
#include <sstream>

using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;

namespace an_test
{

void FieldSet::add(std::string const& name, PluginFieldType type, int32_t length, std::vector<uint8_t> bytes,
    bool nullName, bool nullData)
{
    mNames.push_back(std::make_unique<std::string>(name));
    mData.push_back(std::make_unique<std::vector<uint8_t>>(std::move(bytes)));
    mNullName.push_back(nullName);
    mNullData.push_back(nullData);
    mTypes.push_back(type);
    mLengths.push_back(length);
}

void FieldSet::copyFrom(PluginFieldCollection const& fc)
{
    for (int32_t i = 0; i < fc.nbFields; ++i)
    {
        PluginField const& f = fc.fields[i];
        size_t const bytes = fieldElementSize(f.type) * static_cast<size_t>(f.length > 0 ? f.length : 0);
        std::vector<uint8_t> data(bytes);
        if (f.data != nullptr && bytes > 0)
        {
            std::memcpy(data.data(), f.data, bytes);
        }
        add(f.name != nullptr ? f.name : "", f.type, f.length, std::move(data), f.name == nullptr, f.data == nullptr);
    }
}

PluginFieldCollection const* FieldSet::collection()
{
    mFields.clear();
    for (size_t i = 0; i < mNames.size(); ++i)
    {
        void const* data = mNullData[i] ? nullptr : static_cast<void const*>(mData[i]->data());
        // A zero-length buffer still gets a distinct non-null address so "no data" is only the explicit case.
        if (!mNullData[i] && mData[i]->empty())
        {
            mData[i]->reserve(1);
            data = mData[i]->data();
        }
        mFields.emplace_back(mNullName[i] ? nullptr : mNames[i]->c_str(), data, mTypes[i], mLengths[i]);
    }
    mCollection.nbFields = static_cast<int32_t>(mFields.size());
    mCollection.fields = mFields.empty() ? nullptr : mFields.data();
    return &mCollection;
}

size_t fieldElementSize(PluginFieldType type)
{
    switch (type)
    {
    case PluginFieldType::kFLOAT16: return 2;
    case PluginFieldType::kFLOAT32: return 4;
    case PluginFieldType::kFLOAT64: return 8;
    case PluginFieldType::kINT8: return 1;
    case PluginFieldType::kINT16: return 2;
    case PluginFieldType::kINT32: return 4;
    case PluginFieldType::kCHAR: return 1;
    case PluginFieldType::kDIMS: return sizeof(nvinfer1::Dims);
    case PluginFieldType::kBF16: return 2;
    case PluginFieldType::kINT64: return 8;
    case PluginFieldType::kFP8: return 1;
    case PluginFieldType::kINT4: return 1;
    case PluginFieldType::kFP4: return 1;
    case PluginFieldType::kUNKNOWN: return 1;
    }
    return 1;
}

namespace
{
template <typename T>
void append(std::vector<uint8_t>& out, T value)
{
    uint8_t raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    out.insert(out.end(), raw, raw + sizeof(T));
}

bool appendValue(std::string const& token, PluginFieldType type, std::vector<uint8_t>& out)
{
    try
    {
        switch (type)
        {
        case PluginFieldType::kFLOAT32: append(out, std::stof(token)); return true;
        case PluginFieldType::kFLOAT64: append(out, std::stod(token)); return true;
        case PluginFieldType::kINT32: append(out, static_cast<int32_t>(std::stoll(token))); return true;
        case PluginFieldType::kINT64: append(out, static_cast<int64_t>(std::stoll(token))); return true;
        case PluginFieldType::kINT16:
        case PluginFieldType::kFLOAT16:
        case PluginFieldType::kBF16: append(out, static_cast<uint16_t>(std::stoll(token))); return true;
        default: append(out, static_cast<uint8_t>(std::stoll(token))); return true;
        }
    }
    catch (...)
    {
        return false;
    }
}
} // namespace

bool parseFieldText(std::istream& in, FieldSet& out, std::string& error)
{
    std::string line;
    while (std::getline(in, line))
    {
        std::istringstream words(line);
        std::string name;
        int32_t type = 0;
        int32_t length = 0;
        if (!(words >> name))
        {
            continue;
        }
        if (!(words >> type >> length))
        {
            error = "bad field line: " + line;
            return false;
        }
        PluginFieldType const t = static_cast<PluginFieldType>(type);
        std::vector<uint8_t> bytes;
        bool nullData = false;
        std::string token;
        while (words >> token)
        {
            if (token == "<nulldata>")
            {
                nullData = true;
            }
            else if (!appendValue(token, t, bytes))
            {
                error = "bad value '" + token + "' in: " + line;
                return false;
            }
        }
        out.add(name, t, length, std::move(bytes), name == "<null>", nullData);
    }
    return true;
}

void randomFields(std::mt19937& rng, FieldSet& out)
{
    static char const* const kNAMES[] = {"num_channels", "num_affine", "attn_hidden", "norm_type", "num_groups",
        "epsilon", "attn_input", "eps_var", "hidden_activation", "attn_norm_groups", "attn_norm_eps", "activation",
        "", "num_channel", "NUM_CHANNELS", "epsilon\x01", "plugin_version"};
    std::uniform_int_distribution<int32_t> nbFieldsDist(0, 16);
    std::uniform_int_distribution<int32_t> nameDist(0, static_cast<int32_t>(sizeof(kNAMES) / sizeof(kNAMES[0])) - 1);
    std::uniform_int_distribution<int32_t> typeDist(0, 13);
    std::uniform_int_distribution<int32_t> pick(0, 99);
    std::uniform_int_distribution<int32_t> byteDist(0, 255);
    int32_t const nbFields = nbFieldsDist(rng);
    for (int32_t i = 0; i < nbFields; ++i)
    {
        int32_t const nameIdx = nameDist(rng);
        bool const isFloat = nameIdx == 5 || nameIdx == 7 || nameIdx == 10;
        // Mostly the right type and length 1, so that many collections get past the structural checks.
        PluginFieldType type = isFloat ? PluginFieldType::kFLOAT32 : PluginFieldType::kINT32;
        if (pick(rng) < 20)
        {
            type = static_cast<PluginFieldType>(typeDist(rng));
        }
        int32_t length = 1;
        int32_t const r = pick(rng);
        if (r < 5)
        {
            length = 0;
        }
        else if (r < 10)
        {
            length = 1 + pick(rng) % 4;
        }
        else if (r < 12)
        {
            length = -1 - pick(rng);
        }
        size_t const bytes = fieldElementSize(type) * static_cast<size_t>(length > 0 ? length : 0);
        std::vector<uint8_t> data(bytes);
        if (pick(rng) < 50 && !isFloat && type == PluginFieldType::kINT32 && bytes >= 4)
        {
            int32_t const small = pick(rng) % 8 - 2; // plausible ints, including 0 and negatives
            std::memcpy(data.data(), &small, 4);
        }
        else if (pick(rng) < 50 && isFloat && type == PluginFieldType::kFLOAT32 && bytes >= 4)
        {
            float const values[] = {1e-5F, 1e-3F, 0.0F, -1.0F, std::numeric_limits<float>::quiet_NaN(),
                std::numeric_limits<float>::infinity(), 1e30F};
            std::memcpy(data.data(), &values[pick(rng) % 7], 4);
        }
        else
        {
            for (uint8_t& b : data)
            {
                b = static_cast<uint8_t>(byteDist(rng));
            }
        }
        out.add(kNAMES[nameIdx], type, length, std::move(data), pick(rng) < 2, pick(rng) < 3);
    }
}

std::string fieldValueJson(PluginField const& field)
{
    if (field.data == nullptr || field.length < 1)
    {
        return "null";
    }
    std::vector<std::string> values;
    for (int32_t i = 0; i < field.length; ++i)
    {
        if (field.type == PluginFieldType::kFLOAT32)
        {
            float v = 0.0F;
            std::memcpy(&v, static_cast<char const*>(field.data) + 4 * i, 4);
            values.push_back(jsonNumber(v));
        }
        else if (field.type == PluginFieldType::kINT32)
        {
            int32_t v = 0;
            std::memcpy(&v, static_cast<char const*>(field.data) + 4 * i, 4);
            values.push_back(std::to_string(v));
        }
        else
        {
            values.push_back("\"?\"");
        }
    }
    return values.size() == 1 ? values[0] : jsonArray(values);
}

} // namespace an_test
