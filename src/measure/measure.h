/* Timing of device work: warm-up, repetitions, two clocks. The one place in
 * clbatch that times work on a device (the training step, the peak kernels,
 * the tuner's GEMM, the cost of a launch), so every number shares one set of
 * rules (DESIGN.md, "Measurement rules").
 *
 * Device time runs from the start of a step's first command to the end of its
 * last, on an in-order queue (CLBlast's own event covers only its last kernel,
 * so a step that begins inside CLBlast brackets itself with a marker); wall
 * time is taken over back-to-back steps with one clFinish at the end. A step
 * whose events are missing, zero, inverted or longer than the wall clock
 * around it makes the whole measurement fall back to wall time, and says so. */
#ifndef CLB_MEASURE_MEASURE_H
#define CLB_MEASURE_MEASURE_H

#include <CL/cl.h>
#include <stddef.h>

#include "measure/stats.h"
#include "util/errors.h"

/* Enqueues step number `index` (0, 1, ...) without waiting for it. When
 * `first` and `last` are not NULL the step returns the events of its first and
 * last commands (the caller releases them; a one-command step may return the
 * same event in both, and it is released once); otherwise it creates no
 * events. A step that leaves them NULL is timed by the wall clock. */
typedef int (*clb_step_fn)(void *context, size_t index, cl_event *first, cl_event *last,
                           struct clb_error *err);

struct clb_measure_config {
  size_t warmup_steps; /* untimed steps first (kernel compilation, caches) */
  double min_time_s;   /* keep timing at least this long */
  double max_time_s;   /* and stop after this long even if the spread is high */
  size_t max_reps;     /* or after this many timed steps */
  double target_cv;    /* stop once stddev/mean of step times is at most this */
};

struct clb_timing {
  struct clb_summary device; /* seconds per step (wall-clock based when events fail) */
  double wall_step_s;        /* wall seconds per step, back to back */
  size_t reps;
  int used_events;           /* 1: profiling events; 0: wall-clock fallback */
  char note[160];            /* why events were not used, when they were not */
};

void clb_measure_defaults(struct clb_measure_config *config);

/* A training step: throughput of an in-order queue kept busy. Warm-up steps,
 * one probe step that sizes rounds of ~20 ms, then rounds of back-to-back
 * steps (one clFinish per round) until the spread is small (target_cv after
 * min_time_s and 5 samples), max_reps or max_time_s; then a marker-free
 * back-to-back run for wall_step_s. out->device summarises per-step device
 * times (or round means of wall time in the fallback). */
int clb_measure_steps(cl_command_queue queue, const char *device, clb_step_fn step,
                      void *context, const struct clb_measure_config *config,
                      struct clb_timing *out, struct clb_error *err);

/* Repetitions of one piece of work, each run on its own: enqueue, clFinish.
 * For work long enough that queueing does not matter (a peak kernel, one
 * tuning GEMM) or whose cost per isolated launch is the point. */
struct clb_measure_runs_config {
  size_t warmup_runs; /* untimed runs first (compilation, first-touch, caches) */
  size_t min_runs;    /* timed runs at least ... */
  size_t max_runs;    /* ... and at most (>= 1) */
  double min_time_s;  /* between the two, stop once the runs' wall time adds up to this */
  int host_clock;     /* 1: time by the host clock only (what a launch costs the host) */
};

/* Times runs of `run` (a clb_step_fn; indices 0, 1, ...). out->device
 * summarises one sample per run: device time from its events, or its wall
 * time (enqueue to the end of clFinish) with host_clock or in the fallback.
 * Its min is the best run, its median the typical one; out->wall_step_s is the
 * mean wall time per run and out->reps the number of timed runs. */
int clb_measure_runs(cl_command_queue queue, const char *device, clb_step_fn run, void *context,
                     const struct clb_measure_runs_config *config, struct clb_timing *out,
                     struct clb_error *err);

/* Wall seconds per step of `count` steps (indices 0 .. count-1) enqueued back
 * to back without events and waited for once: the cost of each when the
 * in-order queue is kept full. */
int clb_measure_queued(cl_command_queue queue, const char *device, clb_step_fn step,
                       void *context, size_t count, double *seconds_per_step,
                       struct clb_error *err);

/* Device seconds from the start of `first` to the end of `last` (both
 * complete). Negative when an event is NULL or the driver's timestamps are
 * missing or inverted. */
double clb_event_span(cl_event first, cl_event last);

#endif
