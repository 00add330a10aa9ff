/*
 * fuzz_tracker.c: libFuzzer target for tracker_parse_response.
 *
 * On success the response must keep tracker.h's promises: NUL-terminated
 * text within its arrays, the interval clamped, at most TRACKER_MAX_PEERS
 * peers and none with port 0.  A broken promise aborts, which libFuzzer
 * reports as a crash.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/tracker.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_tracker: broken invariant: %s\n", what);
	abort();
}

static void
check(const struct tracker_response *r)
{
	if (memchr(r->failure, '\0', sizeof(r->failure)) == NULL ||
	    memchr(r->warning, '\0', sizeof(r->warning)) == NULL ||
	    memchr(r->tracker_id, '\0', sizeof(r->tracker_id)) == NULL)
		fail("text not NUL-terminated in its array");
	if (r->npeers > TRACKER_MAX_PEERS || (r->npeers > 0 && r->peers == NULL))
		fail("peer list out of bounds");
	if (!r->failed && (r->interval < TRACKER_MIN_INTERVAL ||
	    r->interval > TRACKER_MAX_INTERVAL))
		fail("interval not clamped");
	for (size_t i = 0; i < r->npeers; i++) {
		if (r->peers[i].port == 0)
			fail("peer with port 0");
		if (r->peers[i].family != 4 && r->peers[i].family != 6)
			fail("peer with an unknown family");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracker_response r;
	struct thr_error err;

	memset(&r, 0, sizeof(r));
	memset(&err, 0, sizeof(err));
	if (tracker_parse_response(data, size, &r, &err) == 0)
		check(&r);
	else if (err.code == 0)
		fail("failed parse without an error code");
	tracker_response_release(&r);
	return 0;
}
