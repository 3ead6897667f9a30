/* The contents of the report's tables: which rows and columns each has and
 * how its cells are worded. */
#include "report/sections.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results/output.h"
#include "util/sbuf.h"
#include "util/files.h"
#include "util/text.h"

#define CELL CLB_REPORT_CELL
#define DASH CLB_REPORT_DASH
#define PLUS_MINUS "\xC2\xB1"

/* ---- step times with their interval -------------------------------------- */

/* What the step cells of a table showed, for the note that explains them. */
struct step_marks {
  int interval; /* some cell has a "±X %" */
  int unstable; /* some cell has the unstable mark */
};

#define INTERVAL_NOTE                                                                       \
  PLUS_MINUS "X %: half width of the 95 % interval of the median step time (with --passes, " \
             "of the mean of the passes' medians, widened by the host's spread between "     \
             "runs), relative to it."

/* "42.5 µs ±0.8 %", and " !" on an unstable row; the median alone for a row
 * without an interval (a schema 1 file). */
static void step_cell(char *buf, size_t size, const struct clb_row *row,
                      struct step_marks *marks) {
  char interval[32];
  clb_report_fmt_time(buf, size, row ? row->step_s_median : NAN);
  if (!row || !isfinite(row->step_s_median))
    return;
  clb_output_format_half_width(interval, sizeof interval, PLUS_MINUS,
                               clb_output_step_half_width(row), " %");
  if (interval[0]) {
    marks->interval = 1;
    snprintf(buf + strlen(buf), size - strlen(buf), " %s", interval);
  }
  if (clb_output_row_unstable(row)) {
    marks->unstable = 1;
    snprintf(buf + strlen(buf), size - strlen(buf), " %s", CLB_OUTPUT_UNSTABLE_MARK);
  }
}

/* The sentences that explain a table's step cells, "" when they need none. */
static void step_marks_note(char *buf, size_t size, const struct step_marks *marks) {
  snprintf(buf, size, "%s%s%s", marks->interval ? INTERVAL_NOTE : "",
           marks->interval && marks->unstable ? " " : "",
           marks->unstable ? CLB_OUTPUT_UNSTABLE_NOTE : "");
}

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
                                              "recommended B",
                                              "launch-bound"};
static const char COMPARE_ALIGN[] = "lllllrrrrrrrr";

#define LAUNCH_BOUND_SHARE 0.5
#define LAUNCH_BOUND_NOTE                                                                          \
  "Launch-bound: the batch sizes whose launch floor (the step's kernels times the cost of "        \
  "one launch back to back) is at least half the median step: up to there a step costs "           \
  "much the same whatever its batch, so the larger batch comes almost free."

/* The launch floor over the median step of an ok row; NaN without either. */
static double launch_floor_share(const struct clb_row *r) {
  return clb_report_row_ok(r) && r->step_s_median > 0 ? r->launch_floor_s / r->step_s_median : NAN;
}

/* "B <= 8": the largest measured B whose launch floor is at least half its
 * step; "none" when no row's is; a dash without floors (before schema 5).
 * Returns whether the series has floors. */
static int launch_bound_cell(char *buf, size_t size, const struct clb_report_merged *m,
                             const struct clb_report_series *s) {
  double largest = 0;
  int any = 0;
  for (size_t k = 0; k < s->count; k++) {
    const struct clb_row *r = &m->rows[s->first + k];
    double share = launch_floor_share(r);
    if (!isfinite(share))
      continue;
    any = 1;
    if (share >= LAUNCH_BOUND_SHARE && r->batch > largest)
      largest = r->batch;
  }
  if (!any)
    snprintf(buf, size, DASH);
  else if (largest > 0)
    snprintf(buf, size, "B \xE2\x89\xA4 %.0f", largest);
  else
    snprintf(buf, size, "none");
  return any;
}

static const char *const CONFIG_HEADERS[] = {
    "host",          "device",      "model",     "precision",     "data",      "B",
    "status",        "step median", "step wall", "launch floor",  "samples/s", "GFLOP/s",
    "% peak FLOP/s", "% peak BW",   "epoch",     "device memory", "var ratio"};
static const char CONFIG_ALIGN[] = "lllllrlrrrrrrrrrr";

static void build_compare_table(const struct clb_report_merged *m,
                                const struct clb_report_series *list, size_t n,
                                struct clb_report_table *t) {
  int any_floor = 0;
  for (size_t i = 0; i < n; i++) {
    const struct clb_report_series *s = &list[i];
    const struct clb_row *r0 = &m->rows[s->first];
    char cells[13][CELL];
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
    any_floor |= launch_bound_cell(cells[12], CELL, m, s);
    clb_report_table_add(t, cells);
  }
  if (any_floor)
    clb_report_table_set_note(t, LAUNCH_BOUND_NOTE);
}

/* "14.6 µs = 62 % (6 kernels)": the launch floor, its share of the median
 * step and the kernel count behind it; a dash before schema 5. */
static void launch_floor_cell(char *buf, size_t size, const struct clb_row *r) {
  clb_report_fmt_time(buf, size, r->launch_floor_s);
  if (!isfinite(r->launch_floor_s) || !isfinite(r->kernels_per_step))
    return;
  size_t used = strlen(buf);
  double share = 100.0 * launch_floor_share(r);
  if (share >= 1)
    snprintf(buf + used, size - used, " = %.0f %%", share);
  else if (share >= 0)
    snprintf(buf + used, size - used, " < 1 %%");
  used = strlen(buf);
  snprintf(buf + used, size - used, " (%.0f kernels)", r->kernels_per_step);
}

#define LAUNCH_FLOOR_NOTE                                                                          \
  "Launch floor: the step's kernel launches (CLBlast's included, counted) times what one "         \
  "launch costs the device back to back (an empty kernel), and its share of the step "             \
  "median; near 100 % the step is launch-bound, and a larger batch costs little more."

static void build_config_table(const struct clb_report_merged *m, struct clb_report_table *t) {
  struct step_marks marks = {0};
  int any_floor = 0;
  for (size_t i = 0; i < m->count; i++) {
    const struct clb_row *r = &m->rows[i];
    char cells[17][CELL];
    snprintf(cells[0], CELL, "%s", r->host);
    clb_report_device_cell(cells[1], CELL, r);
    snprintf(cells[2], CELL, "%s", r->model);
    snprintf(cells[3], CELL, "%s", r->precision);
    snprintf(cells[4], CELL, "%s", r->data_on);
    clb_report_fmt_num(cells[5], CELL, "%.0f", r->batch);
    snprintf(cells[6], CELL, "%s", r->status[0] ? r->status : DASH);
    step_cell(cells[7], CELL, clb_report_row_ok(r) ? r : NULL, &marks);
    clb_report_fmt_time(cells[8], CELL, r->wall_step_s);
    launch_floor_cell(cells[9], CELL, r);
    clb_report_fmt_rate(cells[10], CELL, r->samples_per_s);
    clb_report_fmt_num(cells[11], CELL, "%.3g", r->gflops);
    clb_report_fmt_num(cells[12], CELL, "%.1f", r->pct_peak_flops);
    clb_report_fmt_num(cells[13], CELL, "%.1f", r->pct_peak_bw);
    clb_report_fmt_time(cells[14], CELL, r->epoch_s);
    clb_report_fmt_bytes(cells[15], CELL, r->device_bytes);
    clb_report_fmt_num(cells[16], CELL, "%.3f", r->var_ratio);
    clb_report_table_add(t, cells);
    any_floor |= isfinite(r->launch_floor_s);
  }
  char note[1024];
  step_marks_note(note, sizeof note, &marks);
  if (any_floor)
    snprintf(note + strlen(note), sizeof note - strlen(note), "%s%s", note[0] ? " " : "",
             LAUNCH_FLOOR_NOTE);
  clb_report_table_set_note(t, note[0] ? note : NULL);
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

/* The ok row at `batch` with a median step time, NULL without one. */
static const struct clb_row *timed_row_at_batch(const struct clb_report_merged *m,
                                                const struct clb_report_series *s, double batch) {
  const struct clb_row *row = batch >= 0 ? clb_report_row_at_batch(m, s, (size_t)batch) : NULL;
  return row && isfinite(row->step_s_median) && row->step_s_median > 0 ? row : NULL;
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
                      struct clb_report_table *t, struct step_marks *marks) {
  size_t n_batches = 0;
  double *batches = NULL;
  const struct clb_row **timed = NULL; /* each device's timed row at one B */
  char(*cells)[CELL] = NULL;
  size_t cap = 0;
  for (size_t i = a; i < b; i++)
    cap += list[order[i]].count;
  batches = calloc(cap ? cap : 1, sizeof *batches);
  timed = calloc(d->n, sizeof *timed);
  cells = calloc(t->ncols, sizeof *cells);
  if (!batches || !timed || !cells) {
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
      timed[dev] = NULL;
    for (size_t i = a; i < b; i++) {
      size_t dev = device_slot(d, list, order[i]);
      if (dev < d->n)
        timed[dev] = timed_row_at_batch(m, &list[order[i]], batches[k]);
    }
    for (size_t dev = 0; dev < d->n; dev++)
      measured += timed[dev] != NULL;
    if (measured < 2)
      continue;
    const struct clb_row *r0 = &m->rows[list[order[a]].first];
    snprintf(cells[0], CELL, "%s", r0->model);
    snprintf(cells[1], CELL, "%s", r0->precision);
    snprintf(cells[2], CELL, "%s", r0->data_on);
    clb_report_fmt_num(cells[3], CELL, "%.0f", batches[k]);
    for (size_t dev = 0; dev < d->n; dev++)
      step_cell(cells[4 + dev], CELL, timed[dev], marks);
    for (size_t dev = 1; dev < d->n; dev++)
      clb_report_fmt_ratio(cells[3 + d->n + dev], CELL,
                           timed[dev] && timed[0]
                               ? timed[dev]->step_s_median / timed[0]->step_s_median
                               : NAN);
    clb_report_table_add(t, cells);
  }
cleanup:
  free(cells);
  free(timed);
  free(batches);
}

/* A device as a side-by-side table names it: "DEVICE (PLATFORM)", and
 * " on HOST" in the table of all hosts. */
static void side_device(char *buf, size_t size, const struct clb_row *r, int all_hosts) {
  char device[CELL];
  clb_report_device_cell(device, sizeof device, r);
  if (all_hosts)
    snprintf(buf, size, "%s on %s", device, r->host);
  else
    snprintf(buf, size, "%s", device);
}

/* "Step time side by side (HOST)" for the series [first, end) of one host,
 * or with all_hosts "(all hosts)" for every series of a fleet: per model,
 * precision, data placement and B the median step time of every device,
 * then each device's ratio to the first (the baseline). Leaves `t` untouched
 * (ncols 0) when there are fewer than two devices. */
static int build_side_by_side(const struct clb_report_merged *m,
                              const struct clb_report_series *list, size_t first, size_t end,
                              int all_hosts, struct clb_report_table *t) {
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
  char baseline[CELL + CLB_STR_FIELD_SIZE + 8], device[CELL + CLB_STR_FIELD_SIZE + 8];
  char header[sizeof device + 16];
  if (all_hosts) {
    snprintf(title, sizeof title, "Step time side by side (all hosts)");
    snprintf(label, sizeof label, "tab:clbatch-side-by-side-all-hosts");
  } else {
    snprintf(title, sizeof title, "Step time side by side (%s)", host_row->host);
    clb_safe_name(safe_host, sizeof safe_host, host_row->host);
    snprintf(label, sizeof label, "tab:clbatch-side-by-side-%s", safe_host);
  }
  side_device(baseline, sizeof baseline, &m->rows[list[d.first_series[0]].first], all_hosts);
  clb_sbuf_printf(
      &note_text,
      "Median device time per step (step_s_median) for each model, precision, data "
      "placement and B measured ok on at least two devices%s. Baseline: %s, the first "
      "device ordered by %splatform, then device name. ratio = step time on that device / "
      "step time on the baseline; > 1: the baseline is faster.",
      all_hosts ? " of all hosts" : "", baseline, all_hosts ? "host, " : "");
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
    side_device(device, sizeof device, &m->rows[list[d.first_series[dev]].first], all_hosts);
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
  struct step_marks marks = {0};
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
    side_rows(m, list, &d, order, a, b, t, &marks);
    a = b;
  }
  /* The step cells are known now: explain their interval and marks. */
  char explain[1024];
  step_marks_note(explain, sizeof explain, &marks);
  if (explain[0]) {
    clb_sbuf_printf(&note_text, " %s", explain);
    clb_report_table_set_note(t, note_text.failed ? NULL : note_text.text);
  }
  rc = t->failed || note_text.failed ? -1 : 0;
cleanup:
  clb_sbuf_destroy(&note_text);
  free(order);
  free(d.first_series);
  return rc;
}

/* Adds one side-by-side table of the series [first, end) to tables->sides,
 * or nothing (with a note when there were two devices) when it has no rows. */
static int add_side_table(const struct clb_report_notes *notes, const struct clb_report_merged *m,
                          const struct clb_report_series *list, size_t first, size_t end,
                          int all_hosts, struct clb_report_tables *tables,
                          struct clb_error *err) {
  struct clb_report_table *t = &tables->sides[tables->n_sides];
  *t = (struct clb_report_table){0};
  /* Counted before anything can fail, so clb_report_tables_destroy releases it. */
  tables->n_sides++;
  if (build_side_by_side(m, list, first, end, all_hosts, t) != 0)
    return clb_failf(err, CLB_E_NOMEM, "out of memory building the side-by-side table");
  if (t->ncols > 0 && t->nrows == 0)
    clb_report_note(notes,
                    "step time side by side (%s) skipped: no batch size measured ok on two "
                    "devices",
                    all_hosts ? "all hosts" : m->rows[list[first].first].host);
  if (t->nrows == 0) {
    clb_report_table_destroy(t);
    tables->n_sides--;
  }
  return CLB_OK;
}

/* The side-by-side tables: one per host with two or more devices (and rows),
 * then, when the rows come from several hosts, one of every device of every
 * host: a fleet of one-GPU hosts is compared there. */
static int build_side_tables(const struct clb_report_notes *notes,
                             const struct clb_report_merged *m,
                             const struct clb_report_series *list, size_t n_series,
                             struct clb_report_tables *tables, struct clb_error *err) {
  size_t hosts = 0;
  tables->sides = calloc(n_series + 1, sizeof *tables->sides);
  if (!tables->sides)
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  for (size_t first = 0; first < n_series;) {
    /* Series are sorted by host first: [first, end) is one host. */
    const char *host = m->rows[list[first].first].host;
    size_t end = first + 1;
    while (end < n_series && strcmp(m->rows[list[end].first].host, host) == 0)
      end++;
    hosts++;
    int rc = add_side_table(notes, m, list, first, end, 0, tables, err);
    if (rc != CLB_OK)
      return rc;
    first = end;
  }
  return hosts >= 2 ? add_side_table(notes, m, list, 0, n_series, 1, tables, err) : CLB_OK;
}

/* ---- where the rows came from -------------------------------------------- */

static const char *const SOURCES_HEADERS[] = {"file",         "host",         "devices",
                                              "rows",         "shown",        "measured (UTC)",
                                              "command"};
static const char SOURCES_ALIGN[] = "lllrrll";

#define SOURCES_NOTE                                                                        \
  "Where the rows came from. shown: the file's rows in the tables (a configuration "      \
  "measured again, in this file or another, shows its newest run). command: the one a "   \
  "Slurm task noted in FILE.config, else how to repeat the run from FILE.config."
/* Said when rows come from several files: two Slurm tasks on one node are
 * two runs of one host, and a reader must know they are not added up. */
#define SOURCES_MERGE_NOTE                                                                  \
  " Rows of the same host, device and configuration from several files are runs of one "  \
  "host, merged: the tables show the highest repeat, then the newest timestamp (newest "   \
  "wins); the agreement section compares all of them."

static void host_name(char *buf, size_t size, const struct clb_row *r) {
  snprintf(buf, size, "%s", r->host);
}

/* The distinct names of rows[0, n), "a; b; c", or "N NOUN" when more than
 * three would not fit a cell. */
static void distinct_names(char *buf, size_t size, const struct clb_row *rows, size_t n,
                           void (*name)(char *, size_t, const struct clb_row *), const char *noun) {
  enum { LISTED = 3 };
  char seen[LISTED][CELL];
  size_t distinct = 0;
  for (size_t i = 0; i < n; i++) {
    char this_name[CELL];
    name(this_name, sizeof this_name, &rows[i]);
    int known = 0;
    for (size_t k = 0; k < distinct && k < LISTED && !known; k++)
      known = strcmp(seen[k], this_name) == 0;
    /* Past LISTED names the count is a lower bound of no use: say "many". */
    if (!known && distinct < LISTED)
      snprintf(seen[distinct], CELL, "%s", this_name);
    if (!known)
      distinct++;
  }
  if (distinct == 0) {
    snprintf(buf, size, DASH);
    return;
  }
  if (distinct > LISTED) {
    snprintf(buf, size, "more than %d %s", LISTED, noun);
    return;
  }
  struct clb_sbuf joined = {0};
  for (size_t k = 0; k < distinct; k++)
    clb_sbuf_printf(&joined, "%s%s", k ? "; " : "", seen[k]);
  snprintf(buf, size, "%s", joined.failed || !joined.text ? DASH : joined.text);
  clb_sbuf_destroy(&joined);
}

/* "2026-11-30 13:16–13:18" from the first and last ISO 8601 timestamps of a
 * file's rows; whole timestamps when the dates differ. */
static void measured_cell(char *buf, size_t size, const struct clb_row *rows, size_t n) {
  const char *first = NULL, *last = NULL;
  for (size_t i = 0; i < n; i++) {
    const char *t = rows[i].timestamp;
    if (strlen(t) < 16)
      continue;
    if (!first || strcmp(t, first) < 0)
      first = t;
    if (!last || strcmp(t, last) > 0)
      last = t;
  }
  if (!first) {
    snprintf(buf, size, DASH);
    return;
  }
  /* YYYY-MM-DDTHH:MM is 16 characters; the date is the first 10. */
  if (strncmp(first, last, 16) == 0)
    snprintf(buf, size, "%.10s %.5s", first, first + 11);
  else if (strncmp(first, last, 10) == 0)
    snprintf(buf, size, "%.10s %.5s\xE2\x80\x93%.5s", first, first + 11, last + 11);
  else
    snprintf(buf, size, "%.10s %.5s \xE2\x80\x93 %.10s %.5s", first, first + 11, last,
             last + 11);
}

/* The command that made a file's rows: the "# command: " line a Slurm task
 * adds to its RUN.config (scripts/slurm-sweep.sh), else "clbatch run
 * --config RUN.config" when `clbatch run` saved its configuration beside the
 * results (RUN.csv -> RUN.config), else a dash. */
static void command_cell(char *buf, size_t size, const char *input) {
  static const char tag[] = "# command: ";
  char path[4096];
  char *config = NULL;
  size_t config_size = 0;
  struct clb_error ignored = {0};
  struct clb_sbuf command = {0};
  snprintf(buf, size, DASH);
  clb_path_sibling(input, ".config", path, sizeof path);
  if (!clb_path_ends_with(input, ".csv") ||
      clb_file_read(path, &config, &config_size, &ignored) != CLB_OK)
    goto cleanup;
  for (const char *line = config; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    if (n > sizeof tag - 1 && strncmp(line, tag, sizeof tag - 1) == 0) {
      snprintf(buf, size, "%.*s", (int)(n - (sizeof tag - 1)), line + sizeof tag - 1);
      goto cleanup;
    }
    line = end ? end + 1 : NULL;
  }
  /* Through a buffer of its own: the cell cuts what does not fit. */
  clb_sbuf_printf(&command, "clbatch run --config %s", path);
  if (!command.failed && command.text)
    snprintf(buf, size, "%s", command.text);
cleanup:
  free(config);
  clb_sbuf_destroy(&command);
}

static void build_sources_table(const struct clb_report_merged *m, struct clb_report_table *t) {
  for (size_t f = 0; f < m->n_inputs; f++) {
    if (m->file_skipped[f])
      continue; /* not results: the notes say so */
    const struct clb_row *rows = &m->all[m->file_start[f]];
    size_t n = m->file_start[f + 1] - m->file_start[f], shown = 0;
    for (size_t i = 0; i < m->count; i++)
      shown += m->row_file[i] == f;
    char cells[7][CELL];
    snprintf(cells[0], CELL, "%s", m->inputs[f]);
    distinct_names(cells[1], CELL, rows, n, host_name, "hosts");
    distinct_names(cells[2], CELL, rows, n, clb_report_device_cell, "devices");
    clb_report_fmt_num(cells[3], CELL, "%.0f", (double)n);
    clb_report_fmt_num(cells[4], CELL, "%.0f", (double)shown);
    measured_cell(cells[5], CELL, rows, n);
    command_cell(cells[6], CELL, m->inputs[f]);
    clb_report_table_add(t, cells);
  }
  t->note = m->n_inputs - m->n_skipped > 1 ? SOURCES_NOTE SOURCES_MERGE_NOTE : SOURCES_NOTE;
}

/* ---- agreement between runs ------------------------------------------------ */

static const char *const AGREEMENT_HEADERS[] = {
    "model",           "precision", "data",         "B", "runs", "median step", "spread",
    "intervals cover", "unstable",  "host slowdown"};
static const char AGREEMENT_ALIGN[] = "lllrrrrrrr";
#define AGREEMENT_COLUMNS (sizeof AGREEMENT_HEADERS / sizeof AGREEMENT_HEADERS[0])

static double percent_of(size_t part, size_t whole) {
  return whole ? 100.0 * (double)part / (double)whole : NAN;
}

/* "0/1", and how many runs had no interval to cover with, so that a 0 from
 * schema 1 files does not read as disagreement. */
static void covered_cell(char *buf, size_t size, const struct clb_report_agreement_config *c) {
  snprintf(buf, size, "%zu/%zu", c->pairs_covered, c->pairs);
  if (c->no_interval)
    snprintf(buf + strlen(buf), size - strlen(buf), " (%zu without interval)", c->no_interval);
}

/* "1", "0 (2 unknown)", or "unknown" when no run recorded it (schema 1). */
static void unstable_cell(char *buf, size_t size, size_t unstable, size_t unknown, size_t runs) {
  if (unknown == runs)
    snprintf(buf, size, "unknown");
  else if (unknown)
    snprintf(buf, size, "%zu (%zu unknown)", unstable, unknown);
  else
    snprintf(buf, size, "%zu", unstable);
}

/* "1.02", "0.98-1.24" (the runs' lowest and highest host_slowdown), or
 * the missing mark when no run has one. */
static void slowdown_cell(char *buf, size_t size, double low, double high) {
  char a[32], b[32];
  clb_report_fmt_num(a, sizeof a, "%.2f", low);
  clb_report_fmt_num(b, sizeof b, "%.2f", high);
  if (!isfinite(low) || strcmp(a, b) == 0)
    snprintf(buf, size, "%s", a);
  else
    snprintf(buf, size, "%s-%s", a, b);
}

static void agreement_row(const struct clb_report_agreement_config *c,
                          struct clb_report_table *t) {
  char cells[AGREEMENT_COLUMNS][CELL];
  snprintf(cells[0], CELL, "%s", c->row->model);
  snprintf(cells[1], CELL, "%s", c->row->precision);
  snprintf(cells[2], CELL, "%s", c->row->data_on);
  clb_report_fmt_num(cells[3], CELL, "%.0f", c->row->batch);
  snprintf(cells[4], CELL, "%zu", c->runs);
  clb_report_fmt_time(cells[5], CELL, c->median_step);
  clb_report_fmt_num(cells[6], CELL, "%.1f %%", 100 * c->spread);
  covered_cell(cells[7], CELL, c);
  unstable_cell(cells[8], CELL, c->unstable, c->stability_unknown, c->runs);
  slowdown_cell(cells[9], CELL, c->slowdown_low, c->slowdown_high);
  clb_report_table_add(t, cells);
}

/* The device's line above its table: how many configurations agree, how
 * often the intervals hold, how many runs were unstable. */
static void agreement_summary(struct clb_sbuf *sb, const struct clb_report_agreement_device *d) {
  clb_sbuf_printf(sb,
                  "%zu configuration%s measured more than once: %zu agree within " PLUS_MINUS
                  "%.0f %% and %zu within " PLUS_MINUS "%.0f %% (slowest / fastest - 1). ",
                  d->count, d->count == 1 ? "" : "s", d->within_close,
                  100 * CLB_REPORT_AGREE_CLOSE, d->within_loose, 100 * CLB_REPORT_AGREE_LOOSE);
  /* Without intervals (schema 1 files) "0 of N pairs" would read as
   * disagreement: say that there was nothing to compare instead. */
  if (d->no_interval == d->runs)
    clb_sbuf_puts(sb, "No run has an interval to compare (schema 1 files). ");
  else
    clb_sbuf_printf(sb,
                    "In %zu of %zu pairs of runs (%.0f %%) each run's 95 %% interval contains "
                    "the other's median%s. ",
                    d->pairs_covered, d->pairs, percent_of(d->pairs_covered, d->pairs),
                    d->no_interval ? " (runs without an interval cover nothing)" : "");
  if (d->stability_unknown == d->runs)
    clb_sbuf_printf(sb, "Stability unknown for all %zu runs (schema 1 files).", d->runs);
  else if (d->stability_unknown)
    clb_sbuf_printf(sb, "%zu of %zu runs unstable, %zu unknown (schema 1 files).", d->unstable,
                    d->runs, d->stability_unknown);
  else
    clb_sbuf_printf(sb, "%zu of %zu runs unstable.", d->unstable, d->runs);
  /* What the speed history said of the host during these runs: a pair that
   * disagrees next to a slowdown of 1.25 says why. */
  if (isfinite(d->slowdown_low))
    clb_sbuf_printf(sb,
                    " The reference step put the host at %.2f to %.2f times its usual time "
                    "(host slowdown).",
                    d->slowdown_low, d->slowdown_high);
}

/* A piece of a LaTeX label: letters, digits and '-' (an '_' would need
 * escaping wherever the label is printed). */
static void label_part(char *dst, size_t size, const char *src) {
  clb_safe_name(dst, size, src);
  for (char *c = dst; *c; c++)
    if (*c == '_')
      *c = '-';
}

/* One device's table: titled by the device, its summary as the note. */
static int build_agreement_table(const struct clb_report_agreement *a,
                                 const struct clb_report_agreement_device *d,
                                 struct clb_report_table *t) {
  char device[CELL], title[CELL + CLB_STR_FIELD_SIZE + 8], label[CLB_STR_FIELD_SIZE * 3 + 64];
  char safe[3][CLB_STR_FIELD_SIZE];
  struct clb_sbuf note = {0};
  clb_report_device_cell(device, sizeof device, d->row);
  snprintf(title, sizeof title, "%s on %s", device, d->row->host);
  label_part(safe[0], sizeof safe[0], d->row->host);
  label_part(safe[1], sizeof safe[1], d->row->platform);
  label_part(safe[2], sizeof safe[2], d->row->device);
  snprintf(label, sizeof label, "tab:clbatch-agreement-%s-%s-%s", safe[0], safe[1], safe[2]);
  agreement_summary(&note, d);
  int note_failed = note.failed;
  clb_report_table_init_owned(t, AGREEMENT_COLUMNS, title, label, note_failed ? "" : note.text);
  clb_sbuf_destroy(&note);
  for (size_t c = 0; c < AGREEMENT_COLUMNS; c++)
    clb_report_table_set_column(t, c, AGREEMENT_HEADERS[c], AGREEMENT_ALIGN[c]);
  for (size_t i = d->first; i < d->first + d->count; i++)
    agreement_row(&a->configs[i], t);
  return t->failed || note_failed ? -1 : 0;
}

static int build_agreement_tables(const struct clb_report_agreement *a,
                                  struct clb_report_tables *tables, struct clb_error *err) {
  tables->agreement = calloc(a->n_devices ? a->n_devices : 1, sizeof *tables->agreement);
  if (!tables->agreement)
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  for (size_t i = 0; i < a->n_devices; i++) {
    /* Counted first, so clb_report_tables_destroy releases a half-built one. */
    tables->n_agreement++;
    if (build_agreement_table(a, &a->devices[i], &tables->agreement[i]) != 0)
      return clb_failf(err, CLB_E_NOMEM, "out of memory building the agreement tables");
  }
  return CLB_OK;
}

static const struct clb_report_table COMPARE = {.title = "Device comparison",
                                                .label = "tab:clbatch-devices",
                                                .ncols = 13,
                                                .headers = COMPARE_HEADERS,
                                                .align = COMPARE_ALIGN};
static const struct clb_report_table SOURCES = {.title = "Sources",
                                                .label = "tab:clbatch-sources",
                                                .ncols = 7,
                                                .headers = SOURCES_HEADERS,
                                                .align = SOURCES_ALIGN};
static const struct clb_report_table CONFIG = {.title = "Every configuration",
                                               .label = "tab:clbatch-configurations",
                                               .ncols = 17,
                                               .headers = CONFIG_HEADERS,
                                               .align = CONFIG_ALIGN};

int clb_report_tables_build(const struct clb_report_merged *m, const struct clb_report_series *list,
                            size_t n_series, const struct clb_report_agreement *agreement,
                            const struct clb_report_notes *notes,
                            struct clb_report_tables *tables, struct clb_error *err) {
  tables->sources = SOURCES;
  tables->compare = COMPARE;
  tables->config = CONFIG;
  build_sources_table(m, &tables->sources);
  build_compare_table(m, list, n_series, &tables->compare);
  build_config_table(m, &tables->config);
  if (tables->sources.failed || tables->compare.failed || tables->config.failed)
    return clb_failf(err, CLB_E_NOMEM, "out of memory building the tables");
  int rc = build_side_tables(notes, m, list, n_series, tables, err);
  return rc != CLB_OK ? rc : build_agreement_tables(agreement, tables, err);
}

void clb_report_tables_destroy(struct clb_report_tables *tables) {
  if (!tables)
    return;
  for (size_t i = 0; i < tables->n_sides; i++)
    clb_report_table_destroy(&tables->sides[i]);
  free(tables->sides);
  for (size_t i = 0; i < tables->n_agreement; i++)
    clb_report_table_destroy(&tables->agreement[i]);
  free(tables->agreement);
  clb_report_table_destroy(&tables->config);
  clb_report_table_destroy(&tables->compare);
  clb_report_table_destroy(&tables->sources);
  *tables = (struct clb_report_tables){0};
}
