/* The subcommands of the CLI. Each returns the process exit code:
 * 0 success, 1 a failure while running, 2 bad usage or input. */
#ifndef CLB_CLI_COMMANDS_H
#define CLB_CLI_COMMANDS_H

#include <stdio.h>

#include "cl/platform.h"

struct clb_command {
  const char *name;
  int (*run)(int argc, char **argv);
  void (*help)(FILE *out);
};

/* One line for a usage error that getopt_long (called with opterr = 0 and an
 * optstring starting with ':') returned as ':' (missing value) or '?'. */
void clb_usage_error(const char *command, int opt, char **argv);

/* The devices `spec` selects ("all" when NULL or empty): 0, or the exit code
 * after one line on stderr (1: no OpenCL here, 2: the spec matches nothing). */
int clb_cli_devices(const char *command, const char *spec, struct clb_device_list *out);

/* One line on stderr: "clbatch COMMAND: " and the message. */
void clb_cli_error(const char *command, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

int clb_cmd_devices(int argc, char **argv);
void clb_help_devices(FILE *out);
int clb_cmd_report(int argc, char **argv); void clb_help_report(FILE *out);
int clb_cmd_train(int argc, char **argv);
void clb_help_train(FILE *out);
/* `train` (study 0), `train --validate-noise` (1) and `study` (2) share one
 * front end in cmd_train.c. */
int clb_cmd_study(int argc, char **argv);
void clb_help_study(FILE *out);

int clb_cmd_run(int argc, char **argv);
void clb_help_run(FILE *out);
int clb_cmd_worker(int argc, char **argv);
int clb_cmd_peak(int argc, char **argv);
void clb_help_peak(FILE *out);
int clb_cmd_recommend(int argc, char **argv);
void clb_help_recommend(FILE *out);

int clb_cmd_tune(int argc, char **argv);
int clb_cmd_tune_config(int argc, char **argv);
int clb_cmd_tune_shapes(int argc, char **argv);
void clb_help_tune(FILE *out);

#endif
