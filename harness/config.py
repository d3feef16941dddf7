"""Run configuration: every option of a run, declared once.

`RunConfig`'s fields are the declarations: each one carries its flag, help, parser and
check (`option(...)`), and `OPTIONS` is read from them. The command line (cli.py),
`invoke run` (tasks.py), the Robot keyword (robot.py), results.json's `config` and
`--resume` are all generated from `OPTIONS`.

Layers, lowest first: the declared default < invoke.yaml's `harness:` section (options
marked `yaml`) < $TFLM_DIR (read when the runtime is resolved, `resolve_runtime`) < what
the caller gave (command line, task or keyword arguments). A front end passes None (or
False for a switch) for an option it was not given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from harness.device.backends.registry import DEFAULT_EMULATOR
from harness.errors import BadInput
from harness.runtimes.tflm.tree import configured_dir
from harness.targets.table import DEFAULT_TARGET

ROUNDINGS = ("double", "single")
CLOCKS = ("reset", "max")
KERNELS = ("reference", "cmsis-nn")
DEFAULT_REFERENCES = ("litert-ref", "litert", "tflm-host", "numpy-int8", "numpy-float")

Parse = Callable[[Any, str], Any]  # (value given, its flag) -> value; BadInput when wrong
Check = Callable[[Any, str], None]  # (parsed value, its flag) -> None; BadInput when wrong


def example_model() -> Path:
    """The bundled example CNN: the model when none is given."""
    from harness.resources import EXAMPLE_MODEL

    return EXAMPLE_MODEL


# ---- parsers: text (command line), YAML or Python values -> the field's type -----------


def _bad(flag: str, what: str, value: Any) -> BadInput:
    return BadInput(f"{flag} must be {what}, not {value!r}")


def _text(value: Any, flag: str) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    raise _bad(flag, "a word", value)


def _path(value: Any, flag: str) -> Path:
    if isinstance(value, (str, os.PathLike)):
        return Path(value)
    raise _bad(flag, "a path", value)


def _whole(value: Any, flag: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _bad(flag, "a whole number", value)


def _number(value: Any, flag: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _bad(flag, "a number", value)
    try:
        return float(value)
    except ValueError:
        raise _bad(flag, "a number", value) from None


def _switch(value: Any, flag: str) -> bool:
    words = {"true": True, "yes": True, "on": True, "1": True,
             "false": False, "no": False, "off": False, "0": False}
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in words:
        return words[value.strip().lower()]
    raise _bad(flag, "true or false", value)


def _names(value: Any, flag: str) -> list[str]:
    """'a,b' or ['a', 'b'] -> ['a', 'b']."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [_text(v, flag) for v in value]
    raise _bad(flag, "comma-separated names", value)


def parse_tolerances(value: Any, flag: str = "--tolerance") -> dict[str, int]:
    """'litert=2,litert-ref=0' (or {'litert': 2}) -> {'litert': 2, 'litert-ref': 0}."""
    if isinstance(value, Mapping):
        parts = [f"{name}={lsb}" for name, lsb in value.items()]
    elif isinstance(value, str):
        parts = [p for p in value.split(",") if p.strip()]
    else:
        raise _bad(flag, "NAME=LSB entries", value)
    out: dict[str, int] = {}
    for part in parts:
        name, sep, lsb = part.partition("=")
        if not sep or not name.strip() or not lsb.strip().isdigit():
            raise BadInput(f"bad {flag} entry {part!r}", hint="use NAME=LSB, e.g. litert=2")
        out[name.strip()] = int(lsb)
    return out


PARSERS: dict[type, Parse] = {str: _text, Path: _path, int: _whole, float: _number,
                              bool: _switch, list: _names}


# ---- checks: values that parse but are not allowed ------------------------------------


def one_of(choices: tuple[str, ...], wrong: str, hint: str | None = None) -> Check:
    """A check for a closed set; `wrong` is formatted with the value (and flag)."""

    def check(value: Any, flag: str) -> None:
        if value not in choices:
            raise BadInput(wrong.format(value=value, flag=flag), hint=hint)

    check.choices = choices  # type: ignore[attr-defined]  # read by Option.choices
    return check


def at_least(low: int) -> Check:
    """A check for numbers >= `low`."""

    def check(value: float, flag: str) -> None:
        if not value >= low:
            raise BadInput(f"{flag} must be at least {low}, not {value}")

    return check


def more_than(low: float) -> Check:
    """A check for numbers > `low`."""

    def check(value: float, flag: str) -> None:
        if not value > low:
            raise BadInput(f"{flag} must be more than {low:g}, not {value:g}")

    return check


def _known_references(names: list[str], flag: str) -> None:
    from harness.references import REFERENCES  # the reference modules load numpy, LiteRT

    unknown = [r for r in names if r not in REFERENCES]
    if unknown:
        raise BadInput(f"unknown reference(s): {', '.join(unknown)}",
                       hint=f"choose from {', '.join(REFERENCES)}")


def _known_tolerances(tolerances: dict[str, int], flag: str) -> None:
    from harness.references import REFERENCES

    unknown = [r for r in tolerances if r not in REFERENCES]
    if unknown:
        raise BadInput(f"{flag} names unknown reference(s): {', '.join(unknown)}",
                       hint=f"choose from {', '.join(REFERENCES)}")


def _tolerances_run(cfg: RunConfig, names: Iterable[str]) -> None:
    """A tolerance given for this run must name a reference this run runs."""
    running = [*cfg.references, *(["float-model"] if cfg.float_model else [])]
    idle = [n for n in names if n not in running]
    if idle:
        raise BadInput(f"--tolerance names {', '.join(idle)}, which this run does not run "
                       f"(--references {','.join(running)})",
                       hint="add it to --references, or drop its tolerance")


def _known_runtime(name: str, flag: str) -> None:
    from harness.runtimes.registry import RUNTIMES  # the runtimes load the ops and jinja2

    choices = ("auto", *RUNTIMES)
    if name not in choices:
        raise BadInput(f"unknown runtime {name!r}", hint=f"choose one of {choices}")


def _known_emulator(name: str, flag: str) -> None:
    from harness.device.backends import emulators  # the backends register themselves

    if name not in emulators():
        raise BadInput(f"{flag} must be {' or '.join(emulators())}, not {name!r}")


def _check_together(cfg: RunConfig) -> None:
    """The rules between options."""
    if cfg.emulator == "renode" and cfg.port:
        raise BadInput("--emulator renode and --port exclude each other")
    if cfg.flash and not cfg.port:
        raise BadInput("--flash needs --port (the board's serial port)")
    if cfg.kernels != "reference" and cfg.runtime == "builtin":
        raise BadInput(f"--kernels {cfg.kernels} needs --runtime tflm (the builtin runtime "
                       "runs its own kernels)")


# ---- the declaration ---------------------------------------------------------------------

_META = "harness.option"


def option(default: Any = MISSING, help: str = "", *, factory: Callable[[], Any] | None = None,
           flag: str | None = None, command_line: bool = True, parse: Parse | None = None,
           check: Check | None = None, recorded: bool = True, yaml: bool | str = False,
           merge: bool = False, shown: str | None = None, metavar: str | None = None,
           short: str | None = None) -> Any:
    """Declare a RunConfig field as a run option.

    `flag` defaults to --<name>; `command_line=False` makes a setting that only invoke.yaml
    sets. `parse` defaults to the field type's parser (PARSERS). `recorded` options change
    the results: results.json's `config` holds them and --resume restores them. `yaml`
    lets invoke.yaml's `harness:` section set it (True: under the field's name). `merge`:
    a dict given over invoke.yaml's merges entry by entry. `shown` is the default in help.
    `short` is a one-letter flag for `harness run` (invoke picks its own short flags).
    """
    meta = {_META: dict(help=help, flag=flag, command_line=command_line, parse=parse,
                        check=check, recorded=recorded, yaml=yaml, merge=merge, shown=shown,
                        metavar=metavar, short=short)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class RunConfig:
    """One run's configuration; every field is a run option (see `option`).

    The order of the fields is the order of the options in help texts and of `invoke
    run`'s short flags (-m, -t, -r, ...): add new ones at the end.
    """

    model: Path = option(factory=example_model, help="the .tflite to check",
                         shown="the bundled example CNN")
    target: str = option(DEFAULT_TARGET, "target (or board) from the target table")
    runtime: str = option("auto", "on-target runtime: builtin, tflm, or auto (tflm when a "
                          "TFLM tree is configured)",
                          check=_known_runtime)
    tflm_dir: Path | None = option(None, "TFLite Micro source tree for the tflm runtime (else "
                                   "$TFLM_DIR, else invoke.yaml)")
    vectors: int = option(10, "number of seeded random input vectors", check=at_least(1))
    seed: int = option(0, "seed for the random vectors", check=at_least(0))
    inputs: Path | None = option(None, "input vectors from a .npy/.npz file, or a folder of "
                                 ".npy files (one vector each), instead")
    references: list[str] = option(
        factory=lambda: list(DEFAULT_REFERENCES), yaml=True, check=_known_references,
        help="comma-separated desktop references: litert-ref, litert, tflm-host, numpy-int8, "
             "numpy-float (float-model is added by --float-model)")
    tolerances: dict[str, int] = option(
        factory=dict, flag="--tolerance", parse=parse_tolerances, yaml=True, merge=True,
        check=_known_tolerances,
        help="per-reference LSB tolerance, e.g. litert=2,litert-ref=0 (own reference default 0)")
    float_model: Path | None = option(None, "the float .tflite of the same network, for the "
                                      "end-to-end quantization error")
    per_layer: bool = option(False, "read every intermediate tensor and name the first "
                             "diverging op")
    profile: bool = option(False, "count cycles (instructions under QEMU) per op on the device")
    port: str | None = option(None, "a real board's serial port or URL (/dev/ttyACM0, "
                              "socket://host:port, rfc2217://...), or auto: the one debug "
                              "probe plugged in")
    flash: str | None = option(None, "flash the board first with pyocd, openocd, st-flash or "
                               "nrfjprog")
    resume: Path | None = option(None, "finish a run folder that died, keeping the vectors "
                                 "it measured", recorded=False, metavar="RUN_DIR")
    emulator: str = option(DEFAULT_EMULATOR, "emulator when there is no --port: qemu or renode",
                           check=_known_emulator)
    baud: int = option(115200, "serial baud rate", check=at_least(1))
    runs_dir: Path = option(Path("runs"), "folder for run folders", recorded=False)
    timeout: float = option(60.0, "seconds one inference may take on the device",
                            check=more_than(0))
    rounding: str = option("double", "requantization rounding built into builtin kernels: "
                           "double (TFLite) or single",
                           check=one_of(ROUNDINGS,
                                        "--rounding must be 'double' or 'single', not {value!r}"))
    quiet: bool = option(False, "print errors only", recorded=False)
    # invoke.yaml's harness.tflm_dir: kept apart from tflm_dir because $TFLM_DIR comes
    # between the two (resolve_runtime names where the tree came from).
    tflm_config_dir: Path | None = option(None, "TFLite Micro tree from invoke.yaml",
                                          command_line=False, yaml="tflm_dir", recorded=False)
    verbose: bool = option(False, "also print the table of every compared pair at the end",
                           recorded=False, yaml=True, short="-v")
    board: str | None = option(None, "the real board to build for (its target's data with "
                               "the board's pins, clocks and memory): a [board.*] entry of "
                               "targets.toml; an unknown name lists them")
    clock: str = option("reset", "core clock: reset (as out of reset, no PLL) or max (the "
                        "board's documented maximum; falls back to reset if the PLL does "
                        "not lock)",
                        check=one_of(CLOCKS, "--clock must be 'reset' or 'max', not {value!r}"))
    place: str | None = option(None, "a labgrid place to run on: acquired through the "
                               "coordinator, its serial port used as --port, released at the "
                               "end (needs the [farm] extra)")
    coordinator: str | None = option(None, "the labgrid coordinator's HOST:PORT for --place",
                                     shown="$LG_COORDINATOR, else 127.0.0.1:20408",
                                     recorded=False)
    kernels: str = option("reference", "TFLM kernels for --runtime tflm: reference, or cmsis-nn "
                          "(Arm's optimized kernels, from --cmsis-nn-dir and --cmsis-dir)",
                          yaml=True, check=one_of(KERNELS, "--kernels must be 'reference' or "
                                                  "'cmsis-nn', not {value!r}"))
    cmsis_nn_dir: Path | None = option(None, "CMSIS-NN source tree for --kernels cmsis-nn (else "
                                       "$CMSIS_NN_DIR, else invoke.yaml)")
    cmsis_dir: Path | None = option(None, "CMSIS_6 source tree (CMSIS Core headers) for "
                                    "--kernels cmsis-nn (else $CMSIS_DIR, else invoke.yaml)")
    # invoke.yaml's harness.cmsis_nn_dir / cmsis_dir: apart, as tflm_config_dir is.
    cmsis_nn_config_dir: Path | None = option(None, "CMSIS-NN tree from invoke.yaml",
                                              command_line=False, yaml="cmsis_nn_dir",
                                              recorded=False)
    cmsis_config_dir: Path | None = option(None, "CMSIS_6 tree from invoke.yaml",
                                           command_line=False, yaml="cmsis_dir", recorded=False)

    def __post_init__(self) -> None:
        for opt in OPTIONS:
            value = getattr(self, opt.name)
            if value is not None and opt.check is not None:
                opt.check(value, opt.label)
        _check_together(self)

    def record(self) -> dict[str, Any]:
        """The options that change results, JSON-ready: results.json's `config`."""
        return {o.name: _plain(getattr(self, o.name)) for o in OPTIONS if o.recorded}

    def restore(self, recorded: Mapping[str, Any]) -> RunConfig:
        """This config with every recorded option that `recorded` (a `record()`) holds."""
        return replace(self, **{o.name: o.read(recorded[o.name]) for o in OPTIONS
                                if o.recorded and o.name in recorded})


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return dict(value) if isinstance(value, Mapping) else value


@dataclass(frozen=True)
class Option:
    """One run option, read from its RunConfig field."""

    name: str  # the RunConfig field; also the Robot argument and results.json's config key
    flag: str | None  # on the command line; None: invoke.yaml only
    help: str
    type: type  # the field's type without None: int, str, Path, list, dict, ...
    optional: bool  # None is a value (no path, no port)
    parse: Parse
    check: Check | None
    recorded: bool
    yaml: str | None  # its key under invoke.yaml's `harness:`
    merge: bool
    shown: str | None
    metavar: str  # the value's name in help: TOLERANCE, RUN_DIR
    short: str | None  # `harness run`'s one-letter flag, if any: -v
    field: Field

    @property
    def default(self) -> Any:
        f = self.field
        return f.default_factory() if f.default is MISSING else f.default  # type: ignore[misc]

    @property
    def switch(self) -> bool:
        """A flag without a value (store_true)."""
        return self.type is bool

    @property
    def unset(self) -> bool | None:
        """What a front end passes when the option was not given."""
        return False if self.switch else None

    @property
    def param(self) -> str:
        """The flag as a Python name: `invoke run`'s parameter (--tolerance -> tolerance)."""
        return (self.flag or self.name).removeprefix("--").replace("-", "_")

    @property
    def label(self) -> str:
        """How messages name it."""
        return self.flag or f"invoke.yaml harness.{self.yaml}"

    @property
    def choices(self) -> tuple[str, ...] | None:
        return getattr(self.check, "choices", None)

    @property
    def help_text(self) -> str:
        """The help line every front end shows, with the default."""
        if self.shown is not None:
            return f"{self.help} (default: {self.shown})"
        default = self.default
        if default is None or default is False or default == {} or default == []:
            return self.help
        if isinstance(default, list):
            default = ",".join(default)
        return f"{self.help} (default: {default:g})" if isinstance(default, float) else (
            f"{self.help} (default: {default})")

    def read(self, value: Any) -> Any:
        """A given value (text, YAML or Python) parsed and checked."""
        if value is None and self.optional:
            return None
        value = self.parse(value, self.label)
        if self.check is not None:
            self.check(value, self.label)
        return value


def _option(f: Field, hint: Any) -> Option:
    meta = dict(f.metadata[_META])
    optional = get_origin(hint) in (Union, UnionType) and type(None) in get_args(hint)
    inner = next(a for a in get_args(hint) if a is not type(None)) if optional else hint
    base = get_origin(inner) or inner  # list[str] -> list
    yaml = meta.pop("yaml")
    flag = meta.pop("flag") or "--" + f.name.replace("_", "-")
    meta["metavar"] = meta["metavar"] or flag.removeprefix("--").replace("-", "_").upper()
    return Option(name=f.name, flag=flag if meta.pop("command_line") else None, type=base,
                  optional=optional, parse=meta.pop("parse") or PARSERS[base],
                  yaml=f.name if yaml is True else (yaml or None), field=f, **meta)


def declared(cls: type) -> tuple[Option, ...]:
    """The options a dataclass declares with `option(...)`, in field order (RunConfig's
    here; the matrix declares its own the same way, harness/matrix/options.py)."""
    hints = get_type_hints(cls)
    return tuple(_option(f, hints[f.name]) for f in fields(cls))


OPTIONS: tuple[Option, ...] = declared(RunConfig)
BY_NAME = {o.name: o for o in OPTIONS}
COMMAND_LINE = tuple(o for o in OPTIONS if o.flag)  # what the CLI, invoke and Robot take
assert all(o.default is False for o in OPTIONS if o.switch), "a switch can only turn on"


# ---- the layers --------------------------------------------------------------------------


def project_settings(section: Any) -> dict[str, Any]:
    """invoke.yaml's `harness:` section, parsed and checked: {field: value}."""
    if not section:
        return {}
    if not hasattr(section, "items"):
        raise BadInput(f"invoke.yaml: harness must be a mapping of settings, not {section!r}")
    settable = {o.yaml: o for o in OPTIONS if o.yaml}
    out = {}
    for key, value in section.items():
        opt = settable.get(key)
        if opt is None:
            raise BadInput(f"invoke.yaml: harness.{key} is not a setting",
                           hint=f"invoke.yaml may set {', '.join(settable)}")
        if value is None or value == "":
            continue
        try:
            out[opt.name] = opt.read(value)
        except BadInput as exc:
            raise BadInput(f"invoke.yaml harness.{key}: {exc}", hint=exc.hint) from None
    return out


def given_names(given: Mapping[str, Any]) -> frozenset[str]:
    """The options a front end was given (None, '' or False: not given)."""
    return frozenset(name for name, raw in given.items() if not (
        raw is None or raw is False or (isinstance(raw, str) and not raw.strip())))


def from_options(given: Mapping[str, Any], project: Any = None) -> RunConfig:
    """RunConfig from what a front end was given (by field name; None, '' or False: not
    given) over invoke.yaml's `harness:` section (`project`) over the declared defaults.

    A tolerance given here must name a reference the run runs; invoke.yaml's may name
    others (a project's tolerances hold for every run of it)."""
    unknown = sorted(set(given) - set(BY_NAME))
    if unknown:
        raise TypeError(f"not run options: {', '.join(unknown)}")
    values = project_settings(project)
    names = given_names(given)
    read = {name: BY_NAME[name].read(raw) for name, raw in given.items() if name in names}
    for name, value in read.items():
        merge = BY_NAME[name].merge and name in values
        values[name] = {**values[name], **value} if merge else value
    cfg = RunConfig(**values)
    _tolerances_run(cfg, read.get("tolerances", {}))
    return cfg


def resolve_runtime(cfg: RunConfig) -> tuple[RunConfig, str]:
    """Pick the runtime for `auto` (tflm when a tree is configured, or for --kernels
    cmsis-nn) and say why; the trees that were configured outside the command line
    are filled in, so that results.json records them."""
    found = configured_dir(cfg.tflm_dir, cfg.tflm_config_dir)
    if cfg.runtime == "auto" and cfg.kernels != "reference":
        cfg = replace(cfg, runtime="tflm", tflm_dir=found[0] if found else None)
        return _cmsis_dirs(cfg), f"--kernels {cfg.kernels} runs on TFLite Micro"
    if cfg.runtime == "tflm" and found is not None and cfg.tflm_dir is None:
        cfg = replace(cfg, tflm_dir=found[0])
    if cfg.runtime != "auto":
        return _cmsis_dirs(cfg), "asked for with --runtime"
    if found is None:
        return replace(cfg, runtime="builtin"), ("no TFLM tree configured (--tflm-dir, "
                                                 "TFLM_DIR or invoke.yaml harness.tflm_dir)")
    return (replace(cfg, runtime="tflm", tflm_dir=found[0]),
            f"a TFLM tree is configured ({found[1]}={found[0]})")


def _cmsis_dirs(cfg: RunConfig) -> RunConfig:
    """--kernels cmsis-nn: the CMSIS trees from $CMSIS_NN_DIR / $CMSIS_DIR or invoke.yaml."""
    if cfg.runtime != "tflm" or cfg.kernels != "cmsis-nn":
        return cfg
    nn = configured_dir(cfg.cmsis_nn_dir, cfg.cmsis_nn_config_dir, env="CMSIS_NN_DIR")
    core = configured_dir(cfg.cmsis_dir, cfg.cmsis_config_dir, env="CMSIS_DIR")
    return replace(cfg, cmsis_nn_dir=nn[0] if nn else None, cmsis_dir=core[0] if core else None)
