/*
 * test_memswarm.c: a whole download between two sessions in memory: the
 * core as it runs in the program (session, torrent, wire protocol, MSE,
 * intake, choker), with memory stores (core/memstore.h), an in-process
 * transport that moves bytes from one peer's output to the other's
 * input, and a virtual clock.  No socket, no file, no real time.
 *
 * Each step of the clock (MS_STEP virtual milliseconds) moves at most
 * LINK_BYTES each way, then runs the session's tick when it is due, as
 * the program's loop would.  The trace of both sessions goes to memory,
 * so runs can be compared byte for byte.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bencode.h"
#include "core/hash.h"
#include "core/memstore.h"
#include "core/session.h"
#include "core/torrent.h"

#define PLEN		16384u
#define TOTAL		(1048576u + 5000u)	/* 65 pieces, the last short */
#define MS_STEP		10u
#define LINK_BYTES	(64u << 10)	/* per step each way: 6.4 MB/s */
#define MAX_STEPS	20000u		/* 200 virtual seconds */

/* A trace in memory. */
struct memtrace {
	struct buf	b;
};

static int
memtrace_write(void *ctx, const char *line, size_t len)
{
	return buf_append(&((struct memtrace *)ctx)->b, line, len);
}

/* One side of the swarm. */
struct side {
	struct session	*s;
	struct torrent	*t;
	struct memstore	*m;
	struct peer	*p;		/* its connection to the other */
	uint64_t	 next_tick;
};

static uint8_t	 payload[TOTAL];
static struct buf torrent_bytes;

static void
make_payload(void)
{
	uint64_t x = 0x243f6a8885a308d3ULL;

	for (size_t i = 0; i < TOTAL; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		payload[i] = (uint8_t)x;
	}
}

/* The .torrent of the payload, in memory. */
static void
make_torrent(void)
{
	uint32_t n = (TOTAL + PLEN - 1) / PLEN;
	uint8_t *h = malloc((size_t)n * 20);

	cr_assert_not_null(h);
	for (uint32_t i = 0; i < n; i++) {
		size_t at = (size_t)i * PLEN;

		hash_sha1(payload + at, TOTAL - at < PLEN ? TOTAL - at : PLEN,
		    h + 20 * i);
	}
	buf_init(&torrent_bytes, 1u << 20);
	bencode_put_dict(&torrent_bytes);
	bencode_put_cstr(&torrent_bytes, "info");
	bencode_put_dict(&torrent_bytes);
	bencode_put_cstr(&torrent_bytes, "length");
	bencode_put_int(&torrent_bytes, TOTAL);
	bencode_put_cstr(&torrent_bytes, "name");
	bencode_put_cstr(&torrent_bytes, "mem.bin");
	bencode_put_cstr(&torrent_bytes, "piece length");
	bencode_put_int(&torrent_bytes, PLEN);
	bencode_put_cstr(&torrent_bytes, "pieces");
	bencode_put_str(&torrent_bytes, h, (size_t)n * 20);
	bencode_put_end(&torrent_bytes);
	cr_assert_eq(bencode_put_end(&torrent_bytes), 0);
	free(h);
}

static void
side_init(struct side *sd, uint64_t seed, bool seeder, struct memtrace *tr,
    uint64_t now)
{
	struct session_opts so;
	struct torrent_opts to;
	struct thr_error err;

	memset(&so, 0, sizeof(so));
	so.seed = seed;
	so.log_level = LOG_ERROR;
	so.trace.write = memtrace_write;
	so.trace.ctx = tr;
	so.crypto = SESSION_CRYPTO_PREFER;
	so.transport = SESSION_TRANSPORT_TCP;
	cr_assert_not_null(sd->s = session_new(&so, now, &err), "%s",
	    err.msg);
	sd->m = memstore_new(seeder ? payload : NULL, TOTAL, seeder);
	cr_assert_not_null(sd->m);
	memset(&to, 0, sizeof(to));
	to.metainfo = torrent_bytes.data;
	to.metainfo_len = torrent_bytes.len;
	to.seed_ratio = 0;
	to.store = memstore_factory(sd->m);
	cr_assert_eq(session_add(sd->s, &to, now, &sd->t, &err), 0, "%s",
	    err.msg);
	session_set_port(sd->s, seeder ? 6881 : 6882);
	while (sd->t->phase == TORRENT_CHECKING)
		torrent_check_step(sd->t, now);
	sd->next_tick = now;
}

static void
side_free(struct side *sd)
{
	session_free(sd->s);
	memstore_free(sd->m);
}

/* The transport of one side: what the program's pump does for a peer,
 * with the other side's input buffer as the wire. */
static void
side_send(struct side *from, struct side *to, uint64_t now)
{
	struct peer *p = from->p, *q = to->p;
	size_t n;

	if (p == NULL || p->dead)
		return;
	torrent_peer_fill(from->t, p, now);
	torrent_peer_outgoing(from->t, p);
	n = p->out.len < LINK_BYTES ? p->out.len : LINK_BYTES;
	if (q == NULL || q->dead || n == 0)
		return;
	if (q->in.max - q->in.len < n)
		n = q->in.max - q->in.len;
	cr_assert_eq(buf_append(&q->in, p->out.data, n), 0);
	buf_consume(&p->out, n);
	torrent_peer_sent(from->t, p, n, now);
	torrent_peer_input(to->t, q, now);
}

static void
side_tick(struct side *sd, uint64_t now)
{
	uint32_t ids[64];

	if (now >= sd->next_tick)
		sd->next_tick = session_tick(sd->s, now);
	(void)torrent_take_dirty(sd->t, ids, 64);
}

/* Run a download with these seeds; the trace of both sessions into tr,
 * the virtual milliseconds it took into *ms.  Checks the bytes. */
static void
run_swarm(uint64_t seed, struct memtrace *tr, uint64_t *ms)
{
	struct side a, b;
	struct thr_addr aa = { 0 }, ba = { 0 };
	uint64_t now = 1000000, step;
	const uint8_t *got;
	size_t len;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	side_init(&a, seed, true, tr, now);
	side_init(&b, seed + 1, false, tr, now);
	aa.family = ba.family = 4;
	aa.ip[0] = 10, aa.ip[3] = 1, aa.port = 6881;
	ba.ip[0] = 10, ba.ip[3] = 2, ba.port = 50000;
	b.p = torrent_peer_add(b.t, &aa, false, PEER_SRC_MANUAL, PEER_TCP, now);
	a.p = torrent_peer_add(a.t, &ba, true, PEER_SRC_INCOMING, PEER_TCP,
	    now);
	cr_assert(a.p != NULL && b.p != NULL);
	torrent_peer_connected(b.t, b.p, now);
	for (step = 0; step < MAX_STEPS && !torrent_complete(b.t); step++) {
		now += MS_STEP;
		side_send(&b, &a, now);
		side_send(&a, &b, now);
		side_tick(&a, now);
		side_tick(&b, now);
		cr_assert(torrent_complete(b.t) || (!a.p->dead && !b.p->dead),
		    "a: %s, b: %s", a.p->why, b.p->why);
	}
	cr_assert(torrent_complete(b.t), "not complete after %u steps",
	    (unsigned)step);
	got = memstore_bytes(b.m, &len);
	cr_assert_eq(len, TOTAL);
	cr_assert(memcmp(got, payload, TOTAL) == 0, "bytes differ");
	*ms = step * MS_STEP;
	side_free(&a);
	side_free(&b);
}

static void
suite_init(void)
{
	make_payload();
	make_torrent();
}

static void
suite_fini(void)
{
	buf_release(&torrent_bytes);
}

TestSuite(memswarm, .init = suite_init, .fini = suite_fini);

/* The whole download in memory, well under a second of real time. */
Test(memswarm, downloads_in_memory)
{
	struct memtrace tr;
	struct timespec t0, t1;
	uint64_t ms;
	double wall;

	buf_init(&tr.b, 64u << 20);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_swarm(7, &tr, &ms);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	wall = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_lt(wall, 1.0, "took %.3f s of real time", wall);
	cr_assert_lt(ms, 60000, "took %llu virtual ms",
	    (unsigned long long)ms);
	cr_assert(strstr((char *)tr.b.data, "\"ev\":\"hash_ok\"") != NULL);
	buf_release(&tr.b);
}

/* The same inputs give the same trace, byte for byte; another seed a
 * different one. */
Test(memswarm, same_seed_same_trace)
{
	struct memtrace t1, t2, t3;
	uint64_t ms1, ms2, ms3;

	buf_init(&t1.b, 64u << 20);
	buf_init(&t2.b, 64u << 20);
	buf_init(&t3.b, 64u << 20);
	run_swarm(7, &t1, &ms1);
	run_swarm(7, &t2, &ms2);
	run_swarm(8, &t3, &ms3);
	cr_assert_eq(ms1, ms2);
	cr_assert_eq(t1.b.len, t2.b.len, "%zu vs %zu bytes", t1.b.len,
	    t2.b.len);
	cr_assert(memcmp(t1.b.data, t2.b.data, t1.b.len) == 0);
	cr_assert(t1.b.len != t3.b.len ||
	    memcmp(t1.b.data, t3.b.data, t1.b.len) != 0,
	    "another seed gave the same trace");
	buf_release(&t1.b);
	buf_release(&t2.b);
	buf_release(&t3.b);
}
