/*
 * The hand-written half of the op contract: the validation rules (spec.attribute_errors) and the expected
 * parameter shapes (spec.input_shapes), over the tables generated into attentiveNormContract.h (kATTRIBUTES,
 * kENUM_ATTRIBUTES, kPARAM_NAMES, the enums). Host code, no CUDA, no TensorRT.
 */
#ifndef AN_DEPLOY_ATTENTIVE_NORM_ATTRIBUTES_H
#define AN_DEPLOY_ATTENTIVE_NORM_ATTRIBUTES_H

#include "attentiveNormApi.h"
#include "attentiveNormContract.h"

#include <cstdint>
#include <string>
#include <vector>

namespace an_deploy
{
namespace plugin
{

//! Attributes with every optional field at its default and the required ones 0.
AnAttentiveNormAttributes defaultAttributes() noexcept;

//! Address of attribute `index` inside `attrs` (int32_t* or float* depending on kATTRIBUTES[index].isFloat).
void* attributeAddress(AnAttentiveNormAttributes& attrs, int32_t index) noexcept;
void const* attributeAddress(AnAttentiveNormAttributes const& attrs, int32_t index) noexcept;

//! Every broken rule of spec.attribute_errors, empty if the attributes are valid.
std::vector<std::string> attributeErrors(AnAttentiveNormAttributes const& attrs);

//! Expected shape of parameter input `paramIndex` (a ParamIndex), spec.input_shapes.
std::vector<int64_t> expectedParamShape(AnAttentiveNormAttributes const& attrs, int32_t paramIndex);

//! The errors joined with "; " (the form spec.resolve_attributes and the plugin log use).
std::string joinErrors(std::vector<std::string> const& errors);

} // namespace plugin
} // namespace an_deploy

#endif // AN_DEPLOY_ATTENTIVE_NORM_ATTRIBUTES_H
