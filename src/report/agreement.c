/* The agreement between runs of one configuration, and its totals per
 * device. A run's own interval says how precisely one run pinned its median
 * down; runs on other days, or after other configurations warmed the device,
 * can still land elsewhere. Comparing runs shows which of the two the tables
 * can be trusted with. */
#include "report/agreement.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int clb_report_interval_covers(const struct clb_row *row, double step) {
  /* Written as a positive test, so NaN bounds (no interval) cover nothing. */
  return row->step_s_ci_low <= step && step <= row->step_s_ci_high;
}

static int has_interval(const struct clb_row *row) {
  return isfinite(row->step_s_ci_low) && isfinite(row->step_s_ci_high);
}

/* A run that counts: ok and with a step time to compare. */
static int is_run(const struct clb_row *row) {
  return clb_report_row_ok(row) && isfinite(row->step_s_median) && row->step_s_median > 0;
}

/* Configuration order, then the runs in the order they were measured. */
static int cmp_run(const void *pa, const void *pb) {
  const struct clb_row *a = *(const struct clb_row *const *)pa;
  const struct clb_row *b = *(const struct clb_row *const *)pb;
  int c = clb_report_cmp_config(a, b);
  if (c)
    return c;
  if ((c = clb_report_cmp_double(clb_report_repeat_of(a), clb_report_repeat_of(b))) != 0)
    return c;
  return strcmp(a->timestamp, b->timestamp);
}

static int same_measurement(const struct clb_row *a, const struct clb_row *b) {
  return clb_report_cmp_config(a, b) == 0 && clb_report_repeat_of(a) == clb_report_repeat_of(b) &&
         strcmp(a->timestamp, b->timestamp) == 0;
}

static int cmp_double_qsort(const void *pa, const void *pb) {
  return clb_report_cmp_double(*(const double *)pa, *(const double *)pb);
}

/* [*low, *high] widened to hold [low, high]; NaN ends are left out (fmin
 * and fmax return the other operand). */
static void widen(double *lo, double *hi, double low, double high) {
  *lo = fmin(*lo, low);
  *hi = fmax(*hi, high);
}

/* The numbers of one configuration from its runs[0..n), n >= 2; `steps` is
 * scratch room for n values. */
static void config_stats(const struct clb_row *const *runs, size_t n, double *steps,
                         struct clb_report_agreement_config *c) {
  *c = (struct clb_report_agreement_config){
      .row = runs[0], .runs = n, .slowdown_low = NAN, .slowdown_high = NAN};
  for (size_t i = 0; i < n; i++) {
    steps[i] = runs[i]->step_s_median;
    widen(&c->slowdown_low, &c->slowdown_high, runs[i]->host_slowdown, runs[i]->host_slowdown);
    c->no_interval += !has_interval(runs[i]);
    c->unstable += runs[i]->stable == 0;
    c->stability_unknown += !isfinite(runs[i]->stable);
    for (size_t j = i + 1; j < n; j++) {
      c->pairs++;
      /* Both ways: a wide interval of an unstable run covering a tight
       * run's median does not make the tight run agree with it. */
      c->pairs_covered += clb_report_interval_covers(runs[i], runs[j]->step_s_median) &&
                          clb_report_interval_covers(runs[j], runs[i]->step_s_median);
    }
  }
  qsort(steps, n, sizeof *steps, cmp_double_qsort);
  c->median_step = n % 2 ? steps[n / 2] : 0.5 * (steps[n / 2 - 1] + steps[n / 2]);
  c->spread = steps[n - 1] / steps[0] - 1;
}

/* Within a limit, with room for the rounding of slowest / fastest - 1
 * (1.05e-5 / 1e-5 - 1 is a hair above 0.05). */
static int within(double spread, double limit) {
  return spread <= limit + 1e-9;
}

static void add_to_device(struct clb_report_agreement_device *d,
                          const struct clb_report_agreement_config *c) {
  d->count++;
  d->within_close += within(c->spread, CLB_REPORT_AGREE_CLOSE);
  d->within_loose += within(c->spread, CLB_REPORT_AGREE_LOOSE);
  d->runs += c->runs;
  d->pairs += c->pairs;
  d->pairs_covered += c->pairs_covered;
  d->no_interval += c->no_interval;
  d->unstable += c->unstable;
  d->stability_unknown += c->stability_unknown;
  widen(&d->slowdown_low, &d->slowdown_high, c->slowdown_low, c->slowdown_high);
}

/* Groups the configurations (in configuration order, so a device's are
 * together) by device. */
static void group_devices(struct clb_report_agreement *a) {
  for (size_t i = 0; i < a->n_configs; i++) {
    const struct clb_report_agreement_config *c = &a->configs[i];
    struct clb_report_agreement_device *d = a->n_devices ? &a->devices[a->n_devices - 1] : NULL;
    if (!d || clb_report_cmp_device(d->row, c->row) != 0) {
      d = &a->devices[a->n_devices++];
      *d = (struct clb_report_agreement_device){
          .row = c->row, .first = i, .slowdown_low = NAN, .slowdown_high = NAN};
    }
    add_to_device(d, c);
  }
}

int clb_report_agreement_build(const struct clb_report_merged *m, struct clb_report_agreement *a,
                               struct clb_error *err) {
  const struct clb_row **runs = calloc(m->n_all ? m->n_all : 1, sizeof *runs);
  double *steps = calloc(m->n_all ? m->n_all : 1, sizeof *steps);
  size_t n_runs = 0;
  int rc = CLB_OK;
  a->configs = calloc(m->n_all ? m->n_all : 1, sizeof *a->configs);
  a->devices = calloc(m->n_all ? m->n_all : 1, sizeof *a->devices);
  if (!runs || !steps || !a->configs || !a->devices) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory comparing runs");
    goto cleanup;
  }
  for (size_t i = 0; i < m->n_all; i++)
    if (is_run(&m->all[i]))
      runs[n_runs++] = &m->all[i];
  qsort(runs, n_runs, sizeof *runs, cmp_run);

  /* Drop a run read twice; runs stay sorted. */
  size_t kept = 0;
  for (size_t i = 0; i < n_runs; i++)
    if (kept == 0 || !same_measurement(runs[kept - 1], runs[i]))
      runs[kept++] = runs[i];
  n_runs = kept;

  for (size_t first = 0; first < n_runs;) {
    size_t end = first + 1;
    while (end < n_runs && clb_report_cmp_config(runs[first], runs[end]) == 0)
      end++;
    if (end - first >= 2)
      config_stats(&runs[first], end - first, steps, &a->configs[a->n_configs++]);
    first = end;
  }
  group_devices(a);
cleanup:
  free(steps);
  free(runs);
  return rc;
}

void clb_report_agreement_destroy(struct clb_report_agreement *a) {
  if (!a)
    return;
  free(a->configs);
  free(a->devices);
  *a = (struct clb_report_agreement){0};
}
