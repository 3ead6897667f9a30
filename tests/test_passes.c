/* `clbatch run --passes P`: the combination of P worker processes' rows
 * against the t interval by hand, and the run end to end on PoCL (one
 * combined row per configuration, each pass's rows beside it, resume). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "measure/stats.h"
#include "results/passes.h"
#include "results/results.h"

/* A rule with --passes-ci `ci` and the default --drift-limit 0.1. */
#define RULE(ci) (&(struct clb_passes_rule){(ci), 0.1})

/* An ok pass of softmax B = 64 whose median step is `median` seconds, with
 * the columns the worker derives from it filled consistently. */
static struct clb_row pass_row(double median, double fastest) {
  struct clb_row r;
  clb_row_init(&r);
  snprintf(r.status, sizeof r.status, "ok");
  snprintf(r.model, sizeof r.model, "softmax");
  r.batch = 64;
  r.repeat = 1;
  r.passes = 1;
  r.steps_per_epoch = 16;
  r.step_s_median = median;
  r.step_s_min = fastest;
  r.step_s_p10 = 0.9 * median;
  r.step_s_p90 = 1.2 * median;
  r.step_cv = 0.1;
  r.step_rmad = 0.05;
  r.step_s_ci_low = 0.99 * median;
  r.step_s_ci_high = 1.01 * median;
  r.reps = 100;
  r.rounds = 10;
  r.stable = 1;
  r.wall_step_s = 1.5 * median;
  r.steps_per_s = 1 / median;
  r.samples_per_s = 64 / median;
  r.gflops = 2e-3 / median;
  r.gbytes_per_s = 4e-3 / median;
  r.peak_gflops = 100;
  r.pct_peak_flops = 100 * r.gflops / 100;
  r.peak_gbytes_per_s = 50;
  r.pct_peak_bw = 100 * r.gbytes_per_s / 50;
  r.epoch_s = 16 * median;
  r.host_rss_bytes = 1e8;
  return r;
}

/* Three passes of 1 ms that agree within 1 us (standard deviation 1 us). */
static void agreeing_passes(struct clb_row p[3]) {
  p[0] = pass_row(1.000e-3, 1e-3);
  p[1] = pass_row(1.001e-3, 1e-3);
  p[2] = pass_row(0.999e-3, 1e-3);
}

/* 1e-9: what the t quantile's series gives; a wrong formula is off by far more. */
static void expect_close(double got, double want, const char *what) {
  cr_expect(fabs(got - want) <= 1e-9 * fabs(want), "%s: %.17g, expected %.17g", what, got, want);
}

Test(passes, three_passes_give_the_mean_and_its_t_interval) {
  struct clb_row p[3] = {pass_row(1e-3, 0.8e-3), pass_row(2e-3, 0.7e-3), pass_row(3e-3, 0.9e-3)};
  p[1].host_rss_bytes = 3e8;
  struct clb_row out;
  clb_passes_combine(p, 3, NULL, RULE(0.01), &out);
  /* mean 2 ms, sample standard deviation 1 ms, t(0.975, 2) = 4.302652729911275. */
  double half = 4.302652729911275 * 1e-3 / sqrt(3.0);
  expect_close(out.step_s_median, 2e-3, "mean of the medians");
  cr_expect_eq(out.step_s_ci_low, 0, "2 ms - 2.48 ms: a time's interval stops at 0");
  expect_close(out.step_s_ci_high, 2e-3 + half, "high end");
  struct clb_row narrow[3] = {pass_row(1.9e-3, 1e-3), pass_row(2e-3, 1e-3), pass_row(2.1e-3, 1e-3)};
  struct clb_row tight;
  clb_passes_combine(narrow, 3, NULL, RULE(0.01), &tight);
  expect_close(tight.step_s_ci_low, 2e-3 - half / 10, "low end (sd 0.1 ms)");
  cr_expect_eq(out.stable, 0, "+-124 %% is far from +-1 %%");
  cr_expect_eq(out.passes, 3);
  cr_expect_eq(out.reps, 300);
  cr_expect_eq(out.rounds, 30);
  expect_close(out.step_s_min, 0.7e-3, "fastest step of all");
  expect_close(out.step_s_p10, 0.9 * 2e-3, "median of the p10s");
  expect_close(out.wall_step_s, 1.5 * 2e-3, "median of the wall times");
  /* Every derived column follows the new step time. */
  expect_close(out.samples_per_s, 64 / 2e-3, "samples/s");
  expect_close(out.steps_per_s, 1 / 2e-3, "steps/s");
  expect_close(out.gflops, 2e-3 / 2e-3, "GFLOP/s");
  expect_close(out.gbytes_per_s, 4e-3 / 2e-3, "GB/s");
  expect_close(out.pct_peak_flops, 100 * (2e-3 / 2e-3) / 100, "% peak FLOP/s");
  expect_close(out.pct_peak_bw, 100 * (4e-3 / 2e-3) / 50, "% peak BW");
  expect_close(out.epoch_s, 16 * 2e-3, "epoch");
  cr_expect_eq(out.host_rss_bytes, 3e8, "the largest process");
  cr_expect_str_eq(out.status, "ok");
  cr_expect_str_eq(out.message, "");
}

Test(passes, passes_that_agree_are_stable) {
  struct clb_row p[3];
  agreeing_passes(p);
  struct clb_row out;
  /* Standard deviation 1 us: +-0.25 % of 1 ms, inside +-1 % but not +-0.2 %. */
  clb_passes_combine(p, 3, NULL, RULE(0.01), &out);
  cr_expect_eq(out.stable, 1);
  clb_passes_combine(p, 3, NULL, RULE(0.002), &out);
  cr_expect_eq(out.stable, 0);
  /* The same agreement with one pass unstable is still stable: the passes'
   * own intervals do not enter the combined one. */
  p[0].stable = 0;
  clb_passes_combine(p, 3, NULL, RULE(0.01), &out);
  cr_expect_eq(out.stable, 1);
}

/* The reference step's slowdown of each pass: the row takes the median of
 * the kept ok passes, and beyond the drift limit it is unstable and says so. */
Test(passes, a_host_slower_than_usual_makes_the_row_unstable) {
  struct clb_row p[3];
  agreeing_passes(p);
  struct clb_row out;
  p[0].host_slowdown = 1.02;
  p[1].host_slowdown = 1.30;
  p[2].host_slowdown = 1.08;
  clb_passes_combine(p, 3, NULL, RULE(0.01), &out);
  expect_close(out.host_slowdown, 1.08, "median of the passes");
  cr_expect_eq(out.stable, 1, "one slow pass of three is not a slow host");
  cr_expect_str_eq(out.message, "");
  p[0].host_slowdown = 1.25;
  clb_passes_combine(p, 3, NULL, RULE(0.01), &out);
  expect_close(out.host_slowdown, 1.25, "median of the passes");
  cr_expect_eq(out.stable, 0, "the passes agree, but the host ran 25 %% slower than usual");
  cr_expect_str_eq(out.message, "the host ran 25 % slower than usual (reference step)");
  /* --drift-limit 0 turns the rule off; a wider limit lets 25 % pass. */
  clb_passes_combine(p, 3, NULL, (&(struct clb_passes_rule){0.01, 0}), &out);
  cr_expect_eq(out.stable, 1);
  clb_passes_combine(p, 3, NULL, (&(struct clb_passes_rule){0.01, 0.3}), &out);
  cr_expect_eq(out.stable, 1);
  /* Passes without a history (NaN) do not count; none at all: NaN, stable. */
  p[0].host_slowdown = p[1].host_slowdown = NAN;
  clb_passes_combine(p, 3, NULL, RULE(0.01), &out);
  expect_close(out.host_slowdown, 1.08, "the one pass that had a history");
  p[2].host_slowdown = NAN;
  clb_passes_combine(p, 3, NULL, RULE(0.01), &out);
  cr_expect(isnan(out.host_slowdown));
  cr_expect_eq(out.stable, 1);
}

/* The speed history's spread between passes of many runs joins the passes'
 * own t interval in quadrature; alone beyond --passes-ci it is said. */
Test(passes, the_hosts_spread_widens_the_interval) {
  struct clb_row p[3];
  agreeing_passes(p);
  struct clb_row out;
  p[0].host_spread = 0.01;
  p[1].host_spread = 0.02;
  clb_passes_combine(p, 3, NULL, RULE(0.1), &out);
  expect_close(out.host_spread, 0.015, "median of the passes that had one");
  double t_half = 4.302652729911275 * 1e-6 / sqrt(3.0);
  double host_half = 1.959963984540054 * 0.015 * 1e-3;
  double half = sqrt(t_half * t_half + host_half * host_half);
  expect_close(out.step_s_ci_low, 1e-3 - half, "low end");
  expect_close(out.step_s_ci_high, 1e-3 + half, "high end");
  cr_expect_eq(out.stable, 1, "+-2.9 %% is within +-10 %%");
  cr_expect_str_eq(out.message, "");
  /* Within +-1 % the passes agree, but a re-run may land +-3 % away. */
  clb_passes_combine(p, 3, NULL, RULE(0.01), &out);
  cr_expect_eq(out.stable, 0);
  cr_expect_str_eq(out.message, "a re-run on this host may land about +-3 % away (the reference "
                                "step's spread in the speed history)");
  /* Without a spread (a short history) the interval is the passes' alone. */
  p[0].host_spread = p[1].host_spread = NAN;
  clb_passes_combine(p, 3, NULL, RULE(0.01), &out);
  cr_expect(isnan(out.host_spread));
  expect_close(out.step_s_ci_high, 1e-3 + t_half, "the t interval alone");
  cr_expect_eq(out.stable, 1);
}

Test(passes, a_failed_pass_is_named_and_the_row_is_unstable) {
  struct clb_row p[3] = {pass_row(1e-3, 1e-3), pass_row(5e-3, 1e-3), pass_row(1.002e-3, 1e-3)};
  snprintf(p[1].status, sizeof p[1].status, "error");
  snprintf(p[1].message, sizeof p[1].message, "clEnqueueNDRangeKernel on dev: -5");
  p[1].step_s_median = NAN;
  struct clb_row out;
  clb_passes_combine(p, 3, NULL, RULE(0.05), &out);
  expect_close(out.step_s_median, 1.001e-3, "mean of the two ok passes");
  double half = 12.706204736174707 * sqrt(2e-12) / sqrt(2.0);
  expect_close(out.step_s_ci_high, 1.001e-3 + half, "t(0.975, 1) interval");
  cr_expect_eq(out.stable, 0, "a pass failed: not stable, however narrow");
  cr_expect_str_eq(out.status, "ok");
  cr_expect_str_eq(out.message, "pass 2 of 3: error: clEnqueueNDRangeKernel on dev: -5");
  cr_expect_eq(out.passes, 3);
}

Test(passes, one_ok_pass_or_none) {
  struct clb_row p[2] = {pass_row(1e-3, 1e-3), pass_row(2e-3, 1e-3)};
  snprintf(p[0].status, sizeof p[0].status, "timeout");
  struct clb_row out;
  clb_passes_combine(p, 2, NULL, RULE(0.5), &out);
  expect_close(out.step_s_median, 2e-3, "the one ok pass");
  expect_close(out.step_s_ci_high, 1.01 * 2e-3, "its own interval");
  cr_expect_eq(out.stable, 0, "one process: no spread between processes");
  snprintf(p[1].status, sizeof p[1].status, "oom");
  snprintf(p[1].message, sizeof p[1].message, "out of memory");
  clb_passes_combine(p, 2, NULL, RULE(0.5), &out);
  cr_expect_str_eq(out.status, "oom", "no ok pass: the last pass's row");
  cr_expect_str_eq(out.message, "out of memory");
  cr_expect_eq(out.passes, 2);
}

/* ---- passes that ran at different host speeds -------------------------------- */

static void expect_kept(const struct clb_pass_choice *c, const char *want) {
  char got[CLB_PASSES_MAX + 1];
  for (size_t i = 0; i < c->passes; i++)
    got[i] = c->keep[i] ? 'k' : '-';
  got[c->passes] = '\0';
  cr_expect_str_eq(got, want);
}

Test(passes, passes_within_the_limit_are_all_kept) {
  struct clb_pass_choice c;
  clb_passes_choose((double[]){1.0, 1.04, 0.97}, 3, 0.10, &c);
  expect_kept(&c, "kkk");
  cr_expect_eq(c.drift, 0);
  cr_expect_eq(c.kept, 3);
  cr_expect_eq(c.faster_left_out, 0);
}

Test(passes, the_largest_group_that_agrees_is_kept) {
  struct clb_pass_choice c;
  /* Pass 1 before a slow phase, 2 and 3 in it: the two slow ones agree. */
  clb_passes_choose((double[]){0.79, 1.02, 1.00}, 3, 0.10, &c);
  expect_kept(&c, "-kk");
  cr_expect_eq(c.drift, 1);
  cr_expect_eq(c.faster_left_out, 1, "the slow phase is what is left");
  /* Two more passes after the phase: now the fast group is larger. */
  clb_passes_choose((double[]){0.79, 1.02, 1.00, 0.80, 0.81}, 5, 0.10, &c);
  expect_kept(&c, "k--kk");
  cr_expect_eq(c.kept, 3);
  cr_expect_eq(c.agreeing, 3);
  cr_expect_eq(c.faster_left_out, 0);
  /* Two groups as large: the faster one. */
  clb_passes_choose((double[]){1.3, 1.0, 1.3, 1.05}, 4, 0.10, &c);
  expect_kept(&c, "-k-k");
  cr_expect_eq(c.faster_left_out, 0);
  /* The limit is inclusive and relative to the group's fastest pass. */
  clb_passes_choose((double[]){1.0, 1.1, 1.2}, 3, 0.10, &c);
  expect_kept(&c, "kk-");
}

Test(passes, no_group_of_two_or_no_limit_keeps_every_pass) {
  struct clb_pass_choice c;
  clb_passes_choose((double[]){1.0, 1.5, 2.2}, 3, 0.10, &c);
  expect_kept(&c, "kkk");
  cr_expect_eq(c.drift, 1, "still said: the passes disagree");
  cr_expect_eq(c.agreeing, 1);
  clb_passes_choose((double[]){0.79, 1.02, 1.00}, 3, 0, &c);
  expect_kept(&c, "kkk");
  cr_expect_eq(c.drift, 0, "--drift-limit 0 turns it off");
  /* A pass without an ok row has no speed: kept, to be named as failed. */
  clb_passes_choose((double[]){0.7, NAN, 1.0, 1.01}, 4, 0.10, &c);
  expect_kept(&c, "-kkk");
  cr_expect_eq(c.kept, 3);
}

Test(passes, a_row_combines_the_kept_passes_and_names_the_others) {
  struct clb_row p[5] = {pass_row(1.00e-3, 1e-3), pass_row(1.30e-3, 1e-3), pass_row(1.26e-3, 1e-3),
                         pass_row(1.01e-3, 1e-3), pass_row(0.99e-3, 1e-3)};
  struct clb_pass_choice c;
  clb_passes_choose((double[]){1.0, 1.3, 1.26, 1.01, 0.99}, 5, 0.10, &c);
  struct clb_row out;
  clb_passes_combine(p, 5, &c, RULE(0.10), &out);
  double kept[3] = {1.00e-3, 1.01e-3, 0.99e-3}, mean, low, high;
  clb_stats_mean_ci(kept, 3, 0.95, &mean, &low, &high);
  expect_close(out.step_s_median, mean, "mean of passes 1, 4, 5");
  expect_close(out.step_s_ci_high, high, "their t interval");
  cr_expect_eq(out.passes, 3, "passes combined");
  cr_expect_eq(out.reps, 300);
  cr_expect_eq(out.stable, 1, "+-2.5 %: within +-10 %, and only slower passes left out");
  cr_expect_str_eq(out.message, "passes 2,3 of 5 left out: the host ran them 26 to 30 % slower");
  /* Keeping the slow group instead (a faster pass left out): unstable. */
  clb_passes_choose((double[]){0.79, 1.02, 1.00}, 3, 0.10, &c);
  clb_passes_combine(p, 3, &c, RULE(0.50), &out);
  cr_expect_eq(out.stable, 0);
  cr_expect_str_eq(out.message, "pass 1 of 3 left out: the host ran it 22 % faster");
}

Test(passes, passes_file_is_named_after_the_results) {
  char path[256];
  clb_passes_path("results/local/run-x.csv", path, sizeof path);
  cr_expect_str_eq(path, "results/local/run-x.passes.csv");
  clb_passes_path("noext", path, sizeof path);
  cr_expect_str_eq(path, "noext.passes.csv");
  cr_expect(clb_passes_is_path("a/b.passes.csv"));
  cr_expect(!clb_passes_is_path("a/b.csv"));
}

/* ---- end to end ------------------------------------------------------------ */

#define QUICK                                                                                      \
  "--samples 256 --features 8 --hidden 16 --classes 3 --warmup 1 "                                 \
  "--min-time 0.01 --max-time 0.06 --noise-batches 4 --quiet"

/* Each combined row against the pass rows of its configuration. */
static void expect_combined(const struct clb_row *rows, size_t n, const struct clb_row *passes,
                            size_t n_passes, size_t per_config) {
  for (size_t i = 0; i < n; i++) {
    double medians[8];
    size_t m = 0;
    for (size_t k = 0; k < n_passes; k++)
      if (passes[k].batch == rows[i].batch && !strcmp(passes[k].model, rows[i].model) && m < 8) {
        cr_expect_eq(passes[k].passes, 1, "a pass row is one process");
        medians[m++] = passes[k].step_s_median;
      }
    cr_assert_eq(m, per_config, "%s B=%.0f: %zu pass rows", rows[i].model, rows[i].batch, m);
    double mean, low, high;
    clb_stats_mean_ci(medians, m, 0.95, &mean, &low, &high);
    cr_expect_eq(rows[i].passes, per_config);
    /* The CSV keeps 9 significant digits. */
    cr_expect(fabs(rows[i].step_s_median - mean) <= 1e-8 * mean, "%s B=%.0f: %g vs mean %g",
              rows[i].model, rows[i].batch, rows[i].step_s_median, mean);
    /* Both sides round to 9 digits the pass medians the interval comes from. */
    double tolerance = 1e-8 * (mean + (high - mean));
    cr_expect(fabs(rows[i].step_s_ci_high - high) <= tolerance, "%g vs %g", rows[i].step_s_ci_high,
              high);
    cr_expect(fabs(rows[i].step_s_ci_low - fmax(low, 0)) <= tolerance, "%g vs %g",
              rows[i].step_s_ci_low, low);
    cr_expect(fabs(rows[i].samples_per_s - rows[i].batch / mean) <= 1e-8 * rows[i].samples_per_s);
  }
}

/* `clbatch run --device @DEV QUICK PLAN --out PATH`, which must succeed; PLAN's
 * options come last, so a timing option there wins over QUICK's. */
static void run_plan(const char *plan, const char *path) {
  char args[1024];
  snprintf(args, sizeof args, "run --device @DEV " QUICK " %s --out %s", plan, path);
  char *err = NULL;
  cr_assert_eq(clb_test_run_cli(args, NULL, &err), 0, "%s", err);
  free(err);
}

Test(passes, run_writes_one_combined_row_per_configuration, .timeout = 240) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char path[512], passes_path[600];
  snprintf(path, sizeof path, "%s/p.csv", dir);
  snprintf(passes_path, sizeof passes_path, "%s/p.passes.csv", dir);
  /* --drift-limit 0: exactly three passes, whatever the host does meanwhile. */
  const char *plan = "--model linreg,softmax --batch 2,32 --passes 3 --drift-limit 0";
  run_plan(plan, path);
  size_t n = 0, n_passes = 0;
  struct clb_row *rows = clb_test_read_rows(path, &n);
  struct clb_row *passes = clb_test_read_rows(passes_path, &n_passes);
  cr_assert_eq(n, 4, "one row per configuration");
  cr_assert_eq(n_passes, 12, "three per configuration");
  expect_combined(rows, n, passes, n_passes, 3);

  /* Resume after the passes finished but before the combined rows were
   * written: they are combined again, nothing is measured again. */
  FILE *truncated = fopen(path, "w");
  cr_assert_not_null(truncated);
  cr_assert_eq(clb_results_write_header(truncated, NULL), 0);
  cr_assert_eq(clb_results_write_row(truncated, &rows[0], NULL), 0);
  fclose(truncated);
  char resumed[512];
  snprintf(resumed, sizeof resumed, "%s --resume", plan);
  run_plan(resumed, path);
  free(rows);
  free(passes);
  rows = clb_test_read_rows(path, &n);
  passes = clb_test_read_rows(passes_path, &n_passes);
  cr_expect_eq(n, 4, "the three missing rows, and no duplicate of the first");
  cr_expect_eq(n_passes, 12, "no pass measured again");
  expect_combined(rows, n, passes, n_passes, 3);
  free(rows);
  free(passes);
  clb_test_remove_tmpdir(dir);
}

/* Rewrites a passes file so that pass 1 looks 100x faster and passes 2 and
 * 3 100x and 10000x slower than the device really is: three passes on
 * three hosts. */
static void fake_host_speeds(const char *passes_path) {
  size_t n = 0;
  struct clb_row *rows = clb_test_read_rows(passes_path, &n);
  FILE *out = fopen(passes_path, "w");
  cr_assert_not_null(out);
  cr_assert_eq(clb_results_write_header(out, NULL), 0);
  for (size_t i = 0; i < n; i++) {
    size_t pass = 1;
    for (size_t k = 0; k < i; k++)
      pass += rows[k].batch == rows[i].batch && !strcmp(rows[k].model, rows[i].model);
    rows[i].step_s_median *= pass == 1 ? 0.01 : pass == 2 ? 100 : 10000;
    cr_assert_eq(clb_results_write_row(out, &rows[i], NULL), 0);
  }
  fclose(out);
  free(rows);
}

Test(passes, passes_at_other_host_speeds_are_measured_again_and_left_out, .timeout = 240) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char path[512], passes_path[600];
  snprintf(path, sizeof path, "%s/d.csv", dir);
  snprintf(passes_path, sizeof passes_path, "%s/d.passes.csv", dir);
  run_plan("--model linreg --batch 2,32 --passes 3 --drift-limit 0", path);
  fake_host_speeds(passes_path);
  cr_assert_eq(remove(path), 0);
  /* Resumed: passes 1-3 are done, but on no host of one speed, so passes
   * 4, 5 and 6 run; the rows keep those. A limit of 3x (2), since passes
   * this short (20-60 ms) differed by 25 % on a quiet host and by more than
   * 50 % under the sanitizers; the faked passes are 100x off. */
  run_plan("--model linreg --batch 2,32 --passes 3 --drift-limit 2 --resume", path);
  size_t n = 0, n_passes = 0;
  struct clb_row *rows = clb_test_read_rows(path, &n);
  struct clb_row *passes = clb_test_read_rows(passes_path, &n_passes);
  cr_assert_eq(n, 2, "one row per configuration");
  cr_expect_eq(n_passes, 12, "up to three more passes each");
  for (size_t i = 0; i < n; i++) {
    cr_expect_str_eq(rows[i].status, "ok");
    /* Passes 4-6 agree within 3x; on a very noisy host two of them do. */
    cr_expect(rows[i].passes >= 2 && rows[i].passes <= 3, "combined %g passes", rows[i].passes);
    cr_expect(strncmp(rows[i].message, "passes 1,2,3", 12) == 0, "message: %s", rows[i].message);
    cr_expect_eq(rows[i].stable, 0, "pass 1, faster, was left out");
    double slowest = 0;
    for (size_t k = 0; k < n_passes; k++)
      if (passes[k].batch == rows[i].batch && k >= 3 * n)
        slowest = fmax(slowest, passes[k].step_s_median);
    cr_expect(rows[i].step_s_median > 0 && rows[i].step_s_median <= slowest,
              "B=%g: %g s from passes 4-6 (slowest %g s)", rows[i].batch, rows[i].step_s_median,
              slowest);
  }
  free(rows);
  free(passes);
  clb_test_remove_tmpdir(dir);
}

/* Rewrites a speed history so that every reference step it holds took a
 * hundredth of its time: the host now looks 100x slower than usual. */
static void fake_fast_history(const char *history) {
  char *text = clb_test_read_file(history);
  cr_assert_not_null(text);
  FILE *out = fopen(history, "w");
  cr_assert_not_null(out);
  size_t records = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *last = strrchr(line, ',');
    cr_assert_not_null(last);
    *last = '\0';
    if (strncmp(line, "timestamp,", 10) == 0) {
      fprintf(out, "%s,%s\n", line, last + 1);
      continue;
    }
    fprintf(out, "%s,%.9g\n", line, strtod(last + 1, NULL) / 100);
    records++;
  }
  fclose(out);
  free(text);
  cr_assert_gt(records, 0);
}

/* Rewrites a history as 24 lines of its first record's key, a third each at
 * that record's time and a factor e^0.3 either side: a spread of
 * 1.4826 x 0.3, which the lines a run's passes add (up to 4, wherever they
 * fall) do not move, since the median stays in the middle third and the
 * median deviation among the outer two. */
static void fake_spread_history(const char *history) {
  char *text = clb_test_read_file(history);
  cr_assert_not_null(text);
  char *header = strtok(text, "\n"), *record = strtok(NULL, "\n");
  cr_assert_not_null(record);
  char *last = strrchr(record, ',');
  cr_assert_not_null(last);
  *last = '\0';
  double seconds = strtod(last + 1, NULL);
  FILE *out = fopen(history, "w");
  cr_assert_not_null(out);
  fprintf(out, "%s\n", header);
  for (int i = 0; i < 24; i++)
    fprintf(out, "%s,%.9g\n", record, seconds * exp(0.3 * (i % 3 - 1)));
  fclose(out);
  free(text);
}

static size_t count_lines(const char *path) {
  char *text = clb_test_read_file(path);
  size_t n = 0;
  for (const char *p = text; p && *p; p++)
    n += *p == '\n';
  free(text);
  return n;
}

Test(passes, a_host_slower_than_its_history_flags_the_rows, .timeout = 240) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char plan[1024], path[512], history[512];
  snprintf(history, sizeof history, "%s/history.csv", dir);
  snprintf(path, sizeof path, "%s/first.csv", dir);
  /* --drift-limit 5: no extra pass for short passes on a busy host, and a
   * host 6x slower than usual is flagged. Each pass timed for 1.5 s
   * (--passes 2 splits the times), so that the reference step, one turn in
   * two, runs the 50 steps it needs to be kept (worker.c) on a loaded host:
   * half a second a pass gave one pass too few beside a cold-cache CI
   * suite. */
  const char *long_enough = "--min-time 3 --max-time 3";
  snprintf(plan, sizeof plan,
           "--model softmax --batch 8 --passes 2 --drift-limit 5 %s --speed-history %s",
           long_enough, history);
  run_plan(plan, path);
  /* Two passes, or more where a loaded host (CI's sanitizer stage) made
   * them drift 6x apart and the run measured again. */
  char passes_path[600];
  snprintf(passes_path, sizeof passes_path, "%s/first.passes.csv", dir);
  size_t n_passes = 0;
  free(clb_test_read_rows(passes_path, &n_passes));
  cr_expect_geq(n_passes, 2);
  size_t lines = count_lines(history);
  cr_expect_eq(lines, 1 + n_passes, "the header and one line per pass: %zu lines, %zu passes",
               lines, n_passes);
  size_t n = 0;
  struct clb_row *rows = clb_test_read_rows(path, &n);
  cr_assert_eq(n, 1);
  /* Pass 1 had no history; pass 2 had pass 1's line. */
  for (size_t i = 0; i < n; i++) {
    cr_expect(rows[i].host_slowdown > 0.2 && rows[i].host_slowdown < 5, "%g",
              rows[i].host_slowdown);
    /* Too short a history for host_spread: the run said so before it began,
     * ahead of the host's own warnings, which can fill the field on a loaded
     * host. */
    cr_expect(isnan(rows[i].host_spread), "%g", rows[i].host_spread);
    char first[CLB_STR_FIELD_SIZE + 64];
    snprintf(first, sizeof first, "%s: no host_spread yet (0 of 8 passes in the history)",
             rows[i].device);
    cr_expect(strncmp(rows[i].host_warnings, first, strlen(first)) == 0, "%s",
              rows[i].host_warnings);
  }
  free(rows);

  /* A host whose passes landed e^+-0.3 apart: the row's interval takes that
   * in. */
  fake_spread_history(history);
  snprintf(path, sizeof path, "%s/spread.csv", dir);
  run_plan(plan, path);
  rows = clb_test_read_rows(path, &n);
  cr_assert_eq(n, 1);
  double spread = 1.482602218505602 * 0.3;
  cr_expect(fabs(rows[0].host_spread - spread) < 1e-6, "%g", rows[0].host_spread);
  double half = rows[0].step_s_ci_high - rows[0].step_s_median;
  cr_expect_geq(half, 0.99 * 1.959963984540054 * rows[0].host_spread * rows[0].step_s_median,
                "+-%g s around %g s", half, rows[0].step_s_median);
  cr_expect_eq(rows[0].stable, 0, "+-87 %% is beyond --passes-ci");
  cr_expect(strstr(rows[0].message, "a re-run on this host may land about +-") != NULL, "%s",
            rows[0].message);
  /* Said before the run too, and kept with the host's warnings: 1.96 x 0.445. */
  char first[CLB_STR_FIELD_SIZE + 64];
  snprintf(first, sizeof first, "%s: recent passes +-87%% apart", rows[0].device);
  cr_expect(strncmp(rows[0].host_warnings, first, strlen(first)) == 0, "%s", rows[0].host_warnings);
  cr_expect(strstr(rows[0].host_warnings, "no host_spread yet") == NULL, "%s",
            rows[0].host_warnings);
  free(rows);

  fake_fast_history(history);
  snprintf(path, sizeof path, "%s/slow.csv", dir);
  run_plan(plan, path);
  rows = clb_test_read_rows(path, &n);
  cr_assert_eq(n, 1);
  for (size_t i = 0; i < n; i++) {
    cr_expect(rows[i].host_slowdown > 20, "B=%g: %g", rows[i].batch, rows[i].host_slowdown);
    cr_expect_eq(rows[i].stable, 0, "B=%g", rows[i].batch);
    cr_expect(strstr(rows[i].message, "slower than usual (reference step)") != NULL, "%s",
              rows[i].message);
  }
  free(rows);

  /* One pass: the worker flags its own rows. */
  snprintf(plan, sizeof plan,
           "--model softmax --batch 8 --passes 1 --drift-limit 5 %s --speed-history %s",
           long_enough, history);
  snprintf(path, sizeof path, "%s/one.csv", dir);
  run_plan(plan, path);
  rows = clb_test_read_rows(path, &n);
  cr_assert_eq(n, 1);
  cr_expect(rows[0].host_slowdown > 20, "%g", rows[0].host_slowdown);
  cr_expect_eq(rows[0].stable, 0);
  cr_expect(strstr(rows[0].message, "slower than usual (reference step)") != NULL, "%s",
            rows[0].message);
  free(rows);

  /* Timed for a few milliseconds: a reference median of a handful of steps
   * is warm-up, not the host's speed, so no line and no column. */
  lines = count_lines(history);
  snprintf(plan, sizeof plan,
           "--model softmax --batch 8 --passes 1 --min-time 0.001 --max-time 0.004 "
           "--speed-history %s",
           history);
  snprintf(path, sizeof path, "%s/short.csv", dir);
  run_plan(plan, path);
  rows = clb_test_read_rows(path, &n);
  cr_assert_eq(n, 1);
  cr_expect(isnan(rows[0].host_slowdown), "%g", rows[0].host_slowdown);
  cr_expect_eq(count_lines(history), lines);
  free(rows);

  /* none: no reference step, no line, no column (every other test runs so). */
  snprintf(path, sizeof path, "%s/none.csv", dir);
  run_plan("--model softmax --batch 8 --passes 1 --speed-history none", path);
  rows = clb_test_read_rows(path, &n);
  cr_assert_eq(n, 1);
  cr_expect(isnan(rows[0].host_slowdown));
  cr_expect_eq(count_lines(history), lines);
  free(rows);
  clb_test_remove_tmpdir(dir);
}
