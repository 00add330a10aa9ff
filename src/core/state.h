/*
 * state.h: struct thr_state, the one torrent state of a run, and the
 * session logic that drives it.
 *
 * Data model: the metainfo and storage describe the torrent; the picker
 * owns piece progress; peers live in an array of pointers and are named
 * by id everywhere else; "known" holds addresses to connect to (from the
 * tracker and --peer).  The network layer (net/, cmd/run.c) moves bytes
 * in and out of peer buffers and calls the state_* functions below with
 * the current time; the view only reads this struct.  Nothing here does
 * socket I/O; storage does the disk I/O.
 */
#ifndef THR_STATE_H
#define THR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "addr.h"
#include "bitfield.h"
#include "bucket.h"
#include "dht.h"
#include "err.h"
#include "log.h"
#include "magnet.h"
#include "metadata.h"
#include "metainfo.h"
#include "peer.h"
#include "picker.h"
#include "rate.h"
#include "reorder.h"
#include "resume.h"
#include "rng.h"
#include "storage.h"
#include "trace.h"
#include "tracker.h"
#include "upsched.h"

#define STATE_MAX_PEERS		200	/* connections, both directions */
#define STATE_MAX_KNOWN		2000	/* addresses remembered */
#define STATE_MAX_GIVEN		64	/* --peer addresses */
#define STATE_MAX_BOOTSTRAP	16	/* --dht-bootstrap addresses */
#define STATE_UPLOAD_SLOTS	4	/* BEP 3 tit-for-tat, regular slots */
#define STATE_CHOKE_PERIOD_MS	10000
#define STATE_OPTIMISTIC_MS	30000
#define STATE_CONNECT_TIMEOUT_MS	10000
#define STATE_HANDSHAKE_TIMEOUT_MS	20000
#define STATE_IDLE_TIMEOUT_MS	180000	/* nothing received at all */
#define STATE_KEEPALIVE_MS	90000
/* A connection quiet both ways this long gets one keep-alive: the peer
 * may have left our last bytes unread until more arrive (state_tick). */
#define STATE_NUDGE_MS		2000
#define STATE_RETRY_MS		15000	/* between tries of one address */
#define STATE_GIVEN_RETRY_MS	2000	/* the same for a --peer address */
/* An address that turned out to be a seed while we seed, or ourselves,
 * is not dialled again for this long: a few tries an hour at most (a
 * seed may start downloading again, and a tracker's view of our own
 * address may be stale). */
#define STATE_HOLD_MS		(20u * 60 * 1000)
#define STATE_ACTIVE_BYTES	(16u << 20)	/* piece buffers in memory */
#define STATE_CHECK_BYTES	(32u << 20)	/* verified per check step */
#define STATE_CHECK_SPAN	(1u << 20)	/* read at once when checking:
						 * one read per span, not per
						 * piece, and still in L2 when
						 * hashed */
#define STATE_CHECK_MAX_SPAN	64		/* pieces per span */
#define STATE_SEED_TURN_MS	30000	/* a seed's unchoke turn */
#define STATE_FINISH_WAIT_MS	1000	/* for "completed" before quitting */
#define STATE_MAX_STRIKES	3	/* bad pieces before a ban */
#define STATE_MAX_BANNED	256
#define STATE_MAX_KEEPALIVES	20	/* per second before we drop */
#define STATE_MSG_TIMEOUT_MS	60000	/* to finish one message */
#define STATE_DISK_RETRY_MS	30000	/* after a failed write */
#define STATE_PEX_PERIOD_MS	60000	/* BEP 11: pex at most once a minute */
/* ut_metadata pieces asked of one peer at once.  One: rTorrent 0.9.8
 * reads no further on a connection once a request arrives while its
 * answer to the one before is still being sent, so two requests in one
 * segment stall the connection for good; pieces still come from several
 * peers at once. */
#define STATE_META_REQS		1
#define STATE_META_TRIES	3	/* metadata requests a peer may leave
					 * unanswered in a row before we
					 * drop it */
#define STATE_UPLOAD_PASS	(4u << 20)	/* read from disk for peers
						 * per state_upload call, so
						 * a pass of the loop stays
						 * short */
#define STATE_RATE_SAMPLE_MS	1000	/* "rate" trace events */

/* --encryption: Message Stream Encryption policy (see core/mse.h). */
enum state_crypto {
	STATE_CRYPTO_PREFER,	/* outgoing MSE first, then plain; incoming
				 * either; the payload in plaintext after
				 * the obfuscated handshake unless the peer
				 * wants RC4 (libtorrent's default: RC4
				 * costs about 1.8 CPU s per GiB here) */
	STATE_CRYPTO_FULL,	/* as prefer, but RC4 for the payload
				 * whenever the peer allows it */
	STATE_CRYPTO_REQUIRE,	/* RC4 only, both ways */
	STATE_CRYPTO_OFF,	/* plaintext only */
};

enum state_transport {
	STATE_TRANSPORT_BOTH,	/* uTP first, TCP after a bounded wait */
	STATE_TRANSPORT_UTP,
	STATE_TRANSPORT_TCP,
};

struct state_opts {
	const char	*torrent_path;
	const char	*dir;
	const char	*trace_path;		/* --trace, may be NULL */
	const char	*files;			/* --files "1,3-5", or NULL */
	const char	*state_dir;		/* resume records; NULL: none */
	struct thr_addr	 given[STATE_MAX_GIVEN];	/* --peer */
	size_t		 ngiven;
	uint16_t	 port;			/* wanted listening port */
	struct thr_addr	 bind;			/* --bind-address (port 0);
						 * family 0: every address */
	double		 seed_ratio;		/* < 0: seed forever */
	uint64_t	 max_up, max_down;	/* bytes/s, 0 unlimited */
	int		 max_peers;
	int		 upload_slots;		/* regular unchoke slots */
	enum picker_strategy strategy;
	uint64_t	 seed;			/* PRNG seed */
	enum log_level	 log_level;
	bool		 no_tui;
	bool		 no_dht;		/* --no-dht */
	enum state_crypto crypto;		/* --encryption */
	bool		 no_upnp, no_natpmp;
	enum state_transport transport;		/* --transport */
	const char	*bootstrap[STATE_MAX_BOOTSTRAP];	/* HOST:PORT */
	size_t		 nbootstrap;		/* 0: the public routers */
};

/*
 * The random streams of a run, each seeded with rng_stream_seed from
 * --seed and its number here, so that one consumer's draws never shift
 * another's choices (core/rng.h).  Append only: the numbers are part of
 * what --seed replays.
 */
enum state_rng {
	STATE_RNG_SESSION,	/* peer id, announce key, tracker order */
	STATE_RNG_PICKER,	/* which piece next */
	STATE_RNG_CHOKER,	/* the optimistic unchoke */
	STATE_RNG_MSE,		/* MSE keys and padding */
	STATE_RNG_DHT,		/* the DHT engine's own generator */
	STATE_RNG_UTP,		/* the uTP engine's own generator */
	STATE_RNG_TRACKER,	/* UDP tracker transaction ids */
	STATE_RNG_LSD,		/* the LSD cookie */
	STATE_RNG_UPLOAD,	/* what we suggest to peers (BEP 6) */
};

enum state_phase {
	STATE_CHECKING,		/* verifying existing data */
	STATE_DOWNLOADING,
	STATE_SEEDING,
	STATE_DONE,		/* finished: the loop should end */
	STATE_METADATA,		/* a magnet link: fetching the info dict */
};

struct state_known {
	struct thr_addr	addr;
	uint64_t	next_try_ms;
	uint64_t	hold_ms;	/* not dialled before this (see
					 * STATE_HOLD_MS), whatever resets
					 * next_try_ms; 0: none */
	uint32_t	fails;
	bool		given;		/* from --peer: retried forever */
	bool		plain_only;	/* refused encryption: dial plain */
	bool		crypto_refused;	/* refused encryption under
					 * --encryption require (logged) */
	bool		no_utp;		/* uTP failed: dial TCP */
	bool		try_utp;	/* loopback, TCP failed: uTP next */
	bool		seed;		/* held: a seed, and so are we */
	bool		self;		/* held: it is ourselves */
	enum peer_source source;
	bool		connected;
};

enum state_tracker_phase {
	TRACKER_IDLE,		/* waiting for next_ms */
	TRACKER_BUSY,		/* a request is in flight */
	TRACKER_NONE,		/* no trackers */
};

struct thr_state {
	struct state_opts	 opts;
	struct log		 log;
	struct trace		 trace;
	struct rng		 rng;		/* STATE_RNG_SESSION */
	struct rng		 rng_picker, rng_choker, rng_mse;
	struct rng		 rng_tracker, rng_upload;
	uint8_t			 peer_id[20];
	uint16_t		 port;		/* actual listening port */

	struct metainfo		 mi;	/* in STATE_METADATA only
					 * info_hash, name and tiers */
	bool			 have_meta;	/* mi is complete */
	struct metadata		 md;	/* STATE_METADATA: the info dict
					 * as it arrives */
	uint64_t		 meta_started_ms;
	struct storage		 st;
	bool			 st_open;
	struct bitfield		 have;
	struct picker		 pk;
	uint8_t			*scratch;	/* check_span pieces */
	struct reorder		 ro;	/* blocks that came ahead of their
					 * piece's hash */
	struct {			/* blocks of one read, to write */
		int		 n;
		struct iovec	 iov[STORAGE_IOV_MAX];	/* into p->in */
		uint64_t	 off[STORAGE_IOV_MAX];	/* torrent offsets */
		uint32_t	 index[STORAGE_IOV_MAX];
	}			 wb;
	uint32_t		 check_span;	/* pieces read at once */
	enum state_phase	 phase;
	uint32_t		 check_next;	/* next piece to check */
	uint32_t		 check_valid;
	uint64_t		 check_bytes;	/* read and hashed */
	uint64_t		 check_start_ms, check_ms;	/* its duration */
	char			 resume_file[4096];	/* "" when off */
	int			 lock_fd;	/* resume_lock's */
	bool			 locked;	/* lock_fd is open */
	uint64_t		 left;		/* wanted bytes still missing */
	uint64_t		 wanted_total;	/* bytes of wanted pieces */
	uint8_t			*file_wanted;	/* owned, per file: selected */

	struct peer		*peers[STATE_MAX_PEERS];
	size_t			 npeers;
	uint32_t		 next_peer_id;
	struct state_known	*known;		/* owned */
	size_t			 nknown;

	uint64_t		 downloaded, uploaded;	/* payload, session */
	/* Bytes of the pieces that passed their hash this run, and when
	 * the last payload block came (0: none yet). */
	uint64_t		 verified;
	uint64_t		 last_block_ms;
	uint64_t		 wasted;	/* bytes of failed pieces */
	uint32_t		 hash_fails;
	struct rate		 down, up;
	struct bucket		 up_limit, down_limit;
	struct upsched		 upq;		/* whose block goes next: one
					 * flow per peer, by id */
	uint64_t		 next_sample_ms;	/* rate trace events */
	uint64_t		 start_ms;
	uint64_t		 now_ms;	/* time of the last tick */
	uint64_t		 next_choke_ms, next_optimistic_ms;
	uint32_t		 optimistic_id;	/* 0: none */
	struct thr_addr		 banned[STATE_MAX_BANNED];	/* IPs, port 0 */
	size_t			 nbanned;

	struct tracker_list	 tl;
	enum state_tracker_phase tracker_phase;
	uint64_t		 tracker_next_ms;
	enum tracker_event	 tracker_event;	/* event of the next announce */
	bool			 tracker_sent_completed;
	uint64_t		 finish_by_ms;	/* see state_settle, 0 */
	int64_t			 tracker_interval;
	char			 tracker_status[160];
	/* The last answer's "complete" and "incomplete", -1 unknown. */
	int64_t			 tracker_seeders;
	int64_t			 tracker_leechers;
	uint32_t		 announce_key;

	bool			 paused;	/* no peers, no connecting */
	bool			 quit_requested;	/* by the user */
	const char		*strategy;	/* piece strategy name */
	uint64_t		 changes;	/* bumped on anything visible */

	uint64_t		 disk_retry_ms;	/* paused by a write error */

	struct mse_lib		 mse_lib;	/* OpenSSL's RC4, loaded once */
	bool			 mse_ok;	/* mse_lib usable */

	struct dht		*dht;		/* owned; NULL when off */
	size_t			 dht_nodes;	/* for the view */
	char			 dht_status[96];	/* "" when off */
	char			 portmap_status[200];	/* UPnP / NAT-PMP, "" */

	int			 fatal;		/* set: stop with error */
	char			 fatal_msg[256];
};

/*
 * Load the torrent, open storage (creating files), prepare everything.
 * With a state directory the torrent and download directory are locked
 * first (resume_lock): if another process holds them, THR_EBUSY with a
 * message naming its PID, before any file is created or opened.
 * On error err holds a one-line message; the state is released.
 */
int	state_init(struct thr_state *s, const struct state_opts *o,
	    uint64_t now_ms, struct thr_error *err);
void	state_release(struct thr_state *s);

/* Resume check: verify up to STATE_CHECK_BYTES of existing data.  Moves
 * to DOWNLOADING or SEEDING when done. */
void	state_check_step(struct thr_state *s, uint64_t now_ms);

/* Peers.  state_peer_add returns NULL when full or out of memory. */
struct peer	*state_peer_add(struct thr_state *s, const struct thr_addr *a,
		    bool incoming, uint64_t now_ms);
/* The same, carried by tp, learned from src (PEER_SRC_COUNT: incoming,
 * or what the known list says), as the connect trace event records. */
struct peer	*state_peer_add_as(struct thr_state *s,
		    const struct thr_addr *a, bool incoming,
		    enum peer_source src, enum peer_transport tp,
		    uint64_t now_ms);
struct peer	*state_peer_find(const struct thr_state *s, uint32_t id);
bool	state_peer_connected_to(const struct thr_state *s,
	    const struct thr_addr *a);
/* An outgoing connect finished: send our handshake. */
void	state_peer_connected(struct thr_state *s, struct peer *p,
	    uint64_t now_ms);
/* Bytes were appended to p->in: parse and act.  Marks p dead on error. */
void	state_peer_input(struct thr_state *s, struct peer *p, uint64_t now_ms);
/*
 * The upload: read requested blocks from disk into the peers' output
 * buffers, one block at a time in deficit round robin (core/upsched.h),
 * while the upload limit has tokens, at most STATE_UPLOAD_PASS bytes.
 * A peer takes a block only while its output buffer holds less than
 * PEER_OUT_LOW, so a peer whose socket is slow does not hold back the
 * others, and every peer that can take data gets the same share of the
 * limit or of the pass, whatever its place in the peer list.  Returns
 * the bytes added; the caller then writes the buffers out (and may call
 * again when they drained).  A failed disk read sets s->fatal.
 */
size_t	state_upload(struct thr_state *s, uint64_t now_ms);
/* p->out is about to be written: encrypt what is new in it. */
void	state_peer_outgoing(struct thr_state *s, struct peer *p);
/* Account bytes written to the socket (for keep-alive timing). */
void	state_peer_sent(struct thr_state *s, struct peer *p, size_t n,
	    uint64_t now_ms);
/* Forget a peer (its fd is already closed): return its requests. */
void	state_peer_remove(struct thr_state *s, uint32_t id);

/* True if the address's IP was banned this session (sent bad data). */
bool	state_banned(const struct thr_state *s, const struct thr_addr *a);

/* Remember addresses to connect to (deduplicated, capped).  Manual
 * addresses (--peer, x.pe) are retried for as long as the run lasts. */
void	state_known_add(struct thr_state *s, const struct thr_addr *a,
	    enum peer_source src);
/*
 * An address we should connect to now, or false.  Never one that is
 * held (a seed while we seed, ourselves), and nothing at all once the
 * run is finished (state_finished): it is about to end.  A connection
 * to ourselves is recognised on the accepting side by our own peer id
 * in the handshake; the dialling side is the outgoing peer whose local
 * address (set by the net layer) is the accepted one's remote address,
 * or for uTP the one dialled at that very address.
 */
bool	state_next_connect(struct thr_state *s, uint64_t now_ms,
	    struct thr_addr *out);
/*
 * Dial a over uTP (true) or TCP?  --transport utp: always uTP; tcp:
 * never; both: uTP unless it failed for a before, and for a loopback
 * address TCP first, uTP after a TCP attempt that did not get through
 * (uTP is there to yield to other traffic on a shared uplink and to
 * cross NATs; on 127.0.0.0/8 and ::1 TCP does more with less).
 */
bool	state_dial_utp(const struct thr_state *s, const struct thr_addr *a);
/* The uTP connect to a failed (no answer in time, refused): with
 * --transport both, dial it over TCP at once. */
void	state_utp_failed(struct thr_state *s, const struct thr_addr *a,
	    uint64_t now_ms);
void	state_connect_failed(struct thr_state *s, const struct thr_addr *a,
	    uint64_t now_ms);

/* The seed of a random stream for an engine that keeps its own
 * generator (the DHT, uTP, LSD): rng_stream_seed of --seed and which. */
uint64_t	state_rng_seed(const struct thr_state *s, enum state_rng which);

/* Once a second: choking, timeouts, keep-alives. */
void	state_tick(struct thr_state *s, uint64_t now_ms);

/*
 * Tracker: when an announce is due, fill a and *base (the current URL of
 * the tier list, owned by the state) and return true; the state is then
 * busy until state_tracker_result reports the outcome (status 0 with r,
 * which it releases, or an error code and errmsg; r may be NULL then).
 */
bool	state_tracker_next(struct thr_state *s, uint64_t now_ms,
	    struct tracker_announce *a, const char **base);
void	state_tracker_result(struct thr_state *s, int status,
	    struct tracker_response *r, const char *errmsg, uint64_t now_ms);
/* The same for HTTP: builds the announce URL into url (the caller
 * fetches it and reports the body with state_tracker_done). */
bool	state_tracker_due(struct thr_state *s, uint64_t now_ms,
	    struct buf *url);
void	state_tracker_done(struct thr_state *s, int status,
	    const uint8_t *body, size_t len, const char *errmsg,
	    uint64_t now_ms);
/* Ask for a final "stopped" announce on the next state_tracker_due. */
void	state_tracker_stop(struct thr_state *s);

/* Select or deselect file i (0-based) for download (live). */
int	state_set_file_wanted(struct thr_state *s, size_t i, bool want);

/* Switch the piece strategy (live). */
void	state_set_strategy(struct thr_state *s, enum picker_strategy st);

/* Pause (drop every peer, stop connecting and requesting) or resume. */
void	state_set_paused(struct thr_state *s, bool paused);

/* Save the fast-resume record (at a clean exit).  Logs failures. */
void	state_save_resume(struct thr_state *s);

/* Data complete and verified. */
bool	state_complete(const struct thr_state *s);
/* Seeding goal reached (or --seed-ratio 0 and complete). */
bool	state_finished(const struct thr_state *s);
/*
 * End a finished run (STATE_DONE) as soon as the tracker has had its
 * "completed" announce, or STATE_FINISH_WAIT_MS after finishing at the
 * latest.  Called on every loop turn; cheap.
 */
void	state_settle(struct thr_state *s, uint64_t now_ms);
/* Percent done in [0, 100], of the selected files' pieces. */
double	state_percent(const struct thr_state *s);
/* Files the user left out (--files, the files pane, or a selection
 * kept in the resume record); 0 before the metadata is known. */
size_t	state_skipped_files(const struct thr_state *s);

#endif
