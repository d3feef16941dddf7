"""`float-model`: the original float .tflite of the same network (given with --float-model).

Inputs are the int8 vectors dequantized with the int8 model's input parameters,
so the comparison shows the end-to-end quantization error. Per layer, the float
model's tensors are matched to the int8 graph's (:func:`match_ops`) and handed
back under the int8 graph's tensor indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.model.graph import Graph
from harness.ops.floating import dequantize
from harness.ops.validate import load_model
from harness.references.base import Reference, ReferenceUnavailable

# Ops that change how a value is stored, not what it is: the int8 graph adds them at
# its edges (float in and out) where the float graph has none.
CONVERSIONS = {"QUANTIZE", "DEQUANTIZE"}


@dataclass
class Match:
    """Which op and tensor of the float graph stands for which of the int8 graph."""

    ops: dict[int, int] = field(default_factory=dict)  # int8 op index -> float op index
    tensors: dict[int, int] = field(default_factory=dict)  # int8 tensor -> float tensor
    unmatched_int8: list[int] = field(default_factory=list)  # int8 activation tensors
    unmatched_float: list[int] = field(default_factory=list)  # float activation tensors
    # matched ops whose int8 weights are no quantization of the float ones: their largest
    # deviation in LSB of the int8 weights (quantizing moves a weight by half an LSB at most)
    weights_differ: dict[int, float] = field(default_factory=dict)


def _same_shape(q: Graph, f: Graph, qi: int, fi: int) -> bool:
    return tuple(q.tensors[qi].shape) == tuple(f.tensors[fi].shape)


def _by_name(q: Graph, f: Graph) -> dict[int, int]:
    """Ops of the same type whose output tensors have the same unique, non-empty name and
    shape (the converter names the int8 graph's last DEQUANTIZE as the float graph's last op,
    so the type must agree too)."""
    names: dict[str, list[int]] = {}
    for op in f.ops:
        names.setdefault(f.tensors[op.outputs[0]].name, []).append(op.index)
    pairs = {}
    for op in q.ops:
        found = names.get(q.tensors[op.outputs[0]].name, [])
        if (q.tensors[op.outputs[0]].name and len(found) == 1
                and f.ops[found[0]].name == op.name
                and _same_shape(q, f, op.outputs[0], f.ops[found[0]].outputs[0])):
            pairs[op.index] = found[0]
    return pairs


def _by_position(q: Graph, f: Graph, pairs: dict[int, int]) -> None:
    """The remaining ops aligned by their sequence of op types (conversions left out)."""
    qs = [op for op in q.ops if op.name not in CONVERSIONS]
    fs = [op for op in f.ops if op.name not in CONVERSIONS]
    taken = set(pairs.values())
    blocks = SequenceMatcher(None, [o.name for o in qs], [o.name for o in fs],
                             autojunk=False).get_matching_blocks()
    for a, b, size in blocks:
        for qo, fo in zip(qs[a:a + size], fs[b:b + size], strict=True):
            if (qo.index not in pairs and fo.index not in taken
                    and _same_shape(q, f, qo.outputs[0], fo.outputs[0])):
                pairs[qo.index] = fo.index
                taken.add(fo.index)


def weight_deviation(q: Graph, f: Graph, qi: int, fi: int) -> float | None:
    """How far the int8 constant `qi` is from the float constant `fi`, at most, in LSB of
    its own (per-channel) scale; None when they are not a quantized/float pair."""
    qt, ft = q.tensors[qi], f.tensors[fi]
    if not (qt.is_const and ft.is_const and qt.quantized and ft.dtype == "float32"
            and tuple(qt.shape) == tuple(ft.shape)) or qt.size == 0:
        return None
    data = qt.data.astype(np.int64)
    real = dequantize(qt, data)
    lsb = np.abs(dequantize(qt, data + 1) - real)
    return float(np.max(np.abs(real - ft.data.astype(np.float64)) / np.where(lsb > 0, lsb, 1)))


def match_ops(q: Graph, f: Graph) -> Match:
    """Match the float graph `f` to the int8 graph `q`: model inputs by position, ops by
    output tensor name, then by position in the sequence of op types; a conversion op of
    the int8 graph carries its input's match to its output (same real value). Weights that
    are no quantization of the float ones are listed in `weights_differ`."""
    m = Match(ops=_by_name(q, f))
    _by_position(q, f, m.ops)
    for qi, fi in zip(q.inputs, f.inputs, strict=False):
        if _same_shape(q, f, qi, fi):
            m.tensors[qi] = fi
    for op in q.ops:
        if op.index in m.ops:
            m.tensors[op.outputs[0]] = f.ops[m.ops[op.index]].outputs[0]
        elif op.name in CONVERSIONS and op.inputs[0] in m.tensors:
            m.tensors[op.outputs[0]] = m.tensors[op.inputs[0]]
    for qo, fo in m.ops.items():
        qop, fop = q.ops[qo], f.ops[fo]
        if len(qop.inputs) > 1 and len(fop.inputs) > 1 and min(qop.inputs[1], fop.inputs[1]) >= 0:
            dev = weight_deviation(q, f, qop.inputs[1], fop.inputs[1])
            if dev is not None and dev > 1.0:
                m.weights_differ[qo] = round(dev, 1)
    mapped = set(m.tensors.values())
    m.unmatched_int8 = [op.outputs[0] for op in q.ops if op.outputs[0] not in m.tensors]
    m.unmatched_float = [op.outputs[0] for op in f.ops if op.outputs[0] not in mapped]
    return m


class FloatModel(Reference):
    name = "float-model"
    chain_position = 0
    description = "the float .tflite of the same network, run by LiteRT"
    real_valued = True

    def __init__(self, float_model: str | None = None) -> None:
        self.float_model = float_model

    def load(self, model_path: Path, *, per_layer: bool = False) -> None:
        if not self.float_model:
            raise ReferenceUnavailable("no float model given (use --float-model)")
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        try:
            self.qgraph = load_model(model_path)
            fgraph = load_model(self.float_model)
        except HarnessError as exc:
            raise ReferenceUnavailable(str(exc)) from None
        q_in = [t.shape for t in self.qgraph.input_tensors()]
        f_in = [t.shape for t in fgraph.input_tensors()]
        if q_in != f_in or any(t.dtype != "float32" for t in fgraph.input_tensors()):
            raise ReferenceUnavailable(f"float model inputs {f_in} do not match the int8 model's "
                                       f"{q_in} (or are not float32)")
        try:
            # Per layer without delegates: a delegate may fuse ops and never write the
            # intermediate tensors.
            resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if per_layer else \
                OpResolverType.AUTO
            self.interp = Interpreter(model_path=str(self.float_model),
                                      experimental_op_resolver_type=resolver,
                                      experimental_preserve_all_tensors=per_layer)
            self.interp.allocate_tensors()
        except Exception as exc:
            raise ReferenceUnavailable(f"LiteRT cannot load the float model: {exc}") from None
        self.inputs = [d["index"] for d in self.interp.get_input_details()]
        self.outputs = [d["index"] for d in self.interp.get_output_details()]
        self.matched = match_ops(self.qgraph, fgraph).tensors if per_layer else {}

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for index, t, data in zip(self.inputs, self.qgraph.input_tensors(), inputs, strict=True):
            self.interp.set_tensor(index, dequantize(t, data).astype(np.float32))
        self.interp.invoke()
        return [self.interp.get_tensor(i).astype(np.float64) for i in self.outputs]

    def tensors(self) -> dict[int, np.ndarray]:
        """The matched tensors' real values, under the int8 graph's tensor indices."""
        return {qi: self.interp.get_tensor(fi).astype(np.float64)
                for qi, fi in self.matched.items()}
