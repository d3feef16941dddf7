"""A real Renode: every target passes bit-exact, counts agree with QEMU's, nothing is left
behind; `invoke renode-test` passes and fails. Skipped where Renode is not installed."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]  # the checkout

NO_RENODE = "Renode not installed: `invoke setup --renode`, or see renode/README.md"
pytestmark = pytest.mark.skipif(shutil.which("renode") is None, reason=NO_RENODE)

# Every target with a Renode platform (README "Renode" table): all but cortex-m55, which
# Renode 1.15 does not model.
PASSING = ["stm32f4", "cortex-m0", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "stm32h7",
           "stm32f7",
           "nrf52840"]


def _run(tmp_path: Path, *args: str) -> dict:
    """`harness run` in a subprocess; the results document."""
    runs = tmp_path / "runs"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--runs-dir", str(runs),
                           "--quiet", *args], capture_output=True, text=True, timeout=600,
                          check=False)
    (doc,) = [json.loads(p.read_text()) for p in runs.glob("*/results.json")]
    doc["exit"] = proc.returncode
    doc["output"] = proc.stdout + proc.stderr
    return doc


def _renode_temp_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("renode-*")}


@pytest.mark.parametrize("target", PASSING)
def test_example_is_bit_exact_under_renode(target: str, tmp_path: Path) -> None:
    before = _renode_temp_folders()
    doc = _run(tmp_path, "--target", target, "--emulator", "renode", "--vectors", "2",
               "--references", "litert-ref")
    assert doc["exit"] == 0, doc["output"]
    assert doc["verdict"]["status"] == "PASS"
    assert doc["device"]["backend"]["name"] == "renode"
    assert doc["device"]["info"]["semihosting"] == "1"  # inputs went into memory, not the UART
    counter = doc["device"]["counter"]
    assert counter["unit"] == "instructions" and counter["median"] > 1_000_000
    run_dir = Path(doc["run_dir"])
    log = (run_dir / "renode.log").read_text()
    assert "There was an error" not in log and "non existing peripheral" not in log
    assert "http" not in log  # no SVD download attempted
    # Renode's temp files stay in the run folder, and nothing is left running.
    assert _renode_temp_folders() <= before
    assert str(run_dir) not in subprocess.run(["ps", "-eo", "args"], capture_output=True,
                                              text=True, check=False).stdout


def test_renode_counts_the_instructions_qemu_counts(tmp_path: Path) -> None:
    # Two independent emulators executing the same firmware (both built with the
    # semihosting input path): Renode's cpu ExecutedInstructions and QEMU's -icount
    # SysTick agree to within the counter reads' own few instructions.
    renode = _run(tmp_path / "r", "--target", "stm32f4", "--emulator", "renode", "--vectors", "2",
                  "--references", "litert-ref")
    qemu = _run(tmp_path / "q", "--target", "stm32f4", "--vectors", "2",
                "--references", "litert-ref")
    assert renode["build"]["build_id"] == qemu["build"]["build_id"]  # the same firmware
    for r, q in zip(renode["device"]["counter"]["per_inference"],
                    qemu["device"]["counter"]["per_inference"], strict=True):
        assert abs(r - q) <= 100, (r, q)


def test_person_detect_is_bit_exact_under_renode(tmp_path: Path) -> None:
    shared = Path(os.environ.get("HARNESS_SHARED_MODELS", ROOT.parent / "shared" / "models"))
    model = shared / "person_detect.tflite"
    if not model.exists():
        pytest.skip(f"person_detect not found at {model}")
    doc = _run(tmp_path, "--model", str(model), "--target", "stm32f4", "--emulator", "renode",
               "--vectors", "2")
    assert doc["exit"] == 0, doc["output"]
    assert doc["verdict"]["status"] == "PASS"


def _renode_test_ready() -> str | None:
    if shutil.which("renode-test") is None:
        return NO_RENODE
    missing = [m for m in ("psutil", "robot") if importlib.util.find_spec(m) is None]
    if missing:
        return f"renode-test needs {', '.join(missing)}: see renode/README.md"
    return None


@pytest.mark.skipif(_renode_test_ready() is not None, reason=str(_renode_test_ready()))
@pytest.mark.parametrize(("extra", "passes"), [([], True),
                                              (["--rounding", "single", "--per-layer"], False)])
def test_invoke_renode_test(extra: list[str], passes: bool) -> None:
    proc = subprocess.run([sys.executable, "-m", "invoke", "renode-test", *extra], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)
    out = proc.stdout + proc.stderr
    assert (proc.returncode == 0) == passes, out[-3000:]
    folder = Path(out.split("suite and results in ", 1)[1].split()[0])
    log = (folder / "results" / "robot_output.xml").read_text()
    assert "Firmware Should Boot And Announce Itself" in log
    if passes:
        assert "verdict PASS" in log
    else:  # the drift is in the Robot log, with the layer it starts at
        assert "verdict is DRIFT, expected PASS" in log and "differs by up to" in log
    shutil.rmtree(folder)
