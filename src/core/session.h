/*
 * session.h: what one process shares among its torrents, as a sans-I/O
 * engine: our peer id and listening port, the random streams, the
 * global rate and connection limits, the DHT engine, the encryption
 * library, the log and the trace, and the torrents themselves.
 *
 *	struct session *s = session_new(&opts, now, &err);
 *	session_set_port(s, port);		once listening
 *	session_add(s, &topts, now, &t, &err);	a torrent (torrent.h)
 *	loop:
 *		bytes from a peer:	torrent_peer_input(t, p, now) ...
 *		on the timer:		next = session_tick(s, now);
 *		sleep until next or a socket is ready
 *	session_free(s);
 *
 * Nothing here reads a clock, opens a file or a socket: time comes in
 * as now (milliseconds, monotonic, the caller's), randomness from the
 * seed, key material from the caller's secret source, bytes of the
 * state directory through opts.blobs, log lines and trace events go to
 * the caller's sinks.  So the same options, inputs and times give the
 * same trace, byte for byte; the simulator runs many sessions in one
 * process on a virtual clock.
 *
 * Peers carry ids that are unique in the session and never reused, so
 * the transport layer names a peer by id alone and a stale id finds
 * nothing (session_peer_find).
 */
#ifndef THR_SESSION_H
#define THR_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "bucket.h"
#include "dht.h"
#include "err.h"
#include "log.h"
#include "mse.h"
#include "peer.h"
#include "peerix.h"
#include "rate.h"
#include "rng.h"
#include "store.h"
#include "trace.h"
#include "upsched.h"

#define SESSION_MAX_TORRENTS	64	/* room for many; the program runs
					 * one today */
#define SESSION_MAX_BOOTSTRAP	16	/* --dht-bootstrap addresses */
#define SESSION_TICK_MS		1000	/* timeouts, choking, keep-alives */
#define SESSION_STATUS_MAX	200
#define SESSION_UPLOAD_PASS	(4u << 20)	/* read from the stores per
						 * session_upload call, so a
						 * pass of the loop stays
						 * short */

/* --encryption: Message Stream Encryption policy (see core/mse.h). */
enum session_crypto {
	SESSION_CRYPTO_PREFER,	/* outgoing MSE first, then plain; incoming
				 * either; the payload in plaintext after
				 * the obfuscated handshake unless the peer
				 * wants RC4 (libtorrent's default: RC4
				 * costs about 1.8 CPU s per GiB here) */
	SESSION_CRYPTO_FULL,	/* as prefer, but RC4 for the payload
				 * whenever the peer allows it */
	SESSION_CRYPTO_REQUIRE,	/* RC4 only, both ways */
	SESSION_CRYPTO_OFF,	/* plaintext only */
};

/* --transport */
enum session_transport {
	SESSION_TRANSPORT_BOTH,	/* uTP first, TCP after a bounded wait */
	SESSION_TRANSPORT_UTP,
	SESSION_TRANSPORT_TCP,
};

/*
 * Key material (MSE private keys): n bytes into out.  The program's
 * source is the system's CSPRNG unless --seed asks for a replayable run;
 * tests and the simulator derive it from the seed.
 */
typedef void	session_secret_fn(void *ctx, uint8_t *out, size_t n);

struct session_opts {
	uint64_t		 seed;		/* every random choice */
	enum log_level		 log_level;
	struct log_sink		 log;		/* write NULL: ring only */
	struct trace_sink	 trace;		/* write NULL: no trace */
	struct blob_store	 blobs;		/* the state directory */
	session_secret_fn	*secret;	/* NULL: drawn from seed */
	void			*secret_ctx;
	uint64_t		 max_up, max_down;	/* bytes/s, 0 none */
	int			 max_peers;	/* connections, 0: default */
	enum session_crypto	 crypto;
	enum session_transport	 transport;
	bool			 dht;		/* run a DHT node */
};

/*
 * The random streams: one per consumer, each seeded with rng_stream_seed
 * from the seed and its number here, so that one consumer's draws (MSE
 * padding at connection time) never shift another's (the piece
 * picker's).  Append only: the numbers are part of what --seed replays.
 */
enum session_stream {
	SESSION_RNG_MISC,	/* peer id, announce key, tracker order */
	SESSION_RNG_PICKER,	/* which piece next */
	SESSION_RNG_CHOKER,	/* the optimistic unchoke */
	SESSION_RNG_MSE,	/* MSE padding */
	SESSION_RNG_DHT,	/* the DHT engine's own generator */
	SESSION_RNG_UTP,	/* the uTP engine's own generator */
	SESSION_RNG_TRACKER,	/* UDP tracker transaction ids */
	SESSION_RNG_LSD,	/* the LSD cookie */
	SESSION_RNG_UPLOAD,	/* what we suggest to peers (BEP 6) */
	SESSION_RNG_SECRET,	/* key material when opts.secret is NULL */
	SESSION_NSTREAMS,
};

/* A line of status text the net layer sets for the view. */
enum session_status {
	SESSION_STATUS_DHT,
	SESSION_STATUS_PORTMAP,
	SESSION_NSTATUS,
};

struct torrent;

struct session {
	struct session_opts	 opts;
	uint64_t		 now_ms;	/* the clock: the time of the
						 * last call that passed one */
	struct log		 log;
	struct trace		 trace;
	struct rng		 rng[SESSION_NSTREAMS];
	uint8_t			 peer_id[20];
	uint16_t		 port;		/* listening port, 0 unknown */
	uint32_t		 announce_key;	/* BEP 7 "key" */

	struct bucket		 up_limit, down_limit;
	struct rate		 up, down;	/* payload, all torrents */

	struct mse_lib		 mse_lib;	/* OpenSSL's RC4, loaded once */
	bool			 mse_ok;

	struct dht		*dht;		/* owned; NULL when off */
	size_t			 dht_nodes;

	struct torrent		*torrents[SESSION_MAX_TORRENTS];
	size_t			 ntorrents;
	struct peerix		 ix;		/* every torrent's peers by id */
	struct upsched		 upq;		/* whose block goes next: one
						 * flow per peer, by id */
	uint32_t		 next_peer_id;
	uint32_t		 next_torrent_id;

	char			 status[SESSION_NSTATUS][SESSION_STATUS_MAX];
	bool			 quit_requested;	/* by the user */
	uint64_t		 changes;	/* bumped on anything visible */
};

/* NULL with err filled on THR_ENOMEM, or when --encryption require finds
 * no RC4 (THR_ENOENT). */
struct session	*session_new(const struct session_opts *o, uint64_t now_ms,
		    struct thr_error *err);
/* Free every torrent (their stores are closed; each one's counts of the
 * run traced as a "stop" event), the DHT, the session. */
void	session_free(struct session *s);

/* Move the clock: every entry point that takes now_ms does this first.
 * (Inline, as session_secret: the layers below the session use them
 * without calling up into session.c.) */
static inline void
session_clock(struct session *s, uint64_t now_ms)
{
	if (now_ms > s->now_ms)
		s->now_ms = now_ms;
}

/* n bytes of key material: the caller's secret source, else the seed's
 * secret stream (a replayable run). */
static inline void
session_secret(struct session *s, uint8_t *out, size_t n)
{
	if (s->opts.secret != NULL)
		s->opts.secret(s->opts.secret_ctx, out, n);
	else
		rng_bytes(&s->rng[SESSION_RNG_SECRET], out, n);
}

/* Where finished log lines go (the view takes the terminal: none). */
void	session_set_log_sink(struct session *s, const struct log_sink *sink);

/* The listening port, once the net layer has one (announces, BEP 10);
 * traced as a "listen" event, which tells a process following the trace
 * that it may dial us. */
void	session_set_port(struct session *s, uint16_t port);

/* A status line for the view (escaped by the view when drawn). */
void	session_set_status(struct session *s, enum session_status which,
	    const char *text);

/* Change a global limit (bytes/s, 0 none); logged where the user sees it. */
void	session_set_limit(struct session *s, bool up, uint64_t rate);

/*
 * Start the DHT node (opts.dht, and not for a private torrent): the
 * routing table from the "dht.dat" blob if there is one.  local: nodes
 * on loopback and private networks, several per IP, are believed (the
 * user named the bootstrap nodes: a local swarm).  0, or an error logged
 * and the DHT stays off.  session_dht_save writes the blob.
 */
int	session_dht_start(struct session *s, bool local);
void	session_dht_save(struct session *s);
void	session_dht_stop(struct session *s);

/*
 * Add a torrent (torrent.h: torrent_new) and return it in *out.  0, or
 * THR_ELIMIT (SESSION_MAX_TORRENTS), THR_EINVAL (already there) or what
 * torrent_new says, with err filled.
 */
struct torrent_opts;
int	session_add(struct session *s, const struct torrent_opts *o,
	    uint64_t now_ms, struct torrent **out, struct thr_error *err);
/* Take t out of the session and free it (its peers must be closed);
 * its counts are traced ("stop") as in session_free. */
void	session_remove(struct session *s, struct torrent *t);

/* The torrent of info_hash, or NULL. */
struct torrent	*session_find(const struct session *s,
		    const uint8_t info_hash[20]);
/* The peer with this id and its torrent (out may be NULL), or NULL. */
struct peer	*session_peer_find(const struct session *s, uint32_t id,
		    struct torrent **t);

/* Addresses heard of for info_hash (DHT, LSD): remembered by its torrent
 * to dial; ignored for a torrent we do not have. */
void	session_peer_found(struct session *s, const uint8_t info_hash[20],
	    const struct thr_addr *a, enum peer_source src);

/*
 * Once a second and whenever the last deadline passed: every torrent's
 * timers.  Returns the time (ms) at which it wants to be called next.
 */
uint64_t	session_tick(struct session *s, uint64_t now_ms);

/* A fresh stream for consumer k: rng_stream_seed of the seed and k. */
void	session_stream_seed(uint64_t seed, enum session_stream k,
	    struct rng *out);

/*
 * The upload: read requested blocks from the stores into the peers'
 * output buffers, one block at a time in deficit round robin
 * (upsched.h) over every peer of every torrent, while the upload limit
 * has tokens, at most SESSION_UPLOAD_PASS bytes.  A peer takes a block
 * only while its output buffer holds less than PEER_OUT_LOW, so a peer
 * whose socket is slow does not hold back the others, and every peer
 * that can take data gets the same share of the limit or of the pass,
 * whatever its place in a list.  The peers that got data are on their
 * torrents' dirty lists for the transport to write out.  Returns the
 * bytes added (the caller may call again once buffers drained).
 */
size_t	session_upload(struct session *s, uint64_t now_ms);

#endif
