"""Find the user's source trees: TFLite Micro (--tflm-dir, then $TFLM_DIR, then
invoke.yaml) and, for --kernels cmsis-nn, CMSIS-NN and CMSIS_6 the same way.

A tree is identified by its git tree hash, computed from its files the way git
does, so a checkout and an unpacked archive of the same commit are the same tree;
builds are cached under that identity. The commits of CMSIS-NN and
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


CMSIS_NN = ExtKind("CMSIS-NN", "CMSIS_NN_DIR", "--cmsis-nn-dir", "cmsis_nn_dir",
                   Path("Include/arm_nnfunctions.h"), "cmsis_nn_download.sh")
CMSIS = ExtKind("CMSIS_6", "CMSIS_DIR", "--cmsis-dir", "cmsis_dir",
                Path("CMSIS/Core/Include/cmsis_compiler.h"), "cmsis_download.sh")


@dataclass(frozen=True)
class TflmTree:
    """A TFLite Micro source tree and the identity its builds are cached under."""

    root: Path
    source: str  # where it came from: "--tflm-dir", "TFLM_DIR", "invoke.yaml"

    @property
    def tree_id(self) -> str:
        """The tree's git tree hash: the same for a checkout and an export of a commit."""
        return tree_id(self.root)

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
        return tree_id(self.root)

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


def require_all_trees(tflm: tuple[Path | None, Path | None],
                      ext: dict[str, tuple[Path | None, Path | None]]) -> None:
    """--kernels cmsis-nn without a TFLM tree: one MissingTool naming every tree that is
    not configured (the pins are unknown without the TFLM tree)."""
    if configured_dir(*tflm) is not None:
        return
    missing = [("TensorFlow Lite Micro", "TFLM_DIR (or --tflm-dir) to a tflite-micro checkout")]
    missing += [(k.name, f"{k.env} (or {k.flag}) to a {k.name} checkout")
                for k in (CMSIS_NN, CMSIS)
                if configured_dir(*ext.get(k.name, (None, None)), env=k.env) is None]
    raise MissingTool("--kernels cmsis-nn needs source trees that are not configured: "
                      + ", ".join(n for n, _ in missing),
                      hint=f"set {', '.join(w for _, w in missing)}: `invoke tflm.fetch` on a "
                           "machine with internet clones them at the tested commits, or git "
                           "clone https://github.com/tensorflow/tflite-micro and the CMSIS-NN "
                           "and CMSIS_6 commits its tools/make/ext_libs/cmsis*_download.sh pin")


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
    pinned = ""
    if any(k.name in pins for k in missing):
        pinned = ", the commits the TFLM tree pins" if len(missing) > 1 else (
            ", the commit the TFLM tree pins")
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


_ID_CACHE: dict[Path, str] = {}
# Never part of a tree's identity: version control, Python caches, and what TFLM's own
# Makefile writes into the tree (its downloads and build outputs).
_SKIP = {".git", "__pycache__"}
_SKIP_PATHS = {"tensorflow/lite/micro/tools/make/downloads", "tensorflow/lite/micro/tools/make/gen"}


def tree_id(root: Path) -> str:
    """The tree's git tree hash (12 hex digits): what ``git rev-parse <commit>^{tree}``
    prints for the commit it was checked out or exported from, so a checkout and an
    unpacked archive of the same commit are the same tree (and share cached builds)."""
    root = root.resolve()
    if root not in _ID_CACHE:
        _ID_CACHE[root] = (_clean_checkout_tree(root) or _git_tree(root, root).hex())[:12]
    return _ID_CACHE[root]


def _clean_checkout_tree(root: Path) -> str | None:
    """HEAD's tree of a git checkout without changes to tracked files (git knows it)."""
    if not (root / ".git").exists():
        return None
    status = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                             "--untracked-files=no"], capture_output=True, text=True, check=False)
    if status.returncode != 0 or status.stdout.strip():
        return None
    res = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD^{tree}"],
                         capture_output=True, text=True, check=False)
    return res.stdout.strip() if res.returncode == 0 else None


def _git_tree(folder: Path, root: Path) -> bytes:
    """The git tree object hash of a folder, computed as git does (Git internals:
    blob and tree objects, "<type> <size>\\0<content>" hashed with SHA-1)."""
    entries = []
    for path in folder.iterdir():
        if path.name in _SKIP or str(path.relative_to(root)) in _SKIP_PATHS:
            continue
        if path.is_symlink():
            mode, digest = b"120000", _blob(os.readlink(path).encode())
        elif path.is_dir():
            if not any(path.iterdir()):
                continue  # git does not keep empty folders
            mode, digest = b"40000", _git_tree(path, root)
        else:
            mode = b"100755" if path.stat().st_mode & 0o111 else b"100644"
            digest = _blob(path.read_bytes())
        key = path.name.encode() + (b"/" if mode == b"40000" else b"")
        entries.append((key, mode + b" " + path.name.encode() + b"\0" + digest))
    body = b"".join(e for _, e in sorted(entries))
    return hashlib.sha1(b"tree %d\0" % len(body) + body).digest()


def _blob(data: bytes) -> bytes:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).digest()
