/* Gradient noise on the device: the per-sample variance sigma^2 = tr Sigma and
 * |G|^2 exactly over all N samples, and the measured variance of mini-batch
 * gradients over K batches drawn without replacement. */
#ifndef CLB_MODEL_NOISE_H
#define CLB_MODEL_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

struct clb_noise_exact {
  double sigma2;      /* mean_i |g_i|^2 - |G|^2, from per-sample norms */
  double grad_norm2;  /* |G|^2 */
  double noise_scale; /* sigma2 / grad_norm2 */
  double *full_grad;  /* G, param_count doubles; owned, freed by clb_noise_exact_destroy */
};

/* One pass over all samples in chunks of the model's max_batch rows, with the
 * model's current parameters. Sets the model's order to the identity. */
int clb_noise_exact(struct clb_model *model, size_t n, size_t chunk,
                    struct clb_noise_exact *out, struct clb_error *err);
void clb_noise_exact_destroy(struct clb_noise_exact *exact);

/* The exact statistics of the first `rows` samples of `data` at theta, on a
 * model of its own (chunks of up to 1024 rows): what `clbatch run` records
 * per model and `clbatch study` measures at the initial parameters. */
int clb_noise_exact_at(const struct clb_cl *cl, const struct clb_dataset *data,
                       const struct clb_shape *shape, enum clb_precision precision, size_t rows,
                       const double *theta, struct clb_noise_exact *out, struct clb_error *err);

struct clb_noise_measured {
  size_t batches;            /* K */
  double mean;               /* mean over K of |g_B - G|^2 */
  double ci_low, ci_high;    /* 95 % Student-t interval of that mean */
  double predicted;          /* (sigma2 / B) (N - B) / (N - 1) */
  double predicted_with_replacement; /* sigma2 / B, for reference */
  double ratio;              /* mean / predicted (NaN at B = N) */
};

/* Draws K batches of `batch` samples uniformly without replacement (seeded),
 * computes each mini-batch gradient on the device and |g_B - G|^2 with
 * CLBlast. At B = N every batch is the whole set, so the variance is exactly 0
 * and nothing is drawn. The model's max_batch must be >= batch. */
int clb_noise_measure(struct clb_model *model, size_t n, size_t batch, size_t k, uint64_t seed,
                      const struct clb_noise_exact *exact, struct clb_noise_measured *out,
                      struct clb_error *err);

#endif
