#include "cl/describe.h"

#include <clblast_c.h>
#include <hwloc.h>
#include <string.h>

#define CLB_STR_(x) #x
#define CLB_STR(x) CLB_STR_(x)

const char *clb_describe_clblast_version(void) {
  return CLB_STR(CLBLAST_VERSION_MAJOR) "." CLB_STR(CLBLAST_VERSION_MINOR) "." CLB_STR(
      CLBLAST_VERSION_PATCH);
}

int clb_describe_numa_node(struct clb_topology *topology, const struct clb_device_info *dev) {
  if (!topology || !dev->has_pci_bus_id)
    return -1;
  return clb_topology_numa_of_pci(topology, dev->pci_domain, dev->pci_bus, dev->pci_device,
                                  dev->pci_function);
}

static double mib(unsigned long long bytes) { return (double)bytes / (1024.0 * 1024.0); }

void clb_describe_text(FILE *out, const struct clb_host_info *host,
                       const struct clb_device_list *devices, struct clb_topology *topology) {
  fprintf(out, "Host %s\n", host->hostname);
  fprintf(out, "  CPU        %s\n", host->cpu_model);
  fprintf(out, "  topology   %d package(s), %d core(s), %d PU(s), %d NUMA node(s)\n",
          host->packages, host->cores, host->pus, host->numa_nodes);
  fprintf(out, "  caches     L1d %.0f KiB, L2 %.0f KiB, L3 %.1f MiB\n",
          (double)host->l1d_bytes / 1024.0, (double)host->l2_bytes / 1024.0,
          mib(host->l3_bytes));
  fprintf(out, "  memory     %.1f GiB\n", mib(host->memory_bytes) / 1024.0);
  int last_platform = -1;
  for (size_t i = 0; i < devices->count; i++) {
    const struct clb_device_info *dev = &devices->items[i];
    if (dev->platform_index != last_platform) {
      fprintf(out, "\nPlatform %d: %s (%s), %s\n", dev->platform_index, dev->platform_name,
              dev->platform_vendor, dev->platform_version);
      last_platform = dev->platform_index;
    }
    int numa = clb_describe_numa_node(topology, dev);
    fprintf(out, "  [%d:%d] %s\n", dev->platform_index, dev->device_index, dev->name);
    fprintf(out, "        vendor %s, type %s, driver %s\n", dev->vendor,
            clb_device_type_name(dev->type), dev->driver_version);
    fprintf(out, "        %s, %s\n", dev->device_version, dev->opencl_c_version);
    if (dev->clock_mhz)
      fprintf(out, "        %u compute units at %u MHz\n", dev->compute_units, dev->clock_mhz);
    else
      fprintf(out, "        %u compute units, clock unknown (the driver reports 0 MHz)\n",
              dev->compute_units);
    fprintf(out, "        global memory %.0f MiB, local %.0f KiB, max allocation %.0f MiB\n",
            mib(dev->global_mem_bytes), (double)dev->local_mem_bytes / 1024.0,
            mib(dev->max_alloc_bytes));
    fprintf(out, "        fp64 %s, fp16 %s, max work-group %zu\n", dev->has_fp64 ? "yes" : "no",
            dev->has_fp16 ? "yes" : "no", dev->max_work_group_size);
    if (dev->has_pci_bus_id)
      fprintf(out, "        PCI %s, NUMA node %s%d\n", dev->pci_bus_id, numa < 0 ? "unknown " : "",
              numa);
    else
      fprintf(out, "        PCI bus id not reported\n");
  }
}

cJSON *clb_describe_host_json(const struct clb_host_info *host) {
  cJSON *obj = cJSON_CreateObject();
  if (!obj)
    return NULL;
  cJSON_AddStringToObject(obj, "hostname", host->hostname);
  cJSON_AddStringToObject(obj, "cpu_model", host->cpu_model);
  cJSON_AddNumberToObject(obj, "packages", host->packages);
  cJSON_AddNumberToObject(obj, "cores", host->cores);
  cJSON_AddNumberToObject(obj, "pus", host->pus);
  cJSON_AddNumberToObject(obj, "numa_nodes", host->numa_nodes);
  cJSON_AddNumberToObject(obj, "memory_bytes", (double)host->memory_bytes);
  cJSON_AddNumberToObject(obj, "l1d_bytes", (double)host->l1d_bytes);
  cJSON_AddNumberToObject(obj, "l2_bytes", (double)host->l2_bytes);
  cJSON_AddNumberToObject(obj, "l3_bytes", (double)host->l3_bytes);
  return obj;
}

cJSON *clb_describe_device_json(const struct clb_device_info *dev, int numa_node) {
  cJSON *obj = cJSON_CreateObject();
  if (!obj)
    return NULL;
  char index[32];
  clb_device_id_string(dev, index, sizeof index);
  cJSON_AddStringToObject(obj, "index", index);
  cJSON_AddNumberToObject(obj, "platform_index", dev->platform_index);
  cJSON_AddNumberToObject(obj, "device_index", dev->device_index);
  cJSON_AddStringToObject(obj, "platform", dev->platform_name);
  cJSON_AddStringToObject(obj, "platform_vendor", dev->platform_vendor);
  cJSON_AddStringToObject(obj, "platform_version", dev->platform_version);
  cJSON_AddStringToObject(obj, "name", dev->name);
  cJSON_AddStringToObject(obj, "vendor", dev->vendor);
  cJSON_AddStringToObject(obj, "type", clb_device_type_name(dev->type));
  cJSON_AddStringToObject(obj, "driver_version", dev->driver_version);
  cJSON_AddStringToObject(obj, "device_version", dev->device_version);
  cJSON_AddStringToObject(obj, "opencl_c_version", dev->opencl_c_version);
  cJSON_AddNumberToObject(obj, "compute_units", dev->compute_units);
  if (dev->clock_mhz)
    cJSON_AddNumberToObject(obj, "clock_mhz", dev->clock_mhz);
  else
    cJSON_AddNullToObject(obj, "clock_mhz");
  cJSON_AddNumberToObject(obj, "global_mem_bytes", (double)dev->global_mem_bytes);
  cJSON_AddNumberToObject(obj, "local_mem_bytes", (double)dev->local_mem_bytes);
  cJSON_AddNumberToObject(obj, "max_alloc_bytes", (double)dev->max_alloc_bytes);
  cJSON_AddNumberToObject(obj, "max_work_group_size", (double)dev->max_work_group_size);
  cJSON_AddBoolToObject(obj, "fp64", dev->has_fp64);
  cJSON_AddBoolToObject(obj, "fp16", dev->has_fp16);
  if (dev->has_pci_bus_id)
    cJSON_AddStringToObject(obj, "pci_bus_id", dev->pci_bus_id);
  else
    cJSON_AddNullToObject(obj, "pci_bus_id");
  if (numa_node >= 0)
    cJSON_AddNumberToObject(obj, "numa_node", numa_node);
  else
    cJSON_AddNullToObject(obj, "numa_node");
  return obj;
}

cJSON *clb_describe_all_json(const struct clb_host_info *host,
                             const struct clb_device_list *devices,
                             struct clb_topology *topology) {
  cJSON *root = cJSON_CreateObject();
  cJSON *array = cJSON_CreateArray();
  cJSON *host_obj = clb_describe_host_json(host);
  if (!root || !array || !host_obj) {
    cJSON_Delete(root);
    cJSON_Delete(array);
    cJSON_Delete(host_obj);
    return NULL;
  }
  char versions[256];
  clb_describe_versions(versions, sizeof versions);
  cJSON_AddStringToObject(root, "clbatch_version", CLBATCH_VERSION);
  cJSON_AddStringToObject(root, "versions", versions);
  cJSON_AddItemToObject(root, "host", host_obj);
  cJSON_AddItemToObject(root, "devices", array);
  for (size_t i = 0; i < devices->count; i++) {
    const struct clb_device_info *dev = &devices->items[i];
    cJSON *item = clb_describe_device_json(dev, clb_describe_numa_node(topology, dev));
    if (item)
      cJSON_AddItemToArray(array, item);
  }
  return root;
}

/* ocl-icd answers this extension query without any platform. */
#define CLB_ICDL_VERSION 2
#define CLB_ICDL_NAME 3
typedef cl_int (*icd_loader_info_fn)(cl_uint, size_t, void *, size_t *);

void clb_describe_versions(char *buf, size_t size) {
  char loader[128] = "unknown";
  /* ISO C has no object-to-function pointer cast: go through uintptr_t. */
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  icd_loader_info_fn info = (icd_loader_info_fn)(uintptr_t)clGetExtensionFunctionAddress(
      "clGetICDLoaderInfoOCLICD");
  if (info) {
    char name[64] = "", version[64] = "";
    if (info(CLB_ICDL_NAME, sizeof name, name, NULL) == CL_SUCCESS &&
        info(CLB_ICDL_VERSION, sizeof version, version, NULL) == CL_SUCCESS)
      snprintf(loader, sizeof loader, "%s %s", name, version);
  }
  snprintf(buf, size, "clbatch %s, CLBlast %s, hwloc %s, OpenCL ICD loader %s", CLBATCH_VERSION,
           clb_describe_clblast_version(), HWLOC_VERSION, loader);
}
