/* Options described once, in a table: each entry names the option, its type,
 * where it lives in the caller's options struct, its bounds, its default and
 * its help. The same table drives getopt_long, the help text, the defaults,
 * setting a value by name (command line or `key = value` config file) and
 * writing the effective configuration back out, so an option cannot be known
 * to one of these and missed by another.
 *
 * A caller keeps its table next to its struct, usually as an X-macro. */
#ifndef CLB_UTIL_OPTIONS_H
#define CLB_UTIL_OPTIONS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/errors.h"

enum clb_option_type {
  CLB_OPT_TEXT,   /* char[size] at offset; empty is "not given" */
  CLB_OPT_SIZE,   /* size_t in [lo, hi] */
  CLB_OPT_U64,    /* uint64_t in [lo, hi] (a seed) */
  CLB_OPT_DOUBLE, /* finite double in [lo, hi] */
  CLB_OPT_FLAG,   /* int 0/1; on the command line it takes no value */
  CLB_OPT_CUSTOM, /* parse/format callbacks; `size` bytes at offset */
};

/* Flags of an entry. */
#define CLB_OPT_UNSAVED 0x1u /* not written by clb_options_write (out, resume, quiet) */
#define CLB_OPT_NEGATE 0x2u  /* a FLAG that stores its negation (no-shuffle -> shuffle) */
#define CLB_OPT_HIDDEN 0x4u  /* left out of the help */
#define CLB_OPT_POSITIVE 0x8u /* a DOUBLE that must be above lo, not only at least lo */

struct clb_option;

/* Parses `value` into the options struct `target` (a custom option may set
 * several fields, e.g. a list and its count; err says why not). */
typedef int (*clb_option_parse_fn)(const struct clb_option *option, void *target,
                                   const char *value, struct clb_error *err);
/* Writes the option's value as text that the parser reads back to the same value. */
typedef void (*clb_option_format_fn)(const struct clb_option *option, const void *target,
                                     char *buf, size_t size);

struct clb_option {
  const char *name; /* long option without dashes, and the config key */
  enum clb_option_type type;
  size_t offset, size; /* of the field in the options struct */
  double lo, hi;       /* bounds of SIZE, U64 and DOUBLE */
  const char *default_text; /* parsed like a user's value; NULL: the field stays zero */
  const char *metavar;      /* "N", "LIST", ...; NULL for flags */
  const char *help;         /* lines separated by '\n' */
  const char *section;      /* the help heading the option is listed under */
  unsigned flags;           /* CLB_OPT_* */
  unsigned modes;           /* bit mask of the caller's modes it applies to; 0: all */
  clb_option_parse_fn parse;   /* CUSTOM only */
  clb_option_format_fn format; /* CUSTOM only */
};

/* The table entry named `name` ("batch", not "--batch"), or NULL. */
const struct clb_option *clb_options_find(const struct clb_option *table, size_t count,
                                          const char *name);

/* Sets every field to its default. */
int clb_options_defaults(const struct clb_option *table, size_t count, void *target,
                         struct clb_error *err);

/* Parses `value` into option's field of `target`. Messages name "--NAME". */
int clb_options_set(const struct clb_option *option, void *target, const char *value,
                    struct clb_error *err);

/* The field's value as text that clb_options_set reads back exactly. */
void clb_options_format(const struct clb_option *option, const void *target, char *buf,
                        size_t size);

/* Writes `name = value` for every entry without CLB_OPT_UNSAVED that applies
 * to `mode` (0: all) and is not an empty TEXT. */
void clb_options_write(const struct clb_option *table, size_t count, const void *target,
                       unsigned mode, FILE *out);

/* Help lines for `mode`, grouped by section in table order:
 * "  --name METAVAR   help (default X)". */
void clb_options_help(const struct clb_option *table, size_t count, unsigned mode, FILE *out);

/* Fills `out` (count + 2 entries: the table, then "help", then the zero end)
 * for getopt_long: each entry's `val` is 1000 + its index, "help" is 'h'. */
void clb_options_getopt(const struct clb_option *table, size_t count, struct option *out);

/* The shortest decimal text that reads back as exactly `value`. */
const char *clb_exact_number(double value, char *buf, size_t size);

#endif
