"""The runtimes by name, as every consumer reads them (the pipeline, --runtime's check).

``auto`` is not a runtime: harness.config.resolve_runtime turns it into one.
"""

from __future__ import annotations

from harness.runtimes.base import Runtime
from harness.runtimes.builtin.runtime import BuiltinRuntime
from harness.runtimes.tflm.runtime import TflmRuntime

RUNTIMES: dict[str, type[Runtime]] = {cls.name: cls for cls in (BuiltinRuntime, TflmRuntime)}
