/* One tuning configuration, measured in a child process.
 *
 * A configuration can do worse than fail: on a CPU device a kernel that
 * writes past a buffer writes into the process's own heap. (On PoCL here
 * the GEMMK=1 Xgemm with MWG = MDIMC = 16 returned NaN and the next malloc
 * aborted the tuner; some XgemvFast sets made CLBlast abort.) So the
 * tuner runs each configuration in a fresh `clbatch __tune-config` process:
 * a crash, a hang or a corrupted heap costs that configuration only.
 * Separate processes also let compiles run side by side: a compile-only
 * child fills PoCL's kernel cache, and the timed child that follows finds
 * the kernels there. */
#ifndef CLB_BLAS_TUNE_CHILD_H
#define CLB_BLAS_TUNE_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "blas/tune_bench.h"
#include "blas/tune_local.h"
#include "util/errors.h"
#include "util/precision.h"

/* CLBlast chooses the path itself (no crossover override). */
#define CLB_TUNE_CROSSOVER_CLBLAST SIZE_MAX

struct clb_tune_job {
  enum clb_tune_op op; /* the GEMM m x n x k, or the transpose of an m x n matrix */
  size_t m, n, k;
  uint64_t seed;
  size_t crossover;                   /* XGEMM_MIN_INDIRECT_SIZE, or CLB_TUNE_CROSSOVER_CLBLAST */
  const struct clb_tune_point *point; /* NULL: CLBlast's own parameters */
  char device_id[32];                 /* "P:D" */
  enum clb_precision precision;
  int compile_only; /* build and verify, do not time */
};

/* A started child. */
struct clb_tune_child {
  pid_t pid;
  int fd;            /* read end of its stdout and stderr */
  /* The last of what it printed: a crossover child's 4 turns over 64 GEMMs
   * print about 7 KB; when more, the first turns are what is lost. */
  char output[16384];
  size_t used;
};

/* Starts `job` in a child process. The program is /proc/self/exe unless
 * clb_tune_child_set_program named another (tests, whose own binary is not
 * clbatch). */
int clb_tune_child_start(const struct clb_tune_job *job, struct clb_tune_child *child,
                         struct clb_error *err);

/* Starts the program (clbatch) with argv (argv[0] its name), its stdout and
 * stderr kept in child->output. */
int clb_tune_child_spawn(char *const argv[], struct clb_tune_child *child, struct clb_error *err);

/* How a child ended. */
enum clb_tune_child_end {
  CLB_TUNE_CHILD_EXITED_0, /* exit code 0 */
  CLB_TUNE_CHILD_FAILED,   /* another exit code */
  CLB_TUNE_CHILD_KILLED,   /* by a signal, or stopped at the timeout */
};

/* Waits for the child, at most timeout_s seconds (then kills it), keeping
 * the end of what it printed in child->output. `why` says how it ended
 * (with its last line) for any end but CLB_TUNE_CHILD_EXITED_0. */
enum clb_tune_child_end clb_tune_child_wait(struct clb_tune_child *child, double timeout_s,
                                            char *why, size_t why_size);

/* What follows `prefix` on the last line of `text` that starts with it, or NULL. */
const char *clb_tune_child_line(const char *text, const char *prefix);

/* "clblast" for CLB_TUNE_CROSSOVER_CLBLAST, else the number: the child's argument. */
void clb_tune_child_format_crossover(char *buf, size_t size, size_t crossover);

/* Waits for the child, at most timeout_s seconds (then kills it). *gflops
 * is its measurement, or 0 when the configuration failed: then `why` says
 * how (its own message, a signal, a timeout). */
void clb_tune_child_finish(struct clb_tune_child *child, double timeout_s, double *gflops,
                           char *why, size_t why_size);

void clb_tune_child_set_program(const char *path);

/* The child's side, `clbatch __tune-config ARGS...` (argv[0] is the
 * command's name, as main.c passes it): parses the job,
 * measures it and prints one line, "gflops G" or "skipped: WHY", to `out`.
 * Returns the exit code (2 for arguments it does not understand). */
int clb_tune_child_main(int argc, char **argv, FILE *out);

/* The crossover's child, `clbatch __tune-shapes DEVICE PRECISION
 * CROSSOVER[,CROSSOVER...] SEED GEMM...`: applies what a run applies
 * (clb_tune_apply), then for each crossover in turn forces it, prints
 * "crossover C" and times each GEMM (as clb_tune_gemm_format writes it):
 * "shape I gflops G" or "shape I skipped: WHY". Returns the exit code. */
int clb_tune_shapes_main(int argc, char **argv, FILE *out);

/* A GEMM as the crossover's child takes it: "MxNxK:AB", A and B each n
 * (as stored) or t (transposed). Parsing returns -1 on anything else. */
void clb_tune_gemm_format(const struct clb_tune_gemm *gemm, char *buf, size_t size);
int clb_tune_gemm_parse(const char *text, struct clb_tune_gemm *out);

#endif
