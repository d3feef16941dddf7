"""Every run option is declared once (harness/config.py): the CLI, `invoke run`, the Robot
keyword, --resume and results.json's `config` are generated from it, and are checked
against it here, option by option. Then the layers and the one-line checks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from invoke import Collection, Config, Context, FilesystemLoader
from robot.libdocpkg import LibraryDocumentation

import harness.robot
import harness.run.pipeline
from harness import cli
from harness.analysis.verdict import Status, Verdict
from harness.config import COMMAND_LINE, OPTIONS, RunConfig, from_options, resolve_runtime
from harness.errors import BadInput, ExitCode
from harness.ops.validate import load_model
from harness.robot import HarnessLibrary
from harness.run.result import RunResult
from harness.run.resume import load_run
from harness.targets.table import get_target
from support.paths import EXAMPLE, ROOT

INVOKE = Path(sys.executable).parent / "invoke"
RECORDED = {o.name for o in OPTIONS if o.recorded}


def _capture_runs(monkeypatch: pytest.MonkeyPatch) -> list[RunConfig]:
    """Replace the pipeline by a stub that keeps the configs it is given."""
    seen: list[RunConfig] = []

    def fake_run(cfg: RunConfig, given: object = None) -> RunResult:
        seen.append(cfg)
        result = RunResult(Path("/nowhere"), {}, {}, {})
        result.verdict = Verdict(Status.PASS, "stub", 0)
        return result

    monkeypatch.setattr(harness.run.pipeline, "run", fake_run)
    monkeypatch.setattr(harness.robot, "run", fake_run)
    return seen


def _tasks() -> Collection:
    """tasks.py's collection, loaded the way `invoke` loads it."""
    module, _ = FilesystemLoader(start=str(ROOT)).load("tasks")
    return Collection.from_module(module)


def _one_line(proc: subprocess.CompletedProcess, code: int) -> str:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


# ---- the declaration -----------------------------------------------------------------


def test_options_are_the_fields_of_runconfig() -> None:
    assert [o.name for o in OPTIONS] == [f.name for f in fields(RunConfig)]
    assert [o.name for o in COMMAND_LINE] == [o.name for o in OPTIONS if o.flag]
    assert len({o.flag for o in COMMAND_LINE}) == len(COMMAND_LINE)
    for o in OPTIONS:
        assert o.help and o.help_text.startswith(o.help)
        assert getattr(RunConfig(), o.name) == o.default


# ---- each consumer against OPTIONS -----------------------------------------------------


def _run_parser() -> argparse.ArgumentParser:
    (sub,) = [a for a in cli.build_parser()._actions
              if isinstance(a, argparse._SubParsersAction)]
    return sub.choices["run"]


def test_cli_arguments_are_the_options() -> None:
    actions = {a.dest: a for a in _run_parser()._actions if a.dest != "help"}
    assert sorted(actions) == sorted(o.name for o in COMMAND_LINE)
    for o in COMMAND_LINE:
        action = actions[o.name]
        assert action.option_strings == ([o.short, o.flag] if o.short else [o.flag])
        assert action.default is o.unset  # not given: the declared default applies
        assert action.help.replace("%%", "%") == o.help_text
        assert (action.nargs == 0) is o.switch  # store_true
        assert action.choices is None  # checked by the declaration, with its messages


def test_invoke_task_parameters_are_the_options() -> None:
    args = {a.name: a for a in _tasks()["run"].get_arguments()}
    assert sorted(args) == sorted(o.param for o in COMMAND_LINE)
    for o in COMMAND_LINE:
        arg = args[o.param]
        assert arg.names[0] == o.flag.removeprefix("--")
        assert all(n.isalnum() for n in arg.names[1:]), arg.names  # never `-` (shown `--=`)
        assert arg.default is o.unset
        assert arg.kind is (bool if o.switch else str)  # text: parsed by the declaration
        assert arg.help == o.help_text


def test_robot_keyword_arguments_are_the_options() -> None:
    doc = LibraryDocumentation("harness.robot.HarnessLibrary")
    (kw,) = [k for k in doc.keywords if k.name == "Cross Check Model"]
    assert list(kw.args.positional_or_named) == [o.name for o in COMMAND_LINE]
    assert kw.args.defaults == {o.name: None for o in COMMAND_LINE}
    for o in COMMAND_LINE:
        assert o.type.__name__ in str(kw.args.types[o.name])
        assert f"``{o.name}``: {o.help_text}" in kw.doc


def test_results_config_holds_every_recorded_option(tmp_path: Path) -> None:
    res = RunResult.new(RunConfig(), load_model(EXAMPLE), get_target("stm32f4"), tmp_path,
                        "why").to_dict()
    assert set(res["config"]) == RECORDED | {"runtime_reason"}
    before = {"runtime", "runtime_reason", "tflm_dir", "vectors", "seed", "inputs",
              "references", "tolerances", "rounding", "per_layer", "profile", "float_model",
              "port"}  # the keys results.json had before config.py: kept
    assert before <= set(res["config"])
    assert json.loads(json.dumps(res["config"])) == res["config"]
    assert res["config"]["model"] == str(EXAMPLE) and res["config"]["timeout"] == 60.0


# A value other than the default for every recorded option, over two runs (a board run
# cannot use Renode).
ON_A_BOARD = dict(model=Path("/m/other.tflite"), target="lm3s6965", runtime="tflm",
                  tflm_dir=Path("/trees/tflm"), vectors=3, seed=5, inputs=Path("/in/x.npz"),
                  references=["numpy-int8"], tolerances={"numpy-int8": 2}, per_layer=True,
                  float_model=Path("/m/float.tflite"), profile=True, flash="pyocd",
                  port="socket://localhost:1", baud=9600, timeout=5.5, rounding="single",
                  board="nucleo-f411re", clock="max", kernels="cmsis-nn",
                  cmsis_nn_dir=Path("/trees/nn"), cmsis_dir=Path("/trees/core"), place="lab-1")
IN_RENODE = dict(emulator="renode")


def test_the_samples_change_every_recorded_option() -> None:
    assert set(ON_A_BOARD) | set(IN_RENODE) == RECORDED
    for name, value in {**ON_A_BOARD, **IN_RENODE}.items():
        assert value != getattr(RunConfig(), name), name


def _run_folder(folder: Path, cfg: RunConfig) -> dict:
    result = RunResult.new(cfg, load_model(EXAMPLE), get_target("stm32f4"), folder, "why")
    result.write()
    res = result.to_dict()
    np.savez(folder / "vectors.npz", np.zeros((2, 1, 32, 32, 1), np.int8))
    return res


@pytest.mark.parametrize("changed", [ON_A_BOARD, IN_RENODE], ids=["board", "renode"])
def test_resume_restores_every_recorded_option(changed: dict, tmp_path: Path) -> None:
    original = RunConfig(**changed)
    _run_folder(tmp_path, original)
    given = RunConfig(runs_dir=tmp_path / "elsewhere", quiet=True, resume=tmp_path)
    resumed = load_run(tmp_path, given)
    restored, vectors, done = resumed.cfg, resumed.vectors, resumed.done
    # recorded options from the folder; the others (where runs go, quiet) as given
    assert restored == replace(original, runs_dir=tmp_path / "elsewhere", quiet=True,
                               resume=tmp_path)
    assert vectors[0].shape == (2, 1, 32, 32, 1) and done == {}


def test_resume_reads_folders_written_before_model_and_target_were_in_config(
        tmp_path: Path) -> None:
    res = _run_folder(tmp_path, RunConfig(vectors=2))
    for key in ("model", "target", "emulator", "baud", "timeout", "flash"):
        del res["config"][key]
    (tmp_path / "results.json").write_text(json.dumps(res))
    restored = load_run(tmp_path, RunConfig(timeout=9.0)).cfg
    assert restored.model == EXAMPLE and restored.target == "stm32f4"
    assert restored.vectors == 2 and restored.timeout == 9.0  # not recorded then: as given


# ---- no options: each front end gives the declared defaults --------------------------------


def test_no_options_give_the_declared_defaults(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    seen = _capture_runs(monkeypatch)
    assert cli.main(["run"]) == 0
    _tasks()["run"].body(Context(Config(lazy=True)), **{o.param: o.unset for o in COMMAND_LINE})
    HarnessLibrary(runs_dir=str(tmp_path)).cross_check_model()
    # invoke: runs/ of the checkout (tasks.py works from any folder inside it);
    # Robot: the output dir's runs/, quiet.
    assert seen == [RunConfig(), RunConfig(runs_dir=ROOT / "runs"),
                    RunConfig(runs_dir=tmp_path, quiet=True)]


def test_each_front_end_passes_every_option(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    seen = _capture_runs(monkeypatch)
    text = {"model": "/m/other.tflite", "target": "lm3s6965", "runtime": "tflm",
            "tflm_dir": "/trees/tflm", "vectors": "3", "seed": "5", "inputs": "/in/x.npz",
            "references": "numpy-int8", "tolerances": "numpy-int8=2", "per_layer": True,
            "float_model": "/m/float.tflite", "profile": True, "flash": "pyocd",
            "port": "socket://localhost:1", "baud": "9600", "timeout": "5.5",
            "rounding": "single", "resume": str(tmp_path), "runs_dir": str(tmp_path),
            "quiet": True, "verbose": True, "board": "nucleo-f411re", "clock": "max",
            "kernels": "cmsis-nn", "cmsis_nn_dir": "/trees/nn", "cmsis_dir": "/trees/core",
            "place": "lab-1", "coordinator": "lab:20408"}
    assert set(text) | set(IN_RENODE) == {o.name for o in COMMAND_LINE}
    argv = ["run"]
    for o in COMMAND_LINE:
        if o.name in text:
            argv += [o.flag] if o.switch else [o.flag, text[o.name]]
    cli.main(argv)
    _tasks()["run"].body(Context(Config(lazy=True)), **{o.param: text.get(o.name, o.unset)
                                                  for o in COMMAND_LINE})
    HarnessLibrary().cross_check_model(**text)
    expected = RunConfig(**ON_A_BOARD, resume=tmp_path, runs_dir=tmp_path, quiet=True,
                         verbose=True, coordinator="lab:20408")
    assert seen == [expected] * 3


# ---- layers ------------------------------------------------------------------------------


def test_the_command_line_wins_over_invoke_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _capture_runs(monkeypatch)
    run_task = _tasks()["run"].body
    c = Context(Config(lazy=True, overrides={"harness": {
        "tolerances": {"litert": 2, "numpy-int8": 1}, "references": "litert-ref,numpy-int8",
        "tflm_dir": "/trees/yaml"}}))
    run_task(c, tolerance="numpy-int8=3", vectors="4")
    run_task(c, references="numpy-int8")
    first, second = seen
    # entry by entry; invoke.yaml may hold tolerances of references a run leaves out
    assert first.tolerances == {"litert": 2, "numpy-int8": 3}
    assert first.references == ["litert-ref", "numpy-int8"] and first.vectors == 4
    assert second.references == ["numpy-int8"]
    assert second.tolerances == {"litert": 2, "numpy-int8": 1}
    assert first.tflm_config_dir == Path("/trees/yaml") and first.tflm_dir is None


def test_tflm_dir_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TFLM_DIR", raising=False)
    yaml = from_options({}, {"tflm_dir": "/trees/yaml"})
    assert resolve_runtime(yaml)[0].tflm_dir == Path("/trees/yaml")
    assert "invoke.yaml" in resolve_runtime(yaml)[1]
    monkeypatch.setenv("TFLM_DIR", "/trees/env")
    cfg, why = resolve_runtime(yaml)
    assert cfg.runtime == "tflm" and cfg.tflm_dir == Path("/trees/env") and "TFLM_DIR" in why
    cfg, why = resolve_runtime(from_options({"tflm_dir": "/trees/cli"}, {"tflm_dir": "/y"}))
    assert cfg.tflm_dir == Path("/trees/cli") and "--tflm-dir" in why


BAD_YAML = {
    "not a mapping": ("harness: 5\n", "harness must be a mapping"),
    "unknown key": ("harness:\n  vectorz: 3\n", "harness.vectorz is not a setting"),
    "not settable": ("harness:\n  vectors: 3\n", "harness.vectors is not a setting"),
    "bad tolerance": ("harness:\n  tolerances: {litert: abc}\n",
                      "invoke.yaml harness.tolerances: bad --tolerance entry 'litert=abc'"),
    "tolerances not a table": ("harness:\n  tolerances: 5\n", "harness.tolerances"),
    "unknown reference": ("harness:\n  references: litert,bogus\n",
                          "unknown reference(s): bogus"),
}


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_malformed_invoke_yaml_is_one_line(case: str) -> None:
    import yaml

    text, says = BAD_YAML[case]
    with pytest.raises(BadInput) as info:
        from_options({}, yaml.safe_load(text)["harness"])
    assert says in info.value.one_line() and info.value.code == ExitCode.BAD_INPUT


def test_malformed_invoke_yaml_through_invoke(tmp_path: Path) -> None:
    conf = tmp_path / "bad.yaml"
    conf.write_text(BAD_YAML["bad tolerance"][0])
    proc = subprocess.run([str(INVOKE), "-f", str(conf), "run"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert "bad --tolerance entry 'litert=abc'" in _one_line(proc, ExitCode.BAD_INPUT)


def test_invoke_yaml_that_is_not_yaml_through_invoke(tmp_path: Path) -> None:
    conf = tmp_path / "broken.yaml"
    conf.write_text("harness:\n  tolerances: [1, 2\n")
    proc = subprocess.run([str(INVOKE), "-f", str(conf), "run"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert _one_line(proc, ExitCode.BAD_INPUT) == (
        f"error: {conf} line 3 is not valid YAML (expected ',' or ']', but got '<stream end>')")


# ---- checks: one line, exit 2 ---------------------------------------------------------------

BAD_OPTIONS = {
    "vectors not a number": ({"vectors": "abc"}, "--vectors must be a whole number, not 'abc'"),
    "no vectors": ({"vectors": "0"}, "--vectors must be at least 1, not 0"),
    "negative seed": ({"seed": "-1"}, "--seed must be at least 0, not -1"),
    "baud zero": ({"baud": "0"}, "--baud must be at least 1, not 0"),
    "timeout not a number": ({"timeout": "soon"}, "--timeout must be a number, not 'soon'"),
    "timeout zero": ({"timeout": "0"}, "--timeout must be more than 0, not 0"),
    "timeout negative": ({"timeout": "-1"}, "--timeout must be more than 0, not -1"),
    "timeout nan": ({"timeout": "nan"}, "--timeout must be more than 0, not nan"),
    "seed not whole": ({"seed": "1.5"}, "--seed must be a whole number, not '1.5'"),
    "baud not a number": ({"baud": "x"}, "--baud must be a whole number, not 'x'"),
    "runtime": ({"runtime": "tvm"}, "unknown runtime 'tvm' (choose one of ('auto', 'builtin', "
                                    "'tflm'))"),
    "reference": ({"references": "litert,tflite"}, "unknown reference(s): tflite (choose from "),
    "tolerance": ({"tolerances": "litert"},
                  "bad --tolerance entry 'litert' (use NAME=LSB, e.g. litert=2)"),
    "tolerance not a number": ({"tolerances": "litert=-1"}, "bad --tolerance entry 'litert=-1'"),
    "emulator": ({"emulator": "gem5"}, "--emulator must be qemu or renode, not 'gem5'"),
    "rounding": ({"rounding": "up"}, "--rounding must be 'double' or 'single', not 'up'"),
    "renode and a port": ({"emulator": "renode", "port": "/dev/ttyACM0"},
                          "--emulator renode and --port exclude each other"),
    "flash without port": ({"flash": "pyocd"}, "--flash needs --port (the board's serial port)"),
    "switch": ({"per_layer": "maybe"}, "--per-layer must be true or false, not 'maybe'"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_option_is_one_line(case: str) -> None:
    given, says = BAD_OPTIONS[case]
    with pytest.raises(BadInput) as info:
        from_options(given)
    assert info.value.one_line().startswith(says) and info.value.code == ExitCode.BAD_INPUT


def test_runconfig_refuses_bad_values_when_made() -> None:
    with pytest.raises(BadInput, match="unknown runtime 'tvm'"):
        RunConfig(runtime="tvm")
    with pytest.raises(BadInput, match="--flash needs --port"):
        replace(RunConfig(), flash="pyocd")


@pytest.mark.parametrize("front", ["harness", "invoke"])
def test_bad_options_through_the_command_lines(front: str, tmp_path: Path) -> None:
    cmd = ([sys.executable, "-m", "harness", "run"] if front == "harness"
           else [str(INVOKE), "run"])
    cases = ((["--vectors", "abc"], "--vectors must be a whole number, not 'abc'"),
             (["--seed", "1.5"], "--seed must be a whole number, not '1.5'"),
             (["--baud", "0"], "--baud must be at least 1, not 0"),
             (["--timeout", "nan"], "--timeout must be more than 0, not nan"),
             (["--runtime", "tvm"], "unknown runtime 'tvm'"),
             (["--tolerance", "litert"], "bad --tolerance entry 'litert'"))
    # All at once: each is its own process, and the second core is otherwise idle here.
    procs = [subprocess.Popen([*cmd, *args, "--runs-dir", str(tmp_path / "runs")], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for args, _ in cases]
    for proc, (_, says) in zip(procs, cases, strict=True):
        out, err = proc.communicate(timeout=120)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        assert says in _one_line(done, ExitCode.BAD_INPUT)
    assert not (tmp_path / "runs").exists()  # refused before any work


def test_invoke_help_lists_every_option() -> None:
    proc = subprocess.run([str(INVOKE), "--help", "run"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    flat = " ".join(proc.stdout.split()).replace("- ", "-")  # undo invoke's wrapping
    for o in COMMAND_LINE:
        assert o.flag in flat, o.flag
        assert " ".join(o.help_text.split()).replace("- ", "-") in flat, o.name


def test_auto_runtime_says_which_and_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, why = resolve_runtime(RunConfig(runtime="auto"))
    assert cfg.runtime == "builtin" and "no TFLM tree configured" in why
    monkeypatch.setenv("TFLM_DIR", str(tmp_path))
    cfg, why = resolve_runtime(RunConfig(runtime="auto"))
    assert cfg.runtime == "tflm" and cfg.tflm_dir == tmp_path and "TFLM_DIR" in why
    cfg, why = resolve_runtime(RunConfig(runtime="builtin"))
    assert cfg.runtime == "builtin" and "--runtime" in why
