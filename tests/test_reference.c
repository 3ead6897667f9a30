#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/dataset.h"
#include "model/params.h"
#include "model/reference.h"
#include "util/rng.h"

/* A small problem for each model: data, a shape that matches it, and a random
 * theta with non-zero biases (so bias gradients and ReLU masks matter). */
struct problem {
  struct clb_shape shape;
  struct clb_dataset data;
  double *theta;
  size_t p;
};

static void problem_make(struct problem *pb, int kind, size_t n) {
  struct clb_error err = {0};
  memset(pb, 0, sizeof *pb);
  if (kind == CLB_MODEL_LINREG) {
    pb->shape = (struct clb_shape){CLB_MODEL_LINREG, 3, 0, 2};
    cr_assert_eq(clb_data_regression(n, 3, 2, 0.3, 101, &pb->data, &err), 0, "%s", err.message);
  } else if (kind == CLB_MODEL_SOFTMAX) {
    pb->shape = (struct clb_shape){CLB_MODEL_SOFTMAX, 3, 0, 4};
    cr_assert_eq(clb_data_classes(n, 3, 4, 1.0, 102, &pb->data, &err), 0, "%s", err.message);
  } else {
    pb->shape = (struct clb_shape){CLB_MODEL_MLP, 3, 6, 4};
    cr_assert_eq(clb_data_classes(n, 3, 4, 1.0, 103, &pb->data, &err), 0, "%s", err.message);
  }
  pb->p = clb_shape_param_count(&pb->shape);
  pb->theta = malloc(pb->p * sizeof *pb->theta);
  struct clb_rng rng;
  clb_rng_seed(&rng, 200 + (uint64_t)kind);
  for (size_t k = 0; k < pb->p; k++)
    pb->theta[k] = 0.7 * clb_rng_normal(&rng);
}

static void problem_free(struct problem *pb) {
  clb_dataset_destroy(&pb->data);
  free(pb->theta);
}

static double norm2(const double *v, size_t n) {
  double s = 0;
  for (size_t k = 0; k < n; k++)
    s += v[k] * v[k];
  return s;
}

static double dist2(const double *a, const double *b, size_t n) {
  double s = 0;
  for (size_t k = 0; k < n; k++)
    s += (a[k] - b[k]) * (a[k] - b[k]);
  return s;
}

ParameterizedTestParameters(reference, gradient_matches_finite_differences) {
  static int kinds[] = {CLB_MODEL_LINREG, CLB_MODEL_SOFTMAX, CLB_MODEL_MLP};
  return cr_make_param_array(int, kinds, 3);
}

ParameterizedTest(int *kind, reference, gradient_matches_finite_differences) {
  struct problem pb;
  problem_make(&pb, *kind, 20);
  const uint32_t idx[5] = {3, 17, 0, 8, 11};
  double *grad = malloc(pb.p * sizeof *grad), *fd = malloc(pb.p * sizeof *fd);
  double loss = clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, idx, 5, grad);
  cr_assert(isfinite(loss) && loss > 0, "loss %g", loss);
  cr_expect_eq(clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, idx, 5, NULL), loss);
  /* Central differences: truncation error ~ eps^2, rounding ~ 1e-16 / eps. */
  const double eps = 1e-5;
  for (size_t k = 0; k < pb.p; k++) {
    double saved = pb.theta[k];
    pb.theta[k] = saved + eps;
    double up = clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, idx, 5, NULL);
    pb.theta[k] = saved - eps;
    double down = clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, idx, 5, NULL);
    pb.theta[k] = saved;
    fd[k] = (up - down) / (2 * eps);
    cr_expect(fabs(grad[k] - fd[k]) <= 1e-6 * (fabs(grad[k]) + fabs(fd[k])) + 1e-9,
              "%s: component %zu: analytic %.12g, numeric %.12g", clb_shape_kind_name(pb.shape.kind), k,
              grad[k], fd[k]);
  }
  double rel = sqrt(dist2(grad, fd, pb.p) / norm2(grad, pb.p));
  cr_expect_lt(rel, 1e-6, "%s: relative error %g", clb_shape_kind_name(pb.shape.kind), rel);
  /* Every parameter matters for this data, so no block of the gradient may be zero. */
  struct clb_tensor t[4];
  size_t count = clb_shape_tensors(&pb.shape, t);
  for (size_t i = 0; i < count; i++)
    cr_expect_gt(norm2(grad + t[i].offset, t[i].count), 0.0, "%s gradient is zero", t[i].name);
  free(grad);
  free(fd);
  problem_free(&pb);
}

ParameterizedTestParameters(reference, mean_of_sample_grads_is_batch_grad) {
  static int kinds[] = {CLB_MODEL_LINREG, CLB_MODEL_SOFTMAX, CLB_MODEL_MLP};
  return cr_make_param_array(int, kinds, 3);
}

ParameterizedTest(int *kind, reference, mean_of_sample_grads_is_batch_grad) {
  struct problem pb;
  problem_make(&pb, *kind, 30);
  const uint32_t idx[7] = {29, 1, 4, 9, 16, 25, 2};
  double *batch = malloc(pb.p * sizeof *batch), *mean = calloc(pb.p, sizeof *mean);
  double *gi = malloc(pb.p * sizeof *gi), *one = malloc(pb.p * sizeof *one);
  double batch_loss = clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, idx, 7, batch);
  double mean_loss = 0;
  for (size_t k = 0; k < 7; k++) {
    clb_ref_sample_grad(&pb.shape, pb.theta, &pb.data, idx[k], gi);
    /* g_i is the gradient of the batch of one. */
    mean_loss += clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, &idx[k], 1, one) / 7;
    cr_expect_eq(memcmp(gi, one, pb.p * sizeof *gi), 0, "sample %u", idx[k]);
    for (size_t j = 0; j < pb.p; j++)
      mean[j] += gi[j] / 7;
  }
  cr_expect(fabs(batch_loss - mean_loss) <= 1e-12 * fabs(batch_loss), "loss %.17g vs %.17g",
            batch_loss, mean_loss);
  double rel = sqrt(dist2(batch, mean, pb.p) / norm2(batch, pb.p));
  cr_expect_lt(rel, 1e-12, "%s: relative difference %g", clb_shape_kind_name(pb.shape.kind), rel);
  free(batch);
  free(mean);
  free(gi);
  free(one);
  problem_free(&pb);
}

Test(reference, linreg_worked_example) {
  /* N = 10 samples of one feature; the first batch is samples 0 and 1 with
   * x = (-1.2, 0.5), y = (-2.4, 1.0). From w = b = 0 the residual is
   * r = z - y = (2.4, -1.0), so with the MSE gradient (2/B) X^T r:
   * g_w = -1.2 * 2.4 + 0.5 * -1.0 = -3.38, g_b = 2.4 - 1.0 = 1.4, and one
   * step of lr 0.1 gives w = 0.338, b = -0.140. */
  double x[10] = {-1.2, 0.5, 0.3, -0.7, 1.1, 2.0, -2.0, 0.9, -0.1, 0.4};
  double y[10] = {-2.4, 1.0, 0.6, -1.4, 2.2, 4.0, -4.0, 1.8, -0.2, 0.8};
  struct clb_dataset data = {10, 1, 1, 0, x, y, NULL, NULL};
  struct clb_shape shape = {CLB_MODEL_LINREG, 1, 0, 1};
  double theta[2] = {0, 0}, grad[2];
  const uint32_t batch[2] = {0, 1};
  double loss = clb_ref_loss_grad(&shape, theta, &data, batch, 2, grad);
  cr_expect(fabs(loss - (2.4 * 2.4 + 1.0 * 1.0) / 2) < 1e-15, "loss %.17g", loss);
  cr_expect(fabs(grad[0] - -3.38) < 1e-14, "g_w %.17g", grad[0]);
  cr_expect(fabs(grad[1] - 1.4) < 1e-14, "g_b %.17g", grad[1]);
  for (int k = 0; k < 2; k++)
    theta[k] -= 0.1 * grad[k];
  cr_expect(fabs(theta[0] - 0.338) < 1e-14, "w %.17g", theta[0]);
  cr_expect(fabs(theta[1] - -0.140) < 1e-14, "b %.17g", theta[1]);

  /* The (1/2)MSE convention, (1/B) X^T r, computed here by hand, would give
   * half the step (w = 0.169, b = -0.070): the reference must be exactly twice it. */
  double half[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    double r = 0.0 - y[i];
    half[0] += x[i] * r / 2;
    half[1] += r / 2;
  }
  cr_expect(fabs(0.1 * -half[0] - 0.169) < 1e-14 && fabs(0.1 * -half[1] - -0.070) < 1e-14,
            "half-MSE step %.17g, %.17g", -0.1 * half[0], -0.1 * half[1]);
  cr_expect_eq(grad[0], 2 * half[0], "%.17g vs 2 * %.17g", grad[0], half[0]);
  cr_expect_eq(grad[1], 2 * half[1], "%.17g vs 2 * %.17g", grad[1], half[1]);
}

ParameterizedTestParameters(reference, noise_matches_its_definitions) {
  static int kinds[] = {CLB_MODEL_LINREG, CLB_MODEL_SOFTMAX, CLB_MODEL_MLP};
  return cr_make_param_array(int, kinds, 3);
}

ParameterizedTest(int *kind, reference, noise_matches_its_definitions) {
  struct problem pb;
  problem_make(&pb, *kind, 25);
  size_t n = pb.data.n;
  double sigma2 = -1, grad_norm2 = -1;
  clb_ref_noise(&pb.shape, pb.theta, &pb.data, &sigma2, &grad_norm2);

  /* |G|^2 from the full-batch gradient. */
  uint32_t *all = malloc(n * sizeof *all);
  for (size_t i = 0; i < n; i++)
    all[i] = (uint32_t)i;
  double *g = malloc(pb.p * sizeof *g), *gi = malloc(pb.p * sizeof *gi);
  clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, all, n, g);
  double g2 = norm2(g, pb.p);
  cr_expect(fabs(grad_norm2 - g2) <= 1e-12 * g2, "grad_norm2 %.17g vs %.17g", grad_norm2, g2);

  /* sigma^2 = mean |g_i|^2 - |G|^2 (the one-pass form of mean |g_i - G|^2). */
  double mean_sq = 0;
  for (size_t i = 0; i < n; i++) {
    clb_ref_sample_grad(&pb.shape, pb.theta, &pb.data, i, gi);
    mean_sq += norm2(gi, pb.p) / (double)n;
  }
  double identity = mean_sq - g2;
  cr_expect_gt(sigma2, 0.0);
  cr_expect(fabs(sigma2 - identity) <= 1e-10 * mean_sq, "sigma2 %.17g vs identity %.17g", sigma2,
            identity);
  free(all);
  free(g);
  free(gi);
  problem_free(&pb);
}

/* Visits every b-subset of 0..n-1 (lexicographic), calling visit(idx). */
static void for_each_subset(size_t n, size_t b, void (*visit)(const uint32_t *, void *),
                            void *ctx) {
  uint32_t idx[16];
  for (size_t k = 0; k < b; k++)
    idx[k] = (uint32_t)k;
  for (;;) {
    visit(idx, ctx);
    size_t k = b;
    while (k > 0 && idx[k - 1] == n - b + k - 1)
      k--;
    if (k == 0)
      return;
    idx[k - 1]++;
    for (size_t j = k; j < b; j++)
      idx[j] = idx[j - 1] + 1;
  }
}

struct subset_stats {
  const struct problem *pb;
  const double *full;
  double *g;
  size_t b;
  double sum;
  size_t count;
};

static void add_subset(const uint32_t *idx, void *ctx) {
  struct subset_stats *st = ctx;
  clb_ref_loss_grad(&st->pb->shape, st->pb->theta, &st->pb->data, idx, st->b, st->g);
  st->sum += dist2(st->g, st->full, st->pb->p);
  st->count++;
}

ParameterizedTestParameters(reference, batch_variance_without_replacement) {
  static int kinds[] = {CLB_MODEL_LINREG, CLB_MODEL_SOFTMAX, CLB_MODEL_MLP};
  return cr_make_param_array(int, kinds, 3);
}

ParameterizedTest(int *kind, reference, batch_variance_without_replacement) {
  /* Averaging over every b-subset of N samples is the exact expectation over
   * batches drawn without replacement: it must equal
   * sigma^2 / B * (N - B) / (N - 1), and 0 at B = N. */
  struct problem pb;
  const size_t n = 9;
  problem_make(&pb, *kind, n);
  double sigma2, grad_norm2;
  clb_ref_noise(&pb.shape, pb.theta, &pb.data, &sigma2, &grad_norm2);
  double *full = malloc(pb.p * sizeof *full), *g = malloc(pb.p * sizeof *g);
  const uint32_t all[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, all, n, full);
  for (size_t b = 1; b <= n; b++) {
    struct subset_stats st = {&pb, full, g, b, 0, 0};
    for_each_subset(n, b, add_subset, &st);
    double measured = st.sum / (double)st.count;
    double predicted = sigma2 / (double)b * (double)(n - b) / (double)(n - 1);
    cr_expect(fabs(measured - predicted) <= 1e-10 * sigma2, "%s B=%zu: %.17g vs %.17g",
              clb_shape_kind_name(pb.shape.kind), b, measured, predicted);
  }
  free(full);
  free(g);
  problem_free(&pb);
}

ParameterizedTestParameters(reference, per_sample_norm_factorises) {
  static int kinds[] = {CLB_MODEL_LINREG, CLB_MODEL_SOFTMAX, CLB_MODEL_MLP};
  return cr_make_param_array(int, kinds, 3);
}

ParameterizedTest(int *kind, reference, per_sample_norm_factorises) {
  /* DESIGN.md: for a linear layer with input a_i and output gradient delta_i
   * (the bias gradient), ||a_i delta_iᵀ||^2 = ||a_i||^2 ||delta_i||^2. The first
   * layer's input is x_i, so this holds for W / W1 of every model. */
  struct problem pb;
  problem_make(&pb, *kind, 10);
  struct clb_tensor t[4];
  clb_shape_tensors(&pb.shape, t);
  double *gi = malloc(pb.p * sizeof *gi);
  for (size_t i = 0; i < pb.data.n; i++) {
    clb_ref_sample_grad(&pb.shape, pb.theta, &pb.data, i, gi);
    double w2 = norm2(gi + t[0].offset, t[0].count);
    double delta2 = norm2(gi + t[1].offset, t[1].count);
    double x2 = norm2(pb.data.x + i * pb.data.d, pb.data.d);
    cr_expect(fabs(w2 - x2 * delta2) <= 1e-12 * w2 + 1e-300, "sample %zu: %.17g vs %.17g", i, w2,
              x2 * delta2);
  }
  free(gi);
  problem_free(&pb);
}

Test(reference, softmax_at_zero_is_log_classes) {
  struct problem pb;
  problem_make(&pb, CLB_MODEL_SOFTMAX, 12);
  memset(pb.theta, 0, pb.p * sizeof *pb.theta);
  const uint32_t idx[3] = {0, 5, 7};
  double loss = clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, idx, 3, NULL);
  cr_expect(fabs(loss - log(4.0)) < 1e-15, "loss %.17g, want log 4", loss);
  problem_free(&pb);
}

Test(reference, softmax_is_stable_for_huge_logits) {
  /* Logits of +-1e4: exp() would overflow without the max subtraction. */
  double x[2] = {1e4, -1e4}, y[2] = {0, 1};
  struct clb_dataset data = {2, 1, 2, 1, x, y, NULL, NULL};
  struct clb_shape shape = {CLB_MODEL_SOFTMAX, 1, 0, 2};
  double theta[4] = {1, -1, 0, 0}, grad[4];
  const uint32_t idx[2] = {0, 1};
  /* Sample 0: z = (1e4, -1e4), label 0: loss ~ 0. Sample 1: z = (-1e4, 1e4), label 1. */
  double loss = clb_ref_loss_grad(&shape, theta, &data, idx, 2, grad);
  cr_expect(isfinite(loss) && loss >= 0 && loss < 1e-300, "loss %g", loss);
  for (int k = 0; k < 4; k++)
    cr_expect(isfinite(grad[k]), "grad[%d] = %g", k, grad[k]);
  /* Wrong labels: loss = 2e4 exactly, not inf. */
  y[0] = 1;
  y[1] = 0;
  loss = clb_ref_loss_grad(&shape, theta, &data, idx, 2, grad);
  cr_expect(fabs(loss - 2e4) < 1e-9, "loss %.17g", loss);
}

Test(reference, accuracy_counts_argmax) {
  double x[4] = {-1, 2, 3, -0.5}, y[4] = {0, 1, 1, 1};
  struct clb_dataset data = {4, 1, 2, 1, x, y, NULL, NULL};
  struct clb_shape shape = {CLB_MODEL_SOFTMAX, 1, 0, 2};
  /* z = (-x, x): class 1 wins for positive x. Sample 3 is misclassified. */
  double theta[4] = {-1, 1, 0, 0};
  cr_expect_eq(clb_ref_accuracy(&shape, theta, &data), 0.75);
  theta[0] = 1;
  theta[1] = -1;
  cr_expect_eq(clb_ref_accuracy(&shape, theta, &data), 0.25);
  struct clb_shape lin = {CLB_MODEL_LINREG, 1, 0, 1};
  cr_expect_eq(clb_ref_accuracy(&lin, theta, &data), 0.0);
}

Test(reference, out_of_range_label_is_nan) {
  double x[2] = {1, 2}, y[2] = {0, 2};
  struct clb_dataset data = {2, 1, 2, 1, x, y, NULL, NULL};
  struct clb_shape shape = {CLB_MODEL_SOFTMAX, 1, 0, 2};
  double theta[4] = {0.1, 0.2, 0, 0}, grad[4];
  const uint32_t idx[2] = {0, 1};
  cr_expect(isnan(clb_ref_loss_grad(&shape, theta, &data, idx, 2, grad)));
  cr_expect(isnan(grad[0]));
  cr_expect(isnan(clb_ref_accuracy(&shape, theta, &data)));
}

Test(reference, empty_batch_is_zero) {
  struct problem pb;
  problem_make(&pb, CLB_MODEL_SOFTMAX, 4);
  double *grad = malloc(pb.p * sizeof *grad);
  for (size_t k = 0; k < pb.p; k++)
    grad[k] = 1;
  const uint32_t idx[1] = {0};
  cr_expect_eq(clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, idx, 0, grad), 0.0);
  cr_expect_eq(norm2(grad, pb.p), 0.0);
  free(grad);
  problem_free(&pb);
}

Test(reference, mlp_relu_blocks_dead_units) {
  /* With b1 very negative every hidden unit is off: H = 0, so W1, b1 and W2
   * get no gradient and only b2 learns. */
  struct problem pb;
  problem_make(&pb, CLB_MODEL_MLP, 10);
  struct clb_tensor t[4];
  clb_shape_tensors(&pb.shape, t);
  for (size_t k = 0; k < t[1].count; k++)
    pb.theta[t[1].offset + k] = -1e3;
  double *grad = malloc(pb.p * sizeof *grad);
  const uint32_t idx[4] = {0, 1, 2, 3};
  clb_ref_loss_grad(&pb.shape, pb.theta, &pb.data, idx, 4, grad);
  for (int k = 0; k < 3; k++)
    cr_expect_eq(norm2(grad + t[k].offset, t[k].count), 0.0, "%s", t[k].name);
  cr_expect_gt(norm2(grad + t[3].offset, t[3].count), 0.0);
  free(grad);
  problem_free(&pb);
}

ParameterizedTestParameters(reference, gradient_descent_learns) {
  static int kinds[] = {CLB_MODEL_LINREG, CLB_MODEL_SOFTMAX, CLB_MODEL_MLP};
  return cr_make_param_array(int, kinds, 3);
}

ParameterizedTest(int *kind, reference, gradient_descent_learns) {
  /* Mini-batch SGD over shuffled epochs, as the device will run it: the loss
   * falls, classifiers separate well-spread clusters, and linreg finds w*. */
  struct clb_dataset data;
  struct clb_error err = {0};
  struct clb_shape shape;
  if (*kind == CLB_MODEL_LINREG) {
    shape = (struct clb_shape){CLB_MODEL_LINREG, 4, 0, 1};
    cr_assert_eq(clb_data_regression(512, 4, 1, 0.01, 31, &data, &err), 0);
  } else {
    shape = (struct clb_shape){(enum clb_model_kind) * kind, 4, *kind == CLB_MODEL_MLP ? 16 : 0, 3};
    cr_assert_eq(clb_data_classes(512, 4, 3, 3.0, 32, &data, &err), 0);
  }
  size_t p = clb_shape_param_count(&shape);
  double *theta = malloc(p * sizeof *theta), *grad = malloc(p * sizeof *grad);
  uint32_t *perm = malloc(data.n * sizeof *perm);
  clb_params_init(&shape, 33, theta);
  struct clb_rng rng;
  clb_rng_seed(&rng, 34);
  const size_t batch = 32;
  double lr = *kind == CLB_MODEL_LINREG ? 0.05 : 0.2;
  for (size_t k = 0; k < data.n; k++)
    perm[k] = (uint32_t)k;
  double start = clb_ref_loss_grad(&shape, theta, &data, perm, data.n, NULL);
  for (int epoch = 0; epoch < 20; epoch++) {
    clb_rng_permutation(&rng, perm, data.n);
    for (size_t s = 0; s + batch <= data.n; s += batch) {
      clb_ref_loss_grad(&shape, theta, &data, perm + s, batch, grad);
      for (size_t k = 0; k < p; k++)
        theta[k] -= lr * grad[k];
    }
  }
  double end = clb_ref_loss_grad(&shape, theta, &data, perm, data.n, NULL);
  cr_expect_lt(end, 0.2 * start, "%s: loss %g -> %g", clb_shape_kind_name(shape.kind), start, end);
  if (*kind == CLB_MODEL_LINREG) {
    for (size_t j = 0; j < 4; j++)
      cr_expect(fabs(theta[j] - data.true_w[j]) < 0.01, "w[%zu] %g vs %g", j, theta[j],
                data.true_w[j]);
  } else {
    double acc = clb_ref_accuracy(&shape, theta, &data);
    cr_expect_gt(acc, 0.9, "%s accuracy %g", clb_shape_kind_name(shape.kind), acc);
  }
  free(theta);
  free(grad);
  free(perm);
  clb_dataset_destroy(&data);
}
