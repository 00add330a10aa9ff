/*
 * announcer.h: a torrent's side of its trackers, as a state machine:
 * when the next announce is due, which URL of the tier list (BEP 12) it
 * goes to, which event it carries (started, completed, stopped), and
 * what an answer or a failure changes.  The net layer does the HTTP or
 * UDP exchange (net/http.c, net/udpmux.c) and reports back.
 *
 * Phases: IDLE (waiting for next_ms), BUSY (a request is in flight),
 * NONE (no trackers, or the final "stopped" is done).  The phase changes
 * only in announcer_set_phase, which traces it.
 */
#ifndef THR_ANNOUNCER_H
#define THR_ANNOUNCER_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "metainfo.h"
#include "peerset.h"
#include "trace.h"
#include "tracker.h"

#define ANNOUNCER_NUMWANT	80
#define ANNOUNCER_STATUS_MAX	160

enum announcer_phase {
	ANNOUNCER_IDLE,		/* waiting for next_ms */
	ANNOUNCER_BUSY,		/* a request is in flight */
	ANNOUNCER_NONE,		/* no trackers, or stopped */
};

struct announcer {
	struct tracker_list	 tl;
	enum announcer_phase	 phase;
	uint64_t		 next_ms;
	enum tracker_event	 event;		/* of the next announce */
	bool			 sent_completed;
	int64_t			 interval;	/* seconds, last answer */
	int64_t			 seeders, leechers;	/* last answer; -1 */
	char			 status[ANNOUNCER_STATUS_MAX];
	struct log		*log;		/* borrowed */
	struct trace		*trace;		/* borrowed */
};

/* What the torrent tells the tracker. */
struct announcer_stats {
	const uint8_t	*info_hash;	/* 20 bytes */
	const uint8_t	*peer_id;	/* 20 bytes */
	uint16_t	 port;
	uint32_t	 key;
	uint64_t	 uploaded, downloaded, left;
};

/* The tiers of mi, shuffled with rng (borrowed for the call).  0 or
 * THR_ENOMEM. */
int	announcer_init(struct announcer *a, const struct metainfo *mi,
	    struct rng *rng, struct log *log, struct trace *trace);
void	announcer_release(struct announcer *a);
/* The one door of the phase. */
void	announcer_set_phase(struct announcer *a, enum announcer_phase ph,
	    const char *why);

/* When an announce is due, fill out and *url (the current URL, owned by
 * the announcer until the result) and go BUSY; else false. */
bool	announcer_next(struct announcer *a, uint64_t now_ms,
	    const struct announcer_stats *st, struct tracker_announce *out,
	    const char **url);
/* The outcome of the request in flight: status 0 with r (released here),
 * or an error code and errmsg (r may be NULL then).  Peers found go to
 * ps. */
void	announcer_result(struct announcer *a, int status,
	    struct tracker_response *r, const char *errmsg,
	    struct peerset *ps, uint64_t now_ms);
/* The download completed: announce "completed" at once (once). */
void	announcer_completed(struct announcer *a);
/* Ask for a final "stopped" announce on the next announcer_next (only to
 * a tracker that knows us: otherwise there is nothing to stop). */
void	announcer_stop(struct announcer *a);
/* Announce again at once (after a pause). */
void	announcer_now(struct announcer *a);
/* True while the final announce is still owed or in flight. */
bool	announcer_busy(const struct announcer *a);

#endif
