"""NumPy int8 implementations of the recurrent ops (same arithmetic as firmware/kernels)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

KERNELS: dict[str, Callable[..., np.ndarray]] = {}
