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
 */
#include "hx_fixedpoint.h"
#include "hx_kernels.h"

#define HX_SOFTMAX_DIFF_INT_BITS 5
#define HX_SOFTMAX_ACCUM_INT_BITS 12

static int32_t hx_softmax_exp(const hx_softmax_params *p, int32_t diff) {
  const int32_t scaled =
      MultiplyByQuantizedMultiplierGreaterThanOne(diff, p->input_multiplier, p->input_left_shift);
  return hx_exp_on_negative_values_q5_26(scaled);
}

void hx_softmax_s8(const hx_softmax_params *p, int32_t outer, int32_t depth,
                   const int8_t *input, int8_t *output) {
  int32_t r, c;
  for (r = 0; r < outer; ++r) {
    const int8_t *in = input + (int64_t)r * depth;
    int8_t *out = output + (int64_t)r * depth;
    int32_t max_v = INT8_MIN;
    int32_t sum = 0; /* Q12.19 */
    int32_t bits_over_unit;
    int32_t recip;
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
    recip = hx_get_reciprocal(sum, HX_SOFTMAX_ACCUM_INT_BITS, &bits_over_unit);
    for (c = 0; c < depth; ++c) {
      const int32_t diff = (int32_t)in[c] - max_v;
      int32_t v = INT8_MIN;
      if (diff >= p->diff_min) {
        const int32_t prob = SaturatingRoundingDoublingHighMul(recip, hx_softmax_exp(p, diff));
        v = RoundingDivideByPOT(prob, bits_over_unit + 31 - 8) + INT8_MIN;
      }
      out[c] = (int8_t)hx_clamp(v, INT8_MIN, INT8_MAX);
    }
  }
}
