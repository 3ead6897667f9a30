#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "report/report.h"
#include "results/advise.h"
#include "results/results.h"

#define FIXTURES CLBATCH_SOURCE_DIR "/tests/fixtures"

/* Collects the library's notes, one per line, for assertions. */
struct notes {
  char text[65536];
};

static void collect(void *context, const char *line) {
  struct notes *notes = context;
  strncat(notes->text, line, sizeof notes->text - strlen(notes->text) - 2);
  strcat(notes->text, "\n");
}

static const char *const THREE_FILES[] = {FIXTURES "/gpu-node01.csv", FIXTURES "/cpu-node07.csv",
                                          FIXTURES "/gpu-node01-rerun.csv"};
static const char *const TRAIN[] = {FIXTURES "/train-softmax.csv"};

static int gnuplot_present(void) {
  return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static void require_gnuplot(void) {
  if (gnuplot_present())
    return;
  const char *ci = getenv("CI");
  if (ci && strcmp(ci, "true") == 0)
    cr_assert_fail("CI needs gnuplot for the plot tests: apt-get install gnuplot-nox");
  cr_skip("gnuplot not installed (apt-get install gnuplot-nox): plot checks skipped");
}

/* Runs the report on the three fixtures into a fresh folder. */
static char *run_fixture_report(struct notes *notes, struct clb_report_summary *summary,
                                const char *gnuplot) {
  char *dir = clb_test_tmpdir();
  struct clb_report_options opt = {THREE_FILES, 3, TRAIN, 1, dir, gnuplot, collect, notes};
  struct clb_error err = {0};
  int rc = clb_report_run(&opt, summary, &err);
  cr_assert_eq(rc, 0, "report failed: %s", err.message);
  return dir;
}

static char *read_in(const char *dir, const char *name) {
  char path[8400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return clb_test_read_file(path);
}

/* ---- small synthetic fixtures ------------------------------------------- */

/* One ok row with only the columns the report reads: enough to pin exact
 * numbers in the tables. */
static struct clb_row small_row(const char *host, const char *platform, const char *device,
                                const char *model, const char *precision, double batch,
                                double step_s) {
  struct clb_row r;
  clb_row_init(&r);
  snprintf(r.timestamp, sizeof r.timestamp, "2026-01-02T03:04:05Z");
  snprintf(r.host, sizeof r.host, "%s", host);
  snprintf(r.cpu, sizeof r.cpu, "Test CPU");
  snprintf(r.platform, sizeof r.platform, "%s", platform);
  snprintf(r.device, sizeof r.device, "%s", device);
  snprintf(r.vendor, sizeof r.vendor, "Test vendor");
  snprintf(r.device_type, sizeof r.device_type, "gpu");
  snprintf(r.model, sizeof r.model, "%s", model);
  snprintf(r.precision, sizeof r.precision, "%s", precision);
  snprintf(r.data_on, sizeof r.data_on, "device");
  snprintf(r.status, sizeof r.status, "ok");
  r.compute_units = 8;
  r.clock_mhz = 1500;
  r.global_mem_bytes = 8.0 * 1073741824.0;
  r.n_samples = 1024;
  r.n_features = 128;
  r.n_hidden = strcmp(model, "mlp") == 0 ? 256 : 0;
  r.n_classes = 10;
  r.batch = batch;
  r.steps_per_epoch = ceil(1024 / batch);
  r.reps = 100;
  r.step_s_median = step_s;
  r.wall_step_s = step_s * 1.25;
  r.steps_per_s = 1 / step_s;
  r.samples_per_s = batch / step_s;
  r.epoch_s = r.steps_per_epoch * step_s;
  r.device_bytes = 1048576 + 4096 * batch;
  r.pct_peak_flops = 10;
  r.pct_peak_bw = 20;
  r.var_predicted = r.var_measured = 100 / batch;
  r.var_ci_low = 0.9 * r.var_measured;
  r.var_ci_high = 1.1 * r.var_measured;
  return r;
}

/* Writes rows as a results CSV DIR/NAME; returns the path (malloc'd). */
static char *write_rows(const char *dir, const char *name, const struct clb_row *rows, size_t n) {
  char *path = clb_test_write_file(dir, name, "");
  FILE *out = fopen(path, "w");
  cr_assert_not_null(out, "%s", path);
  cr_assert_eq(clb_results_write_header(out, NULL), 0);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(clb_results_write_row(out, &rows[i], NULL), 0);
  fclose(out);
  return path;
}

/* Runs the report on `inputs` into DIR/out (gnuplot: NULL for the default,
 * a bad path for tables only) and returns that folder (malloc'd). */
static char *report_into(const char *dir, const char *const *inputs, size_t n, const char *gnuplot,
                         struct notes *notes, struct clb_report_summary *summary) {
  char *out_dir = malloc(strlen(dir) + 8);
  cr_assert_not_null(out_dir);
  sprintf(out_dir, "%s/out", dir);
  struct clb_report_options opt = {inputs, n, NULL, 0, out_dir, gnuplot, collect, notes};
  struct clb_error err = {0};
  cr_assert_eq(clb_report_run(&opt, summary, &err), 0, "report failed: %s", err.message);
  return out_dir;
}

Test(report, merge_keeps_newest_and_reports_duplicates) {
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *dir = run_fixture_report(&notes, &summary, NULL);
  cr_expect_eq(summary.rows_read, 56);
  cr_expect_eq(summary.duplicates, 3);
  cr_expect_eq(summary.rows_merged, 53);
  /* The re-run's softmax B=64 is newer: kept. Its mlp B=32 is older: dropped. */
  cr_expect(strstr(notes.text,
                   "model=softmax precision=fp32 batch=64 data_on=device: kept " FIXTURES
                   "/gpu-node01-rerun.csv row 1 (2025-05-14T09:00:05Z)") != NULL,
            "%s", notes.text);
  cr_expect(strstr(notes.text, "model=mlp precision=fp32 batch=32 data_on=device: kept " FIXTURES
                               "/gpu-node01.csv row 19") != NULL,
            "%s", notes.text);

  char path[4096];
  snprintf(path, sizeof path, "%s/merged.csv", dir);
  struct clb_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_results_read(path, &rows, &count, NULL, 0, &err), 0, "%s", err.message);
  cr_assert_eq(count, 53);
  int hosts_gpu = 0, hosts_cpu = 0, found64 = 0, found32 = 0;
  for (size_t i = 0; i < count; i++) {
    hosts_gpu += strcmp(rows[i].host, "gpu-node01") == 0;
    hosts_cpu += strcmp(rows[i].host, "cpu-node07") == 0;
    if (!strcmp(rows[i].host, "gpu-node01") && !strcmp(rows[i].model, "softmax") &&
        rows[i].batch == 64) {
      found64++;
      cr_expect_str_eq(rows[i].timestamp, "2025-05-14T09:00:05Z");
    }
    if (!strcmp(rows[i].host, "gpu-node01") && !strcmp(rows[i].model, "mlp") &&
        rows[i].batch == 32) {
      found32++;
      cr_expect_str_eq(rows[i].timestamp, "2025-05-12T09:02:06Z");
    }
  }
  cr_expect_eq(found64, 1);
  cr_expect_eq(found32, 1);
  cr_expect_eq(hosts_gpu, 26);
  cr_expect_eq(hosts_cpu, 27);
  free(rows);
  clb_test_remove_tmpdir(dir);
}

/* Counts '|' that are cell borders (not escaped as \|). */
static size_t count_pipes(const char *line, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += line[i] == '|' && (i == 0 || line[i - 1] != '\\');
  return n;
}

static size_t code_points(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

/* Checks every Markdown table in `md`: header, separator and rows with the
 * same number of cells, aligned to the same width. Returns how many tables. */
static int check_markdown_tables(const char *md) {
  int tables = 0;
  size_t header_pipes = 0, header_width = 0, line_in_table = 0;
  for (const char *line = md; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    if (len > 0 && line[0] == '|') {
      size_t pipes = count_pipes(line, len);
      size_t width = code_points(line, len);
      if (line_in_table == 0) {
        tables++;
        header_pipes = pipes;
        header_width = width;
        cr_expect_geq(pipes, 3);
      } else {
        cr_expect_eq(pipes, header_pipes, "cells differ from the header: %.*s", (int)len, line);
        cr_expect_eq(width, header_width, "not aligned: %.*s", (int)len, line);
      }
      if (line_in_table == 1)
        for (size_t i = 0; i < len; i++)
          cr_expect(strchr("|-: ", line[i]) != NULL, "bad separator line: %.*s", (int)len, line);
      line_in_table++;
    } else {
      if (line_in_table)
        cr_expect_geq(line_in_table, 3, "a table needs a header, a separator and rows");
      line_in_table = 0;
    }
    line = end ? end + 1 : line + len;
  }
  return tables;
}

Test(report, markdown_tables_are_well_formed_and_aligned) {
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *dir = run_fixture_report(&notes, &summary, "/nonexistent/gnuplot");
  char *md = read_in(dir, "report.md");
  cr_assert_not_null(md);
  /* Sources; one device per host: no host's side-by-side table, but one of
   * the two hosts; the re-run's three configurations measured twice make one
   * agreement table. */
  cr_expect_eq(check_markdown_tables(md), 5);
  cr_expect(strstr(md, "## Step time side by side (all hosts)") != NULL, "%s", md);
  cr_expect(strstr(md, "NVIDIA H100 80GB HBM3") && strstr(md, "(B*)"), "%s", md);
  free(md);
  clb_test_remove_tmpdir(dir);
}

Test(report, latex_uses_booktabs_and_balances_braces) {
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *dir = run_fixture_report(&notes, &summary, "/nonexistent/gnuplot");
  char *tex = read_in(dir, "report.tex");
  cr_assert_not_null(tex);
  cr_expect(strstr(tex, "\\toprule") && strstr(tex, "\\midrule") && strstr(tex, "\\bottomrule"));
  cr_expect(strstr(tex, "\\begin{tabular}") && strstr(tex, "\\end{tabular}"));
  cr_expect(strstr(tex, "gpu-node01") != NULL);
  int depth = 0;
  int in_comment = 0;
  for (const char *p = tex; *p; p++) {
    if (*p == '\n')
      in_comment = 0;
    if (in_comment)
      continue;
    if (*p == '\\' && p[1]) {
      p++; /* an escaped character (\_ \% \{ ...) or the first letter of a command */
      continue;
    }
    if (*p == '%') {
      in_comment = 1;
      continue;
    }
    /* '&' separates cells and '$' opens \\mu; '_' and '#' are never meant raw. */
    cr_expect(*p != '_' && *p != '#', "unescaped '%c' at offset %td", *p, p - tex);
    depth += (*p == '{') - (*p == '}');
    cr_expect_geq(depth, 0, "'}' without '{' at offset %td", p - tex);
  }
  cr_expect_eq(depth, 0, "unbalanced braces");
  free(tex);
  clb_test_remove_tmpdir(dir);
}

/* A small HTML checker: every opened element is closed in order, void elements
 * and self-closing tags (SVG) excepted; comments, the doctype, CDATA and the
 * contents of <style>/<script> are skipped. */
static void check_html_balanced(const char *html) {
  static const char *const void_elements[] = {"meta",  "br",    "img",    "hr",  "link",
                                              "input", "col",   "source", "wbr", "area",
                                              "base",  "embed", "track"};
  char stack[512][32];
  int depth = 0;
  for (const char *p = html; (p = strchr(p, '<')) != NULL;) {
    if (!strncmp(p, "<!--", 4)) {
      const char *end = strstr(p, "-->");
      cr_assert_not_null(end, "unterminated comment");
      p = end + 3;
      continue;
    }
    if (!strncmp(p, "<![CDATA[", 9)) {
      const char *end = strstr(p, "]]>");
      cr_assert_not_null(end, "unterminated CDATA");
      p = end + 3;
      continue;
    }
    if (p[1] == '!' || p[1] == '?') {
      p = strchr(p, '>');
      cr_assert_not_null(p);
      continue;
    }
    int closing = p[1] == '/';
    const char *name = p + 1 + closing;
    size_t len = strcspn(name, " \t\r\n/>");
    cr_assert_gt(len, 0, "'<' that starts no tag at offset %td (escape it as &lt;)", p - html);
    cr_assert_lt(len, 32);
    const char *end = strchr(name, '>');
    cr_assert_not_null(end, "unterminated tag");
    char tag[32];
    memcpy(tag, name, len);
    tag[len] = '\0';
    for (char *c = tag; *c; c++)
      *c = (char)tolower((unsigned char)*c);
    if (closing) {
      cr_assert_gt(depth, 0, "</%s> closes nothing", tag);
      cr_assert_str_eq(stack[depth - 1], tag, "</%s> closes <%s>", tag, stack[depth - 1]);
      depth--;
    } else if (end[-1] != '/') {
      int is_void = 0;
      for (size_t i = 0; i < sizeof void_elements / sizeof void_elements[0]; i++)
        is_void |= strcmp(tag, void_elements[i]) == 0;
      if (!is_void) {
        cr_assert_lt(depth, 512);
        strcpy(stack[depth++], tag);
        if (!strcmp(tag, "style") || !strcmp(tag, "script")) {
          char close[40];
          snprintf(close, sizeof close, "</%s>", tag);
          const char *after = strstr(end, close);
          cr_assert_not_null(after, "<%s> never closed", tag);
          p = after;
          continue;
        }
      }
    }
    p = end + 1;
  }
  cr_expect_eq(depth, 0, "unclosed <%s>", depth ? stack[depth - 1] : "");
}

Test(report, html_is_balanced_and_self_contained) {
  require_gnuplot();
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *dir = run_fixture_report(&notes, &summary, NULL);
  char *html = read_in(dir, "report.html");
  cr_assert_not_null(html);
  cr_expect_eq(strncmp(html, "<!DOCTYPE html>", 15), 0);
  check_html_balanced(html);
  cr_expect(strstr(html, "<svg") != NULL, "plots exist, so the page inlines SVG");
  cr_expect(strstr(html, "<?xml") == NULL, "the SVG XML prolog must not be inlined");
  cr_expect(strstr(html, "src=\"http") == NULL && strstr(html, "href=\"http") == NULL,
            "self-contained: no external resources");
  cr_expect(strstr(html, "AMD EPYC 9454 48-Core Processor") != NULL, "host CPU described");
  cr_expect(strstr(html, "550.54.15") != NULL, "driver described");
  cr_expect(strstr(html, "noise_batches: 32") != NULL, "the .config beside the CSV is shown");
  cr_expect(strstr(html, "16384") != NULL, "n_samples in the configuration");
  free(html);
  clb_test_remove_tmpdir(dir);
}

static void expect_png_and_svg(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.png", dir, name);
  FILE *file = fopen(path, "rb");
  cr_assert_not_null(file, "%s missing", path);
  unsigned char magic[8] = {0};
  size_t n = fread(magic, 1, 8, file);
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fclose(file);
  cr_expect_eq(n, 8);
  cr_expect(memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
  cr_expect_gt(size, 2000, "%s is suspiciously small", path);
  snprintf(path, sizeof path, "%s.svg", name);
  char *svg = read_in(dir, path);
  cr_assert_not_null(svg, "%s/%s missing", dir, path);
  cr_expect(strstr(svg, "<svg") && strstr(svg, "</svg>"), "%s is not an SVG", path);
  free(svg);
}

Test(report, plots_are_png_and_svg) {
  require_gnuplot();
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *dir = run_fixture_report(&notes, &summary, NULL);
  static const char *const names[] = {
      "throughput_softmax_fp32",     "step_time_softmax_fp32", "epoch_time_softmax_fp32",
      "variance_softmax_fp32",       "memory_softmax_fp32",    "peak_softmax_fp32",
      "throughput_mlp_fp32",         "variance_mlp_fp32",      "train_loss_epoch_softmax_fp32",
      "train_loss_wall_softmax_fp32"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    expect_png_and_svg(dir, names[i]);
  cr_expect_eq(summary.plots_written, 14);
  /* fp16 rows are all `skipped`: noted, not an error. */
  cr_expect(strstr(notes.text, "plots for softmax fp16 skipped") != NULL, "%s", notes.text);
  char path[4096];
  snprintf(path, sizeof path, "%s/data/softmax_fp32_s2.dat", dir);
  char *dat = clb_test_read_file(path);
  cr_expect_not_null(dat, "gnuplot data files live in DIR/data/");
  free(dat);
  /* Nothing half-written is left behind. */
  DIR *d = opendir(dir);
  struct dirent *entry;
  while ((entry = readdir(d)) != NULL)
    cr_expect(strstr(entry->d_name, ".tmp") == NULL, "left over: %s", entry->d_name);
  closedir(d);
  clb_test_remove_tmpdir(dir);
}

Test(report, plots_without_noise_columns_are_skipped_with_a_note) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  struct clb_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_results_read(THREE_FILES[0], &rows, &count, NULL, 0, &err), 0, "%s",
               err.message);
  char path[4096];
  snprintf(path, sizeof path, "%s/no-noise.csv", dir);
  FILE *out = fopen(path, "w");
  clb_results_write_header(out, NULL);
  for (size_t i = 0; i < count; i++) {
    rows[i].var_measured = rows[i].var_ci_low = rows[i].var_ci_high = NAN;
    rows[i].var_predicted = rows[i].sigma2 = rows[i].noise_scale = NAN;
    clb_results_write_row(out, &rows[i], NULL);
  }
  fclose(out);
  free(rows);
  char out_dir[4200];
  snprintf(out_dir, sizeof out_dir, "%s/out", dir);
  const char *inputs[] = {path};
  struct notes notes = {{0}};
  struct clb_report_options opt = {inputs, 1, NULL, 0, out_dir, NULL, collect, &notes};
  struct clb_report_summary summary;
  cr_assert_eq(clb_report_run(&opt, &summary, &err), 0, "%s", err.message);
  cr_expect(strstr(notes.text, "plot variance_softmax_fp32 skipped") != NULL, "%s", notes.text);
  cr_expect_gt(summary.plots_written, 0);
  char *md = read_in(out_dir, "report.md");
  cr_expect(strstr(md, "(knee)") != NULL, "without a noise scale the knee is recommended");
  free(md);
  clb_test_remove_tmpdir(dir);
}

Test(report, without_gnuplot_tables_are_still_written) {
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *dir = run_fixture_report(&notes, &summary, "/nonexistent/gnuplot");
  cr_expect_eq(summary.gnuplot_missing, 1);
  cr_expect_eq(summary.plots_written, 0);
  cr_expect(strstr(notes.text, CLB_REPORT_NO_GNUPLOT) != NULL, "%s", notes.text);
  static const char *const files[] = {"merged.csv", "report.md", "report.tex", "report.html"};
  for (size_t i = 0; i < 4; i++) {
    char *text = read_in(dir, files[i]);
    cr_expect(text && *text, "%s missing", files[i]);
    free(text);
  }
  clb_test_remove_tmpdir(dir);
}

Test(report, bad_input_writes_nothing) {
  char *dir = clb_test_tmpdir();
  char *bad = clb_test_write_file(dir, "bad.csv", "schema,host\n1,x\n");
  char out_dir[4200];
  snprintf(out_dir, sizeof out_dir, "%s/out", dir);
  const char *inputs[] = {THREE_FILES[0], bad};
  struct clb_report_options opt = {inputs, 2, NULL, 0, out_dir, NULL, NULL, NULL};
  struct clb_report_summary summary;
  struct clb_error err = {0};
  cr_expect_eq(clb_report_run(&opt, &summary, &err), CLB_E_SCHEMA);
  cr_expect_eq(summary.bad_input, 1);
  cr_expect(strstr(err.message, bad) != NULL, "%s", err.message);
  char *md = read_in(out_dir, "report.md");
  cr_expect_null(md, "a failed report must not leave tables behind");
  free(md);
  free(bad);
  clb_test_remove_tmpdir(dir);
}

struct cli_case {
  char args[256];
  int code;
  char expect_in_stderr[96];
};

ParameterizedTestParameters(report_cli, exit_codes) {
  static struct cli_case cases[] = {
      {"report", 2, "no results files given"},
      {"report /nonexistent/results.csv", 2, "/nonexistent/results.csv"},
      {"report " FIXTURES "/train-softmax.csv", 2, "train-softmax.csv: header"},
      {"report --bogus x.csv", 2, "unrecognized option"},
      {"report " FIXTURES "/gpu-node01.csv --train /nonexistent/train.csv --out /tmp/x", 2,
       "/nonexistent/train.csv"},
  };
  return cr_make_param_array(struct cli_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct cli_case *c, report_cli, exit_codes) {
  char *err = NULL;
  int code = clb_test_run_cli(c->args, NULL, &err);
  cr_expect_eq(code, c->code, "'%s' exited %d: %s", c->args, code, err);
  cr_expect(strstr(err, c->expect_in_stderr) != NULL, "'%s' said: %s", c->args, err);
  if (!strstr(c->args, "--bogus")) /* getopt adds its own line there */
    cr_expect(strchr(err, '\n') == strrchr(err, '\n'), "one line expected: %s", err);
  free(err);
}

Test(report_cli, merges_and_reports_duplicates) {
  char *dir = clb_test_tmpdir();
  char args[4096];
  snprintf(args, sizeof args, "report %s %s %s --out %s/out --quiet", THREE_FILES[0],
           THREE_FILES[1], THREE_FILES[2], dir);
  char *out = NULL, *err = NULL;
  int code = clb_test_run_cli(args, &out, &err);
  cr_expect_eq(code, 0, "%s", err);
  cr_expect(strstr(out, "3 duplicate(s) dropped") != NULL, "%s", out);
  cr_expect(strstr(out, "duplicate host=gpu-node01") != NULL, "%s", out);
  free(out);
  free(err);
  clb_test_remove_tmpdir(dir);
}

/* `clbatch report results/fleet/` with a *.csv glob also picks up each run's
 * FILE.recommend.csv: skipped with a note, not a schema error; alone, it is
 * an error that says what to give instead. */
Test(report_cli, recommendation_files_in_a_glob_are_skipped) {
  char *dir = clb_test_tmpdir();
  char *advice = clb_test_write_file(
      dir, "gpu-node01.recommend.csv",
      CLB_ADVISE_CSV_HEADER "\n\"gpu-node01\",0:0,\"H100\",mlp,fp32,device,256,4096,1e6,4096,"
                            "40,64,1.2\n");
  char args[4096];
  snprintf(args, sizeof args, "report %s %s --out %s/out", THREE_FILES[0], advice, dir);
  char *out = NULL, *err = NULL;
  cr_expect_eq(clb_test_run_cli(args, &out, &err), 0, "%s", err);
  cr_expect_not_null(strstr(out, "skipped "), "%s", out);
  cr_expect_not_null(strstr(out, "gpu-node01.recommend.csv: the recommendations"), "%s", out);
  cr_expect_not_null(strstr(out, "from 1 file(s) (1 recommendation or passes file(s) skipped)"),
                     "%s", out);
  char *md = read_in(dir, "out/report.md");
  cr_assert_not_null(md);
  cr_expect_not_null(strstr(md, "from 1 file(s) (1 recommendation or passes file(s) skipped)"));
  cr_expect_null(strstr(md, "gpu-node01.recommend.csv"), "only results files are sources:\n%s",
                 md);
  free(md);
  free(out);
  free(err);
  /* A --passes run leaves FILE.passes.csv beside its results: a glob takes it too. */
  char *text = clb_test_read_file(THREE_FILES[0]);
  char *passes = clb_test_write_file(dir, "gpu-node01.passes.csv", text);
  free(text);
  snprintf(args, sizeof args, "report %s %s --out %s/passes", THREE_FILES[0], passes, dir);
  out = err = NULL;
  cr_expect_eq(clb_test_run_cli(args, &out, &err), 0, "%s", err);
  cr_expect_not_null(strstr(out, "gpu-node01.passes.csv: the rows of each pass"), "%s", out);
  cr_expect_null(strstr(out, "duplicate host="), "its rows are not merged: %s", out);
  free(out);
  free(err);
  /* A fleet's glob hands over one of each per task: one note per kind. */
  char *advice2 = clb_test_write_file(dir, "cpu-node07.recommend.csv", CLB_ADVISE_CSV_HEADER "\n");
  snprintf(args, sizeof args, "report %s %s %s %s --out %s/many", THREE_FILES[0], advice, advice2,
           passes, dir);
  out = err = NULL;
  cr_expect_eq(clb_test_run_cli(args, &out, &err), 0, "%s", err);
  cr_expect_not_null(strstr(out, "skipped 2 recommendation files"), "%s", out);
  cr_expect_eq(clb_test_count_of(out, "skipped "), 2, "two notes, not three:\n%s", out);
  cr_expect_not_null(strstr(out, "from 1 file(s) (3 recommendation or passes file(s) skipped)"),
                     "%s", out);
  free(out);
  free(err);
  free(advice2);
  free(passes);
  snprintf(args, sizeof args, "report %s --out %s/alone", advice, dir);
  out = err = NULL;
  cr_expect_eq(clb_test_run_cli(args, &out, &err), 2);
  cr_expect_not_null(strstr(err, "none of the 1 input(s) holds results"), "%s", err);
  free(out);
  free(err);
  free(advice);
  clb_test_remove_tmpdir(dir);
}

/* ---- vendors: the platform is part of a device's identity ----------------- */

#define TWO_VENDORS FIXTURES "/two-vendors-raw.csv"

/* The colour (lc rgb '#RRGGBB') of the plot element titled `title` in a
 * gnuplot script, where each element is on its own line; "" when absent. */
static void colour_of(const char *gp, const char *title, char out[8]) {
  char quoted[1200];
  snprintf(quoted, sizeof quoted, "title '%s'", title);
  out[0] = '\0';
  const char *hit = gp ? strstr(gp, quoted) : NULL;
  if (!hit)
    return;
  const char *line = hit;
  while (line > gp && line[-1] != '\n')
    line--;
  const char *rgb = strstr(line, "lc rgb '");
  if (rgb && rgb < hit)
    snprintf(out, 8, "%.7s", rgb + 8);
}

static char *read_script(const char *out_dir, const char *name) {
  char path[4200];
  snprintf(path, sizeof path, "%s/data/%s.gp", out_dir, name);
  return clb_test_read_file(path);
}

Test(report, same_device_name_on_two_platforms_is_two_devices) {
  char *dir = clb_test_tmpdir();
  /* PoCL-CUDA and NVIDIA's OpenCL name the same card the same way. */
  const char *h100 = "NVIDIA H100 80GB HBM3";
  struct clb_row nvidia[] = {
      small_row("gpu-node02", "NVIDIA CUDA", h100, "softmax", "fp32", 64, 2e-5),
      small_row("gpu-node02", "NVIDIA CUDA", h100, "softmax", "fp32", 128, 3e-5)};
  struct clb_row pocl[] = {
      small_row("gpu-node02", "Portable Computing Language", h100, "softmax", "fp32", 64, 5e-5),
      small_row("gpu-node02", "Portable Computing Language", h100, "softmax", "fp32", 128, 6e-5)};
  char *a = write_rows(dir, "nvidia.csv", nvidia, 2);
  char *b = write_rows(dir, "pocl.csv", pocl, 2);
  const char *inputs[] = {a, b};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 2, "/nonexistent/gnuplot", &notes, &summary);
  cr_expect_eq(summary.duplicates, 0, "%s", notes.text);
  cr_expect_eq(summary.rows_merged, 4);

  char path[4200];
  snprintf(path, sizeof path, "%s/merged.csv", out);
  struct clb_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_results_read(path, &rows, &count, NULL, 0, &err), 0, "%s", err.message);
  cr_assert_eq(count, 4);
  int on_nvidia = 0, on_pocl = 0;
  for (size_t i = 0; i < count; i++) {
    on_nvidia += strcmp(rows[i].platform, "NVIDIA CUDA") == 0;
    on_pocl += strcmp(rows[i].platform, "Portable Computing Language") == 0;
  }
  cr_expect_eq(on_nvidia, 2);
  cr_expect_eq(on_pocl, 2);
  free(rows);

  /* Two series, so two lines in the device comparison. */
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  const char *compare = strstr(md, "## Device comparison");
  const char *config = strstr(md, "## Every configuration");
  cr_assert(compare && config);
  size_t lines = 0;
  for (const char *p = compare; p < config && (p = strstr(p, "| gpu-node02 |")) && p < config; p++)
    lines++;
  cr_expect_eq(lines, 2, "%s", md);
  free(md);
  free(out);
  free(a);
  free(b);
  clb_test_remove_tmpdir(dir);
}

Test(report, same_device_name_on_two_platforms_gets_two_colours) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  const char *h100 = "NVIDIA H100 80GB HBM3";
  struct clb_row rows[] = {
      small_row("gpu-node02", "NVIDIA CUDA", h100, "softmax", "fp32", 64, 2e-5),
      small_row("gpu-node02", "Portable Computing Language", h100, "softmax", "fp32", 64, 5e-5)};
  char *csv = write_rows(dir, "both.csv", rows, 2);
  const char *inputs[] = {csv};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, NULL, &notes, &summary);
  cr_expect_eq(summary.duplicates, 0);
  static const char *const plots[] = {"throughput_softmax_fp32", "step_time_softmax_fp32",
                                      "epoch_time_softmax_fp32", "variance_softmax_fp32",
                                      "memory_softmax_fp32",     "peak_softmax_fp32"};
  for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++) {
    char *gp = read_script(out, plots[i]);
    cr_assert_not_null(gp, "%s.gp missing", plots[i]);
    char nvidia[8], pocl[8];
    colour_of(gp, "NVIDIA H100 80GB HBM3 (NVIDIA CUDA, gpu-node02)", nvidia);
    colour_of(gp, "NVIDIA H100 80GB HBM3 (PoCL, gpu-node02)", pocl);
    cr_expect(nvidia[0] && pocl[0], "%s: both devices in the legend:\n%s", plots[i], gp);
    cr_expect_str_neq(nvidia, pocl, "%s: one colour for two devices", plots[i]);
    free(gp);
  }
  free(out);
  free(csv);
  clb_test_remove_tmpdir(dir);
}

/* ---- vendors: labels say the vendor -------------------------------------- */

Test(report, tables_name_the_platform_of_each_device) {
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {TWO_VENDORS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  char *tex = read_in(out, "report.tex");
  char *html = read_in(out, "report.html");
  cr_assert(md && tex && html);
  /* "Portable Computing Language" is PoCL; Intel's "(R)" is dropped. */
  cr_expect(strstr(md, "| vm   | AMD EPYC (Intel OpenCL) ") != NULL, "%s", md);
  cr_expect(strstr(md, "| vm   | pthread-skylake-avx512-AMD EPYC (PoCL) ") != NULL, "%s", md);
  cr_expect(strstr(tex, "AMD EPYC (Intel OpenCL) & softmax") != NULL);
  cr_expect(strstr(html, "<td>AMD EPYC (Intel OpenCL)</td>") != NULL);
  cr_expect(strstr(md, "Intel(R) OpenCL") == NULL && strstr(md, "Portable Computing") == NULL,
            "device cells use the short platform name");

  /* Hosts and devices: the full platform name, and Intel's empty clock is
   * "unknown", not the dash of "not measured". */
  const char *hosts = strstr(html, "<h2>Hosts and devices</h2>");
  cr_assert_not_null(hosts);
  cr_expect(strstr(hosts, "<th>platform</th>") != NULL);
  cr_expect(strstr(hosts, "<td>AMD EPYC</td><td>Intel(R) OpenCL</td><td>AMD EPYC</td>") != NULL,
            "host, CPU, platform, device in order");
  cr_expect(strstr(hosts, "<td>Portable Computing Language</td>"
                          "<td>pthread-skylake-avx512-AMD EPYC</td>") != NULL);
  const char *intel_row = strstr(hosts, "<td>Intel(R) OpenCL</td>");
  const char *pocl_row = strstr(hosts, "<td>Portable Computing Language</td>");
  cr_assert(intel_row && pocl_row);
  const char *intel_end = strstr(intel_row, "</tr>");
  const char *unknown = strstr(intel_row, "<td class=\"num\">unknown</td>");
  cr_expect(unknown && unknown < intel_end, "Intel's clock is unknown");
  const char *pocl_end = strstr(pocl_row, "</tr>");
  const char *mhz = strstr(pocl_row, "<td class=\"num\">2596</td>");
  cr_expect(mhz && mhz < pocl_end, "PoCL's clock is 2596 MHz");
  free(html);
  free(tex);
  free(md);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, platform_names_lose_trademark_signs_only) {
  char *dir = clb_test_tmpdir();
  struct clb_row rows[] = {
      small_row("h", "Intel(R) CPU Runtime for OpenCL(TM) Applications", "cpu0", "linreg", "fp32",
                8, 1e-5),
      small_row("h", "AMD Accelerated Parallel Processing", "gfx90a", "linreg", "fp32", 8, 1e-5),
      small_row("h", "", "nameless", "linreg", "fp32", 8, 1e-5)};
  char *csv = write_rows(dir, "names.csv", rows, 3);
  const char *inputs[] = {csv};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  cr_expect(strstr(md, "| cpu0 (Intel CPU Runtime for OpenCL Applications) ") != NULL, "%s", md);
  cr_expect(strstr(md, "| gfx90a (AMD Accelerated Parallel Processing) ") != NULL, "%s", md);
  cr_expect(strstr(md, "| nameless ") != NULL, "no platform, no parentheses: %s", md);
  free(md);
  free(out);
  free(csv);
  clb_test_remove_tmpdir(dir);
}

Test(report, plot_legends_name_device_platform_and_host) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {TWO_VENDORS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, NULL, &notes, &summary);
  char *gp = read_script(out, "throughput_softmax_fp32");
  cr_assert_not_null(gp);
  char intel[8], pocl[8];
  colour_of(gp, "AMD EPYC (Intel OpenCL, vm)", intel);
  colour_of(gp, "pthread-skylake-avx512-AMD EPYC (PoCL, vm)", pocl);
  cr_expect(intel[0] && pocl[0], "%s", gp);
  cr_expect_str_neq(intel, pocl);
  free(gp);
  free(out);
  clb_test_remove_tmpdir(dir);
}

/* ---- step time side by side ---------------------------------------------- */

#define MAX_CELLS 16
struct md_row {
  char cell[MAX_CELLS][400];
  size_t n;
};

/* The rows (header first, separator skipped) of the Markdown table under the
 * heading `title`; returns how many, 0 when there is no such section. */
static size_t md_section_rows(const char *md, const char *title, struct md_row *rows, size_t max) {
  char heading[512];
  snprintf(heading, sizeof heading, "## %s\n", title);
  const char *p = strstr(md, heading);
  if (!p)
    return 0;
  p += strlen(heading);
  size_t n = 0, line_no = 0;
  for (const char *end; *p && (end = strchr(p, '\n')) != NULL; p = end + 1) {
    if (*p == '#') /* the next section, or the next table of this one */
      break;
    if (*p != '|')
      continue;
    if (line_no++ == 1 || n == max)
      continue; /* the separator line */
    struct md_row *r = &rows[n++];
    r->n = 0;
    for (const char *c = p + 1; c < end && r->n < MAX_CELLS;) {
      const char *bar = c;
      while (bar < end && *bar != '|')
        bar++;
      const char *a = c, *b = bar;
      while (a < b && *a == ' ')
        a++;
      while (b > a && b[-1] == ' ')
        b--;
      snprintf(r->cell[r->n++], sizeof r->cell[0], "%.*s", (int)(b - a), a);
      c = bar + 1;
    }
  }
  return n;
}

Test(report, side_by_side_gives_exact_ratios_on_common_batches) {
  char *dir = clb_test_tmpdir();
  const char *h100 = "NVIDIA H100 80GB HBM3";
  struct clb_row rows[] = {
      /* PoCL first in the file: the baseline is chosen by order, not by input. */
      small_row("h2", "Portable Computing Language", h100, "softmax", "fp32", 64, 5e-5),
      small_row("h2", "NVIDIA CUDA", h100, "softmax", "fp32", 64, 2e-5),
      /* Only one device measured B=128: no row. */
      small_row("h2", "NVIDIA CUDA", h100, "softmax", "fp32", 128, 3e-5),
      /* Not ok on PoCL: no row either. */
      small_row("h2", "NVIDIA CUDA", h100, "softmax", "fp32", 256, 4e-5),
      small_row("h2", "Portable Computing Language", h100, "softmax", "fp32", 256, 9e-5),
      /* A host with one device gets no table. */
      small_row("solo", "NVIDIA CUDA", h100, "softmax", "fp32", 64, 2e-5)};
  snprintf(rows[4].status, sizeof rows[4].status, "oom");
  char *csv = write_rows(dir, "side.csv", rows, sizeof rows / sizeof rows[0]);
  const char *inputs[] = {csv};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  cr_expect_eq(check_markdown_tables(md), 5,
               "sources, comparison, side by side (h2) and (all hosts), every row");
  static struct md_row table[8];
  size_t n = md_section_rows(md, "Step time side by side (h2)", table, 8);
  cr_assert_eq(n, 2, "a header and one row:\n%s", md);
  static const char *const header[] = {"model",
                                       "precision",
                                       "data",
                                       "B",
                                       "step: NVIDIA H100 80GB HBM3 (NVIDIA CUDA)",
                                       "step: NVIDIA H100 80GB HBM3 (PoCL)",
                                       "ratio: NVIDIA H100 80GB HBM3 (PoCL)"};
  static const char *const row[] = {"softmax",      "fp32",         "device", "64",
                                    "20 \xC2\xB5s", "50 \xC2\xB5s", "2.50"};
  cr_assert_eq(table[0].n, 7);
  cr_assert_eq(table[1].n, 7);
  for (size_t c = 0; c < 7; c++) {
    cr_expect_str_eq(table[0].cell[c], header[c]);
    cr_expect_str_eq(table[1].cell[c], row[c]);
  }
  cr_expect(strstr(md, "Baseline: NVIDIA H100 80GB HBM3 (NVIDIA CUDA), the first device ordered "
                       "by platform, then device name.") != NULL,
            "%s", md);
  cr_expect(strstr(md, "ratio = step time on that device / step time on the baseline; > 1: the "
                       "baseline is faster.") != NULL,
            "%s", md);
  /* The definition comes right above the table. */
  const char *section = strstr(md, "## Step time side by side (h2)");
  const char *definition = strstr(md, "> 1: the baseline is faster.");
  const char *table_start = strstr(section, "\n| model");
  cr_expect(section < definition && definition < table_start);
  cr_expect(strstr(md, "side by side (solo)") == NULL, "one device: no table");

  char *tex = read_in(out, "report.tex");
  cr_assert_not_null(tex);
  cr_expect(strstr(tex, "\\caption[Step time side by side (h2)]{Step time side by side (h2). "
                        "Median device time") != NULL,
            "%s", tex);
  cr_expect(strstr(tex, "\\textgreater{} 1: the baseline is faster") != NULL);
  cr_expect(strstr(tex, "softmax & fp32 & device & 64 & 20 $\\mu$s & 50 $\\mu$s & 2.50 \\\\") !=
                NULL,
            "%s", tex);
  cr_expect(strstr(tex, "\\label{tab:clbatch-side-by-side-h2}") != NULL);
  char *html = read_in(out, "report.html");
  cr_assert_not_null(html);
  check_html_balanced(html);
  const char *h2 = strstr(html, "<h2>Step time side by side (h2)</h2>\n<p class=\"note\">");
  cr_expect_not_null(h2, "%s", html);
  cr_expect(strstr(html, "&gt; 1: the baseline is faster.</p>") != NULL);
  cr_expect(strstr(html, "<td class=\"num\">2.50</td>") != NULL);
  free(html);
  free(tex);
  free(md);
  free(out);
  free(csv);
  clb_test_remove_tmpdir(dir);
}

/* A fleet: one device per host, so no host has a side-by-side table of its
 * own; node-b ran twice (two Slurm tasks on one node), and its newer run
 * wins B = 64 while B = 128 comes from the only run that measured it. */
Test(report, fleet_hosts_side_by_side_with_sources_and_newest_wins) {
  char *dir = clb_test_tmpdir();
  const char *cuda = "NVIDIA CUDA", *amd = "AMD Accelerated Parallel Processing";
  struct clb_row a[] = {small_row("node-a", cuda, "NVIDIA H100", "softmax", "fp32", 64, 2e-5),
                        small_row("node-a", cuda, "NVIDIA H100", "softmax", "fp32", 128, 3e-5)};
  struct clb_row b1[] = {small_row("node-b", amd, "gfx90a", "softmax", "fp32", 64, 4e-5),
                         small_row("node-b", amd, "gfx90a", "softmax", "fp32", 128, 6e-5)};
  struct clb_row b2[] = {small_row("node-b", amd, "gfx90a", "softmax", "fp32", 64, 5e-5)};
  snprintf(b2[0].timestamp, sizeof b2[0].timestamp, "2026-01-03T10:00:00Z");
  char *inputs[3] = {write_rows(dir, "a.csv", a, 2), write_rows(dir, "b-1.csv", b1, 2),
                     write_rows(dir, "b-2.csv", b2, 1)};
  free(clb_test_write_file(dir, "a.config", "device = all\n"));
  /* What a Slurm task adds after clbatch's own lines (scripts/slurm-sweep.sh). */
  free(clb_test_write_file(dir, "b-2.config",
                           "device = all\n# node type: mi250; host: node-b\n"
                           "# command: clbatch run --device gpu --out b-2.csv --format csv\n"
                           "# status: ok\n"));
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, (const char *const *)inputs, 3, "/nonexistent/gnuplot", &notes,
                          &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  cr_expect_eq(check_markdown_tables(md), 5,
               "sources, comparison, all hosts, agreement (node-b's two runs), every row:\n%s", md);
  cr_expect(strstr(md, "side by side (node-a)") == NULL, "one device per host: no host table");

  static struct md_row table[8];
  size_t n = md_section_rows(md, "Step time side by side (all hosts)", table, 8);
  cr_assert_eq(n, 3, "a header and two rows:\n%s", md);
  static const char *const header[] = {
      "model", "precision", "data", "B", "step: NVIDIA H100 (NVIDIA CUDA) on node-a",
      "step: gfx90a (AMD Accelerated Parallel Processing) on node-b",
      "ratio: gfx90a (AMD Accelerated Parallel Processing) on node-b"};
  static const char *const rows[2][7] = {
      {"softmax", "fp32", "device", "64", "20 \xC2\xB5s", "50 \xC2\xB5s", "2.50"},
      {"softmax", "fp32", "device", "128", "30 \xC2\xB5s", "60 \xC2\xB5s", "2.00"}};
  for (size_t c = 0; c < 7; c++) {
    cr_expect_str_eq(table[0].cell[c], header[c]);
    cr_expect_str_eq(table[1].cell[c], rows[0][c]);
    cr_expect_str_eq(table[2].cell[c], rows[1][c]);
  }
  cr_expect(strstr(md, "Baseline: NVIDIA H100 (NVIDIA CUDA) on node-a, the first device ordered "
                       "by host, platform, then device name.") != NULL,
            "%s", md);

  n = md_section_rows(md, "Sources", table, 8);
  cr_assert_eq(n, 4, "a header and one row per file:\n%s", md);
  char repeat[4200];
  snprintf(repeat, sizeof repeat, "clbatch run --config %s/a.config", dir);
  const char *const sources[3][7] = {
      {inputs[0], "node-a", "NVIDIA H100 (NVIDIA CUDA)", "2", "2", "2026-01-02 03:04", repeat},
      {inputs[1], "node-b", "gfx90a (AMD Accelerated Parallel Processing)", "2", "1",
       "2026-01-02 03:04", "\xE2\x80\x94"},
      {inputs[2], "node-b", "gfx90a (AMD Accelerated Parallel Processing)", "1", "1",
       "2026-01-03 10:00", "clbatch run --device gpu --out b-2.csv --format csv"}};
  for (size_t r = 0; r < 3; r++)
    for (size_t c = 0; c < 7; c++)
      cr_expect_str_eq(table[r + 1].cell[c], sources[r][c], "sources row %zu column %zu", r, c);
  cr_expect(strstr(md, "the tables show the highest repeat, then the newest timestamp (newest "
                       "wins)") != NULL,
            "the merge rule is stated in the report:\n%s", md);

  char *html = read_in(out, "report.html");
  cr_assert_not_null(html);
  check_html_balanced(html);
  const char *hosts = strstr(html, "<h2>Hosts and devices</h2>");
  const char *sources_h2 = strstr(html, "<h2>Sources</h2>");
  cr_expect(hosts && sources_h2 && hosts < sources_h2, "sources follow the hosts");
  cr_expect(strstr(html, "<h2>Step time side by side (all hosts)</h2>") != NULL);
  cr_expect(strstr(html, "newest wins") != NULL);
  char *tex = read_in(out, "report.tex");
  cr_assert_not_null(tex);
  cr_expect(strstr(tex, "\\label{tab:clbatch-sources}") != NULL);
  cr_expect(strstr(tex, "\\label{tab:clbatch-side-by-side-all-hosts}") != NULL);
  free(tex);
  free(html);
  free(md);
  free(out);
  for (size_t i = 0; i < 3; i++)
    free(inputs[i]);
  clb_test_remove_tmpdir(dir);
}

Test(report, side_by_side_three_devices_two_ratio_columns) {
  char *dir = clb_test_tmpdir();
  struct clb_row rows[] = {
      /* Baseline by platform first: "Alpha CL" beats the device name "zeta". */
      small_row("h3", "Beta CL", "beta", "mlp", "fp32", 32, 4e-5),
      small_row("h3", "Beta CL", "alpha", "mlp", "fp32", 32, 3e-5),
      small_row("h3", "Alpha CL", "zeta", "mlp", "fp32", 32, 1e-5),
      /* The baseline lacks B=8: its cells and the ratios are dashes. */
      small_row("h3", "Beta CL", "alpha", "mlp", "fp32", 8, 2e-5),
      small_row("h3", "Beta CL", "beta", "mlp", "fp32", 8, 1e-5),
      /* fp16 on two devices: its own rows, after fp32's. */
      small_row("h3", "Alpha CL", "zeta", "mlp", "fp16", 32, 2e-5),
      small_row("h3", "Beta CL", "beta", "mlp", "fp16", 32, 1e-5)};
  char *csv = write_rows(dir, "three.csv", rows, sizeof rows / sizeof rows[0]);
  const char *inputs[] = {csv};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  check_markdown_tables(md);
  static struct md_row table[8];
  size_t n = md_section_rows(md, "Step time side by side (h3)", table, 8);
  cr_assert_eq(n, 4, "%s", md);
  static const char *const expect[4][9] = {
      {"model", "precision", "data", "B", "step: zeta (Alpha CL)", "step: alpha (Beta CL)",
       "step: beta (Beta CL)", "ratio: alpha (Beta CL)", "ratio: beta (Beta CL)"},
      {"mlp", "fp16", "device", "32", "20 \xC2\xB5s", "\xE2\x80\x94", "10 \xC2\xB5s",
       "\xE2\x80\x94", "0.50"},
      {"mlp", "fp32", "device", "8", "\xE2\x80\x94", "20 \xC2\xB5s", "10 \xC2\xB5s", "\xE2\x80\x94",
       "\xE2\x80\x94"},
      {"mlp", "fp32", "device", "32", "10 \xC2\xB5s", "30 \xC2\xB5s", "40 \xC2\xB5s", "3.00",
       "4.00"}};
  for (size_t r = 0; r < 4; r++) {
    cr_assert_eq(table[r].n, 9, "row %zu", r);
    for (size_t c = 0; c < 9; c++)
      cr_expect_str_eq(table[r].cell[c], expect[r][c], "row %zu column %zu", r, c);
  }
  cr_expect(strstr(md, "Baseline: zeta (Alpha CL),") != NULL, "%s", md);
  free(md);
  free(out);
  free(csv);
  clb_test_remove_tmpdir(dir);
}

Test(report, side_by_side_of_the_two_real_vendors) {
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {TWO_VENDORS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  static struct md_row table[32];
  size_t n = md_section_rows(md, "Step time side by side (vm)", table, 32);
  /* 3 models x 6 batch sizes in fp32; PoCL's fp16 rows are skipped, so fp16
   * has one device and no rows. */
  cr_expect_eq(n, 1 + 18, "%s", md);
  cr_expect_str_eq(table[0].cell[4], "step: AMD EPYC (Intel OpenCL)");
  for (size_t r = 1; r < n; r++)
    cr_expect_str_eq(table[r].cell[1], "fp32");
  /* softmax B=1024: 1.1697085 ms on Intel, 0.673 ms on PoCL. */
  int found = 0;
  for (size_t r = 1; r < n; r++)
    if (!strcmp(table[r].cell[0], "softmax") && !strcmp(table[r].cell[3], "1024")) {
      found = 1;
      cr_expect_str_eq(table[r].cell[6], "0.58");
    }
  cr_expect(found);
  free(md);
  free(out);
  clb_test_remove_tmpdir(dir);
}

/* ---- fp16 ------------------------------------------------------------------ */

#define POCL_CPU "pthread-skylake-avx512-AMD EPYC (PoCL)"
#define INTEL_CPU "AMD EPYC (Intel OpenCL)"
#define NO_FP16 "skipped: pthread-skylake-avx512-AMD EPYC lacks cl_khr_fp16 (half precision)"

Test(report, fp16_rows_are_reported_and_a_skipped_series_says_why) {
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {TWO_VENDORS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  check_markdown_tables(md);

  static struct md_row compare[16];
  size_t n = md_section_rows(md, "Device comparison", compare, 16);
  cr_assert_eq(n, 1 + 12, "2 devices x 3 models x 2 precisions");
  cr_assert_str_eq(compare[0].cell[11], "recommended B");
  size_t skipped = 0, intel_fp16 = 0;
  for (size_t r = 1; r < n; r++) {
    const struct md_row *row = &compare[r];
    if (strcmp(row->cell[3], "fp16") != 0) {
      cr_expect(strstr(row->cell[11], "(B*)") != NULL, "fp32 has a recommendation");
      continue;
    }
    if (!strcmp(row->cell[1], POCL_CPU)) {
      skipped++;
      cr_expect_str_eq(row->cell[11], NO_FP16);
      cr_expect_str_eq(row->cell[5], "\xE2\x80\x94", "no numbers for a skipped series");
    } else {
      intel_fp16++;
      cr_expect_str_eq(row->cell[1], INTEL_CPU);
      cr_expect(strstr(row->cell[11], "(B*)") != NULL, "%s", row->cell[11]);
      cr_expect_str_neq(row->cell[5], "\xE2\x80\x94", "Intel measured fp16");
    }
  }
  cr_expect_eq(skipped, 3);
  cr_expect_eq(intel_fp16, 3);

  /* Every fp16 row is in the full table: Intel's ok with numbers, PoCL's skipped. */
  static struct md_row all[80];
  n = md_section_rows(md, "Every configuration", all, 80);
  cr_assert_eq(n, 1 + 72);
  size_t fp16_ok = 0, fp16_skipped = 0;
  for (size_t r = 1; r < n; r++) {
    if (strcmp(all[r].cell[3], "fp16") != 0)
      continue;
    if (!strcmp(all[r].cell[6], "ok")) {
      fp16_ok++;
      cr_expect_str_eq(all[r].cell[1], INTEL_CPU);
      cr_expect_str_neq(all[r].cell[7], "\xE2\x80\x94", "a step time");
    } else {
      fp16_skipped++;
      cr_expect_str_eq(all[r].cell[6], "skipped");
    }
  }
  cr_expect_eq(fp16_ok, 18);
  cr_expect_eq(fp16_skipped, 18);

  char *tex = read_in(out, "report.tex");
  char *html = read_in(out, "report.html");
  cr_assert(tex && html);
  cr_expect(strstr(tex, "skipped: pthread-skylake-avx512-AMD EPYC lacks cl\\_khr\\_fp16") != NULL);
  cr_expect(strstr(html, ">" NO_FP16 "</td>") != NULL);
  free(html);
  free(tex);
  free(md);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, a_series_that_failed_in_mixed_ways_says_no_ok_rows) {
  char *dir = clb_test_tmpdir();
  struct clb_row rows[] = {small_row("h", "P", "d", "mlp", "fp64", 8, 1e-5),
                           small_row("h", "P", "d", "mlp", "fp64", 16, 1e-5),
                           small_row("h", "P", "d", "mlp", "fp32", 16, 1e-5)};
  snprintf(rows[0].status, sizeof rows[0].status, "oom");
  snprintf(rows[1].status, sizeof rows[1].status, "error");
  char *csv = write_rows(dir, "mixed.csv", rows, 3);
  const char *inputs[] = {csv};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  static struct md_row compare[4];
  size_t n = md_section_rows(md, "Device comparison", compare, 4);
  cr_assert_eq(n, 3);
  cr_expect_str_eq(compare[1].cell[3], "fp32");
  cr_expect_str_eq(compare[2].cell[3], "fp64");
  cr_expect_str_eq(compare[2].cell[11], "no ok rows");
  free(md);
  free(out);
  free(csv);
  clb_test_remove_tmpdir(dir);
}

/* ---- plots with four devices ----------------------------------------------- */

#define GPU_TWO_VENDORS FIXTURES "/gpu-node02-two-vendors.csv"

static const char *const FOUR_DEVICES[] = {
    "NVIDIA H100 80GB HBM3 (NVIDIA CUDA, gpu-node02)", "NVIDIA H100 80GB HBM3 (PoCL, gpu-node02)",
    "AMD EPYC (Intel OpenCL, vm)", "pthread-skylake-avx512-AMD EPYC (PoCL, vm)"};

/* Width and height from a PNG's IHDR chunk. */
static void png_size(const char *path, unsigned *width, unsigned *height) {
  unsigned char head[24] = {0};
  FILE *file = fopen(path, "rb");
  cr_assert_not_null(file, "%s", path);
  cr_assert_eq(fread(head, 1, sizeof head, file), sizeof head);
  fclose(file);
  *width = (unsigned)head[16] << 24 | (unsigned)head[17] << 16 | (unsigned)head[18] << 8 | head[19];
  *height =
      (unsigned)head[20] << 24 | (unsigned)head[21] << 16 | (unsigned)head[22] << 8 | head[23];
}

static char *four_device_report(char *dir, struct clb_report_summary *summary) {
  const char *inputs[] = {TWO_VENDORS, GPU_TWO_VENDORS};
  static struct notes notes;
  memset(&notes, 0, sizeof notes);
  return report_into(dir, inputs, 2, NULL, &notes, summary);
}

Test(report, four_devices_keep_one_colour_and_shape_in_every_plot) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  struct clb_report_summary summary;
  char *out = four_device_report(dir, &summary);
  cr_expect_eq(summary.duplicates, 0);
  static const char *const kinds[] = {"throughput", "step_time", "epoch_time",
                                      "variance",   "memory",    "peak"};
  static const char *const models[] = {"linreg", "softmax", "mlp"};
  char first_colour[4][8] = {{0}};
  for (size_t mi = 0; mi < 3; mi++) {
    for (size_t k = 0; k < 6; k++) {
      char name[128];
      snprintf(name, sizeof name, "%s_%s_fp32", kinds[k], models[mi]);
      expect_png_and_svg(out, name);
      char *gp = read_script(out, name);
      cr_assert_not_null(gp, "%s", name);
      for (size_t d = 0; d < 4; d++) {
        char title[256], colour[8];
        snprintf(title, sizeof title, "title '%s'", FOUR_DEVICES[d]);
        /* One legend entry per device, whatever lines it draws. */
        cr_expect_eq(clb_test_count_of(gp, title), 1, "%s: %s", name, FOUR_DEVICES[d]);
        colour_of(gp, FOUR_DEVICES[d], colour);
        if (!first_colour[d][0])
          snprintf(first_colour[d], sizeof first_colour[d], "%s", colour);
        cr_expect_str_eq(colour, first_colour[d], "%s: %s changed colour", name, FOUR_DEVICES[d]);
      }
      /* Below the plot, in two columns: 4 devices + at most 2 style entries. */
      cr_expect(strstr(gp, "set key outside below") && strstr(gp, "maxcols 2"), "%s", name);
      free(gp);
      char log[256];
      snprintf(log, sizeof log, "data/%s.log", name);
      char *text = read_in(out, log);
      cr_expect(text && !*text, "%s: gnuplot said: %s", name, text ? text : "(no log)");
      free(text);
    }
  }
  for (size_t a = 0; a < 4; a++)
    for (size_t b = a + 1; b < 4; b++)
      cr_expect_str_neq(first_colour[a], first_colour[b], "devices %zu and %zu share a colour", a,
                        b);
  /* Two hosts with two vendors each: two side-by-side tables on the page. */
  char *html = read_in(out, "report.html");
  cr_assert_not_null(html);
  check_html_balanced(html);
  cr_expect(strstr(html, "<h2>Step time side by side (gpu-node02)</h2>") != NULL);
  cr_expect(strstr(html, "<h2>Step time side by side (vm)</h2>") != NULL);
  free(html);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, device_and_wall_time_are_solid_and_dashed) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  struct clb_report_summary summary;
  char *out = four_device_report(dir, &summary);
  char *gp = read_script(out, "step_time_softmax_fp32");
  cr_assert_not_null(gp);
  for (size_t d = 0; d < 4; d++) {
    char colour[8], solid[64], dashed[64];
    colour_of(gp, FOUR_DEVICES[d], colour);
    snprintf(dashed, sizeof dashed, "dt 2 lc rgb '%s' notitle", colour);
    cr_expect(strstr(gp, dashed) != NULL, "wall time of %s dashed:\n%s", FOUR_DEVICES[d], gp);
    snprintf(solid, sizeof solid, "dt 1 lc rgb '%s' title", colour);
    cr_expect(strstr(gp, solid) != NULL, "device time of %s solid", FOUR_DEVICES[d]);
  }
  /* The legend says which is which, once, in grey. */
  cr_expect(strstr(gp, "dt 1 lc rgb '#444444' title 'solid, filled: device time'") != NULL);
  cr_expect(strstr(gp, "dt 2 lc rgb '#444444' title 'dashed, open: wall time'") != NULL);
  free(gp);
  /* Four devices' points do not hide each other where they coincide. */
  gp = read_script(out, "variance_softmax_fp32");
  cr_assert_not_null(gp);
  cr_expect_eq(clb_test_count_of(gp, "using ($1*"), 4, "variance points shifted per device:\n%s",
               gp);
  free(gp);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, legends_get_room_rather_than_squeezing_the_plot) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  struct clb_report_summary summary;
  char *out = four_device_report(dir, &summary);
  char path[4300];
  unsigned width, height;
  /* 4 devices + 2 style entries in 2 columns: 3 rows fit the usual canvas. */
  snprintf(path, sizeof path, "%s/step_time_mlp_fp32.png", out);
  png_size(path, &width, &height);
  cr_expect_eq(width, 1100);
  cr_expect_eq(height, 720);
  free(out);
  clb_test_remove_tmpdir(dir);

  /* Labels too long for half the width: one column, and a taller canvas. */
  struct notes notes = {{0}};
  dir = run_fixture_report(&notes, &summary, NULL);
  char *gp = read_script(dir, "step_time_mlp_fp32");
  cr_assert_not_null(gp);
  cr_expect(strstr(gp, "maxrows 4 maxcols 1") != NULL, "%s", gp);
  free(gp);
  snprintf(path, sizeof path, "%s/step_time_mlp_fp32.png", dir);
  png_size(path, &width, &height);
  cr_expect_eq(height, 720 + 24);
  clb_test_remove_tmpdir(dir);
}

Test(report, fp16_plots_show_the_device_that_has_it_and_name_the_one_skipped) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  struct clb_report_summary summary;
  char *out = four_device_report(dir, &summary);
  static const char *const models[] = {"linreg", "softmax", "mlp"};
  for (size_t mi = 0; mi < 3; mi++) {
    char name[128];
    snprintf(name, sizeof name, "throughput_%s_fp16", models[mi]);
    expect_png_and_svg(out, name);
    snprintf(name, sizeof name, "step_time_%s_fp16", models[mi]);
    expect_png_and_svg(out, name);
    char *gp = read_script(out, name);
    cr_assert_not_null(gp);
    char intel[8], pocl[8];
    colour_of(gp, "AMD EPYC (Intel OpenCL, vm)", intel);
    colour_of(gp, "pthread-skylake-avx512-AMD EPYC (PoCL, vm): skipped", pocl);
    cr_expect(intel[0] && pocl[0], "%s", gp);
    cr_expect_str_neq(intel, pocl);
    cr_expect(strstr(gp, "keyentry with points pt") != NULL, "the skipped device: a legend entry");
    free(gp);
    snprintf(name, sizeof name, "data/step_time_%s_fp16.log", models[mi]);
    char *log = read_in(out, name);
    cr_expect(log && !*log, "no empty data files handed to gnuplot: %s", log ? log : "");
    free(log);
  }
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, the_report_is_deterministic) {
  require_gnuplot();
  char *one = clb_test_tmpdir(), *two = clb_test_tmpdir();
  struct clb_report_summary summary;
  char *out_one = four_device_report(one, &summary);
  char *out_two = four_device_report(two, &summary);
  static const char *const files[] = {"report.md", "report.tex", "report.html", "merged.csv",
                                      "variance_softmax_fp32.svg"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char *a = read_in(out_one, files[i]), *b = read_in(out_two, files[i]);
    cr_assert(a && b, "%s", files[i]);
    cr_expect_str_eq(a, b, "%s differs between two runs", files[i]);
    free(a);
    free(b);
  }
  free(out_one);
  free(out_two);
  clb_test_remove_tmpdir(one);
  clb_test_remove_tmpdir(two);
}

/* ---- repeats and the agreement between runs -------------------------------- */

/* tests/fixtures/repeats-gpu-node03.csv, schema 2: `clbatch run --repeat 2`
 * on gpu-node03, softmax fp32 at B = 32, 64, 128 on an H100 (NVIDIA CUDA) and
 * on the host CPU (PoCL), plus the CPU's skipped fp16 row, each repeat:
 *   H100 B=32    40.0 [39.8, 40.2] us and 40.2 [40.0, 40.4]: agree, covered
 *   H100 B=64    40.0 [39.7, 40.3] and 52.0 [51.6, 52.4]: 30 % apart, not covered
 *   H100 B=128   41.0 [40.7, 41.3] and 42.0 [37.0, 48.0] unstable: the wide
 *                interval covers 41, the narrow one not 42: not covered
 *   CPU          1.000/1.002, 2.00/2.01 and 4.00/4.00 ms, each covered
 * repeats-gpu-node03-rerun.csv: a later single run of H100 B=32 (repeat 1),
 * 40.1 [39.9, 40.3] us. */
#define REPEATS FIXTURES "/repeats-gpu-node03.csv"
#define REPEATS_RERUN FIXTURES "/repeats-gpu-node03-rerun.csv"
#define H100_NODE03 "NVIDIA H100 80GB HBM3 (NVIDIA CUDA) on gpu-node03"
#define CPU_NODE03 "cpu-znver4-AMD EPYC 9454 48-Core Processor (PoCL) on gpu-node03"
#define PM "\xC2\xB1"
#define MU "\xC2\xB5"
#define DASH "\xE2\x80\x94"

/* The sentence right under the Markdown heading `title`, without its newline. */
static char *md_note_of(const char *md, const char *title) {
  char heading[512];
  snprintf(heading, sizeof heading, "## %s\n\n", title);
  const char *p = strstr(md, heading);
  if (!p)
    return NULL;
  p += strlen(heading);
  return strndup(p, strcspn(p, "\n"));
}

static void expect_md_row(const struct md_row *row, const char *const *cells, size_t n) {
  cr_assert_eq(row->n, n);
  for (size_t c = 0; c < n; c++)
    cr_expect_str_eq(row->cell[c], cells[c], "column %zu", c);
}

Test(report, repeats_get_one_note_and_the_tables_show_the_last_repeat) {
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {REPEATS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  cr_expect_eq(summary.rows_read, 14);
  cr_expect_eq(summary.rows_merged, 7);
  cr_expect_eq(summary.duplicates, 0, "repeats are not duplicates");
  cr_expect_eq(summary.repeats, 7);
  cr_expect_eq(clb_test_count_of(notes.text, "duplicate"), 0, "%s", notes.text);
  cr_expect_eq(clb_test_count_of(notes.text,
                                 REPEATS ": 2 repeats of 7 configurations; the tables show the "
                                         "last repeat, the agreement section all of them\n"),
               1, "%s", notes.text);

  char path[4300];
  snprintf(path, sizeof path, "%s/merged.csv", out);
  struct clb_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_results_read(path, &rows, &count, NULL, 0, &err), 0, "%s", err.message);
  cr_assert_eq(count, 7);
  for (size_t i = 0; i < count; i++)
    cr_expect_eq(rows[i].repeat, 2, "row %zu is repeat %.0f", i, rows[i].repeat);
  free(rows);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, agreement_of_two_repeats_per_device) {
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {REPEATS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  check_markdown_tables(md);
  cr_expect_not_null(strstr(md, "## Agreement between runs\n\nConfigurations measured ok more "
                                "than once"),
                     "%s", md);

  static struct md_row table[8];
  size_t n = md_section_rows(md, H100_NODE03, table, 8);
  cr_assert_eq(n, 4, "a header and three configurations:\n%s", md);
  static const char *const header[] = {"model",    "precision",    "data",   "B",
                                       "runs",     "median step",  "spread", "intervals cover",
                                       "unstable", "host slowdown"};
  /* Schema 3 rows: no host_slowdown. */
  static const char *const h100[3][10] = {
      {"softmax", "fp32", "device", "32", "2", "40.1 " MU "s", "0.5 %", "1/1", "0", DASH},
      {"softmax", "fp32", "device", "64", "2", "46 " MU "s", "30.0 %", "0/1", "0", DASH},
      {"softmax", "fp32", "device", "128", "2", "41.5 " MU "s", "2.4 %", "0/1", "1", DASH}};
  expect_md_row(&table[0], header, 10);
  for (size_t r = 0; r < 3; r++)
    expect_md_row(&table[r + 1], h100[r], 10);
  char *line = md_note_of(md, H100_NODE03);
  cr_expect_str_eq(line, "3 configurations measured more than once: 2 agree within " PM
                         "5 % and 2 within " PM "10 % (slowest / fastest - 1). In 1 of 3 pairs "
                         "of runs (33 %) each run's 95 % interval contains the other's median. "
                         "1 of 6 runs unstable.");
  free(line);

  n = md_section_rows(md, CPU_NODE03, table, 8);
  cr_assert_eq(n, 4, "the skipped fp16 rows are no runs:\n%s", md);
  static const char *const cpu[3][10] = {
      {"softmax", "fp32", "device", "32", "2", "1 ms", "0.2 %", "1/1", "0", DASH},
      {"softmax", "fp32", "device", "64", "2", "2 ms", "0.5 %", "1/1", "0", DASH},
      {"softmax", "fp32", "device", "128", "2", "4 ms", "0.0 %", "1/1", "0", DASH}};
  for (size_t r = 0; r < 3; r++)
    expect_md_row(&table[r + 1], cpu[r], 10);
  line = md_note_of(md, CPU_NODE03);
  cr_expect(line && strstr(line, ": 3 agree within " PM "5 % and 3 within " PM "10 %") &&
                strstr(line, "In 3 of 3 pairs of runs (100 %)") &&
                strstr(line, "0 of 6 runs unstable."),
            "%s", line);
  free(line);

  /* The same in the other formats. */
  char *tex = read_in(out, "report.tex"), *html = read_in(out, "report.html");
  cr_assert(tex && html);
  cr_expect_not_null(strstr(tex, "\\caption[Agreement between runs: " H100_NODE03 "]"), "%s", tex);
  cr_expect_not_null(strstr(tex, "softmax & fp32 & device & 64 & 2 & 46 $\\mu$s & 30.0 \\% & 0/1 "
                                 "& 0 & --- \\\\"),
                     "%s", tex);
  cr_expect_not_null(strstr(tex, "-{}-target-ci"), "options are not en dashes: %s", tex);
  check_html_balanced(html);
  cr_expect_not_null(strstr(html, "<h2>Agreement between runs</h2>"));
  cr_expect_not_null(strstr(html, "<h3>" H100_NODE03 "</h3>\n<p class=\"note\">3 configurations"));
  cr_expect_not_null(strstr(html, "<td class=\"num\">30.0 %</td>"));
  free(html);
  free(tex);
  free(md);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, unstable_rows_are_marked_in_the_configuration_table) {
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {REPEATS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  static struct md_row all[10];
  size_t n = md_section_rows(md, "Every configuration", all, 10);
  cr_assert_eq(n, 1 + 7);
  cr_assert_str_eq(all[0].cell[7], "step median");
  /* The last repeat: 40.2 [40.0, 40.4] us, 52.0 [51.6, 52.4], 42.0 [37, 48] unstable. */
  cr_expect_str_eq(all[1].cell[7], "40.2 " MU "s " PM "0.5 %");
  cr_expect_str_eq(all[2].cell[7], "52 " MU "s " PM "0.8 %");
  cr_expect_str_eq(all[3].cell[7], "42 " MU "s " PM "14 % !", "6/42 above, 5/42 below");
  cr_expect_str_eq(all[4].cell[6], "skipped");
  cr_expect_str_eq(all[4].cell[7], "\xE2\x80\x94", "a skipped row: no interval, no mark");
  cr_expect_eq(clb_test_count_of(md, " % ! |"), 2, "the configuration and side-by-side tables");
  char *note = md_note_of(md, "Every configuration");
  cr_expect_str_eq(note, PM "X %: half width of the 95 % interval of the median step time "
                            "(with --passes, of the mean of the passes' medians, widened by "
                            "the host's spread between runs), relative to it. ! unstable: the "
                            "95 % interval is wider than its target: with --passes, the "
                            "passes' mean, with the host's spread between runs (host_spread), "
                            "beyond --passes-ci (default " PM
                            "10 %), a pass failed or a faster pass was left out; with --passes "
                            "1, the median beyond --target-ci (default " PM "1 %) at "
                            "--max-time; or the host ran more than --drift-limit slower "
                            "than usual (host_slowdown). Treat this row as uncertain.");
  free(note);
  /* The side-by-side table marks it too, and explains it after its own note. */
  static struct md_row side[5];
  n = md_section_rows(md, "Step time side by side (gpu-node03)", side, 5);
  cr_assert_eq(n, 4);
  cr_expect_str_eq(side[3].cell[4], "42 " MU "s " PM "14 % !");
  cr_expect_str_eq(side[3].cell[5], "4 ms " PM "0.5 %");
  cr_expect_str_eq(side[3].cell[6], "95.24", "the ratio of the medians");
  note = md_note_of(md, "Step time side by side (gpu-node03)");
  cr_expect(note && strstr(note, "> 1: the baseline is faster. " PM "X %: half width") &&
                strstr(note, "Treat this row as uncertain."),
            "%s", note);
  free(note);
  char *tex = read_in(out, "report.tex");
  cr_assert_not_null(tex);
  cr_expect_not_null(strstr(tex, "& 42 $\\mu$s $\\pm$14 \\% ! &"), "%s", tex);
  free(tex);
  free(md);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, a_rerun_in_another_file_is_a_duplicate_and_a_third_run) {
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {REPEATS, REPEATS_RERUN};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 2, "/nonexistent/gnuplot", &notes, &summary);
  cr_expect_eq(summary.rows_read, 15);
  cr_expect_eq(summary.rows_merged, 7);
  /* Repeat 1 of H100 B=32 twice: the newer (the re-run) wins it. */
  cr_expect_eq(summary.duplicates, 1);
  cr_expect_eq(summary.repeats, 7);
  cr_expect_not_null(strstr(notes.text, "batch=32 data_on=device: kept " REPEATS_RERUN
                                        " row 1 (2026-03-05T08:00:00Z), dropped " REPEATS
                                        " row 1 (2026-03-02T10:10:00Z); the tables show " REPEATS
                                        " row 8 (2026-03-02T10:20:00Z, repeat 2)\n"),
                     "%s", notes.text);
  /* The re-run's only row is out of the tables: said once. */
  cr_expect_not_null(strstr(notes.text, "earlier repeat host=gpu-node03"), "%s", notes.text);
  cr_expect_eq(clb_test_count_of(notes.text, "earlier repeat"), 1, "%s", notes.text);
  cr_expect_eq(clb_test_count_of(notes.text, "duplicate"), 1, "%s", notes.text);

  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  static struct md_row table[8];
  size_t n = md_section_rows(md, H100_NODE03, table, 8);
  cr_assert_eq(n, 4);
  static const char *const b32[] = {"softmax",      "fp32",  "device", "32", "3",
                                    "40.1 " MU "s", "0.5 %", "3/3",    "0",  DASH};
  expect_md_row(&table[1], b32, 10);
  char *line = md_note_of(md, H100_NODE03);
  cr_expect(line && strstr(line, "In 3 of 5 pairs of runs (60 %)") &&
                strstr(line, "1 of 7 runs unstable."),
            "%s", line);
  free(line);
  free(md);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, the_same_file_twice_counts_each_run_once) {
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {REPEATS, REPEATS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 2, "/nonexistent/gnuplot", &notes, &summary);
  /* Every row of the second copy duplicates one of the first: one note for
   * the whole file, not fourteen. */
  cr_expect_eq(summary.duplicates, 14);
  cr_expect_eq(clb_test_count_of(notes.text, "duplicate"), 1, "%s", notes.text);
  cr_expect_not_null(strstr(notes.text, "duplicates: 14 configurations of " REPEATS), "%s",
                     notes.text);
  cr_expect_eq(summary.repeats, 7);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  static struct md_row table[8];
  size_t n = md_section_rows(md, H100_NODE03, table, 8);
  cr_assert_eq(n, 4);
  for (size_t r = 1; r < n; r++)
    cr_expect_str_eq(table[r].cell[4], "2", "a measurement read twice is one run");
  free(md);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, schema_1_files_compare_without_intervals) {
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *dir = run_fixture_report(&notes, &summary, "/nonexistent/gnuplot");
  cr_expect_eq(summary.repeats, 0);
  char *md = read_in(dir, "report.md");
  cr_assert_not_null(md);
  static struct md_row table[8];
  size_t n = md_section_rows(md, "NVIDIA H100 80GB HBM3 (NVIDIA CUDA) on gpu-node01", table, 8);
  cr_assert_eq(n, 4, "the re-run's three configurations:\n%s", md);
  /* mlp B=32: 60.1 us, then 89.5 us in the (older) re-run. */
  static const char *const mlp[] = {
      "mlp",     "fp32", "device", "32", "2", "74.8 " MU "s", "49.0 %", "0/1 (2 without interval)",
      "unknown", DASH};
  expect_md_row(&table[1], mlp, 10);
  char *line = md_note_of(md, "NVIDIA H100 80GB HBM3 (NVIDIA CUDA) on gpu-node01");
  cr_expect_str_eq(line, "3 configurations measured more than once: 2 agree within " PM
                         "5 % and 2 within " PM "10 % (slowest / fastest - 1). No run has an "
                         "interval to compare (schema 1 files). Stability unknown for all 6 "
                         "runs (schema 1 files).");
  free(line);
  /* No interval, no mark, no footnote in the other tables. */
  static struct md_row all[60];
  n = md_section_rows(md, "Every configuration", all, 60);
  cr_assert_eq(n, 1 + 53);
  for (size_t r = 1; r < n; r++)
    cr_expect(!strstr(all[r].cell[7], PM) && !strchr(all[r].cell[7], '!'), "%s", all[r].cell[7]);
  char *note = md_note_of(md, "Every configuration");
  cr_expect(note && strncmp(note, "| host", 6) == 0, "no note above the table: %s", note);
  free(note);
  cr_expect_null(strstr(md, " ! unstable"), "%s", md);
  free(md);
  clb_test_remove_tmpdir(dir);
}

/* Schema 4 rows carry the host's slowdown: the agreement table shows each
 * configuration's range and the device's note says what the runs read. */
Test(report, agreement_shows_how_much_slower_the_host_ran) {
  char *dir = clb_test_tmpdir();
  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(REPEATS, &count);
  char path[600];
  snprintf(path, sizeof path, "%s/slowdown.csv", dir);
  FILE *csv = fopen(path, "w");
  cr_assert_not_null(csv);
  cr_assert_eq(clb_results_write_header(csv, NULL), 0);
  for (size_t i = 0; i < count; i++) {
    if (strstr(rows[i].device, "H100"))
      rows[i].host_slowdown = rows[i].repeat == 1 ? 1.02 : 1.31;
    cr_assert_eq(clb_results_write_row(csv, &rows[i], NULL), 0);
  }
  fclose(csv);
  free(rows);
  const char *inputs[] = {path};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  static struct md_row table[8];
  size_t n = md_section_rows(md, H100_NODE03, table, 8);
  cr_assert_eq(n, 4, "%s", md);
  for (size_t r = 1; r < n; r++)
    cr_expect_str_eq(table[r].cell[9], "1.02-1.31", "row %zu", r);
  char *line = md_note_of(md, H100_NODE03);
  cr_expect(line && strstr(line, "1 of 6 runs unstable. The reference step put the host at 1.02 "
                                 "to 1.31 times its usual time (host slowdown)."),
            "%s", line);
  free(line);
  n = md_section_rows(md, CPU_NODE03, table, 8);
  cr_assert_eq(n, 4, "%s", md);
  cr_expect_str_eq(table[1].cell[9], DASH, "no history, no slowdown");
  line = md_note_of(md, CPU_NODE03);
  cr_expect(line && !strstr(line, "reference step"), "%s", line);
  free(line);
  free(md);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, one_run_per_configuration_has_no_agreement_section) {
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {TWO_VENDORS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, "/nonexistent/gnuplot", &notes, &summary);
  char *md = read_in(out, "report.md"), *tex = read_in(out, "report.tex"),
       *html = read_in(out, "report.html");
  cr_assert(md && tex && html);
  cr_expect_null(strstr(md, "Agreement between runs"));
  cr_expect_null(strstr(tex, "Agreement between runs"));
  cr_expect_null(strstr(html, "Agreement between runs"));
  free(html);
  free(tex);
  free(md);
  free(out);
  clb_test_remove_tmpdir(dir);
}

Test(report, step_time_plot_draws_intervals_as_error_bars) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  const char *inputs[] = {REPEATS};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, NULL, &notes, &summary);
  char *gp = read_script(out, "step_time_softmax_fp32");
  cr_assert_not_null(gp);
  cr_expect_eq(clb_test_count_of(gp, "using 1:3:14:15 with yerrorbars"), 2, "one per device:\n%s",
               gp);
  cr_expect_not_null(strstr(gp, "title 'solid, filled: device time; bars: 95% CI of the median'"));
  /* Drawn before the device-time line, whose markers then sit on top. */
  const char *bars = strstr(gp, "with yerrorbars"),
             *line = strstr(gp, "using 1:3 with linespoints");
  cr_expect(bars && line && bars < line, "%s", gp);
  free(gp);
  char *log = read_in(out, "data/step_time_softmax_fp32.log");
  cr_expect(log && !*log, "gnuplot said: %s", log ? log : "(no log)");
  free(log);
  expect_png_and_svg(out, "step_time_softmax_fp32");
  char *dat = read_in(out, "data/softmax_fp32_s0.dat");
  cr_assert_not_null(dat);
  cr_expect_not_null(strstr(dat, "\n128 "), "%s", dat);
  cr_expect_not_null(strstr(dat, " 3.7e-05 4.8e-05 ?\n"),
                     "the interval is columns 14 and 15, then the launch floor (none here):\n%s",
                     dat);
  free(dat);
  /* Other plots are untouched. */
  gp = read_script(out, "throughput_softmax_fp32");
  cr_expect(gp && !strstr(gp, "yerrorbars"));
  free(gp);
  free(out);
  clb_test_remove_tmpdir(dir);
}

/* Rows of `clbatch run --passes 3`: the bars are the t interval of the mean
 * of three processes' medians, and the legend says so. */
Test(report, error_bars_of_passes_say_what_they_are) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  struct clb_row rows[2] = {small_row("h", "PoCL", "cpu", "softmax", "fp32", 8, 2e-5),
                            small_row("h", "PoCL", "cpu", "softmax", "fp32", 64, 5e-5)};
  for (size_t i = 0; i < 2; i++) {
    rows[i].passes = 3;
    rows[i].step_s_ci_low = 0.9 * rows[i].step_s_median;
    rows[i].step_s_ci_high = 1.1 * rows[i].step_s_median;
    rows[i].stable = 0;
  }
  char *csv = write_rows(dir, "passes.csv", rows, 2);
  const char *inputs[] = {csv};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, NULL, &notes, &summary);
  char *gp = read_script(out, "step_time_softmax_fp32");
  cr_assert_not_null(gp);
  cr_expect_eq(clb_test_count_of(gp, "with yerrorbars"), 1, "%s", gp);
  cr_expect_not_null(
      strstr(gp, "title 'solid, filled: device time; bars: 95% CI of the passes'' mean, with "
                 "the host''s spread'"), "%s",
      gp);
  char *log = read_in(out, "data/step_time_softmax_fp32.log");
  cr_expect(log && !*log, "gnuplot said: %s", log ? log : "(no log)");
  free(log);
  free(gp);
  free(out);
  free(csv);
  clb_test_remove_tmpdir(dir);
}

Test(report, no_error_bars_without_intervals_or_with_two_lines_per_device) {
  require_gnuplot();
  /* Schema 1: no interval anywhere. */
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *dir = run_fixture_report(&notes, &summary, NULL);
  char *gp = read_script(dir, "step_time_softmax_fp32");
  cr_assert_not_null(gp);
  cr_expect_null(strstr(gp, "yerrorbars"), "%s", gp);
  cr_expect_not_null(strstr(gp, "title 'solid, filled: device time'"));
  free(gp);
  clb_test_remove_tmpdir(dir);

  /* One device with its data on the device and on the host: two lines. */
  dir = clb_test_tmpdir();
  struct clb_row rows[4];
  for (size_t i = 0; i < 4; i++) {
    rows[i] = small_row("h", "P", "d", "softmax", "fp32", i % 2 ? 64 : 32, 1e-4);
    rows[i].repeat = 1;
    rows[i].step_s_ci_low = 0.9e-4;
    rows[i].step_s_ci_high = 1.1e-4;
    rows[i].stable = 1;
    snprintf(rows[i].data_on, sizeof rows[i].data_on, "%s", i < 2 ? "device" : "host");
  }
  char *csv = write_rows(dir, "both.csv", rows, 4);
  const char *inputs[] = {csv};
  memset(&notes, 0, sizeof notes);
  char *out = report_into(dir, inputs, 1, NULL, &notes, &summary);
  gp = read_script(out, "step_time_softmax_fp32");
  cr_assert_not_null(gp);
  cr_expect_null(strstr(gp, "yerrorbars"), "%s", gp);
  free(gp);
  free(out);
  free(csv);
  clb_test_remove_tmpdir(dir);
}

/* Schema 5 rows carry the launch floor: "Every configuration" gives it with
 * its share of the step and the kernel count, "Device comparison" the batch
 * sizes it dominates, the step-time plot a dotted line per device; rows
 * without it (older files) get a dash and no line. */
Test(report, launch_floor_in_the_table_and_the_step_plot) {
  require_gnuplot();
  char *dir = clb_test_tmpdir();
  struct clb_row rows[3] = {
      small_row("h", "P", "Dev", "linreg", "fp32", 1, 20e-6),
      small_row("h", "P", "Dev", "linreg", "fp32", 64, 40e-6),
      small_row("h", "Q", "Old", "linreg", "fp32", 64, 50e-6),
  };
  for (int i = 0; i < 2; i++) {
    rows[i].kernels_per_step = 6;
    rows[i].launch_floor_s = 12e-6;
  }
  char *path = write_rows(dir, "floor.csv", rows, 3);
  const char *inputs[] = {path};
  struct notes notes = {{0}};
  struct clb_report_summary summary;
  char *out = report_into(dir, inputs, 1, NULL, &notes, &summary);
  char *md = read_in(out, "report.md");
  cr_assert_not_null(md);
  cr_expect_not_null(strstr(md, "| launch floor"), "%s", md);
  cr_expect_not_null(strstr(md, "12 µs = 60 % (6 kernels)"), "B = 1: 12 of 20 µs\n%s", md);
  cr_expect_not_null(strstr(md, "12 µs = 30 % (6 kernels)"), "B = 64: 12 of 40 µs\n%s", md);
  cr_expect_not_null(strstr(md, "Launch floor: the step's kernel launches"), "%s", md);
  /* Device comparison: B = 1 is launch-bound (60 %), B = 64 not (30 %). */
  cr_expect_not_null(strstr(md, "| launch-bound |"), "%s", md);
  cr_expect_not_null(strstr(md, "B \xE2\x89\xA4 1 |"), "%s", md);
  cr_expect_not_null(strstr(md, "Launch-bound: the batch sizes whose launch floor"), "%s", md);
  char *tex = read_in(out, "report.tex");
  cr_expect(tex && strstr(tex, "B $\\le$ 1"), "%s", tex ? tex : "(no report.tex)");
  free(tex);
  char *gp = read_script(out, "step_time_linreg_fp32");
  cr_assert_not_null(gp);
  cr_expect_eq(clb_test_count_of(gp, "using 1:16 with lines lw 1.5 dt 3"), 1,
               "one floor line, for the device that has one:\n%s", gp);
  cr_expect_not_null(strstr(gp, "dotted: launch floor"), "%s", gp);
  char *log = read_in(out, "data/step_time_linreg_fp32.log");
  cr_expect(log && !*log, "gnuplot said: %s", log ? log : "(no log)");
  free(log);
  free(gp);
  free(md);
  free(out);
  free(path);
  clb_test_remove_tmpdir(dir);
}
