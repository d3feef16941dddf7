"""invoke tasks: setup, run, test. `invoke --list` shows them; `invoke --help run` the options."""

from __future__ import annotations

import sys

from invoke import Context, Exit, task

from harness.cli import RUN_OPTIONS

RUN_HELP = {dest: text for _flag, dest, _type, _default, text in RUN_OPTIONS}
RUN_HELP["quiet"] = "print errors only"
RUN_HELP["per_layer"] = "read every intermediate tensor and name the first diverging op"


@task(help={})
def setup(c: Context) -> None:
    """Install apt packages (cross-compiler, QEMU) and the Python packages into .venv."""
    c.run("bash scripts/bootstrap.sh", pty=False)


def _yaml_tolerances(c: Context) -> str:
    """`harness: tolerances: {litert: 2}` from invoke.yaml, as the --tolerance syntax."""
    tolerances = (c.config.get("harness") or {}).get("tolerances") or {}
    return ",".join(f"{name}={int(lsb)}" for name, lsb in tolerances.items())


@task(help=RUN_HELP)
def run(
    c: Context,
    model: str = "",
    target: str = "stm32f4",
    runtime: str = "builtin",
    vectors: int = 10,
    seed: int = 0,
    inputs: str = "",
    references: str = "",
    tolerance: str = "",
    float_model: str = "",
    per_layer: bool = False,
    port: str = "",
    flash: str = "",
    baud: int = 115200,
    runs_dir: str = "runs",
    timeout: float = 60.0,
    rounding: str = "double",
    quiet: bool = False,
) -> None:
    """Cross-check a model on a target (default: the example CNN on emulated stm32f4).

    Defaults for references and tolerances may also come from invoke.yaml (key `harness`).
    """
    from harness.cli import DEFAULT_REFERENCES, run_with_exit_code

    conf = c.config.get("harness") or {}
    # Command-line tolerances override invoke.yaml's, entry by entry.
    tolerances = ",".join(t for t in (_yaml_tolerances(c), tolerance) if t)
    code = run_with_exit_code(
        dict(
            model=model or None,
            target=target,
            runtime=runtime,
            vectors=vectors,
            seed=seed,
            inputs=inputs or None,
            references=references or conf.get("references") or DEFAULT_REFERENCES,
            tolerance=tolerances or None,
            float_model=float_model or None,
            per_layer=per_layer,
            port=port or None,
            flash=flash or None,
            baud=baud,
            runs_dir=runs_dir,
            timeout=timeout,
            rounding=rounding,
            quiet=quiet,
        )
    )
    if code:
        raise Exit(code=code)


@task(
    help={
        "k": "only tests matching this pytest -k expression",
        "full": "also the slow matrix tests",
        "x": "stop at the first failure",
    }
)
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
