"""Headless Chromium for the report tests: run it on a page, and measure a page's layout
at a given window size (with a screenshot of the same window)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

# Appended to a copy of the page: after load, write what the layout tests read into a
# <pre id="layout-probe"> that --dump-dom prints. Rectangles are in CSS pixels of the
# viewport, the page scrolled to the top.
PROBE = """<script>
window.addEventListener("load", function () {
  function rect(el) {
    if (!el) { return null; }
    var r = el.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width,
            height: r.height};
  }
  var root = document.documentElement, plot = document.querySelector("img.plot");
  var out = {
    viewport: [window.innerWidth, window.innerHeight],
    page_width: root.scrollWidth, client_width: root.clientWidth,
    verdict: rect(document.getElementById("verdict")),
    reason: rect(document.getElementById("verdict-reason")),
    summary: rect(document.getElementById("attribution-summary")),
    first_plot: rect(plot), first_plot_id: plot ? plot.id : null,
    sections: Array.from(document.querySelectorAll("body > section")).map(function (s) {
      return s.id; }),
    tables: Array.from(document.querySelectorAll("table")).map(function (t) {
      var box = t.closest(".box"), shown = rect(box || t);
      return {id: t.id, in_box: !!box, right: shown.right, width: shown.width,
              scrolls: box ? box.scrollWidth > box.clientWidth : false}; }),
    open_details: Array.from(document.querySelectorAll("details[open]")).map(function (d) {
      return d.id || d.querySelector("summary").textContent; })
  };
  var pre = document.createElement("pre");
  pre.id = "layout-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def need_chromium() -> None:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("install Debian's chromium package (scripts/bootstrap.sh does)")


def chromium(html: Path, profile: Path, *args: str) -> tuple[int, str, str]:
    """Run headless Chromium on `html` in its own process group; kill the whole group on a
    hang."""
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
           *args, html.as_uri()]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"chromium hung: {err[-2000:]}")
    return proc.returncode, out, err


@dataclass
class Layout:
    """What the probe measured, and the screenshot of the same window."""

    probe: dict
    screenshot: Path


def measure(page: Path, width: int, height: int, work: Path) -> Layout:
    """Open a probed copy of `page` in a `width` x `height` window: measure and screenshot."""
    probed = work / f"probed-{width}x{height}.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                      encoding="utf-8")
    shot = work / f"shot-{width}x{height}.png"
    code, dom, err = chromium(probed, work / f"profile-{width}", f"--window-size={width},{height}",
                              "--hide-scrollbars", f"--screenshot={shot}", "--dump-dom")
    assert code == 0, err[-2000:]
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', dom, re.S)
    assert found, "the layout probe did not run: " + err[-2000:]
    text = found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
    return Layout(json.loads(text.replace("&amp;", "&")), shot)
