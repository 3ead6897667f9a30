/* results/train_csv: the per-epoch and --summary-out CSVs of `clbatch train`.
 *
 * The writers must produce the files `clbatch train` writes, byte for byte:
 * the golden files in tests/fixtures/golden/ are real output, and the legacy
 * writers below are the formatting code of src/cli/train.c as of the split
 * (commit 16d5c3e), kept as the reference the table is checked against on
 * random values. Through util/csv_table this file also tests the rules every
 * table reader follows (columns by name, truncated last line, errors). */
#include <criterion/criterion.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "results/train_csv.h"
#include "util/csv.h"
#include "util/rng.h"

#define GOLDEN CLBATCH_SOURCE_DIR "/tests/fixtures/golden"

/* ---- helpers ------------------------------------------------------------ */

/* What a writer wrote into a memory stream (malloc'd). */
struct capture {
  FILE *out;
  char *text;
  size_t size;
};

static void capture_open(struct capture *c) {
  c->text = NULL;
  c->size = 0;
  c->out = open_memstream(&c->text, &c->size);
  cr_assert_not_null(c->out);
}

static char *capture_close(struct capture *c) {
  fclose(c->out);
  return c->text;
}

static unsigned flags_of(const struct clb_csv_table_info *info) {
  unsigned flags = 0;
  if (info->found & ((uint64_t)1 << CLB_TRAIN_CSV_COL_accuracy))
    flags |= CLB_TRAIN_CSV_CLASSIFIER;
  if (info->found & ((uint64_t)1 << CLB_TRAIN_CSV_COL_val_loss))
    flags |= CLB_TRAIN_CSV_VALIDATION;
  return flags;
}

static char *write_in(const char *dir, const char *name, const char *text) {
  return clb_test_write_file(dir, name, text);
}

/* ---- the per-epoch CSV -------------------------------------------------- */

Test(train_csv, header_follows_the_flags) {
  static const struct {
    unsigned flags;
    const char *header;
  } cases[] = {
      {0, "device,model,precision,batch,epoch,updates,train_loss,wall_s\n"},
      {CLB_TRAIN_CSV_CLASSIFIER,
       "device,model,precision,batch,epoch,updates,train_loss,wall_s,accuracy\n"},
      {CLB_TRAIN_CSV_VALIDATION,
       "device,model,precision,batch,epoch,updates,train_loss,wall_s,val_loss,gap\n"},
      {CLB_TRAIN_CSV_VALIDATION_CLASSIFIER,
       "device,model,precision,batch,epoch,updates,train_loss,wall_s,accuracy,val_loss,gap,"
       "val_accuracy\n"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct capture c;
    capture_open(&c);
    cr_assert_eq(clb_train_csv_write_header(c.out, cases[i].flags, NULL), 0);
    char *text = capture_close(&c);
    cr_expect_str_eq(text, cases[i].header, "flags %u", cases[i].flags);
    free(text);
  }
}

/* Reads a golden file and writes it again: the same bytes. */
static void golden_round_trip(const char *name, size_t rows_expected, unsigned flags_expected) {
  char path[4096];
  snprintf(path, sizeof path, GOLDEN "/%s", name);
  struct clb_train_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_csv_table_info info;
  struct clb_error err = {0};
  cr_assert_eq(clb_train_csv_read(path, &rows, &count, &info, &err), 0, "%s", err.message);
  cr_expect_eq(count, rows_expected, "%s", name);
  cr_expect_eq(info.dropped_line, 0);
  unsigned flags = flags_of(&info);
  cr_expect_eq(flags, flags_expected, "%s", name);
  struct capture c;
  capture_open(&c);
  cr_assert_eq(clb_train_csv_write_header(c.out, flags, NULL), 0);
  for (size_t i = 0; i < count; i++)
    cr_assert_eq(clb_train_csv_write_row(c.out, flags, &rows[i], NULL), 0);
  char *written = capture_close(&c);
  char *golden = clb_test_read_file(path);
  cr_expect_str_eq(written, golden, "%s differs", name);
  free(golden);
  free(written);
  free(rows);
}

Test(train_csv, golden_files_round_trip_byte_for_byte) {
  golden_round_trip("train-epochs-linreg.csv", 6, 0);
  golden_round_trip("train-epochs-softmax.csv", 6, CLB_TRAIN_CSV_CLASSIFIER);
  golden_round_trip("train-epochs-linreg-val.csv", 8, CLB_TRAIN_CSV_VALIDATION);
  golden_round_trip("train-epochs-softmax-val.csv", 6, CLB_TRAIN_CSV_VALIDATION_CLASSIFIER);
}

Test(train_csv, reader_reads_the_values_of_a_real_file) {
  struct clb_train_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_train_csv_read(GOLDEN "/train-epochs-linreg-val.csv", &rows, &count, NULL,
                                  &err),
               0, "%s", err.message);
  cr_assert_eq(count, 8);
  const struct clb_train_csv_row *r = &rows[1];
  cr_expect_str_eq(r->device, "pthread-skylake-avx512-AMD EPYC");
  cr_expect_str_eq(r->model, "linreg");
  cr_expect_str_eq(r->precision, "fp32");
  cr_expect_eq(r->batch, 4);
  cr_expect_eq(r->epoch, 0.833333); /* --eval-every: a fraction of an epoch */
  cr_expect_eq(r->updates, 5);
  cr_expect_eq(r->train_loss, 3.345617332);
  cr_expect_eq(r->wall_s, 0.000426);
  cr_expect_eq(r->val_loss, 4.103188847);
  cr_expect_eq(r->gap, 0.7575715144);
  cr_expect(isnan(r->accuracy) && isnan(r->val_accuracy), "absent columns read as NaN");
  cr_expect_eq(r->line, 3);
  free(rows);
}

Test(train_csv, older_files_without_the_validation_columns_read) {
  /* The report's fixture predates gap and val_accuracy: val_loss alone. */
  struct clb_train_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_csv_table_info info;
  struct clb_error err = {0};
  cr_assert_eq(clb_train_csv_read(CLBATCH_SOURCE_DIR "/tests/fixtures/train-softmax.csv", &rows,
                                  &count, &info, &err),
               0, "%s", err.message);
  cr_expect_eq(count, 93);
  cr_expect(info.found & ((uint64_t)1 << CLB_TRAIN_CSV_COL_val_loss));
  cr_expect_not(info.found & ((uint64_t)1 << CLB_TRAIN_CSV_COL_gap));
  cr_expect_not(info.found & ((uint64_t)1 << CLB_TRAIN_CSV_COL_val_accuracy));
  cr_expect(isnan(rows[0].gap));
  cr_expect_eq(rows[0].val_loss, 2.323664);
  free(rows);
}

Test(train_csv, columns_are_found_by_name_in_any_order) {
  char *dir = clb_test_tmpdir();
  char *path = write_in(dir, "t.csv",
                        "wall_s,epoch,extra,train_loss,batch,precision,model,device\n"
                        "0.5,2,x,0.25,8,fp64,mlp,\"GPU, the big one\"\n");
  struct clb_train_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_csv_table_info info;
  struct clb_error err = {0};
  cr_assert_eq(clb_train_csv_read(path, &rows, &count, &info, &err), 0, "%s", err.message);
  cr_assert_eq(count, 1);
  cr_expect_str_eq(rows[0].device, "GPU, the big one");
  cr_expect_str_eq(rows[0].model, "mlp");
  cr_expect_eq(rows[0].batch, 8);
  cr_expect_eq(rows[0].epoch, 2);
  cr_expect_eq(rows[0].train_loss, 0.25);
  cr_expect_eq(rows[0].wall_s, 0.5);
  cr_expect(isnan(rows[0].updates), "updates is optional");
  cr_expect_not(info.found & ((uint64_t)1 << CLB_TRAIN_CSV_COL_updates));
  free(rows);
  free(path);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(train_csv, round_trip_quotes_names_and_keeps_nan_and_inf) {
  char *dir = clb_test_tmpdir();
  struct clb_train_csv_row row;
  clb_train_csv_row_init(&row);
  snprintf(row.device, sizeof row.device, "%s", "Dev \"X\", rev 2");
  snprintf(row.model, sizeof row.model, "softmax");
  snprintf(row.precision, sizeof row.precision, "fp16");
  row.batch = 32;
  row.epoch = 1.5;
  row.updates = 48;
  row.train_loss = INFINITY;
  row.wall_s = 1.25;
  row.accuracy = 0.5;
  row.val_loss = NAN;
  row.gap = -INFINITY;
  row.val_accuracy = 0.25;
  const unsigned flags = CLB_TRAIN_CSV_VALIDATION_CLASSIFIER;
  char path[4200];
  snprintf(path, sizeof path, "%s/t.csv", dir);
  FILE *out = fopen(path, "w");
  cr_assert_not_null(out);
  cr_assert_eq(clb_train_csv_write_header(out, flags, NULL), 0);
  cr_assert_eq(clb_train_csv_write_row(out, flags, &row, NULL), 0);
  fclose(out);
  char *text = clb_test_read_file(path);
  cr_expect(strstr(text, "\n\"Dev \"\"X\"\", rev 2\",softmax,fp16,32,1.5,48,inf,1.250000,"
                         "0.500000,nan,-inf,0.250000\n") != NULL,
            "%s", text);
  free(text);
  struct clb_train_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_train_csv_read(path, &rows, &count, NULL, &err), 0, "%s", err.message);
  cr_assert_eq(count, 1);
  cr_expect_str_eq(rows[0].device, row.device);
  cr_expect(isinf(rows[0].train_loss) && rows[0].train_loss > 0);
  cr_expect(isnan(rows[0].val_loss));
  cr_expect(isinf(rows[0].gap) && rows[0].gap < 0);
  cr_expect_eq(rows[0].val_accuracy, 0.25);
  free(rows);
  clb_test_remove_dir(dir);
  free(dir);
}

/* The last line as a killed run leaves it: cut anywhere, no newline. */
Test(train_csv, a_truncated_last_line_is_dropped_and_named) {
  static const char head[] = "device,model,precision,batch,epoch,updates,train_loss,wall_s\n"
                             "cpu,linreg,fp32,4,0,0,4.5,0.000000\n"
                             "cpu,linreg,fp32,4,1,15,2.25,0.000490\n";
  static const char *const cuts[] = {
      "cpu,linreg,fp3",                 /* too few fields */
      "\"cpu, with a comma,linreg",      /* inside a quote */
      "cpu,linreg,fp32,4,2,30,1.2e",    /* a number cut after its exponent sign */
      "cpu,linreg,fp32,4,2,30,1.25,0.", /* all fields, the last one cut: it parses, kept */
  };
  char *dir = clb_test_tmpdir();
  for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
    char text[1024];
    snprintf(text, sizeof text, "%s%s", head, cuts[k]);
    char *path = write_in(dir, "cut.csv", text);
    struct clb_train_csv_row *rows = NULL;
    size_t count = 0;
    struct clb_csv_table_info info;
    struct clb_error err = {0};
    cr_assert_eq(clb_train_csv_read(path, &rows, &count, &info, &err), 0, "cut %zu: %s", k,
                 err.message);
    int kept = k == 3;
    cr_expect_eq(count, 2 + (size_t)kept, "cut %zu", k);
    cr_expect_eq(info.dropped_line, kept ? 0 : 4, "cut %zu", k);
    cr_expect_eq(rows[1].train_loss, 2.25);
    free(rows);
    free(path);
  }
  clb_test_remove_dir(dir);
  free(dir);
}

Test(train_csv, bad_files_say_where) {
  static const struct {
    const char *text;
    int code;
    const char *message;
  } cases[] = {
      {"", CLB_E_PARSE, "empty file (no header line)"},
      {"\n\n", CLB_E_PARSE, "empty file (no header line)"},
      {"device,model,precision,batch,updates,train_loss,wall_s\n", CLB_E_SCHEMA,
       "not a `clbatch train` CSV: no column 'epoch'"},
      {"device,model,precision,batch,epoch,train_loss,wall_s\na,b,c,1,0,1\nx\n", CLB_E_PARSE,
       ":2: 6 fields, the header has 7"},
      {"device,model,precision,batch,epoch,train_loss,wall_s\na,b,c,1,0,1,2\na,b,c,1,0,lots,2\n",
       CLB_E_PARSE, ":3: column train_loss: not a number: 'lots'"},
  };
  char *dir = clb_test_tmpdir();
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char *path = write_in(dir, "bad.csv", cases[k].text);
    struct clb_train_csv_row *rows = NULL;
    size_t count = 0;
    struct clb_error err = {0};
    cr_expect_eq(clb_train_csv_read(path, &rows, &count, NULL, &err), cases[k].code, "case %zu",
                 k);
    cr_expect(strstr(err.message, cases[k].message) != NULL, "case %zu: %s", k, err.message);
    cr_expect(strstr(err.message, "bad.csv") != NULL, "case %zu: %s", k, err.message);
    cr_expect_eq(count, 0, "a failed read adds no rows");
    free(rows);
    free(path);
  }
  struct clb_train_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_expect_eq(clb_train_csv_read("/nonexistent/t.csv", &rows, &count, NULL, &err), CLB_E_IO);
  cr_expect(strstr(err.message, "/nonexistent/t.csv") != NULL, "%s", err.message);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(train_csv, blank_lines_and_crlf_are_tolerated) {
  char *dir = clb_test_tmpdir();
  char *path = write_in(dir, "t.csv",
                        "device,model,precision,batch,epoch,updates,train_loss,wall_s\r\n"
                        "cpu,linreg,fp32,4,0,0,4.5,0.000000\r\n"
                        "\r\n"
                        "cpu,linreg,fp32,4,1,15,2.25,0.000490\r\n");
  struct clb_train_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_train_csv_read(path, &rows, &count, NULL, &err), 0, "%s", err.message);
  cr_expect_eq(count, 2);
  cr_expect_eq(rows[1].wall_s, 0.00049);
  cr_expect_eq(rows[1].line, 4);
  free(rows);
  free(path);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(train_csv, reading_appends_to_the_rows_already_read) {
  struct clb_train_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_train_csv_read(GOLDEN "/train-epochs-linreg.csv", &rows, &count, NULL, &err),
               0);
  cr_assert_eq(clb_train_csv_read(GOLDEN "/train-epochs-softmax.csv", &rows, &count, NULL, &err),
               0);
  cr_expect_eq(count, 12);
  cr_expect_str_eq(rows[0].model, "linreg");
  cr_expect_str_eq(rows[6].model, "softmax");
  free(rows);
}

/* Writes and reads under a locale with a decimal comma: the file still says
 * 0.5. Locales are process-wide; the C one is restored before asserting. */
Test(train_csv, numbers_use_a_dot_under_a_decimal_comma_locale) {
  if (!setlocale(LC_NUMERIC, "de_DE.UTF-8"))
    cr_skip("the de_DE.UTF-8 locale is not installed");
  struct clb_train_csv_row row;
  clb_train_csv_row_init(&row);
  snprintf(row.device, sizeof row.device, "cpu");
  row.batch = 2;
  row.epoch = 0.5;
  row.train_loss = 1.5;
  row.wall_s = 0.25;
  struct capture c;
  capture_open(&c);
  int rc = clb_train_csv_write_header(c.out, 0, NULL);
  rc |= clb_train_csv_write_row(c.out, 0, &row, NULL);
  char *text = capture_close(&c);
  char *dir = clb_test_tmpdir();
  char *path = write_in(dir, "t.csv", text);
  struct clb_train_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  int read_rc = clb_train_csv_read(path, &rows, &count, NULL, &err);
  setlocale(LC_NUMERIC, "C");
  cr_assert_eq(rc, 0);
  cr_expect(strstr(text, "\ncpu,,,2,0.5,nan,1.5,0.250000\n") != NULL, "%s", text);
  cr_assert_eq(read_rc, 0, "%s", err.message);
  cr_expect_eq(rows[0].epoch, 0.5);
  cr_expect_eq(rows[0].wall_s, 0.25);
  free(rows);
  free(path);
  free(text);
  clb_test_remove_dir(dir);
  free(dir);
}

/* ---- the legacy writers (src/cli/train.c at 16d5c3e) --------------------- */

static const char *legacy_number(char *buf, size_t size, const char *format, double value) {
  if (isnan(value))
    return "nan";
  if (isinf(value))
    return value < 0 ? "-inf" : "inf";
  snprintf(buf, size, format, value);
  return buf;
}

static void legacy_epoch_header(FILE *csv, int classifier, int validation) {
  fputs("device,model,precision,batch,epoch,updates,train_loss,wall_s", csv);
  fputs(classifier ? ",accuracy" : "", csv);
  fputs(validation ? ",val_loss,gap" : "", csv);
  fputs(validation && classifier ? ",val_accuracy\n" : "\n", csv);
}

struct legacy_epoch {
  const char *device, *model, *precision;
  size_t batch, updates;
  double epochs_done, train_loss, wall_s, accuracy, val_loss, val_accuracy;
};

static void legacy_epoch_row(FILE *csv, int classifier, int validation,
                             const struct legacy_epoch *r) {
  char loss[64], val[64], gap[64], epoch[32];
  snprintf(epoch, sizeof epoch, "%.6g", r->epochs_done);
  clb_csv_write_field(csv, r->device);
  fprintf(csv, ",%s,%s,%zu,%s,%zu,%s,%.6f", r->model, r->precision, r->batch, epoch, r->updates,
          legacy_number(loss, sizeof loss, "%.10g", r->train_loss), r->wall_s);
  if (classifier)
    fprintf(csv, ",%.6f", r->accuracy);
  if (validation) {
    fprintf(csv, ",%s,%s", legacy_number(val, sizeof val, "%.10g", r->val_loss),
            legacy_number(gap, sizeof gap, "%.10g", r->val_loss - r->train_loss));
    if (classifier)
      fprintf(csv, ",%.6f", r->val_accuracy);
  }
  fputc('\n', csv);
}

static void legacy_csv_number(FILE *out, const char *format, double value) {
  fputc(',', out);
  clb_csv_write_number(out, format, value, "nan");
}

struct legacy_summary {
  const char *device, *model, *precision;
  size_t batch, accumulate, effective, per_epoch, updates, sharpness_samples, device_bytes;
  size_t target_updates, bytes_micro, bytes_effective;
  int reached, has_target;
  double lr, wall_s, update_s, micro_s, train_loss, accuracy, val_loss, val_accuracy, target;
  double target_epochs, target_wall_s, sharpness_eps, sharpness_mean, sharpness_max;
};

static void legacy_summary_row(FILE *out, const struct legacy_summary *s) {
  clb_csv_write_field(out, s->device);
  fprintf(out, ",%s,%s,%zu,%zu,%zu", s->model, s->precision, s->batch, s->accumulate,
          s->effective);
  legacy_csv_number(out, "%.10g", s->lr);
  legacy_csv_number(out, "%.6g", (double)s->updates / (double)s->per_epoch);
  fprintf(out, ",%zu", s->updates);
  legacy_csv_number(out, "%.6f", s->wall_s);
  legacy_csv_number(out, "%.6g", s->update_s);
  legacy_csv_number(out, "%.6g", s->micro_s);
  legacy_csv_number(out, "%.10g", s->train_loss);
  legacy_csv_number(out, "%.6f", s->accuracy);
  legacy_csv_number(out, "%.10g", s->val_loss);
  legacy_csv_number(out, "%.6f", s->val_accuracy);
  legacy_csv_number(out, "%.10g", s->val_loss - s->train_loss);
  legacy_csv_number(out, "%.10g", s->has_target ? s->target : NAN);
  fprintf(out, ",%d", s->reached);
  legacy_csv_number(out, "%.6g", s->reached ? s->target_epochs : NAN);
  legacy_csv_number(out, "%.0f", s->reached ? (double)s->target_updates : NAN);
  legacy_csv_number(out, "%.6f", s->reached ? s->target_wall_s : NAN);
  legacy_csv_number(out, "%.6g", s->sharpness_eps);
  fprintf(out, ",%zu", s->sharpness_samples);
  legacy_csv_number(out, "%.10g", s->sharpness_mean);
  legacy_csv_number(out, "%.10g", s->sharpness_max);
  fprintf(out, ",%zu", s->device_bytes);
  legacy_csv_number(out, "%.0f", s->accumulate > 1 ? (double)s->bytes_micro : NAN);
  legacy_csv_number(out, "%.0f", s->accumulate > 1 ? (double)s->bytes_effective : NAN);
  fputc('\n', out);
}

#define LEGACY_SUMMARY_HEADER                                                                \
  "device,model,precision,batch,accumulate,effective_batch,lr,epochs,updates,wall_s,update_s,"  \
  "micro_s,train_loss,accuracy,val_loss,val_accuracy,gap,target_loss,reached,target_epochs,"    \
  "target_updates,target_wall_s,sharpness_eps,sharpness_samples,sharpness_mean,"               \
  "sharpness_max,device_bytes,step_bytes_micro,step_bytes_effective\n"

/* A value of any magnitude, sometimes not finite (where `special`). */
static double any_value(struct clb_rng *rng, int special) {
  double u = clb_rng_uniform(rng);
  if (special && u < 0.05)
    return NAN;
  if (special && u < 0.08)
    return u < 0.065 ? INFINITY : -INFINITY;
  double magnitude = pow(10.0, -9.0 + 18.0 * clb_rng_uniform(rng));
  return (clb_rng_uniform(rng) < 0.2 ? -1 : 1) * magnitude * clb_rng_uniform(rng);
}

static const char *const DEVICES[] = {"NVIDIA H100 80GB HBM3", "cpu-znver3-AMD EPYC 7763",
                                      "Dev, \"quoted\"", "line\nbreak", ""};

Test(train_csv, writer_matches_the_legacy_per_epoch_writer) {
  struct clb_rng rng;
  clb_rng_seed(&rng, 14);
  for (int trial = 0; trial < 4000; trial++) {
    int classifier = trial & 1, validation = (trial >> 1) & 1;
    struct legacy_epoch r = {.device = DEVICES[trial % 5],
                            .model = classifier ? "softmax" : "linreg",
                            .precision = "fp32"};
    r.batch = 1 + clb_rng_below(&rng, 1u << 20);
    r.updates = clb_rng_below(&rng, 1u << 30);
    r.epochs_done = trial % 3 ? (double)clb_rng_below(&rng, 1000) / 12.0
                              : (double)clb_rng_below(&rng, 100);
    r.train_loss = any_value(&rng, 1);
    r.val_loss = any_value(&rng, 1);
    /* train.c prints these with a bare %.6f: always finite there. */
    r.wall_s = 1000 * clb_rng_uniform(&rng);
    r.accuracy = clb_rng_uniform(&rng);
    r.val_accuracy = clb_rng_uniform(&rng);
    struct capture legacy, table;
    capture_open(&legacy);
    legacy_epoch_header(legacy.out, classifier, validation);
    legacy_epoch_row(legacy.out, classifier, validation, &r);
    char *want = capture_close(&legacy);

    unsigned flags = (classifier ? CLB_TRAIN_CSV_CLASSIFIER : 0) |
                     (validation ? CLB_TRAIN_CSV_VALIDATION : 0);
    struct clb_train_csv_row row;
    clb_train_csv_row_init(&row);
    snprintf(row.device, sizeof row.device, "%s", r.device);
    snprintf(row.model, sizeof row.model, "%s", r.model);
    snprintf(row.precision, sizeof row.precision, "%s", r.precision);
    row.batch = (double)r.batch;
    row.epoch = r.epochs_done;
    row.updates = (double)r.updates;
    row.train_loss = r.train_loss;
    row.wall_s = r.wall_s;
    row.accuracy = r.accuracy;
    row.val_loss = r.val_loss;
    row.gap = r.val_loss - r.train_loss;
    row.val_accuracy = r.val_accuracy;
    capture_open(&table);
    clb_train_csv_write_header(table.out, flags, NULL);
    clb_train_csv_write_row(table.out, flags, &row, NULL);
    char *got = capture_close(&table);
    cr_assert_str_eq(got, want, "trial %d", trial);
    free(got);
    free(want);
  }
}

Test(train_csv, writer_matches_the_legacy_summary_writer) {
  struct clb_rng rng;
  clb_rng_seed(&rng, 1414);
  for (int trial = 0; trial < 4000; trial++) {
    struct legacy_summary s = {.device = DEVICES[trial % 5],
                               .model = trial & 1 ? "mlp" : "linreg",
                               .precision = "fp64"};
    s.batch = 1 + clb_rng_below(&rng, 1u << 16);
    s.accumulate = trial % 3 ? 1 : 1 + clb_rng_below(&rng, 8);
    s.effective = s.batch * s.accumulate;
    s.per_epoch = 1 + clb_rng_below(&rng, 5000);
    s.updates = clb_rng_below(&rng, 1u << 24);
    s.sharpness_samples = clb_rng_below(&rng, 64);
    s.device_bytes = (size_t)clb_rng_below(&rng, (size_t)1 << 40);
    s.target_updates = clb_rng_below(&rng, 1u << 24);
    s.bytes_micro = (size_t)clb_rng_below(&rng, (size_t)1 << 40);
    s.bytes_effective = (size_t)clb_rng_below(&rng, (size_t)1 << 40);
    s.reached = (trial >> 1) & 1;
    s.has_target = (trial >> 2) & 1;
    double *reals[] = {&s.lr,           &s.wall_s,       &s.update_s,      &s.micro_s,
                       &s.train_loss,   &s.accuracy,     &s.val_loss,      &s.val_accuracy,
                       &s.target,       &s.target_epochs, &s.target_wall_s, &s.sharpness_eps,
                       &s.sharpness_mean, &s.sharpness_max};
    for (size_t k = 0; k < sizeof reals / sizeof reals[0]; k++)
      *reals[k] = any_value(&rng, 1);
    struct capture legacy, table;
    capture_open(&legacy);
    fputs(LEGACY_SUMMARY_HEADER, legacy.out);
    legacy_summary_row(legacy.out, &s);
    char *want = capture_close(&legacy);

    struct clb_train_summary_csv_row row;
    clb_train_summary_csv_row_init(&row);
    snprintf(row.device, sizeof row.device, "%s", s.device);
    snprintf(row.model, sizeof row.model, "%s", s.model);
    snprintf(row.precision, sizeof row.precision, "%s", s.precision);
    row.batch = (double)s.batch;
    row.accumulate = (double)s.accumulate;
    row.effective_batch = (double)s.effective;
    row.lr = s.lr;
    row.epochs = (double)s.updates / (double)s.per_epoch;
    row.updates = (double)s.updates;
    row.wall_s = s.wall_s;
    row.update_s = s.update_s;
    row.micro_s = s.micro_s;
    row.train_loss = s.train_loss;
    row.accuracy = s.accuracy;
    row.val_loss = s.val_loss;
    row.val_accuracy = s.val_accuracy;
    row.gap = s.val_loss - s.train_loss;
    row.target_loss = s.has_target ? s.target : NAN;
    row.reached = s.reached;
    row.target_epochs = s.reached ? s.target_epochs : NAN;
    row.target_updates = s.reached ? (double)s.target_updates : NAN;
    row.target_wall_s = s.reached ? s.target_wall_s : NAN;
    row.sharpness_eps = s.sharpness_eps;
    row.sharpness_samples = (double)s.sharpness_samples;
    row.sharpness_mean = s.sharpness_mean;
    row.sharpness_max = s.sharpness_max;
    row.device_bytes = (double)s.device_bytes;
    row.step_bytes_micro = s.accumulate > 1 ? (double)s.bytes_micro : NAN;
    row.step_bytes_effective = s.accumulate > 1 ? (double)s.bytes_effective : NAN;
    capture_open(&table);
    clb_train_summary_csv_write_header(table.out, NULL);
    clb_train_summary_csv_write_row(table.out, &row, NULL);
    char *got = capture_close(&table);
    cr_assert_str_eq(got, want, "trial %d", trial);
    free(got);
    free(want);
  }
}

/* ---- the summary CSV ---------------------------------------------------- */

static void golden_summary(const char *name, size_t rows_expected) {
  char path[4096];
  snprintf(path, sizeof path, GOLDEN "/%s", name);
  struct clb_train_summary_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_train_summary_csv_read(path, &rows, &count, NULL, &err), 0, "%s",
               err.message);
  cr_expect_eq(count, rows_expected, "%s", name);
  struct capture c;
  capture_open(&c);
  cr_assert_eq(clb_train_summary_csv_write_header(c.out, NULL), 0);
  for (size_t i = 0; i < count; i++)
    cr_assert_eq(clb_train_summary_csv_write_row(c.out, &rows[i], NULL), 0);
  char *written = capture_close(&c);
  char *golden = clb_test_read_file(path);
  cr_expect_str_eq(written, golden, "%s differs", name);
  free(golden);
  free(written);
  free(rows);
}

Test(train_summary_csv, golden_files_round_trip_byte_for_byte) {
  golden_summary("train-summary-linreg.csv", 2);
  golden_summary("train-summary-softmax-val.csv", 2);
  golden_summary("train-summary-linreg-accumulate.csv", 2);
}

Test(train_summary_csv, reader_reads_targets_and_accumulation) {
  struct clb_train_summary_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_assert_eq(clb_train_summary_csv_read(GOLDEN "/train-summary-linreg-accumulate.csv", &rows,
                                          &count, NULL, &err),
               0, "%s", err.message);
  cr_assert_eq(count, 2);
  cr_expect_eq(rows[0].accumulate, 2);
  cr_expect_eq(rows[0].effective_batch, 8);
  cr_expect_eq(rows[0].reached, 1);
  cr_expect_eq(rows[0].target_updates, 10);
  cr_expect_eq(rows[0].step_bytes_micro, 1396);
  cr_expect_eq(rows[1].reached, 0);
  cr_expect(isnan(rows[1].target_updates));
  cr_expect(isnan(rows[0].accuracy), "linreg has no accuracy");
  free(rows);
}

Test(train_summary_csv, every_column_is_required) {
  /* One format has ever been written: a file without a column is not one. */
  char *dir = clb_test_tmpdir();
  char *path = write_in(dir, "s.csv", "device,model,precision,batch\ncpu,linreg,fp32,4\n");
  struct clb_train_summary_csv_row *rows = NULL;
  size_t count = 0;
  struct clb_error err = {0};
  cr_expect_eq(clb_train_summary_csv_read(path, &rows, &count, NULL, &err), CLB_E_SCHEMA);
  cr_expect(strstr(err.message, "no column 'accumulate'") != NULL, "%s", err.message);
  free(rows);
  free(path);
  clb_test_remove_dir(dir);
  free(dir);
}
