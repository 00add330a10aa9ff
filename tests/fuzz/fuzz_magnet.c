/*
 * fuzz_magnet.c: libFuzzer target for magnet_parse and magnet_format.
 *
 * The input is the link.  A parsed link must keep magnet.h's promises
 * (caps, a clean name, only known tracker schemes, numeric peers), and
 * formatting it and parsing the result must give back the same hash,
 * name and trackers, unless the escaped link outgrew MAGNET_MAX_URI.
 * A broken promise aborts, which libFuzzer reports as a crash.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/magnet.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_magnet: broken invariant: %s\n", what);
	abort();
}

static void
check(const struct magnet *m)
{
	size_t i, n;

	if (m->name != NULL) {
		n = strlen(m->name);
		if (n == 0 || n > MAGNET_MAX_NAME)
			fail("name empty or too long");
		for (i = 0; i < n; i++)
			if ((unsigned char)m->name[i] < 0x20 ||
			    m->name[i] == 0x7f)
				fail("control byte in name");
	}
	if (m->ntrackers > MAGNET_MAX_TRACKERS ||
	    (m->ntrackers > 0 && m->trackers == NULL))
		fail("tracker list out of bounds");
	for (i = 0; i < m->ntrackers; i++)
		if (strncasecmp(m->trackers[i], "http://", 7) != 0 &&
		    strncasecmp(m->trackers[i], "https://", 8) != 0 &&
		    strncasecmp(m->trackers[i], "udp://", 6) != 0)
			fail("tracker with an unknown scheme");
	if (m->npeers > MAGNET_MAX_PEERS || (m->npeers > 0 && m->peers == NULL))
		fail("peer list out of bounds");
	for (i = 0; i < m->npeers; i++)
		if ((m->peers[i].family != 4 && m->peers[i].family != 6) ||
		    m->peers[i].port == 0)
			fail("bad peer address");
}

static void
round_trip(const struct magnet *m)
{
	struct magnet m2;
	struct thr_error err;
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, 8 * MAGNET_MAX_URI);
	if (magnet_format(m->info_hash, m->name,
	    (const char *const *)m->trackers, m->ntrackers, &b) != 0)
		fail("format failed");
	rc = magnet_parse((const char *)b.data, b.len, &m2, &err);
	if (rc == THR_ELIMIT && b.len > MAGNET_MAX_URI)
		goto out;
	if (rc != 0)
		fail("formatted link does not parse");
	if (memcmp(m->info_hash, m2.info_hash, 20) != 0)
		fail("info-hash changed in the round trip");
	if ((m->name == NULL) != (m2.name == NULL) ||
	    (m->name != NULL && strcmp(m->name, m2.name) != 0))
		fail("name changed in the round trip");
	if (m->ntrackers != m2.ntrackers)
		fail("tracker count changed in the round trip");
	for (i = 0; i < m->ntrackers; i++)
		if (strcmp(m->trackers[i], m2.trackers[i]) != 0)
			fail("tracker changed in the round trip");
	magnet_release(&m2);
out:
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct magnet m;
	struct thr_error err;

	memset(&err, 0, sizeof(err));
	if (magnet_parse((const char *)data, size, &m, &err) == 0) {
		check(&m);
		round_trip(&m);
	} else if (err.code == 0 || m.name != NULL || m.trackers != NULL ||
	    m.peers != NULL)
		fail("failed parse without an error code, or not zeroed");
	magnet_release(&m);
	return 0;
}
