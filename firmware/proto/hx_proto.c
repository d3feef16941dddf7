/*
 * hx_proto.c - device side of the harness wire protocol; see hx_proto.h.
 *
 * Receive: bytes are COBS-decoded one at a time into rx_buf; at each 0x00 the
 * frame is checked (length, version, CRC) and handed to hx_app_handle().
 * Transmit: replies are encoded into tx_buf, which doubles as the cache that
 * answers duplicate requests; LOG and FAULT frames are streamed through a
 * 256-byte staging buffer so that they never disturb the cached reply.
 */
#include "hx_proto.h"

#include <stddef.h>

/* ---- CRC-32 (reflected polynomial 0xEDB88320, 4-bit table) ------------- */

static const uint32_t crc_nibble[16] = {
    0x00000000U, 0x1DB71064U, 0x3B6E20C8U, 0x26D930ACU, 0x76DC4190U, 0x6B6B51F4U,
    0x4DB26158U, 0x5005713CU, 0xEDB88320U, 0xF00F9344U, 0xD6D6A3E8U, 0xCB61B38CU,
    0x9B64C2B0U, 0x86D3D2D4U, 0xA00AE278U, 0xBDBDF21CU};

/* `crc` is the running, inverted state (start with 0xFFFFFFFF). */
static uint32_t crc_update(uint32_t crc, const uint8_t *data, uint32_t len) {
  uint32_t i;
  for (i = 0; i < len; i++) {
    crc ^= data[i];
    crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    crc = (crc >> 4) ^ crc_nibble[crc & 15u];
  }
  return crc;
}

uint32_t hx_crc32(const uint8_t *data, uint32_t len) {
  return ~crc_update(0xFFFFFFFFU, data, len);
}

/* ---- state ------------------------------------------------------------- */

static hx_proto_stats stats;

static uint8_t rx_buf[HX_MAX_FRAME];
static uint32_t rx_len;
static uint8_t rx_code; /* code byte of the current COBS block */
static uint8_t rx_left; /* data bytes still expected in that block */
static uint8_t rx_any;  /* any byte since the last 0x00 */
static uint8_t rx_skip; /* overflowed: ignore bytes until the next 0x00 */

static uint8_t tx_buf[HX_MAX_ENCODED]; /* last encoded reply = the cache */
static uint32_t tx_len;
static uint8_t tx_valid;
static uint8_t tx_type; /* request type and seq the cache answers */
static uint16_t tx_seq;

static uint8_t stage_buf[256]; /* streamed frames: one COBS block + 0x00 */

/* ---- COBS encoder -------------------------------------------------------
 * Writes into `buf`. In stream mode every completed block is sent right away
 * and the buffer restarts, so 256 bytes suffice for frames of any length. */

typedef struct {
  uint8_t *buf;
  uint32_t len;      /* bytes used in buf */
  uint32_t code_idx; /* where the current block's code byte goes */
  uint8_t code;      /* 1 + data bytes in the current block */
  uint8_t stream;
  uint32_t crc;
} hx_enc;

static void enc_begin(hx_enc *e, uint8_t *buf, uint8_t stream) {
  e->buf = buf;
  e->code_idx = 0;
  e->len = 1;
  e->code = 1;
  e->stream = stream;
  e->crc = 0xFFFFFFFFU;
}

static void enc_close_block(hx_enc *e) {
  e->buf[e->code_idx] = e->code;
  if (e->stream) {
    hx_port_write(e->buf, e->len);
    e->len = 0;
  }
  e->code_idx = e->len;
  e->len++;
  e->code = 1;
}

static void enc_byte(hx_enc *e, uint8_t b) {
  if (b == 0) {
    enc_close_block(e);
    return;
  }
  e->buf[e->len++] = b;
  e->code++;
  if (e->code == 0xFF) {
    enc_close_block(e);
  }
}

static void enc_data(hx_enc *e, const uint8_t *data, uint32_t len) {
  uint32_t i;
  e->crc = crc_update(e->crc, data, len);
  for (i = 0; i < len; i++) {
    enc_byte(e, data[i]);
  }
}

static void enc_finish(hx_enc *e) {
  uint8_t crc[4];
  uint32_t i;
  hx_put_u32(crc, ~e->crc);
  for (i = 0; i < 4; i++) {
    enc_byte(e, crc[i]);
  }
  e->buf[e->code_idx] = e->code;
  e->buf[e->len++] = 0x00;
  if (e->stream) {
    hx_port_write(e->buf, e->len);
    e->len = 0;
  }
  stats.tx_frames++;
}

/* Encode a whole frame: header, head[], data[], CRC. */
static void enc_frame(hx_enc *e, uint8_t type, uint16_t seq, const uint8_t *head,
                      uint16_t head_len, const uint8_t *data, uint16_t data_len) {
  uint8_t hdr[HX_HEADER_LEN];
  hdr[0] = (uint8_t)HX_PROTO_VERSION;
  hdr[1] = type;
  hx_put_u16(&hdr[2], seq);
  hx_put_u16(&hdr[4], (uint16_t)(head_len + data_len));
  enc_data(e, hdr, HX_HEADER_LEN);
  if (head_len) {
    enc_data(e, head, head_len);
  }
  if (data_len) {
    enc_data(e, data, data_len);
  }
  enc_finish(e);
}

/* ---- transmit ---------------------------------------------------------- */

void hx_proto_reply2(const hx_frame *req, uint8_t type, const uint8_t *head, uint16_t head_len,
                     const uint8_t *data, uint16_t data_len) {
  hx_enc e;
  if ((uint32_t)head_len + data_len > HX_MAX_PAYLOAD) {
    hx_proto_error(req, HX_ERR_TOO_BIG, "reply too big");
    return;
  }
  tx_valid = 0;
  enc_begin(&e, tx_buf, 0);
  enc_frame(&e, type, req->seq, head, head_len, data, data_len);
  tx_len = e.len;
  tx_type = req->type;
  tx_seq = req->seq;
  tx_valid = 1;
  hx_port_write(tx_buf, tx_len);
}

void hx_proto_reply(const hx_frame *req, uint8_t type, const uint8_t *payload, uint16_t len) {
  hx_proto_reply2(req, type, NULL, 0, payload, len);
}

static uint16_t text_len(const char *s, uint16_t max) {
  uint16_t n = 0;
  if (s == NULL) {
    return 0;
  }
  while (n < max && s[n] != '\0') {
    n++;
  }
  return n;
}

void hx_proto_error(const hx_frame *req, uint8_t code, const char *msg) {
  hx_proto_reply2(req, HX_T_ERROR, &code, 1, (const uint8_t *)msg,
                  text_len(msg, HX_MAX_PAYLOAD - 1u));
}

void hx_proto_ack(const hx_frame *req, uint8_t status) {
  hx_proto_reply2(req, HX_T_ACK, &status, 1, NULL, 0);
}

void hx_proto_invoked(const hx_frame *req, uint8_t status, uint32_t count) {
  uint8_t p[5];
  p[0] = status;
  hx_put_u32(&p[1], count);
  hx_proto_reply2(req, HX_T_INVOKED, p, 5, NULL, 0);
}

void hx_proto_log(const char *text) {
  hx_enc e;
  enc_begin(&e, stage_buf, 1);
  enc_frame(&e, HX_T_LOG, 0, NULL, 0, (const uint8_t *)text, text_len(text, HX_MAX_PAYLOAD));
}

void hx_proto_send_fault(const uint32_t regs[6]) {
  static const uint8_t delim = 0x00;
  uint8_t p[24];
  hx_enc e;
  uint32_t i;
  for (i = 0; i < 6; i++) {
    hx_put_u32(&p[4u * i], regs[i]);
  }
  hx_port_write(&delim, 1); /* end any frame the fault interrupted */
  enc_begin(&e, stage_buf, 1);
  enc_frame(&e, HX_T_FAULT, 0, NULL, 0, p, 24);
}

/* ---- receive ----------------------------------------------------------- */

static void rx_reset(void) {
  rx_len = 0;
  rx_code = 0xFF; /* so that the first block does not insert a zero */
  rx_left = 0;
  rx_any = 0;
  rx_skip = 0;
}

static int rx_put(uint8_t b) {
  if (rx_len >= HX_MAX_FRAME) {
    stats.rx_overflow++;
    rx_skip = 1;
    return 0;
  }
  rx_buf[rx_len++] = b;
  return 1;
}

static void rx_frame(void) {
  hx_frame f;
  uint16_t plen;
  if (rx_len < HX_HEADER_LEN + HX_CRC_LEN) {
    stats.rx_bad_len++;
    return;
  }
  plen = hx_get_u16(&rx_buf[4]);
  if ((uint32_t)plen + HX_HEADER_LEN + HX_CRC_LEN != rx_len) {
    stats.rx_bad_len++;
    return;
  }
  if (hx_crc32(rx_buf, HX_HEADER_LEN + plen) != hx_get_u32(&rx_buf[HX_HEADER_LEN + plen])) {
    stats.rx_bad_crc++;
    return;
  }
  if (rx_buf[0] != HX_PROTO_VERSION) {
    stats.rx_bad_version++;
    return;
  }
  f.type = rx_buf[1];
  f.seq = hx_get_u16(&rx_buf[2]);
  f.len = plen;
  f.payload = &rx_buf[HX_HEADER_LEN];
  if (tx_valid && f.seq == tx_seq && f.type == tx_type) {
    stats.rx_duplicate++;
    stats.tx_frames++;
    hx_port_write(tx_buf, tx_len);
    return;
  }
  stats.rx_ok++;
  hx_app_handle(&f);
}

static void rx_byte(uint8_t b) {
  if (b == 0) {
    if (rx_any && !rx_skip) {
      if (rx_left != 0) {
        stats.rx_bad_cobs++;
      } else {
        rx_frame();
      }
    }
    rx_reset();
    return;
  }
  rx_any = 1;
  if (rx_skip) {
    return;
  }
  if (rx_left == 0) {
    /* b is a code byte; the block before it ended in an implied zero
     * unless it was a full 254-byte block. */
    if (rx_code != 0xFF && !rx_put(0)) {
      return;
    }
    rx_code = b;
    rx_left = (uint8_t)(b - 1u);
  } else {
    if (!rx_put(b)) {
      return;
    }
    rx_left--;
  }
}

void hx_proto_init(void) {
  stats = (hx_proto_stats){0};
  tx_valid = 0;
  tx_len = 0;
  rx_reset();
}

void hx_proto_poll(void) {
  /* Bounded, so that a babbling line cannot starve the main loop. */
  uint32_t budget = 2u * HX_MAX_ENCODED;
  int c;
  while (budget-- > 0u && (c = hx_port_getc()) >= 0) {
    rx_byte((uint8_t)c);
  }
}

const hx_proto_stats *hx_proto_get_stats(void) {
  return &stats;
}

/* ---- key=value text ---------------------------------------------------- */

static int kv_append(char *buf, uint16_t *pos, uint16_t cap, const char *key, const char *value,
                     uint16_t value_len) {
  uint16_t klen = text_len(key, 0xFFFFu);
  uint32_t need = (uint32_t)klen + 1u + value_len + 1u;
  uint16_t p = *pos;
  uint16_t i;
  if ((uint32_t)p + need > cap) {
    return -1;
  }
  for (i = 0; i < klen; i++) {
    buf[p++] = key[i];
  }
  buf[p++] = '=';
  for (i = 0; i < value_len; i++) {
    buf[p++] = value[i];
  }
  buf[p++] = '\n';
  *pos = p;
  return 0;
}

int hx_kv_str(char *buf, uint16_t *pos, uint16_t cap, const char *key, const char *value) {
  return kv_append(buf, pos, cap, key, value, text_len(value, 0xFFFFu));
}

int hx_kv_u32(char *buf, uint16_t *pos, uint16_t cap, const char *key, uint32_t value) {
  char digits[10];
  char text[10];
  uint16_t n = 0;
  uint16_t i;
  do {
    digits[n++] = (char)('0' + (value % 10u));
    value /= 10u;
  } while (value != 0u);
  for (i = 0; i < n; i++) {
    text[i] = digits[n - 1u - i];
  }
  return kv_append(buf, pos, cap, key, text, n);
}

int hx_proto_stats_kv(char *buf, uint16_t *pos, uint16_t cap) {
  uint16_t start = *pos;
  if (hx_kv_u32(buf, pos, cap, "proto_rx_ok", stats.rx_ok) ||
      hx_kv_u32(buf, pos, cap, "proto_rx_duplicate", stats.rx_duplicate) ||
      hx_kv_u32(buf, pos, cap, "proto_rx_bad_crc", stats.rx_bad_crc) ||
      hx_kv_u32(buf, pos, cap, "proto_rx_bad_len", stats.rx_bad_len) ||
      hx_kv_u32(buf, pos, cap, "proto_rx_bad_version", stats.rx_bad_version) ||
      hx_kv_u32(buf, pos, cap, "proto_rx_bad_cobs", stats.rx_bad_cobs) ||
      hx_kv_u32(buf, pos, cap, "proto_rx_overflow", stats.rx_overflow) ||
      hx_kv_u32(buf, pos, cap, "proto_tx_frames", stats.tx_frames)) {
    *pos = start;
    return -1;
  }
  return 0;
}
