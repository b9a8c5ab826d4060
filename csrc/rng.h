/* Randomness for jitter and ids: OS entropy (getrandom) and a small seedable PRNG
 * (xoshiro256**), so tests can replay the exact jitter sequence with a seed. */
#ifndef LAWS_RNG_H
#define LAWS_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct laws_rng { uint64_t s[4]; } laws_rng;

/* Fills buf with n bytes from the OS. Returns 0, or -1 if the OS has no entropy to give. */
int laws_rng_os_bytes(void *buf, size_t n);
void laws_rng_seed(laws_rng *r, uint64_t seed);   /* reproducible sequence */
int laws_rng_seed_os(laws_rng *r);                /* 0 ok, -1 if getrandom failed */
uint64_t laws_rng_next(laws_rng *r);
double laws_rng_double(laws_rng *r);              /* uniform in [0, 1) */
double laws_rng_uniform(laws_rng *r, double lo, double hi);  /* uniform in [lo, hi) */
/* Random (version 4) UUID, lower-case, 36 chars + NUL. Returns 0, or -1 if no entropy. */
int laws_uuid4(char out[37]);

#endif
