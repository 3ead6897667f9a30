#include "results/passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure/stats.h"
#include "util/files.h"

#define PASSES_SUFFIX ".passes.csv"

void clb_passes_path(const char *results_path, char *buf, size_t size) {
  clb_path_sibling(results_path, PASSES_SUFFIX, buf, size);
}

int clb_passes_is_path(const char *path) {
  return clb_path_ends_with(path, PASSES_SUFFIX);
}

static int row_ok(const struct clb_row *row) {
  return strcmp(row->status, "ok") == 0 && isfinite(row->step_s_median) &&
         row->step_s_median > 0;
}

/* The median of the finite values of a column over the ok passes; NaN
 * when none has one. `values` has room for n. */
static double median_of(const struct clb_row *const *ok, size_t n, size_t offset, double *values) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    double v = *(const double *)(const void *)((const char *)ok[i] + offset);
    if (isfinite(v))
      values[m++] = v;
  }
  struct clb_summary summary;
  clb_stats_summarize(values, m, &summary);
  return summary.median;
}

#define MEDIAN_OF(field) median_of(ok, n_ok, offsetof(struct clb_row, field), values)

/* The rates and times the worker derives from the median step time, moved
 * to a new one: a rate scales with 1 / step, a time with the step. */
static void rescale_derived(struct clb_row *row, double step) {
  double faster = row->step_s_median / step;
  row->steps_per_s *= faster;
  row->samples_per_s *= faster;
  row->gflops *= faster;
  row->gbytes_per_s *= faster;
  row->pct_peak_flops *= faster;
  row->pct_peak_bw *= faster;
  row->epoch_s /= faster;
  row->step_s_median = step;
}

/* "pass 2 of 3: error: ..." for the first failed pass among ok ones. */
static void note_failed_pass(struct clb_row *out, const struct clb_row *passes, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (row_ok(&passes[i]))
      continue;
    /* The message is cut to its field: one pass's failure, briefly. */
    int len = snprintf(out->message, sizeof out->message, "pass %zu of %zu: %s: ", i + 1, n,
                       passes[i].status);
    if (len > 0 && (size_t)len < sizeof out->message)
      snprintf(out->message + len, sizeof out->message - (size_t)len, "%.*s",
               (int)(sizeof out->message - (size_t)len - 1), passes[i].message);
    return;
  }
}

void clb_passes_combine(const struct clb_row *passes, size_t n, double target_ci,
                        struct clb_row *out) {
  const struct clb_row *ok[64];
  double medians[64], values[64];
  size_t n_ok = 0;
  for (size_t i = 0; i < n && n_ok < sizeof ok / sizeof ok[0]; i++)
    if (row_ok(&passes[i]))
      ok[n_ok++] = &passes[i];
  if (n_ok == 0) {
    *out = passes[n - 1];
    out->passes = (double)n;
    return;
  }
  /* The newest ok pass gives the row's identity, set-up and noise columns,
   * which every pass measures alike. */
  *out = *ok[n_ok - 1];
  out->passes = (double)n;
  if (n_ok < n)
    note_failed_pass(out, passes, n);
  if (n_ok == 1) {
    out->stable = 0; /* one process: no spread between processes to go by */
    return;
  }
  double reps = 0, rounds = 0, fastest = INFINITY, rss = 0;
  for (size_t i = 0; i < n_ok; i++) {
    medians[i] = ok[i]->step_s_median;
    reps += ok[i]->reps;
    rounds += ok[i]->rounds;
    fastest = fmin(fastest, ok[i]->step_s_min);
    rss = fmax(rss, ok[i]->host_rss_bytes);
  }
  double mean = NAN, low = NAN, high = NAN;
  clb_stats_mean_ci(medians, n_ok, 0.95, &mean, &low, &high);
  out->wall_step_s = MEDIAN_OF(wall_step_s);
  out->step_s_p10 = MEDIAN_OF(step_s_p10);
  out->step_s_p90 = MEDIAN_OF(step_s_p90);
  out->step_cv = MEDIAN_OF(step_cv);
  out->step_rmad = MEDIAN_OF(step_rmad);
  rescale_derived(out, mean);
  out->step_s_min = fastest;
  out->step_s_ci_low = fmax(low, 0); /* a time is not negative, however wide its interval */
  out->step_s_ci_high = high;
  out->reps = reps;
  out->rounds = rounds;
  out->host_rss_bytes = rss > 0 ? rss : out->host_rss_bytes;
  out->stable = n_ok == n && isfinite(high) && (high - mean) <= target_ci * mean;
}

/* ---- the combined rows of a run --------------------------------------------- */

static int key_in(const char *key, char *const *keys, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(keys[i], key) == 0)
      return 1;
  return 0;
}

int clb_passes_combined_rows(const char *results_path, size_t repeat, double target_ci,
                             struct clb_row **out, size_t *n_out, struct clb_error *err) {
  char passes_path[2048], warning[512];
  struct clb_row *rows = NULL, *members = NULL;
  char **keys = NULL, **written = NULL; /* keys[g]: configuration g of this repeat */
  size_t *group_of = NULL;              /* the configuration of each pass row */
  size_t count = 0, n_groups = 0, n_written = 0;
  int rc = CLB_OK;
  *out = NULL;
  *n_out = 0;
  clb_passes_path(results_path, passes_path, sizeof passes_path);
  if (access(passes_path, R_OK) != 0)
    return CLB_OK; /* no pass finished a row */
  if ((rc = clb_results_read(passes_path, &rows, &count, warning, sizeof warning, err)) != CLB_OK)
    goto cleanup;
  if ((rc = clb_results_read_keys(results_path, &written, &n_written, err)) != CLB_OK)
    goto cleanup;
  keys = calloc(count ? count : 1, sizeof *keys);
  group_of = calloc(count ? count : 1, sizeof *group_of);
  members = calloc(count ? count : 1, sizeof *members);
  *out = calloc(count ? count : 1, sizeof **out);
  if (!keys || !group_of || !members || !*out) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  /* The configurations of this repeat, in first-seen order. */
  for (size_t i = 0; i < count; i++) {
    group_of[i] = count; /* another repeat */
    if (rows[i].repeat != (double)repeat)
      continue;
    char key[2048];
    clb_row_key(&rows[i], key, sizeof key);
    size_t g = 0;
    while (g < n_groups && strcmp(keys[g], key) != 0)
      g++;
    if (g == n_groups && !(keys[n_groups++] = strdup(key))) {
      rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
      goto cleanup;
    }
    group_of[i] = g;
  }
  for (size_t g = 0; g < n_groups; g++) {
    if (key_in(keys[g], written, n_written))
      continue;
    size_t m = 0;
    for (size_t i = 0; i < count; i++)
      if (group_of[i] == g)
        members[m++] = rows[i];
    clb_passes_combine(members, m, target_ci, &(*out)[(*n_out)++]);
  }
cleanup:
  if (rc != CLB_OK) {
    free(*out);
    *out = NULL;
    *n_out = 0;
  }
  clb_row_keys_free(written, n_written);
  clb_row_keys_free(keys, n_groups);
  free(group_of);
  free(members);
  free(rows);
  return rc;
}
