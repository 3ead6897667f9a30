#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "util/clock.h"

/* Evaluation reads the loss of up to this many rows per pass; the model's
 * step buffers are sized for it so an epoch's loss takes few passes. */
#define CLB_TRAIN_EVAL_ROWS 1024

size_t clb_train_updates_per_epoch(size_t n, size_t batch, int drop_last) {
  if (batch == 0)
    return 0;
  return drop_last ? n / batch : (n + batch - 1) / batch;
}

static int check_config(const struct clb_dataset *data, const struct clb_train_config *cfg,
                        size_t n_train, size_t accumulate, struct clb_error *err) {
  if (!data || data->n == 0)
    return clb_failf(err, CLB_E_INVAL, "train: the data set is empty");
  if (cfg->batch < 1)
    return clb_failf(err, CLB_E_INVAL, "train: batch 0 is not a batch size (1 .. %zu)", data->n);
  if (n_train > data->n || n_train == 0)
    return clb_failf(err, CLB_E_INVAL, "train: %zu training rows of %zu samples", n_train,
                     data->n);
  if (cfg->batch > n_train)
    return clb_failf(err, CLB_E_INVAL, "train: batch %zu is more than the %zu samples", cfg->batch,
                     n_train);
  if (accumulate > n_train / cfg->batch)
    return clb_failf(err, CLB_E_INVAL,
                     "train: %zu micro-batches of %zu (an effective batch of %zu) are more than "
                     "the %zu training samples",
                     accumulate, cfg->batch, accumulate * cfg->batch, n_train);
  if (!isfinite(cfg->lr) || cfg->lr <= 0)
    return clb_failf(err, CLB_E_INVAL, "train: learning rate %g must be finite and above 0",
                     cfg->lr);
  if (cfg->epochs < 1)
    return clb_failf(err, CLB_E_INVAL, "train: epochs must be at least 1");
  /* Class labels and regression targets are stored alike (doubles), so a
   * mismatch would train without complaint on meaningless targets. */
  int classifier = clb_shape_is_classifier(cfg->shape.kind);
  if (classifier != (data->classification != 0))
    return clb_failf(err, CLB_E_INVAL, "train: %s needs %s, the data set has %s",
                     clb_shape_kind_name(cfg->shape.kind),
                     classifier ? "class labels" : "regression targets",
                     data->classification ? "class labels" : "regression targets");
  return 0;
}

/* Mean loss over order[begin .. begin + n), in chunks of at most `chunk`
 * rows. With begin = 0 and n = every training row the chunks cover every
 * training sample whatever the permutation of those rows. */
static int evaluate_rows(struct clb_model *model, size_t begin, size_t n, size_t chunk,
                         int classifier, double *loss, double *accuracy, struct clb_error *err) {
  double sum = 0;
  size_t correct = 0;
  for (size_t first = begin; first < begin + n; first += chunk) {
    size_t rows = begin + n - first < chunk ? begin + n - first : chunk;
    double part = 0;
    size_t hits = 0;
    int rc = clb_model_evaluate(model, first, rows, &part, &hits, err);
    if (rc != 0)
      return rc;
    sum += part;
    correct += hits;
  }
  *loss = sum / (double)n;
  *accuracy = classifier ? (double)correct / (double)n : NAN;
  return 0;
}

/* Hands an epoch's result to the caller and turns a non-finite loss into
 * CLB_E_NUMERIC (after the caller has seen the row, so it can keep it).
 * Returns 0 to go on, 1 to stop early, or a negative status. */
static int deliver(const struct clb_epoch_result *result, clb_epoch_fn on_epoch, void *ctx,
                   struct clb_error *err) {
  int wanted = on_epoch ? on_epoch(result, ctx) : 0;
  /* Spelled out so a NaN reads "nan" whatever its sign bit (printf gives "-nan"). */
  double loss = result->train_loss;
  if (isnan(loss))
    return clb_failf(err, CLB_E_NUMERIC, "diverged at epoch %zu (loss nan)", result->epoch);
  if (isinf(loss))
    return clb_failf(err, CLB_E_NUMERIC, "diverged at epoch %zu (loss %sinf)", result->epoch,
                     loss < 0 ? "-" : "");
  if (wanted < 0)
    return clb_failf(err, wanted, "training stopped by the caller at epoch %zu: %s", result->epoch,
                     clb_strerror(wanted));
  return wanted > 0 ? 1 : 0;
}

/* CLBlast compiles its kernels on the first call of each routine, so the
 * first timed epoch would include seconds of compilation. One step per batch
 * height the epoch will use (the full batch and the partial last one) with
 * lr = 0 compiles everything; the parameters are then written back in case
 * 0 * a non-finite gradient disturbed them. */
static int warm_up(struct clb_model *model, size_t batch, size_t partial, const double *theta,
                   const char *device, struct clb_error *err) {
  int rc = clb_model_step(model, 0, batch, 0.0, err);
  if (rc == 0 && partial != 0 && partial != batch)
    rc = clb_model_step(model, 0, partial, 0.0, err);
  if (rc == 0)
    rc = clb_model_set_params(model, theta, err);
  if (rc == 0) {
    cl_int status = clFinish(clb_model_queue(model));
    if (status != CL_SUCCESS)
      rc = clb_fail(err, status, "clFinish", device, "after the warm-up step");
  }
  return rc;
}

/* ---- learning-rate schedules ------------------------------------------- */

static const char *const LR_SCALE_NAMES[] = {"none", "linear", "sqrt"};

int clb_lr_scale_parse(const char *name, enum clb_lr_scale *out) {
  for (int k = 0; k < 3; k++)
    if (strcmp(name, LR_SCALE_NAMES[k]) == 0) {
      *out = (enum clb_lr_scale)k;
      return 0;
    }
  return CLB_E_INVAL;
}

const char *clb_lr_scale_name(enum clb_lr_scale scale) {
  return (unsigned)scale < 3 ? LR_SCALE_NAMES[scale] : "?";
}

double clb_train_scaled_lr(double lr, enum clb_lr_scale scale, size_t batch, size_t base_batch) {
  double ratio = base_batch ? (double)batch / (double)base_batch : 1.0;
  switch (scale) {
  case CLB_LR_LINEAR:
    return lr * ratio;
  case CLB_LR_SQRT:
    return lr * sqrt(ratio);
  default:
    return lr;
  }
}

double clb_train_warmup_lr(double lr, size_t update, size_t warmup_updates) {
  if (update >= warmup_updates)
    return lr;
  return lr * (double)(update + 1) / (double)warmup_updates;
}

/* ---- the loop ----------------------------------------------------------- */

/* Everything one evaluation point needs, so the loop reads as a loop. */
struct loop {
  struct clb_model *model;
  const struct clb_train_extra *extra;
  size_t n, n_train, chunk, per_epoch;
  int classifier;
  clb_epoch_fn on_epoch;
  void *ctx;
  struct clb_train_summary *summary;
};

/* Evaluates the training (and validation) loss, hands the row over and
 * checks the target. Returns 0 to go on, 1 to stop, or a negative status. */
static int evaluate_point(struct loop *lp, struct clb_epoch_result *result, struct clb_error *err) {
  int rc = evaluate_rows(lp->model, 0, lp->n_train, lp->chunk, lp->classifier,
                         &result->train_loss, &result->accuracy, err);
  if (rc == 0 && lp->n_train < lp->n)
    rc = evaluate_rows(lp->model, lp->n_train, lp->n - lp->n_train, lp->chunk, lp->classifier,
                       &result->val_loss, &result->val_accuracy, err);
  if (rc != 0)
    return rc;
  result->epochs_done =
      lp->per_epoch ? (double)result->updates / (double)lp->per_epoch : (double)result->epoch;
  rc = deliver(result, lp->on_epoch, lp->ctx, err);
  struct clb_train_summary *sm = lp->summary;
  sm->updates = result->updates;
  sm->wall_s = result->wall_s;
  sm->train_loss = result->train_loss;
  sm->accuracy = result->accuracy;
  sm->val_loss = result->val_loss;
  sm->val_accuracy = result->val_accuracy;
  if (rc == 0 && lp->extra->has_target && result->train_loss <= lp->extra->target_loss) {
    sm->reached = 1;
    sm->target_updates = result->updates;
    sm->target_epochs = result->epochs_done;
    sm->target_wall_s = result->wall_s;
    return 1;
  }
  return rc;
}

/* One update from `rows` rows starting at order[first]: a plain step, or
 * micro-batches of `micro` rows accumulated in `acc`. Every micro-batch
 * gradient is scaled by 1/rows, so the sum is the mean gradient of the
 * update. The last micro-batch's gradient stays in the model's gradient
 * buffer and the others are added to it before the AXPY update, which
 * saves one copy. */
static int one_update(struct clb_model *model, size_t first, size_t rows, size_t micro,
                      cl_mem acc, size_t acc_bytes, double lr, const char *device,
                      struct clb_error *err) {
  if (!acc)
    return clb_model_step(model, first, rows, lr, err);
  int rc = 0;
  cl_uchar zero = 0;
  CLB_CHECK(clEnqueueFillBuffer(clb_model_queue(model), acc, &zero, 1, 0, acc_bytes, 0, NULL,
                                NULL),
            "clEnqueueFillBuffer", device);
  for (size_t m = first; m < first + rows; m += micro) {
    size_t m_rows = first + rows - m < micro ? first + rows - m : micro;
    CLB_TRY(clb_model_gradient(model, m, m_rows, 1.0 / (double)rows, err));
    if (m + m_rows < first + rows)
      CLB_TRY(clb_model_grad_axpy(model, 1.0, acc, err));
  }
  CLB_TRY(clb_model_axpy_into_grad(model, 1.0, acc, err));
  CLB_TRY(clb_model_update(model, lr, err));
cleanup:
  return rc;
}

int clb_train_run_ex(const struct clb_cl *cl, const struct clb_dataset *data,
                     const struct clb_train_config *cfg, const struct clb_train_extra *extra,
                     double *theta, clb_epoch_fn on_epoch, void *ctx,
                     struct clb_train_summary *summary, struct clb_error *err) {
  static const struct clb_train_extra no_extra = {0};
  struct clb_train_summary local_summary;
  struct clb_model *model = NULL;
  uint32_t *order = NULL;
  cl_mem acc = NULL;
  if (!extra)
    extra = &no_extra;
  if (!summary)
    summary = &local_summary;
  memset(summary, 0, sizeof *summary);
  summary->sharpness_mean = summary->sharpness_max = NAN;
  summary->val_loss = summary->val_accuracy = NAN;
  const size_t n = data ? data->n : 0;
  const size_t n_train = extra->n_train ? extra->n_train : n;
  const size_t k_acc = extra->accumulate > 1 ? extra->accumulate : 1;
  int rc = check_config(data, cfg, n_train, k_acc, err);
  if (rc != 0)
    return rc;
  if (extra->sharpness_samples && !(extra->sharpness_eps >= 0 && isfinite(extra->sharpness_eps)))
    return clb_failf(err, CLB_E_INVAL, "train: sharpness epsilon %g must be finite and >= 0",
                     extra->sharpness_eps);

  const size_t batch = cfg->batch, effective = k_acc * batch;
  const char *device = cl->info->name;
  const int classifier = clb_shape_is_classifier(cfg->shape.kind);
  /* Steps use `batch` rows; the buffers are at least as tall as an
   * evaluation chunk so the epoch loss needs few passes. */
  size_t chunk = n < CLB_TRAIN_EVAL_ROWS ? n : CLB_TRAIN_EVAL_ROWS;
  if (chunk < batch)
    chunk = batch;
  struct clb_model_config model_config = {cfg->shape, cfg->precision, chunk, cfg->data_on_host};
  CLB_TRY(clb_model_create(cl, &model_config, data, &model, err));
  CLB_TRY(clb_model_set_params(model, theta, err));
  /* The partial last update of an epoch ends in a micro-batch of this height. */
  size_t partial = cfg->drop_last ? 0 : (n_train % effective) % batch;
  CLB_TRY(warm_up(model, batch, partial, theta, device, err));
  const size_t param_count = clb_model_param_count(model);
  const size_t acc_bytes = param_count * clb_precision_size(cfg->precision);
  if (k_acc > 1)
    CLB_TRY(clb_model_vector_create(model, &acc, err));
  summary->device_bytes = clb_model_device_bytes(model) + (acc ? acc_bytes : 0);
  if (cfg->shuffle) {
    /* n >= 2 was checked by the caller; the guard keeps malloc(0) impossible. */
    order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
      rc = clb_failf(err, CLB_E_NOMEM, "train: out of host memory for a %zu-sample order", n);
      goto cleanup;
    }
    /* Validation rows keep their places after the training rows. */
    for (size_t i = 0; i < n; i++)
      order[i] = (uint32_t)i;
  }

  struct clb_rng rng;
  clb_rng_seed(&rng, cfg->seed);
  const size_t per_epoch = clb_train_updates_per_epoch(n_train, effective, cfg->drop_last);
  struct loop lp = {model, extra, n, n_train, chunk, per_epoch, classifier, on_epoch, ctx, summary};
  struct clb_epoch_result result = {0, 0, 0, 0, 0, NAN, NAN, 0, 1};
  rc = evaluate_point(&lp, &result, err);
  size_t total = 0;
  for (size_t epoch = 1; rc == 0 && epoch <= cfg->epochs; epoch++) {
    double start = clb_now();
    /* The permutation is part of what a training loop pays for each epoch,
     * so it is drawn inside the timed region. */
    if (cfg->shuffle) {
      clb_rng_permutation(&rng, order, n_train);
      CLB_TRY(clb_model_set_order(model, order, err));
    }
    result.epoch = epoch;
    for (size_t k = 0; rc == 0 && k < per_epoch; k++) {
      size_t first = k * effective;
      size_t rows = n_train - first < effective ? n_train - first : effective;
      double lr = clb_train_warmup_lr(cfg->lr, total, extra->warmup_updates);
      CLB_TRY(one_update(model, first, rows, batch, acc, acc_bytes, lr, device, err));
      total++;
      if (extra->max_updates && total >= extra->max_updates)
        break;
      if (extra->eval_every && total % extra->eval_every == 0 && k + 1 < per_epoch) {
        CLB_CHECK(clFinish(clb_model_queue(model)), "clFinish", device);
        result.wall_s += clb_now() - start;
        result.updates = total;
        result.epoch_end = 0;
        rc = evaluate_point(&lp, &result, err);
        start = clb_now();
      }
    }
    if (rc != 0)
      break;
    CLB_CHECK(clFinish(clb_model_queue(model)), "clFinish", device);
    result.wall_s += clb_now() - start;
    result.updates = total;
    result.epoch_end = 1;
    rc = evaluate_point(&lp, &result, err);
    if (extra->max_updates && total >= extra->max_updates)
      break;
  }
  if (rc < 0)
    goto cleanup;
  rc = 0; /* an early stop asked for by the callback or the target is a success */
  CLB_TRY(clb_model_get_params(model, theta, err));
  summary->update_s = summary->updates ? summary->wall_s / (double)summary->updates : NAN;
  summary->micro_s = summary->update_s / (double)k_acc;
  if (extra->sharpness_samples)
    CLB_TRY(clb_train_sharpness(model, &cfg->shape, n_train, chunk, theta, extra->sharpness_eps,
                                extra->sharpness_samples, extra->sharpness_seed,
                                &summary->sharpness_mean, &summary->sharpness_max, err));

cleanup:
  if (acc)
    clReleaseMemObject(acc);
  free(order);
  clb_model_destroy(model);
  return rc;
}

int clb_train_run(const struct clb_cl *cl, const struct clb_dataset *data,
                  const struct clb_train_config *cfg, double *theta, clb_epoch_fn on_epoch,
                  void *ctx, struct clb_error *err) {
  return clb_train_run_ex(cl, data, cfg, NULL, theta, on_epoch, ctx, NULL, err);
}

int clb_train_model_bytes(const struct clb_cl *cl, const struct clb_dataset *data,
                          const struct clb_train_config *cfg, size_t rows, size_t *bytes,
                          struct clb_error *err) {
  struct clb_model *model = NULL;
  struct clb_model_config config = {cfg->shape, cfg->precision, rows, cfg->data_on_host};
  int rc = clb_model_create(cl, &config, data, &model, err);
  if (rc == 0)
    *bytes = clb_model_device_bytes(model);
  clb_model_destroy(model);
  return rc;
}

/* ---- validation split --------------------------------------------------- */

int clb_train_split(const struct clb_dataset *in, double val_fraction, uint64_t seed,
                    struct clb_dataset *out, size_t *n_train, uint32_t *rows,
                    struct clb_error *err) {
  memset(out, 0, sizeof *out);
  if (!(val_fraction > 0 && val_fraction < 1))
    return clb_failf(err, CLB_E_INVAL, "--val-fraction: %g must be above 0 and below 1",
                     val_fraction);
  const size_t n = in->n;
  size_t n_val = (size_t)floor(val_fraction * (double)n + 0.5);
  if (n_val < 1)
    n_val = 1;
  if (n_val >= n)
    return clb_failf(err, CLB_E_INVAL,
                     "--val-fraction %g of %zu samples leaves no row to train on", val_fraction,
                     n);
  uint32_t *perm = malloc(n * sizeof *perm);
  unsigned char *is_val = calloc(n, 1);
  int rc = 0;
  out->n = n;
  out->d = in->d;
  out->c = in->c;
  out->classification = in->classification;
  out->x = malloc(n * in->d * sizeof *out->x);
  size_t y_cols = in->classification ? 1 : in->c;
  out->y = malloc(n * y_cols * sizeof *out->y);
  if (!perm || !is_val || !out->x || !out->y) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for the validation split");
    goto cleanup;
  }
  /* Its own stream, so the split does not shift the data or the shuffles. */
  struct clb_rng rng;
  clb_rng_seed(&rng, seed ^ UINT64_C(0x5eed5911700000));
  clb_rng_permutation(&rng, perm, n);
  for (size_t i = 0; i < n_val; i++)
    is_val[perm[i]] = 1;
  size_t w = 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < n; i++) {
      if (is_val[i] != pass)
        continue;
      memcpy(out->x + w * in->d, in->x + i * in->d, in->d * sizeof *out->x);
      memcpy(out->y + w * y_cols, in->y + i * y_cols, y_cols * sizeof *out->y);
      if (rows)
        rows[w] = (uint32_t)i;
      w++;
    }
  *n_train = n - n_val;
cleanup:
  free(perm);
  free(is_val);
  if (rc != 0)
    clb_dataset_destroy(out);
  return rc;
}

/* ---- sharpness ---------------------------------------------------------- */

void clb_train_perturbation(const struct clb_shape *shape, const double *theta, double eps,
                            struct clb_rng *rng, double *delta) {
  struct clb_tensor tensors[4];
  size_t count = clb_shape_tensors(shape, tensors);
  for (size_t t = 0; t < count; t++) {
    double *d = delta + tensors[t].offset;
    const double *th = theta + tensors[t].offset;
    double d2 = 0, th2 = 0;
    for (size_t i = 0; i < tensors[t].count; i++) {
      d[i] = clb_rng_normal(rng);
      d2 += d[i] * d[i];
      th2 += th[i] * th[i];
    }
    double factor = d2 > 0 ? eps * sqrt(th2) / sqrt(d2) : 0;
    for (size_t i = 0; i < tensors[t].count; i++)
      d[i] *= factor;
  }
}

int clb_train_sharpness(struct clb_model *model, const struct clb_shape *shape, size_t rows,
                        size_t chunk, const double *theta, double eps, size_t samples,
                        uint64_t seed, double *mean, double *max, struct clb_error *err) {
  const size_t p = clb_shape_param_count(shape);
  const int classifier = clb_shape_is_classifier(shape->kind);
  double *delta = malloc(p * sizeof *delta), *moved = malloc(p * sizeof *moved);
  double base = 0, accuracy = 0, sum = 0, worst = -INFINITY;
  int rc = 0;
  *mean = *max = NAN;
  if (!delta || !moved) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for the sharpness perturbations");
    goto cleanup;
  }
  if (samples == 0) {
    rc = clb_failf(err, CLB_E_INVAL, "sharpness needs at least one sample");
    goto cleanup;
  }
  CLB_TRY(clb_model_set_params(model, theta, err));
  CLB_TRY(evaluate_rows(model, 0, rows, chunk, classifier, &base, &accuracy, err));
  struct clb_rng rng;
  clb_rng_seed(&rng, seed);
  for (size_t s = 0; s < samples; s++) {
    clb_train_perturbation(shape, theta, eps, &rng, delta);
    for (size_t i = 0; i < p; i++)
      moved[i] = theta[i] + delta[i];
    double loss = 0;
    CLB_TRY(clb_model_set_params(model, moved, err));
    CLB_TRY(evaluate_rows(model, 0, rows, chunk, classifier, &loss, &accuracy, err));
    sum += loss - base;
    if (loss - base > worst)
      worst = loss - base;
  }
  *mean = sum / (double)samples;
  *max = worst;
cleanup:
  /* Put theta back even after a failure, so the model is left as it came. */
  if (delta && moved) {
    struct clb_error ignored = {0};
    int restore = clb_model_set_params(model, theta, &ignored);
    if (rc == 0 && restore != 0) {
      *err = ignored;
      rc = restore;
    }
  }
  free(delta);
  free(moved);
  return rc;
}
