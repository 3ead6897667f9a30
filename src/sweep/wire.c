#include "sweep/wire.h"

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#define HEADER_SIZE offsetof(struct clb_wire, text)

/* Only the part a kind uses travels: an ACTIVE message every round must not
 * drag a whole row through the pipe. */
static void payload(const struct clb_wire *message, size_t *offset, size_t *size) {
  switch (message->kind) {
  case CLB_WIRE_LOG:
    *offset = offsetof(struct clb_wire, text);
    *size = sizeof message->text;
    break;
  case CLB_WIRE_BEGIN:
  case CLB_WIRE_ROW:
    *offset = offsetof(struct clb_wire, row);
    *size = sizeof message->row;
    break;
  default:
    *offset = *size = 0;
  }
}

static int write_all(int fd, const char *p, size_t left) {
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return CLB_E_IO;
    p += n;
    left -= (size_t)n;
  }
  return 0;
}

/* 1 = all read, 0 = end of stream before the first byte, CLB_E_IO otherwise. */
static int read_all(int fd, char *p, size_t size) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fd, p + got, size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return CLB_E_IO;
    if (n == 0)
      return got == 0 ? 0 : CLB_E_IO;
    got += (size_t)n;
  }
  return 1;
}

int clb_wire_send(int fd, const struct clb_wire *message) {
  size_t offset, size;
  payload(message, &offset, &size);
  int rc = write_all(fd, (const char *)message, HEADER_SIZE);
  if (rc == 0 && size > 0)
    rc = write_all(fd, (const char *)message + offset, size);
  return rc;
}

int clb_wire_recv(int fd, struct clb_wire *message) {
  int got = read_all(fd, (char *)message, HEADER_SIZE);
  if (got <= 0)
    return got;
  size_t offset, size;
  payload(message, &offset, &size);
  if (size == 0)
    return 1;
  got = read_all(fd, (char *)message + offset, size);
  return got == 1 ? 1 : CLB_E_IO; /* a header without its payload is a torn message */
}
