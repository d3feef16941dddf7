"""Desktop references: each one a small module behind the Reference interface.

References run in worker processes (see runner.py) so that a native crash in
a reference library is that reference failing, never the run.
"""

from __future__ import annotations

from .base import Reference, ReferenceUnavailable
from .litert import LiteRT, LiteRTRef

REFERENCES: dict[str, type[Reference]] = {
    LiteRTRef.name: LiteRTRef,
    LiteRT.name: LiteRT,
}

# The reference each on-target runtime must match bit for bit.
RUNTIME_REFERENCE = {"builtin": "litert-ref", "tflm": "tflm-host"}

__all__ = ["REFERENCES", "RUNTIME_REFERENCE", "Reference", "ReferenceUnavailable"]
