/*
 * hx_recurrent.c - SVDF and state helpers (the LSTM is in hx_lstm.c).
 *
 * SVDF per batch: each filter's feature value (input x weights_feature,
 * requantized to the state's scale) becomes the newest entry of that filter's
 * memory (the state row is shifted left by one first); each filter's memory is
 * then dotted with its time weights, the `rank` filters of a unit are summed with
 * the unit's bias and requantized to int8. No activation beyond the int8 range
 * (LiteRT and TFLite Micro ignore SVDF's fused RELU in the integer kernel).
 *
 * The int16-state flavour is the TFLite spec's (LiteRT); the int8-state one,
 * with a state zero point, is TFLite Micro's. TFLite Micro adds the zero point
 * to the clamped feature value and stores it as int8 without clamping again;
 * so does this kernel (the cast wraps).
 */
#include <string.h>

#include "hx_fixedpoint.h"
#include "hx_kernels.h"

/* The requantized feature value of `filter` for one batch row of the input. */
static int32_t svdf_feature(const hx_svdf_params *p, const int8_t *in_row,
                            const int8_t *weights_feature, int32_t filter) {
  const int8_t *w = weights_feature + (int32_t)filter * p->inputs;
  uint32_t acc = 0;
  int32_t i;
  for (i = 0; i < p->inputs; ++i) {
    acc += (uint32_t)((int32_t)w[i] * ((int32_t)in_row[i] + p->input_offset));
  }
  return MultiplyByQuantizedMultiplier((int32_t)acc, p->feature_multiplier, p->feature_shift);
}

static int8_t svdf_output(const hx_svdf_params *p, uint32_t acc) {
  const int32_t v =
      MultiplyByQuantizedMultiplier((int32_t)acc, p->output_multiplier, p->output_shift);
  return (int8_t)hx_clamp(v + p->output_zp, -128, 127);
}

void hx_svdf_s8_s16(const hx_svdf_params *p, const int8_t *input,
                    const int8_t *weights_feature, const int16_t *weights_time,
                    const int32_t *bias, int16_t *state, int8_t *output) {
  const int32_t units = p->filters / p->rank;
  int32_t b, f, u, r, m;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_row = input + b * p->inputs;
    int16_t *st = state + b * p->filters * p->memory;
    for (f = 0; f < p->filters; ++f) {
      int16_t *mem = st + f * p->memory;
      memmove(mem, mem + 1, (size_t)(p->memory - 1) * sizeof *mem);
      mem[p->memory - 1] =
          (int16_t)hx_clamp(svdf_feature(p, in_row, weights_feature, f), INT16_MIN, INT16_MAX);
    }
    for (u = 0; u < units; ++u) {
      uint32_t acc = bias != 0 ? (uint32_t)bias[u] : 0u;
      for (r = 0; r < p->rank; ++r) {
        const int32_t filter = u * p->rank + r;
        const int16_t *mem = st + filter * p->memory;
        const int16_t *wt = weights_time + filter * p->memory;
        for (m = 0; m < p->memory; ++m) {
          acc += (uint32_t)((int32_t)wt[m] * (int32_t)mem[m]);
        }
      }
      output[b * units + u] = svdf_output(p, acc);
    }
  }
}

void hx_svdf_s8_s8(const hx_svdf_params *p, const int8_t *input,
                   const int8_t *weights_feature, const int8_t *weights_time,
                   const int32_t *bias, int8_t *state, int8_t *output) {
  const int32_t units = p->filters / p->rank;
  int32_t b, f, u, r, m;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *in_row = input + b * p->inputs;
    int8_t *st = state + b * p->filters * p->memory;
    for (f = 0; f < p->filters; ++f) {
      int8_t *mem = st + f * p->memory;
      const int32_t v = hx_clamp(svdf_feature(p, in_row, weights_feature, f), -128, 127);
      memmove(mem, mem + 1, (size_t)(p->memory - 1));
      mem[p->memory - 1] = (int8_t)(uint8_t)(uint32_t)(v + p->state_zp);
    }
    for (u = 0; u < units; ++u) {
      uint32_t acc = bias != 0 ? (uint32_t)bias[u] : 0u;
      for (r = 0; r < p->rank; ++r) {
        const int32_t filter = u * p->rank + r;
        const int8_t *mem = st + filter * p->memory;
        const int8_t *wt = weights_time + filter * p->memory;
        for (m = 0; m < p->memory; ++m) {
          acc += (uint32_t)((int32_t)wt[m] * ((int32_t)mem[m] - p->state_zp));
        }
      }
      output[b * units + u] = svdf_output(p, acc);
    }
  }
}

void hx_fill_s8(int8_t *dst, int32_t count, int8_t value) {
  int32_t i;
  for (i = 0; i < count; ++i) dst[i] = value;
}

void hx_fill_s16(int16_t *dst, int32_t count, int16_t value) {
  int32_t i;
  for (i = 0; i < count; ++i) dst[i] = value;
}
