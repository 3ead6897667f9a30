/* report.tex: every table as a booktabs table float, its note in the
 * caption; text escaped for LaTeX's default (OT1) font encoding. */
#include "report/render.h"

#include <string.h>

#include "util/sbuf.h"

static void latex_escaped(struct clb_sbuf *sb, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '_':
    case '%':
    case '&':
    case '#':
    case '$':
    case '{':
    case '}':
      clb_sbuf_printf(sb, "\\%c", *s);
      break;
    case '\\':
      clb_sbuf_puts(sb, "\\textbackslash{}");
      break;
    case '~':
      clb_sbuf_puts(sb, "\\textasciitilde{}");
      break;
    case '^':
      clb_sbuf_puts(sb, "\\textasciicircum{}");
      break;
    case '<': /* in the default OT1 font encoding a bare < prints as an inverted ! */
      clb_sbuf_puts(sb, "\\textless{}");
      break;
    case '>':
      clb_sbuf_puts(sb, "\\textgreater{}");
      break;
    case '\n':
    case '\r':
      clb_sbuf_puts(sb, " ");
      break;
    case '-': /* "--max-time" would print as an en dash and "max-time" */
      clb_sbuf_puts(sb, s[1] == '-' ? "-{}" : "-");
      break;
    default:
      if (strncmp(s, CLB_REPORT_DASH, 3) == 0) {
        clb_sbuf_puts(sb, "---");
        s += 2;
      } else if (strncmp(s, "\xC2\xB5", 2) == 0) {
        clb_sbuf_puts(sb, "$\\mu$");
        s += 1;
      } else if (strncmp(s, "\xC2\xB1", 2) == 0) {
        clb_sbuf_puts(sb, "$\\pm$");
        s += 1;
      } else if (strncmp(s, "\xE2\x89\xA4", 3) == 0) {
        clb_sbuf_puts(sb, "$\\le$");
        s += 2;
      } else {
        clb_sbuf_append(sb, s, 1);
      }
    }
  }
}

static void latex_title(struct clb_sbuf *sb, const struct clb_report_table *t,
                        const char *section) {
  if (section) {
    latex_escaped(sb, section);
    clb_sbuf_puts(sb, ": ");
  }
  latex_escaped(sb, t->title);
}

/* One table float; `section` (may be NULL) prefixes the caption of a table
 * that is one of several of a section ("Agreement between runs: DEVICE"),
 * and `preface` (may be NULL), the section's introduction, follows the note:
 * a float has no other place for text. */
static void render_latex(struct clb_sbuf *sb, const struct clb_report_table *t,
                         const char *section, const char *preface) {
  clb_sbuf_puts(
      sb, "\\begin{table}[htbp]\n\\centering\n\\footnotesize\n\\setlength{\\tabcolsep}{3pt}\n");
  /* A note belongs in the caption, above the table; the list of tables gets
   * the title alone. */
  if (t->note) {
    clb_sbuf_puts(sb, "\\caption[");
    latex_title(sb, t, section);
    clb_sbuf_puts(sb, "]{");
    latex_title(sb, t, section);
    clb_sbuf_puts(sb, ". ");
    latex_escaped(sb, t->note);
    if (preface) {
      clb_sbuf_puts(sb, " ");
      latex_escaped(sb, preface);
    }
  } else {
    clb_sbuf_puts(sb, "\\caption{");
    latex_title(sb, t, section);
  }
  clb_sbuf_printf(sb, "}\n\\label{%s}\n\\begin{tabular}{%s}\n\\toprule\n", t->label, t->align);
  for (size_t r = 0; r <= t->nrows; r++) {
    for (size_t c = 0; c < t->ncols; c++) {
      if (c)
        clb_sbuf_puts(sb, " & ");
      latex_escaped(sb, r == 0 ? t->headers[c] : clb_report_table_cell(t, r - 1, c));
    }
    clb_sbuf_puts(sb, " \\\\\n");
    if (r == 0)
      clb_sbuf_puts(sb, "\\midrule\n");
  }
  clb_sbuf_puts(sb, "\\bottomrule\n\\end{tabular}\n\\end{table}\n\n");
}

int clb_report_write_latex(const char *path, const struct clb_report_page *page,
                           struct clb_error *err) {
  const struct clb_report_tables *tables = page->tables;
  struct clb_sbuf tex = {0};
  clb_sbuf_puts(&tex,
                "% clbatch report: booktabs tables. In the preamble: \\usepackage{booktabs}\n\n");
  render_latex(&tex, &tables->sources, NULL, NULL);
  render_latex(&tex, &tables->compare, NULL, NULL);
  for (size_t i = 0; i < tables->n_sides; i++)
    render_latex(&tex, &tables->sides[i], NULL, NULL);
  /* Each caption carries its device's summary; the first also what the
   * columns mean. */
  for (size_t i = 0; i < tables->n_agreement; i++)
    render_latex(&tex, &tables->agreement[i], CLB_REPORT_AGREEMENT_TITLE,
                 i == 0 ? CLB_REPORT_AGREEMENT_INTRO : NULL);
  render_latex(&tex, &tables->config, NULL, NULL);
  int rc = clb_sbuf_write_atomic(&tex, path, err);
  clb_sbuf_destroy(&tex);
  return rc;
}
