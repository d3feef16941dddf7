/*
 * hx_recurrent.h - the builtin runtime's recurrent kernels (see hx_kernels.h for the
 * conventions: NHWC, TFLite shift signs, bit-exact with BUILTIN_REF).
 */
#ifndef HX_RECURRENT_H
#define HX_RECURRENT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* HX_RECURRENT_H */
