"""Which sources a model's firmware needs: the app's undefined symbols, followed
to the files that define them, until nothing more can be found.

The app (model.cc, rendered for this model) is compiled first; every symbol it
needs is looked up in an index of the candidate sources' definitions, read from
their text (fully qualified, by namespace; names in anonymous namespaces have no
linkage and are left out); the files found are compiled, and their own needs
followed in turn. What no candidate defines (the C library,
libstdc++, the app's own platform hooks) is left to the linker.
"""

from __future__ import annotations

import bisect
import re
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path

from harness.runtimes.tflm.objects import Obj

CXXFILT = "arm-none-eabi-c++filt"

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_STRINGS = re.compile(r'"(?:[^"\\\n]|\\.)*"')
# A function definition: a name after a type (or at the start of a line, for
# constructors), its parameters, then a body (or a constructor's initialisers).
_FUNCTION = re.compile(
    r"(?:^|[\w>*&][ \t\n]*[ \t\n*&])[ \t]*((?:[A-Za-z_]\w*[ \t]*::[ \t]*)*~?[A-Za-z_]\w*)[ \t\n]*"
    r"\(([^;{}()]*(?:\([^;{}()]*\)[^;{}()]*)*)\)[ \t\n]*(?:const[ \t\n]*)?(?:noexcept[ \t\n]*)?"
    r"(?:override[ \t\n]*)?(?::(?!:)[^;{}]*)?\{", re.M)
# A variable defined at file scope with an initialiser (tables, constants).
_DATA = re.compile(r"^[ \t]*(?:(?:static|const|constexpr|extern|alignas\([^)]*\))[ \t]+)*"
                   r"[A-Za-z_][\w:]*(?:<[^;=>]*>)?[ \t*&]+([A-Za-z_]\w*)[ \t]*"
                   r"(?:\[[^\]]*\][ \t]*)*=", re.M)
_KEYWORDS = {"if", "for", "while", "switch", "catch", "return", "sizeof", "defined", "else",
             "do", "alignas", "decltype", "static_assert"}


_SCOPE = re.compile(r"\bnamespace[ \t\n]+((?:[A-Za-z_]\w*::)*[A-Za-z_]\w*)?[ \t\n]*\{|[{}]")


def _scopes(text: str) -> tuple[list[int], list[str | None]]:
    """Where each namespace scope starts, and its name ("tflite::micro"; None inside an
    anonymous namespace, whose names have no linkage), for _namespace_at."""
    starts, names = [0], [""]
    stack: list[str | None] = [""]
    for m in _SCOPE.finditer(text):
        tok = m.group(0)
        if tok == "}":
            if len(stack) > 1:
                stack.pop()
        elif tok == "{":
            stack.append(stack[-1])  # a block: same scope
        else:
            outer = stack[-1]
            inner = m.group(1)
            stack.append(None if outer is None or inner is None
                         else (f"{outer}::{inner}" if outer else inner))
        starts.append(m.end())
        names.append(stack[-1])
    return starts, names


def _namespace_at(scopes: tuple[list[int], list[str | None]], pos: int) -> str | None:
    starts, names = scopes
    return names[bisect.bisect_right(starts, pos) - 1]


def _definitions(text: str) -> set[str]:
    """Fully qualified names ("tflite::MicroAllocator::Create", "arm_convolve_s8") of
    the functions and file-scope data with linkage that a source's text defines."""
    text = _STRINGS.sub('""', _COMMENTS.sub(" ", text))
    scopes = _scopes(text)
    out = set()
    for m in [*_FUNCTION.finditer(text), *_DATA.finditer(text)]:
        name = re.sub(r"\s+", "", m.group(1))
        if name.split("::")[-1] in _KEYWORDS:
            continue
        ns = _namespace_at(scopes, m.start(1))
        if ns is not None:  # None: an anonymous namespace
            out.add(f"{ns}::{name}" if ns else name)
    return out


class DefinitionIndex:
    """Fully qualified name -> the candidate sources that define it, read from their text."""

    def __init__(self, sources: Iterable[Path]) -> None:
        self.by_name: dict[str, list[Path]] = defaultdict(list)
        self.by_class: dict[str, list[Path]] = defaultdict(list)
        for src in sources:
            for name in _definitions(src.read_text(errors="replace")):
                self.by_name[name].append(src)
                if "::" in name:
                    self.by_class[name.rsplit("::", 1)[0]].append(src)

    def files_for(self, demangled: str) -> list[Path]:
        """The sources that define a (demangled) symbol; [] when none does."""
        if demangled.startswith("vtable for "):  # the class's out-of-line methods
            cls = "::".join(_components(demangled.removeprefix("vtable for ")))
            return sorted(set(self.by_class.get(cls, [])))
        return self.by_name.get("::".join(_components(demangled)), [])


def _components(demangled: str) -> list[str]:
    """'void tflite::Foo<int>::Bar(int) const' -> ['tflite', 'Foo', 'Bar']."""
    out, depth, cur = [], 0, ""
    for ch in demangled:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif depth == 0:
            if ch == "(":
                break
            cur += ch
    cur = cur.split()[-1] if cur.split() else ""
    out = [p for p in cur.split("::") if p]
    return out


def demangle(names: Iterable[str]) -> dict[str, str]:
    """{mangled: demangled} with the cross toolchain's c++filt."""
    names = sorted(names)
    if not names:
        return {}
    res = subprocess.run([CXXFILT], input="\n".join(names) + "\n", capture_output=True,
                         text=True, check=False)
    lines = res.stdout.splitlines()
    return dict(zip(names, lines, strict=True)) if len(lines) == len(names) else {
        n: n for n in names}


def close_over(start: list[Obj], index: DefinitionIndex,
               submit: Callable[[Path], Future[Obj]]) -> tuple[list[Obj], set[str]]:
    """Every object the `start` objects need: each object's undefined symbols are looked
    up as soon as it is compiled, and the files defining them submitted at once (no
    rounds: the pool stays busy). Returns the objects beyond `start`, and the symbols no
    candidate defines (left to the linker: the C library, the app's own hooks)."""
    submitted: set[Path] = {o.source for o in start}
    pending: set[Future[Obj]] = set()
    objs: list[Obj] = []
    unresolved: set[str] = set()
    names: dict[str, str] = {}

    def follow(obj: Obj) -> None:
        new = obj.undefined - names.keys()
        names.update(demangle(new))
        for mangled in obj.undefined:
            files = index.files_for(names[mangled])
            if not files:
                unresolved.add(mangled)
            for f in files:
                if f not in submitted:
                    submitted.add(f)
                    pending.add(submit(f))

    for obj in start:
        follow(obj)
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            pending.discard(fut)
            obj = fut.result()
            objs.append(obj)
            follow(obj)
    defined = set().union(*(o.defined for o in [*start, *objs]))
    return objs, unresolved - defined
