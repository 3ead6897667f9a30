#include "util/options.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/parse.h"
#include "util/sbuf.h"
#include "util/text.h"

const struct clb_option *clb_options_find(const struct clb_option *table, size_t count,
                                          const char *name) {
  for (size_t i = 0; i < count; i++)
    if (strcmp(table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

static void *field_of(const struct clb_option *option, void *target) {
  return (char *)target + option->offset;
}

static const void *const_field_of(const struct clb_option *option, const void *target) {
  return (const char *)target + option->offset;
}

static int set_flag(const struct clb_option *option, int *field, const char *value,
                    struct clb_error *err) {
  int on;
  if (!value || !*value || !strcmp(value, "1") || !strcmp(value, "yes") || !strcmp(value, "true"))
    on = 1;
  else if (!strcmp(value, "0") || !strcmp(value, "no") || !strcmp(value, "false"))
    on = 0;
  else
    return clb_failf(err, CLB_E_INVAL, "--%s: '%s' is not yes or no", option->name, value);
  *field = option->flags & CLB_OPT_NEGATE ? !on : on;
  return 0;
}

static int set_text(const struct clb_option *option, char *field, const char *value,
                    struct clb_error *err) {
  if (!value || !*value)
    return clb_failf(err, CLB_E_INVAL, "--%s needs a value", option->name);
  size_t len = strlen(value);
  if (len >= option->size)
    return clb_failf(err, CLB_E_INVAL, "--%s: value longer than %zu characters", option->name,
                     option->size - 1);
  memcpy(field, value, len + 1);
  return 0;
}

/* A bound as a size_t; 2^64 and beyond (a double's SIZE_MAX) mean no limit. */
static size_t size_bound(double bound) {
  return bound >= 18446744073709551615.0 ? SIZE_MAX : (size_t)bound;
}

int clb_options_set(const struct clb_option *option, void *target, const char *value,
                    struct clb_error *err) {
  char what[96];
  snprintf(what, sizeof what, "--%s", option->name);
  void *field = field_of(option, target);
  const char *v = value ? value : "";
  size_t size_value = 0;
  int rc = 0;
  switch (option->type) {
  case CLB_OPT_TEXT:
    return set_text(option, field, value, err);
  case CLB_OPT_SIZE:
    return clb_parse_size(v, size_bound(option->lo), size_bound(option->hi), what, field, err);
  case CLB_OPT_U64:
    rc = clb_parse_size(v, size_bound(option->lo), size_bound(option->hi), what, &size_value,
                        err);
    if (rc == 0)
      *(uint64_t *)field = (uint64_t)size_value;
    return rc;
  case CLB_OPT_DOUBLE:
    rc = clb_parse_double(v, option->lo, option->hi, what, field, err);
    if (rc == 0 && (option->flags & CLB_OPT_POSITIVE) && *(double *)field <= option->lo)
      return clb_failf(err, CLB_E_INVAL, "--%s: %s must be above %g", option->name, v,
                       option->lo);
    return rc;
  case CLB_OPT_FLAG:
    return set_flag(option, field, value, err);
  case CLB_OPT_CUSTOM:
    return option->parse(option, target, v, err);
  }
  return clb_failf(err, CLB_E_INVAL, "--%s: unknown option type", option->name);
}

int clb_options_defaults(const struct clb_option *table, size_t count, void *target,
                         struct clb_error *err) {
  for (size_t i = 0; i < count; i++) {
    const struct clb_option *option = &table[i];
    if (!option->default_text)
      continue;
    /* A default is parsed like a user's value, so a bad table entry fails
     * loudly (the options test sets every default). */
    int rc = clb_options_set(option, target, option->default_text, err);
    if (rc != 0)
      return rc;
  }
  return 0;
}

const char *clb_exact_number(double value, char *buf, size_t size) {
  for (int digits = 6; digits <= 17; digits++) {
    snprintf(buf, size, "%.*g", digits, value);
    if (strtod(buf, NULL) == value)
      break;
  }
  return buf;
}

void clb_options_format(const struct clb_option *option, const void *target, char *buf,
                        size_t size) {
  const void *field = const_field_of(option, target);
  switch (option->type) {
  case CLB_OPT_TEXT:
    snprintf(buf, size, "%s", (const char *)field);
    return;
  case CLB_OPT_SIZE:
    snprintf(buf, size, "%zu", *(const size_t *)field);
    return;
  case CLB_OPT_U64:
    snprintf(buf, size, "%llu", (unsigned long long)*(const uint64_t *)field);
    return;
  case CLB_OPT_DOUBLE:
    clb_exact_number(*(const double *)field, buf, size);
    return;
  case CLB_OPT_FLAG: {
    int on = *(const int *)field;
    snprintf(buf, size, "%s", (option->flags & CLB_OPT_NEGATE ? !on : on) ? "yes" : "no");
    return;
  }
  case CLB_OPT_CUSTOM:
    option->format(option, target, buf, size);
    return;
  }
  snprintf(buf, size, "?");
}

static int applies(const struct clb_option *option, unsigned mode) {
  return option->modes == 0 || mode == 0 || (option->modes & mode) != 0;
}

void clb_options_write(const struct clb_option *table, size_t count, const void *target,
                       unsigned mode, FILE *out) {
  char value[4096];
  for (size_t i = 0; i < count; i++) {
    const struct clb_option *option = &table[i];
    if ((option->flags & CLB_OPT_UNSAVED) || !applies(option, mode))
      continue;
    clb_options_format(option, target, value, sizeof value);
    if (option->type == CLB_OPT_TEXT && value[0] == '\0')
      continue;
    fprintf(out, "%s = %s\n", option->name, value);
  }
}

enum { HELP_COLUMN = 24, HELP_WIDTH = 79 };

/* "  --name METAVAR" padded to the help column, then the help and its
 * default as one paragraph (the table breaks help texts only to keep its
 * source narrow), wrapped to the terminal's 80 columns. */
static void help_entry(const struct clb_option *option, FILE *out) {
  char head[128];
  int len = snprintf(head, sizeof head, "  --%s%s%s", option->name, option->metavar ? " " : "",
                     option->metavar ? option->metavar : "");
  fputs(head, out);
  if (len >= HELP_COLUMN - 1) {
    fputc('\n', out);
    len = 0;
  }
  fprintf(out, "%*s", HELP_COLUMN - len, "");
  struct clb_sbuf text = {0};
  clb_sbuf_puts(&text, option->help ? option->help : "");
  if (option->default_text && option->type != CLB_OPT_FLAG && option->default_text[0])
    clb_sbuf_printf(&text, " (default %s)", option->default_text);
  if (text.failed || !text.text) { /* out of memory: the help unwrapped, not missing */
    fprintf(out, "%s\n", option->help ? option->help : "");
    clb_sbuf_destroy(&text);
    return;
  }
  for (char *c = text.text; *c; c++)
    if (*c == '\n')
      *c = ' ';
  clb_put_wrapped(text.text, text.len, HELP_COLUMN, HELP_WIDTH, out);
  fputc('\n', out);
  clb_sbuf_destroy(&text);
}

void clb_options_help(const struct clb_option *table, size_t count, unsigned mode, FILE *out) {
  /* Sections in the order they first appear. */
  for (size_t i = 0; i < count; i++) {
    const char *section = table[i].section ? table[i].section : "";
    int seen = 0;
    for (size_t k = 0; k < i && !seen; k++)
      seen = strcmp(table[k].section ? table[k].section : "", section) == 0;
    if (seen)
      continue;
    int printed_heading = 0;
    for (size_t j = i; j < count; j++) {
      const struct clb_option *option = &table[j];
      if (strcmp(option->section ? option->section : "", section) != 0 ||
          (option->flags & CLB_OPT_HIDDEN) || !applies(option, mode))
        continue;
      if (!printed_heading && section[0])
        fprintf(out, "\n%s:\n", section);
      printed_heading = 1;
      help_entry(option, out);
    }
  }
}

void clb_options_getopt(const struct clb_option *table, size_t count, struct option *out) {
  for (size_t i = 0; i < count; i++)
    out[i] = (struct option){table[i].name,
                             table[i].type == CLB_OPT_FLAG ? no_argument : required_argument,
                             NULL, 1000 + (int)i};
  out[count] = (struct option){"help", no_argument, NULL, 'h'};
  out[count + 1] = (struct option){NULL, 0, NULL, 0};
}
