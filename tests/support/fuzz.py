"""The seeded .tflite mutator of the bad-input sweep (issue #7), and one case run
through the pipeline's steps before the build.

A fixed corpus (the example CNN and small support.synth models) is damaged by bit flips,
truncations, overwritten words, shifted flatbuffer offsets, spliced bytes, and structural
edits through the schema's object API (huge and negative dimensions, wrong
buffer/tensor/opcode indices, resized buffers, changed types, broken quantization arrays,
odd options, dropped tables).
"""

from __future__ import annotations

import copy
import struct
from pathlib import Path

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.ops.interpreter import Int8Interpreter, unsupported
from harness.ops.validate import load_model_bytes
from harness.run.vectors import random_vectors
from harness.runtimes.builtin.arena import plan_arena
from harness.runtimes.builtin.firmware import generate_builtin
from harness.runtimes.builtin.lower import check_supported
from harness.targets.fit import check_fits, estimate_footprint
from harness.targets.table import get_target
from support import synth
from support.paths import ROOT

CASES = 3000
SEED = 7


def corpus() -> dict[str, bytes]:
    """The fixed seed models: the example CNN and small synthetic ones."""
    return {
        "example": (ROOT / "examples" / "example_cnn_int8.tflite").read_bytes(),
        "conv": synth.conv2d([1, 6, 6, 2], 3, 3),
        "depthwise": synth.depthwise_conv2d([1, 5, 5, 2], 3, depth_multiplier=2),
        "fc": synth.fully_connected([1, 8], 4),
        "chain": synth.chain([1, 8, 8, 3], [
            ("conv2d", {"out_channels": 4, "kernel": 3}),
            ("max_pool2d", {"kernel": 2, "stride": 2}),
            ("reshape", {"new_shape": [1, 64]}),
            ("fully_connected", {"units": 10}),
            ("softmax", {})]),
    }


# ---- the mutator -------------------------------------------------------------

INTERESTING32 = [0, 1, 2, 0xFF, 0x7F, 0x80, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                 0xFFFFFFFE, 0x10000, 0x100000]
HUGE = [1 << 16, 1 << 20, 1 << 24, 1 << 30, 2**31 - 1, 65535, 100000, 3000]
NEGATIVE = [-1, -2, -7, -(1 << 31)]
Rng = np.random.Generator


def pick(rng: Rng, seq):
    return seq[int(rng.integers(len(seq)))]


def pack(m) -> bytes:
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


# byte level

def bit_flips(rng: Rng, d: bytes) -> bytes:
    b = bytearray(d)
    for _ in range(int(rng.integers(1, 9))):
        b[int(rng.integers(0, len(b)))] ^= 1 << int(rng.integers(0, 8))
    return bytes(b)


def truncate(rng: Rng, d: bytes) -> bytes:
    return d[: int(rng.integers(0, len(d)))]


def overwrite_word(rng: Rng, d: bytes) -> bytes:
    b = bytearray(d)
    i = int(rng.integers(0, (len(b) - 4) // 4)) * 4
    v = pick(rng, INTERESTING32) if rng.random() < 0.7 else int(rng.integers(0, 2**32))
    b[i:i + 4] = struct.pack("<I", v)
    return bytes(b)


def wrong_offset(rng: Rng, d: bytes) -> bytes:
    """Shift a 4-byte word that looks like a flatbuffer offset (aligned, inside the file)."""
    b = bytearray(d)
    cands = [i for i in range(0, len(b) - 4, 4)
             if 4 <= (v := struct.unpack_from("<I", b, i)[0]) < len(b) and v % 4 == 0]
    if not cands:
        return overwrite_word(rng, d)
    i = pick(rng, cands)
    delta = int(rng.choice([-8, -4, 4, 8, 12, 64, -64, len(b)]))
    struct.pack_into("<I", b, i, (struct.unpack_from("<I", b, i)[0] + delta) & 0xFFFFFFFF)
    return bytes(b)


def splice(rng: Rng, d: bytes) -> bytes:
    i, n = int(rng.integers(8, len(d))), int(rng.integers(1, 32))
    if rng.random() < 0.5:
        return d[:i] + d[i + n:]
    return d[:i] + bytes(rng.integers(0, 256, n, dtype=np.uint8)) + d[i:]


BYTE_MUTATIONS = [bit_flips, truncate, overwrite_word, wrong_offset, splice]


# structural, on schema.ModelT

def s_shape_huge(rng: Rng, m) -> None:
    t = pick(rng, m.subgraphs[0].tensors)
    shape = list(t.shape) if t.shape is not None and len(t.shape) else [1]
    shape[int(rng.integers(len(shape)))] = int(pick(rng, HUGE))
    t.shape = shape


def s_shape_negative(rng: Rng, m) -> None:
    t = pick(rng, m.subgraphs[0].tensors)
    shape = list(t.shape) if t.shape is not None and len(t.shape) else [1]
    shape[int(rng.integers(len(shape)))] = int(pick(rng, NEGATIVE))
    t.shape = shape


def s_shape_small(rng: Rng, m) -> None:
    t = pick(rng, m.subgraphs[0].tensors)
    shape = list(t.shape) if t.shape is not None else []
    r = rng.random()
    if r < 0.3 and shape:
        shape[int(rng.integers(len(shape)))] = int(rng.integers(0, 5))
    elif r < 0.5 and shape:
        shape.pop(int(rng.integers(len(shape))))
    elif r < 0.7:
        shape.insert(int(rng.integers(len(shape) + 1)), int(rng.integers(1, 4)))
    elif r < 0.85:
        shape = [int(x) for x in rng.integers(1, 6, int(rng.integers(0, 7)))]
    else:
        shape = []
    t.shape = shape


def s_buffer_index(rng: Rng, m) -> None:
    t = pick(rng, m.subgraphs[0].tensors)
    n = len(m.buffers)
    t.buffer = int(pick(rng, [0, n, n + 100, 2**31 - 1, int(rng.integers(n))]))


def s_buffer_size(rng: Rng, m) -> None:
    bufs = [b for b in m.buffers if b.data is not None and len(b.data)]
    if bufs:
        b = pick(rng, bufs)
        n = len(b.data)
        new = int(pick(rng, [0, 1, n - 1, n + 1, n // 2, n * 2, 3]))
        b.data = np.resize(np.asarray(b.data, np.uint8), max(new, 0)).astype(np.uint8)


def s_const_activation(rng: Rng, m) -> None:
    t = pick(rng, m.subgraphs[0].tensors)
    n = int(np.prod(t.shape)) if t.shape is not None and len(t.shape) else 1
    b = schema.BufferT()
    b.data = np.zeros(max(min(n, 1 << 16), 0), np.uint8)
    m.buffers.append(b)
    t.buffer = len(m.buffers) - 1


def s_type(rng: Rng, m) -> None:
    t = pick(rng, m.subgraphs[0].tensors)
    t.type = int(rng.integers(0, 20)) if rng.random() < 0.8 else int(pick(rng, [100, 127]))


def s_op_tensor(rng: Rng, m) -> None:
    ops = m.subgraphs[0].operators
    if not ops:
        return
    o = pick(rng, ops)
    which = "inputs" if rng.random() < 0.6 else "outputs"
    lst = list(getattr(o, which) if getattr(o, which) is not None else [])
    nt = len(m.subgraphs[0].tensors)
    v = int(pick(rng, [-1, -2, nt, nt + 5, 2**31 - 1, int(rng.integers(nt))]))
    r = rng.random()
    if lst and r < 0.6:
        lst[int(rng.integers(len(lst)))] = v
    elif lst and r < 0.8:
        lst.pop(int(rng.integers(len(lst))))
    else:
        lst.append(v)
    setattr(o, which, lst)


def s_opcode(rng: Rng, m) -> None:
    ops = m.subgraphs[0].operators
    if rng.random() < 0.5 and ops:
        n = len(m.operatorCodes)
        pick(rng, ops).opcodeIndex = int(pick(rng, [n, 2**31 - 1, int(rng.integers(n))]))
    else:
        c = pick(rng, m.operatorCodes)
        code = int(rng.integers(0, 210))
        c.builtinCode, c.deprecatedBuiltinCode = code, min(code, 127)


def s_quant(rng: Rng, m) -> None:
    t = pick(rng, m.subgraphs[0].tensors)
    q = t.quantization or schema.QuantizationParametersT()
    t.quantization = q
    scales = list(q.scale) if q.scale is not None else []
    zps = list(q.zeroPoint) if q.zeroPoint is not None else []
    r = rng.random()
    if r < 0.15:
        q.scale = []
    elif r < 0.3:
        q.zeroPoint = zps[:-1] if zps else [1, 2, 3]
    elif r < 0.45:
        q.scale = scales + [0.1] * int(rng.integers(1, 4))
    elif r < 0.6:
        q.quantizedDimension = int(pick(rng, [-1, 4, 7, 100, 2**31 - 1]))
    elif r < 0.75:
        value = float(pick(rng, [0.0, -0.5, float("nan"), float("inf"), 1e-45, 1e38]))
        q.scale = [value] * max(len(scales), 1)
    elif r < 0.9:
        q.zeroPoint = [int(pick(rng, [-129, 128, 300, -40000, 2**40]))] * max(len(zps), 1)
    else:
        t.quantization = None


def s_graph_io(rng: Rng, m) -> None:
    sg = m.subgraphs[0]
    nt = len(sg.tensors)
    which = "inputs" if rng.random() < 0.5 else "outputs"
    r = rng.random()
    if r < 0.25:
        setattr(sg, which, [])
    elif r < 0.5:
        setattr(sg, which, [int(pick(rng, [-1, nt, nt + 3]))])
    else:
        extra = [int(rng.integers(nt))] if rng.random() < 0.3 else []
        setattr(sg, which, [int(rng.integers(nt)), *extra])


def s_options(rng: Rng, m) -> None:
    ops = m.subgraphs[0].operators
    if not ops:
        return
    o = pick(rng, ops)
    if o.builtinOptions is None or rng.random() < 0.15:
        o.builtinOptions, o.builtinOptionsType = None, 0
        return
    keys = [k for k, v in vars(o.builtinOptions).items() if isinstance(v, int | float | bool)]
    if keys:
        k = pick(rng, keys)
        kind = type(getattr(o.builtinOptions, k))
        setattr(o.builtinOptions, k, kind(pick(rng, [0, -1, 2, 3, 7, 100, 65535, -100])))


def s_drop(rng: Rng, m) -> None:
    sg = m.subgraphs[0]
    r = rng.random()
    if r < 0.3 and sg.operators:
        sg.operators.pop(int(rng.integers(len(sg.operators))))
    elif r < 0.5:
        sg.tensors = sg.tensors[:-1]
    elif r < 0.6:
        m.buffers = m.buffers[: int(rng.integers(len(m.buffers)))]
    elif r < 0.7:
        m.subgraphs = []
    elif r < 0.8:
        m.operatorCodes = []
    elif sg.operators:
        sg.operators.append(copy.deepcopy(pick(rng, sg.operators)))


STRUCT_MUTATIONS = [s_shape_huge, s_shape_negative, s_shape_small, s_buffer_index,
                    s_buffer_size, s_const_activation, s_type, s_op_tensor, s_opcode, s_quant,
                    s_graph_io, s_options, s_drop]


def mutate(rng: Rng, data: bytes) -> tuple[str, bytes]:
    """One mutant of `data` and what was done to it."""
    for _ in range(20):
        try:
            if rng.random() < 0.4:
                f = pick(rng, BYTE_MUTATIONS)
                return f.__name__, f(rng, data)
            m = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
            names = []
            for _ in range(int(rng.integers(1, 3))):
                f = pick(rng, STRUCT_MUTATIONS)
                names.append(f.__name__)
                f(rng, m)
            return "+".join(names), pack(m)
        except (TypeError, struct.error, OverflowError, ValueError, AttributeError, IndexError):
            continue  # an edit the flatbuffers packer cannot write; draw another
    return "truncate", truncate(rng, data)


def mutants(count: int, seed: int) -> list[tuple[str, str, bytes]]:
    """`count` (corpus model, mutation, bytes), the same for the same seed."""
    rng = np.random.default_rng(seed)
    base = corpus()
    names = sorted(base)
    out = []
    for i in range(count):
        name = names[i % len(names)]
        kind, data = mutate(rng, base[name])
        out.append((name, kind, data))
    return out


# ---- running one case --------------------------------------------------------

TARGET = get_target("stm32f4")


def check_in_process(data: bytes) -> str:
    """The pipeline's steps before the build, and numpy-int8 on one vector."""
    graph = load_model_bytes(data, Path("mutant.tflite"))
    check_supported(graph)
    fp = estimate_footprint(sum(t.nbytes for t in graph.tensors if t.is_const),
                            plan_arena(graph).size, stack_bytes=TARGET.stack_bytes,
                            num_ops=len(graph.ops), max_payload=TARGET.max_payload)
    check_fits(TARGET, fp.flash, fp.ram, model=graph.name)
    vectors = random_vectors(graph, 1, 0)
    generate_builtin(graph, TARGET, semihosting=True)
    if not unsupported(graph):
        outputs, _ = Int8Interpreter(graph).run([v[0] for v in vectors])
        for o, t in zip(outputs, graph.output_tensors(), strict=True):
            assert o.size == t.size
    return "ok"
