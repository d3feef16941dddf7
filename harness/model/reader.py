"""Read a .tflite flatbuffer into a Graph, and check that it is structurally sound.

The flatbuffer is read with the schema binding that ships with LiteRT
(`ai_edge_litert.schema_py_generated`), never by hand.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.errors import ModelNotFound, NotAModel, UnsupportedType
from harness.model.graph import Graph, Op, Tensor

_TYPE_NAMES: dict[int, str] = {v: k for k, v in vars(schema.TensorType).items()
                               if not k.startswith("_")}
_OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_NUMPY_DTYPES = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64,
    "INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "UINT16": np.uint16,
    "INT32": np.int32, "UINT32": np.uint32, "INT64": np.int64, "BOOL": np.bool_,
}
_NUMPY_NAMES = {np.dtype(t).name for t in _NUMPY_DTYPES.values()}
MAX_ELEMENTS = 1 << 28  # guards against absurd shapes in damaged files
MIN_SCALE, MAX_SCALE = 1e-30, 1e30  # beyond these, requantization multipliers overflow
_ZP_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767),
              "uint16": (0, 65535)}

def _options_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    out = {}
    for key, value in vars(obj).items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        out[key] = value
    return out


def _tensor(index: int, t: Any, buffers: list[Any]) -> Tensor:
    name = t.name.decode("utf-8", "replace") if isinstance(t.name, bytes) else str(t.name or "")
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    if any(d < 0 for d in shape):
        # -1 in shape_signature is dynamic; a negative static shape is damage.
        raise NotAModel(f"tensor {index} ({name!r}) has a negative dimension {shape}")
    if shape and int(np.prod(shape, dtype=np.float64)) > MAX_ELEMENTS:
        raise NotAModel(f"tensor {index} ({name!r}) has an absurd shape {shape}")
    if t.type not in _TYPE_NAMES:
        raise NotAModel(f"tensor {index} ({name!r}) has an unknown type code {t.type}")
    type_name = _TYPE_NAMES[t.type]
    np_type = _NUMPY_DTYPES.get(type_name)
    dtype = np.dtype(np_type).name if np_type else type_name.lower()
    q = t.quantization
    scales = np.asarray(q.scale if q is not None and q.scale is not None else [], np.float32)
    zps = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], np.int64)
    qdim = int(q.quantizedDimension) if q is not None else 0
    if len(scales):
        _check_quantization(index, name, shape, dtype, scales, zps, qdim)
    else:
        zps = np.zeros(0, np.int64)  # zero points without scales quantize nothing
    data = None
    if t.buffer is not None and (t.buffer < 0 or t.buffer >= max(len(buffers), 1)):
        raise NotAModel(f"tensor {index} ({name!r}) points at buffer {t.buffer}, but the "
                        f"model has {len(buffers)} buffers")
    if t.buffer is not None and 0 < t.buffer < len(buffers):
        raw = buffers[t.buffer].data
        if raw is not None and len(raw):
            if np_type is None:
                raise NotAModel(f"tensor {index} ({name!r}) has unsupported type {type_name}")
            if len(raw) % np.dtype(np_type).itemsize:
                raise NotAModel(f"tensor {index} ({name!r}): its buffer holds {len(raw)} bytes, "
                                f"not a whole number of {dtype} values")
            arr = np.frombuffer(bytes(np.asarray(raw, np.uint8)), dtype=np_type)
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if arr.size != count:
                raise NotAModel(
                    f"tensor {index} ({name!r}) holds {arr.size} values but its shape "
                    f"{shape} needs {count}"
                )
            data = arr.reshape(shape)
    return Tensor(index, name, shape, dtype, scales, zps, qdim, data, bool(t.isVariable))


def _check_quantization(index: int, name: str, shape: tuple[int, ...], dtype: str,
                        scales: np.ndarray, zps: np.ndarray, qdim: int) -> None:
    """Scales finite and not negative, one zero point per scale within the type's
    range, and per-channel arrays as long as the quantized dimension."""
    where = f"tensor {index} ({name!r})"
    if len(zps) != len(scales):
        raise NotAModel(f"{where} has {len(scales)} quantization scale(s) but "
                        f"{len(zps)} zero point(s)")
    odd = ~np.isfinite(scales) | (scales < 0) | ((scales != 0) & ((scales < MIN_SCALE)
                                                                  | (scales > MAX_SCALE)))
    if np.any(odd):
        raise NotAModel(f"{where} has an invalid quantization scale {float(scales[odd][0]):g}",
                        hint=f"scales are 0 or within {MIN_SCALE:g}..{MAX_SCALE:g}")
    if dtype in _ZP_RANGES:
        lo, hi = _ZP_RANGES[dtype]
        if np.any(zps < lo) or np.any(zps > hi):
            bad = next(int(z) for z in zps if not lo <= z <= hi)
            raise NotAModel(f"{where} ({dtype}) has zero point {bad}, outside {lo}..{hi}")
    if len(scales) > 1:
        # Converters leave a bias's quantized dimension at its filter's (person_detect:
        # 3 for a rank-1 bias); the count must still match some reading of it.
        along = shape[qdim] if 0 <= qdim < len(shape) else shape[0] if len(shape) == 1 else None
        if along != len(scales):
            raise NotAModel(f"{where} has {len(scales)} per-channel scales, but its shape "
                            f"{shape} has {along if along is not None else 'no'} channels "
                            f"along dimension {qdim}")


def parse_model(path: str | Path) -> Graph:
    """Read a .tflite file and check its structure (indices, buffers, quantization arrays,
    dataflow order); raise a BadInput subclass with a one-line reason. Each op's own
    operands and options are checked by :func:`harness.ops.checks.load_model`."""
    path = Path(path)
    if not path.exists():
        raise ModelNotFound(f"model file not found: {path}",
                            hint="pass an existing .tflite with --model")
    if path.is_dir():
        raise ModelNotFound(f"model path is a directory, not a file: {path}")
    data = path.read_bytes()
    return parse_model_bytes(data, path)


def parse_model_bytes(data: bytes, path: Path | None = None) -> Graph:
    """Parse model bytes (see parse_model)."""
    path = path or Path("model.tflite")
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise NotAModel(
            f"{path.name} is not a TFLite model (no 'TFL3' flatbuffer identifier)",
            hint="give a .tflite file produced by the TFLite converter",
        )
    try:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(data, 0))
    except Exception as exc:  # the generated reader raises many types on damage
        raise NotAModel(f"{path.name} is a damaged or truncated TFLite flatbuffer "
                        f"({len(data)} bytes; reader stopped with {type(exc).__name__})") from None
    return _graph_from(model, data, path)


def _graph_from(model: Any, data: bytes, path: Path) -> Graph:
    if not model.subgraphs:
        raise NotAModel(f"{path.name} has no subgraph")
    sg = model.subgraphs[0]
    buffers = model.buffers or []
    tensors = [_tensor(i, t, buffers) for i, t in enumerate(sg.tensors or [])]
    codes = model.operatorCodes or []
    ops = []
    versions: dict[str, int] = {}
    for k, o in enumerate(sg.operators or []):
        if o.opcodeIndex >= len(codes):
            raise NotAModel(f"op {k} points at operator code {o.opcodeIndex}, "
                            "which does not exist")
        code = codes[o.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        name = _OP_NAMES.get(builtin, f"OP_{builtin}")
        if name == "CUSTOM":
            custom = code.customCode
            name = f"CUSTOM:{custom.decode() if isinstance(custom, bytes) else custom}"
        ins = [int(i) for i in (o.inputs if o.inputs is not None else [])]
        outs = [int(i) for i in (o.outputs if o.outputs is not None else [])]
        for i in ins + outs:
            if i >= len(tensors) or i < -1:
                raise NotAModel(f"op {k} ({name}) refers to tensor {i}, which does not exist")
        mids = [int(i) for i in (o.intermediates if o.intermediates is not None else [])]
        ops.append(Op(k, name, ins, outs, _options_dict(o.builtinOptions), int(code.version),
                      [i for i in mids if 0 <= i < len(tensors)]))
        versions[name] = max(versions.get(name, 0), int(code.version))
    inputs = [int(i) for i in (sg.inputs if sg.inputs is not None else [])]
    outputs = [int(i) for i in (sg.outputs if sg.outputs is not None else [])]
    for i in inputs + outputs:
        if not 0 <= i < len(tensors):
            raise NotAModel(f"{path.name}: graph input/output {i} is not a tensor")
    desc = (model.description.decode("utf-8", "replace")
            if isinstance(model.description, bytes) else "")
    sha = hashlib.sha256(data).hexdigest()
    graph = Graph(path, sha, tensors, ops, inputs, outputs, desc, versions)
    _check_dataflow(graph)
    return graph


def _check_dataflow(graph: Graph) -> None:
    """Inputs and outputs exist; every op reads constants, model inputs, state or
    what an earlier op wrote; no tensor is written twice; types are ones NumPy holds."""
    name = graph.path.name
    if not graph.inputs or not graph.outputs:
        raise NotAModel(f"{name} has no model {'inputs' if not graph.inputs else 'outputs'}")
    ts = graph.tensors
    written = set(graph.inputs)
    for i in graph.inputs:
        if ts[i].is_const:
            raise NotAModel(f"{name}: model input {i} ({ts[i].name!r}) is a constant")
    for op in graph.ops:
        where = f"op {op.index} ({op.name})"
        if not op.outputs:
            raise NotAModel(f"{where} has no outputs")
        for i in op.inputs:
            if i >= 0 and not (ts[i].is_const or ts[i].is_variable or i in written):
                raise NotAModel(f"{where} reads tensor {i} ({ts[i].name!r}), which is not a "
                                "constant, a model input, or written by an earlier op")
        for i in op.outputs:
            if i < 0:
                raise NotAModel(f"{where} has an absent (-1) output")
            if ts[i].is_const or i in written:
                raise NotAModel(f"{where} writes tensor {i} ({ts[i].name!r}), which is "
                                + ("a constant" if ts[i].is_const else "already written"))
            written.add(i)
    for i in graph.outputs:
        if i not in written:
            raise NotAModel(f"{name}: model output {i} ({ts[i].name!r}) is never written")
    used = {i for op in graph.ops for i in op.inputs + op.outputs if i >= 0}
    for i in sorted(used | set(graph.inputs) | set(graph.outputs)):
        t = ts[i]
        if t.dtype not in _NUMPY_NAMES:
            raise UnsupportedType(f"tensor {i} ({t.name!r}) is {t.dtype.upper()}, "
                                  "which the harness does not handle")
        if not t.is_const and t.dtype in _ZP_RANGES and len(t.scales) and not np.all(t.scales):
            raise NotAModel(f"tensor {i} ({t.name!r}) is quantized with scale 0")
