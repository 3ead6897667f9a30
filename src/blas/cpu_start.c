/* The sets are CLBlast 1.5.3's database entries for device type CPU, vendor
 * Intel, device "default" (src/database/kernels/KERNEL/KERNEL_32.hpp): the
 * sets CLBlast itself gives an unlisted Intel CPU, with two changes measured
 * on PoCL (AMD EPYC, 2 vCPUs; bench/ab.sh and tuned.conf variants, see
 * results/cpu-pocl/README.md):
 * - XgemmDirect keeps CLBlast's all-device default (WGD=16, no vectors). The
 *   CPU entry's 32x32 vector tiles made mlp at B >= 256 1.5x faster but every
 *   step at B = 2..16 1.2-1.4x slower, since small GEMMs take the direct path.
 * - The crossover XGEMM_MIN_INDIRECT_SIZE is 176, not 576: GEMMs from
 *   176^3 = 5.45M multiply-adds up (mlp from B = 256) run the indirect Xgemm
 *   with the CPU entry's 64x64 tiles, 0.5-0.7x the step time of CLBlast's
 *   defaults; smaller ones the direct kernel. Every softmax GEMM of the
 *   default plan (N = 10 columns, up to 4096 x 10 x 128 = 5.2M) stays direct:
 *   at 128 (2.1M) softmax B >= 2048 went indirect and ran 1.6x slower.
 * - XgemvFast (y = X^T r: linreg's backward pass, mlp's hidden bias) gets
 *   the Intel-CPU entry's VW2=4, WGS2=16, WPT2=4 (CLBlast's Intel "default"),
 *   which `clbatch tune` on PoCL also chose (6.5x CLBlast's defaults on a
 *   4096 x 256 GEMV); linreg's step at B >= 128 took 0.73-0.80x the time.
 *   It was once reverted for wrong results at H = 16 and 32: CLBlast checks
 *   the fast kernel's conditions on the wrong dimension for a transposed
 *   row-major GEMV, which blas.c no longer passes it (see gemv_strided).
 * - Padtranspose (TransposeMatrix and TransposePadMatrix, which the indirect
 *   GEMM runs on operands that are not square) gets PAD=0, TILE=32, WPT=1,
 *   an Intel-CPU entry's set, not the Intel default 8/4: on a 4096 x 256
 *   transpose 25-47 GB/s against 11-21, and mlp's step at B >= 256 took
 *   0.93-0.98x the time untuned, 0.77-0.93x with a tuned Xgemm
 *   (results/cpu-pocl/tune/padtranspose/).
 * fp64 gets the crossover (176, as fp32: mlp B = 256-1024 0.79-0.80x the
 * step time, B = 4096 0.92x) and the Xgemm set of a `clbatch tune
 * --precision fp64` on PoCL here (72.8 against 15.8 GFLOP/s for CLBlast's
 * defaults; results/cpu-pocl/tune/fp64/). CLBlast's Intel-CPU fp64 Xgemm set
 * had made mlp B = 4096 1.13x slower; the tuned one, in turns with the
 * crossover alone (2 rounds, 2026-12-02), took mlp at B >= 256 to
 * 0.35-0.48x the step time, every other row 0.97-1.11x. fp16 has no sets:
 * not measured. */
#include "blas/cpu_start.h"

#include <stdio.h>
#include <string.h>

/* CLBlast's kVendorNames entries that map to "Intel", the only vendor with CPU entries. */
static int maps_to_intel(const char *vendor) {
  static const char *const intel[] = {"Intel(R) Corporation", "GenuineIntel", "Intel"};
  for (size_t i = 0; i < sizeof intel / sizeof *intel; i++)
    if (strcmp(vendor, intel[i]) == 0)
      return 1;
  return 0;
}

#define XGEMM_NAMES                                                                                \
  {                                                                                                \
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB", "NDIMC", "NWG", "SA", "SB",   \
        "STRM", "STRN", "VWM", "VWN"                                                               \
  }
#define COPY_NAMES                                                                                 \
  { "COPY_DIMX", "COPY_DIMY", "COPY_VW", "COPY_WPT" }
#define PAD_NAMES                                                                                  \
  { "PAD_DIMX", "PAD_DIMY", "PAD_WPTX", "PAD_WPTY" }
#define TRANSPOSE_NAMES                                                                            \
  { "TRA_DIM", "TRA_PAD", "TRA_SHUFFLE", "TRA_WPT" }
#define PADTRANSPOSE_NAMES                                                                         \
  { "PADTRA_PAD", "PADTRA_TILE", "PADTRA_WPT" }

static const struct clb_cpu_start_set fp32_sets[] = {
    {"Xgemm", 16, XGEMM_NAMES, {0, 1, 32, 2, 16, 16, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4}},
    {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}, {176}},
    {"Xgemv", 2, {"WGS1", "WPT1"}, {64, 1}},
    {"XgemvFast", 3, {"VW2", "WGS2", "WPT2"}, {4, 16, 4}},
    {"Xaxpy", 3, {"VW", "WGS", "WPT"}, {8, 512, 1}},
    {"Copy", 4, COPY_NAMES, {32, 16, 8, 2}},
    {"Pad", 4, PAD_NAMES, {32, 8, 4, 2}},
    {"Transpose", 4, TRANSPOSE_NAMES, {4, 0, 0, 8}},
    {"Padtranspose", 3, PADTRANSPOSE_NAMES, {0, 32, 1}},
    {"Xdot", 2, {"WGS1", "WGS2"}, {128, 32}},
};

static const struct clb_cpu_start_set fp64_sets[] = {
    {"Xgemm", 16, XGEMM_NAMES, {0, 1, 16, 2, 8, 8, 128, 16, 8, 64, 0, 0, 0, 0, 8, 4}},
    {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}, {176}},
};

/* Intel's runtime on this AMD EPYC (PoCL's starting sets do not apply: the
 * vendor is Intel, so CLBlast uses its Intel-CPU entries). Only the crossover
 * differs: 64^3 sends every GEMM from 262k multiply-adds up to the indirect
 * Xgemm, which runs 45-55 GFLOP/s here against 10-22 for XgemmDirect; with
 * CLBlast's 576 mlp B >= 256 ran 2.2-3x slower and softmax B >= 256 1.6-1.9x
 * (variants of 64, 128 and 176; results/cpu-two-vendors/README.md). The
 * transpose gets PoCL's set too: 16 GB/s against 12 for the Intel default
 * on a 4096 x 256 transpose, and softmax and mlp at B >= 256 took
 * 0.93-0.94x the step time.
 * Xgemm gets the set `clbatch tune` chose in each of three tunes on this
 * runtime here (2026-11-30 and 12-01): GEMMK=1 (2D register tiling), 64x64
 * tiles, 32x4 threads, 179-186 GFLOP/s against 76-78 for the Intel-CPU
 * default on the tuner's 256 x 64 x 256. Untuned, side by side through
 * bench/cpu_compare.sh --tune-files (2 rounds, 2026-12-02): mlp at
 * B = 256-4096 0.51-0.54x the step time, softmax 0.69-0.75x; the same set
 * with 16x4 threads (the tune's choice on an Intel Xeon VM) 0.81-0.89x and
 * 1.00-1.02x. */
static const struct clb_cpu_start_set intel_unlisted_fp32_sets[] = {
    {"Xgemm", 16, XGEMM_NAMES, {1, 1, 1, 1, 32, 32, 64, 4, 4, 64, 0, 0, 0, 0, 2, 1}},
    {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}, {64}},
    {"Padtranspose", 3, PADTRANSPOSE_NAMES, {0, 32, 1}},
};

/* fp64 on the same runtime: the Xgemm set of a `clbatch tune --precision
 * fp64` here (the fp32 family with 16x4 threads and no vectors: 78 GFLOP/s
 * against 18.8 for the Intel-CPU default), and fp32's crossover and
 * transpose, which that tune also chose (its crossover over the runs' GEMMs
 * was 49). Untuned otherwise, in turns with CLBlast's entries (2 rounds,
 * 2026-12-02): mlp at B >= 64 0.33-0.49x the step time, softmax at B >= 256
 * 0.64-0.73x, every other row 0.95-1.05x but mlp B = 1 (0.85-1.19). */
static const struct clb_cpu_start_set intel_unlisted_fp64_sets[] = {
    {"Xgemm", 16, XGEMM_NAMES, {1, 1, 1, 1, 16, 16, 64, 4, 4, 64, 0, 0, 0, 0, 1, 1}},
    {"GemmRoutine", 1, {"XGEMM_MIN_INDIRECT_SIZE"}, {64}},
    {"Padtranspose", 3, PADTRANSPOSE_NAMES, {0, 32, 1}},
};

/* A table of sets and its length, through *count. */
#define SETS(table) (*count = sizeof table / sizeof *table, table)

const struct clb_cpu_start_set *clb_cpu_start_sets(const char *vendor, const char *device_name,
                                                   int is_cpu, enum clb_precision precision,
                                                   size_t *count) {
  *count = 0;
  int intel = maps_to_intel(vendor);
  /* On an Intel processor, Intel's runtime keeps CLBlast's own entries. */
  if (!is_cpu || (intel && strstr(device_name, "Intel")))
    return NULL;
  if (precision == CLB_FP32)
    return intel ? SETS(intel_unlisted_fp32_sets) : SETS(fp32_sets);
  if (precision == CLB_FP64)
    return intel ? SETS(intel_unlisted_fp64_sets) : SETS(fp64_sets);
  return NULL;
}

void clb_cpu_start_reason(const char *vendor, const char *device_name, char *out, size_t size) {
  if (maps_to_intel(vendor))
    snprintf(out, size, "CLBlast's Intel-CPU entries do not name the processor '%s'", device_name);
  else
    snprintf(out, size, "CLBlast's database has no entry for CPUs of vendor '%s'", vendor);
}
