/* A CSV file format described once, as a table of columns, that drives both
 * its writer and its reader: the header line, each row's fields in order and
 * with their printf formats, which columns appear under which flags, and
 * which columns a reader cannot do without. results/train_csv.h and
 * results/study_csv.h declare their formats this way (an X-macro gives the
 * row struct and the table from one list).
 *
 * Numbers are written and read under the C numeric locale (util/csv.h), a
 * NaN is written "nan" and +-Inf "inf"/"-inf"; strings are RFC 4180 fields.
 * In memory a number is a double (counts too: exact below 2^53) and a string
 * a char[CLB_CSV_STR_SIZE]. */
#ifndef CLB_UTIL_CSV_TABLE_H
#define CLB_UTIL_CSV_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/errors.h"

/* Bytes of a string field in a row, the NUL included (as results.h's
 * CLB_STR_FIELD_SIZE); a longer field is cut at a UTF-8 character boundary. */
#define CLB_CSV_STR_SIZE 320

/* What a NaN is written as. */
#define CLB_CSV_MISSING "nan"

/* At most this many columns per table (the reader's found-mask is 64 bits). */
#define CLB_CSV_MAX_COLUMNS 64

enum clb_csv_kind { CLB_CSV_STR, CLB_CSV_NUM };
enum clb_csv_need { CLB_CSV_OPTIONAL, CLB_CSV_REQUIRED };

struct clb_csv_column {
  const char *name;       /* the header name */
  enum clb_csv_kind kind;
  const char *format;     /* NUM: printf format of one double, e.g. "%.10g"; STR: NULL */
  unsigned when;          /* written when (flags & when) == when; 0: always */
  enum clb_csv_need need; /* REQUIRED: a reader refuses a file without it */
  size_t offset;          /* of the field in the row struct */
  size_t size;            /* of the field: char[size] (STR) or double (NUM) */
};

/* Fields of a row struct from an X-macro: CLB_CSV_FIELD_##kind(name). */
#define CLB_CSV_FIELD_STR(name) char name[CLB_CSV_STR_SIZE];
#define CLB_CSV_FIELD_NUM(name) double name;

/* One entry of a column table for member `name` of `type`. */
#define CLB_CSV_COLUMN(type, name, kind, format, when, need)                               \
  {#name, CLB_CSV_##kind, format, when, CLB_CSV_##need, offsetof(type, name),             \
   sizeof(((type *)0)->name)}

struct clb_csv_table {
  const char *what;                     /* "`clbatch train` CSV", for messages */
  const struct clb_csv_column *columns; /* in file order */
  size_t count;                         /* at most CLB_CSV_MAX_COLUMNS */
  size_t row_size;                      /* sizeof the row struct */
  size_t line_offset;                   /* of a size_t in the row: the line it was read from */
};

/* Every number NaN, every string empty, the line 0. */
void clb_csv_table_row_init(const struct clb_csv_table *table, void *row);

/* The header line of the columns `flags` select, then a flush. 0 or CLB_E_IO. */
int clb_csv_table_write_header(FILE *out, const struct clb_csv_table *table, unsigned flags,
                               struct clb_error *err);

/* One row of the columns `flags` select, then a flush, so a run killed later
 * keeps every row written before. 0 or CLB_E_IO. */
int clb_csv_table_write_row(FILE *out, const struct clb_csv_table *table, unsigned flags,
                            const void *row, struct clb_error *err);

/* What a read found besides the rows. */
struct clb_csv_table_info {
  uint64_t found;        /* bit k: column k of the table was in the header */
  size_t dropped_line;   /* line of a truncated last row that was dropped; 0: none */
};

/* Reads a file of this format and appends its rows to *rows (realloc'd, a
 * block of row_size elements; the caller frees), *count updated; on failure
 * the caller's rows are left as they were. Columns are found by name, in any
 * order, extra columns ignored; a missing OPTIONAL column reads as NaN or "".
 * Blank lines are skipped. An empty field is NaN; any other field of a NUM
 * column must be a whole number ("nan" and "inf" included). A last line
 * without its newline that does not parse (too few fields, an open quote, a
 * cut number) is what a killed run leaves: it is dropped and named in
 * info->dropped_line. Errors: CLB_E_IO (cannot open), CLB_E_SCHEMA (a
 * REQUIRED column is missing), CLB_E_PARSE (empty file, ragged row, bad
 * number), CLB_E_NOMEM. `info` may be NULL. */
int clb_csv_table_read(const struct clb_csv_table *table, const char *path, void **rows,
                       size_t *count, struct clb_csv_table_info *info, struct clb_error *err);

#endif
