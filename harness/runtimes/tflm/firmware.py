"""Generate the tflm-runtime firmware: the model array, an exact op resolver, the
arena, and the same shell and protocol as the builtin runtime."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

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
from harness.runtimes.tflm.arena import arena_size
from harness.runtimes.tflm.library import TflmLibrary
from harness.runtimes.tflm.tree import TflmTree
from harness.targets.target import Target

RESOLVER_H = "tensorflow/lite/micro/micro_mutable_op_resolver.h"



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


def app_source(graph: Graph, tree: TflmTree, arena: tuple[int, str, int | None], *,
               kernels: str = "reference", per_layer: bool = False, profile: bool = False,
               model_bytes: np.ndarray | None = None) -> str:
    """The app's model.cc: the model array, the resolver registering exactly the model's
    ops, the arena and the interpreter. Without `model_bytes` the array is a stand-in
    (the app the library build follows symbols from: the same code, any model)."""
    methods = resolver_methods(tree)
    names = list(dict.fromkeys(op.name for op in graph.ops))
    size, note, _host = arena
    indices = np.asarray([t.index for t in graph.tensors if not t.is_const])
    shown: object = graph
    if model_bytes is None:  # the same code for every model with these ops and options
        indices, size, note = np.zeros(1, int), 16, "-"
        shown = SimpleNamespace(path=Path("app"), sha256="-" * 16, model_hash="-", inputs=[0],
                                outputs=[0], ops=names)
    return render(
        "tflm/model.cc.j2", graph=shown, tree_id=tree.tree_id, model_bytes=model_bytes,
        arena_bytes=size, arena_note=note, preserve_all=per_layer, profile=profile,
        kernels=kernels, resolver_calls=[(methods[n], n) for n in names],
        tensor_indices=indices)


def generate_tflm(graph: Graph, target: Target, tree: TflmTree, lib: TflmLibrary, *,
                  baud: int = 115200, semihosting: bool = False,
                  per_layer: bool = False, profile: bool = False,
                  clock: str = "reset", arena: tuple[int, str, int | None] | None = None
                  ) -> FirmwareProject:
    """The firmware project that runs `graph` through TFLM's MicroInterpreter (its ops
    checked first: :func:`check_tflm_ops`), linked against `lib`. `arena` is
    :func:`arena_size`'s answer when the caller has it already."""
    arena = arena or arena_size(graph, per_layer, lib.kernels.name, tree.root)
    size, _note, host = arena
    proj = FirmwareProject(target, "tflm", arena_bytes=size,
                           options={"baud": str(baud), "semihosting": str(int(semihosting)),
                                    "tflm": lib.key, "kernels": lib.kernels.name,
                                    "per_layer": str(int(per_layer)),
                                    "profile": str(int(profile)),
                                    "host_arena_used": str(host)})
    proj.files.update(static_sources(target, kernels=False))
    proj.files["src/tflm/hx_tflm_platform.cc"] = (
        FIRMWARE_DIR / "tflm" / "hx_tflm_platform.cc").read_bytes()
    model_bytes = np.frombuffer(graph.path.read_bytes(), dtype=np.uint8)
    proj.files["model.cc"] = app_source(graph, tree, arena, kernels=lib.kernels.name,
                                        per_layer=per_layer, profile=profile,
                                        model_bytes=model_bytes).encode()
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
        "tflm/Makefile.j2", target=target, tree_id=tree.tree_id, archive=lib.archive,
        kernels=lib.kernels.name, objects=lib.objects,
        cflags=[*common, "-std=c11"], cxxflags=cxxflags, ldflags=ldflags,
        c_sources=c_sources, cxx_sources=cxx_sources, vpath=vpath).encode()
    return finish_project(proj, baud=baud, semihosting=semihosting, clock=clock)
