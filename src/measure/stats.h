/* Statistics of measurements (pure functions on plain arrays). */
#ifndef CLB_MEASURE_STATS_H
#define CLB_MEASURE_STATS_H

#include <stddef.h>

struct clb_summary {
  size_t n;
  double mean, stddev; /* sample standard deviation (n - 1) */
  double min, max, median, p10, p90;
  double cv; /* stddev / mean; 0 when n < 2 */
};

/* Summarises n values (n >= 1); percentiles by linear interpolation between
 * order statistics (type 7, as R and NumPy). `values` is not modified.
 * n == 0 (or no memory for the sorted copy) gives NaN fields; cv is NaN when
 * the mean is 0 but the spread is not. */
void clb_stats_summarize(const double *values, size_t n, struct clb_summary *out);

/* The type 7 quantile p (0 <= p <= 1) of n values (not modified); NaN when
 * n == 0, p is outside [0, 1] or the sorted copy does not fit in memory. */
double clb_stats_quantile(const double *values, size_t n, double p);

/* The spread of n positive values in relative terms: 1.4826 times the
 * median absolute deviation of their logarithms from the median logarithm
 * (0.03: about 3 %, the standard deviation for log-normal values). Robust
 * to a minority of outliers, as a few slow runs of a host are. NaN when
 * n < 2, a value is not positive and finite, or the copy does not fit. */
double clb_stats_log_spread(const double *values, size_t n);

/* The median of samples taken in rounds (clusters) with its confidence
 * interval, treating rounds, not samples, as the independent units: samples
 * within one round share the machine's state at that moment and are
 * correlated, so a per-sample interval would be far too narrow.
 *
 * Woodruff's interval with a cluster-robust variance: F = the fraction of
 * samples at or below the pooled median (ties count half), its standard error
 * se from the spread of the rounds' own fractions (ratio estimator,
 * R / (R - 1) correction), and the interval [Q(1/2 - t se), Q(1/2 + t se)] of
 * the pooled sample (type 7 quantiles, t of Student with R - 1 degrees of
 * freedom). With one sample per round it is close to the classic
 * distribution-free interval from order statistics. `values` holds the rounds
 * one after another, round r having sizes[r] samples (sizes[r] >= 1).
 * Fewer than 2 rounds, or a confidence outside (0, 1), give NaN low and high
 * (the median is still filled); no samples give NaN for all three. */
struct clb_clustered_median {
  double median, low, high;
  double half_width; /* max(high - median, median - low) / median */
  double rmad;       /* median absolute deviation from the median, / median */
};
void clb_stats_clustered_median(const double *values, const size_t *sizes, size_t rounds,
                                double confidence, struct clb_clustered_median *out);

/* Two-sided Student t quantile for `confidence` (e.g. 0.95) with dof degrees
 * of freedom (dof >= 1): t with P(|T| <= t) = confidence, so 0.95 gives
 * t_{0.975, dof}. Relative error about 1e-11. NaN when dof == 0 or confidence is
 * outside (0, 1). */
double clb_stats_t_quantile(double confidence, size_t dof);

/* Mean of n values with its two-sided confidence interval
 * mean +- t * stddev / sqrt(n). n >= 2 (n == 1: low and high are NaN). */
void clb_stats_mean_ci(const double *values, size_t n, double confidence, double *mean,
                       double *low, double *high);

/* The predicted variance of a mini-batch gradient mean:
 * without replacement (sigma2 / b) (n - b) / (n - 1); with replacement sigma2 / b.
 * Exactly 0 at b == n; NaN for b == 0 (and b > n without replacement). */
double clb_stats_var_without_replacement(double sigma2, size_t b, size_t n);
double clb_stats_var_with_replacement(double sigma2, size_t b);

/* tr Sigma and |G|^2 from mean squared batch-gradient norms at two batch sizes
 * (DESIGN.md's cross-check, with-replacement form). Both NaN when the batch
 * sizes are equal or zero. */
void clb_stats_two_batch_estimate(double mean_sq_small, size_t b_small, double mean_sq_big,
                                  size_t b_big, double *trace_sigma, double *grad_norm2);

#endif
