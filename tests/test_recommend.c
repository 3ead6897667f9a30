#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>

#include "measure/recommend.h"

/* A card whose step costs a fixed 1 ms of overhead plus 1 ms per 64 samples:
 * t(B) = 1e-3 (1 + B / 64) s, so samples/s = 64000 B / (64 + B).
 *
 *   B      t (ms)   samples/s    cost with B_noise = 100: t (1 + 100 / B) (ms)
 *   1      1.015625    984.6      102.578...
 *   16     1.25      12800        1.25 * 7.25    = 9.0625
 *   32     1.5       21333.3      1.5  * 4.125   = 6.1875
 *   64     2         32000        2    * 2.5625  = 5.125     <- B*
 *   128    3         42666.7      3    * 1.78125 = 5.34375
 *   256    5         51200        5    * 1.390625= 6.953125
 *   512    9         56888.9      9    * 1.1953125
 *   1024   17        60235.3      best samples/s
 *
 * Knee: 0.9 * 60235.3 = 54211.8; 256 gives 51200 (short), 512 gives 56888.9.
 * Speed-up of B* over 32: 6.1875 / 5.125 = 1.2073170731707317. */
static size_t make_card(struct clb_batch_point *p) {
  size_t n = 0;
  for (size_t b = 1; b <= 1024; b *= 2) {
    double t = 1e-3 * (1.0 + (double)b / 64.0);
    p[n++] = (struct clb_batch_point){b, t, (double)b / t, 1};
  }
  /* Out of memory: never ran, must not count anywhere. */
  p[n++] = (struct clb_batch_point){2048, NAN, NAN, 0};
  /* A failed run with a bogus tiny time that would win everything if counted. */
  p[n++] = (struct clb_batch_point){4096, 1e-9, 4096e9, 0};
  return n;
}

Test(recommend, hand_computed_card) {
  struct clb_batch_point p[16];
  size_t n = make_card(p);
  struct clb_recommendation r;
  clb_recommend(p, n, 100.0, &r);
  cr_assert(r.valid);
  cr_expect_eq(r.best_batch, 1024);
  cr_expect_float_eq(r.best_samples_per_s, 64000.0 * 1024.0 / 1088.0, 1e-6);
  cr_expect_eq(r.knee_batch, 512);
  cr_expect_eq(r.largest_fit, 1024);
  cr_expect_eq(r.optimal_batch, 64);
  cr_expect_float_eq(r.optimal_cost, 5.125e-3, 1e-15);
  cr_expect_float_eq(r.speedup_vs_32, 6.1875 / 5.125, 1e-12);
}

Test(recommend, order_of_points_does_not_matter) {
  struct clb_batch_point p[16], reversed[16];
  size_t n = make_card(p);
  for (size_t i = 0; i < n; i++)
    reversed[i] = p[n - 1 - i];
  struct clb_recommendation r;
  clb_recommend(reversed, n, 100.0, &r);
  cr_expect_eq(r.best_batch, 1024);
  cr_expect_eq(r.knee_batch, 512);
  cr_expect_eq(r.largest_fit, 1024);
  cr_expect_eq(r.optimal_batch, 64);
}

Test(recommend, failed_points_are_ignored) {
  struct clb_batch_point p[16];
  size_t n = make_card(p);
  /* Mark 512 and 1024 as failed: 256 becomes the best (51200 samples/s) and
   * the largest fit; the knee needs 46080, which 128 (42666.7) misses. */
  p[9].fits = 0;
  p[10].fits = 0;
  struct clb_recommendation r;
  clb_recommend(p, n, 100.0, &r);
  cr_expect_eq(r.best_batch, 256);
  cr_expect_eq(r.largest_fit, 256);
  cr_expect_eq(r.knee_batch, 256);
  cr_expect_eq(r.optimal_batch, 64);
}

Test(recommend, unmeasured_time_is_not_usable_but_still_fits) {
  struct clb_batch_point p[] = {
      {32, 1e-3, 32e3, 1},
      {64, NAN, NAN, 1},  /* ran, but no time */
      {128, 0.0, 0.0, 1}, /* zero time: not measured */
  };
  struct clb_recommendation r;
  clb_recommend(p, 3, 10.0, &r);
  cr_expect(r.valid);
  cr_expect_eq(r.best_batch, 32);
  cr_expect_eq(r.knee_batch, 32);
  cr_expect_eq(r.optimal_batch, 32);
  cr_expect_eq(r.largest_fit, 128);
  cr_expect_float_eq(r.speedup_vs_32, 1.0, 1e-15);
}

Test(recommend, empty_and_unusable_inputs_are_invalid) {
  struct clb_recommendation r;
  clb_recommend(NULL, 0, 100.0, &r);
  cr_expect_eq(r.valid, 0);
  cr_expect_eq(r.optimal_batch, 0);
  cr_expect_eq(r.knee_batch, 0);
  cr_expect_eq(r.largest_fit, 0);
  cr_expect(isnan(r.optimal_cost));
  cr_expect(isnan(r.speedup_vs_32));

  struct clb_batch_point p[] = {{32, NAN, NAN, 1}, {64, 1e-3, 64e3, 0}};
  clb_recommend(p, 2, 100.0, &r);
  cr_expect_eq(r.valid, 0);
  cr_expect_eq(r.optimal_batch, 0);
  cr_expect_eq(r.best_batch, 0);
  cr_expect_eq(r.largest_fit, 32, "a run without a time still proves the memory fits");
}

Test(recommend, unknown_noise_scale_leaves_optimal_unknown) {
  struct clb_batch_point p[16];
  size_t n = make_card(p);
  double scales[] = {0.0, -5.0, NAN};
  for (size_t i = 0; i < 3; i++) {
    struct clb_recommendation r;
    clb_recommend(p, n, scales[i], &r);
    cr_expect(r.valid);
    cr_expect_eq(r.optimal_batch, 0, "noise scale %g", scales[i]);
    cr_expect(isnan(r.optimal_cost));
    cr_expect(isnan(r.speedup_vs_32));
    cr_expect_eq(r.knee_batch, 512);
    cr_expect_eq(r.best_batch, 1024);
    cr_expect_eq(r.largest_fit, 1024);
  }
}

Test(recommend, ties_go_to_the_smaller_batch) {
  /* B_noise = 64: cost(32) = 2 * (1 + 2) = 6, cost(64) = 3 * (1 + 1) = 6,
   * cost(128) = 5 * 1.5 = 7.5. All exact in binary floating point. The
   * smaller batch is listed last so that "first seen" would pick 64. */
  struct clb_batch_point p[] = {{128, 5.0, 25.6, 1}, {64, 3.0, 64.0 / 3.0, 1}, {32, 2.0, 16.0, 1}};
  struct clb_recommendation r;
  clb_recommend(p, 3, 64.0, &r);
  cr_expect_eq(r.optimal_batch, 32);
  cr_expect_float_eq(r.optimal_cost, 6.0, 0);
  cr_expect_float_eq(r.speedup_vs_32, 1.0, 0);

  /* Equal throughput: 64 / 1 s = 128 / 2 s. */
  struct clb_batch_point q[] = {{128, 2.0, 64.0, 1}, {64, 1.0, 64.0, 1}};
  clb_recommend(q, 2, 1.0, &r);
  cr_expect_eq(r.best_batch, 64);
  cr_expect_eq(r.knee_batch, 64);
}

Test(recommend, no_batch_32_means_no_speedup) {
  struct clb_batch_point p[] = {{16, 1.0, 16.0, 1}, {64, 2.0, 32.0, 1}};
  struct clb_recommendation r;
  clb_recommend(p, 2, 10.0, &r);
  cr_expect(r.valid);
  cr_expect_neq(r.optimal_batch, 0);
  cr_expect(isnan(r.speedup_vs_32));
}

Test(recommend, throughput_derived_when_not_given) {
  /* samples_per_s left NaN: batch / step_s is used instead. */
  struct clb_batch_point p[] = {{8, 1.0, NAN, 1}, {16, 1.0, NAN, 1}, {32, 1.1, NAN, 1}};
  struct clb_recommendation r;
  clb_recommend(p, 3, 10.0, &r);
  cr_expect_eq(r.best_batch, 32);
  cr_expect_float_eq(r.best_samples_per_s, 32.0 / 1.1, 1e-12);
  /* 0.9 * 29.09 = 26.18: only 32 qualifies. */
  cr_expect_eq(r.knee_batch, 32);
}

Test(recommend, cost_formula) {
  cr_expect_float_eq(clb_recommend_cost(2.0, 32, 64.0), 6.0, 0);
  cr_expect_float_eq(clb_recommend_cost(1.5e-3, 100, 0.0), 1.5e-3, 0);
  cr_expect(isnan(clb_recommend_cost(1.0, 0, 10.0)));
}
