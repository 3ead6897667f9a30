/* Real mini-batch SGD on one device: the training loop behind `clbatch train`.
 *
 * One run trains one model with one batch size B from given initial
 * parameters. Each epoch draws a fresh permutation of the N samples (or keeps
 * the identity), slices it into ceil(N/B) batches (floor(N/B) with drop_last,
 * the partial last batch then being skipped) and takes one SGD step
 * theta -= lr * g_B per batch on the device. After every epoch the mean loss
 * over ALL N samples is evaluated on the device and handed to a callback; the
 * library itself never prints. */
#ifndef CLB_TRAIN_H
#define CLB_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "errors.h"
#include "platform.h"
#include "precision.h"
#include "shape.h"

struct clb_train_config {
  struct clb_shape shape;
  enum clb_precision precision;
  size_t batch;     /* rows per SGD step, 1 .. N */
  double lr;        /* learning rate, finite and > 0 */
  size_t epochs;    /* >= 1 */
  uint64_t seed;    /* seeds the per-epoch permutations */
  int shuffle;      /* 1: a fresh permutation every epoch; 0: samples in file order */
  int drop_last;    /* 1: skip the partial last batch of an epoch */
  int data_on_host; /* 1: stream batches from pinned host memory (see model.h) */
};

struct clb_epoch_result {
  size_t epoch;      /* 0 = before any update, then 1 .. epochs */
  size_t updates;    /* SGD updates so far (cumulative) */
  double train_loss; /* mean loss over all N samples at the end of the epoch */
  double accuracy;   /* fraction of the N samples classified right; NaN for linreg */
  double wall_s;     /* cumulative training wall time, evaluation passes excluded */
};

/* Called after epoch 0 (the initial loss) and after every epoch. Return 0 to
 * go on, a positive value to stop training early (clb_train_run then returns
 * 0 with theta at that point), or a negative status to abort with it. */
typedef int (*clb_epoch_fn)(const struct clb_epoch_result *result, void *ctx);

/* SGD updates in one epoch: ceil(n / batch), or floor(n / batch) with drop_last. */
size_t clb_train_updates_per_epoch(size_t n, size_t batch, int drop_last);

/* Trains from theta (param_count doubles: in, the initial parameters; out,
 * the final ones when the call returns 0). `data` must match the shape (D, C,
 * and classification for softmax/mlp). on_epoch may be NULL.
 * A non-finite epoch loss is reported to on_epoch and then ends the run with
 * CLB_E_NUMERIC, "diverged at epoch E (loss nan)". Invalid settings are
 * CLB_E_INVAL; an unsupported precision CLB_E_UNSUPPORTED naming the missing
 * extension; device failures pass their OpenCL/CLBlast codes through. */
int clb_train_run(const struct clb_cl *cl, const struct clb_dataset *data,
                  const struct clb_train_config *cfg, double *theta, clb_epoch_fn on_epoch,
                  void *ctx, struct clb_error *err);

#endif
