#include "attentiveNormPluginCreator.h"

#include "attentiveNormAttributes.h"
#include "attentiveNormPlugin.h"
#include "pluginErrors.h"

#include <cstring>

using namespace nvinfer1;

namespace an_deploy
{
namespace plugin
{

AnAttentiveNormAttributes parseFields(PluginFieldCollection const* fc, std::vector<std::string>& errors)
{
    AnAttentiveNormAttributes attrs = defaultAttributes();
    if (fc == nullptr)
    {
        errors.emplace_back("no field collection");
        return attrs;
    }
    if (fc->nbFields < 0 || (fc->nbFields > 0 && fc->fields == nullptr))
    {
        errors.emplace_back("malformed field collection (nbFields " + std::to_string(fc->nbFields) + ")");
        return attrs;
    }
    bool seen[kNB_ATTRIBUTES] = {};
    for (int32_t f = 0; f < fc->nbFields; ++f)
    {
        PluginField const& field = fc->fields[f];
        if (field.name == nullptr)
        {
            errors.push_back("field " + std::to_string(f) + " has no name");
            continue;
        }
        std::string const name(field.name, strnlen(field.name, 256));
        int32_t index = -1;
        for (int32_t i = 0; i < kNB_ATTRIBUTES; ++i)
        {
            if (name == kATTRIBUTES[static_cast<size_t>(i)].name)
            {
                index = i;
            }
        }
        if (index < 0)
        {
            errors.push_back("unknown field '" + name + "'");
            continue;
        }
        AttributeSpec const& spec = kATTRIBUTES[static_cast<size_t>(index)];
        PluginFieldType const want = spec.isFloat ? PluginFieldType::kFLOAT32 : PluginFieldType::kINT32;
        if (seen[index])
        {
            errors.push_back("duplicate field '" + name + "'");
            continue;
        }
        seen[index] = true;
        if (field.type != want)
        {
            errors.push_back("field '" + name + "' must be " + (spec.isFloat ? "kFLOAT32" : "kINT32")
                + ", got PluginFieldType " + std::to_string(static_cast<int32_t>(field.type)));
            continue;
        }
        if (field.length != 1)
        {
            errors.push_back("field '" + name + "' must have length 1, got " + std::to_string(field.length));
            continue;
        }
        if (field.data == nullptr)
        {
            errors.push_back("field '" + name + "' has no data");
            continue;
        }
        std::memcpy(attributeAddress(attrs, index), field.data, 4);
    }
    bool missing = false;
    for (int32_t i = 0; i < kNB_ATTRIBUTES; ++i)
    {
        if (kATTRIBUTES[static_cast<size_t>(i)].required && !seen[i])
        {
            errors.push_back(std::string("missing required field '") + kATTRIBUTES[static_cast<size_t>(i)].name + "'");
            missing = true;
        }
    }
    if (errors.empty() && !missing)
    {
        std::vector<std::string> const rules = attributeErrors(attrs);
        errors.insert(errors.end(), rules.begin(), rules.end());
    }
    return attrs;
}

AttentiveNormPluginCreator::AttentiveNormPluginCreator()
{
    for (AttributeSpec const& a : kATTRIBUTES)
    {
        mFields.emplace_back(a.name, nullptr, a.isFloat ? PluginFieldType::kFLOAT32 : PluginFieldType::kINT32, 1);
    }
    mFieldCollection.nbFields = static_cast<int32_t>(mFields.size());
    mFieldCollection.fields = mFields.data();
}

IPluginV3* AttentiveNormPluginCreator::createPlugin(
    char const* name, PluginFieldCollection const* fc, TensorRTPhase phase) noexcept
{
    return guarded("createPlugin", static_cast<IPluginV3*>(nullptr), [&]() -> IPluginV3* {
        std::vector<std::string> errors;
        AnAttentiveNormAttributes const attrs = parseFields(fc, errors);
        if (!errors.empty())
        {
            std::string const layer = name != nullptr ? std::string(name, strnlen(name, 256)) : std::string("?");
            logPluginError(std::string("createPlugin(") + layer + (phase == TensorRTPhase::kBUILD ? ", build" : ", runtime")
                + ") rejected the fields: " + joinErrors(errors));
            return nullptr;
        }
        return new AttentiveNormPlugin(attrs);
    });
}

PluginFieldCollection const* AttentiveNormPluginCreator::getFieldNames() noexcept
{
    return &mFieldCollection;
}

char const* AttentiveNormPluginCreator::getPluginName() const noexcept
{
    return kPLUGIN_NAME;
}

char const* AttentiveNormPluginCreator::getPluginVersion() const noexcept
{
    return kPLUGIN_VERSION;
}

char const* AttentiveNormPluginCreator::getPluginNamespace() const noexcept
{
    return kPLUGIN_NAMESPACE;
}

} // namespace plugin
} // namespace an_deploy

// ---------------------------------------------------------------------------------------------------------------
// The library interface TensorRT looks for (IPluginRegistry::loadLibrary, trtexec --dynamicPlugins).

extern "C" AN_API nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators)
{
    try
    {
        static an_deploy::plugin::AttentiveNormPluginCreator sCreator;
        static nvinfer1::IPluginCreatorInterface* const sCreators[] = {&sCreator};
        nbCreators = 1;
        return sCreators;
    }
    catch (...)
    {
        an_deploy::plugin::logPluginError("getCreators: could not construct the creator");
    }
    nbCreators = 0;
    return nullptr;
}

extern "C" AN_API void setLoggerFinder(nvinfer1::ILoggerFinder* finder)
{
    an_deploy::plugin::setPluginLoggerFinder(finder);
}
