#include "blas/tune_seeds.h"

#include <string.h>

/* Xgemm's database order is the order of tune_space.h: GEMMK, KREG, KWG, KWI,
 * MDIMA, MDIMC, MWG, NDIMB, NDIMC, NWG, SA, SB, STRM, STRN, VWM, VWN. Sets
 * with KWI = 8 (outside CLBlast's tuner space, which the walk needs) are left
 * out. */
static const size_t xgemm_cpu[][CLB_X_COUNT] = {
    {0, 1, 32, 2, 16, 16, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4},  /* Intel CPU default */
    {0, 1, 16, 2, 8, 8, 128, 16, 8, 128, 0, 1, 1, 1, 1, 8}, /* i7-2670QM */
    {0, 1, 32, 2, 32, 16, 64, 32, 8, 64, 0, 1, 1, 0, 1, 1}, /* i5-4570 */
    {1, 16, 1, 1, 2, 2, 64, 2, 2, 128, 0, 0, 0, 0, 8, 2},   /* i5-4590S */
    {0, 1, 32, 2, 16, 8, 128, 16, 8, 64, 0, 0, 1, 0, 1, 2}, /* i7 920 */
    {0, 1, 32, 2, 32, 8, 128, 8, 8, 128, 1, 1, 1, 1, 2, 8}, /* i7-3770 */
    {0, 1, 16, 2, 8, 8, 128, 8, 8, 128, 1, 1, 1, 0, 1, 8},  /* i7-4790K */
    {0, 1, 32, 2, 16, 32, 32, 8, 8, 64, 0, 1, 0, 0, 1, 8},  /* i7-6770HQ */
    {1, 2, 1, 1, 16, 16, 64, 4, 4, 64, 0, 0, 0, 0, 1, 1},   /* i9-9980HK */
    {0, 1, 32, 2, 16, 8, 32, 8, 32, 128, 1, 1, 1, 1, 1, 4}, /* Xeon E5-2630 v3 */
    {1, 1, 1, 1, 16, 16, 16, 8, 8, 64, 0, 0, 0, 0, 1, 1},   /* Xeon E5-2630 v4 */
    {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 1, 1, 0, 0, 4, 2},    /* PoCL, Core 2 Duo T6670 */
};

static const size_t xgemm_gpu[][CLB_X_COUNT] = {
    {0, 1, 32, 2, 8, 8, 32, 8, 8, 32, 1, 1, 0, 0, 4, 4},     /* all devices' default */
    {0, 1, 32, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 2, 4}, /* an AMD GPU default */
    {0, 1, 32, 2, 16, 16, 64, 8, 8, 64, 1, 1, 0, 0, 4, 2},   /* Intel GPU default */
    {1, 8, 1, 1, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 4, 8},      /* NVIDIA SM8.9 default */
    {0, 1, 32, 2, 32, 32, 128, 8, 8, 64, 0, 1, 1, 1, 4, 4},  /* GeForce RTX 4090 */
    {0, 1, 32, 2, 8, 8, 128, 32, 16, 128, 1, 1, 1, 1, 4, 4}, /* an NVIDIA default */
    {1, 16, 1, 1, 16, 16, 64, 8, 8, 64, 0, 0, 0, 0, 2, 8},   /* Arc A750 */
};

/* XgemmDirect's database lists KWID, MDIMAD, MDIMCD, NDIMBD, NDIMCD, PADA,
 * PADB, VWMD, VWND, WGD; DIRECT puts them in the order of tune_space.h. */
#define DIRECT(kwid, mdimad, mdimcd, ndimbd, ndimcd, pada, padb, vwmd, vwnd, wgd)                  \
  { wgd, mdimcd, ndimcd, mdimad, ndimbd, kwid, vwmd, vwnd, pada, padb }

static const size_t direct_cpu[][CLB_D_COUNT] = {
    DIRECT(2, 8, 8, 8, 8, 1, 1, 4, 4, 32),     /* Intel CPU default */
    DIRECT(2, 8, 8, 8, 8, 0, 0, 1, 8, 64),     /* i7-2670QM */
    DIRECT(8, 16, 16, 16, 16, 0, 0, 1, 1, 64), /* i5-4570 */
    DIRECT(8, 8, 8, 8, 8, 0, 0, 8, 4, 64),     /* i5-4590S */
    DIRECT(2, 32, 32, 32, 32, 0, 0, 1, 1, 64), /* i5-6200U */
    DIRECT(16, 16, 8, 8, 8, 0, 0, 2, 4, 32),   /* i7 920 */
    DIRECT(2, 8, 8, 8, 8, 0, 0, 2, 2, 64),     /* i7-4790K */
    DIRECT(2, 8, 8, 16, 8, 0, 0, 4, 4, 64),    /* i7-6770HQ */
    DIRECT(8, 32, 32, 32, 16, 0, 1, 1, 1, 32), /* i9-9980HK */
    DIRECT(16, 8, 16, 16, 16, 0, 0, 1, 1, 32), /* Xeon E5-2630 v3 and v4 */
    DIRECT(16, 16, 8, 8, 8, 0, 0, 4, 2, 64),   /* PoCL, Core 2 Duo T6670 */
};

static const size_t direct_gpu[][CLB_D_COUNT] = {
    DIRECT(2, 8, 8, 8, 8, 1, 1, 1, 1, 16),     /* all devices' and NVIDIA's default */
    DIRECT(2, 8, 8, 32, 32, 1, 1, 2, 1, 32),   /* an AMD GPU default */
    DIRECT(8, 8, 16, 32, 16, 1, 1, 2, 1, 32),  /* A100-PCIE-40GB */
    DIRECT(2, 16, 16, 16, 16, 1, 1, 1, 2, 32), /* Tesla V100-PCIE-16GB */
    DIRECT(2, 32, 32, 16, 16, 0, 0, 1, 2, 32), /* Arc A770 */
    DIRECT(8, 32, 16, 8, 8, 1, 0, 1, 4, 32),   /* a GPU default */
};

/* XgemvFastRot and XgemvFast (VW, WGS, WPT): CLBlast's all-device default
 * first (the walk starts from what an untuned run uses), then the distinct
 * sets of its Intel CPU entries (xgemv_fast_rot_32.hpp, xgemv_fast_32.hpp). */
static const size_t gemv_fast_rot_cpu[][CLB_G_COUNT] = {
    {4, 16, 16}, {8, 16, 8}, {4, 32, 32}, {8, 32, 32}, {8, 128, 8},
};
static const size_t gemv_fast_cpu[][CLB_G_COUNT] = {
    {1, 64, 1}, {1, 128, 1}, {1, 16, 1},  {1, 32, 4},  {1, 64, 4}, {2, 128, 4},
    {2, 16, 4}, {2, 64, 2},  {4, 128, 4}, {4, 256, 4}, {4, 32, 4}, {4, 64, 4},
};
/* On a GPU: the all-device default, then distinct vendor and architecture
 * defaults of the GPU entries. */
static const size_t gemv_fast_rot_gpu[][CLB_G_COUNT] = {
    {4, 16, 16}, {8, 32, 32}, {8, 128, 32}, {8, 128, 16}, {4, 32, 32}, {8, 64, 32}, {4, 64, 32},
};
static const size_t gemv_fast_gpu[][CLB_G_COUNT] = {
    {1, 64, 1}, {2, 256, 2}, {1, 256, 1}, {2, 64, 2}, {1, 32, 1}, {1, 64, 2}, {1, 16, 2},
};

static size_t copy_seeds(const struct clb_tune_space *space_of_first,
                         const struct clb_tune_space *space_of_gemmk1, const size_t *table,
                         size_t rows, size_t columns, struct clb_tune_point *out, size_t max) {
  size_t n = 0;
  for (size_t r = 0; r < rows && n < max; r++, n++) {
    const size_t *values = table + r * columns;
    out[n].space = space_of_gemmk1 && values[CLB_X_GEMMK] == 1 ? space_of_gemmk1 : space_of_first;
    memcpy(out[n].values, values, columns * sizeof *values);
  }
  return n;
}

size_t clb_tune_seeds(const char *kernel, int is_cpu, struct clb_tune_point *out, size_t max) {
  if (strcmp(kernel, "Xgemm") == 0) {
    const size_t *table = is_cpu ? xgemm_cpu[0] : xgemm_gpu[0];
    size_t rows =
        is_cpu ? sizeof xgemm_cpu / sizeof *xgemm_cpu : sizeof xgemm_gpu / sizeof *xgemm_gpu;
    return copy_seeds(&clb_tune_xgemm_gemmk0, &clb_tune_xgemm_gemmk1, table, rows, CLB_X_COUNT, out,
                      max);
  }
  if (strcmp(kernel, "XgemmDirect") == 0) {
    const size_t *table = is_cpu ? direct_cpu[0] : direct_gpu[0];
    size_t rows =
        is_cpu ? sizeof direct_cpu / sizeof *direct_cpu : sizeof direct_gpu / sizeof *direct_gpu;
    return copy_seeds(&clb_tune_xgemm_direct, NULL, table, rows, CLB_D_COUNT, out, max);
  }
  if (strcmp(kernel, "XgemvFastRot") == 0) {
    const size_t *table = is_cpu ? gemv_fast_rot_cpu[0] : gemv_fast_rot_gpu[0];
    size_t rows = is_cpu ? sizeof gemv_fast_rot_cpu / sizeof *gemv_fast_rot_cpu
                         : sizeof gemv_fast_rot_gpu / sizeof *gemv_fast_rot_gpu;
    return copy_seeds(&clb_tune_xgemv_fast_rot, NULL, table, rows, CLB_G_COUNT, out, max);
  }
  if (strcmp(kernel, "XgemvFast") == 0) {
    const size_t *table = is_cpu ? gemv_fast_cpu[0] : gemv_fast_gpu[0];
    size_t rows = is_cpu ? sizeof gemv_fast_cpu / sizeof *gemv_fast_cpu
                         : sizeof gemv_fast_gpu / sizeof *gemv_fast_gpu;
    return copy_seeds(&clb_tune_xgemv_fast, NULL, table, rows, CLB_G_COUNT, out, max);
  }
  return 0;
}
