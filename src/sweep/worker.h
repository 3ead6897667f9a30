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

/* Runs the whole plan on device `device_index` ("P:D") as repeat number
 * `repeat` (1, 2, ...) and pass `pass` (1 without --passes), skipping rows
 * the rows file (plan->out_path) already holds for that pass when
 * plan->resume is set. Every model and precision is prepared first (peak,
 * exact noise, probes); then the configurations are set up in plan order and
 * timed in turns, as many at a time as a quarter of the device's memory holds
 * (one at a time with plan->interleave off). Returns an exit code. */
int clb_worker_run(const struct clb_plan *plan, const char *device_index, size_t repeat,
                   size_t pass, int fd);

#endif
