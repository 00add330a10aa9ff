/*
 * rng.h: the seeded pseudo-random generator (xorshift64*).  It lives in
 * the state struct, so a run started with the same seed makes the same
 * choices: experiments can be replayed.  Not for cryptography.
 */
#ifndef THR_RNG_H
#define THR_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t	s;	/* never 0 */
};

static inline void
rng_seed(struct rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

static inline uint32_t
rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 0x2545f4914f6cdd1dULL) >> 32);
}

/* Uniform in [0, n), n > 0 (the bias is negligible for our n). */
static inline uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((uint64_t)rng_next(r) * n) >> 32);
}

/* n bytes of the stream into out. */
static inline void
rng_bytes(struct rng *r, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)rng_next(r);
}

#endif
