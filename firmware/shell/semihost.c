/*
 * semihost.c - read input vectors from a host file through Arm semihosting.
 *
 * Emulators only (QEMU with -semihosting-config enable=on): on a board without
 * a debugger a semihosting call faults, so the shell compiles this in only
 * when HX_SEMIHOSTING is 1. Bulk inputs then bypass the slow emulated UART.
 */
#include <stdint.h>

#include "hx_config.h"

#if HX_SEMIHOSTING

#define SYS_OPEN 0x01u
#define SYS_READ 0x06u
#define SYS_SEEK 0x0Au
#define OPEN_MODE_RB 1u

static int32_t semihost_call(uint32_t op, const void *args) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = args;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return (int32_t)r0;
}

static int32_t handle = -1;

/* Copy `len` bytes at `offset` of the inputs file into `dst`; 0 on success. */
int hx_semihost_read(uint32_t offset, uint8_t *dst, uint32_t len) {
  if (handle < 0) {
    static const char name[] = HX_SEMIHOST_FILE;
    const uint32_t open_args[3] = {(uint32_t)name, OPEN_MODE_RB, sizeof name - 1u};
    handle = semihost_call(SYS_OPEN, open_args);
    if (handle < 0) return -1;
  }
  const uint32_t seek_args[2] = {(uint32_t)handle, offset};
  if (semihost_call(SYS_SEEK, seek_args) != 0) return -2;
  const uint32_t read_args[3] = {(uint32_t)handle, (uint32_t)dst, len};
  return semihost_call(SYS_READ, read_args) == 0 ? 0 : -3; /* returns bytes NOT read */
}

#else

int hx_semihost_read(uint32_t offset, uint8_t *dst, uint32_t len) {
  (void)offset;
  (void)dst;
  (void)len;
  return -100; /* not built in */
}

#endif
