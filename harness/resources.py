"""Where the harness finds its non-Python parts, and where it may write.

firmware/, templates/, renode/ and examples/ sit at the top of a checkout, beside
harness/. A wheel carries them inside the package, under harness/_data/ (the
force-include table in pyproject.toml). This module is the only one that knows
either layout; everything else asks it.

Firmware builds (and the reference cache beside them) go to build/ in a checkout
and to the user's cache folder when installed, never into site-packages;
HARNESS_BUILD_DIR overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_WHEEL_DATA = PACKAGE_DIR / "_data"


def _checkout() -> Path | None:
    root = PACKAGE_DIR.parent
    if _WHEEL_DATA.is_dir() or not (root / "pyproject.toml").is_file():
        return None
    return root if (root / "firmware").is_dir() else None


# The repository the harness runs from, or None when it runs from an installed wheel.
CHECKOUT: Path | None = _checkout()
DATA_DIR = CHECKOUT or _WHEEL_DATA
FIRMWARE_DIR = DATA_DIR / "firmware"
TEMPLATES_DIR = DATA_DIR / "templates"
RENODE_DIR = DATA_DIR / "renode"
EXAMPLES_DIR = DATA_DIR / "examples"
EXAMPLE_MODEL = EXAMPLES_DIR / "example_cnn_int8.tflite"


def user_cache_dir() -> Path:
    """The harness's folder in the user's cache: $XDG_CACHE_HOME/harness or ~/.cache/harness."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "harness"


def build_dir() -> Path:
    """Where firmware builds go: $HARNESS_BUILD_DIR, else build/ in a checkout, else the
    user's cache."""
    if os.environ.get("HARNESS_BUILD_DIR"):
        return Path(os.environ["HARNESS_BUILD_DIR"])
    return CHECKOUT / "build" if CHECKOUT else user_cache_dir() / "build"
