/*
 * AttentiveNorm TensorRT plugin (IPluginV3 with the V3One core/build/runtime capabilities).
 * Inputs and output follow an_deploy/spec.py: X + 10 float32 parameter tensors -> Y.
 * Formats: X/Y float32 kLINEAR or kHWC, float16 kLINEAR or kHWC8; Y has X's type and format;
 * the parameter inputs are float32 kLINEAR.
 */
#ifndef AN_DEPLOY_ATTENTIVE_NORM_PLUGIN_H
#define AN_DEPLOY_ATTENTIVE_NORM_PLUGIN_H

#include "NvInferRuntime.h"

#include "attentiveNormApi.h"
#include "attentiveNormContract.h"

#include <string>
#include <vector>

namespace an_deploy
{
namespace plugin
{

class AttentiveNormPlugin : public nvinfer1::IPluginV3,
                            public nvinfer1::IPluginV3OneCore,
                            public nvinfer1::IPluginV3OneBuild,
                            public nvinfer1::IPluginV3OneRuntime
{
public:
    //! `attrs` must already be valid (the creator checks them).
    explicit AttentiveNormPlugin(AnAttentiveNormAttributes const& attrs);
    ~AttentiveNormPlugin() override = default;

    // IPluginV3
    nvinfer1::IPluginCapability* getCapabilityInterface(nvinfer1::PluginCapabilityType type) noexcept override;
    nvinfer1::IPluginV3* clone() noexcept override;

    // IPluginV3OneCore
    char const* getPluginName() const noexcept override;
    char const* getPluginVersion() const noexcept override;
    char const* getPluginNamespace() const noexcept override;

    // IPluginV3OneBuild
    int32_t configurePlugin(nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs,
        nvinfer1::DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept override;
    int32_t getOutputDataTypes(nvinfer1::DataType* outputTypes, int32_t nbOutputs,
        nvinfer1::DataType const* inputTypes, int32_t nbInputs) const noexcept override;
    int32_t getOutputShapes(nvinfer1::DimsExprs const* inputs, int32_t nbInputs, nvinfer1::DimsExprs const* shapeInputs,
        int32_t nbShapeInputs, nvinfer1::DimsExprs* outputs, int32_t nbOutputs,
        nvinfer1::IExprBuilder& exprBuilder) noexcept override;
    bool supportsFormatCombination(int32_t pos, nvinfer1::DynamicPluginTensorDesc const* inOut, int32_t nbInputs,
        int32_t nbOutputs) noexcept override;
    int32_t getNbOutputs() const noexcept override;
    size_t getWorkspaceSize(nvinfer1::DynamicPluginTensorDesc const* inputs, int32_t nbInputs,
        nvinfer1::DynamicPluginTensorDesc const* outputs, int32_t nbOutputs) const noexcept override;

    // IPluginV3OneRuntime
    int32_t onShapeChange(nvinfer1::PluginTensorDesc const* in, int32_t nbInputs, nvinfer1::PluginTensorDesc const* out,
        int32_t nbOutputs) noexcept override;
    int32_t enqueue(nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
        void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept override;
    nvinfer1::IPluginV3* attachToContext(nvinfer1::IPluginResourceContext* context) noexcept override;
    nvinfer1::PluginFieldCollection const* getFieldsToSerialize() noexcept override;

    AnAttentiveNormAttributes const& attributes() const noexcept
    {
        return mAttrs;
    }

private:
    //! How far checkTensors() checks the dims: ranks and a constant channel count only (output shapes), values
    //! with -1 accepted for dynamic dimensions (build time), or concrete values (run time).
    enum class DimsCheck : int32_t
    {
        kRANKS,
        kDYNAMIC,
        kCONCRETE
    };

    //! The one validation of the plugin's tensors: empty if `present` (the method's pointers are not null), the
    //! input/output counts are those of spec.INPUTS/OUTPUTS and, when `dims` is not null, the dims of the
    //! kNB_INPUTS inputs (X, then the parameters) fit the attributes under `check`; else the reason.
    std::string checkTensors(
        bool present, int32_t nbInputs, int32_t nbOutputs, nvinfer1::Dims const* dims, DimsCheck check) const;

    AnAttentiveNormAttributes mAttrs;
    std::vector<nvinfer1::PluginField> mDataToSerialize;
    nvinfer1::PluginFieldCollection mFCToSerialize{};
};

} // namespace plugin
} // namespace an_deploy

#endif // AN_DEPLOY_ATTENTIVE_NORM_PLUGIN_H
