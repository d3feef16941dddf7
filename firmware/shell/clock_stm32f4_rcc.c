/*
 * clock_stm32f4_rcc.c - the STM32F4 clock tree: the 16 MHz HSI out of reset, or
 * with HX_CLOCK_SETUP_MAX the main PLL from the HSI up to the board's maximum
 * (RM0368/RM0383/RM0390/RM0090, "Reset and clock control (RCC)").
 *
 * The order follows the reference manuals: power interface clock on and the
 * regulator's voltage scale set (PWR_CR VOS) before the PLL starts; PLL on and
 * locked; over-drive (F446) on and switched; flash wait states raised and read
 * back before the clock goes up ("Increasing the CPU frequency", RM0368 3.5.1);
 * bus prescalers set while still on the HSI; then SW = PLL and SWS checked.
 * Every wait is bounded (hx_mmio_wait): a step that never completes - in QEMU,
 * which models no RCC, every one - leaves the core on the HSI, the prescalers
 * undone, and hx_clock_state() "fallback".
 *
 * The PLL, prescalers, wait states and voltage scale come from targets.toml
 * (HX_CLOCK_* in hx_config.h); the register layout is the F4 family's.
 */
#include <stdint.h>

#include "hx_clock.h"
#include "hx_config.h"
#include "hx_mmio.h"

#define RCC_CR 0x40023800u
#define RCC_PLLCFGR 0x40023804u
#define RCC_CFGR 0x40023808u
#define RCC_APB1ENR 0x40023840u
#define PWR_CR 0x40007000u
#define PWR_CSR 0x40007004u
#define FLASH_ACR 0x40023C00u

#define CR_PLLON (1u << 24)
#define CR_PLLRDY (1u << 25)
#define CFGR_SW_MASK 0x3u
#define CFGR_SW_PLL 0x2u
#define CFGR_SWS_MASK (0x3u << 2)
#define CFGR_SWS_PLL (0x2u << 2)
#define APB1ENR_PWREN (1u << 28)
#define PWR_CR_VOS_MASK (0x3u << 14)
#define PWR_CR_ODEN (1u << 16)
#define PWR_CR_ODSWEN (1u << 17)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)
#define ACR_LATENCY_MASK 0xFu
#define ACR_PRFTEN (1u << 8)
#define ACR_ICEN (1u << 9)
#define ACR_DCEN (1u << 10)

/* A divider 1, 2, 4, ... as its prescaler code: APB (PPREx) 1 -> 0, 2 -> 4, 4 -> 5, ...;
 * AHB (HPRE) 1 -> 0, 2 -> 8, 4 -> 9, 8 -> 10, 16 -> 11, 64 -> 12 (there is no /32). */
static uint32_t log2u(uint32_t v) {
  uint32_t n = 0;
  while (v > 1u) {
    v >>= 1;
    n++;
  }
  return n;
}
static uint32_t ppre(uint32_t div) { return div > 1u ? 3u + log2u(div) : 0u; }
static uint32_t hpre(uint32_t div) {
  uint32_t n = log2u(div);
  return n == 0u ? 0u : (n <= 4u ? 7u + n : 6u + n);
}

/* PLLM [5:0], PLLN [14:6], PLLP [17:16] (2 -> 0, 4 -> 1, ...), PLLSRC [22] (0: the HSI),
 * PLLQ [27:24], and PLLR [30:28] on the F446; the reserved bits keep their reset values. */
#define PLLCFGR_MASK 0x0F437FFFu
#define PLLCFGR_R_MASK (0x7u << 28)
static void set_pll(void) {
  uint32_t v = HX_CLOCK_PLL_M | (HX_CLOCK_PLL_N << 6) | ((HX_CLOCK_PLL_P / 2u - 1u) << 16);
  uint32_t mask = PLLCFGR_MASK;
  if (HX_CLOCK_PLL_Q) {
    v |= HX_CLOCK_PLL_Q << 24;
  } else {
    mask &= ~(0xFu << 24);
  }
  if (HX_CLOCK_PLL_R) {
    v |= HX_CLOCK_PLL_R << 28;
    mask |= PLLCFGR_R_MASK;
  }
  hx_mmio_field(RCC_PLLCFGR, mask, v);
}

static int overdrive(void) {
  hx_mmio_set(PWR_CR, PWR_CR_ODEN);
  if (!hx_mmio_wait(PWR_CSR, PWR_CSR_ODRDY, PWR_CSR_ODRDY)) return 0;
  hx_mmio_set(PWR_CR, PWR_CR_ODSWEN);
  return hx_mmio_wait(PWR_CSR, PWR_CSR_ODSWRDY, PWR_CSR_ODSWRDY);
}

int hx_clock_to_max(void) {
  hx_mmio_set(RCC_APB1ENR, APB1ENR_PWREN);
  (void)hx_mmio_read(RCC_APB1ENR); /* the clock is on two cycles after the write */
  hx_mmio_field(PWR_CR, PWR_CR_VOS_MASK, HX_CLOCK_VOS << 14);
  set_pll();
  hx_mmio_set(RCC_CR, CR_PLLON);
  if (!hx_mmio_wait(RCC_CR, CR_PLLRDY, CR_PLLRDY)) return 0;
  if (HX_CLOCK_OVERDRIVE && !overdrive()) return 0;
  hx_mmio_write(FLASH_ACR, HX_CLOCK_FLASH_LATENCY | ACR_PRFTEN | ACR_ICEN | ACR_DCEN);
  if (!hx_mmio_wait(FLASH_ACR, ACR_LATENCY_MASK, HX_CLOCK_FLASH_LATENCY)) return 0;
  hx_mmio_write(RCC_CFGR, (hpre(HX_CLOCK_DIV_AHB) << 4) | (ppre(HX_CLOCK_DIV_APB1) << 10) |
                              (ppre(HX_CLOCK_DIV_APB2) << 13));
  hx_mmio_field(RCC_CFGR, CFGR_SW_MASK, CFGR_SW_PLL);
  return hx_mmio_wait(RCC_CFGR, CFGR_SWS_MASK, CFGR_SWS_PLL);
}

/* Back on the HSI with every prescaler at 1 and the PLL off; the raised flash wait
 * states stay (more than needed is always allowed). */
void hx_clock_to_reset(void) {
  hx_mmio_write(RCC_CFGR, 0u);
  (void)hx_mmio_wait(RCC_CFGR, CFGR_SWS_MASK, 0u);
  hx_mmio_clear(RCC_CR, CR_PLLON);
}
