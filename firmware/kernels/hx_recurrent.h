/*
 * hx_recurrent.h - the builtin runtime's recurrent kernels (see hx_kernels.h for the
 * conventions: NHWC, TFLite shift signs, bit-exact with BUILTIN_REF).
 *
 * These ops keep state between invocations in the caller's memory (TFLite's
 * variable tensors): SVDF's activation state, the LSTM's output and cell state.
 * The generated model gives each op static storage for it, set to the tensors'
 * zero points once after boot; every call reads and updates it in place.
 */
#ifndef HX_RECURRENT_H
#define HX_RECURRENT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SVDF ----------------------------------------------------------------- */

typedef struct {
  int32_t batches, inputs;  /* input [batches][inputs] */
  int32_t filters, rank;    /* units = filters / rank */
  int32_t memory;           /* state [batches][filters][memory], newest last */
  int32_t input_offset;     /* minus the input zero point */
  int32_t state_zp;         /* the int8 state's zero point (0 for int16 state) */
  int32_t output_zp;
  int32_t feature_multiplier, feature_shift; /* input x features -> state */
  int32_t output_multiplier, output_shift;   /* state x time weights -> output */
} hx_svdf_params;

/* SVDF with int16 state and int16 time weights (the TFLite spec, LiteRT). */
void hx_svdf_s8_s16(const hx_svdf_params *p, const int8_t *input,
                    const int8_t *weights_feature, const int16_t *weights_time,
                    const int32_t *bias, int16_t *state, int8_t *output);

/* SVDF with an int8 state (with zero point) and int8 time weights (TFLite Micro). */
void hx_svdf_s8_s8(const hx_svdf_params *p, const int8_t *input,
                   const int8_t *weights_feature, const int8_t *weights_time,
                   const int32_t *bias, int8_t *state, int8_t *output);

/* ---- UNIDIRECTIONAL_SEQUENCE_LSTM (int8, int16 internals) ----------------- */

/* One gate: sat16(rq_in(W_x x + b_x) + rq_rec(W_h h + b_h)) in Q3.12. The biases
 * include the zero points: b_x = bias - input_zp * rowsum(W_x),
 * b_h = -output_state_zp * rowsum(W_h); x and h enter as stored. */
typedef struct {
  const int8_t *input_weights;     /* [cells][inputs] */
  const int8_t *recurrent_weights; /* [cells][cells] */
  const int32_t *input_bias;       /* [cells] */
  const int32_t *recurrent_bias;   /* [cells] */
  int32_t input_multiplier, input_shift;
  int32_t recurrent_multiplier, recurrent_shift;
} hx_lstm_gate;

enum { HX_LSTM_INPUT_GATE, HX_LSTM_FORGET_GATE, HX_LSTM_CELL_GATE, HX_LSTM_OUTPUT_GATE };

typedef struct {
  int32_t batches, steps;
  int32_t time_major;       /* input [steps][batches][inputs], else [batches][steps][inputs] */
  int32_t inputs, cells;    /* no projection: the output has `cells` values */
  int32_t cell_shift;       /* cell state scale is 2^cell_shift */
  int32_t cell_clip;        /* in cell state units; 0 = none */
  int32_t hidden_zp;        /* output (= output state) zero point */
  int32_t hidden_multiplier, hidden_shift; /* Q0.15 * Q0.15 -> output */
  hx_lstm_gate gate[4];     /* HX_LSTM_*_GATE */
} hx_lstm_params;

/* Runs every time step; output_state [batches][cells] and cell_state
 * [batches][cells] carry over to the next call. */
void hx_unidirectional_lstm_s8(const hx_lstm_params *p, const int8_t *input,
                               int8_t *output_state, int16_t *cell_state, int8_t *output);

/* gemmlowp's int16 fixed-point sigmoid (Q3.12 in) and tanh (Q`integer_bits` in),
 * Q0.15 out; exposed for tests. */
int16_t hx_sigmoid_q3_12(int16_t x);
int16_t hx_tanh_s16(int16_t x, int32_t integer_bits);

/* Fill helpers for setting state to its zero point. */
void hx_fill_s8(int8_t *dst, int32_t count, int8_t value);
void hx_fill_s16(int16_t *dst, int32_t count, int16_t value);

#ifdef __cplusplus
}
#endif

#endif /* HX_RECURRENT_H */
