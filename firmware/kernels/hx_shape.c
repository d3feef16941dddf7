/*
 * hx_shape.c - data-movement kernels (CONCATENATION, PAD, STRIDED_SLICE,
 * TRANSPOSE) and MEAN. Written from the TFLite operator semantics; moving
 * bytes needs no arithmetic, so int8 and int16 share one implementation
 * parameterised by the element size.
 */
#include <string.h>

#include "hx_fixedpoint.h"
#include "hx_kernels.h"

/* Row-major strides (in elements) of a 4-D shape. */
static void strides_of(hx_dims d, int32_t s[4]) {
  s[3] = 1;
  s[2] = d.c;
  s[1] = d.w * d.c;
  s[0] = d.h * d.w * d.c;
}

static void dims_to_array(hx_dims d, int32_t a[4]) {
  a[0] = d.n;
  a[1] = d.h;
  a[2] = d.w;
  a[3] = d.c;
}

void hx_concat_s8(int32_t count, const int8_t *const *inputs, const int32_t *inner,
                  int32_t outer, int8_t *output) {
  int32_t r, i;
  for (r = 0; r < outer; ++r) {
    for (i = 0; i < count; ++i) {
      memcpy(output, inputs[i] + (size_t)r * (size_t)inner[i], (size_t)inner[i]);
      output += inner[i];
    }
  }
}

/* `count` copies of a `size`-byte value. */
static uint8_t *fill_bytes(uint8_t *output, const void *value, size_t size, int32_t count) {
  int32_t k;
  for (k = 0; k < count; ++k) {
    memcpy(output, value, size);
    output += size;
  }
  return output;
}

/* Pads with a value of `size` bytes, one innermost row at a time: a row
 * outside the input is all padding, a row inside is padding, the input row,
 * padding. */
static void pad_bytes(hx_dims input_dims, const uint8_t *input, hx_dims before,
                      hx_dims output_dims, const void *pad_value, size_t size,
                      uint8_t *output) {
  int32_t in[4], pre[4], out[4], s[4];
  int32_t i0, i1, i2;
  dims_to_array(input_dims, in);
  dims_to_array(before, pre);
  dims_to_array(output_dims, out);
  strides_of(input_dims, s);
  for (i0 = 0; i0 < out[0]; ++i0) {
    const int32_t y0 = i0 - pre[0];
    for (i1 = 0; i1 < out[1]; ++i1) {
      const int32_t y1 = i1 - pre[1];
      for (i2 = 0; i2 < out[2]; ++i2) {
        const int32_t y2 = i2 - pre[2];
        size_t row;
        if (y0 < 0 || y0 >= in[0] || y1 < 0 || y1 >= in[1] || y2 < 0 || y2 >= in[2]) {
          output = fill_bytes(output, pad_value, size, out[3]);
          continue;
        }
        row = (size_t)(y0 * s[0] + y1 * s[1] + y2 * s[2]);
        output = fill_bytes(output, pad_value, size, pre[3]);
        memcpy(output, input + row * size, (size_t)in[3] * size);
        output += (size_t)in[3] * size;
        output = fill_bytes(output, pad_value, size, out[3] - pre[3] - in[3]);
      }
    }
  }
}

void hx_pad_s8(hx_dims input_dims, const int8_t *input, hx_dims before,
               hx_dims output_dims, int8_t pad_value, int8_t *output) {
  pad_bytes(input_dims, (const uint8_t *)input, before, output_dims, &pad_value,
            sizeof pad_value, (uint8_t *)output);
}

void hx_pad_s16(hx_dims input_dims, const int16_t *input, hx_dims before,
                hx_dims output_dims, int16_t pad_value, int16_t *output) {
  pad_bytes(input_dims, (const uint8_t *)input, before, output_dims, &pad_value,
            sizeof pad_value, (uint8_t *)output);
}

static void strided_slice_bytes(const hx_slice_params *p, hx_dims input_dims,
                                const uint8_t *input, hx_dims output_dims, size_t size,
                                uint8_t *output) {
  int32_t start[4], step[4], out[4], s[4];
  int32_t i0, i1, i2, i3;
  dims_to_array(p->start, start);
  dims_to_array(p->step, step);
  dims_to_array(output_dims, out);
  strides_of(input_dims, s);
  for (i0 = 0; i0 < out[0]; ++i0) {
    const int32_t o0 = (start[0] + i0 * step[0]) * s[0];
    for (i1 = 0; i1 < out[1]; ++i1) {
      const int32_t o1 = o0 + (start[1] + i1 * step[1]) * s[1];
      for (i2 = 0; i2 < out[2]; ++i2) {
        const int32_t o2 = o1 + (start[2] + i2 * step[2]) * s[2];
        if (step[3] == 1) {
          memcpy(output, input + (size_t)(o2 + start[3]) * size, (size_t)out[3] * size);
          output += (size_t)out[3] * size;
          continue;
        }
        for (i3 = 0; i3 < out[3]; ++i3) {
          memcpy(output, input + (size_t)(o2 + start[3] + i3 * step[3]) * size, size);
          output += size;
        }
      }
    }
  }
}

void hx_strided_slice_s8(const hx_slice_params *p, hx_dims input_dims, const int8_t *input,
                         hx_dims output_dims, int8_t *output) {
  strided_slice_bytes(p, input_dims, (const uint8_t *)input, output_dims, sizeof *input,
                      (uint8_t *)output);
}

void hx_strided_slice_s16(const hx_slice_params *p, hx_dims input_dims, const int16_t *input,
                          hx_dims output_dims, int16_t *output) {
  strided_slice_bytes(p, input_dims, (const uint8_t *)input, output_dims, sizeof *input,
                      (uint8_t *)output);
}

void hx_transpose_s8(const int32_t perm[4], hx_dims input_dims, const int8_t *input,
                     int8_t *output) {
  int32_t in[4], s[4], out[4], step[4];
  int32_t k, i0, i1, i2, i3;
  dims_to_array(input_dims, in);
  strides_of(input_dims, s);
  for (k = 0; k < 4; ++k) {
    out[k] = in[perm[k]];
    step[k] = s[perm[k]]; /* input stride of output dimension k */
  }
  for (i0 = 0; i0 < out[0]; ++i0) {
    for (i1 = 0; i1 < out[1]; ++i1) {
      for (i2 = 0; i2 < out[2]; ++i2) {
        const int8_t *src = input + i0 * step[0] + i1 * step[1] + i2 * step[2];
        for (i3 = 0; i3 < out[3]; ++i3) {
          *output++ = src[i3 * step[3]];
        }
      }
    }
  }
}

void hx_mean_s8(const hx_mean_params *p, hx_dims input_dims, const int8_t *input,
                int8_t *output) {
  int32_t keep[4], red[4], s[4];
  int32_t k0, k1, k2, k3, r0, r1, r2, r3;
  dims_to_array(p->kept_dims, keep);
  dims_to_array(p->reduced_dims, red);
  strides_of(input_dims, s);
  for (k0 = 0; k0 < keep[0]; ++k0) {
    for (k1 = 0; k1 < keep[1]; ++k1) {
      for (k2 = 0; k2 < keep[2]; ++k2) {
        for (k3 = 0; k3 < keep[3]; ++k3) {
          /* A dimension is either kept or reduced, so the two index sets add. */
          const int8_t *base = input + k0 * s[0] + k1 * s[1] + k2 * s[2] + k3 * s[3];
          int32_t sum = 0;
          int32_t acc;
          for (r0 = 0; r0 < red[0]; ++r0) {
            for (r1 = 0; r1 < red[1]; ++r1) {
              for (r2 = 0; r2 < red[2]; ++r2) {
                const int8_t *row = base + r0 * s[0] + r1 * s[1] + r2 * s[2];
                for (r3 = 0; r3 < red[3]; ++r3) {
                  sum += row[r3 * s[3]];
                }
              }
            }
          }
          sum = hx_wrap_sub(sum, p->input_zero_point * p->count);
          acc = MultiplyByQuantizedMultiplier(sum, p->multiplier, p->shift);
          acc = hx_clamp(acc + p->output_zero_point, -128, 127);
          *output++ = (int8_t)acc;
        }
      }
    }
  }
}
