/*
 * pwp.h: the peer wire protocol (BEP 3, with BEP 5 PORT, BEP 6 fast and
 * the BEP 10 extension messages) of one peer: our handshake and first
 * messages, the dispatch of its messages (a table indexed by message id,
 * one small handler each), our requests to it, serving its requests,
 * choking and interest, keep-alives and timeouts.
 *
 * It reads and writes the peer's buffers (p->in, p->out) and the
 * torrent's picker and intake; anything that concerns the whole torrent
 * (a piece verified or failed, a disk error, a newly interested peer, a
 * DHT node, a magnet's metadata complete) is reported as an event for
 * the torrent to apply, one message at a time:
 *
 *	if (pwp_input_begin(t, p, now))		MSE, the handshake
 *		while (pwp_input_next(t, p, now, &ev))
 *			apply ev;
 *	if (pwp_input_end(t, p, now, &ev))	the blocks of this read
 *		apply ev;			are written now
 *
 * MSE runs below it (pwcrypt.h): what this module parses and builds is
 * plaintext.  pwp.c reads the peer's messages; pwp_out.c holds what we
 * send on our own account (choking, interest, requests, serving).
 */
#ifndef THR_PWP_H
#define THR_PWP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "intake.h"
#include "peer.h"
#include "picker.h"
#include "wire.h"

#define PWP_CONNECT_TIMEOUT_MS		10000
#define PWP_HANDSHAKE_TIMEOUT_MS	20000
#define PWP_IDLE_TIMEOUT_MS		180000	/* nothing received at all */
#define PWP_KEEPALIVE_MS		90000
#define PWP_MAX_KEEPALIVES		20	/* per second before we drop */
#define PWP_MSG_TIMEOUT_MS		60000	/* to finish one message */
#define PWP_SNUB_MS			60000	/* our requests, unanswered */
/* A connection quiet both ways this long gets one keep-alive: the peer
 * may have left our last bytes unread until more arrive (pwp_tick). */
#define PWP_NUDGE_MS			2000

struct torrent;

enum pwp_event_kind {
	PWP_EV_NONE,
	PWP_EV_BLOCK,		/* a block arrived (b) and went to the intake
				 * (result, piece): cancel it at the others,
				 * apply a whole piece */
	PWP_EV_DISK_ERROR,	/* the intake gave pieces up (t->in) */
	PWP_EV_INTERESTED,	/* p became interested: a free upload slot
				 * may go to it */
	PWP_EV_DHT_NODE,	/* p runs a DHT node at addr (BEP 5) */
	PWP_EV_METADATA,	/* a magnet's info dict is complete (t->md) */
};

struct pwp_event {
	enum pwp_event_kind	 kind;
	struct picker_block	 b;
	enum intake_result	 result;
	struct intake_piece	 piece;
	struct thr_addr		 addr;
};

/* An outgoing connection is up: MSE first (per --encryption and what the
 * address did before) or our handshake. */
void	pwp_connected(struct torrent *t, struct peer *p, bool plain_only,
	    uint64_t now_ms);
/* New bytes in p->in: decrypt, run MSE and the handshake.  True when
 * messages may follow (p is ACTIVE). */
bool	pwp_input_begin(struct torrent *t, struct peer *p, uint64_t now_ms);
/* Parse and act on the next whole message.  True when one was handled
 * (*ev says what the torrent must apply, often nothing); false when no
 * whole message is left or p is dead. */
bool	pwp_input_next(struct torrent *t, struct peer *p, uint64_t now_ms,
	    struct pwp_event *ev);
/* The end of a read: store its blocks and consume what was parsed.
 * True with a DISK_ERROR event when storing failed. */
bool	pwp_input_end(struct torrent *t, struct peer *p, uint64_t now_ms,
	    struct pwp_event *ev);

/* The first block p asked for, read from the store into p->out (the
 * session's upload scheduler chose p).  A failed read sets t->fatal. */
void	pwp_upload_block(struct torrent *t, struct peer *p, uint64_t now_ms);
/* n bytes of p->out were written. */
void	pwp_sent(struct peer *p, size_t n, uint64_t now_ms);

/* Choke or unchoke p (BEP 6: dropped requests are rejected). */
void	pwp_set_choke(struct torrent *t, struct peer *p, bool choke);
/* Tell p whether we want something it has. */
void	pwp_update_interest(struct torrent *t, struct peer *p);
/* Keep enough requests in flight to p. */
void	pwp_request_more(struct torrent *t, struct peer *p, uint64_t now_ms);
/* We have piece index now: tell p (and whether we still want its). */
void	pwp_have(struct torrent *t, struct peer *p, uint32_t index);
/* Block b arrived from another peer: cancel it here if asked (endgame). */
void	pwp_cancel(struct peer *p, const struct picker_block *b);
/* Give back every request in flight to p (choke, close, snub). */
void	pwp_drop_requests(struct torrent *t, struct peer *p);
/* Once a second: timeouts, keep-alives, snubbing, requests. */
void	pwp_tick(struct torrent *t, struct peer *p, uint64_t now_ms);
/* p is going away: its requests, availability and metadata pieces. */
void	pwp_gone(struct torrent *t, struct peer *p);
/* The metadata arrived: p's early bitfield or have-all becomes its have
 * set over the piece count now known. */
void	pwp_adopt_pieces(struct torrent *t, struct peer *p);
/* p is a seed and so are we: close it, and do not dial it again soon. */
void	pwp_seeds_part(struct torrent *t, struct peer *p);
/* True if piece index is in p's allowed fast set (BEP 6). */
bool	pwp_allowed_out(const struct peer *p, uint32_t index);
/* A message without payload (choke, interested...). */
void	pwp_send_simple(struct peer *p, enum wire_id id);
/* BEP 6 suggest: up to two of the rarest pieces (among connected peers)
 * that we have and p lacks, so that rare pieces spread first.  Ties are
 * broken at random: a seed whose pieces nobody has yet would otherwise
 * point every newcomer at the same two pieces, and send them to each. */
void	pwp_suggest(struct torrent *t, struct peer *p);

#endif
