"""The Reference interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np


class ReferenceUnavailable(Exception):
    """The reference cannot run this model; the message says why."""


class Reference(ABC):
    """A desktop implementation that answers the same inputs as the device."""

    name: str = ""
    description: str = ""

    @abstractmethod
    def load(self, model_path: Path) -> None:
        """Prepare for `model_path`; raise ReferenceUnavailable if it cannot."""

    @abstractmethod
    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """One vector in (one array per model input), one array per output out."""
