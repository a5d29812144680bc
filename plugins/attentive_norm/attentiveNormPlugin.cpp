#include "attentiveNormPlugin.h"

#include "attentiveNormAttributes.h"
#include "attentiveNormKernel.h"
#include "pluginErrors.h"

#include <array>

using namespace nvinfer1;

namespace an_deploy
{
namespace plugin
{
namespace
{

std::string dimsToString(Dims const& d)
{
    std::string s = "[";
    for (int32_t i = 0; i < d.nbDims; ++i)
    {
        s += (i ? ", " : "") + std::to_string(d.d[i]);
    }
    return s + "]";
}

//! AN_LAYOUT_* for a supported (type, format) of X/Y, -1 otherwise.
int32_t layoutOf(DataType type, TensorFormat format)
{
    if (type == DataType::kFLOAT && format == TensorFormat::kLINEAR)
    {
        return AN_LAYOUT_NCHW;
    }
    if (type == DataType::kFLOAT && format == TensorFormat::kHWC)
    {
        return AN_LAYOUT_NHWC;
    }
    if (type == DataType::kHALF && format == TensorFormat::kLINEAR)
    {
        return AN_LAYOUT_NCHW;
    }
    if (type == DataType::kHALF && format == TensorFormat::kHWC8)
    {
        return AN_LAYOUT_NHWC8;
    }
    return -1;
}

} // namespace

AttentiveNormPlugin::AttentiveNormPlugin(AnAttentiveNormAttributes const& attrs)
    : mAttrs(attrs)
{
}

IPluginCapability* AttentiveNormPlugin::getCapabilityInterface(PluginCapabilityType type) noexcept
{
    switch (type)
    {
    case PluginCapabilityType::kCORE: return static_cast<IPluginV3OneCore*>(this);
    case PluginCapabilityType::kBUILD: return static_cast<IPluginV3OneBuild*>(this);
    case PluginCapabilityType::kRUNTIME: return static_cast<IPluginV3OneRuntime*>(this);
    }
    return nullptr;
}

IPluginV3* AttentiveNormPlugin::clone() noexcept
{
    return guarded("clone", static_cast<IPluginV3*>(nullptr), [&] { return new AttentiveNormPlugin(mAttrs); });
}

char const* AttentiveNormPlugin::getPluginName() const noexcept
{
    return kPLUGIN_NAME;
}

char const* AttentiveNormPlugin::getPluginVersion() const noexcept
{
    return kPLUGIN_VERSION;
}

char const* AttentiveNormPlugin::getPluginNamespace() const noexcept
{
    return kPLUGIN_NAMESPACE;
}

std::string AttentiveNormPlugin::checkTensors(
    bool present, int32_t nbInputs, int32_t nbOutputs, Dims const* dims, DimsCheck check) const
{
    if (!present || nbInputs != kNB_INPUTS || nbOutputs != kNB_OUTPUTS)
    {
        return "expected " + std::to_string(kNB_INPUTS) + " inputs and " + std::to_string(kNB_OUTPUTS) + " output";
    }
    if (dims == nullptr)
    {
        return {};
    }
    bool const allowDynamic = check != DimsCheck::kCONCRETE;
    if (dims[0].nbDims != 4)
    {
        return "X must be 4-D [N, C, H, W], got " + dimsToString(dims[0]);
    }
    for (int32_t i = 0; i < 4 && check != DimsCheck::kRANKS; ++i)
    {
        if (dims[0].d[i] < 1 && !(allowDynamic && dims[0].d[i] == -1))
        {
            return "X has a non-positive dimension: " + dimsToString(dims[0]);
        }
    }
    bool const channelsKnown = !(allowDynamic && dims[0].d[1] == -1);
    if (channelsKnown && dims[0].d[1] != mAttrs.num_channels)
    {
        return "X has " + std::to_string(dims[0].d[1]) + " channels, num_channels is "
            + std::to_string(mAttrs.num_channels);
    }
    for (int32_t i = 0; i < kNB_PARAM_INPUTS; ++i)
    {
        std::vector<int64_t> const want = expectedParamShape(mAttrs, i);
        Dims const& got = dims[i + 1];
        bool ok = got.nbDims == static_cast<int32_t>(want.size());
        for (int32_t j = 0; ok && check != DimsCheck::kRANKS && j < got.nbDims; ++j)
        {
            ok = got.d[j] == want[static_cast<size_t>(j)] || (allowDynamic && got.d[j] == -1);
        }
        if (!ok)
        {
            Dims w{};
            w.nbDims = static_cast<int32_t>(want.size());
            for (size_t j = 0; j < want.size(); ++j)
            {
                w.d[j] = want[j];
            }
            return std::string(kPARAM_NAMES[static_cast<size_t>(i)]) + " has shape " + dimsToString(got)
                + ", expected " + dimsToString(w);
        }
    }
    return {};
}

int32_t AttentiveNormPlugin::configurePlugin(
    DynamicPluginTensorDesc const* in, int32_t nbInputs, DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept
{
    return guarded("configurePlugin", int32_t{-1}, [&] {
        throwIfError(checkTensors(in != nullptr && out != nullptr, nbInputs, nbOutputs, nullptr, DimsCheck::kRANKS));
        std::array<Dims, kNB_INPUTS> dims{};
        for (int32_t i = 0; i < kNB_INPUTS; ++i)
        {
            dims[static_cast<size_t>(i)] = in[i].desc.dims;
        }
        throwIfError(checkTensors(true, nbInputs, nbOutputs, dims.data(), DimsCheck::kDYNAMIC));
        return int32_t{0};
    });
}

int32_t AttentiveNormPlugin::getOutputDataTypes(
    DataType* outputTypes, int32_t nbOutputs, DataType const* inputTypes, int32_t nbInputs) const noexcept
{
    return guarded("getOutputDataTypes", int32_t{-1}, [&] {
        throwIfError(checkTensors(
            outputTypes != nullptr && inputTypes != nullptr, nbInputs, nbOutputs, nullptr, DimsCheck::kRANKS));
        AN_PLUGIN_VALIDATE(
            inputTypes[0] == DataType::kFLOAT || inputTypes[0] == DataType::kHALF, "X must be float32 or float16");
        outputTypes[0] = inputTypes[0];
        return int32_t{0};
    });
}

int32_t AttentiveNormPlugin::getOutputShapes(DimsExprs const* inputs, int32_t nbInputs,
    DimsExprs const* /*shapeInputs*/, int32_t /*nbShapeInputs*/, DimsExprs* outputs, int32_t nbOutputs,
    IExprBuilder& /*exprBuilder*/) noexcept
{
    return guarded("getOutputShapes", int32_t{-1}, [&] {
        throwIfError(checkTensors(inputs != nullptr && outputs != nullptr, nbInputs, nbOutputs, nullptr,
            DimsCheck::kRANKS));
        // Ranks and the constant channel count are known at this point; values are checked in configurePlugin.
        std::array<Dims, kNB_INPUTS> dims{};
        for (int32_t i = 0; i < kNB_INPUTS; ++i)
        {
            DimsExprs const& e = inputs[i];
            AN_PLUGIN_VALIDATE(e.nbDims >= 0 && e.nbDims <= Dims::MAX_DIMS,
                std::string(kINPUT_NAMES[static_cast<size_t>(i)]) + " has rank " + std::to_string(e.nbDims));
            Dims& d = dims[static_cast<size_t>(i)];
            d.nbDims = e.nbDims;
            for (int32_t j = 0; j < e.nbDims; ++j)
            {
                d.d[j] = e.d[j] != nullptr && e.d[j]->isConstant() ? e.d[j]->getConstantValue() : -1;
            }
        }
        throwIfError(checkTensors(true, nbInputs, nbOutputs, dims.data(), DimsCheck::kRANKS));
        outputs[0] = inputs[0];
        return int32_t{0};
    });
}

bool AttentiveNormPlugin::supportsFormatCombination(
    int32_t pos, DynamicPluginTensorDesc const* inOut, int32_t nbInputs, int32_t nbOutputs) noexcept
{
    // A query, not a failure: an impossible one is answered "no" without logging.
    return guarded("supportsFormatCombination", false, [&] {
        if (pos < 0 || pos >= kNB_INPUTS + kNB_OUTPUTS
            || !checkTensors(inOut != nullptr, nbInputs, nbOutputs, nullptr, DimsCheck::kRANKS).empty())
        {
            return false;
        }
        PluginTensorDesc const& d = inOut[pos].desc;
        if (pos == 0)
        {
            return layoutOf(d.type, d.format) >= 0;
        }
        if (pos == kNB_INPUTS)
        {
            return d.type == inOut[0].desc.type && d.format == inOut[0].desc.format
                && layoutOf(d.type, d.format) >= 0;
        }
        return d.type == DataType::kFLOAT && d.format == TensorFormat::kLINEAR;
    });
}

int32_t AttentiveNormPlugin::getNbOutputs() const noexcept
{
    return kNB_OUTPUTS;
}

size_t AttentiveNormPlugin::getWorkspaceSize(
    DynamicPluginTensorDesc const* inputs, int32_t nbInputs, DynamicPluginTensorDesc const*, int32_t) const noexcept
{
    if (inputs == nullptr || nbInputs < 1 || inputs[0].max.nbDims < 1)
    {
        return 0;
    }
    int64_t n = inputs[0].max.d[0];
    if (n < 1)
    {
        n = inputs[0].desc.dims.nbDims > 0 ? inputs[0].desc.dims.d[0] : 1;
    }
    return attentiveNormWorkspaceSize(n < 1 ? 1 : n, mAttrs);
}

int32_t AttentiveNormPlugin::onShapeChange(
    PluginTensorDesc const* in, int32_t nbInputs, PluginTensorDesc const* out, int32_t nbOutputs) noexcept
{
    return guarded("onShapeChange", int32_t{-1}, [&] {
        throwIfError(checkTensors(in != nullptr && out != nullptr, nbInputs, nbOutputs, nullptr, DimsCheck::kRANKS));
        std::array<Dims, kNB_INPUTS> dims{};
        for (int32_t i = 0; i < kNB_INPUTS; ++i)
        {
            dims[static_cast<size_t>(i)] = in[i].dims;
        }
        throwIfError(checkTensors(true, nbInputs, nbOutputs, dims.data(), DimsCheck::kCONCRETE));
        return int32_t{0};
    });
}

int32_t AttentiveNormPlugin::enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept
{
    return guarded("enqueue", int32_t{-1}, [&] {
        AN_PLUGIN_VALIDATE(inputDesc != nullptr && outputDesc != nullptr && inputs != nullptr && outputs != nullptr,
            "null descriptors or pointers");
        PluginTensorDesc const& x = inputDesc[0];
        int32_t const layout = layoutOf(x.type, x.format);
        AN_PLUGIN_VALIDATE(
            layout >= 0 && x.dims.nbDims == 4 && outputDesc[0].type == x.type && outputDesc[0].format == x.format,
            "unsupported X/Y type, format or rank");
        AttentiveNormLaunch launch;
        launch.x = inputs[0];
        launch.y = outputs[0];
        for (int32_t i = 0; i < kNB_PARAM_INPUTS; ++i)
        {
            launch.params[i] = static_cast<float const*>(inputs[i + 1]);
        }
        launch.workspace = workspace;
        launch.workspaceBytes = attentiveNormWorkspaceSize(x.dims.d[0], mAttrs); // TensorRT sized it
        launch.n = x.dims.d[0];
        launch.c = x.dims.d[1];
        launch.h = x.dims.d[2];
        launch.w = x.dims.d[3];
        launch.dtype = x.type == DataType::kFLOAT ? AN_DTYPE_FLOAT32 : AN_DTYPE_FLOAT16;
        launch.layout = layout;
        launch.attrs = mAttrs;
        std::string error;
        AN_PLUGIN_VALIDATE(attentiveNormForward(launch, stream, &error) == AN_STATUS_SUCCESS, error);
        return int32_t{0};
    });
}

IPluginV3* AttentiveNormPlugin::attachToContext(IPluginResourceContext*) noexcept
{
    return clone();
}

PluginFieldCollection const* AttentiveNormPlugin::getFieldsToSerialize() noexcept
{
    return guarded("getFieldsToSerialize", static_cast<PluginFieldCollection const*>(nullptr), [&] {
        mDataToSerialize.clear();
        for (int32_t i = 0; i < kNB_ATTRIBUTES; ++i)
        {
            AttributeSpec const& a = kATTRIBUTES[static_cast<size_t>(i)];
            mDataToSerialize.emplace_back(a.name, attributeAddress(mAttrs, i),
                a.isFloat ? PluginFieldType::kFLOAT32 : PluginFieldType::kINT32, 1);
        }
        mFCToSerialize.nbFields = static_cast<int32_t>(mDataToSerialize.size());
        mFCToSerialize.fields = mDataToSerialize.data();
        return static_cast<PluginFieldCollection const*>(&mFCToSerialize);
    });
}

} // namespace plugin
} // namespace an_deploy
