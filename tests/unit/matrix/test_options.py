"""harness/matrix/options.py: the matrix's options, declared once for the CLI and invoke."""

from __future__ import annotations

import pytest

from harness.errors import BadInput
from harness.matrix.options import ALL_OPTIONS, CELL_OPTIONS, MATRIX_OPTIONS, parse_shard


@pytest.mark.parametrize("given, read", [("1/2", "1/2"), (" 02/4 ", "2/4"), ("3/3", "3/3")])
def test_shards(given: str, read: str) -> None:
    assert parse_shard(given) == read


@pytest.mark.parametrize("bad", ["0/2", "3/2", "1", "a/b", "1/0", "-1/2"])
def test_bad_shards(bad: str) -> None:
    with pytest.raises(BadInput, match="K/N"):
        parse_shard(bad)


def test_the_matrix_decides_what_a_cell_cannot_be_given() -> None:
    cell = {o.name for o in CELL_OPTIONS}
    assert not cell & {"model", "target", "runtime", "kernels", "place", "port", "resume",
                       "runs_dir", "board"}
    assert {"vectors", "references", "tolerances", "per_layer", "coordinator"} <= cell
    flags = [o.flag for o in ALL_OPTIONS]
    assert len(flags) == len(set(flags))
    assert {"--models", "--places", "--shard", "--jobs", "--resume"} <= set(flags)


def test_jobs_default_to_the_cores() -> None:
    import os

    jobs = next(o for o in MATRIX_OPTIONS if o.name == "jobs")
    assert jobs.default == (os.cpu_count() or 1)
    with pytest.raises(BadInput):
        jobs.read("0")
