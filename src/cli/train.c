/* `clbatch train`: mini-batch SGD on one device, one run per batch size from
 * the same initial parameters, with a per-epoch table and CSV. With
 * --validate-noise it trains to a target loss instead (cli/study.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/train_options.h"
#include "cli/training.h"
#include "model/params.h"
#include "results/train_csv.h"

void clb_help_train(FILE *out) {
  fprintf(out, "Usage: clbatch train [OPTIONS]\n"
               "\n"
               "Mini-batch SGD on one OpenCL device. Each batch size is a separate run from\n"
               "the same initial parameters; after every epoch the mean loss over all samples\n"
               "(and the accuracy for classifiers) is evaluated on the device and printed.\n");
  clb_train_options_help(CLB_MODE_TRAIN, out);
  fprintf(out, "\n"
               "Exit status: 0 ok, 1 a run failed (e.g. diverged) or the device lacks the\n"
               "precision, 2 bad usage or input.\n");
}

/* What the per-epoch callback needs: where to print and write. */
struct epoch_sink {
  FILE *csv;
  unsigned csv_flags;           /* CLB_TRAIN_CSV_CLASSIFIER / _VALIDATION */
  struct clb_train_csv_row row; /* device, model, precision and batch filled */
  int classifier;
  int validation; /* 1: val_loss, gap (and val_accuracy) columns */
  int write_failed;
  struct clb_error write_error; /* why, when write_failed */
};

static int on_epoch(const struct clb_epoch_result *r, void *ctx) {
  struct epoch_sink *sink = ctx;
  char loss[64], val[64], gap[64], epoch[32];
  /* Whole epochs print as integers; --eval-every points in between as
   * fractions of an epoch. */
  snprintf(epoch, sizeof epoch, "%.6g", r->epochs_done);
  printf("%7.0f %6s %9zu %14s %10.4f", sink->row.batch, epoch, r->updates,
         clb_training_number(loss, sizeof loss, "%.7g", r->train_loss), r->wall_s);
  if (sink->classifier)
    printf(" %9.4f", r->accuracy);
  if (sink->validation) {
    printf(" %14s %11s", clb_training_number(val, sizeof val, "%.7g", r->val_loss),
           clb_training_number(gap, sizeof gap, "%.4g", r->val_loss - r->train_loss));
    if (sink->classifier)
      printf(" %9.4f", r->val_accuracy);
  }
  printf("\n");
  fflush(stdout);
  if (!sink->csv)
    return 0;
  struct clb_train_csv_row *row = &sink->row;
  row->epoch = r->epochs_done;
  row->updates = (double)r->updates;
  row->train_loss = r->train_loss;
  row->wall_s = r->wall_s;
  row->accuracy = r->accuracy;
  row->val_loss = r->val_loss;
  row->gap = r->val_loss - r->train_loss;
  row->val_accuracy = r->val_accuracy;
  /* Flushed per epoch so a killed run keeps every finished row. */
  if (clb_train_csv_write_row(sink->csv, sink->csv_flags, row, &sink->write_error) != 0) {
    sink->write_failed = 1;
    return CLB_E_IO;
  }
  return 0;
}

static int write_summary_row(const struct clb_training *c, size_t batch, double lr,
                             size_t per_epoch, const struct clb_train_summary *sm,
                             size_t bytes_micro, size_t bytes_effective, struct clb_error *err) {
  const struct clb_train_options *opt = c->opt;
  struct clb_train_summary_csv_row row;
  clb_train_summary_csv_row_init(&row);
  snprintf(row.device, sizeof row.device, "%s", c->dev->name);
  snprintf(row.model, sizeof row.model, "%s", clb_shape_kind_name(opt->kind));
  snprintf(row.precision, sizeof row.precision, "%s", clb_precision_name(opt->precision));
  row.batch = (double)batch;
  row.accumulate = (double)opt->accumulate;
  row.effective_batch = (double)(batch * opt->accumulate);
  row.lr = lr;
  row.epochs = (double)sm->updates / (double)per_epoch;
  row.updates = (double)sm->updates;
  row.wall_s = sm->wall_s;
  row.update_s = sm->update_s;
  row.micro_s = sm->micro_s;
  row.train_loss = sm->train_loss;
  row.accuracy = sm->accuracy;
  row.val_loss = sm->val_loss;
  row.val_accuracy = sm->val_accuracy;
  row.gap = sm->val_loss - sm->train_loss;
  row.target_loss = opt->has_target ? opt->target : NAN;
  row.reached = sm->reached;
  row.target_epochs = sm->reached ? sm->target_epochs : NAN;
  row.target_updates = sm->reached ? (double)sm->target_updates : NAN;
  row.target_wall_s = sm->reached ? sm->target_wall_s : NAN;
  row.sharpness_eps = opt->sharpness_eps;
  row.sharpness_samples = (double)opt->sharpness_samples;
  row.sharpness_mean = sm->sharpness_mean;
  row.sharpness_max = sm->sharpness_max;
  row.device_bytes = (double)sm->device_bytes;
  row.step_bytes_micro = opt->accumulate > 1 ? (double)bytes_micro : NAN;
  row.step_bytes_effective = opt->accumulate > 1 ? (double)bytes_effective : NAN;
  return clb_train_summary_csv_write_row(c->summary_csv, &row, err);
}

/* FILE with "-bB" before its extension (the last '.' of the last path
 * component), or appended when it has none: params.csv -> params-b32.csv. */
static void params_path(const char *file, size_t batch, char *buf, size_t size) {
  const char *slash = strrchr(file, '/');
  const char *dot = strrchr(slash ? slash + 1 : file, '.');
  if (!dot || dot == (slash ? slash + 1 : file))
    snprintf(buf, size, "%s-b%zu", file, batch);
  else
    snprintf(buf, size, "%.*s-b%zu%s", (int)(dot - file), file, batch, dot);
}

static int run_train(struct clb_training *c) {
  const struct clb_train_options *opt = c->opt;
  struct clb_error err = {0};
  size_t params = clb_shape_param_count(&c->shape);
  int failures = 0;
  const unsigned csv_flags = (c->classifier ? CLB_TRAIN_CSV_CLASSIFIER : 0) |
                             (c->validation ? CLB_TRAIN_CSV_VALIDATION : 0);
  if ((c->csv && clb_train_csv_write_header(c->csv, csv_flags, &err) != 0) ||
      (c->summary_csv && clb_train_summary_csv_write_header(c->summary_csv, &err) != 0)) {
    clb_cli_error(c->command, "%s", err.message);
    return 1;
  }
  printf("%7s %6s %9s %14s %10s%s", "batch", "epoch", "updates", "train_loss", "wall_s",
         c->classifier ? "  accuracy" : "");
  if (c->validation)
    printf(" %14s %11s%s", "val_loss", "gap", c->classifier ? "  val_acc" : "");
  printf("\n");
  fflush(stdout);
  for (size_t i = 0; i < opt->n_batches; i++) {
    const size_t batch = opt->batches[i], effective = batch * opt->accumulate;
    const double lr = clb_train_scaled_lr(opt->lr, opt->lr_scale, effective, opt->base_batch);
    struct clb_train_config cfg = {c->shape,     opt->precision, batch,
                                   lr,           opt->epochs,    opt->seed,
                                   opt->shuffle, opt->drop_last, opt->data_on_host};
    size_t per_epoch = clb_train_updates_per_epoch(c->n_train, effective, opt->drop_last);
    struct clb_train_extra extra = {0};
    extra.accumulate = opt->accumulate;
    extra.eval_every = opt->eval_every;
    extra.has_target = opt->has_target;
    extra.target_loss = opt->target;
    extra.warmup_updates = (size_t)floor(opt->warmup_epochs * (double)per_epoch + 0.5);
    extra.n_train = c->validation ? c->n_train : 0;
    extra.sharpness_eps = opt->sharpness_eps;
    extra.sharpness_samples = opt->sharpness_samples;
    extra.sharpness_seed = opt->seed;
    struct epoch_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.csv = c->csv;
    sink.csv_flags = csv_flags;
    sink.classifier = c->classifier;
    sink.validation = c->validation;
    clb_train_csv_row_init(&sink.row);
    snprintf(sink.row.device, sizeof sink.row.device, "%s", c->dev->name);
    snprintf(sink.row.model, sizeof sink.row.model, "%s", clb_shape_kind_name(opt->kind));
    snprintf(sink.row.precision, sizeof sink.row.precision, "%s",
             clb_precision_name(opt->precision));
    sink.row.batch = (double)batch;
    struct clb_train_summary sm;
    if (lr != opt->lr || extra.warmup_updates) {
      printf("batch %zu: lr %g", batch, lr);
      if (extra.warmup_updates)
        printf(", warmed up linearly over the first %zu updates", extra.warmup_updates);
      printf("\n");
    }
    memcpy(c->theta, c->initial, params * sizeof *c->theta);
    int rc = clb_train_run_ex(&c->cl, &c->data, &cfg, &extra, c->theta, on_epoch, &sink, &sm, &err);
    if (sink.write_failed) {
      clb_cli_error(c->command, "%s: %s", opt->out_path, sink.write_error.message);
      return 1;
    }
    if (rc == CLB_E_NUMERIC) {
      clb_cli_error(c->command, "batch %zu: %s: lower --lr", batch, err.message);
      failures++;
      continue;
    }
    if (rc != 0) {
      clb_cli_error(c->command, "batch %zu: %s", batch, err.message);
      failures++;
      continue;
    }
    if (opt->has_target) {
      if (sm.reached)
        printf("batch %zu: train loss <= %g after %.4g epochs, %zu updates, %.4f s\n", batch,
               opt->target, sm.target_epochs, sm.target_updates, sm.target_wall_s);
      else
        printf("batch %zu: train loss %g did not reach %g in %zu epochs\n", batch,
               sm.train_loss, opt->target, opt->epochs);
    }
    if (opt->sharpness_samples)
      printf("batch %zu: sharpness (eps %g, %zu samples): mean increase %.6g, max %.6g\n", batch,
             opt->sharpness_eps, opt->sharpness_samples, sm.sharpness_mean, sm.sharpness_max);
    /* fp16 keeps 11 significant bits: a perturbation of a few units in the
     * last place, and the loss it changes, are mostly rounding. */
    if (opt->sharpness_samples && opt->precision == CLB_FP16 && opt->sharpness_eps < 0.02)
      printf("batch %zu: note: in fp16 eps %g moves each parameter by %.2g to %.2g units in the "
             "last place, so this sharpness is mostly rounding; use --sharpness-eps 0.02 or "
             "more\n",
             batch, opt->sharpness_eps, opt->sharpness_eps / CLB_FP16_EPSILON,
             2 * opt->sharpness_eps / CLB_FP16_EPSILON);
    /* With accumulation, what one step costs at the micro and at the
     * effective batch: the memory a model of each height needs. */
    size_t bytes_micro = 0, bytes_effective = 0;
    if (opt->accumulate > 1) {
      rc = clb_train_model_bytes(&c->cl, &c->data, &cfg, batch, &bytes_micro, &err);
      if (rc == 0)
        rc = clb_train_model_bytes(&c->cl, &c->data, &cfg, effective, &bytes_effective, &err);
      if (rc != 0) {
        clb_cli_error(c->command, "batch %zu: %s", batch, err.message);
        failures++;
        continue;
      }
      bytes_micro += params * clb_precision_size(opt->precision);
      printf("batch %zu x %zu = %zu: micro-batch %.6g s, update %.6g s; device memory %zu bytes "
             "(micro-batch model + accumulation vector) vs %zu for one batch of %zu\n",
             batch, opt->accumulate, effective, sm.micro_s, sm.update_s, bytes_micro,
             bytes_effective, effective);
    }
    fflush(stdout);
    if (c->summary_csv && write_summary_row(c, batch, lr, per_epoch, &sm, bytes_micro,
                                            bytes_effective, &err) != 0) {
      clb_cli_error(c->command, "%s: %s", opt->summary_path, err.message);
      return 1;
    }
    if (opt->save_path[0]) {
      char path[4096];
      if (opt->n_batches > 1)
        params_path(opt->save_path, batch, path, sizeof path);
      else
        snprintf(path, sizeof path, "%s", opt->save_path);
      if (clb_params_write(path, &c->shape, c->theta, &err) != 0) {
        clb_cli_error(c->command, "%s", err.message);
        failures++;
        continue;
      }
      printf("saved the batch-%zu parameters to %s\n", batch, path);
      fflush(stdout);
    }
  }
  return failures ? 1 : 0;
}


int clb_cmd_train(int argc, char **argv) {
  struct clb_train_options opt;
  int code = clb_train_options_parse(argc, argv, "train", CLB_MODE_TRAIN, &opt);
  if (code < 0) {
    clb_help_train(stdout);
    return 0;
  }
  if (code != 0)
    return code;
  struct clb_training training;
  code = clb_training_create(&training, &opt, "train");
  if (code == 0)
    code = opt.mode == CLB_MODE_VALIDATE ? clb_study_table(&training) : run_train(&training);
  return clb_training_destroy(&training, code);
}
