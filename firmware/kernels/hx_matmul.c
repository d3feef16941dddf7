/*
 * hx_matmul.c - TRANSPOSE_CONV and BATCH_MATMUL. Written from the TFLite
 * quantization spec; bit-exact with LiteRT's reference kernels.
 *
 * TRANSPOSE_CONV is computed output by output ("gather"): output (y, x)
 * receives input (iy, ix) through filter tap (ky, kx) when
 * y + pad_h = iy * stride_h + ky (and likewise for x). The integer sums are
 * the same as those of the reference's scatter loop, without its int32
 * scratch buffer the size of the output.
 */
#include <stddef.h>

#include "hx_fixedpoint.h"
#include "hx_fixedpoint16.h"
#include "hx_kernels.h"

/* Input row (or column) feeding output position `o` through tap `k`, or -1. */
static int32_t source_index(int32_t o, int32_t k, int32_t pad, int32_t stride, int32_t size) {
  const int32_t t = o + pad - k;
  if (t < 0 || t % stride != 0) {
    return -1;
  }
  return t / stride < size ? t / stride : -1;
}

void hx_transpose_conv_s8(const hx_conv_params *p, const hx_requant *rq,
                          hx_dims input_dims, const int8_t *input,
                          hx_dims filter_dims, const int8_t *filter,
                          const int32_t *bias, hx_dims output_dims, int8_t *output) {
  const int32_t in_c = input_dims.c;
  int32_t b, y, x, oc, ky, kx, ic;
  for (b = 0; b < output_dims.n; ++b) {
    for (y = 0; y < output_dims.h; ++y) {
      for (x = 0; x < output_dims.w; ++x) {
        for (oc = 0; oc < output_dims.c; ++oc) {
          const int32_t ch = rq->per_channel ? oc : 0;
          int32_t acc = bias != NULL ? bias[oc] : 0;
          for (ky = 0; ky < filter_dims.h; ++ky) {
            const int32_t iy = source_index(y, ky, p->pad_h, p->stride_h, input_dims.h);
            if (iy < 0) {
              continue;
            }
            for (kx = 0; kx < filter_dims.w; ++kx) {
              const int32_t ix = source_index(x, kx, p->pad_w, p->stride_w, input_dims.w);
              const int8_t *in;
              const int8_t *f;
              if (ix < 0) {
                continue;
              }
              in = input + ((b * input_dims.h + iy) * input_dims.w + ix) * in_c;
              f = filter + ((oc * filter_dims.h + ky) * filter_dims.w + kx) * in_c;
              for (ic = 0; ic < in_c; ++ic) {
                acc += ((int32_t)in[ic] + p->input_offset) * (int32_t)f[ic];
              }
            }
          }
          acc = MultiplyByQuantizedMultiplier(acc, rq->multiplier[ch], rq->shift[ch]);
          acc = hx_clamp(acc + p->output_offset, p->act_min, p->act_max);
          *output++ = (int8_t)acc;
        }
      }
    }
  }
}

void hx_transpose_conv_s16(const hx_conv_params *p, const hx_requant *rq,
                           hx_dims input_dims, const int16_t *input,
                           hx_dims filter_dims, const int8_t *filter,
                           const int64_t *bias, hx_dims output_dims, int16_t *output) {
  const int32_t in_c = input_dims.c;
  int32_t b, y, x, oc, ky, kx, ic;
  for (b = 0; b < output_dims.n; ++b) {
    for (y = 0; y < output_dims.h; ++y) {
      for (x = 0; x < output_dims.w; ++x) {
        for (oc = 0; oc < output_dims.c; ++oc) {
          const int32_t ch = rq->per_channel ? oc : 0;
          int64_t acc = bias != NULL ? bias[oc] : 0;
          int32_t scaled;
          for (ky = 0; ky < filter_dims.h; ++ky) {
            const int32_t iy = source_index(y, ky, p->pad_h, p->stride_h, input_dims.h);
            if (iy < 0) {
              continue;
            }
            for (kx = 0; kx < filter_dims.w; ++kx) {
              const int32_t ix = source_index(x, kx, p->pad_w, p->stride_w, input_dims.w);
              const int16_t *in;
              const int8_t *f;
              if (ix < 0) {
                continue;
              }
              in = input + ((b * input_dims.h + iy) * input_dims.w + ix) * in_c;
              f = filter + ((oc * filter_dims.h + ky) * filter_dims.w + kx) * in_c;
              for (ic = 0; ic < in_c; ++ic) {
                acc += (int64_t)((int32_t)in[ic] * (int32_t)f[ic]);
              }
            }
          }
          scaled = hx_mul_by_quantized_multiplier_s64(acc, rq->multiplier[ch], rq->shift[ch]);
          *output++ = (int16_t)hx_clamp(scaled, p->act_min, p->act_max);
        }
      }
    }
  }
}

void hx_batch_matmul_s8(const hx_batch_matmul_params *p, const int32_t *lhs_batch,
                        const int8_t *lhs, const int32_t *rhs_batch, const int8_t *rhs,
                        int8_t *output) {
  int32_t b, i, j, k;
  for (b = 0; b < p->batches; ++b) {
    const int8_t *a = lhs + lhs_batch[b];
    const int8_t *m = rhs + rhs_batch[b];
    for (i = 0; i < p->rows; ++i) {
      for (j = 0; j < p->cols; ++j) {
        int32_t acc = 0;
        for (k = 0; k < p->depth; ++k) {
          const int32_t av = a[i * p->lhs_row_stride + k * p->lhs_depth_stride];
          const int32_t bv = m[k * p->rhs_depth_stride + j * p->rhs_col_stride];
          acc += (av + p->lhs_offset) * (bv + p->rhs_offset);
        }
        acc = MultiplyByQuantizedMultiplier(acc, p->multiplier, p->shift);
        acc = hx_clamp(acc + p->output_offset, p->act_min, p->act_max);
        *output++ = (int8_t)acc;
      }
    }
  }
}
