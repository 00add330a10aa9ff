/*
 * tmeta.h: a torrent's metadata (its metainfo) where it comes from a
 * magnet link: the link's trackers, peers and web seeds; an info dict
 * saved in the state directory by an earlier run; and the info dict
 * peers sent (ut_metadata, BEP 9) once it matched the info-hash.  The
 * torrent (torrent.c) decides when; this module does the work and calls
 * nothing above it.
 */
#ifndef THR_TMETA_H
#define THR_TMETA_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "torrent.h"

/*
 * t's metainfo from the magnet link uri: the info-hash and name, its
 * trackers as one more tier, its peers to dial like --peer ones, its web
 * seeds (kept until the metadata is here); and if the session's blobs
 * hold "<hex info-hash>.torrent" from an earlier run, the whole
 * metainfo at once (t->have_meta).  0, or an error with err filled.
 */
int	tmeta_load_magnet(struct torrent *t, const char *uri,
	    struct thr_error *err);
/* The info dict in t->md matched its hash: parse it into t->mi, keeping
 * the magnet's trackers and web seeds.  0, or an error (the torrent
 * itself is bad) with err filled. */
int	tmeta_adopt(struct torrent *t, struct thr_error *err);
/* Save info[0..len) wrapped as a torrent with t's trackers among the
 * session's blobs, so that a restart needs no peer.  Logs failures. */
void	tmeta_save(struct torrent *t, const uint8_t *info, size_t len);

#endif
