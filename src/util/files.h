/* Files that appear complete or not at all: written to PATH.tmp, renamed into
 * place only when every write succeeded, so an interrupted run never leaves a
 * file that looks finished. */
#ifndef CLB_UTIL_FILES_H
#define CLB_UTIL_FILES_H

#include <stdio.h>

#include "util/errors.h"

struct clb_atomic_file {
  FILE *file;
  char path[4096];
  char tmp[4100];
};

/* Opens PATH.tmp for writing. */
int clb_atomic_open(struct clb_atomic_file *out, const char *path, struct clb_error *err);

/* Closes and renames into place; on any failure removes the temporary file. */
int clb_atomic_commit(struct clb_atomic_file *af, struct clb_error *err);

/* Closes and removes the temporary file (after a failure of the caller's own). */
void clb_atomic_abandon(struct clb_atomic_file *af);

#endif
