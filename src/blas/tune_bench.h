/* The tuner's benchmark: one representative GEMM (or the transpose of one
 * matrix) on a device, run with whatever parameters CLBlast holds at the
 * time, checked against a host reference and timed through measure/. */
#ifndef CLB_BLAS_TUNE_BENCH_H
#define CLB_BLAS_TUNE_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "cl/context.h"
#include "cl/platform.h"
#include "util/errors.h"
#include "util/precision.h"

struct clb_tune_bench;

/* What the benchmark runs. */
enum clb_tune_op {
  CLB_TUNE_OP_GEMM,      /* C(m x n) = A(m x k) B(k x n); scored in GFLOP/s */
  CLB_TUNE_OP_TRANSPOSE, /* C(n x m) = A(m x n)^T, k unused; in GB/s read and written */
};

/* A GEMM as a step runs it: C(m x n) = op(A) op(B), row-major, op
 * transposing when trans_a / trans_b is 1 (A then stored k x m, B n x k).
 * For the transpose: the m x n matrix, k and the flags unused. */
struct clb_tune_gemm {
  int trans_a, trans_b;
  size_t m, n, k;
};

/* Uploads random operands (from `seed`) and computes the host reference of a
 * spread of C's entries. */
int clb_tune_bench_create(const struct clb_cl *cl, enum clb_precision precision,
                          enum clb_tune_op op, const struct clb_tune_gemm *shape, uint64_t seed,
                          struct clb_tune_bench **out, struct clb_error *err);

/* Releases everything; NULL is a no-op. */
void clb_tune_bench_destroy(struct clb_tune_bench *bench);

/* Runs the operation once, which compiles whatever CLBlast's parameters now
 * ask for, and checks it against the host reference. */
int clb_tune_bench_verify(struct clb_tune_bench *bench, struct clb_error *err);

/* Runs the operation once (which compiles whatever CLBlast's parameters now
 * ask for), checks it against the host reference, then times it run by run
 * (clb_measure_runs). *gflops (GB/s for the transpose) comes from the median
 * run's device time, from a marker before the operation to the end of its
 * last kernel (the wall time of the run when the driver's timestamps are
 * unusable). A failure to build,
 * run or verify is returned for the caller to judge (a bad configuration,
 * not necessarily a broken device). */
int clb_tune_bench_gflops(struct clb_tune_bench *bench, double *gflops, struct clb_error *err);

#endif
