/*
 * test_magnet.c: magnet links (BEP 9): info-hash forms, names, tracker,
 * peer and web seed filtering and caps, hostile and malformed links, and format
 * round trips.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/magnet.h"

#define HEX0	"000102030405060708090a0b0c0d0e0f10111213"
#define B32_0	"AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT"

static const uint8_t ih0[20] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19
};

static int
parse(const char *s, struct magnet *m, struct thr_error *e)
{
	memset(e, 0, sizeof *e);
	return magnet_parse(s, strlen(s), m, e);
}

Test(magnet, hex_hash)
{
	struct magnet m;
	struct thr_error e;

	cr_assert_eq(parse("magnet:?xt=urn:btih:" HEX0, &m, &e), 0, "%s",
	    e.msg);
	cr_assert_arr_eq(m.info_hash, ih0, 20);
	cr_assert_null(m.name);
	cr_assert_eq(m.ntrackers, 0);
	cr_assert_eq(m.npeers, 0);
	magnet_release(&m);
}

Test(magnet, hex_upper_case_and_scheme_case)
{
	struct magnet m;
	struct thr_error e;

	cr_assert_eq(parse("MAGNET:?xt=URN:BTIH:"
	    "000102030405060708090A0B0C0D0E0F10111213", &m, &e), 0, "%s",
	    e.msg);
	cr_assert_arr_eq(m.info_hash, ih0, 20);
	magnet_release(&m);
}

Test(magnet, base32_hash)
{
	static const uint8_t want[20] = {
		0x11, 0xf6, 0xad, 0x8e, 0xc5, 0x2a, 0x29, 0x84, 0xab, 0xaa,
		0xfd, 0x7c, 0x3b, 0x51, 0x65, 0x03, 0x78, 0x5c, 0x20, 0x72
	};
	struct magnet m;
	struct thr_error e;

	cr_assert_eq(parse("magnet:?xt=urn:btih:" B32_0, &m, &e), 0);
	cr_assert_arr_eq(m.info_hash, ih0, 20);
	magnet_release(&m);
	cr_assert_eq(parse("magnet:?xt=urn:btih:"
	    "ch3k3dwffiuyjk5k7v6dwulfan4fyids", &m, &e), 0);
	cr_assert_arr_eq(m.info_hash, want, 20);
	magnet_release(&m);
}

Test(magnet, bad_hashes)
{
	static const char *const bad[] = {
		"magnet:?xt=urn:btih:" "00010203",
		"magnet:?xt=urn:btih:",
		"magnet:?xt=urn:btih:000102030405060708090a0b0c0d0e0f1011121",
		"magnet:?xt=urn:btih:000102030405060708090a0b0c0d0e0f101112131",
		"magnet:?xt=urn:btih:g00102030405060708090a0b0c0d0e0f10111213",
		"magnet:?xt=urn:btih:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQ1",
		"magnet:?xt=urn:btih:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQ=",
	};
	struct magnet m;
	struct thr_error e;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_assert_eq(parse(bad[i], &m, &e), THR_EINVAL, "%s", bad[i]);
		cr_assert_eq(e.code, THR_EINVAL);
		cr_assert_not_null(strstr(e.msg, "info-hash"), "%s", e.msg);
		cr_assert_null(m.trackers);
		magnet_release(&m);
	}
}

Test(magnet, no_hash)
{
	static const char *const bad[] = {
		"magnet:?",
		"magnet:?dn=foo&tr=http://t/a",
		"magnet:?xt=urn:btmh:1220" HEX0 HEX0,
		"magnet:?xt",
		"magnet:?xtx=urn:btih:" HEX0,
		"magnet:?xt.a=urn:btih:" HEX0,
	};
	struct magnet m;
	struct thr_error e;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_assert_eq(parse(bad[i], &m, &e), THR_EINVAL, "%s", bad[i]);
		cr_assert_str_eq(e.msg,
		    "magnet link has no urn:btih info-hash");
		magnet_release(&m);
	}
}

Test(magnet, not_magnet)
{
	static const char *const bad[] = {
		"", "magnet:", "magnet:x", "http://x/?xt=urn:btih:" HEX0,
		"magnet?xt=urn:btih:" HEX0,
	};
	struct magnet m;
	struct thr_error e;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_assert_eq(parse(bad[i], &m, &e), THR_EINVAL, "%s", bad[i]);
		cr_assert_not_null(strstr(e.msg, "not a magnet"));
	}
}

Test(magnet, several_xt)
{
	struct magnet m;
	struct thr_error e;

	cr_assert_eq(parse("magnet:?xt=urn:btmh:1220abcd&xt.1=urn:btih:" HEX0
	    "&xt.2=urn:btih:" B32_0, &m, &e), 0, "%s", e.msg);
	cr_assert_arr_eq(m.info_hash, ih0, 20);
	magnet_release(&m);
	cr_assert_eq(parse("magnet:?xt=urn:btih:" HEX0 "&dn=x&xt=urn:btih:"
	    "ch3k3dwffiuyjk5k7v6dwulfan4fyids", &m, &e), THR_EINVAL);
	cr_assert_not_null(strstr(e.msg, "two different"));
	cr_assert_gt(e.offset, 20);
	cr_assert_null(m.name);
}

Test(magnet, percent_encoded_xt)
{
	struct magnet m;
	struct thr_error e;

	cr_assert_eq(parse("magnet:?xt=urn%3Abtih%3a" HEX0, &m, &e), 0,
	    "%s", e.msg);
	cr_assert_arr_eq(m.info_hash, ih0, 20);
	magnet_release(&m);
}

Test(magnet, name)
{
	struct magnet m;
	struct thr_error e;

	cr_assert_eq(parse("magnet:?dn=Big+Buck%20Bunny%2B%zz%4&xt=urn:btih:"
	    HEX0 "&dn=second", &m, &e), 0);
	cr_assert_str_eq(m.name, "Big Buck Bunny+%zz%4");
	magnet_release(&m);
	cr_assert_eq(parse("magnet:?xt=urn:btih:" HEX0
	    "&dn=a%1b[31mb%00c%7f%0a", &m, &e), 0);
	cr_assert_str_eq(m.name, "a?[31mb?c??");
	magnet_release(&m);
	cr_assert_eq(parse("magnet:?xt=urn:btih:" HEX0 "&dn=", &m, &e), 0);
	cr_assert_null(m.name);
	magnet_release(&m);
}

Test(magnet, long_name_cut_on_character)
{
	struct magnet m;
	struct thr_error e;
	char uri[4096];
	size_t n, i;

	n = (size_t)snprintf(uri, sizeof uri, "magnet:?xt=urn:btih:%s&dn=x",
	    HEX0);
	/* "x" then two-byte characters: byte 1024 falls inside one. */
	for (i = 0; i < 600; i++)
		n += (size_t)snprintf(uri + n, sizeof uri - n, "%%C3%%A9");
	cr_assert_eq(magnet_parse(uri, n, &m, &e), 0);
	cr_assert_eq(strlen(m.name), MAGNET_MAX_NAME - 1);
	cr_assert_eq((unsigned char)m.name[MAGNET_MAX_NAME - 2], 0xa9);
	magnet_release(&m);
}

Test(magnet, trackers_filtered_and_deduplicated)
{
	struct magnet m;
	struct thr_error e;

	cr_assert_eq(parse("magnet:?xt=urn:btih:" HEX0
	    "&tr=http%3A%2F%2Ft.example%2Fannounce"
	    "&tr=udp://u.example:6969"
	    "&tr.1=https://s.example/a?x=1%26y=2"
	    "&tr=http://t.example/announce"
	    "&tr=ftp://f.example/"
	    "&tr=javascript:alert(1)"
	    "&tr=http://"
	    "&tr=http://bad%0a.example/"
	    "&tr=http://sp ace/"
	    "&tr=HTTP://UP.example/", &m, &e), 0);
	cr_assert_eq(m.ntrackers, 4);
	cr_assert_str_eq(m.trackers[0], "http://t.example/announce");
	cr_assert_str_eq(m.trackers[1], "udp://u.example:6969");
	cr_assert_str_eq(m.trackers[2], "https://s.example/a?x=1&y=2");
	cr_assert_str_eq(m.trackers[3], "HTTP://UP.example/");
	magnet_release(&m);
}

Test(magnet, tracker_cap)
{
	struct magnet m;
	struct thr_error e;
	char uri[MAGNET_MAX_URI];
	size_t n, i;

	n = (size_t)snprintf(uri, sizeof uri, "magnet:?xt=urn:btih:%s", HEX0);
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(uri + n, sizeof uri - n,
		    "&tr=http://t%zu/", i);
	cr_assert_eq(magnet_parse(uri, n, &m, &e), 0);
	cr_assert_eq(m.ntrackers, MAGNET_MAX_TRACKERS);
	cr_assert_str_eq(m.trackers[63], "http://t63/");
	magnet_release(&m);
}

/* ws= (BEP 19 web seeds): http(s) only, no control bytes, spaces or
 * %00, deduplicated, capped; numbered keys count. */
Test(magnet, webseeds_filtered_and_capped)
{
	struct magnet m;
	struct thr_error e;
	char uri[MAGNET_MAX_URI];
	size_t n, i;

	cr_assert_eq(parse("magnet:?xt=urn:btih:" HEX0
	    "&ws=http%3A%2F%2F127.0.0.1%3A8080%2Fdata%2F"
	    "&ws.1=https://w.example/b"
	    "&ws=http://127.0.0.1:8080/data/"
	    "&ws=https://w.example/a%20b"
	    "&ws=ftp://f.example/"
	    "&ws=udp://u.example:1/"
	    "&ws=http://"
	    "&ws=http://bad%0a.example/"
	    "&ws=http://nul%00.example/"
	    "&ws=http://sp ace/", &m, &e), 0);
	cr_assert_eq(m.nwebseeds, 2);
	cr_assert_str_eq(m.webseeds[0], "http://127.0.0.1:8080/data/");
	cr_assert_str_eq(m.webseeds[1], "https://w.example/b");
	cr_assert_eq(m.ntrackers, 0, "a web seed is not a tracker");
	magnet_release(&m);
	/* "a%20b" decodes to a space, which no URL may hold. */
	cr_assert_eq(parse("magnet:?xt=urn:btih:" HEX0
	    "&ws=https://w.example/a%2520b", &m, &e), 0);
	cr_assert_eq(m.nwebseeds, 1);
	cr_assert_str_eq(m.webseeds[0], "https://w.example/a%20b");
	magnet_release(&m);

	n = (size_t)snprintf(uri, sizeof uri, "magnet:?xt=urn:btih:%s", HEX0);
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(uri + n, sizeof uri - n,
		    "&ws=http://w%zu/", i);
	cr_assert_eq(magnet_parse(uri, n, &m, &e), 0);
	cr_assert_eq(m.nwebseeds, MAGNET_MAX_WEBSEEDS);
	cr_assert_str_eq(m.webseeds[MAGNET_MAX_WEBSEEDS - 1], "http://w15/");
	magnet_release(&m);
}

Test(magnet, peers)
{
	struct magnet m;
	struct thr_error e;
	char s[ADDR_STR_MAX];

	cr_assert_eq(parse("magnet:?xt=urn:btih:" HEX0
	    "&x.pe=10.0.0.1:6881"
	    "&x.pe=%5B2001:db8::1%5D:51413"
	    "&x.pe=peer.example:6881"
	    "&x.pe=10.0.0.1:6881"
	    "&x.pe=10.0.0.2:0"
	    "&x.pe=10.0.0.3:65536"
	    "&x.pe=10.0.0.4"
	    "&x.pe=10.0.0.5:1%00"
	    "&x.pe.1=[::1]:1", &m, &e), 0);
	cr_assert_eq(m.npeers, 3);
	addr_format(&m.peers[0], s, sizeof s);
	cr_assert_str_eq(s, "10.0.0.1:6881");
	addr_format(&m.peers[1], s, sizeof s);
	cr_assert_str_eq(s, "[2001:db8::1]:51413");
	addr_format(&m.peers[2], s, sizeof s);
	cr_assert_str_eq(s, "[::1]:1");
	magnet_release(&m);
}

Test(magnet, peer_cap)
{
	struct magnet m;
	struct thr_error e;
	char uri[MAGNET_MAX_URI];
	size_t n, i;

	n = (size_t)snprintf(uri, sizeof uri, "magnet:?xt=urn:btih:%s", HEX0);
	for (i = 0; i < 300; i++)
		n += (size_t)snprintf(uri + n, sizeof uri - n,
		    "&x.pe=1.2.%zu.%zu:1", i / 256, i % 256);
	cr_assert_lt(n, sizeof uri);
	cr_assert_eq(magnet_parse(uri, n, &m, &e), 0);
	cr_assert_eq(m.npeers, MAGNET_MAX_PEERS);
	magnet_release(&m);
}

Test(magnet, length_cap)
{
	struct magnet m;
	struct thr_error e;
	char *uri;
	size_t n = MAGNET_MAX_URI + 1;

	uri = malloc(n);
	cr_assert_not_null(uri);
	memset(uri, 'a', n);
	memcpy(uri, "magnet:?xt=urn:btih:" HEX0 "&dn=", 64);
	cr_assert_eq(magnet_parse(uri, n, &m, &e), THR_ELIMIT);
	cr_assert_eq(magnet_parse(uri, n - 1, &m, &e), 0, "%s", e.msg);
	cr_assert_eq(strlen(m.name), MAGNET_MAX_NAME);
	magnet_release(&m);
	free(uri);
}

Test(magnet, length_bounds_the_input)
{
	struct magnet m;
	struct thr_error e;
	const char *s = "magnet:?xt=urn:btih:" HEX0 "&dn=abcdef";

	/* Not NUL-terminated at len: nothing past it may be read. */
	cr_assert_eq(magnet_parse(s, strlen(s) - 3, &m, &e), 0);
	cr_assert_str_eq(m.name, "abc");
	magnet_release(&m);
	cr_assert_eq(magnet_parse(s, 30, &m, &e), THR_EINVAL);
}

Test(magnet, odd_separators)
{
	struct magnet m;
	struct thr_error e;

	cr_assert_eq(parse("magnet:?&&noval&=x&xt=urn:btih:" HEX0 "&&dn==a=",
	    &m, &e), 0);
	cr_assert_str_eq(m.name, "=a=");
	magnet_release(&m);
}

Test(magnet, release_twice_is_safe)
{
	struct magnet m;
	struct thr_error e;

	cr_assert_eq(parse("magnet:?xt=urn:btih:" HEX0 "&tr=udp://a:1&"
	    "x.pe=1.1.1.1:1&dn=n", &m, &e), 0);
	magnet_release(&m);
	magnet_release(&m);
	cr_assert_null(m.name);
}

Test(magnet, format_round_trip)
{
	static const char *const trs[] = {
		"http://t.example/announce?passkey=a&b=c d",
		"udp://u.example:6969",
	};
	struct magnet m;
	struct thr_error e;
	struct buf b;

	buf_init(&b, 4096);
	cr_assert_eq(magnet_format(ih0, "Name with spaces+&=%", trs, 2, &b),
	    0);
	cr_assert(strncmp((char *)b.data, "magnet:?xt=urn:btih:" HEX0 "&dn=",
	    64) == 0, "%s", (char *)b.data);
	cr_assert_eq(magnet_parse((char *)b.data, b.len, &m, &e), 0);
	cr_assert_arr_eq(m.info_hash, ih0, 20);
	cr_assert_str_eq(m.name, "Name with spaces+&=%");
	/* The space makes the first tracker unusable; it is dropped. */
	cr_assert_eq(m.ntrackers, 1);
	cr_assert_str_eq(m.trackers[0], "udp://u.example:6969");
	magnet_release(&m);
	buf_release(&b);
}

Test(magnet, format_minimal)
{
	struct buf b;

	buf_init(&b, 4096);
	cr_assert_eq(magnet_format(ih0, NULL, NULL, 0, &b), 0);
	cr_assert_str_eq((char *)b.data, "magnet:?xt=urn:btih:" HEX0);
	buf_reset(&b);
	cr_assert_eq(magnet_format(ih0, "", NULL, 0, &b), 0);
	cr_assert_str_eq((char *)b.data, "magnet:?xt=urn:btih:" HEX0);
	buf_release(&b);
}

Test(magnet, format_limit_leaves_buffer)
{
	static const char *const trs[] = { "http://a-rather-long-tracker/" };
	struct buf b;

	buf_init(&b, 70);
	cr_assert_eq(buf_puts(&b, "x"), 0);
	cr_assert_eq(magnet_format(ih0, "n", trs, 1, &b), THR_ELIMIT);
	cr_assert_eq(b.len, 1);
	cr_assert_str_eq((char *)b.data, "x");
	buf_release(&b);
}
