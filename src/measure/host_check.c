/* Host checks: what makes timings on this machine less trustworthy. Every
 * path goes through path_under() so tests can point `root` at a fixture tree. */
#include "measure/host_check.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/errors.h"

/* Thresholds, with why. A machine that runs nothing else shows a load of
 * about 0 before our run starts, so 0.5 means half a CPU of other work. */
#define LOAD_WARN 0.5
/* A fifth of one CPU is more than background daemons use and enough to
 * delay a launch-bound step. */
#define BUSY_PERCENT_WARN 20.0
/* Steal of 2 % of the time shows other guests are active on the same cores. */
#define STEAL_WARN 0.02
/* With 2 CPUs the host thread, the driver's threads and the OS collide. */
#define FEW_CPUS 2
#define BUSY_NAMED 3     /* processes named in the busy warning */
#define GOVERNOR_KINDS 4 /* distinct governor names told apart */

/* ---- paths and small files -------------------------------------------------- */

/* ROOT + REL (REL starts with '/'); trailing slashes of root are dropped so
 * "" and "/" both mean the real system. -1 when it does not fit. */
static int path_under(char *buf, size_t size, const char *root, const char *rel) {
  size_t root_len = strlen(root);
  while (root_len > 0 && root[root_len - 1] == '/')
    root_len--;
  int n = snprintf(buf, size, "%.*s%s", (int)root_len, root, rel);
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int is_real_root(const char *root) {
  return root[strspn(root, "/")] == '\0';
}

/* Reads at most size - 1 bytes of ROOT/REL into buf (NUL-terminated): /proc
 * and /sys files report size 0, so they are read, not stat'ed. Returns the
 * byte count, or -1 when the file cannot be opened or read. */
static long read_small(const char *root, const char *rel, char *buf, size_t size) {
  char path[4096];
  buf[0] = '\0';
  if (path_under(path, sizeof path, root, rel) != 0)
    return -1;
  FILE *file = fopen(path, "r");
  if (!file)
    return -1;
  size_t n = fread(buf, 1, size - 1, file);
  int failed = ferror(file);
  fclose(file); /* read-only: a failed close loses nothing */
  if (failed)
    return -1;
  buf[n] = '\0';
  return (long)n;
}

/* The first line of ROOT/REL with surrounding white space removed (DMI
 * strings often end in blanks). 0 when it is not empty, else -1. */
static int read_line(const char *root, const char *rel, char *buf, size_t size) {
  if (read_small(root, rel, buf, size) < 0)
    return -1;
  buf[strcspn(buf, "\n")] = '\0';
  size_t len = strlen(buf);
  while (len > 0 && isspace((unsigned char)buf[len - 1]))
    buf[--len] = '\0';
  size_t lead = strspn(buf, " \t");
  memmove(buf, buf + lead, len - lead + 1);
  return buf[0] ? 0 : -1;
}

static int file_exists(const char *root, const char *rel) {
  char path[4096];
  return path_under(path, sizeof path, root, rel) == 0 && access(path, F_OK) == 0;
}

/* A copy fit for a one-line warning: control and non-ASCII bytes become '?'
 * (a process may name itself anything). */
static void printable_copy(char *dst, size_t size, const char *src) {
  size_t i = 0;
  for (; src[i] && i + 1 < size; i++) {
    unsigned char c = (unsigned char)src[i];
    dst[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
  }
  dst[i] = '\0';
}

/* ---- warnings --------------------------------------------------------------- */

static void add_warning(struct clb_host_check *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_warning(struct clb_host_check *out, const char *fmt, ...) {
  if (out->count >= CLB_HOST_CHECK_MAX)
    return;
  char *w = out->warnings[out->count];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(w, CLB_HOST_CHECK_LEN, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  /* A cut sentence says so rather than ending mid-word unnoticed. */
  if (n >= CLB_HOST_CHECK_LEN)
    memcpy(w + CLB_HOST_CHECK_LEN - 4, "...", 4);
  out->count++;
}

/* ---- /proc/stat and /proc/PID/stat ------------------------------------------ */

struct proc_entry {
  pid_t pid, ppid;
  unsigned long long ticks;       /* utime + stime */
  unsigned long long child_ticks; /* cutime + cstime: reaped children */
  char comm[32];
};

struct proc_list {
  struct proc_entry *items; /* owned, sorted by pid */
  size_t count, cap;
};

static void proc_list_free(struct proc_list *list) {
  free(list->items);
  list->items = NULL;
  list->count = list->cap = 0;
}

/* Parses "PID (COMM) STATE PPID ... UTIME STIME CUTIME CSTIME ...". COMM may
 * hold spaces and parentheses, so it ends at the LAST ')'. 0 or -1. */
static int parse_proc_stat(const char *text, struct proc_entry *out) {
  const char *open = strchr(text, '('), *close = strrchr(text, ')');
  if (!open || !close || close < open)
    return -1;
  char *end;
  errno = 0;
  long pid = strtol(text, &end, 10);
  if (end == text || errno || pid <= 0 || (pid_t)pid != pid)
    return -1;
  size_t comm_len = (size_t)(close - open - 1);
  char comm[64];
  if (comm_len >= sizeof comm)
    comm_len = sizeof comm - 1;
  memcpy(comm, open + 1, comm_len);
  comm[comm_len] = '\0';

  /* Fields after ')': 0 state, 1 ppid, ..., 11 utime, 12 stime, 13 cutime,
   * 14 cstime (proc(5) numbers them 3 .. 17). */
  unsigned long long field[15] = {0};
  const char *p = close + 1;
  for (int i = 0; i < 15; i++) {
    while (*p == ' ')
      p++;
    if (i == 0) {
      if (!*p || isspace((unsigned char)*p))
        return -1;
      while (*p && !isspace((unsigned char)*p))
        p++;
      continue;
    }
    errno = 0;
    field[i] = strtoull(p, &end, 10);
    if (end == p || errno)
      return -1;
    p = end;
  }
  out->pid = (pid_t)pid;
  out->ppid = (pid_t)field[1];
  out->ticks = field[11] + field[12];
  out->child_ticks = field[13] + field[14];
  printable_copy(out->comm, sizeof out->comm, comm);
  return 0;
}

/* Reads ROOT/proc/PID/stat into *out: 0, or -1 when gone or malformed. */
static int read_proc(const char *root, pid_t pid, struct proc_entry *out) {
  char rel[64], text[2048];
  snprintf(rel, sizeof rel, "/proc/%ld/stat", (long)pid);
  if (read_small(root, rel, text, sizeof text) <= 0)
    return -1;
  return parse_proc_stat(text, out);
}

static int by_pid(const void *a, const void *b) {
  pid_t x = ((const struct proc_entry *)a)->pid, y = ((const struct proc_entry *)b)->pid;
  return (x > y) - (x < y);
}

/* Every process under ROOT/proc, sorted by pid. A process that exits while
 * the folder is read is skipped. 0, CLB_E_IO (no /proc) or CLB_E_NOMEM. */
static int read_procs(const char *root, struct proc_list *list) {
  char path[4096];
  list->items = NULL;
  list->count = list->cap = 0;
  if (path_under(path, sizeof path, root, "/proc") != 0)
    return CLB_E_IO;
  DIR *dir = opendir(path);
  if (!dir)
    return CLB_E_IO;
  int rc = 0;
  const struct dirent *entry;
  while ((entry = readdir(dir))) {
    const char *name = entry->d_name;
    if (!name[0] || strspn(name, "0123456789") != strlen(name))
      continue;
    char *end;
    errno = 0;
    long pid = strtol(name, &end, 10);
    if (errno || *end || pid <= 0 || (pid_t)pid != pid)
      continue;
    struct proc_entry proc;
    if (read_proc(root, (pid_t)pid, &proc) != 0)
      continue;
    if (list->count == list->cap) {
      size_t cap = list->cap ? 2 * list->cap : 256;
      struct proc_entry *grown = realloc(list->items, cap * sizeof *grown);
      if (!grown) {
        rc = CLB_E_NOMEM;
        break;
      }
      list->items = grown;
      list->cap = cap;
    }
    list->items[list->count++] = proc;
  }
  closedir(dir);
  if (rc != 0) {
    proc_list_free(list);
    return rc;
  }
  if (list->count > 1)
    qsort(list->items, list->count, sizeof *list->items, by_pid);
  return 0;
}

static const struct proc_entry *find_proc(const struct proc_list *list, pid_t pid) {
  if (!list->count)
    return NULL;
  struct proc_entry key = {.pid = pid};
  return bsearch(&key, list->items, list->count, sizeof key, by_pid);
}

/* The first "cpu " line of ROOT/proc/stat. 0, CLB_E_IO or CLB_E_PARSE. */
static int read_cpu_line(const char *root, struct clb_host_snapshot *out) {
  char text[1024];
  if (read_small(root, "/proc/stat", text, sizeof text) < 0)
    return CLB_E_IO;
  if (strncmp(text, "cpu ", 4) != 0)
    return CLB_E_PARSE;
  /* user nice system idle iowait irq softirq steal [guest guest_nice]: old
   * kernels stop after idle, so the rest counts 0. */
  unsigned long long v[8] = {0};
  const char *p = text + 4;
  int n = 0;
  for (; n < 8; n++) {
    while (*p == ' ')
      p++;
    if (!isdigit((unsigned char)*p))
      break;
    char *end;
    errno = 0;
    v[n] = strtoull(p, &end, 10);
    if (errno)
      return CLB_E_PARSE;
    p = end;
  }
  if (n < 4)
    return CLB_E_PARSE;
  out->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
  out->idle = v[3] + v[4];
  out->steal = v[7];
  out->has_cpu = 1;
  return 0;
}

/* Self's own and its children's time from an already read process list:
 * one scan of /proc serves both the snapshot and the busy check. */
static void self_from_list(const struct proc_list *list, pid_t self,
                           struct clb_host_snapshot *out) {
  const struct proc_entry *me = find_proc(list, self);
  if (!me)
    return;
  unsigned long long sum = me->ticks + me->child_ticks;
  for (size_t i = 0; i < list->count; i++)
    if (list->items[i].ppid == self && list->items[i].pid != self)
      sum += list->items[i].ticks + list->items[i].child_ticks;
  out->self = sum;
  out->has_self = 1;
}

/* A snapshot and, when `list` is not NULL, the process list it was made from
 * (the caller frees it). */
static int take_state(const char *root, pid_t self, struct clb_host_snapshot *snap,
                      struct proc_list *list) {
  struct proc_list local = {0};
  struct proc_list *procs = list ? list : &local;
  memset(snap, 0, sizeof *snap);
  int cpu_rc = read_cpu_line(root, snap);
  int rc = read_procs(root, procs);
  if (rc == 0)
    self_from_list(procs, self, snap);
  else if (rc == CLB_E_IO) {
    /* Without a readable /proc folder self's own file may still be there. */
    struct proc_entry me;
    if (read_proc(root, self, &me) == 0) {
      snap->self = me.ticks + me.child_ticks;
      snap->has_self = 1;
    }
  }
  proc_list_free(&local);
  if (rc == CLB_E_NOMEM)
    return rc;
  if (cpu_rc != 0)
    return cpu_rc;
  return snap->has_self ? 0 : CLB_E_IO;
}

int clb_host_snapshot_take(const char *root, pid_t self, struct clb_host_snapshot *out) {
  if (!out)
    return CLB_E_INVAL;
  memset(out, 0, sizeof *out);
  if (!root || self <= 0)
    return CLB_E_INVAL;
  return take_state(root, self, out, NULL);
}

void clb_host_snapshot_between(const struct clb_host_snapshot *a, const struct clb_host_snapshot *b,
                               double *steal_fraction, double *others_fraction) {
  double steal = NAN, others = NAN;
  if (a && b && a->has_cpu && b->has_cpu && b->total > a->total && b->steal >= a->steal) {
    double dt = (double)(b->total - a->total);
    steal = fmin(1.0, (double)(b->steal - a->steal) / dt);
    /* Busy in processes = everything but idle, iowait and steal. iowait may
     * run backwards on some kernels, so the difference is taken in doubles
     * and clamped rather than trusted to stay positive. */
    double busy_a = (double)a->total - (double)a->idle - (double)a->steal;
    double busy_b = (double)b->total - (double)b->idle - (double)b->steal;
    if (a->has_self && b->has_self && b->self >= a->self) {
      double mine = (double)(b->self - a->self);
      others = fmin(1.0, fmax(0.0, (busy_b - busy_a - mine) / dt));
    }
  }
  if (steal_fraction)
    *steal_fraction = steal;
  if (others_fraction)
    *others_fraction = others;
}

/* ---- the checks ------------------------------------------------------------- */

/* Counts the CPUs of a list like "0-3,8,10-11"; -1 when malformed. */
static int count_cpu_list(const char *text) {
  int count = 0;
  const char *p = text;
  while (*p) {
    char *end;
    errno = 0;
    long first = strtol(p, &end, 10), last;
    if (end == p || errno || first < 0)
      return -1;
    p = end;
    last = first;
    if (*p == '-') {
      p++;
      errno = 0;
      last = strtol(p, &end, 10);
      if (end == p || errno || last < first)
        return -1;
      p = end;
    }
    if (last - first + 1 > 1000000 - count)
      return -1;
    count += (int)(last - first + 1);
    if (*p == ',')
      p++;
    else if (*p)
      return -1;
  }
  return count;
}

static int online_cpus(const char *root) {
  char text[1024];
  if (read_line(root, "/sys/devices/system/cpu/online", text, sizeof text) == 0) {
    int count = count_cpu_list(text);
    if (count > 0)
      return count;
  }
  /* sysconf knows only the real system; a fixture without the file has no
   * count. */
  if (is_real_root(root)) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n > 0 && n < 1000000)
      return (int)n;
  }
  return 0;
}

static void check_load(const char *root, struct clb_host_check *out) {
  char text[256];
  if (read_line(root, "/proc/loadavg", text, sizeof text) != 0)
    return;
  char *end;
  errno = 0;
  double load = strtod(text, &end);
  if (end == text || errno || !isfinite(load) || load < 0)
    return;
  out->load1 = load;
  if (load < LOAD_WARN)
    return;
  if (out->online_cpus > 0)
    add_warning(out,
                "load average %.2f on %d CPU%s before the run: other work is running, so "
                "timings will vary",
                load, out->online_cpus, out->online_cpus == 1 ? "" : "s");
  else
    add_warning(
        out, "load average %.2f before the run: other work is running, so timings will vary", load);
}

struct governor_tally {
  char name[32];
  int cpus;
};

static int by_count(const void *a, const void *b) {
  const struct governor_tally *x = a, *y = b;
  if (x->cpus != y->cpus)
    return y->cpus - x->cpus;
  return strcmp(x->name, y->name);
}

static void check_governor(const char *root, struct clb_host_check *out) {
  char path[4096];
  if (path_under(path, sizeof path, root, "/sys/devices/system/cpu") != 0)
    return;
  DIR *dir = opendir(path);
  if (!dir)
    return;
  struct governor_tally tally[GOVERNOR_KINDS];
  memset(tally, 0, sizeof tally);
  size_t kinds = 0;
  int cpus = 0, slow = 0, unnamed = 0;
  const struct dirent *entry;
  while ((entry = readdir(dir))) {
    const char *name = entry->d_name;
    /* cpu0, cpu1, ...; not cpufreq/ or cpuidle/. */
    if (strncmp(name, "cpu", 3) != 0 || !name[3] ||
        strspn(name + 3, "0123456789") != strlen(name + 3))
      continue;
    char rel[512], governor[64];
    snprintf(rel, sizeof rel, "/sys/devices/system/cpu/%s/cpufreq/scaling_governor", name);
    if (read_line(root, rel, governor, sizeof governor) != 0)
      continue;
    cpus++;
    if (strcmp(governor, "performance") == 0)
      continue;
    slow++;
    /* Governor names are few (powersave, schedutil, ondemand, ...); past
     * GOVERNOR_KINDS distinct ones the rest are counted as "other". */
    char shown[32];
    printable_copy(shown, sizeof shown, governor);
    size_t k = 0;
    while (k < kinds && strcmp(tally[k].name, shown) != 0)
      k++;
    if (k == kinds) {
      if (kinds == GOVERNOR_KINDS) {
        unnamed++;
        continue;
      }
      snprintf(tally[k].name, sizeof tally[k].name, "%s", shown);
      kinds++;
    }
    tally[k].cpus++;
  }
  closedir(dir);
  if (slow == 0)
    return;
  /* Readdir order is arbitrary; sorting keeps the sentence reproducible. */
  qsort(tally, kinds, sizeof tally[0], by_count);
  char list[160] = "";
  size_t used = 0;
  for (size_t k = 0; k <= kinds && used < sizeof list; k++) {
    if (k == kinds && !unnamed)
      break;
    int n = snprintf(list + used, sizeof list - used, "%s%s on %d", k ? ", " : "",
                     k < kinds ? tally[k].name : "other", k < kinds ? tally[k].cpus : unnamed);
    if (n < 0)
      break;
    used += (size_t)n;
  }
  add_warning(out,
              "CPU frequency governor %s of %d CPUs (not performance): clocks follow the load, "
              "so timings vary; `cpupower frequency-set -g performance` fixes it",
              list, cpus);
}

static void check_turbo(const char *root, struct clb_host_check *out) {
  char value[32];
  if (read_line(root, "/sys/devices/system/cpu/intel_pstate/no_turbo", value, sizeof value) == 0 &&
      strcmp(value, "0") == 0)
    add_warning(out, "turbo boost is on (intel_pstate/no_turbo = 0): clocks vary with "
                     "temperature and load, so timings drift between runs");
  else if (read_line(root, "/sys/devices/system/cpu/cpufreq/boost", value, sizeof value) == 0 &&
           strcmp(value, "1") == 0)
    add_warning(out, "CPU boost is on (cpufreq/boost = 1): clocks vary with temperature and "
                     "load, so timings drift between runs");
}

/* DMI names of hypervisors and clouds: an entry matches when sys_vendor
 * contains `vendor` and product_name contains `product` (either may be ""). */
static const struct {
  const char *vendor, *product, *kind;
} vm_names[] = {
    {"", "KVM", "KVM"},
    {"QEMU", "", "QEMU"},
    {"VMware", "", "VMware"},
    {"innotek", "", "VirtualBox"},
    {"", "VirtualBox", "VirtualBox"},
    {"Xen", "", "Xen"},
    {"", "HVM domU", "Xen"},
    {"Microsoft Corporation", "Virtual Machine", "Hyper-V"},
    {"Amazon EC2", "", "Amazon EC2"},
    {"Google", "Google Compute Engine", "Google Compute Engine"},
    {"OpenStack", "", "OpenStack"},
    {"", "OpenStack Nova", "OpenStack"},
    {"DigitalOcean", "", "DigitalOcean"},
    {"Alibaba Cloud", "", "Alibaba Cloud"},
    {"Parallels", "", "Parallels"},
    {"Bochs", "", "Bochs"},
};

/* Whether the x86 "flags" line of /proc/cpuinfo lists `hypervisor`, which
 * the CPU sets for every guest. Only the first flags line is read: all CPUs
 * share it. */
static int cpu_has_hypervisor_flag(const char *root) {
  char path[4096];
  if (path_under(path, sizeof path, root, "/proc/cpuinfo") != 0)
    return 0;
  FILE *file = fopen(path, "r");
  if (!file)
    return 0;
  char *line = NULL;
  size_t cap = 0;
  int found = 0;
  while (getline(&line, &cap, file) > 0) {
    if (strncmp(line, "flags", 5) != 0)
      continue;
    char *save = NULL;
    for (char *word = strtok_r(line + 5, " \t:\n", &save); word;
         word = strtok_r(NULL, " \t:\n", &save))
      if (strcmp(word, "hypervisor") == 0)
        found = 1;
    break;
  }
  free(line);
  fclose(file); /* read-only */
  return found;
}

static void check_vm(const char *root, struct clb_host_check *out) {
  char vendor[128] = "", product[128] = "";
  int has_vendor = read_line(root, "/sys/class/dmi/id/sys_vendor", vendor, sizeof vendor) == 0;
  int has_product = read_line(root, "/sys/class/dmi/id/product_name", product, sizeof product) == 0;
  /* EC2's bare-metal instances ("m5.metal") carry Amazon's DMI vendor too. */
  size_t plen = strlen(product);
  int metal = plen >= 6 && strcmp(product + plen - 6, ".metal") == 0;
  if ((has_vendor || has_product) && !metal) {
    for (size_t i = 0; i < sizeof vm_names / sizeof vm_names[0]; i++)
      if (strstr(vendor, vm_names[i].vendor) && strstr(product, vm_names[i].product)) {
        snprintf(out->vm_kind, sizeof out->vm_kind, "%s", vm_names[i].kind);
        out->is_vm = 1;
        break;
      }
  }
  if (!out->is_vm && cpu_has_hypervisor_flag(root)) {
    snprintf(out->vm_kind, sizeof out->vm_kind, "unknown");
    out->is_vm = 1;
  }
  if (!out->is_vm)
    return;
  if (strcmp(out->vm_kind, "unknown") == 0)
    add_warning(out, "running in a virtual machine (the CPU reports a hypervisor): other guests "
                     "may share the physical CPUs and take time from this one (steal)");
  else
    add_warning(out,
                "running in a virtual machine (%s): other guests may share the physical "
                "CPUs and take time from this one (steal)",
                out->vm_kind);
}

static void check_container(const char *root, struct clb_host_check *out) {
  char cgroup[4096];
  const char *kind = NULL;
  /* Kubernetes first: its pods often run on docker too, and say more. */
  if (read_small(root, "/proc/1/cgroup", cgroup, sizeof cgroup) > 0) {
    if (strstr(cgroup, "kubepods"))
      kind = "kubernetes";
    else if (strstr(cgroup, "docker"))
      kind = "docker";
    else if (strstr(cgroup, "libpod"))
      kind = "podman";
    else if (strstr(cgroup, "lxc"))
      kind = "lxc";
  }
  if (!kind && file_exists(root, "/.dockerenv"))
    kind = "docker";
  if (!kind && file_exists(root, "/run/.containerenv"))
    kind = "podman";
  if (!kind)
    return;
  snprintf(out->container, sizeof out->container, "%s", kind);
  add_warning(out,
              "running in a container (%s): work elsewhere on the host shares its CPUs "
              "unseen, and a CPU quota can pause the run",
              kind);
}

static void check_few_cpus(struct clb_host_check *out) {
  if (out->online_cpus <= 0 || out->online_cpus > FEW_CPUS)
    return;
  add_warning(out,
              "only %d CPU%s online: the host thread, the driver's threads and the OS share %s, "
              "so per-step times of small, launch-bound steps vary",
              out->online_cpus, out->online_cpus == 1 ? "" : "s",
              out->online_cpus == 1 ? "it" : "them");
}

struct busy {
  const struct proc_entry *proc;
  double percent;
};

static int by_percent(const void *a, const void *b) {
  const struct busy *x = a, *y = b;
  if (x->percent != y->percent)
    return x->percent < y->percent ? 1 : -1;
  return by_pid(x->proc, y->proc);
}

/* Processes alive in both lists, other than self and its children, that used
 * >= BUSY_PERCENT_WARN % of one CPU in between. */
static int check_busy(const struct proc_list *before, const struct proc_list *after,
                      double elapsed_s, pid_t self, struct clb_host_check *out) {
  long hz = sysconf(_SC_CLK_TCK);
  if (hz <= 0)
    hz = 100; /* USER_HZ on every Linux ABI */
  struct busy *busy = after->count ? malloc(after->count * sizeof *busy) : NULL;
  if (after->count && !busy)
    return CLB_E_NOMEM;
  size_t n = 0;
  for (size_t i = 0; i < after->count; i++) {
    const struct proc_entry *now = &after->items[i];
    const struct proc_entry *then = find_proc(before, now->pid);
    if (!then || now->pid == self || now->ppid == self || then->ppid == self ||
        now->ticks < then->ticks)
      continue;
    double percent = 100.0 * (double)(now->ticks - then->ticks) / ((double)hz * elapsed_s);
    if (percent >= BUSY_PERCENT_WARN)
      busy[n++] = (struct busy){now, percent};
  }
  if (n > 0) {
    qsort(busy, n, sizeof *busy, by_percent);
    char names[160] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && i < BUSY_NAMED && used < sizeof names; i++) {
      int w = snprintf(names + used, sizeof names - used, "%s%s[%ld] %.0f%%", i ? ", " : "",
                       busy[i].proc->comm, (long)busy[i].proc->pid, busy[i].percent);
      if (w < 0)
        break;
      used += (size_t)w;
    }
    char more[32] = "";
    if (n > BUSY_NAMED)
      snprintf(more, sizeof more, " and %zu more", n - BUSY_NAMED);
    add_warning(out,
                "other processes busy during a %.2g s sample: %s%s (%% of one CPU); they "
                "compete with the benchmark for CPU time",
                elapsed_s, names, more);
  }
  free(busy);
  return 0;
}

static void check_steal(const struct clb_host_snapshot *a, const struct clb_host_snapshot *b,
                        double elapsed_s, struct clb_host_check *out) {
  double steal;
  clb_host_snapshot_between(a, b, &steal, NULL);
  if (isnan(steal) || steal < STEAL_WARN)
    return;
  add_warning(out,
              "steal time %.1f%% of all CPUs' time during a %.2g s sample: the hypervisor gave "
              "the physical CPUs to other guests, so timings vary",
              100.0 * steal, elapsed_s);
}

static int evaluate_sample(const struct proc_list *before, const struct clb_host_snapshot *snap_a,
                           const struct proc_list *after, const struct clb_host_snapshot *snap_b,
                           double elapsed_s, pid_t self, struct clb_host_check *out) {
  int rc = check_busy(before, after, elapsed_s, self, out);
  check_steal(snap_a, snap_b, elapsed_s, out);
  return rc;
}

int clb_host_check_sampled(const char *before, const char *after, double elapsed_s, pid_t self,
                           struct clb_host_check *out) {
  if (!before || !after || !out || self <= 0 || !(elapsed_s > 0) || !isfinite(elapsed_s))
    return CLB_E_INVAL;
  struct clb_host_snapshot snap_a, snap_b;
  struct proc_list list_a = {0}, list_b = {0};
  int rc_a = take_state(before, self, &snap_a, &list_a);
  int rc_b = take_state(after, self, &snap_b, &list_b);
  int rc = rc_a == CLB_E_NOMEM || rc_b == CLB_E_NOMEM ? CLB_E_NOMEM : 0;
  if (rc == 0)
    rc = evaluate_sample(&list_a, &snap_a, &list_b, &snap_b, elapsed_s, self, out);
  proc_list_free(&list_a);
  proc_list_free(&list_b);
  return rc;
}

/* Sleeps `seconds`, resuming after signals. */
static void sleep_for(double seconds) {
  struct timespec left = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
  while (nanosleep(&left, &left) != 0 && errno == EINTR)
    ;
}

static void clear(struct clb_host_check *out) {
  memset(out, 0, sizeof *out);
  out->load1 = NAN;
}

int clb_host_check_run(const char *root, double sample_s, pid_t self, struct clb_host_check *out) {
  if (!out)
    return CLB_E_INVAL;
  clear(out);
  if (!root || self <= 0 || !(sample_s >= 0 && sample_s <= 10))
    return CLB_E_INVAL;
  out->online_cpus = online_cpus(root);
  check_load(root, out);
  check_governor(root, out);
  check_turbo(root, out);
  check_vm(root, out);
  check_container(root, out);
  check_few_cpus(out);
  if (sample_s == 0)
    return 0;

  /* Each process is read at about the same offset into both scans, so the
   * time between the scans' starts is the interval each one saw. */
  struct clb_host_snapshot snap_a, snap_b;
  struct proc_list list_a = {0}, list_b = {0};
  double start = clb_now();
  int rc = take_state(root, self, &snap_a, &list_a) == CLB_E_NOMEM ? CLB_E_NOMEM : 0;
  if (rc == 0) {
    sleep_for(sample_s);
    double elapsed = clb_now() - start;
    rc = take_state(root, self, &snap_b, &list_b) == CLB_E_NOMEM ? CLB_E_NOMEM : 0;
    if (rc == 0 && elapsed > 0)
      rc = evaluate_sample(&list_a, &snap_a, &list_b, &snap_b, elapsed, self, out);
  }
  proc_list_free(&list_a);
  proc_list_free(&list_b);
  return rc;
}

/* Appends warnings joined by "; ", each cut at its first ": " when `short_form`. */
static void join_warnings(const struct clb_host_check *check, int short_form, char *buf,
                          size_t size) {
  if (!buf || size == 0)
    return;
  buf[0] = '\0';
  if (!check)
    return;
  size_t used = 0;
  for (size_t i = 0; i < check->count && i < CLB_HOST_CHECK_MAX; i++) {
    const char *warning = check->warnings[i];
    const char *cut = short_form ? strstr(warning, ": ") : NULL;
    size_t length = cut ? (size_t)(cut - warning) : strlen(warning);
    const char *separator = i ? "; " : "";
    for (const char *p = separator; *p && used + 1 < size; p++)
      buf[used++] = *p;
    for (size_t k = 0; k < length && used + 1 < size; k++)
      buf[used++] = warning[k];
  }
  buf[used] = '\0';
}

void clb_host_check_join(const struct clb_host_check *check, char *buf, size_t size) {
  join_warnings(check, 0, buf, size);
}

void clb_host_check_join_short(const struct clb_host_check *check, char *buf, size_t size) {
  join_warnings(check, 1, buf, size);
}
