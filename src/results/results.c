/* The results CSV: the column table, an RFC 4180 writer and a strict reader.
 *
 * The CSV is the source of truth every other output is made from, so the reader
 * refuses anything it cannot read back exactly (wrong header, other schema
 * version, ragged rows, bad numbers) instead of guessing. The one tolerated
 * defect is a truncated last line: a run killed mid-write leaves exactly that,
 * and the rows before it are still good. */
#include "results/results.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* printf/strtod follow LC_NUMERIC, which a host program (or a user's locale
 * after setlocale) may have set to one with a decimal comma. The CSV must read
 * the same everywhere, so every number is formatted and parsed under the C
 * locale for the duration of one row. */
struct c_numeric {
  locale_t c_locale;
  locale_t previous;
};

static void c_numeric_enter(struct c_numeric *state) {
  state->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  state->previous = state->c_locale ? uselocale(state->c_locale) : (locale_t)0;
}

static void c_numeric_leave(struct c_numeric *state) {
  if (state->c_locale) {
    uselocale(state->previous);
    freelocale(state->c_locale);
  }
}

static int needs_quotes(const char *text) {
  return strpbrk(text, ",\"\r\n") != NULL;
}

static void write_string(FILE *out, const char *text) {
  if (!needs_quotes(text)) {
    fputs(text, out);
    return;
  }
  fputc('"', out);
  for (const char *p = text; *p; p++) {
    if (*p == '"')
      fputc('"', out);
    fputc(*p, out);
  }
  fputc('"', out);
}

int clb_results_write_header(FILE *out) {
  for (size_t i = 0; i < clb_column_count; i++) {
    if (i > 0)
      fputc(',', out);
    fputs(clb_columns[i].name, out);
  }
  fputc('\n', out);
  if (fflush(out) != 0 || ferror(out))
    return CLB_E_IO;
  return CLB_OK;
}

int clb_results_write_row(FILE *out, const struct clb_row *row) {
  struct c_numeric numeric;
  c_numeric_enter(&numeric);
  for (size_t i = 0; i < clb_column_count; i++) {
    const struct clb_column *col = &clb_columns[i];
    if (i > 0)
      fputc(',', out);
    if (col->kind == CLB_COL_STR) {
      write_string(out, const_string_field(row, col));
      continue;
    }
    double value = *const_number_field(row, col);
    if (isnan(value))
      continue; /* empty field = not measured */
    fprintf(out, col->kind == CLB_COL_INT ? "%.0f" : "%.9g", value);
  }
  fputc('\n', out);
  c_numeric_leave(&numeric);
  /* Flushing per row means a crash or kill loses at most the row being written. */
  if (fflush(out) != 0 || ferror(out))
    return CLB_E_IO;
  return CLB_OK;
}

/* ---- reading ----------------------------------------------------------- */

/* One CSV record split into fields. The fields point into `buf`, which holds
 * the unquoted text of every field, NUL-separated. */
struct record {
  char *buf;
  size_t buf_cap;
  size_t *starts; /* offsets of each field in buf */
  size_t count, cap;
  size_t line;       /* physical line where the record starts (1-based) */
  int terminated;    /* ended with a newline (not EOF) */
  int open_quote;    /* EOF inside a quoted field */
};

static int record_push_char(struct record *rec, size_t *len, char c) {
  if (*len + 1 >= rec->buf_cap) {
    size_t cap = rec->buf_cap ? rec->buf_cap * 2 : 1024;
    char *grown = realloc(rec->buf, cap);
    if (!grown)
      return CLB_E_NOMEM;
    rec->buf = grown;
    rec->buf_cap = cap;
  }
  rec->buf[(*len)++] = c;
  return CLB_OK;
}

static int record_start_field(struct record *rec, size_t len) {
  if (rec->count == rec->cap) {
    size_t cap = rec->cap ? rec->cap * 2 : 64;
    size_t *grown = realloc(rec->starts, cap * sizeof *grown);
    if (!grown)
      return CLB_E_NOMEM;
    rec->starts = grown;
    rec->cap = cap;
  }
  rec->starts[rec->count++] = len;
  return CLB_OK;
}

static const char *record_field(const struct record *rec, size_t i) {
  return rec->buf + rec->starts[i];
}

/* Parses one record from text[*pos..size). Advances *pos and *line. Returns 0,
 * or 1 at end of input (no record), or CLB_E_NOMEM. */
static int record_parse(const char *text, size_t size, size_t *pos, size_t *line,
                        struct record *rec) {
  size_t i = *pos, len = 0;
  rec->count = 0;
  rec->terminated = 0;
  rec->open_quote = 0;
  rec->line = *line;
  if (i >= size)
    return 1;
  if (record_start_field(rec, 0) != CLB_OK)
    return CLB_E_NOMEM;
  int quoted = 0;
  while (i < size) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < size && text[i + 1] == '"') {
          if (record_push_char(rec, &len, '"') != CLB_OK)
            return CLB_E_NOMEM;
          i += 2;
          continue;
        }
        quoted = 0;
        i++;
        continue;
      }
      if (c == '\n')
        (*line)++;
      if (record_push_char(rec, &len, c) != CLB_OK)
        return CLB_E_NOMEM;
      i++;
      continue;
    }
    if (c == '"') {
      quoted = 1;
      i++;
      continue;
    }
    if (c == ',') {
      if (record_push_char(rec, &len, '\0') != CLB_OK || record_start_field(rec, len) != CLB_OK)
        return CLB_E_NOMEM;
      i++;
      continue;
    }
    if (c == '\r' && i + 1 < size && text[i + 1] == '\n') {
      i++;
      continue;
    }
    if (c == '\n') {
      (*line)++;
      rec->terminated = 1;
      i++;
      break;
    }
    if (record_push_char(rec, &len, c) != CLB_OK)
      return CLB_E_NOMEM;
    i++;
  }
  rec->open_quote = quoted;
  if (record_push_char(rec, &len, '\0') != CLB_OK)
    return CLB_E_NOMEM;
  *pos = i;
  return 0;
}

static void record_free(struct record *rec) {
  free(rec->buf);
  free(rec->starts);
}

static int read_whole_file(const char *path, char **text, size_t *size, struct clb_error *err) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return clb_failf(err, CLB_E_IO, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  int rc = CLB_OK;
  if (!buf) {
    rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  for (;;) {
    if (len == cap) {
      char *grown = realloc(buf, cap * 2);
      if (!grown) {
        rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
        goto cleanup;
      }
      buf = grown;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len, file);
    len += n;
    if (n == 0)
      break;
  }
  if (ferror(file)) {
    rc = clb_failf(err, CLB_E_IO, "%s: read error", path);
    goto cleanup;
  }
  *text = buf;
  *size = len;
  buf = NULL;
cleanup:
  free(buf);
  fclose(file);
  return rc;
}

static int column_index(const char *name) {
  for (size_t i = 0; i < clb_column_count; i++)
    if (strcmp(clb_columns[i].name, name) == 0)
      return (int)i;
  return -1;
}

static int header_index(const struct record *rec, const char *name) {
  for (size_t i = 0; i < rec->count; i++)
    if (strcmp(record_field(rec, i), name) == 0)
      return (int)i;
  return -1;
}

/* Names the first header field that differs from the schema, and why. */
static int check_header(const char *path, const struct record *rec, struct clb_error *err) {
  for (size_t i = 0; i < clb_column_count || i < rec->count; i++) {
    if (i >= rec->count)
      return clb_failf(err, CLB_E_SCHEMA, "%s: header: missing column '%s' (column %zu)", path,
                       clb_columns[i].name, i + 1);
    const char *found = record_field(rec, i);
    if (i >= clb_column_count)
      return clb_failf(err, CLB_E_SCHEMA, "%s: header: extra column '%s' (column %zu)", path,
                       found, i + 1);
    const char *expected = clb_columns[i].name;
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

/* Copies a string field, cutting an over-long one at a UTF-8 character
 * boundary so the stored text stays valid. */
static void copy_string(char *dst, const char *src) {
  size_t len = strlen(src);
  if (len >= CLB_STR_FIELD_SIZE) {
    len = CLB_STR_FIELD_SIZE - 1;
    while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
      len--;
  }
  memcpy(dst, src, len);
  dst[len] = '\0';
}

static int fill_row(const char *path, const struct record *rec, struct clb_row *row,
                    struct clb_error *err) {
  clb_row_init(row);
  for (size_t i = 0; i < clb_column_count; i++) {
    const struct clb_column *col = &clb_columns[i];
    const char *text = record_field(rec, i);
    if (col->kind == CLB_COL_STR) {
      copy_string(string_field(row, col), text);
      continue;
    }
    const char *why = NULL;
    if (parse_number(text, col, number_field(row, col), &why) != 0)
      return clb_failf(err, CLB_E_PARSE, "%s:%zu: column %s: %s: '%.64s'", path, rec->line,
                       col->name, why, text);
  }
  return CLB_OK;
}

static int is_blank_record(const struct record *rec) {
  return rec->count == 1 && record_field(rec, 0)[0] == '\0';
}

int clb_results_read(const char *path, struct clb_row **rows, size_t *count, char *warning,
                     size_t warning_size, struct clb_error *err) {
  char *text = NULL;
  size_t size = 0, pos = 0, line = 1;
  struct record rec = {0};
  struct clb_row *local = NULL;
  size_t n_local = 0, cap_local = 0;
  struct c_numeric numeric;
  int rc = CLB_OK;
  c_numeric_enter(&numeric);
  if (warning && warning_size)
    warning[0] = '\0';

  CLB_TRY(read_whole_file(path, &text, &size, err));
  /* Skip a UTF-8 byte order mark that spreadsheet programs like to add. */
  if (size >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    pos = 3;
  int status = record_parse(text, size, &pos, &line, &rec);
  if (status == CLB_E_NOMEM) {
    rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  if (status == 1 || is_blank_record(&rec)) {
    rc = clb_failf(err, CLB_E_PARSE, "%s: empty file (no header line)", path);
    goto cleanup;
  }
  CLB_TRY(check_header(path, &rec, err));

  for (;;) {
    status = record_parse(text, size, &pos, &line, &rec);
    if (status == 1)
      break;
    if (status == CLB_E_NOMEM) {
      rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
      goto cleanup;
    }
    int last = pos >= size;
    if (is_blank_record(&rec)) {
      if (last)
        break; /* a trailing empty line is harmless */
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: empty line inside the file", path, rec.line);
      goto cleanup;
    }
    if (last && (!rec.terminated || rec.open_quote || rec.count < clb_column_count)) {
      if (warning && warning_size)
        snprintf(warning, warning_size,
                 "%s:%zu: last line is truncated (%zu of %zu fields%s); dropped it, as a "
                 "killed run can leave such a line",
                 path, rec.line, rec.count, clb_column_count,
                 rec.terminated ? "" : ", no trailing newline");
      break;
    }
    /* The schema field comes first so a newer file is named as such, not as ragged. */
    double schema = NAN;
    const char *why = NULL;
    if (parse_number(record_field(&rec, 0), &clb_columns[0], &schema, &why) != 0 ||
        schema != CLB_SCHEMA_VERSION) {
      rc = clb_failf(err, CLB_E_SCHEMA, "%s:%zu: schema version %s, this clbatch reads %d", path,
                     rec.line, record_field(&rec, 0), CLB_SCHEMA_VERSION);
      goto cleanup;
    }
    if (rec.count != clb_column_count) {
      size_t at = rec.count < clb_column_count ? rec.count : clb_column_count;
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: column %s: row has %zu fields, the header %zu",
                     path, rec.line,
                     clb_columns[at < clb_column_count ? at : clb_column_count - 1].name,
                     rec.count, clb_column_count);
      goto cleanup;
    }
    if (n_local == cap_local) {
      size_t cap = cap_local ? cap_local * 2 : 64;
      struct clb_row *grown = realloc(local, cap * sizeof *grown);
      if (!grown) {
        rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
        goto cleanup;
      }
      local = grown;
      cap_local = cap;
    }
    CLB_TRY(fill_row(path, &rec, &local[n_local], err));
    n_local++;
  }

  /* Append only on success, so a failed read leaves the caller's rows alone. */
  if (n_local > 0) {
    struct clb_row *grown = realloc(*rows, (*count + n_local) * sizeof *grown);
    if (!grown) {
      rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
      goto cleanup;
    }
    memcpy(grown + *count, local, n_local * sizeof *local);
    *rows = grown;
    *count += n_local;
  }

cleanup:
  c_numeric_leave(&numeric);
  free(local);
  record_free(&rec);
  free(text);
  return rc;
}
