#include "measure/stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* NaN sorts last so that a stray non-finite sample cannot make qsort's order
 * inconsistent (a comparator that calls NaN "equal" to everything is not a
 * total order, and qsort's result would then be unspecified). */
static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  if (isnan(x) || isnan(y))
    return isnan(x) - isnan(y);
  return (x > y) - (x < y);
}

/* Type 7 quantile (R's default, NumPy's "linear"): position h = (n - 1) p on
 * the sorted values, interpolated linearly between its two neighbours. */
static double sorted_quantile(const double *sorted, size_t n, double p) {
  double h = (double)(n - 1) * p;
  size_t lo = (size_t)floor(h);
  if (lo >= n - 1)
    return sorted[n - 1];
  double frac = h - (double)lo;
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

static int sort_copy(const double *values, size_t n, double **sorted) {
  *sorted = malloc((n ? n : 1) * sizeof **sorted);
  if (!*sorted)
    return -1;
  memcpy(*sorted, values, n * sizeof **sorted);
  qsort(*sorted, n, sizeof **sorted, compare_doubles);
  return 0;
}

static void summary_fill_nan(struct clb_summary *out, size_t n) {
  out->n = n;
  out->mean = out->stddev = out->min = out->max = NAN;
  out->median = out->p10 = out->p90 = out->cv = NAN;
}

void clb_stats_summarize(const double *values, size_t n, struct clb_summary *out) {
  if (!out)
    return;
  if (!values || n == 0) {
    summary_fill_nan(out, 0);
    return;
  }
  /* The caller's array stays untouched: we sort a copy. */
  double *sorted = NULL;
  if (sort_copy(values, n, &sorted) != 0) {
    summary_fill_nan(out, n);
    return;
  }

  /* Two passes (mean, then squared deviations) avoid the cancellation of the
   * textbook sum-of-squares formula when the spread is tiny next to the mean,
   * which is exactly the case for repeated timings. */
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += sorted[i];
  double mean = sum / (double)n;
  double ss = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = sorted[i] - mean;
    ss += d * d;
  }

  out->n = n;
  out->mean = mean;
  out->stddev = n >= 2 ? sqrt(ss / (double)(n - 1)) : 0.0;
  out->min = sorted[0];
  out->max = sorted[n - 1];
  out->median = sorted_quantile(sorted, n, 0.5);
  out->p10 = sorted_quantile(sorted, n, 0.1);
  out->p90 = sorted_quantile(sorted, n, 0.9);
  if (n < 2 || out->stddev == 0.0)
    out->cv = 0.0;
  else if (mean == 0.0)
    out->cv = NAN; /* A spread around zero has no relative size. */
  else
    out->cv = out->stddev / mean;
  free(sorted);
}

double clb_stats_quantile(const double *values, size_t n, double p) {
  double *sorted = NULL;
  if (!values || n == 0 || !(p >= 0.0 && p <= 1.0) || sort_copy(values, n, &sorted) != 0)
    return NAN;
  double q = sorted_quantile(sorted, n, p);
  free(sorted);
  return q;
}

double clb_stats_log_spread(const double *values, size_t n) {
  if (!values || n < 2)
    return NAN;
  double *logs = malloc(n * sizeof *logs);
  if (!logs)
    return NAN;
  double spread = NAN;
  for (size_t i = 0; i < n; i++) {
    if (!(values[i] > 0) || !isfinite(values[i]))
      goto done;
    logs[i] = log(values[i]);
  }
  double center = clb_stats_quantile(logs, n, 0.5);
  for (size_t i = 0; i < n; i++)
    logs[i] = fabs(logs[i] - center);
  /* 1.4826 = 1 / Phi^-1(3/4): the MAD of normal values times it is their sigma. */
  spread = 1.482602218505602 * clb_stats_quantile(logs, n, 0.5);
done:
  free(logs);
  return spread;
}

/* ---- Student t quantile ------------------------------------------------- */

/* Continued fraction for the regularized incomplete beta function (modified
 * Lentz's method, as in Numerical Recipes' betacf). It converges quickly for
 * x < (a + 1) / (a + b + 2); the caller uses the symmetry
 * I_x(a, b) = 1 - I_{1-x}(b, a) otherwise. The number of terms needed grows
 * like sqrt(a), so the cap is generous; dof beyond the beta path's range use
 * the asymptotic series instead. */
static double beta_continued_fraction(double a, double b, double x) {
  const double tiny = 1e-300;
  const int max_terms = 20000;
  double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (fabs(d) < tiny)
    d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= max_terms; m++) {
    double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (fabs(d) < tiny)
      d = tiny;
    c = 1.0 + aa / c;
    if (fabs(c) < tiny)
      c = tiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (fabs(d) < tiny)
      d = tiny;
    c = 1.0 + aa / c;
    if (fabs(c) < tiny)
      c = tiny;
    d = 1.0 / d;
    double delta = d * c;
    h *= delta;
    if (fabs(delta - 1.0) < 1e-15)
      break;
  }
  return h;
}

/* Regularized incomplete beta function I_x(a, b) for a, b > 0, 0 <= x <= 1. */
static double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0)
    return 0.0;
  if (x >= 1.0)
    return 1.0;
  double log_front = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
  double front = exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0))
    return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b;
}

/* Standard normal quantile: Acklam's rational approximation (relative error
 * about 1e-9) polished by one Halley step on erfc, which brings it to full
 * double precision. */
static double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double p_low = 0.02425;
  double x;
  if (p < p_low) {
    double q = sqrt(-2.0 * log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - p_low) {
    double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    double q = sqrt(-2.0 * log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
  double u = e * sqrt(2.0 * M_PI) * exp(x * x / 2.0);
  return x - u / (1.0 + x * u / 2.0);
}

/* Upper-tail t quantile for large dof from the normal quantile z
 * (Abramowitz & Stegun 26.7.5, four correction terms). Its error is
 * O(dof^-5), far below 1e-12 in the range it is used for. */
static double t_quantile_asymptotic(double z, double nu) {
  double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
  double g1 = (z3 + z) / 4.0;
  double g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
  double g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
  double g4 = (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / 92160.0;
  return z + g1 / nu + g2 / (nu * nu) + g3 / (nu * nu * nu) + g4 / (nu * nu * nu * nu);
}

/* Beyond this many degrees of freedom the continued fraction needs thousands
 * of terms while the asymptotic series is already exact to rounding. */
#define CLB_T_BETA_MAX_DOF 2000.0

double clb_stats_t_quantile(double confidence, size_t dof) {
  if (dof == 0 || !(confidence > 0.0 && confidence < 1.0))
    return NAN;
  double nu = (double)dof;
  double tail = 1.0 - confidence; /* Two-sided: P(|T| > t) = tail. */
  if (nu > CLB_T_BETA_MAX_DOF)
    return t_quantile_asymptotic(normal_quantile(1.0 - tail / 2.0), nu);
  /* Exact closed forms: one and two degrees of freedom. */
  if (dof == 1)
    return tan(M_PI * confidence / 2.0);
  if (dof == 2)
    return sqrt(2.0 / (tail * (2.0 - tail)) - 2.0);
  /* P(|T| > t) = I_x(nu/2, 1/2) with x = nu / (nu + t^2), increasing in x.
   * Bisect on x: 200 halvings pin x far below double rounding even when the
   * answer is tiny (high confidence, small dof). */
  double lo = 0.0, hi = 1.0;
  for (int i = 0; i < 200 && hi - lo > 0.0; i++) {
    double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi)
      break;
    if (incomplete_beta(nu / 2.0, 0.5, mid) < tail)
      lo = mid;
    else
      hi = mid;
  }
  double x = 0.5 * (lo + hi);
  return sqrt(nu * (1.0 - x) / x);
}

/* Median absolute deviation from `median`, relative to it. */
static double relative_mad(const double *values, size_t n, double median) {
  double *deviations = malloc(n * sizeof *deviations);
  if (!deviations || median == 0.0) {
    free(deviations);
    return NAN;
  }
  for (size_t i = 0; i < n; i++)
    deviations[i] = fabs(values[i] - median);
  qsort(deviations, n, sizeof *deviations, compare_doubles);
  double mad = sorted_quantile(deviations, n, 0.5);
  free(deviations);
  return mad / median;
}

/* Variance of the pooled fraction of samples at or below `median`, with
 * rounds as clusters, and never below the independent-samples variance
 * F (1 - F) / N (rounds that all split exactly in half prove no more). */
static double clustered_fraction_variance(const double *values, const size_t *sizes,
                                          size_t rounds, size_t total, double median) {
  double *below = malloc(rounds * sizeof *below);
  if (!below)
    return NAN;
  double below_total = 0.0;
  for (size_t r = 0, at = 0; r < rounds; at += sizes[r], r++) {
    double count = 0.0;
    for (size_t i = at; i < at + sizes[r]; i++)
      count += values[i] < median ? 1.0 : values[i] == median ? 0.5 : 0.0;
    below[r] = count;
    below_total += count;
  }
  double fraction = below_total / (double)total, sum_squares = 0.0;
  for (size_t r = 0; r < rounds; r++) {
    double d = below[r] - fraction * (double)sizes[r];
    sum_squares += d * d;
  }
  free(below);
  double n = (double)total;
  double clustered = (double)rounds / (double)(rounds - 1) * sum_squares / (n * n);
  double independent = fraction * (1.0 - fraction) / n;
  return clustered > independent ? clustered : independent;
}

void clb_stats_clustered_median(const double *values, const size_t *sizes, size_t rounds,
                                double confidence, struct clb_clustered_median *out) {
  out->median = out->low = out->high = out->half_width = out->rmad = NAN;
  size_t total = 0;
  for (size_t r = 0; r < rounds; r++)
    total += sizes[r];
  double *sorted = NULL;
  if (!values || total == 0 || sort_copy(values, total, &sorted) != 0)
    return;
  double median = sorted_quantile(sorted, total, 0.5);
  out->median = median;
  out->rmad = relative_mad(values, total, median);
  if (rounds >= 2 && confidence > 0.0 && confidence < 1.0) {
    double variance = clustered_fraction_variance(values, sizes, rounds, total, median);
    double reach = clb_stats_t_quantile(confidence, rounds - 1) * sqrt(variance);
    double p_low = 0.5 - reach, p_high = 0.5 + reach;
    out->low = sorted_quantile(sorted, total, p_low < 0.0 ? 0.0 : p_low);
    out->high = sorted_quantile(sorted, total, p_high > 1.0 ? 1.0 : p_high);
    double above = out->high - median, below = median - out->low;
    out->half_width = (above > below ? above : below) / median;
  }
  free(sorted);
}

void clb_stats_mean_ci(const double *values, size_t n, double confidence, double *mean, double *low,
                       double *high) {
  struct clb_summary s;
  clb_stats_summarize(values, n, &s);
  if (mean)
    *mean = s.mean;
  /* One value has no spread to build an interval from. */
  double half = n >= 2 ? clb_stats_t_quantile(confidence, n - 1) * s.stddev / sqrt((double)n) : NAN;
  if (low)
    *low = s.mean - half;
  if (high)
    *high = s.mean + half;
}

double clb_stats_var_without_replacement(double sigma2, size_t b, size_t n) {
  if (b == 0 || b > n)
    return NAN;
  if (b == n)
    return 0.0; /* The batch is the whole set: no sampling noise at all. */
  return (sigma2 / (double)b) * ((double)(n - b) / (double)(n - 1));
}

double clb_stats_var_with_replacement(double sigma2, size_t b) {
  if (b == 0)
    return NAN;
  return sigma2 / (double)b;
}

void clb_stats_two_batch_estimate(double mean_sq_small, size_t b_small, double mean_sq_big,
                                  size_t b_big, double *trace_sigma, double *grad_norm2) {
  double trace = NAN, g2 = NAN;
  if (b_small > 0 && b_big > 0 && b_small != b_big) {
    double bs = (double)b_small, bb = (double)b_big;
    /* E|g_B|^2 = |G|^2 + tr(Sigma) / B: two equations, two unknowns. */
    trace = (mean_sq_small - mean_sq_big) / (1.0 / bs - 1.0 / bb);
    g2 = (bb * mean_sq_big - bs * mean_sq_small) / (bb - bs);
  }
  if (trace_sigma)
    *trace_sigma = trace;
  if (grad_norm2)
    *grad_norm2 = g2;
}
