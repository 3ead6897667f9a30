/* The report's data: results CSVs read and merged (of the rows of one
 * configuration the tables show the highest repeat, then the newest
 * timestamp; the agreement section uses them all), cut into series (one per host, platform, device,
 * model, precision and data placement; rows ordered by batch), and what each
 * series knows about itself: its recommendation, noise scale, legend label
 * and colour slot. Also merged.csv, the merged rows written back. */
#ifndef CLB_REPORT_MERGE_H
#define CLB_REPORT_MERGE_H

#include <stddef.h>

#include "measure/recommend.h"
#include "report/note.h"
#include "report/report.h"
#include "results/results.h"
#include "util/errors.h"

struct clb_report_merged {
  struct clb_row *all; /* every row read: repeats and duplicates too */
  size_t n_all;
  struct clb_row *rows; /* kept rows in key order */
  size_t count;
  /* Where the rows came from, for the report's sources table. inputs is
   * borrowed from the caller of clb_report_merge. */
  const char *const *inputs;
  size_t n_inputs;
  size_t *file_start; /* all[file_start[f], file_start[f + 1]) came from inputs[f] */
  size_t *row_file;   /* rows[i] came from inputs[row_file[i]] */
  unsigned char *file_skipped; /* inputs[f] is a recommendation or passes file, not results */
  size_t n_skipped;
};

/* Reads every input (clb_results_read) and keeps one row per configuration
 * (clb_report_cmp_config): the highest repeat, then the newest. Rows of the
 * same configuration and repeat are duplicates, each one a note naming the
 * kept and the dropped row; the earlier repeats of a `clbatch run --repeat R`
 * get one note per input instead ("FILE: R repeats of N configurations;
 * ..."). Fills summary->rows_read, rows_merged, duplicates, repeats, and
 * bad_input when an input cannot be read.
 * *merged starts as {0}; release it with clb_report_merged_destroy, also after
 * a failure. */
int clb_report_merge(const char *const *inputs, size_t n_inputs,
                     const struct clb_report_notes *notes, struct clb_report_merged *merged,
                     struct clb_report_summary *summary, struct clb_error *err);

void clb_report_merged_destroy(struct clb_report_merged *merged);

/* Writes the merged rows as a results CSV, atomically. */
int clb_report_merged_write_csv(const struct clb_report_merged *merged, const char *path,
                                struct clb_error *err);

struct clb_report_series {
  size_t first, count; /* rows [first, first + count) of merged.rows, by batch */
  size_t device_id;    /* index of host+platform+device, for one colour per device */
  struct clb_recommendation rec;
  double noise_scale;                      /* median over ok rows; NaN when not measured */
  char label[3 * CLB_STR_FIELD_SIZE + 32]; /* "DEVICE (PLATFORM, HOST)" [+ ", data on host"] */
};

/* The series of the merged rows, in key order (*list malloc'd; caller frees). */
int clb_report_series_build(const struct clb_report_merged *merged, struct clb_report_series **list,
                            size_t *n_list, struct clb_error *err);

int clb_report_row_ok(const struct clb_row *row);

/* The ok row of a series at `batch`, or NULL. */
const struct clb_row *clb_report_row_at_batch(const struct clb_report_merged *merged,
                                              const struct clb_report_series *s, size_t batch);

/* Why a series has no recommendation when none of its rows is ok: the shared
 * status and the first row's message ("skipped: DEVICE lacks cl_khr_fp16"),
 * so an unsupported precision reads as such rather than as a row of dashes.
 * Returns 0 (buf untouched) when some row is ok. */
int clb_report_explain_no_ok_rows(const struct clb_report_merged *merged,
                                  const struct clb_report_series *s, char *buf, size_t size);

/* Configuration order: host, platform, device, model, precision, data
 * placement, batch. Rows that compare equal measured the same configuration
 * (in different repeats or runs). */
int clb_report_cmp_config(const struct clb_row *a, const struct clb_row *b);

/* A row's repeat; 1 when it has none (a row older than repeats). */
double clb_report_repeat_of(const struct clb_row *row);

/* Total order on doubles with NaN last. */
int clb_report_cmp_double(double a, double b);

/* Same host, platform and device: one physical device as one vendor's
 * driver sees it. */
int clb_report_cmp_device(const struct clb_row *a, const struct clb_row *b);

/* A table's device cell: "DEVICE (PLATFORM)", the platform shortened ("PoCL",
 * trademark signs dropped); the host has its own column. */
void clb_report_device_cell(char *dst, size_t size, const struct clb_row *row);

#endif
