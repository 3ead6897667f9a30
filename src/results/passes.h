/* The rows of `clbatch run --passes P`: each configuration is measured by P
 * worker processes in turn (passes), and its row combines their medians.
 * One process's interval says how precisely it measured its own median; a
 * new process (another memory layout, thread placement, JIT, or a slow
 * phase of a shared machine) lands elsewhere by more than that. The
 * combined row's step time is the mean of the passes' medians and its
 * interval the Student t interval of that mean, so the spread between
 * processes is inside the interval rather than outside it.
 *
 * Each pass's rows are written as they finish to RUN.passes.csv (same
 * columns; `passes` = 1); the combined rows go to RUN.csv. */
#ifndef CLB_RESULTS_PASSES_H
#define CLB_RESULTS_PASSES_H

#include <stddef.h>

#include "results/results.h"
#include "util/errors.h"

/* The most passes a configuration may have: --passes (at most 64) and as
 * many again after a host speed change. */
#define CLB_PASSES_MAX 128

/* How a run's passes become rows. */
struct clb_passes_rule {
  double target_ci; /* a combined row is stable within +-this (--passes-ci) */
  /* Passes of one device whose host speeds lie further apart than this did
   * not run on the same host (--drift-limit; 0: every pass is kept). On the
   * development VM passes in a quiet phase lie within 4 % of each other,
   * and a slow phase of the VM makes a pass 18-36 % slower across every
   * configuration. */
  double drift_limit;
};

/* Which passes of one device its rows combine. A pass's speed is how its
 * step times compare with the device's other passes: the median over the
 * device's configurations of (that pass's median / the configuration's
 * median over passes), so 1.3 means the whole pass ran 30 % slower. The
 * rows keep the largest group of passes whose speeds lie within the drift
 * limit of each other (of two as large, the faster), and all passes when no
 * group has two or the limit is 0. */
struct clb_pass_choice {
  size_t passes;                      /* passes measured on the device */
  double speed[CLB_PASSES_MAX];       /* NaN: the pass has no ok row */
  unsigned char keep[CLB_PASSES_MAX]; /* 1: the rows combine this pass */
  size_t kept;
  size_t agreeing;     /* passes in the largest group within the limit */
  int drift;           /* some speeds lie further apart than the limit */
  int faster_left_out; /* a pass faster than the kept ones was left out */
};

/* Whether a host_slowdown (results.h) is beyond the drift limit: the host
 * ran more than `drift_limit` slower than usual. Never for a limit of 0 or
 * an unknown (NaN) slowdown. */
int clb_passes_host_slow(double host_slowdown, double drift_limit);

/* How far, relative, a re-run on a host of this host_spread (results.h) may
 * land: its 95 % point, 1.96 x the spread; NaN for an unknown spread. */
double clb_passes_rerun_reach(double host_spread);

/* Whether a host of this host_spread alone puts a combined row's interval
 * beyond --passes-ci: its re-runs may land further away than that. Never for
 * an unknown (NaN) spread. */
int clb_passes_host_erratic(double host_spread, double passes_ci);

/* A row whose host_slowdown is beyond the limit: flagged unstable, its
 * message saying how much slower the host ran. Returns whether it was. */
int clb_passes_flag_slow_host(struct clb_row *row, double drift_limit);

/* The choice for passes of the given speeds (n <= CLB_PASSES_MAX) within
 * `limit` (0: keep all). */
void clb_passes_choose(const double *speed, size_t n, double limit, struct clb_pass_choice *choice);

/* RUN.csv -> RUN.passes.csv (any other name gets ".passes.csv" appended). */
void clb_passes_path(const char *results_path, char *buf, size_t size);

/* Whether a path names a passes file (report skips them among its inputs). */
int clb_passes_is_path(const char *path);

/* Combines one configuration's pass rows [0, n) (n >= 1, same configuration,
 * any status, in pass order) into *out, over the passes `choice` keeps (all
 * when it is NULL). With two or more ok passes: step_s_median is the mean
 * of their medians, step_s_ci_low/high its 95 % t interval, stable 1 when
 * that interval is within +-rule->target_ci of the mean, every kept pass
 * was ok, no faster pass was left out and the host was not slow (below);
 * the rates and % of peak follow the new step time; reps and rounds add
 * up; the spreads (p10, p90, cv, rmad) are the passes' medians;
 * step_s_min is the fastest step of all. One ok pass:
 * that pass's row, unstable, since it has no spread between processes. No
 * ok pass: the last row. `passes` is the number of passes combined; the
 * message names the passes left out (and how much slower or faster the
 * host ran them) and a failed pass among ok ones. host_slowdown is the
 * median of the kept ok passes'; beyond 1 + rule->drift_limit (when that is
 * not 0) the row is unstable and its message says how much slower the host
 * ran than usual. */
void clb_passes_combine(const struct clb_row *passes, size_t n,
                        const struct clb_pass_choice *choice, const struct clb_passes_rule *rule,
                        struct clb_row *out);

/* The choice for one device (`device_index` as in the rows) in `repeat`,
 * from RUN.passes.csv: choice->passes is 0 when the file has no row of it. */
int clb_passes_device_choice(const char *results_path, size_t repeat, const char *device_index,
                             const struct clb_passes_rule *rule, struct clb_pass_choice *choice,
                             struct clb_error *err);

/* The combined rows RUN.csv still lacks for `repeat`: reads RUN.passes.csv
 * and RUN.csv (a resumed run has some already), groups the pass rows of
 * `repeat` by configuration (clb_row_key) and combines each configuration
 * RUN.csv does not hold, in the order they were first measured, over the
 * passes its device's choice keeps. *rows is
 * malloc'd (the caller frees it); *n may be 0. */
int clb_passes_combined_rows(const char *results_path, size_t repeat,
                             const struct clb_passes_rule *rule, struct clb_row **rows, size_t *n,
                             struct clb_error *err);

#endif
