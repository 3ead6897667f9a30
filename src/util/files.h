/* Files and folders: files that appear complete or not at all (written to
 * PATH.tmp, renamed into place only when every write succeeded, so an
 * interrupted run never leaves a file that looks finished), mkdir -p, and
 * reading a whole file. */
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

/* Writes `size` bytes to PATH atomically (open, write, commit). */
int clb_file_write_atomic(const char *path, const void *data, size_t size, struct clb_error *err);

/* Creates DIR and every missing folder above it, like mkdir -p. */
int clb_mkdir_p(const char *dir, struct clb_error *err);

/* Creates the folders above FILE (not FILE itself). */
int clb_mkdir_parents(const char *file, struct clb_error *err);

/* Reads a whole file into *text (malloc'd, NUL-terminated; *size excludes the
 * NUL, which may also appear inside a binary file). */
int clb_file_read(const char *path, char **text, size_t *size, struct clb_error *err);

/* The file beside a results CSV: PATH with ".csv" replaced by (or, without
 * it, followed by) `suffix` (RUN.csv -> RUN.config, RUN.passes.csv). */
void clb_path_sibling(const char *path, const char *suffix, char *buf, size_t size);

/* Whether `path` ends in `suffix`. */
int clb_path_ends_with(const char *path, const char *suffix);

#endif
