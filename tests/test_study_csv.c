/* results/study_csv: the table of `clbatch study` and `train --validate-noise`.
 *
 * Golden files (tests/fixtures/golden/study-*.csv) are real output; the
 * legacy writer below is write_study_csv of src/cli/train.c as of the split
 * (commit 16d5c3e), the reference the table is checked against on random
 * values. The reading rules shared with every table are tested in
 * test_train_csv.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "results/study_csv.h"
#include "util/csv.h"
#include "util/rng.h"

#define GOLDEN CLBATCH_SOURCE_DIR "/tests/fixtures/golden"

static char *written_text(const struct clb_study_csv_row *rows, size_t count) {
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  cr_assert_not_null(out);
  cr_assert_eq(clb_study_csv_write_header(out, NULL), 0);
  for (size_t i = 0; i < count; i++)
    cr_assert_eq(clb_study_csv_write_row(out, &rows[i], NULL), 0);
  fclose(out);
  return text;
}

static void golden_round_trip(const char *name, size_t rows_expected) {
  char path[4096];
  snprintf(path, sizeof path, GOLDEN "/%s", name);
  struct clb_study_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_csv_table_info info;
  struct clb_error err = {0};
  cr_assert_eq(clb_study_csv_read(path, &rows, &count, &info, &err), 0, "%s", err.message);
  cr_expect_eq(count, rows_expected, "%s", name);
  cr_expect_eq(info.found, ((uint64_t)1 << CLB_STUDY_CSV_COLUMN_COUNT) - 1, "every column");
  char *written = written_text(rows, count);
  char *golden = clb_test_read_file(path);
  cr_expect_str_eq(written, golden, "%s differs", name);
  free(golden);
  free(written);
  free(rows);
}

Test(study_csv, golden_files_round_trip_byte_for_byte) {
  golden_round_trip("study-softmax.csv", 2);
  golden_round_trip("study-linreg.csv", 2);
  golden_round_trip("study-validate-noise-linreg.csv", 2);
}

Test(study_csv, reader_reads_the_values_of_a_real_file) {
  struct clb_study_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_study_csv_read(GOLDEN "/study-softmax.csv", &rows, &count, NULL, &err), 0,
               "%s", err.message);
  cr_assert_eq(count, 2);
  cr_expect_str_eq(rows[1].model, "softmax");
  cr_expect_eq(rows[1].effective_batch, 8);
  cr_expect_eq(rows[1].steps, 82);
  cr_expect_eq(rows[1].predicted_steps, 72.041);
  cr_expect_eq(rows[1].val_accuracy, 0.5625);
  cr_expect_eq(rows[1].free_e_min, 16);
  free(rows);
  rows = NULL;
  count = 0;
  /* --validate-noise has no validation split: "nan" reads back as NaN. */
  cr_assert_eq(clb_study_csv_read(GOLDEN "/study-validate-noise-linreg.csv", &rows, &count, NULL,
                                  &err),
               0, "%s", err.message);
  cr_expect(isnan(rows[0].val_loss) && isnan(rows[0].sharpness_eps));
  free(rows);
}

Test(study_csv, only_the_columns_the_report_draws_are_required) {
  char *dir = clb_test_tmpdir();
  char *path = clb_test_write_file(
      dir, "s.csv",
      "device,model,precision,effective_batch,val_loss,sharpness_mean,sharpness_max,steps,"
      "predicted_steps,wall_s\n"
      "gpu,mlp,fp32,64,0.5,0.01,0.02,100,90,1.5\n");
  struct clb_study_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_study_csv_read(path, &rows, &count, NULL, &err), 0, "%s", err.message);
  cr_expect_eq(rows[0].effective_batch, 64);
  cr_expect(isnan(rows[0].b_noise));
  free(rows);
  rows = NULL;
  count = 0;
  char *other = clb_test_write_file(dir, "t.csv", "device,model,precision,batch,epoch\n");
  cr_expect_eq(clb_study_csv_read(other, &rows, &count, NULL, &err), CLB_E_SCHEMA);
  cr_expect(strstr(err.message, "not a `clbatch study` CSV: no column 'effective_batch'"),
            "%s", err.message);
  free(rows);
  free(other);
  free(path);
  clb_test_remove_dir(dir);
  free(dir);
}

/* ---- the legacy writer (src/cli/train.c at 16d5c3e) ---------------------- */

#define LEGACY_STUDY_HEADER                                                                  \
  "device,model,precision,batch,effective_batch,lr,target_loss,reached,steps,predicted_steps," \
  "ratio,examples,epochs,wall_s,update_s,train_loss,val_loss,gap,accuracy,val_accuracy,"       \
  "sharpness_eps,sharpness_mean,sharpness_max,device_bytes,sigma2,grad_norm2,b_noise,s_min,"   \
  "e_min,free_s_min,free_b_noise,free_e_min\n"

struct legacy_row {
  size_t batch, effective, device_bytes;
  int reached;
  double lr, steps, predicted, ratio, examples, epochs, wall_s, update_s, train_loss, val_loss;
  double gap, accuracy, val_accuracy, sharpness_mean, sharpness_max;
};

struct legacy_run {
  const char *device, *model, *precision;
  double target, sharpness_eps, sigma2, grad_norm2;
  size_t sharpness_samples;
  double b_noise, s_min, e_min, free_s_min, free_b_noise, free_e_min;
};

static void csv_number(FILE *out, const char *format, double value) {
  fputc(',', out);
  clb_csv_write_number(out, format, value, "nan");
}

static void legacy_study_row(FILE *out, const struct legacy_run *c, const struct legacy_row *r) {
  clb_csv_write_field(out, c->device);
  fprintf(out, ",%s,%s,%zu,%zu", c->model, c->precision, r->batch, r->effective);
  csv_number(out, "%.10g", r->lr);
  csv_number(out, "%.10g", c->target);
  fprintf(out, ",%d", r->reached);
  csv_number(out, "%.0f", r->steps);
  csv_number(out, "%.6g", r->predicted);
  csv_number(out, "%.6g", r->ratio);
  csv_number(out, "%.0f", r->examples);
  csv_number(out, "%.6g", r->epochs);
  csv_number(out, "%.6f", r->wall_s);
  csv_number(out, "%.6g", r->update_s);
  csv_number(out, "%.10g", r->train_loss);
  csv_number(out, "%.10g", r->val_loss);
  csv_number(out, "%.10g", r->gap);
  csv_number(out, "%.6f", r->accuracy);
  csv_number(out, "%.6f", r->val_accuracy);
  csv_number(out, "%.6g", c->sharpness_samples ? c->sharpness_eps : NAN);
  csv_number(out, "%.10g", r->sharpness_mean);
  csv_number(out, "%.10g", r->sharpness_max);
  fprintf(out, ",%zu", r->device_bytes);
  csv_number(out, "%.10g", c->sigma2);
  csv_number(out, "%.10g", c->grad_norm2);
  csv_number(out, "%.10g", c->b_noise);
  csv_number(out, "%.10g", c->s_min);
  csv_number(out, "%.10g", c->e_min);
  csv_number(out, "%.10g", c->free_s_min);
  csv_number(out, "%.10g", c->free_b_noise);
  csv_number(out, "%.10g", c->free_e_min);
  fputc('\n', out);
}

static double any_value(struct clb_rng *rng) {
  double u = clb_rng_uniform(rng);
  if (u < 0.05)
    return NAN;
  if (u < 0.08)
    return u < 0.065 ? INFINITY : -INFINITY;
  double magnitude = pow(10.0, -9.0 + 18.0 * clb_rng_uniform(rng));
  return (clb_rng_uniform(rng) < 0.2 ? -1 : 1) * magnitude * clb_rng_uniform(rng);
}

Test(study_csv, writer_matches_the_legacy_writer) {
  static const char *const devices[] = {"NVIDIA H100 80GB HBM3", "Dev, \"quoted\"", ""};
  struct clb_rng rng;
  clb_rng_seed(&rng, 2026);
  for (int trial = 0; trial < 3000; trial++) {
    struct legacy_run c = {.device = devices[trial % 3], .model = "softmax",
                           .precision = "fp16"};
    double *run_reals[] = {&c.target, &c.sharpness_eps, &c.sigma2,       &c.grad_norm2,
                           &c.b_noise, &c.s_min,        &c.e_min,        &c.free_s_min,
                           &c.free_b_noise, &c.free_e_min};
    for (size_t k = 0; k < sizeof run_reals / sizeof run_reals[0]; k++)
      *run_reals[k] = any_value(&rng);
    c.sharpness_samples = trial % 4 ? 16 : 0;
    struct legacy_row r = {0};
    r.batch = 1 + clb_rng_below(&rng, 1u << 16);
    r.effective = r.batch * (1 + clb_rng_below(&rng, 4));
    r.device_bytes = (size_t)clb_rng_below(&rng, (size_t)1 << 40);
    r.reached = trial & 1;
    double *row_reals[] = {&r.lr,         &r.steps,        &r.predicted,     &r.ratio,
                           &r.examples,   &r.epochs,       &r.wall_s,        &r.update_s,
                           &r.train_loss, &r.val_loss,     &r.gap,           &r.accuracy,
                           &r.val_accuracy, &r.sharpness_mean, &r.sharpness_max};
    for (size_t k = 0; k < sizeof row_reals / sizeof row_reals[0]; k++)
      *row_reals[k] = any_value(&rng);
    char *want = NULL;
    size_t want_size = 0;
    FILE *out = open_memstream(&want, &want_size);
    cr_assert_not_null(out);
    fputs(LEGACY_STUDY_HEADER, out);
    legacy_study_row(out, &c, &r);
    fclose(out);

    struct clb_study_csv_row row;
    clb_study_csv_row_init(&row);
    snprintf(row.device, sizeof row.device, "%s", c.device);
    snprintf(row.model, sizeof row.model, "%s", c.model);
    snprintf(row.precision, sizeof row.precision, "%s", c.precision);
    row.batch = (double)r.batch;
    row.effective_batch = (double)r.effective;
    row.lr = r.lr;
    row.target_loss = c.target;
    row.reached = r.reached;
    row.steps = r.steps;
    row.predicted_steps = r.predicted;
    row.ratio = r.ratio;
    row.examples = r.examples;
    row.epochs = r.epochs;
    row.wall_s = r.wall_s;
    row.update_s = r.update_s;
    row.train_loss = r.train_loss;
    row.val_loss = r.val_loss;
    row.gap = r.gap;
    row.accuracy = r.accuracy;
    row.val_accuracy = r.val_accuracy;
    row.sharpness_eps = c.sharpness_samples ? c.sharpness_eps : NAN;
    row.sharpness_mean = r.sharpness_mean;
    row.sharpness_max = r.sharpness_max;
    row.device_bytes = (double)r.device_bytes;
    row.sigma2 = c.sigma2;
    row.grad_norm2 = c.grad_norm2;
    row.b_noise = c.b_noise;
    row.s_min = c.s_min;
    row.e_min = c.e_min;
    row.free_s_min = c.free_s_min;
    row.free_b_noise = c.free_b_noise;
    row.free_e_min = c.free_e_min;
    char *got = written_text(&row, 1);
    cr_assert_str_eq(got, want, "trial %d", trial);
    free(got);
    free(want);
  }
}
