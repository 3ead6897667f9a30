/* Strict parsers for command-line values and config files (pure functions).
 * Every parser rejects empty strings, trailing garbage, signs where they do
 * not belong, overflow and non-finite numbers, and says why in `err`. */
#ifndef CLB_UTIL_PARSE_H
#define CLB_UTIL_PARSE_H

#include <stddef.h>

#include "util/errors.h"

/* A positive integer in [min, max] (decimal; k/M/G suffixes = 1e3/1e6/1e9 not
 * accepted: sizes are plain). `what` names the option in messages. */
int clb_parse_size(const char *text, size_t min, size_t max, const char *what, size_t *out,
                   struct clb_error *err);

/* A finite double in [min, max]. */
int clb_parse_double(const char *text, double min, double max, const char *what, double *out,
                     struct clb_error *err);

/* A batch list: comma-separated items, each a number or a range
 * "A:B:xK" (A, A*K, ... up to B; K >= 2) or "A:B:+K" (A, A+K, ... up to B),
 * e.g. "1,2,4", "1:4096:x2", "32:512:+32". The literal "N" as an item means
 * the full data set and is returned as 0 (the caller substitutes N). Values
 * are sorted ascending and deduplicated, with the 0 of "N" sorted LAST (it is
 * the largest batch); at most `max_items` distinct values, else an error.
 * Every number is >= 1 and <= `max_value` (the number of samples when known;
 * SIZE_MAX or 0 means no limit), ranges need A <= B. No spaces, empty items
 * or trailing commas. Messages name the option "--batch" and the offending
 * item. *count is 0 on failure. */
int clb_parse_batches(const char *text, size_t max_value, size_t *out, size_t max_items,
                      size_t *count, struct clb_error *err);

/* A config file of `key = value` lines ('#' comments, blank lines allowed).
 * Calls `apply(key, value, ctx)` per entry; a non-zero return stops with that
 * code. A line without '=' or with an empty key is CLB_E_PARSE naming the line.
 * Details: key and value are trimmed of surrounding whitespace; the value runs
 * from the first '=' to the end of the line ('#' starts a comment only as the
 * first non-blank character of a line); an empty value is CLB_E_PARSE
 * ("FILE:LINE: key 'k' has no value"); an unreadable file is CLB_E_IO naming
 * the path. When `apply` fails, err->message gets "FILE:LINE: " in front of the
 * handler's own message (if it filled `err` with the same code) or of a generic
 * one. */
int clb_config_read(const char *path, int (*apply)(const char *key, const char *value, void *ctx),
                    void *ctx, struct clb_error *err);

/* One `key = value` line, split in place at its first '=': *key and *value
 * point into `line`, trimmed of surrounding whitespace (either may be empty,
 * for the caller to judge). Returns 0, or -1 when the line has no '='. The
 * reader above and readers of other `key = value` formats (tuned.conf's
 * sections) share it, so they agree on what a line means. */
int clb_config_split(char *line, char **key, char **value);

#endif
