/* Batch-size studies: train the same model from the same initial parameters
 * at several batch sizes until a target training loss, and compare the
 * measured steps S(B) with the noise-scale model of McCandlish et al. (2018):
 * S(B) = S_min (1 + B_noise / B), E(B) = B S(B) = E_min (1 + B / B_noise),
 * E_min = S_min B_noise. Behind `clbatch train --validate-noise` and
 * `clbatch study`. Library code: it prints nothing. */
#ifndef CLB_TRAIN_STUDY_H
#define CLB_TRAIN_STUDY_H

#include <stddef.h>

#include "cl/context.h"
#include "cl/platform.h"
#include "model/dataset.h"
#include "train/train.h"
#include "util/errors.h"

/* ---- fits (pure) -------------------------------------------------------- */

/* Least squares for S_min with B_noise fixed: S_i = S_min w_i, w_i = 1 +
 * B_noise / B_i, so S_min = sum S_i w_i / sum w_i^2. Rows whose steps are not
 * finite are skipped. 0, or CLB_E_INVAL with no usable row. */
int clb_study_fit_smin(const double *batch, const double *steps, size_t n, double b_noise,
                       double *s_min);

/* Least squares for S = a + b / B (a line in x = 1/B): S_min = a, B_noise =
 * b / a. Non-finite steps are skipped; needs two distinct batch sizes, else
 * CLB_E_INVAL. */
int clb_study_fit_free_b_noise(const double *batch, const double *steps, size_t n, double *s_min,
                       double *b_noise);

/* S_min (1 + B_noise / B). */
double clb_study_predict_steps(double s_min, double b_noise, double batch);

/* ---- measurements on the device ---------------------------------------- */

/* sigma^2 = tr Sigma, |G|^2 and B_noise = sigma^2 / |G|^2 over rows [0, rows)
 * of `data` at theta (clb_noise_exact with a model of min(rows, 1024) rows). */
int clb_study_noise_scale(const struct clb_cl *cl, const struct clb_dataset *data,
                          const struct clb_shape *shape, enum clb_precision precision,
                          size_t rows, const double *theta, double *sigma2, double *grad_norm2,
                          double *b_noise, struct clb_error *err);

struct clb_study_settings {
  struct clb_train_config train; /* batch and lr are set per run; epochs is the cap */
  struct clb_train_extra extra;  /* has_target must be set; eval_every 0 = automatic */
  const double *lr_grid;         /* base learning rates to try per batch size */
  size_t n_lr;
  enum clb_lr_scale lr_scale; /* each grid lr is scaled: lr(B) = scale(lr, B, base_batch) */
  size_t base_batch;
  double warmup_epochs; /* linear warm-up over this many epochs of updates (0: none) */
};

struct clb_study_row {
  size_t batch;       /* micro-batch B; the update uses accumulate * B rows */
  size_t effective;   /* accumulate * B */
  double lr;          /* the chosen (scaled) learning rate */
  size_t lr_tried;    /* how many grid values ran */
  size_t lr_diverged; /* how many of those diverged */
  int reached;
  double steps;      /* updates to the target (NaN when not reached) */
  double examples;   /* effective * steps */
  double epochs;     /* epochs to the target (fractional) */
  double wall_s;     /* training wall seconds to the target (or in all) */
  double update_s;   /* wall seconds per update */
  double train_loss, accuracy, val_loss, val_accuracy, gap; /* where training stopped */
  double sharpness_mean, sharpness_max;
  size_t device_bytes;
  double predicted; /* S_min (1 + B_noise / B_eff) from the 1-parameter fit */
  double ratio;     /* steps / predicted */
};

/* The evaluation interval when extra.eval_every is 0: a quarter of an
 * epoch's updates, at least every update. */
size_t clb_study_eval_every(size_t n_train, size_t effective, int drop_last);

/* Trains at one batch size with every lr of the grid and keeps the run that
 * reached the target in the fewest updates (ties: less wall time); when none
 * reached it, the one with the lowest final training loss. A run that
 * diverges counts as not reaching the target. CLB_E_NUMERIC when every lr
 * diverged; device failures pass through. */
int clb_study_run_batch(const struct clb_cl *cl, const struct clb_dataset *data,
                        const struct clb_study_settings *settings, size_t batch,
                        const double *initial, struct clb_study_row *row,
                        struct clb_error *err);

struct clb_study_fit {
  double b_noise;      /* measured at the initial parameters */
  double s_min, e_min; /* 1-parameter fit with the measured B_noise */
  double free_s_min, free_b_noise, free_e_min; /* 2-parameter fit */
  size_t used;         /* rows that reached the target */
};

/* Both fits over the rows that reached the target (by effective batch), and
 * every row's predicted steps and ratio. Fields that cannot be fitted are NaN. */
void clb_study_predict(struct clb_study_row *rows, size_t n, double b_noise,
                       struct clb_study_fit *fit);

#endif
