#include "results/advise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"
#include "util/files.h"

static int same_group(const struct clb_row *row, const struct clb_advice *a) {
  return !strcmp(row->host, a->host) && !strcmp(row->device_index, a->device_index) &&
         !strcmp(row->device, a->device) && !strcmp(row->model, a->model) &&
         !strcmp(row->precision, a->precision) && !strcmp(row->data_on, a->data_on);
}

static void set_group(struct clb_advice *a, const struct clb_row *row) {
  memset(a, 0, sizeof *a);
  snprintf(a->host, sizeof a->host, "%.127s", row->host);
  snprintf(a->device, sizeof a->device, "%.191s", row->device);
  snprintf(a->device_index, sizeof a->device_index, "%.15s", row->device_index);
  snprintf(a->model, sizeof a->model, "%.15s", row->model);
  snprintf(a->precision, sizeof a->precision, "%.7s", row->precision);
  snprintf(a->data_on, sizeof a->data_on, "%.7s", row->data_on);
  a->noise_scale = NAN;
}

static void advise_group(struct clb_advice *a, const struct clb_row *rows, size_t count,
                         struct clb_batch_point *points) {
  size_t n = 0;
  double probed = NAN;
  for (size_t i = 0; i < count; i++) {
    const struct clb_row *row = &rows[i];
    if (!same_group(row, a))
      continue;
    int ok = strcmp(row->status, "ok") == 0;
    points[n++] = (struct clb_batch_point){(size_t)row->batch, ok ? row->step_s_median : NAN,
                                           ok ? row->samples_per_s : NAN, ok};
    if (ok && isfinite(row->noise_scale) && !isfinite(a->noise_scale))
      a->noise_scale = row->noise_scale;
    if (isfinite(row->max_batch_fit))
      probed = row->max_batch_fit;
  }
  clb_recommend(points, n, a->noise_scale, &a->rec);
  if (isfinite(probed) && probed > (double)a->rec.largest_fit) {
    a->rec.largest_fit = (size_t)probed;
    a->largest_probed = 1;
  }
}

int clb_advise(const struct clb_row *rows, size_t count, struct clb_advice **out,
               size_t *advice_count, struct clb_error *err) {
  *out = NULL;
  *advice_count = 0;
  struct clb_advice *advice = calloc(count ? count : 1, sizeof *advice);
  struct clb_batch_point *points = calloc(count ? count : 1, sizeof *points);
  if (!advice || !points) {
    free(advice);
    free(points);
    return clb_failf(err, CLB_E_NOMEM, "out of memory grouping %zu result rows", count);
  }
  size_t groups = 0;
  for (size_t i = 0; i < count; i++) {
    int known = 0;
    for (size_t g = 0; g < groups && !known; g++)
      known = same_group(&rows[i], &advice[g]);
    if (!known)
      set_group(&advice[groups++], &rows[i]);
  }
  for (size_t g = 0; g < groups; g++)
    advise_group(&advice[g], rows, count, points);
  free(points);
  *out = advice;
  *advice_count = groups;
  return 0;
}

void clb_advise_print(FILE *out, const struct clb_advice *advice, size_t count) {
  for (size_t i = 0; i < count; i++) {
    const struct clb_advice *a = &advice[i];
    const struct clb_recommendation *r = &a->rec;
    fprintf(out, "%s [%s] %s %s (data on %s):\n", a->device, a->device_index, a->model,
            a->precision, a->data_on);
    if (!r->valid) {
      fprintf(out, "  no configuration ran; nothing to recommend\n");
      continue;
    }
    fprintf(out, "  throughput knee      B = %zu (90 %% of the best %.4g samples/s at B = %zu)\n",
            r->knee_batch, r->best_samples_per_s, r->best_batch);
    fprintf(out, "  largest B that fits  B = %zu%s\n", r->largest_fit,
            a->largest_probed ? " (probed)" : " (largest measured)");
    if (r->optimal_batch > 0) {
      fprintf(out, "  fastest to a target  B* = %zu (noise scale B_noise = %.4g)", r->optimal_batch,
              a->noise_scale);
      if (isfinite(r->speedup_vs_32) && r->optimal_batch != 32)
        fprintf(out, ", predicted %.2fx faster than B = 32", r->speedup_vs_32);
      fprintf(out, "\n");
    } else {
      fprintf(out, "  fastest to a target  unknown: the noise scale was not measured\n");
    }
  }
}

int clb_advise_write_csv(const char *path, const struct clb_advice *advice, size_t count,
                         struct clb_error *err) {
  struct clb_atomic_file af;
  if (clb_atomic_open(&af, path, err) != 0)
    return err->code;
  FILE *out = af.file;
  fprintf(out, "%s\n", CLB_ADVISE_CSV_HEADER);
  /* Through the CSV layer: a device name may hold quotes and commas, and the
   * numbers must be written with '.' whatever the caller's locale. */
  for (size_t i = 0; i < count; i++) {
    const struct clb_advice *a = &advice[i];
    const struct clb_recommendation *r = &a->rec;
    const char *identity[] = {a->host,  a->device_index, a->device,
                              a->model, a->precision,    a->data_on};
    for (size_t k = 0; k < sizeof identity / sizeof identity[0]; k++) {
      clb_csv_write_field(out, identity[k]);
      fputc(',', out);
    }
    if (r->valid) {
      fprintf(out, "%zu,%zu,", r->knee_batch, r->best_batch);
      clb_csv_write_number(out, "%.9g", r->best_samples_per_s, "");
      fprintf(out, ",%zu,", r->largest_fit);
    } else {
      fprintf(out, ",,,,");
    }
    clb_csv_write_number(out, "%.9g", a->noise_scale, "");
    fprintf(out, ",");
    if (r->optimal_batch > 0)
      fprintf(out, "%zu", r->optimal_batch);
    fprintf(out, ",");
    clb_csv_write_number(out, "%.9g", r->speedup_vs_32, "");
    fprintf(out, "\n");
  }
  return clb_atomic_commit(&af, err);
}

int clb_advise_is_csv(const char *path) {
  static const char header[] = CLB_ADVISE_CSV_HEADER;
  char line[sizeof header + 2];
  FILE *file = fopen(path, "rb");
  if (!file)
    return 0;
  int is_advice = fgets(line, sizeof line, file) != NULL &&
                  strncmp(line, header, sizeof header - 1) == 0 &&
                  (line[sizeof header - 1] == '\n' || line[sizeof header - 1] == '\r');
  fclose(file);
  return is_advice;
}
