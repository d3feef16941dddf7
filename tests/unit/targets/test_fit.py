"""Does the model fit? (harness/targets/fit.py)."""

from __future__ import annotations

import pytest

from harness.errors import BadInput
from harness.model.graph import Graph
from harness.ops.validate import load_model
from harness.runtimes.builtin.arena import plan_arena
from harness.targets.fit import check_fits, estimate_footprint
from harness.targets.table import TARGETS
from support.paths import EXAMPLE, shared_model


def _footprint(graph: Graph, target_name: str = "cortex-m0"):
    t = TARGETS[target_name]
    weights = sum(x.nbytes for x in graph.tensors if x.is_const)
    return estimate_footprint(weights, plan_arena(graph).size, stack_bytes=t.stack_bytes,
                              num_ops=len(graph.ops), max_payload=t.max_payload)


# ---- does the model fit? ------------------------------------------------------------------


def test_person_detect_does_not_fit_the_microbit() -> None:
    g = load_model(shared_model("person_detect.tflite"))
    fp = _footprint(g)
    with pytest.raises(BadInput) as info:
        check_fits(TARGETS["cortex-m0"], fp.flash, fp.ram, model=g.name,
                   flash_detail=fp.flash_detail, ram_detail=fp.ram_detail)
    msg = info.value.one_line()
    assert "\n" not in msg
    assert msg.startswith("person_detect needs ~")
    assert "of RAM (54 KB arena + 1 KB firmware + 2 KB stack)" in msg
    assert "but cortex-m0 (microbit) has 16 KB" in msg
    assert "cortex-m55" in info.value.hint  # where it would fit
    for name in ("stm32f4", "cortex-m3", "cortex-m33", "cortex-m55"):
        check_fits(TARGETS[name], fp.flash, fp.ram, model=g.name)  # fits: no error


def test_example_fits_every_target() -> None:
    g = load_model(EXAMPLE)
    for name, t in TARGETS.items():
        fp = _footprint(g, name)
        check_fits(t, fp.flash, fp.ram, model=g.name)  # no error
    assert _footprint(g, "cortex-m0").ram <= 16 * 1024 < _footprint(g, "stm32f4").ram


def test_flash_overflow_is_named() -> None:
    t = TARGETS["cortex-m0"]
    with pytest.raises(BadInput, match=r"needs ~300 KB of flash \(w\) but cortex-m0 \(microbit\) "
                                       r"has 256 KB"):
        check_fits(t, 300 * 1024, 1024, model="big", flash_detail="w")
