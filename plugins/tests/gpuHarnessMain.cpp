/*
 * GPU harness: the plugin exactly as TensorRT drives it (creator -> createPlugin -> configurePlugin ->
 * getWorkspaceSize -> onShapeChange -> enqueue) on device buffers, compared with a float64 CPU reference.
 *
 *   attentive_norm_plugin_gpu_harness build/plugins/libattentive_norm_plugin.so
 *
 * Prints one line per case and a final "PASSED | ..." or "FAILED | ..."; exit 0 on pass, 1 on failure,
 * 77 when there is no CUDA device.
 */
#include "gpuHarnessReference.h"

#include "NvInferRuntime.h"

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace nvinfer1;

namespace
{

struct Case
{
    int64_t n, c, h, w;
    int32_t k, h1;
    DataType type;
    TensorFormat format;
    int32_t normType, numGroups, attnInput, hiddenAct, attnNormGroups, activation;
};

#define CHECK_CUDA(call)                                                                                              \
    do                                                                                                                \
    {                                                                                                                 \
        cudaError_t const e_ = (call);                                                                                \
        if (e_ != cudaSuccess)                                                                                        \
        {                                                                                                             \
            std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_));                \
            return false;                                                                                             \
        }                                                                                                             \
    } while (0)

class StderrLogger : public ILogger
{
public:
    void log(Severity severity, AsciiChar const* msg) noexcept override
    {
        std::fprintf(stderr, "[plugin %d] %s\n", static_cast<int>(severity), msg);
    }
};

class Finder : public ILoggerFinder
{
public:
    ILogger* findLogger() override
    {
        return &mLogger;
    }

private:
    StderrLogger mLogger;
};

int64_t channelStride(Case const& t)
{
    return t.format == TensorFormat::kHWC8 ? (t.c + 7) / 8 * 8 : t.c;
}

bool channelsLast(Case const& t)
{
    return t.format != TensorFormat::kLINEAR;
}

//! Index of (n, c, l) in the device layout.
int64_t offsetOf(Case const& t, int64_t n, int64_t c, int64_t l)
{
    int64_t const len = t.h * t.w;
    return channelsLast(t) ? (n * len + l) * channelStride(t) + c : (n * t.c + c) * len + l;
}

bool runCase(IPluginCreatorV3One* creator, Case const& t, std::mt19937& rng, std::string& summary)
{
    float const eps = 1e-5F;
    float const epsVar = 1e-3F;
    float const attnEps = 1e-5F;
    int32_t const c32 = static_cast<int32_t>(t.c);
    PluginField fields[] = {
        {"num_channels", &c32, PluginFieldType::kINT32, 1},
        {"num_affine", &t.k, PluginFieldType::kINT32, 1},
        {"attn_hidden", &t.h1, PluginFieldType::kINT32, 1},
        {"norm_type", &t.normType, PluginFieldType::kINT32, 1},
        {"num_groups", &t.numGroups, PluginFieldType::kINT32, 1},
        {"epsilon", &eps, PluginFieldType::kFLOAT32, 1},
        {"attn_input", &t.attnInput, PluginFieldType::kINT32, 1},
        {"eps_var", &epsVar, PluginFieldType::kFLOAT32, 1},
        {"hidden_activation", &t.hiddenAct, PluginFieldType::kINT32, 1},
        {"attn_norm_groups", &t.attnNormGroups, PluginFieldType::kINT32, 1},
        {"attn_norm_eps", &attnEps, PluginFieldType::kFLOAT32, 1},
        {"activation", &t.activation, PluginFieldType::kINT32, 1},
    };
    PluginFieldCollection fc{12, fields};
    IPluginV3* plugin = creator->createPlugin("harness", &fc, TensorRTPhase::kBUILD);
    if (plugin == nullptr)
    {
        summary = "createPlugin failed";
        return false;
    }
    auto* build = static_cast<IPluginV3OneBuild*>(plugin->getCapabilityInterface(PluginCapabilityType::kBUILD));
    auto* runtime = static_cast<IPluginV3OneRuntime*>(plugin->getCapabilityInterface(PluginCapabilityType::kRUNTIME));

    std::normal_distribution<float> normal(0.0F, 1.0F);
    int64_t const len = t.h * t.w;
    std::vector<std::vector<int64_t>> const shapes{{t.h1, t.c}, {t.h1}, {t.k, t.h1}, {t.k}, {t.k}, {t.k}, {t.k, t.c},
        {t.k, t.c}, {t.c}, {t.c}};
    std::vector<std::vector<float>> params;
    for (size_t i = 0; i < shapes.size(); ++i)
    {
        int64_t count = 1;
        for (int64_t d : shapes[i])
        {
            count *= d;
        }
        std::vector<float> v(static_cast<size_t>(count));
        for (float& e : v)
        {
            float const z = normal(rng);
            e = i == 0 ? z / std::sqrt(static_cast<float>(t.c)) : i == 6 || i == 8 ? 1.0F + 0.1F * z : 0.1F * z;
        }
        params.push_back(std::move(v));
    }
    // x with a per-channel offset and scale so the statistics matter; rounded to the device dtype first.
    std::vector<double> x(static_cast<size_t>(t.n * t.c * len));
    for (int64_t s = 0; s < t.n; ++s)
    {
        for (int64_t ch = 0; ch < t.c; ++ch)
        {
            float const off = 0.5F * normal(rng);
            float const scale = 1.0F + 0.5F * std::fabs(normal(rng));
            for (int64_t l = 0; l < len; ++l)
            {
                float v = off + scale * normal(rng);
                if (t.type == DataType::kHALF)
                {
                    v = __half2float(__float2half(v));
                }
                x[static_cast<size_t>((s * t.c + ch) * len + l)] = v;
            }
        }
    }
    AnAttentiveNormAttributes attrs{c32, t.k, t.h1, t.normType, t.numGroups, eps, t.attnInput, epsVar, t.hiddenAct,
        t.attnNormGroups, attnEps, t.activation};
    std::vector<double> const ref = an_test::referenceForward(x, params, attrs, t.n, t.h, t.w);

    size_t const elems = static_cast<size_t>(t.n * len * channelStride(t));
    size_t const elemBytes = t.type == DataType::kHALF ? 2 : 4;
    std::vector<unsigned char> hostX(elems * elemBytes, 0);
    for (int64_t s = 0; s < t.n; ++s)
    {
        for (int64_t ch = 0; ch < t.c; ++ch)
        {
            for (int64_t l = 0; l < len; ++l)
            {
                float const v = static_cast<float>(x[static_cast<size_t>((s * t.c + ch) * len + l)]);
                size_t const o = static_cast<size_t>(offsetOf(t, s, ch, l));
                if (t.type == DataType::kHALF)
                {
                    __half const hv = __float2half(v);
                    std::memcpy(&hostX[o * 2], &hv, 2);
                }
                else
                {
                    std::memcpy(&hostX[o * 4], &v, 4);
                }
            }
        }
    }

    std::vector<DynamicPluginTensorDesc> io(12);
    auto setDesc = [](DynamicPluginTensorDesc& d, std::vector<int64_t> const& dims, DataType type, TensorFormat f) {
        d.desc.dims.nbDims = static_cast<int32_t>(dims.size());
        for (size_t i = 0; i < dims.size(); ++i)
        {
            d.desc.dims.d[i] = dims[i];
        }
        d.desc.type = type;
        d.desc.format = f;
        d.min = d.opt = d.max = d.desc.dims;
    };
    setDesc(io[0], {t.n, t.c, t.h, t.w}, t.type, t.format);
    for (size_t i = 0; i < shapes.size(); ++i)
    {
        setDesc(io[i + 1], shapes[i], DataType::kFLOAT, TensorFormat::kLINEAR);
    }
    setDesc(io[11], {t.n, t.c, t.h, t.w}, t.type, t.format);
    bool formatsOk = true;
    for (int32_t pos = 0; pos < 12; ++pos)
    {
        formatsOk = formatsOk && build->supportsFormatCombination(pos, io.data(), 11, 1);
    }
    if (!formatsOk || build->configurePlugin(io.data(), 11, io.data() + 11, 1) != 0)
    {
        summary = "format/configure rejected";
        delete plugin;
        return false;
    }
    size_t const wsBytes = build->getWorkspaceSize(io.data(), 11, io.data() + 11, 1);
    std::vector<PluginTensorDesc> desc;
    for (auto const& d : io)
    {
        desc.push_back(d.desc);
    }
    if (runtime->onShapeChange(desc.data(), 11, desc.data() + 11, 1) != 0)
    {
        summary = "onShapeChange rejected";
        delete plugin;
        return false;
    }

    void* dX = nullptr;
    void* dY = nullptr;
    void* dWs = nullptr;
    std::vector<void*> dParams(10, nullptr);
    CHECK_CUDA(cudaMalloc(&dX, hostX.size()));
    CHECK_CUDA(cudaMalloc(&dY, hostX.size()));
    CHECK_CUDA(cudaMalloc(&dWs, wsBytes));
    CHECK_CUDA(cudaMemcpy(dX, hostX.data(), hostX.size(), cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemset(dY, 0xFF, hostX.size())); // NaN poison in both dtypes
    std::vector<void const*> inputs{dX};
    for (size_t i = 0; i < params.size(); ++i)
    {
        CHECK_CUDA(cudaMalloc(&dParams[i], params[i].size() * 4));
        CHECK_CUDA(cudaMemcpy(dParams[i], params[i].data(), params[i].size() * 4, cudaMemcpyHostToDevice));
        inputs.push_back(dParams[i]);
    }
    cudaStream_t stream = nullptr;
    CHECK_CUDA(cudaStreamCreate(&stream));
    void* outputs[] = {dY};
    int32_t const rc = runtime->enqueue(desc.data(), desc.data() + 11, inputs.data(), outputs, dWs, stream);
    CHECK_CUDA(cudaStreamSynchronize(stream));
    std::vector<unsigned char> hostY(hostX.size());
    CHECK_CUDA(cudaMemcpy(hostY.data(), dY, hostY.size(), cudaMemcpyDeviceToHost));

    double const rtol = t.type == DataType::kHALF ? 4e-3 : 1e-4;
    double const atol = t.type == DataType::kHALF ? 4e-3 : 1e-5;
    double maxAbs = 0.0;
    int64_t bad = 0;
    for (int64_t s = 0; s < t.n; ++s)
    {
        for (int64_t ch = 0; ch < t.c; ++ch)
        {
            for (int64_t l = 0; l < len; ++l)
            {
                size_t const o = static_cast<size_t>(offsetOf(t, s, ch, l));
                float got = 0.0F;
                if (t.type == DataType::kHALF)
                {
                    __half hv;
                    std::memcpy(&hv, &hostY[o * 2], 2);
                    got = __half2float(hv);
                }
                else
                {
                    std::memcpy(&got, &hostY[o * 4], 4);
                }
                double const want = ref[static_cast<size_t>((s * t.c + ch) * len + l)];
                double const diff = std::fabs(static_cast<double>(got) - want);
                maxAbs = std::isnan(diff) ? INFINITY : std::max(maxAbs, diff);
                bad += !(diff <= atol + rtol * std::fabs(want));
            }
        }
    }
    char buf[256];
    std::snprintf(buf, sizeof(buf), "rc=%d max_abs=%.3g bad=%lld ws=%zu", rc, maxAbs, static_cast<long long>(bad),
        wsBytes);
    summary = buf;
    cudaStreamDestroy(stream);
    cudaFree(dX);
    cudaFree(dY);
    cudaFree(dWs);
    for (void* p : dParams)
    {
        cudaFree(p);
    }
    delete plugin;
    return rc == 0 && bad == 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2)
    {
        std::fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
        return 2;
    }
    int32_t devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
    {
        std::printf("SKIPPED | no CUDA device\n");
        return 77;
    }
    void* lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr)
    {
        std::printf("FAILED | dlopen: %s\n", dlerror());
        return 1;
    }
    using GetCreators = IPluginCreatorInterface* const* (*) (int32_t&);
    using SetFinder = void (*)(ILoggerFinder*);
    auto getCreators = reinterpret_cast<GetCreators>(dlsym(lib, "getCreators"));
    auto setFinder = reinterpret_cast<SetFinder>(dlsym(lib, "setLoggerFinder"));
    static Finder finder;
    if (getCreators == nullptr || setFinder == nullptr)
    {
        std::printf("FAILED | plugin interface not exported\n");
        return 1;
    }
    setFinder(&finder);
    int32_t nb = 0;
    auto* creator = static_cast<IPluginCreatorV3One*>(getCreators(nb)[0]);

    std::vector<Case> cases;
    TensorFormat const formats[][2] = {{TensorFormat::kLINEAR, TensorFormat::kLINEAR}, {TensorFormat::kHWC, TensorFormat::kHWC8}};
    for (auto const& f : formats)
    {
        for (int32_t half = 0; half < 2; ++half)
        {
            DataType const type = half ? DataType::kHALF : DataType::kFLOAT;
            TensorFormat const format = f[half];
            cases.push_back({2, 64, 7, 7, 10, 10, type, format, 0, 1, 0, 0, 0, 1});
            cases.push_back({3, 20, 5, 3, 5, 8, type, format, 1, 4, 2, 1, 0, 0});  // odd sizes, C % 8 != 0
            cases.push_back({1, 32, 1, 1, 6, 12, type, format, 0, 1, 1, 1, 2, 2}); // H*W == 1
            cases.push_back({2, 128, 56, 56, 20, 20, type, format, 1, 32, 0, 0, 0, 1});
        }
    }
    std::mt19937 rng(2024);
    int32_t failures = 0;
    for (size_t i = 0; i < cases.size(); ++i)
    {
        Case const& t = cases[i];
        std::string summary;
        bool const ok = runCase(creator, t, rng, summary);
        failures += ok ? 0 : 1;
        std::printf("%s case %zu: N=%lld C=%lld H=%lld W=%lld type=%d format=%d norm=%d: %s\n", ok ? "ok  " : "FAIL",
            i, static_cast<long long>(t.n), static_cast<long long>(t.c), static_cast<long long>(t.h),
            static_cast<long long>(t.w), static_cast<int>(t.type), static_cast<int>(t.format), t.normType,
            summary.c_str());
    }
    setFinder(nullptr);
    if (failures != 0)
    {
        std::printf("FAILED | %d of %zu cases\n", failures, cases.size());
        return 1;
    }
    std::printf("PASSED | %zu cases\n", cases.size());
    return 0;
}
