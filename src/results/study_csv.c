/* The study CSV table: the column list of study_csv.h made into a
 * util/csv_table description, and typed wrappers around its writer and reader. */
#include "results/study_csv.h"

#include <stddef.h>

static const struct clb_csv_column study_columns[] = {
#define CLB_STUDY_CSV_ENTRY(name, kind, format, need)                                      \
  CLB_CSV_COLUMN(struct clb_study_csv_row, name, kind, format, 0, need),
    CLB_STUDY_CSV_COLUMNS(CLB_STUDY_CSV_ENTRY)
#undef CLB_STUDY_CSV_ENTRY
};

const struct clb_csv_table clb_study_csv_table = {
    "`clbatch study` CSV", study_columns, sizeof study_columns / sizeof study_columns[0],
    sizeof(struct clb_study_csv_row), offsetof(struct clb_study_csv_row, line)};

void clb_study_csv_row_init(struct clb_study_csv_row *row) {
  clb_csv_table_row_init(&clb_study_csv_table, row);
}

int clb_study_csv_write_header(FILE *out, struct clb_error *err) {
  return clb_csv_table_write_header(out, &clb_study_csv_table, 0, err);
}

int clb_study_csv_write_row(FILE *out, const struct clb_study_csv_row *row,
                            struct clb_error *err) {
  return clb_csv_table_write_row(out, &clb_study_csv_table, 0, row, err);
}

int clb_study_csv_read(const char *path, struct clb_study_csv_row **rows, size_t *count,
                       struct clb_csv_table_info *info, struct clb_error *err) {
  void *block = *rows;
  int rc = clb_csv_table_read(&clb_study_csv_table, path, &block, count, info, err);
  *rows = block;
  return rc;
}
