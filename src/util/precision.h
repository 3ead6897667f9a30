/* Floating-point precisions a step can run in, and host <-> device conversion. */
#ifndef CLB_UTIL_PRECISION_H
#define CLB_UTIL_PRECISION_H

#include <stddef.h>
#include <stdint.h>

#include "util/errors.h"


enum clb_precision { CLB_FP32 = 0, CLB_FP64 = 1, CLB_FP16 = 2 };
#define CLB_PRECISION_COUNT 3

const char *clb_precision_name(enum clb_precision precision); /* "fp32", "fp64", "fp16" */
int clb_precision_parse(const char *name, enum clb_precision *out); /* 0 or CLB_E_INVAL */

/* A comma-separated list ("fp32,fp64"): each precision once, in the order
 * given; an empty list or item, or an unknown name, is CLB_E_INVAL with a
 * message naming `option` ("--precision") and the item. */
int clb_precision_parse_list(const char *text, const char *option,
                             enum clb_precision out[CLB_PRECISION_COUNT], size_t *count,
                             struct clb_error *err);
size_t clb_precision_size(enum clb_precision precision);           /* 4, 8, 2 */

/* -D options that make kernels/NAME.cl compile for this precision. */
const char *clb_precision_build_options(enum clb_precision precision);


/* Converts n doubles to the device representation (dst holds n * size bytes)
 * and back. */
void clb_precision_from_double(enum clb_precision precision, const double *src, void *dst,
                               size_t n);
void clb_precision_to_double(enum clb_precision precision, const void *src, double *dst,
                             size_t n);

/* fp16's unit in the last place relative to 1 (2^-10 between 1 and 2). */
#define CLB_FP16_EPSILON 0x1p-10

uint16_t clb_half_from_float(float value); /* round to nearest even */
float clb_half_to_float(uint16_t half);

#endif
