/* The report's documents, one output format per file around the shared
 * table model (report/table.h): markdown.c writes report.md, latex.c
 * report.tex (booktabs) and html.c report.html (self-contained: the SVG
 * plots inline). Each composes the whole document in memory and writes it
 * atomically, so a document that exists is complete. */
#ifndef CLB_REPORT_RENDER_H
#define CLB_REPORT_RENDER_H

#include <stddef.h>

#include "report/merge.h"
#include "report/plot.h"
#include "report/sections.h"
#include "util/errors.h"

/* What a document shows. */
struct clb_report_page {
  const struct clb_report_merged *merged; /* with the inputs, as given */
  const struct clb_report_tables *tables;
  const struct clb_report_figures *figures; /* SVG plots to inline (HTML); may be NULL */
  int plots_missing;                        /* gnuplot absent: the HTML page says so */
};

int clb_report_write_markdown(const char *path, const struct clb_report_page *page,
                              struct clb_error *err);
int clb_report_write_latex(const char *path, const struct clb_report_page *page,
                           struct clb_error *err);
int clb_report_write_html(const char *path, const struct clb_report_page *page,
                          struct clb_error *err);

#endif
