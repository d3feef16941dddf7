"""harness/bench/run.py: `invoke bench --only g` puts its section and goal lines into
BENCHMARKS.md and keeps the others."""

from __future__ import annotations

from harness.bench.run import merge_sections

OLD = """# Benchmarks

Written by `invoke bench` on 2026-11-28.

## Goals

- (a) ratio: 1.2 (goal <= 1.5): met
- old g figure: 0.7 (goal <= 0.6): MISSED

## (a) Emulated throughput

table a

## (g) harness matrix

old table g
"""


def test_only_replaces_its_own_section_and_goals() -> None:
    new = merge_sections(OLD, ["- old g figure: 0.5 (goal <= 0.6): met"],
                         ["## (g) harness matrix\n\nnew table g\n"])
    assert new == OLD.replace("0.7 (goal <= 0.6): MISSED", "0.5 (goal <= 0.6): met").replace(
        "old table g", "new table g")


def test_a_new_section_goes_in_letter_order() -> None:
    new = merge_sections(OLD, ["- f figure: 1 (goal <= 2): met"], ["## (f) renode\n\nf\n"])
    assert new.index("## (a)") < new.index("## (f)") < new.index("## (g)")
    assert "- old g figure: 0.7" in new and new.index("- f figure") > new.index("- (a) ratio")
