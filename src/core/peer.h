/*
 * peer.h: one connection to a remote peer, as data: its protocol flags,
 * its pieces, the requests in flight each way, and its byte buffers.
 * No sockets here: the transport layer (net/xport.h) moves bytes between
 * the connection and in/out, and the wire protocol (pwp.h) interprets
 * them.
 *
 * A peer is known to the rest of the program by its id, which is never
 * reused during a run, so a stale id simply finds nothing.
 */
#ifndef THR_PEER_H
#define THR_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "bitfield.h"
#include "buf.h"
#include "ext.h"
#include "mse.h"
#include "picker.h"
#include "rate.h"
#include "trace.h"

#define PEER_MAX_REQS		256	/* our requests in flight to one peer */
#define PEER_MIN_REQS		2	/* one being served, one waiting */
#define PEER_START_REQS		4	/* before its first block came */
#define PEER_QUEUE_MS		500	/* service time our requests may wait
					 * at a peer beyond the round trip */
#define PEER_MAX_QUEUED		512	/* its requests we hold; BEP 10 reqq */
#define PEER_OUT_LOW		(256u << 10)	/* refill below this */
#define PEER_IN_MAX		((1u << 20) + (64u << 10))
/* One read(2) per 16 blocks at full speed, and adjacent blocks of one
 * read go to disk with one pwritev: 64 KiB reads cost 0.25 s more
 * system time per GiB here.  Pages are touched only as data arrives. */
#define PEER_READ_CHUNK		(256u << 10)
#define PEER_CLIENT_MAX		32
#define PEER_HOST_MAX		64
#define PEER_FAST_SET		10	/* BEP 6 allowed fast set size, k */
#define PEER_MAX_ALLOWED	32	/* allowed fast pieces we keep */
#define PEER_MAX_SUGGEST	16	/* suggestions we keep */
#define PEER_PEX_SENT		100	/* addresses it knows from our pex */
#define PEER_PEX_MAX		50	/* BEP 11: added, dropped per message */
#define PEER_PEX_MIN_MS		45000	/* pex from it faster than this is
					 * ignored (BEP 11: once a minute) */

/* Where we learned of a peer: shown in the view and the trace. */
enum peer_source {
	PEER_SRC_TRACKER,
	PEER_SRC_DHT,
	PEER_SRC_PEX,
	PEER_SRC_INCOMING,
	PEER_SRC_MANUAL,	/* --peer or a magnet's x.pe */
	PEER_SRC_LSD,		/* local service discovery (BEP 14) */
	PEER_SRC_WEB,		/* a web seed (BEP 19): not a peer at all */
	PEER_SRC_COUNT
};

/* What carries the peer-wire bytes.  Only the net layer looks at it (and
 * the view, which shows it): the session code above reads p->in and
 * writes p->out the same way for every transport. */
enum peer_transport {
	PEER_TCP,
	PEER_UTP,		/* uTP over the shared UDP socket (BEP 29) */
	PEER_WEB,		/* HTTP range requests to a web seed */
};

enum peer_phase {
	PEER_CONNECTING,	/* outgoing connect() in progress */
	PEER_CRYPTO,		/* MSE handshake (core/mse.h) */
	PEER_HANDSHAKE,		/* waiting for its handshake */
	PEER_ACTIVE,		/* handshakes done, messages flow */
};

struct peer {
	uint32_t		 id;
	struct thr_addr		 addr;
	struct thr_addr		 local;		/* outgoing TCP: our end, set
						 * by the net layer; else
						 * zero */
	bool			 incoming;
	enum peer_source	 source;
	enum peer_transport	 transport;	/* for the view and trace:
						 * the net layer owns the
						 * connection itself */
	enum peer_phase		 phase;		/* peer_set_phase only */
	bool			 sent_handshake;
	bool			 got_first_msg;	/* had a have or bitfield */
	uint8_t			 peer_id[20];
	char			 client[PEER_CLIENT_MAX];	/* printable */
	char			 host[PEER_HOST_MAX];	/* shown for a peer
						 * whose address is made up (a
						 * web seed's host); "" else */

	bool			 am_choking, am_interested;
	bool			 peer_choking, peer_interested;
	bool			 optimistic;
	bool			 fast;		/* both speak BEP 6 */
	uint32_t		 allowed_in[PEER_MAX_ALLOWED];	/* for us */
	uint32_t		 nallowed_in;
	uint32_t		 allowed_out[PEER_FAST_SET];	/* for it */
	uint32_t		 nallowed_out;
	uint32_t		 suggested[PEER_MAX_SUGGEST];
	uint32_t		 nsuggested;
	struct bitfield		 have;

	struct picker_block	 reqs[PEER_MAX_REQS];	/* ours, in flight */
	uint64_t		 req_ms[PEER_MAX_REQS];	/* when each was sent */
	uint32_t		 nreqs;
	uint64_t		 lat_min_ms;	/* quickest request to block, or
						 * UINT64_MAX before one */
	struct picker_block	 queue[PEER_MAX_QUEUED];	/* theirs */
	uint32_t		 qhead, qlen;

	struct buf		 in, out;
	struct rate		 down, up;	/* payload bytes */
	uint64_t		 downloaded, uploaded;
	uint64_t		 connected_ms, last_recv_ms, last_send_ms;
	uint64_t		 last_piece_ms;	/* last block we got */
	uint64_t		 unchoked_ms;	/* when we unchoked it, 0 */
	uint64_t		 choked_ms;	/* when we last choked it */
	bool			 snubbed;	/* sat on our requests */
	uint32_t		 strikes;	/* hash failures it was part of */
	uint32_t		 unasked_ok;	/* blocks it may still send
						 * after we dropped requests */
	uint32_t		 keepalives;	/* this second */
	uint64_t		 partial_ms;	/* first byte of an unfinished
						 * message, 0 if none */
	/* BEP 10 and its extensions. */
	/* Message Stream Encryption. */
	struct mse		*mse;		/* owned, or NULL: plaintext */
	bool			 crypto_checked;	/* incoming: first bytes
						 * looked at */
	bool			 obfuscated;	/* MSE handshake, then the
						 * payload in plaintext */
	bool			 encrypted;	/* RC4 both ways */
	size_t			 out_enc;	/* out[0..out_enc) is ready for
						 * the wire (encrypted) */
	size_t			 out_push;	/* out[0..out_push) ends with
						 * our handshake: a packet
						 * transport sends it without
						 * what follows; 0 none */
	bool			 nudged;	/* a keep-alive went out when
						 * the connection went quiet;
						 * its next message clears it
						 * (state_tick) */
	size_t			 in_dec;	/* in[0..in_dec) is decrypted */
	size_t			 in_off;	/* in[0..in_off) is parsed and
						 * waits to be consumed */
	bool			 ext;		/* both set the reserved bit */
	bool			 dht;		/* it set the BEP 5 bit */
	bool			 dht_hinted;	/* its PORT went to the DHT */
	struct ext_handshake	 exth;		/* what it told us */
	uint16_t		 listen_port;	/* from "p", or its port if
						 * we dialled it; 0 unknown */
	struct thr_addr		 pex_sent[PEER_PEX_SENT];	/* in its view */
	uint32_t		 npex_sent;
	uint64_t		 pex_out_ms;	/* our last pex to it */
	uint64_t		 pex_in_ms;	/* its last pex we used */
	bool			 meta_rejected;	/* refused us metadata */
	uint32_t		 meta_timeouts;	/* metadata requests it left
						 * unanswered in a row */
	/* Before the metadata of a magnet is known there is no piece
	 * count: its bitfield or have-all waits here until there is. */
	uint8_t			*early_bits;	/* owned, or NULL */
	size_t			 early_len;
	bool			 early_all;

	bool			 dirty;		/* on its torrent's dirty list */
	bool			 dead;		/* close at the next chance */
	char			 why[96];	/* reason for closing */
};

/* Allocate a peer for a torrent of npieces.  NULL on ENOMEM. */
struct peer	*peer_new(uint32_t id, const struct thr_addr *addr,
		    bool incoming, uint32_t npieces, uint64_t now_ms);
void	peer_free(struct peer *p);
/* Remove request b from p->reqs; true if it was there, and then *sent_ms
 * (may be NULL) is when it was sent. */
bool	peer_reqs_remove(struct peer *p, const struct picker_block *b,
	    uint64_t *sent_ms);
/* Add request b, sent at now_ms; false when PEER_MAX_REQS are. */
bool	peer_reqs_add(struct peer *p, const struct picker_block *b,
	    uint64_t now_ms);
bool	peer_reqs_has(const struct peer *p, const struct picker_block *b);
/* Requests queue (theirs): push (false when full), pop, remove. */
bool	peer_queue_push(struct peer *p, const struct picker_block *b);
bool	peer_queue_pop(struct peer *p, struct picker_block *b);
void	peer_queue_remove(struct peer *p, const struct picker_block *b);
void	peer_queue_clear(struct peer *p);
/* "tracker", "dht", "pex", "incoming", "manual", "lsd" or "web": a
 * static string. */
const char	*peer_source_name(enum peer_source src);
/* "tcp", "utp" or "web": a static string. */
const char	*peer_transport_name(enum peer_transport t);
/* Mark for closing with a reason (first reason wins). */
void	peer_kill(struct peer *p, const char *why);
/* The one door of a peer's phase: traces old -> new with why (tr may be
 * a trace that is off). */
void	peer_set_phase(struct peer *p, enum peer_phase ph, const char *why,
	    struct trace *tr);
const char	*peer_phase_name(enum peer_phase ph);

#endif
