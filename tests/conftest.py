"""Fixtures both tiers share: a temporary runs folder, an empty PATH, the device protocol
code built for the host, the wheel; and each test marked with its tier. Shared constants
and helpers are in tests/support/ (paths.py: the checkout, the models, HARNESS_FULL_TESTS,
the TFLM tree)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import ROOT  # also takes TFLM_DIR out of the environment, before any test
from support.testdev import PROTO_DIR

# Many tests start the harness in a new Python process (the CLI, reference workers, cells).
# With PYTHONDONTWRITEBYTECODE set (some CI images and sandboxes set it), each of them would
# compile the package's ~160 modules again (~0.2 s apiece); let the first one cache them.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
# Tests interrupt the harness with SIGINT, as Ctrl-C does. A shell that starts the suite in
# the background (`cmd &` without job control) hands it SIGINT ignored, and an ignored
# signal stays ignored in every child: give the children the default disposition back.
signal.signal(signal.SIGINT, signal.default_int_handler)

DIST = "tflite_mcu_crosscheck"
TIERS = ("unit", "integration")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, the folder it is in (`pytest -m unit`)."""
    here = Path(__file__).parent
    for item in items:
        tier = item.path.relative_to(here).parts[0]
        if tier in TIERS:
            item.add_marker(tier)


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


@pytest.fixture
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with nothing on it."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


@pytest.fixture(scope="session")
def testdev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """firmware/proto/hx_proto.c and tests/support/hx_testdev.c built with the host gcc: the
    device side of the protocol on stdin/stdout (support/testdev.py)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not installed")
    exe = tmp_path_factory.mktemp("testdev") / "hx_testdev"
    cmd = [
        gcc,
        "-std=c99",
        "-pedantic",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wconversion",
        f"-I{PROTO_DIR}",
        str(ROOT / "tests" / "support" / "hx_testdev.c"),
        str(PROTO_DIR / "hx_proto.c"),
        "-o",
        str(exe),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel .` makes of the checkout (offline: no build isolation)."""
    pytest.importorskip("hatchling", reason="the build backend: pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(out)], check=True,
                   capture_output=True)
    (path,) = out.glob(f"{DIST}-*.whl")
    return path
