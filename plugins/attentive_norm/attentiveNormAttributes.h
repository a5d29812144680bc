/*
 * The attribute table of the op (spec.ATTRIBUTES in C++), its validation rules (spec.attribute_errors)
 * and the expected parameter shapes (spec.input_shapes). Host code, no CUDA, no TensorRT.
 */
#ifndef AN_DEPLOY_ATTENTIVE_NORM_ATTRIBUTES_H
#define AN_DEPLOY_ATTENTIVE_NORM_ATTRIBUTES_H

#include "attentiveNormApi.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace an_deploy
{
namespace plugin
{

enum class NormType : int32_t { kBATCH = 0, kGROUP = 1 };
enum class AttnInput : int32_t { kRSD = 0, kAVG = 1, kAVG_MAX = 2 };
enum class HiddenActivation : int32_t { kIDENTITY = 0, kRELU = 1 };
enum class Activation : int32_t { kSIGMOID = 0, kHSIGMOID = 1, kSOFTMAX = 2 };

//! One attribute of the contract: INT attributes are int32, FLOAT attributes float32.
struct AttributeSpec
{
    char const* name;
    bool isFloat;
    bool required;
    double defaultValue;
};

constexpr int32_t kNB_ATTRIBUTES = 12;

//! spec.ATTRIBUTES, same names, order, types and defaults.
extern std::array<AttributeSpec, kNB_ATTRIBUTES> const kATTRIBUTES;

//! Attributes with every optional field at its default and the required ones 0.
AnAttentiveNormAttributes defaultAttributes() noexcept;

//! Address of attribute `index` inside `attrs` (int32_t* or float* depending on kATTRIBUTES[index].isFloat).
void* attributeAddress(AnAttentiveNormAttributes& attrs, int32_t index) noexcept;
void const* attributeAddress(AnAttentiveNormAttributes const& attrs, int32_t index) noexcept;

//! Every broken rule of spec.attribute_errors, empty if the attributes are valid.
std::vector<std::string> attributeErrors(AnAttentiveNormAttributes const& attrs);

//! Expected shape of parameter input `paramIndex` (0 = attn_w1 ... 9 = norm_shift), spec.input_shapes.
std::vector<int64_t> expectedParamShape(AnAttentiveNormAttributes const& attrs, int32_t paramIndex);

//! spec.PARAM_INPUTS names.
extern std::array<char const*, 10> const kPARAM_NAMES;

std::string joinErrors(std::vector<std::string> const& errors);

} // namespace plugin
} // namespace an_deploy

#endif // AN_DEPLOY_ATTENTIVE_NORM_ATTRIBUTES_H
