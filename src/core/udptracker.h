/*
 * udptracker.h: the UDP tracker protocol (BEP 15, with BEP 41 URL data),
 * as a pure engine: no sockets, no clock of its own.
 *
 * One struct udptracker serves one udp:// URL.  The caller resolves the
 * host (net/resolve.h), owns the socket (net/udp.h) and drives the engine
 * with the current monotonic time:
 *
 *	udptracker_init(&u, url, rnd, ctx);	  host, port, URL data
 *	udptracker_set_addr(&u, &resolved);	  before the first request
 *	udptracker_start(&u, &announce, now);	  (or _scrape_start)
 *	while (udptracker_output(&u, now, pkt, sizeof pkt, &len))
 *		udp_send(fd, &u.addr, pkt, len);
 *	arm a timer for udptracker_deadline(&u);
 *	on a datagram from u.addr: udptracker_input(&u, ..., now, &r, &err)
 *	    0: r holds the answer (release it); THR_EAGAIN: call output
 *	    again (the connect step finished); THR_EPROTO: ignored packet
 *	on the timer: udptracker_output again; udptracker_timed_out(&u)
 *	    tells that the tracker never answered.
 *
 * One socket may serve several trackers and the DHT: hand a datagram to
 * the engine whose u->addr equals its sender.  A "stopped" announce at
 * exit needs no answer: send the first packet, then udptracker_stop.
 * The engine changes state in one function; the caller traces changes
 * of u->state.
 *
 * A request is a connect (skipped while a connection id is valid) then
 * the announce or scrape.  Invariants and limits:
 * - A connection id is used for UDPTRACKER_CONN_TTL_MS after it arrived
 *   (BEP 15: one minute), then a new connect precedes the next send.
 * - A packet waits 15 * 2^n seconds for its answer, n counting the
 *   timeouts of the whole request (connect and announce together, never
 *   reset by a connect answer, so a tracker that answers only connects
 *   cannot keep us busy forever).  The timeout with n = 8 (3840 s) ends
 *   the request: state UDPTRACKER_TIMED_OUT.
 * - Answers are matched by transaction id and action; anything else is
 *   THR_EPROTO and leaves the state unchanged, so spoofed or late
 *   packets cost nothing.
 * - Peers beyond TRACKER_MAX_PEERS and peers with port 0 are dropped;
 *   18-byte IPv6 entries are read when the tracker address is IPv6
 *   (BEP 15 "IPv6"), 6-byte IPv4 entries otherwise.
 * The struct holds no pointer to caller memory except rnd_ctx.
 */
#ifndef THR_UDPTRACKER_H
#define THR_UDPTRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"
#include "tracker.h"

#define UDPTRACKER_HOST_MAX	256u	/* DNS names have <= 253 bytes */
/* BEP 41 URL data ("/announce?passkey=..."), sent as up to three
 * 255-byte options; longer paths are refused at init. */
#define UDPTRACKER_URLDATA_MAX	765u
/* Largest packet output builds: a 98-byte announce plus URL data and
 * one 2-byte option header per 255 bytes. */
#define UDPTRACKER_PKT_MAX	(98u + UDPTRACKER_URLDATA_MAX + 6u)
#define UDPTRACKER_CONN_TTL_MS	60000u	/* BEP 15: ids live 1 min */
#define UDPTRACKER_TIMEOUT_MS	15000u	/* BEP 15: 15 * 2^n s */
#define UDPTRACKER_MAX_N	8u	/* BEP 15: n goes up to 8 */

enum udptracker_state {
	UDPTRACKER_IDLE,	/* no request, or the last one finished */
	UDPTRACKER_CONNECTING,	/* waiting for a connection id */
	UDPTRACKER_REQUESTING,	/* announce or scrape sent or to send */
	UDPTRACKER_TIMED_OUT,	/* the last request never got an answer */
};

struct udptracker {
	char		 host[UDPTRACKER_HOST_MAX];	/* no brackets */
	uint16_t	 port;
	uint8_t		 urldata[UDPTRACKER_URLDATA_MAX]; /* BEP 41 */
	size_t		 urldatalen;
	struct thr_addr	 addr;		/* udptracker_set_addr */

	uint32_t	(*rnd)(void *);	/* transaction ids */
	void		*rnd_ctx;

	enum udptracker_state state;
	bool		 scrape;	/* the request is a scrape */
	struct tracker_announce req;	/* copy; req.tracker_id is NULL */
	uint32_t	 tid;		/* of the packet in flight */
	bool		 send_now;	/* a new packet is due at once */
	unsigned	 n;		/* timeouts so far in this request */
	uint64_t	 deadline_ms;	/* resend or give up then */

	bool		 have_conn;
	uint64_t	 conn_id;
	uint64_t	 conn_ms;	/* when conn_id arrived */

	int64_t		 scrape_completed; /* last scrape's, or -1 */
};

/*
 * Split "udp://HOST:PORT[/path][?query]" (HOST may be "[v6]").  host gets
 * the host without brackets (hostlen bytes including the NUL), port the
 * port (1..65535); if path is not NULL it points into url at the path
 * and query ("" when absent).  THR_EINVAL on anything else, including
 * user info, an empty host or a missing port; THR_ELIMIT if the host does
 * not fit.
 */
int	udptracker_parse_url(const char *url, char *host, size_t hostlen,
	    uint16_t *port, const char **path);
/*
 * Prepare u for url (copied; not kept).  rnd(ctx) returns uniformly
 * random 32-bit values for transaction ids; ctx is borrowed and must
 * outlive u.  THR_EINVAL for a bad URL, THR_ELIMIT when the path and
 * query exceed UDPTRACKER_URLDATA_MAX.  Nothing to release.
 */
int	udptracker_init(struct udptracker *u, const char *url,
	    uint32_t (*rnd)(void *), void *ctx);
/*
 * The tracker's resolved address (copied).  The engine only uses its
 * family, to read IPv6 peer entries; the caller sends to u->addr and
 * matches datagrams against it.  A change of address forgets the
 * connection id, which belongs to the old address.
 */
void	udptracker_set_addr(struct udptracker *u, const struct thr_addr *a);
/*
 * Begin an announce (a is copied; a->tracker_id is not used by UDP).
 * Any request in flight is abandoned.  numwant <= 0 asks for the
 * tracker's default (-1 on the wire).  The first packet is due at once:
 * call udptracker_output.
 */
void	udptracker_start(struct udptracker *u,
	    const struct tracker_announce *a, uint64_t now_ms);
/* Begin a scrape of one torrent, like udptracker_start. */
void	udptracker_scrape_start(struct udptracker *u,
	    const uint8_t info_hash[20], uint64_t now_ms);
/* Abandon the request in flight, if any; the connection id is kept. */
void	udptracker_stop(struct udptracker *u);
/*
 * Returns true with a packet in pkt[0..*len) that must be sent now: the
 * first packet of a step, or a retransmission whose time has come.  cap
 * must be at least UDPTRACKER_PKT_MAX (else false, nothing sent).  A
 * request whose last timeout has passed becomes UDPTRACKER_TIMED_OUT and
 * false is returned.  Call it after start, after input returned
 * THR_EAGAIN, and whenever udptracker_deadline passes.
 */
bool	udptracker_output(struct udptracker *u, uint64_t now_ms,
	    uint8_t *pkt, size_t cap, size_t *len);
/*
 * Feed one datagram from the tracker.  r is reset at entry (so nothing
 * in it is freed) and must be released with tracker_response_release
 * after every call.
 *   0		the request is complete: an announce fills interval
 *		(clamped as for HTTP), incomplete (leechers), complete
 *		(seeders) and the peers; a scrape fills complete and
 *		incomplete and sets u->scrape_completed; an error answer
 *		(action 3), or a matching answer too short for its fields
 *		(opentracker's reply for a torrent it does not track),
 *		sets r->failed and r->failure instead.  The state is
 *		UDPTRACKER_IDLE afterwards.
 *   THR_EAGAIN	a connection id arrived; the request goes on (call
 *		udptracker_output).
 *   THR_EPROTO	not an answer to the packet in flight (under 8 bytes,
 *		unknown or stale transaction id, wrong action, no
 *		request): ignored,
 *		the state is unchanged; err says why.
 *   THR_ENOMEM	the peer list could not be allocated; state unchanged.
 * err may be NULL.
 */
int	udptracker_input(struct udptracker *u, const uint8_t *pkt,
	    size_t len, uint64_t now_ms, struct tracker_response *r,
	    struct thr_error *err);
/* When udptracker_output must be called next: 0 if a packet is due at
 * once, UINT64_MAX if no request is in flight. */
uint64_t udptracker_deadline(const struct udptracker *u);
/* A request is in flight (connecting or requesting). */
bool	udptracker_busy(const struct udptracker *u);
/* The last request failed for lack of answers. */
bool	udptracker_timed_out(const struct udptracker *u);

#endif
