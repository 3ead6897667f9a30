#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blas/blas.h"
#include "blas/cpu_start.h"
#include "blas/tune.h"
#include "blas/tune_child.h"
#include "blas/tune_crossover.h"
#include "blas/tune_local.h"
#include "blas/tune_seeds.h"
#include "blas/tune_space.h"
#include "blas/tune_store.h"
#include "cl/context.h"
#include "cl/platform.h"
#include "helpers.h"
#include "util/files.h"

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
  float *a = malloc(m * k * sizeof *a), *b = malloc(k * n * sizeof *b),
        *c = malloc(m * n * sizeof *c);
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
  /* CLBlast's GEMV computes beta * y even for beta = 0: new memory may hold NaN. */
  const float zero = 0.0f;
  cr_assert_eq(
      clEnqueueFillBuffer(cl->queue, dc, &zero, sizeof zero, 0, m * n * sizeof *c, 0, NULL, NULL),
      CL_SUCCESS);
  cr_assert_eq(clb_blas_reserve_gemm(&blas, 0, 0, m, n, k, 0, k, 0, n, 0, n, &err), 0, "%s",
               err.message);
  cr_assert_eq(
      clb_blas_gemm(&blas, 0, 0, m, n, k, 1.0, da, 0, k, db, 0, n, 0.0, dc, 0, n, NULL, &err), 0,
      "%s", err.message);
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
  clb_blas_destroy(&blas);
  free(a);
  free(b);
  free(c);
  return worst / (largest > 0.0 ? largest : 1.0);
}

/* The table row of `kernel` in `clbatch tune`'s output: default and tuned
 * GFLOP/s, configurations tried and legal. */
static int table_row(const char *out, const char *kernel, double *before, double *after,
                     size_t *tried, size_t *legal) {
  char needle[64];
  snprintf(needle, sizeof needle, " %s ", kernel);
  for (const char *line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    const char *at = strstr(line, needle);
    const char *end = strchr(line, '\n');
    if (at && (!end || at < end))
      return sscanf(at + strlen(needle), "%lf %lf %*s %*s %zu/%zu", before, after, tried, legal) ==
             4;
  }
  return 0;
}

/* --max-configs ends this search; the budget only has to let it finish
 * where PoCL compiles every candidate cold: on a 2-core AVX2 EPYC, with a
 * second test compiling beside it, 120 s ran out before XgemmDirect's and
 * XgemvFast's second configuration. */
Test(tune, search_writes_entries_then_apply_keeps_gemm_correct, .timeout = 900) {
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

  /* CLBlast's defaults plus one configuration per kernel, each in a child process. */
  char *out = NULL, *progress = NULL;
  cr_assert_eq(clb_test_run_cli("tune --device @DEV --m 32 --n 16 --k 32 --gemv-rows 512 "
                                "--max-configs 2 --budget 480 --batch 32 --features 24 "
                                "--hidden 40 --classes 3",
                                &out, &progress),
               0, "%s\n%s", out, progress);
  cr_expect(strstr(out, path) != NULL, "%s", out);
  /* Where untuned runs use clbatch's starting set, the search starts from it. */
  size_t set_count = 0, started = 0;
  const struct clb_cpu_start_set *sets = clb_tune_start_sets(dev, CLB_FP32, &set_count);
  for (size_t i = 0; i < set_count; i++)
    started += strcmp(sets[i].kernel, "Xgemm") == 0 || strcmp(sets[i].kernel, "XgemvFast") == 0 ||
               strcmp(sets[i].kernel, "Padtranspose") == 0;
  cr_expect_eq(clb_test_count_of(progress, "clbatch's CPU starting set first"), started, "%s",
               progress);
  const char *kernels[] = {"Xgemm",        "XgemmDirect", "GemmRoutine",
                           "XgemvFastRot", "XgemvFast",   "Padtranspose"};
  for (int i = 0; i < 6; i++) {
    double before = 0.0, after = 0.0;
    size_t tried = 0, legal = 0;
    cr_assert(table_row(out, kernels[i], &before, &after, &tried, &legal), "%s in:\n%s",
              kernels[i], out);
    cr_expect_gt(before, 0.0, "%s", kernels[i]);
    cr_expect_gt(after, 0.0, "%s", kernels[i]);
    /* Per kernel the defaults are one of the candidates; GemmRoutine's
     * "default" is a separate measurement of CLBlast's own choice, so noise
     * may put it ahead. */
    if (i != 2) {
      cr_expect_geq(after, before, "%s", kernels[i]);
      cr_expect_eq(tried, 2, "%s: the defaults and one more", kernels[i]);
      /* The GEMVs' sets must also fit 512 x 32 (XgemvFast: WGS * WPT divides 32),
       * the transpose's tiles too (TILE * WPT at most 32). */
      cr_expect_gt(legal, i == 0 ? 1000 : i == 1 ? 100 : 3, "%s", kernels[i]);
    }
  }
  free(out);
  free(progress);

  char *text = clb_test_read_file(path);
  cr_assert_not_null(text);
  char header[1024];
  for (int i = 0; i < 6; i++) {
    snprintf(header, sizeof header, "[device=%s|driver=%s|precision=fp32|kernel=%s]\n", dev->name,
             dev->driver_version, kernels[i]);
    cr_expect_eq(clb_test_count_of(text, header), 1, "%s once in:\n%s", header, text);
  }
  cr_expect(strstr(text, "[device=Some Other GPU|driver=1.0|precision=fp32|kernel=XgemmDirect]"),
            "%s", text);
  cr_expect(strstr(text, "gflops_default = "));
  cr_expect(strstr(text, "XGEMM_MIN_INDIRECT_SIZE = "));
  /* The crossover was placed over --batch 32's GEMMs: softmax's 2 and mlp's 5. */
  cr_expect(strstr(text, "placed over 7 GEMMs") && strstr(text, "pct_of_best_tuned = "), "%s",
            text);
  cr_expect_eq(clb_test_count_of(text, "gemv_rows = 512\ngemv_cols = 32\n"), 2, "%s", text);
  cr_expect_eq(clb_test_count_of(text, "transpose_rows = 512\ntranspose_cols = 32\n"), 1, "%s",
               text);
  cr_expect_eq(clb_test_count_of(text, "gbps_tuned = "), 1, "%s", text);
  free(text);

  /* The stored crossover is always explicit, so something is applied. */
  struct clb_cl cl = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_cl_create(dev, &cl, &err), 0, "%s", err.message);
  enum clb_params_source applied = CLB_PARAMS_CLBLAST;
  cr_assert_eq(clb_tune_apply(dev, CLB_FP32, &applied, &err), 0, "%s", err.message);
  cr_expect_eq(applied, CLB_PARAMS_TUNED);
  cr_expect_lt(sgemm_error(&cl, 33, 17, 29), 1e-5);
  /* Both GEMVs of the searched shape (blas.c runs one output column or row as GEMV). */
  cr_expect_lt(sgemm_error(&cl, 512, 1, 32), 1e-5);
  cr_expect_lt(sgemm_error(&cl, 1, 32, 512), 1e-5);
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
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
           "XGEMM_MIN_INDIRECT_SIZE = %zu\n"
           "[device=%s|driver=%s|precision=fp32|kernel=XgemvFastRot]\n"
           "VW3 = 8\nWGS3 = 16\nWPT3 = 8\n"
           "[device=%s|driver=%s|precision=fp32|kernel=XgemvFast]\n"
           "VW2 = 1\nWGS2 = 64\nWPT2 = 4\n"
           "[device=%s|driver=%s|precision=fp32|kernel=Padtranspose]\n"
           "PADTRA_PAD = 1\nPADTRA_TILE = 16\nPADTRA_WPT = 2\n",
           dev->name, dev->driver_version, dev->name, dev->driver_version, dev->name,
           dev->driver_version, crossover, dev->name, dev->driver_version, dev->name,
           dev->driver_version, dev->name, dev->driver_version);
  write_text(path, text);
  struct clb_cl cl = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_cl_create(dev, &cl, &err), 0, "%s", err.message);
  enum clb_params_source applied = CLB_PARAMS_CLBLAST;
  cr_assert_eq(clb_tune_apply(dev, CLB_FP32, &applied, &err), 0, "%s", err.message);
  cr_expect_eq(applied, CLB_PARAMS_TUNED);
  cr_expect_lt(sgemm_error(&cl, 37, 29, 41), 1e-5);
  /* GEMVs on the fast kernels with these sets, and on CLBlast's generic
   * Xgemv (odd sizes). y = X^T r with X 256 x 64 passes CLBlast's own check
   * for XgemvFast when X is given row-major and transposed (256 rows a
   * multiple of WGS2 * WPT2, 64 columns of WGS2), but the kernel then runs
   * 64 / WPT2 = 16 work-items in groups of 64: blas.c must not let it. */
  cr_expect_lt(sgemm_error(&cl, 256, 1, 64), 1e-5);
  cr_expect_lt(sgemm_error(&cl, 1, 64, 256), 1e-5);
  cr_expect_lt(sgemm_error(&cl, 1, 256, 256), 1e-5);
  cr_expect_lt(sgemm_error(&cl, 37, 1, 41), 1e-5);
  cr_expect_lt(sgemm_error(&cl, 1, 41, 37), 1e-5);
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
  free(path);
  free(dir);
}

Test(tune, apply_explicit_indirect_gemm_correct, .timeout = 120) {
  apply_explicit(0);
}
Test(tune, apply_explicit_direct_gemm_correct, .timeout = 120) {
  apply_explicit(100000);
}

/* A device that needs no OpenCL: entries that do not match are never applied. */
static struct clb_device_info fake_device(void) {
  struct clb_device_info dev;
  memset(&dev, 0, sizeof dev);
  strcpy(dev.name, "Test Device 9000");
  strcpy(dev.driver_version, "1.2.3");
  return dev;
}

/* Where the parameters would come from, read without applying anything: the
 * fake devices have no OpenCL handle, so a CLBlast call would fail. */
Test(tune, source_is_read_without_applying) {
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir);
  struct clb_device_info gpu = fake_device(), amd_cpu = fake_device();
  gpu.type = CL_DEVICE_TYPE_GPU;
  amd_cpu.type = CL_DEVICE_TYPE_CPU;
  strcpy(amd_cpu.vendor, "AuthenticAMD"); /* PoCL on an AMD processor: CPU starting sets */
  struct clb_error err = {0};
  enum clb_params_source source = CLB_PARAMS_TUNED;
  cr_assert_eq(clb_tune_source(&gpu, CLB_FP32, &source, &err), 0, "%s", err.message);
  cr_expect_eq(source, CLB_PARAMS_CLBLAST, "no file: CLBlast's own");
  cr_assert_eq(clb_tune_source(&amd_cpu, CLB_FP32, &source, &err), 0, "%s", err.message);
  cr_expect_eq(source, CLB_PARAMS_CPU_START);
  char sub[4096];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  cr_assert_eq(mkdir(sub, 0755), 0);
  write_text(path, "[device=Test Device 9000|driver=1.2.3|precision=fp32|kernel=Xgemm]\n"
                   "MWG = 64\n");
  cr_assert_eq(clb_tune_source(&gpu, CLB_FP32, &source, &err), 0, "%s", err.message);
  cr_expect_eq(source, CLB_PARAMS_TUNED);
  cr_assert_eq(clb_tune_source(&amd_cpu, CLB_FP32, &source, &err), 0, "%s", err.message);
  cr_expect_eq(source, CLB_PARAMS_TUNED, "a tuned kernel outweighs the starting sets");
  cr_assert_eq(clb_tune_source(&gpu, CLB_FP64, &source, &err), 0, "%s", err.message);
  cr_expect_eq(source, CLB_PARAMS_CLBLAST, "the entry is fp32's");
  free(path);
  clb_test_remove_tmpdir(dir);
}

Test(tune, malformed_line_is_parse_error_naming_file_and_line) {
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir);
  char *bad =
      clb_test_write_file(dir, "bad.conf",
                          "# comment\n"
                          "[device=Test Device 9000|driver=1.2.3|precision=fp32|kernel=Xgemm]\n"
                          "MWG = 64\n"
                          "NWG 64\n");
  setenv("CLBATCH_TUNE_FILE", bad, 1);
  struct clb_device_info dev = fake_device();
  struct clb_error err = {0};
  enum clb_params_source applied = CLB_PARAMS_TUNED;
  cr_assert_eq(clb_tune_apply(&dev, CLB_FP32, &applied, &err), CLB_E_PARSE);
  cr_expect(strstr(err.message, "bad.conf:4:") != NULL, "%s", err.message);
  cr_expect_eq(applied, CLB_PARAMS_CLBLAST);
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
    enum clb_params_source applied = CLB_PARAMS_CLBLAST;
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
  enum clb_params_source applied = CLB_PARAMS_TUNED;
  cr_expect_eq(clb_tune_apply(&dev, CLB_FP32, &applied, &err), 0, "%s", err.message);
  cr_expect_eq(applied, CLB_PARAMS_CLBLAST);
  free(path);
  free(dir);
}

Test(tune, missing_file_is_not_an_error) {
  setenv("CLBATCH_TUNE_FILE", "/nonexistent-dir-clbatch/tuned.conf", 1);
  struct clb_device_info dev = fake_device();
  struct clb_error err = {0};
  enum clb_params_source applied = CLB_PARAMS_TUNED;
  cr_expect_eq(clb_tune_apply(&dev, CLB_FP32, &applied, &err), 0, "%s", err.message);
  cr_expect_eq(applied, CLB_PARAMS_CLBLAST);
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
      "tune --bogus",
      "tune --m 0",
      "tune --n x",
      "tune --precision fp8",
      "tune --precision fp32,",
      "tune --max-configs 0",
      "tune --budget -1",
      "tune --seed 1e3",
      "tune extra",
      "tune --features 0",
      "tune --classes 1",
      "tune --hidden x",
      "tune --batch 0",
      "tune --batch 16,",
      "tune --batch 2,3,4,5,6,7,8,9,10,11",
      /* The internal per-configuration command refuses what it cannot read. */
      "__tune-config 0:0 fp32 8 8 8",
      "__tune-config 0:0 fp99 8 8 8 1 clblast time gemm - -",
      "__tune-config 0:0 fp32 8 8 8 1 clblast time gemm Xgemm MWG",
      "__tune-config 0:0 fp32 8 8 8 1 clblast time syrk - -",
      "__tune-shapes 0:0 fp32 0 42",
      "__tune-shapes 0:0 fp32 0 42 8x8:nn",
      "__tune-shapes 0:0 fp32 0 42 8x8x8:nx",
      "__tune-shapes 0:0 fp32 0 42 0x8x8:nn",
      "__tune-shapes 0:0 fp32 many 42 8x8x8:nn",
      "__tune-shapes 0:0 fp32 0,,1048576 42 8x8x8:nn",
      "__tune-shapes 0:0 fp32 0, 42 8x8x8:nn",
      "__tune-shapes 0:0 fp32 1048577 42 8x8x8:nn",
      "__tune-shapes 0:0 fp32 0,1,0,1,0,1,0,1,0 42 8x8x8:nn",
  };
  for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
    char *err_text = NULL;
    cr_expect_eq(clb_test_run_cli(args[i], NULL, &err_text), 2, "%s", args[i]);
    const char *who = strncmp(args[i], "__tune-shapes", 13) == 0 ? "__tune-shapes"
                      : args[i][0] == '_'                        ? "__tune-config"
                                                                 : "clbatch tune";
    cr_expect(err_text && strstr(err_text, who), "%s: %s", args[i], err_text ? err_text : "");
    free(err_text);
  }
}

Test(tune_cli, dry_run_prints_table_and_writes_nothing) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  if (!clb_test_device(&list, &dev))
    return;
  clb_platform_list_destroy(&list);
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

/* ---------------------------------------------------------------------------------------------
 * The store: what clb_tune_store_save writes, clb_tune_store_load reads back. */

static const struct clb_tune_entry *find_entry(const struct clb_tune_file *file,
                                               const struct clb_device_info *dev,
                                               const char *kernel) {
  for (size_t i = 0; i < file->count; i++)
    if (clb_tune_store_matches(&file->entries[i], dev, CLB_FP32) &&
        strcmp(file->entries[i].kernel, kernel) == 0)
      return &file->entries[i];
  return NULL;
}

/* One kernel's result that beat CLBlast's defaults with three parameters. */
static void tuned_result(struct clb_tune_kernel_result *r, const char *kernel,
                         const char *const names[3], const size_t values[3], double before,
                         double after) {
  r->kernel = kernel;
  r->legal = 1000;
  r->tried = 4;
  r->default_gflops = before;
  r->tuned_gflops = after;
  r->param_count = 3;
  for (size_t p = 0; p < 3; p++) {
    r->param_names[p] = names[p];
    r->param_values[p] = values[p];
  }
}

/* A report of every kernel: Xgemm, XgemvFastRot and Padtranspose tuned,
 * XgemmDirect and XgemvFast on CLBlast's defaults, the crossover at `crossover`. */
static void fill_report(struct clb_tune_report *report, size_t mwg, size_t crossover) {
  static const char *const xgemm_names[] = {"MWG", "NWG", "VWM"};
  static const char *const rot_names[] = {"VW3", "WGS3", "WPT3"};
  memset(report, 0, sizeof *report);
  struct clb_tune_kernel_result *d = &report->kernels[1], *r = &report->kernels[2],
                                *f = &report->kernels[4];
  tuned_result(&report->kernels[0], "Xgemm", xgemm_names, (size_t[]){mwg, 32, 2}, 10.0, 12.5);
  static const char *const transpose_names[] = {"PADTRA_PAD", "PADTRA_TILE", "PADTRA_WPT"};
  tuned_result(&report->kernels[3], "XgemvFastRot", rot_names, (size_t[]){8, 16, 8}, 3.3, 7.7);
  tuned_result(&report->kernels[5], "Padtranspose", transpose_names, (size_t[]){0, 64, 1}, 20.9,
               51.1);
  d->kernel = "XgemmDirect";
  f->kernel = "XgemvFast";
  d->legal = 100;
  f->legal = 30;
  d->tried = f->tried = 4;
  d->skipped = 1;
  d->default_gflops = d->tuned_gflops = 5.0;
  f->default_gflops = f->tuned_gflops = 8.4;
  d->use_defaults = f->use_defaults = 1;
  r->kernel = "GemmRoutine";
  r->legal = r->tried = 1;
  r->param_count = 1;
  r->param_names[0] = "XGEMM_MIN_INDIRECT_SIZE";
  r->param_values[0] = crossover;
}

Test(tune_store, save_then_load_round_trips_and_keeps_other_sections_verbatim) {
  char *dir = clb_test_tmpdir();
  char path[4096];
  snprintf(path, sizeof path, "%s/deep/er/tuned.conf", dir);
  /* A name with the header's separators: stored and matched by one rule. */
  struct clb_device_info dev = fake_device();
  strcpy(dev.name, " Test|Device [9000] ");
  static const char other[] = "[device=Other GPU|driver=2.0|precision=fp64|kernel=Xgemm]\n"
                              "# a note a person wrote\n"
                              "gflops_tuned = 1.000\n"
                              "MWG = 128";
  struct clb_tune_options options;
  clb_tune_defaults(&options);
  struct clb_tune_report report;
  struct clb_error err = {0};
  struct clb_tune_file file = {0};
  for (int round = 0; round < 2; round++) {
    if (round == 0) {
      char *first = clb_test_write_file(dir, "seed.conf", other);
      cr_assert_eq(clb_mkdir_parents(path, &err), 0, "%s", err.message);
      cr_assert_eq(rename(first, path), 0);
      free(first);
    }
    /* The second save replaces this device's sections instead of adding more. */
    fill_report(&report, round == 0 ? 64 : 128, round == 0 ? 161 : 40);
    cr_assert_eq(clb_tune_store_save(path, &dev, CLB_FP32, &report, &options, &err), 0, "%s",
                 err.message);
    cr_assert_eq(clb_tune_store_load(path, &file, &err), 0, "%s", err.message);
    cr_expect_eq(file.count, 7, "round %d", round);
    const struct clb_tune_entry *x = find_entry(&file, &dev, "Xgemm");
    const struct clb_tune_entry *d = find_entry(&file, &dev, "XgemmDirect");
    const struct clb_tune_entry *r = find_entry(&file, &dev, "GemmRoutine");
    const struct clb_tune_entry *g = find_entry(&file, &dev, "XgemvFastRot");
    const struct clb_tune_entry *f = find_entry(&file, &dev, "XgemvFast");
    const struct clb_tune_entry *t = find_entry(&file, &dev, "Padtranspose");
    cr_assert(x && d && r && g && f && t, "round %d: all six kernels stored:\n%s", round,
              file.text);
    cr_assert_eq(t->param_count, 3);
    cr_expect_str_eq(t->names[1], "PADTRA_TILE");
    cr_expect_eq(t->values[1], 64);
    cr_assert_eq(g->param_count, 3);
    cr_expect_str_eq(g->names[1], "WGS3");
    cr_expect_eq(g->values[1], 16);
    cr_expect_eq(f->use_defaults, 1);
    cr_expect_str_eq(x->device, "Test_Device _9000_");
    cr_expect_eq(x->use_defaults, 0);
    cr_assert_eq(x->param_count, 3);
    for (size_t p = 0; p < 3; p++) {
      cr_expect_str_eq(x->names[p], report.kernels[0].param_names[p]);
      cr_expect_eq(x->values[p], report.kernels[0].param_values[p]);
    }
    cr_expect_eq(d->use_defaults, 1);
    cr_expect_eq(d->param_count, 0);
    cr_assert_eq(r->param_count, 1);
    cr_expect_eq(r->values[0], report.kernels[2].param_values[0]);
    cr_expect(strstr(file.text, other) != NULL, "round %d:\n%s", round, file.text);
    cr_expect(strstr(file.text, "gflops_tuned = 12.500\n") != NULL, "%s", file.text);
    /* The transpose is measured in GB/s, on its own matrix. */
    cr_expect(strstr(file.text, "transpose_rows = 4096\ntranspose_cols = 256\nseed = 42\n"
                                "gbps_default = 20.900\ngbps_tuned = 51.100\n") != NULL,
              "%s", file.text);
    clb_tune_store_destroy(&file);
  }
  clb_test_remove_dir(dir);
  free(dir);
}

Test(tune_store, a_file_that_does_not_parse_is_never_overwritten) {
  char *dir = clb_test_tmpdir();
  static const char broken[] = "[device=X|driver=1|precision=fp32|kernel=Xgemm]\nMWG = lots\n";
  char *path = clb_test_write_file(dir, "tuned.conf", broken);
  struct clb_device_info dev = fake_device();
  struct clb_tune_options options;
  clb_tune_defaults(&options);
  struct clb_tune_report report;
  fill_report(&report, 64, 161);
  struct clb_error err = {0};
  cr_expect_eq(clb_tune_store_save(path, &dev, CLB_FP32, &report, &options, &err), CLB_E_PARSE);
  cr_expect(strstr(err.message, "tuned.conf:2:") != NULL, "%s", err.message);
  char *text = clb_test_read_file(path);
  cr_expect_str_eq(text, broken);
  free(text);
  free(path);
  clb_test_remove_dir(dir);
  free(dir);
}

/* ---------------------------------------------------------------------------------------------
 * The spaces: CLBlast's constraints and the device's limits. */

/* MWG=NWG=32, KWG=16, 8x8 threads, vector width 2, local memory for A and B:
 * legal, and needs 4 * (16*32 + 16*32) = 4096 bytes of local memory in fp32. */
static const size_t xgemm_ok[CLB_X_COUNT] = {0, 1, 16, 2, 8, 8, 32, 8, 8, 32, 1, 1, 0, 0, 2, 2};

Test(tune_space, xgemm_constraints_and_device_limits) {
  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 256, 4096, 4, 256, 64, 256);
  const struct clb_tune_space *space = &clb_tune_xgemm_gemmk0;
  size_t v[CLB_X_COUNT];
  cr_expect(space->legal(xgemm_ok, &lim));

  memcpy(v, xgemm_ok, sizeof v);
  v[CLB_X_KWI] = 3; /* KWG must be a multiple of KWI */
  cr_expect_not(space->legal(v, &lim));
  memcpy(v, xgemm_ok, sizeof v);
  v[CLB_X_VWM] = 8; /* MWG must be a multiple of MDIMC * VWM */
  cr_expect_not(space->legal(v, &lim));
  memcpy(v, xgemm_ok, sizeof v);
  v[CLB_X_MDIMA] = 32; /* MWG must be a multiple of MDIMA * VWM */
  cr_expect_not(space->legal(v, &lim));
  memcpy(v, xgemm_ok, sizeof v);
  v[CLB_X_MDIMA] = 2; /* KWG must be a multiple of KDIMA = MDIMC * NDIMC / MDIMA (32) */
  cr_expect_not(space->legal(v, &lim));
  /* GEMMK=1 (2D register tiling): KREG a multiple of VWN, MDIMC == MDIMA. */
  static const size_t gemmk1_ok[CLB_X_COUNT] = {1, 2, 1, 1, 8, 8, 32, 8, 8, 32, 0, 0, 0, 0, 2, 2};
  cr_expect(clb_tune_xgemm_gemmk1.legal(gemmk1_ok, &lim));
  memcpy(v, gemmk1_ok, sizeof v);
  v[CLB_X_KREG] = 1;
  cr_expect_not(clb_tune_xgemm_gemmk1.legal(v, &lim));
  memcpy(v, gemmk1_ok, sizeof v);
  v[CLB_X_MDIMA] = 16;
  cr_expect_not(clb_tune_xgemm_gemmk1.legal(v, &lim));

  /* The device: work-group size, local memory (to the byte), tiles past the matrix. */
  lim.max_work_group = 63;
  cr_expect_not(space->legal(xgemm_ok, &lim));
  lim.max_work_group = 64;
  lim.local_mem_bytes = 4095;
  cr_expect_not(space->legal(xgemm_ok, &lim));
  clb_tune_limits_init(&lim, 256, 4096, 8, 256, 64, 256); /* fp64: twice the bytes */
  cr_expect_not(space->legal(xgemm_ok, &lim));
  clb_tune_limits_init(&lim, 256, 65536, 4, 256, 16, 256); /* n = 16: NWG 32 is still in */
  cr_expect(space->legal(xgemm_ok, &lim));
  memcpy(v, xgemm_ok, sizeof v);
  v[CLB_X_NWG] = 64; /* ... 64 only pads */
  cr_expect_not(space->legal(v, &lim));
}

Test(tune_space, direct_constraints_and_local_memory) {
  /* WGD=16, 8x8 threads, vector width 2, padding: 4 * (16*17 + 16*17) = 2176 bytes. */
  static const size_t ok[CLB_D_COUNT] = {16, 8, 8, 8, 8, 2, 2, 2, 1, 1};
  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 256, 2176, 4, 256, 64, 256);
  const struct clb_tune_space *space = &clb_tune_xgemm_direct;
  cr_expect(space->legal(ok, &lim));
  lim.local_mem_bytes = 2175;
  cr_expect_not(space->legal(ok, &lim));
  lim.local_mem_bytes = 2176;
  size_t v[CLB_D_COUNT];
  memcpy(v, ok, sizeof v);
  v[CLB_D_KWID] = 3; /* WGD must be a multiple of KWID */
  cr_expect_not(space->legal(v, &lim));
  memcpy(v, ok, sizeof v);
  v[CLB_D_VWMD] = 4; /* WGD must be a multiple of MDIMCD * VWMD */
  cr_expect_not(space->legal(v, &lim));
}

Test(tune_space, gemv_constraints_local_memory_and_the_shape_the_fast_kernels_need) {
  /* XgemvFastRot VW3=8 WGS3=16 WPT3=8: 4 * (16 + 8*16) = 576 bytes of local memory. */
  static const size_t rot_ok[CLB_G_COUNT] = {8, 16, 8};
  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 256, 576, 4, 256, 64, 256);
  const struct clb_tune_space *rot = &clb_tune_xgemv_fast_rot, *fast = &clb_tune_xgemv_fast;
  cr_expect(rot->legal(rot_ok, &lim), "no GEMV shape: any");
  lim.local_mem_bytes = 575;
  cr_expect_not(rot->legal(rot_ok, &lim));
  lim.local_mem_bytes = 65536;
  size_t v[CLB_G_COUNT];
  memcpy(v, rot_ok, sizeof v);
  v[CLB_G_WPT] = 4; /* WPT a multiple of VW */
  cr_expect_not(rot->legal(v, &lim));
  cr_expect(fast->legal(v, &lim) == 0, "the same rule for XgemvFast");
  memcpy(v, rot_ok, sizeof v);
  v[CLB_G_WPT] = 32; /* the rotated kernel: WGS >= WPT */
  cr_expect_not(rot->legal(v, &lim));
  cr_expect(fast->legal(v, &lim), "XgemvFast has no such rule");
  lim.max_work_group = 8;
  cr_expect_not(rot->legal(rot_ok, &lim));
  lim.max_work_group = 256;
  /* CLBlast runs a fast kernel only when its outputs are a multiple of
   * WGS * WPT and its inputs of WGS (and rows of VW): y = X w has one output
   * per row of X, y = X^T r one per column. */
  lim.gemv_rows = 4096;
  lim.gemv_cols = 256;
  cr_expect(rot->legal(rot_ok, &lim));
  lim.gemv_rows = 4096 + 64; /* not a multiple of 128 */
  cr_expect_not(rot->legal(rot_ok, &lim));
  lim.gemv_rows = 4096;
  lim.gemv_cols = 8; /* not a multiple of 16 */
  cr_expect_not(rot->legal(rot_ok, &lim));
  static const size_t fast_ok[CLB_G_COUNT] = {4, 16, 4};
  lim.gemv_cols = 256;
  cr_expect(fast->legal(fast_ok, &lim));
  lim.gemv_cols = 32; /* 16 * 4 outputs a work-group: not a multiple */
  cr_expect_not(fast->legal(fast_ok, &lim));
  lim.gemv_cols = 256;
  lim.gemv_rows = 4096 + 8; /* inputs not a multiple of 16 */
  cr_expect_not(fast->legal(fast_ok, &lim));
  lim.gemv_rows = 4096 + 16;
  cr_expect(fast->legal(fast_ok, &lim));
}

Test(tune_space, padtranspose_work_group_local_memory_and_the_matrix) {
  /* PAD=1 TILE=16 WPT=2: 16 x 16 work-items, 4 * 32 * (32 + 1) = 4224 bytes. */
  static const size_t ok[CLB_P_COUNT] = {1, 16, 2};
  const struct clb_tune_space *space = &clb_tune_padtranspose;
  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 256, 4224, 4, 256, 64, 256);
  cr_expect(space->legal(ok, &lim), "no matrix to fit: any");
  lim.local_mem_bytes = 4223;
  cr_expect_not(space->legal(ok, &lim), "the padding column counts");
  lim.local_mem_bytes = 65536;
  lim.max_work_group = 255;
  cr_expect_not(space->legal(ok, &lim), "TILE x TILE work-items");
  lim.max_work_group = 256;
  lim.transpose_rows = 4096;
  lim.transpose_cols = 32;
  cr_expect(space->legal(ok, &lim), "a 32-wide tile fits 32 columns");
  lim.transpose_cols = 16;
  cr_expect_not(space->legal(ok, &lim), "a 32-wide tile on 16 columns only pads");
  /* The space is CLBlast's: 2 x 4 x 5 sets. */
  cr_expect_eq(clb_tune_space_size(space), 40);
}

/* The transpose the tuner times: verified entry by entry against the host on
 * an odd shape (CLBlast pads it), on CLBlast's defaults and on a set of its
 * own, each in the child command the search runs. */
Test(tune_cli, transpose_child_verifies_and_scores_in_gb_per_s, .timeout = 120) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  if (!clb_test_device(&list, &dev))
    return;
  clb_platform_list_destroy(&list);
  static const char *const params[] = {"-", "PADTRA_PAD=1,PADTRA_TILE=16,PADTRA_WPT=2"};
  for (int i = 0; i < 2; i++) {
    char args[256], *out = NULL;
    snprintf(args, sizeof args, "__tune-config @DEV fp32 37 29 1 42 clblast time transpose %s %s",
             i ? "Padtranspose" : "-", params[i]);
    cr_assert_eq(clb_test_run_cli(args, &out, NULL), 0, "%s", args);
    double gbps = 0.0;
    cr_expect_eq(sscanf(out, "gflops %lf", &gbps), 1, "%s: %s", args, out);
    cr_expect_gt(gbps, 0.0, "%s: %s", args, out);
    free(out);
  }
}

Test(tune_space, candidates_are_legal) {
  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 256, 32768, 4, 256, 64, 256);
  static const struct clb_tune_space *const spaces[] = {&clb_tune_xgemm_gemmk0,
                                                        &clb_tune_xgemm_gemmk1};
  struct clb_tune_candidates a = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_tune_candidates_list(spaces, 2, &lim, &a, &err), 0, "%s", err.message);
  size_t total = clb_tune_space_size(spaces[0]) + clb_tune_space_size(spaces[1]);
  cr_expect_gt(a.count, 1000);
  cr_expect_lt(a.count, total, "the constraints remove configurations");
  size_t values[CLB_TUNE_MAX_PARAMS], per_space[2] = {0, 0};
  for (size_t i = 0; i < a.count; i++) {
    const struct clb_tune_space *space = spaces[a.items[i] >> 32];
    per_space[a.items[i] >> 32]++;
    clb_tune_space_decode(space, (size_t)(a.items[i] & 0xffffffffu), values);
    if (i % 97 == 0)
      cr_expect(space->legal(values, &lim), "candidate %zu", i);
  }
  cr_expect_gt(per_space[0], 0);
  cr_expect_gt(per_space[1], 0);
  clb_tune_candidates_destroy(&a);
}

Test(tune_space, a_ruled_out_set_moves_to_its_nearest_legal_configuration) {
  /* n = 16: NWG 64 only pads, so CLBlast's Intel-CPU set (NWG 64) is out. */
  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 4096, 65536, 4, 256, 16, 256);
  static const struct clb_tune_space *const spaces[] = {&clb_tune_xgemm_gemmk0,
                                                        &clb_tune_xgemm_gemmk1};
  static const size_t intel_cpu[CLB_X_COUNT] = {0, 1, 32, 2, 16, 16, 64, 8, 8, 64,
                                                0, 0, 0, 0, 4, 4};
  struct clb_tune_candidates list = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_tune_candidates_list(spaces, 2, &lim, &list, &err), 0, "%s", err.message);
  cr_assert_not(clb_tune_xgemm_gemmk0.legal(intel_cpu, &lim));
  size_t nearest[CLB_TUNE_MAX_PARAMS];
  size_t differ = clb_tune_nearest(spaces, &list, &clb_tune_xgemm_gemmk0, intel_cpu, nearest);
  cr_expect_eq(differ, 1, "NWG 64 -> 32 is enough");
  cr_expect(clb_tune_xgemm_gemmk0.legal(nearest, &lim));
  cr_expect_eq(nearest[CLB_X_NWG], 32);
  cr_expect_eq(nearest[CLB_X_MWG], 64, "the rest is kept");
  /* A legal set is its own nearest. */
  cr_expect_eq(clb_tune_nearest(spaces, &list, &clb_tune_xgemm_gemmk0, nearest, nearest), 0);
  clb_tune_candidates_destroy(&list);
}

/* ---- The walk (tune_local.h), on made-up scores ----------------------------- */

/* A score that peaks at one legal Xgemm configuration and falls with each
 * parameter's distance from it (in steps of its value list), so the walk
 * can climb to it; `measured` records every point, `budget` stops it. */
struct fake_objective {
  size_t target[CLB_X_COUNT];
  const struct clb_tune_limits *lim;
  size_t measured, budget, prepared;
  size_t seen_keys[512][CLB_X_COUNT];
  int illegal, repeated;
};

static size_t value_rank(const struct clb_tune_param *param, size_t value) {
  for (size_t i = 0; i < param->count; i++)
    if (param->values[i] == value)
      return i;
  return param->count;
}

static int fake_measure(void *context, const struct clb_tune_point *point,
                        const struct clb_tune_step *step, double *score, struct clb_error *err) {
  (void)step;
  (void)err;
  struct fake_objective *f = context;
  f->illegal += !point->space->legal(point->values, f->lim);
  for (size_t i = 0; i < f->measured && i < 512; i++)
    f->repeated += memcmp(f->seen_keys[i], point->values, sizeof f->seen_keys[i]) == 0;
  if (f->measured < 512)
    memcpy(f->seen_keys[f->measured], point->values, sizeof f->seen_keys[0]);
  f->measured++;
  double distance = 0.0;
  for (size_t p = 0; p < point->space->count; p++) {
    const struct clb_tune_param *param = &point->space->params[p];
    double d = (double)value_rank(param, point->values[p]) - (double)value_rank(param, f->target[p]);
    distance += d < 0 ? -d : d;
  }
  *score = 100.0 / (1.0 + distance);
  return 0;
}

static int fake_should_stop(void *context) {
  const struct fake_objective *f = context;
  return f->measured >= f->budget;
}

static int fake_prepare(void *context, const struct clb_tune_point *points, size_t count,
                        struct clb_error *err) {
  (void)points;
  (void)err;
  struct fake_objective *f = context;
  f->prepared += count;
  return 0;
}

static const size_t xgemm_target[CLB_X_COUNT] = {0, 1, 32, 2, 16, 16, 64, 8, 8, 64,
                                                 1, 0, 1, 0, 4, 2};

static void walk_from(const size_t *start, size_t budget, struct fake_objective *f,
                      struct clb_tune_walk_result *result) {
  static struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 4096, 65536, 4, 256, 64, 256);
  static const struct clb_tune_space *const spaces[] = {&clb_tune_xgemm_gemmk0,
                                                        &clb_tune_xgemm_gemmk1};
  memset(f, 0, sizeof *f);
  memcpy(f->target, xgemm_target, sizeof f->target);
  cr_assert(clb_tune_xgemm_gemmk0.legal(f->target, &lim));
  f->lim = &lim;
  f->budget = budget;
  struct clb_tune_point seeds[2] = {{&clb_tune_xgemm_gemmk0, {0}}, {&clb_tune_xgemm_gemmk0, {0}}};
  memcpy(seeds[0].values, start, CLB_X_COUNT * sizeof *start);
  memcpy(seeds[1].values, start, CLB_X_COUNT * sizeof *start); /* a duplicate: measured once */
  struct clb_tune_walk_callbacks callbacks = {fake_measure, fake_should_stop, fake_prepare, 2, f};
  struct clb_error err = {0};
  cr_assert_eq(clb_tune_walk(spaces, 2, &lim, seeds, 2, 500, 0.02, &callbacks, result, &err), 0,
               "%s", err.message);
}

Test(tune_walk, climbs_to_the_peak_through_legal_points_only_once_each) {
  /* CLBlast's all-device default: seven parameters away from the target. */
  static const size_t start[CLB_X_COUNT] = {0, 1, 32, 2, 8, 8, 32, 8, 8, 32, 1, 1, 0, 0, 4, 4};
  struct fake_objective f;
  struct clb_tune_walk_result result;
  walk_from(start, 10000, &f, &result);
  cr_expect_eq(result.best_score, 100.0, "the peak is reached");
  cr_expect_eq(memcmp(result.best.values, xgemm_target, sizeof xgemm_target), 0);
  cr_expect(result.converged);
  cr_expect_gt(result.improvements, 2);
  cr_expect_eq(result.measured, f.measured);
  cr_expect_eq(f.illegal, 0, "only legal configurations are measured");
  cr_expect_eq(f.repeated, 0, "no configuration is measured twice");
  cr_expect_lt(f.measured, 500, "far fewer than the space's 80 000");
  cr_expect_gt(f.prepared, 0, "batches are handed to prepare");
}

Test(tune_walk, stops_when_told_and_keeps_the_best_so_far) {
  static const size_t start[CLB_X_COUNT] = {0, 1, 32, 2, 8, 8, 32, 8, 8, 32, 1, 1, 0, 0, 4, 4};
  struct fake_objective f;
  struct clb_tune_walk_result result;
  walk_from(start, 5, &f, &result);
  cr_expect_eq(f.measured, 5);
  cr_expect_eq(result.measured, 5);
  cr_expect_not(result.converged);
  cr_expect_gt(result.best_score, 0.0);
  cr_expect_lt(result.best_score, 100.0);
}

Test(tune_walk, seeds_outside_the_spaces_or_illegal_are_left_out) {
  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 4096, 65536, 4, 256, 64, 256);
  static const struct clb_tune_space *const spaces[] = {&clb_tune_xgemm_gemmk0};
  struct clb_tune_point seeds[2] = {
      {&clb_tune_xgemm_gemmk0, {0, 1, 32, 8, 16, 16, 64, 8, 8, 64, 0, 0, 0, 0, 4, 4}}, /* KWI 8 */
      {&clb_tune_xgemm_gemmk0, {0, 1, 32, 2, 16, 16, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}}, /* VWM */
  };
  struct fake_objective f;
  memset(&f, 0, sizeof f);
  f.lim = &lim;
  f.budget = 100;
  struct clb_tune_walk_callbacks callbacks = {fake_measure, fake_should_stop, NULL, 0, &f};
  struct clb_tune_walk_result result;
  struct clb_error err = {0};
  cr_assert_eq(clb_tune_walk(spaces, 1, &lim, seeds, 2, 100, 0.02, &callbacks, &result, &err), 0);
  cr_expect_eq(f.measured, 0);
  cr_expect_eq(result.best_score, 0.0);
}

Test(tune_seeds, every_seed_is_in_its_space_and_legal_somewhere) {
  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 1024, 65536, 4, 4096, 4096, 4096);
  const char *kernels[] = {"Xgemm", "XgemmDirect", "XgemvFastRot", "XgemvFast", "Padtranspose"};
  for (int k = 0; k < 5; k++)
    for (int cpu = 0; cpu < 2; cpu++) {
      /* A CPU runtime takes work-groups of 4096 (PoCL, Intel): 64 x 64 transpose tiles. */
      lim.max_work_group = cpu ? 4096 : 1024;
      struct clb_tune_point seeds[32];
      size_t count = clb_tune_seeds(kernels[k], cpu, seeds, 32);
      cr_expect_gt(count, 2, "%s cpu=%d", kernels[k], cpu);
      for (size_t i = 0; i < count; i++) {
        cr_expect_str_eq(seeds[i].space->kernel, kernels[k]);
        cr_expect(clb_tune_space_contains(seeds[i].space, seeds[i].values), "%s %d seed %zu",
                  kernels[k], cpu, i);
        cr_expect(seeds[i].space->legal(seeds[i].values, &lim), "%s %d seed %zu", kernels[k],
                  cpu, i);
      }
    }
  struct clb_tune_point few[2];
  cr_expect_eq(clb_tune_seeds("Xgemm", 1, few, 2), 2, "at most `max`");
  cr_expect_eq(clb_tune_seeds("Xgemv", 1, few, 2), 0, "the generic GEMV is not searched");
}

/* The walk starts from what an untuned run uses. Debian's CLBlast is 1.5.3,
 * whose all-device defaults (src/database/kernels/KERNEL/KERNEL_32.hpp)
 * differ from its master's for Xgemm, XgemvFastRot and Padtranspose. */
Test(tune_seeds, first_gpu_seed_is_clblast_153_all_device_default) {
  const struct {
    const char *kernel;
    size_t count, values[CLB_TUNE_MAX_PARAMS];
  } defaults[] = {
      {"Xgemm", CLB_X_COUNT, {0, 1, 32, 2, 8, 8, 32, 16, 16, 32, 1, 1, 0, 0, 4, 2}},
      {"XgemmDirect", CLB_D_COUNT, {16, 8, 8, 8, 8, 2, 1, 1, 1, 1}},
      {"XgemvFastRot", CLB_G_COUNT, {8, 32, 32}},
      {"XgemvFast", CLB_G_COUNT, {1, 64, 1}},
      {"Padtranspose", CLB_P_COUNT, {0, 8, 4}},
  };
  for (size_t k = 0; k < sizeof defaults / sizeof *defaults; k++) {
    struct clb_tune_point seeds[32];
    cr_assert_gt(clb_tune_seeds(defaults[k].kernel, 0, seeds, 32), 0);
    for (size_t i = 0; i < defaults[k].count; i++)
      cr_expect_eq(seeds[0].values[i], defaults[k].values[i], "%s %s", defaults[k].kernel,
                   seeds[0].space->params[i].name);
  }
  /* On a CPU the GEMV and transpose walks start there too (the Xgemm ones
   * from CLBlast's Intel CPU entry, which clbatch's starting sets build on). */
  struct clb_tune_point cpu[32];
  cr_assert_gt(clb_tune_seeds("XgemvFastRot", 1, cpu, 32), 0);
  cr_expect_eq(cpu[0].values[1], 32, "WGS3");
  cr_assert_gt(clb_tune_seeds("Padtranspose", 1, cpu, 32), 0);
  cr_expect_eq(cpu[0].values[2], 4, "PADTRA_WPT");
}

/* ---- Child processes (tune_child.h), with scripts in place of clbatch ------- */

/* Writes `script` into `dir` and makes it the program tuning children run
 * (clb_tune_child_set_program("/proc/self/exe") puts clbatch back). */
static char *use_child_script(const char *dir, const char *script) {
  char *program = clb_test_write_file(dir, "child.sh", script);
  cr_assert_eq(chmod(program, 0755), 0);
  clb_tune_child_set_program(program);
  return program;
}

static void child_result(const char *dir, const char *script, double timeout_s, double *gflops,
                         char *why, size_t why_size) {
  char *program = use_child_script(dir, script);
  struct clb_tune_job job;
  memset(&job, 0, sizeof job);
  snprintf(job.device_id, sizeof job.device_id, "0:0");
  job.m = job.n = job.k = 8;
  job.crossover = CLB_TUNE_CROSSOVER_CLBLAST;
  struct clb_tune_child child;
  struct clb_error err = {0};
  cr_assert_eq(clb_tune_child_start(&job, &child, &err), 0, "%s", err.message);
  clb_tune_child_finish(&child, timeout_s, gflops, why, why_size);
  clb_tune_child_set_program("/proc/self/exe");
  free(program);
}

/* A runtime whose omatcopy fails still gets its GEMM and GEMVs tuned: the
 * transpose is left on CLBlast's parameters, stored as not searched, and
 * `clbatch run` finds no kernel missing. Children are a script that fails
 * only the transpose (its 10th argument). */
Test(tune, a_transpose_that_fails_leaves_the_rest_tuned, .timeout = 60) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  if (!clb_test_device(&list, &dev))
    return;
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir);
  char *program = use_child_script(dir, "#!/bin/sh\n"
                                        "if [ \"${10}\" = transpose ]; then\n"
                                        "  echo 'skipped: no omatcopy here'\n"
                                        "else\n"
                                        "  echo 'gflops 10'\n"
                                        "fi\n");
  struct clb_cl cl = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_cl_create(dev, &cl, &err), 0, "%s", err.message);
  struct clb_tune_options options;
  clb_tune_defaults(&options);
  options.m = options.n = options.k = 16;
  options.gemv_rows = 64;
  options.max_configs = 1;
  options.budget_s = 30.0;
  char *progress = NULL;
  size_t progress_size = 0;
  FILE *stream = open_memstream(&progress, &progress_size);
  cr_assert_not_null(stream);
  struct clb_tune_report report;
  int rc = clb_tune_search(&cl, CLB_FP32, &options, stream, &report, &err);
  fclose(stream);
  clb_tune_child_set_program("/proc/self/exe");
  cr_assert_eq(rc, 0, "%s\n%s", err.message, progress);
  const struct clb_tune_kernel_result *transpose = &report.kernels[5];
  cr_expect_str_eq(transpose->kernel, "Padtranspose");
  cr_expect_eq(transpose->tried, 0);
  cr_expect_eq(transpose->use_defaults, 1);
  cr_expect_eq(report.kernels[0].default_gflops, 10.0, "the GEMM was measured");
  cr_expect(strstr(progress, "no omatcopy here") && strstr(progress, "is not searched"), "%s",
            progress);
  struct clb_tune_file file = {0};
  cr_assert_eq(clb_tune_store_load(path, &file, &err), 0, "%s", err.message);
  cr_expect_null(clb_tune_store_missing(&file, dev, CLB_FP32), "%s", file.text);
  cr_expect(strstr(file.text, "# not searched: ") != NULL, "%s", file.text);
  clb_tune_store_destroy(&file);
  free(progress);
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
  free(program);
  free(path);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(tune_child, results_failures_crashes_and_hangs) {
  char *dir = clb_test_tmpdir();
  double gflops = -1.0;
  char why[512];
  child_result(dir, "#!/bin/sh\necho 'CLBlast: a warning'\necho 'gflops 12.5'\n", 10.0, &gflops,
               why, sizeof why);
  cr_expect_eq(gflops, 12.5);
  cr_expect_str_eq(why, "");

  child_result(dir, "#!/bin/sh\necho 'skipped: wrong GEMM result: C[1][2] = nan'\n", 10.0,
               &gflops, why, sizeof why);
  cr_expect_eq(gflops, 0.0);
  cr_expect_str_eq(why, "wrong GEMM result: C[1][2] = nan");

  child_result(dir, "#!/bin/sh\necho 'free(): invalid pointer'\nkill -ABRT $$\n", 10.0, &gflops,
               why, sizeof why);
  cr_expect_eq(gflops, 0.0);
  cr_expect(strstr(why, "signal 6") && strstr(why, "free(): invalid pointer"), "%s", why);

  double began = clb_test_now();
  child_result(dir, "#!/bin/sh\nexec sleep 30\n", 0.5, &gflops, why, sizeof why);
  cr_expect_lt(clb_test_now() - began, 10.0, "a hung child is stopped");
  cr_expect_eq(gflops, 0.0);
  cr_expect(strstr(why, "no result within") != NULL, "%s", why);

  child_result(dir, "#!/bin/sh\necho 'error: no device 0:0'\nexit 1\n", 10.0, &gflops, why,
               sizeof why);
  cr_expect_eq(gflops, 0.0);
  cr_expect(strstr(why, "code 1") && strstr(why, "no device 0:0"), "%s", why);

  /* What clbatch gets: the job as arguments. */
  child_result(dir, "#!/bin/sh\necho \"gflops $#\"\n", 10.0, &gflops, why, sizeof why);
  cr_expect_eq(gflops, 12.0, "__tune-config and its eleven arguments");
  clb_test_remove_dir(dir);
  free(dir);
}

/* ---- CPU starting sets ---------------------------------------------------- */

/* Whether clbatch has starting sets for such a device in some precision. */
static int start_wanted(const char *vendor, const char *device_name, int is_cpu) {
  size_t count = 0;
  return clb_cpu_start_sets(vendor, device_name, is_cpu, CLB_FP32, &count) != NULL ||
         clb_cpu_start_sets(vendor, device_name, is_cpu, CLB_FP64, &count) != NULL;
}

Test(cpu_start, only_cpus_that_clblast_does_not_map_to_intel_or_does_not_list) {
  cr_expect(start_wanted("AuthenticAMD", "pthread-znver4-AMD EPYC", 1), "PoCL, AMD CPU");
  cr_expect(start_wanted("", "", 1));
  cr_expect(!start_wanted("GenuineIntel", "pthread-skylake-Intel(R) Xeon(R)", 1),
            "PoCL on an Intel CPU: CLBlast's entry");
  cr_expect(!start_wanted("Intel(R) Corporation", "Intel(R) Core(TM) i7-4790K", 1),
            "Intel's runtime on an Intel CPU: CLBlast's entry");
  cr_expect(start_wanted("Intel(R) Corporation", "AMD EPYC", 1),
            "Intel's runtime on an AMD CPU: not in CLBlast's list");
  cr_expect(!start_wanted("AuthenticAMD", "AMD EPYC", 0), "never a GPU");
  cr_expect(!start_wanted("NVIDIA Corporation", "NVIDIA H100", 0));
  /* Intel's runtime keeps CLBlast's other kernels: the indirect GEMM, the
   * crossover and the transpose are set. */
  size_t count = 0;
  const struct clb_cpu_start_set *sets =
      clb_cpu_start_sets("Intel(R) Corporation", "AMD EPYC", 1, CLB_FP32, &count);
  cr_assert_eq(count, 3);
  cr_expect_str_eq(sets[0].kernel, "Xgemm");
  cr_expect_str_eq(sets[1].kernel, CLB_TUNE_ROUTINE_KERNEL);
  cr_expect_str_eq(sets[1].names[0], CLB_TUNE_ROUTINE_PARAM);
  cr_expect_str_eq(sets[2].kernel, "Padtranspose");
}

Test(cpu_start, reason_names_what_clblast_lacks) {
  char why[256];
  clb_cpu_start_reason("AuthenticAMD", "pthread-znver4-AMD EPYC", why, sizeof why);
  cr_expect(strstr(why, "no entry for CPUs of vendor 'AuthenticAMD'") != NULL, "%s", why);
  /* Intel's runtime has CLBlast's Intel-CPU entries; they do not name an AMD processor. */
  clb_cpu_start_reason("Intel(R) Corporation", "AMD EPYC", why, sizeof why);
  cr_expect(strstr(why, "do not name the processor 'AMD EPYC'") != NULL, "%s", why);
  cr_expect(strstr(why, "no entry for CPUs of vendor") == NULL, "%s", why);
}

/* The value of `name` in a set; fails the test when it is missing. */
static size_t set_value(const struct clb_cpu_start_set *set, const char *name) {
  for (size_t i = 0; i < set->count; i++)
    if (strcmp(set->names[i], name) == 0)
      return set->values[i];
  cr_assert_fail("%s has no %s", set->kernel, name);
  return 0;
}

/* A set is legal in clbatch's copy of CLBlast's tuner constraints. */
static int legal_in(const struct clb_tune_space *space, const struct clb_cpu_start_set *set,
                    size_t element_bytes) {
  size_t values[CLB_TUNE_MAX_PARAMS];
  cr_assert_eq(space->count, set->count, "%s: every parameter, none missing", set->kernel);
  for (size_t i = 0; i < space->count; i++)
    values[i] = set_value(set, space->params[i].name);
  /* In the tuner's space too, so `clbatch tune` tries it first. */
  cr_expect(clb_tune_space_contains(space, values), "%s in the tuner's space", set->kernel);
  struct clb_tune_limits lim;
  clb_tune_limits_init(&lim, 1024, 32 * 1024, element_bytes, 4096, 4096, 4096);
  return space->legal(values, &lim);
}

Test(cpu_start, sets_are_whole_and_within_clblast_constraints) {
  size_t count = 0;
  const struct clb_cpu_start_set *sets =
      clb_cpu_start_sets("AuthenticAMD", "AMD EPYC", 1, CLB_FP32, &count);
  cr_assert_geq(count, 3);
  int has_xgemm = 0, has_routine = 0, has_gemv = 0, has_transpose = 0;
  for (size_t i = 0; i < count; i++) {
    cr_expect(sets[i].count >= 1 && sets[i].count <= CLB_CPU_START_MAX_PARAMS);
    for (size_t j = 0; j < i; j++)
      cr_expect_str_neq(sets[i].kernel, sets[j].kernel, "one set per kernel");
    for (size_t a = 0; a < sets[i].count; a++)
      for (size_t b = 0; b < a; b++)
        cr_expect_str_neq(sets[i].names[a], sets[i].names[b], "%s", sets[i].kernel);
    if (strcmp(sets[i].kernel, "Xgemm") == 0) {
      has_xgemm = 1;
      cr_expect_eq(set_value(&sets[i], "GEMMK"), 0);
      cr_expect(legal_in(&clb_tune_xgemm_gemmk0, &sets[i], 4), "Xgemm");
    }
    if (strcmp(sets[i].kernel, "XgemvFast") == 0) {
      has_gemv = 1;
      cr_expect(legal_in(&clb_tune_xgemv_fast, &sets[i], 4), "XgemvFast");
    }
    if (strcmp(sets[i].kernel, "Padtranspose") == 0) {
      has_transpose = 1;
      cr_expect(legal_in(&clb_tune_padtranspose, &sets[i], 4), "Padtranspose");
    }
    /* XgemmDirect stays on CLBlast's default (faster for small batches). */
    cr_expect_str_neq(sets[i].kernel, "XgemmDirect");
    has_routine |= strcmp(sets[i].kernel, CLB_TUNE_ROUTINE_KERNEL) == 0;
  }
  cr_expect(has_xgemm && has_routine, "the indirect GEMM and the crossover to it");
  cr_expect(has_gemv, "the backward GEMV");
  cr_expect(has_transpose, "the indirect GEMM's transpose");
  /* fp64: the crossover and a tuned Xgemm set; fp16: none, on either runtime (not measured). */
  size_t fp64_count = 0;
  const struct clb_cpu_start_set *fp64 =
      clb_cpu_start_sets("AuthenticAMD", "AMD EPYC", 1, CLB_FP64, &fp64_count);
  cr_assert_eq(fp64_count, 2);
  cr_expect_str_eq(fp64[0].kernel, "Xgemm");
  cr_expect(legal_in(&clb_tune_xgemm_gemmk0, &fp64[0], 8), "fp64 Xgemm");
  cr_expect_str_eq(fp64[1].kernel, CLB_TUNE_ROUTINE_KERNEL);
  size_t none = 7;
  cr_expect_null(clb_cpu_start_sets("AuthenticAMD", "AMD EPYC", 1, CLB_FP16, &none));
  cr_expect_eq(none, 0);
  cr_expect_null(clb_cpu_start_sets("Intel(R) Corporation", "AMD EPYC", 1, CLB_FP16, &none));
  cr_expect_eq(none, 0);
}

Test(cpu_start, intel_runtime_xgemm_set_is_whole_and_legal) {
  size_t count = 0;
  const struct clb_cpu_start_set *sets =
      clb_cpu_start_sets("Intel(R) Corporation", "AMD EPYC", 1, CLB_FP32, &count);
  cr_assert_geq(count, 1);
  cr_assert_str_eq(sets[0].kernel, "Xgemm");
  cr_expect_eq(set_value(&sets[0], "GEMMK"), 1, "2D register tiling, as the tunes chose");
  cr_expect(legal_in(&clb_tune_xgemm_gemmk1, &sets[0], 4));
  /* fp64: the same three kernels, its Xgemm legal with 8-byte elements. */
  sets = clb_cpu_start_sets("Intel(R) Corporation", "AMD EPYC", 1, CLB_FP64, &count);
  cr_assert_eq(count, 3);
  cr_assert_str_eq(sets[0].kernel, "Xgemm");
  cr_expect(legal_in(&clb_tune_xgemm_gemmk1, &sets[0], 8));
  cr_expect_str_eq(sets[1].kernel, CLB_TUNE_ROUTINE_KERNEL);
  cr_expect_str_eq(sets[2].kernel, "Padtranspose");
  cr_expect(legal_in(&clb_tune_padtranspose, &sets[2], 8));
}

/* Untuned, a CPU that CLBlast does not know gets the starting sets, CLBlast
 * accepts every one of them, and GEMMs on both paths (direct below the
 * crossover, indirect with pad/transpose kernels above it) stay correct. */
Test(cpu_start, applied_untuned_and_gemm_stays_correct, .timeout = 300) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  if (!clb_test_device(&list, &dev))
    return;
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir); /* no file yet: nothing tuned */
  struct clb_cl cl = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_cl_create(dev, &cl, &err), 0, "%s", err.message);
  enum clb_params_source source = CLB_PARAMS_TUNED;
  cr_assert_eq(clb_tune_apply(dev, CLB_FP32, &source, &err), 0, "%s", err.message);
  size_t set_count = 0;
  int wanted = clb_tune_start_sets(dev, CLB_FP32, &set_count) != NULL;
  cr_expect_eq(source, wanted ? CLB_PARAMS_CPU_START : CLB_PARAMS_CLBLAST, "vendor %s",
               dev->vendor);
  cr_expect_lt(sgemm_error(&cl, 33, 17, 29), 1e-5);
  cr_expect_lt(sgemm_error(&cl, 640, 600, 520), 1e-5); /* 640*600*520 > 576^3: indirect */
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
  free(path);
  free(dir);
}

/* ---- The crossover over the runs' GEMMs (tune_crossover.h) ----------------- */

/* GEMMs of m*n*k = r^3 for the cube roots r given. */
static void cubes(const size_t *roots, size_t count, struct clb_tune_gemm *out) {
  for (size_t i = 0; i < count; i++)
    out[i] = (struct clb_tune_gemm){0, 0, roots[i], roots[i], roots[i]};
}

Test(tune_crossover, splits_where_the_paths_cross) {
  const size_t roots[] = {10, 20, 30, 40, 50, 60};
  struct clb_tune_gemm g[6];
  cubes(roots, 6, g);
  /* Direct faster up to 30, indirect from 40. */
  const double direct[] = {1, 2, 3, 8, 10, 12}, indirect[] = {2, 3, 4, 4, 5, 6};
  size_t crossover = 0;
  cr_assert(clb_tune_crossover_choose(g, direct, indirect, 6, &crossover));
  cr_expect(crossover > 30 && crossover <= 40, "%zu", crossover);
  cr_expect_float_eq(clb_tune_crossover_cost(g, direct, indirect, 6, crossover), 1.0, 1e-12);
  /* 30^3 < 35^3 (geometric middle 34.6, rounded): 30 direct, 40 indirect. */
  cr_expect_eq(crossover, 35);
  cr_expect(clb_tune_takes_direct(&g[2], crossover) && !clb_tune_takes_direct(&g[3], crossover));
  /* Every GEMM direct, by the forced values and by the cost: 10/2+..., by hand. */
  cr_expect(clb_tune_takes_direct(&g[5], CLB_TUNE_FORCE_DIRECT));
  cr_expect(!clb_tune_takes_direct(&g[0], CLB_TUNE_FORCE_INDIRECT));
  double all_direct = (1.0 + 1 + 1 + 2 + 2 + 2) / 6.0;
  cr_expect_float_eq(clb_tune_crossover_cost(g, direct, indirect, 6, CLB_TUNE_FORCE_DIRECT),
                     all_direct, 1e-12);
}

Test(tune_crossover, one_path_everywhere_and_failed_paths) {
  const size_t roots[] = {16, 32, 64};
  struct clb_tune_gemm g[3];
  cubes(roots, 3, g);
  size_t crossover = 0;
  const double slow[] = {5, 5, 5}, fast[] = {1, 1, 1};
  cr_assert(clb_tune_crossover_choose(g, slow, fast, 3, &crossover));
  cr_expect_eq(crossover, 16, "indirect from the smallest GEMM on (a cube: 16^3 is not below)");
  cr_assert(clb_tune_crossover_choose(g, fast, slow, 3, &crossover));
  cr_expect_eq(crossover, 65, "direct up to the largest");
  /* The indirect path failed on the largest GEMM: it stays direct, whatever
   * that costs the others. */
  const double indirect[] = {1, 1, 0};
  cr_assert(clb_tune_crossover_choose(g, slow, indirect, 3, &crossover));
  cr_expect_eq(crossover, 65);
  cr_expect(isinf(clb_tune_crossover_cost(g, slow, indirect, 3, 16)));
  /* A GEMM failed on both paths is left out; none timed at all: no choice. */
  const double none[] = {0, 0, 0};
  cr_expect_float_eq(clb_tune_crossover_cost(g, slow, (double[]){1, 1, 1}, 3, 16), 1.0, 1e-12);
  crossover = 7;
  cr_expect(!clb_tune_crossover_choose(g, none, none, 3, &crossover));
  cr_expect_eq(crossover, 7, "left alone");
}

/* Where the preference is not monotone in m*n*k, the least mean ratio wins,
 * and two GEMMs of one volume are never split. */
Test(tune_crossover, least_mean_ratio_and_equal_volumes_together) {
  struct clb_tune_gemm g[4] = {
      {0, 0, 10, 10, 10}, {1, 0, 10, 10, 10}, {0, 0, 20, 20, 20}, {0, 1, 40, 40, 40}};
  /* Volume 1000 twice (one prefers each path), 8000 prefers direct by 3x,
   * 64000 indirect by 1.1x. */
  const double direct[] = {1, 2, 1, 1.1}, indirect[] = {2, 1, 3, 1};
  size_t crossover = 0;
  cr_assert(clb_tune_crossover_choose(g, direct, indirect, 4, &crossover));
  /* All direct: (1 + 2 + 1 + 1.1) / 4 = 1.275; up to 20 direct: (1 + 2 + 1 + 1) / 4 = 1.25;
   * the pair indirect: (2 + 1 + 3 + 1) / 4 = 1.75. */
  cr_expect(crossover > 20 && crossover <= 40, "%zu", crossover);
  cr_expect_float_eq(clb_tune_crossover_cost(g, direct, indirect, 4, crossover), 1.25, 1e-12);
  cr_expect_eq(clb_tune_cube_root_floor(63999), 39);
  cr_expect_eq(clb_tune_cube_root_floor(64000), 40);
  cr_expect_eq(clb_tune_cube_root_floor(0), 0);
}

Test(tune_crossover, gemm_text_round_trips) {
  const struct clb_tune_gemm g = {1, 0, 4096, 256, 10};
  char text[64];
  clb_tune_gemm_format(&g, text, sizeof text);
  cr_expect_str_eq(text, "4096x256x10:tn");
  struct clb_tune_gemm back;
  cr_assert_eq(clb_tune_gemm_parse(text, &back), 0);
  cr_expect(back.trans_a == 1 && back.trans_b == 0 && back.m == 4096 && back.n == 256 &&
            back.k == 10);
  static const char *const bad[] = {"4096x256:tn", "1x2x3:tx", "1x2x3:nnn", "0x1x1:nn", "x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_neq(clb_tune_gemm_parse(bad[i], &back), 0, "%s", bad[i]);
}

/* The child really runs the step's GEMMs, transposed ones included, each
 * checked against the host before it is timed, on both paths. */
Test(tune_crossover, children_time_each_gemm_on_both_paths, .timeout = 120) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  if (!clb_test_device(&list, &dev))
    return;
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir);
  char id[32];
  clb_device_id_string(dev, id, sizeof id);
  const struct clb_tune_gemm g[3] = {{0, 0, 48, 10, 40}, {1, 0, 40, 10, 48}, {0, 1, 48, 24, 10}};
  double direct[3], indirect[3];
  struct clb_error err = {0};
  clb_tune_child_set_program(CLBATCH_BINARY);
  int rc = clb_tune_crossover_measure(id, CLB_FP32, 42, g, 3, 1, direct, indirect, &err);
  clb_tune_child_set_program("/proc/self/exe");
  cr_assert_eq(rc, 0, "%s", err.message);
  for (int i = 0; i < 3; i++) {
    cr_expect_gt(direct[i], 0.0, "GEMM %d direct", i);
    cr_expect_gt(indirect[i], 0.0, "GEMM %d indirect", i);
    cr_expect_lt(direct[i] + indirect[i], 1.0, "GEMM %d: seconds, not something else", i);
  }
  cr_expect_neq(clb_tune_crossover_measure(id, CLB_FP32, 42, g, 3, 5, direct, indirect, &err), 0,
                "5 rounds are more than one child's turns");
  clb_platform_list_destroy(&list);
  free(path);
  clb_test_remove_dir(dir);
  free(dir);
}

/* The search places the crossover over the GEMMs it is given, stores how,
 * and reports the mean in per cent of the faster path; when those children
 * fail, the representative GEMM's crossover stays and the progress says
 * why. Children are a script: GEMM 0 (10^3) runs faster direct, GEMM 1
 * (40^3) faster indirect. */
static void search_with_script(const char *script, struct clb_tune_report *report, char **progress,
                               char **file_text) {
  struct clb_device_list list = {0};
  const struct clb_device_info *dev = NULL;
  cr_assert(clb_test_device(&list, &dev));
  char *dir = NULL;
  char *path = use_temp_tune_file(&dir);
  char *program = use_child_script(dir, script);
  struct clb_cl cl = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_cl_create(dev, &cl, &err), 0, "%s", err.message);
  struct clb_tune_options options;
  clb_tune_defaults(&options);
  options.m = options.n = options.k = 16;
  options.gemv_rows = 64;
  options.max_configs = 1;
  options.budget_s = 30.0;
  const struct clb_tune_gemm gemms[2] = {{0, 0, 10, 10, 10}, {1, 0, 40, 40, 40}};
  options.crossover_gemms = gemms;
  options.crossover_gemm_count = 2;
  size_t progress_size = 0;
  FILE *stream = open_memstream(progress, &progress_size);
  cr_assert_not_null(stream);
  int rc = clb_tune_search(&cl, CLB_FP32, &options, stream, report, &err);
  fclose(stream);
  clb_tune_child_set_program("/proc/self/exe");
  cr_assert_eq(rc, 0, "%s\n%s", err.message, *progress);
  size_t length = 0;
  cr_assert_eq(clb_file_read(path, file_text, &length, &err), 0, "%s", err.message);
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
  free(program);
  free(path);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(tune_crossover, search_places_it_over_the_runs_gemms, .timeout = 60) {
  if (!clb_test_require_device())
    return;
  struct clb_tune_report report;
  char *progress = NULL, *text = NULL;
  /* $4 lists the crossovers to time in turn: 0 forces the indirect path.
   * The direct path's second turn is slower: each path keeps its best. */
  search_with_script(
      "#!/bin/sh\n"
      "if [ \"$1\" != __tune-shapes ]; then echo 'gflops 10'; exit 0; fi\n"
      "seen=\n"
      "for c in $(echo \"$4\" | tr , ' '); do\n"
      "  echo \"crossover $c\"\n"
      "  if [ \"$c\" = 0 ]; then echo 'shape 0 gflops 1'; echo 'shape 1 gflops 40'\n"
      "  elif [ -z \"$seen\" ]; then echo 'shape 0 gflops 4'; echo 'shape 1 gflops 10'\n"
      "  else echo 'shape 0 gflops 2'; echo 'shape 1 gflops 5'; fi\n"
      "  [ \"$c\" = 0 ] || seen=1\n"
      "done\n",
      &report, &progress, &text);
  const struct clb_tune_kernel_result *routine = &report.kernels[2];
  cr_expect_str_eq(routine->kernel, "GemmRoutine");
  size_t crossover = routine->param_values[0];
  cr_expect(crossover > 10 && crossover <= 40, "%zu\n%s", crossover, progress);
  cr_expect_str_eq(routine->unit, CLB_TUNE_BEST_UNIT);
  cr_expect_float_eq(routine->tuned_gflops, 100.0, 1e-9, "each GEMM on its faster path");
  char line[64];
  snprintf(line, sizeof line, "XGEMM_MIN_INDIRECT_SIZE = %zu\n", crossover);
  cr_expect(strstr(text, line) && strstr(text, "placed over 2 GEMMs") &&
                strstr(text, "pct_of_best_tuned = 100.000"),
            "%s", text);
  cr_expect(strstr(progress, "sends 1 direct and 1 indirect"), "%s", progress);
  free(progress);
  free(text);
}

Test(tune_crossover, failed_children_keep_the_representatives_crossover, .timeout = 60) {
  if (!clb_test_require_device())
    return;
  struct clb_tune_report report;
  char *progress = NULL, *text = NULL;
  search_with_script("#!/bin/sh\n"
                     "if [ \"$1\" = __tune-shapes ]; then echo 'no device here'; exit 1; fi\n"
                     "echo 'gflops 10'\n",
                     &report, &progress, &text);
  const struct clb_tune_kernel_result *routine = &report.kernels[2];
  cr_expect_null(routine->unit);
  cr_expect(strstr(progress, "no device here") && strstr(progress, "placed by the representative"),
            "%s", progress);
  cr_expect(strstr(text, "representative shape takes the path") != NULL, "%s", text);
  free(progress);
  free(text);
}
