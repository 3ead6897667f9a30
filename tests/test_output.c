/* The other views of result rows (src/results/output.c: summary table, JSON,
 * Markdown) and the advice drawn from them (src/results/advise.c), from small
 * hand-made rows: no device. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "results/advise.h"
#include "results/output.h"
#include "util/csv.h"

/* An ok row of one configuration, every column the views show filled. */
static struct clb_row ok_row(const char *device, const char *index, const char *model, double batch,
                             double step_s) {
  struct clb_row r;
  clb_row_init(&r);
  snprintf(r.host, sizeof r.host, "host-a");
  snprintf(r.platform, sizeof r.platform, "Portable Computing Language");
  snprintf(r.device, sizeof r.device, "%s", device);
  snprintf(r.device_index, sizeof r.device_index, "%s", index);
  snprintf(r.model, sizeof r.model, "%s", model);
  snprintf(r.precision, sizeof r.precision, "fp32");
  snprintf(r.data_on, sizeof r.data_on, "device");
  snprintf(r.status, sizeof r.status, "ok");
  r.batch = batch;
  r.step_s_median = step_s;
  r.wall_step_s = step_s * 1.5;
  r.samples_per_s = batch / step_s;
  r.gflops = 12.5;
  r.pct_peak_flops = 3.25;
  r.device_bytes = 3.0 * 1024 * 1024;
  r.var_ratio = 1.0625;
  return r;
}

/* A row that did not run, with its reason. */
static struct clb_row failed_row(const char *device, const char *index, const char *model,
                                 double batch, const char *status, const char *message) {
  struct clb_row r = ok_row(device, index, model, batch, NAN);
  snprintf(r.status, sizeof r.status, "%s", status);
  snprintf(r.message, sizeof r.message, "%s", message);
  r.samples_per_s = r.wall_step_s = r.gflops = r.pct_peak_flops = r.device_bytes = NAN;
  r.var_ratio = NAN;
  return r;
}

/* Line `k` (0-based) of text, malloc'd, without its newline; NULL past the end. */
static char *line_of(const char *text, size_t k) {
  for (size_t i = 0; i < k && text; i++) {
    text = strchr(text, '\n');
    if (text)
      text++;
  }
  if (!text || !*text)
    return NULL;
  return strndup(text, strcspn(text, "\n"));
}

/* ---- summary table -------------------------------------------------------- */

/* The summary of `count` rows as text (malloc'd). */
static char *summary_of(const struct clb_row *rows, size_t count) {
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  clb_output_summary(out, rows, count);
  fclose(out);
  return text;
}

Test(summary, header_names_every_column) {
  char *text = summary_of(NULL, 0);
  static const char *const columns[] = {"device",  "model",  "prec",      "B",
                                        "step",    "95% CI", "wall/step", "samples/s",
                                        "GFLOP/s", "% peak", "dev MiB"};
  const char *at = text;
  for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++) {
    const char *found = strstr(at, columns[i]);
    cr_expect_not_null(found, "no column '%s' (in order) in: %s", columns[i], text);
    if (found)
      at = found + strlen(columns[i]);
  }
  cr_expect_null(strstr(text, "var ratio"), "no row measured the noise: no column: %s", text);
  cr_expect_eq(clb_test_count_lines(text), 1, "no rows, only the header: %s", text);
  free(text);
}

Test(summary, var_ratio_only_when_measured_and_about_100_columns) {
  struct clb_row row = ok_row("a device name long enough to be cut", "0:0", "softmax", 65536, 1e-4);
  row.var_ratio = NAN;
  char *text = summary_of(&row, 1);
  char *header = line_of(text, 0);
  cr_expect_null(strstr(header, "var ratio"), "%s", header);
  cr_expect_leq(strlen(header), 104, "%zu columns: %s", strlen(header), header);
  free(header);
  free(text);
  row.var_ratio = 1.0625;
  text = summary_of(&row, 1);
  header = line_of(text, 0);
  char *line = line_of(text, 1);
  cr_expect_not_null(strstr(header, "var ratio"), "%s", header);
  cr_expect_eq(strlen(line), strlen(header), "%s", text);
  cr_expect_leq(strlen(header), 114, "%s", header);
  free(line);
  free(header);
  free(text);
}

Test(summary, rows_show_their_numbers_in_aligned_columns) {
  struct clb_row rows[3] = {
      ok_row("pthread-Intel(R) Xeon(R) CPU with a very long name indeed", "0:0", "mlp", 256,
             4.25e-5),
      ok_row("cpu", "0:0", "linreg", 4096, 0.0125),
      ok_row("cpu", "0:0", "softmax", 1, 2.5),
  };
  rows[0].wall_step_s = 6.4e-5;
  rows[1].var_ratio = NAN; /* not measured: a dash */
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  clb_output_summary(out, rows, 3);
  fclose(out);
  cr_assert_eq(clb_test_count_lines(text), 4, "%s", text);
  char *header = line_of(text, 0);
  for (size_t k = 1; k <= 3; k++) {
    char *line = line_of(text, k);
    cr_expect_eq(strlen(line), strlen(header), "line %zu is not aligned:\n%s", k, text);
    free(line);
  }
  char *first = line_of(text, 1), *second = line_of(text, 2), *third = line_of(text, 3);
  cr_expect(strncmp(first, "pthread-Intel(R) Xeon( ", 23) == 0, "%s", first);
  cr_expect_null(strstr(first, "very long name"), "a long device name is cut: %s", first);
  cr_expect_not_null(strstr(first, " mlp "), "%s", first);
  cr_expect_not_null(strstr(first, " 256 "), "%s", first);
  cr_expect_not_null(strstr(first, "42.5 us"), "%s", first);
  cr_expect_not_null(strstr(first, "64.0 us"), "wall/step: %s", first);
  cr_expect_not_null(strstr(first, "6.024e+06"), "samples/s: %s", first);
  cr_expect_not_null(strstr(first, "12.5"), "GFLOP/s: %s", first);
  cr_expect_not_null(strstr(first, " 3.2 ") ? strstr(first, " 3.2 ") : strstr(first, " 3.3 "),
                     "%% peak: %s", first);
  cr_expect_not_null(strstr(first, " 3.0 "), "device MiB: %s", first);
  cr_expect_not_null(strstr(first, "1.062") ? strstr(first, "1.062") : strstr(first, "1.063"),
                     "var ratio: %s", first);
  cr_expect_not_null(strstr(second, "12.50 ms"), "%s", second);
  cr_expect_not_null(strstr(second, "4096"), "%s", second);
  size_t len = strlen(second);
  cr_expect(len > 0 && second[len - 1] == '-', "a missing var ratio is '-': %s", second);
  cr_expect_not_null(strstr(third, "2.50 s"), "%s", third);
  cr_expect_not_null(strstr(third, "3.75 s"), "%s", third);
  free(first);
  free(second);
  free(third);
  free(header);
  free(text);
}

/* Rows with an interval of the median step time: a stable one (+-1.0 %), an
 * unstable one (+-25 %), and one from a schema 1 file (no interval, stability
 * unknown). */
static void interval_rows(struct clb_row rows[3]) {
  rows[0] = ok_row("cpu", "0:0", "mlp", 32, 1e-4);
  rows[0].step_s_ci_low = 0.99e-4; /* 1.0 % below: the wider side */
  rows[0].step_s_ci_high = 1.008e-4;
  rows[0].stable = 1;
  rows[1] = ok_row("cpu", "0:0", "mlp", 64, 2e-4);
  rows[1].step_s_ci_low = 1.8e-4;
  rows[1].step_s_ci_high = 2.5e-4; /* 25 % above */
  rows[1].stable = 0;
  rows[2] = ok_row("cpu", "0:0", "mlp", 128, 3e-4);
}

Test(summary, the_interval_follows_the_step_and_an_unstable_row_is_marked) {
  struct clb_row rows[3];
  interval_rows(rows);
  char *text = summary_of(rows, 3);
  cr_assert_eq(clb_test_count_lines(text), 1 + 3 + 6, "header, rows, a six-line footnote:\n%s",
               text);
  char *header = line_of(text, 0);
  char *lines[3];
  for (size_t k = 0; k < 3; k++) {
    lines[k] = line_of(text, k + 1);
    cr_expect_eq(strlen(lines[k]), strlen(header), "not aligned:\n%s", text);
  }
  cr_expect_not_null(strstr(lines[0], " 100.0 us +-1.0%  "), "%s", lines[0]);
  cr_expect_not_null(strstr(lines[1], " 200.0 us +-25%!  "), "%s", lines[1]);
  /* Schema 1: the median alone, nothing in the interval's place. */
  cr_expect_not_null(strstr(lines[2], " 300.0 us         "), "%s", lines[2]);
  cr_expect_null(strchr(lines[0], '!'), "%s", lines[0]);
  cr_expect_null(strchr(lines[2], '!'), "%s", lines[2]);
  char *note = line_of(text, 4), *note_end = line_of(text, 9);
  for (size_t k = 0; k < 6; k++) {
    char *footnote = line_of(text, 4 + k);
    cr_expect(footnote && strlen(footnote) <= 80, "the footnote fits 80 columns: %s", footnote);
    free(footnote);
  }
  cr_expect(strncmp(note, "! unstable: the 95% interval is wider than its target: with --passes",
                    68) == 0,
            "%s", note);
  cr_expect_not_null(strstr(note_end, "Treat this row as uncertain."), "%s", note_end);
  cr_expect_leq(strlen(note), 100);
  cr_expect_leq(strlen(note_end), 100);
  free(note_end);
  free(note);
  for (size_t k = 0; k < 3; k++)
    free(lines[k]);
  free(header);
  free(text);
}

Test(summary, without_unstable_rows_no_footnote) {
  struct clb_row rows[3];
  interval_rows(rows);
  rows[1].stable = 1;
  char *text = summary_of(rows, 3);
  cr_expect_eq(clb_test_count_lines(text), 1 + 3, "%s", text);
  cr_expect_null(strchr(text, '!'), "%s", text);
  free(text);
}

Test(summary, interval_half_width_is_the_wider_side) {
  struct clb_row rows[3];
  interval_rows(rows);
  cr_expect_float_eq(clb_output_step_half_width(&rows[0]), 0.01, 1e-12);
  cr_expect_float_eq(clb_output_step_half_width(&rows[1]), 0.25, 1e-12);
  cr_expect(isnan(clb_output_step_half_width(&rows[2])));
  cr_expect_eq(clb_output_row_unstable(&rows[0]), 0);
  cr_expect_eq(clb_output_row_unstable(&rows[1]), 1);
  cr_expect_eq(clb_output_row_unstable(&rows[2]), 0, "unknown is not unstable");
  char buf[32];
  clb_output_format_half_width(buf, sizeof buf, "+-", 0.0004, "%");
  cr_expect_str_eq(buf, "+-0.0%");
  clb_output_format_half_width(buf, sizeof buf, "+-", 0.0996, "%");
  cr_expect_str_eq(buf, "+-10%", "9.96 rounds to 10: no decimal");
  clb_output_format_half_width(buf, sizeof buf, "+-", NAN, "%");
  cr_expect_str_eq(buf, "");
}

Test(summary, repeats_get_a_column_only_when_there_are_several) {
  struct clb_row rows[3] = {ok_row("cpu", "0:0", "mlp", 32, 1e-4),
                            ok_row("cpu", "0:0", "mlp", 32, 1.1e-4),
                            failed_row("cpu", "0:0", "mlp", 64, "skipped", "no fp64")};
  rows[0].repeat = rows[2].repeat = 1;
  rows[1].repeat = 2;
  char *text = summary_of(rows, 3);
  char *header = line_of(text, 0), *second = line_of(text, 2), *skipped = line_of(text, 3);
  cr_expect_not_null(strstr(header, "    B rep     step"), "%s", header);
  cr_expect_not_null(strstr(second, "   32   2 110.0 us"), "%s", second);
  cr_expect_eq(strlen(second), strlen(header), "%s", text);
  cr_expect_eq(strlen(skipped), strlen(header), "the reason fills the row: %s", text);
  free(skipped);
  free(second);
  free(header);
  free(text);
  rows[1].repeat = 1;
  text = summary_of(rows, 3);
  cr_expect_null(strstr(text, "rep"), "one repeat: no column: %s", text);
  free(text);
}

Test(summary, a_row_that_did_not_run_shows_its_status_and_reason) {
  struct clb_row rows[2] = {
      ok_row("cpu", "0:0", "mlp", 32, 1e-4),
      failed_row("cpu", "0:0", "mlp", 64, "skipped", "device lacks cl_khr_fp64"),
  };
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  clb_output_summary(out, rows, 2);
  fclose(out);
  char *header = line_of(text, 0), *line = line_of(text, 2);
  cr_assert_not_null(line, "%s", text);
  cr_expect_not_null(strstr(line, "skipped"), "%s", line);
  cr_expect_not_null(strstr(line, "device lacks cl_khr_fp64"), "the reason is shown: %s", line);
  cr_expect_eq(strlen(line), strlen(header), "still aligned:\n%s", text);
  cr_expect_eq(clb_test_count_lines(text), 3, "one line per row: %s", text);
  free(line);
  free(header);
  free(text);
}

Test(summary, a_long_or_multi_line_reason_keeps_one_aligned_line) {
  struct clb_row row = failed_row("cpu", "0:0", "mlp", 64, "error",
                                  "clEnqueueNDRangeKernel on cpu: CL_OUT_OF_RESOURCES (-5): "
                                  "the device ran out of resources while running the step\n"
                                  "second line");
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  clb_output_summary(out, &row, 1);
  fclose(out);
  cr_expect_eq(clb_test_count_lines(text), 2, "%s", text);
  char *header = line_of(text, 0), *line = line_of(text, 1);
  cr_expect_eq(strlen(line), strlen(header), "%s", text);
  cr_expect_not_null(strstr(line, "error"), "%s", line);
  cr_expect_not_null(strstr(line, "clEnqueueNDRangeKernel"), "%s", line);
  cr_expect_null(strstr(text, "second line"), "%s", text);
  free(line);
  free(header);
  free(text);
}

/* ---- what the host did ----------------------------------------------------- */

/* The notes clb_output_host_causes writes for `count` rows (malloc'd). */
static char *host_causes_of(const struct clb_row *rows, size_t count) {
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  clb_output_host_causes(out, rows, count, 0.1, 0.1);
  fclose(out);
  return text;
}

/* An unstable row of three passes with the host's spread and slowdown. */
static struct clb_row host_row(const char *device, const char *index, double spread,
                               double slowdown, int stable) {
  struct clb_row r = ok_row(device, index, "mlp", 64, 1e-4);
  r.passes = 3;
  r.host_spread = spread;
  r.host_slowdown = slowdown;
  r.stable = stable;
  return r;
}

Test(host_causes, a_note_per_device_the_host_made_unstable) {
  struct clb_row rows[] = {
      host_row("cpu", "0:0", 0.20, 1.10, 0), host_row("gpu", "1:0", 0.01, 1.00, 1),
      host_row("cpu", "0:0", 0.24, 1.30, 0), host_row("other", "2:0", 0.01, 1.02, 0),
      host_row("cpu", "0:0", 0.22, 1.25, 0), host_row("slow", "3:0", NAN, 1.35, 0),
  };
  rows[4].stable = 1;
  char *text = host_causes_of(rows, sizeof rows / sizeof rows[0]);
  /* cpu: median spread 0.22 -> 1.96 x 0.22 = 43 %; slowest 1.30. gpu: stable.
   * other: unstable, but not by the host. slow: no spread, 35 % slower. */
  cr_expect_str_eq(text, "cpu [0:0]: 2 of 3 rows unstable because of the host:\n"
                         "  a re-run may land about +-43% away (host_spread 0.22); rows measured "
                         "up to\n"
                         "  30% slower than usual (host_slowdown). Re-run on a quiet host.\n"
                         "slow [3:0]: 1 of 1 rows unstable because of the host:\n"
                         "  rows measured up to 35% slower than usual (host_slowdown). Re-run on "
                         "a quiet\n"
                         "  host.\n");
  free(text);
  /* One pass: the spread did not widen the interval, so it is not blamed. */
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    rows[i].passes = 1;
  rows[0].host_slowdown = rows[2].host_slowdown = rows[4].host_slowdown = 1.0;
  text = host_causes_of(rows, sizeof rows / sizeof rows[0]);
  cr_expect_str_eq(text, "slow [3:0]: 1 of 1 rows unstable because of the host:\n"
                         "  rows measured up to 35% slower than usual (host_slowdown). Re-run on "
                         "a quiet\n"
                         "  host.\n");
  free(text);
}

/* ---- JSON ----------------------------------------------------------------- */

static cJSON *read_json(const char *path) {
  char *text = clb_test_read_file(path);
  cr_assert_not_null(text, "%s was not written", path);
  cJSON *json = cJSON_Parse(text);
  cr_assert_not_null(json, "%s is not JSON:\n%s", path, text);
  free(text);
  return json;
}

Test(json, every_column_of_every_row_with_nan_as_null) {
  char *dir = clb_test_tmpdir();
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/r.json", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  struct clb_row rows[2] = {
      ok_row("cpu \"quoted\", with comma", "1:0", "mlp", 256, 4.25e-5),
      failed_row("cpu", "1:0", "mlp", 512, "oom", "CL_MEM_OBJECT_ALLOCATION_FAILURE"),
  };
  cJSON *description = cJSON_CreateObject();
  cJSON_AddStringToObject(description, "host", "host-a");
  cJSON *devices = cJSON_AddArrayToObject(description, "devices");
  cJSON_AddItemToArray(devices, cJSON_CreateString("cpu"));
  struct clb_error err = {0};
  cr_assert_eq(clb_output_json(path, rows, 2, description, &err), 0, "%s", err.message);
  cr_expect_neq(access(tmp, F_OK), 0, "the .tmp is renamed away");

  cJSON *json = read_json(path);
  cr_expect_eq(cJSON_GetObjectItem(json, "schema")->valuedouble, CLB_SCHEMA_VERSION);
  cr_expect(cJSON_Compare(cJSON_GetObjectItem(json, "description"), description, 1),
            "the description passes through unchanged");
  cJSON *array = cJSON_GetObjectItem(json, "rows");
  cr_assert(cJSON_IsArray(array));
  cr_assert_eq(cJSON_GetArraySize(array), 2);
  for (int r = 0; r < 2; r++) {
    cJSON *row = cJSON_GetArrayItem(array, r);
    cr_expect_eq((size_t)cJSON_GetArraySize(row), clb_column_count, "row %d: extra or missing", r);
    for (size_t c = 0; c < clb_column_count; c++) {
      const struct clb_column *column = &clb_columns[c];
      cJSON *item = cJSON_GetObjectItemCaseSensitive(row, column->name);
      cr_assert_not_null(item, "row %d lacks %s", r, column->name);
      const char *field = (const char *)&rows[r] + column->offset;
      if (column->kind == CLB_COL_STR) {
        cr_expect(cJSON_IsString(item) && strcmp(item->valuestring, field) == 0, "row %d %s: '%s'",
                  r, column->name, field);
        continue;
      }
      double value;
      memcpy(&value, field, sizeof value);
      /* cJSON prints 15 significant digits when they read back within an
       * epsilon, so the last bit may differ. */
      if (isnan(value))
        cr_expect(cJSON_IsNull(item), "row %d %s: NaN must be null", r, column->name);
      else
        cr_expect(cJSON_IsNumber(item) &&
                      fabs(item->valuedouble - value) <= 2 * DBL_EPSILON * fabs(value),
                  "row %d %s: %.17g", r, column->name, value);
    }
  }
  cJSON *first = cJSON_GetArrayItem(array, 0);
  cr_expect_eq(cJSON_GetObjectItem(first, "step_s_median")->valuedouble, 4.25e-5);
  cr_expect(cJSON_IsNull(cJSON_GetObjectItem(first, "sigma2")));
  cJSON_Delete(json);
  cJSON_Delete(description);
  clb_test_remove_tmpdir(dir);
}

Test(json, no_description_is_null_and_no_rows_an_empty_array) {
  char *dir = clb_test_tmpdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/r.json", dir);
  struct clb_error err = {0};
  cr_assert_eq(clb_output_json(path, NULL, 0, NULL, &err), 0, "%s", err.message);
  cJSON *json = read_json(path);
  cr_expect(cJSON_IsNull(cJSON_GetObjectItem(json, "description")));
  cJSON *rows = cJSON_GetObjectItem(json, "rows");
  cr_expect(cJSON_IsArray(rows) && cJSON_GetArraySize(rows) == 0);
  cJSON_Delete(json);
  clb_test_remove_tmpdir(dir);
}

Test(json, numbers_survive_a_decimal_comma_locale) {
  if (!clb_test_comma_locale())
    cr_skip("no decimal-comma locale is installed or can be built");
  char *dir = clb_test_tmpdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/r.json", dir);
  struct clb_row row = ok_row("cpu", "0:0", "mlp", 8, 0.5);
  struct clb_error err = {0};
  int rc = clb_output_json(path, &row, 1, NULL, &err);
  char *text = clb_test_read_file(path);
  setlocale(LC_NUMERIC, "C");
  cr_assert_eq(rc, 0, "%s", err.message);
  cJSON *json = cJSON_Parse(text);
  cr_assert_not_null(json, "not JSON under a decimal comma:\n%s", text);
  cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(json, "rows"), 0);
  cr_expect_eq(cJSON_GetObjectItem(first, "step_s_median")->valuedouble, 0.5);
  cJSON_Delete(json);
  free(text);
  clb_test_remove_tmpdir(dir);
}

Test(json, a_failed_write_names_the_file_and_replaces_nothing) {
  char *dir = clb_test_tmpdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/missing/r.json", dir);
  struct clb_row row = ok_row("cpu", "0:0", "mlp", 8, 0.5);
  struct clb_error err = {0};
  cr_expect_eq(clb_output_json(path, &row, 1, NULL, &err), CLB_E_IO);
  cr_expect_not_null(strstr(err.message, "missing/r.json"), "%s", err.message);

  /* An existing file is replaced whole. */
  char *existing = clb_test_write_file(dir, "old.json", "not json at all");
  cr_assert_eq(clb_output_json(existing, &row, 1, NULL, &err), 0, "%s", err.message);
  cJSON *json = read_json(existing);
  cJSON_Delete(json);
  free(existing);
  clb_test_remove_tmpdir(dir);
}

/* ---- Markdown ------------------------------------------------------------- */

static size_t pipes(const char *line) {
  return clb_test_count_of(line, "|");
}

Test(markdown, a_valid_pipe_table_with_one_line_per_row) {
  char *dir = clb_test_tmpdir();
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/r.md", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  struct clb_row rows[3] = {
      ok_row("cpu", "0:0", "mlp", 32, 1e-4),
      ok_row("cpu", "0:0", "mlp", 64, 1.5e-4),
      failed_row("cpu", "0:0", "mlp", 128, "skipped", "no fp64"),
  };
  struct clb_error err = {0};
  cr_assert_eq(clb_output_markdown(path, rows, 3, &err), 0, "%s", err.message);
  cr_expect_neq(access(tmp, F_OK), 0);
  char *text = clb_test_read_file(path);
  cr_assert_not_null(text);
  cr_expect_eq(clb_test_count_lines(text), 2 + 3, "header, separator, one line per row:\n%s", text);
  char *header = line_of(text, 0), *separator = line_of(text, 1);
  cr_expect_eq(pipes(header), 13, "12 cells: %s", header);
  cr_expect_eq(header[0], '|');
  cr_expect_not_null(strstr(header, "| device |"), "%s", header);
  cr_expect_not_null(strstr(header, "| var ratio |"), "%s", header);
  cr_expect_eq(pipes(separator), 13, "%s", separator);
  /* Each separator cell is dashes with an optional colon at either end
   * (GitHub's table extension); the number columns are right-aligned. */
  const char *cell = separator + 1;
  for (int c = 0; c < 12; c++) {
    size_t n = strcspn(cell, "|");
    size_t start = cell[0] == ':', end = n > 0 && cell[n - 1] == ':' ? n - 1 : n;
    cr_expect(end > start && strspn(cell + start, "-") == end - start, "separator cell %d: %.*s", c,
              (int)n, cell);
    cr_expect_eq(c >= 3, end < n, "cell %d: numbers right-aligned, text left: %.*s", c, (int)n,
                 cell);
    cell += n + 1;
  }
  for (size_t k = 2; k < 5; k++) {
    char *line = line_of(text, k);
    cr_expect_eq(pipes(line), 13, "row %zu: %s", k - 2, line);
    cr_expect(line[0] == '|' && line[strlen(line) - 1] == '|', "%s", line);
    free(line);
  }
  char *skipped = line_of(text, 4);
  cr_expect_not_null(strstr(skipped, "| skipped |"), "%s", skipped);
  cr_expect_not_null(strstr(text, "| 100.0 us |"), "%s", text);
  free(skipped);
  free(separator);
  free(header);
  free(text);
  clb_test_remove_tmpdir(dir);
}

Test(markdown, an_unstable_row_is_marked_and_explained_below_the_table) {
  char *dir = clb_test_tmpdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/r.md", dir);
  struct clb_row rows[3];
  interval_rows(rows);
  struct clb_error err = {0};
  cr_assert_eq(clb_output_markdown(path, rows, 3, &err), 0, "%s", err.message);
  char *text = clb_test_read_file(path);
  cr_assert_not_null(text);
  cr_expect_not_null(strstr(text, "| 100.0 us | \xC2\xB1" "1.0% |"), "%s", text);
  cr_expect_not_null(strstr(text, "| 200.0 us | \xC2\xB1" "25%! |"), "%s", text);
  cr_expect_not_null(strstr(text, "| 300.0 us |  |"), "no interval, an empty cell: %s", text);
  /* The footnote is a paragraph of its own after the table. */
  cr_expect_not_null(strstr(text, "|\n\n! unstable: the 95 % interval is wider than its "
                                  "target: with --passes"),
                     "%s", text);
  cr_expect_eq(clb_test_count_of(text, "Treat this row as uncertain"), 1);
  free(text);
  clb_test_remove_tmpdir(dir);
}

Test(markdown, a_failed_write_names_the_file) {
  struct clb_error err = {0};
  cr_expect_eq(clb_output_markdown("/nonexistent/clbatch/r.md", NULL, 0, &err), CLB_E_IO);
  cr_expect_not_null(strstr(err.message, "/nonexistent/clbatch/r.md"), "%s", err.message);
}

/* ---- advice --------------------------------------------------------------- */

/* Four batch sizes of one device and model: throughput levels off at 256. */
static size_t add_curve(struct clb_row *rows, const char *device, const char *index,
                        const char *model, double scale) {
  static const double batches[] = {1, 32, 256, 1024};
  static const double steps[] = {1e-5, 2e-5, 1e-4, 4.2e-4};
  for (size_t i = 0; i < 4; i++) {
    rows[i] = ok_row(device, index, model, batches[i], steps[i] * scale);
    rows[i].noise_scale = 100;
  }
  return 4;
}

static const struct clb_advice *find_advice(const struct clb_advice *advice, size_t count,
                                            const char *index, const char *model) {
  for (size_t i = 0; i < count; i++)
    if (!strcmp(advice[i].device_index, index) && !strcmp(advice[i].model, model))
      return &advice[i];
  return NULL;
}

Test(advise, two_devices_and_two_models_give_four_pieces_of_advice) {
  struct clb_row rows[16];
  size_t n = 0;
  /* Interleaved, as a resumed run may leave them. */
  n += add_curve(rows + n, "cpu", "0:0", "mlp", 1);
  n += add_curve(rows + n, "gpu", "1:0", "mlp", 0.5);
  n += add_curve(rows + n, "cpu", "0:0", "linreg", 2);
  n += add_curve(rows + n, "gpu", "1:0", "linreg", 1);
  struct clb_advice *advice = NULL;
  size_t count = 0;
  cr_assert_eq(clb_advise(rows, n, &advice, &count, NULL), 0);
  cr_assert_eq(count, 4);
  cr_expect(!strcmp(advice[0].device_index, "0:0") && !strcmp(advice[0].model, "mlp") &&
                !strcmp(advice[1].device_index, "1:0") && !strcmp(advice[2].model, "linreg"),
            "groups in the order they first appear");
  for (size_t i = 0; i < 4; i++) {
    const struct clb_advice *a = &advice[i];
    cr_expect(a->rec.valid, "%s %s", a->device_index, a->model);
    cr_expect_str_eq(a->host, "host-a");
    cr_expect_str_eq(a->precision, "fp32");
    cr_expect_str_eq(a->data_on, "device");
    /* samples/s: 1e5, 1.6e6, 2.56e6, 2.44e6 (times a device's scale):
     * the best is 256, and 90 % of it is first reached at 256 too. */
    cr_expect_eq(a->rec.best_batch, 256, "%s %s", a->device_index, a->model);
    cr_expect_eq(a->rec.knee_batch, 256);
    cr_expect_eq(a->rec.largest_fit, 1024);
    cr_expect_eq(a->largest_probed, 0);
    cr_expect_eq(a->noise_scale, 100);
    cr_expect_gt(a->rec.optimal_batch, 0);
  }
  const struct clb_advice *gpu_mlp = find_advice(advice, count, "1:0", "mlp");
  const struct clb_advice *cpu_linreg = find_advice(advice, count, "0:0", "linreg");
  cr_assert(gpu_mlp && cpu_linreg);
  cr_expect_eq(gpu_mlp->rec.best_samples_per_s, 256 / 0.5e-4);
  cr_expect_eq(cpu_linreg->rec.best_samples_per_s, 256 / 2e-4);
  cr_expect_str_eq(gpu_mlp->device, "gpu");
  /* B* minimises t(B) (1 + 100 / B): 1e-5*101, 2e-5*4.125, 1e-4*1.39, ... */
  cr_expect_eq(gpu_mlp->rec.optimal_batch, 32);
  /* B* = 32 is the batch size the others are compared with: no "1.00x". */
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  clb_advise_print(out, gpu_mlp, 1);
  fclose(out);
  cr_expect(strstr(text, "fastest to a target  B* = 32 (noise scale B_noise = 100)\n") != NULL,
            "%s", text);
  free(text);
  free(advice);
}

Test(advise, precision_and_data_placement_split_groups) {
  struct clb_row rows[3] = {ok_row("cpu", "0:0", "mlp", 8, 1e-4),
                            ok_row("cpu", "0:0", "mlp", 8, 1e-4),
                            ok_row("cpu", "0:0", "mlp", 8, 1e-4)};
  snprintf(rows[1].precision, sizeof rows[1].precision, "fp64");
  snprintf(rows[2].data_on, sizeof rows[2].data_on, "host");
  struct clb_advice *advice = NULL;
  size_t count = 0;
  cr_assert_eq(clb_advise(rows, 3, &advice, &count, NULL), 0);
  cr_expect_eq(count, 3);
  free(advice);
}

Test(advise, a_device_with_only_failed_rows_has_nothing_to_recommend) {
  struct clb_row rows[6];
  size_t n = add_curve(rows, "cpu", "0:0", "mlp", 1);
  rows[n++] = failed_row("broken", "2:0", "mlp", 1, "error", "clBuildProgram failed");
  rows[n++] = failed_row("broken", "2:0", "mlp", 32, "oom", "CL_OUT_OF_RESOURCES");
  struct clb_advice *advice = NULL;
  size_t count = 0;
  cr_assert_eq(clb_advise(rows, n, &advice, &count, NULL), 0);
  cr_assert_eq(count, 2);
  const struct clb_advice *broken = find_advice(advice, count, "2:0", "mlp");
  cr_assert_not_null(broken);
  cr_expect_eq(broken->rec.valid, 0);
  cr_expect_eq(broken->rec.largest_fit, 0, "nothing ran, nothing fits");
  cr_expect(isnan(broken->noise_scale));
  cr_expect_eq(broken->rec.optimal_batch, 0);
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  clb_advise_print(out, advice, count);
  fclose(out);
  cr_expect_not_null(strstr(text, "broken [2:0] mlp fp32 (data on device):\n"
                                  "  no configuration ran; nothing to recommend\n"),
                     "%s", text);
  cr_expect_not_null(strstr(text, "cpu [0:0] mlp fp32"), "%s", text);
  cr_expect_not_null(strstr(text, "throughput knee      B = 256"), "%s", text);
  free(text);
  free(advice);
}

Test(advise, failed_rows_do_not_count_and_a_probe_raises_the_largest_fit) {
  struct clb_row rows[6];
  size_t n = add_curve(rows, "cpu", "0:0", "mlp", 1);
  rows[n++] = failed_row("cpu", "0:0", "mlp", 4096, "oom", "CL_MEM_OBJECT_ALLOCATION_FAILURE");
  rows[0].noise_scale = NAN; /* the first finite noise scale of an ok row is taken */
  rows[1].noise_scale = 50;
  rows[n - 1].noise_scale = 7; /* not from a failed row */
  for (size_t i = 0; i < n; i++)
    rows[i].max_batch_fit = 3000;
  struct clb_advice *advice = NULL;
  size_t count = 0;
  cr_assert_eq(clb_advise(rows, n, &advice, &count, NULL), 0);
  cr_assert_eq(count, 1);
  cr_expect_eq(advice[0].noise_scale, 50);
  cr_expect_eq(advice[0].rec.largest_fit, 3000);
  cr_expect_eq(advice[0].largest_probed, 1);
  cr_expect_eq(advice[0].rec.best_batch, 256);
  free(advice);
}

Test(advise, no_rows_no_advice) {
  struct clb_advice *advice = NULL;
  size_t count = 7;
  cr_assert_eq(clb_advise(NULL, 0, &advice, &count, NULL), 0);
  cr_expect_eq(count, 0);
  free(advice);
}

/* The advice CSV read back with the CSV reader: `rows` of 13 fields. */
static char *write_advice_csv(const char *dir, const struct clb_advice *advice, size_t count) {
  size_t size = strlen(dir) + 32;
  char *path = malloc(size);
  snprintf(path, size, "%s/r.recommend.csv", dir);
  struct clb_error err = {0};
  cr_assert_eq(clb_advise_write_csv(path, advice, count, &err), 0, "%s", err.message);
  return path;
}

static const char advice_header[] =
    "host,device_index,device,model,precision,data_on,knee_batch,best_batch,"
    "best_samples_per_s,largest_fit,noise_scale,optimal_batch,speedup_vs_32";

Test(advise, csv_has_its_header_and_reads_back) {
  char *dir = clb_test_tmpdir();
  struct clb_row rows[10];
  size_t n = add_curve(rows, "Xeon \"Gold\", 2 sockets", "0:0", "mlp", 1);
  rows[n++] = failed_row("broken", "2:0", "mlp", 1, "error", "x");
  struct clb_advice *advice = NULL;
  size_t count = 0;
  cr_assert_eq(clb_advise(rows, n, &advice, &count, NULL), 0);
  cr_assert_eq(count, 2);
  char *path = write_advice_csv(dir, advice, count);
  char *text = clb_test_read_file(path);
  cr_expect_eq(strncmp(text, advice_header, strlen(advice_header)), 0, "%s", text);

  struct clb_csv_reader reader;
  struct clb_csv_record *record = NULL;
  struct clb_error err = {0};
  cr_assert_eq(clb_csv_open(&reader, path, &err), 0, "%s", err.message);
  cr_assert_eq(clb_csv_next(&reader, &record), 0);
  cr_expect_eq(record->count, 13);
  cr_assert_eq(clb_csv_next(&reader, &record), 0);
  cr_assert_eq(record->count, 13, "a device name with a quote and a comma breaks the row:\n%s",
               text);
  cr_expect_str_eq(clb_csv_field(record, 0), "host-a");
  cr_expect_str_eq(clb_csv_field(record, 1), "0:0");
  cr_expect_str_eq(clb_csv_field(record, 2), "Xeon \"Gold\", 2 sockets");
  cr_expect_str_eq(clb_csv_field(record, 3), "mlp");
  cr_expect_str_eq(clb_csv_field(record, 6), "256");
  cr_expect_str_eq(clb_csv_field(record, 7), "256");
  cr_expect_eq(strtod(clb_csv_field(record, 8), NULL), 2.56e6);
  cr_expect_str_eq(clb_csv_field(record, 9), "1024");
  cr_expect_str_eq(clb_csv_field(record, 10), "100");
  cr_expect_str_eq(clb_csv_field(record, 11), "32");
  /* cost(32) / cost(B*) with B* = 32 itself. */
  cr_expect_eq(strtod(clb_csv_field(record, 12), NULL), 1.0);
  /* The device without a working row: identity, then empty fields. */
  cr_assert_eq(clb_csv_next(&reader, &record), 0);
  cr_assert_eq(record->count, 13);
  cr_expect_str_eq(clb_csv_field(record, 2), "broken");
  for (size_t i = 6; i < 13; i++)
    cr_expect_str_eq(clb_csv_field(record, i), "", "field %zu", i);
  cr_expect_eq(clb_csv_next(&reader, &record), 1);
  clb_csv_destroy(&reader);
  free(text);
  free(path);
  free(advice);
  clb_test_remove_tmpdir(dir);
}

Test(advise, csv_numbers_use_a_dot_under_a_decimal_comma_locale) {
  if (!clb_test_comma_locale())
    cr_skip("no decimal-comma locale is installed or can be built");
  char *dir = clb_test_tmpdir();
  struct clb_row rows[4];
  size_t n = add_curve(rows, "cpu", "0:0", "mlp", 1);
  for (size_t i = 0; i < n; i++)
    rows[i].noise_scale = 100.5;
  struct clb_advice *advice = NULL;
  size_t count = 0;
  cr_assert_eq(clb_advise(rows, n, &advice, &count, NULL), 0);
  char *path = write_advice_csv(dir, advice, count);
  setlocale(LC_NUMERIC, "C");
  char *text = clb_test_read_file(path);
  char *line = line_of(text, 1);
  cr_expect_eq(clb_test_count_of(line, ","), 12, "a decimal comma adds fields: %s", line);
  cr_expect_not_null(strstr(line, ",100.5,"), "%s", line);
  free(line);
  free(text);
  free(path);
  free(advice);
  clb_test_remove_tmpdir(dir);
}

Test(advise, csv_write_failure_names_the_file) {
  struct clb_error err = {0};
  cr_expect_eq(clb_advise_write_csv("/nonexistent/clbatch/r.recommend.csv", NULL, 0, &err),
               CLB_E_IO);
  cr_expect_not_null(strstr(err.message, "/nonexistent/clbatch/r.recommend.csv"), "%s",
                     err.message);
}
