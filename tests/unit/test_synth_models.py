"""The test model builders (tests/support/synth*.py): their models parse as built, and
TFLite Micro and LiteRT agree on them.
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.ops.validate import load_model_bytes
from harness.quant.ranges import ACT_RELU
from support import synth
from support.kernel_cases import (
    assert_bit_exact,
    conv_case,
    depthwise_case,
    pool_case,
    random_input,
    tflm_ref,
)
from support.litert_host import litert_ref


def test_synthetic_model_roundtrips_through_parser() -> None:
    g = load_model_bytes(synth.conv2d((1, 6, 6, 2), 3, (3, 3), stride=(2, 2), padding="VALID",
                                       weight_scale=[0.01, 0.02, 0.03]))
    (op,) = g.ops
    assert op.name == "CONV_2D" and op.options["strideH"] == 2 and op.options["padding"] == 1
    assert list(g.tensors[op.inputs[1]].scales) == pytest.approx([0.01, 0.02, 0.03])


def _synth_example(op: str) -> tuple[bytes, list[int]]:
    if op == "conv2d":
        c = conv_case(1)
        kw = {k: v for k, v in c.items() if k not in ("input_shape", "out_channels", "kernel")}
        return synth.conv2d(c["input_shape"], c["out_channels"], c["kernel"], **kw), \
            c["input_shape"]
    if op == "depthwise_conv2d":
        c = depthwise_case(2)
        kw = {k: v for k, v in c.items() if k not in ("input_shape", "kernel")}
        return synth.depthwise_conv2d(c["input_shape"], c["kernel"], **kw), c["input_shape"]
    if op in ("avg_pool2d", "max_pool2d"):
        c = pool_case(3, 4000)
        build = synth.avg_pool2d if op == "avg_pool2d" else synth.max_pool2d
        return build(c["input_shape"], c["kernel"], stride=c["stride"], padding=c["padding"],
                     activation=c["activation"], scale=c["scale"],
                     zero_point=c["zero_point"]), c["input_shape"]
    if op == "softmax":
        return synth.softmax([3, 40], beta=1.0, input_scale=0.07, input_zp=5), [3, 40]
    if op == "reshape":
        return synth.reshape([1, 2, 3, 4], [1, 24]), [1, 2, 3, 4]
    layers: list[tuple[str, dict[str, object]]] = [
        ("conv2d", {"out_channels": 4, "kernel": 3, "activation": ACT_RELU,
                    "weight_scale": [0.02, 0.03, 0.01, 0.02]}),
        ("depthwise_conv2d", {"kernel": 3, "depth_multiplier": 2, "output_scale": 0.1}),
        ("max_pool2d", {"kernel": 2, "stride": 2}),
        ("avg_pool2d", {"kernel": 2, "stride": 2}),
        ("reshape", {"new_shape": [1, 32]}),
        ("softmax", {}),
    ]
    return synth.chain([1, 8, 8, 3], layers, seed=4), [1, 8, 8, 3]


@pytest.mark.parametrize("op", ["conv2d", "depthwise_conv2d", "avg_pool2d", "max_pool2d",
                                "softmax", "reshape", "chain"])
def test_synth_models_agree_in_tflite_micro(op: str) -> None:
    """synth's models load in TFLite Micro, which agrees with LiteRT on these ops."""
    model, shape = _synth_example(op)
    x = random_input(np.random.default_rng(11), shape)
    assert_bit_exact(tflm_ref(model, x), litert_ref(model, x), {"op": op})
