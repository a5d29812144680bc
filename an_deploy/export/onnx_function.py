"""The model-local ONNX function ``an_deploy.AttentiveNorm``: the fused op of ``spec.py`` in standard ONNX ops.

The body is an ``onnxscript`` function: values are wired by Python variables, ``if`` statements become ONNX
``If`` nodes and each attribute parameter reaches the body as a ``Constant`` referencing the node attribute
(``ref_attr_name``). One function serves every AN layer of a model. Selections are arranged so ONNX Runtime
only pays for what a layer uses:

* the expensive, per-element branches over X (unbiased variance / spatial max for the attention input,
  group statistics for the GROUP normaliser) sit in ``If`` nodes on attribute-derived conditions;
* the cheap [N, K] / [N, H1] selections (hidden ReLU, logit group norm, activation) use ``Where``.

Arithmetic is float32 (X is cast in and the result cast back, so float16 X works); the normaliser and the
mixture collapse into one per-(n, c) affine ``Y = xn * A + B`` with ``A = gamma * norm_scale`` and
``B = gamma * norm_shift + beta``. For H*W == 1 the variance divisor is ``max(L - 1, 1)`` (variance 0).

The signature lists the attributes in ``spec.ATTRIBUTES`` order and takes their defaults from it; a test
checks the resulting FunctionProto against the contract.
"""

from __future__ import annotations

import onnx
from onnxscript import opset18 as op
from onnxscript import script
from onnxscript.values import Opset

from an_deploy import spec

MIN_OPSET = 18  # ReduceMean/ReduceMax/ReduceSum take axes as an input from opset 18 on
MAX_OPSET = 23
IR_VERSION = 10  # model-local functions with attribute defaults need IR >= 9; ORT 1.18+ reads IR 10
_FLOAT = onnx.TensorProto.FLOAT
_AN_OPSET = Opset(spec.DOMAIN, spec.OP_VERSION)
_DEFAULT = {a.name: a.default for a in spec.ATTRIBUTES}


@script(_AN_OPSET, default_opset=op)
def AttentiveNorm(  # noqa: N802 -- the function's name is the op's name
    X,  # noqa: N803 -- input names are the contract's
    attn_w1,
    attn_b1,
    attn_w2,
    attn_b2,
    attn_scale,
    attn_shift,
    mix_weight,
    mix_bias,
    norm_scale,
    norm_shift,
    num_channels: int,
    num_affine: int,
    attn_hidden: int,
    norm_type: int = _DEFAULT["norm_type"],
    num_groups: int = _DEFAULT["num_groups"],
    epsilon: float = _DEFAULT["epsilon"],
    attn_input: int = _DEFAULT["attn_input"],
    eps_var: float = _DEFAULT["eps_var"],
    hidden_activation: int = _DEFAULT["hidden_activation"],
    attn_norm_groups: int = _DEFAULT["attn_norm_groups"],
    attn_norm_eps: float = _DEFAULT["attn_norm_eps"],
    activation: int = _DEFAULT["activation"],
):
    axes_0 = op.Constant(value_ints=[0])
    axes_2 = op.Constant(value_ints=[2])
    axes_23 = op.Constant(value_ints=[2, 3])
    zero_1 = op.Constant(value_ints=[0])
    minus_one_1 = op.Constant(value_ints=[-1])
    zero_i = op.Constant(value_int=0)
    one_i = op.Constant(value_int=1)
    two_i = op.Constant(value_int=2)
    norm_type_v = op.Constant(value_int=norm_type)
    num_groups_v = op.Constant(value_int=num_groups)
    epsilon_v = op.Constant(value_float=epsilon)
    attn_input_v = op.Constant(value_int=attn_input)
    eps_var_v = op.Constant(value_float=eps_var)
    hidden_activation_v = op.Constant(value_int=hidden_activation)
    attn_norm_groups_v = op.Constant(value_int=attn_norm_groups)
    attn_norm_eps_v = op.Constant(value_float=attn_norm_eps)
    activation_v = op.Constant(value_int=activation)

    xf = op.Cast(X, to=_FLOAT)
    flat = op.Reshape(xf, op.Constant(value_ints=[0, 0, -1]))
    mu = op.ReduceMean(flat, axes_2, keepdims=0)

    # attention input u [N, C]: RSD, else AVG_MAX or AVG
    if op.Equal(attn_input_v, zero_i):
        dev = op.Sub(flat, op.Unsqueeze(mu, axes_2))
        ss = op.ReduceSum(op.Mul(dev, dev), axes_2, keepdims=0)
        length = op.Shape(flat, start=2, end=3)
        dof = op.Cast(op.Max(op.Sub(length, one_i), one_i), to=_FLOAT)
        sd = op.Sqrt(op.Add(op.Div(ss, dof), eps_var_v))
        u = op.Div(mu, sd)
    else:
        if op.Equal(attn_input_v, two_i):
            u = op.Add(mu, op.ReduceMax(flat, axes_2, keepdims=0))
        else:
            u = op.Identity(mu)

    # attention weights lam [N, K]: two Gemms, optional ReLU, optional logit group norm, affine, activation
    h = op.Gemm(u, attn_w1, attn_b1, transB=1)
    h_act = op.Where(op.Equal(hidden_activation_v, one_i), op.Relu(h), h)
    z = op.Gemm(h_act, attn_w2, attn_b2, transB=1)
    # logit group norm over attn_norm_groups groups (computed with max(G, 1) groups, selected if G > 0)
    gn_groups = op.Unsqueeze(op.Max(attn_norm_groups_v, one_i), axes_0)
    zg = op.Reshape(z, op.Concat(zero_1, gn_groups, minus_one_1, axis=0))
    zg_dev = op.Sub(zg, op.ReduceMean(zg, axes_2, keepdims=1))
    zg_var = op.ReduceMean(op.Mul(zg_dev, zg_dev), axes_2, keepdims=1)
    zg_n = op.Div(zg_dev, op.Sqrt(op.Add(zg_var, attn_norm_eps_v)))
    z_gn = op.Reshape(zg_n, op.Shape(z))
    z_norm = op.Where(op.Greater(attn_norm_groups_v, zero_i), z_gn, z)
    logits = op.Add(op.Mul(z_norm, attn_scale), attn_shift)
    lam_not_sigmoid = op.Where(
        op.Equal(activation_v, one_i),
        op.HardSigmoid(logits, alpha=0.16666666666666666, beta=0.5),
        op.Softmax(logits, axis=-1),
    )
    lam = op.Where(op.Equal(activation_v, zero_i), op.Sigmoid(logits), lam_not_sigmoid)

    # Y: per-(n, c) affine A, B; the GROUP normaliser in an If (BATCH uses X as it is)
    gamma = op.MatMul(lam, mix_weight)
    beta = op.MatMul(lam, mix_bias)
    a_nc = op.Unsqueeze(op.Mul(gamma, norm_scale), axes_23)
    b_nc = op.Unsqueeze(op.Add(op.Mul(gamma, norm_shift), beta), axes_23)
    if op.Equal(norm_type_v, one_i):
        groups_1 = op.Unsqueeze(num_groups_v, axes_0)
        xg = op.Reshape(xf, op.Concat(zero_1, groups_1, minus_one_1, axis=0))
        xg_dev = op.Sub(xg, op.ReduceMean(xg, axes_2, keepdims=1))
        xg_var = op.ReduceMean(op.Mul(xg_dev, xg_dev), axes_2, keepdims=1)
        xg_n = op.Div(xg_dev, op.Sqrt(op.Add(xg_var, epsilon_v)))
        xn = op.Reshape(xg_n, op.Shape(xf))
    else:
        xn = op.Identity(xf)
    Y = op.CastLike(op.Add(op.Mul(xn, a_nc), b_nc), X)  # noqa: N806 -- the contract's output name
    return Y


def build_function(opset: int) -> onnx.FunctionProto:
    """The ``an_deploy.AttentiveNorm`` function for a model whose default-domain opset is ``opset``.

    Args:
        opset: the model's ``ai.onnx`` opset (the function imports the same version).

    Returns:
        The FunctionProto: inputs ``spec.INPUTS``, output ``Y``, attributes ``spec.ATTRIBUTES`` (defaults
        from the contract, the required ones without a default).

    Raises:
        ValueError: ``opset`` outside ``MIN_OPSET``..``MAX_OPSET``.
    """
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"the AttentiveNorm function needs opset {MIN_OPSET}..{MAX_OPSET}, got {opset}")
    function = AttentiveNorm.to_function_proto()
    # the body uses no op whose definition changes between MIN_OPSET and MAX_OPSET: import the model's opset
    imports = [onnx.helper.make_opsetid("", opset)]
    imports += [o for o in function.opset_import if o.domain not in ("", "ai.onnx", spec.DOMAIN)]
    del function.opset_import[:]
    function.opset_import.extend(imports)
    function.doc_string = "AttentiveNorm (an_deploy, version 1) in standard ONNX ops; see an_deploy/spec.py."
    return function
