/* clb_tune_search: CLBlast's defaults first, then per kernel a walk from
 * known-good sets (tune_local.h), each configuration overridden, verified
 * and timed, within one budget per device and precision; the best per
 * kernel and the direct/indirect crossover go to tuned.conf. The two GEMV
 * kernels and the transpose come first, within small shares of the budget,
 * then the GEMM kernels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas/blas.h"
#include "blas/tune.h"
#include "blas/tune_child.h"
#include "blas/tune_crossover.h"
#include "blas/tune_local.h"
#include "blas/tune_seeds.h"
#include "blas/tune_space.h"
#include "blas/tune_store.h"
#include "measure/stats.h"
#include "util/clock.h"

/* A neighbour must beat the walk's current best by this much to replace it:
 * two timings of one configuration here differ by a few per cent. */
#define TUNE_MIN_GAIN 0.03

/* What the children that timed a configuration took, by what they ran. */
enum child_kind { CHILD_GEMM, CHILD_GEMV, CHILD_TRANSPOSE, CHILD_KINDS };
struct child_costs {
  double total_s[CHILD_KINDS];
  size_t count[CHILD_KINDS];
};

/* What every step of one search shares. */
struct search {
  const struct clb_cl *cl;
  const char *device;
  enum clb_precision precision;
  const struct clb_tune_options *options;
  FILE *progress;      /* may be NULL */
  double deadline;     /* clb_now() seconds: the whole search's budget */
  char device_id[32];  /* "P:D", for the child processes */
  size_t side_by_side; /* compiles run at once ahead of timing; 0: none */
  double child_s;      /* what one child timing the defaults took (cached where PoCL) */
  double gemv_child_s; /* the same for the GEMV */
  double transpose_child_s; /* and for the transpose */
  /* What the final timing of the GEMM kernels, of each GEMV kernel and of
   * the transpose may take: their shares of the time reserve_final_timing
   * sets aside, so that together they stay within it. */
  double final_gemm_s, final_gemv_s, final_transpose_s;
  struct child_costs *costs; /* of the walks' children, for the final timing's rounds */
};

/* Where each kernel's result goes in clb_tune_report.kernels (clb_tune_kernel_names). */
enum { AT_XGEMM, AT_DIRECT, AT_ROUTINE, AT_GEMV_ROT, AT_GEMV, AT_TRANSPOSE };

/* The best few configurations of each kernel, by their one timing during
 * the search. A single timing on a busy host can be far off (the same
 * configuration measured 47 and 72 GFLOP/s in two searches here), so the
 * finalists and CLBlast's defaults are timed again side by side at the end. */
#define FINALISTS 4
#define CONFIRM_ROUNDS 3
/* At most this share of the budget goes to that final timing. */
#define FINAL_SHARE 0.4
/* The most of what is left after the defaults that the GEMV kernels may
 * use, searched first; what they leave goes to the GEMM. Their spaces are
 * small (tens of legal sets) and compile in a second or two, so on PoCL
 * their walks ended in 20-45 s; with a quarter of the budget they took time
 * the Xgemm walk needed (55 configurations instead of 79, 57 GFLOP/s
 * instead of 90-98), and mlp's step got slower. XgemvFastRot, the larger
 * space, gets 60 % of it. */
#define GEMV_SHARE 0.15
#define GEMV_ROT_PART 0.6
/* Then Padtranspose, within this much of what is left: 40 configurations
 * at most, each a small program that compiles in about a second on PoCL. */
#define TRANSPOSE_SHARE 0.05

struct finalist {
  struct clb_tune_point point;
  double score;
};

struct finalists {
  struct finalist items[FINALISTS];
  size_t count;
};

/* Keeps `point` if it is among the best FINALISTS so far (sorted, best first). */
static void finalists_offer(struct finalists *f, const struct clb_tune_point *point, double score) {
  size_t at = f->count;
  while (at > 0 && f->items[at - 1].score < score)
    at--;
  if (at == FINALISTS)
    return;
  size_t last = f->count < FINALISTS ? f->count : FINALISTS - 1;
  memmove(&f->items[at + 1], &f->items[at], (last - at) * sizeof f->items[0]);
  f->items[at] = (struct finalist){*point, score};
  if (f->count < FINALISTS)
    f->count++;
}

/* A child that neither finishes nor fails in this long is stopped: PoCL
 * compiled CLBlast's largest tiles here in 80 s. */
#define CHILD_TIMEOUT_S 240.0

/* What a child runs: a GEMM m x n x k, or (op) the transpose of an m x n matrix. */
struct gemm_shape {
  size_t m, n, k;
  enum clb_tune_op op;
};

static struct gemm_shape representative(const struct search *s) {
  return (struct gemm_shape){s->options->m, s->options->n, s->options->k, CLB_TUNE_OP_GEMM};
}

/* The GEMVs of a step as GEMMs with one output column or row (blas.c runs
 * those as GEMV): XgemvFastRot computes y = X w with X rows x k row-major,
 * C(rows x 1) = X(rows x k) w(k x 1); XgemvFast computes y = X^T r,
 * C(1 x k) = r(1 x rows) X(rows x k). */
static struct gemm_shape gemv_shape(const struct search *s, int rotated, size_t rows) {
  return rotated ? (struct gemm_shape){rows, 1, s->options->k, CLB_TUNE_OP_GEMM}
                 : (struct gemm_shape){1, s->options->k, rows, CLB_TUNE_OP_GEMM};
}

/* The padded transpose the indirect GEMM runs on a batch's operands
 * (clb_tune_transpose_shape). */
static struct gemm_shape transpose_shape(const struct search *s) {
  size_t rows, cols;
  clb_tune_transpose_shape(s->options, &rows, &cols);
  return (struct gemm_shape){rows, cols, 1, CLB_TUNE_OP_TRANSPOSE};
}

static void job_init(const struct search *s, struct gemm_shape shape, size_t crossover,
                     const struct clb_tune_point *point, struct clb_tune_job *job) {
  memset(job, 0, sizeof *job);
  job->op = shape.op;
  snprintf(job->device_id, sizeof job->device_id, "%s", s->device_id);
  job->precision = s->precision;
  job->m = shape.m;
  job->n = shape.n;
  job->k = shape.k;
  job->seed = s->options->seed;
  job->crossover = crossover;
  job->point = point;
}

/* Measures one configuration in a child process: *gflops 0 and `why` set
 * when it failed to build, run or verify. */
static int measure_in_child(const struct search *s, struct gemm_shape shape, size_t crossover,
                            const struct clb_tune_point *point, double *gflops, char *why,
                            size_t why_size, struct clb_error *err) {
  struct clb_tune_job job;
  struct clb_tune_child child;
  job_init(s, shape, crossover, point, &job);
  const double began = clb_now();
  int rc = clb_tune_child_start(&job, &child, err);
  if (rc != 0)
    return rc;
  clb_tune_child_finish(&child, CHILD_TIMEOUT_S, gflops, why, why_size);
  if (point && s->costs) {
    enum child_kind kind = shape.op == CLB_TUNE_OP_TRANSPOSE ? CHILD_TRANSPOSE
                           : shape.m == 1 || shape.n == 1    ? CHILD_GEMV
                                                             : CHILD_GEMM;
    s->costs->total_s[kind] += clb_now() - began;
    s->costs->count[kind]++;
  }
  return 0;
}

/* What one child of the final timing will take. Where every child compiles
 * (no kernel cache: Intel's runtime), what the walk's children of that kind
 * took on average, when more than `measured`, which timed CLBlast's
 * defaults: the finalists are sets like the walk's, and estimated by the
 * defaults' child the final timing ran 90 s past the time set aside. On
 * PoCL both find their kernels in the cache, and the walk's mean (0.8 s
 * against 0.3) would cut the final timing to one round for nothing. */
static double child_cost(const struct search *s, enum child_kind kind, double measured) {
  if (!s->costs || s->side_by_side > 0 || s->costs->count[kind] == 0)
    return measured;
  double mean = s->costs->total_s[kind] / (double)s->costs->count[kind];
  return mean > measured ? mean : measured;
}

static void result_set(struct clb_tune_kernel_result *r, const struct clb_tune_space *space,
                       const size_t *values) {
  r->param_count = space->count;
  for (size_t p = 0; p < space->count; p++) {
    r->param_names[p] = space->params[p].name;
    r->param_values[p] = values[p];
  }
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

/* One kernel's search: the walk's measure callback, its budget, its result. */
struct kernel_search {
  const struct search *s;
  const char *kernel;
  struct gemm_shape shape; /* what each configuration is timed on */
  size_t crossover;        /* forces the path that runs the kernel */
  double deadline;  /* clb_now() seconds: no configuration starts after it */
  struct clb_tune_kernel_result *r;
  struct finalists *finalists;
};

static int kernel_should_stop(void *context) {
  const struct kernel_search *k = context;
  return clb_now() >= k->deadline;
}

static void describe_step(char *buf, size_t size, const struct clb_tune_step *step) {
  if (step->radius == 0)
    snprintf(buf, size, "seed, %zu left", step->left);
  else
    snprintf(buf, size, "%zu parameter%s changed, %zu left", step->radius,
             step->radius == 1 ? "" : "s", step->left);
}

/* The walk's measure callback: times one configuration in a child process.
 * A configuration that fails to build, run or verify, or kills its process,
 * is skipped (score 0), not an error. */
static int measure_config(void *context, const struct clb_tune_point *point,
                          const struct clb_tune_step *step, double *score, struct clb_error *err) {
  struct kernel_search *k = context;
  const struct search *s = k->s;
  const struct clb_tune_space *space = point->space;
  const char *precision = clb_precision_name(s->precision);
  char text[512], where[96];
  clb_tune_space_format(text, sizeof text, space, point->values);
  describe_step(where, sizeof where, step);
  *score = 0.0;
  if (s->options->dry_run) {
    if (s->progress)
      fprintf(s->progress, "  %s %s %zu (%s): %s\n", precision, k->kernel, step->number, where,
              text);
    return 0;
  }
  const double began = clb_now();
  struct clb_tune_kernel_result *r = k->r;
  char why[512];
  int rc = measure_in_child(s, k->shape, k->crossover, point, score, why, sizeof why, err);
  if (rc != 0)
    return rc;
  /* The walk goes on from the best seed, so a seed timed in a slow phase of
   * the host sends it elsewhere: one seed read 54.8 GFLOP/s in one search
   * and 40.9 in the next, and that search walked from another and ended at
   * 60 GFLOP/s instead of 94. A slow phase only ever lowers a timing, so a
   * seed gets a second one (it is in the cache by now) and keeps the higher. */
  double again = 0.0, first = *score;
  if (step->radius == 0 && *score > 0.0) {
    rc = measure_in_child(s, k->shape, k->crossover, point, &again, why, sizeof why, err);
    if (rc != 0)
      return rc;
    if (again > *score)
      *score = again;
  }
  r->tried++;
  if (*score <= 0.0) {
    r->skipped++;
    if (s->progress)
      fprintf(s->progress, "  %s %s %zu (%s): skipped: %s\n    %s\n", precision, k->kernel,
              step->number, where, why, text);
    return 0;
  }
  int better = *score > r->tuned_gflops;
  if (better)
    r->tuned_gflops = *score;
  finalists_offer(k->finalists, point, *score);
  if (s->progress) {
    const double now = clb_now();
    char twice[64] = "";
    if (again > 0.0)
      snprintf(twice, sizeof twice, " (the better of %.2f and %.2f)", first, again);
    fprintf(s->progress, "  %s %s %zu (%s): %8.2f %s%s%s in %.1f s; at most %.0f s left\n    %s\n",
            precision, k->kernel, step->number, where, *score, clb_tune_unit(k->kernel), twice,
            better ? " (best)" : "", now - began, now < s->deadline ? s->deadline - now : 0.0,
            text);
  }
  return 0;
}

/* Compiles (and verifies) the next configurations side by side in child
 * processes, so that PoCL's kernel cache holds them when each is timed
 * alone. What fails here fails again, and is reported, when timed. */
static int compile_ahead(void *context, const struct clb_tune_point *points, size_t count,
                         struct clb_error *err) {
  const struct kernel_search *k = context;
  const struct search *s = k->s;
  if (s->options->dry_run)
    return 0;
  struct clb_tune_child children[16];
  struct clb_tune_job jobs[16];
  size_t started = 0;
  const double began = clb_now();
  int rc = 0;
  for (; started < count && started < 16; started++) {
    job_init(s, k->shape, k->crossover, &points[started], &jobs[started]);
    jobs[started].compile_only = 1;
    rc = clb_tune_child_start(&jobs[started], &children[started], err);
    if (rc != 0)
      break;
  }
  for (size_t i = 0; i < started; i++) {
    double unused;
    char why[512];
    clb_tune_child_finish(&children[i], CHILD_TIMEOUT_S, &unused, why, sizeof why);
  }
  if (s->progress && rc == 0)
    fprintf(s->progress, "  %s %s: compiled the next %zu side by side in %.1f s\n",
            clb_precision_name(s->precision), k->kernel, started, clb_now() - began);
  return rc;
}

/* The seeds of one kernel: what an untuned run uses first (the search must
 * beat it, not only CLBlast's GPU-minded defaults), then the known-good sets
 * of other devices. Returns how many. */
static size_t kernel_seeds(const struct search *s, const struct clb_tune_space *const *spaces,
                           size_t space_count, struct clb_tune_point *seeds, size_t max,
                           int *with_start_set) {
  size_t count = 0;
  const struct clb_tune_space *start_space =
      starting_values(s, spaces, space_count, seeds[0].values);
  *with_start_set = start_space != NULL;
  if (start_space) {
    seeds[0].space = start_space;
    count = 1;
  }
  int is_cpu = (s->cl->info->type & CL_DEVICE_TYPE_CPU) != 0;
  return count + clb_tune_seeds(spaces[0]->kernel, is_cpu, seeds + count, max - count);
}

/* Tunes one kernel until `deadline`: `spaces` are its parameter spaces,
 * each configuration is timed on `shape`, `crossover` forces the GEMM path
 * that runs it, r->default_gflops is already measured. */
static int tune_kernel(const struct search *s, const struct clb_tune_space *const *spaces,
                       size_t space_count, struct gemm_shape shape, size_t crossover,
                       double deadline, const struct clb_tune_limits *lim,
                       struct clb_tune_kernel_result *r, struct finalists *finalists,
                       struct clb_error *err) {
  int rc = 0;
  struct clb_tune_candidates list = {0};
  struct clb_tune_point seeds[32];
  int with_start_set = 0;
  size_t seed_count = kernel_seeds(s, spaces, space_count, seeds, 32, &with_start_set);
  const char *kernel = spaces[0]->kernel;
  const char *precision = clb_precision_name(s->precision);
  const double started = clb_now();
  size_t most = s->options->max_configs > 0 ? s->options->max_configs - 1 : 0;
  CLB_TRY(clb_tune_candidates_list(spaces, space_count, lim, &list, err));
  r->legal = list.count;
  /* A seed this shape or device rules out moves to its nearest legal configuration. */
  for (size_t i = 0; i < seed_count; i++) {
    size_t nearest[CLB_TUNE_MAX_PARAMS];
    size_t differ = clb_tune_nearest(spaces, &list, seeds[i].space, seeds[i].values, nearest);
    if (differ > 0 && differ != SIZE_MAX)
      memcpy(seeds[i].values, nearest, seeds[i].space->count * sizeof *nearest);
  }
  r->tried = s->options->dry_run ? 0 : 1;
  r->tuned_gflops = r->default_gflops;
  r->use_defaults = 1;
  if (s->progress)
    fprintf(s->progress,
            "%s %s on %s: %zu legal configurations; %sthe known-good sets of other devices, "
            "then one or two parameters at a time from the best, cheapest compile first "
            "(at most %zu, %.0f s)\n",
            precision, kernel, s->device, list.count,
            with_start_set ? "clbatch's CPU starting set first, " : "", most,
            deadline > started ? deadline - started : 0.0);
  struct kernel_search k = {s, kernel, shape, crossover, deadline, r, finalists};
  const struct clb_tune_walk_callbacks callbacks = {measure_config, kernel_should_stop,
                                                    compile_ahead, s->side_by_side, &k};
  struct clb_tune_walk_result walk;
  memset(&walk, 0, sizeof walk);
  CLB_TRY(clb_tune_walk(spaces, space_count, lim, seeds, seed_count, most, TUNE_MIN_GAIN,
                        &callbacks, &walk, err));
  if (s->progress && !s->options->dry_run)
    fprintf(s->progress, "  %s %s: %zu configurations in %.0f s, %zu step%s forward; %s\n",
            precision, kernel, walk.measured, clb_now() - started, walk.improvements,
            walk.improvements == 1 ? "" : "s",
            walk.converged ? "no neighbour of the best is better"
                           : "stopped by the budget or --max-configs");
cleanup:
  clb_tune_candidates_destroy(&list);
  return rc;
}

/* CLBlast's own choice of path, then each path forced, all on CLBlast's
 * default GEMM parameters. A device whose defaults fail cannot be tuned. */
static int measure_defaults(const struct search *s, struct clb_tune_report *out,
                            struct clb_error *err) {
  int rc = 0;
  struct clb_tune_kernel_result *indirect = &out->kernels[AT_XGEMM],
                                *direct = &out->kernels[AT_DIRECT],
                                *routine = &out->kernels[AT_ROUTINE];
  const size_t crossovers[3] = {CLB_TUNE_CROSSOVER_CLBLAST, CLB_TUNE_FORCE_INDIRECT,
                                CLB_TUNE_FORCE_DIRECT};
  double *results[3] = {&routine->default_gflops, &indirect->default_gflops,
                        &direct->default_gflops};
  const char *paths[3] = {"as CLBlast chooses", "indirect (Xgemm)", "direct (XgemmDirect)"};
  for (int i = 0; i < 3; i++) {
    char why[512];
    CLB_TRY(measure_in_child(s, representative(s), crossovers[i], NULL, results[i], why, sizeof why,
                             err));
    if (*results[i] <= 0.0) {
      rc = clb_failf(err, CLB_E_CHILD, "the GEMM on CLBlast's own parameters, %s, failed on %s: %s",
                     paths[i], s->device, why);
      goto cleanup;
    }
  }
  for (int rotated = 1; rotated >= 0; rotated--) {
    struct clb_tune_kernel_result *r = &out->kernels[rotated ? AT_GEMV_ROT : AT_GEMV];
    char why[512];
    CLB_TRY(measure_in_child(s, gemv_shape(s, rotated, s->options->gemv_rows),
                             CLB_TUNE_CROSSOVER_CLBLAST, NULL, &r->default_gflops, why, sizeof why,
                             err));
    if (r->default_gflops <= 0.0) {
      rc = clb_failf(err, CLB_E_CHILD, "the GEMV on CLBlast's own parameters (%s) failed on %s: %s",
                     r->kernel, s->device, why);
      goto cleanup;
    }
  }
  struct clb_tune_kernel_result *transpose = &out->kernels[AT_TRANSPOSE];
  const struct gemm_shape tshape = transpose_shape(s);
  char why[512];
  CLB_TRY(measure_in_child(s, tshape, CLB_TUNE_CROSSOVER_CLBLAST, NULL, &transpose->default_gflops,
                           why, sizeof why, err));
  /* The GEMMs above ran (so did any transpose they need), so a failed
   * omatcopy costs only the transpose's search: CLBlast's defaults stay. */
  if (transpose->default_gflops <= 0.0 && s->progress)
    fprintf(s->progress,
            "%s on %s: the transpose on CLBlast's own parameters failed (%s); Padtranspose "
            "is not searched and stays on them\n",
            clb_precision_name(s->precision), s->device, why);
  if (s->progress)
    fprintf(s->progress,
            "%s on %s, m=%zu n=%zu k=%zu, CLBlast's defaults: %.2f GFLOP/s as chosen, "
            "%.2f indirect (Xgemm), %.2f direct (XgemmDirect); GEMV %zu x %zu: %.2f y = X w "
            "(XgemvFastRot), %.2f y = X^T r (XgemvFast); transpose of %zu x %zu: %.2f GB/s "
            "(Padtranspose)\n",
            clb_precision_name(s->precision), s->device, s->options->m, s->options->n,
            s->options->k, routine->default_gflops, indirect->default_gflops,
            direct->default_gflops, s->options->gemv_rows, s->options->k,
            out->kernels[AT_GEMV_ROT].default_gflops, out->kernels[AT_GEMV].default_gflops,
            tshape.m, tshape.n, transpose->default_gflops);
cleanup:
  return rc;
}

/* One candidate of the final timing. */
/* The direct kernel runs every GEMM below the crossover, narrow ones
 * included (a classifier's B x C x D with C = 10): a finalist with wide
 * tiles that wins on the representative shape can pad those six-fold. So
 * XgemmDirect's finalists must also be no more than GUARD_SLACK slower than
 * CLBlast's defaults on these shapes (10 columns; 32 rows and the
 * representative's rows), or the defaults stay. */
#define GUARD_SHAPES 2
#define GUARD_SLACK 0.05

static void guard_shapes(const struct search *s, struct gemm_shape out[GUARD_SHAPES]) {
  out[0] = (struct gemm_shape){32, 10, s->options->k, CLB_TUNE_OP_GEMM};
  out[1] = (struct gemm_shape){s->options->m, 10, s->options->k, CLB_TUNE_OP_GEMM};
}

/* One configuration of a side-by-side timing: on the path `crossover`
 * forces, `point` (NULL: CLBlast's defaults); `skip` leaves it out of this
 * shape's timing (its summary is then of zeros). */
struct side_by_side_entry {
  size_t crossover;
  const struct clb_tune_point *point;
  int skip;
};

#define SIDE_BY_SIDE_MAX (3 + 2 * FINALISTS)

/* As many rounds of the final timing as fit `allowance_s`, at least one (a
 * short budget on a runtime that compiles each time) and at most
 * CONFIRM_ROUNDS. */
static int confirm_rounds(double per_round_s, double allowance_s) {
  if (!(per_round_s > 0.0))
    return CONFIRM_ROUNDS;
  double fit = floor(allowance_s / per_round_s);
  return fit >= CONFIRM_ROUNDS ? CONFIRM_ROUNDS : fit >= 1.0 ? (int)fit : 1;
}

/* Times `count` (at most SIDE_BY_SIDE_MAX) entries on `shape` in child
 * processes, `rounds` times in turn with the order reversed every other
 * round, so a drifting host weighs on all alike; out[i] summarises entry
 * i's rounds (a failed run counts 0 GFLOP/s). */
static int time_side_by_side(const struct search *s, struct gemm_shape shape,
                             const struct side_by_side_entry *entries, size_t count, int rounds,
                             struct clb_summary *out, struct clb_error *err) {
  double runs[SIDE_BY_SIDE_MAX][CONFIRM_ROUNDS];
  memset(runs, 0, sizeof runs);
  for (int round = 0; round < rounds; round++)
    for (size_t i = 0; i < count; i++) {
      size_t at = round % 2 ? count - 1 - i : i;
      if (entries[at].skip)
        continue;
      char why[512];
      int rc = measure_in_child(s, shape, entries[at].crossover, entries[at].point,
                                &runs[at][round], why, sizeof why, err);
      if (rc != 0)
        return rc;
    }
  for (size_t i = 0; i < count; i++)
    clb_stats_summarize(runs[i], (size_t)rounds, &out[i]);
  return 0;
}

struct contender {
  int kernel; /* 0 Xgemm, 1 XgemmDirect, -1 CLBlast's own choice of path */
  size_t crossover;
  const struct clb_tune_point *point; /* NULL: CLBlast's defaults */
  double median, low, high;           /* over the rounds (clb_stats_summarize) */
  double guard[GUARD_SHAPES];         /* XgemmDirect: medians on the guard shapes */
};

/* 1 when `c` is no more than GUARD_SLACK slower than `defaults` on every guard shape. */
static int passes_guard(const struct contender *c, const struct contender *defaults) {
  for (int g = 0; g < GUARD_SHAPES; g++)
    if (!(c->guard[g] >= (1.0 - GUARD_SLACK) * defaults->guard[g]))
      return 0;
  return 1;
}

static void report_contender(const struct search *s, const struct contender *c,
                             const struct gemm_shape guards[GUARD_SHAPES]) {
  static const char *const names[] = {"Xgemm", "XgemmDirect"};
  char text[512] = "CLBlast's defaults";
  if (c->point)
    clb_tune_space_format(text, sizeof text, c->point->space, c->point->values);
  char guard[160] = "";
  if (c->kernel == 1)
    snprintf(guard, sizeof guard, "; %zux%zux%zu: %.2f, %zux%zux%zu: %.2f", guards[0].m,
             guards[0].n, guards[0].k, c->guard[0], guards[1].m, guards[1].n, guards[1].k,
             c->guard[1]);
  fprintf(s->progress, "  %-11s %8.2f GFLOP/s (%.2f-%.2f%s)  %s%s\n",
          c->kernel < 0 ? "as chosen" : names[c->kernel], c->median, c->low, c->high, guard, text,
          c->kernel < 0 ? ", CLBlast's own choice of path" : "");
}

/* Times CLBlast's defaults and each kernel's finalists again, CONFIRM_ROUNDS
 * times in turn (the order reversed every other round), and keeps per
 * kernel the best median: the choice and the speed-ups then come from
 * timings taken side by side, not from one timing each, minutes apart. */
static int confirm_finalists(const struct search *s, const struct finalists *finalists,
                             struct clb_tune_report *out, struct clb_error *err) {
  /* Nothing measured beyond the defaults (a budget spent before the first
   * configuration): the defaults' first timing stands. */
  if (finalists[0].count == 0 && finalists[1].count == 0)
    return 0;
  struct contender list[SIDE_BY_SIDE_MAX];
  size_t count = 0, defaults_at[2];
  const size_t forced[2] = {CLB_TUNE_FORCE_INDIRECT, CLB_TUNE_FORCE_DIRECT};
  list[count++] = (struct contender){-1, CLB_TUNE_CROSSOVER_CLBLAST, NULL, 0, 0, 0, {0}};
  for (int kernel = 0; kernel < 2; kernel++) {
    defaults_at[kernel] = count;
    list[count++] = (struct contender){kernel, forced[kernel], NULL, 0, 0, 0, {0}};
    for (size_t i = 0; i < finalists[kernel].count; i++)
      list[count++] = (struct contender){
          kernel, forced[kernel], &finalists[kernel].items[i].point, 0, 0, 0, {0}};
  }

  struct gemm_shape guards[GUARD_SHAPES];
  guard_shapes(s, guards);
  size_t direct_count = 1 + finalists[1].count;
  double per_round =
      (double)(count + GUARD_SHAPES * direct_count) * child_cost(s, CHILD_GEMM, s->child_s);
  int rounds = confirm_rounds(per_round, s->final_gemm_s);
  if (s->progress)
    fprintf(s->progress,
            "%s on %s: timing CLBlast's defaults and the best %d of each kernel again, %d "
            "time%s side by side (XgemmDirect also on two narrow shapes, where it must not lose "
            "more than 5 %% to its defaults; about %.1f s a child, %.0f s set aside)\n",
            clb_precision_name(s->precision), s->device, FINALISTS, rounds, rounds == 1 ? "" : "s",
            child_cost(s, CHILD_GEMM, s->child_s), s->final_gemm_s);
  for (int shape = -1; shape < GUARD_SHAPES; shape++) {
    struct side_by_side_entry entries[SIDE_BY_SIDE_MAX];
    struct clb_summary summaries[SIDE_BY_SIDE_MAX];
    for (size_t i = 0; i < count; i++) /* the guard shapes are XgemmDirect's alone */
      entries[i] = (struct side_by_side_entry){list[i].crossover, list[i].point,
                                               shape >= 0 && list[i].kernel != 1};
    int rc = time_side_by_side(s, shape < 0 ? representative(s) : guards[shape], entries, count,
                               rounds, summaries, err);
    if (rc != 0)
      return rc;
    for (size_t i = 0; i < count; i++) {
      if (shape < 0) {
        list[i].median = summaries[i].median;
        list[i].low = summaries[i].min;
        list[i].high = summaries[i].max;
      } else {
        list[i].guard[shape] = summaries[i].median;
      }
    }
  }
  for (size_t i = 0; i < count; i++)
    if (s->progress)
      report_contender(s, &list[i], guards);
  out->kernels[AT_ROUTINE].default_gflops = list[0].median;
  for (int kernel = 0; kernel < 2; kernel++) {
    struct clb_tune_kernel_result *r = &out->kernels[kernel];
    const struct contender *best = NULL, *defaults = &list[defaults_at[kernel]];
    r->default_gflops = defaults->median;
    for (size_t i = 1; i < count; i++) {
      if (list[i].kernel != kernel || !list[i].point ||
          (kernel == 1 && !passes_guard(&list[i], defaults)))
        continue;
      if (!best || list[i].median > best->median)
        best = &list[i];
    }
    r->use_defaults = !best || best->median <= r->default_gflops;
    r->tuned_gflops = r->use_defaults ? r->default_gflops : best->median;
    r->param_count = 0;
    if (!r->use_defaults)
      result_set(r, best->point->space, best->point->values);
  }
  return 0;
}

/* The batch rows a GEMV shape (gemv_shape) or a transpose shape stands for. */
static size_t shape_rows(struct gemm_shape shape) {
  if (shape.op == CLB_TUNE_OP_TRANSPOSE)
    return shape.m;
  return shape.n == 1 ? shape.m : shape.k;
}

/* A GEMV kernel's or the transpose's finalists and CLBlast's defaults,
 * timed again side by side like the GEMM's, on shapes[0]; a GEMV's also on
 * shapes[1], a matrix of the representative GEMM's m rows (a smaller
 * batch). A set with more rows per work-group that wins on gemv_rows can
 * push a smaller batch off the fast kernel (CLBlast then runs its generic
 * Xgemv), so on the smaller matrix a finalist must not lose more than
 * GUARD_SLACK to the defaults. */
static int confirm_single(const struct search *s, const struct gemm_shape *shapes, int shape_count,
                          double child_s, double allowance_s, const struct finalists *f,
                          struct clb_tune_kernel_result *r, struct clb_error *err) {
  if (f->count == 0)
    return 0;
  const size_t count = 1 + f->count; /* the defaults first */
  double per_round = (double)shape_count * (double)count * child_s;
  int rounds = confirm_rounds(per_round, allowance_s);
  double medians[2][1 + FINALISTS];
  memset(medians, 0, sizeof medians);
  for (int shape = 0; shape < shape_count; shape++) {
    /* The smaller matrix only for the defaults and the finalists that beat them. */
    struct side_by_side_entry entries[1 + FINALISTS] = {{0, NULL, 0}};
    struct clb_summary summaries[1 + FINALISTS];
    size_t beating = 0;
    for (size_t i = 0; i < count; i++) {
      int beats = i > 0 && medians[0][i] > medians[0][0];
      beating += (size_t)beats;
      entries[i] =
          (struct side_by_side_entry){CLB_TUNE_CROSSOVER_CLBLAST, i ? &f->items[i - 1].point : NULL,
                                      shape == 1 && i > 0 && !beats};
    }
    if (shape == 1 && beating == 0)
      break;
    int rc = time_side_by_side(s, shapes[shape], entries, count, rounds, summaries, err);
    if (rc != 0)
      return rc;
    for (size_t i = 0; i < count; i++)
      medians[shape][i] = summaries[i].median;
  }
  size_t best = 0;
  for (size_t i = 1; i < count; i++)
    if (medians[1][i] >= (1.0 - GUARD_SLACK) * medians[1][0] && medians[0][i] > medians[0][best])
      best = i;
  if (s->progress) {
    char where[128];
    if (shape_count > 1)
      snprintf(where, sizeof where, "on %zu rows and, where they beat the defaults, on %zu",
               shape_rows(shapes[0]), shape_rows(shapes[1]));
    else
      snprintf(where, sizeof where, "on %zu x %zu", shapes[0].m, shapes[0].n);
    fprintf(s->progress,
            "%s on %s: %s's defaults and best %zu timed again, %d time%s side by side, %s:\n",
            clb_precision_name(s->precision), s->device, r->kernel, f->count, rounds,
            rounds == 1 ? "" : "s", where);
    for (size_t i = 0; i < count; i++) {
      char text[256] = "CLBlast's defaults";
      if (i)
        clb_tune_space_format(text, sizeof text, f->items[i - 1].point.space,
                              f->items[i - 1].point.values);
      char guard[64] = "";
      if (medians[1][i] > 0.0)
        snprintf(guard, sizeof guard, ", %8.2f on %zu rows", medians[1][i], shape_rows(shapes[1]));
      fprintf(s->progress, "  %-12s %8.2f %s%s%s  %s\n", r->kernel, medians[0][i],
              clb_tune_unit(r->kernel), guard, i == best ? " (chosen)" : "", text);
    }
  }
  r->default_gflops = medians[0][0];
  r->use_defaults = best == 0;
  r->tuned_gflops = medians[0][best];
  r->param_count = 0;
  if (best)
    result_set(r, f->items[best - 1].point.space, f->items[best - 1].point.values);
  return 0;
}

/* The crossover of clbatch's CPU starting sets for this device, or 0 when it has none. */
static size_t starting_crossover(const struct search *s) {
  size_t count = 0;
  const struct clb_cpu_start_set *sets = clb_tune_start_sets(s->cl->info, s->precision, &count);
  for (size_t i = 0; i < count; i++)
    if (strcmp(sets[i].kernel, CLB_TUNE_ROUTINE_KERNEL) == 0)
      return sets[i].values[0];
  return 0;
}

/* The crossover goes where the representative shape takes the faster path.
 * That says nothing about smaller or larger GEMMs, so where clbatch's
 * starting sets hold a crossover measured over a run's shapes, it stays
 * unless it contradicts this measurement: Intel's CPU runtime runs the
 * indirect GEMM faster from 64^3 up, and a tuned 161 sent softmax's B = 256
 * and 1024 GEMMs to the direct kernel, 1.8-2.1x the step time. */
static void choose_crossover(const struct search *s, struct clb_tune_report *out) {
  const struct clb_tune_options *options = s->options;
  const struct clb_tune_kernel_result *indirect = &out->kernels[AT_XGEMM],
                                      *direct = &out->kernels[AT_DIRECT];
  struct clb_tune_kernel_result *routine = &out->kernels[AT_ROUTINE];
  unsigned long long mnk =
      (unsigned long long)options->m * options->n * (unsigned long long)options->k;
  size_t root = clb_tune_cube_root_floor(mnk);
  int direct_wins = direct->tuned_gflops >= indirect->tuned_gflops;
  size_t crossover = direct_wins ? root + 1 : root;
  size_t start = starting_crossover(s);
  if (start && (direct_wins ? start > crossover : start < crossover))
    crossover = start;
  routine->legal = routine->tried = 1;
  routine->tuned_gflops = direct_wins ? direct->tuned_gflops : indirect->tuned_gflops;
  routine->param_count = 1;
  routine->param_names[0] = CLB_TUNE_ROUTINE_PARAM;
  routine->param_values[0] = crossover;
  if (s->progress)
    fprintf(s->progress, "%s on %s: the %s path is faster for this shape; %s = %zu%s\n",
            clb_precision_name(s->precision), s->device, direct_wins ? "direct" : "indirect",
            CLB_TUNE_ROUTINE_PARAM, crossover,
            crossover == start ? " (clbatch's starting value, which agrees)" : "");
}

/* The runs' GEMMs are timed on each path this many times (tune_crossover.h). */
#define CROSSOVER_ROUNDS 2
/* What timing one GEMM in a crossover child takes at most: 0.2 s of runs
 * after a verifying run. */
#define CROSSOVER_GEMM_S 0.3

/* After the kernels are chosen and stored (the crossover's child applies
 * tuned.conf as a run does): the crossover goes where the runs' own GEMMs
 * take their faster path. A failed timing keeps the representative GEMM's
 * crossover. */
static void place_crossover(const struct search *s, struct clb_tune_report *out) {
  const struct clb_tune_options *options = s->options;
  const struct clb_tune_gemm *gemms = options->crossover_gemms;
  const size_t count = options->crossover_gemm_count;
  double direct_s[CLB_TUNE_MAX_CROSSOVER_GEMMS], indirect_s[CLB_TUNE_MAX_CROSSOVER_GEMMS];
  struct clb_tune_kernel_result *routine = &out->kernels[AT_ROUTINE];
  const size_t by_representative = routine->param_values[0];
  size_t crossover = by_representative;
  struct clb_error err = {0};
  if (clb_tune_crossover_measure(s->device_id, s->precision, options->seed, gemms, count,
                                 CROSSOVER_ROUNDS, direct_s, indirect_s, &err) != 0 ||
      !clb_tune_crossover_choose(gemms, direct_s, indirect_s, count, &crossover)) {
    if (s->progress)
      fprintf(s->progress, "%s on %s: %s; %s stays %zu, placed by the representative GEMM\n",
              clb_precision_name(s->precision), s->device,
              err.code ? err.message : "no GEMM of the runs ran on either path",
              CLB_TUNE_ROUTINE_PARAM, by_representative);
    return;
  }
  size_t direct = 0;
  for (size_t i = 0; i < count; i++) {
    int takes_direct = clb_tune_takes_direct(&gemms[i], crossover);
    direct += takes_direct;
    if (s->progress) {
      char name[64];
      clb_tune_gemm_format(&gemms[i], name, sizeof name);
      fprintf(s->progress, "  %-22s direct %9.1f us  indirect %9.1f us  -> %s\n", name,
              direct_s[i] * 1e6, indirect_s[i] * 1e6, takes_direct ? "direct" : "indirect");
    }
  }
  const double cost = clb_tune_crossover_cost(gemms, direct_s, indirect_s, count, crossover),
               cost_before =
                   clb_tune_crossover_cost(gemms, direct_s, indirect_s, count, by_representative);
  routine->param_values[0] = crossover;
  routine->unit = CLB_TUNE_BEST_UNIT;
  routine->default_gflops = 100.0 / cost_before;
  routine->tuned_gflops = 100.0 / cost;
  snprintf(out->crossover_note, sizeof out->crossover_note,
           "placed over %zu GEMMs of the runs'\n"
           "# models, each timed on both paths with the tuned kernels: %zu go direct, %zu "
           "indirect,\n# at %.3fx their faster path's time on average (%zu, placed by the "
           "representative GEMM\n# alone: %.3fx).",
           count, direct, count - direct, cost, by_representative, cost_before);
  if (s->progress)
    fprintf(s->progress,
            "%s on %s: over the runs' %zu GEMMs %s = %zu sends %zu direct and %zu indirect, at "
            "%.3fx their faster path's time (%zu, by the representative GEMM: %.3fx)\n",
            clb_precision_name(s->precision), s->device, count, CLB_TUNE_ROUTINE_PARAM, crossover,
            direct, count - direct, cost, by_representative, cost_before);
}

/* The side-by-side timing at the end runs at most this many child processes
 * for the GEMM, and this many for the two GEMV kernels. */
#define FINAL_CHILDREN                                                                             \
  (CONFIRM_ROUNDS * (3 + 2 * FINALISTS) + CONFIRM_ROUNDS * GUARD_SHAPES * (1 + FINALISTS))
#define FINAL_GEMV_CHILDREN (CONFIRM_ROUNDS * 2 * 2 * (1 + FINALISTS))
#define FINAL_TRANSPOSE_CHILDREN (CONFIRM_ROUNDS * (1 + FINALISTS))

/* Moves the search's deadline forward by what the final timing will take:
 * FINAL_CHILDREN times one more child timing CLBlast's defaults, which PoCL
 * now finds in its cache and other runtimes compile again, as they will in
 * the final timing. On Intel's CPU runtime those children took about 150 s,
 * and the whole tune overran its budget by that much. At most FINAL_SHARE
 * of the budget is set aside. */
static int reserve_final_timing(struct search *s, struct clb_error *err) {
  double gflops = 0.0;
  char why[512];
  const double began = clb_now();
  int rc = measure_in_child(s, representative(s), CLB_TUNE_CROSSOVER_CLBLAST, NULL, &gflops, why,
                            sizeof why, err);
  if (rc != 0)
    return rc;
  s->child_s = clb_now() - began;
  const double gemv_began = clb_now();
  rc = measure_in_child(s, gemv_shape(s, 1, s->options->gemv_rows), CLB_TUNE_CROSSOVER_CLBLAST,
                        NULL, &gflops, why, sizeof why, err);
  if (rc != 0)
    return rc;
  s->gemv_child_s = clb_now() - gemv_began;
  const double transpose_began = clb_now();
  rc = measure_in_child(s, transpose_shape(s), CLB_TUNE_CROSSOVER_CLBLAST, NULL, &gflops, why,
                        sizeof why, err);
  if (rc != 0)
    return rc;
  s->transpose_child_s = clb_now() - transpose_began;
  s->final_gemm_s = FINAL_CHILDREN * s->child_s;
  s->final_gemv_s = FINAL_GEMV_CHILDREN * s->gemv_child_s;
  s->final_transpose_s = FINAL_TRANSPOSE_CHILDREN * s->transpose_child_s;
  double reserve = s->final_gemm_s + s->final_gemv_s + s->final_transpose_s;
  /* Beyond the cap each part gets its share of it, and a part that does not
   * fit its share runs fewer rounds (confirm_rounds): with a cap each (60 %
   * of the budget in all) the parts overran the budget by two minutes on
   * Intel's runtime, which compiles in every child. */
  if (reserve > FINAL_SHARE * s->options->budget_s) {
    double scale = FINAL_SHARE * s->options->budget_s / reserve;
    s->final_gemm_s *= scale;
    s->final_gemv_s *= scale;
    s->final_transpose_s *= scale;
    reserve = FINAL_SHARE * s->options->budget_s;
  }
  s->final_gemv_s /= 2.0; /* two GEMV kernels */
  /* The crossover's child starts like one above and builds both paths'
   * programs, then times every GEMM on each path CROSSOVER_ROUNDS times. */
  if (s->options->crossover_gemm_count > 0)
    reserve += 2.0 * s->child_s +
               2.0 * CROSSOVER_ROUNDS * CROSSOVER_GEMM_S * (double)s->options->crossover_gemm_count;
  s->deadline -= reserve;
  if (s->progress)
    fprintf(s->progress,
            "%s on %s: %.0f s of the budget kept for timing the finalists again at the end\n",
            clb_precision_name(s->precision), s->device, reserve);
  return 0;
}

/* PoCL keeps compiled kernels in a cache on disk, so a configuration
 * compiled in one process is found there by the next: compiles of the next
 * few configurations can run side by side, one per core, ahead of timing.
 * Other runtimes keep no such cache (or none this code knows of). */
static size_t side_by_side(const struct clb_device_info *dev) {
  const char *cache = getenv("POCL_KERNEL_CACHE");
  if (!strstr(dev->platform_name, "Portable Computing Language") ||
      (cache && strcmp(cache, "0") == 0))
    return 0;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 1 ? (size_t)(cores < 16 ? cores : 16) : 0;
}

int clb_tune_search(const struct clb_cl *cl, enum clb_precision precision,
                    const struct clb_tune_options *options, FILE *progress,
                    struct clb_tune_report *report, struct clb_error *err) {
  int rc = 0;
  struct clb_tune_report local = {0};
  struct clb_tune_report *out = report ? report : &local;
  const struct clb_device_info *dev = cl->info;
  struct child_costs costs = {{0}, {0}};
  struct search s = {.cl = cl,
                     .costs = &costs,
                     .device = dev->name,
                     .precision = precision,
                     .options = options,
                     .progress = progress,
                     .deadline = clb_now() + options->budget_s,
                     .side_by_side = side_by_side(dev)};
  clb_device_id_string(dev, s.device_id, sizeof s.device_id);
  memset(out, 0, sizeof *out);
  for (int kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++)
    out->kernels[kernel].kernel = clb_tune_kernel_names[kernel];
  if (options->m == 0 || options->n == 0 || options->k == 0 || options->gemv_rows == 0 ||
      options->max_configs == 0 || !(options->budget_s > 0.0))
    return clb_failf(err, CLB_E_INVAL,
                     "tuning needs m, n, k, gemv_rows and max_configs of at "
                     "least 1 and a positive budget");
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
  static const struct clb_tune_space *const gemv_rot_spaces[] = {&clb_tune_xgemv_fast_rot};
  static const struct clb_tune_space *const gemv_spaces[] = {&clb_tune_xgemv_fast};
  static const struct clb_tune_space *const transpose_spaces[] = {&clb_tune_padtranspose};
  struct clb_tune_limits gemv_lim = lim;
  gemv_lim.gemv_rows = options->gemv_rows;
  gemv_lim.gemv_cols = options->k;
  const struct gemm_shape tshape = transpose_shape(&s);
  struct clb_tune_limits transpose_lim = lim;
  transpose_lim.transpose_rows = tshape.m;
  transpose_lim.transpose_cols = tshape.n;

  if (!options->dry_run) {
    CLB_TRY(measure_defaults(&s, out, err));
    /* With one configuration per kernel (the defaults) no finalist is timed again. */
    if (options->max_configs > 1)
      CLB_TRY(reserve_final_timing(&s, err));
  }
  /* The GEMV kernels first, within GEMV_SHARE of what is left, and the
   * transpose within TRANSPOSE_SHARE; then Xgemm up to half of the rest,
   * XgemmDirect the remainder (more when a walk ends early). */
  const double now = clb_now(), left = s.deadline > now ? s.deadline - now : 0.0;
  struct finalists finalists[5];
  memset(finalists, 0, sizeof finalists);
  CLB_TRY(tune_kernel(&s, gemv_rot_spaces, 1, gemv_shape(&s, 1, options->gemv_rows),
                      CLB_TUNE_CROSSOVER_CLBLAST, now + GEMV_ROT_PART * GEMV_SHARE * left,
                      &gemv_lim, &out->kernels[AT_GEMV_ROT], &finalists[2], err));
  CLB_TRY(tune_kernel(&s, gemv_spaces, 1, gemv_shape(&s, 0, options->gemv_rows),
                      CLB_TUNE_CROSSOVER_CLBLAST, now + GEMV_SHARE * left, &gemv_lim,
                      &out->kernels[AT_GEMV], &finalists[3], err));
  struct clb_tune_kernel_result *transpose = &out->kernels[AT_TRANSPOSE];
  if (options->dry_run || transpose->default_gflops > 0.0)
    CLB_TRY(tune_kernel(&s, transpose_spaces, 1, tshape, CLB_TUNE_CROSSOVER_CLBLAST,
                        clb_now() + TRANSPOSE_SHARE * left, &transpose_lim, transpose,
                        &finalists[4], err));
  else
    transpose->use_defaults = 1; /* tried = 0: not searched */
  const double halfway = clb_now() + 0.5 * (s.deadline - clb_now());
  CLB_TRY(tune_kernel(&s, xgemm_spaces, 2, representative(&s), CLB_TUNE_FORCE_INDIRECT, halfway,
                      &lim, &out->kernels[AT_XGEMM], &finalists[0], err));
  CLB_TRY(tune_kernel(&s, direct_spaces, 1, representative(&s), CLB_TUNE_FORCE_DIRECT, s.deadline,
                      &lim, &out->kernels[AT_DIRECT], &finalists[1], err));
  if (options->dry_run)
    goto cleanup;
  CLB_TRY(confirm_finalists(&s, finalists, out, err));
  choose_crossover(&s, out);
  for (int rotated = 1; rotated >= 0; rotated--) {
    const struct gemm_shape shapes[2] = {gemv_shape(&s, rotated, options->gemv_rows),
                                         gemv_shape(&s, rotated, options->m)};
    CLB_TRY(confirm_single(&s, shapes, 2, child_cost(&s, CHILD_GEMV, s.gemv_child_s),
                           s.final_gemv_s, &finalists[rotated ? 2 : 3],
                           &out->kernels[rotated ? AT_GEMV_ROT : AT_GEMV], err));
  }
  CLB_TRY(confirm_single(&s, &tshape, 1, child_cost(&s, CHILD_TRANSPOSE, s.transpose_child_s),
                         s.final_transpose_s, &finalists[4], &out->kernels[AT_TRANSPOSE], err));

  clb_tune_path(out->path, sizeof out->path);
  if (options->crossover_gemm_count > 0) {
    CLB_TRY(clb_tune_store_save(out->path, dev, precision, out, options, err));
    place_crossover(&s, out);
  }

  /* Leave CLBlast on the best found (where it was not CLBlast's own default). */
  for (int kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++) {
    const struct clb_tune_kernel_result *r = &out->kernels[kernel];
    if (!r->use_defaults && r->param_count > 0)
      CLB_TRY(clb_blas_override(dev->device, dev->name, precision, r->kernel, r->param_count,
                                r->param_names, r->param_values, err));
  }
  CLB_TRY(clb_tune_store_save(out->path, dev, precision, out, options, err));
cleanup:
  return rc;
}
