/*
 * Internals shared by the AttentiveNorm kernel files (not part of the plugin's interface): block geometry, the
 * experiment switches, the workspace layout, running statistics and their merge, vector I/O, the host helpers
 * every launch uses, and the launch function of each of the three passes:
 *   attentiveNormStatistics.cu  pass 1, per-(n, c) statistics of x
 *   attentiveNormAttention.cu   per sample: attention MLP -> lam -> A[n,c], B[n,c]
 *   attentiveNormApply.cu       pass 2, y = A x + B
 *   attentiveNormKernel.cu      validation, workspace and the three launches (attentiveNormKernel.h)
 */
#ifndef AN_DEPLOY_ATTENTIVE_NORM_KERNEL_COMMON_CUH
#define AN_DEPLOY_ATTENTIVE_NORM_KERNEL_COMMON_CUH

#include "attentiveNormKernel.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>

namespace an_deploy
{
namespace plugin
{
namespace detail
{

constexpr int32_t kBLOCK = 256;
constexpr int32_t kWARP = 32;
constexpr size_t kALIGN = 256;

// Experiment switches, off in every shipped build (which is the GPU-verified kernel). Each is a candidate for
// closing the gap to the memory floor that needs a GPU to judge; benchmarks/bench_kernel_variants.py builds the
// library with them on and times it against the default in one run, after checking the outputs are bitwise
// equal. A switch that wins becomes the code; one that loses is deleted.
//  AN_KERNEL_PDL: programmatic dependent launch (sm_90+) of the attention and apply kernels, so that each is
//    scheduled while its predecessor still runs and the launch gaps between the three kernels close.
//  AN_KERNEL_APPLY_REVERSED: the NCHW plane apply and the channels-last apply visit x from its end, plane by
//    plane, so that they first read what the statistics pass read last, while it may still be in L2.
#ifndef AN_KERNEL_PDL
#define AN_KERNEL_PDL 0
#endif
#ifndef AN_KERNEL_APPLY_REVERSED
#define AN_KERNEL_APPLY_REVERSED 0
#endif

//! AN_KERNEL_PDL: the op's next kernel may be scheduled from now on (it waits in waitForPrerequisites()).
__device__ __forceinline__ void allowDependents()
{
#if AN_KERNEL_PDL && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

//! AN_KERNEL_PDL: wait until the kernel this one was launched after has finished and its writes are visible.
//! Every dependent kernel calls it before its first global read or write.
__device__ __forceinline__ void waitForPrerequisites()
{
#if AN_KERNEL_PDL && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

//! Room for channels-last partial statistics, in units of C floats, for a batch of n: 16 per sample up to
//! n = 16, then 256 in all, then one per sample. Non-decreasing in n on purpose: TensorRT sizes the workspace
//! for the profile's largest batch and the plugin runs every smaller batch inside it.
inline int64_t splitCapacity(int64_t n)
{
    return std::min<int64_t>(16 * n, std::max<int64_t>(256, n));
}

//! Most splits of H*W the channels-last statistics may use for a batch of n: at most 16, so that the attention
//! kernel's sequential merge per channel stays short (measured on an H200: 256 splits cost 70 us at N=1).
inline int64_t maxSplits(int64_t n)
{
    return std::max<int64_t>(1, splitCapacity(n) / n);
}

//! Workspace: float arrays, each 256-byte aligned.
struct Workspace
{
    float* mean;  // [N*C]
    float* m2;    // [N*C] sum of squared deviations
    float* mx;    // [N*C] spatial max
    float* a;     // [N*C]
    float* b;     // [N*C]
    float* u;     // [N*C] attention input
    float* gmean; // [N*C] (only N*G used) group mean
    float* grstd; // [N*C] (only N*G used) group rsqrt(var + eps)
    float* h;     // [N*H1]
    float* z;     // [N*K] logits, then lam
    float* pmean; // [S*N*C] channels-last partial statistics of S splits of H*W (S <= maxSplits(N))
    float* pm2;   // [S*N*C]
    float* pmx;   // [S*N*C]
};


// ---------------------------------------------------------------------------------------------------------
// Running statistics and their merge (Chan et al.), float32 throughout.

struct Stats
{
    float n;
    float mean;
    float m2;
    float mx;
};

__device__ __forceinline__ Stats emptyStats()
{
    return Stats{0.0F, 0.0F, 0.0F, -INFINITY};
}

__device__ __forceinline__ Stats mergeStats(Stats const& a, Stats const& b)
{
    if (b.n == 0.0F)
    {
        return a;
    }
    if (a.n == 0.0F)
    {
        return b;
    }
    float const n = a.n + b.n;
    float const f = b.n / n;
    float const d = b.mean - a.mean;
    return Stats{n, fmaf(d, f, a.mean), a.m2 + b.m2 + d * d * a.n * f, fmaxf(a.mx, b.mx)};
}

//! Statistics of a chunk of V values (two passes over registers), merged into `s`.
template <int32_t V>
__device__ __forceinline__ void addChunk(Stats& s, float const (&v)[V])
{
    float sum = 0.0F;
    float mx = v[0];
#pragma unroll
    for (int32_t i = 0; i < V; ++i)
    {
        sum += v[i];
        mx = fmaxf(mx, v[i]);
    }
    float const mean = sum * (1.0F / V);
    float m2 = 0.0F;
#pragma unroll
    for (int32_t i = 0; i < V; ++i)
    {
        float const d = v[i] - mean;
        m2 = fmaf(d, d, m2);
    }
    s = mergeStats(s, Stats{static_cast<float>(V), mean, m2, mx});
}

__device__ __forceinline__ Stats shuffleStats(Stats const& s, int32_t lane, int32_t width)
{
    return Stats{__shfl_xor_sync(0xffffffffU, s.n, lane, width), __shfl_xor_sync(0xffffffffU, s.mean, lane, width),
        __shfl_xor_sync(0xffffffffU, s.m2, lane, width), __shfl_xor_sync(0xffffffffU, s.mx, lane, width)};
}

__device__ __forceinline__ Stats warpReduceStats(Stats s)
{
#pragma unroll
    for (int32_t offset = kWARP / 2; offset > 0; offset /= 2)
    {
        s = mergeStats(s, shuffleStats(s, offset, kWARP));
    }
    return s;
}

//! Shifted sums of V values: s1 += x - pivot, s2 += (x - pivot)^2, running max.
template <int32_t V>
__device__ __forceinline__ void addShifted(float const (&v)[V], float pivot, float& s1, float& s2, float& mx)
{
#pragma unroll
    for (int32_t i = 0; i < V; ++i)
    {
        float const d = v[i] - pivot;
        s1 += d;
        s2 = fmaf(d, d, s2);
        mx = fmaxf(mx, v[i]);
    }
}

//! Shifted sums per lane: V channels, each with its own pivot.
template <int32_t V>
__device__ __forceinline__ void addShiftedLanes(
    float const (&v)[V], float const (&pivot)[V], float (&s1)[V], float (&s2)[V], float (&mx)[V])
{
#pragma unroll
    for (int32_t j = 0; j < V; ++j)
    {
        float const d = v[j] - pivot[j];
        s1[j] += d;
        s2[j] = fmaf(d, d, s2[j]);
        mx[j] = fmaxf(mx[j], v[j]);
    }
}

//! count/mean/M2/max of one thread's values from their shifted sums (exact up to rounding when the pivot is
//! a sample of the same plane: |pivot - mean| is then of the order of the standard deviation).
__device__ __forceinline__ Stats shiftedStats(float count, float pivot, float s1, float s2, float mx)
{
    if (count == 0.0F)
    {
        return emptyStats();
    }
    float const d = s1 / count;
    return Stats{count, pivot + d, fmaxf(fmaf(-s1, d, s2), 0.0F), mx};
}

// ---------------------------------------------------------------------------------------------------------
// Vector I/O: V elements of T <-> V floats.

template <typename T, int32_t V>
struct VecIO;

template <>
struct VecIO<float, 1>
{
    __device__ __forceinline__ static void load(float const* p, float (&v)[1])
    {
        v[0] = *p;
    }
    __device__ __forceinline__ static void store(float* p, float const (&v)[1])
    {
        *p = v[0];
    }
};

template <>
struct VecIO<float, 4>
{
    __device__ __forceinline__ static void load(float const* p, float (&v)[4])
    {
        float4 const q = *reinterpret_cast<float4 const*>(p);
        v[0] = q.x;
        v[1] = q.y;
        v[2] = q.z;
        v[3] = q.w;
    }
    __device__ __forceinline__ static void store(float* p, float const (&v)[4])
    {
        *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
    }
};

template <>
struct VecIO<__half, 1>
{
    __device__ __forceinline__ static void load(__half const* p, float (&v)[1])
    {
        v[0] = __half2float(*p);
    }
    __device__ __forceinline__ static void store(__half* p, float const (&v)[1])
    {
        *p = __float2half_rn(v[0]);
    }
};

template <>
struct VecIO<__half, 8>
{
    __device__ __forceinline__ static void load(__half const* p, float (&v)[8])
    {
        uint4 const raw = *reinterpret_cast<uint4 const*>(p);
        uint32_t const words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
        for (int32_t i = 0; i < 4; ++i)
        {
            __half2 h2;
            static_assert(sizeof(h2) == sizeof(uint32_t), "half2 is 4 bytes");
            memcpy(&h2, &words[i], sizeof(h2));
            float2 const f = __half22float2(h2);
            v[2 * i] = f.x;
            v[2 * i + 1] = f.y;
        }
    }
    __device__ __forceinline__ static void store(__half* p, float const (&v)[8])
    {
        uint32_t words[4];
#pragma unroll
        for (int32_t i = 0; i < 4; ++i)
        {
            __half2 const h2 = __floats2half2_rn(v[2 * i], v[2 * i + 1]);
            memcpy(&words[i], &h2, sizeof(h2));
        }
        *reinterpret_cast<uint4*>(p) = make_uint4(words[0], words[1], words[2], words[3]);
    }
};

//! Calls `add(v)` with the V values at p + k * elemStride for k = first, first + step, ... < end, issuing
//! kUNROLL independent loads before using them; returns how many vectors it read.
template <typename T, int32_t V, typename Add>
__device__ __forceinline__ int64_t stridedPass(
    T const* p, int64_t first, int64_t end, int64_t step, int64_t elemStride, Add&& add)
{
    constexpr int32_t kUNROLL = 4;
    int64_t k = first;
    int64_t count = 0;
    for (; k + (kUNROLL - 1) * step < end; k += kUNROLL * step)
    {
        float v[kUNROLL][V];
#pragma unroll
        for (int32_t u = 0; u < kUNROLL; ++u)
        {
            VecIO<T, V>::load(p + (k + u * step) * elemStride, v[u]);
        }
#pragma unroll
        for (int32_t u = 0; u < kUNROLL; ++u)
        {
            add(v[u]);
        }
        count += kUNROLL;
    }
    for (; k < end; k += step)
    {
        float v[V];
        VecIO<T, V>::load(p + k * elemStride, v);
        add(v);
        ++count;
    }
    return count;
}

// ---------------------------------------------------------------------------------------------------------
// Host helpers.

inline bool aligned16(void const* p)
{
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

//! AN_STATUS_CUDA_ERROR with `what` and the CUDA error in `error` if a launch failed, else AN_STATUS_SUCCESS.
inline int32_t cudaStatus(char const* what, std::string* error)
{
    cudaError_t const e = cudaGetLastError();
    if (e == cudaSuccess)
    {
        return AN_STATUS_SUCCESS;
    }
    if (error != nullptr)
    {
        *error = std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
    }
    return AN_STATUS_CUDA_ERROR;
}

//! A positive attribute of the current device, cached per device (`fallback` if the query fails, which the
//! launch that follows then reports).
template <cudaDeviceAttr kATTRIBUTE>
inline int32_t deviceAttribute(int32_t fallback)
{
    static std::atomic<int32_t> cache[64] = {};
    int device = 0;
    if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= 64)
    {
        return fallback;
    }
    if (cache[device].load(std::memory_order_relaxed) == 0)
    {
        int value = 0;
        cache[device].store(
            cudaDeviceGetAttribute(&value, kATTRIBUTE, device) == cudaSuccess ? std::max(value, 1) : fallback,
            std::memory_order_relaxed);
    }
    return cache[device].load(std::memory_order_relaxed);
}

inline int32_t multiprocessors()
{
    return deviceAttribute<cudaDevAttrMultiProcessorCount>(132);
}

//! Launch of a kernel that reads what the op's previous kernel wrote. With AN_KERNEL_PDL on an sm_90+ device it
//! is a programmatic dependent launch (scheduled before its predecessor ends; it waits in
//! waitForPrerequisites()), otherwise an ordinary one. Errors surface in the cudaStatus() that follows.
template <typename... Params, typename... Args>
inline void launchDependent(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t stream, Args... args)
{
#if AN_KERNEL_PDL
    if (deviceAttribute<cudaDevAttrComputeCapabilityMajor>(1) >= 9)
    {
        cudaLaunchAttribute attribute{};
        attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attribute.val.programmaticStreamSerializationAllowed = 1;
        cudaLaunchConfig_t config{};
        config.gridDim = grid;
        config.blockDim = block;
        config.stream = stream;
        config.attrs = &attribute;
        config.numAttrs = 1;
        static_cast<void>(cudaLaunchKernelEx(&config, kernel, args...));
        return;
    }
#endif
    kernel<<<grid, block, 0, stream>>>(args...);
}

//! Pass 1 (attentiveNormStatistics.cu): per-(n, c) mean/M2/max into ws.mean/m2/mx, or for long channels-last
//! planes per-split partials into ws.pmean/pm2/pmx. Returns the number of splits of H*W (1: no partials).
template <typename T>
int32_t launchStatistics(AttentiveNormLaunch const& p, Workspace const& ws, cudaStream_t stream);

//! Per sample (attentiveNormAttention.cu): merge the `splits` partials if any, attention input, MLP, lam, group
//! statistics, then ws.a and ws.b.
void launchAttention(AttentiveNormLaunch const& p, Workspace const& ws, int32_t splits, cudaStream_t stream);

//! Pass 2 (attentiveNormApply.cu): y = A[n,c] * x + B[n,c] in the launch's layout.
template <typename T>
void launchApply(AttentiveNormLaunch const& p, Workspace const& ws, cudaStream_t stream);

} // namespace detail
} // namespace plugin
} // namespace an_deploy

#endif // AN_DEPLOY_ATTENTIVE_NORM_KERNEL_COMMON_CUH
