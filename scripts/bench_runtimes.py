"""Print the builtin-against-tflm table (instructions, arena, flash, agreement).

Needs a TFLM tree (TFLM_DIR or --tflm-dir). See harness/runtimes.py.

    .venv/bin/python scripts/bench_runtimes.py [--models a.tflite,b.tflite] [--vectors 3]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.bench.runtimes import compare_runtimes, table

ROOT = Path(__file__).resolve().parent.parent
MODELS = [ROOT.parent / "shared" / "models" / n
          for n in ("micro_speech_quantized.tflite", "person_detect.tflite")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(map(str, MODELS)))
    ap.add_argument("--vectors", type=int, default=3)
    ap.add_argument("--target", default="stm32f4")
    ap.add_argument("--tflm-dir", default=os.environ.get("TFLM_DIR"))
    args = ap.parse_args()
    if not args.tflm_dir:
        raise SystemExit("error: set TFLM_DIR (or --tflm-dir) to a tflite-micro tree")
    results = [compare_runtimes(Path(m), args.vectors, Path(args.tflm_dir), args.target)
               for m in args.models.split(",")]
    print(table(results, args.target))


if __name__ == "__main__":
    main()
