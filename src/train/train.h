/* Real mini-batch SGD on one device: the training loop behind `clbatch train`.
 *
 * One run trains one model with one batch size B from given initial
 * parameters. Each epoch draws a fresh permutation of the N samples (or keeps
 * the identity), slices it into ceil(N/B) batches (floor(N/B) with drop_last,
 * the partial last batch then being skipped) and takes one SGD step
 * theta -= lr * g_B per batch on the device. After every epoch the mean loss
 * over ALL N samples is evaluated on the device and handed to a callback; the
 * library itself never prints. */
#ifndef CLB_TRAIN_TRAIN_H
#define CLB_TRAIN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "cl/context.h"
#include "cl/platform.h"
#include "model/dataset.h"
#include "model/shape.h"
#include "util/errors.h"
#include "util/precision.h"
#include "util/rng.h"

struct clb_model;

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
  /* Added by clb_train_run_ex; clb_train_run leaves val_* NaN. */
  double val_loss;     /* mean loss over the validation rows; NaN without a split */
  double val_accuracy; /* NaN without a split or for linreg */
  double epochs_done;  /* updates / updates per epoch: fractional between epoch ends */
  int epoch_end;       /* 1 at an epoch end (and epoch 0); 0 at an --eval-every point */
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

/* ---- learning-rate schedules (pure) ------------------------------------ */

enum clb_lr_scale { CLB_LR_NONE = 0, CLB_LR_LINEAR = 1, CLB_LR_SQRT = 2 };
int clb_lr_scale_parse(const char *name, enum clb_lr_scale *out); /* 0 or CLB_E_INVAL */
const char *clb_lr_scale_name(enum clb_lr_scale scale);          /* "none", "linear", "sqrt" */

/* lr(B): none -> lr; linear -> lr * B / B0; sqrt -> lr * sqrt(B / B0). */
double clb_train_scaled_lr(double lr, enum clb_lr_scale scale, size_t batch, size_t base_batch);

/* Linear warm-up: the lr of update u (0-based) is lr * (u + 1) / W for
 * u < W = warmup_updates, then lr. So the first update uses lr / W and
 * update W - 1 the full lr; W = 0 means no warm-up. */
double clb_train_warmup_lr(double lr, size_t update, size_t warmup_updates);

/* ---- extensions of the loop (clb_train_run_ex) ------------------------- */

struct clb_train_extra {
  /* Gradient accumulation: each update sums `accumulate` micro-batches of
   * cfg->batch rows (effective batch accumulate * batch); 0 or 1: none. The
   * micro-batch gradients are scaled by 1 / (rows of the update) and summed
   * in a device vector, so the update equals one step on the whole
   * effective batch. */
  size_t accumulate;
  /* Evaluate (and call on_epoch) also after every `eval_every` updates;
   * 0: at epoch ends only. */
  size_t eval_every;
  /* Stop at the first evaluation whose training loss is <= target_loss. */
  int has_target;
  double target_loss;
  /* Linear lr warm-up over this many updates (see clb_train_warmup_lr). */
  size_t warmup_updates;
  /* Rows [0, n_train) of the data set train; rows [n_train, n) are a
   * validation split that is only evaluated. 0: every row trains. */
  size_t n_train;
  /* Sharpness at the final parameters (see clb_train_sharpness);
   * sharpness_samples 0: not measured. */
  double sharpness_eps;
  size_t sharpness_samples;
  uint64_t sharpness_seed;
  /* Stop after this many updates (an evaluation follows); 0: no limit.
   * `clbatch run --noise-at` trains this way before measuring the noise. */
  size_t max_updates;
};

struct clb_train_summary {
  int reached;              /* 1: the target loss was reached */
  size_t target_updates;    /* updates when it was reached */
  double target_epochs;     /* epochs (fractional) when it was reached */
  double target_wall_s;     /* training wall seconds when it was reached */
  size_t updates;           /* updates done in all */
  double wall_s;            /* training wall seconds in all (evaluation excluded) */
  double train_loss, accuracy, val_loss, val_accuracy; /* at the final parameters */
  double sharpness_mean, sharpness_max; /* NaN when not measured */
  size_t device_bytes;      /* the model's buffers plus the accumulation vector */
  double update_s;          /* wall_s / updates: one update of the effective batch */
  double micro_s;           /* update_s / accumulate: one micro-batch */
};

/* clb_train_run with the extensions above (extra may be NULL) and a summary
 * (may be NULL). A validation split needs 1 <= n_train < n and
 * accumulate * batch <= n_train. */
int clb_train_run_ex(const struct clb_cl *cl, const struct clb_dataset *data,
                     const struct clb_train_config *cfg, const struct clb_train_extra *extra,
                     double *theta, clb_epoch_fn on_epoch, void *ctx,
                     struct clb_train_summary *summary, struct clb_error *err);

/* A deterministic validation split: round(val_fraction * n) rows chosen
 * uniformly at random from `seed` (at least 1, and at least 1 row left to
 * train). `out` is a reordered copy of `in`: training rows first (in their
 * original order), then the validation rows (in their original order);
 * *n_train counts the former. rows (n entries, may be NULL) gets the original
 * index of every row of `out`. out must be freed with clb_dataset_destroy. */
int clb_train_split(const struct clb_dataset *in, double val_fraction, uint64_t seed,
                    struct clb_dataset *out, size_t *n_train, uint32_t *rows,
                    struct clb_error *err);

/* Device bytes of a model whose step buffers hold `rows` rows (a throwaway
 * model is created and destroyed): what one step at that batch needs. */
int clb_train_model_bytes(const struct clb_cl *cl, const struct clb_dataset *data,
                          const struct clb_train_config *cfg, size_t rows, size_t *bytes,
                          struct clb_error *err);

/* ---- sharpness ---------------------------------------------------------- */

/* One random perturbation, filter-normalised per tensor: for each tensor t
 * of theta a direction d_t ~ N(0, I) is drawn from rng (tensor by tensor,
 * element by element, in theta order) and delta_t = eps * |theta_t| *
 * d_t / |d_t|, so |delta_t| = eps * |theta_t| exactly. A tensor with
 * |theta_t| = 0 (e.g. biases at initialisation) is not perturbed, but its
 * directions are still drawn so the stream does not depend on theta. */
void clb_train_perturbation(const struct clb_shape *shape, const double *theta, double eps,
                            struct clb_rng *rng, double *delta);

/* epsilon-sharpness on the device: with rng seeded by `seed`, draws
 * `samples` perturbations with clb_train_perturbation (in that order) and
 * evaluates the mean loss over order[0 .. rows) at theta + delta; mean and
 * max of L(theta + delta) - L(theta). The model's parameters are theta
 * again when the call returns 0. */
int clb_train_sharpness(struct clb_model *model, const struct clb_shape *shape, size_t rows,
                        size_t chunk, const double *theta, double eps, size_t samples,
                        uint64_t seed, double *mean, double *max, struct clb_error *err);

#endif
