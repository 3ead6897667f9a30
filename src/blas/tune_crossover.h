/* Where the direct/indirect crossover of CLBlast's GEMM goes.
 *
 * CLBlast runs a GEMM on the direct kernel when m*n*k < XGEMM_MIN_INDIRECT_SIZE^3,
 * else on the indirect one (Xgemm with pad and transpose kernels around it).
 * A step's GEMMs span three orders of m*n*k (a classifier's B x 10 x 128 beside
 * mlp's B x 256 x 128), and where the two paths cross depends on the tuned
 * kernels: on PoCL here a crossover placed by one representative GEMM sent
 * mlp's narrow GEMMs at B = 64 to a direct kernel twice as slow as the tuned
 * indirect one. So each of the runs' own GEMMs is timed on both paths, with
 * everything a run applies, and the crossover goes where the sum over the
 * GEMMs of (time on the path taken / time on the faster path) is least. */
#ifndef CLB_BLAS_TUNE_CROSSOVER_H
#define CLB_BLAS_TUNE_CROSSOVER_H

#include <stddef.h>
#include <stdint.h>

#include "blas/tune_bench.h"
#include "util/errors.h"
#include "util/precision.h"

/* Crossovers that force a path: 0 the indirect one for every GEMM, 2^20
 * (CLBlast cubes it in unsigned long long: 2^60) the direct one for any
 * GEMM that fits in memory. */
#define CLB_TUNE_FORCE_INDIRECT ((size_t)0)
#define CLB_TUNE_FORCE_DIRECT ((size_t)1 << 20)

/* Paths one crossover child times in turn, at most: 4 rounds. */
#define CLB_TUNE_MAX_CROSSOVER_TURNS 8

/* The largest x with x^3 <= v. */
size_t clb_tune_cube_root_floor(unsigned long long v);

/* 1 when CLBlast runs `gemm` on the direct kernel under `crossover`. */
int clb_tune_takes_direct(const struct clb_tune_gemm *gemm, size_t crossover);

/* The mean over the GEMMs of (seconds on the path `crossover` sends it to /
 * seconds on its faster path): 1 is the best any crossover could do. A
 * time <= 0 is a path that failed for that GEMM (a GEMM where both failed
 * is left out); a crossover that sends a GEMM to a failed path costs
 * INFINITY. */
double clb_tune_crossover_cost(const struct clb_tune_gemm *gemms, const double *direct_s,
                               const double *indirect_s, size_t count, size_t crossover);

/* The crossover of least cost, among one per split of the GEMMs sorted by
 * m*n*k (each at the geometric middle of the gap it splits). Returns 0 and
 * leaves *crossover alone when no GEMM has a time on either path. */
int clb_tune_crossover_choose(const struct clb_tune_gemm *gemms, const double *direct_s,
                              const double *indirect_s, size_t count, size_t *crossover);

/* Times every GEMM on both paths in one child process (`clbatch
 * __tune-shapes`, which applies the stored tuned.conf as a run does),
 * `rounds` times in the order direct, indirect, indirect, direct, ...
 * (at most CLB_TUNE_MAX_CROSSOVER_TURNS / 2), keeping each GEMM's fastest
 * time per path (a slow phase of the host only lengthens a timing). A GEMM
 * that failed on a path gets 0 there. A child that fails as a whole is an
 * error that names it. */
int clb_tune_crossover_measure(const char *device_id, enum clb_precision precision, uint64_t seed,
                               const struct clb_tune_gemm *gemms, size_t count, size_t rounds,
                               double *direct_s, double *indirect_s, struct clb_error *err);

#endif
