"""The model as the harness sees it: tensors (shape, type, quantization), ops and their
options, and the main subgraph's inputs and outputs. Nothing here reads files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Tensor:
    """One tensor of the graph, with its quantization."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str  # lower-case numpy name: "int8", "int32", "float32", ...
    scales: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    zero_points: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quantized_dimension: int = 0
    data: np.ndarray | None = None  # constant contents, shaped
    is_variable: bool = False

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def scale(self) -> float:
        """Per-tensor scale (the first one when per-channel)."""
        return float(self.scales[0]) if len(self.scales) else 0.0

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0]) if len(self.zero_points) else 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    @property
    def quantized(self) -> bool:
        return len(self.scales) > 0 and self.dtype != "float32"


@dataclass
class Op:
    """One operator: its builtin name, tensor indices (-1 = absent) and options."""

    index: int
    name: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any]
    version: int = 1
    intermediates: list[int] = field(default_factory=list)  # e.g. the integer LSTM's scales

    # Typed accessors of the options (schema *Options tables), with the schema's defaults.

    def int_option(self, key: str, default: int = 0) -> int:
        """An integer option; ``default`` when absent or null."""
        value = self.options.get(key)
        return default if value is None else int(value)

    def float_option(self, key: str, default: float = 0.0) -> float:
        """A float option; ``default`` when absent or null."""
        value = self.options.get(key)
        return default if value is None else float(value)

    @property
    def fused_activation(self) -> int:
        """The fused activation code (schema ActivationFunctionType; 0 = NONE)."""
        return self.int_option("fusedActivationFunction", 0)

    @property
    def padding(self) -> int:
        """The padding code (schema Padding: 0 = SAME, 1 = VALID)."""
        return self.int_option("padding", 0)

    @property
    def stride(self) -> tuple[int, int]:
        """(height, width) stride of a convolution or pooling."""
        return self.int_option("strideH", 1), self.int_option("strideW", 1)

    @property
    def dilation(self) -> tuple[int, int]:
        """(height, width) dilation of a convolution; 1 where absent or 0."""
        return (self.int_option("dilationHFactor", 1) or 1,
                self.int_option("dilationWFactor", 1) or 1)

    @property
    def filter_hw(self) -> tuple[int, int]:
        """(height, width) window of a pooling op."""
        return self.int_option("filterHeight", 1), self.int_option("filterWidth", 1)


@dataclass
class Graph:
    """The model's main subgraph."""

    path: Path
    sha256: str
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    description: str = ""
    op_versions: dict[str, int] = field(default_factory=dict)

    @property
    def model_hash(self) -> str:
        """Short hash the firmware reports in its handshake."""
        return self.sha256[:16]

    @property
    def name(self) -> str:
        return self.path.stem

    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]

    def op_names(self) -> list[str]:
        return sorted({op.name for op in self.ops})
