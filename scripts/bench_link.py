"""Benchmarks for the run stage; prints figures, asserts nothing.

1. Serial-link efficiency (issue #4, item 3): payload bytes/s over BAUD/10 through a
   line paced at BAUD/10 bytes/s each way, in 64-byte writes (an ST-LINK VCP moves
   64-byte USB packets):
   - protocol: the device C code compiled for the host behind a paced socket;
   - pty: board-style firmware (no semihosting, inputs over the link) in QEMU,
     Link <-> pty pair <-> paced copy <-> QEMU's own pty;
   - tcp: the same firmware over QEMU's TCP serial, Link <-> paced relay <-> QEMU.
   Each repeat writes one whole input tensor (person_detect: 9216 bytes).
2. Emulated throughput: person_detect (or --model) on emulated stm32f4 with the
   semihosting input path. Figure: wall time per vector over the INVOKE time
   (the emulated inference), measured in the same run.

    .venv/bin/python scripts/bench_link.py [--baud 115200] [--repeats 5] [--window 3]
        [--only protocol,pty,tcp,emulated] [--targets stm32f4,cortex-m4] [--model M]
        [--idle-sleep]
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

import numpy as np

from harness.backends import QemuBackend
from harness.build import build
from harness.device import write_inputs_file
from harness.firmware import SEMIHOST_FILE, generate_builtin
from harness.link import Link
from harness.model import parse_model
from harness.targets import get_target
from harness.transfer import WINDOW
from harness.vectors import random_vectors

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 64  # bytes per paced write: USB CDC (e.g. an ST-LINK VCP) moves 64-byte packets


def _pace(src: int, dst: int, rate: float, stop: threading.Event) -> None:
    """Copy fd ``src`` to fd ``dst`` like a wire of ``rate`` bytes/s, CHUNK bytes at a time.

    The wire is busy until ``busy_until``. Bytes that were already waiting when it
    became free go out back to back, as a UART sends a full FIFO; bytes that come
    later start when they come (the idle time is lost, as on a real line). A chunk
    reaches ``dst`` when its last byte would have (as a USB packet does).
    """
    busy_until = seen_empty = time.monotonic()  # seen_empty: src last seen with nothing
    while not stop.is_set():
        if select.select([src], [], [], 0)[0]:
            arrived = seen_empty  # some time after that
        else:
            seen_empty = time.monotonic()
            if not select.select([src], [], [], 0.05)[0]:
                seen_empty = time.monotonic()
                continue
            arrived = time.monotonic()
        try:
            data = os.read(src, CHUNK)
        except OSError:
            return
        if not data:
            return
        busy_until = max(busy_until, arrived) + len(data) / rate
        delay = busy_until - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # the chunk is on the wire; the far end has it at the end
        try:
            os.write(dst, data)
        except OSError:
            return


def _pump_both(a: int, b: int, rate: float, stop: threading.Event) -> None:
    for src, dst in ((a, b), (b, a)):
        threading.Thread(target=_pace, args=(src, dst, rate, stop), daemon=True).start()


class PacedRelay:
    """127.0.0.1:<port> <-> ``upstream`` (TCP), each direction paced at ``rate`` bytes/s."""

    def __init__(self, upstream: tuple[str, int], rate: float, stop: threading.Event) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._socks: list[socket.socket] = []

        def serve() -> None:
            client, _ = self.server.accept()
            dev = socket.create_connection(upstream)
            for s in (client, dev):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socks += [client, dev]
            _pump_both(client.fileno(), dev.fileno(), rate, stop)

        threading.Thread(target=serve, daemon=True).start()


def _rates(link: Link, data: bytes, repeats: int, window: int, writes: int = 1) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.monotonic()
        for _ in range(writes):
            link.write_input(0, data, window=window)
        out.append(writes * len(data) / (time.monotonic() - t0))
    return out


def _report(what: str, baud: int, rates: list[float], link: Link) -> None:
    eff = [r / (baud / 10) for r in rates]
    c = link.counters()
    print(f"{what}, baud {baud}: payload {statistics.median(rates):.0f} B/s = "
          f"{statistics.median(eff):.3f} of baud/10 (median of {len(eff)}; min "
          f"{min(eff):.3f}, max {max(eff):.3f}); retries {c['retries']}, bad frames "
          f"{c['bad_frames']}; goal >= 0.9", flush=True)


IDLE_SLEEP = False  # --idle-sleep


def _board_firmware(target_name: str, model: Path, baud: int) -> tuple[Path, bytes]:
    target = get_target(target_name)
    graph = parse_model(model)
    proj = generate_builtin(graph, target, semihosting=False, baud=baud)
    if IDLE_SLEEP:  # what firmware/shell/app.c's main loop would do with hx_port_idle()
        app = proj.files["src/shell/app.c"].decode()
        loop = "  for (;;) {\n    hx_proto_poll();\n  }"
        if loop not in app:
            raise SystemExit("--idle-sleep: app.c's main loop is not the one this script knows")
        app = app.replace(loop, "  for (;;) {\n    hx_proto_poll();\n    hx_port_idle();\n  }")
        proj.files["src/shell/app.c"] = ("void hx_port_idle(void);\n" + app).encode()
    built = build(proj)
    size = graph.input_tensors()[0].nbytes
    return built.elf, np.random.default_rng(0).integers(0, 256, size, np.uint8).tobytes()


def bench_protocol(baud: int, repeats: int, window: int) -> None:
    """The protocol alone on a paced link: the device C code compiled for the host.

    Isolates the protocol's own efficiency (framing, COBS, CRC, acks, turnaround).
    """
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "hx_testdev"
        subprocess.run([shutil.which("gcc") or "gcc", "-O2", f"-I{ROOT / 'firmware/proto'}",
                        str(ROOT / "tests/hx_testdev.c"), str(ROOT / "firmware/proto/hx_proto.c"),
                        "-o", str(exe)], check=True)
        dev = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert dev.stdin is not None and dev.stdout is not None
        bridge = socket.create_server(("127.0.0.1", 0))

        def serve() -> None:  # the device's stdin/stdout as a TCP peer
            conn, _ = bridge.accept()
            threading.Thread(target=_copy, args=(dev.stdout.fileno(), conn.fileno()),
                             daemon=True).start()
            _copy(conn.fileno(), dev.stdin.fileno())

        threading.Thread(target=serve, daemon=True).start()
        relay = PacedRelay(("127.0.0.1", bridge.getsockname()[1]), baud / 10, stop)
        try:
            with Link.open(f"socket://127.0.0.1:{relay.port}", baudrate=baud,
                           timeout=2.0) as link:
                link.wait_for_device(10)
                data = bytes(range(256)) * 11 + bytes(184)  # 3000 bytes, the test device's input
                rates = _rates(link, data, repeats, window, writes=3)
                _report(f"protocol (host-compiled device, paced socket, window {window})",
                        baud, rates, link)
        finally:
            stop.set()
            dev.kill()
            dev.wait()


def _copy(src: int, dst: int) -> None:
    try:
        while data := os.read(src, 4096):
            os.write(dst, data)
    except OSError:
        return


def bench_link_tcp(baud: int, model: Path, repeats: int, window: int, target_name: str) -> None:
    """Board-style firmware in QEMU, over its TCP serial behind a paced relay."""
    elf, data = _board_firmware(target_name, model, baud)
    target = get_target(target_name)
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp, QemuBackend(target, elf, Path(tmp)) as url:
        host, port = url.removeprefix("socket://").split(":")
        relay = PacedRelay((host, int(port)), baud / 10, stop)
        try:
            with Link.open(f"socket://127.0.0.1:{relay.port}", baudrate=baud,
                           timeout=2.0) as link:
                link.wait_for_device(20)
                rates = _rates(link, data, repeats, window)
                _report(f"link {target.name} ({target.qemu_machine}, QEMU TCP serial behind a "
                        f"paced relay, {len(data)} B input, window {window})", baud, rates, link)
        finally:
            stop.set()


def bench_link_pty(baud: int, model: Path, repeats: int, window: int, target_name: str) -> None:
    """Board-style over real ptys: Link <-> pty pair <-> paced copy <-> QEMU's own pty."""
    elf, data = _board_firmware(target_name, model, baud)
    target = get_target(target_name)
    qemu = subprocess.Popen(["qemu-system-arm", "-M", str(target.qemu_machine), "-kernel",
                             str(elf), "-display", "none", "-monitor", "none", "-nodefaults",
                             "-serial", "pty"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    stop = threading.Event()
    fds: list[int] = []
    try:
        assert qemu.stdout is not None
        found = re.search(r"(/dev/pts/\d+)", qemu.stdout.readline())
        if found is None:
            raise RuntimeError("QEMU did not report its pty")
        dev = os.open(found.group(1), os.O_RDWR | os.O_NOCTTY)
        tty.setraw(dev)
        master, slave = os.openpty()
        tty.setraw(slave)
        fds += [dev, master, slave]
        _pump_both(master, dev, baud / 10, stop)
        with Link.open(os.ttyname(slave), baudrate=baud, timeout=2.0) as link:
            link.wait_for_device(20)
            rates = _rates(link, data, repeats, window)
            _report(f"link {target.name} ({target.qemu_machine}, QEMU pty behind a paced pty "
                    f"pair, {len(data)} B input, window {window})", baud, rates, link)
    finally:
        stop.set()
        qemu.kill()
        qemu.wait()
        time.sleep(0.1)  # let the copy threads notice
        for fd in fds:
            os.close(fd)


def bench_emulated(model: Path, vectors: int) -> None:
    target = get_target("stm32f4")
    graph = parse_model(model)
    built = build(generate_builtin(graph, target, semihosting=True))
    vecs = random_vectors(graph, vectors, seed=0)
    per_vector, per_invoke, counts = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        offsets = write_inputs_file(folder / SEMIHOST_FILE, vecs)
        with QemuBackend(target, built.elf, folder) as url, Link.open(url) as link:
            link.wait_for_device(20)
            for k in range(vectors):
                t0 = time.monotonic()
                link.load_input(0, offsets[k][0])
                t1 = time.monotonic()
                counts.append(link.invoke())
                t2 = time.monotonic()
                link.read_output(0, graph.output_tensors()[0].nbytes)
                per_vector.append(time.monotonic() - t0)
                per_invoke.append(t2 - t1)
    ratios = [v / i for v, i in zip(per_vector, per_invoke, strict=True)]
    instr = statistics.median(counts) * 1e9 / target.clock_hz
    print(f"emulated {graph.name}: wall/vector {1e3 * statistics.median(per_vector):.1f} ms, "
          f"emulated inference (INVOKE) {1e3 * statistics.median(per_invoke):.1f} ms, ratio "
          f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}); "
          f"goal <= 1.2; {instr / 1e6:.1f} M instructions/inference, "
          f"{instr / statistics.median(per_invoke) / 1e6:.0f} M instructions/s in QEMU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--model", type=Path,
                    default=ROOT.parent / "shared" / "models" / "person_detect.tflite")
    ap.add_argument("--vectors", type=int, default=10, help="for the emulated figure")
    ap.add_argument("--repeats", type=int, default=5, help="input writes per link figure")
    ap.add_argument("--window", type=int, default=WINDOW,
                    help="WRITE_INPUT requests in flight (1: stop and wait)")
    ap.add_argument("--targets", default="stm32f4,cortex-m4",
                    help="targets for the QEMU-behind link figures")
    ap.add_argument("--only", default="protocol,pty,tcp,emulated",
                    help="which figures: protocol, pty, tcp, emulated")
    ap.add_argument("--idle-sleep", action="store_true",
                    help="board firmware whose main loop calls hx_port_idle() (WFI when no "
                    "byte waits) instead of spinning")
    args = ap.parse_args()
    global IDLE_SLEEP
    IDLE_SLEEP = args.idle_sleep
    only = set(args.only.split(","))
    targets = args.targets.split(",")
    link_benches: dict[str, Callable[..., None]] = {"pty": bench_link_pty, "tcp": bench_link_tcp}
    if "protocol" in only:
        bench_protocol(args.baud, args.repeats, args.window)
    for kind, bench in link_benches.items():
        if kind in only:
            for name in targets:
                bench(args.baud, args.model, args.repeats, args.window, name)
    if "emulated" in only:
        bench_emulated(args.model, args.vectors)


if __name__ == "__main__":
    main()
