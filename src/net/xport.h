/*
 * xport.h: the transport seam.  Every connection to a peer, whatever
 * carries it (a TCP socket, a uTP connection on the shared UDP socket,
 * HTTP range requests to a web seed), is a struct xport with an
 * operations table, and one pump moves every peer's bytes the same way:
 *
 *	rate limit -> read into p->in -> torrent_peer_input ->
 *	torrent_peer_fill -> encrypt -> write from p->out -> sent
 *
 * Data model: struct xnet is the run's table of connections, keyed by
 * the session's peer id (ids are never reused, so a stale id finds
 * nothing); a TCP connection is also found by its descriptor.  The core
 * (struct peer) knows no descriptor and no handle: only this layer does.
 *
 * Work is driven by events, not by the number of peers: a connection is
 * pumped when its socket is ready, when its uTP connection received
 * something, when its web seed finished a request, or when the core
 * wrote to it on behalf of another peer (the torrent's dirty list);
 * every connection is looked at once a second, after the session's tick.
 */
#ifndef THR_XPORT_H
#define THR_XPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/session.h"
#include "core/torrent.h"
#include "net/loop.h"

#define XPORT_READ_BUDGET	(1u << 20)	/* per peer per pump */
#define XPORT_WRITES		8	/* fill-and-write rounds per pump */
#define XPORT_CONNECTS		8	/* dials per loop pass */
#define XPORT_UPLOAD_ROUNDS	8	/* upload rounds per loop pass */
#define XPORT_MAX		1024	/* connections in the table */
#define XPORT_UTP_WAIT_MS	2500	/* with --transport both, a uTP
					 * connect not answered in this long
					 * is given up for TCP (the engine
					 * alone would wait 6 s) */

enum xport_status {
	XPORT_CONNECTING,
	XPORT_OPEN,
	XPORT_CLOSED,		/* why says why */
};

struct xport;

struct xport_ops {
	const char	*name;
	/* Append up to max bytes to in: bytes read (> 0), 0 when nothing
	 * is there now, THR_EIO when closed or failed (why filled). */
	ssize_t	(*read)(struct xport *x, struct buf *in, size_t max,
		    char *why, size_t whylen);
	/* Take bytes from the front of out (consuming them): bytes taken
	 * (>= 0) or THR_EIO (why filled). */
	ssize_t	(*write)(struct xport *x, struct buf *out, char *why,
		    size_t whylen);
	/* Where the connection stands (a connect in progress, open,
	 * closed by the other side or the network). */
	enum xport_status (*status)(struct xport *x, char *why,
		    size_t whylen);
	/* What to wake the pump for next: read (the download limit allows
	 * it) and write (bytes are waiting to go). */
	void	(*want)(struct xport *x, bool read, bool write);
	/* Release the connection (closes it, or hands it back). */
	void	(*close)(struct xport *x);
};

struct xnet;

/*
 * A connection holds its torrent and peer by pointer: the core frees a
 * peer that has a connection only when this layer says so
 * (torrent_peer_remove from xnet_close), so the pointers stay valid for
 * the connection's life.
 */
struct xport {
	const struct xport_ops	*ops;
	struct xnet		*net;
	struct torrent		*t;		/* borrowed */
	struct peer		*p;		/* borrowed */
	uint32_t		 peer_id;
	int			 fd;		/* TCP, -1 otherwise */
	void			*impl;		/* the transport's own */
	bool			 pending;	/* on the ready list */
	enum xport_status	 tcp;		/* TCP: the connect's outcome,
						 * known on writability */
	char			 why[96];	/* TCP: why it failed */
};

/* The transports of a run, over session s and loop l (both borrowed). */
struct xnet	*xnet_new(struct session *s, struct loop *l);
/* Close every connection (the core forgets each peer), then free. */
void	xnet_free(struct xnet *n);

/* Take a connection for peer p of torrent t (ownership of impl or fd
 * passes to x and is released by ops->close).  NULL when the table is
 * full (the caller releases impl / fd itself then). */
struct xport	*xnet_add(struct xnet *n, const struct xport_ops *ops,
		    struct torrent *t, struct peer *p, int fd, void *impl);
struct xport	*xnet_find(const struct xnet *n, uint32_t peer_id);
/* x has something to do (data, a finished connect, a closed
 * connection): it is pumped at the next xnet_step.  Cheap. */
void	xnet_ready(struct xport *x);
/* Pump x now (readable: try reading), and close it if its peer died. */
void	xnet_pump(struct xnet *n, struct xport *x, bool readable,
	    uint64_t now_ms);

/*
 * One pass: pump what is ready, flush what the core wrote to (after a
 * tick: everything, all = true), close the connections of dead peers,
 * and dial new ones for every torrent.
 */
void	xnet_step(struct xnet *n, uint64_t now_ms, bool all);
/* --bind-address: dial from a (family 0: any address). */
void	xnet_set_bind(struct xnet *n, const struct thr_addr *a);
/* Stop dialling and accepting (quitting). */
void	xnet_stop_dialling(struct xnet *n);

/* The torrent an incoming connection joins, or NULL to refuse it (none
 * is taking peers now).  Until the handshake names the info-hash only
 * one torrent can be the candidate: the session holds one today. */
struct torrent	*xnet_incoming(struct xnet *n);
/* Accept TCP peers on listening socket fd (registered here). */
int	xnet_listen(struct xnet *n, int fd);

/*
 * Dial hooks: a second transport the table can dial (uTP, set by the
 * UDP socket's owner): reaches says whether it can carry a, dial opens
 * a connection for peer p (0 or an error).
 */
struct xnet_dialer {
	bool	(*reaches)(void *ctx, const struct thr_addr *a);
	int	(*dial)(void *ctx, struct xnet *n, struct torrent *t,
		    struct peer *p);
	void	*ctx;
};
void	xnet_set_utp(struct xnet *n, const struct xnet_dialer *d);

/* Milliseconds until the table needs the loop again (a rate limit
 * refilling with peers waiting), UINT64_MAX when nothing waits. */
uint64_t	xnet_wait_ms(const struct xnet *n, uint64_t now_ms);
/* Connections open, and the torrent of peer id (for transports that
 * carry many torrents' peers). */
size_t	xnet_count(const struct xnet *n);
struct session	*xnet_session(const struct xnet *n);
struct loop	*xnet_loop(const struct xnet *n);

#endif
