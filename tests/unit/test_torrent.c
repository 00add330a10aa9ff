/*
 * test_state.c: the session engine (state.h) without sockets.
 *
 * Each test builds a three-file torrent in a fresh temporary directory
 * (fixture.h, with the bencode encoder and hash_sha1): "pay/a.bin"
 * (40000 bytes), "pay/empty" (0 bytes) and "pay/sub/c.bin" (70001
 * bytes), piece length 16384, so 7 pieces of which piece 2 spans a.bin
 * and c.bin and piece 6 is short (11697 bytes).  Peers are driven by
 * appending wire messages to p->in and reading what the engine put in
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
#include "core/state.h"
#include "core/wire.h"

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
	fixture_init(&fx, "/tmp/thr-state-XXXXXX", 0);
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
opts_default(struct state_opts *o)
{
	fixture_opts(&fx, o);
}

/* state_init with o, then check until the phase leaves CHECKING. */
static void
start_with(struct thr_state *s, const struct state_opts *o)
{
	fixture_state_init(s, o, NOW);
	cr_assert_eq(s->phase, STATE_CHECKING);
	cr_assert_eq(s->mi.npieces, NPIECES);
	cr_assert_eq(s->mi.total_length, TOTAL);
	fixture_check(s, NOW);
}

static void
start(struct thr_state *s)
{
	struct state_opts o;

	opts_default(&o);
	start_with(s, &o);
}

static struct thr_addr
addr4(uint8_t last, uint16_t port)
{
	return fixture_addr4(127, last, port);
}

/* An incoming peer that has sent its handshake with info hash ih. */
static struct peer *
incoming(struct thr_state *s, const uint8_t ih[20])
{
	struct thr_addr a = addr4(2, 6881);
	struct peer *p;

	p = fixture_handshake(s, &a, ih, their_id, NOW);
	cr_assert_eq(p->phase, PEER_HANDSHAKE);
	return p;
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
parse_out(const struct thr_state *s, const struct peer *p,
    struct wire_msg *msgs, size_t max)
{
	size_t off = WIRE_HANDSHAKE_LEN, used, n = 0;
	uint8_t ih[20], pid[20];

	cr_assert_geq(p->out.len, WIRE_HANDSHAKE_LEN);
	cr_assert_eq(wire_handshake_parse(p->out.data, ih, pid, NULL), 0);
	cr_assert_eq(memcmp(ih, s->mi.info_hash, 20), 0);
	cr_assert_eq(memcmp(pid, s->peer_id, 20), 0);
	while (off < p->out.len) {
		cr_assert_lt(n, max);
		cr_assert_eq(wire_parse(p->out.data + off, p->out.len - off,
		    s->mi.npieces, &msgs[n], &used), 1,
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

/* --- resume check ----------------------------------------------------- */

Test(state, check_all_valid_seeds_and_finishes, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;

	write_payload();
	write_torrent();
	start(&s);
	cr_assert_eq(NPIECES, 7);
	cr_assert_eq(s.check_valid, NPIECES);
	cr_assert_eq(s.have.count, NPIECES);
	cr_assert_eq(s.phase, STATE_SEEDING);
	cr_assert_eq(s.left, 0);
	cr_assert(state_complete(&s));
	cr_assert(state_finished(&s), "seed ratio 0 finishes at once");
	cr_assert_float_eq(state_percent(&s), 100.0, 1e-9);
	cr_assert(picker_complete(&s.pk));
	/* Checking again is a no-op outside CHECKING. */
	state_check_step(&s, NOW);
	cr_assert_eq(s.check_valid, NPIECES);
	state_tick(&s, NOW + 1000);
	cr_assert_eq(s.phase, STATE_DONE);
	state_release(&s);
}

Test(state, check_seed_forever_is_not_finished, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;

	write_payload();
	write_torrent();
	opts_default(&o);
	o.seed_ratio = -1;
	start_with(&s, &o);
	cr_assert(state_complete(&s));
	cr_assert_not(state_finished(&s));
	state_tick(&s, NOW + 1000);
	cr_assert_eq(s.phase, STATE_SEEDING);
	state_release(&s);
}

static void
check_one_corrupt(uint32_t piece, uint64_t off)
{
	struct thr_state s;

	write_payload();
	write_torrent();
	flip_on_disk(off);
	start(&s);
	cr_assert_eq(s.check_valid, NPIECES - 1);
	for (uint32_t i = 0; i < NPIECES; i++)
		cr_assert_eq(bitfield_get(&s.have, i), i != piece,
		    "piece %u", i);
	cr_assert_eq(s.phase, STATE_DOWNLOADING);
	cr_assert_eq(s.left, metainfo_piece_size(&s.mi, piece));
	cr_assert_not(state_complete(&s));
	cr_assert_not(state_finished(&s));
	cr_assert_eq(s.pk.state[piece], PICKER_MISSING);
	cr_assert_eq(s.pk.nhave, NPIECES - 1);
	state_release(&s);
}

Test(state, check_corrupt_piece_missing, .init = fx_init, .fini = fx_fini)
{
	check_one_corrupt(3, 3 * PLEN + 100);
}

/* Piece 2 spans a.bin and c.bin: a flip in the first file's tail. */
Test(state, check_corrupt_spanning_piece, .init = fx_init, .fini = fx_fini)
{
	check_one_corrupt(2, 39999);
}

Test(state, check_corrupt_short_last_piece, .init = fx_init,
    .fini = fx_fini)
{
	check_one_corrupt(NPIECES - 1, TOTAL - 1);
	cr_assert_eq(TOTAL - (NPIECES - 1) * PLEN, 11697);
}

Test(state, check_empty_dir_creates_files, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct stat st;
	char path[256];

	write_torrent();
	start(&s);
	cr_assert_eq(s.check_valid, 0);
	cr_assert_eq(s.have.count, 0);
	cr_assert_eq(s.left, TOTAL);
	cr_assert_eq(s.phase, STATE_DOWNLOADING);
	cr_assert_float_eq(state_percent(&s), 0.0, 1e-9);
	for (size_t f = 0; f < NFILES; f++) {
		file_path(f, path, sizeof(path));
		cr_assert_eq(stat(path, &st), 0, "%s", path);
		cr_assert(S_ISREG(st.st_mode));
		cr_assert_eq((uint64_t)st.st_size, files[f].length, "%s",
		    path);
	}
	state_release(&s);
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
	struct thr_state s;
	struct state_opts o;
	struct thr_error err;
	char fresh[160];
	struct stat st;
	FILE *fp;

	if (bytes != NULL) {
		cr_assert_not_null(fp = fopen(torrent, "wb"));
		cr_assert_eq(fwrite(bytes, 1, len, fp), len);
		cr_assert_eq(fclose(fp), 0);
	}
	opts_default(&o);
	memset(&err, 0, sizeof(err));
	cr_assert_neq(state_init(&s, &o, NOW, &err), 0);
	cr_assert_neq(err.msg[0], '\0', "an error message");
	cr_assert_lt(err.code, 0);
	cr_assert_eq(dir_entries(dl), 0, "nothing created in dir");
	/* A directory that did not exist is not created either. */
	snprintf(fresh, sizeof(fresh), "%s/never", root);
	o.dir = fresh;
	memset(&err, 0, sizeof(err));
	cr_assert_neq(state_init(&s, &o, NOW, &err), 0);
	cr_assert_neq(err.msg[0], '\0');
	cr_assert_eq(stat(fresh, &st), -1);
	cr_assert_eq(errno, ENOENT);
}

Test(state, malformed_torrent_refused, .init = fx_init, .fini = fx_fini)
{
	static const char junk[] = "d8:announce3:abc4:infod4:name";

	expect_init_fails(junk, sizeof(junk) - 1);
}

Test(state, torrent_without_pieces_refused, .init = fx_init,
    .fini = fx_fini)
{
	static const char nopieces[] =
	    "d4:infod6:lengthi5e4:name1:x12:piece lengthi16384eee";

	expect_init_fails(nopieces, sizeof(nopieces) - 1);
}

Test(state, unsafe_path_torrent_refused, .init = fx_init, .fini = fx_fini)
{
	static const char dotdot[] =
	    "d4:infod5:filesld6:lengthi5e4:pathl2:..1:xeee"
	    "4:name3:pay12:piece lengthi16384e"
	    "6:pieces20:aaaaaaaaaaaaaaaaaaaaee";

	expect_init_fails(dotdot, sizeof(dotdot) - 1);
}

Test(state, missing_torrent_file_refused, .init = fx_init, .fini = fx_fini)
{
	expect_init_fails(NULL, 0);
}

Test(state, duplicate_info_key_refused, .init = fx_init, .fini = fx_fini)
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

Test(state, announce_list_capped_with_warning, .init = fx_init,
    .fini = fx_fini)
{
	struct state_opts o;
	struct thr_state *s = calloc(1, sizeof(*s));
	bool warned = false;
	enum log_level lv;
	const char *line;

	/* 100,000 tiers: the first METAINFO_MAX_TRACKERS are used, the
	 * run goes on, and one warning says how many were left out. */
	cr_assert_not_null(s);
	write_torrent_trackers(100000);
	opts_default(&o);
	o.log_level = LOG_WARN;
	fixture_state_init(s, &o, NOW);
	s->log.fp = NULL;
	cr_assert_eq(s->mi.ntiers, METAINFO_MAX_TRACKERS);
	cr_assert_eq(s->mi.trackers_dropped, 100000 - METAINFO_MAX_TRACKERS);
	for (uint32_t i = 0; i < s->log.count; i++) {
		line = log_line(&s->log, i, &lv);
		if (strstr(line, "99744 trackers past the first 256") != NULL) {
			cr_assert_eq(lv, LOG_WARN);
			warned = true;
		}
	}
	cr_assert(warned, "no warning about the ignored trackers");
	state_release(s);
	free(s);
}

/* --- handshake and messages ------------------------------------------- */

Test(state, incoming_handshake_and_bitfield, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;
	struct wire_msg m[8];
	size_t n;

	write_payload();
	write_torrent();
	flip_on_disk(5 * PLEN);		/* we lack piece 5 */
	start(&s);
	p = incoming(&s, s.mi.info_hash);
	put_bitfield(&p->in, false, 5);
	state_peer_input(&s, p, NOW + 10);
	cr_assert_not(p->dead, "killed: %s", p->why);
	cr_assert_eq(p->phase, PEER_ACTIVE);
	cr_assert_eq(p->in.len, 0, "everything consumed");
	cr_assert_eq(memcmp(p->peer_id, their_id, 20), 0);
	cr_assert(bitfield_get(&p->have, 5));
	cr_assert_eq(p->have.count, 1);
	cr_assert_eq(s.pk.avail[5], 1);
	cr_assert(p->am_interested, "it has the piece we lack");
	/* Our handshake, our bitfield, then INTERESTED. */
	n = parse_out(&s, p, m, 8);
	cr_assert_eq(n, 2);
	cr_assert_eq(m[0].id, WIRE_BITFIELD);
	cr_assert_eq(m[0].payload_len, (NPIECES + 7) / 8);
	cr_assert_eq(memcmp(m[0].payload, s.have.bits, m[0].payload_len), 0);
	cr_assert_eq(m[1].id, WIRE_INTERESTED);
	/* Leaving gives the availability back. */
	state_peer_remove(&s, p->id);
	cr_assert_eq(s.npeers, 0);
	cr_assert_eq(s.pk.avail[5], 0);
	state_release(&s);
}

/* Messages split at awkward points are parsed once whole. */
Test(state, input_in_pieces, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct thr_addr a = addr4(3, 7000);
	struct peer *p;
	uint8_t hs[WIRE_HANDSHAKE_LEN];
	struct buf all;

	write_payload();
	write_torrent();
	flip_on_disk(0);
	start(&s);
	buf_init(&all, 4096);
	wire_handshake_build(hs, s.mi.info_hash, their_id, NULL);
	buf_append(&all, hs, sizeof(hs));
	put_bitfield(&all, false, 0);
	wire_put_simple(&all, WIRE_UNCHOKE);
	cr_assert_not_null(p = state_peer_add(&s, &a, true, NOW));
	for (size_t i = 0; i < all.len; i++) {
		cr_assert_eq(buf_append(&p->in, all.data + i, 1), 0);
		state_peer_input(&s, p, NOW + i);
		cr_assert_not(p->dead, "byte %zu: %s", i, p->why);
	}
	cr_assert_eq(p->phase, PEER_ACTIVE);
	cr_assert_not(p->peer_choking);
	cr_assert_eq(p->nreqs, 1, "piece 0 is one block");
	cr_assert_eq(p->reqs[0].index, 0);
	buf_release(&all);
	state_release(&s);
}

Test(state, wrong_info_hash_killed, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;
	uint8_t other[20];

	write_payload();
	write_torrent();
	start(&s);
	memcpy(other, s.mi.info_hash, 20);
	other[7] ^= 1;
	p = incoming(&s, other);
	state_peer_input(&s, p, NOW + 10);
	cr_assert(p->dead);
	cr_assert_neq(p->phase, PEER_ACTIVE);
	cr_assert_eq(p->out.len, 0, "we say nothing to a stranger");
	cr_assert_neq(p->why[0], '\0');
	state_release(&s);
}

Test(state, our_own_peer_id_killed, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct thr_addr a = addr4(4, 6881);
	struct peer *p;
	uint8_t hs[WIRE_HANDSHAKE_LEN];

	write_payload();
	write_torrent();
	start(&s);
	cr_assert_not_null(p = state_peer_add(&s, &a, true, NOW));
	wire_handshake_build(hs, s.mi.info_hash, s.peer_id, NULL);
	buf_append(&p->in, hs, sizeof(hs));
	state_peer_input(&s, p, NOW + 10);
	cr_assert(p->dead, "connected to ourselves");
	state_release(&s);
}

Test(state, have_out_of_range_killed, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;

	write_payload();
	write_torrent();
	start(&s);
	p = incoming(&s, s.mi.info_hash);
	cr_assert_eq(wire_put_have(&p->in, NPIECES), 0);
	state_peer_input(&s, p, NOW + 10);
	cr_assert(p->dead);
	cr_assert_eq(p->have.count, 0);
	state_release(&s);
}

Test(state, bitfield_with_spare_bit_killed, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;
	uint8_t bits[1] = { 0x01 };	/* bit 7 is past the 7 pieces */

	write_payload();
	write_torrent();
	start(&s);
	p = incoming(&s, s.mi.info_hash);
	cr_assert_eq(wire_put_bitfield(&p->in, bits, sizeof(bits)), 0);
	state_peer_input(&s, p, NOW + 10);
	cr_assert(p->dead);
	state_release(&s);
}

/*
 * A request from an unchoked peer is answered from disk.  The peer is
 * unchoked the way the session does it: it says INTERESTED while an
 * upload slot is free, and is unchoked at once.
 */
Test(state, request_served_from_disk, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct peer *p;
	struct wire_msg m[16];
	size_t n, before;
	bool saw[2] = { false, false };

	write_payload();
	write_torrent();
	opts_default(&o);
	o.seed_ratio = -1;	/* keep seeding after the tick */
	start_with(&s, &o);
	p = incoming(&s, s.mi.info_hash);
	/* A request while choked is dropped (BEP 3), not queued. */
	wire_put_request(&p->in, WIRE_REQUEST, 3, 100, 1000);
	wire_put_simple(&p->in, WIRE_INTERESTED);
	state_peer_input(&s, p, NOW + 10);
	cr_assert_not(p->dead, "%s", p->why);
	cr_assert_eq(p->qlen, 0);
	cr_assert(p->peer_interested);
	cr_assert_not(p->am_choking, "unchoked into a free slot");
	state_tick(&s, NOW + 1000);
	cr_assert_not(p->am_choking, "the choker kept it unchoked");
	cr_assert_eq(s.phase, STATE_SEEDING);
	before = p->out.len;
	/* Within one file, and across the a.bin / c.bin boundary. */
	wire_put_request(&p->in, WIRE_REQUEST, 3, 100, 1000);
	wire_put_request(&p->in, WIRE_REQUEST, 2, 7000, 2000);
	state_peer_input(&s, p, NOW + 1100);
	cr_assert_not(p->dead, "%s", p->why);
	cr_assert_eq(p->qlen, 2);
	cr_assert_eq(p->out.len, before, "nothing sent before fill");
	state_upload(&s, NOW + 1200);
	cr_assert_eq(p->qlen, 0);
	n = parse_out(&s, p, m, 16);
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
	cr_assert_eq(s.uploaded, 3000);
	cr_assert_eq(p->uploaded, 3000);
	state_release(&s);
}

Test(state, request_out_of_range_killed, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;

	write_payload();
	write_torrent();
	start(&s);
	p = incoming(&s, s.mi.info_hash);
	p->am_choking = false;	/* set directly: only the range matters */
	/* Past the end of the short last piece. */
	wire_put_request(&p->in, WIRE_REQUEST, NPIECES - 1, 11000, 1000);
	state_peer_input(&s, p, NOW + 10);
	cr_assert(p->dead);
	cr_assert_eq(p->qlen, 0);
	state_release(&s);
}

/* --- downloading ------------------------------------------------------ */

/* A seed peer, unchoking us, while piece `piece` is bad on disk. */
static struct peer *
seed_peer(struct thr_state *s, uint32_t piece)
{
	struct peer *p;

	write_payload();
	write_torrent();
	flip_on_disk((uint64_t)piece * PLEN + 5);
	start(s);
	cr_assert_eq(s->phase, STATE_DOWNLOADING);
	p = incoming(s, s->mi.info_hash);
	put_bitfield(&p->in, true, 0);
	wire_put_simple(&p->in, WIRE_UNCHOKE);
	state_peer_input(s, p, NOW + 10);
	cr_assert_not(p->dead, "%s", p->why);
	return p;
}

/* The requests in p->out, which must all be for piece `piece`. */
static size_t
requests_for(const struct thr_state *s, const struct peer *p,
    uint32_t piece, uint32_t *covered)
{
	struct wire_msg m[64];
	size_t n = parse_out(s, p, m, 64), r = 0;

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
	struct thr_state s;
	struct peer *p;
	uint32_t size, covered;
	uint8_t back[PLEN];

	p = seed_peer(&s, piece);
	size = metainfo_piece_size(&s.mi, piece);
	cr_assert(p->am_interested);
	cr_assert_eq(requests_for(&s, p, piece, &covered), 1);
	cr_assert_eq(covered, size);
	cr_assert_eq(p->nreqs, 1);
	feed_piece(p, piece, payload + (uint64_t)piece * PLEN, size);
	state_peer_input(&s, p, NOW + 20);
	cr_assert_eq(s.hash_fails, 0);
	cr_assert(bitfield_get(&s.have, piece));
	cr_assert_eq(s.pk.state[piece], PICKER_HAVE);
	cr_assert_eq(s.phase, STATE_SEEDING);
	cr_assert(state_complete(&s));
	cr_assert_eq(s.left, 0);
	cr_assert_eq(s.downloaded, size);
	cr_assert_eq(s.wasted, 0);
	cr_assert_eq(p->nreqs, 0);
	/* Two seeds have nothing to trade. */
	cr_assert(p->dead);
	read_on_disk((uint64_t)piece * PLEN + 5, back, 1);
	cr_assert_eq(back[0], payload[(uint64_t)piece * PLEN + 5],
	    "written to disk");
	state_release(&s);

	/* A fresh check agrees. */
	start(&s);
	cr_assert_eq(s.check_valid, NPIECES);
	state_release(&s);
}

Test(state, download_fixes_corrupt_piece, .init = fx_init, .fini = fx_fini)
{
	download_one(3);
}

Test(state, download_short_last_piece, .init = fx_init, .fini = fx_fini)
{
	download_one(NPIECES - 1);
}

/*
 * A finished run (complete, seed ratio 0) ends on the next loop turn
 * once the tracker has had its "completed" announce, not at the next
 * tick; with the announce failing it ends STATE_FINISH_WAIT_MS later.
 */
static void
finish_one(struct thr_state *s)
{
	struct peer *p = seed_peer(s, 2);
	uint32_t covered;

	cr_assert_eq(requests_for(s, p, 2, &covered), 1);
	feed_piece(p, 2, payload + 2 * PLEN, PLEN);
	state_peer_input(s, p, NOW + 20);
	cr_assert(state_complete(s));
	cr_assert(state_finished(s));
	cr_assert_eq(s->phase, STATE_SEEDING, "not done before settling");
	cr_assert_eq(s->tracker_event, TRACKER_EVENT_COMPLETED);
}

Test(state, finished_run_ends_after_completed_announce, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct tracker_announce a;
	struct tracker_response r;
	struct thr_error err;
	const char *base;
	static const char body[] = "d8:intervali1800e5:peers0:e";

	finish_one(&s);
	state_settle(&s, NOW + 30);
	cr_assert_eq(s.phase, STATE_SEEDING, "waits for the announce");
	cr_assert(state_tracker_next(&s, NOW + 30, &a, &base));
	cr_assert_eq(a.event, TRACKER_EVENT_COMPLETED);
	cr_assert_eq(a.left, 0);
	state_settle(&s, NOW + 40);
	cr_assert_eq(s.phase, STATE_SEEDING, "still in flight");
	cr_assert_eq(tracker_parse_response((const uint8_t *)body,
	    sizeof(body) - 1, &r, &err), 0, "%s", err.msg);
	state_tracker_result(&s, 0, &r, NULL, NOW + 50);
	state_settle(&s, NOW + 51);
	cr_assert_eq(s.phase, STATE_DONE, "done right after the announce");
	state_release(&s);
}

Test(state, finished_run_ends_without_tracker_answer, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct tracker_announce a;
	const char *base;

	finish_one(&s);
	state_settle(&s, NOW + 30);
	cr_assert(state_tracker_next(&s, NOW + 30, &a, &base));
	state_tracker_result(&s, THR_EIO, NULL, "refused", NOW + 31);
	state_settle(&s, NOW + 31 + STATE_FINISH_WAIT_MS - 2);
	cr_assert_eq(s.phase, STATE_SEEDING);
	state_settle(&s, NOW + 30 + STATE_FINISH_WAIT_MS);
	cr_assert_eq(s.phase, STATE_DONE, "bounded wait");
	state_release(&s);
}

Test(state, download_wrong_data_fails_hash, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;
	uint8_t bad[PLEN];
	uint32_t covered;
	size_t before;

	p = seed_peer(&s, 4);
	cr_assert_eq(requests_for(&s, p, 4, &covered), 1);
	memcpy(bad, payload + 4 * PLEN, PLEN);
	bad[1234] ^= 0x40;
	before = p->out.len;
	feed_piece(p, 4, bad, PLEN);
	state_peer_input(&s, p, NOW + 20);
	cr_assert_eq(s.hash_fails, 1);
	cr_assert_eq(s.wasted, PLEN);
	cr_assert_not(bitfield_get(&s.have, 4));
	cr_assert_eq(s.pk.state[4], PICKER_ACTIVE,
	    "missing again and, being the only choice, re-requested");
	cr_assert_eq(s.phase, STATE_DOWNLOADING);
	cr_assert_eq(s.left, PLEN);
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
	state_peer_input(&s, p, NOW + 30);
	cr_assert(bitfield_get(&s.have, 4));
	cr_assert_eq(s.phase, STATE_SEEDING);
	state_release(&s);
}

/* Choke returns our requests to the picker; so does leaving. */
Test(state, choke_and_leave_return_requests, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;
	uint32_t id;

	p = seed_peer(&s, 1);
	cr_assert_eq(p->nreqs, 1);
	cr_assert_eq(s.pk.nactive, 1);
	cr_assert_eq(s.pk.active[0].blk[0], 1);
	wire_put_simple(&p->in, WIRE_CHOKE);
	state_peer_input(&s, p, NOW + 20);
	cr_assert(p->peer_choking);
	cr_assert_eq(p->nreqs, 0);
	/* Nothing of the piece came: it is missing again, not started. */
	cr_assert_eq(s.pk.nactive, 0);
	cr_assert_eq(s.pk.state[1], PICKER_MISSING);
	wire_put_simple(&p->in, WIRE_UNCHOKE);
	state_peer_input(&s, p, NOW + 30);
	cr_assert_eq(p->nreqs, 1);
	cr_assert_eq(s.pk.active[0].blk[0], 1);
	id = p->id;
	state_peer_remove(&s, id);
	cr_assert_null(state_peer_find(&s, id));
	cr_assert_eq(s.pk.nactive, 0);
	cr_assert_eq(s.pk.state[1], PICKER_MISSING);
	cr_assert_eq(s.pk.avail[1], 0);
	state_release(&s);
}

/*
 * The pieces asked of a peer that has all of them and unchokes us, in
 * the order asked: with fewer than PICKER_RANDOM_FIRST pieces the picker
 * chooses at random, so the order is the picker's random stream.
 */
static size_t
first_requests(struct thr_state *s, uint32_t *idx, size_t max)
{
	struct wire_msg m[32];
	struct peer *p = incoming(s, s->mi.info_hash);
	size_t n, k = 0;

	put_bitfield(&p->in, true, 0);
	wire_put_simple(&p->in, WIRE_UNCHOKE);
	state_peer_input(s, p, NOW + 10);
	cr_assert_not(p->dead, "%s", p->why);
	n = parse_out(s, p, m, 32);
	for (size_t i = 0; i < n && k < max; i++)
		if (!m[i].keepalive && m[i].id == WIRE_REQUEST)
			idx[k++] = m[i].index;
	return k;
}

/*
 * --seed replays the picks whatever the network did first: an MSE
 * handshake draws its keys and padding from its own stream, so a run
 * that dialled an encrypted peer first asks for the same pieces in the
 * same order as one that did not.
 */
Test(state, random_streams_are_independent, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state a, b;
	struct state_opts o;
	struct thr_addr addr = addr4(3, 6881);
	struct peer *q;
	uint32_t ia[NPIECES], ib[NPIECES];
	size_t na, nb;

	write_torrent();
	opts_default(&o);
	o.strategy = PICKER_RANDOM;
	start_with(&a, &o);
	start_with(&b, &o);
	cr_assert_eq(a.phase, STATE_DOWNLOADING);
	cr_assert_eq(memcmp(a.peer_id, b.peer_id, 20), 0,
	    "one seed, one peer id");
	q = state_peer_add(&b, &addr, false, NOW);
	cr_assert_not_null(q);
	state_peer_connected(&b, q, NOW);
	if (b.mse_ok)
		cr_assert_eq(q->phase, PEER_CRYPTO, "dialled encrypted");
	/* Draws of the MSE stream, and of the choker's. */
	cr_assert(!b.mse_ok || b.rng_mse.s != a.rng_mse.s);
	(void)rng_next(&b.rng_choker);
	na = first_requests(&a, ia, NPIECES);
	nb = first_requests(&b, ib, NPIECES);
	cr_assert_geq(na, PEER_START_REQS, "a first round of requests");
	cr_assert_eq(nb, na);
	for (size_t i = 0; i < na; i++)
		cr_assert_eq(ia[i], ib[i], "request %zu: piece %u, not %u", i,
		    ib[i], ia[i]);
	state_release(&a);
	state_release(&b);
}

/*
 * A peer that sends a block two seconds after it was asked (it shares
 * a slow upload among many) keeps two requests waiting, not dozens: the
 * pipeline is its rate over its round trip plus half a second.  Before,
 * at least 32 requests sat at such a peer for half a minute, holding
 * their pieces from the other peers that unchoked us.
 */
Test(state, few_requests_wait_at_a_slow_peer, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;
	struct picker_block b;
	uint64_t t = NOW + 10;

	write_torrent();
	start(&s);
	p = incoming(&s, s.mi.info_hash);
	put_bitfield(&p->in, true, 0);
	wire_put_simple(&p->in, WIRE_UNCHOKE);
	state_peer_input(&s, p, t);
	cr_assert_not(p->dead, "%s", p->why);
	cr_assert_eq(p->nreqs, PEER_START_REQS, "a first round of requests");
	/* One block every two seconds: the rest of the first round drains
	 * and the pipeline stays at PEER_MIN_REQS. */
	for (int k = 0; k < 4; k++) {
		t += 2000;
		b = p->reqs[0];
		fixture_put_block(&p->in, b.index, b.begin,
		    payload + (uint64_t)b.index * PLEN + b.begin, b.length);
		state_peer_input(&s, p, t);
		cr_assert_not(p->dead, "%s", p->why);
		cr_assert_leq(p->nreqs, k < 2 ? (uint32_t)(PEER_START_REQS -
		    k - 1) : (uint32_t)PEER_MIN_REQS, "block %d: %u requests "
		    "wait at a slow peer", k, p->nreqs);
	}
	cr_assert_eq(p->nreqs, PEER_MIN_REQS, "the pipeline is topped up");
	cr_assert_eq(p->lat_min_ms, 2000, "its round trip is known");
	state_release(&s);
}

/* --- tracker ---------------------------------------------------------- */

Test(state, tracker_compact_peers_known, .init = fx_init, .fini = fx_fini)
{
	static const uint8_t body[] =
	    "d8:intervali900e5:peers12:"
	    "\x0a\x00\x00\x01\x1a\xe1"	/* 10.0.0.1:6881 */
	    "\x0a\x00\x00\x02\x1a\xe2"	/* 10.0.0.2:6882 */
	    "e";
	struct thr_state s;
	struct buf url;
	struct thr_addr out;

	write_torrent();
	start(&s);
	cr_assert_eq(s.tracker_phase, TRACKER_IDLE);
	buf_init(&url, 4096);
	cr_assert(state_tracker_due(&s, NOW + 10, &url));
	cr_assert_eq(s.tracker_phase, TRACKER_BUSY);
	cr_assert_not_null(strstr((const char *)url.data,
	    "http://127.0.0.1:9/announce?"));
	cr_assert_not_null(strstr((const char *)url.data, "event=started"));
	cr_assert_not(state_tracker_due(&s, NOW + 10, &url), "busy");
	state_tracker_done(&s, 0, body, sizeof(body) - 1, NULL, NOW + 20);
	cr_assert_eq(s.tracker_phase, TRACKER_IDLE);
	cr_assert_eq(s.nknown, 2);
	cr_assert_eq(s.known[0].addr.family, 4);
	cr_assert_eq(memcmp(s.known[0].addr.ip, "\x0a\x00\x00\x01", 4), 0);
	cr_assert_eq(s.known[0].addr.port, 6881);
	cr_assert_eq(memcmp(s.known[1].addr.ip, "\x0a\x00\x00\x02", 4), 0);
	cr_assert_eq(s.known[1].addr.port, 6882);
	cr_assert_not(s.known[0].given);
	cr_assert_eq(strncmp(s.tracker_status, "ok", 2), 0, "%s",
	    s.tracker_status);
	cr_assert_eq(s.tracker_interval, 900);
	cr_assert_eq(s.tracker_next_ms, NOW + 20 + 900000);
	cr_assert_eq(s.tracker_event, TRACKER_EVENT_NONE);
	/* The same peers again are not duplicated. */
	state_tracker_done(&s, 0, body, sizeof(body) - 1, NULL, NOW + 30);
	cr_assert_eq(s.nknown, 2);
	/* And they are offered for connecting while downloading. */
	cr_assert(state_next_connect(&s, NOW + 40, &out));
	cr_assert(addr_equal(&out, &s.known[0].addr));
	buf_release(&url);
	state_release(&s);
}

/* The swarm's size as the tracker counts it goes to the header. */
Test(state, tracker_seeders_and_leechers_shown, .init = fx_init,
    .fini = fx_fini)
{
	static const uint8_t counts[] =
	    "d8:completei5e10:incompletei3e8:intervali900e5:peers6:"
	    "\x0a\x00\x00\x01\x1a\xe1" "e";
	static const uint8_t seeders_only[] =
	    "d8:completei7e8:intervali900e5:peers0:e";
	static const uint8_t none[] = "d8:intervali900e5:peers6:"
	    "\x0a\x00\x00\x01\x1a\xe1" "e";
	struct thr_state s;
	struct buf url;

	write_torrent();
	start(&s);
	cr_expect_eq(s.tracker_seeders, -1);
	cr_expect_eq(s.tracker_leechers, -1);
	buf_init(&url, 4096);
	cr_assert(state_tracker_due(&s, NOW, &url));
	state_tracker_done(&s, 0, counts, sizeof(counts) - 1, NULL, NOW + 5);
	cr_expect_str_eq(s.tracker_status, "seeders 5, leechers 3");
	cr_expect_eq(s.tracker_seeders, 5);
	cr_expect_eq(s.tracker_leechers, 3);
	cr_assert(state_tracker_due(&s, s.tracker_next_ms, &url));
	state_tracker_done(&s, 0, seeders_only, sizeof(seeders_only) - 1,
	    NULL, s.tracker_next_ms);
	cr_expect_str_eq(s.tracker_status, "seeders 7, leechers ?");
	cr_expect_eq(s.tracker_leechers, -1);
	/* No counts: how many addresses, in the right number. */
	cr_assert(state_tracker_due(&s, s.tracker_next_ms, &url));
	state_tracker_done(&s, 0, none, sizeof(none) - 1, NULL,
	    s.tracker_next_ms);
	cr_expect_str_eq(s.tracker_status, "ok: 1 peer");
	buf_release(&url);
	state_release(&s);
}

Test(state, tracker_failure_reason_is_error, .init = fx_init,
    .fini = fx_fini)
{
	static const uint8_t body[] = "d14:failure reason12:unregisterede";
	struct thr_state s;
	struct buf url;

	write_torrent();
	start(&s);
	buf_init(&url, 4096);
	cr_assert(state_tracker_due(&s, NOW, &url));
	state_tracker_done(&s, 0, body, sizeof(body) - 1, NULL, NOW + 5);
	cr_assert_eq(strncmp(s.tracker_status, "error", 5), 0, "%s",
	    s.tracker_status);
	cr_assert_not_null(strstr(s.tracker_status, "unregistered"));
	cr_assert_eq(s.nknown, 0);
	cr_assert_eq(s.tracker_phase, TRACKER_IDLE);
	cr_assert_gt(s.tracker_next_ms, NOW + 5, "backs off");
	cr_assert_eq(s.tracker_event, TRACKER_EVENT_STARTED,
	    "started is sent again");
	/* A transport failure reads the same way. */
	cr_assert(state_tracker_due(&s, s.tracker_next_ms, &url));
	state_tracker_done(&s, THR_EIO, NULL, 0, "connection refused",
	    s.tracker_next_ms);
	cr_assert_eq(strncmp(s.tracker_status, "error", 5), 0);
	cr_assert_not_null(strstr(s.tracker_status, "connection refused"));
	/* Garbage is an error too. */
	cr_assert(state_tracker_due(&s, s.tracker_next_ms, &url));
	state_tracker_done(&s, 0, (const uint8_t *)"<html>", 6, NULL,
	    s.tracker_next_ms);
	cr_assert_eq(strncmp(s.tracker_status, "error", 5), 0);
	buf_release(&url);
	state_release(&s);
}

/* Three hash failures with a peer's data and it is dropped. */
Test(state, three_strikes_kill, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;
	uint8_t bad[PLEN];

	p = seed_peer(&s, 2);
	memset(bad, 0xee, sizeof(bad));
	for (int k = 1; k <= 3; k++) {
		cr_assert_not(p->dead, "dead after %d strikes", k - 1);
		cr_assert_eq(p->nreqs, 1, "re-requested from the only peer");
		feed_piece(p, 2, bad, PLEN);
		state_peer_input(&s, p, NOW + 20 + (uint64_t)k);
		cr_assert_eq(s.hash_fails, (uint32_t)k);
		cr_assert_eq(p->strikes, (uint32_t)k);
	}
	cr_assert(p->dead);
	cr_assert_not_null(strstr(p->why, "corrupt"), "%s", p->why);
	cr_assert_not(bitfield_get(&s.have, 2));
	cr_assert_eq(s.wasted, 3 * PLEN);
	state_release(&s);
}

Test(state, peer_cap_and_lookup, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p[10];
	struct thr_addr a;

	write_torrent();
	start(&s);
	for (int i = 0; i < 10; i++) {
		a = addr4((uint8_t)(10 + i), 6881);
		cr_assert_not_null(p[i] = state_peer_add(&s, &a, i % 2 == 0,
		    NOW));
		cr_assert(state_peer_connected_to(&s, &a));
	}
	a = addr4(99, 6881);
	cr_assert_null(state_peer_add(&s, &a, true, NOW), "max_peers 10");
	cr_assert_eq(s.npeers, 10);
	cr_assert_eq(state_peer_find(&s, p[4]->id), p[4]);
	cr_assert_neq(p[3]->id, p[4]->id, "ids are unique");
	state_peer_remove(&s, p[4]->id);
	cr_assert_eq(s.npeers, 9);
	cr_assert_not_null(state_peer_add(&s, &a, true, NOW));
	/* An outgoing peer sends its handshake once connected (in
	 * plaintext with --encryption off). */
	cr_assert_eq(p[1]->phase, PEER_CONNECTING);
	s.opts.crypto = STATE_CRYPTO_OFF;
	state_peer_connected(&s, p[1], NOW + 5);
	cr_assert_eq(p[1]->phase, PEER_HANDSHAKE);
	cr_assert_eq(p[1]->out.len, WIRE_HANDSHAKE_LEN,
	    "no bitfield when we have nothing");
	state_release(&s);
}

/* --- addresses not to dial: seeds while we seed, ourselves ------------- */

/* Dial whatever state_next_connect offers at now as a peer that answers
 * with its handshake (BEP 6 bit set) and have-all, and forget it once it
 * is closed.  Returns the number of dials (0 or 1); *why gets the reason
 * it was closed. */
static int
dial_seed_once(struct thr_state *s, uint64_t now, char *why, size_t whylen)
{
	static const uint8_t rsv[8] = { 0, 0, 0, 0, 0, 0, 0, 0x04 };
	uint8_t hs[WIRE_HANDSHAKE_LEN];
	struct thr_addr out;
	struct peer *p;

	if (!state_next_connect(s, now, &out))
		return 0;
	cr_assert_not_null(p = state_peer_add(s, &out, false, now));
	state_peer_connected(s, p, now);
	wire_handshake_build(hs, s->mi.info_hash, their_id, rsv);
	cr_assert_eq(buf_append(&p->in, hs, sizeof(hs)), 0);
	cr_assert_eq(wire_put_simple(&p->in, WIRE_HAVE_ALL), 0);
	state_peer_input(s, p, now);
	cr_assert(p->dead, "a seed stayed connected to a seed");
	snprintf(why, whylen, "%s", p->why);
	state_peer_remove(s, p->id);
	return 1;
}

Test(state, seed_dials_a_seed_a_few_times_an_hour, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct thr_addr a = addr4(50, 7000);
	char why[96];
	int dials = 0;

	/* We seed forever and were given another seed with --peer: it
	 * was dialled every 2 s ("both are seeds", 23 times in 45 s). */
	write_payload();
	write_torrent();
	opts_default(&o);
	o.seed_ratio = -1;
	o.crypto = STATE_CRYPTO_OFF;
	o.given[0] = a;
	o.ngiven = 1;
	start_with(&s, &o);
	cr_assert_eq(s.phase, STATE_SEEDING);
	for (uint64_t t = 0; t < 3600; t++) {
		int n = dial_seed_once(&s, NOW + t * 1000, why, sizeof(why));

		if (n > 0)
			cr_assert_str_eq(why, "both are seeds");
		dials += n;
	}
	cr_assert_eq(dials, 3, "%d dials in an hour", dials);
	cr_assert(s.known[0].seed);
	state_release(&s);
}

Test(state, seed_hold_ends_when_we_download_again, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct thr_addr out;
	char why[96];

	/* Only a.bin selected and complete; c.bin's last piece damaged. */
	write_payload();
	write_torrent();
	flip_on_disk(TOTAL - 5);
	opts_default(&o);
	o.seed_ratio = -1;
	o.crypto = STATE_CRYPTO_OFF;
	o.files = "1";
	o.given[0] = addr4(51, 7000);
	o.ngiven = 1;
	start_with(&s, &o);
	cr_assert_eq(s.phase, STATE_SEEDING);
	cr_assert_eq(dial_seed_once(&s, NOW, why, sizeof(why)), 1);
	cr_assert_not(state_next_connect(&s, NOW + 60000, &out));
	/* Selecting c.bin makes the seed worth a connection at once. */
	cr_assert_eq(state_set_file_wanted(&s, 2, true), 0);
	cr_assert_eq(s.phase, STATE_DOWNLOADING);
	cr_assert(state_next_connect(&s, NOW + 61000, &out));
	cr_assert(addr_equal(&out, &o.given[0]));
	state_release(&s);
}

Test(state, finished_run_dials_nobody, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct thr_addr out;

	/* --seed-ratio 0 and complete: the run ends now; it used to dial
	 * its --peer once more on the way out. */
	write_payload();
	write_torrent();
	opts_default(&o);
	o.given[0] = addr4(52, 7000);
	o.ngiven = 1;
	start_with(&s, &o);
	cr_assert(state_finished(&s));
	cr_assert_not(state_next_connect(&s, NOW + 5000, &out));
	state_release(&s);
}

/* We dial a (over transport tp) and the connection arrives at our own
 * listener from `from`: returns the outgoing peer, the incoming one in
 * *in, both after the accepting side read our handshake. */
static struct peer *
dial_ourselves(struct thr_state *s, const struct thr_addr *a,
    enum peer_transport tp, const struct thr_addr *from, uint64_t now,
    struct peer **in)
{
	struct thr_addr out;
	struct peer *q, *p;

	cr_assert(state_next_connect(s, now, &out));
	cr_assert(addr_equal(&out, a));
	cr_assert_not_null(q = state_peer_add_as(s, &out, false,
	    PEER_SRC_COUNT, tp, now));
	if (tp == PEER_TCP)
		q->local = *from;
	state_peer_connected(s, q, now);
	cr_assert_eq(q->phase, PEER_HANDSHAKE);
	cr_assert_not_null(p = state_peer_add(s, from, true, now));
	cr_assert_eq(buf_append(&p->in, q->out.data, q->out.len), 0);
	state_peer_input(s, p, now);
	*in = p;
	return q;
}

Test(state, connection_to_ourselves_held, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct thr_addr self = addr4(1, 6881), other = addr4(9, 6881);
	struct thr_addr from = addr4(1, 41000), out;
	struct peer *q, *p, *r;
	uint64_t t = NOW;

	/* The tracker lists our own address (and another peer's). */
	write_torrent();
	opts_default(&o);
	o.crypto = STATE_CRYPTO_OFF;
	o.seed_ratio = -1;
	start_with(&s, &o);
	cr_assert_eq(s.phase, STATE_DOWNLOADING);
	state_known_add(&s, &self, PEER_SRC_TRACKER);
	/* Another outgoing connection in its handshake is left alone. */
	cr_assert_not_null(r = state_peer_add(&s, &other, false, t));
	r->local = addr4(1, 41001);
	state_peer_connected(&s, r, t);
	q = dial_ourselves(&s, &self, PEER_TCP, &from, t, &p);
	cr_assert(p->dead);
	cr_assert_str_eq(p->why, "connected to ourselves");
	cr_assert(q->dead, "the dialling end is closed too");
	cr_assert_str_eq(q->why, "connected to ourselves");
	cr_assert_not(r->dead, "killed: %s", r->why);
	state_peer_remove(&s, p->id);
	state_peer_remove(&s, q->id);
	cr_assert(s.known[0].self);
	/* Not again for STATE_HOLD_MS, though TCP failing on loopback
	 * would otherwise bring uTP at once, and the tracker retry 15 s. */
	for (uint64_t d = 1000; d < STATE_HOLD_MS; d += 15000)
		cr_assert_not(state_next_connect(&s, t + d, &out) &&
		    addr_equal(&out, &self), "redialled after %llu ms",
		    (unsigned long long)d);
	cr_assert(state_next_connect(&s, t + 1000 + STATE_HOLD_MS, &out));
	cr_assert(addr_equal(&out, &self));
	state_release(&s);
}

Test(state, utp_connection_to_ourselves_held, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct thr_addr self = addr4(1, 6881), out;
	struct peer *q, *p;

	/* Over uTP both ends use our one UDP port: the accepted
	 * connection comes from the very address we dialled. */
	write_torrent();
	opts_default(&o);
	o.crypto = STATE_CRYPTO_OFF;
	o.seed_ratio = -1;
	o.transport = STATE_TRANSPORT_UTP;
	start_with(&s, &o);
	state_known_add(&s, &self, PEER_SRC_TRACKER);
	q = dial_ourselves(&s, &self, PEER_UTP, &self, NOW, &p);
	cr_assert(p->dead);
	cr_assert(q->dead);
	state_peer_remove(&s, p->id);
	state_peer_remove(&s, q->id);
	cr_assert_not(state_next_connect(&s, NOW + 60000, &out));
	state_release(&s);
}

Test(state, require_refused_by_plaintext_peer_backs_off, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_state s;
	struct state_opts o;
	struct thr_addr out;
	enum log_level lv;
	int dials = 0, lines = 0;

	/* --encryption require and a --peer that speaks plaintext only: it
	 * hangs up on our MSE handshake.  It was dialled every 2 s, over
	 * TCP and uTP, and nothing at info said why. */
	write_torrent();
	opts_default(&o);
	o.crypto = STATE_CRYPTO_REQUIRE;
	o.log_level = LOG_INFO;
	o.given[0] = addr4(53, 7000);
	o.ngiven = 1;
	start_with(&s, &o);
	s.log.fp = NULL;
	cr_assert(s.mse_ok, "RC4 is needed for this test");
	for (uint64_t t = NOW; t < NOW + 60000; t += 500) {
		struct peer *p;

		s.now_ms = t;
		if (!state_next_connect(&s, t, &out))
			continue;
		dials++;
		cr_assert_not(state_dial_utp(&s, &out),
		    "uTP right after TCP was refused");
		cr_assert_not_null(p = state_peer_add(&s, &out, false, t));
		state_peer_connected(&s, p, t);
		cr_assert_eq(p->phase, PEER_CRYPTO);
		peer_kill(p, "connection closed by peer");
		state_peer_remove(&s, p->id);
	}
	for (uint32_t i = 0; i < s.log.count; i++) {
		const char *l = log_line(&s.log, i, &lv);

		if (strstr(l, "refused the encrypted handshake") != NULL &&
		    strstr(l, "--encryption require") != NULL) {
			cr_assert_eq(lv, LOG_INFO);
			lines++;
		}
	}
	cr_assert_eq(lines, 1, "%d info lines about the refusal", lines);
	cr_assert_geq(dials, 2);
	cr_assert_leq(dials, 5, "%d dials in a minute", dials);
	state_release(&s);
}

/* --- what reaches a peer that reads a packet only in part -------------- */

/* The transport wrote everything in p->out. */
static void
all_sent(struct thr_state *s, struct peer *p, uint64_t now)
{
	state_peer_outgoing(s, p);
	state_peer_sent(s, p, p->out.len, now);
	buf_reset(&p->out);
}

Test(state, handshake_ends_its_packet, .init = fx_init, .fini = fx_fini)
{
	struct thr_state s;
	struct peer *p;

	/* Transmission 3.00 over uTP reads our handshake and leaves the
	 * rest of that packet unread: out_push tells the transport where
	 * the handshake ends. */
	write_payload();
	write_torrent();
	start(&s);
	cr_assert_eq(s.phase, STATE_SEEDING);
	p = incoming(&s, s.mi.info_hash);
	state_peer_input(&s, p, NOW + 10);
	cr_assert_eq(p->phase, PEER_ACTIVE);
	cr_assert_eq(p->out_push, WIRE_HANDSHAKE_LEN);
	cr_assert_gt(p->out.len, WIRE_HANDSHAKE_LEN, "a bitfield follows");
	/* It follows what is taken from the front of out. */
	state_peer_sent(&s, p, 10, NOW + 11);
	buf_consume(&p->out, 10);
	cr_assert_eq(p->out_push, WIRE_HANDSHAKE_LEN - 10);
	all_sent(&s, p, NOW + 12);
	cr_assert_eq(p->out_push, 0);
	state_release(&s);
}

Test(state, quiet_connection_gets_one_keepalive, .init = fx_init,
    .fini = fx_fini)
{
	static const uint8_t ka[4] = { 0, 0, 0, 0 };
	struct thr_state s;
	struct peer *p;
	uint64_t t = NOW + 10;

	write_payload();
	write_torrent();
	start(&s);
	p = incoming(&s, s.mi.info_hash);
	state_peer_input(&s, p, t);
	all_sent(&s, p, t);
	/* Quiet both ways: after STATE_NUDGE_MS, one keep-alive, in case
	 * the peer left our bytes unread; not 90 s later. */
	state_tick(&s, t + STATE_NUDGE_MS - 1);
	cr_assert_eq(p->out.len, 0);
	state_tick(&s, t + STATE_NUDGE_MS);
	cr_assert_eq(p->out.len, 4);
	cr_assert_eq(memcmp(p->out.data, ka, 4), 0);
	all_sent(&s, p, t + STATE_NUDGE_MS);
	state_tick(&s, t + 5 * STATE_NUDGE_MS);
	cr_assert_eq(p->out.len, 0, "one per quiet spell");
	/* Its keep-alive does not allow another (no ping-pong between
	 * two of us); a real message does. */
	cr_assert_eq(buf_append(&p->in, ka, 4), 0);
	state_peer_input(&s, p, t + 6 * STATE_NUDGE_MS);
	state_tick(&s, t + 8 * STATE_NUDGE_MS);
	cr_assert_eq(p->out.len, 0);
	cr_assert_eq(wire_put_simple(&p->in, WIRE_NOT_INTERESTED), 0);
	state_peer_input(&s, p, t + 9 * STATE_NUDGE_MS);
	state_tick(&s, t + 10 * STATE_NUDGE_MS);
	cr_assert_eq(p->out.len, 4);
	cr_assert_not(p->dead, "%s", p->why);
	state_release(&s);
}
