#include "sweep/plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/files.h"
#include "util/parse.h"

static const char *const format_names[] = {"csv", "json", "md"};

const char *clb_format_name(enum clb_format format) {
  return (unsigned)format < 3 ? format_names[format] : "csv";
}

void clb_plan_defaults(struct clb_plan *plan) {
  memset(plan, 0, sizeof *plan);
  snprintf(plan->device_spec, sizeof plan->device_spec, "all");
  for (int k = 0; k < CLB_MODEL_COUNT; k++)
    plan->models[k] = (enum clb_model_kind)k;
  plan->model_count = CLB_MODEL_COUNT;
  plan->precisions[0] = CLB_FP32;
  plan->precision_count = 1;
  /* Powers of two up to N, and N itself (the full batch). */
  snprintf(plan->batch_spec, sizeof plan->batch_spec, "1:N:x2,N");
  plan->samples = 4096;
  plan->features = 128;
  plan->hidden = 256;
  plan->classes = 10;
  plan->outputs = 1;
  plan->shuffle = 1;
  plan->seed = 1;
  plan->lr = 1e-3;
  clb_measure_defaults(&plan->measure);
  plan->timeout_s = 900;
  plan->format = CLB_FORMAT_CSV;
  plan->noise_batches = 64;
}

static int parse_flag(const char *key, const char *value, int *out, struct clb_error *err) {
  if (!value || !*value || !strcmp(value, "1") || !strcmp(value, "yes") ||
      !strcmp(value, "true")) {
    *out = 1;
    return 0;
  }
  if (!strcmp(value, "0") || !strcmp(value, "no") || !strcmp(value, "false")) {
    *out = 0;
    return 0;
  }
  return clb_failf(err, CLB_E_INVAL, "--%s: '%s' is not yes or no", key, value);
}

static int copy_text(const char *key, const char *value, char *dst, size_t size,
                     struct clb_error *err) {
  if (!value || !*value)
    return clb_failf(err, CLB_E_INVAL, "--%s needs a value", key);
  if (strlen(value) >= size)
    return clb_failf(err, CLB_E_INVAL, "--%s: value longer than %zu characters", key, size - 1);
  memcpy(dst, value, strlen(value) + 1);
  return 0;
}

/* A comma-separated list of names, each turned into an enum by `parse`. */
static int parse_name_list(const char *key, const char *value, int *out, size_t max,
                           size_t *count, int (*parse)(const char *, int *),
                           const char *choices, struct clb_error *err) {
  char copy[256];
  if (copy_text(key, value, copy, sizeof copy, err) != 0)
    return CLB_E_INVAL;
  *count = 0;
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    int parsed = 0;
    if (parse(item, &parsed) != 0)
      return clb_failf(err, CLB_E_INVAL, "--%s: unknown '%s' (choose from %s)", key, item,
                       choices);
    int duplicate = 0;
    for (size_t i = 0; i < *count; i++)
      duplicate |= out[i] == parsed;
    if (duplicate)
      continue;
    if (*count == max)
      return clb_failf(err, CLB_E_INVAL, "--%s: too many items", key);
    out[(*count)++] = parsed;
  }
  if (*count == 0)
    return clb_failf(err, CLB_E_INVAL, "--%s names nothing", key);
  return 0;
}

static int parse_model_int(const char *name, int *out) {
  enum clb_model_kind kind;
  int rc = clb_model_parse(name, &kind);
  *out = (int)kind;
  return rc;
}

static int parse_precision_int(const char *name, int *out) {
  enum clb_precision precision;
  int rc = clb_precision_parse(name, &precision);
  *out = (int)precision;
  return rc;
}

static int apply_config_entry(const char *key, const char *value, void *context);

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

struct config_context {
  struct clb_plan *plan;
  struct clb_error *err;
  int depth;
};

static int set_size(const char *key, const char *value, size_t min, size_t max, size_t *out,
                    struct clb_error *err) {
  char what[64];
  snprintf(what, sizeof what, "--%s", key);
  return clb_parse_size(value ? value : "", min, max, what, out, err);
}

static int set_double(const char *key, const char *value, double min, double max, double *out,
                      struct clb_error *err) {
  char what[64];
  snprintf(what, sizeof what, "--%s", key);
  return clb_parse_double(value ? value : "", min, max, what, out, err);
}

/* Upper bounds that keep every product of sizes far from overflow. */
#define MAX_SAMPLES ((size_t)1 << 31)
#define MAX_WIDTH ((size_t)1 << 20)

static int plan_set(struct clb_plan *plan, const char *key, const char *value, int depth,
                    struct clb_error *err) {
  const char *v = value ? value : "";
  size_t size = 0;
  int rc = 0;
  if (!strcmp(key, "device"))
    return copy_text(key, v, plan->device_spec, sizeof plan->device_spec, err);
  if (!strcmp(key, "model")) {
    int models[CLB_MODEL_COUNT];
    rc = parse_name_list(key, v, models, CLB_MODEL_COUNT, &plan->model_count, parse_model_int,
                         "linreg, softmax, mlp", err);
    for (size_t i = 0; rc == 0 && i < plan->model_count; i++)
      plan->models[i] = (enum clb_model_kind)models[i];
    return rc;
  }
  if (!strcmp(key, "precision")) {
    int precisions[CLB_PRECISION_COUNT];
    rc = parse_name_list(key, v, precisions, CLB_PRECISION_COUNT, &plan->precision_count,
                         parse_precision_int, "fp32, fp64, fp16", err);
    for (size_t i = 0; rc == 0 && i < plan->precision_count; i++)
      plan->precisions[i] = (enum clb_precision)precisions[i];
    return rc;
  }
  if (!strcmp(key, "batch")) {
    size_t check[CLB_MAX_BATCHES], count = 0;
    char spec[sizeof plan->batch_spec + 256];
    /* Validate the syntax now; the values are resolved against N later. */
    if (strlen(v) >= sizeof plan->batch_spec)
      return clb_failf(err, CLB_E_INVAL, "--batch: list too long");
    substitute_n(v, MAX_SAMPLES, spec, sizeof spec);
    rc = clb_parse_batches(spec, 0, check, CLB_MAX_BATCHES, &count, err);
    return rc ? rc : copy_text(key, v, plan->batch_spec, sizeof plan->batch_spec, err);
  }
  if (!strcmp(key, "samples"))
    return set_size(key, v, 2, MAX_SAMPLES, &plan->samples, err);
  if (!strcmp(key, "features"))
    return set_size(key, v, 1, MAX_WIDTH, &plan->features, err);
  if (!strcmp(key, "hidden"))
    return set_size(key, v, 1, MAX_WIDTH, &plan->hidden, err);
  if (!strcmp(key, "classes"))
    return set_size(key, v, 2, MAX_WIDTH, &plan->classes, err);
  if (!strcmp(key, "outputs"))
    return set_size(key, v, 1, MAX_WIDTH, &plan->outputs, err);
  if (!strcmp(key, "data-on")) {
    if (!strcmp(v, "device") || !strcmp(v, "host")) {
      plan->data_on_host = !strcmp(v, "host");
      return 0;
    }
    return clb_failf(err, CLB_E_INVAL, "--data-on: '%s' is not device or host", v);
  }
  if (!strcmp(key, "data"))
    return copy_text(key, v, plan->data_path, sizeof plan->data_path, err);
  if (!strcmp(key, "init-params"))
    return copy_text(key, v, plan->init_params, sizeof plan->init_params, err);
  if (!strcmp(key, "out"))
    return copy_text(key, v, plan->out_path, sizeof plan->out_path, err);
  if (!strcmp(key, "seed")) {
    rc = set_size(key, v, 0, SIZE_MAX, &size, err);
    plan->seed = size;
    return rc;
  }
  if (!strcmp(key, "lr"))
    return set_double(key, v, 0.0, 1e6, &plan->lr, err);
  if (!strcmp(key, "min-time"))
    return set_double(key, v, 0.0, 3600.0, &plan->measure.min_time_s, err);
  if (!strcmp(key, "max-time"))
    return set_double(key, v, 0.001, 86400.0, &plan->measure.max_time_s, err);
  if (!strcmp(key, "max-reps"))
    return set_size(key, v, 1, 100000000, &plan->measure.max_reps, err);
  if (!strcmp(key, "warmup"))
    return set_size(key, v, 0, 10000, &plan->measure.warmup_steps, err);
  if (!strcmp(key, "target-cv"))
    return set_double(key, v, 0.0, 10.0, &plan->measure.target_cv, err);
  if (!strcmp(key, "timeout"))
    return set_double(key, v, 0.0, 7 * 86400.0, &plan->timeout_s, err);
  if (!strcmp(key, "noise-batches")) {
    rc = set_size(key, v, 0, 1000000, &plan->noise_batches, err);
    if (rc == 0 && plan->noise_batches == 1)
      return clb_failf(err, CLB_E_INVAL, "--noise-batches: 1 gives no interval; use 0 or >= 2");
    return rc;
  }
  if (!strcmp(key, "noise-at"))
    return set_size(key, v, 0, 100000000, &plan->noise_at, err);
  if (!strcmp(key, "format")) {
    for (int f = 0; f < 3; f++)
      if (!strcmp(v, format_names[f])) {
        plan->format = (enum clb_format)f;
        return 0;
      }
    return clb_failf(err, CLB_E_INVAL, "--format: '%s' is not csv, json or md", v);
  }
  if (!strcmp(key, "quiet"))
    return parse_flag(key, value, &plan->quiet, err);
  if (!strcmp(key, "resume"))
    return parse_flag(key, value, &plan->resume, err);
  if (!strcmp(key, "max-batch-probe"))
    return parse_flag(key, value, &plan->max_batch_probe, err);
  if (!strcmp(key, "shuffle"))
    return parse_flag(key, value, &plan->shuffle, err);
  if (!strcmp(key, "no-shuffle")) {
    int off = 0;
    rc = parse_flag(key, value, &off, err);
    plan->shuffle = !off;
    return rc;
  }
  if (!strcmp(key, "config")) {
    if (depth > 4)
      return clb_failf(err, CLB_E_INVAL, "--config: config files nest too deeply");
    struct config_context context = {plan, err, depth + 1};
    struct clb_error read_err = {0};
    rc = clb_config_read(v, apply_config_entry, &context, &read_err);
    if (rc != 0)
      clb_failf(err, rc, "%s", read_err.message);
    return rc;
  }
  return clb_failf(err, CLB_E_INVAL, "unknown option '%s'", key);
}

static int apply_config_entry(const char *key, const char *value, void *context) {
  struct config_context *c = context;
  return plan_set(c->plan, key, value, c->depth, c->err);
}

int clb_plan_set(struct clb_plan *plan, const char *key, const char *value,
                 struct clb_error *err) {
  return plan_set(plan, key, value, 0, err);
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

/* The shortest decimal text that reads back as exactly `value`. */
static const char *exact_number(double value, char *buf, size_t size) {
  for (int digits = 6; digits <= 17; digits++) {
    snprintf(buf, size, "%.*g", digits, value);
    if (strtod(buf, NULL) == value)
      break;
  }
  return buf;
}

int clb_plan_write_config(const struct clb_plan *plan, const char *path, struct clb_error *err) {
  char n1[32], n2[32], n3[32], n4[32];
  struct clb_atomic_file af;
  if (clb_atomic_open(&af, path, err) != 0)
    return err->code;
  FILE *out = af.file;
  fprintf(out, "# Effective configuration of a clbatch %s run; repeat it with\n"
               "# clbatch run --config %s\n",
          CLBATCH_VERSION, path);
  fprintf(out, "device = %s\nmodel = ", plan->device_spec);
  for (size_t i = 0; i < plan->model_count; i++)
    fprintf(out, "%s%s", i ? "," : "", clb_model_name(plan->models[i]));
  fprintf(out, "\nprecision = ");
  for (size_t i = 0; i < plan->precision_count; i++)
    fprintf(out, "%s%s", i ? "," : "", clb_precision_name(plan->precisions[i]));
  fprintf(out, "\nbatch = ");
  for (size_t i = 0; i < plan->batch_count; i++)
    fprintf(out, "%s%zu", i ? "," : "", plan->batches[i]);
  if (plan->batch_count == 0)
    fprintf(out, "%s", plan->batch_spec);
  fprintf(out, "\nsamples = %zu\nfeatures = %zu\nhidden = %zu\nclasses = %zu\noutputs = %zu\n",
          plan->samples, plan->features, plan->hidden, plan->classes, plan->outputs);
  fprintf(out, "data-on = %s\nshuffle = %s\nseed = %llu\nlr = %s\n",
          plan->data_on_host ? "host" : "device", plan->shuffle ? "yes" : "no",
          (unsigned long long)plan->seed, exact_number(plan->lr, n1, sizeof n1));
  if (plan->data_path[0])
    fprintf(out, "data = %s\n", plan->data_path);
  if (plan->init_params[0])
    fprintf(out, "init-params = %s\n", plan->init_params);
  fprintf(out, "warmup = %zu\nmin-time = %s\nmax-time = %s\nmax-reps = %zu\n"
               "target-cv = %s\ntimeout = %s\n",
          plan->measure.warmup_steps, exact_number(plan->measure.min_time_s, n1, sizeof n1),
          exact_number(plan->measure.max_time_s, n2, sizeof n2), plan->measure.max_reps,
          exact_number(plan->measure.target_cv, n3, sizeof n3),
          exact_number(plan->timeout_s, n4, sizeof n4));
  fprintf(out, "noise-batches = %zu\nnoise-at = %zu\nmax-batch-probe = %s\nformat = %s\n",
          plan->noise_batches, plan->noise_at, plan->max_batch_probe ? "yes" : "no",
          clb_format_name(plan->format));
  return clb_atomic_commit(&af, err);
}
