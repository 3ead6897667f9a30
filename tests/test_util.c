/* The util layer's files, CSV, text and option-table modules
 * (src/util/{files,csv,text,options}.c): pure host code, no device. */
#include <criterion/criterion.h>
#include <float.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "util/csv.h"
#include "util/files.h"
#include "util/grow.h"
#include "util/options.h"
#include "util/text.h"

/* DIR/NAME (malloc'd). */
static char *in_dir(const char *dir, const char *name) {
  size_t size = strlen(dir) + strlen(name) + 2;
  char *path = malloc(size);
  cr_assert_not_null(path);
  snprintf(path, size, "%s/%s", dir, name);
  return path;
}

static int exists(const char *path) {
  return access(path, F_OK) == 0;
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* PATH.tmp, as clb_atomic_open names it. */
static void tmp_of(const char *path, char *buf, size_t size) {
  snprintf(buf, size, "%s.tmp", path);
}

/* Runs `call` with `out` open on a memory stream; `text` gets what it wrote. */
#define CAPTURE(text, call)                                                                        \
  do {                                                                                             \
    size_t capture_size_ = 0;                                                                      \
    FILE *out = open_memstream(&(text), &capture_size_);                                           \
    cr_assert_not_null(out);                                                                       \
    call;                                                                                          \
    fclose(out);                                                                                   \
  } while (0)

/* ---- files: atomic writes ------------------------------------------------- */

Test(grow, starts_at_first_doubles_and_leaves_the_array_alone_on_failure) {
  size_t capacity = 0;
  int *items = clb_grow(NULL, &capacity, 1, sizeof *items, 8);
  cr_assert_not_null(items);
  cr_expect_eq(capacity, 8);
  for (int i = 0; i < 8; i++)
    items[i] = i;
  cr_expect_eq(clb_grow(items, &capacity, 8, sizeof *items, 8), items, "enough: unchanged");
  items = clb_grow(items, &capacity, 9, sizeof *items, 8);
  cr_assert_not_null(items);
  cr_expect_eq(capacity, 16, "doubles");
  items = clb_grow(items, &capacity, 100, sizeof *items, 8);
  cr_assert_not_null(items);
  cr_expect_eq(capacity, 128, "doubles until enough");
  cr_expect_eq(items[7], 7, "the contents move along");
  /* A size that would overflow: NULL, and the caller's array and capacity stay. */
  size_t before = capacity;
  cr_expect_null(clb_grow(items, &capacity, SIZE_MAX / 2, sizeof *items, 8));
  cr_expect_eq(capacity, before);
  cr_expect_eq(items[7], 7);
  free(items);
}

Test(files, atomic_file_appears_only_at_commit) {
  char *dir = clb_test_tmpdir();
  char *path = in_dir(dir, "out.txt"), tmp[4200];
  tmp_of(path, tmp, sizeof tmp);
  struct clb_atomic_file af;
  struct clb_error err = {0};
  cr_assert_eq(clb_atomic_open(&af, path, &err), 0, "%s", err.message);
  fputs("complete\n", af.file);
  fflush(af.file);
  cr_expect_not(exists(path), "the file must not exist before commit");
  cr_expect(exists(tmp), "writes go to PATH.tmp");
  cr_assert_eq(clb_atomic_commit(&af, &err), 0, "%s", err.message);
  cr_expect_null(af.file);
  cr_expect_not(exists(tmp), "commit leaves no .tmp behind");
  char *text = clb_test_read_file(path);
  cr_expect_str_eq(text, "complete\n");
  free(text);
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(files, abandon_leaves_neither_file_nor_tmp) {
  char *dir = clb_test_tmpdir();
  char *path = in_dir(dir, "out.txt"), tmp[4200];
  tmp_of(path, tmp, sizeof tmp);
  struct clb_atomic_file af;
  struct clb_error err = {0};
  cr_assert_eq(clb_atomic_open(&af, path, &err), 0, "%s", err.message);
  fputs("half a fil", af.file);
  clb_atomic_abandon(&af);
  cr_expect_null(af.file);
  cr_expect_not(exists(path));
  cr_expect_not(exists(tmp));
  clb_atomic_abandon(&af); /* twice is harmless: the file is already closed */
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(files, existing_file_is_replaced_only_on_commit) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "results.csv", "old\n");
  struct clb_atomic_file af;
  struct clb_error err = {0};

  /* Abandoned: the old content survives untouched. */
  cr_assert_eq(clb_atomic_open(&af, path, &err), 0, "%s", err.message);
  fputs("new\n", af.file);
  clb_atomic_abandon(&af);
  char *text = clb_test_read_file(path);
  cr_expect_str_eq(text, "old\n");
  free(text);

  /* Open but not committed: still the old content; committed: the new. */
  cr_assert_eq(clb_atomic_open(&af, path, &err), 0, "%s", err.message);
  fputs("new\n", af.file);
  fflush(af.file);
  text = clb_test_read_file(path);
  cr_expect_str_eq(text, "old\n", "replaced before commit");
  free(text);
  cr_assert_eq(clb_atomic_commit(&af, &err), 0, "%s", err.message);
  text = clb_test_read_file(path);
  cr_expect_str_eq(text, "new\n");
  free(text);
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(files, open_in_a_missing_folder_names_the_path_and_the_reason) {
  char *dir = clb_test_tmpdir();
  char *path = in_dir(dir, "no/such/folder/out.txt");
  struct clb_atomic_file af;
  struct clb_error err = {0};
  cr_expect_eq(clb_atomic_open(&af, path, &err), CLB_E_IO);
  cr_expect_eq(err.code, CLB_E_IO);
  cr_expect(strstr(err.message, "no/such/folder/out.txt.tmp") != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "No such file or directory") != NULL, "%s", err.message);
  cr_expect_null(af.file);
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(files, too_long_a_path_is_refused) {
  char path[5000];
  memset(path, 'a', sizeof path - 1);
  path[sizeof path - 1] = '\0';
  struct clb_atomic_file af;
  struct clb_error err = {0};
  cr_expect_eq(clb_atomic_open(&af, path, &err), CLB_E_INVAL);
  cr_expect(strstr(err.message, "path too long") != NULL, "%s", err.message);
  cr_expect_eq(clb_file_write_atomic(path, "x", 1, &err), CLB_E_INVAL);
}

/* A commit whose rename fails (the target is a folder) fails, says why, and
 * leaves no .tmp. */
Test(files, commit_onto_a_folder_fails_and_cleans_up) {
  char *dir = clb_test_tmpdir();
  char *path = in_dir(dir, "taken"), tmp[4200];
  tmp_of(path, tmp, sizeof tmp);
  cr_assert_eq(mkdir(path, 0755), 0);
  char *inside = clb_test_write_file(path, "keep", "x");
  struct clb_atomic_file af;
  struct clb_error err = {0};
  cr_assert_eq(clb_atomic_open(&af, path, &err), 0, "%s", err.message);
  fputs("data", af.file);
  cr_expect_eq(clb_atomic_commit(&af, &err), CLB_E_IO);
  cr_expect(strstr(err.message, path) != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "Is a directory") != NULL || strstr(err.message, "not empty"),
            "the message should say why: %s", err.message);
  cr_expect_not(exists(tmp));
  cr_expect(is_dir(path) && exists(inside), "the folder must be untouched");
  free(inside);
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(files, write_atomic_writes_bytes_and_empty_files) {
  char *dir = clb_test_tmpdir();
  char *path = in_dir(dir, "bin"), tmp[4200];
  tmp_of(path, tmp, sizeof tmp);
  struct clb_error err = {0};
  const char bytes[] = {'a', '\0', 'b', '\n', '\xff'};
  cr_assert_eq(clb_file_write_atomic(path, bytes, sizeof bytes, &err), 0, "%s", err.message);
  char *text = NULL;
  size_t size = 0;
  cr_assert_eq(clb_file_read(path, &text, &size, &err), 0, "%s", err.message);
  cr_expect_eq(size, sizeof bytes);
  cr_expect_eq(memcmp(text, bytes, sizeof bytes), 0);
  free(text);
  cr_expect_not(exists(tmp));

  cr_assert_eq(clb_file_write_atomic(path, NULL, 0, &err), 0, "%s", err.message);
  cr_assert_eq(clb_file_read(path, &text, &size, &err), 0, "%s", err.message);
  cr_expect_eq(size, 0, "an empty write replaces the file with an empty one");
  free(text);
  free(path);
  clb_test_remove_tmpdir(dir);
}

/* ---- files: folders ------------------------------------------------------- */

Test(files, mkdir_p_creates_nested_folders_and_accepts_existing_ones) {
  char *dir = clb_test_tmpdir();
  char *deep = in_dir(dir, "a/b/c/d");
  struct clb_error err = {0};
  cr_assert_eq(clb_mkdir_p(deep, &err), 0, "%s", err.message);
  cr_expect(is_dir(deep));
  cr_expect_eq(clb_mkdir_p(deep, &err), 0, "an existing folder is fine: %s", err.message);
  char with_slash[4200];
  snprintf(with_slash, sizeof with_slash, "%s/e/", deep);
  cr_expect_eq(clb_mkdir_p(with_slash, &err), 0, "a trailing slash: %s", err.message);
  snprintf(with_slash, sizeof with_slash, "%s/e", deep);
  cr_expect(is_dir(with_slash));
  cr_expect_eq(clb_mkdir_p("/", &err), 0);
  cr_expect_eq(clb_mkdir_p("", &err), 0);
  free(deep);
  clb_test_remove_tmpdir(dir);
}

Test(files, mkdir_p_through_a_regular_file_fails_with_a_message) {
  char *dir = clb_test_tmpdir();
  char *file = clb_test_write_file(dir, "plain", "x");
  char *below = in_dir(dir, "plain/sub/deeper");
  struct clb_error err = {0};
  cr_expect_eq(clb_mkdir_p(below, &err), CLB_E_IO);
  cr_expect(strstr(err.message, "cannot create directory") != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "/plain") != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "Not a directory") != NULL, "%s", err.message);
  free(below);

  /* The folder itself being a regular file is no folder either. */
  clb_error_clear(&err);
  cr_expect_eq(clb_mkdir_p(file, &err), CLB_E_IO, "mkdir -p on a regular file must fail");
  cr_expect(strstr(err.message, file) != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "not a directory") != NULL ||
                strstr(err.message, "Not a directory") != NULL,
            "%s", err.message);
  free(file);
  clb_test_remove_tmpdir(dir);
}

Test(files, mkdir_parents_creates_the_folders_above_a_file_only) {
  char *dir = clb_test_tmpdir();
  char *file = in_dir(dir, "x/y/out.csv");
  struct clb_error err = {0};
  cr_assert_eq(clb_mkdir_parents(file, &err), 0, "%s", err.message);
  char *parent = in_dir(dir, "x/y");
  cr_expect(is_dir(parent));
  cr_expect_not(exists(file), "the file itself is not created");
  cr_expect_eq(clb_mkdir_parents("plain-name.csv", &err), 0, "no folder part: nothing to do");
  cr_expect_eq(clb_mkdir_parents("/top-level-file", &err), 0, "the root exists");
  char *blocked = clb_test_write_file(dir, "f", "x");
  char *under = in_dir(dir, "f/g/out.csv");
  cr_expect_eq(clb_mkdir_parents(under, &err), CLB_E_IO);
  cr_expect(strstr(err.message, "Not a directory") != NULL, "%s", err.message);
  free(under);
  free(blocked);
  free(parent);
  free(file);
  clb_test_remove_tmpdir(dir);
}

/* ---- files: reading ------------------------------------------------------- */

Test(files, read_an_empty_file) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "empty", "");
  char *text = NULL;
  size_t size = 99;
  struct clb_error err = {0};
  cr_assert_eq(clb_file_read(path, &text, &size, &err), 0, "%s", err.message);
  cr_assert_not_null(text, "an empty file is an empty string, not NULL");
  cr_expect_eq(size, 0);
  cr_expect_eq(text[0], '\0');
  free(text);
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(files, read_keeps_nul_bytes_and_large_files_whole) {
  char *dir = clb_test_tmpdir();
  char *path = in_dir(dir, "big");
  /* Larger than the first 64 KiB buffer, so it has to grow. */
  size_t n = 200000;
  char *bytes = malloc(n);
  for (size_t i = 0; i < n; i++)
    bytes[i] = (char)(i % 7 == 0 ? 0 : 'a' + i % 26);
  struct clb_error err = {0};
  cr_assert_eq(clb_file_write_atomic(path, bytes, n, &err), 0, "%s", err.message);
  char *text = NULL;
  size_t size = 0;
  cr_assert_eq(clb_file_read(path, &text, &size, &err), 0, "%s", err.message);
  cr_expect_eq(size, n);
  cr_expect_eq(memcmp(text, bytes, n), 0);
  cr_expect_eq(text[n], '\0', "NUL-terminated after the last byte");
  free(text);
  free(bytes);
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(files, read_a_missing_file_names_it) {
  char *text = (char *)1;
  size_t size = 5;
  struct clb_error err = {0};
  cr_expect_eq(clb_file_read("/nonexistent/clbatch/file.csv", &text, &size, &err), CLB_E_IO);
  cr_expect_null(text);
  cr_expect_eq(size, 0);
  cr_expect(strstr(err.message, "/nonexistent/clbatch/file.csv") != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "No such file or directory") != NULL, "%s", err.message);
}

Test(files, read_a_directory_says_it_is_one) {
  char *dir = clb_test_tmpdir();
  char *text = (char *)1;
  size_t size = 5;
  struct clb_error err = {0};
  cr_expect_eq(clb_file_read(dir, &text, &size, &err), CLB_E_IO);
  cr_expect_null(text);
  cr_expect(strstr(err.message, dir) != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "Is a directory") != NULL, "%s", err.message);
  clb_test_remove_tmpdir(dir);
}

/* ---- csv: reader ---------------------------------------------------------- */

struct csv_fixture {
  struct clb_csv_reader reader;
  struct clb_csv_record *record;
};

static void csv_open(struct csv_fixture *f, const char *text, size_t size) {
  struct clb_error err = {0};
  cr_assert_eq(clb_csv_open_text(&f->reader, text, size, &err), 0, "%s", err.message);
}

/* The next record, which must exist, with its fields joined by '|'. */
static const char *csv_next_joined(struct csv_fixture *f) {
  static char joined[1024];
  cr_assert_eq(clb_csv_next(&f->reader, &f->record), 0, "expected another record");
  joined[0] = '\0';
  for (size_t i = 0; i < f->record->count; i++) {
    if (i)
      strcat(joined, "|");
    strcat(joined, clb_csv_field(f->record, i));
  }
  return joined;
}

static void csv_expect_end(struct csv_fixture *f) {
  cr_expect_eq(clb_csv_next(&f->reader, &f->record), 1, "expected the end of the input");
  cr_expect_eq(clb_csv_next(&f->reader, &f->record), 1, "the end stays the end");
}

Test(csv, quoted_fields_hold_commas_quotes_and_newlines) {
  static const char text[] = "name,text,n\n"
                             "a,\"one, two\",1\n"
                             "b,\"say \"\"hi\"\"\",2\n"
                             "c,\"line one\nline two\r\nline three\",3\n"
                             "d,\"\",4\n";
  struct csv_fixture f;
  csv_open(&f, text, strlen(text));
  cr_expect_str_eq(csv_next_joined(&f), "name|text|n");
  cr_expect_eq(f.record->line, 1);
  cr_expect_str_eq(csv_next_joined(&f), "a|one, two|1");
  cr_expect_eq(f.record->count, 3);
  cr_expect_str_eq(csv_next_joined(&f), "b|say \"hi\"|2");
  cr_expect_str_eq(csv_next_joined(&f), "c|line one\nline two\r\nline three|3");
  cr_expect_eq(f.record->line, 4);
  cr_expect(f.record->terminated && !f.record->open_quote);
  /* The record after a three-line field starts on physical line 7. */
  cr_expect_str_eq(csv_next_joined(&f), "d||4");
  cr_expect_eq(f.record->line, 7, "line %zu", f.record->line);
  cr_expect_str_eq(clb_csv_field(f.record, 1), "");
  csv_expect_end(&f);
  clb_csv_destroy(&f.reader);
}

Test(csv, crlf_ends_records_like_lf) {
  static const char text[] = "a,b\r\nc,d\r\n\r\ne,f\n";
  struct csv_fixture f;
  csv_open(&f, text, strlen(text));
  cr_expect_str_eq(csv_next_joined(&f), "a|b", "no CR left in the last field");
  cr_expect(f.record->terminated);
  cr_expect_str_eq(csv_next_joined(&f), "c|d");
  cr_expect_eq(f.record->line, 2);
  cr_expect_str_eq(csv_next_joined(&f), "", "a blank CRLF line is one empty field");
  cr_expect_eq(f.record->count, 1);
  cr_expect(clb_csv_is_blank(f.record));
  cr_expect_str_eq(csv_next_joined(&f), "e|f");
  cr_expect_eq(f.record->line, 4);
  csv_expect_end(&f);
  clb_csv_destroy(&f.reader);
}

Test(csv, a_utf8_byte_order_mark_is_skipped_only_at_the_start) {
  static const char text[] = "\xEF\xBB\xBFname,value\n\xEF\xBB\xBFx,1\n";
  struct csv_fixture f;
  csv_open(&f, text, strlen(text));
  cr_expect_str_eq(csv_next_joined(&f), "name|value");
  cr_expect_eq(f.record->line, 1);
  cr_expect_str_eq(csv_next_joined(&f), "\xEF\xBB\xBFx|1", "a BOM inside is data");
  csv_expect_end(&f);
  clb_csv_destroy(&f.reader);

  /* A file holding only a BOM has no records. */
  csv_open(&f, "\xEF\xBB\xBF", 3);
  csv_expect_end(&f);
  clb_csv_destroy(&f.reader);
}

Test(csv, a_missing_final_newline_is_flagged) {
  static const char text[] = "a,b\nc,d";
  struct csv_fixture f;
  csv_open(&f, text, strlen(text));
  cr_expect_str_eq(csv_next_joined(&f), "a|b");
  cr_expect_eq(f.record->terminated, 1);
  cr_expect_str_eq(csv_next_joined(&f), "c|d");
  cr_expect_eq(f.record->terminated, 0, "the last record has no newline");
  cr_expect_eq(f.record->open_quote, 0);
  cr_expect_eq(f.record->line, 2);
  csv_expect_end(&f);
  clb_csv_destroy(&f.reader);
}

Test(csv, an_unterminated_quote_is_flagged) {
  static const char text[] = "a,b\nc,\"never closed\nd,e\n";
  struct csv_fixture f;
  csv_open(&f, text, strlen(text));
  cr_expect_str_eq(csv_next_joined(&f), "a|b");
  cr_expect_eq(f.record->open_quote, 0);
  /* The open quote swallows the rest of the input into one field. */
  cr_expect_str_eq(csv_next_joined(&f), "c|never closed\nd,e\n");
  cr_expect_eq(f.record->open_quote, 1);
  cr_expect_eq(f.record->terminated, 0);
  csv_expect_end(&f);
  clb_csv_destroy(&f.reader);
}

Test(csv, empty_input_has_no_records) {
  struct csv_fixture f;
  csv_open(&f, "", 0);
  csv_expect_end(&f);
  clb_csv_destroy(&f.reader);
}

Test(csv, empty_fields_and_blank_records) {
  static const char text[] = ",,\n  ,\t\n \" \" ,x\n";
  struct csv_fixture f;
  csv_open(&f, text, strlen(text));
  cr_expect_str_eq(csv_next_joined(&f), "||");
  cr_expect_eq(f.record->count, 3);
  cr_expect(clb_csv_is_blank(f.record));
  cr_expect_str_eq(csv_next_joined(&f), "  |\t");
  cr_expect(clb_csv_is_blank(f.record), "white space only is blank");
  cr_expect_str_eq(csv_next_joined(&f), "   |x");
  cr_expect_not(clb_csv_is_blank(f.record));
  csv_expect_end(&f);
  clb_csv_destroy(&f.reader);
}

Test(csv, the_text_is_copied_and_fields_may_be_edited) {
  char text[] = "k , v \n";
  struct csv_fixture f;
  csv_open(&f, text, strlen(text));
  text[0] = 'X'; /* the reader holds its own copy */
  cr_assert_eq(clb_csv_next(&f.reader, &f.record), 0);
  cr_expect_str_eq(clb_csv_field(f.record, 0), "k ");
  char *field = (char *)clb_csv_field(f.record, 1);
  cr_expect_str_eq(clb_trim(field), "v");
  clb_csv_destroy(&f.reader);
}

Test(csv, many_and_long_fields) {
  /* More fields and more bytes than the reader's first allocations. */
  size_t fields = 300, width = 50;
  char *text = malloc(fields * (width + 1) + 2);
  char *p = text;
  for (size_t i = 0; i < fields; i++) {
    memset(p, 'a' + (char)(i % 26), width);
    p += width;
    *p++ = i + 1 < fields ? ',' : '\n';
  }
  *p = '\0';
  struct csv_fixture f;
  csv_open(&f, text, strlen(text));
  cr_assert_eq(clb_csv_next(&f.reader, &f.record), 0);
  cr_assert_eq(f.record->count, fields);
  for (size_t i = 0; i < fields; i++) {
    const char *field = clb_csv_field(f.record, i);
    cr_expect_eq(strlen(field), width, "field %zu", i);
    cr_expect_eq(field[0], 'a' + (char)(i % 26), "field %zu", i);
  }
  clb_csv_destroy(&f.reader);
  free(text);
}

Test(csv, open_reads_a_file_and_names_a_missing_one) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "t.csv", "\xEF\xBB\xBFx,y\n1,2\n");
  struct clb_csv_reader reader;
  struct clb_csv_record *record = NULL;
  struct clb_error err = {0};
  cr_assert_eq(clb_csv_open(&reader, path, &err), 0, "%s", err.message);
  cr_assert_eq(clb_csv_next(&reader, &record), 0);
  cr_expect_str_eq(clb_csv_field(record, 0), "x", "the BOM is skipped in files too");
  clb_csv_destroy(&reader);
  char *missing = in_dir(dir, "missing.csv");
  cr_expect_eq(clb_csv_open(&reader, missing, &err), CLB_E_IO);
  cr_expect(strstr(err.message, "missing.csv") != NULL, "%s", err.message);
  clb_csv_destroy(&reader); /* also after a failure */
  free(missing);
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(csv, find_columns_in_any_order) {
  struct csv_fixture f;
  static const char text[] = "batch,model,step_s\n";
  csv_open(&f, text, strlen(text));
  cr_assert_eq(clb_csv_next(&f.reader, &f.record), 0);
  const char *const all[] = {"step_s", "batch", "model"};
  int index[3];
  cr_expect_null(clb_csv_find_columns(f.record, all, 3, index));
  cr_expect(index[0] == 2 && index[1] == 0 && index[2] == 1, "%d %d %d", index[0], index[1],
            index[2]);
  const char *const some[] = {"model", "device", "host"};
  cr_expect_str_eq(clb_csv_find_columns(f.record, some, 3, index), "device",
                   "the first missing name");
  cr_expect(index[0] == 1 && index[1] == -1 && index[2] == -1);
  const char *const prefix[] = {"step"};
  cr_expect_str_eq(clb_csv_find_columns(f.record, prefix, 1, index), "step",
                   "names match whole fields only");
  clb_csv_destroy(&f.reader);
}

/* ---- csv: writer ---------------------------------------------------------- */

Test(csv, write_field_quotes_exactly_when_needed) {
  static const struct {
    const char *field, *written;
  } cases[] = {
      {"plain", "plain"},
      {"", ""},
      {" spaces kept ", " spaces kept "},
      {"semi;colon", "semi;colon"},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"\"", "\"\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      {"cr\ronly", "\"cr\ronly\""},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = NULL;
    CAPTURE(text, clb_csv_write_field(out, cases[i].field));
    cr_expect_str_eq(text, cases[i].written, "field '%s'", cases[i].field);
    free(text);
  }
}

Test(csv, written_fields_read_back_unchanged) {
  const char *const fields[] = {"plain", "",  "a,b",   "say \"hi\"", "x\r\ny",     "\"\"",
                                "\n",    ",", " lead", "trail ",     "caf\xC3\xA9"};
  size_t n = sizeof fields / sizeof fields[0];
  char *text = NULL;
  CAPTURE(text, {
    for (int row = 0; row < 2; row++)
      for (size_t i = 0; i < n; i++) {
        clb_csv_write_field(out, fields[i]);
        fputc(i + 1 < n ? ',' : '\n', out);
      }
  });
  struct csv_fixture f;
  csv_open(&f, text, strlen(text));
  for (int row = 0; row < 2; row++) {
    cr_assert_eq(clb_csv_next(&f.reader, &f.record), 0);
    cr_assert_eq(f.record->count, n, "row %d", row);
    for (size_t i = 0; i < n; i++)
      cr_expect_str_eq(clb_csv_field(f.record, i), fields[i], "row %d field %zu", row, i);
  }
  csv_expect_end(&f);
  clb_csv_destroy(&f.reader);
  free(text);
}

Test(csv, write_number_spells_missing_and_infinite_values) {
  static const struct {
    double value;
    const char *format, *missing, *written;
  } cases[] = {
      {0.5, "%.9g", "", "0.5"},        {-1.25e-7, "%.9g", "", "-1.25e-07"},
      {4096, "%.0f", "", "4096"},      {NAN, "%.9g", "", ""},
      {NAN, "%.9g", "NA", "NA"},       {INFINITY, "%.9g", "", "inf"},
      {-INFINITY, "%.3f", "", "-inf"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *text = NULL;
    CAPTURE(text, clb_csv_write_number(out, cases[i].format, cases[i].value, cases[i].missing));
    cr_expect_str_eq(text, cases[i].written, "case %zu", i);
    free(text);
  }
}

Test(csv, write_number_uses_a_dot_under_a_decimal_comma_locale) {
  if (!clb_test_comma_locale())
    cr_skip("no decimal-comma locale is installed or can be built");
  char check[32];
  snprintf(check, sizeof check, "%.2f", 0.5);
  cr_assert_str_eq(check, "0,50", "the locale is not in effect");
  char *text = NULL;
  CAPTURE(text, {
    clb_csv_write_number(out, "%.9g", 0.5, "");
    fputc(' ', out);
    clb_csv_write_number(out, "%.3f", 1234.125, "");
  });
  snprintf(check, sizeof check, "%.2f", 0.5);
  setlocale(LC_NUMERIC, "C");
  cr_expect_str_eq(text, "0.5 1234.125");
  cr_expect_str_eq(check, "0,50", "the caller's locale must be restored");
  free(text);
}

Test(csv, c_numeric_scope_restores_the_callers_locale) {
  if (!clb_test_comma_locale())
    cr_skip("no decimal-comma locale is installed or can be built");
  struct clb_c_numeric scope;
  char inside[32], after[32];
  clb_c_numeric_enter(&scope);
  snprintf(inside, sizeof inside, "%g", 2.5);
  double parsed = strtod("2.5", NULL);
  clb_c_numeric_leave(&scope);
  snprintf(after, sizeof after, "%g", 2.5);
  setlocale(LC_NUMERIC, "C");
  cr_expect_str_eq(inside, "2.5");
  cr_expect_eq(parsed, 2.5);
  cr_expect_str_eq(after, "2,5");
}

/* ---- text ----------------------------------------------------------------- */

Test(text, trim_removes_surrounding_white_space_in_place) {
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"  a b \t\r\n", "a b"},
      {"x", "x"},
      {"", ""},
      {" \t\r\n\v\f ", ""},
      {"\n\nkey = value\n", "key = value"},
      {" caf\xC3\xA9\xC2\xA0", "caf\xC3\xA9\xC2\xA0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", cases[i].in);
    char *kept = clb_trim(buf);
    cr_expect(kept >= buf && kept <= buf + strlen(cases[i].in), "inside the buffer");
    cr_expect_str_eq(kept, cases[i].out, "case %zu", i);
  }
}

Test(text, blank_is_white_space_only) {
  cr_expect(clb_is_blank(""));
  cr_expect(clb_is_blank(" \t\r\n"));
  cr_expect_not(clb_is_blank(" x "));
  cr_expect_not(clb_is_blank("\xC2\xA0"), "a no-break space is a UTF-8 character, not blank");
  cr_expect_not(clb_is_blank("0"));
}

Test(text, copy_cut_keeps_what_fits_and_never_splits_a_character) {
  char buf[6];
  clb_copy_cut(buf, sizeof buf, "abc");
  cr_expect_str_eq(buf, "abc");
  clb_copy_cut(buf, sizeof buf, "abcdefgh");
  cr_expect_str_eq(buf, "abcde");
  /* "abcd" + the two bytes of a micro sign: the sign does not fit whole. */
  clb_copy_cut(buf, sizeof buf, "abcd\xC2\xB5");
  cr_expect_str_eq(buf, "abcd");
  clb_copy_cut(buf, sizeof buf, "abc\xC2\xB5x");
  cr_expect_str_eq(buf, "abc\xC2\xB5");
  clb_copy_cut(buf, 1, "abc");
  cr_expect_str_eq(buf, "");
}

/* ---- options: a table of the test's own ----------------------------------- */

enum { MODE_RUN = 1, MODE_TRAIN = 2 };

struct opts {
  char name[16];
  size_t count;
  uint64_t seed;
  double rate, scale;
  int verbose, shuffle;
  int pair[2];
  char out[64];
  char note[32];
  size_t secret;
  char path[128];
  int pair_parsed;
};

/* "A:B", both whole numbers. */
static int parse_pair(const struct clb_option *option, void *target, const char *value,
                      struct clb_error *err) {
  struct opts *o = target;
  int a, b, used = 0;
  if (sscanf(value, "%d:%d%n", &a, &b, &used) != 2 || value[used] != '\0')
    return clb_failf(err, CLB_E_INVAL, "--%s: '%s' is not A:B", option->name, value);
  o->pair[0] = a;
  o->pair[1] = b;
  o->pair_parsed++;
  return 0;
}

static void format_pair(const struct clb_option *option, const void *target, char *buf,
                        size_t size) {
  const struct opts *o = target;
  snprintf(buf, size, "%d:%d", o->pair[0], o->pair[1]);
}

#define FIELD(name) offsetof(struct opts, name), sizeof(((struct opts *)0)->name)
#define LONG_DEFAULT "/a/rather/long/default/path/that/does/not/fit/beside/its/help/text.csv"

static const struct clb_option table[] = {
    {"name", CLB_OPT_TEXT, FIELD(name), 0, 0, "model", "NAME", "what to call it", "Input", 0, 0,
     NULL, NULL},
    {"count", CLB_OPT_SIZE, FIELD(count), 1, 100, "8", "N", "how many", "Input", 0, 0, NULL, NULL},
    {"seed", CLB_OPT_U64, FIELD(seed), 0, 18446744073709551615.0, "1", "S", "random seed", "Input",
     0, 0, NULL, NULL},
    {"rate", CLB_OPT_DOUBLE, FIELD(rate), 0, 1, "0.5", "R", "a rate in [0, 1]", "Tuning", 0,
     MODE_TRAIN, NULL, NULL},
    {"scale", CLB_OPT_DOUBLE, FIELD(scale), 0, 10, "1", "X", "above zero\nsecond help line",
     "Tuning", CLB_OPT_POSITIVE, 0, NULL, NULL},
    {"verbose", CLB_OPT_FLAG, FIELD(verbose), 0, 0, NULL, NULL, "talk more", "Output", 0, 0, NULL,
     NULL},
    {"no-shuffle", CLB_OPT_FLAG, FIELD(shuffle), 0, 0, "no", NULL, "keep the order", "Input",
     CLB_OPT_NEGATE, 0, NULL, NULL},
    {"pair", CLB_OPT_CUSTOM, FIELD(pair), 0, 0, "2:3", "A:B", "two numbers", "Tuning", 0, 0,
     parse_pair, format_pair},
    {"out", CLB_OPT_TEXT, FIELD(out), 0, 0, NULL, "FILE", "where", "Output", CLB_OPT_UNSAVED, 0,
     NULL, NULL},
    {"note", CLB_OPT_TEXT, FIELD(note), 0, 0, NULL, "TEXT", "a remark", "Output", 0, MODE_RUN, NULL,
     NULL},
    {"secret", CLB_OPT_SIZE, FIELD(secret), 0, 10, "0", "N", "for tests", "Output", CLB_OPT_HIDDEN,
     0, NULL, NULL},
    {"a-very-long-option-name", CLB_OPT_TEXT, FIELD(path), 0, 0, LONG_DEFAULT, "FILE", "a path",
     "Output", 0, 0, NULL, NULL},
};
static const size_t table_count = sizeof table / sizeof table[0];

static const struct clb_option *opt(const char *name) {
  const struct clb_option *option = clb_options_find(table, table_count, name);
  cr_assert_not_null(option, "no option %s", name);
  return option;
}

static void defaults(struct opts *o) {
  struct clb_error err = {0};
  memset(o, 0, sizeof *o);
  cr_assert_eq(clb_options_defaults(table, table_count, o, &err), 0, "%s", err.message);
}

Test(options, find_by_name_without_dashes) {
  cr_expect_eq(clb_options_find(table, table_count, "count"), &table[1]);
  cr_expect_null(clb_options_find(table, table_count, "--count"));
  cr_expect_null(clb_options_find(table, table_count, "coun"));
  cr_expect_null(clb_options_find(table, 0, "count"));
}

Test(options, defaults_fill_every_field) {
  struct opts o;
  defaults(&o);
  cr_expect_str_eq(o.name, "model");
  cr_expect_eq(o.count, 8);
  cr_expect_eq(o.seed, 1);
  cr_expect_eq(o.rate, 0.5);
  cr_expect_eq(o.scale, 1.0);
  cr_expect_eq(o.verbose, 0, "no default: the field stays zero");
  cr_expect_eq(o.shuffle, 1, "no-shuffle defaults to no, so shuffle is on");
  cr_expect(o.pair[0] == 2 && o.pair[1] == 3);
  cr_expect_eq(o.pair_parsed, 1, "a custom default goes through its parser");
  cr_expect_str_eq(o.out, "");
  cr_expect_str_eq(o.path, LONG_DEFAULT);
}

Test(options, a_bad_default_fails_loudly) {
  struct clb_option bad = table[1];
  bad.default_text = "0";
  struct opts o;
  struct clb_error err = {0};
  memset(&o, 0, sizeof o);
  cr_expect_eq(clb_options_defaults(&bad, 1, &o, &err), CLB_E_INVAL);
  cr_expect(strstr(err.message, "--count: 0 is below the minimum 1") != NULL, "%s", err.message);
}

Test(options, values_out_of_bounds_name_the_option_and_the_bound) {
  static const struct {
    const char *name, *value, *message;
  } cases[] = {
      {"count", "0", "--count: 0 is below the minimum 1"},
      {"count", "101", "--count: 101 is above the maximum 100"},
      {"count", "", "--count: empty value"},
      {"count", "5x", "--count: '5x' is not a whole number"},
      {"seed", "-1", "--seed: '-1' is not a whole number"},
      {"seed", "18446744073709551616", "--seed: 18446744073709551616 is above the maximum"},
      {"rate", "1.5", "--rate: 1.5 is above the maximum 1"},
      {"rate", "-0.1", "--rate: -0.1 is below the minimum 0"},
      {"rate", "nan", "--rate: 'nan' is not a number"},
      {"rate", "1e999", "--rate: '1e999' is out of range"},
      {"scale", "0", "--scale: 0 must be above 0"},
      {"scale", "0.0", "--scale: 0.0 must be above 0"},
      {"verbose", "maybe", "--verbose: 'maybe' is not yes or no"},
      {"name", "", "--name needs a value"},
      {"name", "sixteen-chars-xx", "--name: value longer than 15 characters"},
      {"pair", "2", "--pair: '2' is not A:B"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct opts o, before;
    defaults(&o);
    memcpy(&before, &o, sizeof o);
    struct clb_error err = {0};
    int rc = clb_options_set(opt(cases[i].name), &o, cases[i].value, &err);
    cr_expect_eq(rc, CLB_E_INVAL, "--%s %s was accepted", cases[i].name, cases[i].value);
    cr_expect(strstr(err.message, cases[i].message) != NULL, "--%s %s: '%s' lacks '%s'",
              cases[i].name, cases[i].value, err.message, cases[i].message);
    /* A POSITIVE double is stored before its lower bound is checked; the
     * callers stop at the error, so only the other types are held to this. */
    if (!(opt(cases[i].name)->flags & CLB_OPT_POSITIVE))
      cr_expect_eq(memcmp(&o, &before, sizeof o), 0, "--%s %s changed the options", cases[i].name,
                   cases[i].value);
  }
}

Test(options, values_at_the_bounds_are_accepted) {
  struct opts o;
  defaults(&o);
  struct clb_error err = {0};
  cr_expect_eq(clb_options_set(opt("count"), &o, "100", &err), 0, "%s", err.message);
  cr_expect_eq(o.count, 100);
  cr_expect_eq(clb_options_set(opt("seed"), &o, "18446744073709551615", &err), 0, "%s",
               err.message);
  cr_expect_eq(o.seed, UINT64_MAX);
  cr_expect_eq(clb_options_set(opt("rate"), &o, "0", &err), 0, "a plain DOUBLE may be lo");
  cr_expect_eq(clb_options_set(opt("scale"), &o, "1e-300", &err), 0, "%s", err.message);
  cr_expect_eq(o.scale, 1e-300);
  cr_expect_eq(clb_options_set(opt("name"), &o, "fifteen-chars-x", &err), 0, "%s", err.message);
  cr_expect_str_eq(o.name, "fifteen-chars-x");
}

Test(options, flags_and_their_negation) {
  struct opts o;
  defaults(&o);
  struct clb_error err = {0};
  char buf[16];
  const struct clb_option *verbose = opt("verbose"), *no_shuffle = opt("no-shuffle");
  cr_assert_eq(clb_options_set(verbose, &o, NULL, &err), 0, "on the command line: no value");
  cr_expect_eq(o.verbose, 1);
  static const char *const off[] = {"0", "no", "false"}, *const on[] = {"1", "yes", "true", ""};
  for (size_t i = 0; i < 3; i++) {
    cr_expect_eq(clb_options_set(verbose, &o, off[i], &err), 0);
    cr_expect_eq(o.verbose, 0, "%s", off[i]);
    cr_expect_eq(clb_options_set(no_shuffle, &o, off[i], &err), 0);
    cr_expect_eq(o.shuffle, 1, "no-shuffle=%s keeps shuffling", off[i]);
  }
  for (size_t i = 0; i < 4; i++) {
    cr_expect_eq(clb_options_set(verbose, &o, on[i], &err), 0);
    cr_expect_eq(o.verbose, 1, "'%s'", on[i]);
    cr_expect_eq(clb_options_set(no_shuffle, &o, on[i], &err), 0);
    cr_expect_eq(o.shuffle, 0, "no-shuffle=%s stops shuffling", on[i]);
  }
  /* The format speaks of the option, not of the field. */
  clb_options_format(no_shuffle, &o, buf, sizeof buf);
  cr_expect_str_eq(buf, "yes");
  o.shuffle = 1;
  clb_options_format(no_shuffle, &o, buf, sizeof buf);
  cr_expect_str_eq(buf, "no");
  clb_options_format(verbose, &o, buf, sizeof buf);
  cr_expect_str_eq(buf, "yes");
}

Test(options, custom_options_use_their_callbacks) {
  struct opts o;
  defaults(&o);
  struct clb_error err = {0};
  cr_assert_eq(clb_options_set(opt("pair"), &o, "-4:17", &err), 0, "%s", err.message);
  cr_expect(o.pair[0] == -4 && o.pair[1] == 17);
  char buf[32];
  clb_options_format(opt("pair"), &o, buf, sizeof buf);
  cr_expect_str_eq(buf, "-4:17");
  /* A custom parser sees "" for a missing value, never NULL. */
  cr_expect_eq(clb_options_set(opt("pair"), &o, NULL, &err), CLB_E_INVAL);
  cr_expect(strstr(err.message, "--pair: '' is not A:B") != NULL, "%s", err.message);
}

Test(options, format_reads_back_to_the_same_value) {
  struct opts o, back;
  defaults(&o);
  o.count = 42;
  o.seed = UINT64_MAX;
  o.rate = 0.1;
  o.scale = 1.0 / 3.0;
  snprintf(o.name, sizeof o.name, "with space");
  memcpy(&back, &o, sizeof o);
  struct clb_error err = {0};
  for (size_t i = 0; i < table_count; i++) {
    char buf[256];
    clb_options_format(&table[i], &o, buf, sizeof buf);
    if (table[i].type == CLB_OPT_TEXT && !buf[0])
      continue;
    cr_expect_eq(clb_options_set(&table[i], &back, buf, &err), 0, "--%s %s: %s", table[i].name, buf,
                 err.message);
  }
  back.pair_parsed = o.pair_parsed;
  cr_expect_eq(memcmp(&o, &back, sizeof o), 0, "a value changed on the way");
  cr_expect_eq(back.scale, 1.0 / 3.0);
}

Test(options, write_skips_unsaved_empty_text_and_other_modes) {
  struct opts o;
  defaults(&o);
  snprintf(o.out, sizeof o.out, "results.csv");
  char *text = NULL;
  CAPTURE(text, clb_options_write(table, table_count, &o, MODE_TRAIN, out));
  cr_expect_str_eq(text, "name = model\n"
                         "count = 8\n"
                         "seed = 1\n"
                         "rate = 0.5\n"
                         "scale = 1\n"
                         "verbose = no\n"
                         "no-shuffle = no\n"
                         "pair = 2:3\n"
                         "secret = 0\n"
                         "a-very-long-option-name = " LONG_DEFAULT "\n");
  free(text);

  /* In run mode: no rate (train only); note once it is not empty. */
  snprintf(o.note, sizeof o.note, "hello");
  CAPTURE(text, clb_options_write(table, table_count, &o, MODE_RUN, out));
  cr_expect_null(strstr(text, "rate ="), "%s", text);
  cr_expect_not_null(strstr(text, "\nnote = hello\n"), "%s", text);
  cr_expect_null(strstr(text, "out ="), "%s", text);
  free(text);
  /* Mode 0 is every mode. */
  CAPTURE(text, clb_options_write(table, table_count, &o, 0, out));
  cr_expect(strstr(text, "rate =") && strstr(text, "note ="), "%s", text);
  free(text);
}

/* The `key = value` lines read back through clb_options_set give the same options. */
Test(options, written_configuration_reads_back) {
  struct opts o, back;
  defaults(&o);
  o.count = 99;
  o.rate = 1e-300;
  o.shuffle = 0;
  o.verbose = 1;
  o.pair[0] = 7;
  snprintf(o.note, sizeof o.note, "n");
  char *text = NULL;
  CAPTURE(text, clb_options_write(table, table_count, &o, 0, out));
  defaults(&back);
  struct clb_error err = {0};
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *eq = strstr(line, " = ");
    cr_assert_not_null(eq, "%s", line);
    *eq = '\0';
    cr_assert_eq(clb_options_set(opt(line), &back, eq + 3, &err), 0, "%s", err.message);
  }
  free(text);
  back.pair_parsed = o.pair_parsed;
  cr_expect_eq(memcmp(&o, &back, sizeof o), 0);
}

/* The help line of `--name`, up to the next option, or NULL. */
static char *help_of(const char *help, const char *name) {
  char needle[64];
  snprintf(needle, sizeof needle, "\n  --%s", name);
  const char *at = strstr(help, needle);
  if (!at)
    return NULL;
  at++;
  const char *end = strstr(at, "\n  --");
  const char *heading = strstr(at, "\n\n");
  if (!end || (heading && heading < end))
    end = heading ? heading : at + strlen(at);
  while (end > at && end[-1] == '\n')
    end--;
  return strndup(at, (size_t)(end - at));
}

Test(options, help_groups_by_section_and_hides_what_it_should) {
  char *text = NULL;
  CAPTURE(text, clb_options_help(table, table_count, MODE_RUN, out));
  const char *input = strstr(text, "\nInput:\n"), *tuning = strstr(text, "\nTuning:\n"),
             *output = strstr(text, "\nOutput:\n");
  cr_assert(input && tuning && output, "%s", text);
  cr_expect(input < tuning && tuning < output, "sections in the order they first appear:\n%s",
            text);
  cr_expect_eq(clb_test_count_of(text, "Input:"), 1, "one heading per section:\n%s", text);
  /* no-shuffle is listed after seed under Input, not at its table position. */
  const char *no_shuffle = strstr(text, "--no-shuffle");
  cr_expect(no_shuffle && no_shuffle > strstr(text, "--seed") && no_shuffle < tuning, "%s", text);
  cr_expect_null(strstr(text, "--secret"), "hidden:\n%s", text);
  cr_expect_null(strstr(text, "--rate"), "train only:\n%s", text);
  cr_expect_not_null(strstr(text, "--note"), "%s", text);

  CAPTURE(text, clb_options_help(table, table_count, MODE_TRAIN, out));
  cr_expect_not_null(strstr(text, "--rate R"), "%s", text);
  cr_expect_null(strstr(text, "--note"), "run only:\n%s", text);
  free(text);

  /* A section whose only options are hidden or of another mode has no heading. */
  struct clb_option hidden_only[] = {table[1], table[10]};
  hidden_only[1].section = "Secret";
  CAPTURE(text, clb_options_help(hidden_only, 2, 0, out));
  cr_expect_null(strstr(text, "Secret"), "%s", text);
  free(text);
}

/* Help fits an 80-column terminal (and the man page made from it): the
 * paragraph breaks at spaces before column 80, keeping every word. */
Test(options, help_wraps_within_80_columns) {
  static const char *const words =
      "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
      "fifteen sixteen seventeen eighteen nineteen twenty";
  struct clb_option wide = table[1];
  wide.help = words;
  wide.section = NULL; /* no heading line */
  char *text = NULL;
  CAPTURE(text, clb_options_help(&wide, 1, 0, out));
  char rejoined[512] = "";
  size_t lines = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
    cr_expect_leq(strlen(line), 79, "line %zu is %zu columns: '%s'", lines, strlen(line), line);
    const char *body = line + 24; /* the help column */
    cr_assert_geq(strlen(line), 24);
    for (size_t k = 0; k < 24; k++)
      cr_expect(line[k] == ' ' || lines == 0, "line %zu starts at the help column", lines);
    snprintf(rejoined + strlen(rejoined), sizeof rejoined - strlen(rejoined), "%s%s",
             lines ? " " : "", body);
  }
  cr_expect_geq(lines, 3, "wrapped onto several lines");
  cr_expect_str_eq(rejoined, "one two three four five six seven eight nine ten eleven twelve "
                             "thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
                             "twenty (default 8)");
  free(text);
}

Test(options, help_entries_are_laid_out_in_columns) {
  char *text = NULL;
  CAPTURE(text, clb_options_help(table, table_count, 0, out));
  char *count = help_of(text, "count");
  cr_assert_not_null(count, "%s", text);
  cr_expect_str_eq(count, "  --count N             how many (default 8)");
  char *scale = help_of(text, "scale");
  cr_expect_str_eq(scale, "  --scale X             above zero second help line (default 1)",
                   "one paragraph: the table's line breaks are soft");
  char *verbose = help_of(text, "verbose");
  cr_expect_str_eq(verbose, "  --verbose             talk more", "flags show no default");
  char *out = help_of(text, "out");
  cr_expect_str_eq(out, "  --out FILE            where", "no default, none shown");
  /* A name too wide for the column puts its help on the next line, and a
   * word too long for the line (the default path) goes on a line of its own. */
  char *longer = help_of(text, "a-very-long-option-name");
  cr_expect_str_eq(longer, "  --a-very-long-option-name FILE\n"
                           "                        a path (default\n"
                           "                        " LONG_DEFAULT ")");
  free(count);
  free(scale);
  free(verbose);
  free(out);
  free(longer);
  free(text);
}

Test(options, getopt_table_matches_the_options) {
  struct option longs[sizeof table / sizeof table[0] + 2];
  clb_options_getopt(table, table_count, longs);
  for (size_t i = 0; i < table_count; i++) {
    cr_expect_str_eq(longs[i].name, table[i].name);
    cr_expect_eq(longs[i].has_arg, table[i].type == CLB_OPT_FLAG ? no_argument : required_argument,
                 "--%s", table[i].name);
    cr_expect_null(longs[i].flag);
    cr_expect_eq(longs[i].val, 1000 + (int)i);
  }
  cr_expect_str_eq(longs[table_count].name, "help");
  cr_expect_eq(longs[table_count].has_arg, no_argument);
  cr_expect_eq(longs[table_count].val, 'h');
  cr_expect_null(longs[table_count + 1].name);
  cr_expect_eq(longs[table_count + 1].val, 0);

  /* And getopt_long parses a command line with it. */
  char *argv[] = {"prog",       "--count", "5",    "--verbose", "--no-shuffle",
                  "--pair=1:2", "-h",      "rest", NULL};
  int argc = 8;
  struct opts o;
  defaults(&o);
  struct clb_error err = {0};
  int help = 0, c;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
    if (c == 'h') {
      help = 1;
      continue;
    }
    cr_assert_geq(c, 1000, "unexpected getopt result %d", c);
    cr_assert_eq(clb_options_set(&table[c - 1000], &o, optarg, &err), 0, "%s", err.message);
  }
  cr_expect(help);
  cr_expect_eq(o.count, 5);
  cr_expect_eq(o.verbose, 1);
  cr_expect_eq(o.shuffle, 0);
  cr_expect(o.pair[0] == 1 && o.pair[1] == 2);
  cr_expect_eq(optind, 7);
  cr_expect_str_eq(argv[optind], "rest");
}

Test(options, exact_number_is_short_and_reads_back_exactly) {
  static const struct {
    double value;
    const char *text; /* the shortest form, or NULL when only the round trip is checked */
  } cases[] = {
      {0.1, "0.1"},
      {0.5, "0.5"},
      {1e-3, "0.001"},
      {1e-300, "1e-300"},
      {900, "900"},
      {0, "0"},
      {-2.5, "-2.5"},
      {9007199254740991.0, "9007199254740991"}, /* 2^53 - 1: 16 digits */
      {9007199254740994.0, "9007199254740994"}, /* 2^53 + 2: the next double above 2^53 */
      {1.0 / 3.0, "0.3333333333333333"},
      {0.1 + 0.2, "0.30000000000000004"},
      {5e-324, "4.94066e-324"}, /* the smallest subnormal */
      {DBL_MAX, "1.7976931348623157e+308"},
      {-0.0, "-0"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[64];
    const char *text = clb_exact_number(cases[i].value, buf, sizeof buf);
    cr_expect_eq(text, buf);
    cr_expect_eq(strtod(text, NULL), cases[i].value, "%s does not read back as %.17g", text,
                 cases[i].value);
    cr_expect_str_eq(text, cases[i].text, "case %zu", i);
  }
  /* 2^53 + 1 is no double: it is written as the 2^53 it became. */
  char buf[64];
  cr_expect_str_eq(clb_exact_number(9007199254740993.0, buf, sizeof buf), "9007199254740992");
}
