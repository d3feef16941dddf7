"""Board-style runs: the harness on a serial URL (socket://) with the real QEMU behind it."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np

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


def _board_firmware():
    """What `--port` builds: no semihosting (a board has no debugger to answer it)."""
    return build(generate_builtin(load_model(EXAMPLE), STM32F4, semihosting=False))


def test_board_style_run_over_a_socket_url(tmp_path: Path) -> None:
    built = _board_firmware()
    with QemuBackend(STM32F4, built.elf, tmp_path / "qemu") as url:
        res = run(RunConfig(model=EXAMPLE, vectors=3, port=url, runs_dir=tmp_path / "runs",
                            references=["litert-ref"], quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert res["device"]["backend"]["name"] == "board"
    assert res["device"]["info"]["semihosting"] == "0"
    assert res["device"]["info"]["build_id"] == built.build_id
    assert res["device"]["link"]["bytes_sent"] > 3 * 32 * 32  # inputs crossed the link
    assert res["device"]["counter"]["unit"] == "cycles"


def test_board_reset_mid_run_is_survived(tmp_path: Path) -> None:
    built = _board_firmware()
    g = load_model(EXAMPLE)
    vectors = random_vectors(g, 5, seed=9)
    qemu = QemuBackend(STM32F4, built.elf, tmp_path, monitor=True)

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
