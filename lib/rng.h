/* Private: the seeded generator each handle owns (xoshiro256**, seeded
 * through splitmix64). Never shared between handles. */
#ifndef DGN_LIB_RNG_H
#define DGN_LIB_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct dgn_rng {
    uint64_t s[4];
    double spare; /* the polar method's second deviate, when has_spare */
    int has_spare;
} dgn_rng;

void dgn_rng_seed(dgn_rng *r, uint64_t seed);
uint64_t dgn_rng_next(dgn_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double dgn_rng_uniform(dgn_rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t dgn_rng_below(dgn_rng *r, uint64_t n);
/* Standard normal deviate (Marsaglia polar method). Each draw yields two;
 * the second is kept for the next call, so one logarithm serves two
 * calls. */
double dgn_rng_normal(dgn_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void dgn_rng_shuffle(dgn_rng *r, size_t *idx, size_t n);

#endif
