"""What a valid model may hold but the builtin runtime cannot generate code for.

model_check.py refuses models that are inconsistent (exit 11); this module
refuses consistent ones the builtin runtime cannot lower: non-constant
filters and biases, grouped convolutions, fused TANH or SIGN_BIT
(UnsupportedOp, exit 12), and activations of a type the generated C has no
pointer for, or integer activations without quantization (UnsupportedType,
exit 13).
"""

from __future__ import annotations

from harness import quant
from harness.errors import UnsupportedOp, UnsupportedType
from harness.model import Graph
from harness.model_check import FUSED_CLAMP_OPS, FUSED_LOWERABLE

# Inputs the builtin runtime bakes into flash: (op, input position).
CONST_OPERANDS = {
    "CONV_2D": (1, 2), "DEPTHWISE_CONV_2D": (1, 2), "FULLY_CONNECTED": (1, 2),
}


def check_lowerable(graph: Graph) -> None:
    """What valid models may hold but the builtin runtime cannot generate code for:
    non-constant filters and biases, grouped convolutions, fused TANH or SIGN_BIT
    (UnsupportedOp, exit 12); activations of a type the generated C has no pointer
    for, or integer activations without quantization (UnsupportedType, exit 13)."""
    from harness.lower import C_TYPES  # lower.py imports this module

    used = sorted({i for op in graph.ops for i in op.inputs + op.outputs if i >= 0})
    for t in (graph.tensors[i] for i in used):
        if t.is_const:
            continue
        if t.dtype not in C_TYPES:
            raise UnsupportedType(f"tensor {t.index} ({t.name!r}) is {t.dtype}, which the "
                                  "builtin runtime cannot hold")
        if t.dtype in ("int8", "int16") and not len(t.scales):
            raise UnsupportedType(f"tensor {t.index} ({t.name!r}) is {t.dtype} without "
                                  "quantization parameters; the builtin runtime needs a scale")
    for op in graph.ops:
        if op.name == "CONV_2D" and (graph.tensors[op.inputs[0]].shape[3]
                                     != graph.tensors[op.inputs[1]].shape[3]):
            raise UnsupportedOp(f"op {op.index} (CONV_2D): grouped convolution (input "
                                f"channels {graph.tensors[op.inputs[0]].shape[3]}, filter "
                                f"channels {graph.tensors[op.inputs[1]].shape[3]}) is not "
                                "supported by the builtin runtime")
        for k in CONST_OPERANDS.get(op.name, ()):
            if k < len(op.inputs) and op.inputs[k] >= 0 and not graph.tensors[op.inputs[k]
                                                                               ].is_const:
                raise UnsupportedOp(f"op {op.index} ({op.name}): input {k} (tensor "
                                    f"{op.inputs[k]}) is not constant; the builtin runtime "
                                    "needs constant weights and biases")
        fused = int(op.options.get("fusedActivationFunction", 0) or 0)
        if op.name in FUSED_CLAMP_OPS and fused not in FUSED_LOWERABLE:
            raise UnsupportedOp(f"op {op.index} ({op.name}): fused activation code {fused} "
                                "(TANH or SIGN_BIT) is not supported by the builtin runtime")
        if op.name == "SOFTMAX" and graph.tensors[op.inputs[0]].dtype == "int8":
            beta, scale = float(op.options.get("beta", 1.0)), graph.tensors[op.inputs[0]].scale
            try:
                quant.softmax_params(beta, scale)
            except ValueError as exc:
                raise UnsupportedOp(f"op {op.index} (SOFTMAX): beta {beta:g} with input scale "
                                    f"{scale:g} is out of the fixed-point softmax's range "
                                    f"({exc})") from None
