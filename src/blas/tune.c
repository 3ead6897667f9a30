/* The tuner's options and applying stored parameters. The search is
 * blas/tune_search.c; the spaces, the file and the benchmark are modules of
 * their own (tune_space, tune_store, tune_bench). */
#include "blas/tune.h"

#include "blas/blas.h"
#include "blas/tune_store.h"

void clb_tune_defaults(struct clb_tune_options *options) {
  options->m = 256;
  options->n = 64;
  options->k = 256;
  options->max_configs = 64;
  options->seed = 42;
  options->budget_s = 60.0;
  options->dry_run = 0;
}

/* An entry that says CLBlast's defaults won carries no parameters: there is
 * nothing to apply, and CLBlast starts on its defaults anyway. */
int clb_tune_apply(const struct clb_device_info *dev, enum clb_precision precision, int *applied,
                   struct clb_error *err) {
  int rc = 0;
  struct clb_tune_file file = {0};
  char path[4096];
  *applied = 0;
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
    CLB_TRY(clb_blas_override(dev->device, dev->name, precision, entry->kernel, entry->param_count,
                              names, entry->values, err));
    *applied = 1;
  }
cleanup:
  clb_tune_store_destroy(&file);
  return rc;
}
