/* libFuzzer target: the readers of the `clbatch train` per-epoch and
 * --summary-out CSVs and of the study CSV (util/csv_table through
 * results/train_csv and results/study_csv) on arbitrary bytes. Every failure
 * must say why, and whatever is read must write out again stably: reading
 * back what the writer wrote and writing it once more gives the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "results/study_csv.h"
#include "results/train_csv.h"

/* Per-epoch flags that keep every column the file had. */
static unsigned train_flags(uint64_t found) {
  unsigned flags = 0;
  if (found & ((uint64_t)1 << CLB_TRAIN_CSV_COL_accuracy))
    flags |= CLB_TRAIN_CSV_CLASSIFIER;
  if (found & (((uint64_t)1 << CLB_TRAIN_CSV_COL_val_loss) |
               ((uint64_t)1 << CLB_TRAIN_CSV_COL_gap) |
               ((uint64_t)1 << CLB_TRAIN_CSV_COL_val_accuracy)))
    flags |= CLB_TRAIN_CSV_VALIDATION;
  return flags;
}

/* Writes `count` rows of `table` into a string (malloc'd). */
static char *write_all(const struct clb_csv_table *table, unsigned flags, const void *rows,
                       size_t count, size_t *size) {
  char *text = NULL;
  FILE *out = open_memstream(&text, size);
  if (!out)
    abort();
  if (clb_csv_table_write_header(out, table, flags, NULL) != 0)
    abort();
  for (size_t i = 0; i < count; i++)
    if (clb_csv_table_write_row(out, table, flags, (const char *)rows + i * table->row_size, NULL) != 0)
      abort();
  fclose(out);
  return text;
}

/* Reads `path` with `table`; when it reads, checks the write-read-write
 * round trip. */
static void check(const struct clb_csv_table *table, const char *path, int per_epoch) {
  void *rows = NULL;
  size_t count = 0;
  struct clb_csv_table_info info;
  struct clb_error err = {0};
  if (clb_csv_table_read(table, path, &rows, &count, &info, &err) != 0) {
    if (err.message[0] == '\0')
      abort(); /* every failure says why */
    free(rows);
    return;
  }
  unsigned flags = per_epoch ? train_flags(info.found) : 0;
  size_t size1 = 0, size2 = 0;
  char *first = write_all(table, flags, rows, count, &size1);
  free(rows);
  rows = NULL;
  size_t again = 0;
  const char *copy = fuzz_path((const uint8_t *)first, size1);
  if (clb_csv_table_read(table, copy, &rows, &again, NULL, &err) != 0 || again != count)
    abort(); /* the writer's own output must read */
  char *second = write_all(table, flags, rows, again, &size2);
  if (size1 != size2 || memcmp(first, second, size1) != 0)
    abort();
  free(second);
  free(first);
  free(rows);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check(&clb_train_csv_table, fuzz_path(data, size), 1);
  check(&clb_train_summary_csv_table, fuzz_path(data, size), 0);
  check(&clb_study_csv_table, fuzz_path(data, size), 0);
  return 0;
}
