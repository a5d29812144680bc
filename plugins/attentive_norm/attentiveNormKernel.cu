/*
 * AttentiveNorm forward in three launches:
 *   1. statistics: per (n, c) count/mean/M2/max in one read of x, float32 accumulation for every dtype
 *      (NCHW: per-thread sums of x - pivot with the plane's first element as pivot, then Chan merges across
 *      threads; channels-last with 256+ pixels: the same on 16-byte vectors of channels, split over H*W into
 *      partials that the attention kernel merges; short channels-last planes: per-thread Welford, Chan merges);
 *   2. attention: one block per sample: u -> MLP -> logit group norm -> affine -> activation -> lam,
 *      group statistics (GROUP norm, Chan merge of the channel partials), then A[n,c], B[n,c];
 *   3. apply: y = A[n,c] * x + B[n,c], vectorised where the layout allows; the (n, c) of an element comes
 *      from the grid (one plane per block row) or from multiply-shift division, never a 64-bit divide.
 */
#include "attentiveNormAttributes.h"
#include "attentiveNormKernel.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>

namespace an_deploy
{
namespace plugin
{
namespace
{

constexpr int32_t kBLOCK = 256;
constexpr int32_t kWARP = 32;
constexpr size_t kALIGN = 256;
constexpr int64_t kMAX_APPLY_BLOCKS = int64_t{1} << 20;
constexpr int64_t kFAST_INDEX_LIMIT = int64_t{1} << 31; // indices below this use 32-bit FastDiv arithmetic

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

size_t alignUp(size_t v)
{
    return (v + kALIGN - 1) / kALIGN * kALIGN;
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

//! Room for channels-last partial statistics, in units of C floats, for a batch of n: 16 per sample up to
//! n = 16, then 256 in all, then one per sample. Non-decreasing in n on purpose: TensorRT sizes the workspace
//! for the profile's largest batch and the plugin runs every smaller batch inside it.
int64_t splitCapacity(int64_t n)
{
    return std::min<int64_t>(16 * n, std::max<int64_t>(256, n));
}

//! Most splits of H*W the channels-last statistics may use for a batch of n: at most 16, so that the attention
//! kernel's sequential merge per channel stays short (measured on an H200: 256 splits cost 70 us at N=1).
int64_t maxSplits(int64_t n)
{
    return std::max<int64_t>(1, splitCapacity(n) / n);
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
// Pass 1, linear NCHW: TPP threads per (n, c) plane of L contiguous elements (TPP = 32 or kBLOCK).

template <typename T, int32_t V, int32_t TPP>
__global__ void __launch_bounds__(kBLOCK) statsNchwKernel(
    T const* __restrict__ x, int64_t planes, int64_t length, float* mean, float* m2, float* mx)
{
    constexpr int32_t kPLANES_PER_BLOCK = kBLOCK / TPP;
    __shared__ Stats partial[kBLOCK / kWARP];
    allowDependents();
    int32_t const sub = static_cast<int32_t>(threadIdx.x) / TPP;
    int32_t const t = static_cast<int32_t>(threadIdx.x) % TPP;
    int64_t const plane = static_cast<int64_t>(blockIdx.x) * kPLANES_PER_BLOCK + sub;
    Stats s = emptyStats();
    if (plane < planes)
    {
        T const* p = x + plane * length;
        float pivot[1];
        VecIO<T, 1>::load(p, pivot);
        float s1 = 0.0F;
        float s2 = 0.0F;
        float mx = -INFINITY;
        int64_t const nbVec = length / V;
        int64_t const mine = stridedPass<T, V>(p, t, nbVec, TPP, V,
                                 [&](float const(&v)[V]) { addShifted<V>(v, pivot[0], s1, s2, mx); })
            * V;
        int64_t tail = 0;
        for (int64_t j = nbVec * V + t; j < length; j += TPP) // tail (only when V > 1 and L % V != 0)
        {
            float v[1];
            VecIO<T, 1>::load(p + j, v);
            addShifted<1>(v, pivot[0], s1, s2, mx);
            ++tail;
        }
        s = shiftedStats(static_cast<float>(mine + tail), pivot[0], s1, s2, mx);
    }
    s = warpReduceStats(s);
    if (TPP > kWARP)
    {
        int32_t const warp = static_cast<int32_t>(threadIdx.x) / kWARP;
        int32_t const lane = static_cast<int32_t>(threadIdx.x) % kWARP;
        if (lane == 0)
        {
            partial[warp] = s;
        }
        __syncthreads();
        if (warp == 0)
        {
            s = lane < kBLOCK / kWARP ? partial[lane] : emptyStats();
            s = warpReduceStats(s);
        }
    }
    if (t == 0 && plane < planes)
    {
        mean[plane] = s.mean;
        m2[plane] = s.m2;
        mx[plane] = s.mx;
    }
}

// Pass 1, channels last [N][L][stride], vectorised: a thread owns V adjacent channels (one 16-byte load per
// pixel), a block is tx channel vectors x (kBLOCK / tx) pixel rows, grid (ceil(stride / V / tx), N, splits of L).
// Each split writes its per-channel statistics to p*[(split * N + n) * C + c]; the attention kernel merges them.
template <typename T, int32_t V>
__global__ void __launch_bounds__(kBLOCK) statsNhwcVecKernel(T const* __restrict__ x, int32_t channels,
    int64_t stride, int64_t length, int32_t tx, float* pmean, float* pm2, float* pmx)
{
    __shared__ float shared[3][kBLOCK * V]; // count, mean, m2 per (thread, channel); the max goes through `mxs`
    __shared__ float mxs[kBLOCK * V];
    allowDependents();
    int32_t const rows = kBLOCK / tx;
    int32_t const t = static_cast<int32_t>(threadIdx.y) * tx + static_cast<int32_t>(threadIdx.x);
    int64_t const n = blockIdx.y;
    int64_t const c0 = (static_cast<int64_t>(blockIdx.x) * tx + threadIdx.x) * V;
    int64_t const per = (length + gridDim.z - 1) / gridDim.z;
    int64_t const l0 = static_cast<int64_t>(blockIdx.z) * per;
    int64_t const l1 = l0 + per < length ? l0 + per : length;
    bool const active = c0 < stride;
    float pivot[V];
    float s1[V];
    float s2[V];
    float mx[V];
    float count = 0.0F;
#pragma unroll
    for (int32_t j = 0; j < V; ++j)
    {
        pivot[j] = 0.0F;
        s1[j] = 0.0F;
        s2[j] = 0.0F;
        mx[j] = -INFINITY;
    }
    if (active)
    {
        T const* p = x + n * length * stride + c0;
        VecIO<T, V>::load(p, pivot);
        count = static_cast<float>(stridedPass<T, V>(p, l0 + threadIdx.y, l1, rows, stride,
            [&](float const(&v)[V]) { addShiftedLanes<V>(v, pivot, s1, s2, mx); }));
    }
#pragma unroll
    for (int32_t j = 0; j < V; ++j)
    {
        Stats const st = shiftedStats(count, pivot[j], s1[j], s2[j], mx[j]);
        shared[0][t * V + j] = st.n;
        shared[1][t * V + j] = st.mean;
        shared[2][t * V + j] = st.m2;
        mxs[t * V + j] = st.mx;
    }
    __syncthreads();
    if (threadIdx.y == 0 && active)
    {
        int64_t const out = (static_cast<int64_t>(blockIdx.z) * gridDim.y + n) * channels;
        for (int32_t j = 0; j < V; ++j)
        {
            int32_t const first = static_cast<int32_t>(threadIdx.x) * V + j;
            Stats acc{shared[0][first], shared[1][first], shared[2][first], mxs[first]};
            for (int32_t r = 1; r < rows; ++r)
            {
                int32_t const k = (r * tx + static_cast<int32_t>(threadIdx.x)) * V + j;
                acc = mergeStats(acc, Stats{shared[0][k], shared[1][k], shared[2][k], mxs[k]});
            }
            if (c0 + j < channels)
            {
                pmean[out + c0 + j] = acc.mean;
                pm2[out + c0 + j] = acc.m2;
                pmx[out + c0 + j] = acc.mx;
            }
        }
    }
}

// Pass 1, channels last [N][L][stride]: 32 channels x kROWS rows per block, grid (ceil(C/32), N).
constexpr int32_t kROWS = kBLOCK / kWARP;

template <typename T>
__global__ void __launch_bounds__(kBLOCK) statsNhwcKernel(T const* __restrict__ x, int64_t channels,
    int64_t stride, int64_t length, float* mean, float* m2, float* mx)
{
    __shared__ Stats partial[kROWS][kWARP + 1];
    allowDependents();
    int64_t const n = blockIdx.y;
    int64_t const c = static_cast<int64_t>(blockIdx.x) * kWARP + threadIdx.x;
    Stats s = emptyStats();
    if (c < channels)
    {
        T const* p = x + n * length * stride + c;
        for (int64_t l = threadIdx.y; l < length; l += kROWS)
        {
            float v[1];
            VecIO<T, 1>::load(p + l * stride, v);
            addChunk<1>(s, v);
        }
    }
    partial[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && c < channels)
    {
        for (int32_t r = 1; r < kROWS; ++r)
        {
            s = mergeStats(s, partial[r][threadIdx.x]);
        }
        int64_t const idx = n * channels + c;
        mean[idx] = s.mean;
        m2[idx] = s.m2;
        mx[idx] = s.mx;
    }
}

// ---------------------------------------------------------------------------------------------------------
// Per sample: attention MLP -> lam -> A, B. One block per sample.

struct AttentionArgs
{
    float const* w1;
    float const* b1;
    float const* w2;
    float const* b2;
    float const* scale;
    float const* shift;
    float const* mixW;
    float const* mixB;
    float const* normScale;
    float const* normShift;
    AnAttentiveNormAttributes attrs;
    int64_t length;
    int32_t splits; // > 1: merge the channels-last partial statistics first
};

__device__ __forceinline__ float warpSum(float v)
{
#pragma unroll
    for (int32_t offset = kWARP / 2; offset > 0; offset /= 2)
    {
        v += __shfl_xor_sync(0xffffffffU, v, offset);
    }
    return v;
}

//! out[r] = bias[r] + sum_j w[r, j] * in[j], one warp per row, r < rows.
__device__ void matVec(float const* w, float const* bias, float const* in, float* out, int32_t rows, int32_t cols,
    bool relu)
{
    int32_t const warp = static_cast<int32_t>(threadIdx.x) / kWARP;
    int32_t const lane = static_cast<int32_t>(threadIdx.x) % kWARP;
    for (int32_t r = warp; r < rows; r += kBLOCK / kWARP)
    {
        float const* row = w + static_cast<int64_t>(r) * cols;
        float acc = 0.0F;
        for (int32_t j = lane; j < cols; j += kWARP)
        {
            acc = fmaf(row[j], in[j], acc);
        }
        acc = warpSum(acc) + bias[r];
        if (lane == 0)
        {
            out[r] = relu ? fmaxf(acc, 0.0F) : acc;
        }
    }
}

__global__ void __launch_bounds__(kBLOCK) attentionKernel(AttentionArgs args, Workspace ws)
{
    waitForPrerequisites();
    allowDependents();
    AnAttentiveNormAttributes const& at = args.attrs;
    int32_t const channels = at.num_channels;
    int32_t const k = at.num_affine;
    int32_t const hidden = at.attn_hidden;
    int64_t const n = blockIdx.x;
    int64_t const base = n * channels;
    float const length = static_cast<float>(args.length);
    float const varDiv = args.length > 1 ? static_cast<float>(args.length - 1) : 1.0F;

    if (args.splits > 1) // Chan merge of the (at most 16) splits of H*W; each covers `per` pixels, the last fewer
    {
        int64_t const per = (args.length + args.splits - 1) / args.splits;
        for (int32_t c = threadIdx.x; c < channels; c += kBLOCK)
        {
            Stats acc = emptyStats();
            for (int32_t sp = 0; sp < args.splits; ++sp)
            {
                int64_t const end = (sp + 1) * per < args.length ? (sp + 1) * per : args.length;
                int64_t const count = end - sp * per;
                if (count > 0)
                {
                    int64_t const idx = (static_cast<int64_t>(sp) * gridDim.x + n) * channels + c;
                    acc = mergeStats(acc, Stats{static_cast<float>(count), ws.pmean[idx], ws.pm2[idx], ws.pmx[idx]});
                }
            }
            ws.mean[base + c] = acc.mean;
            ws.m2[base + c] = acc.m2;
            ws.mx[base + c] = acc.mx;
        }
        __syncthreads();
    }
    float* u = ws.u + base;
    for (int32_t c = threadIdx.x; c < channels; c += kBLOCK)
    {
        float const mu = ws.mean[base + c];
        float v;
        if (at.attn_input == static_cast<int32_t>(AttnInput::kRSD))
        {
            v = mu * rsqrtf(ws.m2[base + c] / varDiv + at.eps_var);
        }
        else if (at.attn_input == static_cast<int32_t>(AttnInput::kAVG))
        {
            v = mu;
        }
        else
        {
            v = mu + ws.mx[base + c];
        }
        u[c] = v;
    }
    __syncthreads();
    float* h = ws.h + n * hidden;
    matVec(args.w1, args.b1, u, h, hidden, channels,
        at.hidden_activation == static_cast<int32_t>(HiddenActivation::kRELU));
    __syncthreads();
    float* z = ws.z + n * k;
    matVec(args.w2, args.b2, h, z, k, hidden, false);
    __syncthreads();

    if (threadIdx.x == 0) // K is small (tens): sequential is exact and cheap
    {
        int32_t const groups = at.attn_norm_groups;
        if (groups > 0)
        {
            int32_t const per = k / groups;
            for (int32_t g = 0; g < groups; ++g)
            {
                float* zg = z + g * per;
                float mean = 0.0F;
                for (int32_t i = 0; i < per; ++i)
                {
                    mean += zg[i];
                }
                mean /= static_cast<float>(per);
                float var = 0.0F;
                for (int32_t i = 0; i < per; ++i)
                {
                    var += (zg[i] - mean) * (zg[i] - mean);
                }
                float const r = rsqrtf(var / static_cast<float>(per) + at.attn_norm_eps);
                for (int32_t i = 0; i < per; ++i)
                {
                    zg[i] = (zg[i] - mean) * r;
                }
            }
        }
        float zmax = -INFINITY;
        for (int32_t i = 0; i < k; ++i)
        {
            z[i] = fmaf(z[i], args.scale[i], args.shift[i]);
            zmax = fmaxf(zmax, z[i]);
        }
        if (at.activation == static_cast<int32_t>(Activation::kSOFTMAX))
        {
            float sum = 0.0F;
            for (int32_t i = 0; i < k; ++i)
            {
                z[i] = expf(z[i] - zmax);
                sum += z[i];
            }
            for (int32_t i = 0; i < k; ++i)
            {
                z[i] /= sum;
            }
        }
        else if (at.activation == static_cast<int32_t>(Activation::kSIGMOID))
        {
            for (int32_t i = 0; i < k; ++i)
            {
                z[i] = 1.0F / (1.0F + expf(-z[i]));
            }
        }
        else
        {
            for (int32_t i = 0; i < k; ++i)
            {
                z[i] = fminf(fmaxf(z[i] + 3.0F, 0.0F), 6.0F) / 6.0F;
            }
        }
    }
    bool const group = at.norm_type == static_cast<int32_t>(NormType::kGROUP);
    int32_t const perGroup = group ? channels / at.num_groups : 1;
    if (group) // group statistics from the channel partials (equal counts L): Chan's formula
    {
        for (int32_t g = threadIdx.x; g < at.num_groups; g += kBLOCK)
        {
            int64_t const c0 = base + static_cast<int64_t>(g) * perGroup;
            float mean = 0.0F;
            for (int32_t i = 0; i < perGroup; ++i)
            {
                mean += ws.mean[c0 + i];
            }
            mean /= static_cast<float>(perGroup);
            float m2 = 0.0F;
            for (int32_t i = 0; i < perGroup; ++i)
            {
                float const d = ws.mean[c0 + i] - mean;
                m2 += ws.m2[c0 + i] + length * d * d;
            }
            float const var = m2 / (length * static_cast<float>(perGroup));
            ws.gmean[n * at.num_groups + g] = mean;
            ws.grstd[n * at.num_groups + g] = rsqrtf(var + at.epsilon);
        }
    }
    __syncthreads();
    for (int32_t c = threadIdx.x; c < channels; c += kBLOCK)
    {
        float gamma = 0.0F;
        float beta = 0.0F;
        for (int32_t i = 0; i < k; ++i)
        {
            gamma = fmaf(z[i], args.mixW[static_cast<int64_t>(i) * channels + c], gamma);
            beta = fmaf(z[i], args.mixB[static_cast<int64_t>(i) * channels + c], beta);
        }
        float scale = args.normScale[c];
        float shift = args.normShift[c];
        if (group) // xn = (x - m) * r  =>  xn * s + t = (s r) x + (t - s r m)
        {
            int64_t const g = n * at.num_groups + c / perGroup;
            float const sr = scale * ws.grstd[g];
            shift = fmaf(-sr, ws.gmean[g], shift);
            scale = sr;
        }
        ws.a[base + c] = gamma * scale;
        ws.b[base + c] = fmaf(gamma, shift, beta);
    }
}

// ---------------------------------------------------------------------------------------------------------
// Pass 2: y = A x + B.

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

// ---------------------------------------------------------------------------------------------------------
// Host side.

bool aligned16(void const* p)
{
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

int32_t cudaStatus(char const* what, std::string* error)
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

unsigned int applyGrid(int64_t nbVec)
{
    return static_cast<unsigned int>(std::min((nbVec + kBLOCK - 1) / kBLOCK, kMAX_APPLY_BLOCKS));
}

//! A positive attribute of the current device, cached per device (`fallback` if the query fails, which the
//! launch that follows then reports).
template <cudaDeviceAttr kATTRIBUTE>
int32_t deviceAttribute(int32_t fallback)
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

int32_t multiprocessors()
{
    return deviceAttribute<cudaDevAttrMultiProcessorCount>(132);
}

//! Launch of a kernel that reads what the op's previous kernel wrote. With AN_KERNEL_PDL on an sm_90+ device it
//! is a programmatic dependent launch (scheduled before its predecessor ends; it waits in
//! waitForPrerequisites()), otherwise an ordinary one. Errors surface in the cudaStatus() that follows.
template <typename... Params, typename... Args>
void launchDependent(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t stream, Args... args)
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

template <typename T>
int32_t launchTyped(AttentiveNormLaunch const& p, Workspace const& ws, cudaStream_t stream, std::string* error)
{
    constexpr int32_t kV = sizeof(T) == 4 ? 4 : 8;
    T const* x = static_cast<T const*>(p.x);
    T* y = static_cast<T*>(p.y);
    int64_t const length = p.h * p.w;
    int64_t const planes = p.n * p.c;
    bool const vec = aligned16(p.x) && aligned16(p.y);
    int32_t splits = 1; // channels-last statistics: splits of H*W
    if (p.layout == AN_LAYOUT_NCHW)
    {
        bool const vecNchw = vec && length % kV == 0;
        // A block per plane only where a warp per plane would leave the GPU short of warps (few, long planes).
        bool const blockPerPlane = length >= 2048 && planes < int64_t{32} * multiprocessors();
        if (blockPerPlane)
        {
            unsigned int const grid = static_cast<unsigned int>(planes);
            if (vecNchw)
            {
                statsNchwKernel<T, kV, kBLOCK><<<grid, kBLOCK, 0, stream>>>(x, planes, length, ws.mean, ws.m2, ws.mx);
            }
            else
            {
                statsNchwKernel<T, 1, kBLOCK><<<grid, kBLOCK, 0, stream>>>(x, planes, length, ws.mean, ws.m2, ws.mx);
            }
        }
        else
        {
            constexpr int32_t kPER_BLOCK = kBLOCK / kWARP;
            unsigned int const grid = static_cast<unsigned int>((planes + kPER_BLOCK - 1) / kPER_BLOCK);
            if (vecNchw)
            {
                statsNchwKernel<T, kV, kWARP><<<grid, kBLOCK, 0, stream>>>(x, planes, length, ws.mean, ws.m2, ws.mx);
            }
            else
            {
                statsNchwKernel<T, 1, kWARP><<<grid, kBLOCK, 0, stream>>>(x, planes, length, ws.mean, ws.m2, ws.mx);
            }
        }
    }
    else
    {
        int64_t const stride = p.layout == AN_LAYOUT_NHWC8 ? (p.c + 7) / 8 * 8 : p.c;
        // Short planes (7x7, 14x14 at batch 32) are latency-bound: one scalar pass with no splits to merge was
        // faster there on an H200 (22 vs 31 us at 32x512x7x7 fp16); longer ones take the vectorised split pass.
        if (vec && stride % kV == 0 && p.n <= 65535 && length >= 256)
        {
            int64_t const vectors = stride / kV;
            int32_t tx = 1;
            while (tx < kWARP && tx < vectors)
            {
                tx *= 2;
            }
            int64_t const rows = kBLOCK / tx;
            int64_t const tiles = (vectors + tx - 1) / tx;
            // About two blocks per multiprocessor, never fewer than `rows` pixels per split.
            int64_t const wanted = (2 * multiprocessors() + tiles * p.n - 1) / (tiles * p.n);
            splits = static_cast<int32_t>(
                std::max<int64_t>(1, std::min({wanted, maxSplits(p.n), (length + rows - 1) / rows})));
            dim3 const grid(static_cast<unsigned int>(tiles), static_cast<unsigned int>(p.n),
                static_cast<unsigned int>(splits));
            bool const merged = splits == 1;
            statsNhwcVecKernel<T, kV><<<grid, dim3(static_cast<unsigned int>(tx), static_cast<unsigned int>(rows)),
                0, stream>>>(x, static_cast<int32_t>(p.c), stride, length, tx, merged ? ws.mean : ws.pmean,
                merged ? ws.m2 : ws.pm2, merged ? ws.mx : ws.pmx);
        }
        else
        {
            dim3 const grid(static_cast<unsigned int>((p.c + kWARP - 1) / kWARP), static_cast<unsigned int>(p.n));
            statsNhwcKernel<T>
                <<<grid, dim3(kWARP, kROWS), 0, stream>>>(x, p.c, stride, length, ws.mean, ws.m2, ws.mx);
        }
    }
    int32_t rc = cudaStatus("statistics kernel", error);
    if (rc != AN_STATUS_SUCCESS)
    {
        return rc;
    }

    AttentionArgs args{p.params[0], p.params[1], p.params[2], p.params[3], p.params[4], p.params[5], p.params[6],
        p.params[7], p.params[8], p.params[9], p.attrs, length, splits};
    launchDependent(attentionKernel, static_cast<unsigned int>(p.n), kBLOCK, stream, args, ws);
    rc = cudaStatus("attention kernel", error);
    if (rc != AN_STATUS_SUCCESS)
    {
        return rc;
    }

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

size_t attentiveNormWorkspaceSize(int64_t n, AnAttentiveNormAttributes const& attrs) noexcept
{
    if (n < 1 || attrs.num_channels < 1 || attrs.num_affine < 1 || attrs.attn_hidden < 1)
    {
        return 0;
    }
    return layoutWorkspace(n, attrs, nullptr, nullptr);
}

int32_t attentiveNormForward(AttentiveNormLaunch const& p, cudaStream_t stream, std::string* error) noexcept
{
    try
    {
        std::vector<std::string> const errors = attributeErrors(p.attrs);
        if (!errors.empty())
        {
            return invalid(error, "invalid attributes: " + joinErrors(errors));
        }
        if (p.n < 1 || p.h < 1 || p.w < 1 || p.c != p.attrs.num_channels)
        {
            return invalid(error,
                "bad shape [" + std::to_string(p.n) + ", " + std::to_string(p.c) + ", " + std::to_string(p.h) + ", "
                    + std::to_string(p.w) + "] for num_channels " + std::to_string(p.attrs.num_channels));
        }
        if (p.n > 65535 || p.h * p.w > (int64_t{1} << 24))
        {
            return invalid(error, "N must be <= 65535 and H*W <= 2^24");
        }
        if (p.dtype != AN_DTYPE_FLOAT32 && p.dtype != AN_DTYPE_FLOAT16)
        {
            return invalid(error, "dtype must be AN_DTYPE_FLOAT32 (0) or AN_DTYPE_FLOAT16 (1), got " + std::to_string(p.dtype));
        }
        if (p.layout != AN_LAYOUT_NCHW && p.layout != AN_LAYOUT_NHWC8 && p.layout != AN_LAYOUT_NHWC)
        {
            return invalid(error, "layout must be 0 (NCHW), 1 (NHWC8) or 2 (NHWC), got " + std::to_string(p.layout));
        }
        if (p.x == nullptr || p.y == nullptr || p.workspace == nullptr)
        {
            return invalid(error, "x, y and workspace must not be null");
        }
        for (int32_t i = 0; i < kNB_PARAM_INPUTS; ++i)
        {
            if (p.params[i] == nullptr)
            {
                return invalid(error, std::string("parameter ") + kPARAM_NAMES[static_cast<size_t>(i)] + " is null");
            }
        }
        if (reinterpret_cast<uintptr_t>(p.workspace) % kALIGN != 0)
        {
            return invalid(error, "workspace must be 256-byte aligned");
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
        Workspace ws{};
        layoutWorkspace(p.n, p.attrs, static_cast<char*>(p.workspace), &ws);
        if (p.dtype == AN_DTYPE_FLOAT32)
        {
            return launchTyped<float>(p, ws, stream, error);
        }
        return launchTyped<__half>(p, ws, stream, error);
    }
    catch (...)
    {
        return invalid(error, "internal error (exception) while launching AttentiveNorm");
    }
}

} // namespace plugin
} // namespace an_deploy
