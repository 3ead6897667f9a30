/* The measuring side of `clbatch run`: one child process per device runs the
 * plan on that device and sends each finished row to the parent over a pipe.
 * A crash or hang of the driver kills only this process. */
#ifndef CLB_SWEEP_WORKER_H
#define CLB_SWEEP_WORKER_H

#include <stdint.h>

#include "results/results.h"
#include "sweep/plan.h"

enum clb_wire_kind {
  CLB_WIRE_BEGIN = 1, /* a configuration starts; `row` holds its identity columns */
  CLB_WIRE_ROW = 2,   /* a finished row */
  CLB_WIRE_LOG = 3,   /* a line for the user (stderr) */
  CLB_WIRE_DONE = 4,  /* every configuration of the device is done */
};

/* Same binary on both ends, so the struct travels as it is. */
struct clb_wire {
  uint32_t kind;
  char text[1024];
  struct clb_row row;
};

int clb_wire_send(int fd, const struct clb_wire *message);
/* 1 = a message, 0 = end of stream, negative = error or a torn message. */
int clb_wire_recv(int fd, struct clb_wire *message);

/* Exit codes of a worker. */
#define CLB_WORKER_OK 0
#define CLB_WORKER_FAILED 1
#define CLB_WORKER_CONTEXT_LOST 3 /* CL_OUT_OF_RESOURCES: the context is suspect; respawn */

/* Runs the whole plan on device `device_index` ("P:D"), skipping rows the
 * results file already holds when plan->resume is set. Returns an exit code. */
int clb_worker_run(const struct clb_plan *plan, const char *device_index, int fd);

/* The resume key of a row: host, device index and name, model, precision,
 * batch and data_on. */
void clb_row_key(const struct clb_row *row, char *key, size_t size);

#endif
