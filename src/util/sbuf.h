/* A growable string for text composed in memory before it is written: report
 * pages, tables, gnuplot scripts and data files.
 *
 * Out of memory is sticky: the first failed growth sets `failed`, every later
 * append is a no-op, and the caller checks once at the end (or lets
 * clb_sbuf_write_atomic refuse to write a partial text). */
#ifndef CLB_UTIL_SBUF_H
#define CLB_UTIL_SBUF_H

#include <stddef.h>

#include "util/errors.h"

/* Starts as {0}: empty, text NULL until the first append. */
struct clb_sbuf {
  char *text;      /* NUL-terminated once anything was appended; owned */
  size_t len, cap; /* bytes in text (without the NUL), bytes allocated */
  int failed;      /* out of memory once: every later append is a no-op */
};

/* Appends `n` bytes (which may include NULs). */
void clb_sbuf_append(struct clb_sbuf *sb, const char *data, size_t n);

void clb_sbuf_puts(struct clb_sbuf *sb, const char *s);

/* Appends printf output, of any length, under the caller's locale. */
void clb_sbuf_printf(struct clb_sbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Releases the text; the buffer is {0} again and can be reused. */
void clb_sbuf_destroy(struct clb_sbuf *sb);

/* Writes the text to PATH atomically (util/files.h); CLB_E_NOMEM without
 * writing anything when an append failed, so a partial text never lands. */
int clb_sbuf_write_atomic(const struct clb_sbuf *sb, const char *path, struct clb_error *err);

#endif
