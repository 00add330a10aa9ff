/*
 * metainfo.h: a .torrent file (BEP 3, v1), loaded and validated.
 *
 * Everything here is owned by struct metainfo and copied out of the
 * input, so the input buffer may be freed after metainfo_parse.
 *
 * Paths: every file's path is relative, components joined by '/'.  For a
 * multi-file torrent the first component is the torrent name.  Each
 * component has been checked: not empty, not "." or "..", no '/' or NUL
 * or '\\' inside, not absolute.  A torrent that fails any of these checks
 * is rejected as a whole, so nothing derived from it can leave the
 * download directory.  name.utf-8 / path.utf-8 are preferred when present.
 *
 * Consistency: piece length is a positive power-of-two-free value up to
 * METAINFO_MAX_PIECE_LEN; pieces is a multiple of 20 bytes; the number of
 * pieces equals ceil(total / piece length); sums are checked for overflow.
 *
 * Trackers (BEP 12): announce-list tiers when present and non-empty,
 * otherwise one tier holding announce.  Order is as in the file; the
 * tracker module shuffles within tiers.  Only the first
 * METAINFO_MAX_TRACKERS URLs are kept; trackers_dropped counts the rest
 * so that the caller can warn (a torrent listing 100,000 trackers is
 * still a torrent).
 *
 * Web seeds (BEP 19): "url-list", a string or a list of strings; only
 * http:// and https:// entries without control characters or spaces are
 * kept, deduplicated, at most METAINFO_MAX_WEBSEEDS of them.  Anything
 * else there (wrong types, ftp://) is ignored, not an error.
 */
#ifndef THR_METAINFO_H
#define THR_METAINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define METAINFO_MAX_FILE_SIZE	(64u << 20)	/* a .torrent we will read */
#define METAINFO_MAX_PIECE_LEN	(64u << 20)	/* 64 MiB: bounds memory */
#define METAINFO_MAX_FILES	1000000u
#define METAINFO_MAX_PATH	4096u		/* joined relative path */
#define METAINFO_MAX_TRACKERS	256u	/* URLs kept, all tiers together:
					 * each may be announced to */
#define METAINFO_MAX_PIECES	(1u << 24)
#define METAINFO_MAX_WEBSEEDS	16u	/* url-list entries kept (BEP 19);
					 * each is a connection of its own */
#define METAINFO_MAX_URL	2048u	/* longer url-list entries skipped */

struct metainfo_file {
	char		*path;		/* owned, relative, validated */
	uint64_t	 length;
	uint64_t	 offset;	/* of its first byte in the torrent */
};

struct metainfo_tier {
	char	**urls;			/* owned */
	size_t	  nurls;
};

struct metainfo {
	uint8_t			 info_hash[20];
	char			*name;		/* owned, validated */
	uint64_t		 piece_length;
	uint32_t		 npieces;
	uint8_t			*hashes;	/* owned, 20 * npieces */
	uint64_t		 total_length;
	struct metainfo_file	*files;		/* owned */
	size_t			 nfiles;
	bool			 multi;		/* had a "files" list */
	bool			 is_private;	/* BEP 27 */
	struct metainfo_tier	*tiers;		/* owned */
	size_t			 ntiers;
	size_t			 trackers_dropped;	/* past the cap */
	char			**webseeds;	/* owned: http(s) url-list */
	size_t			 nwebseeds;
	char			*comment;	/* owned, may be NULL */
	char			*created_by;	/* owned, may be NULL */
	int64_t			 creation_date;	/* 0 if absent */
	uint8_t			*info;		/* owned: the bencoded info
						 * dict as it came, served to
						 * peers by ut_metadata */
	size_t			 info_len;
};

/*
 * Parse a .torrent from memory.  On error m is left zeroed (safe to
 * release) and err names the problem and its byte offset.
 * Errors: THR_EINVAL (bad bencode or missing/invalid key), THR_EUNSAFE
 * (path attack), THR_ELIMIT (caps above), THR_ENOMEM.
 */
int	metainfo_parse(struct metainfo *m, const uint8_t *buf, size_t len,
	    struct thr_error *err);
void	metainfo_release(struct metainfo *m);

/* Size of piece i (the last one may be short). */
uint32_t	metainfo_piece_size(const struct metainfo *m, uint32_t i);
/* True if p[0..len) is an acceptable path component (see above). */
bool	metainfo_component_ok(const uint8_t *p, size_t len);

/*
 * Web seeds from elsewhere (a magnet link's ws=): url[0..n) is added to
 * m->webseeds under the url-list rules above (http(s), no control bytes
 * or spaces, at most METAINFO_MAX_URL bytes, no duplicate, at most
 * METAINFO_MAX_WEBSEEDS).  A URL that breaks them is skipped: 0.  Only
 * THR_ENOMEM is an error.
 */
bool	metainfo_webseed_ok(const char *url, size_t n);
int	metainfo_add_webseed_url(struct metainfo *m, const char *url,
	    size_t n);

#endif
