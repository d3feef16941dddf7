/*
 * hx_fully_connected.c - FULLY_CONNECTED: int8 in/out with int32
 * accumulation, 16x8 (int16 in/out, int8 weights, int64 accumulation and
 * bias), and float. The 16x8 version also rounds once, like LiteRT's (and
 * unlike the 16x8 convolutions, which first cut the multiplier to 16 bits).
 *
 * LiteRT's reference FULLY_CONNECTED requantizes with a single rounding (exact
 * 64-bit product, one rounding shift, ties away from zero), per-tensor and
 * per-channel alike, unlike its convolutions; this kernel does the same.
 * Define HX_FC_REQUANT_DOUBLE_ROUNDING to use the convolutions' double rounding
 * instead, which is what TFLite Micro's reference FULLY_CONNECTED does.
 */
#include "hx_fixedpoint.h"
#include "hx_fixedpoint16.h"
#include "hx_kernels.h"

void hx_fully_connected_s8(const hx_fc_params *p, const hx_requant *rq,
                           int32_t batches, int32_t accum_depth,
                           int32_t out_depth, const int8_t *input,
                           const int8_t *weights, const int32_t *bias,
                           int8_t *output) {
  int32_t b, o, d;
  for (b = 0; b < batches; ++b) {
    const int8_t *in_row = input + (int64_t)b * accum_depth;
    for (o = 0; o < out_depth; ++o) {
      const int8_t *w_row = weights + (int64_t)o * accum_depth;
      const int32_t ch = rq->per_channel ? o : 0;
      int32_t acc = 0;
      for (d = 0; d < accum_depth; ++d) {
        acc += ((int32_t)w_row[d] + p->filter_offset) * ((int32_t)in_row[d] + p->input_offset);
      }
      if (bias != 0) {
        acc += bias[o];
      }
#ifdef HX_FC_REQUANT_DOUBLE_ROUNDING
      acc = MultiplyByQuantizedMultiplier(acc, rq->multiplier[ch], rq->shift[ch]);
#else
      acc = hx_mul_by_quantized_multiplier_single(acc, rq->multiplier[ch], rq->shift[ch]);
#endif
      acc += p->output_offset;
      output[(int64_t)b * out_depth + o] = (int8_t)hx_clamp(acc, p->act_min, p->act_max);
    }
  }
}

void hx_fully_connected_s16(const hx_fc_params *p, const hx_requant *rq,
                            int32_t batches, int32_t accum_depth,
                            int32_t out_depth, const int16_t *input,
                            const int8_t *weights, const int64_t *bias,
                            int16_t *output) {
  int32_t b, o, d;
  for (b = 0; b < batches; ++b) {
    const int16_t *in_row = input + (int64_t)b * accum_depth;
    for (o = 0; o < out_depth; ++o) {
      const int8_t *w_row = weights + (int64_t)o * accum_depth;
      const int32_t ch = rq->per_channel ? o : 0;
      int64_t acc = 0;
      int32_t v;
      for (d = 0; d < accum_depth; ++d) {
        acc += ((int32_t)w_row[d] + p->filter_offset) * (int32_t)in_row[d];
      }
      if (bias != 0) {
        acc += bias[o];
      }
      v = hx_mul_by_quantized_multiplier_s64_single(acc, rq->multiplier[ch], rq->shift[ch]);
      output[(int64_t)b * out_depth + o] = (int16_t)hx_clamp(v, p->act_min, p->act_max);
    }
  }
}

/* std::min(std::max(x, lo), hi) as C++ writes it, so a NaN passes through alike. */
static inline float hx_clamp_f32(float x, float lo, float hi) {
  const float y = x < lo ? lo : x;
  return hi < y ? hi : y;
}

void hx_fully_connected_f32(const hx_fc_f32_params *p, int32_t batches,
                            int32_t accum_depth, int32_t out_depth,
                            const float *input, const float *weights,
                            const float *bias, float *output) {
  int32_t b, o, d;
  for (b = 0; b < batches; ++b) {
    const float *in_row = input + (int64_t)b * accum_depth;
    for (o = 0; o < out_depth; ++o) {
      const float *w_row = weights + (int64_t)o * accum_depth;
      float total = 0.0f;
      for (d = 0; d < accum_depth; ++d) {
        total += in_row[d] * w_row[d];
      }
      total += bias != 0 ? bias[o] : 0.0f;
      output[(int64_t)b * out_depth + o] = hx_clamp_f32(total, p->act_min, p->act_max);
    }
  }
}
