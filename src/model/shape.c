#include "model/shape.h"

#include <string.h>

#include "util/errors.h"

static const char *const model_names[CLB_MODEL_COUNT] = {"linreg", "softmax", "mlp"};

const char *clb_shape_kind_name(enum clb_model_kind kind) {
  return (unsigned)kind < CLB_MODEL_COUNT ? model_names[kind] : "unknown";
}

int clb_shape_kind_parse(const char *name, enum clb_model_kind *out) {
  for (int k = 0; k < CLB_MODEL_COUNT; k++)
    if (strcmp(name, model_names[k]) == 0) {
      *out = (enum clb_model_kind)k;
      return 0;
    }
  return CLB_E_INVAL;
}

int clb_shape_is_classifier(enum clb_model_kind kind) { return kind != CLB_MODEL_LINREG; }

static struct clb_tensor tensor(const char *name, size_t offset, size_t rows, size_t cols) {
  return (struct clb_tensor){name, offset, rows, cols, rows * cols};
}

size_t clb_shape_tensors(const struct clb_shape *shape, struct clb_tensor out[4]) {
  size_t d = shape->d, h = shape->h, c = shape->c;
  if (shape->kind != CLB_MODEL_MLP) {
    out[0] = tensor("w", 0, d, c);
    out[1] = tensor("b", d * c, 1, c);
    return 2;
  }
  out[0] = tensor("W1", 0, d, h);
  out[1] = tensor("b1", d * h, 1, h);
  out[2] = tensor("W2", d * h + h, h, c);
  out[3] = tensor("b2", d * h + h + h * c, 1, c);
  return 4;
}

size_t clb_shape_param_count(const struct clb_shape *shape) {
  struct clb_tensor tensors[4];
  size_t n = clb_shape_tensors(shape, tensors);
  return tensors[n - 1].offset + tensors[n - 1].count;
}

/* Element-wise FLOPs per output element of the loss kernels: linreg adds the
 * bias, subtracts the target and scales (3); softmax adds the bias, subtracts
 * the row max, exponentiates, sums, divides and subtracts the one-hot (6). */
static double loss_flops_per_element(enum clb_model_kind kind) {
  return kind == CLB_MODEL_LINREG ? 3.0 : 6.0;
}

size_t clb_shape_gemms(const struct clb_shape *shape, size_t batch,
                       struct clb_shape_gemm out[CLB_SHAPE_MAX_GEMMS]) {
  const size_t b = batch, d = shape->d, h = shape->h, c = shape->c;
  if (shape->kind != CLB_MODEL_MLP) {
    out[0] = (struct clb_shape_gemm){0, 0, b, c, d}; /* Z = X W */
    out[1] = (struct clb_shape_gemm){1, 0, d, c, b}; /* gW = X^T dZ */
    return 2;
  }
  out[0] = (struct clb_shape_gemm){0, 0, b, h, d}; /* H = X W1 */
  out[1] = (struct clb_shape_gemm){0, 0, b, c, h}; /* Z = H W2 */
  out[2] = (struct clb_shape_gemm){1, 0, h, c, b}; /* gW2 = H^T dZ */
  out[3] = (struct clb_shape_gemm){0, 1, b, h, c}; /* dH = dZ W2^T */
  out[4] = (struct clb_shape_gemm){1, 0, d, h, b}; /* gW1 = X^T dH */
  return 5;
}

double clb_shape_step_flops(const struct clb_shape *shape, size_t batch) {
  double b = (double)batch, d = (double)shape->d, h = (double)shape->h, c = (double)shape->c;
  double p = (double)clb_shape_param_count(shape);
  double update = 2.0 * p;
  double loss = loss_flops_per_element(shape->kind) * b * c;
  if (shape->kind != CLB_MODEL_MLP)
    return 2 * b * d * c /* Z = X W */ + 2 * b * d * c /* gW = X^T dZ */ +
           2 * b * c /* gb = dZ^T 1 */ + update + loss;
  return 2 * b * d * h + 2 * b * h * c          /* forward GEMMs */
         + 2 * b * h * c + 2 * b * h * c        /* gW2 and dH */
         + 2 * b * d * h                        /* gW1 */
         + 2 * b * h + 2 * b * c                /* bias gradients */
         + update + loss + 2 * b * h + b * h;   /* bias+ReLU forward, ReLU mask backward */
}

double clb_shape_step_bytes(const struct clb_shape *shape, size_t batch, size_t element_size,
                            int gathers) {
  double b = (double)batch, d = (double)shape->d, h = (double)shape->h, c = (double)shape->c;
  double p = (double)clb_shape_param_count(shape);
  double s = (double)element_size, index = 4.0;
  int classifier = clb_shape_is_classifier(shape->kind);
  /* The loss kernel reads each row's target through the epoch's order. */
  double targets = classifier ? b * 4.0 : b * c * s;
  double bytes = 0;
  if (gathers)
    bytes += b * index + 2 * b * d * s; /* gather: indices, rows read, rows written */
  if (shape->kind != CLB_MODEL_MLP) {
    bytes += (b * d + d * c + b * c) * s;               /* Z = X W */
    bytes += (2 * b * c + c) * s + b * index + targets  /* loss: Z, b in; dZ out */
             + b * s;                                   /* per-row loss */
    bytes += (b * d + b * c + d * c) * s;               /* gW */
    bytes += (b * c + b + c) * s;                       /* gb (GEMV with ones) */
  } else {
    bytes += (b * d + d * h + b * h) * s;               /* H = X W1 */
    bytes += (2 * b * h + h) * s;                       /* bias + ReLU in place */
    bytes += (b * h + h * c + b * c) * s;               /* Z = H W2 */
    bytes += (2 * b * c + c) * s + b * index + targets + b * s; /* loss */
    bytes += (b * h + b * c + h * c) * s;               /* gW2 */
    bytes += (b * c + b + c) * s;                       /* gb2 */
    bytes += (b * c + h * c + b * h) * s;               /* dH = dZ W2^T */
    bytes += (3 * b * h) * s;                           /* ReLU mask: dH, H in; dH out */
    bytes += (b * d + b * h + d * h) * s;               /* gW1 */
    bytes += (b * h + b + h) * s;                       /* gb1 */
  }
  bytes += 3 * p * s; /* AXPY: g, theta in; theta out */
  return bytes;
}
