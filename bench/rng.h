/*
 * rng: xorshift64*, the benchmarks' reproducible pseudo-random numbers for
 * their data (which person, place, time): not a secret, never for keys or
 * codes. One state per program (the benchmarks are single-threaded); seed it
 * with a non-zero value before use.
 */
#ifndef SS_BENCH_RNG_H
#define SS_BENCH_RNG_H

#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

#endif
