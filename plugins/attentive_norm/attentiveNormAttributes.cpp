#include "attentiveNormAttributes.h"

#include <cmath>
#include <cstddef>
#include <sstream>

namespace an_deploy
{
namespace plugin
{

std::array<AttributeSpec, kNB_ATTRIBUTES> const kATTRIBUTES{{
    {"num_channels", false, true, 0.0},
    {"num_affine", false, true, 0.0},
    {"attn_hidden", false, true, 0.0},
    {"norm_type", false, false, 0.0},
    {"num_groups", false, false, 1.0},
    {"epsilon", true, false, 1e-5},
    {"attn_input", false, false, 0.0},
    {"eps_var", true, false, 1e-3},
    {"hidden_activation", false, false, 0.0},
    {"attn_norm_groups", false, false, 0.0},
    {"attn_norm_eps", true, false, 1e-5},
    {"activation", false, false, 1.0},
}};

std::array<char const*, 10> const kPARAM_NAMES{{"attn_w1", "attn_b1", "attn_w2", "attn_b2", "attn_scale",
    "attn_shift", "mix_weight", "mix_bias", "norm_scale", "norm_shift"}};

namespace
{
// Offsets follow the struct (which follows spec.ATTRIBUTES); checked by the static_asserts below.
std::array<size_t, kNB_ATTRIBUTES> const kOFFSETS{{
    offsetof(AnAttentiveNormAttributes, num_channels),
    offsetof(AnAttentiveNormAttributes, num_affine),
    offsetof(AnAttentiveNormAttributes, attn_hidden),
    offsetof(AnAttentiveNormAttributes, norm_type),
    offsetof(AnAttentiveNormAttributes, num_groups),
    offsetof(AnAttentiveNormAttributes, epsilon),
    offsetof(AnAttentiveNormAttributes, attn_input),
    offsetof(AnAttentiveNormAttributes, eps_var),
    offsetof(AnAttentiveNormAttributes, hidden_activation),
    offsetof(AnAttentiveNormAttributes, attn_norm_groups),
    offsetof(AnAttentiveNormAttributes, attn_norm_eps),
    offsetof(AnAttentiveNormAttributes, activation),
}};
static_assert(sizeof(AnAttentiveNormAttributes) == kNB_ATTRIBUTES * 4, "one 4-byte slot per attribute");
static_assert(sizeof(float) == 4 && sizeof(int32_t) == 4, "attribute slots are 4 bytes");

std::string describe(double value)
{
    std::ostringstream out;
    out << value;
    return out.str();
}
} // namespace

AnAttentiveNormAttributes defaultAttributes() noexcept
{
    AnAttentiveNormAttributes attrs{};
    for (int32_t i = 0; i < kNB_ATTRIBUTES; ++i)
    {
        void* slot = attributeAddress(attrs, i);
        if (kATTRIBUTES[i].isFloat)
        {
            *static_cast<float*>(slot) = static_cast<float>(kATTRIBUTES[i].defaultValue);
        }
        else
        {
            *static_cast<int32_t*>(slot) = static_cast<int32_t>(kATTRIBUTES[i].defaultValue);
        }
    }
    return attrs;
}

void* attributeAddress(AnAttentiveNormAttributes& attrs, int32_t index) noexcept
{
    return reinterpret_cast<char*>(&attrs) + kOFFSETS[static_cast<size_t>(index)];
}

void const* attributeAddress(AnAttentiveNormAttributes const& attrs, int32_t index) noexcept
{
    return reinterpret_cast<char const*>(&attrs) + kOFFSETS[static_cast<size_t>(index)];
}

std::vector<std::string> attributeErrors(AnAttentiveNormAttributes const& a)
{
    std::vector<std::string> errors;
    struct Named
    {
        char const* name;
        int32_t value;
    };
    for (Named const& v : {Named{"num_channels", a.num_channels}, Named{"num_affine", a.num_affine},
             Named{"attn_hidden", a.attn_hidden}, Named{"num_groups", a.num_groups}})
    {
        if (v.value < 1)
        {
            errors.push_back(std::string(v.name) + " must be >= 1, got " + std::to_string(v.value));
        }
    }
    struct NamedF
    {
        char const* name;
        float value;
    };
    for (NamedF const& v :
        {NamedF{"epsilon", a.epsilon}, NamedF{"eps_var", a.eps_var}, NamedF{"attn_norm_eps", a.attn_norm_eps}})
    {
        if (!(v.value > 0.0F)) // also rejects NaN, like spec.py
        {
            errors.push_back(std::string(v.name) + " must be > 0, got " + describe(v.value));
        }
    }
    struct Enum
    {
        char const* name;
        int32_t value;
        int32_t count;
        char const* allowed;
    };
    for (Enum const& e : {Enum{"norm_type", a.norm_type, 2, "0 (batch), 1 (group)"},
             Enum{"attn_input", a.attn_input, 3, "0 (rsd), 1 (avg), 2 (avg_max)"},
             Enum{"hidden_activation", a.hidden_activation, 2, "0 (identity), 1 (relu)"},
             Enum{"activation", a.activation, 3, "0 (sigmoid), 1 (hsigmoid), 2 (softmax)"}})
    {
        if (e.value < 0 || e.value >= e.count)
        {
            errors.push_back(
                std::string(e.name) + " must be one of " + e.allowed + ", got " + std::to_string(e.value));
        }
    }
    if (a.norm_type == static_cast<int32_t>(NormType::kGROUP) && a.num_groups >= 1
        && a.num_channels % a.num_groups != 0)
    {
        errors.push_back("num_groups " + std::to_string(a.num_groups) + " does not divide num_channels "
            + std::to_string(a.num_channels));
    }
    if (a.attn_norm_groups < 0 || (a.attn_norm_groups > 0 && a.num_affine % a.attn_norm_groups != 0))
    {
        errors.push_back("attn_norm_groups " + std::to_string(a.attn_norm_groups)
            + " must be 0 or divide num_affine " + std::to_string(a.num_affine));
    }
    return errors;
}

std::vector<int64_t> expectedParamShape(AnAttentiveNormAttributes const& a, int32_t paramIndex)
{
    int64_t const c = a.num_channels;
    int64_t const k = a.num_affine;
    int64_t const h1 = a.attn_hidden;
    switch (paramIndex)
    {
    case 0: return {h1, c};
    case 1: return {h1};
    case 2: return {k, h1};
    case 3:
    case 4:
    case 5: return {k};
    case 6:
    case 7: return {k, c};
    case 8:
    case 9: return {c};
    default: return {};
    }
}

std::string joinErrors(std::vector<std::string> const& errors)
{
    std::string out;
    for (std::string const& e : errors)
    {
        out += (out.empty() ? "" : "; ") + e;
    }
    return out;
}

} // namespace plugin
} // namespace an_deploy
