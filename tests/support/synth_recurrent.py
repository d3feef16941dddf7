"""Synthetic SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM models (no TensorFlow), for tests.

Built with :class:`support.synth_builder.ModelBuilder`; the variable (state)
tensors are marked ``isVariable`` and the LSTM gets the five intermediate
tensors the integer LSTM reads its hidden scale from, like converted models.
Scales are drawn so the gates see pre-activations of a few units (sigmoid and
tanh work across their range, with some saturation) from a seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from support.synth_builder import ModelBuilder

TT = schema.TensorType


@dataclass
class SvdfCase:
    batches: int = 1
    inputs: int = 8
    units: int = 4
    rank: int = 1
    memory: int = 4
    state_bits: int = 16  # 16: TFLite spec (LiteRT); 8: TFLite Micro's int8 state


def _const(b: ModelBuilder, name: str, data: np.ndarray, tt: int, scale: float) -> int:
    return b.add_tensor(name, data.shape, tt, data=data, scale=scale, zero_point=0)


def _variable(b: ModelBuilder, name: str, shape: list[int], tt: int, scale: float,
              zp: int) -> int:
    t = b.add_tensor(name, shape, tt, scale=scale, zero_point=zp)
    b.tensors[t].isVariable = True
    return t


def svdf_model(seed: int, case: SvdfCase) -> bytes:
    """One SVDF op: int8 input and output, int16 (or int8) state and time weights."""
    b = ModelBuilder(seed, "support.synth_recurrent svdf")
    x = b.input([case.batches, case.inputs], float(b.rng.uniform(0.01, 0.1)),
                int(b.rng.integers(-128, 100)))
    return b.build(add_svdf(b, x, case))


def add_svdf(b: ModelBuilder, x: int, case: SvdfCase) -> int:
    """Append an SVDF on tensor ``x`` ([batches, inputs] int8); returns its output."""
    rng = b.rng
    filters = case.units * case.rank
    wf_scale = float(rng.uniform(0.002, 0.02))
    wf = _const(b, "weights_feature",
                rng.integers(-127, 128, (filters, case.inputs)).astype(np.int8), TT.INT8, wf_scale)
    if case.state_bits == 16:
        st_scale, st_zp, st_tt = float(rng.uniform(0.0005, 0.004)), 0, TT.INT16
        wt_data = rng.integers(-32767, 32768, (filters, case.memory)).astype(np.int16)
        wt_scale = float(rng.uniform(2e-6, 2e-5))
    else:
        st_scale, st_zp, st_tt = float(rng.uniform(0.1, 0.6)), int(rng.integers(-60, 60)), TT.INT8
        wt_data = rng.integers(-127, 128, (filters, case.memory)).astype(np.int8)
        wt_scale = float(rng.uniform(0.002, 0.01))
    wt = _const(b, "weights_time", wt_data, st_tt, wt_scale)
    bias_scale = float(np.float32(st_scale) * np.float32(wt_scale))
    bias = _const(b, "bias", rng.integers(-2000, 2000, case.units).astype(np.int32), TT.INT32,
                  bias_scale)
    st = _variable(b, "activation_state", [case.batches, filters * case.memory], st_tt,
                   st_scale, st_zp)
    out_scale = float(rng.uniform(0.02, 0.2))
    out = b.add_tensor("output", [case.batches, case.units], TT.INT8, scale=out_scale,
                       zero_point=int(rng.integers(-128, 0)))
    opts = schema.SVDFOptionsT()
    opts.rank = case.rank
    opts.fusedActivationFunction = schema.ActivationFunctionType.RELU
    b.add_op(schema.BuiltinOperator.SVDF, [x, wf, wt, bias, st], [out],
             schema.BuiltinOptions.SVDFOptions, opts, version=3)
    return out


@dataclass
class LstmCase:
    batches: int = 1
    steps: int = 3
    inputs: int = 6
    cells: int = 5
    time_major: bool = False
    cell_shift: int = -11  # cell state scale 2**cell_shift
    cell_clip: float = 10.0


def lstm_model(seed: int, case: LstmCase) -> bytes:
    """One integer UNIDIRECTIONAL_SEQUENCE_LSTM (no CIFG, peephole, projection, layer norm)."""
    b = ModelBuilder(seed, "support.synth_recurrent lstm")
    shape = [case.steps, case.batches, case.inputs] if case.time_major else \
        [case.batches, case.steps, case.inputs]
    x = b.input(shape, float(b.rng.uniform(0.005, 0.05)), int(b.rng.integers(-128, 60)))
    return b.build(add_lstm(b, x, case))


def add_lstm(b: ModelBuilder, x: int, case: LstmCase) -> int:
    """Append an integer LSTM on tensor ``x`` (shaped as ``case`` says); returns its output."""
    rng = b.rng
    n_in, n_cell = case.inputs, case.cells
    in_scale, _ = b.qparams(x)
    shape = b.shape(x)
    out_scale, out_zp = float(rng.uniform(2 ** -8, 2 ** -6)), int(rng.integers(-10, 10))
    gate_real = float(rng.uniform(2.0, 6.0))  # typical |pre-activation| the weights give

    def weights(name: str, rows: int, cols: int, act_scale: float) -> int:
        w_scale = gate_real / (np.sqrt(cols) * 127 * 64 * act_scale)
        data = rng.integers(-127, 128, (rows, cols)).astype(np.int8)
        return _const(b, name, data, TT.INT8, w_scale)

    gates = ("input", "forget", "cell", "output")
    w_in = [weights(f"input_to_{g}", n_cell, n_in, in_scale) for g in gates]
    w_rec = [weights(f"recurrent_to_{g}", n_cell, n_cell, out_scale) for g in gates]
    biases = []
    for g, w in zip(gates, w_in, strict=True):
        bscale = float(np.float32(in_scale) * np.float32(b.tensors[w].quantization.scale[0]))
        data = np.round(rng.uniform(-1.0, 1.0, n_cell) / bscale).astype(np.int32)
        biases.append(_const(b, f"{g}_gate_bias", data, TT.INT32, bscale))
    h = _variable(b, "output_state", [case.batches, n_cell], TT.INT8, out_scale, out_zp)
    c = _variable(b, "cell_state", [case.batches, n_cell], TT.INT16, 2.0 ** case.cell_shift, 0)
    mids = [b.add_tensor(f"{g}_intermediate", [0], TT.FLOAT32) for g in gates]
    mids.append(b.add_tensor("effective_hidden_scale_intermediate", [0], TT.INT8,
                             scale=out_scale, zero_point=out_zp))
    out_shape = shape[:-1] + [n_cell]
    out = b.add_tensor("output", out_shape, TT.INT8, scale=out_scale, zero_point=out_zp)
    opts = schema.UnidirectionalSequenceLSTMOptionsT()
    opts.fusedActivationFunction = schema.ActivationFunctionType.TANH
    opts.cellClip = case.cell_clip
    opts.projClip = 0.0
    opts.timeMajor = case.time_major
    inputs = [x, *w_in, *w_rec, -1, -1, -1, *biases, -1, -1, h, c, -1, -1, -1, -1]
    k = b.add_op(schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM, inputs, [out],
                 schema.BuiltinOptions.UnidirectionalSequenceLSTMOptions, opts)
    b.operators[k].intermediates = mids
    return out


def chain_model(seed: int = 0) -> bytes:
    """LSTM -> RESHAPE -> SVDF (int16 state): every recurrent kernel in one model."""
    b = ModelBuilder(seed, "support.synth_recurrent chain")
    lstm = LstmCase(batches=1, steps=4, inputs=6, cells=5)
    x = b.input([1, lstm.steps, lstm.inputs], 0.02, -5)
    h = b.reshape(add_lstm(b, x, lstm), [1, lstm.steps * lstm.cells])
    return b.build(add_svdf(b, h, SvdfCase(inputs=lstm.steps * lstm.cells, units=6, rank=2,
                                           memory=3)))
