"""The drift catalogue's rows and document (harness/run/catalogue.py), from results.json
documents: what each column shows, and that the tables read back as written."""

from __future__ import annotations

from harness.errors import BadInput
from harness.run.catalogue import (
    Row,
    add_attribution,
    model_table,
    not_localised,
    render,
    row_from_result,
    tables,
)


def _result(status: str = "DRIFT") -> dict:
    return {
        "target": {"name": "cortex-m4"}, "enforced_reference": "tflm-host",
        "verdict": {"status": status, "reason": "..."},
        "comparisons": [
            {"a": "device", "b": "tflm-host", "max_abs_lsb": 3, "unit": "LSB"},
            {"a": "device", "b": "tflm-host", "max_abs_lsb": 1, "unit": "LSB"},
            {"a": "device", "b": "numpy-int8", "max_abs_lsb": 40, "unit": "LSB"},
        ],
        "device": {"counter": {"median": 574720, "unit": "instructions"},
                   "info": {"arena_used_bytes": "16944"}},
        "build": {"arena_bytes": 20000, "flash_bytes": 107432},
        "tflm": {"tree_id": "8430b71bfb1d",
                 "kernels": {"name": "cmsis-nn", "cmsis_nn": {"tree_id": "a9c20186ed35"}}},
        "attribution": {"parts": [{"part": "runtime"}, {
            "part": "platform", "first_divergence": {"op": 0, "name": "LSTM", "max_abs_lsb": 231},
            "cause": {"id": "recurrent state reset every invocation", "evidence": "rates"}}]},
    }


def test_a_row_shows_the_enforced_pair_and_the_device_figures() -> None:
    row = row_from_result("lstm", "tflm+cmsis-nn", _result())
    assert row.max_delta == "3 LSB vs tflm-host"  # the worst output against its own reference
    assert row.instructions == "574,720"
    assert row.arena == "16,944 B used" and row.flash == "107,432 B"
    assert row.trees == "tflm 8430b71b, nn a9c20186"
    add_attribution(row, _result())
    assert row.first_op == "op 0 LSTM (231 LSB)"
    assert row.cause == "recurrent state reset every invocation"


def test_the_document_reads_back_as_written() -> None:
    rows = [row_from_result("lstm", "tflm+cmsis-nn", _result()),
            row_from_result("lstm", "tflm", _result("PASS")),
            Row("tiny", "cortex-m0", "tflm", "does not fit: needs ~20 KB of RAM")]
    add_attribution(rows[0], _result())
    doc = render(rows, trees={"TFLite Micro": {"tree_id": "8430b71bfb1d", "commit": None}},
                 vectors=10, date="2026-11-29", command="invoke drift-catalogue",
                 model_ops={"lstm": ["UNIDIRECTIONAL_SEQUENCE_LSTM"]})
    assert tables(doc) == {"lstm": model_table(rows[:2]), "tiny": model_table(rows[2:])}
    assert "- **recurrent state reset every invocation**: lstm on cortex-m4" in doc
    assert "1 of 3 runs are bit-exact; 1 drift" in doc


def test_a_drift_whose_per_layer_run_does_not_fit_says_so_short() -> None:
    exc = BadInput("lstm needs ~32 KB of RAM (26 KB TFLM arena + 4 KB firmware + 2 KB stack) "
                   "but cortex-m0 (microbit) has 16 KB (targets and boards with enough "
                   "memory: stm32f4, cortex-m3)")
    assert not_localised(exc) == ("not localised, --per-layer does not fit: needs ~32 KB of RAM "
                                  "(26 KB TFLM arena + 4 KB firmware + 2 KB stack) but "
                                  "cortex-m0 (microbit) has 16 KB")
