"""The Robot Framework suite (tests/robot/cross_check.robot) passes under plain `robot`."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from support.paths import ROOT

SUITE = ROOT / "tests" / "robot" / "cross_check.robot"


def test_robot_suite_cross_checks_example_in_qemu(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "robot", "--outputdir", str(tmp_path), "--console", "dotted",
         str(SUITE)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    root = ET.parse(tmp_path / "output.xml").getroot()
    tests = root.findall(".//test")
    assert [t.get("name") for t in tests] == [
        "Example Model Is Bit Exact Against LiteRT On stm32f4"]
    assert tests[0].find("status").get("status") == "PASS"
    total = root.find("./statistics/total/stat")
    assert (total.get("pass"), total.get("fail")) == ("1", "0")
    # the run folder went under Robot's output dir
    assert list((tmp_path / "runs").glob("*/results.json"))
