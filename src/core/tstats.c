/*
 * tstats.c: what a torrent reports (see tstats.h).
 */
#include "config.h"

#include "rate.h"
#include "trace.h"
#include "tstats.h"

/*
 * Rate samples for the trace: the torrent's rates (bytes/s over the
 * meter's window) and totals, then the same for each peer that moved
 * payload within that window, so that a sender's upload can be read
 * from its own trace.
 */
void
tstats_trace_rates(struct torrent *t, uint64_t now_ms)
{
	size_t active = 0;

	for (size_t i = 0; i < t->ps.npeers; i++)
		active += t->ps.peers[i]->phase == PEER_ACTIVE;
	trace_emit(t->trace, "rate", "\"down\":%llu,\"up\":%llu,"
	    "\"downloaded\":%llu,\"uploaded\":%llu,\"peers\":%zu",
	    (unsigned long long)rate_get(&t->down, now_ms),
	    (unsigned long long)rate_get(&t->up, now_ms),
	    (unsigned long long)t->downloaded,
	    (unsigned long long)t->uploaded, active);
	for (size_t i = 0; i < t->ps.npeers; i++) {
		struct peer *p = t->ps.peers[i];
		uint64_t d = rate_get(&p->down, now_ms);
		uint64_t u = rate_get(&p->up, now_ms);

		if (p->phase != PEER_ACTIVE || (d == 0 && u == 0))
			continue;
		trace_emit(t->trace, "peer_rate", "\"peer\":%u,"
		    "\"down\":%llu,\"up\":%llu,\"downloaded\":%llu,"
		    "\"uploaded\":%llu", p->id, (unsigned long long)d,
		    (unsigned long long)u, (unsigned long long)p->downloaded,
		    (unsigned long long)p->uploaded);
	}
}


void
tstats_announce(const struct torrent *t, struct announcer_stats *st)
{
	st->info_hash = t->mi.info_hash;
	st->peer_id = t->sess->peer_id;
	st->port = t->sess->port;
	st->key = t->sess->announce_key;
	st->uploaded = t->uploaded;
	st->downloaded = t->downloaded;
	/* A magnet's size is unknown until its metadata arrives; any
	 * non-zero value tells the tracker we are not a seed. */
	st->left = t->have_meta ? t->sel.left : 1;
}
