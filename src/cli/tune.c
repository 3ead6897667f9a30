/* `clbatch tune`: searches CLBlast's GEMM and GEMV parameters per device and precision. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blas/tune.h"
#include "blas/tune_child.h"
#include "cl/context.h"
#include "cl/platform.h"
#include "cli/commands.h"
#include "model/shape.h"
#include "sweep/plan.h"
#include "util/parse.h"
#include "util/precision.h"

/* The crossover is placed over the GEMMs of softmax and mlp steps (linreg's
 * one output runs as GEMV) with the runs' D, H and C, by default at every
 * other power of two of the default plan's batches from 16 up (smaller
 * GEMMs stay on the direct path). At most 7 GEMMs a batch size. */
#define CROSSOVER_BATCHES_MAX (CLB_TUNE_MAX_CROSSOVER_GEMMS / 7)
struct crossover_batches {
  size_t sizes[CROSSOVER_BATCHES_MAX];
  size_t count;
};

static int parse_batches(const char *text, struct crossover_batches *out, struct clb_error *err) {
  out->count = 0;
  for (const char *at = text;;) {
    const char *comma = strchr(at, ',');
    char item[32];
    snprintf(item, sizeof item, "%.*s", (int)(comma ? (size_t)(comma - at) : strlen(at)), at);
    if (out->count == CROSSOVER_BATCHES_MAX)
      return clb_failf(err, CLB_E_INVAL, "--batch takes at most %d sizes", CROSSOVER_BATCHES_MAX);
    if (clb_parse_size(item, 2, 1048576, "--batch", &out->sizes[out->count++], err) != 0)
      return CLB_E_INVAL;
    if (!comma)
      return 0;
    at = comma + 1;
  }
}

void clb_help_tune(FILE *out) {
  char path[4096];
  clb_tune_path(path, sizeof path);
  fprintf(out,
          "Usage: clbatch tune [--device SPEC] [--precision LIST] [--m M --n N --k K]\n"
          "                    [--gemv-rows R] [--max-configs K] [--budget S] [--seed S]\n"
          "                    [--batch LIST --features D --hidden H --classes C]\n"
          "                    [--dry-run]\n"
          "\n"
          "Searches CLBlast's GEMM kernel parameters (Xgemm, XgemmDirect and the\n"
          "direct/indirect crossover), its two GEMV kernels (XgemvFastRot: y = X w,\n"
          "XgemvFast: y = X^T r, with X row-major, as linreg's step runs them) and\n"
          "the transpose the indirect GEMM runs on its operands (Padtranspose, timed\n"
          "in GB/s on the transpose of the R x K matrix) on each device, in the\n"
          "spaces of CLBlast's own tuner, and stores the best per device, driver,\n"
          "precision and kernel. Later runs apply them with\n"
          "CLBlastOverrideParameters.\n"
          "\n"
          "Per kernel the search times CLBlast's defaults, then clbatch's CPU starting\n"
          "set and the sets CLBlast's database holds for other devices of the same\n"
          "type, twice each, keeping the better (a slow phase of the host only lowers\n"
          "a timing); then it walks from the best: every configuration one parameter\n"
          "away (two when none of those is better), cheapest compile first, until\n"
          "no neighbour is 3 %% better or the budget is spent. Each configuration is\n"
          "built, checked against a host GEMM and timed in its own process, so one\n"
          "that crashes costs only itself; on PoCL the next configurations compile\n"
          "side by side, one per core.\n"
          "Then the best four of each kernel and CLBlast's defaults are timed again,\n"
          "three times side by side (fewer where three would overrun the time the\n"
          "search sets aside for it), and the medians decide; an XgemmDirect set must\n"
          "also be within 5 %% of the defaults on two narrow GEMMs (32 x 10 x K and\n"
          "M x 10 x K), since the direct kernel runs every small GEMM. The GEMV\n"
          "kernels go first, within 15 %% of the budget (what they leave goes to the\n"
          "GEMM), and their sets must also be within 5 %% of the defaults on a matrix\n"
          "of M rows (a smaller batch, which a set with more rows per work-group can\n"
          "push onto CLBlast's generic Xgemv); Padtranspose follows within 5 %%.\n"
          "Part of the budget is kept for the final timing and for the crossover:\n"
          "each GEMM of softmax's and mlp's steps at the --batch sizes (D, H and C as\n"
          "below) is timed on both paths, twice, in one process that applies the\n"
          "stored parameters as a run does, and the crossover goes where the mean over\n"
          "them of (time on the path taken / time on the faster path) is least.\n"
          "(Should that timing fail, it goes where the representative GEMM runs\n"
          "faster, or clbatch's starting value where that agrees.)\n"
          "\n"
          "  --device SPEC      devices to tune: all (default), cpu, gpu, P:D, pocl,\n"
          "                     intel, platform:NAME, ... (as in `clbatch help run`)\n"
          "  --precision LIST   fp32, fp64, fp16, comma-separated (default fp32)\n"
          "  --m M --n N --k K  the representative GEMM C(MxN) = A(MxK) B(KxN)\n"
          "                     (default 256 x 64 x 256: batch rows x hidden x features;\n"
          "                     M and N at least 2: one row or column runs as GEMV)\n"
          "  --gemv-rows R      rows of the GEMVs' and the transpose's R x K matrix\n"
          "                     (default 4096: a large batch; a square one is\n"
          "                     transposed as R x 2K)\n"
          "  --max-configs K    configurations timed per kernel, CLBlast's defaults\n"
          "                     included (default 200)\n"
          "  --budget S         seconds per device and precision after which no new\n"
          "                     configuration starts (default 480); the GEMV kernels\n"
          "                     may use 15 %%, Padtranspose 5 %%, Xgemm half of the rest\n"
          "  --seed S           seed of the random GEMM operands (default 42)\n"
          "  --batch LIST       batch sizes whose GEMMs place the crossover, at most %d,\n"
          "                     comma-separated (default 16,64,256,1024,4096)\n"
          "  --features D, --hidden H, --classes C\n"
          "                     the runs' model sizes, whose GEMMs place the crossover\n"
          "                     (default 128, 256 and 10, as `clbatch run`'s)\n"
          "  --dry-run          list the spaces and the starting sets; compile, time and\n"
          "                     write nothing\n"
          "\n"
          "Progress goes to stderr, the summary table to stdout.\n"
          "Tuned parameters file: %s\n"
          "($CLBATCH_TUNE_FILE, else $XDG_CACHE_HOME/clbatch/tuned.conf, else\n"
          "~/.cache/clbatch/tuned.conf)\n",
          CROSSOVER_BATCHES_MAX, path);
}

static int same_gemm(const struct clb_tune_gemm *a, const struct clb_tune_gemm *b) {
  return a->trans_a == b->trans_a && a->trans_b == b->trans_b && a->m == b->m && a->n == b->n &&
         a->k == b->k;
}

/* `runs` carries D, H and C (its kind is ignored). Returns how many, each once. */
static size_t runs_gemms(const struct clb_shape *runs, const struct crossover_batches *batches,
                         struct clb_tune_gemm out[CLB_TUNE_MAX_CROSSOVER_GEMMS]) {
  const enum clb_model_kind kinds[] = {CLB_MODEL_SOFTMAX, CLB_MODEL_MLP};
  size_t count = 0;
  for (size_t b = 0; b < batches->count; b++)
    for (size_t m = 0; m < sizeof kinds / sizeof kinds[0]; m++) {
      struct clb_shape shape = *runs;
      shape.kind = kinds[m];
      struct clb_shape_gemm step[CLB_SHAPE_MAX_GEMMS];
      size_t n = clb_shape_gemms(&shape, batches->sizes[b], step);
      for (size_t i = 0; i < n && count < CLB_TUNE_MAX_CROSSOVER_GEMMS; i++) {
        struct clb_tune_gemm g = {step[i].trans_a, step[i].trans_b, step[i].m, step[i].n,
                                  step[i].k};
        int seen = g.m == 1 || g.n == 1; /* runs as GEMV */
        for (size_t j = 0; j < count && !seen; j++)
          seen = same_gemm(&out[j], &g);
        if (!seen)
          out[count++] = g;
      }
    }
  return count;
}

struct row {
  const char *device; /* borrowed from the device list */
  const char *precision;
  const char *kernel;
  double before, after;
  size_t tried, legal;
  const char *note;
  const char *unit;
};

static void print_row(const struct row *r, int dry_run) {
  if (r->note) {
    printf("%-32.32s %-9s %-12s %s\n", r->device, r->precision, r->kernel, r->note);
    return;
  }
  if (dry_run) {
    printf("%-32.32s %-9s %-12s %10s %10s %-7s %8s %8s/%zu\n", r->device, r->precision, r->kernel,
           "-", "-", r->unit, "-", "-", r->legal);
    return;
  }
  char speedup[32] = "-";
  if (r->before > 0.0)
    snprintf(speedup, sizeof speedup, "%.2fx", r->after / r->before);
  char tried[48];
  snprintf(tried, sizeof tried, "%zu/%zu", r->tried, r->legal);
  printf("%-32.32s %-9s %-12s %10.2f %10.2f %-7s %8s %12s\n", r->device, r->precision, r->kernel,
         r->before, r->after, r->unit, speedup, tried);
}

int clb_cmd_tune(int argc, char **argv) {
  static const struct option options[] = {{"device", required_argument, NULL, 'd'},
                                          {"precision", required_argument, NULL, 'p'},
                                          {"m", required_argument, NULL, 'm'},
                                          {"n", required_argument, NULL, 'n'},
                                          {"k", required_argument, NULL, 'k'},
                                          {"gemv-rows", required_argument, NULL, 'g'},
                                          {"max-configs", required_argument, NULL, 'c'},
                                          {"budget", required_argument, NULL, 'b'},
                                          {"seed", required_argument, NULL, 's'},
                                          {"dry-run", no_argument, NULL, 'r'},
                                          {"features", required_argument, NULL, 'D'},
                                          {"hidden", required_argument, NULL, 'H'},
                                          {"classes", required_argument, NULL, 'C'},
                                          {"batch", required_argument, NULL, 'B'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  struct clb_tune_options tune;
  clb_tune_defaults(&tune);
  struct clb_plan run_defaults;
  clb_plan_defaults(&run_defaults);
  struct clb_shape runs = {CLB_MODEL_MLP, run_defaults.features, run_defaults.hidden,
                           run_defaults.classes};
  struct clb_tune_gemm gemms[CLB_TUNE_MAX_CROSSOVER_GEMMS];
  struct crossover_batches batches = {{16, 64, 256, 1024, 4096}, 5};
  const char *spec = "all";
  enum clb_precision precisions[CLB_PRECISION_COUNT] = {CLB_FP32};
  size_t precision_count = 1;
  struct clb_error err = {0};
  size_t seed = 0;
  int opt, bad = 0;
  opterr = 0;
  while (!bad && (opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
    switch (opt) {
    case 'd':
      spec = optarg;
      break;
    case 'p':
      bad = clb_precision_parse_list(optarg, "--precision", precisions, &precision_count,
                                     &err) != 0;
      break;
    case 'm':
      bad = clb_parse_size(optarg, 2, 16384, "--m", &tune.m, &err) != 0;
      break;
    case 'n':
      bad = clb_parse_size(optarg, 2, 16384, "--n", &tune.n, &err) != 0;
      break;
    case 'k':
      bad = clb_parse_size(optarg, 1, 16384, "--k", &tune.k, &err) != 0;
      break;
    case 'g':
      bad = clb_parse_size(optarg, 1, 1048576, "--gemv-rows", &tune.gemv_rows, &err) != 0;
      break;
    case 'c':
      bad = clb_parse_size(optarg, 1, 1000000, "--max-configs", &tune.max_configs, &err) != 0;
      break;
    case 'b':
      bad = clb_parse_double(optarg, 0.001, 1e7, "--budget", &tune.budget_s, &err) != 0;
      break;
    case 's':
      bad = clb_parse_size(optarg, 0, SIZE_MAX, "--seed", &seed, &err) != 0;
      tune.seed = seed;
      break;
    case 'r':
      tune.dry_run = 1;
      break;
    case 'D':
      bad = clb_parse_size(optarg, 1, 16384, "--features", &runs.d, &err) != 0;
      break;
    case 'H':
      bad = clb_parse_size(optarg, 1, 16384, "--hidden", &runs.h, &err) != 0;
      break;
    case 'C':
      bad = clb_parse_size(optarg, 2, 16384, "--classes", &runs.c, &err) != 0;
      break;
    case 'B':
      bad = parse_batches(optarg, &batches, &err) != 0;
      break;
    case 'h':
      clb_help_tune(stdout);
      return 0;
    default:
      clb_usage_error("tune", opt, argv);
      return 2;
    }
  }
  if (bad) {
    if (err.code)
      fprintf(stderr, "clbatch tune: %s\n", err.message);
    return 2;
  }
  if (optind < argc) {
    fprintf(stderr, "clbatch tune: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  tune.crossover_gemms = gemms;
  tune.crossover_gemm_count = runs_gemms(&runs, &batches, gemms);

  struct clb_device_list all = {0};
  int exit_code = clb_cli_devices("tune", spec, &all);
  if (exit_code != 0)
    return exit_code;
  exit_code = 1;

  /* Rows are collected and printed at the end so progress on stderr does not
   * interleave with the table. */
  size_t row_capacity = all.count * CLB_PRECISION_COUNT * CLB_TUNE_KERNELS, row_count = 0;
  struct row *rows = calloc(row_capacity ? row_capacity : 1, sizeof *rows);
  if (!rows) {
    fprintf(stderr, "clbatch tune: out of memory\n");
    goto done;
  }
  char path[4096];
  clb_tune_path(path, sizeof path);
  if (!tune.dry_run) {
    size_t searches = all.count * precision_count;
    fprintf(stderr,
            "clbatch tune: %zu device%s x %zu precision%s; each search stops starting "
            "configurations after %.0f s, so this takes at most about %.0f min\n",
            all.count, all.count == 1 ? "" : "s", precision_count, precision_count == 1 ? "" : "s",
            tune.budget_s, (double)searches * clb_tune_expected_minutes(tune.budget_s));
  }
  int failures = 0, placed = 0;
  for (size_t d = 0; d < all.count; d++) {
    const struct clb_device_info *dev = &all.items[d];
    struct clb_cl cl = {0};
    int opened = 0;
    for (size_t p = 0; p < precision_count; p++) {
      enum clb_precision precision = precisions[p];
      struct row *r = &rows[row_count];
      r->device = dev->name;
      r->precision = clb_precision_name(precision);
      char reason[256];
      if (clb_device_check_precision(dev, precision, reason, sizeof reason) != 0) {
        fprintf(stderr, "clbatch tune: skipping %s on %s: %s\n", r->precision, dev->name, reason);
        r->kernel = "-";
        r->note = "skipped: precision not supported";
        row_count++;
        continue;
      }
      if (!opened) {
        if (clb_cl_create(dev, &cl, &err) != 0) {
          fprintf(stderr, "clbatch tune: %s\n", err.message);
          r->kernel = "-";
          r->note = "error: cannot open the device";
          row_count++;
          failures++;
          break;
        }
        opened = 1;
      }
      struct clb_tune_report report;
      if (clb_tune_search(&cl, precision, &tune, stderr, &report, &err) != 0) {
        fprintf(stderr, "clbatch tune: %s\n", err.message);
        r->kernel = "-";
        r->note = "error: see the message above";
        row_count++;
        failures++;
        continue;
      }
      for (int kernel = 0; kernel < CLB_TUNE_KERNELS; kernel++) {
        r = &rows[row_count++];
        r->device = dev->name;
        r->precision = clb_precision_name(precision);
        r->kernel = report.kernels[kernel].kernel;
        r->before = report.kernels[kernel].default_gflops;
        r->after = report.kernels[kernel].tuned_gflops;
        r->tried = report.kernels[kernel].tried;
        r->unit =
            report.kernels[kernel].unit ? report.kernels[kernel].unit : clb_tune_unit(r->kernel);
        placed |= report.kernels[kernel].unit != NULL;
        r->legal = report.kernels[kernel].legal;
        if (r->tried == 0 && !tune.dry_run)
          r->note = "not searched: it failed on CLBlast's own parameters (see above)";
      }
    }
    if (opened)
      clb_cl_destroy(&cl);
  }

  printf("%-32s %-9s %-12s %10s %10s %-7s %8s %12s\n", "device", "precision", "kernel", "default",
         "tuned", "unit", "speed-up", "tried/legal");
  for (size_t i = 0; i < row_count; i++)
    print_row(&rows[i], tune.dry_run);
  size_t transpose_rows, transpose_cols;
  clb_tune_transpose_shape(&tune, &transpose_rows, &transpose_cols);
  if (tune.dry_run)
    printf("dry run: nothing compiled, timed or written (file would be %s)\n", path);
  else
    printf("tuned parameters: %s\n"
           "(GemmRoutine: %s; XgemvFastRot and XgemvFast: the GEMV on %zu x %zu; "
           "Padtranspose: the transpose of %zu x %zu, bytes read and written)\n",
           path,
           placed ? "the runs' GEMMs with the tuned kernels, their mean speed in % of their "
                    "faster path's: default = the crossover the representative GEMM places, "
                    "tuned = the one placed over them"
                  : "default = CLBlast's own choice of path, tuned = the chosen path with its "
                    "tuned kernel",
           tune.gemv_rows, tune.k, transpose_rows, transpose_cols);
  free(rows);
  exit_code = failures ? 1 : 0;

done:
  clb_platform_list_destroy(&all);
  return exit_code;
}

int clb_cmd_tune_config(int argc, char **argv) {
  return clb_tune_child_main(argc, argv, stdout);
}

int clb_cmd_tune_shapes(int argc, char **argv) {
  return clb_tune_shapes_main(argc, argv, stdout);
}
