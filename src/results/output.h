/* Other views of result rows: the readable summary table `clbatch run` prints,
 * JSON (every column plus the host and device description) and Markdown. */
#ifndef CLB_RESULTS_OUTPUT_H
#define CLB_RESULTS_OUTPUT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "results/results.h"

/* A fixed-width table of the main columns, one line per row. */
void clb_output_summary(FILE *out, const struct clb_row *rows, size_t count);

/* {"schema": 1, "description": <description or null>, "rows": [{column: value}]}.
 * NaN is null. Written to PATH.tmp and renamed. `description` is borrowed. */
int clb_output_json(const char *path, const struct clb_row *rows, size_t count,
                    const cJSON *description, struct clb_error *err);

/* A Markdown table of the main columns. Written to PATH.tmp and renamed. */
int clb_output_markdown(const char *path, const struct clb_row *rows, size_t count,
                        struct clb_error *err);

#endif
