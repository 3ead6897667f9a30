/* `clbatch run` end to end on PoCL: the CSV contract, rates, oom rows,
 * resume after a kill, timeouts, and the formula checks of shape.c. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blas/tune.h"
#include "cl/context.h"
#include "helpers.h"
#include "model/dataset.h"
#include "model/model.h"
#include "model/shape.h"
#include "results/results.h"

/* Small and quick: every configuration is timed for a few milliseconds, in
 * one worker process (the default's three passes are test_passes.c's). */
#define QUICK_LOUD                                                                                 \
  "--samples 256 --features 8 --hidden 16 --classes 3 --warmup 1 "                                 \
  "--min-time 0.005 --max-time 0.03 --noise-batches 4 --passes 1"
#define QUICK QUICK_LOUD " --quiet"

Test(run, csv_has_schema_columns_and_positive_rates) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char args[1024], path[512];
  snprintf(path, sizeof path, "%s/r.csv", dir);
  snprintf(args, sizeof args, "run --device @DEV --batch 4,32 " QUICK " --out %s", path);
  char *err = NULL;
  cr_assert_eq(clb_test_run_cli(args, NULL, &err), 0, "%s", err);
  free(err);

  /* The header line is the column table of results.h, in order. */
  char *text = clb_test_read_file(path);
  char *newline = strchr(text, '\n');
  cr_assert_not_null(newline);
  *newline = '\0';
  char expected[4096] = "";
  for (size_t c = 0; c < clb_column_count; c++) {
    strcat(expected, c ? "," : "");
    strcat(expected, clb_columns[c].name);
  }
  cr_expect_str_eq(text, expected);
  free(text);

  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(path, &count);
  cr_assert_eq(count, 6, "3 models x 2 batch sizes, got %zu rows", count);
  for (size_t i = 0; i < count; i++) {
    const struct clb_row *r = &rows[i];
    cr_expect_str_eq(r->status, "ok", "%s B=%.0f: %s", r->model, r->batch, r->message);
    cr_expect(r->step_s_median > 0 && isfinite(r->step_s_median));
    cr_expect(r->step_s_min <= r->step_s_p10 && r->step_s_p10 <= r->step_s_median &&
                  r->step_s_median <= r->step_s_p90,
              "order of statistics");
    cr_expect(r->samples_per_s > 0 && isfinite(r->samples_per_s));
    cr_expect(fabs(r->samples_per_s - r->batch / r->step_s_median) <= 1e-6 * r->samples_per_s);
    cr_expect(r->gflops > 0 && isfinite(r->gflops));
    cr_expect(r->gbytes_per_s > 0 && isfinite(r->gbytes_per_s));
    /* The roofline the worker measured, and the shares of it (the CSV
     * keeps 9 significant digits). */
    cr_expect(r->peak_gflops > 0 && isfinite(r->peak_gflops), "%g", r->peak_gflops);
    cr_expect(r->peak_gbytes_per_s > 0 && isfinite(r->peak_gbytes_per_s), "%g",
              r->peak_gbytes_per_s);
    cr_expect(fabs(r->pct_peak_flops - 100 * r->gflops / r->peak_gflops) <=
              1e-6 * r->pct_peak_flops);
    cr_expect(fabs(r->pct_peak_bw - 100 * r->gbytes_per_s / r->peak_gbytes_per_s) <=
              1e-6 * r->pct_peak_bw);
    cr_expect(r->kernels_per_step >= 1 && r->launch_floor_s > 0 && isfinite(r->launch_floor_s),
              "%g kernels, floor %g s", (double)r->kernels_per_step, r->launch_floor_s);
    cr_expect(r->device_bytes > 0);
    cr_expect(r->host_rss_bytes > 0);
    cr_expect(r->reps >= 5);
    cr_expect_eq(r->steps_per_epoch, ceil(256.0 / r->batch));
    cr_expect(r->sigma2 > 0 && r->var_measured > 0 && r->var_predicted > 0);
    cr_expect_eq(r->schema, CLB_SCHEMA_VERSION);
  }
  free(rows);
  /* The effective configuration sits next to the results and repeats the run. */
  snprintf(path, sizeof path, "%s/r.config", dir);
  char *config = clb_test_read_file(path);
  cr_assert_not_null(config);
  cr_expect(strstr(config, "batch = 4,32") != NULL, "%s", config);
  cr_expect(strstr(config, "samples = 256") != NULL);
  free(config);
  free(dir);
}

/* CPU runtimes size their device from the host's memory. Pin PoCL (1 GiB) and
 * Intel's runtime (2 GiB: it counts every buffer, CLBlast's temporary one
 * too, against its global size) to a 256 MiB CL_DEVICE_MAX_MEM_ALLOC_SIZE, so the
 * allocation limit is the same on every machine, and return the hidden width
 * whose activations fill that limit at B = 256 (262144 at 256 MiB). A device
 * whose limit cannot be pinned (a GPU) is skipped: filling it would take all
 * of its memory. */
static size_t pin_allocation_limit(void) {
  setenv("POCL_MEMORY_LIMIT", "1", 1);
  setenv("CL_CONFIG_CPU_FORCE_GLOBAL_MEM_SIZE", "2GB", 1);
  setenv("CL_CONFIG_CPU_FORCE_MAX_MEM_ALLOC_SIZE", "256MB", 1);
  struct clb_device_list list = {0};
  const struct clb_device_info *device = NULL;
  if (!clb_test_device(&list, &device))
    return 0;
  unsigned long long limit = device->max_alloc_bytes;
  char name[256];
  snprintf(name, sizeof name, "%s", device->name);
  clb_platform_list_destroy(&list);
  if (limit > 256ull << 20)
    cr_skip("%s: CL_DEVICE_MAX_MEM_ALLOC_SIZE %llu MiB cannot be pinned to 256 MiB", name,
            limit >> 20);
  return limit > (256ull << 20) ? 0 : (size_t)(limit / (256 * sizeof(float)));
}

static void unpin_allocation_limit(void) {
  unsetenv("POCL_MEMORY_LIMIT");
  unsetenv("CL_CONFIG_CPU_FORCE_GLOBAL_MEM_SIZE");
  unsetenv("CL_CONFIG_CPU_FORCE_MAX_MEM_ALLOC_SIZE");
}

Test(run, allocation_failure_is_an_oom_row_and_the_sweep_goes_on) {
  size_t hidden = pin_allocation_limit();
  if (!hidden)
    return;
  char *dir = clb_test_tmpdir();
  char args[1024], path[512];
  snprintf(path, sizeof path, "%s/oom.csv", dir);
  /* B = 512 needs hidden activations of twice the allocation limit and cannot
   * be allocated, B = 1 fits, and linreg afterwards still runs. */
  snprintf(args, sizeof args,
           "run --device @DEV --model mlp,linreg --features 4 --hidden %zu --classes 2 "
           "--samples 512 --batch 1,512 --warmup 1 --min-time 0.005 --max-time 0.03 "
           "--noise-batches 0 --passes 1 --quiet --out %s",
           hidden, path);
  clb_test_run_cli(args, NULL, NULL);
  unpin_allocation_limit();
  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(path, &count);
  cr_assert_eq(count, 4);
  int oom = 0, ok = 0;
  for (size_t i = 0; i < count; i++) {
    if (!strcmp(rows[i].model, "mlp") && rows[i].batch == 512) {
      cr_expect_str_eq(rows[i].status, "oom", "%s", rows[i].message);
      cr_expect(strstr(rows[i].message, "MAX_MEM_ALLOC") != NULL, "%s", rows[i].message);
      oom++;
    } else {
      cr_expect_str_eq(rows[i].status, "ok", "%s B=%.0f: %s", rows[i].model, rows[i].batch,
                       rows[i].message);
      ok++;
    }
  }
  cr_expect_eq(oom, 1);
  cr_expect_eq(ok, 3);
  free(rows);
  free(dir);
}

Test(run, killed_run_resumes_without_duplicates, .timeout = 240) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char path[512], command[2048];
  snprintf(path, sizeof path, "%s/k.csv", dir);
  const char *plan = "run --device @DEV --model softmax,mlp --batch 1,2,4,8,16,32 " QUICK;
  char *plan_for_device = clb_test_expand_device(plan);
  /* One configuration at a time, so rows arrive one by one (in turns, a set's
   * rows all arrive at its end); the resume below times the rest in turns. */
  snprintf(command, sizeof command, "exec %s %s --no-interleave --out %s >/dev/null 2>&1",
           CLBATCH_BINARY, plan_for_device, path);
  free(plan_for_device);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command, (char *)NULL);
    _exit(127);
  }
  /* Kill the parent once some rows, but not all, are written. */
  for (int i = 0; i < 2000 && clb_test_count_file_lines(path) < 3; i++)
    usleep(10000);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  size_t before = clb_test_count_file_lines(path) - 1;
  cr_assert_lt(before, 12, "the run finished before it could be killed");
  /* The orphaned worker dies on its broken pipe; give it a moment. */
  usleep(300000);

  char args[1024];
  snprintf(args, sizeof args, "%s --out %s --resume", plan, path);
  char *err = NULL;
  cr_assert_eq(clb_test_run_cli(args, NULL, &err), 0, "%s", err);
  free(err);
  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(path, &count);
  cr_expect_eq(count, 12, "12 configurations, each once; got %zu", count);
  for (size_t i = 0; i < count; i++)
    for (size_t j = i + 1; j < count; j++)
      cr_expect(!(rows[i].batch == rows[j].batch && !strcmp(rows[i].model, rows[j].model)),
                "duplicate row %s B=%.0f", rows[i].model, rows[i].batch);
  free(rows);
  free(dir);
}

Test(run, existing_results_are_never_overwritten) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(dir, "keep.csv", "precious\n");
  char args[1024];
  snprintf(args, sizeof args, "run --device @DEV " QUICK " --out %s", path);
  char *err = NULL;
  cr_expect_eq(clb_test_run_cli(args, NULL, &err), 2);
  cr_expect(strstr(err, "already exists") != NULL, "%s", err);
  char *text = clb_test_read_file(path);
  cr_expect_str_eq(text, "precious\n");
  free(text);
  free(err);
  free(path);
  free(dir);
}

Test(run, hung_device_is_cut_off_by_timeout) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char args[1024], path[512];
  snprintf(path, sizeof path, "%s/t.csv", dir);
  /* Each configuration wants 30 s of timing; the device gets 3 s in all. */
  snprintf(args, sizeof args,
           "run --device @DEV --model linreg --batch 2,4 --samples 256 --features 8 "
           "--min-time 30 --max-time 30 --target-ci 0 --noise-batches 0 --timeout 3 --passes 1 --quiet "
           "--out %s",
           path);
  char *err = NULL;
  int code = clb_test_run_cli(args, NULL, &err);
  cr_expect_eq(code, 1, "a timed-out device makes the run fail: %s", err);
  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(path, &count);
  cr_assert_geq(count, 1);
  cr_expect_str_eq(rows[0].status, "timeout");
  cr_expect(strstr(rows[0].message, "--timeout") != NULL, "%s", rows[0].message);
  free(rows);
  free(err);
  free(dir);
}

struct bad_run_case {
  char args[160];
  char expect[64];
};

ParameterizedTestParameters(run, bad_options_exit_2) {
  static struct bad_run_case cases[] = {
      {"run --batch 0", "below the minimum"},
      {"run --batch 1:8:x1", "--batch"},
      {"run --batch abc", "--batch"},
      {"run --samples 1024 --batch 2048", "--batch"},
      {"run --model cnn", "unknown 'cnn'"},
      {"run --precision fp8", "unknown 'fp8'"},
      {"run --min-time -1", "--min-time"},
      {"run --target-ci nan", "--target-ci"},
      {"run --samples 99999999999999999999999", "--samples"},
      {"run --format xml", "not csv, json or md"},
      {"run --data-on gpu", "not device or host"},
      {"run --config /nonexistent/clbatch.conf", "/nonexistent/clbatch.conf"},
      {"run --data /nonexistent/data.csv", "/nonexistent/data.csv"},
      {"run --min-time 3 --max-time 1", "--max-time"},
      {"run --noise-batches 1", "--noise-batches"},
      {"run --bogus", "unrecognized option"},
      {"run stray", "unexpected argument"},
      {"run --device nosuchdevice", "matches no device"},
  };
  return cr_make_param_array(struct bad_run_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_run_case *c, run, bad_options_exit_2) {
  char *err = NULL;
  int code = clb_test_run_cli(c->args, NULL, &err);
  cr_expect_eq(code, 2, "'%s' exited %d: %s", c->args, code, err);
  cr_expect(strstr(err, c->expect) != NULL, "'%s' said: %s", c->args, err);
  free(err);
}

/* Hand-counted FLOPs and bytes of a tiny step (see results/SCHEMA.md). */
Test(formulas, linreg_and_mlp_by_hand) {
  struct clb_shape linreg = {CLB_MODEL_LINREG, 3, 0, 1};
  /* B=2, D=3, C=1, P=4: forward 12, weight gradient 12, bias GEMV 4,
   * AXPY 8, element-wise 3*2*1 = 6. */
  cr_expect_float_eq(clb_shape_step_flops(&linreg, 2), 42.0, 1e-12);
  struct clb_shape mlp = {CLB_MODEL_MLP, 2, 3, 2};
  /* B=1, D=2, H=3, C=2, P=6+3+6+2=17: forward 12+12, gW2 12, dH 12, gW1 12,
   * bias GEMVs 6+4, AXPY 34, softmax 12, bias+ReLU 6, mask 3. */
  cr_expect_float_eq(clb_shape_step_flops(&mlp, 1), 125.0, 1e-12);
  /* linreg bytes, fp32, B=2, contiguous: Z = XW (6+3+2)*4 = 44; loss
   * (4+1)*4 + 8 (indices) + 8 (targets) + 8 (row losses) = 44; gW (6+2+3)*4 = 44;
   * gb (2+2+1)*4 = 20; AXPY 12*4 = 48. */
  cr_expect_float_eq(clb_shape_step_bytes(&linreg, 2, 4, 0), 200.0, 1e-12);
  /* The gather adds 4 bytes per index and the rows read and written. */
  cr_expect_float_eq(clb_shape_step_bytes(&linreg, 2, 4, 1), 200.0 + 8 + 48, 1e-12);
}

/* The GEMMs the tuner places the crossover by are the step's: the same
 * multiply-adds as the formulas above, with the transposes model.c runs. */
Test(formulas, step_gemms_match_the_flop_count) {
  struct clb_shape softmax = {CLB_MODEL_SOFTMAX, 128, 0, 10};
  struct clb_shape_gemm g[CLB_SHAPE_MAX_GEMMS];
  cr_assert_eq(clb_shape_gemms(&softmax, 64, g), 2);
  cr_expect(g[0].trans_a == 0 && g[0].m == 64 && g[0].n == 10 && g[0].k == 128);
  cr_expect(g[1].trans_a == 1 && g[1].m == 128 && g[1].n == 10 && g[1].k == 64);
  struct clb_shape mlp = {CLB_MODEL_MLP, 2, 3, 2};
  size_t count = clb_shape_gemms(&mlp, 1, g);
  cr_assert_eq(count, 5);
  double gemm_flops = 0.0;
  for (size_t i = 0; i < count; i++)
    gemm_flops += 2.0 * (double)(g[i].m * g[i].n * g[i].k);
  /* 125 above less the bias GEMVs (6+4), AXPY 34, softmax 12, bias+ReLU 6, mask 3. */
  cr_expect_float_eq(gemm_flops, 125.0 - 10 - 34 - 12 - 6 - 3, 1e-12);
  cr_expect(g[3].trans_b == 1 && g[3].m == 1 && g[3].n == 3 && g[3].k == 2, "dH = dZ W2^T");
}
/* One configuration at a time, so that the rows arrive one by one while the
 * next is timed and the kill lands inside a configuration (in turns, a set's
 * rows all arrive at its end). */
Test(run, killed_worker_becomes_an_error_row_and_the_sweep_goes_on, .timeout = 240) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char path[512], command[2048];
  snprintf(path, sizeof path, "%s/w.csv", dir);
  snprintf(command, sizeof command,
           "exec %s run --device %s --model softmax,mlp --batch 1,2,4,8,16,32 " QUICK
           " --no-interleave --out %s >/dev/null 2>&1",
           CLBATCH_BINARY, clb_test_device_spec(), path);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 2000 && clb_test_count_file_lines(path) < 3; i++)
    usleep(10000);
  char kill_command[1024];
  /* "[_]_worker" matches the worker but not the shell that runs pkill. */
  snprintf(kill_command, sizeof kill_command, "pkill -KILL -f '[_]_worker.*%s'", path);
  cr_assert_eq(system(kill_command), 0, "no worker to kill");
  int status = 0;
  waitpid(pid, &status, 0);
  cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 1,
            "a failed configuration makes the run exit 1");
  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(path, &count);
  cr_expect_eq(count, 12, "the restarted worker finished the plan: %zu rows", count);
  size_t errors = 0;
  for (size_t i = 0; i < count; i++)
    if (!strcmp(rows[i].status, "error")) {
      errors++;
      cr_expect(strstr(rows[i].message, "signal 9") != NULL, "%s", rows[i].message);
    }
  cr_expect_eq(errors, 1);
  free(rows);
  free(dir);
}

/* --tune tunes what has no entry yet, in a child `clbatch tune`, then runs
 * on the result; a second --tune finds nothing left to tune. */
Test(run, tune_first_tunes_untuned_devices_then_runs, .timeout = 300) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char tune_file[512], path[512], args[1024];
  snprintf(tune_file, sizeof tune_file, "%s/tuned.conf", dir);
  setenv("CLBATCH_TUNE_FILE", tune_file, 1);
  for (int pass = 0; pass < 2; pass++) {
    snprintf(path, sizeof path, "%s/run%d.csv", dir, pass);
    snprintf(args, sizeof args,
             "run --device @DEV --model linreg --batch 8 " QUICK_LOUD
             " --tune --tune-budget 0.001 --out %s",
             path);
    char *err = NULL;
    cr_assert_eq(clb_test_run_cli(args, NULL, &err), 0, "%s", err);
    cr_expect_eq(clb_test_count_of(err, "first (--tune)"), pass == 0 ? 1 : 0, "pass %d: %s", pass,
                 err);
    cr_expect_null(strstr(err, "no tuned CLBlast parameters"), "%s", err);
    cr_expect_null(strstr(err, "before `clbatch tune` searched"), "every kernel: %s", err);
    cr_expect_null(strstr(err, "failed"), "%s", err);
    free(err);
    size_t count = 0;
    struct clb_row *rows = clb_test_read_rows(path, &count);
    cr_assert_eq(count, 1);
    cr_expect_eq(rows[0].tuned, 1, "the parameters --tune stored were applied");
    cr_expect_str_eq(rows[0].status, "ok", "%s", rows[0].message);
    free(rows);
  }
  char *text = clb_test_read_file(tune_file);
  cr_assert_not_null(text, "--tune wrote no %s", tune_file);
  cr_expect_eq(clb_test_count_of(text, "|precision=fp32|kernel=GemmRoutine]"), 1, "%s", text);
  /* The crossover was placed over the plan's GEMMs: B = 8, softmax's 2 and mlp's 5. */
  cr_expect(strstr(text, "placed over 7 GEMMs") != NULL, "%s", text);
  free(text);
  unsetenv("CLBATCH_TUNE_FILE");
  clb_test_remove_tmpdir(dir);
}

Test(run, rows_say_whether_tuned_parameters_were_used, .timeout = 300) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char tune_file[512], path[512], args[1024];
  snprintf(tune_file, sizeof tune_file, "%s/tuned.conf", dir);
  setenv("CLBATCH_TUNE_FILE", tune_file, 1);
  snprintf(path, sizeof path, "%s/before.csv", dir);
  snprintf(args, sizeof args, "run --device @DEV --model linreg --batch 8 " QUICK_LOUD " --out %s",
           path);
  char *err = NULL;
  cr_assert_eq(clb_test_run_cli(args, NULL, &err), 0, "%s", err);
  /* Said once, with the command that fixes it. */
  cr_expect_eq(clb_test_count_of(err, "has no tuned CLBlast parameters for fp32"), 1, "%s", err);
  cr_expect_not_null(strstr(err, "`clbatch tune --device "), "%s", err);
  free(err);
  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(path, &count);
  cr_assert_eq(count, 1);
  /* Nothing stored yet: CLBlast's own parameters, or clbatch's CPU starting
   * sets on a CPU that CLBlast's database does not reach. */
  cr_expect_eq(rows[0].tuned, clb_test_untuned_source(), "nothing tuned yet");
  free(rows);

  err = NULL;
  /* CLBlast's defaults only (test_tune tests the search): the crossover is
   * stored anyway, here placed over B = 8's GEMMs alone (the default plan's
   * 35 take most of the time). */
  cr_assert_eq(clb_test_run_cli("tune --device @DEV --precision fp32 --m 16 --n 16 --k 16 "
                                "--max-configs 1 --budget 30 --batch 8",
                                NULL, &err),
               0, "%s", err);
  free(err);
  /* As a clbatch from before the GEMV search would have left it: the
   * sections come in search order, so cut the file at the first GEMV one.
   * The run applies the rest and says which kernel was never searched. */
  char *text = clb_test_read_file(tune_file);
  cr_assert_not_null(text);
  char *gemv = strstr(text, "|kernel=XgemvFastRot]");
  cr_assert_not_null(gemv, "%s", text);
  while (gemv > text && gemv[-1] != '\n')
    gemv--;
  *gemv = '\0';
  free(clb_test_write_file(dir, "tuned.conf", text));
  free(text);
  snprintf(path, sizeof path, "%s/after.csv", dir);
  snprintf(args, sizeof args, "run --device @DEV --model linreg --batch 8 " QUICK_LOUD " --out %s",
           path);
  err = NULL;
  cr_assert_eq(clb_test_run_cli(args, NULL, &err), 0, "%s", err);
  cr_expect_null(strstr(err, "no tuned CLBlast parameters"), "%s", err);
  cr_expect_eq(clb_test_count_of(err, "was tuned for fp32 before `clbatch tune` searched"), 1, "%s",
               err);
  cr_expect_not_null(strstr(err, "(no XgemvFastRot entry)"), "%s", err);
  free(err);
  rows = clb_test_read_rows(path, &count);
  cr_assert_eq(count, 1);
  cr_expect_eq(rows[0].tuned, 1, "the stored parameters were applied");
  cr_expect_str_eq(rows[0].status, "ok", "%s", rows[0].message);
  free(rows);
  unsetenv("CLBATCH_TUNE_FILE");
  free(dir);
}

/* Everything after the two comment lines (which name the file itself),
 * less the host-warnings line: a record of the host at that moment (its load
 * average, say), not an input of the plan. Edits `text` in place. */
static const char *config_body(char *text) {
  char *p = text;
  for (int line = 0; line < 2 && p; line++) {
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  if (!p)
    return "";
  char *warnings = strstr(p, "host-warnings = ");
  if (warnings) {
    char *end = strchr(warnings, '\n');
    memmove(warnings, end ? end + 1 : warnings + strlen(warnings),
            strlen(end ? end + 1 : warnings + strlen(warnings)) + 1);
  }
  return p;
}

Test(run, config_file_repeats_the_run_exactly) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char args[2048], first[512], second[512], path[512];
  snprintf(first, sizeof first, "%s/first.csv", dir);
  snprintf(args, sizeof args,
           "run --device @DEV --model softmax --batch 3,5 --lr 0.0123 --seed 9 " QUICK " --out %s",
           first);
  cr_assert_eq(clb_test_run_cli(args, NULL, NULL), 0);
  snprintf(path, sizeof path, "%s/first.config", dir);
  char *a = clb_test_read_file(path);
  snprintf(second, sizeof second, "%s/second.csv", dir);
  snprintf(args, sizeof args, "run --config %s --quiet --out %s", path, second);
  cr_assert_eq(clb_test_run_cli(args, NULL, NULL), 0);
  snprintf(path, sizeof path, "%s/second.config", dir);
  char *b = clb_test_read_file(path);
  cr_assert(a && b);
  cr_expect_str_eq(config_body(a), config_body(b));
  cr_expect(strstr(a, "lr = 0.0123\n") != NULL, "%s", a);
  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(second, &count);
  cr_expect_eq(count, 2);
  free(rows);
  free(a);
  free(b);
  free(dir);
}

Test(run, json_carries_every_column_and_the_device_description) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char args[1024], path[512];
  snprintf(path, sizeof path, "%s/j.csv", dir);
  snprintf(args, sizeof args,
           "run --device @DEV --model softmax --batch 2,8 " QUICK " --format json --out %s", path);
  cr_assert_eq(clb_test_run_cli(args, NULL, NULL), 0);
  snprintf(path, sizeof path, "%s/j.json", dir);
  char *text = clb_test_read_file(path);
  cr_assert_not_null(text, "no JSON beside the CSV");
  cJSON *root = cJSON_Parse(text);
  cr_assert_not_null(root, "the JSON does not parse");
  cr_expect_eq(cJSON_GetObjectItem(root, "schema")->valuedouble, CLB_SCHEMA_VERSION);
  cJSON *description = cJSON_GetObjectItem(root, "description");
  cr_expect(cJSON_IsArray(cJSON_GetObjectItem(description, "devices")));
  cr_expect(cJSON_IsObject(cJSON_GetObjectItem(description, "host")));
  cJSON *checks = cJSON_GetObjectItem(description, "host_checks");
  cr_expect(cJSON_IsArray(cJSON_GetObjectItem(checks, "warnings_before_run")),
            "the host checks are recorded with the run");
  cJSON *rows = cJSON_GetObjectItem(root, "rows");
  cr_assert_eq(cJSON_GetArraySize(rows), 2);
  cJSON *row;
  cJSON_ArrayForEach(row, rows) {
    for (size_t c = 0; c < clb_column_count; c++)
      cr_expect_not_null(cJSON_GetObjectItem(row, clb_columns[c].name), "missing %s",
                         clb_columns[c].name);
    cr_expect_gt(cJSON_GetObjectItem(row, "samples_per_s")->valuedouble, 0);
  }
  cJSON_Delete(root);
  free(text);
  free(dir);
}

/* --repeat 2: the plan twice, rows told apart by their repeat; every row
 * carries the warnings the config file recorded about the host. */
Test(run, repeat_runs_the_plan_again_and_rows_carry_their_repeat) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char args[1024], path[512], config[512];
  snprintf(path, sizeof path, "%s/r.csv", dir);
  snprintf(args, sizeof args,
           "run --device @DEV --model softmax --batch 2,8 " QUICK " --repeat 2 --out %s", path);
  cr_assert_eq(clb_test_run_cli(args, NULL, NULL), 0);
  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(path, &count);
  cr_assert_eq(count, 4);
  static const double repeats[] = {1, 1, 2, 2}, batches[] = {2, 8, 2, 8};
  snprintf(config, sizeof config, "%s/r.config", dir);
  char *text = clb_test_read_file(config);
  cr_assert_not_null(text);
  cr_expect(strstr(text, "repeat = 2\n") != NULL, "%s", text);
  const char *line = strstr(text, "host-warnings = ");
  for (size_t i = 0; i < count; i++) {
    cr_expect_eq(rows[i].repeat, repeats[i], "row %zu", i);
    cr_expect_eq(rows[i].batch, batches[i], "row %zu", i);
    cr_expect_str_eq(rows[i].status, "ok", "%s", rows[i].message);
    if (rows[i].host_warnings[0])
      cr_expect(line && strstr(line, rows[i].host_warnings) == line + strlen("host-warnings = "),
                "row %zu: '%s' is not what the config recorded", i, rows[i].host_warnings);
  }
  free(text);
  free(rows);
  free(dir);
}

Test(run, max_batch_probe_finds_the_allocation_limit) {
  size_t hidden = pin_allocation_limit();
  if (!hidden)
    return;
  char *dir = clb_test_tmpdir();
  char args[1024], path[512];
  snprintf(path, sizeof path, "%s/p.csv", dir);
  /* The hidden activations take B x hidden x 4 bytes, and `hidden` is chosen
   * so that B = 256 is the largest batch they allow; CLBlast's temporary GEMM
   * buffer, whose size depends on the vendor's parameters, may allow less. */
  snprintf(args, sizeof args,
           "run --device @DEV --model mlp --features 4 --hidden %zu --classes 2 "
           "--samples 64 --batch 1 --warmup 1 --min-time 0.005 --max-time 0.03 "
           "--noise-batches 0 --max-batch-probe --passes 1 --quiet --out %s",
           hidden, path);
  int code = clb_test_run_cli(args, NULL, NULL);
  unpin_allocation_limit();
  cr_assert_eq(code, 0);
  size_t count = 0;
  struct clb_row *rows = clb_test_read_rows(path, &count);
  cr_assert_eq(count, 1);
  double fit = rows[0].max_batch_fit;
  cr_expect(fit >= 2 && fit <= 256, "max_batch_fit %.0f", fit);
  /* The definition, checked here with the same limits: B fits, B + 1 does not. */
  pin_allocation_limit();
  struct clb_device_list list = {0};
  const struct clb_device_info *device = NULL;
  cr_assert(clb_test_device(&list, &device));
  struct clb_error err = {0};
  struct clb_cl cl;
  cr_assert_eq(clb_cl_create(device, &cl, &err), 0, "%s", err.message);
  /* The worker's CLBlast parameters, which size CLBlast's temporary buffers. */
  enum clb_params_source source = CLB_PARAMS_CLBLAST;
  cr_assert_eq(clb_tune_apply(device, CLB_FP32, &source, &err), 0, "%s", err.message);
  struct clb_dataset data = {0};
  cr_assert_eq(clb_data_classes(64, 4, 2, 1.0, 1, &data, &err), 0, "%s", err.message);
  struct clb_shape shape = {CLB_MODEL_MLP, 4, hidden, 2};
  for (int extra = 0; extra <= 1; extra++) {
    struct clb_model_config config = {shape, CLB_FP32, (size_t)fit + (size_t)extra, 0};
    struct clb_model *model = NULL;
    int rc = clb_model_create(&cl, &config, &data, &model, &err);
    clb_model_destroy(model);
    if (extra)
      cr_expect_neq(rc, 0, "B = %.0f + 1 was accepted too", fit);
    else
      cr_expect_eq(rc, 0, "B = %.0f: %s", fit, err.message);
  }
  unpin_allocation_limit();
  clb_dataset_destroy(&data);
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
  free(rows);
  free(dir);
}

Test(cli, peak_reports_positive_rates) {
  if (!clb_test_require_device())
    return;
  char *out = NULL, *err = NULL;
  cr_assert_eq(clb_test_run_cli("peak --device @DEV --precision fp32", &out, &err), 0, "%s", err);
  /* A device line is "P:D  NAME...  GB/s  fp32": the last two numbers. */
  char needle[40];
  snprintf(needle, sizeof needle, "\n%s ", clb_test_device_spec());
  char *line = strstr(out, needle);
  cr_assert_not_null(line, "%s", out);
  line++;
  line[strcspn(line, "\n")] = '\0';
  char *gflops_text = strrchr(line, ' ');
  cr_assert_not_null(gflops_text);
  double gflops = strtod(gflops_text + 1, NULL);
  while (gflops_text > line && gflops_text[-1] == ' ')
    gflops_text--;
  *gflops_text = '\0';
  double bandwidth = strtod(strrchr(line, ' ') + 1, NULL);
  cr_expect_gt(bandwidth, 0.1, "%s", out);
  cr_expect_gt(gflops, 0.1, "%s", out);
  free(out);
  free(err);
}

Test(cli, recommend_reads_saved_results) {
  char *out = NULL;
  char args[1024];
  snprintf(args, sizeof args, "recommend %s/tests/fixtures/gpu-node01.csv", CLBATCH_SOURCE_DIR);
  cr_assert_eq(clb_test_run_cli(args, &out, NULL), 0);
  cr_expect(strstr(out, "throughput knee") != NULL, "%s", out);
  cr_expect(strstr(out, "largest B that fits") != NULL, "%s", out);
  cr_expect(strstr(out, "B* =") != NULL, "%s", out);
  free(out);
}

Test(run, noise_at_measures_after_training) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char args[1024], before[512], after[512];
  snprintf(before, sizeof before, "%s/before.csv", dir);
  snprintf(after, sizeof after, "%s/after.csv", dir);
  const char *plan = "run --device @DEV --model softmax --batch 16 --lr 0.1 --samples 256 "
                     "--features 8 --classes 3 --warmup 1 --min-time 0.005 --max-time 0.03 "
                     "--noise-batches 8 --passes 1 --quiet";
  snprintf(args, sizeof args, "%s --out %s", plan, before);
  cr_assert_eq(clb_test_run_cli(args, NULL, NULL), 0);
  snprintf(args, sizeof args, "%s --noise-at 300 --out %s", plan, after);
  cr_assert_eq(clb_test_run_cli(args, NULL, NULL), 0);
  size_t n0 = 0, n1 = 0;
  struct clb_row *r0 = clb_test_read_rows(before, &n0), *r1 = clb_test_read_rows(after, &n1);
  cr_assert(n0 == 1 && n1 == 1);
  /* Training shrinks the full gradient, so the noise scale sigma2/|G|^2 grows. */
  cr_expect_lt(r1[0].grad_norm2, 0.5 * r0[0].grad_norm2, "|G|^2 %g -> %g", r0[0].grad_norm2,
               r1[0].grad_norm2);
  cr_expect_gt(r1[0].noise_scale, r0[0].noise_scale, "B_noise %g -> %g", r0[0].noise_scale,
               r1[0].noise_scale);
  free(r0);
  free(r1);
  free(dir);
}

/* `run` measures the noise scale of the problem `train` trains on: for one
 * seed both must make the same synthetic data and the same initial
 * parameters (they used different class spreads and regression noise). */
Test(run, run_and_train_measure_the_same_problem, .timeout = 120) {
  if (!clb_test_require_device())
    return;
  const char *models[] = {"softmax --classes 3", "linreg"};
  for (size_t m = 0; m < 2; m++) {
    char *dir = clb_test_tmpdir();
    char args[1024], path[600];
    snprintf(path, sizeof path, "%s/same.csv", dir);
    snprintf(
        args, sizeof args,
        "run --device @DEV --model %s --samples 64 --features 4 --seed 5 --batch 8 "
        "--noise-batches 4 --warmup 1 --min-time 0.005 --max-time 0.03 --passes 1 --quiet --out %s",
        models[m], path);
    char *err_text = NULL;
    cr_assert_eq(clb_test_run_cli(args, NULL, &err_text), 0, "%s", err_text);
    free(err_text);
    size_t count = 0;
    struct clb_row *rows = clb_test_read_rows(path, &count);
    cr_assert_eq(count, 1);
    snprintf(args, sizeof args,
             "train --device @DEV --validate-noise --model %s --samples 64 --features 4 "
             "--seed 5 --target-loss 1e9 --batch 8 --epochs 1",
             models[m]);
    char *out = NULL;
    cr_assert_eq(clb_test_run_cli(args, &out, &err_text), 0, "%s", err_text);
    const char *at = strstr(out, "sigma2 = tr Sigma = ");
    cr_assert_not_null(at, "%s", out);
    double sigma2 = strtod(at + strlen("sigma2 = tr Sigma = "), NULL);
    cr_expect_lt(fabs(sigma2 - rows[0].sigma2) / rows[0].sigma2, 1e-5,
                 "%s: run measures sigma2 %.9g, train %.9g: not the same data", models[m],
                 rows[0].sigma2, sigma2);
    free(out);
    free(err_text);
    free(rows);
    clb_test_remove_dir(dir);
    free(dir);
  }
}
