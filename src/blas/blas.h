/* CLBlast calls for any precision, with every status checked and named.
 *
 * Row-major throughout. GEMMs go through *gemmWithTempBuffer with one
 * temporary buffer owned here, so CLBlast never allocates on a timed call. */
#ifndef CLB_BLAS_BLAS_H
#define CLB_BLAS_BLAS_H

#include <CL/cl.h>
#include <stddef.h>

#include "util/errors.h"
#include "util/precision.h"

struct clb_blas {
  cl_context context;
  cl_command_queue queue;
  const char *device_name;
  enum clb_precision precision;
  cl_mem temp;        /* owned; grown by clb_blas_reserve_gemm */
  size_t temp_bytes;
};

void clb_blas_init(struct clb_blas *blas, cl_context context, cl_command_queue queue,
                   const char *device_name, enum clb_precision precision);
void clb_blas_destroy(struct clb_blas *blas);

/* Makes sure the temporary buffer is large enough for this GEMM shape at
 * these offsets (elements). CLBlast's indirect GEMM copies a matrix that
 * does not start at offset 0 into the temporary buffer, so a GEMM reserved
 * at offset 0 and run elsewhere fails with CLBlastInsufficientMemoryTemp;
 * only whether each offset is 0 changes the size. */
int clb_blas_reserve_gemm(struct clb_blas *blas, int trans_a, int trans_b, size_t m, size_t n,
                          size_t k, size_t a_offset, size_t lda, size_t b_offset, size_t ldb,
                          size_t c_offset, size_t ldc, struct clb_error *err);

/* Releases the temporary buffer: the GEMMs are reserved again from none
 * (when their offsets changed, so that device_bytes stays what they need). */
void clb_blas_release_temp(struct clb_blas *blas);

/* C = alpha op(A) op(B) + beta C; op(X) = X^T when trans_x. With m == 1 or
 * n == 1 it runs as one GEMV (CLBlast's GEMM pads such shapes to tiles). */
int clb_blas_gemm(struct clb_blas *blas, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                  double alpha, cl_mem a, size_t a_offset, size_t lda, cl_mem b, size_t b_offset,
                  size_t ldb, double beta, cl_mem c, size_t c_offset, size_t ldc,
                  cl_event *event, struct clb_error *err);

/* y = alpha op(A) x + beta y for an m x n matrix A. */
int clb_blas_gemv(struct clb_blas *blas, int trans_a, size_t m, size_t n, double alpha, cl_mem a,
                  size_t a_offset, size_t lda, cl_mem x, size_t x_offset, double beta, cl_mem y,
                  size_t y_offset, cl_event *event, struct clb_error *err);

/* B = A^T: A rows x cols row-major, B cols x rows (CLBlast's omatcopy, which
 * runs the same transpose kernels the indirect GEMM runs on its operands). */
int clb_blas_transpose(struct clb_blas *blas, size_t rows, size_t cols, cl_mem a, cl_mem b,
                       cl_event *event, struct clb_error *err);

/* y = alpha x + y. */
int clb_blas_axpy(struct clb_blas *blas, size_t n, double alpha, cl_mem x, size_t x_offset,
                  cl_mem y, size_t y_offset, cl_event *event, struct clb_error *err);

/* result[result_offset] = x . y */
int clb_blas_dot(struct clb_blas *blas, size_t n, cl_mem result, size_t result_offset, cl_mem x,
                 size_t x_offset, cl_mem y, size_t y_offset, cl_event *event,
                 struct clb_error *err);

/* Replaces CLBlast's parameters of one kernel ("Xgemm", "XgemmDirect",
 * "GemmRoutine", ...) for one device and precision, in this process: the next
 * call that uses the kernel compiles it with these values. CLBlast cannot hand
 * the previous values back, so an override cannot be undone. */
int clb_blas_override(cl_device_id device, const char *device_name, enum clb_precision precision,
                      const char *kernel, size_t count, const char *const *names,
                      const size_t *values, struct clb_error *err);

#endif
