"""Run stage, device side: check the handshake, then stream vectors through the device.

Each vector's outputs are appended to a JSONL file as they arrive, so a run
that dies half-way keeps everything already measured.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.device.client import DeviceClient
from harness.device.link import Link
from harness.errors import DeviceError, DeviceFault, DeviceTimeout
from harness.model.graph import Graph


@dataclass
class DeviceRun:
    info: dict[str, str]
    outputs: list[np.ndarray]  # one stacked array per model output
    counts: list[int]  # INVOKED count per vector (cycles/instructions, 0 if none)
    seconds: float
    link: dict[str, int] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    tensors: dict[int, np.ndarray] = field(default_factory=dict)  # per layer, stacked
    op_counts: list[list[int]] = field(default_factory=list)  # per vector, per op (--profile)


def check_handshake(info: dict[str, str], graph: Graph, build_id: str | None) -> None:
    """Refuse a device that runs another model or another build than the one asked for."""
    got = info.get("model_hash", "")
    if got != graph.model_hash:
        raise DeviceError(
            f"device runs model {got or '(none reported)'}, not {graph.name} "
            f"({graph.model_hash}); refusing to compare",
            hint="flash the firmware built for this model",
        )
    if build_id and info.get("build_id") not in (None, build_id):
        raise DeviceError(f"device runs firmware build {info.get('build_id')}, "
                          f"expected {build_id}", hint="flash the firmware built by this run")


def _step_through(client: DeviceClient, graph: Graph,
                  per_tensor: dict[int, list[np.ndarray]] | None, op_counts: list[int]) -> int:
    """Run the ops one at a time, reading each op's outputs (when `per_tensor` is
    given) before the arena reuses them; each op's count goes to `op_counts`."""
    total = 0
    for op in graph.ops:
        n = client.invoke(op=op.index)
        op_counts.append(n)
        total += n
        for index in op.outputs if per_tensor is not None else ():
            t = graph.tensors[index]
            raw = client.read_tensor(index, t.nbytes)
            per_tensor.setdefault(index, []).append(
                np.frombuffer(raw, dtype=t.dtype).reshape(t.shape).copy())
    return total


def stopped_answering(k: int, exc: DeviceTimeout) -> DeviceTimeout:
    """A device that went silent mid-run without rebooting (hung, or its emulator
    stopped): said so, naming the vector, rather than blamed on the boot or the port."""
    return DeviceTimeout(f"the device stopped answering during vector {k}: {exc}",
                         hint="it hung or was stopped; the vectors before it are kept in "
                              "device_outputs.jsonl and --resume finishes the run")


BOOT_LOG = "harness firmware up"  # the shell's first LOG frame after every reset


def _boots(link: Link) -> int:
    """How often the device has booted since the link opened."""
    return sum(BOOT_LOG in line for line in link.logs)


def write_inputs_file(path: Path, vectors: list[np.ndarray]) -> list[list[int]]:
    """Vectors back to back (vector k: input 0, input 1, ...); offsets[k][i] of each."""
    offsets, pos = [], 0
    with open(path, "wb") as f:
        for k in range(vectors[0].shape[0]):
            row = []
            for arr in vectors:
                data = np.ascontiguousarray(arr[k]).tobytes()
                row.append(pos)
                f.write(data)
                pos += len(data)
            offsets.append(row)
    return offsets


def run_vectors(client: DeviceClient, graph: Graph, vectors: list[np.ndarray], *,
                build_id: str | None, jsonl: Path, boot_timeout: float = 20.0,
                per_layer: bool = False, profile: bool = False,
                inputs_file: Path | None = None,
                done: dict[int, tuple[int, list[bytes]]] | None = None,
                progress: Callable[[int], None] | None = None) -> DeviceRun:
    """Write inputs, invoke, read outputs for every vector; return stacked outputs.

    The handshake, the logs and the counters come from ``client.link``.
    With `per_layer`, the device steps op by op and every op's output is read too;
    with `profile`, it steps op by op and each op's count is kept.
    With `inputs_file` and a firmware that has semihosting, inputs are read by the
    device from that file instead of crossing the (slow, emulated) UART.
    `done` holds vectors measured by an earlier, interrupted run: they are not rerun.
    """
    done = done or {}
    link = client.link
    start = time.monotonic()
    info = link.wait_for_device(timeout=boot_timeout)
    check_handshake(info, graph, build_id)
    offsets = None
    if inputs_file is not None and info.get("semihosting") == "1":
        offsets = write_inputs_file(inputs_file, vectors)
    outs_t = graph.output_tensors()
    count = vectors[0].shape[0]
    collected: list[list[np.ndarray]] = [[] for _ in outs_t]
    counts: list[int] = []
    op_counts: list[list[int]] = []
    per_tensor: dict[int, list[np.ndarray]] = {}
    resets = 0

    # Emulators with one small output: load, run and read back in a single request.
    one_request = (offsets is not None and not (per_layer or profile) and len(outs_t) == 1
                   and outs_t[0].nbytes <= link.max_payload - 5)

    def one_vector(k: int) -> tuple[int, list[bytes], dict[int, list[np.ndarray]], list[int]]:
        boots = _boots(link)
        if one_request:
            n, raw = client.invoke_vector(offsets[k][0], outs_t[0].nbytes)
            if _boots(link) != boots:
                raise DeviceError(f"the device rebooted during vector {k}")
            return n, [raw], {}, []
        for i, arr in enumerate(vectors):
            if offsets is not None:
                client.load_input(i, offsets[k][i])
            else:
                client.write_input(i, np.ascontiguousarray(arr[k]).tobytes())
        tensors: dict[int, list[np.ndarray]] = {}
        per_op: list[int] = []
        stepping = per_layer or profile
        n = (_step_through(client, graph, tensors if per_layer else None, per_op) if stepping
             else client.invoke())
        raws = [client.read_output(i, t.nbytes) for i, t in enumerate(outs_t)]
        if _boots(link) != boots:
            # Retries hide a reset from each request, but not from the vector: its
            # inputs may have been lost, so its outputs cannot be trusted.
            raise DeviceError(f"the device rebooted during vector {k}")
        return n, raws, tensors, per_op

    with open(jsonl, "a", encoding="utf-8") as log:
        for k in range(count):
            if k in done:
                n, raws = done[k]
                for i, (t, raw) in enumerate(zip(outs_t, raws, strict=True)):
                    collected[i].append(np.frombuffer(raw, dtype=t.dtype).reshape(t.shape))
                counts.append(n)
                continue
            boots = _boots(link)
            try:
                n, raws, tensors, per_op = one_vector(k)
            except DeviceFault:
                raise
            except DeviceError as exc:
                if isinstance(exc, DeviceTimeout) and _boots(link) == boots:
                    raise stopped_answering(k, exc) from None  # silent, not rebooted
                # A board that reset (or a garbled exchange) starts over: handshake
                # again, then redo this vector once; a second failure is final.
                resets += 1
                check_handshake(link.wait_for_device(timeout=boot_timeout), graph, build_id)
                n, raws, tensors, per_op = one_vector(k)
            if per_op:
                op_counts.append(per_op)
            for index, arrs in tensors.items():
                per_tensor.setdefault(index, []).extend(arrs)
            for i, (t, raw) in enumerate(zip(outs_t, raws, strict=True)):
                collected[i].append(np.frombuffer(raw, dtype=t.dtype).reshape(t.shape).copy())
            counts.append(n)
            log.write(json.dumps({"vector": k, "count": n,
                                  "outputs": [r.hex() for r in raws]}) + "\n")
            log.flush()
            if progress:
                progress(k + 1)
    outputs = [np.stack(c) for c in collected]
    tensors = {k: np.stack(v) for k, v in per_tensor.items()}
    link_counters = {**link.counters(), "device_resets": resets}
    return DeviceRun(info, outputs, counts, time.monotonic() - start, link_counters,
                     list(link.logs), tensors, op_counts)
