/*
 * fuzz_peer.c: libFuzzer target for a whole peer connection of a
 * torrent (core/torrent.h, core/pwp.c) in a session (core/session.h),
 * with no sockets and no disk.
 *
 * Once per process, LLVMFuzzerInitialize builds a small two-file
 * torrent, keeps its payload in a memory store (core/memstore.h) with
 * pieces 3 and 4 spoiled, and adds it to a session: after the resume
 * check we have pieces 0-2 and want 3-4, so a fuzzed peer can both ask
 * us for blocks and send us some.  Each input is one incoming
 * connection:
 *
 *	byte 0		reserved bits of its handshake (bit 0: BEP 6 fast,
 *			bit 1: BEP 10 extensions)
 *	then chunks	a control byte c, then (c & 0x3f) + 1 bytes, times
 *			64 if c & 0x80; if c & 0x40 the clock moves on by a
 *			choke period and session_tick runs after the chunk
 *
 * The peer's valid handshake goes into p->in first, then each chunk, and
 * torrent_peer_input and session_upload run after each, until the peer
 * is dead or the input ends; then torrent_peer_remove.  What we send
 * must be a valid handshake followed by valid messages, and after the
 * removal the torrent and session must be consistent again: no peers,
 * no availability, no blocks still requested, no upload flow, the
 * picker agreeing with our bitfield and the bytes left.  The session
 * lives on across inputs, as it does across connections in a run.  A
 * broken promise aborts, which libFuzzer reports as a crash.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bencode.h"
#include "core/buf.h"
#include "core/choker.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/memstore.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/wire.h"

#define PLEN		32768u		/* two blocks: order matters */
#define LEN_A		80000u
#define LEN_B		60001u
#define TOTAL		(LEN_A + LEN_B)
#define NPIECES		((TOTAL + PLEN - 1) / PLEN)	/* 5, last short */
#define SPOILED_FROM	3u	/* pieces 3.. are wrong in the store */
#define START_MS	1000000u
#define CHUNK_SCALE	64u
#define MAX_CHUNKS	4096u	/* bounds the work per input */

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer gives a target no context pointer: the one session of this
 * process lives here, made once by LLVMFuzzerInitialize. */
static struct session	*fz_sess;
static struct torrent	*fz_tor;
static struct memstore	*fz_store;
static struct buf	 fz_meta;
static uint64_t		 fz_now = START_MS;

static const uint8_t	 fz_their_id[20] = "-FZ0001-fuzzfuzzfuzz";

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_peer: broken invariant: %s\n", what);
	abort();
}

static void
cleanup(void)
{
	session_free(fz_sess);
	memstore_free(fz_store);
	buf_release(&fz_meta);
}

static void
put_file(struct buf *b, const char *name, uint32_t len)
{
	bencode_put_dict(b);
	bencode_put_cstr(b, "length");
	bencode_put_int(b, len);
	bencode_put_cstr(b, "path");
	bencode_put_list(b);
	bencode_put_cstr(b, name);
	bencode_put_end(b);
	bencode_put_end(b);
}

/* The torrent into fz_meta, and its payload, spoiled from piece
 * SPOILED_FROM on, into the memory store as data from before the run. */
static void
make_torrent(void)
{
	static uint8_t payload[TOTAL];
	uint8_t hashes[NPIECES * 20];
	struct buf *b = &fz_meta;

	for (size_t i = 0; i < TOTAL; i++)
		payload[i] = (uint8_t)((i * 2654435761u) >> 11 ^ i);
	for (uint32_t i = 0; i < NPIECES; i++) {
		size_t n = TOTAL - i * PLEN < PLEN ? TOTAL - i * PLEN : PLEN;

		if (hash_sha1(payload + i * PLEN, n, hashes + 20 * i) != 0)
			exit(1);
	}
	buf_init(b, 1u << 20);
	bencode_put_dict(b);
	bencode_put_cstr(b, "announce");
	bencode_put_cstr(b, "http://127.0.0.1:9/announce");
	bencode_put_cstr(b, "info");
	bencode_put_dict(b);
	bencode_put_cstr(b, "files");
	bencode_put_list(b);
	put_file(b, "a.bin", LEN_A);
	put_file(b, "b.bin", LEN_B);
	bencode_put_end(b);
	bencode_put_cstr(b, "name");
	bencode_put_cstr(b, "pay");
	bencode_put_cstr(b, "piece length");
	bencode_put_int(b, PLEN);
	bencode_put_cstr(b, "pieces");
	bencode_put_str(b, hashes, sizeof(hashes));
	bencode_put_end(b);
	if (bencode_put_end(b) != 0)
		exit(1);

	/* Spoil the tail so that we are downloading, not seeding. */
	for (size_t i = SPOILED_FROM * PLEN; i < TOTAL; i++)
		payload[i] ^= 0x5a;
	if ((fz_store = memstore_new(payload, TOTAL, true)) == NULL)
		exit(1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct session_opts so;
	struct torrent_opts to;
	struct thr_error err;
	int guard = 0;

	(void)argc;
	(void)argv;
	make_torrent();
	memset(&so, 0, sizeof(so));
	so.seed = 12345;
	so.log_level = LOG_ERROR;
	so.max_peers = 10;
	so.crypto = SESSION_CRYPTO_PREFER;
	so.transport = SESSION_TRANSPORT_TCP;
	memset(&err, 0, sizeof(err));
	if ((fz_sess = session_new(&so, fz_now, &err)) == NULL) {
		fprintf(stderr, "fuzz_peer: session_new: %s\n", err.msg);
		exit(1);
	}
	memset(&to, 0, sizeof(to));
	to.metainfo = fz_meta.data;
	to.metainfo_len = fz_meta.len;
	to.seed_ratio = -1;
	to.store = memstore_factory(fz_store);
	if (session_add(fz_sess, &to, fz_now, &fz_tor, &err) != 0) {
		fprintf(stderr, "fuzz_peer: session_add: %s\n", err.msg);
		exit(1);
	}
	atexit(cleanup);
	while (fz_tor->phase == TORRENT_CHECKING && guard++ < 100)
		torrent_check_step(fz_tor, fz_now);
	if (fz_tor->phase != TORRENT_DOWNLOADING ||
	    fz_tor->have.count != SPOILED_FROM) {
		fprintf(stderr, "fuzz_peer: unexpected start: phase %d, "
		    "%u pieces\n", (int)fz_tor->phase, fz_tor->have.count);
		exit(1);
	}
	return 0;
}

/*
 * Check and drain what we wrote to the peer, as the transport would:
 * encrypt what is new (nothing, for a plain peer), write, and flush the
 * peers the torrent wrote to for another's sake.  Our handshake comes
 * first; every message after it must parse.
 */
static void
drain_out(struct torrent *t, struct peer *p, bool *hs_seen)
{
	struct wire_msg m;
	uint32_t ids[64];
	uint8_t ih[20];
	size_t off = 0, used;
	int rc;

	torrent_peer_outgoing(t, p);
	while (torrent_take_dirty(t, ids, 64) > 0)
		;
	if (!*hs_seen) {
		if (p->out.len < WIRE_HANDSHAKE_LEN)
			return;
		if (wire_handshake_parse(p->out.data, ih, NULL, NULL) != 0 ||
		    memcmp(ih, t->mi.info_hash, 20) != 0)
			fail("our handshake is invalid");
		off = WIRE_HANDSHAKE_LEN;
		*hs_seen = true;
	}
	while (off < p->out.len) {
		rc = wire_parse(p->out.data + off, p->out.len - off,
		    t->mi.npieces, &m, &used);
		if (rc < 0)
			fail("we sent a malformed message");
		if (rc == 0)
			break;
		off += used;
	}
	if (off > 0) {
		buf_consume(&p->out, off);
		torrent_peer_sent(t, p, off, fz_now);
	}
}

static void
check_consistent(const struct session *s, const struct torrent *t,
    uint32_t id)
{
	const struct picker *pk = &t->pk;
	uint64_t left = 0;
	uint32_t have = 0;

	if (t->ps.npeers != 0)
		fail("a peer is left after removal");
	if (session_peer_find(s, id, NULL) != NULL)
		fail("the session still finds a removed peer");
	if (s->upq.n != 0)
		fail("the upload scheduler kept a removed peer's flow");
	if (t->fatal != 0) {
		fprintf(stderr, "fatal: %s\n", t->fatal_msg);
		fail("the torrent hit a fatal error");
	}
	for (uint32_t i = 0; i < pk->npieces; i++) {
		if (pk->avail[i] != 0)
			fail("availability left by a removed peer");
		if ((pk->state[i] == PICKER_HAVE) != bitfield_get(&t->have, i))
			fail("picker and our bitfield disagree");
		have += pk->state[i] == PICKER_HAVE;
		if (pk->state[i] != PICKER_HAVE)
			left += metainfo_piece_size(&t->mi, i);
	}
	if (have != pk->nhave || have != t->have.count)
		fail("piece counts disagree");
	/* Every file is wanted: the bytes left are the pieces not had. */
	if (left != t->sel.left)
		fail("the bytes left disagree with the pieces had");
	if (pk->nactive > pk->max_active)
		fail("too many active pieces");
	if (t->in.wb.n != 0)
		fail("blocks left unwritten after the input");
	if (t->in.ro.used > REORDER_SLOTS)
		fail("the reorder store overflowed");
	for (int i = 0; i < REORDER_SLOTS; i++)
		if (t->in.ro.len[i] != 0 &&
		    (t->in.ro.index[i] >= pk->npieces ||
		    pk->state[t->in.ro.index[i]] != PICKER_ACTIVE))
			fail("a kept block of a piece no longer active");
	for (size_t a = 0; a < pk->nactive; a++) {
		const struct picker_piece *pp = &pk->active[a];
		uint32_t recv = 0;

		if (pp->index >= pk->npieces ||
		    pk->state[pp->index] != PICKER_ACTIVE)
			fail("active piece not marked active");
		for (uint32_t k = 0; k < pp->nblocks; k++) {
			if (pp->blk[k] == PICKER_BLK_RECV)
				recv++;
			else if (pp->blk[k] != 0)
				fail("block still requested from a removed "
				    "peer");
		}
		if (recv != pp->nrecv)
			fail("received block count disagrees");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session *s = fz_sess;
	struct torrent *t = fz_tor;
	struct thr_addr a;
	struct peer *p;
	uint8_t hs[WIRE_HANDSHAKE_LEN], reserved[8] = { 0 };
	size_t off = 1, n, chunks = 0;
	uint32_t id;
	bool hs_seen = false, tick;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		reserved[7] |= 0x04;
	if (data[0] & 2)
		reserved[5] |= 0x10;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.ip[0] = 127;
	a.ip[3] = 2;
	a.port = 6881;
	fz_now += 1000;
	if ((p = torrent_peer_add(t, &a, true, PEER_SRC_COUNT, PEER_TCP,
	    fz_now)) == NULL)
		fail("torrent_peer_add refused a peer");
	id = p->id;
	wire_handshake_build(hs, t->mi.info_hash, fz_their_id, reserved);
	if (buf_append(&p->in, hs, sizeof(hs)) != 0)
		fail("no room for the handshake");
	torrent_peer_input(t, p, fz_now);
	(void)session_upload(s, fz_now);
	drain_out(t, p, &hs_seen);
	if (p->dead)
		fail("a valid handshake killed the peer");

	while (!p->dead && off < size && chunks++ < MAX_CHUNKS) {
		n = (data[off] & 0x3f) + 1u;
		if (data[off] & 0x80)
			n *= CHUNK_SCALE;
		tick = (data[off] & 0x40) != 0;
		off++;
		if (n > size - off)
			n = size - off;
		fz_now += 1;
		if (buf_append(&p->in, data + off, n) != 0) {
			/* The net layer never reads past PEER_IN_MAX. */
			break;
		}
		off += n;
		torrent_peer_input(t, p, fz_now);
		if (t->in.wb.n != 0)
			fail("blocks left unwritten after an input");
		if (p->dead)
			break;
		(void)session_upload(s, fz_now);
		drain_out(t, p, &hs_seen);
		if (tick) {
			fz_now += CHOKER_PERIOD_MS;
			(void)session_tick(s, fz_now);
			/* The tick may have killed it (timeouts), but only
			 * the transport frees a peer. */
			if (session_peer_find(s, id, NULL) != p)
				fail("session_tick freed a peer it does not "
				    "own");
			drain_out(t, p, &hs_seen);
		}
	}
	torrent_peer_remove(t, p, fz_now);
	/* Bans are per IP and every input comes from the same one: forget
	 * them so that later inputs still reach the engine. */
	t->ps.nbanned = 0;
	check_consistent(s, t, id);
	return 0;
}
