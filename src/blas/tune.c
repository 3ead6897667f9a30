/* The tuner's options and applying stored parameters. The search is
 * blas/tune_search.c; the spaces, the file and the benchmark are modules of
 * their own (tune_space, tune_store, tune_bench). */
#include "blas/tune.h"

#include <math.h>
#include <string.h>

#include "blas/blas.h"
#include "blas/tune_store.h"

const char *const clb_tune_kernel_names[CLB_TUNE_KERNELS] = {
    "Xgemm",        "XgemmDirect", CLB_TUNE_ROUTINE_KERNEL,
    "XgemvFastRot", "XgemvFast",   CLB_TUNE_TRANSPOSE_KERNEL};

int clb_tune_is_gemv(const char *kernel) {
  return strncmp(kernel, "Xgemv", 5) == 0;
}

const char *clb_tune_unit(const char *kernel) {
  return strcmp(kernel, CLB_TUNE_TRANSPOSE_KERNEL) == 0 ? "GB/s" : "GFLOP/s";
}

void clb_tune_transpose_shape(const struct clb_tune_options *options, size_t *rows, size_t *cols) {
  *rows = options->gemv_rows;
  *cols = options->gemv_rows == options->k ? 2 * options->k : options->k;
}

double clb_tune_expected_minutes(double budget_s) {
  return ceil((budget_s + 120.0) / 60.0);
}

void clb_tune_defaults(struct clb_tune_options *options) {
  *options = (struct clb_tune_options){0};
  options->m = 256;
  options->n = 64;
  options->k = 256;
  options->gemv_rows = 4096;
  options->max_configs = 200;
  options->seed = 42;
  options->budget_s = 480.0;
}

const struct clb_cpu_start_set *clb_tune_start_sets(const struct clb_device_info *dev,
                                                    enum clb_precision precision, size_t *count) {
  return clb_cpu_start_sets(dev->vendor, dev->name, (dev->type & CL_DEVICE_TYPE_CPU) != 0,
                            precision, count);
}

/* clbatch's CPU starting sets for the kernels the tuner left alone, on a CPU
 * that CLBlast's database does not reach (applied unless `dry`). */
static int apply_cpu_start(const struct clb_tune_file *file, const struct clb_device_info *dev,
                           enum clb_precision precision, int dry, enum clb_params_source *source,
                           struct clb_error *err) {
  size_t count = 0;
  const struct clb_cpu_start_set *sets = clb_tune_start_sets(dev, precision, &count);
  for (size_t i = 0; i < count; i++) {
    /* With parameters or use_defaults = 1: either way the tuner decided. */
    if (clb_tune_store_find(file, dev, precision, sets[i].kernel))
      continue;
    int rc = dry ? 0
                 : clb_blas_override(dev->device, dev->name, precision, sets[i].kernel,
                                     sets[i].count, sets[i].names, sets[i].values, err);
    if (rc != 0)
      return rc;
    if (*source == CLB_PARAMS_CLBLAST)
      *source = CLB_PARAMS_CPU_START;
  }
  return 0;
}

/* clb_tune_apply, or with `dry` only what it would set *source to. An entry
 * that says CLBlast's defaults won carries no parameters: there is nothing
 * to apply, and CLBlast starts on its defaults anyway. */
static int resolve(const struct clb_device_info *dev, enum clb_precision precision, int dry,
                   enum clb_params_source *source, struct clb_error *err) {
  int rc = 0;
  struct clb_tune_file file = {0};
  char path[4096];
  *source = CLB_PARAMS_CLBLAST;
  clb_tune_path(path, sizeof path);
  CLB_TRY(clb_tune_store_load(path, &file, err));
  for (size_t i = 0; i < file.count; i++) {
    const struct clb_tune_entry *entry = &file.entries[i];
    if (!clb_tune_store_matches(entry, dev, precision) || entry->use_defaults ||
        entry->param_count == 0)
      continue;
    const char *names[CLB_TUNE_MAX_PARAMS];
    for (size_t p = 0; p < entry->param_count; p++)
      names[p] = entry->names[p];
    if (!dry)
      CLB_TRY(clb_blas_override(dev->device, dev->name, precision, entry->kernel,
                                entry->param_count, names, entry->values, err));
    *source = CLB_PARAMS_TUNED; /* set as it happens: an override cannot be undone */
  }
  CLB_TRY(apply_cpu_start(&file, dev, precision, dry, source, err));
cleanup:
  clb_tune_store_destroy(&file);
  return rc;
}

int clb_tune_apply(const struct clb_device_info *dev, enum clb_precision precision,
                   enum clb_params_source *source, struct clb_error *err) {
  return resolve(dev, precision, 0, source, err);
}

int clb_tune_source(const struct clb_device_info *dev, enum clb_precision precision,
                    enum clb_params_source *source, struct clb_error *err) {
  return resolve(dev, precision, 1, source, err);
}
