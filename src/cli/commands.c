#include "cli/commands.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cl/describe.h"
#include "cl/platform.h"
#include "cl/topology.h"

void clb_usage_error(const char *command, int opt, char **argv) {
  const char *option = optind > 0 ? argv[optind - 1] : "?";
  if (opt == ':')
    fprintf(stderr, "clbatch %s: option '%s' needs a value\n", command, option);
  else
    fprintf(stderr, "clbatch %s: unrecognized option '%s' (see `clbatch help %s`)\n", command,
            option, command);
}

void clb_cli_error(const char *command, const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "clbatch %s: ", command);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
}

int clb_cli_devices(const char *command, const char *spec, struct clb_device_list *out) {
  struct clb_error err = {0};
  if (clb_platform_list(out, &err) != 0) {
    clb_cli_error(command, "%s", err.message);
    return 1; /* no OpenCL here: the host's problem, not the input's */
  }
  int *selected = calloc(out->count, sizeof *selected);
  int code = 0;
  if (!selected) {
    clb_cli_error(command, "out of memory");
    code = 1;
  } else if (clb_platform_select(out, spec && *spec ? spec : "all", selected, &err) != 0) {
    clb_cli_error(command, "%s", err.message);
    code = 2;
  } else {
    clb_platform_keep_selected(out, selected);
  }
  free(selected);
  if (code != 0)
    clb_platform_list_destroy(out);
  return code;
}

void clb_help_devices(FILE *out) {
  fprintf(out, "Usage: clbatch devices [--json] [--device SPEC]\n"
               "\n"
               "Lists every OpenCL platform and device with the index P:D that --device\n"
               "accepts, and the host (CPU, caches, memory, NUMA, GPU locality via hwloc).\n"
               "\n"
               "  --json          print the same as JSON\n"
               "  --device SPEC   only these devices: all, cpu, gpu, P:D, pocl, intel,\n"
               "                  platform:NAME, ... (as in `clbatch help run`)\n");
}

int clb_cmd_devices(int argc, char **argv) {
  static const struct option options[] = {{"json", no_argument, NULL, 'j'},
                                          {"device", required_argument, NULL, 'd'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
  int as_json = 0;
  const char *spec = "all";
  int opt;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, ":", options, NULL)) != -1) {
    switch (opt) {
    case 'j':
      as_json = 1;
      break;
    case 'd':
      spec = optarg;
      break;
    case 'h':
      clb_help_devices(stdout);
      return 0;
    default:
      clb_usage_error("devices", opt, argv);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "clbatch devices: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }

  struct clb_error err = {0};
  struct clb_device_list chosen = {0};
  struct clb_topology *topology = NULL;
  int exit_code = clb_cli_devices("devices", spec, &chosen);
  if (exit_code != 0)
    return exit_code;
  exit_code = 1;

  if (clb_topology_create(&topology, NULL, &err) != 0)
    fprintf(stderr, "clbatch devices: warning: %s; host facts left out\n", err.message);
  struct clb_host_info host = {0};
  if (topology)
    clb_topology_host_info(topology, &host);

  if (as_json) {
    cJSON *root = clb_describe_all_json(&host, &chosen, topology);
    char *text = root ? cJSON_Print(root) : NULL;
    if (!text) {
      cJSON_Delete(root);
      fprintf(stderr, "clbatch devices: out of memory writing JSON\n");
      goto done;
    }
    printf("%s\n", text);
    free(text);
    cJSON_Delete(root);
  } else {
    clb_describe_text(stdout, &host, &chosen, topology);
  }
  exit_code = 0;

done:
  clb_topology_destroy(topology);
  clb_platform_list_destroy(&chosen);
  return exit_code;
}
