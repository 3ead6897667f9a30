/* report.html: one self-contained page (no external files): hosts and
 * devices, the configuration (and each run's saved .config), the tables and
 * the SVG plots inline. */
#include "report/render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/table.h"
#include "util/files.h"
#include "util/sbuf.h"

#define DASH CLB_REPORT_DASH

static void html_escaped(struct clb_sbuf *sb, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&':
      clb_sbuf_puts(sb, "&amp;");
      break;
    case '<':
      clb_sbuf_puts(sb, "&lt;");
      break;
    case '>':
      clb_sbuf_puts(sb, "&gt;");
      break;
    case '"':
      clb_sbuf_puts(sb, "&quot;");
      break;
    case '\'':
      clb_sbuf_puts(sb, "&#39;");
      break;
    default:
      clb_sbuf_append(sb, s, 1);
    }
  }
}

static void render_html_table(struct clb_sbuf *sb, const struct clb_report_table *t) {
  clb_sbuf_puts(sb, "<div class=\"scroll\"><table>\n<thead><tr>");
  for (size_t c = 0; c < t->ncols; c++) {
    clb_sbuf_puts(sb, "<th>");
    html_escaped(sb, t->headers[c]);
    clb_sbuf_puts(sb, "</th>");
  }
  clb_sbuf_puts(sb, "</tr></thead>\n<tbody>\n");
  for (size_t r = 0; r < t->nrows; r++) {
    clb_sbuf_puts(sb, "<tr>");
    for (size_t c = 0; c < t->ncols; c++) {
      clb_sbuf_puts(sb, t->align[c] == 'r' ? "<td class=\"num\">" : "<td>");
      html_escaped(sb, clb_report_table_cell(t, r, c));
      clb_sbuf_puts(sb, "</td>");
    }
    clb_sbuf_puts(sb, "</tr>\n");
  }
  clb_sbuf_puts(sb, "</tbody></table></div>\n");
}

/* The distinct values of one column, comma-separated, in first-seen order. */
static void distinct_values(const struct clb_report_merged *m, const struct clb_column *col,
                            char *out, size_t size) {
  struct clb_sbuf sb = {0};
  for (size_t i = 0; i < m->count; i++) {
    char value[CLB_STR_FIELD_SIZE];
    const char *base = (const char *)&m->rows[i] + col->offset;
    if (col->kind == CLB_COL_STR)
      snprintf(value, sizeof value, "%s", base);
    else
      clb_report_fmt_num(value, sizeof value, "%.0f", *(const double *)(const void *)base);
    int seen = 0;
    for (size_t k = 0; k < i && !seen; k++) {
      const char *other = (const char *)&m->rows[k] + col->offset;
      seen = col->kind == CLB_COL_STR
                 ? strcmp(other, base) == 0
                 : clb_report_cmp_double(*(const double *)(const void *)other,
                                         *(const double *)(const void *)base) == 0;
    }
    if (seen)
      continue;
    if (sb.len)
      clb_sbuf_puts(&sb, ", ");
    clb_sbuf_puts(&sb, value[0] ? value : DASH);
  }
  snprintf(out, size, "%s", sb.text && !sb.failed ? sb.text : "");
  clb_sbuf_destroy(&sb);
}

static const struct clb_column *column_named(const char *name) {
  for (size_t i = 0; i < clb_column_count; i++)
    if (strcmp(clb_columns[i].name, name) == 0)
      return &clb_columns[i];
  return NULL;
}

/* Inlines an SVG file: drops the XML prolog (not allowed inside HTML) and
 * prefixes its ids, because every gnuplot SVG defines the same ids
 * (gnuplot_canvas, gpPt0, ...) and ids must be unique in one page. */
static void inline_svg(struct clb_sbuf *sb, const char *svg_text, size_t index) {
  const char *start = strstr(svg_text, "<svg");
  if (!start)
    return;
  char prefix[32];
  snprintf(prefix, sizeof prefix, "p%zu-", index);
  static const char *const anchors[] = {"id='", "id=\"", "href='#", "href=\"#", "url(#"};
  for (const char *s = start; *s;) {
    int matched = 0;
    for (size_t a = 0; a < sizeof anchors / sizeof anchors[0]; a++) {
      size_t n = strlen(anchors[a]);
      /* Only whole attribute names: " id=" or ":href=" / " href=". */
      if (strncmp(s, anchors[a], n) == 0 &&
          (a == 4 || (s > start && (s[-1] == ' ' || s[-1] == ':' || s[-1] == '\t')))) {
        clb_sbuf_append(sb, s, n);
        clb_sbuf_puts(sb, prefix);
        s += n;
        matched = 1;
        break;
      }
    }
    if (!matched)
      clb_sbuf_append(sb, s++, 1);
  }
}

static const char HTML_STYLE[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;"
    "max-width:1320px;padding:0 1em;color:#222;line-height:1.45}\n"
    "h1{font-size:1.7em;margin-bottom:0.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;"
    "padding-bottom:0.2em}\n"
    "table{border-collapse:collapse;font-size:0.86em;margin:0.6em 0}\n"
    "th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:left;vertical-align:top}\n"
    "th{background:#f0f3f7}tr:nth-child(even) td{background:#fafafa}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".scroll{overflow-x:auto}\n"
    "figure{margin:1.2em 0}figcaption{color:#555;font-size:0.9em}\n"
    "figure svg{max-width:100%;height:auto;border:1px solid #eee}\n"
    "pre{background:#f6f8fa;padding:0.8em;overflow-x:auto;font-size:0.85em}\n"
    ".note{color:#555}\n";

/* A table built from the data: its escaped title under a heading `level`
 * ("h2", or "h3" for one of several tables of a section), its note, then the
 * table. */
static void render_html_section(struct clb_sbuf *sb, const struct clb_report_table *t,
                                const char *level) {
  clb_sbuf_printf(sb, "<%s>", level);
  html_escaped(sb, t->title);
  clb_sbuf_printf(sb, "</%s>\n", level);
  if (t->note) {
    clb_sbuf_puts(sb, "<p class=\"note\">");
    html_escaped(sb, t->note);
    clb_sbuf_puts(sb, "</p>\n");
  }
  render_html_table(sb, t);
}

/* A whole file as text, or NULL when it cannot be read or is empty: an
 * absent .config or SVG leaves its place on the page out. */
static char *read_nonempty(const char *path) {
  char *text = NULL;
  size_t size = 0;
  struct clb_error ignored = {0};
  if (!path || clb_file_read(path, &text, &size, &ignored) != CLB_OK)
    return NULL;
  if (size == 0) {
    free(text);
    return NULL;
  }
  return text;
}

static void html_head(struct clb_sbuf *h, const struct clb_report_page *page) {
  clb_sbuf_puts(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>clbatch report</title>\n<style>\n");
  clb_sbuf_puts(h, HTML_STYLE);
  clb_sbuf_puts(h, "</style>\n</head>\n<body>\n<h1>clbatch report</h1>\n");
  const struct clb_report_merged *m = page->merged;
  clb_sbuf_printf(h, "<p class=\"note\">%zu rows from %zu file(s):", m->count,
                  m->n_inputs - m->n_skipped);
  for (size_t f = 0, listed = 0; f < m->n_inputs; f++) {
    if (m->file_skipped[f])
      continue;
    clb_sbuf_puts(h, listed++ ? ", <code>" : " <code>");
    html_escaped(h, m->inputs[f]);
    clb_sbuf_puts(h, "</code>");
  }
  if (m->n_skipped)
    clb_sbuf_printf(h, CLB_REPORT_SKIPPED_FORMAT, m->n_skipped);
  clb_sbuf_puts(h, ". Column definitions: <code>results/SCHEMA.md</code>.</p>\n");
}

/* Hosts and devices: one line per distinct host + platform + device. */
static void html_hosts(struct clb_sbuf *h, const struct clb_report_merged *m) {
  clb_sbuf_puts(h, "<h2>Hosts and devices</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>host"
                   "</th><th>CPU</th><th>platform</th><th>device</th><th>vendor</th><th>type</th>"
                   "<th>driver</th><th>CLBlast</th><th>compute units</th><th>clock (MHz)</th>"
                   "<th>global memory</th>"
                   "</tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < m->count; i++) {
    const struct clb_row *r = &m->rows[i];
    int seen = 0;
    for (size_t k = 0; k < i && !seen; k++)
      seen = clb_report_cmp_device(&m->rows[k], r) == 0;
    if (seen)
      continue;
    char units[32], clock[32], memory[64];
    clb_report_fmt_num(units, sizeof units, "%.0f", r->compute_units);
    /* An empty clock is the driver's "unknown" (Intel's CPU runtime says 0 MHz),
     * which is not the dash of "not measured". */
    if (isfinite(r->clock_mhz) && r->clock_mhz > 0)
      snprintf(clock, sizeof clock, "%.0f", r->clock_mhz);
    else
      snprintf(clock, sizeof clock, "unknown");
    clb_report_fmt_bytes(memory, sizeof memory, r->global_mem_bytes);
    const char *texts[] = {r->host,   r->cpu,         r->platform, r->device,
                           r->vendor, r->device_type, r->driver,   r->clblast};
    clb_sbuf_puts(h, "<tr>");
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
      clb_sbuf_puts(h, "<td>");
      html_escaped(h, texts[k][0] ? texts[k] : DASH);
      clb_sbuf_puts(h, "</td>");
    }
    clb_sbuf_printf(h,
                    "<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                    "</tr>\n",
                    units, clock, memory);
  }
  clb_sbuf_puts(h, "</tbody></table></div>\n");
}

/* The values of the configuration columns, then each run's configuration
 * file when it was saved beside its CSV (RUN.csv -> RUN.config). */
static void html_configuration(struct clb_sbuf *h, const struct clb_report_page *page) {
  static const char *const config_columns[] = {"model",    "precision", "n_samples", "n_features",
                                               "n_hidden", "n_classes", "data_on"};
  clb_sbuf_puts(h, "<h2>Configuration</h2>\n<table>\n<thead><tr><th>column</th><th>values</th>"
                   "</tr></thead>\n<tbody>\n");
  for (size_t k = 0; k < sizeof config_columns / sizeof config_columns[0]; k++) {
    char values[4096];
    distinct_values(page->merged, column_named(config_columns[k]), values, sizeof values);
    clb_sbuf_printf(h, "<tr><td><code>%s</code></td><td>", config_columns[k]);
    html_escaped(h, values);
    clb_sbuf_puts(h, "</td></tr>\n");
  }
  clb_sbuf_puts(h, "</tbody></table>\n");
  for (size_t f = 0; f < page->merged->n_inputs; f++) {
    const char *input = page->merged->inputs[f];
    if (!clb_path_ends_with(input, ".csv"))
      continue;
    char config_path[4096];
    clb_path_sibling(input, ".config", config_path, sizeof config_path);
    char *text = read_nonempty(config_path);
    if (!text)
      continue;
    clb_sbuf_puts(h, "<h3><code>");
    html_escaped(h, config_path);
    clb_sbuf_puts(h, "</code></h3>\n<pre>");
    html_escaped(h, text);
    clb_sbuf_puts(h, "</pre>\n");
    free(text);
  }
}

static void html_figures(struct clb_sbuf *h, const struct clb_report_page *page) {
  static const struct clb_report_figures none = {0};
  const struct clb_report_figures *f = page->figures ? page->figures : &none;
  clb_sbuf_puts(h, "<h2>Plots</h2>\n");
  if (page->plots_missing)
    clb_sbuf_puts(h, "<p class=\"note\">" CLB_REPORT_NO_GNUPLOT ".</p>\n");
  else if (f->n == 0)
    clb_sbuf_puts(h, "<p class=\"note\">No plots: no rows with measurements.</p>\n");
  for (size_t i = 0; i < f->n; i++) {
    char *svg = read_nonempty(f->svg_files[i]);
    if (!svg)
      continue;
    clb_sbuf_puts(h, "<figure>\n");
    inline_svg(h, svg, i);
    clb_sbuf_puts(h, "\n<figcaption>");
    html_escaped(h, f->titles[i] ? f->titles[i] : "");
    const char *base = strrchr(f->svg_files[i], '/');
    clb_sbuf_puts(h, " (<code>");
    html_escaped(h, base ? base + 1 : f->svg_files[i]);
    clb_sbuf_puts(h, "</code>)</figcaption>\n</figure>\n");
    free(svg);
  }
}

int clb_report_write_html(const char *path, const struct clb_report_page *page,
                          struct clb_error *err) {
  const struct clb_report_tables *tables = page->tables;
  struct clb_sbuf h = {0};
  html_head(&h, page);
  html_hosts(&h, page->merged);
  render_html_section(&h, &tables->sources, "h2");
  html_configuration(&h, page);
  clb_sbuf_printf(&h, "<h2>%s</h2>\n", tables->compare.title);
  clb_sbuf_puts(&h, "<p class=\"note\">Recommended B is B* = argmin<sub>B</sub> "
                    "t<sub>step</sub>(B) (1 + B<sub>noise</sub>/B) when the noise scale is known, "
                    "otherwise the throughput knee (smallest B reaching 90 % of the best "
                    "samples/s).</p>\n");
  render_html_table(&h, &tables->compare);
  for (size_t i = 0; i < tables->n_sides; i++)
    render_html_section(&h, &tables->sides[i], "h2");
  if (tables->n_agreement) {
    clb_sbuf_puts(&h, "<h2>" CLB_REPORT_AGREEMENT_TITLE "</h2>\n<p class=\"note\">");
    html_escaped(&h, CLB_REPORT_AGREEMENT_INTRO);
    clb_sbuf_puts(&h, "</p>\n");
  }
  for (size_t i = 0; i < tables->n_agreement; i++)
    render_html_section(&h, &tables->agreement[i], "h3");
  html_figures(&h, page);
  render_html_section(&h, &tables->config, "h2");
  clb_sbuf_puts(&h, "</body>\n</html>\n");
  int rc = clb_sbuf_write_atomic(&h, path, err);
  clb_sbuf_destroy(&h);
  return rc;
}
