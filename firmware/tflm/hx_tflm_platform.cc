/*
 * hx_tflm_platform.cc - the two platform hooks TFLite Micro expects from a port.
 *
 * DebugLog text goes to the host as protocol LOG frames (one per line), and
 * TFLM's timer is the shell's counter (SysTick / DWT), so TFLM's own
 * profiling reads the same clock as the harness.
 */
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "hx_config.h"

extern "C" {
#include "hx_proto.h"
uint32_t hx_counter_read(void);
}

namespace {
char g_line[128];
std::size_t g_len = 0;
}  // namespace

extern "C" void DebugLog(const char *format, va_list args) {
  char text[128];
  int n = vsnprintf(text, sizeof text, format, args);
  for (int i = 0; i < n && text[i] != '\0'; i++) {
    // Flush on newline, or when the line buffer is full.
    if (text[i] == '\n' || g_len + 1 >= sizeof g_line) {
      g_line[g_len] = '\0';
      if (g_len > 0) hx_proto_log(g_line);
      g_len = 0;
      if (text[i] == '\n') continue;
    }
    g_line[g_len++] = text[i];
  }
}

extern "C" int DebugVsnprintf(char *buffer, std::size_t buf_size, const char *format,
                              va_list vlist) {
  return vsnprintf(buffer, buf_size, format, vlist);
}

/* TFLM plans all memory in the arena; nothing should call malloc. If something
 * does (newlib's stdio can), it gets NULL rather than memory past the stack. */
extern "C" void *_sbrk(std::ptrdiff_t) {
  return reinterpret_cast<void *>(-1);
}

namespace tflite {
uint32_t ticks_per_second() { return HX_CLOCK_HZ; }
uint32_t GetCurrentTimeTicks() { return hx_counter_read(); }
}  // namespace tflite
