/* The report's gnuplot plots, around one drawing core (plot.c): a plotter
 * that writes each plot's data files and script into DIR/data, runs gnuplot
 * and renames PNG and SVG into place, plus the pieces every plot script is
 * made of. The plots themselves: plot_results.c (six per model and
 * precision), plot_train.c (loss curves of `clbatch train` CSVs) and
 * plot_study.c (`clbatch study` tables). */
#ifndef CLB_REPORT_PLOT_H
#define CLB_REPORT_PLOT_H

#include <stddef.h>

#include "report/merge.h"
#include "report/note.h"
#include "report/report.h"
#include "results/study_csv.h"
#include "results/train_csv.h"
#include "util/errors.h"
#include "util/sbuf.h"

/* The SVG plots written, in order, for the HTML page to inline. */
struct clb_report_figures {
  char **svg_files; /* malloc'd paths */
  char **titles;    /* malloc'd */
  size_t n;
};

struct clb_report_plotter {
  const struct clb_report_notes *notes; /* "wrote ..." and skipped plots */
  const char *gnuplot;                  /* the command, as the user gave it */
  const char *dir;                      /* output folder */
  char data_dir[4096];                  /* DIR/data: data files, scripts, logs */
  char terminal[16];                    /* pngcairo or png */
  struct clb_report_summary *summary;   /* plots_written, plots_skipped */
  struct clb_report_figures figures;
};

/* 1 when `gnuplot` runs (command -v). */
int clb_report_gnuplot_available(const char *gnuplot);

/* Sets the plotter up to draw into `dir` (DIR/data created) with the best
 * PNG terminal the gnuplot has. Release with clb_report_plotter_destroy. */
int clb_report_plotter_start(struct clb_report_plotter *p, const char *dir, const char *gnuplot,
                             const struct clb_report_notes *notes,
                             struct clb_report_summary *summary, struct clb_error *err);

void clb_report_plotter_destroy(struct clb_report_plotter *p);

/* ---- the drawing core (plot.c) ------------------------------------------ */

#define CLB_REPORT_PLOT_WIDTH 1100
#define CLB_REPORT_PLOT_HEIGHT 720

/* Colour i of the palette (Okabe-Ito first), cycling. */
const char *clb_report_plot_color(size_t i);

/* A gnuplot single-quoted string: only ' needs escaping (as ''). */
void clb_report_gp_quote(struct clb_sbuf *gp, const char *s);

/* Settings every plot shares (missing data, fonts, grid, key, the title). */
void clb_report_gp_preamble(struct clb_sbuf *gp, const char *title);

/* A log2 x axis of batch sizes. */
void clb_report_gp_batch_axis(struct clb_sbuf *gp);

/* One `'DAT' using X:Y STYLE lc rgb 'COLOR' title 'TITLE'` (notitle for NULL). */
void clb_report_gp_series_line(struct clb_sbuf *gp, const char *dat, int using_x, int using_y,
                               const char *color, const char *style, const char *title);

/* One value of a data file: " %.9g", or " ?" (missing) when not finite, or
 * not positive where `positive_only` (log axes). */
void clb_report_dat_value(struct clb_sbuf *sb, double v, int positive_only);

/* Runs a script body that draws NAME.png and NAME.svg (`height` pixels
 * tall), each written as NAME.EXT.tmp and renamed when gnuplot succeeded;
 * the SVG joins the figures under `title`. A failure names gnuplot's last
 * line of output. */
int clb_report_plot_run(struct clb_report_plotter *p, const char *name, const char *title,
                        const struct clb_sbuf *body, int height, struct clb_error *err);

/* ---- the plots ------------------------------------------------------------ */

/* Per (model, precision): throughput, step time, epoch time, gradient
 * variance, device memory and % of peak vs batch size (plot_results.c). */
int clb_report_plot_results(struct clb_report_plotter *p, const struct clb_report_merged *merged,
                            const struct clb_report_series *list, size_t n, struct clb_error *err);

/* Training loss vs epoch and vs wall time per (model, precision), one line
 * per device and batch size (plot_train.c). */
struct clb_report_train {
  struct clb_train_csv_row *rows; /* sorted: model, precision, device, batch, epoch */
  size_t count;
};

/* Reads `clbatch train` CSVs (results/train_csv.h) and sorts their rows. */
int clb_report_train_read(const char *const *files, size_t n_files, struct clb_report_train *out,
                          struct clb_error *err);
void clb_report_train_destroy(struct clb_report_train *train);
int clb_report_plot_training(struct clb_report_plotter *p, const struct clb_report_train *train,
                             struct clb_error *err);

/* One study table per file (plot_study.c). */
struct clb_report_study {
  char label[3 * CLB_CSV_STR_SIZE + 8]; /* "MODEL PRECISION (DEVICE)" of the first row */
  struct clb_study_csv_row *rows;
  size_t count;
};

/* Reads a `clbatch study` CSV (results/study_csv.h): at least one row, every
 * effective_batch above 0. On failure study->rows is NULL. */
int clb_report_study_read(const char *path, struct clb_report_study *study, struct clb_error *err);

/* Validation loss, sharpness and updates to the target (with the noise-scale
 * prediction) vs batch size, one series per study. */
int clb_report_plot_study(struct clb_report_plotter *p, const struct clb_report_study *list,
                          size_t n, struct clb_error *err);

#endif
