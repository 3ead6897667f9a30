/* Batch-size studies (src/train/study.c, `clbatch train --validate-noise`,
 * `clbatch study`, `clbatch report --study`): the least-squares fits on
 * synthetic S(B), and the tables on tiny problems. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "train/study.h"

Test(study, fits_recover_smin_and_bnoise_exactly) {
  const double s_min = 120, b_noise = 37.5;
  double batch[8], steps[8];
  for (size_t i = 0; i < 8; i++) {
    batch[i] = (double)(1u << (2 * i));
    steps[i] = s_min * (1 + b_noise / batch[i]);
  }
  double fitted = 0, fitted_b = 0;
  cr_assert_eq(clb_study_fit_smin(batch, steps, 8, b_noise, &fitted), 0);
  cr_expect(fabs(fitted - s_min) < 1e-10 * s_min, "S_min %.17g", fitted);
  cr_assert_eq(clb_study_fit_free_b_noise(batch, steps, 8, &fitted, &fitted_b), 0);
  cr_expect(fabs(fitted - s_min) < 1e-9 * s_min, "free S_min %.17g", fitted);
  cr_expect(fabs(fitted_b - b_noise) < 1e-9 * b_noise, "free B_noise %.17g", fitted_b);
  cr_expect(fabs(clb_study_predict_steps(s_min, b_noise, 4) - 120 * (1 + 37.5 / 4)) < 1e-12);

  /* Rows that missed the target (NaN) are left out of both fits. */
  steps[3] = NAN;
  cr_assert_eq(clb_study_fit_free_b_noise(batch, steps, 8, &fitted, &fitted_b), 0);
  cr_expect(fabs(fitted_b - b_noise) < 1e-9 * b_noise);
  /* Too little to fit. */
  double one_b[1] = {4}, one_s[1] = {NAN};
  cr_expect_neq(clb_study_fit_smin(one_b, one_s, 1, 10, &fitted), 0);
  cr_expect_neq(clb_study_fit_free_b_noise(batch, batch, 1, &fitted, &fitted_b), 0);

  /* clb_study_predict fills the table's predictions and both fits. */
  struct clb_study_row rows[4] = {{0}};
  for (size_t i = 0; i < 4; i++) {
    rows[i].batch = rows[i].effective = (size_t)1 << (3 * i);
    rows[i].reached = 1;
    rows[i].steps = s_min * (1 + b_noise / (double)rows[i].effective);
  }
  struct clb_study_fit fit;
  clb_study_predict(rows, 4, b_noise, &fit);
  cr_expect(fabs(fit.s_min - s_min) < 1e-9 * s_min);
  cr_expect(fabs(fit.e_min - s_min * b_noise) < 1e-9 * s_min * b_noise);
  cr_expect(fabs(fit.free_b_noise - b_noise) < 1e-9 * b_noise);
  cr_expect_eq(fit.used, 4);
  for (size_t i = 0; i < 4; i++)
    cr_expect(fabs(rows[i].ratio - 1) < 1e-9, "row %zu ratio %g", i, rows[i].ratio);
}

/* ---- the CLI ------------------------------------------------------------ */

/* Column index of `name` in the header line of csv, or -1. */
static int column(const char *csv, const char *name) {
  int index = 0;
  size_t len = strlen(name);
  for (const char *p = csv; *p && *p != '\n'; index++) {
    size_t field = strcspn(p, ",\n");
    if (field == len && strncmp(p, name, len) == 0)
      return index;
    p += field;
    if (*p == ',')
      p++;
  }
  return -1;
}

/* Field `col` of data line `line` (1-based, after the header) as a number. */
static double field(const char *csv, size_t line, int col) {
  const char *p = csv;
  for (size_t k = 0; k < line && p; k++) {
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  cr_assert(p && *p, "no line %zu", line);
  for (int k = 0; k < col; k++) {
    p = strpbrk(p, ",\n");
    cr_assert(p && *p == ',');
    p++;
  }
  return strtod(p, NULL);
}

Test(study_cli, validate_noise_writes_one_finite_row_per_batch) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char args[1024];
  snprintf(args, sizeof args,
           "train --validate-noise --device @DEV --model softmax --samples 64 --features 4 "
           "--classes 3 --batch 1,4,16 --target-loss 0.8 --lr-grid 0.1,0.3 --epochs 60 "
           "--precision fp64 --out %s/v.csv",
           dir);
  char *out = NULL, *err = NULL;
  int code = clb_test_run_cli(args, &out, &err);
  cr_assert_eq(code, 0, "exit %d: %s\n%s", code, err, out);
  cr_expect(strstr(out, "B_noise = ") != NULL, "%s", out);
  cr_expect(strstr(out, "free fit") != NULL, "%s", out);
  cr_expect(strstr(out, "initial parameters; it grows") != NULL, "the caveat: %s", out);
  char path[512];
  snprintf(path, sizeof path, "%s/v.csv", dir);
  char *csv = clb_test_read_file(path);
  cr_assert_not_null(csv);
  cr_expect_eq(clb_test_count_lines(csv), 4, "%s", csv);
  const char *names[] = {"batch", "steps", "predicted_steps", "ratio", "examples", "wall_s",
                         "b_noise", "s_min", "e_min", "free_s_min", "free_b_noise"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    int col = column(csv, names[k]);
    cr_assert_geq(col, 0, "no column %s", names[k]);
    for (size_t line = 1; line <= 3; line++) {
      double v = field(csv, line, col);
      cr_expect(isfinite(v), "%s on line %zu is %g: %s", names[k], line, v, csv);
    }
  }
  const double batches[] = {1, 4, 16};
  for (size_t line = 1; line <= 3; line++) {
    cr_expect_eq(field(csv, line, column(csv, "batch")), batches[line - 1]);
    double steps = field(csv, line, column(csv, "steps"));
    cr_expect_eq(field(csv, line, column(csv, "examples")), steps * batches[line - 1]);
  }
  free(csv);
  free(out);
  free(err);

  /* --validate-noise without a target is bad usage: exit 2, no file. */
  snprintf(args, sizeof args, "train --validate-noise --device @DEV --out %s/none.csv", dir);
  code = clb_test_run_cli(args, &out, &err);
  cr_expect_eq(code, 2, "exit %d", code);
  cr_expect(err && strstr(err, "--validate-noise needs --target-loss") != NULL, "%s", err);
  cr_expect_eq(clb_test_count_lines(err), 1, "%s", err);
  snprintf(path, sizeof path, "%s/none.csv", dir);
  cr_expect_neq(access(path, F_OK), 0, "the output file was created");
  free(out);
  free(err);
  clb_test_remove_tmpdir(dir);
}

static size_t count_fields(const char *line) {
  size_t n = 1;
  for (; *line && *line != '\n'; line++)
    n += *line == ',';
  return n;
}

Test(study_cli, study_table_and_report_plots) {
  if (!clb_test_require_device())
    return;
  char *dir = clb_test_tmpdir();
  char args[1024];
  snprintf(args, sizeof args,
           "study --device @DEV --model softmax --samples 80 --features 4 --classes 3 "
           "--batch 1,4,16 --target-loss 0.8 --lr-grid 0.1,0.3 --epochs 60 --precision fp64 "
           "--sharpness-samples 4 --out %s/s.csv",
           dir);
  char *out = NULL, *err = NULL;
  int code = clb_test_run_cli(args, &out, &err);
  cr_assert_eq(code, 0, "exit %d: %s\n%s", code, err, out);
  cr_expect(strstr(out, "(64 train, 16 validation)") != NULL, "%s", out);
  char path[512];
  snprintf(path, sizeof path, "%s/s.csv", dir);
  char *csv = clb_test_read_file(path);
  cr_assert_not_null(csv);
  cr_expect_eq(clb_test_count_lines(csv), 4, "one row per batch: %s", csv);
  size_t header_fields = count_fields(csv);
  for (const char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n'))
    cr_expect_eq(count_fields(line + 1), header_fields, "ragged row: %.80s", line + 1);
  const char *finite[] = {"val_loss", "gap", "sharpness_mean", "sharpness_max", "steps",
                          "predicted_steps", "device_bytes"};
  for (size_t k = 0; k < sizeof finite / sizeof finite[0]; k++) {
    int col = column(csv, finite[k]);
    cr_assert_geq(col, 0, "no column %s", finite[k]);
    for (size_t line = 1; line <= 3; line++)
      cr_expect(isfinite(field(csv, line, col)), "%s line %zu: %s", finite[k], line, csv);
  }
  free(csv);
  free(out);
  free(err);

  /* `clbatch report --study` draws the three plots (PNG and SVG). */
  int gnuplot = system("command -v gnuplot >/dev/null 2>&1") == 0;
  const char *ci = getenv("CI");
  if (!gnuplot && !(ci && strcmp(ci, "true") == 0)) {
    clb_test_remove_tmpdir(dir);
    cr_skip("gnuplot is not installed");
  }
  snprintf(args, sizeof args, "report --study %s/s.csv --out %s/report", dir, dir);
  code = clb_test_run_cli(args, &out, &err);
  cr_assert_eq(code, 0, "exit %d: %s", code, err);
  const char *plots[] = {"study_val_loss", "study_sharpness", "study_time_to_target"};
  for (size_t k = 0; k < 3; k++)
    for (int svg = 0; svg < 2; svg++) {
      snprintf(path, sizeof path, "%s/report/%s.%s", dir, plots[k], svg ? "svg" : "png");
      cr_expect_eq(access(path, F_OK), 0, "%s was not written: %s", path, out);
    }
  free(out);
  free(err);
  /* A file that is not a study table is bad input: exit 2. */
  snprintf(args, sizeof args, "report --study %s/report/study_val_loss.svg --out %s/r2", dir, dir);
  code = clb_test_run_cli(args, &out, &err);
  cr_expect_eq(code, 2, "exit %d: %s", code, err);
  free(out);
  free(err);
  clb_test_remove_tmpdir(dir);
}
