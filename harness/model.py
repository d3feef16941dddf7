"""Model stage: parse a .tflite flatbuffer into a small graph of tensors and ops.

The flatbuffer is read with the schema binding that ships with LiteRT
(`ai_edge_litert.schema_py_generated`), never by hand.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from .errors import ModelNotFound, NotAModel

_TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
_OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
_NUMPY_DTYPES = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "FLOAT64": np.float64,
    "INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "UINT16": np.uint16,
    "INT32": np.int32, "UINT32": np.uint32, "INT64": np.int64, "BOOL": np.bool_,
}
MAX_ELEMENTS = 1 << 28  # guards against absurd shapes in damaged files


@dataclass
class Tensor:
    """One tensor of the graph, with its quantization."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # lower-case numpy name: "int8", "int32", "float32", ...
    scales: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    zero_points: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quantized_dimension: int = 0
    data: np.ndarray | None = None  # constant contents, shaped
    is_variable: bool = False

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def scale(self) -> float:
        """Per-tensor scale (the first one when per-channel)."""
        return float(self.scales[0]) if len(self.scales) else 0.0

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0]) if len(self.zero_points) else 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    @property
    def quantized(self) -> bool:
        return len(self.scales) > 0 and self.dtype != "float32"


@dataclass
class Op:
    """One operator: its builtin name, tensor indices (-1 = absent) and options."""

    index: int
    name: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any]
    version: int = 1
    intermediates: list[int] = field(default_factory=list)  # e.g. the integer LSTM's scales


@dataclass
class Graph:
    """The model's main subgraph."""

    path: Path
    sha256: str
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    description: str = ""
    op_versions: dict[str, int] = field(default_factory=dict)

    @property
    def model_hash(self) -> str:
        """Short hash the firmware reports in its handshake."""
        return self.sha256[:16]

    @property
    def name(self) -> str:
        return self.path.stem

    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]

    def op_names(self) -> list[str]:
        return sorted({op.name for op in self.ops})


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
    type_name = _TYPE_NAMES.get(t.type, f"TYPE_{t.type}")
    np_type = _NUMPY_DTYPES.get(type_name)
    dtype = np.dtype(np_type).name if np_type else type_name.lower()
    q = t.quantization
    scales = np.asarray(q.scale if q is not None and q.scale is not None else [], np.float32)
    zps = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], np.int64)
    qdim = int(q.quantizedDimension) if q is not None else 0
    data = None
    if t.buffer is not None and 0 < t.buffer < len(buffers):
        raw = buffers[t.buffer].data
        if raw is not None and len(raw):
            if np_type is None:
                raise NotAModel(f"tensor {index} ({name!r}) has unsupported type {type_name}")
            arr = np.frombuffer(bytes(np.asarray(raw, np.uint8)), dtype=np_type)
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if arr.size != count:
                raise NotAModel(
                    f"tensor {index} ({name!r}) holds {arr.size} values but its shape "
                    f"{shape} needs {count}"
                )
            data = arr.reshape(shape)
    return Tensor(index, name, shape, dtype, scales, zps, qdim, data, bool(t.isVariable))


def parse_model(path: str | Path) -> Graph:
    """Read and validate a .tflite file; raise a BadInput subclass with a one-line reason."""
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
    desc = model.description.decode() if isinstance(model.description, bytes) else ""
    sha = hashlib.sha256(data).hexdigest()
    return Graph(path, sha, tensors, ops, inputs, outputs, desc, versions)
