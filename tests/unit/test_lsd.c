/*
 * test_lsd.c: BEP 14 announces: format and parse round trips, several
 * info-hashes, header case, our own cookie, the IPv6 Host, hostile and
 * malformed datagrams, and the announce schedule on a simulated clock.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/lsd.h"

#define IH_A	"0123456789abcdef0123456789abcdef01234567"
#define IH_B	"FEDCBA9876543210FEDCBA9876543210FEDCBA98"

static void
hash_fill(uint8_t h[20], uint8_t seed)
{
	for (int i = 0; i < 20; i++)
		h[i] = (uint8_t)(seed + i * 13);
}

static int
parse_str(const char *s, struct lsd_msg *m, struct thr_error *err)
{
	memset(err, 0, sizeof *err);
	return lsd_parse((const uint8_t *)s, strlen(s), m, err);
}

Test(lsd, format_parse_round_trip)
{
	uint8_t h[1][20];
	char out[LSD_MSG_MAX];
	struct lsd_msg m;
	struct thr_error err;
	size_t len;

	hash_fill(h[0], 7);
	cr_assert_eq(lsd_format(4, 6881, (const uint8_t (*)[20])h, 1,
	    "abcdef0123456789", out, sizeof out, &len), 0);
	cr_assert_eq(len, strlen(out));
	cr_assert(strncmp(out, "BT-SEARCH * HTTP/1.1\r\n"
	    "Host: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: ", 72) == 0,
	    "%s", out);
	cr_assert(len >= 8 && memcmp(out + len - 6, "\r\n\r\n\r\n", 6) == 0);
	memset(&err, 0, sizeof err);
	cr_assert_eq(lsd_parse((const uint8_t *)out, len, &m, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(m.port, 6881);
	cr_assert_eq(m.nhashes, 1);
	cr_assert_eq(memcmp(m.hashes[0], h[0], 20), 0);
	cr_assert_eq(m.host_family, 4);
	cr_assert_eq(m.cookielen, 16);
	cr_assert_eq(memcmp(m.cookie, "abcdef0123456789", 16), 0);
	cr_assert(lsd_has_hash(&m, h[0]));
	h[0][19] ^= 1;
	cr_assert_not(lsd_has_hash(&m, h[0]));
}

Test(lsd, exact_bytes)
{
	uint8_t h[1][20];
	char out[LSD_MSG_MAX];
	size_t len;

	for (int i = 0; i < 20; i++)
		h[0][i] = (uint8_t)(i * 0x11);
	cr_assert_eq(lsd_format(4, 1, (const uint8_t (*)[20])h, 1, NULL,
	    out, sizeof out, &len), 0);
	cr_assert_str_eq(out, "BT-SEARCH * HTTP/1.1\r\n"
	    "Host: 239.192.152.143:6771\r\n"
	    "Port: 1\r\n"
	    "Infohash: 00112233445566778899aabbccddeeff10213243\r\n"
	    "\r\n\r\n");
}

Test(lsd, ipv6_host)
{
	uint8_t h[1][20];
	char out[LSD_MSG_MAX];
	struct lsd_msg m;
	struct thr_error err;
	size_t len;

	hash_fill(h[0], 1);
	cr_assert_eq(lsd_format(6, 51413, (const uint8_t (*)[20])h, 1, "c",
	    out, sizeof out, &len), 0);
	cr_assert_not_null(strstr(out, "\r\nHost: [ff15::efc0:988f]:6771\r\n"));
	cr_assert_eq(lsd_parse((const uint8_t *)out, len, &m, &err), 0);
	cr_assert_eq(m.host_family, 6);
	cr_assert_eq(m.port, 51413);
	/* Upper-case hex in the Host is the same group. */
	cr_assert_eq(parse_str("BT-SEARCH * HTTP/1.1\r\n"
	    "Host: [FF15::EFC0:988F]:6771\r\nPort: 5\r\n"
	    "Infohash: " IH_A "\r\n\r\n\r\n", &m, &err), 0);
	cr_assert_eq(m.host_family, 6);
	/* An unknown Host is tolerated and reported as such. */
	cr_assert_eq(parse_str("BT-SEARCH * HTTP/1.1\r\n"
	    "Host: 10.0.0.1:6771\r\nPort: 5\r\n"
	    "Infohash: " IH_A "\r\n\r\n\r\n", &m, &err), 0);
	cr_assert_eq(m.host_family, 0);
}

Test(lsd, several_infohashes)
{
	uint8_t h[LSD_MAX_HASHES][20];
	char out[LSD_MSG_MAX];
	struct lsd_msg m;
	struct thr_error err;
	size_t len;

	for (size_t i = 0; i < LSD_MAX_HASHES; i++)
		hash_fill(h[i], (uint8_t)(i * 3));
	cr_assert_eq(lsd_format(4, 6881, (const uint8_t (*)[20])h,
	    LSD_MAX_HASHES, "x", out, sizeof out, &len), 0);
	cr_assert_leq(len, LSD_MSG_MAX);
	cr_assert_eq(lsd_parse((const uint8_t *)out, len, &m, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(m.nhashes, LSD_MAX_HASHES);
	for (size_t i = 0; i < LSD_MAX_HASHES; i++) {
		cr_assert_eq(memcmp(m.hashes[i], h[i], 20), 0);
		cr_assert(lsd_has_hash(&m, h[i]));
	}
	/* Upper- and lower-case hex, two lines. */
	cr_assert_eq(parse_str("BT-SEARCH * HTTP/1.1\r\nPort: 9\r\n"
	    "Infohash: " IH_A "\r\nInfohash: " IH_B "\r\n\r\n\r\n", &m, &err),
	    0);
	cr_assert_eq(m.nhashes, 2);
	cr_assert_eq(m.hashes[1][0], 0xfe);
	cr_assert_eq(m.hashes[1][19], 0x98);
	/* Too many for the format. */
	cr_assert_eq(lsd_format(4, 6881, (const uint8_t (*)[20])h,
	    LSD_MAX_HASHES + 1, NULL, out, sizeof out, &len), THR_EINVAL);
}

Test(lsd, too_many_infohashes)
{
	char buf[2048];
	struct lsd_msg m;
	struct thr_error err;
	size_t off;

	off = (size_t)snprintf(buf, sizeof buf,
	    "BT-SEARCH * HTTP/1.1\r\nPort: 9\r\n");
	for (unsigned i = 0; i <= LSD_MAX_HASHES; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off,
		    "Infohash: " IH_A "\r\n");
	snprintf(buf + off, sizeof buf - off, "\r\n");
	cr_assert_leq(strlen(buf), LSD_MSG_MAX);
	cr_assert_eq(parse_str(buf, &m, &err), THR_ELIMIT);
	cr_assert_eq(err.code, THR_ELIMIT);
	cr_assert_gt(err.offset, 0);
}

Test(lsd, header_case_and_unknown_headers)
{
	struct lsd_msg m;
	struct thr_error err;

	cr_assert_eq(parse_str("BT-SEARCH * HTTP/1.1\r\n"
	    "HOST: 239.192.152.143:6771\r\n"
	    "X-Unknown: whatever: with colons\r\n"
	    "pOrT:6882   \r\n"
	    "INFOHASH:\t" IH_A "\r\n"
	    "Cookie: me\r\n"
	    "User-Agent: \xc3\xa9t\xc3\xa9\r\n"
	    "\r\n\r\n", &m, &err), 0, "%s", err.msg);
	cr_assert_eq(m.port, 6882);
	cr_assert_eq(m.host_family, 4);
	cr_assert_eq(m.nhashes, 1);
	cr_assert_eq(m.cookielen, 2);
	cr_assert_eq(memcmp(m.cookie, "me", 2), 0);
	/* Bare LF line ends and a missing final blank line. */
	cr_assert_eq(parse_str("BT-SEARCH * HTTP/1.1\nPort: 1\n"
	    "Infohash: " IH_A, &m, &err), 0, "%s", err.msg);
	cr_assert_eq(m.port, 1);
	/* What follows the blank line is not read. */
	cr_assert_eq(parse_str("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
	    "Infohash: " IH_A "\r\n\r\nPort: nonsense\r\n", &m, &err), 0);
}

Test(lsd, own_cookie_ignored)
{
	struct lsd me, other;
	uint8_t h[1][20];
	char out[LSD_MSG_MAX];
	struct lsd_msg m;
	struct thr_error err;
	size_t len;

	lsd_init(&me, 0x0123456789abcdefULL);
	lsd_init(&other, 0x0123456789abcdeeULL);
	cr_assert_str_eq(me.cookie, "0123456789abcdef");
	hash_fill(h[0], 9);
	cr_assert_eq(lsd_format(4, 6881, (const uint8_t (*)[20])h, 1,
	    me.cookie, out, sizeof out, &len), 0);
	cr_assert_eq(lsd_parse((const uint8_t *)out, len, &m, &err), 0);
	cr_assert(lsd_own(&me, &m));
	cr_assert_not(lsd_own(&other, &m));
	/* No cookie: never ours. */
	cr_assert_eq(lsd_format(4, 6881, (const uint8_t (*)[20])h, 1, NULL,
	    out, sizeof out, &len), 0);
	cr_assert_eq(lsd_parse((const uint8_t *)out, len, &m, &err), 0);
	cr_assert_null(m.cookie);
	cr_assert_not(lsd_own(&me, &m));
	/* A cookie that only starts like ours is not ours. */
	cr_assert_eq(parse_str("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
	    "Infohash: " IH_A "\r\ncookie: 0123456789abcdefX\r\n\r\n", &m,
	    &err), 0);
	cr_assert_not(lsd_own(&me, &m));
	/* Bad cookies are refused by the formatter. */
	cr_assert_eq(lsd_format(4, 6881, (const uint8_t (*)[20])h, 1,
	    "a b", out, sizeof out, &len), THR_EINVAL);
	cr_assert_eq(lsd_format(4, 6881, (const uint8_t (*)[20])h, 1,
	    "a\r\nPort: 1", out, sizeof out, &len), THR_EINVAL);
	cr_assert_eq(lsd_format(4, 6881, (const uint8_t (*)[20])h, 1, "",
	    out, sizeof out, &len), THR_EINVAL);
}

Test(lsd, format_limits)
{
	uint8_t h[1][20];
	char out[LSD_MSG_MAX];
	size_t len;

	hash_fill(h[0], 2);
	cr_assert_eq(lsd_format(5, 1, (const uint8_t (*)[20])h, 1, NULL,
	    out, sizeof out, &len), THR_EINVAL);
	cr_assert_eq(lsd_format(4, 0, (const uint8_t (*)[20])h, 1, NULL,
	    out, sizeof out, &len), THR_EINVAL);
	cr_assert_eq(lsd_format(4, 1, (const uint8_t (*)[20])h, 0, NULL,
	    out, sizeof out, &len), THR_EINVAL);
	cr_assert_eq(lsd_format(4, 1, (const uint8_t (*)[20])h, 1, NULL,
	    out, 60, &len), THR_ELIMIT);
	cr_assert_eq(len, 0);
	/* Exactly enough room, with the NUL. */
	cr_assert_eq(lsd_format(4, 1, (const uint8_t (*)[20])h, 1, NULL,
	    out, sizeof out, &len), 0);
	cr_assert_eq(lsd_format(4, 1, (const uint8_t (*)[20])h, 1, NULL,
	    out, len + 1, &len), 0);
	cr_assert_eq(lsd_format(4, 1, (const uint8_t (*)[20])h, 1, NULL,
	    out, len, &len), THR_ELIMIT);
}

struct bad_case {
	const char	*name;
	const char	*msg;
	size_t		 len;	/* 0: strlen */
	int		 code;
};

Test(lsd, malformed_rejected)
{
	static const struct bad_case cases[] = {
		{ "empty", "", 0, THR_EINVAL },
		{ "M-SEARCH", "M-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "lower-case request", "bt-search * HTTP/1.1\r\nPort: 1\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "HTTP/1.0", "BT-SEARCH * HTTP/1.0\r\nPort: 1\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "trailing blank", "BT-SEARCH * HTTP/1.1 \r\nPort: 1\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "leading blank line", "\r\nBT-SEARCH * HTTP/1.1\r\nPort: 1"
		    "\r\nInfohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "request only", "BT-SEARCH * HTTP/1.1\r\n\r\n", 0,
		    THR_EINVAL },
		{ "no port", "BT-SEARCH * HTTP/1.1\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "no infohash", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n", 0,
		    THR_EINVAL },
		{ "port 0", "BT-SEARCH * HTTP/1.1\r\nPort: 0\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "port 65536", "BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "port 6 digits", "BT-SEARCH * HTTP/1.1\r\nPort: 006881\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "port sign", "BT-SEARCH * HTTP/1.1\r\nPort: +6881\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "port hex", "BT-SEARCH * HTTP/1.1\r\nPort: 0x1a\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "port empty", "BT-SEARCH * HTTP/1.1\r\nPort:\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "port twice", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nPort: 2"
		    "\r\nInfohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "odd hex", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
		    "Infohash: 0123456789abcdef0123456789abcdef0123456"
		    "\r\n\r\n", 0, THR_EINVAL },
		{ "long hex", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
		    "Infohash: " IH_A "0\r\n\r\n", 0, THR_EINVAL },
		{ "not hex", "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n"
		    "Infohash: 0123456789abcdef0123456789abcdef0123456g"
		    "\r\n\r\n", 0, THR_EINVAL },
		{ "no colon", "BT-SEARCH * HTTP/1.1\r\nPort 1\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "blank in name", "BT-SEARCH * HTTP/1.1\r\nPort : 1\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "empty name", "BT-SEARCH * HTTP/1.1\r\n: 1\r\nPort: 1\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "bare CR", "BT-SEARCH * HTTP/1.1\r\nPort: 1\rX: y\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
		{ "escape", "BT-SEARCH * HTTP/1.1\r\nX: \x1b[2J\r\nPort: 1\r\n"
		    "Infohash: " IH_A "\r\n\r\n", 0, THR_EINVAL },
	};
	struct lsd_msg m;
	struct thr_error err;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct bad_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->msg);

		memset(&err, 0, sizeof err);
		cr_assert_eq(lsd_parse((const uint8_t *)c->msg, len, &m, &err),
		    c->code, "%s", c->name);
		cr_assert_eq(err.code, c->code, "%s", c->name);
		cr_assert_neq(err.msg[0], '\0', "%s", c->name);
	}
}

Test(lsd, nul_bytes_rejected)
{
	static const char msg[] = "BT-SEARCH * HTTP/1.1\r\nPort: 1\0\r\n"
	    "Infohash: " IH_A "\r\n\r\n";
	static const char msg2[] = "BT-SEARCH * HTTP/1.1\0\r\nPort: 1\r\n"
	    "Infohash: " IH_A "\r\n\r\n";
	struct lsd_msg m;
	struct thr_error err;

	memset(&err, 0, sizeof err);
	cr_assert_eq(lsd_parse((const uint8_t *)msg, sizeof msg - 1, &m,
	    &err), THR_EINVAL);
	cr_assert_eq(err.offset, 29);
	cr_assert_eq(lsd_parse((const uint8_t *)msg2, sizeof msg2 - 1, &m,
	    &err), THR_EINVAL);
	cr_assert_eq(lsd_parse((const uint8_t *)"\0", 1, &m, &err),
	    THR_EINVAL);
	/* err may be NULL. */
	cr_assert_eq(lsd_parse((const uint8_t *)msg, sizeof msg - 1, &m,
	    NULL), THR_EINVAL);
}

Test(lsd, overlong_rejected)
{
	char buf[LSD_MSG_MAX + 64];
	struct lsd_msg m;
	struct thr_error err;
	size_t off;

	/* A datagram above LSD_MSG_MAX, even if well-formed. */
	off = (size_t)snprintf(buf, sizeof buf, "BT-SEARCH * HTTP/1.1\r\n"
	    "Port: 1\r\nInfohash: " IH_A "\r\n");
	while (off + 12 < sizeof buf)
		off += (size_t)snprintf(buf + off, sizeof buf - off,
		    "X-Pad: abc\r\n");
	cr_assert_gt(off, LSD_MSG_MAX);
	cr_assert_eq(lsd_parse((const uint8_t *)buf, off, &m, &err),
	    THR_ELIMIT);
	/* A header line above LSD_LINE_MAX. */
	off = (size_t)snprintf(buf, sizeof buf, "BT-SEARCH * HTTP/1.1\r\n"
	    "Port: 1\r\nInfohash: " IH_A "\r\nX-Long: ");
	memset(buf + off, 'a', LSD_LINE_MAX);
	off += LSD_LINE_MAX;
	memcpy(buf + off, "\r\n\r\n", 4);
	off += 4;
	cr_assert_eq(lsd_parse((const uint8_t *)buf, off, &m, &err),
	    THR_ELIMIT);
	/* Too many lines. */
	off = (size_t)snprintf(buf, sizeof buf, "BT-SEARCH * HTTP/1.1\r\n"
	    "Port: 1\r\nInfohash: " IH_A "\r\n");
	for (unsigned i = 0; i < LSD_MAX_LINES; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "X:\r\n");
	cr_assert_eq(lsd_parse((const uint8_t *)buf, off, &m, &err),
	    THR_ELIMIT);
}

Test(lsd, timing)
{
	struct lsd l;
	uint64_t t0 = 1000000;

	lsd_init(&l, 42);
	/* The first announce is due at once. */
	cr_assert(lsd_due(&l, 0));
	cr_assert(lsd_due(&l, t0));
	lsd_sent(&l, t0);
	cr_assert_not(lsd_due(&l, t0));
	cr_assert_eq(lsd_deadline(&l), t0 + LSD_ANNOUNCE_MS);
	cr_assert_not(lsd_due(&l, t0 + LSD_ANNOUNCE_MS - 1));
	cr_assert(lsd_due(&l, t0 + LSD_ANNOUNCE_MS));
	/* Then every five minutes. */
	lsd_sent(&l, t0 + LSD_ANNOUNCE_MS);
	cr_assert_eq(lsd_deadline(&l), t0 + 2 * LSD_ANNOUNCE_MS);
	cr_assert_eq(LSD_ANNOUNCE_MS, 300000);
	cr_assert_eq(LSD_MIN_GAP_MS, 60000);
}

Test(lsd, poke_never_faster_than_a_minute)
{
	struct lsd l;
	uint64_t t0 = 5000;

	lsd_init(&l, 1);
	/* Poking before the first announce keeps it immediate. */
	lsd_poke(&l, t0);
	cr_assert(lsd_due(&l, t0));
	lsd_sent(&l, t0);
	/* A poke right after an announce waits out the minute. */
	lsd_poke(&l, t0 + 10);
	cr_assert_eq(lsd_deadline(&l), t0 + LSD_MIN_GAP_MS);
	cr_assert_not(lsd_due(&l, t0 + LSD_MIN_GAP_MS - 1));
	cr_assert(lsd_due(&l, t0 + LSD_MIN_GAP_MS));
	/* A poke later than a minute is due at once. */
	lsd_sent(&l, t0 + LSD_MIN_GAP_MS);
	lsd_poke(&l, t0 + 3 * LSD_MIN_GAP_MS);
	cr_assert(lsd_due(&l, t0 + 3 * LSD_MIN_GAP_MS));
	/* A poke never pushes the next announce later. */
	lsd_init(&l, 1);
	lsd_sent(&l, 0);
	lsd_poke(&l, LSD_ANNOUNCE_MS + 99);
	cr_assert_eq(lsd_deadline(&l), LSD_ANNOUNCE_MS);
	/* A caller cannot push next_ms under the floor either. */
	l.next_ms = 1;
	cr_assert_eq(lsd_deadline(&l), LSD_MIN_GAP_MS);
}

Test(lsd, many_pokes_one_announce_a_minute)
{
	struct lsd l;
	unsigned sent = 0;

	/* Poked every second for ten minutes: at most eleven announces
	 * (the first, then one a minute). */
	lsd_init(&l, 3);
	for (uint64_t t = 0; t < 10 * 60 * 1000; t += 1000) {
		lsd_poke(&l, t);
		if (lsd_due(&l, t)) {
			lsd_sent(&l, t);
			sent++;
		}
	}
	cr_assert_eq(sent, 10);
}
