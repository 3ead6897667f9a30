#include "train/study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/noise.h"

int clb_study_fit_smin(const double *batch, const double *steps, size_t n, double b_noise,
                       double *s_min) {
  double sw = 0, ww = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(steps[i]) || !(batch[i] > 0))
      continue;
    double w = 1 + b_noise / batch[i];
    sw += steps[i] * w;
    ww += w * w;
  }
  *s_min = ww > 0 ? sw / ww : NAN;
  return ww > 0 && isfinite(*s_min) ? 0 : CLB_E_INVAL;
}

int clb_study_fit_free_b_noise(const double *batch, const double *steps, size_t n, double *s_min,
                       double *b_noise) {
  double sx = 0, sy = 0;
  size_t m = 0;
  *s_min = *b_noise = NAN;
  for (size_t i = 0; i < n; i++)
    if (isfinite(steps[i]) && batch[i] > 0) {
      sx += 1 / batch[i];
      sy += steps[i];
      m++;
    }
  if (m < 2)
    return CLB_E_INVAL;
  double mx = sx / (double)m, my = sy / (double)m, sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(steps[i]) && batch[i] > 0) {
      double dx = 1 / batch[i] - mx;
      sxx += dx * dx;
      sxy += dx * (steps[i] - my);
    }
  if (!(sxx > 0))
    return CLB_E_INVAL;
  double b = sxy / sxx, a = my - b * mx;
  *s_min = a;
  *b_noise = a != 0 ? b / a : NAN;
  return 0;
}

double clb_study_predict_steps(double s_min, double b_noise, double batch) {
  return s_min * (1 + b_noise / batch);
}

int clb_study_noise_scale(const struct clb_cl *cl, const struct clb_dataset *data,
                          const struct clb_shape *shape, enum clb_precision precision,
                          size_t rows, const double *theta, double *sigma2, double *grad_norm2,
                          double *b_noise, struct clb_error *err) {
  struct clb_noise_exact exact;
  int rc = clb_noise_exact_at(cl, data, shape, precision, rows, theta, &exact, err);
  if (rc == 0) {
    *sigma2 = exact.sigma2;
    *grad_norm2 = exact.grad_norm2;
    *b_noise = exact.noise_scale;
  }
  clb_noise_exact_destroy(&exact);
  return rc;
}

size_t clb_study_eval_every(size_t n_train, size_t effective, int drop_last) {
  size_t per_epoch = clb_train_updates_per_epoch(n_train, effective, drop_last);
  return per_epoch / 4 > 1 ? per_epoch / 4 : 1;
}

/* Is run `a` better than the best so far? */
static int better(const struct clb_train_summary *a, const struct clb_train_summary *best,
                  int have_best) {
  if (!have_best)
    return 1;
  if (a->reached != best->reached)
    return a->reached;
  if (a->reached) {
    if (a->target_updates != best->target_updates)
      return a->target_updates < best->target_updates;
    return a->target_wall_s < best->target_wall_s;
  }
  return a->train_loss < best->train_loss;
}

int clb_study_run_batch(const struct clb_cl *cl, const struct clb_dataset *data,
                        const struct clb_study_settings *settings, size_t batch,
                        const double *initial, struct clb_study_row *row,
                        struct clb_error *err) {
  const size_t p = clb_shape_param_count(&settings->train.shape);
  double *theta = malloc(p * sizeof *theta);
  struct clb_train_summary best = {0};
  double best_lr = NAN;
  int have_best = 0, rc = 0;
  memset(row, 0, sizeof *row);
  if (!theta)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for %zu parameters", p);
  const size_t k_acc = settings->extra.accumulate > 1 ? settings->extra.accumulate : 1;
  const size_t n_train = settings->extra.n_train ? settings->extra.n_train : data->n;
  row->batch = batch;
  row->effective = k_acc * batch;
  struct clb_train_config cfg = settings->train;
  struct clb_train_extra extra = settings->extra;
  cfg.batch = batch;
  if (!extra.eval_every)
    extra.eval_every = clb_study_eval_every(n_train, row->effective, cfg.drop_last);
  size_t per_epoch = clb_train_updates_per_epoch(n_train, row->effective, cfg.drop_last);
  extra.warmup_updates = (size_t)floor(settings->warmup_epochs * (double)per_epoch + 0.5);
  for (size_t k = 0; k < settings->n_lr; k++) {
    struct clb_train_summary summary;
    cfg.lr = clb_train_scaled_lr(settings->lr_grid[k], settings->lr_scale, row->effective,
                                 settings->base_batch);
    memcpy(theta, initial, p * sizeof *theta);
    rc = clb_train_run_ex(cl, data, &cfg, &extra, theta, NULL, NULL, &summary, err);
    row->lr_tried++;
    if (rc == CLB_E_NUMERIC) {
      row->lr_diverged++;
      rc = 0;
      continue;
    }
    if (rc != 0)
      goto cleanup;
    if (better(&summary, &best, have_best)) {
      best = summary;
      best_lr = cfg.lr;
      have_best = 1;
    }
  }
  if (!have_best) {
    rc = clb_failf(err, CLB_E_NUMERIC, "batch %zu: every learning rate of the grid diverged",
                   batch);
    goto cleanup;
  }
  row->lr = best_lr;
  row->reached = best.reached;
  row->steps = best.reached ? (double)best.target_updates : NAN;
  row->examples = best.reached ? (double)best.target_updates * (double)row->effective : NAN;
  row->epochs = best.reached ? best.target_epochs : (double)best.updates / (double)per_epoch;
  row->wall_s = best.reached ? best.target_wall_s : best.wall_s;
  row->update_s = best.update_s;
  row->train_loss = best.train_loss;
  row->accuracy = best.accuracy;
  row->val_loss = best.val_loss;
  row->val_accuracy = best.val_accuracy;
  row->gap = best.val_loss - best.train_loss;
  row->sharpness_mean = best.sharpness_mean;
  row->sharpness_max = best.sharpness_max;
  row->device_bytes = best.device_bytes;
  row->predicted = row->ratio = NAN;
cleanup:
  free(theta);
  return rc;
}

void clb_study_predict(struct clb_study_row *rows, size_t n, double b_noise,
                       struct clb_study_fit *fit) {
  double *batch = calloc(n ? n : 1, sizeof *batch), *steps = calloc(n ? n : 1, sizeof *steps);
  fit->b_noise = b_noise;
  fit->s_min = fit->e_min = fit->free_s_min = fit->free_b_noise = fit->free_e_min = NAN;
  fit->used = 0;
  if (!batch || !steps) {
    free(batch);
    free(steps);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    batch[i] = (double)rows[i].effective;
    steps[i] = rows[i].reached ? rows[i].steps : NAN;
    fit->used += rows[i].reached != 0;
  }
  if (isfinite(b_noise) && clb_study_fit_smin(batch, steps, n, b_noise, &fit->s_min) == 0)
    fit->e_min = fit->s_min * b_noise;
  if (clb_study_fit_free_b_noise(batch, steps, n, &fit->free_s_min, &fit->free_b_noise) == 0)
    fit->free_e_min = fit->free_s_min * fit->free_b_noise;
  for (size_t i = 0; i < n; i++) {
    rows[i].predicted = clb_study_predict_steps(fit->s_min, b_noise, batch[i]);
    rows[i].ratio = rows[i].steps / rows[i].predicted;
  }
  free(batch);
  free(steps);
}
