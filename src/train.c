#include "train.h"

#include <math.h>
#include <stdlib.h>

#include "measure.h"
#include "model.h"

/* Evaluation reads the loss of up to this many rows per pass; the model's
 * step buffers are sized for it so an epoch's loss takes few passes. */
#define CLB_TRAIN_EVAL_ROWS 1024

size_t clb_train_updates_per_epoch(size_t n, size_t batch, int drop_last) {
  if (batch == 0)
    return 0;
  return drop_last ? n / batch : (n + batch - 1) / batch;
}

static int check_config(const struct clb_dataset *data, const struct clb_train_config *cfg,
                        struct clb_error *err) {
  if (!data || data->n == 0)
    return clb_failf(err, CLB_E_INVAL, "train: the data set is empty");
  if (cfg->batch < 1)
    return clb_failf(err, CLB_E_INVAL, "train: batch 0 is not a batch size (1 .. %zu)", data->n);
  if (cfg->batch > data->n)
    return clb_failf(err, CLB_E_INVAL, "train: batch %zu is more than the %zu samples", cfg->batch,
                     data->n);
  if (!isfinite(cfg->lr) || cfg->lr <= 0)
    return clb_failf(err, CLB_E_INVAL, "train: learning rate %g must be finite and above 0",
                     cfg->lr);
  if (cfg->epochs < 1)
    return clb_failf(err, CLB_E_INVAL, "train: epochs must be at least 1");
  /* Class labels and regression targets are stored alike (doubles), so a
   * mismatch would train without complaint on meaningless targets. */
  int classifier = clb_model_is_classifier(cfg->shape.kind);
  if (classifier != (data->classification != 0))
    return clb_failf(err, CLB_E_INVAL, "train: %s needs %s, the data set has %s",
                     clb_model_name(cfg->shape.kind),
                     classifier ? "class labels" : "regression targets",
                     data->classification ? "class labels" : "regression targets");
  return 0;
}

/* Mean loss over all n samples, in chunks of at most `chunk` rows. The
 * chunks cover order[0 .. n), which is every sample whatever the order. */
static int evaluate_all(struct clb_model *model, size_t n, size_t chunk, int classifier,
                        double *loss, double *accuracy, struct clb_error *err) {
  double sum = 0;
  size_t correct = 0;
  for (size_t first = 0; first < n; first += chunk) {
    size_t rows = n - first < chunk ? n - first : chunk;
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
static int warm_up(struct clb_model *model, size_t n, size_t batch, int drop_last,
                   const double *theta, const char *device, struct clb_error *err) {
  int rc = clb_model_step(model, 0, batch, 0.0, err);
  if (rc == 0 && !drop_last && n % batch != 0)
    rc = clb_model_step(model, 0, n % batch, 0.0, err);
  if (rc == 0)
    rc = clb_model_set_params(model, theta, err);
  if (rc == 0) {
    cl_int status = clFinish(clb_model_queue(model));
    if (status != CL_SUCCESS)
      rc = clb_fail(err, status, "clFinish", device, "after the warm-up step");
  }
  return rc;
}

int clb_train_run(const struct clb_cl *cl, const struct clb_dataset *data,
                  const struct clb_train_config *cfg, double *theta, clb_epoch_fn on_epoch,
                  void *ctx, struct clb_error *err) {
  struct clb_model *model = NULL;
  uint32_t *order = NULL;
  int rc = check_config(data, cfg, err);
  if (rc != 0)
    return rc;

  const size_t n = data->n, batch = cfg->batch;
  const char *device = cl->info->name;
  const int classifier = clb_model_is_classifier(cfg->shape.kind);
  /* Steps use `batch` rows; the buffers are at least as tall as an
   * evaluation chunk so the epoch loss needs few passes. */
  size_t chunk = n < CLB_TRAIN_EVAL_ROWS ? n : CLB_TRAIN_EVAL_ROWS;
  if (chunk < batch)
    chunk = batch;
  struct clb_model_config model_config = {cfg->shape, cfg->precision, chunk, cfg->data_on_host};
  CLB_TRY(clb_model_create(cl, &model_config, data, &model, err));
  CLB_TRY(clb_model_set_params(model, theta, err));
  CLB_TRY(warm_up(model, n, batch, cfg->drop_last, theta, device, err));
  if (cfg->shuffle) {
    order = malloc(n * sizeof *order);
    if (!order) {
      rc = clb_failf(err, CLB_E_NOMEM, "train: out of host memory for a %zu-sample order", n);
      goto cleanup;
    }
  }

  struct clb_rng rng;
  clb_rng_seed(&rng, cfg->seed);
  const size_t per_epoch = clb_train_updates_per_epoch(n, batch, cfg->drop_last);
  struct clb_epoch_result result = {0, 0, 0, 0, 0};
  CLB_TRY(evaluate_all(model, n, chunk, classifier, &result.train_loss, &result.accuracy, err));
  rc = deliver(&result, on_epoch, ctx, err);
  for (size_t epoch = 1; rc == 0 && epoch <= cfg->epochs; epoch++) {
    double start = clb_now();
    /* The permutation is part of what a training loop pays for each epoch,
     * so it is drawn inside the timed region. */
    if (cfg->shuffle) {
      clb_rng_permutation(&rng, order, n);
      CLB_TRY(clb_model_set_order(model, order, err));
    }
    for (size_t k = 0; k < per_epoch; k++) {
      size_t first = k * batch;
      size_t rows = n - first < batch ? n - first : batch;
      CLB_TRY(clb_model_step(model, first, rows, cfg->lr, err));
    }
    CLB_CHECK(clFinish(clb_model_queue(model)), "clFinish", device);
    result.wall_s += clb_now() - start;
    result.epoch = epoch;
    result.updates += per_epoch;
    CLB_TRY(evaluate_all(model, n, chunk, classifier, &result.train_loss, &result.accuracy, err));
    rc = deliver(&result, on_epoch, ctx, err);
  }
  if (rc < 0)
    goto cleanup;
  rc = 0; /* an early stop asked for by the callback is a success */
  CLB_TRY(clb_model_get_params(model, theta, err));

cleanup:
  free(order);
  clb_model_destroy(model);
  return rc;
}
