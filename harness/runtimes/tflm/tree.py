"""Find the user's TFLite Micro tree: --tflm-dir, then $TFLM_DIR, then invoke.yaml."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BadInput, MissingTool

SOURCES_INC = Path("tensorflow/lite/micro/tools/make/sources.inc")
GET_TREE_HINT = ("set TFLM_DIR (or --tflm-dir) to a tflite-micro checkout: "
                 "`invoke tflm.fetch` on a machine with internet, or "
                 "git clone https://github.com/tensorflow/tflite-micro")


@dataclass(frozen=True)
class TflmTree:
    """A TFLite Micro source tree and the identity its builds are cached under."""

    root: Path
    source: str  # where it came from: "--tflm-dir", "TFLM_DIR", "invoke.yaml"

    @property
    def tree_id(self) -> str:
        """The git commit when the tree is a checkout, else a hash of its sources."""
        return _tree_id(self.root)


def configured_dir(cli_dir: str | Path | None = None,
                   config_dir: str | Path | None = None) -> tuple[Path, str] | None:
    """The configured tree folder and where it was configured, or None."""
    if cli_dir:
        return Path(cli_dir).expanduser(), "--tflm-dir"
    if os.environ.get("TFLM_DIR"):
        return Path(os.environ["TFLM_DIR"]).expanduser(), "TFLM_DIR"
    if config_dir:
        return Path(config_dir).expanduser(), "invoke.yaml"
    return None


def find_tree(cli_dir: str | Path | None = None,
              config_dir: str | Path | None = None) -> TflmTree:
    """The configured tree, checked; MissingTool when none is configured."""
    found = configured_dir(cli_dir, config_dir)
    if found is None:
        raise MissingTool("--runtime tflm needs a TensorFlow Lite Micro source tree and none "
                          "is configured", hint=GET_TREE_HINT)
    root, source = found
    if not (root / SOURCES_INC).is_file():
        raise BadInput(f"{root} (from {source}) is not a tflite-micro tree: "
                       f"{SOURCES_INC} is missing", hint=GET_TREE_HINT)
    return TflmTree(root.resolve(), source)


_ID_CACHE: dict[Path, str] = {}


def _tree_id(root: Path) -> str:
    if root in _ID_CACHE:
        return _ID_CACHE[root]
    res = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                         text=True, check=False)
    if res.returncode == 0 and (root / ".git").exists():
        tid = res.stdout.strip()[:12]
    else:  # an exported tree: hash what the library is built from
        h = hashlib.sha256()
        for path in sorted((root / "tensorflow").rglob("*")):
            if path.suffix in (".cc", ".c", ".h", ".inc", ".fbs") and path.is_file():
                h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
        tid = "src-" + h.hexdigest()[:12]
    _ID_CACHE[root] = tid
    return tid
