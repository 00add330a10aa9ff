/*
 * test_udptracker.c: the BEP 15 engine on a simulated clock: URL
 * parsing, packet layouts, BEP 41 URL data, the 15 * 2^n retransmission
 * schedule, connection id reuse and expiry, stale and short packets,
 * error answers, peer caps and IPv6 peers, scrapes.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/tracker.h"
#include "core/udptracker.h"

struct counter {
	uint32_t	next;
};

/* Transaction ids 1, 2, 3...: predictable, and never repeated. */
static uint32_t
counter_rnd(void *ctx)
{
	struct counter *c = ctx;

	return ++c->next;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void
announce_init(struct tracker_announce *a)
{
	size_t i;

	memset(a, 0, sizeof *a);
	for (i = 0; i < 20; i++)
		a->info_hash[i] = (uint8_t)i;
	memcpy(a->peer_id, "-TH0001-abcdefghijkl", 20);
	a->port = 6881;
	a->uploaded = 1;
	a->downloaded = 2;
	a->left = 12345678901ULL;
	a->event = TRACKER_EVENT_STARTED;
	a->numwant = 0;
	a->key = 0xdeadbeef;
}

static void
setup(struct udptracker *u, struct counter *c, const char *url, int family)
{
	struct thr_addr a;

	memset(c, 0, sizeof *c);
	cr_assert_eq(udptracker_init(u, url, counter_rnd, c), 0);
	memset(&a, 0, sizeof a);
	a.family = family;
	a.ip[0] = 127;
	a.ip[3] = 1;
	a.port = u->port;
	udptracker_set_addr(u, &a);
}

/* Take the one packet due now; fail if there is none. */
static size_t
take(struct udptracker *u, uint64_t now, uint8_t *pkt)
{
	size_t len;

	cr_assert(udptracker_output(u, now, pkt, UDPTRACKER_PKT_MAX, &len),
	    "no packet at %llu", (unsigned long long)now);
	cr_assert_gt(len, 0);
	return len;
}

static void
nothing(struct udptracker *u, uint64_t now)
{
	uint8_t pkt[UDPTRACKER_PKT_MAX];
	size_t len;

	cr_assert_not(udptracker_output(u, now, pkt, sizeof pkt, &len),
	    "unexpected packet at %llu", (unsigned long long)now);
	cr_assert_eq(len, 0);
}

static int
feed(struct udptracker *u, const uint8_t *p, size_t len, uint64_t now,
    struct tracker_response *r)
{
	struct thr_error err;
	int rc;

	memset(&err, 0, sizeof err);
	rc = udptracker_input(u, p, len, now, r, &err);
	if (rc == THR_EPROTO)
		cr_assert_eq(err.code, THR_EPROTO);
	return rc;
}

/* Answer the connect request in pkt with connection id cid. */
static int
connect_answer(struct udptracker *u, const uint8_t *pkt, uint64_t cid,
    uint64_t now)
{
	struct tracker_response r;
	uint8_t ans[16];
	int rc;

	cr_assert_eq(get64(pkt), 0x41727101980ULL);
	cr_assert_eq(get32(pkt + 8), 0);
	put32(ans, 0);
	memcpy(ans + 4, pkt + 12, 4);
	put32(ans + 8, (uint32_t)(cid >> 32));
	put32(ans + 12, (uint32_t)cid);
	rc = feed(u, ans, sizeof ans, now, &r);
	tracker_response_release(&r);
	return rc;
}

/* An announce answer for the request in pkt with npeers 6-byte peers. */
static size_t
announce_answer(const uint8_t *pkt, uint8_t *ans, uint32_t interval,
    uint32_t leechers, uint32_t seeders, size_t npeers, size_t esz)
{
	size_t i, len = 20;

	put32(ans, 1);
	memcpy(ans + 4, pkt + 12, 4);
	put32(ans + 8, interval);
	put32(ans + 12, leechers);
	put32(ans + 16, seeders);
	for (i = 0; i < npeers; i++) {
		memset(ans + len, 0, esz);
		ans[len] = 10;
		ans[len + esz - 3] = (uint8_t)(i + 1);
		ans[len + esz - 2] = (uint8_t)((i + 1) >> 8);
		ans[len + esz - 1] = (uint8_t)(i + 1);
		len += esz;
	}
	return len;
}

Test(udptracker, parse_url)
{
	char host[64];
	const char *path;
	uint16_t port;

	cr_assert_eq(udptracker_parse_url("udp://tracker.example:6969/announce",
	    host, sizeof host, &port, &path), 0);
	cr_assert_str_eq(host, "tracker.example");
	cr_assert_eq(port, 6969);
	cr_assert_str_eq(path, "/announce");
	cr_assert_eq(udptracker_parse_url("UDP://[::1]:80", host, sizeof host,
	    &port, &path), 0);
	cr_assert_str_eq(host, "::1");
	cr_assert_eq(port, 80);
	cr_assert_str_eq(path, "");
	cr_assert_eq(udptracker_parse_url("udp://1.2.3.4:65535?x=1", host,
	    sizeof host, &port, NULL), 0);
	cr_assert_str_eq(host, "1.2.3.4");
	cr_assert_eq(port, 65535);
}

Test(udptracker, parse_url_bad)
{
	static const char *const bad[] = {
		"http://t:1/", "udp://", "udp://:80", "udp://host",
		"udp://host:", "udp://host:0", "udp://host:65536",
		"udp://host:123456", "udp://host:80x", "udp://u@host:80",
		"udp://[::1:80", "udp://[::1]80", "udp://ho st:80",
		"udp://[]:80",
	};
	char host[64];
	uint16_t port;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(udptracker_parse_url(bad[i], host, sizeof host,
		    &port, NULL), THR_EINVAL, "%s", bad[i]);
	cr_assert_eq(udptracker_parse_url("udp://abcdefgh:1", host, 8, &port,
	    NULL), THR_ELIMIT);
}

Test(udptracker, init_limits)
{
	struct udptracker u;
	struct counter c;
	char url[1200];

	memset(&c, 0, sizeof c);
	strcpy(url, "udp://t:1/");
	memset(url + 10, 'a', 900);
	url[910] = '\0';
	cr_assert_eq(udptracker_init(&u, url, counter_rnd, &c), THR_ELIMIT);
	cr_assert_eq(udptracker_init(&u, "udp://t", counter_rnd, &c),
	    THR_EINVAL);
	cr_assert_eq(udptracker_init(&u, "udp://t:1", counter_rnd, &c), 0);
	cr_assert_eq(u.urldatalen, 0);
	cr_assert_not(udptracker_busy(&u));
	cr_assert_eq(udptracker_deadline(&u), UINT64_MAX);
}

Test(udptracker, full_announce)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	struct tracker_response r;
	uint8_t pkt[UDPTRACKER_PKT_MAX], ans[200];
	size_t len;

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 1000);
	cr_assert(udptracker_busy(&u));
	cr_assert_eq(udptracker_deadline(&u), 0);
	cr_assert_eq(take(&u, 1000, pkt), 16);
	cr_assert_eq(udptracker_deadline(&u), 16000);
	nothing(&u, 1000);
	cr_assert_eq(connect_answer(&u, pkt, 0x1122334455667788ULL, 1100),
	    THR_EAGAIN);
	cr_assert_eq(u.state, UDPTRACKER_REQUESTING);
	len = take(&u, 1100, pkt);
	cr_assert_eq(len, 98);
	cr_assert_eq(get64(pkt), 0x1122334455667788ULL);
	cr_assert_eq(get32(pkt + 8), 1);
	cr_assert_eq(pkt[16], 0);
	cr_assert_eq(pkt[35], 19);
	cr_assert(memcmp(pkt + 36, "-TH0001-abcdefghijkl", 20) == 0);
	cr_assert_eq(get64(pkt + 56), 2);
	cr_assert_eq(get64(pkt + 64), 12345678901ULL);
	cr_assert_eq(get64(pkt + 72), 1);
	cr_assert_eq(get32(pkt + 80), 2);	/* started */
	cr_assert_eq(get32(pkt + 84), 0);
	cr_assert_eq(get32(pkt + 88), 0xdeadbeef);
	cr_assert_eq(get32(pkt + 92), UINT32_MAX);	/* -1 */
	cr_assert_eq(pkt[96] << 8 | pkt[97], 6881);
	len = announce_answer(pkt, ans, 1200, 5, 7, 3, 6);
	cr_assert_eq(feed(&u, ans, len, 1200, &r), 0);
	cr_assert_not(r.failed);
	cr_assert_eq(r.interval, 1200);
	cr_assert_eq(r.incomplete, 5);
	cr_assert_eq(r.complete, 7);
	cr_assert_eq(r.npeers, 3);
	cr_assert_eq(r.peers[0].family, 4);
	cr_assert_eq(r.peers[0].ip[0], 10);
	cr_assert_eq(r.peers[0].ip[3], 1);
	cr_assert_eq(r.peers[2].port, 3);
	tracker_response_release(&r);
	cr_assert_eq(u.state, UDPTRACKER_IDLE);
	cr_assert_eq(udptracker_deadline(&u), UINT64_MAX);
	nothing(&u, 100000);
	/* A duplicate of the answer is now stale. */
	cr_assert_eq(feed(&u, ans, len, 1300, &r), THR_EPROTO);
	tracker_response_release(&r);
}

Test(udptracker, events_and_numwant)
{
	static const struct {
		enum tracker_event e;
		uint32_t wire;
	} ev[] = {
		{ TRACKER_EVENT_NONE, 0 }, { TRACKER_EVENT_COMPLETED, 1 },
		{ TRACKER_EVENT_STARTED, 2 }, { TRACKER_EVENT_STOPPED, 3 },
	};
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	uint8_t pkt[UDPTRACKER_PKT_MAX];
	size_t i;

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	cr_assert_eq(connect_answer(&u, pkt, 42, 0), THR_EAGAIN);
	for (i = 0; i < sizeof ev / sizeof *ev; i++) {
		a.event = ev[i].e;
		a.numwant = (int)i * 10;
		udptracker_start(&u, &a, 1000);
		/* The connection id is still fresh: no connect. */
		cr_assert_eq(take(&u, 1000, pkt), 98);
		cr_assert_eq(get64(pkt), 42);
		cr_assert_eq(get32(pkt + 80), ev[i].wire);
		cr_assert_eq(get32(pkt + 92), i == 0 ? UINT32_MAX :
		    (uint32_t)i * 10);
	}
}

Test(udptracker, urldata)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	uint8_t pkt[UDPTRACKER_PKT_MAX];
	char url[700];
	size_t len;

	setup(&u, &c, "udp://t:6969/announce?passkey=abc", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	connect_answer(&u, pkt, 1, 0);
	len = take(&u, 0, pkt);
	cr_assert_eq(len, 98 + 2 + 21);
	cr_assert_eq(pkt[98], 2);
	cr_assert_eq(pkt[99], 21);
	cr_assert(memcmp(pkt + 100, "/announce?passkey=abc", 21) == 0);

	/* 600 bytes of path: options of 255, 255 and 90 bytes. */
	strcpy(url, "udp://t:1/");
	memset(url + 10, 'p', 599);
	url[609] = '\0';
	setup(&u, &c, url, 4);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	connect_answer(&u, pkt, 1, 0);
	len = take(&u, 0, pkt);
	cr_assert_eq(len, 98 + 600 + 6);
	cr_assert_eq(pkt[98], 2);
	cr_assert_eq(pkt[99], 255);
	cr_assert_eq(pkt[98 + 257], 2);
	cr_assert_eq(pkt[99 + 257], 255);
	cr_assert_eq(pkt[98 + 514], 2);
	cr_assert_eq(pkt[99 + 514], 90);
	cr_assert_eq(pkt[100], '/');
	cr_assert_eq(pkt[len - 1], 'p');
}

Test(udptracker, retransmit_schedule)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	uint8_t pkt[UDPTRACKER_PKT_MAX];
	uint64_t t = 0, wait;
	uint32_t tid;
	unsigned n;

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	tid = get32(pkt + 12);
	/* BEP 15: 15, 30, 60 ... 3840 s, then give up. */
	for (n = 0; n <= 8; n++) {
		wait = 15000ULL << n;
		cr_assert_eq(udptracker_deadline(&u), t + wait);
		nothing(&u, t + wait - 1);
		t += wait;
		if (n == 8)
			break;
		cr_assert_eq(take(&u, t, pkt), 16, "n=%u", n);
		/* A retransmission keeps its transaction id. */
		cr_assert_eq(get32(pkt + 12), tid);
	}
	cr_assert(udptracker_busy(&u));
	nothing(&u, t);
	cr_assert(udptracker_timed_out(&u));
	cr_assert_not(udptracker_busy(&u));
	cr_assert_eq(udptracker_deadline(&u), UINT64_MAX);
	cr_assert_eq(t, 15000ULL * 511);
	/* A new request starts over. */
	udptracker_start(&u, &a, t);
	cr_assert_not(udptracker_timed_out(&u));
	take(&u, t, pkt);
	cr_assert_eq(udptracker_deadline(&u), t + 15000);
}

Test(udptracker, conn_reuse_and_expiry)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	struct tracker_response r;
	uint8_t pkt[UDPTRACKER_PKT_MAX], ans[64];
	size_t len;

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	cr_assert_eq(connect_answer(&u, pkt, 77, 1000), THR_EAGAIN);
	cr_assert_eq(take(&u, 1000, pkt), 98);
	len = announce_answer(pkt, ans, 60, 0, 0, 0, 6);
	cr_assert_eq(feed(&u, ans, len, 2000, &r), 0);
	tracker_response_release(&r);

	/* 59.999 s after the id arrived: reused. */
	udptracker_start(&u, &a, 60999);
	cr_assert_eq(u.state, UDPTRACKER_REQUESTING);
	cr_assert_eq(take(&u, 60999, pkt), 98);
	cr_assert_eq(get64(pkt), 77);
	/* The retransmission at 75.999 s finds the id expired. */
	nothing(&u, 75998);
	cr_assert_eq(take(&u, 75999, pkt), 16);
	cr_assert_eq(u.state, UDPTRACKER_CONNECTING);
	cr_assert_eq(udptracker_deadline(&u), 75999 + 30000);
	cr_assert_eq(connect_answer(&u, pkt, 78, 80000), THR_EAGAIN);
	cr_assert_eq(take(&u, 80000, pkt), 98);
	cr_assert_eq(get64(pkt), 78);
	/* n is not reset by the connect answer. */
	cr_assert_eq(udptracker_deadline(&u), 80000 + 30000);

	/* Exactly 60 s after: a new connect first. */
	udptracker_stop(&u);
	cr_assert_not(udptracker_busy(&u));
	udptracker_start(&u, &a, 140000);
	cr_assert_eq(take(&u, 140000, pkt), 16);
}

Test(udptracker, retransmit_reconnects_in_the_middle)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	uint8_t pkt[UDPTRACKER_PKT_MAX];

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	connect_answer(&u, pkt, 5, 1000);
	cr_assert_eq(take(&u, 1000, pkt), 98);
	cr_assert_eq(take(&u, 16000, pkt), 98);
	cr_assert_eq(take(&u, 46000, pkt), 98);
	/* At 106 s the id from 1 s is stale. */
	cr_assert_eq(take(&u, 106000, pkt), 16);
	cr_assert_eq(udptracker_deadline(&u), 106000 + 120000);
}

Test(udptracker, address_change_forgets_conn)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	struct thr_addr other;
	uint8_t pkt[UDPTRACKER_PKT_MAX];

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	connect_answer(&u, pkt, 5, 0);
	other = u.addr;
	udptracker_set_addr(&u, &other);
	udptracker_start(&u, &a, 10);
	cr_assert_eq(take(&u, 10, pkt), 98);
	other.ip[3] = 2;
	udptracker_set_addr(&u, &other);
	udptracker_start(&u, &a, 20);
	cr_assert_eq(take(&u, 20, pkt), 16);
}

Test(udptracker, stale_and_mismatched)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	struct tracker_response r;
	uint8_t pkt[UDPTRACKER_PKT_MAX], conn[16], ans[64];
	size_t len;
	uint32_t tid;

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	/* Nothing in flight. */
	memset(ans, 0, sizeof ans);
	cr_assert_eq(feed(&u, ans, 16, 0, &r), THR_EPROTO);
	tracker_response_release(&r);

	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	tid = get32(pkt + 12);
	memcpy(conn, pkt, 16);
	/* Wrong transaction id. */
	put32(ans, 0);
	put32(ans + 4, tid + 1);
	cr_assert_eq(feed(&u, ans, 16, 0, &r), THR_EPROTO);
	/* Right id, wrong action (an announce answer to a connect). */
	put32(ans, 1);
	put32(ans + 4, tid);
	cr_assert_eq(feed(&u, ans, 20, 0, &r), THR_EPROTO);
	/* Packets too short to hold a transaction id. */
	put32(ans, 0);
	for (len = 0; len < 8; len++)
		cr_assert_eq(feed(&u, ans, len, 0, &r), THR_EPROTO, "%zu", len);
	cr_assert_eq(u.state, UDPTRACKER_CONNECTING);
	cr_assert_eq(u.tid, tid);
	cr_assert_eq(udptracker_deadline(&u), 15000);
	nothing(&u, 1);
	tracker_response_release(&r);

	cr_assert_eq(connect_answer(&u, conn, 9, 10), THR_EAGAIN);
	take(&u, 10, pkt);
	/* The connect answer again: its transaction id is stale now. */
	cr_assert_eq(connect_answer(&u, conn, 9, 20), THR_EPROTO);
	len = announce_answer(pkt, ans, 100, 1, 1, 0, 6);
	cr_assert_eq(feed(&u, ans, 7, 20, &r), THR_EPROTO);
	/* A scrape answer to an announce. */
	put32(ans, 2);
	cr_assert_eq(feed(&u, ans, len, 20, &r), THR_EPROTO);
	cr_assert_eq(u.state, UDPTRACKER_REQUESTING);
	put32(ans, 1);
	cr_assert_eq(feed(&u, ans, len, 20, &r), 0);
	cr_assert_eq(r.npeers, 0);
	tracker_response_release(&r);
}

Test(udptracker, error_answer)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	struct tracker_response r;
	uint8_t pkt[UDPTRACKER_PKT_MAX], ans[400];

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	connect_answer(&u, pkt, 3, 0);
	take(&u, 0, pkt);
	put32(ans, 3);
	memcpy(ans + 4, pkt + 12, 4);
	memcpy(ans + 8, "bad\npasskey", 11);
	cr_assert_eq(feed(&u, ans, 19, 5, &r), 0);
	cr_assert(r.failed);
	cr_assert_str_eq(r.failure, "bad?passkey");
	cr_assert_eq(r.npeers, 0);
	tracker_response_release(&r);
	cr_assert_eq(u.state, UDPTRACKER_IDLE);
	/* The id is forgotten after an error. */
	udptracker_start(&u, &a, 10);
	take(&u, 10, pkt);
	cr_assert_eq(u.state, UDPTRACKER_CONNECTING);
	/* An error answer to a connect, with a message longer than we keep
	 * and an empty one. */
	put32(ans, 3);
	memcpy(ans + 4, pkt + 12, 4);
	memset(ans + 8, 'x', 392);
	cr_assert_eq(feed(&u, ans, 400, 20, &r), 0);
	cr_assert(r.failed);
	cr_assert_eq(strlen(r.failure), TRACKER_MAX_MSG - 1);
	tracker_response_release(&r);
	udptracker_start(&u, &a, 30);
	take(&u, 30, pkt);
	memcpy(ans + 4, pkt + 12, 4);
	cr_assert_eq(feed(&u, ans, 8, 40, &r), 0);
	cr_assert(r.failed);
	cr_assert_str_eq(r.failure, "");
	tracker_response_release(&r);
}

Test(udptracker, interval_clamped)
{
	static const struct {
		uint32_t in;
		int64_t out;
	} cases[] = {
		{ 0, TRACKER_DEFAULT_INTERVAL }, { 1, TRACKER_MIN_INTERVAL },
		{ 900, 900 }, { UINT32_MAX, TRACKER_MAX_INTERVAL },
	};
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	struct tracker_response r;
	uint8_t pkt[UDPTRACKER_PKT_MAX], ans[64];
	size_t i, len;

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		udptracker_start(&u, &a, 0);
		if (take(&u, 0, pkt) == 16) {
			connect_answer(&u, pkt, 1, 0);
			take(&u, 0, pkt);
		}
		len = announce_answer(pkt, ans, cases[i].in, UINT32_MAX, 0, 0,
		    6);
		cr_assert_eq(feed(&u, ans, len, 0, &r), 0);
		cr_assert_eq(r.interval, cases[i].out, "%u", cases[i].in);
		cr_assert_eq(r.incomplete, (int64_t)UINT32_MAX);
		tracker_response_release(&r);
	}
}

Test(udptracker, peer_cap_and_port_zero)
{
	static uint8_t ans[20 + 6 * (TRACKER_MAX_PEERS + 100) + 5];
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	struct tracker_response r;
	uint8_t pkt[UDPTRACKER_PKT_MAX];
	size_t len;

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	connect_answer(&u, pkt, 1, 0);
	take(&u, 0, pkt);
	len = announce_answer(pkt, ans, 100, 0, 0, TRACKER_MAX_PEERS + 100, 6);
	/* Peer 0 gets port 0; a 5-byte tail is not an entry. */
	ans[20 + 4] = 0;
	ans[20 + 5] = 0;
	len += 5;
	cr_assert_eq(feed(&u, ans, len, 0, &r), 0);
	cr_assert_eq(r.npeers, TRACKER_MAX_PEERS);
	cr_assert_eq(r.peers[0].port, 2);
	for (size_t i = 0; i < r.npeers; i++)
		cr_assert_neq(r.peers[i].port, 0);
	tracker_response_release(&r);
}

Test(udptracker, ipv6_peers)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	struct tracker_response r;
	uint8_t pkt[UDPTRACKER_PKT_MAX], ans[200];
	size_t len;

	setup(&u, &c, "udp://[::1]:6969", 6);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	connect_answer(&u, pkt, 1, 0);
	take(&u, 0, pkt);
	len = announce_answer(pkt, ans, 100, 0, 0, 2, 18);
	/* The second is IPv4-mapped: ::ffff:1.2.3.4. */
	memset(ans + 38, 0, 10);
	ans[48] = 0xff;
	ans[49] = 0xff;
	memcpy(ans + 50, "\x01\x02\x03\x04", 4);
	/* A trailing partial entry is ignored. */
	len += 10;
	cr_assert_eq(feed(&u, ans, len, 0, &r), 0);
	cr_assert_eq(r.npeers, 2);
	cr_assert_eq(r.peers[0].family, 6);
	cr_assert_eq(r.peers[0].ip[0], 10);
	cr_assert_eq(r.peers[0].ip[15], 1);
	cr_assert_eq(r.peers[0].port, 1);
	cr_assert_eq(r.peers[1].family, 4);
	cr_assert(memcmp(r.peers[1].ip, "\x01\x02\x03\x04", 4) == 0);
	cr_assert_eq(r.peers[1].port, 2);
	tracker_response_release(&r);
}

Test(udptracker, scrape)
{
	struct udptracker u;
	struct counter c;
	struct tracker_response r;
	uint8_t pkt[UDPTRACKER_PKT_MAX], ans[32], ih[20];

	setup(&u, &c, "udp://t:6969/announce", 4);
	memset(ih, 0xab, sizeof ih);
	cr_assert_eq(u.scrape_completed, -1);
	udptracker_scrape_start(&u, ih, 0);
	take(&u, 0, pkt);
	connect_answer(&u, pkt, 0xfeed, 0);
	cr_assert_eq(take(&u, 0, pkt), 36);
	cr_assert_eq(get64(pkt), 0xfeed);
	cr_assert_eq(get32(pkt + 8), 2);
	cr_assert(memcmp(pkt + 16, ih, 20) == 0);
	put32(ans, 2);
	memcpy(ans + 4, pkt + 12, 4);
	put32(ans + 8, 11);
	put32(ans + 12, 22);
	put32(ans + 16, 33);
	put32(ans, 1);
	cr_assert_eq(feed(&u, ans, 20, 0, &r), THR_EPROTO);
	put32(ans, 2);
	cr_assert_eq(feed(&u, ans, 20, 0, &r), 0);
	cr_assert_eq(r.complete, 11);
	cr_assert_eq(r.incomplete, 33);
	cr_assert_eq(u.scrape_completed, 22);
	cr_assert_eq(r.npeers, 0);
	tracker_response_release(&r);
	cr_assert_eq(u.state, UDPTRACKER_IDLE);
}

Test(udptracker, small_buffer_and_restart)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	uint8_t pkt[UDPTRACKER_PKT_MAX];
	uint32_t tid;
	size_t len;

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	cr_assert_not(udptracker_output(&u, 0, pkt, 16, &len));
	take(&u, 0, pkt);
	tid = get32(pkt + 12);
	/* A new start abandons the old request and its transaction id. */
	udptracker_start(&u, &a, 5);
	take(&u, 5, pkt);
	cr_assert_neq(get32(pkt + 12), tid);
	cr_assert_eq(udptracker_deadline(&u), 5 + 15000);
}

/* A matching answer too short for its fields is the tracker's final
 * word (opentracker's bare header for a torrent it does not track). */
Test(udptracker, truncated_answers)
{
	struct udptracker u;
	struct counter c;
	struct tracker_announce a;
	struct tracker_response r;
	uint8_t pkt[UDPTRACKER_PKT_MAX], ans[64], ih[20];

	setup(&u, &c, "udp://t:6969", 4);
	announce_init(&a);
	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	put32(ans, 0);
	memcpy(ans + 4, pkt + 12, 4);
	cr_assert_eq(feed(&u, ans, 15, 0, &r), 0);
	cr_assert(r.failed);
	cr_assert_str_eq(r.failure, "truncated connect answer (15 bytes)");
	tracker_response_release(&r);
	cr_assert_eq(u.state, UDPTRACKER_IDLE);
	cr_assert_not(u.have_conn);

	udptracker_start(&u, &a, 0);
	take(&u, 0, pkt);
	connect_answer(&u, pkt, 1, 0);
	take(&u, 0, pkt);
	put32(ans, 1);
	memcpy(ans + 4, pkt + 12, 4);
	cr_assert_eq(feed(&u, ans, 8, 0, &r), 0);
	cr_assert(r.failed);
	cr_assert_str_eq(r.failure, "truncated announce answer (8 bytes)");
	cr_assert_eq(r.npeers, 0);
	tracker_response_release(&r);
	cr_assert_eq(udptracker_deadline(&u), UINT64_MAX);

	memset(ih, 1, sizeof ih);
	udptracker_scrape_start(&u, ih, 0);
	cr_assert_eq(take(&u, 0, pkt), 36);
	put32(ans, 2);
	memcpy(ans + 4, pkt + 12, 4);
	cr_assert_eq(feed(&u, ans, 19, 0, &r), 0);
	cr_assert(r.failed);
	cr_assert_eq(u.scrape_completed, -1);
	tracker_response_release(&r);
}
