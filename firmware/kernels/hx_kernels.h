/*
 * hx_kernels.h - the builtin runtime's kernels.
 *
 * Written from the TFLite quantization spec; each kernel must give the same
 * bits as TFLite's reference kernels (OpResolverType.BUILTIN_REF).
 * Tensors are NHWC, row-major. Shifts follow TFLite's convention: a positive
 * shift is a left shift, a negative one a right shift.
 *
 * Suffixes name the activation type: _s8 int8, _s16 the 16x8 scheme (int16
 * activations with zero point 0, int8 weights, int64 biases and
 * accumulators), _f32 float.
 */
#ifndef HX_KERNELS_H
#define HX_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A 4-D NHWC shape; unused leading dimensions are 1. */
typedef struct {
  int32_t n, h, w, c;
} hx_dims;

/* Requantization of the int32 accumulator, one entry per output channel
 * (or a single entry when `per_channel` is 0). */
typedef struct {
  const int32_t *multiplier;
  const int32_t *shift;
  int32_t per_channel;
} hx_requant;

typedef struct {
  int32_t input_offset;     /* minus the input zero point */
  int32_t output_offset;    /* the output zero point */
  int32_t act_min, act_max; /* fused activation clamp, output integer domain */
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_h, pad_w;     /* padding before the first row / column */
  int32_t depth_multiplier; /* depthwise only */
} hx_conv_params;

/* CONV_2D. filter_dims: n = output channels, h, w, c = input channels (OHWI). */
void hx_conv2d_s8(const hx_conv_params *p, const hx_requant *rq,
                  hx_dims input_dims, const int8_t *input,
                  hx_dims filter_dims, const int8_t *filter,
                  const int32_t *bias, hx_dims output_dims, int8_t *output);

/* DEPTHWISE_CONV_2D. filter_dims: n = 1, h, w, c = output channels
 * (= input channels * depth_multiplier). */
void hx_depthwise_conv2d_s8(const hx_conv_params *p, const hx_requant *rq,
                            hx_dims input_dims, const int8_t *input,
                            hx_dims filter_dims, const int8_t *filter,
                            const int32_t *bias, hx_dims output_dims,
                            int8_t *output);

typedef struct {
  int32_t input_offset;  /* minus the input zero point */
  int32_t filter_offset; /* minus the weights zero point (0 for int8 weights) */
  int32_t output_offset; /* the output zero point */
  int32_t act_min, act_max;
} hx_fc_params;

/* FULLY_CONNECTED. weights: [out_depth][accum_depth]; bias may be NULL. */
void hx_fully_connected_s8(const hx_fc_params *p, const hx_requant *rq,
                           int32_t batches, int32_t accum_depth,
                           int32_t out_depth, const int8_t *input,
                           const int8_t *weights, const int32_t *bias,
                           int8_t *output);

typedef struct {
  int32_t stride_h, stride_w;
  int32_t filter_h, filter_w;
  int32_t pad_h, pad_w;
  int32_t act_min, act_max;
} hx_pool_params;

/* AVERAGE_POOL_2D and MAX_POOL_2D (input and output share quantization). */
void hx_avg_pool_s8(const hx_pool_params *p, hx_dims input_dims,
                    const int8_t *input, hx_dims output_dims, int8_t *output);
void hx_max_pool_s8(const hx_pool_params *p, hx_dims input_dims,
                    const int8_t *input, hx_dims output_dims, int8_t *output);

typedef struct {
  int32_t input_multiplier; /* beta * input scale, Q31, for 5 integer bits */
  int32_t input_left_shift;
  int32_t diff_min;         /* differences below this give 0 */
} hx_softmax_params;

/* SOFTMAX over the last axis: `outer` rows of `depth` values.
 * Output quantization is fixed by the spec: scale 1/256, zero point -128. */
void hx_softmax_s8(const hx_softmax_params *p, int32_t outer, int32_t depth,
                   const int8_t *input, int8_t *output);
/* int8 in, int16 out with scale 1/65536 and zero point -32768. */
void hx_softmax_s8_s16(const hx_softmax_params *p, int32_t outer, int32_t depth,
                       const int8_t *input, int16_t *output);

/* 16x8 CONV_2D and DEPTHWISE_CONV_2D: as the _s8 versions; input_offset and
 * output_offset are ignored (int16 zero points are 0). */
void hx_conv2d_s16(const hx_conv_params *p, const hx_requant *rq,
                   hx_dims input_dims, const int16_t *input,
                   hx_dims filter_dims, const int8_t *filter,
                   const int64_t *bias, hx_dims output_dims, int16_t *output);
void hx_depthwise_conv2d_s16(const hx_conv_params *p, const hx_requant *rq,
                             hx_dims input_dims, const int16_t *input,
                             hx_dims filter_dims, const int8_t *filter,
                             const int64_t *bias, hx_dims output_dims,
                             int16_t *output);

/* 16x8 FULLY_CONNECTED; p->input_offset and p->output_offset are ignored. */
void hx_fully_connected_s16(const hx_fc_params *p, const hx_requant *rq,
                            int32_t batches, int32_t accum_depth,
                            int32_t out_depth, const int16_t *input,
                            const int8_t *weights, const int64_t *bias,
                            int16_t *output);

typedef struct {
  float act_min, act_max; /* fused activation clamp */
} hx_fc_f32_params;

/* float FULLY_CONNECTED: each output sums input * weight in order, then adds
 * the bias (may be NULL) and clamps. */
void hx_fully_connected_f32(const hx_fc_f32_params *p, int32_t batches,
                            int32_t accum_depth, int32_t out_depth,
                            const float *input, const float *weights,
                            const float *bias, float *output);

typedef struct {
  int32_t input_multiplier; /* maps input differences onto the exp table's [-10, 0] */
  int32_t input_shift;
  const int16_t *exp_lut;   /* 513 entries: exp on [-10, 0], Q0.15 */
  const int16_t *one_over_one_plus_x_lut; /* 513 entries: 1/(1+x) on [0, 1], Q0.15 */
} hx_softmax_s16_params;

/* int16 SOFTMAX over the last axis; output scale 1/32768, zero point 0. */
void hx_softmax_s16(const hx_softmax_s16_params *p, int32_t outer, int32_t depth,
                    const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

/* Further op families, one header (and one .c) each. */
#include "hx_elementwise.h"
#include "hx_shape.h"
#include "hx_recurrent.h"

#endif /* HX_KERNELS_H */
