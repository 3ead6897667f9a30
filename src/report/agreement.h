/* How far runs of the same configuration agree: the numbers behind the
 * report's "Agreement between runs". A configuration (host, platform,
 * device, model, precision, data placement, B) measured ok more than once,
 * by the repeats of `clbatch run --repeat R` or in several result files,
 * gets the spread of its median step times, whether each run's 95 %
 * interval covers the others' medians, and how many runs were unstable;
 * each device gets the totals. Pure: rows in, numbers out. */
#ifndef CLB_REPORT_AGREEMENT_H
#define CLB_REPORT_AGREEMENT_H

#include <stddef.h>

#include "report/merge.h"
#include "results/results.h"
#include "util/errors.h"

/* Two runs agree closely / loosely when slowest / fastest - 1 is at most this. */
#define CLB_REPORT_AGREE_CLOSE 0.05
#define CLB_REPORT_AGREE_LOOSE 0.10

struct clb_report_agreement_config {
  const struct clb_row *row; /* the first run (into merged.all): names the configuration */
  size_t runs;
  double median_step;       /* median of the runs' step_s_median */
  double spread;            /* slowest / fastest - 1 */
  size_t pairs;             /* runs (runs - 1) / 2 */
  size_t pairs_covered;     /* pairs whose intervals each contain the other run's median */
  size_t no_interval;       /* runs without an interval (schema 1): they cover nothing */
  size_t unstable;          /* runs with stable == 0 */
  size_t stability_unknown; /* runs with no stable value (schema 1) */
  /* The lowest and highest host_slowdown of the runs: how much slower than
   * usual the host ran each (a run that disagrees may say why); NaN when no
   * run has one (before schema 4, or no speed history). */
  double slowdown_low, slowdown_high;
};

struct clb_report_agreement_device {
  const struct clb_row *row;         /* host, platform and device */
  size_t first, count;               /* its configurations, [first, first + count) */
  size_t within_close, within_loose; /* configurations agreeing within 5 % / 10 % */
  size_t runs, pairs, pairs_covered, no_interval, unstable, stability_unknown; /* summed */
  double slowdown_low, slowdown_high; /* over its configurations; NaN when none has one */
};

struct clb_report_agreement {
  struct clb_report_agreement_config *configs; /* in configuration order */
  size_t n_configs;
  struct clb_report_agreement_device *devices; /* in device order */
  size_t n_devices;
};

/* From every ok row read (merged->all) with a step time. The same
 * measurement read twice (same configuration, repeat and timestamp: a file
 * given twice, or merged.csv beside its sources) counts once. Configurations
 * measured once are left out; no configuration, no device. *out starts as
 * {0}; release it with clb_report_agreement_destroy, also after a failure. */
int clb_report_agreement_build(const struct clb_report_merged *merged,
                               struct clb_report_agreement *out, struct clb_error *err);

void clb_report_agreement_destroy(struct clb_report_agreement *agreement);

/* Whether `row`'s 95 % interval of the median step time contains `step`;
 * 0 without an interval. */
int clb_report_interval_covers(const struct clb_row *row, double step);

#endif
