/*
 * trace.h: the event trace (--trace FILE), JSON Lines.
 *
 * One event per line, an object whose first two keys are always
 *   "t": microseconds since the trace started, on the clock the core was
 *        given (the session's now), and
 *   "ev": the event name,
 * followed by event fields.  Peers appear as "peer": <id> (ids are never
 * reused in a run) and, on connect events, "addr": "ip:port".  Strings
 * are JSON-escaped.  The events and their fields are listed in
 * thorrent(1), section TRACE FORMAT.
 *
 * The trace writes nothing itself: each line goes to a sink the caller
 * provides (a buffered file in net/fileio.h, memory in tests and the
 * simulator), so the same inputs and times give the same bytes.  A trace
 * without a sink makes every call a no-op, so callers do not test for
 * it.  A sink that fails stops the trace; trace_failed then says so.
 */
#ifndef THR_TRACE_H
#define THR_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TRACE_LINE_MAX	2048	/* longest event; longer ones are cut to
				 * a "trace_overflow" event */

/* Where lines go: write gets one line with its newline; 0 or an error. */
struct trace_sink {
	int	(*write)(void *ctx, const char *line, size_t len);
	void	*ctx;
};

struct trace {
	struct trace_sink	 sink;		/* write NULL: off */
	const uint64_t		*now_ms;	/* borrowed: the core's clock */
	uint64_t		 t0_ms;
	bool			 failed;
};

/* Start tracing into sink, stamping events with *now_ms (which must
 * outlive the trace) counted from its value now. */
void	trace_start(struct trace *t, const struct trace_sink *sink,
	    const uint64_t *now_ms);
/* Stop; later calls are no-ops. */
void	trace_stop(struct trace *t);
/* True when tracing is on. */
bool	trace_on(const struct trace *t);
/* True when the sink failed and the trace stopped. */
bool	trace_failed(const struct trace *t);
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
