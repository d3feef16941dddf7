/*
 * hx_softmax.c - SOFTMAX over the last axis, int8 in, int8 out with scale
 * 1/256 and zero point -128, all in integer fixed point:
 *   d      = x - max(row)                         (int, <= 0)
 *   d'     = d * beta * input_scale as Q5.26      (input_multiplier / shift)
 *   e      = exp(d') as Q0.31
 *   sum    = sum of e as Q12.19
 *   out    = e / sum * 256 - 128, rounded and clamped
 * Differences below diff_min would not fit Q5.26 and give -128.
 * The sum wraps past 4096 (12 integer bits), as in TFLite. Once the sum
 * reaches 2^8 (e.g. 512 equal values) the final shift exceeds 31 and every
 * output rounds to -128 here; LiteRT's reference kernel aborts on such rows.
 *
 * hx_softmax_s8_s16 is the same with an int16 output of scale 1/65536 and zero
 * point -32768 (16 output bits instead of 8).
 *
 * int16 in/out (hx_softmax_s16, output scale 1/32768, zero point 0) works
 * from two interpolated lookup tables made on the host:
 *   d      = (x - max(row)) rescaled so [-65535, 0] covers exp's [-10, 0]
 *   e      = exp_lut(d + 32767) as Q0.15
 *   sum    = sum of e (int32), normalised to 1 + f with f in [0, 1)
 *   out    = e * one_over_one_plus_x_lut(f) >> (31 - leading zeros of sum)
 */
#include "hx_fixedpoint.h"
#include "hx_fixedpoint16.h"
#include "hx_kernels.h"

#define HX_SOFTMAX_DIFF_INT_BITS 5
#define HX_SOFTMAX_ACCUM_INT_BITS 12

static int32_t hx_softmax_exp(const hx_softmax_params *p, int32_t diff) {
  const int32_t scaled =
      MultiplyByQuantizedMultiplierGreaterThanOne(diff, p->input_multiplier, p->input_left_shift);
  return hx_exp_on_negative_values_q5_26(scaled);
}

/* One row's maximum and the reciprocal of its sum of exponentials, as
 * recip * 2^-bits_over_unit (Q0.31). */
static int32_t hx_softmax_row_s8(const hx_softmax_params *p, const int8_t *in, int32_t depth,
                                 int32_t *max_out, int32_t *bits_over_unit) {
  int32_t max_v = INT8_MIN;
  int32_t sum = 0; /* Q12.19 */
  int32_t c;
  for (c = 0; c < depth; ++c) {
    if (in[c] > max_v) {
      max_v = in[c];
    }
  }
  for (c = 0; c < depth; ++c) {
    const int32_t diff = (int32_t)in[c] - max_v;
    if (diff >= p->diff_min) {
      /* Q0.31 -> Q12.19 */
      sum = hx_wrap_add(sum, RoundingDivideByPOT(hx_softmax_exp(p, diff),
                                                 HX_SOFTMAX_ACCUM_INT_BITS));
    }
  }
  *max_out = max_v;
  return hx_get_reciprocal(sum, HX_SOFTMAX_ACCUM_INT_BITS, bits_over_unit);
}

/* One output value with `out_bits` bits, offset by the type's minimum `out_min`. */
static int32_t hx_softmax_value_s8(const hx_softmax_params *p, int32_t diff, int32_t recip,
                                   int32_t bits_over_unit, int32_t out_bits,
                                   int32_t out_min) {
  int32_t prob;
  if (diff < p->diff_min) {
    return out_min;
  }
  prob = SaturatingRoundingDoublingHighMul(recip, hx_softmax_exp(p, diff));
  return RoundingDivideByPOT(prob, bits_over_unit + 31 - out_bits) + out_min;
}

void hx_softmax_s8(const hx_softmax_params *p, int32_t outer, int32_t depth,
                   const int8_t *input, int8_t *output) {
  int32_t r, c;
  for (r = 0; r < outer; ++r) {
    const int8_t *in = input + (int64_t)r * depth;
    int8_t *out = output + (int64_t)r * depth;
    int32_t max_v, bits_over_unit;
    const int32_t recip = hx_softmax_row_s8(p, in, depth, &max_v, &bits_over_unit);
    for (c = 0; c < depth; ++c) {
      const int32_t v = hx_softmax_value_s8(p, (int32_t)in[c] - max_v, recip,
                                            bits_over_unit, 8, INT8_MIN);
      out[c] = (int8_t)hx_clamp(v, INT8_MIN, INT8_MAX);
    }
  }
}

void hx_softmax_s8_s16(const hx_softmax_params *p, int32_t outer, int32_t depth,
                       const int8_t *input, int16_t *output) {
  int32_t r, c;
  for (r = 0; r < outer; ++r) {
    const int8_t *in = input + (int64_t)r * depth;
    int16_t *out = output + (int64_t)r * depth;
    int32_t max_v, bits_over_unit;
    const int32_t recip = hx_softmax_row_s8(p, in, depth, &max_v, &bits_over_unit);
    for (c = 0; c < depth; ++c) {
      const int32_t v = hx_softmax_value_s8(p, (int32_t)in[c] - max_v, recip,
                                            bits_over_unit, 16, INT16_MIN);
      out[c] = (int16_t)hx_clamp(v, INT16_MIN, INT16_MAX);
    }
  }
}

static int16_t hx_softmax_exp_s16(const hx_softmax_s16_params *p, int32_t diff) {
  const int32_t scaled =
      hx_mul_by_quantized_multiplier_double(diff, p->input_multiplier, p->input_shift);
  return hx_lut_lookup_s16(hx_sat_s16(scaled + INT16_MAX), p->exp_lut);
}

void hx_softmax_s16(const hx_softmax_s16_params *p, int32_t outer, int32_t depth,
                    const int16_t *input, int16_t *output) {
  int32_t r, c;
  for (r = 0; r < outer; ++r) {
    const int16_t *in = input + (int64_t)r * depth;
    int16_t *out = output + (int64_t)r * depth;
    int32_t max_v = INT16_MIN;
    int32_t sum = 0; /* Q16.15 */
    int32_t headroom_plus_one, right_shift, shifted;
    int16_t recip;
    for (c = 0; c < depth; ++c) {
      if (in[c] > max_v) {
        max_v = in[c];
      }
    }
    /* The exponentials wait in the output row until the sum is known. */
    for (c = 0; c < depth; ++c) {
      out[c] = hx_softmax_exp_s16(p, (int32_t)in[c] - max_v);
      sum += out[c];
    }
    /* sum = 2^k * (1 + f): f as Q0.15, recentred on [-32768, 32767] for the table. */
    headroom_plus_one = hx_clz32((uint32_t)sum);
    shifted = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
    recip = hx_lut_lookup_s16(hx_sat_s16(shifted - ((1 << 15) + (1 << 16))),
                              p->one_over_one_plus_x_lut);
    right_shift = 31 - headroom_plus_one;
    for (c = 0; c < depth; ++c) {
      const int64_t prod = (int64_t)out[c] * recip + ((int64_t)1 << (right_shift - 1));
      out[c] = (int16_t)hx_clamp((int32_t)(prod >> right_shift), 0, INT16_MAX);
    }
  }
}
