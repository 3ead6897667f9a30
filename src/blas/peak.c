#include "blas/peak.h"

#include <stdio.h>
#include <stdlib.h>

#include "cl/kernels.h"
#include "measure/measure.h"
#include "measure/stats.h"
#include "util/clock.h"

#define PEAK_RUNS 5

/* Runs a kernel PEAK_RUNS times after one warm-up and returns the fastest
 * device time (profiling event of the kernel itself). */
static int best_kernel_time(const struct clb_cl *cl, cl_kernel kernel, size_t global,
                            size_t local, const char *name, double *best,
                            struct clb_error *err) {
  int rc = 0;
  cl_event event = NULL;
  *best = -1;
  for (int run = 0; run <= PEAK_RUNS; run++) {
    CLB_CHECK(clEnqueueNDRangeKernel(cl->queue, kernel, 1, NULL, &global, &local, 0, NULL,
                                     &event),
              "clEnqueueNDRangeKernel", cl->info->name);
    CLB_CHECK(clWaitForEvents(1, &event), "clWaitForEvents", cl->info->name);
    cl_ulong start = 0, end = 0;
    CLB_CHECK(clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_START, sizeof start, &start,
                                      NULL),
              "clGetEventProfilingInfo", cl->info->name);
    CLB_CHECK(clGetEventProfilingInfo(event, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL),
              "clGetEventProfilingInfo", cl->info->name);
    clReleaseEvent(event);
    event = NULL;
    double seconds = 1e-9 * (double)(end - start);
    if (run > 0 && end > start && (*best < 0 || seconds < *best))
      *best = seconds;
  }
  if (*best <= 0)
    rc = clb_failf(err, CLB_E_NUMERIC, "%s on %s: the driver reported no usable timestamps",
                   name, cl->info->name);
cleanup:
  if (event)
    clReleaseEvent(event);
  return rc;
}

static size_t work_group(const struct clb_cl *cl) {
  return cl->info->max_work_group_size < 64 ? cl->info->max_work_group_size : 64;
}

int clb_peak_bandwidth(const struct clb_cl *cl, double *gbytes_per_s, struct clb_error *err) {
  int rc = 0;
  cl_int status = CL_SUCCESS;
  cl_program program = NULL;
  cl_kernel kernel = NULL;
  cl_mem src = NULL, dst = NULL;
  size_t bytes = 256u << 20;
  if (bytes > cl->info->max_alloc_bytes)
    bytes = (size_t)cl->info->max_alloc_bytes;
  if (bytes > cl->info->global_mem_bytes / 4)
    bytes = (size_t)(cl->info->global_mem_bytes / 4);
  size_t local = work_group(cl);
  bytes = bytes / (16 * local) * (16 * local);
  CLB_TRY(clb_program_build(cl->context, cl->info->device, cl->info->name, "peak", "-DCLB_FP32",
                            &program, err));
  kernel = clCreateKernel(program, "copy_bandwidth", &status);
  CLB_CHECK(status, "clCreateKernel", cl->info->name);
  src = clCreateBuffer(cl->context, CL_MEM_READ_ONLY, bytes, NULL, &status);
  CLB_CHECK(status, "clCreateBuffer", cl->info->name);
  dst = clCreateBuffer(cl->context, CL_MEM_WRITE_ONLY, bytes, NULL, &status);
  CLB_CHECK(status, "clCreateBuffer", cl->info->name);
  cl_uchar pattern = 1;
  CLB_CHECK(clEnqueueFillBuffer(cl->queue, src, &pattern, 1, 0, bytes, 0, NULL, NULL),
            "clEnqueueFillBuffer", cl->info->name);
  CLB_CHECK(clSetKernelArg(kernel, 0, sizeof src, &src), "clSetKernelArg", cl->info->name);
  CLB_CHECK(clSetKernelArg(kernel, 1, sizeof dst, &dst), "clSetKernelArg", cl->info->name);
  double seconds = 0;
  CLB_TRY(best_kernel_time(cl, kernel, bytes / 16, local, "copy_bandwidth", &seconds, err));
  *gbytes_per_s = 2.0 * (double)bytes / seconds / 1e9;
cleanup:
  if (src)
    clReleaseMemObject(src);
  if (dst)
    clReleaseMemObject(dst);
  if (kernel)
    clReleaseKernel(kernel);
  if (program)
    clReleaseProgram(program);
  return rc;
}

static int flops_at_width(const struct clb_cl *cl, enum clb_precision precision, int width,
                          double *gflops, struct clb_error *err) {
  int rc = 0;
  cl_int status = CL_SUCCESS;
  cl_program program = NULL;
  cl_kernel kernel = NULL;
  cl_mem out = NULL;
  char options[96];
  snprintf(options, sizeof options, "%s -DWIDTH=%d", clb_precision_build_options(precision),
           width);
  size_t local = work_group(cl);
  /* Enough work-items to fill every compute unit many times over, and a
   * kernel long enough (milliseconds) for its timestamps to be precise. */
  size_t global = (size_t)cl->info->compute_units * local * 256;
  CLB_TRY(clb_program_build(cl->context, cl->info->device, cl->info->name, "peak", options,
                            &program, err));
  kernel = clCreateKernel(program, "fma_throughput", &status);
  CLB_CHECK(status, "clCreateKernel", cl->info->name);
  out = clCreateBuffer(cl->context, CL_MEM_WRITE_ONLY, global * clb_precision_size(precision),
                       NULL, &status);
  CLB_CHECK(status, "clCreateBuffer", cl->info->name);
  float seed = 1.0f / 1024.0f;
  CLB_CHECK(clSetKernelArg(kernel, 0, sizeof out, &out), "clSetKernelArg", cl->info->name);
  CLB_CHECK(clSetKernelArg(kernel, 1, sizeof seed, &seed), "clSetKernelArg", cl->info->name);
  double seconds = 0;
  CLB_TRY(best_kernel_time(cl, kernel, global, local, "fma_throughput", &seconds, err));
  /* FMA_ITERATIONS (128) x 32 FMAs x 2 FLOPs x vector width per work-item. */
  *gflops = (double)global * 128.0 * 32.0 * 2.0 * width / seconds / 1e9;
cleanup:
  if (out)
    clReleaseMemObject(out);
  if (kernel)
    clReleaseKernel(kernel);
  if (program)
    clReleaseProgram(program);
  return rc;
}

int clb_peak_flops(const struct clb_cl *cl, enum clb_precision precision, double *gflops,
                   struct clb_error *err) {
  static const int widths[] = {1, 4, 8, 16};
  char reason[256];
  if (clb_device_check_precision(cl->info, precision, reason, sizeof reason) != 0)
    return clb_failf(err, CLB_E_UNSUPPORTED, "%s", reason);
  *gflops = 0;
  for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
    double rate = 0;
    int rc = flops_at_width(cl, precision, widths[i], &rate, err);
    if (rc != 0)
      return rc;
    if (rate > *gflops)
      *gflops = rate;
  }
  return 0;
}

#define LAUNCH_SYNC_RUNS 201
#define LAUNCH_QUEUED_RUNS 1000

int clb_peak_launch(const struct clb_cl *cl, struct clb_launch_cost *out, struct clb_error *err) {
  int rc = 0;
  cl_int status = CL_SUCCESS;
  cl_program program = NULL;
  cl_kernel kernel = NULL;
  cl_mem unused = NULL;
  double *samples = malloc(LAUNCH_SYNC_RUNS * sizeof *samples);
  const char *name = cl->info->name;
  size_t one = 1;
  if (!samples)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory");
  CLB_TRY(clb_program_build(cl->context, cl->info->device, name, "peak", "-DCLB_FP32", &program,
                            err));
  kernel = clCreateKernel(program, "empty_kernel", &status);
  CLB_CHECK(status, "clCreateKernel", name);
  unused = clCreateBuffer(cl->context, CL_MEM_WRITE_ONLY, sizeof(cl_float), NULL, &status);
  CLB_CHECK(status, "clCreateBuffer", name);
  CLB_CHECK(clSetKernelArg(kernel, 0, sizeof unused, &unused), "clSetKernelArg", name);
  /* The first launches pay for first-use set-up; keep them out. */
  for (int warm = 0; warm < 20; warm++)
    CLB_CHECK(clEnqueueNDRangeKernel(cl->queue, kernel, 1, NULL, &one, &one, 0, NULL, NULL),
              "clEnqueueNDRangeKernel", name);
  CLB_CHECK(clFinish(cl->queue), "clFinish", name);
  for (int run = 0; run < LAUNCH_SYNC_RUNS; run++) {
    double start = clb_now();
    CLB_CHECK(clEnqueueNDRangeKernel(cl->queue, kernel, 1, NULL, &one, &one, 0, NULL, NULL),
              "clEnqueueNDRangeKernel", name);
    CLB_CHECK(clFinish(cl->queue), "clFinish", name);
    samples[run] = clb_now() - start;
  }
  struct clb_summary summary;
  clb_stats_summarize(samples, LAUNCH_SYNC_RUNS, &summary);
  out->sync_s = summary.median;
  double start = clb_now();
  for (int run = 0; run < LAUNCH_QUEUED_RUNS; run++)
    CLB_CHECK(clEnqueueNDRangeKernel(cl->queue, kernel, 1, NULL, &one, &one, 0, NULL, NULL),
              "clEnqueueNDRangeKernel", name);
  CLB_CHECK(clFinish(cl->queue), "clFinish", name);
  out->queued_s = (clb_now() - start) / LAUNCH_QUEUED_RUNS;
cleanup:
  if (unused)
    clReleaseMemObject(unused);
  if (kernel)
    clReleaseKernel(kernel);
  if (program)
    clReleaseProgram(program);
  free(samples);
  return rc;
}
