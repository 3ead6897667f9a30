/* The run plan: every option of `clbatch run` in one table (CLB_RUN_OPTIONS),
 * which gives the defaults, the setter used by the command line and by config
 * files, the config writer, getopt and the help. */
#include "sweep/plan.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/dataset.h"
#include "util/files.h"
#include "util/parse.h"

static const char *const format_names[] = {"csv", "json", "md"};

const char *clb_format_name(enum clb_format format) {
  return (unsigned)format < 3 ? format_names[format] : "csv";
}

/* Upper bounds that keep every product of sizes far from overflow. */
#define MAX_SAMPLES ((size_t)1 << 31)
#define MAX_WIDTH ((size_t)1 << 20)

static struct clb_plan *plan_of(void *target) { return target; }
static const struct clb_plan *const_plan_of(const void *target) { return target; }

/* ---- custom option types -------------------------------------------------- */

/* A comma-separated list of names, each turned into an enum by `parse`,
 * duplicates dropped. */
static int parse_name_list(const char *key, const char *value, int *out, size_t max,
                           size_t *count, int (*parse)(const char *, int *),
                           const char *choices, struct clb_error *err) {
  char copy[256];
  if (!*value)
    return clb_failf(err, CLB_E_INVAL, "--%s needs a value", key);
  if (strlen(value) >= sizeof copy)
    return clb_failf(err, CLB_E_INVAL, "--%s: value longer than %zu characters", key,
                     sizeof copy - 1);
  snprintf(copy, sizeof copy, "%s", value);
  size_t n = 0;
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    int parsed = 0;
    if (parse(item, &parsed) != 0)
      return clb_failf(err, CLB_E_INVAL, "--%s: unknown '%s' (choose from %s)", key, item,
                       choices);
    int duplicate = 0;
    for (size_t i = 0; i < n; i++)
      duplicate |= out[i] == parsed;
    if (duplicate)
      continue;
    if (n == max)
      return clb_failf(err, CLB_E_INVAL, "--%s: too many items", key);
    out[n++] = parsed;
  }
  if (n == 0)
    return clb_failf(err, CLB_E_INVAL, "--%s names nothing", key);
  *count = n;
  return 0;
}

static int parse_model_int(const char *name, int *out) {
  enum clb_model_kind kind;
  int rc = clb_shape_kind_parse(name, &kind);
  *out = (int)kind;
  return rc;
}

static int set_models(const struct clb_option *option, void *target, const char *value,
                      struct clb_error *err) {
  struct clb_plan *plan = plan_of(target);
  int models[CLB_MODEL_COUNT];
  size_t count = 0;
  int rc = parse_name_list(option->name, value, models, CLB_MODEL_COUNT, &count,
                           parse_model_int, "linreg, softmax, mlp", err);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < count; i++)
    plan->models[i] = (enum clb_model_kind)models[i];
  plan->model_count = count;
  return 0;
}

static void format_models(const struct clb_option *option, const void *target, char *buf,
                          size_t size) {
  const struct clb_plan *plan = const_plan_of(target);
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < plan->model_count && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "",
                             clb_shape_kind_name(plan->models[i]));
}

static int set_precisions(const struct clb_option *option, void *target, const char *value,
                          struct clb_error *err) {
  struct clb_plan *plan = plan_of(target);
  char what[64];
  snprintf(what, sizeof what, "--%s", option->name);
  return clb_precision_parse_list(value, what, plan->precisions, &plan->precision_count, err);
}

static void format_precisions(const struct clb_option *option, const void *target, char *buf,
                              size_t size) {
  const struct clb_plan *plan = const_plan_of(target);
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < plan->precision_count && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "",
                             clb_precision_name(plan->precisions[i]));
}

/* Replaces each item or range end "N" of a batch list by the number of
 * samples, so "1:N:x2,N" reads as "1:4096:x2,4096". */
static void substitute_n(const char *spec, size_t n, char *out, size_t size) {
  size_t used = 0;
  for (const char *p = spec; *p && used + 24 < size; p++) {
    int left = p == spec || p[-1] == ',' || p[-1] == ':';
    int right = p[1] == '\0' || p[1] == ',' || p[1] == ':';
    if (*p == 'N' && left && right)
      used += (size_t)snprintf(out + used, size - used, "%zu", n);
    else
      out[used++] = *p;
  }
  out[used] = '\0';
}

static int set_batches(const struct clb_option *option, void *target, const char *value,
                       struct clb_error *err) {
  struct clb_plan *plan = plan_of(target);
  size_t check[CLB_MAX_BATCHES], count = 0;
  char spec[sizeof plan->batch_spec + 256];
  if (strlen(value) >= sizeof plan->batch_spec)
    return clb_failf(err, CLB_E_INVAL, "--%s: list too long", option->name);
  /* Validate the syntax now; the values are resolved against N later. */
  substitute_n(value, MAX_SAMPLES, spec, sizeof spec);
  int rc = clb_parse_batches(spec, 0, check, CLB_MAX_BATCHES, &count, err);
  if (rc != 0)
    return rc;
  snprintf(plan->batch_spec, sizeof plan->batch_spec, "%s", value);
  plan->batch_count = 0;
  return 0;
}

/* The resolved list once N is known (what the run measures), else the spec. */
static void format_batches(const struct clb_option *option, const void *target, char *buf,
                           size_t size) {
  const struct clb_plan *plan = const_plan_of(target);
  if (plan->batch_count == 0) {
    snprintf(buf, size, "%s", plan->batch_spec);
    return;
  }
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < plan->batch_count && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? "," : "", plan->batches[i]);
}

static int set_data_on(const struct clb_option *option, void *target, const char *value,
                       struct clb_error *err) {
  if (clb_dataset_placement_parse(value, &plan_of(target)->data_on_host) != 0)
    return clb_failf(err, CLB_E_INVAL, "--%s: '%s' is not device or host", option->name, value);
  return 0;
}

static void format_data_on(const struct clb_option *option, const void *target, char *buf,
                           size_t size) {
  snprintf(buf, size, "%s", clb_dataset_placement_name(const_plan_of(target)->data_on_host));
}

static int set_format(const struct clb_option *option, void *target, const char *value,
                      struct clb_error *err) {
  for (int f = 0; f < 3; f++)
    if (strcmp(value, format_names[f]) == 0) {
      plan_of(target)->format = (enum clb_format)f;
      return 0;
    }
  return clb_failf(err, CLB_E_INVAL, "--%s: '%s' is not csv, json or md", option->name, value);
}

static void format_format(const struct clb_option *option, const void *target, char *buf,
                          size_t size) {
  snprintf(buf, size, "%s", clb_format_name(const_plan_of(target)->format));
}

static int set_noise_batches(const struct clb_option *option, void *target, const char *value,
                             struct clb_error *err) {
  size_t k = 0;
  int rc = clb_parse_size(value, 0, 1000000, "--noise-batches", &k, err);
  if (rc == 0 && k == 1)
    return clb_failf(err, CLB_E_INVAL, "--%s: 1 gives no interval; use 0 or >= 2", option->name);
  if (rc == 0)
    plan_of(target)->noise_batches = k;
  return rc;
}

static void format_noise_batches(const struct clb_option *option, const void *target, char *buf,
                                 size_t size) {
  snprintf(buf, size, "%zu", const_plan_of(target)->noise_batches);
}

/* Schema 1 stopped on the CV of the step times; config files of that time
 * still say `target-cv = X`, which reads as nothing. On the command line the
 * option would be silently ignored, so it is refused with what replaces it. */
static int set_retired_target_cv(const struct clb_option *option, void *target,
                                 const char *value, struct clb_error *err) {
  (void)value;
  if (plan_of(target)->config_depth > 0)
    return 0;
  return clb_failf(err, CLB_E_INVAL,
                   "--%s is retired: the spread of the step times no longer decides when "
                   "to stop; use --target-ci (the 95%% interval of the median, e.g. 0.01)",
                   option->name);
}

static int apply_config_entry(const char *key, const char *value, void *context);

struct config_context {
  struct clb_plan *plan;
  struct clb_error *err;
};

static int read_config(const struct clb_option *option, void *target, const char *value,
                       struct clb_error *err) {
  struct clb_plan *plan = plan_of(target);
  if (!*value)
    return clb_failf(err, CLB_E_INVAL, "--%s needs a value", option->name);
  if (plan->config_depth > 4)
    return clb_failf(err, CLB_E_INVAL, "--config: config files nest too deeply");
  /* The handler reports into read_err, so the reader can put FILE:LINE in
   * front of the handler's own message. */
  struct clb_error read_err = {0};
  struct config_context context = {plan, &read_err};
  plan->config_depth++;
  int rc = clb_config_read(value, apply_config_entry, &context, &read_err);
  plan->config_depth--;
  if (rc != 0)
    return clb_failf(err, rc, "%s", read_err.message);
  snprintf(plan->config_path, sizeof plan->config_path, "%s", value);
  return 0;
}

static void format_config(const struct clb_option *option, const void *target, char *buf,
                          size_t size) {
  snprintf(buf, size, "%s", const_plan_of(target)->config_path);
}

/* ---- the table ------------------------------------------------------------- */

#define WHAT "What to measure"
#define HOW "How to measure"
#define OUTPUT "Output"
/* X(name, type, field, lo, hi, default, metavar, help, section, flags, parse, format):
 * `field` is the member the option sets (a CUSTOM option's callbacks get the
 * whole plan and may set more than that member). */
#define CLB_RUN_OPTIONS(X)                                                                      \
  X("device", TEXT, device_spec, 0, 0, "all", "SPEC",                               \
    "which devices (see \"Selecting devices\")", WHAT, 0, NULL, NULL)                           \
  X("model", CUSTOM, models, 0, 0, "linreg,softmax,mlp", "LIST",                           \
    "linreg, softmax, mlp, comma-separated", WHAT, 0, set_models, format_models)                \
  X("precision", CUSTOM, precisions, 0, 0, "fp32", "LIST", "fp32, fp64, fp16", WHAT, 0,         \
    set_precisions, format_precisions)                                                          \
  X("batch", CUSTOM, batch_spec, 0, 0, "1:N:x2,N", "LIST",                                      \
    "batch sizes: numbers and ranges 1,2,4  1:4096:x2  32:512:+32\n"                            \
    "and N, the whole data set",                                                                \
    WHAT, 0, set_batches, format_batches)                                                       \
  X("samples", SIZE, samples, 2, MAX_SAMPLES, "4096", "N",                          \
    "synthetic data set size", WHAT, 0, NULL, NULL)                                             \
  X("features", SIZE, features, 1, MAX_WIDTH, "128", "D", "features per sample",    \
    WHAT, 0, NULL, NULL)                                                                        \
  X("hidden", SIZE, hidden, 1, MAX_WIDTH, "256", "H", "mlp hidden units", WHAT, 0,  \
    NULL, NULL)                                                                                 \
  X("classes", SIZE, classes, 2, MAX_WIDTH, "10", "C", "softmax/mlp classes", WHAT, \
    0, NULL, NULL)                                                                              \
  X("outputs", SIZE, outputs, 1, MAX_WIDTH, "1", "O", "linreg outputs", WHAT, 0,    \
    NULL, NULL)                                                                                 \
  X("noise-std", DOUBLE, noise_std, 0, 1e30, CLB_SYNTHETIC_NOISE_STD_TEXT, "S",     \
    "synthetic linreg: y = X W* + b* + S N(0,1) (the same data\n"                               \
    "as `clbatch train` for the same seed)",                                                    \
    WHAT, 0, NULL, NULL)                                                                        \
  X("data", TEXT, data_path, 0, 0, NULL, "FILE.csv",                                \
    "your data instead: numeric columns, last one the target", WHAT, 0, NULL, NULL)             \
  X("data-on", CUSTOM, data_on_host, 0, 0, "device", "PLACE",                                     \
    "device (data resident) or host (each batch copied from\n"                                  \
    "pinned host memory, as a data loader would)",                                              \
    WHAT, 0, set_data_on, format_data_on)                                                       \
  X("no-shuffle", FLAG, shuffle, 0, 0, "no", NULL,                                  \
    "contiguous batches instead of a shuffled epoch order", WHAT, CLB_OPT_NEGATE, NULL, NULL)   \
  X("shuffle", FLAG, shuffle, 0, 0, NULL, NULL,                                     \
    "the positive spelling that older config files use", WHAT,                                  \
    CLB_OPT_HIDDEN | CLB_OPT_UNSAVED, NULL, NULL)                                               \
  X("seed", U64, seed, 0, (double)SIZE_MAX, "1", "S",                               \
    "seeds the data and the initial parameters", WHAT, 0, NULL, NULL)                           \
  X("lr", DOUBLE, lr, 0, 1e6, "0.001", "LR", "SGD learning rate of the timed step", \
    WHAT, 0, NULL, NULL)                                                                        \
  X("init-params", TEXT, init_params, 0, 0, NULL, "FILE",                           \
    "parameters to measure at (format of train --save-params)", WHAT, 0, NULL, NULL)            \
  X("warmup", SIZE, measure.warmup_steps, 0, 10000, "3", "K",                       \
    "untimed steps first", HOW, 0, NULL, NULL)                                                  \
  X("min-time", DOUBLE, measure.min_time_s, 0, 3600, "0.2", "S",                    \
    "time each configuration at least S seconds", HOW, 0, NULL, NULL)                           \
  X("max-time", DOUBLE, measure.max_time_s, 0.001, 86400, "2", "S",                 \
    "and at most S seconds", HOW, 0, NULL, NULL)                                                \
  X("max-reps", SIZE, measure.max_reps, 1, 100000000, "100000", "K",                \
    "or at most K steps", HOW, 0, NULL, NULL)                                                   \
  X("target-ci", DOUBLE, measure.target_ci, 0, 1, "0.01", "X",                      \
    "stop once the 95% interval of the median step time is\n"                                   \
    "within +-X of it (0.01: +-1 %); with --passes 1, a row\n"                                 \
    "that gets there before --max-time is stable, any other is\n"                              \
    "flagged unstable (with more passes, see --passes-ci)",                                     \
    HOW, 0, NULL, NULL)                                                                         \
  X("target-cv", CUSTOM, measure.target_ci, 0, 0, NULL, "X",                                    \
    "retired (schema 1): the CV no longer stops a run", HOW,                                    \
    CLB_OPT_HIDDEN | CLB_OPT_UNSAVED, set_retired_target_cv, NULL)                              \
  X("no-interleave", FLAG, interleave, 0, 0, "no", NULL,                            \
    "time each configuration alone, one after the other, instead\n"                             \
    "of in turns with the device's others (a slow phase of the\n"                               \
    "machine then lands on whichever ran at that moment)",                                      \
    HOW, CLB_OPT_NEGATE, NULL, NULL)                                                            \
  X("passes", SIZE, passes, 1, 64, "3", "P",                                        \
    "measure each configuration in P worker processes, one after\n"                            \
    "the other, each with 1/P of --min-time and --max-time; the\n"                             \
    "row is the mean of their medians with a t interval, which\n"                              \
    "holds the spread between processes and, from the speed\n"                                 \
    "history, how far passes of earlier runs on this host\n"                                   \
    "landed apart (host_spread); rows of each pass go to\n"                                    \
    "FILE.passes.csv. When a device's passes ran more than\n"                                  \
    "--drift-limit apart as a whole (the host changed speed), up\n"                            \
    "to P more passes run and its rows keep the largest group of\n"                            \
    "passes that agree; the row's message names those left out",                               \
    HOW, 0, NULL, NULL)                                                                         \
  X("passes-ci", DOUBLE, passes_rule.target_ci, 0, 10, "0.1", "X",                       \
    "with --passes 2 or more: a row is stable when the 95%\n"                                  \
    "interval of its passes' mean is within +-X of it (0.1:\n"                                 \
    "+-10 %) and no faster pass was left out; --target-ci then\n"                              \
    "only stops each pass's timing",                                                            \
    HOW, 0, NULL, NULL)                                                                         \
  X("drift-limit", DOUBLE, passes_rule.drift_limit, 0, 10, "0.1", "X",              \
    "with --passes 2 or more: passes of one device whose step\n"                                \
    "times differ by more than X as a whole (0.1: 10 %) ran on a\n"                             \
    "host that changed speed; then up to P more passes run (0:\n"                               \
    "never, keep every pass). Also how much slower than usual\n"                                \
    "(--speed-history) a row may be measured before it is\n"                                    \
    "flagged unstable (0: never)",                                                              \
    HOW, 0, NULL, NULL)                                                                         \
  X("speed-history", TEXT, speed_history, 0, 0, NULL, "FILE",                       \
    "each pass times a fixed reference step in turns beside its\n"                              \
    "configurations and compares it with this host's usual time\n"                              \
    "for the device: the lower quartile of its last 30 in FILE,\n"                              \
    "which gets a line per pass (default $CLBATCH_SPEED_HISTORY,\n"                             \
    "else $XDG_STATE_HOME/clbatch/speed-history.csv, else\n"                                    \
    "~/.local/state/clbatch/speed-history.csv; none: no reference\n"                            \
    "step). Rows measured more than --drift-limit slower than\n"                                \
    "usual are flagged unstable (column host_slowdown). The\n"                                  \
    "spread of those 30 widens each row's interval (host_spread;\n"                             \
    "with fewer than 8 there is none yet, and run warns).\n"                                    \
    "A set timed too briefly for 50 reference steps adds no line\n"                             \
    "and gets no host_slowdown",                                                                \
    HOW, 0, NULL, NULL)                                                                         \
  X("repeat", SIZE, repeat, 1, 1000, "1", "R",                                      \
    "run the whole plan R times in a row; rows carry their\n"                                   \
    "repeat, and `clbatch report` shows how far repeats agree",                                 \
    HOW, 0, NULL, NULL)                                                                         \
  X("tune", FLAG, tune_first, 0, 0, "no", NULL,                                     \
    "first run `clbatch tune` on each device and precision that\n"                              \
    "has no tuned CLBlast parameters (minutes each; see\n"                                      \
    "`clbatch help tune`)",                                                                      \
    HOW, CLB_OPT_UNSAVED, NULL, NULL)                                                            \
  X("tune-budget", DOUBLE, tune_budget_s, 0.001, 86400, "480", "S",                 \
    "with --tune: tune's --budget, seconds per device and precision", HOW, CLB_OPT_UNSAVED,      \
    NULL, NULL)                                                                                  \
  X("host-warnings", TEXT, host_warnings, 0, 0, NULL, "TEXT",                       \
    "set by run itself: what it found wrong with the host", HOW, CLB_OPT_HIDDEN, NULL, NULL)    \
  X("timeout", DOUBLE, timeout_s, 0, 7 * 86400.0, "900", "S",                       \
    "per device; a hung device is cut off (0 = never)", HOW, 0, NULL, NULL)                     \
  X("noise-batches", CUSTOM, noise_batches, 0, 0, "64", "K",                                       \
    "batches for the measured gradient variance (0 = off)", HOW, 0, set_noise_batches,          \
    format_noise_batches)                                                                       \
  X("noise-at", SIZE, noise_at, 0, 100000000, "0", "STEPS",                         \
    "train STEPS SGD steps before measuring the noise", HOW, 0, NULL, NULL)                     \
  X("max-batch-probe", FLAG, max_batch_probe, 0, 0, "no", NULL,                     \
    "find the largest batch whose buffers each device accepts", HOW, 0, NULL, NULL)             \
  X("out", TEXT, out_path, 0, 0, NULL, "FILE.csv",                                  \
    "results (default results/local/run-HOST-TIME.csv); the\n"                                  \
    "effective configuration goes to FILE.config and the\n"                                     \
    "recommendations to FILE.recommend.csv",                                                    \
    OUTPUT, CLB_OPT_UNSAVED, NULL, NULL)                                                        \
  X("format", CUSTOM, format, 0, 0, "csv", "FMT",                                           \
    "csv, json or md: also write FILE.json (rows + host and\n"                                  \
    "device description) or FILE.md (the CSV is always written)",                               \
    OUTPUT, 0, set_format, format_format)                                                       \
  X("resume", FLAG, resume, 0, 0, "no", NULL,                                       \
    "append to an existing FILE, skipping rows it already has", OUTPUT, CLB_OPT_UNSAVED, NULL,  \
    NULL)                                                                                       \
  X("config", CUSTOM, config_path, 0, 0, NULL, "FILE",                                           \
    "read options from `key = value` lines (same names)", OUTPUT, CLB_OPT_UNSAVED, read_config, \
    format_config)                                                                              \
  X("quiet", FLAG, quiet, 0, 0, "no", NULL, "no progress line or notes on stderr",  \
    OUTPUT, CLB_OPT_UNSAVED, NULL, NULL)

const struct clb_option clb_run_options[] = {
#define CLB_RUN_OPTION_ENTRY(name, type, field, lo, hi, def, metavar, help, section, flags,      \
                             parse, format)                                                     \
  {name,                                                                                        \
   CLB_OPT_##type,                                                                              \
   offsetof(struct clb_plan, field),                                                            \
   sizeof(((struct clb_plan *)0)->field),                                                       \
   lo,                                                                                          \
   hi,                                                                                          \
   def,                                                                                         \
   metavar,                                                                                     \
   help,                                                                                        \
   section,                                                                                     \
   flags,                                                                                       \
   0,                                                                                           \
   parse,                                                                                       \
   format},
    CLB_RUN_OPTIONS(CLB_RUN_OPTION_ENTRY)
#undef CLB_RUN_OPTION_ENTRY
};

const size_t clb_run_option_count = sizeof clb_run_options / sizeof clb_run_options[0];

/* ---- the plan -------------------------------------------------------------- */

void clb_plan_defaults(struct clb_plan *plan) {
  struct clb_error err = {0};
  memset(plan, 0, sizeof *plan);
  /* The defaults are constants of the table; tests/test_plan.c checks that
   * each one parses, so this cannot fail at run time. */
  (void)clb_options_defaults(clb_run_options, clb_run_option_count, plan, &err);
}

static int plan_set(struct clb_plan *plan, const char *key, const char *value,
                    struct clb_error *err) {
  const struct clb_option *option = clb_options_find(clb_run_options, clb_run_option_count, key);
  if (!option)
    return clb_failf(err, CLB_E_INVAL, "unknown option '%s'", key);
  return clb_options_set(option, plan, value ? value : "", err);
}

static int apply_config_entry(const char *key, const char *value, void *context) {
  struct config_context *c = context;
  return plan_set(c->plan, key, value, c->err);
}

int clb_plan_set(struct clb_plan *plan, const char *key, const char *value,
                 struct clb_error *err) {
  return plan_set(plan, key, value, err);
}

int clb_plan_finish(struct clb_plan *plan, size_t n_samples, struct clb_error *err) {
  plan->samples = n_samples;
  if (n_samples < 2)
    return clb_failf(err, CLB_E_INVAL, "the data set needs at least 2 samples");
  size_t values[CLB_MAX_BATCHES], count = 0;
  char spec[sizeof plan->batch_spec + 256];
  substitute_n(plan->batch_spec, n_samples, spec, sizeof spec);
  int rc = clb_parse_batches(spec, n_samples, values, CLB_MAX_BATCHES, &count, err);
  if (rc != 0)
    return rc;
  plan->batch_count = 0;
  for (size_t i = 0; i < count; i++) {
    size_t b = values[i] == 0 ? n_samples : values[i];
    int seen = 0;
    for (size_t j = 0; j < plan->batch_count; j++)
      seen |= plan->batches[j] == b;
    if (!seen)
      plan->batches[plan->batch_count++] = b;
  }
  if (plan->measure.max_time_s < plan->measure.min_time_s)
    return clb_failf(err, CLB_E_INVAL, "--max-time (%g s) is below --min-time (%g s)",
                     plan->measure.max_time_s, plan->measure.min_time_s);
  /* A synthetic set larger than the host's memory would only fail later, in
   * the worker, after the output files exist: refuse it here, by name. */
  long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
  double data_bytes = (double)n_samples * (double)(plan->features + plan->outputs) * 8.0;
  if (!plan->data_path[0] && pages > 0 && page_size > 0 &&
      data_bytes > (double)pages * (double)page_size)
    return clb_failf(err, CLB_E_INVAL,
                     "--samples %zu x --features %zu: the data set needs %.3g GiB, more than "
                     "this host's %.3g GiB of memory",
                     n_samples, plan->features, data_bytes / 1073741824.0,
                     (double)pages * (double)page_size / 1073741824.0);
  if (plan->init_params[0] && plan->model_count != 1)
    return clb_failf(err, CLB_E_INVAL,
                     "--init-params holds one model's parameters: give exactly one --model");
  return 0;
}

int clb_plan_write_config(const struct clb_plan *plan, const char *path, struct clb_error *err) {
  struct clb_atomic_file af;
  if (clb_atomic_open(&af, path, err) != 0)
    return err->code;
  fprintf(af.file,
          "# Effective configuration of a clbatch %s run; repeat it with\n"
          "# clbatch run --config %s\n",
          CLBATCH_VERSION, path);
  clb_options_write(clb_run_options, clb_run_option_count, plan, 0, af.file);
  return clb_atomic_commit(&af, err);
}
