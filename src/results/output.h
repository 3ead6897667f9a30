/* Other views of result rows: the readable summary table `clbatch run` prints,
 * JSON (every column plus the host and device description) and Markdown. */
#ifndef CLB_RESULTS_OUTPUT_H
#define CLB_RESULTS_OUTPUT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "results/results.h"

/* A fixed-width table of the main columns, one line per row, about 100
 * characters wide (var ratio only when some row has one). The median step
 * time is followed by its 95 % interval as +-X%, marked with
 * CLB_OUTPUT_UNSTABLE_MARK on an unstable row, which a footnote below the
 * table explains. */
void clb_output_summary(FILE *out, const struct clb_row *rows, size_t count);

/* After the table: for each device with unstable rows that the host
 * accounts for, a note (wrapped to 79 columns) saying so: how far a re-run
 * may land (the median
 * host_spread of its rows with passes, when 1.96 times it exceeds
 * `passes_ci`) and how much slower than usual it was measured (the largest
 * host_slowdown, when beyond 1 + `drift_limit`). Nothing otherwise. */
void clb_output_host_causes(FILE *out, const struct clb_row *rows, size_t count, double passes_ci,
                            double drift_limit);

/* The half width of a row's 95 % interval of the median step time relative to
 * the median: max(high - median, median - low) / median. NaN without an
 * interval (schema 1 rows, or fewer than two rounds). */
double clb_output_step_half_width(const struct clb_row *row);

/* 1 for a row whose interval did not reach the --target-ci half width before
 * --max-time or --max-reps (stable == 0). A schema 1 row (stable unknown) is
 * not unstable. */
int clb_output_row_unstable(const struct clb_row *row);

/* "+-0.8%" from a half width of 0.008: PLUS_MINUS, the percentage (one
 * decimal below 10, none above) and PERCENT ("%" or " %"); "" for NaN. */
void clb_output_format_half_width(char *buf, size_t size, const char *plus_minus,
                                  double half_width, const char *percent);

/* What marks an unstable row, and the footnote that says what it means
 * (ASCII for the terminal, Unicode for documents). */
#define CLB_OUTPUT_UNSTABLE_MARK "!"
#define CLB_OUTPUT_UNSTABLE_NOTE_ASCII                                                            \
  "! unstable: the 95% interval is wider than its target: with --passes, the\n"                   \
  "  passes' mean, with the host's spread between runs (host_spread), beyond\n"                   \
  "  --passes-ci (default +-10%), a pass failed or a faster pass was left out;\n"                 \
  "  with --passes 1, the median beyond --target-ci (default +-1%) at --max-time;\n"              \
  "  or the host ran more than --drift-limit slower than usual (host_slowdown).\n"                \
  "  Treat this row as uncertain."
#define CLB_OUTPUT_UNSTABLE_NOTE                                                                  \
  "! unstable: the 95 % interval is wider than its target: with --passes, the passes' "           \
  "mean, with the host's spread between runs (host_spread), beyond --passes-ci (default "         \
  "\xC2\xB1" "10 %), a pass failed or a faster pass was left out; with --passes 1, the "          \
  "median beyond --target-ci (default \xC2\xB1" "1 %) at --max-time; or the host ran "            \
  "more than --drift-limit slower than usual (host_slowdown). Treat this row as uncertain."

/* {"schema": 1, "description": <description or null>, "rows": [{column: value}]}.
 * NaN is null. Written to PATH.tmp and renamed. `description` is borrowed. */
int clb_output_json(const char *path, const struct clb_row *rows, size_t count,
                    const cJSON *description, struct clb_error *err);

/* A Markdown table of the main columns (the summary's, var ratio always), the
 * footnote on unstable rows below it. Written to PATH.tmp and renamed. */
int clb_output_markdown(const char *path, const struct clb_row *rows, size_t count,
                        struct clb_error *err);

#endif
