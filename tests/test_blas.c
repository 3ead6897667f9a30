/* clbatch's CLBlast GEMM wrapper against a double-precision host loop, for
 * every transpose, with padded leading dimensions, offsets, alpha and beta.
 * One-row and one-column products take the GEMV route (src/blas/blas.c): these
 * cases check its stride mapping, and that it writes nothing outside C. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdlib.h>

#include "blas/blas.h"
#include "cl/context.h"
#include "cl/platform.h"
#include "helpers.h"

struct gemm_case {
  int precision;
  int trans_a, trans_b;
  size_t m, n, k;
  int indirect; /* force CLBlast's indirect GEMM (copy/pad kernels, then Xgemm) */
};

enum { PAD = 3, OFFSET = 5 };
static const double ALPHA = 1.5, BETA = 0.5;

struct matrix {
  size_t rows, cols, ld, elements; /* elements: OFFSET + rows * ld */
  double *host;
  cl_mem device;
};

static void matrix_init(struct matrix *mat, size_t rows, size_t cols, double phase) {
  mat->rows = rows;
  mat->cols = cols;
  mat->ld = cols + PAD;
  mat->elements = OFFSET + rows * mat->ld;
  mat->host = malloc(mat->elements * sizeof *mat->host);
  cr_assert_not_null(mat->host);
  /* Values exact in fp32, so fp32 and fp64 see the same inputs. */
  for (size_t i = 0; i < mat->elements; i++)
    mat->host[i] = (double)(float)sin(0.37 * (double)i + phase);
}

static void matrix_upload(struct matrix *mat, const struct clb_cl *cl, int precision) {
  size_t size = clb_precision_size(precision);
  void *converted = malloc(mat->elements * size);
  cr_assert_not_null(converted);
  clb_precision_from_double(precision, mat->host, converted, mat->elements);
  cl_int status = CL_SUCCESS;
  mat->device = clCreateBuffer(cl->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                               mat->elements * size, converted, &status);
  cr_assert_eq(status, CL_SUCCESS);
  free(converted);
}

static void matrix_download(const struct matrix *mat, const struct clb_cl *cl, int precision,
                            double *out) {
  size_t size = clb_precision_size(precision);
  void *raw = malloc(mat->elements * size);
  cr_assert_not_null(raw);
  cr_assert_eq(clEnqueueReadBuffer(cl->queue, mat->device, CL_TRUE, 0, mat->elements * size, raw,
                                   0, NULL, NULL),
               CL_SUCCESS);
  clb_precision_to_double(precision, raw, out, mat->elements);
  free(raw);
}

static void matrix_free(struct matrix *mat) {
  clReleaseMemObject(mat->device);
  free(mat->host);
}

static double stored(const struct matrix *mat, size_t row, size_t col) {
  return mat->host[OFFSET + row * mat->ld + col];
}

/* One case on the context and CLBlast handle its group shares. */
static void check_gemm(const struct clb_cl *cl, struct clb_blas *blas, const struct gemm_case *t) {
  struct clb_error err = {0};
  struct matrix a, b, c;
  matrix_init(&a, t->trans_a ? t->k : t->m, t->trans_a ? t->m : t->k, 0.1);
  matrix_init(&b, t->trans_b ? t->n : t->k, t->trans_b ? t->k : t->n, 0.7);
  matrix_init(&c, t->m, t->n, 1.3);
  matrix_upload(&a, cl, t->precision);
  matrix_upload(&b, cl, t->precision);
  matrix_upload(&c, cl, t->precision);

  cr_assert_eq(clb_blas_reserve_gemm(blas, t->trans_a, t->trans_b, t->m, t->n, t->k, OFFSET, a.ld,
                                     OFFSET, b.ld, OFFSET, c.ld, &err),
               0, "%s", err.message);
  cr_assert_eq(clb_blas_gemm(blas, t->trans_a, t->trans_b, t->m, t->n, t->k, ALPHA, a.device,
                             OFFSET, a.ld, b.device, OFFSET, b.ld, BETA, c.device, OFFSET, c.ld,
                             NULL, &err),
               0, "%s", err.message);
  double *got = malloc(c.elements * sizeof *got);
  cr_assert_not_null(got);
  matrix_download(&c, cl, t->precision, got);

  const double tolerance = t->precision == CLB_FP64 ? 1e-12 : 2e-6;
  size_t wrong = 0;
  for (size_t i = 0; i < c.elements && wrong < 3; i++) {
    size_t row = (i - OFFSET) / c.ld, col = (i - OFFSET) % c.ld;
    double want = c.host[i]; /* outside C (offset, padding): untouched */
    double scale = fabs(want);
    if (i >= OFFSET && col < t->n) {
      double sum = 0.0, magnitude = 0.0;
      for (size_t x = 0; x < t->k; x++) {
        double av = t->trans_a ? stored(&a, x, row) : stored(&a, row, x);
        double bv = t->trans_b ? stored(&b, col, x) : stored(&b, x, col);
        sum += av * bv;
        magnitude += fabs(av * bv);
      }
      want = ALPHA * sum + BETA * c.host[i];
      scale = ALPHA * magnitude + BETA * fabs(c.host[i]);
    }
    int ok = fabs(got[i] - want) <= tolerance * (scale + 1.0);
    wrong += !ok;
    cr_expect(ok,
              "%s %s%s %zux%zux%zu%s: C element %zu (row %zu, column %zu): got %.17g, want %.17g",
              clb_precision_name(t->precision), t->trans_a ? "T" : "N", t->trans_b ? "T" : "N",
              t->m, t->n, t->k, t->indirect ? " indirect" : "", i, i >= OFFSET ? row : 0,
              i >= OFFSET ? col : 0, got[i], want);
  }
  free(got);
  matrix_free(&a);
  matrix_free(&b);
  matrix_free(&c);
}

/* Every transpose pair for a general GEMM through CLBlast's direct kernel and
 * through its indirect path (whose copy kernels must honour the padded leading
 * dimensions too), a one-column (n = 1: linear regression's forward and
 * backward), a one-row (m = 1: batch size 1), a 1 x 1 (a dot product) and a
 * k = 1 (outer product) shape. */
#define SHAPES(p, ta, tb)                                                                    \
  {p, ta, tb, 7, 5, 11, 0}, {p, ta, tb, 37, 29, 41, 1}, {p, ta, tb, 13, 1, 9, 0},            \
      {p, ta, tb, 1, 6, 17, 0}, {p, ta, tb, 1, 1, 23, 0}, {p, ta, tb, 4, 3, 1, 0}
#define TRANSPOSES(p) SHAPES(p, 0, 0), SHAPES(p, 1, 0), SHAPES(p, 0, 1), SHAPES(p, 1, 1)

static const struct gemm_case gemm_cases[] = {TRANSPOSES(CLB_FP32), TRANSPOSES(CLB_FP64)};

/* The cases run in groups of one precision and one path, a process each:
 * the path's override is global to the process, and a runtime with no
 * kernel cache across processes (Intel's) builds each program once per group
 * rather than once per case. */
struct gemm_group {
  int precision;
  int indirect;
};

ParameterizedTestParameters(blas, gemm_matches_host_loop) {
  static struct gemm_group groups[] = {{CLB_FP32, 0}, {CLB_FP32, 1}, {CLB_FP64, 0}, {CLB_FP64, 1}};
  return cr_make_param_array(struct gemm_group, groups, sizeof groups / sizeof groups[0]);
}

ParameterizedTest(struct gemm_group *group, blas, gemm_matches_host_loop) {
  struct clb_device_list list = {0};
  const struct clb_device_info *cpu = NULL;
  struct clb_cl cl;
  if (!clb_test_open_cl(&list, &cpu, &cl, (enum clb_precision)group->precision))
    return;
  struct clb_blas blas;
  clb_blas_init(&blas, cl.context, cl.queue, cpu->name, (enum clb_precision)group->precision);
  if (group->indirect)
    clb_test_set_gemm_crossover(cpu, (enum clb_precision)group->precision, 0);
  size_t checked = 0;
  for (size_t i = 0; i < sizeof gemm_cases / sizeof gemm_cases[0]; i++) {
    const struct gemm_case *t = &gemm_cases[i];
    if (t->precision == group->precision && t->indirect == group->indirect) {
      check_gemm(&cl, &blas, t);
      checked++;
    }
  }
  cr_expect_gt(checked, 0);
  clb_blas_destroy(&blas);
  clb_test_close_cl(&list, &cl);
}
