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

/* On a GPU the walk starts from what an untuned run uses: the all-device
 * default of CLBlast 1.5.3 (Debian's; xgemm_32.hpp). CLBlast's master has
 * since moved it (NDIMB = NDIMC = 8, VWN = 4), kept as the next seed. */
static const size_t xgemm_gpu[][CLB_X_COUNT] = {
    {0, 1, 32, 2, 8, 8, 32, 16, 16, 32, 1, 1, 0, 0, 4, 2},   /* all devices' default, 1.5.3 */
    {0, 1, 32, 2, 8, 8, 32, 8, 8, 32, 1, 1, 0, 0, 4, 4},     /* all devices' default, master */
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

/* XgemvFastRot and XgemvFast (VW, WGS, WPT): CLBlast 1.5.3's all-device
 * default first, what an untuned run uses on a CPU whose vendor CLBlast maps
 * to no entry (PoCL on an AMD processor): 8/32/32 for XgemvFastRot (CLBlast's
 * master has since moved it to 4/16/16, kept as a seed). Then the distinct
 * sets of its Intel CPU entries, Intel's runtime's untuned sets among them
 * (xgemv_fast_rot_32.hpp, xgemv_fast_32.hpp). */
static const size_t gemv_fast_rot_cpu[][CLB_G_COUNT] = {
    {8, 32, 32}, {8, 16, 8}, {4, 32, 32}, {4, 16, 16}, {8, 128, 8},
};
static const size_t gemv_fast_cpu[][CLB_G_COUNT] = {
    {1, 64, 1}, {1, 128, 1}, {1, 16, 1},  {1, 32, 4},  {1, 64, 4}, {2, 128, 4},
    {2, 16, 4}, {2, 64, 2},  {4, 128, 4}, {4, 256, 4}, {4, 32, 4}, {4, 64, 4},
};
/* On a GPU: the all-device default, then distinct vendor and architecture
 * defaults of the GPU entries. */
static const size_t gemv_fast_rot_gpu[][CLB_G_COUNT] = {
    {8, 32, 32}, {4, 16, 16}, {8, 128, 32}, {8, 128, 16}, {4, 32, 32}, {8, 64, 32}, {4, 64, 32},
};
static const size_t gemv_fast_gpu[][CLB_G_COUNT] = {
    {1, 64, 1}, {2, 256, 2}, {1, 256, 1}, {2, 64, 2}, {1, 32, 1}, {1, 64, 2}, {1, 16, 2},
};

/* Padtranspose (PAD, TILE, WPT): CLBlast 1.5.3's all-device default first
 * (0/8/4; master's is 1/8/2, next), then on a CPU the distinct sets of its
 * Intel CPU entries, on a GPU the most common vendor and architecture
 * defaults (padtranspose_32.hpp). */
static const size_t padtranspose_cpu[][CLB_P_COUNT] = {
    {0, 8, 4}, {1, 8, 2}, {0, 32, 1}, {0, 64, 1}, {1, 64, 1}, {0, 16, 1}, {0, 8, 8},
};
static const size_t padtranspose_gpu[][CLB_P_COUNT] = {
    {0, 8, 4}, {1, 8, 2}, {0, 16, 4}, {1, 16, 4}, {1, 8, 4}, {1, 16, 1}, {0, 16, 2},
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

#define ROWS(table) (sizeof table / sizeof *table)

/* Each kernel's seed tables and the space they belong to (an Xgemm seed
 * with GEMMK = 1 goes to gemmk1_space instead). */
static const struct seed_tables {
  const char *kernel;
  const struct clb_tune_space *space, *gemmk1_space;
  size_t columns;
  const size_t *cpu, *gpu;
  size_t cpu_rows, gpu_rows;
} seed_tables[] = {
    {"Xgemm", &clb_tune_xgemm_gemmk0, &clb_tune_xgemm_gemmk1, CLB_X_COUNT, xgemm_cpu[0],
     xgemm_gpu[0], ROWS(xgemm_cpu), ROWS(xgemm_gpu)},
    {"XgemmDirect", &clb_tune_xgemm_direct, NULL, CLB_D_COUNT, direct_cpu[0], direct_gpu[0],
     ROWS(direct_cpu), ROWS(direct_gpu)},
    {"XgemvFastRot", &clb_tune_xgemv_fast_rot, NULL, CLB_G_COUNT, gemv_fast_rot_cpu[0],
     gemv_fast_rot_gpu[0], ROWS(gemv_fast_rot_cpu), ROWS(gemv_fast_rot_gpu)},
    {"XgemvFast", &clb_tune_xgemv_fast, NULL, CLB_G_COUNT, gemv_fast_cpu[0], gemv_fast_gpu[0],
     ROWS(gemv_fast_cpu), ROWS(gemv_fast_gpu)},
    {"Padtranspose", &clb_tune_padtranspose, NULL, CLB_P_COUNT, padtranspose_cpu[0],
     padtranspose_gpu[0], ROWS(padtranspose_cpu), ROWS(padtranspose_gpu)},
};

size_t clb_tune_seeds(const char *kernel, int is_cpu, struct clb_tune_point *out, size_t max) {
  for (size_t i = 0; i < ROWS(seed_tables); i++) {
    const struct seed_tables *t = &seed_tables[i];
    if (strcmp(kernel, t->kernel) == 0)
      return copy_seeds(t->space, t->gemmk1_space, is_cpu ? t->cpu : t->gpu,
                        is_cpu ? t->cpu_rows : t->gpu_rows, t->columns, out, max);
  }
  return 0;
}
