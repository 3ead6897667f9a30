/* The subcommands of the CLI. Each returns the process exit code:
 * 0 success, 1 a failure while running, 2 bad usage or input. */
#ifndef CLB_COMMANDS_H
#define CLB_COMMANDS_H

#include <stdio.h>

struct clb_command {
  const char *name;
  int (*run)(int argc, char **argv);
  void (*help)(FILE *out);
};

int clb_cmd_devices(int argc, char **argv);
void clb_help_devices(FILE *out);

int clb_cmd_tune(int argc, char **argv);
void clb_help_tune(FILE *out);

#endif
