// Float64 CPU reference of the AttentiveNorm op (spec.py docstring), for the GPU harness.
#ifndef AN_DEPLOY_GPU_HARNESS_REFERENCE_H
#define AN_DEPLOY_GPU_HARNESS_REFERENCE_H

#include "attentiveNormApi.h"

#include <cstdint>
#include <vector>

namespace an_test
{

//! params: the 10 parameter tensors in spec.PARAM_INPUTS order. x and the result are linear NCHW.
std::vector<double> referenceForward(std::vector<double> const& x, std::vector<std::vector<float>> const& params,
    AnAttentiveNormAttributes const& a, int64_t n, int64_t h, int64_t w);

} // namespace an_test

#endif // AN_DEPLOY_GPU_HARNESS_REFERENCE_H
