/*
 * hx_conv.c - CONV_2D and DEPTHWISE_CONV_2D, per-channel or per-tensor
 * requantization. int8 in/out with int32 accumulation; 16x8 (int16 in/out,
 * int8 filter) with int64 accumulation and bias. Padded positions contribute
 * nothing (they hold the input zero point, whose offset value is zero).
 */
#include "hx_fixedpoint.h"
#include "hx_fixedpoint16.h"
#include "hx_kernels.h"

static int32_t hx_requant_apply(const hx_requant *rq, int32_t ch, int32_t acc) {
  const int32_t i = rq->per_channel ? ch : 0;
  return MultiplyByQuantizedMultiplier(acc, rq->multiplier[i], rq->shift[i]);
}

/* Shared last step of both convolutions: add the bias, requantize, offset, clamp. */
static inline int8_t conv_output(const hx_conv_params *p, const hx_requant *rq,
                                 const int32_t *bias, int32_t oc, int32_t acc) {
  if (bias != 0) {
    acc += bias[oc];
  }
  acc = hx_requant_apply(rq, oc, acc) + p->output_offset;
  return (int8_t)hx_clamp(acc, p->act_min, p->act_max);
}

void hx_conv2d_s8(const hx_conv_params *p, const hx_requant *rq,
                  hx_dims input_dims, const int8_t *input,
                  hx_dims filter_dims, const int8_t *filter,
                  const int32_t *bias, hx_dims output_dims, int8_t *output) {
  const int32_t in_h = input_dims.h, in_w = input_dims.w, in_c = input_dims.c;
  const int32_t f_h = filter_dims.h, f_w = filter_dims.w, f_c = filter_dims.c;
  const int32_t out_h = output_dims.h, out_w = output_dims.w, out_c = output_dims.c;
  int32_t b, oy, ox, oc, fy, fx, ic;
  for (b = 0; b < output_dims.n; ++b) {
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        for (oc = 0; oc < out_c; ++oc) {
          int32_t acc = 0;
          for (fy = 0; fy < f_h; ++fy) {
            const int32_t iy = iy0 + fy * p->dilation_h;
            if (iy < 0 || iy >= in_h) {
              continue;
            }
            for (fx = 0; fx < f_w; ++fx) {
              const int32_t ix = ix0 + fx * p->dilation_w;
              const int8_t *in_px;
              const int8_t *f_px;
              if (ix < 0 || ix >= in_w) {
                continue;
              }
              in_px = input + (((int64_t)b * in_h + iy) * in_w + ix) * in_c;
              f_px = filter + (((int64_t)oc * f_h + fy) * f_w + fx) * f_c;
              for (ic = 0; ic < f_c; ++ic) {
                acc += (int32_t)f_px[ic] * ((int32_t)in_px[ic] + p->input_offset);
              }
            }
          }
          output[(((int64_t)b * out_h + oy) * out_w + ox) * out_c + oc] =
              conv_output(p, rq, bias, oc, acc);
        }
      }
    }
  }
}

void hx_depthwise_conv2d_s8(const hx_conv_params *p, const hx_requant *rq,
                            hx_dims input_dims, const int8_t *input,
                            hx_dims filter_dims, const int8_t *filter,
                            const int32_t *bias, hx_dims output_dims,
                            int8_t *output) {
  const int32_t in_h = input_dims.h, in_w = input_dims.w, in_c = input_dims.c;
  const int32_t f_h = filter_dims.h, f_w = filter_dims.w, f_c = filter_dims.c;
  const int32_t out_h = output_dims.h, out_w = output_dims.w, out_c = output_dims.c;
  const int32_t mult = p->depth_multiplier;
  int32_t b, oy, ox, ic, m, fy, fx;
  for (b = 0; b < output_dims.n; ++b) {
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        for (ic = 0; ic < in_c; ++ic) {
          for (m = 0; m < mult; ++m) {
            const int32_t oc = ic * mult + m;
            int32_t acc = 0;
            for (fy = 0; fy < f_h; ++fy) {
              const int32_t iy = iy0 + fy * p->dilation_h;
              if (iy < 0 || iy >= in_h) {
                continue;
              }
              for (fx = 0; fx < f_w; ++fx) {
                const int32_t ix = ix0 + fx * p->dilation_w;
                int32_t in_v, f_v;
                if (ix < 0 || ix >= in_w) {
                  continue;
                }
                in_v = input[(((int64_t)b * in_h + iy) * in_w + ix) * in_c + ic];
                f_v = filter[((int64_t)fy * f_w + fx) * f_c + oc];
                acc += f_v * (in_v + p->input_offset);
              }
            }
            output[(((int64_t)b * out_h + oy) * out_w + ox) * out_c + oc] =
                conv_output(p, rq, bias, oc, acc);
          }
        }
      }
    }
  }
}

/* 16x8: bias, 64-bit requantization, clamp (no zero points). */
static inline int16_t conv_output_s16(const hx_conv_params *p, const hx_requant *rq,
                                      const int64_t *bias, int32_t oc, int64_t acc) {
  const int32_t i = rq->per_channel ? oc : 0;
  int32_t v;
  if (bias != 0) {
    acc += bias[oc];
  }
  v = hx_mul_by_quantized_multiplier_s64(acc, rq->multiplier[i], rq->shift[i]);
  return (int16_t)hx_clamp(v, p->act_min, p->act_max);
}

void hx_conv2d_s16(const hx_conv_params *p, const hx_requant *rq,
                   hx_dims input_dims, const int16_t *input,
                   hx_dims filter_dims, const int8_t *filter,
                   const int64_t *bias, hx_dims output_dims, int16_t *output) {
  const int32_t in_h = input_dims.h, in_w = input_dims.w, in_c = input_dims.c;
  const int32_t f_h = filter_dims.h, f_w = filter_dims.w, f_c = filter_dims.c;
  const int32_t out_h = output_dims.h, out_w = output_dims.w, out_c = output_dims.c;
  int32_t b, oy, ox, oc, fy, fx, ic;
  for (b = 0; b < output_dims.n; ++b) {
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        for (oc = 0; oc < out_c; ++oc) {
          int64_t acc = 0;
          for (fy = 0; fy < f_h; ++fy) {
            const int32_t iy = iy0 + fy * p->dilation_h;
            if (iy < 0 || iy >= in_h) {
              continue;
            }
            for (fx = 0; fx < f_w; ++fx) {
              const int32_t ix = ix0 + fx * p->dilation_w;
              const int16_t *in_px;
              const int8_t *f_px;
              if (ix < 0 || ix >= in_w) {
                continue;
              }
              in_px = input + (((int64_t)b * in_h + iy) * in_w + ix) * in_c;
              f_px = filter + (((int64_t)oc * f_h + fy) * f_w + fx) * f_c;
              for (ic = 0; ic < f_c; ++ic) {
                acc += (int32_t)f_px[ic] * (int32_t)in_px[ic];
              }
            }
          }
          output[(((int64_t)b * out_h + oy) * out_w + ox) * out_c + oc] =
              conv_output_s16(p, rq, bias, oc, acc);
        }
      }
    }
  }
}

void hx_depthwise_conv2d_s16(const hx_conv_params *p, const hx_requant *rq,
                             hx_dims input_dims, const int16_t *input,
                             hx_dims filter_dims, const int8_t *filter,
                             const int64_t *bias, hx_dims output_dims,
                             int16_t *output) {
  const int32_t in_h = input_dims.h, in_w = input_dims.w, in_c = input_dims.c;
  const int32_t f_h = filter_dims.h, f_w = filter_dims.w, f_c = filter_dims.c;
  const int32_t out_h = output_dims.h, out_w = output_dims.w, out_c = output_dims.c;
  const int32_t mult = p->depth_multiplier;
  int32_t b, oy, ox, ic, m, fy, fx;
  for (b = 0; b < output_dims.n; ++b) {
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        for (ic = 0; ic < in_c; ++ic) {
          for (m = 0; m < mult; ++m) {
            const int32_t oc = ic * mult + m;
            int64_t acc = 0;
            for (fy = 0; fy < f_h; ++fy) {
              const int32_t iy = iy0 + fy * p->dilation_h;
              if (iy < 0 || iy >= in_h) {
                continue;
              }
              for (fx = 0; fx < f_w; ++fx) {
                const int32_t ix = ix0 + fx * p->dilation_w;
                if (ix < 0 || ix >= in_w) {
                  continue;
                }
                acc += (int32_t)filter[((int64_t)fy * f_w + fx) * f_c + oc] *
                       (int32_t)input[(((int64_t)b * in_h + iy) * in_w + ix) * in_c + ic];
              }
            }
            output[(((int64_t)b * out_h + oy) * out_w + ox) * out_c + oc] =
                conv_output_s16(p, rq, bias, oc, acc);
          }
        }
      }
    }
  }
}
