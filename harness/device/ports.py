"""Serial ports and the debug probes behind them: `harness ports`, and `--port auto`.

A development board shows up as a USB serial port of its on-board debug probe (the
probe's virtual COM port). The probes are known by their USB vendor and product IDs:

- ST-LINK (STMicroelectronics, VID 0483): ST-LINK/V2-1 374B, and 3752 without mass
  storage; STLINK-V3 374E, 374F, 3753 (two virtual COM ports), 3754, 3757 (V3PWR)
  (stlink-org/stlink config/udev/rules.d/49-stlinkv2-1.rules and 49-stlinkv3.rules,
  after ST's TN1235 "Overview of ST-LINK derivatives"). The ST-LINK/V2 (3748) has no
  virtual COM port.
- J-Link (SEGGER, VID 1366): every product ID is a J-Link; the J-Link OB of the Nordic
  DKs enumerates as 1015, 1051 or 1061 depending on its firmware (SEGGER's udev rules,
  99-jlink.rules, match the vendor ID alone).
- CMSIS-DAP / DAPLink: Arm's DAPLink 0D28:0204; NXP LPC-Link2 1FC9:0090 and MCU-Link
  1FC9:0143; Raspberry Pi Debug Probe 2E8A:000C (pyOCD's udev/50-cmsis-dap.rules).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from serial.tools import list_ports

from harness.errors import PortUnavailable

AUTO = "auto"

# (vid, pid or None for every product of the vendor) -> the probe's name
PROBES: dict[tuple[int, int | None], str] = {
    (0x0483, 0x374B): "ST-LINK/V2-1",
    (0x0483, 0x3752): "ST-LINK/V2-1",
    (0x0483, 0x374E): "STLINK-V3",
    (0x0483, 0x374F): "STLINK-V3",
    (0x0483, 0x3753): "STLINK-V3",
    (0x0483, 0x3754): "STLINK-V3",
    (0x0483, 0x3757): "STLINK-V3PWR",
    (0x1366, None): "J-Link",
    (0x0D28, 0x0204): "DAPLink (CMSIS-DAP)",
    (0x1FC9, 0x0090): "LPC-Link2 (CMSIS-DAP)",
    (0x1FC9, 0x0143): "MCU-Link (CMSIS-DAP)",
    (0x2E8A, 0x000C): "Raspberry Pi Debug Probe (CMSIS-DAP)",
}


@dataclass(frozen=True)
class SerialPort:
    """One serial port, with its USB IDs when it has them."""

    device: str
    vid: int | None
    pid: int | None
    description: str
    serial_number: str | None = None

    @property
    def usb_id(self) -> str:
        """'0483:374B', or '-' for a port that is not a USB device."""
        return f"{self.vid:04X}:{self.pid:04X}" if self.vid is not None else "-"

    @property
    def probe(self) -> str | None:
        """The debug probe this port belongs to, if it is a known one."""
        if self.vid is None:
            return None
        return PROBES.get((self.vid, self.pid)) or PROBES.get((self.vid, None))


def serial_ports() -> list[SerialPort]:
    """The serial ports the system has now (pyserial's list_ports), sorted by device."""
    return sorted((_port(p) for p in list_ports.comports()), key=lambda p: p.device)


def _port(info: Any) -> SerialPort:
    return SerialPort(device=info.device, vid=info.vid, pid=info.pid,
                      description=info.description or "", serial_number=info.serial_number)


def probe_ports(ports: list[SerialPort] | None = None) -> list[SerialPort]:
    """The ports that belong to a known debug probe."""
    return [p for p in (serial_ports() if ports is None else ports) if p.probe]


def table(ports: list[SerialPort]) -> str:
    """The ports as a text table: device, VID:PID, probe, description."""
    if not ports:
        return "no serial ports found"
    rows = [("port", "VID:PID", "probe", "description")]
    rows += [(p.device, p.usb_id, p.probe or "-", p.description) for p in ports]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}"
                     .rstrip() for r in rows)


def auto_port(ports: list[SerialPort] | None = None) -> SerialPort:
    """The one port of a known debug probe; PortUnavailable (listing what there is) when
    there is none or more than one."""
    ports = serial_ports() if ports is None else ports
    probes = probe_ports(ports)
    if len(probes) == 1:
        return probes[0]
    listed = "; ".join(f"{p.device} {p.usb_id} {p.probe or p.description or '?'}"
                       for p in ports) or "no serial ports at all"
    if not probes:
        raise PortUnavailable("--port auto: no debug probe's serial port found (ports: "
                              f"{listed})", hint="plug the board in, or give --port PATH")
    raise PortUnavailable(f"--port auto: {len(probes)} debug probes' ports ({listed})",
                          hint="choose one with --port PATH")


def resolve_port(cfg: Any) -> tuple[Any, str | None]:
    """`cfg` with --port auto replaced by the one probe's port, and a note saying which."""
    if cfg.port != AUTO:
        return cfg, None
    port = auto_port()
    return replace(cfg, port=port.device), (f"port: auto -> {port.device} ({port.probe}, "
                                            f"{port.usb_id})")
