/* The parent side of `clbatch run`: one worker process per device, rows
 * appended and flushed to the CSV as they arrive, a crash or a hang turned
 * into an `error` or `timeout` row, and the next device still measured. */
#ifndef CLB_SWEEP_SWEEP_H
#define CLB_SWEEP_SWEEP_H

#include <stdio.h>

#include "cl/platform.h"
#include "results/results.h"
#include "sweep/plan.h"
#include "util/errors.h"

struct clb_sweep_stats {
  size_t rows_written;
  size_t rows_failed; /* error, timeout or oom rows */
  size_t devices_timed_out;
  size_t devices_failed; /* workers that ended without finishing their plan */
};

/* What the caller hears while the sweep runs (each may be NULL): a
 * configuration being set up (`done` of `total` rows are written), the
 * configuration whose round is on the device while `running` of them are
 * timed in turns, and a note from a worker or about one (a hung or failed
 * device). The sweep itself never prints. */
struct clb_sweep_listener {
  void (*configuration)(void *context, const struct clb_row *row, size_t done, size_t total);
  void (*timing)(void *context, const struct clb_row *row, size_t running, size_t done,
                 size_t total);
  void (*note)(void *context, const char *text);
  void *context;
};

/* Runs the plan on every device of `devices`, plan->repeat times over (repeat
 * 1 on every device, then repeat 2, ...). `csv` is open for appending and
 * already has its header; `config_path` is the effective configuration the
 * workers read. With plan->passes > 1 each repeat is measured in that many
 * passes whose rows go to `passes_csv` (results/passes.h's file, open like
 * `csv`), and `csv` gets each configuration's combined row. */
int clb_sweep_run(const struct clb_plan *plan, const char *config_path,
                  const struct clb_device_list *devices, FILE *csv, FILE *passes_csv,
                  const struct clb_sweep_listener *listener, struct clb_sweep_stats *stats,
                  struct clb_error *err);

#endif
