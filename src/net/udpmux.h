/*
 * udpmux.h: the UDP socket of a run (one for IPv4, one for IPv6 when the
 * host has it) and what travels over it: the DHT (BEP 5, IPv4 only), UDP
 * tracker announces (BEP 15) and uTP peer connections (BEP 29).
 *
 * The sockets are bound to the same port number as the TCP listener, as
 * peers expect (BEP 5 "port").  Datagrams from the address of the UDP
 * tracker being asked go to its engine; bencoded ones ('d' first) go to
 * the DHT; uTP packets (version 1 in the first byte) to the uTP engine
 * (core/utp); the rest are dropped.  For a uTP peer this module is what
 * the TCP socket code of run.c is for a TCP peer: it moves bytes between
 * the connection and p->in / p->out, so that the session code never
 * knows which transport carries a peer.  The engines (core/udptracker,
 * core/dht) decide what to send; this module moves bytes, resolves host
 * names without blocking (net/resolve) and decides when the DHT looks up
 * and announces the torrent.  It is driven by udpmux_pump from the
 * loop's before-sleep hook and never blocks.
 *
 * The DHT engine is owned by the state (s->dht), so that the view can
 * read it; its routing table is saved to "dht.dat" in the state
 * directory at exit and every UDPMUX_SAVE_MS, and loaded at start.
 */
#ifndef THR_UDPMUX_H
#define THR_UDPMUX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/state.h"
#include "core/tracker.h"
#include "net/loop.h"

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

/*
 * Open the UDP sockets on s->port (IPv4, and IPv6 when the host has it:
 * uTP and UDP trackers use both, the DHT IPv4 only; with --bind-address,
 * the one socket of its family, bound to it) and, unless
 * s->opts.no_dht or the torrent is private (BEP 27), start the DHT:
 * load dht.dat, resolve
 * and ping the bootstrap nodes (--dht-bootstrap, or the public routers
 * when none is given).  s and l are borrowed for the life of the mux.
 * NULL with err filled when the socket cannot be opened (the caller goes
 * on without UDP).
 */
struct udpmux	*udpmux_new(struct thr_state *s, struct loop *l,
		    struct thr_error *err);
/* Save the DHT table, close the socket, free.  m may be NULL. */
void	udpmux_free(struct udpmux *m);

/* Announce a to the udp:// URL url (from state_tracker_next).  The
 * outcome goes to state_tracker_result. */
void	udpmux_announce(struct udpmux *m, const char *url,
	    const struct tracker_announce *a, uint64_t now_ms);
/* Abandon the announce in flight (quitting); no result is reported. */
void	udpmux_cancel(struct udpmux *m);
/* True while an announce is in flight. */
bool	udpmux_busy(const struct udpmux *m);

/* Resolve, retransmit, run the DHT's timers, send what is queued, hand
 * found peers to the state.  Call once per loop pass. */
void	udpmux_pump(struct udpmux *m, uint64_t now_ms);

/* With --transport both, a uTP connect not answered in this long is
 * given up for TCP (the engine alone would wait 6 s). */
#define UDPMUX_UTP_WAIT_MS	2500
/* Bytes read per uTP peer per pass: others get a turn. */
#define UDPMUX_UTP_BUDGET	(1u << 20)

/* True when uTP is on (not --transport tcp, the socket is open). */
bool	udpmux_has_utp(const struct udpmux *m);
/* ... and a can be reached: IPv4, or IPv6 when the host has it. */
bool	udpmux_utp_reaches(const struct udpmux *m, const struct thr_addr *a);
/* Dial p (just added by state_peer_add, outgoing) over uTP: sets
 * p->transport and p->tp.  THR_ELIMIT when the engine is full. */
int	udpmux_utp_connect(struct udpmux *m, struct peer *p);
/* Take incoming uTP connections as peers, notice finished connects,
 * move bytes for every uTP peer (under the download limit), and kill
 * the peers whose connection closed.  Call once per loop pass, before
 * reaping dead peers and before udpmux_pump (which sends). */
void	udpmux_utp_pump(struct udpmux *m, uint64_t now_ms);
/* Write what the session queued for each uTP peer (state_upload) into
 * its connection, and send.  Call after state_upload. */
void	udpmux_utp_flush(struct udpmux *m, uint64_t now_ms);
/* The peer is going away: close its connection (FIN after what is
 * queued) and hand it back to the engine.  p->tp is NULL afterwards. */
void	udpmux_utp_release(struct udpmux *m, struct peer *p);
/* Milliseconds until the uTP engine's next timer, for the loop's wait;
 * UINT64_MAX if none. */
uint64_t udpmux_wait_ms(const struct udpmux *m, uint64_t now_ms);

#endif
