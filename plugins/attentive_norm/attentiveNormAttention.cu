/*
 * AttentiveNorm per sample, one block per sample: u -> MLP -> logit group norm -> affine -> activation -> lam,
 * group statistics (GROUP norm, Chan merge of the channel partials), then A[n,c] and B[n,c] for the apply pass.
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


} // namespace

void launchAttention(AttentiveNormLaunch const& p, Workspace const& ws, int32_t splits, cudaStream_t stream)
{
    AttentionArgs args{p.params[0], p.params[1], p.params[2], p.params[3], p.params[4], p.params[5], p.params[6],
        p.params[7], p.params[8], p.params[9], p.attrs, p.h * p.w, splits};
    launchDependent(attentionKernel, static_cast<unsigned int>(p.n), kBLOCK, stream, args, ws);
}

} // namespace detail
} // namespace plugin
} // namespace an_deploy
