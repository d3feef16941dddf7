"""Error types and the exit codes they map to.

Every failure a user can cause or meet is one of these; the CLI prints
`error: <message>` on one line and exits with the class's code.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    PASS = 0
    DRIFT = 1  # device output drifts beyond tolerance from a checked reference
    BAD_INPUT = 2  # bad model, vectors, options or configuration
    BUILD_FAILED = 3  # firmware generation or cross-compilation failed
    DEVICE_FAILED = 4  # emulator/board did not boot, answer, or answered wrongly
    MISSING_TOOL = 5  # a required program (compiler, emulator) is not installed
    INTERNAL = 6  # a bug in the harness: message points at the log
    UNCHECKED = 7  # the device ran, but no enforced reference could run the model
    PORT_UNAVAILABLE = 8  # --port names no serial port, or another process holds it
    DISK_FULL = 9  # the run folder's disk is full; what was measured is kept
    MODEL_NOT_FOUND = 10  # --model names no file
    NOT_A_MODEL = 11  # the file is not a (valid) .tflite flatbuffer
    UNSUPPORTED_OP = 12  # the model uses an op the runtime lacks
    UNSUPPORTED_TYPE = 13  # e.g. a float model where int8 is required
    HANGUP = 129  # SIGHUP (the terminal or SSH session closed); stopped as on Ctrl-C
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (timeout, docker stop, a cancelled CI job); as on Ctrl-C


class HarnessError(Exception):
    """Base class: a failure with a one-line message and an exit code."""

    code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def one_line(self) -> str:
        msg = str(self).replace("\n", " ")
        return f"{msg} ({self.hint})" if self.hint else msg


class InternalError(HarnessError):
    """A bug: the message names the exception and where its traceback was saved."""

    code = ExitCode.INTERNAL


class BadInput(HarnessError):
    code = ExitCode.BAD_INPUT


class ModelNotFound(BadInput):
    code = ExitCode.MODEL_NOT_FOUND


class NotAModel(BadInput):
    """Not a .tflite flatbuffer, or a damaged one."""

    code = ExitCode.NOT_A_MODEL


class UnsupportedOp(BadInput):
    """The model uses an op the selected runtime does not implement."""

    code = ExitCode.UNSUPPORTED_OP


class UnsupportedType(BadInput):
    """The model's tensor types do not suit the runtime (e.g. float where int8 is needed)."""

    code = ExitCode.UNSUPPORTED_TYPE


class BuildFailed(HarnessError):
    code = ExitCode.BUILD_FAILED


class DeviceError(HarnessError):
    code = ExitCode.DEVICE_FAILED


class DeviceTimeout(DeviceError):
    """The device stopped answering within the deadline."""


class DeviceFault(DeviceError):
    """The device reported a HardFault (registers in the message)."""


class ProtocolError(DeviceError):
    """Frames kept failing their checks after all retries."""


class MissingTool(HarnessError):
    code = ExitCode.MISSING_TOOL


class PortUnavailable(HarnessError):
    """The serial port does not exist, cannot be opened, or another process holds it."""

    code = ExitCode.PORT_UNAVAILABLE


class DiskFull(HarnessError):
    """Writing into the run folder failed for lack of space (ENOSPC, EDQUOT, EFBIG)."""

    code = ExitCode.DISK_FULL
