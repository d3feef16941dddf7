"""docs/drift-catalogue.md is the output of `invoke drift-catalogue`: one model's table,
made again here, is the table the file holds, instruction counts to within a SysTick tick
or two (needs the TFLM, CMSIS-NN and CMSIS_6 trees the file was made with: their git tree
hashes are in the table)."""

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
    made, kept = _cells(model_table(rows)), _cells(written[model.stem])
    assert len(made) == len(kept)
    for new, old in zip(made, kept, strict=True):
        assert new[:COUNT] + new[COUNT + 1:] == old[:COUNT] + old[COUNT + 1:]
        if old[COUNT] != "-":
            assert abs(_number(new[COUNT]) - _number(old[COUNT])) <= _count_slack(old[COUNT])


# The instructions column is SysTick ticks times the instructions per tick (results.json
# device.counter.scale: 40 on QEMU's mps2 machines, 31.25 on mps3-an547, 62.5 on the
# microbit), and where a tick starts relative to an inference differs from run to run; a
# 24-bit SysTick that wraps during the inference adds its handler's instructions. So a
# count may move by a tick or two (two runs of the catalogue here: at most 62 below 1 M
# instructions, 280 on 526 M); every other column must match exactly.
COUNT = 6  # target, runtime, result, max |d|, first op, cause, instructions/inference, ...


def _cells(table: str) -> list[list[str]]:
    rows = [line for line in table.splitlines() if line.startswith("| cortex")]
    return [[c.strip() for c in line.strip("|").split("|")] for line in rows]


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _count_slack(text: str) -> float:
    return max(2 * 62.5, 1e-6 * _number(text))
