/* Starting parameters for CPU devices that CLBlast's database does not reach.
 *
 * CLBlast 1.5 looks a device up by vendor, type and name. Its vendor map knows
 * "Intel(R) Corporation" and "GenuineIntel" (Intel), "Advanced Micro Devices,
 * Inc." (AMD) and "NVIDIA Corporation", and its CPU entries all sit under
 * Intel. Any other CPU -- PoCL on an AMD processor reports "AuthenticAMD" --
 * falls through to the all-device defaults, which are chosen for GPUs
 * (Xgemm 32x32 tiles, a crossover to it at 896^3): mlp at B >= 256 ran 2x
 * slower on PoCL here. For those devices clbatch applies CLBlast's own entry
 * for CPUs (the Intel CPU "default" of CLBlast 1.5.3's database), adjusted by
 * measurement (cpu_start.c), for the kernels a step runs, unless `clbatch
 * tune` stored parameters for the kernel.
 * No OpenCL here: applying is blas/tune.c's job. */
#ifndef CLB_BLAS_CPU_START_H
#define CLB_BLAS_CPU_START_H

#include <stddef.h>

#include "util/precision.h"

#define CLB_CPU_START_MAX_PARAMS 16

/* One CLBlast kernel's parameters, every one of them (CLBlast refuses a partial set). */
struct clb_cpu_start_set {
  const char *kernel; /* CLBlast's name: "Xgemm", "XgemmDirect", "GemmRoutine", "Copy", ... */
  size_t count;
  const char *names[CLB_CPU_START_MAX_PARAMS];
  size_t values[CLB_CPU_START_MAX_PARAMS];
};

/* The starting sets for a device of this OpenCL vendor string and name
 * (is_cpu: CL_DEVICE_TYPE_CPU is set) in a precision: *count sets, static
 * storage; NULL and 0 when clbatch has none for it. Two kinds of CPU get
 * sets:
 * - a vendor CLBlast's map does not turn into "Intel" (PoCL on an AMD CPU):
 *   for fp32 CLBlast's Intel-CPU entries with measured changes, for fp64 the
 *   crossover and a tuned Xgemm set;
 * - Intel's runtime on a processor CLBlast's database does not list (its
 *   Intel CPU entries all name Intel processors; Intel's runtime runs on AMD
 *   ones too): CLBlast keeps its own entries but for the indirect GEMM's
 *   kernel, the crossover to it and its transpose, measured on this runtime
 *   (fp32 and fp64). */
const struct clb_cpu_start_set *clb_cpu_start_sets(const char *vendor, const char *device_name,
                                                   int is_cpu, enum clb_precision precision,
                                                   size_t *count);

/* Why a device with starting sets gets them, for the run's log: CLBlast maps
 * its vendor to no CPU entries, or (Intel's runtime) its entries do not
 * name this processor. Writes at most `size` bytes to `out`. */
void clb_cpu_start_reason(const char *vendor, const char *device_name, char *out, size_t size);

#endif
