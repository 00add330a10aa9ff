/*
 * trace.h: the event trace (--trace FILE), JSON Lines.
 *
 * One event per line, an object whose first two keys are always
 *   "t": microseconds since the trace opened (monotonic clock), and
 *   "ev": the event name,
 * followed by event fields.  Peers appear as "peer": <id> (ids are never
 * reused in a run) and, on connect events, "addr": "ip:port".  Strings
 * are JSON-escaped.  The events and their fields are listed in
 * thorrent(1), section TRACE FORMAT.
 *
 * A closed trace (fp == NULL) makes every call a no-op, so callers do not
 * test for it.  Write errors close the trace and are reported once via
 * the return of trace_failed.
 */
#ifndef THR_TRACE_H
#define THR_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

struct trace {
	FILE		*fp;		/* owned, NULL when off */
	uint64_t	 t0_us;
	bool		 failed;
};

/* Open path for writing (truncating).  THR_EIO with strerror in err. */
int	trace_open(struct trace *t, const char *path, struct thr_error *err);
void	trace_close(struct trace *t);
/* True when tracing is on. */
bool	trace_on(const struct trace *t);
/*
 * Emit one event.  fields is printf-formatted JSON object members without
 * braces, e.g. "\"peer\":%u,\"index\":%u", or NULL.  Callers pass only
 * numbers and strings already escaped with trace_str.
 */
void	trace_emit(struct trace *t, const char *ev, const char *fields, ...)
	    __attribute__((format(printf, 3, 4)));
/* JSON-escape s (no quotes added) into out; returns out. */
const char *trace_str(const char *s, char *out, size_t len);

#endif
