/* Gradient-noise statistics on the device against explicit per-sample
 * gradients on the host and against sigma^2/B (N-B)/(N-1). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/context.h"
#include "helpers.h"
#include "model/dataset.h"
#include "model/noise.h"
#include "model/reference.h"
#include "util/rng.h"

/* A model over a synthetic dataset, on a context the caller owns. */
struct problem {
  struct clb_dataset data;
  struct clb_model *model;
  struct clb_shape shape;
  double *theta;
};

/* outputs: linreg's C (0: 2); classifiers have 4 classes. */
static void open_problem(struct problem *p, const struct clb_cl *cl, int kind, int precision,
                         size_t n, size_t max_batch, size_t outputs) {
  memset(p, 0, sizeof *p);
  struct clb_error err = {0};
  size_t d = 6, h = 9, c = kind != CLB_MODEL_LINREG ? 4 : outputs ? outputs : 2;
  int rc = kind == CLB_MODEL_LINREG ? clb_data_regression(n, d, c, 1.0, 5, &p->data, &err)
                                    : clb_data_classes(n, d, c, 1.0, 5, &p->data, &err);
  cr_assert_eq(rc, 0, "%s", err.message);
  p->shape = (struct clb_shape){kind, d, kind == CLB_MODEL_MLP ? h : 0, c};
  struct clb_model_config config = {p->shape, precision, max_batch, 0};
  cr_assert_eq(clb_model_create(cl, &config, &p->data, &p->model, &err), 0, "%s", err.message);
  size_t count = clb_shape_param_count(&p->shape);
  p->theta = malloc(count * sizeof *p->theta);
  cr_assert_not_null(p->theta);
  struct clb_rng rng;
  clb_rng_seed(&rng, 11);
  for (size_t i = 0; i < count; i++)
    p->theta[i] = 0.3 * clb_rng_normal(&rng);
  cr_assert_eq(clb_model_set_params(p->model, p->theta, &err), 0, "%s", err.message);
}

static void close_problem(struct problem *p) {
  clb_model_destroy(p->model);
  clb_dataset_destroy(&p->data);
  free(p->theta);
}

/* One problem on a context of its own. */
struct fixture {
  struct clb_device_list list;
  const struct clb_device_info *dev;
  struct clb_cl cl;
  struct problem problem;
};

static int open_fixture(struct fixture *f, int kind, int precision, size_t n, size_t max_batch,
                        size_t outputs) {
  memset(f, 0, sizeof *f);
  if (!clb_test_open_cl(&f->list, &f->dev, &f->cl, (enum clb_precision)precision))
    return 0;
  open_problem(&f->problem, &f->cl, kind, precision, n, max_batch, outputs);
  return 1;
}

static void close_fixture(struct fixture *f) {
  close_problem(&f->problem);
  clb_test_close_cl(&f->list, &f->cl);
}

struct exact_case {
  int kind;
  int precision;
  size_t chunk;
  size_t outputs; /* linreg: 1 makes its products GEMVs (src/blas/blas.c); 0 means 2 */
};

static const struct exact_case exact_cases[] = {
    {CLB_MODEL_LINREG, CLB_FP64, 16, 0}, {CLB_MODEL_SOFTMAX, CLB_FP64, 16, 0},
    {CLB_MODEL_MLP, CLB_FP64, 16, 0},    {CLB_MODEL_LINREG, CLB_FP32, 50, 0},
    {CLB_MODEL_SOFTMAX, CLB_FP32, 7, 0}, {CLB_MODEL_MLP, CLB_FP32, 100, 0},
    {CLB_MODEL_LINREG, CLB_FP64, 16, 1}, {CLB_MODEL_LINREG, CLB_FP32, 50, 1},
    {CLB_MODEL_LINREG, CLB_FP16, 50, 0}, {CLB_MODEL_SOFTMAX, CLB_FP16, 7, 0},
    {CLB_MODEL_MLP, CLB_FP16, 100, 0},   {CLB_MODEL_LINREG, CLB_FP16, 16, 1},
};

static void check_exact(const struct clb_cl *cl, const struct exact_case *t) {
  struct problem p;
  const size_t n = 100;
  open_problem(&p, cl, t->kind, t->precision, n, t->chunk, t->outputs);
  struct clb_error err = {0};
  struct clb_noise_exact exact;
  char name[96];
  snprintf(name, sizeof name, "%s %s, chunk %zu, %zu output(s)", clb_shape_kind_name(t->kind),
           clb_precision_name(t->precision), t->chunk, p.shape.c);
  cr_assert_eq(clb_noise_exact(p.model, n, t->chunk, &exact, &err), 0, "%s: %s", name, err.message);
  double sigma2 = 0, grad_norm2 = 0;
  clb_ref_noise(&p.shape, p.theta, &p.data, &sigma2, &grad_norm2);
  /* fp16: each input is rounded to 11 bits (relative 2^-11 ~ 5e-4) before any sum. */
  double tolerance = t->precision == CLB_FP64 ? 1e-9 : t->precision == CLB_FP32 ? 1e-4 : 5e-3;
  cr_expect_lt(fabs(exact.sigma2 - sigma2) / sigma2, tolerance, "%s: sigma2 %.12g vs %.12g", name,
               exact.sigma2, sigma2);
  cr_expect_lt(fabs(exact.grad_norm2 - grad_norm2) / grad_norm2, tolerance * 10,
               "%s: |G|^2 %.12g vs %.12g", name, exact.grad_norm2, grad_norm2);
  cr_expect_lt(fabs(exact.noise_scale - sigma2 / grad_norm2) / (sigma2 / grad_norm2),
               tolerance * 10, "%s: noise scale %.12g vs %.12g", name, exact.noise_scale,
               sigma2 / grad_norm2);
  clb_noise_exact_destroy(&exact);
  close_problem(&p);
}

/* The cases run in groups of one precision on one context, a process each: a
 * runtime with no kernel cache across processes (Intel's) builds each
 * program once per group rather than once per case, seconds a case. */
struct precision_group {
  int precision;
};

ParameterizedTestParameters(noise, sigma2_from_norm_identity_matches_explicit) {
  static struct precision_group groups[] = {{CLB_FP64}, {CLB_FP32}, {CLB_FP16}};
  return cr_make_param_array(struct precision_group, groups, sizeof groups / sizeof groups[0]);
}

ParameterizedTest(struct precision_group *group, noise,
                  sigma2_from_norm_identity_matches_explicit) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  struct clb_cl cl;
  if (!clb_test_open_cl(&list, &dev, &cl, (enum clb_precision)group->precision))
    return;
  size_t checked = 0;
  for (size_t i = 0; i < sizeof exact_cases / sizeof exact_cases[0]; i++)
    if (exact_cases[i].precision == group->precision) {
      check_exact(&cl, &exact_cases[i]);
      checked++;
    }
  cr_expect_gt(checked, 0, "no case for %s", clb_precision_name(group->precision));
  clb_test_close_cl(&list, &cl);
}

/* Three batch sizes of one problem, on one context (see precision_group). */
Test(noise, measured_variance_matches_prediction) {
  static const size_t batches[] = {1, 23, 63};
  struct fixture f;
  const size_t n = 64;
  if (!open_fixture(&f, CLB_MODEL_LINREG, CLB_FP64, n, n, 0))
    return;
  struct clb_error err = {0};
  struct clb_noise_exact exact;
  cr_assert_eq(clb_noise_exact(f.problem.model, n, n, &exact, &err), 0, "%s", err.message);
  for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
    const size_t batch = batches[i];
    struct clb_noise_measured measured;
    cr_assert_eq(clb_noise_measure(f.problem.model, n, batch, 1500, 99, &exact, &measured, &err), 0,
                 "B=%zu: %s", batch, err.message);
    double expected = exact.sigma2 / (double)batch * (double)(n - batch) / (double)(n - 1);
    cr_expect_lt(fabs(measured.predicted - expected), 1e-12 * expected, "B=%zu", batch);
    cr_expect(measured.ci_low <= expected && expected <= measured.ci_high,
              "B=%zu: prediction %g outside the 95%% interval [%g, %g] (mean %g)", batch, expected,
              measured.ci_low, measured.ci_high, measured.mean);
    /* The interval must be tight enough to tell the sampling schemes apart. */
    cr_expect_lt(measured.ci_high - measured.ci_low, 0.25 * expected, "B=%zu", batch);
    cr_expect_lt(fabs(measured.ratio - 1.0), 0.15, "B=%zu: ratio %g", batch, measured.ratio);
  }
  clb_noise_exact_destroy(&exact);
  close_fixture(&f);
}

/* fp16 holds at most 65504. Gradients that large are ordinary (a regression
 * far from its fit); their noise statistics must still come out finite and
 * agree with the fp64 ones: sums of squares are kept in float on the device. */
Test(noise, fp16_statistics_beyond_the_half_range_match_fp64) {
  const size_t n = 64, batch = 1;
  double sigma2[2], grad_norm2[2], variance[2];
  const int precisions[2] = {CLB_FP64, CLB_FP16};
  for (int i = 0; i < 2; i++) {
    struct fixture f;
    if (!open_fixture(&f, CLB_MODEL_LINREG, precisions[i], n, n, 0))
      return;
    struct clb_error err = {0};
    size_t p = clb_shape_param_count(&f.problem.shape);
    for (size_t j = 0; j < p; j++)
      f.problem.theta[j] *= 100.0; /* |g_B - G|^2 ~ 2e5 > 65504 */
    cr_assert_eq(clb_model_set_params(f.problem.model, f.problem.theta, &err), 0, "%s",
                 err.message);
    struct clb_noise_exact exact;
    cr_assert_eq(clb_noise_exact(f.problem.model, n, 16, &exact, &err), 0, "%s", err.message);
    struct clb_noise_measured measured;
    cr_assert_eq(clb_noise_measure(f.problem.model, n, batch, 32, 5, &exact, &measured, &err), 0,
                 "%s", err.message);
    sigma2[i] = exact.sigma2;
    grad_norm2[i] = exact.grad_norm2;
    variance[i] = measured.mean;
    clb_noise_exact_destroy(&exact);
    close_fixture(&f);
  }
  cr_assert_gt(variance[0], 65504.0, "the case must exceed fp16's range: %g", variance[0]);
  cr_expect_lt(fabs(sigma2[1] - sigma2[0]) / sigma2[0], 5e-3, "sigma2 %g vs %g", sigma2[1],
               sigma2[0]);
  cr_expect_lt(fabs(grad_norm2[1] - grad_norm2[0]) / grad_norm2[0], 5e-3, "|G|^2 %g vs %g",
               grad_norm2[1], grad_norm2[0]);
  cr_expect_lt(fabs(variance[1] - variance[0]) / variance[0], 5e-3, "variance %g vs %g",
               variance[1], variance[0]);
}

Test(noise, variance_is_exactly_zero_at_full_batch) {
  struct fixture f;
  const size_t n = 40;
  if (!open_fixture(&f, CLB_MODEL_SOFTMAX, CLB_FP32, n, n, 0))
    return;
  struct clb_error err = {0};
  struct clb_noise_exact exact;
  cr_assert_eq(clb_noise_exact(f.problem.model, n, n, &exact, &err), 0, "%s", err.message);
  struct clb_noise_measured measured;
  cr_assert_eq(clb_noise_measure(f.problem.model, n, n, 64, 1, &exact, &measured, &err), 0, "%s",
               err.message);
  cr_expect_eq(measured.mean, 0.0);
  cr_expect_eq(measured.predicted, 0.0);
  cr_expect_eq(measured.ci_high, 0.0);
  clb_noise_exact_destroy(&exact);
  close_fixture(&f);
}
