/*
 * pwp_ext.h: the extension protocol (BEP 10) of one peer: our extended
 * handshake, fetching a magnet's info dict with ut_metadata and serving
 * ours (BEP 9), and peer exchange (BEP 11).
 *
 * The message formats are ext.c's and the piece bookkeeping of the info
 * dict is metadata.c's; this module decides when to send what.  When
 * the last piece of the info dict arrives it says so, and the torrent
 * checks and adopts it (torrent.c).  Private torrents (BEP 27) get no
 * pex either way.
 */
#ifndef THR_PWP_EXT_H
#define THR_PWP_EXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peer.h"

#define PWP_EXT_PEX_PERIOD_MS	60000	/* BEP 11: pex at most once a minute */
/* ut_metadata pieces asked of one peer at once.  One: rTorrent 0.9.8
 * reads no further on a connection once a request arrives while its
 * answer to the one before is still being sent, so two requests in one
 * segment stall the connection for good; pieces still come from several
 * peers at once. */
#define PWP_EXT_META_REQS	1
#define PWP_EXT_META_TRIES	3	/* metadata requests a peer may leave
					 * unanswered in a row before we
					 * drop it */

struct torrent;

/* Both handshakes are done and both sides set the BEP 10 bit. */
void	pwp_ext_start(struct torrent *t, struct peer *p, uint64_t now_ms);
/* A wire message 20 (payload[0] is the extended id).  True when it
 * completed a magnet's info dict (t->md): the torrent checks it. */
bool	pwp_ext_msg(struct torrent *t, struct peer *p, const uint8_t *payload,
	    size_t len, uint64_t now_ms);
/* Once a second: pex, metadata requests that timed out. */
void	pwp_ext_tick(struct torrent *t, struct peer *p, uint64_t now_ms);
/* Once a second, for the whole torrent: metadata requests that went
 * unanswered are taken back (and their peers counted, then dropped). */
void	pwp_ext_expire(struct torrent *t, uint64_t now_ms);
/* p is going away. */
void	pwp_ext_gone(struct torrent *t, struct peer *p);
/* Ask p for metadata pieces (after the info dict was restarted). */
void	pwp_ext_request(struct torrent *t, struct peer *p, uint64_t now_ms);

#endif
