/* The results CSV: the column table, an RFC 4180 writer and a strict reader.
 *
 * The CSV is the source of truth every other output is made from, so the reader
 * refuses anything it cannot read back exactly (wrong header, other schema
 * version, ragged rows, bad numbers) instead of guessing. The one tolerated
 * defect is a truncated last line: a run killed mid-write leaves exactly that,
 * and the rows before it are still good. */
#include "results/results.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/csv.h"
#include "util/grow.h"
#include "util/text.h"

#ifndef CLBATCH_VERSION
#define CLBATCH_VERSION "unknown"
#endif

const struct clb_column clb_columns[] = {
#define CLB_COLUMN_ENTRY(name, kind, unit, meaning)                                         \
  {#name, CLB_COL_##kind, unit, meaning, offsetof(struct clb_row, name)},
    CLB_COLUMNS(CLB_COLUMN_ENTRY)
#undef CLB_COLUMN_ENTRY
};

const size_t clb_column_count = sizeof clb_columns / sizeof clb_columns[0];

/* Columns added after schema 1, with the schema that added them; a file of
 * an older schema has every other column, in order. */
static const struct {
  const char *name;
  int version;
} added_columns[] = {{"repeat", 2},           {"step_s_ci_low", 2},  {"step_s_ci_high", 2},
                     {"step_rmad", 2},        {"rounds", 2},         {"stable", 2},
                     {"host_warnings", 2},    {"passes", 3},         {"host_slowdown", 4},
                     {"kernels_per_step", 5}, {"launch_floor_s", 5}, {"host_spread", 6}};

int clb_column_in_schema(size_t column, int version) {
  if (column >= clb_column_count || version < CLB_SCHEMA_OLDEST || version > CLB_SCHEMA_VERSION)
    return 0;
  for (size_t i = 0; i < sizeof added_columns / sizeof added_columns[0]; i++)
    if (strcmp(clb_columns[column].name, added_columns[i].name) == 0)
      return version >= added_columns[i].version;
  return 1;
}

void clb_row_append_message(struct clb_row *row, const char *format, ...) {
  size_t used = strlen(row->message);
  if (used > 0 && used + 2 < sizeof row->message) {
    memcpy(row->message + used, "; ", 3);
    used += 2;
  }
  if (used + 1 >= sizeof row->message)
    return;
  va_list args;
  va_start(args, format);
  vsnprintf(row->message + used, sizeof row->message - used, format, args);
  va_end(args);
}

/* The columns of schema `version` in file order: layout[k] is the
 * clb_columns index of field k. Returns how many. */
static size_t schema_layout(int version, size_t *layout) {
  size_t n = 0;
  for (size_t i = 0; i < clb_column_count; i++)
    if (clb_column_in_schema(i, version))
      layout[n++] = i;
  return n;
}

static double *number_field(struct clb_row *row, const struct clb_column *col) {
  return (double *)(void *)((char *)row + col->offset);
}

static const double *const_number_field(const struct clb_row *row,
                                        const struct clb_column *col) {
  return (const double *)(const void *)((const char *)row + col->offset);
}

static char *string_field(struct clb_row *row, const struct clb_column *col) {
  return (char *)row + col->offset;
}

static const char *const_string_field(const struct clb_row *row, const struct clb_column *col) {
  return (const char *)row + col->offset;
}

void clb_row_init(struct clb_row *row) {
  for (size_t i = 0; i < clb_column_count; i++) {
    const struct clb_column *col = &clb_columns[i];
    if (col->kind == CLB_COL_STR)
      string_field(row, col)[0] = '\0';
    else
      *number_field(row, col) = NAN;
  }
  row->schema = CLB_SCHEMA_VERSION;
  snprintf(row->clbatch_version, sizeof row->clbatch_version, "%s", CLBATCH_VERSION);
}

int clb_results_write_header(FILE *out, struct clb_error *err) {
  for (size_t i = 0; i < clb_column_count; i++) {
    if (i > 0)
      fputc(',', out);
    fputs(clb_columns[i].name, out);
  }
  fputc('\n', out);
  if (fflush(out) != 0 || ferror(out))
    return clb_failf(err, CLB_E_IO, "cannot write the results header: %s", strerror(errno));
  return CLB_OK;
}

/* printf/strtod follow LC_NUMERIC, which a host program (or a user's locale
 * after setlocale) may have set to one with a decimal comma. The CSV must read
 * the same everywhere, so every number is formatted and parsed under the C
 * locale for the duration of one row. */
int clb_results_write_row(FILE *out, const struct clb_row *row, struct clb_error *err) {
  struct clb_c_numeric numeric;
  clb_c_numeric_enter(&numeric);
  for (size_t i = 0; i < clb_column_count; i++) {
    const struct clb_column *col = &clb_columns[i];
    if (i > 0)
      fputc(',', out);
    if (col->kind == CLB_COL_STR) {
      clb_csv_write_field(out, const_string_field(row, col));
      continue;
    }
    double value = *const_number_field(row, col);
    if (isnan(value))
      continue; /* empty field = not measured */
    fprintf(out, col->kind == CLB_COL_INT ? "%.0f" : "%.9g", value);
  }
  fputc('\n', out);
  clb_c_numeric_leave(&numeric);
  /* Flushing per row means a crash or kill loses at most the row being written. */
  if (fflush(out) != 0 || ferror(out))
    return clb_failf(err, CLB_E_IO, "cannot write a results row: %s", strerror(errno));
  return CLB_OK;
}

/* ---- reading ----------------------------------------------------------- */

static int column_index(const char *name) {
  for (size_t i = 0; i < clb_column_count; i++)
    if (strcmp(clb_columns[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int header_index(const struct clb_csv_record *rec, const char *name) {
  for (size_t i = 0; i < rec->count; i++)
    if (strcmp(clb_csv_field(rec, i), name) == 0)
      return (int)i;
  return -1;
}

/* Names the first header field that differs from the columns of `layout`,
 * and why. */
static int check_header(const char *path, const struct clb_csv_record *rec, const size_t *layout,
                        size_t n_layout, struct clb_error *err) {
  for (size_t i = 0; i < n_layout || i < rec->count; i++) {
    if (i >= rec->count)
      return clb_failf(err, CLB_E_SCHEMA, "%s: header: missing column '%s' (column %zu)", path,
                       clb_columns[layout[i]].name, i + 1);
    const char *found = clb_csv_field(rec, i);
    if (i >= n_layout)
      return clb_failf(err, CLB_E_SCHEMA, "%s: header: extra column '%s' (column %zu)", path,
                       found, i + 1);
    const char *expected = clb_columns[layout[i]].name;
    if (strcmp(found, expected) == 0)
      continue;
    if (header_index(rec, expected) < 0)
      return clb_failf(err, CLB_E_SCHEMA, "%s: header: missing column '%s' (column %zu)", path,
                       expected, i + 1);
    if (column_index(found) < 0)
      return clb_failf(err, CLB_E_SCHEMA, "%s: header: extra column '%s' (column %zu)", path,
                       found, i + 1);
    return clb_failf(err, CLB_E_SCHEMA,
                     "%s: header: column '%s' is out of order: column %zu must be '%s'", path,
                     found, i + 1, expected);
  }
  return CLB_OK;
}

/* How many leading header fields match the columns of `layout`. */
static size_t matching_prefix(const struct clb_csv_record *rec, const size_t *layout,
                              size_t n_layout) {
  size_t i = 0;
  while (i < rec->count && i < n_layout && strcmp(clb_csv_field(rec, i), clb_columns[layout[i]].name) == 0)
    i++;
  return i;
}

/* The file's schema from its header: the newest whose columns it matches.
 * A header that matches none is described against the version it follows
 * furthest (the newest on a tie): a schema 2 file that lost its last column
 * is missing that column, not schema 2's first new one. */
static int detect_schema(const char *path, const struct clb_csv_record *rec, int *version,
                         size_t *layout, size_t *n_layout, struct clb_error *err) {
  int closest = CLB_SCHEMA_VERSION;
  size_t longest = 0;
  for (int v = CLB_SCHEMA_VERSION; v >= CLB_SCHEMA_OLDEST; v--) {
    *n_layout = schema_layout(v, layout);
    struct clb_error ignored = {0};
    if (check_header(path, rec, layout, *n_layout, &ignored) == CLB_OK) {
      *version = v;
      return CLB_OK;
    }
    size_t prefix = matching_prefix(rec, layout, *n_layout);
    if (prefix > longest) {
      longest = prefix;
      closest = v;
    }
  }
  *n_layout = schema_layout(closest, layout);
  return check_header(path, rec, layout, *n_layout, err);
}

/* Parses a number field: empty = NaN; otherwise the whole field must be a
 * number, and INT columns an integral one. */
static int parse_number(const char *text, const struct clb_column *col, double *out,
                        const char **why) {
  if (text[0] == '\0') {
    *out = NAN;
    return 0;
  }
  char *end = NULL;
  errno = 0;
  double value = strtod(text, &end);
  if (end == text || *end != '\0') {
    *why = "not a number";
    return -1;
  }
  if (col->kind == CLB_COL_INT && isfinite(value) && value != floor(value)) {
    *why = "not an integer";
    return -1;
  }
  *out = value;
  return 0;
}

/* A row of a file of schema `version` (columns `layout`), as a row of the
 * current schema: the columns that version lacks stay empty, except the
 * repeat and the passes, which were 1 before they had a column. */
static int fill_row(const char *path, const struct clb_csv_record *rec, int version,
                    const size_t *layout, size_t n_layout, struct clb_row *row,
                    struct clb_error *err) {
  clb_row_init(row);
  if (version < 2)
    row->repeat = 1;
  if (version < 3)
    row->passes = 1;
  for (size_t i = 0; i < n_layout; i++) {
    const struct clb_column *col = &clb_columns[layout[i]];
    const char *text = clb_csv_field(rec, i);
    if (col->kind == CLB_COL_STR) {
      clb_copy_cut(string_field(row, col), CLB_STR_FIELD_SIZE, text);
      continue;
    }
    const char *why = NULL;
    if (parse_number(text, col, number_field(row, col), &why) != 0)
      return clb_failf(err, CLB_E_PARSE, "%s:%zu: column %s: %s: '%.64s'", path, rec->line,
                       col->name, why, text);
  }
  row->schema = CLB_SCHEMA_VERSION; /* it is one now: written back, it reads as one */
  return CLB_OK;
}

static int is_blank_record(const struct clb_csv_record *rec) {
  return rec->count == 1 && clb_csv_field(rec, 0)[0] == '\0';
}

static int out_of_memory(const char *path, struct clb_error *err) {
  return clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
}

int clb_results_read(const char *path, struct clb_row **rows, size_t *count, char *warning,
                     size_t warning_size, struct clb_error *err) {
  struct clb_csv_reader reader;
  struct clb_csv_record *rec = NULL;
  struct clb_row *local = NULL;
  size_t n_local = 0, cap_local = 0;
  struct clb_c_numeric numeric;
  size_t layout[sizeof clb_columns / sizeof clb_columns[0]];
  size_t n_layout = 0;
  int version = CLB_SCHEMA_VERSION;
  int rc = CLB_OK;
  clb_c_numeric_enter(&numeric);
  if (warning && warning_size)
    warning[0] = '\0';

  CLB_TRY(clb_csv_open(&reader, path, err));
  int status = clb_csv_next(&reader, &rec);
  if (status == CLB_E_NOMEM) {
    rc = out_of_memory(path, err);
    goto cleanup;
  }
  if (status == 1 || is_blank_record(rec)) {
    rc = clb_failf(err, CLB_E_PARSE, "%s: empty file (no header line)", path);
    goto cleanup;
  }
  CLB_TRY(detect_schema(path, rec, &version, layout, &n_layout, err));

  for (;;) {
    status = clb_csv_next(&reader, &rec);
    if (status == 1)
      break;
    if (status == CLB_E_NOMEM) {
      rc = out_of_memory(path, err);
      goto cleanup;
    }
    int last = reader.pos >= reader.size;
    if (is_blank_record(rec)) {
      if (last)
        break; /* a trailing empty line is harmless */
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: empty line inside the file", path, rec->line);
      goto cleanup;
    }
    if (last && (!rec->terminated || rec->open_quote || rec->count < n_layout)) {
      if (warning && warning_size)
        snprintf(warning, warning_size,
                 "%s:%zu: last line is truncated (%zu of %zu fields%s); dropped it, as a "
                 "killed run can leave such a line",
                 path, rec->line, rec->count, n_layout,
                 rec->terminated ? "" : ", no trailing newline");
      break;
    }
    /* The schema field comes first so a newer file is named as such, not as ragged. */
    double schema = NAN;
    const char *why = NULL;
    if (parse_number(clb_csv_field(rec, 0), &clb_columns[0], &schema, &why) != 0 ||
        schema != (double)version) {
      rc = clb_failf(err, CLB_E_SCHEMA,
                     "%s:%zu: schema version %s in a file whose header is schema %d (this "
                     "clbatch reads %d to %d)",
                     path, rec->line, clb_csv_field(rec, 0), version, CLB_SCHEMA_OLDEST,
                     CLB_SCHEMA_VERSION);
      goto cleanup;
    }
    if (rec->count != n_layout) {
      size_t at = rec->count < n_layout ? rec->count : n_layout - 1;
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: column %s: row has %zu fields, the header %zu",
                     path, rec->line, clb_columns[layout[at]].name, rec->count, n_layout);
      goto cleanup;
    }
    if (n_local == cap_local) {
      struct clb_row *grown = clb_grow(local, &cap_local, n_local + 1, sizeof *grown, 64);
      if (!grown) {
        rc = out_of_memory(path, err);
        goto cleanup;
      }
      local = grown;
    }
    CLB_TRY(fill_row(path, rec, version, layout, n_layout, &local[n_local], err));
    n_local++;
  }

  /* Append only on success, so a failed read leaves the caller's rows alone. */
  if (n_local > 0) {
    struct clb_row *grown = realloc(*rows, (*count + n_local) * sizeof *grown);
    if (!grown) {
      rc = out_of_memory(path, err);
      goto cleanup;
    }
    memcpy(grown + *count, local, n_local * sizeof *local);
    *rows = grown;
    *count += n_local;
  }

cleanup:
  clb_c_numeric_leave(&numeric);
  free(local);
  clb_csv_destroy(&reader);
  return rc;
}

void clb_row_key(const struct clb_row *row, char *key, size_t size) {
  snprintf(key, size, "%s|%s|%s|%s|%s|%.0f|%s|%.0f", row->host, row->device_index, row->device,
           row->model, row->precision, row->batch, row->data_on, row->repeat);
}

void clb_row_keys_free(char **keys, size_t n) {
  for (size_t i = 0; keys && i < n; i++)
    free(keys[i]);
  free(keys);
}

int clb_results_read_keys(const char *path, char ***keys, size_t *n, struct clb_error *err) {
  struct clb_row *rows = NULL;
  size_t count = 0;
  char warning[512];
  *keys = NULL;
  *n = 0;
  if (access(path, R_OK) != 0)
    return CLB_OK;
  int rc = clb_results_read(path, &rows, &count, warning, sizeof warning, err);
  if (rc != CLB_OK)
    return rc;
  *keys = calloc(count ? count : 1, sizeof **keys);
  for (size_t i = 0; *keys && i < count; i++) {
    char key[2048];
    clb_row_key(&rows[i], key, sizeof key);
    if (!((*keys)[i] = strdup(key)))
      break;
    (*n)++;
  }
  free(rows);
  if (!*keys || *n < count) {
    clb_row_keys_free(*keys, *n);
    *keys = NULL;
    *n = 0;
    return clb_failf(err, CLB_E_NOMEM, "out of memory reading the rows of %s", path);
  }
  return CLB_OK;
}
