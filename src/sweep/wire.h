/* The pipe between `clbatch run` and its per-device worker processes: fixed
 * size messages (the same binary writes and reads them). */
#ifndef CLB_SWEEP_WIRE_H
#define CLB_SWEEP_WIRE_H

#include <stdint.h>

#include "results/results.h"

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

#endif
