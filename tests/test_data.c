#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "model/dataset.h"
#include "model/params.h"
#include "util/rng.h"

/* ---------------------------------------------------------------- random -- */

Test(rng, seeding_is_splitmix64) {
  /* The published splitmix64 outputs for seed 0. */
  struct clb_rng rng;
  clb_rng_seed(&rng, 0);
  cr_expect_eq(rng.s[0], 0xe220a8397b1dcdafULL);
  cr_expect_eq(rng.s[1], 0x6e789e6aa1b965f4ULL);
  cr_expect_eq(rng.s[2], 0x06c45d188009454fULL);
  cr_expect_eq(rng.s[3], 0xf88bb8a8724c81ecULL);
}

Test(rng, xoshiro256starstar_stream) {
  /* Expected values from an independent Python implementation of
   * splitmix64 + xoshiro256**, seed 42. */
  static const uint64_t expected[4] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
                                       0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL};
  struct clb_rng rng;
  clb_rng_seed(&rng, 42);
  for (int k = 0; k < 4; k++)
    cr_expect_eq(clb_rng_next(&rng), expected[k], "draw %d", k);
}

Test(rng, deterministic_and_seed_dependent) {
  struct clb_rng a, b, c;
  clb_rng_seed(&a, 7);
  clb_rng_seed(&b, 7);
  clb_rng_seed(&c, 8);
  int differs = 0;
  for (int k = 0; k < 1000; k++) {
    uint64_t va = clb_rng_next(&a), vc = clb_rng_next(&c);
    cr_assert_eq(va, clb_rng_next(&b));
    differs |= va != vc;
  }
  cr_expect(differs, "seeds 7 and 8 gave the same stream");
}

Test(rng, uniform_in_unit_interval_with_53_bits) {
  struct clb_rng rng, raw;
  clb_rng_seed(&rng, 1);
  clb_rng_seed(&raw, 1);
  double sum = 0;
  for (int k = 0; k < 100000; k++) {
    double u = clb_rng_uniform(&rng);
    cr_assert(u >= 0.0 && u < 1.0, "u = %.17g", u);
    /* The top 53 bits, scaled by 2^-53. */
    cr_assert_eq(u, (double)(clb_rng_next(&raw) >> 11) / 9007199254740992.0);
    sum += u;
  }
  cr_expect(fabs(sum / 100000 - 0.5) < 0.01, "mean %g", sum / 100000);
}

Test(rng, normal_moments) {
  struct clb_rng rng;
  clb_rng_seed(&rng, 2024);
  const int n = 100000;
  double sum = 0, sum2 = 0;
  int within_one = 0;
  for (int k = 0; k < n; k++) {
    double v = clb_rng_normal(&rng);
    cr_assert(isfinite(v));
    sum += v;
    sum2 += v * v;
    within_one += fabs(v) < 1.0;
  }
  double mean = sum / n, var = sum2 / n - mean * mean;
  /* Standard errors: 0.0032 for the mean, 0.0045 for the variance. */
  cr_expect(fabs(mean) < 0.02, "mean %g", mean);
  cr_expect(fabs(var - 1.0) < 0.03, "variance %g", var);
  /* A normal puts 68.27 % within one sigma; a wrong shape with the right
   * variance (uniform: 57.7 %) does not. */
  cr_expect(fabs((double)within_one / n - 0.6827) < 0.01, "within 1 sigma: %g",
            (double)within_one / n);
}

Test(rng, below_is_in_range_and_roughly_uniform) {
  struct clb_rng rng;
  clb_rng_seed(&rng, 3);
  enum { bins = 10, draws = 100000 };
  size_t counts[bins] = {0};
  for (int k = 0; k < draws; k++) {
    size_t v = clb_rng_below(&rng, bins);
    cr_assert_lt(v, bins);
    counts[v]++;
  }
  double chi2 = 0, expected = (double)draws / bins;
  for (int b = 0; b < bins; b++)
    chi2 += (counts[b] - expected) * (counts[b] - expected) / expected;
  /* 9 degrees of freedom: P(chi2 > 40) is about 7e-6. */
  cr_expect_lt(chi2, 40.0, "chi-square %g", chi2);
  cr_expect_eq(clb_rng_below(&rng, 1), 0);
}

Test(rng, below_rejects_the_biased_range) {
  /* For n = 3 * 2^62 + 1, plain `r % n` maps 2^64 values onto n, and the
   * lowest 2^62 - 1 residues get two preimages: P(v < 2^62) would be 1/2
   * instead of the unbiased 1/3. */
  struct clb_rng rng;
  clb_rng_seed(&rng, 13);
  const size_t big = (size_t)0xC000000000000001ULL;
  const int draws = 30000;
  int low = 0;
  for (int k = 0; k < draws; k++) {
    size_t v = clb_rng_below(&rng, big);
    cr_assert_lt(v, big);
    low += v < ((size_t)1 << 62);
  }
  /* Standard error of the fraction: 0.0027. */
  cr_expect(fabs((double)low / draws - 1.0 / 3.0) < 0.02, "P(v < 2^62) = %g", (double)low / draws);
}

Test(rng, permutation_is_a_permutation) {
  struct clb_rng rng;
  clb_rng_seed(&rng, 4);
  enum { n = 1000 };
  uint32_t perm[n];
  clb_rng_permutation(&rng, perm, n);
  unsigned char seen[n] = {0};
  size_t fixed = 0;
  for (size_t i = 0; i < n; i++) {
    cr_assert_lt(perm[i], n);
    cr_assert_eq(seen[perm[i]], 0, "%u twice", perm[i]);
    seen[perm[i]] = 1;
    fixed += perm[i] == i;
  }
  /* A shuffle leaves about one fixed point; the identity leaves 1000. */
  cr_expect_lt(fixed, 10);
  uint32_t one = 99;
  clb_rng_permutation(&rng, &one, 1);
  cr_expect_eq(one, 0);
  clb_rng_permutation(&rng, NULL, 0);
}

Test(rng, permutation_positions_are_uniform) {
  /* Where element 0 lands in a permutation of 5: uniform over 5 slots.
   * A classic off-by-one (j drawn from [0, i) instead of [0, i]) never
   * leaves an element in place and fails this. */
  struct clb_rng rng;
  clb_rng_seed(&rng, 5);
  enum { n = 5, trials = 50000 };
  size_t counts[n] = {0};
  for (int t = 0; t < trials; t++) {
    uint32_t perm[n];
    clb_rng_permutation(&rng, perm, n);
    for (size_t i = 0; i < n; i++)
      if (perm[i] == 0)
        counts[i]++;
  }
  double chi2 = 0, expected = (double)trials / n;
  for (int b = 0; b < n; b++)
    chi2 += (counts[b] - expected) * (counts[b] - expected) / expected;
  cr_expect_lt(chi2, 30.0, "chi-square %g", chi2);
}

/* ------------------------------------------------------------ synthetic -- */

/* Solves the 4x4 normal equations of [x 1] against one output column by
 * Gaussian elimination with partial pivoting. */
static void least_squares_3(const struct clb_dataset *data, size_t out, double beta[4]) {
  double a[4][5] = {{0}};
  for (size_t i = 0; i < data->n; i++) {
    double row[4] = {data->x[i * 3], data->x[i * 3 + 1], data->x[i * 3 + 2], 1.0};
    double y = data->y[i * data->c + out];
    for (int r = 0; r < 4; r++) {
      for (int c = 0; c < 4; c++)
        a[r][c] += row[r] * row[c];
      a[r][4] += row[r] * y;
    }
  }
  for (int p = 0; p < 4; p++) {
    int best = p;
    for (int r = p + 1; r < 4; r++)
      if (fabs(a[r][p]) > fabs(a[best][p]))
        best = r;
    for (int c = 0; c < 5; c++) {
      double t = a[p][c];
      a[p][c] = a[best][c];
      a[best][c] = t;
    }
    for (int r = 0; r < 4; r++) {
      if (r == p)
        continue;
      double f = a[r][p] / a[p][p];
      for (int c = p; c < 5; c++)
        a[r][c] -= f * a[p][c];
    }
  }
  for (int r = 0; r < 4; r++)
    beta[r] = a[r][4] / a[r][r];
}

Test(synthetic, regression_recovers_true_weights) {
  struct clb_dataset data;
  struct clb_error err = {0};
  cr_assert_eq(clb_data_regression(2000, 3, 2, 0.01, 11, &data, &err), 0, "%s", err.message);
  cr_assert_eq(data.n, 2000);
  cr_assert_eq(data.d, 3);
  cr_assert_eq(data.c, 2);
  cr_assert_eq(data.classification, 0);
  cr_assert_not_null(data.true_w);
  cr_assert_not_null(data.true_b);
  for (size_t o = 0; o < 2; o++) {
    double beta[4];
    least_squares_3(&data, o, beta);
    for (size_t j = 0; j < 3; j++)
      cr_expect(fabs(beta[j] - data.true_w[j * 2 + o]) < 0.01, "w[%zu][%zu]: %g vs %g", j, o,
                beta[j], data.true_w[j * 2 + o]);
    cr_expect(fabs(beta[3] - data.true_b[o]) < 0.01, "b[%zu]: %g vs %g", o, beta[3],
              data.true_b[o]);
  }
  /* With noise 0.01 the residual of the true model has standard deviation 0.01. */
  double ss = 0;
  for (size_t i = 0; i < data.n; i++) {
    double z = data.true_b[0];
    for (size_t j = 0; j < 3; j++)
      z += data.x[i * 3 + j] * data.true_w[j * 2];
    ss += (data.y[i * 2] - z) * (data.y[i * 2] - z);
  }
  double sd = sqrt(ss / data.n);
  cr_expect(sd > 0.009 && sd < 0.011, "noise sd %g", sd);
  clb_dataset_destroy(&data);
  cr_expect_null(data.x);
}

Test(synthetic, regression_is_deterministic) {
  struct clb_dataset a, b, c;
  struct clb_error err = {0};
  cr_assert_eq(clb_data_regression(50, 4, 1, 0.5, 9, &a, &err), 0);
  cr_assert_eq(clb_data_regression(50, 4, 1, 0.5, 9, &b, &err), 0);
  cr_assert_eq(clb_data_regression(50, 4, 1, 0.5, 10, &c, &err), 0);
  cr_expect_eq(memcmp(a.x, b.x, 50 * 4 * sizeof(double)), 0);
  cr_expect_eq(memcmp(a.y, b.y, 50 * sizeof(double)), 0);
  cr_expect_eq(memcmp(a.true_w, b.true_w, 4 * sizeof(double)), 0);
  cr_expect_neq(memcmp(a.x, c.x, 50 * 4 * sizeof(double)), 0);
  clb_dataset_destroy(&a);
  clb_dataset_destroy(&b);
  clb_dataset_destroy(&c);
}

struct bad_size {
  size_t n, d, c;
  double scale;
  char needle[48];
};

ParameterizedTestParameters(synthetic, regression_rejects_bad_sizes) {
  static struct bad_size params[] = {
      {0, 3, 1, 0.1, "samples"},
      {10, 0, 1, 0.1, "features"},
      {10, 3, 0, 0.1, "outputs"},
      {SIZE_MAX / 2, 4, 1, 0.1, "overflows"},
      {4, SIZE_MAX / 4, 1, 0.1, "overflows"},
      {10, 3, 1, -1.0, "noise"},
      {10, 3, 1, NAN, "noise"},
  };
  return cr_make_param_array(struct bad_size, params, sizeof params / sizeof params[0]);
}

ParameterizedTest(struct bad_size *p, synthetic, regression_rejects_bad_sizes) {
  struct clb_dataset data;
  struct clb_error err = {0};
  int rc = clb_data_regression(p->n, p->d, p->c, p->scale, 1, &data, &err);
  cr_expect_eq(rc, CLB_E_INVAL, "rc %d", rc);
  cr_expect_eq(err.code, CLB_E_INVAL);
  cr_expect(strstr(err.message, p->needle) != NULL, "'%s' lacks '%s'", err.message, p->needle);
  cr_expect_null(data.x);
}

ParameterizedTestParameters(synthetic, classes_rejects_bad_sizes) {
  static struct bad_size params[] = {
      {0, 3, 2, 1.0, "samples"},
      {10, 0, 2, 1.0, "features"},
      {10, 3, 1, 1.0, "classes"},
      {10, 3, 0, 1.0, "classes"},
      {SIZE_MAX / 2, 4, 2, 1.0, "overflows"},
      {10, 3, 2, -2.0, "spread"},
      {10, 3, 2, INFINITY, "spread"},
  };
  return cr_make_param_array(struct bad_size, params, sizeof params / sizeof params[0]);
}

ParameterizedTest(struct bad_size *p, synthetic, classes_rejects_bad_sizes) {
  struct clb_dataset data;
  struct clb_error err = {0};
  int rc = clb_data_classes(p->n, p->d, p->c, p->scale, 1, &data, &err);
  cr_expect_eq(rc, CLB_E_INVAL, "rc %d", rc);
  cr_expect(strstr(err.message, p->needle) != NULL, "'%s' lacks '%s'", err.message, p->needle);
  cr_expect_null(data.x);
}

Test(synthetic, classes_are_balanced_shuffled_and_separable) {
  struct clb_dataset data;
  struct clb_error err = {0};
  const size_t n = 900, d = 4, c = 3;
  cr_assert_eq(clb_data_classes(n, d, c, 5.0, 21, &data, &err), 0, "%s", err.message);
  cr_assert_eq(data.classification, 1);
  cr_assert_eq(data.c, c);
  cr_expect_null(data.true_w);
  size_t counts[3] = {0}, in_order = 0;
  double means[3][4] = {{0}};
  for (size_t i = 0; i < n; i++) {
    double y = data.y[i];
    cr_assert(y == 0 || y == 1 || y == 2, "label %g", y);
    counts[(size_t)y]++;
    in_order += (size_t)y == i % c;
    for (size_t j = 0; j < d; j++)
      means[(size_t)y][j] += data.x[i * d + j];
  }
  for (size_t k = 0; k < c; k++)
    cr_expect_eq(counts[k], n / c, "class %zu has %zu", k, counts[k]);
  /* Shuffled: about a third of the labels match i mod c, not all. */
  cr_expect_lt(in_order, n / 2);
  for (size_t k = 0; k < c; k++)
    for (size_t j = 0; j < d; j++)
      means[k][j] /= (double)counts[k];
  /* Clusters spread by 5 with unit noise: the nearest class mean is almost
   * always the sample's own class. */
  size_t correct = 0;
  for (size_t i = 0; i < n; i++) {
    size_t best = 0;
    double best_d2 = INFINITY;
    for (size_t k = 0; k < c; k++) {
      double d2 = 0;
      for (size_t j = 0; j < d; j++)
        d2 += (data.x[i * d + j] - means[k][j]) * (data.x[i * d + j] - means[k][j]);
      if (d2 < best_d2) {
        best_d2 = d2;
        best = k;
      }
    }
    correct += best == (size_t)data.y[i];
  }
  cr_expect_gt((double)correct / n, 0.9, "nearest-mean accuracy %zu/%zu", correct, n);
  /* Within a class the spread around its mean is the unit noise. */
  double ss = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) {
      double dev = data.x[i * d + j] - means[(size_t)data.y[i]][j];
      ss += dev * dev;
    }
  double var = ss / (double)(n * d);
  cr_expect(var > 0.9 && var < 1.1, "within-class variance %g", var);

  struct clb_dataset again;
  cr_assert_eq(clb_data_classes(n, d, c, 5.0, 21, &again, &err), 0);
  cr_expect_eq(memcmp(data.x, again.x, n * d * sizeof(double)), 0);
  cr_expect_eq(memcmp(data.y, again.y, n * sizeof(double)), 0);
  clb_dataset_destroy(&again);
  clb_dataset_destroy(&data);
}

Test(synthetic, free_null_and_twice_is_safe) {
  clb_dataset_destroy(NULL);
  struct clb_dataset data = {0};
  clb_dataset_destroy(&data);
  clb_dataset_destroy(&data);
}

/* ------------------------------------------------------------------- CSV -- */

static int load_text(const char *text, int classification, struct clb_dataset *data,
                     struct clb_error *err, char **path_out) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "data.csv", text);
  free(dir);
  int rc = clb_data_load_csv(path, classification, data, err);
  if (path_out)
    *path_out = path;
  else
    free(path);
  return rc;
}

struct good_csv {
  char name[32];
  char text[160];
};

ParameterizedTestParameters(csv, good_regression_files) {
  /* Each file holds the same 3 x 2 features and targets 7, 8, 9. */
  static struct good_csv params[] = {
      {"header", "a,b,target\n1,2,7\n3,4,8\n5,6,9\n"},
      {"no header", "1,2,7\n3,4,8\n5,6,9\n"},
      {"CRLF", "a,b,target\r\n1,2,7\r\n3,4,8\r\n5,6,9\r\n"},
      {"no final newline", "1,2,7\n3,4,8\n5,6,9"},
      {"CRLF, no final newline", "x,y,z\r\n1,2,7\r\n3,4,8\r\n5,6,9"},
      {"spaces and blank lines", " a , b , t \n1, 2 ,7\n\n3,4,8\n5 ,6, 9\n\n"},
      {"number formats", "1.0,2e0,7\n+3,0.4e1,8.000\n5,6,9\n"},
  };
  return cr_make_param_array(struct good_csv, params, sizeof params / sizeof params[0]);
}

ParameterizedTest(struct good_csv *p, csv, good_regression_files) {
  struct clb_dataset data;
  struct clb_error err = {0};
  cr_assert_eq(load_text(p->text, 0, &data, &err, NULL), 0, "%s: %s", p->name, err.message);
  cr_assert_eq(data.n, 3, "%s", p->name);
  cr_assert_eq(data.d, 2, "%s", p->name);
  cr_assert_eq(data.c, 1, "%s", p->name);
  cr_expect_eq(data.classification, 0);
  static const double x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {7, 8, 9};
  for (int k = 0; k < 6; k++)
    cr_expect_eq(data.x[k], x[k], "%s: x[%d] = %g", p->name, k, data.x[k]);
  for (int k = 0; k < 3; k++)
    cr_expect_eq(data.y[k], y[k], "%s: y[%d] = %g", p->name, k, data.y[k]);
  cr_expect_null(data.true_w);
  clb_dataset_destroy(&data);
}

Test(csv, classification_labels) {
  struct clb_dataset data;
  struct clb_error err = {0};
  cr_assert_eq(load_text("f1,f2,label\n0.5,1,0\n1.5,2,3.0\n2.5,3,1\n", 1, &data, &err, NULL), 0,
               "%s", err.message);
  cr_expect_eq(data.classification, 1);
  cr_expect_eq(data.n, 3);
  cr_expect_eq(data.d, 2);
  cr_expect_eq(data.c, 4, "C = max label + 1, got %zu", data.c);
  cr_expect_eq(data.y[1], 3.0);
  cr_expect_eq(data.x[2], 1.5);
  clb_dataset_destroy(&data);
}

Test(csv, long_lines) {
  /* 3000 columns in a row: no fixed-size line buffer may truncate them. */
  enum { cols = 3000, rows = 4 };
  size_t cap = (size_t)cols * rows * 8 + 16;
  char *text = malloc(cap), *p = text;
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++)
      p += sprintf(p, "%d%c", r * cols + c, c == cols - 1 ? '\n' : ',');
  struct clb_dataset data;
  struct clb_error err = {0};
  cr_assert_eq(load_text(text, 0, &data, &err, NULL), 0, "%s", err.message);
  free(text);
  cr_assert_eq(data.n, rows);
  cr_assert_eq(data.d, cols - 1);
  cr_expect_eq(data.x[(rows - 1) * (cols - 1) + cols - 2], (rows - 1) * cols + cols - 2);
  cr_expect_eq(data.y[rows - 1], rows * cols - 1);
  clb_dataset_destroy(&data);
}

Test(csv, many_rows) {
  /* Enough rows to grow the arrays several times. */
  enum { rows = 5000 };
  char *text = malloc(rows * 32), *p = text;
  for (int r = 0; r < rows; r++)
    p += sprintf(p, "%d,%d,%d\n", r, -r, 2 * r);
  struct clb_dataset data;
  struct clb_error err = {0};
  cr_assert_eq(load_text(text, 0, &data, &err, NULL), 0, "%s", err.message);
  free(text);
  cr_assert_eq(data.n, rows);
  for (int r = 0; r < rows; r++) {
    cr_assert_eq(data.x[2 * r], r);
    cr_assert_eq(data.x[2 * r + 1], -r);
    cr_assert_eq(data.y[r], 2 * r);
  }
  clb_dataset_destroy(&data);
}

struct bad_csv {
  int classification;
  char text[96];
  char needle[2][64]; /* both must appear in the message; "" skips */
};

ParameterizedTestParameters(csv, bad_files) {
  static struct bad_csv params[] = {
      {0, "", {"no data rows", ""}},
      {0, "\n\n", {"no data rows", ""}},
      {0, "a,b,c\n", {"no data rows", ""}},
      {0, "a,b,c\r\n", {"no data rows", ""}},
      {0, "a,b\n1,2\n3,x7\n", {"data.csv:3: column 2: ", "x7"}},
      {0, "1,2\n3,4\n5,6,7\n", {"data.csv:3: column 3: ", "extra"}},
      {0, "1,2,3\n4,5\n", {"data.csv:2: column 3: ", "missing"}},
      {0, "a,b,c\n1,2\n", {"data.csv:2: column 3: ", "line 1 has 3"}},
      {0, "1,2\nnan,4\n", {"data.csv:2: column 1: ", "non-finite"}},
      {0, "1,2\n3,inf\n", {"data.csv:2: column 2: ", "non-finite"}},
      {0, "nan,2\n1,2\n", {"data.csv:1: column 1: ", "non-finite"}},
      {0, "1,,3\n1,2,3\n", {"data.csv:1: column 2: ", "empty field"}},
      {0, "1,2\n3,1e999\n", {"data.csv:2: column 2: ", "non-finite"}},
      {0, "1,2,3\n3,,4\n", {"data.csv:2: column 2: ", "empty field"}},
      {0, "1,2,3\n3,4,\n", {"data.csv:2: column 3: ", "empty field"}},
      {0, "1,2,3\n3, ,4\n", {"data.csv:2: column 2: ", "empty field"}},
      {0, "1,2\n3 4,5\n", {"data.csv:2: column 1: ", "not a number"}},
      {0, "1\n2\n3\n", {"data.csv:1: ", "at least 2"}},
      {0, "target\n1\n", {"data.csv:1: ", "at least 2"}},
      {1, "1,0\n2,-1\n", {"data.csv:2: column 2: ", "label '-1'"}},
      {1, "1,0\n2,1.5\n", {"data.csv:2: column 2: ", "label '1.5'"}},
      {1, "1,0\n2,0\n", {"at least 2 classes", "data.csv"}},
      {1, "1,0\n2,1e9\n", {"data.csv:2: column 2: ", "label"}},
  };
  return cr_make_param_array(struct bad_csv, params, sizeof params / sizeof params[0]);
}

ParameterizedTest(struct bad_csv *p, csv, bad_files) {
  struct clb_dataset data;
  struct clb_error err = {0};
  char *path = NULL;
  int rc = load_text(p->text, p->classification, &data, &err, &path);
  cr_expect_eq(rc, CLB_E_PARSE, "rc %d for '%s': %s", rc, p->text, err.message);
  cr_expect_eq(err.code, CLB_E_PARSE);
  /* The message starts with the full path the caller gave. */
  cr_expect_eq(strncmp(err.message, path, strlen(path)), 0, "'%s' does not start with %s",
               err.message, path);
  for (int k = 0; k < 2; k++)
    cr_expect(strstr(err.message, p->needle[k]) != NULL, "'%s' lacks '%s'", err.message,
              p->needle[k]);
  cr_expect_null(data.x);
  free(path);
}

Test(csv, missing_file_is_io_error) {
  struct clb_dataset data;
  struct clb_error err = {0};
  int rc = clb_data_load_csv("/nonexistent/dir/data.csv", 0, &data, &err);
  cr_expect_eq(rc, CLB_E_IO);
  cr_expect(strstr(err.message, "/nonexistent/dir/data.csv") != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "No such file") != NULL, "%s", err.message);
}

Test(csv, directory_is_io_error) {
  char *dir = clb_test_tmpdir();
  struct clb_dataset data;
  struct clb_error err = {0};
  int rc = clb_data_load_csv(dir, 0, &data, &err);
  cr_expect_eq(rc, CLB_E_IO, "rc %d: %s", rc, err.message);
  cr_expect(strstr(err.message, dir) != NULL, "%s", err.message);
  rmdir(dir);
  free(dir);
}

/* -------------------------------------------------------- parameter files -- */

static const struct clb_shape linreg_shape = {CLB_MODEL_LINREG, 3, 0, 2};
static const struct clb_shape softmax_shape = {CLB_MODEL_SOFTMAX, 4, 0, 3};
static const struct clb_shape mlp_shape = {CLB_MODEL_MLP, 3, 5, 4};

static const struct clb_shape *shape_of(int which) {
  return which == 0 ? &linreg_shape : which == 1 ? &softmax_shape : &mlp_shape;
}

Test(params, write_read_round_trip_is_bit_exact) {
  char *dir = clb_test_tmpdir();
  for (int which = 0; which < 3; which++) {
    const struct clb_shape *shape = shape_of(which);
    size_t p = clb_shape_param_count(shape);
    double *theta = malloc(p * sizeof *theta), *back = malloc(p * sizeof *back);
    struct clb_rng rng;
    clb_rng_seed(&rng, 77 + which);
    for (size_t k = 0; k < p; k++)
      theta[k] = clb_rng_normal(&rng) * pow(10.0, (double)(k % 7) * 50 - 150);
    /* Values that %.6g or %.15g would not reproduce, and edge cases. */
    theta[0] = 0.1;
    theta[1] = -0.0;
    theta[2] = 4.9406564584124654e-324; /* smallest subnormal */
    theta[3] = 1.7976931348623157e308;
    theta[p - 1] = 1.0 / 3.0;
    char name[32];
    snprintf(name, sizeof name, "%s.csv", clb_shape_kind_name(shape->kind));
    char *path = clb_test_write_file(dir, name, "");
    struct clb_error err = {0};
    cr_assert_eq(clb_params_write(path, shape, theta, &err), 0, "%s", err.message);
    cr_assert_eq(clb_params_read(path, shape, back, &err), 0, "%s", err.message);
    cr_expect_eq(memcmp(theta, back, p * sizeof *theta), 0, "%s differs after a round trip", name);
    remove(path);
    free(path);
    free(theta);
    free(back);
  }
  rmdir(dir);
  free(dir);
}

Test(params, file_format) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "p.csv", "");
  double theta[8] = {1, 2, 3, 4, 5, 6, 0.5, -0.25};
  struct clb_error err = {0};
  cr_assert_eq(clb_params_write(path, &linreg_shape, theta, &err), 0, "%s", err.message);
  char *text = clb_test_read_file(path);
  cr_expect_str_eq(text, "param,index,value\n"
                         "w,0,1\nw,1,2\nw,2,3\nw,3,4\nw,4,5\nw,5,6\n"
                         "b,0,0.5\nb,1,-0.25\n");
  free(text);

  struct clb_shape mlp = {CLB_MODEL_MLP, 1, 1, 2};
  double mlp_theta[6] = {1, 2, 3, 4, 5, 6};
  cr_assert_eq(clb_params_write(path, &mlp, mlp_theta, &err), 0, "%s", err.message);
  text = clb_test_read_file(path);
  cr_expect_str_eq(text, "param,index,value\nW1,0,1\nb1,0,2\nW2,0,3\nW2,1,4\nb2,0,5\nb2,1,6\n");
  free(text);
  remove(path);
  rmdir(dir);
  free(path);
  free(dir);
}

Test(params, reader_accepts_any_order_and_crlf) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "p.csv",
                                   "param,index,value\r\nb,0,9\r\nW1,0,1.5\r\nb2,1,6\r\n"
                                   "W2,1,4\r\nb1,0,2\r\nW2,0,3\r\nb2,0,5\r\n");
  struct clb_shape mlp = {CLB_MODEL_MLP, 1, 1, 2};
  double theta[6];
  struct clb_error err = {0};
  /* "b" is not a tensor of mlp: it must be rejected even with everything else right. */
  cr_expect_eq(clb_params_read(path, &mlp, theta, &err), CLB_E_PARSE);
  free(path);
  path = clb_test_write_file(dir, "q.csv",
                             "param,index,value\r\nW1,0,1.5\r\nb2,1,6\r\n"
                             "W2,1,4\r\nb1,0,2\r\nW2,0,3\r\nb2,0,5");
  cr_assert_eq(clb_params_read(path, &mlp, theta, &err), 0, "%s", err.message);
  const double expected[6] = {1.5, 2, 3, 4, 5, 6};
  for (int k = 0; k < 6; k++)
    cr_expect_eq(theta[k], expected[k], "theta[%d] = %g", k, theta[k]);
  free(path);
  free(dir);
}

struct bad_params {
  char text[128];
  char needle[2][64];
};

ParameterizedTestParameters(params, reader_errors) {
  /* All for linreg with d = 1, c = 1: tensors w (1) and b (1). */
  static struct bad_params params[] = {
      {"", {"p.csv:1: ", "header"}},
      {"param,value\nw,0,1\nb,0,2\n", {"p.csv:1: ", "header"}},
      {"w,0,1\nb,0,2\n", {"p.csv:1: ", "header"}},
      {"param,index,value\nw,0,1\nx,0,2\n", {"p.csv:3: ", "unknown parameter 'x'"}},
      {"param,index,value\nw,0,1\nB,0,2\n", {"p.csv:3: ", "unknown parameter 'B'"}},
      {"param,index,value\nw,0,1\nb,1,2\n", {"p.csv:3: ", "out of range"}},
      {"param,index,value\nw,0,1\nb,-1,2\n", {"p.csv:3: ", "index '-1'"}},
      {"param,index,value\nw,0,1\nb,x,2\n", {"p.csv:3: ", "index 'x'"}},
      {"param,index,value\nw,0,1\nw,0,1\nb,0,2\n", {"p.csv:3: ", "duplicate w index 0"}},
      {"param,index,value\nw,0,1\n", {"p.csv:2: ", "b index 0 is missing"}},
      {"param,index,value\n", {"p.csv:1: ", "w index 0 is missing"}},
      {"param,index,value\nw,0,nan\nb,0,2\n", {"p.csv:2: ", "non-finite"}},
      {"param,index,value\nw,0,-inf\nb,0,2\n", {"p.csv:2: ", "non-finite"}},
      {"param,index,value\nw,0,1\nb,0,two\n", {"p.csv:3: ", "invalid value 'two'"}},
      {"param,index,value\nw,0,1\nb,0,\n", {"p.csv:3: ", "invalid value"}},
      {"param,index,value\nw,0,1,5\nb,0,2\n", {"p.csv:2: ", "expected 3 fields"}},
      {"param,index,value\nw,0\nb,0,2\n", {"p.csv:2: ", "expected 3 fields"}},
  };
  return cr_make_param_array(struct bad_params, params, sizeof params / sizeof params[0]);
}

ParameterizedTest(struct bad_params *p, params, reader_errors) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "p.csv", p->text);
  struct clb_shape shape = {CLB_MODEL_LINREG, 1, 0, 1};
  double theta[2] = {42, 43};
  struct clb_error err = {0};
  int rc = clb_params_read(path, &shape, theta, &err);
  cr_expect_eq(rc, CLB_E_PARSE, "rc %d: %s", rc, err.message);
  for (int k = 0; k < 2; k++)
    cr_expect(strstr(err.message, p->needle[k]) != NULL, "'%s' lacks '%s'", err.message,
              p->needle[k]);
  /* A rejected file leaves theta as it was. */
  cr_expect(theta[0] == 42 && theta[1] == 43, "theta changed to %g, %g", theta[0], theta[1]);
  remove(path);
  rmdir(dir);
  free(path);
  free(dir);
}

Test(params, io_errors) {
  double theta[2] = {1, 2};
  struct clb_shape shape = {CLB_MODEL_LINREG, 1, 0, 1};
  struct clb_error err = {0};
  cr_expect_eq(clb_params_read("/nonexistent/p.csv", &shape, theta, &err), CLB_E_IO);
  cr_expect(strstr(err.message, "/nonexistent/p.csv") != NULL, "%s", err.message);
  cr_expect_eq(clb_params_write("/nonexistent/p.csv", &shape, theta, &err), CLB_E_IO);
  cr_expect(strstr(err.message, "/nonexistent/p.csv") != NULL, "%s", err.message);
}

Test(params, writer_refuses_non_finite_values) {
  char *dir = clb_test_tmpdir();
  size_t size = strlen(dir) + 16;
  char *path = malloc(size);
  snprintf(path, size, "%s/p.csv", dir);
  double theta[2] = {1, NAN};
  struct clb_shape shape = {CLB_MODEL_LINREG, 1, 0, 1};
  struct clb_error err = {0};
  cr_expect_eq(clb_params_write(path, &shape, theta, &err), CLB_E_NUMERIC);
  cr_expect(strstr(err.message, "b index 0") != NULL, "%s", err.message);
  /* Nothing half-written is left behind. */
  cr_expect_null(clb_test_read_file(path));
  rmdir(dir);
  free(path);
  free(dir);
}

Test(params, init_follows_the_documented_scales) {
  /* linreg: all zero. */
  double lin[3 * 2 + 2];
  for (size_t k = 0; k < 8; k++)
    lin[k] = 1;
  clb_params_init(&linreg_shape, 5, lin);
  for (size_t k = 0; k < 8; k++)
    cr_expect_eq(lin[k], 0.0);

  /* softmax: W ~ N(0, 1/D), b = 0. D = 50, C = 400: 20000 weights. */
  struct clb_shape sm = {CLB_MODEL_SOFTMAX, 50, 0, 400};
  size_t p = clb_shape_param_count(&sm);
  double *theta = malloc(p * sizeof *theta);
  clb_params_init(&sm, 5, theta);
  double sum = 0, sum2 = 0;
  for (size_t k = 0; k < 50 * 400; k++) {
    sum += theta[k];
    sum2 += theta[k] * theta[k];
  }
  cr_expect(fabs(sum / 20000) < 0.01, "mean %g", sum / 20000);
  cr_expect(fabs(sum2 / 20000 / (1.0 / 50) - 1) < 0.05, "variance %g, want %g", sum2 / 20000,
            1.0 / 50);
  for (size_t k = 50 * 400; k < p; k++)
    cr_expect_eq(theta[k], 0.0);
  double *again = malloc(p * sizeof *again);
  clb_params_init(&sm, 5, again);
  cr_expect_eq(memcmp(theta, again, p * sizeof *theta), 0, "not deterministic");
  clb_params_init(&sm, 6, again);
  cr_expect_neq(memcmp(theta, again, p * sizeof *theta), 0, "seed ignored");
  free(theta);
  free(again);

  /* mlp: W1 ~ N(0, 2/D), W2 ~ N(0, 1/H), biases 0. D = 40, H = 200, C = 100. */
  struct clb_shape mlp = {CLB_MODEL_MLP, 40, 200, 100};
  struct clb_tensor t[4];
  cr_assert_eq(clb_shape_tensors(&mlp, t), 4);
  p = clb_shape_param_count(&mlp);
  theta = malloc(p * sizeof *theta);
  clb_params_init(&mlp, 9, theta);
  const double want[4] = {2.0 / 40, 0, 1.0 / 200, 0};
  for (int k = 0; k < 4; k++) {
    double s2 = 0;
    for (size_t i = 0; i < t[k].count; i++)
      s2 += theta[t[k].offset + i] * theta[t[k].offset + i];
    double var = s2 / (double)t[k].count;
    if (want[k] == 0)
      cr_expect_eq(var, 0.0, "%s is not zero", t[k].name);
    else
      cr_expect(fabs(var / want[k] - 1) < 0.05, "%s variance %g, want %g", t[k].name, var, want[k]);
  }
  free(theta);
}

Test(params, numbers_ignore_a_decimal_comma_locale) {
  /* Files must read the same on every host: under a locale with a decimal
   * comma, the writer still prints '.' and the readers still parse it. */
  if (!clb_test_comma_locale())
    cr_skip("no locale with a decimal comma is installed or can be built");
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "p.csv", "");
  struct clb_shape shape = {CLB_MODEL_LINREG, 1, 0, 1};
  double theta[2] = {0.5, -1.25}, back[2];
  struct clb_error err = {0};
  cr_assert_eq(clb_params_write(path, &shape, theta, &err), 0, "%s", err.message);
  char *text = clb_test_read_file(path);
  cr_expect_str_eq(text, "param,index,value\nw,0,0.5\nb,0,-1.25\n");
  free(text);
  cr_assert_eq(clb_params_read(path, &shape, back, &err), 0, "%s", err.message);
  cr_expect(back[0] == 0.5 && back[1] == -1.25);
  struct clb_dataset data;
  char *csv = clb_test_write_file(dir, "d.csv", "0.5,1.5\n2.5,3.5\n");
  cr_assert_eq(clb_data_load_csv(csv, 0, &data, &err), 0, "%s", err.message);
  cr_expect(data.x[1] == 2.5 && data.y[1] == 3.5);
  clb_dataset_destroy(&data);
  setlocale(LC_NUMERIC, "C");
  free(csv);
  free(path);
  free(dir);
}
