/* The parameter spaces of CLBlast's GEMM and GEMV kernels, transcribed from
 * CLBlast's own tuner definitions (src/tuning/kernels/xgemm.hpp,
 * xgemm_direct.hpp and xgemv.hpp),
 * their constraints and the list of their legal configurations.
 * Pure: plain numbers in, plain numbers out, no device. */
#ifndef CLB_BLAS_TUNE_SPACE_H
#define CLB_BLAS_TUNE_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include "blas/tune.h"
#include "util/errors.h"

/* Indices into an Xgemm configuration, in the order the file lists them. */
enum {
  CLB_X_GEMMK,
  CLB_X_KREG,
  CLB_X_KWG,
  CLB_X_KWI,
  CLB_X_MDIMA,
  CLB_X_MDIMC,
  CLB_X_MWG,
  CLB_X_NDIMB,
  CLB_X_NDIMC,
  CLB_X_NWG,
  CLB_X_SA,
  CLB_X_SB,
  CLB_X_STRM,
  CLB_X_STRN,
  CLB_X_VWM,
  CLB_X_VWN,
  CLB_X_COUNT
};
/* Indices into an XgemmDirect configuration. */
enum {
  CLB_D_WGD,
  CLB_D_MDIMCD,
  CLB_D_NDIMCD,
  CLB_D_MDIMAD,
  CLB_D_NDIMBD,
  CLB_D_KWID,
  CLB_D_VWMD,
  CLB_D_VWND,
  CLB_D_PADA,
  CLB_D_PADB,
  CLB_D_COUNT
};
/* Indices into an XgemvFast (VW2, WGS2, WPT2) or XgemvFastRot (VW3, WGS3,
 * WPT3) configuration, in CLBlast's database order. */
enum { CLB_G_VW, CLB_G_WGS, CLB_G_WPT, CLB_G_COUNT };
/* Indices into a Padtranspose configuration, in CLBlast's database order. */
enum { CLB_P_PAD, CLB_P_TILE, CLB_P_WPT, CLB_P_COUNT };

/* What a configuration must fit into on a device, for a GEMM shape. */
struct clb_tune_limits {
  size_t max_work_group;
  unsigned long long local_mem_bytes;
  size_t element_bytes;
  size_t cap_m, cap_n, cap_k, cap_mn; /* largest useful tile per dimension */
  /* The GEMV's matrix (rows x cols, row-major); 0: no shape to fit. CLBlast
   * runs a fast GEMV kernel only when the shape is a multiple of its work
   * (src/routines/level2/xgemv.cpp) and falls back to the generic Xgemv
   * otherwise, so a configuration that does not fit would be timed on
   * another kernel than its own. */
  size_t gemv_rows, gemv_cols;
  /* The transposed matrix (rows x cols); 0: no shape to fit. A tile
   * (PADTRA_TILE * PADTRA_WPT) wider than either side only pads it. */
  size_t transpose_rows, transpose_cols;
};

/* The limits of a device (its largest work-group and local memory) for an
 * m x n x k GEMM in elements of `element_bytes`, with no GEMV shape. */
void clb_tune_limits_init(struct clb_tune_limits *lim, size_t max_work_group,
                          unsigned long long local_mem_bytes, size_t element_bytes, size_t m,
                          size_t n, size_t k);

struct clb_tune_param {
  const char *name;
  size_t count;
  size_t values[6];
};

/* One kernel's space: every combination of its parameters' values. */
struct clb_tune_space {
  const char *kernel; /* CLBlast's kernel name: "Xgemm", "XgemmDirect", "XgemvFast", ... */
  size_t count;
  struct clb_tune_param params[CLB_TUNE_MAX_PARAMS];
  /* 1 when CLBlast accepts the configuration and it fits the limits. */
  int (*legal)(const size_t *values, const struct clb_tune_limits *lim);
};

extern const struct clb_tune_space clb_tune_xgemm_gemmk0; /* CLBlast tuner V=2 */
extern const struct clb_tune_space clb_tune_xgemm_gemmk1; /* V=12: 2D register tiling */
extern const struct clb_tune_space clb_tune_xgemm_direct; /* xgemm_direct V=2 */
extern const struct clb_tune_space clb_tune_xgemv_fast;   /* xgemv V=2: y = A^T x, row-major */
extern const struct clb_tune_space clb_tune_xgemv_fast_rot; /* xgemv V=3: y = A x, row-major */
extern const struct clb_tune_space clb_tune_padtranspose;   /* transpose_pad: B = A^T */

/* Every combination, legal or not. */
size_t clb_tune_space_size(const struct clb_tune_space *space);

/* The configuration at `index` in [0, size), one value per parameter. */
void clb_tune_space_decode(const struct clb_tune_space *space, size_t index, size_t *values);

/* 1 when every value is one of its parameter's values in the space. */
int clb_tune_space_contains(const struct clb_tune_space *space, const size_t *values);

/* "NAME=V NAME=V ..." (cut short to fit `size`). */
void clb_tune_space_format(char *buf, size_t size, const struct clb_tune_space *space,
                           const size_t *values);

/* Legal configurations of one kernel's spaces. A candidate is
 * (space number << 32) | index within that space. */
struct clb_tune_candidates {
  uint64_t *items; /* owned; clb_tune_candidates_destroy */
  size_t count, capacity;
};

int clb_tune_candidates_list(const struct clb_tune_space *const *spaces, size_t space_count,
                             const struct clb_tune_limits *lim, struct clb_tune_candidates *out,
                             struct clb_error *err);

/* The configuration of `list` in `space` that differs from `values` in the
 * fewest parameters (the first such in the list), into `out`; returns how
 * many differ (0: `values` is legal), SIZE_MAX when `list` holds none of
 * `space`. A starting set that a small GEMM or a device's limits rule out
 * still says where to start. */
size_t clb_tune_nearest(const struct clb_tune_space *const *spaces,
                        const struct clb_tune_candidates *list, const struct clb_tune_space *space,
                        const size_t *values, size_t *out);

void clb_tune_candidates_destroy(struct clb_tune_candidates *list);

#endif
