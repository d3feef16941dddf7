"""The tflm build compiles what a model needs, each object once (per source, flags,
compiler and trees): concurrent builds share the cache safely, and a second model
compiles only the sources the first did not need."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.paths import ROOT, shared_model, tflm_tree

BUILD = """\
import json, sys
from pathlib import Path
from harness.ops.validate import load_model
from harness.runtimes.tflm.arena import arena_size
from harness.runtimes.tflm.firmware import app_source
from harness.runtimes.tflm.library import build_library
from harness.runtimes.tflm.tree import find_tree
from harness.targets.table import get_target
tree, graph = find_tree(sys.argv[1]), load_model(sys.argv[2])
app = app_source(graph, tree, arena_size(graph, False))
lib = build_library(tree, get_target("cortex-m4").cflags, app, cache_root=Path(sys.argv[3]))
print(json.dumps({"archive": str(lib.archive), "objects": lib.objects,
                  "compiled": lib.compiled, "cached": lib.cached, "sources": lib.sources}))
"""


def _start(tree: Path, model: Path, cache: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", BUILD, str(tree), str(model), str(cache)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def test_objects_are_compiled_once_and_shared(tmp_path: Path) -> None:
    tree = tflm_tree()
    small, bigger = shared_model("hello_world_int8.tflite"), shared_model(
        "micro_speech_quantized.tflite")
    cache = tmp_path / "cache"
    # Two runs build the same model into one empty cache at the same time.
    first, second = (_result(p) for p in [_start(tree, small, cache) for _ in range(2)])
    assert first["archive"] == second["archive"] and first["sources"] == second["sources"]
    assert Path(first["archive"]).is_file() and first["objects"] > 10
    assert not any(cache.glob("objects/*/*.tmp*"))  # no half-written object left
    # micro_speech adds depthwise conv, reshape and softmax to hello_world's FULLY_CONNECTED:
    # only the sources hello_world did not need are compiled.
    grown = _result(_start(tree, bigger, cache))
    new = set(grown["sources"]) - set(first["sources"])
    assert grown["compiled"] == len(new) > 0
    assert any("kernels/softmax" in s for s in new) and any("depthwise_conv" in s for s in new)
    assert not any("fully_connected" in s for s in new)
    again = _result(_start(tree, bigger, cache))
    assert again["cached"] and again["compiled"] == 0 and again["archive"] == grown["archive"]
    assert not any(cache.glob("tmp/session-*"))  # the sessions' folders are gone
