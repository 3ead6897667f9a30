#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "measure/stats.h"

Test(summary, one_to_ten_by_hand) {
  double v[10] = {7, 3, 10, 1, 5, 9, 2, 8, 6, 4};
  double copy[10];
  memcpy(copy, v, sizeof v);
  struct clb_summary s;
  clb_stats_summarize(v, 10, &s);
  cr_expect_eq(s.n, 10);
  cr_expect_float_eq(s.mean, 5.5, 1e-12);
  /* Sum of squared deviations of 1..10 is 82.5; / 9 = 9.1666... */
  cr_expect_float_eq(s.stddev, sqrt(82.5 / 9.0), 1e-12);
  cr_expect_float_eq(s.min, 1.0, 0);
  cr_expect_float_eq(s.max, 10.0, 0);
  /* Type 7: h = 9p; p10 -> 0.9 past the 1st, p90 -> 8.1 past the 1st. */
  cr_expect_float_eq(s.median, 5.5, 1e-12);
  cr_expect_float_eq(s.p10, 1.9, 1e-12);
  cr_expect_float_eq(s.p90, 9.1, 1e-12);
  cr_expect_float_eq(s.cv, sqrt(82.5 / 9.0) / 5.5, 1e-12);
  cr_expect(memcmp(v, copy, sizeof v) == 0, "the input must not be reordered");
}

Test(summary, odd_count_and_interpolation) {
  /* Sorted: 1 2 4 8 16. h = 4p: median -> index 2 (4); p10 -> 0.4 between 1 and 2;
   * p90 -> 3.6 between 8 and 16 = 8 + 0.6 * 8 = 12.8. */
  double v[5] = {16, 1, 8, 2, 4};
  struct clb_summary s;
  clb_stats_summarize(v, 5, &s);
  cr_expect_float_eq(s.median, 4.0, 1e-12);
  cr_expect_float_eq(s.p10, 1.4, 1e-12);
  cr_expect_float_eq(s.p90, 12.8, 1e-12);
  cr_expect_float_eq(s.mean, 31.0 / 5.0, 1e-12);
}

Test(summary, any_quantile_by_hand) {
  /* Sorted: 1 2 4 8 16; h = 4p: p = 0.25 -> index 1 (2); p = 0.3 -> 1.2, between 2 and 4. */
  double v[5] = {16, 1, 8, 2, 4};
  cr_expect_float_eq(clb_stats_quantile(v, 5, 0.25), 2.0, 1e-12);
  cr_expect_float_eq(clb_stats_quantile(v, 5, 0.3), 2.4, 1e-12);
  cr_expect_float_eq(clb_stats_quantile(v, 5, 0.0), 1.0, 0);
  cr_expect_float_eq(clb_stats_quantile(v, 5, 1.0), 16.0, 0);
  cr_expect_eq(v[0], 16, "the input must not be reordered");
  cr_expect(isnan(clb_stats_quantile(v, 0, 0.5)));
  cr_expect(isnan(clb_stats_quantile(v, 5, 1.5)));
  cr_expect(isnan(clb_stats_quantile(v, 5, NAN)));
}

Test(summary, single_value_has_zero_spread) {
  double v = 3.25;
  struct clb_summary s;
  clb_stats_summarize(&v, 1, &s);
  cr_expect_eq(s.n, 1);
  cr_expect_float_eq(s.mean, 3.25, 0);
  cr_expect_float_eq(s.median, 3.25, 0);
  cr_expect_float_eq(s.p10, 3.25, 0);
  cr_expect_float_eq(s.p90, 3.25, 0);
  cr_expect_float_eq(s.stddev, 0.0, 0);
  cr_expect_float_eq(s.cv, 0.0, 0);
}

Test(summary, two_values_and_cv) {
  double v[2] = {0.9, 1.1};
  struct clb_summary s;
  clb_stats_summarize(v, 2, &s);
  /* stddev = |a - b| / sqrt(2) for two values. */
  cr_expect_float_eq(s.stddev, 0.2 / sqrt(2.0), 1e-12);
  cr_expect_float_eq(s.cv, 0.2 / sqrt(2.0), 1e-12);
  cr_expect_float_eq(s.p10, 0.92, 1e-12);
  cr_expect_float_eq(s.p90, 1.08, 1e-12);
}

Test(summary, tiny_spread_on_a_large_mean) {
  /* Timings like 1e9 +- 1: the naive sum-of-squares formula loses this. */
  double v[4] = {1e9 + 1, 1e9 - 1, 1e9 + 1, 1e9 - 1};
  struct clb_summary s;
  clb_stats_summarize(v, 4, &s);
  cr_expect_float_eq(s.stddev, sqrt(4.0 / 3.0), 1e-9);
}

Test(summary, empty_input_is_nan) {
  struct clb_summary s;
  clb_stats_summarize(NULL, 0, &s);
  cr_expect_eq(s.n, 0);
  cr_expect(isnan(s.mean));
  cr_expect(isnan(s.median));
}

struct t_case {
  double confidence;
  size_t dof;
  double expected; /* From printed t tables (3 decimals) or closed forms. */
  double tolerance;
};

ParameterizedTestParameters(t_quantile, matches_tables) {
  static struct t_case cases[] = {
      {0.95, 1, 12.706, 5e-4},
      {0.95, 2, 4.303, 5e-4},
      {0.95, 3, 3.182, 5e-4},
      {0.95, 5, 2.571, 5e-4},
      {0.95, 10, 2.228, 5e-4},
      {0.95, 30, 2.042, 5e-4},
      {0.95, 63, 1.998, 5e-4},
      {0.95, 1000, 1.962, 5e-4},
      {0.99, 10, 3.169, 5e-4},
      {0.99, 1, 63.657, 5e-3},
      {0.90, 4, 2.132, 5e-4},
      {0.80, 20, 1.325, 5e-4},
      {0.999, 5, 6.869, 5e-4},
      {0.50, 1, 1.0, 1e-12},
      {0.95, 120, 1.980, 5e-4},
      /* Closed forms, checked to 1e-9: dof 1 is tan(pi c / 2); dof 2 is
       * c sqrt(2 / (a (2 - a))) with a = 1 - c. */
      {0.95, 1, 12.706204736174698, 1e-9},
      {0.95, 2, 4.302652729749464, 1e-9},
      /* More digits, from mpmath at 30 digits (bisection on the integrated density). */
      {0.95, 5, 2.570581835636314, 1e-9},
      {0.95, 10, 2.228138851986274, 1e-9},
      {0.95, 30, 2.042272456301238, 1e-9},
      {0.95, 63, 1.9983405425207412, 1e-9},
      {0.95, 1000, 1.9623390808264085, 1e-9},
      {0.99, 10, 3.169272672616951, 1e-9},
      {0.95, 100000, 1.9599877075346096, 1e-9},
      {0.95, 2000, 1.961150826099438, 1e-9},
      {0.95, 2001, 1.9611502326224414, 1e-9},
      {0.95, 3, 3.1824463052837096, 1e-9},
      {0.95, 120, 1.9799304050824408, 1e-9},
      {0.999, 5, 6.8688266258811102, 1e-9},
      {0.80, 20, 1.3253407069850463, 1e-9},
  };
  return cr_make_param_array(struct t_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct t_case *c, t_quantile, matches_tables) {
  double t = clb_stats_t_quantile(c->confidence, c->dof);
  cr_expect(fabs(t - c->expected) <= c->tolerance, "t(%g, %zu) = %.12f, expected %.12f",
            c->confidence, c->dof, t, c->expected);
}

/* ln t = -0.02 .. 0.02 in steps of 0.01 plus two slow ones (0.5, 0.6): the
 * median is 0.01, the absolute deviations 0 0.01 0.01 0.02 0.03 0.49 0.59,
 * their median 0.02, times 1.4826. The slow two do not move it. */
Test(log_spread, by_hand_and_robust_to_a_few_slow_values) {
  const double logs[7] = {0.02, -0.01, 0.6, 0, -0.02, 0.5, 0.01};
  double v[7], scaled[7];
  for (int i = 0; i < 7; i++) {
    v[i] = exp(logs[i]);
    scaled[i] = 1e-4 * v[i];
  }
  double copy[7];
  memcpy(copy, v, sizeof v);
  cr_expect_float_eq(clb_stats_log_spread(v, 7), 1.482602218505602 * 0.02, 1e-12);
  cr_expect_float_eq(clb_stats_log_spread(scaled, 7), 1.482602218505602 * 0.02, 1e-12,
                     "relative: the unit does not matter");
  cr_expect(memcmp(v, copy, sizeof v) == 0, "the input must not be reordered");
  double same[3] = {2e-4, 2e-4, 2e-4};
  cr_expect_eq(clb_stats_log_spread(same, 3), 0);
}

Test(log_spread, undefined_for_too_few_or_non_positive_values) {
  double v[3] = {1e-4, 0, 2e-4};
  cr_expect(isnan(clb_stats_log_spread(v, 1)));
  cr_expect(isnan(clb_stats_log_spread(v, 3)), "a time of 0");
  v[1] = -1e-4;
  cr_expect(isnan(clb_stats_log_spread(v, 3)));
  v[1] = INFINITY;
  cr_expect(isnan(clb_stats_log_spread(v, 3)));
  cr_expect(isnan(clb_stats_log_spread(NULL, 3)));
}

Test(t_quantile, approaches_the_normal_and_is_monotone) {
  double previous = INFINITY;
  /* Crosses the switch from the incomplete beta to the asymptotic series. */
  size_t dofs[] = {1, 2, 3, 4, 7, 15, 31, 64, 500, 1999, 2000, 2001, 2002, 5000, 1000000};
  for (size_t i = 0; i < sizeof dofs / sizeof dofs[0]; i++) {
    double t = clb_stats_t_quantile(0.95, dofs[i]);
    cr_expect_lt(t, previous, "t must shrink with dof (dof %zu: %.15f)", dofs[i], t);
    previous = t;
  }
  cr_expect_float_eq(clb_stats_t_quantile(0.95, 1000000000), 1.9599639869123255, 1e-12);
  /* No jump where the two methods meet. */
  double below = clb_stats_t_quantile(0.95, 2000), above = clb_stats_t_quantile(0.95, 2001);
  cr_expect_lt(below - above, 1e-6);
}

Test(t_quantile, rejects_meaningless_arguments) {
  cr_expect(isnan(clb_stats_t_quantile(0.95, 0)));
  cr_expect(isnan(clb_stats_t_quantile(0.0, 10)));
  cr_expect(isnan(clb_stats_t_quantile(1.0, 10)));
  cr_expect(isnan(clb_stats_t_quantile(NAN, 10)));
}

Test(mean_ci, by_hand) {
  double v[4] = {1, 2, 3, 4};
  double mean, low, high;
  clb_stats_mean_ci(v, 4, 0.95, &mean, &low, &high);
  /* stddev = sqrt(5/3); t_{0.975,3} = 3.1824463052837096. */
  double half = 3.1824463052837096 * sqrt(5.0 / 3.0) / 2.0;
  cr_expect_float_eq(mean, 2.5, 1e-12);
  cr_expect_float_eq(low, 2.5 - half, 1e-9);
  cr_expect_float_eq(high, 2.5 + half, 1e-9);
}

/* A fixed xorshift generator: the coverage check must be reproducible. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double uniform01(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}
static double gaussian(void) {
  return sqrt(-2.0 * log(uniform01())) * cos(2.0 * M_PI * uniform01());
}

Test(mean_ci, covers_the_true_mean_about_95_percent_of_the_time) {
  /* With normal samples the t interval is exact; 4000 trials put the
   * coverage within about +-1 % (3.5 sigma) of 95 %. */
  int trials = 4000, covered = 0;
  for (int k = 0; k < trials; k++) {
    double v[6];
    for (int i = 0; i < 6; i++)
      v[i] = 10.0 + 2.0 * gaussian();
    double mean, low, high;
    clb_stats_mean_ci(v, 6, 0.95, &mean, &low, &high);
    covered += low <= 10.0 && 10.0 <= high;
  }
  double coverage = (double)covered / trials;
  cr_expect(coverage > 0.94 && coverage < 0.96, "coverage %.4f", coverage);
}

Test(variance, finite_population_correction) {
  cr_expect_float_eq(clb_stats_var_without_replacement(8.0, 4, 101), 2.0 * 97.0 / 100.0, 1e-12);
  cr_expect_float_eq(clb_stats_var_without_replacement(8.0, 1, 101), 8.0, 1e-12);
  cr_expect_eq(clb_stats_var_without_replacement(8.0, 101, 101), 0.0, "B = N has no noise");
  cr_expect_eq(clb_stats_var_without_replacement(8.0, 1, 1), 0.0);
  cr_expect(isnan(clb_stats_var_without_replacement(8.0, 0, 10)));
  cr_expect(isnan(clb_stats_var_without_replacement(8.0, 11, 10)));
  cr_expect_float_eq(clb_stats_var_with_replacement(8.0, 4), 2.0, 1e-12);
  cr_expect(isnan(clb_stats_var_with_replacement(8.0, 0)));
}

struct two_batch_case {
  double trace, g2;
  size_t b_small, b_big;
};

ParameterizedTestParameters(two_batch, recovers_trace_and_gradient_norm) {
  static struct two_batch_case cases[] = {
      {3.0, 0.5, 32, 256},  {1e-3, 2.5e-6, 1, 1024},     {42.0, 0.0, 8, 16},
      {0.0, 7.0, 64, 4096}, {123.456, 0.789, 100, 1000},
  };
  return cr_make_param_array(struct two_batch_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct two_batch_case *c, two_batch, recovers_trace_and_gradient_norm) {
  /* Synthetic expectations E|g_B|^2 = |G|^2 + tr(Sigma) / B. */
  double s_small = c->g2 + c->trace / (double)c->b_small;
  double s_big = c->g2 + c->trace / (double)c->b_big;
  double trace = NAN, g2 = NAN;
  clb_stats_two_batch_estimate(s_small, c->b_small, s_big, c->b_big, &trace, &g2);
  double scale = c->trace + c->g2;
  cr_expect(fabs(trace - c->trace) <= 1e-12 * scale, "trace %.17g vs %.17g", trace, c->trace);
  cr_expect(fabs(g2 - c->g2) <= 1e-12 * scale, "G2 %.17g vs %.17g", g2, c->g2);
}

Test(two_batch, equal_batches_are_undefined) {
  double trace = 0, g2 = 0;
  clb_stats_two_batch_estimate(1.0, 32, 1.0, 32, &trace, &g2);
  cr_expect(isnan(trace));
  cr_expect(isnan(g2));
}

/* ---- the median of clustered samples (rounds) --------------------------- */

#include <stdlib.h>

#include "util/rng.h"

Test(clustered_median, one_sample_per_round_is_close_to_the_order_statistics_interval) {
  /* 1..20 in rounds of one. The distribution-free 95 % interval of the
   * median of 20 is [x(6), x(15)] = [6, 15] (binomial, coverage 95.9 %).
   * Woodruff with the clustered variance: below-median counts are 0 or 1,
   * var = 20/19 * 20 * 0.25 / 400, se = 0.1147, t(19) = 2.093, so the
   * quantiles at 0.5 -+ 0.2401: positions 19 * 0.2599 = 4.94 and 14.06,
   * values 5.94 and 15.06. */
  double v[20];
  size_t sizes[20];
  for (size_t i = 0; i < 20; i++) {
    v[i] = (double)(20 - i); /* order in the input must not matter */
    sizes[i] = 1;
  }
  struct clb_clustered_median m;
  clb_stats_clustered_median(v, sizes, 20, 0.95, &m);
  double se = sqrt(20.0 / 19.0 * 5.0 / 400.0);
  double reach = clb_stats_t_quantile(0.95, 19) * se;
  cr_expect_float_eq(m.median, 10.5, 1e-12);
  cr_expect_float_eq(m.low, 1.0 + 19.0 * (0.5 - reach), 1e-9);
  cr_expect_float_eq(m.high, 1.0 + 19.0 * (0.5 + reach), 1e-9);
  cr_expect(m.low > 5.5 && m.low < 6.5 && m.high > 14.5 && m.high < 15.5, "[%g, %g]", m.low,
            m.high);
  cr_expect_float_eq(m.half_width, (m.high - 10.5) / 10.5, 1e-12);
  /* |x - 10.5| for 1..20 is 0.5, 0.5, 1.5, 1.5, ...: its median is 5. */
  cr_expect_float_eq(m.rmad, 5.0 / 10.5, 1e-12);
}

Test(clustered_median, identical_rounds_collapse_and_degenerate_inputs_are_nan) {
  double same[12];
  size_t sizes[3] = {4, 4, 4};
  for (size_t i = 0; i < 12; i++)
    same[i] = 2.5e-5;
  struct clb_clustered_median m;
  clb_stats_clustered_median(same, sizes, 3, 0.95, &m);
  cr_expect_eq(m.median, 2.5e-5);
  cr_expect_eq(m.low, 2.5e-5);
  cr_expect_eq(m.high, 2.5e-5);
  cr_expect_eq(m.half_width, 0.0);
  cr_expect_eq(m.rmad, 0.0);

  clb_stats_clustered_median(same, sizes, 1, 0.95, &m); /* one round: no interval */
  cr_expect_eq(m.median, 2.5e-5);
  cr_expect(isnan(m.low) && isnan(m.high) && isnan(m.half_width));
  clb_stats_clustered_median(same, sizes, 3, 1.5, &m); /* no such confidence */
  cr_expect(isnan(m.low) && isnan(m.high));
  clb_stats_clustered_median(NULL, sizes, 0, 0.95, &m);
  cr_expect(isnan(m.median) && isnan(m.low) && isnan(m.rmad));
}

/* Rounds of 50 steps whose times share a random offset per round (the
 * machine's state at that moment): the steps are correlated within a round.
 * The clustered interval must cover the true median about 95 % of the time,
 * where one that took the 50 R steps as independent would cover far less. */
static double median_of_sorted_copy(const double *v, size_t n) {
  double *c = malloc(n * sizeof *c);
  memcpy(c, v, n * sizeof *c);
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && c[j - 1] > c[j]; j--) {
      double t = c[j];
      c[j] = c[j - 1];
      c[j - 1] = t;
    }
  double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
  free(c);
  return m;
}

Test(clustered_median, covers_the_true_median_when_steps_within_a_round_are_correlated) {
  enum { ROUNDS = 30, STEPS = 50, TRIALS = 400 };
  static double v[ROUNDS * STEPS];
  size_t sizes[ROUNDS];
  struct clb_rng rng;
  clb_rng_seed(&rng, 20261130);
  /* step = 100 + 3 u_round + e_step: u, e standard normal. The true median
   * of a step is 100 (symmetric). */
  size_t clustered_hits = 0, naive_hits = 0;
  double clustered_width = 0, naive_width = 0;
  for (int trial = 0; trial < TRIALS; trial++) {
    for (size_t r = 0; r < ROUNDS; r++) {
      double offset = 3.0 * clb_rng_normal(&rng);
      sizes[r] = STEPS;
      for (size_t s = 0; s < STEPS; s++)
        v[r * STEPS + s] = 100.0 + offset + clb_rng_normal(&rng);
    }
    struct clb_clustered_median m;
    clb_stats_clustered_median(v, sizes, ROUNDS, 0.95, &m);
    clustered_hits += m.low <= 100.0 && 100.0 <= m.high;
    clustered_width += m.high - m.low;
    /* The same samples as if every step were its own round. */
    static size_t ones[ROUNDS * STEPS];
    for (size_t i = 0; i < ROUNDS * STEPS; i++)
      ones[i] = 1;
    struct clb_clustered_median naive;
    clb_stats_clustered_median(v, ones, ROUNDS * STEPS, 0.95, &naive);
    naive_hits += naive.low <= 100.0 && 100.0 <= naive.high;
    naive_width += naive.high - naive.low;
    cr_assert_float_eq(m.median, median_of_sorted_copy(v, ROUNDS * STEPS), 1e-12);
  }
  double coverage = (double)clustered_hits / TRIALS;
  double naive_coverage = (double)naive_hits / TRIALS;
  /* 95 % of 400: a binomial sd of 1.1 %; t with 29 dof on a ratio estimator
   * runs a little under nominal. */
  cr_expect(coverage >= 0.90 && coverage <= 0.99, "clustered coverage %.3f", coverage);
  cr_expect(naive_coverage < 0.60, "independent-steps coverage %.3f", naive_coverage);
  cr_expect_gt(clustered_width, 2.5 * naive_width);
}
