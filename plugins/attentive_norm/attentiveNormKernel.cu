/*
 * AttentiveNorm forward in three launches (attentiveNormKernel.h is the interface):
 *   1. statistics (attentiveNormStatistics.cu): per (n, c) count/mean/M2/max in one read of x;
 *   2. attention (attentiveNormAttention.cu): one block per sample: lam, group statistics, A[n,c], B[n,c];
 *   3. apply (attentiveNormApply.cu): y = A[n,c] * x + B[n,c].
 * This file validates a launch, lays out the workspace and runs the three in order on the stream.
 */
#include "attentiveNormAttributes.h"
#include "attentiveNormKernelCommon.cuh"

namespace an_deploy
{
namespace plugin
{
namespace detail
{
namespace
{

size_t alignUp(size_t v)
{
    return (v + kALIGN - 1) / kALIGN * kALIGN;
}

size_t layoutWorkspace(int64_t n, AnAttentiveNormAttributes const& attrs, char* base, Workspace* ws)
{
    constexpr int32_t kSLOTS = 13;
    size_t const nc = static_cast<size_t>(n) * static_cast<size_t>(attrs.num_channels) * sizeof(float);
    size_t const partial
        = static_cast<size_t>(splitCapacity(n)) * static_cast<size_t>(attrs.num_channels) * sizeof(float);
    size_t const sizes[kSLOTS] = {nc, nc, nc, nc, nc, nc, nc, nc,
        static_cast<size_t>(n) * static_cast<size_t>(attrs.attn_hidden) * sizeof(float),
        static_cast<size_t>(n) * static_cast<size_t>(attrs.num_affine) * sizeof(float), partial, partial, partial};
    float** slots[kSLOTS];
    if (ws != nullptr)
    {
        float** s[kSLOTS] = {&ws->mean, &ws->m2, &ws->mx, &ws->a, &ws->b, &ws->u, &ws->gmean, &ws->grstd, &ws->h,
            &ws->z, &ws->pmean, &ws->pm2, &ws->pmx};
        std::copy(s, s + kSLOTS, slots);
    }
    size_t offset = 0;
    for (int32_t i = 0; i < kSLOTS; ++i)
    {
        if (ws != nullptr)
        {
            *slots[i] = reinterpret_cast<float*>(base + offset);
        }
        offset += alignUp(sizes[i]);
    }
    return offset;
}

template <typename T>
int32_t launchTyped(AttentiveNormLaunch const& p, Workspace const& ws, cudaStream_t stream, std::string* error)
{
    int32_t const splits = launchStatistics<T>(p, ws, stream);
    int32_t rc = cudaStatus("statistics kernel", error);
    if (rc != AN_STATUS_SUCCESS)
    {
        return rc;
    }
    launchAttention(p, ws, splits, stream);
    rc = cudaStatus("attention kernel", error);
    if (rc != AN_STATUS_SUCCESS)
    {
        return rc;
    }
    launchApply<T>(p, ws, stream);
    return cudaStatus("apply kernel", error);
}

int32_t invalid(std::string* error, std::string const& message)
{
    if (error != nullptr)
    {
        *error = message;
    }
    return AN_STATUS_INVALID_ARGUMENT;
}

} // namespace
} // namespace detail

size_t attentiveNormWorkspaceSize(int64_t n, AnAttentiveNormAttributes const& attrs) noexcept
{
    if (n < 1 || attrs.num_channels < 1 || attrs.num_affine < 1 || attrs.attn_hidden < 1)
    {
        return 0;
    }
    return detail::layoutWorkspace(n, attrs, nullptr, nullptr);
}

int32_t attentiveNormForward(AttentiveNormLaunch const& p, cudaStream_t stream, std::string* error) noexcept
{
    try
    {
        std::vector<std::string> const errors = attributeErrors(p.attrs);
        if (!errors.empty())
        {
            return detail::invalid(error, "invalid attributes: " + joinErrors(errors));
        }
        if (p.n < 1 || p.h < 1 || p.w < 1 || p.c != p.attrs.num_channels)
        {
            return detail::invalid(error,
                "bad shape [" + std::to_string(p.n) + ", " + std::to_string(p.c) + ", " + std::to_string(p.h) + ", "
                    + std::to_string(p.w) + "] for num_channels " + std::to_string(p.attrs.num_channels));
        }
        if (p.n > 65535 || p.h * p.w > (int64_t{1} << 24))
        {
            return detail::invalid(error, "N must be <= 65535 and H*W <= 2^24");
        }
        if (p.dtype != AN_DTYPE_FLOAT32 && p.dtype != AN_DTYPE_FLOAT16)
        {
            return detail::invalid(error, "dtype must be AN_DTYPE_FLOAT32 (0) or AN_DTYPE_FLOAT16 (1), got " + std::to_string(p.dtype));
        }
        if (p.layout != AN_LAYOUT_NCHW && p.layout != AN_LAYOUT_NHWC8 && p.layout != AN_LAYOUT_NHWC)
        {
            return detail::invalid(error, "layout must be 0 (NCHW), 1 (NHWC8) or 2 (NHWC), got " + std::to_string(p.layout));
        }
        if (p.x == nullptr || p.y == nullptr || p.workspace == nullptr)
        {
            return detail::invalid(error, "x, y and workspace must not be null");
        }
        for (int32_t i = 0; i < kNB_PARAM_INPUTS; ++i)
        {
            if (p.params[i] == nullptr)
            {
                return detail::invalid(error, std::string("parameter ") + kPARAM_NAMES[static_cast<size_t>(i)] + " is null");
            }
        }
        if (reinterpret_cast<uintptr_t>(p.workspace) % detail::kALIGN != 0)
        {
            return detail::invalid(error, "workspace must be 256-byte aligned");
        }
        size_t const need = attentiveNormWorkspaceSize(p.n, p.attrs);
        if (p.workspaceBytes < need)
        {
            if (error != nullptr)
            {
                *error = "workspace of " + std::to_string(p.workspaceBytes) + " bytes, need " + std::to_string(need);
            }
            return AN_STATUS_WORKSPACE_TOO_SMALL;
        }
        detail::Workspace ws{};
        detail::layoutWorkspace(p.n, p.attrs, static_cast<char*>(p.workspace), &ws);
        if (p.dtype == AN_DTYPE_FLOAT32)
        {
            return detail::launchTyped<float>(p, ws, stream, error);
        }
        return detail::launchTyped<__half>(p, ws, stream, error);
    }
    catch (...)
    {
        return detail::invalid(error, "internal error (exception) while launching AttentiveNorm");
    }
}

} // namespace plugin
} // namespace an_deploy
