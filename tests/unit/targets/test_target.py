"""Every target in the table (harness/targets/targets.toml): complete entries, the facts
from the manuals, every board fact reaching hx_config.h, and the schema's one-line
refusals.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.ops.validate import load_model
from harness.runtimes.builtin.firmware import generate_builtin
from harness.targets.table import ALL, DATA_FILE, TARGETS
from harness.targets.target import Target, load_targets
from support.paths import EXAMPLE, ROOT

NAMES = sorted(TARGETS)


# ---- the table ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_table_entry_has_what_the_generator_needs(name: str) -> None:
    t: Target = TARGETS[name]
    assert t.name == name
    assert f"-mcpu={t.cpu}" in t.cflags and "-mthumb" in t.cflags
    # Hard-float code needs the startup code to switch the FPU on first.
    assert t.has_fpu == ("-mfloat-abi=hard" in t.cflags)
    assert (ROOT / "firmware" / "uart" / f"{t.uart.driver}.c").exists()
    assert t.clock_hz > 0 and t.uart.clock_hz > 0
    assert t.qemu_machine or t.renode_platform  # something can run it without a board
    for mem in (t.flash, t.ram):
        assert mem.length > 0 and mem.origin % 4 == 0 and mem.length % 1024 == 0
    # The vector table sits at the start of flash: VTOR needs 128-byte alignment.
    assert t.flash.origin % 128 == 0
    flash_end, ram_end = t.flash.origin + t.flash.length, t.ram.origin + t.ram.length
    assert flash_end <= t.ram.origin or ram_end <= t.flash.origin, "flash and RAM overlap"
    assert 0x40000000 <= t.uart.base < 0x60000000, "UART outside the peripheral region"
    if t.boots_secure:  # Secure code uses the Secure aliases (address bit 28 set)
        assert all(a & 0x10000000 for a in (t.flash.origin, t.ram.origin, t.uart.base))
    # The generator renders it all.
    project = generate_builtin(load_model(EXAMPLE), t)
    config = project.files["hx_config.h"].decode()
    assert f"#define HX_UART_BASE 0x{t.uart.base:08X}u" in config
    assert f"#define HX_CLOCK_HZ {t.clock_hz}u" in config
    assert f"src/uart/{t.uart.driver}.c" in project.files
    assert {"src/uart/hx_uart_ring.c", "src/uart/hx_uart_ring.h"} <= project.files.keys()
    assert "src/uart/hx_uart_ring.c" in project.files["Makefile"].decode()
    assert f"#define HX_UART_RING_SIZE {t.uart_ring_bytes}u" in config
    link = project.files["link.ld"].decode()
    assert f"ORIGIN = 0x{t.flash.origin:08X}, LENGTH = {t.flash.length}" in link
    assert f"ORIGIN = 0x{t.ram.origin:08X}, LENGTH = {t.ram.length}" in link
    assert " ".join(t.cflags) in project.files["Makefile"].decode()


# ---- the data: what each target is, from the manuals and QEMU's sources ------------------

KIB, MIB = 1024, 1024 * 1024
M4F = ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard")
SIZES = (8 * KIB, 1024, 256)  # stack, frame payload, UART ring: the defaults
V7M = {"fault_status": True, "dwt": True, "mve": "none"}  # Armv7-M/Armv8-M Mainline cores
# QEMU hw/arm/mps2.c, AN385/AN386/AN500: 4 MB SSRAM1 at 0, 4 MB SSRAM2&3 at 0x20000000,
# CMSDK UART0 at 0x40004000 with RX on IRQ 0 and TX on 1, num-irq 32, SYSCLK 25 MHz.
MPS2 = {"flash": (0x00000000, 4 * MIB), "ram": (0x20000000, 4 * MIB),
        "uart": ("cmsdk_uart", 0x40004000, (0, 1), 25_000_000), "clock_hz": 25_000_000,
        "num_irqs": 32, "renode": ("harness", "sysbus.uart0"), "max_hz": 25_000_000,
        "secure": False, "sizes": SIZES}
EXPECTED = {
    # The Nucleo-64 F4 common ground, the STM32F401RE (RM0368): flash 512 KB at 0x08000000,
    # SRAM 96 KB at 0x20000000; USART2 at 0x40004400 is position 38 of an 85-position
    # vector table (table 38), on APB1 = the 16 MHz HSI out of reset; 84 MHz at most.
    # QEMU's netduinoplus2 has USART2 too (hw/arm/stm32f405_soc.c), IRQ 38.
    "stm32f4": {"cpu": "cortex-m4", "arch": "armv7e-m", "fpu": "sp", **V7M, "cflags": M4F,
                "flash": (0x08000000, 512 * KIB), "ram": (0x20000000, 96 * KIB),
                "uart": ("stm32_usart", 0x40004400, (38,), 16_000_000),
                "clock_hz": 16_000_000, "num_irqs": 85, "qemu": "netduinoplus2",
                "renode": ("platforms/boards/stm32f4_discovery.repl", "sysbus.usart2"),
                "max_hz": 84_000_000, "secure": False, "sizes": SIZES,
                "soc": "STM32F401RE",
                "boards": ("NUCLEO-F401RE", "NUCLEO-F411RE", "NUCLEO-F446RE",
                           "STM32F4DISCOVERY")},
    # nRF51822-QFAA (QEMU hw/arm/nrf51_soc.c, microbit): 256 KB flash at 0, 16 KB SRAM at
    # 0x20000000, UART at 0x40002000 = peripheral ID 2 = IRQ 2, 32 IRQs, HCLK 16 MHz.
    "cortex-m0": {"cpu": "cortex-m0", "arch": "armv6-m", "fpu": "none", "mve": "none",
                  "fault_status": False, "dwt": False, "cflags": ("-mcpu=cortex-m0", "-mthumb"),
                  "flash": (0x00000000, 256 * KIB), "ram": (0x20000000, 16 * KIB),
                  "uart": ("nrf51_uart", 0x40002000, (2,), 16_000_000),
                  "clock_hz": 16_000_000, "num_irqs": 32, "qemu": "microbit",
                  "renode": ("harness", "sysbus.uart0"), "max_hz": 16_000_000, "secure": False,
                  "sizes": (2 * KIB, 256, 128), "soc": "nRF51822-QFAA",
                  "boards": ("BBC micro:bit v1",)},
    "cortex-m3": {"cpu": "cortex-m3", "arch": "armv7-m", "fpu": "none", **V7M,
                  "cflags": ("-mcpu=cortex-m3", "-mthumb"), **MPS2, "qemu": "mps2-an385",
                  "soc": "MPS2 AN385", "boards": ("MPS2+ AN385",)},
    "cortex-m4": {"cpu": "cortex-m4", "arch": "armv7e-m", "fpu": "sp", **V7M, "cflags": M4F,
                  **MPS2, "qemu": "mps2-an386", "soc": "MPS2 AN386",
                  "boards": ("MPS2+ AN386",)},
    "cortex-m7": {"cpu": "cortex-m7", "arch": "armv7e-m", "fpu": "dp", **V7M,
                  "cflags": ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16",
                             "-mfloat-abi=hard"),
                  **MPS2, "qemu": "mps2-an500", "soc": "MPS2 AN500",
                  "boards": ("MPS2+ AN500",)},
    # AN505 (QEMU hw/arm/mps2-tz.c): Secure aliases of SSRAM1 (0x10000000, 4 MB), SSRAM2&3
    # (0x38000000, 4 MB) and UART0 (0x50200000, IRQs 32/33); 32 + 92 IRQs; 20 MHz.
    "cortex-m33": {"cpu": "cortex-m33", "arch": "armv8-m.main", "fpu": "sp", **V7M,
                   "cflags": ("-mcpu=cortex-m33", "-mthumb", "-mfpu=fpv5-sp-d16",
                              "-mfloat-abi=hard"),
                   "flash": (0x10000000, 4 * MIB), "ram": (0x38000000, 4 * MIB),
                   "uart": ("cmsdk_uart", 0x50200000, (32, 33), 20_000_000),
                   "clock_hz": 20_000_000, "num_irqs": 124, "qemu": "mps2-an505",
                   "renode": ("harness", "sysbus.uart0"), "max_hz": 20_000_000, "secure": True,
                   "sizes": SIZES,
                   "soc": "MPS2 AN505", "boards": ("MPS2+ AN505",)},
    # AN547 / SSE-300 (mps2-tz.c): Secure ITCM 0x10000000 and DTCM 0x30000000, 512 KB each;
    # UART0 at 0x59303000 on IRQs 33/34 and a 25 MHz APB clock; core 32 MHz; 32 + 96 IRQs.
    "cortex-m55": {"cpu": "cortex-m55", "arch": "armv8.1-m.main", "fpu": "dp",
                   **{**V7M, "mve": "fp"},
                   "cflags": ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
                   "flash": (0x10000000, 512 * KIB), "ram": (0x30000000, 512 * KIB),
                   "uart": ("cmsdk_uart", 0x59303000, (33, 34), 25_000_000),
                   "clock_hz": 32_000_000, "num_irqs": 128, "qemu": "mps3-an547",
                   "renode": ("harness", "sysbus.uart0"), "max_hz": 32_000_000, "secure": True,
                   "sizes": SIZES,
                   "soc": "MPS3 AN547", "boards": ("MPS3 AN547",)},
    # STM32H743ZI (RM0433): 2 MB flash at 0x08000000, 512 KB AXI SRAM at 0x24000000; USART3
    # at 0x40004800 on IRQ 39 of 150 (table 145), its kernel clock the 64 MHz HSI out of
    # reset; Cortex-M7 with the double-precision FPU; 400 MHz on every silicon revision.
    "stm32h7": {"cpu": "cortex-m7", "arch": "armv7e-m", "fpu": "dp", **V7M,
                "cflags": ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"),
                "flash": (0x08000000, 2 * MIB), "ram": (0x24000000, 512 * KIB),
                "uart": ("stm32_usart_v2", 0x40004800, (39,), 64_000_000),
                "clock_hz": 64_000_000, "num_irqs": 150, "qemu": None,
                "renode": ("platforms/boards/nucleo_h753zi.repl", "sysbus.usart3"),
                "max_hz": 400_000_000, "secure": False, "sizes": SIZES, "soc": "STM32H743ZI",
                "boards": ("NUCLEO-H743ZI", "NUCLEO-H743ZI2")},
    # nRF52840 (PS v1.7): 1 MB flash at 0, 256 KB RAM at 0x20000000, 64 MHz Cortex-M4F;
    # UARTE0 at 0x40002000 = peripheral ID 2 = IRQ 2 of 48; BAUDRATE codes for 16 MHz.
    "nrf52840": {"cpu": "cortex-m4", "arch": "armv7e-m", "fpu": "sp", **V7M, "cflags": M4F,
                 "flash": (0x00000000, 1 * MIB), "ram": (0x20000000, 256 * KIB),
                 "uart": ("nrf52_uarte", 0x40002000, (2,), 16_000_000),
                 "clock_hz": 64_000_000, "num_irqs": 48, "qemu": None,
                 "renode": ("platforms/boards/nrf52840dk_nrf52840.repl", "sysbus.uart0"),
                 "max_hz": 64_000_000, "secure": False, "sizes": SIZES, "soc": "nRF52840",
                 "boards": ("nRF52840 DK",)},
}


def _facts(t: Target) -> dict:
    return {"cpu": t.cpu, "arch": t.core.arch, "fpu": t.core.fpu, "mve": t.core.mve,
            "fault_status": t.core.fault_status, "dwt": t.core.dwt_cyccnt, "cflags": t.cflags,
            "flash": (t.flash.origin, t.flash.length), "ram": (t.ram.origin, t.ram.length),
            "uart": (t.uart.driver, t.uart.base, t.uart.irqs, t.uart.clock_hz),
            "clock_hz": t.clock_hz, "num_irqs": t.num_irqs, "qemu": t.qemu_machine,
            "renode": (t.renode_platform, t.renode_uart), "max_hz": t.max_hz,
            "secure": t.boots_secure, "sizes": (t.stack_bytes, t.max_payload,
                                                t.uart_ring_bytes),
            "soc": t.soc, "boards": t.boards}


def test_the_table_holds_what_the_manuals_say() -> None:
    assert list(TARGETS) == list(EXPECTED)
    for name, want in EXPECTED.items():
        assert _facts(TARGETS[name]) == want, name


@pytest.mark.parametrize("name", NAMES)
def test_every_board_fact_reaches_hx_config(name: str) -> None:
    t = TARGETS[name]
    config = generate_builtin(load_model(EXAMPLE), t).files["hx_config.h"].decode()
    irqs = ", ".join(f"{i}u" for i in t.uart.irqs)
    for line in (f"HX_NUM_IRQS {t.num_irqs}", f"HX_UART_IRQS {{{irqs}}}",
                 f"HX_UART_NUM_IRQS {len(t.uart.irqs)}u",
                 f"HX_UART_CLOCK_HZ {t.uart.clock_hz}u", f"HX_HAS_FPU {int(t.has_fpu)}",
                 f"HX_HAS_FAULT_STATUS {int(t.core.fault_status)}",
                 f"HX_HAS_DWT {int(t.core.dwt_cyccnt)}",
                 f"HX_HAS_MVE {int(t.core.mve != 'none')}"):
        assert f"#define {line}\n" in config, line
    assert ("HX_UART_CLOCK_ENABLE_REG" in config) == (t.uart.clock_enable is not None)
    assert ("HX_UART_PIN_TX" in config) == (t.uart.pins is not None or t.uart.gpio is not None)
    assert f"#define HX_CLOCK_MAX_HZ {t.max_hz}u" in config
    assert f"#define HX_UART_CLOCK_MAX_HZ {t.uart_max_hz}u" in config
    assert ("HX_CLOCK_PLL_M" in config) == bool(t.clock and t.clock.pll)


def test_no_board_fact_is_decided_in_c() -> None:
    """No `#if` on an address or a CPU name in firmware/ or templates/: they read defines."""
    sources = [p for folder in ("firmware", "templates") for p in (ROOT / folder).rglob("*")
               if p.suffix in (".c", ".h", ".cc", ".j2")]
    for path in sources:
        for line in path.read_text().splitlines():
            if re.match(r"\s*#\s*(el)?if\b", line):
                assert not re.search(r"0x[0-9A-Fa-f]{5,}|cortex|HX_CPU_NAME|HX_TARGET_NAME",
                                     line), f"{path.name}: {line}"
        text = path.read_text()
        assert "target.cpu in" not in text and "target.name ==" not in text, path.name


# One edit of the shipped file, and the one line the schema check answers with.
REFUSALS = [
    ("base = 0x40004400  # USART2 (RM0368 2.3 table 1)", "bse = 0x40004400",
     "targets.toml: target.stm32f4.uart: unknown key 'bse' (known: base, bus, clock_enable, "
     "clock_hz, driver, gpio, irqs, name, pins)"),
    ('soc = "STM32F401RE"\n', "",
     "targets.toml: target.stm32f4: missing key 'soc'"),
    ("clock_hz = 16_000_000  # HSI, out of reset (RM0368 6.2.2)", 'clock_hz = "16 MHz"',
     "targets.toml: target.stm32f4.clock_hz: expected an integer, got str '16 MHz'"),
    ("num_irqs = 85", "num_irqs = true",
     "targets.toml: target.stm32f4.num_irqs: expected an integer, got bool True"),
    ('cflags = ["-mcpu=cortex-m0", "-mthumb"]', 'cflags = "-mcpu=cortex-m0 -mthumb"',
     "targets.toml: target.cortex-m0.cflags: expected a list, got str '-mcpu=cortex-m0 -mthumb'"),
    ("ram = { origin = 0x20000000, length = 0x18000 }",
     "ram = { origin = 0x0807F000, length = 0x18000 }",
     "targets.toml: target.stm32f4.ram: overlaps flash (0x08000000..0x0807FFFF)"),
    ("ram = { origin = 0x20000000, length = 0x4000 }",
     "ram = { origin = 0x20000002, length = 0x4000 }",
     "targets.toml: target.cortex-m0.ram: odd region 0x20000002 + 16384: needs a word-aligned "
     "origin and a whole number of KB below 4 GB"),
    ("irqs = [38]", "irqs = [85]",
     "targets.toml: target.stm32f4.uart.irqs: [85] not all in 0..84 (num_irqs)"),
    ('cpu = "cortex-m4"\n# The Nucleo-64', 'cpu = "cortex-m9"\n# The Nucleo-64',
     "targets.toml: target.stm32f4.cpu: unknown CPU 'cortex-m9' (known: cortex-m0, cortex-m3, "
     "cortex-m4, cortex-m7, cortex-m33, cortex-m55)"),
    ('driver = "stm32_usart"', 'driver = "pl011"',
     "targets.toml: target.stm32f4.uart.driver: no UART driver 'pl011' (known: stm32_usart, "
     "stm32_usart_v2, cmsdk_uart, nrf51_uart, nrf52_uarte)"),
    ("clock_enable = { register = 0x40023840, mask = 0x00020000 }", "",
     "targets.toml: target.stm32f4.uart: missing key 'clock_enable' (stm32_usart)"),
    ('gpio = { port = "A"', 'pins = { tx = 2, rx = 3 }\n# gpio = { port = "A"',
     "targets.toml: target.stm32f4.uart: the driver does not use key 'pins' (stm32_usart)"),
    ('cflags = ["-mcpu=cortex-m0", "-mthumb"]',
     'cflags = ["-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=hard"]',
     "targets.toml: target.cortex-m0.cflags: -mfloat-abi=hard, but cortex-m0 has no FPU"),
    ("base = 0x50200000  # UART0, Secure alias", "base = 0x40200000",
     "targets.toml: target.cortex-m33.uart.base: 0x40200000 is no Secure alias (bit 28 clear) "
     "on a target that boots Secure"),
    ("uart_ring_bytes = 128", "uart_ring_bytes = 100",
     "targets.toml: target.cortex-m0.uart_ring_bytes: 100 is no power of two in 2..256"),
    ('fpu = "dp"  # FPv5-D16', 'fpu = "double"  #',
     "targets.toml: cpu.cortex-m7.fpu: 'double' is not one of none, sp, dp"),
    ('renode_uart = "sysbus.usart2"\n', "",
     "targets.toml: target.stm32f4: renode_platform and renode_uart go together"),
    ("[target.stm32f4]\n", "[target.stm32f4]\nflash_kb = 1024\n",
     "targets.toml: target.stm32f4: unknown key 'flash_kb' (known: assume_board, boards, "
     "boots_secure, cflags, clock, clock_hz, cpu, flash, flash_tools, max_payload, num_irqs, "
     "qemu_clock_hz, qemu_machine, qemu_serial, ram, renode_platform, renode_uart, soc, "
     "stack_bytes, uart, uart_ring_bytes)"),
    # the clock and the boards
    ('driver = "stm32f4_rcc"', 'driver = "stm32f4_pll"',
     "targets.toml: target.stm32f4.clock.driver: no clock driver 'stm32f4_pll' (known: "
     "stm32f4_rcc, stm32h7_rcc, nrf52_clock)"),
    ("pll = { m = 8, n = 100, p = 2, q = 4 }", "pll = { m = 8, n = 101, p = 2, q = 4 }",
     "targets.toml: board.nucleo-f411re.clock.pll: 16000000 Hz / 8 * 101 / 2 is not max_hz "
     "100000000"),
    ('driver = "nrf52_clock"\n', 'driver = "nrf52_clock"\nflash_latency = 1\n',
     "targets.toml: target.nrf52840.clock: the driver does not use key 'flash_latency' "
     "(nrf52_clock)"),
    ('target = "stm32h7"\n', 'target = "stm32h8"\n',
     "targets.toml: board.nucleo-h743zi.target: unknown target 'stm32h8' (known: stm32f4, "
     "cortex-m0, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55, stm32h7, nrf52840)"),
    ('title = "NUCLEO-F446RE"\n', "",
     "targets.toml: board.nucleo-f446re: missing key 'title'"),
    ("ram = { length = 0x20000 }  # 128 KB (RM0383 2.3)", 'ram = { length = "128 KB" }',
     "targets.toml: board.nucleo-f411re.ram.length: expected an integer, got str '128 KB'"),
    ('assume_board = "nucleo-f401re"', 'assume_board = "nucleo-h743zi"',
     "targets.toml: target.stm32f4.assume_board: 'nucleo-h743zi' is no board of this target"),
    ("[board.nrf52840-dk]", "[board.nrf52840]",
     "targets.toml: board.nrf52840: has the name of a target"),
]


@pytest.mark.parametrize(("old", "new", "message"), REFUSALS, ids=[m.split(": ")[1]
                                                                   for _, _, m in REFUSALS])
def test_schema_refuses_a_bad_entry_in_one_line(old: str, new: str, message: str) -> None:
    text = DATA_FILE.read_text()
    assert text.count(old) == 1, old
    with pytest.raises(BadInput) as info:
        load_targets(text.replace(old, new), DATA_FILE.name)
    assert info.value.one_line() == message


def test_shipped_file_loads_and_bad_toml_is_one_line() -> None:
    assert load_targets(DATA_FILE.read_text()) == ALL
    with pytest.raises(BadInput, match=r"^targets.toml: not valid TOML: "):
        load_targets("[target.x\n")


def test_a_broken_targets_file_is_one_line_from_the_command_line(tmp_path: Path) -> None:
    # The table loads on first use, not while the CLI imports: a user's bad edit of
    # targets.toml is an `error:` line with exit 2, never a traceback.
    broken = DATA_FILE.read_text().replace('cflags = ["-mcpu=cortex-m55", ', 'cflags = [', 1)
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from harness.targets import table
        table.DATA_FILE = Path({str(tmp_path / "targets.toml")!r})
        from harness.cli import main
        sys.exit(main(["run", "--vectors", "1"]))
    """)
    (tmp_path / "targets.toml").write_text(broken)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        "error: targets.toml: target.cortex-m55.cflags: missing -mcpu=cortex-m55"]
