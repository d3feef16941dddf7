"""What a valid model may hold but the builtin runtime cannot generate code for,
as reusable checks (each spec's ``lowerable`` composes them; UnsupportedOp, exit 12)."""

from __future__ import annotations

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op

FUSED_LOWERABLE = (0, 1, 2, 3)  # NONE, RELU, RELU_N1_TO_1, RELU6: clamps


def constant_weights(graph: Graph, op: Op, positions: tuple[int, ...]) -> None:
    """The builtin runtime bakes weights and biases (these input positions) into flash."""
    for k in positions:
        if k < len(op.inputs) and op.inputs[k] >= 0 and not graph.tensors[op.inputs[k]].is_const:
            raise UnsupportedOp(f"op {op.index} ({op.name}): input {k} (tensor "
                                f"{op.inputs[k]}) is not constant; the builtin runtime "
                                "needs constant weights and biases")


def clamp_only(op: Op) -> None:
    """A fused activation the kernels apply as a clamp (not TANH or SIGN_BIT)."""
    if op.fused_activation not in FUSED_LOWERABLE:
        raise UnsupportedOp(f"op {op.index} ({op.name}): fused activation code "
                            f"{op.fused_activation} (TANH or SIGN_BIT) is not supported by the "
                            "builtin runtime")
