"""Robot Framework keyword library: cross-check a model from a Robot suite.

    *** Settings ***
    Library    harness.robot.HarnessLibrary

    *** Test Cases ***
    Example Model Is Bit Exact On stm32f4
        ${status}=    Cross Check Model    ${CURDIR}/model.tflite    target=stm32f4
        ...           vectors=2    references=litert-ref
        Verdict Should Be    PASS
        Max Delta Should Be At Most    litert-ref    0

Runs go to `<output dir>/runs` unless `runs_dir=` says otherwise. Keywords fail with an
AssertionError that carries the numbers; the run's one-line summary goes to the Robot log.
"""

from __future__ import annotations

from pathlib import Path

from robot.api import logger
from robot.api.deco import keyword, library

from harness.errors import HarnessError
from harness.run.pipeline import RunConfig, run


def _names(value: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _tolerances(value: str | dict | None) -> dict[str, int]:
    """`litert=2,numpy-float=1` (or a dict) -> {name: lsb}."""
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k): int(v) for k, v in value.items()}
    out = {}
    for item in value.split(","):
        name, _, lsb = item.partition("=")
        if not lsb:
            raise ValueError(f"tolerance {item!r} is not name=lsb")
        out[name.strip()] = int(lsb)
    return out


def _output_dir() -> Path | None:
    try:
        from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError
    except ImportError:  # pragma: no cover
        return None
    try:
        value = BuiltIn().get_variable_value("${OUTPUT DIR}")
    except RobotNotRunningError:
        return None
    return Path(value) if value else None


@library(scope="SUITE", auto_keywords=False)
class HarnessLibrary:
    """Keywords around `harness.pipeline.run`; one results dict per `Cross Check Model`."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self, runs_dir: str | None = None) -> None:
        self._runs_dir = runs_dir
        self.results: dict | None = None

    # running -------------------------------------------------------------------------------

    @keyword
    def cross_check_model(self, model: str, target: str = "stm32f4", vectors: int = 10,
                          references: str | list[str] | None = None, seed: int = 0,
                          tolerances: str | dict | None = None, runtime: str = "builtin",
                          runs_dir: str | None = None, timeout: float = 60.0,
                          port: str | None = None) -> str:
        """Cross-check `model` on `target`; return the verdict status (PASS, DRIFT, ...).

        `references` is a comma-separated list (default: the harness's defaults),
        `tolerances` is `name=lsb,...`. A run that fails (bad model, build, device) does
        not raise here: its verdict is ERROR with the reason; check it with `Verdict Should Be`.
        """
        folder = runs_dir or self._runs_dir
        if folder is None:
            out = _output_dir()
            folder = str(out / "runs") if out else "runs"
        kwargs = dict(model=Path(model), target=target, vectors=int(vectors), seed=int(seed),
                      tolerances=_tolerances(tolerances), runtime=runtime,
                      runs_dir=Path(folder), timeout=float(timeout), port=port or None,
                      quiet=True)
        refs = _names(references)
        if refs is not None:
            kwargs["references"] = refs
        try:
            self.results = run(RunConfig(**kwargs))
        except HarnessError as exc:  # before a run folder exists (e.g. unknown target)
            self.results = {"verdict": {"status": "ERROR", "reason": exc.one_line(),
                                        "exit_code": int(exc.code)},
                            "comparisons": [], "references": {}, "run_dir": None}
        self._log_summary()
        return self.verdict_status()

    def _log_summary(self) -> None:
        res = self._res()
        verdict = res["verdict"]
        lines = [f"verdict {verdict['status']}: {verdict.get('reason', '')}",
                 f"run folder: {res.get('run_dir')}"]
        for c in res.get("comparisons", []):
            lines.append(f"  {c['a']} vs {c['b']} output {c.get('output')}: "
                         f"max |d| {c.get('max_abs_lsb')} LSB, "
                         f"exact {c.get('exact_rate')}, passed {c.get('passed')}")
        for name, ref in res.get("references", {}).items():
            if ref.get("status") != "ok":
                lines.append(f"  reference {name}: {ref.get('status')} ({ref.get('reason')})")
        logger.info("\n".join(lines))
        logger.console(lines[0])

    def _res(self) -> dict:
        if self.results is None:
            raise AssertionError("no results yet: run `Cross Check Model` first")
        return self.results

    # reading -------------------------------------------------------------------------------

    @keyword
    def verdict_status(self) -> str:
        """The last run's verdict status."""
        return self._res()["verdict"]["status"]

    @keyword
    def results_folder(self) -> str:
        """The last run's folder (holds results.json, report.html, junit.xml)."""
        run_dir = self._res().get("run_dir")
        if not run_dir:
            raise AssertionError("the last run has no run folder: "
                                 f"{self._res()['verdict'].get('reason')}")
        return str(run_dir)

    @keyword
    def get_results(self) -> dict:
        """The last run's results dict (the content of results.json)."""
        return self._res()

    @keyword
    def max_delta(self, reference: str, output: int | None = None) -> int:
        """Largest |device - reference| in LSB over the outputs (or one output index)."""
        rows = [c for c in self._res().get("comparisons", [])
                if c.get("a") == "device" and c.get("b") == reference
                and (output is None or int(c.get("output", -1)) == int(output))]
        if not rows:
            have = sorted({f"{c.get('a')} vs {c.get('b')}"
                           for c in self._res().get("comparisons", [])})
            raise AssertionError(f"no device vs {reference} comparison in the last run "
                                 f"(have: {', '.join(have) or 'none'}; "
                                 f"verdict {self.verdict_status()})")
        return max(int(c["max_abs_lsb"]) for c in rows)

    # asserting -----------------------------------------------------------------------------

    @keyword
    def verdict_should_be(self, expected: str) -> None:
        """Fail unless the last verdict status is `expected` (PASS, DRIFT, UNCHECKED, ERROR)."""
        verdict = self._res()["verdict"]
        if verdict["status"] != expected.upper():
            raise AssertionError(f"verdict is {verdict['status']}, expected {expected.upper()}: "
                                 f"{verdict.get('reason', '')} (exit code "
                                 f"{verdict.get('exit_code')}, run {self._res().get('run_dir')})")

    @keyword
    def max_delta_should_be_at_most(self, reference: str, lsb: int) -> None:
        """Fail if device vs `reference` differs by more than `lsb` anywhere."""
        worst = self.max_delta(reference)
        if worst > int(lsb):
            rows = [c for c in self._res()["comparisons"]
                    if c["a"] == "device" and c["b"] == reference and c["max_abs_lsb"] > int(lsb)]
            detail = "; ".join(f"output {c.get('output')}: max |d| {c['max_abs_lsb']} LSB, "
                               f"{c.get('mismatches')} mismatches, first "
                               f"{c.get('first_mismatch')}" for c in rows)
            raise AssertionError(f"device vs {reference}: max |d| {worst} LSB > {int(lsb)} LSB "
                                 f"({detail})")
        logger.info(f"device vs {reference}: max |d| {worst} LSB <= {int(lsb)} LSB")

    @keyword
    def reference_should_be_available(self, name: str) -> None:
        """Fail unless reference `name` ran (status ok) in the last run."""
        refs = self._res().get("references", {})
        if name not in refs:
            raise AssertionError(f"reference {name} was not requested "
                                 f"(requested: {', '.join(refs) or 'none'})")
        ref = refs[name]
        if ref.get("status") != "ok":
            raise AssertionError(f"reference {name} is {ref.get('status')}: {ref.get('reason')}")
