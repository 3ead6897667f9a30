/* `clbatch report`: the command-line side of src/report/report.c. It parses options,
 * prints the library's notes and picks the exit code. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "report/report.h"

void clb_help_report(FILE *out) {
  fprintf(out,
          "Usage: clbatch report RESULTS.csv... [--out DIR] [--train TRAIN.csv]...\n"
          "\n"
          "Merges results CSVs from any number of runs and hosts and writes into DIR\n"
          "(default report/): merged.csv, report.md, report.tex (booktabs), report.html\n"
          "(self-contained, plots inline) and gnuplot plots as PNG and SVG.\n"
          "Rows of one configuration (host, device, model, precision, batch, data\n"
          "placement) from several runs or `run --repeat` repeats: the tables show the\n"
          "newest row of the highest repeat, and \"Agreement between runs\" compares them\n"
          "all (median ratios; whether each run's 95%% interval covers the other's\n"
          "median). Rows with the same repeat too are duplicates: the newest is kept.\n"
          "A run's FILE.recommend.csv among the inputs (say, from a *.csv glob) is\n"
          "skipped with a note.\n"
          "\n"
          "  --out DIR         output folder (created if missing)\n"
          "  --train FILE      a `clbatch train` CSV: adds loss-vs-epoch and\n"
          "                    loss-vs-wall-time plots (repeatable)\n"
          "  --study FILE      a `clbatch study` CSV: adds validation loss, sharpness and\n"
          "                    updates-to-target (with the noise-scale prediction) vs\n"
          "                    batch plots (repeatable; alone, no RESULTS.csv needed)\n"
          "  --gnuplot CMD     gnuplot command to use (default gnuplot)\n"
          "  --quiet           print only warnings and errors\n");
}

struct notes {
  int quiet;
};

static void print_note(void *context, const char *line) {
  const struct notes *notes = context;
  /* Files written are chatter; duplicates, warnings and skipped plots are not. */
  if (notes->quiet && strncmp(line, "wrote ", 6) == 0)
    return;
  printf("%s\n", line);
}

int clb_cmd_report(int argc, char **argv) {
  static const struct option options[] = {{"out", required_argument, NULL, 'o'},
                                          {"train", required_argument, NULL, 't'},
                                          {"gnuplot", required_argument, NULL, 'g'},
                                          {"study", required_argument, NULL, 's'},
                                          {"quiet", no_argument, NULL, 'q'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  const char **train = NULL, **study = NULL;
  size_t n_train = 0, n_study = 0;
  struct notes notes = {0};
  struct clb_report_options opt = {0};
  int exit_code = 2;
  int opt_char;
  train = calloc((size_t)argc + 1, sizeof *train);
  study = calloc((size_t)argc + 1, sizeof *study);
  if (!train || !study) {
    free(train);
    free(study);
    fprintf(stderr, "clbatch report: out of memory\n");
    return 1;
  }
  opterr = 0;
  while ((opt_char = getopt_long(argc, argv, ":", options, NULL)) != -1) {
    switch (opt_char) {
    case 'o':
      opt.out_dir = optarg;
      break;
    case 't':
      train[n_train++] = optarg;
      break;
    case 'g':
      opt.gnuplot = optarg;
      break;
    case 's':
      study[n_study++] = optarg;
      break;
    case 'q':
      notes.quiet = 1;
      break;
    case 'h':
      clb_help_report(stdout);
      exit_code = 0;
      goto done;
    default:
      clb_usage_error("report", opt_char, argv);
      goto done;
    }
  }
  if (optind >= argc && n_study > 0) {
    /* Only study tables: their plots, nothing else. */
    struct clb_error err = {0};
    struct clb_report_summary summary = {0};
    if (clb_report_study(study, n_study, opt.out_dir, opt.gnuplot, print_note, &notes, &summary,
                         &err) != 0) {
      fprintf(stderr, "clbatch report: %s\n", err.message);
      exit_code = summary.bad_input ? 2 : 1;
      goto done;
    }
    printf("report: %zu study table(s), %zu plot(s) in %s/\n", n_study, summary.plots_written,
           opt.out_dir ? opt.out_dir : "report");
    exit_code = 0;
    goto done;
  }
  if (optind >= argc) {
    fprintf(stderr, "clbatch report: no results files given (usage: clbatch report "
                    "RESULTS.csv... [--out DIR])\n");
    goto done;
  }
  opt.inputs = (const char *const *)(argv + optind);
  opt.n_inputs = (size_t)(argc - optind);
  opt.train = train;
  opt.n_train = n_train;
  opt.note = print_note;
  opt.note_context = &notes;

  struct clb_error err = {0};
  struct clb_report_summary summary = {0};
  if (clb_report_run(&opt, &summary, &err) != 0) {
    fprintf(stderr, "clbatch report: %s\n", err.message);
    exit_code = summary.bad_input ? 2 : 1;
    goto done;
  }
  if (n_study > 0) {
    struct clb_report_summary study_summary = {0};
    if (clb_report_study(study, n_study, opt.out_dir, opt.gnuplot, print_note, &notes,
                         &study_summary, &err) != 0) {
      fprintf(stderr, "clbatch report: %s\n", err.message);
      exit_code = study_summary.bad_input ? 2 : 1;
      goto done;
    }
    summary.plots_written += study_summary.plots_written;
  }
  printf("report: %zu rows from %zu file(s)", summary.rows_merged,
         opt.n_inputs - summary.inputs_skipped);
  if (summary.inputs_skipped)
    printf(CLB_REPORT_SKIPPED_FORMAT, summary.inputs_skipped);
  printf(", %zu duplicate(s) dropped, %zu plot(s) in %s/\n", summary.duplicates,
         summary.plots_written, opt.out_dir ? opt.out_dir : "report");
  exit_code = 0;

done:
  free(study);
  free(train);
  return exit_code;
}
