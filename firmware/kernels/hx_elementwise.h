/*
 * hx_elementwise.h - the builtin runtime's elementwise kernels (see hx_kernels.h for the
 * conventions: NHWC, TFLite shift signs, bit-exact with BUILTIN_REF).
 *
 * Binary ops broadcast NumPy-style over 4-D shapes: each input dimension is either
 * the output's or 1. Every multiplier/shift pair below is a TFLite quantized
 * multiplier (Q0.31 significand, positive shift = left) computed on the host.
 */
#ifndef HX_ELEMENTWISE_H
#define HX_ELEMENTWISE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* hx_dims is defined in hx_kernels.h, which includes this header after it. */

/* ADD and SUB: both inputs are moved to a common scale with `left_shift` bits of
 * headroom (20 for int8, 15 for int16), summed, then rescaled to the output. */
typedef struct {
  int32_t input1_offset, input2_offset; /* minus the input zero points */
  int32_t output_offset;                /* the output zero point */
  int32_t left_shift;
  int32_t input1_multiplier, input1_shift;
  int32_t input2_multiplier, input2_shift;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;             /* fused activation clamp */
} hx_add_params;

void hx_add_s8(const hx_add_params *p, hx_dims input1_dims, const int8_t *input1,
               hx_dims input2_dims, const int8_t *input2, hx_dims output_dims,
               int8_t *output);
void hx_sub_s8(const hx_add_params *p, hx_dims input1_dims, const int8_t *input1,
               hx_dims input2_dims, const int8_t *input2, hx_dims output_dims,
               int8_t *output);
/* int16 (16x8 scheme, zero points 0) through the same general rescaling. */
void hx_add_s16(const hx_add_params *p, hx_dims input1_dims, const int16_t *input1,
                hx_dims input2_dims, const int16_t *input2, hx_dims output_dims,
                int16_t *output);
void hx_sub_s16(const hx_add_params *p, hx_dims input1_dims, const int16_t *input1,
                hx_dims input2_dims, const int16_t *input2, hx_dims output_dims,
                int16_t *output);

/* MUL: the product of the offset inputs, requantized once. */
typedef struct {
  int32_t input1_offset, input2_offset;
  int32_t output_offset;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
} hx_mul_params;

void hx_mul_s8(const hx_mul_params *p, hx_dims input1_dims, const int8_t *input1,
               hx_dims input2_dims, const int8_t *input2, hx_dims output_dims,
               int8_t *output);

/* MAXIMUM, MINIMUM (broadcasting): the larger or smaller stored integer; inputs and
 * output share one scale and zero point. */
void hx_maximum_s8(hx_dims input1_dims, const int8_t *input1, hx_dims input2_dims,
                   const int8_t *input2, hx_dims output_dims, int8_t *output);
void hx_minimum_s8(hx_dims input1_dims, const int8_t *input1, hx_dims input2_dims,
                   const int8_t *input2, hx_dims output_dims, int8_t *output);
void hx_maximum_s16(hx_dims input1_dims, const int16_t *input1, hx_dims input2_dims,
                    const int16_t *input2, hx_dims output_dims, int16_t *output);
void hx_minimum_s16(hx_dims input1_dims, const int16_t *input1, hx_dims input2_dims,
                    const int16_t *input2, hx_dims output_dims, int16_t *output);

/* One rescale per element, then a clamp: RELU, RELU6 (with their clamps) and
 * QUANTIZE (requantization; the clamp is the output type's range). */
typedef struct {
  int32_t input_offset; /* minus the input zero point */
  int32_t output_offset;
  int32_t multiplier, shift;
  int32_t act_min, act_max;
} hx_rescale_params;

void hx_rescale_s8(const hx_rescale_params *p, int32_t size, const int8_t *input,
                   int8_t *output);
void hx_rescale_s16_s8(const hx_rescale_params *p, int32_t size, const int16_t *input,
                       int8_t *output);
void hx_rescale_s8_s16(const hx_rescale_params *p, int32_t size, const int8_t *input,
                       int16_t *output);
void hx_rescale_s16(const hx_rescale_params *p, int32_t size, const int16_t *input,
                    int16_t *output);

/* int32 <-> int16 QUANTIZE; the clamp is the output type's range. */
void hx_rescale_s32_s16(const hx_rescale_params *p, int32_t size, const int32_t *input,
                        int16_t *output);
void hx_rescale_s16_s32(const hx_rescale_params *p, int32_t size, const int16_t *input,
                        int32_t *output);

/* QUANTIZE float -> int (round half away from zero, plus the zero point, clamped
 * to [act_min, act_max], the type's range) and DEQUANTIZE int -> float. */
typedef struct {
  float scale;
  int32_t zero_point;
  int32_t act_min, act_max; /* QUANTIZE only */
} hx_quantize_params;

void hx_quantize_f32_s8(const hx_quantize_params *p, int32_t size, const float *input,
                        int8_t *output);
void hx_quantize_f32_s16(const hx_quantize_params *p, int32_t size, const float *input,
                         int16_t *output);
void hx_dequantize_s8_f32(const hx_quantize_params *p, int32_t size, const int8_t *input,
                          float *output);
void hx_dequantize_s16_f32(const hx_quantize_params *p, int32_t size, const int16_t *input,
                           float *output);

/* LEAKY_RELU: one rescale for x >= 0, another (alpha) for x < 0. A negative
 * alpha is carried as `alpha_negative` with a positive multiplier. */
typedef struct {
  int32_t input_offset;
  int32_t output_offset;
  int32_t identity_multiplier, identity_shift;
  int32_t alpha_multiplier, alpha_shift;
  int32_t alpha_negative;
} hx_leaky_relu_params;

void hx_leaky_relu_s8(const hx_leaky_relu_params *p, int32_t size, const int8_t *input,
                      int8_t *output);
void hx_leaky_relu_s16(const hx_leaky_relu_params *p, int32_t size,
                       const int16_t *input, int16_t *output);

/* PRELU: x >= 0 is rescaled, x < 0 is multiplied by the (broadcast) alpha
 * tensor and rescaled. */
typedef struct {
  int32_t input_offset, alpha_offset; /* minus the zero points */
  int32_t output_offset;
  int32_t multiplier_1, shift_1;      /* input scale / output scale */
  int32_t multiplier_2, shift_2;      /* input scale * alpha scale / output scale */
} hx_prelu_params;

void hx_prelu_s8(const hx_prelu_params *p, hx_dims input_dims, const int8_t *input,
                 hx_dims alpha_dims, const int8_t *alpha, hx_dims output_dims,
                 int8_t *output);

/* HARD_SWISH in 16-bit fixed point (TFLite's quantized hard-swish). The
 * multipliers are Q0.15; the exponents follow the TFLite shift convention. */
typedef struct {
  int32_t input_zero_point, output_zero_point;
  int32_t output_multiplier, output_exponent;   /* hires input scale / output scale */
  int32_t reluish_multiplier, reluish_exponent; /* hires input scale / (3/32768) */
} hx_hard_swish_params;

void hx_hard_swish_s8(const hx_hard_swish_params *p, int32_t size, const int8_t *input,
                      int8_t *output);

/* A 256-entry lookup table indexed by input + 128 (LOGISTIC and TANH: the host
 * fills the table the way LiteRT does). */
void hx_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* HX_ELEMENTWISE_H */
