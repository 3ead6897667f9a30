/* Timing of device work: warm-up, adaptive repetitions, two clocks.
 *
 * Device time runs from the start of a step's first command to the end of its
 * last, on an in-order queue (CLBlast's own event covers only its last kernel,
 * so a step that begins inside CLBlast brackets itself with a marker); wall
 * time is taken over back-to-back steps with one clFinish at the end. */
#ifndef CLB_MEASURE_MEASURE_H
#define CLB_MEASURE_MEASURE_H

#include <CL/cl.h>
#include <stddef.h>

#include "measure/stats.h"
#include "util/errors.h"

/* Enqueues step number `index` (0, 1, ...) without waiting for it. When
 * `first` and `last` are not NULL the step returns the events of its first and
 * last commands (the caller releases them); otherwise it creates no events. */
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

int clb_measure_steps(cl_command_queue queue, const char *device, clb_step_fn step,
                      void *context, const struct clb_measure_config *config,
                      struct clb_timing *out, struct clb_error *err);

/* Device seconds from the start of `first` to the end of `last` (both
 * complete). Negative when the driver's timestamps are missing or inverted. */
double clb_event_span(cl_event first, cl_event last);

#endif
