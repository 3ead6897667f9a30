/* One device opened for work: its context, an in-order profiling queue, and
 * the programs built for it (each source and option set built once). */
#ifndef CLB_CL_CONTEXT_H
#define CLB_CL_CONTEXT_H

#include <CL/cl.h>

#include "cl/kernels.h"
#include "cl/platform.h"
#include "util/errors.h"

struct clb_cl {
  const struct clb_device_info *info; /* borrowed */
  cl_context context;
  cl_command_queue queue;
  struct clb_program_cache *programs; /* owned; a const clb_cl may still build into it */
};

int clb_cl_create(const struct clb_device_info *info, struct clb_cl *out, struct clb_error *err);
void clb_cl_destroy(struct clb_cl *cl);

/* kernels/NAME.cl built with OPTIONS for this device: built on the first
 * request, then the same program. It belongs to `cl` (do not release it). */
int clb_cl_program(const struct clb_cl *cl, const char *name, const char *options,
                   cl_program *out, struct clb_error *err);

#endif
