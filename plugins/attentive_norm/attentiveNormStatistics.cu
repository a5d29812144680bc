/*
 * Pass 1 of AttentiveNorm: per (n, c) count/mean/M2/max in one read of x, float32 accumulation for every dtype
 * (NCHW: per-thread sums of x - pivot with the plane's first element as pivot, then Chan merges across threads;
 * channels-last with 256+ pixels: the same on 16-byte vectors of channels, split over H*W into partials that the
 * attention kernel merges; short channels-last planes: per-thread Welford, Chan merges).
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

} // namespace

template <typename T>
int32_t launchStatistics(AttentiveNormLaunch const& p, Workspace const& ws, cudaStream_t stream)
{
    constexpr int32_t kV = sizeof(T) == 4 ? 4 : 8;
    T const* x = static_cast<T const*>(p.x);
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
    return splits;
}

template int32_t launchStatistics<float>(AttentiveNormLaunch const&, Workspace const&, cudaStream_t);
template int32_t launchStatistics<__half>(AttentiveNormLaunch const&, Workspace const&, cudaStream_t);

} // namespace detail
} // namespace plugin
} // namespace an_deploy
