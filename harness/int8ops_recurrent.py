"""NumPy int8 implementations of the recurrent ops (same arithmetic as firmware/kernels)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

KERNELS: dict[str, Callable[..., np.ndarray]] = {}

# Activation dtypes each op handles here ("int8", "int16", "float32"); the
# supported-op checks and the coverage table read this.
DTYPES: dict[str, frozenset[str]] = {}
