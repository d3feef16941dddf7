/*
 * hx_quantize.c - the float conversions of QUANTIZE and DEQUANTIZE (the
 * integer ones, int32 <-> int16 included, are the hx_rescale_* kernels of
 * hx_elementwise.c):
 *   float -> int8/16  q = round(x / scale) + zero point, ties away from zero
 *   int8/16 -> float  x = scale * (q - zero point)
 * The float ones use float32 arithmetic only: x / scale is one correctly
 * rounded division, and scale * (q - zp) one correctly rounded product (the
 * exact product of a float and a 17-bit integer fits a double, so rounding it
 * to float gives the same bits as LiteRT's double multiply).
 */
#include "hx_fixedpoint.h"
#include "hx_kernels.h"

/* round(x / scale) + zero point, clamped; the quotient is rounded half away
 * from zero (C's roundf) without libm: x - trunc(x) is exact in float. */
static int32_t hx_quantize_value(const hx_quantize_params *p, float x) {
  const float q = x / p->scale;
  float mag = q < 0.0f ? -q : q;
  float whole;
  int32_t v;
  if (mag > 1073741824.0f) { /* far outside any int16 range: saturate */
    mag = 1073741824.0f;
  }
  whole = (float)(int32_t)mag;
  if (mag - whole >= 0.5f) {
    whole += 1.0f;
  }
  v = (int32_t)whole;
  return hx_clamp((q < 0.0f ? -v : v) + p->zero_point, p->act_min, p->act_max);
}

void hx_quantize_f32_s8(const hx_quantize_params *p, int32_t size, const float *input,
                        int8_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int8_t)hx_quantize_value(p, input[i]);
  }
}

void hx_quantize_f32_s16(const hx_quantize_params *p, int32_t size, const float *input,
                         int16_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int16_t)hx_quantize_value(p, input[i]);
  }
}

void hx_dequantize_s8_f32(const hx_quantize_params *p, int32_t size, const int8_t *input,
                          float *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
  }
}

void hx_dequantize_s16_f32(const hx_quantize_params *p, int32_t size, const int16_t *input,
                           float *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = p->scale * (float)((int32_t)input[i] - p->zero_point);
  }
}
