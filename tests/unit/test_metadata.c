/*
 * test_metadata.c: fetching an info dict in ut_metadata pieces (BEP 9):
 * piece hand-out across peers, timeouts, rejects, departures, hostile
 * answers, the final SHA-1 check and its restart, and serving pieces.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/metadata.h"
#include "core/metainfo.h"

#define INFO_LEN	40000	/* three pieces, the last 7232 bytes */

static uint8_t info[INFO_LEN];
static uint8_t ih[20];

static void
setup(void)
{
	size_t i;

	for (i = 0; i < sizeof info; i++)
		info[i] = (uint8_t)(i * 31 + (i >> 8));
	cr_assert_eq(hash_sha1(info, sizeof info, ih), 0);
}

/* Deliver piece i of info from peer. */
static int
give(struct metadata *md, uint32_t peer, uint32_t i)
{
	const uint8_t *p;
	size_t n;

	cr_assert_eq(metadata_piece(info, sizeof info, i, &p, &n), 0);
	return metadata_received(md, peer, i, p, n);
}

Test(metadata, npieces)
{
	cr_assert_eq(metadata_npieces(1), 1);
	cr_assert_eq(metadata_npieces(16384), 1);
	cr_assert_eq(metadata_npieces(16385), 2);
	cr_assert_eq(metadata_npieces(METADATA_MAX_SIZE), METADATA_MAX_PIECES);
}

Test(metadata, init_bounds, .init = setup)
{
	struct metadata md;

	cr_assert_eq(metadata_init(&md, 0, ih), THR_EINVAL);
	cr_assert_null(md.data);
	metadata_release(&md);
	cr_assert_eq(metadata_init(&md, METADATA_MAX_SIZE + 1, ih),
	    THR_ELIMIT);
	cr_assert_eq(metadata_init(&md, (size_t)-1, ih), THR_ELIMIT);
	cr_assert_eq(metadata_init(&md, METADATA_MAX_SIZE, ih), 0);
	cr_assert_eq(md.npieces, METADATA_MAX_PIECES);
	cr_assert_not(metadata_complete(&md));
	metadata_release(&md);
	metadata_release(&md);
}

Test(metadata, one_peer_fetches_all, .init = setup)
{
	struct metadata md;
	uint32_t piece, i;
	size_t nbad = 99;

	cr_assert_eq(metadata_init(&md, sizeof info, ih), 0);
	cr_assert_eq(md.npieces, 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(metadata_next_request(&md, 1, 0, &piece), 0);
		cr_assert_eq(piece, i);
	}
	cr_assert_eq(metadata_next_request(&md, 1, 0, &piece), THR_ENOENT);
	cr_assert_eq(metadata_verify(&md, NULL, 0, &nbad), THR_EAGAIN);
	cr_assert_eq(nbad, 0);
	/* Out of order answers are fine. */
	cr_assert_eq(give(&md, 1, 2), 0);
	cr_assert_eq(give(&md, 1, 0), 0);
	cr_assert_not(metadata_complete(&md));
	cr_assert_eq(give(&md, 1, 1), 0);
	cr_assert(metadata_complete(&md));
	cr_assert_eq(metadata_verify(&md, NULL, 0, NULL), 0);
	cr_assert_eq(md.size, sizeof info);
	cr_assert(memcmp(md.data, info, sizeof info) == 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &piece), THR_ENOENT);
	metadata_release(&md);
}

Test(metadata, peers_share_the_work, .init = setup)
{
	struct metadata md;
	uint32_t a, b, c, d;

	cr_assert_eq(metadata_init(&md, sizeof info, ih), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &a), 0);
	cr_assert_eq(metadata_next_request(&md, 2, 0, &b), 0);
	cr_assert_eq(metadata_next_request(&md, 3, 0, &c), 0);
	cr_assert_neq(a, b);
	cr_assert_neq(b, c);
	cr_assert_neq(a, c);
	cr_assert_eq(metadata_next_request(&md, 4, 0, &d), THR_ENOENT);
	cr_assert_eq(give(&md, 1, a), 0);
	cr_assert_eq(give(&md, 2, b), 0);
	cr_assert_eq(give(&md, 3, c), 0);
	cr_assert_eq(metadata_verify(&md, NULL, 0, NULL), 0);
	metadata_release(&md);
}

Test(metadata, expire_takes_requests_back, .init = setup)
{
	struct metadata md;
	uint32_t p, ids[4];

	cr_assert_eq(metadata_init(&md, sizeof info, ih), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 1000, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 2, 1500, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 1000, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 3, 1000, &p), THR_ENOENT);
	/* Nothing before the deadline. */
	cr_assert_eq(metadata_expire(&md, 1000 + METADATA_TIMEOUT_MS - 1,
	    ids, 4), 0);
	cr_assert_eq(md.pieces[0].state, METADATA_REQUESTED);
	/* Peer 1's two requests are due; peer 2's is not yet. */
	cr_assert_eq(metadata_expire(&md, 1000 + METADATA_TIMEOUT_MS, ids,
	    4), 2);
	cr_assert_eq(ids[0], 1);
	cr_assert_eq(ids[1], 1);
	cr_assert_eq(md.pieces[0].state, METADATA_MISSING);
	cr_assert_eq(md.pieces[1].state, METADATA_REQUESTED);
	cr_assert_eq(md.pieces[2].state, METADATA_MISSING);
	/* More than fit in ids still counts; NULL with max 0 is fine. */
	cr_assert_eq(metadata_expire(&md, 1500 + METADATA_TIMEOUT_MS, NULL,
	    0), 1);
	cr_assert_eq(metadata_expire(&md, UINT64_MAX, ids, 4), 0);
	metadata_release(&md);
}

Test(metadata, same_peer_asked_again_after_timeout, .init = setup)
{
	struct metadata md;
	uint32_t p, ids[4];

	/* A single peer that answers only the first of two requests sent
	 * together (rTorrent 0.9.8): once the second is taken back, the
	 * same peer gets it again, and the download completes. */
	cr_assert_eq(metadata_init(&md, sizeof info, ih), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	cr_assert_eq(p, 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	cr_assert_eq(p, 1);
	cr_assert_eq(give(&md, 1, 0), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 1, &p), 0);
	cr_assert_eq(p, 2);
	cr_assert_eq(give(&md, 1, 2), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 2, &p), THR_ENOENT);
	cr_assert_eq(metadata_expire(&md, METADATA_TIMEOUT_MS, ids, 4), 1);
	cr_assert_eq(ids[0], 1);
	cr_assert_eq(metadata_next_request(&md, 1, METADATA_TIMEOUT_MS, &p),
	    0);
	cr_assert_eq(p, 1);
	cr_assert_eq(md.pieces[1].peer, 1);
	cr_assert_eq(give(&md, 1, 1), 0);
	cr_assert(metadata_complete(&md));
	cr_assert_eq(metadata_verify(&md, NULL, 0, NULL), 0);
	metadata_release(&md);
}

Test(metadata, timed_out_piece_goes_to_whoever_asks, .init = setup)
{
	struct metadata md;
	uint32_t p, ids[1];

	cr_assert_eq(metadata_init(&md, 100, ih), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 1000, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 2, 1000, &p), THR_ENOENT);
	cr_assert_eq(metadata_expire(&md, 1000 + METADATA_TIMEOUT_MS, ids,
	    1), 1);
	cr_assert_eq(metadata_next_request(&md, 2, 1000 + METADATA_TIMEOUT_MS,
	    &p), 0);
	cr_assert_eq(p, 0);
	cr_assert_eq(md.pieces[0].peer, 2);
	metadata_release(&md);
}

Test(metadata, late_answer_accepted_then_duplicate_ignored, .init = setup)
{
	struct metadata md;
	uint32_t p, ids[3];

	cr_assert_eq(metadata_init(&md, sizeof info, ih), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	cr_assert_eq(metadata_expire(&md, METADATA_TIMEOUT_MS, ids, 3), 3);
	cr_assert_eq(metadata_next_request(&md, 2, METADATA_TIMEOUT_MS, &p),
	    0);
	cr_assert_eq(p, 0);
	/* Peer 1 answers after all. */
	cr_assert_eq(give(&md, 1, 0), 0);
	cr_assert_eq(md.pieces[0].peer, 1);
	cr_assert_eq(md.nhave, 1);
	cr_assert_eq(give(&md, 2, 0), 0);
	cr_assert_eq(md.nhave, 1);
	cr_assert_eq(md.pieces[0].peer, 1);
	/* A taken-back request nobody asks again: its late answer too. */
	cr_assert_eq(give(&md, 1, 2), 0);
	cr_assert_eq(md.nhave, 2);
	metadata_release(&md);
}

Test(metadata, hostile_answers, .init = setup)
{
	struct metadata md;
	uint8_t big[16385];
	uint32_t p;

	memset(big, 0, sizeof big);
	cr_assert_eq(metadata_init(&md, sizeof info, ih), 0);
	/* Unsolicited. */
	cr_assert_eq(give(&md, 1, 0), THR_EPROTO);
	cr_assert_eq(md.nhave, 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	/* Out of range, wrong lengths. */
	cr_assert_eq(metadata_received(&md, 1, 3, big, 16384), THR_EPROTO);
	cr_assert_eq(metadata_received(&md, 1, UINT32_MAX, big, 16384),
	    THR_EPROTO);
	cr_assert_eq(metadata_received(&md, 1, 0, big, 16383), THR_EPROTO);
	cr_assert_eq(metadata_received(&md, 1, 0, big, 16385), THR_EPROTO);
	cr_assert_eq(metadata_received(&md, 1, 2, big, 16384), THR_EPROTO);
	cr_assert_eq(metadata_received(&md, 1, 2, big, 0), THR_EPROTO);
	cr_assert_eq(md.nhave, 0);
	cr_assert_eq(metadata_received(&md, 1, 2, big, INFO_LEN - 32768), 0);
	cr_assert_eq(md.nhave, 1);
	metadata_release(&md);
}

Test(metadata, reject_and_departure, .init = setup)
{
	struct metadata md;
	uint32_t p, q;

	cr_assert_eq(metadata_init(&md, sizeof info, ih), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	/* A reject from someone else, or out of range, changes nothing. */
	metadata_rejected(&md, 2, p);
	metadata_rejected(&md, 1, 99);
	cr_assert_eq(md.pieces[p].state, METADATA_REQUESTED);
	metadata_rejected(&md, 1, p);
	cr_assert_eq(md.pieces[p].state, METADATA_MISSING);
	cr_assert_eq(metadata_next_request(&md, 2, 0, &q), 0);
	cr_assert_eq(q, p);
	cr_assert_eq(metadata_next_request(&md, 2, 0, &q), 0);
	cr_assert_eq(metadata_next_request(&md, 3, 0, &q), 0);
	cr_assert_eq(give(&md, 3, q), 0);
	metadata_peer_gone(&md, 2);
	metadata_peer_gone(&md, 3);
	cr_assert_eq(md.pieces[0].state, METADATA_MISSING);
	cr_assert_eq(md.pieces[1].state, METADATA_MISSING);
	cr_assert_eq(md.pieces[2].state, METADATA_HAVE);
	/* Missing again, for anyone to ask. */
	cr_assert_eq(metadata_next_request(&md, 4, 0, &q), 0);
	cr_assert_eq(q, 0);
	metadata_release(&md);
}

Test(metadata, verify_failure_names_contributors, .init = setup)
{
	struct metadata md;
	uint8_t junk[16384];
	uint32_t p, bad[8];
	size_t nbad;

	memset(junk, 0xee, sizeof junk);
	cr_assert_eq(metadata_init(&md, sizeof info, ih), 0);
	cr_assert_eq(metadata_next_request(&md, 7, 0, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 9, 0, &p), 0);
	cr_assert_eq(metadata_next_request(&md, 7, 0, &p), 0);
	cr_assert_eq(give(&md, 7, 0), 0);
	cr_assert_eq(metadata_received(&md, 9, 1, junk, sizeof junk), 0);
	cr_assert_eq(give(&md, 7, 2), 0);
	cr_assert(metadata_complete(&md));
	cr_assert_eq(metadata_verify(&md, bad, 8, &nbad), THR_EPROTO);
	cr_assert_eq(nbad, 2);
	cr_assert_eq(bad[0], 7);
	cr_assert_eq(bad[1], 9);
	cr_assert_not(metadata_complete(&md));
	cr_assert_eq(md.nhave, 0);
	for (p = 0; p < md.npieces; p++)
		cr_assert_eq(md.pieces[p].state, METADATA_MISSING);
	/* After the restart an answer must be asked for again. */
	cr_assert_eq(give(&md, 7, 0), THR_EPROTO);
	/* Start over with an honest peer. */
	for (p = 0; p < 3; p++) {
		uint32_t q;

		cr_assert_eq(metadata_next_request(&md, 11, 0, &q), 0);
		cr_assert_eq(give(&md, 11, q), 0);
	}
	cr_assert_eq(metadata_verify(&md, bad, 8, &nbad), 0);
	cr_assert_eq(nbad, 0);
	metadata_release(&md);
}

Test(metadata, verify_failure_bad_list_capped, .init = setup)
{
	struct metadata md;
	uint32_t p, bad[1];
	size_t nbad;

	cr_assert_eq(metadata_init(&md, sizeof info, ih), 0);
	for (p = 0; p < 3; p++) {
		uint32_t q;

		cr_assert_eq(metadata_next_request(&md, p + 1, 0, &q), 0);
		cr_assert_eq(give(&md, p + 1, q), 0);
	}
	/* Flip one byte: the hash no longer matches. */
	md.data[5] ^= 1;
	cr_assert_eq(metadata_verify(&md, bad, 1, &nbad), THR_EPROTO);
	cr_assert_eq(nbad, 1);
	cr_assert_eq(bad[0], 1);
	metadata_release(&md);
	cr_assert_eq(metadata_init(&md, 1, ih), 0);
	cr_assert_eq(metadata_next_request(&md, 5, 0, &p), 0);
	cr_assert_eq(metadata_received(&md, 5, 0, info, 1), 0);
	cr_assert_eq(metadata_verify(&md, NULL, 0, NULL), THR_EPROTO);
	metadata_release(&md);
}

Test(metadata, serve_pieces, .init = setup)
{
	const uint8_t *p;
	size_t n;

	cr_assert_eq(metadata_piece(info, sizeof info, 0, &p, &n), 0);
	cr_assert_eq(p, info);
	cr_assert_eq(n, 16384);
	cr_assert_eq(metadata_piece(info, sizeof info, 2, &p, &n), 0);
	cr_assert_eq(p, info + 32768);
	cr_assert_eq(n, INFO_LEN - 32768);
	cr_assert_eq(metadata_piece(info, sizeof info, 3, &p, &n), THR_ENOENT);
	cr_assert_eq(metadata_piece(info, sizeof info, UINT32_MAX, &p, &n),
	    THR_ENOENT);
	cr_assert_eq(metadata_piece(info, 32768, 1, &p, &n), 0);
	cr_assert_eq(n, 16384);
	cr_assert_eq(metadata_piece(info, 32768, 2, &p, &n), THR_ENOENT);
	cr_assert_eq(metadata_piece(info, 0, 0, &p, &n), THR_ENOENT);
}

/* metadata.h promises that a verified buffer wrapped as "d4:info...e"
 * is a torrent metainfo_parse accepts, with the same info-hash. */
Test(metadata, verified_dict_parses_as_torrent)
{
	static const char dict[] = "d6:lengthi5e4:name5:a.txt"
	    "12:piece lengthi16384e6:pieces20:abcdefghijklmnopqrste";
	struct metainfo mi;
	struct metadata md;
	struct thr_error e;
	uint8_t h[20];
	uint32_t p;
	struct buf b;

	cr_assert_eq(hash_sha1(dict, sizeof dict - 1, h), 0);
	cr_assert_eq(metadata_init(&md, sizeof dict - 1, h), 0);
	cr_assert_eq(metadata_next_request(&md, 1, 0, &p), 0);
	cr_assert_eq(metadata_received(&md, 1, p, (const uint8_t *)dict,
	    sizeof dict - 1), 0);
	cr_assert_eq(metadata_verify(&md, NULL, 0, NULL), 0);
	buf_init(&b, 1 << 20);
	cr_assert_eq(buf_puts(&b, "d4:info"), 0);
	cr_assert_eq(buf_append(&b, md.data, md.size), 0);
	cr_assert_eq(buf_puts(&b, "e"), 0);
	cr_assert_eq(metainfo_parse(&mi, b.data, b.len, &e), 0, "%s", e.msg);
	cr_assert_arr_eq(mi.info_hash, h, 20);
	cr_assert_str_eq(mi.name, "a.txt");
	cr_assert_eq(mi.ntiers, 0);
	metainfo_release(&mi);
	buf_release(&b);
	metadata_release(&md);
}
