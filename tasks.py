"""invoke tasks: setup, run, test. `invoke --list` shows them; `invoke --help run` the options."""

from __future__ import annotations

import sys

from invoke import Context, Exit, task

from harness.cli import RUN_OPTIONS

RUN_HELP = {dest: text for _flag, dest, _type, _default, text in RUN_OPTIONS}
RUN_HELP["quiet"] = "print errors only"


@task(help={})
def setup(c: Context) -> None:
    """Install apt packages (cross-compiler, QEMU) and the Python packages into .venv."""
    c.run("bash scripts/bootstrap.sh", pty=False)


@task(help=RUN_HELP)
def run(c: Context, model: str = "", target: str = "stm32f4", runtime: str = "builtin",
        vectors: int = 10, seed: int = 0, inputs: str = "", references: str = "litert-ref",
        tolerance: str = "", port: str = "", baud: int = 115200, runs_dir: str = "runs",
        timeout: float = 60.0, rounding: str = "double", quiet: bool = False) -> None:
    """Cross-check a model on a target (default: the example CNN on emulated stm32f4)."""
    from harness.cli import run_with_exit_code

    code = run_with_exit_code(dict(
        model=model or None, target=target, runtime=runtime, vectors=vectors, seed=seed,
        inputs=inputs or None, references=references, tolerance=tolerance or None,
        port=port or None, baud=baud, runs_dir=runs_dir, timeout=timeout, rounding=rounding,
        quiet=quiet))
    if code:
        raise Exit(code=code)


@task(help={"k": "only tests matching this pytest -k expression",
            "full": "also the slow matrix tests",
            "x": "stop at the first failure"})
def test(c: Context, k: str = "", full: bool = False, x: bool = False) -> None:
    """Run the whole test suite (real cross-compiler, QEMU, LiteRT)."""
    args = [sys.executable, "-m", "pytest", "-q", "-rs"]
    if k:
        args += ["-k", repr(k)]
    if x:
        args.append("-x")
    env = {"HARNESS_FULL_TESTS": "1"} if full else {}
    result = c.run(" ".join(args), env=env, warn=True, pty=False)
    if result.exited == 5:
        raise Exit("no test ran", code=5)
    if result.exited:
        raise Exit(code=result.exited)
