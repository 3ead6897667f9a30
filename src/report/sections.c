/* The contents of the report's tables: which rows and columns each has and
 * how its cells are worded. */
#include "report/sections.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sbuf.h"
#include "util/text.h"

#define CELL CLB_REPORT_CELL
#define DASH CLB_REPORT_DASH

static const char *const COMPARE_HEADERS[] = {"host",
                                              "device",
                                              "model",
                                              "precision",
                                              "data",
                                              "best samples/s",
                                              "at B",
                                              "step @ B=32",
                                              "% peak FLOP/s @ best B",
                                              "device memory @ largest B",
                                              "noise scale",
                                              "recommended B"};
static const char COMPARE_ALIGN[] = "lllllrrrrrrr";

static const char *const CONFIG_HEADERS[] = {
    "host",      "device",      "model",         "precision", "data",    "B",
    "status",    "step median", "step wall",     "samples/s", "GFLOP/s", "% peak FLOP/s",
    "% peak BW", "epoch",       "device memory", "var ratio"};
static const char CONFIG_ALIGN[] = "lllllrlrrrrrrrrr";

static void build_compare_table(const struct clb_report_merged *m,
                                const struct clb_report_series *list, size_t n,
                                struct clb_report_table *t) {
  for (size_t i = 0; i < n; i++) {
    const struct clb_report_series *s = &list[i];
    const struct clb_row *r0 = &m->rows[s->first];
    char cells[12][CELL];
    snprintf(cells[0], CELL, "%s", r0->host);
    clb_report_device_cell(cells[1], CELL, r0);
    snprintf(cells[2], CELL, "%s", r0->model);
    snprintf(cells[3], CELL, "%s", r0->precision);
    snprintf(cells[4], CELL, "%s", r0->data_on);
    const struct clb_row *best =
        s->rec.valid ? clb_report_row_at_batch(m, s, s->rec.best_batch) : NULL;
    const struct clb_row *at32 = clb_report_row_at_batch(m, s, 32);
    const struct clb_row *largest =
        s->rec.largest_fit ? clb_report_row_at_batch(m, s, s->rec.largest_fit) : NULL;
    clb_report_fmt_rate(cells[5], CELL, s->rec.valid ? s->rec.best_samples_per_s : NAN);
    clb_report_fmt_num(cells[6], CELL, "%.0f", s->rec.valid ? (double)s->rec.best_batch : NAN);
    clb_report_fmt_time(cells[7], CELL, at32 ? at32->step_s_median : NAN);
    clb_report_fmt_num(cells[8], CELL, "%.1f", best ? best->pct_peak_flops : NAN);
    if (largest && isfinite(largest->device_bytes)) {
      char bytes[64];
      clb_report_fmt_bytes(bytes, sizeof bytes, largest->device_bytes);
      snprintf(cells[9], CELL, "%s @ B=%.0f", bytes, largest->batch);
    } else {
      snprintf(cells[9], CELL, DASH);
    }
    clb_report_fmt_num(cells[10], CELL, s->noise_scale >= 10 ? "%.0f" : "%.3g", s->noise_scale);
    if (clb_report_explain_no_ok_rows(m, s, cells[11], CELL))
      ; /* the status says why every other cell is a dash */
    else if (s->rec.optimal_batch)
      snprintf(cells[11], CELL, "%zu (B*)", s->rec.optimal_batch);
    else if (s->rec.knee_batch)
      snprintf(cells[11], CELL, "%zu (knee)", s->rec.knee_batch);
    else
      snprintf(cells[11], CELL, DASH);
    clb_report_table_add(t, cells);
  }
}

static void build_config_table(const struct clb_report_merged *m, struct clb_report_table *t) {
  for (size_t i = 0; i < m->count; i++) {
    const struct clb_row *r = &m->rows[i];
    char cells[16][CELL];
    snprintf(cells[0], CELL, "%s", r->host);
    clb_report_device_cell(cells[1], CELL, r);
    snprintf(cells[2], CELL, "%s", r->model);
    snprintf(cells[3], CELL, "%s", r->precision);
    snprintf(cells[4], CELL, "%s", r->data_on);
    clb_report_fmt_num(cells[5], CELL, "%.0f", r->batch);
    snprintf(cells[6], CELL, "%s", r->status[0] ? r->status : DASH);
    clb_report_fmt_time(cells[7], CELL, r->step_s_median);
    clb_report_fmt_time(cells[8], CELL, r->wall_step_s);
    clb_report_fmt_rate(cells[9], CELL, r->samples_per_s);
    clb_report_fmt_num(cells[10], CELL, "%.3g", r->gflops);
    clb_report_fmt_num(cells[11], CELL, "%.1f", r->pct_peak_flops);
    clb_report_fmt_num(cells[12], CELL, "%.1f", r->pct_peak_bw);
    clb_report_fmt_time(cells[13], CELL, r->epoch_s);
    clb_report_fmt_bytes(cells[14], CELL, r->device_bytes);
    clb_report_fmt_num(cells[15], CELL, "%.3f", r->var_ratio);
    clb_report_table_add(t, cells);
  }
}

/* ---- step time side by side ---------------------------------------------- */

static int cmp_double_qsort(const void *pa, const void *pb) {
  return clb_report_cmp_double(*(const double *)pa, *(const double *)pb);
}

static int cmp_config(const struct clb_row *a, const struct clb_row *b) {
  int c;
  if ((c = strcmp(a->model, b->model)) != 0)
    return c;
  if ((c = strcmp(a->precision, b->precision)) != 0)
    return c;
  return strcmp(a->data_on, b->data_on);
}

/* The median step time of an ok row at `batch`, NaN without one. */
static double step_at_batch(const struct clb_report_merged *m, const struct clb_report_series *s,
                            double batch) {
  const struct clb_row *row = batch >= 0 ? clb_report_row_at_batch(m, s, (size_t)batch) : NULL;
  return row && isfinite(row->step_s_median) && row->step_s_median > 0 ? row->step_s_median : NAN;
}

/* The devices of one host, in series order (platform, then device name), as
 * the index of a series of each device. */
struct host_devices {
  size_t *first_series;
  size_t n;
};

static size_t device_slot(const struct host_devices *d, const struct clb_report_series *list,
                          size_t s) {
  for (size_t k = 0; k < d->n; k++)
    if (list[d->first_series[k]].device_id == list[s].device_id)
      return k;
  return d->n;
}

/* Adds the rows of one (model, precision, data placement): series order[a..b)
 * of one host, at most one per device. One row per B that at least two of the
 * devices measured ok. Out of memory sets t->failed. */
static void side_rows(const struct clb_report_merged *m, const struct clb_report_series *list,
                      const struct host_devices *d, const size_t *order, size_t a, size_t b,
                      struct clb_report_table *t) {
  size_t n_batches = 0;
  double *batches = NULL, *steps = NULL;
  char(*cells)[CELL] = NULL;
  size_t cap = 0;
  for (size_t i = a; i < b; i++)
    cap += list[order[i]].count;
  batches = calloc(cap ? cap : 1, sizeof *batches);
  steps = calloc(d->n, sizeof *steps);
  cells = calloc(t->ncols, sizeof *cells);
  if (!batches || !steps || !cells) {
    t->failed = 1;
    goto cleanup;
  }
  for (size_t i = a; i < b; i++) {
    const struct clb_report_series *s = &list[order[i]];
    for (size_t k = 0; k < s->count; k++) {
      const struct clb_row *r = &m->rows[s->first + k];
      if (clb_report_row_ok(r) && isfinite(r->batch))
        batches[n_batches++] = r->batch;
    }
  }
  qsort(batches, n_batches, sizeof *batches, cmp_double_qsort);
  for (size_t k = 0; k < n_batches; k++) {
    if (k > 0 && batches[k] == batches[k - 1])
      continue;
    size_t measured = 0;
    for (size_t dev = 0; dev < d->n; dev++)
      steps[dev] = NAN;
    for (size_t i = a; i < b; i++) {
      size_t dev = device_slot(d, list, order[i]);
      if (dev < d->n)
        steps[dev] = step_at_batch(m, &list[order[i]], batches[k]);
    }
    for (size_t dev = 0; dev < d->n; dev++)
      measured += isfinite(steps[dev]);
    if (measured < 2)
      continue;
    const struct clb_row *r0 = &m->rows[list[order[a]].first];
    snprintf(cells[0], CELL, "%s", r0->model);
    snprintf(cells[1], CELL, "%s", r0->precision);
    snprintf(cells[2], CELL, "%s", r0->data_on);
    clb_report_fmt_num(cells[3], CELL, "%.0f", batches[k]);
    for (size_t dev = 0; dev < d->n; dev++)
      clb_report_fmt_time(cells[4 + dev], CELL, steps[dev]);
    for (size_t dev = 1; dev < d->n; dev++)
      clb_report_fmt_ratio(cells[3 + d->n + dev], CELL, steps[dev] / steps[0]);
    clb_report_table_add(t, cells);
  }
cleanup:
  free(cells);
  free(steps);
  free(batches);
}

/* "Step time side by side (HOST)" for the series [first, end) of one host:
 * per model, precision, data placement and B the median step time of every
 * device, then each device's ratio to the first (the baseline). Leaves `t`
 * untouched (ncols 0) when the host has fewer than two devices. */
static int build_side_by_side(const struct clb_report_merged *m,
                              const struct clb_report_series *list, size_t first, size_t end,
                              struct clb_report_table *t) {
  struct host_devices d = {0};
  size_t *order = NULL;
  struct clb_sbuf note_text = {0};
  int rc = 0;
  d.first_series = calloc(end - first, sizeof *d.first_series);
  order = calloc(end - first, sizeof *order);
  if (!d.first_series || !order) {
    rc = -1;
    goto cleanup;
  }
  /* Series are sorted by host, platform, device: the first series of each
   * device comes in that order, which makes the baseline stable. */
  for (size_t s = first; s < end; s++)
    if (device_slot(&d, list, s) == d.n)
      d.first_series[d.n++] = s;
  if (d.n < 2)
    goto cleanup;

  const struct clb_row *host_row = &m->rows[list[first].first];
  char title[CLB_STR_FIELD_SIZE + 64], label[CLB_STR_FIELD_SIZE + 64], safe_host[256];
  char baseline[CELL], device[CELL], header[CELL + 16];
  snprintf(title, sizeof title, "Step time side by side (%s)", host_row->host);
  clb_safe_name(safe_host, sizeof safe_host, host_row->host);
  snprintf(label, sizeof label, "tab:clbatch-side-by-side-%s", safe_host);
  clb_report_device_cell(baseline, sizeof baseline, &m->rows[list[d.first_series[0]].first]);
  clb_sbuf_printf(
      &note_text,
      "Median device time per step (step_s_median) for each model, precision, data "
      "placement and B measured ok on at least two devices. Baseline: %s, the first "
      "device ordered by platform, then device name. ratio = step time on that device / "
      "step time on the baseline; > 1: the baseline is faster.",
      baseline);
  if (note_text.failed) {
    rc = -1;
    goto cleanup;
  }
  clb_report_table_init_owned(t, 4 + 2 * d.n - 1, title, label, note_text.text);
  clb_report_table_set_column(t, 0, "model", 'l');
  clb_report_table_set_column(t, 1, "precision", 'l');
  clb_report_table_set_column(t, 2, "data", 'l');
  clb_report_table_set_column(t, 3, "B", 'r');
  for (size_t dev = 0; dev < d.n; dev++) {
    clb_report_device_cell(device, sizeof device, &m->rows[list[d.first_series[dev]].first]);
    snprintf(header, sizeof header, "step: %s", device);
    clb_report_table_set_column(t, 4 + dev, header, 'r');
    if (dev > 0) {
      snprintf(header, sizeof header, "ratio: %s", device);
      clb_report_table_set_column(t, 3 + d.n + dev, header, 'r');
    }
  }

  /* Group the host's series by (model, precision, data placement); within a
   * group they stay in device order. Insertion sort: a host has few series. */
  size_t n = end - first;
  for (size_t i = 0; i < n; i++) {
    size_t s = first + i, j = i;
    while (j > 0 && cmp_config(&m->rows[list[order[j - 1]].first], &m->rows[list[s].first]) > 0) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = s;
  }
  for (size_t a = 0; a < n && !t->failed;) {
    size_t b = a + 1;
    while (b < n && cmp_config(&m->rows[list[order[a]].first], &m->rows[list[order[b]].first]) == 0)
      b++;
    side_rows(m, list, &d, order, a, b, t);
    a = b;
  }
  rc = t->failed ? -1 : 0;
cleanup:
  clb_sbuf_destroy(&note_text);
  free(order);
  free(d.first_series);
  return rc;
}

/* The side-by-side tables: one per host with two or more devices (and rows). */
static int build_side_tables(const struct clb_report_notes *notes,
                             const struct clb_report_merged *m,
                             const struct clb_report_series *list, size_t n_series,
                             struct clb_report_tables *tables, struct clb_error *err) {
  tables->sides = calloc(n_series ? n_series : 1, sizeof *tables->sides);
  if (!tables->sides)
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  for (size_t first = 0; first < n_series;) {
    /* Series are sorted by host first: [first, end) is one host. */
    const char *host = m->rows[list[first].first].host;
    size_t end = first + 1;
    while (end < n_series && strcmp(m->rows[list[end].first].host, host) == 0)
      end++;
    struct clb_report_table *t = &tables->sides[tables->n_sides];
    *t = (struct clb_report_table){0};
    /* Counted before anything can fail, so clb_report_tables_destroy releases it. */
    tables->n_sides++;
    if (build_side_by_side(m, list, first, end, t) != 0)
      return clb_failf(err, CLB_E_NOMEM, "out of memory building the side-by-side table");
    if (t->ncols > 0 && t->nrows == 0)
      clb_report_note(
          notes, "step time side by side (%s) skipped: no batch size measured ok on two devices",
          host);
    if (t->nrows == 0) {
      clb_report_table_destroy(t);
      tables->n_sides--;
    }
    first = end;
  }
  return CLB_OK;
}

static const struct clb_report_table COMPARE = {.title = "Device comparison",
                                                .label = "tab:clbatch-devices",
                                                .ncols = 12,
                                                .headers = COMPARE_HEADERS,
                                                .align = COMPARE_ALIGN};
static const struct clb_report_table CONFIG = {.title = "Every configuration",
                                               .label = "tab:clbatch-configurations",
                                               .ncols = 16,
                                               .headers = CONFIG_HEADERS,
                                               .align = CONFIG_ALIGN};

int clb_report_tables_build(const struct clb_report_merged *m, const struct clb_report_series *list,
                            size_t n_series, const struct clb_report_notes *notes,
                            struct clb_report_tables *tables, struct clb_error *err) {
  tables->compare = COMPARE;
  tables->config = CONFIG;
  build_compare_table(m, list, n_series, &tables->compare);
  build_config_table(m, &tables->config);
  if (tables->compare.failed || tables->config.failed)
    return clb_failf(err, CLB_E_NOMEM, "out of memory building the tables");
  return build_side_tables(notes, m, list, n_series, tables, err);
}

void clb_report_tables_destroy(struct clb_report_tables *tables) {
  if (!tables)
    return;
  for (size_t i = 0; i < tables->n_sides; i++)
    clb_report_table_destroy(&tables->sides[i]);
  free(tables->sides);
  clb_report_table_destroy(&tables->config);
  clb_report_table_destroy(&tables->compare);
  *tables = (struct clb_report_tables){0};
}
