"""junit.xml and report.html from a real run."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report.html import write_html
from harness.report.junit import write_junit
from support.results import check_junit_structure

# ---------------------------------------------------------------- the real pipeline

def test_reports_from_a_real_run(tmp_path: Path) -> None:
    from harness.config import RunConfig
    from harness.run.pipeline import run

    res = run(RunConfig(vectors=2, runs_dir=tmp_path / "runs", quiet=True)).to_dict()
    folder = Path(res["run_dir"])
    on_disk = json.loads((folder / "results.json").read_text())
    root = check_junit_structure(write_junit(on_disk, folder / "junit.xml"))
    n_refs_down = sum(r["status"] != "ok" for r in on_disk["references"].values())
    assert int(root.get("tests")) >= len(on_disk["comparisons"]) + n_refs_down
    if on_disk["verdict"]["status"] == "PASS":
        assert root.get("failures") == "0" and root.get("errors") == "0"
    html = write_html(res, folder).read_text()
    assert on_disk["model"]["name"] in html and f">{on_disk['verdict']['status']}<" in html
    for n, c in enumerate(on_disk["comparisons"]):
        if c["a"] == "device" and c.get("histogram"):
            assert f'id="plot-hist-{n}"' in html
