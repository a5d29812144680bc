"""The model-local ONNX function ``an_deploy.AttentiveNorm``: the fused op of ``spec.py`` in standard ONNX ops.

One function serves every AN layer of a model; the node attributes reach the body through attribute
references (``Constant`` with ``ref_attr_name``). Selections are arranged so ONNX Runtime only pays for
what a layer uses:

* the expensive, per-element branches over X (unbiased variance / spatial max for the attention input,
  group statistics for the GROUP normaliser) sit in ``If`` nodes on attribute-derived conditions;
* the cheap [N, K] / [N, H1] selections (hidden ReLU, logit group norm, activation) use ``Where``.

Arithmetic is float32 (X is cast in and the result cast back, so float16 X works); the normaliser and the
mixture collapse into one per-(n, c) affine ``Y = xn * A + B`` with ``A = gamma * norm_scale`` and
``B = gamma * norm_shift + beta``. For H*W == 1 the variance divisor is ``max(L - 1, 1)`` (variance 0).
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from an_deploy import spec

MIN_OPSET = 18  # ReduceMean/ReduceMax/ReduceSum take axes as an input from opset 18 on
MAX_OPSET = 23
FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64


def _node(op: str, inputs: list[str], outputs: list[str], **attrs: object) -> onnx.NodeProto:
    return helper.make_node(op, inputs, outputs, **attrs)


def _attr_constant(output: str, attr_name: str) -> onnx.NodeProto:
    """``Constant`` whose value is the function attribute ``attr_name`` (an attribute reference)."""
    a = spec.attribute(attr_name)
    node = helper.make_node("Constant", [], [output])
    ref = onnx.AttributeProto()
    if a.type is spec.AttrType.INT:
        ref.name, ref.type = "value_int", onnx.AttributeProto.INT
    else:
        ref.name, ref.type = "value_float", onnx.AttributeProto.FLOAT
    ref.ref_attr_name = attr_name
    node.attribute.append(ref)
    return node


def _const(output: str, values: list[int] | int | float) -> onnx.NodeProto:
    if isinstance(values, list):
        tensor = helper.make_tensor(output, INT64, [len(values)], values)
    elif isinstance(values, int):
        tensor = helper.make_tensor(output, INT64, [], [values])
    else:
        tensor = helper.make_tensor(output, FLOAT, [], [values])
    return helper.make_node("Constant", [], [output], value=tensor)


def _branch(name: str, nodes: list[onnx.NodeProto], output: str) -> onnx.GraphProto:
    return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(output, FLOAT, None)])


def _attention_input_nodes() -> list[onnx.NodeProto]:
    """u [N, C] from flat [N, C, L] and mu [N, C]: RSD (If), else AVG_MAX (nested If) or AVG."""
    rsd = _branch(
        "rsd",
        [
            _node("Unsqueeze", ["mu", "axes_2"], ["mu_k"]),
            _node("Sub", ["flat", "mu_k"], ["dev"]),
            _node("Mul", ["dev", "dev"], ["dev2"]),
            _node("ReduceSum", ["dev2", "axes_2"], ["ss"], keepdims=0),
            _node("Sub", ["len", "one_i"], ["len_m1"]),
            _node("Max", ["len_m1", "one_i"], ["dof_i"]),
            _node("Cast", ["dof_i"], ["dof"], to=FLOAT),
            _node("Div", ["ss", "dof"], ["var"]),
            _node("Add", ["var", "eps_var"], ["var_eps"]),
            _node("Sqrt", ["var_eps"], ["sd"]),
            _node("Div", ["mu", "sd"], ["u_rsd"]),
        ],
        "u_rsd",
    )
    avg_max = _branch(
        "avg_max",
        [_node("ReduceMax", ["flat", "axes_2"], ["mx"], keepdims=0), _node("Add", ["mu", "mx"], ["u_avgmax"])],
        "u_avgmax",
    )
    avg = _branch("avg", [_node("Identity", ["mu"], ["u_avg"])], "u_avg")
    not_rsd = _branch(
        "not_rsd", [_node("If", ["is_avg_max"], ["u_other"], then_branch=avg_max, else_branch=avg)], "u_other"
    )
    return [
        _node("Shape", ["flat"], ["len"], start=2, end=3),
        _node("Equal", ["attn_input", "zero_i"], ["is_rsd"]),
        _node("Equal", ["attn_input", "two_i"], ["is_avg_max"]),
        _node("If", ["is_rsd"], ["u"], then_branch=rsd, else_branch=not_rsd),
    ]


def _attention_nodes() -> list[onnx.NodeProto]:
    """lam [N, K] from u [N, C]: two Gemms, optional ReLU, optional logit group norm, affine, activation."""
    return [
        _node("Gemm", ["u", "attn_w1", "attn_b1"], ["h"], transB=1),
        _node("Relu", ["h"], ["h_relu"]),
        _node("Equal", ["hidden_activation", "one_i"], ["is_relu"]),
        _node("Where", ["is_relu", "h_relu", "h"], ["h_act"]),
        _node("Gemm", ["h_act", "attn_w2", "attn_b2"], ["z"], transB=1),
        # logit group norm over attn_norm_groups groups (computed with max(G, 1) groups, selected if G > 0)
        _node("Greater", ["attn_norm_groups", "zero_i"], ["has_gn"]),
        _node("Max", ["attn_norm_groups", "one_i"], ["gn_groups"]),
        _node("Unsqueeze", ["gn_groups", "axes_0"], ["gn_groups_1"]),
        _node("Concat", ["zero_1", "gn_groups_1", "minus_one_1"], ["gn_shape"], axis=0),
        _node("Reshape", ["z", "gn_shape"], ["zg"]),
        _node("ReduceMean", ["zg", "axes_2"], ["zg_mean"], keepdims=1),
        _node("Sub", ["zg", "zg_mean"], ["zg_dev"]),
        _node("Mul", ["zg_dev", "zg_dev"], ["zg_dev2"]),
        _node("ReduceMean", ["zg_dev2", "axes_2"], ["zg_var"], keepdims=1),
        _node("Add", ["zg_var", "attn_norm_eps"], ["zg_var_eps"]),
        _node("Sqrt", ["zg_var_eps"], ["zg_sd"]),
        _node("Div", ["zg_dev", "zg_sd"], ["zg_n"]),
        _node("Shape", ["z"], ["z_shape"]),
        _node("Reshape", ["zg_n", "z_shape"], ["z_gn"]),
        _node("Where", ["has_gn", "z_gn", "z"], ["z_norm"]),
        _node("Mul", ["z_norm", "attn_scale"], ["z_scaled"]),
        _node("Add", ["z_scaled", "attn_shift"], ["logits"]),
        _node("Sigmoid", ["logits"], ["lam_sigmoid"]),
        _node("HardSigmoid", ["logits"], ["lam_hsigmoid"], alpha=1.0 / 6.0, beta=0.5),
        _node("Softmax", ["logits"], ["lam_softmax"], axis=-1),
        _node("Equal", ["activation", "zero_i"], ["is_sigmoid"]),
        _node("Equal", ["activation", "one_i"], ["is_hsigmoid"]),
        _node("Where", ["is_hsigmoid", "lam_hsigmoid", "lam_softmax"], ["lam_not_sigmoid"]),
        _node("Where", ["is_sigmoid", "lam_sigmoid", "lam_not_sigmoid"], ["lam"]),
    ]


def _output_nodes() -> list[onnx.NodeProto]:
    """Y from lam: per-(n, c) affine A, B, and the GROUP normaliser in an If (BATCH uses X as it is)."""
    group = _branch(
        "group_norm",
        [
            _node("Unsqueeze", ["num_groups", "axes_0"], ["groups_1"]),
            _node("Concat", ["zero_1", "groups_1", "minus_one_1"], ["g_shape"], axis=0),
            _node("Reshape", ["xf", "g_shape"], ["xg"]),
            _node("ReduceMean", ["xg", "axes_2"], ["xg_mean"], keepdims=1),
            _node("Sub", ["xg", "xg_mean"], ["xg_dev"]),
            _node("Mul", ["xg_dev", "xg_dev"], ["xg_dev2"]),
            _node("ReduceMean", ["xg_dev2", "axes_2"], ["xg_var"], keepdims=1),
            _node("Add", ["xg_var", "epsilon"], ["xg_var_eps"]),
            _node("Sqrt", ["xg_var_eps"], ["xg_sd"]),
            _node("Div", ["xg_dev", "xg_sd"], ["xg_n"]),
            _node("Shape", ["xf"], ["x_shape"]),
            _node("Reshape", ["xg_n", "x_shape"], ["xn_group"]),
        ],
        "xn_group",
    )
    batch = _branch("batch_norm", [_node("Identity", ["xf"], ["xn_batch"])], "xn_batch")
    return [
        _node("MatMul", ["lam", "mix_weight"], ["gamma"]),
        _node("MatMul", ["lam", "mix_bias"], ["beta"]),
        _node("Mul", ["gamma", "norm_scale"], ["a_nc"]),
        _node("Mul", ["gamma", "norm_shift"], ["gamma_shift"]),
        _node("Add", ["gamma_shift", "beta"], ["b_nc"]),
        _node("Unsqueeze", ["a_nc", "axes_23"], ["a_nc11"]),
        _node("Unsqueeze", ["b_nc", "axes_23"], ["b_nc11"]),
        _node("Equal", ["norm_type", "one_i"], ["is_group"]),
        _node("If", ["is_group"], ["xn"], then_branch=group, else_branch=batch),
        _node("Mul", ["xn", "a_nc11"], ["y_scaled"]),
        _node("Add", ["y_scaled", "b_nc11"], ["yf"]),
        _node("CastLike", ["yf", "X"], ["Y"]),
    ]


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
    nodes: list[onnx.NodeProto] = [_attr_constant(a.name, a.name) for a in spec.ATTRIBUTES]
    nodes += [
        _const("zero_i", 0),
        _const("one_i", 1),
        _const("two_i", 2),
        _const("axes_0", [0]),
        _const("axes_2", [2]),
        _const("axes_23", [2, 3]),
        _const("zero_1", [0]),
        _const("minus_one_1", [-1]),
        _const("flat_shape", [0, 0, -1]),
        _node("Cast", ["X"], ["xf"], to=FLOAT),
        _node("Reshape", ["xf", "flat_shape"], ["flat"]),
        _node("ReduceMean", ["flat", "axes_2"], ["mu"], keepdims=0),
    ]
    nodes += _attention_input_nodes() + _attention_nodes() + _output_nodes()
    function = helper.make_function(
        spec.DOMAIN,
        spec.FUNCTION_NAME,
        inputs=[t.name for t in spec.INPUTS],
        outputs=[t.name for t in spec.OUTPUTS],
        nodes=nodes,
        opset_imports=[helper.make_opsetid("", opset)],
        attributes=[a.name for a in spec.ATTRIBUTES if a.default is None],
        attribute_protos=[helper.make_attribute(a.name, a.default) for a in spec.ATTRIBUTES if a.default is not None],
        doc_string="AttentiveNorm (an_deploy, version 1) in standard ONNX ops; see an_deploy/spec.py.",
    )
    return function
