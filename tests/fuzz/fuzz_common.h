/* Shared by the libFuzzer targets: the APIs under test take a path, so each
 * input is written to a private temporary file first. */
#ifndef CLB_FUZZ_COMMON_H
#define CLB_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_file[64];

static void fuzz_remove(void) { unlink(fuzz_file); }

static const char *fuzz_path(const uint8_t *data, size_t size) {
  char *path = fuzz_file;
  if (!path[0]) {
    snprintf(path, sizeof fuzz_file, "/tmp/clbatch-fuzz-%d.csv", (int)getpid());
    atexit(fuzz_remove);
  }
  FILE *file = fopen(path, "wb");
  if (!file)
    abort();
  if (size && fwrite(data, 1, size, file) != size)
    abort();
  fclose(file);
  return path;
}

#endif
