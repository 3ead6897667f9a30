/* The tables of a report, built from the merged rows and their series:
 * the device comparison (one row per series, with the recommended batch
 * size), step time side by side (one table per host with two or more
 * devices) and every configuration (one row per merged row). The renderers
 * (report/render.h) turn them into Markdown, LaTeX and HTML. */
#ifndef CLB_REPORT_SECTIONS_H
#define CLB_REPORT_SECTIONS_H

#include <stddef.h>

#include "report/merge.h"
#include "report/note.h"
#include "report/table.h"
#include "util/errors.h"

struct clb_report_tables {
  struct clb_report_table compare; /* "Device comparison" */
  struct clb_report_table *sides;  /* "Step time side by side (HOST)", in host order */
  size_t n_sides;
  struct clb_report_table config; /* "Every configuration" */
};

/* Builds every table; a host whose devices share no batch size measured ok
 * gets no side-by-side table, and a note says so. *tables starts as {0};
 * release it with clb_report_tables_destroy, also after a failure. */
int clb_report_tables_build(const struct clb_report_merged *merged,
                            const struct clb_report_series *list, size_t n_series,
                            const struct clb_report_notes *notes, struct clb_report_tables *tables,
                            struct clb_error *err);

void clb_report_tables_destroy(struct clb_report_tables *tables);

#endif
