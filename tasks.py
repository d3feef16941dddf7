"""invoke tasks: setup, run, test. `invoke --list` shows them; `invoke --help run` the options."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

from invoke import Collection, Config, Context, Exit, Task, task
from invoke.util import yaml as invoke_yaml

from harness.config import COMMAND_LINE, OPTIONS

# The checkout. invoke finds this file from any folder inside it but runs tasks in the
# current folder, so defaults that name places in the checkout are made absolute here.
HERE = Path(__file__).resolve().parent


def _in_checkout(path: str, default: str) -> str:
    """`path` as given (relative to the current folder), or `default` inside the checkout."""
    return str(HERE / default) if path == default else path


def _load_yaml_one_line(self: Config, path: Any) -> Any:
    """invoke.yaml (or `invoke -f FILE`) that is not YAML: one `error:` line, exit 2, where
    invoke would print a traceback. (This file is imported before invoke reads either.)"""
    try:
        return _load_yaml(self, path)
    except invoke_yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise Exit(f"error: {path}{where} is not valid YAML "
                   f"({getattr(exc, 'problem', None) or exc})", code=2) from None


_load_yaml = Config._load_yaml
Config._load_yaml = Config._load_yml = _load_yaml_one_line  # type: ignore[method-assign]


RENODE_RELEASE = "1.15.1"  # the version the harness is tested with (harness/device/backends)
RENODE_URL = ("https://github.com/renode/renode/releases/download/v{v}/"
              "renode-{v}.linux-portable.tar.gz")
# sha256 of that archive. Not pinned yet: the machine this was written on could not reach
# the release; `invoke setup --renode --renode-sha256 HEX` checks against a digest you trust.
RENODE_SHA256 = ""


@task(help={"renode": "also install Renode's release into ~/.cache/harness (needs internet)",
            "renode_sha256": "the archive's sha256 to check against (default: the pinned one)"})
def setup(c: Context, renode: bool = False, renode_sha256: str = "") -> None:
    """Install apt packages (cross-compiler, QEMU) and the Python packages into .venv."""
    if renode:
        setup_renode(renode_sha256 or RENODE_SHA256)
        return
    c.run(f"bash {HERE / 'scripts' / 'bootstrap.sh'}", pty=False)


def setup_renode(sha256: str, *, url: str = "", cache: Path | None = None) -> Path:
    """Download Renode's portable release, check its sha256, unpack it into the user cache;
    print the PATH line to use. Offline or unchecked: one `error:` line saying what to do."""
    import hashlib
    import tarfile
    import urllib.error
    import urllib.request

    url = url or RENODE_URL.format(v=RENODE_RELEASE)
    cache = cache or Path.home() / ".cache" / "harness"
    dest = cache / f"renode-{RENODE_RELEASE}"
    if (dest / "renode").exists():
        print(f'Renode {RENODE_RELEASE} is installed: export PATH="{dest}:$PATH"')
        return dest
    by_hand = "install Renode by hand, see renode/README.md"
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - fixed https URL
            data = answer.read()
    except (urllib.error.URLError, OSError) as exc:
        raise Exit(f"error: cannot download Renode {RENODE_RELEASE} ({exc}): offline? "
                   f"{by_hand}", code=5) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256.lower():
        raise Exit(f"error: Renode archive sha256 {digest} is not the expected "
                   f"{sha256 or '(none pinned)'}; check it and pass --renode-sha256, or "
                   f"{by_hand}", code=5)
    archive = cache / Path(url).name
    cache.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(data)
    with tarfile.open(archive) as tar:
        tar.extractall(cache / "renode-unpack", filter="data")
    (top,) = (cache / "renode-unpack").iterdir()
    top.rename(dest)
    print(f'Renode {RENODE_RELEASE} installed: export PATH="{dest}:$PATH"')
    return dest


def run(c: Context, **given: Any) -> None:
    """Cross-check a model on a target (default: the example CNN on emulated stm32f4).

    Options not given come from invoke.yaml's `harness:` section, then from the defaults
    shown. invoke.yaml may set {settable};
    --tolerance adds to its tolerances entry by entry.
    """
    from harness.cli import run_with_exit_code

    by_param = {opt.param: opt.name for opt in COMMAND_LINE}
    options = {by_param[p]: v for p, v in given.items()}
    if options.get("runs_dir") in (None, ""):  # runs/ of the checkout, from any folder in it
        options["runs_dir"] = str(HERE / "runs")
    code = run_with_exit_code(options, project=c.config.get("harness"))
    if code:
        raise Exit(code=code)


# invoke reads a task's options from its signature: build it from harness/config.py.
# Values stay text (kind str): the option's own parser refuses `--vectors abc` in one
# `error:` line, where invoke's int() would print a traceback.
run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    + [inspect.Parameter(o.param, inspect.Parameter.KEYWORD_ONLY, default=o.unset)
       for o in COMMAND_LINE])
run.__doc__ = run.__doc__.format(settable=", ".join(o.yaml for o in OPTIONS if o.yaml))


class _RunTask(Task):
    """invoke's Task, without one quirk: an option whose letters are all taken by other
    short flags (--cmsis-nn-dir) would get the dash in its name, `-`, as its short flag."""

    def arg_opts(self, name: str, default: Any, taken_names: set[str]) -> dict[str, Any]:
        opts = super().arg_opts(name, default, taken_names)
        opts["names"] = [n for n in opts["names"] if n != "-"]
        return opts


run = task(run, klass=_RunTask, help={o.param: o.help_text for o in COMMAND_LINE})


def _matrix(c: Context, **given: Any) -> None:
    """Cross-check every model on every target, runtime and kernel set, in parallel.

    The options of `harness matrix`; run options not given come from invoke.yaml's
    `harness:` section, as for `invoke run`.
    """
    from harness.cli import matrix_with_exit_code
    from harness.matrix.options import ALL_OPTIONS

    by_param = {opt.param: opt.name for opt in ALL_OPTIONS}
    options = {by_param[p]: v for p, v in given.items()}
    if options.get("runs_dir") in (None, ""):
        options["runs_dir"] = str(HERE / "runs")
    code = matrix_with_exit_code(options, project=c.config.get("harness"))
    if code:
        raise Exit(code=code)


def _matrix_task() -> Any:
    """`invoke matrix`, its options from harness/matrix/options.py (text, as for run)."""
    from harness.matrix.options import ALL_OPTIONS

    _matrix.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [inspect.Parameter(o.param, inspect.Parameter.KEYWORD_ONLY, default=o.unset)
           for o in ALL_OPTIONS])
    # No short flags: invoke runs out of letters for this many options (`--=STRING`).
    return task(_matrix, name="matrix", help={o.param: o.help_text for o in ALL_OPTIONS},
                auto_shortflags=False)


matrix = _matrix_task()


@task(help={"folders": "the shards' matrix folders, comma-separated",
            "out": "the merged matrix folder (default: <first folder's parent>/"
                   "matrix-merged-<time>)"})
def merge(c: Context, folders: str, out: str = "") -> None:
    """Combine the matrix folders of a sharded matrix (--shard K/N) into one."""
    from harness.cli import merge_with_exit_code

    code = merge_with_exit_code([f for f in folders.split(",") if f], out or None)
    if code:
        raise Exit(code=code)


@task(
    help={
        "k": "only tests matching this pytest -k expression",
        "full": "also the slow matrix tests",
        "x": "stop at the first failure",
        "unit": "only tests/unit: no cross-compiler or QEMU needed, under a minute",
    }
)
def test(c: Context, k: str = "", full: bool = False, x: bool = False, unit: bool = False) -> None:
    """Run the whole test suite (tests/unit and tests/integration: real cross-compiler, QEMU,
    LiteRT), or with --unit the fast tier alone."""
    args = [sys.executable, "-m", "pytest", "-q", "-rs"]
    if k:
        args += ["-k", repr(k)]
    if x:
        args.append("-x")
    if unit:
        args.append("tests/unit")
    env = {"HARNESS_FULL_TESTS": "1"} if full else {}
    with c.cd(str(HERE)):  # pytest collects both tiers only when run from the checkout's top
        result = c.run(" ".join(args), env=env, warn=True, pty=False)
    if result.exited == 5:
        raise Exit("no test ran", code=5)
    if result.exited:
        raise Exit(code=result.exited)


@task(help={"model": "the .tflite (default: the bundled example)",
            "target": "a target with a Renode platform (default stm32f4)",
            "vectors": "vectors for the cross-check test case (default 2)",
            "rounding": "the firmware's requantization rounding (single: a drifting build)",
            "per_layer": "step op by op and compare every layer"})
def renode_test(c: Context, model: str = "", target: str = "stm32f4", vectors: int = 2,
                rounding: str = "double", per_layer: bool = False) -> None:
    """Run the rendered Robot suite under renode-test: Renode's keywords boot the firmware,
    the harness's keyword library cross-checks the model under Renode."""
    import os
    import time

    from harness.device.backends.renode import (
        INSTALL_HINT,
        private_env,
        render_robot,
        renode_test_command,
    )
    from harness.errors import HarnessError
    from harness.ops.validate import load_model
    from harness.resources import EXAMPLE_MODEL
    from harness.runtimes.build import build, require_tool
    from harness.runtimes.builtin.firmware import generate_builtin
    from harness.targets.table import get_target

    model = model or str(EXAMPLE_MODEL)
    try:
        require_tool("renode-test", hint=INSTALL_HINT)
        tgt = get_target(target)
        elf = build(generate_builtin(load_model(model), tgt, semihosting=True)).elf
    except HarnessError as exc:
        raise Exit(f"error: {exc.one_line()}", code=int(exc.code)) from None
    # Not in the temp directory: Renode deletes every `renode-*` folder there on start.
    folder = HERE / "runs" / f"robot-{time.strftime('%Y%m%d-%H%M%S')}-{target}"
    robot = render_robot(tgt, elf, folder, model=model, vectors=vectors)
    env = private_env(folder)  # Renode's TMPDIR in the folder; harness importable
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    # renode-test runs `python3`: the one of this environment, which has the harness.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    args = renode_test_command(robot, f"ROUNDING:{rounding}", f"PER_LAYER:{per_layer}")
    print(f"renode-test: suite and results in {folder}")
    with c.cd(str(folder)):
        result = c.run(" ".join([*args, f"--results-dir={folder / 'results'}"]), env=env,
                       warn=True, pty=False)
    if result.exited:
        raise Exit(f"renode-test failed: see {folder / 'results' / 'log.html'}",
                   code=result.exited)


@task
def ports(c: Context) -> None:
    """List the serial ports with their USB VID:PID and debug probe (ST-LINK, J-Link,
    CMSIS-DAP); the one --port auto takes."""
    from harness.cli import ports as list_ports

    list_ports()


@task
def coverage(c: Context) -> None:
    """Print the op x activation dtype table of the builtin runtime and numpy-int8 (markdown).

    Generated from the op registry (harness/ops/registry.py); the README's "Op coverage"
    section holds this output.
    """
    from harness.ops.registry import coverage_table

    print(coverage_table(), end="")


@task(help={"out": "file to write (default BENCHMARKS.md)",
            "quick": "fewer repeats and vectors (a smoke run)",
            "tflm_dir": "TFLM tree for the tflm figures (default $TFLM_DIR)",
            "tflm_cold": "time first tflm runs on empty caches (a minute or two per kernel set;"
                         " --no-tflm-cold skips them)",
            "only": "only these sections, e.g. c or a,c (default all: a-g); the file keeps the "
                    "others"})
def bench(c: Context, out: str = "BENCHMARKS.md", quick: bool = False, tflm_dir: str = "",
          tflm_cold: bool = True, only: str = "") -> None:
    """Measure the speed goals (emulated throughput, link, builds, references, runtimes)."""
    import os

    from harness.bench.run import run_bench
    from harness.errors import HarnessError

    tree = tflm_dir or os.environ.get("TFLM_DIR") or (c.config.get("harness") or {}).get(
        "tflm_dir")
    out = _in_checkout(out, "BENCHMARKS.md")
    try:
        run_bench(Path(out), tflm_dir=Path(tree) if tree else None, tflm_cold=tflm_cold,
                  quick=quick, only=only)
    except HarnessError as exc:
        raise Exit(f"error: {exc.one_line()}", code=int(exc.code)) from None
    print(f"bench: wrote {out}")


# ---- tflm: the user's TensorFlow Lite Micro tree ------------------------------

TFLM_REPO = "https://github.com/tensorflow/tflite-micro"
TFLM_COMMIT = "90b983c2b3f1480642e040bbd2ddb37b998f3424"  # 2026-08-20, the tested tree


def _clone(c: Context, repo: str, commit: str, folder: Path) -> None:
    """`repo` at `commit` in `folder` (cloned once; Exit 5 with one line when offline)."""
    if not (folder / ".git").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        if c.run(f"git clone -q --filter=blob:none {repo} {folder}", warn=True,
                 hide=True).failed:
            raise Exit(f"error: could not clone {repo} (no internet?); on an offline machine "
                       "copy the tflite-micro, CMSIS-NN and CMSIS_6 trees over and set "
                       "TFLM_DIR, CMSIS_NN_DIR and CMSIS_DIR", code=5)
    if c.run(f"git -C {folder} checkout -q {commit}", warn=True, hide=True).failed:
        raise Exit(f"error: commit {commit} not found in {folder}", code=2)


def tflm_fetch(c: Context, dest: str = "", commit: str = TFLM_COMMIT) -> None:
    """Clone tflite-micro, CMSIS-NN and CMSIS_6 at pinned commits (needs internet).

    tflite-micro at the tested commit; CMSIS-NN and CMSIS_6 at the commits its download
    scripts pin. Prints the TFLM_DIR, CMSIS_NN_DIR and CMSIS_DIR lines to set.
    """
    from harness.resources import user_cache_dir
    from harness.runtimes.tflm.tree import CMSIS, CMSIS_NN, pinned_commits

    cache = user_cache_dir()
    folder = Path(dest) if dest else cache / f"tflite-micro-{commit[:12]}"
    _clone(c, TFLM_REPO, commit, folder)
    lines = [f"export TFLM_DIR={folder}"]
    pins = pinned_commits(folder)
    for kind in (CMSIS_NN, CMSIS):
        pin = pins.get(kind.name)
        if pin is None:
            raise Exit(f"error: {folder} pins no {kind.name} commit (its "
                       f"tensorflow/lite/micro/tools/make/ext_libs/{kind.script})", code=2)
        ext = folder.parent / f"{kind.name}-{pin.commit[:12]}"
        _clone(c, pin.repo, pin.commit, ext)
        lines.append(f"export {kind.env}={ext}")
    print("\n".join(lines))


@task(name="drift-catalogue", help={
    "out": "file to write (default docs/drift-catalogue.md)",
    "vectors": "seeded random vectors per run (default 10)",
    "models": "comma-separated .tflite files (default: the example and ../shared/models)",
    "targets": "comma-separated targets (default cortex-m4,cortex-m7,cortex-m55,cortex-m3,"
               "cortex-m0)",
    "runtimes": "comma-separated: builtin, tflm, tflm+cmsis-nn (default all three)"})
def drift_catalogue(c: Context, out: str = "docs/drift-catalogue.md", vectors: str = "10",
                    models: str = "", targets: str = "", runtimes: str = "") -> None:
    """Write docs/drift-catalogue.md: every model x target x runtime and kernels.

    Runs every model on every target with builtin, tflm and tflm+cmsis-nn (needs
    TFLM_DIR, CMSIS_NN_DIR and CMSIS_DIR; an hour or more), each drift localised.
    """
    import time

    from harness.config import from_options
    from harness.errors import HarnessError
    from harness.ops.validate import load_model
    from harness.resources import EXAMPLE_MODEL
    from harness.run import catalogue as cat

    out = _in_checkout(out, "docs/drift-catalogue.md")
    try:
        base = from_options({"vectors": vectors}, project=c.config.get("harness"))
        trees = _catalogue_trees(base)
        paths = ([Path(m) for m in models.split(",") if m] if models
                 else cat.models(HERE.parent / "shared" / "models", EXAMPLE_MODEL))
        model_ops = {p.stem: [op.name for op in load_model(p).ops] for p in paths}
        rows = cat.catalogue(paths, base, targets=targets.split(",") if targets else cat.TARGETS,
                             runtimes=runtimes.split(",") if runtimes else None,
                             progress=lambda r: print(
                                 f"drift-catalogue: {r.model} {r.target} {r.runtime}: "
                                 f"{r.result} {r.max_delta} {r.cause}", flush=True))
    except HarnessError as exc:
        raise Exit(f"error: {exc.one_line()}", code=int(exc.code)) from None
    text = cat.render(rows, trees=trees, vectors=base.vectors, date=time.strftime("%Y-%m-%d"),
                      command="invoke drift-catalogue", model_ops=model_ops)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text)
    print(f"drift-catalogue: wrote {out}")


def _catalogue_trees(base: Any) -> dict:
    """The three trees the catalogue's tflm runs use, with their identities and pins."""
    from dataclasses import replace

    from harness.config import resolve_runtime
    from harness.runtimes.tflm.tree import (
        CMSIS,
        CMSIS_NN,
        find_cmsis_trees,
        find_tree,
        pinned_commits,
    )

    cfg, _ = resolve_runtime(replace(base, runtime="tflm", kernels="cmsis-nn"))
    tflm = find_tree(cfg.tflm_dir)
    nn, core = find_cmsis_trees(tflm, {CMSIS_NN.name: (cfg.cmsis_nn_dir, None),
                                       CMSIS.name: (cfg.cmsis_dir, None)})
    pins = pinned_commits(tflm.root)
    out = {"TFLite Micro": {"tree_id": tflm.tree_id, "commit": tflm.commit}}
    for tree in (nn, core):
        pin = pins.get(tree.kind.name)
        out[tree.kind.name] = {"tree_id": tree.tree_id, "commit": tree.commit,
                               "pin": pin.commit if pin else None}
    return out


# Keep last: the tasks above, plus `tflm.fetch` under its own namespace.
ns = Collection.from_module(sys.modules[__name__])
ns.add_collection(Collection("tflm", fetch=task(tflm_fetch, name="fetch", help={
    "dest": "folder to clone tflite-micro into (default ~/.cache/harness/tflite-micro-<commit>;"
            " CMSIS-NN and CMSIS_6 go beside it)",
    "commit": "the tflite-micro commit to check out (default: the tested one)"})))
