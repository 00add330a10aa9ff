/*
 * test_tracker.c: announce URLs, tracker responses (compact, peers6,
 * dictionary peers, hostile values), BEP 12 tier lists, and the peer
 * address helpers they rely on.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/metainfo.h"
#include "core/tracker.h"

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
	a->numwant = 50;
	a->key = 0xdeadbeef;
}

static char *
build(const char *base, const struct tracker_announce *a)
{
	struct buf b;
	char *s;

	buf_init(&b, 4096);
	cr_assert_eq(tracker_build_url(base, a, &b), 0);
	s = strdup((const char *)b.data);
	buf_release(&b);
	return s;
}

Test(tracker, url_fields)
{
	struct tracker_announce a;
	char *u;

	announce_init(&a);
	u = build("http://t.example/announce", &a);
	cr_assert(strncmp(u, "http://t.example/announce?info_hash=", 36) == 0,
	    "%s", u);
	cr_assert(strstr(u, "info_hash=%00%01%02%03%04%05%06%07%08%09%0A%0B"
	    "%0C%0D%0E%0F%10%11%12%13&") != NULL, "%s", u);
	cr_assert(strstr(u, "&peer_id=-TH0001-abcdefghijkl&") != NULL, "%s",
	    u);
	cr_assert(strstr(u, "&port=6881&uploaded=1&downloaded=2"
	    "&left=12345678901&corrupt=0&key=deadbeef&event=started"
	    "&numwant=50&compact=1&no_peer_id=1") != NULL, "%s", u);
	cr_assert_null(strstr(u, "trackerid"));
	free(u);
}

Test(tracker, url_existing_query)
{
	struct tracker_announce a;
	char *u;

	announce_init(&a);
	u = build("http://t.example/a?passkey=xyz", &a);
	cr_assert(strncmp(u, "http://t.example/a?passkey=xyz&info_hash=",
	    41) == 0, "%s", u);
	cr_assert_null(strchr(strchr(u, '?') + 1, '?'));
	free(u);
}

Test(tracker, url_events)
{
	struct tracker_announce a;
	char *u;

	announce_init(&a);
	a.event = TRACKER_EVENT_NONE;
	u = build("http://t/a", &a);
	cr_assert_null(strstr(u, "event="), "%s", u);
	free(u);
	a.event = TRACKER_EVENT_COMPLETED;
	u = build("http://t/a", &a);
	cr_assert_not_null(strstr(u, "&event=completed&"), "%s", u);
	free(u);
	a.event = TRACKER_EVENT_STOPPED;
	u = build("http://t/a", &a);
	cr_assert_not_null(strstr(u, "&event=stopped&"), "%s", u);
	free(u);
}

Test(tracker, url_trackerid_escaped)
{
	struct tracker_announce a;
	char *u;

	announce_init(&a);
	a.tracker_id = "a b&c";
	u = build("http://t/a", &a);
	cr_assert_not_null(strstr(u, "&trackerid=a%20b%26c"), "%s", u);
	free(u);
}

Test(tracker, url_limit_leaves_buffer_untouched)
{
	struct tracker_announce a;
	struct buf b;

	announce_init(&a);
	buf_init(&b, 64);
	cr_assert_eq(buf_puts(&b, "x"), 0);
	cr_assert_eq(tracker_build_url("http://t/a", &a, &b), THR_ELIMIT);
	cr_assert_eq(b.len, 1);
	buf_release(&b);
}

static int
parse(const char *s, size_t n, struct tracker_response *r)
{
	struct thr_error e;

	memset(&e, 0, sizeof e);
	return tracker_parse_response((const uint8_t *)s, n, r, &e);
}

#define PARSE(lit, r)	parse((lit), sizeof(lit) - 1, (r))

Test(tracker, compact_peers)
{
	static const char body[] = "d8:intervali900e5:peers12:"
	    "\x01\x02\x03\x04\x1a\xe1" "\x0a\x00\x00\x01\x00\x50" "e";
	struct tracker_response r;
	char s[ADDR_STR_MAX];

	cr_assert_eq(PARSE(body, &r), 0);
	cr_assert_not(r.failed);
	cr_assert_eq(r.interval, 900);
	cr_assert_eq(r.min_interval, 0);
	cr_assert_eq(r.complete, -1);
	cr_assert_eq(r.incomplete, -1);
	cr_assert_eq(r.npeers, 2);
	addr_format(&r.peers[0], s, sizeof s);
	cr_assert_str_eq(s, "1.2.3.4:6881");
	addr_format(&r.peers[1], s, sizeof s);
	cr_assert_str_eq(s, "10.0.0.1:80");
	tracker_response_release(&r);
	cr_assert_null(r.peers);
}

Test(tracker, compact_partial_entry_ignored)
{
	static const char body[] = "d5:peers10:"
	    "\x01\x02\x03\x04\x1a\xe1" "\x05\x06\x07\x08" "e";
	struct tracker_response r;

	cr_assert_eq(PARSE(body, &r), 0);
	cr_assert_eq(r.npeers, 1);
	cr_assert_eq(r.peers[0].port, 6881);
	tracker_response_release(&r);
}

Test(tracker, compact_port_zero_skipped)
{
	static const char body[] = "d5:peers12:"
	    "\x01\x02\x03\x04\x00\x00" "\x05\x06\x07\x08\x00\x01" "e";
	struct tracker_response r;

	cr_assert_eq(PARSE(body, &r), 0);
	cr_assert_eq(r.npeers, 1);
	cr_assert_eq(r.peers[0].ip[0], 5);
	cr_assert_eq(r.peers[0].port, 1);
	tracker_response_release(&r);
}

Test(tracker, empty_peers)
{
	struct tracker_response r;

	cr_assert_eq(PARSE("d5:peers0:e", &r), 0);
	cr_assert_eq(r.npeers, 0);
	cr_assert_null(r.peers);
	tracker_response_release(&r);
}

Test(tracker, peers6)
{
	static const char body[] = "d5:peers0:6:peers636:"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" "\x1a\xe1"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01" "\x00\x00" "e";
	struct tracker_response r;
	char s[ADDR_STR_MAX];

	cr_assert_eq(PARSE(body, &r), 0);
	cr_assert_eq(r.npeers, 1);
	cr_assert_eq(r.peers[0].family, 6);
	addr_format(&r.peers[0], s, sizeof s);
	cr_assert_str_eq(s, "[2001:db8::1]:6881");
	tracker_response_release(&r);
}

Test(tracker, compact_and_peers6_together)
{
	static const char body[] = "d5:peers6:\x01\x02\x03\x04\x00\x05"
	    "6:peers618:\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x07" "e";
	struct tracker_response r;

	cr_assert_eq(PARSE(body, &r), 0);
	cr_assert_eq(r.npeers, 2);
	cr_assert_eq(r.peers[0].family, 4);
	cr_assert_eq(r.peers[1].family, 6);
	cr_assert_eq(r.peers[1].port, 7);
	tracker_response_release(&r);
}

Test(tracker, dict_peers)
{
	static const char body[] = "d5:peersl"
	    "d2:ip7:1.2.3.47:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881ee"
	    "d2:ip11:2001:db8::54:porti51413ee"
	    "d2:ip15:tracker.example4:porti80ee"
	    "d2:ip7:5.6.7.84:porti0ee"
	    "d2:ip7:5.6.7.84:porti70000ee"
	    "d2:ip7:5.6.7.8e"
	    "i42e"
	    "d2:ipi1e4:porti9ee"
	    "d2:ip14:::ffff:9.8.7.64:porti99ee"
	    "ee";
	struct tracker_response r;
	char s[ADDR_STR_MAX];

	cr_assert_eq(PARSE(body, &r), 0);
	cr_assert_eq(r.npeers, 3);
	addr_format(&r.peers[0], s, sizeof s);
	cr_assert_str_eq(s, "1.2.3.4:6881");
	addr_format(&r.peers[1], s, sizeof s);
	cr_assert_str_eq(s, "[2001:db8::5]:51413");
	addr_format(&r.peers[2], s, sizeof s);
	cr_assert_str_eq(s, "9.8.7.6:99");
	tracker_response_release(&r);
}

Test(tracker, failure_reason)
{
	static const char body[] = "d14:failure reason12:bad\x01\npasskeye";
	struct tracker_response r;

	cr_assert_eq(PARSE(body, &r), 0);
	cr_assert(r.failed);
	cr_assert_str_eq(r.failure, "bad??passkey");
	cr_assert_eq(r.npeers, 0);
	tracker_response_release(&r);
}

Test(tracker, failure_reason_truncated)
{
	struct tracker_response r;
	struct buf b;
	char big[1000];

	memset(big, 'x', sizeof big);
	buf_init(&b, 4096);
	cr_assert_eq(buf_printf(&b, "d14:failure reason%zu:", sizeof big), 0);
	cr_assert_eq(buf_append(&b, big, sizeof big), 0);
	cr_assert_eq(buf_puts(&b, "e"), 0);
	cr_assert_eq(parse((const char *)b.data, b.len, &r), 0);
	cr_assert(r.failed);
	cr_assert_eq(strlen(r.failure), TRACKER_MAX_MSG - 1);
	tracker_response_release(&r);
	buf_release(&b);
}

Test(tracker, warning_message)
{
	static const char body[] = "d5:peers0:15:warning message5:slow\x7f"
	    "e";
	struct tracker_response r;

	cr_assert_eq(PARSE(body, &r), 0);
	cr_assert_not(r.failed);
	cr_assert_str_eq(r.warning, "slow?");
	cr_assert_str_eq(r.failure, "");
	tracker_response_release(&r);
}

Test(tracker, interval_clamped)
{
	struct tracker_response r;

	cr_assert_eq(PARSE("d8:intervali0ee", &r), 0);
	cr_assert_eq(r.interval, TRACKER_DEFAULT_INTERVAL);
	tracker_response_release(&r);
	cr_assert_eq(PARSE("d8:intervali-5ee", &r), 0);
	cr_assert_eq(r.interval, TRACKER_DEFAULT_INTERVAL);
	tracker_response_release(&r);
	cr_assert_eq(PARSE("d8:intervali5ee", &r), 0);
	cr_assert_eq(r.interval, TRACKER_MIN_INTERVAL);
	tracker_response_release(&r);
	cr_assert_eq(PARSE("d8:intervali9223372036854775807ee", &r), 0);
	cr_assert_eq(r.interval, TRACKER_MAX_INTERVAL);
	tracker_response_release(&r);
	cr_assert_eq(PARSE("de", &r), 0);
	cr_assert_eq(r.interval, TRACKER_DEFAULT_INTERVAL);
	tracker_response_release(&r);
}

Test(tracker, min_interval_and_counts)
{
	static const char body[] = "d8:completei7e10:incompletei3e"
	    "8:intervali1800e12:min intervali1e10:tracker id3:abce";
	struct tracker_response r;

	cr_assert_eq(PARSE(body, &r), 0);
	cr_assert_eq(r.min_interval, TRACKER_MIN_INTERVAL);
	cr_assert_eq(r.complete, 7);
	cr_assert_eq(r.incomplete, 3);
	cr_assert_str_eq(r.tracker_id, "abc");
	tracker_response_release(&r);
}

Test(tracker, not_bencoded)
{
	struct tracker_response r;

	cr_assert_eq(PARSE("<html>502 Bad Gateway</html>", &r), THR_EINVAL);
	cr_assert_null(r.peers);
	cr_assert_eq(PARSE("", &r), THR_EINVAL);
	cr_assert_eq(PARSE("d5:peers", &r), THR_EINVAL);
}

Test(tracker, not_a_dict)
{
	struct tracker_response r;

	cr_assert_eq(PARSE("l4:spame", &r), THR_EINVAL);
	cr_assert_eq(PARSE("i3e", &r), THR_EINVAL);
	cr_assert_eq(PARSE("4:spam", &r), THR_EINVAL);
}

Test(tracker, body_too_big)
{
	struct tracker_response r;
	char *big;

	big = calloc(1, TRACKER_MAX_BODY + 1);
	cr_assert_not_null(big);
	cr_assert_eq(parse(big, TRACKER_MAX_BODY + 1, &r), THR_ELIMIT);
	free(big);
}

Test(tracker, many_compact_peers_capped)
{
	const size_t n = 100000;
	struct tracker_response r;
	struct buf b;
	uint8_t *p;
	size_t i;

	buf_init(&b, 1u << 20);
	cr_assert_eq(buf_printf(&b, "d5:peers%zu:", n * 6), 0);
	p = buf_reserve(&b, n * 6);
	cr_assert_not_null(p);
	for (i = 0; i < n; i++) {
		p[i * 6] = 10;
		p[i * 6 + 1] = (uint8_t)(i >> 16);
		p[i * 6 + 2] = (uint8_t)(i >> 8);
		p[i * 6 + 3] = (uint8_t)i;
		p[i * 6 + 4] = 0x1a;
		p[i * 6 + 5] = 0xe1;
	}
	buf_commit(&b, n * 6);
	cr_assert_eq(buf_puts(&b, "e"), 0);
	cr_assert_eq(parse((const char *)b.data, b.len, &r), 0);
	cr_assert_eq(r.npeers, TRACKER_MAX_PEERS);
	tracker_response_release(&r);
	buf_release(&b);
}

Test(tracker, many_dict_peers_capped)
{
	/* As many as fit in TRACKER_MAX_BODY: 5 tokens each. */
	const size_t n = 80000;
	struct tracker_response r;
	struct buf b;
	size_t i;

	buf_init(&b, TRACKER_MAX_BODY);
	cr_assert_eq(buf_puts(&b, "d5:peersl"), 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(buf_puts(&b, "d2:ip7:1.2.3.44:porti1ee"), 0);
	cr_assert_eq(buf_puts(&b, "ee"), 0);
	cr_assert_eq(parse((const char *)b.data, b.len, &r), 0);
	cr_assert_eq(r.npeers, TRACKER_MAX_PEERS);
	tracker_response_release(&r);
	buf_release(&b);
}

/* A deterministic "random" source: a counter the test controls. */
struct seq {
	const uint32_t	*v;
	size_t		 n, i;
};

static uint32_t
seq_next(void *ctx)
{
	struct seq *s = ctx;

	return s->v[s->i++ % s->n];
}

static char *t0[] = { "http://a/", "http://b/", "http://c/" };
static char *t1[] = { "http://d/", "http://e/" };
static char *t2[] = { "udp://f/" };

static void
meta_init(struct metainfo *m, struct metainfo_tier *tiers)
{
	memset(m, 0, sizeof *m);
	tiers[0].urls = t0;
	tiers[0].nurls = 3;
	tiers[1].urls = t1;
	tiers[1].nurls = 2;
	m->tiers = tiers;
	m->ntiers = 2;
}

Test(tracker, list_no_shuffle_keeps_order)
{
	struct metainfo m;
	struct metainfo_tier tiers[2];
	struct tracker_list tl;

	meta_init(&m, tiers);
	cr_assert_eq(tracker_list_init(&tl, &m, NULL, NULL), 0);
	cr_assert_eq(tl.ntiers, 2);
	cr_assert_str_eq(tracker_list_current(&tl), "http://a/");
	/* Copies, not borrowed pointers. */
	cr_assert_neq(tl.tiers[0].urls[0], t0[0]);
	tracker_list_release(&tl);
}

Test(tracker, list_shuffle_deterministic)
{
	static const uint32_t zeros[] = { 0 };
	struct metainfo m;
	struct metainfo_tier tiers[2];
	struct tracker_list tl, tl2;
	struct seq s = { zeros, 1, 0 }, s2 = { zeros, 1, 0 };

	meta_init(&m, tiers);
	/* Fisher-Yates with j = 0 always: [a b c] -> swap(2,0) [c b a]
	 * -> swap(1,0) [b c a]; [d e] -> [e d]. */
	cr_assert_eq(tracker_list_init(&tl, &m, seq_next, &s), 0);
	cr_assert_str_eq(tl.tiers[0].urls[0], "http://b/");
	cr_assert_str_eq(tl.tiers[0].urls[1], "http://c/");
	cr_assert_str_eq(tl.tiers[0].urls[2], "http://a/");
	cr_assert_str_eq(tl.tiers[1].urls[0], "http://e/");
	cr_assert_str_eq(tl.tiers[1].urls[1], "http://d/");
	cr_assert_eq(tracker_list_init(&tl2, &m, seq_next, &s2), 0);
	cr_assert_str_eq(tl2.tiers[0].urls[0], tl.tiers[0].urls[0]);
	cr_assert_str_eq(tl2.tiers[1].urls[0], tl.tiers[1].urls[0]);
	tracker_list_release(&tl);
	tracker_list_release(&tl2);
}

Test(tracker, list_shuffle_is_permutation)
{
	static const uint32_t vals[] = { 7, 123456789, 42, 99 };
	struct metainfo m;
	struct metainfo_tier tiers[2];
	struct tracker_list tl;
	struct seq s = { vals, 4, 0 };
	size_t i, j, found;

	meta_init(&m, tiers);
	cr_assert_eq(tracker_list_init(&tl, &m, seq_next, &s), 0);
	for (i = 0; i < 3; i++) {
		found = 0;
		for (j = 0; j < 3; j++)
			found += strcmp(t0[i], tl.tiers[0].urls[j]) == 0;
		cr_assert_eq(found, 1, "%s", t0[i]);
	}
	tracker_list_release(&tl);
}

Test(tracker, list_failover_and_backoff)
{
	static const char *order[] = { "http://a/", "http://b/", "http://c/",
	    "http://d/", "http://e/" };
	struct metainfo m;
	struct metainfo_tier tiers[2];
	struct tracker_list tl;
	int pass, i, expect;

	meta_init(&m, tiers);
	cr_assert_eq(tracker_list_init(&tl, &m, NULL, NULL), 0);
	for (pass = 0; pass < 10; pass++) {
		for (i = 0; i < 5; i++) {
			cr_assert_str_eq(tracker_list_current(&tl), order[i]);
			if (i < 4)
				cr_assert_eq(tracker_list_failed(&tl), 0);
		}
		expect = TRACKER_RETRY_MIN << pass;
		if (expect > TRACKER_RETRY_MAX)
			expect = TRACKER_RETRY_MAX;
		cr_assert_eq(tracker_list_failed(&tl), expect, "pass %d", pass);
		cr_assert_eq(tl.tier, 0);
		cr_assert_eq(tl.idx, 0);
	}
	cr_assert_eq(tl.failures, 10);
	tracker_list_release(&tl);
}

Test(tracker, list_backoff_never_overflows)
{
	struct tracker_list tl;
	int i, d = 0;

	memset(&tl, 0, sizeof tl);
	cr_assert_eq(tracker_list_add(&tl, "http://only/"), 0);
	for (i = 0; i < 200; i++) {
		d = tracker_list_failed(&tl);
		cr_assert(d >= TRACKER_RETRY_MIN && d <= TRACKER_RETRY_MAX);
	}
	cr_assert_eq(d, TRACKER_RETRY_MAX);
	tracker_list_release(&tl);
}

Test(tracker, list_success_promotes)
{
	struct metainfo m;
	struct metainfo_tier tiers[2];
	struct tracker_list tl;

	meta_init(&m, tiers);
	cr_assert_eq(tracker_list_init(&tl, &m, NULL, NULL), 0);
	/* Fail a, b, c and d's whole pass once to build up failures. */
	while (tracker_list_failed(&tl) == 0)
		;
	cr_assert_eq(tl.failures, 1);
	cr_assert_eq(tracker_list_failed(&tl), 0);	/* a -> b */
	cr_assert_eq(tracker_list_failed(&tl), 0);	/* b -> c */
	cr_assert_str_eq(tracker_list_current(&tl), "http://c/");
	tracker_list_succeeded(&tl);
	cr_assert_eq(tl.failures, 0);
	cr_assert_str_eq(tracker_list_current(&tl), "http://c/");
	cr_assert_str_eq(tl.tiers[0].urls[1], "http://a/");
	cr_assert_str_eq(tl.tiers[0].urls[2], "http://b/");
	/* Success in the second tier: promoted there, next starts at tier 0. */
	cr_assert_eq(tracker_list_failed(&tl), 0);
	cr_assert_eq(tracker_list_failed(&tl), 0);
	cr_assert_eq(tracker_list_failed(&tl), 0);
	cr_assert_eq(tracker_list_failed(&tl), 0);
	cr_assert_str_eq(tracker_list_current(&tl), "http://e/");
	tracker_list_succeeded(&tl);
	cr_assert_str_eq(tl.tiers[1].urls[0], "http://e/");
	cr_assert_str_eq(tl.tiers[1].urls[1], "http://d/");
	cr_assert_str_eq(tracker_list_current(&tl), "http://c/");
	tracker_list_release(&tl);
}

Test(tracker, list_add_and_empty)
{
	struct metainfo m;
	struct metainfo_tier tiers[3];
	struct tracker_list tl;

	memset(&m, 0, sizeof m);
	cr_assert_eq(tracker_list_init(&tl, &m, NULL, NULL), 0);
	cr_assert_null(tracker_list_current(&tl));
	cr_assert_eq(tracker_list_failed(&tl), 0);
	tracker_list_succeeded(&tl);
	cr_assert_eq(tracker_list_add(&tl, ""), THR_EINVAL);
	cr_assert_eq(tracker_list_add(&tl, "http://x/"), 0);
	cr_assert_str_eq(tracker_list_current(&tl), "http://x/");
	tracker_list_release(&tl);

	/* Empty tiers in the torrent are dropped. */
	meta_init(&m, tiers);
	tiers[1].nurls = 0;
	tiers[2].urls = t2;
	tiers[2].nurls = 1;
	m.ntiers = 3;
	cr_assert_eq(tracker_list_init(&tl, &m, NULL, NULL), 0);
	cr_assert_eq(tl.ntiers, 2);
	cr_assert_eq(tracker_list_add(&tl, "http://y/"), 0);
	cr_assert_eq(tl.ntiers, 3);
	cr_assert_str_eq(tl.tiers[2].urls[0], "http://y/");
	cr_assert_str_eq(tl.tiers[1].urls[0], "udp://f/");
	tracker_list_release(&tl);
}

Test(addr, format_v4_v6)
{
	struct thr_addr a;
	char s[ADDR_STR_MAX];

	memset(&a, 0, sizeof a);
	a.family = 4;
	a.ip[0] = 1, a.ip[1] = 2, a.ip[2] = 3, a.ip[3] = 4;
	a.port = 5;
	addr_format(&a, s, sizeof s);
	cr_assert_str_eq(s, "1.2.3.4:5");
	memset(&a, 0, sizeof a);
	a.family = 6;
	a.ip[15] = 1;
	a.port = 65535;
	addr_format(&a, s, sizeof s);
	cr_assert_str_eq(s, "[::1]:65535");
	a.family = 7;
	addr_format(&a, s, sizeof s);
	cr_assert_str_eq(s, "?");
}

Test(addr, parse_good)
{
	struct thr_addr a, b;
	char s[ADDR_STR_MAX];

	cr_assert_eq(addr_parse("192.168.1.10:6881", &a), 0);
	cr_assert_eq(a.family, 4);
	cr_assert_eq(a.port, 6881);
	addr_format(&a, s, sizeof s);
	cr_assert_str_eq(s, "192.168.1.10:6881");
	cr_assert_eq(addr_parse("[2001:db8::1]:1", &a), 0);
	cr_assert_eq(a.family, 6);
	addr_format(&a, s, sizeof s);
	cr_assert_str_eq(s, "[2001:db8::1]:1");
	cr_assert_eq(addr_parse("localhost:51413", &a), 0);
	cr_assert_eq(addr_parse("127.0.0.1:51413", &b), 0);
	cr_assert(addr_equal(&a, &b));
}

Test(addr, parse_bad)
{
	static const char *bad[] = { "", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0",
	    "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+5", "1.2.3.4:5x",
	    "1.2.3.4:99999999999999999999", "1.2.3:5", "host.example:80",
	    "::1:80", "[::1]", "[::1]80", "[1.2.3.4]:80", "[::1:80",
	    ":80", "1.2.3.4 :80", "[]:80" };
	struct thr_addr a;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(addr_parse(bad[i], &a), THR_EINVAL, "%s", bad[i]);
	cr_assert_eq(addr_parse(NULL, &a), THR_EINVAL);
}

Test(addr, equal)
{
	struct thr_addr a, b;

	cr_assert_eq(addr_parse("1.2.3.4:5", &a), 0);
	b = a;
	cr_assert(addr_equal(&a, &b));
	b.port = 6;
	cr_assert_not(addr_equal(&a, &b));
	b = a;
	b.ip[3] = 9;
	cr_assert_not(addr_equal(&a, &b));
	b = a;
	b.family = 6;
	cr_assert_not(addr_equal(&a, &b));
	/* Bytes past the IPv4 address do not matter. */
	b = a;
	b.ip[10] = 1;
	cr_assert(addr_equal(&a, &b));
}
