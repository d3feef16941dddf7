"""The CMSIS-NN and CMSIS_6 trees for the --kernels cmsis-nn tests, or a skip saying
what to set (they live outside the project; `invoke tflm.fetch` clones them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.paths import tflm_tree


def cmsis_trees() -> tuple[Path, Path, Path]:
    """(TFLM, CMSIS-NN, CMSIS_6) trees, or skip."""
    tflm = tflm_tree()
    nn, core = os.environ.get("CMSIS_NN_DIR"), os.environ.get("CMSIS_DIR")
    if not nn or not core:
        pytest.skip("no CMSIS trees: set CMSIS_NN_DIR and CMSIS_DIR to CMSIS-NN and CMSIS_6 "
                    "checkouts at the commits the TFLM tree pins (`invoke tflm.fetch`)")
    return tflm, Path(nn), Path(core)
