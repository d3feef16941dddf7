"""int16 and float32 test models written to disk and loaded, and the 16x8 chain of the
core ops that several tiers run.
"""

from __future__ import annotations

from pathlib import Path

from harness.model.graph import Graph
from harness.ops.validate import load_model
from harness.quant.ranges import ACT_RELU


def write(tmp_path: Path, model: bytes, name: str = "m.tflite") -> Path:
    path = tmp_path / name
    path.write_bytes(model)
    return path


def graph(tmp_path: Path, model: bytes) -> Graph:
    return load_model(write(tmp_path, model))


INT16_CHAIN = [
    ("conv2d", {"out_channels": 4, "kernel": 3, "weight_scale": [0.01, 0.02, 0.015, 0.03],
                "output_scale": 0.02, "activation": ACT_RELU, "bias_range": 100000}),
    ("depthwise_conv2d", {"kernel": 3, "depth_multiplier": 2, "stride": 2,
                          "output_scale": 0.01, "bias_range": 100000}),
    ("reshape", {"new_shape": [1, 72]}),
    ("fully_connected", {"units": 6, "output_scale": 0.01, "bias_range": 100000}),
    ("softmax", {"beta": 1.0}),
]
