#include "util/grow.h"

#include <stdint.h>
#include <stdlib.h>

void *clb_grow(void *items, size_t *capacity, size_t needed, size_t size, size_t first) {
  if (needed <= *capacity)
    return items;
  size_t grown = *capacity ? *capacity : (first ? first : 1);
  while (grown < needed) {
    if (grown > SIZE_MAX / 2)
      return NULL;
    grown *= 2;
  }
  if (size == 0 || grown > SIZE_MAX / size)
    return NULL;
  void *moved = realloc(items, grown * size);
  if (!moved)
    return NULL;
  *capacity = grown;
  return moved;
}
