"""The error types: each its own documented exit code."""

from __future__ import annotations

from harness.errors import DiskFull, ExitCode


def test_full_disk_error_type() -> None:
    assert DiskFull("x").code == 9 and ExitCode.DISK_FULL not in (
        ExitCode.INTERNAL, ExitCode.DEVICE_FAILED, ExitCode.BAD_INPUT)
