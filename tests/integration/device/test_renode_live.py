"""Renode for real: the firmware boots and answers HELLO, and the rendered Robot suite
passes under renode-test (skipped, with the reason, where Renode is not installed).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.device.backends.renode import RenodeBackend, render_renode_files, renode_test_command
from harness.targets.table import get_target
from support.paths import EXAMPLE

NO_RENODE = "Renode not installed: see renode/README.md"


def _stm32f4_elf() -> Path:
    """The example model's firmware for stm32f4 without semihosting (inputs over UART)."""
    from harness.ops.validate import load_model
    from harness.runtimes.build import build
    from harness.runtimes.builtin.firmware import generate_builtin

    project = generate_builtin(load_model(EXAMPLE), get_target("stm32f4"), semihosting=False)
    return build(project).elf


@pytest.mark.skipif(shutil.which("renode") is None, reason=NO_RENODE)
def test_renode_boots_firmware_and_answers_hello(tmp_path: Path) -> None:
    from harness.device.link import Link

    backend = RenodeBackend(get_target("stm32f4"), _stm32f4_elf(), tmp_path)
    with backend as url:
        assert url.startswith("socket://127.0.0.1:")
        with Link.open(url) as link:
            info = link.wait_for_device(timeout=60)
    assert info, "no INFO answer from the firmware under Renode"


@pytest.mark.skipif(shutil.which("renode-test") is None, reason=NO_RENODE)
def test_renode_test_suite_passes(tmp_path: Path) -> None:
    _resc, robot = render_renode_files(get_target("stm32f4"), _stm32f4_elf(), tmp_path)
    proc = subprocess.run(renode_test_command(robot), cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
