/* From result rows to advice: for each host, device, model, precision and
 * data placement, the throughput knee, the largest batch that fits and the
 * batch size B* that reaches a target loss fastest (recommend.h). */
#ifndef CLB_RESULTS_ADVISE_H
#define CLB_RESULTS_ADVISE_H

#include <stdio.h>

#include "measure/recommend.h"
#include "results/results.h"

struct clb_advice {
  char host[128], device[192], device_index[16], model[16], precision[8], data_on[8];
  struct clb_recommendation rec;
  double noise_scale; /* NaN when the noise was not measured */
  int largest_probed; /* 1 when largest_fit comes from --max-batch-probe */
};

/* Groups the rows and computes one piece of advice per group (caller frees *out). */
int clb_advise(const struct clb_row *rows, size_t count, struct clb_advice **out,
               size_t *advice_count, struct clb_error *err);

void clb_advise_print(FILE *out, const struct clb_advice *advice, size_t count);

/* The header line of FILE.recommend.csv (without its newline). */
#define CLB_ADVISE_CSV_HEADER                                                                      \
  "host,device_index,device,model,precision,data_on,knee_batch,best_batch,"                        \
  "best_samples_per_s,largest_fit,noise_scale,optimal_batch,speedup_vs_32"

/* Writes the advice as CSV under CLB_ADVISE_CSV_HEADER. */
int clb_advise_write_csv(const char *path, const struct clb_advice *advice, size_t count,
                         struct clb_error *err);

/* 1 when the file at `path` starts with CLB_ADVISE_CSV_HEADER: the advice
 * `clbatch run` writes beside its results, which a glob like *.csv picks up. */
int clb_advise_is_csv(const char *path);

#endif
