"""Bad-input sweep, part 1: >= 1,000 mutated .tflite files (issue #7), in-process.

support/fuzz.py damages a fixed corpus; every case goes through the pipeline's steps up to
the build (load_model, check_supported, footprint, vectors, generate_builtin) and the
numpy-int8 reference, and must end in a one-line HarnessError with a documented exit code
other than 6 (internal), or run cleanly - never another exception, never a hang. A smaller
set goes through the real CLI in test_fuzz_models_cli.py. (Integration tier: at >= 1,000
cases it is a campaign, not a unit test, and the unit tier must stay under 60 s.)
"""

from __future__ import annotations

import signal
import time
from collections import Counter

from harness.errors import ExitCode, HarnessError
from support.fuzz import CASES, SEED, check_in_process, mutants

HANG_S = 30  # a case still running after this long is a hang (not a speed assertion)
DOCUMENTED = {int(c) for c in ExitCode} - {int(ExitCode.INTERNAL)}


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def test_mutated_models_in_process() -> None:
    cases = mutants(CASES, SEED)
    outcomes: Counter[str] = Counter()
    crashes = []
    old = signal.signal(signal.SIGALRM, _alarm)
    start = time.monotonic()
    try:
        for i, (name, kind, data) in enumerate(cases):
            signal.alarm(HANG_S)
            try:
                outcomes[check_in_process(data)] += 1
            except HarnessError as exc:
                msg = exc.one_line()
                outcomes[f"exit {int(exc.code)}"] += 1
                if int(exc.code) not in DOCUMENTED or "\n" in msg or not msg.strip():
                    crashes.append((i, name, kind, f"bad error {int(exc.code)}: {msg!r}"))
            except Hang:
                crashes.append((i, name, kind, f"still running after {HANG_S} s"))
            except Exception as exc:  # noqa: BLE001 - every other exception is a crash
                crashes.append((i, name, kind, f"{type(exc).__name__}: {exc}"))
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, old)
    took = time.monotonic() - start
    print(f"\nfuzz in-process: {len(cases)} mutated models in {took:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    assert len(cases) >= 1000
    assert not crashes, f"{len(crashes)} crash(es), first: {crashes[:5]}"
    # The sweep reaches every stage: refusals at parse and at the support checks,
    # and mutants that still generate firmware and run in numpy-int8.
    assert outcomes["ok"] >= 50 and outcomes["exit 11"] >= 500
    assert outcomes["exit 12"] + outcomes["exit 13"] >= 10
