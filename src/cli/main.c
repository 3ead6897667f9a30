/* clbatch: the command-line front end. Only this file prints to the user and
 * decides exit codes; the modules return status codes and messages. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/describe.h"
#include "cl/kernels.h"
#include "cli/commands.h"

static int print_usage(FILE *out) {
  fprintf(out,
          "Usage: clbatch [--kernels DIR] COMMAND [OPTIONS]\n"
          "\n"
          "OpenCL cross-vendor benchmark of mini-batch gradient computation (CLBlast).\n"
          "\n"
          "Commands:\n"
          "  devices     list OpenCL platforms, devices and the host topology\n"
          "  run         benchmark gradient steps: device x model x precision x batch\n"
          "  peak        measure each device's bandwidth and FMA throughput (the roofline)\n"
          "  recommend   batch-size advice from saved run results\n"
          "  report      merge results CSVs into tables (Markdown, LaTeX, HTML) and plots\n"
          "  train       mini-batch SGD on one device: loss per epoch for each batch size\n"
          "  study       train to a target loss at each batch size; noise-scale prediction\n"
          "  tune        search CLBlast's GEMM and GEMV parameters per device, store the best\n"
          "  help        show this help, or `clbatch help COMMAND` for a command's options\n"
          "\n"
          "Global options:\n"
          "  --kernels DIR   load kernels/*.cl from DIR instead of the embedded copies\n"
          "  --version       print clbatch, CLBlast, hwloc and OpenCL loader versions\n"
          "  --help          this text\n");
  return 0;
}

static const struct clb_command commands[] = {
    {"devices", clb_cmd_devices, clb_help_devices},
    {"run", clb_cmd_run, clb_help_run},
    {"peak", clb_cmd_peak, clb_help_peak},
    {"recommend", clb_cmd_recommend, clb_help_recommend},
    {"report", clb_cmd_report, clb_help_report},
    {"train", clb_cmd_train, clb_help_train},
    {"study", clb_cmd_study, clb_help_study},
    {"tune", clb_cmd_tune, clb_help_tune},
    /* Internal: one device's measurements, started by `run` in a child process. */
    {"__worker", clb_cmd_worker, clb_help_run},
    /* Internal: one configuration of `tune`, in a child process. */
    {"__tune-config", clb_cmd_tune_config, clb_help_tune},
    /* Internal: the step's GEMMs on one GEMM path, for `tune`'s crossover. */
    {"__tune-shapes", clb_cmd_tune_shapes, clb_help_tune},
};

static const struct clb_command *find_command(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  int first = 1;
  while (first < argc && argv[first][0] == '-') {
    const char *arg = argv[first];
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
      char versions[256];
      clb_describe_versions(versions, sizeof versions);
      printf("%s\n", versions);
      return 0;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
      return print_usage(stdout);
    if (strcmp(arg, "--kernels") == 0 || strncmp(arg, "--kernels=", 10) == 0) {
      const char *dir = arg[9] == '=' ? arg + 10 : (first + 1 < argc ? argv[++first] : NULL);
      if (!dir || !*dir) {
        fprintf(stderr, "clbatch: --kernels needs a directory\n");
        return 2;
      }
      struct clb_error err = {0};
      if (clb_kernels_set_dir(dir, &err) != 0) {
        fprintf(stderr, "clbatch: %s\n", err.message);
        return 1;
      }
      first++;
      continue;
    }
    fprintf(stderr, "clbatch: unknown option '%s' (see clbatch --help)\n", arg);
    return 2;
  }
  if (first >= argc) {
    print_usage(stderr);
    return 2;
  }
  const char *name = argv[first];
  if (strcmp(name, "help") == 0) {
    if (first + 1 < argc) {
      const struct clb_command *command = find_command(argv[first + 1]);
      if (!command) {
        fprintf(stderr, "clbatch: unknown command '%s' (see clbatch --help)\n", argv[first + 1]);
        return 2;
      }
      command->help(stdout);
      return 0;
    }
    return print_usage(stdout);
  }
  const struct clb_command *command = find_command(name);
  if (!command) {
    fprintf(stderr, "clbatch: unknown command '%s' (see clbatch --help)\n", name);
    return 2;
  }
  /* Each command parses its own options with getopt_long from argv[0] = name. */
  optind = 1;
  return command->run(argc - first, argv + first);
}
