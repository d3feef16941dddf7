/*
 * hx_testdev.c - a host-side test device for the wire protocol.
 *
 * Runs firmware/proto/hx_proto.c unchanged, with stdin/stdout as the UART.
 * The "model" is trivial: output 0 = bytewise negation of input 0, output 1 =
 * input 1 reversed. Extra request types exercise the protocol's corners.
 * Built by the testdev fixture (tests/conftest.py), driven by tests/support/testdev.py.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hx_proto.h"

/* Test-only request types (answers are type | 0x80). */
enum {
  T_ECHO = 0x40,  /* -> 0xC0 with the same payload, sent with hx_proto_reply2 */
  T_FAULT = 0x41, /* -> FAULT frame with fixed registers, no answer */
  T_LOGS = 0x42,  /* u8 n -> n LOG frames, then an empty 0xC2 */
  T_CRC = 0x43,   /* -> 0xC3 u32 hx_crc32(payload) */
  T_BIG = 0x44    /* -> tries a 1025-byte reply: ERROR TOO_BIG */
};
#define INVOKE_SLOW 0x02u /* INVOKE flag: sleep 400 ms before answering */
#define INVOKE_LOG 0x01u  /* INVOKE flag: log a line before answering */

#define IN0 3000u
#define IN1 16u

static uint8_t in0[IN0], in1[IN1], out0[IN0], out1[IN1];
static uint8_t *const inputs[2] = {in0, in1};
static uint8_t *const outputs[2] = {out0, out1};
static uint8_t *const tensors[4] = {in0, in1, out0, out1};
static const uint32_t sizes[4] = {IN0, IN1, IN0, IN1};
static uint32_t invokes;

/* ---- port glue: stdin / stdout ----------------------------------------- */

static uint8_t rx[4096];
static size_t rx_pos, rx_end;
static int rx_eof;

int hx_port_getc(void) {
  if (rx_pos == rx_end) {
    ssize_t n = read(0, rx, sizeof rx);
    if (n <= 0) {
      if (n == 0) {
        rx_eof = 1;
      }
      return -1;
    }
    rx_pos = 0;
    rx_end = (size_t)n;
  }
  return rx[rx_pos++];
}

void hx_port_write(const uint8_t *data, uint32_t len) {
  while (len > 0) {
    ssize_t n = write(1, data, len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      exit(3);
    }
    data += n;
    len -= (uint32_t)n;
  }
}

/* ---- the app ----------------------------------------------------------- */

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static void handle_hello(const hx_frame *r) {
  char text[256];
  uint16_t n = 0;
  hx_kv_u32(text, &n, sizeof text, "proto", HX_PROTO_VERSION);
  hx_kv_str(text, &n, sizeof text, "build_id", "testdev");
  hx_kv_str(text, &n, sizeof text, "target", "host");
  hx_kv_str(text, &n, sizeof text, "runtime", "negate");
  hx_kv_str(text, &n, sizeof text, "counter", "none");
  hx_kv_u32(text, &n, sizeof text, "clock_hz", 4000000000u);
  hx_kv_str(text, &n, sizeof text, "inputs", "3000,16");
  hx_kv_str(text, &n, sizeof text, "outputs", "3000,16");
  hx_proto_reply(r, HX_T_INFO, (const uint8_t *)text, n);
}

static void handle(const hx_frame *r) {
  const uint8_t *p = r->payload;
  uint32_t i, idx, off, len;
  switch (r->type) {
  case HX_T_HELLO:
    handle_hello(r);
    return;
  case HX_T_WRITE_INPUT:
    if (r->len < 5) {
      hx_proto_ack(r, HX_ERR_BAD_REQUEST);
      return;
    }
    idx = p[0];
    off = hx_get_u32(p + 1);
    len = r->len - 5u;
    if (idx >= 2) {
      hx_proto_ack(r, HX_ERR_BAD_INDEX);
    } else if (off > sizes[idx] || len > sizes[idx] - off) {
      hx_proto_ack(r, HX_ERR_RANGE);
    } else {
      memcpy(inputs[idx] + off, p + 5, len);
      hx_proto_ack(r, HX_OK);
    }
    return;
  case HX_T_INVOKE:
    if (r->len < 1) {
      hx_proto_error(r, HX_ERR_BAD_REQUEST, "INVOKE needs flags");
      return;
    }
    invokes++;
    for (i = 0; i < IN0; i++) {
      out0[i] = (uint8_t)(0u - in0[i]);
    }
    for (i = 0; i < IN1; i++) {
      out1[i] = in1[IN1 - 1u - i];
    }
    if (p[0] & INVOKE_LOG) {
      hx_proto_log("invoked");
    }
    if (p[0] & INVOKE_SLOW) {
      sleep_ms(400);
    }
    hx_proto_invoked(r, HX_OK, invokes);
    return;
  case HX_T_READ_OUTPUT:
  case HX_T_READ_TENSOR: {
    int out = r->type == HX_T_READ_OUTPUT;
    uint32_t hl = out ? 1u : 2u;
    if (r->len < hl + 6u) {
      hx_proto_error(r, HX_ERR_BAD_REQUEST, "short request");
      return;
    }
    idx = out ? p[0] : hx_get_u16(p);
    off = hx_get_u32(p + hl);
    len = hx_get_u16(p + hl + 4u);
    if (idx >= (out ? 2u : 4u)) {
      hx_proto_error(r, HX_ERR_BAD_INDEX, "no such tensor");
      return;
    }
    {
      const uint8_t *base = out ? outputs[idx] : tensors[idx];
      uint32_t size = out ? sizes[2u + idx] : sizes[idx];
      if (off > size || len > size - off) {
        hx_proto_error(r, HX_ERR_RANGE, "beyond the end of the tensor");
        return;
      }
      /* Straight from the tensor: no copy in the app. */
      hx_proto_reply(r, (uint8_t)(r->type | 0x80u), base + off, (uint16_t)len);
    }
    return;
  }
  case HX_T_STATS: {
    char text[512];
    uint16_t n = 0;
    hx_kv_u32(text, &n, sizeof text, "invokes", invokes);
    hx_proto_stats_kv(text, &n, sizeof text);
    hx_proto_reply(r, HX_T_STATS_DATA, (const uint8_t *)text, n);
    return;
  }
  case T_ECHO: {
    uint16_t half = (uint16_t)(r->len / 2u);
    hx_proto_reply2(r, T_ECHO | 0x80u, p, half, p + half, (uint16_t)(r->len - half));
    return;
  }
  case T_FAULT: {
    const uint32_t regs[6] = {0x00010000u, 0x40000000u, 0x08001234u, 0xFFFFFFF9u, 0u, 0u};
    hx_proto_send_fault(regs);
    return;
  }
  case T_LOGS: {
    char line[] = "log line 0";
    uint32_t n = r->len ? p[0] : 0u;
    for (i = 0; i < n; i++) {
      line[sizeof line - 2u] = (char)('0' + i % 10u);
      hx_proto_log(line);
    }
    hx_proto_reply(r, T_LOGS | 0x80u, NULL, 0);
    return;
  }
  case T_CRC: {
    uint8_t crc[4];
    hx_put_u32(crc, hx_crc32(p, r->len));
    hx_proto_reply(r, T_CRC | 0x80u, crc, 4);
    return;
  }
  case T_BIG:
    hx_proto_reply2(r, T_BIG | 0x80u, in0, 1000, in0, 25);
    return;
  default:
    hx_proto_error(r, HX_ERR_UNKNOWN_TYPE, "unknown request type");
    return;
  }
}

void hx_app_handle(const hx_frame *req) {
  handle(req);
}

int main(void) {
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  hx_proto_init();
  hx_proto_log("testdev up");
  while (!rx_eof) {
    if (rx_pos == rx_end) {
      struct pollfd pfd;
      pfd.fd = 0;
      pfd.events = POLLIN;
      pfd.revents = 0;
      poll(&pfd, 1, -1);
    }
    hx_proto_poll();
  }
  return 0;
}
