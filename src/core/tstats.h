/*
 * tstats.h: what a torrent reports about itself: the rate samples of
 * the trace (the torrent's and each busy peer's), and the figures a
 * tracker is told.  It reads the torrent and changes nothing in it.
 */
#ifndef THR_TSTATS_H
#define THR_TSTATS_H

#include <stdint.h>

#include "announcer.h"
#include "torrent.h"

/* Emit "rate" and the "peer_rate" events of the peers that moved
 * payload within the meter's window. */
void	tstats_trace_rates(struct torrent *t, uint64_t now_ms);
/* The announce figures: hashes, port, key, totals, bytes left. */
void	tstats_announce(const struct torrent *t, struct announcer_stats *st);

#endif
