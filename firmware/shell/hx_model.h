/*
 * hx_model.h - what the firmware shell needs from a generated model.
 *
 * The model file (builtin: generated C calls into hx_kernels; tflm: a TFLM
 * interpreter) defines these; the shell (protocol, main loop) uses them.
 */
#ifndef HX_MODEL_H
#define HX_MODEL_H

#include <stdint.h>

typedef struct {
  uint8_t *data;
  uint32_t size; /* bytes */
} hx_io;

/* Not const: a runtime that places tensors at boot (tflm) fills the pointers in
 * hx_model_init(). */
extern hx_io hx_model_inputs[];
extern const uint32_t hx_model_num_inputs;
extern hx_io hx_model_outputs[];
extern const uint32_t hx_model_num_outputs;

/* Every activation tensor, by the model's tensor index, for READ_TENSOR. */
typedef struct {
  uint16_t index;
  uint8_t *data;
  uint32_t size; /* bytes */
} hx_tensor;

extern hx_tensor hx_model_tensors[];
extern const uint32_t hx_model_num_tensors;
extern const uint32_t hx_model_num_ops;

/* key=value lines for the handshake: model_hash, runtime, arena_used, ... */
extern const char hx_model_info[];

/* Prepare the model once at boot (tflm: allocate tensors, fill the tables
 * above); 0 on success. The shell has a weak no-op for runtimes that need
 * nothing. */
int hx_model_init(void);

/* Run one inference on the current inputs; 0 on success. */
int hx_model_invoke(void);

/* Run only op `op` (ops run in order 0..n-1 make one inference); 0 on success.
 * Stepping lets the host read each op's output before the arena reuses it. */
int hx_model_invoke_op(uint32_t op);

#endif /* HX_MODEL_H */
