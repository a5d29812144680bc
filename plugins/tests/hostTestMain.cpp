/*
 * Host test of the AttentiveNorm plugin library: dlopens it (no libnvinfer, no GPU needed), drives the
 * creator and the plugin's host-side methods, and prints one JSON object on stdout for pytest to check.
 *
 *   attentive_norm_host_test PLUGIN.so info
 *   attentive_norm_host_test PLUGIN.so create [build|runtime]   < fields
 *   attentive_norm_host_test PLUGIN.so roundtrip                < fields
 *   attentive_norm_host_test PLUGIN.so formats                  < fields
 *   attentive_norm_host_test PLUGIN.so queries                  < fields
 *   attentive_norm_host_test PLUGIN.so fuzz SEED ITERATIONS     < fields (a valid set, truncated/mutated)
 *
 * Field lines: "name type length values..." (type = PluginFieldType integer). Exit code 0 unless the harness
 * itself failed (bad usage, library not loadable); plugin behaviour is reported in the JSON.
 */
#include "hostTestExprs.h"
#include "hostTestFields.h"
#include "hostTestJson.h"

#include "NvInferRuntime.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace nvinfer1;
using namespace an_test;

namespace
{

class CapturingLogger : public ILogger
{
public:
    void log(Severity severity, AsciiChar const* msg) noexcept override
    {
        if (mQuiet)
        {
            ++mCount;
            return;
        }
        try
        {
            mMessages.push_back(std::to_string(static_cast<int32_t>(severity)) + ": " + (msg ? msg : "<null>"));
        }
        catch (...)
        {
        }
        ++mCount;
    }
    std::vector<std::string> take()
    {
        std::vector<std::string> out;
        out.swap(mMessages);
        return out;
    }
    bool mQuiet{false};
    int64_t mCount{0};

private:
    std::vector<std::string> mMessages;
};

class Finder : public ILoggerFinder
{
public:
    explicit Finder(ILogger* logger)
        : mLogger(logger)
    {
    }
    ILogger* findLogger() override
    {
        return mLogger;
    }

private:
    ILogger* mLogger;
};

CapturingLogger gLogger;
Finder gFinder(&gLogger);

using GetCreatorsFn = IPluginCreatorInterface* const* (*) (int32_t&);
using SetLoggerFinderFn = void (*)(ILoggerFinder*);

struct Library
{
    void* handle{nullptr};
    GetCreatorsFn getCreators{nullptr};
    SetLoggerFinderFn setLoggerFinder{nullptr};
};

std::string interfaceJson(InterfaceInfo const& info)
{
    return JsonObject()
        .addString("kind", info.kind != nullptr ? info.kind : "")
        .addInt("major", info.major)
        .addInt("minor", info.minor)
        .str();
}

std::string fieldsJson(PluginFieldCollection const* fc)
{
    if (fc == nullptr)
    {
        return "null";
    }
    std::vector<std::string> items;
    for (int32_t i = 0; i < fc->nbFields; ++i)
    {
        PluginField const& f = fc->fields[i];
        items.push_back(JsonObject()
                            .addString("name", f.name != nullptr ? f.name : "<null>")
                            .addInt("type", static_cast<int32_t>(f.type))
                            .addInt("length", f.length)
                            .addBool("data_null", f.data == nullptr)
                            .add("value", fieldValueJson(f))
                            .str());
    }
    return jsonArray(items);
}

IPluginCreatorV3One* v3Creator(Library const& lib, std::string* kindOut = nullptr)
{
    int32_t nb = 0;
    IPluginCreatorInterface* const* creators = lib.getCreators(nb);
    if (creators == nullptr || nb < 1 || creators[0] == nullptr)
    {
        return nullptr;
    }
    InterfaceInfo const info = creators[0]->getInterfaceInfo();
    if (kindOut != nullptr)
    {
        *kindOut = info.kind != nullptr ? info.kind : "";
    }
    if (info.kind == nullptr || std::strcmp(info.kind, "PLUGIN CREATOR_V3ONE") != 0 || info.major != 1)
    {
        return nullptr;
    }
    return static_cast<IPluginCreatorV3One*>(creators[0]);
}

std::string describePlugin(IPluginV3* plugin)
{
    if (plugin == nullptr)
    {
        return "null";
    }
    auto* core = static_cast<IPluginV3OneCore*>(plugin->getCapabilityInterface(PluginCapabilityType::kCORE));
    auto* build = static_cast<IPluginV3OneBuild*>(plugin->getCapabilityInterface(PluginCapabilityType::kBUILD));
    auto* runtime = static_cast<IPluginV3OneRuntime*>(plugin->getCapabilityInterface(PluginCapabilityType::kRUNTIME));
    JsonObject o;
    o.add("plugin_interface", interfaceJson(plugin->getInterfaceInfo()));
    o.add("core_interface", core ? interfaceJson(core->getInterfaceInfo()) : "null");
    o.add("build_interface", build ? interfaceJson(build->getInterfaceInfo()) : "null");
    o.add("runtime_interface", runtime ? interfaceJson(runtime->getInterfaceInfo()) : "null");
    if (core != nullptr)
    {
        o.addString("name", core->getPluginName());
        o.addString("version", core->getPluginVersion());
        o.addString("namespace", core->getPluginNamespace());
    }
    if (build != nullptr)
    {
        o.addInt("nb_outputs", build->getNbOutputs());
    }
    o.add("fields", runtime ? fieldsJson(runtime->getFieldsToSerialize()) : "null");
    return o.str();
}

IPluginV3OneBuild* buildOf(IPluginV3* p)
{
    return static_cast<IPluginV3OneBuild*>(p->getCapabilityInterface(PluginCapabilityType::kBUILD));
}

IPluginV3OneRuntime* runtimeOf(IPluginV3* p)
{
    return static_cast<IPluginV3OneRuntime*>(p->getCapabilityInterface(PluginCapabilityType::kRUNTIME));
}

int cmdInfo(Library const& lib)
{
    int32_t nb = -1;
    IPluginCreatorInterface* const* creators = lib.getCreators(nb);
    std::vector<std::string> list;
    for (int32_t i = 0; creators != nullptr && i < nb; ++i)
    {
        JsonObject c;
        c.add("interface", interfaceJson(creators[i]->getInterfaceInfo()));
        std::string kind;
        IPluginCreatorV3One* v3 = i == 0 ? v3Creator(lib, &kind) : nullptr;
        if (v3 != nullptr)
        {
            c.addString("name", v3->getPluginName());
            c.addString("version", v3->getPluginVersion());
            c.addString("namespace", v3->getPluginNamespace());
            c.add("fields", fieldsJson(v3->getFieldNames()));
        }
        list.push_back(c.str());
    }
    std::cout << JsonObject().addInt("nb_creators", nb).add("creators", jsonArray(list)).str() << std::endl;
    return 0;
}

IPluginV3* createFrom(IPluginCreatorV3One* creator, FieldSet& fields, TensorRTPhase phase)
{
    return creator->createPlugin("an_test_layer", fields.collection(), phase);
}

int cmdCreate(IPluginCreatorV3One* creator, FieldSet& fields, TensorRTPhase phase)
{
    IPluginV3* plugin = createFrom(creator, fields, phase);
    std::vector<std::string> const log = gLogger.take();
    std::cout << JsonObject()
                     .addBool("ok", plugin != nullptr)
                     .add("log", jsonStringArray(log))
                     .add("plugin", describePlugin(plugin))
                     .str()
              << std::endl;
    delete plugin;
    return 0;
}

int cmdRoundtrip(IPluginCreatorV3One* creator, FieldSet& fields)
{
    std::vector<std::string> stages;
    IPluginV3* built = createFrom(creator, fields, TensorRTPhase::kBUILD);
    if (built == nullptr)
    {
        std::cout << JsonObject().addBool("ok", false).add("log", jsonStringArray(gLogger.take())).str() << std::endl;
        return 0;
    }
    stages.push_back(describePlugin(built));
    // Deserialize the way TensorRT does: the serialized collection goes back to createPlugin in kRUNTIME.
    FieldSet serialized;
    serialized.copyFrom(*runtimeOf(built)->getFieldsToSerialize());
    IPluginV3* restored = createFrom(creator, serialized, TensorRTPhase::kRUNTIME);
    delete built; // nothing may still point into the first plugin
    stages.push_back(describePlugin(restored));
    IPluginV3* cloned = restored != nullptr ? restored->clone() : nullptr;
    delete restored;
    stages.push_back(describePlugin(cloned));
    IPluginV3* attached = cloned != nullptr ? runtimeOf(cloned)->attachToContext(nullptr) : nullptr;
    delete cloned;
    stages.push_back(describePlugin(attached));
    delete attached;
    std::cout << JsonObject()
                     .addBool("ok", true)
                     .add("stages", jsonArray(stages))
                     .add("log", jsonStringArray(gLogger.take()))
                     .str()
              << std::endl;
    return 0;
}

DynamicPluginTensorDesc tensorDesc(std::vector<int64_t> const& dims, DataType type, TensorFormat format)
{
    DynamicPluginTensorDesc d{};
    d.desc.dims.nbDims = static_cast<int32_t>(dims.size());
    for (size_t i = 0; i < dims.size(); ++i)
    {
        d.desc.dims.d[i] = dims[i];
    }
    d.desc.type = type;
    d.desc.format = format;
    d.desc.scale = 1.0F;
    d.min = d.desc.dims;
    d.max = d.desc.dims;
    d.opt = d.desc.dims;
    return d;
}

//! Descriptors of the 11 inputs + output for attributes C, K, H1 and X dims `x`.
std::vector<DynamicPluginTensorDesc> ioDescs(int64_t c, int64_t k, int64_t h1, std::vector<int64_t> const& x)
{
    std::vector<std::vector<int64_t>> const shapes{x, {h1, c}, {h1}, {k, h1}, {k}, {k}, {k}, {k, c}, {k, c}, {c}, {c}, x};
    std::vector<DynamicPluginTensorDesc> out;
    for (auto const& s : shapes)
    {
        out.push_back(tensorDesc(s, DataType::kFLOAT, TensorFormat::kLINEAR));
    }
    return out;
}

int64_t attrInt(PluginFieldCollection const* fc, char const* name)
{
    for (int32_t i = 0; i < fc->nbFields; ++i)
    {
        if (std::strcmp(fc->fields[i].name, name) == 0)
        {
            int32_t v = 0;
            std::memcpy(&v, fc->fields[i].data, 4);
            return v;
        }
    }
    return -1;
}

constexpr int32_t kNB_TYPES = 12;   // DataType values 0..11
constexpr int32_t kNB_FORMATS = 13; // TensorFormat values 0..12

int cmdFormats(IPluginCreatorV3One* creator, FieldSet& fields)
{
    IPluginV3* plugin = createFrom(creator, fields, TensorRTPhase::kBUILD);
    if (plugin == nullptr)
    {
        std::cout << JsonObject().addBool("ok", false).add("log", jsonStringArray(gLogger.take())).str() << std::endl;
        return 0;
    }
    PluginFieldCollection const* fc = runtimeOf(plugin)->getFieldsToSerialize();
    int64_t const c = attrInt(fc, "num_channels");
    std::vector<DynamicPluginTensorDesc> io = ioDescs(c, attrInt(fc, "num_affine"), attrInt(fc, "attn_hidden"),
        {2, c, 4, 4});
    std::vector<std::string> rows;
    auto query = [&](int32_t pos, int32_t xt, int32_t xf, int32_t t, int32_t f) {
        std::vector<DynamicPluginTensorDesc> d = io;
        d[0].desc.type = static_cast<DataType>(xt);
        d[0].desc.format = static_cast<TensorFormat>(xf);
        d[static_cast<size_t>(pos)].desc.type = static_cast<DataType>(t);
        d[static_cast<size_t>(pos)].desc.format = static_cast<TensorFormat>(f);
        bool const ok = buildOf(plugin)->supportsFormatCombination(pos, d.data(), 11, 1);
        rows.push_back("[" + std::to_string(pos) + ", " + std::to_string(xt) + ", " + std::to_string(xf) + ", "
            + std::to_string(t) + ", " + std::to_string(f) + ", " + (ok ? "true" : "false") + "]");
    };
    for (int32_t t = 0; t < kNB_TYPES; ++t)
    {
        for (int32_t f = 0; f < kNB_FORMATS; ++f)
        {
            query(0, t, f, t, f);
            for (int32_t pos = 1; pos <= 10; ++pos)
            {
                query(pos, 0, 0, t, f); // X fp32 linear; parameter position varies
            }
        }
    }
    // Output position: every (type, format) of Y against X's supported combinations and a few unsupported ones.
    int32_t const xCombos[][2] = {{0, 0}, {0, 8}, {1, 0}, {1, 2}, {1, 8}, {0, 2}, {7, 0}, {2, 0}};
    for (auto const& x : xCombos)
    {
        for (int32_t t = 0; t < kNB_TYPES; ++t)
        {
            for (int32_t f = 0; f < kNB_FORMATS; ++f)
            {
                query(11, x[0], x[1], t, f);
            }
        }
    }
    bool const badPos = buildOf(plugin)->supportsFormatCombination(12, io.data(), 11, 1)
        || buildOf(plugin)->supportsFormatCombination(-1, io.data(), 11, 1)
        || buildOf(plugin)->supportsFormatCombination(0, io.data(), 10, 1);
    std::cout << JsonObject()
                     .addBool("ok", true)
                     .add("columns", jsonStringArray({"pos", "x_type", "x_format", "type", "format", "supported"}))
                     .add("rows", jsonArray(rows))
                     .addBool("bad_position_accepted", badPos)
                     .str()
              << std::endl;
    delete plugin;
    return 0;
}

std::string exprsJson(DimsExprs const& d)
{
    std::vector<std::string> v;
    for (int32_t i = 0; i < d.nbDims; ++i)
    {
        v.push_back(d.d[i]->isConstant() ? std::to_string(d.d[i]->getConstantValue()) : "\"?\"");
    }
    return jsonArray(v);
}

int cmdQueries(IPluginCreatorV3One* creator, FieldSet& fields)
{
    IPluginV3* plugin = createFrom(creator, fields, TensorRTPhase::kBUILD);
    if (plugin == nullptr)
    {
        std::cout << JsonObject().addBool("ok", false).add("log", jsonStringArray(gLogger.take())).str() << std::endl;
        return 0;
    }
    IPluginV3OneBuild* build = buildOf(plugin);
    IPluginV3OneRuntime* runtime = runtimeOf(plugin);
    PluginFieldCollection const* fc = runtime->getFieldsToSerialize();
    int64_t const c = attrInt(fc, "num_channels");
    int64_t const k = attrInt(fc, "num_affine");
    int64_t const h1 = attrInt(fc, "attn_hidden");
    JsonObject out;
    out.addBool("ok", true);

    std::vector<std::string> types;
    for (int32_t t = 0; t < kNB_TYPES; ++t)
    {
        DataType in[11];
        for (DataType& d : in)
        {
            d = DataType::kFLOAT;
        }
        in[0] = static_cast<DataType>(t);
        DataType outType = static_cast<DataType>(-1);
        int32_t const rc = build->getOutputDataTypes(&outType, 1, in, 11);
        types.push_back("[" + std::to_string(t) + ", " + std::to_string(rc) + ", "
            + std::to_string(static_cast<int32_t>(outType)) + "]");
    }
    out.add("output_types", jsonArray(types));
    DataType dummy = DataType::kFLOAT;
    DataType ins[10] = {};
    out.addInt("output_types_bad_count_rc", build->getOutputDataTypes(&dummy, 1, ins, 10));

    // getOutputShapes with test expressions.
    TestExprBuilder eb;
    auto shapeCase = [&](std::vector<IDimensionExpr const*> const& x, int32_t nbInputs, int32_t badParam) {
        std::vector<std::vector<int64_t>> const params{{h1, c}, {h1}, {k, h1}, {k}, {k}, {k}, {k, c}, {k, c}, {c}, {c}};
        DimsExprs in[11]{};
        in[0].nbDims = static_cast<int32_t>(x.size());
        for (size_t i = 0; i < x.size(); ++i)
        {
            in[0].d[i] = x[i];
        }
        for (size_t p = 0; p < params.size(); ++p)
        {
            in[p + 1].nbDims = static_cast<int32_t>(params[p].size()) + (static_cast<int32_t>(p) == badParam ? 1 : 0);
            for (int32_t j = 0; j < in[p + 1].nbDims; ++j)
            {
                in[p + 1].d[j] = eb.constant(j < static_cast<int32_t>(params[p].size()) ? params[p][j] : 1);
            }
        }
        DimsExprs outDims{};
        int32_t const rc = build->getOutputShapes(in, nbInputs, nullptr, 0, &outDims, 1, eb);
        bool same = rc == 0 && outDims.nbDims == in[0].nbDims;
        for (int32_t i = 0; same && i < outDims.nbDims; ++i)
        {
            same = outDims.d[i] == in[0].d[i];
        }
        return JsonObject()
            .addInt("rc", rc)
            .add("dims", rc == 0 ? exprsJson(outDims) : "null")
            .addBool("same_exprs", same)
            .str();
    };
    JsonObject shapes;
    shapes.add("static", shapeCase({eb.constant(2), eb.constant(c), eb.constant(5), eb.constant(7)}, 11, -1));
    shapes.add("dynamic", shapeCase({eb.symbol(), eb.constant(c), eb.symbol(), eb.symbol()}, 11, -1));
    shapes.add("dynamic_channels", shapeCase({eb.symbol(), eb.symbol(), eb.symbol(), eb.symbol()}, 11, -1));
    shapes.add("wrong_channels", shapeCase({eb.constant(2), eb.constant(c + 1), eb.constant(5), eb.constant(7)}, 11, -1));
    shapes.add("rank3", shapeCase({eb.constant(c), eb.constant(5), eb.constant(7)}, 11, -1));
    shapes.add("wrong_param_rank", shapeCase({eb.constant(2), eb.constant(c), eb.constant(5), eb.constant(7)}, 11, 0));
    shapes.add("nb_inputs_10", shapeCase({eb.constant(2), eb.constant(c), eb.constant(5), eb.constant(7)}, 10, -1));
    out.add("shapes", shapes.str());

    // configurePlugin / onShapeChange.
    auto configure = [&](std::vector<DynamicPluginTensorDesc> io) {
        return build->configurePlugin(io.data(), 11, io.data() + 11, 1);
    };
    auto shapeChange = [&](std::vector<DynamicPluginTensorDesc> const& io) {
        std::vector<PluginTensorDesc> d;
        for (auto const& t : io)
        {
            d.push_back(t.desc);
        }
        return runtime->onShapeChange(d.data(), 11, d.data() + 11, 1);
    };
    std::vector<DynamicPluginTensorDesc> good = ioDescs(c, k, h1, {2, c, 5, 7});
    std::vector<DynamicPluginTensorDesc> dynamic = ioDescs(c, k, h1, {-1, c, -1, -1});
    dynamic[0].max = tensorDesc({8, c, 16, 16}, DataType::kFLOAT, TensorFormat::kLINEAR).desc.dims;
    std::vector<DynamicPluginTensorDesc> badW1 = ioDescs(c, k, h1, {2, c, 5, 7});
    badW1[1] = tensorDesc({h1, c + 1}, DataType::kFLOAT, TensorFormat::kLINEAR);
    std::vector<DynamicPluginTensorDesc> badMix = ioDescs(c, k, h1, {2, c, 5, 7});
    badMix[7] = tensorDesc({k + 1, c}, DataType::kFLOAT, TensorFormat::kLINEAR);
    std::vector<DynamicPluginTensorDesc> badC = ioDescs(c, k, h1, {2, c + 1, 5, 7});
    std::vector<DynamicPluginTensorDesc> rank3 = ioDescs(c, k, h1, {c, 5, 7});
    out.add("configure", JsonObject()
                             .addInt("good", configure(good))
                             .addInt("dynamic", configure(dynamic))
                             .addInt("bad_attn_w1", configure(badW1))
                             .addInt("bad_mix_weight", configure(badMix))
                             .addInt("bad_channels", configure(badC))
                             .addInt("rank3", configure(rank3))
                             .addInt("bad_count", build->configurePlugin(good.data(), 10, good.data() + 11, 1))
                             .str());
    out.add("shape_change", JsonObject()
                                .addInt("good", shapeChange(good))
                                .addInt("dynamic_dims", shapeChange(dynamic))
                                .addInt("bad_attn_w1", shapeChange(badW1))
                                .addInt("bad_channels", shapeChange(badC))
                                .str());
    out.addInt("workspace_n8", static_cast<int64_t>(build->getWorkspaceSize(dynamic.data(), 11, dynamic.data() + 11, 1)));
    out.addInt("workspace_n2", static_cast<int64_t>(build->getWorkspaceSize(good.data(), 11, good.data() + 11, 1)));
    out.addInt("nb_outputs", build->getNbOutputs());

    // enqueue with an unsupported format must fail before any CUDA call.
    std::vector<PluginTensorDesc> d;
    for (auto const& t : good)
    {
        d.push_back(t.desc);
    }
    d[0].format = TensorFormat::kCHW32;
    d[11].format = TensorFormat::kCHW32;
    out.addInt("enqueue_bad_format_rc", runtime->enqueue(d.data(), d.data() + 11, nullptr, nullptr, nullptr, nullptr));
    out.add("log", jsonStringArray(gLogger.take()));
    std::cout << out.str() << std::endl;
    delete plugin;
    return 0;
}

int cmdFuzz(IPluginCreatorV3One* creator, FieldSet& valid, uint32_t seed, int64_t iterations)
{
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int32_t> pick(0, 99);
    gLogger.mQuiet = true;
    int64_t created = 0;
    int64_t rejected = 0;
    int64_t silentRejections = 0;
    int64_t mismatchedRoundtrips = 0;
    PluginFieldCollection const* base = valid.collection();
    for (int64_t it = 0; it < iterations; ++it)
    {
        FieldSet fields;
        PluginFieldCollection special{};
        PluginFieldCollection const* fc = nullptr;
        int32_t const mode = pick(rng);
        if (mode < 50)
        {
            randomFields(rng, fields);
            fc = fields.collection();
        }
        else if (mode < 90) // truncated or mutated copy of a valid serialized collection
        {
            FieldSet copy;
            copy.copyFrom(*base);
            PluginFieldCollection const* full = copy.collection();
            int32_t const keep = pick(rng) % (full->nbFields + 1);
            PluginFieldCollection cut{keep, full->fields};
            fields.copyFrom(cut);
            fc = fields.collection();
            if (keep > 0 && pick(rng) < 50)
            {
                auto* f = const_cast<PluginField*>(&fc->fields[pick(rng) % keep]);
                int32_t const what = pick(rng) % 4;
                if (what == 0)
                {
                    f->length = 0;
                }
                else if (what == 1)
                {
                    f->data = nullptr;
                }
                else if (what == 2)
                {
                    f->type = static_cast<PluginFieldType>(pick(rng) % 14);
                }
                else if (f->data != nullptr)
                {
                    auto* bytes = static_cast<uint8_t*>(const_cast<void*>(f->data));
                    bytes[pick(rng) % 4] ^= static_cast<uint8_t>(1 + pick(rng));
                }
            }
        }
        else if (mode < 94)
        {
            special.nbFields = -1 - pick(rng);
            special.fields = base->fields;
            fc = &special;
        }
        else if (mode < 97)
        {
            special.nbFields = 1 + pick(rng) % 12;
            special.fields = nullptr;
            fc = &special;
        }
        // else: fc stays null
        int64_t const logsBefore = gLogger.mCount;
        TensorRTPhase const phase = pick(rng) < 50 ? TensorRTPhase::kBUILD : TensorRTPhase::kRUNTIME;
        IPluginV3* plugin = creator->createPlugin(pick(rng) < 10 ? nullptr : "fuzz", fc, phase);
        if (plugin == nullptr)
        {
            ++rejected;
            silentRejections += gLogger.mCount == logsBefore ? 1 : 0;
            continue;
        }
        ++created;
        FieldSet again;
        again.copyFrom(*runtimeOf(plugin)->getFieldsToSerialize());
        IPluginV3* restored = creator->createPlugin("fuzz", again.collection(), TensorRTPhase::kRUNTIME);
        IPluginV3* cloned = restored != nullptr ? restored->clone() : nullptr;
        if (cloned == nullptr
            || fieldsJson(runtimeOf(cloned)->getFieldsToSerialize()) != fieldsJson(runtimeOf(plugin)->getFieldsToSerialize()))
        {
            ++mismatchedRoundtrips;
        }
        delete cloned;
        delete restored;
        delete plugin;
    }
    std::cout << JsonObject()
                     .addInt("iterations", iterations)
                     .addInt("created", created)
                     .addInt("rejected", rejected)
                     .addInt("rejected_without_log", silentRejections)
                     .addInt("mismatched_roundtrips", mismatchedRoundtrips)
                     .str()
              << std::endl;
    return 0;
}

//! configurePlugin and onShapeChange for tensor shapes given on the command line ("2,8,5,7" for X, then one per
//! parameter input, "" for a scalar): lets the Python tests compare the plugin's shape rules with spec.input_shapes.
int cmdConfigure(IPluginCreatorV3One* creator, FieldSet& fields, std::vector<std::string> const& shapeArgs)
{
    IPluginV3* plugin = createFrom(creator, fields, TensorRTPhase::kBUILD);
    if (plugin == nullptr)
    {
        std::cout << JsonObject().addBool("ok", false).add("log", jsonStringArray(gLogger.take())).str() << std::endl;
        return 0;
    }
    std::vector<DynamicPluginTensorDesc> io;
    for (std::string const& arg : shapeArgs)
    {
        std::vector<int64_t> dims;
        std::stringstream in(arg);
        for (std::string item; std::getline(in, item, ',');)
        {
            dims.push_back(std::stoll(item));
        }
        io.push_back(tensorDesc(dims, DataType::kFLOAT, TensorFormat::kLINEAR));
    }
    int32_t const nbInputs = static_cast<int32_t>(io.size());
    io.push_back(io.empty() ? tensorDesc({}, DataType::kFLOAT, TensorFormat::kLINEAR) : io.front());
    int32_t const configured = buildOf(plugin)->configurePlugin(io.data(), nbInputs, io.data() + nbInputs, 1);
    std::vector<PluginTensorDesc> d;
    for (auto const& t : io)
    {
        d.push_back(t.desc);
    }
    int32_t const changed = runtimeOf(plugin)->onShapeChange(d.data(), nbInputs, d.data() + nbInputs, 1);
    std::cout << JsonObject()
                     .addBool("ok", true)
                     .addInt("configure", configured)
                     .addInt("shape_change", changed)
                     .add("log", jsonStringArray(gLogger.take()))
                     .str()
              << std::endl;
    delete plugin;
    return 0;
}

int usage()
{
    std::cerr << "usage: attentive_norm_host_test PLUGIN.so info|create [build|runtime]|roundtrip|formats|queries|"
                 "fuzz SEED ITERATIONS|configure X_DIMS PARAM_DIMS...  (fields on stdin)\n";
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3)
    {
        return usage();
    }
    Library lib;
    lib.handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == nullptr)
    {
        std::cerr << "dlopen failed: " << dlerror() << "\n";
        return 3;
    }
    lib.getCreators = reinterpret_cast<GetCreatorsFn>(dlsym(lib.handle, "getCreators"));
    lib.setLoggerFinder = reinterpret_cast<SetLoggerFinderFn>(dlsym(lib.handle, "setLoggerFinder"));
    if (lib.getCreators == nullptr || lib.setLoggerFinder == nullptr)
    {
        std::cerr << "getCreators/setLoggerFinder not exported\n";
        return 3;
    }
    std::string const cmd = argv[2];
    if (cmd != "stderr_log") // "stderr_log": leave the finder unset to check the stderr fallback
    {
        lib.setLoggerFinder(&gFinder);
    }
    if (cmd == "info")
    {
        return cmdInfo(lib);
    }
    IPluginCreatorV3One* creator = v3Creator(lib);
    if (creator == nullptr)
    {
        std::cerr << "no IPluginCreatorV3One creator\n";
        return 3;
    }
    FieldSet fields;
    std::string error;
    if (!parseFieldText(std::cin, fields, error))
    {
        std::cerr << error << "\n";
        return 2;
    }
    int rc = 0;
    if (cmd == "create" || cmd == "stderr_log")
    {
        bool const runtime = argc > 3 && std::string(argv[3]) == "runtime";
        rc = cmdCreate(creator, fields, runtime ? TensorRTPhase::kRUNTIME : TensorRTPhase::kBUILD);
    }
    else if (cmd == "roundtrip")
    {
        rc = cmdRoundtrip(creator, fields);
    }
    else if (cmd == "formats")
    {
        rc = cmdFormats(creator, fields);
    }
    else if (cmd == "queries")
    {
        rc = cmdQueries(creator, fields);
    }
    else if (cmd == "configure")
    {
        rc = cmdConfigure(creator, fields, std::vector<std::string>(argv + 3, argv + argc));
    }
    else if (cmd == "fuzz" && argc > 4)
    {
        rc = cmdFuzz(creator, fields, static_cast<uint32_t>(std::stoul(argv[3])), std::stoll(argv[4]));
    }
    else
    {
        rc = usage();
    }
    lib.setLoggerFinder(nullptr);
    // The library is intentionally not dlclose'd: the creator is a function-local static.
    return rc;
}
