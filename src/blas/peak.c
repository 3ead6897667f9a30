#include "blas/peak.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cl/kernels.h"
#include "measure/measure.h"
#include "measure/stats.h"

/* One launch of a 1-D kernel, for measure/'s timing loops. */
struct launch {
  cl_command_queue queue;
  cl_kernel kernel;
  size_t global, local;
  const char *device;
};

/* A one-command step: the kernel's own event is both its first and its last. */
static int launch_step(void *context, size_t index, cl_event *first, cl_event *last,
                       struct clb_error *err) {
  const struct launch *l = context;
  int rc = 0;
  CLB_CHECK(clEnqueueNDRangeKernel(l->queue, l->kernel, 1, NULL, &l->global, &l->local, 0, NULL,
                                   first),
            "clEnqueueNDRangeKernel", l->device);
  if (last)
    *last = first ? *first : NULL;
cleanup:
  return rc;
}

#define PEAK_RUNS 5

/* The fastest device time of `runs` runs after `warmup` untimed ones, each
 * run alone on the device. A peak is the best the device can do, so the best
 * run is reported (as STREAM and clpeak do), not the median: slower runs are
 * interference from the host, not the device's limit. Device time is
 * required: a wall-clock fallback would charge each run its launch and wait. */
static int kernel_time(const struct clb_cl *cl, cl_kernel kernel, size_t global, size_t local,
                       const char *name, size_t warmup, size_t runs, double *best,
                       struct clb_error *err) {
  struct launch l = {cl->queue, kernel, global, local, cl->info->name};
  const struct clb_measure_runs_config config = {warmup, runs, runs, 0.0, 0};
  struct clb_timing timing;
  int rc = clb_measure_runs(cl->queue, cl->info->name, launch_step, &l, &config, &timing, err);
  if (rc != 0)
    return rc;
  if (!timing.used_events || !(timing.device.min > 0))
    return clb_failf(err, CLB_E_NUMERIC, "%s on %s: the driver reported no usable timestamps",
                     name, cl->info->name);
  *best = timing.device.min;
  return 0;
}

static size_t work_group(const struct clb_cl *cl) {
  return cl->info->max_work_group_size < 64 ? cl->info->max_work_group_size : 64;
}

struct clb_peak {
  const struct clb_cl *cl;
  cl_program programs[CLB_PRECISION_COUNT]; /* NULL until first used */
};

int clb_peak_create(const struct clb_cl *cl, struct clb_peak **out, struct clb_error *err) {
  *out = calloc(1, sizeof **out);
  if (!*out)
    return clb_failf(err, CLB_E_NOMEM, "out of host memory for the roofline of %s", cl->info->name);
  (*out)->cl = cl;
  return 0;
}

void clb_peak_destroy(struct clb_peak *peak) {
  if (!peak)
    return;
  for (size_t i = 0; i < CLB_PRECISION_COUNT; i++)
    if (peak->programs[i])
      clReleaseProgram(peak->programs[i]);
  free(peak);
}

/* A kernel of the precision's peak program, which is built on first use. */
static int peak_kernel(struct clb_peak *peak, enum clb_precision precision, const char *name,
                       cl_kernel *out, struct clb_error *err) {
  const struct clb_cl *cl = peak->cl;
  cl_program *program = &peak->programs[precision];
  if (!*program) {
    /* -w: clang warns (-Wpsabi) at each call of mad() on vectors wider than
     * the CPU's registers (double8 on AVX2), and PoCL prints those warnings
     * to the user's terminal at every build; they say nothing about the
     * measurement. */
    char options[64];
    snprintf(options, sizeof options, "%s -w", clb_precision_build_options(precision));
    int rc = clb_program_build(cl->context, cl->info->device, cl->info->name, "peak", options,
                               program, err);
    if (rc != 0)
      return rc; /* *program stays NULL: the next call tries again */
  }
  cl_int status = CL_SUCCESS;
  *out = clCreateKernel(*program, name, &status);
  if (status != CL_SUCCESS)
    return clb_fail(err, status, "clCreateKernel", cl->info->name, NULL);
  return 0;
}

int clb_peak_bandwidth(struct clb_peak *peak, double *gbytes_per_s, struct clb_error *err) {
  const struct clb_cl *cl = peak->cl;
  int rc = 0;
  cl_int status = CL_SUCCESS;
  cl_kernel kernel = NULL;
  cl_mem src = NULL, dst = NULL;
  size_t bytes = 256u << 20;
  if (bytes > cl->info->max_alloc_bytes)
    bytes = (size_t)cl->info->max_alloc_bytes;
  if (bytes > cl->info->global_mem_bytes / 4)
    bytes = (size_t)(cl->info->global_mem_bytes / 4);
  size_t local = work_group(cl);
  bytes = bytes / (16 * local) * (16 * local);
  CLB_TRY(peak_kernel(peak, CLB_FP32, "copy_bandwidth", &kernel, err));
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
  CLB_TRY(
      kernel_time(cl, kernel, bytes / 16, local, "copy_bandwidth", 1, PEAK_RUNS, &seconds, err));
  *gbytes_per_s = 2.0 * (double)bytes / seconds / 1e9;
cleanup:
  if (src)
    clReleaseMemObject(src);
  if (dst)
    clReleaseMemObject(dst);
  if (kernel)
    clReleaseKernel(kernel);
  return rc;
}

/* A timed FMA run of a few milliseconds: its timestamps and the start-up of
 * a CPU runtime's threads (tens of microseconds) are then noise, and a CPU
 * device measures each width in tens of milliseconds, not hundreds, which
 * every worker of `clbatch run` pays. A short run (a GPU's) grows to at most
 * FMA_MOST_SCALE times the probe, 256 work-groups per compute unit. */
#define FMA_PROBE_GROUPS 16
#define FMA_MOST_SCALE 16
#define FMA_TARGET_S 5e-3

static size_t fma_scale(double probe_s) {
  if (!(probe_s > 0) || probe_s * FMA_MOST_SCALE <= FMA_TARGET_S)
    return FMA_MOST_SCALE;
  double scale = ceil(FMA_TARGET_S / probe_s);
  return scale < 1 ? 1 : (size_t)scale;
}

static int flops_at_width(struct clb_peak *peak, enum clb_precision precision, int width,
                          double *gflops, struct clb_error *err) {
  const struct clb_cl *cl = peak->cl;
  int rc = 0;
  cl_int status = CL_SUCCESS;
  cl_kernel kernel = NULL;
  cl_mem out = NULL;
  char name[32];
  snprintf(name, sizeof name, "fma_throughput_%d", width);
  size_t local = work_group(cl);
  /* Enough work-groups to fill every compute unit many times over; the run
   * grows from FMA_PROBE_GROUPS per compute unit until it lasts about
   * FMA_TARGET_S. */
  size_t probe = (size_t)cl->info->compute_units * local * FMA_PROBE_GROUPS;
  size_t most = probe * FMA_MOST_SCALE;
  CLB_TRY(peak_kernel(peak, precision, name, &kernel, err));
  out = clCreateBuffer(cl->context, CL_MEM_WRITE_ONLY, most * clb_precision_size(precision), NULL,
                       &status);
  CLB_CHECK(status, "clCreateBuffer", cl->info->name);
  float seed = 1.0f / 1024.0f;
  CLB_CHECK(clSetKernelArg(kernel, 0, sizeof out, &out), "clSetKernelArg", cl->info->name);
  CLB_CHECK(clSetKernelArg(kernel, 1, sizeof seed, &seed), "clSetKernelArg", cl->info->name);
  double probe_s = 0, seconds = 0;
  CLB_TRY(kernel_time(cl, kernel, probe, local, name, 1, 1, &probe_s, err));
  size_t global = probe * fma_scale(probe_s);
  /* The probe's own warm-up already paid for first use: the best of
   * PEAK_RUNS follows without another. */
  CLB_TRY(kernel_time(cl, kernel, global, local, name, 0, PEAK_RUNS, &seconds, err));
  /* FMA_ITERATIONS (128) x 32 FMAs x 2 FLOPs x vector width per work-item. */
  *gflops = (double)global * 128.0 * 32.0 * 2.0 * width / seconds / 1e9;
cleanup:
  if (out)
    clReleaseMemObject(out);
  if (kernel)
    clReleaseKernel(kernel);
  return rc;
}

int clb_peak_flops(struct clb_peak *peak, enum clb_precision precision, double *gflops,
                   struct clb_error *err) {
  const struct clb_cl *cl = peak->cl;
  static const int widths[] = {1, 4, 8, 16};
  char reason[256];
  if (clb_device_check_precision(cl->info, precision, reason, sizeof reason) != 0)
    return clb_failf(err, CLB_E_UNSUPPORTED, "%s", reason);
  *gflops = 0;
  for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
    double rate = 0;
    int rc = flops_at_width(peak, precision, widths[i], &rate, err);
    if (rc != 0)
      return rc;
    if (rate > *gflops)
      *gflops = rate;
  }
  return 0;
}

#define LAUNCH_WARMUP_RUNS 20 /* the first launches pay for first-use set-up */
#define LAUNCH_SYNC_RUNS 201
/* Back-to-back launches in bursts: one burst of 1000 on this 2-CPU VM once
 * read 2.8 us a launch where it reads 1.35-1.4 us, enough for a launch
 * floor above the step it bounds; the median burst is not moved by one
 * pause of the host. */
#define LAUNCH_QUEUED_BURSTS 5
#define LAUNCH_QUEUED_RUNS 200

/* Launch cost is host time by definition, so both figures come from the host
 * clock: the median of isolated launches (robust to the scheduler's outliers)
 * and the median over bursts of the mean over a full queue. */
static int measure_launch(struct clb_peak *peak, int isolated, struct clb_launch_cost *out,
                          struct clb_error *err) {
  const struct clb_cl *cl = peak->cl;
  int rc = 0;
  cl_int status = CL_SUCCESS;
  cl_kernel kernel = NULL;
  cl_mem unused = NULL;
  const char *name = cl->info->name;
  CLB_TRY(peak_kernel(peak, CLB_FP32, "empty_kernel", &kernel, err));
  unused = clCreateBuffer(cl->context, CL_MEM_WRITE_ONLY, sizeof(cl_float), NULL, &status);
  CLB_CHECK(status, "clCreateBuffer", name);
  CLB_CHECK(clSetKernelArg(kernel, 0, sizeof unused, &unused), "clSetKernelArg", name);
  struct launch l = {cl->queue, kernel, 1, 1, name};
  const struct clb_measure_runs_config sync = {LAUNCH_WARMUP_RUNS, LAUNCH_SYNC_RUNS,
                                               LAUNCH_SYNC_RUNS, 0.0, 1};
  struct clb_timing timing;
  out->sync_s = NAN;
  if (isolated) {
    CLB_TRY(clb_measure_runs(cl->queue, name, launch_step, &l, &sync, &timing, err));
    out->sync_s = timing.device.median;
  }
  double bursts[LAUNCH_QUEUED_BURSTS], warm_up;
  CLB_TRY(clb_measure_queued(cl->queue, name, launch_step, &l, LAUNCH_WARMUP_RUNS, &warm_up, err));
  for (size_t i = 0; i < LAUNCH_QUEUED_BURSTS; i++)
    CLB_TRY(
        clb_measure_queued(cl->queue, name, launch_step, &l, LAUNCH_QUEUED_RUNS, &bursts[i], err));
  out->queued_s = clb_stats_quantile(bursts, LAUNCH_QUEUED_BURSTS, 0.5);
cleanup:
  if (unused)
    clReleaseMemObject(unused);
  if (kernel)
    clReleaseKernel(kernel);
  return rc;
}

int clb_peak_launch(struct clb_peak *peak, struct clb_launch_cost *out, struct clb_error *err) {
  return measure_launch(peak, 1, out, err);
}

int clb_peak_launch_queued(struct clb_peak *peak, double *queued_s, struct clb_error *err) {
  struct clb_launch_cost cost;
  int rc = measure_launch(peak, 0, &cost, err);
  *queued_s = rc == 0 ? cost.queued_s : NAN;
  return rc;
}
