"""harness/matrix/axes.py: each axis over one run option, models as globs."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInput, ModelNotFound
from harness.matrix.axes import AXES


def _axis(name: str):
    return next(a for a in AXES if a.name == name)


def test_the_axes_are_the_run_options_in_order() -> None:
    assert [(a.name, a.field) for a in AXES] == [("models", "model"), ("targets", "target"),
                                                ("runtimes", "runtime"), ("kernels", "kernels")]


def test_models_expand_globs_sorted_and_once(tmp_path: Path) -> None:
    for name in ("b_int8.tflite", "a_int8.tflite", "c_float.tflite"):
        (tmp_path / name).write_bytes(b"")
    models = _axis("models").values([str(tmp_path / "*int8*.tflite"),
                                     str(tmp_path / "a_int8.tflite")])
    assert [Path(m).name for m in models] == ["a_int8.tflite", "b_int8.tflite"]


def test_relative_models_are_read_from_the_matrix_yaml_folder(tmp_path: Path) -> None:
    (tmp_path / "m.tflite").write_bytes(b"")
    assert _axis("models").values(["m.tflite"], tmp_path) == [str(tmp_path / "m.tflite")]


def test_bad_values_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="matches no file"):
        _axis("models").values([str(tmp_path / "*.tflite")])
    with pytest.raises(ModelNotFound):
        _axis("models").values([str(tmp_path / "none.tflite")])
    with pytest.raises(BadInput, match="--kernels must be"):
        _axis("kernels").values(["fast"])
    with pytest.raises(BadInput, match="empty"):
        _axis("targets").values([])


def test_kernels_name_a_cell_only_when_the_matrix_varies_them() -> None:
    kernels = _axis("kernels")
    assert not kernels.in_id(["reference"]) and kernels.in_id(["reference", "cmsis-nn"])
