"""RunResult: what one run measured and concluded, typed; results.json is its JSON.

results.json is the source of every other report (junit.xml, report.html, the
console summary, a --resume): the renderers read the JSON document, so they also
work on a results.json read back from disk. The pipeline fills a RunResult field
by field and writes it atomically before the first stage and after each, so a run
that dies, however it dies, keeps what it measured. Schema: README, "results.json".
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.analysis.verdict import Verdict
from harness.config import RunConfig
from harness.locks import write_atomic
from harness.model.graph import Graph, Tensor
from harness.targets.target import Target

SCHEMA = "harness.results/1"


def _tensor(t: Tensor) -> dict:
    return {"index": t.index, "name": t.name, "shape": list(t.shape), "dtype": t.dtype,
            "scale": t.scale, "zero_point": t.zero_point}


def model_section(graph: Graph) -> dict:
    """results.json's `model`: the file, its hash, its ops and its inputs and outputs."""
    return {"path": str(graph.path), "name": graph.name, "sha256": graph.sha256,
            "ops": [op.name for op in graph.ops],
            "inputs": [_tensor(t) for t in graph.input_tensors()],
            "outputs": [_tensor(t) for t in graph.output_tensors()]}


def target_section(target: Target) -> dict:
    return {"name": target.name, "cpu": target.cpu, "qemu_machine": target.qemu_machine}


def _host() -> dict:
    return {"machine": platform.machine(), "python": platform.python_version(),
            "cpus": os.cpu_count()}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class RunResult:
    """One run, section by section (each nested section is the JSON the README documents)."""

    run_dir: Path
    config: dict[str, Any]  # every option that changes results (harness/config.py), + why
    model: dict[str, Any]
    target: dict[str, Any]
    harness_version: str = __version__
    created: str = field(default_factory=_now)
    host: dict[str, Any] = field(default_factory=_host)
    vectors: dict[str, Any] | None = None  # count and sha256 (--resume checks vectors.npz)
    build: dict[str, Any] | None = None
    references: dict[str, dict] = field(default_factory=dict)
    device: dict[str, Any] = field(default_factory=dict)
    comparisons: list[dict] = field(default_factory=list)
    per_layer: dict | None = None
    attribution: dict | None = None
    enforced_reference: str | None = None
    tflm: dict | None = None  # the tflm runtime's tree, library and arena
    resumed_vectors: int = 0
    verdict: Verdict = field(default_factory=Verdict.incomplete)
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def new(cls, cfg: RunConfig, graph: Graph, target: Target, folder: Path,
            runtime_reason: str = "", resumed_vectors: int = 0) -> RunResult:
        """The result of a run that is starting: what it runs, nothing measured yet."""
        return cls(folder, {**cfg.record(), "runtime_reason": runtime_reason},
                   model_section(graph), target_section(target),
                   resumed_vectors=resumed_vectors)

    def to_dict(self) -> dict:
        """The results.json document."""
        doc = {"schema": SCHEMA, **self.__dict__}
        doc["run_dir"] = str(self.run_dir)
        doc["verdict"] = self.verdict.to_dict()
        if self.tflm is None:
            del doc["tflm"]  # only tflm runs have a tflm section
        return doc

    @classmethod
    def from_dict(cls, doc: dict) -> RunResult:
        """A RunResult from a results.json document (unknown keys are dropped)."""
        known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
        known["run_dir"] = Path(doc["run_dir"])
        known["verdict"] = Verdict.from_dict(doc["verdict"])
        return cls(**known)

    @classmethod
    def load(cls, path: Path) -> RunResult:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def write(self, folder: Path | None = None) -> Path:
        """Write results.json atomically (a crash or a power cut never leaves half a
        file)."""
        path = Path(folder or self.run_dir) / "results.json"
        return write_atomic(path, json.dumps(self.to_dict(), indent=2, default=_default) + "\n")


def build_section(built: Any) -> dict:
    """results.json's `build` from a BuildResult."""
    d = asdict(built)
    d["elf"], d["folder"] = str(built.elf), str(built.folder)
    d["seconds"] = round(built.seconds, 3)
    return d


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
