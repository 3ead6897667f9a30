/* The report's table model, shared by the Markdown, LaTeX and HTML renderers
 * (report/render.h): a title, a note, column headers and alignment, and rows
 * of formatted cells. Also the cell formatting every table uses: times with
 * their unit, rates and bytes with a prefix, and an em dash for "not
 * measured". */
#ifndef CLB_REPORT_TABLE_H
#define CLB_REPORT_TABLE_H

#include <stddef.h>

#include "results/results.h"

/* A cell holds at most two CSV string fields: a device and its platform. */
#define CLB_REPORT_CELL (2 * CLB_STR_FIELD_SIZE + 8)
#define CLB_REPORT_DASH "\xE2\x80\x94" /* an em dash: "not measured" in every table */

struct clb_report_table {
  const char *title;
  const char *label; /* LaTeX label */
  size_t ncols;
  const char *const *headers;
  const char *align; /* one 'l' or 'r' per column */
  char **cells;      /* nrows * ncols strings */
  size_t nrows, cap;
  int failed;       /* out of memory once: rows are no longer added */
  const char *note; /* a sentence between the title and the table; may be NULL */
  /* A table whose columns depend on the data (clb_report_table_init_owned)
   * owns its texts, and title, label, note, headers and align point into
   * these; clb_report_table_destroy releases them. They stay NULL in a table of
   * static texts. */
  char *own_title, *own_label, *own_note, *own_align;
  char **own_headers; /* ncols strings */
};

/* Starts an empty table of `ncols` columns that owns its texts; the caller
 * names each column with clb_report_table_set_column. Out of memory sets
 * t->failed, and clb_report_table_destroy is safe either way. */
void clb_report_table_init_owned(struct clb_report_table *t, size_t ncols, const char *title,
                                 const char *label, const char *note);

/* Names column c and aligns it ('l' or 'r') in a table that owns its texts. */
void clb_report_table_set_column(struct clb_report_table *t, size_t c, const char *header,
                                 char align);

/* Replaces the table's note with a copy the table owns (NULL: none), for a
 * note that depends on the rows added. */
void clb_report_table_set_note(struct clb_report_table *t, const char *note);

/* Appends a row of ncols cells (copied). */
void clb_report_table_add(struct clb_report_table *t, char cells[][CLB_REPORT_CELL]);

/* Releases the rows and any owned texts; a table of static texts keeps them. */
void clb_report_table_destroy(struct clb_report_table *t);

const char *clb_report_table_cell(const struct clb_report_table *t, size_t r, size_t c);

/* Cell texts; a non-finite value is CLB_REPORT_DASH. */
void clb_report_fmt_time(char *buf, size_t size, double seconds); /* 42.5 µs, 3.1 ms, 2 s */
void clb_report_fmt_rate(char *buf, size_t size, double v);       /* 1.5 M, 320 k */
void clb_report_fmt_bytes(char *buf, size_t size, double v);      /* 1.5 GiB, 512 B */
void clb_report_fmt_num(char *buf, size_t size, const char *fmt, double v);
void clb_report_fmt_ratio(char *buf, size_t size, double v); /* 2.50, 0.045 */

#endif
