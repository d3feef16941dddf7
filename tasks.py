"""invoke tasks: setup, run, test. `invoke --list` shows them; `invoke --help run` the options."""

from __future__ import annotations

import sys

from invoke import Context, Exit, task

from harness.cli import RUN_OPTIONS

RUN_HELP = {dest: text for _flag, dest, _type, _default, text in RUN_OPTIONS}
RUN_HELP["quiet"] = "print errors only"
RUN_HELP["per_layer"] = "read every intermediate tensor and name the first diverging op"
RUN_HELP["resume"] = "finish a run folder that died, keeping the vectors it measured"


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
    resume: str = "",
    emulator: str = "qemu",
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
            resume=resume or None,
            emulator=emulator,
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


@task(help={"model": "the .tflite (default: the bundled example)",
            "target": "a target with a Renode platform (default stm32f4)"})
def renode_test(c: Context, model: str = "", target: str = "stm32f4") -> None:
    """Boot the firmware in Renode and run the rendered Robot suite with renode-test."""
    import tempfile
    from pathlib import Path

    from harness.backends.renode import INSTALL_HINT, render_renode_files, renode_test_command
    from harness.build import build, require_tool
    from harness.errors import HarnessError
    from harness.firmware import generate_builtin
    from harness.model import parse_model
    from harness.pipeline import EXAMPLE_MODEL
    from harness.targets import get_target

    try:
        require_tool("renode-test", hint=INSTALL_HINT)
        tgt = get_target(target)
        graph = parse_model(model or EXAMPLE_MODEL)
        elf = build(generate_builtin(graph, tgt, semihosting=False)).elf
    except HarnessError as exc:
        raise Exit(f"error: {exc.one_line()}", code=int(exc.code)) from None
    folder = Path(tempfile.mkdtemp(prefix="renode-test-"))
    _resc, robot = render_renode_files(tgt, elf, folder)
    result = c.run(" ".join(renode_test_command(robot)), warn=True, pty=False)
    if result.exited:
        raise Exit(code=result.exited)


@task
def coverage(c: Context) -> None:
    """Print the op x activation dtype table of the builtin runtime and numpy-int8 (markdown).

    Generated from the DTYPES dicts of harness/lower*.py and harness/int8ops*.py; the
    README's "Op coverage" section holds this output.
    """
    from harness.dtypes import coverage_table

    print(coverage_table(), end="")
