#include "util/text.h"

#include <ctype.h>
#include <string.h>

char *clb_trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  size_t len = strlen(s);
  while (len > 0 && isspace((unsigned char)s[len - 1]))
    s[--len] = '\0';
  return s;
}

int clb_is_blank(const char *s) {
  for (; *s; s++)
    if (!isspace((unsigned char)*s))
      return 0;
  return 1;
}

void clb_copy_cut(char *dst, size_t size, const char *src) {
  size_t len = strlen(src);
  if (len >= size) {
    len = size - 1;
    while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
      len--;
  }
  memcpy(dst, src, len);
  dst[len] = '\0';
}

size_t clb_utf8_width(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80; /* continuation bytes add nothing */
  return n;
}

void clb_safe_name(char *dst, size_t size, const char *src) {
  size_t i = 0;
  if (size == 0)
    return;
  for (; src[i] && i + 1 < size; i++)
    dst[i] = (isalnum((unsigned char)src[i]) || src[i] == '-') ? src[i] : '_';
  dst[i] = '\0';
}

void clb_put_wrapped(const char *text, size_t n, size_t column, size_t width, FILE *out) {
  const size_t room = width > column + 1 ? width - column : 1;
  while (n > room) {
    size_t cut = room;
    while (cut > 0 && text[cut] != ' ')
      cut--;
    if (cut == 0) /* no space within the room: break after the long word */
      while (cut < n && text[cut] != ' ')
        cut++;
    size_t kept = cut;
    while (kept > 0 && text[kept - 1] == ' ')
      kept--;
    fprintf(out, "%.*s", (int)kept, text);
    while (cut < n && text[cut] == ' ')
      cut++;
    text += cut;
    n -= cut;
    if (n > 0)
      fprintf(out, "\n%*s", (int)column, "");
  }
  fprintf(out, "%.*s", (int)n, text);
}
