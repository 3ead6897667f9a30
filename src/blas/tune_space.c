#include "blas/tune_space.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"


static int is_multiple(size_t a, size_t b) {
  return b != 0 && a % b == 0;
}

/* Constraints of src/tuning/kernels/xgemm.hpp (XgemmSetConstraints and
 * XgemmComputeLocalMemSize) plus the device's limits. */
static int legal_xgemm(const size_t *v, const struct clb_tune_limits *lim) {
  if (!is_multiple(v[CLB_X_KWG], v[CLB_X_KWI]))
    return 0;
  if (!is_multiple(v[CLB_X_MWG], v[CLB_X_MDIMC] * v[CLB_X_VWM]) ||
      !is_multiple(v[CLB_X_NWG], v[CLB_X_NDIMC] * v[CLB_X_VWN]))
    return 0;
  if (!is_multiple(v[CLB_X_MWG], v[CLB_X_MDIMA] * v[CLB_X_VWM]) ||
      !is_multiple(v[CLB_X_NWG], v[CLB_X_NDIMB] * v[CLB_X_VWN]))
    return 0;
  if (v[CLB_X_GEMMK] == 0) {
    /* KWG has to be a multiple of KDIMA = (MDIMC*NDIMC)/MDIMA and of KDIMB. */
    if (!is_multiple(v[CLB_X_KWG], (v[CLB_X_MDIMC] * v[CLB_X_NDIMC]) / v[CLB_X_MDIMA]) ||
        !is_multiple(v[CLB_X_KWG], (v[CLB_X_MDIMC] * v[CLB_X_NDIMC]) / v[CLB_X_NDIMB]))
      return 0;
  } else {
    if (!is_multiple(v[CLB_X_KREG], v[CLB_X_VWN]) || v[CLB_X_MDIMC] != v[CLB_X_MDIMA] ||
        v[CLB_X_NDIMC] != v[CLB_X_NDIMB])
      return 0;
  }
  if (v[CLB_X_MDIMC] * v[CLB_X_NDIMC] > lim->max_work_group)
    return 0;
  unsigned long long local =
      (unsigned long long)lim->element_bytes *
      (v[CLB_X_SA] * v[CLB_X_KWG] * v[CLB_X_MWG] + v[CLB_X_SB] * v[CLB_X_KWG] * v[CLB_X_NWG]);
  if (local > lim->local_mem_bytes)
    return 0;
  /* Tiles far larger than the matrix only pad it with zeros. */
  return v[CLB_X_MWG] <= lim->cap_m && v[CLB_X_NWG] <= lim->cap_n &&
         v[CLB_X_KWG] * v[CLB_X_KREG] <= lim->cap_k;
}

/* Constraints of src/tuning/kernels/xgemm_direct.hpp plus the device's limits. */
static int legal_direct(const size_t *v, const struct clb_tune_limits *lim) {
  size_t wgd = v[CLB_D_WGD];
  if (!is_multiple(wgd, v[CLB_D_KWID]))
    return 0;
  if (!is_multiple(wgd, v[CLB_D_MDIMCD] * v[CLB_D_VWMD]) ||
      !is_multiple(wgd, v[CLB_D_NDIMCD] * v[CLB_D_VWND]))
    return 0;
  if (!is_multiple(wgd, v[CLB_D_MDIMAD] * v[CLB_D_VWMD]) ||
      !is_multiple(wgd, v[CLB_D_NDIMBD] * v[CLB_D_VWND]))
    return 0;
  if (!is_multiple(wgd, (v[CLB_D_MDIMCD] * v[CLB_D_NDIMCD]) / v[CLB_D_MDIMAD]) ||
      !is_multiple(wgd, (v[CLB_D_MDIMCD] * v[CLB_D_NDIMCD]) / v[CLB_D_NDIMBD]))
    return 0;
  if (v[CLB_D_MDIMCD] * v[CLB_D_NDIMCD] > lim->max_work_group)
    return 0;
  unsigned long long local = (unsigned long long)lim->element_bytes *
                             (wgd * (wgd + v[CLB_D_PADA]) + wgd * (wgd + v[CLB_D_PADB]));
  if (local > lim->local_mem_bytes)
    return 0;
  return wgd <= lim->cap_mn;
}

/* Constraints of src/tuning/kernels/xgemv.hpp (WPT a multiple of VW; for
 * the rotated kernel WGS >= WPT), its local memory, and the conditions under
 * which CLBlast's Xgemv routine runs the fast kernels for the GEMV shape, as
 * blas.c calls it: y = X w untransposed on the row-major X (the rotated
 * kernel: rows a multiple of WGS * WPT, columns of WGS), y = X^T r
 * untransposed on X read column-major (the other: columns a multiple of
 * WGS * WPT, rows of WGS); the row length a multiple of VW either way. */
static int legal_gemv(const size_t *v, const struct clb_tune_limits *lim, int rotated) {
  size_t vw = v[CLB_G_VW], wgs = v[CLB_G_WGS], wpt = v[CLB_G_WPT];
  if (!is_multiple(wpt, vw) || (rotated && wgs < wpt) || wgs > lim->max_work_group)
    return 0;
  unsigned long long local =
      (unsigned long long)lim->element_bytes * (rotated ? wgs + wpt * wgs : wgs);
  if (local > lim->local_mem_bytes)
    return 0;
  if (lim->gemv_rows == 0 || lim->gemv_cols == 0)
    return 1;
  size_t outputs = rotated ? lim->gemv_rows : lim->gemv_cols;
  size_t inputs = rotated ? lim->gemv_cols : lim->gemv_rows;
  return is_multiple(outputs, wgs * wpt) && is_multiple(inputs, wgs) &&
         is_multiple(lim->gemv_cols, vw);
}

static int legal_gemv_fast(const size_t *v, const struct clb_tune_limits *lim) {
  return legal_gemv(v, lim, 0);
}

static int legal_gemv_fast_rot(const size_t *v, const struct clb_tune_limits *lim) {
  return legal_gemv(v, lim, 1);
}

/* src/tuning/kernels/transpose_pad.hpp: no constraints of its own but
 * the local memory, (TILE * WPT) x (TILE * WPT + PAD) elements, and a
 * TILE x TILE work-group. */
static int legal_padtranspose(const size_t *v, const struct clb_tune_limits *lim) {
  size_t side = v[CLB_P_TILE] * v[CLB_P_WPT];
  if (v[CLB_P_TILE] * v[CLB_P_TILE] > lim->max_work_group)
    return 0;
  unsigned long long local = (unsigned long long)lim->element_bytes * side * (side + v[CLB_P_PAD]);
  if (local > lim->local_mem_bytes)
    return 0;
  return lim->transpose_rows == 0 || (side <= lim->transpose_rows && side <= lim->transpose_cols);
}

/* CLBlast's tuner variation V=2 (kernel 0, GEMMK=0, randomly sampled). */
const struct clb_tune_space clb_tune_xgemm_gemmk0 = {"Xgemm",
                                                     CLB_X_COUNT,
                                                     {{"GEMMK", 1, {0}},
                                                      {"KREG", 1, {1}},
                                                      {"KWG", 2, {16, 32}},
                                                      {"KWI", 1, {2}},
                                                      {"MDIMA", 3, {8, 16, 32}},
                                                      {"MDIMC", 3, {8, 16, 32}},
                                                      {"MWG", 4, {16, 32, 64, 128}},
                                                      {"NDIMB", 3, {8, 16, 32}},
                                                      {"NDIMC", 3, {8, 16, 32}},
                                                      {"NWG", 4, {16, 32, 64, 128}},
                                                      {"SA", 2, {0, 1}},
                                                      {"SB", 2, {0, 1}},
                                                      {"STRM", 2, {0, 1}},
                                                      {"STRN", 2, {0, 1}},
                                                      {"VWM", 4, {1, 2, 4, 8}},
                                                      {"VWN", 4, {1, 2, 4, 8}}},
                                                     legal_xgemm};

/* CLBlast's tuner variation V=12 (kernel 1, GEMMK=1: 2D register tiling). */
const struct clb_tune_space clb_tune_xgemm_gemmk1 = {"Xgemm",
                                                     CLB_X_COUNT,
                                                     {{"GEMMK", 1, {1}},
                                                      {"KREG", 5, {1, 2, 4, 8, 16}},
                                                      {"KWG", 1, {1}},
                                                      {"KWI", 1, {1}},
                                                      {"MDIMA", 5, {2, 4, 8, 16, 32}},
                                                      {"MDIMC", 5, {2, 4, 8, 16, 32}},
                                                      {"MWG", 5, {8, 16, 32, 64, 128}},
                                                      {"NDIMB", 5, {2, 4, 8, 16, 32}},
                                                      {"NDIMC", 5, {2, 4, 8, 16, 32}},
                                                      {"NWG", 5, {8, 16, 32, 64, 128}},
                                                      {"SA", 1, {0}},
                                                      {"SB", 1, {0}},
                                                      {"STRM", 1, {0}},
                                                      {"STRN", 1, {0}},
                                                      {"VWM", 4, {1, 2, 4, 8}},
                                                      {"VWN", 4, {1, 2, 4, 8}}},
                                                     legal_xgemm};

/* CLBlast's tuner variation V=2 of xgemm_direct. */
const struct clb_tune_space clb_tune_xgemm_direct = {"XgemmDirect",
                                                     CLB_D_COUNT,
                                                     {{"WGD", 4, {8, 16, 32, 64}},
                                                      {"MDIMCD", 3, {8, 16, 32}},
                                                      {"NDIMCD", 3, {8, 16, 32}},
                                                      {"MDIMAD", 3, {8, 16, 32}},
                                                      {"NDIMBD", 3, {8, 16, 32}},
                                                      {"KWID", 3, {2, 8, 16}},
                                                      {"VWMD", 4, {1, 2, 4, 8}},
                                                      {"VWND", 4, {1, 2, 4, 8}},
                                                      {"PADA", 2, {0, 1}},
                                                      {"PADB", 2, {0, 1}}},
                                                     legal_direct};

/* CLBlast's xgemv tuner variations V=2 and V=3. */
const struct clb_tune_space clb_tune_xgemv_fast = {
    "XgemvFast",
    CLB_G_COUNT,
    {{"VW2", 4, {1, 2, 4, 8}}, {"WGS2", 5, {16, 32, 64, 128, 256}}, {"WPT2", 3, {1, 2, 4}}},
    legal_gemv_fast};

const struct clb_tune_space clb_tune_xgemv_fast_rot = {
    "XgemvFastRot",
    CLB_G_COUNT,
    {{"VW3", 4, {1, 2, 4, 8}}, {"WGS3", 4, {16, 32, 64, 128}}, {"WPT3", 6, {1, 2, 4, 8, 16, 32}}},
    legal_gemv_fast_rot};

/* CLBlast's transpose_pad tuner: TransposeMatrix and TransposePadMatrix, the
 * transposes the indirect GEMM runs on operands that are not square. */
const struct clb_tune_space clb_tune_padtranspose = {"Padtranspose",
                                                     CLB_P_COUNT,
                                                     {{"PADTRA_PAD", 2, {0, 1}},
                                                      {"PADTRA_TILE", 4, {8, 16, 32, 64}},
                                                      {"PADTRA_WPT", 5, {1, 2, 4, 8, 16}}},
                                                     legal_padtranspose};

size_t clb_tune_space_size(const struct clb_tune_space *space) {
  size_t total = 1;
  for (size_t p = 0; p < space->count; p++)
    total *= space->params[p].count;
  return total;
}

void clb_tune_space_decode(const struct clb_tune_space *space, size_t index, size_t *values) {
  for (size_t p = space->count; p-- > 0;) {
    values[p] = space->params[p].values[index % space->params[p].count];
    index /= space->params[p].count;
  }
}

int clb_tune_space_contains(const struct clb_tune_space *space, const size_t *values) {
  for (size_t p = 0; p < space->count; p++) {
    int found = 0;
    for (size_t v = 0; v < space->params[p].count && !found; v++)
      found = space->params[p].values[v] == values[p];
    if (!found)
      return 0;
  }
  return 1;
}

static int candidates_push(struct clb_tune_candidates *list, uint64_t value) {
  if (list->count == list->capacity) {
    uint64_t *grown = clb_grow(list->items, &list->capacity, list->count + 1, sizeof *grown, 1024);
    if (!grown)
      return CLB_E_NOMEM;
    list->items = grown;
  }
  list->items[list->count++] = value;
  return 0;
}

int clb_tune_candidates_list(const struct clb_tune_space *const *spaces, size_t space_count,
                             const struct clb_tune_limits *lim, struct clb_tune_candidates *out,
                             struct clb_error *err) {
  size_t values[CLB_TUNE_MAX_PARAMS];
  for (size_t s = 0; s < space_count; s++) {
    size_t total = clb_tune_space_size(spaces[s]);
    for (size_t i = 0; i < total; i++) {
      clb_tune_space_decode(spaces[s], i, values);
      if (spaces[s]->legal(values, lim) && candidates_push(out, ((uint64_t)s << 32) | i) != 0)
        return clb_failf(err, CLB_E_NOMEM, "out of host memory listing %s configurations",
                         spaces[s]->kernel);
    }
  }
  return 0;
}

static size_t tile_cap(size_t dim) {
  size_t cap = 1;
  while (cap < dim && cap < ((size_t)1 << 30))
    cap <<= 1;
  return cap < 32 ? 32 : cap;
}

void clb_tune_limits_init(struct clb_tune_limits *lim, size_t max_work_group,
                          unsigned long long local_mem_bytes, size_t element_bytes, size_t m,
                          size_t n, size_t k) {
  lim->max_work_group = max_work_group;
  lim->local_mem_bytes = local_mem_bytes;
  lim->element_bytes = element_bytes;
  lim->cap_m = tile_cap(m);
  lim->cap_n = tile_cap(n);
  lim->cap_k = tile_cap(k);
  lim->cap_mn = tile_cap(m > n ? m : n);
  lim->gemv_rows = lim->gemv_cols = 0;
  lim->transpose_rows = lim->transpose_cols = 0;
}

size_t clb_tune_nearest(const struct clb_tune_space *const *spaces,
                        const struct clb_tune_candidates *list, const struct clb_tune_space *space,
                        const size_t *values, size_t *out) {
  size_t best = SIZE_MAX, decoded[CLB_TUNE_MAX_PARAMS], wanted[CLB_TUNE_MAX_PARAMS];
  memcpy(wanted, values, space->count * sizeof *wanted); /* `out` may be `values` */
  values = wanted;
  for (size_t i = 0; i < list->count; i++) {
    if (spaces[list->items[i] >> 32] != space)
      continue;
    clb_tune_space_decode(space, (size_t)(list->items[i] & 0xffffffffu), decoded);
    size_t differ = 0;
    for (size_t p = 0; p < space->count && differ < best; p++)
      differ += decoded[p] != values[p];
    if (differ < best) {
      best = differ;
      memcpy(out, decoded, space->count * sizeof *out);
    }
  }
  return best;
}

void clb_tune_candidates_destroy(struct clb_tune_candidates *list) {
  if (!list)
    return;
  free(list->items);
  list->items = NULL;
  list->count = list->capacity = 0;
}

void clb_tune_space_format(char *buf, size_t size, const struct clb_tune_space *space,
                           const size_t *values) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t p = 0; p < space->count && used + 1 < size; p++) {
    int wrote = snprintf(buf + used, size - used, "%s%s=%zu", p ? " " : "", space->params[p].name,
                         values[p]);
    if (wrote < 0)
      break;
    used += (size_t)wrote;
  }
}
