/* Data sets on the host (double precision): synthetic or read from a CSV file. */
#ifndef CLB_MODEL_DATASET_H
#define CLB_MODEL_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "model/shape.h"
#include "util/errors.h"

struct clb_dataset {
  size_t n; /* samples */
  size_t d; /* features */
  size_t c; /* regression outputs, or classes */
  int classification;
  double *x;      /* n x d, row-major */
  double *y;      /* regression: n x c targets; classification: n labels in 0..c-1 */
  double *true_w; /* synthetic regression: d x c true weights, else NULL */
  double *true_b; /* synthetic regression: c true biases, else NULL */
};

/* The synthetic problems of a seed, the same for `clbatch run` and
 * `clbatch train`, so a noise scale measured by one describes the data the
 * other trains on: regression noise (--noise-std) and the spread of the
 * class centres, which keeps the classes overlapping a little so the loss
 * stays finite and accuracy has room to grow. */
#define CLB_SYNTHETIC_NOISE_STD 0.1
#define CLB_SYNTHETIC_NOISE_STD_TEXT "0.1"
#define CLB_SYNTHETIC_CLASS_SPREAD 1.0

/* The synthetic data set of `kind`: a regression with `outputs` = c for
 * linreg (noise_std as given), Gaussian classes (c classes, spread
 * CLB_SYNTHETIC_CLASS_SPREAD) for softmax and mlp. */
int clb_data_synthetic(enum clb_model_kind kind, size_t n, size_t d, size_t c, double noise_std,
                       uint64_t seed, struct clb_dataset *out, struct clb_error *err);

/* y = x W* + b* + noise_std * N(0,1); x ~ N(0,1); W*, b* ~ N(0,1). */
int clb_data_regression(size_t n, size_t d, size_t outputs, double noise_std, uint64_t seed,
                        struct clb_dataset *out, struct clb_error *err);

/* c Gaussian clusters: centres ~ N(0, spread^2) per feature, points ~ centre
 * + N(0,1); labels balanced (sample i has label i mod c, then shuffled). */
int clb_data_classes(size_t n, size_t d, size_t classes, double spread, uint64_t seed,
                     struct clb_dataset *out, struct clb_error *err);

/* Reads numeric CSV columns; the last column is the target (for a
 * classification, integer labels 0..C-1, C = max label + 1, C >= 2, labels
 * below 2^24). One header line is allowed: a first line with a field that is
 * not a number. Blank lines are skipped; CRLF and a missing final newline are
 * fine. A malformed file is CLB_E_PARSE "FILE:LINE: column COL: ..."; an
 * unreadable one CLB_E_IO; NaN/Inf values are rejected. */
int clb_data_load_csv(const char *path, int classification, struct clb_dataset *out,
                      struct clb_error *err);

void clb_dataset_destroy(struct clb_dataset *data);

/* Where a data set lives while training: "device" (0, resident) or "host"
 * (1, each batch copied from pinned host memory). 0 or CLB_E_INVAL. */
int clb_dataset_placement_parse(const char *text, int *on_host);
const char *clb_dataset_placement_name(int on_host);

#endif
