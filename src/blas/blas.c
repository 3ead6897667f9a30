#include "blas/blas.h"

#include <clblast_c.h>

void clb_blas_init(struct clb_blas *blas, cl_context context, cl_command_queue queue,
                   const char *device_name, enum clb_precision precision) {
  blas->context = context;
  blas->queue = queue;
  blas->device_name = device_name;
  blas->precision = precision;
  blas->temp = NULL;
  blas->temp_bytes = 0;
}

void clb_blas_release_temp(struct clb_blas *blas) {
  if (blas->temp)
    clReleaseMemObject(blas->temp);
  blas->temp = NULL;
  blas->temp_bytes = 0;
}

void clb_blas_destroy(struct clb_blas *blas) {
  if (blas)
    clb_blas_release_temp(blas);
}

static CLBlastTranspose transpose(int trans) {
  return trans ? CLBlastTransposeYes : CLBlastTransposeNo;
}

static cl_half half_of(double value) { return clb_half_from_float((float)value); }

static const char *gemm_name(enum clb_precision precision) {
  return precision == CLB_FP64   ? "CLBlastDgemmWithTempBuffer"
         : precision == CLB_FP16 ? "CLBlastHgemmWithTempBuffer"
                                 : "CLBlastSgemmWithTempBuffer";
}

/* A GEMM with one output row or column is a matrix-vector product. CLBlast's
 * GEMM kernels would pad it to whole tiles (plus the indirect path's copy
 * kernels); its GEMV reads the matrix once in one kernel and needs no
 * temporary buffer. */
static int runs_as_gemv(size_t m, size_t n) { return m == 1 || n == 1; }

int clb_blas_reserve_gemm(struct clb_blas *blas, int trans_a, int trans_b, size_t m, size_t n,
                          size_t k, size_t a_offset, size_t lda, size_t b_offset, size_t ldb,
                          size_t c_offset, size_t ldc, struct clb_error *err) {
  if (runs_as_gemv(m, n))
    return 0;
  int rc = 0;
  size_t bytes = 0;
  CLBlastStatusCode status;
  const CLBlastLayout row = CLBlastLayoutRowMajor;
  switch (blas->precision) {
  case CLB_FP64:
    status = CLBlastDGemmTempBufferSize(row, transpose(trans_a), transpose(trans_b), m, n, k,
                                        a_offset, lda, b_offset, ldb, c_offset, ldc, &blas->queue,
                                        &bytes);
    break;
  case CLB_FP16:
    status = CLBlastHGemmTempBufferSize(row, transpose(trans_a), transpose(trans_b), m, n, k,
                                        a_offset, lda, b_offset, ldb, c_offset, ldc, &blas->queue,
                                        &bytes);
    break;
  default:
    status = CLBlastSGemmTempBufferSize(row, transpose(trans_a), transpose(trans_b), m, n, k,
                                        a_offset, lda, b_offset, ldb, c_offset, ldc, &blas->queue,
                                        &bytes);
  }
  CLB_CHECK(status, "CLBlast?GemmTempBufferSize", blas->device_name);
  if (bytes <= blas->temp_bytes)
    return 0;
  cl_int cl_status = CL_SUCCESS;
  cl_mem grown = clCreateBuffer(blas->context, CL_MEM_READ_WRITE, bytes, NULL, &cl_status);
  CLB_CHECK(cl_status, "clCreateBuffer (CLBlast GEMM temporary buffer)", blas->device_name);
  /* Touch it so a lazy allocator fails here, not inside a timed step. */
  cl_uchar zero = 0;
  cl_status = clEnqueueFillBuffer(blas->queue, grown, &zero, 1, 0, bytes, 0, NULL, NULL);
  if (cl_status == CL_SUCCESS)
    cl_status = clFinish(blas->queue);
  if (cl_status != CL_SUCCESS) {
    clReleaseMemObject(grown);
    CLB_CHECK(cl_status, "clEnqueueFillBuffer (CLBlast GEMM temporary buffer)",
              blas->device_name);
  }
  if (blas->temp)
    clReleaseMemObject(blas->temp);
  blas->temp = grown;
  blas->temp_bytes = bytes;
cleanup:
  return rc;
}

/* y = alpha op(A) x + beta y with strided x and y (elements apart), A an
 * m x n row-major matrix.
 *
 * CLBlast decides whether its fast GEMV kernels may run from the m and n it
 * is given, but for a transposed matrix the kernel needs that of the other
 * dimension (CLBlast 1.5.3, src/routines/level2/xgemv.cpp): an XgemvFast set
 * with WPT2 > 1 then runs n / WPT2 work-items in larger work-groups, and on
 * PoCL it wrote past y and corrupted the heap. So y = A^T x goes in as
 * y = A x of the same memory read column-major, untransposed, where
 * CLBlast's check is the kernel's own. */
static int gemv_strided(struct clb_blas *blas, int trans_a, size_t m, size_t n, double alpha,
                        cl_mem a, size_t a_offset, size_t lda, cl_mem x, size_t x_offset,
                        size_t x_inc, double beta, cl_mem y, size_t y_offset, size_t y_inc,
                        cl_event *event, struct clb_error *err) {
  CLBlastStatusCode status;
  const CLBlastLayout row = trans_a ? CLBlastLayoutColMajor : CLBlastLayoutRowMajor;
  const CLBlastTranspose no = CLBlastTransposeNo;
  const size_t rows = m, cols = n;
  if (trans_a) {
    m = cols;
    n = rows;
  }
  const char *name;
  switch (blas->precision) {
  case CLB_FP64:
    name = "CLBlastDgemv";
    status = CLBlastDgemv(row, no, m, n, alpha, a, a_offset, lda, x, x_offset, x_inc, beta, y,
                          y_offset, y_inc, &blas->queue, event);
    break;
  case CLB_FP16:
    name = "CLBlastHgemv";
    status = CLBlastHgemv(row, no, m, n, half_of(alpha), a, a_offset, lda, x, x_offset, x_inc,
                          half_of(beta), y, y_offset, y_inc, &blas->queue, event);
    break;
  default:
    name = "CLBlastSgemv";
    status = CLBlastSgemv(row, no, m, n, (float)alpha, a, a_offset, lda, x, x_offset, x_inc,
                          (float)beta, y, y_offset, y_inc, &blas->queue, event);
  }
  if (status != CLBlastSuccess)
    return clb_fail(err, status, name, blas->device_name, "m=%zu n=%zu%s", rows, cols,
                    trans_a ? ", transposed" : "");
  return 0;
}

int clb_blas_transpose(struct clb_blas *blas, size_t rows, size_t cols, cl_mem a, cl_mem b,
                       cl_event *event, struct clb_error *err) {
  CLBlastStatusCode status;
  const CLBlastLayout row = CLBlastLayoutRowMajor;
  const CLBlastTranspose yes = CLBlastTransposeYes;
  const char *name;
  switch (blas->precision) {
  case CLB_FP64:
    name = "CLBlastDomatcopy";
    status =
        CLBlastDomatcopy(row, yes, rows, cols, 1.0, a, 0, cols, b, 0, rows, &blas->queue, event);
    break;
  case CLB_FP16:
    name = "CLBlastHomatcopy";
    status = CLBlastHomatcopy(row, yes, rows, cols, half_of(1.0), a, 0, cols, b, 0, rows,
                              &blas->queue, event);
    break;
  default:
    name = "CLBlastSomatcopy";
    status =
        CLBlastSomatcopy(row, yes, rows, cols, 1.0f, a, 0, cols, b, 0, rows, &blas->queue, event);
  }
  if (status != CLBlastSuccess)
    return clb_fail(err, status, name, blas->device_name, "%zu x %zu, transposed", rows, cols);
  return 0;
}

int clb_blas_gemv(struct clb_blas *blas, int trans_a, size_t m, size_t n, double alpha, cl_mem a,
                  size_t a_offset, size_t lda, cl_mem x, size_t x_offset, double beta, cl_mem y,
                  size_t y_offset, cl_event *event, struct clb_error *err) {
  return gemv_strided(blas, trans_a, m, n, alpha, a, a_offset, lda, x, x_offset, 1, beta, y,
                      y_offset, 1, event, err);
}

int clb_blas_gemm(struct clb_blas *blas, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                  double alpha, cl_mem a, size_t a_offset, size_t lda, cl_mem b, size_t b_offset,
                  size_t ldb, double beta, cl_mem c, size_t c_offset, size_t ldc,
                  cl_event *event, struct clb_error *err) {
  /* Row-major: with n == 1, C's column is op(A) times B's column; with
   * m == 1, C's row is op(B)^T times A's row. */
  if (runs_as_gemv(m, n))
    return n == 1 ? gemv_strided(blas, trans_a, trans_a ? k : m, trans_a ? m : k, alpha, a,
                                 a_offset, lda, b, b_offset, trans_b ? 1 : ldb, beta, c, c_offset,
                                 ldc, event, err)
                  : gemv_strided(blas, !trans_b, trans_b ? n : k, trans_b ? k : n, alpha, b,
                                 b_offset, ldb, a, a_offset, trans_a ? lda : 1, beta, c, c_offset,
                                 1, event, err);
  int rc = 0;
  CLBlastStatusCode status;
  const CLBlastLayout row = CLBlastLayoutRowMajor;
  const CLBlastTranspose ta = transpose(trans_a), tb = transpose(trans_b);
  switch (blas->precision) {
  case CLB_FP64:
    status = CLBlastDgemmWithTempBuffer(row, ta, tb, m, n, k, alpha, a, a_offset, lda, b,
                                        b_offset, ldb, beta, c, c_offset, ldc, &blas->queue,
                                        event, blas->temp);
    break;
  case CLB_FP16:
    status = CLBlastHgemmWithTempBuffer(row, ta, tb, m, n, k, half_of(alpha), a, a_offset, lda,
                                        b, b_offset, ldb, half_of(beta), c, c_offset, ldc,
                                        &blas->queue, event, blas->temp);
    break;
  default:
    status = CLBlastSgemmWithTempBuffer(row, ta, tb, m, n, k, (float)alpha, a, a_offset, lda, b,
                                        b_offset, ldb, (float)beta, c, c_offset, ldc,
                                        &blas->queue, event, blas->temp);
  }
  if (status != CLBlastSuccess)
    return clb_fail(err, status, gemm_name(blas->precision), blas->device_name,
                    "m=%zu n=%zu k=%zu", m, n, k);
  return rc;
}

int clb_blas_axpy(struct clb_blas *blas, size_t n, double alpha, cl_mem x, size_t x_offset,
                  cl_mem y, size_t y_offset, cl_event *event, struct clb_error *err) {
  CLBlastStatusCode status;
  const char *name;
  switch (blas->precision) {
  case CLB_FP64:
    name = "CLBlastDaxpy";
    status = CLBlastDaxpy(n, alpha, x, x_offset, 1, y, y_offset, 1, &blas->queue, event);
    break;
  case CLB_FP16:
    name = "CLBlastHaxpy";
    status =
        CLBlastHaxpy(n, half_of(alpha), x, x_offset, 1, y, y_offset, 1, &blas->queue, event);
    break;
  default:
    name = "CLBlastSaxpy";
    status = CLBlastSaxpy(n, (float)alpha, x, x_offset, 1, y, y_offset, 1, &blas->queue, event);
  }
  if (status != CLBlastSuccess)
    return clb_fail(err, status, name, blas->device_name, "n=%zu", n);
  return 0;
}

int clb_blas_dot(struct clb_blas *blas, size_t n, cl_mem result, size_t result_offset, cl_mem x,
                 size_t x_offset, cl_mem y, size_t y_offset, cl_event *event,
                 struct clb_error *err) {
  CLBlastStatusCode status;
  const char *name;
  switch (blas->precision) {
  case CLB_FP64:
    name = "CLBlastDdot";
    status = CLBlastDdot(n, result, result_offset, x, x_offset, 1, y, y_offset, 1, &blas->queue,
                         event);
    break;
  case CLB_FP16:
    name = "CLBlastHdot";
    status = CLBlastHdot(n, result, result_offset, x, x_offset, 1, y, y_offset, 1, &blas->queue,
                         event);
    break;
  default:
    name = "CLBlastSdot";
    status = CLBlastSdot(n, result, result_offset, x, x_offset, 1, y, y_offset, 1, &blas->queue,
                         event);
  }
  if (status != CLBlastSuccess)
    return clb_fail(err, status, name, blas->device_name, "n=%zu", n);
  return 0;
}

static CLBlastPrecision clblast_precision(enum clb_precision precision) {
  return precision == CLB_FP64   ? CLBlastPrecisionDouble
         : precision == CLB_FP16 ? CLBlastPrecisionHalf
                                 : CLBlastPrecisionSingle;
}

int clb_blas_override(cl_device_id device, const char *device_name, enum clb_precision precision,
                      const char *kernel, size_t count, const char *const *names,
                      const size_t *values, struct clb_error *err) {
  /* CLBlast's C API takes the names as non-const; it only reads them. */
  CLBlastStatusCode status = CLBlastOverrideParameters(device, kernel, clblast_precision(precision),
                                                       count, (const char **)names, values);
  if (status != CLBlastSuccess)
    return clb_fail(err, status, "CLBlastOverrideParameters", device_name, "kernel %s, %s", kernel,
                    clb_precision_name(precision));
  return 0;
}
