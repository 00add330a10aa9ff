/*
 * rng.h: the seeded pseudo-random generator (xorshift64*).  It lives in
 * the state struct, so a run started with the same seed makes the same
 * choices: experiments can be replayed.  Not for cryptography.
 *
 * A run has several streams, one per consumer (the piece picker, the
 * choker, MSE, the DHT...), each seeded with rng_stream_seed: how many
 * numbers one consumer draws, which depends on the timing of the
 * network (an MSE handshake's padding length, a connection that comes
 * first), then never shifts what another one draws.
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

/*
 * The seed of stream number `stream` of a run seeded with seed: the
 * splitmix64 finaliser of the two, so that neighbouring seeds and
 * neighbouring streams give unrelated sequences.
 */
static inline uint64_t
rng_stream_seed(uint64_t seed, uint64_t stream)
{
	uint64_t z = seed + (stream + 1) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
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
