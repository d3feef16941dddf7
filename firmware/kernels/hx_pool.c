/*
 * hx_pool.c - AVERAGE_POOL_2D and MAX_POOL_2D, int8 in/out with shared
 * quantization. Only in-bounds window elements take part.
 */
#include "hx_fixedpoint.h"
#include "hx_kernels.h"

typedef enum { HX_POOL_AVG, HX_POOL_MAX } hx_pool_kind;

static int32_t hx_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t hx_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/* Rounded quotient, ties away from zero. An empty window (impossible with
 * TFLite's padding rules) gives 0. */
static int32_t hx_round_div(int32_t sum, int32_t count) {
  if (count <= 0) {
    return 0;
  }
  return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

static void hx_pool_s8(hx_pool_kind kind, const hx_pool_params *p, hx_dims input_dims,
                       const int8_t *input, hx_dims output_dims, int8_t *output) {
  const int32_t in_h = input_dims.h, in_w = input_dims.w, ch = input_dims.c;
  const int32_t out_h = output_dims.h, out_w = output_dims.w;
  int32_t b, oy, ox, c, y, x;
  for (b = 0; b < output_dims.n; ++b) {
    for (oy = 0; oy < out_h; ++oy) {
      const int32_t iy0 = oy * p->stride_h - p->pad_h;
      const int32_t y_start = hx_max_i32(0, -iy0);
      const int32_t y_end = hx_min_i32(p->filter_h, in_h - iy0);
      for (ox = 0; ox < out_w; ++ox) {
        const int32_t ix0 = ox * p->stride_w - p->pad_w;
        const int32_t x_start = hx_max_i32(0, -ix0);
        const int32_t x_end = hx_min_i32(p->filter_w, in_w - ix0);
        for (c = 0; c < ch; ++c) {
          int32_t sum = 0, count = 0, best = INT8_MIN, v;
          for (y = y_start; y < y_end; ++y) {
            const int8_t *row = input + (((int64_t)b * in_h + iy0 + y) * in_w + ix0) * ch + c;
            for (x = x_start; x < x_end; ++x) {
              const int32_t e = row[(int64_t)x * ch];
              sum += e;
              ++count;
              best = e > best ? e : best;
            }
          }
          v = kind == HX_POOL_AVG ? hx_round_div(sum, count) : best;
          output[(((int64_t)b * out_h + oy) * out_w + ox) * ch + c] =
              (int8_t)hx_clamp(v, p->act_min, p->act_max);
        }
      }
    }
  }
}

void hx_avg_pool_s8(const hx_pool_params *p, hx_dims input_dims,
                    const int8_t *input, hx_dims output_dims, int8_t *output) {
  hx_pool_s8(HX_POOL_AVG, p, input_dims, input, output_dims, output);
}

void hx_max_pool_s8(const hx_pool_params *p, hx_dims input_dims,
                    const int8_t *input, hx_dims output_dims, int8_t *output) {
  hx_pool_s8(HX_POOL_MAX, p, input_dims, input, output_dims, output);
}
