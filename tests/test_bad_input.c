#define _GNU_SOURCE /* memrchr */
/* Bad input, end to end: every case runs the real binary and must end in a
 * non-zero exit (not a crash), a first stderr line that names the problem,
 * and no output file. Inputs live in DIR/in, outputs would go to DIR/out. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"

/* Criterion runs each parameter in its own process, so the table holds
 * arrays, never pointers to static strings. */
struct bad_case {
  char args[640];   /* "@" stands for the test's directory */
  char expect[96];  /* a substring of stderr's first line */
};

#define BAD(args, expect) {args, expect}

static struct bad_case cases[] = {
    /* Commands and options nobody knows. */
    BAD("bogus", "unknown command 'bogus'"),
    BAD("help bogus", "unknown command 'bogus'"),
    BAD("run --bogus --out @/out/r.csv", "unrecognized option '--bogus'"),
    BAD("peak --bogus", "unrecognized option '--bogus'"),
    BAD("devices --bogus", "unrecognized option '--bogus'"),
    BAD("recommend --bogus @/in/good.csv", "unrecognized option '--bogus'"),
    BAD("report --bogus @/in/good.csv --out @/out/rep", "unrecognized option '--bogus'"),
    BAD("tune --bogus --dry-run", "unrecognized option '--bogus'"),
    BAD("train --bogus --out @/out/t.csv", "unrecognized option '--bogus'"),
    /* run: missing, empty, negative, zero, huge, non-numeric, overflowing values. */
    BAD("run --out @/out/r.csv --batch", "option '--batch' needs a value"),
    BAD("run --out @/out/r.csv --batch ''", "--batch: empty"),
    BAD("run --out @/out/r.csv --batch -1", "--batch: '-1'"),
    BAD("run --out @/out/r.csv --batch 0", "--batch: 0 is below"),
    BAD("run --out @/out/r.csv --batch 1,,2", "--batch"),
    BAD("run --out @/out/r.csv --batch 4:1:x2", "--batch"),
    BAD("run --out @/out/r.csv --batch 1:8:x1", "--batch"),
    BAD("run --out @/out/r.csv --batch abc", "--batch: 'abc'"),
    BAD("run --out @/out/r.csv --batch 99999999999999999999999", "--batch: 99999999999999999999999"),
    BAD("run --out @/out/r.csv --samples 64 --batch 65", "--batch"),
    BAD("run --out @/out/r.csv --samples 0", "--samples: 0"),
    BAD("run --out @/out/r.csv --samples 1", "--samples: 1"),
    BAD("run --out @/out/r.csv --samples -5", "--samples: '-5'"),
    BAD("run --out @/out/r.csv --samples 1e3", "--samples: '1e3'"),
    BAD("run --out @/out/r.csv --samples 18446744073709551616", "--samples"),
    BAD("run --out @/out/r.csv --features 0", "--features: 0"),
    BAD("run --out @/out/r.csv --features 18446744073709551615", "--features"),
    BAD("run --out @/out/r.csv --hidden ''", "--hidden"),
    BAD("run --out @/out/r.csv --classes 1", "--classes: 1"),
    BAD("run --out @/out/r.csv --outputs x", "--outputs: 'x'"),
    /* batch x features x samples far beyond any host's memory (2^51 values). */
    BAD("run --out @/out/r.csv --samples 2147483648 --features 1048576 --batch 2147483648",
        "more than this host's"),
    BAD("run --out @/out/r.csv --lr nan", "--lr: 'nan'"),
    BAD("run --out @/out/r.csv --lr -0.1", "--lr: -0.1"),
    BAD("run --out @/out/r.csv --lr 1e999", "--lr: '1e999'"),
    BAD("run --out @/out/r.csv --min-time -1", "--min-time: -1"),
    BAD("run --out @/out/r.csv --max-time 0", "--max-time: 0"),
    BAD("run --out @/out/r.csv --max-time 0.1 --min-time 0.5", "--max-time"),
    BAD("run --out @/out/r.csv --max-reps 0", "--max-reps: 0"),
    BAD("run --out @/out/r.csv --warmup inf", "--warmup: 'inf'"),
    BAD("run --out @/out/r.csv --target-ci ''", "--target-ci"),
    BAD("run --out @/out/r.csv --target-cv 0.02", "use --target-ci"),
    BAD("run --out @/out/r.csv --timeout -1", "--timeout: -1"),
    BAD("run --out @/out/r.csv --noise-batches 1", "--noise-batches"),
    BAD("run --out @/out/r.csv --seed -1", "--seed: '-1'"),
    BAD("run --out @/out/r.csv --model foo", "--model: unknown 'foo'"),
    BAD("run --out @/out/r.csv --model ''", "--model"),
    BAD("run --out @/out/r.csv --precision fp8", "--precision: unknown 'fp8'"),
    BAD("run --out @/out/r.csv --data-on moon", "--data-on: 'moon'"),
    BAD("run --out @/out/r.csv --format xml", "--format: 'xml'"),
    BAD("run --out @/out/r.csv --device 99:99", "--device '99:99' matches no device"),
    BAD("run --out @/out/r.csv --config @/in/missing.conf", "missing.conf"),
    BAD("run --out @/out/r.csv --config @/in/bad.conf", "bad.conf:2"),
    /* Not here: `run --init-params BAD` is only checked by the worker, after the
     * output files exist (it exits 1 with the reason on stderr's second line). */
    /* run and train on CSV data that is not data. */
    BAD("run --out @/out/r.csv --data @/in/missing.csv", "missing.csv"),
    BAD("run --out @/out/r.csv --data @/in/adir", "adir"),
    BAD("run --out @/out/r.csv --data @/in/empty.csv", "empty.csv: no data rows"),
    BAD("run --out @/out/r.csv --data @/in/binary.csv", "binary.csv:"),
    BAD("run --out @/out/r.csv --data @/in/ragged.csv", "ragged.csv:3: column 3: missing"),
    BAD("run --out @/out/r.csv --data @/in/nan.csv", "nan.csv:2: column 1: non-finite"),
    BAD("run --out @/out/r.csv --data @/in/inf.csv", "inf.csv:3: column 2: non-finite"),
    BAD("run --out @/out/r.csv --data @/in/text.csv", "text.csv:3: column 1: not a number"),
    BAD("run --out @/out/r.csv --data @/in/onecol.csv", "onecol.csv:1: only 1 column"),
    BAD("run --out @/out/r.csv --data @/in/labels.csv --model softmax", "labels.csv"),
    BAD("train --out @/out/t.csv --data @/in/missing.csv", "missing.csv"),
    BAD("train --out @/out/t.csv --data @/in/adir", "adir"),
    BAD("train --out @/out/t.csv --data @/in/empty.csv", "empty.csv: no data rows"),
    BAD("train --out @/out/t.csv --data @/in/binary.csv", "binary.csv:"),
    BAD("train --out @/out/t.csv --data @/in/ragged.csv", "ragged.csv:3: column 3: missing"),
    BAD("train --out @/out/t.csv --data @/in/nan.csv", "nan.csv:2: column 1: non-finite"),
    BAD("train --out @/out/t.csv --data @/in/labels.csv --model softmax", "labels.csv"),
    /* train's own options. */
    BAD("train --out @/out/t.csv --epochs", "'--epochs' needs a value"),
    BAD("train --out @/out/t.csv --epochs 0", "--epochs: 0"),
    BAD("train --out @/out/t.csv --epochs 99999999999999999999", "--epochs"),
    BAD("train --out @/out/t.csv --batch 0", "--batch: 0"),
    BAD("train --out @/out/t.csv --batch x", "--batch: 'x'"),
    BAD("train --out @/out/t.csv --lr 0", "--lr"),
    BAD("train --out @/out/t.csv --lr -1", "--lr: -1"),
    BAD("train --out @/out/t.csv --lr 1e999", "--lr: '1e999'"),
    BAD("train --out @/out/t.csv --samples ''", "--samples: empty"),
    BAD("train --out @/out/t.csv --features 1048576 --samples 2147483648", "--features"),
    BAD("train --out @/out/t.csv --model foo", "foo"),
    BAD("train --out @/out/t.csv --precision fp8", "fp8"),
    BAD("train --out @/out/t.csv --noise-std nan", "--noise-std"),
    BAD("train --out @/out/t.csv --init-params @/in/missing.csv", "missing.csv"),
    BAD("train --out @/out/t.csv --init-params @/in/ragged.csv", "ragged.csv"),
    BAD("train --out @/out/t.csv --device 99:99", "99:99"),
    /* devices, peak, tune. */
    BAD("devices --device 99:99", "--device '99:99' matches no device"),
    BAD("peak --device 99:99", "--device '99:99' matches no device"),
    BAD("peak --precision fp8", "--precision: unknown 'fp8'"),
    BAD("peak --precision ''", "--precision"),
    BAD("tune --dry-run --m 0", "--m: 0"),
    BAD("tune --dry-run --n 1", "--n: 1 is below the minimum 2"),
    BAD("tune --dry-run --n -1", "--n: '-1'"),
    BAD("tune --dry-run --k 99999999999999999999999", "--k"),
    BAD("tune --dry-run --max-configs -1", "--max-configs: '-1'"),
    BAD("tune --dry-run --budget abc", "--budget: 'abc'"),
    BAD("tune --dry-run --seed x", "--seed"),
    BAD("tune --dry-run --precision fp8", "fp8"),
    BAD("tune --dry-run --device 99:99", "99:99"),
    /* recommend and report on result files that are not results. */
    BAD("recommend", "give at least one results CSV"),
    BAD("report --out @/out/rep", "no results files given"),
    BAD("recommend @/in/missing.csv", "missing.csv: cannot open"),
    BAD("recommend @/in/empty.csv", "empty.csv: empty file"),
    BAD("recommend @/in/binary.csv", "binary.csv"),
    BAD("recommend @/in/nocolumn.csv", "missing column 'message'"),
    BAD("recommend @/in/schema2.csv", "schema version 2"),
    BAD("recommend @/in/ragged-results.csv", "ragged-results.csv:3"),
    BAD("recommend @/in/badnumber-results.csv", "badnumber-results.csv:2"),
    BAD("report @/in/nocolumn.csv --out @/out/rep", "missing column 'message'"),
    BAD("report @/in/schema2.csv --out @/out/rep", "schema version 2"),
    BAD("report @/in/good.csv @/in/binary.csv --out @/out/rep", "binary.csv"),
    BAD("report @/in/good.csv --train @/in/ragged.csv --out @/out/rep", "ragged.csv"),
};

/* The first line of the fixture results file: every column of the schema. */
static char *fixture_results(void) {
  char *text = clb_test_read_file(CLBATCH_SOURCE_DIR "/tests/fixtures/cpu-node07.csv");
  cr_assert_not_null(text, "the results fixture is missing");
  return text;
}

static void write_bytes(const char *dir, const char *name, const char *bytes, size_t size) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *file = fopen(path, "wb");
  cr_assert_not_null(file, "cannot write %s", path);
  fwrite(bytes, 1, size, file);
  fclose(file);
}

static void put(const char *dir, const char *name, const char *text) {
  write_bytes(dir, name, text, strlen(text));
}

/* DIR/in holds every input a case may name; DIR/out starts empty. */
static char *make_inputs(void) {
  char *dir = clb_test_tmpdir();
  char in[512], sub[600];
  snprintf(in, sizeof in, "%s/in", dir);
  cr_assert_eq(mkdir(in, 0755), 0);
  snprintf(sub, sizeof sub, "%s/out", dir);
  cr_assert_eq(mkdir(sub, 0755), 0);
  snprintf(sub, sizeof sub, "%s/adir", in);
  cr_assert_eq(mkdir(sub, 0755), 0);
  put(in, "empty.csv", "");
  unsigned char binary[4096];
  unsigned state = 12345;
  for (size_t i = 0; i < sizeof binary; i++) {
    state = state * 1103515245u + 12345u;
    binary[i] = (unsigned char)(state >> 16);
  }
  write_bytes(in, "binary.csv", (const char *)binary, sizeof binary);
  put(in, "ragged.csv", "a,b,y\n1,2,3\n4,5\n6,7,8\n");
  put(in, "nan.csv", "1,2,3\nnan,1,2\n3,4,5\n");
  put(in, "inf.csv", "1,2,3\n2,3,4\n3,-inf,5\n");
  put(in, "text.csv", "x1,x2,y\n1,2,3\nabc,1,2\n");
  put(in, "onecol.csv", "1\n2\n3\n");
  put(in, "labels.csv", "1,2,0\n3,4,1.5\n5,6,1\n");
  put(in, "bad.conf", "# a comment\nthis line has no equals sign\n");

  char *results = fixture_results();
  put(in, "good.csv", results);
  char *eol = strchr(results, '\n');
  cr_assert_not_null(eol);
  /* The header without its last column. */
  char *copy = strdup(results);
  char *comma = memrchr(copy, ',', (size_t)(eol - results));
  memmove(comma, copy + (eol - results), strlen(copy + (eol - results)) + 1);
  put(in, "nocolumn.csv", copy);
  free(copy);
  /* The first row's schema says 2. */
  copy = strdup(results);
  copy[eol - results + 1] = '2';
  put(in, "schema2.csv", copy);
  free(copy);
  /* The second row loses its last field (it is not the last line). */
  copy = strdup(results);
  char *second = strchr(copy + (eol - results) + 1, '\n') + 1;
  char *second_end = strchr(second, '\n');
  char *cut = memrchr(second, ',', (size_t)(second_end - second));
  memmove(cut, second_end, strlen(second_end) + 1);
  put(in, "ragged-results.csv", copy);
  free(copy);
  /* The first row's batch is not a number. */
  copy = strdup(results);
  char *row = copy + (eol - results) + 1;
  size_t field = 0;
  for (char *p = row; *p && *p != '\n'; p++)
    if (*p == ',' && ++field == 21) { /* batch is column 22 */
      p[1] = 'x';
      break;
    }
  put(in, "badnumber-results.csv", copy);
  free(copy);
  free(results);
  return dir;
}

static void expand(const char *args, const char *dir, char *out, size_t size) {
  size_t n = 0;
  for (const char *p = args; *p && n + 1 < size; p++) {
    if (*p == '@') {
      n += (size_t)snprintf(out + n, size - n, "%s", dir);
      continue;
    }
    out[n++] = *p;
  }
  out[n < size ? n : size - 1] = '\0';
}

static size_t entries(const char *path) {
  DIR *d = opendir(path);
  cr_assert_not_null(d, "%s vanished", path);
  size_t count = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    count += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return count;
}

/* The checks every bad input must pass. */
static void expect_clean_failure(const char *command, int code, const char *err,
                                 const char *expect, const char *out_dir) {
  cr_expect_neq(code, -1, "`%s` crashed (killed by a signal); stderr: %s", command, err);
  cr_expect_neq(code, 0, "`%s` succeeded on bad input", command);
  cr_assert_not_null(err);
  cr_expect_neq(err[0], '\0', "`%s` failed silently", command);
  const char *newline = strchr(err, '\n');
  size_t first_len = newline ? (size_t)(newline - err) : strlen(err);
  char first[2048];
  snprintf(first, sizeof first, "%.*s", (int)(first_len < 2047 ? first_len : 2047), err);
  cr_expect(strstr(first, expect) != NULL, "`%s`: first stderr line '%s' does not name '%s'",
            command, first, expect);
  size_t lines = 0;
  for (const char *p = err; *p; p++)
    lines += *p == '\n';
  cr_expect_leq(lines, 1, "`%s`: %zu lines of errors:\n%s", command, lines,
                err);
  if (out_dir)
    cr_expect_eq(entries(out_dir), 0, "`%s` left output in %s", command, out_dir);
}

ParameterizedTestParameters(bad_input, fails_cleanly) {
  return cr_make_param_array(struct bad_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_case *c, bad_input, fails_cleanly, .timeout = 120) {
  char *dir = make_inputs();
  char command[2048], out_dir[512], tune_file[600];
  expand(c->args, dir, command, sizeof command);
  snprintf(out_dir, sizeof out_dir, "%s/out", dir);
  /* tune must not touch the user's tuned parameters, even on bad input. */
  snprintf(tune_file, sizeof tune_file, "%s/tuned.conf", out_dir);
  setenv("CLBATCH_TUNE_FILE", tune_file, 1);
  char *err = NULL;
  int code = clb_test_run_cli(command, NULL, &err);
  expect_clean_failure(command, code, err ? err : "", c->expect, out_dir);
  free(err);
  clb_test_remove_dir(dir);
  free(dir);
}

/* A results file whose last line a killed run cut short: by the documented
 * contract (results.h) the line is dropped with a one-line warning naming it,
 * and the complete rows are still used. */
Test(bad_input, truncated_last_results_line_is_dropped_with_a_warning) {
  char *dir = make_inputs();
  char *results = fixture_results();
  size_t len = strlen(results);
  /* Cut the last row in the middle: 40 characters after its start. */
  char *last = results + len - 1;
  while (last > results && last[-1] != '\n')
    last--;
  last[40] = '\0';
  char in[600], command[1400];
  snprintf(in, sizeof in, "%s/in", dir);
  put(in, "truncated.csv", results);
  free(results);
  snprintf(command, sizeof command, "recommend %s/truncated.csv", in);
  char *out = NULL, *err = NULL;
  int code = clb_test_run_cli(command, &out, &err);
  cr_expect_eq(code, 0, "%s", err);
  cr_expect(strstr(err, "truncated.csv:") && strstr(err, "truncated"), "%s", err);
  size_t lines = 0;
  for (const char *p = err; *p; p++)
    lines += *p == '\n';
  cr_expect_eq(lines, 1, "%s", err);
  cr_expect(out && out[0], "the complete rows still give recommendations");
  free(out);
  free(err);
  clb_test_remove_dir(dir);
  free(dir);
}

/* Enormous inputs: a 512 MiB sparse file (all NUL bytes, as a crashed copy
 * can leave) and one 100 MB line. Either a clear error or a correct load,
 * never a crash, within a time bound. */
Test(bad_input, enormous_sparse_data_file_is_rejected, .timeout = 180) {
  char *dir = make_inputs();
  char command[1400];
  snprintf(command, sizeof command, "truncate -s 512M %s/in/sparse.csv", dir);
  cr_assert_eq(system(command), 0);
  snprintf(command, sizeof command, "train --data %s/in/sparse.csv --out %s/out/t.csv", dir,
           dir);
  char *err = NULL;
  double start = clb_test_now();
  int code = clb_test_run_cli(command, NULL, &err);
  double took = clb_test_now() - start;
  char out_dir[600];
  snprintf(out_dir, sizeof out_dir, "%s/out", dir);
  expect_clean_failure(command, code, err ? err : "", "NUL byte", out_dir);
  cr_expect_lt(took, 120.0, "took %.1f s", took);
  free(err);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(bad_input, one_100_megabyte_line_is_a_clear_error, .timeout = 180) {
  char *dir = make_inputs();
  char path[700];
  snprintf(path, sizeof path, "%s/in/long.csv", dir);
  FILE *file = fopen(path, "wb");
  cr_assert_not_null(file);
  /* 25 million 4-byte fields: 100 MB on one line, a single sample. */
  for (size_t i = 0; i < 25000000; i++)
    fputs(i ? ",1.5" : "1.5", file);
  fputc('\n', file);
  fclose(file);
  char command[1600];
  snprintf(command, sizeof command, "run --data %s --model linreg --out %s/out/r.csv --quiet", path, dir);
  char *err = NULL;
  double start = clb_test_now();
  int code = clb_test_run_cli(command, NULL, &err);
  double took = clb_test_now() - start;
  char out_dir[600];
  snprintf(out_dir, sizeof out_dir, "%s/out", dir);
  expect_clean_failure(command, code, err ? err : "", "at least 2 samples", out_dir);
  cr_expect_lt(took, 120.0, "took %.1f s", took);
  free(err);
  clb_test_remove_dir(dir);
  free(dir);
}
