/* tuned.conf: where tuned CLBlast parameters live between runs. Reading it
 * into entries, finding the entries of a device, and rewriting it with a
 * device's new entries while every other section stays as it was.
 *
 * Format: blank lines, '#' comments, and sections
 *   [device=NAME|driver=VERSION|precision=fp32|kernel=Xgemm]
 *   KEY = VALUE
 * where an UPPER_CASE key is a CLBlast parameter (a whole number) and a
 * lower_case key a field clbatch records (use_defaults = 0 or 1 is the only
 * one read back). No OpenCL or CLBlast here: applying is blas/tune.c's job. */
#ifndef CLB_BLAS_TUNE_STORE_H
#define CLB_BLAS_TUNE_STORE_H

#include <stddef.h>

#include "blas/tune.h"
#include "cl/platform.h"
#include "util/errors.h"
#include "util/precision.h"

/* One section. */
struct clb_tune_entry {
  char device[256]; /* as the header holds it (clb_tune_store_device_name) */
  char driver[128];
  char kernel[64];
  enum clb_precision precision;
  int use_defaults;
  size_t param_count;
  char names[CLB_TUNE_MAX_PARAMS][32];
  size_t values[CLB_TUNE_MAX_PARAMS];
  size_t start, end; /* byte range of the whole section in the file's text */
};

/* A whole file: its text and its sections. */
struct clb_tune_file {
  char *text; /* owned */
  size_t length;
  struct clb_tune_entry *entries; /* owned */
  size_t count;
};

/* Reads and parses `path`. A missing file is an empty one, not an error; a
 * malformed line is CLB_E_PARSE naming the file and line. */
int clb_tune_store_load(const char *path, struct clb_tune_file *file, struct clb_error *err);

void clb_tune_store_destroy(struct clb_tune_file *file);

/* 1 when `entry` is this device's (name and driver version) for `precision`. */
int clb_tune_store_matches(const struct clb_tune_entry *entry, const struct clb_device_info *dev,
                           enum clb_precision precision);

/* The first entry of this device (name and driver version) and precision
 * for `kernel`, or for any kernel when `kernel` is NULL; NULL when none. */
const struct clb_tune_entry *clb_tune_store_find(const struct clb_tune_file *file,
                                                 const struct clb_device_info *dev,
                                                 enum clb_precision precision, const char *kernel);

/* The first kernel of a search (clb_tune_kernel_names) without an entry
 * for this device and precision, or NULL when every one has one. */
const char *clb_tune_store_missing(const struct clb_tune_file *file,
                                   const struct clb_device_info *dev, enum clb_precision precision);

/* Rewrites `path` with one section per kernel of `report` for this device,
 * driver and precision (replacing older ones), keeping every other section
 * as it was; a file that does not parse is never overwritten. Written to a
 * temporary file and renamed into place. */
int clb_tune_store_save(const char *path, const struct clb_device_info *dev,
                        enum clb_precision precision, const struct clb_tune_report *report,
                        const struct clb_tune_options *options, struct clb_error *err);

#endif
