/*
 * picker.h: which block to ask which peer for next.
 *
 * Data model: every piece is MISSING, ACTIVE or HAVE.  An active piece
 * has a buffer in memory for its data and one byte per 16 KiB block that
 * counts outstanding requests (0 = free, 1..PICKER_BLK_MAXREQ = requested
 * that many times, PICKER_BLK_RECV = received).  At most max_active
 * pieces are active at once, so memory is bounded by the pieces in
 * flight (max_active * piece length), never by the torrent's size.
 *
 * Order (BEP 3 "rarest first"): blocks of active pieces first, so partial
 * pieces finish; then a new piece, the rarest among those the peer has
 * (random among equals; fully random while we have fewer than
 * PICKER_RANDOM_FIRST pieces, so that a new peer soon has something to
 * trade).  Endgame: when nothing is left unrequested, a block already
 * requested from another peer may be requested again; the caller cancels
 * the duplicates when one arrives.
 *
 * Pieces are referred to by index and peers never by pointer.
 */
#ifndef THR_PICKER_H
#define THR_PICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitfield.h"
#include "metainfo.h"
#include "rng.h"

#define PICKER_RANDOM_FIRST	4
#define PICKER_BLK_MAXREQ	200
#define PICKER_BLK_RECV		255
#define PICKER_MAX_CONTRIB	8	/* peers remembered per piece */
#define PICKER_MAX_FAILED	64	/* failed pieces remembered */

/* How a new piece is chosen (blocks of started pieces always come first). */
enum picker_strategy {
	PICKER_RAREST,		/* rarest first, random among equals */
	PICKER_RANDOM,		/* uniformly random */
	PICKER_SEQUENTIAL,	/* lowest index first, for streaming */
	PICKER_NSTRATEGIES,
};

enum picker_state {
	PICKER_MISSING,
	PICKER_ACTIVE,
	PICKER_HAVE,
};

struct picker_piece {
	uint32_t	 index;
	uint32_t	 size;
	uint32_t	 nblocks;
	uint32_t	 nrecv;
	uint8_t		*blk;		/* owned, nblocks */
	uint8_t		*data;		/* owned, size bytes; NULL unless
					 * the picker keeps data */
	uint32_t	 contrib[PICKER_MAX_CONTRIB];	/* peer ids */
	uint32_t	 ncontrib;
	uint32_t	 owner;		/* peer that started it; 0: none */
};

struct picker {
	const struct metainfo	*mi;		/* borrowed */
	uint32_t		 npieces;
	uint8_t			*state;		/* owned, enum picker_state */
	uint16_t		*avail;		/* owned, peers having each */
	struct {
		uint32_t	index;
		uint32_t	peers[PICKER_MAX_CONTRIB];	/* 0: empty */
	}			 failed[PICKER_MAX_FAILED];
					/* the last failed pieces and who
					 * sent them; a ring, failures are
					 * rare and this stays small */
	uint32_t		 nfailed;	/* ever recorded */
	uint8_t			*wanted;	/* owned; NULL: every piece */
	struct picker_piece	*active;	/* owned */
	size_t			 nactive;
	size_t			 max_active;
	uint32_t		 nhave;
	uint32_t		 nfree_missing;	/* MISSING pieces we want */
	enum picker_strategy	 strategy;
	bool			 keep_data;	/* buffer whole pieces (tests,
						 * default); the session
						 * writes blocks straight to
						 * disk instead */
};

/* A block to request. */
struct picker_block {
	uint32_t	index;
	uint32_t	begin;
	uint32_t	length;
};

/* have: pieces already verified (copied).  0 or THR_ENOMEM. */
int	picker_init(struct picker *pk, const struct metainfo *mi,
	    const struct bitfield *have, size_t max_active);
void	picker_release(struct picker *pk);

/* "rarest", "random", "sequential" <-> enum; parse returns THR_EINVAL. */
int	picker_strategy_parse(const char *name, enum picker_strategy *out);
const char *picker_strategy_name(enum picker_strategy st);

/* Availability bookkeeping as peers announce and leave. */
void	picker_add_have(struct picker *pk, uint32_t index);
void	picker_add_bitfield(struct picker *pk, const struct bitfield *bf);
void	picker_remove_bitfield(struct picker *pk, const struct bitfield *bf);

/* True if the peer has a piece we lack. */
bool	picker_interesting(const struct picker *pk, const struct bitfield *bf);

/*
 * Choose the next block for peer peer_id, which has bf.  In order:
 * free blocks of pieces this peer started (or that nobody owns any
 * more), then a new piece, then free blocks of pieces other peers
 * started, then endgame duplicates.  Keeping a piece with the peer that
 * started it makes its blocks arrive in order, so the session hashes
 * them straight off the wire; peers share pieces only when no new one
 * can be started.  A piece that failed its hash check with data from
 * this peer is started from another peer when there is any other choice.
 * skip(ctx, blk) says a block is already requested from this peer (for
 * endgame); may be NULL.  Marks the block requested and returns true, or
 * false if there is nothing to ask this peer for.
 */
bool	picker_pick(struct picker *pk, uint32_t peer_id,
	    const struct bitfield *bf, struct rng *rng, bool (*skip)(void *, const struct picker_block *),
	    void *ctx, struct picker_block *out);
/*
 * Like picker_pick, but only blocks of the listed pieces (BEP 6 allowed
 * fast pieces while choked, or a peer's suggestions): started ones of
 * this peer's or nobody's first, then a new one in list order, then
 * started ones of other peers.  No endgame duplicates.
 */
bool	picker_pick_from(struct picker *pk, uint32_t peer_id,
	    const struct bitfield *bf, const uint32_t *pieces, size_t n,
	    bool (*skip)(void *, const struct picker_block *), void *ctx,
	    struct picker_block *out);
/* Peer peer_id stopped serving (choked us or left): the pieces it
 * started are anyone's to finish. */
void	picker_disown(struct picker *pk, uint32_t peer_id);
/* A request was dropped (choke, cancel, peer gone): the block is free
 * again unless others still have it requested.  A piece left with no
 * block received or requested is MISSING again (not started), so it is
 * chosen anew by the strategy.  Invalidates pointers into pk->active. */
void	picker_unrequest(struct picker *pk, const struct picker_block *b);

enum picker_recv {
	PICKER_RECV_IGNORED,	/* not wanted: not active or already had */
	PICKER_RECV_STORED,	/* stored, piece still incomplete */
	PICKER_RECV_COMPLETE,	/* stored, and the piece is whole */
};
/* A block arrived from peer_id.  data is copied when keep_data is set.
 * Unless IGNORED, *piece points at the active piece (valid until
 * picker_piece_done). */
enum picker_recv picker_received(struct picker *pk, uint32_t peer_id,
	    uint32_t index, uint32_t begin, const uint8_t *data, uint32_t len,
	    struct picker_piece **piece);
/* The complete piece was checked: ok marks it HAVE, otherwise its data is
 * discarded and it becomes MISSING, to be fetched again (preferably from
 * a peer that did not contribute to it). */
void	picker_piece_done(struct picker *pk, uint32_t index, bool ok);
/* Want piece index or not (file selection).  A started piece is
 * finished either way. */
int	picker_set_wanted(struct picker *pk, uint32_t index, bool want);
bool	picker_wanted(const struct picker *pk, uint32_t index);

/* True when every block of every missing piece is requested (endgame). */
bool	picker_endgame(const struct picker *pk);
/* True when every wanted piece is had. */
bool	picker_complete(const struct picker *pk);

#endif
