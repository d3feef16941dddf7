/*
 * startup.c - reset, vector table and fault reporting for any Cortex-M.
 *
 * The linker script (templates/firmware/link.ld.j2) provides the symbols for
 * .data/.bss and the stack top.
 */
#include <stdint.h>

#include "hx_config.h"
#include "hx_mmio.h"
#include "hx_proto.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);
/* The SysTick counter (counter_systick.c) overrides this when it is linked. */
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));
/* The UART driver (firmware/uart/) overrides this with its receive interrupt. */
void hx_uart_irq_handler(void) __attribute__((weak, alias("Default_Handler")));

#define SCB_CPACR 0xE000ED88u
#define SCB_CFSR 0xE000ED28u
#define SCB_HFSR 0xE000ED2Cu
#define SCB_MMFAR 0xE000ED34u
#define SCB_BFAR 0xE000ED38u
#define SCB_SHCSR 0xE000ED24u

/* Core exceptions, then the HX_NUM_IRQS external interrupts of the target
 * (hx_config.h, from the target data). The only interrupt source the firmware
 * enables is its UART (the driver sets its own NVIC lines), so every external
 * vector points at the UART driver's handler: which line a board or QEMU
 * version wires the UART receive interrupt to then never matters here. */
__attribute__((section(".isr_vector"), used))
void (*const hx_vectors[16 + HX_NUM_IRQS])(void) = {
    (void (*)(void))(&_estack),
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler,
    HardFault_Handler, /* MemManage */
    HardFault_Handler, /* BusFault */
    HardFault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,   /* SVCall */
    Default_Handler,   /* DebugMon */
    0,
    Default_Handler,   /* PendSV */
    SysTick_Handler,
    [16 ... 16 + HX_NUM_IRQS - 1] = hx_uart_irq_handler, /* IRQ 0 .. HX_NUM_IRQS-1 */
};

void Reset_Handler(void) {
#if HX_HAS_FPU
  /* Full access to CP10/CP11 before any code may touch an FPU register. */
  hx_mmio_set(SCB_CPACR, 0xFu << 20);
  HX_ASM("dsb\n\tisb");
#endif
  uint32_t *src = &_sidata;
  for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
  for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
#if HX_HAS_FAULT_STATUS
  hx_mmio_set(SCB_SHCSR, 7u << 16); /* separate MemManage/BusFault/UsageFault */
#endif
  main();
  for (;;) {
  }
}

/* Called with the stacked exception frame: r0-r3, r12, lr, pc, xpsr. */
__attribute__((used)) void hx_fault_report(const uint32_t *frame) {
  uint32_t regs[6] = {0, 0, frame[6], frame[5], 0, 0};
#if HX_HAS_FAULT_STATUS
  regs[0] = hx_mmio_read(SCB_CFSR);
  regs[1] = hx_mmio_read(SCB_HFSR);
  regs[4] = hx_mmio_read(SCB_MMFAR);
  regs[5] = hx_mmio_read(SCB_BFAR);
#endif
  for (;;) {
    /* Repeat: the host may have missed the first one. */
    hx_proto_send_fault(regs);
    for (volatile uint32_t i = 0; i < 2000000u; i++) {
    }
  }
}

__attribute__((naked)) void HardFault_Handler(void) {
  __asm volatile(
      "movs r0, #4\n\t"
      "mov r1, lr\n\t"
      "tst r0, r1\n\t"
      "beq 1f\n\t"
      "mrs r0, psp\n\t"
      "b hx_fault_report\n"
      "1:\n\t"
      "mrs r0, msp\n\t"
      "b hx_fault_report\n");
}

void Default_Handler(void) {
  for (;;) {
  }
}
