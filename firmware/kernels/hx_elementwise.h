/*
 * hx_elementwise.h - the builtin runtime's elementwise kernels (see hx_kernels.h for the
 * conventions: NHWC, TFLite shift signs, bit-exact with BUILTIN_REF).
 */
#ifndef HX_ELEMENTWISE_H
#define HX_ELEMENTWISE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* HX_ELEMENTWISE_H */
