/*
 * fuzz_udptracker.c: libFuzzer target for the BEP 15 engine
 * (udptracker_input and udptracker_output on a simulated clock).
 *
 * Input layout:
 *   byte 0	flags: bit 0 the tracker is IPv6 (18-byte peers), bit 1
 *		scrape instead of announce, bit 2 answer the connect
 *		first (so the packets below meet an engine that is
 *		requesting, not connecting)
 *   then chunks until the input ends:
 *	byte	dt: the clock moves dt * 16 s before the chunk (timeouts)
 *	2 bytes	n, big-endian, then n bytes: one datagram (cut short at
 *		the end of the input)
 * Transaction ids are always 0x01020304, so the fuzzer can match them.
 *
 * Invariants checked: only the documented return codes; THR_EPROTO
 * leaves the state, transaction id and deadline alone; a complete answer
 * leaves the engine idle with a response inside tracker.h's promises
 * (NUL-terminated text, clamped interval, at most TRACKER_MAX_PEERS
 * peers that fit in the packet, no port 0, no IPv6 peer from an IPv4
 * tracker); output never exceeds UDPTRACKER_PKT_MAX and always sets a
 * future deadline.  A broken promise aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/tracker.h"
#include "core/udptracker.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TID	0x01020304u

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_udptracker: broken invariant: %s\n", what);
	abort();
}

static uint32_t
fixed_rnd(void *ctx)
{
	(void)ctx;
	return FUZZ_TID;
}

static void
check_output(struct udptracker *u, uint64_t now)
{
	uint8_t pkt[UDPTRACKER_PKT_MAX];
	size_t len;
	int i;

	/* At most one packet is due at any instant. */
	for (i = 0; i < 2; i++) {
		if (!udptracker_output(u, now, pkt, sizeof pkt, &len)) {
			if (len != 0)
				fail("length set without a packet");
			return;
		}
		if (i > 0)
			fail("two packets due at once");
		if (len < 16 || len > UDPTRACKER_PKT_MAX)
			fail("packet size out of bounds");
		if (udptracker_deadline(u) <= now)
			fail("deadline not in the future after a send");
		if (!udptracker_busy(u))
			fail("packet sent while idle");
	}
}

static void
check_response(const struct udptracker *u, const struct tracker_response *r,
    size_t len)
{
	size_t esz = u->addr.family == 6 ? 18 : 6;

	if (memchr(r->failure, '\0', sizeof r->failure) == NULL ||
	    memchr(r->warning, '\0', sizeof r->warning) == NULL)
		fail("text not NUL-terminated in its array");
	if (r->npeers > TRACKER_MAX_PEERS ||
	    (r->npeers > 0 && r->peers == NULL))
		fail("peer list out of bounds");
	if (r->npeers > 0 && (len < 20 || r->npeers > (len - 20) / esz))
		fail("more peers than the packet holds");
	if (!r->failed && (r->interval < TRACKER_MIN_INTERVAL ||
	    r->interval > TRACKER_MAX_INTERVAL))
		fail("interval not clamped");
	for (size_t i = 0; i < r->npeers; i++) {
		if (r->peers[i].port == 0)
			fail("peer with port 0");
		if (r->peers[i].family != 4 && r->peers[i].family != 6)
			fail("peer with an unknown family");
		if (r->peers[i].family == 6 && u->addr.family != 6)
			fail("IPv6 peer from an IPv4 tracker");
	}
	if (u->state != UDPTRACKER_IDLE)
		fail("not idle after a complete answer");
}

static void
begin(struct udptracker *u, uint8_t flags, uint64_t now)
{
	struct tracker_announce a;
	struct tracker_response r;
	uint8_t ans[16];

	memset(&a, 0, sizeof a);
	memset(a.info_hash, 0xaa, sizeof a.info_hash);
	memcpy(a.peer_id, "-TH0001-fuzzfuzzfuzz", 20);
	a.port = 6881;
	a.event = TRACKER_EVENT_STARTED;
	if (flags & 2)
		udptracker_scrape_start(u, a.info_hash, now);
	else
		udptracker_start(u, &a, now);
	check_output(u, now);
	if ((flags & 4) && u->state == UDPTRACKER_CONNECTING) {
		memset(ans, 0, sizeof ans);
		ans[4] = 1;
		ans[5] = 2;
		ans[6] = 3;
		ans[7] = 4;
		ans[15] = 0x42;
		if (udptracker_input(u, ans, sizeof ans, now, &r, NULL) !=
		    THR_EAGAIN)
			fail("a valid connect answer was refused");
		tracker_response_release(&r);
		check_output(u, now);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct udptracker u;
	struct tracker_response r;
	struct thr_error err;
	struct thr_addr addr;
	enum udptracker_state st;
	uint64_t now = 1000, dl;
	uint32_t tid;
	size_t off = 1, n;
	uint8_t flags;
	int rc;

	if (size < 1)
		return 0;
	flags = data[0];
	if (udptracker_init(&u, "udp://t:1/announce?k=x", fixed_rnd, NULL) != 0)
		fail("init refused a good URL");
	memset(&addr, 0, sizeof addr);
	addr.family = (flags & 1) ? 6 : 4;
	addr.ip[0] = 127;
	addr.port = 1;
	udptracker_set_addr(&u, &addr);
	begin(&u, flags, now);

	while (off + 3 <= size) {
		now += (uint64_t)data[off] * 16000;
		n = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (n > size - off)
			n = size - off;
		check_output(&u, now);
		if (!udptracker_busy(&u))
			begin(&u, flags, now);
		st = u.state;
		tid = u.tid;
		dl = udptracker_deadline(&u);
		memset(&err, 0, sizeof err);
		rc = udptracker_input(&u, data + off, n, now, &r, &err);
		switch (rc) {
		case 0:
			check_response(&u, &r, n);
			break;
		case THR_EAGAIN:
			if (st != UDPTRACKER_CONNECTING ||
			    u.state != UDPTRACKER_REQUESTING)
				fail("THR_EAGAIN outside the connect step");
			if (udptracker_deadline(&u) != 0)
				fail("no packet due after a connect answer");
			check_output(&u, now);
			break;
		case THR_EPROTO:
		case THR_ENOMEM:
			if (err.code != rc)
				fail("error without its code in err");
			if (u.state != st || u.tid != tid ||
			    udptracker_deadline(&u) != dl)
				fail("a refused packet changed the state");
			break;
		default:
			fail("undocumented return code");
		}
		tracker_response_release(&r);
		off += n;
	}
	return 0;
}
