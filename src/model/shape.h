/* Model kinds, their parameter layout and their cost formulas (pure functions).
 *
 * Parameters of every model live in one flat vector theta, so one AXPY updates
 * them all. Row-major layouts:
 *   linreg, softmax: W (D x C), b (C)                 C = outputs or classes
 *   mlp:             W1 (D x H), b1 (H), W2 (H x C), b2 (C)
 * Losses: linreg is the mean over the batch of sum_o (z_o - y_o)^2 (mean squared
 * error; its gradient carries the factor 2/B); softmax and mlp use the mean
 * softmax cross-entropy. */
#ifndef CLB_MODEL_SHAPE_H
#define CLB_MODEL_SHAPE_H

#include <stddef.h>

enum clb_model_kind { CLB_MODEL_LINREG = 0, CLB_MODEL_SOFTMAX = 1, CLB_MODEL_MLP = 2 };
#define CLB_MODEL_COUNT 3

struct clb_shape {
  enum clb_model_kind kind;
  size_t d; /* features */
  size_t h; /* hidden units (mlp only; 0 otherwise) */
  size_t c; /* outputs (linreg) or classes (softmax, mlp) */
};

const char *clb_shape_kind_name(enum clb_model_kind kind); /* "linreg", "softmax", "mlp" */
int clb_shape_kind_parse(const char *name, enum clb_model_kind *out);
int clb_shape_is_classifier(enum clb_model_kind kind);

/* One named tensor of theta. */
struct clb_tensor {
  const char *name; /* "w", "b", "W1", "b1", "W2", "b2" */
  size_t offset;    /* in elements, into theta */
  size_t rows, cols;
  size_t count;
};

/* The tensors of a model in theta order; returns how many (2 or 4). */
size_t clb_shape_tensors(const struct clb_shape *shape, struct clb_tensor out[4]);
size_t clb_shape_param_count(const struct clb_shape *shape);

/* One GEMM of a step, C(m x n) = op(A) op(B), row-major, op transposing
 * when trans_a / trans_b is 1 (as clb_blas_gemm takes it). */
struct clb_shape_gemm {
  int trans_a, trans_b;
  size_t m, n, k;
};
#define CLB_SHAPE_MAX_GEMMS 5

/* The GEMMs of one step on a batch of B, in the order the step runs them;
 * returns how many (2, or 5 for mlp). One with m or n of 1 runs as a GEMV
 * (linreg with one output: all of them). */
size_t clb_shape_gemms(const struct clb_shape *shape, size_t batch,
                       struct clb_shape_gemm out[CLB_SHAPE_MAX_GEMMS]);

/* Floating-point operations of one gradient step (forward, backward, update)
 * on a batch of B: 2 per multiply-add of the GEMM/GEMV work, plus the
 * element-wise work counted per element (see results/SCHEMA.md). */
double clb_shape_step_flops(const struct clb_shape *shape, size_t batch);

/* Bytes one step must move to and from global memory: every kernel's inputs
 * read once and outputs written once, elements of `element_size` bytes,
 * 4-byte indices for the gather. `gathers` is 1 when the batch is gathered by
 * a permutation (shuffled), 0 when it is a contiguous slice. */
double clb_shape_step_bytes(const struct clb_shape *shape, size_t batch, size_t element_size,
                            int gathers);

#endif
