#include "cl/platform.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

/* Vendor queries for the PCI location, defined here because not every
 * OpenCL header ships them. */
#ifndef CL_DEVICE_PCI_BUS_INFO_KHR
#define CL_DEVICE_PCI_BUS_INFO_KHR 0x410F
typedef struct {
  cl_uint pci_domain;
  cl_uint pci_bus;
  cl_uint pci_device;
  cl_uint pci_function;
} cl_device_pci_bus_info_khr;
#endif
#define CLB_DEVICE_PCI_BUS_ID_NV 0x4008
#define CLB_DEVICE_PCI_SLOT_ID_NV 0x4009
#define CLB_DEVICE_PCI_DOMAIN_ID_NV 0x400A
#define CLB_DEVICE_TOPOLOGY_AMD 0x4037
#define CLB_DEVICE_GLOBAL_FREE_MEMORY_AMD 0x4039
#define CLB_DEVICE_TOPOLOGY_TYPE_PCIE_AMD 1
typedef union {
  struct {
    cl_uint type;
    cl_uint data[5];
  } raw;
  struct {
    cl_uint type;
    cl_char unused[17];
    cl_char bus;
    cl_char device;
    cl_char function;
  } pcie;
} clb_device_topology_amd;

static void copy_string_info(cl_device_id device, cl_device_info param, char *buf, size_t size) {
  buf[0] = '\0';
  if (clGetDeviceInfo(device, param, size, buf, NULL) != CL_SUCCESS)
    snprintf(buf, size, "unknown");
  buf[size - 1] = '\0';
  /* Some drivers pad names with spaces. */
  size_t len = strlen(buf);
  while (len > 0 && isspace((unsigned char)buf[len - 1]))
    buf[--len] = '\0';
}

static int has_extension(cl_device_id device, const char *extension) {
  size_t size = 0;
  if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS || size == 0)
    return 0;
  char *extensions = malloc(size + 1);
  if (!extensions)
    return 0;
  int found = 0;
  if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, size, extensions, NULL) == CL_SUCCESS) {
    extensions[size] = '\0';
    size_t ext_len = strlen(extension);
    for (const char *p = strstr(extensions, extension); p; p = strstr(p + 1, extension)) {
      int starts = p == extensions || p[-1] == ' ';
      int ends = p[ext_len] == '\0' || p[ext_len] == ' ';
      if (starts && ends) {
        found = 1;
        break;
      }
    }
  }
  free(extensions);
  return found;
}

static void query_pci_bus_id(struct clb_device_info *dev) {
  cl_device_id device = dev->device;
  if (has_extension(device, "cl_khr_pci_bus_info")) {
    cl_device_pci_bus_info_khr info;
    if (clGetDeviceInfo(device, CL_DEVICE_PCI_BUS_INFO_KHR, sizeof info, &info, NULL) ==
        CL_SUCCESS) {
      dev->has_pci_bus_id = 1;
      dev->pci_domain = info.pci_domain;
      dev->pci_bus = info.pci_bus;
      dev->pci_device = info.pci_device;
      dev->pci_function = info.pci_function;
    }
  }
  if (!dev->has_pci_bus_id && has_extension(device, "cl_nv_device_attribute_query")) {
    cl_uint bus = 0, slot = 0, domain = 0;
    if (clGetDeviceInfo(device, CLB_DEVICE_PCI_BUS_ID_NV, sizeof bus, &bus, NULL) ==
            CL_SUCCESS &&
        clGetDeviceInfo(device, CLB_DEVICE_PCI_SLOT_ID_NV, sizeof slot, &slot, NULL) ==
            CL_SUCCESS) {
      /* The domain query exists only on newer drivers; 0 is the usual value. */
      clGetDeviceInfo(device, CLB_DEVICE_PCI_DOMAIN_ID_NV, sizeof domain, &domain, NULL);
      dev->has_pci_bus_id = 1;
      dev->pci_domain = domain;
      dev->pci_bus = bus;
      dev->pci_device = slot >> 3;
      dev->pci_function = slot & 7;
    }
  }
  if (!dev->has_pci_bus_id && has_extension(device, "cl_amd_device_attribute_query")) {
    clb_device_topology_amd topo;
    if (clGetDeviceInfo(device, CLB_DEVICE_TOPOLOGY_AMD, sizeof topo, &topo, NULL) ==
            CL_SUCCESS &&
        topo.raw.type == CLB_DEVICE_TOPOLOGY_TYPE_PCIE_AMD) {
      dev->has_pci_bus_id = 1;
      dev->pci_domain = 0;
      dev->pci_bus = (unsigned char)topo.pcie.bus;
      dev->pci_device = (unsigned char)topo.pcie.device;
      dev->pci_function = (unsigned char)topo.pcie.function;
    }
  }
  if (dev->has_pci_bus_id)
    snprintf(dev->pci_bus_id, sizeof dev->pci_bus_id, "%04x:%02x:%02x.%x", dev->pci_domain,
             dev->pci_bus, dev->pci_device, dev->pci_function);
}

static void query_device(struct clb_device_info *dev) {
  cl_device_id device = dev->device;
  copy_string_info(device, CL_DEVICE_NAME, dev->name, sizeof dev->name);
  copy_string_info(device, CL_DEVICE_VENDOR, dev->vendor, sizeof dev->vendor);
  copy_string_info(device, CL_DRIVER_VERSION, dev->driver_version, sizeof dev->driver_version);
  copy_string_info(device, CL_DEVICE_VERSION, dev->device_version, sizeof dev->device_version);
  copy_string_info(device, CL_DEVICE_OPENCL_C_VERSION, dev->opencl_c_version,
                   sizeof dev->opencl_c_version);
  clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof dev->type, &dev->type, NULL);
  clGetDeviceInfo(device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof dev->compute_units,
                  &dev->compute_units, NULL);
  clGetDeviceInfo(device, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof dev->clock_mhz, &dev->clock_mhz,
                  NULL);
  clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof dev->global_mem_bytes,
                  &dev->global_mem_bytes, NULL);
  clGetDeviceInfo(device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof dev->local_mem_bytes,
                  &dev->local_mem_bytes, NULL);
  clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof dev->max_alloc_bytes,
                  &dev->max_alloc_bytes, NULL);
  clGetDeviceInfo(device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof dev->max_work_group_size,
                  &dev->max_work_group_size, NULL);
  dev->has_fp64 = has_extension(device, "cl_khr_fp64");
  dev->has_fp16 = has_extension(device, "cl_khr_fp16");
  query_pci_bus_id(dev);
}

static void copy_platform_info(cl_platform_id platform, cl_platform_info param, char *buf,
                               size_t size) {
  buf[0] = '\0';
  if (clGetPlatformInfo(platform, param, size, buf, NULL) != CL_SUCCESS)
    snprintf(buf, size, "unknown");
  buf[size - 1] = '\0';
}

void clb_platform_diagnose(char *buf, size_t size) {
  static const char *const vendor_dirs[] = {"/etc/OpenCL/vendors", NULL};
  static const char *const library_dirs[] = {"/usr/lib/x86_64-linux-gnu", "/usr/lib64",
                                             "/usr/lib", "/usr/local/lib", "/opt/rocm/lib",
                                             "/usr/lib/aarch64-linux-gnu"};
  static const char *const vendor_libraries[] = {
      "libnvidia-opencl.so.1", "libamdocl64.so", "libigdrcl.so", "libpocl.so.2",
      "libintelocl.so", "libMesaOpenCL.so.1", "librusticl.so"};
  const char *icd_dir = getenv("OCL_ICD_VENDORS");
  int icd_files = 0;
  const char *scan = icd_dir && *icd_dir ? icd_dir : vendor_dirs[0];
  DIR *dir = opendir(scan);
  if (dir) {
    struct dirent *entry;
    while ((entry = readdir(dir)))
      if (strstr(entry->d_name, ".icd"))
        icd_files++;
    closedir(dir);
  }
  int used = snprintf(buf, size,
                      "No OpenCL platform found. %d .icd file(s) registered in %s.", icd_files,
                      scan);
  char found[512] = "";
  for (size_t l = 0; l < sizeof vendor_libraries / sizeof vendor_libraries[0] && !found[0]; l++)
    for (size_t d = 0; d < sizeof library_dirs / sizeof library_dirs[0]; d++) {
      char path[512];
      snprintf(path, sizeof path, "%s/%s", library_dirs[d], vendor_libraries[l]);
      if (access(path, R_OK) == 0) {
        snprintf(found, sizeof found, "%s", path);
        break;
      }
    }
  if (used < 0 || (size_t)used >= size)
    return;
  if (found[0])
    snprintf(buf + used, size - (size_t)used,
             " A vendor driver library exists at %s but the ICD loader does not see it: "
             "register it with `mkdir -p /tmp/icd && echo %s > /tmp/icd/vendor.icd && "
             "export OCL_ICD_VENDORS=/tmp/icd` (or write that .icd file into "
             "/etc/OpenCL/vendors as root).",
             found, found);
  else
    snprintf(buf + used, size - (size_t)used,
             " No vendor driver library was found either: install one (for the CPU, "
             "`apt-get install pocl-opencl-icd`; for GPUs, the vendor's OpenCL driver).");
}

int clb_platform_list(struct clb_device_list *out, struct clb_error *err) {
  int rc = 0;
  cl_platform_id *platforms = NULL;
  cl_uint platform_count = 0;
  out->count = 0;
  out->items = NULL;

  cl_int status = clGetPlatformIDs(0, NULL, &platform_count);
  if (status == CL_PLATFORM_NOT_FOUND_KHR || (status == CL_SUCCESS && platform_count == 0)) {
    char why[1024];
    clb_platform_diagnose(why, sizeof why);
    return clb_failf(err, CLB_E_NO_PLATFORM, "%s", why);
  }
  CLB_CHECK(status, "clGetPlatformIDs", "(all platforms)");
  platforms = calloc(platform_count, sizeof *platforms);
  if (!platforms) {
    rc = clb_failf(err, CLB_E_NOMEM, "out of host memory listing platforms");
    goto cleanup;
  }
  CLB_CHECK(clGetPlatformIDs(platform_count, platforms, NULL), "clGetPlatformIDs",
            "(all platforms)");

  for (cl_uint p = 0; p < platform_count; p++) {
    cl_uint device_count = 0;
    status = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &device_count);
    if (status == CL_DEVICE_NOT_FOUND || device_count == 0)
      continue; /* A platform with no devices (e.g. a driver without its GPU) is not fatal. */
    CLB_CHECK(status, "clGetDeviceIDs", "(platform)");
    cl_device_id *devices = calloc(device_count, sizeof *devices);
    struct clb_device_info *grown =
        realloc(out->items, (out->count + device_count) * sizeof *out->items);
    if (!devices || !grown) {
      free(devices);
      if (grown)
        out->items = grown;
      rc = clb_failf(err, CLB_E_NOMEM, "out of host memory listing devices");
      goto cleanup;
    }
    out->items = grown;
    status = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, device_count, devices, NULL);
    if (status != CL_SUCCESS) {
      free(devices);
      CLB_CHECK(status, "clGetDeviceIDs", "(platform)");
    }
    for (cl_uint d = 0; d < device_count; d++) {
      struct clb_device_info *dev = &out->items[out->count++];
      memset(dev, 0, sizeof *dev);
      dev->platform_index = (int)p;
      dev->device_index = (int)d;
      dev->platform = platforms[p];
      dev->device = devices[d];
      copy_platform_info(platforms[p], CL_PLATFORM_NAME, dev->platform_name,
                         sizeof dev->platform_name);
      copy_platform_info(platforms[p], CL_PLATFORM_VENDOR, dev->platform_vendor,
                         sizeof dev->platform_vendor);
      copy_platform_info(platforms[p], CL_PLATFORM_VERSION, dev->platform_version,
                         sizeof dev->platform_version);
      query_device(dev);
    }
    free(devices);
  }
  if (out->count == 0) {
    char why[1024];
    clb_platform_diagnose(why, sizeof why);
    rc = clb_failf(err, CLB_E_NO_DEVICE, "OpenCL platforms exist but expose no device. %s",
                   why);
  }

cleanup:
  free(platforms);
  if (rc != 0)
    clb_platform_list_destroy(out);
  return rc;
}

void clb_platform_list_destroy(struct clb_device_list *list) {
  if (!list)
    return;
  free(list->items);
  list->items = NULL;
  list->count = 0;
}

unsigned long long clb_device_free_memory(const struct clb_device_info *dev, int *known) {
  /* AMD reports {total free, largest free block} in KiB. */
  size_t free_kib[2] = {0, 0};
  *known = 0;
  if (!has_extension(dev->device, "cl_amd_device_attribute_query"))
    return 0;
  if (clGetDeviceInfo(dev->device, CLB_DEVICE_GLOBAL_FREE_MEMORY_AMD, sizeof free_kib, free_kib,
                      NULL) != CL_SUCCESS)
    return 0;
  *known = 1;
  return (unsigned long long)free_kib[0] * 1024ull;
}

const char *clb_device_type_name(cl_device_type type) {
  if (type & CL_DEVICE_TYPE_GPU)
    return "gpu";
  if (type & CL_DEVICE_TYPE_CPU)
    return "cpu";
  if (type & CL_DEVICE_TYPE_ACCELERATOR)
    return "accelerator";
  return "other";
}

void clb_device_id_string(const struct clb_device_info *dev, char *buf, size_t size) {
  snprintf(buf, size, "%d:%d", dev->platform_index, dev->device_index);
}

static int contains_ignoring_case(const char *haystack, const char *needle) {
  size_t needle_len = strlen(needle);
  for (; *haystack; haystack++) {
    size_t i = 0;
    while (i < needle_len && haystack[i] &&
           tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == needle_len)
      return 1;
  }
  return 0;
}

/* Parses "P:D" strictly: two non-negative decimal integers. */
static int parse_index_pair(const char *term, int *platform, int *device) {
  char *end = NULL;
  if (!isdigit((unsigned char)term[0]))
    return 0;
  long p = strtol(term, &end, 10);
  if (*end != ':' || !isdigit((unsigned char)end[1]))
    return 0;
  long d = strtol(end + 1, &end, 10);
  if (*end != '\0' || p > 1000000 || d > 1000000)
    return 0;
  *platform = (int)p;
  *device = (int)d;
  return 1;
}

static size_t select_term(const struct clb_device_list *list, const char *term, int *selected) {
  size_t matched = 0;
  int platform = -1, device = -1;
  int by_index = parse_index_pair(term, &platform, &device);
  /* "platform:NAME" looks only at the platform: on an Intel host PoCL's device
   * is named "pthread-Intel(R) Xeon...", so a bare "intel" matches it too. */
  const char *platform_term = strncmp(term, "platform:", 9) == 0 ? term + 9 : NULL;
  if (platform_term && !*platform_term)
    return 0;
  for (size_t i = 0; i < list->count; i++) {
    const struct clb_device_info *dev = &list->items[i];
    int match;
    if (strcmp(term, "all") == 0)
      match = 1;
    else if (strcmp(term, "cpu") == 0)
      match = (dev->type & CL_DEVICE_TYPE_CPU) != 0;
    else if (strcmp(term, "gpu") == 0)
      match = (dev->type & CL_DEVICE_TYPE_GPU) != 0;
    else if (by_index)
      match = dev->platform_index == platform && dev->device_index == device;
    else if (platform_term)
      match = contains_ignoring_case(dev->platform_name, platform_term) ||
              contains_ignoring_case(dev->platform_vendor, platform_term);
    else
      match = contains_ignoring_case(dev->name, term) ||
              contains_ignoring_case(dev->platform_name, term) ||
              contains_ignoring_case(dev->platform_vendor, term) ||
              contains_ignoring_case(dev->vendor, term);
    if (match) {
      selected[i] = 1;
      matched++;
    }
  }
  return matched;
}

static void append_device_listing(const struct clb_device_list *list, char *buf, size_t size) {
  size_t used = strlen(buf);
  for (size_t i = 0; i < list->count && used < size; i++) {
    const struct clb_device_info *dev = &list->items[i];
    int n = snprintf(buf + used, size - used, "%s %d:%d %s (%s, %s)", i ? ";" : "",
                     dev->platform_index, dev->device_index, dev->name,
                     clb_device_type_name(dev->type), dev->platform_name);
    if (n < 0)
      break;
    used += (size_t)n;
  }
}

int clb_platform_select(const struct clb_device_list *list, const char *spec, int *selected,
                        struct clb_error *err) {
  for (size_t i = 0; i < list->count; i++)
    selected[i] = 0;
  if (!spec || !*spec)
    return clb_failf(err, CLB_E_INVAL, "--device needs a value (%s)", CLB_DEVICE_SPEC_HELP);
  char *copy = strdup(spec);
  if (!copy)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory");
  int rc = 0;
  char *save = NULL;
  int terms = 0;
  for (char *term = strtok_r(copy, ",", &save); term; term = strtok_r(NULL, ",", &save)) {
    while (isspace((unsigned char)*term))
      term++;
    terms++;
    if (!*term || select_term(list, term, selected) == 0) {
      char listing[768] = "";
      append_device_listing(list, listing, sizeof listing);
      rc = clb_failf(err, CLB_E_NO_DEVICE, "--device '%s' matches no device; devices are:%s",
                     term, listing);
      break;
    }
  }
  if (rc == 0 && terms == 0)
    rc = clb_failf(err, CLB_E_INVAL, "--device '%s' names no device", spec);
  free(copy);
  return rc;
}

int clb_device_check_precision(const struct clb_device_info *dev, enum clb_precision precision,
                                char *reason, size_t reason_size) {
  if (precision == CLB_FP64 && !dev->has_fp64) {
    snprintf(reason, reason_size, "%s lacks cl_khr_fp64 (double precision)", dev->name);
    return CLB_E_UNSUPPORTED;
  }
  if (precision == CLB_FP16 && !dev->has_fp16) {
    snprintf(reason, reason_size, "%s lacks cl_khr_fp16 (half precision)", dev->name);
    return CLB_E_UNSUPPORTED;
  }
  if (reason_size)
    reason[0] = '\0';
  return 0;
}

void clb_platform_keep_selected(struct clb_device_list *list, const int *selected) {
  size_t kept = 0;
  for (size_t i = 0; i < list->count; i++)
    if (selected[i])
      list->items[kept++] = list->items[i];
  list->count = kept;
}
