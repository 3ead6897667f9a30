/* `clbatch train`: the command-line side of src/train/train.c. It parses and checks
 * every input before it touches the output file, prints the per-epoch table,
 * writes the per-epoch CSV and picks the exit code (0 ok, 1 a run failed or
 * the device cannot do it, 2 bad usage or input). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/context.h"
#include "cl/platform.h"
#include "cli/commands.h"
#include "model/dataset.h"
#include "model/params.h"
#include "model/shape.h"
#include "train/study.h"
#include "train/train.h"
#include "util/csv.h"
#include "util/parse.h"
#include "util/precision.h"

#define CLB_TRAIN_MAX_BATCHES 64
#define CLB_TRAIN_MAX_LRS 16

/* "train" or "study": the command the messages name. */
static const char *command = "train";

/* One line on stderr, "clbatch COMMAND: " and the message. */
static void complain(const char *format, ...) __attribute__((format(printf, 1, 2)));
static void complain(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "clbatch %s: ", command);
  vfprintf(stderr, format, args);
  va_end(args);
}
/* --epochs when --validate-noise or `study` trains to a target: a cap. */
#define CLB_TRAIN_TARGET_EPOCHS 100
/* Centres of synthetic classes are drawn with this standard deviation per
 * feature; 1 keeps the classes overlapping a little, so the loss stays finite
 * and accuracy has room to grow. */
#define CLB_TRAIN_CLASS_SPREAD 1.0

void clb_help_train(FILE *out) {
  fprintf(out, "Usage: clbatch train [OPTIONS]\n"
               "\n"
               "Mini-batch SGD on one OpenCL device. Each batch size is a separate run from\n"
               "the same initial parameters; after every epoch the mean loss over all samples\n"
               "(and the accuracy for classifiers) is evaluated on the device and printed.\n"
               "\n"
               "  --device SPEC       cpu, gpu, P:D, pocl, intel, platform:NAME, ... (as in\n"
               "                      `clbatch help run`; default: the first device); when\n"
               "                      several match, the first is used and named\n"
               "  --model M           linreg (mean squared error), softmax or mlp\n"
               "                      (default linreg)\n"
               "  --batch LIST        batch sizes, e.g. 32 or 1,2,5,10 or 1:1024:x2; N = all\n"
               "                      samples, the full batch; 1 = stochastic (default 32,\n"
               "                      or N when there are fewer samples)\n"
               "  --lr X              learning rate, > 0 (default 0.01)\n"
               "  --epochs E          epochs per run, >= 1 (default 10)\n"
               "  --seed S            seeds the data, the initial parameters and the\n"
               "                      per-epoch shuffles (default 1)\n"
               "  --precision P       fp32, fp64 or fp16 (default fp32)\n"
               "  --no-shuffle        keep the samples in order (default: a fresh permutation\n"
               "                      every epoch)\n"
               "  --drop-last         skip the partial last batch: floor(N/B) updates per epoch\n"
               "                      instead of ceil(N/B)\n"
               "\n"
               "Data (synthetic unless --data is given):\n"
               "  --samples N         samples (default 1000)\n"
               "  --features D        features (default 16)\n"
               "  --hidden H          mlp hidden units (default 32)\n"
               "  --classes C         softmax/mlp classes (default 4)\n"
               "  --outputs O         linreg outputs (default 1)\n"
               "  --noise-std S       linreg: y = X W* + b* + S * N(0,1) (default 0.1)\n"
               "  --data FILE.csv     numeric CSV, features then the target (an integer class\n"
               "                      label for softmax/mlp); one header line allowed\n"
               "  --data-on PLACE     device (default) or host (batches streamed per step)\n"
               "\n"
               "Output:\n"
               "  --out FILE          per-epoch CSV: device,model,precision,batch,epoch,updates,\n"
               "                      train_loss,wall_s[,accuracy]; epoch 0 is the initial\n"
               "                      loss; updates and wall_s (training only, evaluation\n"
               "                      excluded) are cumulative; rows are flushed as each\n"
               "                      epoch ends\n"
               "  --save-params FILE  write the learned parameters (param,index,value); with\n"
               "                      several batch sizes, one file per size with the batch\n"
               "                      before the extension, e.g. params.csv -> params-b32.csv\n"
               "  --init-params FILE  start from these parameters instead of the seeded\n"
               "                      initialisation\n"
               "\n"
               "Training extensions:\n"
               "  --lr-scale S        none (default), linear or sqrt: lr(B) = lr * B/B0 or\n"
               "                      lr * sqrt(B/B0), B the effective batch\n"
               "  --base-batch B0     the batch --lr is tuned for (default 32)\n"
               "  --warmup-epochs W   linear warm-up: update u (0-based) of the first\n"
               "                      U = round(W * updates per epoch) uses lr(B) * (u+1)/U\n"
               "  --accumulate K      K micro-batches of B per update (effective batch K*B);\n"
               "                      prints step time and device memory of both\n"
               "  --val-fraction F    hold out round(F*N) rows (seeded) as a validation set;\n"
               "                      adds val_loss, gap (= val_loss - train_loss) and\n"
               "                      val_accuracy columns; N and --batch count training rows\n"
               "  --time-to-loss L    stop at the first evaluation with train loss <= L and\n"
               "                      report epochs, updates and wall seconds to it\n"
               "  --eval-every K      also evaluate after every K updates (default: epoch ends)\n"
               "  --sharpness-eps E   sharpness at the end: mean and max of L(theta+delta) -\n"
               "                      L(theta) over random delta with |delta_t| = E |theta_t| per\n"
               "                      tensor t (default 1e-3)\n"
               "  --sharpness-samples K  perturbations (default 16; 0: off)\n"
               "  --summary-out FILE  one CSV row per batch size: updates, times, final losses,\n"
               "                      target, sharpness, device memory\n"
               "\n"
               "Noise-scale validation (see also `clbatch study`):\n"
               "  --validate-noise    measure B_noise = tr Sigma / |G|^2 at the initial\n"
               "                      parameters, train every batch size to --target-loss,\n"
               "                      and fit S(B) = S_min (1 + B_noise/B); --out writes the\n"
               "                      table; --epochs is a cap (default 100)\n"
               "  --target-loss L     the training loss to reach (required)\n"
               "  --lr-grid LIST      learning rates to try per batch size (each scaled by\n"
               "                      --lr-scale); the one reaching L in the fewest updates\n"
               "                      is kept (default: --lr alone)\n"
               "  --eval-every K      default max(1, updates per epoch / 4)\n"
               "\n"
               "Exit status: 0 ok, 1 a run failed (e.g. diverged) or the device lacks the\n"
               "precision, 2 bad usage or input.\n");
}

struct train_options {
  const char *device_spec, *data_path, *out_path, *save_path, *init_path;
  enum clb_model_kind kind;
  enum clb_precision precision;
  size_t batches[CLB_TRAIN_MAX_BATCHES];
  size_t n_batches;
  double lr, noise_std;
  size_t epochs, samples, features, hidden, classes, outputs;
  uint64_t seed;
  int shuffle, drop_last, data_on_host;
  /* Which synthetic-data options were given, to refuse meaningless ones. */
  int set_batch, set_samples, set_features, set_hidden, set_classes, set_outputs, set_noise;
  /* Batch-size studies and the training extensions. */
  int study;          /* 0 train, 1 train --validate-noise, 2 `clbatch study` */
  int has_target;     /* --target-loss / --time-to-loss */
  double target;
  size_t eval_every;  /* 0: automatic (studies) or epoch ends (train) */
  double lr_grid[CLB_TRAIN_MAX_LRS];
  size_t n_lr;
  enum clb_lr_scale lr_scale;
  size_t base_batch, accumulate, sharpness_samples;
  double warmup_epochs, val_fraction, sharpness_eps;
  const char *summary_path;
  int set_lr, set_epochs, set_sharpness;
};

/* What the per-epoch callback needs: where to print and write. */
struct epoch_sink {
  FILE *csv;
  const char *device, *model, *precision;
  size_t batch;
  int classifier;
  int validation; /* 1: val_loss, gap (and val_accuracy) columns */
  int write_failed;
};

/* A number with `format`, or "nan"/"inf"/"-inf": printf would write "-nan"
 * for some NaNs, which strtod and other readers do not all accept. */
static const char *number(char *buf, size_t size, const char *format, double value) {
  if (isnan(value))
    return "nan";
  if (isinf(value))
    return value < 0 ? "-inf" : "inf";
  snprintf(buf, size, format, value);
  return buf;
}

static int on_epoch(const struct clb_epoch_result *r, void *ctx) {
  struct epoch_sink *sink = ctx;
  char loss[64], val[64], gap[64], epoch[32];
  /* Whole epochs print as integers; --eval-every points in between as
   * fractions of an epoch. */
  snprintf(epoch, sizeof epoch, "%.6g", r->epochs_done);
  printf("%7zu %6s %9zu %14s %10.4f", sink->batch, epoch, r->updates,
         number(loss, sizeof loss, "%.7g", r->train_loss), r->wall_s);
  if (sink->classifier)
    printf(" %9.4f", r->accuracy);
  if (sink->validation) {
    printf(" %14s %11s", number(val, sizeof val, "%.7g", r->val_loss),
           number(gap, sizeof gap, "%.4g", r->val_loss - r->train_loss));
    if (sink->classifier)
      printf(" %9.4f", r->val_accuracy);
  }
  printf("\n");
  fflush(stdout);
  if (sink->csv) {
    clb_csv_write_field(sink->csv, sink->device);
    fprintf(sink->csv, ",%s,%s,%zu,%s,%zu,%s,%.6f", sink->model, sink->precision, sink->batch,
            epoch, r->updates, number(loss, sizeof loss, "%.10g", r->train_loss), r->wall_s);
    if (sink->classifier)
      fprintf(sink->csv, ",%.6f", r->accuracy);
    if (sink->validation) {
      fprintf(sink->csv, ",%s,%s", number(val, sizeof val, "%.10g", r->val_loss),
              number(gap, sizeof gap, "%.10g", r->val_loss - r->train_loss));
      if (sink->classifier)
        fprintf(sink->csv, ",%.6f", r->val_accuracy);
    }
    fputc('\n', sink->csv);
    /* Flushed per epoch so a killed run keeps every finished row. */
    if (fflush(sink->csv) != 0 || ferror(sink->csv)) {
      sink->write_failed = 1;
      return CLB_E_IO;
    }
  }
  return 0;
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

/* "0.01,0.03,0.1": learning rates above 0, at most CLB_TRAIN_MAX_LRS. */
static int parse_lr_grid(const char *text, struct train_options *opt, struct clb_error *err) {
  char buf[1024];
  opt->n_lr = 0;
  if (strlen(text) >= sizeof buf)
    return clb_failf(err, CLB_E_INVAL, "--lr-grid: the list is too long");
  snprintf(buf, sizeof buf, "%s", text);
  char *item = buf;
  for (;;) {
    char *comma = strchr(item, ',');
    if (comma)
      *comma = '\0';
    if (opt->n_lr == CLB_TRAIN_MAX_LRS)
      return clb_failf(err, CLB_E_INVAL, "--lr-grid: more than %d values", CLB_TRAIN_MAX_LRS);
    double lr = 0;
    int rc = clb_parse_double(item, 0, 1e30, "--lr-grid", &lr, err);
    if (rc != 0)
      return rc;
    if (lr == 0)
      return clb_failf(err, CLB_E_INVAL, "--lr-grid: 0 would never move the parameters");
    opt->lr_grid[opt->n_lr++] = lr;
    if (!comma)
      return 0;
    item = comma + 1;
  }
}

/* Parses one option into opt; returns 0, or 2 after printing why. */
static int parse_option(int code, const char *value, struct train_options *opt) {
  struct clb_error err = {0};
  size_t size_value = 0;
  int rc = 0;
  switch (code) {
  case 'd':
    opt->device_spec = value;
    break;
  case 'm':
    if (clb_model_parse(value, &opt->kind) != 0) {
      complain("unknown model '%s' (linreg, softmax or mlp)\n", value);
      return 2;
    }
    break;
  case 'b':
    rc = clb_parse_batches(value, 0, opt->batches, CLB_TRAIN_MAX_BATCHES, &opt->n_batches, &err);
    opt->set_batch = 1;
    break;
  case 'l':
    rc = clb_parse_double(value, 0, 1e30, "--lr", &opt->lr, &err);
    opt->set_lr = 1;
    if (rc == 0 && opt->lr == 0)
      rc = clb_failf(&err, CLB_E_INVAL,
                     "--lr: 0 would never move the parameters; it must be "
                     "above 0");
    break;
  case 'e':
    rc = clb_parse_size(value, 1, 100000000, "--epochs", &opt->epochs, &err);
    opt->set_epochs = 1;
    break;
  case 's':
    rc = clb_parse_size(value, 0, SIZE_MAX, "--seed", &size_value, &err);
    opt->seed = (uint64_t)size_value;
    break;
  case 'p':
    if (clb_precision_parse(value, &opt->precision) != 0) {
      complain("unknown precision '%s' (fp32, fp64 or fp16)\n", value);
      return 2;
    }
    break;
  case 'n':
    rc = clb_parse_size(value, 1, UINT32_MAX, "--samples", &opt->samples, &err);
    opt->set_samples = 1;
    break;
  case 'D':
    rc = clb_parse_size(value, 1, 1000000, "--features", &opt->features, &err);
    opt->set_features = 1;
    break;
  case 'H':
    rc = clb_parse_size(value, 1, 1000000, "--hidden", &opt->hidden, &err);
    opt->set_hidden = 1;
    break;
  case 'C':
    rc = clb_parse_size(value, 2, 1000000, "--classes", &opt->classes, &err);
    opt->set_classes = 1;
    break;
  case 'O':
    rc = clb_parse_size(value, 1, 1000000, "--outputs", &opt->outputs, &err);
    opt->set_outputs = 1;
    break;
  case 'N':
    rc = clb_parse_double(value, 0, 1e30, "--noise-std", &opt->noise_std, &err);
    opt->set_noise = 1;
    break;
  case 'f':
    opt->data_path = value;
    break;
  case 'P':
    if (strcmp(value, "device") == 0 || strcmp(value, "host") == 0) {
      opt->data_on_host = value[0] == 'h';
    } else {
      complain("--data-on: unknown place '%s' (device or host)\n", value);
      return 2;
    }
    break;
  case 'o':
    opt->out_path = value;
    break;
  case 'S':
    opt->save_path = value;
    break;
  case 'I':
    opt->init_path = value;
    break;
  case 't':
  case 'T': /* --target-loss and --time-to-loss: the same target */
    rc = clb_parse_double(value, -1e30, 1e30, code == 'T' ? "--target-loss" : "--time-to-loss",
                          &opt->target, &err);
    opt->has_target = 1;
    break;
  case 'E':
    rc = clb_parse_size(value, 1, SIZE_MAX, "--eval-every", &opt->eval_every, &err);
    break;
  case 'G':
    rc = parse_lr_grid(value, opt, &err);
    break;
  case 'A':
    if (clb_lr_scale_parse(value, &opt->lr_scale) != 0) {
      complain("--lr-scale: unknown scaling '%s' (none, linear or sqrt)\n", value);
      return 2;
    }
    break;
  case 'B':
    rc = clb_parse_size(value, 1, UINT32_MAX, "--base-batch", &opt->base_batch, &err);
    break;
  case 'W':
    rc = clb_parse_double(value, 0, 1e6, "--warmup-epochs", &opt->warmup_epochs, &err);
    break;
  case 'K':
    rc = clb_parse_size(value, 1, 1000000, "--accumulate", &opt->accumulate, &err);
    break;
  case 'F':
    rc = clb_parse_double(value, 0, 1, "--val-fraction", &opt->val_fraction, &err);
    if (rc == 0 && (opt->val_fraction <= 0 || opt->val_fraction >= 1))
      rc = clb_failf(&err, CLB_E_INVAL, "--val-fraction: %s must be above 0 and below 1", value);
    break;
  case 'X':
    rc = clb_parse_double(value, 0, 1e6, "--sharpness-eps", &opt->sharpness_eps, &err);
    opt->set_sharpness = 1;
    break;
  case 'Y':
    rc = clb_parse_size(value, 0, 1000000, "--sharpness-samples", &opt->sharpness_samples, &err);
    opt->set_sharpness = 1;
    break;
  case 'U':
    opt->summary_path = value;
    break;
  }
  if (rc != 0) {
    complain("%s\n", err.message);
    return 2;
  }
  return 0;
}

/* Refuses options that the chosen model or data source would silently
 * ignore; returns 0 or 2 after printing why. */
static int check_combinations(const struct train_options *opt) {
  const char *bad = NULL, *why = NULL;
  int classifier = clb_model_is_classifier(opt->kind);
  if (opt->set_hidden && opt->kind != CLB_MODEL_MLP) {
    bad = "--hidden";
    why = "applies only to --model mlp";
  } else if (opt->set_classes && !classifier) {
    bad = "--classes";
    why = "applies only to --model softmax or mlp";
  } else if ((opt->set_outputs || opt->set_noise) && classifier) {
    bad = opt->set_outputs ? "--outputs" : "--noise-std";
    why = "applies only to --model linreg";
  } else if (opt->data_path && (opt->set_samples || opt->set_features || opt->set_classes ||
                                opt->set_outputs || opt->set_noise)) {
    bad = opt->set_samples    ? "--samples"
          : opt->set_features ? "--features"
          : opt->set_classes  ? "--classes"
          : opt->set_outputs  ? "--outputs"
                              : "--noise-std";
    why = "describes synthetic data and cannot be combined with --data";
  }
  if (!bad && opt->study) {
    if (!opt->has_target) {
      bad = opt->study == 2 ? "study" : "--validate-noise";
      why = "needs --target-loss L (the training loss every batch size trains to)";
    } else if (opt->set_lr && opt->n_lr) {
      bad = "--lr";
      why = "and --lr-grid exclude each other";
    } else if (opt->save_path || opt->summary_path) {
      bad = opt->save_path ? "--save-params" : "--summary-out";
      why = opt->study == 2 ? "does not apply to `clbatch study`"
                            : "does not apply to --validate-noise (--out writes its table)";
    }
  } else if (!bad && opt->n_lr) {
    bad = "--lr-grid";
    why = "applies only to --validate-noise and `clbatch study`";
  }
  if (!bad)
    return 0;
  complain("%s %s\n", bad, why);
  return 2;
}

/* Picks exactly one device; returns 0, or the exit code after printing why. */
static int choose_device(const struct clb_device_list *all, const char *spec,
                         const struct clb_device_info **chosen) {
  struct clb_error err = {0};
  *chosen = NULL;
  if (all->count == 0) {
    complain("no OpenCL device found\n");
    return 1;
  }
  if (!spec) {
    *chosen = &all->items[0];
    return 0;
  }
  int *selected = calloc(all->count, sizeof *selected);
  if (!selected) {
    complain("out of memory\n");
    return 1;
  }
  int exit_code = 0;
  if (clb_platform_select(all, spec, selected, &err) != 0) {
    complain("%s\n", err.message);
    exit_code = 2;
    goto done;
  }
  size_t matches = 0;
  for (size_t i = 0; i < all->count; i++)
    if (selected[i]) {
      if (!*chosen)
        *chosen = &all->items[i];
      matches++;
    }
  if (matches > 1) {
    char id[32];
    clb_device_id_string(*chosen, id, sizeof id);
    fprintf(stderr,
            "clbatch %s: --device '%s' matches %zu devices; training on the first, %s %s\n",
            command, spec, matches, id, (*chosen)->name);
  }
done:
  free(selected);
  return exit_code;
}

/* One row per batch size of --summary-out (see the help). */
#define SUMMARY_HEADER                                                                         \
  "device,model,precision,batch,accumulate,effective_batch,lr,epochs,updates,wall_s,update_s,"  \
  "micro_s,train_loss,accuracy,val_loss,val_accuracy,gap,target_loss,reached,target_epochs,"    \
  "target_updates,target_wall_s,sharpness_eps,sharpness_samples,sharpness_mean,"               \
  "sharpness_max,device_bytes,step_bytes_micro,step_bytes_effective\n"

/* The study table's CSV (--validate-noise and `clbatch study`). */
#define STUDY_HEADER                                                                           \
  "device,model,precision,batch,effective_batch,lr,target_loss,reached,steps,predicted_steps," \
  "ratio,examples,epochs,wall_s,update_s,train_loss,val_loss,gap,accuracy,val_accuracy,"       \
  "sharpness_eps,sharpness_mean,sharpness_max,device_bytes,sigma2,grad_norm2,b_noise,s_min,"   \
  "e_min,free_s_min,free_b_noise,free_e_min\n"

/* What the runs need once the inputs are checked and the device is open. */
struct context {
  const struct train_options *opt;
  const struct clb_cl *cl;
  const struct clb_device_info *dev;
  const struct clb_dataset *data;
  const struct clb_shape *shape;
  size_t n_train;
  int classifier, validation;
  const double *initial;
  double *theta;
  FILE *csv, *summary_csv;
};

/* Fields of a CSV row; "nan" for what was not measured. */
static void csv_number(FILE *out, const char *format, double value) {
  fputc(',', out);
  clb_csv_write_number(out, format, value, "nan");
}

static int flush_ok(FILE *out) { return fflush(out) == 0 && !ferror(out); }

static int run_train(const struct context *c) {
  const struct train_options *opt = c->opt;
  struct clb_error err = {0};
  size_t params = clb_shape_param_count(c->shape);
  int failures = 0;
  printf("%7s %6s %9s %14s %10s%s", "batch", "epoch", "updates", "train_loss", "wall_s",
         c->classifier ? "  accuracy" : "");
  if (c->validation)
    printf(" %14s %11s%s", "val_loss", "gap", c->classifier ? "  val_acc" : "");
  printf("\n");
  fflush(stdout);
  for (size_t i = 0; i < opt->n_batches; i++) {
    const size_t batch = opt->batches[i], effective = batch * opt->accumulate;
    const double lr = clb_train_scaled_lr(opt->lr, opt->lr_scale, effective, opt->base_batch);
    struct clb_train_config cfg = {*c->shape,    opt->precision, batch,
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
    struct epoch_sink sink = {c->csv,
                              c->dev->name,
                              clb_model_name(opt->kind),
                              clb_precision_name(opt->precision),
                              batch,
                              c->classifier,
                              c->validation,
                              0};
    struct clb_train_summary sm;
    if (lr != opt->lr || extra.warmup_updates) {
      printf("batch %zu: lr %g", batch, lr);
      if (extra.warmup_updates)
        printf(", warmed up linearly over the first %zu updates", extra.warmup_updates);
      printf("\n");
    }
    memcpy(c->theta, c->initial, params * sizeof *c->theta);
    int rc = clb_train_run_ex(c->cl, c->data, &cfg, &extra, c->theta, on_epoch, &sink, &sm, &err);
    if (sink.write_failed) {
      complain("cannot write %s: %s\n", opt->out_path, strerror(errno));
      return 1;
    }
    if (rc == CLB_E_NUMERIC) {
      complain("batch %zu: %s: lower --lr\n", batch, err.message);
      failures++;
      continue;
    }
    if (rc != 0) {
      complain("batch %zu: %s\n", batch, err.message);
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
      rc = clb_train_model_bytes(c->cl, c->data, &cfg, batch, &bytes_micro, &err);
      if (rc == 0)
        rc = clb_train_model_bytes(c->cl, c->data, &cfg, effective, &bytes_effective, &err);
      if (rc != 0) {
        complain("batch %zu: %s\n", batch, err.message);
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
    if (c->summary_csv) {
      FILE *out = c->summary_csv;
      clb_csv_write_field(out, c->dev->name);
      fprintf(out, ",%s,%s,%zu,%zu,%zu", clb_model_name(opt->kind),
              clb_precision_name(opt->precision), batch, opt->accumulate, effective);
      csv_number(out, "%.10g", lr);
      csv_number(out, "%.6g", (double)sm.updates / (double)per_epoch);
      fprintf(out, ",%zu", sm.updates);
      csv_number(out, "%.6f", sm.wall_s);
      csv_number(out, "%.6g", sm.update_s);
      csv_number(out, "%.6g", sm.micro_s);
      csv_number(out, "%.10g", sm.train_loss);
      csv_number(out, "%.6f", sm.accuracy);
      csv_number(out, "%.10g", sm.val_loss);
      csv_number(out, "%.6f", sm.val_accuracy);
      csv_number(out, "%.10g", sm.val_loss - sm.train_loss);
      csv_number(out, "%.10g", opt->has_target ? opt->target : NAN);
      fprintf(out, ",%d", sm.reached);
      csv_number(out, "%.6g", sm.reached ? sm.target_epochs : NAN);
      csv_number(out, "%.0f", sm.reached ? (double)sm.target_updates : NAN);
      csv_number(out, "%.6f", sm.reached ? sm.target_wall_s : NAN);
      csv_number(out, "%.6g", opt->sharpness_eps);
      fprintf(out, ",%zu", opt->sharpness_samples);
      csv_number(out, "%.10g", sm.sharpness_mean);
      csv_number(out, "%.10g", sm.sharpness_max);
      fprintf(out, ",%zu", sm.device_bytes);
      csv_number(out, "%.0f", opt->accumulate > 1 ? (double)bytes_micro : NAN);
      csv_number(out, "%.0f", opt->accumulate > 1 ? (double)bytes_effective : NAN);
      fputc('\n', out);
      if (!flush_ok(out)) {
        complain("cannot write %s: %s\n", opt->summary_path, strerror(errno));
        return 1;
      }
    }
    if (opt->save_path) {
      char path[4096];
      if (opt->n_batches > 1)
        params_path(opt->save_path, batch, path, sizeof path);
      else
        snprintf(path, sizeof path, "%s", opt->save_path);
      if (clb_params_write(path, c->shape, c->theta, &err) != 0) {
        complain("%s\n", err.message);
        failures++;
        continue;
      }
      printf("saved the batch-%zu parameters to %s\n", batch, path);
      fflush(stdout);
    }
  }
  return failures ? 1 : 0;
}

static void write_study_csv(const struct context *c, const struct clb_study_row *rows, size_t n,
                            double sigma2, double grad_norm2, const struct clb_study_fit *fit) {
  const struct train_options *opt = c->opt;
  FILE *out = c->csv;
  fputs(STUDY_HEADER, out);
  for (size_t i = 0; i < n; i++) {
    const struct clb_study_row *r = &rows[i];
    clb_csv_write_field(out, c->dev->name);
    fprintf(out, ",%s,%s,%zu,%zu", clb_model_name(opt->kind), clb_precision_name(opt->precision),
            r->batch, r->effective);
    csv_number(out, "%.10g", r->lr);
    csv_number(out, "%.10g", opt->target);
    fprintf(out, ",%d", r->reached);
    csv_number(out, "%.0f", r->steps);
    csv_number(out, "%.6g", r->predicted);
    csv_number(out, "%.6g", r->ratio);
    csv_number(out, "%.0f", r->examples);
    csv_number(out, "%.6g", r->epochs);
    csv_number(out, "%.6f", r->wall_s);
    csv_number(out, "%.6g", r->update_s);
    csv_number(out, "%.10g", r->train_loss);
    csv_number(out, "%.10g", r->val_loss);
    csv_number(out, "%.10g", r->gap);
    csv_number(out, "%.6f", r->accuracy);
    csv_number(out, "%.6f", r->val_accuracy);
    csv_number(out, "%.6g", opt->sharpness_samples ? opt->sharpness_eps : NAN);
    csv_number(out, "%.10g", r->sharpness_mean);
    csv_number(out, "%.10g", r->sharpness_max);
    fprintf(out, ",%zu", r->device_bytes);
    csv_number(out, "%.10g", sigma2);
    csv_number(out, "%.10g", grad_norm2);
    csv_number(out, "%.10g", fit->b_noise);
    csv_number(out, "%.10g", fit->s_min);
    csv_number(out, "%.10g", fit->e_min);
    csv_number(out, "%.10g", fit->free_s_min);
    csv_number(out, "%.10g", fit->free_b_noise);
    csv_number(out, "%.10g", fit->free_e_min);
    fputc('\n', out);
  }
}

/* --validate-noise and `clbatch study`: B_noise at the initial parameters,
 * then every batch size trained to the target, then the fits and the table. */
static int run_study(const struct context *c) {
  const struct train_options *opt = c->opt;
  struct clb_error err = {0};
  double sigma2 = NAN, grad_norm2 = NAN, b_noise = NAN;
  /* The option parser guarantees at least one batch size. */
  struct clb_study_row *rows = calloc(opt->n_batches ? opt->n_batches : 1, sizeof *rows);
  int failures = 0;
  char a[64], b[64], d[64], e[64], f[64], g[64];
  if (!rows) {
    complain("out of memory\n");
    return 1;
  }
  if (clb_study_noise_scale(c->cl, c->data, c->shape, opt->precision, c->n_train, c->initial,
                            &sigma2, &grad_norm2, &b_noise, &err) != 0) {
    complain("noise scale at the initial parameters: %s\n", err.message);
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
  settings.train = (struct clb_train_config){*c->shape,    opt->precision, 1,
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
    int rc = clb_study_run_batch(c->cl, c->data, &settings, opt->batches[i], c->initial, r, &err);
    if (rc != 0) {
      complain("batch %zu: %s\n", opt->batches[i], err.message);
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
  if (opt->study == 2)
    printf(" %12s %12s %10s %11s %11s %12s", "train_loss", "val_loss", "gap", "sharp_mean",
           "sharp_max", "device_bytes");
  printf("\n");
  for (size_t i = 0; i < opt->n_batches; i++) {
    const struct clb_study_row *r = &rows[i];
    printf("%7zu %10s %9s %10s %7s %11s %10s", r->effective, number(a, sizeof a, "%.4g", r->lr),
           number(b, sizeof b, "%.0f", r->steps), number(d, sizeof d, "%.1f", r->predicted),
           number(e, sizeof e, "%.3f", r->ratio), number(f, sizeof f, "%.0f", r->examples),
           number(g, sizeof g, "%.4f", r->wall_s));
    if (opt->study == 2) {
      printf(" %12s", number(a, sizeof a, "%.6g", r->train_loss));
      printf(" %12s", number(a, sizeof a, "%.6g", r->val_loss));
      printf(" %10s", number(a, sizeof a, "%.4g", r->gap));
      printf(" %11s", number(a, sizeof a, "%.4g", r->sharpness_mean));
      printf(" %11s", number(a, sizeof a, "%.4g", r->sharpness_max));
      printf(" %12zu", r->device_bytes);
    }
    printf("\n");
  }
  printf("fit with the measured B_noise = %.6g: S_min = %s, E_min = S_min B_noise = %s "
         "(%zu of %zu batch sizes reached the target)\n",
         fit.b_noise, number(a, sizeof a, "%.6g", fit.s_min),
         number(b, sizeof b, "%.6g", fit.e_min), fit.used, opt->n_batches);
  printf("free fit S = S_min (1 + B_noise/B): S_min = %s, B_noise = %s, E_min = %s\n",
         number(a, sizeof a, "%.6g", fit.free_s_min), number(b, sizeof b, "%.6g", fit.free_b_noise),
         number(d, sizeof d, "%.6g", fit.free_e_min));
  printf("note: B_noise is the simple noise scale tr Sigma / |G|^2 measured once, at the initial "
         "parameters; it grows as the loss falls, so the measured steps of large batches tend "
         "to exceed the prediction\n");
  fflush(stdout);
  if (c->csv) {
    write_study_csv(c, rows, opt->n_batches, sigma2, grad_norm2, &fit);
    if (!flush_ok(c->csv)) {
      complain("cannot write %s: %s\n", opt->out_path, strerror(errno));
      failures++;
    }
  }
  free(rows);
  return failures ? 1 : 0;
}

int clb_train_cli(int argc, char **argv, int study) {
  static const struct option options[] = {{"device", required_argument, NULL, 'd'},
                                          {"model", required_argument, NULL, 'm'},
                                          {"batch", required_argument, NULL, 'b'},
                                          {"lr", required_argument, NULL, 'l'},
                                          {"epochs", required_argument, NULL, 'e'},
                                          {"seed", required_argument, NULL, 's'},
                                          {"precision", required_argument, NULL, 'p'},
                                          {"samples", required_argument, NULL, 'n'},
                                          {"features", required_argument, NULL, 'D'},
                                          {"hidden", required_argument, NULL, 'H'},
                                          {"classes", required_argument, NULL, 'C'},
                                          {"outputs", required_argument, NULL, 'O'},
                                          {"noise-std", required_argument, NULL, 'N'},
                                          {"data", required_argument, NULL, 'f'},
                                          {"data-on", required_argument, NULL, 'P'},
                                          {"no-shuffle", no_argument, NULL, 'x'},
                                          {"drop-last", no_argument, NULL, 'L'},
                                          {"out", required_argument, NULL, 'o'},
                                          {"save-params", required_argument, NULL, 'S'},
                                          {"init-params", required_argument, NULL, 'I'},
                                          {"validate-noise", no_argument, NULL, 'V'},
                                          {"target-loss", required_argument, NULL, 'T'},
                                          {"time-to-loss", required_argument, NULL, 't'},
                                          {"eval-every", required_argument, NULL, 'E'},
                                          {"lr-grid", required_argument, NULL, 'G'},
                                          {"lr-scale", required_argument, NULL, 'A'},
                                          {"base-batch", required_argument, NULL, 'B'},
                                          {"warmup-epochs", required_argument, NULL, 'W'},
                                          {"accumulate", required_argument, NULL, 'K'},
                                          {"val-fraction", required_argument, NULL, 'F'},
                                          {"sharpness-eps", required_argument, NULL, 'X'},
                                          {"sharpness-samples", required_argument, NULL, 'Y'},
                                          {"summary-out", required_argument, NULL, 'U'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct train_options opt = {.kind = CLB_MODEL_LINREG,
                              .precision = CLB_FP32,
                              .batches = {32},
                              .n_batches = 1,
                              .lr = 0.01,
                              .noise_std = 0.1,
                              .epochs = 10,
                              .samples = 1000,
                              .features = 16,
                              .hidden = 32,
                              .classes = 4,
                              .outputs = 1,
                              .seed = 1,
                              .shuffle = 1,
                              .study = study,
                              .base_batch = 32,
                              .accumulate = 1,
                              .sharpness_eps = 1e-3,
                              .sharpness_samples = 16};
  struct clb_error err = {0};
  struct clb_dataset data = {0};
  struct clb_device_list devices = {0};
  struct clb_cl cl = {0};
  int cl_open = 0;
  double *initial = NULL, *theta = NULL;
  FILE *csv = NULL, *summary_csv = NULL;
  int exit_code = 2;
  command = study == 2 ? "study" : "train";
  int code;

  /* getopt's own messages would add a second line; ours name the option. */
  opterr = 0;
  while ((code = getopt_long(argc, argv, ":", options, NULL)) != -1) {
    switch (code) {
    case 'h':
      if (study == 2)
        clb_help_study(stdout);
      else
        clb_help_train(stdout);
      return 0;
    case 'V':
      if (opt.study == 0)
        opt.study = 1;
      break;
    case 'x':
      opt.shuffle = 0;
      break;
    case 'L':
      opt.drop_last = 1;
      break;
    case ':':
      complain("option '%s' needs a value\n", argv[optind - 1]);
      return 2;
    case '?':
      complain("unknown option '%s' (see `clbatch help train`)\n",
              argv[optind - 1]);
      return 2;
    default:
      if (parse_option(code, optarg, &opt) != 0)
        return 2;
    }
  }
  if (optind < argc) {
    complain("unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  if (check_combinations(&opt) != 0)
    return 2;

  /* The data set, the batch sizes and the initial parameters are input:
   * every problem with them is exit 2 and happens before any file is made. */
  const int classifier = clb_model_is_classifier(opt.kind);
  int rc = opt.data_path ? clb_data_load_csv(opt.data_path, classifier, &data, &err)
           : classifier  ? clb_data_classes(opt.samples, opt.features, opt.classes,
                                            CLB_TRAIN_CLASS_SPREAD, opt.seed, &data, &err)
                        : clb_data_regression(opt.samples, opt.features, opt.outputs, opt.noise_std,
                                              opt.seed, &data, &err);
  if (rc != 0) {
    complain("%s\n", err.message);
    goto done;
  }
  /* Training to a target: the epochs are a cap, and the study's own
   * defaults (a validation split and sharpness for `study`, neither for the
   * noise validation, which compares steps only). */
  if (opt.study) {
    if (!opt.set_epochs)
      opt.epochs = CLB_TRAIN_TARGET_EPOCHS;
    if (opt.study == 1 && !opt.set_sharpness)
      opt.sharpness_samples = 0;
    if (opt.study == 2 && opt.val_fraction == 0)
      opt.val_fraction = 0.2;
  }
  size_t n_train = data.n;
  if (opt.val_fraction > 0) {
    struct clb_dataset split = {0};
    if (clb_train_split(&data, opt.val_fraction, opt.seed, &split, &n_train, NULL, &err) != 0) {
      complain("%s\n", err.message);
      goto done;
    }
    clb_dataset_free(&data);
    data = split;
  }
  const char *samples_word = n_train < data.n ? "training samples" : "samples";
  /* The default batch shrinks to a small data set; a batch the user asked
   * for never does. */
  if (!opt.set_batch && opt.batches[0] > n_train)
    opt.batches[0] = n_train;
  /* "N" parses as 0: the whole training set, always the largest, kept last. */
  size_t kept = 0;
  for (size_t i = 0; i < opt.n_batches; i++) {
    size_t b = opt.batches[i] == 0 ? n_train : opt.batches[i];
    if (b > n_train) {
      complain("--batch: %zu is more than the %zu %s\n", b, n_train, samples_word);
      goto done;
    }
    if (b * opt.accumulate > n_train) {
      complain("--accumulate %zu: %zu micro-batches of %zu are more than the %zu %s\n",
               opt.accumulate, opt.accumulate, b, n_train, samples_word);
      goto done;
    }
    if (kept == 0 || opt.batches[kept - 1] != b)
      opt.batches[kept++] = b;
  }
  opt.n_batches = kept;
  if (opt.n_lr == 0) {
    opt.lr_grid[0] = opt.lr;
    opt.n_lr = 1;
  }
  struct clb_shape shape = {opt.kind, data.d, opt.kind == CLB_MODEL_MLP ? opt.hidden : 0, data.c};
  size_t params = clb_shape_param_count(&shape);
  initial = malloc(params * sizeof *initial);
  theta = malloc(params * sizeof *theta);
  if (!initial || !theta) {
    complain("out of memory for %zu parameters\n", params);
    exit_code = 1;
    goto done;
  }
  if (opt.init_path) {
    if (clb_params_read(opt.init_path, &shape, initial, &err) != 0) {
      complain("%s\n", err.message);
      goto done;
    }
  } else {
    clb_params_init(&shape, opt.seed, initial);
  }

  /* The device: a spec that matches nothing is bad input (2); no OpenCL or
   * a missing precision is a failure of this host (1). */
  exit_code = 1;
  if (clb_platform_list(&devices, &err) != 0) {
    complain("%s\n", err.message);
    goto done;
  }
  const struct clb_device_info *dev = NULL;
  int device_exit = choose_device(&devices, opt.device_spec, &dev);
  if (device_exit != 0) {
    exit_code = device_exit;
    goto done;
  }
  char reason[256];
  if (clb_device_check_precision(dev, opt.precision, reason, sizeof reason) != 0) {
    complain("--precision %s: %s\n", clb_precision_name(opt.precision), reason);
    goto done;
  }
  if (clb_cl_open(dev, &cl, &err) != 0) {
    complain("%s\n", err.message);
    goto done;
  }
  cl_open = 1;

  /* Only now, with every input valid, may the output files exist. They are
   * written directly (no rename at the end) so a killed run keeps its rows. */
  const int validation = n_train < data.n;
  if (opt.out_path) {
    csv = fopen(opt.out_path, "w");
    if (!csv) {
      complain("cannot create %s: %s\n", opt.out_path, strerror(errno));
      exit_code = 2;
      goto done;
    }
    if (!opt.study) {
      fputs("device,model,precision,batch,epoch,updates,train_loss,wall_s", csv);
      fputs(classifier ? ",accuracy" : "", csv);
      fputs(validation ? ",val_loss,gap" : "", csv);
      fputs(validation && classifier ? ",val_accuracy\n" : "\n", csv);
      fflush(csv);
    }
  }
  if (opt.summary_path) {
    summary_csv = fopen(opt.summary_path, "w");
    if (!summary_csv) {
      complain("cannot create %s: %s\n", opt.summary_path, strerror(errno));
      exit_code = 2;
      goto done;
    }
    fputs(SUMMARY_HEADER, summary_csv);
    fflush(summary_csv);
  }

  char id[32];
  clb_device_id_string(dev, id, sizeof id);
  printf("%s %s on %s %s (%s): %zu samples", clb_model_name(opt.kind),
         clb_precision_name(opt.precision), id, dev->name, clb_device_type_name(dev->type),
         data.n);
  if (validation)
    printf(" (%zu train, %zu validation)", n_train, data.n - n_train);
  printf(", %zu features, %zu %s", data.d, data.c,
         classifier ? "classes" : (data.c == 1 ? "output" : "outputs"));
  if (opt.n_lr == 1)
    printf(", lr %g", opt.lr);
  if (opt.lr_scale != CLB_LR_NONE)
    printf(" scaled %s from batch %zu", clb_lr_scale_name(opt.lr_scale), opt.base_batch);
  if (opt.warmup_epochs > 0)
    printf(", %g warm-up epochs", opt.warmup_epochs);
  if (opt.accumulate > 1)
    printf(", %zu micro-batches per update", opt.accumulate);
  printf(", %s%zu epochs, %s%s\n", opt.study ? "at most " : "", opt.epochs,
         opt.shuffle ? "shuffled" : "in order",
         opt.drop_last ? ", last partial batch dropped" : "");

  struct context ctx = {&opt, &cl, dev, &data, &shape, n_train, classifier, validation,
                        initial, theta, csv, summary_csv};
  exit_code = opt.study ? run_study(&ctx) : run_train(&ctx);

done:
  if (csv && fclose(csv) != 0 && exit_code == 0) {
    complain("cannot write %s\n", opt.out_path);
    exit_code = 1;
  }
  if (summary_csv && fclose(summary_csv) != 0 && exit_code == 0) {
    complain("cannot write %s\n", opt.summary_path);
    exit_code = 1;
  }
  if (cl_open)
    clb_cl_close(&cl);
  clb_platform_list_free(&devices);
  free(initial);
  free(theta);
  clb_dataset_free(&data);
  return exit_code;
}

int clb_cmd_train(int argc, char **argv) { return clb_train_cli(argc, argv, 0); }
