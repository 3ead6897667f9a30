/* report.md: every table as a GitHub-flavoured Markdown table, columns
 * padded to their width so the file also reads well as plain text. */
#include "report/render.h"

#include <stdlib.h>

#include "util/sbuf.h"
#include "util/text.h"

/* Markdown cell text: a '|' would end the cell, a newline the row. */
static void md_cell_text(char *dst, size_t size, const char *src) {
  size_t j = 0;
  for (; *src && j + 3 < size; src++) {
    if (*src == '|')
      dst[j++] = '\\';
    dst[j++] = (*src == '\n' || *src == '\r') ? ' ' : *src;
  }
  dst[j] = '\0';
}

static void md_padded(struct clb_sbuf *sb, const char *text, size_t width, char align) {
  size_t pad = width - clb_utf8_width(text);
  if (align == 'r')
    for (size_t i = 0; i < pad; i++)
      clb_sbuf_puts(sb, " ");
  clb_sbuf_puts(sb, text);
  if (align != 'r')
    for (size_t i = 0; i < pad; i++)
      clb_sbuf_puts(sb, " ");
}

/* One table under a heading of `level` ("##" for a section of its own,
 * "###" for one of several tables of a section). */
static void render_markdown(struct clb_sbuf *sb, const struct clb_report_table *t,
                            const char *level) {
  size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof *width);
  char text[2 * CLB_REPORT_CELL];
  if (!width) {
    sb->failed = 1;
    return;
  }
  for (size_t c = 0; c < t->ncols; c++) {
    md_cell_text(text, sizeof text, t->headers[c]);
    width[c] = clb_utf8_width(text) < 3 ? 3 : clb_utf8_width(text);
    for (size_t r = 0; r < t->nrows; r++) {
      md_cell_text(text, sizeof text, clb_report_table_cell(t, r, c));
      if (clb_utf8_width(text) > width[c])
        width[c] = clb_utf8_width(text);
    }
  }
  clb_sbuf_printf(sb, "%s %s\n\n", level, t->title);
  if (t->note)
    clb_sbuf_printf(sb, "%s\n\n", t->note);
  for (size_t r = 0; r <= t->nrows + 1; r++) {
    clb_sbuf_puts(sb, "|");
    for (size_t c = 0; c < t->ncols; c++) {
      clb_sbuf_puts(sb, " ");
      if (r == 1) {
        /* The separator line: dashes the column's width, a colon for right-aligned. */
        for (size_t i = 0; i + 1 < width[c]; i++)
          clb_sbuf_puts(sb, "-");
        clb_sbuf_puts(sb, t->align[c] == 'r' ? ":" : "-");
      } else {
        md_cell_text(text, sizeof text,
                     r == 0 ? t->headers[c] : clb_report_table_cell(t, r - 2, c));
        md_padded(sb, text, width[c], r == 0 ? 'l' : t->align[c]);
      }
      clb_sbuf_puts(sb, " |");
    }
    clb_sbuf_puts(sb, "\n");
  }
  clb_sbuf_puts(sb, "\n");
  free(width);
}

int clb_report_write_markdown(const char *path, const struct clb_report_page *page,
                              struct clb_error *err) {
  const struct clb_report_tables *tables = page->tables;
  struct clb_sbuf md = {0};
  clb_sbuf_puts(&md, "# clbatch report\n\n");
  clb_sbuf_printf(&md, "%zu rows from %zu file(s)", page->merged->count,
                  page->merged->n_inputs - page->merged->n_skipped);
  if (page->merged->n_skipped)
    clb_sbuf_printf(&md, CLB_REPORT_SKIPPED_FORMAT, page->merged->n_skipped);
  clb_sbuf_puts(&md, ". Columns: see results/SCHEMA.md. Recommended B is B* (fastest time to a "
                     "target, from the noise scale) when the noise scale is known, otherwise the "
                     "throughput knee.\n\n");
  render_markdown(&md, &tables->sources, "##");
  render_markdown(&md, &tables->compare, "##");
  for (size_t i = 0; i < tables->n_sides; i++)
    render_markdown(&md, &tables->sides[i], "##");
  if (tables->n_agreement)
    clb_sbuf_puts(&md, "## " CLB_REPORT_AGREEMENT_TITLE "\n\n" CLB_REPORT_AGREEMENT_INTRO "\n\n");
  for (size_t i = 0; i < tables->n_agreement; i++)
    render_markdown(&md, &tables->agreement[i], "###");
  render_markdown(&md, &tables->config, "##");
  int rc = clb_sbuf_write_atomic(&md, path, err);
  clb_sbuf_destroy(&md);
  return rc;
}
