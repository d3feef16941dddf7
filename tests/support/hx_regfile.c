/*
 * hx_regfile.c - a recording register file for host tests of the firmware's
 * board code: with HX_MMIO_HOST defined, hx_mmio.h routes every register access
 * of the firmware here instead of to memory.
 *
 * Registers hold what was last written (or preset as their reset value); every
 * write is logged in order. Two rules stand in for hardware that answers:
 * a mirror makes bits read as set while other bits are set (a ready flag that
 * follows its enable: RCC_CR PLLRDY after PLLON), and a counter advances a
 * register on every read (DWT CYCCNT). A test that adds no mirror for a ready
 * flag gets hardware whose clock never becomes ready.
 */
#include <stdint.h>

#define MAX_REGS 512
#define MAX_LOG 4096
#define MAX_RULES 32

static uint32_t reg_addr[MAX_REGS], reg_value[MAX_REGS];
static int nregs;
static uint32_t log_addr[MAX_LOG], log_value[MAX_LOG];
static int nlog;
static uint32_t reads;

struct mirror {
  uint32_t dst, src, mask;
  int shift;
};
static struct mirror mirrors[MAX_RULES];
static int nmirrors;
static uint32_t count_addr[MAX_RULES], count_step[MAX_RULES];
static int ncounters;

static uint32_t *slot(uint32_t addr) {
  for (int i = 0; i < nregs; i++) {
    if (reg_addr[i] == addr) return &reg_value[i];
  }
  if (nregs == MAX_REGS) return &reg_value[MAX_REGS - 1]; /* the test sees the overflow */
  reg_addr[nregs] = addr;
  reg_value[nregs] = 0;
  return &reg_value[nregs++];
}

void hx_regfile_reset(void) { nregs = nlog = nmirrors = ncounters = 0; reads = 0; }

void hx_regfile_preset(uint32_t addr, uint32_t value) { *slot(addr) = value; }

/* Reading `dst` also shows (value of `src` & mask), shifted left by `shift` (right if < 0). */
void hx_regfile_mirror(uint32_t dst, uint32_t src, uint32_t mask, int shift) {
  mirrors[nmirrors++] = (struct mirror){dst, src, mask, shift};
}

void hx_regfile_count(uint32_t addr, uint32_t step) {
  count_addr[ncounters] = addr;
  count_step[ncounters++] = step;
}

uint32_t hx_regfile_value(uint32_t addr) { return *slot(addr); }
int hx_regfile_log_length(void) { return nlog; }
uint32_t hx_regfile_log_addr(int i) { return log_addr[i]; }
uint32_t hx_regfile_log_value(int i) { return log_value[i]; }
uint32_t hx_regfile_reads(void) { return reads; }

uint32_t hx_mmio_read(uint32_t addr) {
  reads++;
  for (int i = 0; i < ncounters; i++) {
    if (count_addr[i] == addr) *slot(addr) += count_step[i];
  }
  uint32_t v = *slot(addr);
  for (int i = 0; i < nmirrors; i++) {
    const struct mirror *m = &mirrors[i];
    if (m->dst != addr) continue;
    uint32_t bits = *slot(m->src) & m->mask;
    v |= m->shift >= 0 ? bits << m->shift : bits >> -m->shift;
  }
  return v;
}

void hx_mmio_write(uint32_t addr, uint32_t value) {
  *slot(addr) = value;
  if (nlog < MAX_LOG) {
    log_addr[nlog] = addr;
    log_value[nlog++] = value;
  }
}

/* What the firmware's other files would provide. */
void hx_proto_log(const char *text) { (void)text; }
