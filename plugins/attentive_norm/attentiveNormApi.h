/*
 * C entry point of the AttentiveNorm CUDA kernel (no TensorRT, no libtorch).
 *
 * The op is the one of an_deploy/spec.py. Call it from Python with ctypes and torch CUDA tensors:
 *
 *   size = an_attentive_norm_workspace_size(n, &attrs);           // bytes, 0 on invalid arguments
 *   rc = an_attentive_norm_forward(x, y, params, ws, size, n, c, h, w,
 *                                  AN_DTYPE_FLOAT16, AN_LAYOUT_NHWC8, &attrs, stream);
 *   if (rc != AN_STATUS_SUCCESS) puts(an_attentive_norm_last_error());
 *
 * x, y:       device pointers, dtype `dtype`, layout `layout` (see AN_LAYOUT_*); y must not alias x.
 * params:     host array of 10 device pointers to float32 contiguous tensors, in spec.PARAM_INPUTS order:
 *             attn_w1 [H1,C], attn_b1 [H1], attn_w2 [K,H1], attn_b2 [K], attn_scale [K], attn_shift [K],
 *             mix_weight [K,C], mix_bias [K,C], norm_scale [C], norm_shift [C].
 * workspace:  device memory of at least an_attentive_norm_workspace_size(n, attrs) bytes, 256-byte aligned
 *             (any cudaMalloc / torch allocation is).
 * stream:     a cudaStream_t passed as void* (NULL: legacy default stream). The call is asynchronous.
 *
 * Every function returns a status code, never aborts, never throws. The message of the last failure on
 * the calling thread is returned by an_attentive_norm_last_error().
 */
#ifndef AN_DEPLOY_ATTENTIVE_NORM_API_H
#define AN_DEPLOY_ATTENTIVE_NORM_API_H

#include <stddef.h>
#include <stdint.h>

#include "attentiveNormContract.h"

#if defined(_WIN32)
#define AN_API __declspec(dllexport)
#else
#define AN_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. */
#define AN_STATUS_SUCCESS 0
#define AN_STATUS_INVALID_ARGUMENT 1 /* attributes, shapes, pointers, dtype or layout */
#define AN_STATUS_WORKSPACE_TOO_SMALL 2
#define AN_STATUS_CUDA_ERROR 3 /* a CUDA call failed (e.g. no device); see an_attentive_norm_last_error */

/* Element types of x and y (the parameters are always float32). */
#define AN_DTYPE_FLOAT32 0
#define AN_DTYPE_FLOAT16 1

/* Memory layouts of x and y (logical shape [N, C, H, W] in all cases). */
#define AN_LAYOUT_NCHW 0  /* linear [N][C][H][W] (TensorRT kLINEAR) */
#define AN_LAYOUT_NHWC8 1 /* [N][H][W][ceil(C/8)*8], padding channels written as 0 (TensorRT kHWC8) */
#define AN_LAYOUT_NHWC 2  /* [N][H][W][C] unpadded (TensorRT kHWC; torch channels_last) */

/* AnAttentiveNormAttributes (the attributes of spec.ATTRIBUTES, in order, INT -> int32_t, FLOAT -> float) is
   declared in attentiveNormContract.h, generated from an_deploy/spec.py. */

/* Bytes of workspace needed for a batch of n samples; 0 if attrs is NULL/invalid or n < 1. */
AN_API size_t an_attentive_norm_workspace_size(int64_t n, AnAttentiveNormAttributes const* attrs);

/* Run the op on `stream`. Returns an AN_STATUS_* code. */
AN_API int32_t an_attentive_norm_forward(void const* x, void* y, void const* const* params, void* workspace,
    size_t workspace_bytes, int64_t n, int64_t c, int64_t h, int64_t w, int32_t dtype, int32_t layout,
    AnAttentiveNormAttributes const* attrs, void* stream);

/* Message of the last failure on this thread ("" if none). Valid until the next call on this thread. */
AN_API char const* an_attentive_norm_last_error(void);

/* Checks attributes against the rules of spec.attribute_errors. Returns AN_STATUS_SUCCESS or
   AN_STATUS_INVALID_ARGUMENT (reasons in an_attentive_norm_last_error, joined with "; "). */
AN_API int32_t an_attentive_norm_check_attributes(AnAttentiveNormAttributes const* attrs);

#ifdef __cplusplus
}
#endif

#endif /* AN_DEPLOY_ATTENTIVE_NORM_API_H */
