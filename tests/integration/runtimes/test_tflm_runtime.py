"""The tflm runtime: real TFLite Micro, built from a tree the user points at.

Without a tree (CI) only the refusal paths run; with TFLM_DIR set, the library
is built for real (minutes, once; then cached) and models run in QEMU against
tflm-host, TFLM's own desktop interpreter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.config import RunConfig
from harness.errors import ExitCode
from harness.run.pipeline import run
from harness.runtimes.tflm.firmware import check_tflm_ops, resolver_methods
from harness.runtimes.tflm.tree import find_tree
from support.paths import EXAMPLE, ROOT, shared_model, tflm_tree


def _harness(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "run", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_tflm_without_a_tree_is_one_line_and_exit_5(tmp_path: Path) -> None:
    proc = _harness("--runtime", "tflm", "--runs-dir", str(tmp_path / "runs"))
    assert proc.returncode == ExitCode.MISSING_TOOL, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "TFLM_DIR" in lines[0] and "tflm.fetch" in lines[0]
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_tflm_dir_that_is_not_a_tree_is_bad_input(tmp_path: Path) -> None:
    proc = _harness("--runtime", "tflm", "--tflm-dir", str(tmp_path),
                    "--runs-dir", str(tmp_path / "runs"))
    assert proc.returncode == ExitCode.BAD_INPUT, proc.stderr
    assert "is not a tflite-micro tree" in proc.stderr and "Traceback" not in proc.stderr


# ---- with a real tree ---------------------------------------------------------


def test_resolver_methods_come_from_the_tree() -> None:
    tree = find_tree(tflm_tree())
    methods = resolver_methods(tree)
    assert methods["CONV_2D"] == "AddConv2D" and methods["FULLY_CONNECTED"] == "AddFullyConnected"
    assert len(methods) > 50


def _tflm_run(model: Path, runs_dir: Path, **kw: object) -> dict:
    cfg = RunConfig(model=model, runtime="tflm", tflm_dir=tflm_tree(), runs_dir=runs_dir,
                    quiet=True, references=["tflm-host", "litert-ref"], **kw)
    return run(cfg).to_dict()


def _device_vs(res: dict, ref: str) -> dict:
    (cmp,) = [c for c in res["comparisons"] if c["a"] == "device" and c["b"] == ref]
    return cmp


def test_example_model_on_tflm_is_bit_exact_with_tflm_host(runs_dir: Path) -> None:
    tflm_tree()
    res = _tflm_run(EXAMPLE, runs_dir, vectors=4)
    assert res["config"]["runtime"] == "tflm"
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert res["enforced_reference"] == "tflm-host"
    cmp = _device_vs(res, "tflm-host")
    assert cmp["vectors"] == 4 and cmp["max_abs_lsb"] == 0
    folder = Path(res["run_dir"])
    dev = np.load(folder / "outputs_device.npz")["arr_0"]
    host = np.load(folder / "outputs_tflm-host.npz")["arr_0"]
    assert np.array_equal(dev, host)
    assert res["device"]["info"]["runtime"] == "tflm"
    used = int(res["device"]["info"]["arena_used_bytes"])
    assert 0 < used <= int(res["device"]["info"]["arena_size"])
    # The firmware is the generated app around the real interpreter.
    model_cc = (folder / "firmware" / "model.cc").read_text()
    assert "MicroMutableOpResolver<" in model_cc and "alignas(16) const unsigned char" in model_cc


def test_second_run_does_not_rebuild_the_library(runs_dir: Path) -> None:
    tflm_tree()
    _tflm_run(EXAMPLE, runs_dir, vectors=1)
    res = _tflm_run(EXAMPLE, runs_dir, vectors=1)
    assert res["tflm"]["cached"] is True and res["build"]["cached"] is True


def test_unknown_op_is_refused_before_any_build(tmp_path: Path) -> None:
    tree = find_tree(tflm_tree())
    from harness.ops.validate import load_model

    graph = load_model(EXAMPLE)
    graph.ops[0].name = "NOT_AN_OP"
    with pytest.raises(Exception, match="NOT_AN_OP"):
        check_tflm_ops(graph, tree)


@pytest.mark.parametrize("name", ["micro_speech_quantized.tflite", "hello_world_int8.tflite",
                                  "person_detect.tflite"])
def test_shared_models_on_tflm(name: str, runs_dir: Path) -> None:
    tflm_tree()
    # cortex-m4: person_detect's TFLM arena (~85 KB) does not fit stm32f4's 96 KB of RAM
    res = _tflm_run(shared_model(name), runs_dir, vectors=2, target="cortex-m4")
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert _device_vs(res, "tflm-host")["max_abs_lsb"] == 0


@pytest.mark.parametrize("name", ["example", "micro_speech_quantized.tflite",
                                  "hello_world_int8.tflite"])
def test_builtin_and_tflm_devices_agree(name: str) -> None:
    tree = tflm_tree()
    from harness.bench.runtimes import compare_runtimes

    model = EXAMPLE if name == "example" else shared_model(name)
    r = compare_runtimes(model, 3, tree, "stm32f4")
    assert r["rows"]["builtin"]["verdict"] == "PASS" and r["rows"]["tflm"]["verdict"] == "PASS"
    assert r["max_diff"] == 0, r["where"]
    for row in r["rows"].values():
        assert row["instructions"] > 0 and row["arena"] > 0 and row["flash"] > 0
