/*
 * reorder.h: a small, bounded store for blocks that arrive ahead of the
 * running SHA-1 of their piece.
 *
 * The session hashes a piece as its blocks arrive in order.  A block
 * that arrives early (some seeders, libtorrent among them, serve the
 * blocks of one piece out of order) is written to disk at once and kept
 * here too, so that hashing it later costs a lookup instead of a read
 * back from disk.  When the store is full the block is simply not kept
 * and is read back; nothing depends on a block being here.
 */
#ifndef THR_REORDER_H
#define THR_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REORDER_SLOTS	64		/* 1 MiB of 16 KiB blocks */
#define REORDER_BLOCK	16384		/* largest block kept */

struct reorder {
	uint8_t		*mem;		/* owned, REORDER_SLOTS blocks;
					 * allocated on first use */
	uint32_t	 index[REORDER_SLOTS];
	uint32_t	 begin[REORDER_SLOTS];
	uint32_t	 len[REORDER_SLOTS];	/* 0: slot free */
	size_t		 used;
	uint64_t	 kept, missed;	/* blocks stored / turned away */
};

void	reorder_init(struct reorder *r);
void	reorder_release(struct reorder *r);
/* Keep a copy of the block (len <= REORDER_BLOCK); false when full, out
 * of memory or too long.  A block already kept is replaced. */
bool	reorder_put(struct reorder *r, uint32_t index, uint32_t begin,
	    const uint8_t *data, uint32_t len);
/* The kept block, or NULL.  Valid until the next put or release;
 * reorder_forget frees its slot. */
const uint8_t *reorder_get(const struct reorder *r, uint32_t index,
	    uint32_t begin, uint32_t len);
void	reorder_forget(struct reorder *r, uint32_t index, uint32_t begin);
/* Drop every block of a piece (it completed, failed or was given up). */
void	reorder_forget_piece(struct reorder *r, uint32_t index);

#endif
