/*
 * upsched.h: the upload scheduler: which connection sends the next block.
 *
 * Unchoking four peers must mean serving four peers.  Serving them in
 * the order of the connection list lets the first one that can take data
 * have all of it: the upload limit's tokens, or the loop pass's time.
 * This module shares sending fairly among flows (connections) by deficit
 * round robin (Shreedhar and Varghese, 1995), the role Transmission's
 * bandwidth.c (random turns of a few KiB) and libtorrent's bandwidth
 * manager (quota in turn) play there.  It is a pure engine: no clock, no
 * I/O; the caller asks whom to serve and says what it sent.
 *
 *	upsched_init(&u, UPSCHED_QUANTUM);
 *	upsched_add(&u, id);			a connection opens
 *	each loop pass, while the rate limit has tokens:
 *		id = upsched_next(&u, cost, ctx, &bytes);
 *		if (id == 0) break;		nobody can send now
 *		send `bytes` (one block) on id, then
 *		upsched_charge(&u, id, bytes);
 *	upsched_remove(&u, id);			the connection closes
 *
 * Data model: a slot per flow (found by id through a small hash table),
 * and the round: a ring of the flows that have asked to send, in the
 * order they asked, whose head has the turn.  When a turn begins the
 * flow is credited one quantum; it sends while its deficit covers its
 * next unit, then it goes to the tail.  A flow with nothing to send when
 * its turn comes (cost 0: no request queued, or its output buffer still
 * full) leaves the round and loses its credit, so idle flows cannot
 * hoard and a flow that asks for less than its share gets all it asks
 * for while the rest is shared equally among the others (max-min
 * fairness).  It comes back with upsched_wake, which the caller calls
 * whenever the flow may have something to send again (a request came,
 * its buffer drained); waking a flow that has nothing is harmless.  So a
 * pass costs work for the flows in the round only, not for every idle
 * connection.  Over any window every backlogged flow gets the same
 * number of bytes within one quantum plus one unit, whatever the rate
 * limit, and with no limit each flow gets as much as its own buffer
 * takes per pass, in turn.
 *
 * Limits: at most UPSCHED_MAX_FLOWS flows; a unit counts as at most
 * UPSCHED_MAX_UNIT bytes when the deficit is compared (the full size is
 * charged), which bounds the work of one upsched_next call.  Flows are
 * named by the caller's non-zero ids, never by pointer.
 */
#ifndef THR_UPSCHED_H
#define THR_UPSCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UPSCHED_MAX_FLOWS	1024	/* every connection of a session: as
					 * many as the transport table holds */
#define UPSCHED_QUANTUM		(16384u + 13u)	/* a BEP 3 block and its
						 * piece message header */
#define UPSCHED_MAX_UNIT	(1u << 20)

#define UPSCHED_TABLE		(2 * UPSCHED_MAX_FLOWS)	/* a power of 2 */

struct upsched_flow {
	uint32_t	id;		/* 0: a free slot */
	int64_t		deficit;	/* bytes it may send this turn */
	bool		active;		/* in the round */
};

struct upsched {
	struct upsched_flow	flows[UPSCHED_MAX_FLOWS];	/* slots */
	uint16_t		table[UPSCHED_TABLE];	/* id -> slot + 1,
							 * linear probing */
	uint16_t		ring[UPSCHED_MAX_FLOWS];	/* slots in the
								 * round */
	size_t			head, nactive;
	size_t			n;		/* flows */
	bool			credited;	/* the head had its quantum */
	uint32_t		quantum;
};

/*
 * What flow id would send next, in bytes (its next block with the
 * message header), or 0 when it cannot send now.  Called by
 * upsched_next for the flows it visits; must not add or remove flows.
 */
typedef uint32_t	upsched_cost_fn(void *ctx, uint32_t id);

/* An empty scheduler; quantum is the credit per turn (0 counts as 1). */
void	upsched_init(struct upsched *u, uint32_t quantum);
/* A new flow, which joins the round at the end.  THR_EINVAL for id 0
 * or an id already there, THR_ELIMIT when UPSCHED_MAX_FLOWS are. */
int	upsched_add(struct upsched *u, uint32_t id);
/* Flow id may have something to send: it joins the round at the end
 * if it is not in it (unknown ids are ignored). */
void	upsched_wake(struct upsched *u, uint32_t id);
/* Forget flow id (nothing happens when it is unknown). */
void	upsched_remove(struct upsched *u, uint32_t id);
/*
 * The flow to serve now: its id, with *bytes the cost it reported, or
 * 0 when no flow can send.  Asks cost(ctx, id) of flows in turn.  The
 * caller sends that unit and charges it with upsched_charge; a flow not
 * charged is offered again.
 */
uint32_t	upsched_next(struct upsched *u, upsched_cost_fn *cost,
		    void *ctx, uint32_t *bytes);
/* Flow id sent bytes (unknown ids are ignored). */
void	upsched_charge(struct upsched *u, uint32_t id, uint32_t bytes);

#endif
