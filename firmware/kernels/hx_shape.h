/*
 * hx_shape.h - the builtin runtime's shape kernels (see hx_kernels.h for the
 * conventions: NHWC, TFLite shift signs, bit-exact with BUILTIN_REF).
 */
#ifndef HX_SHAPE_H
#define HX_SHAPE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* HX_SHAPE_H */
