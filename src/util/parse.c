#include "util/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

/* Batch lists are a command-line option, so their messages name it. */
#define CLB_BATCH_OPTION "--batch"

/* Longest item quoted back in a message; longer ones are cut with "...". */
#define CLB_QUOTE_MAX 64

enum digits_result { DIGITS_OK = 0, DIGITS_NOT_A_NUMBER, DIGITS_OVERFLOW };

/* Parses exactly `len` decimal digits. strtoull is not used because it
 * accepts leading whitespace, a sign (even "-1", which wraps) and "0x". */
static enum digits_result parse_digits(const char *s, size_t len, size_t *out) {
  if (len == 0)
    return DIGITS_NOT_A_NUMBER;
  size_t value = 0;
  int overflow = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return DIGITS_NOT_A_NUMBER;
    size_t digit = (size_t)(s[i] - '0');
    /* Keep scanning after an overflow so "999...9x" is reported as garbage. */
    if (value > (SIZE_MAX - digit) / 10)
      overflow = 1;
    else
      value = value * 10 + digit;
  }
  if (overflow)
    return DIGITS_OVERFLOW;
  *out = value;
  return DIGITS_OK;
}

/* Copies at most CLB_QUOTE_MAX characters of s[0..len) for quoting in a message. */
static void quote(char *buf, size_t size, const char *s, size_t len) {
  if (len > CLB_QUOTE_MAX)
    snprintf(buf, size, "%.*s...", CLB_QUOTE_MAX, s);
  else
    snprintf(buf, size, "%.*s", (int)len, s);
}

int clb_parse_size(const char *text, size_t min, size_t max, const char *what, size_t *out,
                   struct clb_error *err) {
  if (!what)
    what = "value";
  if (!text || !out)
    return clb_failf(err, CLB_E_INVAL, "%s: no value given", what);
  char shown[CLB_QUOTE_MAX + 8];
  size_t len = strlen(text);
  quote(shown, sizeof shown, text, len);
  if (len == 0)
    return clb_failf(err, CLB_E_INVAL, "%s: empty value, expected a whole number", what);
  size_t value = 0;
  enum digits_result r = parse_digits(text, len, &value);
  if (r == DIGITS_NOT_A_NUMBER)
    return clb_failf(err, CLB_E_INVAL, "%s: '%s' is not a whole number", what, shown);
  if (r == DIGITS_OVERFLOW)
    return clb_failf(err, CLB_E_INVAL, "%s: %s is above the maximum %zu", what, shown, max);
  if (value < min)
    return clb_failf(err, CLB_E_INVAL, "%s: %zu is below the minimum %zu", what, value, min);
  if (value > max)
    return clb_failf(err, CLB_E_INVAL, "%s: %zu is above the maximum %zu", what, value, max);
  *out = value;
  return CLB_OK;
}

int clb_parse_double(const char *text, double min, double max, const char *what, double *out,
                     struct clb_error *err) {
  if (!what)
    what = "value";
  if (!text || !out)
    return clb_failf(err, CLB_E_INVAL, "%s: no value given", what);
  char shown[CLB_QUOTE_MAX + 8];
  size_t len = strlen(text);
  quote(shown, sizeof shown, text, len);
  if (len == 0)
    return clb_failf(err, CLB_E_INVAL, "%s: empty value, expected a number", what);
  /* strtod also takes leading spaces, "inf", "nan" and hex floats; a plain
   * decimal is all an option value needs, so everything else is refused
   * before strtod sees it. (Under a locale whose decimal point is ',' the
   * whole-string check below turns "0.5" into an error, never a wrong value.) */
  if (strspn(text, "0123456789+-.eE") != len)
    return clb_failf(err, CLB_E_INVAL, "%s: '%s' is not a number", what, shown);
  errno = 0;
  char *end = NULL;
  double value = strtod(text, &end);
  if (end == text || *end != '\0')
    return clb_failf(err, CLB_E_INVAL, "%s: '%s' is not a number", what, shown);
  /* ERANGE on underflow yields a tiny or zero value, which is still a fair
   * reading of the text; only overflow to infinity is refused. */
  if (!isfinite(value))
    return clb_failf(err, CLB_E_INVAL, "%s: '%s' is out of range", what, shown);
  if (value < min)
    return clb_failf(err, CLB_E_INVAL, "%s: %s is below the minimum %g", what, shown, min);
  if (value > max)
    return clb_failf(err, CLB_E_INVAL, "%s: %s is above the maximum %g", what, shown, max);
  *out = value;
  return CLB_OK;
}

/* ---- batch lists ---------------------------------------------------------- */

/* The full data set ("N", stored as 0) sorts after every real batch size. */
static int compare_batches(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  if (x == y)
    return 0;
  if (x == 0)
    return 1;
  if (y == 0)
    return -1;
  return x < y ? -1 : 1;
}

/* Sorts and removes duplicates in place; returns the new count. */
static size_t sort_unique(size_t *values, size_t count) {
  if (count == 0)
    return 0;
  qsort(values, count, sizeof *values, compare_batches);
  size_t kept = 1;
  for (size_t i = 1; i < count; i++)
    if (values[i] != values[kept - 1])
      values[kept++] = values[i];
  return kept;
}

/* Collects values into the caller's array. When it fills up, duplicates are
 * squeezed out before declaring "too many": "1:64:x2,32" is seven sizes,
 * not eight. Once a full buffer is known to be sorted and unique, a new
 * value is only a binary search away from being a duplicate or an error. */
struct batch_sink {
  size_t *values;
  size_t count, capacity;
  int compacted;
};

static int sink_add(struct batch_sink *sink, size_t value, struct clb_error *err) {
  if (sink->count < sink->capacity) {
    sink->values[sink->count++] = value;
    sink->compacted = 0;
    return CLB_OK;
  }
  if (!sink->compacted) {
    sink->count = sort_unique(sink->values, sink->count);
    sink->compacted = 1;
    if (sink->count < sink->capacity)
      return sink_add(sink, value, err);
  }
  if (sink->count > 0 && bsearch(&value, sink->values, sink->count, sizeof value, compare_batches))
    return CLB_OK;
  return clb_failf(err, CLB_E_INVAL, "%s: more than %zu batch sizes", CLB_BATCH_OPTION,
                   sink->capacity);
}

/* One batch size, 1 <= value <= max_value. */
static int parse_batch_number(const char *s, size_t len, size_t max_value, size_t *out,
                              struct clb_error *err) {
  char shown[CLB_QUOTE_MAX + 8];
  quote(shown, sizeof shown, s, len);
  enum digits_result r = parse_digits(s, len, out);
  if (r == DIGITS_NOT_A_NUMBER)
    return clb_failf(err, CLB_E_INVAL,
                     "%s: '%s' is not a whole number, 'N' or a range A:B:xK / A:B:+K",
                     CLB_BATCH_OPTION, shown);
  if (r == DIGITS_OVERFLOW || *out > max_value)
    return clb_failf(err, CLB_E_INVAL, "%s: %s is above the maximum %zu", CLB_BATCH_OPTION, shown,
                     max_value);
  if (*out < 1)
    return clb_failf(err, CLB_E_INVAL, "%s: %s is below the minimum 1", CLB_BATCH_OPTION, shown);
  return CLB_OK;
}

/* A range "A:B:xK" or "A:B:+K" given as s[0..len). */
static int parse_batch_range(const char *s, size_t len, size_t max_value, struct batch_sink *sink,
                             struct clb_error *err) {
  char shown[CLB_QUOTE_MAX + 8];
  quote(shown, sizeof shown, s, len);
  const char *first = memchr(s, ':', len);
  const char *second = first ? memchr(first + 1, ':', len - (size_t)(first + 1 - s)) : NULL;
  size_t step_len = second ? len - (size_t)(second + 1 - s) : 0;
  if (!second || step_len < 2 || memchr(second + 1, ':', step_len) ||
      (second[1] != 'x' && second[1] != '+'))
    return clb_failf(err, CLB_E_INVAL, "%s: range '%s' is not A:B:xK or A:B:+K", CLB_BATCH_OPTION,
                     shown);
  int geometric = second[1] == 'x';
  size_t start = 0, end = 0, step = 0;
  enum digits_result r_start = parse_digits(s, (size_t)(first - s), &start);
  enum digits_result r_end = parse_digits(first + 1, (size_t)(second - first - 1), &end);
  enum digits_result r_step = parse_digits(second + 2, step_len - 1, &step);
  if (r_start == DIGITS_NOT_A_NUMBER || r_end == DIGITS_NOT_A_NUMBER ||
      r_step == DIGITS_NOT_A_NUMBER)
    return clb_failf(err, CLB_E_INVAL, "%s: range '%s' is not A:B:xK or A:B:+K with whole numbers",
                     CLB_BATCH_OPTION, shown);
  /* A bound too large for size_t is certainly above max_value. */
  if (r_start == DIGITS_OVERFLOW || r_end == DIGITS_OVERFLOW || start > max_value ||
      end > max_value)
    return clb_failf(err, CLB_E_INVAL, "%s: range '%s' goes above the maximum %zu",
                     CLB_BATCH_OPTION, shown, max_value);
  if (r_step == DIGITS_OVERFLOW)
    step = SIZE_MAX; /* A huge step is legal: the range is then just its start. */
  if (start < 1)
    return clb_failf(err, CLB_E_INVAL, "%s: range '%s' starts below 1", CLB_BATCH_OPTION, shown);
  if (start > end)
    return clb_failf(err, CLB_E_INVAL, "%s: range '%s' has start above end", CLB_BATCH_OPTION,
                     shown);
  if (geometric && step < 2)
    return clb_failf(err, CLB_E_INVAL, "%s: range '%s' needs a factor of at least 2",
                     CLB_BATCH_OPTION, shown);
  if (!geometric && step < 1)
    return clb_failf(err, CLB_E_INVAL, "%s: range '%s' needs a step of at least 1",
                     CLB_BATCH_OPTION, shown);
  /* Step until the next value would pass `end`; the comparisons are
   * arranged so that computing that next value can never overflow. */
  for (size_t v = start;;) {
    int rc = sink_add(sink, v, err);
    if (rc != CLB_OK)
      return rc;
    if (geometric) {
      if (v > end / step)
        break;
      v *= step;
    } else {
      if (step > end - v)
        break;
      v += step;
    }
  }
  return CLB_OK;
}

int clb_parse_batches(const char *text, size_t max_value, size_t *out, size_t max_items,
                      size_t *count, struct clb_error *err) {
  if (count)
    *count = 0;
  if (!text || !count || (!out && max_items > 0))
    return clb_failf(err, CLB_E_INVAL, "%s: no value given", CLB_BATCH_OPTION);
  if (max_value == 0)
    max_value = SIZE_MAX;
  if (text[0] == '\0')
    return clb_failf(err, CLB_E_INVAL, "%s: empty list, expected e.g. 1,2,4 or 1:4096:x2",
                     CLB_BATCH_OPTION);
  char shown[CLB_QUOTE_MAX + 8];
  quote(shown, sizeof shown, text, strlen(text));
  struct batch_sink sink = {out, 0, max_items, 0};
  for (const char *item = text;;) {
    const char *comma = strchr(item, ',');
    size_t len = comma ? (size_t)(comma - item) : strlen(item);
    int rc = CLB_OK;
    if (len == 0)
      return clb_failf(err, CLB_E_INVAL, "%s: empty item in '%s'", CLB_BATCH_OPTION, shown);
    if (len == 1 && item[0] == 'N') {
      rc = sink_add(&sink, 0, err);
    } else if (memchr(item, ':', len)) {
      rc = parse_batch_range(item, len, max_value, &sink, err);
    } else {
      size_t value = 0;
      rc = parse_batch_number(item, len, max_value, &value, err);
      if (rc == CLB_OK)
        rc = sink_add(&sink, value, err);
    }
    if (rc != CLB_OK)
      return rc;
    if (!comma)
      break;
    item = comma + 1;
  }
  *count = sort_unique(sink.values, sink.count);
  return CLB_OK;
}

/* ---- config files --------------------------------------------------------- */


int clb_config_split(char *line, char **key, char **value) {
  char *eq = strchr(line, '=');
  if (!eq)
    return -1;
  *eq = '\0';
  *key = clb_trim(line);
  *value = clb_trim(eq + 1);
  return 0;
}

int clb_config_read(const char *path, int (*apply)(const char *key, const char *value, void *ctx),
                    void *ctx, struct clb_error *err) {
  if (!path || !apply)
    return clb_failf(err, CLB_E_INVAL, "config: no file or handler given");
  int rc = CLB_OK;
  char *line = NULL;
  size_t line_cap = 0;
  size_t line_no = 0;
  FILE *file = fopen(path, "r");
  if (!file)
    return clb_failf(err, CLB_E_IO, "cannot open config file '%s': %s", path, strerror(errno));

  for (;;) {
    errno = 0;
    ssize_t got = getline(&line, &line_cap, file);
    if (got < 0) {
      if (ferror(file) || errno == ENOMEM)
        rc = clb_failf(err, errno == ENOMEM ? CLB_E_NOMEM : CLB_E_IO,
                       "cannot read config file '%s': %s", path, strerror(errno ? errno : EIO));
      break;
    }
    line_no++;
    char *text = clb_trim(line);
    if (text[0] == '\0' || text[0] == '#')
      continue;
    char *key = NULL, *value = NULL;
    if (clb_config_split(text, &key, &value) != 0 || key[0] == '\0') {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: expected key = value", path, line_no);
      break;
    }
    if (value[0] == '\0') {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: key '%s' has no value", path, line_no, key);
      break;
    }
    clb_error_clear(err);
    rc = apply(key, value, ctx);
    if (rc != CLB_OK) {
      /* Say where the rejected entry is. If the handler explained itself
       * through the same error record, keep its words after the location. */
      if (err && err->code == rc && err->message[0] != '\0') {
        char reason[sizeof err->message];
        snprintf(reason, sizeof reason, "%s", err->message);
        clb_failf(err, rc, "%s:%zu: %s", path, line_no, reason);
      } else {
        clb_failf(err, rc, "%s:%zu: key '%s': %s", path, line_no, key, clb_strerror(rc));
      }
      break;
    }
  }
  free(line);
  fclose(file);
  return rc;
}
