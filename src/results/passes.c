#include "results/passes.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
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
  return strcmp(row->status, "ok") == 0 && isfinite(row->step_s_median) && row->step_s_median > 0;
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

/* "pass 2 of 3: error: ..." for the first failed pass among the kept ones. */
static void note_failed_pass(struct clb_row *out, const struct clb_row *passes, size_t n,
                             const unsigned char *keep) {
  for (size_t i = 0; i < n; i++) {
    if (!keep[i] || row_ok(&passes[i]))
      continue;
    clb_row_append_message(out, "pass %zu of %zu: %s: %s", i + 1, n, passes[i].status,
                           passes[i].message);
    return;
  }
}

/* "passes 2,3 of 5 left out: the host ran them 26 to 31 % slower". */
static void note_left_out(struct clb_row *out, const struct clb_pass_choice *choice) {
  double kept_speeds[CLB_PASSES_MAX];
  size_t n_kept = 0;
  for (size_t i = 0; i < choice->passes; i++)
    if (choice->keep[i] && isfinite(choice->speed[i]))
      kept_speeds[n_kept++] = choice->speed[i];
  struct clb_summary kept;
  clb_stats_summarize(kept_speeds, n_kept, &kept);
  char list[256] = "";
  double lo = INFINITY, hi = -INFINITY;
  size_t left = 0;
  for (size_t i = 0; i < choice->passes; i++) {
    if (choice->keep[i])
      continue;
    size_t used = strlen(list);
    snprintf(list + used, sizeof list - used, "%s%zu", left++ ? "," : "", i + 1);
    double off = choice->speed[i] / kept.median - 1;
    if (isfinite(off)) {
      lo = fmin(lo, off);
      hi = fmax(hi, off);
    }
  }
  if (left == 0)
    return;
  const char *plural = left > 1 ? "es" : "";
  if (!isfinite(lo))
    clb_row_append_message(out, "pass%s %s of %zu left out", plural, list, choice->passes);
  else if (lo < 0 && hi > 0)
    clb_row_append_message(out,
                           "passes %s of %zu left out: the host ran them %.0f %% faster to %.0f %% "
                           "slower",
                           list, choice->passes, -100 * lo, 100 * hi);
  else {
    const char *how = lo > 0 ? "slower" : "faster";
    double least = fmin(fabs(lo), fabs(hi)), most = fmax(fabs(lo), fabs(hi));
    if (most - least < 0.005)
      clb_row_append_message(out, "pass%s %s of %zu left out: the host ran %s %.0f %% %s", plural,
                             list, choice->passes, left > 1 ? "them" : "it", 100 * most, how);
    else
      clb_row_append_message(out, "pass%s %s of %zu left out: the host ran them %.0f to %.0f %% %s",
                             plural, list, choice->passes, 100 * least, 100 * most, how);
  }
}

void clb_passes_choose(const double *speed, size_t n, double limit,
                       struct clb_pass_choice *choice) {
  memset(choice, 0, sizeof *choice);
  choice->passes = n;
  size_t order[CLB_PASSES_MAX], m = 0;
  for (size_t i = 0; i < n; i++) {
    choice->speed[i] = speed[i];
    if (isfinite(speed[i]))
      order[m++] = i;
  }
  /* The finite speeds from fastest to slowest (insertion sort: n is small). */
  for (size_t i = 1; i < m; i++)
    for (size_t j = i; j > 0 && speed[order[j]] < speed[order[j - 1]]; j--) {
      size_t t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  choice->drift = limit > 0 && m >= 2 && speed[order[m - 1]] > (1 + limit) * speed[order[0]];
  /* The largest window of the sorted speeds within the limit; the first
   * found of two as large is the faster. */
  size_t best_start = 0, best_size = 0;
  for (size_t start = 0, end = 0; start < m; start++) {
    if (end < start)
      end = start;
    while (end + 1 < m && speed[order[end + 1]] <= (1 + limit) * speed[order[start]])
      end++;
    if (end - start + 1 > best_size) {
      best_start = start;
      best_size = end - start + 1;
    }
  }
  choice->agreeing = best_size;
  if (best_size < 2 || limit <= 0) {
    for (size_t i = 0; i < n; i++)
      choice->keep[i] = 1;
    choice->kept = n;
    return;
  }
  for (size_t k = best_start; k < best_start + best_size; k++)
    choice->keep[order[k]] = 1;
  choice->kept = best_size;
  choice->faster_left_out = best_start > 0;
  /* A pass with no ok row tells nothing of the host: it stays, to be named. */
  for (size_t i = 0; i < n; i++)
    if (!isfinite(speed[i]) && !choice->keep[i]) {
      choice->keep[i] = 1;
      choice->kept++;
    }
}

int clb_passes_host_slow(double host_slowdown, double drift_limit) {
  return drift_limit > 0 && host_slowdown > 1.0 + drift_limit;
}

int clb_passes_flag_slow_host(struct clb_row *row, double drift_limit) {
  if (!clb_passes_host_slow(row->host_slowdown, drift_limit))
    return 0;
  row->stable = 0;
  clb_row_append_message(row, "the host ran %.0f %% slower than usual (reference step)",
                         100.0 * (row->host_slowdown - 1.0));
  return 1;
}

/* The host's slowdown over the kept passes (their median reference step
 * against the usual: one slow pass among quiet ones is the drift rule's
 * business); a row whose passes ran beyond the drift limit is unstable. */
static void note_host_slowdown(struct clb_row *out, const struct clb_row *const *ok, size_t n_ok,
                               const struct clb_passes_rule *rule) {
  double values[CLB_PASSES_MAX];
  out->host_slowdown = MEDIAN_OF(host_slowdown);
  clb_passes_flag_slow_host(out, rule->drift_limit);
}

/* The passes of one run lie minutes apart and share that run's state of
 * the host, so their t interval is narrower than what a re-run may differ
 * by: on the development VM it held the second run's median for 69-97 % of
 * rows in quiet pairs. The host's spread between passes of many runs (the
 * speed history's) is added in quadrature, at the normal 97.5 % point;
 * with it those pairs held 91-100 %. A spread that alone exceeds the
 * stable bound is said. */
double clb_passes_rerun_reach(double host_spread) {
  return 1.959963984540054 * host_spread; /* the normal 0.975 quantile */
}

int clb_passes_host_erratic(double host_spread, double passes_ci) {
  return clb_passes_rerun_reach(host_spread) > passes_ci;
}

static void widen_by_host_spread(struct clb_row *out, double mean, double *low, double *high,
                                 const struct clb_passes_rule *rule) {
  if (!isfinite(out->host_spread) || !isfinite(*high))
    return;
  double host_half = clb_passes_rerun_reach(out->host_spread) * mean;
  double half = hypot(*high - mean, host_half);
  *low = mean - half;
  *high = mean + half;
  if (clb_passes_host_erratic(out->host_spread, rule->target_ci))
    clb_row_append_message(out,
                           "a re-run on this host may land about +-%.0f %% away (the "
                           "reference step's spread in the speed history)",
                           100.0 * clb_passes_rerun_reach(out->host_spread));
}

void clb_passes_combine(const struct clb_row *passes, size_t n,
                        const struct clb_pass_choice *choice, const struct clb_passes_rule *rule,
                        struct clb_row *out) {
  const struct clb_row *ok[CLB_PASSES_MAX];
  double medians[CLB_PASSES_MAX], values[CLB_PASSES_MAX];
  unsigned char keep[CLB_PASSES_MAX];
  size_t n_ok = 0, n_kept = 0;
  if (n > CLB_PASSES_MAX)
    n = CLB_PASSES_MAX;
  for (size_t i = 0; i < n; i++) {
    keep[i] = !choice || i >= choice->passes || choice->keep[i];
    n_kept += keep[i];
    if (keep[i] && row_ok(&passes[i]))
      ok[n_ok++] = &passes[i];
  }
  if (n_ok == 0) {
    *out = passes[n - 1];
    out->passes = (double)n;
    return;
  }
  /* The newest ok pass gives the row's identity, set-up and noise columns,
   * which every pass measures alike. */
  *out = *ok[n_ok - 1];
  out->passes = (double)n_kept;
  if (choice && n_kept < n)
    note_left_out(out, choice);
  if (n_ok < n_kept)
    note_failed_pass(out, passes, n, keep);
  if (n_ok == 1) {
    out->stable = 0; /* one process: no spread between processes to go by */
    note_host_slowdown(out, ok, n_ok, rule);
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
  out->host_spread = MEDIAN_OF(host_spread);
  widen_by_host_spread(out, mean, &low, &high, rule);
  out->wall_step_s = MEDIAN_OF(wall_step_s);
  out->step_s_p10 = MEDIAN_OF(step_s_p10);
  out->step_s_p90 = MEDIAN_OF(step_s_p90);
  out->step_cv = MEDIAN_OF(step_cv);
  out->step_rmad = MEDIAN_OF(step_rmad);
  out->launch_floor_s = MEDIAN_OF(launch_floor_s);
  rescale_derived(out, mean);
  out->step_s_min = fastest;
  out->step_s_ci_low = fmax(low, 0); /* a time is not negative, however wide its interval */
  out->step_s_ci_high = high;
  out->reps = reps;
  out->rounds = rounds;
  out->host_rss_bytes = rss > 0 ? rss : out->host_rss_bytes;
  out->stable = n_ok == n_kept && isfinite(high) && (high - mean) <= rule->target_ci * mean &&
                !(choice && choice->faster_left_out);
  note_host_slowdown(out, ok, n_ok, rule);
}

/* ---- the pass rows of a run ---------------------------------------------------- */

/* The pass rows of one repeat, grouped by configuration in first-seen order;
 * a configuration's rows, in file order, are its passes 1, 2, ... */
struct pass_groups {
  struct clb_row *rows; /* every row of the passes file */
  size_t count;
  char **keys; /* keys[g]: configuration g (clb_row_key) */
  size_t n;
  size_t *group_of; /* the configuration of each row; SIZE_MAX for another repeat */
};

static void groups_free(struct pass_groups *g) {
  clb_row_keys_free(g->keys, g->n);
  free(g->group_of);
  free(g->rows);
  memset(g, 0, sizeof *g);
}

/* Reads RUN.passes.csv (none: no groups) and groups `repeat`'s rows. */
static int groups_read(const char *results_path, size_t repeat, struct pass_groups *g,
                       struct clb_error *err) {
  char passes_path[2048], warning[512];
  memset(g, 0, sizeof *g);
  clb_passes_path(results_path, passes_path, sizeof passes_path);
  if (access(passes_path, R_OK) != 0)
    return CLB_OK; /* no pass finished a row */
  int rc = clb_results_read(passes_path, &g->rows, &g->count, warning, sizeof warning, err);
  if (rc != CLB_OK)
    return rc;
  g->keys = calloc(g->count ? g->count : 1, sizeof *g->keys);
  g->group_of = calloc(g->count ? g->count : 1, sizeof *g->group_of);
  if (!g->keys || !g->group_of) {
    groups_free(g);
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < g->count; i++) {
    g->group_of[i] = SIZE_MAX; /* another repeat */
    if (g->rows[i].repeat != (double)repeat)
      continue;
    char key[2048];
    clb_row_key(&g->rows[i], key, sizeof key);
    size_t k = 0;
    while (k < g->n && strcmp(g->keys[k], key) != 0)
      k++;
    if (k == g->n && !(g->keys[g->n++] = strdup(key))) {
      groups_free(g);
      return clb_failf(err, CLB_E_NOMEM, "out of memory");
    }
    g->group_of[i] = k;
  }
  return CLB_OK;
}

/* Group k's pass rows into members (room for CLB_PASSES_MAX), in pass order;
 * returns how many. */
static size_t group_members(const struct pass_groups *g, size_t k, struct clb_row *members) {
  size_t m = 0;
  for (size_t i = 0; i < g->count && m < CLB_PASSES_MAX; i++)
    if (g->group_of[i] == k)
      members[m++] = g->rows[i];
  return m;
}

/* Each pass's speed on one device (see struct clb_pass_choice), then the
 * choice. Reads the rows in place: a configuration's rows, in file order,
 * are its passes. */
static void device_choice(const struct pass_groups *g, const char *device_index, double limit,
                          struct clb_pass_choice *choice) {
  /* ratios[p * n + k]: pass p's median of configuration k over k's median. */
  size_t passes = 0;
  double *ratios = calloc(CLB_PASSES_MAX * (g->n ? g->n : 1), sizeof *ratios);
  double speed[CLB_PASSES_MAX], medians[CLB_PASSES_MAX];
  size_t pass_of[CLB_PASSES_MAX], n_ratios[CLB_PASSES_MAX] = {0};
  for (size_t k = 0; ratios && k < g->n; k++) {
    size_t m = 0, n_ok = 0;
    int of_device = 0;
    for (size_t i = 0; i < g->count && m < CLB_PASSES_MAX; i++) {
      const struct clb_row *row = &g->rows[i];
      if (g->group_of[i] != k)
        continue;
      if (m++ == 0 && !(of_device = strcmp(row->device_index, device_index) == 0))
        break;
      if (row_ok(row)) {
        medians[n_ok] = row->step_s_median;
        pass_of[n_ok++] = m - 1;
      }
    }
    if (!of_device)
      continue;
    passes = m > passes ? m : passes;
    struct clb_summary typical;
    clb_stats_summarize(medians, n_ok, &typical);
    for (size_t j = 0; j < n_ok && n_ok >= 2; j++)
      ratios[pass_of[j] * g->n + n_ratios[pass_of[j]]++] = medians[j] / typical.median;
  }
  for (size_t p = 0; p < passes; p++) {
    struct clb_summary summary;
    clb_stats_summarize(ratios + p * g->n, n_ratios[p], &summary);
    speed[p] = n_ratios[p] ? summary.median : NAN;
  }
  free(ratios); /* out of memory: no speeds, so every pass is kept */
  clb_passes_choose(speed, passes, limit, choice);
}

int clb_passes_device_choice(const char *results_path, size_t repeat, const char *device_index,
                             const struct clb_passes_rule *rule, struct clb_pass_choice *choice,
                             struct clb_error *err) {
  struct pass_groups g;
  memset(choice, 0, sizeof *choice);
  int rc = groups_read(results_path, repeat, &g, err);
  if (rc == CLB_OK)
    device_choice(&g, device_index, rule->drift_limit, choice);
  groups_free(&g);
  return rc;
}

static int key_in(const char *key, char *const *keys, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(keys[i], key) == 0)
      return 1;
  return 0;
}

int clb_passes_combined_rows(const char *results_path, size_t repeat,
                             const struct clb_passes_rule *rule, struct clb_row **out,
                             size_t *n_out, struct clb_error *err) {
  struct pass_groups g;
  struct clb_row *members = NULL;
  struct clb_pass_choice *choice = NULL;
  char **written = NULL;
  char choice_of[CLB_STR_FIELD_SIZE] = ""; /* the device `choice` is of */
  size_t n_written = 0;
  int have_choice = 0;
  *out = NULL;
  *n_out = 0;
  int rc = groups_read(results_path, repeat, &g, err);
  if (rc != CLB_OK)
    return rc;
  if (g.n == 0)
    goto cleanup;
  if ((rc = clb_results_read_keys(results_path, &written, &n_written, err)) != CLB_OK)
    goto cleanup;
  members = calloc(CLB_PASSES_MAX, sizeof *members);
  choice = malloc(sizeof *choice);
  *out = calloc(g.n, sizeof **out);
  if (!members || !choice || !*out) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t k = 0; k < g.n; k++) {
    if (key_in(g.keys[k], written, n_written))
      continue;
    size_t m = group_members(&g, k, members);
    if (!have_choice || strcmp(members[0].device_index, choice_of) != 0) {
      have_choice = 1;
      /* A device's configurations follow each other: one choice each. */
      snprintf(choice_of, sizeof choice_of, "%s", members[0].device_index);
      device_choice(&g, choice_of, rule->drift_limit, choice);
    }
    clb_passes_combine(members, m, choice, rule, &(*out)[(*n_out)++]);
  }
cleanup:
  if (rc != CLB_OK) {
    free(*out);
    *out = NULL;
    *n_out = 0;
  }
  clb_row_keys_free(written, n_written);
  free(choice);
  free(members);
  groups_free(&g);
  return rc;
}
