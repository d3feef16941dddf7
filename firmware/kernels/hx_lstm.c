/*
 * hx_lstm.c - UNIDIRECTIONAL_SEQUENCE_LSTM, the fully integer LSTM of the TFLite
 * quantization spec: int8 input, output and output state, int16 cell state
 * (scale 2^cell_shift), gates in Q3.12 -> Q0.15.
 *
 * Per time step and batch, for each cell j (all gates read the previous output
 * state h, so the new h is written to the output row first and copied to the
 * state at the end of the step):
 *   gate  = sat16(rq_in(W_x[j] . x + b_x[j]) + rq_rec(W_h[j] . h + b_h[j]))
 *   i, f, o = sigmoid(gate); g = tanh(gate)            (Q3.12 -> Q0.15)
 *   c     = sat16(round(f * c / 2^15) + round(i * g / 2^(30 + cell_shift))), clipped
 *   h[j]  = sat8(rq_hidden(o * tanh(c)) + hidden_zp)   (tanh of Q(15 + cell_shift))
 * The int16 sigmoid and tanh are gemmlowp's fixed-point ones (exp by a Taylor
 * polynomial and a barrel of exp(-2^k) factors, 1/(1+x) by Newton-Raphson), the
 * functions LiteRT's LSTM uses, reproduced with int16 raw values: wrapping int16
 * adds, rounding doubling high multiplies, saturating shifts.
 */
#include <string.h>

#include "hx_fixedpoint.h"
#include "hx_kernels.h"

/* ---- gemmlowp int16 fixed point ------------------------------------------- */

static int16_t wrap16(int32_t v) { return (int16_t)(uint16_t)(uint32_t)v; }

static int16_t sat16(int32_t v) { return (int16_t)hx_clamp(v, INT16_MIN, INT16_MAX); }

/* round(a * b / 2^15); -1 * -1 saturates. */
static int16_t mul16(int16_t a, int16_t b) {
  const int32_t ab = (int32_t)a * (int32_t)b;
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  if (a == INT16_MIN && b == INT16_MIN) {
    return INT16_MAX;
  }
  return (int16_t)((ab + nudge) / (1 << 15));
}

/* x * 2^exponent saturated to int16, exponent >= 0. */
static int16_t shl_sat16(int16_t x, int32_t exponent) {
  const int32_t threshold = (1 << (15 - exponent)) - 1;
  if (x > threshold) return INT16_MAX;
  if (x < -threshold) return INT16_MIN;
  return wrap16((int32_t)((uint32_t)(int32_t)x << exponent));
}

/* An int32 Q0.31 constant as the nearest int16 (Q0.15). */
#define HX_C16(q31) ((int16_t)(((q31) + (1 << 15)) >> 16))

/* exp(a) for a Q0.15 value a in [-1/4, 0): Taylor series around -1/8. */
static int16_t exp_quarter16(int16_t a) {
  const int16_t exp_minus_1_8 = 28918;  /* HX_C16(HX_Q31_EXP_MINUS_1_8) */
  const int16_t one_third = 10923;      /* HX_C16(HX_Q31_ONE_THIRD) */
  const int16_t x = wrap16(a + (1 << 12));
  const int16_t x2 = mul16(x, x);
  const int16_t x3 = mul16(x2, x);
  const int16_t x4 = mul16(x2, x2);
  const int16_t x4_over_4 = (int16_t)RoundingDivideByPOT(x4, 2);
  const int16_t sum = wrap16(mul16(wrap16(x4_over_4 + x3), one_third) + x2);
  const int16_t poly = (int16_t)RoundingDivideByPOT(sum, 1);
  return sat16(exp_minus_1_8 + mul16(exp_minus_1_8, wrap16(x + poly)));
}

/* exp(a) for an int16 Q(int_bits) value a <= 0, as Q0.15. */
static int16_t exp_neg16(int16_t a, int32_t int_bits) {
  static const int16_t factors[7] = {
      HX_C16(HX_Q31_EXP_MINUS_1_4), HX_C16(HX_Q31_EXP_MINUS_1_2), HX_C16(HX_Q31_EXP_MINUS_1),
      HX_C16(HX_Q31_EXP_MINUS_2),   HX_C16(HX_Q31_EXP_MINUS_4),   HX_C16(HX_Q31_EXP_MINUS_8),
      HX_C16(HX_Q31_EXP_MINUS_16)};
  const int32_t frac = 15 - int_bits;
  const int32_t quarter = 1 << (frac - 2);
  const int16_t mod_quarter_minus_quarter = wrap16((a & (quarter - 1)) - quarter);
  const int16_t remainder = wrap16(mod_quarter_minus_quarter - a);
  int16_t result = exp_quarter16(shl_sat16(mod_quarter_minus_quarter, int_bits));
  int32_t k;
  for (k = 0; k < 7; ++k) { /* factor k is exp(-2^(k-2)) */
    const int32_t exponent = k - 2;
    if (int_bits > exponent && ((remainder >> (frac + exponent)) & 1)) {
      result = mul16(result, factors[k]);
    }
  }
  if (int_bits > 5 && a < (int16_t)-(1 << (20 - int_bits))) { /* below -32: 0 */
    result = 0;
  }
  return a == 0 ? INT16_MAX : result;
}

/* Q2.13 estimate of 1 / half_den (half_den in [1/2, 1)), three Newton steps. */
static int16_t newton16(int16_t half_den) {
  const int16_t c48_17 = 23130;   /* 48/17 in Q2.13 */
  const int16_t cm32_17 = -15420; /* -32/17 in Q2.13 */
  int16_t x = wrap16(c48_17 + mul16(half_den, cm32_17));
  int32_t i;
  for (i = 0; i < 3; ++i) {
    const int16_t one_minus = wrap16((1 << 13) - mul16(half_den, x));
    x = wrap16(x + shl_sat16(mul16(x, one_minus), 2));
  }
  return x;
}

/* (a + 1) / 2 rounded, a in [0, 1) as Q0.15. */
static int16_t half_sum_one(int16_t a) { return (int16_t)(((int32_t)a + INT16_MAX + 1) / 2); }

int16_t hx_sigmoid_q3_12(int16_t x) {
  const int16_t mag = x > 0 ? x : wrap16(-(int32_t)x);
  const int16_t e = exp_neg16(wrap16(-(int32_t)mag), 3);
  const int16_t positive = shl_sat16(newton16(half_sum_one(e)), 1);
  if (x == 0) return 1 << 14;
  return x > 0 ? positive : wrap16(INT16_MAX - positive);
}

int16_t hx_tanh_s16(int16_t x, int32_t integer_bits) {
  const int16_t n = x < 0 ? x : wrap16(-(int32_t)x);
  /* exp(2n): the same raw value read with one more integer bit */
  const int16_t e = exp_neg16(n, integer_bits + 1);
  const int16_t t = shl_sat16(wrap16(newton16(half_sum_one(e)) - (1 << 13)), 2);
  if (x == 0) return 0;
  return x < 0 ? wrap16(-(int32_t)t) : t;
}

/* ---- the LSTM ---------------------------------------------------------- */

static int32_t dot_s8(const int8_t *w, const int8_t *v, int32_t n, int32_t bias) {
  uint32_t acc = (uint32_t)bias;
  int32_t i;
  for (i = 0; i < n; ++i) {
    acc += (uint32_t)((int32_t)w[i] * (int32_t)v[i]);
  }
  return (int32_t)acc;
}

/* Pre-activation of cell j of gate g, Q3.12. */
static int16_t gate_q3_12(const hx_lstm_params *p, const hx_lstm_gate *g, int32_t j,
                          const int8_t *x, const int8_t *h) {
  const int32_t from_x = MultiplyByQuantizedMultiplier(
      dot_s8(g->input_weights + j * p->inputs, x, p->inputs, g->input_bias[j]),
      g->input_multiplier, g->input_shift);
  const int32_t from_h = MultiplyByQuantizedMultiplier(
      dot_s8(g->recurrent_weights + j * p->cells, h, p->cells, g->recurrent_bias[j]),
      g->recurrent_multiplier, g->recurrent_shift);
  return sat16(hx_wrap_add(from_h, sat16(from_x)));
}

static void lstm_step(const hx_lstm_params *p, const int8_t *x, int8_t *h, int16_t *c,
                      int8_t *out) {
  const hx_lstm_gate *gate = p->gate;
  int32_t j;
  for (j = 0; j < p->cells; ++j) {
    const int16_t i = hx_sigmoid_q3_12(gate_q3_12(p, &gate[HX_LSTM_INPUT_GATE], j, x, h));
    const int16_t f = hx_sigmoid_q3_12(gate_q3_12(p, &gate[HX_LSTM_FORGET_GATE], j, x, h));
    const int16_t g = hx_tanh_s16(gate_q3_12(p, &gate[HX_LSTM_CELL_GATE], j, x, h), 3);
    const int16_t o = hx_sigmoid_q3_12(gate_q3_12(p, &gate[HX_LSTM_OUTPUT_GATE], j, x, h));
    const int16_t kept = wrap16(RoundingDivideByPOT((int32_t)f * c[j], 15));
    const int16_t added = wrap16(RoundingDivideByPOT((int32_t)i * g, 30 + p->cell_shift));
    int16_t cell = sat16((int32_t)kept + added);
    int32_t hidden;
    if (p->cell_clip > 0) {
      cell = (int16_t)hx_clamp(cell, -p->cell_clip, p->cell_clip);
    }
    c[j] = cell;
    hidden = MultiplyByQuantizedMultiplier((int32_t)o * hx_tanh_s16(cell, 15 + p->cell_shift),
                                           p->hidden_multiplier, p->hidden_shift);
    out[j] = (int8_t)hx_clamp(hidden + p->hidden_zp, -128, 127);
  }
  memcpy(h, out, (size_t)p->cells);
}

void hx_unidirectional_lstm_s8(const hx_lstm_params *p, const int8_t *input,
                               int8_t *output_state, int16_t *cell_state, int8_t *output) {
  int32_t b, t;
  for (b = 0; b < p->batches; ++b) {
    for (t = 0; t < p->steps; ++t) {
      const int32_t row = p->time_major ? t * p->batches + b : b * p->steps + t;
      lstm_step(p, input + row * p->inputs, output_state + b * p->cells,
                cell_state + b * p->cells, output + row * p->cells);
    }
  }
}
