/* The drawing core of the report's plots: gnuplot found and run, each plot
 * drawn to PNG and SVG through temporary files, and the script pieces every
 * plot shares. */
#include "report/plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "util/files.h"

/* Okabe-Ito colours (distinguishable with colour-blindness), then a few more. */
static const char *const PALETTE[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
                                      "#56B4E9", "#000000", "#7F3C8D", "#A6761D", "#666666"};
#define PALETTE_SIZE (sizeof PALETTE / sizeof PALETTE[0])

const char *clb_report_plot_color(size_t i) {
  return PALETTE[i % PALETTE_SIZE];
}

/* Shell single-quoting: 'it'\''s'. */
static void shell_quote(struct clb_sbuf *sb, const char *s) {
  clb_sbuf_puts(sb, "'");
  for (; *s; s++)
    if (*s == '\'')
      clb_sbuf_puts(sb, "'\\''");
    else
      clb_sbuf_append(sb, s, 1);
  clb_sbuf_puts(sb, "'");
}

/* gnuplot single-quoted string: only '' needs escaping, no backslash escapes. */
void clb_report_gp_quote(struct clb_sbuf *sb, const char *s) {
  clb_sbuf_puts(sb, "'");
  for (; *s; s++)
    if (*s == '\'')
      clb_sbuf_puts(sb, "''");
    else
      clb_sbuf_append(sb, s, 1);
  clb_sbuf_puts(sb, "'");
}

void clb_report_plotter_destroy(struct clb_report_plotter *p) {
  if (!p)
    return;
  struct clb_report_figures *f = &p->figures;
  for (size_t i = 0; i < f->n; i++) {
    free(f->svg_files[i]);
    free(f->titles[i]);
  }
  free(f->svg_files);
  free(f->titles);
  *f = (struct clb_report_figures){0};
}

int clb_report_gnuplot_available(const char *gnuplot) {
  struct clb_sbuf cmd = {0};
  clb_sbuf_puts(&cmd, "command -v ");
  clb_sbuf_puts(&cmd, gnuplot); /* a command (possibly with a path), as the user gave it */
  clb_sbuf_puts(&cmd, " >/dev/null 2>&1");
  int status = cmd.failed ? -1 : system(cmd.text);
  clb_sbuf_destroy(&cmd);
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* pngcairo draws anti-aliased lines and proper fonts; plain png (libgd) is the
 * fallback some minimal gnuplot builds only have. */
static void pick_png_terminal(const char *gnuplot, char *out, size_t size) {
  snprintf(out, size, "png");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "%s -e 'set terminal' 2>&1 </dev/null", gnuplot);
  FILE *pipe = popen(cmd, "r");
  if (!pipe)
    return;
  char line[512];
  while (fgets(line, sizeof line, pipe))
    if (strstr(line, "pngcairo"))
      snprintf(out, size, "pngcairo");
  pclose(pipe);
}

int clb_report_plotter_start(struct clb_report_plotter *p, const char *dir, const char *gnuplot,
                             const struct clb_report_notes *notes,
                             struct clb_report_summary *summary, struct clb_error *err) {
  *p = (struct clb_report_plotter){0};
  p->notes = notes;
  p->gnuplot = gnuplot;
  p->dir = dir;
  p->summary = summary;
  snprintf(p->data_dir, sizeof p->data_dir, "%s/data", dir);
  int rc = clb_mkdir_p(p->data_dir, err);
  if (rc != CLB_OK)
    return rc;
  pick_png_terminal(gnuplot, p->terminal, sizeof p->terminal);
  return CLB_OK;
}

/* Common settings of every plot; the caller adds labels and the plot command. */
void clb_report_gp_preamble(struct clb_sbuf *gp, const char *title) {
  clb_sbuf_puts(gp,
                "set datafile missing '?'\n"
                "set encoding utf8\n"
                "set termoption noenhanced\n"
                "set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1, lc rgb '#f0f0f0' lw 1\n"
                "set border lc rgb '#444444'\n"
                "set key outside below left Left reverse maxrows 6 spacing 1.1\n"
                "set title ");
  clb_report_gp_quote(gp, title);
  clb_sbuf_puts(gp, " font ',13'\n");
}

void clb_report_gp_batch_axis(struct clb_sbuf *gp) {
  clb_sbuf_puts(gp, "set logscale x 2\n"
                    "set format x '%.0f'\n"
                    "set xtics 4\n"
                    "set mxtics 2\n"
                    "set xlabel 'batch size B (samples per step)'\n"
                    /* Room at both ends, so markers on the first and last B are not clipped. */
                    "set offsets graph 0.02, graph 0.02, 0, 0\n");
}

/* The last non-empty line of gnuplot's output, which usually names the
 * problem, into `line`; "no output" when there is none. */
static void last_line(const char *log, char *line, size_t size) {
  char *output = NULL;
  size_t length = 0;
  struct clb_error ignored = {0};
  snprintf(line, size, "no output");
  if (clb_file_read(log, &output, &length, &ignored) != CLB_OK)
    return;
  char *last = output + strlen(output);
  while (last > output && (last[-1] == '\n' || last[-1] == ' '))
    *--last = '\0';
  while (last > output && last[-1] != '\n')
    last--;
  if (*last)
    snprintf(line, size, "%s", last);
  free(output);
}

/* Adds a plot to the figures of the HTML page. */
static int add_figure(struct clb_report_figures *f, const char *svg, const char *title) {
  char **files = realloc(f->svg_files, (f->n + 1) * sizeof *files);
  if (files)
    f->svg_files = files;
  char **titles = realloc(f->titles, (f->n + 1) * sizeof *titles);
  if (titles)
    f->titles = titles;
  if (!files || !titles)
    return CLB_E_NOMEM;
  f->svg_files[f->n] = strdup(svg);
  f->titles[f->n] = strdup(title);
  f->n++;
  return CLB_OK;
}

/* Runs one script that draws to PNG and SVG, each into NAME.tmp then renamed. */
int clb_report_plot_run(struct clb_report_plotter *p, const char *name, const char *title,
                        const struct clb_sbuf *body, int height, struct clb_error *err) {
  char base[4096], png[4200], svg[4200], script[4200], log[4200];
  snprintf(base, sizeof base, "%s/%s", p->dir, name);
  snprintf(png, sizeof png, "%s.png", base);
  snprintf(svg, sizeof svg, "%s.svg", base);
  snprintf(script, sizeof script, "%s/%s.gp", p->data_dir, name);
  snprintf(log, sizeof log, "%s/%s.log", p->data_dir, name);
  struct clb_sbuf gp = {0}, cmd = {0};
  char tmp[4300];
  int rc = CLB_OK;

  clb_sbuf_printf(&gp, "set terminal %s size %d,%d font 'sans,11' noenhanced\n", p->terminal,
                  CLB_REPORT_PLOT_WIDTH, height);
  snprintf(tmp, sizeof tmp, "%s.tmp", png);
  clb_sbuf_puts(&gp, "set output ");
  clb_report_gp_quote(&gp, tmp);
  clb_sbuf_puts(&gp, "\n");
  clb_sbuf_append(&gp, body->text, body->len);
  clb_sbuf_printf(&gp,
                  "set terminal svg size %d,%d font 'sans,11' background '#ffffff' noenhanced\n",
                  CLB_REPORT_PLOT_WIDTH, height);
  snprintf(tmp, sizeof tmp, "%s.tmp", svg);
  clb_sbuf_puts(&gp, "set output ");
  clb_report_gp_quote(&gp, tmp);
  clb_sbuf_puts(&gp, "\nreplot\nunset output\n");
  CLB_TRY(clb_sbuf_write_atomic(&gp, script, err));

  clb_sbuf_puts(&cmd, p->gnuplot);
  clb_sbuf_puts(&cmd, " ");
  shell_quote(&cmd, script);
  clb_sbuf_puts(&cmd, " </dev/null >");
  shell_quote(&cmd, log);
  clb_sbuf_puts(&cmd, " 2>&1");
  if (cmd.failed) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  int status = system(cmd.text);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char line[1024];
    last_line(log, line, sizeof line);
    rc = clb_failf(err, CLB_E_IO, "gnuplot failed on %s: %s", script, line);
    /* Half-drawn images must not look like results. */
    snprintf(tmp, sizeof tmp, "%s.tmp", png);
    remove(tmp);
    snprintf(tmp, sizeof tmp, "%s.tmp", svg);
    remove(tmp);
    goto cleanup;
  }
  for (int k = 0; k < 2; k++) {
    const char *final = k == 0 ? png : svg;
    snprintf(tmp, sizeof tmp, "%s.tmp", final);
    if (rename(tmp, final) != 0) {
      rc = clb_failf(err, CLB_E_IO, "%s: gnuplot wrote no output (%s)", final, strerror(errno));
      goto cleanup;
    }
  }
  if (add_figure(&p->figures, svg, title) != CLB_OK) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of memory");
    goto cleanup;
  }
  p->summary->plots_written++;
  clb_report_note(p->notes, "wrote %s and %s", png, svg);

cleanup:
  clb_sbuf_destroy(&cmd);
  clb_sbuf_destroy(&gp);
  return rc;
}

void clb_report_dat_value(struct clb_sbuf *sb, double v, int positive_only) {
  /* gnuplot reads '?' as missing; log axes cannot show values <= 0. */
  if (!isfinite(v) || (positive_only && v <= 0))
    clb_sbuf_puts(sb, " ?");
  else
    clb_sbuf_printf(sb, " %.9g", v);
}

void clb_report_gp_series_line(struct clb_sbuf *gp, const char *dat, int using_x, int using_y,
                               const char *color, const char *style, const char *title) {
  clb_report_gp_quote(gp, dat);
  clb_sbuf_printf(gp, " using %d:%d %s lc rgb '%s' ", using_x, using_y, style, color);
  if (title) {
    clb_sbuf_puts(gp, "title ");
    clb_report_gp_quote(gp, title);
  } else {
    clb_sbuf_puts(gp, "notitle");
  }
}
