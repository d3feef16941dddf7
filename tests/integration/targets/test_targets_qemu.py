"""Every target in the table in QEMU: the machine exists, the pipeline is bit-exact,
a HardFault is reported, a model that does not fit is refused.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from harness.config import RunConfig
from harness.device.backends import QemuBackend
from harness.device.client import DeviceClient
from harness.device.link import Link
from harness.device.session import run_vectors
from harness.errors import BadInput, DeviceFault
from harness.ops.validate import load_model
from harness.run.pipeline import run
from harness.run.vectors import random_vectors
from harness.runtimes.build import build
from harness.runtimes.builtin.firmware import generate_builtin
from harness.targets.table import ALL
from support import synth
from support.paths import EXAMPLE, FULL, shared_model

# Every target and board QEMU has a machine for (the STM32F4 boards run on netduinoplus2:
# each one's own firmware, USART2 on QEMU's second serial port).
TARGETS = {n: t for n, t in ALL.items() if t.qemu_machine}
NAMES = sorted(TARGETS)
# The whole matrix takes ~20 s, so every target runs by default. Should it grow past
# ~90 s, move targets out of QUICK: they then run only with HARNESS_FULL_TESTS=1.
QUICK = set(NAMES)


def _small_cnn(path: Path) -> Path:
    """CONV_2D, DEPTHWISE_CONV_2D, both pools, RESHAPE, FULLY_CONNECTED, SOFTMAX; ~1 KB arena."""
    path.write_bytes(synth.chain((1, 8, 8, 2), [
        ("conv2d", {"out_channels": 4, "kernel": 3}),
        ("depthwise_conv2d", {"kernel": 3}),
        ("max_pool2d", {"kernel": 2, "stride": 2}),
        ("avg_pool2d", {"kernel": 2, "stride": 2}),
        ("reshape", {"new_shape": [1, 16]}),
        ("fully_connected", {"units": 4}),
        ("softmax", {}),
    ], input_scale=0.04, input_zp=-3, seed=21))
    return path


def _matrix(names: list[str]) -> list:
    return [name if name in QUICK or FULL else pytest.param(name, marks=pytest.mark.skip(
        reason=f"{name}: runs only with HARNESS_FULL_TESTS=1 (invoke test --full)"))
        for name in names]


@cache
def _qemu_machines() -> frozenset[str]:
    out = subprocess.run(["qemu-system-arm", "-M", "help"], capture_output=True, text=True,
                         check=False).stdout
    return frozenset(line.split()[0] for line in out.splitlines()[1:] if line.strip())


@pytest.mark.skipif(not shutil.which("qemu-system-arm"), reason="qemu-system-arm not installed")
@pytest.mark.parametrize("name", NAMES)
def test_qemu_knows_the_machine(name: str) -> None:
    assert TARGETS[name].qemu_machine in _qemu_machines()


# ---- the whole pipeline on every target ---------------------------------------------------


@pytest.mark.parametrize("name", _matrix(NAMES))
def test_full_pipeline_is_bit_exact(name: str, tmp_path: Path) -> None:
    model = EXAMPLE
    res = run(RunConfig(model=model, target=name, vectors=2, references=["litert-ref"],
                        runs_dir=tmp_path / "runs", quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    (cmp,) = [c for c in res["comparisons"] if c["a"] == "device" and c["b"] == "litert-ref"]
    assert cmp["vectors"] == 2 and cmp["max_abs_lsb"] == 0
    assert res["device"]["info"]["target"] == name
    assert res["device"]["info"]["cpu"] == TARGETS[name].cpu


@pytest.mark.parametrize("name", _matrix(NAMES))
def test_hardfault_is_reported(name: str, tmp_path: Path) -> None:
    """An undefined instruction in invoke: a FAULT frame whose PC points into flash."""
    t = TARGETS[name]
    g = load_model(_small_cnn(tmp_path / "small_cnn.tflite"))
    project = generate_builtin(g, t)
    src = project.files["model.c"].decode()
    hook = "int hx_model_invoke(void) {"
    assert hook in src
    project.files["model.c"] = src.replace(hook, hook + '\n  __asm volatile("udf #0");', 1
                                           ).encode()
    built = build(project)
    with QemuBackend(t, built.elf, tmp_path) as url, Link.open(url) as link:
        with pytest.raises(DeviceFault) as info:
            run_vectors(DeviceClient(link, invoke_timeout=10), g, random_vectors(g, 1, 0),
                        build_id=None, jsonl=tmp_path / "out.jsonl")
    text = str(info.value)
    pc = int(re.search(r"PC=0x([0-9A-F]{8})", text).group(1), 16)
    assert t.flash.origin <= pc < t.flash.origin + t.flash.length, text
    if t.cpu != "cortex-m0":  # ARMv6-M has no CFSR
        assert "UNDEFINSTR" in text, text


def test_person_detect_on_the_emulated_stm32f4(tmp_path: Path) -> None:
    """`invoke run --target=stm32f4 --model person_detect.tflite`: the Nucleo-64 F4 firmware
    (USART2, 16 MHz, 96 KB) in QEMU, bit-exact with numpy-int8 (LiteRT cannot load this
    model's per-channel quantization; numpy-int8 is the tested stand-in)."""
    res = run(RunConfig(model=shared_model("person_detect.tflite"), target="stm32f4",
                        vectors=2, references=["litert-ref", "numpy-int8"],
                        runs_dir=tmp_path / "runs", quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    (cmp,) = [c for c in res["comparisons"] if c["a"] == "device" and c["b"] == "numpy-int8"]
    assert cmp["max_abs_lsb"] == 0 and res["build"]["ram_bytes"] <= 96 * 1024
    assert "-serial null -serial tcp:" in res["device"]["backend"]["command"]


def test_pipeline_refuses_a_model_that_does_not_fit(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="person_detect needs ~.* cortex-m0 \\(microbit\\)"):
        run(RunConfig(model=shared_model("person_detect.tflite"), target="cortex-m0",
                      vectors=1, references=["litert-ref"], runs_dir=tmp_path, quiet=True))
