/* Host checks (src/measure/host_check.c) against fixture trees of /proc and
 * /sys in tests/fixtures/host/ (its README.md computes the sampled numbers by
 * hand), and once against the real system. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "measure/host_check.h"
#include "util/errors.h"
#include "util/files.h"

#define HOST CLBATCH_SOURCE_DIR "/tests/fixtures/host/"
#define SELF ((pid_t)4000) /* the calling process of the sample fixtures */

/* Index of the first warning containing `needle`, or -1. */
static int find_warning(const struct clb_host_check *c, const char *needle) {
  for (size_t i = 0; i < c->count; i++)
    if (strstr(c->warnings[i], needle))
      return (int)i;
  return -1;
}

#define EXPECT_WARNING(c, needle)                                                                  \
  cr_expect_geq(find_warning(&(c), (needle)), 0, "no warning mentions \"%s\"", (needle))

static void run_fixture(const char *root, struct clb_host_check *c) {
  cr_assert_eq(clb_host_check_run(root, 0, getpid(), c), 0);
  cr_assert_leq(c->count, CLB_HOST_CHECK_MAX);
}

/* Every sentence of the fixtures fits without being cut. */
static void expect_whole(const struct clb_host_check *c) {
  for (size_t i = 0; i < c->count; i++)
    cr_expect_lt(strlen(c->warnings[i]), CLB_HOST_CHECK_LEN - 1, "warning %zu fills its buffer: %s",
                 i, c->warnings[i]);
}

/* ---- static checks ----------------------------------------------------------- */

Test(host_check, quiet_bare_metal_gives_no_warning) {
  struct clb_host_check c;
  run_fixture(HOST "quiet-metal", &c);
  char joined[2048];
  clb_host_check_join(&c, joined, sizeof joined);
  cr_expect_eq(c.count, 0, "warnings: %s", joined);
  cr_expect_float_eq(c.load1, 0.03, 1e-12);
  cr_expect_eq(c.online_cpus, 4);
  cr_expect_eq(c.is_vm, 0);
  cr_expect_str_empty(c.vm_kind);
  cr_expect_str_empty(c.container);
}

Test(host_check, a_trailing_slash_on_root_changes_nothing) {
  struct clb_host_check with, without;
  run_fixture(HOST "busy-vm/", &with);
  run_fixture(HOST "busy-vm", &without);
  cr_expect_eq(with.count, without.count);
  for (size_t i = 0; i < with.count && i < without.count; i++)
    cr_expect_str_eq(with.warnings[i], without.warnings[i]);
}

Test(host_check, busy_vm_warns_with_the_numbers) {
  struct clb_host_check c;
  run_fixture(HOST "busy-vm", &c);
  expect_whole(&c);
  cr_expect_eq(c.count, 6);
  cr_expect_float_eq(c.load1, 1.67, 1e-12);
  cr_expect_eq(c.online_cpus, 2);
  cr_expect_eq(c.is_vm, 1);
  cr_expect_str_eq(c.vm_kind, "QEMU");
  cr_expect_str_eq(c.container, "kubernetes");
  EXPECT_WARNING(c, "load average 1.67 on 2 CPUs");
  EXPECT_WARNING(c, "governor powersave on 2 of 2 CPUs (not performance)");
  EXPECT_WARNING(c, "cpupower frequency-set -g performance");
  EXPECT_WARNING(c, "turbo boost is on (intel_pstate/no_turbo = 0)");
  EXPECT_WARNING(c, "virtual machine (QEMU)");
  EXPECT_WARNING(c, "container (kubernetes)");
  EXPECT_WARNING(c, "only 2 CPUs online");
  /* The documented order: load, governor, turbo, VM, container, few CPUs. */
  cr_expect_lt(find_warning(&c, "load average"), find_warning(&c, "governor"));
  cr_expect_lt(find_warning(&c, "governor"), find_warning(&c, "turbo"));
  cr_expect_lt(find_warning(&c, "turbo"), find_warning(&c, "virtual machine"));
  cr_expect_lt(find_warning(&c, "virtual machine"), find_warning(&c, "container"));
  cr_expect_lt(find_warning(&c, "container"), find_warning(&c, "only 2 CPUs"));
  /* The short form for the CSV column: what was found, not why it matters. */
  char line[1024];
  clb_host_check_join_short(&c, line, sizeof line);
  cr_expect(strstr(line, "load average 1.67 on 2 CPUs before the run; ") == line, "%s", line);
  cr_expect(strstr(line, "timings will vary") == NULL, "%s", line);
  cr_expect(strstr(line, "only 2 CPUs online") != NULL, "%s", line);
  cr_expect_lt(strlen(line), 319, "fits a CSV text field: %zu chars", strlen(line));
}

Test(host_check, missing_sys_tree_gives_no_governor_warning) {
  struct clb_host_check c;
  run_fixture(HOST "no-sys", &c);
  expect_whole(&c);
  /* Only the load: no CPU count (a fixture root never falls back to
   * sysconf), so the sentence leaves it out. */
  cr_expect_eq(c.count, 1);
  cr_expect_eq(c.online_cpus, 0);
  cr_expect_eq(find_warning(&c, "governor"), -1);
  cr_expect_eq(find_warning(&c, "CPUs online"), -1);
  EXPECT_WARNING(c, "load average 2.50 before the run");
  cr_expect_eq(c.is_vm, 0);
}

Test(host_check, mixed_governors_boost_hyperv_and_docker) {
  struct clb_host_check c;
  run_fixture(HOST "mixed", &c);
  expect_whole(&c);
  cr_expect_eq(c.count, 4);
  cr_expect_float_eq(c.load1, 0.49, 1e-12); /* just under 0.5: no warning */
  cr_expect_eq(find_warning(&c, "load average"), -1);
  /* Most common governor first, then by name; cpufreq/ and cpuidle/ are not CPUs. */
  EXPECT_WARNING(c, "governor schedutil on 2, powersave on 1 of 4 CPUs");
  EXPECT_WARNING(c, "boost is on (cpufreq/boost = 1)");
  cr_expect_str_eq(c.vm_kind, "Hyper-V");
  EXPECT_WARNING(c, "virtual machine (Hyper-V)");
  cr_expect_str_eq(c.container, "docker");
  EXPECT_WARNING(c, "container (docker)");
}

Test(host_check, ec2_bare_metal_is_not_a_vm) {
  struct clb_host_check c;
  run_fixture(HOST "ec2-metal", &c);
  cr_expect_eq(c.is_vm, 0);
  cr_expect_eq(c.count, 0, "first warning: %s", c.count ? c.warnings[0] : "");
  cr_expect_eq(c.online_cpus, 64, "0-47,64,96-110 is 48 + 1 + 15 CPUs");
}

Test(host_check, bad_arguments) {
  struct clb_host_check c;
  cr_expect_eq(clb_host_check_run(NULL, 0, getpid(), &c), CLB_E_INVAL);
  cr_expect(isnan(c.load1), "a refused call still leaves a defined result");
  cr_expect_eq(c.count, 0);
  cr_expect_eq(clb_host_check_run(HOST "busy-vm", -1, getpid(), &c), CLB_E_INVAL);
  cr_expect_eq(clb_host_check_run(HOST "busy-vm", NAN, getpid(), &c), CLB_E_INVAL);
  cr_expect_eq(clb_host_check_run(HOST "busy-vm", 0, 0, &c), CLB_E_INVAL);
  cr_expect_eq(clb_host_check_run(HOST "busy-vm", 0, getpid(), NULL), CLB_E_INVAL);
  cr_expect_eq(clb_host_check_sampled(HOST "sample-before", HOST "sample-after", 0, SELF, &c),
               CLB_E_INVAL);
}

/* Writes ROOT/NAME, creating the folders above it. */
static void put(const char *root, const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", root, name);
  struct clb_error err = {0};
  cr_assert_eq(clb_mkdir_parents(path, &err), 0, "%s", err.message);
  free(clb_test_write_file(root, name, text));
}

Test(host_check, many_governors_share_other_and_a_long_sentence_is_cut) {
  char *root = clb_test_tmpdir();
  for (int cpu = 0; cpu < 6; cpu++) {
    char name[128], governor[64];
    snprintf(name, sizeof name, "sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor", cpu);
    snprintf(governor, sizeof governor,
             cpu < 5 ? "a-rather-long-governor-name-%d\n" : "performance\n", cpu);
    put(root, name, governor);
  }
  struct clb_host_check c;
  run_fixture(root, &c);
  cr_assert_eq(c.count, 1);
  /* Four distinct names are told apart, the fifth is "other"; the reason and
   * hint at the end no longer fit, and the cut shows. */
  cr_expect(strstr(c.warnings[0], ", other on 1 of 6 CPUs"), "%s", c.warnings[0]);
  cr_expect_eq(strlen(c.warnings[0]), CLB_HOST_CHECK_LEN - 1);
  cr_expect_str_eq(c.warnings[0] + CLB_HOST_CHECK_LEN - 4, "...");
  clb_test_remove_tmpdir(root);
}

/* ---- sampled checks and snapshots -------------------------------------------- */

Test(host_check, sampled_busy_processes_and_steal) {
  struct clb_host_check c;
  memset(&c, 0, sizeof c);
  cr_assert_eq(clb_host_check_sampled(HOST "sample-before", HOST "sample-after", 1.0, SELF, &c), 0);
  cr_assert_eq(c.count, 2);
  expect_whole(&c);
  /* Top three by %CPU; the comm "a) (b" ends at the last ')'; make (exactly
   * 20 %) is the one more; self, its child 4001 (24 %) and the new cc1 are
   * not named. */
  cr_expect_str_eq(c.warnings[0],
                   "other processes busy during a 1 s sample: stress-ng[1300] 99%, a) (b[1200] "
                   "45%, kworker/0:1[15] 21% and 1 more (% of one CPU); they compete with the "
                   "benchmark for CPU time");
  cr_expect_eq(find_warning(&c, "clbatch"), -1);
  cr_expect_eq(find_warning(&c, "cc1"), -1);
  cr_expect_str_eq(c.warnings[1], "steal time 3.0% of all CPUs' time during a 1 s sample: the "
                                  "hypervisor gave the physical CPUs to other guests, so "
                                  "timings vary");
}

Test(host_check, sampled_appends_after_the_static_checks) {
  struct clb_host_check c;
  run_fixture(HOST "busy-vm", &c);
  expect_whole(&c);
  cr_assert_eq(clb_host_check_sampled(HOST "sample-before", HOST "sample-after", 2.0, SELF, &c), 0);
  cr_expect_eq(c.count, 8);
  expect_whole(&c);
  /* Twice as long a sample halves each process's share: stress-ng 49.5 %,
   * a) (b 22.5 %; kworker (10.5 %) and make (10 %) drop out. */
  EXPECT_WARNING(c, "during a 2 s sample: stress-ng[1300] 50%, a) (b[1200] 22% (% of one CPU)");
}

Test(host_check, an_idle_sample_gives_no_warning) {
  struct clb_host_check c;
  memset(&c, 0, sizeof c);
  cr_assert_eq(clb_host_check_sampled(HOST "sample-after", HOST "sample-after", 1.0, SELF, &c), 0);
  cr_expect_eq(c.count, 0, "first warning: %s", c.count ? c.warnings[0] : "");
}

Test(host_check, snapshot_between_fixtures_matches_the_hand_count) {
  struct clb_host_snapshot a, b;
  cr_assert_eq(clb_host_snapshot_take(HOST "sample-before", SELF, &a), 0);
  cr_assert_eq(clb_host_snapshot_take(HOST "sample-after", SELF, &b), 0);
  cr_expect_eq(a.total, 650000ULL);
  cr_expect_eq(a.idle, 510000ULL);
  cr_expect_eq(a.steal, 5000ULL);
  cr_expect_eq(a.self, 66ULL, "4000: 30+10+5+1, child 4001: 20");
  cr_expect_eq(b.total, 650400ULL);
  cr_expect_eq(b.self, 140ULL, "4000: 70+14+5+1, 4001: 40+4, 4002: 6");
  double steal = 0, others = 0;
  clb_host_snapshot_between(&a, &b, &steal, &others);
  cr_expect_float_eq(steal, 12.0 / 400.0, 1e-15);
  cr_expect_float_eq(others, (312.0 - 74.0) / 400.0, 1e-15);
}

Test(host_check, snapshot_between_not_computable_is_nan) {
  struct clb_host_snapshot a, b;
  cr_assert_eq(clb_host_snapshot_take(HOST "sample-before", SELF, &a), 0);
  double steal = 0, others = 0;
  clb_host_snapshot_between(&a, &a, &steal, &others);
  cr_expect(isnan(steal) && isnan(others), "no time passed");
  clb_host_snapshot_between(NULL, &a, &steal, &others);
  cr_expect(isnan(steal) && isnan(others));

  /* No pid 4000 under no-sys: the CPU line is there, self is not. */
  cr_expect_eq(clb_host_snapshot_take(HOST "no-sys", SELF, &b), CLB_E_IO);
  cr_expect_eq(b.has_cpu, 1);
  cr_expect_eq(b.has_self, 0);
  struct clb_host_snapshot later = b;
  later.total += 100;
  later.steal += 5;
  clb_host_snapshot_between(&b, &later, &steal, &others);
  cr_expect_float_eq(steal, 0.05, 1e-15);
  cr_expect(isnan(others), "others needs self in both snapshots");

  /* Counters that ran backwards (a reboot between snapshots) are not a fraction. */
  clb_host_snapshot_between(&later, &b, &steal, &others);
  cr_expect(isnan(steal) && isnan(others));

  cr_expect_eq(clb_host_snapshot_take(HOST "does-not-exist", SELF, &b), CLB_E_IO);
  cr_expect_eq(b.has_cpu, 0);
  cr_expect_eq(clb_host_snapshot_take(HOST "sample-before", 0, &b), CLB_E_INVAL);
}

/* ---- join ---------------------------------------------------------------------- */

Test(host_check, join_cuts_at_the_buffer_size) {
  struct clb_host_check c;
  memset(&c, 0, sizeof c);
  char buf[64];
  clb_host_check_join(&c, buf, sizeof buf);
  cr_expect_str_empty(buf);

  c.count = 3;
  strcpy(c.warnings[0], "alpha");
  strcpy(c.warnings[1], "beta");
  strcpy(c.warnings[2], "gamma");
  const char *full = "alpha; beta; gamma";
  clb_host_check_join(&c, buf, sizeof buf);
  cr_expect_str_eq(buf, full);
  for (size_t size = 1; size <= strlen(full) + 1; size++) {
    memset(buf, 'X', sizeof buf);
    clb_host_check_join(&c, buf, size);
    cr_expect_eq(strlen(buf), size - 1, "size %zu", size);
    cr_expect_eq(strncmp(buf, full, size - 1), 0, "size %zu: %s", size, buf);
    cr_expect_eq(buf[size], 'X', "size %zu: wrote past the buffer", size);
  }
  buf[0] = 'X';
  clb_host_check_join(&c, buf, 0);
  cr_expect_eq(buf[0], 'X', "size 0 writes nothing");
  clb_host_check_join(NULL, buf, sizeof buf);
  cr_expect_str_empty(buf);
}

/* ---- the real system ------------------------------------------------------------ */

Test(host_check, real_system_runs) {
  struct clb_host_check c;
  cr_assert_eq(clb_host_check_run("", 0.05, getpid(), &c), 0);
  cr_expect_leq(c.count, CLB_HOST_CHECK_MAX);
  cr_expect_gt(c.online_cpus, 0, "/sys or sysconf gives the count on a real system");
  char joined[CLB_HOST_CHECK_MAX * CLB_HOST_CHECK_LEN + 16];
  clb_host_check_join(&c, joined, sizeof joined);
  cr_log_info("host check: %s", joined[0] ? joined : "(no warnings)");

  struct clb_host_snapshot a, b;
  cr_assert_eq(clb_host_snapshot_take("/", getpid(), &a), 0);
  cr_expect(a.has_cpu && a.has_self);
  volatile double sink = 0;
  for (long i = 0; i < 20000000; i++)
    sink += (double)i;
  (void)sink;
  cr_assert_eq(clb_host_snapshot_take("", getpid(), &b), 0);
  double steal, others;
  clb_host_snapshot_between(&a, &b, &steal, &others);
  cr_expect(isnan(steal) || (steal >= 0 && steal <= 1), "steal %g", steal);
  cr_expect(isnan(others) || (others >= 0 && others <= 1), "others %g", others);
}
