#include "cl/context.h"

int clb_cl_create(const struct clb_device_info *info, struct clb_cl *out, struct clb_error *err) {
  int rc = 0;
  cl_int status = CL_SUCCESS;
  out->info = info;
  out->context = NULL;
  out->queue = NULL;
  out->programs = NULL;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)info->platform,
                                   0};
  out->context = clCreateContext(props, 1, &info->device, NULL, NULL, &status);
  CLB_CHECK(status, "clCreateContext", info->name);
  out->queue =
      clCreateCommandQueue(out->context, info->device, CL_QUEUE_PROFILING_ENABLE, &status);
  CLB_CHECK(status, "clCreateCommandQueue", info->name);
  CLB_TRY(clb_program_cache_create(&out->programs, err));
  return 0;
cleanup:
  clb_cl_destroy(out);
  return rc;
}

void clb_cl_destroy(struct clb_cl *cl) {
  if (!cl)
    return;
  if (cl->queue) {
    clFinish(cl->queue);
    clReleaseCommandQueue(cl->queue);
  }
  /* Programs before their context. */
  clb_program_cache_destroy(cl->programs);
  if (cl->context)
    clReleaseContext(cl->context);
  cl->programs = NULL;
  cl->queue = NULL;
  cl->context = NULL;
}

int clb_cl_program(const struct clb_cl *cl, const char *name, const char *options,
                   cl_program *out, struct clb_error *err) {
  return clb_program_cache_get(cl->programs, cl->context, cl->info->device, cl->info->name, name,
                               options, out, err);
}
