"""Renode backend: rendered script and Robot suite, the missing-Renode error, a fake
Renode started and stopped. A real boot is in tests/integration/device/test_renode_live.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness.device.backends.renode import (
    RenodeBackend,
    render_renode_files,
    renode_test_command,
)
from harness.errors import BadInput, ExitCode, MissingTool
from harness.targets.table import get_target


def test_render_resc_for_stm32f4(tmp_path: Path) -> None:
    elf = tmp_path / "fw" / "firmware.elf"
    resc, robot = render_renode_files(get_target("stm32f4"), elf, tmp_path / "run", port=4321)
    assert resc == tmp_path / "run" / "run.resc" and resc.exists()
    text = resc.read_text()
    lines = [line.strip() for line in text.splitlines()]
    repl = tmp_path / "run" / "platform.repl"
    assert f"machine LoadPlatformDescription @{repl.resolve()}" in lines
    assert 'using "platforms/boards/stm32f4_discovery.repl"' in repl.read_text().splitlines()
    assert f"sysbus LoadELF @{elf.resolve()}" in lines
    assert 'emulation CreateServerSocketTerminal 4321 "harness_uart" false' in lines
    assert "connector Connect sysbus.usart2 harness_uart" in lines
    assert lines.index("start") > lines.index("connector Connect sysbus.usart2 harness_uart")
    assert any(line.startswith("mach create") for line in lines)


def test_render_robot_suite_for_stm32f4(tmp_path: Path) -> None:
    elf = tmp_path / "firmware.elf"
    _resc, robot = render_renode_files(get_target("stm32f4"), elf, tmp_path)
    text = robot.read_text()
    assert robot.name == "cross_check.robot"
    for needle in ("*** Settings ***", "Resource          ${RENODEKEYWORDS}", "*** Test Cases ***",
                   "Execute Command", "machine LoadPlatformDescription ${PLATFORM}",
                   f"@{(tmp_path / 'platform.repl').resolve()}", f"@{elf.resolve()}",
                   "sysbus LoadELF ${ELF}", "Create Terminal Tester    ${UART}",
                   "sysbus.usart2", "Start Emulation", "Wait For Line On Uart",
                   "harness firmware up: stm32f4, build ", "includeUnfinishedLine=true"):
        assert needle in text, needle


def test_renode_test_command(tmp_path: Path) -> None:
    assert renode_test_command(tmp_path / "s.robot") == ["renode-test", str(tmp_path / "s.robot")]


def test_backend_traits() -> None:
    assert RenodeBackend.name == "renode"
    # Counts are Renode's executed instructions; inputs come from the run's inputs file
    # (written into memory by a hook, tests/unit/device/test_renode_backend.py).
    assert RenodeBackend.counter_kind == "instructions"
    assert RenodeBackend.semihosting is True
    # USART2 at 0x40004400 in Renode's stm32f4.repl
    assert get_target("stm32f4").renode_uart == "sysbus.usart2"


def test_target_without_renode_platform_is_bad_input(tmp_path: Path) -> None:
    no_renode = replace(get_target("cortex-m3"), renode_platform=None, renode_uart=None)
    with pytest.raises(BadInput, match="no Renode platform"):
        RenodeBackend(no_renode, tmp_path / "x.elf", tmp_path)


def test_missing_renode_names_what_to_install(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    backend = RenodeBackend(get_target("stm32f4"), tmp_path / "x.elf", tmp_path / "run")
    with pytest.raises(MissingTool) as info:
        with backend:
            pass
    err = info.value
    assert err.code == ExitCode.MISSING_TOOL == 5
    line = err.one_line()
    assert "\n" not in line
    assert "renode is not installed" in line
    assert "Renode" in line and "release packages" in line and "renode/README.md" in line
    assert backend.proc is None  # nothing was started


FAKE_RENODE = """#!{python}
# Stands in for Renode: reads the port from the included .resc, serves the UART socket.
import re, socket, sys, time
resc = sys.argv[sys.argv.index("-e") + 1].split("@", 1)[1]
port = int(re.search(r"CreateServerSocketTerminal (\\d+)", open(resc).read()).group(1))
time.sleep(0.3)  # Renode takes a while to come up
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)
conn, _ = srv.accept()
conn.sendall(b"harness firmware up: fake")
time.sleep(60)
"""


def test_start_serves_the_uart_socket_and_stop_ends_renode(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import sys

    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "renode"
    fake.write_text(FAKE_RENODE.format(python=sys.executable))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    backend = RenodeBackend(get_target("stm32f4"), tmp_path / "x.elf", tmp_path / "run",
                            boot_timeout=10)
    with backend as url:
        proc = backend.proc
        assert url == f"socket://127.0.0.1:{backend.port}"
        assert (tmp_path / "run" / "run.resc").exists()
        assert backend.describe()["command"].startswith("renode --disable-xwt")
        with socket.create_connection(("127.0.0.1", backend.port), timeout=5) as s:
            assert s.recv(100).startswith(b"harness firmware up")
    assert proc.poll() is not None  # the process group was ended
    backend.stop()  # twice is fine
