/*
 * picker.c: rarest-first block picking with an endgame.  See picker.h
 * for the data model.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "i18n.h"
#include "picker.h"
#include "xalloc.h"

#define BLOCK	16384u	/* BEP 3: requests are conventionally 16 KiB */

int
picker_init(struct picker *pk, const struct metainfo *mi,
    const struct bitfield *have, size_t max_active)
{
	memset(pk, 0, sizeof(*pk));
	pk->mi = mi;
	pk->npieces = mi->npieces;
	pk->max_active = max_active ? max_active : 1;
	pk->keep_data = true;
	pk->state = thr_calloc(mi->npieces ? mi->npieces : 1, 1);
	pk->avail = thr_calloc(mi->npieces ? mi->npieces : 1, sizeof(uint16_t));
	pk->active = thr_calloc(pk->max_active, sizeof(*pk->active));
	if (pk->state == NULL || pk->avail == NULL || pk->active == NULL) {
		picker_release(pk);
		return THR_ENOMEM;
	}
	for (uint32_t i = 0; i < pk->npieces; i++) {
		if (have != NULL && bitfield_get(have, i)) {
			pk->state[i] = PICKER_HAVE;
			pk->nhave++;
		} else
			pk->nfree_missing++;
	}
	return 0;
}

/* Did this peer's data take part in a failed attempt at piece i? */
static bool
failed_by(const struct picker *pk, uint32_t i, uint32_t peer_id)
{
	uint32_t n = pk->nfailed < PICKER_MAX_FAILED ? pk->nfailed :
	    PICKER_MAX_FAILED;

	for (uint32_t f = 0; f < n; f++) {
		if (pk->failed[f].index != i)
			continue;
		for (int k = 0; k < PICKER_MAX_CONTRIB; k++)
			if (pk->failed[f].peers[k] == peer_id)
				return true;
	}
	return false;
}

bool
picker_wanted(const struct picker *pk, uint32_t index)
{
	return pk->wanted == NULL || pk->wanted[index];
}

int
picker_set_wanted(struct picker *pk, uint32_t index, bool want)
{
	if (index >= pk->npieces)
		return THR_EINVAL;
	if (pk->wanted == NULL) {
		if (want)
			return 0;
		if ((pk->wanted = thr_malloc(pk->npieces)) == NULL)
			return THR_ENOMEM;
		memset(pk->wanted, 1, pk->npieces);
	}
	if (!pk->wanted[index] == !want)
		return 0;
	pk->wanted[index] = want;
	if (pk->state[index] == PICKER_MISSING) {
		if (want)
			pk->nfree_missing++;
		else
			pk->nfree_missing--;
	}
	return 0;
}

/* Option values (--strategy, the trace) in English; marked so that the
 * view and the log can show them translated with _(). */
static const char *const strategy_names[PICKER_NSTRATEGIES] = {
	/* TRANSLATORS: piece strategies, shown in the header and the log
	 * (the --strategy values themselves stay in English). */
	N_("rarest"), N_("random"), N_("sequential")
};

int
picker_strategy_parse(const char *name, enum picker_strategy *out)
{
	for (int i = 0; i < PICKER_NSTRATEGIES; i++) {
		if (strcmp(name, strategy_names[i]) == 0) {
			*out = (enum picker_strategy)i;
			return 0;
		}
	}
	return THR_EINVAL;
}

const char *
picker_strategy_name(enum picker_strategy st)
{
	return (unsigned)st < PICKER_NSTRATEGIES ? strategy_names[st] : "?";
}

static void
piece_free(struct picker_piece *pp)
{
	free(pp->blk);
	free(pp->data);
	memset(pp, 0, sizeof(*pp));
}

void
picker_release(struct picker *pk)
{
	for (size_t i = 0; i < pk->nactive; i++)
		piece_free(&pk->active[i]);
	free(pk->active);
	free(pk->state);
	free(pk->avail);
	free(pk->wanted);
	memset(pk, 0, sizeof(*pk));
}

void
picker_add_have(struct picker *pk, uint32_t index)
{
	if (index < pk->npieces && pk->avail[index] < UINT16_MAX)
		pk->avail[index]++;
}

void
picker_add_bitfield(struct picker *pk, const struct bitfield *bf)
{
	for (uint32_t i = 0; i < pk->npieces && i < bf->nbits; i++)
		if (bitfield_get(bf, i) && pk->avail[i] < UINT16_MAX)
			pk->avail[i]++;
}

void
picker_remove_bitfield(struct picker *pk, const struct bitfield *bf)
{
	for (uint32_t i = 0; i < pk->npieces && i < bf->nbits; i++)
		if (bitfield_get(bf, i) && pk->avail[i] > 0)
			pk->avail[i]--;
}

bool
picker_interesting(const struct picker *pk, const struct bitfield *bf)
{
	if (bf->count == 0)
		return false;
	for (uint32_t i = 0; i < pk->npieces && i < bf->nbits; i++)
		if (pk->state[i] != PICKER_HAVE && bitfield_get(bf, i) &&
		    picker_wanted(pk, i))
			return true;
	return false;
}

static struct picker_piece *
find_active(struct picker *pk, uint32_t index)
{
	for (size_t i = 0; i < pk->nactive; i++)
		if (pk->active[i].index == index)
			return &pk->active[i];
	return NULL;
}

static void
fill_block(const struct picker_piece *pp, uint32_t b, struct picker_block *out)
{
	out->index = pp->index;
	out->begin = b * BLOCK;
	out->length = pp->size - out->begin < BLOCK ?
	    pp->size - out->begin : BLOCK;
}

/*
 * Choose a MISSING piece the peer has, by strategy.  Rarest: random
 * while we are new to the swarm (so we soon have something to trade),
 * then the lowest availability with a random choice among equals.
 * Reservoir sampling keeps every variant one pass and unbiased.
 */
static int64_t
choose_new(struct picker *pk, uint32_t peer_id, const struct bitfield *bf,
    struct rng *rng, bool avoid_failed)
{
	int64_t best = -1;
	uint32_t best_avail = UINT32_MAX, ties = 0;
	bool random_mode = pk->strategy == PICKER_RANDOM ||
	    (pk->strategy == PICKER_RAREST && pk->nhave < PICKER_RANDOM_FIRST);

	for (uint32_t i = 0; i < pk->npieces; i++) {
		if (pk->state[i] != PICKER_MISSING || !bitfield_get(bf, i))
			continue;
		if (!picker_wanted(pk, i))
			continue;
		if (avoid_failed && failed_by(pk, i, peer_id))
			continue;
		if (pk->strategy == PICKER_SEQUENTIAL)
			return i;
		uint32_t a = random_mode ? 0 : pk->avail[i];
		if (a < best_avail) {
			best_avail = a;
			best = i;
			ties = 1;
		} else if (a == best_avail) {
			ties++;
			if (rng_below(rng, ties) == 0)
				best = i;
		}
	}
	return best;
}

static struct picker_piece *
activate(struct picker *pk, uint32_t index, uint32_t owner)
{
	struct picker_piece *pp = &pk->active[pk->nactive];

	memset(pp, 0, sizeof(*pp));
	pp->index = index;
	pp->owner = owner;
	pp->size = metainfo_piece_size(pk->mi, index);
	pp->nblocks = (pp->size + BLOCK - 1) / BLOCK;
	pp->blk = thr_calloc(pp->nblocks, 1);
	pp->data = pk->keep_data ? thr_malloc(pp->size) : NULL;
	if (pp->blk == NULL || (pk->keep_data && pp->data == NULL)) {
		piece_free(pp);
		return NULL;
	}
	pk->nactive++;
	pk->state[index] = PICKER_ACTIVE;
	pk->nfree_missing--;
	return pp;
}

/* Mine: started by peer_id, or by nobody who still serves it. */
static bool
is_mine(const struct picker_piece *pp, uint32_t peer_id)
{
	return pp->owner == peer_id || pp->owner == 0;
}

/*
 * The first free block of pp for this peer, marked requested; a piece
 * nobody owns becomes this peer's.  False when none is free.
 */
static bool
take_free(struct picker_piece *pp, uint32_t peer_id,
    bool (*skip)(void *, const struct picker_block *), void *ctx,
    struct picker_block *out)
{
	for (uint32_t b = 0; b < pp->nblocks; b++) {
		if (pp->blk[b] != 0)
			continue;
		fill_block(pp, b, out);
		if (skip != NULL && skip(ctx, out))
			continue;
		pp->blk[b] = 1;
		if (pp->owner == 0)
			pp->owner = peer_id;
		return true;
	}
	return false;
}

bool
picker_pick(struct picker *pk, uint32_t peer_id, const struct bitfield *bf,
    struct rng *rng,
    bool (*skip)(void *, const struct picker_block *), void *ctx,
    struct picker_block *out)
{
	struct picker_piece *pp;

	/* Finish what this peer started (or what nobody serves now). */
	for (size_t i = 0; i < pk->nactive; i++) {
		pp = &pk->active[i];
		if (is_mine(pp, peer_id) && bitfield_get(bf, pp->index) &&
		    take_free(pp, peer_id, skip, ctx, out))
			return true;
	}
	/* Start a new piece. */
	if (pk->nactive < pk->max_active && pk->nfree_missing > 0) {
		int64_t idx = choose_new(pk, peer_id, bf, rng, true);

		if (idx < 0)
			idx = choose_new(pk, peer_id, bf, rng, false);
		if (idx >= 0 &&
		    (pp = activate(pk, (uint32_t)idx, peer_id)) != NULL) {
			fill_block(pp, 0, out);
			pp->blk[0] = 1;
			return true;
		}
	}
	/* No new piece can start: help with the others' pieces. */
	for (size_t i = 0; i < pk->nactive; i++) {
		pp = &pk->active[i];
		if (!is_mine(pp, peer_id) && bitfield_get(bf, pp->index) &&
		    take_free(pp, peer_id, skip, ctx, out))
			return true;
	}
	/* Endgame: everything missing is requested; ask this peer too for
	 * the least-requested block it does not already have in flight. */
	if (pk->nfree_missing == 0) {
		struct picker_piece *bp = NULL;
		uint32_t bb = 0;
		uint8_t bn = PICKER_BLK_MAXREQ;

		for (size_t i = 0; i < pk->nactive; i++) {
			pp = &pk->active[i];
			if (!bitfield_get(bf, pp->index))
				continue;
			for (uint32_t b = 0; b < pp->nblocks; b++) {
				struct picker_block cand;

				if (pp->blk[b] == PICKER_BLK_RECV ||
				    pp->blk[b] >= bn)
					continue;
				fill_block(pp, b, &cand);
				if (skip != NULL && skip(ctx, &cand))
					continue;
				bp = pp;
				bb = b;
				bn = pp->blk[b];
			}
		}
		if (bp != NULL) {
			fill_block(bp, bb, out);
			bp->blk[bb]++;
			return true;
		}
	}
	return false;
}

bool
picker_pick_from(struct picker *pk, uint32_t peer_id,
    const struct bitfield *bf, const uint32_t *pieces, size_t n,
    bool (*skip)(void *, const struct picker_block *), void *ctx,
    struct picker_block *out)
{
	struct picker_piece *pp;

	for (int mine = 1; mine >= 0; mine--) {
		for (size_t k = 0; k < n; k++) {
			uint32_t idx = pieces[k];

			if (idx >= pk->npieces || !bitfield_get(bf, idx) ||
			    pk->state[idx] != PICKER_ACTIVE)
				continue;
			pp = find_active(pk, idx);
			if (pp != NULL && is_mine(pp, peer_id) == mine &&
			    take_free(pp, peer_id, skip, ctx, out))
				return true;
		}
		if (!mine)
			break;
		for (size_t k = 0; k < n; k++) {
			uint32_t idx = pieces[k];

			if (idx >= pk->npieces || !bitfield_get(bf, idx) ||
			    pk->state[idx] != PICKER_MISSING ||
			    !picker_wanted(pk, idx) ||
			    pk->nactive >= pk->max_active)
				continue;
			if ((pp = activate(pk, idx, peer_id)) == NULL)
				return false;
			fill_block(pp, 0, out);
			pp->blk[0] = 1;
			return true;
		}
	}
	return false;
}

void
picker_disown(struct picker *pk, uint32_t peer_id)
{
	for (size_t i = 0; i < pk->nactive; i++)
		if (pk->active[i].owner == peer_id)
			pk->active[i].owner = 0;
}

/*
 * Piece pp (active) has no block received and none requested: it was
 * never really started.  Back to MISSING, so that the next pick weighs
 * it by rarity again rather than fetching it from whichever peer asks
 * next, often a seed, which would then send a piece the swarm already
 * has from the peer that refused or left.
 */
static void
release_unstarted(struct picker *pk, struct picker_piece *pp)
{
	size_t at = (size_t)(pp - pk->active);
	uint32_t index = pp->index;

	if (pp->nrecv > 0)
		return;
	for (uint32_t b = 0; b < pp->nblocks; b++)
		if (pp->blk[b] != 0)
			return;
	piece_free(pp);
	memmove(&pk->active[at], &pk->active[at + 1],
	    (pk->nactive - at - 1) * sizeof(*pp));
	pk->nactive--;
	pk->state[index] = PICKER_MISSING;
	if (picker_wanted(pk, index))
		pk->nfree_missing++;
}

void
picker_unrequest(struct picker *pk, const struct picker_block *b)
{
	struct picker_piece *pp = find_active(pk, b->index);
	uint32_t blk;

	if (pp == NULL || b->begin % BLOCK != 0)
		return;
	blk = b->begin / BLOCK;
	if (blk < pp->nblocks && pp->blk[blk] > 0 &&
	    pp->blk[blk] != PICKER_BLK_RECV) {
		pp->blk[blk]--;
		release_unstarted(pk, pp);
	}
}

enum picker_recv
picker_received(struct picker *pk, uint32_t peer_id, uint32_t index,
    uint32_t begin, const uint8_t *data, uint32_t len,
    struct picker_piece **piece)
{
	struct picker_piece *pp = find_active(pk, index);
	struct picker_block want;
	uint32_t blk;
	bool known = false;

	if (pp == NULL || begin % BLOCK != 0)
		return PICKER_RECV_IGNORED;
	blk = begin / BLOCK;
	if (blk >= pp->nblocks || pp->blk[blk] == PICKER_BLK_RECV)
		return PICKER_RECV_IGNORED;
	fill_block(pp, blk, &want);
	if (len != want.length)
		return PICKER_RECV_IGNORED;
	if (pp->data != NULL)
		memcpy(pp->data + begin, data, len);
	pp->blk[blk] = PICKER_BLK_RECV;
	pp->nrecv++;
	for (uint32_t i = 0; i < pp->ncontrib; i++)
		if (pp->contrib[i] == peer_id)
			known = true;
	if (!known && pp->ncontrib < PICKER_MAX_CONTRIB)
		pp->contrib[pp->ncontrib++] = peer_id;
	*piece = pp;
	return pp->nrecv < pp->nblocks ? PICKER_RECV_STORED :
	    PICKER_RECV_COMPLETE;
}

void
picker_piece_done(struct picker *pk, uint32_t index, bool ok)
{
	struct picker_piece *pp = find_active(pk, index);
	size_t at;

	if (pp == NULL)
		return;
	at = (size_t)(pp - pk->active);
	/* Remember everyone who sent part of a bad piece (most recent
	 * attempt), so that the retry goes elsewhere when it can. */
	if (!ok) {
		uint32_t f = pk->nfailed++ % PICKER_MAX_FAILED;

		pk->failed[f].index = index;
		for (int k = 0; k < PICKER_MAX_CONTRIB; k++)
			pk->failed[f].peers[k] = (uint32_t)k < pp->ncontrib ?
			    pp->contrib[k] : 0;
	}
	piece_free(pp);
	memmove(&pk->active[at], &pk->active[at + 1],
	    (pk->nactive - at - 1) * sizeof(*pp));
	pk->nactive--;
	if (ok) {
		pk->state[index] = PICKER_HAVE;
		pk->nhave++;
	} else {
		pk->state[index] = PICKER_MISSING;
		if (picker_wanted(pk, index))
			pk->nfree_missing++;
	}
}

bool
picker_endgame(const struct picker *pk)
{
	if (pk->nfree_missing > 0)
		return false;
	for (size_t i = 0; i < pk->nactive; i++)
		for (uint32_t b = 0; b < pk->active[i].nblocks; b++)
			if (pk->active[i].blk[b] == 0)
				return false;
	return pk->nactive > 0;
}

bool
picker_complete(const struct picker *pk)
{
	return pk->nfree_missing == 0 && pk->nactive == 0;
}
