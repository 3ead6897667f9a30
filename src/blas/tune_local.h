/* The tuner's search: known-good starting points first, then a local search
 * that changes one parameter at a time, cheapest compile first, and two when
 * no single change helps (those whose halves gained most alone first),
 * until no change helps or the caller says stop.
 *
 * A random sample of CLBlast's spaces (tens of thousands of configurations)
 * finds little in the few dozen configurations a CPU runtime can compile in
 * minutes; good configurations sit next to good ones, so walking from the
 * best known set finds more per compile. Pure: the caller measures, through
 * a callback, and decides when the budget is spent. */
#ifndef CLB_BLAS_TUNE_LOCAL_H
#define CLB_BLAS_TUNE_LOCAL_H

#include <stddef.h>

#include "blas/tune.h"
#include "blas/tune_space.h"
#include "util/errors.h"

/* One configuration of one of a kernel's spaces. */
struct clb_tune_point {
  const struct clb_tune_space *space;
  size_t values[CLB_TUNE_MAX_PARAMS];
};

/* What the search tells the caller about the configuration it measures next. */
struct clb_tune_step {
  const char *phase; /* "seed" or "walk" */
  size_t number;     /* 1, 2, ... over the whole search */
  size_t radius;     /* parameters changed from the current best (0 for a seed) */
  size_t left;       /* candidates left in this seed list or neighbourhood, this one included */
  double best_score; /* the best so far (0 before any) */
};

struct clb_tune_walk_callbacks {
  /* Measures one configuration: *score > 0 (higher is better), or 0 when it
   * failed to build, run or verify (skipped, not an error). A non-zero return
   * is an error that ends the search. */
  int (*measure)(void *context, const struct clb_tune_point *point,
                 const struct clb_tune_step *step, double *score, struct clb_error *err);
  /* 1 when no further configuration may start (budget spent). */
  int (*should_stop)(void *context);
  /* Optional (NULL): called with up to `prepare_batch` candidates before the
   * first of them is measured, to compile them side by side. Candidates a
   * step forward makes moot may be prepared and never measured. */
  int (*prepare)(void *context, const struct clb_tune_point *points, size_t count,
                 struct clb_error *err);
  size_t prepare_batch;
  void *context;
};

struct clb_tune_walk_result {
  struct clb_tune_point best; /* valid when best_score > 0 */
  double best_score;
  size_t measured;     /* configurations measured (skipped ones included) */
  size_t improvements; /* walk steps that moved the current best */
  int converged;       /* 1: no neighbour within radius 2 was better */
};

/* A rough relative compile cost: PoCL's compile time grows with the work
 * one work-item unrolls (its register tile times the unrolled k loop). */
double clb_tune_compile_cost(const struct clb_tune_point *point);

/* Searches `spaces` (one kernel's) from `seeds`, measured in the order given
 * (points outside every space or illegal under `lim` are left out;
 * duplicates are measured once), then walks from the best. A
 * neighbour replaces the current best only when it scores more than
 * `min_gain` (e.g. 0.02: 2 %) better, so timing noise does not steer the
 * walk. At most `max_measured` configurations are measured. */
int clb_tune_walk(const struct clb_tune_space *const *spaces, size_t space_count,
                  const struct clb_tune_limits *lim, const struct clb_tune_point *seeds,
                  size_t seed_count, size_t max_measured, double min_gain,
                  const struct clb_tune_walk_callbacks *callbacks,
                  struct clb_tune_walk_result *result, struct clb_error *err);

#endif
