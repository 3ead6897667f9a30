#include "sweep/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "results/passes.h"
#include "sweep/wire.h"
#include "sweep/worker.h"
#include "util/clock.h"

extern char **environ;

/* What the caller hears while the sweep runs; the sweep itself never prints. */
struct progress {
  const struct clb_sweep_listener *listener;
  size_t done, total;
  /* The workers' notes said so far: each pass's worker says the same about
   * its device, which the user needs to read once. */
  char **notes_said;
  size_t n_notes_said;
};

/* Whether a worker's note was said before; remembers it if not. Out of
 * memory only means a note may be said twice. */
static int note_said_before(struct progress *p, const char *text) {
  for (size_t i = 0; i < p->n_notes_said; i++)
    if (strcmp(p->notes_said[i], text) == 0)
      return 1;
  char **grown = realloc(p->notes_said, (p->n_notes_said + 1) * sizeof *grown);
  if (grown) {
    p->notes_said = grown;
    if ((grown[p->n_notes_said] = strdup(text)) != NULL)
      p->n_notes_said++;
  }
  return 0;
}

static void progress_destroy(struct progress *p) {
  for (size_t i = 0; i < p->n_notes_said; i++)
    free(p->notes_said[i]);
  free(p->notes_said);
}

static void report_start(const struct progress *p, const struct clb_row *row) {
  if (p->listener && p->listener->configuration)
    p->listener->configuration(p->listener->context, row, p->done, p->total);
}

static void report_timing(const struct progress *p, const struct clb_row *row, size_t running) {
  if (p->listener && p->listener->timing)
    p->listener->timing(p->listener->context, row, running, p->done, p->total);
}

static void report_note(const struct progress *p, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void report_note(const struct progress *p, const char *format, ...) {
  if (!p->listener || !p->listener->note)
    return;
  char text[1200];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof text, format, args);
  va_end(args);
  p->listener->note(p->listener->context, text);
}

static int write_row(FILE *csv, const struct clb_row *row, struct clb_sweep_stats *stats,
                     struct clb_error *err) {
  if (clb_results_write_row(csv, row, err) != 0)
    return err->code;
  stats->rows_written++;
  if (strcmp(row->status, "ok") != 0 && strcmp(row->status, "skipped") != 0)
    stats->rows_failed++;
  return 0;
}

/* What one worker process measures: a device's plan, in one repeat and one
 * pass, its rows going to `rows_path` (which it reads back to resume). */
struct worker_job {
  const char *config_path;
  const char *device_index;
  size_t repeat, pass;
  const char *rows_path;
  FILE *csv; /* rows_path, open for appending */
};

static int spawn_worker(const struct worker_job *job, int resume, int write_fd, pid_t *pid) {
  char fd_text[16], repeat_text[32], pass_text[32];
  snprintf(fd_text, sizeof fd_text, "%d", 3);
  snprintf(repeat_text, sizeof repeat_text, "%zu", job->repeat);
  snprintf(pass_text, sizeof pass_text, "%zu", job->pass);
  char *argv[] = {"clbatch",
                  "__worker",
                  "--config",
                  (char *)job->config_path,
                  "--out",
                  (char *)job->rows_path,
                  "--worker-device",
                  (char *)job->device_index,
                  "--worker-fd",
                  fd_text,
                  "--worker-repeat",
                  repeat_text,
                  "--worker-pass",
                  pass_text,
                  resume ? "--resume" : NULL,
                  NULL};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_fd, 3);
  int rc = posix_spawn(pid, "/proc/self/exe", &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

static void describe_exit(int status, char *buf, size_t size) {
  if (WIFSIGNALED(status))
    snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(status),
             strsignal(WTERMSIG(status)));
  else if (WIFEXITED(status))
    snprintf(buf, size, "exited with code %d", WEXITSTATUS(status));
  else
    snprintf(buf, size, "ended abnormally");
}

/* Closes a configuration the worker began but never finished. */
static int close_unfinished(FILE *csv, struct clb_row *row, const char *status, const char *message,
                            struct clb_sweep_stats *stats, struct clb_error *err) {
  snprintf(row->status, sizeof row->status, "%s", status);
  snprintf(row->message, sizeof row->message, "%s", message);
  return write_row(csv, row, stats, err);
}

struct device_run {
  int finished; /* the worker said DONE */
  int timed_out;
  int progressed; /* at least one row arrived from this worker */
};

/* The configurations a worker has begun, by their sequence number, and
 * which of them it is working on: when it dies, that one gets the error row
 * (the others it had begun are measured again by its successor). */
struct begun {
  struct clb_row *rows;
  unsigned char *written;
  size_t count, capacity;
  long active; /* sequence on the device now; -1 none */
};

static int begun_add(struct begun *b, uint32_t sequence, const struct clb_row *row) {
  if (sequence >= b->capacity) {
    size_t capacity = b->capacity ? b->capacity : 64;
    while (capacity <= sequence)
      capacity *= 2;
    struct clb_row *rows = realloc(b->rows, capacity * sizeof *rows);
    if (rows)
      b->rows = rows;
    unsigned char *written = rows ? realloc(b->written, capacity) : NULL;
    if (!rows || !written)
      return CLB_E_NOMEM;
    memset(written + b->capacity, 0, capacity - b->capacity);
    b->written = written;
    b->capacity = capacity;
  }
  b->rows[sequence] = *row;
  if (sequence >= b->count)
    b->count = sequence + 1;
  b->active = sequence;
  return 0;
}

static const struct clb_row *begun_unwritten_active(const struct begun *b) {
  if (b->active < 0 || (size_t)b->active >= b->count || b->written[b->active])
    return NULL;
  return &b->rows[b->active];
}

static void begun_destroy(struct begun *b) {
  free(b->rows);
  free(b->written);
}

/* Acts on one message of the worker; nonzero only when the CSV cannot be written. */
static int handle_message(const struct clb_wire *message, struct begun *begun, FILE *csv,
                          struct progress *progress, struct clb_sweep_stats *stats,
                          struct device_run *run, struct clb_error *err) {
  switch (message->kind) {
  case CLB_WIRE_BEGIN:
    if (begun_add(begun, message->sequence, &message->row) != 0)
      return clb_failf(err, CLB_E_NOMEM, "out of host memory following a worker");
    report_start(progress, &message->row);
    return 0;
  case CLB_WIRE_ACTIVE:
    if (message->sequence < begun->count) {
      begun->active = message->sequence;
      report_timing(progress, &begun->rows[message->sequence], message->running);
    }
    return 0;
  case CLB_WIRE_ROW:
    if (message->sequence < begun->count)
      begun->written[message->sequence] = 1;
    run->progressed = 1;
    progress->done++;
    return write_row(csv, &message->row, stats, err);
  case CLB_WIRE_LOG:
    if (!note_said_before(progress, message->text))
      report_note(progress, "%s", message->text);
    return 0;
  case CLB_WIRE_DONE:
    run->finished = 1;
    return 0;
  default:
    return 0;
  }
}

/* One worker's life: read its messages until it ends or the deadline passes. */
static int follow_worker(const struct clb_plan *plan, const struct worker_job *job, int resume,
                         double deadline, struct progress *progress, struct clb_sweep_stats *stats,
                         struct device_run *run, struct clb_error *err) {
  const char *device_index = job->device_index;
  FILE *csv = job->csv;
  int fds[2];
  pid_t pid = 0;
  int rc = 0;
  struct clb_wire *message = calloc(1, sizeof *message);
  struct begun begun = {.active = -1};
  if (!message || pipe(fds) != 0) {
    free(message);
    return clb_failf(err, CLB_E_IO, "cannot create the worker pipe: %s", strerror(errno));
  }
  /* The worker must not inherit the read end: holding it, a worker whose
   * parent died would block forever on a full pipe instead of getting EPIPE. */
  (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  if (spawn_worker(job, resume, fds[1], &pid) != 0) {
    close(fds[0]);
    close(fds[1]);
    free(message);
    return clb_failf(err, CLB_E_CHILD, "cannot start a worker for device %s", device_index);
  }
  close(fds[1]);
  for (;;) {
    double left = deadline - clb_now();
    if (plan->timeout_s > 0 && left <= 0) {
      kill(pid, SIGKILL);
      run->timed_out = 1;
      break;
    }
    struct pollfd poll_fd = {fds[0], POLLIN, 0};
    int timeout_ms = plan->timeout_s > 0 ? (int)(left * 1000) + 1 : 1000;
    int ready = poll(&poll_fd, 1, timeout_ms);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready == 0)
      continue; /* the loop checks the deadline */
    if (clb_wire_recv(fds[0], message) <= 0)
      break; /* end of stream (the worker ended) or a torn message (it died mid-write) */
    if ((rc = handle_message(message, &begun, csv, progress, stats, run, err)) != 0)
      break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  const struct clb_row *unfinished = begun_unwritten_active(&begun);
  if (rc == 0 && unfinished) {
    char how[128], text[CLB_STR_FIELD_SIZE];
    struct clb_row row = *unfinished;
    describe_exit(status, how, sizeof how);
    if (run->timed_out)
      snprintf(text, sizeof text,
               "device %s hung: --timeout %.0f s ran out during this configuration; the "
               "rest of the device's plan was not run",
               device_index, plan->timeout_s);
    else
      snprintf(text, sizeof text, "the worker for device %s %s during this configuration",
               device_index, how);
    rc = close_unfinished(csv, &row, run->timed_out ? "timeout" : "error", text, stats, err);
    progress->done++;
    run->progressed = 1;
  } else if (rc == 0 && !run->finished && !run->timed_out) {
    char how[128];
    describe_exit(status, how, sizeof how);
    report_note(progress, "the worker for device %s %s", device_index, how);
  }
  begun_destroy(&begun);
  free(message);
  return rc;
}

/* One repeat (and pass) of the plan on one device: its worker, restarted
 * after a crash to finish what is left, as long as each one makes progress. */
static int run_device(const struct clb_plan *plan, struct worker_job job,
                      const struct clb_device_info *device, struct progress *progress,
                      struct clb_sweep_stats *stats, struct clb_error *err) {
  char index[32];
  clb_device_id_string(device, index, sizeof index);
  job.device_index = index;
  double deadline = clb_now() + plan->timeout_s;
  int resume = plan->resume;
  for (int attempt = 0; attempt < 1000; attempt++) {
    struct device_run run = {0};
    int rc = follow_worker(plan, &job, resume, deadline, progress, stats, &run, err);
    if (rc != 0)
      return rc;
    if (run.timed_out) {
      stats->devices_timed_out++;
      report_note(progress, "device %s (%s) cut off after --timeout %.0f s", index, device->name,
                  plan->timeout_s);
      return 0;
    }
    if (run.finished)
      return 0;
    if (!run.progressed) {
      /* It ended without a row or its DONE: the device's plan is unfinished. */
      stats->devices_failed++;
      return 0;
    }
    resume = 1;
  }
  return 0;
}

/* "1: 0.79, 2: 1.02, 3: 1.00 (left out)": each pass's speed (its step times
 * over the typical pass's), for the notes said when a device's passes
 * disagree. */
static void describe_speeds(const struct clb_pass_choice *choice, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t p = 0; p < choice->passes && used + 1 < size; p++) {
    int n = snprintf(buf + used, size - used, "%s%zu: %.2f%s", p ? ", " : "", p + 1,
                     choice->speed[p], choice->keep[p] ? "" : " (left out)");
    used += n > 0 ? (size_t)n : 0;
  }
}

/* After the P passes of one device: while its passes ran at host speeds
 * more than --drift-limit apart and the largest group that agrees is
 * smaller than P, one more pass, up to P more. A slow phase of a shared
 * host lasts a minute or two; the extra passes give the device a chance to
 * be measured outside it, and the rows keep the group that agrees. */
static int resolve_drift(const struct clb_plan *plan, struct worker_job job,
                         const struct clb_device_info *device, struct progress *progress,
                         struct clb_sweep_stats *stats, struct clb_error *err) {
  char index[32], speeds[1024];
  clb_device_id_string(device, index, sizeof index);
  struct clb_pass_choice *choice = malloc(sizeof *choice);
  if (!choice)
    return clb_failf(err, CLB_E_NOMEM, "out of memory");
  int rc = 0;
  size_t per_pass = plan->model_count * plan->precision_count * plan->batch_count;
  for (job.pass = plan->passes + 1; job.pass <= 2 * plan->passes; job.pass++) {
    if ((rc = clb_passes_device_choice(plan->out_path, job.repeat, index, &plan->passes_rule,
                                       choice, err)) != 0)
      break;
    if (!choice->drift || choice->agreeing >= plan->passes)
      break;
    describe_speeds(choice, speeds, sizeof speeds);
    report_note(progress,
                "device %s (%s): its passes ran at different host speeds (step time over "
                "the typical pass: %s); measuring pass %zu of at most %zu",
                index, device->name, speeds, job.pass, 2 * plan->passes);
    progress->total += per_pass;
    if ((rc = run_device(plan, job, device, progress, stats, err)) != 0)
      break;
  }
  if (rc == 0 && job.pass > plan->passes + 1 &&
      clb_passes_device_choice(plan->out_path, job.repeat, index, &plan->passes_rule, choice,
                               err) == 0) {
    describe_speeds(choice, speeds, sizeof speeds);
    report_note(progress, "device %s (%s): rows combine %zu of %zu passes (speeds %s)%s", index,
                device->name, choice->kept, choice->passes, speeds,
                choice->faster_left_out ? "; a faster pass was left out, so its rows are "
                                          "flagged unstable"
                                        : "");
  }
  free(choice);
  return rc;
}

/* One repeat with --passes P: every device measures the plan P times (pass 1
 * on every device, then pass 2, ...: a slow phase of the machine hits one
 * pass, not one configuration), the rows going to the passes file; then each
 * configuration's combined row goes to the results. */
static int run_passes(const struct clb_plan *plan, struct worker_job job,
                      const struct clb_device_list *devices, FILE *csv, struct progress *progress,
                      struct clb_sweep_stats *stats, struct clb_error *err) {
  /* A pass's rows are the combined row's data, not results of their own:
   * only the combined rows count as written or failed. */
  size_t written = stats->rows_written, failed = stats->rows_failed;
  int rc = 0;
  for (job.pass = 1; rc == 0 && job.pass <= plan->passes; job.pass++)
    for (size_t i = 0; rc == 0 && i < devices->count; i++)
      rc = run_device(plan, job, &devices->items[i], progress, stats, err);
  for (size_t i = 0; rc == 0 && i < devices->count; i++)
    rc = resolve_drift(plan, job, &devices->items[i], progress, stats, err);
  if (rc != 0)
    return rc;
  stats->rows_written = written;
  stats->rows_failed = failed;
  struct clb_row *combined = NULL;
  size_t n = 0;
  rc = clb_passes_combined_rows(plan->out_path, job.repeat, &plan->passes_rule, &combined, &n, err);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = write_row(csv, &combined[i], stats, err);
  free(combined);
  return rc;
}

int clb_sweep_run(const struct clb_plan *plan, const char *config_path,
                  const struct clb_device_list *devices, FILE *csv, FILE *passes_csv,
                  const struct clb_sweep_listener *listener, struct clb_sweep_stats *stats,
                  struct clb_error *err) {
  struct progress progress = {listener, 0, 0, NULL, 0};
  memset(stats, 0, sizeof *stats);
  size_t repeats = plan->repeat ? plan->repeat : 1;
  size_t passes = plan->passes > 1 ? plan->passes : 1;
  char passes_path[1100];
  clb_passes_path(plan->out_path, passes_path, sizeof passes_path);
  progress.total = repeats * passes * devices->count * plan->model_count * plan->precision_count *
                   plan->batch_count;
  int rc = 0;
  for (size_t repeat = 1; repeat <= repeats && rc == 0; repeat++) {
    struct worker_job job = {config_path, NULL, repeat, 1, plan->out_path, csv};
    if (passes > 1) {
      job.rows_path = passes_path;
      job.csv = passes_csv;
      rc = run_passes(plan, job, devices, csv, &progress, stats, err);
      continue;
    }
    for (size_t i = 0; i < devices->count && rc == 0; i++)
      rc = run_device(plan, job, &devices->items[i], &progress, stats, err);
  }
  progress_destroy(&progress);
  return rc;
}
