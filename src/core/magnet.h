/*
 * magnet.h: magnet links (BEP 9), parsed and built, without any I/O.
 *
 * A magnet link names a torrent by its info-hash only; the info
 * dictionary itself is then fetched from peers with ut_metadata (see
 * ext.h and metadata.h).  We read:
 *
 *   xt=urn:btih:<hash>  required; 40 hex digits or 32 base32 characters
 *                       (RFC 4648), either case.  Several xt are allowed
 *                       if every btih names the same hash; other urns
 *                       (urn:btmh: of BitTorrent v2) are ignored.
 *   dn=<name>           display name until the metadata arrives.
 *   tr=<url>            trackers; only http://, https:// and udp://.
 *   x.pe=<host:port>    peers to try; numeric "IP:PORT" or "[IPv6]:PORT".
 *   ws=<url>            web seeds (BEP 19), used once the metadata is
 *                       here; http:// and https:// only (metainfo.h's
 *                       url-list rules).
 *
 * Numbered keys ("xt.1", "tr.2") count as their base key, unknown keys
 * are ignored.  Values are percent-decoded (a '%' not followed by two hex
 * digits is kept as it is) and '+' means a space in dn only.
 *
 * Limits: the URI is at most MAGNET_MAX_URI bytes (THR_ELIMIT beyond);
 * trackers, peers and web seeds past their caps, duplicates, trackers
 * and web seeds of other schemes and peers that are host names are
 * dropped silently, because a
 * link pasted by a user should work with whatever it holds that we can
 * use.  The name is cut to MAGNET_MAX_NAME bytes on a UTF-8 character
 * boundary and every control byte in it becomes '?'.
 */
#ifndef THR_MAGNET_H
#define THR_MAGNET_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "err.h"

#define MAGNET_MAX_URI		8192u	/* longer than any real link */
#define MAGNET_MAX_TRACKERS	64u	/* a tracker list, not a spam list */
#define MAGNET_MAX_PEERS	200u	/* x.pe entries kept */
#define MAGNET_MAX_NAME		1024u	/* dn bytes kept */
#define MAGNET_MAX_WEBSEEDS	16u	/* ws entries kept */

struct magnet {
	uint8_t		 info_hash[20];
	char		*name;		/* owned; NULL if no (or empty) dn */
	char		**trackers;	/* owned array of owned strings */
	size_t		 ntrackers;
	struct thr_addr	*peers;		/* owned; NULL when npeers is 0 */
	size_t		 npeers;
	char		**webseeds;	/* owned array of owned strings */
	size_t		 nwebseeds;
};

/*
 * Parse uri[0..len) (need not be NUL-terminated).  On success m owns
 * everything it points to; release it with magnet_release.  On error m is
 * left zeroed (safe to release) and err holds the offset and a message.
 * Errors: THR_EINVAL (not "magnet:?", no urn:btih info-hash, two
 * different ones, a hash of the wrong length or alphabet), THR_ELIMIT
 * (longer than MAGNET_MAX_URI), THR_ENOMEM.
 */
int	magnet_parse(const char *uri, size_t len, struct magnet *m,
	    struct thr_error *err);
/* Free what m owns and zero it.  m may be zeroed or already released. */
void	magnet_release(struct magnet *m);

/*
 * Append "magnet:?xt=urn:btih:<40 lower-case hex>" to out, then "&dn="
 * with name if name is not NULL and not empty, then "&tr=" for each of
 * trackers[0..ntr) (trackers may be NULL when ntr is 0).  Values are
 * percent-encoded (escape_url), so the result parses back to the same hash,
 * name and trackers.  On error out is left as it was.
 * Errors: THR_ENOMEM, THR_ELIMIT (out's ceiling).
 */
int	magnet_format(const uint8_t ih[20], const char *name,
	    const char *const *trackers, size_t ntr, struct buf *out);

#endif
