#include "results/output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "measure/stats.h"
#include "results/passes.h"
#include "util/files.h"
#include "util/sbuf.h"
#include "util/text.h"

/* "12.3 us", "4.56 ms", "1.23 s"; "-" when not measured. */
static void format_seconds(double s, char *buf, size_t size) {
  if (!isfinite(s))
    snprintf(buf, size, "-");
  else if (s < 1e-3)
    snprintf(buf, size, "%.1f us", s * 1e6);
  else if (s < 1)
    snprintf(buf, size, "%.2f ms", s * 1e3);
  else
    snprintf(buf, size, "%.2f s", s);
}

static void format_number(double v, const char *fmt, char *buf, size_t size) {
  if (!isfinite(v))
    snprintf(buf, size, "-");
  else
    snprintf(buf, size, fmt, v);
}

double clb_output_step_half_width(const struct clb_row *row) {
  double median = row->step_s_median;
  if (!isfinite(median) || median <= 0 || !isfinite(row->step_s_ci_low) ||
      !isfinite(row->step_s_ci_high))
    return NAN;
  double above = row->step_s_ci_high - median, below = median - row->step_s_ci_low;
  return (above > below ? above : below) / median;
}

int clb_output_row_unstable(const struct clb_row *row) {
  /* Only an explicit 0: NaN (a schema 1 row) means "not known", not "unstable". */
  return row->stable == 0;
}

void clb_output_format_half_width(char *buf, size_t size, const char *plus_minus,
                                  double half_width, const char *percent) {
  if (!isfinite(half_width)) {
    snprintf(buf, size, "%s", "");
    return;
  }
  /* One decimal while it matters against a +-1 % target; whole percent above 10. */
  double pct = 100 * half_width;
  snprintf(buf, size, pct < 9.95 ? "%s%.1f%s" : "%s%.0f%s", plus_minus, pct, percent);
}

/* The cells shared by the text and Markdown tables. The interval column is
 * empty for a row without one (schema 1) and carries the unstable mark. */
enum {
  COL_DEVICE,
  COL_MODEL,
  COL_PRECISION,
  COL_BATCH,
  COL_REPEAT,
  COL_STEP,
  COL_INTERVAL,
  COL_WALL,
  COL_SAMPLES,
  COL_GFLOPS,
  COL_PEAK,
  COL_MIB,
  COL_VAR_RATIO,
  SUMMARY_COLUMNS
};
static const char *const summary_header[SUMMARY_COLUMNS] = {
    "device",    "model",     "prec",    "B",      "rep",     "step",     "95% CI",
    "wall/step", "samples/s", "GFLOP/s", "% peak", "dev MiB", "var ratio"};

static void summary_cells(const struct clb_row *row, const char *plus_minus,
                          char cells[SUMMARY_COLUMNS][64]) {
  snprintf(cells[COL_DEVICE], 64, "%.40s", row->device);
  snprintf(cells[COL_MODEL], 64, "%.63s", row->model);
  snprintf(cells[COL_PRECISION], 64, "%.63s", row->precision);
  snprintf(cells[COL_BATCH], 64, "%.0f", row->batch);
  format_number(row->repeat, "%.0f", cells[COL_REPEAT], 64);
  if (strcmp(row->status, "ok") != 0) {
    snprintf(cells[COL_STEP], 64, "%.63s", row->status);
    for (int c = COL_STEP + 1; c < SUMMARY_COLUMNS; c++)
      snprintf(cells[c], 64, "-");
    return;
  }
  format_seconds(row->step_s_median, cells[COL_STEP], 64);
  clb_output_format_half_width(cells[COL_INTERVAL], 64, plus_minus,
                               clb_output_step_half_width(row), "%");
  if (clb_output_row_unstable(row))
    strcat(cells[COL_INTERVAL], CLB_OUTPUT_UNSTABLE_MARK);
  format_seconds(row->wall_step_s, cells[COL_WALL], 64);
  format_number(row->samples_per_s, "%.4g", cells[COL_SAMPLES], 64);
  format_number(row->gflops, "%.3g", cells[COL_GFLOPS], 64);
  format_number(row->pct_peak_flops, "%.1f", cells[COL_PEAK], 64);
  format_number(row->device_bytes / (1024.0 * 1024.0), "%.1f", cells[COL_MIB], 64);
  format_number(row->var_ratio, "%.3f", cells[COL_VAR_RATIO], 64);
}

static int any_unstable(const struct clb_row *rows, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (strcmp(rows[i].status, "ok") == 0 && clb_output_row_unstable(&rows[i]))
      return 1;
  return 0;
}

static int any_repeat_after_the_first(const struct clb_row *rows, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (rows[i].repeat > 1)
      return 1;
  return 0;
}

static int any_var_ratio(const struct clb_row *rows, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (isfinite(rows[i].var_ratio))
      return 1;
  return 0;
}

/* Which columns a table shows. The repeat only with `run --repeat R` (R > 1),
 * or the R copies of a configuration would look alike; the variance ratio in
 * the terminal only with --noise-at, since a column of dashes would push the
 * table past 100 characters. */
static void visible_columns(const struct clb_row *rows, size_t count, int var_ratio_always,
                            int shown[SUMMARY_COLUMNS]) {
  for (int c = 0; c < SUMMARY_COLUMNS; c++)
    shown[c] = 1;
  shown[COL_REPEAT] = any_repeat_after_the_first(rows, count);
  shown[COL_VAR_RATIO] = var_ratio_always || any_var_ratio(rows, count);
}

static int last_shown(const int shown[SUMMARY_COLUMNS]) {
  int last = 0;
  for (int c = 0; c < SUMMARY_COLUMNS; c++)
    if (shown[c])
      last = c;
  return last;
}

void clb_output_summary(FILE *out, const struct clb_row *rows, size_t count) {
  /* Negative: left-aligned. The interval is left-aligned so that the
   * unstable mark sticks out to the right of an aligned number. */
  static const int widths[SUMMARY_COLUMNS] = {-22, -7, -4, 7, 3, 8, -7, 9, 9, 8, 6, 7, 9};
  int shown[SUMMARY_COLUMNS];
  visible_columns(rows, count, 0, shown);
  int last = last_shown(shown);
  /* A row that did not run has no numbers; the columns after its status say
   * why instead (its first line, cut to fit), since a skipped row counts as
   * no failure and nothing else on the screen gives the reason. */
  enum { REASON_FROM = COL_STEP + 1 };
  int reason_width = 0;
  for (int c = REASON_FROM; c <= last; c++)
    if (shown[c])
      reason_width += abs(widths[c]) + (reason_width > 0);
  char cells[SUMMARY_COLUMNS][64];
  for (int c = 0; c <= last; c++)
    if (shown[c])
      fprintf(out, "%*s%s", widths[c], summary_header[c], c < last ? " " : "\n");
  for (size_t i = 0; i < count; i++) {
    const struct clb_row *row = &rows[i];
    /* ASCII "+-": the terminal table pads by bytes, and a '±' would shift it. */
    summary_cells(row, "+-", cells);
    int reason = strcmp(row->status, "ok") != 0 && row->message[0];
    for (int c = 0; c <= last; c++) {
      if (reason && c == REASON_FROM) {
        int len = (int)strcspn(row->message, "\r\n");
        fprintf(out, "%-*.*s\n", reason_width, len < reason_width ? len : reason_width,
                row->message);
        break;
      }
      if (shown[c])
        fprintf(out, "%*.*s%s", widths[c], abs(widths[c]), cells[c], c < last ? " " : "\n");
    }
  }
  if (any_unstable(rows, count))
    fprintf(out, "%s\n", CLB_OUTPUT_UNSTABLE_NOTE_ASCII);
}

/* What the host did to one device's rows (clb_output_host_causes). */
struct host_causes {
  size_t ok, unstable, spreads;
  double *spread; /* host_spread of the ok rows with passes; room for all rows */
  double slowest; /* the largest host_slowdown; NaN when none */
};

static void gather_host_causes(const struct clb_row *rows, size_t count, const char *device,
                               struct host_causes *c) {
  c->ok = c->unstable = c->spreads = 0;
  c->slowest = NAN;
  for (size_t i = 0; i < count; i++) {
    const struct clb_row *row = &rows[i];
    if (strcmp(row->device_index, device) != 0 || strcmp(row->status, "ok") != 0)
      continue;
    c->ok++;
    c->unstable += (size_t)clb_output_row_unstable(row);
    if (row->passes >= 2 && isfinite(row->host_spread))
      c->spread[c->spreads++] = row->host_spread;
    if (isfinite(row->host_slowdown) && (isnan(c->slowest) || row->host_slowdown > c->slowest))
      c->slowest = row->host_slowdown;
  }
}

void clb_output_host_causes(FILE *out, const struct clb_row *rows, size_t count, double passes_ci,
                            double drift_limit) {
  struct host_causes c = {.spread = malloc((count ? count : 1) * sizeof(double))};
  if (!c.spread)
    return; /* advice only */
  for (size_t i = 0; i < count; i++) {
    const char *device = rows[i].device_index;
    int first = 1;
    for (size_t j = 0; j < i && first; j++)
      first = strcmp(rows[j].device_index, device) != 0;
    if (!first)
      continue;
    gather_host_causes(rows, count, device, &c);
    double spread = clb_stats_quantile(c.spread, c.spreads, 0.5);
    int spread_said = clb_passes_host_erratic(spread, passes_ci);
    int slow_said = clb_passes_host_slow(c.slowest, drift_limit);
    if (c.unstable == 0 || (!spread_said && !slow_said))
      continue;
    fprintf(out, "%s [%s]: %zu of %zu rows unstable because of the host:\n  ", rows[i].device,
            device, c.unstable, c.ok);
    struct clb_sbuf why = {0};
    if (spread_said)
      clb_sbuf_printf(&why, "a re-run may land about +-%.0f%% away (host_spread %.3g)",
                      100.0 * clb_passes_rerun_reach(spread), spread);
    if (slow_said)
      clb_sbuf_printf(&why, "%srows measured up to %.0f%% slower than usual (host_slowdown)",
                      spread_said ? "; " : "", 100.0 * (c.slowest - 1.0));
    clb_sbuf_puts(&why, ". Re-run on a quiet host.");
    if (!why.failed && why.text)
      clb_put_wrapped(why.text, why.len, 2, 79, out);
    fputc('\n', out);
    clb_sbuf_destroy(&why);
  }
  free(c.spread);
}

static cJSON *row_json(const struct clb_row *row) {
  cJSON *obj = cJSON_CreateObject();
  if (!obj)
    return NULL;
  for (size_t c = 0; c < clb_column_count; c++) {
    const struct clb_column *column = &clb_columns[c];
    const char *field = (const char *)row + column->offset;
    if (column->kind == CLB_COL_STR) {
      cJSON_AddStringToObject(obj, column->name, field);
    } else {
      double value;
      memcpy(&value, field, sizeof value);
      if (isfinite(value))
        cJSON_AddNumberToObject(obj, column->name, value);
      else
        cJSON_AddNullToObject(obj, column->name);
    }
  }
  return obj;
}

int clb_output_json(const char *path, const struct clb_row *rows, size_t count,
                    const cJSON *description, struct clb_error *err) {
  cJSON *root = cJSON_CreateObject();
  cJSON *array = cJSON_CreateArray();
  char *text = NULL;
  int rc = 0;
  if (!root || !array) {
    cJSON_Delete(array);
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory building JSON");
    goto cleanup;
  }
  cJSON_AddNumberToObject(root, "schema", CLB_SCHEMA_VERSION);
  cJSON_AddItemToObject(root, "description",
                        description ? cJSON_Duplicate(description, 1) : cJSON_CreateNull());
  cJSON_AddItemToObject(root, "rows", array);
  for (size_t i = 0; i < count; i++) {
    cJSON *item = row_json(&rows[i]);
    if (!item) {
      rc = clb_failf(err, CLB_E_NOMEM, "out of memory building JSON");
      goto cleanup;
    }
    cJSON_AddItemToArray(array, item);
  }
  text = cJSON_Print(root);
  if (!text) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory printing JSON");
    goto cleanup;
  }
  struct clb_atomic_file af;
  if ((rc = clb_atomic_open(&af, path, err)) != 0)
    goto cleanup;
  fputs(text, af.file);
  fputc('\n', af.file);
  rc = clb_atomic_commit(&af, err);
cleanup:
  free(text);
  cJSON_Delete(root);
  return rc;
}

int clb_output_markdown(const char *path, const struct clb_row *rows, size_t count,
                        struct clb_error *err) {
  struct clb_atomic_file af;
  if (clb_atomic_open(&af, path, err) != 0)
    return err->code;
  FILE *file = af.file;
  char cells[SUMMARY_COLUMNS][64];
  int shown[SUMMARY_COLUMNS];
  visible_columns(rows, count, 1, shown);
  fprintf(file, "|");
  for (int c = 0; c < SUMMARY_COLUMNS; c++)
    if (shown[c])
      fprintf(file, " %s |", summary_header[c]);
  fprintf(file, "\n|");
  for (int c = 0; c < SUMMARY_COLUMNS; c++)
    if (shown[c])
      fprintf(file, "%s|", c < COL_BATCH ? "---" : "--:");
  fprintf(file, "\n");
  for (size_t i = 0; i < count; i++) {
    summary_cells(&rows[i], "\xC2\xB1", cells);
    fprintf(file, "|");
    for (int c = 0; c < SUMMARY_COLUMNS; c++)
      if (shown[c])
        fprintf(file, " %s |", cells[c]);
    fprintf(file, "\n");
  }
  if (any_unstable(rows, count))
    fprintf(file, "\n%s\n", CLB_OUTPUT_UNSTABLE_NOTE);
  return clb_atomic_commit(&af, err);
}
