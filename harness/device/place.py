"""A board in a shared lab: a labgrid place, acquired through labgrid's coordinator.

labgrid (PyPI `labgrid`, the `[farm]` extra) keeps a farm's boards as *places*: a place
groups the resources an exporter shares from the machine the board hangs off (its
serial port, served by ser2net as a NetworkSerialPort over RFC 2217 or raw TCP; its
debug probe), and whoever acquires a place has it alone until they release it.
`--place NAME` acquires the place before any work, runs on its serial port as the
board's `--port`, and releases it when the run ends, however it ends (an error,
Ctrl-C, SIGTERM). A place whose `board` tag names a board of the target table
(`labgrid-client -p NAME set-tags board=nucleo-f401re`) builds for that board.

A harness killed outright (SIGKILL) cannot release anything: `labgrid-client -p NAME
release --kick` frees the place then (a matrix releases the places of cells that died).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from types import TracebackType
from typing import Any

from harness.errors import BadInput, MissingTool, PortUnavailable
from harness.targets.table import BOARDS, DEFAULT_TARGET

DEFAULT_COORDINATOR = "127.0.0.1:20408"  # labgrid's own default
FARM_HINT = "pip install 'tflite-mcu-crosscheck[farm]' (or pip install labgrid)"
SERIAL_CLASSES = ("NetworkSerialPort", "RawSerialPort", "USBSerialPort")
PORT_WAIT_S = 10.0  # the exporter starts ser2net once the place is acquired
RESOURCES_WAIT_S = 10.0  # ... and stops it (about a second) once it is released


def coordinator_address(given: str | None = None) -> str:
    """--coordinator, else $LG_COORDINATOR (labgrid-client's variable), else the default."""
    return given or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR


def labgrid_client() -> Any:
    """labgrid's client module, or MissingTool naming the extra that installs it."""
    try:
        from labgrid.remote import client
    except ImportError:
        raise MissingTool("--place needs labgrid, which is not installed",
                          hint=FARM_HINT) from None
    return client


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """labgrid's client prints what it does ("acquired place X") and logs to the root
    logger: neither belongs on the harness's console."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def serial_url(resource: Any) -> str:
    """The pyserial URL of a NetworkSerialPort: rfc2217:// (ser2net's telnet, which does
    not answer DTR/RTS requests on every port: ign_set_control, as labgrid's own
    SerialDriver does) or socket:// for a raw TCP port."""
    host, port = resource.args["host"], resource.args["port"]
    if resource.args.get("protocol", "rfc2217") == "raw":
        return f"socket://{host}:{port}"
    return f"rfc2217://{host}:{port}?ign_set_control"


class Place:
    """One labgrid place: acquired on `with` (or `acquire()`), released on leaving it."""

    def __init__(self, name: str, coordinator: str | None = None) -> None:
        self.name = name
        self.coordinator = coordinator_address(coordinator)
        self.session: Any = None
        self.acquired = False  # by this process, confirmed
        self.requested = False  # asked for while it was free (perhaps granted)

    def connect(self) -> None:
        """Open a session with the coordinator (PortUnavailable when it cannot be reached)."""
        client = labgrid_client()
        if not logging.getLogger().handlers:  # labgrid logs errors to the root logger
            logging.getLogger().addHandler(logging.NullHandler())
        args = argparse.Namespace(place=self.name, allow_unmatched=False, kick=False)
        try:
            with _quiet():
                self.session = client.start_session(self.coordinator, extra={"args": args})
        except client.Error as exc:
            raise PortUnavailable(f"--place {self.name}: cannot reach the labgrid "
                                  f"coordinator at {self.coordinator} ({_text(exc)})",
                                  hint="is labgrid-coordinator running? set --coordinator "
                                       "or LG_COORDINATOR") from None

    def _place(self) -> Any:
        client = labgrid_client()
        try:
            return self.session.get_place(self.name)
        except client.Error as exc:
            known = ", ".join(sorted(self.session.places)) or "none"
            raise BadInput(f"--place {self.name}: {_text(exc)}",
                           hint=f"places at {self.coordinator}: {known}") from None

    @property
    def tags(self) -> dict[str, str]:
        """The place's tags (`board` names the board it holds)."""
        return dict(self._place().tags)

    def acquire(self) -> None:
        """Acquire the place; PortUnavailable (exit 8) when someone else holds it."""
        if self.session is None:
            self.connect()
        place = self._place()
        client = labgrid_client()
        # Free when asked for: should a Ctrl-C cut the request short, whatever the
        # coordinator granted by then is this process's to release.
        self.requested = not place.acquired
        deadline = time.monotonic() + RESOURCES_WAIT_S
        while True:
            try:
                with _quiet():
                    self.session.loop.run_until_complete(self.session.acquire())
                break
            except client.Error as exc:
                if place.acquired or time.monotonic() > deadline:
                    self.requested = False
                    raise _taken(self.name, place.acquired, exc) from None
            # Free, but its exporter still holds the resources for the place's last
            # user (it stops ser2net first): ask again.
            time.sleep(0.25)
            place = self._place()
        self.acquired = True

    def serial_url(self, wait_s: float = PORT_WAIT_S) -> str:
        """The URL of the place's serial port, once its exporter serves it."""
        deadline = time.monotonic() + wait_s
        while True:
            found = self._serial_resources()
            ready = [r for r in found if r.args.get("port") and r.avail]
            if ready:
                return serial_url(ready[0])
            if not found:
                raise BadInput(f"place {self.name} has no serial port resource",
                               hint="add-match an exporter's NetworkSerialPort to it")
            if time.monotonic() > deadline:
                raise PortUnavailable(f"place {self.name}: its serial port is not served "
                                      f"after {wait_s:g} s (is its exporter running?)")
            time.sleep(0.1)
            self.session.loop.run_until_complete(self.session.sync_with_coordinator())

    def _serial_resources(self) -> list[Any]:
        resources = self.session.get_target_resources(self._place())
        return [r for (_, cls), r in sorted(resources.items()) if cls in SERIAL_CLASSES]

    def resources(self) -> dict[str, Any]:
        """The acquired place's resources by class name (the flasher looks its probe up)."""
        return {cls: r for (_, cls), r in self.session.get_target_resources(
            self._place()).items()}

    def release(self) -> None:
        """Release the place if this process acquired it; close the session. Never
        raises: it runs while an error or Ctrl-C is on its way out."""
        session, self.session = self.session, None
        if session is None:
            return
        with contextlib.suppress(Exception), _quiet():
            if self.acquired:
                session.loop.run_until_complete(session.release())
        with contextlib.suppress(Exception):
            session.loop.run_until_complete(session.stop())
            session.loop.run_until_complete(session.close())
        if self.requested and not self.acquired:
            # Cut short while acquiring: the session may be broken (a Ctrl-C inside its
            # event loop ends its message pump), so ask again on a new one.
            with contextlib.suppress(Exception):
                release_left(self.name, self.coordinator)
        self.acquired = self.requested = False

    def __enter__(self) -> Place:
        try:
            self.acquire()
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _taken(name: str, holder: str | None, exc: BaseException) -> PortUnavailable:
    return PortUnavailable(f"place {name} is already acquired by {holder}" if holder
                           else f"place {name}: {_text(exc)}",
                           hint="wait for it, or use another place")


def _text(exc: BaseException) -> str:
    return str(exc).removeprefix("Error: ").strip() or type(exc).__name__


def hold_place(cfg: Any, held: contextlib.ExitStack) -> Any:
    """`cfg` with --place's serial port as its port (and the place's board, from its
    `board` tag, when no --board was given); the place stays acquired until `held`
    closes. Does nothing without --place."""
    if not cfg.place:
        return cfg
    if cfg.port and not cfg.resume:  # a resumed run's recorded port was the place's
        raise BadInput("--place and --port exclude each other (the place has its port)")
    place = held.enter_context(Place(cfg.place, cfg.coordinator))
    board = cfg.board or _tag_board(place, cfg.target)
    return replace(cfg, port=place.serial_url(), board=board)


def _tag_board(place: Place, target: str) -> str | None:
    """The board the place's `board` tag names, checked against `target`."""
    name = place.tags.get("board")
    if name is None:
        return None
    if name not in BOARDS:
        raise BadInput(f"place {place.name}'s board tag {name!r} is not a board of the "
                       f"target table", hint=f"boards: {', '.join(BOARDS)}")
    base = BOARDS[name].board.target
    if target not in (DEFAULT_TARGET, name, base):
        raise BadInput(f"place {place.name} holds a {name} (a {base} board), not a {target}",
                       hint=f"give --target {base}, or another place")
    return name


def place_boards(names: list[str], coordinator: str | None = None) -> dict[str, str]:
    """The board each place holds, from its `board` tag (a matrix spreads its board
    cells over them); BadInput for a place without one."""
    boards = {}
    for name in names:
        place = Place(name, coordinator)
        try:
            place.connect()
            board = place.tags.get("board")
        finally:
            place.release()
        if board not in BOARDS:
            what = f"a board tag {board!r} that is not" if board else "no board tag naming"
            raise BadInput(f"place {name} has {what} a board of the target table",
                           hint=f"labgrid-client -p {name} set-tags board=NAME "
                                f"({', '.join(BOARDS)})")
        boards[name] = board
    return boards


def release_left(name: str, coordinator: str | None = None) -> None:
    """Release place `name` if this user on this host holds it: what a run killed
    outright, or stopped while acquiring, could not release itself."""
    place = Place(name, coordinator)
    place.connect()
    held = place._place().acquired or ""
    place.acquired = held == "/".join((place.session.gethostname(), place.session.getuser()))
    place.release()
