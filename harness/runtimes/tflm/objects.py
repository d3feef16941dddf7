"""Compile TFLM / CMSIS-NN sources to objects, each cached on its own.

An object's key hashes what it is made from: the compiler's version, the flags
(tree folders written as the trees' identities, so a moved tree still hits), the
identity of every tree the flags name, and the source file's bytes. Objects are
shared by every model, target and run that compiles the same source the same way,
so a second model compiles only the kernels the first did not need.

Writes are atomic (a temporary name, then a rename), so runs that share the cache
may compile the same object at the same time: each gets a complete file.

The TFLM sources spend most of their compile time parsing the same headers (the
generated flatbuffer schema alone takes ~4 s a file), so a session that compiles
several C++ files first precompiles those headers once (a GCC precompiled header
forced in with ``-include``), private to the session and removed after it. It
builds beside the first files, which compile without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness.children import spawn
from harness.errors import BuildFailed

CXX = "arm-none-eabi-g++"
CC = "arm-none-eabi-gcc"
NM = "arm-none-eabi-nm"
# Bump when the way objects are made changes, so old ones are not reused.
RECIPE = 2
# The headers nearly every TFLM source includes; precompiled once per session.
PCH_HEADERS = ("tensorflow/lite/schema/schema_generated.h",
               "tensorflow/lite/micro/kernels/kernel_util.h",
               "tensorflow/lite/micro/micro_interpreter.h")


@dataclass(frozen=True)
class Unit:
    """One source to compile: the file, its complete flags, and the text that says
    what those flags mean wherever the trees sit (part of the cache key)."""

    source: Path
    flags: tuple[str, ...]
    ident: str

    @property
    def cxx(self) -> bool:
        return self.source.suffix in (".cc", ".cpp")


@dataclass(frozen=True)
class Obj:
    """A compiled object and the external symbols it defines and needs."""

    source: Path
    path: Path
    defined: frozenset[str]
    undefined: frozenset[str]
    compiled: bool  # compiled by this session (False: found in the cache)


_COMPILER_IDS: dict[str, str] = {}


def compiler_id(tool: str) -> str:
    """The first line of `tool --version` (cached per process)."""
    if tool not in _COMPILER_IDS:
        res = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)
        _COMPILER_IDS[tool] = res.stdout.splitlines()[0] if res.stdout else tool
    return _COMPILER_IDS[tool]


def object_key(unit: Unit) -> str:
    """What the object is made from, hashed: compiler, recipe, flags and source bytes."""
    h = hashlib.sha256()
    for part in (compiler_id(CXX if unit.cxx else CC), f"recipe {RECIPE}", unit.ident):
        h.update(part.encode() + b"\0")
    h.update(unit.source.read_bytes())
    return h.hexdigest()[:24]


def symbols(obj: Path) -> tuple[frozenset[str], frozenset[str]]:
    """(defined, undefined) external symbols of an object, read with nm."""
    res = subprocess.run([NM, "-P", "-g", str(obj)], capture_output=True, text=True,
                         check=False)
    defined, undefined = set(), set()
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind not in ("w", "v"):  # weak undefined: not required
            defined.add(name)
    return frozenset(defined), frozenset(undefined)


class ObjectCache:
    """The cache folder: objects/<2 hex>/<key>.o with <key>.json beside it (its symbols)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def paths(self, key: str) -> tuple[Path, Path]:
        folder = self.root / "objects" / key[:2]
        return folder / f"{key}.o", folder / f"{key}.json"

    def load(self, unit: Unit, key: str) -> Obj | None:
        """The cached object of `unit`, or None."""
        obj, meta = self.paths(key)
        if not (obj.is_file() and meta.is_file()):
            return None
        try:
            syms = json.loads(meta.read_text())
        except (OSError, ValueError):
            return None
        return Obj(unit.source, obj, frozenset(syms["defined"]), frozenset(syms["undefined"]),
                   False)

    def store(self, unit: Unit, key: str, built: Path) -> Obj:
        """Move a freshly built object into the cache (atomically) and record its symbols."""
        obj, meta = self.paths(key)
        obj.parent.mkdir(parents=True, exist_ok=True)
        defined, undefined = symbols(built)
        tmp_meta = meta.with_name(f"{meta.name}.tmp{os.getpid()}-{threading.get_ident()}")
        tmp_meta.write_text(json.dumps({"source": str(unit.source), "defined": sorted(defined),
                                        "undefined": sorted(undefined)}))
        os.replace(built, obj)
        os.replace(tmp_meta, meta)
        return Obj(unit.source, obj, defined, undefined, True)


class Compiler:
    """Compiles units in parallel into an ObjectCache, as they are submitted; kills every
    compiler it started when interrupted (Ctrl-C too) or when one fails."""

    def __init__(self, cache: ObjectCache, jobs: int, pch_flags: tuple[str, ...],
                 pch_headers: tuple[str, ...] = PCH_HEADERS) -> None:
        self.cache, self.jobs = cache, jobs
        self.pch_flags, self.pch_headers = pch_flags, pch_headers
        _remove_dead_sessions(cache.root / "tmp")
        self.work = Path(tempfile.mkdtemp(prefix=f"session-{os.getpid()}-",
                                          dir=_mkdir(cache.root / "tmp")))
        self._pool = ThreadPoolExecutor(max_workers=jobs)
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._pch_ready = threading.Event()
        self._pch: threading.Thread | None = None
        self._cxx_todo = 0
        self._stopped = False
        self.compiled = 0

    def __enter__(self) -> Compiler:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped = True  # the precompiled header may still be building: not needed now
        self.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._pch is not None:
            self._pch.join()
        shutil.rmtree(self.work, ignore_errors=True)  # the header is hundreds of MB

    def kill(self) -> None:
        with self._lock:
            for proc in self._procs:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def submit(self, unit: Unit) -> Future[Obj]:
        """The object of `unit`: from the cache at once, or compiled in the pool."""
        key = object_key(unit)
        found = self.cache.load(unit, key)
        if found is not None:
            done: Future[Obj] = Future()
            done.set_result(found)
            return done
        self._cxx_todo += unit.cxx
        if self._cxx_todo >= 2 and self._pch is None and self.pch_flags:
            # From the second C++ file on (one alone is cheaper without it), beside the
            # pool: the first files compile without it while it builds.
            self._pch = threading.Thread(target=self._precompile, daemon=True)
            self._pch.start()
        return self._pool.submit(self._one, unit, key)

    def stop(self) -> None:
        """Start nothing more and kill what runs (a compile failed, or Ctrl-C)."""
        self._stopped = True
        self.kill()

    def _precompile(self) -> None:
        header = self.work / "hx_tflm_pch.h"
        header.write_text("/* Precompiled by harness for this build session. */\n"
                          + "".join(f'#include "{h}"\n' for h in self.pch_headers))
        tmp = self.work / "hx_tflm_pch.h.gch.tmp"
        try:
            res = self._run([CXX, *self.pch_flags, "-x", "c++-header", str(header), "-o",
                             str(tmp)])
        except BuildFailed:  # stopped
            return
        if res.returncode == 0:  # else every file simply parses its headers itself
            os.replace(tmp, self.work / "hx_tflm_pch.h.gch")
            self._pch_ready.set()

    def _pch_args(self) -> list[str]:
        if not self._pch_ready.is_set():
            return []
        return ["-include", str(self.work / "hx_tflm_pch.h"), "-Winvalid-pch"]

    def _one(self, unit: Unit, key: str) -> Obj:
        out = self.work / f"{key}.o"
        cmd = [CXX, *unit.flags, *self._pch_args()] if unit.cxx else [CC, *unit.flags]
        res = self._run([*cmd, "-c", str(unit.source), "-o", str(out)])
        if res.returncode != 0:
            log = self.cache.root / "logs" / f"{unit.source.stem}-{key[:8]}.log"
            _mkdir(log.parent)
            log.write_text(" ".join(res.args) + "\n\n" + res.stderr)
            first = next((ln for ln in res.stderr.splitlines() if "error" in ln),
                         res.stderr.strip()[-300:])
            raise BuildFailed(f"{unit.source.name} failed to compile: {first.strip()}",
                              hint=f"full log: {log}")
        obj = self.cache.store(unit, key, out)
        with self._lock:
            self.compiled += 1
        return obj

    def _run(self, cmd: list[str]) -> subprocess.CompletedProcess:
        with self._lock:
            if self._stopped:
                raise BuildFailed("stopped: another file failed to compile")
            # gcc runs cc1 and as: the whole group must die with the harness.
            proc = spawn(cmd, tree=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
            self._procs.add(proc)
        try:
            out, err = proc.communicate()
        finally:
            with self._lock:
                self._procs.discard(proc)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _remove_dead_sessions(folder: Path) -> None:
    """Session folders of builds that were killed (SIGKILL leaves them): their process is
    gone. Each may hold a precompiled header of hundreds of MB."""
    for d in folder.glob("session-*-*") if folder.is_dir() else []:
        pid = d.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
