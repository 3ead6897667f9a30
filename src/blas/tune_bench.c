#include "blas/tune_bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas/blas.h"
#include "measure/measure.h"
#include "util/rng.h"

#define VERIFY_ENTRIES 4096 /* result entries checked against the host per configuration */

struct clb_tune_bench {
  const struct clb_cl *cl;
  const char *device;
  enum clb_precision precision;
  enum clb_tune_op op;
  int trans_a, trans_b;
  size_t m, n, k;
  size_t lda, ldb; /* A stored m x k (k x m transposed), B k x n (n x k) */
  size_t c_cols; /* C's row length: n for the GEMM, m for the transpose */
  struct clb_blas blas;
  cl_mem a, b, c;
  void *host_c;      /* C as the device stores it */
  double *result;    /* C converted to double */
  size_t *check_at;  /* indices of C verified */
  double *reference; /* their host values */
  size_t check_count;
  double tolerance;
};

void clb_tune_bench_destroy(struct clb_tune_bench *b) {
  if (!b)
    return;
  clb_blas_destroy(&b->blas);
  if (b->a)
    clReleaseMemObject(b->a);
  if (b->b)
    clReleaseMemObject(b->b);
  if (b->c)
    clReleaseMemObject(b->c);
  free(b->host_c);
  free(b->result);
  free(b->check_at);
  free(b->reference);
  free(b);
}

static int upload(struct clb_tune_bench *b, const double *values, size_t count, cl_mem *out,
                  struct clb_error *err) {
  int rc = 0;
  size_t bytes = count * clb_precision_size(b->precision);
  cl_int status = CL_SUCCESS;
  void *host = malloc(bytes);
  if (!host)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for a %zu-byte GEMM operand", bytes);
  clb_precision_from_double(b->precision, values, host, count);
  *out = clCreateBuffer(b->cl->context, CL_MEM_READ_WRITE, bytes, NULL, &status);
  CLB_CHECK(status, "clCreateBuffer (tuning GEMM operand)", b->device);
  CLB_CHECK(clEnqueueWriteBuffer(b->cl->queue, *out, CL_TRUE, 0, bytes, host, 0, NULL, NULL),
            "clEnqueueWriteBuffer (tuning GEMM operand)", b->device);
cleanup:
  free(host);
  return rc;
}

/* Random operands in [-1, 1] (multiples of 1/8, exact in every precision),
 * and the host reference of a spread of C's entries, from those operands.
 * For the transpose A is m x n, there is no B, and C must match exactly. */
static void fill_operands(struct clb_tune_bench *b, double *a, double *bm, size_t a_count,
                          size_t b_count, uint64_t seed) {
  const size_t mn = b->m * b->n;
  uint64_t state = seed ^ 0x5eedc1b1a5ull;
  for (size_t i = 0; i < a_count; i++)
    a[i] = (double)((int)(clb_splitmix64(&state) % 17) - 8) / 8.0;
  for (size_t i = 0; i < b_count; i++)
    bm[i] = (double)((int)(clb_splitmix64(&state) % 17) - 8) / 8.0;
  for (size_t e = 0; e < b->check_count; e++) {
    size_t at = b->check_count == mn ? e : (size_t)(clb_splitmix64(&state) % mn);
    size_t row = at / b->c_cols, col = at % b->c_cols;
    double sum = 0.0;
    if (b->op == CLB_TUNE_OP_TRANSPOSE)
      sum = a[col * b->n + row];
    else
      for (size_t x = 0; x < b->k; x++)
        sum += a[b->trans_a ? x * b->lda + row : row * b->lda + x] *
               bm[b->trans_b ? col * b->ldb + x : x * b->ldb + col];
    b->check_at[e] = at;
    b->reference[e] = sum;
  }
  double eps = b->precision == CLB_FP64 ? 2.3e-16 : b->precision == CLB_FP16 ? 9.8e-4 : 1.2e-7;
  b->tolerance =
      b->op == CLB_TUNE_OP_TRANSPOSE ? 0.0 : 8.0 * eps * (double)b->k; /* |a|, |b| <= 1 */
}

int clb_tune_bench_create(const struct clb_cl *cl, enum clb_precision precision,
                          enum clb_tune_op op, const struct clb_tune_gemm *shape, uint64_t seed,
                          struct clb_tune_bench **out, struct clb_error *err) {
  int rc = 0;
  size_t m = shape->m, n = shape->n, k = shape->k;
  double *a = NULL, *bm = NULL;
  struct clb_tune_bench *b = calloc(1, sizeof *b);
  *out = NULL;
  if (!b)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for the tuning benchmark");
  b->cl = cl;
  b->device = cl->info->name;
  b->precision = precision;
  b->op = op;
  b->m = m;
  b->n = n;
  b->k = op == CLB_TUNE_OP_TRANSPOSE ? 1 : k;
  b->trans_a = op == CLB_TUNE_OP_GEMM && shape->trans_a;
  b->trans_b = op == CLB_TUNE_OP_GEMM && shape->trans_b;
  b->lda = b->trans_a ? m : b->k;
  b->ldb = b->trans_b ? b->k : n;
  b->c_cols = op == CLB_TUNE_OP_TRANSPOSE ? m : n;
  clb_blas_init(&b->blas, cl->context, cl->queue, cl->info->name, precision);
  k = b->k;
  if (m == 0 || n == 0 || k == 0) {
    rc = clb_failf(err, CLB_E_INVAL, "empty shape %zu x %zu x %zu", m, n, k);
    goto cleanup;
  }
  /* The transpose reads A (m x n) and has no B. */
  size_t mn = m * n, mk = op == CLB_TUNE_OP_TRANSPOSE ? mn : m * k,
         kn = op == CLB_TUNE_OP_TRANSPOSE ? 0 : k * n;
  if (mn / m != n || (op == CLB_TUNE_OP_GEMM && (mk / m != k || kn / k != n))) {
    rc = clb_failf(err, CLB_E_INVAL, "shape %zu x %zu x %zu is too large", m, n, k);
    goto cleanup;
  }
  a = malloc(mk * sizeof *a);
  bm = malloc((kn ? kn : 1) * sizeof *bm);
  b->host_c = malloc(mn * clb_precision_size(precision));
  b->result = malloc(mn * sizeof *b->result);
  b->check_count = mn < VERIFY_ENTRIES ? mn : VERIFY_ENTRIES;
  b->check_at = malloc(b->check_count * sizeof *b->check_at);
  b->reference = malloc(b->check_count * sizeof *b->reference);
  if (!a || !bm || !b->host_c || !b->result || !b->check_at || !b->reference) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for a %zu x %zu x %zu GEMM", m, n, k);
    goto cleanup;
  }
  fill_operands(b, a, bm, mk, kn, seed);
  CLB_TRY(upload(b, a, mk, &b->a, err));
  if (kn > 0)
    CLB_TRY(upload(b, bm, kn, &b->b, err));
  cl_int status = CL_SUCCESS;
  b->c = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, mn * clb_precision_size(precision), NULL,
                        &status);
  CLB_CHECK(status, "clCreateBuffer (tuning GEMM result)", b->device);
  *out = b;
  b = NULL;
cleanup:
  clb_tune_bench_destroy(b);
  free(a);
  free(bm);
  return rc;
}

/* One GEMM for measure/'s loop. CLBlast's event covers only its last kernel
 * and the indirect path runs pad/transpose kernels first, so a marker opens
 * the run and the GEMM's event (its last kernel) closes it. */
static int gemm_run(void *context, size_t index, cl_event *first, cl_event *last,
                    struct clb_error *err) {
  struct clb_tune_bench *b = context;
  int rc = 0;
  if (first)
    CLB_CHECK(clEnqueueMarkerWithWaitList(b->cl->queue, 0, NULL, first),
              "clEnqueueMarkerWithWaitList", b->device);
  if (b->op == CLB_TUNE_OP_TRANSPOSE)
    rc = clb_blas_transpose(&b->blas, b->m, b->n, b->a, b->c, last, err);
  else
    rc = clb_blas_gemm(&b->blas, b->trans_a, b->trans_b, b->m, b->n, b->k, 1.0, b->a, 0, b->lda,
                       b->b, 0, b->ldb, 0.0, b->c, 0, b->n, last, err);
cleanup:
  return rc;
}

/* Runs the GEMM once on a C filled with a sentinel and compares the checked
 * entries with the host. This first run also compiles the kernels, so it is
 * the warm-up of the timing that follows. */
static int verify(struct clb_tune_bench *b, struct clb_error *err) {
  int rc = 0;
  const size_t mn = b->m * b->n, element = clb_precision_size(b->precision);
  /* Bytes of 0x42 are finite in every precision (48.56 in fp32, 3.13 in
   * fp16) and no multiple of 1/64, which every entry of C is: a kernel that
   * writes nothing fails the check. Not NaN: CLBlast's GEMV computes
   * beta * y even for beta = 0, and 0 * NaN is NaN. */
  cl_uchar sentinel = 0x42;
  CLB_CHECK(clEnqueueFillBuffer(b->cl->queue, b->c, &sentinel, 1, 0, mn * element, 0, NULL, NULL),
            "clEnqueueFillBuffer (tuning GEMM result)", b->device);
  CLB_TRY(gemm_run(b, 0, NULL, NULL, err));
  CLB_CHECK(clFinish(b->cl->queue), "clFinish (GEMM warm-up)", b->device);
  CLB_CHECK(
      clEnqueueReadBuffer(b->cl->queue, b->c, CL_TRUE, 0, mn * element, b->host_c, 0, NULL, NULL),
      "clEnqueueReadBuffer (tuning GEMM result)", b->device);
  clb_precision_to_double(b->precision, b->host_c, b->result, mn);
  for (size_t e = 0; e < b->check_count; e++) {
    double got = b->result[b->check_at[e]], want = b->reference[e];
    if (!(fabs(got - want) <= b->tolerance)) {
      rc = clb_failf(err, CLB_E_NUMERIC, "wrong %s result on %s: C[%zu][%zu] = %g, expected %g",
                     b->op == CLB_TUNE_OP_TRANSPOSE ? "transpose" : "GEMM", b->device,
                     b->check_at[e] / b->c_cols, b->check_at[e] % b->c_cols, got, want);
      goto cleanup;
    }
  }
cleanup:
  return rc;
}

/* At least 3 and at most 2000 runs, until they add up to 0.2 s: with at
 * most 100 runs a 0.1 ms GEMM was timed for 10 ms, and one configuration
 * measured 47 and 72 GFLOP/s in two searches here; 0.2 s is little next to
 * a compile of seconds. Configurations are compared by the median run,
 * which a stray slow run (the host's scheduler, a page fault) does not
 * move, rather than the best run, which rewards a lucky outlier. */
static const struct clb_measure_runs_config gemm_runs = {0, 3, 2000, 0.2, 0};

int clb_tune_bench_verify(struct clb_tune_bench *b, struct clb_error *err) {
  int rc = 0;
  if (b->op == CLB_TUNE_OP_GEMM)
    CLB_TRY(clb_blas_reserve_gemm(&b->blas, b->trans_a, b->trans_b, b->m, b->n, b->k, 0, b->lda, 0,
                                  b->ldb, 0, b->n, err));
  CLB_TRY(verify(b, err));
cleanup:
  return rc;
}

int clb_tune_bench_gflops(struct clb_tune_bench *b, double *gflops, struct clb_error *err) {
  int rc = 0;
  struct clb_timing timing;
  CLB_TRY(clb_tune_bench_verify(b, err));
  CLB_TRY(clb_measure_runs(b->cl->queue, b->device, gemm_run, b, &gemm_runs, &timing, err));
  double median = timing.device.median > 0.0 ? timing.device.median : 1e-9;
  double per_run = b->op == CLB_TUNE_OP_TRANSPOSE
                       ? 2.0 * (double)(b->m * b->n * clb_precision_size(b->precision))
                       : 2.0 * (double)b->m * (double)b->n * (double)b->k;
  *gflops = per_run / median * 1e-9;
cleanup:
  return rc;
}
