#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cl/context.h"
#include "cl/describe.h"
#include "cl/platform.h"
#include "cl/topology.h"
#include "helpers.h"

#define FAKE_COUNT 5
static struct clb_device_info fake[FAKE_COUNT];
static struct clb_device_list fake_list = {FAKE_COUNT, fake};

static void fake_device(int i, int platform, int device, cl_device_type type, const char *name,
                        const char *vendor, const char *platform_name,
                        const char *platform_vendor) {
  fake[i] = (struct clb_device_info){
      .platform_index = platform, .device_index = device, .type = type};
  strcpy(fake[i].name, name);
  strcpy(fake[i].vendor, vendor);
  strcpy(fake[i].platform_name, platform_name);
  strcpy(fake[i].platform_vendor, platform_vendor);
}

/* Names and vendors as the drivers report them. Device 4 is PoCL on an Intel
 * host: its name says Intel although its platform is PoCL. */
static void make_fake_devices(void) {
  memset(fake, 0, sizeof fake);
  fake_device(0, 0, 0, CL_DEVICE_TYPE_CPU, "pthread-skylake-avx512-AMD EPYC", "AuthenticAMD",
              "Portable Computing Language", "The pocl project");
  fake_device(1, 1, 0, CL_DEVICE_TYPE_GPU, "NVIDIA H100 80GB HBM3", "NVIDIA Corporation",
              "NVIDIA CUDA", "NVIDIA Corporation");
  fake_device(2, 1, 1, CL_DEVICE_TYPE_GPU, "NVIDIA A100-SXM4-40GB", "NVIDIA Corporation",
              "NVIDIA CUDA", "NVIDIA Corporation");
  fake_device(3, 2, 0, CL_DEVICE_TYPE_CPU, "AMD EPYC", "Intel(R) Corporation",
              "Intel(R) OpenCL", "Intel(R) Corporation");
  fake_device(4, 3, 0, CL_DEVICE_TYPE_CPU, "pthread-Intel(R) Xeon(R) Gold 6338", "GenuineIntel",
              "Portable Computing Language", "The pocl project");
}

TestSuite(selection, .init = make_fake_devices);

static int selected_mask(const char *spec, int *rc_out) {
  int selected[FAKE_COUNT];
  struct clb_error err = {0};
  *rc_out = clb_platform_select(&fake_list, spec, selected, &err);
  int mask = 0;
  for (int i = 0; i < FAKE_COUNT; i++)
    mask |= selected[i] << i;
  return mask;
}

struct selection_case {
  char spec[32];
  int expect_rc;
  int expect_mask;
};

ParameterizedTestParameters(selection, accepts_and_rejects) {
  static struct selection_case cases[] = {
      {"all", 0, 31},        {"cpu", 0, 25},         {"gpu", 0, 6},
      {"1:0", 0, 2},         {"0:0,1:1", 0, 5},      {"h100", 0, 2},
      {"NVIDIA", 0, 6},      {"epyc, a100", 0, 13},  {"cuda", 0, 6},
      {"4:0", CLB_E_NO_DEVICE, 0}, {"radeon", CLB_E_NO_DEVICE, 0}, {"", CLB_E_INVAL, 0},
      {",", CLB_E_INVAL, 0}, {"cpu,,gpu", 0, 31},    {"1:x", CLB_E_NO_DEVICE, 0},
      /* Platform and vendor names. */
      {"pocl", 0, 17},       {"POCL", 0, 17},        {"intel", 0, 24},
      {"platform:intel", 0, 8}, {"platform:pocl", 0, 17}, {"platform:cuda", 0, 6},
      {"amd", 0, 9},         {"genuineintel", 0, 16}, {"platform:intel,h100", 0, 10},
      {"platform:", CLB_E_NO_DEVICE, 0}, {"platform:xeon", CLB_E_NO_DEVICE, 0},
  };
  return cr_make_param_array(struct selection_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct selection_case *c, selection, accepts_and_rejects) {
  int rc = 0;
  int mask = selected_mask(c->spec, &rc);
  cr_expect_eq(rc, c->expect_rc, "spec '%s': rc %d", c->spec, rc);
  if (c->expect_rc == 0)
    cr_expect_eq(mask, c->expect_mask, "spec '%s': mask %d", c->spec, mask);
}

Test(selection, no_match_lists_devices) {
  int selected[FAKE_COUNT];
  struct clb_error err = {0};
  cr_assert_eq(clb_platform_select(&fake_list, "radeon", selected, &err), CLB_E_NO_DEVICE);
  cr_expect(strstr(err.message, "radeon") != NULL);
  cr_expect(strstr(err.message, "1:0 NVIDIA H100") != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "0:0 pthread") != NULL, "%s", err.message);
}

/* Intel's CPU runtime reports a clock of 0 MHz: a fact ("unknown"), not a number. */
Test(selection, a_zero_clock_is_described_as_unknown) {
  fake[0].clock_mhz = 2596;
  fake[3].clock_mhz = 0;
  struct clb_topology *topology = NULL;
  struct clb_error err = {0};
  cr_assert_eq(clb_topology_create(&topology, "pack:1 core:2 pu:1", &err), 0, "%s", err.message);
  struct clb_host_info host;
  clb_topology_host_info(topology, &host);
  char *text = NULL;
  size_t size = 0;
  FILE *out = open_memstream(&text, &size);
  clb_describe_text(out, &host, &fake_list, topology);
  fclose(out);
  cr_expect(strstr(text, "at 2596 MHz") != NULL, "%s", text);
  cr_expect(strstr(text, "clock unknown") != NULL, "%s", text);
  cr_expect(strstr(text, "at 0 MHz") == NULL, "%s", text);
  free(text);
  for (int i = 0; i < 4; i += 3) {
    cJSON *json = clb_describe_device_json(&fake[i], -1);
    cJSON *clock = cJSON_GetObjectItem(json, "clock_mhz");
    cr_assert_not_null(clock);
    if (fake[i].clock_mhz)
      cr_expect_eq(clock->valuedouble, 2596.0);
    else
      cr_expect(cJSON_IsNull(clock), "0 MHz must be null in JSON");
    cJSON_Delete(json);
  }
  clb_topology_destroy(topology);
}

Test(devices, pocl_cpu_reports_sane_facts) {
  struct clb_device_list list = {0};
  const struct clb_device_info *cpu = NULL;
  if (!clb_test_device(&list, &cpu))
    return;
  cr_expect_gt(cpu->compute_units, 0);
  cr_expect_gt(cpu->global_mem_bytes, 64ull << 20);
  cr_expect_gt(cpu->max_alloc_bytes, 0);
  cr_expect_leq(cpu->max_alloc_bytes, cpu->global_mem_bytes);
  cr_expect_gt(cpu->local_mem_bytes, 0);
  cr_expect_gt(cpu->max_work_group_size, 0);
  cr_expect_gt(strlen(cpu->name), 0);
  cr_expect(strstr(cpu->opencl_c_version, "OpenCL C") != NULL, "%s", cpu->opencl_c_version);
  cr_expect_str_eq(clb_device_type_name(cpu->type), "cpu");
  struct clb_cl cl = {0};
  struct clb_error err = {0};
  cr_assert_eq(clb_cl_create(cpu, &cl, &err), 0, "%s", err.message);
  clb_cl_destroy(&cl);
  clb_platform_list_destroy(&list);
}

Test(topology, synthetic_host_counts) {
  struct clb_topology *topology = NULL;
  struct clb_error err = {0};
  cr_assert_eq(clb_topology_create(&topology, "pack:2 numa:2 core:4 pu:2", &err), 0, "%s",
               err.message);
  struct clb_host_info host;
  clb_topology_host_info(topology, &host);
  cr_expect_eq(host.packages, 2);
  cr_expect_eq(host.numa_nodes, 4);
  cr_expect_eq(host.cores, 16);
  cr_expect_eq(host.pus, 32);
  /* No PCI devices in a synthetic host: locality is unknown, not a crash. */
  cr_expect_eq(clb_topology_numa_of_pci(topology, 0, 0x65, 0, 0), -1);
  clb_topology_destroy(topology);
}

Test(topology, real_host_has_cores) {
  struct clb_topology *topology = NULL;
  struct clb_error err = {0};
  cr_assert_eq(clb_topology_create(&topology, NULL, &err), 0, "%s", err.message);
  struct clb_host_info host;
  clb_topology_host_info(topology, &host);
  cr_expect_geq(host.cores, 1);
  cr_expect_geq(host.pus, host.cores);
  cr_expect_gt(host.memory_bytes, 0);
  clb_topology_destroy(topology);
}

Test(topology, diagnose_mentions_registration) {
  char why[1024];
  clb_platform_diagnose(why, sizeof why);
  cr_expect(strstr(why, "No OpenCL platform found") != NULL, "%s", why);
  cr_expect(strstr(why, "OCL_ICD_VENDORS") != NULL || strstr(why, "install") != NULL, "%s",
            why);
}
