"""The console's closing lines (harness/report/console.py): by default the answer only, the
verdict, one line per attribution part with drift, the enforced row, the results path;
-v/--verbose adds the table of every pair. No line is wider than 100 columns."""

from __future__ import annotations

import pytest
from rich.text import Text

from harness import cli
from harness.config import from_options
from harness.report.console import WIDTH, Console, wrap
from support.results import make_results

# make_results(): a DRIFT at 2 LSB against litert-ref, first at op 5 FULLY_CONNECTED (single
# rounding); quantization drifts by 1 LSB with no per-layer data for it; the kernel
# implementation part was not measured (no litert); the quantization analysis warns that
# random vectors clip op 5. Written from the line list.
DEFAULT = [
    "DRIFT: device vs litert-ref [StatefulPartitionedCall_1:0]: 4/40 elements differ, max |d| 2 "
    "LSB",
    "  (tolerance 0)",
    "  quantization: 1 LSB (first op: run with --per-layer), cause: none identified",
    "  platform (litert-ref -> device): 2 LSB from op 5 FULLY_CONNECTED, cause: double vs single "
    "rounding",
    "  warning: random vectors clip 31% of op 5 FULLY_CONNECTED's output; use --inputs with real "
    "data",
    "  enforced: device vs litert-ref [StatefulPartitionedCall_1:0]: max |d| 2 LSB, tolerance 0: "
    "FAIL",
    "results: runs/x_example_cnn_int8_stm32f4/results.json (also junit.xml, report.html)",
]


def _printed(capsys: pytest.CaptureFixture, res: dict | None = None, **kw: bool) -> list[str]:
    Console(**kw).summary(make_results() if res is None else res)
    return capsys.readouterr().out.splitlines()


def test_default_summary_is_the_answer(capsys: pytest.CaptureFixture) -> None:
    assert WIDTH == 100
    lines = _printed(capsys)
    assert lines == DEFAULT
    assert max(map(len, lines)) <= WIDTH


def test_verbose_adds_every_pair_before_the_answer(capsys: pytest.CaptureFixture) -> None:
    lines = _printed(capsys, verbose=True)
    assert lines[-len(DEFAULT):] == DEFAULT
    table = "\n".join(lines[:-len(DEFAULT)])
    assert table.startswith("every pair, 10 vectors")
    for pair, exact, worst, tol, check in (
            ("device vs litert-ref", "90.00%", "2 LSB", "0", "FAIL"),
            ("device vs numpy-float", "75.00%", "3 LSB", "-", "reported"),
            ("litert-ref vs numpy-float", "100.00%", "0 LSB", "-", "reported")):
        (row,) = [row for row in lines if f"│ {pair} " in row]
        assert [exact, worst, tol, check] == [c.strip() for c in row.split("│")[3:7]], row
    assert "  tflm-host unavailable: tflite_micro has no <SOFTMAX> int16 & co" in lines
    assert max(map(len, lines)) <= WIDTH


def test_quiet_prints_nothing(capsys: pytest.CaptureFixture) -> None:
    assert _printed(capsys, quiet=True, verbose=True) == []


def test_every_enforced_output_gets_a_row_up_to_three(capsys: pytest.CaptureFixture) -> None:
    res = make_results()
    first = res["comparisons"][0]
    res["comparisons"] = [{**first, "output": f"out{k}", "max_abs_lsb": 0, "passed": True,
                           "exact_rate": 1.0} for k in range(5)]
    lines = _printed(capsys, res)
    rows = [line for line in lines if line.startswith("  enforced")]
    assert rows == [f"  enforced: device vs litert-ref [out{k}]: 100.00% exact, max |d| 0 LSB, "
                    "tolerance 0: ok" for k in range(3)]
    assert "  ... and 2 more enforced outputs (-v lists every pair)" in lines


def test_names_that_look_like_markup_are_printed_as_they_are(
        capsys: pytest.CaptureFixture) -> None:
    res = make_results(attribution=None)
    res["comparisons"] = [{**res["comparisons"][0], "output": "[out/0]"}]
    res["verdict"]["reason"] = "device vs litert-ref [bold]: see [/x]"
    lines = _printed(capsys, res)
    assert lines[0] == "DRIFT: device vs litert-ref [bold]: see [/x]"
    assert lines[1].startswith("  enforced: device vs litert-ref [[out/0]]: ")


def test_without_a_verdict_or_comparisons_it_still_ends_with_the_path(
        capsys: pytest.CaptureFixture) -> None:
    lines = _printed(capsys, {"run_dir": "/elsewhere/run", "comparisons": [],
                              "verdict": {"status": "ERROR", "reason": "no compiler"}})
    assert lines == ["ERROR: no compiler",
                     "results: /elsewhere/run/results.json (also junit.xml, report.html)"]
    deep = "/" + "d" * 120  # a path wider than the line stays whole, after its label
    lines = _printed(capsys, {"run_dir": deep, "verdict": {"status": "ERROR", "reason": "x"}})
    assert lines[-1] == f"results: {deep}/results.json"


def test_wrap_keeps_words_colours_and_a_hanging_indent() -> None:
    words = [f"word{k}" for k in range(60)]
    text = Text.from_markup("  [red]" + " ".join(words) + "[/] /a/path/" + "x" * 120)
    lines = wrap(text, WIDTH)
    plain = [line.plain for line in lines]
    assert all(len(p) <= WIDTH for p in plain[:-1]) and plain[-1].startswith("    /a/path/")
    assert all(p.startswith("    ") and not p.startswith("     ") for p in plain[1:])
    assert " ".join(" ".join(plain).split()) == " ".join(text.plain.split())
    assert all(any(span.style == "red" for span in line.spans) for line in lines[:-1])
    assert wrap(Text("short"), WIDTH)[0].plain == "short"


def test_verbose_is_an_option_with_a_short_flag_and_an_invoke_yaml_setting() -> None:
    (run_parser,) = [a for a in cli.build_parser()._actions if a.dest == "command"]
    assert run_parser.choices["run"].parse_args(["-v"]).verbose is True
    assert run_parser.choices["run"].parse_args(["--verbose"]).verbose is True
    assert from_options({}, {"verbose": True}).verbose is True
    assert from_options({}).verbose is False


def test_an_output_without_a_name_is_called_so(capsys: pytest.CaptureFixture) -> None:
    # keyword_scrambled_8bit's converter left its output tensor's name empty.
    res = make_results(attribution=None)
    res["comparisons"] = [{**res["comparisons"][0], "output": ""}]
    lines = _printed(capsys, res)
    assert any(ln.startswith("  enforced: device vs litert-ref [unnamed output]: ")
               for ln in lines), lines
