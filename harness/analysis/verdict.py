"""The verdict: a status from a closed set, the reason in one line, and the exit code.

PASS when every enforced comparison holds; DRIFT names the worst failure (or, with
per-layer data, the first op where the device already differs from its own
reference); UNCHECKED when no enforced reference ran. A run that stops early is
ERROR, INTERRUPTED or (never finished writing) INCOMPLETE.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.analysis.compare import Comparison
from harness.errors import ExitCode, HarnessError


class Status(StrEnum):
    """How a run ended."""

    PASS = "PASS"
    DRIFT = "DRIFT"
    UNCHECKED = "UNCHECKED"
    ERROR = "ERROR"
    INTERRUPTED = "INTERRUPTED"
    INCOMPLETE = "INCOMPLETE"


@dataclass(frozen=True)
class Verdict:
    """A status and its reason; ``exit_code`` is what the process exits with."""

    status: Status
    reason: str
    exit_code: int | None

    def to_dict(self) -> dict:
        return {"status": str(self.status), "reason": self.reason, "exit_code": self.exit_code}

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        return cls(Status(d["status"]), str(d.get("reason", "")), d.get("exit_code"))

    @classmethod
    def incomplete(cls) -> Verdict:
        """What results.json says until the run ends one way or another."""
        return cls(Status.INCOMPLETE, "the run did not finish", None)

    @classmethod
    def error(cls, exc: HarnessError) -> Verdict:
        return cls(Status.ERROR, exc.one_line(), int(exc.code))

    @classmethod
    def interrupted(cls) -> Verdict:
        return cls(Status.INTERRUPTED, "interrupted (Ctrl-C)", int(ExitCode.INTERRUPTED))


def decide(comparisons: list[Comparison], own: str, chain: tuple[str, ...],
           references: dict[str, dict], per_layer: dict | None = None) -> Verdict:
    """The verdict of the device's comparisons against `own`, the enforced reference.

    `chain` is the runtime's reference and its stand-ins: when `own` stands in for the
    first, the reason says so and why.
    """
    verdict = _decide(comparisons, own, references, per_layer)
    if own != chain[0] and verdict.status in (Status.PASS, Status.DRIFT):
        why = references.get(chain[0], {}).get("reason") or "not among the references"
        verdict = Verdict(verdict.status,
                          f"{verdict.reason} ({own} stands in for {chain[0]}: {why})",
                          verdict.exit_code)
    return verdict


def _decide(comparisons: list[Comparison], own: str, references: dict[str, dict],
            per_layer: dict | None) -> Verdict:
    enforced = [c for c in comparisons if c.enforced]
    failed = [c for c in enforced if not c.passed]
    if failed:
        worst = max(failed, key=lambda c: c.max_abs_lsb)
        return Verdict(Status.DRIFT, str(worst), int(ExitCode.DRIFT))
    for pair in (per_layer or {}).get("pairs", []):
        first = pair["first_divergence"]
        if pair["a"] == "device" and pair["b"] == own and first:
            return Verdict(Status.DRIFT, f"outputs match {own}, but op {first['op']} "
                           f"({first['name']}) already differs by up to "
                           f"{first['max_abs_lsb']} LSB", int(ExitCode.DRIFT))
    if not enforced:
        why = references.get(own, {}).get("reason") or f"{own} was not among the references"
        return Verdict(Status.UNCHECKED, f"no enforced reference ran: {why}",
                       int(ExitCode.UNCHECKED))
    names = sorted({c.b for c in enforced})
    return Verdict(Status.PASS, f"bit-exact within tolerance against {', '.join(names)}",
                   int(ExitCode.PASS))
