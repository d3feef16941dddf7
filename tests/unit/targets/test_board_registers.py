"""Register-level tests of every board's init code, compiled for the host.

The firmware's clock driver, UART driver, receive ring and counter are built with the
host gcc against a recording register file (tests/support/hx_regfile.c: every access of
hx_mmio.h lands there), run as main() runs them (clock, UART, counter), and the values
they leave in the registers are compared with what the reference manuals prescribe.
The expected values are written out here from the manuals, not read from targets.toml,
so a wrong entry in the table fails a test:

- RM0368 (STM32F401), RM0383 (STM32F411), RM0390 (STM32F446), RM0090 (STM32F407),
  RM0433 (STM32H743), RM0385 (STM32F746): "RCC registers", "GPIO registers", "USART
  registers", the vector tables ("Interrupt and exception vectors"); UM1907 (the
  STM32F746G-DISCO's virtual COM port), DS10916 (its alternate functions);
- nRF52840 Product Specification v1.7, 6.34 UARTE and 6.4 CLOCK;
- Armv7-M Architecture Reference Manual (DDI0403E): B3.4.4 NVIC_ISERn, C1.6.5 DEMCR,
  C1.8.7 DWT_CTRL; the Cortex-M7 TRM for DWT_LAR.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.targets.baud import check_baud
from harness.targets.table import ALL, BOARDS
from support.regfile import RegisterFile

# ---- facts from the manuals ----------------------------------------------------------------

# STM32F4 (RM0368 2.3 table 1 "register boundary addresses", the same on F411/F446/F407).
RCC_F4 = 0x40023800
RCC_CR, RCC_PLLCFGR, RCC_CFGR = RCC_F4 + 0x00, RCC_F4 + 0x04, RCC_F4 + 0x08
RCC_AHB1ENR, RCC_APB1ENR = RCC_F4 + 0x30, RCC_F4 + 0x40  # RM0368 6.3.9, 6.3.11
PWR_CR, PWR_CSR = 0x40007000, 0x40007004  # RM0368 5.4.1, 5.4.2
FLASH_ACR = 0x40023C00  # RM0368 3.8.1
GPIOA = 0x40020000
USART2 = 0x40004400
# Reset values (RM0368 6.3.2, 8.4.1, 8.4.4): PLLCFGR 0x24003010; GPIOA MODER 0xA8000000 and
# PUPDR 0x64000000 (the debug pins PA13..PA15).
PLLCFGR_RESET, GPIOA_MODER_RESET, GPIOA_PUPDR_RESET = 0x24003010, 0xA8000000, 0x64000000

# STM32H743 (RM0433 2.3.2 table 8 "register boundary addresses").
RCC_H7 = 0x58024400
H7_CR, H7_CFGR = RCC_H7 + 0x00, RCC_H7 + 0x10
H7_D1CFGR, H7_D2CFGR, H7_D3CFGR = RCC_H7 + 0x18, RCC_H7 + 0x1C, RCC_H7 + 0x20
H7_PLLCKSELR, H7_PLLCFGR, H7_PLL1DIVR = RCC_H7 + 0x28, RCC_H7 + 0x2C, RCC_H7 + 0x30
H7_AHB4ENR, H7_APB1LENR = RCC_H7 + 0xE0, RCC_H7 + 0xE8  # RM0433 8.7.43, 8.7.45
H7_PWR_CSR1, H7_PWR_CR3, H7_PWR_D3CR = 0x58024804, 0x5802480C, 0x58024818  # RM0433 6.8
H7_FLASH_ACR = 0x52002000  # RM0433 4.9.1
GPIOD_H7 = 0x58020C00
USART3 = 0x40004800
# Reset values (RM0433 8.7.11, 8.7.12, 11.4.1, 4.9.1, 6.8.4): PLLCKSELR 0x02020200,
# PLLCFGR 0x01FF0000, GPIOD MODER 0xFFFFFFFF (analog), FLASH_ACR 0x37, PWR_CR3 0x06.
H7_RESETS = {H7_PLLCKSELR: 0x02020200, H7_PLLCFGR: 0x01FF0000, GPIOD_H7: 0xFFFFFFFF,
             H7_FLASH_ACR: 0x37, H7_PWR_CR3: 0x06}

# STM32F746 (RM0385 2.2.2 table 1): the F4's RCC layout at the same address.
F7_AHB1ENR, F7_APB2ENR = RCC_F4 + 0x30, RCC_F4 + 0x44  # RM0385 5.3.10, 5.3.14
GPIOB = 0x40020400
USART1 = 0x40011000
# Reset values (RM0385 6.4.1, 6.4.4): GPIOA MODER 0xA8000000, PUPDR 0x64000000 (as on the
# F4); GPIOB MODER 0x00000280, PUPDR 0x00000100 (PB3, PB4: debug pins).
GPIOB_MODER_RESET, GPIOB_PUPDR_RESET = 0x00000280, 0x00000100

# nRF52840 (PS 6.34.9 "Registers", UARTE0 at 0x40002000; PS 6.4.7, CLOCK at 0x40000000).
UARTE0 = 0x40002000
NRF_CLOCK_HFCLKSTART, NRF_CLOCK_HFCLKSTARTED = 0x40000000, 0x40000100

# Cortex-M (DDI0403E).
NVIC_ISER0 = 0xE000E100  # B3.4.4: ISERn at 0xE000E100 + 4n, bit m enables IRQ 32n + m
DEMCR, DWT_CTRL, DWT_CYCCNT, DWT_LAR = 0xE000EDFC, 0xE0001000, 0xE0001004, 0xE0001FB0
TRCENA, CYCCNTENA, LAR_KEY = 1 << 24, 1 << 0, 0xC5ACCE55

F4_BOARDS = ["nucleo-f401re", "nucleo-f411re", "nucleo-f446re", "stm32f4-discovery"]


def _f4_reset_values(rf: RegisterFile) -> None:
    rf.preset(RCC_PLLCFGR, PLLCFGR_RESET)
    rf.preset(GPIOA, GPIOA_MODER_RESET)
    rf.preset(GPIOA + 0x0C, GPIOA_PUPDR_RESET)


def _f4_ready_flags(rf: RegisterFile) -> None:
    """An RCC that answers: PLLRDY follows PLLON, SWS follows SW (RM0368 6.3.1, 6.3.3),
    over-drive ready follows its enables (RM0390 5.4.2), flash latency reads back."""
    rf.mirror(RCC_CR, 1 << 24, shift=1)
    rf.mirror(RCC_CFGR, 0x3, shift=2)
    rf.mirror(PWR_CSR, 0x3 << 16, src=PWR_CR)


def _bits(value: int, low: int, width: int) -> int:
    return (value >> low) & ((1 << width) - 1)


def test_every_board_has_a_register_test_here() -> None:
    tested = {*F4_BOARDS, "nucleo-h743zi", "stm32f746g-disco", "nrf52840-dk"}
    assert set(BOARDS) == tested


# ---- STM32F4 boards: USART2 on PA2/PA3 -----------------------------------------------------


@pytest.mark.parametrize("board", F4_BOARDS)
def test_f4_pins_usart_nvic_dwt_at_the_reset_clock(board: str, tmp_path: Path) -> None:
    rf = RegisterFile.for_target(ALL[board], tmp_path, baud=115200)
    _f4_reset_values(rf)
    assert rf.boot() == "reset"
    # No clock set-up at all by default: not one write to RCC_CR, PLLCFGR, CFGR, PWR, flash.
    assert not [a for a, _ in rf.writes() if a in (RCC_CR, RCC_PLLCFGR, RCC_CFGR, PWR_CR,
                                                   FLASH_ACR)]
    # RCC_AHB1ENR bit 0 GPIOAEN, RCC_APB1ENR bit 17 USART2EN (RM0368 6.3.9 / 6.3.11;
    # RM0383 6.3.9 / 6.3.11; RM0390 6.3.10 / 6.3.13; RM0090 7.3.10 / 7.3.13).
    assert rf.value(RCC_AHB1ENR) & 0x1
    assert rf.value(RCC_APB1ENR) & (1 << 17)
    # GPIOx_MODER: 2 bits a pin, 0b10 = alternate function; PA2 bits 5:4, PA3 bits 7:6; the
    # debug pins keep their reset modes (RM0368 8.4.1).
    assert rf.value(GPIOA) == GPIOA_MODER_RESET | 0b1010 << 4
    # GPIOx_AFRL: 4 bits a pin; USART2_TX = PA2 AF7, USART2_RX = PA3 AF7 (RM0368 8.4.9;
    # DS10086 table 9).
    assert _bits(rf.value(GPIOA + 0x20), 8, 4) == 7 and _bits(rf.value(GPIOA + 0x20), 12, 4) == 7
    # GPIOx_PUPDR: PA3 (RX) pulled up, 0b01 at bits 7:6 (RM0368 8.4.4).
    assert rf.value(GPIOA + 0x0C) == GPIOA_PUPDR_RESET | 0b01 << 6
    # USART_BRR at fPCLK1 = 16 MHz, 115200 baud, OVER8 = 0: USARTDIV = 16e6 / (16 * 115200)
    # = 8.6875 -> mantissa 8, fraction 11 = 0x8B (RM0368 19.3.4, table 75: 8.6875, 0.08 %).
    assert rf.value(USART2 + 0x08) == 0x8B
    # USART_CR1: UE (13), TE (3), RE (2), RXNEIE (5); OVER8 (15) clear (RM0368 19.6.4).
    assert rf.value(USART2 + 0x0C) == (1 << 13) | (1 << 3) | (1 << 2) | (1 << 5)
    # USART2 is IRQ 38 (RM0368 table 38, RM0383 table 37, RM0390 table 38, RM0090 table 61):
    # NVIC_ISER1 bit 6.
    assert rf.written(NVIC_ISER0 + 4) == [1 << 6]
    # DEMCR.TRCENA, then CYCCNT zeroed and DWT_CTRL.CYCCNTENA (DDI0403E C1.6.5, C1.8.7);
    # the Cortex-M4 has no DWT lock to open.
    assert rf.value(DEMCR) & TRCENA and rf.value(DWT_CTRL) & CYCCNTENA
    assert rf.written(DWT_CYCCNT) == [0] and not rf.written(DWT_LAR)
    assert rf.first_write(DEMCR) < rf.first_write(DWT_CTRL)


# The USART's clock at the documented maximum (the APB1 prescaler's output) and the
# divisor for 921600 baud there: D = round(f / 921600), BRR = mantissa D >> 4, fraction
# D & 15 with OVER8 = 0 (RM0368 19.3.4).
F4_MAX = {
    # F401: 84 MHz, APB1 <= 42 MHz (/2) (RM0368 6.2, DS10086 "APB1 at 42 MHz max")
    "nucleo-f401re": dict(sysclk=84, apb1=42, pll=(8, 168, 4, 7), latency=2, vos=0b10,
                          ppre1=0b100, ppre2=0b000, brr=46, od=False),
    # F411: 100 MHz, APB1 <= 50 MHz (/2); 3 WS at 90..100 MHz (RM0383 3.5 table 5)
    "nucleo-f411re": dict(sysclk=100, apb1=50, pll=(8, 100, 2, 4), latency=3, vos=0b11,
                          ppre1=0b100, ppre2=0b000, brr=54, od=False),
    # F446: 180 MHz with over-drive, APB1 <= 45 MHz (/4), APB2 90 (/2); 5 WS (RM0390 3.4)
    "nucleo-f446re": dict(sysclk=180, apb1=45, pll=(8, 180, 2, 7), latency=5, vos=0b11,
                          ppre1=0b101, ppre2=0b100, brr=49, od=True),
    # F407: 168 MHz, APB1 42 MHz (/4), APB2 84 (/2); 5 WS (RM0090 3.5.1 table 10); VOS bit 14
    "stm32f4-discovery": dict(sysclk=168, apb1=42, pll=(8, 168, 2, 7), latency=5, vos=0b01,
                              ppre1=0b101, ppre2=0b100, brr=46, od=False),
}


@pytest.mark.parametrize("board", F4_BOARDS)
def test_f4_clock_max_sets_up_the_pll_and_the_921600_divisor(board: str,
                                                             tmp_path: Path) -> None:
    want = F4_MAX[board]
    rf = RegisterFile.for_target(ALL[board], tmp_path, baud=921600, clock="max")
    _f4_reset_values(rf)
    _f4_ready_flags(rf)
    assert rf.boot() == "max"
    assert (rf.core_hz, rf.uart_hz) == (want["sysclk"] * 10**6, want["apb1"] * 10**6)
    # RCC_PLLCFGR (RM0368 6.3.2): PLLM [5:0], PLLN [14:6], PLLP [17:16] (00 = /2, 01 = /4),
    # PLLSRC [22] = 0 (HSI), PLLQ [27:24]; reserved bits keep their reset values.
    m, n, p, q = want["pll"]
    cfg = rf.value(RCC_PLLCFGR)
    assert (_bits(cfg, 0, 6), _bits(cfg, 6, 9), _bits(cfg, 16, 2), _bits(cfg, 22, 1),
            _bits(cfg, 24, 4)) == (m, n, p // 2 - 1, 0, q)
    assert 16 * n // (m * p) == want["sysclk"]  # the HSI's 16 MHz through the PLL
    assert cfg & 0x20000000 == PLLCFGR_RESET & 0x20000000  # bit 29: reserved, or PLLR = 2
    # RCC_CR PLLON (bit 24); RCC_APB1ENR PWREN (bit 28); PWR_CR VOS [15:14] (RM0368 5.4.1).
    assert rf.value(RCC_CR) & (1 << 24) and rf.value(RCC_APB1ENR) & (1 << 28)
    assert _bits(rf.value(PWR_CR), 14, 2) == want["vos"]
    assert bool(rf.value(PWR_CR) & (1 << 16)) == bool(rf.value(PWR_CR) & (1 << 17)) == want["od"]
    # FLASH_ACR: LATENCY [3:0], PRFTEN (8), ICEN (9), DCEN (10), set before the switch
    # (RM0368 3.5.1 "increasing the CPU frequency").
    assert rf.value(FLASH_ACR) == want["latency"] | 0x700
    switch = next(i for i, (a, v) in enumerate(rf.writes()) if a == RCC_CFGR and v & 3 == 0b10)
    assert rf.first_write(FLASH_ACR) < switch
    # RCC_CFGR: SW [1:0] = 10 (PLL), HPRE [7:4] = 0 (/1), PPRE1 [12:10], PPRE2 [15:13].
    cfgr = rf.value(RCC_CFGR)
    assert (_bits(cfgr, 0, 2), _bits(cfgr, 4, 4), _bits(cfgr, 10, 3), _bits(cfgr, 13, 3)) == (
        0b10, 0, want["ppre1"], want["ppre2"])
    # 921600 baud at the maximum APB1 clock: D = round(APB1 / 921600), OVER8 = 0.
    assert round(want["apb1"] * 10**6 / 921600) == want["brr"]
    assert rf.value(USART2 + 0x08) == want["brr"]
    assert not rf.value(USART2 + 0x0C) & (1 << 15)


@pytest.mark.parametrize("board", F4_BOARDS)
def test_f4_pll_that_never_locks_falls_back_to_the_hsi(board: str, tmp_path: Path) -> None:
    """No ready flag ever comes (QEMU's netduinoplus2 models no RCC): the waits end, the core
    stays on the HSI with every prescaler at 1, and the UART divides 16 MHz."""
    rf = RegisterFile.for_target(ALL[board], tmp_path, baud=115200, clock="max")
    _f4_reset_values(rf)
    assert rf.boot() == "fallback"
    assert (rf.core_hz, rf.uart_hz) == (16_000_000, 16_000_000)
    assert rf.value(RCC_CFGR) == 0  # SW = HSI, HPRE/PPRE1/PPRE2 = /1
    assert not rf.value(RCC_CR) & (1 << 24)  # PLLON off again
    assert rf.value(USART2 + 0x08) == 0x8B  # 115200 at 16 MHz, as at reset


def test_921600_baud_at_the_f4_reset_clock_is_refused() -> None:
    """16 MHz / 921600 = 17.36: divisor 17 makes 941176 baud (+2.1 %), 18 makes 888889
    (-3.5 %); neither is within 2 %."""
    with pytest.raises(BadInput, match=r"makes 941176 \(\+2\.1%\)"):
        check_baud(ALL["nucleo-f411re"], 921600, "reset")
    check_baud(ALL["nucleo-f411re"], 921600, "max")


def test_over8_where_16x_oversampling_cannot_reach(tmp_path: Path) -> None:
    """2 Mbaud at 16 MHz: divisor 8, below 16x oversampling's minimum of 16; with OVER8 = 1
    BRR = mantissa 1 (D >> 3) and fraction 0 (D & 7) (RM0368 19.3.4)."""
    rf = RegisterFile.for_target(ALL["nucleo-f411re"], tmp_path, baud=2_000_000)
    rf.boot()
    assert rf.value(USART2 + 0x08) == 0x10
    assert rf.value(USART2 + 0x0C) & (1 << 15)
    assert rf.written(USART2 + 0x0C)[0] == 1 << 15  # OVER8 set while UE is still 0


# ---- NUCLEO-H743ZI: USART3 on PD8/PD9 ------------------------------------------------------


def _h7(tmp_path: Path, baud: int, clock: str = "reset", *, ready: bool = False
        ) -> RegisterFile:
    rf = RegisterFile.for_target(ALL["nucleo-h743zi"], tmp_path, baud=baud, clock=clock)
    for addr, value in H7_RESETS.items():
        rf.preset(addr, value)
    if ready:  # RM0433 6.8.3 ACTVOSRDY, 6.8.6 VOSRDY, 8.7.2 PLL1RDY, 8.7.6 SWS
        rf.preset(H7_PWR_CSR1, 1 << 13)
        rf.preset(H7_PWR_D3CR, 1 << 13)
        rf.mirror(H7_CR, 1 << 24, shift=1)
        rf.mirror(H7_CFGR, 0x7, shift=3)
    return rf


@pytest.mark.parametrize(("baud", "brr"), [(115200, 556), (921600, 69)])
def test_h743_pins_usart_nvic_dwt_at_the_reset_clock(baud: int, brr: int,
                                                      tmp_path: Path) -> None:
    rf = _h7(tmp_path, baud)
    assert rf.boot() == "reset"
    assert rf.value(H7_AHB4ENR) & (1 << 3)  # GPIODEN (RM0433 8.7.43)
    assert rf.value(H7_APB1LENR) & (1 << 18)  # USART3EN (RM0433 8.7.45)
    # GPIOD_MODER from its analog reset value: PD8 bits 17:16, PD9 bits 19:18 -> 0b10.
    assert rf.value(GPIOD_H7) == 0xFFFFFFFF & ~(0b0101 << 16)
    # GPIOD_AFRH (RM0433 11.4.10): pins 8..15, 4 bits each; USART3_TX/RX are AF7 on
    # PD8/PD9 (DS12110 table 10).
    assert rf.value(GPIOD_H7 + 0x24) == 0x77
    assert rf.value(GPIOD_H7 + 0x0C) == 0b01 << 18  # PD9 pulled up (11.4.4)
    # USART_BRR = USARTDIV = fck / baud with OVER8 = 0, fck = rcc_pclk1 = 64 MHz HSI
    # (RM0433 48.5.7): 64e6 / 115200 = 555.6 -> 556; 64e6 / 921600 = 69.4 -> 69 (+0.6 %).
    assert round(64e6 / baud) == brr and rf.value(USART3 + 0x0C) == brr
    # USART_CR1 (RM0433 48.7.1): UE (0), RE (2), TE (3), RXNEIE (5); FIFOEN (29) clear.
    assert rf.value(USART3) == 0b101101
    # USART3 is IRQ 39 (RM0433 table 145): NVIC_ISER1 bit 7.
    assert rf.written(NVIC_ISER0 + 4) == [1 << 7]
    # The Cortex-M7's DWT ignores writes until LAR holds the key (Cortex-M7 TRM, DWT
    # registers); then TRCENA and CYCCNTENA as on every Armv7-M core.
    assert rf.written(DWT_LAR) == [LAR_KEY]
    assert rf.first_write(DWT_LAR) < rf.first_write(DWT_CTRL)
    assert rf.value(DEMCR) & TRCENA and rf.value(DWT_CTRL) & CYCCNTENA


# ---- STM32F746G-DISCO: USART1 on PA9 (TX) and PB7 (RX), two ports --------------------------


@pytest.mark.parametrize(("baud", "brr"), [(115200, 139), (460800, 35)])
def test_f746_pins_on_two_ports_usart_nvic_at_the_reset_clock(baud: int, brr: int,
                                                               tmp_path: Path) -> None:
    rf = RegisterFile.for_target(ALL["stm32f746g-disco"], tmp_path, baud=baud)
    rf.preset(GPIOA, GPIOA_MODER_RESET)
    rf.preset(GPIOA + 0x0C, GPIOA_PUPDR_RESET)
    rf.preset(GPIOB, GPIOB_MODER_RESET)
    rf.preset(GPIOB + 0x0C, GPIOB_PUPDR_RESET)
    assert rf.boot() == "reset"
    assert not rf.written(RCC_CR) and not rf.written(RCC_CFGR)  # no clock set-up
    # RCC_AHB1ENR GPIOAEN (0) and GPIOBEN (1); RCC_APB2ENR USART1EN (4) (RM0385 5.3.10/14).
    assert rf.value(F7_AHB1ENR) & 0b11 == 0b11
    assert rf.value(F7_APB2ENR) & (1 << 4)
    # PA9 (TX): MODER bits 19:18 = 0b10, AFRH bits 7:4 = AF7; PA's other pins untouched.
    assert rf.value(GPIOA) == GPIOA_MODER_RESET | 0b10 << 18
    assert rf.value(GPIOA + 0x24) == 7 << 4 and not rf.written(GPIOA + 0x20)
    assert rf.value(GPIOA + 0x0C) == GPIOA_PUPDR_RESET  # TX is not pulled
    # PB7 (RX): MODER bits 15:14 = 0b10, AFRL bits 31:28 = AF7, pulled up (PUPDR 0b01).
    assert rf.value(GPIOB) == GPIOB_MODER_RESET | 0b10 << 14
    assert rf.value(GPIOB + 0x20) == 7 << 28 and not rf.written(GPIOB + 0x24)
    assert rf.value(GPIOB + 0x0C) == GPIOB_PUPDR_RESET | 0b01 << 14
    # USART_BRR = USARTDIV = fck / baud with OVER8 = 0, fck = PCLK2 = 16 MHz HSI
    # (RM0385 31.5.4): 16e6 / 115200 = 138.9 -> 139 (-0.1 %); 16e6 / 460800 = 34.7 -> 35
    # (-0.8 %).
    assert round(16e6 / baud) == brr and rf.value(USART1 + 0x0C) == brr
    # USART_CR1 (RM0385 31.8.1): UE (0), RE (2), TE (3), RXNEIE (5).
    assert rf.value(USART1) == 0b101101
    # USART1 is IRQ 37 (RM0385 table 40): NVIC_ISER1 bit 5.
    assert rf.written(NVIC_ISER0 + 4) == [1 << 5]
    # The Cortex-M7's DWT lock is opened before CYCCNT is enabled (Cortex-M7 TRM).
    assert rf.written(DWT_LAR) == [LAR_KEY]
    assert rf.value(DEMCR) & TRCENA and rf.value(DWT_CTRL) & CYCCNTENA


def test_921600_baud_at_the_f746_reset_clock_is_refused() -> None:
    # 16e6 / 921600 = 17.4 -> 17: 941,176 baud, 2.1 % fast (RM0385 31.5.4).
    with pytest.raises(BadInput, match=r"941176 \(\+2\.1%\)"):
        check_baud(ALL["stm32f746g-disco"], 921600, "reset")


def test_h743_clock_max_is_400_mhz_from_pll1(tmp_path: Path) -> None:
    rf = _h7(tmp_path, 921600, "max", ready=True)
    assert rf.boot() == "max"
    assert (rf.core_hz, rf.uart_hz) == (400_000_000, 100_000_000)
    # PWR_CR3: LDO supply, SCUEN cleared (RM0433 6.8.4); D3CR VOS = 0b11 (VOS1, 6.8.6).
    assert rf.value(H7_PWR_CR3) & 0b111 == 0b010
    assert _bits(rf.value(H7_PWR_D3CR), 14, 2) == 0b11
    # PLLCKSELR: PLLSRC [1:0] = 0 (HSI), DIVM1 [9:4] = 4 (RM0433 8.7.11).
    assert rf.value(H7_PLLCKSELR) == (0x02020200 & ~0x3F3) | 4 << 4
    # PLLCFGR: PLL1RGE [3:2] = 0b11 (16 MHz reference: 8..16 MHz), PLL1VCOSEL (1) = 0 (wide),
    # DIVP1EN, DIVQ1EN, DIVR1EN (16..18) (RM0433 8.7.12).
    assert rf.value(H7_PLLCFGR) & 0x7000F == 0b111 << 16 | 0b11 << 2
    # PLL1DIVR: DIVN1 = N - 1 [8:0], DIVP1 = P - 1 [15:9], DIVQ1 [22:16], DIVR1 [30:24]
    # (RM0433 8.7.13): 64 MHz / 4 * 50 / 2 = 400 MHz.
    assert rf.value(H7_PLL1DIVR) == 49 | 1 << 9 | 3 << 16 | 1 << 24
    assert rf.value(H7_CR) & (1 << 24)  # PLL1ON
    # FLASH_ACR LATENCY = 4 wait states, read back before the switch (RM0433 4.3.8).
    assert rf.value(H7_FLASH_ACR) & 0xF == 4
    # D1CFGR: HPRE [3:0] = 0b1000 (/2), D1PPRE [6:4] = 0b100 (/2), D1CPRE [11:8] = 0 (/1);
    # D2CFGR: D2PPRE1 [6:4], D2PPRE2 [10:8] = /2; D3CFGR: D3PPRE [6:4] = /2 (RM0433 8.7.7-9).
    assert (rf.value(H7_D1CFGR), rf.value(H7_D2CFGR), rf.value(H7_D3CFGR)) == (
        0x48, 0x440, 0x40)
    assert rf.value(H7_CFGR) & 0x7 == 0b011  # SW = PLL1 (8.7.6)
    # 921600 at rcc_pclk1 = 400 / 2 (HPRE) / 2 (D2PPRE1) = 100 MHz: 108.5 -> 109 (-0.5 %).
    assert rf.value(USART3 + 0x0C) == 109


def test_h743_without_an_answering_pwr_falls_back_to_the_hsi(tmp_path: Path) -> None:
    """Renode's nucleo_h753zi models no PWR: ACTVOSRDY never comes, no PLL is touched."""
    rf = _h7(tmp_path, 115200, "max")
    assert rf.boot() == "fallback"
    assert (rf.core_hz, rf.uart_hz) == (64_000_000, 64_000_000)
    assert not rf.written(H7_PLL1DIVR) and rf.value(H7_CFGR) & 0x7 == 0
    assert rf.value(USART3 + 0x0C) == 556


# ---- nRF52840 DK: UARTE0 on P0.06/P0.08 ----------------------------------------------------


@pytest.mark.parametrize(("baud", "code"), [(115200, 0x01D60000), (1_000_000, 0x10000000)])
def test_nrf52840_uarte_pins_baudrate_enable(baud: int, code: int, tmp_path: Path) -> None:
    rf = RegisterFile.for_target(ALL["nrf52840-dk"], tmp_path, baud=baud)
    assert rf.boot() == "reset"
    # PSEL.TXD/RXD (0x50C/0x514): PIN [4:0], PORT [5] = 0, CONNECT [31] = 0 (connected):
    # P0.06 and P0.08, the DK's interface-MCU UART (nRF52840 DK user guide, "Virtual COM
    # port"); RTS/CTS disconnected (CONNECT = 1) (PS 6.34.10.9-12).
    assert (rf.value(UARTE0 + 0x50C), rf.value(UARTE0 + 0x514)) == (6, 8)
    assert rf.value(UARTE0 + 0x508) == rf.value(UARTE0 + 0x510) == 0xFFFFFFFF
    # BAUDRATE (0x524): the UARTE's codes, not the UART's (PS 6.34.10.15).
    assert rf.value(UARTE0 + 0x524) == code
    assert rf.value(UARTE0 + 0x56C) == 0  # CONFIG: no HWFC, no parity
    # ENABLE (0x500) = 8 (UARTE), written after the pins and the rate (PS 6.34.10.8).
    assert rf.value(UARTE0 + 0x500) == 8
    assert rf.writes().index((UARTE0 + 0x500, 8)) > rf.first_write(UARTE0 + 0x524)
    # Reception through EasyDMA: RXD.MAXCNT (0x538) = 1, ENDRX (bit 4) and ERROR (bit 9)
    # interrupts (INTENSET 0x304), STARTRX (0x000) triggered last.
    assert rf.value(UARTE0 + 0x538) == 1
    assert rf.value(UARTE0 + 0x304) == (1 << 4) | (1 << 9)
    assert rf.written(UARTE0) == [1]
    # UARTE0 is peripheral ID 2, so IRQ 2 (PS 4.2.4): NVIC_ISER0 bit 2, before reception starts.
    assert rf.written(NVIC_ISER0) == [1 << 2]
    assert rf.first_write(NVIC_ISER0) < rf.first_write(UARTE0)
    assert rf.value(DEMCR) & TRCENA and rf.value(DWT_CTRL) & CYCCNTENA


def test_nrf52840_baud_rates_without_a_code_or_beyond_2_percent_are_refused() -> None:
    """921600 has a code, but it makes 941176 baud (+2.1 %, PS 6.34.10.15)."""
    with pytest.raises(BadInput) as info:
        check_baud(ALL["nrf52840-dk"], 921600)
    assert info.value.one_line() == (
        "--baud 921600 is more than 2% off on nrf52840-dk: UARTE0 at 16 MHz makes 941176 "
        "(+2.1%) (within 2% it makes 250000, 460800, 1000000)")
    with pytest.raises(BadInput, match="cannot make it"):
        check_baud(ALL["nrf52840-dk"], 2_000_000)


@pytest.mark.parametrize(("answers", "state"), [(True, "max"), (False, "fallback")])
def test_nrf52840_clock_max_starts_the_crystal(answers: bool, state: str,
                                               tmp_path: Path) -> None:
    """TASKS_HFCLKSTART, then a bounded wait for EVENTS_HFCLKSTARTED (PS 6.4.2); the core
    runs at 64 MHz either way."""
    rf = RegisterFile.for_target(ALL["nrf52840-dk"], tmp_path, clock="max")
    if answers:
        rf.mirror(NRF_CLOCK_HFCLKSTARTED, 1, src=NRF_CLOCK_HFCLKSTART)
    assert rf.boot() == state
    assert rf.written(NRF_CLOCK_HFCLKSTART) == [1]
    assert rf.first_write(NRF_CLOCK_HFCLKSTARTED) < rf.first_write(NRF_CLOCK_HFCLKSTART)
    assert rf.core_hz == 64_000_000


# ---- the counter -----------------------------------------------------------------------------


def test_dwt_is_kept_only_when_it_counts(tmp_path: Path) -> None:
    """CYCCNT that advances: the DWT counts; one that reads 0 (QEMU): SysTick instead."""
    counting = RegisterFile.for_target(ALL["nucleo-f411re"], tmp_path)
    counting.count(DWT_CYCCNT, 7)
    counting.boot()
    assert counting.counter_kind == "dwt"
    assert counting.lib.hx_counter_read() % 7 == 0  # CYCCNT itself, as read
    still = RegisterFile.for_target(ALL["nucleo-f411re"], tmp_path)
    still.boot()
    assert still.counter_kind == "systick"
    # SysTick on the processor clock, interrupt on wrap (DDI0403E B3.3.3 SYST_CSR = 0b111).
    assert still.value(0xE000E010) == 0b111
