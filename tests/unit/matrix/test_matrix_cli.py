"""`harness matrix` and `harness merge` on the command line: the options declared once,
bad input as one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoke import Collection, Config, Context
from invoke.loader import FilesystemLoader

import harness.cli
from harness.cli import build_parser, main
from harness.matrix.options import ALL_OPTIONS
from support.paths import ROOT


def test_the_matrix_parser_takes_every_declared_option() -> None:
    given = vars(build_parser().parse_args(["matrix", "--models", "a.tflite,b.tflite", "-j",
                                            "2", "--shard", "1/2", "--vectors", "3"]))
    assert given["command"] == "matrix" and given["models"] == "a.tflite,b.tflite"
    assert (given["jobs"], given["shard"], given["vectors"]) == ("2", "1/2", "3")
    assert {o.name for o in ALL_OPTIONS} <= set(given)


@pytest.mark.parametrize("argv, line", [
    (["matrix", "--shard", "3/2"], "error: --shard must be K/N"),
    (["matrix", "--targets", "pdp-11"], "error: unknown target 'pdp-11'"),
    (["matrix", "--resume", "nowhere"], "error: nowhere is not a matrix folder"),
    (["merge", "nowhere"], "error: nowhere is not a matrix folder"),
])
def test_bad_input_is_one_line(argv: list[str], line: str, capsys, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(line), err


def _tasks() -> Collection:
    module, _ = FilesystemLoader(start=str(ROOT)).load("tasks")
    return Collection.from_module(module)


def test_invoke_matrix_takes_the_same_options(monkeypatch: pytest.MonkeyPatch) -> None:
    task = _tasks()["matrix"]
    args = {a.name: a for a in task.get_arguments()}
    assert sorted(args) == sorted(o.param for o in ALL_OPTIONS)
    seen = []
    monkeypatch.setattr(harness.cli, "matrix_with_exit_code",
                        lambda given, project=None: seen.append((given, project)) or 0)
    task.body(Context(Config(lazy=True, overrides={"harness": {"vectors": 3}})),
              **{o.param: o.unset for o in ALL_OPTIONS} | {"models": "a.tflite", "jobs": "2"})
    ((given, project),) = seen
    assert (given["models"], given["jobs"], given["targets"]) == ("a.tflite", "2", None)
    assert given["runs_dir"] == str(ROOT / "runs") and project == {"vectors": 3}
