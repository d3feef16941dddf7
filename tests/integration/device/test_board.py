"""Board-style runs: the harness on a serial URL (socket://) with the real QEMU behind it.

`--target stm32f4 --port P` builds the Nucleo-64 F4 board firmware (NUCLEO-F401RE: USART2,
16 MHz HSI, no semihosting); QEMU's netduinoplus2 runs exactly that firmware, its second
serial port on USART2, and the inputs cross the link as they would on the board."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest

from harness.config import RunConfig
from harness.device.backends import QemuBackend
from harness.device.client import DeviceClient
from harness.device.link import Link
from harness.device.session import run_vectors
from harness.ops.validate import load_model
from harness.references.runner import run_reference
from harness.run.pipeline import run
from harness.run.vectors import random_vectors
from harness.runtimes.build import build
from harness.runtimes.builtin.firmware import generate_builtin
from harness.targets.table import get_target
from support.paths import EXAMPLE

STM32F4 = get_target("stm32f4")
NUCLEO = get_target("nucleo-f401re")  # what `--target stm32f4 --port P` builds for


def _board_firmware(board=NUCLEO, **options):
    """What `--port` builds: no semihosting (a board has no debugger to answer it)."""
    return build(generate_builtin(load_model(EXAMPLE), board, semihosting=False, **options))


def test_board_style_run_over_a_socket_url(tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    built = _board_firmware()
    with QemuBackend(NUCLEO, built.elf, tmp_path / "qemu") as url:
        res = run(RunConfig(model=EXAMPLE, vectors=3, port=url, runs_dir=tmp_path / "runs",
                            references=["litert-ref"])).to_dict()
    out = capsys.readouterr().out
    assert "board: NUCLEO-F401RE assumed for --target stm32f4 (USART2 on PA2/PA3" in out
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert res["target"]["name"] == "nucleo-f401re"
    assert res["device"]["info"]["target"] == "nucleo-f401re"
    assert res["device"]["info"]["clock_hz"] == "16000000"
    assert res["device"]["info"]["clock"] == "reset"
    assert res["device"]["backend"]["name"] == "board"
    assert res["device"]["info"]["semihosting"] == "0"
    assert res["device"]["info"]["build_id"] == built.build_id
    assert res["device"]["link"]["bytes_sent"] > 3 * 32 * 32  # inputs crossed the link
    assert res["device"]["counter"]["unit"] == "cycles"


def test_qemu_wires_its_second_serial_port_to_usart2(tmp_path: Path) -> None:
    """netduinoplus2 hands -serial ports to USART1, USART2, ... in order."""
    cmd = QemuBackend(STM32F4, tmp_path / "f.elf", tmp_path).command(4444)
    serials = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "-serial"]
    assert serials == ["null", "tcp:127.0.0.1:4444,server=on,wait=on,nodelay=on"]


def test_a_chosen_board_with_flashing_and_the_maximum_clock(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture
                                                            ) -> None:
    """--board nucleo-f411re --clock max --flash st-flash: the run flashes with the board's
    command (a fake st-flash stands where the probe would be) and drives the firmware over
    the port; QEMU models no RCC, so the PLL never locks and the firmware reports running
    on its 16 MHz reset clock, which the console says."""
    board = get_target("nucleo-f411re")
    built = _board_firmware(board, clock="max")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "st-flash").write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'flashed'}\n")
    (bin_dir / "st-flash").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    with QemuBackend(board, built.elf, tmp_path / "qemu") as url:
        res = run(RunConfig(model=EXAMPLE, vectors=2, port=url, board="nucleo-f411re",
                            clock="max", flash="st-flash", runs_dir=tmp_path / "runs",
                            references=["litert-ref"])).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert (tmp_path / "flashed").read_text().split() == [
        "--reset", "write", str(built.elf.with_suffix(".bin")), "0x08000000"]
    assert res["device"]["info"]["clock"] == "fallback"
    assert res["device"]["counter"]["clock_hz"] == 16_000_000
    assert "clock: the maximum did not come up in time; the device runs at 16 MHz (reset)" in (
        capsys.readouterr().out)


def test_board_reset_mid_run_is_survived(tmp_path: Path) -> None:
    built = _board_firmware()
    g = load_model(EXAMPLE)
    vectors = random_vectors(g, 5, seed=9)
    qemu = QemuBackend(NUCLEO, built.elf, tmp_path, monitor=True)

    def reset_after(done: int) -> None:
        if done == 2:  # a real reset of the emulated board between vectors 2 and 3
            with socket.create_connection(("127.0.0.1", qemu.monitor_port), timeout=5) as mon:
                mon.sendall(b"system_reset\n")
                seen = b""
                while seen.count(b"(qemu)") < 2:  # the banner's prompt, then the command's
                    seen += mon.recv(4096)

    with qemu as url, Link.open(url, timeout=0.5, retries=2) as link:
        dev = run_vectors(DeviceClient(link), g, vectors, build_id=built.build_id,
                          jsonl=tmp_path / "o.jsonl", progress=reset_after)
    assert dev.link["device_resets"] >= 1
    assert sum("firmware up" in line for line in dev.logs) >= 2  # it did boot twice
    ref = run_reference("litert-ref", EXAMPLE, vectors)
    assert np.array_equal(dev.outputs[0], ref.outputs[0])
