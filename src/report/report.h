/* `clbatch report`: merges results CSVs from many runs and hosts, writes
 * merged.csv, Markdown / LaTeX / HTML tables and gnuplot plots into a folder.
 *
 * Library code: it prints nothing. Informational lines (duplicates resolved,
 * truncated lines dropped, plots skipped, gnuplot missing) go to the `note`
 * callback; failures come back as a status code and a struct clb_error. */
#ifndef CLB_REPORT_REPORT_H
#define CLB_REPORT_REPORT_H

#include <stddef.h>

#include "util/errors.h"

/* Receives one human-readable line (no trailing newline). */
typedef void (*clb_report_note_fn)(void *context, const char *line);

struct clb_report_options {
  const char *const *inputs; /* results CSVs (schema of results.h) */
  size_t n_inputs;
  const char *const *train; /* `clbatch train` CSVs for the loss curves; may be NULL */
  size_t n_train;
  const char *out_dir;      /* NULL means "report" */
  const char *gnuplot;      /* gnuplot command; NULL means "gnuplot" */
  clb_report_note_fn note;  /* may be NULL */
  void *note_context;
};

struct clb_report_summary {
  size_t rows_read;      /* rows in all inputs together */
  size_t inputs_skipped; /* recommendation and passes files among the inputs: not results */
  size_t rows_merged;    /* rows after duplicates were resolved */
  size_t duplicates;     /* rows dropped because another row had the same key and repeat */
  size_t repeats;        /* earlier repeats: in the agreement section, not in the tables */
  size_t plots_written;  /* PNG+SVG pairs */
  size_t plots_skipped;  /* plots with no data */
  int gnuplot_missing;   /* 1 when no plots were made because gnuplot is absent */
  int bad_input;         /* 1 when the failure was in an input file (not in writing) */
};

/* After "N rows from M file(s)": the inputs that were not results (a printf
 * format of one size_t), worded alike in the terminal and the documents. */
#define CLB_REPORT_SKIPPED_FORMAT " (%zu recommendation or passes file(s) skipped)"

/* The note printed when gnuplot is absent (the tables are still written). */
#define CLB_REPORT_NO_GNUPLOT                                                               \
  "gnuplot not found: install gnuplot-nox (apt-get install gnuplot-nox) for the plots"

/* Reads, merges and writes everything. Each output file is written to NAME.tmp
 * and renamed into place, so a file that exists is complete. */
int clb_report_run(const struct clb_report_options *options, struct clb_report_summary *summary,
                   struct clb_error *err);

/* `clbatch report --study FILE.csv`: plots of `clbatch study` (or `train
 * --validate-noise`) tables into out_dir (NULL: "report"): validation loss vs
 * batch (study_val_loss), sharpness vs batch (study_sharpness) and updates to
 * the target vs batch with the noise-scale prediction as a line
 * (study_time_to_target), each PNG + SVG; one series per file. Without
 * gnuplot, a note (CLB_REPORT_NO_GNUPLOT) and summary->gnuplot_missing. */
int clb_report_study(const char *const *files, size_t n_files, const char *out_dir,
                     const char *gnuplot, clb_report_note_fn note, void *note_context,
                     struct clb_report_summary *summary, struct clb_error *err);

#endif
