#include "util/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/files.h"

void clb_sbuf_append(struct clb_sbuf *sb, const char *data, size_t n) {
  if (sb->failed)
    return;
  if (sb->len + n + 1 > sb->cap) {
    /* Doubling keeps a long run of small appends linear. */
    size_t cap = sb->cap ? sb->cap : 4096;
    while (cap < sb->len + n + 1)
      cap *= 2;
    char *grown = realloc(sb->text, cap);
    if (!grown) {
      sb->failed = 1;
      return;
    }
    sb->text = grown;
    sb->cap = cap;
  }
  if (n)
    memcpy(sb->text + sb->len, data, n);
  sb->len += n;
  sb->text[sb->len] = '\0';
}

void clb_sbuf_puts(struct clb_sbuf *sb, const char *s) {
  clb_sbuf_append(sb, s, strlen(s));
}

void clb_sbuf_printf(struct clb_sbuf *sb, const char *fmt, ...) {
  /* Most pieces are short: format on the stack, allocate only for long ones. */
  char small[1024];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(small, sizeof small, fmt, args);
  va_end(args);
  if (n < 0) {
    sb->failed = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    clb_sbuf_append(sb, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    sb->failed = 1;
    return;
  }
  va_start(args, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, args);
  va_end(args);
  clb_sbuf_append(sb, big, (size_t)n);
  free(big);
}

void clb_sbuf_destroy(struct clb_sbuf *sb) {
  if (!sb)
    return;
  free(sb->text);
  *sb = (struct clb_sbuf){0};
}

int clb_sbuf_write_atomic(const struct clb_sbuf *sb, const char *path, struct clb_error *err) {
  if (sb->failed)
    return clb_failf(err, CLB_E_NOMEM, "%s: out of memory while composing it", path);
  return clb_file_write_atomic(path, sb->text ? sb->text : "", sb->len, err);
}
