"""Backends: the registry, the choice from the options, and the Renode and board
preflights. The QEMU preflight with the real QEMU is in
tests/integration/device/test_qemu_backend.py.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest

from harness.device.backends import (
    BACKENDS,
    BoardBackend,
    QemuBackend,
    RenodeBackend,
    backend_class,
    emulators,
)
from harness.device.backends.registry import register
from harness.errors import BadInput, ExitCode, MissingTool, PortUnavailable
from harness.targets.table import get_target
from support.backends import STM32F4, options


def test_backends_register_themselves() -> None:
    assert BACKENDS == {"board": BoardBackend, "qemu": QemuBackend, "renode": RenodeBackend}
    assert emulators() == ["qemu", "renode"]
    with pytest.raises(ValueError, match="taken"):
        register(QemuBackend)


def test_backend_class_from_the_options() -> None:
    assert backend_class(options()) is QemuBackend
    assert backend_class(options(emulator="renode")) is RenodeBackend
    assert backend_class(options(port="/dev/ttyACM0")) is BoardBackend
    with pytest.raises(BadInput, match=r"^--emulator must be qemu or renode, not 'bochs'$"):
        backend_class(options(emulator="bochs"))
    with pytest.raises(BadInput, match="^--emulator renode and --port exclude each other$"):
        backend_class(options(port="/dev/ttyACM0", emulator="renode"))


def test_renode_preflight(empty_path: Path) -> None:
    with pytest.raises(MissingTool, match="renode is not installed"):
        RenodeBackend.preflight(STM32F4, options(emulator="renode"))
    fake = empty_path / "renode"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    RenodeBackend.preflight(STM32F4, options(emulator="renode"))
    no_renode = replace(get_target("cortex-m3"), renode_platform=None, renode_uart=None)
    with pytest.raises(BadInput, match="no Renode platform"):
        RenodeBackend.preflight(no_renode, options(emulator="renode"))


def test_board_preflight(empty_path: Path) -> None:
    with pytest.raises(PortUnavailable, match="does not exist") as info:
        BoardBackend.preflight(STM32F4, options(port="/dev/nonexistent"))
    assert info.value.code == ExitCode.PORT_UNAVAILABLE == 8
    with pytest.raises(PortUnavailable, match="cannot connect to socket://127.0.0.1:9"):
        BoardBackend.preflight(STM32F4, options(port="socket://127.0.0.1:9"))  # discard: shut
    with socket.create_server(("127.0.0.1", 0)) as server:  # a serial server that listens
        url = f"socket://127.0.0.1:{server.getsockname()[1]}"
        BoardBackend.preflight(STM32F4, options(port=url))
        with pytest.raises(BadInput, match="unknown flash tool 'jlink'"):
            BoardBackend.preflight(STM32F4, options(port=url, flash="jlink"))
        with pytest.raises(MissingTool, match="pyocd is not installed"):
            BoardBackend.preflight(STM32F4, options(port=url, flash="pyocd"))
    BoardBackend.preflight(STM32F4, options(port="loop://"))  # other URLs: the link reports


def test_backends_from_the_options(tmp_path: Path) -> None:
    elf = tmp_path / "firmware.elf"
    board = BoardBackend.from_options(STM32F4, elf, tmp_path, options(port="loop://",
                                                                      flash="pyocd"))
    assert board.describe() == {"name": "board", "port": "loop://", "flash": "pyocd"}
    qemu = QemuBackend.from_options(STM32F4, elf, tmp_path, options())
    assert qemu.log_path == tmp_path.resolve() / "qemu.log" and qemu.target is STM32F4
    assert BoardBackend(STM32F4, elf, "loop://", tmp_path).log_path is None
