/* libFuzzer target: the strict option parsers and the run plan. The first
 * byte picks a parser; the rest (NUL-terminated) is its text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sweep/plan.h"
#include "util/parse.h"

static const char *const keys[] = {
    "batch",       "samples",   "features",      "hidden",          "classes",
    "outputs",     "model",     "precision",     "data-on",         "seed",
    "lr",          "min-time",  "max-time",      "max-reps",        "warmup",
    "target-ci",   "target-cv", "no-interleave", "repeat",          "tune",
    "tune-budget", "timeout",   "noise-batches", "noise-at",        "format",
    "quiet",       "resume",    "no-shuffle",    "max-batch-probe", "device",
    "out"};

static int count_entries(const char *key, const char *value, void *ctx) {
  (void)key;
  (void)value;
  ++*(size_t *)ctx;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 4096)
    return 0;
  char *text = malloc(size);
  memcpy(text, data + 1, size - 1);
  text[size - 1] = '\0';
  struct clb_error err = {0};
  unsigned choice = data[0];
  switch (choice % 6) {
  case 0: {
    size_t out[CLB_MAX_BATCHES], count = 0;
    size_t max_value = (choice / 6) % 2 ? 0 : 1000;
    if (clb_parse_batches(text, max_value, out, CLB_MAX_BATCHES, &count, &err) == 0) {
      /* Ascending, distinct, within bounds; the 0 of "N" only last. */
      for (size_t i = 0; i < count; i++) {
        if (out[i] == 0 && i + 1 != count)
          abort();
        if (max_value && out[i] > max_value)
          abort();
        if (i && out[i] != 0 && out[i] <= out[i - 1])
          abort();
      }
    } else if (count != 0) {
      abort();
    }
    break;
  }
  case 1: {
    size_t value = 0;
    if (clb_parse_size(text, 1, 1u << 20, "--size", &value, &err) == 0 &&
        (value < 1 || value > (1u << 20)))
      abort();
    break;
  }
  case 2: {
    double value = 0;
    if (clb_parse_double(text, -1.0, 1e6, "--x", &value, &err) == 0 &&
        !(value >= -1.0 && value <= 1e6))
      abort();
    break;
  }
  case 3: {
    size_t entries = 0;
    clb_config_read(fuzz_path((const uint8_t *)text, strlen(text)), count_entries, &entries, &err);
    break;
  }
  case 4: {
    /* A whole config file applied to a plan, then checked. */
    struct clb_plan *plan = malloc(sizeof *plan);
    clb_plan_defaults(plan);
    plan->samples = 256;
    if (clb_plan_set(plan, "config", fuzz_path((const uint8_t *)text, strlen(text)), &err) == 0)
      clb_plan_finish(plan, plan->samples, &err);
    free(plan);
    break;
  }
  default: {
    struct clb_plan *plan = malloc(sizeof *plan);
    clb_plan_defaults(plan);
    const char *key = keys[(choice / 6) % (sizeof keys / sizeof keys[0])];
    if (clb_plan_set(plan, key, text, &err) == 0)
      clb_plan_finish(plan, 4096, &err);
    free(plan);
    break;
  }
  }
  free(text);
  return 0;
}
