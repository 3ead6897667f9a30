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

/* RUN.csv -> RUN.passes.csv (any other name gets ".passes.csv" appended). */
void clb_passes_path(const char *results_path, char *buf, size_t size);

/* Whether a path names a passes file (report skips them among its inputs). */
int clb_passes_is_path(const char *path);

/* Combines one configuration's pass rows [0, n) (n >= 1, same configuration,
 * any status) into *out. With two or more ok passes: step_s_median is the
 * mean of their medians, step_s_ci_low/high its 95 % t interval, stable 1
 * when that interval is within +-target_ci of the mean and every pass was
 * ok; the rates and % of peak follow the new step time; reps and rounds add
 * up; the spreads (p10, p90, cv, rmad) are the passes' medians; step_s_min is
 * the fastest step of all. One ok pass: that pass's row, unstable, since it
 * has no spread between processes. No ok pass: the last row. `passes` is the
 * number of passes measured, and a failed pass among ok ones is named in the
 * message. */
void clb_passes_combine(const struct clb_row *passes, size_t n, double target_ci,
                        struct clb_row *out);

/* The combined rows RUN.csv still lacks for `repeat`: reads RUN.passes.csv
 * and RUN.csv (a resumed run has some already), groups the pass rows of
 * `repeat` by configuration (clb_row_key) and combines each configuration
 * RUN.csv does not hold, in the order they were first measured. *rows is
 * malloc'd (the caller frees it); *n may be 0. */
int clb_passes_combined_rows(const char *results_path, size_t repeat, double target_ci,
                             struct clb_row **rows, size_t *n, struct clb_error *err);

#endif
