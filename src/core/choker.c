/*
 * choker.c: the unchoke decision.  See choker.h.
 */
#include "config.h"

#include <string.h>

#include "choker.h"

void
choker_init(struct choker *c, size_t slots)
{
	memset(c, 0, sizeof(*c));
	c->slots = slots > 0 ? slots : CHOKER_UPLOAD_SLOTS;
}

bool
choker_due(const struct choker *c, uint64_t now_ms)
{
	return now_ms >= c->next_round_ms;
}

/* Scores are ordered by tier, then by rate or waiting time. */
static uint64_t
choker_score(const struct choker *c, bool seeding,
    const struct choker_cand *p, uint64_t now_ms)
{
	const uint64_t tier = 1ull << 48;

	if (!seeding)
		return p->rate_down;
	/* A turn is a regular slot's: the optimistic peer has none. */
	if (!p->choked && p->id != c->optimistic && p->unchoked_ms != 0 &&
	    now_ms - p->unchoked_ms < CHOKER_SEED_TURN_MS)
		return 2 * tier + p->rate_up;
	if (p->choked)
		return tier + (now_ms - p->choked_ms);
	return p->rate_up;
}

/*
 * The optimistic slot goes to one of the others (order[top..n)), so that
 * it is never wasted on a peer that earned a regular slot.  It rotates
 * every CHOKER_OPTIMISTIC_MS, to someone new when possible, and is drawn
 * again early if its holder left or earned a slot.
 */
static void
choker_optimistic(struct choker *c, const struct choker_cand *cand,
    const size_t *order, size_t top, size_t n, struct rng *rng,
    uint64_t now_ms)
{
	bool holder_ok = false;
	uint32_t prev = c->optimistic, seen = 0;

	for (size_t j = top; j < n; j++)
		holder_ok |= cand[order[j]].id == c->optimistic;
	if (now_ms < c->next_optimistic_ms && holder_ok)
		return;
	c->optimistic = 0;
	for (size_t j = top; j < n; j++) {
		if (cand[order[j]].id == prev && n - top > 1)
			continue;
		if (rng_below(rng, ++seen) == 0)
			c->optimistic = cand[order[j]].id;
	}
	if (now_ms >= c->next_optimistic_ms || prev != 0)
		c->next_optimistic_ms = now_ms + CHOKER_OPTIMISTIC_MS;
}

size_t
choker_round(struct choker *c, bool seeding, const struct choker_cand *cand,
    size_t n, struct rng *rng, uint64_t now_ms, uint32_t *unchoke,
    uint32_t *turn)
{
	size_t order[CHOKER_MAX_CAND];
	uint64_t score[CHOKER_MAX_CAND];
	size_t top, m = 0;

	if (n > CHOKER_MAX_CAND)
		n = CHOKER_MAX_CAND;
	top = n < c->slots ? n : c->slots;

	for (size_t i = 0; i < n; i++) {
		order[i] = i;
		score[i] = choker_score(c, seeding, &cand[i], now_ms);
	}
	/* Partial selection sort: the top slots by score. */
	for (size_t i = 0; i < top; i++) {
		size_t best = i, to;
		uint64_t ts;

		for (size_t j = i + 1; j < n; j++)
			if (score[j] > score[best])
				best = j;
		to = order[i];
		order[i] = order[best];
		order[best] = to;
		ts = score[i];
		score[i] = score[best];
		score[best] = ts;
	}
	/* The optimistic peer earned a regular slot: its turn starts. */
	*turn = 0;
	for (size_t j = 0; c->optimistic != 0 && j < top; j++)
		if (cand[order[j]].id == c->optimistic)
			*turn = c->optimistic;
	choker_optimistic(c, cand, order, top, n, rng, now_ms);
	for (size_t j = 0; j < top; j++)
		unchoke[m++] = cand[order[j]].id;
	if (c->optimistic != 0)
		unchoke[m++] = c->optimistic;
	c->next_round_ms = now_ms + CHOKER_PERIOD_MS;
	return m;
}

size_t
choker_fill(struct choker *c, const struct choker_cand *cand, size_t n,
    uint64_t now_ms, uint32_t *unchoke)
{
	size_t regular = 0, m = 0;
	bool opt_free = true;

	for (size_t i = 0; i < n; i++) {
		if (cand[i].id == c->optimistic)
			opt_free = cand[i].choked || !cand[i].interested;
		else if (!cand[i].choked && cand[i].interested)
			regular++;
	}
	for (size_t i = 0; i < n && (regular < c->slots || opt_free); i++) {
		if (!cand[i].interested || !cand[i].choked)
			continue;
		unchoke[m++] = cand[i].id;
		if (regular < c->slots)
			regular++;
		else {
			c->optimistic = cand[i].id;
			c->next_optimistic_ms = now_ms + CHOKER_OPTIMISTIC_MS;
			opt_free = false;
		}
	}
	return m;
}

void
choker_gone(struct choker *c, uint32_t id)
{
	if (c->optimistic == id)
		c->optimistic = 0;
}
