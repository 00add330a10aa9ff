/*
 * intake.h: the path of a received block to the store: the write queue,
 * the reorder store for early blocks, and the running SHA-1 of each
 * piece in flight, which this module owns.  It reports what happened
 * (stored, verified, failed, disk error); the torrent applies it.
 *
 * Blocks are written in runs: each block is queued as a pointer into
 * the peer's input buffer, and the queue is sorted by offset and written
 * one run of adjacent blocks per writev (store.h) at the end of a read
 * (intake_flush), so blocks a seeder sends out of order within one read
 * still go out together.  The queue is also flushed before anything is
 * read back and before a piece is checked, so nothing is ever counted as
 * had that is not written.
 *
 * A piece is hashed as its blocks arrive in order.  The block that just
 * arrived is hashed from the wire buffer, earlier early ones from the
 * reorder store, and only when that was full from the store (the page
 * cache), so no piece is ever buffered whole in memory.
 *
 * On a failed write every piece in the queue is given up (it stays
 * missing: nothing is had that is not stored) and listed for the caller,
 * which pauses and retries later, so freeing space lets it finish.
 */
#ifndef THR_INTAKE_H
#define THR_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hash.h"
#include "metainfo.h"
#include "picker.h"
#include "reorder.h"
#include "store.h"

#define INTAKE_MAX_GIVEN_UP	(STORE_IOV_MAX + 1)

enum intake_result {
	INTAKE_IGNORED,		/* not wanted: not active, or already had */
	INTAKE_STORED,		/* queued; the piece is not yet whole */
	INTAKE_VERIFIED,	/* the piece is whole, stored and matches */
	INTAKE_FAILED,		/* the piece is whole and does not match */
	INTAKE_DISK_ERROR,	/* a write or read back failed: see
				 * given_up and err */
};

/* A whole piece, verified or failed (from its picker entry, which is
 * gone by then). */
struct intake_piece {
	uint32_t	index;
	uint32_t	size;
	uint32_t	contrib[PICKER_MAX_CONTRIB];	/* peer ids */
	uint32_t	ncontrib;
};

struct intake_hash {
	uint32_t	 index;
	uint32_t	 hashed;	/* blocks fed so far */
	bool		 on;		/* slot in use, h initialised */
	struct hash_ctx	 h;
};

struct intake {
	const struct metainfo	*mi;	/* borrowed */
	const struct store	*st;	/* borrowed */
	struct picker		*pk;	/* borrowed */
	struct reorder		 ro;
	struct {
		int		 n;
		struct iovec	 iov[STORE_IOV_MAX];	/* into peer input */
		uint64_t	 off[STORE_IOV_MAX];	/* torrent offsets */
		uint32_t	 index[STORE_IOV_MAX];
	}			 wb;
	struct intake_hash	*hs;		/* owned, nhs slots */
	size_t			 nhs;
	uint16_t		*slot_of;	/* owned, per piece: slot + 1,
						 * 0 none */
	uint8_t			*block;		/* owned, one block read back */
	uint32_t		 given_up[INTAKE_MAX_GIVEN_UP];
	size_t			 ngiven_up;
	int			 err;		/* errno of the last failure */
};

/* For the pieces of mi, stored in st, tracked by pk (all borrowed, and
 * pk must be set up: its max_active bounds the hash slots).  0 or
 * THR_ENOMEM. */
int	intake_init(struct intake *in, const struct metainfo *mi,
	    const struct store *st, struct picker *pk);
/* Drop every hash and queued block (the caller flushed what it needed). */
void	intake_release(struct intake *in);

/*
 * A block from peer peer_id: data points into the caller's input buffer
 * and must stay valid until the next intake_flush.  On VERIFIED or
 * FAILED *piece describes the piece (the picker has already been told);
 * on DISK_ERROR in->given_up lists the pieces given up.
 */
enum intake_result	intake_block(struct intake *in, uint32_t peer_id,
			    uint32_t index, uint32_t begin,
			    const uint8_t *data, uint32_t len,
			    struct intake_piece *piece);
/* Write what is queued (at the end of a read, before its buffer is
 * consumed).  INTAKE_STORED, or INTAKE_DISK_ERROR as above. */
enum intake_result	intake_flush(struct intake *in);
/* The blocks early blocks kept in memory (the view, tests). */
size_t	intake_reordered(const struct intake *in);

#endif
