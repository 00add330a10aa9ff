/*
 * webseed.h: a web seed (BEP 19, "url-list") as a pseudo-peer, without
 * I/O.
 *
 * The session (state.c) talks peer wire to every peer through p->out and
 * p->in.  For a web seed the net layer puts this engine in between: it
 * reads what the session writes (its handshake, requests and cancels;
 * everything else is ignored) and writes what a seed would say: a
 * handshake with the BEP 6 fast bit, HAVE_ALL, UNCHOKE, and PIECE
 * messages once the HTTP data arrives.  So the session's usual block
 * path verifies the data, and a web seed that sends bad data collects
 * strikes and is banned like any peer.
 *
 * Data model: requested blocks wait in a queue.  Runs of blocks that are
 * consecutive in the torrent's byte space become a span of at most
 * WEBSEED_MAX_SPAN bytes; a span is fetched as one HTTP range request per
 * file it touches (a piece may cross files), one request at a time per
 * span, so at most WEBSEED_MAX_SPANS requests are in flight.  The net
 * layer asks for jobs with webseed_next_fetch and reports each body with
 * webseed_fetch_done.  When every segment of a span is in, its blocks
 * go out as PIECE messages.
 *
 * Failures: a transfer error, an HTTP status other than 206 (or 200 for
 * a range that is the whole file), or a body of the wrong length drops
 * every span, rejects every request (BEP 6) and chokes the session; after
 * a back-off of WEBSEED_BACKOFF_MS, doubling up to WEBSEED_BACKOFF_MAX_MS,
 * the engine unchokes again.  A success resets the back-off.
 *
 * Bounds: at most WEBSEED_MAX_QUEUED waiting requests (more are
 * rejected), WEBSEED_MAX_SPANS spans of WEBSEED_MAX_SPAN bytes, and the
 * output toward the session at most WEBSEED_OUT_MAX bytes.
 */
#ifndef THR_WEBSEED_H
#define THR_WEBSEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "metainfo.h"

#define WEBSEED_MAX_SPANS	2	/* range requests in flight per seed */
#define WEBSEED_MAX_SPAN	(1u << 20)	/* bytes per span */
#define WEBSEED_SPAN_BLOCKS	128	/* blocks coalesced into one span */
#define WEBSEED_MAX_QUEUED	256	/* the session's requests we hold */
#define WEBSEED_BACKOFF_MS	30000	/* first wait after a failure */
#define WEBSEED_BACKOFF_MAX_MS	600000	/* the wait doubles up to this */
#define WEBSEED_KEEPALIVE_MS	60000	/* keeps the session's idle timer
					 * from dropping a seed in back-off */
#define WEBSEED_URL_MAX		8192	/* a built URL */
#define WEBSEED_HOST_MAX	64	/* the host, for the peers table */
/* What may wait for the session: the handshake and a few messages, and
 * the PIECE messages of every span. */
#define WEBSEED_OUT_MAX		(WEBSEED_MAX_SPANS * (WEBSEED_MAX_SPAN + \
				    WEBSEED_SPAN_BLOCKS * 13u) + (64u << 10))

/* One HTTP range request to make: GET url with Range offset..+length-1. */
struct webseed_fetch {
	uint32_t	 id;		/* for webseed_fetch_done */
	const char	*url;		/* owned by the engine; valid until
					 * webseed_fetch_done or the free */
	uint64_t	 offset;	/* in the file */
	uint64_t	 length;	/* > 0 */
	bool		 whole;		/* the range is the whole file: a 200
					 * answer is fine too */
};

struct webseed;	/* opaque */

/*
 * A web seed for base URL url (a NUL-terminated string, copied) of the
 * torrent mi (borrowed: must outlive the engine, with the metadata
 * complete).  index makes the fixed peer id unique per seed, so that the
 * session does not take two seeds for one duplicate peer.  The
 * handshake, HAVE_ALL and UNCHOKE are queued at once.  NULL with err set
 * on bad input (THR_EINVAL) or no memory.
 */
struct webseed	*webseed_new(const struct metainfo *mi, const char *url,
		    uint32_t index, uint64_t now_ms, struct thr_error *err);
void	webseed_free(struct webseed *w);	/* NULL is fine */

/*
 * The session's bytes (from p->out): consumes whole messages from
 * data[0..len) and sets *used; a partial message stays for later.
 * THR_EPROTO if they do not parse (a bug of ours, not hostile input).
 */
int	webseed_input(struct webseed *w, const uint8_t *data, size_t len,
	    size_t *used, uint64_t now_ms);

/* Move up to max bytes of what the seed says to the end of dst (p->in);
 * returns the number moved (dst's cap may allow fewer). */
size_t	webseed_read(struct webseed *w, struct buf *dst, size_t max);
/* Bytes waiting for webseed_read. */
size_t	webseed_pending(const struct webseed *w);

/* Timers: the end of a back-off (UNCHOKE), keep-alives.  Call often. */
void	webseed_tick(struct webseed *w, uint64_t now_ms);

/* The next range request to make, if any (none during a back-off or
 * with WEBSEED_MAX_SPANS requests in flight). */
bool	webseed_next_fetch(struct webseed *w, uint64_t now_ms,
	    struct webseed_fetch *job);
/*
 * Job id finished: status 0 with http_code and body[0..len) (borrowed),
 * or a negative thr_err.  A stale or unknown id is ignored.
 */
void	webseed_fetch_done(struct webseed *w, uint32_t id, int status,
	    long http_code, const uint8_t *body, size_t len, uint64_t now_ms);

/* Requests in flight (started by next_fetch, not done). */
int	webseed_inflight(const struct webseed *w);
/* Until when it backs off (0: it does not).  Failures in a row. */
uint64_t	webseed_backoff_until(const struct webseed *w);
uint32_t	webseed_failures(const struct webseed *w);
/* The URL's host, printable (escaped), for the peers table. */
const char	*webseed_host(const struct webseed *w);
/* The URL it was made with. */
const char	*webseed_base(const struct webseed *w);

/*
 * The URL of file f of mi under base (BEP 19): for a single-file torrent
 * base itself, or base plus the name when base ends in '/'; for a
 * multi-file torrent base, a '/' if it lacks one, then the name and each
 * path component, every one percent-encoded (escape_url).  Written to out
 * (reset first).  THR_EINVAL for a bad f, THR_ELIMIT when longer than
 * WEBSEED_URL_MAX, THR_ENOMEM.
 */
int	webseed_url(const struct metainfo *mi, const char *base, size_t f,
	    struct buf *out);

#endif
