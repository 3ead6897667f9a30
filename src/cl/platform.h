/* OpenCL platforms and devices: discovery, facts, selection, context and queue. */
#ifndef CLB_CL_PLATFORM_H
#define CLB_CL_PLATFORM_H

#include <CL/cl.h>
#include <stddef.h>

#include "util/errors.h"
#include "util/precision.h"

struct clb_device_info {
  int platform_index; /* P of "P:D" */
  int device_index;   /* D of "P:D" */
  cl_platform_id platform;
  cl_device_id device;
  char platform_name[128];
  char platform_vendor[128];
  char platform_version[128];
  char name[256];
  char vendor[128];
  char driver_version[128];
  char device_version[128];
  char opencl_c_version[128];
  cl_device_type type;
  cl_uint compute_units;
  cl_uint clock_mhz; /* 0: the driver does not know (Intel's CPU runtime); never a number */
  cl_ulong global_mem_bytes;
  cl_ulong local_mem_bytes;
  cl_ulong max_alloc_bytes;
  size_t max_work_group_size;
  int has_fp64;
  int has_fp16;
  int has_pci_bus_id;
  unsigned pci_domain, pci_bus, pci_device, pci_function;
  char pci_bus_id[32]; /* "0000:65:00.0" or "" */
};

struct clb_device_list {
  size_t count;
  struct clb_device_info *items; /* owned; free with clb_platform_list_destroy */
};

/* Enumerates every device of every platform. Zero platforms is CLB_E_NO_PLATFORM
 * with a message that explains the likely causes (see clb_platform_diagnose). */
int clb_platform_list(struct clb_device_list *out, struct clb_error *err);
void clb_platform_list_destroy(struct clb_device_list *list);

/* "cpu", "gpu", "accelerator" or "other". */
const char *clb_device_type_name(cl_device_type type);

/* "P:D". */
void clb_device_id_string(const struct clb_device_info *dev, char *buf, size_t size);

/* What --device accepts, for help texts and messages. */
#define CLB_DEVICE_SPEC_HELP                                                              \
  "all, cpu, gpu, P:D, a case-insensitive substring of the device name, its vendor, "   \
  "the platform name or vendor (e.g. pocl, intel, nvidia), platform:NAME (the platform " \
  "only), or several of these separated by commas"

/* Parses a selection (CLB_DEVICE_SPEC_HELP) and marks the chosen devices in
 * `selected` (count entries, 1 = chosen). A term that matches nothing is
 * CLB_E_NO_DEVICE with a message that lists the devices. */
int clb_platform_select(const struct clb_device_list *list, const char *spec, int *selected,
                        struct clb_error *err);

/* Keeps, in listing order, the devices `selected` marks (the list is
 * compacted; each keeps its P:D index of the full listing). */
void clb_platform_keep_selected(struct clb_device_list *list, const int *selected);

/* Explains why no platform was found into buf: no ICD files registered, or a
 * vendor driver library present but not registered (names the file found). */
void clb_platform_diagnose(char *buf, size_t size);

/* 0 when the device supports the precision; otherwise CLB_E_UNSUPPORTED and a
 * reason ("... lacks cl_khr_fp64 (double precision)") in `reason`. */
int clb_device_check_precision(const struct clb_device_info *dev, enum clb_precision precision,
                               char *reason, size_t reason_size);

/* Free global memory in bytes where the vendor offers a query (AMD's
 * cl_amd_device_attribute_query); 0 and *known = 0 elsewhere. */
unsigned long long clb_device_free_memory(const struct clb_device_info *dev, int *known);

#endif
