/* `clbatch run`, its hidden `__worker`, `clbatch peak` and `clbatch recommend`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blas/peak.h"
#include "blas/tune.h"
#include "blas/tune_store.h"
#include "cl/context.h"
#include "cl/describe.h"
#include "cl/platform.h"
#include "cl/topology.h"
#include "cli/commands.h"
#include "measure/host_check.h"
#include "measure/measure.h"
#include "measure/speed_history.h"
#include "model/dataset.h"
#include "results/advise.h"
#include "results/output.h"
#include "results/passes.h"
#include "sweep/plan.h"
#include "sweep/sweep.h"
#include "sweep/worker.h"
#include "util/clock.h"
#include "util/files.h"
#include "util/text.h"

void clb_help_run(FILE *out) {
  fprintf(out, "Usage: clbatch run [OPTIONS]\n"
               "\n"
               "Benchmarks one gradient step (forward, backward, SGD update) for every selected\n"
               "device x model x precision x batch size and writes one CSV row each\n"
               "(results/SCHEMA.md). Each device runs in its own worker process, --passes\n"
               "times over (3: a row is the mean of three processes' medians, with an\n"
               "interval that holds the spread between them); rows are flushed as they\n"
               "finish. Before it starts it warns about what makes timings on this\n"
               "host less trustworthy (load, governor, VM, a device whose recent passes\n"
               "landed far apart, ...) and names devices without tuned CLBlast\n"
               "parameters (see `clbatch tune`).\n");
  clb_options_help(clb_run_options, clb_run_option_count, 0, out);
  fprintf(out, "\n"
               "Selecting devices (--device, also for devices, peak, tune, train, study):\n"
               "  all, cpu, gpu        every device, or every device of that type\n"
               "  P:D                  one device by its index in `clbatch devices`\n"
               "  NAME                 a case-insensitive substring of the device's name or\n"
               "                       vendor or of its platform's name or vendor: pocl, intel,\n"
               "                       nvidia, amd, oclgrind, epyc, ...\n"
               "  platform:NAME        the platform's name or vendor only (on an Intel host\n"
               "                       PoCL's device is named after the CPU, so `intel` matches\n"
               "                       it too, `platform:intel` only Intel's runtime)\n"
               "  A,B,...              every device any of these selects\n");
}

/* The options of run, then the worker's internal ones. */
#define WORKER_DEVICE_OPTION 'W'
#define WORKER_FD_OPTION 'F'
#define WORKER_REPEAT_OPTION 'R'
#define WORKER_PASS_OPTION 'P'

struct run_args {
  struct clb_plan plan;
  const char *worker_device;
  int worker_fd;
  size_t worker_repeat, worker_pass;
};

/* Returns 0, or an exit code (0 for --help is signalled by `*help`). */
static int parse_run_args(int argc, char **argv, const char *command, struct run_args *args,
                          int *help) {
  struct clb_error err = {0};
  int opt;
  clb_plan_defaults(&args->plan);
  args->worker_device = NULL;
  args->worker_fd = -1;
  args->worker_repeat = 1;
  args->worker_pass = 1;
  *help = 0;
  opterr = 0;
  struct option run_options[64 + 6];
  if (clb_run_option_count + 6 > sizeof run_options / sizeof run_options[0]) {
    fprintf(stderr, "clbatch %s: internal error: too many options\n", command);
    return 1;
  }
  clb_options_getopt(clb_run_options, clb_run_option_count, run_options);
  /* Replace the terminator with the worker's options and a new terminator. */
  run_options[clb_run_option_count + 1] =
      (struct option){"worker-device", required_argument, NULL, WORKER_DEVICE_OPTION};
  run_options[clb_run_option_count + 2] =
      (struct option){"worker-fd", required_argument, NULL, WORKER_FD_OPTION};
  run_options[clb_run_option_count + 3] =
      (struct option){"worker-repeat", required_argument, NULL, WORKER_REPEAT_OPTION};
  run_options[clb_run_option_count + 4] =
      (struct option){"worker-pass", required_argument, NULL, WORKER_PASS_OPTION};
  run_options[clb_run_option_count + 5] = (struct option){NULL, 0, NULL, 0};
  while ((opt = getopt_long(argc, argv, ":", run_options, NULL)) != -1) {
    if (opt == 'h') {
      *help = 1;
      return 0;
    }
    if (opt == WORKER_DEVICE_OPTION) {
      args->worker_device = optarg;
      continue;
    }
    if (opt == WORKER_FD_OPTION) {
      /* Internal: the parent always passes 3; a bad value fails at the first write. */
      args->worker_fd = (int)strtol(optarg, NULL, 10);
      continue;
    }
    if (opt == WORKER_REPEAT_OPTION) {
      args->worker_repeat = (size_t)strtoul(optarg, NULL, 10);
      continue;
    }
    if (opt == WORKER_PASS_OPTION) {
      args->worker_pass = (size_t)strtoul(optarg, NULL, 10);
      continue;
    }
    if (opt < 1000 || (size_t)(opt - 1000) >= clb_run_option_count) {
      clb_usage_error(command, opt, argv);
      return 2;
    }
    if (clb_options_set(&clb_run_options[opt - 1000], &args->plan, optarg, &err) != 0) {
      fprintf(stderr, "clbatch %s: %s\n", command, err.message);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "clbatch %s: unexpected argument '%s'\n", command, argv[optind]);
    return 2;
  }
  return 0;
}

int clb_cmd_worker(int argc, char **argv) {
  struct run_args args;
  int help = 0;
  int code = parse_run_args(argc, argv, "__worker", &args, &help);
  if (code != 0 || help)
    return code;
  struct clb_error err = {0};
  if (!args.worker_device || args.worker_fd < 0) {
    fprintf(stderr, "clbatch __worker: internal command of `clbatch run`\n");
    return 2;
  }
  if (clb_plan_finish(&args.plan, args.plan.samples, &err) != 0) {
    fprintf(stderr, "clbatch __worker: %s\n", err.message);
    return 2;
  }
  /* Each of P passes gets 1/P of the time: P passes cost about one run. */
  if (args.plan.passes > 1) {
    args.plan.measure.min_time_s /= (double)args.plan.passes;
    args.plan.measure.max_time_s /= (double)args.plan.passes;
  }
  return clb_worker_run(&args.plan, args.worker_device, args.worker_repeat, args.worker_pass,
                        args.worker_fd);
}

/* The progress line on stderr ("[3/39] device model prec B=... elapsed ETA"),
 * redrawn in place on a terminal; notes clear it first. */
struct progress_line {
  int terminal, quiet;
  double started, drawn;
  int shown;
};

static void format_duration(double seconds, char *buf, size_t size) {
  if (!(seconds >= 0) || seconds > 359999)
    snprintf(buf, size, "--:--");
  else if (seconds >= 3600)
    snprintf(buf, size, "%d:%02d:%02d", (int)seconds / 3600, ((int)seconds / 60) % 60,
             (int)seconds % 60);
  else
    snprintf(buf, size, "%02d:%02d", (int)seconds / 60, (int)seconds % 60);
}

static void clear_progress(struct progress_line *line) {
  if (line->shown) {
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    line->shown = 0;
  }
}

static void show_configuration(void *context, const struct clb_row *row, size_t done,
                               size_t total) {
  struct progress_line *line = context;
  if (!line->terminal || line->quiet)
    return;
  double elapsed = clb_now() - line->started;
  double eta = done > 0 ? elapsed / (double)done * (double)(total - done) : -1;
  char elapsed_text[16], eta_text[16];
  format_duration(elapsed, elapsed_text, sizeof elapsed_text);
  format_duration(eta, eta_text, sizeof eta_text);
  fprintf(stderr, "\r\033[K[%zu/%zu] %.40s %s %s B=%.0f  elapsed %s  ETA %s", done + 1, total,
          row->device, row->model, row->precision, row->batch, elapsed_text, eta_text);
  fflush(stderr);
  line->shown = 1;
}

/* Rounds change every ~10 ms; the line is redrawn a few times a second. */
static void show_timing(void *context, const struct clb_row *row, size_t running, size_t done,
                        size_t total) {
  struct progress_line *line = context;
  if (!line->terminal || line->quiet)
    return;
  double now = clb_now();
  if (now - line->drawn < 0.25)
    return;
  line->drawn = now;
  char elapsed_text[16];
  format_duration(now - line->started, elapsed_text, sizeof elapsed_text);
  fprintf(stderr, "\r\033[K[%zu/%zu done] timing %zu in turns, now %.32s %s %s B=%.0f  elapsed %s",
          done, total, running, row->device, row->model, row->precision, row->batch, elapsed_text);
  fflush(stderr);
  line->shown = 1;
}

static void show_note(void *context, const char *text) {
  struct progress_line *line = context;
  if (line->quiet)
    return;
  clear_progress(line);
  fprintf(stderr, "clbatch: %s\n", text);
}

static void default_out_path(char *buf, size_t size) {
  char host[128] = "host";
  gethostname(host, sizeof host - 1);
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  snprintf(buf, size, "results/local/run-%s-%s.csv", host, stamp);
}

/* Opens a results CSV (the results, or --passes' rows of each pass): a new
 * file with its header, or (--resume) an existing valid one for appending.
 * Never truncates a file that holds results. */
static FILE *open_results(const char *path, int resume, int *exit_code) {
  struct clb_error err = {0};
  int exists = access(path, F_OK) == 0;
  *exit_code = 0;
  if (exists && !resume) {
    fprintf(stderr,
            "clbatch run: %s already exists; use --resume to complete it or choose another "
            "--out\n",
            path);
    *exit_code = 2;
    return NULL;
  }
  if (clb_mkdir_parents(path, &err) != 0) {
    fprintf(stderr, "clbatch run: %s\n", err.message);
    *exit_code = 1;
    return NULL;
  }
  if (exists) {
    struct clb_row *rows = NULL;
    size_t count = 0;
    char warning[512] = "";
    if (clb_results_read(path, &rows, &count, warning, sizeof warning, &err) != 0) {
      fprintf(stderr, "clbatch run: cannot resume %s: %s\n", path, err.message);
      *exit_code = 2;
      return NULL;
    }
    free(rows);
    if (warning[0]) {
      /* A killed run can leave half a line; drop it before appending. */
      fprintf(stderr, "clbatch run: %s\n", warning);
    }
  }
  FILE *csv = fopen(path, exists ? "r+" : "w");
  if (!csv) {
    fprintf(stderr, "clbatch run: cannot open %s: %s\n", path, strerror(errno));
    *exit_code = 1;
    return NULL;
  }
  if (exists) {
    /* Cut a torn last line (no newline) so appended rows start on their own line. */
    fseek(csv, 0, SEEK_END);
    long size = ftell(csv);
    long keep = size;
    while (keep > 0) {
      fseek(csv, keep - 1, SEEK_SET);
      if (fgetc(csv) == '\n')
        break;
      keep--;
    }
    if (keep != size && ftruncate(fileno(csv), keep) != 0) {
      fprintf(stderr, "clbatch run: cannot repair %s\n", path);
      fclose(csv);
      *exit_code = 1;
      return NULL;
    }
    fseek(csv, 0, SEEK_END);
  } else if (clb_results_write_header(csv, &err) != 0) {
    fprintf(stderr, "clbatch run: %s: %s\n", path, err.message);
    fclose(csv);
    *exit_code = 1;
    return NULL;
  }
  return csv;
}

/* After the sweep: the summary table, the advice, and the extra formats. */
static int finish_run(const struct clb_plan *plan, const cJSON *description) {
  struct clb_error err = {0};
  struct clb_row *rows = NULL;
  struct clb_advice *advice = NULL;
  size_t count = 0, advice_count = 0;
  char warning[512] = "", path[1200];
  int exit_code = 0;
  if (clb_results_read(plan->out_path, &rows, &count, warning, sizeof warning, &err) != 0) {
    fprintf(stderr, "clbatch run: cannot read back %s: %s\n", plan->out_path, err.message);
    return 1;
  }
  if (!plan->quiet) {
    clb_output_summary(stdout, rows, count);
    clb_output_host_causes(stdout, rows, count, plan->passes_rule.target_ci,
                           plan->passes_rule.drift_limit);
  }
  if (clb_advise(rows, count, &advice, &advice_count, &err) != 0) {
    fprintf(stderr, "clbatch run: %s\n", err.message);
    exit_code = 1;
  } else {
    if (!plan->quiet) {
      printf("\n");
      clb_advise_print(stdout, advice, advice_count);
    }
    clb_path_sibling(plan->out_path, ".recommend.csv", path, sizeof path);
    if (clb_advise_write_csv(path, advice, advice_count, &err) != 0) {
      fprintf(stderr, "clbatch run: %s\n", err.message);
      exit_code = 1;
    }
  }
  if (plan->format == CLB_FORMAT_JSON) {
    clb_path_sibling(plan->out_path, ".json", path, sizeof path);
    if (clb_output_json(path, rows, count, description, &err) != 0) {
      fprintf(stderr, "clbatch run: %s\n", err.message);
      exit_code = 1;
    }
  } else if (plan->format == CLB_FORMAT_MD) {
    clb_path_sibling(plan->out_path, ".md", path, sizeof path);
    if (clb_output_markdown(path, rows, count, &err) != 0) {
      fprintf(stderr, "clbatch run: %s\n", err.message);
      exit_code = 1;
    }
  }
  if (!plan->quiet)
    printf("\nresults: %s (%zu rows)\n", plan->out_path, count);
  free(advice);
  free(rows);
  return exit_code;
}

/* N is fixed by the data file when one is given. */
static int resolve_samples(struct clb_plan *plan, size_t *n) {
  *n = plan->samples;
  if (!plan->data_path[0])
    return 0;
  struct clb_dataset data = {0};
  struct clb_error err = {0};
  /* Load it as the workers will, so bad class labels are reported now rather
   * than by a worker after the output files exist. */
  int classifier = 0;
  for (size_t i = 0; i < plan->model_count; i++)
    classifier |= plan->models[i] != CLB_MODEL_LINREG;
  if (clb_data_load_csv(plan->data_path, classifier, &data, &err) != 0) {
    fprintf(stderr, "clbatch run: %s\n", err.message);
    return 2;
  }
  *n = data.n;
  clb_dataset_destroy(&data);
  return 0;
}

extern char **environ; /* passed on to `clbatch tune` */

/* Where tuned.conf falls short for one device: the plan's precisions it
 * supports that have no entry at all (untuned), and those with entries for
 * only some of the kernels a search stores now (tuned before clbatch
 * searched its GEMV kernels or the transpose), each as "fp32,fp64". */
struct tune_gaps {
  char untuned[64], partly[64], both[128];
  size_t untuned_count, partly_count;
  size_t started;             /* untuned precisions that get clbatch's CPU starting sets */
  const char *missing_kernel; /* one kernel a partly tuned precision lacks */
};

static void append_precision(char *list, size_t size, enum clb_precision precision) {
  size_t used = strlen(list);
  snprintf(list + used, size - used, "%s%s", used ? "," : "", clb_precision_name(precision));
}

static void find_tune_gaps(const struct clb_plan *plan, const struct clb_tune_file *file,
                           const struct clb_device_info *dev, struct tune_gaps *gaps) {
  memset(gaps, 0, sizeof *gaps);
  for (size_t p = 0; p < plan->precision_count; p++) {
    enum clb_precision precision = plan->precisions[p];
    char reason[256];
    const char *missing = clb_tune_store_missing(file, dev, precision);
    if (clb_device_check_precision(dev, precision, reason, sizeof reason) != 0 || !missing)
      continue;
    append_precision(gaps->both, sizeof gaps->both, precision);
    if (clb_tune_store_find(file, dev, precision, NULL)) {
      append_precision(gaps->partly, sizeof gaps->partly, precision);
      gaps->partly_count++;
      gaps->missing_kernel = missing;
      continue;
    }
    append_precision(gaps->untuned, sizeof gaps->untuned, precision);
    gaps->untuned_count++;
    size_t sets = 0;
    if (clb_tune_start_sets(dev, precision, &sets))
      gaps->started++;
  }
}

/* The plan's batch sizes whose GEMMs place the tuner's crossover: five
 * spread over those from 16 up (all from 2 up when none is that large),
 * which for the default plan are `clbatch tune`'s own 16, 64, ..., 4096. */
#define TUNE_BATCHES 5
static void tune_batches(const struct clb_plan *plan, char *buf, size_t size) {
  size_t from = 0, least = 16;
  while (from < plan->batch_count && plan->batches[from] < least)
    from++;
  if (from == plan->batch_count)
    for (from = 0, least = 2; from < plan->batch_count && plan->batches[from] < least;)
      from++;
  size_t n = plan->batch_count - from, used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && i < TUNE_BATCHES; i++) {
    size_t at = n <= TUNE_BATCHES ? i : (i * (n - 1) + (TUNE_BATCHES - 1) / 2) / (TUNE_BATCHES - 1);
    int wrote =
        snprintf(buf + used, size - used, "%s%zu", used ? "," : "", plan->batches[from + at]);
    if (wrote < 0 || (size_t)wrote >= size - used)
      break;
    used += (size_t)wrote;
  }
}

/* --tune: `clbatch tune` in a child process, as the user would run it (an
 * override cannot be undone in a process, and this one runs no CLBlast),
 * with the plan's model sizes and batches for the crossover. Its table and
 * progress go to stderr; a failure leaves the run untuned. */
static void tune_device(const struct clb_plan *plan, const char *id, const char *precisions) {
  char budget[32], batches[128], features[32], hidden[32], classes[32];
  snprintf(budget, sizeof budget, "%g", plan->tune_budget_s);
  snprintf(features, sizeof features, "%zu", plan->features);
  snprintf(hidden, sizeof hidden, "%zu", plan->hidden);
  snprintf(classes, sizeof classes, "%zu", plan->classes);
  tune_batches(plan, batches, sizeof batches);
  char *argv[] = {"clbatch",   "tune",        "--device",
                  (char *)id,  "--precision", (char *)precisions,
                  "--budget",  budget,        "--features",
                  features,    "--hidden",    hidden,
                  "--classes", classes,       batches[0] ? "--batch" : NULL,
                  batches,     NULL};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (plan->quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  }
  fflush(NULL);
  pid_t pid = 0;
  int status = 0;
  int rc = posix_spawn(&pid, "/proc/self/exe", &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == 0)
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
  if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fprintf(stderr,
            "clbatch run: warning: `clbatch tune --device %s --precision %s` failed; the run "
            "goes on with the device's untuned parameters\n",
            id, precisions);
}

/* Before the run, per device whose plan precisions have no tuned CLBlast
 * parameters: with --tune, tune them; otherwise say so once, since untuned
 * GEMMs can be several times slower (2x for mlp on PoCL's CPU device here)
 * and the fix is one command whose length the user should know first. A
 * tune file that does not parse is left to the worker, which fails on it
 * with the line. */
static void handle_untuned_devices(const struct clb_plan *plan,
                                   const struct clb_device_list *devices) {
  if (plan->quiet && !plan->tune_first)
    return;
  char path[1024];
  struct clb_tune_file file = {0};
  struct clb_error err = {0};
  clb_tune_path(path, sizeof path);
  if (clb_tune_store_load(path, &file, &err) != 0)
    return;
  struct clb_tune_options defaults;
  clb_tune_defaults(&defaults);
  for (size_t d = 0; d < devices->count; d++) {
    const struct clb_device_info *dev = &devices->items[d];
    char id[32];
    struct tune_gaps gaps;
    find_tune_gaps(plan, &file, dev, &gaps);
    if (!gaps.both[0])
      continue;
    clb_device_id_string(dev, id, sizeof id);
    if (plan->tune_first) {
      if (!plan->quiet)
        fprintf(stderr, "clbatch run: tuning %s (%s) for %s first (--tune)\n", dev->name,
                dev->platform_name, gaps.both);
      tune_device(plan, id, gaps.both);
      continue;
    }
    if (gaps.partly_count)
      fprintf(stderr,
              "clbatch run: note: %s (%s) was tuned for %s before `clbatch tune` searched all "
              "the CLBlast kernels a step uses (no %s entry): `clbatch tune --device %s "
              "--precision %s` searches them again in at most about %.0f min per precision\n",
              dev->name, dev->platform_name, gaps.partly, gaps.missing_kernel, id, gaps.partly,
              clb_tune_expected_minutes(defaults.budget_s));
    if (!gaps.untuned_count)
      continue;
    fprintf(stderr,
            "clbatch run: note: %s (%s) has no tuned CLBlast parameters for %s: its GEMMs run on "
            "%s. `clbatch run --tune` or `clbatch tune --device %s --precision %s` searches "
            "them in at most about %.0f min per precision (its --budget, %.0f s)\n",
            dev->name, dev->platform_name, gaps.untuned,
            gaps.started == gaps.untuned_count ? "clbatch's CPU starting parameters (tuned = 2)"
            : gaps.started == 0
                ? "CLBlast's own parameters (tuned = 0)"
                : "CLBlast's own or clbatch's CPU starting parameters (tuned = 0 or 2)",
            id, gaps.untuned, clb_tune_expected_minutes(defaults.budget_s), defaults.budget_s);
  }
  clb_tune_store_destroy(&file);
}

/* What makes this run's numbers less trustworthy, said before it starts and
 * written into the config (so every row carries it). */
static void check_host(struct clb_plan *plan, struct clb_host_check *check) {
  plan->host_warnings[0] = '\0'; /* the host now, not the one a --config came from */
  if (clb_host_check_run("", 0.25, getpid(), check) != 0)
    return;
  for (size_t i = 0; i < check->count && !plan->quiet; i++)
    fprintf(stderr, "clbatch run: warning: %s\n", check->warnings[i]);
  clb_host_check_join_short(check, plan->host_warnings, sizeof plan->host_warnings);
}

/* Appends "; TEXT", or TEXT to an empty list, cut at `size` (clb_copy_cut). */
static void append_warning(char *list, size_t size, const char *text) {
  size_t used = strlen(list);
  if (used) {
    clb_copy_cut(list + used, size - used, "; ");
    used = strlen(list);
  }
  clb_copy_cut(list + used, size - used, text);
}

/* Puts the devices' warnings before the host's in the run's host warnings:
 * the field holds 320 characters, and on a loaded VM the host's own list
 * alone came to about 260, which cut the device's off. */
static void put_device_warnings_first(struct clb_plan *plan, const char *device_warnings) {
  char joined[sizeof plan->host_warnings] = "";
  append_warning(joined, sizeof joined, device_warnings);
  if (plan->host_warnings[0])
    append_warning(joined, sizeof joined, plan->host_warnings);
  memcpy(plan->host_warnings, joined, sizeof joined);
}

/* Before the run, per device: how far its passes have landed apart on this
 * host lately (the speed history's host_spread, read as a worker will).
 * When a re-run may land beyond --passes-ci, every row of this run will be
 * unstable by it: said now rather than after minutes of measuring, and kept
 * with the host's other warnings. With too short a history there is no
 * host_spread, and the intervals hold only this run's own passes: on a new
 * 2-core VM the first two runs landed 7 % apart as a whole and their
 * intervals held the other's median for 49 of 78 rows
 * (results/run-agreement/2026-12-02-zen3/), so that is said too. */
static void warn_erratic_host(struct clb_plan *plan, const struct clb_device_list *devices) {
  char path[1024], host[128];
  clb_speed_history_path(plan->speed_history, path, sizeof path);
  if (!path[0] || plan->passes < 2)
    return;
  clb_host_name(host, sizeof host);
  char device_warnings[sizeof plan->host_warnings] = "";
  for (size_t d = 0; d < devices->count; d++) {
    const struct clb_device_info *dev = &devices->items[d];
    enum clb_params_source tuned = CLB_PARAMS_CLBLAST;
    struct clb_speed_key key = {0};
    struct clb_speed_usual usual;
    struct clb_error err = {0};
    if (clb_tune_source(dev, CLB_FP32, &tuned, &err) != 0)
      continue; /* the worker says what is wrong with the tune file */
    clb_speed_key_set(&key, host, dev->platform_name, dev->name, dev->driver_version, (int)tuned);
    if (clb_speed_history_usual(path, &key, &usual, &err) != 0)
      continue; /* the worker says it */
    char warning[512];
    if (usual.count < CLB_SPEED_HISTORY_MIN_SPREAD) {
      if (!plan->quiet)
        fprintf(stderr,
                "clbatch run: warning: %s (%s): the speed history (%s) holds %zu of the %d "
                "passes on this host that show how far a re-run may land (host_spread), so "
                "this run's intervals hold only its own passes' spread and a re-run may land "
                "outside them; later runs add that term\n",
                dev->name, dev->platform_name, path, usual.count, CLB_SPEED_HISTORY_MIN_SPREAD);
      snprintf(warning, sizeof warning, "%s: no host_spread yet (%zu of %d passes in the history)",
               dev->name, usual.count, CLB_SPEED_HISTORY_MIN_SPREAD);
      append_warning(device_warnings, sizeof device_warnings, warning);
      continue;
    }
    if (!clb_passes_host_erratic(usual.spread, plan->passes_rule.target_ci))
      continue;
    double reach = clb_passes_rerun_reach(usual.spread);
    if (!plan->quiet)
      fprintf(stderr,
              "clbatch run: warning: %s (%s): its last %zu passes on this host landed up to "
              "about +-%.0f %% apart (the reference step in %s), so this run's rows will be "
              "unstable (beyond --passes-ci); a quiet host gives narrower intervals\n",
              dev->name, dev->platform_name, usual.count, 100.0 * reach, path);
    snprintf(warning, sizeof warning, "%s: recent passes +-%.0f%% apart", dev->name,
             100.0 * reach);
    append_warning(device_warnings, sizeof device_warnings, warning);
  }
  if (device_warnings[0])
    put_device_warnings_first(plan, device_warnings);
}

/* How much of the CPUs others took while the sweep ran: said when it is
 * enough to move the numbers, and kept in the JSON either way. */
static void report_host_during_run(const struct clb_plan *plan,
                                   const struct clb_host_snapshot *before,
                                   const struct clb_host_check *check, cJSON *description) {
  struct clb_host_snapshot after;
  double steal = NAN, others = NAN;
  if (clb_host_snapshot_take("", getpid(), &after) == 0)
    clb_host_snapshot_between(before, &after, &steal, &others);
  if (!plan->quiet && (others >= 0.05 || steal >= 0.01))
    fprintf(stderr,
            "clbatch run: warning: during the run other processes used %.0f %% and the "
            "hypervisor (steal) %.1f %% of the CPUs' time; compare its numbers with care\n",
            100.0 * others, 100.0 * steal);
  if (!description)
    return;
  cJSON *host = cJSON_AddObjectToObject(description, "host_checks");
  cJSON *warnings = host ? cJSON_AddArrayToObject(host, "warnings_before_run") : NULL;
  for (size_t i = 0; warnings && i < check->count; i++)
    cJSON_AddItemToArray(warnings, cJSON_CreateString(check->warnings[i]));
  if (host && isfinite(others))
    cJSON_AddNumberToObject(host, "others_cpu_fraction_during_run", others);
  if (host && isfinite(steal))
    cJSON_AddNumberToObject(host, "steal_fraction_during_run", steal);
}

int clb_cmd_run(int argc, char **argv) {
  struct run_args args;
  int help = 0;
  int code = parse_run_args(argc, argv, "run", &args, &help);
  if (help) {
    clb_help_run(stdout);
    return 0;
  }
  if (code != 0)
    return code;
  struct clb_plan *plan = &args.plan;
  struct clb_error err = {0};
  size_t n = 0;
  if ((code = resolve_samples(plan, &n)) != 0)
    return code;
  if (clb_plan_finish(plan, n, &err) != 0) {
    fprintf(stderr, "clbatch run: %s\n", err.message);
    return 2;
  }
  struct clb_device_list devices = {0};
  struct clb_topology *topology = NULL;
  FILE *csv = NULL, *passes_csv = NULL;
  cJSON *description = NULL;
  if ((code = clb_cli_devices("run", plan->device_spec, &devices)) != 0)
    return code;
  code = 1;
  if (!plan->out_path[0])
    default_out_path(plan->out_path, sizeof plan->out_path);
  int open_code = 0;
  csv = open_results(plan->out_path, plan->resume, &open_code);
  if (!csv) {
    code = open_code;
    goto done;
  }
  if (plan->passes > 1) {
    char passes_path[1200];
    clb_passes_path(plan->out_path, passes_path, sizeof passes_path);
    if (!(passes_csv = open_results(passes_path, plan->resume, &open_code))) {
      code = open_code;
      goto done;
    }
  }
  struct clb_host_check check = {0};
  check_host(plan, &check);
  warn_erratic_host(plan, &devices);
  handle_untuned_devices(plan, &devices);
  char config_path[1200];
  clb_path_sibling(plan->out_path, ".config", config_path, sizeof config_path);
  if (clb_plan_write_config(plan, config_path, &err) != 0) {
    fprintf(stderr, "clbatch run: %s\n", err.message);
    goto done;
  }
  if (clb_topology_create(&topology, NULL, &err) == 0) {
    struct clb_host_info host;
    clb_topology_host_info(topology, &host);
    description = clb_describe_all_json(&host, &devices, topology);
  }
  struct clb_sweep_stats stats;
  struct progress_line line = {isatty(STDERR_FILENO), plan->quiet, clb_now(), 0, 0};
  struct clb_sweep_listener listener = {show_configuration, show_timing, show_note, &line};
  struct clb_host_snapshot before = {0};
  (void)clb_host_snapshot_take("", getpid(), &before); /* a part it cannot read stays unknown */
  int swept =
      clb_sweep_run(plan, config_path, &devices, csv, passes_csv, &listener, &stats, &err);
  clear_progress(&line);
  report_host_during_run(plan, &before, &check, description);
  if (swept != 0) {
    fprintf(stderr, "clbatch run: %s\n", err.message);
    goto done;
  }
  fclose(csv);
  csv = NULL;
  if (passes_csv)
    fclose(passes_csv);
  passes_csv = NULL;
  code = finish_run(plan, description);
  if (code == 0 && (stats.devices_timed_out > 0 || stats.rows_failed > 0)) {
    fprintf(stderr,
            "clbatch run: %zu configuration(s) failed, %zu device(s) timed out; see the "
            "status and message columns\n",
            stats.rows_failed, stats.devices_timed_out);
    code = 1;
  }
  if (code == 0 && stats.devices_failed > 0) {
    fprintf(stderr, "clbatch run: the worker of %zu device(s) failed before finishing its plan\n",
            stats.devices_failed);
    code = 1;
  }
done:
  if (csv)
    fclose(csv);
  if (passes_csv)
    fclose(passes_csv);
  cJSON_Delete(description);
  clb_topology_destroy(topology);
  clb_platform_list_destroy(&devices);
  return code;
}

void clb_help_peak(FILE *out) {
  fprintf(out, "Usage: clbatch peak [--device SPEC] [--precision LIST]\n"
               "\n"
               "Measures each device's global-memory bandwidth (a copy kernel) and FMA\n"
               "throughput per precision (fp32,fp64,fp16 by default): the roofline that\n"
               "`clbatch run` reports %% of peak against. Also the cost of one kernel\n"
               "launch, from an empty kernel: `sync us`, the median of enqueue + clFinish,\n"
               "and `queued us`, the wall time per launch of 1000 back-to-back launches and\n"
               "one clFinish. A step of K kernels costs at least K queued launches:\n"
               "`clbatch run` counts each step's kernels, CLBlast's included, and writes\n"
               "kernels_per_step and launch_floor_s (K x queued) to every row.\n"
               "\n"
               "  --device SPEC     all (default), cpu, gpu, P:D, pocl, intel, platform:NAME,\n"
               "                    ... (as in `clbatch help run`)\n"
               "  --precision LIST  fp32, fp64, fp16, comma-separated (default all three)\n");
}

int clb_cmd_peak(int argc, char **argv) {
  static const struct option options[] = {{"device", required_argument, NULL, 'd'},
                                          {"precision", required_argument, NULL, 'p'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct clb_plan plan;
  struct clb_error err = {0};
  clb_plan_defaults(&plan);
  clb_plan_set(&plan, "precision", "fp32,fp64,fp16", &err);
  int opt;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
    const char *key = opt == 'd' ? "device" : opt == 'p' ? "precision" : NULL;
    if (opt == 'h') {
      clb_help_peak(stdout);
      return 0;
    }
    if (!key) {
      clb_usage_error("peak", opt, argv);
      return 2;
    }
    if (clb_plan_set(&plan, key, optarg, &err) != 0) {
      fprintf(stderr, "clbatch peak: %s\n", err.message);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "clbatch peak: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  struct clb_device_list devices = {0};
  int code = clb_cli_devices("peak", plan.device_spec, &devices);
  if (code != 0)
    return code;
  printf("%-6s %-40s %9s %9s %8s", "index", "device", "sync us", "queued us", "GB/s");
  for (size_t p = 0; p < plan.precision_count; p++)
    printf(" %10s", clb_precision_name(plan.precisions[p]));
  printf("   (GFLOP/s)\n");
  for (size_t i = 0; i < devices.count; i++) {
    const struct clb_device_info *dev = &devices.items[i];
    struct clb_cl cl;
    char index[32];
    clb_device_id_string(dev, index, sizeof index);
    if (clb_cl_create(dev, &cl, &err) != 0) {
      fprintf(stderr, "clbatch peak: %s\n", err.message);
      code = 1;
      continue;
    }
    double bandwidth = NAN;
    struct clb_launch_cost launch = {NAN, NAN};
    struct clb_peak *peak = NULL;
    if (clb_peak_create(&cl, &peak, &err) != 0 || clb_peak_launch(peak, &launch, &err) != 0 ||
        clb_peak_bandwidth(peak, &bandwidth, &err) != 0) {
      fprintf(stderr, "clbatch peak: %s\n", err.message);
      code = 1;
    }
    printf("%-6s %-40.40s %9.1f %9.1f %8.1f", index, dev->name, launch.sync_s * 1e6,
           launch.queued_s * 1e6, bandwidth);
    for (size_t p = 0; p < plan.precision_count; p++) {
      double gflops = NAN;
      char reason[256];
      if (clb_device_check_precision(dev, plan.precisions[p], reason, sizeof reason) != 0) {
        printf(" %10s", "n/a");
        continue;
      }
      if (peak && clb_peak_flops(peak, plan.precisions[p], &gflops, &err) != 0) {
        fprintf(stderr, "\nclbatch peak: %s\n", err.message);
        code = 1;
      }
      printf(" %10.1f", gflops);
    }
    printf("\n");
    clb_peak_destroy(peak);
    clb_cl_destroy(&cl);
  }
  clb_platform_list_destroy(&devices);
  return code;
}

void clb_help_recommend(FILE *out) {
  fprintf(out, "Usage: clbatch recommend RESULTS.csv...\n"
               "\n"
               "From saved `clbatch run` results, per device, model and precision: the\n"
               "throughput knee (smallest B reaching 90 %% of the best samples/s), the\n"
               "largest B that fits, and B* = argmin t_step(B) (1 + B_noise / B), the\n"
               "batch size predicted to reach a target loss fastest on that card.\n");
}

int clb_cmd_recommend(int argc, char **argv) {
  static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  int opt;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
    if (opt == 'h') {
      clb_help_recommend(stdout);
      return 0;
    }
    clb_usage_error("recommend", opt, argv);
    return 2;
  }
  if (optind >= argc) {
    fprintf(stderr, "clbatch recommend: give at least one results CSV\n");
    return 2;
  }
  struct clb_row *rows = NULL;
  size_t count = 0;
  for (int i = optind; i < argc; i++) {
    struct clb_error err = {0};
    char warning[512] = "";
    if (clb_results_read(argv[i], &rows, &count, warning, sizeof warning, &err) != 0) {
      fprintf(stderr, "clbatch recommend: %s\n", err.message);
      free(rows);
      return 2;
    }
    if (warning[0])
      fprintf(stderr, "clbatch recommend: %s\n", warning);
  }
  struct clb_advice *advice = NULL;
  size_t advice_count = 0;
  struct clb_error err = {0};
  if (clb_advise(rows, count, &advice, &advice_count, &err) != 0) {
    fprintf(stderr, "clbatch recommend: %s\n", err.message);
    free(rows);
    return 1;
  }
  clb_advise_print(stdout, advice, advice_count);
  free(advice);
  free(rows);
  return 0;
}
