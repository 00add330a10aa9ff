/*
 * peerset.h: a torrent's peers and the addresses it knows: the registry
 * of connections, the known addresses with their dial history, the
 * banned IPs, and every dial decision (whom to dial next, over which
 * transport, how long to wait after a failure).
 *
 * Data model: peers live in an array of pointers, named by id elsewhere
 * (ids come from the session and are never reused); known addresses in
 * an array capped at PEERSET_MAX_KNOWN, each with its source, failure
 * count and next allowed try; bans in a small array of IPs (with the
 * port on loopback, where every local peer shares the IP).
 *
 * Pure bookkeeping: no I/O, no protocol.  The caller (torrent.c) traces
 * and logs.
 */
#ifndef THR_PEERSET_H
#define THR_PEERSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "peer.h"
#include "session.h"

#define PEERSET_MAX_PEERS	300	/* connections, both directions */
#define PEERSET_MAX_KNOWN	2000	/* addresses remembered */
#define PEERSET_MAX_BANNED	256
#define PEERSET_RETRY_MS	15000	/* between tries of one address */
#define PEERSET_GIVEN_RETRY_MS	2000	/* the same for a --peer address */
/* An address that turned out to be a seed while we seed, or ourselves,
 * is not dialled again for this long: a few tries an hour at most (a
 * seed may start downloading again, and a tracker's view of our own
 * address may be stale). */
#define PEERSET_HOLD_MS		(20u * 60 * 1000)

struct peerset_known {
	struct thr_addr	addr;
	uint64_t	next_try_ms;
	uint64_t	hold_ms;	/* not dialled before this (see
					 * PEERSET_HOLD_MS), whatever resets
					 * next_try_ms; 0: none */
	uint32_t	fails;
	bool		given;		/* from --peer: retried forever */
	bool		plain_only;	/* refused encryption: dial plain */
	bool		crypto_refused;	/* refused encryption under
					 * --encryption require (logged) */
	bool		seed;		/* held: a seed, and so are we */
	bool		self;		/* held: it is ourselves */
	bool		no_utp;		/* uTP failed: dial TCP */
	bool		try_utp;	/* loopback, TCP failed: uTP next */
	enum peer_source source;
	bool		connected;
};

struct peerset {
	struct peer		*peers[PEERSET_MAX_PEERS];
	size_t			 npeers;
	size_t			 cap;		/* connections allowed */
	struct peerset_known	*known;		/* owned */
	size_t			 nknown;
	struct thr_addr		 banned[PEERSET_MAX_BANNED];
	size_t			 nbanned;
	uint64_t		 next_dial_ms;	/* no address is due before;
						 * 0: look (something changed) */
};

/* cap: the connection limit (0 or more than PEERSET_MAX_PEERS: that).
 * 0 or THR_ENOMEM. */
int	peerset_init(struct peerset *ps, size_t cap);
/* Free every peer and the known list. */
void	peerset_release(struct peerset *ps);

/* A new connection (a peer of npieces), or NULL when full, banned or out
 * of memory.  Its source is src, or for PEER_SRC_COUNT what the known
 * list says (PEER_SRC_INCOMING for an incoming one). */
struct peer	*peerset_add(struct peerset *ps, uint32_t id,
		    const struct thr_addr *a, bool incoming,
		    uint32_t npieces, enum peer_source src, uint64_t now_ms);
struct peer	*peerset_find(const struct peerset *ps, uint32_t id);
bool	peerset_connected_to(const struct peerset *ps,
	    const struct thr_addr *a);
/*
 * p is gone (its state already given back by the caller): update the
 * dial history of its address and free it.  A peer that hung up on our
 * encrypted handshake is dialled in plaintext next (with crypto prefer
 * or full), or, with require, counts a failure so that the back-off
 * grows (*refused is set the first time, for the caller to say why); a
 * loopback peer that TCP did not reach is tried over uTP (transport
 * both).  refused may be NULL.
 */
void	peerset_remove(struct peerset *ps, struct peer *p,
	    enum session_crypto crypto, enum session_transport transport,
	    uint64_t now_ms, bool *refused);
/*
 * The known address a is a seed while we seed (self false) or ourselves
 * (self true): not dialled again for PEERSET_HOLD_MS.  True when that is
 * news (the caller logs it); an address we did not dial has no entry.
 */
bool	peerset_hold(struct peerset *ps, const struct thr_addr *a, bool self);
/* We download again: the seeds held have something for us. */
void	peerset_unhold_seeds(struct peerset *ps);

/* Remember an address to dial (deduplicated, capped).  Manual addresses
 * (--peer, x.pe) are retried for as long as the run lasts. */
void	peerset_known_add(struct peerset *ps, const struct thr_addr *a,
	    enum peer_source src);
struct peerset_known	*peerset_known_find(struct peerset *ps,
			    const struct thr_addr *a);
/* An address to dial now, or false.  A seed dials only the addresses
 * the user gave.  Cheap when nothing is due: the list is scanned only
 * when an address was added or its time came (peerset_dial_due). */
bool	peerset_next_dial(struct peerset *ps, uint64_t now_ms, bool seeding,
	    struct thr_addr *out);
/*
 * Dial a over uTP (true) or TCP?  transport utp: always uTP; tcp: never;
 * both: uTP unless it failed for a before, and for a loopback address
 * TCP first, uTP after a TCP attempt that did not get through (uTP is
 * there to yield to other traffic on a shared uplink and to cross NATs;
 * on 127.0.0.0/8 and ::1 TCP does more with less).
 */
/* When the next address may be due (0: now), for the loop's sleep. */
uint64_t	peerset_dial_due(const struct peerset *ps);
bool	peerset_dial_utp(const struct peerset *ps,
	    enum session_transport transport, const struct thr_addr *a);
/* The uTP connect to a failed: with transport both, TCP at once. */
void	peerset_utp_failed(struct peerset *ps,
	    enum session_transport transport, const struct thr_addr *a,
	    uint64_t now_ms);
void	peerset_connect_failed(struct peerset *ps, const struct thr_addr *a,
	    uint64_t now_ms);
/* Every address may be tried again at once (after a pause). */
void	peerset_retry_all(struct peerset *ps);

/* True if a's IP was banned this session (sent bad data). */
bool	peerset_banned(const struct peerset *ps, const struct thr_addr *a);
/* Ban a's IP (with its port on loopback). */
void	peerset_ban(struct peerset *ps, const struct thr_addr *a);

#endif
