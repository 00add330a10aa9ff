/*
 * udpmux.h: the UDP sockets of a run (one for IPv4, one for IPv6 when the
 * host has it) and what travels over them: the DHT (BEP 5, IPv4 only),
 * UDP tracker announces (BEP 15) and uTP peer connections (BEP 29).
 *
 * The sockets are bound to the same port number as the TCP listener, as
 * peers expect (BEP 5 "port").  Datagrams from the address of the UDP
 * tracker being asked go to its engine; bencoded ones ('d' first) go to
 * the DHT; uTP packets (version 1 in the first byte) to the uTP
 * transports (net/utpnet.h); the rest are dropped.  The engines
 * (core/udptracker, core/dht, core/utp) decide what to send; this module
 * moves bytes, resolves host names without blocking (net/resolve) and
 * decides when the DHT looks up and announces each torrent.  It is
 * driven by udpmux_pump from the loop and never blocks.
 *
 * The DHT engine is the session's (session_dht_start): its routing table
 * is kept in the state directory's "dht.dat", saved at exit and every
 * UDPMUX_SAVE_MS.
 */
#ifndef THR_UDPMUX_H
#define THR_UDPMUX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/session.h"
#include "core/tracker.h"
#include "net/loop.h"
#include "net/xport.h"

#define UDPMUX_SAVE_MS		(10u * 60 * 1000)
/* Re-run the lookup and announce: BEP 5 peers expire after 30 min. */
#define UDPMUX_ANNOUNCE_MS	(15u * 60 * 1000)
/* While short of peers, look again sooner. */
#define UDPMUX_SEARCH_MS	(60u * 1000)
#define UDPMUX_FEW_PEERS	5
/* BEP 15 waits 15 * 2^n s up to n = 8 (over an hour); a tier list has
 * other URLs to try, so we give up after this many timeouts. */
#define UDPMUX_TRACKER_TRIES	2

struct udpmux;

/* The outcome of a UDP announce: status 0 with r (the callee releases
 * it), or an error code and msg. */
typedef void	udpmux_announce_cb(void *ctx, int status,
		    struct tracker_response *r, const char *msg,
		    uint64_t now_ms);

struct udpmux_opts {
	uint16_t		 port;		/* the TCP listener's */
	struct thr_addr		 bind;		/* --bind-address, family 0:
						 * every address */
	const char *const	*bootstrap;	/* HOST:PORT, DHT routers */
	size_t			 nbootstrap;	/* 0: the public routers */
	bool			 utp;		/* carry uTP peers */
};

/*
 * Open the UDP sockets on o->port (IPv4, and IPv6 when the host has it:
 * uTP and UDP trackers use both, the DHT IPv4 only; with o->bind, the
 * one socket of its family, bound to it), start the session's
 * DHT (when it runs one) with its bootstrap nodes, and the uTP transport
 * for table n.  s, l and n are borrowed for the life of the mux.  NULL
 * with err filled when the socket cannot be opened (the caller goes on
 * without UDP).
 */
struct udpmux	*udpmux_new(struct session *s, struct loop *l, struct xnet *n,
		    const struct udpmux_opts *o, struct thr_error *err);
/* Save the DHT table, close the sockets, free.  m may be NULL.  Every
 * uTP connection must be closed before (xnet_free). */
void	udpmux_free(struct udpmux *m);

/* Announce a to the udp:// URL url; cb(ctx, ...) gets the outcome. */
void	udpmux_announce(struct udpmux *m, const char *url,
	    const struct tracker_announce *a, udpmux_announce_cb *cb,
	    void *ctx, uint64_t now_ms);
/* Abandon the announce in flight (quitting); no result is reported. */
void	udpmux_cancel(struct udpmux *m);
/* True while an announce is in flight. */
bool	udpmux_busy(const struct udpmux *m);

/* Resolve, retransmit, run the DHT's and uTP's timers, send what is
 * queued, hand found peers to the session.  Call once per loop pass,
 * after the transports were pumped. */
void	udpmux_pump(struct udpmux *m, uint64_t now_ms);
/* Milliseconds until a timer of the mux is due (uTP, DHT), for the
 * loop's wait; UINT64_MAX if none. */
uint64_t	udpmux_wait_ms(const struct udpmux *m, uint64_t now_ms);
/* True when uTP is on. */
bool	udpmux_has_utp(const struct udpmux *m);

#endif
