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

import inspect
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword, library

from harness.config import COMMAND_LINE, Option, from_options
from harness.errors import HarnessError
from harness.run.pipeline import run


def _robot_type(opt: Option) -> Any:
    """What Robot converts the argument to (None: not given); lists and tables also as text."""
    return (str | opt.type | None) if opt.type in (list, dict) else (opt.type | None)


# Cross Check Model's arguments: every command-line option, None when not given. Robot
# and libdoc read them from this signature and these types.
ROBOT_TYPES = {o.name: _robot_type(o) for o in COMMAND_LINE}
CROSS_CHECK_SIGNATURE = inspect.Signature(
    [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [inspect.Parameter(o.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                         annotation=ROBOT_TYPES[o.name]) for o in COMMAND_LINE],
    return_annotation=str)


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

    @keyword(types=ROBOT_TYPES)
    def cross_check_model(self, *args: Any, **kwargs: Any) -> str:
        """Cross-check `model` on `target`; return the verdict status (PASS, DRIFT, ...).

        The arguments are the run options of `harness run` (named as in results.json's
        `config`; `references` and `tolerances` as text or as a list and a dictionary). One
        not given takes the harness's default, except `runs_dir` (default: `runs` under
        Robot's output directory) and `quiet` (default: true; the keyword logs a summary).
        A run that fails (bad model, build, device) does not raise here: its verdict is
        ERROR with the reason; check it with `Verdict Should Be`.

        {options}
        """
        given = CROSS_CHECK_SIGNATURE.bind(self, *args, **kwargs).arguments
        given = {name: v for name, v in given.items() if name != "self" and v is not None}
        given.setdefault("runs_dir", self._default_runs_dir())
        given.setdefault("quiet", True)
        try:
            self.results = run(from_options(given)).to_dict()
        except HarnessError as exc:  # before a run folder exists (e.g. unknown target)
            self.results = {"verdict": {"status": "ERROR", "reason": exc.one_line(),
                                        "exit_code": int(exc.code)},
                            "comparisons": [], "references": {}, "run_dir": None}
        self._log_summary()
        return self.verdict_status()

    cross_check_model.__signature__ = CROSS_CHECK_SIGNATURE  # type: ignore[attr-defined]
    cross_check_model.__doc__ = cross_check_model.__doc__.format(options="\n        ".join(
        f"- ``{o.name}``: {o.help_text}" for o in COMMAND_LINE))

    def _default_runs_dir(self) -> str:
        if self._runs_dir is not None:
            return self._runs_dir
        out = _output_dir()
        return str(out / "runs") if out else "runs"

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
