"""The device C code builds warning-free for the target (cortex-m4) with the real
cross-compiler: the protocol and every kernel in each of its builds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from support.kernels_host import ARM_FLAGS, KERNEL_DIR, kernel_sources
from support.testdev import PROTO_DIR


def test_device_code_builds_for_cortex_m4(tmp_path: Path) -> None:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    cmd = [
        gcc,
        "-mcpu=cortex-m4",
        "-mthumb",
        "-mfpu=fpv4-sp-d16",
        "-mfloat-abi=hard",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-c",
        str(PROTO_DIR / "hx_proto.c"),
        "-o",
        str(tmp_path / "hx_proto.o"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0 and not res.stderr, res.stderr


# ---- the target build --------------------------------------------------------


def test_kernels_build_warning_free_for_cortex_m4(tmp_path: Path) -> None:
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    for src in kernel_sources():
        for defines in ([], ["-DHX_REQUANT_SINGLE_ROUNDING"], ["-DHX_FC_REQUANT_DOUBLE_ROUNDING"]):
            cmd = [cc, *ARM_FLAGS, *defines, f"-I{KERNEL_DIR}", "-c", str(src),
                   "-o", str(tmp_path / (src.stem + ".o"))]
            res = subprocess.run(cmd, capture_output=True, text=True, check=False)
            assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stderr}"
            assert res.stderr == "", res.stderr
