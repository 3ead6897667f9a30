/* The CSV of `clbatch study` and `clbatch train --validate-noise`, declared
 * once: one row per batch size, trained to a target loss, with the noise
 * scale measured at the initial parameters and the fits of
 * S(B) = S_min (1 + B_noise/B) repeated on every row. The writer produces
 * exactly the files clbatch has written since the study exists; the reader
 * accepts them and `clbatch report --study` reads with it.
 *
 * X(name, kind, format, need): kind STR (text) or NUM (a double, printed
 * with `format` under the C locale; NaN is "nan"); every column is always
 * written; `need` REQUIRED marks what a reader refuses a file without (the
 * columns the report draws), the rest read as NaN when absent. Rules:
 * util/csv_table.h.
 *
 * Writing (what the study command does once every batch size ran):
 *
 *   clb_study_csv_write_header(out);
 *   for each batch size:
 *     struct clb_study_csv_row row;
 *     clb_study_csv_row_init(&row);          // every number NaN, strings ""
 *     snprintf(row.device, sizeof row.device, "%s", device_name);
 *     row.batch = (double)r->batch; row.effective_batch = (double)r->effective;
 *     row.sharpness_eps = sharpness_samples ? eps : NAN; ...
 *     if (clb_study_csv_write_row(out, &row) != 0) ... CLB_E_IO */
#ifndef CLB_RESULTS_STUDY_CSV_H
#define CLB_RESULTS_STUDY_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "util/csv_table.h"
#include "util/errors.h"

#define CLB_STUDY_CSV_COLUMNS(X)                                                            \
  X(device, STR, NULL, REQUIRED)                                                            \
  X(model, STR, NULL, REQUIRED)                                                             \
  X(precision, STR, NULL, REQUIRED)                                                         \
  X(batch, NUM, "%.0f", OPTIONAL)                                                           \
  X(effective_batch, NUM, "%.0f", REQUIRED) /* batch * --accumulate */                      \
  X(lr, NUM, "%.10g", OPTIONAL) /* the best of --lr-grid */                                 \
  X(target_loss, NUM, "%.10g", OPTIONAL)                                                    \
  X(reached, NUM, "%.0f", OPTIONAL) /* 1 or 0 */                                            \
  X(steps, NUM, "%.0f", REQUIRED) /* updates to the target */                               \
  X(predicted_steps, NUM, "%.6g", REQUIRED) /* S_min (1 + B_noise/B) */                     \
  X(ratio, NUM, "%.6g", OPTIONAL) /* steps / predicted_steps */                             \
  X(examples, NUM, "%.0f", OPTIONAL)                                                        \
  X(epochs, NUM, "%.6g", OPTIONAL)                                                          \
  X(wall_s, NUM, "%.6f", REQUIRED)                                                          \
  X(update_s, NUM, "%.6g", OPTIONAL)                                                        \
  X(train_loss, NUM, "%.10g", OPTIONAL)                                                     \
  X(val_loss, NUM, "%.10g", REQUIRED)                                                       \
  X(gap, NUM, "%.10g", OPTIONAL)                                                            \
  X(accuracy, NUM, "%.6f", OPTIONAL)                                                        \
  X(val_accuracy, NUM, "%.6f", OPTIONAL)                                                    \
  X(sharpness_eps, NUM, "%.6g", OPTIONAL) /* nan when sharpness was off */                  \
  X(sharpness_mean, NUM, "%.10g", REQUIRED)                                                 \
  X(sharpness_max, NUM, "%.10g", REQUIRED)                                                  \
  X(device_bytes, NUM, "%.0f", OPTIONAL)                                                    \
  X(sigma2, NUM, "%.10g", OPTIONAL) /* tr Sigma at the initial parameters */                \
  X(grad_norm2, NUM, "%.10g", OPTIONAL)                                                     \
  X(b_noise, NUM, "%.10g", OPTIONAL)                                                        \
  X(s_min, NUM, "%.10g", OPTIONAL)                                                          \
  X(e_min, NUM, "%.10g", OPTIONAL)                                                          \
  X(free_s_min, NUM, "%.10g", OPTIONAL) /* the fit with B_noise free */                     \
  X(free_b_noise, NUM, "%.10g", OPTIONAL)                                                   \
  X(free_e_min, NUM, "%.10g", OPTIONAL)

struct clb_study_csv_row {
#define CLB_STUDY_CSV_FIELD(name, kind, format, need) CLB_CSV_FIELD_##kind(name)
  CLB_STUDY_CSV_COLUMNS(CLB_STUDY_CSV_FIELD)
#undef CLB_STUDY_CSV_FIELD
  size_t line; /* reading: the file line of this row; ignored by the writer */
};

/* Column k of this table is bit k of clb_csv_table_info.found. */
enum clb_study_csv_column {
#define CLB_STUDY_CSV_INDEX(name, kind, format, need) CLB_STUDY_CSV_COL_##name,
  CLB_STUDY_CSV_COLUMNS(CLB_STUDY_CSV_INDEX)
#undef CLB_STUDY_CSV_INDEX
  CLB_STUDY_CSV_COLUMN_COUNT
};

/* The table itself, for code that walks the columns (tests, tools). */
extern const struct clb_csv_table clb_study_csv_table;

/* Every number NaN, every string empty. */
void clb_study_csv_row_init(struct clb_study_csv_row *row);

/* The header / one row, each followed by a flush: 0 or CLB_E_IO. */
int clb_study_csv_write_header(FILE *out, struct clb_error *err);
int clb_study_csv_write_row(FILE *out, const struct clb_study_csv_row *row,
                            struct clb_error *err);

/* Appends the rows of a study file to *rows (realloc'd; the caller frees);
 * `info` (may be NULL) says which columns were present and which truncated
 * last line was dropped. Rules and errors: clb_csv_table_read. */
int clb_study_csv_read(const char *path, struct clb_study_csv_row **rows, size_t *count,
                       struct clb_csv_table_info *info, struct clb_error *err);

#endif
