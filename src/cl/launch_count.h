/* How many kernels this process has launched, CLBlast's included.
 *
 * A step's launch floor is its kernel count times the cost of one launch.
 * clbatch's own kernels are known, but CLBlast launches one to five kernels
 * per routine depending on the shape and its parameters (direct or indirect
 * GEMM, padding and transposing copies), and OpenCL has no counter. So
 * clbatch counts at the API: launch_count.c defines clEnqueueNDRangeKernel,
 * which the executable's symbol table puts ahead of the OpenCL loader's for
 * every caller in the process, CLBlast included, and forwards each call to
 * the loader. */
#ifndef CLB_CL_LAUNCH_COUNT_H
#define CLB_CL_LAUNCH_COUNT_H

/* Kernel launches (clEnqueueNDRangeKernel calls) since the process started,
 * failed ones included; all threads. Read it before and after the calls to
 * be counted. */
unsigned long long clb_launch_count(void);

#endif
