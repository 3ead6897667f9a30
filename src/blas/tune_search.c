/* clb_tune_search: CLBlast's defaults first, then a seeded sample of each
 * kernel's legal configurations, each overridden, verified and timed; the
 * best per kernel and the direct/indirect crossover go to tuned.conf. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "blas/blas.h"
#include "blas/tune.h"
#include "blas/tune_bench.h"
#include "blas/tune_space.h"
#include "blas/tune_store.h"
#include "util/clock.h"

/* A GEMM with m*n*k < XGEMM_MIN_INDIRECT_SIZE^3 runs the direct kernel (CLBlast's
 * Xgemm::UseDirectKernel cubes the value in unsigned long long): 0 forces the
 * indirect path, 2^20 (cube 2^60) the direct one for any shape that fits in memory. */
#define FORCE_INDIRECT ((size_t)0)
#define FORCE_DIRECT ((size_t)1 << 20)

/* What every step of one search shares. */
struct search {
  const struct clb_cl *cl;
  const char *device;
  enum clb_precision precision;
  const struct clb_tune_options *options;
  struct clb_tune_bench *bench; /* NULL on a dry run */
  FILE *progress;               /* may be NULL */
};

static int set_crossover(const struct search *s, size_t value, struct clb_error *err) {
  const char *name = CLB_TUNE_ROUTINE_PARAM;
  return clb_blas_override(s->cl->info->device, s->device, s->precision, CLB_TUNE_ROUTINE_KERNEL, 1,
                           &name, &value, err);
}

static void result_set(struct clb_tune_kernel_result *r, const struct clb_tune_space *space,
                       const size_t *values) {
  r->param_count = space->count;
  for (size_t p = 0; p < space->count; p++) {
    r->param_names[p] = space->params[p].name;
    r->param_values[p] = values[p];
  }
}

/* The sample of one kernel's legal configurations: `want` of them, at the
 * front of `list`. It depends on the seed and the kernel, not on the order
 * kernels are tuned in. */
static int sample_kernel(const struct search *s, const struct clb_tune_space *const *spaces,
                         size_t space_count, const struct clb_tune_limits *lim,
                         struct clb_tune_candidates *list, size_t *want, struct clb_error *err) {
  int rc = clb_tune_candidates_list(spaces, space_count, lim, list, err);
  if (rc != 0)
    return rc;
  *want = s->options->max_configs > 0 ? s->options->max_configs - 1 : 0;
  if (*want > list->count)
    *want = list->count;
  uint64_t seed = s->options->seed;
  for (const char *c = spaces[0]->kernel; *c; c++)
    seed = seed * 31u + (unsigned char)*c;
  clb_tune_candidates_sample(list, *want, space_count, seed);
  return 0;
}

/* Overrides one configuration and times it. A configuration that fails to
 * build, run or verify is counted as skipped, not an error; a rejected
 * override means CLBlast expects other names, which is an error. */
static int try_config(const struct search *s, const struct clb_tune_space *space,
                      const size_t *values, size_t number, size_t want,
                      struct clb_tune_kernel_result *r, struct clb_error *err) {
  const char *precision = clb_precision_name(s->precision);
  const char *names[CLB_TUNE_MAX_PARAMS];
  char text[512];
  clb_tune_space_format(text, sizeof text, space, values);
  for (size_t p = 0; p < space->count; p++)
    names[p] = space->params[p].name;
  int rc = clb_blas_override(s->cl->info->device, s->device, s->precision, space->kernel,
                             space->count, names, values, err);
  if (rc != 0)
    return rc;
  r->tried++;
  double gflops = 0.0;
  struct clb_error config_err = {0};
  if (clb_tune_bench_gflops(s->bench, &gflops, &config_err) != 0) {
    r->skipped++;
    if (s->progress)
      fprintf(s->progress, "  %s %s %zu/%zu: skipped (%s): %s\n", precision, space->kernel, number,
              want, text, config_err.message);
    return 0;
  }
  int better = gflops > r->tuned_gflops;
  if (s->progress)
    fprintf(s->progress, "  %s %s %zu/%zu: %8.2f GFLOP/s%s  %s\n", precision, space->kernel, number,
            want, gflops, better ? " (best)" : "       ", text);
  if (better) {
    r->tuned_gflops = gflops;
    r->use_defaults = 0;
    result_set(r, space, values);
  }
  return 0;
}

/* clbatch's CPU starting set of `kernel` in the order of one of `spaces`, on
 * a device that runs it untuned: the search must beat what a run would use,
 * not only CLBlast's GPU-minded defaults. NULL when there is none. */
static const struct clb_tune_space *starting_values(const struct search *s,
                                                    const struct clb_tune_space *const *spaces,
                                                    size_t space_count, size_t *values) {
  const struct clb_device_info *dev = s->cl->info;
  size_t count = 0;
  const struct clb_cpu_start_set *sets = clb_tune_start_sets(dev, s->precision, &count);
  for (size_t i = 0; i < count; i++) {
    if (strcmp(sets[i].kernel, spaces[0]->kernel) != 0)
      continue;
    for (size_t k = 0; k < space_count; k++) {
      size_t found = 0;
      for (size_t p = 0; p < spaces[k]->count; p++)
        for (size_t q = 0; q < sets[i].count; q++)
          if (strcmp(spaces[k]->params[p].name, sets[i].names[q]) == 0) {
            values[p] = sets[i].values[q];
            found++;
          }
      /* GEMMK tells Xgemm's two spaces apart: only the one the set is in matches its value. */
      if (found == spaces[k]->count && found == sets[i].count &&
          clb_tune_space_contains(spaces[k], values))
        return spaces[k];
    }
  }
  return NULL;
}

/* Tunes one kernel: `spaces` are its parameter spaces, `crossover` forces the
 * path that runs it, r->default_gflops is already measured. */
static int tune_kernel(const struct search *s, const struct clb_tune_space *const *spaces,
                       size_t space_count, size_t crossover, const struct clb_tune_limits *lim,
                       struct clb_tune_kernel_result *r, struct clb_error *err) {
  int rc = 0;
  struct clb_tune_candidates list = {0};
  size_t values[CLB_TUNE_MAX_PARAMS];
  size_t want = 0;
  const char *kernel = spaces[0]->kernel;
  const char *precision = clb_precision_name(s->precision);
  const double start = clb_now();
  CLB_TRY(sample_kernel(s, spaces, space_count, lim, &list, &want, err));
  /* The starting set is one of the --max-configs, in place of a sampled one. */
  const struct clb_tune_space *start_space = starting_values(s, spaces, space_count, values);
  if (start_space && want > 0)
    want--;
  r->legal = list.count;
  if (s->progress)
    fprintf(s->progress,
            "%s %s on %s: %zu legal configurations, timing %zu plus CLBlast's defaults%s\n",
            precision, kernel, s->device, list.count, want,
            start_space ? " and clbatch's CPU starting set" : "");
  r->tried = s->options->dry_run ? 0 : 1;
  r->tuned_gflops = r->default_gflops;
  r->use_defaults = 1;
  if (!s->options->dry_run)
    CLB_TRY(set_crossover(s, crossover, err));
  if (start_space && !s->options->dry_run) {
    if (s->progress)
      fprintf(s->progress, "  %s %s: clbatch's CPU starting set first\n", precision, kernel);
    CLB_TRY(try_config(s, start_space, values, 0, want, r, err));
  }
  for (size_t i = 0; i < want; i++) {
    const struct clb_tune_space *space = spaces[list.items[i] >> 32];
    clb_tune_space_decode(space, (size_t)(list.items[i] & 0xffffffffu), values);
    if (s->options->dry_run) {
      char text[512];
      clb_tune_space_format(text, sizeof text, space, values);
      if (s->progress)
        fprintf(s->progress, "  %s %s %zu/%zu: %s\n", precision, kernel, i + 1, want, text);
      continue;
    }
    if (clb_now() - start > s->options->budget_s) {
      if (s->progress)
        fprintf(s->progress, "  %s %s: budget of %.0f s reached after %zu configurations\n",
                precision, kernel, s->options->budget_s, i);
      break;
    }
    CLB_TRY(try_config(s, space, values, i + 1, want, r, err));
  }
cleanup:
  clb_tune_candidates_destroy(&list);
  return rc;
}

/* CLBlast's own choice of path, then each path forced, all on CLBlast's
 * default parameters: measured before any kernel parameter is overridden. */
static int measure_defaults(const struct search *s, struct clb_tune_report *out,
                            struct clb_error *err) {
  int rc = 0;
  struct clb_tune_kernel_result *indirect = &out->kernels[0], *direct = &out->kernels[1],
                                *routine = &out->kernels[2];
  CLB_TRY(clb_tune_bench_gflops(s->bench, &routine->default_gflops, err));
  CLB_TRY(set_crossover(s, FORCE_INDIRECT, err));
  CLB_TRY(clb_tune_bench_gflops(s->bench, &indirect->default_gflops, err));
  CLB_TRY(set_crossover(s, FORCE_DIRECT, err));
  CLB_TRY(clb_tune_bench_gflops(s->bench, &direct->default_gflops, err));
  if (s->progress)
    fprintf(s->progress,
            "%s on %s, m=%zu n=%zu k=%zu, CLBlast's defaults: %.2f GFLOP/s as chosen, "
            "%.2f indirect (Xgemm), %.2f direct (XgemmDirect)\n",
            clb_precision_name(s->precision), s->device, s->options->m, s->options->n,
            s->options->k, routine->default_gflops, indirect->default_gflops,
            direct->default_gflops);
cleanup:
  return rc;
}

/* The largest x with x^3 <= v. */
static size_t cube_root_floor(unsigned long long v) {
  size_t x = (size_t)cbrt((double)v);
  while (x > 0 && (unsigned long long)x * x * x > v)
    x--;
  while ((unsigned long long)(x + 1) * (x + 1) * (x + 1) <= v)
    x++;
  return x;
}

/* The crossover goes where the representative shape takes the faster path. */
static void choose_crossover(const struct search *s, struct clb_tune_report *out) {
  const struct clb_tune_options *options = s->options;
  const struct clb_tune_kernel_result *indirect = &out->kernels[0], *direct = &out->kernels[1];
  struct clb_tune_kernel_result *routine = &out->kernels[2];
  unsigned long long mnk =
      (unsigned long long)options->m * options->n * (unsigned long long)options->k;
  size_t root = cube_root_floor(mnk);
  int direct_wins = direct->tuned_gflops >= indirect->tuned_gflops;
  routine->legal = routine->tried = 1;
  routine->tuned_gflops = direct_wins ? direct->tuned_gflops : indirect->tuned_gflops;
  routine->param_count = 1;
  routine->param_names[0] = CLB_TUNE_ROUTINE_PARAM;
  routine->param_values[0] = direct_wins ? root + 1 : root;
  if (s->progress)
    fprintf(s->progress, "%s on %s: the %s path is faster for this shape; %s = %zu\n",
            clb_precision_name(s->precision), s->device, direct_wins ? "direct" : "indirect",
            CLB_TUNE_ROUTINE_PARAM, routine->param_values[0]);
}

int clb_tune_search(const struct clb_cl *cl, enum clb_precision precision,
                    const struct clb_tune_options *options, FILE *progress,
                    struct clb_tune_report *report, struct clb_error *err) {
  int rc = 0;
  struct clb_tune_report local = {0};
  struct clb_tune_report *out = report ? report : &local;
  const struct clb_device_info *dev = cl->info;
  struct search s = {cl, dev->name, precision, options, NULL, progress};
  memset(out, 0, sizeof *out);
  out->kernels[0].kernel = "Xgemm";
  out->kernels[1].kernel = "XgemmDirect";
  out->kernels[2].kernel = CLB_TUNE_ROUTINE_KERNEL;
  if (options->m == 0 || options->n == 0 || options->k == 0 || options->max_configs == 0 ||
      !(options->budget_s > 0.0))
    return clb_failf(err, CLB_E_INVAL,
                     "tuning needs m, n, k and max_configs of at least 1 and a positive budget");
  char reason[256];
  if (clb_device_check_precision(dev, precision, reason, sizeof reason) != 0)
    return clb_failf(err, CLB_E_UNSUPPORTED, "cannot tune %s: %s", clb_precision_name(precision),
                     reason);

  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, dev->max_work_group_size, dev->local_mem_bytes,
                       clb_precision_size(precision), options->m, options->n, options->k);
  static const struct clb_tune_space *const xgemm_spaces[] = {&clb_tune_xgemm_gemmk0,
                                                              &clb_tune_xgemm_gemmk1};
  static const struct clb_tune_space *const direct_spaces[] = {&clb_tune_xgemm_direct};

  if (!options->dry_run) {
    CLB_TRY(clb_tune_bench_create(cl, precision, options->m, options->n, options->k, options->seed,
                                  &s.bench, err));
    CLB_TRY(measure_defaults(&s, out, err));
  }
  CLB_TRY(tune_kernel(&s, xgemm_spaces, 2, FORCE_INDIRECT, &lim, &out->kernels[0], err));
  CLB_TRY(tune_kernel(&s, direct_spaces, 1, FORCE_DIRECT, &lim, &out->kernels[1], err));
  if (options->dry_run)
    goto cleanup;
  choose_crossover(&s, out);

  /* Leave CLBlast on the best found (where it was not CLBlast's own default). */
  for (int kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++) {
    const struct clb_tune_kernel_result *r = &out->kernels[kernel];
    if (!r->use_defaults && r->param_count > 0)
      CLB_TRY(clb_blas_override(dev->device, dev->name, precision, r->kernel, r->param_count,
                                r->param_names, r->param_values, err));
  }
  clb_tune_path(out->path, sizeof out->path);
  CLB_TRY(clb_tune_store_save(out->path, dev, precision, out, options, err));
cleanup:
  clb_tune_bench_destroy(s.bench);
  return rc;
}
