#include "shape.h"

#include <string.h>

#include "errors.h"

static const char *const model_names[CLB_MODEL_COUNT] = {"linreg", "softmax", "mlp"};

const char *clb_model_name(enum clb_model_kind kind) {
  return (unsigned)kind < CLB_MODEL_COUNT ? model_names[kind] : "unknown";
}

int clb_model_parse(const char *name, enum clb_model_kind *out) {
  for (int k = 0; k < CLB_MODEL_COUNT; k++)
    if (strcmp(name, model_names[k]) == 0) {
      *out = (enum clb_model_kind)k;
      return 0;
    }
  return CLB_E_INVAL;
}

int clb_model_is_classifier(enum clb_model_kind kind) { return kind != CLB_MODEL_LINREG; }

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

int clb_shape_folds_bias(const struct clb_shape *shape) {
  return !(shape->kind == CLB_MODEL_LINREG && shape->c == 1);
}

size_t clb_shape_param_count(const struct clb_shape *shape) {
  struct clb_tensor tensors[4];
  size_t n = clb_shape_tensors(shape, tensors);
  return tensors[n - 1].offset + tensors[n - 1].count;
}

/* The model's arithmetic, however an implementation arranges it (clbatch folds
 * the bias adds and bias gradients into its GEMMs; the baselines in bench/ do
 * not), so GFLOP/s compare across implementations. Element-wise FLOPs per
 * output element: linreg adds the bias, subtracts the target and scales (3);
 * softmax adds the bias, subtracts the row max, exponentiates, sums, divides
 * and subtracts the one-hot (6). */
static double loss_flops_per_element(enum clb_model_kind kind) {
  return kind == CLB_MODEL_LINREG ? 3.0 : 6.0;
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
  int classifier = clb_model_is_classifier(shape->kind);
  /* The loss kernel reads each row's target through the epoch's order. */
  double targets = classifier ? b * 4.0 : b * c * s;
  double bytes = 0;
  /* Inputs carry their ones column (D + 1, H + 1 wide): it brings each bias
   * into its layer's GEMMs, so no kernel reads or writes a bias on its own;
   * except where clb_shape_folds_bias says not. */
  const int folds = clb_shape_folds_bias(shape);
  const double x_cols = d + folds, h_cols = h + 1;
  if (gathers)
    bytes += b * index + 2 * b * x_cols * s; /* gather: indices, rows read, rows written */
  double loss = 2 * b * c * s + b * index + targets + b * s /* Z in; dZ, row loss out */
                + (folds ? 0 : c * s);                      /* the bias, when not folded */
  if (shape->kind != CLB_MODEL_MLP) {
    bytes += (b * x_cols + x_cols * c + b * c) * s;   /* Z = [X 1] [W; b] */
    bytes += loss;
    bytes += (b * x_cols + b * c + x_cols * c) * s;   /* [gW; gb] = [X 1]^T dZ */
    if (!folds)
      bytes += (b * c + b + c) * s;                   /* gb = dZ^T 1, a GEMV with ones */
  } else {
    bytes += (b * x_cols + x_cols * h + b * h) * s;   /* H = [X 1] [W1; b1] */
    bytes += 2 * b * h_cols * s;                      /* ReLU in place */
    bytes += (b * h_cols + h_cols * c + b * c) * s;   /* Z = [H 1] [W2; b2] */
    bytes += loss;
    bytes += (b * h_cols + b * c + h_cols * c) * s;   /* [gW2; gb2] */
    bytes += (b * c + h * c + b * h) * s;             /* dH = dZ W2^T */
    bytes += 3 * b * h * s;                           /* ReLU mask: dH, H in; dH out */
    bytes += (b * x_cols + b * h + x_cols * h) * s;   /* [gW1; gb1] */
  }
  bytes += 3 * p * s; /* AXPY: g, theta in; theta out */
  return bytes;
}
