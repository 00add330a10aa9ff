/*
 * test_torrent.c: a session and its torrent (core/session.h,
 * core/torrent.h) without sockets: the check of existing data, the wire
 * protocol of one peer (core/pwp.h), the upload (session_upload), the
 * peer set's dial decisions (core/peerset.h), the trackers
 * (core/announcer.h), over the disk store (net/storage.h).
 *
 * Each test builds a three-file torrent in a fresh temporary directory
 * (fixture.h, with the bencode encoder and hash_sha1): "pay/a.bin"
 * (40000 bytes), "pay/empty" (0 bytes) and "pay/sub/c.bin" (70001
 * bytes), piece length 16384, so 7 pieces of which piece 2 spans a.bin
 * and c.bin and piece 6 is short (11697 bytes).  Peers are driven by
 * appending wire messages to p->in and reading what the torrent put in
 * p->out.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bencode.h"
#include "core/buf.h"
#include "core/peerset.h"
#include "core/pwp.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/tracker.h"
#include "core/wire.h"
#include "net/loop.h"
#include "net/xport.h"

#include "fixture.h"

#define PLEN	16384u
#define NFILES	3
#define TOTAL	(40000u + 0u + 70001u)
#define NPIECES	((TOTAL + PLEN - 1) / PLEN)
#define NOW	1000000u	/* an arbitrary start time, in ms */

static const struct fixture_file files[NFILES] = {
	{ { "a.bin", NULL }, 40000, 0 },
	{ { "empty", NULL }, 0, 40000 },
	{ { "sub", "c.bin" }, 70001, 40000 },
};

static const uint8_t their_id[20] = "-XX0001-abcdefghijkl";

static char	 root[FIXTURE_ROOT_LEN];
static char	 dl[FIXTURE_PATH_LEN];
static char	 torrent[FIXTURE_PATH_LEN];
static uint8_t	 payload[TOTAL];

static const struct fixture fx = FIXTURE_OVER(files, PLEN, payload, root, dl,
    torrent);

/* --- fixture (fixture.h), and what only this suite needs --------------- */

static void
fx_init(void)
{
	fixture_init(&fx, "/tmp/thr-torrent-XXXXXX", 0);
}

static void
fx_fini(void)
{
	fixture_fini(&fx);
}

static void
file_path(size_t f, char *out, size_t len)
{
	fixture_file_path(&fx, f, out, len);
}

/* Put the payload on disk, as a finished download would have it. */
static void
write_payload(void)
{
	fixture_write_payload(&fx);
}

/* Flip one byte of the payload on disk at torrent offset off. */
static void
flip_on_disk(uint64_t off)
{
	char path[256];
	uint8_t c;
	int fd;

	for (size_t f = 0; f < NFILES; f++) {
		if (off < files[f].offset ||
		    off >= files[f].offset + files[f].length)
			continue;
		file_path(f, path, sizeof(path));
		cr_assert_geq(fd = open(path, O_RDWR), 0);
		cr_assert_eq(pread(fd, &c, 1, (off_t)(off - files[f].offset)),
		    1);
		c ^= 0xff;
		cr_assert_eq(pwrite(fd, &c, 1, (off_t)(off - files[f].offset)),
		    1);
		close(fd);
		return;
	}
	cr_assert_fail("offset %llu is in no file", (unsigned long long)off);
}

static void
read_on_disk(uint64_t off, uint8_t *p, size_t len)
{
	char path[256];
	int fd;

	for (size_t f = 0; f < NFILES; f++) {
		if (off < files[f].offset ||
		    off + len > files[f].offset + files[f].length)
			continue;
		file_path(f, path, sizeof(path));
		cr_assert_geq(fd = open(path, O_RDONLY), 0);
		cr_assert_eq(pread(fd, p, len, (off_t)(off - files[f].offset)),
		    (ssize_t)len);
		close(fd);
		return;
	}
	cr_assert_fail("range at %llu is not inside one file",
	    (unsigned long long)off);
}

/* The torrent, keys in BEP 3 sorted order. */
static void
write_torrent(void)
{
	fixture_write_torrent(&fx);
}

static void
opts_default(struct fixture_run *r)
{
	fixture_opts(&fx, r);
}

/* fixture_start with r's options, then check until the phase leaves
 * CHECKING.  r must stay where it is until fixture_stop: the store
 * borrows its place. */
static struct torrent *
start_with(struct fixture_run *r)
{
	fixture_start(r, NOW);
	cr_assert_eq(r->t->phase, TORRENT_CHECKING);
	cr_assert_eq(r->t->mi.npieces, NPIECES);
	cr_assert_eq(r->t->mi.total_length, TOTAL);
	fixture_check(r->t, NOW);
	return r->t;
}

static struct torrent *
start(struct fixture_run *r)
{
	opts_default(r);
	return start_with(r);
}

static struct thr_addr
addr4(uint8_t last, uint16_t port)
{
	return fixture_addr4(127, last, port);
}

/* An incoming peer that has sent its handshake with info hash ih. */
static struct peer *
incoming(struct torrent *t, const uint8_t ih[20])
{
	struct thr_addr a = addr4(2, 6881);
	struct peer *p;

	p = fixture_handshake(t, &a, ih, their_id, NOW);
	cr_assert_eq(p->phase, PEER_HANDSHAKE);
	return p;
}

/* A peer of t at a, over TCP, its source what the known list says. */
static struct peer *
peer_add(struct torrent *t, const struct thr_addr *a, bool in, uint64_t now)
{
	return torrent_peer_add(t, a, in, PEER_SRC_COUNT, PEER_TCP, now);
}

/* Append a bitfield message holding the listed pieces (or all). */
static void
put_bitfield(struct buf *out, bool all, uint32_t only)
{
	fixture_put_bitfield(out, NPIECES, all, only);
}

/* The messages in p->out after our handshake, parsed back.  Returns
 * their count; the payload pointers borrow p->out. */
static size_t
parse_out(const struct torrent *t, const struct peer *p,
    struct wire_msg *msgs, size_t max)
{
	size_t off = WIRE_HANDSHAKE_LEN, used, n = 0;
	uint8_t ih[20], pid[20];

	cr_assert_geq(p->out.len, WIRE_HANDSHAKE_LEN);
	cr_assert_eq(wire_handshake_parse(p->out.data, ih, pid, NULL), 0);
	cr_assert_eq(memcmp(ih, t->mi.info_hash, 20), 0);
	cr_assert_eq(memcmp(pid, t->sess->peer_id, 20), 0);
	while (off < p->out.len) {
		cr_assert_lt(n, max);
		cr_assert_eq(wire_parse(p->out.data + off, p->out.len - off,
		    t->mi.npieces, &msgs[n], &used), 1,
		    "bad message at %zu", off);
		off += used;
		n++;
	}
	return n;
}

static size_t
count_id(const struct wire_msg *m, size_t n, uint8_t id)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += !m[i].keepalive && m[i].id == id;
	return c;
}

/*
 * An address to dial now, as the net layer asks for one (net/xport.c,
 * xnet_dial): nothing while checking, done, paused or finished (the run
 * is about to end), else the peer set's choice, a seed dialling only
 * the addresses the user gave.
 */
static bool
next_dial(struct torrent *t, uint64_t now, struct thr_addr *out)
{
	if (t->phase == TORRENT_CHECKING || t->phase == TORRENT_DONE ||
	    t->paused || torrent_finished(t))
		return false;
	return peerset_next_dial(&t->ps, now, t->phase == TORRENT_SEEDING,
	    out);
}

/* --- resume check ----------------------------------------------------- */

Test(torrent, check_all_valid_seeds_and_finishes, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;

	write_payload();
	write_torrent();
	t = start(&r);
	cr_assert_eq(NPIECES, 7);
	cr_assert_eq(t->check_valid, NPIECES);
	cr_assert_eq(t->have.count, NPIECES);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	cr_assert_eq(t->sel.left, 0);
	cr_assert(torrent_complete(t));
	cr_assert(torrent_finished(t), "seed ratio 0 finishes at once");
	cr_assert_float_eq(torrent_percent(t), 100.0, 1e-9);
	cr_assert(picker_complete(&t->pk));
	/* Checking again is a no-op outside CHECKING. */
	torrent_check_step(t, NOW);
	cr_assert_eq(t->check_valid, NPIECES);
	session_tick(r.s, NOW + 1000);
	cr_assert_eq(t->phase, TORRENT_DONE);
	fixture_stop(&r);
}

Test(torrent, check_seed_forever_is_not_finished, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;

	write_payload();
	write_torrent();
	opts_default(&r);
	r.to.seed_ratio = -1;
	t = start_with(&r);
	cr_assert(torrent_complete(t));
	cr_assert_not(torrent_finished(t));
	session_tick(r.s, NOW + 1000);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	fixture_stop(&r);
}

static void
check_one_corrupt(uint32_t piece, uint64_t off)
{
	struct fixture_run r;
	struct torrent *t;

	write_payload();
	write_torrent();
	flip_on_disk(off);
	t = start(&r);
	cr_assert_eq(t->check_valid, NPIECES - 1);
	for (uint32_t i = 0; i < NPIECES; i++)
		cr_assert_eq(bitfield_get(&t->have, i), i != piece,
		    "piece %u", i);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert_eq(t->sel.left, metainfo_piece_size(&t->mi, piece));
	cr_assert_not(torrent_complete(t));
	cr_assert_not(torrent_finished(t));
	cr_assert_eq(t->pk.state[piece], PICKER_MISSING);
	cr_assert_eq(t->pk.nhave, NPIECES - 1);
	fixture_stop(&r);
}

Test(torrent, check_corrupt_piece_missing, .init = fx_init, .fini = fx_fini)
{
	check_one_corrupt(3, 3 * PLEN + 100);
}

/* Piece 2 spans a.bin and c.bin: a flip in the first file's tail. */
Test(torrent, check_corrupt_spanning_piece, .init = fx_init,
    .fini = fx_fini)
{
	check_one_corrupt(2, 39999);
}

Test(torrent, check_corrupt_short_last_piece, .init = fx_init,
    .fini = fx_fini)
{
	check_one_corrupt(NPIECES - 1, TOTAL - 1);
	cr_assert_eq(TOTAL - (NPIECES - 1) * PLEN, 11697);
}

Test(torrent, check_empty_dir_creates_files, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct stat st;
	char path[256];

	write_torrent();
	t = start(&r);
	cr_assert_eq(t->check_valid, 0);
	cr_assert_eq(t->have.count, 0);
	cr_assert_eq(t->sel.left, TOTAL);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert_float_eq(torrent_percent(t), 0.0, 1e-9);
	for (size_t f = 0; f < NFILES; f++) {
		file_path(f, path, sizeof(path));
		cr_assert_eq(stat(path, &st), 0, "%s", path);
		cr_assert(S_ISREG(st.st_mode));
		cr_assert_eq((uint64_t)st.st_size, files[f].length, "%s",
		    path);
	}
	fixture_stop(&r);
}

/* --- bad torrents ----------------------------------------------------- */

static size_t
dir_entries(const char *path)
{
	return fixture_dir_entries(path);
}

static void
expect_init_fails(const void *bytes, size_t len)
{
	struct fixture_run r;
	struct thr_error err;
	char fresh[160];
	struct stat st;
	FILE *fp;

	if (bytes != NULL) {
		cr_assert_not_null(fp = fopen(torrent, "wb"));
		cr_assert_eq(fwrite(bytes, 1, len, fp), len);
		cr_assert_eq(fclose(fp), 0);
	}
	opts_default(&r);
	cr_assert_neq(fixture_try_start(&r, NOW, &err), 0);
	cr_assert_null(r.t);
	cr_assert_neq(err.msg[0], '\0', "an error message");
	cr_assert_lt(err.code, 0);
	fixture_stop(&r);
	cr_assert_eq(dir_entries(dl), 0, "nothing created in dir");
	/* A directory that did not exist is not created either. */
	snprintf(fresh, sizeof(fresh), "%s/never", root);
	opts_default(&r);
	r.place.dir = fresh;
	cr_assert_neq(fixture_try_start(&r, NOW, &err), 0);
	cr_assert_neq(err.msg[0], '\0');
	fixture_stop(&r);
	cr_assert_eq(stat(fresh, &st), -1);
	cr_assert_eq(errno, ENOENT);
}

Test(torrent, malformed_torrent_refused, .init = fx_init, .fini = fx_fini)
{
	static const char junk[] = "d8:announce3:abc4:infod4:name";

	expect_init_fails(junk, sizeof(junk) - 1);
}

Test(torrent, torrent_without_pieces_refused, .init = fx_init,
    .fini = fx_fini)
{
	static const char nopieces[] =
	    "d4:infod6:lengthi5e4:name1:x12:piece lengthi16384eee";

	expect_init_fails(nopieces, sizeof(nopieces) - 1);
}

Test(torrent, unsafe_path_torrent_refused, .init = fx_init, .fini = fx_fini)
{
	static const char dotdot[] =
	    "d4:infod5:filesld6:lengthi5e4:pathl2:..1:xeee"
	    "4:name3:pay12:piece lengthi16384e"
	    "6:pieces20:aaaaaaaaaaaaaaaaaaaaee";

	expect_init_fails(dotdot, sizeof(dotdot) - 1);
}

Test(torrent, missing_torrent_file_refused, .init = fx_init,
    .fini = fx_fini)
{
	expect_init_fails(NULL, 0);
}

Test(torrent, duplicate_info_key_refused, .init = fx_init, .fini = fx_fini)
{
	/* "length" twice: one client would see 5 bytes, another 6. */
	static const char dup[] =
	    "d4:infod6:lengthi5e6:lengthi6e4:name1:x12:piece lengthi16384e"
	    "6:pieces20:aaaaaaaaaaaaaaaaaaaaee";

	expect_init_fails(dup, sizeof(dup) - 1);
}

/* The fixture's torrent with an announce-list of n one-URL tiers put in
 * front of "info" (BEP 3 order: "announce-list" sorts first). */
static void
write_torrent_trackers(unsigned n)
{
	struct buf in, out;
	char url[48];
	int fd;
	ssize_t r;

	write_torrent();
	buf_init(&in, 1u << 20);
	buf_init(&out, 8u << 20);
	cr_assert_geq(fd = open(torrent, O_RDONLY), 0);
	cr_assert_gt(r = read(fd, buf_reserve(&in, 1u << 20), 1u << 20), 0);
	in.len = (size_t)r;
	close(fd);
	cr_assert_eq(in.data[0], 'd');
	cr_assert_eq(bencode_put_dict(&out), 0);
	cr_assert_eq(bencode_put_cstr(&out, "announce-list"), 0);
	cr_assert_eq(bencode_put_list(&out), 0);
	for (unsigned i = 0; i < n; i++) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/announce",
		    1 + i % 60000);
		cr_assert_eq(bencode_put_list(&out), 0);
		cr_assert_eq(bencode_put_cstr(&out, url), 0);
		cr_assert_eq(bencode_put_end(&out), 0);
	}
	cr_assert_eq(bencode_put_end(&out), 0);
	cr_assert_eq(buf_append(&out, in.data + 1, in.len - 1), 0);
	cr_assert_geq(fd = open(torrent, O_WRONLY | O_TRUNC), 0);
	cr_assert_eq(write(fd, out.data, out.len), (ssize_t)out.len);
	close(fd);
	buf_release(&in);
	buf_release(&out);
}

Test(torrent, announce_list_capped_with_warning, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	bool warned = false;
	enum log_level lv;
	const char *line;

	/* 100,000 tiers: the first METAINFO_MAX_TRACKERS are used, the
	 * run goes on, and one warning says how many were left out. */
	write_torrent_trackers(100000);
	opts_default(&r);
	r.so.log_level = LOG_WARN;
	fixture_start(&r, NOW);
	t = r.t;
	cr_assert_eq(t->mi.ntiers, METAINFO_MAX_TRACKERS);
	cr_assert_eq(t->mi.trackers_dropped, 100000 - METAINFO_MAX_TRACKERS);
	for (uint32_t i = 0; i < r.s->log.count; i++) {
		line = log_line(&r.s->log, i, &lv);
		if (strstr(line, "99744 trackers past the first 256") != NULL) {
			cr_assert_eq(lv, LOG_WARN);
			warned = true;
		}
	}
	cr_assert(warned, "no warning about the ignored trackers");
	fixture_stop(&r);
}

/* --- handshake and messages ------------------------------------------- */

Test(torrent, incoming_handshake_and_bitfield, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	struct wire_msg m[8];
	size_t n;

	write_payload();
	write_torrent();
	flip_on_disk(5 * PLEN);		/* we lack piece 5 */
	t = start(&r);
	p = incoming(t, t->mi.info_hash);
	put_bitfield(&p->in, false, 5);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "killed: %s", p->why);
	cr_assert_eq(p->phase, PEER_ACTIVE);
	cr_assert_eq(p->in.len, 0, "everything consumed");
	cr_assert_eq(memcmp(p->peer_id, their_id, 20), 0);
	cr_assert(bitfield_get(&p->have, 5));
	cr_assert_eq(p->have.count, 1);
	cr_assert_eq(t->pk.avail[5], 1);
	cr_assert(p->am_interested, "it has the piece we lack");
	/* Our handshake, our bitfield, then INTERESTED. */
	n = parse_out(t, p, m, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(m[0].id, WIRE_BITFIELD);
	cr_assert_eq(m[0].payload_len, (NPIECES + 7) / 8);
	cr_assert_eq(memcmp(m[0].payload, t->have.bits, m[0].payload_len), 0);
	cr_assert_eq(m[1].id, WIRE_INTERESTED);
	/* Leaving gives the availability back. */
	torrent_peer_remove(t, p, NOW + 20);
	cr_assert_eq(t->ps.npeers, 0);
	cr_assert_eq(t->pk.avail[5], 0);
	fixture_stop(&r);
}

/* Messages split at awkward points are parsed once whole. */
Test(torrent, input_in_pieces, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct thr_addr a = addr4(3, 7000);
	struct peer *p;
	uint8_t hs[WIRE_HANDSHAKE_LEN];
	struct buf all;

	write_payload();
	write_torrent();
	flip_on_disk(0);
	t = start(&r);
	buf_init(&all, 4096);
	wire_handshake_build(hs, t->mi.info_hash, their_id, NULL);
	buf_append(&all, hs, sizeof(hs));
	put_bitfield(&all, false, 0);
	wire_put_simple(&all, WIRE_UNCHOKE);
	cr_assert_not_null(p = peer_add(t, &a, true, NOW));
	for (size_t i = 0; i < all.len; i++) {
		cr_assert_eq(buf_append(&p->in, all.data + i, 1), 0);
		torrent_peer_input(t, p, NOW + i);
		cr_assert_not(p->dead, "byte %zu: %s", i, p->why);
	}
	cr_assert_eq(p->phase, PEER_ACTIVE);
	cr_assert_not(p->peer_choking);
	cr_assert_eq(p->nreqs, 1, "piece 0 is one block");
	cr_assert_eq(p->reqs[0].index, 0);
	buf_release(&all);
	fixture_stop(&r);
}

Test(torrent, wrong_info_hash_killed, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	uint8_t other[20];

	write_payload();
	write_torrent();
	t = start(&r);
	memcpy(other, t->mi.info_hash, 20);
	other[7] ^= 1;
	p = incoming(t, other);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert(p->dead);
	cr_assert_neq(p->phase, PEER_ACTIVE);
	cr_assert_eq(p->out.len, 0, "we say nothing to a stranger");
	cr_assert_neq(p->why[0], '\0');
	fixture_stop(&r);
}

Test(torrent, our_own_peer_id_killed, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct thr_addr a = addr4(4, 6881);
	struct peer *p;
	uint8_t hs[WIRE_HANDSHAKE_LEN];

	write_payload();
	write_torrent();
	t = start(&r);
	cr_assert_not_null(p = peer_add(t, &a, true, NOW));
	wire_handshake_build(hs, t->mi.info_hash, r.s->peer_id, NULL);
	buf_append(&p->in, hs, sizeof(hs));
	torrent_peer_input(t, p, NOW + 10);
	cr_assert(p->dead, "connected to ourselves");
	fixture_stop(&r);
}

Test(torrent, have_out_of_range_killed, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;

	write_payload();
	write_torrent();
	t = start(&r);
	p = incoming(t, t->mi.info_hash);
	cr_assert_eq(wire_put_have(&p->in, NPIECES), 0);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert(p->dead);
	cr_assert_eq(p->have.count, 0);
	fixture_stop(&r);
}

Test(torrent, bitfield_with_spare_bit_killed, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	uint8_t bits[1] = { 0x01 };	/* bit 7 is past the 7 pieces */

	write_payload();
	write_torrent();
	t = start(&r);
	p = incoming(t, t->mi.info_hash);
	cr_assert_eq(wire_put_bitfield(&p->in, bits, sizeof(bits)), 0);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert(p->dead);
	fixture_stop(&r);
}

/*
 * A request from an unchoked peer is answered from disk.  The peer is
 * unchoked the way the torrent does it: it says INTERESTED while an
 * upload slot is free, and is unchoked at once.  Blocks are read only
 * by the session's upload, never by the input that asked for them.
 */
Test(torrent, request_served_from_disk, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	struct wire_msg m[16];
	size_t n, before;
	bool saw[2] = { false, false };

	write_payload();
	write_torrent();
	opts_default(&r);
	r.to.seed_ratio = -1;	/* keep seeding after the tick */
	t = start_with(&r);
	p = incoming(t, t->mi.info_hash);
	/* A request while choked is dropped (BEP 3), not queued. */
	wire_put_request(&p->in, WIRE_REQUEST, 3, 100, 1000);
	wire_put_simple(&p->in, WIRE_INTERESTED);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "%s", p->why);
	cr_assert_eq(p->qlen, 0);
	cr_assert(p->peer_interested);
	cr_assert_not(p->am_choking, "unchoked into a free slot");
	session_tick(r.s, NOW + 1000);
	cr_assert_not(p->am_choking, "the choker kept it unchoked");
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	before = p->out.len;
	/* Within one file, and across the a.bin / c.bin boundary. */
	wire_put_request(&p->in, WIRE_REQUEST, 3, 100, 1000);
	wire_put_request(&p->in, WIRE_REQUEST, 2, 7000, 2000);
	torrent_peer_input(t, p, NOW + 1100);
	cr_assert_not(p->dead, "%s", p->why);
	cr_assert_eq(p->qlen, 2);
	cr_assert_eq(p->out.len, before, "nothing sent before the upload");
	session_upload(r.s, NOW + 1200);
	cr_assert_eq(p->qlen, 0);
	n = parse_out(t, p, m, 16);
	cr_assert_eq(count_id(m, n, WIRE_UNCHOKE), 1);
	cr_assert_eq(count_id(m, n, WIRE_PIECE), 2);
	for (size_t i = 0; i < n; i++) {
		uint64_t off;

		if (m[i].keepalive || m[i].id != WIRE_PIECE)
			continue;
		off = (uint64_t)m[i].index * PLEN + m[i].begin;
		if (m[i].index == 3) {
			cr_assert_eq(m[i].begin, 100);
			cr_assert_eq(m[i].payload_len, 1000);
			saw[0] = true;
		} else {
			cr_assert_eq(m[i].index, 2);
			cr_assert_eq(m[i].begin, 7000);
			cr_assert_eq(m[i].payload_len, 2000);
			saw[1] = true;
		}
		cr_assert_eq(memcmp(m[i].payload, payload + off,
		    m[i].payload_len), 0, "bytes of piece %u", m[i].index);
	}
	cr_assert(saw[0] && saw[1]);
	cr_assert_eq(t->uploaded, 3000);
	cr_assert_eq(p->uploaded, 3000);
	fixture_stop(&r);
}

Test(torrent, request_out_of_range_killed, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;

	write_payload();
	write_torrent();
	t = start(&r);
	p = incoming(t, t->mi.info_hash);
	p->am_choking = false;	/* set directly: only the range matters */
	/* Past the end of the short last piece. */
	wire_put_request(&p->in, WIRE_REQUEST, NPIECES - 1, 11000, 1000);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert(p->dead);
	cr_assert_eq(p->qlen, 0);
	fixture_stop(&r);
}

/* --- downloading ------------------------------------------------------ */

/* A seed peer, unchoking us, while piece `piece` is bad on disk; the
 * torrent is r->t. */
static struct peer *
seed_peer(struct fixture_run *r, uint32_t piece)
{
	struct torrent *t;
	struct peer *p;

	write_payload();
	write_torrent();
	flip_on_disk((uint64_t)piece * PLEN + 5);
	t = start(r);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	p = incoming(t, t->mi.info_hash);
	put_bitfield(&p->in, true, 0);
	wire_put_simple(&p->in, WIRE_UNCHOKE);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "%s", p->why);
	return p;
}

/* The requests in p->out, which must all be for piece `piece`. */
static size_t
requests_for(const struct torrent *t, const struct peer *p, uint32_t piece,
    uint32_t *covered)
{
	struct wire_msg m[64];
	size_t n = parse_out(t, p, m, 64), r = 0;

	*covered = 0;
	for (size_t i = 0; i < n; i++) {
		if (m[i].keepalive || m[i].id != WIRE_REQUEST)
			continue;
		cr_assert_eq(m[i].index, piece);
		cr_assert_eq(m[i].begin, *covered, "blocks in order");
		*covered += m[i].length;
		r++;
	}
	return r;
}

static void
feed_piece(struct peer *p, uint32_t index, const uint8_t *data, uint32_t len)
{
	fixture_put_block(&p->in, index, 0, data, len);
}

static void
download_one(uint32_t piece)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	uint32_t size, covered;
	uint8_t back[PLEN];

	p = seed_peer(&r, piece);
	t = r.t;
	size = metainfo_piece_size(&t->mi, piece);
	cr_assert(p->am_interested);
	cr_assert_eq(requests_for(t, p, piece, &covered), 1);
	cr_assert_eq(covered, size);
	cr_assert_eq(p->nreqs, 1);
	feed_piece(p, piece, payload + (uint64_t)piece * PLEN, size);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert_eq(t->hash_fails, 0);
	cr_assert(bitfield_get(&t->have, piece));
	cr_assert_eq(t->pk.state[piece], PICKER_HAVE);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	cr_assert(torrent_complete(t));
	cr_assert_eq(t->sel.left, 0);
	cr_assert_eq(t->downloaded, size);
	cr_assert_eq(t->wasted, 0);
	cr_assert_eq(p->nreqs, 0);
	/* Two seeds have nothing to trade. */
	cr_assert(p->dead);
	read_on_disk((uint64_t)piece * PLEN + 5, back, 1);
	cr_assert_eq(back[0], payload[(uint64_t)piece * PLEN + 5],
	    "written to disk");
	fixture_stop(&r);

	/* A fresh check agrees. */
	t = start(&r);
	cr_assert_eq(t->check_valid, NPIECES);
	fixture_stop(&r);
}

Test(torrent, download_fixes_corrupt_piece, .init = fx_init,
    .fini = fx_fini)
{
	download_one(3);
}

Test(torrent, download_short_last_piece, .init = fx_init, .fini = fx_fini)
{
	download_one(NPIECES - 1);
}

/*
 * A finished torrent (complete, seed ratio 0) ends on the next loop
 * turn once the tracker has had its "completed" announce, not at the
 * next tick; with the announce failing it ends TORRENT_FINISH_WAIT_MS
 * later.
 */
static void
finish_one(struct fixture_run *r)
{
	struct peer *p = seed_peer(r, 2);
	struct torrent *t = r->t;
	uint32_t covered;

	cr_assert_eq(requests_for(t, p, 2, &covered), 1);
	feed_piece(p, 2, payload + 2 * PLEN, PLEN);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert(torrent_complete(t));
	cr_assert(torrent_finished(t));
	cr_assert_eq(t->phase, TORRENT_SEEDING, "not done before settling");
	cr_assert_eq(t->ann.event, TRACKER_EVENT_COMPLETED);
}

Test(torrent, finished_run_ends_after_completed_announce, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run run;
	struct torrent *t;
	struct tracker_announce a;
	struct tracker_response r;
	struct thr_error err;
	const char *base;
	static const char body[] = "d8:intervali1800e5:peers0:e";

	finish_one(&run);
	t = run.t;
	torrent_settle(t, NOW + 30);
	cr_assert_eq(t->phase, TORRENT_SEEDING, "waits for the announce");
	cr_assert(torrent_announce_next(t, NOW + 30, &a, &base));
	cr_assert_eq(a.event, TRACKER_EVENT_COMPLETED);
	cr_assert_eq(a.left, 0);
	torrent_settle(t, NOW + 40);
	cr_assert_eq(t->phase, TORRENT_SEEDING, "still in flight");
	cr_assert_eq(tracker_parse_response((const uint8_t *)body,
	    sizeof(body) - 1, &r, &err), 0, "%s", err.msg);
	torrent_announce_result(t, 0, &r, NULL, NOW + 50);
	torrent_settle(t, NOW + 51);
	cr_assert_eq(t->phase, TORRENT_DONE, "done right after the announce");
	fixture_stop(&run);
}

Test(torrent, finished_run_ends_without_tracker_answer, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct tracker_announce a;
	const char *base;

	finish_one(&r);
	t = r.t;
	torrent_settle(t, NOW + 30);
	cr_assert(torrent_announce_next(t, NOW + 30, &a, &base));
	torrent_announce_result(t, THR_EIO, NULL, "refused", NOW + 31);
	torrent_settle(t, NOW + 31 + TORRENT_FINISH_WAIT_MS - 2);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	torrent_settle(t, NOW + 30 + TORRENT_FINISH_WAIT_MS);
	cr_assert_eq(t->phase, TORRENT_DONE, "bounded wait");
	fixture_stop(&r);
}

Test(torrent, download_wrong_data_fails_hash, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	uint8_t bad[PLEN];
	uint32_t covered;
	size_t before;

	p = seed_peer(&r, 4);
	t = r.t;
	cr_assert_eq(requests_for(t, p, 4, &covered), 1);
	memcpy(bad, payload + 4 * PLEN, PLEN);
	bad[1234] ^= 0x40;
	before = p->out.len;
	feed_piece(p, 4, bad, PLEN);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert_eq(t->hash_fails, 1);
	cr_assert_eq(t->wasted, PLEN);
	cr_assert_not(bitfield_get(&t->have, 4));
	cr_assert_eq(t->pk.state[4], PICKER_ACTIVE,
	    "missing again and, being the only choice, re-requested");
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert_eq(t->sel.left, PLEN);
	cr_assert_eq(p->strikes, 1);
	cr_assert_not(p->dead, "one strike is not enough");
	cr_assert_gt(p->out.len, before, "asked again");
	cr_assert_eq(p->nreqs, 1);
	cr_assert_eq(p->reqs[0].index, 4);
	/* Blocks go straight to disk, so the bad data sits there in a
	 * piece that is still missing; it is never counted as had, and the
	 * right data below overwrites it. */
	{
		uint8_t c;

		read_on_disk(4 * PLEN + 1234, &c, 1);
		cr_assert_eq(c, bad[1234]);
	}
	/* Now the right data. */
	feed_piece(p, 4, payload + 4 * PLEN, PLEN);
	torrent_peer_input(t, p, NOW + 30);
	cr_assert(bitfield_get(&t->have, 4));
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	fixture_stop(&r);
}

/* Choke returns our requests to the picker; so does leaving. */
Test(torrent, choke_and_leave_return_requests, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	uint32_t id;

	p = seed_peer(&r, 1);
	t = r.t;
	cr_assert_eq(p->nreqs, 1);
	cr_assert_eq(t->pk.nactive, 1);
	cr_assert_eq(t->pk.active[0].blk[0], 1);
	wire_put_simple(&p->in, WIRE_CHOKE);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert(p->peer_choking);
	cr_assert_eq(p->nreqs, 0);
	/* Nothing of the piece came: it is missing again, not started. */
	cr_assert_eq(t->pk.nactive, 0);
	cr_assert_eq(t->pk.state[1], PICKER_MISSING);
	wire_put_simple(&p->in, WIRE_UNCHOKE);
	torrent_peer_input(t, p, NOW + 30);
	cr_assert_eq(p->nreqs, 1);
	cr_assert_eq(t->pk.active[0].blk[0], 1);
	id = p->id;
	torrent_peer_remove(t, p, NOW + 40);
	cr_assert_null(peerset_find(&t->ps, id));
	cr_assert_null(session_peer_find(r.s, id, NULL));
	cr_assert_eq(t->pk.nactive, 0);
	cr_assert_eq(t->pk.state[1], PICKER_MISSING);
	cr_assert_eq(t->pk.avail[1], 0);
	fixture_stop(&r);
}

/*
 * The pieces asked of a peer that has all of them and unchokes us, in
 * the order asked: with fewer than PICKER_RANDOM_FIRST pieces the picker
 * chooses at random, so the order is the picker's random stream.
 */
static size_t
first_requests(struct torrent *t, uint32_t *idx, size_t max)
{
	struct wire_msg m[32];
	struct peer *p = incoming(t, t->mi.info_hash);
	size_t n, k = 0;

	put_bitfield(&p->in, true, 0);
	wire_put_simple(&p->in, WIRE_UNCHOKE);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "%s", p->why);
	n = parse_out(t, p, m, 32);
	for (size_t i = 0; i < n && k < max; i++)
		if (!m[i].keepalive && m[i].id == WIRE_REQUEST)
			idx[k++] = m[i].index;
	return k;
}

/*
 * --seed replays the picks whatever the network did first: an MSE
 * handshake draws its keys and padding from streams of their own, so a
 * run that dialled an encrypted peer first asks for the same pieces in
 * the same order as one that did not.
 */
Test(torrent, random_streams_are_independent, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run ra, rb;
	struct torrent *a, *b;
	struct thr_addr addr = addr4(3, 6881);
	struct peer *q;
	uint32_t ia[NPIECES], ib[NPIECES];
	size_t na, nb;

	write_torrent();
	opts_default(&ra);
	ra.to.strategy = PICKER_RANDOM;
	a = start_with(&ra);
	opts_default(&rb);
	rb.to.strategy = PICKER_RANDOM;
	b = start_with(&rb);
	cr_assert_eq(a->phase, TORRENT_DOWNLOADING);
	cr_assert_eq(memcmp(ra.s->peer_id, rb.s->peer_id, 20), 0,
	    "one seed, one peer id");
	q = peer_add(b, &addr, false, NOW);
	cr_assert_not_null(q);
	torrent_peer_connected(b, q, NOW);
	if (rb.s->mse_ok)
		cr_assert_eq(q->phase, PEER_CRYPTO, "dialled encrypted");
	/* Draws of the MSE streams, and of the choker's. */
	cr_assert(!rb.s->mse_ok || rb.s->rng[SESSION_RNG_MSE].s !=
	    ra.s->rng[SESSION_RNG_MSE].s);
	(void)rng_next(&rb.s->rng[SESSION_RNG_CHOKER]);
	na = first_requests(a, ia, NPIECES);
	nb = first_requests(b, ib, NPIECES);
	cr_assert_geq(na, PEER_START_REQS, "a first round of requests");
	cr_assert_eq(nb, na);
	for (size_t i = 0; i < na; i++)
		cr_assert_eq(ia[i], ib[i], "request %zu: piece %u, not %u", i,
		    ib[i], ia[i]);
	fixture_stop(&ra);
	fixture_stop(&rb);
}

/*
 * A peer that sends a block two seconds after it was asked (it shares
 * a slow upload among many) keeps two requests waiting, not dozens: the
 * pipeline is its rate over its round trip plus half a second.  Before,
 * at least 32 requests sat at such a peer for half a minute, holding
 * their pieces from the other peers that unchoked us.
 */
Test(torrent, few_requests_wait_at_a_slow_peer, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	struct picker_block b;
	uint64_t at = NOW + 10;

	write_torrent();
	t = start(&r);
	p = incoming(t, t->mi.info_hash);
	put_bitfield(&p->in, true, 0);
	wire_put_simple(&p->in, WIRE_UNCHOKE);
	torrent_peer_input(t, p, at);
	cr_assert_not(p->dead, "%s", p->why);
	cr_assert_eq(p->nreqs, PEER_START_REQS, "a first round of requests");
	/* One block every two seconds: the rest of the first round drains
	 * and the pipeline stays at PEER_MIN_REQS. */
	for (int k = 0; k < 4; k++) {
		at += 2000;
		b = p->reqs[0];
		fixture_put_block(&p->in, b.index, b.begin,
		    payload + (uint64_t)b.index * PLEN + b.begin, b.length);
		torrent_peer_input(t, p, at);
		cr_assert_not(p->dead, "%s", p->why);
		cr_assert_leq(p->nreqs, k < 2 ? (uint32_t)(PEER_START_REQS -
		    k - 1) : (uint32_t)PEER_MIN_REQS, "block %d: %u requests "
		    "wait at a slow peer", k, p->nreqs);
	}
	cr_assert_eq(p->nreqs, PEER_MIN_REQS, "the pipeline is topped up");
	cr_assert_eq(p->lat_min_ms, 2000, "its round trip is known");
	fixture_stop(&r);
}

/* --- tracker ---------------------------------------------------------- */

/*
 * The net layer's side of an HTTP announce (net/announce.c), without the
 * network: when t has an announce due, its URL into url; then the body
 * parsed (or a transport failure) and reported back to t.
 */
static bool
tracker_due(struct torrent *t, uint64_t now, struct buf *url)
{
	struct tracker_announce a;
	const char *base;

	if (!torrent_announce_next(t, now, &a, &base))
		return false;
	buf_reset(url);
	cr_assert_eq(tracker_build_url(base, &a, url), 0);
	return true;
}

static void
tracker_done(struct torrent *t, int status, const uint8_t *body, size_t len,
    const char *errmsg, uint64_t now)
{
	struct tracker_response r;
	struct thr_error err;

	memset(&r, 0, sizeof(r));
	memset(&err, 0, sizeof(err));
	if (status == 0 &&
	    (status = tracker_parse_response(body, len, &r, &err)) != 0)
		errmsg = err.msg;
	torrent_announce_result(t, status, &r, errmsg, now);
}

Test(torrent, tracker_compact_peers_known, .init = fx_init,
    .fini = fx_fini)
{
	static const uint8_t body[] =
	    "d8:intervali900e5:peers12:"
	    "\x0a\x00\x00\x01\x1a\xe1"	/* 10.0.0.1:6881 */
	    "\x0a\x00\x00\x02\x1a\xe2"	/* 10.0.0.2:6882 */
	    "e";
	struct fixture_run r;
	struct torrent *t;
	struct buf url;
	struct thr_addr out;

	write_torrent();
	t = start(&r);
	cr_assert_eq(t->ann.phase, ANNOUNCER_IDLE);
	buf_init(&url, 4096);
	cr_assert(tracker_due(t, NOW + 10, &url));
	cr_assert_eq(t->ann.phase, ANNOUNCER_BUSY);
	cr_assert_not_null(strstr((const char *)url.data,
	    "http://127.0.0.1:9/announce?"));
	cr_assert_not_null(strstr((const char *)url.data, "event=started"));
	cr_assert_not(tracker_due(t, NOW + 10, &url), "busy");
	tracker_done(t, 0, body, sizeof(body) - 1, NULL, NOW + 20);
	cr_assert_eq(t->ann.phase, ANNOUNCER_IDLE);
	cr_assert_eq(t->ps.nknown, 2);
	cr_assert_eq(t->ps.known[0].addr.family, 4);
	cr_assert_eq(memcmp(t->ps.known[0].addr.ip, "\x0a\x00\x00\x01", 4),
	    0);
	cr_assert_eq(t->ps.known[0].addr.port, 6881);
	cr_assert_eq(memcmp(t->ps.known[1].addr.ip, "\x0a\x00\x00\x02", 4),
	    0);
	cr_assert_eq(t->ps.known[1].addr.port, 6882);
	cr_assert_not(t->ps.known[0].given);
	cr_assert_eq(strncmp(t->ann.status, "ok", 2), 0, "%s",
	    t->ann.status);
	cr_assert_eq(t->ann.interval, 900);
	cr_assert_eq(t->ann.next_ms, NOW + 20 + 900000);
	cr_assert_eq(t->ann.event, TRACKER_EVENT_NONE);
	/* The same peers again are not duplicated. */
	tracker_done(t, 0, body, sizeof(body) - 1, NULL, NOW + 30);
	cr_assert_eq(t->ps.nknown, 2);
	/* And they are offered for connecting while downloading. */
	cr_assert(next_dial(t, NOW + 40, &out));
	cr_assert(addr_equal(&out, &t->ps.known[0].addr));
	buf_release(&url);
	fixture_stop(&r);
}

/* The swarm's size as the tracker counts it goes to the header. */
Test(torrent, tracker_seeders_and_leechers_shown, .init = fx_init,
    .fini = fx_fini)
{
	static const uint8_t counts[] =
	    "d8:completei5e10:incompletei3e8:intervali900e5:peers6:"
	    "\x0a\x00\x00\x01\x1a\xe1" "e";
	static const uint8_t seeders_only[] =
	    "d8:completei7e8:intervali900e5:peers0:e";
	static const uint8_t none[] = "d8:intervali900e5:peers6:"
	    "\x0a\x00\x00\x01\x1a\xe1" "e";
	struct fixture_run r;
	struct torrent *t;
	struct buf url;

	write_torrent();
	t = start(&r);
	cr_expect_eq(t->ann.seeders, -1);
	cr_expect_eq(t->ann.leechers, -1);
	buf_init(&url, 4096);
	cr_assert(tracker_due(t, NOW, &url));
	tracker_done(t, 0, counts, sizeof(counts) - 1, NULL, NOW + 5);
	cr_expect_str_eq(t->ann.status, "seeders 5, leechers 3");
	cr_expect_eq(t->ann.seeders, 5);
	cr_expect_eq(t->ann.leechers, 3);
	cr_assert(tracker_due(t, t->ann.next_ms, &url));
	tracker_done(t, 0, seeders_only, sizeof(seeders_only) - 1, NULL,
	    t->ann.next_ms);
	cr_expect_str_eq(t->ann.status, "seeders 7, leechers ?");
	cr_expect_eq(t->ann.leechers, -1);
	/* No counts: how many addresses, in the right number. */
	cr_assert(tracker_due(t, t->ann.next_ms, &url));
	tracker_done(t, 0, none, sizeof(none) - 1, NULL, t->ann.next_ms);
	cr_expect_str_eq(t->ann.status, "ok: 1 peer");
	buf_release(&url);
	fixture_stop(&r);
}

Test(torrent, tracker_failure_reason_is_error, .init = fx_init,
    .fini = fx_fini)
{
	static const uint8_t body[] = "d14:failure reason12:unregisterede";
	struct fixture_run r;
	struct torrent *t;
	struct buf url;

	write_torrent();
	t = start(&r);
	buf_init(&url, 4096);
	cr_assert(tracker_due(t, NOW, &url));
	tracker_done(t, 0, body, sizeof(body) - 1, NULL, NOW + 5);
	cr_assert_eq(strncmp(t->ann.status, "error", 5), 0, "%s",
	    t->ann.status);
	cr_assert_not_null(strstr(t->ann.status, "unregistered"));
	cr_assert_eq(t->ps.nknown, 0);
	cr_assert_eq(t->ann.phase, ANNOUNCER_IDLE);
	cr_assert_gt(t->ann.next_ms, NOW + 5, "backs off");
	cr_assert_eq(t->ann.event, TRACKER_EVENT_STARTED,
	    "started is sent again");
	/* A transport failure reads the same way. */
	cr_assert(tracker_due(t, t->ann.next_ms, &url));
	tracker_done(t, THR_EIO, NULL, 0, "connection refused",
	    t->ann.next_ms);
	cr_assert_eq(strncmp(t->ann.status, "error", 5), 0);
	cr_assert_not_null(strstr(t->ann.status, "connection refused"));
	/* Garbage is an error too. */
	cr_assert(tracker_due(t, t->ann.next_ms, &url));
	tracker_done(t, 0, (const uint8_t *)"<html>", 6, NULL,
	    t->ann.next_ms);
	cr_assert_eq(strncmp(t->ann.status, "error", 5), 0);
	buf_release(&url);
	fixture_stop(&r);
}

/* Three hash failures with a peer's data and it is dropped. */
Test(torrent, three_strikes_kill, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	uint8_t bad[PLEN];

	p = seed_peer(&r, 2);
	t = r.t;
	memset(bad, 0xee, sizeof(bad));
	for (int k = 1; k <= 3; k++) {
		cr_assert_not(p->dead, "dead after %d strikes", k - 1);
		cr_assert_eq(p->nreqs, 1, "re-requested from the only peer");
		feed_piece(p, 2, bad, PLEN);
		torrent_peer_input(t, p, NOW + 20 + (uint64_t)k);
		cr_assert_eq(t->hash_fails, (uint32_t)k);
		cr_assert_eq(p->strikes, (uint32_t)k);
	}
	cr_assert(p->dead);
	cr_assert_not_null(strstr(p->why, "corrupt"), "%s", p->why);
	cr_assert_not(bitfield_get(&t->have, 2));
	cr_assert_eq(t->wasted, 3 * PLEN);
	fixture_stop(&r);
}

Test(torrent, peer_cap_and_lookup, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p[10];
	struct thr_addr a;

	write_torrent();
	t = start(&r);
	for (int i = 0; i < 10; i++) {
		a = addr4((uint8_t)(10 + i), 6881);
		cr_assert_not_null(p[i] = peer_add(t, &a, i % 2 == 0, NOW));
		cr_assert(peerset_connected_to(&t->ps, &a));
	}
	a = addr4(99, 6881);
	cr_assert_null(peer_add(t, &a, true, NOW), "max_peers 10");
	cr_assert_eq(t->ps.npeers, 10);
	cr_assert_eq(peerset_find(&t->ps, p[4]->id), p[4]);
	cr_assert_eq(session_peer_find(r.s, p[4]->id, NULL), p[4]);
	cr_assert_neq(p[3]->id, p[4]->id, "ids are unique");
	torrent_peer_remove(t, p[4], NOW);
	cr_assert_eq(t->ps.npeers, 9);
	cr_assert_not_null(peer_add(t, &a, true, NOW));
	/* An outgoing peer sends its handshake once connected (in
	 * plaintext with --encryption off). */
	cr_assert_eq(p[1]->phase, PEER_CONNECTING);
	r.s->opts.crypto = SESSION_CRYPTO_OFF;
	torrent_peer_connected(t, p[1], NOW + 5);
	cr_assert_eq(p[1]->phase, PEER_HANDSHAKE);
	cr_assert_eq(p[1]->out.len, WIRE_HANDSHAKE_LEN,
	    "no bitfield when we have nothing");
	fixture_stop(&r);
}

/* --- addresses not to dial: seeds while we seed, ourselves ------------- */

/* Dial whatever next_dial offers at now as a peer that answers with its
 * handshake (BEP 6 bit set) and have-all, and forget it once it is
 * closed.  Returns the number of dials (0 or 1); *why gets the reason
 * it was closed. */
static int
dial_seed_once(struct torrent *t, uint64_t now, char *why, size_t whylen)
{
	static const uint8_t rsv[8] = { 0, 0, 0, 0, 0, 0, 0, 0x04 };
	uint8_t hs[WIRE_HANDSHAKE_LEN];
	struct thr_addr out;
	struct peer *p;

	if (!next_dial(t, now, &out))
		return 0;
	cr_assert_not_null(p = peer_add(t, &out, false, now));
	torrent_peer_connected(t, p, now);
	wire_handshake_build(hs, t->mi.info_hash, their_id, rsv);
	cr_assert_eq(buf_append(&p->in, hs, sizeof(hs)), 0);
	cr_assert_eq(wire_put_simple(&p->in, WIRE_HAVE_ALL), 0);
	torrent_peer_input(t, p, now);
	cr_assert(p->dead, "a seed stayed connected to a seed");
	snprintf(why, whylen, "%s", p->why);
	torrent_peer_remove(t, p, now);
	return 1;
}

Test(torrent, seed_dials_a_seed_a_few_times_an_hour, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct thr_addr a = addr4(50, 7000);
	char why[96];
	int dials = 0;

	/* We seed forever and were given another seed with --peer: it
	 * was dialled every 2 s ("both are seeds", 23 times in 45 s). */
	write_payload();
	write_torrent();
	opts_default(&r);
	r.to.seed_ratio = -1;
	r.so.crypto = SESSION_CRYPTO_OFF;
	r.to.given[0] = a;
	r.to.ngiven = 1;
	t = start_with(&r);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	for (uint64_t sec = 0; sec < 3600; sec++) {
		int n = dial_seed_once(t, NOW + sec * 1000, why, sizeof(why));

		if (n > 0)
			cr_assert_str_eq(why, "both are seeds");
		dials += n;
	}
	cr_assert_eq(dials, 3, "%d dials in an hour", dials);
	cr_assert(t->ps.known[0].seed);
	fixture_stop(&r);
}

Test(torrent, seed_hold_ends_when_we_download_again, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct thr_addr out;
	char why[96];

	/* Only a.bin selected and complete; c.bin's last piece damaged. */
	write_payload();
	write_torrent();
	flip_on_disk(TOTAL - 5);
	opts_default(&r);
	r.to.seed_ratio = -1;
	r.so.crypto = SESSION_CRYPTO_OFF;
	r.to.files = "1";
	r.to.given[0] = addr4(51, 7000);
	r.to.ngiven = 1;
	t = start_with(&r);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	cr_assert_eq(dial_seed_once(t, NOW, why, sizeof(why)), 1);
	cr_assert_not(next_dial(t, NOW + 60000, &out));
	/* Selecting c.bin makes the seed worth a connection at once. */
	cr_assert_eq(torrent_set_file_wanted(t, 2, true), 0);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert(next_dial(t, NOW + 61000, &out));
	cr_assert(addr_equal(&out, &r.to.given[0]));
	fixture_stop(&r);
}

Test(torrent, finished_run_dials_nobody, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct thr_addr out;
	struct loop *l;
	struct xnet *n;

	/* --seed-ratio 0 and complete: the run ends now; it used to dial
	 * its --peer once more on the way out.  Whether a torrent dials at
	 * all is the transport table's decision (net/xport.c): one pass of
	 * it over the session, as the loop makes, must leave it alone. */
	write_payload();
	write_torrent();
	opts_default(&r);
	r.to.given[0] = addr4(52, 7000);
	r.to.ngiven = 1;
	t = start_with(&r);
	cr_assert(torrent_finished(t));
	cr_assert_not_null(l = calloc(1, sizeof(*l)));
	loop_init(l);
	cr_assert_not_null(n = xnet_new(r.s, l));
	xnet_step(n, NOW + 5000, true);
	cr_assert_eq(t->ps.npeers, 0, "dialled on the way out");
	cr_assert_eq(xnet_count(n), 0);
	cr_assert_not(next_dial(t, NOW + 5000, &out));
	/* Not for want of an address: the peer set still offers it. */
	cr_assert(peerset_next_dial(&t->ps, NOW + 5000, true, &out));
	cr_assert(addr_equal(&out, &r.to.given[0]));
	xnet_free(n);
	free(l);
	fixture_stop(&r);
}

/* We dial a (over transport tp) and the connection arrives at our own
 * listener from `from`: returns the outgoing peer, the incoming one in
 * *in, both after the accepting side read our handshake. */
static struct peer *
dial_ourselves(struct torrent *t, const struct thr_addr *a,
    enum peer_transport tp, const struct thr_addr *from, uint64_t now,
    struct peer **in)
{
	struct thr_addr out;
	struct peer *q, *p;

	cr_assert(next_dial(t, now, &out));
	cr_assert(addr_equal(&out, a));
	cr_assert_not_null(q = torrent_peer_add(t, &out, false,
	    PEER_SRC_COUNT, tp, now));
	if (tp == PEER_TCP)
		q->local = *from;
	torrent_peer_connected(t, q, now);
	cr_assert_eq(q->phase, PEER_HANDSHAKE);
	cr_assert_not_null(p = peer_add(t, from, true, now));
	cr_assert_eq(buf_append(&p->in, q->out.data, q->out.len), 0);
	torrent_peer_input(t, p, now);
	*in = p;
	return q;
}

Test(torrent, connection_to_ourselves_held, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct thr_addr self = addr4(1, 6881), other = addr4(9, 6881);
	struct thr_addr from = addr4(1, 41000), out;
	struct peer *q, *p, *o;
	uint64_t at = NOW;

	/* The tracker lists our own address (and another peer's). */
	write_torrent();
	opts_default(&r);
	r.so.crypto = SESSION_CRYPTO_OFF;
	r.so.transport = SESSION_TRANSPORT_BOTH;	/* the default */
	r.to.seed_ratio = -1;
	t = start_with(&r);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	peerset_known_add(&t->ps, &self, PEER_SRC_TRACKER);
	/* Another outgoing connection in its handshake is left alone. */
	cr_assert_not_null(o = peer_add(t, &other, false, at));
	o->local = addr4(1, 41001);
	torrent_peer_connected(t, o, at);
	q = dial_ourselves(t, &self, PEER_TCP, &from, at, &p);
	cr_assert(p->dead);
	cr_assert_str_eq(p->why, "connected to ourselves");
	cr_assert(q->dead, "the dialling end is closed too");
	cr_assert_str_eq(q->why, "connected to ourselves");
	cr_assert_not(o->dead, "killed: %s", o->why);
	torrent_peer_remove(t, p, at);
	torrent_peer_remove(t, q, at);
	cr_assert(t->ps.known[0].self);
	/* Not again for PEERSET_HOLD_MS, though TCP failing on loopback
	 * would otherwise bring uTP at once, and the tracker retry 15 s. */
	for (uint64_t d = 1000; d < PEERSET_HOLD_MS; d += 15000)
		cr_assert_not(next_dial(t, at + d, &out) &&
		    addr_equal(&out, &self), "redialled after %llu ms",
		    (unsigned long long)d);
	cr_assert(next_dial(t, at + 1000 + PEERSET_HOLD_MS, &out));
	cr_assert(addr_equal(&out, &self));
	fixture_stop(&r);
}

Test(torrent, utp_connection_to_ourselves_held, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct thr_addr self = addr4(1, 6881), out;
	struct peer *q, *p;

	/* Over uTP both ends use our one UDP port: the accepted
	 * connection comes from the very address we dialled. */
	write_torrent();
	opts_default(&r);
	r.so.crypto = SESSION_CRYPTO_OFF;
	r.to.seed_ratio = -1;
	r.so.transport = SESSION_TRANSPORT_UTP;
	t = start_with(&r);
	peerset_known_add(&t->ps, &self, PEER_SRC_TRACKER);
	q = dial_ourselves(t, &self, PEER_UTP, &self, NOW, &p);
	cr_assert(p->dead);
	cr_assert(q->dead);
	torrent_peer_remove(t, p, NOW);
	torrent_peer_remove(t, q, NOW);
	cr_assert_not(next_dial(t, NOW + 60000, &out));
	fixture_stop(&r);
}

Test(torrent, require_refused_by_plaintext_peer_backs_off, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct thr_addr out;
	enum log_level lv;
	int dials = 0, lines = 0;

	/* --encryption require and a --peer that speaks plaintext only: it
	 * hangs up on our MSE handshake.  It was dialled every 2 s, over
	 * TCP and uTP, and nothing at info said why. */
	write_torrent();
	opts_default(&r);
	r.so.crypto = SESSION_CRYPTO_REQUIRE;
	r.so.transport = SESSION_TRANSPORT_BOTH;	/* the default */
	r.so.log_level = LOG_INFO;
	r.to.given[0] = addr4(53, 7000);
	r.to.ngiven = 1;
	t = start_with(&r);
	cr_assert(r.s->mse_ok, "RC4 is needed for this test");
	for (uint64_t at = NOW; at < NOW + 60000; at += 500) {
		struct peer *p;

		session_clock(r.s, at);
		if (!next_dial(t, at, &out))
			continue;
		dials++;
		cr_assert_not(peerset_dial_utp(&t->ps, r.s->opts.transport,
		    &out), "uTP right after TCP was refused");
		cr_assert_not_null(p = peer_add(t, &out, false, at));
		torrent_peer_connected(t, p, at);
		cr_assert_eq(p->phase, PEER_CRYPTO);
		peer_kill(p, "connection closed by peer");
		torrent_peer_remove(t, p, at);
	}
	for (uint32_t i = 0; i < r.s->log.count; i++) {
		const char *l = log_line(&r.s->log, i, &lv);

		if (strstr(l, "refused the encrypted handshake") != NULL &&
		    strstr(l, "--encryption require") != NULL) {
			cr_assert_eq(lv, LOG_INFO);
			lines++;
		}
	}
	cr_assert_eq(lines, 1, "%d info lines about the refusal", lines);
	cr_assert_geq(dials, 2);
	cr_assert_leq(dials, 5, "%d dials in a minute", dials);
	fixture_stop(&r);
}

/* --- what reaches a peer that reads a packet only in part -------------- */

/* The transport wrote everything in p->out. */
static void
all_sent(struct torrent *t, struct peer *p, uint64_t now)
{
	torrent_peer_outgoing(t, p);
	torrent_peer_sent(t, p, p->out.len, now);
	buf_reset(&p->out);
}

Test(torrent, handshake_ends_its_packet, .init = fx_init, .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;

	/* Transmission 3.00 over uTP reads our handshake and leaves the
	 * rest of that packet unread: out_push tells the transport where
	 * the handshake ends. */
	write_payload();
	write_torrent();
	t = start(&r);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	p = incoming(t, t->mi.info_hash);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_eq(p->phase, PEER_ACTIVE);
	cr_assert_eq(p->out_push, WIRE_HANDSHAKE_LEN);
	cr_assert_gt(p->out.len, WIRE_HANDSHAKE_LEN, "a bitfield follows");
	/* It follows what is taken from the front of out. */
	torrent_peer_sent(t, p, 10, NOW + 11);
	buf_consume(&p->out, 10);
	cr_assert_eq(p->out_push, WIRE_HANDSHAKE_LEN - 10);
	all_sent(t, p, NOW + 12);
	cr_assert_eq(p->out_push, 0);
	fixture_stop(&r);
}

Test(torrent, quiet_connection_gets_one_keepalive, .init = fx_init,
    .fini = fx_fini)
{
	static const uint8_t ka[4] = { 0, 0, 0, 0 };
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	uint64_t at = NOW + 10;

	write_payload();
	write_torrent();
	t = start(&r);
	p = incoming(t, t->mi.info_hash);
	torrent_peer_input(t, p, at);
	all_sent(t, p, at);
	/* Quiet both ways: after PWP_NUDGE_MS, one keep-alive, in case
	 * the peer left our bytes unread; not 90 s later. */
	session_tick(r.s, at + PWP_NUDGE_MS - 1);
	cr_assert_eq(p->out.len, 0);
	session_tick(r.s, at + PWP_NUDGE_MS);
	cr_assert_eq(p->out.len, 4);
	cr_assert_eq(memcmp(p->out.data, ka, 4), 0);
	all_sent(t, p, at + PWP_NUDGE_MS);
	session_tick(r.s, at + 5 * PWP_NUDGE_MS);
	cr_assert_eq(p->out.len, 0, "one per quiet spell");
	/* Its keep-alive does not allow another (no ping-pong between
	 * two of us); a real message does. */
	cr_assert_eq(buf_append(&p->in, ka, 4), 0);
	torrent_peer_input(t, p, at + 6 * PWP_NUDGE_MS);
	session_tick(r.s, at + 8 * PWP_NUDGE_MS);
	cr_assert_eq(p->out.len, 0);
	cr_assert_eq(wire_put_simple(&p->in, WIRE_NOT_INTERESTED), 0);
	torrent_peer_input(t, p, at + 9 * PWP_NUDGE_MS);
	session_tick(r.s, at + 10 * PWP_NUDGE_MS);
	cr_assert_eq(p->out.len, 4);
	cr_assert_not(p->dead, "%s", p->why);
	fixture_stop(&r);
}
