"""SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM: C kernels (host-compiled) and NumPy against
LiteRT BUILTIN_REF (TFLite Micro for the int8-state SVDF, which LiteRT misreads).

Every case runs a sequence of invocations through one interpreter and checks that
the C kernel (state in a buffer kept between calls) and the NumPy reference (state
in its plan) give the same bytes at every step, so the state handling is tested too.
The LSTM -> SVDF chain in QEMU is in tests/integration/ops/test_recurrent_qemu.py.
"""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness.errors import NotAModel, UnsupportedOp
from harness.model.graph import Graph
from harness.model.reader import parse_model_bytes
from harness.ops.c_emit import LoweredOp
from harness.ops.interpreter import run_plan
from harness.ops.plan import OpPlan
from harness.ops.recurrent.params import GATES, W_INPUT, W_RECURRENT, lstm_params, svdf_params
from harness.ops.registry import OPS
from harness.ops.validate import check_ops, load_model, load_model_bytes
from harness.quant.fixedpoint import sigmoid16, tanh16
from support.paths import ROOT
from support.synth_recurrent import LstmCase, SvdfCase, lstm_model, svdf_model

REPO = ROOT
KERNELS = REPO / "firmware" / "kernels"
MODELS = REPO.parent / "shared" / "models"
STEPS = 3  # invocations per case
I32 = ctypes.c_int32


class SvdfParams(ctypes.Structure):
    _fields_ = [(n, I32) for n in (
        "batches", "inputs", "filters", "rank", "memory", "input_offset", "state_zp",
        "output_zp", "feature_multiplier", "feature_shift", "output_multiplier", "output_shift")]


class LstmGate(ctypes.Structure):
    _fields_ = [("input_weights", ctypes.c_void_p), ("recurrent_weights", ctypes.c_void_p),
                ("input_bias", ctypes.c_void_p), ("recurrent_bias", ctypes.c_void_p),
                *[(n, I32) for n in ("input_multiplier", "input_shift",
                                     "recurrent_multiplier", "recurrent_shift")]]


class LstmParams(ctypes.Structure):
    _fields_ = [*[(n, I32) for n in (
        "batches", "steps", "time_major", "inputs", "cells", "cell_shift", "cell_clip",
        "hidden_zp", "hidden_multiplier", "hidden_shift")], ("gate", LstmGate * 4)]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """The recurrent kernels alone, with the flags of tests/support/kernels_host.py."""
    out = tmp_path_factory.mktemp("hx_recurrent") / "librecurrent.so"
    cmd = ["gcc", "-std=c99", "-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror",
           f"-I{KERNELS}", str(KERNELS / "hx_recurrent.c"), str(KERNELS / "hx_lstm.c"),
           "-o", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    so = ctypes.CDLL(str(out))
    so.hx_sigmoid_q3_12.restype = ctypes.c_int16
    so.hx_sigmoid_q3_12.argtypes = [ctypes.c_int16]
    so.hx_tanh_s16.restype = ctypes.c_int16
    so.hx_tanh_s16.argtypes = [ctypes.c_int16, I32]
    return so


def _p(a: np.ndarray) -> int:
    return a.ctypes.data


class CSvdf:
    """The C SVDF of one op, its state kept between calls like the device's."""

    def __init__(self, lib: ctypes.CDLL, graph: Graph, op_index: int) -> None:
        op = graph.ops[op_index]
        sp = svdf_params(graph, op)
        t = [graph.tensors[i] for i in op.inputs]
        self.keep = [np.ascontiguousarray(t[1].data), np.ascontiguousarray(t[2].data),
                     np.ascontiguousarray(t[3].data.astype(np.int32))]
        st = t[4]
        self.state = np.full(st.size, st.zero_point if sp.state_bits == 8 else 0,
                             np.int8 if sp.state_bits == 8 else np.int16)
        self.params = SvdfParams(sp.batches, sp.inputs, sp.filters, sp.rank, sp.memory,
                                 -sp.input_zp, sp.state_zp, sp.output_zp, *sp.feature_rq,
                                 *sp.output_rq)
        self.fn = lib.hx_svdf_s8_s16 if sp.state_bits == 16 else lib.hx_svdf_s8_s8
        self.out_shape = graph.tensors[op.outputs[0]].shape

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros(self.out_shape, np.int8)
        self.fn(ctypes.byref(self.params), ctypes.c_void_p(_p(x)),
                *(ctypes.c_void_p(_p(a)) for a in self.keep), ctypes.c_void_p(_p(self.state)),
                ctypes.c_void_p(_p(out)))
        return out


class CLstm:
    """The C LSTM of one op, its output and cell state kept between calls."""

    def __init__(self, lib: ctypes.CDLL, graph: Graph, op_index: int) -> None:
        op = graph.ops[op_index]
        lp = lstm_params(graph, op)
        self.keep: list[np.ndarray] = []
        gates = []
        for g in GATES:
            arrays = [np.ascontiguousarray(graph.tensors[op.inputs[W_INPUT[g]]].data),
                      np.ascontiguousarray(graph.tensors[op.inputs[W_RECURRENT[g]]].data),
                      *(np.ascontiguousarray(b, np.int32) for b in lp.bias[g])]
            self.keep += arrays
            (mi, si), (mr, sr) = lp.gate_rq[g]
            gates.append(LstmGate(*(_p(a) for a in arrays), mi, si, mr, sr))
        self.params = LstmParams(lp.batches, lp.steps, int(lp.time_major), lp.n_input,
                                 lp.n_cell, lp.cell_shift, lp.cell_clip, lp.hidden_zp,
                                 *lp.hidden_rq, (LstmGate * 4)(*gates))
        self.h = np.full(lp.batches * lp.n_cell, lp.output_state_zp, np.int8)
        self.c = np.zeros(lp.batches * lp.n_cell, np.int16)
        self.out_shape = graph.tensors[op.outputs[0]].shape
        self.fn = lib.hx_unidirectional_lstm_s8

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros(self.out_shape, np.int8)
        self.fn(ctypes.byref(self.params), ctypes.c_void_p(_p(x)), ctypes.c_void_p(_p(self.h)),
                ctypes.c_void_p(_p(self.c)), ctypes.c_void_p(_p(out)))
        return out


def _inputs_of(graph: Graph, op_index: int, given: np.ndarray) -> list:
    op = graph.ops[op_index]
    return [given] + [None] * (len(op.inputs) - 1)


def _check_one_op_model(lib: ctypes.CDLL, data: bytes, reference, seed: int) -> int:
    """Run STEPS random inputs through reference, C and NumPy; assert equal bytes.
    Returns how many distinct output values the reference produced (a liveness check)."""
    graph = load_model_bytes(data)
    kernel = CSvdf if graph.ops[0].name == "SVDF" else CLstm
    c_op, plan = kernel(lib, graph, 0), OpPlan(graph, graph.ops[0])
    x_t = graph.tensors[graph.inputs[0]]
    rng = np.random.default_rng(seed)
    seen: set[int] = set()
    for step in range(STEPS):
        x = rng.integers(-128, 128, x_t.shape).astype(np.int8)
        want = reference(x)
        assert np.array_equal(c_op(x), want), f"C differs at invocation {step}"
        assert np.array_equal(run_plan(plan, _inputs_of(graph, 0, x)), want), \
            f"NumPy differs at invocation {step}"
        seen |= set(np.unique(want).tolist())
    return len(seen)


def _litert(data: bytes):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]

    def run(x: np.ndarray) -> np.ndarray:
        it.set_tensor(inp, x)
        it.invoke()
        return it.get_tensor(out).copy()
    return run


def _tflm(data: bytes):
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    it = runtime.Interpreter.from_bytes(data)

    def run(x: np.ndarray) -> np.ndarray:
        it.set_input(x, 0)
        it.invoke()
        return np.array(it.get_output(0))
    return run


# ---- gemmlowp int16 activations --------------------------------------------------


def test_int16_sigmoid_tanh_c_equals_numpy_everywhere(lib: ctypes.CDLL) -> None:
    """Every int16 input, every integer-bit count the LSTM can use."""
    x = np.arange(-32768, 32768)
    c_sig = np.array([lib.hx_sigmoid_q3_12(int(v)) for v in x[::7]])
    assert np.array_equal(c_sig, sigmoid16(x[::7]))
    for bits in range(7):
        c_tanh = np.array([lib.hx_tanh_s16(int(v), bits) for v in x[bits::7]])
        assert np.array_equal(c_tanh, tanh16(x[bits::7], bits)), bits
    assert sigmoid16(np.array([0]))[0] == 1 << 14 and tanh16(np.array([0]), 3)[0] == 0


# ---- SVDF ------------------------------------------------------------------------


def _svdf_case(seed: int, state_bits: int) -> SvdfCase:
    rng = np.random.default_rng(1000 + seed)
    return SvdfCase(batches=int(rng.integers(1, 3)), inputs=int(rng.integers(1, 24)),
                    units=int(rng.integers(1, 9)), rank=int(rng.integers(1, 3)),
                    memory=int(rng.integers(1, 9)), state_bits=state_bits)


@pytest.mark.parametrize("seed", range(20))
def test_svdf_int16_state_matches_litert(lib: ctypes.CDLL, seed: int) -> None:
    data = svdf_model(seed, _svdf_case(seed, 16))
    assert _check_one_op_model(lib, data, _litert(data), seed) > 1


@pytest.mark.parametrize("seed", range(20))
def test_svdf_int8_state_matches_tflm(lib: ctypes.CDLL, seed: int) -> None:
    """LiteRT reads any SVDF state as int16; TFLite Micro is the reference here."""
    data = svdf_model(seed, _svdf_case(seed, 8))
    assert _check_one_op_model(lib, data, _tflm(data), seed) > 1


# ---- LSTM ------------------------------------------------------------------------


def _lstm_case(seed: int) -> LstmCase:
    rng = np.random.default_rng(2000 + seed)
    return LstmCase(batches=int(rng.integers(1, 3)), steps=int(rng.integers(1, 5)),
                    inputs=int(rng.integers(1, 16)), cells=int(rng.integers(1, 12)),
                    time_major=bool(rng.integers(0, 2)), cell_shift=int(rng.integers(-15, -8)),
                    cell_clip=float(rng.choice([0.0, 0.5, 10.0])))


@pytest.mark.parametrize("seed", range(20))
def test_lstm_matches_litert(lib: ctypes.CDLL, seed: int) -> None:
    data = lstm_model(seed, _lstm_case(seed))
    assert _check_one_op_model(lib, data, _litert(data), seed) > 1


# ---- real models, op by op -------------------------------------------------------


def _model(name: str) -> Path:
    path = MODELS / f"{name}.tflite"
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared models folder is not part of a clone)")
    return path


@pytest.mark.parametrize("name", ["trained_lstm_int8", "dtln_noise_suppression"])
def test_real_lstm_ops_match_litert_over_a_sequence(lib: ctypes.CDLL, name: str) -> None:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    path = _model(name)
    graph = load_model(path)
    it = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    ops = [op.index for op in graph.ops if op.name == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    c_ops = {k: CLstm(lib, graph, k) for k in ops}
    plans = {k: OpPlan(graph, graph.ops[k]) for k in ops}
    rng = np.random.default_rng(7)
    inp = graph.input_tensors()[0]
    for step in range(4):
        it.set_tensor(inp.index, rng.integers(-128, 128, inp.shape).astype(np.int8))
        it.invoke()
        for k in ops:
            op = graph.ops[k]
            x, want = it.get_tensor(op.inputs[0]), it.get_tensor(op.outputs[0])
            assert np.array_equal(c_ops[k](x), want), (k, step)
            assert np.array_equal(run_plan(plans[k], _inputs_of(graph, k, x)), want), (k, step)


def test_keyword_svdf_ops_match_tflm_over_a_sequence(lib: ctypes.CDLL) -> None:
    """keyword_scrambled_8bit's seven int8-state SVDFs, op by op, against TFLite Micro."""
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    path = _model("keyword_scrambled_8bit")
    graph = load_model(path)
    it = runtime.Interpreter.from_file(
        str(path), intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    ops = [op.index for op in graph.ops if op.name == "SVDF"]
    c_ops = {k: CSvdf(lib, graph, k) for k in ops}
    plans = {k: OpPlan(graph, graph.ops[k]) for k in ops}

    def tensor(i: int) -> np.ndarray:
        t = it.GetTensor(i, 0)
        return np.asarray(t["tensor_data"]).reshape(t["shape"]).copy()

    rng = np.random.default_rng(3)
    for step in range(4):
        it.set_input(rng.integers(-3000, 3000, (1, 96)).astype(np.int16), 0)
        it.invoke()
        for k in ops:
            op = graph.ops[k]
            x, want = tensor(op.inputs[0]), tensor(op.outputs[0])
            assert np.array_equal(c_ops[k](x), want), (k, step)
            assert np.array_equal(run_plan(plans[k], _inputs_of(graph, k, x)), want), (k, step)


# ---- model checks ----------------------------------------------------------------


def test_required_operands_are_the_schema_slots() -> None:
    """SVDF needs all but its bias; the LSTM all but the input gate (CIFG) and the
    optional peephole, projection and layer-norm operands."""
    assert OPS["SVDF"].required == (0, 1, 2, 4)
    assert OPS["UNIDIRECTIONAL_SEQUENCE_LSTM"].required == (0, 2, 3, 4, 6, 7, 8, 13, 14, 15,
                                                             18, 19)


@pytest.mark.parametrize(("model", "slot"), [("svdf", 4), ("lstm", 19), ("lstm", 6)])
def test_a_missing_required_operand_is_not_a_model(model: str, slot: int) -> None:
    data = svdf_model(0, SvdfCase()) if model == "svdf" else lstm_model(0, LstmCase())
    graph = parse_model_bytes(data)
    graph.ops[0].inputs[slot] = -1
    with pytest.raises(NotAModel, match=rf"input\(s\) \[{slot}\] are missing"):
        check_ops(graph)


def test_a_cifg_lstm_passes_the_model_checks_and_the_builtin_refuses_it() -> None:
    graph = parse_model_bytes(lstm_model(0, LstmCase()))
    graph.ops[0].inputs[1] = -1  # no input gate
    check_ops(graph)
    with pytest.raises(UnsupportedOp, match="CIFG"):
        _lower(graph, 0)


# ---- lowering --------------------------------------------------------------------


def _lower(graph: Graph, k: int) -> LoweredOp:
    op = graph.ops[k]
    lo = LoweredOp(op.index, op.name, [])
    OPS[op.name].emit(graph, op, lo)
    return lo


def test_lowering_gives_each_op_static_state_set_to_its_zero_point() -> None:
    graph = load_model(_model("dtln_noise_suppression"))
    lo = _lower(graph, 1)  # the second LSTM: output state zero point -4
    assert "static int8_t op1_output_state[128];" in lo.call
    assert "static int16_t op1_cell_state[128];" in lo.call
    assert "hx_fill_s8(op1_output_state, 128, -4);" in lo.call
    assert "hx_unidirectional_lstm_s8(&op1_params, HX_T34, op1_output_state" in lo.call
    assert not any(f"HX_T{i}" in lo.call for i in (35, 36))  # the arena slots stay unused
    kw = load_model(_model("keyword_scrambled_8bit"))
    assert "hx_svdf_s8_s8(&op1_params" in _lower(kw, 1).call


def test_lowering_refuses_what_the_kernel_lacks() -> None:
    graph = load_model_bytes(lstm_model(0, LstmCase()))
    op = graph.ops[0]
    op.inputs[9] = op.inputs[1]  # pretend a peephole weight
    with pytest.raises(UnsupportedOp, match="peephole"):
        _lower(graph, 0)
