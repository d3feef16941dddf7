/*
 * clock_stm32h7_rcc.c - the STM32H7 clock tree (RM0433 "Reset and Clock Control
 * (RCC)", "Power control (PWR)"): the 64 MHz HSI out of reset, or with
 * HX_CLOCK_SETUP_MAX PLL1 from the HSI up to the board's maximum.
 *
 * The order follows RM0433: the supply configuration written once (LDO, as the
 * Nucleo-144 boards have it) and ACTVOSRDY awaited (6.8.4); the voltage scale
 * (PWR_D3CR VOS) set and VOSRDY awaited; PLL1 configured and locked; flash wait
 * states raised and read back (4.3.8); the domain prescalers set while still on
 * the HSI; SW = PLL1 and SWS checked. Every wait is bounded (hx_mmio_wait); a
 * step that never completes leaves the core on the HSI with the prescalers at 1
 * and hx_clock_state() "fallback".
 */
#include <stdint.h>

#include "hx_clock.h"
#include "hx_config.h"
#include "hx_mmio.h"

#define RCC_CR 0x58024400u
#define RCC_CFGR 0x58024410u
#define RCC_D1CFGR 0x58024418u
#define RCC_D2CFGR 0x5802441Cu
#define RCC_D3CFGR 0x58024420u
#define RCC_PLLCKSELR 0x58024428u
#define RCC_PLLCFGR 0x5802442Cu
#define RCC_PLL1DIVR 0x58024430u
#define PWR_CSR1 0x58024804u
#define PWR_CR3 0x5802480Cu
#define PWR_D3CR 0x58024818u
#define FLASH_ACR 0x52002000u

#define CR_PLL1ON (1u << 24)
#define CR_PLL1RDY (1u << 25)
#define CFGR_SW_MASK 0x7u
#define CFGR_SW_PLL1 0x3u
#define CFGR_SWS_MASK (0x7u << 3)
#define CFGR_SWS_PLL1 (0x3u << 3)
#define PLLCKSELR_DIVM1_MASK (0x3Fu << 4)
#define PLLCKSELR_SRC_MASK 0x3u
#define PLLCFGR_PLL1_MASK 0x0007000Fu /* DIVx1EN, PLL1RGE, PLL1VCOSEL, PLL1FRACEN */
#define PLLCFGR_DIVP1EN (1u << 16)
#define PLLCFGR_DIVQ1EN (1u << 17)
#define PLLCFGR_DIVR1EN (1u << 18)
#define CR3_BYPASS (1u << 0)
#define CR3_LDOEN (1u << 1)
#define CR3_SCUEN (1u << 2)
#define CSR1_ACTVOSRDY (1u << 13)
#define D3CR_VOS_MASK (0x3u << 14)
#define D3CR_VOSRDY (1u << 13)
#define ACR_LATENCY_MASK 0xFu

static uint32_t log2u(uint32_t v) {
  uint32_t n = 0;
  while (v > 1u) {
    v >>= 1;
    n++;
  }
  return n;
}
/* APB (DxPPREx): 1 -> 0, 2 -> 4, 4 -> 5, ...; AHB (HPRE): 1 -> 0, 2 -> 8, ... 16 -> 11. */
static uint32_t ppre(uint32_t div) { return div > 1u ? 3u + log2u(div) : 0u; }
static uint32_t hpre(uint32_t div) {
  uint32_t n = log2u(div);
  return n == 0u ? 0u : (n <= 4u ? 7u + n : 6u + n);
}

/* PLL1RGE: the reference clock's range, 1-2 MHz: 0, 2-4: 1, 4-8: 2, 8-16: 3. */
static uint32_t pll_range(void) {
  uint32_t ref = HX_CLOCK_HZ / HX_CLOCK_PLL_M;
  return ref > 8000000u ? 3u : ref > 4000000u ? 2u : ref > 2000000u ? 1u : 0u;
}

static uint32_t divr(uint32_t v, uint32_t otherwise) { return (v ? v : otherwise) - 1u; }

static int supply_and_scale(void) {
  hx_mmio_field(PWR_CR3, CR3_SCUEN | CR3_LDOEN | CR3_BYPASS, CR3_LDOEN);
  if (!hx_mmio_wait(PWR_CSR1, CSR1_ACTVOSRDY, CSR1_ACTVOSRDY)) return 0;
  hx_mmio_field(PWR_D3CR, D3CR_VOS_MASK, HX_CLOCK_VOS << 14);
  return hx_mmio_wait(PWR_D3CR, D3CR_VOSRDY, D3CR_VOSRDY);
}

static int pll1_on(void) {
  /* PLLSRC 0: the HSI. */
  hx_mmio_field(RCC_PLLCKSELR, PLLCKSELR_DIVM1_MASK | PLLCKSELR_SRC_MASK, HX_CLOCK_PLL_M << 4);
  hx_mmio_field(RCC_PLLCFGR, PLLCFGR_PLL1_MASK,
                (pll_range() << 2) | PLLCFGR_DIVP1EN | PLLCFGR_DIVQ1EN | PLLCFGR_DIVR1EN);
  hx_mmio_write(RCC_PLL1DIVR, (HX_CLOCK_PLL_N - 1u) | ((HX_CLOCK_PLL_P - 1u) << 9) |
                                  (divr(HX_CLOCK_PLL_Q, 2u) << 16) |
                                  (divr(HX_CLOCK_PLL_R, 2u) << 24));
  hx_mmio_set(RCC_CR, CR_PLL1ON);
  return hx_mmio_wait(RCC_CR, CR_PLL1RDY, CR_PLL1RDY);
}

int hx_clock_to_max(void) {
  if (!supply_and_scale() || !pll1_on()) return 0;
  hx_mmio_field(FLASH_ACR, ACR_LATENCY_MASK, HX_CLOCK_FLASH_LATENCY);
  if (!hx_mmio_wait(FLASH_ACR, ACR_LATENCY_MASK, HX_CLOCK_FLASH_LATENCY)) return 0;
  /* D1CPRE stays /1: the core runs at sys_ck. */
  hx_mmio_write(RCC_D1CFGR, hpre(HX_CLOCK_DIV_AHB) | (ppre(HX_CLOCK_DIV_APB3) << 4));
  hx_mmio_write(RCC_D2CFGR, (ppre(HX_CLOCK_DIV_APB1) << 4) | (ppre(HX_CLOCK_DIV_APB2) << 8));
  hx_mmio_write(RCC_D3CFGR, ppre(HX_CLOCK_DIV_APB4) << 4);
  hx_mmio_field(RCC_CFGR, CFGR_SW_MASK, CFGR_SW_PLL1);
  return hx_mmio_wait(RCC_CFGR, CFGR_SWS_MASK, CFGR_SWS_PLL1);
}

/* Back on the HSI with every domain prescaler at 1 and PLL1 off. */
void hx_clock_to_reset(void) {
  hx_mmio_field(RCC_CFGR, CFGR_SW_MASK, 0u);
  (void)hx_mmio_wait(RCC_CFGR, CFGR_SWS_MASK, 0u);
  hx_mmio_write(RCC_D1CFGR, 0u);
  hx_mmio_write(RCC_D2CFGR, 0u);
  hx_mmio_write(RCC_D3CFGR, 0u);
  hx_mmio_clear(RCC_CR, CR_PLL1ON);
}
