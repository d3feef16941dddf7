"""Find the user's source trees: TFLite Micro (--tflm-dir, then $TFLM_DIR, then
invoke.yaml) and, for --kernels cmsis-nn, CMSIS-NN and CMSIS_6 the same way.

A tree is identified by its git commit when it is a checkout, else by a hash of
its sources; builds are cached under that identity. The commits of CMSIS-NN and
CMSIS_6 that a TFLM tree was tested with are the ones its own download scripts
pin (`pinned_commits`): read from the tree, never written down here.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BadInput, MissingTool

SOURCES_INC = Path("tensorflow/lite/micro/tools/make/sources.inc")
EXT_LIBS = Path("tensorflow/lite/micro/tools/make/ext_libs")
GET_TREE_HINT = ("set TFLM_DIR (or --tflm-dir) to a tflite-micro checkout: "
                 "`invoke tflm.fetch` on a machine with internet, or "
                 "git clone https://github.com/tensorflow/tflite-micro")


@dataclass(frozen=True)
class Pin:
    """A third-party repository at the commit a TFLM tree's download script names."""

    repo: str  # https://github.com/ARM-software/CMSIS-NN
    commit: str


@dataclass(frozen=True)
class ExtKind:
    """One kind of third-party tree the cmsis-nn kernels need."""

    name: str  # as people write it: CMSIS-NN, CMSIS_6
    env: str  # CMSIS_NN_DIR
    flag: str  # --cmsis-nn-dir
    yaml: str  # invoke.yaml harness.<key>
    marker: Path  # a file every such tree has
    script: str  # the TFLM download script that pins it
    ids: tuple[str, ...]  # the folders its identity hashes (an exported tree)


CMSIS_NN = ExtKind("CMSIS-NN", "CMSIS_NN_DIR", "--cmsis-nn-dir", "cmsis_nn_dir",
                   Path("Include/arm_nnfunctions.h"), "cmsis_nn_download.sh",
                   ("Source", "Include"))
CMSIS = ExtKind("CMSIS_6", "CMSIS_DIR", "--cmsis-dir", "cmsis_dir",
                Path("CMSIS/Core/Include/cmsis_compiler.h"), "cmsis_download.sh",
                ("CMSIS/Core/Include",))


@dataclass(frozen=True)
class TflmTree:
    """A TFLite Micro source tree and the identity its builds are cached under."""

    root: Path
    source: str  # where it came from: "--tflm-dir", "TFLM_DIR", "invoke.yaml"

    @property
    def tree_id(self) -> str:
        """The git commit when the tree is a checkout, else a hash of its sources."""
        return _tree_id(self.root, ("tensorflow",))

    @property
    def commit(self) -> str | None:
        """The full git commit of a checkout; None for an exported tree."""
        return git_commit(self.root)


@dataclass(frozen=True)
class ExtTree:
    """A CMSIS-NN or CMSIS_6 tree."""

    kind: ExtKind
    root: Path
    source: str

    @property
    def tree_id(self) -> str:
        return _tree_id(self.root, self.kind.ids)

    @property
    def commit(self) -> str | None:
        return git_commit(self.root)


def configured_dir(cli_dir: str | Path | None = None, config_dir: str | Path | None = None,
                   *, env: str = "TFLM_DIR", flag: str = "--tflm-dir"
                   ) -> tuple[Path, str] | None:
    """The configured tree folder and where it was configured, or None: the command
    line, then the environment variable, then invoke.yaml."""
    if cli_dir:
        return Path(cli_dir).expanduser(), flag
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser(), env
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


def pinned_commits(tflm_root: Path) -> dict[str, Pin]:
    """{kind name: Pin} from the TFLM tree's ext_libs download scripts: the archive URL
    names the repository and the variable holding the commit."""
    pins = {}
    for kind in (CMSIS_NN, CMSIS):
        script = tflm_root / EXT_LIBS / kind.script
        text = script.read_text() if script.is_file() else ""
        url = re.search(r"(https?://github\.com/[\w.-]+/" + re.escape(kind.name)
                        + r")/archive/\$\{(\w+)\}\.zip", text)
        if url is None:
            continue
        values = re.findall(rf"^\s*{url.group(2)}=\"?([0-9a-f]{{40}})\"?", text[:url.start()],
                            re.M)
        if values:
            pins[kind.name] = Pin(url.group(1).replace("http://", "https://"), values[-1])
    return pins


def _how_to_get(missing: list[ExtKind], pins: dict[str, Pin]) -> str:
    wants = []
    for kind in missing:
        pin = pins.get(kind.name)
        at = f" at {pin.commit[:12]}" if pin else ""
        wants.append(f"{kind.env} (or {kind.flag}) to a {kind.name} checkout{at}")
    repos = ", ".join(f"git clone {pins[k.name].repo if k.name in pins else k.name}"
                      for k in missing)
    pinned = ", the commits the TFLM tree pins" if any(k.name in pins for k in missing) else ""
    return (f"set {' and '.join(wants)}{pinned}: `invoke tflm.fetch` on a machine with "
            f"internet, or {repos}")


def find_cmsis_trees(tflm: TflmTree, dirs: dict[str, tuple[Path | None, Path | None]]
                     ) -> tuple[ExtTree, ExtTree]:
    """The CMSIS-NN and CMSIS_6 trees for --kernels cmsis-nn, checked. `dirs` maps each
    kind's name to (command-line dir, invoke.yaml dir); the environment comes between.
    MissingTool names every tree that is not configured and how to get it."""
    pins = pinned_commits(tflm.root)
    found = {k.name: configured_dir(*dirs.get(k.name, (None, None)), env=k.env, flag=k.flag)
             for k in (CMSIS_NN, CMSIS)}
    missing = [k for k in (CMSIS_NN, CMSIS) if found[k.name] is None]
    if missing:
        names = " and ".join(k.name for k in missing)
        raise MissingTool(f"--kernels cmsis-nn needs {names} source tree"
                          f"{'s' if len(missing) > 1 else ''} and none is configured",
                          hint=_how_to_get(missing, pins))
    trees = []
    for kind in (CMSIS_NN, CMSIS):
        root, source = found[kind.name]  # type: ignore[misc]
        if not (root / kind.marker).is_file():
            raise BadInput(f"{root} (from {source}) is not a {kind.name} tree: {kind.marker} "
                           "is missing", hint=_how_to_get([kind], pins))
        trees.append(ExtTree(kind, root.resolve(), source))
    return trees[0], trees[1]


def git_commit(root: Path) -> str | None:
    """HEAD of a git checkout at `root` (not of a repository it merely sits inside)."""
    if not (root / ".git").exists():
        return None
    res = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                         text=True, check=False)
    return res.stdout.strip() if res.returncode == 0 else None


_ID_CACHE: dict[tuple[Path, tuple[str, ...]], str] = {}
_SOURCE_SUFFIXES = (".cc", ".c", ".h", ".hpp", ".inc", ".fbs")


def _tree_id(root: Path, folders: tuple[str, ...]) -> str:
    if (root, folders) in _ID_CACHE:
        return _ID_CACHE[root, folders]
    commit = git_commit(root)
    if commit:
        tid = commit[:12]
    else:  # an exported tree: hash what the build is made from
        h = hashlib.sha256()
        for folder in folders:
            for path in sorted((root / folder).rglob("*")):
                if path.suffix in _SOURCE_SUFFIXES and path.is_file():
                    h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
        tid = "src-" + h.hexdigest()[:12]
    _ID_CACHE[root, folders] = tid
    return tid
