"""The options a backend is chosen and configured from, as the pipeline passes them."""

from __future__ import annotations

from types import SimpleNamespace

from harness.targets.table import get_target

STM32F4 = get_target("stm32f4")


def options(port: str | None = None, emulator: str = "qemu", flash: str | None = None
            ) -> SimpleNamespace:
    return SimpleNamespace(port=port, emulator=emulator, flash=flash)
