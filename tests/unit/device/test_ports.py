"""`harness ports` and `--port auto`: the serial ports with their USB IDs and the debug
probes they belong to. pyserial's port list is replaced by one the test sets up: it stands
in for boards plugged into this machine, which has none.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from serial.tools import list_ports

from harness import cli
from harness.config import RunConfig
from harness.device import ports
from harness.errors import ExitCode, PortUnavailable
from harness.run.pipeline import run


def _info(device: str, vid: int | None = None, pid: int | None = None,
          description: str = "n/a") -> SimpleNamespace:
    """What list_ports.comports() gives for one port."""
    return SimpleNamespace(device=device, vid=vid, pid=pid, description=description,
                           serial_number="0671FF" if vid else None)


NUCLEO = _info("/dev/ttyACM0", 0x0483, 0x374B, "STM32 STLink")  # a Nucleo-64's ST-LINK/V2-1
NRF_DK = _info("/dev/ttyACM1", 0x1366, 0x1015, "J-Link - CDC")  # the nRF52840 DK's J-Link OB
BUILTIN = _info("/dev/ttyS0")  # the PC's own UART: no USB IDs
FTDI = _info("/dev/ttyUSB0", 0x0403, 0x6001, "FT232R USB UART")  # a cable, not a probe


@pytest.fixture
def plugged(monkeypatch: pytest.MonkeyPatch):
    """Set which ports the system reports."""

    def plug(*infos: SimpleNamespace) -> None:
        monkeypatch.setattr(list_ports, "comports", lambda: list(infos))

    return plug


@pytest.mark.parametrize(("vid", "pid", "probe"), [
    # stlink-org/stlink config/udev/rules.d/49-stlinkv2-1.rules, 49-stlinkv3.rules
    (0x0483, 0x374B, "ST-LINK/V2-1"), (0x0483, 0x3752, "ST-LINK/V2-1"),
    (0x0483, 0x374E, "STLINK-V3"), (0x0483, 0x374F, "STLINK-V3"), (0x0483, 0x3753, "STLINK-V3"),
    (0x0483, 0x3754, "STLINK-V3"),
    # SEGGER's vendor ID: every product is a J-Link (the nRF DKs' J-Link OB: 1015, 1051, 1061)
    (0x1366, 0x1015, "J-Link"), (0x1366, 0x1051, "J-Link"), (0x1366, 0x1061, "J-Link"),
    # pyOCD udev/50-cmsis-dap.rules
    (0x0D28, 0x0204, "DAPLink (CMSIS-DAP)"), (0x2E8A, 0x000C,
                                              "Raspberry Pi Debug Probe (CMSIS-DAP)"),
])
def test_known_probes_by_vid_pid(vid: int, pid: int, probe: str) -> None:
    assert ports.SerialPort("/dev/x", vid, pid, "").probe == probe


def test_unknown_usb_serial_and_plain_uarts_are_no_probes() -> None:
    assert ports.SerialPort("/dev/ttyUSB0", 0x0403, 0x6001, "").probe is None
    assert ports.SerialPort("/dev/ttyS0", None, None, "").probe is None
    assert ports.SerialPort("/dev/x", 0x0483, 0x3748, "").probe is None  # V2: no VCP


def test_harness_ports_lists_vid_pid_and_probe(plugged, capsys: pytest.CaptureFixture) -> None:
    plugged(NRF_DK, NUCLEO, BUILTIN)
    assert cli.main(["ports"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["port", "VID:PID", "probe", "description"]
    assert out[1].split()[:3] == ["/dev/ttyACM0", "0483:374B", "ST-LINK/V2-1"]
    assert out[2].split()[:3] == ["/dev/ttyACM1", "1366:1015", "J-Link"]
    assert out[3].split()[:3] == ["/dev/ttyS0", "-", "-"]
    assert out[4].startswith("--port auto: 2 debug probes' ports")
    assert all(len(line) <= 100 for line in out[:4])


def test_auto_takes_the_only_probe(plugged) -> None:
    plugged(BUILTIN, FTDI, NUCLEO)
    assert ports.auto_port().device == "/dev/ttyACM0"
    cfg, note = ports.resolve_port(RunConfig(port="auto"))
    assert cfg.port == "/dev/ttyACM0"
    assert note == "port: auto -> /dev/ttyACM0 (ST-LINK/V2-1, 0483:374B)"
    same, none = ports.resolve_port(RunConfig(port="/dev/ttyUSB0"))
    assert same.port == "/dev/ttyUSB0" and none is None


def test_auto_refuses_no_probe_and_lists_the_ports(plugged) -> None:
    plugged(BUILTIN, FTDI)
    with pytest.raises(PortUnavailable) as info:
        ports.auto_port()
    assert info.value.one_line() == (
        "--port auto: no debug probe's serial port found (ports: /dev/ttyS0 - n/a; "
        "/dev/ttyUSB0 0403:6001 FT232R USB UART) (plug the board in, or give --port PATH)")
    plugged()
    with pytest.raises(PortUnavailable, match="no serial ports at all"):
        ports.auto_port()


def test_auto_refuses_to_choose_between_two_probes(plugged) -> None:
    plugged(NUCLEO, NRF_DK)
    with pytest.raises(PortUnavailable) as info:
        ports.auto_port()
    assert info.value.code == ExitCode.PORT_UNAVAILABLE
    assert info.value.one_line() == (
        "--port auto: 2 debug probes' ports (/dev/ttyACM0 0483:374B ST-LINK/V2-1; "
        "/dev/ttyACM1 1366:1015 J-Link) (choose one with --port PATH)")


def test_a_run_with_port_auto_and_no_probe_stops_before_any_work(plugged,
                                                                 tmp_path: Path) -> None:
    plugged(BUILTIN)
    with pytest.raises(PortUnavailable, match="--port auto: no debug probe"):
        run(RunConfig(port="auto", runs_dir=tmp_path / "runs", quiet=True))
    assert not (tmp_path / "runs").exists()
