"""(a) Emulated throughput: wall time per vector against the emulated inference time.

Board-independent figure of the run stage: the firmware with the semihosting
input path in QEMU, driven as the pipeline drives it: one INVOKE per vector that
loads the inputs from the semihosting file and answers with the output (models
with one small output), else LOAD_INPUT, INVOKE, READ_OUTPUT. The emulated
inference is the wall time of a bare INVOKE of the same inference, right after;
the ratio is taken per vector, so both come from the same run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from harness.bench.stats import Figure
from harness.device.backends import QemuBackend
from harness.device.backends.base import Backend
from harness.device.client import DeviceClient
from harness.device.link import Link
from harness.device.session import write_inputs_file
from harness.ops.validate import load_model
from harness.run.vectors import random_vectors
from harness.runtimes.build import build
from harness.runtimes.builtin.firmware import generate_builtin
from harness.runtimes.project import SEMIHOST_FILE
from harness.targets.table import get_target


def emulated_throughput(model: Path, vectors: int = 10, target: str = "stm32f4", *,
                        backend: type[Backend] = QemuBackend, label: str = "(a)"
                        ) -> list[Figure]:
    """Ratio wall/vector over emulated inference, and both times, for one model, in QEMU
    (or another emulator whose backend reads the semihosting inputs file, e.g. Renode)."""
    tgt = get_target(target)
    graph = load_model(model)
    built = build(generate_builtin(graph, tgt, semihosting=True))
    vecs = random_vectors(graph, vectors, seed=0)
    per_vector, per_invoke = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        offsets = write_inputs_file(folder / SEMIHOST_FILE, vecs)
        with backend(tgt, built.elf, folder) as url, Link.open(url) as link:
            link.wait_for_device(60)
            client = DeviceClient(link)
            outs = graph.output_tensors()
            for k in range(vectors):
                if len(outs) == 1 and outs[0].nbytes <= link.max_payload - 5:
                    # What the pipeline does (device.run_vectors): one request per vector.
                    # Then the same inference again as a bare INVOKE (the inputs are still
                    # loaded): its wall time is the emulated inference.
                    t0 = time.monotonic()
                    client.invoke_vector(offsets[k][0], outs[0].nbytes)
                    t1 = time.monotonic()
                    client.invoke()
                    per_vector.append(t1 - t0)
                    per_invoke.append(time.monotonic() - t1)
                    continue
                t0 = time.monotonic()
                for i in range(len(vecs)):
                    client.load_input(i, offsets[k][i])
                t1 = time.monotonic()
                client.invoke()
                t2 = time.monotonic()
                for i, t in enumerate(outs):
                    client.read_output(i, t.nbytes)
                per_vector.append(time.monotonic() - t0)
                per_invoke.append(t2 - t1)
    cmd = f"invoke bench (model {model.name}, {vectors} vectors, {target}, {backend.name})"
    name = f"{label} {graph.name}" + ("" if backend is QemuBackend else f" ({backend.name})")
    return [
        Figure(f"{name}: wall per vector / emulated inference",
               [v / i for v, i in zip(per_vector, per_invoke, strict=True)], "", "<= 1.2", cmd),
        Figure(f"{name}: wall per vector", [1e3 * v for v in per_vector], "ms",
               command=cmd),
        Figure(f"{name}: emulated inference (INVOKE)", [1e3 * i for i in per_invoke],
               "ms", command=cmd),
    ]


def renode_against_qemu(models: list[Path], vectors: int = 10,
                        target: str = "stm32f4") -> list[Figure]:
    """(f) Wall time per vector in Renode and in QEMU, same firmware, same vectors; and
    Renode's time per vector over QEMU's, per model (the ratio of the medians)."""
    from harness.device.backends import RenodeBackend

    figures = []
    for model in models:
        qemu = emulated_throughput(model, vectors, target, label="(f)")[1]
        renode = emulated_throughput(model, vectors, target, backend=RenodeBackend,
                                     label="(f)")[1]
        ratio = Figure(f"(f) {model.stem}: Renode wall per vector / QEMU's",
                       [renode.median / qemu.median], "", command=renode.command)
        figures += [qemu, renode, ratio]
    return figures
