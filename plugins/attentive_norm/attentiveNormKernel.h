/*
 * AttentiveNorm CUDA kernels: a plain launch function over raw pointers and a stream.
 * No TensorRT types here; the plugin and the C entry point both call attentiveNormForward().
 */
#ifndef AN_DEPLOY_ATTENTIVE_NORM_KERNEL_H
#define AN_DEPLOY_ATTENTIVE_NORM_KERNEL_H

#include "attentiveNormApi.h"
#include "attentiveNormContract.h"

#include <cstddef>
#include <cstdint>
#include <cuda_runtime_api.h>
#include <string>

namespace an_deploy
{
namespace plugin
{

//! Problem description of one launch; pointers are device pointers except `params` (host array).
struct AttentiveNormLaunch
{
    void const* x{nullptr};
    void* y{nullptr};
    float const* params[kNB_PARAM_INPUTS]{};
    void* workspace{nullptr};
    size_t workspaceBytes{0};
    int64_t n{0};
    int64_t c{0};
    int64_t h{0};
    int64_t w{0};
    int32_t dtype{AN_DTYPE_FLOAT32};
    int32_t layout{AN_LAYOUT_NCHW};
    AnAttentiveNormAttributes attrs{};
};

//! Workspace bytes for `n` samples (per-(n,c) statistics and A/B, per-sample attention vectors).
size_t attentiveNormWorkspaceSize(int64_t n, AnAttentiveNormAttributes const& attrs) noexcept;

//! Validate and enqueue the three kernels on `stream`. Returns an AN_STATUS_* code; on failure the
//! reason is written to `error` (if not null).
int32_t attentiveNormForward(AttentiveNormLaunch const& launch, cudaStream_t stream, std::string* error) noexcept;

} // namespace plugin
} // namespace an_deploy

#endif // AN_DEPLOY_ATTENTIVE_NORM_KERNEL_H
