#!/usr/bin/env python3
"""Vectors per second of the `numpy-int8` reference against LiteRT BUILTIN_REF.

    python scripts/bench_numpy_int8.py [--seconds 2] [--requant reference] [MODEL ...]

Without MODEL arguments: the bundled example model and, if present,
../shared/models/person_detect.tflite (which LiteRT 2.3 refuses to load, so
only numpy-int8's figure is printed for it).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.ops.interpreter import Int8Interpreter  # noqa: E402
from harness.ops.plan import REQUANT_MODES  # noqa: E402
from harness.ops.validate import load_model  # noqa: E402

DEFAULT_MODELS = [ROOT / "examples" / "example_cnn_int8.tflite",
                  ROOT.parent / "shared" / "models" / "person_detect.tflite"]


def rate(step: Callable[[np.ndarray], object], vectors: list[np.ndarray],
         seconds: float) -> float:
    """Vectors per second of ``step`` over ``seconds`` (after one warm-up call)."""
    step(vectors[0])
    n, start = 0, time.perf_counter()
    while True:
        step(vectors[n % len(vectors)])
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def litert_step(path: Path) -> Callable[[np.ndarray], object] | str:
    """A LiteRT BUILTIN_REF runner, or the reason LiteRT cannot load the model."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        it = Interpreter(model_path=str(path),
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
    except Exception as exc:  # LiteRT raises RuntimeError/ValueError with its own text
        reason = " ".join(str(exc).split())
        return reason if len(reason) <= 100 else reason[:100] + "..."
    inp = it.get_input_details()[0]["index"]
    out = it.get_output_details()[0]["index"]

    def step(x: np.ndarray) -> object:
        it.set_tensor(inp, x)
        it.invoke()
        return it.get_tensor(out)

    return step


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    ap.add_argument("--requant", choices=REQUANT_MODES, default="reference")
    args = ap.parse_args()
    models = args.models or [p for p in DEFAULT_MODELS if p.exists()]
    for path in models:
        graph = load_model(path)
        shape = graph.tensors[graph.inputs[0]].shape
        rng = np.random.default_rng(0)
        vectors = [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(16)]
        interp = Int8Interpreter(graph, args.requant)
        ours = rate(lambda x, interp=interp: interp.run([x]), vectors, args.seconds)
        print(f"{path.name}: {len(graph.ops)} ops, input {list(shape)}")
        print(f"  numpy-int8 ({args.requant}): {ours:10.1f} vectors/s")
        lit = litert_step(path)
        if isinstance(lit, str):
            print(f"  litert-ref: cannot load the model ({lit})")
        else:
            theirs = rate(lit, vectors, args.seconds)
            print(f"  litert-ref (BUILTIN_REF): {theirs:10.1f} vectors/s "
                  f"(numpy-int8 is {ours / theirs:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
