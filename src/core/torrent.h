/*
 * torrent.h: one torrent of a session and its life cycle: the only place
 * where outcomes are applied (a piece verified, a piece failed, a disk
 * error, the metadata of a magnet arrived) and where the torrent's phase
 * changes (torrent_set_phase, the one door, traced old -> new).
 *
 * Data model: the metainfo and store describe the torrent; the picker
 * owns piece progress; the intake (intake.h) owns the blocks on their
 * way to the store and their running hashes; the peer set (peerset.h)
 * owns the peers and the addresses known; the announcer (announcer.h)
 * the tracker tiers; the selection (selection.h) which files are wanted.
 * The wire protocol of one peer (pwp.h) reads and writes the peer's
 * buffers and reports outcomes here.  The view only reads this struct.
 *
 * Layers: torrent.c calls pwp, pwp_ext, choker, peerset, announcer,
 * selection and intake; none of them calls back up.
 */
#ifndef THR_TORRENT_H
#define THR_TORRENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "announcer.h"
#include "bitfield.h"
#include "choker.h"
#include "err.h"
#include "intake.h"
#include "metadata.h"
#include "metainfo.h"
#include "peer.h"
#include "peerset.h"
#include "picker.h"
#include "rate.h"
#include "selection.h"
#include "session.h"
#include "store.h"

#define TORRENT_MAX_GIVEN	64	/* --peer addresses */
#define TORRENT_ACTIVE_BYTES	(16u << 20)	/* piece buffers in memory */
#define TORRENT_CHECK_BYTES	(32u << 20)	/* verified per check step */
#define TORRENT_CHECK_SPAN	(1u << 20)	/* read at once when checking:
						 * one read per span, not per
						 * piece, and still in L2 when
						 * hashed */
#define TORRENT_CHECK_MAX_SPAN	64		/* pieces per span */
#define TORRENT_FINISH_WAIT_MS	1000	/* for "completed" before quitting */
#define TORRENT_MAX_STRIKES	3	/* bad pieces before a ban */
#define TORRENT_DISK_RETRY_MS	30000	/* after a failed write */
#define TORRENT_META_SAVE_MAX	(1u << 20)	/* trackers around the info
						 * dict of a saved magnet */
#define TORRENT_RATE_SAMPLE_MS	1000	/* "rate" trace events */

enum torrent_phase {
	TORRENT_CHECKING,	/* verifying existing data */
	TORRENT_DOWNLOADING,
	TORRENT_SEEDING,
	TORRENT_DONE,		/* finished: the program may end */
	TORRENT_METADATA,	/* a magnet link: fetching the info dict */
};

struct torrent_opts {
	const uint8_t	*metainfo;	/* a .torrent's bytes, or NULL */
	size_t		 metainfo_len;
	const char	*magnet;	/* or a magnet link */
	const char	*files;		/* --files "1,3-5", or NULL */
	struct thr_addr	 given[TORRENT_MAX_GIVEN];	/* --peer */
	size_t		 ngiven;
	double		 seed_ratio;	/* < 0: seed forever */
	int		 upload_slots;	/* regular unchoke slots, 0 default */
	enum picker_strategy strategy;
	struct store_factory store;	/* opens the torrent's bytes */
};

struct torrent {
	uint32_t		 id;		/* in the session, never reused */
	struct session		*sess;		/* borrowed */
	struct log		*log;		/* the session's */
	struct trace		*trace;		/* the session's */
	struct torrent_opts	 opts;		/* metainfo, magnet and files
						 * are not kept */
	enum torrent_phase	 phase;

	struct metainfo		 mi;	/* in METADATA only info_hash, name,
					 * tiers and web seeds */
	bool			 have_meta;	/* mi is complete */
	struct metadata		 md;	/* METADATA: the info dict as it
					 * arrives */
	uint64_t		 meta_started_ms;
	struct store		 st;
	struct bitfield		 have;
	struct picker		 pk;
	struct intake		 in;
	struct selection	 sel;
	struct peerset		 ps;
	struct announcer	 ann;
	struct choker		 ch;

	uint8_t			*scratch;	/* check_span pieces; owned */
	uint32_t		 check_span;	/* pieces read at once */
	uint32_t		 check_next;	/* next piece to check */
	uint32_t		 check_valid;
	uint64_t		 check_bytes;	/* read and hashed */
	uint64_t		 check_start_ms, check_ms;	/* its duration */

	uint64_t		 downloaded, uploaded;	/* payload, this run */
	uint64_t		 verified;	/* bytes of the pieces that
						 * passed their hash this run */
	uint64_t		 last_block_ms;	/* the last payload block came
						 * then (0: none yet) */
	uint64_t		 next_sample_ms;	/* "rate" trace events */
	uint64_t		 wasted;	/* bytes of failed pieces */
	uint32_t		 hash_fails;
	struct rate		 down, up;
	uint64_t		 start_ms;
	uint64_t		 finish_by_ms;	/* see torrent_settle, 0 */
	uint64_t		 disk_retry_ms;	/* paused by a write error */
	bool			 paused;	/* no peers, no connecting */
	uint32_t		 dirty[PEERSET_MAX_PEERS];	/* peer ids
					 * written to (or killed) for another
					 * peer's sake: the transport flushes
					 * them */
	size_t			 ndirty;
	uint64_t		 changes;	/* bumped on anything visible */

	int			 fatal;		/* set: stop with error */
	char			 fatal_msg[256];
};

/*
 * A torrent of session s from o: parse the metainfo (or the magnet link,
 * and its saved metadata from the session's blobs), open the store,
 * prepare everything.  The torrent joins s->torrents; torrent_free takes
 * it out.  NULL with err filled (a one-line message).
 */
struct torrent	*torrent_new(struct session *s, const struct torrent_opts *o,
		    uint64_t now_ms, struct thr_error *err);
void	torrent_free(struct torrent *t);

/* The one door of the phase: logs and traces old -> new with a reason. */
void	torrent_set_phase(struct torrent *t, enum torrent_phase ph,
	    const char *why);
const char	*torrent_phase_name(enum torrent_phase ph);

/* Resume check: verify up to TORRENT_CHECK_BYTES of existing data.
 * Moves to DOWNLOADING or SEEDING when done. */
void	torrent_check_step(struct torrent *t, uint64_t now_ms);

/*
 * Peers.  torrent_peer_add returns NULL when full, banned or out of
 * memory; src PEER_SRC_COUNT means: incoming, or what the known list
 * says.  The connect trace event records src and tp.
 */
struct peer	*torrent_peer_add(struct torrent *t, const struct thr_addr *a,
		    bool incoming, enum peer_source src,
		    enum peer_transport tp, uint64_t now_ms);
/* An outgoing connect finished: send our handshake (or MSE's). */
void	torrent_peer_connected(struct torrent *t, struct peer *p,
	    uint64_t now_ms);
/* Bytes were appended to p->in: parse and act.  Marks p dead on error. */
void	torrent_peer_input(struct torrent *t, struct peer *p,
	    uint64_t now_ms);
/* p->out is about to be written: encrypt what is new in it. */
void	torrent_peer_outgoing(struct torrent *t, struct peer *p);
/* n bytes of p->out were written (keep-alive timing). */
void	torrent_peer_sent(struct torrent *t, struct peer *p, size_t n,
	    uint64_t now_ms);
/* Forget a peer (its transport is already closed): its requests go
 * back, its address may be dialled again later.  p is freed. */
void	torrent_peer_remove(struct torrent *t, struct peer *p,
	    uint64_t now_ms);

/* The peers written to or killed on another peer's behalf since the
 * last call (a have after a verified piece, an endgame cancel, a choke
 * change): their ids into ids (at most max, the rest stay), returns how
 * many.  The transport flushes them; every peer it pumps anyway (its own
 * input, the tick) need not be here. */
size_t	torrent_take_dirty(struct torrent *t, uint32_t *ids, size_t max);
/* Put p on the dirty list (the session's upload does, for the peers it
 * gave blocks to). */
void	torrent_mark_dirty(struct torrent *t, struct peer *p);

/* Timeouts, keep-alives, choking, pex, metadata requests.  Returns the
 * next time it wants to run. */
uint64_t	torrent_tick(struct torrent *t, uint64_t now_ms);

/* Select or deselect file i (0-based) for download (live).  THR_EINVAL
 * for a bad i. */
int	torrent_set_file_wanted(struct torrent *t, size_t i, bool want);
/* Switch the piece strategy (live). */
void	torrent_set_strategy(struct torrent *t, enum picker_strategy st);
/* Pause (drop every peer, stop connecting and requesting) or resume. */
void	torrent_set_paused(struct torrent *t, bool paused, const char *why);
/* Save the fast-resume record through the store.  Logs failures. */
void	torrent_save_resume(struct torrent *t);

/* Data complete and verified (every wanted piece). */
bool	torrent_complete(const struct torrent *t);
/* Seeding goal reached (or seed ratio 0 and complete). */
bool	torrent_finished(const struct torrent *t);
/*
 * End a finished torrent (DONE) as soon as the tracker has had its
 * "completed" announce, or TORRENT_FINISH_WAIT_MS after finishing at
 * the latest.  Cheap: call it on every loop turn.
 */
void	torrent_settle(struct torrent *t, uint64_t now_ms);
/* Percent of the wanted bytes done, in [0, 100]. */
double	torrent_percent(const struct torrent *t);
/* The strategy in use (its name: picker_strategy_name). */
enum picker_strategy	torrent_strategy(const struct torrent *t);

/* Tracker glue (announcer.h does the work). */
bool	torrent_announce_next(struct torrent *t, uint64_t now_ms,
	    struct tracker_announce *a, const char **url);
void	torrent_announce_result(struct torrent *t, int status,
	    struct tracker_response *r, const char *errmsg, uint64_t now_ms);
/* Ask for a final "stopped" announce (quitting). */
void	torrent_announce_stop(struct torrent *t);

#endif
