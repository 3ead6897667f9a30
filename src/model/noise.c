#include "model/noise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "measure/stats.h"
#include "model/dataset.h"
#include "util/rng.h"

void clb_noise_exact_destroy(struct clb_noise_exact *exact) {
  if (!exact)
    return;
  free(exact->full_grad);
  exact->full_grad = NULL;
}

int clb_noise_exact(struct clb_model *model, size_t n, size_t chunk,
                    struct clb_noise_exact *out, struct clb_error *err) {
  int rc = 0;
  cl_mem full = NULL;
  double *norms = malloc(chunk * sizeof *norms);
  memset(out, 0, sizeof *out);
  out->full_grad = malloc(clb_model_param_count(model) * sizeof *out->full_grad);
  if (!norms || !out->full_grad) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for the noise pass");
    goto cleanup;
  }
  CLB_TRY(clb_model_set_order(model, NULL, err));
  CLB_TRY(clb_model_vector_create(model, &full, err));
  double sum_norm2 = 0;
  for (size_t first = 0; first < n; first += chunk) {
    size_t rows = n - first < chunk ? n - first : chunk;
    /* The chunk's mean gradient, as a step computes it: a sum of thousands of
     * g_i would overflow fp16's range (65504). The kernels then see each
     * sample's delta scaled by 1/rows, so its norm comes out scaled by 1/rows^2. */
    CLB_TRY(clb_model_gradient(model, first, rows, 1.0 / (double)rows, err));
    CLB_TRY(clb_model_grad_axpy(model, (double)rows / (double)n, full, err));
    CLB_TRY(clb_model_sample_norms(model, rows, norms, err));
    for (size_t i = 0; i < rows; i++)
      sum_norm2 += norms[i] * (double)rows * (double)rows;
  }
  CLB_TRY(clb_model_norm2(model, full, &out->grad_norm2, err));
  CLB_TRY(clb_model_vector_read(model, full, out->full_grad, err));
  out->sigma2 = sum_norm2 / (double)n - out->grad_norm2;
  /* Rounding can push a vanishing variance a hair below zero. */
  if (out->sigma2 < 0)
    out->sigma2 = 0;
  out->noise_scale = out->grad_norm2 > 0 ? out->sigma2 / out->grad_norm2 : NAN;
  if (!isfinite(out->sigma2) || !isfinite(out->grad_norm2))
    rc = clb_failf(err, CLB_E_NUMERIC, "the noise pass produced a non-finite value "
                                       "(sigma2 %g, |G|^2 %g): the model diverged",
                   out->sigma2, out->grad_norm2);
cleanup:
  if (full)
    clReleaseMemObject(full);
  free(norms);
  if (rc != 0)
    clb_noise_exact_destroy(out);
  return rc;
}

int clb_noise_exact_at(const struct clb_cl *cl, const struct clb_dataset *data,
                       const struct clb_shape *shape, enum clb_precision precision, size_t rows,
                       const double *theta, struct clb_noise_exact *out, struct clb_error *err) {
  /* Chunks as tall as a typical big batch: few passes, modest buffers. */
  size_t chunk = rows < 1024 ? rows : 1024;
  struct clb_model_config config = {*shape, precision, chunk, 0};
  struct clb_model *model = NULL;
  int rc = 0;
  memset(out, 0, sizeof *out);
  CLB_TRY(clb_model_create(cl, &config, data, &model, err));
  CLB_TRY(clb_model_set_params(model, theta, err));
  CLB_TRY(clb_noise_exact(model, rows, chunk, out, err));
cleanup:
  clb_model_destroy(model);
  return rc;
}

int clb_noise_measure(struct clb_model *model, size_t n, size_t batch, size_t k, uint64_t seed,
                      const struct clb_noise_exact *exact, struct clb_noise_measured *out,
                      struct clb_error *err) {
  int rc = 0;
  cl_mem full = NULL;
  uint32_t *order = NULL;
  double *values = NULL;
  memset(out, 0, sizeof *out);
  out->batches = k;
  out->predicted = clb_stats_var_without_replacement(exact->sigma2, batch, n);
  out->predicted_with_replacement = clb_stats_var_with_replacement(exact->sigma2, batch);
  if (batch >= n) {
    out->mean = out->ci_low = out->ci_high = 0;
    out->ratio = NAN;
    return 0;
  }
  if (k < 2)
    return clb_failf(err, CLB_E_INVAL, "the noise measurement needs at least 2 batches");
  order = malloc(n * sizeof *order);
  values = malloc(k * sizeof *values);
  if (!order || !values) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for the noise measurement");
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++)
    order[i] = (uint32_t)i;
  CLB_TRY(clb_model_vector_create(model, &full, err));
  CLB_TRY(clb_model_vector_write(model, full, exact->full_grad, err));
  struct clb_rng rng;
  clb_rng_seed(&rng, seed);
  for (size_t draw = 0; draw < k; draw++) {
    /* A partial Fisher-Yates shuffle leaves a uniform B-subset in front. */
    for (size_t i = 0; i < batch; i++) {
      size_t j = i + clb_rng_below(&rng, n - i);
      uint32_t swap = order[i];
      order[i] = order[j];
      order[j] = swap;
    }
    CLB_TRY(clb_model_set_order(model, order, err));
    CLB_TRY(clb_model_gradient(model, 0, batch, 1.0 / (double)batch, err));
    CLB_TRY(clb_model_axpy_into_grad(model, -1.0, full, err));
    CLB_TRY(clb_model_norm2(model, NULL, &values[draw], err));
  }
  clb_stats_mean_ci(values, k, 0.95, &out->mean, &out->ci_low, &out->ci_high);
  out->ratio = out->predicted > 0 ? out->mean / out->predicted : NAN;
cleanup:
  if (full)
    clReleaseMemObject(full);
  free(order);
  free(values);
  return rc;
}
