/* The parameter file format `param,index,value`, and initial parameters. */
#ifndef CLB_MODEL_PARAMS_H
#define CLB_MODEL_PARAMS_H

#include <stdint.h>

#include "model/shape.h"
#include "util/errors.h"

/* Writes theta as `param,index,value` rows (17 significant digits). */
int clb_params_write(const char *path, const struct clb_shape *shape, const double *theta,
                     struct clb_error *err);

/* Reads a parameter file into theta (param_count doubles). Every index of
 * every tensor must appear exactly once; unknown names, indices out of
 * range, duplicates and missing entries are CLB_E_PARSE naming the line. */
int clb_params_read(const char *path, const struct clb_shape *shape, double *theta,
                    struct clb_error *err);

/* The initial parameters of a model: W ~ N(0, 1/fan_in) (He-like for mlp's
 * first layer: N(0, 2/D)), biases 0; linreg starts at zero. */
void clb_params_init(const struct clb_shape *shape, uint64_t seed, double *theta);

#endif
