/* The two CSV files of `clbatch train`, each declared once: the per-epoch
 * table (--out) and the one-row-per-batch-size summary (--summary-out). The
 * writer produces exactly the files clbatch has written since these options
 * exist, and the reader accepts them (and the older per-epoch files without
 * the validation columns); `clbatch report --train` reads with it.
 *
 * Each list is X(name, kind, format, [when,] need): kind STR (text) or NUM
 * (a double, printed with `format` under the C locale; NaN is "nan"); `when`
 * says under which flags the column is written; `need` whether a reader
 * refuses a file without it. See util/csv_table.h for the rules they follow.
 *
 * Writing the per-epoch file (what `clbatch train --out` does):
 *
 *   unsigned flags = (classifier ? CLB_TRAIN_CSV_CLASSIFIER : 0) |
 *                    (validation ? CLB_TRAIN_CSV_VALIDATION : 0);
 *   clb_train_csv_write_header(out, flags, err);
 *   struct clb_train_csv_row row;
 *   clb_train_csv_row_init(&row);            // every number NaN, strings ""
 *   snprintf(row.device, sizeof row.device, "%s", device_name);
 *   ... model, precision, batch, then per epoch:
 *   row.epoch = r->epochs_done; row.updates = (double)r->updates;
 *   row.train_loss = r->train_loss; row.wall_s = r->wall_s;
 *   row.accuracy = r->accuracy;              // written only under CLASSIFIER
 *   row.val_loss = r->val_loss; row.gap = r->val_loss - r->train_loss;
 *   row.val_accuracy = r->val_accuracy;      // VALIDATION, and CLASSIFIER too
 *   if (clb_train_csv_write_row(out, flags, &row, err) != 0) ... CLB_E_IO
 *
 * Each write ends with a flush, so a killed run keeps every finished row. */
#ifndef CLB_RESULTS_TRAIN_CSV_H
#define CLB_RESULTS_TRAIN_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "util/csv_table.h"
#include "util/errors.h"

/* Flags of the per-epoch table: which optional columns a file has. */
enum {
  CLB_TRAIN_CSV_ALWAYS = 0,
  CLB_TRAIN_CSV_CLASSIFIER = 1, /* softmax, mlp: accuracy */
  CLB_TRAIN_CSV_VALIDATION = 2, /* --val-fraction: val_loss, gap */
  CLB_TRAIN_CSV_VALIDATION_CLASSIFIER = CLB_TRAIN_CSV_CLASSIFIER | CLB_TRAIN_CSV_VALIDATION
};

/* The per-epoch CSV (--out): one row per evaluation, epoch 0 the initial
 * loss; updates and wall_s (training only) are cumulative. */
#define CLB_TRAIN_CSV_COLUMNS(X)                                                            \
  X(device, STR, NULL, ALWAYS, REQUIRED)                                                    \
  X(model, STR, NULL, ALWAYS, REQUIRED)                                                     \
  X(precision, STR, NULL, ALWAYS, REQUIRED)                                                 \
  X(batch, NUM, "%.0f", ALWAYS, REQUIRED)                                                   \
  X(epoch, NUM, "%.6g", ALWAYS, REQUIRED) /* fractional with --eval-every */                \
  X(updates, NUM, "%.0f", ALWAYS, OPTIONAL)                                                 \
  X(train_loss, NUM, "%.10g", ALWAYS, REQUIRED)                                             \
  X(wall_s, NUM, "%.6f", ALWAYS, REQUIRED)                                                  \
  X(accuracy, NUM, "%.6f", CLASSIFIER, OPTIONAL)                                            \
  X(val_loss, NUM, "%.10g", VALIDATION, OPTIONAL)                                           \
  X(gap, NUM, "%.10g", VALIDATION, OPTIONAL) /* val_loss - train_loss */                    \
  X(val_accuracy, NUM, "%.6f", VALIDATION_CLASSIFIER, OPTIONAL)

struct clb_train_csv_row {
#define CLB_TRAIN_CSV_FIELD(name, kind, format, when, need) CLB_CSV_FIELD_##kind(name)
  CLB_TRAIN_CSV_COLUMNS(CLB_TRAIN_CSV_FIELD)
#undef CLB_TRAIN_CSV_FIELD
  size_t line; /* reading: the file line of this row; ignored by the writer */
};

/* Column k of this table is bit k of clb_csv_table_info.found. */
enum clb_train_csv_column {
#define CLB_TRAIN_CSV_INDEX(name, kind, format, when, need) CLB_TRAIN_CSV_COL_##name,
  CLB_TRAIN_CSV_COLUMNS(CLB_TRAIN_CSV_INDEX)
#undef CLB_TRAIN_CSV_INDEX
  CLB_TRAIN_CSV_COLUMN_COUNT
};

/* The --summary-out CSV: one row per batch size, every column always
 * written ("nan" where a value does not apply, e.g. accuracy of linreg). */
#define CLB_TRAIN_SUMMARY_CSV_COLUMNS(X)                                                    \
  X(device, STR, NULL, REQUIRED)                                                            \
  X(model, STR, NULL, REQUIRED)                                                             \
  X(precision, STR, NULL, REQUIRED)                                                         \
  X(batch, NUM, "%.0f", REQUIRED)                                                           \
  X(accumulate, NUM, "%.0f", REQUIRED)                                                      \
  X(effective_batch, NUM, "%.0f", REQUIRED) /* batch * accumulate */                        \
  X(lr, NUM, "%.10g", REQUIRED)                                                             \
  X(epochs, NUM, "%.6g", REQUIRED) /* updates / updates per epoch */                        \
  X(updates, NUM, "%.0f", REQUIRED)                                                         \
  X(wall_s, NUM, "%.6f", REQUIRED)                                                          \
  X(update_s, NUM, "%.6g", REQUIRED)                                                        \
  X(micro_s, NUM, "%.6g", REQUIRED)                                                         \
  X(train_loss, NUM, "%.10g", REQUIRED)                                                     \
  X(accuracy, NUM, "%.6f", REQUIRED)                                                        \
  X(val_loss, NUM, "%.10g", REQUIRED)                                                       \
  X(val_accuracy, NUM, "%.6f", REQUIRED)                                                    \
  X(gap, NUM, "%.10g", REQUIRED)                                                            \
  X(target_loss, NUM, "%.10g", REQUIRED)                                                    \
  X(reached, NUM, "%.0f", REQUIRED) /* 1 or 0 */                                            \
  X(target_epochs, NUM, "%.6g", REQUIRED)                                                   \
  X(target_updates, NUM, "%.0f", REQUIRED)                                                  \
  X(target_wall_s, NUM, "%.6f", REQUIRED)                                                   \
  X(sharpness_eps, NUM, "%.6g", REQUIRED)                                                   \
  X(sharpness_samples, NUM, "%.0f", REQUIRED)                                               \
  X(sharpness_mean, NUM, "%.10g", REQUIRED)                                                 \
  X(sharpness_max, NUM, "%.10g", REQUIRED)                                                  \
  X(device_bytes, NUM, "%.0f", REQUIRED)                                                    \
  X(step_bytes_micro, NUM, "%.0f", REQUIRED) /* with --accumulate > 1, else nan */          \
  X(step_bytes_effective, NUM, "%.0f", REQUIRED)

struct clb_train_summary_csv_row {
#define CLB_TRAIN_SUMMARY_CSV_FIELD(name, kind, format, need) CLB_CSV_FIELD_##kind(name)
  CLB_TRAIN_SUMMARY_CSV_COLUMNS(CLB_TRAIN_SUMMARY_CSV_FIELD)
#undef CLB_TRAIN_SUMMARY_CSV_FIELD
  size_t line; /* reading: the file line of this row; ignored by the writer */
};

/* The tables themselves, for code that walks the columns (tests, tools). */
extern const struct clb_csv_table clb_train_csv_table;
extern const struct clb_csv_table clb_train_summary_csv_table;

/* Every number NaN, every string empty. */
void clb_train_csv_row_init(struct clb_train_csv_row *row);
void clb_train_summary_csv_row_init(struct clb_train_summary_csv_row *row);

/* The per-epoch header / one row with the columns `flags` (CLB_TRAIN_CSV_*)
 * select, each followed by a flush: 0 or CLB_E_IO. */
int clb_train_csv_write_header(FILE *out, unsigned flags, struct clb_error *err);
int clb_train_csv_write_row(FILE *out, unsigned flags, const struct clb_train_csv_row *row,
                            struct clb_error *err);

/* The summary header / one row (every column), each followed by a flush. */
int clb_train_summary_csv_write_header(FILE *out, struct clb_error *err);
int clb_train_summary_csv_write_row(FILE *out, const struct clb_train_summary_csv_row *row,
                                    struct clb_error *err);

/* Appends the rows of a per-epoch / summary file to *rows (realloc'd; the
 * caller frees); `info` (may be NULL) says which columns were present
 * (bit CLB_TRAIN_CSV_COL_name) and which truncated last line was dropped.
 * The rules and errors are those of clb_csv_table_read. */
int clb_train_csv_read(const char *path, struct clb_train_csv_row **rows, size_t *count,
                       struct clb_csv_table_info *info, struct clb_error *err);
int clb_train_summary_csv_read(const char *path, struct clb_train_summary_csv_row **rows,
                               size_t *count, struct clb_csv_table_info *info,
                               struct clb_error *err);

#endif
