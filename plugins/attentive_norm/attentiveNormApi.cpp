// extern "C" entry point of the kernel (see attentiveNormApi.h).
#include "attentiveNormApi.h"

#include "attentiveNormAttributes.h"
#include "attentiveNormKernel.h"

#include <string>

namespace
{
thread_local std::string tLastError;

int32_t record(int32_t status, std::string const& message) noexcept
{
    try
    {
        tLastError = status == AN_STATUS_SUCCESS ? std::string() : message;
    }
    catch (...)
    {
    }
    return status;
}
} // namespace

extern "C" AN_API size_t an_attentive_norm_workspace_size(int64_t n, AnAttentiveNormAttributes const* attrs)
{
    if (attrs == nullptr)
    {
        return 0;
    }
    return an_deploy::plugin::attentiveNormWorkspaceSize(n, *attrs);
}

extern "C" AN_API int32_t an_attentive_norm_forward(void const* x, void* y, void const* const* params,
    void* workspace, size_t workspace_bytes, int64_t n, int64_t c, int64_t h, int64_t w, int32_t dtype,
    int32_t layout, AnAttentiveNormAttributes const* attrs, void* stream)
{
    using namespace an_deploy::plugin;
    if (attrs == nullptr || params == nullptr)
    {
        return record(AN_STATUS_INVALID_ARGUMENT, "attrs and params must not be null");
    }
    AttentiveNormLaunch launch;
    launch.x = x;
    launch.y = y;
    for (int32_t i = 0; i < kNB_PARAM_INPUTS; ++i)
    {
        launch.params[i] = static_cast<float const*>(params[i]);
    }
    launch.workspace = workspace;
    launch.workspaceBytes = workspace_bytes;
    launch.n = n;
    launch.c = c;
    launch.h = h;
    launch.w = w;
    launch.dtype = dtype;
    launch.layout = layout;
    launch.attrs = *attrs;
    std::string error;
    int32_t const status = attentiveNormForward(launch, static_cast<cudaStream_t>(stream), &error);
    return record(status, error);
}

extern "C" AN_API char const* an_attentive_norm_last_error(void)
{
    return tLastError.c_str();
}

extern "C" AN_API int32_t an_attentive_norm_check_attributes(AnAttentiveNormAttributes const* attrs)
{
    if (attrs == nullptr)
    {
        return record(AN_STATUS_INVALID_ARGUMENT, "attrs must not be null");
    }
    try
    {
        std::vector<std::string> const errors = an_deploy::plugin::attributeErrors(*attrs);
        return record(errors.empty() ? AN_STATUS_SUCCESS : AN_STATUS_INVALID_ARGUMENT,
            an_deploy::plugin::joinErrors(errors));
    }
    catch (...)
    {
        return record(AN_STATUS_INVALID_ARGUMENT, "internal error while checking attributes");
    }
}
