"""Vectors stage: seeded random inputs over each input's integer range, or user data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness.errors import BadInput
from harness.model.graph import Graph, Tensor

# Ops whose input at this position is the shape of their output: a model input
# there is a shape, not data, and random values would make the op invalid.
SHAPE_OPERANDS = {"TRANSPOSE_CONV": 0, "RESHAPE": 1}


def shape_inputs(graph: Graph) -> dict[int, np.ndarray]:
    """Model inputs that are shape operands, with the only valid value: the static
    shape of the op's output."""
    found = {}
    for op in graph.ops:
        k = SHAPE_OPERANDS.get(op.name)
        if k is not None and k < len(op.inputs) and op.inputs[k] in graph.inputs:
            found[op.inputs[k]] = np.array(graph.tensors[op.outputs[0]].shape)
    return found


def random_vectors(graph: Graph, count: int, seed: int) -> list[np.ndarray]:
    """`count` vectors per input, uniform over the input dtype's full range (shape
    operands get the output shape they describe)."""
    if count < 1:
        raise BadInput(f"--vectors must be at least 1, not {count}")
    rng = np.random.default_rng(seed)
    shapes = shape_inputs(graph)
    out = []
    for t in graph.input_tensors():
        dt = np.dtype(t.dtype)
        if t.index in shapes:
            out.append(np.broadcast_to(shapes[t.index].astype(dt), (count, *t.shape)).copy())
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            out.append(rng.integers(info.min, info.max, (count, *t.shape), endpoint=True, dtype=dt))
        else:
            out.append(rng.uniform(-1, 1, (count, *t.shape)).astype(dt))
    return out


def _quantize(data: np.ndarray, t: Tensor, notes: list[str]) -> np.ndarray:
    """`data` as input `t`'s dtype: float data quantized with its scale and zero point
    (values beyond its range are clipped, and `notes` says how many); integers must
    fit. Anything else is refused."""
    dt = np.dtype(t.dtype)
    if data.dtype.kind == "b":
        raise BadInput(f"input data for {t.name!r} is bool, not numbers",
                       hint=f"give {t.dtype} or float data (0 and 1 as numbers)")
    if data.dtype.kind not in "iuf":
        raise BadInput(f"input data for {t.name!r} is {data.dtype}, not numbers",
                       hint=f"give {t.dtype} or float data")
    if data.size == 0:
        raise BadInput(f"input data for {t.name!r} holds no values (shape {data.shape})")
    if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        raise BadInput(f"input data for {t.name!r} holds NaN or infinite values")
    if data.dtype.kind == "f" and dt.kind in "iu":
        return _quantize_float(data, t, notes)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if data.min() < info.min or data.max() > info.max:
            raise BadInput(f"values for input {t.name!r} fall outside {t.dtype}'s range")
    elif dt.kind == "f" and np.abs(data).max() > np.finfo(dt).max:
        raise BadInput(f"values for input {t.name!r} fall outside {t.dtype}'s range")
    return data.astype(dt)


def _quantize_float(data: np.ndarray, t: Tensor, notes: list[str]) -> np.ndarray:
    """Real values -> integers with the input's scale and zero point, clipped to the
    dtype's range; how many were clipped goes to `notes`."""
    if not t.quantized:
        raise BadInput(f"input {t.name!r} is {t.dtype} without quantization; give integers")
    info = np.iinfo(np.dtype(t.dtype))
    q = np.round(data.astype(np.float64) / t.scale) + t.zero_point
    clipped = int(np.count_nonzero((q < info.min) | (q > info.max)))
    if clipped:
        lo, hi = ((info.min - t.zero_point) * t.scale, (info.max - t.zero_point) * t.scale)
        notes.append(f"{clipped} of {data.size} values for input {t.name!r} lie outside "
                     f"what {t.dtype} holds with its scale and zero point "
                     f"[{lo:.4g}, {hi:.4g}] and were clipped")
    return np.clip(q, info.min, info.max).astype(t.dtype)


def _shape_batch(data: np.ndarray, t: Tensor) -> np.ndarray:
    shape = tuple(t.shape)
    if data.shape == shape:
        return data[None]
    if data.shape[1:] == shape:
        return data
    if data.ndim >= 1 and data.shape[1:] == shape[1:] and shape[:1] == (1,):
        return data[:, None]  # a stack of vectors without the model's batch dim of 1
    raise BadInput(
        f"input data of shape {data.shape} does not fit input {t.name!r} of shape {shape}",
        hint=f"give shape {shape} or (N, *{shape})",
    )


def _one_vector(data: np.ndarray, t: Tensor, notes: list[str]) -> np.ndarray:
    """A file of a folder holds one vector: any array of the input's size."""
    data = _quantize(data, t, notes)
    return data.reshape(1, *t.shape) if data.size == t.size else _shape_batch(data, t)


def load_folder(folder: Path, graph: Graph, notes: list[str]) -> list[np.ndarray]:
    """One vector per .npy file (a one-input model) or per .npz file (as load_vectors
    reads one), in file name order."""
    files = sorted(p for p in folder.iterdir() if p.suffix in (".npy", ".npz"))
    if not files:
        raise BadInput(f"no .npy or .npz files in {folder}")
    per_file = []
    for f in files:
        try:
            per_file.append(_read(f, graph, lambda a, t: _one_vector(a, t, notes)))
        except BadInput as exc:
            raise BadInput(f"{f.name}: {exc}", hint=exc.hint) from None
    return [np.concatenate(arrays) for arrays in zip(*per_file, strict=True)]


def load_vectors(path: str | Path, graph: Graph,
                 notes: list[str] | None = None) -> list[np.ndarray]:
    """Read .npy (one input), .npz (arrays named after inputs, or in input order) or a
    folder of them, one vector per file.

    Float data is quantized with each input's scale and zero point; `notes` gets a
    line per input whose values had to be clipped (the pipeline prints them).
    """
    notes = [] if notes is None else notes
    path = Path(path)
    if not path.exists():
        raise BadInput(f"input file not found: {path}")
    if path.is_dir():
        return load_folder(path, graph, notes)
    return _read(path, graph, lambda a, t: _shape_batch(_quantize(a, t, notes), t))


def _read(path: Path, graph: Graph, shape: Callable[[np.ndarray, Tensor], np.ndarray]
          ) -> list[np.ndarray]:
    """One .npy/.npz file's arrays, one per model input, through `shape`."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise BadInput(f"cannot read {path.name} as .npy/.npz ({type(exc).__name__})") from None
    tensors = graph.input_tensors()
    if isinstance(loaded, np.ndarray):
        if len(tensors) != 1:
            raise BadInput(f"the model has {len(tensors)} inputs; give an .npz with one array each")
        arrays = [loaded]
    else:
        names = list(loaded.files)
        by_name = [loaded[t.name] for t in tensors if t.name in names]
        if len(by_name) == len(tensors):
            arrays = by_name
        elif len(names) == len(tensors):
            arrays = [loaded[n] for n in names]
        else:
            raise BadInput(f"{path.name} holds {len(names)} arrays; the model has "
                           f"{len(tensors)} inputs ({', '.join(t.name for t in tensors)})")
    out = [shape(a, t) for a, t in zip(arrays, tensors, strict=True)]
    if len({a.shape[0] for a in out}) > 1:
        raise BadInput("inputs hold different numbers of vectors")
    return out
