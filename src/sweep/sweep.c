#include "sweep/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep/wire.h"
#include "sweep/worker.h"
#include "util/clock.h"

extern char **environ;

/* What the caller hears while the sweep runs; the sweep itself never prints. */
struct progress {
  const struct clb_sweep_listener *listener;
  size_t done, total;
};

static void report_start(const struct progress *p, const struct clb_row *row) {
  if (p->listener && p->listener->configuration)
    p->listener->configuration(p->listener->context, row, p->done, p->total);
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

static int spawn_worker(const char *config_path, const struct clb_plan *plan,
                        const char *device_index, int resume, int write_fd, pid_t *pid) {
  char fd_text[16];
  snprintf(fd_text, sizeof fd_text, "%d", 3);
  char *argv[] = {"clbatch",
                  "__worker",
                  "--config",
                  (char *)config_path,
                  "--out",
                  (char *)plan->out_path,
                  "--worker-device",
                  (char *)device_index,
                  "--worker-fd",
                  fd_text,
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
static int close_unfinished(FILE *csv, struct clb_row *row, const char *status,
                            const char *message, struct clb_sweep_stats *stats,
                            struct clb_error *err) {
  snprintf(row->status, sizeof row->status, "%s", status);
  snprintf(row->message, sizeof row->message, "%s", message);
  return write_row(csv, row, stats, err);
}

struct device_run {
  int finished;  /* the worker said DONE */
  int timed_out;
  int progressed; /* at least one row arrived from this worker */
};

/* One worker's life: read its messages until it ends or the deadline passes. */
static int follow_worker(const struct clb_plan *plan, const char *config_path,
                         const char *device_index, int resume, double deadline, FILE *csv,
                         struct progress *progress, struct clb_sweep_stats *stats,
                         struct device_run *run, struct clb_error *err) {
  int fds[2];
  pid_t pid = 0;
  int rc = 0;
  struct clb_wire *message = calloc(1, sizeof *message);
  struct clb_row *current = calloc(1, sizeof *current);
  int has_current = 0;
  if (!message || !current || pipe(fds) != 0) {
    free(message);
    free(current);
    return clb_failf(err, CLB_E_IO, "cannot create the worker pipe: %s", strerror(errno));
  }
  /* The worker must not inherit the read end: holding it, a worker whose
   * parent died would block forever on a full pipe instead of getting EPIPE. */
  (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  if (spawn_worker(config_path, plan, device_index, resume, fds[1], &pid) != 0) {
    close(fds[0]);
    close(fds[1]);
    free(message);
    free(current);
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
    int got = clb_wire_recv(fds[0], message);
    if (got <= 0)
      break; /* end of stream (the worker ended) or a torn message (it died mid-write) */
    switch (message->kind) {
    case CLB_WIRE_BEGIN:
      *current = message->row;
      has_current = 1;
      report_start(progress, current);
      break;
    case CLB_WIRE_ROW:
      has_current = 0;
      run->progressed = 1;
      progress->done++;
      if ((rc = write_row(csv, &message->row, stats, err)) != 0)
        goto cleanup;
      break;
    case CLB_WIRE_LOG:
      report_note(progress, "%s", message->text);
      break;
    case CLB_WIRE_DONE:
      run->finished = 1;
      break;
    default:
      break;
    }
  }
cleanup:
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (rc == 0 && has_current) {
    char how[128], text[CLB_STR_FIELD_SIZE];
    describe_exit(status, how, sizeof how);
    if (run->timed_out)
      snprintf(text, sizeof text,
               "device %s hung: --timeout %.0f s ran out during this configuration; the "
               "rest of the device's plan was not run",
               device_index, plan->timeout_s);
    else
      snprintf(text, sizeof text, "the worker for device %s %s during this configuration",
               device_index, how);
    rc = close_unfinished(csv, current, run->timed_out ? "timeout" : "error", text, stats, err);
    progress->done++;
    run->progressed = 1;
  } else if (!run->finished && !run->timed_out) {
    char how[128];
    describe_exit(status, how, sizeof how);
    report_note(progress, "the worker for device %s %s", device_index, how);
  }
  free(message);
  free(current);
  return rc;
}

int clb_sweep_run(const struct clb_plan *plan, const char *config_path,
                  const struct clb_device_list *devices, FILE *csv,
                  const struct clb_sweep_listener *listener, struct clb_sweep_stats *stats,
                  struct clb_error *err) {
  struct progress progress = {listener, 0, 0};
  memset(stats, 0, sizeof *stats);
  progress.total =
      devices->count * plan->model_count * plan->precision_count * plan->batch_count;
  for (size_t i = 0; i < devices->count; i++) {
    char index[32];
    clb_device_id_string(&devices->items[i], index, sizeof index);
    double deadline = clb_now() + plan->timeout_s;
    int resume = plan->resume;
    /* A worker that crashes is restarted to finish the device's plan, skipping
     * what is written (its crash row included), as long as it makes progress. */
    for (int attempt = 0; attempt < 1000; attempt++) {
      struct device_run run = {0};
      int rc = follow_worker(plan, config_path, index, resume, deadline, csv, &progress, stats,
                             &run, err);
      if (rc != 0)
        return rc;
      if (run.timed_out) {
        stats->devices_timed_out++;
        report_note(&progress, "device %s (%s) cut off after --timeout %.0f s", index,
                    devices->items[i].name, plan->timeout_s);
        break;
      }
      if (run.finished)
        break;
      if (!run.progressed) {
        /* It ended without a row or its DONE: the device's plan is unfinished. */
        stats->devices_failed++;
        break;
      }
      resume = 1;
    }
  }
  return 0;
}
