"""Which target a run builds for (harness/targets/choice.py), and the refusals before any
work: an unknown board, a board of another target, a baud rate the UART cannot make, a
model too big for the board.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInput, ExitCode
from harness.targets.choice import choose_target, clock_report
from support import synth
from support.cli import harness, one_line_error


def test_emulated_stm32f4_is_the_target_itself() -> None:
    choice = choose_target("stm32f4", None, None, 115200)
    assert choice.target.name == "stm32f4" and choice.notes == ()
    assert choice.target.uart.name == "USART2" and choice.target.ram.length == 96 * 1024


def test_a_port_run_of_stm32f4_assumes_the_nucleo_f401re_and_says_how_to_pick_another() -> None:
    choice = choose_target("stm32f4", None, "/dev/ttyACM0", 115200)
    assert choice.target.name == "nucleo-f401re"
    assert choice.notes == (
        "board: NUCLEO-F401RE assumed for --target stm32f4 (USART2 on PA2/PA3, 16 MHz, "
        "96 KB RAM)",
        "  another board: --board nucleo-f411re|nucleo-f446re|stm32f4-discovery (or --target "
        "NAME)")
    assert all(len("  " + n) <= 100 for n in choice.notes)


def test_board_by_option_or_by_target_name() -> None:
    assert choose_target("stm32f4", "nucleo-f411re", "/dev/ttyACM0", 115200).target.name == (
        "nucleo-f411re")
    assert choose_target("nucleo-f411re", None, "/dev/ttyACM0", 115200).notes == ()
    assert choose_target("stm32f4", "nrf52840-dk", None, 115200).target.name == "nrf52840-dk"
    with pytest.raises(BadInput) as info:
        choose_target("cortex-m3", "nucleo-h743zi", None, 115200)
    assert info.value.one_line() == ("--board nucleo-h743zi is a stm32h7 board, not a "
                                     "cortex-m3 one (drop --target, or give --target stm32h7)")


def test_clock_max_on_a_fixed_clock_and_a_rate_only_the_maximum_makes() -> None:
    fixed = choose_target("cortex-m3", None, None, 115200, "max")
    assert fixed.notes == ("clock: cortex-m3 runs at a fixed 25 MHz; --clock max changes "
                           "nothing",)
    risky = choose_target("stm32f4", "nucleo-f411re", None, 921600, "max")
    assert risky.notes == ("clock: should the PLL not lock, the reset clock cannot make "
                           "921600 baud within 2% and the link will fail",)


def test_the_device_reports_the_clock_it_runs() -> None:
    assert clock_report({"clock": "reset", "clock_hz": "16000000"}, "reset") is None
    assert clock_report({"clock": "max", "clock_hz": "100000000"}, "max") == (
        "clock: 100 MHz (max)")
    assert clock_report({"clock": "fallback", "clock_hz": "16000000"}, "max") == (
        "clock: the maximum did not come up in time; the device runs at 16 MHz (reset)")


# ---- through the command line: one line, its exit code, nothing done ------------------------


def _nothing_done(runs: Path) -> None:
    assert not runs.exists()  # no run folder: refused before the model was even read


def test_unknown_board(tmp_path: Path) -> None:
    proc = harness("--board", "nucleo-f999re", "--runs-dir", str(tmp_path / "runs"))
    line = one_line_error(proc, ExitCode.BAD_INPUT)
    assert line == ("error: unknown board 'nucleo-f999re' (known boards: nucleo-f401re, "
                    "nucleo-f411re, nucleo-f446re, stm32f4-discovery, nucleo-h743zi, "
                    "stm32f746g-disco, nrf52840-dk)")
    _nothing_done(tmp_path / "runs")


def test_a_baud_rate_the_board_cannot_make(tmp_path: Path) -> None:
    proc = harness("--target", "stm32f4", "--baud", "921600", "--port", "socket://127.0.0.1:9",
                   "--runs-dir", str(tmp_path / "runs"))
    line = one_line_error(proc, ExitCode.BAD_INPUT)
    assert line == ("error: --baud 921600 is more than 2% off on nucleo-f401re: USART2 at "
                    "16 MHz makes 941176 (+2.1%) (within 2% it makes 460800, 500000, "
                    "1000000; --clock max (84 MHz) makes 921600)")
    _nothing_done(tmp_path / "runs")


def test_a_model_too_big_for_the_board(tmp_path: Path, pty: str) -> None:
    """A 64 KB input and a 64 KB activation: ~137 KB of RAM with the stack; the NUCLEO-F401RE
    has 96 KB, the boards with more are named. (On a port: no emulator is needed.)"""
    model = tmp_path / "big.tflite"
    model.write_bytes(synth.chain((1, 64, 64, 16), [("conv2d", {"out_channels": 16,
                                                                "kernel": 1})], seed=3))
    proc = harness("--model", str(model), "--board", "nucleo-f401re", "--port", pty,
                   "--runs-dir", str(tmp_path / "runs"))
    line = one_line_error(proc, ExitCode.BAD_INPUT)
    assert line.startswith("error: big needs ~140 KB of RAM (128 KB arena + ")
    assert "but nucleo-f401re (NUCLEO-F401RE) has 96 KB (targets and boards with enough " in line
    assert line.endswith("stm32h7, stm32f7, nrf52840, nucleo-h743zi, stm32f746g-disco, "
                         "nrf52840-dk)")
    _nothing_done(tmp_path / "runs")
