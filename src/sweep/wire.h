/* The pipe between `clbatch run` and its per-device worker processes:
 * messages of a fixed header and a payload that depends on the kind (the
 * same binary writes and reads them). */
#ifndef CLB_SWEEP_WIRE_H
#define CLB_SWEEP_WIRE_H

#include <stdint.h>

#include "results/results.h"

enum clb_wire_kind {
  CLB_WIRE_BEGIN = 1,  /* a configuration is being set up; `row` holds its identity */
  CLB_WIRE_ROW = 2,    /* a finished row */
  CLB_WIRE_LOG = 3,    /* a line for the user (stderr) in `text` */
  CLB_WIRE_DONE = 4,   /* every configuration of the device is done */
  CLB_WIRE_ACTIVE = 5, /* configuration `sequence` is on the device now; `running` are being timed */
};

struct clb_wire {
  uint32_t kind;
  uint32_t sequence; /* BEGIN, ROW, ACTIVE: the worker numbers its BEGINs 0, 1, 2, ... */
  uint32_t running;  /* ACTIVE */
  char text[1024];   /* LOG */
  struct clb_row row; /* BEGIN, ROW */
};

int clb_wire_send(int fd, const struct clb_wire *message);
/* 1 = a message, 0 = end of stream, negative = error or a torn message. */
int clb_wire_recv(int fd, struct clb_wire *message);

#endif
