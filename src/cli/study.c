/* `clbatch study` and `clbatch train --validate-noise`: every batch size
 * trained from the same initial parameters to a target loss, against the
 * steps the gradient noise scale predicts, S_min (1 + B_noise/B). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/train_options.h"
#include "cli/training.h"
#include "results/study_csv.h"
#include "train/study.h"

void clb_help_study(FILE *out) {
  fprintf(out, "Usage: clbatch study --target-loss L [OPTIONS]\n"
               "\n"
               "Trains one model on one device at every batch size of --batch from the same\n"
               "initial parameters until the training loss reaches L, and writes one table:\n"
               "batch, lr, updates and wall time to the target, final train and validation\n"
               "loss, gap, sharpness (mean, max), device memory, and the steps predicted by\n"
               "the gradient noise scale, S_min (1 + B_noise/B), with B_noise measured at the\n"
               "initial parameters and S_min fitted by least squares. --out FILE.csv writes\n"
               "the table for `clbatch report --study FILE.csv`.\n");
  clb_train_options_help(CLB_MODE_STUDY, out);
  fprintf(out, "\n"
               "Exit status: 0 ok, 1 a run failed, 2 bad usage or input.\n");
}

static int write_study_csv(const struct clb_training *c, const struct clb_study_row *rows,
                           size_t n, double sigma2, double grad_norm2,
                           const struct clb_study_fit *fit, struct clb_error *err) {
  const struct clb_train_options *opt = c->opt;
  FILE *out = c->csv;
  int rc = clb_study_csv_write_header(out, err);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const struct clb_study_row *r = &rows[i];
    struct clb_study_csv_row row;
    clb_study_csv_row_init(&row);
    snprintf(row.device, sizeof row.device, "%s", c->dev->name);
    snprintf(row.model, sizeof row.model, "%s", clb_shape_kind_name(opt->kind));
    snprintf(row.precision, sizeof row.precision, "%s", clb_precision_name(opt->precision));
    row.batch = (double)r->batch;
    row.effective_batch = (double)r->effective;
    row.lr = r->lr;
    row.target_loss = opt->target;
    row.reached = r->reached;
    row.steps = r->steps;
    row.predicted_steps = r->predicted;
    row.ratio = r->ratio;
    row.examples = r->examples;
    row.epochs = r->epochs;
    row.wall_s = r->wall_s;
    row.update_s = r->update_s;
    row.train_loss = r->train_loss;
    row.val_loss = r->val_loss;
    row.gap = r->gap;
    row.accuracy = r->accuracy;
    row.val_accuracy = r->val_accuracy;
    row.sharpness_eps = opt->sharpness_samples ? opt->sharpness_eps : NAN;
    row.sharpness_mean = r->sharpness_mean;
    row.sharpness_max = r->sharpness_max;
    row.device_bytes = (double)r->device_bytes;
    row.sigma2 = sigma2;
    row.grad_norm2 = grad_norm2;
    row.b_noise = fit->b_noise;
    row.s_min = fit->s_min;
    row.e_min = fit->e_min;
    row.free_s_min = fit->free_s_min;
    row.free_b_noise = fit->free_b_noise;
    row.free_e_min = fit->free_e_min;
    rc = clb_study_csv_write_row(out, &row, err);
  }
  return rc;
}

/* --validate-noise and `clbatch study`: B_noise at the initial parameters,
 * then every batch size trained to the target, then the fits and the table. */
int clb_study_table(struct clb_training *c) {
  const struct clb_train_options *opt = c->opt;
  struct clb_error err = {0};
  double sigma2 = NAN, grad_norm2 = NAN, b_noise = NAN;
  /* The option parser guarantees at least one batch size. */
  struct clb_study_row *rows = calloc(opt->n_batches ? opt->n_batches : 1, sizeof *rows);
  int failures = 0;
  char a[64], b[64], d[64], e[64], f[64], g[64];
  if (!rows) {
    clb_cli_error(c->command, "out of memory");
    return 1;
  }
  if (clb_study_noise_scale(&c->cl, &c->data, &c->shape, opt->precision, c->n_train, c->initial,
                            &sigma2, &grad_norm2, &b_noise, &err) != 0) {
    clb_cli_error(c->command, "noise scale at the initial parameters: %s", err.message);
    free(rows);
    return 1;
  }
  printf("noise scale at the initial parameters (%zu training samples): sigma2 = tr Sigma = "
         "%.6g, |G|^2 = %.6g, B_noise = %.6g\n",
         c->n_train, sigma2, grad_norm2, b_noise);
  printf("training every batch size to train loss <= %g (evaluated every %s updates), lr ",
         opt->target, opt->eval_every ? "--eval-every" : "max(1, updates-per-epoch/4)");
  if (opt->n_lr > 1) {
    printf("the best of {");
    for (size_t k = 0; k < opt->n_lr; k++)
      printf("%s%g", k ? ", " : "", opt->lr_grid[k]);
    printf("} (fewest updates to the target)");
  } else {
    printf("%g", opt->lr_grid[0]);
  }
  if (opt->lr_scale != CLB_LR_NONE)
    printf(", each scaled %s from batch %zu", clb_lr_scale_name(opt->lr_scale), opt->base_batch);
  printf("\n");
  fflush(stdout);

  struct clb_study_settings settings = {0};
  settings.train = (struct clb_train_config){c->shape,    opt->precision, 1,
                                             opt->lr,      opt->epochs,    opt->seed,
                                             opt->shuffle, opt->drop_last, opt->data_on_host};
  settings.extra.accumulate = opt->accumulate;
  settings.extra.eval_every = opt->eval_every;
  settings.extra.has_target = 1;
  settings.extra.target_loss = opt->target;
  settings.extra.n_train = c->validation ? c->n_train : 0;
  settings.extra.sharpness_eps = opt->sharpness_eps;
  settings.extra.sharpness_samples = opt->sharpness_samples;
  settings.extra.sharpness_seed = opt->seed;
  settings.lr_grid = opt->lr_grid;
  settings.n_lr = opt->n_lr;
  settings.lr_scale = opt->lr_scale;
  settings.base_batch = opt->base_batch;
  settings.warmup_epochs = opt->warmup_epochs;
  for (size_t i = 0; i < opt->n_batches; i++) {
    struct clb_study_row *r = &rows[i];
    int rc = clb_study_run_batch(&c->cl, &c->data, &settings, opt->batches[i], c->initial, r, &err);
    if (rc != 0) {
      clb_cli_error(c->command, "batch %zu: %s", opt->batches[i], err.message);
      failures++;
      /* The row stays in the table, empty, so every batch size has one. */
      *r = (struct clb_study_row){0};
      r->batch = opt->batches[i];
      r->effective = opt->batches[i] * opt->accumulate;
      r->lr = r->steps = r->examples = r->epochs = r->wall_s = r->update_s = NAN;
      r->train_loss = r->accuracy = r->val_loss = r->val_accuracy = r->gap = NAN;
      r->sharpness_mean = r->sharpness_max = NAN;
      continue;
    }
    if (r->reached)
      printf("batch %zu: lr %g: %.0f updates (%.4g epochs), %.4f s\n", r->batch, r->lr, r->steps,
             r->epochs, r->wall_s);
    else
      printf("batch %zu: did not reach %g in %zu epochs with any lr (best final loss %g)\n",
             r->batch, opt->target, opt->epochs, r->train_loss);
    fflush(stdout);
  }
  struct clb_study_fit fit;
  clb_study_predict(rows, opt->n_batches, b_noise, &fit);

  printf("\n%7s %10s %9s %10s %7s %11s %10s", "batch", "lr", "steps", "predicted", "ratio",
         "examples", "wall_s");
  if (opt->mode == CLB_MODE_STUDY)
    printf(" %12s %12s %10s %11s %11s %12s", "train_loss", "val_loss", "gap", "sharp_mean",
           "sharp_max", "device_bytes");
  printf("\n");
  for (size_t i = 0; i < opt->n_batches; i++) {
    const struct clb_study_row *r = &rows[i];
    printf("%7zu %10s %9s %10s %7s %11s %10s", r->effective, clb_training_number(a, sizeof a, "%.4g", r->lr),
           clb_training_number(b, sizeof b, "%.0f", r->steps), clb_training_number(d, sizeof d, "%.1f", r->predicted),
           clb_training_number(e, sizeof e, "%.3f", r->ratio), clb_training_number(f, sizeof f, "%.0f", r->examples),
           clb_training_number(g, sizeof g, "%.4f", r->wall_s));
    if (opt->mode == CLB_MODE_STUDY) {
      printf(" %12s", clb_training_number(a, sizeof a, "%.6g", r->train_loss));
      printf(" %12s", clb_training_number(a, sizeof a, "%.6g", r->val_loss));
      printf(" %10s", clb_training_number(a, sizeof a, "%.4g", r->gap));
      printf(" %11s", clb_training_number(a, sizeof a, "%.4g", r->sharpness_mean));
      printf(" %11s", clb_training_number(a, sizeof a, "%.4g", r->sharpness_max));
      printf(" %12zu", r->device_bytes);
    }
    printf("\n");
  }
  printf("fit with the measured B_noise = %.6g: S_min = %s, E_min = S_min B_noise = %s "
         "(%zu of %zu batch sizes reached the target)\n",
         fit.b_noise, clb_training_number(a, sizeof a, "%.6g", fit.s_min),
         clb_training_number(b, sizeof b, "%.6g", fit.e_min), fit.used, opt->n_batches);
  printf("free fit S = S_min (1 + B_noise/B): S_min = %s, B_noise = %s, E_min = %s\n",
         clb_training_number(a, sizeof a, "%.6g", fit.free_s_min), clb_training_number(b, sizeof b, "%.6g", fit.free_b_noise),
         clb_training_number(d, sizeof d, "%.6g", fit.free_e_min));
  printf("note: B_noise is the simple noise scale tr Sigma / |G|^2 measured once, at the initial "
         "parameters; it grows as the loss falls, so the measured steps of large batches tend "
         "to exceed the prediction\n");
  fflush(stdout);
  if (c->csv) {
    if (write_study_csv(c, rows, opt->n_batches, sigma2, grad_norm2, &fit, &err) != 0) {
      clb_cli_error(c->command, "%s: %s", opt->out_path, err.message);
      failures++;
    }
  }
  free(rows);
  return failures ? 1 : 0;
}


int clb_cmd_study(int argc, char **argv) {
  struct clb_train_options opt;
  int code = clb_train_options_parse(argc, argv, "study", CLB_MODE_STUDY, &opt);
  if (code < 0) {
    clb_help_study(stdout);
    return 0;
  }
  if (code != 0)
    return code;
  struct clb_training training;
  code = clb_training_create(&training, &opt, "study");
  if (code == 0)
    code = clb_study_table(&training);
  return clb_training_destroy(&training, code);
}
