/* Small text helpers shared by the parsers. */
#ifndef CLB_UTIL_TEXT_H
#define CLB_UTIL_TEXT_H

/* Removes leading and trailing white space (isspace: blanks, tabs, CR, LF) in
 * place; returns the first kept character. */
char *clb_trim(char *s);

/* 1 when `s` holds only white space (or nothing). */
int clb_is_blank(const char *s);

#endif
