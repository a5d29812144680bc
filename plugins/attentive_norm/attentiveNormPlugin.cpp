#include "attentiveNormPlugin.h"

#include "attentiveNormAttributes.h"
#include "attentiveNormKernel.h"
#include "pluginLogger.h"

#include <exception>

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
    try
    {
        return new AttentiveNormPlugin(mAttrs);
    }
    catch (std::exception const& e)
    {
        logPluginError(std::string("clone failed: ") + e.what());
    }
    return nullptr;
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

std::string AttentiveNormPlugin::checkInputDims(Dims const* dims, int32_t nbInputs, bool allowDynamic) const
{
    if (nbInputs != kNB_INPUTS)
    {
        return "expected " + std::to_string(kNB_INPUTS) + " inputs, got " + std::to_string(nbInputs);
    }
    if (dims[0].nbDims != 4)
    {
        return "X must be 4-D [N, C, H, W], got " + dimsToString(dims[0]);
    }
    for (int32_t i = 0; i < 4; ++i)
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
        for (int32_t j = 0; ok && j < got.nbDims; ++j)
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
    try
    {
        if (in == nullptr || out == nullptr || nbOutputs != kNB_OUTPUTS || nbInputs != kNB_INPUTS)
        {
            logPluginError("configurePlugin: expected 11 inputs and 1 output");
            return -1;
        }
        Dims dims[kNB_INPUTS];
        for (int32_t i = 0; i < kNB_INPUTS; ++i)
        {
            dims[i] = in[i].desc.dims;
        }
        std::string const why = checkInputDims(dims, nbInputs, true);
        if (!why.empty())
        {
            logPluginError("configurePlugin: " + why);
            return -1;
        }
        return 0;
    }
    catch (std::exception const& e)
    {
        logPluginError(std::string("configurePlugin: ") + e.what());
    }
    return -1;
}

int32_t AttentiveNormPlugin::getOutputDataTypes(
    DataType* outputTypes, int32_t nbOutputs, DataType const* inputTypes, int32_t nbInputs) const noexcept
{
    if (outputTypes == nullptr || inputTypes == nullptr || nbOutputs != kNB_OUTPUTS || nbInputs != kNB_INPUTS)
    {
        logPluginError("getOutputDataTypes: expected 11 inputs and 1 output");
        return -1;
    }
    if (inputTypes[0] != DataType::kFLOAT && inputTypes[0] != DataType::kHALF)
    {
        logPluginError("getOutputDataTypes: X must be float32 or float16");
        return -1;
    }
    outputTypes[0] = inputTypes[0];
    return 0;
}

int32_t AttentiveNormPlugin::getOutputShapes(DimsExprs const* inputs, int32_t nbInputs,
    DimsExprs const* /*shapeInputs*/, int32_t /*nbShapeInputs*/, DimsExprs* outputs, int32_t nbOutputs,
    IExprBuilder& /*exprBuilder*/) noexcept
{
    try
    {
        if (inputs == nullptr || outputs == nullptr || nbInputs != kNB_INPUTS || nbOutputs != kNB_OUTPUTS)
        {
            logPluginError("getOutputShapes: expected 11 inputs and 1 output");
            return -1;
        }
        if (inputs[0].nbDims != 4)
        {
            logPluginError("getOutputShapes: X must be 4-D, got rank " + std::to_string(inputs[0].nbDims));
            return -1;
        }
        IDimensionExpr const* channels = inputs[0].d[1];
        if (channels != nullptr && channels->isConstant() && channels->getConstantValue() != mAttrs.num_channels)
        {
            logPluginError("getOutputShapes: X has " + std::to_string(channels->getConstantValue())
                + " channels, num_channels is " + std::to_string(mAttrs.num_channels));
            return -1;
        }
        for (int32_t i = 0; i < kNB_PARAM_INPUTS; ++i)
        {
            if (inputs[i + 1].nbDims != static_cast<int32_t>(expectedParamShape(mAttrs, i).size()))
            {
                logPluginError(std::string("getOutputShapes: wrong rank for ") + kPARAM_NAMES[static_cast<size_t>(i)]);
                return -1;
            }
        }
        outputs[0] = inputs[0];
        return 0;
    }
    catch (std::exception const& e)
    {
        logPluginError(std::string("getOutputShapes: ") + e.what());
    }
    return -1;
}

bool AttentiveNormPlugin::supportsFormatCombination(
    int32_t pos, DynamicPluginTensorDesc const* inOut, int32_t nbInputs, int32_t nbOutputs) noexcept
{
    if (inOut == nullptr || nbInputs != kNB_INPUTS || nbOutputs != kNB_OUTPUTS || pos < 0
        || pos >= kNB_INPUTS + kNB_OUTPUTS)
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
        return d.type == inOut[0].desc.type && d.format == inOut[0].desc.format && layoutOf(d.type, d.format) >= 0;
    }
    return d.type == DataType::kFLOAT && d.format == TensorFormat::kLINEAR;
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
    try
    {
        if (in == nullptr || out == nullptr || nbOutputs != kNB_OUTPUTS || nbInputs != kNB_INPUTS)
        {
            logPluginError("onShapeChange: expected 11 inputs and 1 output");
            return -1;
        }
        Dims dims[kNB_INPUTS];
        for (int32_t i = 0; i < kNB_INPUTS; ++i)
        {
            dims[i] = in[i].dims;
        }
        std::string const why = checkInputDims(dims, nbInputs, false);
        if (!why.empty())
        {
            logPluginError("onShapeChange: " + why);
            return -1;
        }
        return 0;
    }
    catch (std::exception const& e)
    {
        logPluginError(std::string("onShapeChange: ") + e.what());
    }
    return -1;
}

int32_t AttentiveNormPlugin::enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* outputDesc,
    void const* const* inputs, void* const* outputs, void* workspace, cudaStream_t stream) noexcept
{
    try
    {
        if (inputDesc == nullptr || outputDesc == nullptr || inputs == nullptr || outputs == nullptr)
        {
            logPluginError("enqueue: null descriptors or pointers");
            return -1;
        }
        PluginTensorDesc const& x = inputDesc[0];
        int32_t const layout = layoutOf(x.type, x.format);
        if (layout < 0 || x.dims.nbDims != 4 || outputDesc[0].type != x.type || outputDesc[0].format != x.format)
        {
            logPluginError("enqueue: unsupported X/Y type, format or rank");
            return -1;
        }
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
        int32_t const status = attentiveNormForward(launch, stream, &error);
        if (status != AN_STATUS_SUCCESS)
        {
            logPluginError("enqueue: " + error);
            return -1;
        }
        return 0;
    }
    catch (std::exception const& e)
    {
        logPluginError(std::string("enqueue: ") + e.what());
    }
    return -1;
}

IPluginV3* AttentiveNormPlugin::attachToContext(IPluginResourceContext*) noexcept
{
    return clone();
}

PluginFieldCollection const* AttentiveNormPlugin::getFieldsToSerialize() noexcept
{
    try
    {
        mDataToSerialize.clear();
        for (int32_t i = 0; i < kNB_ATTRIBUTES; ++i)
        {
            AttributeSpec const& a = kATTRIBUTES[static_cast<size_t>(i)];
            mDataToSerialize.emplace_back(a.name, attributeAddress(mAttrs, i),
                a.isFloat ? PluginFieldType::kFLOAT32 : PluginFieldType::kINT32, 1);
        }
        mFCToSerialize.nbFields = static_cast<int32_t>(mDataToSerialize.size());
        mFCToSerialize.fields = mDataToSerialize.data();
        return &mFCToSerialize;
    }
    catch (std::exception const& e)
    {
        logPluginError(std::string("getFieldsToSerialize: ") + e.what());
    }
    return nullptr;
}

} // namespace plugin
} // namespace an_deploy
