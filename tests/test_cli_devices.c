#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

Test(cli, devices_json_parses_back) {
  if (!clb_test_require_device())
    return;
  char *out = NULL;
  int code = clb_test_run_cli("devices --json", &out, NULL);
  cr_assert_eq(code, 0);
  cJSON *root = cJSON_Parse(out);
  cr_assert_not_null(root, "JSON did not parse: %s", out);
  cJSON *devices = cJSON_GetObjectItem(root, "devices");
  cr_assert(cJSON_IsArray(devices));
  cr_assert_geq(cJSON_GetArraySize(devices), 1);
  int found_cpu = 0;
  cJSON *dev;
  cJSON_ArrayForEach(dev, devices) {
    cr_expect(cJSON_IsString(cJSON_GetObjectItem(dev, "index")));
    cr_expect_gt(cJSON_GetObjectItem(dev, "compute_units")->valuedouble, 0);
    cr_expect(cJSON_IsBool(cJSON_GetObjectItem(dev, "fp64")));
    found_cpu |= strcmp(cJSON_GetObjectItem(dev, "type")->valuestring, "cpu") == 0;
  }
  cr_expect(found_cpu);
  cJSON *host = cJSON_GetObjectItem(root, "host");
  cr_expect_geq(cJSON_GetObjectItem(host, "cores")->valuedouble, 1);
  cJSON_Delete(root);
  free(out);
}

Test(cli, devices_text_lists_index_and_host) {
  if (!clb_test_require_device())
    return;
  char *out = NULL;
  cr_assert_eq(clb_test_run_cli("devices", &out, NULL), 0);
  cr_expect(strstr(out, "[0:0]") != NULL, "%s", out);
  cr_expect(strstr(out, "compute units") != NULL);
  cr_expect(strstr(out, "NUMA") != NULL);
  free(out);
}

Test(cli, version_names_all_components) {
  char *out = NULL;
  cr_assert_eq(clb_test_run_cli("--version", &out, NULL), 0);
  cr_expect(strstr(out, "clbatch") && strstr(out, "CLBlast") && strstr(out, "hwloc") &&
                strstr(out, "OpenCL"),
            "%s", out);
  free(out);
}

struct bad_cli_case {
  char args[64];
  char expect_in_stderr[64];
};

ParameterizedTestParameters(cli, bad_usage_exits_nonzero) {
  static struct bad_cli_case cases[] = {
      {"", "Usage"},
      {"frobnicate", "unknown command 'frobnicate'"},
      {"--bogus", "unknown option '--bogus'"},
      {"devices --bogus", "unrecognized option"},
      {"devices extra", "unexpected argument 'extra'"},
      {"devices --device no-such-device", "matches no device"},
      {"--kernels", "--kernels needs a directory"},
      {"help nosuch", "unknown command 'nosuch'"},
  };
  return cr_make_param_array(struct bad_cli_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct bad_cli_case *c, cli, bad_usage_exits_nonzero) {
  char *err = NULL;
  int code = clb_test_run_cli(c->args, NULL, &err);
  cr_expect_neq(code, 0, "'%s' exited 0", c->args);
  cr_expect_neq(code, -1, "'%s' crashed", c->args);
  cr_expect(strstr(err, c->expect_in_stderr) != NULL, "'%s' said: %s", c->args, err);
  free(err);
}

Test(cli, no_platform_explains_registration) {
  char *err = NULL;
  char args[256];
  char *empty = clb_test_tmpdir();
  snprintf(args, sizeof args, "devices");
  setenv("OCL_ICD_VENDORS", empty, 1);
  int code = clb_test_run_cli(args, NULL, &err);
  unsetenv("OCL_ICD_VENDORS");
  cr_expect_neq(code, 0);
  cr_expect(strstr(err, "No OpenCL platform found") != NULL, "%s", err);
  cr_expect(strstr(err, empty) != NULL, "should name the directory searched: %s", err);
  free(err);
  free(empty);
}
