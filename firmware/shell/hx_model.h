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

extern const hx_io hx_model_inputs[];
extern const uint32_t hx_model_num_inputs;
extern const hx_io hx_model_outputs[];
extern const uint32_t hx_model_num_outputs;

/* key=value lines for the handshake: model_hash, runtime, arena_used, ... */
extern const char hx_model_info[];

/* Run one inference on the current inputs; 0 on success. */
int hx_model_invoke(void);

#endif /* HX_MODEL_H */
