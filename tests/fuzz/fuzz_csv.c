/* libFuzzer target: clb_data_load_csv on arbitrary bytes, as regression and
 * as classification data. Whatever it accepts must be a consistent data set. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "model/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_path(data, size);
  for (int classification = 0; classification < 2; classification++) {
    struct clb_dataset set = {0};
    struct clb_error err = {0};
    if (clb_data_load_csv(path, classification, &set, &err) == 0) {
      if (set.n == 0 || set.d == 0 || !set.x || !set.y)
        abort();
      for (size_t i = 0; i < set.n * set.d; i++)
        if (!isfinite(set.x[i]))
          abort();
      if (classification)
        for (size_t i = 0; i < set.n; i++)
          if (set.y[i] < 0 || set.y[i] >= (double)set.c)
            abort();
    } else if (err.message[0] == '\0') {
      abort(); /* every failure says why */
    }
    clb_dataset_destroy(&set);
  }
  return 0;
}
