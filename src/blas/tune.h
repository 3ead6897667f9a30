/* Tuning CLBlast's GEMM kernels per device and precision, and applying the result.
 *
 * CLBlast's C API has no tuner: CLBlastOverrideParameters is its only tuning
 * entry point. So clbatch searches the parameter spaces of CLBlast's own tuner
 * definitions (src/tuning/kernels/xgemm.hpp and xgemm_direct.hpp) itself:
 * from known-good sets it walks one or two parameters at a time
 * (tune_local.h); each configuration is overridden, compiled, checked
 * against a host reference and timed in a child process (tune_child.h),
 * since a bad one can crash the process that runs it. The best set per
 * kernel is stored in a plain text file that clb_tune_apply reads back.
 *
 * Kernels: "Xgemm" (the indirect GEMM with pad/transpose kernels around it),
 * "XgemmDirect" (one kernel), "GemmRoutine" (XGEMM_MIN_INDIRECT_SIZE: a GEMM
 * with m*n*k < XGEMM_MIN_INDIRECT_SIZE^3 takes the direct path), and the two
 * GEMV kernels a step runs on a batch: "XgemvFastRot" (y = X w with X
 * row-major, linreg's forward pass) and "XgemvFast" (y = X^T r, its
 * backward pass), each timed on a gemv_rows x k matrix, and "Padtranspose"
 * (TransposeMatrix and TransposePadMatrix, which the indirect GEMM runs on
 * its operands; on a CPU they took a third of Xgemm's time in mlp's step),
 * timed in GB/s on the transpose of a gemv_rows x k matrix.
 *
 * CLBlast cannot hand its default parameters back (RetrieveParameters exists
 * only in the C++ API), and an override cannot be undone within a process.
 * So when CLBlast's defaults win for a kernel, the stored entry says
 * `use_defaults = 1` and carries no parameters; clb_tune_search leaves the
 * calling process's CLBlast on the best found of the other kernels.
 *
 * Modules: tune_space (the spaces and their constraints), tune_seeds (where
 * the search starts), tune_local (the walk), tune_child (one configuration
 * in a child process), tune_bench (the timed GEMM), tune_store (the file),
 * tune_search.c (the search) and tune.c (options, applying). */
#ifndef CLB_BLAS_TUNE_H
#define CLB_BLAS_TUNE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "blas/cpu_start.h"
#include "blas/tune_bench.h"
#include "cl/context.h"
#include "cl/platform.h"
#include "util/errors.h"
#include "util/precision.h"

struct clb_tune_options {
  size_t m, n, k;     /* representative GEMM: C(m x n) = A(m x k) B(k x n), row-major */
  size_t gemv_rows;   /* the GEMVs' matrix: gemv_rows (batch rows) x k (features) */
  size_t max_configs; /* configurations timed per kernel, CLBlast's defaults included */
  uint64_t seed;      /* of the random operands */
  double budget_s;    /* no configuration starts after this long (per device and precision) */
  int dry_run;        /* list the spaces and the seeds only: no compiling, timing or writing */
  /* The GEMMs of the runs to come (clb_shape_gemms of their models and
   * batches), over which the direct/indirect crossover is placed; with
   * none it goes where the representative GEMM runs faster. Borrowed. */
  const struct clb_tune_gemm *crossover_gemms;
  size_t crossover_gemm_count;
};
#define CLB_TUNE_MAX_CROSSOVER_GEMMS 64

/* m=256 (batch rows), n=64, k=256, gemv_rows=4096, max_configs=200, seed=42,
 * budget_s=480, no dry run, no crossover GEMMs. */
void clb_tune_defaults(struct clb_tune_options *options);

/* Whole minutes one search (a device and precision) takes at most, about:
 * its budget, then the final timing and the crossover's, which may run
 * past it (Intel's CPU runtime compiles in every child: 88 s past 480 here). */
double clb_tune_expected_minutes(double budget_s);

/* The file where tuned parameters live: $CLBATCH_TUNE_FILE if set, else
 * $XDG_CACHE_HOME/clbatch/tuned.conf, else $HOME/.cache/clbatch/tuned.conf
 * (else ./clbatch-tuned.conf when not even HOME is set). */
void clb_tune_path(char *buf, size_t size);

/* clbatch's CPU starting sets for this device and precision
 * (clb_cpu_start_sets with the device's vendor, name and type). */
const struct clb_cpu_start_set *clb_tune_start_sets(const struct clb_device_info *dev,
                                                    enum clb_precision precision, size_t *count);

/* Where a device's CLBlast parameters came from: the `tuned` CSV column. */
enum clb_params_source {
  CLB_PARAMS_CLBLAST = 0,   /* CLBlast's own database or its defaults */
  CLB_PARAMS_TUNED = 1,     /* at least one kernel from `clbatch tune` */
  CLB_PARAMS_CPU_START = 2, /* clbatch's CPU starting sets (blas/cpu_start.h), none tuned */
};

/* Loads the stored best parameters for this device (name AND driver version)
 * and precision, if any, and applies them with CLBlastOverrideParameters;
 * then, on a CPU that CLBlast's database does not reach, the starting sets
 * of the kernels no stored entry covers. A missing file is not an error; a
 * malformed line is CLB_E_PARSE naming file and line. */
int clb_tune_apply(const struct clb_device_info *dev, enum clb_precision precision,
                   enum clb_params_source *source, struct clb_error *err);

/* Where clb_tune_apply would take this device's parameters from, without
 * applying anything (no CLBlast call, so no OpenCL context is needed). */
int clb_tune_source(const struct clb_device_info *dev, enum clb_precision precision,
                    enum clb_params_source *source, struct clb_error *err);

#define CLB_TUNE_KERNELS                                                                           \
  6 /* Xgemm, XgemmDirect, GemmRoutine, XgemvFastRot, XgemvFast, Padtranspose */
/* The kernels a search stores, in clb_tune_report.kernels order. */
extern const char *const clb_tune_kernel_names[CLB_TUNE_KERNELS];

/* 1 for CLBlast's GEMV kernels ("Xgemv", "XgemvFast", "XgemvFastRot"). */
int clb_tune_is_gemv(const char *kernel);
/* The helper kernel the search times on a transpose rather than a GEMM. */
#define CLB_TUNE_TRANSPOSE_KERNEL "Padtranspose"
/* What a kernel's score counts: "GB/s" for the transpose (bytes read and
 * written), "GFLOP/s" for the rest. */
const char *clb_tune_unit(const char *kernel);
/* The matrix whose transpose times Padtranspose: gemv_rows x k, the batch.
 * TransposeMatrix runs only on a matrix that is not square (on a square one
 * CLBlast takes TransposeMatrixFast, whose parameters are another kernel's),
 * so a square one gets twice the columns. */
void clb_tune_transpose_shape(const struct clb_tune_options *options, size_t *rows, size_t *cols);
/* The crossover between the direct and the indirect GEMM is CLBlast's
 * "kernel" GemmRoutine with this one parameter. */
#define CLB_TUNE_ROUTINE_KERNEL "GemmRoutine"
#define CLB_TUNE_ROUTINE_PARAM "XGEMM_MIN_INDIRECT_SIZE"
#define CLB_TUNE_MAX_PARAMS 16

/* What one kernel's search found. */
struct clb_tune_kernel_result {
  const char *kernel;    /* one of clb_tune_kernel_names */
  size_t legal;          /* legal configurations in the space (after device limits) */
  size_t tried;          /* configurations timed, CLBlast's defaults included */
  size_t skipped;        /* of those, ones that failed to build, run or verify */
  double default_gflops; /* CLBlast's defaults (clb_tune_unit); 0 when not measured (dry run) */
  double tuned_gflops;   /* the best found (= default_gflops when the defaults won) */
  int use_defaults;      /* 1: nothing beat CLBlast's defaults */
  const char *unit;      /* what the two scores count, when not clb_tune_unit(kernel) */
  size_t param_count;
  const char *param_names[CLB_TUNE_MAX_PARAMS];
  size_t param_values[CLB_TUNE_MAX_PARAMS];
};

/* For GemmRoutine, default_gflops is the GEMM with no override at all (CLBlast
 * picks the path) and tuned_gflops the GEMM on the path the stored crossover
 * picks, with the tuned kernel on it; where the crossover was placed over the
 * runs' GEMMs (unit CLB_TUNE_BEST_UNIT), both are their mean speed in per
 * cent of their faster path's, with the crossover the representative GEMM
 * places and with the one placed over them. */
#define CLB_TUNE_BEST_UNIT "%best"
struct clb_tune_report {
  struct clb_tune_kernel_result kernels[CLB_TUNE_KERNELS];
  char path[4096]; /* where the entries were written ("" on a dry run) */
  char crossover_note[512]; /* how the crossover was placed, for tuned.conf; "" for the
                               representative GEMM alone */
};

/* Searches parameters on one device and precision for the given GEMM shape
 * (in child processes running /proc/self/exe, which must be clbatch) and
 * stores the best per kernel (replacing older entries for the same device,
 * driver, precision and kernel), filling `report` (may be NULL). Progress
 * lines go to `progress` (may be NULL). */
int clb_tune_search(const struct clb_cl *cl, enum clb_precision precision,
                    const struct clb_tune_options *options, FILE *progress,
                    struct clb_tune_report *report, struct clb_error *err);

#endif
