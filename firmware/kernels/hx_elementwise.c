/*
 * hx_elementwise.c - elementwise kernels: ADD, SUB, MUL, MAXIMUM, MINIMUM
 * (broadcasting), the rescale family (RELU, RELU6, integer QUANTIZE), LEAKY_RELU, PRELU, HARD_SWISH and the
 * lookup-table activations (LOGISTIC, TANH).
 *
 * Written from the TFLite quantization spec; the arithmetic is the one of
 * TFLite's reference kernels so the results are bit-exact with BUILTIN_REF.
 */
#include "hx_kernels.h"

#include "hx_fixedpoint.h"

/* ---- broadcasting ---------------------------------------------------------- */

/* Element strides of a 4-D NHWC tensor, 0 along dimensions of size 1 so that
 * the same element is reused across the output (broadcast). */
static hx_dims hx_broadcast_strides(hx_dims d) {
  hx_dims s;
  s.c = d.c == 1 ? 0 : 1;
  s.w = d.w == 1 ? 0 : d.c;
  s.h = d.h == 1 ? 0 : d.w * d.c;
  s.n = d.n == 1 ? 0 : d.h * d.w * d.c;
  return s;
}

/* Per-element function of a binary op: two int32 input values in, the clamped
 * output value out. */
typedef int32_t (*hx_binary_fn)(int32_t a, int32_t b, const void *params);

static void hx_binary_s8(hx_binary_fn fn, const void *params, hx_dims d1, const int8_t *in1,
                         hx_dims d2, const int8_t *in2, hx_dims od, int8_t *out) {
  const hx_dims s1 = hx_broadcast_strides(d1);
  const hx_dims s2 = hx_broadcast_strides(d2);
  int32_t n, h, w, c;
  for (n = 0; n < od.n; ++n) {
    for (h = 0; h < od.h; ++h) {
      for (w = 0; w < od.w; ++w) {
        const int8_t *a = in1 + n * s1.n + h * s1.h + w * s1.w;
        const int8_t *b = in2 + n * s2.n + h * s2.h + w * s2.w;
        for (c = 0; c < od.c; ++c) {
          *out++ = (int8_t)fn(a[c * s1.c], b[c * s2.c], params);
        }
      }
    }
  }
}

static void hx_binary_s16(hx_binary_fn fn, const void *params, hx_dims d1,
                          const int16_t *in1, hx_dims d2, const int16_t *in2, hx_dims od,
                          int16_t *out) {
  const hx_dims s1 = hx_broadcast_strides(d1);
  const hx_dims s2 = hx_broadcast_strides(d2);
  int32_t n, h, w, c;
  for (n = 0; n < od.n; ++n) {
    for (h = 0; h < od.h; ++h) {
      for (w = 0; w < od.w; ++w) {
        const int16_t *a = in1 + n * s1.n + h * s1.h + w * s1.w;
        const int16_t *b = in2 + n * s2.n + h * s2.h + w * s2.w;
        for (c = 0; c < od.c; ++c) {
          *out++ = (int16_t)fn(a[c * s1.c], b[c * s2.c], params);
        }
      }
    }
  }
}

/* ---- ADD / SUB --------------------------------------------------------------- */

/* One input on the common scale: offset, shifted left for headroom, rescaled. */
static int32_t hx_add_scale_input(int32_t x, int32_t offset, int32_t left_shift,
                                  int32_t multiplier, int32_t shift) {
  return hx_mul_by_quantized_multiplier_double(hx_wrap_shl(x + offset, left_shift),
                                               multiplier, shift);
}

static int32_t hx_add_finish(const hx_add_params *p, int32_t raw) {
  const int32_t out = hx_mul_by_quantized_multiplier_double(raw, p->output_multiplier,
                                                            p->output_shift);
  return hx_clamp(hx_wrap_add(out, p->output_offset), p->act_min, p->act_max);
}

static int32_t hx_add_element(int32_t a, int32_t b, const void *params) {
  const hx_add_params *p = (const hx_add_params *)params;
  const int32_t sa = hx_add_scale_input(a, p->input1_offset, p->left_shift,
                                        p->input1_multiplier, p->input1_shift);
  const int32_t sb = hx_add_scale_input(b, p->input2_offset, p->left_shift,
                                        p->input2_multiplier, p->input2_shift);
  return hx_add_finish(p, hx_wrap_add(sa, sb));
}

static int32_t hx_sub_element(int32_t a, int32_t b, const void *params) {
  const hx_add_params *p = (const hx_add_params *)params;
  const int32_t sa = hx_add_scale_input(a, p->input1_offset, p->left_shift,
                                        p->input1_multiplier, p->input1_shift);
  const int32_t sb = hx_add_scale_input(b, p->input2_offset, p->left_shift,
                                        p->input2_multiplier, p->input2_shift);
  return hx_add_finish(p, hx_wrap_sub(sa, sb));
}

void hx_add_s8(const hx_add_params *p, hx_dims input1_dims, const int8_t *input1,
               hx_dims input2_dims, const int8_t *input2, hx_dims output_dims,
               int8_t *output) {
  hx_binary_s8(hx_add_element, p, input1_dims, input1, input2_dims, input2, output_dims,
               output);
}

void hx_sub_s8(const hx_add_params *p, hx_dims input1_dims, const int8_t *input1,
               hx_dims input2_dims, const int8_t *input2, hx_dims output_dims,
               int8_t *output) {
  hx_binary_s8(hx_sub_element, p, input1_dims, input1, input2_dims, input2, output_dims,
               output);
}

void hx_add_s16(const hx_add_params *p, hx_dims input1_dims, const int16_t *input1,
                hx_dims input2_dims, const int16_t *input2, hx_dims output_dims,
                int16_t *output) {
  hx_binary_s16(hx_add_element, p, input1_dims, input1, input2_dims, input2, output_dims,
                output);
}

void hx_sub_s16(const hx_add_params *p, hx_dims input1_dims, const int16_t *input1,
                hx_dims input2_dims, const int16_t *input2, hx_dims output_dims,
                int16_t *output) {
  hx_binary_s16(hx_sub_element, p, input1_dims, input1, input2_dims, input2, output_dims,
                output);
}

/* ---- MUL ----------------------------------------------------------------------- */

static int32_t hx_mul_element(int32_t a, int32_t b, const void *params) {
  const hx_mul_params *p = (const hx_mul_params *)params;
  const int32_t prod = (a + p->input1_offset) * (b + p->input2_offset); /* |prod| <= 2^16 */
  const int32_t out = hx_mul_by_quantized_multiplier_double(prod, p->output_multiplier,
                                                            p->output_shift);
  return hx_clamp(hx_wrap_add(out, p->output_offset), p->act_min, p->act_max);
}

void hx_mul_s8(const hx_mul_params *p, hx_dims input1_dims, const int8_t *input1,
               hx_dims input2_dims, const int8_t *input2, hx_dims output_dims,
               int8_t *output) {
  hx_binary_s8(hx_mul_element, p, input1_dims, input1, input2_dims, input2, output_dims,
               output);
}

/* ---- MAXIMUM, MINIMUM ---------------------------------------------------------- */

/* The quantization spec gives both inputs and the output one scale and zero point, so
 * the larger integer is the larger value; TFLite's reference kernel compares the stored
 * integers whatever their parameters, and so does this one. */
static int32_t hx_maximum_element(int32_t a, int32_t b, const void *params) {
  (void)params;
  return a > b ? a : b;
}

static int32_t hx_minimum_element(int32_t a, int32_t b, const void *params) {
  (void)params;
  return a < b ? a : b;
}

void hx_maximum_s8(hx_dims input1_dims, const int8_t *input1, hx_dims input2_dims,
                   const int8_t *input2, hx_dims output_dims, int8_t *output) {
  hx_binary_s8(hx_maximum_element, 0, input1_dims, input1, input2_dims, input2, output_dims,
               output);
}

void hx_minimum_s8(hx_dims input1_dims, const int8_t *input1, hx_dims input2_dims,
                   const int8_t *input2, hx_dims output_dims, int8_t *output) {
  hx_binary_s8(hx_minimum_element, 0, input1_dims, input1, input2_dims, input2, output_dims,
               output);
}

void hx_maximum_s16(hx_dims input1_dims, const int16_t *input1, hx_dims input2_dims,
                    const int16_t *input2, hx_dims output_dims, int16_t *output) {
  hx_binary_s16(hx_maximum_element, 0, input1_dims, input1, input2_dims, input2, output_dims,
                output);
}

void hx_minimum_s16(hx_dims input1_dims, const int16_t *input1, hx_dims input2_dims,
                    const int16_t *input2, hx_dims output_dims, int16_t *output) {
  hx_binary_s16(hx_minimum_element, 0, input1_dims, input1, input2_dims, input2, output_dims,
                output);
}

/* ---- rescale: RELU, RELU6, QUANTIZE -------------------------------------------- */

/* The wrapping add matters for int32 inputs only (QUANTIZE int32 -> int16). */
static int32_t hx_rescale_value(const hx_rescale_params *p, int32_t x) {
  const int32_t out = hx_mul_by_quantized_multiplier_double(hx_wrap_add(x, p->input_offset),
                                                            p->multiplier, p->shift);
  return hx_clamp(hx_wrap_add(out, p->output_offset), p->act_min, p->act_max);
}

void hx_rescale_s8(const hx_rescale_params *p, int32_t size, const int8_t *input,
                   int8_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int8_t)hx_rescale_value(p, input[i]);
  }
}

void hx_rescale_s16_s8(const hx_rescale_params *p, int32_t size, const int16_t *input,
                       int8_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int8_t)hx_rescale_value(p, input[i]);
  }
}

void hx_rescale_s8_s16(const hx_rescale_params *p, int32_t size, const int8_t *input,
                       int16_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int16_t)hx_rescale_value(p, input[i]);
  }
}

void hx_rescale_s16(const hx_rescale_params *p, int32_t size, const int16_t *input,
                    int16_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int16_t)hx_rescale_value(p, input[i]);
  }
}

void hx_rescale_s32_s16(const hx_rescale_params *p, int32_t size, const int32_t *input,
                        int16_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int16_t)hx_rescale_value(p, input[i]);
  }
}

void hx_rescale_s16_s32(const hx_rescale_params *p, int32_t size, const int16_t *input,
                        int32_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = hx_rescale_value(p, input[i]);
  }
}

/* ---- LEAKY_RELU ------------------------------------------------------------------ */

/* The unclamped output of one element. */
static int32_t hx_leaky_relu_value(const hx_leaky_relu_params *p, int32_t x) {
  const int32_t v = x + p->input_offset;
  int32_t scaled;
  if (v >= 0) {
    scaled = hx_mul_by_quantized_multiplier_double(v, p->identity_multiplier,
                                                   p->identity_shift);
  } else {
    scaled = hx_mul_by_quantized_multiplier_double(v, p->alpha_multiplier, p->alpha_shift);
    if (p->alpha_negative) {
      scaled = -scaled;
    }
  }
  return hx_wrap_add(scaled, p->output_offset);
}

void hx_leaky_relu_s8(const hx_leaky_relu_params *p, int32_t size, const int8_t *input,
                      int8_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int8_t)hx_clamp(hx_leaky_relu_value(p, input[i]), INT8_MIN, INT8_MAX);
  }
}

void hx_leaky_relu_s16(const hx_leaky_relu_params *p, int32_t size,
                       const int16_t *input, int16_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int16_t)hx_clamp(hx_leaky_relu_value(p, input[i]), INT16_MIN, INT16_MAX);
  }
}

/* ---- PRELU ----------------------------------------------------------------------- */

static int32_t hx_prelu_element(int32_t x, int32_t alpha, const void *params) {
  const hx_prelu_params *p = (const hx_prelu_params *)params;
  const int32_t v = x + p->input_offset;
  int32_t out;
  if (v >= 0) {
    out = hx_mul_by_quantized_multiplier_double(v, p->multiplier_1, p->shift_1);
  } else {
    out = hx_mul_by_quantized_multiplier_double(v * (alpha + p->alpha_offset),
                                                p->multiplier_2, p->shift_2);
  }
  return hx_clamp(hx_wrap_add(out, p->output_offset), INT8_MIN, INT8_MAX);
}

void hx_prelu_s8(const hx_prelu_params *p, hx_dims input_dims, const int8_t *input,
                 hx_dims alpha_dims, const int8_t *alpha, hx_dims output_dims,
                 int8_t *output) {
  hx_binary_s8(hx_prelu_element, p, input_dims, input, alpha_dims, alpha, output_dims,
               output);
}

/* ---- HARD_SWISH ------------------------------------------------------------------- */

/* int16 helpers of the hard-swish fixed-point pipeline. */
/* v * 2^amount saturated to int16 (amount >= 0). */
static int16_t hx_sat_shl16(int16_t v, int32_t amount) {
  int64_t r = (int64_t)v * ((int64_t)1 << (amount > 40 ? 40 : amount));
  if (r > INT16_MAX) {
    r = INT16_MAX;
  } else if (r < INT16_MIN) {
    r = INT16_MIN;
  }
  return (int16_t)r;
}

/* Q0.15 product rounded to nearest (ties away from zero), -1 * -1 saturating. */
static int16_t hx_srdhm16(int16_t a, int16_t b) {
  const int32_t prod = (int32_t)a * (int32_t)b;
  const int32_t nudge = prod >= 0 ? (1 << 14) : (1 - (1 << 14));
  if (a == INT16_MIN && b == INT16_MIN) {
    return INT16_MAX;
  }
  return (int16_t)((prod + nudge) / (1 << 15)); /* C division truncates toward zero */
}

/* Q0.15 product truncated toward zero, -1 * -1 saturating. */
static int16_t hx_sdhm16(int16_t a, int16_t b) {
  const int32_t prod = (int32_t)a * (int32_t)b;
  if (a == INT16_MIN && b == INT16_MIN) {
    return INT16_MAX;
  }
  return (int16_t)(prod / (1 << 15));
}

static int16_t hx_hard_swish_value(const hx_hard_swish_params *p, int32_t x) {
  const int16_t in = (int16_t)(x - p->input_zero_point);
  const int16_t hires = (int16_t)(in * 128); /* |in| <= 255: fits */
  const int16_t preshift_out = hx_srdhm16(hires, (int16_t)p->output_multiplier);
  int16_t reluish = hires;
  int16_t result;
  /* Rescale x so that 3.0 maps to 32768 (saturating): [-3, 3] -> [-1, 1]. */
  if (p->reluish_exponent > 0) {
    reluish = hx_sat_shl16(reluish, p->reluish_exponent - 1);
  }
  reluish = hx_srdhm16(reluish, (int16_t)p->reluish_multiplier);
  if (p->reluish_exponent > 0) {
    reluish = hx_sat_shl16(reluish, 1);
  }
  if (p->reluish_exponent < 0) {
    reluish = (int16_t)RoundingDivideByPOT(reluish, -p->reluish_exponent);
  }
  /* [-1, 1] -> [0, 1] */
  reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
  result = hx_sdhm16(reluish, preshift_out);
  return (int16_t)(RoundingDivideByPOT(result, -p->output_exponent) + p->output_zero_point);
}

void hx_hard_swish_s8(const hx_hard_swish_params *p, int32_t size, const int8_t *input,
                      int8_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = (int8_t)hx_clamp(hx_hard_swish_value(p, input[i]), INT8_MIN, INT8_MAX);
  }
}

/* ---- lookup table --------------------------------------------------------------- */

void hx_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    output[i] = table[input[i] + 128];
  }
}
