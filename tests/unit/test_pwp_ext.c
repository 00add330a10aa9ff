/*
 * test_pwp_ext.c: the extension protocol of one peer (core/pwp_ext.h)
 * in a session and its torrent (core/session.h, core/torrent.h), without
 * sockets: a magnet link's metadata fetched over ut_metadata (BEP 9),
 * checked, adopted and saved among the session's blobs (core/tmeta.h),
 * our info dict served, peers learned by pex (BEP 11); and Message
 * Stream Encryption (core/pwcrypt.h) between two sessions.
 *
 * The torrent is fixture.h's: "pay/a.bin" (50000 bytes) and
 * "pay/b.bin" (30000 bytes) in 16 KiB pieces; its info dict is a few
 * hundred bytes, one ut_metadata piece.  A peer is driven by appending
 * wire messages to p->in and reading p->out, as in test_torrent.c.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/ext.h"
#include "core/hash.h"
#include "core/metainfo.h"
#include "core/pwp_ext.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/wire.h"
#include "net/fileio.h"
#include "net/storage.h"

#include "fixture.h"

#define PLEN	16384u
#define NFILES	2
#define TOTAL	(50000u + 30000u)
#define NPIECES	((TOTAL + PLEN - 1) / PLEN)
#define NOW	2000000u
#define THEIR_META_ID	3	/* the id the remote picks for ut_metadata */
#define THEIR_PEX_ID	7

static const struct fixture_file files[NFILES] = {
	{ { "a.bin", NULL }, 50000, 0 },
	{ { "b.bin", NULL }, 30000, 50000 },
};

static const uint8_t their_id[20] = "-LT2080-abcdefghijkl";

static char	 root[FIXTURE_ROOT_LEN];
static char	 dl[FIXTURE_PATH_LEN];
static char	 torrent[FIXTURE_PATH_LEN];
static uint8_t	 payload[TOTAL];

static const struct fixture fx = FIXTURE_OVER(files, PLEN, payload, root, dl,
    torrent);

/* The torrent as written by the fixture: its info dict and hash. */
static struct metainfo	mi;
static char		statedir[FIXTURE_PATH_LEN + 16];
static char		magnet[256];

static void
fx_init(void)
{
	struct thr_error err;
	char hex[41];

	fixture_init(&fx, "/tmp/thr-ext-XXXXXX", 7);
	fixture_write_torrent(&fx);
	cr_assert_eq(fileio_load_metainfo(&mi, torrent, &err), 0, "%s",
	    err.msg);
	hash_hex(mi.info_hash, 20, hex);
	snprintf(magnet, sizeof(magnet), "magnet:?xt=urn:btih:%s&dn=pay",
	    hex);
	snprintf(statedir, sizeof(statedir), "%s/state", root);
}

static void
fx_fini(void)
{
	metainfo_release(&mi);
	fixture_fini(&fx);
}

/*
 * As fixture_try_start, for a magnet link (uri) rather than a torrent
 * file: a session over r's options, the state directory (r->state_dir,
 * may be NULL) as its blob store, and the magnet's torrent in it.
 */
static int
magnet_try_start(struct fixture_run *r, const char *uri,
    struct thr_error *err)
{
	memset(err, 0, sizeof(*err));
	r->place.state_dir = r->state_dir;
	if (r->state_dir != NULL)
		r->so.blobs = fileio_blobs(r->state_dir);
	if ((r->s = session_new(&r->so, NOW, err)) == NULL)
		return err->code != 0 ? err->code : THR_ENOMEM;
	r->to.magnet = uri;
	r->to.store = storage_factory(&r->place);
	return session_add(r->s, &r->to, NOW, &r->t, err);
}

/* Our magnet with the state directory; the torrent is r->t. */
static struct torrent *
magnet_start(struct fixture_run *r)
{
	struct thr_error err;

	fixture_opts(&fx, r);
	r->state_dir = statedir;
	cr_assert_eq(magnet_try_start(r, magnet, &err), 0, "start: %s",
	    err.msg);
	return r->t;
}

static struct torrent *
start_magnet(struct fixture_run *r)
{
	struct torrent *t = magnet_start(r);

	cr_assert_eq(t->phase, TORRENT_METADATA);
	cr_assert_not(t->have_meta);
	cr_assert_eq(memcmp(t->mi.info_hash, mi.info_hash, 20), 0);
	cr_assert_str_eq(t->mi.name, "pay");
	return t;
}

/* The fixture's torrent with its payload on disk, checked. */
static struct torrent *
start_seed(struct fixture_run *r)
{
	fixture_write_payload(&fx);
	fixture_opts(&fx, r);
	fixture_start(r, NOW);
	fixture_check(r->t, NOW);
	return r->t;
}

/* An incoming peer whose handshake sets the BEP 10 and BEP 6 bits. */
static struct peer *
ext_peer(struct torrent *t, uint8_t last)
{
	static const uint8_t rsv[8] = { 0, 0, 0, 0, 0, 0x10, 0, 0x04 };
	struct thr_addr a = fixture_addr4(127, last, 7000 + last);
	uint8_t hs[WIRE_HANDSHAKE_LEN], pid[20];
	struct peer *p;

	memcpy(pid, their_id, 20);
	pid[19] = last;
	cr_assert_not_null(p = torrent_peer_add(t, &a, true, PEER_SRC_COUNT,
	    PEER_TCP, NOW));
	wire_handshake_build(hs, t->mi.info_hash, pid, rsv);
	cr_assert_eq(buf_append(&p->in, hs, sizeof(hs)), 0);
	return p;
}

/* Append wire message 20 with extended id and payload. */
static void
put_ext(struct buf *in, uint8_t id, const void *p, size_t n)
{
	cr_assert_eq(buf_put_u32be(in, (uint32_t)n + 2), 0);
	cr_assert_eq(buf_put_u8(in, WIRE_EXTENDED), 0);
	cr_assert_eq(buf_put_u8(in, id), 0);
	cr_assert_eq(buf_append(in, p, n), 0);
}

static void
put_their_handshake(struct buf *in, size_t metadata_size)
{
	char d[160];
	int n;

	n = snprintf(d, sizeof(d), "d1:md11:ut_metadatai%de6:ut_pexi%dee"
	    "13:metadata_sizei%zue1:pi7777e1:v12:LibTorrent 2e",
	    THEIR_META_ID, THEIR_PEX_ID, metadata_size);
	put_ext(in, EXT_ID_HANDSHAKE, d, (size_t)n);
}

/* Find the first extended message with extended id `id` in p->out
 * (after our handshake); returns its payload (after the id byte). */
static const uint8_t *
find_ext(const struct torrent *t, const struct peer *p, uint8_t id,
    size_t *len)
{
	size_t off = WIRE_HANDSHAKE_LEN, used;
	struct wire_msg m;

	while (off < p->out.len) {
		cr_assert_eq(wire_parse(p->out.data + off, p->out.len - off,
		    t->mi.npieces, &m, &used), 1, "bad message at %zu", off);
		off += used;
		if (m.id == WIRE_EXTENDED && m.payload_len >= 1 &&
		    m.payload[0] == id) {
			*len = m.payload_len - 1;
			return m.payload + 1;
		}
	}
	return NULL;
}

/* Send the whole info dict (or data) as ut_metadata piece 0. */
static void
put_metadata(struct buf *in, const uint8_t *data, size_t len)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	cr_assert_eq(ext_metadata_data(&b, 0, (uint32_t)len, data, len), 0);
	put_ext(in, EXT_ID_UT_METADATA, b.data, b.len);
	buf_release(&b);
}

Test(pwp_ext, metadata_fetched_checked_saved, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct ext_metadata_msg m;
	struct thr_error err;
	const uint8_t *req;
	struct peer *p;
	char saved[512], hex[41];
	struct stat st;
	size_t n;

	cr_assert_lt(mi.info_len, EXT_METADATA_PIECE, "one piece");
	t = start_magnet(&r);
	p = ext_peer(t, 2);
	/* Its bitfield comes before we know the piece count: kept. */
	fixture_put_bitfield(&p->in, NPIECES, true, 0);
	put_their_handshake(&p->in, mi.info_len);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "killed: %s", p->why);
	cr_assert(p->ext);
	cr_assert_eq(p->exth.ut_metadata, THEIR_META_ID);
	cr_assert_eq(p->listen_port, 7777, "from \"p\"");
	cr_assert_eq(t->md.size, mi.info_len);
	/* We sent our extended handshake and asked for piece 0 with the
	 * peer's id for ut_metadata. */
	cr_assert_not_null(find_ext(t, p, EXT_ID_HANDSHAKE, &n));
	cr_assert_not_null(req = find_ext(t, p, THEIR_META_ID, &n));
	cr_assert_eq(ext_metadata_parse(req, n, &m, &err), 0, "%s", err.msg);
	cr_assert_eq(m.type, EXT_METADATA_REQUEST);
	cr_assert_eq(m.piece, 0);

	put_metadata(&p->in, mi.info, mi.info_len);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert_not(p->dead, "killed: %s", p->why);
	cr_assert(t->have_meta);
	cr_assert_eq(t->phase, TORRENT_CHECKING);
	cr_assert_eq(t->mi.npieces, NPIECES);
	cr_assert_eq(t->mi.nfiles, NFILES);
	cr_assert_eq(memcmp(t->mi.info_hash, mi.info_hash, 20), 0);
	/* The early bitfield became its have set. */
	cr_assert_eq(p->have.count, NPIECES);
	/* Saved for a restart without peers. */
	hash_hex(mi.info_hash, 20, hex);
	snprintf(saved, sizeof(saved), "%s/%s.torrent", statedir, hex);
	cr_assert_eq(stat(saved, &st), 0, "%s", saved);
	fixture_check(t, NOW + 30);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert_eq(t->pk.avail[0], 1, "its pieces count as available");
	cr_assert(p->am_interested);
	fixture_stop(&r);

	/* A restart loads the saved torrent: no metadata phase. */
	t = magnet_start(&r);
	cr_assert(t->have_meta);
	cr_assert_eq(t->phase, TORRENT_CHECKING);
	cr_assert_eq(t->mi.npieces, NPIECES);
	fixture_stop(&r);
}

/* The pieces of the ut_metadata requests in p->out from byte *off on
 * (advanced past them), in order; returns their count. */
static size_t
meta_requests(const struct torrent *t, const struct peer *p, size_t *off,
    uint32_t *pieces, size_t max)
{
	struct ext_metadata_msg m;
	struct thr_error err;
	struct wire_msg w;
	size_t n = 0, used;

	if (*off < WIRE_HANDSHAKE_LEN)
		*off = WIRE_HANDSHAKE_LEN;
	while (*off < p->out.len) {
		cr_assert_eq(wire_parse(p->out.data + *off, p->out.len - *off,
		    t->mi.npieces, &w, &used), 1, "bad message at %zu", *off);
		*off += used;
		if (w.id != WIRE_EXTENDED || w.payload_len < 1 ||
		    w.payload[0] != THEIR_META_ID)
			continue;
		cr_assert_eq(ext_metadata_parse(w.payload + 1,
		    w.payload_len - 1, &m, &err), 0, "%s", err.msg);
		cr_assert_eq(m.type, EXT_METADATA_REQUEST);
		cr_assert_lt(n, max);
		pieces[n++] = m.piece;
	}
	return n;
}

/* ut_metadata piece `piece` of a dict of total bytes, junk data. */
static void
put_meta_piece(struct buf *in, uint32_t piece, size_t total)
{
	static uint8_t junk[EXT_METADATA_PIECE];
	size_t len = total - (size_t)piece * EXT_METADATA_PIECE;
	struct buf b;

	if (len > EXT_METADATA_PIECE)
		len = EXT_METADATA_PIECE;
	buf_init(&b, 1u << 20);
	cr_assert_eq(ext_metadata_data(&b, piece, (uint32_t)total, junk,
	    len), 0);
	put_ext(in, EXT_ID_UT_METADATA, b.data, b.len);
	buf_release(&b);
}

Test(pwp_ext, one_request_at_a_time_reasked_after_timeout, .init = fx_init,
    .fini = fx_fini)
{
	/* Four pieces, as an rTorrent seeder of a 50 KB info dict would
	 * announce.  rTorrent 0.9.8 stalls for good on a second request
	 * that arrives while it still sends its answer to the first, so
	 * one is asked at a time; one left unanswered is asked again. */
	const size_t total = 3 * EXT_METADATA_PIECE + 1000;
	struct fixture_run r;
	struct torrent *t;
	uint32_t got[8];
	size_t off = 0;
	struct peer *p;
	uint64_t at = NOW + 10;

	t = start_magnet(&r);
	p = ext_peer(t, 8);
	put_their_handshake(&p->in, total);
	torrent_peer_input(t, p, at);
	cr_assert_not(p->dead, "killed: %s", p->why);
	cr_assert_eq(t->md.npieces, 4);
	cr_assert_eq(meta_requests(t, p, &off, got, 8), 1);
	cr_assert_eq(got[0], 0);
	/* Nothing more on the tick while it is pending. */
	session_tick(r.s, at + 1000);
	cr_assert_eq(meta_requests(t, p, &off, got, 8), 0);
	/* Its answer brings the next request at once. */
	put_meta_piece(&p->in, 0, total);
	torrent_peer_input(t, p, at + 1100);
	cr_assert_not(p->dead, "killed: %s", p->why);
	cr_assert_eq(meta_requests(t, p, &off, got, 8), 1);
	cr_assert_eq(got[0], 1);
	at += 1100;
	/* Piece 1 goes unanswered: the same peer is asked again once the
	 * timeout has passed, not before. */
	session_tick(r.s, at + METADATA_TIMEOUT_MS - 1);
	cr_assert_eq(meta_requests(t, p, &off, got, 8), 0);
	session_tick(r.s, at + METADATA_TIMEOUT_MS);
	cr_assert_not(p->dead, "killed: %s", p->why);
	cr_assert_eq(meta_requests(t, p, &off, got, 8), 1);
	cr_assert_eq(got[0], 1);
	cr_assert_eq(p->meta_timeouts, 1);
	/* The answer to the first request still counts, late as it is,
	 * and the run of timeouts starts over. */
	put_meta_piece(&p->in, 1, total);
	torrent_peer_input(t, p, at + METADATA_TIMEOUT_MS + 5);
	cr_assert_not(p->dead, "killed: %s", p->why);
	cr_assert_eq(p->meta_timeouts, 0);
	cr_assert_eq(meta_requests(t, p, &off, got, 8), 1);
	cr_assert_eq(got[0], 2);
	fixture_stop(&r);
}

Test(pwp_ext, silent_peer_dropped_after_several_tries, .init = fx_init,
    .fini = fx_fini)
{
	const size_t total = 2 * EXT_METADATA_PIECE;
	struct fixture_run r;
	struct torrent *t;
	uint32_t got[8];
	size_t off = 0, i;
	struct peer *p;
	uint64_t at = NOW + 10;
	bool logged = false;
	enum log_level lv;

	t = start_magnet(&r);
	r.s->log.level = LOG_INFO;
	p = ext_peer(t, 9);
	put_their_handshake(&p->in, total);
	torrent_peer_input(t, p, at);
	cr_assert_eq(meta_requests(t, p, &off, got, 8), 1);
	for (i = 1; i < PWP_EXT_META_TRIES; i++) {
		session_tick(r.s, at + i * METADATA_TIMEOUT_MS);
		cr_assert_not(p->dead, "dropped after %zu tries: %s", i,
		    p->why);
		cr_assert_eq(meta_requests(t, p, &off, got, 8), 1,
		    "asked again after try %zu", i);
		cr_assert_eq(got[0], 0);
	}
	session_tick(r.s, at + i * METADATA_TIMEOUT_MS);
	cr_assert(p->dead);
	cr_assert_str_eq(p->why, "did not answer metadata requests");
	for (uint32_t k = 0; k < r.s->log.count; k++)
		logged |= strstr(log_line(&r.s->log, k, &lv),
		    "did not answer 3 metadata requests in a row") != NULL &&
		    lv == LOG_INFO;
	cr_assert(logged, "no info line about the silent peer");
	fixture_stop(&r);
}

Test(pwp_ext, bad_metadata_drops_the_sender, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	uint8_t *junk;

	t = start_magnet(&r);
	p = ext_peer(t, 3);
	put_their_handshake(&p->in, mi.info_len);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "killed: %s", p->why);
	junk = malloc(mi.info_len);
	memcpy(junk, mi.info, mi.info_len);
	junk[mi.info_len / 2] ^= 0x01;	/* right size, wrong hash */
	put_metadata(&p->in, junk, mi.info_len);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert(p->dead);
	cr_assert_str_eq(p->why, "sent bad metadata");
	cr_assert_not(t->have_meta);
	cr_assert_eq(t->phase, TORRENT_METADATA);
	free(junk);
	fixture_stop(&r);
}

Test(pwp_ext, unrequested_or_wrong_size_metadata_kills, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;

	t = start_magnet(&r);
	p = ext_peer(t, 4);
	put_their_handshake(&p->in, mi.info_len);
	torrent_peer_input(t, p, NOW + 10);
	/* A total_size other than the one it announced. */
	put_metadata(&p->in, mi.info, mi.info_len - 1);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert(p->dead);
	cr_assert_not(t->have_meta);
	fixture_stop(&r);
}

Test(pwp_ext, malformed_extension_messages_kill, .init = fx_init,
    .fini = fx_fini)
{
	static const char *const bad[] = {
		"not bencode", "li1ee", "d1:md11:ut_metadatai1ee",
	};
	struct fixture_run r;
	struct torrent *t;

	t = start_magnet(&r);
	for (size_t i = 0; i < 3; i++) {
		struct peer *p = ext_peer(t, (uint8_t)(10 + i));

		if (i < 2)
			put_ext(&p->in, EXT_ID_HANDSHAKE, bad[i],
			    strlen(bad[i]));
		else {
			put_their_handshake(&p->in, mi.info_len);
			/* ut_metadata with a bad dict */
			put_ext(&p->in, EXT_ID_UT_METADATA, "d8:msg_typei9ee",
			    15);
		}
		torrent_peer_input(t, p, NOW + 10);
		cr_assert(p->dead, "case %zu survived", i);
	}
	fixture_stop(&r);
}

Test(pwp_ext, our_metadata_served_and_rejected, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct torrent *t;
	struct ext_metadata_msg m;
	struct thr_error err;
	const uint8_t *rep;
	struct buf b;
	struct peer *p;
	size_t n;

	t = start_seed(&r);
	p = ext_peer(t, 5);
	put_their_handshake(&p->in, 0);
	buf_init(&b, 4096);
	cr_assert_eq(ext_metadata_request(&b, 0), 0);
	put_ext(&p->in, EXT_ID_UT_METADATA, b.data, b.len);
	buf_reset(&b);
	cr_assert_eq(ext_metadata_request(&b, 1), 0);	/* no such piece */
	put_ext(&p->in, EXT_ID_UT_METADATA, b.data, b.len);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "killed: %s", p->why);
	/* Our handshake announces the size; piece 0 is the info dict. */
	cr_assert_not_null(rep = find_ext(t, p, THEIR_META_ID, &n));
	cr_assert_eq(ext_metadata_parse(rep, n, &m, &err), 0, "%s", err.msg);
	cr_assert_eq(m.type, EXT_METADATA_DATA);
	cr_assert_eq(m.total_size, mi.info_len);
	cr_assert_eq(m.len, mi.info_len);
	cr_assert_eq(memcmp(m.data, mi.info, mi.info_len), 0);
	/* The second answer, after the first, is a reject of piece 1. */
	{
		size_t off = (size_t)(rep - p->out.data) + n, used;
		struct wire_msg w;

		cr_assert_eq(wire_parse(p->out.data + off, p->out.len - off,
		    t->mi.npieces, &w, &used), 1);
		cr_assert_eq(w.id, WIRE_EXTENDED);
		cr_assert_eq(ext_metadata_parse(w.payload + 1,
		    w.payload_len - 1, &m, &err), 0);
		cr_assert_eq(m.type, EXT_METADATA_REJECT);
		cr_assert_eq(m.piece, 1);
	}
	buf_release(&b);
	fixture_stop(&r);
}

Test(pwp_ext, pex_adds_known_peers_once_a_minute, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_addr added[2];
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	struct buf b;
	size_t before;

	t = start_seed(&r);
	p = ext_peer(t, 6);
	put_their_handshake(&p->in, 0);
	added[0] = fixture_addr4(10, 1, 6881);
	added[1] = fixture_addr4(10, 2, 6882);
	buf_init(&b, 4096);
	cr_assert_eq(ext_pex_build(&b, added, NULL, 2, NULL, 0), 0);
	before = t->ps.nknown;
	put_ext(&p->in, EXT_ID_UT_PEX, b.data, b.len);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_not(p->dead, "killed: %s", p->why);
	cr_assert_eq(t->ps.nknown, before + 2);
	cr_assert_eq(t->ps.known[before].source, PEER_SRC_PEX);
	/* Another one within the minute is ignored. */
	buf_reset(&b);
	added[0] = fixture_addr4(10, 3, 6883);
	cr_assert_eq(ext_pex_build(&b, added, NULL, 1, NULL, 0), 0);
	put_ext(&p->in, EXT_ID_UT_PEX, b.data, b.len);
	torrent_peer_input(t, p, NOW + 20);
	cr_assert_eq(t->ps.nknown, before + 2);
	buf_release(&b);
	fixture_stop(&r);
}

Test(pwp_ext, private_torrent_ignores_pex, .init = fx_init,
    .fini = fx_fini)
{
	struct thr_addr added = fixture_addr4(10, 1, 6881);
	struct fixture_run r;
	struct torrent *t;
	struct peer *p;
	struct buf b;
	size_t before;

	t = start_seed(&r);
	t->mi.is_private = true;
	p = ext_peer(t, 7);
	put_their_handshake(&p->in, 0);
	buf_init(&b, 4096);
	cr_assert_eq(ext_pex_build(&b, &added, NULL, 1, NULL, 0), 0);
	before = t->ps.nknown;
	put_ext(&p->in, EXT_ID_UT_PEX, b.data, b.len);
	torrent_peer_input(t, p, NOW + 10);
	cr_assert_eq(t->ps.nknown, before);
	buf_release(&b);
	fixture_stop(&r);
}

Test(pwp_ext, bad_magnet_is_one_line_error, .init = fx_init,
    .fini = fx_fini)
{
	struct fixture_run r;
	struct thr_error err;

	fixture_opts(&fx, &r);
	cr_assert_neq(magnet_try_start(&r, "magnet:?xt=urn:btih:1234&dn=x",
	    &err), 0);
	cr_assert_null(r.t);
	cr_assert_neq(err.msg[0], '\0');
	cr_assert_null(strchr(err.msg, '\n'));
	fixture_stop(&r);
}

/* --- Message Stream Encryption between two sessions ------------------- */

/* Move what `from` has for the wire into `to`'s input, as a socket would. */
static void
shuttle(struct torrent *a, struct peer *from, struct torrent *b,
    struct peer *to, uint64_t now)
{
	size_t n;

	torrent_peer_outgoing(a, from);
	n = from->out.len;
	if (n > 0) {
		cr_assert_eq(buf_append(&to->in, from->out.data, n), 0);
		buf_consume(&from->out, n);
		torrent_peer_sent(a, from, n, now);
		torrent_peer_input(b, to, now);
	}
}

/* Set by crypto_pair: the last connection did MSE, then plaintext. */
static bool crypto_obfuscated;

/* Two sessions on one torrent, A seeding and dialling B, which has
 * nothing; their connection goes through MSE as initiator and receiver. */
static void
crypto_pair(enum session_crypto ca, enum session_crypto cb, bool *a_ok,
    bool *b_ok, bool *encrypted)
{
	struct fixture_run ra, rb;
	struct torrent *a, *b;
	struct thr_addr addr_b = fixture_addr4(127, 9, 9999);
	struct thr_addr addr_a = fixture_addr4(127, 8, 8888);
	char dir_b[FIXTURE_PATH_LEN + 8];
	struct peer *pa, *pb;

	fixture_opts(&fx, &ra);
	ra.so.crypto = ca;
	ra.to.seed_ratio = -1;
	fixture_start(&ra, NOW);
	a = ra.t;
	fixture_check(a, NOW);
	snprintf(dir_b, sizeof(dir_b), "%s/dl2", root);
	fixture_opts(&fx, &rb);
	rb.place.dir = dir_b;
	rb.so.crypto = cb;
	rb.so.seed = 99;
	fixture_start(&rb, NOW);
	b = rb.t;
	fixture_check(b, NOW);
	cr_assert((ra.s->mse_ok || ca == SESSION_CRYPTO_OFF) &&
	    (rb.s->mse_ok || cb == SESSION_CRYPTO_OFF),
	    "RC4 from OpenSSL's legacy provider");

	cr_assert_not_null(pa = torrent_peer_add(a, &addr_b, false,
	    PEER_SRC_COUNT, PEER_TCP, NOW));
	cr_assert_not_null(pb = torrent_peer_add(b, &addr_a, true,
	    PEER_SRC_COUNT, PEER_TCP, NOW));
	torrent_peer_connected(a, pa, NOW);
	for (int i = 0; i < 20 && !pa->dead && !pb->dead; i++) {
		shuttle(a, pa, b, pb, NOW + 1);
		shuttle(b, pb, a, pa, NOW + 1);
	}
	*a_ok = !pa->dead && pa->phase == PEER_ACTIVE;
	*b_ok = !pb->dead && pb->phase == PEER_ACTIVE;
	*encrypted = pa->encrypted && pb->encrypted;
	/* The same method on both ends: plaintext after MSE is
	 * "obfuscated" on both or on neither. */
	cr_assert_eq(pa->obfuscated, pb->obfuscated);
	cr_assert_eq(pa->encrypted, pb->encrypted);
	crypto_obfuscated = pa->obfuscated;
	if (*b_ok) {
		/* A's pieces crossed the encrypted stream intact. */
		cr_assert_eq(pb->have.count, NPIECES);
		cr_assert(pb->am_interested);
	}
	fixture_stop(&ra);
	fixture_stop(&rb);
}

Test(pwcrypt, prefer_both_ways_is_obfuscated, .init = fx_init,
    .fini = fx_fini)
{
	bool a_ok, b_ok, enc;

	fixture_write_payload(&fx);
	crypto_pair(SESSION_CRYPTO_PREFER, SESSION_CRYPTO_PREFER, &a_ok,
	    &b_ok, &enc);
	cr_assert(a_ok && b_ok);
	cr_assert_not(enc, "prefer keeps the payload plaintext");
	cr_assert(crypto_obfuscated, "but the handshake went through MSE");
}

Test(pwcrypt, full_receiver_selects_rc4, .init = fx_init, .fini = fx_fini)
{
	bool a_ok, b_ok, enc;

	fixture_write_payload(&fx);
	/* The receiver selects: a full receiver takes RC4 from a prefer
	 * initiator, a prefer receiver plaintext from a full one. */
	crypto_pair(SESSION_CRYPTO_PREFER, SESSION_CRYPTO_FULL, &a_ok, &b_ok,
	    &enc);
	cr_assert(a_ok && b_ok);
	cr_assert(enc, "full picks RC4 when both offer it");
	crypto_pair(SESSION_CRYPTO_FULL, SESSION_CRYPTO_PREFER, &a_ok, &b_ok,
	    &enc);
	cr_assert(a_ok && b_ok);
	cr_assert_not(enc);
	cr_assert(crypto_obfuscated);
	crypto_pair(SESSION_CRYPTO_FULL, SESSION_CRYPTO_FULL, &a_ok, &b_ok,
	    &enc);
	cr_assert(a_ok && b_ok && enc);
}

Test(pwcrypt, require_meets_prefer, .init = fx_init, .fini = fx_fini)
{
	bool a_ok, b_ok, enc;

	fixture_write_payload(&fx);
	crypto_pair(SESSION_CRYPTO_REQUIRE, SESSION_CRYPTO_PREFER, &a_ok,
	    &b_ok, &enc);
	cr_assert(a_ok && b_ok && enc);
	crypto_pair(SESSION_CRYPTO_PREFER, SESSION_CRYPTO_REQUIRE, &a_ok,
	    &b_ok, &enc);
	cr_assert(a_ok && b_ok && enc);
}

Test(pwcrypt, off_and_require_do_not_meet, .init = fx_init,
    .fini = fx_fini)
{
	bool a_ok, b_ok, enc;

	fixture_write_payload(&fx);
	/* A dials in plaintext; B refuses it. */
	crypto_pair(SESSION_CRYPTO_OFF, SESSION_CRYPTO_REQUIRE, &a_ok, &b_ok,
	    &enc);
	cr_assert_not(b_ok, "a plaintext peer got through require");
	/* A dials encrypted; B, off, refuses that. */
	crypto_pair(SESSION_CRYPTO_REQUIRE, SESSION_CRYPTO_OFF, &a_ok, &b_ok,
	    &enc);
	cr_assert_not(b_ok, "an encrypted peer got through off");
}

Test(pwcrypt, plaintext_peer_accepted_by_prefer, .init = fx_init,
    .fini = fx_fini)
{
	bool a_ok, b_ok, enc;

	fixture_write_payload(&fx);
	crypto_pair(SESSION_CRYPTO_OFF, SESSION_CRYPTO_PREFER, &a_ok, &b_ok,
	    &enc);
	cr_assert(a_ok && b_ok);
	cr_assert_not(enc);
}
