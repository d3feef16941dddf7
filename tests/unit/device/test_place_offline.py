"""harness/device/place.py without a lab: a missing labgrid names the extra, the serial
URL of an exported port, the checks on a place's board tag (the real coordinator and
exporter: tests/integration/device/test_place.py)."""

from __future__ import annotations

import contextlib
import sys
from types import SimpleNamespace

import pytest

from harness.cli import main
from harness.config import RunConfig
from harness.device import place as place_mod
from harness.device.place import _tag_board, hold_place, labgrid_client, serial_url
from harness.errors import BadInput, MissingTool


@pytest.fixture
def no_labgrid(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import labgrid...` fails, as without the [farm] extra."""
    for name in ("labgrid", "labgrid.remote", "labgrid.remote.client"):
        monkeypatch.setitem(sys.modules, name, None)


def test_a_missing_labgrid_names_the_extra(no_labgrid: None) -> None:
    with pytest.raises(MissingTool, match="--place needs labgrid") as exc:
        labgrid_client()
    assert "[farm]" in exc.value.hint


def test_a_missing_labgrid_is_one_line_exit_5(no_labgrid: None, capsys, tmp_path) -> None:
    runs = tmp_path / "runs"
    assert main(["run", "--quiet", "--place", "lab-1", "--runs-dir", str(runs)]) == 5
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: --place needs labgrid") and "[farm]" in line
    assert not runs.exists()


def _resource(**args: object) -> SimpleNamespace:
    return SimpleNamespace(args={"host": "lab.example", "port": 4001, **args})


def test_the_serial_url_of_an_exported_port() -> None:
    assert serial_url(_resource()) == "rfc2217://lab.example:4001?ign_set_control"
    assert serial_url(_resource(protocol="raw")) == "socket://lab.example:4001"


def test_place_and_port_exclude_each_other() -> None:
    cfg = RunConfig(place="lab-1", port="/dev/ttyACM0")
    with pytest.raises(BadInput, match="--place and --port exclude each other"):
        hold_place(cfg, contextlib.ExitStack())
    assert hold_place(RunConfig(), contextlib.ExitStack()) == RunConfig()  # no --place


class _Tagged:
    def __init__(self, tags: dict[str, str]) -> None:
        self.name, self.tags = "lab-1", tags


def test_the_board_tag_is_checked_against_the_target() -> None:
    assert _tag_board(_Tagged({}), "stm32f4") is None
    assert _tag_board(_Tagged({"board": "nucleo-f401re"}), "stm32f4") == "nucleo-f401re"
    with pytest.raises(BadInput, match="board tag 'pdp-11' is not a board"):
        _tag_board(_Tagged({"board": "pdp-11"}), "stm32f4")
    with pytest.raises(BadInput, match="holds a nucleo-f401re .* not a cortex-m55"):
        _tag_board(_Tagged({"board": "nucleo-f401re"}), "cortex-m55")


def test_the_coordinator_comes_from_the_option_then_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("LG_COORDINATOR", raising=False)
    assert place_mod.coordinator_address(None) == "127.0.0.1:20408"
    monkeypatch.setenv("LG_COORDINATOR", "lab:1")
    assert place_mod.coordinator_address(None) == "lab:1"
    assert place_mod.coordinator_address("other:2") == "other:2"
