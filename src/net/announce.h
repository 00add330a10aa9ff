/*
 * announce.h: the trackers' side of the run: when a torrent's announcer
 * (core/announcer.h) says an announce is due, send it over HTTP(S)
 * (net/http.h) or UDP (net/udpmux.h, BEP 15) and report the outcome back
 * to that torrent.  One request is in flight at a time, as the tier list
 * asks one URL at a time.
 */
#ifndef THR_ANNOUNCE_H
#define THR_ANNOUNCE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/session.h"
#include "net/http.h"
#include "net/udpmux.h"

#define ANNOUNCE_URL_MAX	8192

struct announce;

/* s, h and u (may be NULL: no UDP) are borrowed. */
struct announce	*announce_new(struct session *s, struct http *h,
		    struct udpmux *u);
void	announce_free(struct announce *a);
/* Start the next due announce (when none is in flight). */
void	announce_pump(struct announce *a, uint64_t now_ms);
/* Quitting: cancel what is in flight and ask every torrent for its
 * "stopped" announce. */
void	announce_stop(struct announce *a);
/* True while a request is in flight or a "stopped" is still owed. */
bool	announce_busy(const struct announce *a);

#endif
