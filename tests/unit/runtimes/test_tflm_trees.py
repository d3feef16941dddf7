"""Finding the TFLM, CMSIS-NN and CMSIS_6 trees (harness/runtimes/tflm/tree.py) and the
--kernels options (harness/config.py): pins read from the TFLM tree's own download
scripts, tree identities that git itself computes, one-line refusals."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.config import RunConfig, from_options, resolve_runtime
from harness.errors import BadInput, ExitCode, MissingTool
from harness.runtimes.tflm import tree as tree_mod
from harness.runtimes.tflm.tree import (
    CMSIS,
    CMSIS_NN,
    EXT_LIBS,
    SOURCES_INC,
    TflmTree,
    find_cmsis_trees,
    pinned_commits,
    require_all_trees,
    tree_id,
)
from support.paths import tflm_tree

NN_COMMIT = "0123456789abcdef0123456789abcdef01234567"
CORE_COMMIT = "fedcba9876543210fedcba9876543210fedcba98"
# Shaped like TFLM's ext_libs scripts: the commit in a variable, the archive URL naming it.
NN_SCRIPT = f"""#!/usr/bin/env bash
DOWNLOADED_CMSIS_NN_PATH=${{DOWNLOADS_DIR}}/cmsis_nn
ZIP_PREFIX_NN="{NN_COMMIT}"
CMSIS_NN_URL="http://github.com/ARM-software/CMSIS-NN/archive/${{ZIP_PREFIX_NN}}.zip"
"""
CORE_SCRIPT = f"""#!/usr/bin/env bash
  ZIP_PREFIX="{CORE_COMMIT}"
  CMSIS_URL="http://github.com/ARM-software/CMSIS_6/archive/${{ZIP_PREFIX}}.zip"
  ZIP_PREFIX="c2c70a97a20fb355815e2ead3d4a40e35a4a3cdf"
  CMSIS_DFP_URL="http://github.com/ARM-software/Cortex_DFP/archive/${{ZIP_PREFIX}}.zip"
"""


def _tflm(root: Path, scripts: bool = True) -> TflmTree:
    (root / SOURCES_INC).parent.mkdir(parents=True)
    (root / SOURCES_INC).write_text("# sources\n")
    if scripts:
        (root / EXT_LIBS).mkdir(parents=True)
        (root / EXT_LIBS / CMSIS_NN.script).write_text(NN_SCRIPT)
        (root / EXT_LIBS / CMSIS.script).write_text(CORE_SCRIPT)
    return TflmTree(root, "test")


def _ext(root: Path, marker: Path) -> Path:
    (root / marker).parent.mkdir(parents=True)
    (root / marker).write_text("/* marker */\n")
    return root


def test_pins_are_read_from_the_download_scripts(tmp_path: Path) -> None:
    pins = pinned_commits(_tflm(tmp_path).root)
    assert pins[CMSIS_NN.name].commit == NN_COMMIT
    assert pins[CMSIS_NN.name].repo == "https://github.com/ARM-software/CMSIS-NN"
    # The CMSIS_6 commit, not the Cortex_DFP one assigned to the same variable after it.
    assert pins[CMSIS.name].commit == CORE_COMMIT
    assert pins[CMSIS.name].repo == "https://github.com/ARM-software/CMSIS_6"


TESTED_TREE = "8430b71bfb1d"  # git rev-parse 90b983c2^{tree} in tflite-micro


def test_the_tested_tree_pins_the_commits_its_scripts_name() -> None:
    root = tflm_tree()
    if tree_id(root) != TESTED_TREE:
        pytest.skip(f"TFLM_DIR is not the tested tree (tflite-micro 90b983c2, {TESTED_TREE})")
    pins = pinned_commits(root)
    # tflite-micro 90b983c2: ext_libs/cmsis_nn_download.sh and cmsis_download.sh
    assert pins[CMSIS_NN.name].commit == "4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae"
    assert pins[CMSIS.name].commit == "5782d6f8057906d360f4b95ec08a2354afe5c9b9"


def test_missing_cmsis_trees_are_one_line_with_how_to_get_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CMSIS_NN_DIR", raising=False)
    monkeypatch.delenv("CMSIS_DIR", raising=False)
    with pytest.raises(MissingTool) as err:
        find_cmsis_trees(_tflm(tmp_path), {})
    line = err.value.one_line()
    assert "\n" not in line and err.value.code == ExitCode.MISSING_TOOL
    for want in ("CMSIS_NN_DIR", "--cmsis-nn-dir", "CMSIS_DIR", NN_COMMIT[:12],
                 CORE_COMMIT[:12], "invoke tflm.fetch", "github.com/ARM-software/CMSIS-NN"):
        assert want in line, want


def test_cmsis_trees_from_the_environment_and_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tflm = _tflm(tmp_path / "tflm")
    nn = _ext(tmp_path / "nn", CMSIS_NN.marker)
    core = _ext(tmp_path / "core", CMSIS.marker)
    monkeypatch.setenv("CMSIS_NN_DIR", str(nn))
    found_nn, found_core = find_cmsis_trees(tflm, {CMSIS.name: (core, None)})
    assert (found_nn.root, found_nn.source) == (nn, "CMSIS_NN_DIR")
    assert (found_core.root, found_core.source) == (core, "--cmsis-dir")
    monkeypatch.setenv("CMSIS_NN_DIR", str(core))  # a CMSIS_6 tree is not a CMSIS-NN one
    with pytest.raises(BadInput, match="is not a CMSIS-NN tree: Include/arm_nnfunctions.h"):
        find_cmsis_trees(tflm, {CMSIS.name: (core, None)})


def test_without_any_tree_every_missing_one_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("TFLM_DIR", "CMSIS_NN_DIR", "CMSIS_DIR"):
        monkeypatch.delenv(env, raising=False)
    with pytest.raises(MissingTool) as err:
        require_all_trees((None, None), {CMSIS.name: (Path("/trees/core"), None)})
    line = err.value.one_line()
    assert "TFLM_DIR" in line and "CMSIS_NN_DIR" in line and "invoke tflm.fetch" in line
    assert "CMSIS_DIR (or" not in line  # that one is configured


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_tree_id_is_what_git_computes_for_the_same_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "a" / "b").mkdir(parents=True)
    (repo / "a" / "b" / "x.c").write_text("int x;\n")
    (repo / "a" / "y.h").write_text("#define Y 1\n")
    (repo / "run.sh").write_text("#!/bin/sh\n")
    (repo / "run.sh").chmod(0o755)
    (repo / "link").symlink_to("a/y.h")
    (repo / "a-b").write_text("sorts between a and a/\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    expected = _git(repo, "write-tree")  # git's own tree hash of exactly these files
    export = tmp_path / "export"
    subprocess.run(["cp", "-a", str(repo), str(export)], check=True)
    subprocess.run(["rm", "-rf", str(export / ".git")], check=True)
    (export / "empty").mkdir()  # git keeps no empty folders
    tree_mod._ID_CACHE.clear()
    assert tree_id(export) == expected[:12]


def test_kernels_option_and_its_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CMSIS_NN_DIR", raising=False)
    monkeypatch.setenv("CMSIS_DIR", "/trees/env-core")
    assert RunConfig().kernels == "reference"
    cfg = from_options({"cmsis_nn_dir": "/trees/cli-nn"},
                       {"kernels": "cmsis-nn", "cmsis_dir": "/trees/yaml-core",
                        "cmsis_nn_dir": "/trees/yaml-nn"})
    cfg, why = resolve_runtime(cfg)
    # --kernels cmsis-nn runs on tflm; command line > environment > invoke.yaml
    assert cfg.runtime == "tflm" and "--kernels cmsis-nn" in why
    assert cfg.cmsis_nn_dir == Path("/trees/cli-nn")
    assert cfg.cmsis_dir == Path("/trees/env-core")
    assert cfg.record()["kernels"] == "cmsis-nn"


@pytest.mark.parametrize("given, message", [
    ({"kernels": "fast"}, "--kernels must be 'reference' or 'cmsis-nn', not 'fast'"),
    ({"kernels": "cmsis-nn", "runtime": "builtin"}, "--kernels cmsis-nn needs --runtime tflm"),
])
def test_bad_kernels_are_refused_when_made(given: dict, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        from_options(given)
