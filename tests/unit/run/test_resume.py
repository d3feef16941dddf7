"""`--resume` cannot lie (harness/run/resume.py, harness/run/pipeline.py): it refuses a
folder in use, a damaged or changed results.json or vectors.npz, options that differ
from the recorded ones and a model that changed; it drops a record cut short by a
crash, so each vector counts once; a finished run is not run again.

The folders are made as a run makes them, before any vector ran. The runs through the
command line use a pty as the "board", so that nothing here needs QEMU or a compiler:
each is refused before the build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.analysis.verdict import Status, Verdict
from harness.config import RunConfig
from harness.errors import BadInput, ExitCode
from harness.locks import lock_folder
from harness.ops.validate import load_model
from harness.run.result import RunResult
from harness.run.resume import load_run, vectors_section
from harness.run.vectors import random_vectors
from harness.targets.table import get_target
from support import synth
from support.cli import one_line_error
from support.paths import EXAMPLE, ROOT


def _folder(folder: Path, cfg: RunConfig, vectors: int = 4) -> list[np.ndarray]:
    """A run folder as the pipeline leaves it before the first vector."""
    graph = load_model(cfg.model)
    vecs = random_vectors(graph, vectors, 0)
    folder.mkdir(parents=True, exist_ok=True)
    result = RunResult.new(cfg, graph, get_target(cfg.target), folder, "why")
    result.vectors = vectors_section(vecs)
    result.write()
    np.savez(folder / "vectors.npz", *vecs)
    return vecs


OUT_BYTES = load_model(EXAMPLE).output_tensors()[0].nbytes


def _line(k: int, fill: int = 0) -> str:
    return json.dumps({"vector": k, "count": 100 + k,
                       "outputs": [bytes([fill] * OUT_BYTES).hex()]})


def test_a_record_cut_short_is_dropped_and_each_vector_counts_once(tmp_path: Path) -> None:
    _folder(tmp_path, RunConfig(vectors=4))
    jsonl = tmp_path / "device_outputs.jsonl"
    # vector 1 twice (a resume that raced another, before the lock), 2 cut by SIGKILL,
    # one out of range, one with outputs of the wrong size
    jsonl.write_text("\n".join([_line(0), _line(1), _line(1, fill=9), _line(9),
                                _line(3)[:-5] + '"]}', _line(2)[:33]]))
    resumed = load_run(tmp_path, RunConfig(resume=tmp_path))
    assert sorted(resumed.done) == [0, 1]
    assert resumed.done[1] == (101, [bytes(OUT_BYTES)])  # the first record of a vector wins
    assert jsonl.read_text() == _line(0) + "\n" + _line(1) + "\n"  # the rest is gone


def test_options_given_again_must_match_the_recorded_ones(tmp_path: Path) -> None:
    _folder(tmp_path, RunConfig(vectors=4, references=["litert-ref", "numpy-int8"]))
    same = RunConfig(resume=tmp_path, vectors=4, quiet=True)
    assert load_run(tmp_path, same, given={"resume", "vectors", "quiet"}).cfg.vectors == 4
    for given, says in (({"vectors": 5}, "--vectors 5 differs from the 4 that"),
                        ({"references": ["litert-ref"]},
                         "--references litert-ref differs from the litert-ref,numpy-int8"),
                        ({"tolerances": {"litert-ref": 1}},
                         "--tolerance litert-ref=1 differs from the (none)"),
                        ({"timeout": 5.0}, "--timeout 5.0 differs from the 60.0")):
        with pytest.raises(BadInput) as info:
            load_run(tmp_path, RunConfig(resume=tmp_path, **given), given={"resume", *given})
        assert info.value.one_line().startswith(f"{says}"), info.value.one_line()
        assert "drop " in info.value.one_line() and info.value.code == ExitCode.BAD_INPUT


@pytest.mark.parametrize("damage", ["results.json", "vectors.npz", "vectors changed",
                                    "results.json without model"])
def test_a_damaged_folder_is_refused_in_one_line(damage: str, tmp_path: Path) -> None:
    vecs = _folder(tmp_path, RunConfig(vectors=4))
    if damage == "vectors changed":
        np.savez(tmp_path / "vectors.npz", *(v + 1 for v in vecs))
    elif damage == "results.json without model":
        doc = json.loads((tmp_path / "results.json").read_text())
        del doc["model"]
        (tmp_path / "results.json").write_text(json.dumps(doc))
    else:
        path = tmp_path / damage
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BadInput) as info:
        load_run(tmp_path, RunConfig(resume=tmp_path))
    line = info.value.one_line()
    says = "changed since the run started" if damage == "vectors changed" else "is damaged"
    assert says in line and "start a new run" in line and "\n" not in line
    assert info.value.code == ExitCode.BAD_INPUT


# ---- through the command line -----------------------------------------------------------


def _resume(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "run", "--resume", str(folder),
                           *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_a_changed_model_is_refused(tmp_path: Path, pty: str) -> None:
    model = tmp_path / "model.tflite"
    shutil.copy(EXAMPLE, model)
    folder = tmp_path / "run"
    _folder(folder, RunConfig(model=model, port=pty))
    model.write_bytes(synth.softmax((1, 4)))  # another model at the same path
    line = one_line_error(_resume(folder), ExitCode.BAD_INPUT)
    assert f"the model changed since {folder} was run: {model} has sha256" in line


def test_a_folder_in_use_is_refused(tmp_path: Path, pty: str) -> None:
    _folder(tmp_path, RunConfig(port=pty))
    fd = lock_folder(tmp_path)  # as a harness process running in it holds it
    try:
        line = one_line_error(_resume(tmp_path), ExitCode.BAD_INPUT)
    finally:
        os.close(fd)
    assert line == f"error: {tmp_path} is in use by another harness process (wait for it " \
                   "to end; a run still going cannot be resumed)"


def test_a_finished_run_says_so_and_keeps_its_verdict(tmp_path: Path, pty: str) -> None:
    _folder(tmp_path, RunConfig(port=pty))
    doc = json.loads((tmp_path / "results.json").read_text())
    doc["verdict"] = Verdict(Status.DRIFT, "device vs litert-ref: 2 LSB", 1).to_dict()
    (tmp_path / "results.json").write_text(json.dumps(doc))
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    proc = _resume(tmp_path)
    assert proc.returncode == ExitCode.DRIFT and proc.stderr == ""
    assert proc.stdout.strip() == (f"{tmp_path} finished already: DRIFT - device vs "
                                   "litert-ref: 2 LSB (nothing to resume)")
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before


def test_damaged_files_and_other_options_through_the_command_line(tmp_path: Path,
                                                                  pty: str) -> None:
    _folder(tmp_path, RunConfig(port=pty, vectors=4))
    line = one_line_error(_resume(tmp_path, "--vectors", "5"), ExitCode.BAD_INPUT)
    assert line.startswith(f"error: --vectors 5 differs from the 4 that {tmp_path} was run")
    (tmp_path / "vectors.npz").write_bytes(b"PK\x03\x04 not a zip")
    line = one_line_error(_resume(tmp_path), ExitCode.BAD_INPUT)
    assert line.startswith(f"error: {tmp_path / 'vectors.npz'} is damaged (")
    (tmp_path / "results.json").write_text('{"model": ')
    line = one_line_error(_resume(tmp_path), ExitCode.BAD_INPUT)
    assert line.startswith(f"error: {tmp_path / 'results.json'} is damaged (JSONDecodeError")


def test_not_a_run_folder(tmp_path: Path) -> None:
    for folder in (tmp_path, tmp_path / "missing"):
        line = one_line_error(_resume(folder), ExitCode.BAD_INPUT)
        assert f"{folder} is not a run folder" in line
