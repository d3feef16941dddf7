"""The QEMU backend's preflight: the missing-QEMU error, then the real QEMU accepted and
a target without a QEMU machine refused.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from harness.device.backends import QemuBackend
from harness.errors import BadInput, MissingTool
from support.backends import STM32F4, options


def test_qemu_preflight(empty_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingTool, match="qemu-system-arm is not installed") as info:
        QemuBackend.preflight(STM32F4, options())
    assert "apt-get install qemu-system-arm" in info.value.one_line()
    monkeypatch.undo()
    if shutil.which("qemu-system-arm") is None:
        pytest.skip("qemu-system-arm not installed")
    QemuBackend.preflight(STM32F4, options())
    no_machine = dataclasses.replace(STM32F4, qemu_machine=None)
    with pytest.raises(BadInput, match="has no QEMU machine"):
        QemuBackend.preflight(no_machine, options())
