/*
 * test_webseed.c: web seeds (BEP 19).  The url-list parse in metainfo,
 * the URLs the engine builds, and the engine as the session sees it: its
 * wire output (handshake, have all, unchoke, pieces), how requests turn
 * into range fetches (coalesced, split at file boundaries, at most
 * WEBSEED_MAX_SPANS in flight), and failures (back-off, choke, reject).
 * The torrents are built by hand: the engine reads only the layout.
 * Then the engine as a transport gives it to a torrent (core/torrent.h):
 * a whole download, and a seed that sends bad data banned.  Last, the
 * web seeds of a run (net/webnet.c): one pseudo-peer per url-list
 * entry, back-off on a refused request, reopening, bans, and when seeds
 * are used at all.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bencode.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/metainfo.h"
#include "core/peerset.h"
#include "core/session.h"
#include "core/torrent.h"
#include "core/webseed.h"
#include "core/wire.h"
#include "net/fileio.h"
#include "net/http.h"
#include "net/loop.h"
#include "net/webnet.h"
#include "net/xport.h"

#include "fixture.h"

#define PLEN	32768u		/* two blocks a piece */

static struct metainfo_file single_files[] = {
	{ "a b.bin", 5 * PLEN + 100, 0 },
};

/* Files of 40000, 0 and 90000 bytes: piece 1 crosses from the first
 * file to the third; the empty one must never be fetched. */
static struct metainfo_file multi_files[] = {
	{ "my dir/x y.txt", 40000, 0 },
	{ "my dir/empty", 0, 40000 },
	{ "my dir/sub/z%.bin", 90000, 40000 },
};

static void
mi_single(struct metainfo *mi)
{
	memset(mi, 0, sizeof(*mi));
	memset(mi->info_hash, 0xab, 20);
	mi->name = (char *)"a b.bin";
	mi->piece_length = PLEN;
	mi->total_length = single_files[0].length;
	mi->npieces = 6;
	mi->files = single_files;
	mi->nfiles = 1;
}

static void
mi_multi(struct metainfo *mi)
{
	memset(mi, 0, sizeof(*mi));
	memset(mi->info_hash, 0xcd, 20);
	mi->name = (char *)"my dir";
	mi->piece_length = PLEN;
	mi->total_length = 130000;
	mi->npieces = 4;	/* ceil(130000 / 32768) */
	mi->files = multi_files;
	mi->nfiles = 3;
	mi->multi = true;
}

/* --- url-list in metainfo ----------------------------------------------- */

static const char *single_head =
    "d8:announce0:4:infod6:lengthi3e4:name1:a12:piece lengthi16384e"
    "6:pieces20:aaaaaaaaaaaaaaaaaaaae";

static int
parse_with(const char *tail, struct metainfo *mi)
{
	char t[2048];
	struct thr_error err;

	snprintf(t, sizeof(t), "%s%se", single_head, tail);
	memset(&err, 0, sizeof(err));
	return metainfo_parse(mi, (const uint8_t *)t, strlen(t), &err);
}

Test(webseed, urllist_string)
{
	struct metainfo mi;

	cr_assert_eq(parse_with("8:url-list17:http://h/file.bin", &mi), 0);
	cr_assert_eq(mi.nwebseeds, 1);
	cr_assert_str_eq(mi.webseeds[0], "http://h/file.bin");
	metainfo_release(&mi);
}

Test(webseed, urllist_list_filters)
{
	struct metainfo mi;

	/* ftp, an integer, a list, a space, a duplicate: all skipped. */
	cr_assert_eq(parse_with("8:url-listl9:ftp://h/xi3el1:ae9:http://a/"
	    "9:http://a/10:https://b/10:http://a b9:HTTP://C/e", &mi), 0);
	cr_assert_eq(mi.nwebseeds, 3);
	cr_assert_str_eq(mi.webseeds[0], "http://a/");
	cr_assert_str_eq(mi.webseeds[1], "https://b/");
	cr_assert_str_eq(mi.webseeds[2], "HTTP://C/");
	metainfo_release(&mi);
}

Test(webseed, urllist_bad_type_and_cap)
{
	struct metainfo mi;
	char tail[1800];
	size_t n;

	cr_assert_eq(parse_with("8:url-listi5e", &mi), 0);
	cr_assert_eq(mi.nwebseeds, 0);
	metainfo_release(&mi);
	cr_assert_eq(parse_with("8:url-list0:", &mi), 0);
	cr_assert_eq(mi.nwebseeds, 0);
	metainfo_release(&mi);
	n = (size_t)snprintf(tail, sizeof(tail), "8:url-listl");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(tail + n, sizeof(tail) - n,
		    "11:http://h/%02d", i);
	snprintf(tail + n, sizeof(tail) - n, "e");
	cr_assert_eq(parse_with(tail, &mi), 0);
	cr_assert_eq(mi.nwebseeds, METAINFO_MAX_WEBSEEDS);
	cr_assert_str_eq(mi.webseeds[15], "http://h/15");
	metainfo_release(&mi);
}

/* --- URLs ---------------------------------------------------------------- */

Test(webseed, url_single)
{
	struct metainfo mi;
	struct buf b;

	mi_single(&mi);
	buf_init(&b, WEBSEED_URL_MAX);
	cr_assert_eq(webseed_url(&mi, "http://h/files/", 0, &b), 0);
	cr_assert_str_eq((char *)b.data, "http://h/files/a%20b.bin");
	cr_assert_eq(webseed_url(&mi, "http://h/exact.bin", 0, &b), 0);
	cr_assert_str_eq((char *)b.data, "http://h/exact.bin");
	cr_assert_eq(webseed_url(&mi, "http://h/", 1, &b), THR_EINVAL);
	buf_release(&b);
}

Test(webseed, url_multi_escapes_each_component)
{
	struct metainfo mi;
	struct buf b;

	mi_multi(&mi);
	buf_init(&b, WEBSEED_URL_MAX);
	cr_assert_eq(webseed_url(&mi, "http://h/t/", 0, &b), 0);
	cr_assert_str_eq((char *)b.data, "http://h/t/my%20dir/x%20y.txt");
	/* No trailing slash: one is added (BEP 19 wants a directory). */
	cr_assert_eq(webseed_url(&mi, "http://h/t", 2, &b), 0);
	cr_assert_str_eq((char *)b.data, "http://h/t/my%20dir/sub/z%25.bin");
	buf_release(&b);
}

Test(webseed, url_too_long)
{
	struct metainfo mi;
	struct buf b;
	char *base = malloc(WEBSEED_URL_MAX);

	cr_assert_not_null(base);
	memset(base, 'a', WEBSEED_URL_MAX - 1);
	base[WEBSEED_URL_MAX - 1] = '\0';
	memcpy(base, "http://", 7);
	base[WEBSEED_URL_MAX - 2] = '/';
	mi_single(&mi);
	buf_init(&b, WEBSEED_URL_MAX);
	cr_assert_eq(webseed_url(&mi, base, 0, &b), THR_ELIMIT);
	buf_release(&b);
	free(base);
}

/* --- the engine ---------------------------------------------------------- */

/* Everything the engine said so far, into b. */
static void
drain(struct webseed *w, struct buf *b)
{
	webseed_read(w, b, SIZE_MAX);
	cr_assert_eq(webseed_pending(w), 0);
}

/* Parse the next message of b at *off. */
static void
next_msg(const struct buf *b, size_t *off, uint32_t npieces,
    struct wire_msg *m)
{
	size_t used;

	cr_assert_eq(wire_parse(b->data + *off, b->len - *off, npieces, m,
	    &used), 1, "no whole message at %zu", *off);
	*off += used;
}

/* The session's side: its handshake and a request for each block. */
static void
session_says(struct webseed *w, struct buf *s, uint64_t now)
{
	size_t used;

	cr_assert_eq(webseed_input(w, s->data, s->len, &used, now), 0);
	cr_assert_eq(used, s->len);
	buf_reset(s);
}

static struct webseed *
engine(const struct metainfo *mi, struct buf *in, struct buf *s)
{
	struct thr_error err;
	struct webseed *w;
	uint8_t hs[WIRE_HANDSHAKE_LEN], id[20];

	memset(&err, 0, sizeof(err));
	w = webseed_new(mi, "http://seed.example:8080/d/", 3, 1000, &err);
	cr_assert_not_null(w, "%s", err.msg);
	buf_init(in, 4u << 20);
	buf_init(s, 1u << 20);
	memset(id, 'S', 20);
	wire_handshake_build(hs, mi->info_hash, id, NULL);
	cr_assert_eq(buf_append(s, hs, sizeof(hs)), 0);
	return w;
}

Test(webseed, greets_like_a_seed)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct wire_msg m;
	uint8_t ih[20], pid[20], rsv[8];
	size_t off = WIRE_HANDSHAKE_LEN;

	mi_single(&mi);
	w = engine(&mi, &in, &s);
	drain(w, &in);
	cr_assert_eq(wire_handshake_parse(in.data, ih, pid, rsv), 0);
	cr_assert_eq(memcmp(ih, mi.info_hash, 20), 0);
	cr_assert_eq(memcmp(pid, "-WS0100-000000000003", 20), 0);
	cr_assert(rsv[7] & 0x04, "fast extension bit");
	cr_assert_eq(rsv[5] & 0x10, 0, "no extension protocol");
	next_msg(&in, &off, mi.npieces, &m);
	cr_assert_eq(m.id, WIRE_HAVE_ALL);
	next_msg(&in, &off, mi.npieces, &m);
	cr_assert_eq(m.id, WIRE_UNCHOKE);
	cr_assert_eq(off, in.len);
	cr_assert_str_eq(webseed_host(w), "seed.example:8080");
	/* The session's handshake, bitfield, interested: nothing back. */
	wire_put_simple(&s, WIRE_INTERESTED);
	wire_put_simple(&s, WIRE_HAVE_NONE);
	session_says(w, &s, 1000);
	cr_assert_eq(webseed_pending(w), 0);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, host_strips_userinfo_and_escapes)
{
	struct metainfo mi;
	struct thr_error err;
	struct webseed *w;

	mi_single(&mi);
	w = webseed_new(&mi, "https://u:p@h\x01st/x?y", 0, 0, &err);
	cr_assert_not_null(w);
	cr_assert_str_eq(webseed_host(w), "h\\x01st");
	webseed_free(w);
}

Test(webseed, coalesces_and_frames_pieces)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct webseed_fetch job, job2;
	struct wire_msg m;
	uint8_t *body;
	size_t off;

	mi_single(&mi);
	w = engine(&mi, &in, &s);
	drain(w, &in);
	buf_reset(&in);
	/* Pieces 0 and 1, whole, and a lone block of piece 4. */
	for (uint32_t i = 0; i < 4; i++)
		wire_put_request(&s, WIRE_REQUEST, i / 2, (i % 2) * 16384,
		    16384);
	wire_put_request(&s, WIRE_REQUEST, 4, 16384, 16384);
	session_says(w, &s, 2000);
	cr_assert(webseed_next_fetch(w, 2000, &job));
	cr_assert_str_eq(job.url, "http://seed.example:8080/d/a%20b.bin");
	cr_assert_eq(job.offset, 0);
	cr_assert_eq(job.length, 4 * 16384);
	cr_assert_not(job.whole);
	cr_assert(webseed_next_fetch(w, 2000, &job2));
	cr_assert_eq(job2.offset, 4 * PLEN + 16384);
	cr_assert_eq(job2.length, 16384);
	cr_assert_eq(webseed_inflight(w), 2);
	body = malloc(4 * 16384);
	for (uint32_t i = 0; i < 4 * 16384; i++)
		body[i] = (uint8_t)(i * 7);
	/* Completion out of order: the second job first. */
	webseed_fetch_done(w, job2.id, 0, 206, body, 16384, 2100);
	webseed_fetch_done(w, job.id, 0, 206, body, 4 * 16384, 2200);
	drain(w, &in);
	off = 0;
	next_msg(&in, &off, mi.npieces, &m);
	cr_assert_eq(m.id, WIRE_PIECE);
	cr_assert_eq(m.index, 4);
	cr_assert_eq(m.begin, 16384);
	cr_assert_eq(m.payload_len, 16384);
	cr_assert_eq(memcmp(m.payload, body, 16384), 0);
	for (uint32_t i = 0; i < 4; i++) {
		next_msg(&in, &off, mi.npieces, &m);
		cr_assert_eq(m.id, WIRE_PIECE);
		cr_assert_eq(m.index, i / 2);
		cr_assert_eq(m.begin, (i % 2) * 16384);
		cr_assert_eq(memcmp(m.payload, body + i * 16384, 16384), 0);
	}
	cr_assert_eq(off, in.len);
	cr_assert_eq(webseed_inflight(w), 0);
	cr_assert_not(webseed_next_fetch(w, 2300, &job));
	free(body);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, coalesces_requests_in_any_order)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct webseed_fetch job;
	struct wire_msg m;
	uint8_t *body = calloc(1, 4 * 16384);
	size_t off;
	uint32_t id;

	cr_assert_not_null(body);
	mi_single(&mi);
	w = engine(&mi, &in, &s);
	drain(w, &in);
	buf_reset(&in);
	/* Backwards: each block ends where the span so far begins. */
	for (int i = 3; i >= 0; i--)
		wire_put_request(&s, WIRE_REQUEST, (uint32_t)i / 2,
		    ((uint32_t)i % 2) * 16384, 16384);
	session_says(w, &s, 2000);
	cr_assert(webseed_next_fetch(w, 2000, &job));
	cr_assert_eq(job.offset, 0);
	cr_assert_eq(job.length, 4 * 16384);
	id = job.id;
	cr_assert_not(webseed_next_fetch(w, 2000, &job),
	    "all four in one range");
	webseed_fetch_done(w, id, 0, 206, body, 4 * 16384, 2100);
	drain(w, &in);
	off = 0;
	for (uint32_t i = 0; i < 4; i++) {
		next_msg(&in, &off, mi.npieces, &m);
		cr_assert_eq(m.id, WIRE_PIECE);
		cr_assert_eq((uint64_t)m.index * PLEN + m.begin, i * 16384);
	}
	free(body);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, span_capped_at_max_and_two_in_flight)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct webseed_fetch job;
	static struct metainfo_file big[] = {
		{ "big", 200u * 16384, 0 },
	};

	mi_single(&mi);
	mi.files = big;
	mi.total_length = big[0].length;
	mi.piece_length = 16384;
	mi.npieces = 200;
	w = engine(&mi, &in, &s);
	for (uint32_t i = 0; i < 200; i++)
		wire_put_request(&s, WIRE_REQUEST, i, 0, 16384);
	session_says(w, &s, 2000);
	cr_assert(webseed_next_fetch(w, 2000, &job));
	cr_assert_eq(job.length, WEBSEED_MAX_SPAN);
	cr_assert_eq(job.offset, 0);
	cr_assert(webseed_next_fetch(w, 2000, &job));
	cr_assert_eq(job.offset, WEBSEED_MAX_SPAN);
	cr_assert_eq(job.length, WEBSEED_MAX_SPAN);
	cr_assert_not(webseed_next_fetch(w, 2000, &job), "bounded");
	cr_assert_eq(webseed_inflight(w), WEBSEED_MAX_SPANS);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, piece_across_files_is_split)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct webseed_fetch job;
	struct wire_msg m;
	uint8_t body[PLEN];
	size_t off;

	mi_multi(&mi);
	w = engine(&mi, &in, &s);
	drain(w, &in);
	buf_reset(&in);
	/* Piece 1 is torrent bytes 32768..65535: 7232 of the first file,
	 * then 25536 of the third. */
	wire_put_request(&s, WIRE_REQUEST, 1, 0, 16384);
	wire_put_request(&s, WIRE_REQUEST, 1, 16384, 16384);
	session_says(w, &s, 2000);
	cr_assert(webseed_next_fetch(w, 2000, &job));
	cr_assert_str_eq(job.url,
	    "http://seed.example:8080/d/my%20dir/x%20y.txt");
	cr_assert_eq(job.offset, 32768);
	cr_assert_eq(job.length, 40000 - 32768);
	/* One segment of a span at a time. */
	cr_assert_not(webseed_next_fetch(w, 2000, &job));
	for (uint32_t i = 0; i < PLEN; i++)
		body[i] = (uint8_t)(i ^ 0x5a);
	webseed_fetch_done(w, job.id, 0, 206, body, 40000 - 32768, 2100);
	cr_assert_eq(webseed_pending(w), 0);
	cr_assert(webseed_next_fetch(w, 2100, &job));
	cr_assert_str_eq(job.url,
	    "http://seed.example:8080/d/my%20dir/sub/z%25.bin");
	cr_assert_eq(job.offset, 0);
	cr_assert_eq(job.length, PLEN - (40000 - 32768));
	webseed_fetch_done(w, job.id, 0, 206, body + 40000 - 32768,
	    PLEN - (40000 - 32768), 2200);
	drain(w, &in);
	off = 0;
	for (uint32_t i = 0; i < 2; i++) {
		next_msg(&in, &off, mi.npieces, &m);
		cr_assert_eq(m.id, WIRE_PIECE);
		cr_assert_eq(m.index, 1);
		cr_assert_eq(memcmp(m.payload, body + i * 16384, 16384), 0);
	}
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, whole_file_may_answer_200)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct webseed_fetch job;
	uint8_t body[4];
	struct wire_msg m;
	size_t off = 0;
	static struct metainfo_file tiny[] = {
		{ "t", 4, 0 },
	};

	mi_single(&mi);
	mi.files = tiny;
	mi.total_length = 4;
	mi.npieces = 1;
	w = engine(&mi, &in, &s);
	drain(w, &in);
	buf_reset(&in);
	wire_put_request(&s, WIRE_REQUEST, 0, 0, 4);
	session_says(w, &s, 2000);
	cr_assert(webseed_next_fetch(w, 2000, &job));
	cr_assert(job.whole);
	memcpy(body, "abcd", 4);
	webseed_fetch_done(w, job.id, 0, 200, body, 4, 2100);
	drain(w, &in);
	next_msg(&in, &off, mi.npieces, &m);
	cr_assert_eq(m.id, WIRE_PIECE);
	cr_assert_eq(m.payload_len, 4);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

/* Expect CHOKE then a REJECT per block, in order. */
static void
expect_choke_rejects(const struct buf *in, uint32_t npieces,
    const uint32_t *index, size_t n)
{
	struct wire_msg m;
	size_t off = 0;

	next_msg(in, &off, npieces, &m);
	cr_assert_eq(m.id, WIRE_CHOKE);
	for (size_t i = 0; i < n; i++) {
		next_msg(in, &off, npieces, &m);
		cr_assert_eq(m.id, WIRE_REJECT);
		cr_assert_eq(m.index, index[i]);
	}
	cr_assert_eq(off, in->len);
}

static void
fail_case(long code, int status, size_t len, bool whole)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct webseed_fetch job;
	uint8_t body[16384 + 1];
	uint32_t want[] = { 0, 2, 3 };

	memset(body, 0, sizeof(body));
	mi_single(&mi);
	w = engine(&mi, &in, &s);
	drain(w, &in);
	buf_reset(&in);
	wire_put_request(&s, WIRE_REQUEST, 0, 0, 16384);
	wire_put_request(&s, WIRE_REQUEST, 2, 0, 16384);
	wire_put_request(&s, WIRE_REQUEST, 3, 0, 16384);
	session_says(w, &s, 2000);
	cr_assert(webseed_next_fetch(w, 2000, &job));
	(void)whole;
	webseed_fetch_done(w, job.id, status, code, status == 0 ? body : NULL,
	    len, 2100);
	drain(w, &in);
	/* The span of piece 0, then the queued request; piece 2 and 3
	 * form a second span not started yet (it is in the queue). */
	expect_choke_rejects(&in, mi.npieces, want, 3);
	cr_assert_eq(webseed_failures(w), 1);
	cr_assert_eq(webseed_backoff_until(w), 2100 + WEBSEED_BACKOFF_MS);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, short_body_fails)
{
	fail_case(206, 0, 16383, false);
}

Test(webseed, long_body_fails)
{
	fail_case(206, 0, 16385, false);
}

Test(webseed, status_200_for_a_range_fails)
{
	fail_case(200, 0, 16384, false);
}

Test(webseed, transfer_error_fails)
{
	fail_case(0, THR_EIO, 0, false);
}

Test(webseed, backoff_doubles_bounded_then_unchokes)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct webseed_fetch job;
	struct wire_msg m;
	uint64_t now = 2000, wait = WEBSEED_BACKOFF_MS;
	size_t off;
	uint32_t one[] = { 5 };

	mi_single(&mi);
	w = engine(&mi, &in, &s);
	session_says(w, &s, now);
	drain(w, &in);
	for (int round = 0; round < 8; round++) {
		buf_reset(&in);
		wire_put_request(&s, WIRE_REQUEST, 5, 0, 100);
		session_says(w, &s, now);
		cr_assert(webseed_next_fetch(w, now, &job));
		webseed_fetch_done(w, job.id, THR_EIO, 0, NULL, 0, now);
		drain(w, &in);
		expect_choke_rejects(&in, mi.npieces, one, 1);
		cr_assert_eq(webseed_backoff_until(w), now + wait);
		/* Choked: a request is rejected at once, nothing fetched. */
		buf_reset(&in);
		wire_put_request(&s, WIRE_REQUEST, 5, 0, 100);
		session_says(w, &s, now + 1);
		cr_assert_not(webseed_next_fetch(w, now + 1, &job));
		webseed_tick(w, now + wait - 1);
		drain(w, &in);
		off = 0;
		next_msg(&in, &off, mi.npieces, &m);
		cr_assert_eq(m.id, WIRE_REJECT);
		cr_assert_eq(off, in.len, "no unchoke before the end");
		buf_reset(&in);
		now += wait;
		webseed_tick(w, now);
		drain(w, &in);
		off = 0;
		next_msg(&in, &off, mi.npieces, &m);
		cr_assert_eq(m.id, WIRE_UNCHOKE);
		wait = wait * 2 > WEBSEED_BACKOFF_MAX_MS ?
		    WEBSEED_BACKOFF_MAX_MS : wait * 2;
	}
	cr_assert_eq(webseed_failures(w), 8);
	/* A success resets the back-off. */
	buf_reset(&in);
	wire_put_request(&s, WIRE_REQUEST, 5, 0, 100);
	session_says(w, &s, now);
	cr_assert(webseed_next_fetch(w, now, &job));
	{
		uint8_t b[100] = { 0 };
		webseed_fetch_done(w, job.id, 0, 206, b, 100, now);
	}
	cr_assert_eq(webseed_failures(w), 0);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, stale_job_and_cancel)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct webseed_fetch job;
	struct wire_msg m;
	uint8_t body[32768];
	size_t off = 0;

	memset(body, 1, sizeof(body));
	mi_single(&mi);
	w = engine(&mi, &in, &s);
	drain(w, &in);
	buf_reset(&in);
	wire_put_request(&s, WIRE_REQUEST, 0, 0, 16384);
	wire_put_request(&s, WIRE_REQUEST, 0, 16384, 16384);
	wire_put_request(&s, WIRE_REQUEST, 3, 0, 16384);
	session_says(w, &s, 2000);
	cr_assert(webseed_next_fetch(w, 2000, &job));
	/* Cancel one block in flight and the queued one. */
	wire_put_request(&s, WIRE_CANCEL, 0, 16384, 16384);
	wire_put_request(&s, WIRE_CANCEL, 3, 0, 16384);
	session_says(w, &s, 2000);
	webseed_fetch_done(w, job.id + 100, 0, 206, body, 32768, 2050);
	cr_assert_eq(webseed_pending(w), 0, "unknown job ignored");
	webseed_fetch_done(w, job.id, 0, 206, body, 32768, 2100);
	drain(w, &in);
	next_msg(&in, &off, mi.npieces, &m);
	cr_assert_eq(m.id, WIRE_PIECE);
	cr_assert_eq(m.begin, 0);
	cr_assert_eq(off, in.len, "the cancelled block is not sent");
	cr_assert_not(webseed_next_fetch(w, 2200, &job), "queue cancelled");
	/* The same job id again: ignored. */
	webseed_fetch_done(w, job.id, 0, 206, body, 32768, 2300);
	cr_assert_eq(webseed_pending(w), 0);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, bad_requests_rejected_and_queue_bounded)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct wire_msg m;
	size_t off = 0;
	uint32_t rejects = 0;

	mi_single(&mi);
	w = engine(&mi, &in, &s);
	session_says(w, &s, 2000);
	drain(w, &in);
	buf_reset(&in);
	/* Past the last piece's end, and index out of range. */
	wire_put_request(&s, WIRE_REQUEST, 5, 0, 16384);
	wire_put_request(&s, WIRE_REQUEST, 9, 0, 16384);
	session_says(w, &s, 2000);
	for (uint32_t i = 0; i < WEBSEED_MAX_QUEUED + 5; i++) {
		wire_put_request(&s, WIRE_REQUEST, i % 5, 0, 16);
		session_says(w, &s, 2000);
	}
	drain(w, &in);
	while (off < in.len) {
		next_msg(&in, &off, mi.npieces, &m);
		cr_assert_eq(m.id, WIRE_REJECT);
		rejects++;
	}
	cr_assert_eq(rejects, 2 + 5);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, keepalive_when_idle)
{
	struct metainfo mi;
	struct buf in, s;
	struct webseed *w;
	struct wire_msg m;
	size_t off = 0;

	mi_single(&mi);
	w = engine(&mi, &in, &s);
	drain(w, &in);
	buf_reset(&in);
	webseed_tick(w, 1000 + WEBSEED_KEEPALIVE_MS - 1);
	cr_assert_eq(webseed_pending(w), 0);
	webseed_tick(w, 1000 + WEBSEED_KEEPALIVE_MS);
	drain(w, &in);
	next_msg(&in, &off, mi.npieces, &m);
	cr_assert(m.keepalive);
	webseed_free(w);
	buf_release(&in);
	buf_release(&s);
}

Test(webseed, read_respects_destination_cap)
{
	struct metainfo mi;
	struct webseed *w;
	struct thr_error err;
	struct buf small;

	mi_single(&mi);
	w = webseed_new(&mi, "http://h/", 0, 0, &err);
	cr_assert_not_null(w);
	buf_init(&small, 10);
	cr_assert_eq(webseed_read(w, &small, SIZE_MAX), 10);
	cr_assert_eq(webseed_pending(w), WIRE_HANDSHAKE_LEN + 5 + 5 - 10);
	cr_assert_eq(webseed_read(w, &small, SIZE_MAX), 0);
	buf_release(&small);
	webseed_free(w);
}

/* --- through the session ------------------------------------------------- */

/*
 * The engine as net/webnet.c drives it, against a real session and
 * torrent (core/session.h, core/torrent.h) on a fixture torrent on disk:
 * "pay/a.bin" (40000 bytes), "pay/empty" and "pay/sub/c.bin" (70001
 * bytes), pieces of 16 KiB, so piece 2 crosses from a.bin to c.bin.
 * The pump below is what the transport seam does for a web seed
 * (net/xport.c's pump over webnet.c's operations), with the HTTP side
 * answered at once from the payload instead of by libcurl; a real web
 * server is tests/interop/webseed_nginx.sh.
 */
#define SX_TOTAL	(40000u + 70001u)
#define SX_NOW		1000000u

static const struct fixture_file sx_files[] = {
	{ { "a.bin", NULL }, 40000, 0 },
	{ { "empty", NULL }, 0, 40000 },
	{ { "sub", "c.bin" }, 70001, 40000 },
};
static char	 sx_root[FIXTURE_ROOT_LEN];
static char	 sx_dl[FIXTURE_PATH_LEN];
static char	 sx_torrent[FIXTURE_PATH_LEN];
static uint8_t	 sx_payload[SX_TOTAL];
static const struct fixture sx = FIXTURE_OVER(sx_files, 16384, sx_payload,
    sx_root, sx_dl, sx_torrent);

static void
sx_init(void)
{
	fixture_init(&sx, "/tmp/thr-webseed-XXXXXX", 0x77);
	fixture_write_torrent(&sx);
}

static void
sx_fini(void)
{
	fixture_fini(&sx);
}

/* The body of a job: the payload bytes its URL and range name, with a
 * byte flipped in every 16 KiB when corrupt. */
static void
sx_answer(const struct torrent *t, struct webseed *w,
    const struct webseed_fetch *job, bool corrupt, uint64_t now)
{
	struct buf u;
	uint8_t *body;
	size_t f;

	buf_init(&u, WEBSEED_URL_MAX);
	for (f = 0; f < t->mi.nfiles; f++) {
		cr_assert_eq(webseed_url(&t->mi, "http://h/", f, &u), 0);
		if (strcmp((char *)u.data, job->url) == 0)
			break;
	}
	buf_release(&u);
	cr_assert_lt(f, t->mi.nfiles, "no file for %s", job->url);
	cr_assert_neq(t->mi.files[f].length, 0, "an empty file asked for");
	cr_assert_leq(job->offset + job->length, t->mi.files[f].length);
	body = malloc(job->length);
	cr_assert_not_null(body);
	memcpy(body, sx_payload + t->mi.files[f].offset + job->offset,
	    job->length);
	for (uint64_t k = 0; corrupt && k < job->length; k += 16384)
		body[k] ^= 0xff;
	webseed_fetch_done(w, job->id, 0, 206, body, job->length, now);
	free(body);
}

/* One pump of the web seed's connection: what the session wrote goes to
 * the engine (the transport's write), the engine's range requests are
 * answered, and what the engine says goes back to the session (the
 * transport's read). */
static void
sx_pump(struct torrent *t, struct peer *p, struct webseed *w, bool corrupt,
    uint64_t now)
{
	struct webseed_fetch job;
	size_t used;

	if (p->out.len > 0) {
		torrent_peer_outgoing(t, p);
		cr_assert_eq(webseed_input(w, p->out.data, p->out.len, &used,
		    now), 0);
		buf_consume(&p->out, used);
		torrent_peer_sent(t, p, used, now);
	}
	webseed_tick(w, now);
	while (webseed_next_fetch(w, now, &job))
		sx_answer(t, w, &job, corrupt, now);
	while (!p->dead && webseed_read(w, &p->in, PEER_READ_CHUNK) > 0)
		torrent_peer_input(t, p, now);
}

/* The session's tick, when the pump loop says so, and the peers it
 * wrote to for another peer's sake, which the transport would flush
 * (the web seed is pumped anyway). */
static void
sx_tick(struct fixture_run *r, uint64_t now)
{
	uint32_t ids[64];

	(void)session_tick(r->s, now);
	while (torrent_take_dirty(r->t, ids, 64) > 0)
		;
}

/* A session with --encryption require (which is about peers, not web
 * seeds) and the web seed's pseudo-peer at 0.0.0.1:1, connected as
 * webnet.c connects it. */
static struct peer *
sx_start(struct fixture_run *r, struct webseed **w)
{
	struct thr_addr a = fixture_addr4(0, 1, 1);
	struct thr_error err;
	struct peer *p;

	fixture_opts(&sx, r);
	r->so.crypto = SESSION_CRYPTO_REQUIRE;
	fixture_start(r, SX_NOW);
	fixture_check(r->t, SX_NOW);
	cr_assert_eq(r->t->phase, TORRENT_DOWNLOADING);
	p = torrent_peer_add(r->t, &a, false, PEER_SRC_WEB, PEER_WEB, SX_NOW);
	cr_assert_not_null(p);
	cr_assert_eq(p->transport, PEER_WEB);
	cr_assert_eq(p->source, PEER_SRC_WEB);
	memset(&err, 0, sizeof(err));
	*w = webseed_new(&r->t->mi, "http://h/", 0, SX_NOW, &err);
	cr_assert_not_null(*w, "%s", err.msg);
	p->listen_port = 0;
	torrent_peer_connected(r->t, p, SX_NOW);
	cr_assert_not(p->dead, "%s", p->why);
	cr_assert_eq(p->phase, PEER_HANDSHAKE, "no MSE for a web seed");
	cr_assert_null(p->mse);
	return p;
}

Test(webseed, session_downloads_everything, .init = sx_init,
    .fini = sx_fini)
{
	struct fixture_run r;
	struct webseed *w;
	struct peer *p;
	uint64_t now = SX_NOW;

	p = sx_start(&r, &w);
	for (int i = 0; i < 200 && !torrent_complete(r.t); i++) {
		sx_pump(r.t, p, w, false, now);
		/* Once complete, the session drops it: both are seeds. */
		cr_assert(!p->dead || torrent_complete(r.t), "%s", p->why);
		if (i % 10 == 0)
			sx_tick(&r, now);
		now += 100;
	}
	cr_assert(torrent_complete(r.t));
	cr_assert_eq(p->phase, PEER_ACTIVE);
	cr_assert(p->fast);
	cr_assert_eq(r.t->hash_fails, 0);
	cr_assert_eq(p->downloaded, SX_TOTAL);
	fixture_stop(&r);
	webseed_free(w);
}

Test(webseed, session_bans_corrupt_seed, .init = sx_init, .fini = sx_fini)
{
	struct fixture_run r;
	struct webseed *w;
	struct peer *p;
	struct thr_addr a = fixture_addr4(0, 1, 1);
	uint64_t now = SX_NOW;

	p = sx_start(&r, &w);
	for (int i = 0; i < 200 && !p->dead; i++) {
		sx_pump(r.t, p, w, true, now);
		if (i % 10 == 0)
			sx_tick(&r, now);
		now += 100;
	}
	cr_assert(p->dead);
	cr_assert_geq(p->strikes, TORRENT_MAX_STRIKES);
	cr_assert(peerset_banned(&r.t->ps, &a));
	/* Another seed, at its own made-up address, is not banned. */
	a = fixture_addr4(0, 2, 2);
	cr_assert_not(peerset_banned(&r.t->ps, &a));
	cr_assert_eq(r.t->have.count, 0);
	fixture_stop(&r);
	webseed_free(w);
}

/* --- net/webnet.c -------------------------------------------------------- */

/*
 * Web seeds as transports of a run: webnet opens one pseudo-peer per
 * url-list entry of a downloading torrent, carries the session's bytes
 * to the engine and its range requests to libcurl over a real loop.
 * The seeds' URLs name a port on 127.0.0.1 held by a socket that is
 * bound but not listening, so every request is refused at once and
 * nothing leaves the machine; the download itself, against a real web
 * server, is tests/interop/webseed_nginx.sh.
 */
#define WN_SEEDS	2

static int	 wn_sock = -1;
static uint16_t	 wn_port;

/* Append a url-list of WN_SEEDS entries to the fixture's torrent file
 * (the key sorts after "info", the last one the fixture writes). */
static void
wn_add_urllist(const char *path)
{
	struct thr_error err;
	char url[64];
	struct buf b;
	FILE *fp;

	buf_init(&b, 1u << 20);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(fileio_read(path, 1u << 20, &b, &err), 0, "%s", err.msg);
	cr_assert_eq(b.data[b.len - 1], 'e');
	b.len--;	/* reopen the top dictionary */
	bencode_put_cstr(&b, "url-list");
	bencode_put_list(&b);
	for (int i = 0; i < WN_SEEDS; i++) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/s%d/",
		    (unsigned)wn_port, i);
		bencode_put_cstr(&b, url);
	}
	bencode_put_end(&b);
	cr_assert_eq(bencode_put_end(&b), 0);
	cr_assert_not_null(fp = fopen(path, "wb"));
	cr_assert_eq(fwrite(b.data, 1, b.len, fp), b.len);
	cr_assert_eq(fclose(fp), 0);
	buf_release(&b);
}

static void
wn_init(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	/* Only loopback traffic: never route through a configured proxy. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	cr_assert_geq(wn_sock = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(wn_sock, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(wn_sock, (struct sockaddr *)&sin, &sl), 0);
	wn_port = ntohs(sin.sin_port);
	sx_init();
	wn_add_urllist(sx_torrent);
}

static void
wn_fini(void)
{
	sx_fini();
	if (wn_sock >= 0)
		close(wn_sock);
	wn_sock = -1;
	curl_global_cleanup();
}

/* A run's network side over r's session: loop, HTTP, transports (no
 * dialling: the torrent's tracker is nobody), web seeds. */
struct wn_net {
	struct loop	*l;
	struct http	*h;
	struct xnet	*xn;
	struct webnet	*w;
};

static void
wn_net_new(struct wn_net *n, struct fixture_run *r)
{
	cr_assert_not_null(n->l = calloc(1, sizeof(*n->l)));
	loop_init(n->l);
	cr_assert_not_null(n->h = http_new(n->l));
	cr_assert_not_null(n->xn = xnet_new(r->s, n->l));
	xnet_stop_dialling(n->xn);
	cr_assert_not_null(n->w = webnet_new(r->s, n->xn, n->h));
}

/* As run.c ends: the transports first (each web seed's close cancels
 * its requests), then the web seeds, HTTP and the loop. */
static void
wn_net_free(struct wn_net *n)
{
	xnet_free(n->xn);
	webnet_free(n->w);
	http_free(n->h);
	free(n->l);
}

/* The peer of torrent t at 0.0.0.(i+1):(i+1), or NULL. */
static struct peer *
wn_seed(const struct torrent *t, int i)
{
	struct thr_addr a = fixture_addr4(0, (uint8_t)(i + 1),
	    (uint16_t)(i + 1));

	for (size_t k = 0; k < t->ps.npeers; k++)
		if (addr_equal(&t->ps.peers[k]->addr, &a))
			return t->ps.peers[k];
	return NULL;
}

/* Every seed has choked us, or one is gone (which the caller checks). */
static bool
wn_all_choked(const struct torrent *t)
{
	for (int i = 0; i < WN_SEEDS; i++) {
		const struct peer *p = wn_seed(t, i);

		if (p != NULL && !p->peer_choking)
			return false;
	}
	return true;
}

/* The newest log line holding needle, or NULL. */
static const char *
wn_logged(const struct session *s, const char *needle)
{
	for (uint32_t i = s->log.count; i-- > 0; ) {
		enum log_level lv;
		const char *line = log_line(&s->log, i, &lv);

		if (line != NULL && strstr(line, needle) != NULL)
			return line;
	}
	return NULL;
}

/*
 * Each seed becomes a peer at its own made-up address that nobody can
 * dial, greets as a seed through the engine, and is asked for blocks;
 * a refused request chokes it and backs off (logged), without closing
 * it.
 */
Test(webseed, webnet_opens_each_seed_and_backs_off, .init = wn_init,
    .fini = wn_fini)
{
	struct fixture_run r;
	struct wn_net n;
	struct peer *p;
	char host[32];
	uint64_t now = loop_now_ms(), start;

	fixture_opts(&sx, &r);
	r.so.log_level = LOG_INFO;
	fixture_start(&r, now);
	fixture_check(r.t, now);
	cr_assert_eq(r.t->mi.nwebseeds, WN_SEEDS);
	wn_net_new(&n, &r);
	webnet_pump(n.w, now);
	cr_assert_eq(r.t->ps.npeers, WN_SEEDS);
	cr_assert_eq(xnet_count(n.xn), WN_SEEDS);
	snprintf(host, sizeof(host), "127.0.0.1:%u", (unsigned)wn_port);
	for (int i = 0; i < WN_SEEDS; i++) {
		cr_assert_not_null(p = wn_seed(r.t, i), "seed %d", i);
		cr_assert_eq(p->transport, PEER_WEB);
		cr_assert_eq(p->source, PEER_SRC_WEB);
		cr_assert_eq(p->listen_port, 0, "kept out of pex");
		cr_assert_str_eq(p->host, host);
	}
	cr_assert_not_null(wn_logged(r.s, "using HTTP range requests"));
	/* Opened seeds are not opened twice. */
	webnet_pump(n.w, now);
	cr_assert_eq(r.t->ps.npeers, WN_SEEDS);

	/* One pump: the handshakes both ways, have-all, unchoke, and our
	 * requests, which become range requests. */
	xnet_step(n.xn, now, false);
	for (int i = 0; i < WN_SEEDS; i++) {
		p = wn_seed(r.t, i);
		cr_assert_not(p->dead, "%s", p->why);
		cr_assert_eq(p->phase, PEER_ACTIVE);
		cr_assert_str_eq(p->client, "web seed");
		cr_assert(bitfield_full(&p->have));
		cr_assert(p->am_interested);
		cr_assert_not(p->peer_choking);
		cr_assert_gt(p->nreqs, 0);
	}

	/* The server refuses: each seed chokes us and backs off. */
	start = loop_now_ms();
	while (loop_now_ms() - start < 20000 && !wn_all_choked(r.t)) {
		cr_assert_eq(loop_run_once(n.l, 50), 0);
		xnet_step(n.xn, loop_now_ms(), false);
	}
	for (int i = 0; i < WN_SEEDS; i++) {
		p = wn_seed(r.t, i);
		cr_assert_not_null(p, "seed %d closed", i);
		cr_assert(p->peer_choking, "seed %d", i);
		cr_assert_eq(p->nreqs, 0, "rejected, not left waiting");
		cr_assert_not(p->dead, "%s", p->why);
	}
	cr_assert_not_null(wn_logged(r.s, "; retrying in 30 s"));
	cr_assert_eq(r.t->downloaded, 0);
	wn_net_free(&n);
	fixture_stop(&r);
}

/* A seed that closed comes back after WEBNET_RETRY_MS; one banned for
 * bad data never does. */
Test(webseed, webnet_reopens_closed_seeds_but_not_banned, .init = wn_init,
    .fini = wn_fini)
{
	struct fixture_run r;
	struct wn_net n;
	struct thr_addr a = fixture_addr4(0, 1, 1);
	struct peer *p;
	uint64_t now = loop_now_ms();

	fixture_opts(&sx, &r);
	r.so.log_level = LOG_INFO;
	fixture_start(&r, now);
	fixture_check(r.t, now);
	wn_net_new(&n, &r);
	webnet_pump(n.w, now);
	xnet_step(n.xn, now, false);
	cr_assert_eq(r.t->ps.npeers, WN_SEEDS);
	/* The first is banned (as after its strikes), the second just
	 * closes; the transports see it on the next pass. */
	peerset_ban(&r.t->ps, &a);
	peer_kill(wn_seed(r.t, 0), "bad data");
	peer_kill(wn_seed(r.t, 1), "closed");
	xnet_step(n.xn, loop_now_ms(), true);
	cr_assert_eq(r.t->ps.npeers, 0);
	cr_assert_eq(xnet_count(n.xn), 0);
	cr_assert_not_null(wn_logged(r.s, "dropped: it sent bad data"));
	now = loop_now_ms();
	webnet_pump(n.w, now);
	cr_assert_eq(r.t->ps.npeers, 0, "not before the retry time");
	webnet_pump(n.w, now + WEBNET_RETRY_MS);
	cr_assert_eq(r.t->ps.npeers, 1);
	cr_assert_null(wn_seed(r.t, 0), "banned: never again");
	cr_assert_not_null(p = wn_seed(r.t, 1));
	cr_assert_eq(p->transport, PEER_WEB);
	webnet_pump(n.w, now + 10 * WEBNET_RETRY_MS);
	cr_assert_eq(r.t->ps.npeers, 1);
	wn_net_free(&n);
	fixture_stop(&r);
}

/* Web seeds serve a running download: none while it is paused. */
Test(webseed, webnet_waits_while_paused, .init = wn_init, .fini = wn_fini)
{
	struct fixture_run r;
	struct wn_net n;
	uint64_t now = loop_now_ms();

	fixture_opts(&sx, &r);
	fixture_start(&r, now);
	fixture_check(r.t, now);
	wn_net_new(&n, &r);
	torrent_set_paused(r.t, true, "test");
	webnet_pump(n.w, now);
	cr_assert_eq(r.t->ps.npeers, 0);
	torrent_set_paused(r.t, false, "test");
	webnet_pump(n.w, now);
	cr_assert_eq(r.t->ps.npeers, WN_SEEDS);
	wn_net_free(&n);
	fixture_stop(&r);
}

/* The same torrent with all its data: seeding, no web seeds. */
Test(webseed, webnet_not_for_a_seed, .init = wn_init, .fini = wn_fini)
{
	struct fixture_run r;
	struct wn_net n;
	uint64_t now = loop_now_ms();

	fixture_write_payload(&sx);
	fixture_opts(&sx, &r);
	fixture_start(&r, now);
	fixture_check(r.t, now);
	cr_assert_eq(r.t->phase, TORRENT_SEEDING);
	wn_net_new(&n, &r);
	webnet_pump(n.w, now);
	cr_assert_eq(r.t->ps.npeers, 0);
	wn_net_free(&n);
	fixture_stop(&r);
}
