"""Which instruction set extensions the linked CMSIS-NN code uses: evidence that the
build took the code paths the target's CPU flags select (MVE on Cortex-M55, the DSP
extension on Cortex-M4/M7/M33, plain C on Cortex-M0/M3).

CMSIS-NN picks its paths at compile time from the compiler's feature macros
(``__ARM_FEATURE_MVE`` -> ARM_MATH_MVEI, ``__ARM_FEATURE_DSP`` -> ARM_MATH_DSP, in
arm_nn_math_types.h), so the linked ELF shows which one was built: its ``arm_*``
functions are disassembled and their instructions counted by class.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

OBJDUMP = "arm-none-eabi-objdump"

# Armv8.1-M MVE: vector instructions on Q registers, and the tail-predicated
# low-overhead loops (Arm ARM for Armv8-M, "MVE instructions" and "Loop and branch
# extension" chapters).
_MVE_LOOPS = {"dlstp", "wlstp", "letp", "lctp", "vctp", "vpst", "vpt", "vpnot", "vpsel"}
_QREG = re.compile(r"\bq[0-7]\b")
# The Armv7E-M DSP extension (Arm ARM for Armv7-M, A4.4.x: packed halfword/byte SIMD,
# saturating arithmetic, signed multiply-accumulates on halfwords).
_DSP = {"smlad", "smladx", "smlsd", "smlsdx", "smuad", "smuadx", "smusd", "smusdx",
        "smlald", "smlaldx", "smlsld", "smlsldx", "sxtb16", "sxtab16", "uxtb16", "uxtab16",
        "sadd16", "ssub16", "sadd8", "ssub8", "sasx", "ssax", "qadd16", "qsub16", "qadd8",
        "qsub8", "qasx", "qsax", "shadd16", "shsub16", "shadd8", "shsub8", "uadd16", "usub16",
        "uadd8", "usub8", "pkhbt", "pkhtb", "sel", "ssat16", "usat16", "smlabb", "smlabt",
        "smlatb", "smlatt", "smulbb", "smulbt", "smultb", "smultt", "smlawb", "smlawt",
        "smulwb", "smulwt", "smlalbb", "smlalbt", "smlaltb", "smlaltt", "qadd", "qsub",
        "qdadd", "qdsub", "usad8", "usada8", "smmla", "smmlar", "smmul", "smmulr", "smmls"}
_INSN = re.compile(r"^\s*[0-9a-f]+:\s+(\S+)\s*(.*)$")
_FUNC = re.compile(r"^[0-9a-f]+ <(\w+)>:$")


def classify(mnemonic: str, operands: str) -> str:
    """'mve', 'dsp' or 'other' for one disassembled instruction."""
    base = mnemonic.split(".")[0]
    if base in _MVE_LOOPS or base.startswith("vpt") or (
            base.startswith("v") and _QREG.search(operands)):
        return "mve"
    if base in _DSP:
        return "dsp"
    return "other"


def cmsis_nn_isa(elf: Path, prefix: str = "arm_") -> dict:
    """Instruction counts by class over the ELF's CMSIS-NN functions (names starting
    with `prefix`), and the functions that hold MVE or DSP instructions."""
    res = subprocess.run([OBJDUMP, "-d", "--no-show-raw-insn", str(elf)], capture_output=True,
                         text=True, check=False)
    counts: Counter[str] = Counter()
    users: dict[str, set[str]] = {"mve": set(), "dsp": set()}
    functions: set[str] = set()
    func = None
    for line in res.stdout.splitlines():
        m = _FUNC.match(line)
        if m:
            func = m.group(1) if m.group(1).startswith(prefix) else None
            if func:
                functions.add(func)
            continue
        ins = _INSN.match(line) if func else None
        if ins:
            kind = classify(ins.group(1), ins.group(2))
            counts[kind] += 1
            if kind in users:
                users[kind].add(func)  # type: ignore[arg-type]
    return {"functions": len(functions), "instructions": dict(counts),
            "mve_functions": sorted(users["mve"]), "dsp_functions": sorted(users["dsp"])}


def summary(isa: dict) -> str:
    """One line: which extension the CMSIS-NN code uses, with the counts."""
    n = isa["instructions"]
    if not isa["functions"]:
        return "no CMSIS-NN functions linked"
    paths = [f"{label} ({n.get(kind, 0)} instructions in {len(isa[kind + '_functions'])} "
             f"functions)" for kind, label in (("mve", "MVE"), ("dsp", "DSP"))
             if n.get(kind)]
    return (f"{isa['functions']} CMSIS-NN functions linked; "
            + (" and ".join(paths) if paths else "plain C (no MVE or DSP instructions)"))

