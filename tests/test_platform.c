#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "platform.h"
#include "topology.h"

static struct clb_device_info fake[3];
static struct clb_device_list fake_list = {3, fake};

static void make_fake_devices(void) {
  memset(fake, 0, sizeof fake);
  fake[0] = (struct clb_device_info){.platform_index = 0, .device_index = 0,
                                     .type = CL_DEVICE_TYPE_CPU};
  strcpy(fake[0].name, "pthread-skylake-avx512-AMD EPYC");
  strcpy(fake[0].platform_name, "Portable Computing Language");
  fake[1] = (struct clb_device_info){.platform_index = 1, .device_index = 0,
                                     .type = CL_DEVICE_TYPE_GPU};
  strcpy(fake[1].name, "NVIDIA H100 80GB HBM3");
  strcpy(fake[1].platform_name, "NVIDIA CUDA");
  fake[2] = (struct clb_device_info){.platform_index = 1, .device_index = 1,
                                     .type = CL_DEVICE_TYPE_GPU};
  strcpy(fake[2].name, "NVIDIA A100-SXM4-40GB");
  strcpy(fake[2].platform_name, "NVIDIA CUDA");
}

TestSuite(selection, .init = make_fake_devices);

static int selected_mask(const char *spec, int *rc_out) {
  int selected[3];
  struct clb_error err = {0};
  *rc_out = clb_platform_select(&fake_list, spec, selected, &err);
  return selected[0] | selected[1] << 1 | selected[2] << 2;
}

struct selection_case {
  char spec[32];
  int expect_rc;
  int expect_mask;
};

ParameterizedTestParameters(selection, accepts_and_rejects) {
  static struct selection_case cases[] = {
      {"all", 0, 7},         {"cpu", 0, 1},          {"gpu", 0, 6},
      {"1:0", 0, 2},         {"0:0,1:1", 0, 5},      {"h100", 0, 2},
      {"NVIDIA", 0, 6},      {"epyc, a100", 0, 5},   {"cuda", 0, 6},
      {"2:0", CLB_E_NO_DEVICE, 0}, {"radeon", CLB_E_NO_DEVICE, 0}, {"", CLB_E_INVAL, 0},
      {",", CLB_E_INVAL, 0}, {"cpu,,gpu", 0, 7},     {"1:x", CLB_E_NO_DEVICE, 0},
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
  int selected[3];
  struct clb_error err = {0};
  cr_assert_eq(clb_platform_select(&fake_list, "radeon", selected, &err), CLB_E_NO_DEVICE);
  cr_expect(strstr(err.message, "radeon") != NULL);
  cr_expect(strstr(err.message, "1:0 NVIDIA H100") != NULL, "%s", err.message);
  cr_expect(strstr(err.message, "0:0 pthread") != NULL, "%s", err.message);
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
  cr_assert_eq(clb_cl_open(cpu, &cl, &err), 0, "%s", err.message);
  clb_cl_close(&cl);
  clb_platform_list_free(&list);
}

Test(topology, synthetic_host_counts) {
  struct clb_topology *topology = NULL;
  struct clb_error err = {0};
  cr_assert_eq(clb_topology_open(&topology, "pack:2 numa:2 core:4 pu:2", &err), 0, "%s",
               err.message);
  struct clb_host_info host;
  clb_topology_host_info(topology, &host);
  cr_expect_eq(host.packages, 2);
  cr_expect_eq(host.numa_nodes, 4);
  cr_expect_eq(host.cores, 16);
  cr_expect_eq(host.pus, 32);
  /* No PCI devices in a synthetic host: locality is unknown, not a crash. */
  cr_expect_eq(clb_topology_numa_of_pci(topology, 0, 0x65, 0, 0), -1);
  clb_topology_close(topology);
}

Test(topology, real_host_has_cores) {
  struct clb_topology *topology = NULL;
  struct clb_error err = {0};
  cr_assert_eq(clb_topology_open(&topology, NULL, &err), 0, "%s", err.message);
  struct clb_host_info host;
  clb_topology_host_info(topology, &host);
  cr_expect_geq(host.cores, 1);
  cr_expect_geq(host.pus, host.cores);
  cr_expect_gt(host.memory_bytes, 0);
  clb_topology_close(topology);
}

Test(topology, diagnose_mentions_registration) {
  char why[1024];
  clb_platform_diagnose(why, sizeof why);
  cr_expect(strstr(why, "No OpenCL platform found") != NULL, "%s", why);
  cr_expect(strstr(why, "OCL_ICD_VENDORS") != NULL || strstr(why, "install") != NULL, "%s",
            why);
}
