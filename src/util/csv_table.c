/* The writer and reader of a CSV format described by a column table.
 *
 * The reader looks columns up by name rather than by position, so a file
 * written before a column was added (or under other flags) still reads, and
 * it is strict about what it does read: a field that is not a number is an
 * error naming the line and the column, never a silent NaN. */
#include "util/csv_table.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"
#include "util/grow.h"
#include "util/text.h"

static int selected(const struct clb_csv_column *col, unsigned flags) {
  return (flags & col->when) == col->when;
}

static double *number_at(void *row, const struct clb_csv_column *col) {
  return (double *)(void *)((char *)row + col->offset);
}

static double number_of(const void *row, const struct clb_csv_column *col) {
  return *(const double *)(const void *)((const char *)row + col->offset);
}

static char *text_at(void *row, const struct clb_csv_column *col) {
  return (char *)row + col->offset;
}

static const char *text_of(const void *row, const struct clb_csv_column *col) {
  return (const char *)row + col->offset;
}

static int flushed(FILE *out, const struct clb_csv_table *table, const char *what,
                   struct clb_error *err) {
  if (fflush(out) == 0 && !ferror(out))
    return CLB_OK;
  return clb_failf(err, CLB_E_IO, "cannot write the %s of a %s: %s", what, table->what,
                   strerror(errno));
}

void clb_csv_table_row_init(const struct clb_csv_table *table, void *row) {
  memset(row, 0, table->row_size);
  for (size_t i = 0; i < table->count; i++)
    if (table->columns[i].kind == CLB_CSV_NUM)
      *number_at(row, &table->columns[i]) = NAN;
}

int clb_csv_table_write_header(FILE *out, const struct clb_csv_table *table, unsigned flags,
                               struct clb_error *err) {
  int first = 1;
  for (size_t i = 0; i < table->count; i++) {
    if (!selected(&table->columns[i], flags))
      continue;
    if (!first)
      fputc(',', out);
    fputs(table->columns[i].name, out);
    first = 0;
  }
  fputc('\n', out);
  return flushed(out, table, "header", err);
}

int clb_csv_table_write_row(FILE *out, const struct clb_csv_table *table, unsigned flags,
                            const void *row, struct clb_error *err) {
  int first = 1;
  for (size_t i = 0; i < table->count; i++) {
    const struct clb_csv_column *col = &table->columns[i];
    if (!selected(col, flags))
      continue;
    if (!first)
      fputc(',', out);
    first = 0;
    if (col->kind == CLB_CSV_STR)
      clb_csv_write_field(out, text_of(row, col));
    else
      clb_csv_write_number(out, col->format, number_of(row, col), CLB_CSV_MISSING);
  }
  fputc('\n', out);
  return flushed(out, table, "row", err);
}

/* ---- reading ----------------------------------------------------------- */

/* Empty is NaN; anything else must be a number to its last byte. */
static int parse_number(const char *text, double *out) {
  if (text[0] == '\0') {
    *out = NAN;
    return 0;
  }
  char *end = NULL;
  double value = strtod(text, &end);
  if (end == text || *end != '\0')
    return -1;
  *out = value;
  return 0;
}

/* Fills one row from a record; on a bad number returns the column. */
static const struct clb_csv_column *fill_row(const struct clb_csv_table *table, const int *index,
                                             const struct clb_csv_record *rec, void *row) {
  clb_csv_table_row_init(table, row);
  *(size_t *)(void *)((char *)row + table->line_offset) = rec->line;
  for (size_t i = 0; i < table->count; i++) {
    const struct clb_csv_column *col = &table->columns[i];
    if (index[i] < 0)
      continue;
    const char *text = clb_csv_field(rec, (size_t)index[i]);
    if (col->kind == CLB_CSV_STR)
      clb_copy_cut(text_at(row, col), col->size, text);
    else if (parse_number(text, number_at(row, col)) != 0)
      return col;
  }
  return NULL;
}

/* The header: each column's field index (-1 when absent) and the found mask;
 * the first REQUIRED column missing is an error. */
static int find_columns(const struct clb_csv_table *table, const char *path,
                        const struct clb_csv_record *header, int *index, uint64_t *found,
                        struct clb_error *err) {
  const char *names[CLB_CSV_MAX_COLUMNS];
  for (size_t i = 0; i < table->count; i++)
    names[i] = table->columns[i].name;
  clb_csv_find_columns(header, names, table->count, index);
  *found = 0;
  for (size_t i = 0; i < table->count; i++) {
    if (index[i] >= 0)
      *found |= (uint64_t)1 << i;
    else if (table->columns[i].need == CLB_CSV_REQUIRED)
      return clb_failf(err, CLB_E_SCHEMA, "%s: not a %s: no column '%s'", path, table->what,
                       names[i]);
  }
  return CLB_OK;
}

/* Rows read so far, kept apart from the caller's until the whole file read. */
struct row_block {
  char *data;
  size_t count, cap, row_size;
};

static void *next_slot(struct row_block *block) {
  if (block->count == block->cap) {
    char *grown = clb_grow(block->data, &block->cap, block->count + 1, block->row_size, 64);
    if (!grown)
      return NULL;
    block->data = grown;
  }
  return block->data + block->count * block->row_size;
}

static int append_rows(const struct row_block *block, void **rows, size_t *count) {
  if (block->count == 0)
    return CLB_OK;
  char *grown = realloc(*rows, (*count + block->count) * block->row_size);
  if (!grown)
    return CLB_E_NOMEM;
  memcpy(grown + *count * block->row_size, block->data, block->count * block->row_size);
  *rows = grown;
  *count += block->count;
  return CLB_OK;
}

int clb_csv_table_read(const struct clb_csv_table *table, const char *path, void **rows,
                       size_t *count, struct clb_csv_table_info *info, struct clb_error *err) {
  struct clb_csv_reader reader = {0};
  struct clb_csv_record *rec = NULL;
  struct row_block block = {NULL, 0, 0, table->row_size};
  struct clb_csv_table_info local = {0};
  struct clb_c_numeric numeric;
  int index[CLB_CSV_MAX_COLUMNS];
  int rc = CLB_OK;
  if (!info)
    info = &local;
  *info = (struct clb_csv_table_info){0};
  if (table->count > CLB_CSV_MAX_COLUMNS)
    return clb_failf(err, CLB_E_INVAL, "%s: a table of %zu columns (at most %d)", table->what,
                     table->count, CLB_CSV_MAX_COLUMNS);
  clb_c_numeric_enter(&numeric);
  CLB_TRY(clb_csv_open(&reader, path, err));
  int status = clb_csv_next(&reader, &rec);
  if (status == CLB_E_NOMEM) {
    rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);
    goto cleanup;
  }
  if (status == 1 || clb_csv_is_blank(rec)) {
    rc = clb_failf(err, CLB_E_PARSE, "%s: empty file (no header line)", path);
    goto cleanup;
  }
  size_t n_header = rec->count;
  CLB_TRY(find_columns(table, path, rec, index, &info->found, err));

  while ((status = clb_csv_next(&reader, &rec)) == CLB_OK) {
    if (clb_csv_is_blank(rec))
      continue;
    /* A killed run can leave its last line cut anywhere: without a newline,
     * and short of fields, inside a quote or in the middle of a number. */
    int cut = reader.pos >= reader.size && (!rec->terminated || rec->open_quote);
    const struct clb_csv_column *bad = NULL;
    void *row = NULL;
    if (rec->count == n_header) {
      row = next_slot(&block);
      if (!row) {
        status = CLB_E_NOMEM;
        break;
      }
      bad = fill_row(table, index, rec, row);
    }
    if (cut && (rec->count != n_header || bad)) {
      info->dropped_line = rec->line;
      break;
    }
    if (rec->count != n_header) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: %zu fields, the header has %zu", path,
                     rec->line, rec->count, n_header);
      goto cleanup;
    }
    if (bad) {
      rc = clb_failf(err, CLB_E_PARSE, "%s:%zu: column %s: not a number: '%.64s'", path,
                     rec->line, bad->name, clb_csv_field(rec, (size_t)index[bad - table->columns]));
      goto cleanup;
    }
    block.count++;
  }
  if (status == CLB_E_NOMEM || append_rows(&block, rows, count) != CLB_OK)
    rc = clb_failf(err, CLB_E_NOMEM, "%s: out of memory", path);

cleanup:
  clb_c_numeric_leave(&numeric);
  free(block.data);
  clb_csv_destroy(&reader);
  return rc;
}
