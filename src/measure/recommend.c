#include "measure/recommend.h"

#include <math.h>

/* The knee is the smallest batch whose throughput is within this fraction of
 * the best (DESIGN.md: "smallest B reaching 90 % of peak samples/s"). */
#define CLB_KNEE_FRACTION 0.9

/* A point can be ranked only when it ran and has a real step time. */
static int point_usable(const struct clb_batch_point *p) {
  return p->fits == 1 && p->batch > 0 && isfinite(p->step_s) && p->step_s > 0.0;
}

/* The measured throughput when the caller supplied one, else batch / step:
 * the caller may have measured samples/s over a different clock (wall time),
 * and that figure is the one the tables show. */
static double point_throughput(const struct clb_batch_point *p) {
  if (isfinite(p->samples_per_s) && p->samples_per_s > 0.0)
    return p->samples_per_s;
  return (double)p->batch / p->step_s;
}

double clb_recommend_cost(double step_s, size_t batch, double noise_scale) {
  if (batch == 0)
    return NAN;
  return step_s * (1.0 + noise_scale / (double)batch);
}

void clb_recommend(const struct clb_batch_point *points, size_t n, double noise_scale,
                   struct clb_recommendation *out) {
  if (!out)
    return;
  *out = (struct clb_recommendation){
      .best_samples_per_s = NAN, .optimal_cost = NAN, .speedup_vs_32 = NAN};
  if (!points)
    return;

  /* The largest batch that ran does not need a step time: an unmeasured but
   * successful run still proves the memory fits. */
  for (size_t i = 0; i < n; i++)
    if (points[i].fits == 1 && points[i].batch > out->largest_fit)
      out->largest_fit = points[i].batch;

  /* Best throughput; on a tie the smaller batch wins (same speed, less memory). */
  for (size_t i = 0; i < n; i++) {
    const struct clb_batch_point *p = &points[i];
    if (!point_usable(p))
      continue;
    double sps = point_throughput(p);
    if (!out->valid || sps > out->best_samples_per_s ||
        (sps == out->best_samples_per_s && p->batch < out->best_batch)) {
      out->best_samples_per_s = sps;
      out->best_batch = p->batch;
    }
    out->valid = 1;
  }
  if (!out->valid)
    return;

  /* Points may come in any order, so the knee is a minimum over all qualifiers. */
  double threshold = CLB_KNEE_FRACTION * out->best_samples_per_s;
  for (size_t i = 0; i < n; i++) {
    const struct clb_batch_point *p = &points[i];
    if (point_usable(p) && point_throughput(p) >= threshold &&
        (out->knee_batch == 0 || p->batch < out->knee_batch))
      out->knee_batch = p->batch;
  }

  /* Without a noise scale the time-to-target model has nothing to weigh
   * throughput against, so B* stays unknown rather than guessed. */
  if (!(isfinite(noise_scale) && noise_scale > 0.0))
    return;
  double cost_32 = NAN;
  for (size_t i = 0; i < n; i++) {
    const struct clb_batch_point *p = &points[i];
    if (!point_usable(p))
      continue;
    double cost = clb_recommend_cost(p->step_s, p->batch, noise_scale);
    if (p->batch == 32 && isnan(cost_32))
      cost_32 = cost;
    if (out->optimal_batch == 0 || cost < out->optimal_cost ||
        (cost == out->optimal_cost && p->batch < out->optimal_batch)) {
      out->optimal_batch = p->batch;
      out->optimal_cost = cost;
    }
  }
  if (!isnan(cost_32))
    out->speedup_vs_32 = cost_32 / out->optimal_cost;
}
