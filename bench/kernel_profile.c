/* Where a step's device time goes, kernel by kernel, on any OpenCL runtime:
 * an LD_PRELOAD library that wraps clEnqueueNDRangeKernel, waits for each
 * kernel and adds its profiling-event duration (START to END) to a per-name
 * total. Waiting serialises the queue, so wall times under it mean nothing;
 * the per-kernel device times are what it is for. CLBlast's kernels
 * (Xgemm, XgemmDirectTN, Xgemv, CopyMatrixFast, ...) are counted too, as
 * CLBlast enqueues through the same loader.
 *
 *   cc -O2 -shared -fPIC -o build-bench/kernel_profile.so bench/kernel_profile.c -ldl
 *   KERNEL_PROFILE_OUT=/tmp/prof LD_PRELOAD=$PWD/build-bench/kernel_profile.so clbatch run ...
 *
 * Each process writes KERNEL_PROFILE_OUT.PID at exit: one line per platform
 * and kernel, "platform<TAB>kernel<TAB>launches<TAB>total_ns", for
 * bench/kernel_profile.py to sum. The queue must have profiling enabled
 * (clbatch's queues do); kernels on other queues are counted as unknown.
 * KERNEL_PROFILE_SIZES=1 counts each launch shape apart (the name gains
 * "[global/local]"): a step's three Xgemv calls of different shapes, say,
 * are three lines. */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ENTRIES 512

struct entry {
  char platform[64];
  char kernel[96];
  unsigned long long launches, total_ns;
};

static struct entry entries[MAX_ENTRIES];
static size_t entry_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

typedef cl_int (*enqueue_fn)(cl_command_queue, cl_kernel, cl_uint, const size_t *,
                             const size_t *, const size_t *, cl_uint, const cl_event *,
                             cl_event *);

static void platform_of(cl_command_queue queue, char *out, size_t size) {
  cl_device_id device = NULL;
  cl_platform_id platform = NULL;
  snprintf(out, size, "unknown");
  if (clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof device, &device, NULL) == CL_SUCCESS &&
      clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL) ==
          CL_SUCCESS)
    clGetPlatformInfo(platform, CL_PLATFORM_NAME, size, out, NULL);
  out[size - 1] = '\0';
}

static void record(const char *platform, const char *kernel, unsigned long long ns) {
  pthread_mutex_lock(&lock);
  size_t i = 0;
  while (i < entry_count &&
         (strcmp(entries[i].platform, platform) || strcmp(entries[i].kernel, kernel)))
    i++;
  if (i == entry_count && entry_count < MAX_ENTRIES) {
    snprintf(entries[i].platform, sizeof entries[i].platform, "%s", platform);
    snprintf(entries[i].kernel, sizeof entries[i].kernel, "%s", kernel);
    entry_count++;
  }
  if (i < entry_count) {
    entries[i].launches++;
    entries[i].total_ns += ns;
  }
  pthread_mutex_unlock(&lock);
}

static void append_shape(char *name, size_t size, cl_uint dims, const size_t *global,
                         const size_t *local) {
  size_t used = strlen(name);
  for (cl_uint d = 0; d < dims && used < size; d++)
    used += (size_t)snprintf(name + used, size - used, "%s%zu", d ? "x" : "[", global[d]);
  for (cl_uint d = 0; d < dims && used < size; d++)
    used +=
        (size_t)snprintf(name + used, size - used, "%s%zu", d ? "x" : "/", local ? local[d] : 0);
  if (used < size)
    snprintf(name + used, size - used, "]");
}

cl_int clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel, cl_uint dims,
                              const size_t *offset, const size_t *global, const size_t *local,
                              cl_uint wait_count, const cl_event *wait_list, cl_event *event) {
  static enqueue_fn real;
  if (!real)
    real = (enqueue_fn)dlsym(RTLD_NEXT, "clEnqueueNDRangeKernel");
  cl_event own = NULL;
  cl_int status =
      real(queue, kernel, dims, offset, global, local, wait_count, wait_list, event ? event : &own);
  if (status != CL_SUCCESS)
    return status;
  cl_event done = event ? *event : own;
  cl_ulong start = 0, end = 0;
  char name[96] = "unknown", platform[64];
  clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
  name[sizeof name - 1] = '\0';
  if (getenv("KERNEL_PROFILE_SIZES"))
    append_shape(name, sizeof name, dims, global, local);
  platform_of(queue, platform, sizeof platform);
  if (clWaitForEvents(1, &done) == CL_SUCCESS &&
      clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) ==
          CL_SUCCESS &&
      clGetEventProfilingInfo(done, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) ==
          CL_SUCCESS &&
      end >= start)
    record(platform, name, end - start);
  if (own)
    clReleaseEvent(own);
  return status;
}

__attribute__((destructor)) static void write_profile(void) {
  const char *base = getenv("KERNEL_PROFILE_OUT");
  if (!base || entry_count == 0)
    return;
  char path[4096];
  snprintf(path, sizeof path, "%s.%ld", base, (long)getpid());
  FILE *out = fopen(path, "w");
  if (!out)
    return;
  for (size_t i = 0; i < entry_count; i++)
    fprintf(out, "%s\t%s\t%llu\t%llu\n", entries[i].platform, entries[i].kernel,
            entries[i].launches, entries[i].total_ns);
  fclose(out);
}
