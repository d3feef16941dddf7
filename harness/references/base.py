"""The Reference interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np


class ReferenceUnavailable(Exception):
    """The reference cannot run this model; the message says why."""


class Reference(ABC):
    """A desktop implementation that answers the same inputs as the device.

    Outputs are in the model's integer domain, except for float references
    (`real_valued = True`), whose outputs and tensors are real numbers.
    """

    name: str = ""
    description: str = ""
    #: Its place in the drift chain float-model -> numpy-float -> numpy-int8 = litert-ref
    #: -> litert -> tflm-host -> device (harness/analysis/attribution.py): lower is
    #: nearer the float network.
    chain_position: int = 0
    real_valued: bool = False

    @abstractmethod
    def load(self, model_path: Path, *, per_layer: bool = False) -> None:
        """Prepare for `model_path`; raise ReferenceUnavailable if it cannot."""

    @abstractmethod
    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """One vector in (one array per model input), one array per output out."""

    def tensors(self) -> dict[int, np.ndarray]:
        """After run(): every activation tensor of the last inference, by tensor index.

        Only meaningful when loaded with per_layer=True; {} when the reference
        cannot expose intermediates.
        """
        return {}
