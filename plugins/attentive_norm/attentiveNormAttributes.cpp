#include "attentiveNormAttributes.h"

#include <cmath>
#include <cstddef>
#include <sstream>

namespace an_deploy
{
namespace plugin
{

namespace
{
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
    return reinterpret_cast<char*>(&attrs) + kATTRIBUTE_OFFSETS[static_cast<size_t>(index)];
}

void const* attributeAddress(AnAttentiveNormAttributes const& attrs, int32_t index) noexcept
{
    return reinterpret_cast<char const*>(&attrs) + kATTRIBUTE_OFFSETS[static_cast<size_t>(index)];
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
    for (EnumAttributeSpec const& e : kENUM_ATTRIBUTES)
    {
        int32_t const value = *static_cast<int32_t const*>(attributeAddress(a, e.attribute));
        if (value < 0 || value >= e.count)
        {
            errors.push_back(std::string(kATTRIBUTES[static_cast<size_t>(e.attribute)].name) + " must be one of "
                + e.allowed + ", got " + std::to_string(value));
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
    case kPARAM_ATTN_W1: return {h1, c};
    case kPARAM_ATTN_B1: return {h1};
    case kPARAM_ATTN_W2: return {k, h1};
    case kPARAM_ATTN_B2:
    case kPARAM_ATTN_SCALE:
    case kPARAM_ATTN_SHIFT: return {k};
    case kPARAM_MIX_WEIGHT:
    case kPARAM_MIX_BIAS: return {k, c};
    case kPARAM_NORM_SCALE:
    case kPARAM_NORM_SHIFT: return {c};
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
