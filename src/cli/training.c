#include "cli/training.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "model/params.h"

const char *clb_training_number(char *buf, size_t size, const char *format, double value) {
  /* printf would write "-nan" for some NaNs, which not every reader accepts. */
  if (isnan(value))
    return "nan";
  if (isinf(value))
    return value < 0 ? "-inf" : "inf";
  snprintf(buf, size, format, value);
  return buf;
}

/* The data set, split off its validation rows when asked. Returns 0 or 2. */
static int load_data(struct clb_training *t) {
  const struct clb_train_options *opt = t->opt;
  struct clb_error err = {0};
  int rc = opt->data_path[0]
               ? clb_data_load_csv(opt->data_path, t->classifier, &t->data, &err)
               : clb_data_synthetic(opt->kind, opt->samples, opt->features,
                                    t->classifier ? opt->classes : opt->outputs, opt->noise_std,
                                    opt->seed, &t->data, &err);
  if (rc != 0) {
    clb_cli_error(t->command, "%s", err.message);
    return 2;
  }
  t->n_train = t->data.n;
  if (opt->val_fraction > 0) {
    struct clb_dataset split = {0};
    if (clb_train_split(&t->data, opt->val_fraction, opt->seed, &split, &t->n_train, NULL,
                        &err) != 0) {
      clb_cli_error(t->command, "%s", err.message);
      return 2;
    }
    clb_dataset_destroy(&t->data);
    t->data = split;
  }
  t->validation = t->n_train < t->data.n;
  return 0;
}

/* Resolves "N" and checks every batch size against the training rows.
 * Returns 0 or 2. */
static int resolve_batches(struct clb_training *t) {
  struct clb_train_options *opt = t->opt;
  const char *samples_word = t->validation ? "training samples" : "samples";
  /* The default batch shrinks to a small data set; a batch the user asked
   * for never does. */
  if (!clb_train_option_given(opt, "batch") && opt->batches[0] > t->n_train)
    opt->batches[0] = t->n_train;
  /* "N" parses as 0: the whole training set, always the largest, kept last. */
  size_t kept = 0;
  for (size_t i = 0; i < opt->n_batches; i++) {
    size_t b = opt->batches[i] == 0 ? t->n_train : opt->batches[i];
    if (b > t->n_train) {
      clb_cli_error(t->command, "--batch: %zu is more than the %zu %s", b, t->n_train,
                    samples_word);
      return 2;
    }
    if (b * opt->accumulate > t->n_train) {
      clb_cli_error(t->command, "--accumulate %zu: %zu micro-batches of %zu are more than the %zu %s",
                    opt->accumulate, opt->accumulate, b, t->n_train, samples_word);
      return 2;
    }
    if (kept == 0 || opt->batches[kept - 1] != b)
      opt->batches[kept++] = b;
  }
  opt->n_batches = kept;
  return 0;
}

/* The initial parameters: the file's, or the seeded initialisation. */
static int initial_parameters(struct clb_training *t) {
  const struct clb_train_options *opt = t->opt;
  struct clb_error err = {0};
  size_t params = clb_shape_param_count(&t->shape);
  t->initial = malloc(params * sizeof *t->initial);
  t->theta = malloc(params * sizeof *t->theta);
  if (!t->initial || !t->theta) {
    clb_cli_error(t->command, "out of memory for %zu parameters", params);
    return 1;
  }
  if (!opt->init_path[0]) {
    clb_params_init(&t->shape, opt->seed, t->initial);
    return 0;
  }
  if (clb_params_read(opt->init_path, &t->shape, t->initial, &err) != 0) {
    clb_cli_error(t->command, "%s", err.message);
    return 2;
  }
  return 0;
}

/* Picks exactly one device (the first of several, named) and opens it. A
 * spec that matches nothing is bad input (2); no OpenCL or a missing
 * precision is a failure of this host (1). */
static int open_device(struct clb_training *t) {
  const struct clb_train_options *opt = t->opt;
  struct clb_error err = {0};
  int code = clb_cli_devices(t->command, opt->device_spec, &t->devices);
  if (code != 0)
    return code;
  t->dev = &t->devices.items[0];
  /* Without --device the first device is the documented default, not a surprise. */
  if (opt->device_spec[0] && t->devices.count > 1) {
    char id[32];
    clb_device_id_string(t->dev, id, sizeof id);
    clb_cli_error(t->command, "--device '%s' matches %zu devices; training on the first, %s %s",
                  opt->device_spec, t->devices.count, id, t->dev->name);
  }
  char reason[256];
  if (clb_device_check_precision(t->dev, opt->precision, reason, sizeof reason) != 0) {
    clb_cli_error(t->command, "--precision %s: %s", clb_precision_name(opt->precision), reason);
    return 1;
  }
  if (clb_cl_create(t->dev, &t->cl, &err) != 0) {
    clb_cli_error(t->command, "%s", err.message);
    return 1;
  }
  t->cl_open = 1;
  return 0;
}

/* Only now, with every input valid, may the output files exist. They are
 * written directly (no rename at the end) so a killed run keeps its rows. */
static int open_outputs(struct clb_training *t) {
  const struct clb_train_options *opt = t->opt;
  if (opt->out_path[0] && !(t->csv = fopen(opt->out_path, "w"))) {
    clb_cli_error(t->command, "cannot create %s: %s", opt->out_path, strerror(errno));
    return 2;
  }
  if (opt->summary_path[0] && !(t->summary_csv = fopen(opt->summary_path, "w"))) {
    clb_cli_error(t->command, "cannot create %s: %s", opt->summary_path, strerror(errno));
    return 2;
  }
  return 0;
}

static void print_setup(const struct clb_training *t) {
  const struct clb_train_options *opt = t->opt;
  char id[32];
  clb_device_id_string(t->dev, id, sizeof id);
  printf("%s %s on %s %s (%s): %zu samples", clb_shape_kind_name(opt->kind),
         clb_precision_name(opt->precision), id, t->dev->name, clb_device_type_name(t->dev->type),
         t->data.n);
  if (t->validation)
    printf(" (%zu train, %zu validation)", t->n_train, t->data.n - t->n_train);
  printf(", %zu features, %zu %s", t->data.d, t->data.c,
         t->classifier ? "classes" : (t->data.c == 1 ? "output" : "outputs"));
  if (opt->n_lr == 1)
    printf(", lr %g", opt->lr);
  if (opt->lr_scale != CLB_LR_NONE)
    printf(" scaled %s from batch %zu", clb_lr_scale_name(opt->lr_scale), opt->base_batch);
  if (opt->warmup_epochs > 0)
    printf(", %g warm-up epochs", opt->warmup_epochs);
  if (opt->accumulate > 1)
    printf(", %zu micro-batches per update", opt->accumulate);
  printf(", %s%zu epochs, %s%s\n", opt->mode & CLB_MODES_TARGET ? "at most " : "", opt->epochs,
         opt->shuffle ? "shuffled" : "in order",
         opt->drop_last ? ", last partial batch dropped" : "");
}

int clb_training_create(struct clb_training *t, struct clb_train_options *opt,
                      const char *command) {
  memset(t, 0, sizeof *t);
  t->command = command;
  t->opt = opt;
  t->classifier = clb_shape_is_classifier(opt->kind);
  /* The data set, the batch sizes and the initial parameters are input:
   * every problem with them is exit 2 and happens before any file is made. */
  int code = load_data(t);
  if (code == 0)
    code = resolve_batches(t);
  if (code == 0) {
    t->shape = (struct clb_shape){opt->kind, t->data.d,
                                  opt->kind == CLB_MODEL_MLP ? opt->hidden : 0, t->data.c};
    code = initial_parameters(t);
  }
  if (code == 0)
    code = open_device(t);
  if (code == 0)
    code = open_outputs(t);
  if (code == 0)
    print_setup(t);
  return code;
}

int clb_training_destroy(struct clb_training *t, int exit_code) {
  const struct clb_train_options *opt = t->opt;
  if (t->csv && fclose(t->csv) != 0 && exit_code == 0) {
    clb_cli_error(t->command, "cannot write %s", opt->out_path);
    exit_code = 1;
  }
  if (t->summary_csv && fclose(t->summary_csv) != 0 && exit_code == 0) {
    clb_cli_error(t->command, "cannot write %s", opt->summary_path);
    exit_code = 1;
  }
  if (t->cl_open)
    clb_cl_destroy(&t->cl);
  clb_platform_list_destroy(&t->devices);
  free(t->initial);
  free(t->theta);
  clb_dataset_destroy(&t->data);
  memset(t, 0, sizeof *t);
  return exit_code;
}
