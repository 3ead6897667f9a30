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
  if (!first || !last)
    return -1.0;
  if (clGetEventProfilingInfo(first, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) !=
          CL_SUCCESS ||
      clGetEventProfilingInfo(last, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) !=
          CL_SUCCESS)
    return -1.0;
  if (start == 0 || end == 0 || end < start)
    return -1.0;
  return 1e-9 * (double)(end - start);
}

static const char fallback_note[] =
    "profiling timestamps missing or inconsistent; step times are wall-clock round means";

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

/* Runs `count` steps back to back without events and waits once; *wall gets
 * the time from the first enqueue to the end of the wait. */
static int run_untimed(cl_command_queue queue, const char *device, clb_step_fn step,
                       void *context, size_t first, size_t count, double *wall,
                       struct clb_error *err) {
  int rc = 0;
  double start = clb_now();
  for (size_t i = 0; i < count; i++)
    CLB_TRY(step(context, first + i, NULL, NULL, err));
  CLB_CHECK(clFinish(queue), "clFinish", device);
  if (wall)
    *wall = clb_now() - start;
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
    if (markers[i] && !(i % 2 == 1 && markers[i] == markers[i - 1]))
      clReleaseEvent(markers[i]);
  free(markers);
  return rc;
}

/* Rounds of about 20 ms (clpeak's approach): long enough for the wall clock
 * and the launch overhead to average out, short enough for many samples. */
static size_t steps_per_round(double probe_s) {
  size_t per_round = probe_s > 0 ? (size_t)(0.02 / probe_s) : 1000;
  if (per_round < 1)
    per_round = 1;
  if (per_round > 1000)
    per_round = 1000;
  return per_round;
}

int clb_measure_steps(cl_command_queue queue, const char *device, clb_step_fn step,
                      void *context, const struct clb_measure_config *config,
                      struct clb_timing *out, struct clb_error *err) {
  int rc = 0;
  struct samples device_times = {0}, round_means = {0};
  memset(out, 0, sizeof *out);
  size_t index = 0;
  CLB_TRY(run_untimed(queue, device, step, context, index, config->warmup_steps, NULL, err));
  index += config->warmup_steps;

  double probe = 0;
  CLB_TRY(run_untimed(queue, device, step, context, index++, 1, &probe, err));
  size_t per_round = steps_per_round(probe);

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
    snprintf(out->note, sizeof out->note, "%s", fallback_note);
  clb_stats_summarize(events_ok ? device_times.values : round_means.values,
                      events_ok ? device_times.count : round_means.count, &out->device);
  out->used_events = events_ok;
  out->reps = reps;

  /* Wall time per step without the markers: one back-to-back run, one finish. */
  size_t wall_steps = 3 * per_round;
  if (wall_steps > config->max_reps)
    wall_steps = config->max_reps;
  double wall = 0;
  CLB_TRY(run_untimed(queue, device, step, context, index, wall_steps, &wall, err));
  out->wall_step_s = wall / (double)wall_steps;
cleanup:
  free(device_times.values);
  free(round_means.values);
  return rc;
}

int clb_measure_runs(cl_command_queue queue, const char *device, clb_step_fn run, void *context,
                     const struct clb_measure_runs_config *config, struct clb_timing *out,
                     struct clb_error *err) {
  int rc = 0;
  struct samples device_times = {0}, wall_times = {0};
  memset(out, 0, sizeof *out);
  if (config->max_runs < 1 || config->min_runs > config->max_runs)
    return clb_failf(err, CLB_E_INVAL, "timing runs: need 1 <= max_runs and min_runs <= max_runs");
  CLB_TRY(run_untimed(queue, device, run, context, 0, config->warmup_runs, NULL, err));

  /* Rounds of one run: each run is timed alone, with the device idle before it. */
  int events_ok = !config->host_clock;
  size_t index = config->warmup_runs;
  double timed = 0;
  while (wall_times.count < config->max_runs &&
         (wall_times.count < config->min_runs || timed < config->min_time_s)) {
    double wall = 0;
    CLB_TRY(timed_round(queue, device, run, context, index++, 1, &events_ok, &device_times, &wall,
                        err));
    timed += wall;
    if (push_sample(&wall_times, wall) != 0) {
      rc = clb_failf(err, CLB_E_NOMEM, "out of host memory for timing samples");
      goto cleanup;
    }
  }
  if (!events_ok && !config->host_clock)
    snprintf(out->note, sizeof out->note,
             "profiling timestamps missing or inconsistent; run times are wall-clock");
  const struct samples *basis = events_ok ? &device_times : &wall_times;
  clb_stats_summarize(basis->values, basis->count, &out->device);
  out->used_events = events_ok;
  out->reps = wall_times.count;
  out->wall_step_s = timed / (double)wall_times.count;
cleanup:
  free(device_times.values);
  free(wall_times.values);
  return rc;
}

int clb_measure_queued(cl_command_queue queue, const char *device, clb_step_fn step,
                       void *context, size_t count, double *seconds_per_step,
                       struct clb_error *err) {
  if (count < 1)
    return clb_failf(err, CLB_E_INVAL, "queued timing needs at least one step");
  double wall = 0;
  int rc = run_untimed(queue, device, step, context, 0, count, &wall, err);
  if (rc == 0)
    *seconds_per_step = wall / (double)count;
  return rc;
}
