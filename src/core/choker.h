/*
 * choker.h: whom to unchoke, as a pure decision: candidates in, the set
 * to unchoke out.  The caller (torrent.c) builds the candidates from its
 * peers and applies the answer through the wire protocol (pwp.h).
 *
 * Tit-for-tat (BEP 3): while downloading, the regular slots go to the
 * interested peers that give us the most.  While seeding, to those who
 * take the most (they spread the data), but in turns: a peer unchoked
 * for CHOKER_SEED_TURN_MS goes behind every peer that is waiting,
 * longest waiting first, so every interested peer is served.  One more,
 * optimistic, slot rotates every CHOKER_OPTIMISTIC_MS among the others.
 * Between rounds (every CHOKER_PERIOD_MS) a free slot is filled at once
 * (choker_fill), so a newcomer need not wait for the next round.
 */
#ifndef THR_CHOKER_H
#define THR_CHOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"

#define CHOKER_UPLOAD_SLOTS	4	/* BEP 3 tit-for-tat, regular slots */
#define CHOKER_PERIOD_MS	10000
#define CHOKER_OPTIMISTIC_MS	30000
#define CHOKER_SEED_TURN_MS	30000	/* a seed's unchoke turn */
#define CHOKER_MAX_CAND		256	/* candidates looked at per round */

struct choker {
	size_t		 slots;		/* regular slots */
	uint64_t	 next_round_ms;
	uint64_t	 next_optimistic_ms;
	uint32_t	 optimistic;	/* peer id, 0: none */
};

/* One peer: for a round, only interested ones are candidates; for
 * filling free slots, every active one (interested says which). */
struct choker_cand {
	uint32_t	 id;
	bool		 interested;	/* it wants to download from us */
	bool		 choked;	/* we choke it now */
	uint64_t	 rate_down;	/* what it gives us, bytes/s */
	uint64_t	 rate_up;	/* what we give it */
	uint64_t	 unchoked_ms;	/* when we unchoked it, 0 */
	uint64_t	 choked_ms;	/* when we last choked it */
};

/* slots: regular slots (0: CHOKER_UPLOAD_SLOTS). */
void	choker_init(struct choker *c, size_t slots);
/* True when a round is due. */
bool	choker_due(const struct choker *c, uint64_t now_ms);
/*
 * A round: fills unchoke with the ids to unchoke (every other active
 * peer is to be choked) and returns how many (at most slots + 1).  The
 * optimistic slot is drawn from rng among the candidates that did not
 * earn a regular one.  *turn is the id of the optimistic peer that
 * earned a regular slot this round (its seeding turn starts now), or 0.
 */
size_t	choker_round(struct choker *c, bool seeding,
	    const struct choker_cand *cand, size_t n, struct rng *rng,
	    uint64_t now_ms, uint32_t *unchoke, uint32_t *turn);
/*
 * Between rounds: the choked interested peers to unchoke now into free
 * slots (cand: every active peer).  A free regular slot (one not held by
 * an interested peer) starts a turn; beyond those, a free optimistic
 * slot makes the peer the optimistic one for a whole
 * CHOKER_OPTIMISTIC_MS, as a round would.  So the next round sees the
 * slots as they are, and a peer unchoked right after connecting keeps
 * its slot (its first requests are served, not choked away).  Returns
 * how many ids it wrote to unchoke.
 */
size_t	choker_fill(struct choker *c, const struct choker_cand *cand,
	    size_t n, uint64_t now_ms, uint32_t *unchoke);
/* A peer left: its optimistic slot is free. */
void	choker_gone(struct choker *c, uint32_t id);

#endif
