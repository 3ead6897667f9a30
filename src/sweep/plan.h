/* What `clbatch run` will measure: every option of the run in one struct, set
 * by name from the command line or a `key = value` config file, validated,
 * and written back out as the effective configuration beside the results. */
#ifndef CLB_SWEEP_PLAN_H
#define CLB_SWEEP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "measure/measure.h"
#include "model/shape.h"
#include "results/passes.h"
#include "util/errors.h"
#include "util/options.h"
#include "util/precision.h"

#define CLB_MAX_BATCHES 256

enum clb_format { CLB_FORMAT_CSV = 0, CLB_FORMAT_JSON = 1, CLB_FORMAT_MD = 2 };

struct clb_plan {
  char device_spec[256];
  enum clb_model_kind models[CLB_MODEL_COUNT];
  size_t model_count;
  enum clb_precision precisions[CLB_PRECISION_COUNT];
  size_t precision_count;
  char batch_spec[512];            /* as given; resolved once N is known */
  size_t batches[CLB_MAX_BATCHES]; /* resolved, ascending, N substituted */
  size_t batch_count;
  size_t samples, features, hidden, classes, outputs;
  double noise_std; /* synthetic regression: y = X W* + b* + noise_std N(0,1) */
  int data_on_host;
  int shuffle;
  uint64_t seed;
  double lr;
  struct clb_measure_config measure;
  int interleave;          /* time a device's configurations in turns */
  int tune_first;          /* --tune: `clbatch tune` untuned devices before the run */
  double tune_budget_s;    /* its --budget */
  size_t passes;           /* worker processes per configuration, combined into one row */
  struct clb_passes_rule passes_rule; /* how the passes become rows */
  size_t repeat;           /* the whole plan, this many times */
  char speed_history[1024]; /* --speed-history: "" = the default place, "none" = off */
  char host_warnings[320]; /* found before the run; recorded in every row */
  double timeout_s;        /* per device; 0 = none */
  char out_path[1024];
  enum clb_format format;
  int quiet, resume, max_batch_probe;
  size_t noise_batches; /* K; 0 turns the noise measurement off */
  size_t noise_at;      /* SGD steps before the noise is measured */
  char init_params[1024];
  char data_path[1024];
  char config_path[1024]; /* the last --config read (not an input of its own) */
  int config_depth;       /* nesting of --config files being read */
};

/* Every option of `clbatch run`, once: getopt, help, defaults, the setter
 * and the config file writer all come from this table (src/sweep/plan.c). */
extern const struct clb_option clb_run_options[];
extern const size_t clb_run_option_count;

void clb_plan_defaults(struct clb_plan *plan);

/* Sets one option by its long name without dashes ("batch", "min-time", ...).
 * Flags ("quiet", "resume", "no-shuffle", "max-batch-probe") take "1"/"yes"/
 * "true" or "0"/"no"/"false". "config" reads a file of such pairs. */
int clb_plan_set(struct clb_plan *plan, const char *key, const char *value, struct clb_error *err);

/* Checks the combination and resolves the batch list against N (which the
 * data file fixes when --data is given). */
int clb_plan_finish(struct clb_plan *plan, size_t n_samples, struct clb_error *err);

/* Writes every saved option as `key = value` (all but out, resume, quiet and
 * config), so `clbatch run --config FILE` repeats the run exactly: the worker
 * process reads its plan only from this file. Written to PATH.tmp and renamed. */
int clb_plan_write_config(const struct clb_plan *plan, const char *path, struct clb_error *err);

const char *clb_format_name(enum clb_format format);

#endif
