/* The one CSV layer (RFC 4180) of every file clbatch writes and reads:
 * results, training and study CSVs, data sets, parameter files, reports.
 * Numbers are formatted and parsed under the C locale (clb_c_numeric), so a
 * file written under a locale with a decimal comma reads back anywhere. */
#ifndef CLB_UTIL_CSV_H
#define CLB_UTIL_CSV_H

#include <locale.h>
#include <stddef.h>
#include <stdio.h>

#include "util/errors.h"

/* LC_NUMERIC = "C" for this thread from enter to leave (uselocale changes only
 * the calling thread, never the process). Leaving restores the caller's. */
struct clb_c_numeric {
  locale_t c_locale;
  locale_t previous;
};
void clb_c_numeric_enter(struct clb_c_numeric *scope);
void clb_c_numeric_leave(struct clb_c_numeric *scope);

/* Writes one field, enclosed in double quotes (inner quotes doubled) only
 * when it holds a comma, a double quote, CR or LF. */
void clb_csv_write_field(FILE *out, const char *text);

/* Writes a number with `format` (under the C locale), or `missing` when it is
 * NaN. +-Inf are written "inf"/"-inf": printf's spelling varies by libc. */
void clb_csv_write_number(FILE *out, const char *format, double value, const char *missing);

/* One record: its fields, unquoted, NUL-terminated. */
struct clb_csv_record {
  char *buf;           /* the fields' text, NUL-separated */
  size_t buf_cap;
  size_t *starts;      /* offset of each field in buf */
  size_t count, cap;   /* fields */
  size_t line;         /* physical line where the record starts (1-based) */
  int terminated;      /* ended with a newline, not at the end of the input */
  int open_quote;      /* the input ended inside a quoted field */
};

/* A reader over a whole file held in memory. */
struct clb_csv_reader {
  char *text;
  size_t size, pos, line;
  struct clb_csv_record record;
};

/* Reads the file; *reader must be released with clb_csv_destroy (also after a
 * failure). */
int clb_csv_open(struct clb_csv_reader *reader, const char *path, struct clb_error *err);

/* Reads from memory instead (the text is copied). */
int clb_csv_open_text(struct clb_csv_reader *reader, const char *text, size_t size,
                      struct clb_error *err);

/* The next record: 0 with *record set (owned by the reader, valid until the
 * next call; its fields may be edited in place, e.g. trimmed), 1 at the end of
 * the input, CLB_E_NOMEM. Quoted fields may span lines; "\r\n" ends a record
 * like "\n". */
int clb_csv_next(struct clb_csv_reader *reader, struct clb_csv_record **record);

void clb_csv_destroy(struct clb_csv_reader *reader);

const char *clb_csv_field(const struct clb_csv_record *record, size_t i);

/* 1 when every field is empty or white space (a blank line). */
int clb_csv_is_blank(const struct clb_csv_record *record);

/* Indices of `count` named columns in a header record: index[k] is the
 * position of names[k], or -1. Returns the first missing name, or NULL. */
const char *clb_csv_find_columns(const struct clb_csv_record *header, const char *const *names,
                                 size_t count, int *index);

#endif
