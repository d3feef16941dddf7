/*
 * app.c - the firmware shell's main loop: answer protocol requests by moving
 * bytes in and out of the model's tensors and running inferences.
 *
 * Runtime-independent: the model (builtin or tflm) sits behind hx_model.h.
 */
#include <stdint.h>
#include <string.h>

#include "hx_clock.h"
#include "hx_config.h"
#include "hx_model.h"
#include "hx_proto.h"

void hx_uart_init(void);
void hx_counter_init(void);
uint32_t hx_counter_read(void);
const char *hx_counter_kind(void);
int hx_semihost_read(uint32_t offset, uint8_t *dst, uint32_t len);

static uint32_t last_count;
static uint32_t invokes;

/* Without a cycle counter the shell reports 0 and says so in the handshake. */
__attribute__((weak)) void hx_counter_init(void) {}
__attribute__((weak)) uint32_t hx_counter_read(void) { return 0; }
__attribute__((weak)) const char *hx_counter_kind(void) { return "none"; }

/* The builtin runtime places everything at build time: nothing to prepare. */
__attribute__((weak)) int hx_model_init(void) { return 0; }
/* Arena bytes the runtime actually used, when it only knows at run time (tflm). */
__attribute__((weak)) uint32_t hx_model_arena_used(void) { return 0; }

static void reply_info(const hx_frame *req) {
  static char text[HX_MAX_PAYLOAD];
  uint16_t pos = 0;
  hx_kv_u32(text, &pos, sizeof text, "proto", HX_PROTO_VERSION);
  hx_kv_u32(text, &pos, sizeof text, "max_payload", HX_MAX_PAYLOAD);
  hx_kv_str(text, &pos, sizeof text, "build_id", HX_BUILD_ID);
  hx_kv_str(text, &pos, sizeof text, "target", HX_TARGET_NAME);
  hx_kv_str(text, &pos, sizeof text, "cpu", HX_CPU_NAME);
  hx_kv_u32(text, &pos, sizeof text, "clock_hz", hx_clock_core_hz()); /* the running clock */
  hx_kv_str(text, &pos, sizeof text, "clock", hx_clock_state());
  hx_kv_str(text, &pos, sizeof text, "counter", hx_counter_kind());
  hx_kv_u32(text, &pos, sizeof text, "semihosting", HX_SEMIHOSTING);
  hx_kv_u32(text, &pos, sizeof text, "inputs", hx_model_num_inputs);
  hx_kv_u32(text, &pos, sizeof text, "outputs", hx_model_num_outputs);
  if (hx_model_arena_used() != 0) {
    hx_kv_u32(text, &pos, sizeof text, "arena_used_bytes", hx_model_arena_used());
  }
  uint16_t n = (uint16_t)strlen(hx_model_info);
  if (pos + n <= sizeof text) {
    memcpy(text + pos, hx_model_info, n);
    pos = (uint16_t)(pos + n);
  }
  hx_proto_reply(req, HX_T_INFO, (const uint8_t *)text, pos);
}

/* Checks index/offset/length against an io table; replies with an error if bad. */
static const hx_io *io_span(const hx_frame *req, const hx_io *table, uint32_t count,
                            uint32_t index, uint32_t offset, uint32_t len) {
  if (index >= count) {
    hx_proto_error(req, HX_ERR_BAD_INDEX, "no such tensor");
    return 0;
  }
  const hx_io *io = &table[index];
  if (offset > io->size || len > io->size - offset) {
    hx_proto_error(req, HX_ERR_RANGE, "beyond the tensor");
    return 0;
  }
  return io;
}

static void write_input(const hx_frame *req) {
  if (req->len < 5) {
    hx_proto_error(req, HX_ERR_BAD_REQUEST, "short WRITE_INPUT");
    return;
  }
  uint32_t offset = hx_get_u32(req->payload + 1);
  uint32_t len = req->len - 5u;
  const hx_io *io =
      io_span(req, hx_model_inputs, hx_model_num_inputs, req->payload[0], offset, len);
  if (io) {
    memcpy(io->data + offset, req->payload + 5, len);
    hx_proto_ack(req, HX_OK);
  }
}

#define HX_INVOKE_STEP 0x01u
/* Emulators: first read every input from the semihosting file (payload: u32
 * offset of the vector's first input; inputs follow each other there), and
 * answer with the single output after the count - one request per vector. */
#define HX_INVOKE_VECTOR 0x02u

/* LOAD_INPUT: u8 input index, u32 offset in the host's inputs file (semihosting). */
static void load_input(const hx_frame *req) {
  if (req->len < 5) {
    hx_proto_error(req, HX_ERR_BAD_REQUEST, "short LOAD_INPUT");
    return;
  }
  uint32_t index = req->payload[0];
  if (index >= hx_model_num_inputs) {
    hx_proto_error(req, HX_ERR_BAD_INDEX, "no such input");
    return;
  }
  const hx_io *io = &hx_model_inputs[index];
  if (hx_semihost_read(hx_get_u32(req->payload + 1), io->data, io->size) != 0) {
    hx_proto_error(req, HX_ERR_NOT_READY, "semihosting read failed");
    return;
  }
  hx_proto_reply(req, HX_T_LOAD_INPUT | 0x80u, 0, 0);
}

static void invoke_vector(const hx_frame *req) {
  if (req->len < 5 || hx_model_num_outputs != 1 ||
      hx_model_outputs[0].size > HX_MAX_PAYLOAD - 5u) {
    hx_proto_error(req, HX_ERR_BAD_REQUEST, "VECTOR needs an offset and one small output");
    return;
  }
  uint32_t offset = hx_get_u32(req->payload + 1);
  for (uint32_t i = 0; i < hx_model_num_inputs; i++) {
    const hx_io *io = &hx_model_inputs[i];
    if (hx_semihost_read(offset, io->data, io->size) != 0) {
      hx_proto_error(req, HX_ERR_NOT_READY, "semihosting read failed");
      return;
    }
    offset += io->size;
  }
  uint32_t start = hx_counter_read();
  int status = hx_model_invoke();
  last_count = hx_counter_read() - start;
  invokes++;
  uint8_t head[5];
  head[0] = status == 0 ? HX_OK : HX_ERR_INVOKE;
  hx_put_u32(&head[1], last_count);
  hx_proto_reply2(req, HX_T_INVOKED, head, 5, hx_model_outputs[0].data,
                  status == 0 ? (uint16_t)hx_model_outputs[0].size : 0u);
}

static void invoke(const hx_frame *req) {
  uint8_t flags = req->len >= 1 ? req->payload[0] : 0;
  if ((flags & HX_INVOKE_STEP) && req->len < 3) {
    hx_proto_error(req, HX_ERR_BAD_REQUEST, "STEP needs an op index");
    return;
  }
  if (flags & HX_INVOKE_VECTOR) {
    invoke_vector(req);
    return;
  }
  uint32_t op = (flags & HX_INVOKE_STEP) ? hx_get_u16(req->payload + 1) : 0;
  if ((flags & HX_INVOKE_STEP) && op >= hx_model_num_ops) {
    hx_proto_error(req, HX_ERR_BAD_INDEX, "no such op");
    return;
  }
  uint32_t start = hx_counter_read();
  int status = (flags & HX_INVOKE_STEP) ? hx_model_invoke_op(op) : hx_model_invoke();
  last_count = hx_counter_read() - start;
  invokes++;
  hx_proto_invoked(req, status == 0 ? HX_OK : HX_ERR_INVOKE, last_count);
}

static void read_output(const hx_frame *req) {
  if (req->len < 7) {
    hx_proto_error(req, HX_ERR_BAD_REQUEST, "short READ_OUTPUT");
    return;
  }
  uint32_t offset = hx_get_u32(req->payload + 1);
  uint32_t len = hx_get_u16(req->payload + 5);
  const hx_io *io =
      io_span(req, hx_model_outputs, hx_model_num_outputs, req->payload[0], offset, len);
  if (io) hx_proto_reply(req, HX_T_OUTPUT_DATA, io->data + offset, (uint16_t)len);
}

static void read_tensor(const hx_frame *req) {
  if (req->len < 8) {
    hx_proto_error(req, HX_ERR_BAD_REQUEST, "short READ_TENSOR");
    return;
  }
  uint16_t index = hx_get_u16(req->payload);
  uint32_t offset = hx_get_u32(req->payload + 2);
  uint32_t len = hx_get_u16(req->payload + 6);
  for (uint32_t i = 0; i < hx_model_num_tensors; i++) {
    const hx_tensor *t = &hx_model_tensors[i];
    if (t->index != index) continue;
    if (offset > t->size || len > t->size - offset) {
      hx_proto_error(req, HX_ERR_RANGE, "beyond the tensor");
      return;
    }
    hx_proto_reply(req, HX_T_TENSOR_DATA, t->data + offset, (uint16_t)len);
    return;
  }
  hx_proto_error(req, HX_ERR_BAD_INDEX, "no such activation tensor");
}

static void stats(const hx_frame *req) {
  static char text[HX_MAX_PAYLOAD];
  uint16_t pos = 0;
  hx_kv_u32(text, &pos, sizeof text, "invokes", invokes);
  hx_kv_u32(text, &pos, sizeof text, "last_count", last_count);
  hx_proto_stats_kv(text, &pos, sizeof text);
  hx_proto_reply(req, HX_T_STATS_DATA, (const uint8_t *)text, pos);
}

void hx_app_handle(const hx_frame *req) {
  switch (req->type) {
    case HX_T_HELLO: reply_info(req); break;
    case HX_T_WRITE_INPUT: write_input(req); break;
    case HX_T_INVOKE: invoke(req); break;
    case HX_T_READ_OUTPUT: read_output(req); break;
    case HX_T_READ_TENSOR: read_tensor(req); break;
    case HX_T_LOAD_INPUT: load_input(req); break;
    case HX_T_STATS: stats(req); break;
    default: hx_proto_error(req, HX_ERR_UNKNOWN_TYPE, "request not handled"); break;
  }
}

int main(void) {
  hx_clock_init(); /* before the UART: its divisor depends on the clock */
  hx_uart_init();
  hx_counter_init();
  hx_proto_init();
  hx_proto_log("harness firmware up: " HX_TARGET_NAME ", build " HX_BUILD_ID);
  if (hx_model_init() != 0) {
    hx_proto_log("model init failed: every INVOKE will fail");
  }
  for (;;) {
    hx_proto_poll();
    /* Sleep until a byte (or SysTick) arrives: on a board this saves power, in
     * an emulator it leaves the host CPU to the emulated UART. */
    hx_port_idle();
  }
}
