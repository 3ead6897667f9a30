/* The `clbatch train` CSV tables: the column lists of train_csv.h made into
 * util/csv_table descriptions, and typed wrappers around its writer and reader. */
#include "results/train_csv.h"

#include <stddef.h>

static const struct clb_csv_column train_columns[] = {
#define CLB_TRAIN_CSV_ENTRY(name, kind, format, when, need)                                \
  CLB_CSV_COLUMN(struct clb_train_csv_row, name, kind, format, CLB_TRAIN_CSV_##when, need),
    CLB_TRAIN_CSV_COLUMNS(CLB_TRAIN_CSV_ENTRY)
#undef CLB_TRAIN_CSV_ENTRY
};

const struct clb_csv_table clb_train_csv_table = {
    "`clbatch train` CSV", train_columns, sizeof train_columns / sizeof train_columns[0],
    sizeof(struct clb_train_csv_row), offsetof(struct clb_train_csv_row, line)};

static const struct clb_csv_column summary_columns[] = {
#define CLB_TRAIN_SUMMARY_CSV_ENTRY(name, kind, format, need)                              \
  CLB_CSV_COLUMN(struct clb_train_summary_csv_row, name, kind, format, 0, need),
    CLB_TRAIN_SUMMARY_CSV_COLUMNS(CLB_TRAIN_SUMMARY_CSV_ENTRY)
#undef CLB_TRAIN_SUMMARY_CSV_ENTRY
};

const struct clb_csv_table clb_train_summary_csv_table = {
    "`clbatch train --summary-out` CSV", summary_columns,
    sizeof summary_columns / sizeof summary_columns[0], sizeof(struct clb_train_summary_csv_row),
    offsetof(struct clb_train_summary_csv_row, line)};

void clb_train_csv_row_init(struct clb_train_csv_row *row) {
  clb_csv_table_row_init(&clb_train_csv_table, row);
}

void clb_train_summary_csv_row_init(struct clb_train_summary_csv_row *row) {
  clb_csv_table_row_init(&clb_train_summary_csv_table, row);
}

int clb_train_csv_write_header(FILE *out, unsigned flags, struct clb_error *err) {
  return clb_csv_table_write_header(out, &clb_train_csv_table, flags, err);
}

int clb_train_csv_write_row(FILE *out, unsigned flags, const struct clb_train_csv_row *row,
                            struct clb_error *err) {
  return clb_csv_table_write_row(out, &clb_train_csv_table, flags, row, err);
}

int clb_train_summary_csv_write_header(FILE *out, struct clb_error *err) {
  return clb_csv_table_write_header(out, &clb_train_summary_csv_table, 0, err);
}

int clb_train_summary_csv_write_row(FILE *out, const struct clb_train_summary_csv_row *row,
                                    struct clb_error *err) {
  return clb_csv_table_write_row(out, &clb_train_summary_csv_table, 0, row, err);
}

int clb_train_csv_read(const char *path, struct clb_train_csv_row **rows, size_t *count,
                       struct clb_csv_table_info *info, struct clb_error *err) {
  void *block = *rows;
  int rc = clb_csv_table_read(&clb_train_csv_table, path, &block, count, info, err);
  *rows = block;
  return rc;
}

int clb_train_summary_csv_read(const char *path, struct clb_train_summary_csv_row **rows,
                               size_t *count, struct clb_csv_table_info *info,
                               struct clb_error *err) {
  void *block = *rows;
  int rc = clb_csv_table_read(&clb_train_summary_csv_table, path, &block, count, info, err);
  *rows = block;
  return rc;
}
