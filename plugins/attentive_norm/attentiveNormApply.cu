/*
 * Pass 2 of AttentiveNorm: y = A[n,c] * x + B[n,c], vectorised where the layout allows; the (n, c) of an element
 * comes from the grid (one plane per block row) or from multiply-shift division, never a 64-bit divide.
 */
#include "attentiveNormKernelCommon.cuh"

namespace an_deploy
{
namespace plugin
{
namespace detail
{
namespace
{

constexpr int64_t kMAX_APPLY_BLOCKS = int64_t{1} << 20;
constexpr int64_t kFAST_INDEX_LIMIT = int64_t{1} << 31; // indices below this use 32-bit FastDiv arithmetic


//! Unsigned 32-bit division by a run-time constant d >= 1 as a multiply-high, an add and a shift
//! (the round-up method of Granlund and Montgomery): with s = ceil(log2 d), m = floor(2^32 (2^s - d) / d) + 1,
//! n / d = (umulhi(n, m) + n) >> s for every n < 2^32 (the add is done in 64 bits).
struct FastDiv
{
    uint32_t d;
    uint32_t m;
    uint32_t s;
};

FastDiv makeFastDiv(uint32_t d)
{
    uint32_t s = 0;
    while ((uint64_t{1} << s) < d)
    {
        ++s;
    }
    uint64_t const m = ((uint64_t{1} << 32) * ((uint64_t{1} << s) - d)) / d + 1;
    return FastDiv{d, static_cast<uint32_t>(m), s};
}

__device__ __forceinline__ uint32_t divide(FastDiv const& f, uint32_t n)
{
    return static_cast<uint32_t>((static_cast<uint64_t>(__umulhi(n, f.m)) + n) >> f.s);
}

//! In registers: v = a * v + b.
template <int32_t V>
__device__ __forceinline__ void affine(float (&v)[V], float a, float b)
{
#pragma unroll
    for (int32_t j = 0; j < V; ++j)
    {
        v[j] = fmaf(a, v[j], b);
    }
}

//! Linear NCHW beyond 2^31 vectors: 64-bit indices.
template <typename T, int32_t V>
__global__ void __launch_bounds__(kBLOCK) applyNchwWideKernel(T const* __restrict__ x, T* __restrict__ y,
    float const* __restrict__ a, float const* __restrict__ b, int64_t nbVec, int64_t length)
{
    waitForPrerequisites();
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * kBLOCK + threadIdx.x; i < nbVec;
         i += static_cast<int64_t>(gridDim.x) * kBLOCK)
    {
        int64_t const e = i * V;
        int64_t const plane = e / length; // V divides L: one plane per vector
        float const sa = a[plane];
        float const sb = b[plane];
        float v[V];
        VecIO<T, V>::load(x + e, v);
        affine<V>(v, sa, sb);
        VecIO<T, V>::store(y + e, v);
    }
}

//! Linear NCHW, planes of at least kBLOCK / 2 vectors: grid (planes, chunks); A and B read once per block.
template <typename T, int32_t V>
__global__ void __launch_bounds__(kBLOCK) applyPlaneKernel(T const* __restrict__ x, T* __restrict__ y,
    float const* __restrict__ a, float const* __restrict__ b, int64_t vecsPerPlane)
{
    waitForPrerequisites();
#if AN_KERNEL_APPLY_REVERSED // plane-major from the last block of the last plane (blocks start in x-then-y order)
    uint64_t const last = static_cast<uint64_t>(gridDim.x) * gridDim.y - 1;
    uint64_t const r = last - (static_cast<uint64_t>(blockIdx.y) * gridDim.x + blockIdx.x);
    int64_t const plane = static_cast<int64_t>(r / gridDim.y);
    int64_t const chunk = static_cast<int64_t>(r % gridDim.y);
#else
    int64_t const plane = blockIdx.x;
    int64_t const chunk = blockIdx.y;
#endif
    float const sa = a[plane];
    float const sb = b[plane];
    T const* px = x + plane * vecsPerPlane * V;
    T* py = y + plane * vecsPerPlane * V;
    for (int64_t i = chunk * kBLOCK + threadIdx.x; i < vecsPerPlane; i += static_cast<int64_t>(gridDim.y) * kBLOCK)
    {
        float v[V];
        VecIO<T, V>::load(px + i * V, v);
        affine<V>(v, sa, sb);
        VecIO<T, V>::store(py + i * V, v);
    }
}

//! Linear NCHW, small planes: a flat grid-stride loop over vectors, plane = vector / vecsPerPlane by FastDiv
//! (nbVec < 2^31).
template <typename T, int32_t V>
__global__ void __launch_bounds__(kBLOCK) applyFlatKernel(T const* __restrict__ x, T* __restrict__ y,
    float const* __restrict__ a, float const* __restrict__ b, uint32_t nbVec, FastDiv vecsPerPlane)
{
    waitForPrerequisites();
    for (uint32_t i = blockIdx.x * kBLOCK + threadIdx.x; i < nbVec; i += gridDim.x * kBLOCK)
    {
        uint32_t const plane = divide(vecsPerPlane, i);
        float const sa = a[plane];
        float const sb = b[plane];
        float v[V];
        VecIO<T, V>::load(x + static_cast<int64_t>(i) * V, v);
        affine<V>(v, sa, sb);
        VecIO<T, V>::store(y + static_cast<int64_t>(i) * V, v);
    }
}

template <typename T, int32_t V>
__global__ void __launch_bounds__(kBLOCK) applyNhwcKernel(T const* __restrict__ x, T* __restrict__ y,
    float const* __restrict__ a, float const* __restrict__ b, int64_t nbVec, int64_t channels, int64_t stride,
    int64_t length)
{
    waitForPrerequisites();
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * kBLOCK + threadIdx.x; i < nbVec;
         i += static_cast<int64_t>(gridDim.x) * kBLOCK)
    {
        int64_t const e = i * V;
        int64_t const c0 = e % stride; // V divides stride: one pixel per vector
        int64_t const n = e / (stride * length);
        float v[V];
        VecIO<T, V>::load(x + e, v);
#pragma unroll
        for (int32_t j = 0; j < V; ++j)
        {
            int64_t const c = c0 + j;
            v[j] = c < channels ? fmaf(a[n * channels + c], v[j], b[n * channels + c]) : 0.0F;
        }
        VecIO<T, V>::store(y + e, v);
    }
}

//! V consecutive floats of A or B from a 16-byte aligned address.
template <int32_t V>
__device__ __forceinline__ void loadCoefficients(float const* p, float (&v)[V])
{
    if constexpr (V % 4 == 0)
    {
#pragma unroll
        for (int32_t i = 0; i < V; i += 4)
        {
            float4 const q = *reinterpret_cast<float4 const*>(p + i);
            v[i] = q.x;
            v[i + 1] = q.y;
            v[i + 2] = q.z;
            v[i + 3] = q.w;
        }
    }
    else
    {
#pragma unroll
        for (int32_t i = 0; i < V; ++i)
        {
            v[i] = p[i];
        }
    }
}

//! Channels last, fewer than 2^31 vectors: pixel = vector / (stride / V), n = pixel / L by FastDiv. With
//! `exact` (C == stride, C % V == 0: no padding channels), A and B are read as vectors too.
template <typename T, int32_t V, bool kEXACT>
__global__ void __launch_bounds__(kBLOCK) applyNhwcFastKernel(T const* __restrict__ x, T* __restrict__ y,
    float const* __restrict__ a, float const* __restrict__ b, uint32_t nbVec, uint32_t channels,
    FastDiv vecsPerPixel, FastDiv length)
{
    waitForPrerequisites();
    for (uint32_t j = blockIdx.x * kBLOCK + threadIdx.x; j < nbVec; j += gridDim.x * kBLOCK)
    {
        uint32_t const i = AN_KERNEL_APPLY_REVERSED ? nbVec - 1 - j : j;
        uint32_t const pixel = divide(vecsPerPixel, i);
        uint32_t const c0 = (i - pixel * vecsPerPixel.d) * V;
        uint32_t const base = divide(length, pixel) * channels;
        float v[V];
        VecIO<T, V>::load(x + static_cast<int64_t>(i) * V, v);
        if constexpr (kEXACT)
        {
            float sa[V];
            float sb[V];
            loadCoefficients<V>(a + base + c0, sa);
            loadCoefficients<V>(b + base + c0, sb);
#pragma unroll
            for (int32_t j = 0; j < V; ++j)
            {
                v[j] = fmaf(sa[j], v[j], sb[j]);
            }
        }
        else
        {
#pragma unroll
            for (int32_t j = 0; j < V; ++j)
            {
                uint32_t const c = c0 + j;
                v[j] = c < channels ? fmaf(a[base + c], v[j], b[base + c]) : 0.0F;
            }
        }
        VecIO<T, V>::store(y + static_cast<int64_t>(i) * V, v);
    }
}

unsigned int applyGrid(int64_t nbVec)
{
    return static_cast<unsigned int>(std::min((nbVec + kBLOCK - 1) / kBLOCK, kMAX_APPLY_BLOCKS));
}

} // namespace

template <typename T>
void launchApply(AttentiveNormLaunch const& p, Workspace const& ws, cudaStream_t stream)
{
    constexpr int32_t kV = sizeof(T) == 4 ? 4 : 8;
    T const* x = static_cast<T const*>(p.x);
    T* y = static_cast<T*>(p.y);
    int64_t const length = p.h * p.w;
    int64_t const planes = p.n * p.c;
    bool const vec = aligned16(p.x) && aligned16(p.y);
    if (p.layout == AN_LAYOUT_NCHW)
    {
        bool const v = vec && length % kV == 0;
        int64_t const vecsPerPlane = v ? length / kV : length;
        int64_t const nbVec = planes * vecsPerPlane;
        if (vecsPerPlane >= kBLOCK / 2 && planes < kFAST_INDEX_LIMIT)
        {
            int64_t const chunks = std::min<int64_t>((vecsPerPlane + kBLOCK - 1) / kBLOCK, 65535);
            dim3 const grid(static_cast<unsigned int>(planes), static_cast<unsigned int>(chunks));
            if (v)
            {
                launchDependent(applyPlaneKernel<T, kV>, grid, kBLOCK, stream, x, y, ws.a, ws.b, vecsPerPlane);
            }
            else
            {
                launchDependent(applyPlaneKernel<T, 1>, grid, kBLOCK, stream, x, y, ws.a, ws.b, vecsPerPlane);
            }
        }
        else if (nbVec < kFAST_INDEX_LIMIT)
        {
            FastDiv const div = makeFastDiv(static_cast<uint32_t>(vecsPerPlane));
            uint32_t const count = static_cast<uint32_t>(nbVec);
            if (v)
            {
                launchDependent(applyFlatKernel<T, kV>, applyGrid(nbVec), kBLOCK, stream, x, y, ws.a, ws.b, count, div);
            }
            else
            {
                launchDependent(applyFlatKernel<T, 1>, applyGrid(nbVec), kBLOCK, stream, x, y, ws.a, ws.b, count, div);
            }
        }
        else if (v)
        {
            launchDependent(applyNchwWideKernel<T, kV>, applyGrid(nbVec), kBLOCK, stream,
                x, y, ws.a, ws.b, nbVec, length);
        }
        else
        {
            launchDependent(applyNchwWideKernel<T, 1>, applyGrid(nbVec), kBLOCK, stream,
                x, y, ws.a, ws.b, nbVec, length);
        }
    }
    else
    {
        int64_t const stride = p.layout == AN_LAYOUT_NHWC8 ? (p.c + 7) / 8 * 8 : p.c;
        int64_t const total = p.n * length * stride;
        bool const v = vec && stride % kV == 0;
        int64_t const nbVec = v ? total / kV : total;
        if (nbVec < kFAST_INDEX_LIMIT)
        {
            FastDiv const perPixel = makeFastDiv(static_cast<uint32_t>(v ? stride / kV : stride));
            FastDiv const len = makeFastDiv(static_cast<uint32_t>(length));
            uint32_t const count = static_cast<uint32_t>(nbVec);
            uint32_t const c = static_cast<uint32_t>(p.c);
            if (v && stride == p.c) // A and B rows are 16-byte aligned: C % V == 0 and ws.a/b are 256-aligned
            {
                launchDependent(applyNhwcFastKernel<T, kV, true>, applyGrid(nbVec), kBLOCK, stream,
                    x, y, ws.a, ws.b, count, c, perPixel, len);
            }
            else if (v)
            {
                launchDependent(applyNhwcFastKernel<T, kV, false>, applyGrid(nbVec), kBLOCK, stream,
                    x, y, ws.a, ws.b, count, c, perPixel, len);
            }
            else
            {
                launchDependent(applyNhwcFastKernel<T, 1, false>, applyGrid(nbVec), kBLOCK, stream,
                    x, y, ws.a, ws.b, count, c, perPixel, len);
            }
        }
        else if (v)
        {
            launchDependent(applyNhwcKernel<T, kV>, applyGrid(nbVec), kBLOCK, stream,
                x, y, ws.a, ws.b, nbVec, p.c, stride, length);
        }
        else
        {
            launchDependent(applyNhwcKernel<T, 1>, applyGrid(nbVec), kBLOCK, stream,
                x, y, ws.a, ws.b, nbVec, p.c, stride, length);
        }
    }
}

template void launchApply<float>(AttentiveNormLaunch const&, Workspace const&, cudaStream_t);
template void launchApply<__half>(AttentiveNormLaunch const&, Workspace const&, cudaStream_t);

} // namespace detail
} // namespace plugin
} // namespace an_deploy
