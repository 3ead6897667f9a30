/* Needs RTLD_NEXT, a GNU extension. */
#define _GNU_SOURCE
#include "cl/launch_count.h"

#include <CL/cl.h>
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>

typedef cl_int(CL_API_CALL *enqueue_kernel_fn)(cl_command_queue, cl_kernel, cl_uint, const size_t *,
                                               const size_t *, const size_t *, cl_uint,
                                               const cl_event *, cl_event *);

static atomic_ullong launches;
static _Atomic(enqueue_kernel_fn) loader_enqueue;

unsigned long long clb_launch_count(void) {
  return atomic_load(&launches);
}

/* The loader's entry point, found once; two threads that race here store
 * the same pointer. */
static enqueue_kernel_fn find_loader_enqueue(void) {
  enqueue_kernel_fn found = atomic_load(&loader_enqueue);
  if (found)
    return found;
  void *symbol = dlsym(RTLD_NEXT, "clEnqueueNDRangeKernel");
  if (!symbol) {
    fprintf(stderr, "clbatch: the OpenCL loader has no clEnqueueNDRangeKernel: %s\n", dlerror());
    return NULL;
  }
  /* POSIX guarantees that a dlsym result converts to a function pointer. */
  *(void **)&found = symbol;
  atomic_store(&loader_enqueue, found);
  return found;
}

CL_API_ENTRY cl_int CL_API_CALL clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel,
                                                       cl_uint work_dim,
                                                       const size_t *global_offset,
                                                       const size_t *global_size,
                                                       const size_t *local_size, cl_uint wait_count,
                                                       const cl_event *wait_list, cl_event *event) {
  enqueue_kernel_fn enqueue = find_loader_enqueue();
  if (!enqueue)
    return CL_INVALID_OPERATION;
  atomic_fetch_add(&launches, 1);
  return enqueue(queue, kernel, work_dim, global_offset, global_size, local_size, wait_count,
                 wait_list, event);
}
