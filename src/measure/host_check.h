/* What makes benchmark timings on this Linux host less trustworthy: load from
 * other work, a CPU frequency governor other than `performance`, turbo boost,
 * a virtual machine or container, busy processes, steal time, very few CPUs.
 * `clbatch run` warns before a run and records the warnings with the results;
 * this module only finds them (it never prints).
 *
 * Every file is read under a `root` prefix ("" or "/" for the real system, a
 * fixture tree in tests), so the checks are deterministic under test. A file
 * that cannot be read silences its check: no warning is better than a wrong
 * one, and many hosts (VMs, containers) lack parts of /sys. */
#ifndef CLB_MEASURE_HOST_CHECK_H
#define CLB_MEASURE_HOST_CHECK_H

#include <stddef.h>
#include <sys/types.h>

#define CLB_HOST_CHECK_MAX 8   /* one warning per check at most */
#define CLB_HOST_CHECK_LEN 200 /* bytes per warning, NUL included */

struct clb_host_check {
  size_t count;
  /* One sentence each, printable ASCII: what, the measured number, why it
   * matters. A sentence cut at CLB_HOST_CHECK_LEN ends in "...". */
  char warnings[CLB_HOST_CHECK_MAX][CLB_HOST_CHECK_LEN];
  double load1;       /* 1-minute load average; NaN if unreadable */
  int online_cpus;    /* 0 if unreadable */
  int is_vm;          /* 1 VM, 0 not detected */
  char vm_kind[64];   /* "KVM", "VMware", "Hyper-V", ..., "unknown" (only the
                         CPU's hypervisor flag), or "" when not a VM */
  char container[32]; /* "docker", "podman", "kubernetes", "lxc", or "" */
};

/* Runs every check and fills `out` (warnings in this order, each only when it
 * applies): load average >= 0.5; a governor other than performance; turbo or
 * boost on; a virtual machine; a container; <= 2 online CPUs; then, only when
 * sample_s > 0, after reading /proc twice sample_s apart (the call sleeps that
 * long): processes other than `self` and its children using >= 20 % of one
 * CPU, and steal time >= 2 % of all CPUs' time.
 * `self` (> 0) is the calling process (getpid()). `sample_s` is in [0, 10].
 * Returns 0, CLB_E_INVAL for a NULL argument, self <= 0 or sample_s out of
 * range (out is then zeroed, load1 NaN), or CLB_E_NOMEM when the process
 * list did not fit in memory (out holds the other checks). */
int clb_host_check_run(const char *root, double sample_s, pid_t self, struct clb_host_check *out);

/* The sampled checks (busy processes, steal time) between two readings of
 * /proc: under `before` and under `after`, taken `elapsed_s` (> 0) apart.
 * clb_host_check_run uses the same logic on two readings of one root; tests
 * pass two fixture trees. Appends to `out` (zeroed, or filled by
 * clb_host_check_run). Returns 0, CLB_E_INVAL or CLB_E_NOMEM as above. */
int clb_host_check_sampled(const char *before, const char *after, double elapsed_s, pid_t self,
                           struct clb_host_check *out);

/* The warnings as one line joined by "; ", cut at `size` (always
 * NUL-terminated when size > 0; "" when there are none). */
void clb_host_check_join(const struct clb_host_check *check, char *buf, size_t size);

/* The same with each warning cut before its first ": " (what was found, not
 * why it matters): short enough for a CSV column. */
void clb_host_check_join_short(const struct clb_host_check *check, char *buf, size_t size);

/* A CPU accounting snapshot: /proc/stat's first `cpu` line and the CPU time of
 * process `self` with its children, in clock ticks (USER_HZ, the unit of both
 * files), to tell afterwards how much CPU other processes and the hypervisor
 * took during a measurement. */
struct clb_host_snapshot {
  unsigned long long total; /* user+nice+system+idle+iowait+irq+softirq+steal
                               (guest time is already inside user and nice) */
  unsigned long long idle;  /* idle + iowait */
  unsigned long long steal;
  /* self's utime+stime+cutime+cstime, plus the same of each live child (a
   * child's time reaches cutime only once it is reaped). */
  unsigned long long self;
  int has_cpu;  /* 1 when /proc/stat was read */
  int has_self; /* 1 when self's /proc/PID/stat was read */
};

/* Reads ROOT/proc/stat and ROOT/proc/SELF/stat; scans ROOT/proc for self's
 * live children (a few milliseconds with hundreds of processes). Fills what
 * it can read and returns 0, CLB_E_IO when a file was unreadable, CLB_E_PARSE
 * when one was malformed, CLB_E_NOMEM, or CLB_E_INVAL for a NULL argument or
 * self <= 0. */
int clb_host_snapshot_take(const char *root, pid_t self, struct clb_host_snapshot *out);

/* Between snapshots a and b (taken later): the fraction of all CPUs' time
 * that was steal, and the fraction that was busy in processes other than self
 * and its children, both clamped to [0, 1]. NaN when not computable (a part
 * missing, no time passed, or counters that went backwards). */
void clb_host_snapshot_between(const struct clb_host_snapshot *a, const struct clb_host_snapshot *b,
                               double *steal_fraction, double *others_fraction);

#endif
