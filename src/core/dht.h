/*
 * dht.h: the Mainline DHT (BEP 5) as a pure engine: no sockets, no clock
 * of its own, no I/O.  The model is jech/dht: the caller feeds datagrams
 * and the current monotonic time, and collects packets to send, peers
 * found, and the time it must call back.
 *
 *	struct dht *d = dht_new(&opts, &err);	id random from opts.seed
 *	dht_load(d, saved, len, &err);		optional: id and old nodes
 *	dht_add_bootstrap(d, &addr, now);	e.g. router.bittorrent.com
 *	loop:
 *		on a datagram:	dht_input(d, &from, pkt, len, now);
 *		on the timer:	dht_tick(d, now);
 *		to start a lookup: dht_search(d, info_hash, port, true, now);
 *		then always:
 *		while (dht_pop_send(d, &to, pkt, sizeof pkt, &len))
 *			sendto(fd, pkt, len, to);
 *		while (dht_pop_peer(d, ih, &peer)) hand peer to the torrent;
 *		arm the timer for dht_deadline(d);
 *	dht_save(d, &buf); dht_free(d);
 *
 * Data model:
 * - Our 20-byte id and a routing table of k-buckets (K = DHT_K = 8).
 *   Bucket i < n-1 holds nodes sharing exactly i leading bits with our
 *   id; the last bucket holds the rest (those sharing n-1 or more).  Only
 *   that last bucket, the one containing our id, is ever split (BEP 5).
 * - A node is good if it answered us within DHT_GOOD_MS, or answered us
 *   once and queried us within DHT_GOOD_MS; bad after DHT_MAX_FAILS
 *   unanswered queries in a row; questionable otherwise.  A full bucket
 *   takes a new node only in place of a bad one; if it has questionable
 *   nodes, the oldest is pinged and the newcomer waits as the bucket's
 *   replacement until the ping fails DHT_MAX_FAILS times.
 * - Only nodes that sent us a valid message enter the table; nodes named
 *   in "nodes" lists are merely candidates of searches.
 * - Searches (at most DHT_MAX_SEARCHES): iterative find_node or
 *   get_peers toward a target, DHT_ALPHA queries in flight, the
 *   DHT_SEARCH_NODES closest candidates kept; done when the DHT_K closest
 *   live candidates have all answered (or DHT_SEARCH_MAX_MS passed).  A
 *   get_peers search with announce then sends announce_peer, with each
 *   node's token, to the DHT_K closest that answered with a token.
 *   While the table holds fewer than DHT_K nodes a search also asks the
 *   bootstrap addresses (libtorrent's routers never enter anyone's
 *   table, yet may be the only nodes that hold the peers).
 *   Peers from "values" are queued for dht_pop_peer.  Running
 *   dht_search again for a hash restarts it (re-announce).
 * - Server: ping, find_node, get_peers (values from our peer store and
 *   the closest nodes, plus a token) and announce_peer (token checked,
 *   peer stored for DHT_PEER_TTL_MS, at most DHT_PEERS_PER_HASH per hash
 *   and DHT_STORE_MAX in all).  Unknown methods get error 204, missing
 *   arguments 203.  Incoming queries beyond DHT_RATE_PER_S per second
 *   are dropped unanswered.
 * - Tokens are SHA-1(secret || IP); the secret changes every
 *   DHT_SECRET_MS and the previous one is still accepted (BEP 5).
 * - The routing table holds nodes of one family (dht_options.family);
 *   nodes of the other are ignored.  "values" of both are passed on.
 * - Everything is bounded: send queue DHT_SENDQ_MAX packets of at most
 *   DHT_PKT_MAX bytes (overflow is counted and dropped), found peers
 *   DHT_PEERQ_MAX, pending queries DHT_MAX_PENDING.  Hostile packets are
 *   counted as malformed and dropped; none can crash the engine.
 * Randomness (ids, transaction ids, secrets) comes from an own xorshift
 * seeded by dht_options.seed, so a run can be replayed.  The engine holds
 * no pointer to caller memory.
 */
#ifndef THR_DHT_H
#define THR_DHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "err.h"

#define DHT_ID_LEN		20
#define DHT_K			8	/* BEP 5: bucket size */
#define DHT_ALPHA		3	/* parallel queries per search */
#define DHT_SEARCH_NODES	32	/* candidates kept per search */
#define DHT_MAX_SEARCHES	32
#define DHT_MAX_PENDING		256	/* queries awaiting an answer */
#define DHT_MAX_BOOTSTRAP	16
#define DHT_GOOD_MS		(15u * 60 * 1000)	/* BEP 5: 15 minutes */
#define DHT_REFRESH_MS		(15u * 60 * 1000)	/* BEP 5 */
#define DHT_SECRET_MS		(5u * 60 * 1000)	/* BEP 5 */
#define DHT_PEER_TTL_MS		(30u * 60 * 1000)	/* BEP 5 guidance */
#define DHT_QUERY_TIMEOUT_MS	5000u	/* an answer later than this is lost */
#define DHT_SEARCH_MAX_MS	60000u	/* give up on a search after */
#define DHT_MAX_FAILS		3	/* unanswered in a row: bad node */
#define DHT_HOUSEKEEP_MS	1000u	/* dht_tick runs at least this often */
#define DHT_RATE_PER_S		250	/* incoming queries answered per s */
#define DHT_PEERS_PER_HASH	100	/* stored peers per info-hash */
#define DHT_STORE_MAX		4096	/* stored peers in all */
#define DHT_REPLY_VALUES	50	/* values per get_peers reply */
#define DHT_PKT_MAX		1500	/* every packet we build fits a MTU */
#define DHT_SENDQ_MAX		512
#define DHT_PEERQ_MAX		1024
#define DHT_SAVE_MAX		(64u * 1024)	/* a saved state's size cap */

struct dht;

struct dht_options {
	uint64_t	seed;		/* PRNG seed: node id, tids, secrets */
	int		family;		/* 4 (default if 0) or 6 */
	/* Accept nodes on loopback and private addresses.  Off on the
	 * public internet; the loopback tests need it on. */
	bool		allow_private;
	/* Accept several nodes on one IP (different ports).  Needed when
	 * many nodes run on 127.0.0.1. */
	bool		allow_same_ip;
};

/* Defaults: family 4, both allow flags true, seed 0 (fixed sequence). */
void	dht_options_init(struct dht_options *o);

struct dht_stats {
	uint64_t	queries_in;	/* valid queries answered */
	uint64_t	queries_out;	/* queries we sent */
	uint64_t	replies_in;	/* answers matched to our queries */
	uint64_t	timeouts;	/* our queries never answered */
	uint64_t	malformed;	/* packets that did not parse */
	uint64_t	dropped;	/* rate limit, unknown tid, full queues */
	size_t		nodes;		/* good + questionable in the table */
	size_t		buckets;
	size_t		peers_stored;
	size_t		searches;	/* searches running */
};

/*
 * Create an engine (owned by the caller, freed with dht_free).  opts may
 * be NULL for the defaults.  NULL with err filled on THR_ENOMEM or an
 * invalid family (THR_EINVAL).
 */
struct dht *dht_new(const struct dht_options *opts, struct thr_error *err);
void	dht_free(struct dht *d);	/* d may be NULL */

/* Our node id (DHT_ID_LEN bytes, valid while d lives). */
const uint8_t *dht_id(const struct dht *d);

/*
 * Ask find_node(our id) of a node we know only by address (its answer
 * proves it alive, like a ping, and names more nodes), as part of the
 * search for our own id that fills the table.  The
 * address is remembered (up to DHT_MAX_BOOTSTRAP) and asked again by
 * dht_tick while the table has fewer than DHT_K nodes.  Returns 0,
 * THR_EINVAL (wrong family, port 0) or THR_ELIMIT.
 */
int	dht_add_bootstrap(struct dht *d, const struct thr_addr *addr,
	    uint64_t now_ms);

/*
 * Feed one datagram received from `from` (pkt borrowed for the call).
 * Never fails: bad packets are counted (malformed/dropped) and ignored.
 */
void	dht_input(struct dht *d, const struct thr_addr *from,
	    const uint8_t *pkt, size_t len, uint64_t now_ms);

/*
 * Timeouts, stalled searches, bucket refresh (every DHT_REFRESH_MS per
 * bucket), secret rotation, peer expiry, re-bootstrap.  Call at
 * dht_deadline or later; calling early is harmless.
 */
void	dht_tick(struct dht *d, uint64_t now_ms);

/* The time dht_tick next has work; <= now when a packet waits. */
uint64_t dht_deadline(const struct dht *d);

/*
 * Start (or restart) a get_peers search for info_hash; with announce,
 * finish by announcing that we serve it on `port` (our peer port; 0 with
 * announce is THR_EINVAL).  Peers found come out of dht_pop_peer.
 * Returns 0, THR_EINVAL or THR_ELIMIT (DHT_MAX_SEARCHES running).  With
 * an empty table the search waits for nodes and gives up after
 * DHT_SEARCH_MAX_MS.
 */
int	dht_search(struct dht *d, const uint8_t info_hash[DHT_ID_LEN],
	    uint16_t port, bool announce, uint64_t now_ms);
/* True while a search for info_hash is running. */
bool	dht_searching(const struct dht *d, const uint8_t info_hash[DHT_ID_LEN]);

/*
 * Take the oldest queued packet: its destination into *to, its bytes into
 * pkt[0..cap) and the length into *len.  False when the queue is empty.
 * A packet longer than cap (never with cap >= DHT_PKT_MAX) is dropped
 * and counted, and the next one is tried.
 */
bool	dht_pop_send(struct dht *d, struct thr_addr *to, uint8_t *pkt,
	    size_t cap, size_t *len);

/* Take the oldest peer found by a search; false when none is queued. */
bool	dht_pop_peer(struct dht *d, uint8_t info_hash[DHT_ID_LEN],
	    struct thr_addr *peer);

/* Good + questionable nodes in the routing table (for the view). */
size_t	dht_nodes(const struct dht *d);
void	dht_get_stats(const struct dht *d, struct dht_stats *st);

/*
 * Append our id and the table's good and questionable nodes as a bencoded
 * dict (d2:id20:...5:nodes<26n>:...e, "nodes6" for IPv6) to out.
 * Returns 0 or the error of buf_append.
 */
int	dht_save(const struct dht *d, struct buf *out);
/*
 * Restore what dht_save wrote: our id (the table is emptied first if it
 * changes) and the nodes, which enter the table as questionable and are
 * asked for our id at the next dht_tick.  len over DHT_SAVE_MAX is
 * THR_ELIMIT; other damage THR_EINVAL with err filled.  On error the
 * engine is unchanged and still usable.
 */
int	dht_load(struct dht *d, const uint8_t *buf, size_t len,
	    struct thr_error *err);

#endif
