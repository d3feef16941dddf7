"""Make the bundled example model: a small int8 CNN for 32x32x1 inputs.

Needs TensorFlow (`pip install -e '.[tf]'`); the harness itself does not.
The network learns a toy task (which of four oriented stripe patterns is in a
noisy image) so its weights are trained, not random, then is converted with
full-integer quantization (int8 input and output).

    python scripts/make_example_model.py examples/example_cnn_int8.tflite
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def make_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy 32x32 images of stripes at one of four orientations, labels 0..3."""
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32)
    labels = rng.integers(0, 4, n)
    images = np.empty((n, 32, 32, 1), np.float32)
    for k, label in enumerate(labels):
        angle = label * np.pi / 4 + rng.normal(0, 0.05)
        period = rng.uniform(4, 8)
        phase = rng.uniform(0, 2 * np.pi)
        u = xx * np.cos(angle) + yy * np.sin(angle)
        img = np.sin(2 * np.pi * u / period + phase) + rng.normal(0, 0.4, (32, 32))
        images[k, :, :, 0] = img
    return images, labels


def build_and_convert(out: Path, seed: int = 7) -> None:
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x, y = make_images(2000, rng)
    model = tf.keras.Sequential([
        tf.keras.Input((32, 32, 1), batch_size=1),  # static shapes: no SHAPE op
        tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        tf.keras.layers.DepthwiseConv2D(3, strides=2, padding="valid", depth_multiplier=2,
                                        activation="relu6"),
        tf.keras.layers.MaxPooling2D(2),
        tf.keras.layers.AveragePooling2D(2, padding="same"),
        tf.keras.layers.Reshape((256,)),
        tf.keras.layers.Dense(4),
        tf.keras.layers.Softmax(),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=4, batch_size=64, verbose=2)

    def representative():
        for k in range(200):
            yield [x[k : k + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(conv.convert())
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, nargs="?", default=Path("examples/example_cnn_int8.tflite"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    build_and_convert(args.out, args.seed)
