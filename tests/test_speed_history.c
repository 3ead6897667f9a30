/* The host's speed history (measure/speed_history.h): where it lives, the
 * usual time as the lower quartile of the latest matching lines and their
 * spread, what it skips, and lines appended whole. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "measure/speed_history.h"

static struct clb_speed_key test_key(void) {
  struct clb_speed_key key;
  memset(&key, 0, sizeof key);
  snprintf(key.host, sizeof key.host, "vm");
  snprintf(key.platform, sizeof key.platform, "Portable Computing Language");
  snprintf(key.device, sizeof key.device, "cpu, \"fast\" edition"); /* quoted in the CSV */
  snprintf(key.driver, sizeof key.driver, "3.1");
  snprintf(key.version, sizeof key.version, "0.1.0");
  key.tuned = 2;
  return key;
}

static void expect_close(double got, double want) {
  cr_expect(fabs(got - want) <= 1e-12 * fabs(want), "%.17g, expected %.17g", got, want);
}

Test(speed_history, path_comes_from_the_option_the_environment_or_xdg) {
  char buf[256];
  setenv("CLBATCH_SPEED_HISTORY", "/env/h.csv", 1);
  setenv("XDG_STATE_HOME", "/state", 1);
  setenv("HOME", "/home/u", 1);
  clb_speed_history_path("/opt/h.csv", buf, sizeof buf);
  cr_expect_str_eq(buf, "/opt/h.csv", "the option first");
  clb_speed_history_path("none", buf, sizeof buf);
  cr_expect_str_eq(buf, "", "none: off, whatever the environment says");
  clb_speed_history_path("", buf, sizeof buf);
  cr_expect_str_eq(buf, "/env/h.csv");
  setenv("CLBATCH_SPEED_HISTORY", "none", 1);
  clb_speed_history_path(NULL, buf, sizeof buf);
  cr_expect_str_eq(buf, "");
  unsetenv("CLBATCH_SPEED_HISTORY");
  clb_speed_history_path("", buf, sizeof buf);
  cr_expect_str_eq(buf, "/state/clbatch/speed-history.csv");
  setenv("XDG_STATE_HOME", "relative", 1); /* the XDG spec ignores it */
  clb_speed_history_path("", buf, sizeof buf);
  cr_expect_str_eq(buf, "/home/u/.local/state/clbatch/speed-history.csv");
  unsetenv("XDG_STATE_HOME");
  unsetenv("HOME");
  clb_speed_history_path("", buf, sizeof buf);
  cr_expect_str_eq(buf, "", "nowhere to keep it: off");
}

Test(speed_history, a_missing_file_has_no_usual_time) {
  struct clb_speed_key key = test_key();
  struct clb_error err = {0};
  struct clb_speed_usual usual = {0, 0, 7};
  cr_expect_eq(clb_speed_history_usual("/nonexistent/h.csv", &key, &usual, &err), 0);
  cr_expect(isnan(usual.usual_s));
  cr_expect(isnan(usual.spread));
  cr_expect_eq(usual.count, 0);
}

Test(speed_history, appended_lines_read_back_as_the_lower_quartile) {
  char *dir = clb_test_tmpdir();
  char path[600];
  snprintf(path, sizeof path, "%s/new/folder/h.csv", dir);
  struct clb_speed_key key = test_key();
  struct clb_error err = {0};
  const double seconds[] = {4e-4, 1e-4, 3e-4, 2e-4, 5e-4};
  for (size_t i = 0; i < 5; i++)
    cr_assert_eq(clb_speed_history_append(path, &key, "2026-11-30T12:00:00Z", seconds[i], &err),
                 0, "%s", err.message);
  char *text = clb_test_read_file(path);
  const char *start = "timestamp,host,platform,device,driver,clbatch_version,tuned,"
                      "reference_step_s\n2026-11-30T12:00:00Z,vm,";
  cr_expect_eq(strncmp(text, start, strlen(start)), 0, "one header, then the records: %s", text);
  cr_expect(strstr(text, "\"cpu, \"\"fast\"\" edition\"") != NULL, "RFC 4180 quoting: %s", text);
  cr_expect_eq(strstr(strstr(text, "\n") + 1, "timestamp") == NULL, 1, "the header only once");
  free(text);
  struct clb_speed_usual usual;
  cr_assert_eq(clb_speed_history_usual(path, &key, &usual, &err), 0, "%s", err.message);
  cr_expect_eq(usual.count, 5);
  /* Sorted 1..5 (x 1e-4): type 7 lower quartile at position 1 = 2e-4. */
  expect_close(usual.usual_s, 2e-4);
  cr_expect(isnan(usual.spread), "5 lines are too few for a spread");
  clb_test_remove_tmpdir(dir);
}

Test(speed_history, only_the_latest_matching_lines_count) {
  char *dir = clb_test_tmpdir();
  struct clb_speed_key key = test_key();
  /* Another device, another driver and other CLBlast parameters are other
   * keys; a half-written last line, a bad number and a short line are
   * skipped; then 40 lines of this key: 100 us, 101 us, ..., 139 us. */
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  cr_assert_not_null(out);
  fputs("timestamp,host,platform,device,driver,clbatch_version,tuned,reference_step_s\n", out);
  const char *prefix = "t,vm,Portable Computing Language,\"cpu, \"\"fast\"\" edition\"";
  fprintf(out, "t,vm,Portable Computing Language,other,3.1,0.1.0,2,1e-9\n");
  fprintf(out, "%s,3.2,0.1.0,2,1e-9\n", prefix);
  fprintf(out, "%s,3.1,0.1.0,1,1e-9\n", prefix);
  fprintf(out, "%s,3.1,0.1.0,2,fast\n", prefix);
  fprintf(out, "%s,3.1,0.1.0,2,-1\n", prefix);
  fprintf(out, "%s,3.1,0.1.0\n", prefix);
  for (int i = 0; i < 40; i++)
    fprintf(out, "%s,3.1,0.1.0,2,%.0fe-6\n", prefix, 100.0 + i);
  fprintf(out, "%s,3.1,0.1.0,2,1e-9", prefix); /* no newline: still being written */
  fclose(out);
  char *path = clb_test_write_file(dir, "h.csv", text);
  free(text);
  struct clb_error err = {0};
  struct clb_speed_usual usual;
  cr_assert_eq(clb_speed_history_usual(path, &key, &usual, &err), 0, "%s", err.message);
  cr_expect_eq(usual.count, CLB_SPEED_HISTORY_WINDOW, "the latest 30 of 40");
  /* 110 .. 139 us: lower quartile at position 29 / 4 = 7.25 -> 117.25 us. */
  expect_close(usual.usual_s, 117.25e-6);
  /* 1.4826 x the median |ln t - median ln t| of 110 .. 139 us (by hand in
   * Python); the 100 .. 109 us lines and the other keys' 1 ns would move it. */
  cr_expect(fabs(usual.spread - 0.089421661154633098) <= 1e-12, "%.17g", usual.spread);
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(speed_history, an_unreadable_history_is_an_error) {
  char *dir = clb_test_tmpdir();
  struct clb_speed_key key = test_key();
  struct clb_error err = {0};
  struct clb_speed_usual usual;
  /* A folder where the file should be: it exists but cannot be read. */
  cr_expect_neq(clb_speed_history_usual(dir, &key, &usual, &err), 0);
  cr_expect(err.message[0] != '\0');
  clb_error_clear(&err);
  cr_expect_neq(clb_speed_history_append(dir, &key, "t", 1e-4, &err), 0);
  cr_expect(strstr(err.message, dir) != NULL, "%s", err.message);
  clb_test_remove_tmpdir(dir);
}
