/* Where the tuner's walk starts: configurations that CLBlast's own database
 * (CLBlast master, src/database/kernels/xgemm*_32.hpp, xgemv_fast*_32.hpp and
 * padtranspose_32.hpp) holds for other
 * devices of the same type. A CPU starts from the sets tuned on a dozen
 * Intel CPUs, a GPU from the vendors' defaults and a few tuned GPUs: good
 * configurations of one device are often good on its kin, and the walk
 * (tune_local.h) goes on from the best of them. Pure tables. */
#ifndef CLB_BLAS_TUNE_SEEDS_H
#define CLB_BLAS_TUNE_SEEDS_H

#include <stddef.h>

#include "blas/tune_local.h"

/* The seeds of `kernel` ("Xgemm", "XgemmDirect", "XgemvFastRot", "XgemvFast"
 * or "Padtranspose") for a CPU (is_cpu) or a GPU, as points of the spaces in tune_space.h (an Xgemm
 * seed goes to the GEMMK=0 or GEMMK=1 space by its GEMMK): up to `max` into `out`; returns how
 * many. A seed may still be illegal for a device or shape: the walk leaves those out. */
size_t clb_tune_seeds(const char *kernel, int is_cpu, struct clb_tune_point *out, size_t max);

#endif
