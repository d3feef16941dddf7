"""Benchmarks for the run stage; prints figures, asserts nothing.

1. Serial-link efficiency: the board-style path (firmware without semihosting,
   inputs over the link) through a TCP relay paced at BAUD/10 bytes/s each way,
   with the real QEMU behind it. Figure: payload bytes/s over BAUD/10.
2. Emulated throughput: person_detect (or --model) on emulated stm32f4 with the
   semihosting input path. Figure: wall time per vector over the INVOKE time
   (the emulated inference), measured in the same run.

    .venv/bin/python scripts/bench_link.py [--baud 115200] [--model M] [--vectors 10]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from harness.backends import QemuBackend
from harness.build import build
from harness.device import write_inputs_file
from harness.firmware import SEMIHOST_FILE, generate_builtin
from harness.link import Link
from harness.model import parse_model
from harness.targets import get_target
from harness.vectors import random_vectors

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 64  # bytes per paced write: USB CDC (e.g. an ST-LINK VCP) moves 64-byte packets


class PacedRelay:
    """127.0.0.1:<port> <-> QEMU's UART socket, each direction limited to `rate` bytes/s."""

    def __init__(self, upstream: tuple[str, int], rate: float) -> None:
        self.rate = rate
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.upstream = upstream
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        client, _ = self.server.accept()
        dev = socket.create_connection(self.upstream)
        for src, dst in ((client, dev), (dev, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        next_free = time.monotonic()
        while True:
            data = src.recv(CHUNK)
            if not data:
                return
            now = time.monotonic()
            next_free = max(next_free, now) + len(data) / self.rate
            dst.sendall(data)
            delay = next_free - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the wire is busy until then


def bench_link(baud: int, model: Path, repeats: int, target_name: str = "stm32f4") -> None:
    target = get_target(target_name)
    graph = parse_model(model)
    built = build(generate_builtin(graph, target, semihosting=False, baud=baud))
    size = graph.input_tensors()[0].nbytes
    with tempfile.TemporaryDirectory() as tmp, QemuBackend(target, built.elf, Path(tmp)) as url:
        host, port = url.removeprefix("socket://").split(":")
        relay = PacedRelay((host, int(port)), baud / 10)
        with Link.open(f"socket://127.0.0.1:{relay.port}", baudrate=baud, timeout=2.0) as link:
            link.wait_for_device(20)
            rates = []
            for _ in range(repeats):
                data = np.random.default_rng(0).integers(0, 256, size, np.uint8).tobytes()
                t0 = time.monotonic()
                link.write_input(0, data)
                rates.append(size / (time.monotonic() - t0))
    eff = [r / (baud / 10) for r in rates]
    print(f"link  {target.name} ({target.qemu_machine}, TCP serial) baud {baud}: {size} B input "
          f"x{repeats}, payload "
          f"{statistics.median(rates):.0f} B/s (median; min {min(rates):.0f}, max "
          f"{max(rates):.0f}) = {statistics.median(eff):.3f} of baud/10 "
          f"(min {min(eff):.3f}, max {max(eff):.3f}); goal >= 0.9")


def bench_protocol(baud: int, repeats: int) -> None:
    """The protocol alone on a paced link: the device C code compiled for the host.

    A real UART takes bytes at line rate, which QEMU's STM32 USART model does not;
    this isolates the protocol's own efficiency (framing, COBS, CRC, acks).
    """
    import shutil
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "hx_testdev"
        subprocess.run([shutil.which("gcc") or "gcc", "-O2", f"-I{ROOT / 'firmware/proto'}",
                        str(ROOT / "tests/hx_testdev.c"), str(ROOT / "firmware/proto/hx_proto.c"),
                        "-o", str(exe)], check=True)
        dev = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        bridge = socket.create_server(("127.0.0.1", 0))

        def serve() -> None:  # the device's stdin/stdout as a TCP peer
            conn, _ = bridge.accept()
            threading.Thread(target=lambda: _copy_out(dev, conn), daemon=True).start()
            while data := conn.recv(4096):
                dev.stdin.write(data)
                dev.stdin.flush()

        threading.Thread(target=serve, daemon=True).start()
        relay = PacedRelay(("127.0.0.1", bridge.getsockname()[1]), baud / 10)
        rates = []
        with Link.open(f"socket://127.0.0.1:{relay.port}", baudrate=baud, timeout=2.0) as link:
            link.wait_for_device(10)
            data = bytes(range(256)) * 11 + bytes(184)  # 3000 bytes, the test device's input
            for _ in range(repeats):
                t0 = time.monotonic()
                for _ in range(3):
                    link.write_input(0, data)
                rates.append(3 * len(data) / (time.monotonic() - t0))
        dev.kill()
    eff = [r / (baud / 10) for r in rates]
    print(f"protocol baud {baud} (host-compiled device, paced socket): payload "
          f"{statistics.median(rates):.0f} B/s = {statistics.median(eff):.3f} of baud/10 "
          f"(min {min(eff):.3f}, max {max(eff):.3f}); goal >= 0.9")


def _copy_out(dev, conn: socket.socket) -> None:
    import os

    while data := os.read(dev.stdout.fileno(), 4096):
        conn.sendall(data)


def _paced_copy(src: int, dst: int, rate: float, stop: threading.Event) -> None:
    import os
    import select

    next_free = time.monotonic()
    while not stop.is_set():
        if not select.select([src], [], [], 0.05)[0]:
            continue
        try:
            data = os.read(src, CHUNK)
        except OSError:
            return
        next_free = max(next_free, time.monotonic()) + len(data) / rate
        os.write(dst, data)
        delay = next_free - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def bench_link_pty(baud: int, model: Path, repeats: int) -> None:
    """Board-style over real ptys: Link <-> pty pair <-> paced relay <-> QEMU's own pty."""
    import os
    import re
    import subprocess
    import tty

    target = get_target("stm32f4")
    graph = parse_model(model)
    built = build(generate_builtin(graph, target, semihosting=False, baud=baud))
    size = graph.input_tensors()[0].nbytes
    qemu = subprocess.Popen(["qemu-system-arm", "-M", target.qemu_machine, "-kernel",
                             str(built.elf), "-display", "none", "-monitor", "none",
                             "-nodefaults", "-serial", "pty"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    stop = threading.Event()
    try:
        dev_path = re.search(r"(/dev/pts/\d+)", qemu.stdout.readline()).group(1)
        dev = os.open(dev_path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(dev)
        master, slave = os.openpty()
        tty.setraw(slave)
        for src, dst in ((master, dev), (dev, master)):
            threading.Thread(target=_paced_copy, args=(src, dst, baud / 10, stop),
                             daemon=True).start()
        rates = []
        with Link.open(os.ttyname(slave), baudrate=baud, timeout=2.0) as link:
            link.wait_for_device(20)
            data = np.random.default_rng(0).integers(0, 256, size, np.uint8).tobytes()
            for _ in range(repeats):
                t0 = time.monotonic()
                link.write_input(0, data)
                rates.append(size / (time.monotonic() - t0))
    finally:
        stop.set()
        qemu.kill()
    eff = [r / (baud / 10) for r in rates]
    print(f"link  {target.name} (QEMU pty behind a paced pty pair) baud {baud}: {size} B input "
          f"x{repeats}, payload {statistics.median(rates):.0f} B/s = "
          f"{statistics.median(eff):.3f} of baud/10 (min {min(eff):.3f}, max {max(eff):.3f}); "
          "goal >= 0.9")


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


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--model", type=Path,
                    default=ROOT.parent / "shared" / "models" / "person_detect.tflite")
    ap.add_argument("--vectors", type=int, default=10)
    ap.add_argument("--targets", default="stm32f4,cortex-m4",
                    help="targets for the QEMU-behind link figure")
    args = ap.parse_args()
    bench_protocol(args.baud, repeats=3)
    bench_link_pty(args.baud, args.model, repeats=3)
    for name in args.targets.split(","):
        bench_link(args.baud, args.model, repeats=3, target_name=name)
    bench_emulated(args.model, args.vectors)
