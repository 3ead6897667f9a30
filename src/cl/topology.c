#include "cl/topology.h"

#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct clb_topology {
  hwloc_topology_t hw;
};

int clb_topology_create(struct clb_topology **out, const char *synthetic, struct clb_error *err) {
  *out = NULL;
  struct clb_topology *topology = calloc(1, sizeof *topology);
  if (!topology)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory loading the topology");
  if (hwloc_topology_init(&topology->hw) != 0) {
    free(topology);
    return clb_failf(err, CLB_E_IO, "hwloc_topology_init failed");
  }
  if (synthetic) {
    if (hwloc_topology_set_synthetic(topology->hw, synthetic) != 0) {
      hwloc_topology_destroy(topology->hw);
      free(topology);
      return clb_failf(err, CLB_E_INVAL, "hwloc rejected the synthetic topology '%s'",
                       synthetic);
    }
  } else {
    /* PCI objects are filtered out by default; GPU locality needs them. */
    hwloc_topology_set_io_types_filter(topology->hw, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  }
  if (hwloc_topology_load(topology->hw) != 0) {
    hwloc_topology_destroy(topology->hw);
    free(topology);
    return clb_failf(err, CLB_E_IO, "hwloc_topology_load failed");
  }
  *out = topology;
  return 0;
}

void clb_topology_destroy(struct clb_topology *topology) {
  if (!topology)
    return;
  hwloc_topology_destroy(topology->hw);
  free(topology);
}

static uint64_t first_cache_size(hwloc_topology_t hw, hwloc_obj_type_t type) {
  hwloc_obj_t cache = hwloc_get_obj_by_type(hw, type, 0);
  return cache && cache->attr ? cache->attr->cache.size : 0;
}

void clb_host_name(char *buf, size_t size) {
  if (size == 0)
    return;
  memset(buf, 0, size);
  if (gethostname(buf, size - 1) != 0)
    snprintf(buf, size, "unknown");
}

void clb_topology_host_info(struct clb_topology *topology, struct clb_host_info *info) {
  hwloc_topology_t hw = topology->hw;
  memset(info, 0, sizeof *info);
  clb_host_name(info->hostname, sizeof info->hostname);
  info->packages = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PACKAGE);
  info->cores = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_CORE);
  info->pus = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_PU);
  info->numa_nodes = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_NUMANODE);
  hwloc_obj_t root = hwloc_get_root_obj(hw);
  info->memory_bytes = root->total_memory;
  info->l1d_bytes = first_cache_size(hw, HWLOC_OBJ_L1CACHE);
  info->l2_bytes = first_cache_size(hw, HWLOC_OBJ_L2CACHE);
  info->l3_bytes = first_cache_size(hw, HWLOC_OBJ_L3CACHE);
  const char *model = NULL;
  hwloc_obj_t package = hwloc_get_obj_by_type(hw, HWLOC_OBJ_PACKAGE, 0);
  if (package)
    model = hwloc_obj_get_info_by_name(package, "CPUModel");
  if (!model)
    model = hwloc_obj_get_info_by_name(root, "CPUModel");
  snprintf(info->cpu_model, sizeof info->cpu_model, "%s", model ? model : "unknown");
}

/* The nodeset of the closest non-I/O ancestor of a PCI device, or NULL. */
static hwloc_obj_t pci_locality(hwloc_topology_t hw, unsigned domain, unsigned bus,
                                unsigned device, unsigned function) {
  hwloc_obj_t pci = hwloc_get_pcidev_by_busid(hw, domain, bus, device, function);
  if (!pci)
    return NULL;
  return hwloc_get_non_io_ancestor_obj(hw, pci);
}

int clb_topology_numa_of_pci(struct clb_topology *topology, unsigned domain, unsigned bus,
                             unsigned device, unsigned function) {
  hwloc_obj_t ancestor = pci_locality(topology->hw, domain, bus, device, function);
  if (!ancestor || !ancestor->nodeset)
    return -1;
  if (hwloc_get_nbobjs_by_type(topology->hw, HWLOC_OBJ_NUMANODE) < 1)
    return -1;
  int node = hwloc_bitmap_first(ancestor->nodeset);
  /* An ancestor that spans every node (the machine) tells us nothing. */
  if (hwloc_bitmap_isequal(ancestor->nodeset, hwloc_get_root_obj(topology->hw)->nodeset) &&
      hwloc_get_nbobjs_by_type(topology->hw, HWLOC_OBJ_NUMANODE) > 1)
    return -1;
  return node;
}

int clb_topology_bind_near(struct clb_topology *topology, const struct clb_device_info *dev,
                           char *report, size_t report_size) {
  if (dev->type & CL_DEVICE_TYPE_CPU) {
    snprintf(report, report_size, "not bound: a CPU device uses every core");
    return 0;
  }
  if (!dev->has_pci_bus_id) {
    snprintf(report, report_size, "not bound: the device reports no PCI bus id");
    return 0;
  }
  hwloc_obj_t ancestor = pci_locality(topology->hw, dev->pci_domain, dev->pci_bus,
                                      dev->pci_device, dev->pci_function);
  if (!ancestor || !ancestor->cpuset) {
    snprintf(report, report_size, "not bound: hwloc does not see PCI device %s",
             dev->pci_bus_id);
    return 0;
  }
  if (hwloc_set_cpubind(topology->hw, ancestor->cpuset, HWLOC_CPUBIND_THREAD) != 0) {
    snprintf(report, report_size, "not bound: hwloc_set_cpubind failed");
    return 0;
  }
  char cpus[128];
  hwloc_bitmap_list_snprintf(cpus, sizeof cpus, ancestor->cpuset);
  snprintf(report, report_size, "bound to PUs %s near %s", cpus, dev->pci_bus_id);
  return 1;
}
