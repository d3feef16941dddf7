"""Command line: `harness run ...` has the same options as `invoke run`.

Errors print one line (`error: ...`) and exit with a distinct code; a
traceback goes to a log file, never to the terminal.
"""

from __future__ import annotations

import argparse
import errno
import sys
import tempfile
import traceback
from pathlib import Path

from harness.errors import BadInput, ExitCode, HarnessError

DEFAULT_REFERENCES = "litert-ref,litert,tflm-host,numpy-int8,numpy-float"

# (flag, dest, type, default, help) — shared with tasks.py so both stay in step.
RUN_OPTIONS: list[tuple[str, str, type, object, str]] = [
    ("--model", "model", str, None, "the .tflite to check (default: the bundled example CNN)"),
    ("--target", "target", str, "stm32f4", "target from the target table (default stm32f4)"),
    ("--runtime", "runtime", str, "auto",
     "on-target runtime: builtin, tflm, or auto (tflm when a TFLM tree is configured)"),
    ("--tflm-dir", "tflm_dir", str, None,
     "TFLite Micro source tree for the tflm runtime (else $TFLM_DIR, else invoke.yaml)"),
    ("--vectors", "vectors", int, 10, "number of seeded random input vectors"),
    ("--seed", "seed", int, 0, "seed for the random vectors"),
    ("--inputs", "inputs", str, None, "input vectors from a .npy/.npz file instead"),
    (
        "--references",
        "references",
        str,
        DEFAULT_REFERENCES,
        "comma-separated desktop references: litert-ref, litert, tflm-host, numpy-int8, "
        "numpy-float (float-model is added by --float-model)",
    ),
    (
        "--float-model",
        "float_model",
        str,
        None,
        "the float .tflite of the same network, for the end-to-end quantization error",
    ),
    (
        "--tolerance",
        "tolerance",
        str,
        None,
        "per-reference LSB tolerance, e.g. litert=2,litert-ref=0 (own reference default 0)",
    ),
    (
        "--port",
        "port",
        str,
        None,
        "a real board's serial port or URL (/dev/ttyACM0, socket://host:port, rfc2217://...)",
    ),
    ("--emulator", "emulator", str, "qemu", "emulator when there is no --port: qemu or renode"),
    ("--flash", "flash", str, None, "flash the board first with pyocd, openocd or st-flash"),
    ("--baud", "baud", int, 115200, "serial baud rate"),
    ("--runs-dir", "runs_dir", str, "runs", "folder for run folders"),
    ("--timeout", "timeout", float, 60.0, "seconds one inference may take on the device"),
    (
        "--rounding",
        "rounding",
        str,
        "double",
        "requantization rounding built into builtin kernels: double (TFLite) or single",
    ),
]


def parse_tolerances(text: str | None) -> dict[str, int]:
    """'litert=2,litert-ref=0' -> {'litert': 2, 'litert-ref': 0}."""
    out: dict[str, int] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not value.strip().isdigit():
            raise BadInput(f"bad --tolerance entry {part!r}", hint="use NAME=LSB, e.g. litert=2")
        out[name.strip()] = int(value)
    return out


def make_config(opts: dict) -> object:
    """Turn parsed options (CLI or invoke) into a RunConfig."""
    from harness.run.pipeline import EXAMPLE_MODEL, RunConfig

    refs = [r.strip() for r in str(opts.get("references") or "").split(",") if r.strip()]
    return RunConfig(
        model=Path(opts["model"]) if opts.get("model") else EXAMPLE_MODEL,
        target=opts["target"],
        runtime=opts["runtime"],
        tflm_dir=Path(opts["tflm_dir"]) if opts.get("tflm_dir") else None,
        tflm_config_dir=Path(opts["tflm_config_dir"]) if opts.get("tflm_config_dir") else None,
        vectors=int(opts["vectors"]),
        seed=int(opts["seed"]),
        inputs=Path(opts["inputs"]) if opts.get("inputs") else None,
        references=refs,
        tolerances=parse_tolerances(opts.get("tolerance")),
        port=opts.get("port"),
        flash=opts.get("flash"),
        baud=int(opts["baud"]),
        runs_dir=Path(opts["runs_dir"]),
        timeout=float(opts["timeout"]),
        rounding=opts["rounding"],
        per_layer=bool(opts.get("per_layer")),
        profile=bool(opts.get("profile")),
        float_model=Path(opts["float_model"]) if opts.get("float_model") else None,
        resume=Path(opts["resume"]) if opts.get("resume") else None,
        emulator=opts.get("emulator") or "qemu",
        quiet=bool(opts.get("quiet")),
    )


def run_with_exit_code(opts: dict) -> int:
    """Run and map every outcome to an exit code, printing one line on errors."""
    try:
        from harness.run.pipeline import run

        res = run(make_config(opts))
        return int(res["verdict"]["exit_code"])
    except HarnessError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return int(exc.code)
    except KeyboardInterrupt:
        print("error: interrupted; partial results are in the run folder", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except OSError as exc:  # before the run folder exists (pipeline handles it after)
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return _internal(exc)
        print(f"error: no space left writing {exc.filename or 'a file'} ({exc.strerror})",
              file=sys.stderr)
        return int(ExitCode.DISK_FULL)
    except Exception as exc:  # a bug: keep the traceback, show one line
        return _internal(exc)


def _internal(exc: BaseException) -> int:
    log = Path(tempfile.gettempdir()) / "harness-crash.log"
    log.write_text(traceback.format_exc())
    print(f"error: internal error {type(exc).__name__}: {exc} (traceback: {log})",
          file=sys.stderr)
    return int(ExitCode.INTERNAL)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="cross-check a model on a target")
    for flag, dest, typ, default, text in RUN_OPTIONS:
        run_p.add_argument(flag, dest=dest, type=typ, default=default, help=text)
    run_p.add_argument(
        "--per-layer",
        dest="per_layer",
        action="store_true",
        help="read every intermediate tensor and name the first diverging op",
    )
    run_p.add_argument("--profile", action="store_true",
                       help="count cycles (instructions under QEMU) per op on the device")
    run_p.add_argument("--resume", metavar="RUN_DIR", default=None,
                       help="finish a run that died, keeping the vectors it measured")
    run_p.add_argument("--quiet", action="store_true", help="print errors only")
    args = ap.parse_args(argv)
    return run_with_exit_code(vars(args))


if __name__ == "__main__":
    sys.exit(main())
