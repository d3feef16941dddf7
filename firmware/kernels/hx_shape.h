/*
 * hx_shape.h - the builtin runtime's data-movement and shape kernels, and the
 * two matrix products that are not convolutions (see hx_kernels.h for the
 * conventions: NHWC, TFLite shift signs, bit-exact with BUILTIN_REF).
 *
 * Shapes of any rank up to 4 travel as hx_dims with unused leading
 * dimensions set to 1; the host resolves every option (negative indices,
 * masks, permutations, reduced axes) into plain per-dimension numbers.
 * The pure data-movement kernels come in an int8 and an int16 flavour that
 * share one byte-level implementation.
 */
#ifndef HX_SHAPE_H
#define HX_SHAPE_H

#include <stdint.h>

#include "hx_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CONCATENATION of `count` inputs that share the output's quantization.
 * The output is `outer` rows; row r holds row r of input 0 (inner[0]
 * elements), then row r of input 1 (inner[1] elements), and so on. */
void hx_concat_s8(int32_t count, const int8_t *const *inputs, const int32_t *inner,
                  int32_t outer, int8_t *output);

/* PAD / PADV2: output_dims = input_dims + before + after on each dimension;
 * elements outside the input get pad_value. */
void hx_pad_s8(hx_dims input_dims, const int8_t *input, hx_dims before,
               hx_dims output_dims, int8_t pad_value, int8_t *output);
void hx_pad_s16(hx_dims input_dims, const int16_t *input, hx_dims before,
                hx_dims output_dims, int16_t pad_value, int16_t *output);

/* STRIDED_SLICE: output element (i0, i1, i2, i3) is input element
 * (start.n + i0 * step.n, ..., start.c + i3 * step.c); steps may be negative.
 * output_dims are the per-dimension counts (before any shrink_axis). */
typedef struct {
  hx_dims start;
  hx_dims step;
} hx_slice_params;

void hx_strided_slice_s8(const hx_slice_params *p, hx_dims input_dims, const int8_t *input,
                         hx_dims output_dims, int8_t *output);
void hx_strided_slice_s16(const hx_slice_params *p, hx_dims input_dims, const int16_t *input,
                          hx_dims output_dims, int16_t *output);

/* TRANSPOSE: output dimension k is input dimension perm[k]. */
void hx_transpose_s8(const int32_t perm[4], hx_dims input_dims, const int8_t *input,
                     int8_t *output);

/* MEAN over the dimensions where reduced_dims > 1 (kept_dims there is 1,
 * elsewhere kept_dims equals the input's). The sum minus count * input zero
 * point is scaled by multiplier/shift (which already hold 1/count). */
typedef struct {
  hx_dims kept_dims;
  hx_dims reduced_dims;
  int32_t input_zero_point;
  int32_t count; /* elements per mean */
  int32_t multiplier;
  int32_t shift;
  int32_t output_zero_point;
} hx_mean_params;

void hx_mean_s8(const hx_mean_params *p, hx_dims input_dims, const int8_t *input,
                int8_t *output);

/* TRANSPOSE_CONV (hx_matmul.c): the gradient of a convolution. Uses
 * input_offset, output_offset, act_min/act_max, stride and pad of `p`
 * (dilation and depth_multiplier are ignored). filter_dims: n = output
 * channels, h, w, c = input channels (OHWI). bias may be NULL. */
void hx_transpose_conv_s8(const hx_conv_params *p, const hx_requant *rq,
                          hx_dims input_dims, const int8_t *input,
                          hx_dims filter_dims, const int8_t *filter,
                          const int32_t *bias, hx_dims output_dims, int8_t *output);

/* The 16x8 variant: int16 activations with zero point 0 (offsets unused),
 * int8 weights, int64 bias, int64 accumulators. */
void hx_transpose_conv_s16(const hx_conv_params *p, const hx_requant *rq,
                           hx_dims input_dims, const int16_t *input,
                           hx_dims filter_dims, const int8_t *filter,
                           const int64_t *bias, hx_dims output_dims, int16_t *output);

/* BATCH_MATMUL (hx_matmul.c): for each batch b, output[b] (rows x cols) =
 * lhs[b] (rows x depth) times rhs[b] (depth x cols), with the zero points
 * removed, requantized per tensor. Element (i, k) of lhs[b] is
 * lhs[lhs_batch[b] + i * lhs_row_stride + k * lhs_depth_stride], element
 * (k, j) of rhs[b] is rhs[rhs_batch[b] + k * rhs_depth_stride + j * rhs_col_stride]
 * (the strides express adj_x / adj_y, the batch offsets the broadcasting). */
typedef struct {
  int32_t batches, rows, cols, depth;
  int32_t lhs_row_stride, lhs_depth_stride;
  int32_t rhs_depth_stride, rhs_col_stride;
  int32_t lhs_offset;    /* minus the lhs zero point */
  int32_t rhs_offset;    /* minus the rhs zero point */
  int32_t output_offset; /* the output zero point */
  int32_t multiplier, shift;
  int32_t act_min, act_max;
} hx_batch_matmul_params;

void hx_batch_matmul_s8(const hx_batch_matmul_params *p, const int32_t *lhs_batch,
                        const int8_t *lhs, const int32_t *rhs_batch, const int8_t *rhs,
                        int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* HX_SHAPE_H */
