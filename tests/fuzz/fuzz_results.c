/* libFuzzer target: clb_results_read on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "results/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_path(data, size);
  struct clb_row *rows = NULL;
  size_t count = 0;
  char warning[512] = "";
  struct clb_error err = {0};
  int rc = clb_results_read(path, &rows, &count, warning, sizeof warning, &err);
  if (rc != 0 && err.message[0] == '\0')
    abort(); /* every failure says why */
  /* Whatever was read must be writable again. */
  FILE *sink = fopen("/dev/null", "w");
  if (sink) {
    for (size_t i = 0; rc == 0 && i < count; i++)
      clb_results_write_row(sink, &rows[i], NULL);
    fclose(sink);
  }
  free(rows);
  return 0;
}
