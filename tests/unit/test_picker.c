/*
 * test_picker.c: the block picker's contract (picker.h): random first
 * pieces, rarest first with random ties, partial pieces before new ones,
 * the max_active bound, block lengths, receiving, hash failures and the
 * endgame.
 *
 * The metainfo is filled by hand: the picker only reads npieces and, via
 * metainfo_piece_size, piece_length and total_length.  Nothing is
 * allocated in it, so it is never released.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/bitfield.h"
#include "core/metainfo.h"
#include "core/picker.h"
#include "core/rng.h"

#define BLK	16384u
#define SEEDS	200	/* enough draws that a fair choice hits every option */

static void
mi_make(struct metainfo *mi, uint32_t npieces, uint64_t plen, uint64_t total)
{
	memset(mi, 0, sizeof(*mi));
	mi->npieces = npieces;
	mi->piece_length = plen;
	mi->total_length = total;
}

/* A peer field holding every piece. */
static void
bf_full(struct bitfield *bf, uint32_t n)
{
	cr_assert_eq(bitfield_init(bf, n), 0);
	bitfield_set_all(bf);
}

/* A field with the listed pieces set; the list ends with UINT32_MAX. */
static void
bf_of(struct bitfield *bf, uint32_t n, const uint32_t *idx)
{
	cr_assert_eq(bitfield_init(bf, n), 0);
	for (; *idx != UINT32_MAX; idx++)
		bitfield_set(bf, *idx);
}

/* Blocks one peer already has in flight, for the skip() callback. */
struct inflight {
	struct picker_block	b[64];
	size_t			n;
	unsigned		calls;
};

static bool
inflight_has(void *ctx, const struct picker_block *b)
{
	struct inflight *f = ctx;

	f->calls++;
	for (size_t i = 0; i < f->n; i++)
		if (f->b[i].index == b->index && f->b[i].begin == b->begin &&
		    f->b[i].length == b->length)
			return true;
	return false;
}

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

Test(picker, init_and_complete)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield have, peer;
	struct rng rng;
	struct picker_block b;

	mi_make(&mi, 5, BLK, 5 * BLK);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
	cr_assert_eq(pk.nhave, 0);
	cr_assert_eq(pk.nfree_missing, 5);
	cr_assert_not(picker_complete(&pk));
	cr_assert_not(picker_endgame(&pk));
	picker_release(&pk);

	bf_full(&have, 5);
	bf_full(&peer, 5);
	rng_seed(&rng, 1);
	cr_assert_eq(picker_init(&pk, &mi, &have, 4), 0);
	cr_assert_eq(pk.nhave, 5);
	cr_assert(picker_complete(&pk));
	cr_assert_not(picker_interesting(&pk, &peer));
	cr_assert_not(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_not(picker_endgame(&pk),
	    "nothing active and nothing missing is not endgame");
	picker_release(&pk);
	bitfield_release(&have);
	bitfield_release(&peer);
}

Test(picker, interesting)
{
	static const uint32_t mine[] = { 0, 1, UINT32_MAX };
	static const uint32_t same[] = { 1, UINT32_MAX };
	static const uint32_t more[] = { 1, 3, UINT32_MAX };
	struct metainfo mi;
	struct picker pk;
	struct bitfield have, a, b, empty;

	mi_make(&mi, 4, BLK, 4 * BLK);
	bf_of(&have, 4, mine);
	bf_of(&a, 4, same);
	bf_of(&b, 4, more);
	cr_assert_eq(bitfield_init(&empty, 4), 0);
	cr_assert_eq(picker_init(&pk, &mi, &have, 4), 0);
	cr_assert_not(picker_interesting(&pk, &a), "it has only what we have");
	cr_assert(picker_interesting(&pk, &b), "it has piece 3, we do not");
	cr_assert_not(picker_interesting(&pk, &empty));
	picker_release(&pk);
	bitfield_release(&have);
	bitfield_release(&a);
	bitfield_release(&b);
	bitfield_release(&empty);
}

Test(picker, availability_bookkeeping)
{
	static const uint32_t odd[] = { 1, 3, UINT32_MAX };
	struct metainfo mi;
	struct picker pk;
	struct bitfield all, some;

	mi_make(&mi, 4, BLK, 4 * BLK);
	bf_full(&all, 4);
	bf_of(&some, 4, odd);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
	picker_add_bitfield(&pk, &all);
	picker_add_bitfield(&pk, &some);
	picker_add_have(&pk, 2);
	picker_add_have(&pk, 99);	/* out of range: ignored */
	cr_assert_eq(pk.avail[0], 1);
	cr_assert_eq(pk.avail[1], 2);
	cr_assert_eq(pk.avail[2], 2);
	cr_assert_eq(pk.avail[3], 2);
	picker_remove_bitfield(&pk, &all);
	cr_assert_eq(pk.avail[0], 0);
	cr_assert_eq(pk.avail[1], 1);
	cr_assert_eq(pk.avail[2], 1);
	cr_assert_eq(pk.avail[3], 1);
	picker_remove_bitfield(&pk, &all);
	picker_remove_bitfield(&pk, &all);
	cr_assert_eq(pk.avail[0], 0, "never below zero");
	picker_release(&pk);
	bitfield_release(&all);
	bitfield_release(&some);
}

/* While nhave < PICKER_RANDOM_FIRST the rarity is ignored. */
Test(picker, random_while_new)
{
	struct metainfo mi;
	struct bitfield peer, others;
	unsigned hits[8] = { 0 };
	unsigned distinct = 0;

	mi_make(&mi, 8, BLK, 8 * BLK);
	bf_full(&peer, 8);
	bf_full(&others, 8);
	bitfield_clear(&others, 0);	/* piece 0 is by far the rarest */
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct picker pk;
		struct rng rng;
		struct picker_block b;

		rng_seed(&rng, seed);
		cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
		picker_add_bitfield(&pk, &peer);
		for (int k = 0; k < 5; k++)
			picker_add_bitfield(&pk, &others);
		cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
		cr_assert_lt(b.index, 8);
		hits[b.index]++;
		picker_release(&pk);
	}
	for (int i = 0; i < 8; i++)
		distinct += hits[i] > 0;
	cr_assert_geq(distinct, 6, "random start covers the pieces (%u)",
	    distinct);
	cr_assert_lt(hits[0], SEEDS / 2, "not rarest first yet");
	bitfield_release(&peer);
	bitfield_release(&others);
}

/* Once PICKER_RANDOM_FIRST pieces are HAVE, the rarest piece wins. */
Test(picker, rarest_first)
{
	static const uint32_t first[] = { 0, 1, 2, 3, UINT32_MAX };
	struct metainfo mi;
	struct bitfield have, peer, others;

	cr_assert_eq(PICKER_RANDOM_FIRST, 4);
	mi_make(&mi, 10, BLK, 10 * BLK);
	bf_of(&have, 10, first);
	bf_full(&peer, 10);
	bf_full(&others, 10);
	bitfield_clear(&others, 6);
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct picker pk;
		struct rng rng;
		struct picker_block b;

		rng_seed(&rng, seed);
		cr_assert_eq(picker_init(&pk, &mi, &have, 4), 0);
		picker_add_bitfield(&pk, &peer);
		picker_add_bitfield(&pk, &others);
		picker_add_bitfield(&pk, &others);
		cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, 6, "seed %llu picked %u",
		    (unsigned long long)seed, b.index);
		cr_assert_eq(b.begin, 0);
		cr_assert_eq(b.length, BLK);
		picker_release(&pk);
	}
	bitfield_release(&have);
	bitfield_release(&peer);
	bitfield_release(&others);
}

/* Rarest among the pieces this peer has, not among all pieces. */
Test(picker, rarest_among_peer_pieces)
{
	static const uint32_t first[] = { 0, 1, 2, 3, UINT32_MAX };
	static const uint32_t has[] = { 5, 7, 8, UINT32_MAX };
	struct metainfo mi;
	struct picker pk;
	struct bitfield have, peer, all;
	struct rng rng;
	struct picker_block b;

	mi_make(&mi, 10, BLK, 10 * BLK);
	bf_of(&have, 10, first);
	bf_of(&peer, 10, has);
	bf_full(&all, 10);
	rng_seed(&rng, 7);
	cr_assert_eq(picker_init(&pk, &mi, &have, 4), 0);
	picker_add_bitfield(&pk, &all);
	picker_add_bitfield(&pk, &all);
	/* 4 stays rarest (2) but the peer lacks it. */
	picker_add_bitfield(&pk, &peer);	/* 5, 7, 8 at 3 */
	picker_add_have(&pk, 5);
	picker_add_have(&pk, 8);		/* 7 is the rarest it has */
	for (uint32_t i = 0; i < 10; i++)
		if (i != 4 && i != 5 && i != 7 && i != 8)
			picker_add_have(&pk, i);
	cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.index, 7);
	picker_release(&pk);
	bitfield_release(&have);
	bitfield_release(&peer);
	bitfield_release(&all);
}

Test(picker, random_among_equally_rare)
{
	static const uint32_t first[] = { 0, 1, 2, 3, UINT32_MAX };
	struct metainfo mi;
	struct bitfield have, peer, others;
	unsigned hits[12] = { 0 };

	mi_make(&mi, 12, BLK, 12 * BLK);
	bf_of(&have, 12, first);
	bf_full(&peer, 12);
	bf_full(&others, 12);
	bitfield_clear(&others, 5);
	bitfield_clear(&others, 9);
	bitfield_clear(&others, 10);
	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct picker pk;
		struct rng rng;
		struct picker_block b;

		rng_seed(&rng, seed * 0x9e3779b9u);
		cr_assert_eq(picker_init(&pk, &mi, &have, 4), 0);
		picker_add_bitfield(&pk, &peer);
		picker_add_bitfield(&pk, &others);
		cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
		cr_assert_lt(b.index, 12);
		hits[b.index]++;
		picker_release(&pk);
	}
	cr_assert_eq(hits[5] + hits[9] + hits[10], SEEDS,
	    "only the rarest pieces are chosen");
	cr_assert_gt(hits[5], SEEDS / 10, "5: %u", hits[5]);
	cr_assert_gt(hits[9], SEEDS / 10, "9: %u", hits[9]);
	cr_assert_gt(hits[10], SEEDS / 10, "10: %u", hits[10]);
	bitfield_release(&have);
	bitfield_release(&peer);
	bitfield_release(&others);
}

/*
 * Blocks of a peer's started pieces go out before it starts a new piece;
 * another peer starts a piece of its own (so each piece arrives in
 * order from one peer) and helps with the first one's only when no new
 * piece can start.  A piece whose peer stopped serving is anyone's.
 */
Test(picker, partial_pieces_first)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield peer;
	struct rng rng;
	struct picker_block b;
	uint32_t first, second;

	mi_make(&mi, 6, 4 * BLK, 6 * 4 * BLK);
	bf_full(&peer, 6);
	rng_seed(&rng, 3);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 2), 0);
	cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
	first = b.index;
	cr_assert_eq(b.begin, 0);
	cr_assert_eq(pk.state[first], PICKER_ACTIVE);
	cr_assert_eq(pk.nactive, 1);
	/* Another peer starts a piece of its own. */
	cr_assert(picker_pick(&pk, 2, &peer, &rng, NULL, NULL, &b));
	second = b.index;
	cr_assert_neq(second, first);
	cr_assert_eq(b.begin, 0);
	cr_assert_eq(pk.nactive, 2);
	/* Peer 1 continues its own piece in order. */
	for (uint32_t k = 1; k < 3; k++) {
		cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, first);
		cr_assert_eq(b.begin, k * BLK);
		cr_assert_eq(b.length, BLK);
	}
	/* No room for a third piece: peer 2 helps after its own piece. */
	for (uint32_t k = 1; k < 4; k++) {
		cr_assert(picker_pick(&pk, 2, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, second);
		cr_assert_eq(b.begin, k * BLK);
	}
	cr_assert(picker_pick(&pk, 2, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.index, first);
	cr_assert_eq(b.begin, 3 * BLK);
	cr_assert_eq(pk.nactive, 2, "no third piece past max_active");
	/* A block given back goes to its piece's peer first... */
	{
		struct picker_block back = { first, 2 * BLK, BLK };

		picker_unrequest(&pk, &back);
		cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, first);
		cr_assert_eq(b.begin, 2 * BLK);
	}
	/* ... and once that peer stops serving, to anyone, who adopts it. */
	{
		struct picker_block back = { first, BLK, BLK };

		picker_unrequest(&pk, &back);
		picker_disown(&pk, 1);
		cr_assert(picker_pick(&pk, 3, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, first);
		cr_assert_eq(b.begin, BLK);
		cr_assert_eq(pk.active[0].owner == 3 ||
		    pk.active[1].owner == 3, 1);
	}
	picker_release(&pk);
	bitfield_release(&peer);
}

/* The last piece is short; so is its last block. */
Test(picker, last_short_piece_blocks)
{
	static const uint32_t last[] = { 3, UINT32_MAX };
	struct metainfo mi;
	struct picker pk;
	struct bitfield peer;
	struct rng rng;
	struct picker_block b;

	mi_make(&mi, 4, 2 * BLK, 3 * 2 * BLK + BLK + 1000);
	cr_assert_eq(metainfo_piece_size(&mi, 3), BLK + 1000);
	bf_of(&peer, 4, last);
	rng_seed(&rng, 11);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
	cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.index, 3);
	cr_assert_eq(b.begin, 0);
	cr_assert_eq(b.length, BLK);
	cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.index, 3);
	cr_assert_eq(b.begin, BLK);
	cr_assert_eq(b.length, 1000);
	cr_assert_eq(pk.active[0].size, BLK + 1000);
	cr_assert_eq(pk.active[0].nblocks, 2);
	picker_release(&pk);

	/* A piece shorter than one block is a single short block. */
	mi_make(&mi, 1, 4 * BLK, 5000);
	bitfield_release(&peer);
	bf_full(&peer, 1);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
	cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.length, 5000);
	cr_assert(picker_endgame(&pk), "the only block is requested");
	picker_release(&pk);
	bitfield_release(&peer);
}

Test(picker, received_stored_then_complete)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield peer;
	struct rng rng;
	struct picker_block b[3];
	struct picker_piece *pp = NULL;
	uint8_t want[2 * BLK + 500];

	mi_make(&mi, 1, 2 * BLK + 500, 2 * BLK + 500);
	bf_full(&peer, 1);
	rng_seed(&rng, 5);
	fill(want, sizeof(want), 42);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
	for (int k = 0; k < 3; k++)
		cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b[k]));
	cr_assert_eq(b[2].length, 500);
	/* Out of order arrival, from two peers. */
	cr_assert_eq(picker_received(&pk, 1, 0, b[2].begin,
	    want + b[2].begin, b[2].length, &pp), PICKER_RECV_STORED);
	cr_assert_eq(picker_received(&pk, 2, 0, 0, want, BLK, &pp),
	    PICKER_RECV_STORED);
	cr_assert_not_null(pp, "the piece is returned unless IGNORED");
	cr_assert_eq(pp->nrecv, 2);
	cr_assert_eq(picker_received(&pk, 1, 0, BLK, want + BLK, BLK, &pp),
	    PICKER_RECV_COMPLETE);
	cr_assert_not_null(pp);
	cr_assert_eq(pp->index, 0);
	cr_assert_eq(pp->size, sizeof(want));
	cr_assert_eq(pp->nrecv, 3);
	cr_assert_eq(memcmp(pp->data, want, sizeof(want)), 0);
	cr_assert_eq(pp->ncontrib, 2, "both peers recorded once each");
	cr_assert_eq(pp->contrib[0], 1);
	cr_assert_eq(pp->contrib[1], 2);
	picker_piece_done(&pk, 0, true);
	cr_assert_eq(pk.state[0], PICKER_HAVE);
	cr_assert_eq(pk.nactive, 0);
	cr_assert(picker_complete(&pk));
	cr_assert_not(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b[0]));
	/* Late duplicates of a finished piece are ignored. */
	cr_assert_eq(picker_received(&pk, 1, 0, 0, want, BLK, &pp),
	    PICKER_RECV_IGNORED);
	picker_release(&pk);
	bitfield_release(&peer);
}

Test(picker, received_ignored)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield peer;
	struct rng rng;
	struct picker_block b;
	struct picker_piece *pp = NULL;
	uint8_t data[2 * BLK];
	uint32_t other;

	mi_make(&mi, 3, 2 * BLK, 3 * 2 * BLK);
	bf_full(&peer, 3);
	rng_seed(&rng, 9);
	fill(data, sizeof(data), 1);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
	cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
	other = (b.index + 1) % 3;
	/* A piece that is not active. */
	cr_assert_eq(picker_received(&pk, 1, other, 0, data, BLK, &pp),
	    PICKER_RECV_IGNORED);
	/* Out of range index. */
	cr_assert_eq(picker_received(&pk, 1, 77, 0, data, BLK, &pp),
	    PICKER_RECV_IGNORED);
	/* Wrong lengths. */
	cr_assert_eq(picker_received(&pk, 1, b.index, 0, data, BLK - 1, &pp),
	    PICKER_RECV_IGNORED);
	cr_assert_eq(picker_received(&pk, 1, b.index, 0, data, BLK + 1, &pp),
	    PICKER_RECV_IGNORED);
	cr_assert_eq(picker_received(&pk, 1, b.index, 0, data, 0, &pp),
	    PICKER_RECV_IGNORED);
	/* Misaligned and past-the-end offsets. */
	cr_assert_eq(picker_received(&pk, 1, b.index, 100, data, BLK, &pp),
	    PICKER_RECV_IGNORED);
	cr_assert_eq(picker_received(&pk, 1, b.index, 2 * BLK, data, BLK,
	    &pp), PICKER_RECV_IGNORED);
	cr_assert_eq(pk.active[0].nrecv, 0, "nothing stored so far");
	/* The right one, then its duplicate. */
	cr_assert_eq(picker_received(&pk, 1, b.index, 0, data, BLK, &pp),
	    PICKER_RECV_STORED);
	cr_assert_eq(picker_received(&pk, 2, b.index, 0, data + BLK, BLK,
	    &pp), PICKER_RECV_IGNORED);
	cr_assert_eq(pk.active[0].nrecv, 1);
	cr_assert_eq(memcmp(pk.active[0].data, data, BLK), 0,
	    "the duplicate did not overwrite the stored block");
	cr_assert_eq(pk.active[0].ncontrib, 1);
	picker_release(&pk);
	bitfield_release(&peer);
}

/* A piece that fails the hash check is MISSING again and, from the peer
 * that sent it, another piece is preferred - but it is still fetched
 * from that peer when it is the only choice. */
Test(picker, failed_piece_other_peer_preferred)
{
	static const uint32_t first[] = { 0, 1, 2, 3, UINT32_MAX };
	struct metainfo mi;
	struct bitfield have, peer, rest;

	mi_make(&mi, 6, BLK, 6 * BLK);
	bf_of(&have, 6, first);
	bf_full(&peer, 6);
	bf_full(&rest, 6);
	bitfield_clear(&rest, 4);	/* 4 is the rarest missing piece */
	for (uint64_t seed = 1; seed <= 50; seed++) {
		struct picker pk;
		struct rng rng;
		struct picker_block b;
		struct picker_piece *pp = NULL;
		uint8_t data[BLK];

		memset(data, 0xab, sizeof(data));
		rng_seed(&rng, seed);
		cr_assert_eq(picker_init(&pk, &mi, &have, 4), 0);
		picker_add_bitfield(&pk, &peer);
		picker_add_bitfield(&pk, &rest);
		cr_assert(picker_pick(&pk, 7, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, 4);
		cr_assert_eq(picker_received(&pk, 7, 4, 0, data, BLK, &pp),
		    PICKER_RECV_COMPLETE);
		picker_piece_done(&pk, 4, false);
		cr_assert_eq(pk.state[4], PICKER_MISSING);
		cr_assert_eq(pk.nactive, 0);
		cr_assert_eq(pk.nfree_missing, 2);
		cr_assert_eq(pk.nhave, 4);
		/* 4 is still the rarest, but peer 7 sent its bad data. */
		cr_assert(picker_pick(&pk, 7, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, 5, "seed %llu: the same peer got the "
		    "failed piece again", (unsigned long long)seed);
		/* Another peer gets the failed piece. */
		cr_assert(picker_pick(&pk, 8, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, 4);
		picker_release(&pk);
	}
	/* Only choice: peer 7 gets the failed piece again. */
	{
		struct picker pk;
		struct rng rng;
		struct picker_block b;
		struct picker_piece *pp = NULL;
		uint8_t data[BLK];

		memset(data, 0xcd, sizeof(data));
		rng_seed(&rng, 99);
		bitfield_set(&have, 5);
		cr_assert_eq(picker_init(&pk, &mi, &have, 4), 0);
		cr_assert(picker_pick(&pk, 7, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, 4);
		cr_assert_eq(picker_received(&pk, 7, 4, 0, data, BLK, &pp),
		    PICKER_RECV_COMPLETE);
		picker_piece_done(&pk, 4, false);
		cr_assert(picker_pick(&pk, 7, &peer, &rng, NULL, NULL, &b));
		cr_assert_eq(b.index, 4);
		cr_assert_eq(b.begin, 0);
		cr_assert_eq(b.length, BLK);
		picker_release(&pk);
	}
	bitfield_release(&have);
	bitfield_release(&peer);
	bitfield_release(&rest);
}

/*
 * picker.h: a failed piece is fetched again "preferably from a peer that
 * did not contribute to it".  picker_piece_done only remembers
 * contrib[0], so the second contributor of a two-peer piece was not
 * avoided.  Regression test: every contributor is remembered now.
 */
Test(picker, failed_piece_avoids_every_contributor)
{
	static const uint32_t first[] = { 0, 1, 2, 3, UINT32_MAX };
	struct metainfo mi;
	struct picker pk;
	struct bitfield have, peer;
	struct rng rng;
	struct picker_block b;
	struct picker_piece *pp = NULL;
	uint8_t data[2 * BLK];

	mi_make(&mi, 6, 2 * BLK, 6 * 2 * BLK);
	bf_of(&have, 6, first);
	bf_full(&peer, 6);
	memset(data, 0x5a, sizeof(data));
	rng_seed(&rng, 4);
	/* One active piece at a time, so peer 8 has to help with 4. */
	cr_assert_eq(picker_init(&pk, &mi, &have, 1), 0);
	picker_add_bitfield(&pk, &peer);
	picker_add_have(&pk, 5);	/* 4 is the rarer one */
	cr_assert(picker_pick(&pk, 7, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.index, 4);
	cr_assert(picker_pick(&pk, 8, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.index, 4);
	cr_assert_eq(picker_received(&pk, 7, 4, 0, data, BLK, &pp),
	    PICKER_RECV_STORED);
	cr_assert_eq(picker_received(&pk, 8, 4, BLK, data, BLK, &pp),
	    PICKER_RECV_COMPLETE);
	picker_piece_done(&pk, 4, false);
	/* Either contributor may have sent the bad block. */
	cr_assert(picker_pick(&pk, 8, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.index, 5, "peer 8 contributed to failed piece 4");
	picker_release(&pk);
	bitfield_release(&have);
	bitfield_release(&peer);
}

Test(picker, max_active_bound)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield peer;
	struct rng rng;
	struct picker_block b;
	int n = 0;

	mi_make(&mi, 10, 2 * BLK, 10 * 2 * BLK);
	bf_full(&peer, 10);
	rng_seed(&rng, 21);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 3), 0);
	while (picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b)) {
		n++;
		cr_assert_leq(pk.nactive, 3);
		cr_assert_lt(n, 100, "picker never stops");
	}
	cr_assert_eq(n, 3 * 2, "every block of three pieces, then nothing");
	cr_assert_eq(pk.nactive, 3);
	cr_assert_eq(pk.nfree_missing, 7);
	cr_assert_not(picker_endgame(&pk), "missing pieces are not started");
	picker_release(&pk);

	/* max_active 0 is treated as 1. */
	cr_assert_eq(picker_init(&pk, &mi, NULL, 0), 0);
	cr_assert_eq(pk.max_active, 1);
	n = 0;
	while (picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b))
		n++;
	cr_assert_eq(n, 2);
	cr_assert_eq(pk.nactive, 1);
	picker_release(&pk);
	bitfield_release(&peer);
}

/* A peer that has nothing we lack gets nothing. */
Test(picker, nothing_to_ask)
{
	static const uint32_t mine[] = { 0, 2, UINT32_MAX };
	struct metainfo mi;
	struct picker pk;
	struct bitfield have, peer, none;
	struct rng rng;
	struct picker_block b;

	mi_make(&mi, 3, BLK, 3 * BLK);
	bf_of(&have, 3, mine);
	bf_of(&peer, 3, mine);
	cr_assert_eq(bitfield_init(&none, 3), 0);
	rng_seed(&rng, 2);
	cr_assert_eq(picker_init(&pk, &mi, &have, 4), 0);
	cr_assert_not(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_not(picker_pick(&pk, 1, &none, &rng, NULL, NULL, &b));
	cr_assert_eq(pk.nactive, 0);
	picker_release(&pk);
	bitfield_release(&have);
	bitfield_release(&peer);
	bitfield_release(&none);
}

Test(picker, unrequest_frees_block)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield peer;
	struct rng rng;
	struct picker_block b, again;

	mi_make(&mi, 1, 2 * BLK, 2 * BLK);
	bf_full(&peer, 1);
	rng_seed(&rng, 8);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
	cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
	cr_assert_eq(b.begin, 0);
	cr_assert_eq(pk.active[0].blk[0], 1);
	picker_unrequest(&pk, &b);
	/* Nothing of it came and nothing is asked: not started after all,
	 * missing again, to be chosen anew. */
	cr_assert_eq(pk.nactive, 0);
	cr_assert_eq(pk.state[b.index], PICKER_MISSING);
	cr_assert_eq(pk.nfree_missing, 1);
	cr_assert(picker_pick(&pk, 2, &peer, &rng, NULL, NULL, &again));
	cr_assert_eq(again.index, b.index);
	cr_assert_eq(again.begin, 0, "the freed block is handed out again");
	cr_assert_eq(pk.active[0].owner, 2, "the new peer's piece now");
	/* Unrequesting garbage changes nothing. */
	{
		struct picker_block bad1 = { 0, 5, BLK };
		struct picker_block bad2 = { 0, 9 * BLK, BLK };
		struct picker_block bad3 = { 3, 0, BLK };

		picker_unrequest(&pk, &bad1);
		picker_unrequest(&pk, &bad2);
		picker_unrequest(&pk, &bad3);
	}
	cr_assert_eq(pk.active[0].blk[0], 1);
	/* A received block stays received. */
	{
		uint8_t data[BLK] = { 0 };
		struct picker_piece *pp = NULL;

		cr_assert_eq(picker_received(&pk, 2, 0, 0, data, BLK, &pp),
		    PICKER_RECV_STORED);
		picker_unrequest(&pk, &again);
		cr_assert_eq(pk.active[0].blk[0], PICKER_BLK_RECV);
	}
	picker_release(&pk);
	bitfield_release(&peer);
}

Test(picker, endgame_duplicates_with_skip)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield peer;
	struct rng rng;
	struct picker_block b;
	struct inflight p1 = { .n = 0 }, p2 = { .n = 0 };
	uint8_t data[BLK];
	struct picker_piece *pp = NULL;

	/* 2 pieces of 2 blocks: 4 blocks in all. */
	mi_make(&mi, 2, 2 * BLK, 4 * BLK);
	bf_full(&peer, 2);
	rng_seed(&rng, 13);
	memset(data, 0x11, sizeof(data));
	cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
	for (int k = 0; k < 3; k++) {
		cr_assert(picker_pick(&pk, 1, &peer, &rng, inflight_has, &p1,
		    &b));
		p1.b[p1.n++] = b;
		cr_assert_not(picker_endgame(&pk));
	}
	cr_assert(picker_pick(&pk, 1, &peer, &rng, inflight_has, &p1, &b));
	p1.b[p1.n++] = b;
	cr_assert(picker_endgame(&pk), "every block is requested");
	/* Peer 1 already has all four in flight: nothing more for it. */
	cr_assert_not(picker_pick(&pk, 1, &peer, &rng, inflight_has, &p1,
	    &b));
	cr_assert_gt(p1.calls, 0, "skip() was consulted");
	/* Peer 2 gets each block once, never the same twice. */
	for (int k = 0; k < 4; k++) {
		cr_assert(picker_pick(&pk, 2, &peer, &rng, inflight_has, &p2,
		    &b), "duplicate %d", k);
		cr_assert_not(inflight_has(&p2, &b), "same block twice");
		p2.b[p2.n++] = b;
	}
	cr_assert_not(picker_pick(&pk, 2, &peer, &rng, inflight_has, &p2,
	    &b));
	for (size_t i = 0; i < pk.nactive; i++)
		for (uint32_t k = 0; k < pk.active[i].nblocks; k++)
			cr_assert_eq(pk.active[i].blk[k], 2);
	/* One copy arrives: the other is ignored. */
	cr_assert_eq(picker_received(&pk, 2, p1.b[0].index, p1.b[0].begin,
	    data, p1.b[0].length, &pp), PICKER_RECV_STORED);
	cr_assert_eq(picker_received(&pk, 1, p1.b[0].index, p1.b[0].begin,
	    data, p1.b[0].length, &pp), PICKER_RECV_IGNORED);
	/* A third peer without skip: the least requested block first... all
	 * are at 2 except the received one, which is never re-requested. */
	{
		struct picker_block c;

		picker_unrequest(&pk, &p1.b[3]);	/* now at 1 */
		cr_assert(picker_pick(&pk, 3, &peer, &rng, NULL, NULL, &c));
		cr_assert_eq(c.index, p1.b[3].index);
		cr_assert_eq(c.begin, p1.b[3].begin);
	}
	picker_release(&pk);
	bitfield_release(&peer);
}

/* skip() is honoured outside endgame too: a block this peer already has
 * in flight (a stale request after unrequest) is not handed out again. */
Test(picker, skip_outside_endgame)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield peer;
	struct rng rng;
	struct picker_block b;
	struct inflight f = { .n = 0 };

	mi_make(&mi, 1, 3 * BLK, 3 * BLK);
	bf_full(&peer, 1);
	rng_seed(&rng, 17);
	cr_assert_eq(picker_init(&pk, &mi, NULL, 4), 0);
	cr_assert(picker_pick(&pk, 1, &peer, &rng, inflight_has, &f, &b));
	f.b[f.n++] = b;
	f.b[f.n++] = (struct picker_block){ 0, BLK, BLK };
	cr_assert(picker_pick(&pk, 1, &peer, &rng, inflight_has, &f, &b));
	cr_assert_eq(b.begin, 2 * BLK, "block 1 was skipped");
	picker_release(&pk);
	bitfield_release(&peer);
}

/* A whole download through the picker: every piece HAVE at the end. */
Test(picker, full_run_to_complete)
{
	struct metainfo mi;
	struct picker pk;
	struct bitfield peer;
	struct rng rng;
	struct picker_block b;
	uint8_t data[BLK];
	int guard = 0;

	mi_make(&mi, 9, 2 * BLK, 8 * 2 * BLK + 123);
	bf_full(&peer, 9);
	rng_seed(&rng, 23);
	memset(data, 0x77, sizeof(data));
	cr_assert_eq(picker_init(&pk, &mi, NULL, 2), 0);
	picker_add_bitfield(&pk, &peer);
	while (!picker_complete(&pk)) {
		struct picker_piece *pp = NULL;
		enum picker_recv r;

		cr_assert(picker_pick(&pk, 1, &peer, &rng, NULL, NULL, &b));
		cr_assert_leq(b.length, BLK);
		r = picker_received(&pk, 1, b.index, b.begin, data, b.length,
		    &pp);
		cr_assert_neq(r, PICKER_RECV_IGNORED);
		if (r == PICKER_RECV_COMPLETE)
			picker_piece_done(&pk, b.index, true);
		cr_assert_lt(++guard, 100);
	}
	cr_assert_eq(guard, 8 * 2 + 1);
	cr_assert_eq(pk.nhave, 9);
	cr_assert_eq(pk.nactive, 0);
	cr_assert_not(picker_interesting(&pk, &peer));
	cr_assert_not(picker_endgame(&pk));
	picker_release(&pk);
	bitfield_release(&peer);
}
