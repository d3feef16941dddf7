"""harness/matrix/plan.py: cells, ids, shards and matrix.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.matrix.plan import Plan, shard
from support.matrix import plan
from support.paths import EXAMPLE


def test_cells_are_the_cross_product_with_readable_ids() -> None:
    cells = plan().cells
    assert [c.id for c in cells] == ["example_cnn_int8_stm32f4_auto",
                                     "example_cnn_int8_cortex-m0_auto",
                                     "example_cnn_int8_cortex-m55_auto"]
    assert cells[0].values == {"model": str(EXAMPLE), "target": "stm32f4", "runtime": "auto",
                               "kernels": "reference"}


def test_two_models_of_one_name_get_two_ids(tmp_path: Path) -> None:
    p = Plan({"models": ["a/m.tflite", "b/m.tflite"], "targets": ["stm32f4"],
              "runtimes": ["builtin"], "kernels": ["reference", "cmsis-nn"]})
    assert [c.id for c in p.cells] == ["m_stm32f4_builtin_reference", "m_stm32f4_builtin_cmsis-nn",
                                       "m_stm32f4_builtin_reference-2",
                                       "m_stm32f4_builtin_cmsis-nn-2"]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_shards_partition_the_cells_stably(n: int) -> None:
    cells = Plan({**plan().axes, "targets": [f"t{i}" for i in range(7)]}).cells
    parts = [shard(cells, f"{k}/{n}") for k in range(1, n + 1)]
    assert sorted(c.id for p in parts for c in p) == sorted(c.id for c in cells)
    assert parts == [shard(cells, f"{k}/{n}") for k in range(1, n + 1)]
    assert shard(cells, None) == cells


def test_a_plan_round_trips_through_matrix_json() -> None:
    p = plan(vectors="3")
    assert Plan.from_dict(p.to_dict()) == p


def test_the_command_line_wins_over_matrix_yaml(tmp_path: Path) -> None:
    (tmp_path / "m.tflite").write_bytes(EXAMPLE.read_bytes())
    spec = tmp_path / "matrix.yaml"
    spec.write_text("models: ['*.tflite']\ntargets: [stm32f4, cortex-m55]\n"
                    "options:\n  vectors: 3\n  per-layer: true\n")
    p = Plan.from_given({"file": spec, "targets": "cortex-m7", "seed": "4"})
    assert p.axes["models"] == [str(tmp_path / "m.tflite")]
    assert p.axes["targets"] == ["cortex-m7"]
    assert p.options == {"vectors": 3, "per_layer": True, "seed": "4"}


@pytest.mark.parametrize("text, message", [
    ("targets: [stm32f4\n", "line 2 is not valid YAML"),
    ("- stm32f4\n", "must be a mapping"),
    ("boards: [x]\n", "boards is not a matrix setting"),
    ("options:\n  target: stm32f4\n", "options.target is not a run option"),
    ("options:\n  vectors: many\n", "--vectors"),
])
def test_bad_matrix_yaml_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    spec = tmp_path / "matrix.yaml"
    spec.write_text(text)
    with pytest.raises(BadInput, match=message):
        Plan.from_given({"file": spec})
