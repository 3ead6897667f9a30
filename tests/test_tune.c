#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blas/blas.h"
#include "blas/tune.h"
#include "cl/context.h"
#include "cl/platform.h"
#include "helpers.h"

/* Points CLBATCH_TUNE_FILE at DIR/tuned.conf in a fresh directory; returns the path. */
static char *use_temp_tune_file(char **dir_out) {
  char *dir = clb_test_tmpdir();
  size_t size = strlen(dir) + 32;
  char *path = malloc(size);
  snprintf(path, size, "%s/sub/tuned.conf", dir); /* "sub" checks the directory is created */
  setenv("CLBATCH_TUNE_FILE", path, 1);
  *dir_out = dir;
  return path;
}

static void write_text(const char *path, const char *text) {
  FILE *file = fopen(path, "wb");
  cr_assert_not_null(file, "cannot write %s", path);
  fputs(text, file);
  fclose(file);
}

/* C = A B for an m x k and k x n row-major SGEMM through clbatch's CLBlast
 * wrapper, against a host triple loop in double; returns the relative error. */
static double sgemm_error(const struct clb_cl *cl, size_t m, size_t n, size_t k) {
  struct clb_error err = {0};
  struct clb_blas blas;
  clb_blas_init(&blas, cl->context, cl->queue, cl->info->name, CLB_FP32);
  float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b), *c = malloc(m * n * sizeof *c);
  for (size_t i = 0; i < m * k; i++)
    a[i] = (float)sin(0.37 * (double)i + 0.1);
  for (size_t i = 0; i < k * n; i++)
    b[i] = (float)cos(0.23 * (double)i + 0.7);
  cl_int status = CL_SUCCESS;
  cl_mem da = clCreateBuffer(cl->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                             m * k * sizeof *a, a, &status);
  cr_assert_eq(status, CL_SUCCESS);
  cl_mem db = clCreateBuffer(cl->context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                             k * n * sizeof *b, b, &status);
  cr_assert_eq(status, CL_SUCCESS);
  cl_mem dc = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, m * n * sizeof *c, NULL, &status);
  cr_assert_eq(status, CL_SUCCESS);
  cr_assert_eq(clb_blas_reserve_gemm(&blas, 0, 0, m, n, k, k, n, n, &err), 0, "%s", err.message);
  cr_assert_eq(clb_blas_gemm(&blas, 0, 0, m, n, k, 1.0, da, 0, k, db, 0, n, 0.0, dc, 0, n, NULL,
                             &err),
               0, "%s", err.message);
  cr_assert_eq(clEnqueueReadBuffer(cl->queue, dc, CL_TRUE, 0, m * n * sizeof *c, c, 0, NULL, NULL),
               CL_SUCCESS);
  double worst = 0.0, largest = 0.0;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double want = 0.0;
      for (size_t x = 0; x < k; x++)
        want += (double)a[i * k + x] * (double)b[x * n + j];
      double diff = fabs((double)c[i * n + j] - want);
      worst = diff > worst || isnan(diff) ? diff : worst;
      largest = fabs(want) > largest ? fabs(want) : largest;
    }
  clReleaseMemObject(da);
  clReleaseMemObject(db);
  clReleaseMemObject(dc);
  clb_blas_release(&blas);
  free(a);
  free(b);
  free(c);
  return worst / (largest > 0.0 ? largest : 1.0);
}

Test(tune, search_writes_entries_then_apply_keeps_gemm_correct, .timeout = 300) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  if (!clb_test_device(&list, &dev))
    return;
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir);
  /* An entry of another device and a stale one of this device: the first
   * survives the rewrite, the second is replaced. */
  char subdir[4096], seed_text[2048];
  snprintf(subdir, sizeof subdir, "%s/sub", dir);
  cr_assert_eq(mkdir(subdir, 0755), 0);
  snprintf(seed_text, sizeof seed_text,
           "# old\n[device=Some Other GPU|driver=1.0|precision=fp32|kernel=XgemmDirect]\n"
           "WGD = 8\nMDIMCD = 8\nNDIMCD = 8\nMDIMAD = 8\nNDIMBD = 8\nKWID = 2\nVWMD = 1\n"
           "VWND = 1\nPADA = 1\nPADB = 1\n\n"
           "[device=%s|driver=%s|precision=fp32|kernel=Xgemm]\nuse_defaults = 1\n",
           dev->name, dev->driver_version);
  write_text(path, seed_text);

  struct clb_cl cl = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_cl_open(dev, &cl, &err), 0, "%s", err.message);
  struct clb_tune_options options;
  clb_tune_defaults(&options);
  options.m = 32;
  options.n = 16;
  options.k = 32;
  options.max_configs = 2; /* CLBlast's defaults plus one sampled configuration */
  options.budget_s = 60.0;
  struct clb_tune_report report;
  int rc = clb_tune_search(&cl, CLB_FP32, &options, NULL, &report, &err);
  cr_assert_eq(rc, 0, "%s", err.message);
  cr_expect_str_eq(report.path, path);
  for (int i = 0; i < CLB_TUNE_KERNELS; i++) {
    cr_expect_gt(report.kernels[i].default_gflops, 0.0, "%s", report.kernels[i].kernel);
    cr_expect_gt(report.kernels[i].tuned_gflops, 0.0, "%s", report.kernels[i].kernel);
  }
  /* Per kernel the defaults are one of the candidates; GemmRoutine's "default"
   * is a separate measurement of CLBlast's own choice, so noise may put it ahead. */
  for (int i = 0; i < 2; i++)
    cr_expect_geq(report.kernels[i].tuned_gflops, report.kernels[i].default_gflops);
  cr_expect_eq(report.kernels[0].tried, 2);
  cr_expect_gt(report.kernels[0].legal, 1000);

  char *text = clb_test_read_file(path);
  cr_assert_not_null(text);
  char header[1024];
  const char *kernels[] = {"Xgemm", "XgemmDirect", "GemmRoutine"};
  for (int i = 0; i < 3; i++) {
    snprintf(header, sizeof header, "[device=%s|driver=%s|precision=fp32|kernel=%s]\n", dev->name,
             dev->driver_version, kernels[i]);
    cr_expect_eq(clb_test_count_of(text, header), 1, "%s once in:\n%s", header, text);
  }
  cr_expect(strstr(text, "[device=Some Other GPU|driver=1.0|precision=fp32|kernel=XgemmDirect]"),
            "%s", text);
  cr_expect(strstr(text, "gflops_default = "));
  cr_expect(strstr(text, "XGEMM_MIN_INDIRECT_SIZE = "));
  free(text);

  /* The stored crossover is always explicit, so something is applied. */
  int applied = 0;
  cr_assert_eq(clb_tune_apply(dev, CLB_FP32, &applied, &err), 0, "%s", err.message);
  cr_expect_eq(applied, 1);
  cr_expect_lt(sgemm_error(&cl, 33, 17, 29), 1e-5);
  clb_cl_close(&cl);
  clb_platform_list_free(&list);
  free(path);
  free(dir);
}

/* Hand-written non-default parameters on both paths: applied, and the GEMM
 * (odd sizes, so CLBlast pads) still matches the host. */
static void apply_explicit(size_t crossover) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  if (!clb_test_device(&list, &dev))
    return;
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir);
  char subdir[4096], text[4096];
  snprintf(subdir, sizeof subdir, "%s/sub", dir);
  cr_assert_eq(mkdir(subdir, 0755), 0);
  snprintf(text, sizeof text,
           "[device=%s|driver=%s|precision=fp32|kernel=Xgemm]\n"
           "GEMMK = 0\nKREG = 1\nKWG = 16\nKWI = 2\nMDIMA = 8\nMDIMC = 8\nMWG = 32\nNDIMB = 8\n"
           "NDIMC = 8\nNWG = 32\nSA = 1\nSB = 1\nSTRM = 0\nSTRN = 0\nVWM = 2\nVWN = 2\n"
           "[device=%s|driver=%s|precision=fp32|kernel=XgemmDirect]\n"
           "WGD = 16\nMDIMCD = 8\nNDIMCD = 8\nMDIMAD = 8\nNDIMBD = 8\nKWID = 2\nVWMD = 2\n"
           "VWND = 2\nPADA = 1\nPADB = 1\n"
           "[device=%s|driver=%s|precision=fp32|kernel=GemmRoutine]\n"
           "XGEMM_MIN_INDIRECT_SIZE = %zu\n",
           dev->name, dev->driver_version, dev->name, dev->driver_version, dev->name,
           dev->driver_version, crossover);
  write_text(path, text);
  struct clb_cl cl = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_cl_open(dev, &cl, &err), 0, "%s", err.message);
  int applied = 0;
  cr_assert_eq(clb_tune_apply(dev, CLB_FP32, &applied, &err), 0, "%s", err.message);
  cr_expect_eq(applied, 1);
  cr_expect_lt(sgemm_error(&cl, 37, 29, 41), 1e-5);
  clb_cl_close(&cl);
  clb_platform_list_free(&list);
  free(path);
  free(dir);
}

Test(tune, apply_explicit_indirect_gemm_correct, .timeout = 120) { apply_explicit(0); }
Test(tune, apply_explicit_direct_gemm_correct, .timeout = 120) { apply_explicit(100000); }

/* A device that needs no OpenCL: entries that do not match are never applied. */
static struct clb_device_info fake_device(void) {
  struct clb_device_info dev;
  memset(&dev, 0, sizeof dev);
  strcpy(dev.name, "Test Device 9000");
  strcpy(dev.driver_version, "1.2.3");
  return dev;
}

Test(tune, malformed_line_is_parse_error_naming_file_and_line) {
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir);
  char *bad = clb_test_write_file(dir, "bad.conf",
                                  "# comment\n"
                                  "[device=Test Device 9000|driver=1.2.3|precision=fp32|kernel=Xgemm]\n"
                                  "MWG = 64\n"
                                  "NWG 64\n");
  setenv("CLBATCH_TUNE_FILE", bad, 1);
  struct clb_device_info dev = fake_device();
  struct clb_error err = {0};
  int applied = 7;
  cr_assert_eq(clb_tune_apply(&dev, CLB_FP32, &applied, &err), CLB_E_PARSE);
  cr_expect(strstr(err.message, "bad.conf:4:") != NULL, "%s", err.message);
  cr_expect_eq(applied, 0);
  free(bad);
  free(path);
  free(dir);
}

struct bad_case {
  const char *text;
  const char *where;
};

Test(tune, other_malformed_inputs) {
  static const struct bad_case cases[] = {
      {"MWG = 64\n", ":1:"},
      {"[device=X|driver=1|precision=fp32|kernel=Xgemm\n", ":1:"},
      {"[device=X|driver=1|precision=fp99|kernel=Xgemm]\n", ":1:"},
      {"[device=X|precision=fp32|kernel=Xgemm]\n", ":1:"},
      {"[device=X|driver=1|precision=fp32|kernel=Xgemm]\nMWG = -4\n", ":2:"},
      {"[device=X|driver=1|precision=fp32|kernel=Xgemm]\nMWG = 64x\n", ":2:"},
      {"[device=X|driver=1|precision=fp32|kernel=Xgemm]\nMWG =\n", ":2:"},
      {"[device=X|driver=1|precision=fp32|kernel=Xgemm]\nMWG = 1\nMWG = 2\n", ":3:"},
      {"[device=X|driver=1|precision=fp32|kernel=Xgemm]\nMixed = 1\n", ":2:"},
      {"[device=X|driver=1|precision=fp32|kernel=Xgemm]\nuse_defaults = 2\n", ":2:"},
  };
  char *dir = clb_test_tmpdir();
  struct clb_device_info dev = fake_device();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *path = clb_test_write_file(dir, "t.conf", cases[i].text);
    setenv("CLBATCH_TUNE_FILE", path, 1);
    struct clb_error err = {0};
    int applied = 0;
    cr_expect_eq(clb_tune_apply(&dev, CLB_FP32, &applied, &err), CLB_E_PARSE, "case %zu", i);
    cr_expect(strstr(err.message, cases[i].where) != NULL, "case %zu: %s", i, err.message);
    free(path);
  }
  free(dir);
}

Test(tune, entries_of_other_devices_drivers_precisions_or_defaults_are_not_applied) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(
      dir, "t.conf",
      "[device=Some Other GPU|driver=1.2.3|precision=fp32|kernel=GemmRoutine]\n"
      "XGEMM_MIN_INDIRECT_SIZE = 64\n"
      "[device=Test Device 9000|driver=9.9|precision=fp32|kernel=GemmRoutine]\n"
      "XGEMM_MIN_INDIRECT_SIZE = 64\n"
      "[device=Test Device 9000|driver=1.2.3|precision=fp64|kernel=GemmRoutine]\n"
      "XGEMM_MIN_INDIRECT_SIZE = 64\n"
      "[device=Test Device 9000|driver=1.2.3|precision=fp32|kernel=Xgemm]\n"
      "gflops_default = 1.5\nuse_defaults = 1\n");
  setenv("CLBATCH_TUNE_FILE", path, 1);
  struct clb_device_info dev = fake_device(); /* no cl_device_id: applying would fail */
  struct clb_error err = {0};
  int applied = 7;
  cr_expect_eq(clb_tune_apply(&dev, CLB_FP32, &applied, &err), 0, "%s", err.message);
  cr_expect_eq(applied, 0);
  free(path);
  free(dir);
}

Test(tune, missing_file_is_not_an_error) {
  setenv("CLBATCH_TUNE_FILE", "/nonexistent-dir-clbatch/tuned.conf", 1);
  struct clb_device_info dev = fake_device();
  struct clb_error err = {0};
  int applied = 7;
  cr_expect_eq(clb_tune_apply(&dev, CLB_FP32, &applied, &err), 0, "%s", err.message);
  cr_expect_eq(applied, 0);
}

Test(tune, path_precedence) {
  char buf[4096];
  setenv("CLBATCH_TUNE_FILE", "/x/t.conf", 1);
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  setenv("HOME", "/home/u", 1);
  clb_tune_path(buf, sizeof buf);
  cr_expect_str_eq(buf, "/x/t.conf");
  unsetenv("CLBATCH_TUNE_FILE");
  clb_tune_path(buf, sizeof buf);
  cr_expect_str_eq(buf, "/xdg/clbatch/tuned.conf");
  unsetenv("XDG_CACHE_HOME");
  clb_tune_path(buf, sizeof buf);
  cr_expect_str_eq(buf, "/home/u/.cache/clbatch/tuned.conf");
}

Test(tune_cli, bad_usage_exits_2) {
  static const char *const args[] = {
      "tune --bogus",         "tune --m 0",           "tune --n x",
      "tune --precision fp8", "tune --precision fp32,", "tune --max-configs 0",
      "tune --budget -1",     "tune --seed 1e3",      "tune extra",
  };
  for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
    char *err_text = NULL;
    cr_expect_eq(clb_test_run_cli(args[i], NULL, &err_text), 2, "%s", args[i]);
    cr_expect(err_text && strstr(err_text, "clbatch tune"), "%s: %s", args[i],
              err_text ? err_text : "");
    free(err_text);
  }
}

Test(tune_cli, dry_run_prints_table_and_writes_nothing) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  if (!clb_test_device(&list, &dev))
    return;
  clb_platform_list_free(&list);
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir);
  char *out = NULL;
  cr_assert_eq(clb_test_run_cli("tune --device @DEV --dry-run --max-configs 4", &out, NULL), 0);
  cr_expect(strstr(out, "XgemmDirect") != NULL, "%s", out);
  cr_expect(strstr(out, "dry run") != NULL, "%s", out);
  cr_expect_null(clb_test_read_file(path));
  free(out);
  free(path);
  free(dir);
}
