"""--flash with every tool a board names: the exact command line for each board.

A fake pyocd, openocd, st-flash and nrfjprog on PATH record their arguments (they stand
where a probe and its flash tool would be; this machine has no board). The ELF is a real
build, converted by the real arm-none-eabi-objcopy for the tools that take a binary
(st-flash) or Intel HEX (nrfjprog).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from harness.device.backends import BoardBackend
from harness.device.backends.board import check_flash_tool
from harness.errors import BadInput
from harness.ops.validate import load_model
from harness.runtimes.build import build
from harness.runtimes.builtin.firmware import generate_builtin
from harness.targets.table import ALL, BOARDS
from support.paths import EXAMPLE

TOOLS = ("pyocd", "openocd", "st-flash", "nrfjprog")
# The commands, written out from each tool's documentation and the board's name in it:
# pyOCD `pyocd flash --target <pack part name>`; OpenOCD's shipped board configs and its
# `program <file> verify reset exit`; `st-flash --reset write <bin> <address>` at the STM32
# flash origin; `nrfjprog -f NRF52 --program <hex> --sectorerase --verify --reset`.
EXPECTED = {
    "nucleo-f401re": {"pyocd": ["--target", "stm32f401retx"],
                      "openocd": ["-f", "board/st_nucleo_f4.cfg"], "st-flash": "0x08000000"},
    "nucleo-f411re": {"pyocd": ["--target", "stm32f411retx"],
                      "openocd": ["-f", "board/st_nucleo_f4.cfg"], "st-flash": "0x08000000"},
    "nucleo-f446re": {"pyocd": ["--target", "stm32f446retx"],
                      "openocd": ["-f", "board/st_nucleo_f4.cfg"], "st-flash": "0x08000000"},
    "stm32f4-discovery": {"pyocd": ["--target", "stm32f407vgtx"],
                          "openocd": ["-f", "board/stm32f4discovery.cfg"],
                          "st-flash": "0x08000000"},
    "nucleo-h743zi": {"pyocd": ["--target", "stm32h743zitx"],
                      "openocd": ["-f", "board/st_nucleo_h743zi.cfg"], "st-flash": "0x08000000"},
    # STM32F746G-DISCO: its MCU is the STM32F746NGH6 (pack part STM32F746NGHx); OpenOCD's
    # board/stm32f7discovery.cfg is that board's.
    "stm32f746g-disco": {"pyocd": ["--target", "stm32f746nghx"],
                         "openocd": ["-f", "board/stm32f7discovery.cfg"],
                         "st-flash": "0x08000000"},
    "nrf52840-dk": {"pyocd": ["--target", "nrf52840"],
                    "openocd": ["-f", "board/nordic_nrf52_dk.cfg"], "nrfjprog": "NRF52"},
}


def _command(tool: str, want: object, elf: Path) -> list[str]:
    if tool == "pyocd":
        return ["pyocd", "flash", *want, str(elf)]
    if tool == "openocd":
        return ["openocd", *want, "-c", f"program {elf} verify reset exit"]
    if tool == "st-flash":
        return ["st-flash", "--reset", "write", str(elf.with_suffix(".bin")), want]
    return ["nrfjprog", "-f", want, "--program", str(elf.with_suffix(".hex")), "--sectorerase",
            "--verify", "--reset"]


@pytest.fixture
def fake_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The four flash tools on PATH, each appending its argv to calls.jsonl."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.jsonl"
    bin_dir.mkdir()
    for tool in TOOLS:
        script = bin_dir / tool
        script.write_text(f"#!/bin/sh\nexec python3 -c 'import json, sys; open(sys.argv[1], "
                          f"\"a\").write(json.dumps(sys.argv[2:]) + \"\\n\")' {log} "
                          f"{tool} \"$@\"\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.fixture(scope="module")
def elf() -> Path:
    return build(generate_builtin(load_model(EXAMPLE), ALL["stm32f4"], semihosting=False)).elf


def test_every_board_has_its_commands_here() -> None:
    assert set(EXPECTED) == set(BOARDS)


@pytest.mark.parametrize(("board", "tool"), [(b, t) for b, tools in EXPECTED.items()
                                             for t in tools])
def test_flash_command_per_board(board: str, tool: str, fake_tools: Path, elf: Path,
                                 tmp_path: Path) -> None:
    target = ALL[board]
    backend = BoardBackend(target, elf, "socket://127.0.0.1:9", tmp_path / "run",
                           flash_tool=tool)
    assert backend.start() == "socket://127.0.0.1:9"
    (call,) = [json.loads(line) for line in fake_tools.read_text().splitlines()]
    assert call == _command(tool, EXPECTED[board][tool], elf)
    if tool == "st-flash":  # the raw image from 0x08000000 up: the ELF's flash, as objcopy
        assert elf.with_suffix(".bin").stat().st_size > 10_000  # makes it
    if tool == "nrfjprog":
        assert elf.with_suffix(".hex").read_text().startswith(":")  # Intel HEX records


@pytest.mark.parametrize(("board", "tool", "usable"), [
    ("nrf52840-dk", "st-flash", "pyocd or openocd or nrfjprog"),
    ("nucleo-f411re", "nrfjprog", "pyocd or openocd or st-flash"),
])
def test_a_tool_the_board_has_no_name_for_is_refused(board: str, tool: str, usable: str,
                                                     fake_tools: Path) -> None:
    with pytest.raises(BadInput) as info:
        check_flash_tool(tool, ALL[board])
    assert info.value.one_line() == (f"{board} has no {tool} settings in targets.toml "
                                     f"(flash it with {usable})")
    assert not fake_tools.exists()
