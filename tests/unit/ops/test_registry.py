"""The op registry (harness/ops/registry.py): the activation types each op declares,
and the README's coverage table generated from them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.ops.registry import OPS, coverage_table
from support.paths import ROOT


def test_core_dtypes_declared_for_every_core_lowering() -> None:
    for name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"):
        assert {"int8", "int16"} <= OPS[name].emit_dtypes
        assert {"int8", "int16"} <= OPS[name].numpy_int8_dtypes
    assert "float32" in OPS["FULLY_CONNECTED"].emit_dtypes
    assert all(spec.emit is not None for spec in OPS.values()
               if spec.emit_dtypes != frozenset({"int8"}))


# ---- the coverage table -------------------------------------------------------------


def test_readme_coverage_table_is_the_task_output() -> None:
    text = (ROOT / "README.md").read_text()
    start, end = "<!-- coverage:start -->\n", "<!-- coverage:end -->"
    assert start in text and end in text, "README lacks the Op coverage markers"
    table = text[text.index(start) + len(start):text.index(end)]
    assert table == coverage_table(), "README's Op coverage is stale: paste `invoke coverage`"
    proc = subprocess.run([str(Path(sys.executable).parent / "invoke"), "coverage"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == coverage_table()
