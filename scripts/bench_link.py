"""Print the run-stage benchmarks: serial-link efficiency and emulated throughput.

The measurements live in harness/bench/ (link.py, emulated.py) and `invoke bench`
writes all figures to BENCHMARKS.md; this script prints a subset quickly.

    .venv/bin/python scripts/bench_link.py [--baud 115200] [--repeats 5] [--window 3]
        [--only protocol,pty,tcp,emulated] [--targets stm32f4,cortex-m4] [--model M]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from harness.bench.emulated import emulated_throughput
from harness.bench.link import EXAMPLE, protocol_rates, pty_rates, tcp_rates
from harness.device.client import WINDOW

ROOT = Path(__file__).resolve().parent.parent


def _print(what: str, baud: int, rates: list[float]) -> None:
    eff = [r / (baud / 10) for r in rates]
    print(f"{what}, baud {baud}: payload {statistics.median(rates):.0f} B/s = "
          f"{statistics.median(eff):.3f} of baud/10 (median of {len(eff)}; min "
          f"{min(eff):.3f}, max {max(eff):.3f}); goal >= 0.9", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--model", type=Path, default=EXAMPLE, help="model for the link figures")
    ap.add_argument("--emulated-model", type=Path,
                    default=ROOT.parent / "shared" / "models" / "person_detect.tflite")
    ap.add_argument("--vectors", type=int, default=10, help="for the emulated figure")
    ap.add_argument("--repeats", type=int, default=5, help="input writes per link figure")
    ap.add_argument("--window", type=int, default=WINDOW,
                    help="WRITE_INPUT requests in flight (1: stop and wait)")
    ap.add_argument("--targets", default="stm32f4,cortex-m4",
                    help="targets for the QEMU-behind link figures")
    ap.add_argument("--only", default="protocol,pty,tcp,emulated",
                    help="which figures: protocol, pty, tcp, emulated")
    args = ap.parse_args()
    only = set(args.only.split(","))
    b, r, w = args.baud, args.repeats, args.window
    if "protocol" in only:
        _print(f"protocol (host-compiled device, paced socket, window {w})", b,
               protocol_rates(b, r, w))
    for name in args.targets.split(","):
        if "pty" in only:
            _print(f"link {name} (QEMU pty behind a paced pty pair, window {w})", b,
                   pty_rates(b, args.model, r, w, name))
        if "tcp" in only:
            _print(f"link {name} (QEMU TCP serial behind a paced relay, window {w})", b,
                   tcp_rates(b, args.model, r, w, name))
    if "emulated" in only:
        for fig in emulated_throughput(args.emulated_model, args.vectors):
            print(f"emulated: {fig.name}: median {fig.median:.3f} {fig.unit} (min "
                  f"{min(fig.samples):.3f}, max {max(fig.samples):.3f})"
                  + (f"; goal {fig.goal}" if fig.goal else ""))


if __name__ == "__main__":
    main()
