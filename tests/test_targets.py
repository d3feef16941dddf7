"""Every target in the table: complete entries, a bit-exact run in QEMU, faults, memory fit."""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from conftest import EXAMPLE, FULL, ROOT, shared_model
from harness.device.backends import QemuBackend
from harness.device.client import DeviceClient
from harness.device.link import Link
from harness.device.session import run_vectors
from harness.errors import BadInput, DeviceFault
from harness.model.graph import Graph
from harness.ops.validate import load_model
from harness.run import pipeline
from harness.run.pipeline import RunConfig, run
from harness.run.vectors import random_vectors
from harness.runtimes.build import build
from harness.runtimes.builtin.arena import plan_arena
from harness.runtimes.firmware import generate_builtin
from harness.targets.table import TARGETS, Target, check_fits, estimate_footprint
from support import synth

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


def _footprint(graph: Graph, target_name: str = "cortex-m0"):
    t = TARGETS[target_name]
    weights = sum(x.nbytes for x in graph.tensors if x.is_const)
    return estimate_footprint(weights, plan_arena(graph).size, stack_bytes=t.stack_bytes,
                              num_ops=len(graph.ops), max_payload=t.max_payload)


# ---- the table ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_table_entry_has_what_the_generator_needs(name: str) -> None:
    t: Target = TARGETS[name]
    assert t.name == name
    assert f"-mcpu={t.cpu}" in t.cflags and "-mthumb" in t.cflags
    # Hard-float code needs the startup code to switch the FPU on first.
    assert t.has_fpu == ("-mfloat-abi=hard" in t.cflags)
    assert (ROOT / "firmware" / "uart" / f"{t.uart}.c").exists()
    assert t.clock_hz > 0 and (t.uart_clock_hz or t.clock_hz) > 0
    assert t.qemu_machine
    for mem in (t.flash, t.ram):
        assert mem.length > 0 and mem.origin % 4 == 0 and mem.length % 1024 == 0
    # The vector table sits at the start of flash: VTOR needs 128-byte alignment.
    assert t.flash.origin % 128 == 0
    flash_end, ram_end = t.flash.origin + t.flash.length, t.ram.origin + t.ram.length
    assert flash_end <= t.ram.origin or ram_end <= t.flash.origin, "flash and RAM overlap"
    assert 0x40000000 <= t.uart_base < 0x60000000, "UART outside the peripheral region"
    if t.boots_secure:  # Secure code uses the Secure aliases (address bit 28 set)
        assert all(a & 0x10000000 for a in (t.flash.origin, t.ram.origin, t.uart_base))
    # The generator renders it all.
    project = generate_builtin(load_model(EXAMPLE), t)
    config = project.files["hx_config.h"].decode()
    assert f"#define HX_UART_BASE 0x{t.uart_base:08X}u" in config
    assert f"#define HX_CLOCK_HZ {t.clock_hz}u" in config
    assert f"src/uart/{t.uart}.c" in project.files
    assert {"src/uart/hx_uart_ring.c", "src/uart/hx_uart_ring.h"} <= project.files.keys()
    assert "src/uart/hx_uart_ring.c" in project.files["Makefile"].decode()
    assert f"#define HX_UART_RING_SIZE {t.uart_ring_bytes}u" in config
    link = project.files["link.ld"].decode()
    assert f"ORIGIN = 0x{t.flash.origin:08X}, LENGTH = {t.flash.length}" in link
    assert f"ORIGIN = 0x{t.ram.origin:08X}, LENGTH = {t.ram.length}" in link
    assert " ".join(t.cflags) in project.files["Makefile"].decode()


@pytest.mark.skipif(not shutil.which("qemu-system-arm"), reason="qemu-system-arm not installed")
@pytest.mark.parametrize("name", NAMES)
def test_qemu_knows_the_machine(name: str) -> None:
    assert TARGETS[name].qemu_machine in _qemu_machines()


# ---- the whole pipeline on every target ---------------------------------------------------


@pytest.mark.parametrize("name", _matrix(NAMES))
def test_full_pipeline_is_bit_exact(name: str, tmp_path: Path) -> None:
    model = EXAMPLE
    res = run(RunConfig(model=model, target=name, vectors=2, references=["litert-ref"],
                        runs_dir=tmp_path / "runs", quiet=True))
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


# ---- does the model fit? ------------------------------------------------------------------


def test_person_detect_does_not_fit_the_microbit() -> None:
    g = load_model(shared_model("person_detect.tflite"))
    fp = _footprint(g)
    with pytest.raises(BadInput) as info:
        check_fits(TARGETS["cortex-m0"], fp.flash, fp.ram, model=g.name,
                   flash_detail=fp.flash_detail, ram_detail=fp.ram_detail)
    msg = info.value.one_line()
    assert "\n" not in msg
    assert msg.startswith("person_detect needs ~")
    assert "of RAM (54 KB arena + 1 KB firmware + 2 KB stack)" in msg
    assert "but cortex-m0 (microbit) has 16 KB" in msg
    assert "cortex-m55" in info.value.hint  # where it would fit
    for name in ("stm32f4", "cortex-m3", "cortex-m33", "cortex-m55"):
        check_fits(TARGETS[name], fp.flash, fp.ram, model=g.name)  # fits: no error


def test_example_fits_every_target() -> None:
    g = load_model(EXAMPLE)
    for name, t in TARGETS.items():
        fp = _footprint(g, name)
        check_fits(t, fp.flash, fp.ram, model=g.name)  # no error
    assert _footprint(g, "cortex-m0").ram <= 16 * 1024 < _footprint(g, "stm32f4").ram


def test_flash_overflow_is_named() -> None:
    t = TARGETS["cortex-m0"]
    with pytest.raises(BadInput, match=r"needs ~300 KB of flash \(w\) but cortex-m0 \(microbit\) "
                                       r"has 256 KB"):
        check_fits(t, 300 * 1024, 1024, model="big", flash_detail="w")


def test_pipeline_refuses_a_model_that_does_not_fit(tmp_path: Path) -> None:
    if "check_fits" not in inspect.getsource(pipeline):
        pytest.skip("the pipeline does not call harness.targets.check_fits yet")
    with pytest.raises(BadInput, match="person_detect needs ~.* cortex-m0 \\(microbit\\)"):
        run(RunConfig(model=shared_model("person_detect.tflite"), target="cortex-m0",
                      vectors=1, references=["litert-ref"], runs_dir=tmp_path, quiet=True))
