/* cpu_reference: the clbatch gradient step on the host CPU with OpenBLAS.
 *
 * A baseline for `clbatch run --device cpu` (PoCL runs clbatch's OpenCL kernels
 * and CLBlast on the same cores): the same models, shapes, parameter layout,
 * loss conventions and shuffled-row gather as clbatch's data-on-device path,
 * in fp32, with cblas_sgemm/sgemv/saxpy for the dense algebra and plain loops
 * for the element-wise kernels. Timing follows src/measure/measure.c: warm-up steps,
 * one probe step that sizes rounds of about 20 ms, per-step times until the
 * coefficient of variation is at most --target-cv after at least --min-time
 * seconds (or --max-time passes), then a separate back-to-back run for the
 * wall time per step.
 *
 * Built by bench/cpu_compare.sh (cc -std=c11 -O2 ... -lopenblas -lm); not part
 * of the CMake build because OpenBLAS is only a benchmark dependency.
 *
 *   cpu_reference --check                       gradients against a double loop
 *   cpu_reference --model mlp --batch 1,32,1024 --out ref.csv
 */
#define _POSIX_C_SOURCE 200809L

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Declared by OpenBLAS's cblas.h; repeated so that a generic cblas.h (the
 * netlib one behind Debian's alternatives) still compiles. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

enum model_kind { LINREG = 0, SOFTMAX = 1, MLP = 2 };
static const char *const model_names[] = {"linreg", "softmax", "mlp"};

struct shape {
  enum model_kind kind;
  size_t d, h, c; /* features, hidden (mlp), outputs (linreg) or classes */
};

/* Parameters in clbatch's flat order (src/model/shape.c, clb_shape_tensors):
 * linreg/softmax W (D x C), b (C); mlp W1 (D x H), b1 (H), W2 (H x C), b2 (C). */
static size_t param_count(const struct shape *s) {
  if (s->kind != MLP)
    return s->d * s->c + s->c;
  return s->d * s->h + s->h + s->h * s->c + s->c;
}

/* FLOPs of one step: a copy of clb_shape_step_flops in src/model/shape.c (formula in
 * results/SCHEMA.md, "FLOP and byte counts"), so gflops columns compare. */
static double step_flops(const struct shape *s, size_t batch) {
  double b = (double)batch, d = (double)s->d, h = (double)s->h, c = (double)s->c;
  double p = (double)param_count(s);
  double update = 2.0 * p;
  double loss = (s->kind == LINREG ? 3.0 : 6.0) * b * c;
  if (s->kind != MLP)
    return 2 * b * d * c + 2 * b * d * c + 2 * b * c + update + loss;
  return 2 * b * d * h + 2 * b * h * c + 2 * b * h * c + 2 * b * h * c + 2 * b * d * h +
         2 * b * h + 2 * b * c + update + loss + 2 * b * h + b * h;
}

/* ---- data -------------------------------------------------------------- */

/* splitmix64: small, seedable and the same on every host. */
static uint64_t next_u64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double uniform01(uint64_t *state) {
  return ((double)(next_u64(state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gaussian(uint64_t *state) {
  double u = uniform01(state), v = uniform01(state);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Fisher-Yates shuffle of 0..n-1: the epoch order batches are gathered by. */
static void permutation(uint64_t *state, uint32_t *order, size_t n) {
  for (size_t i = 0; i < n; i++)
    order[i] = (uint32_t)i;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(next_u64(state) % i);
    uint32_t t = order[i - 1];
    order[i - 1] = order[j];
    order[j] = t;
  }
}

struct dataset {
  size_t n;
  float *x;      /* N x D */
  float *y;      /* linreg: N x C targets */
  int32_t *labels; /* softmax, mlp: N class indices */
};

/* Regression y = x w* + noise, or Gaussian class clusters, as clbatch's
 * synthetic sets are (the values only matter for ReLU and exp, not for speed). */
static int make_data(const struct shape *s, size_t n, uint64_t seed, struct dataset *out) {
  uint64_t rng = seed;
  memset(out, 0, sizeof *out);
  out->n = n;
  out->x = malloc(n * s->d * sizeof *out->x);
  if (!out->x)
    return -1;
  if (s->kind == LINREG) {
    out->y = malloc(n * s->c * sizeof *out->y);
    double *w = malloc(s->d * s->c * sizeof *w);
    if (!out->y || !w) {
      free(w);
      return -1;
    }
    for (size_t k = 0; k < s->d * s->c; k++)
      w[k] = gaussian(&rng);
    for (size_t i = 0; i < n; i++) {
      for (size_t j = 0; j < s->d; j++)
        out->x[i * s->d + j] = (float)gaussian(&rng);
      for (size_t o = 0; o < s->c; o++) {
        double sum = 0.1 * gaussian(&rng);
        for (size_t j = 0; j < s->d; j++)
          sum += out->x[i * s->d + j] * w[j * s->c + o];
        out->y[i * s->c + o] = (float)sum;
      }
    }
    free(w);
    return 0;
  }
  out->labels = malloc(n * sizeof *out->labels);
  double *centres = malloc(s->c * s->d * sizeof *centres);
  if (!out->labels || !centres) {
    free(centres);
    return -1;
  }
  for (size_t k = 0; k < s->c * s->d; k++)
    centres[k] = 2.0 * gaussian(&rng);
  for (size_t i = 0; i < n; i++) {
    size_t label = (size_t)(next_u64(&rng) % s->c);
    out->labels[i] = (int32_t)label;
    for (size_t j = 0; j < s->d; j++)
      out->x[i * s->d + j] = (float)(centres[label * s->d + j] + gaussian(&rng));
  }
  free(centres);
  return 0;
}

static void free_data(struct dataset *data) {
  free(data->x);
  free(data->y);
  free(data->labels);
}

/* Weights ~ N(0, 1/fan_in), biases 0. */
static void init_params(const struct shape *s, uint64_t seed, float *theta) {
  uint64_t rng = seed ^ 0x5eedull;
  memset(theta, 0, param_count(s) * sizeof *theta);
  if (s->kind != MLP) {
    for (size_t k = 0; k < s->d * s->c; k++)
      theta[k] = (float)(gaussian(&rng) / sqrt((double)s->d));
    return;
  }
  float *w2 = theta + s->d * s->h + s->h;
  for (size_t k = 0; k < s->d * s->h; k++)
    theta[k] = (float)(gaussian(&rng) / sqrt((double)s->d));
  for (size_t k = 0; k < s->h * s->c; k++)
    w2[k] = (float)(gaussian(&rng) / sqrt((double)s->h));
}

/* ---- the step ---------------------------------------------------------- */

struct step {
  struct shape s;
  const struct dataset *data;
  const uint32_t *order; /* epoch order; batch k is order[k*B .. k*B+B-1] */
  size_t batch, full_steps;
  float lr;
  float *theta, *grad;
  float *xb;     /* B x D gathered rows */
  float *hidden; /* mlp: B x H */
  float *dhidden;
  float *z;      /* B x C: logits or outputs, then dZ in place */
  float *loss_rows;
  float *ones;   /* B ones: bias gradients are GEMVs with it, as in clbatch */
};

/* Rows of the batch, copied by the epoch's order (clbatch's gather_rows). */
static void gather(struct step *st, size_t first) {
  const size_t d = st->s.d;
  for (size_t r = 0; r < st->batch; r++)
    memcpy(st->xb + r * d, st->data->x + (size_t)st->order[first + r] * d, d * sizeof(float));
}

/* clbatch's linreg_loss: dZ = dscale (z + b - y), per-row squared error. */
static void linreg_loss(struct step *st, const float *bias, size_t first, float dscale) {
  const size_t c = st->s.c;
  for (size_t r = 0; r < st->batch; r++) {
    const float *y = st->data->y + (size_t)st->order[first + r] * c;
    float *row = st->z + r * c;
    float sum = 0;
    for (size_t o = 0; o < c; o++) {
      float residual = row[o] + bias[o] - y[o];
      sum += residual * residual;
      row[o] = dscale * residual;
    }
    st->loss_rows[r] = sum;
  }
}

/* clbatch's softmax_loss: dZ = dscale (softmax(z + b) - onehot), -log p_label. */
static void softmax_loss(struct step *st, const float *bias, size_t first, float dscale) {
  const size_t c = st->s.c;
  for (size_t r = 0; r < st->batch; r++) {
    const int32_t label = st->data->labels[st->order[first + r]];
    float *row = st->z + r * c;
    float top = row[0] + bias[0];
    for (size_t k = 0; k < c; k++) {
      row[k] += bias[k];
      if (row[k] > top)
        top = row[k];
    }
    float total = 0;
    for (size_t k = 0; k < c; k++)
      total += expf(row[k] - top);
    float log_total = logf(total);
    st->loss_rows[r] = log_total - (row[label] - top);
    for (size_t k = 0; k < c; k++)
      row[k] = dscale * (expf(row[k] - top - log_total) - (k == (size_t)label ? 1.0f : 0.0f));
  }
}

/* C = A B (or with A or B transposed), row-major; a GEMV when n is 1, since
 * OpenBLAS would otherwise run a GEMM kernel on a single column. */
static void gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, const float *a,
                 size_t lda, const float *b, size_t ldb, float *c, size_t ldc) {
  if (n == 1 && !trans_b) {
    /* c (m) = op(A) (m x k) b (k) */
    size_t rows = trans_a ? k : m, cols = trans_a ? m : k;
    cblas_sgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, (int)rows, (int)cols, 1.0f, a,
                (int)lda, b, (int)ldb, 0.0f, c, (int)ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b,
              (int)ldb, 0.0f, c, (int)ldc);
}

/* g (cols) = A^T 1 for A (rows x cols): the bias gradient, as clbatch's GEMV. */
static void column_sums(const float *a, size_t rows, size_t cols, const float *ones, float *g) {
  cblas_sgemv(CblasRowMajor, CblasTrans, (int)rows, (int)cols, 1.0f, a, (int)cols, ones, 1, 0.0f,
              g, 1);
}

/* The gradient of the mean loss over batch `index` into st->grad (theta unchanged). */
static void gradient(struct step *st, size_t index) {
  const size_t b = st->batch, d = st->s.d, h = st->s.h, c = st->s.c;
  const size_t first = (index % st->full_steps) * b;
  float *theta = st->theta, *g = st->grad;
  gather(st, first);
  if (st->s.kind != MLP) {
    gemm(0, 0, b, c, d, st->xb, d, theta, c, st->z, c); /* Z = X_B W */
    if (st->s.kind == LINREG)
      linreg_loss(st, theta + d * c, first, 2.0f / (float)b);
    else
      softmax_loss(st, theta + d * c, first, 1.0f / (float)b);
    gemm(1, 0, d, c, b, st->xb, d, st->z, c, g, c); /* gW = X_B^T dZ */
    column_sums(st->z, b, c, st->ones, g + d * c);  /* gb = dZ^T 1 */
    return;
  }
  const float *w2 = theta + d * h + h;
  float *gw1 = g, *gb1 = g + d * h, *gw2 = gb1 + h, *gb2 = gw2 + h * c;
  gemm(0, 0, b, h, d, st->xb, d, theta, h, st->hidden, h); /* H = X_B W1 */
  const float *b1 = theta + d * h;
  for (size_t r = 0; r < b; r++) /* bias + ReLU in place (clbatch's bias_relu) */
    for (size_t k = 0; k < h; k++) {
      float v = st->hidden[r * h + k] + b1[k];
      st->hidden[r * h + k] = v > 0 ? v : 0;
    }
  gemm(0, 0, b, c, h, st->hidden, h, w2, c, st->z, c); /* Z = H W2 */
  softmax_loss(st, w2 + h * c, first, 1.0f / (float)b);
  gemm(1, 0, h, c, b, st->hidden, h, st->z, c, gw2, c); /* gW2 = H^T dZ */
  column_sums(st->z, b, c, st->ones, gb2);
  gemm(0, 1, b, h, c, st->z, c, w2, c, st->dhidden, h); /* dH = dZ W2^T */
  for (size_t k = 0; k < b * h; k++)                    /* ReLU mask (relu_backward) */
    if (!(st->hidden[k] > 0))
      st->dhidden[k] = 0;
  gemm(1, 0, d, h, b, st->xb, d, st->dhidden, h, gw1, h); /* gW1 = X_B^T dH */
  column_sums(st->dhidden, b, h, st->ones, gb1);
}

static void sgd_step(struct step *st, size_t index) {
  gradient(st, index);
  cblas_saxpy((int)param_count(&st->s), -st->lr, st->grad, 1, st->theta, 1);
}

static void free_step(struct step *st) {
  free(st->theta);
  free(st->grad);
  free(st->xb);
  free(st->hidden);
  free(st->dhidden);
  free(st->z);
  free(st->loss_rows);
  free(st->ones);
}

static int make_step(struct step *st, const struct shape *s, const struct dataset *data,
                     const uint32_t *order, size_t batch, float lr, uint64_t seed) {
  memset(st, 0, sizeof *st);
  st->s = *s;
  st->data = data;
  st->order = order;
  st->batch = batch;
  st->full_steps = data->n / batch;
  st->lr = lr;
  size_t p = param_count(s), h = s->kind == MLP ? s->h : 1;
  st->theta = malloc(p * sizeof(float));
  st->grad = malloc(p * sizeof(float));
  st->xb = malloc(batch * s->d * sizeof(float));
  st->hidden = malloc(batch * h * sizeof(float));
  st->dhidden = malloc(batch * h * sizeof(float));
  st->z = malloc(batch * s->c * sizeof(float));
  st->loss_rows = malloc(batch * sizeof(float));
  st->ones = malloc(batch * sizeof(float));
  if (!st->theta || !st->grad || !st->xb || !st->hidden || !st->dhidden || !st->z ||
      !st->loss_rows || !st->ones) {
    free_step(st);
    return -1;
  }
  for (size_t r = 0; r < batch; r++)
    st->ones[r] = 1.0f;
  init_params(s, seed, st->theta);
  return 0;
}

/* ---- the check: a naive double-precision triple loop -------------------- */

/* The batch-mean gradient in double with plain loops over the whole batch
 * (matrices as triple loops, no BLAS), from the same float inputs. */
static void naive_gradient(const struct shape *s, const float *thetaf, const struct dataset *data,
                           const uint32_t *idx, size_t b, double *g) {
  const size_t d = s->d, c = s->c, h = s->kind == MLP ? s->h : 0, p = param_count(s);
  const size_t width = s->kind == MLP ? h : d; /* input width of the output layer */
  double *theta = malloc(p * sizeof *theta);
  double *x = malloc(b * d * sizeof *x);
  double *hid = malloc(b * (h ? h : 1) * sizeof *hid);
  double *z = malloc(b * c * sizeof *z);
  double *dh = malloc(b * (h ? h : 1) * sizeof *dh);
  if (!theta || !x || !hid || !z || !dh) {
    fprintf(stderr, "cpu_reference: out of memory in --check\n");
    exit(1);
  }
  for (size_t k = 0; k < p; k++)
    theta[k] = thetaf[k];
  for (size_t r = 0; r < b; r++)
    for (size_t j = 0; j < d; j++)
      x[r * d + j] = data->x[(size_t)idx[r] * d + j];
  const double *w_out = s->kind == MLP ? theta + d * h + h : theta;
  const double *b_out = w_out + width * c;
  const double *in = x;
  if (s->kind == MLP) {
    for (size_t r = 0; r < b; r++)
      for (size_t k = 0; k < h; k++) {
        double sum = theta[d * h + k];
        for (size_t j = 0; j < d; j++)
          sum += x[r * d + j] * theta[j * h + k];
        hid[r * h + k] = sum > 0 ? sum : 0;
      }
    in = hid;
  }
  for (size_t r = 0; r < b; r++)
    for (size_t o = 0; o < c; o++) {
      double sum = b_out[o];
      for (size_t j = 0; j < width; j++)
        sum += in[r * width + j] * w_out[j * c + o];
      z[r * c + o] = sum;
    }
  /* dZ: (2/B)(z - y) for the squared error, (1/B)(softmax - onehot) otherwise. */
  for (size_t r = 0; r < b; r++) {
    double *row = z + r * c;
    if (s->kind == LINREG) {
      for (size_t o = 0; o < c; o++)
        row[o] = 2.0 / (double)b * (row[o] - data->y[(size_t)idx[r] * c + o]);
      continue;
    }
    double top = row[0], total = 0;
    for (size_t o = 1; o < c; o++)
      top = row[o] > top ? row[o] : top;
    for (size_t o = 0; o < c; o++)
      total += exp(row[o] - top);
    for (size_t o = 0; o < c; o++)
      row[o] = (exp(row[o] - top) / total - (o == (size_t)data->labels[idx[r]] ? 1.0 : 0.0)) /
               (double)b;
  }
  double *gw_out = g + (w_out - theta), *gb_out = g + (b_out - theta);
  for (size_t j = 0; j < width; j++)
    for (size_t o = 0; o < c; o++) {
      double sum = 0;
      for (size_t r = 0; r < b; r++)
        sum += in[r * width + j] * z[r * c + o];
      gw_out[j * c + o] = sum;
    }
  for (size_t o = 0; o < c; o++) {
    double sum = 0;
    for (size_t r = 0; r < b; r++)
      sum += z[r * c + o];
    gb_out[o] = sum;
  }
  if (s->kind == MLP) {
    for (size_t r = 0; r < b; r++)
      for (size_t k = 0; k < h; k++) {
        double sum = 0;
        for (size_t o = 0; o < c; o++)
          sum += z[r * c + o] * w_out[k * c + o];
        dh[r * h + k] = hid[r * h + k] > 0 ? sum : 0;
      }
    for (size_t j = 0; j < d; j++)
      for (size_t k = 0; k < h; k++) {
        double sum = 0;
        for (size_t r = 0; r < b; r++)
          sum += x[r * d + j] * dh[r * h + k];
        g[j * h + k] = sum;
      }
    for (size_t k = 0; k < h; k++) {
      double sum = 0;
      for (size_t r = 0; r < b; r++)
        sum += dh[r * h + k];
      g[d * h + k] = sum;
    }
  }
  free(theta);
  free(x);
  free(hid);
  free(z);
  free(dh);
}

/* Largest |a - b| over the largest |b|: relative to the gradient's scale, so
 * entries that are nearly zero do not dominate. */
static double max_rel_error(const float *a, const double *b, size_t n) {
  double worst = 0, scale = 0;
  for (size_t k = 0; k < n; k++) {
    double diff = fabs((double)a[k] - b[k]);
    worst = diff > worst ? diff : worst;
    scale = fabs(b[k]) > scale ? fabs(b[k]) : scale;
  }
  return scale > 0 ? worst / scale : worst;
}

/* One gradient and one SGD update per model on a small shuffled case. */
static int run_check(uint64_t seed) {
  const double tolerance = 1e-4;
  int failed = 0;
  /* linreg twice: one output (the GEMV path of the default plan) and three. */
  const struct shape cases[] = {
      {LINREG, 13, 0, 1}, {LINREG, 13, 0, 3}, {SOFTMAX, 13, 0, 5}, {MLP, 13, 17, 5}};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    struct shape s = cases[ci];
    int m = (int)s.kind;
    size_t n = 96, b = 32;
    struct dataset data;
    struct step st;
    uint32_t *order = malloc(n * sizeof *order);
    size_t p = param_count(&s);
    double *ref = malloc(p * sizeof *ref);
    float *before = malloc(p * sizeof *before);
    uint64_t rng = seed;
    if (!order || !ref || !before || make_data(&s, n, seed, &data) != 0 ||
        make_step(&st, &s, &data, order, b, 0.1f, seed) != 0) {
      fprintf(stderr, "cpu_reference: out of memory in --check\n");
      return 1;
    }
    permutation(&rng, order, n);
    /* Non-zero biases, so the bias paths are exercised. */
    for (size_t k = 0; k < p; k++)
      st.theta[k] += 0.05f * (float)gaussian(&rng);
    memcpy(before, st.theta, p * sizeof *before);
    size_t index = 1; /* the second batch: rows order[32..63] */
    sgd_step(&st, index);
    naive_gradient(&s, before, &data, order + index * b, b, ref);
    double grad_err = max_rel_error(st.grad, ref, p);
    /* The update theta - lr g, against the double gradient. */
    double update_err = 0, scale = 0;
    for (size_t k = 0; k < p; k++) {
      double want = (double)before[k] - 0.1 * ref[k];
      double diff = fabs((double)st.theta[k] - want);
      update_err = diff > update_err ? diff : update_err;
      scale = fabs(want) > scale ? fabs(want) : scale;
    }
    update_err /= scale;
    int ok = grad_err <= tolerance && update_err <= tolerance;
    failed |= !ok;
    printf("check %-7s D=%zu H=%zu C=%zu B=%zu: max rel error gradient %.3g, update %.3g "
           "(tolerance %.0e) %s\n",
           model_names[m], s.d, s.h, s.c, b, grad_err, update_err, tolerance,
           ok ? "ok" : "FAILED");
    free_step(&st);
    free_data(&data);
    free(order);
    free(ref);
    free(before);
  }
  return failed;
}

/* ---- timing (the rules of src/measure/measure.c) -------------------------------- */

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

struct timing_config {
  size_t warmup;
  double min_time, max_time, target_cv;
};

struct timing {
  double median, min, p10, p90, cv, wall_step;
  size_t reps;
};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Linear interpolation between order statistics, as src/measure/stats.c does. */
static double quantile(const double *sorted, size_t n, double q) {
  double pos = q * (double)(n - 1);
  size_t lo = (size_t)pos;
  if (lo + 1 >= n)
    return sorted[n - 1];
  return sorted[lo] + (pos - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

static double coefficient_of_variation(const double *v, size_t n) {
  if (n < 2)
    return INFINITY;
  double mean = 0, ss = 0;
  for (size_t i = 0; i < n; i++)
    mean += v[i];
  mean /= (double)n;
  for (size_t i = 0; i < n; i++)
    ss += (v[i] - mean) * (v[i] - mean);
  return mean > 0 ? sqrt(ss / (double)(n - 1)) / mean : INFINITY;
}

static int measure(struct step *st, const struct timing_config *cfg, struct timing *out) {
  size_t index = 0, count = 0, capacity = 1024;
  double *times = malloc(capacity * sizeof *times);
  if (!times)
    return -1;
  for (size_t i = 0; i < cfg->warmup; i++)
    sgd_step(st, index++);
  double probe_start = now();
  sgd_step(st, index++);
  double probe = now() - probe_start;
  size_t per_round = probe > 0 ? (size_t)(0.02 / probe) : 1000;
  per_round = per_round < 1 ? 1 : per_round > 1000 ? 1000 : per_round;
  double timed = 0, started = now();
  for (;;) {
    double round_start = now();
    for (size_t i = 0; i < per_round; i++) {
      double t0 = now();
      sgd_step(st, index++);
      double t1 = now();
      if (count == capacity) {
        double *grown = realloc(times, 2 * capacity * sizeof *times);
        if (!grown) {
          free(times);
          return -1;
        }
        times = grown;
        capacity *= 2;
      }
      times[count++] = t1 - t0;
    }
    timed += now() - round_start;
    int enough = timed >= cfg->min_time && count >= 5;
    if ((enough && coefficient_of_variation(times, count) <= cfg->target_cv) ||
        now() - started >= cfg->max_time)
      break;
  }
  out->cv = coefficient_of_variation(times, count);
  qsort(times, count, sizeof *times, cmp_double);
  out->reps = count;
  out->median = quantile(times, count, 0.5);
  out->min = times[0];
  out->p10 = quantile(times, count, 0.1);
  out->p90 = quantile(times, count, 0.9);
  /* Wall time per step without the per-step clock reads: back to back. */
  size_t wall_steps = 3 * per_round;
  double wall_start = now();
  for (size_t i = 0; i < wall_steps; i++)
    sgd_step(st, index++);
  out->wall_step = (now() - wall_start) / (double)wall_steps;
  free(times);
  return 0;
}

/* ---- options ------------------------------------------------------------ */

static void usage(FILE *to) {
  fprintf(to,
          "Usage: cpu_reference [OPTIONS]\n"
          "\n"
          "clbatch's gradient step (gather, forward, loss, backward, SGD update) in fp32 on\n"
          "the host CPU with OpenBLAS, timed like `clbatch run`.\n"
          "\n"
          "  --model LIST      linreg,softmax,mlp (default all three)\n"
          "  --batch LIST      numbers and ranges as clbatch reads them: 1,2,4  1:N:x2\n"
          "                    32:512:+32  N (default 1:N:x2,N)\n"
          "  --samples N       (4096)   --features D (128)   --hidden H (256)\n"
          "  --classes C       softmax/mlp classes (10)   --outputs O linreg outputs (1)\n"
          "  --precision fp32  the only precision this baseline runs\n"
          "  --threads T       OpenBLAS threads (default: every online core)\n"
          "  --lr LR           SGD learning rate (0.001)   --seed S (1)\n"
          "  --warmup K (3)  --min-time S (0.2)  --max-time S (2)  --target-cv X (0.02)\n"
          "  --no-shuffle      contiguous batches (default: gathered by a shuffled order)\n"
          "  --out FILE.csv    write the rows there (default: stdout only)\n"
          "  --check           compare each model's gradient and update with a naive\n"
          "                    double-precision loop on a small case, then exit\n");
}

static int parse_size(const char *opt, const char *text, size_t min, size_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || end == text || *end || text[0] == '-' || v < min || v > ((size_t)1 << 31)) {
    fprintf(stderr, "cpu_reference: %s: '%s' is not a whole number >= %zu\n", opt, text, min);
    return -1;
  }
  *out = (size_t)v;
  return 0;
}

static int parse_double(const char *opt, const char *text, double min, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || end == text || *end || !(v >= min) || !isfinite(v)) {
    fprintf(stderr, "cpu_reference: %s: '%s' is not a number >= %g\n", opt, text, min);
    return -1;
  }
  *out = v;
  return 0;
}

/* A bound of a batch item: a number or N. */
static int parse_bound(const char *text, size_t n, size_t *out) {
  if (!strcmp(text, "N")) {
    *out = n;
    return 0;
  }
  return parse_size("--batch", text, 1, out);
}

#define MAX_BATCHES 256

/* "1,2,4", "1:N:x2", "32:512:+32", "N", in clbatch's syntax; duplicates dropped. */
static int parse_batches(const char *spec, size_t n, size_t *out, size_t *count) {
  char copy[512], *save = NULL;
  if (strlen(spec) >= sizeof copy) {
    fprintf(stderr, "cpu_reference: --batch: list too long\n");
    return -1;
  }
  strcpy(copy, spec);
  *count = 0;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    size_t lo = 0, hi = 0, stepv = 0;
    char *c1 = strchr(item, ':');
    int mul = 0;
    if (!c1) {
      if (parse_bound(item, n, &lo) != 0)
        return -1;
      hi = lo;
      stepv = 1;
    } else {
      char *c2 = strchr(c1 + 1, ':');
      if (!c2 || (c2[1] != 'x' && c2[1] != '+')) {
        fprintf(stderr, "cpu_reference: --batch: '%s' is not LO:HI:xF or LO:HI:+S\n", item);
        return -1;
      }
      *c1 = *c2 = '\0';
      mul = c2[1] == 'x';
      if (parse_bound(item, n, &lo) != 0 || parse_bound(c1 + 1, n, &hi) != 0 ||
          parse_size("--batch", c2 + 2, mul ? 2 : 1, &stepv) != 0)
        return -1;
    }
    for (size_t b = lo; b <= hi; b = mul ? b * stepv : b + stepv) {
      if (b > n) {
        fprintf(stderr, "cpu_reference: --batch: %zu is more than the %zu samples\n", b, n);
        return -1;
      }
      int seen = 0;
      for (size_t i = 0; i < *count; i++)
        seen |= out[i] == b;
      if (!seen) {
        if (*count == MAX_BATCHES) {
          fprintf(stderr, "cpu_reference: --batch: more than %d batch sizes\n", MAX_BATCHES);
          return -1;
        }
        out[(*count)++] = b;
      }
    }
  }
  if (*count == 0) {
    fprintf(stderr, "cpu_reference: --batch names no batch size\n");
    return -1;
  }
  return 0;
}

static int parse_models(const char *spec, int *models, size_t *count) {
  char copy[128], *save = NULL;
  if (strlen(spec) >= sizeof copy)
    return -1;
  strcpy(copy, spec);
  *count = 0;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    int found = -1;
    for (int m = 0; m < 3; m++)
      if (!strcmp(item, model_names[m]))
        found = m;
    if (found < 0) {
      fprintf(stderr, "cpu_reference: --model: unknown '%s' (linreg, softmax, mlp)\n", item);
      return -1;
    }
    if (*count < 3)
      models[(*count)++] = found;
  }
  return *count ? 0 : -1;
}

int main(int argc, char **argv) {
  const char *model_spec = "linreg,softmax,mlp", *batch_spec = "1:N:x2,N", *out_path = NULL;
  size_t samples = 4096, features = 128, hidden = 256, classes = 10, outputs = 1, threads = 0;
  size_t seed = 1;
  double lr = 1e-3;
  struct timing_config cfg = {3, 0.2, 2.0, 0.02};
  int check = 0, shuffle = 1;
  for (int i = 1; i < argc; i++) {
    const char *opt = argv[i];
    int has_value = i + 1 < argc;
    const char *v = has_value ? argv[i + 1] : "";
    int rc = 0, takes = 1;
    if (!strcmp(opt, "--help") || !strcmp(opt, "-h")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(opt, "--check")) {
      check = 1, takes = 0;
    } else if (!strcmp(opt, "--no-shuffle")) {
      shuffle = 0, takes = 0;
    } else if (!has_value) {
      fprintf(stderr, "cpu_reference: %s needs a value (or is unknown; see --help)\n", opt);
      return 2;
    } else if (!strcmp(opt, "--model")) {
      model_spec = v;
    } else if (!strcmp(opt, "--batch")) {
      batch_spec = v;
    } else if (!strcmp(opt, "--samples")) {
      rc = parse_size(opt, v, 2, &samples);
    } else if (!strcmp(opt, "--features")) {
      rc = parse_size(opt, v, 1, &features);
    } else if (!strcmp(opt, "--hidden")) {
      rc = parse_size(opt, v, 1, &hidden);
    } else if (!strcmp(opt, "--classes")) {
      rc = parse_size(opt, v, 2, &classes);
    } else if (!strcmp(opt, "--outputs")) {
      rc = parse_size(opt, v, 1, &outputs);
    } else if (!strcmp(opt, "--threads")) {
      rc = parse_size(opt, v, 1, &threads);
    } else if (!strcmp(opt, "--seed")) {
      rc = parse_size(opt, v, 0, &seed);
    } else if (!strcmp(opt, "--lr")) {
      rc = parse_double(opt, v, 0.0, &lr);
    } else if (!strcmp(opt, "--warmup")) {
      rc = parse_size(opt, v, 0, &cfg.warmup);
    } else if (!strcmp(opt, "--min-time")) {
      rc = parse_double(opt, v, 0.0, &cfg.min_time);
    } else if (!strcmp(opt, "--max-time")) {
      rc = parse_double(opt, v, 0.001, &cfg.max_time);
    } else if (!strcmp(opt, "--target-cv")) {
      rc = parse_double(opt, v, 0.0, &cfg.target_cv);
    } else if (!strcmp(opt, "--precision")) {
      if (strcmp(v, "fp32") != 0) {
        fprintf(stderr, "cpu_reference: --precision: only fp32 is implemented (got '%s')\n", v);
        return 2;
      }
    } else if (!strcmp(opt, "--out")) {
      out_path = v;
    } else {
      fprintf(stderr, "cpu_reference: unknown option '%s' (see --help)\n", opt);
      return 2;
    }
    if (rc != 0)
      return 2;
    i += takes;
  }

  long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (threads == 0)
    threads = online > 0 ? (size_t)online : 1;
  openblas_set_num_threads((int)threads);

  if (check)
    return run_check((uint64_t)seed);

  int models[3];
  size_t model_count = 0, batches[MAX_BATCHES], batch_count = 0;
  if (parse_models(model_spec, models, &model_count) != 0 ||
      parse_batches(batch_spec, samples, batches, &batch_count) != 0)
    return 2;
  if (cfg.max_time < cfg.min_time) {
    fprintf(stderr, "cpu_reference: --max-time is below --min-time\n");
    return 2;
  }

  FILE *out = NULL;
  if (out_path) {
    out = fopen(out_path, "w");
    if (!out) {
      fprintf(stderr, "cpu_reference: cannot write %s: %s\n", out_path, strerror(errno));
      return 1;
    }
    fprintf(out, "model,precision,batch,step_s_median,wall_step_s,samples_per_s,gflops,"
                 "step_s_min,step_s_p10,step_s_p90,step_cv,reps,n_samples,n_features,n_hidden,"
                 "n_classes,threads,library\n");
  }
  printf("OpenBLAS fp32 on the host CPU, %d thread(s); N=%zu D=%zu\n", openblas_get_num_threads(),
         samples, features);
  printf("%-8s %7s %14s %14s %14s %10s\n", "model", "batch", "step_s_median", "wall_step_s",
         "samples/s", "GFLOP/s");
  int failed = 0;
  for (size_t mi = 0; mi < model_count && !failed; mi++) {
    enum model_kind kind = (enum model_kind)models[mi];
    struct shape s = {kind, features, kind == MLP ? hidden : 0, kind == LINREG ? outputs : classes};
    struct dataset data;
    uint32_t *order = malloc(samples * sizeof *order);
    if (!order || make_data(&s, samples, (uint64_t)seed, &data) != 0) {
      fprintf(stderr, "cpu_reference: out of memory for the data set\n");
      free(order);
      return 1;
    }
    for (size_t bi = 0; bi < batch_count && !failed; bi++) {
      size_t b = batches[bi];
      uint64_t rng = (uint64_t)seed + b; /* one order per batch size, as clbatch seeds it */
      if (shuffle)
        permutation(&rng, order, samples);
      else
        for (size_t i = 0; i < samples; i++)
          order[i] = (uint32_t)i;
      struct step st;
      struct timing t;
      if (make_step(&st, &s, &data, order, b, (float)lr, (uint64_t)seed) != 0 ||
          measure(&st, &cfg, &t) != 0) {
        fprintf(stderr, "cpu_reference: out of memory at %s batch %zu\n", model_names[kind], b);
        failed = 1;
        break;
      }
      double gflops = step_flops(&s, b) / t.median / 1e9;
      printf("%-8s %7zu %14.6g %14.6g %14.6g %10.4g\n", model_names[kind], b, t.median,
             t.wall_step, (double)b / t.median, gflops);
      if (out)
        fprintf(out, "%s,fp32,%zu,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%zu,%zu,%zu,%zu,%zu,%d,"
                     "OpenBLAS\n",
                model_names[kind], b, t.median, t.wall_step, (double)b / t.median, gflops, t.min,
                t.p10, t.p90, t.cv, t.reps, samples, features, s.h, s.c,
                openblas_get_num_threads());
      if (out)
        fflush(out);
      free_step(&st);
    }
    free_data(&data);
    free(order);
  }
  if (out && fclose(out) != 0) {
    fprintf(stderr, "cpu_reference: error writing %s\n", out_path);
    return 1;
  }
  return failed;
}
