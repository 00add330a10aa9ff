/*
 * fuzz_peer.c: libFuzzer target for a whole peer connection in the
 * session engine (state.h), with no sockets.
 *
 * Once per process, LLVMFuzzerInitialize writes a small two-file torrent
 * and its payload to a temporary directory, with pieces 3 and 4 spoiled
 * on disk, and starts a struct thr_state on it: after the resume check we
 * have pieces 0-2 and want 3-4, so a fuzzed peer can both ask us for
 * blocks and send us some.  Each input is one incoming connection:
 *
 *	byte 0		reserved bits of its handshake (bit 0: BEP 6 fast,
 *			bit 1: BEP 10 extensions)
 *	then chunks	a control byte c, then (c & 0x3f) + 1 bytes, times
 *			64 if c & 0x80; if c & 0x40 the clock moves on by a
 *			choke period and state_tick runs after the chunk
 *
 * The peer's valid handshake goes into p->in first, then each chunk, and
 * state_peer_input and state_upload run after each, until the peer is
 * dead or the input ends; then state_peer_remove.  What we send must be
 * a valid handshake followed by valid messages, and after the removal
 * the shared state must be consistent again: no peers, no availability,
 * no blocks still requested, the picker agreeing with our bitfield.  The
 * state lives on across inputs, as it does across connections in a run.
 * A broken promise aborts, which libFuzzer reports as a crash.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bencode.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/hash.h"
#include "core/state.h"
#include "core/wire.h"

#define PLEN		32768u		/* two blocks: order matters */
#define LEN_A		80000u
#define LEN_B		60001u
#define TOTAL		(LEN_A + LEN_B)
#define NPIECES		((TOTAL + PLEN - 1) / PLEN)	/* 5, last short */
#define SPOILED_FROM	3u	/* pieces 3.. are wrong on disk */
#define START_MS	1000000u
#define CHUNK_SCALE	64u
#define MAX_CHUNKS	4096u	/* bounds the work per input */

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer gives a target no context pointer: the one state of this
 * process lives here, made once by LLVMFuzzerInitialize. */
static struct thr_state	 fz_state;
static char		 fz_root[64];
static char		 fz_dl[128];
static char		 fz_torrent[128];
static uint64_t		 fz_now = START_MS;

static const uint8_t	 fz_their_id[20] = "-FZ0001-fuzzfuzzfuzz";

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_peer: broken invariant: %s\n", what);
	abort();
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
cleanup(void)
{
	state_release(&fz_state);
	if (fz_root[0] != '\0')
		nftw(fz_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
write_file(const char *path, const uint8_t *p, size_t len)
{
	FILE *fp;

	if ((fp = fopen(path, "wb")) == NULL ||
	    fwrite(p, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

static void
make_torrent(void)
{
	static uint8_t payload[TOTAL];
	uint8_t hashes[NPIECES * 20];
	char path[256];
	struct buf b;

	for (size_t i = 0; i < TOTAL; i++)
		payload[i] = (uint8_t)((i * 2654435761u) >> 11 ^ i);
	for (uint32_t i = 0; i < NPIECES; i++) {
		size_t n = TOTAL - i * PLEN < PLEN ? TOTAL - i * PLEN : PLEN;

		if (hash_sha1(payload + i * PLEN, n, hashes + 20 * i) != 0)
			exit(1);
	}
	buf_init(&b, 1u << 20);
	bencode_put_dict(&b);
	bencode_put_cstr(&b, "announce");
	bencode_put_cstr(&b, "http://127.0.0.1:9/announce");
	bencode_put_cstr(&b, "info");
	bencode_put_dict(&b);
	bencode_put_cstr(&b, "files");
	bencode_put_list(&b);
	bencode_put_dict(&b);
	bencode_put_cstr(&b, "length");
	bencode_put_int(&b, LEN_A);
	bencode_put_cstr(&b, "path");
	bencode_put_list(&b);
	bencode_put_cstr(&b, "a.bin");
	bencode_put_end(&b);
	bencode_put_end(&b);
	bencode_put_dict(&b);
	bencode_put_cstr(&b, "length");
	bencode_put_int(&b, LEN_B);
	bencode_put_cstr(&b, "path");
	bencode_put_list(&b);
	bencode_put_cstr(&b, "b.bin");
	bencode_put_end(&b);
	bencode_put_end(&b);
	bencode_put_end(&b);
	bencode_put_cstr(&b, "name");
	bencode_put_cstr(&b, "pay");
	bencode_put_cstr(&b, "piece length");
	bencode_put_int(&b, PLEN);
	bencode_put_cstr(&b, "pieces");
	bencode_put_str(&b, hashes, sizeof(hashes));
	bencode_put_end(&b);
	if (bencode_put_end(&b) != 0)
		exit(1);
	write_file(fz_torrent, b.data, b.len);
	buf_release(&b);

	/* Spoil the tail so that we are downloading, not seeding. */
	for (size_t i = SPOILED_FROM * PLEN; i < TOTAL; i++)
		payload[i] ^= 0x5a;
	snprintf(path, sizeof(path), "%s/pay", fz_dl);
	if (mkdir(path, 0755) != 0)
		exit(1);
	snprintf(path, sizeof(path), "%s/pay/a.bin", fz_dl);
	write_file(path, payload, LEN_A);
	snprintf(path, sizeof(path), "%s/pay/b.bin", fz_dl);
	write_file(path, payload + LEN_A, LEN_B);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct state_opts o;
	struct thr_error err;
	int guard = 0;

	(void)argc;
	(void)argv;
	strcpy(fz_root, "/tmp/thr-fuzz-peer-XXXXXX");
	if (mkdtemp(fz_root) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(fz_dl, sizeof(fz_dl), "%s/dl", fz_root);
	snprintf(fz_torrent, sizeof(fz_torrent), "%s/t.torrent", fz_root);
	if (mkdir(fz_dl, 0755) != 0)
		exit(1);
	make_torrent();

	memset(&o, 0, sizeof(o));
	o.torrent_path = fz_torrent;
	o.dir = fz_dl;
	o.seed = 12345;
	o.log_level = LOG_ERROR;
	o.max_peers = 10;
	o.seed_ratio = -1;
	o.no_tui = true;
	memset(&err, 0, sizeof(err));
	if (state_init(&fz_state, &o, fz_now, &err) != 0) {
		fprintf(stderr, "fuzz_peer: state_init: %s\n", err.msg);
		exit(1);
	}
	atexit(cleanup);
	while (fz_state.phase == STATE_CHECKING && guard++ < 100)
		state_check_step(&fz_state, fz_now);
	if (fz_state.phase != STATE_DOWNLOADING ||
	    fz_state.have.count != SPOILED_FROM) {
		fprintf(stderr, "fuzz_peer: unexpected start: phase %d, "
		    "%u pieces\n", (int)fz_state.phase, fz_state.have.count);
		exit(1);
	}
	return 0;
}

/*
 * Check and drain what we wrote to the peer, as a socket would.  Our
 * handshake comes first; every message after it must parse.
 */
static void
drain_out(struct thr_state *s, struct peer *p, bool *hs_seen)
{
	struct wire_msg m;
	uint8_t ih[20];
	size_t off = 0, used;
	int rc;

	if (!*hs_seen) {
		if (p->out.len < WIRE_HANDSHAKE_LEN)
			return;
		if (wire_handshake_parse(p->out.data, ih, NULL, NULL) != 0 ||
		    memcmp(ih, s->mi.info_hash, 20) != 0)
			fail("our handshake is invalid");
		off = WIRE_HANDSHAKE_LEN;
		*hs_seen = true;
	}
	while (off < p->out.len) {
		rc = wire_parse(p->out.data + off, p->out.len - off,
		    s->mi.npieces, &m, &used);
		if (rc < 0)
			fail("we sent a malformed message");
		if (rc == 0)
			break;
		off += used;
	}
	if (off > 0) {
		state_peer_sent(s, p, off, fz_now);
		buf_consume(&p->out, off);
	}
}

static void
check_consistent(const struct thr_state *s)
{
	const struct picker *pk = &s->pk;
	uint32_t have = 0;

	if (s->npeers != 0)
		fail("a peer is left after removal");
	if (s->upq.n != 0)
		fail("the upload scheduler kept a removed peer's flow");
	if (s->fatal != 0) {
		fprintf(stderr, "fatal: %s\n", s->fatal_msg);
		fail("the state hit a fatal error");
	}
	for (uint32_t i = 0; i < pk->npieces; i++) {
		if (pk->avail[i] != 0)
			fail("availability left by a removed peer");
		if ((pk->state[i] == PICKER_HAVE) != bitfield_get(&s->have, i))
			fail("picker and our bitfield disagree");
		have += pk->state[i] == PICKER_HAVE;
	}
	if (have != pk->nhave || have != s->have.count)
		fail("piece counts disagree");
	if (pk->nactive > pk->max_active)
		fail("too many active pieces");
	if (s->wb.n != 0)
		fail("blocks left unwritten after the input");
	if (s->ro.used > REORDER_SLOTS)
		fail("the reorder store overflowed");
	for (int i = 0; i < REORDER_SLOTS; i++)
		if (s->ro.len[i] != 0 && (s->ro.index[i] >= pk->npieces ||
		    pk->state[s->ro.index[i]] != PICKER_ACTIVE))
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
				fail("block still requested from a removed peer");
		}
		if (recv != pp->nrecv)
			fail("received block count disagrees");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct thr_state *s = &fz_state;
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
	if ((p = state_peer_add(s, &a, true, fz_now)) == NULL)
		fail("state_peer_add refused a peer");
	id = p->id;
	wire_handshake_build(hs, s->mi.info_hash, fz_their_id, reserved);
	if (buf_append(&p->in, hs, sizeof(hs)) != 0)
		fail("no room for the handshake");
	state_peer_input(s, p, fz_now);
	state_upload(s, fz_now);
	drain_out(s, p, &hs_seen);
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
		state_peer_input(s, p, fz_now);
		if (s->wb.n != 0)
			fail("blocks left unwritten after an input");
		if (p->dead)
			break;
		state_upload(s, fz_now);
		drain_out(s, p, &hs_seen);
		if (tick) {
			fz_now += STATE_CHOKE_PERIOD_MS;
			state_tick(s, fz_now);
			/* The tick may have dropped it (timeouts). */
			if (state_peer_find(s, id) == NULL)
				fail("state_tick freed a peer it does not own");
			drain_out(s, p, &hs_seen);
		}
	}
	state_peer_remove(s, id);
	/* Bans are per IP and every input comes from the same one: forget
	 * them so that later inputs still reach the engine. */
	s->nbanned = 0;
	check_consistent(s);
	return 0;
}
