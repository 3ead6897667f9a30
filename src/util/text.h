/* Small text helpers: trimming, blank tests, display width, file-safe names. */
#ifndef CLB_UTIL_TEXT_H
#define CLB_UTIL_TEXT_H

#include <stddef.h>

/* Removes leading and trailing white space (isspace: blanks, tabs, CR, LF) in
 * place; returns the first kept character. */
char *clb_trim(char *s);

/* 1 when `s` holds only white space (or nothing). */
int clb_is_blank(const char *s);

/* Display width of UTF-8 text in code points: right for the Latin text, em
 * dashes and micro signs of report tables and plot legends (no wide or
 * combining characters there). */
size_t clb_utf8_width(const char *s);

/* A copy usable in a file name or a label: letters, digits and '-' are kept,
 * every other byte becomes '_'; cut to fit `size`. */
void clb_safe_name(char *dst, size_t size, const char *src);

#endif
