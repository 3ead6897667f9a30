#define _GNU_SOURCE /* strsignal, pipe2 */
#include "blas/tune_child.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blas/blas.h"
#include "blas/tune.h"
#include "blas/tune_bench.h"
#include "blas/tune_crossover.h"
#include "cl/context.h"
#include "cl/platform.h"
#include "util/clock.h"
#include "util/parse.h"

extern char **environ;

static const char *child_program = "/proc/self/exe";

void clb_tune_child_set_program(const char *path) {
  child_program = path;
}

/* ---- the parent's side ---------------------------------------------------- */

void clb_tune_child_format_crossover(char *buf, size_t size, size_t crossover) {
  if (crossover == CLB_TUNE_CROSSOVER_CLBLAST)
    snprintf(buf, size, "clblast");
  else
    snprintf(buf, size, "%zu", crossover);
}

/* "NAME=V,NAME=V" of a point, or "-" for none. */
static void format_params(char *buf, size_t size, const struct clb_tune_point *point) {
  size_t used = 0;
  snprintf(buf, size, "-");
  for (size_t p = 0; point && p < point->space->count && used + 1 < size; p++) {
    int wrote = snprintf(buf + used, size - used, "%s%s=%zu", p ? "," : "",
                         point->space->params[p].name, point->values[p]);
    if (wrote < 0)
      break;
    used += (size_t)wrote;
  }
}

int clb_tune_child_start(const struct clb_tune_job *job, struct clb_tune_child *child,
                         struct clb_error *err) {
  char m[32], n[32], k[32], seed[32], crossover[32], params[1024];
  snprintf(m, sizeof m, "%zu", job->m);
  snprintf(n, sizeof n, "%zu", job->n);
  snprintf(k, sizeof k, "%zu", job->k);
  snprintf(seed, sizeof seed, "%" PRIu64, job->seed);
  clb_tune_child_format_crossover(crossover, sizeof crossover, job->crossover);
  format_params(params, sizeof params, job->point);
  char *argv[] = {"clbatch",
                  "__tune-config",
                  (char *)job->device_id,
                  (char *)clb_precision_name(job->precision),
                  m,
                  n,
                  k,
                  seed,
                  crossover,
                  job->compile_only ? "compile" : "time",
                  job->op == CLB_TUNE_OP_TRANSPOSE ? "transpose" : "gemm",
                  job->point ? (char *)job->point->space->kernel : "-",
                  params,
                  NULL};
  return clb_tune_child_spawn(argv, child, err);
}

int clb_tune_child_spawn(char *const argv[], struct clb_tune_child *child, struct clb_error *err) {
  int fds[2];
  memset(child, 0, sizeof *child);
  child->fd = -1;
  if (pipe2(fds, O_CLOEXEC) != 0)
    return clb_failf(err, CLB_E_IO, "cannot create a pipe for a tuning process: %s",
                     strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  fflush(NULL);
  int rc = posix_spawn(&child->pid, child_program, &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return clb_failf(err, CLB_E_IO, "cannot start a tuning process (%s): %s", child_program,
                     strerror(rc));
  }
  child->fd = fds[0];
  return 0;
}

/* Keeps the last sizeof output - 1 bytes the child wrote. */
static void keep_output(struct clb_tune_child *child, const char *data, size_t size) {
  const size_t room = sizeof child->output - 1;
  if (size >= room) {
    memcpy(child->output, data + size - room, room);
    child->used = room;
  } else {
    if (child->used + size > room) {
      size_t drop = child->used + size - room;
      memmove(child->output, child->output + drop, child->used - drop);
      child->used -= drop;
    }
    memcpy(child->output + child->used, data, size);
    child->used += size;
  }
  child->output[child->used] = '\0';
}

/* Reads until end of file or the deadline; 1 when the deadline came first. */
static int drain(struct clb_tune_child *child, double deadline) {
  char chunk[sizeof child->output];
  for (;;) {
    double left = deadline - clb_now();
    if (left <= 0.0)
      return 1;
    struct pollfd pfd = {child->fd, POLLIN, 0};
    int ready = poll(&pfd, 1, (int)(left * 1000.0) + 1);
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0)
      continue; /* the loop's deadline check decides */
    ssize_t got = read(child->fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return 0;
    keep_output(child, chunk, (size_t)got);
  }
}

const char *clb_tune_child_line(const char *text, const char *prefix) {
  const char *found = NULL;
  size_t length = strlen(prefix);
  for (const char *line = text; line && *line;) {
    if (strncmp(line, prefix, length) == 0)
      found = line + length;
    line = strchr(line, '\n');
    if (line)
      line++;
  }
  return found;
}

/* The last non-empty line, for a child that died without its own message. */
static void last_line(const char *text, char *buf, size_t size) {
  const char *end = text + strlen(text);
  while (end > text && (end[-1] == '\n' || end[-1] == ' '))
    end--;
  const char *start = end;
  while (start > text && start[-1] != '\n')
    start--;
  snprintf(buf, size, "%.*s", (int)(end - start), start);
}

enum clb_tune_child_end clb_tune_child_wait(struct clb_tune_child *child, double timeout_s,
                                            char *why, size_t why_size) {
  why[0] = '\0';
  int timed_out = drain(child, clb_now() + timeout_s);
  if (timed_out)
    kill(child->pid, SIGKILL);
  close(child->fd);
  child->fd = -1;
  int status = 0;
  while (waitpid(child->pid, &status, 0) < 0 && errno == EINTR)
    ;
  char tail[512];
  last_line(child->output, tail, sizeof tail);
  if (timed_out) {
    snprintf(why, why_size, "no result within %.0f s; stopped", timeout_s);
    return CLB_TUNE_CHILD_KILLED;
  }
  if (WIFSIGNALED(status)) {
    snprintf(why, why_size, "the process was killed by signal %d (%s)%s%s", WTERMSIG(status),
             strsignal(WTERMSIG(status)), tail[0] ? " after: " : "", tail);
    return CLB_TUNE_CHILD_KILLED;
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  snprintf(why, why_size, "the process exited with code %d%s%s", code, tail[0] ? ": " : "", tail);
  return code == 0 ? CLB_TUNE_CHILD_EXITED_0 : CLB_TUNE_CHILD_FAILED;
}

void clb_tune_child_finish(struct clb_tune_child *child, double timeout_s, double *gflops,
                           char *why, size_t why_size) {
  *gflops = 0.0;
  enum clb_tune_child_end end = clb_tune_child_wait(child, timeout_s, why, why_size);
  const char *value = clb_tune_child_line(child->output, "gflops ");
  const char *skipped = clb_tune_child_line(child->output, "skipped: ");
  if (end == CLB_TUNE_CHILD_KILLED)
    return;
  if (skipped) {
    snprintf(why, why_size, "%.*s", (int)strcspn(skipped, "\n"), skipped);
  } else if (end == CLB_TUNE_CHILD_EXITED_0 && value) {
    *gflops = strtod(value, NULL);
    why[0] = '\0';
  } else if (end == CLB_TUNE_CHILD_EXITED_0 && clb_tune_child_line(child->output, "verified")) {
    why[0] = '\0'; /* compile-only: nothing timed, nothing wrong */
  }
}

/* ---- the child's side ----------------------------------------------------- */

static int parse_param_list(char *text, const char **names, size_t *values, size_t *count,
                            struct clb_error *err) {
  *count = 0;
  if (strcmp(text, "-") == 0)
    return 0;
  for (char *item = strtok(text, ","); item; item = strtok(NULL, ",")) {
    char *equals = strchr(item, '=');
    if (!equals || *count == CLB_TUNE_MAX_PARAMS)
      return clb_failf(err, CLB_E_INVAL, "bad parameter '%s'", item);
    *equals = '\0';
    names[*count] = item;
    if (clb_parse_size(equals + 1, 0, SIZE_MAX, item, &values[*count], err) != 0)
      return CLB_E_INVAL;
    (*count)++;
  }
  return 0;
}

/* 1 when a child running `op` times a kernel the search decides: the
 * transpose times Padtranspose, the GEMM and GEMV the others of
 * clb_tune_kernel_names. */
static int timed_by(enum clb_tune_op op, const char *kernel) {
  if (strcmp(kernel, CLB_TUNE_TRANSPOSE_KERNEL) == 0)
    return op == CLB_TUNE_OP_TRANSPOSE;
  for (int i = 0; i < CLB_TUNE_KERNELS; i++)
    if (strcmp(kernel, clb_tune_kernel_names[i]) == 0)
      return op == CLB_TUNE_OP_GEMM;
  return 0;
}

/* What a run applies to the helper kernels (Copy, Pad, Padtranspose, ...):
 * the indirect GEMM runs them around Xgemm, so they count in its time. Not
 * the starting sets of the kernels this child times (Xgemm, XgemvFast, ...
 * for a GEMM; Padtranspose for the transpose): a child without a
 * configuration times CLBlast's defaults, and the starting set is a
 * candidate of its own, stored explicitly if it wins. */
static int apply_helper_sets(const struct clb_device_info *dev, enum clb_precision precision,
                             enum clb_tune_op op, struct clb_error *err) {
  size_t count = 0;
  const struct clb_cpu_start_set *sets = clb_tune_start_sets(dev, precision, &count);
  for (size_t i = 0; i < count; i++) {
    const char *kernel = sets[i].kernel;
    if (timed_by(op, kernel))
      continue;
    int rc = clb_blas_override(dev->device, dev->name, precision, kernel, sets[i].count,
                               sets[i].names, sets[i].values, err);
    if (rc != 0)
      return rc;
  }
  return 0;
}

struct child_args {
  const char *device_id;
  enum clb_precision precision;
  enum clb_tune_op op;
  size_t m, n, k, seed, crossover;
  int compile_only;
  const char *kernel;
  const char *names[CLB_TUNE_MAX_PARAMS];
  size_t values[CLB_TUNE_MAX_PARAMS];
  size_t count;
};

static int parse_child_args(int argc, char **argv, struct child_args *a, struct clb_error *err) {
  if (argc != 12)
    return clb_failf(err, CLB_E_INVAL, "internal command of `clbatch tune`: 11 arguments");
  a->device_id = argv[1];
  if (clb_precision_parse(argv[2], &a->precision) != 0)
    return clb_failf(err, CLB_E_INVAL, "unknown precision '%s'", argv[2]);
  if (clb_parse_size(argv[3], 1, SIZE_MAX, "m", &a->m, err) != 0 ||
      clb_parse_size(argv[4], 1, SIZE_MAX, "n", &a->n, err) != 0 ||
      clb_parse_size(argv[5], 1, SIZE_MAX, "k", &a->k, err) != 0 ||
      clb_parse_size(argv[6], 0, SIZE_MAX, "seed", &a->seed, err) != 0)
    return CLB_E_INVAL;
  a->crossover = CLB_TUNE_CROSSOVER_CLBLAST;
  if (strcmp(argv[7], "clblast") != 0 &&
      clb_parse_size(argv[7], 0, SIZE_MAX - 1, "crossover", &a->crossover, err) != 0)
    return CLB_E_INVAL;
  a->compile_only = strcmp(argv[8], "compile") == 0;
  if (strcmp(argv[9], "gemm") == 0)
    a->op = CLB_TUNE_OP_GEMM;
  else if (strcmp(argv[9], "transpose") == 0)
    a->op = CLB_TUNE_OP_TRANSPOSE;
  else
    return clb_failf(err, CLB_E_INVAL, "unknown operation '%s' (gemm, transpose)", argv[9]);
  a->kernel = argv[10];
  return parse_param_list(argv[11], a->names, a->values, &a->count, err);
}

/* The device "P:D" of this host, with a context and queue on it. */
static int open_device(const char *device_id, struct clb_device_list *list, struct clb_cl *cl,
                       const struct clb_device_info **out, struct clb_error *err) {
  *out = NULL;
  int rc = clb_platform_list(list, err);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < list->count && !*out; i++) {
    char id[32];
    clb_device_id_string(&list->items[i], id, sizeof id);
    if (strcmp(id, device_id) == 0)
      *out = &list->items[i];
  }
  if (!*out)
    return clb_failf(err, CLB_E_INVAL, "no device %s", device_id);
  return clb_cl_create(*out, cl, err);
}

static int force_crossover(const struct clb_device_info *dev, enum clb_precision precision,
                           size_t crossover, struct clb_error *err) {
  if (crossover == CLB_TUNE_CROSSOVER_CLBLAST)
    return 0;
  const char *name = CLB_TUNE_ROUTINE_PARAM;
  return clb_blas_override(dev->device, dev->name, precision, CLB_TUNE_ROUTINE_KERNEL, 1, &name,
                           &crossover, err);
}

static int run_child(const struct child_args *a, FILE *out, struct clb_error *err) {
  int rc = 0;
  struct clb_device_list list = {0};
  struct clb_cl cl = {0};
  struct clb_tune_bench *bench = NULL;
  const struct clb_device_info *dev = NULL;
  CLB_TRY(open_device(a->device_id, &list, &cl, &dev, err));
  CLB_TRY(apply_helper_sets(dev, a->precision, a->op, err));
  CLB_TRY(force_crossover(dev, a->precision, a->crossover, err));
  if (a->count > 0)
    CLB_TRY(clb_blas_override(dev->device, dev->name, a->precision, a->kernel, a->count, a->names,
                              a->values, err));
  const struct clb_tune_gemm shape = {0, 0, a->m, a->n, a->k};
  CLB_TRY(clb_tune_bench_create(&cl, a->precision, a->op, &shape, a->seed, &bench, err));
  /* From here on a failure is the configuration's, not the device's. */
  struct clb_error config_err = {0};
  double gflops = 0.0;
  int failed = a->compile_only ? clb_tune_bench_verify(bench, &config_err)
                               : clb_tune_bench_gflops(bench, &gflops, &config_err);
  if (failed)
    fprintf(out, "skipped: %s\n", config_err.message);
  else if (a->compile_only)
    fprintf(out, "verified\n");
  else
    fprintf(out, "gflops %.17g\n", gflops);
cleanup:
  clb_tune_bench_destroy(bench);
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
  return rc;
}

int clb_tune_child_main(int argc, char **argv, FILE *out) {
  struct child_args args = {0};
  struct clb_error err = {0};
  if (parse_child_args(argc, argv, &args, &err) != 0) {
    fprintf(stderr, "clbatch __tune-config: %s\n", err.message);
    return 2;
  }
  if (run_child(&args, out, &err) != 0) {
    fprintf(out, "error: %s\n", err.message);
    return 1;
  }
  return fflush(out) == 0 ? 0 : 1;
}

/* ---- the crossover's child: the step's GEMMs on one path ------------------ */

void clb_tune_gemm_format(const struct clb_tune_gemm *g, char *buf, size_t size) {
  snprintf(buf, size, "%zux%zux%zu:%c%c", g->m, g->n, g->k, g->trans_a ? 't' : 'n',
           g->trans_b ? 't' : 'n');
}

/* A whole number from 1 up at *text, followed by `after`; moves *text past both. */
static int take_size(const char **text, char after, size_t *out) {
  char *end = NULL;
  if (**text < '0' || **text > '9')
    return -1;
  errno = 0;
  unsigned long long value = strtoull(*text, &end, 10);
  if (errno != 0 || value == 0 || value > SIZE_MAX || *end != after)
    return -1;
  *out = (size_t)value;
  *text = end + 1;
  return 0;
}

int clb_tune_gemm_parse(const char *text, struct clb_tune_gemm *out) {
  if (take_size(&text, 'x', &out->m) != 0 || take_size(&text, 'x', &out->n) != 0 ||
      take_size(&text, ':', &out->k) != 0 || (text[0] != 'n' && text[0] != 't') ||
      (text[1] != 'n' && text[1] != 't') || text[2] != '\0')
    return -1;
  out->trans_a = text[0] == 't';
  out->trans_b = text[1] == 't';
  return 0;
}

/* Times each GEMM with what a run applies (tuned.conf, then the starting
 * sets), once per crossover in turn: a "crossover C" line, then one line per
 * GEMM. One process keeps each path's programs between turns, so a runtime
 * without a kernel cache across processes (Intel's) builds them once. */
static int run_shapes(const char *device_id, enum clb_precision precision, const size_t *crossovers,
                      size_t turns, uint64_t seed, const struct clb_tune_gemm *gemms, size_t count,
                      FILE *out, struct clb_error *err) {
  int rc = 0;
  struct clb_device_list list = {0};
  struct clb_cl cl = {0};
  const struct clb_device_info *dev = NULL;
  enum clb_params_source source;
  CLB_TRY(open_device(device_id, &list, &cl, &dev, err));
  CLB_TRY(clb_tune_apply(dev, precision, &source, err));
  for (size_t turn = 0; turn < turns; turn++) {
    CLB_TRY(force_crossover(dev, precision, crossovers[turn], err));
    fprintf(out, "crossover %zu\n", crossovers[turn]);
    for (size_t i = 0; i < count; i++) {
      struct clb_tune_bench *bench = NULL;
      struct clb_error gemm_err = {0};
      double gflops = 0.0;
      if (clb_tune_bench_create(&cl, precision, CLB_TUNE_OP_GEMM, &gemms[i], seed, &bench,
                                &gemm_err) == 0)
        clb_tune_bench_gflops(bench, &gflops, &gemm_err);
      clb_tune_bench_destroy(bench);
      if (gflops > 0.0)
        fprintf(out, "shape %zu gflops %.6g\n", i, gflops);
      else
        fprintf(out, "shape %zu skipped: %.80s\n", i, gemm_err.message);
      fflush(out);
    }
  }
cleanup:
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
  return rc;
}

/* "C,C,...": at most CLB_TUNE_MAX_CROSSOVER_TURNS crossovers. */
static int parse_crossovers(const char *text, size_t *out, size_t *turns) {
  *turns = 0;
  for (const char *at = text;; at++) {
    char *end = NULL;
    if (*turns == CLB_TUNE_MAX_CROSSOVER_TURNS || *at < '0' || *at > '9')
      return -1;
    errno = 0;
    unsigned long long value = strtoull(at, &end, 10);
    if (errno != 0 || value > CLB_TUNE_FORCE_DIRECT || (*end != ',' && *end != '\0'))
      return -1;
    out[(*turns)++] = (size_t)value;
    if (*end == '\0')
      return 0;
    at = end;
  }
}

int clb_tune_shapes_main(int argc, char **argv, FILE *out) {
  struct clb_error err = {0};
  enum clb_precision precision;
  size_t crossovers[CLB_TUNE_MAX_CROSSOVER_TURNS], turns = 0, seed = 0;
  struct clb_tune_gemm gemms[CLB_TUNE_MAX_CROSSOVER_GEMMS];
  size_t count = argc > 5 ? (size_t)(argc - 5) : 0;
  int bad = argc < 6 || count > CLB_TUNE_MAX_CROSSOVER_GEMMS ||
            clb_precision_parse(argv[2], &precision) != 0 ||
            parse_crossovers(argv[3], crossovers, &turns) != 0 ||
            clb_parse_size(argv[4], 0, SIZE_MAX, "seed", &seed, &err) != 0;
  for (size_t i = 0; !bad && i < count; i++)
    bad = clb_tune_gemm_parse(argv[5 + i], &gemms[i]) != 0;
  if (bad) {
    fprintf(stderr,
            "clbatch __tune-shapes: internal command of `clbatch tune`: DEVICE PRECISION "
            "CROSSOVER[,CROSSOVER...] (at most %d) SEED MxNxK:AB... (at most %d)\n",
            CLB_TUNE_MAX_CROSSOVER_TURNS, CLB_TUNE_MAX_CROSSOVER_GEMMS);
    return 2;
  }
  if (run_shapes(argv[1], precision, crossovers, turns, seed, gemms, count, out, &err) != 0) {
    fprintf(out, "error: %s\n", err.message);
    return 1;
  }
  return fflush(out) == 0 ? 0 : 1;
}
