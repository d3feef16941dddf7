"""The tflm firmware's tensor arena: how big to make it, before any build.

The figure is tflm-host's own (TFLM's RecordingMicroAllocator on the desktop, with
the reference kernels), with a margin: the host's structs hold 64-bit pointers, so
the device needs a little less. The CMSIS-NN kernels ask for more than the
reference ones: persistent buffers (kernel sums, per-channel parameters, the LSTM's
effective biases) and scratch buffers (im2col columns, row sums) that tflm-host
never sees, so ``--kernels cmsis-nn`` adds an allowance computed from the graph's
shapes (:func:`cmsis_nn_allowance`). The device reports what it really used.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from harness.model.graph import Graph, Op
from harness.ops.validate import load_model
from harness.references.tflm_host import host_arena_capacity

# The device needs less than the 64-bit host: its structs hold 32-bit pointers, the tensor
# buffers are the same (device / host measured 0.52-0.97 over the shared models).
ARENA_MARGIN = 1.05
ARENA_SLACK = 1024
PRESERVE_MARGIN = 1.5  # --per-layer builds: every tensor kept, more planner bookkeeping
LINEAR_PLANNER_H = Path("tensorflow/lite/micro/memory_planner/linear_memory_planner.h")
OP_DATA_BYTES = 64  # a CMSIS-NN kernel's OpData is at most this much bigger than the reference's

_MEASURE = """\
import sys
from tflite_micro.python.tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1], arena_size=int(sys.argv[2]),
    intrepreter_config=runtime.InterpreterConfig.kAllocationRecording)
sys.stdout.flush()
it.print_allocations()
"""

def allocations(text: str) -> dict[str, int]:
    """RecordingMicroAllocator's printout as {category: bytes}: "total", "head",
    "tail" and one entry per allocation kind."""
    out = {m.group(1): int(m.group(2))
           for m in re.finditer(r"Arena allocation (total|head|tail) (\d+) bytes", text)}
    out.update({m.group(1): int(m.group(2))
                for m in re.finditer(r"'([^']+)' used (\d+) bytes", text)})
    return out


def host_allocations(model_path: Path) -> dict[str, int]:
    """tflm-host's arena breakdown for the model (empty if it cannot load it)."""
    arena = host_arena_capacity(load_model(model_path), model_path.stat().st_size)
    res = subprocess.run([sys.executable, "-c", _MEASURE, str(model_path), str(arena)],
                         capture_output=True, text=True, check=False, timeout=120)
    return allocations(res.stdout + res.stderr)


def host_arena_bytes(model_path: Path) -> int | None:
    """Arena bytes tflm-host allocates for the model (its RecordingMicroAllocator), or None."""
    return host_allocations(model_path).get("total")


def compare_arena(device_log: list[str], host: dict[str, int]) -> dict[str, dict[str, int]]:
    """Device against tflm-host, category by category. The host is 64-bit: every
    struct that holds pointers (TfLiteEvalTensor, TfLiteTensor, NodeAndRegistration)
    is bigger there, so the device's total is expected to be smaller."""
    dev = allocations("\n".join(device_log))
    return {k: {"device": dev.get(k, 0), "tflm_host": host.get(k, 0)}
            for k in dict.fromkeys([*dev, *host])}


def _align(n: int) -> int:
    return (n + 15) // 16 * 16


def _shape(graph: Graph, op: Op, k: int) -> tuple[int, ...]:
    i = op.inputs[k] if k < len(op.inputs) else -1
    return tuple(graph.tensors[i].shape) if i >= 0 else ()


def _op_allowance(graph: Graph, op: Op) -> tuple[int, int]:
    """(persistent, scratch) bytes one op's CMSIS-NN kernel may add over the reference
    kernel: upper bounds over the DSP, MVE and plain-C paths of the buffers CMSIS-NN's
    *_get_buffer_size functions document, not exact figures."""
    name = op.name
    x = _shape(graph, op, 0 if name != "TRANSPOSE_CONV" else 2)
    wide = 2 if graph.tensors[op.outputs[0]].dtype == "int16" else 1  # 16x8: int16 columns
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "TRANSPOSE_CONV"):
        w = _shape(graph, op, 1)  # TRANSPOSE_CONV: (output shape, weights, input)
        if len(w) != 4:
            return 0, 0
        out_ch, kh, kw, in_ch = w
        k = kh * kw
        if name == "DEPTHWISE_CONV_2D":
            ch, in_c = w[3], (x[-1] if x else 0)  # weights are [1, kh, kw, channels]
            if wide == 2:
                return 0, 8 * ch * k + 8
            if in_c == 1 and ch > 1:  # one input channel: run as a convolution (MVE)
                return 0, 4 * (k + 16) + k * ch
            # the "opt" kernels, only for a depth multiplier of 1: int16 columns (DSP), or
            # blocks of 124 channels (MVE)
            return 0, max(2 * ch * k, 4 * 124 * k) if in_c == ch else 0
        # im2col: two int16 columns (DSP) or four 16-lane (8-lane for int16) ones (MVE)
        scratch = 4 * wide * (k * in_ch + 16)
        if name != "TRANSPOSE_CONV":
            return 0, scratch
        out = tuple(graph.tensors[op.outputs[0]].shape)
        band = 4 * ((out[2] if len(out) == 4 else 1) + kw) * out_ch * max(kh, 2)
        return out_ch * k * in_ch, max(scratch, band)  # reversed weights; a row band
    if name in ("FULLY_CONNECTED", "BATCH_MATMUL", "SVDF"):
        w = _shape(graph, op, 1)
        rows, cols = (w[0], w[-1]) if w else (0, 0)
        out_dims = len(graph.tensors[op.outputs[0]].shape)
        # kernel sums (MVE, int64 for 16x8); as a 1x1 convolution: per-channel parameters
        return 8 * rows, (8 * rows + 4 * cols) if out_dims > 2 else 0
    if name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return 0, 4 * (x[-1] if x else 0)  # a row of int32 sums per channel
    if name == "UNIDIRECTIONAL_SEQUENCE_LSTM":
        w = _shape(graph, op, 2)  # input-to-forget weights: [hidden, input]
        return 64 * (w[0] if w else 0), 0  # eight effective-bias vectors, int64 for 16x8
    return 0, 0


def cmsis_nn_allowance(graph: Graph) -> int:
    """What the CMSIS-NN kernels may need beyond the reference kernels' arena: every
    op's persistent buffers (they add up) and the largest scratch buffer (scratch
    buffers live only during their op)."""
    parts = [_op_allowance(graph, op) for op in graph.ops]
    persistent = sum(_align(p) for p, _ in parts) + OP_DATA_BYTES * len(graph.ops)
    return persistent + max((_align(s) for _, s in parts), default=0)


def linear_planner_bytes(tflm_root: Path | None) -> int:
    """An upper bound of TFLM's LinearMemoryPlanner, which --per-layer builds
    (preserve_all_tensors) allocate in the arena instead of the greedy one tflm-host
    measures: an offset per buffer, kMaxBufferCount of them (read from the tree's
    memory_planner/linear_memory_planner.h), 8 bytes each at most."""
    header = (tflm_root / LINEAR_PLANNER_H) if tflm_root else None
    text = header.read_text() if header and header.is_file() else ""
    m = re.search(r"kMaxBufferCount\s*=\s*(\d+)", text)
    return 8 * int(m.group(1) if m else 1024) + 64


def arena_size(graph: Graph, preserve_all: bool, kernels: str = "reference",
               tflm_root: Path | None = None) -> tuple[int, str, int | None]:
    """The arena the firmware reserves, how it was sized (for the comment), and
    tflm-host's own figure (None when it cannot load the model)."""
    measured = host = host_arena_bytes(graph.path)
    if host is None:  # tflm-host cannot load it: all tensors plus a generous overhead
        host = sum(t.nbytes for t in graph.tensors if not t.is_const) + 64 * len(graph.tensors)
        note = "tflm-host could not measure it: every activation plus 64 B per tensor"
    else:
        note = f"tflm-host uses {host} bytes"
    if kernels == "cmsis-nn":
        extra = cmsis_nn_allowance(graph)
        host += extra
        note += f"; + {extra} B for CMSIS-NN's buffers"
    margin, slack = ARENA_MARGIN, ARENA_SLACK
    if preserve_all:  # no buffer is reused: every activation tensor gets its own
        tensors = sum(_align(t.nbytes) for t in graph.tensors if not t.is_const)
        planner = linear_planner_bytes(tflm_root)
        host += tensors + planner
        margin, slack = PRESERVE_MARGIN, 2 * ARENA_SLACK  # and the bookkeeping grows
        note += f"; + {tensors} B to preserve every tensor, + {planner} B for the linear planner"
    size = int(host * margin) + slack
    note += f"; x{margin} + {slack} margin"
    return _align(size), note, measured
