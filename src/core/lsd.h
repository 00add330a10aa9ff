/*
 * lsd.h: Local Service Discovery (BEP 14) as a pure engine: message
 * formatting and parsing, and the announce schedule.  No sockets, no
 * clock of its own; net/lsdsock.h owns the multicast sockets.
 *
 * An announce is one UDP datagram sent to a multicast group, HTTP-like:
 *
 *	BT-SEARCH * HTTP/1.1\r\n
 *	Host: 239.192.152.143:6771\r\n		(IPv6: [ff15::efc0:988f]:6771)
 *	Port: 6881\r\n
 *	Infohash: <40 hex digits>\r\n		(one or more, consecutive)
 *	cookie: <opaque>\r\n			(optional)
 *	\r\n
 *	\r\n
 *
 * The receiver takes the peer's IP from the datagram's sender and the
 * TCP port from the Port header.  The cookie lets a client recognise
 * its own announces, which multicast loopback hands back to it.
 *
 * Use:
 *	lsd_init(&l, cookie_bits);
 *	if (lsd_due(&l, now)) { lsd_format(...) per family, send;
 *	    lsd_sent(&l, now); }
 *	arm a timer for lsd_deadline(&l);
 *	on a datagram: lsd_parse(...), then lsd_own(&l, &m) and
 *	    lsd_has_hash(&m, ih) decide whether it is news.
 *
 * Limits: a datagram of more than LSD_MSG_MAX bytes, more than
 * LSD_MAX_HASHES info-hashes, more than LSD_MAX_LINES header lines or a
 * header line longer than LSD_LINE_MAX is refused whole.
 */
#ifndef THR_LSD_H
#define THR_LSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* BEP 14 multicast groups and port. */
#define LSD_PORT		6771
#define LSD_GROUP4		"239.192.152.143"
#define LSD_GROUP6		"ff15::efc0:988f"

/* BEP 14: "the packet length should not exceed 1400 bytes to avoid
 * MTU/fragmentation problems". */
#define LSD_MSG_MAX		1400u
/* 16 hashes of 50-byte lines fit in 1400 bytes with the other headers;
 * more than that is not a real client. */
#define LSD_MAX_HASHES		16u
/* Request line, Host, Port, cookie, 16 Infohash lines and room for a
 * dozen unknown headers (BEP 14: unknown headers are ignored). */
#define LSD_MAX_LINES		32u
/* The longest header line we read; "Infohash: " plus 40 digits is 50. */
#define LSD_LINE_MAX		256u
/* Our cookies are 16 hex digits; foreign ones are compared, not kept,
 * and may be this long. */
#define LSD_COOKIE_MAX		64u
#define LSD_OWN_COOKIE_LEN	16u

/* BEP 14: "a LSD announce every 5 minutes ... no more than 1 announce
 * per minute". */
#define LSD_ANNOUNCE_MS		(5u * 60 * 1000)
#define LSD_MIN_GAP_MS		(60u * 1000)

/*
 * A parsed announce.  cookie points into the parsed datagram (borrowed:
 * valid while the caller's buffer is) and is not NUL-terminated.
 */
struct lsd_msg {
	int		 host_family;	/* 4 or 6 from a known Host value,
					 * 0 for an unknown or absent Host */
	uint16_t	 port;		/* 1..65535 */
	uint8_t		 hashes[LSD_MAX_HASHES][20];
	size_t		 nhashes;	/* >= 1 */
	const char	*cookie;	/* NULL when absent */
	size_t		 cookielen;
};

/* The announce schedule and our cookie.  Nothing to release. */
struct lsd {
	char		 cookie[LSD_OWN_COOKIE_LEN + 1];	/* hex */
	bool		 sent;		/* at least one announce went out */
	uint64_t	 last_ms;	/* of the last announce */
	uint64_t	 next_ms;	/* the next one is due then */
};

/*
 * Prepare l: the cookie is cookie_bits in hex (the caller draws it from
 * its seeded PRNG, so runs replay), and the first announce is due at
 * once.
 */
void	lsd_init(struct lsd *l, uint64_t cookie_bits);
/* True when an announce must be sent now. */
bool	lsd_due(const struct lsd *l, uint64_t now_ms);
/* An announce went out at now_ms: the next is LSD_ANNOUNCE_MS later. */
void	lsd_sent(struct lsd *l, uint64_t now_ms);
/*
 * Ask for an announce soon (a torrent's metadata arrived, peers ran
 * out): due at once, or LSD_MIN_GAP_MS after the last one if that is
 * later.  Never moves the next announce later.
 */
void	lsd_poke(struct lsd *l, uint64_t now_ms);
/* When lsd_due becomes true. */
uint64_t lsd_deadline(const struct lsd *l);

/*
 * Write an announce of port and the n info-hashes in hashes (20 bytes
 * each) for the group of family (4 or 6) into out[0..cap), with cookie
 * (NUL-terminated, printable, no spaces; NULL for none).  *len gets its
 * length.  THR_EINVAL for a bad family, port 0, n of 0 or above
 * LSD_MAX_HASHES or a bad cookie; THR_ELIMIT when it would not fit in
 * cap or in LSD_MSG_MAX.  Nothing is borrowed.
 */
int	lsd_format(int family, uint16_t port, const uint8_t (*hashes)[20],
	    size_t n, const char *cookie, char *out, size_t cap,
	    size_t *len);
/*
 * Parse the datagram p[0..len) into m (reset at entry; m->cookie then
 * borrows p).  The request line must be exactly "BT-SEARCH * HTTP/1.1";
 * header names are case-insensitive; lines end in CRLF or a bare LF;
 * the headers end at the first empty line or at the end of the datagram;
 * unknown headers are skipped.  Port (one, 1..65535, digits only) and
 * at least one Infohash (40 hex digits) are required.  Returns 0,
 * THR_EINVAL for a malformed message (NUL or control bytes, a line
 * without a colon, a bad or repeated Port, a bad Infohash, a missing
 * field) or THR_ELIMIT when a cap above is hit; err (may be NULL) gets
 * the byte offset and reason.
 */
int	lsd_parse(const uint8_t *p, size_t len, struct lsd_msg *m,
	    struct thr_error *err);
/* m announces info_hash. */
bool	lsd_has_hash(const struct lsd_msg *m, const uint8_t info_hash[20]);
/* m carries l's cookie: it is our own announce coming back. */
bool	lsd_own(const struct lsd *l, const struct lsd_msg *m);

#endif
