// Creator of the AttentiveNorm plugin: field list = spec.ATTRIBUTES; createPlugin validates like spec.py.
#ifndef AN_DEPLOY_ATTENTIVE_NORM_PLUGIN_CREATOR_H
#define AN_DEPLOY_ATTENTIVE_NORM_PLUGIN_CREATOR_H

#include "NvInferRuntime.h"

#include "attentiveNormApi.h"

#include <string>
#include <vector>

namespace an_deploy
{
namespace plugin
{

//! Read a field collection into attributes (defaults for missing optional fields). Every problem is appended
//! to `errors`: null collection, unknown/duplicate/null names, wrong type, length != 1, null data,
//! missing required fields, and the rules of spec.attribute_errors.
AnAttentiveNormAttributes parseFields(nvinfer1::PluginFieldCollection const* fc, std::vector<std::string>& errors);

class AttentiveNormPluginCreator : public nvinfer1::IPluginCreatorV3One
{
public:
    AttentiveNormPluginCreator();
    ~AttentiveNormPluginCreator() override = default;

    nvinfer1::IPluginV3* createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc,
        nvinfer1::TensorRTPhase phase) noexcept override;
    nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override;
    char const* getPluginName() const noexcept override;
    char const* getPluginVersion() const noexcept override;
    char const* getPluginNamespace() const noexcept override;

private:
    std::vector<nvinfer1::PluginField> mFields;
    nvinfer1::PluginFieldCollection mFieldCollection{};
};

} // namespace plugin
} // namespace an_deploy

#endif // AN_DEPLOY_ATTENTIVE_NORM_PLUGIN_CREATOR_H
