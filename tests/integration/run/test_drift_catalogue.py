"""docs/drift-catalogue.md is the output of `invoke drift-catalogue`: one model's table,
made again here, is the table the file holds (needs the TFLM, CMSIS-NN and CMSIS_6
trees the file was made with: their git tree hashes are in the table)."""

from __future__ import annotations

from pathlib import Path

from harness.config import RunConfig
from harness.run.catalogue import catalogue, model_table, tables
from support.cmsis_trees import cmsis_trees
from support.paths import ROOT, shared_model

DOC = ROOT / "docs" / "drift-catalogue.md"
MODEL = "hello_world_int8.tflite"  # the smallest model: its 15 runs take a few minutes


def test_the_catalogue_table_is_the_task_output(tmp_path: Path) -> None:
    tflm, nn, core = cmsis_trees()
    written = tables(DOC.read_text())
    model = shared_model(MODEL)
    base = RunConfig(vectors=10, tflm_dir=tflm, cmsis_nn_dir=nn, cmsis_dir=core)
    rows = catalogue([model], base, runs_dir=tmp_path)
    assert model_table(rows) == written[model.stem]
