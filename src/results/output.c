#include "results/output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/files.h"

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

/* The cells shared by the text and Markdown tables. */
#define SUMMARY_COLUMNS 11
static const char *const summary_header[SUMMARY_COLUMNS] = {
    "device", "model", "prec", "B", "step", "wall/step", "samples/s", "GFLOP/s",
    "% peak", "device MiB", "var ratio"};

static void summary_cells(const struct clb_row *row, char cells[SUMMARY_COLUMNS][64]) {
  snprintf(cells[0], 64, "%.40s", row->device);
  snprintf(cells[1], 64, "%.63s", row->model);
  snprintf(cells[2], 64, "%.63s", row->precision);
  snprintf(cells[3], 64, "%.0f", row->batch);
  if (strcmp(row->status, "ok") != 0) {
    snprintf(cells[4], 64, "%.63s", row->status);
    for (int c = 5; c < SUMMARY_COLUMNS; c++)
      snprintf(cells[c], 64, "-");
    return;
  }
  format_seconds(row->step_s_median, cells[4], 64);
  format_seconds(row->wall_step_s, cells[5], 64);
  format_number(row->samples_per_s, "%.4g", cells[6], 64);
  format_number(row->gflops, "%.3g", cells[7], 64);
  format_number(row->pct_peak_flops, "%.1f", cells[8], 64);
  format_number(row->device_bytes / (1024.0 * 1024.0), "%.1f", cells[9], 64);
  format_number(row->var_ratio, "%.3f", cells[10], 64);
}

void clb_output_summary(FILE *out, const struct clb_row *rows, size_t count) {
  static const int widths[SUMMARY_COLUMNS] = {-28, -8, -5, 7, 10, 10, 10, 8, 7, 10, 9};
  /* A row that did not run has no numbers; the columns after its status say
   * why instead (its first line, cut to fit), since a skipped row counts as
   * no failure and nothing else on the screen gives the reason. */
  enum { REASON_FROM = 5 };
  int reason_width = 0;
  for (int c = REASON_FROM; c < SUMMARY_COLUMNS; c++)
    reason_width += abs(widths[c]) + (c > REASON_FROM);
  char cells[SUMMARY_COLUMNS][64];
  for (int c = 0; c < SUMMARY_COLUMNS; c++)
    fprintf(out, "%*s%s", widths[c], summary_header[c], c + 1 < SUMMARY_COLUMNS ? " " : "\n");
  for (size_t i = 0; i < count; i++) {
    const struct clb_row *row = &rows[i];
    summary_cells(row, cells);
    int reason = strcmp(row->status, "ok") != 0 && row->message[0];
    for (int c = 0; c < SUMMARY_COLUMNS; c++) {
      if (reason && c == REASON_FROM) {
        int len = (int)strcspn(row->message, "\r\n");
        fprintf(out, "%-*.*s\n", reason_width, len < reason_width ? len : reason_width,
                row->message);
        break;
      }
      fprintf(out, "%*.*s%s", widths[c], abs(widths[c]), cells[c],
              c + 1 < SUMMARY_COLUMNS ? " " : "\n");
    }
  }
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
  fprintf(file, "|");
  for (int c = 0; c < SUMMARY_COLUMNS; c++)
    fprintf(file, " %s |", summary_header[c]);
  fprintf(file, "\n|");
  for (int c = 0; c < SUMMARY_COLUMNS; c++)
    fprintf(file, "%s|", c < 3 ? "---" : "--:");
  fprintf(file, "\n");
  for (size_t i = 0; i < count; i++) {
    summary_cells(&rows[i], cells);
    fprintf(file, "|");
    for (int c = 0; c < SUMMARY_COLUMNS; c++)
      fprintf(file, " %s |", cells[c]);
    fprintf(file, "\n");
  }
  return clb_atomic_commit(&af, err);
}
