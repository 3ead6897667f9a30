/* The result rows of `clbatch run`: one CSV column table (the contract documented
 * in results/SCHEMA.md), a writer and a reader.
 *
 * X(name, kind, unit, meaning): kind is STR (text), INT (integer, stored as a
 * double so 2^53 bytes stay exact) or REAL. A missing number is NaN in memory
 * and an empty field in the CSV. Numbers are always written with '.'. */
#ifndef CLB_RESULTS_RESULTS_H
#define CLB_RESULTS_RESULTS_H

#include <stdio.h>

#include "util/errors.h"

#define CLB_SCHEMA_VERSION 6
/* The oldest schema the reader still accepts: older versions lack the
 * columns results.c lists as added later (read back as empty / NaN). */
#define CLB_SCHEMA_OLDEST 1

#define CLB_COLUMNS(X)                                                                      \
  X(schema, INT, "", "schema version of this row (this document describes 5)")              \
  X(clbatch_version, STR, "", "clbatch version that wrote the row")                         \
  X(timestamp, STR, "ISO 8601 UTC", "when the row was measured")                            \
  X(host, STR, "", "host name")                                                             \
  X(cpu, STR, "", "host CPU model (hwloc)")                                                 \
  X(platform, STR, "", "OpenCL platform name (part of a row's identity in reports)")        \
  X(device, STR, "", "OpenCL device name")                                                  \
  X(device_index, STR, "P:D", "platform:device index as `clbatch devices` lists it")        \
  X(vendor, STR, "", "device vendor")                                                       \
  X(device_type, STR, "", "cpu, gpu, accelerator or other")                                 \
  X(driver, STR, "", "driver version")                                                      \
  X(clblast, STR, "", "CLBlast version")                                                    \
  X(compute_units, INT, "", "CL_DEVICE_MAX_COMPUTE_UNITS")                                  \
  X(clock_mhz, INT, "MHz", "CL_DEVICE_MAX_CLOCK_FREQUENCY; empty when reported as 0 (unknown)") \
  X(global_mem_bytes, INT, "B", "CL_DEVICE_GLOBAL_MEM_SIZE")                                \
  X(model, STR, "", "linreg, softmax or mlp")                                               \
  X(precision, STR, "", "fp32, fp64 or fp16")                                               \
  X(n_samples, INT, "", "N, samples in the data set")                                       \
  X(n_features, INT, "", "D, features per sample")                                          \
  X(n_hidden, INT, "", "H, hidden units (mlp; 0 otherwise)")                                \
  X(n_classes, INT, "", "C, classes (softmax, mlp) or outputs (linreg)")                    \
  X(batch, INT, "", "B, samples per step")                                                  \
  X(data_on, STR, "", "device (data resident) or host (each batch copied from pinned memory)") \
  X(repeat, INT, "", "which repeat of `clbatch run --repeat R` (1 .. R); part of a row's identity") \
  X(steps_per_epoch, INT, "", "ceil(N / B)")                                                \
  X(reps, INT, "", "timed steps behind the statistics")                                     \
  X(step_s_median, REAL, "s", "median device time of one step (profiling events)")          \
  X(step_s_min, REAL, "s", "fastest step")                                                  \
  X(step_s_p10, REAL, "s", "10th percentile of step time")                                  \
  X(step_s_p90, REAL, "s", "90th percentile of step time")                                  \
  X(step_cv, REAL, "", "coefficient of variation of step time (stddev / mean)")             \
  X(step_s_ci_low, REAL, "s", "95% confidence interval of step_s_median, low end (rounds as the independent units)") \
  X(step_s_ci_high, REAL, "s", "95% confidence interval of step_s_median, high end") \
  X(step_rmad, REAL, "", "median absolute deviation of step time / step_s_median (robust spread)") \
  X(rounds, INT, "", "timed rounds behind the interval") \
  X(passes, INT, "", "worker processes that measured the row in turn (`--passes P`); with 2 or more the step time is the mean of their medians and the interval its t interval (results/SCHEMA.md)") \
  X(stable, INT, "", "1: the interval reached +-target_ci of the median; 0: --max-time or --max-reps came first (unstable)") \
  X(wall_step_s, REAL, "s", "wall time per step over back-to-back steps, host overhead included") \
  X(kernels_per_step, INT, "", "kernel launches of one step, CLBlast's included (counted at clEnqueueNDRangeKernel)") \
  X(launch_floor_s, REAL, "s", "kernels_per_step x the device's cost of one launch back to back (empty kernel): the least a step of this many kernels can take") \
  X(steps_per_s, REAL, "1/s", "1 / step_s_median")                                          \
  X(samples_per_s, REAL, "1/s", "B / step_s_median")                                        \
  X(gflops, REAL, "GFLOP/s", "step FLOPs (SCHEMA.md formula) / step_s_median / 1e9")        \
  X(gbytes_per_s, REAL, "GB/s", "step bytes (SCHEMA.md formula) / step_s_median / 1e9")     \
  X(pct_peak_flops, REAL, "%", "gflops / measured peak FLOP/s of this device and precision") \
  X(pct_peak_bw, REAL, "%", "gbytes_per_s / measured peak bandwidth of this device")        \
  X(epoch_s, REAL, "s", "steps_per_epoch * step_s_median")                                  \
  X(device_bytes, INT, "B", "device buffers of the step, CLBlast's GEMM temporary buffer included") \
  X(device_bytes_measured, INT, "B", "drop in the device's free memory while the step's buffers are held (AMD's free-memory query; empty elsewhere)") \
  X(host_rss_bytes, INT, "B", "peak resident memory of the measuring process")              \
  X(sigma2, REAL, "", "per-sample gradient variance tr(Sigma) = mean|g_i|^2 - |G|^2")       \
  X(grad_norm2, REAL, "", "|G|^2, squared norm of the full gradient")                       \
  X(var_measured, REAL, "", "mean over K batches of |g_B - G|^2")                           \
  X(var_ci_low, REAL, "", "95% confidence interval of var_measured, low end")               \
  X(var_ci_high, REAL, "", "95% confidence interval of var_measured, high end")             \
  X(var_predicted, REAL, "", "(sigma2 / B) (N - B) / (N - 1), sampling without replacement") \
  X(var_ratio, REAL, "", "var_measured / var_predicted (about 1 when the theory holds)")    \
  X(noise_scale, REAL, "samples", "B_noise = sigma2 / grad_norm2")                          \
  X(noise_batches, INT, "", "K, batches drawn for var_measured")                            \
  X(sampling, STR, "", "how batches are drawn: without_replacement")                       \
  X(timer, STR, "", "events (profiling events bracket each step) or wall (fallback)")       \
  X(peak_gflops, REAL, "GFLOP/s", "measured FMA peak of this device and precision")         \
  X(peak_gbytes_per_s, REAL, "GB/s", "measured global-memory bandwidth of this device")     \
  X(max_batch_fit, INT, "", "largest B whose buffers the device accepted (--max-batch-probe)") \
  X(tuned, INT, "", "where CLBlast's parameters came from: 0 CLBlast's own, 1 `clbatch tune`, 2 clbatch's CPU starting sets") \
  X(host_warnings, STR, "", "what made this host less trustworthy when the run started (load, governor, VM, busy processes); empty if nothing") \
  X(host_slowdown, REAL, "", "the reference step's median over the turns the row was timed in, over its usual time on this host, device and driver (the speed history): 1.25 = the host ran 25 % slower than usual; empty without a history") \
  X(host_spread, REAL, "", "how far one pass's reference step lands from the next on this host, passes of earlier runs included (the speed history): 0.03 = about 3 %; with passes it widens the row's interval; empty with fewer than 8 lines") \
  X(status, STR, "", "ok, skipped, oom, error or timeout")                                  \
  X(message, STR, "", "why a row is not ok, or notes (e.g. timer fallback)")

#define CLB_STR_FIELD_SIZE 320

struct clb_row {
#define CLB_FIELD_STR(name) char name[CLB_STR_FIELD_SIZE];
#define CLB_FIELD_INT(name) double name;
#define CLB_FIELD_REAL(name) double name;
#define CLB_ROW_FIELD(name, kind, unit, meaning) CLB_FIELD_##kind(name)
  CLB_COLUMNS(CLB_ROW_FIELD)
#undef CLB_ROW_FIELD
#undef CLB_FIELD_STR
#undef CLB_FIELD_INT
#undef CLB_FIELD_REAL
};

enum clb_column_kind { CLB_COL_STR, CLB_COL_INT, CLB_COL_REAL };

struct clb_column {
  const char *name;
  enum clb_column_kind kind;
  const char *unit;
  const char *meaning;
  size_t offset; /* offsetof(struct clb_row, name) */
};

extern const struct clb_column clb_columns[];
extern const size_t clb_column_count;

/* Whether column `column` (an index of clb_columns) is part of schema
 * `version` (CLB_SCHEMA_OLDEST .. CLB_SCHEMA_VERSION). */
int clb_column_in_schema(size_t column, int version);

/* Appends printf text to row->message, after "; " when it holds some; text
 * that does not fit is cut. */
void clb_row_append_message(struct clb_row *row, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* All numbers NaN, all strings empty, schema and clbatch_version set. */
void clb_row_init(struct clb_row *row);

/* The identity of a configuration, the key of resume: host, device index and
 * name, model, precision, batch, data_on and repeat. */
void clb_row_key(const struct clb_row *row, char *key, size_t size);

/* The clb_row_key of every row of a results CSV, in file order: what a
 * resumed run has done. A file that does not exist has none. *keys and each
 * key are malloc'd; release them with clb_row_keys_free. */
int clb_results_read_keys(const char *path, char ***keys, size_t *n, struct clb_error *err);
void clb_row_keys_free(char **keys, size_t n);

/* Writes the header line / one row (RFC 4180 quoting), and flushes. */
int clb_results_write_header(FILE *out, struct clb_error *err);
int clb_results_write_row(FILE *out, const struct clb_row *row, struct clb_error *err);

/* Reads a results CSV of any schema from CLB_SCHEMA_OLDEST on (an older
 * file's rows come back as current rows, the columns it lacks empty, repeat
 * 1). Rejects a header that matches no schema, a row whose schema differs from
 * its header's, a ragged row, a bad number; a truncated last line (no newline, too
 * few fields) is dropped with a warning in `warning` (may be NULL). Rows are
 * appended to *rows (realloc'd; caller frees). */
int clb_results_read(const char *path, struct clb_row **rows, size_t *count, char *warning,
                     size_t warning_size, struct clb_error *err);

#endif
