/*
 * hx_fixedpoint16.h - helpers of the 16x8 kernels (int16 activations, int8
 * weights, 64-bit accumulators), written from the TFLite 16x8 quantization
 * scheme; same conventions as hx_fixedpoint.h.
 */
#ifndef HX_FIXEDPOINT16_H
#define HX_FIXEDPOINT16_H

#include <stdint.h>

#include "hx_fixedpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * x * multiplier * 2^shift for a 64-bit accumulator x (|x| < 2^47). The Q0.31
 * multiplier is first rounded to 16 bits, so the product fits 64 bits; the
 * result is rounded to nearest with ties toward +infinity. This is the
 * requantization of the 16x8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED.
 */
static inline int32_t hx_mul_by_quantized_multiplier_s64(int64_t x, int32_t multiplier,
                                                         int32_t shift) {
  const int64_t reduced =
      multiplier < 0x7FFF0000 ? (int64_t)((multiplier + (1 << 15)) >> 16) : 0x7FFF;
  const int32_t total_shift = 15 - shift;
  const int64_t round = (int64_t)1 << (total_shift - 1);
  return (int32_t)((x * reduced + round) >> total_shift);
}

/*
 * x * multiplier * 2^shift for a 64-bit accumulator x (|x| < 2^48) with one
 * rounding of the exact product (up to 79 bits, formed from two 32x32-bit
 * halves), ties away from zero. The 16x8 FULLY_CONNECTED requantizes this way.
 */
static inline int32_t hx_mul_by_quantized_multiplier_s64_single(int64_t x, int32_t multiplier,
                                                                int32_t shift) {
  const uint64_t mag = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
  const uint64_t hi = (mag >> 32) * (uint32_t)multiplier;
  uint64_t lo = (mag & 0xFFFFFFFFu) * (uint32_t)multiplier;
  int32_t total_shift = 31 - shift;
  uint64_t q;
  if (total_shift < 1) {
    total_shift = 1;
  }
  lo += (uint64_t)1 << (total_shift - 1); /* lo < 2^63: no carry out */
  if (total_shift <= 32) {
    q = (hi << (32 - total_shift)) + (lo >> total_shift);
  } else {
    q = (hi + (lo >> 32)) >> (total_shift - 32);
  }
  return x < 0 ? (int32_t)(0u - (uint32_t)q) : (int32_t)(uint32_t)q;
}

/*
 * Table lookup with linear interpolation in a 513-entry int16 table: the top
 * 9 bits of `value` pick an entry, the low 7 bits interpolate towards the
 * next one (rounded).
 */
static inline int16_t hx_lut_lookup_s16(int16_t value, const int16_t *lut) {
  const int32_t index = 256 + (value >> 7);
  const int32_t frac = value & 0x7F;
  const int32_t base = lut[index];
  const int32_t slope = lut[index + 1] - base;
  return (int16_t)(base + ((slope * frac + 64) >> 7));
}

static inline int16_t hx_sat_s16(int32_t v) {
  return (int16_t)hx_clamp(v, INT16_MIN, INT16_MAX);
}

#ifdef __cplusplus
}
#endif

#endif /* HX_FIXEDPOINT16_H */
