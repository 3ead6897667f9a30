/* The batch size to pick for a card, from measured step times and the noise
 * scale (McCandlish et al. 2018). Pure functions. */
#ifndef CLB_MEASURE_RECOMMEND_H
#define CLB_MEASURE_RECOMMEND_H

#include <stddef.h>

struct clb_batch_point {
  size_t batch;
  double step_s;        /* median step time; NaN or <= 0 means not measured */
  double samples_per_s; /* batch / step_s (NaN or <= 0: computed from them) */
  int fits;             /* 1 when the configuration ran (status ok) */
};

struct clb_recommendation {
  size_t knee_batch;      /* smallest B reaching 90 % of the best samples/s */
  double best_samples_per_s;
  size_t best_batch;      /* B of the best samples/s */
  size_t largest_fit;     /* largest B that ran */
  size_t optimal_batch;   /* B* = argmin t_step(B) (1 + B_noise / B) */
  double optimal_cost;    /* t_step(B*) (1 + B_noise / B*), seconds per S_min step */
  double speedup_vs_32;   /* cost(32) / cost(B*); NaN when B = 32 was not measured */
  int valid;              /* 0 when no point was usable */
};

/* Only points with fits == 1, batch > 0 and a finite step_s > 0 are ranked;
 * ties go to the smaller batch. largest_fit counts every point with fits == 1,
 * timed or not. `noise_scale` <= 0 or NaN (or infinite) leaves optimal_batch = 0
 * (unknown) and optimal_cost, speedup_vs_32 NaN; the knee, best and largest fit
 * are still filled. valid = 0 (and best_samples_per_s NaN) when no point is
 * usable. */
void clb_recommend(const struct clb_batch_point *points, size_t n, double noise_scale,
                   struct clb_recommendation *out);

/* The predicted cost t_step(B) (1 + B_noise / B). */
double clb_recommend_cost(double step_s, size_t batch, double noise_scale);

#endif
