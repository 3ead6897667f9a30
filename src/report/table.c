/* The table model and the formatting of its cells. Numbers are formatted
 * with snprintf under the caller's locale: the report runs under the C
 * numeric locale (clb_report_run). */
#include "report/table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

void clb_report_fmt_time(char *buf, size_t size, double s) {
  if (!isfinite(s))
    snprintf(buf, size, CLB_REPORT_DASH);
  else if (s < 1e-3)
    snprintf(buf, size, "%.3g \xC2\xB5s", s * 1e6);
  else if (s < 1.0)
    snprintf(buf, size, "%.3g ms", s * 1e3);
  else
    snprintf(buf, size, "%.3g s", s);
}

void clb_report_fmt_rate(char *buf, size_t size, double v) {
  if (!isfinite(v))
    snprintf(buf, size, CLB_REPORT_DASH);
  else if (v >= 1e9)
    snprintf(buf, size, "%.3g G", v / 1e9);
  else if (v >= 1e6)
    snprintf(buf, size, "%.3g M", v / 1e6);
  else if (v >= 1e3)
    snprintf(buf, size, "%.3g k", v / 1e3);
  else
    snprintf(buf, size, "%.3g", v);
}

void clb_report_fmt_bytes(char *buf, size_t size, double v) {
  if (!isfinite(v))
    snprintf(buf, size, CLB_REPORT_DASH);
  else if (v >= 1073741824.0)
    snprintf(buf, size, "%.3g GiB", v / 1073741824.0);
  else if (v >= 1048576.0)
    snprintf(buf, size, "%.3g MiB", v / 1048576.0);
  else if (v >= 1024.0)
    snprintf(buf, size, "%.3g KiB", v / 1024.0);
  else
    snprintf(buf, size, "%.0f B", v);
}

void clb_report_fmt_num(char *buf, size_t size, const char *fmt, double v) {
  if (!isfinite(v))
    snprintf(buf, size, CLB_REPORT_DASH);
  else
    snprintf(buf, size, fmt, v);
}

void clb_report_fmt_ratio(char *buf, size_t size, double v) {
  /* Two decimals say 2.50 plainly; tiny ratios keep two significant digits. */
  clb_report_fmt_num(buf, size, v >= 0.1 ? "%.2f" : "%.2g", v);
}

void clb_report_table_init_owned(struct clb_report_table *t, size_t ncols, const char *title,
                                 const char *label, const char *note) {
  *t = (struct clb_report_table){0};
  t->ncols = ncols;
  t->own_title = strdup(title);
  t->own_label = strdup(label);
  t->own_note = note ? strdup(note) : NULL;
  t->own_align = calloc(ncols + 1, 1);
  t->own_headers = calloc(ncols ? ncols : 1, sizeof *t->own_headers);
  t->failed =
      !t->own_title || !t->own_label || (note && !t->own_note) || !t->own_align || !t->own_headers;
  t->title = t->own_title;
  t->label = t->own_label;
  t->note = t->own_note;
  t->align = t->own_align;
  t->headers = (const char *const *)t->own_headers;
}

void clb_report_table_set_column(struct clb_report_table *t, size_t c, const char *header,
                                 char align) {
  if (t->failed)
    return;
  free(t->own_headers[c]);
  t->own_headers[c] = strdup(header);
  t->own_align[c] = align;
  if (!t->own_headers[c])
    t->failed = 1;
}

void clb_report_table_set_note(struct clb_report_table *t, const char *note) {
  if (t->failed)
    return;
  free(t->own_note);
  t->own_note = note ? strdup(note) : NULL;
  t->note = t->own_note;
  if (note && !t->own_note)
    t->failed = 1;
}

void clb_report_table_add(struct clb_report_table *t, char cells[][CLB_REPORT_CELL]) {
  if (t->failed)
    return;
  if (t->nrows == t->cap) {
    char **grown = clb_grow(t->cells, &t->cap, t->nrows + 1, t->ncols * sizeof *grown, 32);
    if (!grown) {
      t->failed = 1;
      return;
    }
    t->cells = grown;
  }
  for (size_t c = 0; c < t->ncols; c++) {
    t->cells[t->nrows * t->ncols + c] = strdup(cells[c]);
    if (!t->cells[t->nrows * t->ncols + c])
      t->failed = 1;
  }
  t->nrows++;
}

void clb_report_table_destroy(struct clb_report_table *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->nrows * t->ncols; i++)
    free(t->cells[i]);
  free(t->cells);
  t->cells = NULL;
  t->nrows = t->cap = 0;
  if (t->own_headers)
    for (size_t c = 0; c < t->ncols; c++)
      free(t->own_headers[c]);
  free(t->own_headers);
  free(t->own_align);
  free(t->own_note);
  free(t->own_label);
  free(t->own_title);
  t->own_headers = NULL;
  t->own_align = t->own_note = t->own_label = t->own_title = NULL;
  t->headers = NULL;
  t->align = t->note = t->label = t->title = NULL;
}

const char *clb_report_table_cell(const struct clb_report_table *t, size_t r, size_t c) {
  return t->cells[r * t->ncols + c];
}
