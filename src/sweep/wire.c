#include "sweep/wire.h"

#include <errno.h>
#include <unistd.h>

int clb_wire_send(int fd, const struct clb_wire *message) {
  const char *p = (const char *)message;
  size_t left = sizeof *message;
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

int clb_wire_recv(int fd, struct clb_wire *message) {
  char *p = (char *)message;
  size_t got = 0;
  while (got < sizeof *message) {
    ssize_t n = read(fd, p + got, sizeof *message - got);
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
