/* Random numbers that are the same on every platform: xoshiro256** seeded by
 * splitmix64, independent of the C library's rand(). */
#include "util/rng.h"

#include <math.h>

static uint64_t rotl64(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

/* splitmix64 spreads any seed (0 included) over the 256-bit state, which
 * xoshiro requires to be not all zero. */
uint64_t clb_splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void clb_rng_seed(struct clb_rng *rng, uint64_t seed) {
  uint64_t state = seed;
  for (int i = 0; i < 4; i++)
    rng->s[i] = clb_splitmix64(&state);
}

uint64_t clb_rng_next(struct clb_rng *rng) {
  uint64_t *s = rng->s;
  uint64_t result = rotl64(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl64(s[3], 45);
  return result;
}

double clb_rng_uniform(struct clb_rng *rng) {
  /* The top 53 bits fill a double's mantissa exactly: every value is k/2^53. */
  return (double)(clb_rng_next(rng) >> 11) * 0x1.0p-53;
}

double clb_rng_normal(struct clb_rng *rng) {
  /* Box-Muller, keeping only the cosine branch: it consumes exactly two draws
   * per value, so the stream does not depend on a cached second value and the
   * struct stays a plain state vector. 1 - u lies in (0, 1], so log() is finite. */
  double u1 = 1.0 - clb_rng_uniform(rng);
  double u2 = clb_rng_uniform(rng);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925286766559 * u2);
}

size_t clb_rng_below(struct clb_rng *rng, size_t n) {
  if (n <= 1)
    return 0;
  /* Reject the lowest 2^64 mod n values so the remaining range is a multiple
   * of n and `r % n` is exactly uniform. */
  uint64_t bound = (uint64_t)n;
  uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    uint64_t r = clb_rng_next(rng);
    if (r >= threshold)
      return (size_t)(r % bound);
  }
}

void clb_rng_permutation(struct clb_rng *rng, uint32_t *perm, size_t n) {
  for (size_t i = 0; i < n; i++)
    perm[i] = (uint32_t)i;
  for (size_t i = n; i > 1; i--) {
    size_t j = clb_rng_below(rng, i);
    uint32_t tmp = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = tmp;
  }
}

