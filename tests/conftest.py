"""Shared fixtures: paths, the shared real models, a temporary runs folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "example_cnn_int8.tflite"
SHARED_MODELS = Path(os.environ.get("HARNESS_SHARED_MODELS", ROOT.parent / "shared" / "models"))
FULL = os.environ.get("HARNESS_FULL_TESTS") == "1"


def shared_model(name: str) -> Path:
    """A real model from ../shared/models, or skip (a user's clone has no ../shared)."""
    path = SHARED_MODELS / name
    if not path.exists():
        pytest.skip(f"{name} not found: set HARNESS_SHARED_MODELS to a folder with the "
                    "shared test models")
    return path


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"
