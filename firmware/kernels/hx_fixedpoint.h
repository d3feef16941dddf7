/*
 * hx_fixedpoint.h - integer fixed-point helpers for the hx int8 kernels.
 *
 * Written from the TFLite 8-bit quantization spec. Values are int32 raw
 * fixed-point numbers Qm.n (m integer bits, n = 31 - m fractional bits).
 * Every helper is plain C99 integer arithmetic: no floating point, no
 * signed-overflow undefined behaviour (wrapping is done on uint32_t), and
 * signed right shifts are assumed arithmetic (true for gcc and clang).
 *
 * Requantization: by default the multiplier is applied with "double rounding"
 * (left shift, rounding doubling high multiply, rounding right shift), which
 * matches LiteRT's reference convolutions bit for bit (LiteRT's
 * FULLY_CONNECTED uses a single rounding; hx_fully_connected.c follows it).
 * Define HX_REQUANT_SINGLE_ROUNDING to apply a single 64-bit multiply and one
 * rounding shift everywhere instead (it does NOT match LiteRT's convolutions;
 * it exists to demonstrate drift attribution).
 */
#ifndef HX_FIXEDPOINT_H
#define HX_FIXEDPOINT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Wrapping 32-bit add / sub / left shift without signed-overflow UB. */
static inline int32_t hx_wrap_add(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t hx_wrap_sub(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a - (uint32_t)b);
}

static inline int32_t hx_wrap_shl(int32_t a, int32_t n) {
  return (int32_t)((uint32_t)a << n);
}

static inline int32_t hx_clamp(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/*
 * (a * b * 2) / 2^32 rounded to nearest (ties away from zero in the 64-bit
 * product sense), i.e. the product of two Q0.31 numbers as a Q0.31 number.
 * The single overflowing case, -1 * -1, saturates to the largest value.
 */
static inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) {
    return INT32_MAX;
  }
  const int64_t prod = (int64_t)a * (int64_t)b;
  const int64_t nudge = prod >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  /* C division truncates toward zero. */
  return (int32_t)((prod + nudge) / ((int64_t)1 << 31));
}

/*
 * x / 2^exponent rounded to nearest, ties away from zero. exponent >= 0.
 * An exponent of 32 or more rounds every int32 to zero.
 */
static inline int32_t RoundingDivideByPOT(int32_t x, int32_t exponent) {
  if (exponent <= 0) {
    return x;
  }
  if (exponent > 31) {
    return 0;
  }
  const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * 2^exponent with saturation (exponent > 0), or a rounding divide
 * (exponent < 0). */
static inline int32_t hx_sat_rounding_mul_pot(int32_t x, int32_t exponent) {
  if (exponent > 0) {
    const int32_t threshold = (int32_t)(((uint32_t)1 << (31 - exponent)) - 1u);
    if (x > threshold) {
      return INT32_MAX;
    }
    if (x < -threshold) {
      return INT32_MIN;
    }
    return hx_wrap_shl(x, exponent);
  }
  if (exponent < 0) {
    return RoundingDivideByPOT(x, -exponent);
  }
  return x;
}

/*
 * x * multiplier * 2^shift with one rounding: the exact 64-bit product is
 * divided by 2^(31 - shift) rounding to nearest, ties away from zero.
 * LiteRT's reference FULLY_CONNECTED requantizes this way; with
 * HX_REQUANT_SINGLE_ROUNDING every kernel does. Valid for shift <= 30.
 */
static inline int32_t hx_mul_by_quantized_multiplier_single(int32_t x, int32_t multiplier,
                                                            int32_t shift) {
  int32_t total_shift = 31 - shift;
  const int64_t prod = (int64_t)x * (int64_t)multiplier;
  int64_t mag;
  if (total_shift < 1) {
    total_shift = 1;
  }
  if (total_shift > 62) {
    return 0;
  }
  mag = prod < 0 ? -prod : prod;
  mag = (mag + ((int64_t)1 << (total_shift - 1))) >> total_shift;
  return (int32_t)(prod < 0 ? -mag : mag);
}

/* TFLite's default requantization: left shift, rounding doubling high
 * multiply, rounding right shift (two roundings). */
static inline int32_t hx_mul_by_quantized_multiplier_double(int32_t x, int32_t multiplier,
                                                            int32_t shift) {
  const int32_t left_shift = shift > 0 ? shift : 0;
  const int32_t right_shift = shift > 0 ? 0 : -shift;
  return RoundingDivideByPOT(
      SaturatingRoundingDoublingHighMul(hx_wrap_shl(x, left_shift), multiplier),
      right_shift);
}

/*
 * x * multiplier * 2^shift, where multiplier is Q0.31 in [2^30, 2^31) (or 0)
 * and shift follows TFLite's sign convention (positive = left). Double
 * rounding unless HX_REQUANT_SINGLE_ROUNDING is defined.
 */
static inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                                    int32_t shift) {
#ifdef HX_REQUANT_SINGLE_ROUNDING
  return hx_mul_by_quantized_multiplier_single(x, multiplier, shift);
#else
  return hx_mul_by_quantized_multiplier_double(x, multiplier, shift);
#endif
}

/* For multipliers > 1 (softmax input scaling): left shift, then high multiply. */
static inline int32_t MultiplyByQuantizedMultiplierGreaterThanOne(int32_t x,
                                                                  int32_t multiplier,
                                                                  int32_t left_shift) {
  return SaturatingRoundingDoublingHighMul(hx_wrap_shl(x, left_shift), multiplier);
}

/* Number of leading zero bits of a 32-bit value (32 for zero). */
static inline int32_t hx_clz32(uint32_t x) {
  int32_t n = 0;
  if (x == 0u) {
    return 32;
  }
  while ((x & 0x80000000u) == 0u) {
    x <<= 1;
    ++n;
  }
  return n;
}

/* (a + b) / 2 rounded to nearest, ties away from zero, without overflow. */
static inline int32_t hx_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  const int64_t sign = sum >= 0 ? 1 : -1;
  return (int32_t)((sum + sign) / 2);
}

/* Q0.31 fixed-point constants used by the exponential, each equal to
 * round(value * 2^31). */
#define HX_Q31_ONE INT32_MAX                 /* 1.0, saturated */
#define HX_Q31_EXP_MINUS_1_8 1895147668      /* exp(-1/8) */
#define HX_Q31_ONE_THIRD 715827883           /* 1/3 */
#define HX_Q31_EXP_MINUS_1_4 1672461947      /* exp(-2^-2) */
#define HX_Q31_EXP_MINUS_1_2 1302514674      /* exp(-2^-1) */
#define HX_Q31_EXP_MINUS_1 790015084         /* exp(-2^0) */
#define HX_Q31_EXP_MINUS_2 290630308         /* exp(-2^1) */
#define HX_Q31_EXP_MINUS_4 39332535          /* exp(-2^2) */
#define HX_Q31_EXP_MINUS_8 720401            /* exp(-2^3) */
#define HX_Q31_EXP_MINUS_16 242              /* exp(-2^4) */
/* Q2.29 constants for the reciprocal's Newton-Raphson start, round(v * 2^29). */
#define HX_Q229_48_OVER_17 1515870810        /* 48/17 */
#define HX_Q229_NEG_32_OVER_17 (-1010580540) /* -32/17 */

/*
 * exp(a) for a Q0.31 value a in [-1/4, 0): a fourth-order Taylor polynomial
 * around -1/8. Returns Q0.31.
 */
static inline int32_t hx_exp_on_interval_m1_4_to_0(int32_t a) {
  const int32_t x = hx_wrap_add(a, (int32_t)1 << 28); /* a + 1/8 */
  const int32_t x2 = SaturatingRoundingDoublingHighMul(x, x);
  const int32_t x3 = SaturatingRoundingDoublingHighMul(x2, x);
  const int32_t x4 = SaturatingRoundingDoublingHighMul(x2, x2);
  const int32_t x4_over_4 = RoundingDivideByPOT(x4, 2);
  /* (x^4/4 + x^3) / 3 + x^2, then halved: x^4/24 + x^3/6 + x^2/2 */
  const int32_t inner = hx_wrap_add(
      SaturatingRoundingDoublingHighMul(hx_wrap_add(x4_over_4, x3), HX_Q31_ONE_THIRD), x2);
  const int32_t poly = RoundingDivideByPOT(inner, 1);
  return hx_wrap_add(HX_Q31_EXP_MINUS_1_8,
                     SaturatingRoundingDoublingHighMul(HX_Q31_EXP_MINUS_1_8,
                                                       hx_wrap_add(x, poly)));
}

/*
 * exp(a) for a Q5.26 value a <= 0. Returns Q0.31.
 * a is split into (a mod 1/4) - 1/4, evaluated by the polynomial, and a sum of
 * powers of two -2^k (k = -2..4) whose exponentials multiply the result.
 */
static inline int32_t hx_exp_on_negative_values_q5_26(int32_t a) {
  const int32_t frac_bits = 26;
  const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
  const int32_t mod_quarter_minus_quarter = hx_wrap_sub(a & (one_quarter - 1), one_quarter);
  /* Q5.26 -> Q0.31: saturating multiply by 2^5. */
  int32_t result = hx_exp_on_interval_m1_4_to_0(hx_sat_rounding_mul_pot(mod_quarter_minus_quarter, 5));
  const int32_t remainder = hx_wrap_sub(mod_quarter_minus_quarter, a);
  static const int32_t factors[7] = {
      HX_Q31_EXP_MINUS_1_4, HX_Q31_EXP_MINUS_1_2, HX_Q31_EXP_MINUS_1, HX_Q31_EXP_MINUS_2,
      HX_Q31_EXP_MINUS_4,   HX_Q31_EXP_MINUS_8,   HX_Q31_EXP_MINUS_16};
  int32_t k;
  for (k = 0; k < 7; ++k) {
    /* bit for 2^(k-2) in Q5.26 */
    if (remainder & ((int32_t)1 << (frac_bits - 2 + k))) {
      result = SaturatingRoundingDoublingHighMul(result, factors[k]);
    }
  }
  if (a == 0) {
    result = HX_Q31_ONE;
  }
  return result;
}

/*
 * 1 / (1 + x) for a Q0.31 value x in [0, 1). Returns Q0.31.
 * Newton-Raphson on the half denominator d = (1 + x) / 2 in Q2.29, starting
 * at 48/17 - 32/17 * d, three iterations.
 */
static inline int32_t hx_one_over_one_plus_x_for_x_in_0_1(int32_t x) {
  const int32_t half_den = hx_rounding_half_sum(x, HX_Q31_ONE); /* Q0.31 */
  const int32_t one_q229 = (int32_t)1 << 29;
  /* Q0.31 * Q2.29 -> Q2.29 */
  int32_t est = hx_wrap_add(HX_Q229_48_OVER_17,
                            SaturatingRoundingDoublingHighMul(half_den, HX_Q229_NEG_32_OVER_17));
  int32_t i;
  for (i = 0; i < 3; ++i) {
    const int32_t d_times_est = SaturatingRoundingDoublingHighMul(half_den, est); /* Q2.29 */
    const int32_t one_minus = hx_wrap_sub(one_q229, d_times_est);                /* Q2.29 */
    /* Q2.29 * Q2.29 -> Q4.27, rescaled to Q2.29 with saturation. */
    const int32_t corr = hx_sat_rounding_mul_pot(SaturatingRoundingDoublingHighMul(est, one_minus), 2);
    est = hx_wrap_add(est, corr);
  }
  /* est approximates 1/d = 2/(1+x) in Q2.29; as Q1.30 the same raw value is
   * 1/(1+x); rescale Q1.30 -> Q0.31 with saturation. */
  return hx_sat_rounding_mul_pot(est, 1);
}

/*
 * Reciprocal of a positive Qm.(31-m) value x (m = x_integer_bits): returns a
 * Q0.31 value s and *num_bits_over_unit = b with 1/x = s * 2^-b.
 */
static inline int32_t hx_get_reciprocal(int32_t x, int32_t x_integer_bits,
                                        int32_t *num_bits_over_unit) {
  const int32_t headroom_plus_one = hx_clz32((uint32_t)x);
  if (headroom_plus_one >= 32) { /* x == 0: no reciprocal; report "huge" */
    *num_bits_over_unit = 0;
    return HX_Q31_ONE;
  }
  *num_bits_over_unit = x_integer_bits - headroom_plus_one;
  const int32_t shifted_minus_one =
      (int32_t)(((uint32_t)x << headroom_plus_one) - 0x80000000u);
  return hx_one_over_one_plus_x_for_x_in_0_1(shifted_minus_one);
}

#ifdef __cplusplus
}
#endif

#endif /* HX_FIXEDPOINT_H */
