"""Places and switches every test shares: the checkout, the example and the shared real
models, HARNESS_FULL_TESTS, and the TFLM tree of the tflm-runtime tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "example_cnn_int8.tflite"
SHARED_MODELS = Path(os.environ.get("HARNESS_SHARED_MODELS", ROOT.parent / "shared" / "models"))
FULL = os.environ.get("HARNESS_FULL_TESTS") == "1"

# A configured TFLM tree makes `--runtime auto` pick tflm. The tflm tests take
# the tree from here; every other test runs with none configured, so that what
# they check (the builtin runtime) does not depend on the developer's shell.
# tests/conftest.py imports this module before any test runs.
TFLM_DIR = os.environ.pop("TFLM_DIR", None)


def tflm_tree() -> Path:
    """The TFLM tree for the tflm-runtime tests, or skip with what to set."""
    if not TFLM_DIR:
        pytest.skip("no TFLM tree: set TFLM_DIR to a tflite-micro checkout to run the tflm "
                    "runtime tests")
    return Path(TFLM_DIR)


def shared_model(name: str) -> Path:
    """A real model from ../shared/models, or skip (a user's clone has no ../shared)."""
    path = SHARED_MODELS / name
    if not path.exists():
        pytest.skip(f"{name} not found: set HARNESS_SHARED_MODELS to a folder with the "
                    "shared test models")
    return path
