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
  double min_time_s;   /* time each configuration at least this long */
  double max_time_s;   /* and stop after this long even if its interval is wide */
  size_t max_reps;     /* or after this many timed steps */
  double target_ci;    /* stop once the 95 % interval of the median is within
                          +- this fraction of it (0.01: +-1 %) */
};

struct clb_timing {
  struct clb_summary device;           /* seconds per step (wall-clock based when events fail) */
  struct clb_clustered_median median;  /* the same median, its 95 % interval and MAD */
  double wall_step_s;                  /* wall seconds per step, back to back */
  size_t reps;
  size_t rounds;  /* timed rounds: the independent units of the interval */
  int stable;     /* 1: the interval reached target_ci; 0: max_time_s or max_reps came first */
  int used_events; /* 1: profiling events; 0: wall-clock fallback */
  size_t kernels_per_step; /* kernel launches of one step, CLBlast's included
                              (counted over the probe step); 0 when not counted */
  double companion_median_s; /* the companion job's median step time over the turns
                                this job ran in (clb_measure_interleaved); NaN
                                without a companion */
  char note[160];  /* why events were not used, when they were not */
};

void clb_measure_defaults(struct clb_measure_config *config);

/* One configuration of an interleaved measurement. The caller fills `step`
 * and `context`; clb_measure_interleaved fills the rest. */
struct clb_measure_job {
  clb_step_fn step;
  void *context;
  /* A companion is timed beside the others rather than for itself: it takes
   * its round in every turn for as long as any other job runs, and finishes
   * with the last of them; its own stopping rule does not apply. Its median
   * then covers the same stretch of time as theirs (a reference step that
   * sees what the machine did to them). */
  int companion;
  int finished;            /* 1: timed to the end (rc 0) or failed (rc != 0) */
  int rc;                  /* its step's failure, 0 if none */
  struct clb_error err;    /* why, when rc != 0 */
  struct clb_timing timing; /* valid when finished and rc == 0 */
};

/* Called before each round with the job about to run and how many are still
 * being timed (progress display, crash attribution). */
typedef void (*clb_measure_visit_fn)(void *context, size_t job, size_t running);

/* Training steps of several configurations, timed in turns so that a slow
 * phase of the machine (a neighbour's load, a frequency change) lands on all
 * of them alike instead of on whichever ran at that moment.
 *
 * Every job is first warmed up (warmup_steps) and probed once to size its
 * rounds (~10 ms of back-to-back steps, one clFinish each); the probe step's
 * kernel launches are its kernels_per_step. Then the jobs still running take
 * one round each, in order, over and over: three rounds in four bracket every
 * step with profiling events, the fourth runs the steps without markers for
 * the wall clock. A job stops when the 95 % interval of its median step time
 * (clb_stats_clustered_median, rounds as the independent units) is within
 * +-target_ci after min_time_s of its own rounds and 8 timed rounds (stable),
 * or when its rounds reach max_time_s or max_reps steps (not stable). A
 * companion job stops with the last other job (it may then lack a marker-free
 * round: wall_step_s NaN); each other job's companion_median_s is the
 * companion's median over the turns that job ran in, so it covers that job's
 * stretch of time, not the whole set's. The median is the pooled per-step
 * median; wall_step_s the median of the marker-free rounds. A job whose step
 * fails stops with its rc; one failing with CL_OUT_OF_RESOURCES (the context
 * is suspect) stops them all, leaving unfinished ones with finished == 0.
 * Returns 0, or an error of the measurement itself (host memory). */
int clb_measure_interleaved(cl_command_queue queue, const char *device,
                            struct clb_measure_job *jobs, size_t count,
                            const struct clb_measure_config *config, clb_measure_visit_fn visit,
                            void *visit_context, struct clb_error *err);

/* One configuration alone: clb_measure_interleaved with a single job, its
 * failure returned. */
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
