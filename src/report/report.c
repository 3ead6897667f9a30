/* `clbatch report`: the orchestration. Everything is read before anything
 * is written (a bad input leaves no output); then merged.csv, the tables
 * (report.md, report.tex), the plots and last the HTML page, which inlines
 * the SVG plots.
 *
 * The parts, lowest first: merge.c (results read, merged, cut into series),
 * agreement.c (how far runs of one configuration agree), table.c (the
 * table model) and sections.c (the report's tables),
 * markdown.c / latex.c / html.c (one document format each), plot.c (the
 * gnuplot core) with plot_results.c, plot_train.c and plot_study.c. Every
 * output goes to NAME.tmp first and is renamed into place, so a report file
 * that exists is complete, even if the command is killed. */
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>

#include "report/agreement.h"
#include "report/merge.h"
#include "report/note.h"
#include "report/plot.h"
#include "report/render.h"
#include "report/sections.h"
#include "util/csv.h"
#include "util/files.h"

/* DIR/NAME into `path` (4 KiB). */
static int out_path(char *path, size_t size, const char *dir, const char *name,
                    struct clb_error *err) {
  if ((size_t)snprintf(path, size, "%s/%s", dir, name) >= size)
    return clb_failf(err, CLB_E_INVAL, "path too long: %s/%s", dir, name);
  return CLB_OK;
}

/* The documents, in the order a reader of the folder meets them. */
static int write_documents(const char *dir, const struct clb_report_page *page,
                           struct clb_error *err) {
  char path[4096];
  int rc = CLB_OK;
  CLB_TRY(out_path(path, sizeof path, dir, "report.md", err));
  CLB_TRY(clb_report_write_markdown(path, page, err));
  CLB_TRY(out_path(path, sizeof path, dir, "report.tex", err));
  CLB_TRY(clb_report_write_latex(path, page, err));
cleanup:
  return rc;
}

static int report_run(const struct clb_report_options *opt, struct clb_report_summary *summary,
                      struct clb_error *err) {
  const char *dir = opt->out_dir ? opt->out_dir : "report";
  const char *gnuplot = opt->gnuplot ? opt->gnuplot : "gnuplot";
  const struct clb_report_notes notes = {opt->note, opt->note_context};
  struct clb_report_merged merged = {0};
  struct clb_report_series *list = NULL;
  size_t n_series = 0;
  struct clb_report_train train = {0};
  struct clb_report_agreement agreement = {0};
  struct clb_report_tables tables = {0};
  struct clb_report_plotter plotter = {0};
  struct clb_report_page page = {.merged = &merged, .tables = &tables};
  char path[4096];
  int rc = CLB_OK;

  if (opt->n_inputs == 0) {
    summary->bad_input = 1;
    return clb_failf(err, CLB_E_INVAL, "no results files given");
  }
  /* Read everything before writing anything: a bad input leaves no output. */
  CLB_TRY(clb_report_merge(opt->inputs, opt->n_inputs, &notes, &merged, summary, err));
  rc = clb_report_train_read(opt->train, opt->n_train, &train, err);
  if (rc != CLB_OK) {
    summary->bad_input = 1;
    goto cleanup;
  }
  CLB_TRY(clb_report_series_build(&merged, &list, &n_series, err));
  CLB_TRY(clb_report_agreement_build(&merged, &agreement, err));

  CLB_TRY(clb_mkdir_p(dir, err));
  CLB_TRY(out_path(path, sizeof path, dir, "merged.csv", err));
  CLB_TRY(clb_report_merged_write_csv(&merged, path, err));
  CLB_TRY(clb_report_tables_build(&merged, list, n_series, &agreement, &notes, &tables, err));
  CLB_TRY(write_documents(dir, &page, err));

  if (!clb_report_gnuplot_available(gnuplot)) {
    page.plots_missing = summary->gnuplot_missing = 1;
    clb_report_note(&notes, CLB_REPORT_NO_GNUPLOT);
  } else {
    CLB_TRY(clb_report_plotter_start(&plotter, dir, gnuplot, &notes, summary, err));
    CLB_TRY(clb_report_plot_results(&plotter, &merged, list, n_series, err));
    if (train.count)
      CLB_TRY(clb_report_plot_training(&plotter, &train, err));
    page.figures = &plotter.figures;
  }
  CLB_TRY(out_path(path, sizeof path, dir, "report.html", err));
  CLB_TRY(clb_report_write_html(path, &page, err));

cleanup:
  clb_report_plotter_destroy(&plotter);
  clb_report_tables_destroy(&tables);
  clb_report_agreement_destroy(&agreement);
  clb_report_train_destroy(&train);
  free(list);
  clb_report_merged_destroy(&merged);
  return rc;
}

int clb_report_run(const struct clb_report_options *options, struct clb_report_summary *summary,
                   struct clb_error *err) {
  struct clb_report_summary local = {0};
  if (!summary)
    summary = &local;
  *summary = (struct clb_report_summary){0};
  /* Numbers in data files, scripts and tables must use '.', whatever the
   * caller's locale: run the whole report under the C numeric locale. */
  struct clb_c_numeric numeric;
  clb_c_numeric_enter(&numeric);
  int rc = report_run(options, summary, err);
  clb_c_numeric_leave(&numeric);
  return rc;
}

/* Reads every study table before anything is written, so a bad one leaves
 * no output; `list` has n_files entries, released by study_list_free. */
static int read_studies(const char *const *files, size_t n_files, struct clb_report_study *list,
                        struct clb_error *err) {
  for (size_t f = 0; f < n_files; f++) {
    int rc = clb_report_study_read(files[f], &list[f], err);
    if (rc != CLB_OK)
      return rc;
  }
  return CLB_OK;
}

static void study_list_free(struct clb_report_study *list, size_t n) {
  for (size_t f = 0; list && f < n; f++)
    free(list[f].rows);
  free(list);
}

static int report_study(const char *const *files, size_t n_files, const char *dir,
                        const char *gnuplot, const struct clb_report_notes *notes,
                        struct clb_report_summary *summary, struct clb_error *err) {
  struct clb_report_plotter plotter = {0};
  struct clb_report_study *list = calloc(n_files ? n_files : 1, sizeof *list);
  int rc = CLB_OK;
  if (!list)
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  rc = read_studies(files, n_files, list, err);
  if (rc != CLB_OK) {
    summary->bad_input = 1;
    goto cleanup;
  }
  if (!clb_report_gnuplot_available(gnuplot)) {
    summary->gnuplot_missing = 1;
    clb_report_note(notes, CLB_REPORT_NO_GNUPLOT);
    goto cleanup;
  }
  CLB_TRY(clb_report_plotter_start(&plotter, dir, gnuplot, notes, summary, err));
  CLB_TRY(clb_report_plot_study(&plotter, list, n_files, err));
cleanup:
  clb_report_plotter_destroy(&plotter);
  study_list_free(list, n_files);
  return rc;
}

int clb_report_study(const char *const *files, size_t n_files, const char *out_dir,
                     const char *gnuplot, clb_report_note_fn note_fn, void *note_context,
                     struct clb_report_summary *summary, struct clb_error *err) {
  struct clb_report_summary local = {0};
  const struct clb_report_notes notes = {note_fn, note_context};
  if (!summary)
    summary = &local;
  struct clb_c_numeric numeric;
  clb_c_numeric_enter(&numeric);
  int rc = report_study(files, n_files, out_dir ? out_dir : "report", gnuplot ? gnuplot : "gnuplot",
                        &notes, summary, err);
  clb_c_numeric_leave(&numeric);
  return rc;
}
