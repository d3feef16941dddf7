"""Desktop references: each one a small module behind the Reference interface.

References run in worker processes (see runner.py) so that a native crash in
a reference library is that reference failing, never the run.
"""

from __future__ import annotations

from harness.references.base import Reference, ReferenceUnavailable
from harness.references.float_model import FloatModel
from harness.references.litert import LiteRT, LiteRTRef
from harness.references.numpy_float import NumpyFloat
from harness.references.numpy_int8 import NumpyInt8
from harness.references.tflm_host import TflmHost

REFERENCES: dict[str, type[Reference]] = {
    cls.name: cls for cls in (LiteRTRef, LiteRT, TflmHost, NumpyInt8, NumpyFloat, FloatModel)
}

__all__ = ["REFERENCES", "Reference", "ReferenceUnavailable"]
