#include "cli/train_options.h"

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "model/dataset.h"
#include "util/parse.h"

/* --epochs when training to a target loss: a cap. */
#define TARGET_EPOCHS 100
/* `clbatch study`'s validation split when --val-fraction is not given. */
#define STUDY_VAL_FRACTION 0.2
#define DEFAULT_EPOCHS 10
#define DEFAULT_SHARPNESS_SAMPLES 16

static struct clb_train_options *options_of(void *target) { return target; }
static const struct clb_train_options *const_options_of(const void *target) { return target; }

/* ---- custom option types -------------------------------------------------- */

static int set_model(const struct clb_option *option, void *target, const char *value,
                     struct clb_error *err) {
  if (clb_shape_kind_parse(value, &options_of(target)->kind) != 0)
    return clb_failf(err, CLB_E_INVAL, "--%s: unknown model '%s' (linreg, softmax or mlp)",
                     option->name, value);
  return 0;
}

static void format_model(const struct clb_option *option, const void *target, char *buf,
                         size_t size) {
  snprintf(buf, size, "%s", clb_shape_kind_name(const_options_of(target)->kind));
}

static int set_precision(const struct clb_option *option, void *target, const char *value,
                         struct clb_error *err) {
  if (clb_precision_parse(value, &options_of(target)->precision) != 0)
    return clb_failf(err, CLB_E_INVAL, "--%s: unknown precision '%s' (fp32, fp64 or fp16)",
                     option->name, value);
  return 0;
}

static void format_precision(const struct clb_option *option, const void *target, char *buf,
                             size_t size) {
  snprintf(buf, size, "%s", clb_precision_name(const_options_of(target)->precision));
}

static int set_batches(const struct clb_option *option, void *target, const char *value,
                       struct clb_error *err) {
  struct clb_train_options *opt = options_of(target);
  return clb_parse_batches(value, 0, opt->batches, CLB_TRAIN_MAX_BATCHES, &opt->n_batches, err);
}

static void format_batches(const struct clb_option *option, const void *target, char *buf,
                           size_t size) {
  const struct clb_train_options *opt = const_options_of(target);
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < opt->n_batches && used < size; i++) {
    if (opt->batches[i] == 0)
      used += (size_t)snprintf(buf + used, size - used, "%sN", i ? "," : "");
    else
      used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? "," : "", opt->batches[i]);
  }
}

/* "0.01,0.03,0.1": learning rates above 0, at most CLB_TRAIN_MAX_LRS. */
static int set_lr_grid(const struct clb_option *option, void *target, const char *value,
                       struct clb_error *err) {
  struct clb_train_options *opt = options_of(target);
  char buf[1024];
  opt->n_lr = 0;
  if (strlen(value) >= sizeof buf)
    return clb_failf(err, CLB_E_INVAL, "--%s: the list is too long", option->name);
  snprintf(buf, sizeof buf, "%s", value);
  for (char *item = buf;;) {
    char *comma = strchr(item, ',');
    if (comma)
      *comma = '\0';
    if (opt->n_lr == CLB_TRAIN_MAX_LRS)
      return clb_failf(err, CLB_E_INVAL, "--%s: more than %d values", option->name,
                       CLB_TRAIN_MAX_LRS);
    double lr = 0;
    int rc = clb_parse_double(item, 0, 1e30, "--lr-grid", &lr, err);
    if (rc != 0)
      return rc;
    if (lr == 0)
      return clb_failf(err, CLB_E_INVAL, "--%s: 0 would never move the parameters",
                       option->name);
    opt->lr_grid[opt->n_lr++] = lr;
    if (!comma)
      return 0;
    item = comma + 1;
  }
}

static void format_lr_grid(const struct clb_option *option, const void *target, char *buf,
                           size_t size) {
  const struct clb_train_options *opt = const_options_of(target);
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < opt->n_lr && used < size; i++) {
    char number[32];
    used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "",
                             clb_exact_number(opt->lr_grid[i], number, sizeof number));
  }
}

static int set_lr_scale(const struct clb_option *option, void *target, const char *value,
                        struct clb_error *err) {
  if (clb_lr_scale_parse(value, &options_of(target)->lr_scale) != 0)
    return clb_failf(err, CLB_E_INVAL, "--%s: unknown scaling '%s' (none, linear or sqrt)",
                     option->name, value);
  return 0;
}

static void format_lr_scale(const struct clb_option *option, const void *target, char *buf,
                            size_t size) {
  snprintf(buf, size, "%s", clb_lr_scale_name(const_options_of(target)->lr_scale));
}

static int set_data_on(const struct clb_option *option, void *target, const char *value,
                       struct clb_error *err) {
  if (clb_dataset_placement_parse(value, &options_of(target)->data_on_host) != 0)
    return clb_failf(err, CLB_E_INVAL, "--%s: '%s' is not device or host", option->name, value);
  return 0;
}

static void format_data_on(const struct clb_option *option, const void *target, char *buf,
                           size_t size) {
  snprintf(buf, size, "%s", clb_dataset_placement_name(const_options_of(target)->data_on_host));
}

/* --target-loss and --time-to-loss set the same target. */
static int set_target(const struct clb_option *option, void *target, const char *value,
                      struct clb_error *err) {
  struct clb_train_options *opt = options_of(target);
  char what[64];
  snprintf(what, sizeof what, "--%s", option->name);
  int rc = clb_parse_double(value, -1e30, 1e30, what, &opt->target, err);
  if (rc == 0)
    opt->has_target = 1;
  return rc;
}

static void format_target(const struct clb_option *option, const void *target, char *buf,
                          size_t size) {
  const struct clb_train_options *opt = const_options_of(target);
  if (opt->has_target)
    clb_exact_number(opt->target, buf, size);
  else
    buf[0] = '\0';
}

static int set_val_fraction(const struct clb_option *option, void *target, const char *value,
                            struct clb_error *err) {
  double fraction = 0;
  int rc = clb_parse_double(value, 0, 1, "--val-fraction", &fraction, err);
  if (rc == 0 && (fraction <= 0 || fraction >= 1))
    rc = clb_failf(err, CLB_E_INVAL, "--%s: %s must be above 0 and below 1", option->name,
                   value);
  if (rc == 0)
    options_of(target)->val_fraction = fraction;
  return rc;
}

static void format_val_fraction(const struct clb_option *option, const void *target, char *buf,
                                size_t size) {
  clb_exact_number(const_options_of(target)->val_fraction, buf, size);
}

/* ---- the table ------------------------------------------------------------- */

#define TRAINING "Training"
#define DATA "Data (synthetic unless --data is given)"
#define OUTPUT "Output"
#define EXTENSIONS "Training extensions"
#define TARGETS "Training to a target loss (--validate-noise and `clbatch study`)"
/* X(name, type, field, lo, hi, default, metavar, help, section, flags, modes, parse,
 *   format): `field` is the member the option sets (CUSTOM callbacks get the whole
 * struct); modes 0 = every mode. */
#define CLB_TRAIN_OPTIONS(X)                                                                    \
  X("device", TEXT, device_spec, 0, 0, NULL, "SPEC",                                     \
    "cpu, gpu, P:D, pocl, intel, platform:NAME, ... (as in\n"                                   \
    "`clbatch help run`; default: the first device); when\n"                                    \
    "several match, the first is used and named",                                               \
    TRAINING, 0, 0, NULL, NULL)                                                                 \
  X("model", CUSTOM, kind, 0, 0, "linreg", "M",                                                \
    "linreg (mean squared error), softmax or mlp", TRAINING, 0, 0, set_model, format_model)     \
  X("batch", CUSTOM, batches, 0, 0, "32", "LIST",                                                 \
    "batch sizes, e.g. 32 or 1,2,5,10 or 1:1024:x2; N = all\n"                                  \
    "samples, the full batch; 1 = stochastic (32 shrinks to N\n"                                \
    "when there are fewer samples)",                                                            \
    TRAINING, 0, 0, set_batches, format_batches)                                                \
  X("lr", DOUBLE, lr, 0, 1e30, "0.01", "X", "learning rate, > 0", TRAINING,              \
    CLB_OPT_POSITIVE, 0, NULL, NULL)                                                            \
  X("epochs", SIZE, epochs, 1, 100000000, NULL, "E",                                     \
    "epochs per run, >= 1 (default 10; with a target loss,\n"                                   \
    "a cap, default 100)",                                                                      \
    TRAINING, 0, 0, NULL, NULL)                                                                 \
  X("seed", U64, seed, 0, (double)SIZE_MAX, "1", "S",                                    \
    "seeds the data, the initial parameters and the\n"                                          \
    "per-epoch shuffles",                                                                       \
    TRAINING, 0, 0, NULL, NULL)                                                                 \
  X("precision", CUSTOM, precision, 0, 0, "fp32", "P", "fp32, fp64 or fp16", TRAINING, 0, 0,        \
    set_precision, format_precision)                                                            \
  X("no-shuffle", FLAG, shuffle, 0, 0, "no", NULL,                                       \
    "keep the samples in order (default: a fresh permutation\nevery epoch)", TRAINING,          \
    CLB_OPT_NEGATE, 0, NULL, NULL)                                                              \
  X("drop-last", FLAG, drop_last, 0, 0, "no", NULL,                                      \
    "skip the partial last batch: floor(N/B) updates per epoch\ninstead of ceil(N/B)",          \
    TRAINING, 0, 0, NULL, NULL)                                                                 \
  X("samples", SIZE, samples, 1, UINT32_MAX, "1000", "N", "samples", DATA, 0, 0, NULL,   \
    NULL)                                                                                       \
  X("features", SIZE, features, 1, 1000000, "16", "D", "features", DATA, 0, 0, NULL,     \
    NULL)                                                                                       \
  X("hidden", SIZE, hidden, 1, 1000000, "32", "H", "mlp hidden units", DATA, 0, 0, NULL, \
    NULL)                                                                                       \
  X("classes", SIZE, classes, 2, 1000000, "4", "C", "softmax/mlp classes", DATA, 0, 0,   \
    NULL, NULL)                                                                                 \
  X("outputs", SIZE, outputs, 1, 1000000, "1", "O", "linreg outputs", DATA, 0, 0, NULL,  \
    NULL)                                                                                       \
  X("noise-std", DOUBLE, noise_std, 0, 1e30, CLB_SYNTHETIC_NOISE_STD_TEXT, "S",          \
    "linreg: y = X W* + b* + S * N(0,1)", DATA, 0, 0, NULL, NULL)                               \
  X("data", TEXT, data_path, 0, 0, NULL, "FILE.csv",                                     \
    "numeric CSV, features then the target (an integer class\n"                                 \
    "label for softmax/mlp); one header line allowed",                                          \
    DATA, 0, 0, NULL, NULL)                                                                     \
  X("data-on", CUSTOM, data_on_host, 0, 0, "device", "PLACE",                                          \
    "device or host (batches streamed per step)", DATA, 0, 0, set_data_on, format_data_on)      \
  X("out", TEXT, out_path, 0, 0, NULL, "FILE",                                           \
    "train: per-epoch CSV: device,model,precision,batch,epoch,\n"                               \
    "updates,train_loss,wall_s[,accuracy][,val_loss,gap\n"                                      \
    "[,val_accuracy]]; epoch 0 is the initial loss; updates and\n"                              \
    "wall_s (training only) are cumulative; rows are flushed as\n"                              \
    "each epoch ends. With a target loss: the study table",                                     \
    OUTPUT, 0, 0, NULL, NULL)                                                                   \
  X("save-params", TEXT, save_path, 0, 0, NULL, "FILE",                                  \
    "write the learned parameters (param,index,value); with\n"                                  \
    "several batch sizes, one file per size with the batch\n"                                   \
    "before the extension, e.g. params.csv -> params-b32.csv",                                  \
    OUTPUT, 0, CLB_MODE_TRAIN, NULL, NULL)                                                      \
  X("init-params", TEXT, init_path, 0, 0, NULL, "FILE",                                  \
    "start from these parameters instead of the seeded\ninitialisation", OUTPUT, 0, 0, NULL,    \
    NULL)                                                                                       \
  X("summary-out", TEXT, summary_path, 0, 0, NULL, "FILE",                               \
    "one CSV row per batch size: updates, times, final losses,\n"                               \
    "target, sharpness, device memory",                                                         \
    OUTPUT, 0, CLB_MODE_TRAIN, NULL, NULL)                                                      \
  X("lr-scale", CUSTOM, lr_scale, 0, 0, "none", "S",                                               \
    "none, linear or sqrt: lr(B) = lr * B/B0 or\nlr * sqrt(B/B0), B the effective batch",       \
    EXTENSIONS, 0, 0, set_lr_scale, format_lr_scale)                                            \
  X("base-batch", SIZE, base_batch, 1, UINT32_MAX, "32", "B0",                           \
    "the batch --lr is tuned for", EXTENSIONS, 0, 0, NULL, NULL)                                \
  X("warmup-epochs", DOUBLE, warmup_epochs, 0, 1e6, "0", "W",                            \
    "linear warm-up: update u (0-based) of the first\n"                                         \
    "U = round(W * updates per epoch) uses lr(B) * (u+1)/U",                                    \
    EXTENSIONS, 0, 0, NULL, NULL)                                                               \
  X("accumulate", SIZE, accumulate, 1, 1000000, "1", "K",                                \
    "K micro-batches of B per update (effective batch K*B);\n"                                  \
    "prints step time and device memory of both",                                               \
    EXTENSIONS, 0, 0, NULL, NULL)                                                               \
  X("val-fraction", CUSTOM, val_fraction, 0, 0, NULL, "F",                                             \
    "hold out round(F*N) rows (seeded) as a validation set;\n"                                  \
    "adds val_loss, gap (= val_loss - train_loss) and\n"                                        \
    "val_accuracy; N and --batch count training rows\n"                                         \
    "(default: none; `clbatch study`: 0.2)",                                                    \
    EXTENSIONS, 0, 0, set_val_fraction, format_val_fraction)                                    \
  X("time-to-loss", CUSTOM, target, 0, 0, NULL, "L",                                             \
    "stop at the first evaluation with train loss <= L and\n"                                   \
    "report epochs, updates and wall seconds to it",                                            \
    EXTENSIONS, 0, CLB_MODE_TRAIN, set_target, format_target)                                   \
  X("eval-every", SIZE, eval_every, 1, (double)SIZE_MAX, NULL, "K",                      \
    "also evaluate after every K updates (default: epoch ends;\n"                               \
    "with a target loss, max(1, updates per epoch / 4))",                                       \
    EXTENSIONS, 0, 0, NULL, NULL)                                                               \
  X("sharpness-eps", DOUBLE, sharpness_eps, 0, 1e6, "1e-3", "E",                         \
    "sharpness at the end: mean and max of L(theta+delta) -\n"                                  \
    "L(theta) over random delta with |delta_t| = E |theta_t|\nper tensor t",                    \
    EXTENSIONS, 0, 0, NULL, NULL)                                                               \
  X("sharpness-samples", SIZE, sharpness_samples, 0, 1000000, NULL, "K",                 \
    "perturbations (default 16; 0: off; --validate-noise: 0)", EXTENSIONS, 0, 0, NULL, NULL)    \
  X("validate-noise", FLAG, validate_noise, 0, 0, "no", NULL,                            \
    "measure B_noise = tr Sigma / |G|^2 at the initial\n"                                       \
    "parameters, train every batch size to --target-loss,\n"                                    \
    "and fit S(B) = S_min (1 + B_noise/B); --out writes the\n"                                  \
    "table (see also `clbatch study`)",                                                         \
    TARGETS, 0, CLB_MODE_TRAIN | CLB_MODE_VALIDATE, NULL, NULL)                                 \
  X("target-loss", CUSTOM, target, 0, 0, NULL, "L", "the training loss to reach", TARGETS, 0, 0, \
    set_target, format_target)                                                                  \
  X("lr-grid", CUSTOM, lr_grid, 0, 0, NULL, "LIST",                                               \
    "learning rates to try per batch size (each scaled by\n"                                    \
    "--lr-scale); the one reaching L in the fewest updates\n"                                   \
    "is kept (default: --lr alone)",                                                            \
    TARGETS, 0, CLB_MODES_TARGET, set_lr_grid, format_lr_grid)

const struct clb_option clb_train_options[] = {
#define CLB_TRAIN_OPTION_ENTRY(name, type, field, lo, hi, def, metavar, help, section, flags,  \
                               modes, parse, format)                                            \
  {name,                                                                                        \
   CLB_OPT_##type,                                                                              \
   offsetof(struct clb_train_options, field),                                                   \
   sizeof(((struct clb_train_options *)0)->field),                                              \
   lo,                                                                                          \
   hi,                                                                                          \
   def,                                                                                         \
   metavar,                                                                                     \
   help,                                                                                        \
   section,                                                                                     \
   flags,                                                                                       \
   modes,                                                                                       \
   parse,                                                                                       \
   format},
    CLB_TRAIN_OPTIONS(CLB_TRAIN_OPTION_ENTRY)
#undef CLB_TRAIN_OPTION_ENTRY
};

const size_t clb_train_option_count = sizeof clb_train_options / sizeof clb_train_options[0];

/* ---- parsing ---------------------------------------------------------------- */

int clb_train_option_given(const struct clb_train_options *opt, const char *name) {
  const struct clb_option *option =
      clb_options_find(clb_train_options, clb_train_option_count, name);
  return option && opt->given[option - clb_train_options];
}

/* In words, the commands an option applies to (for "applies only to ..."). */
static const char *modes_text(unsigned modes) {
  if (modes == CLB_MODES_TARGET)
    return "--validate-noise and `clbatch study`";
  if (modes == CLB_MODE_TRAIN)
    return "`clbatch train` (not --validate-noise or `clbatch study`; --out writes their table)";
  if (modes == (CLB_MODE_TRAIN | CLB_MODE_VALIDATE))
    return "`clbatch train`";
  return "another command";
}

/* Options that only some models or data sources use: refusing them beats
 * silently ignoring them. Returns 0, or fills err. */
static int check_combinations(const struct clb_train_options *opt, struct clb_error *err) {
  static const struct {
    const char *name, *why;
  } rules[] = {{"hidden", "applies only to --model mlp"},
               {"classes", "applies only to --model softmax or mlp"},
               {"outputs", "applies only to --model linreg"},
               {"noise-std", "applies only to --model linreg"}};
  int classifier = clb_shape_is_classifier(opt->kind);
  const int misplaced[] = {opt->kind != CLB_MODEL_MLP, !classifier, classifier, classifier};
  for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++)
    if (misplaced[r] && clb_train_option_given(opt, rules[r].name))
      return clb_failf(err, CLB_E_INVAL, "--%s %s", rules[r].name, rules[r].why);
  static const char *const synthetic[] = {"samples", "features", "classes", "outputs",
                                          "noise-std"};
  for (size_t k = 0; opt->data_path[0] && k < sizeof synthetic / sizeof synthetic[0]; k++)
    if (clb_train_option_given(opt, synthetic[k]))
      return clb_failf(err, CLB_E_INVAL,
                       "--%s describes synthetic data and cannot be combined with --data",
                       synthetic[k]);
  if (opt->mode & CLB_MODES_TARGET) {
    if (!opt->has_target)
      return clb_failf(err, CLB_E_INVAL,
                       "%s needs --target-loss L (the training loss every batch size trains to)",
                       opt->mode == CLB_MODE_STUDY ? "study" : "--validate-noise");
    if (clb_train_option_given(opt, "lr") && clb_train_option_given(opt, "lr-grid"))
      return clb_failf(err, CLB_E_INVAL, "--lr and --lr-grid exclude each other");
  }
  return 0;
}

/* What the mode sets for options the user did not give. */
static void apply_mode_defaults(struct clb_train_options *opt) {
  int target = (opt->mode & CLB_MODES_TARGET) != 0;
  if (!clb_train_option_given(opt, "epochs"))
    opt->epochs = target ? TARGET_EPOCHS : DEFAULT_EPOCHS;
  /* The noise validation compares steps only; sharpness would cost time. */
  if (!clb_train_option_given(opt, "sharpness-samples"))
    opt->sharpness_samples = opt->mode == CLB_MODE_VALIDATE ? 0 : DEFAULT_SHARPNESS_SAMPLES;
  if (!clb_train_option_given(opt, "val-fraction") && opt->mode == CLB_MODE_STUDY)
    opt->val_fraction = STUDY_VAL_FRACTION;
  if (opt->n_lr == 0) {
    opt->lr_grid[0] = opt->lr;
    opt->n_lr = 1;
  }
}

int clb_train_options_parse(int argc, char **argv, const char *command,
                            enum clb_train_mode mode, struct clb_train_options *opt) {
  struct clb_error err = {0};
  struct option getopt_table[64 + 2];
  memset(opt, 0, sizeof *opt);
  if (clb_train_option_count + 2 > sizeof getopt_table / sizeof getopt_table[0] ||
      clb_train_option_count > sizeof opt->given ||
      clb_options_defaults(clb_train_options, clb_train_option_count, opt, &err) != 0) {
    clb_cli_error(command, "internal error in the option table: %s", err.message);
    return 2;
  }
  clb_options_getopt(clb_train_options, clb_train_option_count, getopt_table);
  int code;
  /* getopt's own messages would add a second line; ours name the option. */
  opterr = 0;
  optind = 1;
  while ((code = getopt_long(argc, argv, ":", getopt_table, NULL)) != -1) {
    if (code == 'h') {
      return -1;
    }
    if (code < 1000 || (size_t)(code - 1000) >= clb_train_option_count) {
      clb_usage_error(command, code, argv);
      return 2;
    }
    size_t index = (size_t)(code - 1000);
    if (clb_options_set(&clb_train_options[index], opt, optarg, &err) != 0) {
      clb_cli_error(command, "%s", err.message);
      return 2;
    }
    opt->given[index] = 1;
  }
  if (optind < argc) {
    clb_cli_error(command, "unexpected argument '%s'", argv[optind]);
    return 2;
  }
  opt->mode = mode == CLB_MODE_TRAIN && opt->validate_noise ? CLB_MODE_VALIDATE : mode;
  for (size_t i = 0; i < clb_train_option_count; i++) {
    const struct clb_option *option = &clb_train_options[i];
    if (opt->given[i] && option->modes && !(option->modes & opt->mode)) {
      clb_cli_error(command, "--%s applies only to %s", option->name, modes_text(option->modes));
      return 2;
    }
  }
  if (check_combinations(opt, &err) != 0) {
    clb_cli_error(command, "%s", err.message);
    return 2;
  }
  apply_mode_defaults(opt);
  return 0;
}

void clb_train_options_help(enum clb_train_mode mode, FILE *out) {
  clb_options_help(clb_train_options, clb_train_option_count, mode, out);
}
