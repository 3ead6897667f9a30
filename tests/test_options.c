#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "util/parse.h"

/* ---- clb_parse_size ------------------------------------------------------- */

struct size_case {
  char text[40];
  size_t min, max;
  int expect_rc;
  size_t expect_value;
  char expect_message[80]; /* a substring of err.message when rejected */
};

ParameterizedTestParameters(parse_size, accepts_and_rejects) {
  static struct size_case cases[] = {
      {"1", 1, 100, 0, 1, ""},
      {"100", 1, 100, 0, 100, ""},
      {"007", 1, 100, 0, 7, ""},
      {"0", 0, 10, 0, 0, ""},
      {"18446744073709551615", 1, SIZE_MAX, 0, SIZE_MAX, ""},
      {"", 1, 100, CLB_E_INVAL, 0, "--batch: empty value"},
      {" 5", 1, 100, CLB_E_INVAL, 0, "--batch: ' 5' is not a whole number"},
      {"5 ", 1, 100, CLB_E_INVAL, 0, "--batch: '5 ' is not a whole number"},
      {"-1", 1, 100, CLB_E_INVAL, 0, "'-1' is not a whole number"},
      {"+3", 1, 100, CLB_E_INVAL, 0, "'+3' is not a whole number"},
      {"1e3", 1, 10000, CLB_E_INVAL, 0, "'1e3' is not a whole number"},
      {"12abc", 1, 100, CLB_E_INVAL, 0, "--batch: '12abc' is not a whole number"},
      {"0x10", 1, 100, CLB_E_INVAL, 0, "'0x10' is not a whole number"},
      {"1.5", 1, 100, CLB_E_INVAL, 0, "'1.5' is not a whole number"},
      {"1k", 1, 100000, CLB_E_INVAL, 0, "'1k' is not a whole number"},
      {"0", 1, 100, CLB_E_INVAL, 0, "--batch: 0 is below the minimum 1"},
      {"101", 1, 100, CLB_E_INVAL, 0, "--batch: 101 is above the maximum 100"},
      {"18446744073709551616", 1, SIZE_MAX, CLB_E_INVAL, 0, "is above the maximum"},
      {"99999999999999999999999", 1, 100, CLB_E_INVAL, 0,
       "99999999999999999999999 is above the maximum 100"},
      {"99999999999999999999999x", 1, 100, CLB_E_INVAL, 0, "is not a whole number"},
  };
  return cr_make_param_array(struct size_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct size_case *c, parse_size, accepts_and_rejects) {
  struct clb_error err = {0};
  size_t value = 12345;
  int rc = clb_parse_size(c->text, c->min, c->max, "--batch", &value, &err);
  cr_expect_eq(rc, c->expect_rc, "'%s': rc %d (%s)", c->text, rc, err.message);
  if (c->expect_rc == 0) {
    cr_expect_eq(value, c->expect_value, "'%s' -> %zu", c->text, value);
  } else {
    cr_expect_eq(value, 12345, "'%s': output must be untouched on failure", c->text);
    cr_expect_eq(err.code, c->expect_rc);
    cr_expect(strstr(err.message, c->expect_message) != NULL, "'%s': message '%s'", c->text,
              err.message);
  }
}

/* ---- clb_parse_double ----------------------------------------------------- */

struct double_case {
  char text[32];
  double min, max;
  int expect_rc;
  double expect_value;
  char expect_message[80];
};

ParameterizedTestParameters(parse_double, accepts_and_rejects) {
  static struct double_case cases[] = {
      {"0.5", 0, 1, 0, 0.5, ""},
      {"1e-3", 0, 1, 0, 1e-3, ""},
      {"2.5E2", 0, 1000, 0, 250.0, ""},
      {"-2.5", -10, 10, 0, -2.5, ""},
      {"+1", 0, 10, 0, 1.0, ""},
      {".5", 0, 1, 0, 0.5, ""},
      {"7", 0, 10, 0, 7.0, ""},
      {"1e-400", 0, 1, 0, 0.0, ""},
      {"", 0, 1, CLB_E_INVAL, 0, "--lr: empty value"},
      {" 1", 0, 10, CLB_E_INVAL, 0, "--lr: ' 1' is not a number"},
      {"1 ", 0, 10, CLB_E_INVAL, 0, "'1 ' is not a number"},
      {"nan", -1e300, 1e300, CLB_E_INVAL, 0, "'nan' is not a number"},
      {"inf", -1e300, 1e300, CLB_E_INVAL, 0, "'inf' is not a number"},
      {"-infinity", -1e300, 1e300, CLB_E_INVAL, 0, "is not a number"},
      {"0x1p3", 0, 100, CLB_E_INVAL, 0, "'0x1p3' is not a number"},
      {"1.5.2", 0, 10, CLB_E_INVAL, 0, "'1.5.2' is not a number"},
      {"e5", 0, 10, CLB_E_INVAL, 0, "'e5' is not a number"},
      {"-", 0, 10, CLB_E_INVAL, 0, "'-' is not a number"},
      {"1,5", 0, 10, CLB_E_INVAL, 0, "'1,5' is not a number"},
      {"0.1abc", 0, 10, CLB_E_INVAL, 0, "'0.1abc' is not a number"},
      {"1e999", 0, 1e300, CLB_E_INVAL, 0, "'1e999' is out of range"},
      {"-1e999", -1e300, 0, CLB_E_INVAL, 0, "out of range"},
      {"2", 0, 1, CLB_E_INVAL, 0, "--lr: 2 is above the maximum 1"},
      {"-0.1", 0, 1, CLB_E_INVAL, 0, "--lr: -0.1 is below the minimum 0"},
  };
  return cr_make_param_array(struct double_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct double_case *c, parse_double, accepts_and_rejects) {
  struct clb_error err = {0};
  double value = -42.0;
  int rc = clb_parse_double(c->text, c->min, c->max, "--lr", &value, &err);
  cr_expect_eq(rc, c->expect_rc, "'%s': rc %d (%s)", c->text, rc, err.message);
  if (c->expect_rc == 0) {
    cr_expect_float_eq(value, c->expect_value, 1e-15 * fabs(c->expect_value), "'%s' -> %g", c->text,
                       value);
  } else {
    cr_expect_float_eq(value, -42.0, 0, "'%s': output must be untouched on failure", c->text);
    cr_expect(strstr(err.message, c->expect_message) != NULL, "'%s': message '%s'", c->text,
              err.message);
  }
}

/* ---- clb_parse_batches ---------------------------------------------------- */

struct batch_case {
  char text[48];
  size_t max_value, max_items;
  int expect_rc;
  size_t expect_count;
  size_t expect[12];
  char expect_message[80];
};

#define NO_LIMIT SIZE_MAX

ParameterizedTestParameters(parse_batches, accepts_and_rejects) {
  static struct batch_case cases[] = {
      {"1,2,4", NO_LIMIT, 64, 0, 3, {1, 2, 4}, ""},
      {"4,2,1,2", NO_LIMIT, 64, 0, 3, {1, 2, 4}, ""},
      {"1:64:x2", NO_LIMIT, 64, 0, 7, {1, 2, 4, 8, 16, 32, 64}, ""},
      {"1:100:x2", 100, 64, 0, 7, {1, 2, 4, 8, 16, 32, 64}, ""},
      {"3:30:x3", NO_LIMIT, 64, 0, 3, {3, 9, 27}, ""},
      {"32:128:+32", NO_LIMIT, 64, 0, 4, {32, 64, 96, 128}, ""},
      {"32:130:+32", NO_LIMIT, 64, 0, 4, {32, 64, 96, 128}, ""},
      {"5:5:+1", NO_LIMIT, 64, 0, 1, {5}, ""},
      {"5:5:x2", NO_LIMIT, 64, 0, 1, {5}, ""},
      {"N,1:4:x2", 4096, 64, 0, 4, {1, 2, 4, 0}, ""},
      {"N,N,8", 4096, 64, 0, 2, {8, 0}, ""},
      {"N", 4096, 64, 0, 1, {0}, ""},
      {"1000,1:8:x2,3", 1000, 64, 0, 6, {1, 2, 3, 4, 8, 1000}, ""},
      {"5000", 0, 64, 0, 1, {5000}, ""}, /* max_value 0: no limit */
      {"1:18446744073709551615:x4294967296", NO_LIMIT, 64, 0, 2, {1, 4294967296u}, ""},
      {"18446744073709551614:18446744073709551615:+1",
       NO_LIMIT,
       64,
       0,
       2,
       {18446744073709551614u, 18446744073709551615u},
       ""},
      {"1:10:+99999999999999999999999", NO_LIMIT, 64, 0, 1, {1}, ""},
      {"1:64:x2,32,64", NO_LIMIT, 7, 0, 7, {1, 2, 4, 8, 16, 32, 64}, ""},
      {"1:64:x2,1:64:x2,1:64:x2", NO_LIMIT, 7, 0, 7, {1, 2, 4, 8, 16, 32, 64}, ""},
      {"", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "--batch: empty list"},
      {"1,,2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "--batch: empty item in '1,,2'"},
      {"1,2,", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "empty item in '1,2,'"},
      {",1", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "empty item"},
      {"1, 2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "--batch: ' 2' is not a whole number"},
      {"1 ,2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "'1 ' is not a whole number"},
      {"12abc", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "'12abc' is not a whole number"},
      {"n", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "'n' is not a whole number"},
      {"NN", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "'NN' is not a whole number"},
      {"-1", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "'-1' is not a whole number"},
      {"+3", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "'+3' is not a whole number"},
      {"1e3", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "'1e3' is not a whole number"},
      {"0", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "--batch: 0 is below the minimum 1"},
      {"5000", 4096, 64, CLB_E_INVAL, 0, {0}, "--batch: 5000 is above the maximum 4096"},
      {"99999999999999999999999",
       NO_LIMIT,
       64,
       CLB_E_INVAL,
       0,
       {0},
       "99999999999999999999999 is above the maximum"},
      {"32:16:+1",
       NO_LIMIT,
       64,
       CLB_E_INVAL,
       0,
       {0},
       "--batch: range '32:16:+1' has start above end"},
      {"0:16:x2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '0:16:x2' starts below 1"},
      {"1:16:x1",
       NO_LIMIT,
       64,
       CLB_E_INVAL,
       0,
       {0},
       "range '1:16:x1' needs a factor of at least 2"},
      {"1:16:x0", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "needs a factor of at least 2"},
      {"1:16:+0", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '1:16:+0' needs a step of at least 1"},
      {"1:16", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '1:16' is not A:B:xK or A:B:+K"},
      {"1:16:*2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '1:16:*2' is not A:B:xK"},
      {"1:16:x2:4", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '1:16:x2:4' is not A:B:xK"},
      {"1:16:x", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '1:16:x' is not A:B:xK"},
      {"1:16:2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '1:16:2' is not A:B:xK"},
      {"::x2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '::x2' is not A:B:xK"},
      {"a:16:x2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range 'a:16:x2' is not A:B:xK"},
      {"1:16:x-2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '1:16:x-2' is not A:B:xK"},
      {"1: 16:x2", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "range '1: 16:x2' is not A:B:xK"},
      {"1:99999:x2",
       4096,
       64,
       CLB_E_INVAL,
       0,
       {0},
       "range '1:99999:x2' goes above the maximum 4096"},
      {"1:99999999999999999999999:+1", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "goes above the maximum"},
      {"1:1000:+1", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "--batch: more than 64 batch sizes"},
      {"1:18446744073709551615:+1", NO_LIMIT, 64, CLB_E_INVAL, 0, {0}, "more than 64"},
      {"1:64:x2,3", NO_LIMIT, 7, CLB_E_INVAL, 0, {0}, "more than 7 batch sizes"},
      {"1", NO_LIMIT, 0, CLB_E_INVAL, 0, {0}, "more than 0 batch sizes"},
  };
  return cr_make_param_array(struct batch_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct batch_case *c, parse_batches, accepts_and_rejects) {
  struct clb_error err = {0};
  size_t values[64];
  size_t count = 999;
  int rc = clb_parse_batches(c->text, c->max_value, values, c->max_items, &count, &err);
  cr_expect_eq(rc, c->expect_rc, "'%s': rc %d (%s)", c->text, rc, err.message);
  if (c->expect_rc != 0) {
    cr_expect_eq(count, 0, "'%s': count must be 0 on failure", c->text);
    cr_expect(strstr(err.message, c->expect_message) != NULL, "'%s': message '%s'", c->text,
              err.message);
    return;
  }
  cr_assert_eq(count, c->expect_count, "'%s': count %zu", c->text, count);
  for (size_t i = 0; i < count; i++)
    cr_expect_eq(values[i], c->expect[i], "'%s': [%zu] = %zu, expected %zu", c->text, i, values[i],
                 c->expect[i]);
}

Test(parse_batches, full_doubling_range_stops_before_overflow) {
  /* 1, 2, 4, ..., 2^63: the next doubling would wrap, so it must stop there. */
  size_t values[64];
  size_t count = 0;
  struct clb_error err = {0};
  int rc = clb_parse_batches("1:18446744073709551615:x2", SIZE_MAX, values, 64, &count, &err);
  cr_assert_eq(rc, 0, "%s", err.message);
  cr_assert_eq(count, sizeof(size_t) * 8);
  for (size_t i = 0; i < count; i++)
    cr_expect_eq(values[i], (size_t)1 << i);
}

Test(parse_batches, long_item_is_quoted_shortened) {
  char text[300];
  memset(text, '7', sizeof text - 2);
  text[sizeof text - 2] = 'x';
  text[sizeof text - 1] = '\0';
  size_t values[4], count = 0;
  struct clb_error err = {0};
  cr_expect_eq(clb_parse_batches(text, SIZE_MAX, values, 4, &count, &err), CLB_E_INVAL);
  cr_expect(strstr(err.message, "...' is not a whole number") != NULL, "%s", err.message);
  cr_expect_lt(strlen(err.message), 200);
}

/* ---- clb_config_read ------------------------------------------------------ */

struct entries {
  size_t count;
  char keys[16][64];
  char values[16][128];
  const char *refuse_key; /* the handler rejects this key */
  struct clb_error *err;  /* where the handler explains itself, if set */
};

static int collect(const char *key, const char *value, void *ctx) {
  struct entries *e = ctx;
  if (e->refuse_key && strcmp(key, e->refuse_key) == 0) {
    if (e->err)
      return clb_failf(e->err, CLB_E_INVAL, "unknown key '%s'", key);
    return CLB_E_INVAL;
  }
  if (e->count < 16) {
    snprintf(e->keys[e->count], sizeof e->keys[0], "%s", key);
    snprintf(e->values[e->count], sizeof e->values[0], "%s", value);
  }
  e->count++;
  return 0;
}

static char *config_file(const char *text) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "clbatch.conf", text);
  free(dir);
  return path;
}

Test(config, round_trip_with_comments_and_blank_lines) {
  char *path = config_file("# clbatch settings\n"
                           "\n"
                           "batch = 1:4096:x2\n"
                           "   # an indented comment\n"
                           "\tmodel\t=\tsoftmax  \n"
                           "precision=fp32,fp64\r\n"
                           "   \n"
                           "url = a=b # the rest is the value, not a comment\n"
                           "seed = 42");
  struct entries e = {0};
  struct clb_error err = {0};
  int rc = clb_config_read(path, collect, &e, &err);
  cr_assert_eq(rc, 0, "%s", err.message);
  cr_assert_eq(e.count, 5);
  const char *keys[] = {"batch", "model", "precision", "url", "seed"};
  const char *values[] = {"1:4096:x2", "softmax", "fp32,fp64",
                          "a=b # the rest is the value, not a comment", "42"};
  for (size_t i = 0; i < 5; i++) {
    cr_expect_str_eq(e.keys[i], keys[i]);
    cr_expect_str_eq(e.values[i], values[i]);
  }
  free(path);
}

Test(config, empty_file_has_no_entries) {
  char *path = config_file("");
  struct entries e = {0};
  struct clb_error err = {0};
  cr_expect_eq(clb_config_read(path, collect, &e, &err), 0);
  cr_expect_eq(e.count, 0);
  free(path);
}

struct bad_config_case {
  char text[96];
  char expect_message[64]; /* after "PATH:" */
  size_t applied_before;
};

ParameterizedTestParameters(config, rejects_bad_lines) {
  static struct bad_config_case cases[] = {
      {"a = 1\n\nthis line has no equals sign\nb = 2\n", ":3: expected key = value", 1},
      {"= 5\n", ":1: expected key = value", 0},
      {"# c\n   =   \n", ":2: expected key = value", 0},
      {"a = 1\nk =   \n", ":2: key 'k' has no value", 1},
      {"a = 1\nb = 2\nk=\n", ":3: key 'k' has no value", 2},
      {"a = 1 ; b = 2\nstray # text\n", ":2: expected key = value", 1},
  };
  return cr_make_param_array(struct bad_config_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_config_case *c, config, rejects_bad_lines) {
  char *path = config_file(c->text);
  struct entries e = {0};
  struct clb_error err = {0};
  int rc = clb_config_read(path, collect, &e, &err);
  cr_expect_eq(rc, CLB_E_PARSE, "rc %d (%s)", rc, err.message);
  cr_expect_eq(err.code, CLB_E_PARSE);
  char expected[1200];
  snprintf(expected, sizeof expected, "%s%s", path, c->expect_message);
  cr_expect(strstr(err.message, expected) != NULL, "message '%s', expected '%s'", err.message,
            expected);
  cr_expect_eq(e.count, c->applied_before);
  free(path);
}

Test(config, missing_file_is_an_io_error_naming_the_path) {
  struct entries e = {0};
  struct clb_error err = {0};
  int rc = clb_config_read("/nonexistent/clbatch.conf", collect, &e, &err);
  cr_expect_eq(rc, CLB_E_IO);
  cr_expect(strstr(err.message, "/nonexistent/clbatch.conf") != NULL, "%s", err.message);
}

Test(config, directory_is_an_io_error) {
  char *dir = clb_test_tmpdir();
  struct entries e = {0};
  struct clb_error err = {0};
  int rc = clb_config_read(dir, collect, &e, &err);
  cr_expect_eq(rc, CLB_E_IO, "rc %d (%s)", rc, err.message);
  cr_expect(strstr(err.message, dir) != NULL, "%s", err.message);
  free(dir);
}

Test(config, handler_failure_stops_and_names_the_line) {
  char *path = config_file("a = 1\nbogus = 2\nc = 3\n");
  struct entries e = {.refuse_key = "bogus"};
  struct clb_error err = {0};
  int rc = clb_config_read(path, collect, &e, &err);
  cr_expect_eq(rc, CLB_E_INVAL);
  cr_expect_eq(e.count, 1, "reading stops at the rejected entry");
  char expected[1200];
  snprintf(expected, sizeof expected, "%s:2: key 'bogus'", path);
  cr_expect(strstr(err.message, expected) != NULL, "%s", err.message);
  free(path);
}

Test(config, handler_message_is_kept_after_the_location) {
  char *path = config_file("bogus = 2\n");
  struct clb_error err = {0};
  struct entries e = {.refuse_key = "bogus", .err = &err};
  int rc = clb_config_read(path, collect, &e, &err);
  cr_expect_eq(rc, CLB_E_INVAL);
  char expected[1200];
  snprintf(expected, sizeof expected, "%s:1: unknown key 'bogus'", path);
  cr_expect_str_eq(err.message, expected);
  free(path);
}
