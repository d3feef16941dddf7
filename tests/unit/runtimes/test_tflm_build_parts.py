"""The pieces of the tflm build that need no cross-compiler: which source defines a
symbol (closure.py), which instruction-set extension an instruction belongs to
(isa.py), and the arena allowance for CMSIS-NN's buffers (arena.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.ops.validate import load_model
from harness.runtimes.tflm.arena import cmsis_nn_allowance
from harness.runtimes.tflm.closure import DefinitionIndex, _components
from harness.runtimes.tflm.isa import classify
from support.paths import EXAMPLE
from support.synth_recurrent import LstmCase, lstm_model

KERNEL = """\
#include "conv.h"
namespace tflite {
namespace {
// In an anonymous namespace: no linkage, never a symbol another file needs.
TfLiteStatus Prepare(TfLiteContext* context, TfLiteNode* node) {
  return ConvPrepare(context, node);
}
}  // namespace

TFLMRegistration Register_CONV_2D() {
  if (ready(x)) { return Make(Prepare); }
  return tflite::micro::RegisterOp(Init, Prepare, Eval);
}

MicroAllocator::MicroAllocator(int* a, int b) : a_(a), b_(b) {}

const int kTable[4] = {1, 2, 3, 4};
}  // namespace tflite
"""
HELPER = """\
namespace tflite {
namespace micro {
TFLMRegistration RegisterOp(
    void* (*init)(TfLiteContext* context, const char* buffer, size_t length),
    TfLiteStatus (*prepare)(TfLiteContext* context, TfLiteNode* node)) {
  return {init, prepare};
}
}  // namespace micro
}  // namespace tflite
"""
C_SOURCE = """\
arm_cmsis_nn_status arm_convolve_s8(const cmsis_nn_context *ctx,
                                    const int8_t *input)
{
    return arm_nn_mat_mult(ctx, input);
}
"""


@pytest.fixture
def index(tmp_path: Path) -> DefinitionIndex:
    files = {"conv.cc": KERNEL, "kernel_util.cc": HELPER, "arm_convolve_s8.c": C_SOURCE}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return DefinitionIndex(sorted(tmp_path.iterdir()))


@pytest.mark.parametrize("demangled, defined_in", [
    ("tflite::Register_CONV_2D()", "conv.cc"),
    ("tflite::MicroAllocator::MicroAllocator(int*, int)", "conv.cc"),
    ("vtable for tflite::MicroAllocator", "conv.cc"),
    ("tflite::kTable", "conv.cc"),
    ("tflite::micro::RegisterOp(void* (*)(TfLiteContext*, char const*, unsigned int), "
     "TfLiteStatus (*)(TfLiteContext*, TfLiteNode*))", "kernel_util.cc"),
    ("arm_convolve_s8", "arm_convolve_s8.c"),
])
def test_a_symbol_is_found_where_it_is_defined(index: DefinitionIndex, demangled: str,
                                               defined_in: str) -> None:
    assert [p.name for p in index.files_for(demangled)] == [defined_in]


@pytest.mark.parametrize("demangled", [
    "tflite::Prepare(TfLiteContext*, TfLiteNode*)",  # only in an anonymous namespace
    "tflite::ConvPrepare(TfLiteContext*, TfLiteNode*)",  # called, not defined
    "tflite::ready(int)", "tflite::Make(int)", "arm_nn_mat_mult", "memcpy",
])
def test_calls_and_names_without_linkage_are_not_definitions(index: DefinitionIndex,
                                                             demangled: str) -> None:
    assert index.files_for(demangled) == []


def test_demangled_names_split_into_scopes() -> None:
    assert _components("void tflite::Foo<int, 3>::Bar(int) const") == ["tflite", "Foo", "Bar"]
    assert _components("arm_convolve_s8") == ["arm_convolve_s8"]


@pytest.mark.parametrize("mnemonic, operands, kind", [
    # Armv8.1-M MVE (Arm ARM for Armv8-M, MVE instructions): Q registers, tail predication
    ("vldrb.s8", "q0, [r0]", "mve"), ("vmlava.s8", "r2, q1, q2", "mve"),
    ("vadd.i32", "q0, q0, q7", "mve"), ("letp", "lr, 1000 <f>", "mve"),
    ("dlstp.8", "lr, r3", "mve"), ("vpst", "", "mve"),
    # Armv7E-M DSP extension (A4.4): packed SIMD, saturation, halfword multiplies
    ("smlad", "r0, r1, r2, r3", "dsp"), ("sxtb16", "r1, r2", "dsp"), ("qadd16", "r0, r1, r2",
                                                                        "dsp"),
    # neither: the FPU on S/D registers, ordinary integer instructions
    ("vadd.f32", "s0, s1, s2", "other"), ("vldr", "d8, [sp]", "other"),
    ("mla", "r0, r1, r2, r3", "other"), ("add", "r0, r1", "other"),
])
def test_instructions_are_classified_by_extension(mnemonic: str, operands: str,
                                                  kind: str) -> None:
    assert classify(mnemonic, operands) == kind


def test_cmsis_nn_allowance_covers_the_documented_buffers(tmp_path: Path) -> None:
    graph = load_model(EXAMPLE)
    # arm_convolve_s8_get_buffer_size (DSP): two int16 columns of kh*kw*in_ch per conv
    cols = [2 * 2 * int(np.prod(graph.tensors[op.inputs[1]].shape[1:]))
            for op in graph.ops if op.name == "CONV_2D"]
    assert cols and cmsis_nn_allowance(graph) >= max(cols)
    # TFLM's CMSIS-NN LSTM allocates eight int32 effective-bias vectors of the hidden size
    path = tmp_path / "lstm.tflite"
    path.write_bytes(lstm_model(1, LstmCase(cells=24)))
    assert cmsis_nn_allowance(load_model(path)) >= 8 * 24 * 4
