/* Descriptions of the host and its devices, as text and as JSON (cJSON). */
#ifndef CLB_CL_DESCRIBE_H
#define CLB_CL_DESCRIBE_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "cl/platform.h"
#include "cl/topology.h"

/* The NUMA node of a device, or -1 (see clb_topology_numa_of_pci). */
int clb_describe_numa_node(struct clb_topology *topology, const struct clb_device_info *dev);

void clb_describe_text(FILE *out, const struct clb_host_info *host,
                       const struct clb_device_list *devices, struct clb_topology *topology);

/* New cJSON objects; the caller owns them (cJSON_Delete). NULL on no memory. */
cJSON *clb_describe_host_json(const struct clb_host_info *host);
cJSON *clb_describe_device_json(const struct clb_device_info *dev, int numa_node);
cJSON *clb_describe_all_json(const struct clb_host_info *host,
                             const struct clb_device_list *devices,
                             struct clb_topology *topology);

/* "clbatch 0.1.0, CLBlast 1.5.3, hwloc 2.9.0, OpenCL ICD loader ocl-icd 2.3.1". */
void clb_describe_versions(char *buf, size_t size);

/* "1.5.3" */
const char *clb_describe_clblast_version(void);

#endif
