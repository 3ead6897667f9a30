#include "measure/measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/launch_count.h"
#include "util/clock.h"

void clb_measure_defaults(struct clb_measure_config *config) {
  config->warmup_steps = 3;
  config->min_time_s = 0.2;
  config->max_time_s = 2.0;
  config->max_reps = 100000;
  config->target_ci = 0.01;
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

/* Rounds of about 10 ms: long enough for the wall clock and the cost of a
 * clFinish to average out, short enough that a configuration gets many rounds
 * (the independent units of its interval) spread over the whole sweep. */
static size_t steps_per_round(double probe_s) {
  size_t per_round = probe_s > 0 ? (size_t)(0.01 / probe_s) : 1000;
  if (per_round < 1)
    per_round = 1;
  if (per_round > 1000)
    per_round = 1000;
  return per_round;
}

enum {
  MIN_ROUNDS = 8,      /* before the interval may stop a job */
  WALL_ROUND_EVERY = 4 /* every 4th round of a job runs without markers */
};

/* Per-step times pooled over rounds, with the size of each round. */
struct rounds {
  struct samples values;
  size_t *sizes;
  size_t count, capacity;
};

static int push_round_size(struct rounds *r, size_t size) {
  if (r->count == r->capacity) {
    size_t capacity = r->capacity ? 2 * r->capacity : 64;
    size_t *grown = realloc(r->sizes, capacity * sizeof *grown);
    if (!grown)
      return CLB_E_NOMEM;
    r->sizes = grown;
    r->capacity = capacity;
  }
  r->sizes[r->count++] = size;
  return 0;
}

/* What clb_measure_interleaved keeps per job. */
struct job_state {
  size_t next_index; /* step index of the next step (the data window moves on) */
  size_t per_round;
  int events_ok;
  struct rounds timed;    /* per-step device times, or round means in the fallback */
  struct samples walls;   /* wall seconds per step of marker-free rounds */
  double timed_s;         /* seconds spent in this job's rounds */
  size_t reps, visits, next_check; /* reps: steps of the timed rounds */
  size_t kernels_per_step;
  size_t companion_rounds; /* the companion's timed rounds when this job finished */
  int running, force_wall;
};

static void job_state_free(struct job_state *state) {
  free(state->timed.values.values);
  free(state->timed.sizes);
  free(state->walls.values);
}

static int warm_up_job(cl_command_queue queue, const char *device, struct clb_measure_job *job,
                       struct job_state *state, const struct clb_measure_config *config) {
  double probe = 0;
  int rc = run_untimed(queue, device, job->step, job->context, 0, config->warmup_steps, NULL,
                       &job->err);
  unsigned long long launches = clb_launch_count();
  if (rc == 0)
    rc = run_untimed(queue, device, job->step, job->context, config->warmup_steps, 1, &probe,
                     &job->err);
  state->kernels_per_step = (size_t)(clb_launch_count() - launches);
  state->next_index = config->warmup_steps + 1;
  state->per_round = steps_per_round(probe);
  state->events_ok = 1;
  state->running = rc == 0;
  state->next_check = MIN_ROUNDS;
  return rc;
}

/* One round of a job: with events (appending its per-step times as one
 * round) or, every WALL_ROUND_EVERY-th visit, without markers (those steps
 * do not count against max_reps: they are not behind the statistics). */
static int job_round(cl_command_queue queue, const char *device, struct clb_measure_job *job,
                     struct job_state *state, const struct clb_measure_config *config,
                     struct clb_error *err) {
  int wall_round =
      state->force_wall || state->visits++ % WALL_ROUND_EVERY == WALL_ROUND_EVERY - 1;
  size_t count = state->per_round;
  /* A companion is not held to max_reps: it runs as long as the others. */
  if (!wall_round && !job->companion && state->reps + count > config->max_reps)
    count = state->reps < config->max_reps ? config->max_reps - state->reps : 1;
  if (count == 0)
    count = 1;
  state->force_wall = 0;
  double wall = 0;
  int rc = 0;
  if (wall_round) {
    rc = run_untimed(queue, device, job->step, job->context, state->next_index, count, &wall,
                     &job->err);
  } else {
    int events_before = state->events_ok;
    size_t before = state->timed.values.count;
    rc = timed_round(queue, device, job->step, job->context, state->next_index, count,
                     &state->events_ok, &state->timed.values, &wall, &job->err);
    if (rc == 0 && events_before && !state->events_ok)
      state->timed.count = 0; /* the fallback starts afresh: round means only */
    if (rc == 0 && !state->events_ok) {
      if (push_sample(&state->timed.values, wall / (double)count) != 0)
        return clb_failf(err, CLB_E_NOMEM, "out of host memory for timing samples");
      if (push_round_size(&state->timed, 1) != 0)
        return clb_failf(err, CLB_E_NOMEM, "out of host memory for timing samples");
    } else if (rc == 0 && push_round_size(&state->timed, state->timed.values.count - before) != 0) {
      return clb_failf(err, CLB_E_NOMEM, "out of host memory for timing samples");
    }
  }
  if (rc != 0) {
    job->rc = rc;
    return 0;
  }
  if ((wall_round || !state->events_ok) && push_sample(&state->walls, wall / (double)count) != 0)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for timing samples");
  state->next_index += count;
  state->reps += wall_round ? 0 : count;
  state->timed_s += wall;
  return 0;
}

/* Whether a job has timed enough: its interval reached the target (checked
 * on a geometric schedule, since each check sorts its samples), or its time
 * or step budget ran out. */
static int job_done(struct job_state *state, const struct clb_measure_config *config) {
  if (state->reps >= config->max_reps || state->timed_s >= config->max_time_s) {
    state->force_wall = state->walls.count == 0; /* wall_step_s needs one round */
    return !state->force_wall;
  }
  const struct rounds *t = &state->timed;
  if (state->timed_s < config->min_time_s || t->count < state->next_check ||
      state->walls.count < 2)
    return 0;
  state->next_check = t->count + (t->count / 4 > 2 ? t->count / 4 : 2);
  struct clb_clustered_median median;
  clb_stats_clustered_median(t->values.values, t->sizes, t->count, 0.95, &median);
  return median.half_width <= config->target_ci;
}

static void job_finish(struct clb_measure_job *job, struct job_state *state,
                       const struct clb_measure_config *config) {
  struct clb_timing *out = &job->timing;
  const struct rounds *t = &state->timed;
  memset(out, 0, sizeof *out);
  out->companion_median_s = NAN;
  clb_stats_summarize(t->values.values, t->values.count, &out->device);
  clb_stats_clustered_median(t->values.values, t->sizes, t->count, 0.95, &out->median);
  out->stable = out->median.half_width <= config->target_ci;
  out->rounds = t->count;
  out->reps = state->reps;
  out->used_events = state->events_ok;
  out->kernels_per_step = state->kernels_per_step;
  if (!state->events_ok)
    snprintf(out->note, sizeof out->note, "%s", fallback_note);
  struct clb_summary walls;
  clb_stats_summarize(state->walls.values, state->walls.count, &walls);
  out->wall_step_s = walls.median;
  job->finished = 1;
  state->running = 0;
}

/* The companion's median step time over its first `rounds` timed rounds:
 * the turns in which a job beside it ran. NaN when there were none. */
static double companion_median_over(const struct job_state *companion, size_t rounds) {
  const struct rounds *t = &companion->timed;
  if (rounds > t->count)
    rounds = t->count; /* its events failed midway and its rounds started afresh */
  size_t values = 0;
  for (size_t r = 0; r < rounds; r++)
    values += t->sizes[r];
  struct clb_summary summary;
  clb_stats_summarize(t->values.values, values, &summary);
  return values > 0 ? summary.median : NAN;
}

/* Each job's companion_median_s, from the rounds of the companion at index
 * `companion` (count: none). */
static void note_companion_windows(struct clb_measure_job *jobs, const struct job_state *states,
                                   size_t count, size_t companion) {
  for (size_t i = 0; i < count; i++) {
    if (jobs[i].companion || !jobs[i].finished || jobs[i].rc != 0)
      continue;
    jobs[i].timing.companion_median_s =
        companion < count && jobs[companion].finished && jobs[companion].rc == 0
            ? companion_median_over(&states[companion], states[i].companion_rounds)
            : NAN;
  }
}

int clb_measure_interleaved(cl_command_queue queue, const char *device,
                            struct clb_measure_job *jobs, size_t count,
                            const struct clb_measure_config *config, clb_measure_visit_fn visit,
                            void *visit_context, struct clb_error *err) {
  int rc = 0;
  struct job_state *states = calloc(count ? count : 1, sizeof *states);
  if (!states)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for %zu timing jobs", count);
  size_t running = 0, others = 0; /* others: running jobs that are not companions */
  size_t companion = count;       /* the first companion, whose rounds give companion_median_s */
  for (size_t i = 0; i < count && companion == count; i++)
    if (jobs[i].companion)
      companion = i;
  for (size_t i = 0; i < count; i++) {
    jobs[i].finished = 0;
    jobs[i].rc = 0;
    clb_error_clear(&jobs[i].err);
    if ((jobs[i].rc = warm_up_job(queue, device, &jobs[i], &states[i], config)) != 0) {
      jobs[i].finished = 1;
      continue;
    }
    running++;
    others += !jobs[i].companion;
  }
  int abandon = 0;
  while (others > 0 && !abandon) {
    for (size_t i = 0; i < count && others > 0 && !abandon; i++) {
      struct job_state *state = &states[i];
      if (!state->running)
        continue;
      if (visit)
        visit(visit_context, i, running);
      CLB_TRY(job_round(queue, device, &jobs[i], state, config, err));
      if (jobs[i].rc != 0) {
        jobs[i].finished = 1;
        state->running = 0;
        running--;
        others -= !jobs[i].companion;
        abandon = jobs[i].rc == CL_OUT_OF_RESOURCES;
      } else if (!jobs[i].companion && job_done(state, config)) {
        job_finish(&jobs[i], state, config);
        state->companion_rounds = companion < count ? states[companion].timed.count : 0;
        running--;
        others--;
      }
    }
  }
  /* The companions end with the others; one that never got a timed round
   * (every other job failed at once) stays unfinished. */
  for (size_t i = 0; i < count && !abandon; i++)
    if (states[i].running && states[i].timed.count > 0)
      job_finish(&jobs[i], &states[i], config);
  note_companion_windows(jobs, states, count, companion);
cleanup:
  for (size_t i = 0; i < count; i++)
    job_state_free(&states[i]);
  free(states);
  return rc;
}

int clb_measure_steps(cl_command_queue queue, const char *device, clb_step_fn step,
                      void *context, const struct clb_measure_config *config,
                      struct clb_timing *out, struct clb_error *err) {
  struct clb_measure_job job = {.step = step, .context = context};
  int rc = clb_measure_interleaved(queue, device, &job, 1, config, NULL, NULL, err);
  if (rc == 0 && job.rc != 0) {
    *err = job.err;
    rc = job.rc;
  }
  if (rc == 0)
    *out = job.timing;
  return rc;
}

int clb_measure_runs(cl_command_queue queue, const char *device, clb_step_fn run, void *context,
                     const struct clb_measure_runs_config *config, struct clb_timing *out,
                     struct clb_error *err) {
  int rc = 0;
  struct samples device_times = {0}, wall_times = {0};
  memset(out, 0, sizeof *out);
  out->companion_median_s = NAN;
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
