/*
 * hx_proto.h - device side of the harness wire protocol (plain C99).
 *
 * Frame before encoding (all integers little endian):
 *
 *   u8 version (=1) | u8 type | u16 seq | u16 payload_len | payload | u32 crc
 *
 * crc is CRC-32 (IEEE 802.3, as zlib.crc32) over header + payload. The frame
 * is COBS-encoded and terminated by one 0x00 byte, so a receiver that sees
 * garbage simply resynchronises at the next 0x00. Empty frames (0x00 0x00)
 * are ignored. A response carries the seq of its request; unsolicited LOG and
 * FAULT frames carry seq 0.
 *
 * Requests (host -> device) and responses (device -> host):
 *   0x01 HELLO       ()                              -> 0x81 INFO  "key=value\n" text
 *   0x02 WRITE_INPUT (u8 index, u32 offset, bytes)   -> 0x82 ACK   (u8 status)
 *   0x03 INVOKE      (u8 flags)                      -> 0x83 INVOKED (u8 status, u32 count)
 *   0x04 READ_OUTPUT (u8 index, u32 offset, u16 len) -> 0x84 DATA  (bytes)
 *   0x05 READ_TENSOR (u16 index, u32 offset, u16 len)-> 0x85 DATA  (bytes)
 *   0x06 STATS       ()                              -> 0x86 STATS (app-defined bytes)
 *   0x7D ERROR  response to any request: u8 code, UTF-8 message
 *   0x7E LOG    unsolicited, seq 0: UTF-8 text
 *   0x7F FAULT  unsolicited, seq 0: u32 CFSR, HFSR, PC, LR, MMFAR, BFAR
 *
 * Duplicates: a request with the same seq AND type as the last one answered
 * gets the cached encoded reply again, without calling the app, so host
 * retries are idempotent (an INVOKE is never run twice for one request).
 *
 * Memory: about 2.4 KiB of static RAM (receive buffer, cached reply, a
 * 256-byte staging buffer for LOG/FAULT). No malloc, no stdio.
 * Nothing here is reentrant: call everything from one context (the main
 * loop / the app's handler). hx_proto_send_fault() may be called from a fault
 * handler; it first sends a 0x00 so that a frame it interrupted is discarded.
 *
 * Notes for the app:
 *  - Answer inside hx_app_handle(). Big outputs: the host reads them in
 *    chunks of <= 1024 bytes (READ_OUTPUT offset/length); answer each with
 *    hx_proto_reply(req, HX_T_OUTPUT_DATA, tensor + offset, length) - the
 *    bytes are encoded straight from the tensor (RAM or flash).
 *  - The response type is always request type | 0x80 (or HX_T_ERROR).
 *  - While INVOKE runs, the host resends INVOKE every second or so; those
 *    copies wait in the UART (or are lost to overrun, which is fine) and are
 *    answered from the cache afterwards. A UART driver must clear overrun
 *    errors rather than stop receiving.
 *  - hx_port_write() must work with interrupts disabled if
 *    hx_proto_send_fault() is called from a fault handler.
 */
#ifndef HX_PROTO_H
#define HX_PROTO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HX_PROTO_VERSION 1u
#ifndef HX_MAX_PAYLOAD /* small targets build with -DHX_MAX_PAYLOAD=256u */
#define HX_MAX_PAYLOAD 1024u
#endif
#define HX_HEADER_LEN 6u
#define HX_CRC_LEN 4u
#define HX_MAX_FRAME (HX_HEADER_LEN + HX_MAX_PAYLOAD + HX_CRC_LEN)
/* COBS adds at most one byte per 254 plus one; one more for the 0x00. */
#define HX_MAX_ENCODED (HX_MAX_FRAME + HX_MAX_FRAME / 254u + 2u)

/* Frame types. */
enum {
  HX_T_HELLO = 0x01,
  HX_T_WRITE_INPUT = 0x02,
  HX_T_INVOKE = 0x03,
  HX_T_READ_OUTPUT = 0x04,
  HX_T_READ_TENSOR = 0x05,
  HX_T_STATS = 0x06,
  HX_T_LOAD_INPUT = 0x07, /* u8 index, u32 offset: input from the semihosting file */
  HX_T_INFO = 0x81,
  HX_T_ACK = 0x82,
  HX_T_INVOKED = 0x83,
  HX_T_OUTPUT_DATA = 0x84,
  HX_T_TENSOR_DATA = 0x85,
  HX_T_STATS_DATA = 0x86,
  HX_T_ERROR = 0x7D,
  HX_T_LOG = 0x7E,
  HX_T_FAULT = 0x7F
};

/* Status (ACK, INVOKED) and ERROR codes; the host prints these names. */
enum {
  HX_OK = 0,
  HX_ERR_UNKNOWN_TYPE = 1, /* request type not handled */
  HX_ERR_BAD_REQUEST = 2,  /* payload too short / malformed */
  HX_ERR_BAD_INDEX = 3,    /* no such input / output / tensor */
  HX_ERR_RANGE = 4,        /* offset + length beyond the tensor */
  HX_ERR_INVOKE = 5,       /* the runtime's invoke failed */
  HX_ERR_TOO_BIG = 6,      /* reply would exceed HX_MAX_PAYLOAD */
  HX_ERR_NOT_READY = 7,    /* model not initialised / arena too small */
  HX_ERR_INTERNAL = 8
};

/* A decoded request. `payload` points into the receive buffer and is valid
 * only during hx_app_handle(). */
typedef struct {
  uint8_t type;
  uint16_t seq;
  uint16_t len;
  const uint8_t *payload;
} hx_frame;

/* Counters kept by the protocol layer (never reset except by init). */
typedef struct {
  uint32_t rx_ok;          /* valid frames handed to the app */
  uint32_t rx_duplicate;   /* answered from the reply cache */
  uint32_t rx_bad_crc;
  uint32_t rx_bad_len;     /* too short, length field mismatch */
  uint32_t rx_bad_version;
  uint32_t rx_bad_cobs;    /* truncated COBS block */
  uint32_t rx_overflow;    /* longer than HX_MAX_FRAME */
  uint32_t tx_frames;      /* replies, resent replies, logs, faults */
} hx_proto_stats;

/* ---- provided by the target glue / the app ---------------------------- */

/* Non-blocking: the next received byte 0..255, or -1 if none is waiting. */
extern int hx_port_getc(void);
/* Sleep until the next interrupt unless a byte is already waiting. */
extern void hx_port_idle(void);
/* Blocking: send all `len` bytes. */
extern void hx_port_write(const uint8_t *data, uint32_t len);
/* Called by hx_proto_poll() for each valid, non-duplicate request. It should
 * answer with exactly one hx_proto_reply*() or hx_proto_error() call. */
extern void hx_app_handle(const hx_frame *req);

/* ---- provided by hx_proto.c ------------------------------------------- */

void hx_proto_init(void);
/* Drain the bytes that are waiting; dispatches complete frames. */
void hx_proto_poll(void);

/* Answer `req`. The payload is COBS-encoded straight from `payload` into the
 * reply cache (no intermediate copy needed by the app: pass a pointer into
 * the tensor, in RAM or flash). len > HX_MAX_PAYLOAD sends ERROR TOO_BIG. */
void hx_proto_reply(const hx_frame *req, uint8_t type, const uint8_t *payload, uint16_t len);
/* Gather variant: payload = head[0..head_len) followed by data[0..data_len). */
void hx_proto_reply2(const hx_frame *req, uint8_t type, const uint8_t *head, uint16_t head_len,
                     const uint8_t *data, uint16_t data_len);
/* ERROR reply: u8 code + NUL-terminated message (may be NULL). */
void hx_proto_error(const hx_frame *req, uint8_t code, const char *msg);
/* Shorthands for the fixed-layout replies. */
void hx_proto_ack(const hx_frame *req, uint8_t status);
void hx_proto_invoked(const hx_frame *req, uint8_t status, uint32_t count);

/* Unsolicited LOG frame (text truncated to HX_MAX_PAYLOAD bytes). */
void hx_proto_log(const char *text);
/* Unsolicited FAULT frame: regs = CFSR, HFSR, PC, LR, MMFAR, BFAR. */
void hx_proto_send_fault(const uint32_t regs[6]);

const hx_proto_stats *hx_proto_get_stats(void);
/* CRC-32 as zlib.crc32(data). */
uint32_t hx_crc32(const uint8_t *data, uint32_t len);

/* ---- "key=value\n" text helpers for INFO / STATS (no stdio) -------------
 * Each appends to buf at *pos (never past cap) and returns 0, or -1 if the
 * text did not fit (then *pos is unchanged). */
int hx_kv_str(char *buf, uint16_t *pos, uint16_t cap, const char *key, const char *value);
int hx_kv_u32(char *buf, uint16_t *pos, uint16_t cap, const char *key, uint32_t value);
/* Append the hx_proto_stats counters as proto_rx_ok=... lines. */
int hx_proto_stats_kv(char *buf, uint16_t *pos, uint16_t cap);

/* ---- little-endian helpers for parsing requests ------------------------ */
static inline uint16_t hx_get_u16(const uint8_t *p) {
  return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}
static inline uint32_t hx_get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void hx_put_u16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void hx_put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

#ifdef __cplusplus
}
#endif

#endif /* HX_PROTO_H */
