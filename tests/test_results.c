#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "results/results.h"

/* A row with every column set; strings carry the characters CSV must quote. */
static void full_row(struct clb_row *row) {
  clb_row_init(row);
  for (size_t i = 0; i < clb_column_count; i++) {
    const struct clb_column *col = &clb_columns[i];
    char *base = (char *)row + col->offset;
    if (col->kind == CLB_COL_STR)
      snprintf(base, CLB_STR_FIELD_SIZE, "%s, \"quoted\"\nline two\r\nthree", col->name);
    else if (col->kind == CLB_COL_INT)
      *(double *)(void *)base = 9007199254740992.0 - (double)i; /* 2^53: exact as double */
    else {
      /* At most 9 significant digits: what %.9g preserves exactly. */
      char text[32];
      snprintf(text, sizeof text, "%zu.12345e-7", i + 1);
      *(double *)(void *)base = strtod(text, NULL);
    }
  }
  row->schema = CLB_SCHEMA_VERSION;
  snprintf(row->status, sizeof row->status, "ok");
}

static char *write_rows(const char *dir, const struct clb_row *rows, size_t n) {
  char *path = clb_test_write_file(dir, "rows.csv", "");
  FILE *out = fopen(path, "wb");
  cr_assert_not_null(out);
  cr_assert_eq(clb_results_write_header(out, NULL), 0);
  for (size_t i = 0; i < n; i++)
    cr_assert_eq(clb_results_write_row(out, &rows[i], NULL), 0);
  fclose(out);
  return path;
}

static int same_bits_or_both_nan(double a, double b) {
  return (isnan(a) && isnan(b)) || a == b;
}

Test(results, column_table_matches_struct) {
  cr_assert_gt(clb_column_count, 50);
  cr_expect_str_eq(clb_columns[0].name, "schema");
  cr_expect_str_eq(clb_columns[clb_column_count - 1].name, "message");
  for (size_t i = 1; i < clb_column_count; i++)
    cr_expect_gt(clb_columns[i].offset, clb_columns[i - 1].offset, "%s", clb_columns[i].name);
}

Test(results, row_init_defaults) {
  struct clb_row row;
  clb_row_init(&row);
  cr_expect_eq(row.schema, 6.0);
  cr_expect_str_eq(row.clbatch_version, CLBATCH_VERSION);
  cr_expect(isnan(row.batch) && isnan(row.sigma2) && isnan(row.global_mem_bytes));
  cr_expect_str_eq(row.host, "");
  cr_expect_str_eq(row.message, "");
}

Test(results, round_trip_every_column) {
  char *dir = clb_test_tmpdir();
  struct clb_row rows[2];
  full_row(&rows[0]);
  clb_row_init(&rows[1]); /* all NaN / empty except schema and version */
  char *path = write_rows(dir, rows, 2);

  struct clb_row *back = NULL;
  size_t count = 0;
  char warning[512];
  struct clb_error err = {0};
  int rc = clb_results_read(path, &back, &count, warning, sizeof warning, &err);
  cr_assert_eq(rc, 0, "%s", err.message);
  cr_assert_eq(count, 2);
  cr_expect_str_eq(warning, "");
  for (size_t r = 0; r < 2; r++)
    for (size_t i = 0; i < clb_column_count; i++) {
      const struct clb_column *col = &clb_columns[i];
      const char *a = (const char *)&rows[r] + col->offset;
      const char *b = (const char *)&back[r] + col->offset;
      if (col->kind == CLB_COL_STR)
        cr_expect_str_eq(b, a, "row %zu column %s", r, col->name);
      else
        cr_expect(same_bits_or_both_nan(*(const double *)(const void *)a,
                                        *(const double *)(const void *)b),
                  "row %zu column %s: %.17g != %.17g", r, col->name,
                  *(const double *)(const void *)a, *(const double *)(const void *)b);
    }
  free(back);
  free(path);
  free(dir);
}

Test(results, nan_is_an_empty_field_and_ints_have_no_decimals) {
  char *dir = clb_test_tmpdir();
  struct clb_row row;
  clb_row_init(&row);
  row.batch = 4096;
  row.step_s_median = 4.25e-5;
  char *path = write_rows(dir, &row, 1);
  char *text = clb_test_read_file(path);
  cr_assert_not_null(text);
  cr_expect(strstr(text, ",4096,") != NULL, "%s", text);
  cr_expect(strstr(text, ",4.25e-05,") != NULL, "%s", text);
  cr_expect(strstr(text, "nan") == NULL && strstr(text, "NaN") == NULL, "%s", text);
  cr_expect(strstr(text, ",,") != NULL, "%s", text);
  free(text);
  free(path);
  free(dir);
}

Test(results, numbers_use_a_dot_under_a_decimal_comma_locale) {
  if (!clb_test_comma_locale())
    cr_skip("no decimal-comma locale is installed or can be built");
  char *dir = clb_test_tmpdir();
  struct clb_row row;
  clb_row_init(&row);
  row.step_s_median = 0.5;
  char *path = write_rows(dir, &row, 1);
  char *text = clb_test_read_file(path);
  setlocale(LC_NUMERIC, "C");
  cr_expect(strstr(text, ",0.5,") != NULL, "%s", text);
  free(text);
  free(path);
  free(dir);
}

/* Builds "header\nrow\n" with the header and one field edited. */
static char *header_line(void) {
  static char buf[4096];
  buf[0] = '\0';
  for (size_t i = 0; i < clb_column_count; i++) {
    if (i)
      strcat(buf, ",");
    strcat(buf, clb_columns[i].name);
  }
  return buf;
}

static char *good_row_line(const char *schema) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s", schema);
  for (size_t i = 1; i < clb_column_count; i++)
    strcat(buf, strcmp(clb_columns[i].name, "batch") == 0 ? ",64" : ",");
  return buf;
}

static int read_text(const char *text, struct clb_error *err, size_t *count, char *warning,
                     size_t warning_size) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "in.csv", text);
  struct clb_row *rows = NULL;
  *count = 0;
  int rc = clb_results_read(path, &rows, count, warning, warning_size, err);
  free(rows);
  free(path);
  free(dir);
  return rc;
}

Test(results, wrong_schema_version) {
  char text[8192];
  snprintf(text, sizeof text, "%s\n%s\n", header_line(), good_row_line("7"));
  struct clb_error err = {0};
  size_t count;
  cr_expect_eq(read_text(text, &err, &count, NULL, 0), CLB_E_SCHEMA);
  cr_expect(strstr(err.message, "in.csv:2: schema version 7 in a file whose header is schema 6 "
                                "(this clbatch reads 1 to 6)") != NULL,
            "%s", err.message);
}

/* The header and a row of an older schema: the columns it has. */
static void old_schema_lines(int version, char *header, char *row, size_t size,
                             const char *row_schema) {
  header[0] = '\0';
  snprintf(row, size, "%s", row_schema);
  for (size_t i = 0; i < clb_column_count; i++) {
    if (!clb_column_in_schema(i, version))
      continue;
    if (header[0])
      strcat(header, ",");
    strcat(header, clb_columns[i].name);
    if (i == 0)
      continue;
    const char *name = clb_columns[i].name;
    strcat(row, !strcmp(name, "batch")           ? ",64"
                : !strcmp(name, "step_s_median") ? ",0.25"
                : !strcmp(name, "status")        ? ",ok"
                                                 : ",");
  }
}

/* The one row of a file with a schema `version` header and row, read back
 * (DIR/NAME; the caller frees it). */
static struct clb_row *read_old_schema(const char *dir, const char *name, int version) {
  char header[4096], row[4096], text[sizeof header + sizeof row + 2], schema[8];
  snprintf(schema, sizeof schema, "%d", version);
  old_schema_lines(version, header, row, sizeof row, schema);
  snprintf(text, sizeof text, "%s\n%s\n", header, row);
  char *path = clb_test_write_file(dir, name, text);
  struct clb_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_results_read(path, &rows, &count, NULL, 0, &err), 0, "%s", err.message);
  cr_assert_eq(count, 1);
  free(path);
  return rows;
}

Test(results, schema_1_files_still_read_with_the_new_columns_empty) {
  cr_assert(clb_column_in_schema(0, 1) && !clb_column_in_schema(clb_column_count, 1));
  size_t in_1 = 0;
  for (size_t i = 0; i < clb_column_count; i++)
    in_1 += (size_t)clb_column_in_schema(i, 1);
  cr_expect_eq(in_1, clb_column_count - 12,
               "schema 2 added seven columns, schema 3 one, schema 4 one, schema 5 two, "
               "schema 6 one");
  char *dir = clb_test_tmpdir();
  struct clb_row *rows = read_old_schema(dir, "v1.csv", 1);
  cr_expect_eq(rows[0].schema, CLB_SCHEMA_VERSION, "read back as a row of today's schema");
  cr_expect_eq(rows[0].batch, 64);
  cr_expect_eq(rows[0].step_s_median, 0.25);
  cr_expect_str_eq(rows[0].status, "ok");
  cr_expect_eq(rows[0].repeat, 1, "one run per file before --repeat");
  cr_expect_eq(rows[0].passes, 1, "one process per row before --passes");
  cr_expect(isnan(rows[0].step_s_ci_low) && isnan(rows[0].step_s_ci_high));
  cr_expect(isnan(rows[0].stable) && isnan(rows[0].rounds) && isnan(rows[0].step_rmad));
  cr_expect_str_eq(rows[0].host_warnings, "");
  free(rows);

  /* Schema 2: everything but `passes`, which reads as 1. */
  rows = read_old_schema(dir, "v2.csv", 2);
  cr_expect_eq(rows[0].passes, 1);
  cr_expect_eq(rows[0].step_s_median, 0.25);
  free(rows);

  /* Schema 3: everything but `host_slowdown`, which reads as not measured. */
  rows = read_old_schema(dir, "v3.csv", 3);
  cr_expect(isnan(rows[0].host_slowdown));
  cr_expect_eq(rows[0].step_s_median, 0.25);
  free(rows);

  /* Schema 4: everything but the launch columns, which read as not counted. */
  rows = read_old_schema(dir, "v4.csv", 4);
  cr_expect(isnan(rows[0].kernels_per_step) && isnan(rows[0].launch_floor_s));
  cr_expect_eq(rows[0].step_s_median, 0.25);
  free(rows);

  /* Schema 5: everything but `host_spread`, which reads as not known. */
  rows = read_old_schema(dir, "v5.csv", 5);
  cr_expect(isnan(rows[0].host_spread));
  cr_expect_eq(rows[0].step_s_median, 0.25);
  free(rows);

  /* A schema 2 row under a schema 1 header is refused, not guessed at. */
  char header[4096], row[4096], text[sizeof header + sizeof row + 2];
  old_schema_lines(1, header, row, sizeof row, "2");
  snprintf(text, sizeof text, "%s\n%s\n", header, row);
  char *path = clb_test_write_file(dir, "mixed.csv", text);
  size_t count = 0;
  struct clb_error err = {0};
  rows = NULL;
  cr_expect_eq(clb_results_read(path, &rows, &count, NULL, 0, &err), CLB_E_SCHEMA);
  cr_expect(strstr(err.message, "whose header is schema 1") != NULL, "%s", err.message);
  free(rows);
  free(path);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(results, missing_column_is_named) {
  char header[4096];
  snprintf(header, sizeof header, "%s", header_line());
  char *cpu = strstr(header, ",cpu,");
  memmove(cpu, cpu + 4, strlen(cpu + 4) + 1);
  char text[8192];
  snprintf(text, sizeof text, "%s\n", header);
  struct clb_error err = {0};
  size_t count;
  cr_expect_eq(read_text(text, &err, &count, NULL, 0), CLB_E_SCHEMA);
  cr_expect(strstr(err.message, "missing column 'cpu'") != NULL, "%s", err.message);
}

Test(results, reordered_header_is_named) {
  char header[4096];
  snprintf(header, sizeof header, "%s", header_line());
  /* Swap "host,cpu" into "cpu,host". */
  char *p = strstr(header, ",host,cpu,");
  memcpy(p, ",cpu,host,", 10);
  char text[8192];
  snprintf(text, sizeof text, "%s\n", header);
  struct clb_error err = {0};
  size_t count;
  cr_expect_eq(read_text(text, &err, &count, NULL, 0), CLB_E_SCHEMA);
  cr_expect(strstr(err.message, "'cpu' is out of order") != NULL, "%s", err.message);
}

Test(results, extra_column_is_named) {
  char text[8192];
  snprintf(text, sizeof text, "%s,bogus\n", header_line());
  struct clb_error err = {0};
  size_t count;
  cr_expect_eq(read_text(text, &err, &count, NULL, 0), CLB_E_SCHEMA);
  cr_expect(strstr(err.message, "extra column 'bogus'") != NULL, "%s", err.message);
}

Test(results, ragged_row_in_the_middle) {
  char text[16384];
  char row[4096];
  snprintf(row, sizeof row, "%s", good_row_line("6"));
  snprintf(text, sizeof text, "%s\n%s,extra\n%s\n", header_line(), row, row);
  struct clb_error err = {0};
  size_t count;
  cr_expect_eq(read_text(text, &err, &count, NULL, 0), CLB_E_PARSE);
  cr_expect(strstr(err.message, "in.csv:2: column") != NULL, "%s", err.message);
}

Test(results, unparsable_number_names_line_and_column) {
  char text[16384];
  char row[4096];
  snprintf(row, sizeof row, "%s", good_row_line("6"));
  char *b = strstr(row, ",64,");
  memcpy(b, ",6x,", 4);
  snprintf(text, sizeof text, "%s\n%s\n", header_line(), row);
  struct clb_error err = {0};
  size_t count;
  cr_expect_eq(read_text(text, &err, &count, NULL, 0), CLB_E_PARSE);
  cr_expect(strstr(err.message, "in.csv:2: column batch: not a number") != NULL, "%s",
            err.message);
}

struct truncated_case {
  char name[32];
  int cut_newline; /* 1: only the trailing newline is missing */
};

ParameterizedTestParameters(results, truncated_last_line_dropped) {
  static struct truncated_case cases[] = {{"no newline", 1}, {"few fields", 0}};
  return cr_make_param_array(struct truncated_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct truncated_case *c, results, truncated_last_line_dropped) {
  char text[16384];
  char row[4096];
  snprintf(row, sizeof row, "%s", good_row_line("6"));
  if (c->cut_newline)
    snprintf(text, sizeof text, "%s\n%s\n%s", header_line(), row, row);
  else
    snprintf(text, sizeof text, "%s\n%s\n%.40s\n", header_line(), row, row);
  struct clb_error err = {0};
  size_t count = 0;
  char warning[512];
  cr_assert_eq(read_text(text, &err, &count, warning, sizeof warning), 0, "%s: %s", c->name,
               err.message);
  cr_expect_eq(count, 1, "%s", c->name);
  cr_expect(strstr(warning, "in.csv:3: last line is truncated") != NULL, "%s: %s", c->name,
            warning);
}

Test(results, empty_file_is_a_parse_error) {
  struct clb_error err = {0};
  size_t count;
  cr_expect_eq(read_text("", &err, &count, NULL, 0), CLB_E_PARSE);
  cr_expect(strstr(err.message, "empty") != NULL, "%s", err.message);
}

Test(results, header_only_is_zero_rows) {
  char text[8192];
  snprintf(text, sizeof text, "%s\n", header_line());
  struct clb_error err = {0};
  size_t count = 99;
  cr_expect_eq(read_text(text, &err, &count, NULL, 0), 0, "%s", err.message);
  cr_expect_eq(count, 0);
}

Test(results, missing_file_is_io_error) {
  struct clb_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_expect_eq(clb_results_read("/nonexistent/x.csv", &rows, &count, NULL, 0, &err), CLB_E_IO);
  cr_expect(strstr(err.message, "/nonexistent/x.csv") != NULL);
}

Test(results, write_failure_is_io_error) {
  FILE *full = fopen("/dev/full", "w");
  if (!full)
    cr_skip("/dev/full not available");
  struct clb_row row;
  clb_row_init(&row);
  struct clb_error err = {0};
  cr_expect_eq(clb_results_write_row(full, &row, &err), CLB_E_IO);
  cr_expect(strstr(err.message, "cannot write a results row") != NULL, "%s", err.message);
  fclose(full);
}

/* results/SCHEMA.md documents every column in a table row, in order. */
Test(results, schema_md_lists_every_column_in_order) {
  char *text = clb_test_read_file(CLBATCH_SOURCE_DIR "/results/SCHEMA.md");
  cr_assert_not_null(text, "cannot read results/SCHEMA.md");
  const char *cursor = text;
  for (size_t i = 0; i < clb_column_count; i++) {
    char needle[128];
    snprintf(needle, sizeof needle, "\n| `%s` |", clb_columns[i].name);
    const char *at = strstr(cursor, needle);
    cr_assert_not_null(at, "SCHEMA.md: no table row for column '%s' after the previous one",
                       clb_columns[i].name);
    cursor = at + strlen(needle);
  }
  free(text);
}
