/* The double-precision host reference of every model: loss, mini-batch gradient,
 * per-sample gradients and the noise statistics. Tests compare the device
 * against these; nothing here touches OpenCL. */
#ifndef CLB_MODEL_REFERENCE_H
#define CLB_MODEL_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "model/dataset.h"
#include "model/shape.h"

/* Loss of theta over the samples idx[0..b-1] (mean over them, the model's
 * loss of shape.h), and its gradient into grad (param_count doubles, may be
 * NULL). Returns the loss. These functions have no error channel: a label
 * outside 0..C-1 or a failed scratch allocation yields NaN (loss, gradient,
 * noise statistics, accuracy), which every caller's comparison catches. */
double clb_ref_loss_grad(const struct clb_shape *shape, const double *theta,
                         const struct clb_dataset *data, const uint32_t *idx, size_t b,
                         double *grad);

/* The gradient of sample i's own loss (g_i, so that G = mean_i g_i). */
void clb_ref_sample_grad(const struct clb_shape *shape, const double *theta,
                         const struct clb_dataset *data, size_t i, double *grad);

/* Exact noise statistics over all N samples from explicit per-sample
 * gradients: sigma2 = mean_i |g_i - G|^2 and grad_norm2 = |G|^2. */
void clb_ref_noise(const struct clb_shape *shape, const double *theta,
                   const struct clb_dataset *data, double *sigma2, double *grad_norm2);

/* Classification accuracy of theta over all samples (0 for linreg). */
double clb_ref_accuracy(const struct clb_shape *shape, const double *theta,
                        const struct clb_dataset *data);

#endif
