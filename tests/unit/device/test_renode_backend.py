"""Renode backend without Renode: the rendered platform, script and suite, the labelled
counter, and `invoke setup --renode`."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from harness.device.backends.qemu import QemuBackend
from harness.device.backends.renode import (
    RenodeBackend,
    private_env,
    render_platform,
    render_resc,
    render_robot,
    renode_test_command,
)
from harness.device.counter import counter_section, ticks_scale
from harness.errors import MissingTool
from harness.targets.table import TARGETS, get_target

RENODE_TARGETS = [name for name, t in TARGETS.items() if t.renode_platform]


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines()]


def test_every_target_has_a_renode_platform() -> None:
    # Renode's generic Cortex-M, NVIC, memory and UART models cover every memory map here.
    assert sorted(RENODE_TARGETS) == sorted(TARGETS)


def test_stm32f4_overlays_renodes_board_offline_with_a_dwt(tmp_path: Path) -> None:
    repl = render_platform(get_target("stm32f4"), tmp_path)
    lines = _lines(repl)
    code = " ".join(line for line in lines if not line.startswith("//"))
    assert 'using "platforms/boards/stm32f4_discovery.repl"' in lines
    # The board's init section (ApplySVD @https://...) is replaced: nothing is downloaded.
    assert "ApplySVD" not in code and "http" not in code
    assert lines[lines.index("sysbus:") + 1] == "init:"
    # DWT at its architectural address (Arm DDI0403E C1.8: DWT at 0xE0001000).
    assert "dwt: Miscellaneous.DWT @ sysbus 0xE0001000" in lines
    # The core runs on the 16 MHz HSI out of reset (RM0368 6.2.2), as the firmware assumes.
    assert "frequency: 16000000" in lines and "systickFrequency: 16000000" in lines


@pytest.mark.parametrize("name", ["cortex-m3", "cortex-m33", "cortex-m0"])
def test_own_machine_follows_the_targets_memory_map(name: str, tmp_path: Path) -> None:
    target = get_target(name)
    lines = _lines(render_platform(target, tmp_path))
    assert not any(line.startswith("using") for line in lines)
    assert f'cpuType: "{target.cpu}"' in lines
    assert f"flash: Memory.MappedMemory @ sysbus 0x{target.flash.origin:08X}" in lines
    assert f"ram: Memory.MappedMemory @ sysbus 0x{target.ram.origin:08X}" in lines
    assert f"size: 0x{target.ram.length:X}" in lines
    uart = next(line for line in lines if line.startswith("uart0:"))
    assert uart.endswith(f"@ sysbus 0x{target.uart.base:08X}")
    for irq in target.uart.irqs:
        assert any(line.endswith(f"-> nvic@{irq}") for line in lines), irq
    # Armv6-M has no DWT cycle counter (Arm DDI0419 C1.8): none is added on the M0.
    assert ("dwt: Miscellaneous.DWT @ sysbus 0xE0001000" in lines) == target.core.dwt_cyccnt


def test_cortex_m55_runs_on_renodes_m85(tmp_path: Path) -> None:
    lines = _lines(render_platform(get_target("cortex-m55"), tmp_path))
    assert 'cpuType: "cortex-m85"' in lines  # Renode 1.15 has no Cortex-M55 model


def test_run_script_writes_inputs_into_memory_and_counts_instructions(tmp_path: Path) -> None:
    inputs = tmp_path / "hx_inputs.bin"
    resc = render_resc(get_target("stm32f4"), tmp_path / "fw.elf", tmp_path, 4321, inputs)
    text, lines = resc.read_text(), _lines(resc)
    assert lines.index("using sysbus") < lines.index('mach create "stm32f4"')
    assert f"machine LoadPlatformDescription @{(tmp_path / 'platform.repl').resolve()}" in lines
    assert "cpu PerformanceInMips 16" in lines  # 1 instruction per cycle at the 16 MHz HSI
    assert 'cpu AddHook `sysbus GetSymbolAddress "hx_semihost_read"` """' in lines
    assert f'System.IO.File.ReadAllBytes(r"{inputs.resolve()}")' in text
    assert "machine.SystemBus.WriteBytes(data, dst, offset, length)" in text
    assert 'cpu AddHook `sysbus GetSymbolAddress "hx_counter_read"` """' in lines
    assert "self.ExecutedInstructions & 0xFFFFFFFF" in text
    assert 'emulation CreateServerSocketTerminal 4321 "harness_uart" false' in lines
    assert lines.index("start") > lines.index("connector Connect sysbus.usart2 harness_uart")


def test_renode_runs_private_and_headless(tmp_path: Path) -> None:
    backend = RenodeBackend(get_target("stm32f4"), tmp_path / "x.elf", tmp_path / "run")
    command = backend.command()
    assert command[:4] == ["renode", "--disable-xwt", "--plain", "--console"]
    assert command[command.index("--config") + 1] == str(tmp_path / "run" / "renode.config")
    env = private_env(tmp_path / "run")
    assert env["TMPDIR"] == str(tmp_path / "run" / "tmp")
    assert Path(env["TMPDIR"]).is_dir() and not Path(env["TMPDIR"]).name.startswith("renode-")


def test_missing_renode_says_how_to_install(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingTool) as info:
        RenodeBackend.preflight(get_target("stm32f4"), None)  # type: ignore[arg-type]
    line = info.value.one_line()
    assert "\n" not in line and "invoke setup --renode" in line and "renode/README.md" in line


def test_robot_suite_uses_renodes_keywords_and_the_harness_library(tmp_path: Path) -> None:
    robot = render_robot(get_target("stm32f4"), tmp_path / "fw.elf", tmp_path,
                         model=tmp_path / "m.tflite", vectors=3)
    text = robot.read_text()
    for needle in ("Resource          ${RENODEKEYWORDS}", "Create Terminal Tester    ${UART}",
                   "Start Emulation", "Wait For Line On Uart", "includeUnfinishedLine=true",
                   "Library           harness.robot.HarnessLibrary",
                   "Cross Check Model    ${MODEL}    target=stm32f4    emulator=renode",
                   "rounding=${ROUNDING}", "per_layer=${PER_LAYER}", "Verdict Should Be    PASS",
                   f"${{MODEL}}          {(tmp_path / 'm.tflite').resolve()}",
                   "${VECTORS}        3"):
        assert needle in text, needle
    assert renode_test_command(robot, "ROUNDING:single") == [
        "renode-test", str(robot), "--variable=ROUNDING:single"]


def test_renode_counts_are_instructions_as_read() -> None:
    target = get_target("stm32f4")
    backend = RenodeBackend(target, Path("x.elf"), Path("run"))
    counter = counter_section("systick", [4708619, 4708659], backend, target)
    assert counter["unit"] == "instructions" and counter["per_inference"] == [4708619, 4708659]
    assert "ExecutedInstructions" in counter["how"] and ticks_scale(counter, target) == 1.0
    # QEMU's SysTick ticks still convert at 1 ns per instruction (-icount shift=0).
    qemu = counter_section("systick", [168], QemuBackend(target, Path("x.elf"), Path("r")), target)
    assert qemu["per_inference"] == [1000] and qemu["unit"] == "instructions"


def _archive(tmp_path: Path) -> tuple[Path, str]:
    """A release-shaped archive: one top folder holding `renode`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("renode_1.15.1_portable/renode")
        body = b"#!/bin/sh\n"
        info.size, info.mode = len(body), 0o755
        tar.addfile(info, io.BytesIO(body))
    path = tmp_path / "renode-1.15.1.linux-portable.tar.gz"
    path.write_bytes(buf.getvalue())
    return path, hashlib.sha256(buf.getvalue()).hexdigest()


def test_setup_renode_offline_is_one_line_with_what_to_do(tmp_path: Path) -> None:
    from invoke import Exit

    from tasks import setup_renode

    with pytest.raises(Exit) as info:  # nothing listens on port 9 of loopback
        setup_renode("0" * 64, url="http://127.0.0.1:9/renode.tar.gz", cache=tmp_path)
    assert info.value.code == 5
    message = str(info.value.message)
    assert message.startswith("error: cannot download Renode 1.15.1") and "\n" not in message
    assert "install Renode by hand, see renode/README.md" in message
    assert not (tmp_path / "renode-1.15.1").exists()


def test_setup_renode_checks_the_sha256_before_unpacking(tmp_path: Path) -> None:
    from invoke import Exit

    from tasks import setup_renode

    archive, digest = _archive(tmp_path)
    with pytest.raises(Exit, match="sha256") as info:
        setup_renode("f" * 64, url=archive.as_uri(), cache=tmp_path / "cache")
    assert info.value.code == 5 and not (tmp_path / "cache" / "renode-1.15.1").exists()
    dest = setup_renode(digest, url=archive.as_uri(), cache=tmp_path / "cache")
    assert dest == tmp_path / "cache" / "renode-1.15.1" and (dest / "renode").is_file()
