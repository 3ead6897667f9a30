/* The double-precision host reference of every model.
 *
 * Deliberately plain: one sample at a time, straightforward loops, no BLAS,
 * so that it is easy to check by reading and shares no code or rounding
 * behaviour with the device path it validates. */
#include "model/reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Scratch vectors for one sample, sized for the model. */
struct scratch {
  double *a;  /* mlp: hidden pre-activations (H) */
  double *hv; /* mlp: hidden activations (H) */
  double *dh; /* mlp: gradient w.r.t. the hidden activations (H) */
  double *z;  /* outputs or logits (C) */
  double *dz; /* gradient w.r.t. z (C) */
};

static int scratch_alloc(struct scratch *s, const struct clb_shape *shape) {
  size_t h = shape->kind == CLB_MODEL_MLP ? shape->h : 0;
  size_t c = shape->c;
  /* One block; h may be 0, so at least 1 element keeps malloc's answer meaningful. */
  double *block = malloc((3 * h + 2 * c + 1) * sizeof *block);
  if (!block)
    return -1;
  s->a = block;
  s->hv = s->a + h;
  s->dh = s->hv + h;
  s->z = s->dh + h;
  s->dz = s->z + c;
  return 0;
}

static void scratch_free(struct scratch *s) {
  free(s->a);
}

/* dz <- softmax(z) - onehot(label), scaled by `scale`; returns -log p[label].
 * The row maximum is subtracted first so exp() never overflows. */
static double softmax_xent(const double *z, size_t c, size_t label, double scale, double *dz) {
  double max = z[0];
  for (size_t o = 1; o < c; o++)
    if (z[o] > max)
      max = z[o];
  double sum = 0;
  for (size_t o = 0; o < c; o++)
    sum += exp(z[o] - max);
  double log_sum = log(sum);
  if (dz) {
    for (size_t o = 0; o < c; o++)
      dz[o] = scale * (exp(z[o] - max - log_sum) - (o == label ? 1.0 : 0.0));
  }
  return log_sum - (z[label] - max);
}

/* z = x W + b for one row x (d), W (d x c) row-major. */
static void affine(const double *x, size_t d, const double *w, const double *b, size_t c,
                   double *z) {
  for (size_t o = 0; o < c; o++)
    z[o] = b[o];
  for (size_t j = 0; j < d; j++) {
    double xj = x[j];
    const double *wrow = w + j * c;
    for (size_t o = 0; o < c; o++)
      z[o] += xj * wrow[o];
  }
}

/* gW += x dzᵀ, gb += dz: the gradient of a linear layer for one sample. */
static void affine_grad(const double *x, size_t d, const double *dz, size_t c, double *gw,
                        double *gb) {
  for (size_t j = 0; j < d; j++) {
    double xj = x[j];
    double *grow = gw + j * c;
    for (size_t o = 0; o < c; o++)
      grow[o] += xj * dz[o];
  }
  for (size_t o = 0; o < c; o++)
    gb[o] += dz[o];
}

/* The forward pass of one sample: z (and, for mlp, a and hv) into s. */
static void forward(const struct clb_shape *shape, const double *theta, const double *x,
                    struct scratch *s) {
  size_t d = shape->d, h = shape->h, c = shape->c;
  if (shape->kind != CLB_MODEL_MLP) {
    affine(x, d, theta, theta + d * c, c, s->z);
    return;
  }
  const double *w1 = theta, *b1 = w1 + d * h, *w2 = b1 + h, *b2 = w2 + h * c;
  affine(x, d, w1, b1, h, s->a);
  for (size_t k = 0; k < h; k++)
    s->hv[k] = s->a[k] > 0 ? s->a[k] : 0;
  affine(s->hv, h, w2, b2, c, s->z);
}

/* One sample's loss, with `scale` times its gradient added to grad (if not
 * NULL). Returns NAN for a class label outside 0..C-1. */
static double sample_loss_grad(const struct clb_shape *shape, const double *theta,
                               const struct clb_dataset *data, size_t i, double scale, double *grad,
                               struct scratch *s) {
  size_t d = shape->d, h = shape->h, c = shape->c;
  const double *x = data->x + i * data->d;
  forward(shape, theta, x, s);

  if (shape->kind == CLB_MODEL_LINREG) {
    const double *y = data->y + i * c;
    double loss = 0;
    for (size_t o = 0; o < c; o++) {
      double r = s->z[o] - y[o];
      loss += r * r;
      s->dz[o] = 2.0 * scale * r; /* d/dz of sum_o r_o^2 */
    }
    if (grad)
      affine_grad(x, d, s->dz, c, grad, grad + d * c);
    return loss;
  }

  double y = data->y[i];
  if (!(y >= 0 && y < (double)c))
    return NAN;
  double loss = softmax_xent(s->z, c, (size_t)y, scale, s->dz);
  if (!grad)
    return loss;
  if (shape->kind == CLB_MODEL_SOFTMAX) {
    affine_grad(x, d, s->dz, c, grad, grad + d * c);
    return loss;
  }
  const double *w2 = theta + d * h + h;
  double *gw1 = grad, *gb1 = gw1 + d * h, *gw2 = gb1 + h, *gb2 = gw2 + h * c;
  affine_grad(s->hv, h, s->dz, c, gw2, gb2);
  /* dH = dZ W2ᵀ, masked by ReLU's derivative (0 at and below zero). */
  for (size_t k = 0; k < h; k++) {
    double sum = 0;
    const double *w2row = w2 + k * c;
    for (size_t o = 0; o < c; o++)
      sum += s->dz[o] * w2row[o];
    s->dh[k] = s->a[k] > 0 ? sum : 0;
  }
  affine_grad(x, d, s->dh, h, gw1, gb1);
  return loss;
}

static void fill(double *v, size_t n, double value) {
  for (size_t k = 0; k < n; k++)
    v[k] = value;
}

/* The mean loss over idx[0..b-1] (or samples 0..b-1 when idx is NULL). */
static double batch_loss_grad(const struct clb_shape *shape, const double *theta,
                              const struct clb_dataset *data, const uint32_t *idx, size_t b,
                              double *grad) {
  size_t p = clb_shape_param_count(shape);
  if (grad)
    fill(grad, p, 0.0);
  if (b == 0)
    return 0.0;
  struct scratch s;
  if (scratch_alloc(&s, shape) != 0) {
    if (grad)
      fill(grad, p, NAN);
    return NAN;
  }
  /* Each sample adds (1/B) of its gradient, so grad ends as the batch mean. */
  double scale = 1.0 / (double)b;
  double loss = 0;
  for (size_t k = 0; k < b; k++)
    loss += sample_loss_grad(shape, theta, data, idx ? idx[k] : k, scale, grad, &s);
  scratch_free(&s);
  if (isnan(loss) && grad)
    fill(grad, p, NAN);
  return loss / (double)b;
}

double clb_ref_loss_grad(const struct clb_shape *shape, const double *theta,
                         const struct clb_dataset *data, const uint32_t *idx, size_t b,
                         double *grad) {
  return batch_loss_grad(shape, theta, data, idx, b, grad);
}

void clb_ref_sample_grad(const struct clb_shape *shape, const double *theta,
                         const struct clb_dataset *data, size_t i, double *grad) {
  uint32_t one = (uint32_t)i;
  batch_loss_grad(shape, theta, data, &one, 1, grad);
}

void clb_ref_noise(const struct clb_shape *shape, const double *theta,
                   const struct clb_dataset *data, double *sigma2, double *grad_norm2) {
  size_t p = clb_shape_param_count(shape);
  size_t n = data->n;
  double *mean = NULL, *gi = NULL;
  *sigma2 = 0;
  *grad_norm2 = 0;
  if (n == 0)
    return;
  mean = malloc(p * sizeof *mean);
  gi = malloc(p * sizeof *gi);
  if (!mean || !gi) {
    *sigma2 = *grad_norm2 = NAN;
    goto cleanup;
  }
  batch_loss_grad(shape, theta, data, NULL, n, mean);
  double norm2 = 0;
  for (size_t k = 0; k < p; k++)
    norm2 += mean[k] * mean[k];
  /* Two passes (deviations from the mean, not mean |g|^2 - |G|^2) because the
   * subtraction cancels badly when the noise is small next to the gradient. */
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    clb_ref_sample_grad(shape, theta, data, i, gi);
    for (size_t k = 0; k < p; k++) {
      double dev = gi[k] - mean[k];
      sum += dev * dev;
    }
  }
  *sigma2 = sum / (double)n;
  *grad_norm2 = norm2;

cleanup:
  free(gi);
  free(mean);
}

double clb_ref_accuracy(const struct clb_shape *shape, const double *theta,
                        const struct clb_dataset *data) {
  if (shape->kind == CLB_MODEL_LINREG || data->n == 0)
    return 0.0;
  struct scratch s;
  if (scratch_alloc(&s, shape) != 0)
    return NAN;
  size_t correct = 0;
  int bad_label = 0;
  for (size_t i = 0; i < data->n && !bad_label; i++) {
    forward(shape, theta, data->x + i * data->d, &s);
    size_t best = 0;
    for (size_t o = 1; o < shape->c; o++)
      if (s.z[o] > s.z[best])
        best = o;
    if ((double)best == data->y[i])
      correct++;
    bad_label = !(data->y[i] >= 0 && data->y[i] < (double)shape->c);
  }
  scratch_free(&s);
  return bad_label ? NAN : (double)correct / (double)data->n;
}
