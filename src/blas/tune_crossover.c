#include "blas/tune_crossover.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas/tune_child.h"

size_t clb_tune_cube_root_floor(unsigned long long v) {
  size_t x = (size_t)cbrt((double)v);
  while (x > 0 && (unsigned long long)x * x * x > v)
    x--;
  while ((unsigned long long)(x + 1) * (x + 1) * (x + 1) <= v)
    x++;
  return x;
}

static unsigned long long volume(const struct clb_tune_gemm *g) {
  return (unsigned long long)g->m * g->n * (unsigned long long)g->k;
}

int clb_tune_takes_direct(const struct clb_tune_gemm *gemm, size_t crossover) {
  if (crossover >= CLB_TUNE_FORCE_DIRECT)
    return 1;
  unsigned long long x = crossover;
  return volume(gemm) < x * x * x;
}

double clb_tune_crossover_cost(const struct clb_tune_gemm *gemms, const double *direct_s,
                               const double *indirect_s, size_t count, size_t crossover) {
  double sum = 0.0;
  size_t counted = 0;
  for (size_t i = 0; i < count; i++) {
    double d = direct_s[i], x = indirect_s[i];
    if (d <= 0.0 && x <= 0.0)
      continue;
    double taken = clb_tune_takes_direct(&gemms[i], crossover) ? d : x;
    if (taken <= 0.0)
      return INFINITY;
    double best = d <= 0.0 ? x : x <= 0.0 ? d : fmin(d, x);
    sum += taken / best;
    counted++;
  }
  return counted ? sum / (double)counted : INFINITY;
}

static int by_volume(const void *a, const void *b) {
  unsigned long long va = *(const unsigned long long *)a, vb = *(const unsigned long long *)b;
  return (va > vb) - (va < vb);
}

/* The crossover that sends the GEMMs of volume <= below to the direct path
 * and those of volume >= above to the indirect one, at the geometric middle
 * of their cube roots; 0 when no whole number does. */
static size_t split_between(unsigned long long below, unsigned long long above) {
  size_t low = clb_tune_cube_root_floor(below) + 1, high = clb_tune_cube_root_floor(above);
  if (low > high)
    return 0;
  size_t middle = (size_t)llround(sqrt(cbrt((double)below) * cbrt((double)above)));
  return middle < low ? low : middle > high ? high : middle;
}

int clb_tune_crossover_choose(const struct clb_tune_gemm *gemms, const double *direct_s,
                              const double *indirect_s, size_t count, size_t *crossover) {
  unsigned long long *volumes = malloc((count ? count : 1) * sizeof *volumes);
  size_t n = 0;
  if (!volumes)
    return 0;
  for (size_t i = 0; i < count; i++)
    if (direct_s[i] > 0.0 || indirect_s[i] > 0.0)
      volumes[n++] = volume(&gemms[i]);
  qsort(volumes, n, sizeof *volumes, by_volume);
  int found = 0;
  double best = INFINITY;
  /* Split p: the p smallest GEMMs go direct. p = 0 puts the crossover at the
   * smallest GEMM (smaller ones, not measured, stay direct); p = n just
   * above the largest. */
  for (size_t p = 0; p <= n; p++) {
    size_t candidate;
    if (n == 0)
      break;
    if (p == 0)
      candidate = clb_tune_cube_root_floor(volumes[0]);
    else if (p == n)
      candidate = clb_tune_cube_root_floor(volumes[n - 1]) + 1;
    else if (!(candidate = split_between(volumes[p - 1], volumes[p])))
      continue;
    double cost = clb_tune_crossover_cost(gemms, direct_s, indirect_s, count, candidate);
    if (cost < best) {
      best = cost;
      *crossover = candidate;
      found = 1;
    }
  }
  free(volumes);
  return found;
}

/* The "shape I gflops G" lines of `output`, each under the "crossover C"
 * line of its turn: a forced path's time goes to direct_s or indirect_s. */
static void read_shapes(const char *output, const struct clb_tune_gemm *gemms, size_t count,
                        double *direct_s, double *indirect_s) {
  static const char turn[] = "crossover ", shape[] = "shape ", value[] = " gflops ";
  double *seconds = NULL;
  for (const char *line = output; line && *line;) {
    char *end = NULL;
    size_t at = count;
    double gflops = 0.0;
    if (strncmp(line, turn, sizeof turn - 1) == 0) {
      unsigned long long crossover = strtoull(line + sizeof turn - 1, NULL, 10);
      seconds = crossover == CLB_TUNE_FORCE_INDIRECT ? indirect_s
                : crossover >= CLB_TUNE_FORCE_DIRECT ? direct_s
                                                     : NULL;
    } else if (strncmp(line, shape, sizeof shape - 1) == 0) {
      at = (size_t)strtoul(line + sizeof shape - 1, &end, 10);
      if (strncmp(end, value, sizeof value - 1) == 0)
        gflops = strtod(end + sizeof value - 1, NULL);
    }
    if (seconds && at < count && gflops > 0.0) {
      double s = 2.0 * (double)volume(&gemms[at]) / (gflops * 1e9);
      if (seconds[at] <= 0.0 || s < seconds[at])
        seconds[at] = s;
    }
    line = strchr(line, '\n');
    if (line)
      line++;
  }
}

/* A child verifies and times each GEMM for at least 0.2 s; PoCL compiled
 * CLBlast's largest tiles in 80 s. */
#define CHILD_BASE_TIMEOUT_S 240.0
#define CHILD_TIMEOUT_PER_GEMM_S 5.0

int clb_tune_crossover_measure(const char *device_id, enum clb_precision precision, uint64_t seed,
                               const struct clb_tune_gemm *gemms, size_t count, size_t rounds,
                               double *direct_s, double *indirect_s, struct clb_error *err) {
  char texts[CLB_TUNE_MAX_CROSSOVER_GEMMS][64], crossovers[CLB_TUNE_MAX_CROSSOVER_TURNS * 24],
      seed_text[32];
  char *argv[CLB_TUNE_MAX_CROSSOVER_GEMMS + 7];
  for (size_t i = 0; i < count; i++)
    direct_s[i] = indirect_s[i] = 0.0;
  if (count > CLB_TUNE_MAX_CROSSOVER_GEMMS)
    return clb_failf(err, CLB_E_INVAL, "at most %d GEMMs place the crossover, not %zu",
                     CLB_TUNE_MAX_CROSSOVER_GEMMS, count);
  if (rounds < 1 || rounds > CLB_TUNE_MAX_CROSSOVER_TURNS / 2)
    return clb_failf(err, CLB_E_INVAL, "the crossover's GEMMs are timed 1 to %d times, not %zu",
                     CLB_TUNE_MAX_CROSSOVER_TURNS / 2, rounds);
  size_t used = 0;
  for (size_t turn = 0; turn < 2 * rounds; turn++) {
    /* direct, indirect, indirect, direct, ...: drift hits both paths alike. */
    int direct = (turn % 2 == 0) == (turn / 2 % 2 == 0);
    used += (size_t)snprintf(crossovers + used, sizeof crossovers - used, "%s%zu", turn ? "," : "",
                             direct ? CLB_TUNE_FORCE_DIRECT : CLB_TUNE_FORCE_INDIRECT);
  }
  snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
  size_t argc = 0;
  argv[argc++] = "clbatch";
  argv[argc++] = "__tune-shapes";
  argv[argc++] = (char *)device_id;
  argv[argc++] = (char *)clb_precision_name(precision);
  argv[argc++] = crossovers;
  argv[argc++] = seed_text;
  for (size_t i = 0; i < count; i++) {
    clb_tune_gemm_format(&gemms[i], texts[i], sizeof texts[i]);
    argv[argc++] = texts[i];
  }
  argv[argc] = NULL;
  struct clb_tune_child child;
  int rc = clb_tune_child_spawn(argv, &child, err);
  if (rc != 0)
    return rc;
  char why[512];
  enum clb_tune_child_end end = clb_tune_child_wait(
      &child, CHILD_BASE_TIMEOUT_S + CHILD_TIMEOUT_PER_GEMM_S * (double)(count * 2 * rounds), why,
      sizeof why);
  if (end != CLB_TUNE_CHILD_EXITED_0)
    return clb_failf(err, CLB_E_CHILD, "timing the GEMMs on both paths on %s failed: %s", device_id,
                     why);
  read_shapes(child.output, gemms, count, direct_s, indirect_s);
  return 0;
}
