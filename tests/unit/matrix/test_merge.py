"""harness/matrix/merge.py: shards' folders as one matrix folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.matrix.merge import merge
from support.matrix import matrix_folder, plan, read


def _shards(tmp_path: Path, n: int = 2) -> list[Path]:
    folders = [tmp_path / f"shard-{k}" for k in range(1, n + 1)]
    for k, folder in enumerate(folders, 1):
        matrix_folder(folder, shard=f"{k}/{n}")
    return folders


def test_merged_shards_are_the_whole_matrix(tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    matrix_folder(whole)
    out = tmp_path / "merged"
    assert merge(_shards(tmp_path), out, quiet=True) == 1
    merged = read(out)
    for key in ("cells", "summary", "exit_code", "plan"):
        assert merged[key] == read(whole)[key], key
    assert len(merged["merged_from"]) == 2
    assert (out / "example_cnn_int8_cortex-m55_auto" / "report.html").is_file()
    assert (out / "matrix.html").is_file() and (out / "junit.xml").is_file()


def test_a_missing_shard_leaves_its_cells_pending(tmp_path: Path) -> None:
    first = _shards(tmp_path)[0]
    assert merge([first], tmp_path / "out", quiet=True) == 130
    statuses = [c["status"] for c in read(tmp_path / "out")["cells"]]
    assert statuses == ["DRIFT", "PENDING", "DRIFT"]


def test_what_cannot_be_merged(tmp_path: Path) -> None:
    folders = _shards(tmp_path)
    other = tmp_path / "other"
    matrix_folder(other, plan(vectors="3"), shard="2/2")
    with pytest.raises(BadInput, match="ran another plan"):
        merge([folders[0], other], tmp_path / "a", quiet=True)
    with pytest.raises(BadInput, match="are both 1/2"):
        merge([folders[0], folders[0]], tmp_path / "b", quiet=True)
    with pytest.raises(BadInput, match="exists and is not empty"):
        merge(folders, folders[0], quiet=True)
