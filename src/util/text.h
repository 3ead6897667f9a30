/* Small text helpers: trimming, blank tests, display width, file-safe names. */
#ifndef CLB_UTIL_TEXT_H
#define CLB_UTIL_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Removes leading and trailing white space (isspace: blanks, tabs, CR, LF) in
 * place; returns the first kept character. */
char *clb_trim(char *s);

/* 1 when `s` holds only white space (or nothing). */
int clb_is_blank(const char *s);

/* Display width of UTF-8 text in code points: right for the Latin text, em
 * dashes and micro signs of report tables and plot legends (no wide or
 * combining characters there). */
size_t clb_utf8_width(const char *s);

/* Copies `src` into `dst` (of `size` bytes, at least 1), cutting an
 * over-long text at a UTF-8 character boundary so the copy stays valid. */
void clb_copy_cut(char *dst, size_t size, const char *src);

/* Prints n bytes of text from `column` on (the cursor is there), broken at
 * spaces so no line passes `width` columns, each further line indented to
 * `column`; a word longer than the room keeps its own line. Spaces inside a
 * line are kept as written. No newline at the end. */
void clb_put_wrapped(const char *text, size_t n, size_t column, size_t width, FILE *out);

/* A copy usable in a file name or a label: letters, digits and '-' are kept,
 * every other byte becomes '_'; cut to fit `size`. */
void clb_safe_name(char *dst, size_t size, const char *src);

#endif
