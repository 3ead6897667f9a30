/* Growing a heap array by doubling: the one growth rule of every list that
 * is filled one item at a time (rows read, tokens, candidates, entries). */
#ifndef CLB_UTIL_GROW_H
#define CLB_UTIL_GROW_H

#include <stddef.h>

/* `items` (an array of *capacity elements of `size` bytes; NULL with a
 * capacity of 0) made to hold at least `needed` elements: its capacity
 * doubles, from `first` when it had none, until it is enough. Returns the
 * array, moved or not, with *capacity updated; NULL when out of memory,
 * when the size would overflow or when `size` is 0, and then `items` and *capacity are
 * untouched and still owned by the caller. */
void *clb_grow(void *items, size_t *capacity, size_t needed, size_t size, size_t first);

#endif
