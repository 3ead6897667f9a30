/* One model on one device: buffers, the forward/backward step through CLBlast
 * and kernels/step.cl, the SGD update, loss evaluation and per-sample
 * gradient norms. Every buffer is allocated and touched at creation, so an
 * out-of-memory shows up before anything is timed. */
#ifndef CLB_MODEL_MODEL_H
#define CLB_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "cl/context.h"
#include "cl/platform.h"
#include "model/dataset.h"
#include "model/shape.h"
#include "util/precision.h"

struct clb_model_config {
  struct clb_shape shape;
  enum clb_precision precision;
  size_t max_batch;  /* rows the step buffers hold */
  int data_on_host;  /* 1: batches are gathered on the host and copied from pinned memory */
};

struct clb_model; /* opaque */

/* Uploads `data` (borrowed; must outlive the model) and allocates everything
 * the step needs. The order is the identity until clb_model_set_order. */
int clb_model_create(const struct clb_cl *cl, const struct clb_model_config *config,
                     const struct clb_dataset *data, struct clb_model **out,
                     struct clb_error *err);
void clb_model_destroy(struct clb_model *model);

size_t clb_model_param_count(const struct clb_model *model);

/* Bytes of every device buffer the model holds, CLBlast's temporary included. */
size_t clb_model_device_bytes(const struct clb_model *model);

int clb_model_set_params(struct clb_model *model, const double *theta, struct clb_error *err);
int clb_model_get_params(struct clb_model *model, double *theta, struct clb_error *err);
int clb_model_get_grad(struct clb_model *model, double *grad, struct clb_error *err);

/* The epoch's sample order (n entries, a permutation), or NULL for 0..n-1.
 * A non-identity order makes the step gather its batch rows. */
int clb_model_set_order(struct clb_model *model, const uint32_t *order, struct clb_error *err);

/* grad = grad_scale * sum of the per-sample gradients of the samples
 * order[first .. first + rows). Enqueued, not waited for. grad_scale = 1/rows
 * gives the mini-batch gradient. */
int clb_model_gradient(struct clb_model *model, size_t first, size_t rows, double grad_scale,
                       struct clb_error *err);

/* theta -= lr * grad (one AXPY). Enqueued. */
int clb_model_update(struct clb_model *model, double lr, struct clb_error *err);

/* gradient(1/rows) then update(lr): one SGD step. Enqueued. */
int clb_model_step(struct clb_model *model, size_t first, size_t rows, double lr,
                   struct clb_error *err);

/* One SGD step that also returns the events of its first command (the gather
 * kernel or the host copy, or a marker when the step starts inside CLBlast) and
 * of its last (the AXPY), for device timing. The caller releases both. */
int clb_model_step_bracketed(struct clb_model *model, size_t first, size_t rows, double lr,
                             cl_event *first_event, cl_event *last_event,
                             struct clb_error *err);

/* Steps over the data set's full batches in turn, for timing: step `index`
 * (0, 1, ...) trains on batch index % full_steps. clb_model_steps_run has
 * the signature of measure/measure.h's clb_step_fn, with a
 * struct clb_model_steps as its context; it brackets the step with events
 * when `first_event` is not NULL. */
struct clb_model_steps {
  struct clb_model *model; /* borrowed */
  size_t batch, full_steps;
  double lr;
};
int clb_model_steps_run(void *context, size_t index, cl_event *first_event, cl_event *last_event,
                        struct clb_error *err);

/* After clb_model_gradient with grad_scale = 1 on the same rows: writes
 * |g_i|^2 of each of those samples into norms (rows doubles), computed on
 * the device with |a_i|^2 |delta_i|^2 + |delta_i|^2 per linear layer. Blocks. */
int clb_model_sample_norms(struct clb_model *model, size_t rows, double *norms,
                           struct clb_error *err);

/* Sum of the loss over samples order[first .. first + rows) and, for
 * classifiers, how many are classified correctly. Blocks. */
int clb_model_evaluate(struct clb_model *model, size_t first, size_t rows, double *loss_sum,
                       size_t *correct, struct clb_error *err);

/* Vector helpers for the noise measurement. clb_model_vector_create makes a
 * zeroed device vector of param_count elements that the caller releases
 * (clReleaseMemObject). */
int clb_model_vector_create(struct clb_model *model, cl_mem *vector, struct clb_error *err);
/* Copies param_count doubles into a vector (converted to the model's precision). */
int clb_model_vector_write(struct clb_model *model, cl_mem vector, const double *values,
                           struct clb_error *err);
/* Reads a vector back as param_count doubles. Blocks. */
int clb_model_vector_read(struct clb_model *model, cl_mem vector, double *values,
                          struct clb_error *err);
/* vector += alpha * grad */
int clb_model_grad_axpy(struct clb_model *model, double alpha, cl_mem vector,
                        struct clb_error *err);
/* grad += alpha * vector */
int clb_model_axpy_into_grad(struct clb_model *model, double alpha, cl_mem vector,
                             struct clb_error *err);
/* |v|^2 of a vector (NULL = the gradient), computed on the device with
 * CLBlast DOT and read back. Blocks. */
int clb_model_norm2(struct clb_model *model, cl_mem vector, double *norm2,
                    struct clb_error *err);

/* The command queue the model enqueues on (for timing markers). */
cl_command_queue clb_model_queue(const struct clb_model *model);

#endif
