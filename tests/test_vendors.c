/* Two real OpenCL vendors side by side: PoCL and Intel's CPU runtime
 * (scripts/install-vendor.sh intel-cpu). The same step must give the same
 * numbers on both, within the precision's bound, and against the fp64 host
 * reference. Skipped when only one vendor is registered, unless
 * scripts/env.sh says Intel's runtime is installed (CLBATCH_TEST_VENDORS). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/context.h"
#include "helpers.h"
#include "model/dataset.h"
#include "model/model.h"
#include "model/reference.h"
#include "results/results.h"
#include "util/rng.h"

/* The vendors compared: their platforms, not device names (on an Intel host
 * PoCL's device is named after the CPU). */
#define VENDORS "platform:pocl,platform:intel"

/* Relative bounds per precision: fp32 and fp64 as test_model's gradient
 * cases; fp16 rounds every input to 11 bits (2^-11 ~ 5e-4) before any sum. */
static double bound(enum clb_precision precision) {
  return precision == CLB_FP64 ? 1e-10 : precision == CLB_FP32 ? 2e-5 : 5e-3;
}

/* The devices of both vendors, or a skip (a failure when Intel's runtime is
 * installed in .vendors/ but not registered). */
static int vendor_devices(struct clb_device_list *list, int **selected) {
  struct clb_error err = {0};
  *selected = NULL;
  if (!clb_test_require_device() || clb_platform_list(list, &err) != 0)
    return 0;
  *selected = calloc(list->count, sizeof **selected);
  cr_assert_not_null(*selected);
  int platforms = 0, last_platform = -1;
  if (clb_platform_select(list, VENDORS, *selected, &err) == 0)
    for (size_t i = 0; i < list->count; i++)
      if ((*selected)[i] && list->items[i].platform_index != last_platform) {
        platforms++;
        last_platform = list->items[i].platform_index;
      }
  if (platforms >= 2)
    return 1;
  free(*selected);
  *selected = NULL;
  clb_platform_list_destroy(list);
  if (clb_test_vendor_expected("intel-cpu"))
    cr_assert_fail("Intel's CPU runtime is installed in .vendors/ but PoCL and Intel are not "
                   "both registered (%s)",
                   err.message[0] ? err.message : "source scripts/env.sh");
  cr_skip("needs PoCL and Intel's CPU runtime registered (scripts/setup.sh --vendor intel-cpu)");
  return 0;
}

/* A shuffled batch of 23 from 61 samples, D = 13 (prime: partial tiles), on
 * a context the device's models share: Intel's runtime keeps no kernel cache
 * across contexts, so one per model built every program three times. */
static double device_gradient_error(const struct clb_cl *cl, enum clb_model_kind kind,
                                    enum clb_precision precision) {
  const size_t n = 61, rows = 23, d = 13;
  struct clb_error err = {0};
  struct clb_dataset data = {0};
  struct clb_shape shape = {kind, d, kind == CLB_MODEL_MLP ? 11 : 0,
                            kind == CLB_MODEL_LINREG ? 2 : 5};
  int rc = kind == CLB_MODEL_LINREG ? clb_data_regression(n, d, shape.c, 0.5, 3, &data, &err)
                                    : clb_data_classes(n, d, shape.c, 1.0, 3, &data, &err);
  cr_assert_eq(rc, 0, "%s", err.message);
  struct clb_model_config config = {shape, precision, rows, 0};
  struct clb_model *model = NULL;
  cr_assert_eq(clb_model_create(cl, &config, &data, &model, &err), 0, "%s", err.message);
  size_t p = clb_shape_param_count(&shape);
  double *theta = malloc(p * sizeof *theta), *got = malloc(p * sizeof *got),
         *want = malloc(p * sizeof *want);
  uint32_t *order = malloc(n * sizeof *order);
  struct clb_rng rng;
  clb_rng_seed(&rng, 17);
  for (size_t i = 0; i < p; i++)
    theta[i] = 0.2 * clb_rng_normal(&rng);
  clb_rng_permutation(&rng, order, n);
  cr_assert_eq(clb_model_set_params(model, theta, &err), 0, "%s", err.message);
  cr_assert_eq(clb_model_set_order(model, order, &err), 0, "%s", err.message);
  cr_assert_eq(clb_model_gradient(model, 5, rows, 1.0 / (double)rows, &err), 0, "%s",
               err.message);
  cr_assert_eq(clb_model_get_grad(model, got, &err), 0, "%s", err.message);
  clb_ref_loss_grad(&shape, theta, &data, order + 5, rows, want);
  double error = clb_test_relative_error(got, want, p);
  free(theta), free(got), free(want), free(order);
  clb_model_destroy(model);
  clb_dataset_destroy(&data);
  return error;
}

Test(vendors, every_model_matches_the_host_reference_on_each_vendor, .timeout = 300) {
  struct clb_device_list list = {0};
  int *selected = NULL;
  if (!vendor_devices(&list, &selected))
    return;
  const enum clb_model_kind kinds[] = {CLB_MODEL_LINREG, CLB_MODEL_SOFTMAX, CLB_MODEL_MLP};
  int fp16_devices = 0;
  for (size_t i = 0; i < list.count; i++) {
    if (!selected[i])
      continue;
    const struct clb_device_info *device = &list.items[i];
    fp16_devices += device->has_fp16;
    struct clb_error err = {0};
    struct clb_cl cl;
    cr_assert_eq(clb_cl_create(device, &cl, &err), 0, "%s", err.message);
    for (int p = 0; p < CLB_PRECISION_COUNT; p++) {
      char why[256];
      if (clb_device_check_precision(device, (enum clb_precision)p, why, sizeof why) != 0)
        continue;
      for (size_t k = 0; k < 3; k++) {
        double error = device_gradient_error(&cl, kinds[k], (enum clb_precision)p);
        cr_expect_lt(error, bound((enum clb_precision)p), "%s (%s) %s %s: relative error %g",
                     device->name, device->platform_name, clb_shape_kind_name(kinds[k]),
                     clb_precision_name((enum clb_precision)p), error);
      }
    }
    clb_cl_destroy(&cl);
  }
  cr_expect_geq(fp16_devices, 1, "Intel's CPU runtime offers cl_khr_fp16");
  free(selected);
  clb_platform_list_destroy(&list);
}

static const struct clb_row *find_row(const struct clb_row *rows, size_t count,
                                      const char *platform, const char *model,
                                      const char *precision, double batch) {
  for (size_t i = 0; i < count; i++)
    if (strstr(rows[i].platform, platform) && !strcmp(rows[i].model, model) &&
        !strcmp(rows[i].precision, precision) && rows[i].batch == batch)
      return &rows[i];
  return NULL;
}

static void expect_close(const char *what, const struct clb_row *a, const struct clb_row *b,
                         double value_a, double value_b, double tolerance) {
  double scale = fabs(value_b) > 1e-30 ? fabs(value_b) : 1.0;
  cr_expect_lt(fabs(value_a - value_b) / scale, tolerance,
               "%s %s B=%.0f: %s %.9g on %s (%s) vs %.9g on %s (%s)", a->model, a->precision,
               a->batch, what, value_a, a->device, a->platform, value_b, b->device, b->platform);
}

/* One `clbatch run` over both vendors: every row ok, the noise statistics the
 * same on both (same seed, same batches), fp16 rows on Intel's device agree
 * with fp32 within fp16's bound, and a clock of 0 MHz is an empty field. */
Test(vendors, one_run_agrees_across_vendors, .timeout = 300) {
  struct clb_device_list list = {0};
  int *selected = NULL;
  if (!vendor_devices(&list, &selected))
    return;
  int pocl_has_fp16 = 0;
  for (size_t i = 0; i < list.count; i++)
    if (selected[i] && strstr(list.items[i].platform_name, "Portable"))
      pocl_has_fp16 |= list.items[i].has_fp16;
  free(selected);
  clb_platform_list_destroy(&list);
  char *dir = clb_test_tmpdir();
  char args[1024], path[600];
  snprintf(path, sizeof path, "%s/vendors.csv", dir);
  snprintf(args, sizeof args,
           "run --device " VENDORS " --model linreg,softmax,mlp --precision fp32,fp16 "
           "--batch 1,8,64 --samples 256 --features 8 --hidden 16 --classes 3 --warmup 1 "
           "--min-time 0.005 --max-time 0.03 --noise-batches 16 --passes 1 --quiet --out %s",
           path);
  char *err_text = NULL;
  int code = clb_test_run_cli(args, NULL, &err_text);
  cr_assert_eq(code, 0, "exit %d: %s", code, err_text);
  free(err_text);
  struct clb_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_results_read(path, &rows, &count, NULL, 0, &err), 0, "%s", err.message);
  const char *models[] = {"linreg", "softmax", "mlp"};
  const double batches[] = {1, 8, 64};
  for (size_t m = 0; m < 3; m++)
    for (size_t b = 0; b < 3; b++) {
      const struct clb_row *pocl = find_row(rows, count, "Portable", models[m], "fp32", batches[b]);
      const struct clb_row *intel = find_row(rows, count, "Intel", models[m], "fp32", batches[b]);
      const struct clb_row *half = find_row(rows, count, "Intel", models[m], "fp16", batches[b]);
      cr_assert(pocl && intel && half, "%s B=%.0f: rows missing", models[m], batches[b]);
      const struct clb_row *both[] = {pocl, intel, half};
      for (size_t r = 0; r < 3; r++) {
        cr_expect_str_eq(both[r]->status, "ok", "%s %s on %s: %s", both[r]->model,
                         both[r]->precision, both[r]->platform, both[r]->message);
        cr_expect(!(both[r]->clock_mhz == 0), "clock_mhz 0 on %s: unknown must be empty",
                  both[r]->platform);
        cr_expect_gt(both[r]->step_s_median, 0);
      }
      expect_close("sigma2", intel, pocl, intel->sigma2, pocl->sigma2, bound(CLB_FP32) * 5);
      expect_close("|G|^2", intel, pocl, intel->grad_norm2, pocl->grad_norm2,
                   bound(CLB_FP32) * 5);
      expect_close("var_measured", intel, pocl, intel->var_measured, pocl->var_measured,
                   bound(CLB_FP32) * 5);
      expect_close("sigma2", half, intel, half->sigma2, intel->sigma2, bound(CLB_FP16));
      expect_close("|G|^2", half, intel, half->grad_norm2, intel->grad_norm2, bound(CLB_FP16));
      expect_close("var_measured", half, intel, half->var_measured, intel->var_measured,
                   bound(CLB_FP16));
      /* Debian's PoCL has no cl_khr_fp16 on x86: a skipped row that says so. */
      const struct clb_row *pocl_half =
          find_row(rows, count, "Portable", models[m], "fp16", batches[b]);
      cr_assert_not_null(pocl_half);
      cr_expect_str_eq(pocl_half->status, pocl_has_fp16 ? "ok" : "skipped", "%s",
                       pocl_half->message);
      if (!pocl_has_fp16)
        cr_expect(strstr(pocl_half->message, "cl_khr_fp16") != NULL, "%s", pocl_half->message);
    }
  free(rows);
  clb_test_remove_dir(dir);
  free(dir);
}

/* clbatch tune keeps parameters per device and driver, and clbatch run then
 * applies each vendor's own; clbatch peak measures both. */
Test(vendors, tune_and_peak_run_on_both_vendors, .timeout = 300) {
  struct clb_device_list list = {0};
  int *selected = NULL;
  if (!vendor_devices(&list, &selected))
    return;
  char *dir = clb_test_tmpdir();
  char tune_file[600], csv[600], args[1400];
  snprintf(tune_file, sizeof tune_file, "%s/tuned.conf", dir);
  snprintf(csv, sizeof csv, "%s/tuned.csv", dir);
  setenv("CLBATCH_TUNE_FILE", tune_file, 1);
  char *err_text = NULL;
  /* CLBlast's defaults only: what is stored and applied per vendor is the
   * point here, and test_tune tests the search. The crossover is placed over
   * the GEMMs of the run below (B = 8), not the default plan's 35. */
  int code = clb_test_run_cli("tune --device " VENDORS " --precision fp32 --m 16 --n 16 --k 16 "
                              "--max-configs 1 --budget 20 --batch 8",
                              NULL, &err_text);
  cr_assert_eq(code, 0, "tune: exit %d: %s", code, err_text);
  free(err_text);
  char *tuned = clb_test_read_file(tune_file);
  cr_assert_not_null(tuned);
  for (size_t i = 0; i < list.count; i++) {
    if (!selected[i])
      continue;
    /* One section per device and driver (tune.c sanitises neither of these). */
    char section[600];
    snprintf(section, sizeof section, "[device=%s|driver=%s|precision=fp32|kernel=Xgemm]",
             list.items[i].name, list.items[i].driver_version);
    cr_expect(strstr(tuned, section) != NULL, "no section %s in:\n%s", section, tuned);
  }
  free(tuned);

  snprintf(args, sizeof args,
           "run --device " VENDORS " --model linreg,mlp --batch 8 --samples 64 --features 8 "
           "--hidden 16 --classes 3 --warmup 1 --min-time 0.005 --max-time 0.03 "
           "--noise-batches 4 --passes 1 --quiet --out %s",
           csv);
  cr_assert_eq(clb_test_run_cli(args, NULL, NULL), 0);
  unsetenv("CLBATCH_TUNE_FILE");
  struct clb_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_results_read(csv, &rows, &count, NULL, 0, &err), 0, "%s", err.message);
  cr_expect_geq(count, 4);
  for (size_t i = 0; i < count; i++) {
    cr_expect_str_eq(rows[i].status, "ok", "%s: %s", rows[i].platform, rows[i].message);
    cr_expect_eq(rows[i].tuned, 1.0, "%s %s ran without its tuned parameters",
                 rows[i].platform, rows[i].model);
  }
  free(rows);

  char *out = NULL;
  code = clb_test_run_cli("peak --device " VENDORS " --precision fp32,fp16", &out, &err_text);
  cr_assert_eq(code, 0, "peak: %s", err_text);
  for (size_t i = 0; i < list.count; i++) {
    if (!selected[i])
      continue;
    const struct clb_device_info *dev = &list.items[i];
    char index[32];
    clb_device_id_string(dev, index, sizeof index);
    char *line = strstr(out, index);
    cr_assert_not_null(line, "peak lists no %s:\n%s", index, out);
    line[strcspn(line, "\n")] = '\0';
    /* "P:D NAME GB/s fp32 fp16": fp16 is a number exactly where cl_khr_fp16 is. */
    char *last = strrchr(line, ' ');
    cr_assert_not_null(last);
    if (dev->has_fp16)
      cr_expect_gt(strtod(last + 1, NULL), 0.1, "%s", line);
    else
      cr_expect_str_eq(last + 1, "n/a", "%s", line);
    line[strlen(line)] = '\n';
  }
  free(out);
  free(err_text);
  free(selected);
  clb_platform_list_destroy(&list);
  clb_test_remove_dir(dir);
  free(dir);
}
