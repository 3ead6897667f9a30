/* util/sbuf: the growable string the report composes its files in. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "util/sbuf.h"

Test(sbuf, appends_grow_past_the_first_block) {
  struct clb_sbuf sb = {0};
  for (int i = 0; i < 2000; i++)
    clb_sbuf_puts(&sb, "abcde");
  cr_assert_eq(sb.failed, 0);
  cr_expect_eq(sb.len, 10000);
  cr_expect_eq(strlen(sb.text), 10000);
  cr_expect(strncmp(sb.text + 9995, "abcde", 5) == 0);
  clb_sbuf_destroy(&sb);
  cr_expect_null(sb.text);
  cr_expect_eq(sb.len, 0);
  cr_expect_eq(sb.cap, 0);
}

Test(sbuf, an_empty_append_still_gives_a_text) {
  /* Callers hand sb.text to string functions after appending nothing but "". */
  struct clb_sbuf sb = {0};
  clb_sbuf_puts(&sb, "");
  cr_assert_not_null(sb.text);
  cr_expect_str_eq(sb.text, "");
  clb_sbuf_destroy(&sb);
}

Test(sbuf, printf_of_any_length) {
  struct clb_sbuf sb = {0};
  clb_sbuf_printf(&sb, "%d-%s", 42, "x");
  char *long_text = malloc(5001);
  cr_assert_not_null(long_text);
  memset(long_text, 'y', 5000);
  long_text[5000] = '\0';
  clb_sbuf_printf(&sb, "[%s]", long_text); /* past the 1 KiB stack buffer */
  cr_assert_eq(sb.failed, 0);
  cr_expect_eq(sb.len, 4 + 5002);
  cr_expect(strncmp(sb.text, "42-x[yyy", 8) == 0);
  cr_expect_eq(sb.text[sb.len - 1], ']');
  free(long_text);
  clb_sbuf_destroy(&sb);
}

Test(sbuf, append_keeps_embedded_nuls) {
  struct clb_sbuf sb = {0};
  clb_sbuf_append(&sb, "a\0b", 3);
  cr_expect_eq(sb.len, 3);
  cr_expect(memcmp(sb.text, "a\0b", 4) == 0);
  clb_sbuf_destroy(&sb);
}

Test(sbuf, a_failed_buffer_ignores_appends_and_is_never_written) {
  char *dir = clb_test_tmpdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/out.txt", dir);
  struct clb_sbuf sb = {0};
  clb_sbuf_puts(&sb, "partial");
  sb.failed = 1; /* as after a failed realloc */
  clb_sbuf_puts(&sb, " more");
  cr_expect_eq(sb.len, 7);
  struct clb_error err = {0};
  cr_expect_eq(clb_sbuf_write_atomic(&sb, path, &err), CLB_E_NOMEM);
  cr_expect(strstr(err.message, "out.txt") != NULL, "%s", err.message);
  cr_expect_neq(access(path, F_OK), 0, "a partial text was written");
  clb_sbuf_destroy(&sb);
  cr_expect_eq(sb.failed, 0, "free makes the buffer reusable");
  clb_test_remove_dir(dir);
  free(dir);
}

Test(sbuf, write_atomic_writes_the_text_and_no_temporary) {
  char *dir = clb_test_tmpdir();
  char path[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/out.txt", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  struct clb_sbuf sb = {0};
  struct clb_error err = {0};
  clb_sbuf_printf(&sb, "line %d\n", 1);
  cr_assert_eq(clb_sbuf_write_atomic(&sb, path, &err), 0, "%s", err.message);
  char *text = clb_test_read_file(path);
  cr_expect_str_eq(text, "line 1\n");
  cr_expect_neq(access(tmp, F_OK), 0);
  free(text);
  /* A buffer never appended to writes an empty file. */
  struct clb_sbuf empty = {0};
  cr_assert_eq(clb_sbuf_write_atomic(&empty, path, &err), 0, "%s", err.message);
  text = clb_test_read_file(path);
  cr_expect_str_eq(text, "");
  free(text);
  clb_sbuf_destroy(&sb);
  clb_test_remove_dir(dir);
  free(dir);
}
