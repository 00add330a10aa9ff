/*
 * peerix.h: the session's index of its peers by id, so that a peer named
 * by id (the transport's, the upload scheduler's) is found in constant
 * time whatever the number of torrents and peers.
 *
 * Open addressing with linear probing and backward-shift deletion; the
 * table doubles when half full, so memory follows the peers (a session
 * of the simulator with a handful of peers holds a small table).
 */
#ifndef THR_PEERIX_H
#define THR_PEERIX_H

#include <stddef.h>
#include <stdint.h>

struct peer;
struct torrent;

struct peerix_slot {
	uint32_t	 id;		/* 0: empty */
	struct torrent	*t;		/* borrowed */
	struct peer	*p;		/* borrowed */
};

struct peerix {
	struct peerix_slot	*slots;	/* owned, cap of them */
	size_t			 cap;	/* a power of two, or 0 */
	size_t			 n;
};

void	peerix_init(struct peerix *x);
void	peerix_release(struct peerix *x);
/* Enter peer p of t under id (non-zero, not there yet).  0 or
 * THR_ENOMEM. */
int	peerix_put(struct peerix *x, uint32_t id, struct torrent *t,
	    struct peer *p);
/* Forget id (nothing happens when it is not there). */
void	peerix_del(struct peerix *x, uint32_t id);
/* The peer with id and its torrent (t may be NULL), or NULL. */
struct peer	*peerix_get(const struct peerix *x, uint32_t id,
		    struct torrent **t);

#endif
