/* measure/: the timing loops, driven by a known kernel on the test device.
 * The step records what the loop asked of it (events or none, by index) and
 * keeps its own reference to every event it handed out, so the test can check
 * each sample independently of the loop's own bookkeeping. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cl/context.h"
#include "cl/platform.h"
#include "helpers.h"
#include "measure/measure.h"
#include "util/clock.h"

/* A dependent chain of multiply-adds per work-item: device time grows with
 * `iterations` and cannot be optimised away (the result is stored). */
static const char *spin_source =
    "__kernel void spin(__global float *out, int iterations) {\n"
    "  float x = (float)get_global_id(0);\n"
    "  for (int i = 0; i < iterations; i++)\n"
    "    x = x * 0.999f + 0.5f;\n"
    "  out[get_global_id(0)] = x;\n"
    "}\n";

#define MAX_CALLS 4096
#define GLOBAL_SIZE 64
#define NORMAL_ITERATIONS 20000

enum step_kind { SPIN, SPIN_SAME_EVENT, SPIN_NO_EVENTS };

struct fixture {
  struct clb_device_list list;
  const struct clb_device_info *dev;
  struct clb_cl cl;
  cl_program program;
  cl_kernel kernel;
  cl_mem out;
  enum step_kind kind;
  size_t heavy_below;    /* steps with a smaller index run heavy_iterations */
  int heavy_iterations;
  size_t calls;          /* how many times the loop called the step */
  size_t index[MAX_CALLS];
  int asked[MAX_CALLS];  /* 1: the loop asked for events */
  double at[MAX_CALLS];  /* host time of the call */
  cl_event first[MAX_CALLS], last[MAX_CALLS]; /* our own references */
};

static struct fixture fx;

static int step(void *context, size_t index, cl_event *first, cl_event *last,
                struct clb_error *err) {
  struct fixture *f = context;
  cr_assert_lt(f->calls, MAX_CALLS, "the loop ran more steps than the test allows");
  size_t call = f->calls++;
  f->index[call] = index;
  f->asked[call] = first != NULL;
  f->at[call] = clb_now();
  int iterations = index < f->heavy_below ? f->heavy_iterations : NORMAL_ITERATIONS;
  size_t global = GLOBAL_SIZE;
  int rc = 0;
  CLB_CHECK(clSetKernelArg(f->kernel, 1, sizeof iterations, &iterations), "clSetKernelArg",
            f->dev->name);
  cl_event *slot = f->kind == SPIN_NO_EVENTS ? NULL : first;
  CLB_CHECK(clEnqueueNDRangeKernel(f->cl.queue, f->kernel, 1, NULL, &global, NULL, 0, NULL, slot),
            "clEnqueueNDRangeKernel", f->dev->name);
  if (!slot)
    return 0;
  if (f->kind == SPIN_SAME_EVENT) {
    *last = *first; /* one command: its event opens and closes the step */
  } else {
    CLB_CHECK(clEnqueueMarkerWithWaitList(f->cl.queue, 0, NULL, last),
              "clEnqueueMarkerWithWaitList", f->dev->name);
  }
  clRetainEvent(*first);
  clRetainEvent(*last);
  f->first[call] = *first;
  f->last[call] = *last;
cleanup:
  return rc;
}

static void setup(void) {
  memset(&fx, 0, sizeof fx);
  if (!clb_test_open_cl(&fx.list, &fx.dev, &fx.cl, CLB_FP32))
    return;
  cl_int status = CL_SUCCESS;
  fx.program = clCreateProgramWithSource(fx.cl.context, 1, &spin_source, NULL, &status);
  cr_assert_eq(status, CL_SUCCESS);
  cr_assert_eq(clBuildProgram(fx.program, 1, &fx.dev->device, "", NULL, NULL), CL_SUCCESS);
  fx.kernel = clCreateKernel(fx.program, "spin", &status);
  cr_assert_eq(status, CL_SUCCESS);
  fx.out = clCreateBuffer(fx.cl.context, CL_MEM_WRITE_ONLY, GLOBAL_SIZE * sizeof(cl_float), NULL,
                          &status);
  cr_assert_eq(status, CL_SUCCESS);
  cr_assert_eq(clSetKernelArg(fx.kernel, 0, sizeof fx.out, &fx.out), CL_SUCCESS);
}

static void teardown(void) {
  for (size_t i = 0; i < fx.calls && i < MAX_CALLS; i++) {
    if (fx.first[i])
      clReleaseEvent(fx.first[i]);
    if (fx.last[i])
      clReleaseEvent(fx.last[i]);
  }
  if (fx.out)
    clReleaseMemObject(fx.out);
  if (fx.kernel)
    clReleaseKernel(fx.kernel);
  if (fx.program)
    clReleaseProgram(fx.program);
  if (fx.dev)
    clb_cl_destroy(&fx.cl);
  clb_platform_list_destroy(&fx.list);
}

/* Calls in which the loop asked for events, none before `from`. Every call,
 * timed or not (the marker-free rounds between timed ones), gets the next
 * step index, so the data window moves on as in training. */
static size_t timed_calls(size_t from) {
  size_t timed = 0;
  for (size_t i = 0; i < fx.calls; i++) {
    cr_expect_eq(fx.index[i], i, "call %zu: step index %zu out of order", i, fx.index[i]);
    if (!fx.asked[i])
      continue;
    cr_expect_geq(fx.index[i], from, "call %zu: step %zu timed", i, fx.index[i]);
    timed++;
  }
  return timed;
}

/* Every timed sample: device time > 0 and no longer than the wall time the
 * run could have taken (from its enqueue to the next call, or to `end`).
 * Returns the smallest span. */
static double check_spans(double end) {
  double smallest = INFINITY;
  for (size_t i = 0; i < fx.calls; i++) {
    if (!fx.asked[i])
      continue;
    double span = clb_event_span(fx.first[i], fx.last[i]);
    double wall = (i + 1 < fx.calls ? fx.at[i + 1] : end) - fx.at[i];
    cr_expect_gt(span, 0.0, "call %zu", i);
    cr_expect_leq(span, wall, "call %zu: device %g s > wall %g s", i, span, wall);
    smallest = span < smallest ? span : smallest;
  }
  return smallest;
}

TestSuite(measure, .init = setup, .fini = teardown, .timeout = 120);

Test(measure, runs_time_each_run_by_its_events_after_an_untimed_warmup) {
  if (!fx.dev)
    return;
  /* Warm-up runs 200 times longer than a timed one: were it timed, the
   * largest sample would show it. */
  fx.heavy_below = 2;
  fx.heavy_iterations = 200 * NORMAL_ITERATIONS;
  const struct clb_measure_runs_config config = {2, 7, 7, 0.0, 0};
  struct clb_timing timing;
  struct clb_error err = {0};
  cr_assert_eq(clb_measure_runs(fx.cl.queue, fx.dev->name, step, &fx, &config, &timing, &err), 0,
               "%s", err.message);
  double end = clb_now();
  cr_expect_eq(timing.reps, 7);
  cr_expect_eq(timing.device.n, 7);
  cr_expect_eq(timing.used_events, 1);
  cr_expect_str_empty(timing.note);
  cr_expect_eq(fx.calls, 9);
  cr_expect(!fx.asked[0] && !fx.asked[1], "warm-up runs must not be timed");
  cr_expect_eq(timed_calls(2), 7);
  /* The loop's best run is the best of the events it was handed. */
  cr_expect_float_eq(timing.device.min, check_spans(end), 1e-15);
  cr_expect_leq(timing.device.min, timing.device.median);
  cr_expect_leq(timing.device.median, timing.device.max);
  cr_expect_geq(timing.wall_step_s, timing.device.min);
  /* The warm-up's own time, from its first enqueue to the first timed run. */
  double warmup_each = (fx.at[2] - fx.at[0]) / 2.0;
  cr_expect_lt(timing.device.max, warmup_each / 2.0, "max %g s, warm-up %g s each",
               timing.device.max, warmup_each);
}

Test(measure, runs_stop_at_min_time_between_min_and_max_runs) {
  if (!fx.dev)
    return;
  struct clb_timing timing;
  struct clb_error err = {0};
  const struct clb_measure_runs_config by_time = {0, 2, 100000, 0.05, 0};
  cr_assert_eq(clb_measure_runs(fx.cl.queue, fx.dev->name, step, &fx, &by_time, &timing, &err),
               0, "%s", err.message);
  cr_expect_geq(timing.reps, 2);
  cr_expect_lt(timing.reps, 100000);
  cr_expect_geq((double)timing.reps * timing.wall_step_s, 0.05);

  const struct clb_measure_runs_config capped = {0, 1, 3, 100.0, 0};
  cr_assert_eq(clb_measure_runs(fx.cl.queue, fx.dev->name, step, &fx, &capped, &timing, &err), 0,
               "%s", err.message);
  cr_expect_eq(timing.reps, 3, "max_runs beats min_time");

  const struct clb_measure_runs_config bad = {0, 4, 3, 0.0, 0};
  cr_expect_eq(clb_measure_runs(fx.cl.queue, fx.dev->name, step, &fx, &bad, &timing, &err),
               CLB_E_INVAL);
}

Test(measure, runs_with_the_host_clock_ask_for_no_events) {
  if (!fx.dev)
    return;
  const struct clb_measure_runs_config config = {1, 5, 5, 0.0, 1};
  struct clb_timing timing;
  struct clb_error err = {0};
  cr_assert_eq(clb_measure_runs(fx.cl.queue, fx.dev->name, step, &fx, &config, &timing, &err), 0,
               "%s", err.message);
  cr_expect_eq(timing.reps, 5);
  cr_expect_eq(timing.used_events, 0);
  cr_expect_str_empty(timing.note, "the host clock was asked for: no fallback to explain");
  cr_expect_eq(timed_calls(0), 0);
  cr_expect_gt(timing.device.min, 0.0);
}

Test(measure, one_command_step_may_return_one_event_twice) {
  if (!fx.dev)
    return;
  fx.kind = SPIN_SAME_EVENT;
  const struct clb_measure_runs_config config = {1, 20, 20, 0.0, 0};
  struct clb_timing timing;
  struct clb_error err = {0};
  cr_assert_eq(clb_measure_runs(fx.cl.queue, fx.dev->name, step, &fx, &config, &timing, &err), 0,
               "%s", err.message);
  cr_expect_eq(timing.used_events, 1);
  /* The loop released its reference once: our two retains are left. A
   * runtime may still hold one of its own for a moment after a command
   * completes (PoCL's notifier thread), so 3 is possible now and then; a
   * loop that never released would leave 3 or more on every call, one that
   * released twice 1. The last call is skipped: the queue may keep it. */
  size_t asked = 0, exact = 0;
  for (size_t i = 0; i + 1 < fx.calls; i++) {
    if (!fx.asked[i])
      continue;
    cl_uint refs = 0;
    cr_assert_eq(clGetEventInfo(fx.first[i], CL_EVENT_REFERENCE_COUNT, sizeof refs, &refs, NULL),
                 CL_SUCCESS);
    cr_expect(refs == 2 || refs == 3, "call %zu: %u references left", i, refs);
    asked++;
    exact += refs == 2;
  }
  cr_expect_geq(2 * exact, asked, "only %zu of %zu calls were released to 2 references", exact,
                asked);
}

/* Defaults with only the budget stopping a job: no minimum time, and a
 * target interval (< 0) that is never reached. */
static struct clb_measure_config budget_only(size_t warmup_steps, double max_time_s,
                                             size_t max_reps) {
  struct clb_measure_config config;
  clb_measure_defaults(&config);
  config.warmup_steps = warmup_steps;
  config.min_time_s = 0.0;
  config.max_time_s = max_time_s;
  config.max_reps = max_reps;
  config.target_ci = -1.0;
  return config;
}

Test(measure, steps_honour_max_reps_and_time_every_step_after_warmup_and_probe) {
  if (!fx.dev)
    return;
  fx.heavy_below = 3; /* the warm-up and the probe */
  fx.heavy_iterations = 200 * NORMAL_ITERATIONS;
  /* The interval's target is never satisfied: only max_reps stops it. */
  struct clb_measure_config config = budget_only(2, 30.0, 12);
  struct clb_timing timing;
  struct clb_error err = {0};
  cr_assert_eq(clb_measure_steps(fx.cl.queue, fx.dev->name, step, &fx, &config, &timing, &err),
               0, "%s", err.message);
  double end = clb_now();
  cr_expect_eq(timing.reps, 12);
  cr_expect_eq(timing.device.n, 12);
  cr_expect_eq(timing.used_events, 1);
  cr_expect(!fx.asked[0] && !fx.asked[1] && !fx.asked[2], "warm-up and probe are not timed");
  cr_expect_eq(timed_calls(3), 12);
  cr_expect_float_eq(timing.device.min, check_spans(end), 1e-15);
  cr_expect_gt(timing.wall_step_s, 0.0);
  /* The wall pass after the timed rounds asks for no events either. */
  cr_expect_gt(fx.calls, 3 + 12);
  double warmup_each = (fx.at[3] - fx.at[0]) / 3.0;
  cr_expect_lt(timing.device.max, warmup_each / 2.0, "max %g s, warm-up %g s each",
               timing.device.max, warmup_each);
}

Test(measure, steps_honour_max_time) {
  if (!fx.dev)
    return;
  struct clb_measure_config config = budget_only(1, 0.1, 100000000);
  struct clb_timing timing;
  struct clb_error err = {0};
  double start = clb_now();
  cr_assert_eq(clb_measure_steps(fx.cl.queue, fx.dev->name, step, &fx, &config, &timing, &err),
               0, "%s", err.message);
  double elapsed = clb_now() - start;
  cr_expect_geq(timing.reps, 1);
  cr_expect_lt(timing.reps, config.max_reps);
  /* max_time bounds the timed rounds; the warm-up, the probe, one round
   * past the limit (~20 ms) and the wall pass (~60 ms) come on top. */
  cr_expect_lt(elapsed, 1.0, "took %g s for max_time_s = 0.1", elapsed);
}

Test(measure, step_without_events_falls_back_to_wall_time_and_says_so) {
  if (!fx.dev)
    return;
  fx.kind = SPIN_NO_EVENTS;
  struct clb_measure_config config;
  clb_measure_defaults(&config);
  config.warmup_steps = 1;
  config.max_reps = 50;
  struct clb_timing steps;
  struct clb_error err = {0};
  cr_assert_eq(clb_measure_steps(fx.cl.queue, fx.dev->name, step, &fx, &config, &steps, &err), 0,
               "%s", err.message);
  cr_expect_eq(steps.used_events, 0);
  cr_expect(strstr(steps.note, "wall-clock") != NULL, "%s", steps.note);
  cr_expect_gt(steps.device.min, 0.0);
  cr_expect_leq(steps.reps, 50);

  const struct clb_measure_runs_config runs_config = {1, 6, 6, 0.0, 0};
  struct clb_timing runs;
  cr_assert_eq(clb_measure_runs(fx.cl.queue, fx.dev->name, step, &fx, &runs_config, &runs, &err),
               0, "%s", err.message);
  cr_expect_eq(runs.used_events, 0);
  cr_expect(strstr(runs.note, "wall-clock") != NULL, "%s", runs.note);
  cr_expect_eq(runs.reps, 6);
  cr_expect_eq(runs.device.n, 6, "every run has its wall time");
  cr_expect_gt(runs.device.min, 0.0);
}

Test(measure, queued_runs_back_to_back_without_events) {
  if (!fx.dev)
    return;
  double each = 0.0;
  struct clb_error err = {0};
  cr_assert_eq(clb_measure_queued(fx.cl.queue, fx.dev->name, step, &fx, 10, &each, &err), 0, "%s",
               err.message);
  cr_expect_eq(fx.calls, 10);
  cr_expect_eq(timed_calls(0), 0);
  cr_expect_gt(each, 0.0);
  cr_expect_eq(clb_measure_queued(fx.cl.queue, fx.dev->name, step, &fx, 0, &each, &err),
               CLB_E_INVAL);
}

Test(event_span, null_or_missing_events_are_unusable) {
  cr_expect_lt(clb_event_span(NULL, NULL), 0.0);
}

/* ---- interleaved jobs ----------------------------------------------------- */

struct job_context {
  char tag;
  int iterations;
  size_t fail_at; /* its step fails from this call on (0: never) */
  size_t calls;
  int slow_probe; /* its second call (the probe after one warm-up step) sleeps 20 ms */
};

static char job_order[MAX_CALLS];
static size_t job_calls;

static int job_step(void *context, size_t index, cl_event *first, cl_event *last,
                    struct clb_error *err) {
  struct job_context *job = context;
  if (job_calls < MAX_CALLS)
    job_order[job_calls++] = job->tag;
  job->calls++;
  if (job->slow_probe && job->calls == 2)
    usleep(20000); /* rounds of one step, on any device */
  if (job->fail_at && job->calls >= job->fail_at)
    return clb_failf(err, CLB_E_NUMERIC, "job %c failed on purpose", job->tag);
  fx.heavy_below = SIZE_MAX;
  fx.heavy_iterations = job->iterations;
  return step(&fx, index, first, last, err);
}

struct visits {
  size_t count, switches, max_running, last_job;
};

static void count_visit(void *context, size_t job, size_t running) {
  struct visits *v = context;
  v->switches += v->count > 0 && job != v->last_job;
  v->last_job = job;
  v->count++;
  if (running > v->max_running)
    v->max_running = running;
}

/* Three jobs in turns: two of known relative cost and one whose step fails.
 * Each keeps its own samples (the 4x slower one measures about 4x slower),
 * the failure stays with its job, and the rounds alternate between them. */
Test(measure, interleaved_jobs_take_turns_and_keep_their_own_samples) {
  if (!fx.dev)
    return;
  job_calls = 0;
  struct job_context a = {'a', 10 * NORMAL_ITERATIONS, 0, 0, 0};
  struct job_context b = {'b', 40 * NORMAL_ITERATIONS, 0, 0, 0};
  struct job_context c = {'c', NORMAL_ITERATIONS, 8, 0, 0};
  struct clb_measure_job jobs[3] = {
      {.step = job_step, .context = &a},
      {.step = job_step, .context = &b},
      {.step = job_step, .context = &c},
  };
  struct clb_measure_config config = budget_only(1, 0.15, 400);
  struct visits visits = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_measure_interleaved(fx.cl.queue, fx.dev->name, jobs, 3, &config, count_visit,
                                       &visits, &err),
               0, "%s", err.message);
  for (int i = 0; i < 2; i++) {
    cr_expect_eq(jobs[i].finished, 1);
    cr_expect_eq(jobs[i].rc, 0, "%s", jobs[i].err.message);
    cr_expect_eq(jobs[i].timing.stable, 0, "target_ci < 0 is never reached");
    cr_expect_geq(jobs[i].timing.rounds, 2);
    cr_expect_gt(jobs[i].timing.wall_step_s, 0.0);
    cr_expect(jobs[i].timing.median.low <= jobs[i].timing.device.median &&
              jobs[i].timing.device.median <= jobs[i].timing.median.high);
  }
  double ratio = jobs[1].timing.device.median / jobs[0].timing.device.median;
  /* Samples mixed between the jobs pull the ratio towards 1 (swapped: 1/4).
   * The upper bound is loose: a's short steps gain most from a quiet moment
   * of a loaded host (6.9x once, under ASan beside another test binary). */
  cr_expect(ratio > 2.5 && ratio < 16.0, "b does 4x the work of a: measured %.2fx", ratio);
  cr_expect_eq(jobs[2].finished, 1);
  cr_expect_eq(jobs[2].rc, CLB_E_NUMERIC);
  cr_expect(strstr(jobs[2].err.message, "job c failed on purpose") != NULL, "%s",
            jobs[2].err.message);
  cr_expect_eq(visits.max_running, 3);
  cr_expect_geq(visits.switches, 4, "rounds alternate between the jobs");
  /* After the warm-ups (a warm-up step and a probe each), b ran before a's
   * second round. */
  size_t first_a = SIZE_MAX, first_b = SIZE_MAX, second_a = SIZE_MAX;
  for (size_t i = 6; i < job_calls; i++) {
    if (job_order[i] == 'a' && first_a == SIZE_MAX)
      first_a = i;
    else if (job_order[i] == 'b' && first_b == SIZE_MAX)
      first_b = i;
    else if (job_order[i] == 'a' && first_b != SIZE_MAX && second_a == SIZE_MAX)
      second_a = i;
  }
  cr_expect(first_a < first_b && first_b < second_a, "a %zu, b %zu, a again %zu", first_a,
            first_b, second_a);
}

/* A companion (the reference step beside a set) is timed for as long as
 * the others run, past its own stopping rule, and not a round longer. The
 * cheap companion's own --max-reps (20) would stop it within a round or
 * two; the 40x heavier job needs many more rounds to get there. */
Test(measure, a_companion_runs_exactly_as_long_as_the_others) {
  if (!fx.dev)
    return;
  job_calls = 0;
  struct job_context heavy = {'h', 40 * NORMAL_ITERATIONS, 0, 0, 0};
  struct job_context cheap = {'k', NORMAL_ITERATIONS, 0, 0, 0};
  struct clb_measure_job jobs[2] = {
      {.step = job_step, .context = &heavy},
      {.step = job_step, .context = &cheap, .companion = 1},
  };
  /* Only max_reps stops the heavy job. */
  struct clb_measure_config config = budget_only(1, 30.0, 20);
  struct clb_error err = {0};
  cr_assert_eq(clb_measure_interleaved(fx.cl.queue, fx.dev->name, jobs, 2, &config, NULL, NULL,
                                       &err),
               0, "%s", err.message);
  for (int i = 0; i < 2; i++) {
    cr_expect_eq(jobs[i].finished, 1);
    cr_expect_eq(jobs[i].rc, 0, "%s", jobs[i].err.message);
  }
  size_t heavy_rounds = jobs[0].timing.rounds, cheap_rounds = jobs[1].timing.rounds;
  cr_expect_geq(heavy_rounds, 3, "a 40x heavier step needs rounds to reach 20 steps");
  cr_expect(cheap_rounds + 1 >= heavy_rounds && cheap_rounds <= heavy_rounds,
            "a round in every turn: heavy %zu, companion %zu", heavy_rounds, cheap_rounds);
  cr_expect_gt(jobs[1].timing.reps, config.max_reps, "past its own --max-reps");
  cr_expect_gt(jobs[1].timing.device.median, 0.0);
  cr_assert_lt(job_calls, MAX_CALLS);
  cr_expect_eq(job_order[job_calls - 1], 'h', "no companion round after the last other one");
}

/* Makes the companion (job 2) 4x heavier from the first turn after a job
 * has finished: the host turned slow partway through the set. */
static void slow_after_the_first_job(void *context, size_t job, size_t running) {
  struct job_context *companion = context;
  if (running < 3)
    companion->iterations = 4 * NORMAL_ITERATIONS;
}

/* Each job's companion_median_s covers the turns that job ran in: a job
 * that stopped before the host turned slow reads the fast reference, one
 * that ran on through the slow phase the slow one. */
Test(measure, a_companion_median_covers_each_jobs_own_turns) {
  if (!fx.dev)
    return;
  job_calls = 0;
  /* The late job's probe takes 20 ms, so its rounds are one step each and
   * it needs max_reps turns, however fast the device; the early job's
   * rounds of about 10 ms of steps reach max_reps in a turn or two. */
  struct job_context early = {'e', NORMAL_ITERATIONS, 0, 0, 0};
  struct job_context late = {'l', NORMAL_ITERATIONS, 0, 0, 1};
  struct job_context reference = {'k', NORMAL_ITERATIONS, 0, 0, 0};
  struct clb_measure_job jobs[3] = {
      {.step = job_step, .context = &early},
      {.step = job_step, .context = &late},
      {.step = job_step, .context = &reference, .companion = 1},
  };
  struct clb_measure_config config = budget_only(1, 30.0, 12); /* max_reps stops both */
  struct clb_error err = {0};
  cr_assert_eq(clb_measure_interleaved(fx.cl.queue, fx.dev->name, jobs, 3, &config,
                                       slow_after_the_first_job, &reference, &err),
               0, "%s", err.message);
  for (int i = 0; i < 3; i++)
    cr_assert(jobs[i].finished && jobs[i].rc == 0, "%d: %s", i, jobs[i].err.message);
  cr_expect(isnan(jobs[2].timing.companion_median_s), "the companion has none of its own");
  double fast = jobs[0].timing.companion_median_s, slow = jobs[1].timing.companion_median_s;
  double cheap_job = jobs[0].timing.device.median;
  cr_expect(fast > 0.5 * cheap_job && fast < 2.0 * cheap_job,
            "before the slow phase the reference costs what the equally cheap job does: "
            "%g against %g",
            fast, cheap_job);
  /* Mostly 4x slower; a window over the whole set would read the same for
   * both (1.0). 1.5 leaves room for a shared host's noise on the fast one. */
  cr_expect_gt(slow / fast, 1.5, "the late job's turns were mostly 4x slower: %g against %g", slow,
               fast);
}

/* A generous target is reached after the minimum rounds, and says so. */
Test(measure, a_reachable_target_stops_early_and_is_stable) {
  if (!fx.dev)
    return;
  fx.heavy_below = SIZE_MAX;
  fx.heavy_iterations = 20 * NORMAL_ITERATIONS;
  struct clb_measure_config config;
  clb_measure_defaults(&config);
  config.warmup_steps = 1;
  config.min_time_s = 0.0;
  config.max_time_s = 20.0;
  config.target_ci = 0.5; /* +-50 %: any sane device gets there at once */
  struct clb_timing timing;
  struct clb_error err = {0};
  double start = clb_now();
  cr_assert_eq(clb_measure_steps(fx.cl.queue, fx.dev->name, step, &fx, &config, &timing, &err),
               0, "%s", err.message);
  cr_expect_eq(timing.stable, 1);
  cr_expect_geq(timing.rounds, 8, "never before 8 rounds");
  cr_expect_leq(timing.median.half_width, 0.5);
  cr_expect_lt(clb_now() - start, 10.0, "stopped on the interval, not on max_time");
}
