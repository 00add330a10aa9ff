/*
 * metadata.h: fetching the info dictionary of a magnet link from peers
 * with ut_metadata (BEP 9), and cutting ours into pieces to serve it.
 *
 * The info dict of size bytes is split into METADATA_PIECE (16 KiB)
 * pieces, the last one shorter.  Each piece is missing, requested (from
 * one peer, until a deadline), or have (with the peer that sent it).
 * Several peers can help at once: metadata_next_request hands each caller
 * a different missing piece.  A request that has not been answered
 * within METADATA_TIMEOUT_MS is taken back by metadata_expire (once a
 * second, from the session's tick), which names the peer that left it
 * unanswered; the piece is then missing again, for any peer to ask,
 * the same one included: some peers (rTorrent 0.9.8) answer only the
 * first of several requests that arrive together, and asking again,
 * one piece at a time, is what gets the rest out of them.  A late
 * answer to a request that was taken back is still accepted.  When
 * every piece is there, metadata_verify checks the SHA-1 of the whole
 * buffer against the info-hash of the magnet link; on a mismatch it
 * names the peers that sent pieces (any of them may have lied) and
 * starts over.
 *
 * Peers are named by the caller's peer id (struct peer's id), never by
 * pointer, so a peer that disconnects cannot dangle; call
 * metadata_peer_gone to give its outstanding requests to others at once.
 *
 * Once verified, md->data[0..md->size) is the bencoded info dict whose
 * SHA-1 is the info-hash.  (metainfo.h has no parser for a bare info
 * dict; wrapping it as "d4:info" <data> "e" makes a torrent that
 * metainfo_parse accepts, with the same info-hash.)
 */
#ifndef THR_METADATA_H
#define THR_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ext.h"

#define METADATA_PIECE		EXT_METADATA_PIECE	/* BEP 9: 16 KiB */
#define METADATA_MAX_SIZE	EXT_MAX_METADATA	/* 8 MiB */
#define METADATA_MAX_PIECES	EXT_MAX_METADATA_PIECES
/* A peer that has not answered a request in 10 s is slow, gone, or
 * dropped the request: ask again (it, or another peer). */
#define METADATA_TIMEOUT_MS	10000u

enum metadata_state {
	METADATA_MISSING,
	METADATA_REQUESTED,
	METADATA_HAVE,
};

struct metadata_piece {
	enum metadata_state state;
	uint32_t	peer;		/* requested from / received from */
	uint64_t	deadline_ms;	/* requested: when to ask again */
	bool		asked;		/* requested since the last start:
					 * an answer is no longer unsolicited */
};

struct metadata {
	uint8_t			 info_hash[20];
	uint8_t			*data;		/* owned, size bytes */
	size_t			 size;		/* in [1, METADATA_MAX_SIZE] */
	uint32_t		 npieces;
	uint32_t		 nhave;
	struct metadata_piece	*pieces;	/* owned, npieces */
};

/*
 * Prepare to fetch an info dict of size bytes (a peer's "metadata_size")
 * whose SHA-1 must be info_hash.  THR_EINVAL if size is 0, THR_ELIMIT
 * over METADATA_MAX_SIZE, THR_ENOMEM.  On error md is zeroed (safe to
 * release).
 */
int	metadata_init(struct metadata *md, size_t size,
	    const uint8_t info_hash[20]);
/* Free what md owns and zero it; safe on a zeroed md. */
void	metadata_release(struct metadata *md);

/*
 * Choose a piece to request from peer at now_ms: the first missing one.
 * Marks it requested from peer until now_ms + METADATA_TIMEOUT_MS and
 * stores it in *piece.  THR_ENOENT if there is nothing to ask for now.
 */
int	metadata_next_request(struct metadata *md, uint32_t peer,
	    uint64_t now_ms, uint32_t *piece);
/*
 * Take back every request whose deadline is at or before now_ms: its
 * piece becomes missing again.  The id of the peer each one was asked
 * of is stored in peers[0..n) (one entry per piece, in piece order, at
 * most max of them; peers may be NULL when max is 0), and n, the number
 * of requests taken back, is returned.
 */
size_t	metadata_expire(struct metadata *md, uint64_t now_ms, uint32_t *peers,
	    size_t max);
/*
 * Store the data of a piece from peer (ext_metadata_parse already checked
 * it against the sender's total_size; this checks it against ours).
 * THR_EPROTO if piece is out of range, len is not the piece's size, or
 * the piece was never requested since the last start (unsolicited).  A
 * late answer to a request that was taken back or went to another peer
 * is accepted, and a piece we already have is ignored (0).  The sender
 * is remembered as the piece's contributor.
 */
int	metadata_received(struct metadata *md, uint32_t peer, uint32_t piece,
	    const uint8_t *data, size_t len);
/*
 * peer rejected a request: the piece becomes missing again if it was
 * requested from peer (the caller should stop asking that peer, which
 * most likely lacks the metadata).  Anything else is ignored.
 */
void	metadata_rejected(struct metadata *md, uint32_t peer, uint32_t piece);
/* peer disconnected: its outstanding requests become missing. */
void	metadata_peer_gone(struct metadata *md, uint32_t peer);
/* True when every piece has arrived (verified or not). */
bool	metadata_complete(const struct metadata *md);
/*
 * Check the SHA-1 of the complete buffer.  0 if it equals the info-hash.
 * Otherwise every piece becomes missing again, the distinct ids of the
 * peers that sent pieces are stored in bad[0..*nbad) (at most bad_max of
 * them; bad may be NULL when bad_max is 0) so the caller can drop them,
 * and THR_EPROTO is returned.  THR_EAGAIN if not complete, THR_ENOMEM if
 * hashing failed.
 */
int	metadata_verify(struct metadata *md, uint32_t *bad, size_t bad_max,
	    size_t *nbad);

/* Number of pieces of an info dict of size bytes. */
uint32_t	metadata_npieces(size_t size);
/*
 * For serving: piece `piece` of our info dict info[0..info_len), as a
 * pointer into info and its length.  THR_ENOENT if there is no such piece
 * (the caller sends a reject).
 */
int	metadata_piece(const uint8_t *info, size_t info_len, uint32_t piece,
	    const uint8_t **p, size_t *n);

#endif
