/*
 * tracker.h: the HTTP tracker protocol (BEP 3, BEP 23 compact peers,
 * BEP 12 multitracker tiers), without any I/O.
 *
 * tracker_build_url makes the announce URL; the network layer fetches it
 * (libcurl) and hands the body to tracker_parse_response.  The tier list
 * decides which URL to try next and when, with backoff on failure.
 */
#ifndef THR_TRACKER_H
#define THR_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "err.h"
#include "metainfo.h"

#define TRACKER_MAX_BODY	(2u << 20)	/* response bytes we accept */
#define TRACKER_MAX_PEERS	2000u		/* peers kept per response */
#define TRACKER_MAX_MSG		256u		/* failure/warning text kept */
#define TRACKER_MAX_ID		128u		/* tracker id bytes kept */
#define TRACKER_DEFAULT_INTERVAL	1800	/* seconds, when absent */
#define TRACKER_MIN_INTERVAL	30		/* never announce faster */
#define TRACKER_MAX_INTERVAL	(6 * 3600)
#define TRACKER_RETRY_MIN	15		/* first backoff, seconds */
#define TRACKER_RETRY_MAX	1800		/* backoff ceiling */

enum tracker_event {
	TRACKER_EVENT_NONE,
	TRACKER_EVENT_STARTED,
	TRACKER_EVENT_COMPLETED,
	TRACKER_EVENT_STOPPED,
};

struct tracker_announce {
	uint8_t		info_hash[20];
	uint8_t		peer_id[20];
	uint16_t	port;
	uint64_t	uploaded, downloaded, left;
	enum tracker_event event;
	int		numwant;
	uint32_t	key;
	const char	*tracker_id;	/* borrowed, may be NULL */
};

struct tracker_response {
	bool		 failed;		/* "failure reason" present */
	char		 failure[TRACKER_MAX_MSG];	/* escaped-safe text */
	char		 warning[TRACKER_MAX_MSG];	/* "" if none */
	int64_t		 interval;		/* clamped to the bounds above */
	int64_t		 min_interval;		/* 0 if absent */
	char		 tracker_id[TRACKER_MAX_ID];	/* "" if none */
	int64_t		 complete, incomplete;	/* -1 if absent */
	struct thr_addr	*peers;			/* owned */
	size_t		 npeers;
};

/*
 * Append the announce URL for base (which may already hold a '?') to out.
 * Binary fields are percent-encoded (escape_url).  THR_ENOMEM / THR_ELIMIT.
 */
int	tracker_build_url(const char *base, const struct tracker_announce *a,
	    struct buf *out);
/*
 * Parse a response body: compact (6-byte) and dictionary peer lists,
 * "peers6" (18-byte), failure reason, warning message, interval,
 * min interval, tracker id, complete/incomplete.  Peers with port 0 are
 * skipped; a compact string whose length is not a multiple of 6 is
 * parsed up to the last whole entry.  Peers beyond TRACKER_MAX_PEERS are
 * dropped.  On success r owns its peers; release it with
 * tracker_response_release.  A body with "failure reason" is success
 * with r->failed set.  THR_EINVAL on a body that is not a bencoded dict.
 */
int	tracker_parse_response(const uint8_t *body, size_t len,
	    struct tracker_response *r, struct thr_error *err);
void	tracker_response_release(struct tracker_response *r);

/* Copy tracker text (failure, warning) for display into dst (dstlen >=
 * 1 bytes, NUL-terminated): control bytes become '?', the rest is cut to
 * fit.  Shared by the HTTP and UDP (udptracker.h) protocols. */
void	tracker_copy_text(char *dst, size_t dstlen, const uint8_t *p,
	    size_t n);
/* An announce interval in seconds, clamped to [TRACKER_MIN_INTERVAL,
 * TRACKER_MAX_INTERVAL]. */
int64_t	tracker_clamp_interval(int64_t v);

/*
 * The tier list: BEP 12.  Tiers are tried in order; URLs inside a tier
 * are shuffled once at init (with the caller's random source) and a URL
 * that answers moves to the front of its tier.  When every URL of every
 * tier has failed, the list waits with exponential backoff
 * (TRACKER_RETRY_MIN doubling to TRACKER_RETRY_MAX) before starting over.
 */
struct tracker_list {
	struct {
		char	**urls;		/* owned copies */
		size_t	  nurls;
	}		*tiers;		/* owned */
	size_t		 ntiers;
	size_t		 tier, idx;	/* current URL */
	unsigned	 failures;	/* consecutive full-list failures */
	char		 tracker_id[TRACKER_MAX_ID];
};

/* rnd(ctx) returns a uniformly random 32-bit value, for the shuffle. */
int	tracker_list_init(struct tracker_list *tl, const struct metainfo *m,
	    uint32_t (*rnd)(void *), void *ctx);
/* Add a URL as a new last tier (for --tracker style additions). */
int	tracker_list_add(struct tracker_list *tl, const char *url);
void	tracker_list_release(struct tracker_list *tl);
/* The URL to announce to now, or NULL if the list is empty. */
const char *tracker_list_current(const struct tracker_list *tl);
/*
 * The current URL failed.  Moves to the next URL; returns the number of
 * seconds to wait before trying it (0 to try at once, a backoff delay
 * after a whole pass failed).
 */
int	tracker_list_failed(struct tracker_list *tl);
/* The current URL answered: promote it to the front of its tier, reset
 * the backoff, start the next announce from the first tier again. */
void	tracker_list_succeeded(struct tracker_list *tl);

#endif
