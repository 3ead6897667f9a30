/* A monotonic clock for pure code (deadlines, progress, host-side timing):
 * no OpenCL, so modules that only need the time do not depend on measure/. */
#ifndef CLB_UTIL_CLOCK_H
#define CLB_UTIL_CLOCK_H

/* Seconds on a monotonic clock (CLOCK_MONOTONIC); only differences mean anything. */
double clb_now(void);

#endif
