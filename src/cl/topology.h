/* The host seen through hwloc: CPU, caches, memory, NUMA, GPU locality, binding. */
#ifndef CLB_CL_TOPOLOGY_H
#define CLB_CL_TOPOLOGY_H

#include <stdint.h>

#include "cl/platform.h"
#include "util/errors.h"

struct clb_topology; /* opaque */

struct clb_host_info {
  char hostname[128];
  char cpu_model[256];
  int packages;
  int cores;
  int pus;
  int numa_nodes;
  uint64_t memory_bytes;
  uint64_t l1d_bytes; /* per cache instance; 0 when unknown */
  uint64_t l2_bytes;
  uint64_t l3_bytes;
};

/* Loads the host topology, with PCI devices so GPUs can be located.
 * `synthetic` (e.g. "pack:2 numa:2 core:4 pu:2") builds a fake host for tests;
 * pass NULL for the real one. */
int clb_topology_create(struct clb_topology **out, const char *synthetic, struct clb_error *err);
void clb_topology_destroy(struct clb_topology *topology);

void clb_topology_host_info(struct clb_topology *topology, struct clb_host_info *info);

/* This host's name as clb_host_info has it ("unknown" when it cannot be read). */
void clb_host_name(char *buf, size_t size);

/* The OS index of the NUMA node a PCI device is attached to, or -1 when the
 * device has no PCI id, hwloc does not see it, or the host has one node. */
int clb_topology_numa_of_pci(struct clb_topology *topology, unsigned domain, unsigned bus,
                             unsigned device, unsigned function);

/* Binds the calling thread to the cores nearest a GPU (its NUMA node's cores).
 * Writes what it did into `report` (e.g. "bound to NUMA node 1 (cores 16-31)"
 * or why it did not) and returns 1 when it bound, 0 when it left the thread as is. */
int clb_topology_bind_near(struct clb_topology *topology, const struct clb_device_info *dev,
                           char *report, size_t report_size);

#endif
