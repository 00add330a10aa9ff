/*
 * fuzz_lsd.c: libFuzzer target for the BEP 14 announce parser
 * (lsd_parse), with a format/parse round trip of what it accepts.
 *
 * The whole input is one datagram, as a multicast socket would hand it
 * over.  Invariants checked: only the documented return codes, with the
 * code in err; an accepted announce has a port of 1..65535, 1 to
 * LSD_MAX_HASHES info-hashes, a cookie inside the input (or none) of at
 * most LSD_COOKIE_MAX bytes and no more than LSD_MSG_MAX bytes of
 * input; formatting its port and hashes again gives a datagram that
 * parses to the same port and hashes.  A broken promise aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/lsd.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_lsd: broken invariant: %s\n", what);
	abort();
}

static void
round_trip(const struct lsd_msg *m)
{
	char out[LSD_MSG_MAX];
	struct lsd_msg m2;
	struct thr_error err;
	size_t len;
	int family = m->host_family == 6 ? 6 : 4;

	if (lsd_format(family, m->port, (const uint8_t (*)[20])m->hashes,
	    m->nhashes, "fuzz", out, sizeof out, &len) != 0)
		fail("an accepted announce does not format");
	if (len > LSD_MSG_MAX || len != strlen(out))
		fail("formatted announce out of bounds");
	memset(&err, 0, sizeof err);
	if (lsd_parse((const uint8_t *)out, len, &m2, &err) != 0)
		fail("a formatted announce does not parse");
	if (m2.port != m->port || m2.nhashes != m->nhashes ||
	    memcmp(m2.hashes, m->hashes, m->nhashes * 20) != 0 ||
	    m2.host_family != family || m2.cookielen != 4)
		fail("round trip changed the announce");
	for (size_t i = 0; i < m->nhashes; i++)
		if (!lsd_has_hash(&m2, m->hashes[i]))
			fail("lsd_has_hash misses a parsed hash");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lsd_msg m;
	struct thr_error err;
	struct lsd l;
	int rc;

	memset(&err, 0, sizeof err);
	rc = lsd_parse(data, size, &m, &err);
	switch (rc) {
	case 0:
		if (err.code != 0)
			fail("success with an error recorded");
		if (size > LSD_MSG_MAX)
			fail("an oversized datagram was accepted");
		if (m.port == 0 || m.nhashes == 0 ||
		    m.nhashes > LSD_MAX_HASHES)
			fail("accepted announce out of bounds");
		if (m.host_family != 0 && m.host_family != 4 &&
		    m.host_family != 6)
			fail("unknown Host family");
		if (m.cookie != NULL &&
		    ((const uint8_t *)m.cookie < data ||
		    m.cookielen == 0 || m.cookielen > LSD_COOKIE_MAX ||
		    (size_t)((const uint8_t *)m.cookie - data) >
		    size - m.cookielen))
			fail("cookie outside the datagram");
		if (m.cookie == NULL && m.cookielen != 0)
			fail("cookie length without a cookie");
		lsd_init(&l, 0x0123456789abcdefULL);
		(void)lsd_own(&l, &m);
		round_trip(&m);
		break;
	case THR_EINVAL:
	case THR_ELIMIT:
		if (err.code != rc || err.msg[0] == '\0')
			fail("error without its code or message in err");
		if (err.offset > size && !(rc == THR_ELIMIT &&
		    size > LSD_MSG_MAX))
			fail("error offset past the input");
		break;
	default:
		fail("undocumented return code");
	}
	return 0;
}
