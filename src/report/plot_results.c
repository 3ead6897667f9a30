/* The report's six plots per (model, precision): throughput, step time,
 * epoch time, gradient variance, device memory and % of peak vs batch size,
 * one line per series. A device keeps its colour and marker shape in every
 * plot; the legend sits below the plot and grows the canvas, not the plot. */
#include "report/plot.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/table.h"
#include "util/text.h"

/* Columns of the per-series data files, 1-based as gnuplot counts them. */
enum {
  DAT_BATCH = 1,
  DAT_SAMPLES,
  DAT_STEP,
  DAT_WALL,
  DAT_EPOCH,
  DAT_VAR,
  DAT_VAR_LO,
  DAT_VAR_HI,
  DAT_VAR_PRED,
  DAT_BYTES,
  DAT_GLOBAL,
  DAT_PCT_FLOPS,
  DAT_PCT_BW,
  DAT_STEP_LO,
  DAT_STEP_HI,
  DAT_FLOOR
};

static int write_series_data(const struct clb_report_merged *m, const struct clb_report_series *s,
                             const char *path, const char *knee_path, struct clb_error *err) {
  struct clb_sbuf dat = {0}, knee = {0};
  int rc = CLB_OK;
  clb_sbuf_puts(&dat, "# batch samples_per_s step_s_median wall_step_s epoch_s var_measured "
                      "var_ci_low var_ci_high var_predicted device_bytes global_mem_bytes "
                      "pct_peak_flops pct_peak_bw step_s_ci_low step_s_ci_high launch_floor_s\n");
  for (size_t k = 0; k < s->count; k++) {
    const struct clb_row *r = &m->rows[s->first + k];
    if (!clb_report_row_ok(r) || !isfinite(r->batch))
      continue;
    clb_sbuf_printf(&dat, "%.0f", r->batch);
    clb_report_dat_value(&dat, r->samples_per_s, 1);
    clb_report_dat_value(&dat, r->step_s_median, 1);
    clb_report_dat_value(&dat, r->wall_step_s, 1);
    clb_report_dat_value(&dat, r->epoch_s, 1);
    clb_report_dat_value(&dat, r->var_measured, 1);
    clb_report_dat_value(&dat, r->var_ci_low, 1);
    clb_report_dat_value(&dat, r->var_ci_high, 1);
    clb_report_dat_value(&dat, r->var_predicted, 1);
    clb_report_dat_value(&dat, r->device_bytes, 1);
    clb_report_dat_value(&dat, r->global_mem_bytes, 1);
    clb_report_dat_value(&dat, r->pct_peak_flops, 0);
    clb_report_dat_value(&dat, r->pct_peak_bw, 0);
    clb_report_dat_value(&dat, r->step_s_ci_low, 1);
    clb_report_dat_value(&dat, r->step_s_ci_high, 1);
    clb_report_dat_value(&dat, r->launch_floor_s, 1);
    clb_sbuf_puts(&dat, "\n");
  }
  clb_sbuf_puts(&knee,
                "# batch samples_per_s at the knee (smallest B reaching 90 % of the best)\n");
  const struct clb_row *at_knee =
      s->rec.knee_batch ? clb_report_row_at_batch(m, s, s->rec.knee_batch) : NULL;
  if (at_knee && isfinite(at_knee->samples_per_s))
    clb_sbuf_printf(&knee, "%.0f %.9g\n", at_knee->batch, at_knee->samples_per_s);
  CLB_TRY(clb_sbuf_write_atomic(&dat, path, err));
  CLB_TRY(clb_sbuf_write_atomic(&knee, knee_path, err));
cleanup:
  clb_sbuf_destroy(&knee);
  clb_sbuf_destroy(&dat);
  return rc;
}

/* One (model, precision) group of series and what its plots need to know. */
struct group {
  const char *model, *precision;
  size_t *members; /* indices into the series list */
  size_t n;
  char (*dat)[4200];
  char (*knee)[4200];
  char shape[256]; /* "N=16384, D=784, C=10" when the group has one shape */
  int step_bars;   /* the step-time plot draws each device's 95 % intervals */
  int floors;      /* and some device's launch floor (schema 5 rows) */
  int bars_of_passes; /* some of them are of --passes rows: the mean of the passes' medians */
};

/* Whether an ok row of the series has a positive value in the column. */
static int series_has(const struct clb_report_merged *m, const struct clb_report_series *s,
                      size_t offset_of_column) {
  for (size_t k = 0; k < s->count; k++) {
    const struct clb_row *r = &m->rows[s->first + k];
    double v = *(const double *)(const void *)((const char *)r + offset_of_column);
    if (clb_report_row_ok(r) && isfinite(v) && v > 0)
      return 1;
  }
  return 0;
}

static int group_has(const struct clb_report_merged *m, const struct clb_report_series *list,
                     const struct group *g, size_t offset_of_column) {
  for (size_t i = 0; i < g->n; i++)
    if (series_has(m, &list[g->members[i]], offset_of_column))
      return 1;
  return 0;
}

/* Whether a series has a row with an interval; with `of_passes`, one whose
 * interval is of several passes (`clbatch run --passes`). */
static int series_interval(const struct clb_report_merged *m, const struct clb_report_series *s,
                           int of_passes) {
  for (size_t k = 0; k < s->count; k++) {
    const struct clb_row *r = &m->rows[s->first + k];
    if (clb_report_row_ok(r) && isfinite(r->step_s_ci_low) && isfinite(r->step_s_ci_high) &&
        (!of_passes || r->passes > 1))
      return 1;
  }
  return 0;
}

static int series_has_interval(const struct clb_report_merged *m,
                               const struct clb_report_series *s) {
  return series_interval(m, s, 0);
}

static int group_has_pass_intervals(const struct clb_report_merged *m,
                                    const struct clb_report_series *list, const struct group *g) {
  for (size_t i = 0; i < g->n; i++)
    if (series_interval(m, &list[g->members[i]], 1))
      return 1;
  return 0;
}

/* Error bars on the step times only when each device has one line: with
 * data on the device and on the host side by side, two sets of bars at the
 * same B would clutter more than they tell. And only where some row has an
 * interval (none before schema 2). */
static int wants_step_bars(const struct clb_report_merged *m, const struct clb_report_series *list,
                           const struct group *g) {
  int any_interval = 0;
  for (size_t i = 0; i < g->n; i++) {
    const struct clb_report_series *s = &list[g->members[i]];
    for (size_t j = 0; j < i; j++)
      if (list[g->members[j]].device_id == s->device_id)
        return 0;
    any_interval |= series_has_interval(m, s);
  }
  return any_interval;
}

static void describe_shape(const struct clb_report_merged *m, const struct clb_report_series *list,
                           struct group *g) {
  const struct clb_row *r0 = &m->rows[list[g->members[0]].first];
  for (size_t i = 0; i < g->n; i++) {
    const struct clb_report_series *s = &list[g->members[i]];
    for (size_t k = 0; k < s->count; k++) {
      const struct clb_row *r = &m->rows[s->first + k];
      if (clb_report_cmp_double(r->n_samples, r0->n_samples) ||
          clb_report_cmp_double(r->n_features, r0->n_features) ||
          clb_report_cmp_double(r->n_hidden, r0->n_hidden) ||
          clb_report_cmp_double(r->n_classes, r0->n_classes)) {
        g->shape[0] = '\0'; /* several shapes: the tables tell them apart */
        return;
      }
    }
  }
  if (r0->n_hidden > 0)
    snprintf(g->shape, sizeof g->shape, ", N=%.0f, D=%.0f, H=%.0f, C=%.0f", r0->n_samples,
             r0->n_features, r0->n_hidden, r0->n_classes);
  else
    snprintf(g->shape, sizeof g->shape, ", N=%.0f, D=%.0f, C=%.0f", r0->n_samples, r0->n_features,
             r0->n_classes);
}

/* Marker shapes in filled/open pairs. A device keeps its shape in every plot,
 * beside its colour, so series that coincide (two vendors measuring the same
 * gradient variance) still show as two. */
static const int FILLED_POINT[] = {7, 5, 9, 13, 11};
static const int OPEN_POINT[] = {6, 4, 8, 12, 10};
#define N_SHAPES (sizeof FILLED_POINT / sizeof FILLED_POINT[0])
#define STYLE_GREY "#444444" /* legend entries that explain line styles, not devices */

struct look {
  const char *color;
  int filled, open; /* gnuplot point types */
};

static struct look series_look(const struct clb_report_merged *m,
                               const struct clb_report_series *s) {
  const struct clb_row *r0 = &m->rows[s->first];
  /* Data streamed from the host: the device's colour, another shape. */
  size_t shape = (s->device_id + (strcmp(r0->data_on, "host") == 0 ? 2 : 0)) % N_SHAPES;
  return (struct look){clb_report_plot_color(s->device_id), FILLED_POINT[shape], OPEN_POINT[shape]};
}

enum { THROUGHPUT, STEP, EPOCH, VARIANCE, MEMORY, PEAK, N_PLOTS };

/* The grey legend entries of each plot: what its line styles mean. Devices
 * get one legend entry each (their main line), so the legend grows by one
 * line per two devices instead of two lines per device. */
struct style_key {
  const char *style, *text;
};
#define MAX_STYLE_KEYS 3
static const struct style_key STYLE_KEYS[N_PLOTS][MAX_STYLE_KEYS] = {
    [THROUGHPUT] = {{"with points pt 6 ps 2.5 lw 2", "ring: knee, smallest B at 90% of the best"}},
    [STEP] = {{"with linespoints lw 2 pt 7 ps 0.9 dt 1", "solid, filled: device time"},
              {"with linespoints lw 2 pt 6 ps 0.9 dt 2", "dashed, open: wall time"},
              {"with lines lw 1.5 dt 3", "dotted: launch floor (kernels x launch cost)"}},
    [VARIANCE] = {{"with yerrorbars pt 7 ps 0.9 lw 1.5", "measured, 95% CI; devices side by side"},
                  {"with lines lw 2", "predicted sigma2/B (N-B)/(N-1)"}},
    [MEMORY] = {{"with linespoints lw 2 pt 7 ps 0.9", "solid: step buffers; devices side by side"},
                {"with lines lw 2 dt 3", "dotted: device global memory"}},
    [PEAK] = {{"with linespoints lw 2 pt 7 ps 0.9 dt 1", "solid, filled: % of peak FLOP/s"},
              {"with linespoints lw 2 pt 6 ps 0.9 dt 2", "dashed, open: % of peak bandwidth"}},
};

#define STEP_KEY_WITH_BARS "solid, filled: device time; bars: 95% CI of the median"
#define STEP_KEY_WITH_PASS_BARS                                                                    \
  "solid, filled: device time; bars: 95% CI of the passes' mean, with the host's spread"

#define KEY_ROWS_IN_HEIGHT 3 /* legend rows CLB_REPORT_PLOT_HEIGHT has room for */
#define KEY_ROW_PX 24

/* Below the plot in two columns, read down the first, then the second (the
 * devices, then the grey style entries), a little space under the x label;
 * one column when a title is too long for half the width (gnuplot would
 * clip it at the canvas edge). The canvas grows by the rows past
 * KEY_ROWS_IN_HEIGHT, so many devices do not squeeze the plot itself.
 * Returns the canvas height. */
#define KEY_TWO_COLUMN_CHARS 52 /* the longest title two columns hold at 1100 px */
static int gp_key_below(struct clb_sbuf *gp, size_t entries, size_t widest_title) {
  size_t columns = widest_title > KEY_TWO_COLUMN_CHARS ? 1 : 2;
  size_t rows = entries > 0 ? (entries + columns - 1) / columns : 1;
  clb_sbuf_printf(gp,
                  "set key outside below center vertical Left reverse maxrows %zu maxcols %zu "
                  "spacing 1.15 samplen 3 width 1 height 1\n",
                  rows, columns);
  return CLB_REPORT_PLOT_HEIGHT +
         (int)(rows > KEY_ROWS_IN_HEIGHT ? rows - KEY_ROWS_IN_HEIGHT : 0) * KEY_ROW_PX;
}

static void gp_next(struct clb_sbuf *gp, int *first) {
  if (!*first)
    clb_sbuf_puts(gp, ", \\\n     ");
  *first = 0;
}

static void gp_keyentry(struct clb_sbuf *gp, int *first, const char *style, const char *color,
                        const char *title) {
  gp_next(gp, first);
  clb_sbuf_printf(gp, "keyentry %s lc rgb '%s' title ", style, color);
  clb_report_gp_quote(gp, title);
}

static size_t ok_rows_of(const struct clb_report_merged *m, const struct clb_report_series *s) {
  size_t n = 0;
  for (size_t k = 0; k < s->count; k++)
    n += clb_report_row_ok(&m->rows[s->first + k]);
  return n;
}

/* One device's lines in one plot; the first carries the legend entry. */
static void gp_device_lines(struct clb_sbuf *gp, int *first, int plot,
                            const struct clb_report_merged *m, const struct group *g, size_t i,
                            const struct clb_report_series *s, struct look look, double dodge) {
  char style[96];
  switch (plot) {
  case THROUGHPUT:
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9", look.filled);
    clb_report_gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_SAMPLES, look.color, style, s->label);
    gp_next(gp, first);
    clb_report_gp_series_line(gp, g->knee[i], 1, 2, look.color, "with points pt 6 ps 3.5 lw 2",
                              NULL);
    break;
  case STEP:
    /* The bars first: gnuplot clears a disc around each error bar's point,
     * which the device-time line and its filled markers then draw over. A
     * row without an interval has '?' there and gnuplot skips it; a series
     * without any is left out, or gnuplot would warn of no valid points. */
    if (g->step_bars && series_has_interval(m, s)) {
      gp_next(gp, first);
      clb_report_gp_quote(gp, g->dat[i]);
      clb_sbuf_printf(gp, " using %d:%d:%d:%d with yerrorbars ps 0 lw 1.5 lc rgb '%s' notitle",
                      DAT_BATCH, DAT_STEP, DAT_STEP_LO, DAT_STEP_HI, look.color);
    }
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9 dt 1", look.filled);
    clb_report_gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_STEP, look.color, style, s->label);
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9 dt 2", look.open);
    clb_report_gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_WALL, look.color, style, NULL);
    if (series_has(m, s, offsetof(struct clb_row, launch_floor_s))) {
      gp_next(gp, first);
      clb_report_gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_FLOOR, look.color,
                                "with lines lw 1.5 dt 3", NULL);
    }
    break;
  case EPOCH:
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9", look.filled);
    clb_report_gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_EPOCH, look.color, style, s->label);
    break;
  case VARIANCE:
    /* Devices measuring the same data give the same variance: their points
     * are shifted a little sideways (`dodge`, a factor on the log axis), or
     * they would hide each other's error bars. */
    gp_next(gp, first);
    clb_report_gp_quote(gp, g->dat[i]);
    clb_sbuf_printf(gp,
                    " using ($%d*%.4f):%d:%d:%d with yerrorbars pt %d ps 0.9 lw 1.5 lc rgb '%s' "
                    "title ",
                    DAT_BATCH, dodge, DAT_VAR, DAT_VAR_LO, DAT_VAR_HI, look.filled, look.color);
    clb_report_gp_quote(gp, s->label);
    gp_next(gp, first);
    clb_report_gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_VAR_PRED, look.color,
                              "with lines lw 1.5", NULL);
    break;
  case MEMORY:
    /* The same buffers on two vendors are the same bytes: shifted sideways
     * too, so every device's markers stay visible. */
    gp_next(gp, first);
    clb_report_gp_quote(gp, g->dat[i]);
    clb_sbuf_printf(gp,
                    " using ($%d*%.4f):%d with linespoints lw 2 pt %d ps 0.9 lc rgb '%s' title ",
                    DAT_BATCH, dodge, DAT_BYTES, look.filled, look.color);
    clb_report_gp_quote(gp, s->label);
    gp_next(gp, first);
    clb_report_gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_GLOBAL, look.color,
                              "with lines lw 2 dt 3", NULL);
    break;
  case PEAK:
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9 dt 1", look.filled);
    clb_report_gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_PCT_FLOPS, look.color, style, s->label);
    gp_next(gp, first);
    snprintf(style, sizeof style, "with linespoints lw 2 pt %d ps 0.9 dt 2", look.open);
    clb_report_gp_series_line(gp, g->dat[i], DAT_BATCH, DAT_PCT_BW, look.color, style, NULL);
    break;
  }
}

/* The plot command of one plot: each device's lines, a legend entry for a
 * device without ok rows (it is absent, and the legend says why), then the
 * grey style entries. Returns the number of legend entries, and in *widest
 * the longest legend title in characters. */
static size_t gp_plot_command(struct clb_sbuf *gp, int plot, const struct clb_report_merged *m,
                              const struct clb_report_series *list, const struct group *g,
                              size_t *widest) {
  size_t entries = 0, plotted = 0, n_plotted = 0;
  *widest = 0;
  int first = 1;
  for (size_t i = 0; i < g->n; i++)
    n_plotted += ok_rows_of(m, &list[g->members[i]]) > 0;
  clb_sbuf_puts(gp, "plot ");
  for (size_t i = 0; i < g->n; i++) {
    const struct clb_report_series *s = &list[g->members[i]];
    struct look look = series_look(m, s);
    entries++;
    if (clb_utf8_width(s->label) > *widest)
      *widest = clb_utf8_width(s->label);
    if (ok_rows_of(m, s) == 0) {
      char why[CLB_REPORT_CELL], title[sizeof s->label + CLB_REPORT_CELL + 4];
      clb_report_explain_no_ok_rows(m, s, why, sizeof why);
      /* The status alone: the tables carry the message. */
      why[strcspn(why, ":")] = '\0';
      snprintf(title, sizeof title, "%s: %s", s->label, why);
      if (clb_utf8_width(title) > *widest)
        *widest = clb_utf8_width(title);
      char style[64];
      snprintf(style, sizeof style, "with points pt %d ps 0.9", look.open);
      gp_keyentry(gp, &first, style, look.color, title);
      continue;
    }
    double dodge = pow(1.06, (double)plotted - 0.5 * (double)(n_plotted - 1));
    gp_device_lines(gp, &first, plot, m, g, i, s, look, dodge);
    plotted++;
  }
  size_t n_styles = 0;
  while (n_styles < MAX_STYLE_KEYS && STYLE_KEYS[plot][n_styles].style)
    n_styles++;
  if (plot == STEP && !g->floors)
    n_styles = 2; /* no launch floor before schema 5 */
  for (size_t k = 0; k < n_styles; k++) {
    const char *text = STYLE_KEYS[plot][k].text;
    if (plot == STEP && k == 0 && g->step_bars)
      text = g->bars_of_passes ? STEP_KEY_WITH_PASS_BARS : STEP_KEY_WITH_BARS;
    gp_keyentry(gp, &first, STYLE_KEYS[plot][k].style, STYLE_GREY, text);
    if (clb_utf8_width(text) > *widest)
      *widest = clb_utf8_width(text);
  }
  clb_sbuf_puts(gp, "\n");
  return entries + n_styles;
}

static int plot_group(struct clb_report_plotter *p, const struct clb_report_merged *m,
                      const struct clb_report_series *list, struct group *g,
                      struct clb_error *err) {
  char suffix[256], safe_model[64], safe_precision[64];
  clb_safe_name(safe_model, sizeof safe_model, g->model);
  clb_safe_name(safe_precision, sizeof safe_precision, g->precision);
  snprintf(suffix, sizeof suffix, "%s_%s", safe_model, safe_precision);
  int rc = CLB_OK;
  struct clb_sbuf gp = {0}, command = {0};

  size_t ok_rows = 0;
  for (size_t i = 0; i < g->n; i++)
    ok_rows += ok_rows_of(m, &list[g->members[i]]);
  if (ok_rows == 0) {
    /* Only skipped/oom/error rows (an unsupported precision, say): one note, not six. */
    p->summary->plots_skipped += 6;
    clb_report_note(p->notes, "plots for %s %s skipped: no ok rows", g->model, g->precision);
    return CLB_OK;
  }
  for (size_t i = 0; i < g->n; i++)
    CLB_TRY(write_series_data(m, &list[g->members[i]], g->dat[i], g->knee[i], err));
  g->step_bars = wants_step_bars(m, list, g);
  g->bars_of_passes = g->step_bars && group_has_pass_intervals(m, list, g);
  g->floors = group_has(m, list, g, offsetof(struct clb_row, launch_floor_s));

  static const char *const names[N_PLOTS] = {"throughput", "step_time", "epoch_time",
                                             "variance",   "memory",    "peak"};
  static const char *const what[N_PLOTS] = {
      "samples/s vs batch size",      "time per step vs batch size",
      "time per epoch vs batch size", "mini-batch gradient variance vs batch size",
      "device memory vs batch size",  "% of measured peak vs batch size"};
  static const char *const columns[N_PLOTS] = {"samples_per_s", "step_s_median", "epoch_s",
                                               "var_measured",  "device_bytes",  "pct_peak_flops"};
  const size_t needs[N_PLOTS] = {
      offsetof(struct clb_row, samples_per_s), offsetof(struct clb_row, step_s_median),
      offsetof(struct clb_row, epoch_s),       offsetof(struct clb_row, var_measured),
      offsetof(struct clb_row, device_bytes),  offsetof(struct clb_row, pct_peak_flops)};

  for (int plot = 0; plot < N_PLOTS; plot++) {
    char name[512], title[1024];
    snprintf(name, sizeof name, "%s_%s", names[plot], suffix);
    snprintf(title, sizeof title, "%s, %s%s: %s", g->model, g->precision, g->shape, what[plot]);
    if (!group_has(m, list, g, needs[plot])) {
      p->summary->plots_skipped++;
      clb_report_note(p->notes, "plot %s skipped: no ok rows with a value in %s", name,
                      columns[plot]);
      continue;
    }
    clb_sbuf_destroy(&gp);
    clb_sbuf_destroy(&command);
    size_t widest = 0;
    size_t entries = gp_plot_command(&command, plot, m, list, g, &widest);
    clb_report_gp_preamble(&gp, title);
    int height = gp_key_below(&gp, entries, widest);
    clb_report_gp_batch_axis(&gp);
    switch (plot) {
    case THROUGHPUT:
      clb_sbuf_puts(&gp, "set logscale y\nset format y '%.0s %c'\n"
                         "set ylabel 'throughput (samples/s)'\n");
      break;
    case STEP:
    case EPOCH:
      /* Explicit labels: gnuplot's %c prefix writes "u" for micro. */
      clb_sbuf_puts(&gp, "set logscale y\nset ytics ('1 \xC2\xB5s' 1e-6, '10 \xC2\xB5s' 1e-5, "
                         "'100 \xC2\xB5s' 1e-4, '1 ms' 1e-3, '10 ms' 1e-2, '100 ms' 0.1, '1 s' 1, "
                         "'10 s' 10, '100 s' 100, '1000 s' 1000, '10000 s' 1e4)\n");
      clb_sbuf_puts(&gp, plot == STEP ? "set ylabel 'time per step (solid: device, dashed: wall)'\n"
                                      : "set ylabel 'time per epoch = ceil(N/B) x median step'\n");
      break;
    case VARIANCE:
      clb_sbuf_puts(&gp,
                    "set logscale y\nset format y '%g'\n"
                    "set ylabel 'E|g_B - G|^2 (points: measured with 95% CI, lines: predicted)'\n");
      break;
    case MEMORY:
      clb_sbuf_puts(&gp, "set logscale y\nset format y '%.0s %cB'\n"
                         "set ylabel 'device memory (dotted: the device global memory)'\n");
      break;
    case PEAK:
      clb_sbuf_puts(&gp, "set yrange [0:*]\nset format y '%g %%'\n"
                         "set ylabel '% of measured peak (solid: FLOP/s, dashed: bandwidth)'\n");
      break;
    }
    clb_sbuf_append(&gp, command.text ? command.text : "", command.len);
    CLB_TRY(clb_report_plot_run(p, name, title, &gp, height, err));
  }
cleanup:
  clb_sbuf_destroy(&command);
  clb_sbuf_destroy(&gp);
  return rc;
}

int clb_report_plot_results(struct clb_report_plotter *p, const struct clb_report_merged *m,
                            const struct clb_report_series *list, size_t n, struct clb_error *err) {
  struct group g = {0};
  int *done = calloc(n ? n : 1, sizeof *done);
  int rc = CLB_OK;
  g.members = calloc(n ? n : 1, sizeof *g.members);
  g.dat = calloc(n ? n : 1, sizeof *g.dat);
  g.knee = calloc(n ? n : 1, sizeof *g.knee);
  if (!done || !g.members || !g.dat || !g.knee) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  for (size_t i = 0; i < n; i++) {
    if (done[i])
      continue;
    const struct clb_row *ri = &m->rows[list[i].first];
    g.model = ri->model;
    g.precision = ri->precision;
    g.n = 0;
    for (size_t j = i; j < n; j++) {
      const struct clb_row *rj = &m->rows[list[j].first];
      if (done[j] || strcmp(rj->model, g.model) || strcmp(rj->precision, g.precision))
        continue;
      done[j] = 1;
      char safe_model[64], safe_precision[64];
      clb_safe_name(safe_model, sizeof safe_model, g.model);
      clb_safe_name(safe_precision, sizeof safe_precision, g.precision);
      snprintf(g.dat[g.n], sizeof g.dat[g.n], "%.3900s/%s_%s_s%zu.dat", p->data_dir, safe_model,
               safe_precision, j);
      snprintf(g.knee[g.n], sizeof g.knee[g.n], "%.3900s/%s_%s_s%zu_knee.dat", p->data_dir,
               safe_model, safe_precision, j);
      g.members[g.n++] = j;
    }
    describe_shape(m, list, &g);
    CLB_TRY(plot_group(p, m, list, &g, err));
  }
cleanup:
  free(g.knee);
  free(g.dat);
  free(g.members);
  free(done);
  return rc;
}
