/* The tables of a report, built from the merged rows and their series:
 * the sources (one row per input file: hosts, devices, rows, when, and how
 * to repeat it), the device comparison (one row per series, with the recommended batch
 * size), step time side by side (one table per host with two or more
 * devices, and one of all hosts when there are several), the agreement between runs (one table per device whose
 * configurations were measured more than once) and every configuration (one
 * row per merged row). The renderers (report/render.h) turn them into
 * Markdown, LaTeX and HTML. */
#ifndef CLB_REPORT_SECTIONS_H
#define CLB_REPORT_SECTIONS_H

#include <stddef.h>

#include "report/agreement.h"
#include "report/merge.h"
#include "report/note.h"
#include "report/table.h"
#include "util/errors.h"

struct clb_report_tables {
  struct clb_report_table sources; /* "Sources": one row per input file */
  struct clb_report_table compare; /* "Device comparison" */
  struct clb_report_table *sides;  /* "Step time side by side (HOST)", in host order */
  size_t n_sides;
  struct clb_report_table *agreement; /* one per device, titled "DEVICE (PLATFORM) on HOST" */
  size_t n_agreement;                  /* 0: no configuration was measured twice */
  struct clb_report_table config;      /* "Every configuration" */
};

/* The agreement tables' section: its heading and what its columns mean. */
#define CLB_REPORT_AGREEMENT_TITLE "Agreement between runs"
#define CLB_REPORT_AGREEMENT_INTRO                                                          \
  "Configurations measured ok more than once: the repeats of clbatch run --repeat R and " \
  "the same configuration in several result files (the other tables show one run of "     \
  "each). median step: the median of the runs' median step times. spread: slowest / "     \
  "fastest - 1; runs agree within \xC2\xB1" "5 % when it is at most 5 %. intervals cover: "  \
  "pairs of runs whose 95 % intervals of the median each contain the other run's median; "  \
  "a run without an interval (a schema 1 file) covers nothing. unstable: runs flagged "    \
  "unstable (results/SCHEMA.md, stable). host slowdown: the lowest and highest of the "     \
  "runs' host_slowdown, how much longer than usual the reference step took on the host "    \
  "while they ran (empty before schema 4 or without a speed history)."

/* Builds every table; a host whose devices share no batch size measured ok
 * gets no side-by-side table, and a note says so. `agreement` is
 * report/agreement.h's, from the same merged rows. *tables starts as {0};
 * release it with clb_report_tables_destroy, also after a failure. */
int clb_report_tables_build(const struct clb_report_merged *merged,
                            const struct clb_report_series *list, size_t n_series,
                            const struct clb_report_agreement *agreement,
                            const struct clb_report_notes *notes, struct clb_report_tables *tables,
                            struct clb_error *err);

void clb_report_tables_destroy(struct clb_report_tables *tables);

#endif
