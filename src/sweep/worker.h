/* The measuring side of `clbatch run`: one child process per device runs the
 * plan on that device and sends each finished row to the parent over a pipe.
 * A crash or hang of the driver kills only this process. */
#ifndef CLB_SWEEP_WORKER_H
#define CLB_SWEEP_WORKER_H

#include <stdint.h>

#include "sweep/plan.h"

/* Exit codes of a worker. */
#define CLB_WORKER_OK 0
#define CLB_WORKER_FAILED 1
#define CLB_WORKER_CONTEXT_LOST 3 /* CL_OUT_OF_RESOURCES: the context is suspect; respawn */

/* Runs the whole plan on device `device_index` ("P:D"), skipping rows the
 * results file already holds when plan->resume is set. Returns an exit code. */
int clb_worker_run(const struct clb_plan *plan, const char *device_index, int fd);

#endif
