/* The run plan and its option table (src/sweep/plan.c): defaults, the setter,
 * and the config file that is the worker's only copy of the plan. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "sweep/plan.h"

/* A value other than the default for every saved option. An option added to
 * the table without a line here fails `every_option_survives_the_config_file`,
 * so the round trip to the worker is tested for every option there is. */
static const struct {
  const char *name, *value;
} non_defaults[] = {
    {"device", "platform:pocl,1:0"}, {"model", "mlp"},   {"precision", "fp64,fp16"},
    {"batch", "3,5:20:x2,N"},        {"samples", "333"},         {"features", "7"},
    {"hidden", "9"},                 {"classes", "4"},           {"outputs", "2"},
    {"noise-std", "0.37"},           {"data", "/tmp/some data.csv"}, {"data-on", "host"},
    {"no-shuffle", "yes"},           {"seed", "18446744073709551615"}, {"lr", "0.0123"},
    {"init-params", "/tmp/p.csv"},   {"warmup", "7"},            {"min-time", "0.01"},
    {"max-time", "0.3"},             {"max-reps", "77"},         {"target-ci", "0.015"},
    {"no-interleave", "yes"},        {"repeat", "3"},        {"passes", "2"},
    {"passes-ci", "0.05"},           {"drift-limit", "0.2"},   {"speed-history", "/tmp/h.csv"},
    {"timeout", "12.5"},             {"noise-batches", "5"},     {"noise-at", "3"},
    {"max-batch-probe", "yes"},      {"format", "json"},
};

static const char *non_default(const char *name) {
  for (size_t i = 0; i < sizeof non_defaults / sizeof non_defaults[0]; i++)
    if (strcmp(non_defaults[i].name, name) == 0)
      return non_defaults[i].value;
  return NULL;
}

static char *format(const struct clb_option *option, const struct clb_plan *plan) {
  char *buf = malloc(4096);
  clb_options_format(option, plan, buf, 4096);
  return buf;
}

Test(plan, every_default_parses_and_matches_the_documentation) {
  struct clb_plan plan;
  struct clb_error err = {0};
  memset(&plan, 0, sizeof plan);
  cr_assert_eq(clb_options_defaults(clb_run_options, clb_run_option_count, &plan, &err), 0,
               "a default of the table does not parse: %s", err.message);
  clb_plan_defaults(&plan);
  cr_expect_str_eq(plan.device_spec, "all");
  cr_expect_eq(plan.model_count, 3);
  cr_expect_eq(plan.precision_count, 1);
  cr_expect_eq(plan.precisions[0], CLB_FP32);
  cr_expect_str_eq(plan.batch_spec, "1:N:x2,N");
  cr_expect_eq(plan.samples, 4096);
  cr_expect_eq(plan.features, 128);
  cr_expect_eq(plan.hidden, 256);
  cr_expect_eq(plan.classes, 10);
  cr_expect_eq(plan.outputs, 1);
  cr_expect_eq(plan.shuffle, 1);
  cr_expect_eq(plan.seed, 1);
  cr_expect_eq(plan.lr, 1e-3);
  cr_expect_eq(plan.measure.warmup_steps, 3);
  cr_expect_eq(plan.measure.min_time_s, 0.2);
  cr_expect_eq(plan.measure.max_time_s, 2.0);
  cr_expect_eq(plan.measure.max_reps, 100000);
  cr_expect_eq(plan.measure.target_ci, 0.01);
  cr_expect_eq(plan.interleave, 1);
  cr_expect_eq(plan.repeat, 1);
  cr_expect_str_eq(plan.host_warnings, "");
  cr_expect_eq(plan.timeout_s, 900);
  cr_expect_eq(plan.noise_batches, 64);
  cr_expect_eq(plan.format, CLB_FORMAT_CSV);
}

/* What `clbatch run` does for its workers: finish the plan, write the config,
 * and the worker reads it back with --config. Every option must arrive. */
Test(plan, every_option_survives_the_config_file) {
  struct clb_plan sent, received;
  struct clb_error err = {0};
  clb_plan_defaults(&sent);
  for (size_t i = 0; i < clb_run_option_count; i++) {
    const struct clb_option *option = &clb_run_options[i];
    if (option->flags & (CLB_OPT_UNSAVED | CLB_OPT_HIDDEN))
      continue;
    const char *value = non_default(option->name);
    cr_assert_not_null(value, "option --%s has no test value: add one to non_defaults[]",
                       option->name);
    char *before = format(option, &sent);
    cr_assert_eq(clb_plan_set(&sent, option->name, value, &err), 0, "--%s %s: %s",
                 option->name, value, err.message);
    char *after = format(option, &sent);
    cr_expect_str_neq(before, after, "--%s %s is its default; pick another test value",
                      option->name, value);
    free(before);
    free(after);
  }
  cr_assert_eq(clb_plan_finish(&sent, sent.samples, &err), 0, "%s", err.message);
  char *dir = clb_test_tmpdir();
  char path[600];
  snprintf(path, sizeof path, "%s/plan.config", dir);
  cr_assert_eq(clb_plan_write_config(&sent, path, &err), 0, "%s", err.message);
  clb_plan_defaults(&received);
  cr_assert_eq(clb_plan_set(&received, "config", path, &err), 0, "%s", err.message);
  cr_assert_eq(clb_plan_finish(&received, received.samples, &err), 0, "%s", err.message);
  for (size_t i = 0; i < clb_run_option_count; i++) {
    const struct clb_option *option = &clb_run_options[i];
    if (option->flags & CLB_OPT_UNSAVED)
      continue;
    char *want = format(option, &sent), *got = format(option, &received);
    cr_expect_str_eq(got, want, "--%s did not survive the config file", option->name);
    free(want);
    free(got);
  }
  cr_expect_eq(received.batch_count, sent.batch_count);
  cr_expect_eq(memcmp(received.batches, sent.batches, sent.batch_count * sizeof sent.batches[0]),
               0);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(plan, config_files_of_earlier_versions_still_read) {
  /* Written by clbatch before the option table: "shuffle = yes", no noise-std. */
  struct clb_plan plan;
  struct clb_error err = {0};
  clb_plan_defaults(&plan);
  cr_assert_eq(clb_plan_set(&plan, "config",
                            CLBATCH_SOURCE_DIR "/tests/fixtures/schema1-default.config", &err),
               0, "%s", err.message);
  cr_expect_eq(plan.shuffle, 1);
  cr_expect_eq(plan.samples, 4096);
  cr_expect_eq(plan.model_count, 3);
}

/* Run writes what it found wrong with the host into the config, so the
 * workers put it in every row: a hidden option, but a saved one. */
Test(plan, host_warnings_reach_the_worker_through_the_config_file) {
  struct clb_plan sent, received;
  struct clb_error err = {0};
  clb_plan_defaults(&sent);
  cr_assert_eq(clb_plan_set(&sent, "host-warnings", "load average 1.7; a VM (KVM)", &err), 0,
               "%s", err.message);
  cr_assert_eq(clb_plan_finish(&sent, sent.samples, &err), 0, "%s", err.message);
  char *dir = clb_test_tmpdir();
  char path[600];
  snprintf(path, sizeof path, "%s/plan.config", dir);
  cr_assert_eq(clb_plan_write_config(&sent, path, &err), 0, "%s", err.message);
  clb_plan_defaults(&received);
  cr_assert_eq(clb_plan_set(&received, "config", path, &err), 0, "%s", err.message);
  cr_expect_str_eq(received.host_warnings, "load average 1.7; a VM (KVM)");
  clb_test_remove_dir(dir);
  free(dir);
}

/* Schema 1 stopped on the CV: its config files say target-cv, which must
 * still read (and change nothing), while the option itself is refused with
 * the name of its replacement. */
Test(plan, target_cv_is_refused_on_the_command_line_and_ignored_in_old_configs) {
  struct clb_plan plan;
  struct clb_error err = {0};
  clb_plan_defaults(&plan);
  cr_expect_neq(clb_plan_set(&plan, "target-cv", "0.05", &err), 0);
  cr_expect(strstr(err.message, "--target-ci") != NULL, "%s", err.message);
  cr_assert_eq(clb_plan_set(&plan, "config",
                            CLBATCH_SOURCE_DIR "/tests/fixtures/schema1-default.config", &err),
               0, "%s", err.message);
  cr_expect_eq(plan.measure.target_ci, 0.01);
}

Test(plan, unknown_keys_and_bad_values_say_which) {
  struct clb_plan plan;
  struct clb_error err = {0};
  clb_plan_defaults(&plan);
  cr_expect_eq(clb_plan_set(&plan, "frobnicate", "1", &err), CLB_E_INVAL);
  cr_expect(strstr(err.message, "frobnicate") != NULL, "%s", err.message);
  cr_expect_neq(clb_plan_set(&plan, "samples", "1", &err), 0);
  cr_expect(strstr(err.message, "--samples") != NULL, "%s", err.message);
  cr_expect_neq(clb_plan_set(&plan, "noise-batches", "1", &err), 0);
  cr_expect(strstr(err.message, "no interval") != NULL, "%s", err.message);
  cr_expect_neq(clb_plan_set(&plan, "no-shuffle", "maybe", &err), 0);
  cr_expect(strstr(err.message, "yes or no") != NULL, "%s", err.message);
}

Test(plan, config_files_may_not_nest_forever) {
  char *dir = clb_test_tmpdir();
  char path[600], line[700];
  snprintf(path, sizeof path, "%s/self.config", dir);
  snprintf(line, sizeof line, "config = %s\n", path);
  free(clb_test_write_file(dir, "self.config", line));
  struct clb_plan plan;
  struct clb_error err = {0};
  clb_plan_defaults(&plan);
  cr_expect_neq(clb_plan_set(&plan, "config", path, &err), 0);
  cr_expect(strstr(err.message, "nest") != NULL, "%s", err.message);
  clb_test_remove_dir(dir);
  free(dir);
}

Test(plan, help_names_every_visible_option_once) {
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  clb_options_help(clb_run_options, clb_run_option_count, 0, out);
  fclose(out);
  for (size_t i = 0; i < clb_run_option_count; i++) {
    const struct clb_option *option = &clb_run_options[i];
    char needle[96];
    snprintf(needle, sizeof needle, "  --%s ", option->name);
    const char *at = strstr(text, needle);
    if (option->flags & CLB_OPT_HIDDEN) {
      cr_expect_null(at, "--%s is hidden but listed", option->name);
      continue;
    }
    cr_expect_not_null(at, "the help lacks --%s:\n%s", option->name, text);
    if (at)
      cr_expect_null(strstr(at + 1, needle), "--%s listed twice", option->name);
  }
  free(text);
}
