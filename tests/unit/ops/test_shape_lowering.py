"""Lowering of the shape ops: what the builtin runtime refuses, and the arena
aliasing of SQUEEZE / EXPAND_DIMS.
"""

from __future__ import annotations

import pytest

from harness.errors import UnsupportedOp, UnsupportedType
from harness.model.graph import Graph
from harness.ops.c_emit import LoweredOp
from harness.ops.conv import transpose_conv
from harness.ops.fully_connected import batch_matmul
from harness.ops.registry import OPS
from harness.ops.shape import concatenation, mean, pad, squeeze, strided_slice, transpose
from harness.ops.shape.mean import mean_geometry
from harness.ops.validate import load_model_bytes
from harness.runtimes.builtin.arena import plan_arena
from support.synth_shape import ShapeModelBuilder, one_op


def lower_one(model: bytes) -> LoweredOp:
    graph = load_model_bytes(model)
    (op,) = graph.ops
    lo = LoweredOp(op.index, op.name, [])
    OPS[op.name].emit(graph, op, lo)
    return lo


# Each op's module declares its activation types once (DTYPES); its emitter refuses
# by that set, and its spec gives it to the registry for the emitter and the kernel.
MODULES = {"CONCATENATION": concatenation, "PAD": pad, "PADV2": pad, "MEAN": mean,
           "STRIDED_SLICE": strided_slice, "SQUEEZE": squeeze, "EXPAND_DIMS": squeeze,
           "TRANSPOSE": transpose, "TRANSPOSE_CONV": transpose_conv,
           "BATCH_MATMUL": batch_matmul}


def test_one_dtype_declaration_covers_emitter_and_kernel() -> None:
    for name, module in MODULES.items():
        spec = OPS[name]
        assert spec.emit is not None and spec.numpy_int8 is not None, name
        assert spec.emit.__module__ == spec.numpy_int8.__module__ == module.__name__, name
        assert spec.emit_dtypes == spec.numpy_int8_dtypes == module.DTYPES, name
    int16 = {name for name in MODULES if "int16" in OPS[name].emit_dtypes}
    assert int16 == {"PAD", "PADV2", "STRIDED_SLICE", "TRANSPOSE_CONV"}


@pytest.mark.parametrize(("method", "kwargs"), [
    ("transpose", {"perm": [1, 0]}),
    ("mean", {"axes": [1]}),
    ("squeeze", {"axes": [0]}),
])
def test_int16_on_an_int8_only_op_is_refused(method: str, kwargs: dict) -> None:
    shape = [1, 4] if method == "squeeze" else [3, 4]
    with pytest.raises(UnsupportedType, match=r"op 0 \(\w+\) with int16"):
        lower_one(one_op("int16", [shape], method, **kwargs))


def test_int16_variants_lower_to_s16_kernels() -> None:
    assert lower_one(one_op("int16", [[2, 3]], "pad", paddings=[(1, 0), (0, 2)])
                     ).call.startswith("hx_pad_s16(")
    assert lower_one(one_op("int16", [[4, 5]], "strided_slice", begin=[0, 1], end=[4, 5],
                            strides=[2, 1])).call.startswith("hx_strided_slice_s16(")
    lo = lower_one(one_op("int16", [[1, 3, 3, 2]], "transpose_conv", out_channels=2, kernel=2,
                          stride=2, scales=(0.001,)))
    assert lo.call.startswith("hx_transpose_conv_s16(")
    assert any(a.ctype == "int64_t" and a.name.endswith("_bias") for a in lo.arrays)


def test_concatenation_that_rescales_is_refused() -> None:
    model = one_op("int8", [[2, 3], [2, 3]], "concatenation", axis=1, scales=(0.1, 0.2))
    with pytest.raises(UnsupportedOp, match="rescales"):
        lower_one(model)


def test_rank_5_is_refused_with_the_op() -> None:
    model = one_op("int8", [[1, 2, 1, 2, 2]], "transpose", perm=[4, 3, 2, 1, 0])
    with pytest.raises(UnsupportedOp, match=r"rank 5"):
        lower_one(model)


def test_mean_merges_adjacent_axes_to_fit_four_dimensions() -> None:
    model = one_op("int8", [[2, 3, 4, 5, 6]], "mean", axes=[1, 2], keep_dims=False,
                   output_scale=0.1)
    graph = load_model_bytes(model)
    g = mean_geometry(graph, graph.ops[0])
    assert (g.input_dims, g.kept, g.reduced, g.count) == (
        (1, 2, 12, 30), (1, 2, 1, 30), (1, 1, 12, 1), 12)


def _aliased(graph: Graph) -> bool:
    plan = plan_arena(graph)
    op = next(o for o in graph.ops if o.name in ("SQUEEZE", "EXPAND_DIMS"))
    return plan.offsets[op.inputs[0]] == plan.offsets[op.outputs[0]]


def test_squeeze_and_expand_dims_alias_their_input() -> None:
    for method, kwargs in (("squeeze", {"axes": [0]}), ("expand_dims", {"axis": 0})):
        b = ShapeModelBuilder(1)
        x = b.input([1, 4, 4], 0.05, 0)
        x = b.pad(x, [(0, 0), (1, 1), (0, 0)])
        x = getattr(b, method)(x, **kwargs)
        x = b.transpose(x, [1, 0] if method == "squeeze" else [0, 1, 3, 2])
        graph = load_model_bytes(b.build(x))
        assert _aliased(graph), method
        assert lower_one_call(graph, method.upper()) == "/* nothing to do */"


def lower_one_call(graph: Graph, name: str) -> str:
    op = next(o for o in graph.ops if o.name == name)
    lo = LoweredOp(op.index, op.name, [])
    OPS[op.name].emit(graph, op, lo)
    return lo.call
