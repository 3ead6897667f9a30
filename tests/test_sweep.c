/* The pipe between `clbatch run` and its workers (src/sweep/wire.c) and the
 * worker itself (src/sweep/worker.c), run in a forked child on the test
 * device while the test reads its messages as the sweep's parent does. */
#include <criterion/criterion.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cl/platform.h"
#include "helpers.h"
#include "results/results.h"
#include "sweep/plan.h"
#include "sweep/wire.h"
#include "sweep/worker.h"

static struct clb_wire *new_message(uint32_t kind, const char *text, double batch) {
  struct clb_wire *m = calloc(1, sizeof *m);
  cr_assert_not_null(m);
  m->kind = kind;
  snprintf(m->text, sizeof m->text, "%s", text);
  clb_row_init(&m->row);
  m->row.batch = batch;
  snprintf(m->row.device, sizeof m->row.device, "device, \"quoted\"");
  snprintf(m->row.status, sizeof m->row.status, "ok");
  return m;
}

/* ---- wire ----------------------------------------------------------------- */

Test(wire, messages_arrive_whole_and_in_order_then_the_end) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  struct clb_wire *a = new_message(CLB_WIRE_BEGIN, "first", 4);
  struct clb_wire *b = new_message(CLB_WIRE_LOG, "a note for the user", NAN);
  /* Two messages fit in the pipe, so one process can write and then read. */
  cr_assert_lt(2 * sizeof *a, 65536);
  cr_assert_eq(clb_wire_send(fds[1], a), 0);
  cr_assert_eq(clb_wire_send(fds[1], b), 0);
  close(fds[1]);
  struct clb_wire *got = calloc(1, sizeof *got);
  cr_assert_eq(clb_wire_recv(fds[0], got), 1);
  cr_expect_eq(got->kind, CLB_WIRE_BEGIN);
  cr_expect_eq(memcmp(&got->row, &a->row, sizeof a->row), 0, "the row changed on the way");
  cr_assert_eq(clb_wire_recv(fds[0], got), 1);
  cr_expect_eq(got->kind, CLB_WIRE_LOG);
  cr_expect_str_eq(got->text, "a note for the user"); /* a LOG carries no row */
  cr_expect_eq(clb_wire_recv(fds[0], got), 0, "end of stream");
  cr_expect_eq(clb_wire_recv(fds[0], got), 0, "and it stays the end");
  close(fds[0]);
  free(got);
  free(a);
  free(b);
}

Test(wire, an_empty_stream_is_the_end_at_once) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  close(fds[1]);
  struct clb_wire *got = calloc(1, sizeof *got);
  cr_expect_eq(clb_wire_recv(fds[0], got), 0);
  close(fds[0]);
  free(got);
}

/* A writer that dies mid-message leaves a torn message: an error, not a
 * message and not a clean end. */
Test(wire, a_torn_message_is_an_error) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  struct clb_wire *m = new_message(CLB_WIRE_ROW, "", 8);
  cr_assert_eq(clb_wire_send(fds[1], m), 0);
  cr_assert_eq(write(fds[1], m, sizeof *m / 2), (ssize_t)(sizeof *m / 2));
  close(fds[1]);
  struct clb_wire *got = calloc(1, sizeof *got);
  cr_expect_eq(clb_wire_recv(fds[0], got), 1, "the whole first message");
  cr_expect_lt(clb_wire_recv(fds[0], got), 0, "half a message must be an error");
  close(fds[0]);

  /* Even a single byte of a message is torn. */
  cr_assert_eq(pipe(fds), 0);
  cr_assert_eq(write(fds[1], "x", 1), 1);
  close(fds[1]);
  cr_expect_lt(clb_wire_recv(fds[0], got), 0);
  close(fds[0]);
  free(got);
  free(m);
}

/* A message written in pieces, with pauses (a slow writer, a full pipe), is
 * read back whole. */
Test(wire, a_message_written_in_pieces_is_reassembled) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  struct clb_wire *m = new_message(CLB_WIRE_ROW, "pieces", 64);
  m->sequence = 7;
  /* What clb_wire_send writes for a row: the header, then the row. */
  const size_t header = offsetof(struct clb_wire, text), size = header + sizeof m->row;
  char *framed = malloc(size);
  cr_assert_not_null(framed);
  memcpy(framed, m, header);
  memcpy(framed + header, &m->row, sizeof m->row);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    size_t piece = size / 3 + 1;
    for (size_t done = 0; done < size; done += piece) {
      size_t n = size - done < piece ? size - done : piece;
      if (write(fds[1], framed + done, n) != (ssize_t)n)
        _exit(1);
      usleep(20000);
    }
    _exit(0);
  }
  close(fds[1]);
  free(framed);
  struct clb_wire *got = calloc(1, sizeof *got);
  cr_expect_eq(clb_wire_recv(fds[0], got), 1);
  cr_expect_eq(got->kind, CLB_WIRE_ROW);
  cr_expect_eq(got->sequence, 7);
  cr_expect_eq(memcmp(&got->row, &m->row, sizeof m->row), 0);
  cr_expect_eq(clb_wire_recv(fds[0], got), 0);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  free(got);
  free(m);
}

Test(wire, sending_to_a_closed_pipe_or_reading_a_bad_fd_fails) {
  signal(SIGPIPE, SIG_IGN);
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  close(fds[0]);
  struct clb_wire *m = new_message(CLB_WIRE_DONE, "", NAN);
  cr_expect_eq(clb_wire_send(fds[1], m), CLB_E_IO);
  close(fds[1]);
  cr_expect_eq(clb_wire_recv(fds[1], m), CLB_E_IO, "a closed descriptor");
  free(m);
}

/* ---- worker --------------------------------------------------------------- */

/* The plan of the brief: one model, two batch sizes, quick timing, noise on. */
static void tiny_plan(struct clb_plan *plan, const char *precision, const char *out_path) {
  static const char *const settings[][2] = {
      {"model", "softmax"}, {"batch", "4,16"}, {"noise-batches", "4"}, {"min-time", "0.005"},
      {"max-time", "0.03"}, {"warmup", "1"},   {"samples", "64"},      {"features", "4"},
      {"hidden", "8"},      {"classes", "3"},  {"timeout", "0"},
  };
  struct clb_error err = {0};
  clb_plan_defaults(plan);
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
    cr_assert_eq(clb_plan_set(plan, settings[i][0], settings[i][1], &err), 0, "%s: %s",
                 settings[i][0], err.message);
  cr_assert_eq(clb_plan_set(plan, "precision", precision, &err), 0, "%s", err.message);
  cr_assert_eq(clb_plan_set(plan, "out", out_path, &err), 0, "%s", err.message);
  cr_assert_eq(clb_plan_finish(plan, 64, &err), 0, "%s", err.message);
  cr_assert_eq(plan->batch_count, 2);
}

struct worker_run {
  struct clb_wire *messages; /* every message but LOG and ACTIVE, in order */
  size_t count;
  size_t actives;     /* ACTIVE messages (one per round) */
  int active_unknown; /* an ACTIVE named a configuration not begun */
  char logs[8192];    /* LOG texts, one per line */
  int last_recv;      /* what ended the stream: 0 (its end) or an error */
  int exit_code;      /* -1 when the child did not exit normally */
};

/* Runs clb_worker_run in a forked child, reading its pipe while it runs:
 * messages are larger than a page, and a full pipe would block the child.
 * This process must not have loaded an OpenCL driver (see
 * clb_test_require_device_unloaded). A child that takes longer than
 * `limit_s` is killed and the test fails; one whose test process dies (a
 * Criterion timeout) dies with it. */
static void run_worker(const struct clb_plan *plan, const char *device, struct worker_run *run) {
  const double limit_s = 120;
  memset(run, 0, sizeof *run);
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  fflush(NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(CLB_WORKER_FAILED);
    _exit(clb_worker_run(plan, device, 1, 1, fds[1]));
  }
  close(fds[1]);
  size_t cap = 8;
  run->messages = calloc(cap, sizeof *run->messages);
  struct clb_wire *m = calloc(1, sizeof *m);
  cr_assert(run->messages && m);
  double deadline = clb_test_now() + limit_s;
  for (;;) {
    struct pollfd ready = {fds[0], POLLIN, 0};
    double left = deadline - clb_test_now();
    if (left <= 0 || poll(&ready, 1, (int)(left * 1000) + 1) == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      cr_assert_fail("the worker on %s took more than %.0f s; logs:\n%s", device, limit_s,
                     run->logs);
    }
    int got = clb_wire_recv(fds[0], m);
    if (got <= 0) {
      run->last_recv = got;
      break;
    }
    if (m->kind == CLB_WIRE_LOG) {
      size_t len = strlen(run->logs);
      snprintf(run->logs + len, sizeof run->logs - len, "%s\n", m->text);
      continue;
    }
    if (m->kind == CLB_WIRE_ACTIVE) {
      int begun = 0;
      for (size_t i = 0; i < run->count; i++)
        begun |=
            run->messages[i].kind == CLB_WIRE_BEGIN && run->messages[i].sequence == m->sequence;
      run->active_unknown |= !begun;
      run->actives++;
      continue;
    }
    if (run->count == cap) {
      run->messages = realloc(run->messages, (cap *= 2) * sizeof *run->messages);
      cr_assert_not_null(run->messages);
    }
    run->messages[run->count++] = *m;
  }
  close(fds[0]);
  free(m);
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  run->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The kinds of the messages, e.g. "BRBRD". */
static void kinds(const struct worker_run *run, char *buf, size_t size) {
  size_t n = 0;
  for (size_t i = 0; i < run->count && n + 1 < size; i++)
    buf[n++] = run->messages[i].kind == CLB_WIRE_BEGIN  ? 'B'
               : run->messages[i].kind == CLB_WIRE_ROW  ? 'R'
               : run->messages[i].kind == CLB_WIRE_DONE ? 'D'
                                                        : '?';
  buf[n] = '\0';
}

/* The columns that name a configuration, as the worker fills them. */
static void expect_identity(const struct clb_row *row, const char *device, double batch,
                            const char *precision) {
  cr_expect_eq(row->schema, CLB_SCHEMA_VERSION);
  cr_expect_str_eq(row->clbatch_version, CLBATCH_VERSION);
  cr_expect_neq(row->timestamp[0], '\0');
  cr_expect_eq(strlen(row->timestamp), strlen("2026-01-02T03:04:05Z"), "%s", row->timestamp);
  cr_expect_neq(row->host[0], '\0');
  cr_expect_neq(row->platform[0], '\0');
  cr_expect_neq(row->device[0], '\0');
  cr_expect_str_eq(row->device_index, device);
  cr_expect_neq(row->device_type[0], '\0');
  cr_expect_str_eq(row->model, "softmax");
  cr_expect_str_eq(row->precision, precision);
  cr_expect_eq(row->batch, batch);
  cr_expect_eq(row->n_samples, 64);
  cr_expect_eq(row->n_features, 4);
  cr_expect_eq(row->n_hidden, 0, "softmax has no hidden layer");
  cr_expect_eq(row->n_classes, 3);
  cr_expect_str_eq(row->data_on, "device");
  cr_expect_eq(row->steps_per_epoch, 64 / batch);
  cr_expect(row->compute_units >= 1);
  cr_expect(row->global_mem_bytes > 0);
}

static void free_run(struct worker_run *run) {
  free(run->messages);
}

/* The timing columns of an ok row, schema 2's interval included. */
static void expect_timing(const struct clb_row *row, double batch) {
  cr_expect_str_eq(row->status, "ok", "B=%g: %s", batch, row->message);
  cr_expect(row->step_s_median > 0 && isfinite(row->step_s_median), "B=%g", batch);
  cr_expect(row->step_s_min > 0 && row->step_s_min <= row->step_s_median);
  cr_expect(row->step_s_ci_low <= row->step_s_median && row->step_s_median <= row->step_s_ci_high,
            "B=%g: median %g outside its interval [%g, %g]", batch, row->step_s_median,
            row->step_s_ci_low, row->step_s_ci_high);
  cr_expect(row->step_s_ci_low >= row->step_s_min);
  cr_expect(row->step_rmad >= 0 && isfinite(row->step_rmad));
  cr_expect(row->rounds >= 2, "B=%g: %g rounds", batch, row->rounds);
  cr_expect(row->stable == 0 || row->stable == 1);
  cr_expect_eq(row->repeat, 1);
  cr_expect(row->wall_step_s > 0);
  cr_expect(row->reps >= row->rounds);
  cr_expect(fabs(row->samples_per_s - batch / row->step_s_median) <= 1e-9 * row->samples_per_s);
  cr_expect(row->gflops > 0 && row->device_bytes > 0 && row->host_rss_bytes > 0);
  cr_expect(!strcmp(row->timer, "events") || !strcmp(row->timer, "wall"), "%s", row->timer);
  cr_expect_str_eq(row->sampling, "without_replacement");
  cr_expect(row->sigma2 > 0 && row->var_measured > 0 && row->var_predicted > 0,
            "B=%g: the noise was measured", batch);
  cr_expect_eq(row->noise_batches, 4);
  cr_expect_eq(row->tuned, clb_test_untuned_source(), "nothing tuned");
  /* The gather, two GEMMs and the bias GEMV (direct at these sizes, one
   * kernel each), the loss kernel and the update. */
  cr_expect_eq(row->kernels_per_step, 6, "B=%g: %g kernels", batch, row->kernels_per_step);
  cr_expect(row->launch_floor_s > 0 && row->launch_floor_s < row->step_s_median * 100, "%g",
            row->launch_floor_s);
}

/* Interleaved (the default): both configurations are set up, timed in turns
 * (an ACTIVE message per round names the one on the device), then their
 * rows come, then DONE. */
Test(worker, times_the_configurations_in_turns_and_says_done, .timeout = 180) {
  if (!clb_test_require_device_unloaded())
    return;
  const char *device = clb_test_device_spec();
  char *dir = clb_test_tmpdir();
  char out[4200];
  snprintf(out, sizeof out, "%s/r.csv", dir);
  struct clb_plan *plan = malloc(sizeof *plan);
  tiny_plan(plan, "fp32", out);
  struct worker_run run;
  run_worker(plan, device, &run);
  char seq[64];
  kinds(&run, seq, sizeof seq);
  cr_expect_str_eq(seq, "BBRRD", "two BEGINs, two ROWs, then DONE; logs:\n%s", run.logs);
  cr_expect_eq(run.exit_code, CLB_WORKER_OK, "logs:\n%s", run.logs);
  cr_expect_eq(run.last_recv, 0, "the stream ends cleanly");
  cr_expect_geq(run.actives, 4, "rounds of both configurations were announced");
  cr_expect_eq(run.active_unknown, 0, "every ACTIVE names a configuration begun");
  cr_expect(strstr(run.logs, "timing 2 configurations in turns") != NULL, "%s", run.logs);
  static const double batches[] = {4, 16};
  for (size_t k = 0; k < 2 && k + 2 < run.count; k++) {
    const struct clb_row *begin = &run.messages[k].row, *row = &run.messages[2 + k].row;
    cr_expect_eq(run.messages[k].sequence, k);
    cr_expect_eq(run.messages[2 + k].sequence, k, "a row carries its BEGIN's number");
    expect_identity(begin, device, batches[k], "fp32");
    cr_expect_str_eq(begin->status, "", "a BEGIN row is not finished");
    cr_expect(isnan(begin->step_s_median));
    expect_identity(row, device, batches[k], "fp32");
    expect_timing(row, batches[k]);
  }
  free_run(&run);
  free(plan);
  clb_test_remove_tmpdir(dir);
}

Test(worker, without_interleaving_measures_one_configuration_after_the_other, .timeout = 180) {
  if (!clb_test_require_device_unloaded())
    return;
  const char *device = clb_test_device_spec();
  char *dir = clb_test_tmpdir();
  char out[4200];
  snprintf(out, sizeof out, "%s/r.csv", dir);
  struct clb_plan *plan = malloc(sizeof *plan);
  tiny_plan(plan, "fp32", out);
  struct clb_error err = {0};
  cr_assert_eq(clb_plan_set(plan, "no-interleave", "yes", &err), 0, "%s", err.message);
  struct worker_run run;
  run_worker(plan, device, &run);
  char seq[64];
  kinds(&run, seq, sizeof seq);
  cr_expect_str_eq(seq, "BRBRD", "BEGIN and ROW per configuration, then DONE; logs:\n%s", run.logs);
  cr_expect_eq(run.exit_code, CLB_WORKER_OK, "logs:\n%s", run.logs);
  static const double batches[] = {4, 16};
  for (size_t k = 0; k < 2 && 2 * k + 1 < run.count; k++)
    expect_timing(&run.messages[2 * k + 1].row, batches[k]);
  free_run(&run);
  free(plan);
  clb_test_remove_tmpdir(dir);
}

/* With resume, a configuration the results file already holds is skipped:
 * neither begun nor measured again. */
Test(worker, resume_skips_what_the_results_file_holds, .timeout = 180) {
  if (!clb_test_require_device_unloaded())
    return;
  const char *device = clb_test_device_spec();
  char *dir = clb_test_tmpdir();
  char out[4200];
  snprintf(out, sizeof out, "%s/r.csv", dir);
  struct clb_plan *plan = malloc(sizeof *plan);
  tiny_plan(plan, "fp32", out);
  struct worker_run first;
  run_worker(plan, device, &first);
  char seq[64];
  kinds(&first, seq, sizeof seq);
  cr_assert_str_eq(seq, "BBRRD", "logs:\n%s", first.logs);

  /* The file holds the row of B = 4 only, as an interrupted run leaves it. */
  FILE *csv = fopen(out, "w");
  cr_assert_not_null(csv);
  cr_assert_eq(clb_results_write_header(csv, NULL), 0);
  cr_assert_eq(first.messages[2].row.batch, 4);
  cr_assert_eq(clb_results_write_row(csv, &first.messages[2].row, NULL), 0);
  fclose(csv);

  struct clb_error err = {0};
  cr_assert_eq(clb_plan_set(plan, "resume", "yes", &err), 0, "%s", err.message);
  struct worker_run second;
  run_worker(plan, device, &second);
  kinds(&second, seq, sizeof seq);
  cr_expect_str_eq(seq, "BRD", "only B = 16 is measured; logs:\n%s", second.logs);
  cr_expect_eq(second.exit_code, CLB_WORKER_OK);
  if (second.count == 3) {
    cr_expect_eq(second.messages[0].row.batch, 16);
    cr_expect_eq(second.messages[1].row.batch, 16);
    cr_expect_str_eq(second.messages[1].row.status, "ok", "%s", second.messages[1].row.message);
  }

  /* Without resume the same file changes nothing: both are measured. */
  cr_assert_eq(clb_plan_set(plan, "resume", "no", &err), 0, "%s", err.message);
  struct worker_run third;
  run_worker(plan, device, &third);
  kinds(&third, seq, sizeof seq);
  cr_expect_str_eq(seq, "BBRRD");
  free_run(&first);
  free_run(&second);
  free_run(&third);
  free(plan);
  clb_test_remove_tmpdir(dir);
}

/* A precision device `spec` lacks, and clb_device_check_precision's reason,
 * found in a child so this process loads no OpenCL driver; NULL when it has
 * every precision. */
static const char *lacking_precision(const char *spec, char *why, size_t size) {
  struct {
    int lacking; /* -1: none */
    char why[256];
  } answer = {-1, ""};
  int fds[2];
  cr_assert_eq(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    struct clb_device_list list = {0};
    struct clb_error err = {0};
    if (clb_platform_list(&list, &err) == 0)
      for (size_t i = 0; i < list.count; i++) {
        char id[32];
        clb_device_id_string(&list.items[i], id, sizeof id);
        if (strcmp(id, spec) != 0)
          continue;
        if (clb_device_check_precision(&list.items[i], CLB_FP16, answer.why, sizeof answer.why))
          answer.lacking = CLB_FP16;
        else if (clb_device_check_precision(&list.items[i], CLB_FP64, answer.why,
                                            sizeof answer.why))
          answer.lacking = CLB_FP64;
      }
    _exit(write(fds[1], &answer, sizeof answer) == (ssize_t)sizeof answer ? 0 : 1);
  }
  close(fds[1]);
  ssize_t got = read(fds[0], &answer, sizeof answer);
  close(fds[0]);
  waitpid(pid, NULL, 0);
  cr_assert_eq(got, (ssize_t)sizeof answer, "the child that checks precisions failed");
  snprintf(why, size, "%s", answer.why);
  return answer.lacking < 0 ? NULL : clb_precision_name((enum clb_precision)answer.lacking);
}

/* A precision the device lacks gives `skipped` rows that say why, and the
 * worker still finishes its plan. */
Test(worker, an_unsupported_precision_gives_skipped_rows_with_the_reason, .timeout = 180) {
  if (!clb_test_require_device_unloaded())
    return;
  const char *device = clb_test_device_spec();
  char why[256] = "";
  const char *lacking = lacking_precision(device, why, sizeof why);
  if (!lacking)
    cr_skip("the test device supports every precision");
  char *dir = clb_test_tmpdir();
  char out[4200];
  snprintf(out, sizeof out, "%s/r.csv", dir);
  struct clb_plan *plan = malloc(sizeof *plan);
  tiny_plan(plan, lacking, out);
  struct worker_run run;
  run_worker(plan, device, &run);
  char seq[64];
  kinds(&run, seq, sizeof seq);
  cr_expect_str_eq(seq, "BRBRD", "logs:\n%s", run.logs);
  cr_expect_eq(run.exit_code, CLB_WORKER_OK);
  for (size_t i = 1; i < run.count; i += 2) {
    const struct clb_row *row = &run.messages[i].row;
    if (run.messages[i].kind != CLB_WIRE_ROW)
      continue;
    expect_identity(row, device, i == 1 ? 4 : 16, lacking);
    cr_expect_str_eq(row->status, "skipped");
    cr_expect_str_eq(row->message, why, "the reason of clb_device_check_precision");
    cr_expect(isnan(row->step_s_median));
  }
  free_run(&run);
  free(plan);
  clb_test_remove_tmpdir(dir);
}

Test(worker, an_unknown_device_fails_with_a_log_and_no_done) {
  if (!clb_test_require_device_unloaded())
    return;
  char *dir = clb_test_tmpdir();
  char out[4200];
  snprintf(out, sizeof out, "%s/r.csv", dir);
  struct clb_plan *plan = malloc(sizeof *plan);
  tiny_plan(plan, "fp32", out);
  struct worker_run run;
  run_worker(plan, "97:3", &run);
  cr_expect_eq(run.count, 0, "no BEGIN, ROW or DONE");
  cr_expect_eq(run.exit_code, CLB_WORKER_FAILED);
  cr_expect_not_null(strstr(run.logs, "device 97:3 disappeared"), "%s", run.logs);
  free_run(&run);
  free(plan);
  clb_test_remove_tmpdir(dir);
}
