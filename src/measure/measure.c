#include "measure/measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

void clb_measure_defaults(struct clb_measure_config *config) {
  config->warmup_steps = 3;
  config->min_time_s = 0.2;
  config->max_time_s = 2.0;
  config->max_reps = 100000;
  config->target_cv = 0.02;
}

double clb_event_span(cl_event first, cl_event last) {
  cl_ulong start = 0, end = 0;
  if (clGetEventProfilingInfo(first, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) !=
          CL_SUCCESS ||
      clGetEventProfilingInfo(last, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) !=
          CL_SUCCESS)
    return -1.0;
  if (start == 0 || end == 0 || end < start)
    return -1.0;
  return 1e-9 * (double)(end - start);
}

struct samples {
  double *values;
  size_t count, capacity;
};

static int push_sample(struct samples *s, double value) {
  if (s->count == s->capacity) {
    size_t capacity = s->capacity ? 2 * s->capacity : 256;
    double *grown = realloc(s->values, capacity * sizeof *grown);
    if (!grown)
      return CLB_E_NOMEM;
    s->values = grown;
    s->capacity = capacity;
  }
  s->values[s->count++] = value;
  return 0;
}

static int run_untimed(cl_command_queue queue, const char *device, clb_step_fn step,
                       void *context, size_t first, size_t count, struct clb_error *err) {
  int rc = 0;
  for (size_t i = 0; i < count; i++)
    CLB_TRY(step(context, first + i, NULL, NULL, err));
  CLB_CHECK(clFinish(queue), "clFinish", device);
cleanup:
  return rc;
}

/* One round of `count` steps, each bracketed by the events of its first and
 * last commands. Appends one device time per step to `device_times` (or
 * nothing, clearing *events_ok, when the driver's timestamps are unusable) and
 * returns the round's wall time. */
static int timed_round(cl_command_queue queue, const char *device, clb_step_fn step,
                       void *context, size_t first, size_t count, int *events_ok,
                       struct samples *device_times, double *wall, struct clb_error *err) {
  int rc = 0;
  cl_event *markers = calloc(2 * count, sizeof *markers);
  if (!markers)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for timing events");
  double start = clb_now();
  for (size_t i = 0; i < count; i++) {
    if (*events_ok)
      CLB_TRY(step(context, first + i, &markers[2 * i], &markers[2 * i + 1], err));
    else
      CLB_TRY(step(context, first + i, NULL, NULL, err));
  }
  CLB_CHECK(clFinish(queue), "clFinish", device);
  *wall = clb_now() - start;
  for (size_t i = 0; *events_ok && i < count; i++) {
    double span = clb_event_span(markers[2 * i], markers[2 * i + 1]);
    /* A step cannot take longer on the device than the whole round on the wall. */
    if (!(span > 0) || span > *wall) {
      *events_ok = 0;
      device_times->count = 0;
      break;
    }
    if (push_sample(device_times, span) != 0) {
      rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for timing samples");
      goto cleanup;
    }
  }
cleanup:
  for (size_t i = 0; i < 2 * count; i++)
    if (markers[i])
      clReleaseEvent(markers[i]);
  free(markers);
  return rc;
}

int clb_measure_steps(cl_command_queue queue, const char *device, clb_step_fn step,
                      void *context, const struct clb_measure_config *config,
                      struct clb_timing *out, struct clb_error *err) {
  int rc = 0;
  struct samples device_times = {0}, round_means = {0};
  memset(out, 0, sizeof *out);
  size_t index = 0;
  CLB_TRY(run_untimed(queue, device, step, context, index, config->warmup_steps, err));
  index += config->warmup_steps;

  /* Probe one step to size the rounds (clpeak's approach). */
  double probe_start = clb_now();
  CLB_TRY(run_untimed(queue, device, step, context, index++, 1, err));
  double probe = clb_now() - probe_start;
  size_t per_round = probe > 0 ? (size_t)(0.02 / probe) : 1000;
  if (per_round < 1)
    per_round = 1;
  if (per_round > 1000)
    per_round = 1000;

  int events_ok = 1;
  double timed = 0;
  size_t reps = 0;
  double started = clb_now();
  for (;;) {
    size_t count = per_round;
    if (reps + count > config->max_reps)
      count = config->max_reps - reps;
    double wall = 0;
    CLB_TRY(timed_round(queue, device, step, context, index, count, &events_ok, &device_times,
                        &wall, err));
    index += count;
    reps += count;
    timed += wall;
    if (push_sample(&round_means, wall / (double)count) != 0) {
      rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for timing samples");
      goto cleanup;
    }
    const struct samples *basis = events_ok ? &device_times : &round_means;
    struct clb_summary summary;
    clb_stats_summarize(basis->values, basis->count, &summary);
    int enough = timed >= config->min_time_s && basis->count >= 5;
    if ((enough && summary.cv <= config->target_cv) || reps >= config->max_reps ||
        clb_now() - started >= config->max_time_s)
      break;
  }
  if (!events_ok)
    snprintf(out->note, sizeof out->note,
             "profiling timestamps missing or inconsistent; step times are wall-clock round "
             "means");
  clb_stats_summarize(events_ok ? device_times.values : round_means.values,
                      events_ok ? device_times.count : round_means.count, &out->device);
  out->used_events = events_ok;
  out->reps = reps;

  /* Wall time per step without the markers: one back-to-back run, one finish. */
  size_t wall_steps = 3 * per_round;
  if (wall_steps > config->max_reps)
    wall_steps = config->max_reps;
  double wall_start = clb_now();
  CLB_TRY(run_untimed(queue, device, step, context, index, wall_steps, err));
  out->wall_step_s = (clb_now() - wall_start) / (double)wall_steps;
cleanup:
  free(device_times.values);
  free(round_means.values);
  return rc;
}
