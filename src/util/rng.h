/* Random numbers, identical on every platform and C library. */
#ifndef CLB_UTIL_RNG_H
#define CLB_UTIL_RNG_H

#include <stddef.h>
#include <stdint.h>

/* One step of splitmix64: spreads any seed (0 included) over 64 bits. Also a
 * tiny generator of its own (the tuner's samples). */
uint64_t clb_splitmix64(uint64_t *state);

/* xoshiro256** seeded by splitmix64: fast, reproducible on every platform. */
struct clb_rng {
  uint64_t s[4];
};
void clb_rng_seed(struct clb_rng *rng, uint64_t seed);
uint64_t clb_rng_next(struct clb_rng *rng);
double clb_rng_uniform(struct clb_rng *rng); /* [0, 1) */
double clb_rng_normal(struct clb_rng *rng);  /* standard normal */
size_t clb_rng_below(struct clb_rng *rng, size_t n); /* uniform in [0, n), unbiased */

/* A uniformly random permutation of 0..n-1 (Fisher-Yates). */
void clb_rng_permutation(struct clb_rng *rng, uint32_t *perm, size_t n);

#endif
