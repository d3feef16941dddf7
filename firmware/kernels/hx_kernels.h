/*
 * hx_kernels.h - the builtin runtime's int8 kernels.
 *
 * Written from the TFLite 8-bit quantization spec; each kernel must give the
 * same bits as TFLite's reference kernels (OpResolverType.BUILTIN_REF).
 * Tensors are NHWC, row-major. Shifts follow TFLite's convention: a positive
 * shift is a left shift, a negative one a right shift.
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

#ifdef __cplusplus
}
#endif

/* Further op families, one header (and one .c) each. */
#include "hx_elementwise.h"
#include "hx_shape.h"
#include "hx_recurrent.h"

#endif /* HX_KERNELS_H */
