"""Generate the tflm-runtime firmware: the model array, an exact op resolver, the
arena, and the same shell and protocol as the builtin runtime."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from harness.errors import UnsupportedOp
from harness.model.graph import Graph
from harness.runtimes.project import (
    FIRMWARE_DIR,
    FirmwareProject,
    finish_project,
    render,
    static_sources,
)
from harness.runtimes.tflm.library import TflmLibrary
from harness.runtimes.tflm.tree import TflmTree
from harness.targets.target import Target

RESOLVER_H = "tensorflow/lite/micro/micro_mutable_op_resolver.h"
ARENA_MARGIN = 1.25  # over the host's figure, whose structs hold 64-bit pointers
ARENA_SLACK = 1024

_MEASURE = """\
import sys
from tflite_micro.python.tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1],
    intrepreter_config=runtime.InterpreterConfig.kAllocationRecording)
sys.stdout.flush()
it.print_allocations()
"""


def resolver_methods(tree: TflmTree) -> dict[str, str]:
    """Builtin op name -> MicroMutableOpResolver method, read from the tree's header."""
    text = (tree.root / RESOLVER_H).read_text()
    pairs = re.findall(r"TfLiteStatus\s+(Add\w+)\s*\((?:(?!TfLiteStatus).)*?\{\s*return\s+"
                       r"AddBuiltin\(\s*BuiltinOperator_(\w+)", text, re.S)
    return {op: method for method, op in pairs}


def check_tflm_ops(graph: Graph, tree: TflmTree) -> None:
    """Refuse, before any build, a model whose ops the tree cannot register."""
    methods = resolver_methods(tree)
    missing = sorted({op.name for op in graph.ops} - set(methods))
    if missing:
        raise UnsupportedOp(f"{graph.path.name} uses op(s) the TFLM tree's op resolver lacks: "
                            f"{', '.join(missing)}",
                            hint=f"{tree.root / RESOLVER_H} lists the ops it can register")


def allocations(text: str) -> dict[str, int]:
    """RecordingMicroAllocator's printout as {category: bytes}: "total", "head",
    "tail" and one entry per allocation kind."""
    out = {m.group(1): int(m.group(2))
           for m in re.finditer(r"Arena allocation (total|head|tail) (\d+) bytes", text)}
    out.update({m.group(1): int(m.group(2))
                for m in re.finditer(r"'([^']+)' used (\d+) bytes", text)})
    return out


def host_allocations(model_path: Path) -> dict[str, int]:
    """tflm-host's arena breakdown for the model (empty if it cannot load it)."""
    res = subprocess.run([sys.executable, "-c", _MEASURE, str(model_path)], capture_output=True,
                         text=True, check=False, timeout=120)
    return allocations(res.stdout + res.stderr)


def host_arena_bytes(model_path: Path) -> int | None:
    """Arena bytes tflm-host allocates for the model (its RecordingMicroAllocator), or None."""
    return host_allocations(model_path).get("total")


def compare_arena(device_log: list[str], host: dict[str, int]) -> dict[str, dict[str, int]]:
    """Device against tflm-host, category by category. The host is 64-bit: every
    struct that holds pointers (TfLiteEvalTensor, TfLiteTensor, NodeAndRegistration)
    is bigger there, so the device's total is expected to be smaller."""
    dev = allocations("\n".join(device_log))
    return {k: {"device": dev.get(k, 0), "tflm_host": host.get(k, 0)}
            for k in dict.fromkeys([*dev, *host])}


def arena_size(graph: Graph, preserve_all: bool) -> tuple[int, str, int | None]:
    """The arena the firmware reserves, how it was sized (for the comment), and
    tflm-host's own figure (None when it cannot load the model)."""
    measured = host = host_arena_bytes(graph.path)
    if host is None:  # tflm-host cannot load it: all tensors plus a generous overhead
        host = sum(t.nbytes for t in graph.tensors if not t.is_const) + 64 * len(graph.tensors)
        note = "tflm-host could not measure it: every activation plus 64 B per tensor"
    else:
        note = f"tflm-host uses {host} bytes"
    size = int(host * ARENA_MARGIN) + ARENA_SLACK
    note += f"; x{ARENA_MARGIN} + {ARENA_SLACK} margin"
    if preserve_all:  # no reuse, and TFLM's bookkeeping grows with it: be generous
        extra = sum((t.nbytes + 15) // 16 * 16 for t in graph.tensors if not t.is_const)
        size = 2 * (host + extra) + 4 * ARENA_SLACK
        note += f"; preserving every tensor ({extra} B): 2 x (host + tensors) + {4 * ARENA_SLACK}"
    return (size + 15) // 16 * 16, note, measured


def generate_tflm(graph: Graph, target: Target, tree: TflmTree, lib: TflmLibrary, *,
                  baud: int = 115200, semihosting: bool = False,
                  per_layer: bool = False, profile: bool = False,
                  clock: str = "reset") -> FirmwareProject:
    """The firmware project that runs `graph` through TFLM's MicroInterpreter (its ops
    checked first: :func:`check_tflm_ops`)."""
    methods = resolver_methods(tree)
    names = list(dict.fromkeys(op.name for op in graph.ops))
    arena, note, host = arena_size(graph, per_layer)
    proj = FirmwareProject(target, "tflm", arena_bytes=arena,
                           options={"baud": str(baud), "semihosting": str(int(semihosting)),
                                    "tflm": lib.key, "per_layer": str(int(per_layer)),
                                    "profile": str(int(profile)),
                                    "host_arena_used": str(host)})
    proj.files.update(static_sources(target, kernels=False))
    proj.files["src/tflm/hx_tflm_platform.cc"] = (
        FIRMWARE_DIR / "tflm" / "hx_tflm_platform.cc").read_bytes()
    model_bytes = np.frombuffer(graph.path.read_bytes(), dtype=np.uint8)
    proj.files["model.cc"] = render(
        "tflm/model.cc.j2", graph=graph, tree_id=tree.tree_id, model_bytes=model_bytes,
        arena_bytes=arena, arena_note=note, preserve_all=per_layer, profile=profile,
        resolver_calls=[(methods[n], n) for n in names],
        tensor_indices=np.asarray([t.index for t in graph.tensors if not t.is_const])).encode()
    common = [*target.cflags, "-O2", "-g", "-Wall", "-Wextra", "-ffunction-sections",
              "-fdata-sections", "-Isrc/shell", "-Isrc/proto", "-I.",
              f"-DHX_MAX_PAYLOAD={target.max_payload}u"]
    cxxflags = [*common, *(f for f in lib.cflags if f.startswith(("-I", "-D", "-std", "-fno-"))),
                "-Wno-unused-parameter"]
    ldflags = ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Tlink.ld",
               "-Wl,--gc-sections", "-Wl,-Map=firmware.map"]
    c_sources = sorted(n for n in proj.files if n.endswith(".c"))
    cxx_sources = ["model.cc", "src/tflm/hx_tflm_platform.cc"]
    vpath = sorted({str(Path(s).parent) for s in c_sources + cxx_sources})
    proj.files["Makefile"] = render(
        "tflm/Makefile.j2", target=target, tree_id=tree.tree_id, lib_dir=lib.archive.parent,
        cflags=[*common, "-std=c11"], cxxflags=cxxflags, ldflags=ldflags,
        c_sources=c_sources, cxx_sources=cxx_sources, vpath=vpath).encode()
    return finish_project(proj, baud=baud, semihosting=semihosting, clock=clock)
