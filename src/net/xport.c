/*
 * xport.c: the connection table, the one pump, and the TCP transport.
 * See xport.h.
 *
 * The table is an open-addressing hash from peer id to connection
 * (XPORT_MAX slots, linear probing, deletion by backward shift), plus a
 * descriptor index for TCP events.  The ready list holds connections to
 * pump at the next step; a connection is on it at most once.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/i18n.h"
#include "net/conn.h"
#include "net/xport.h"

#define XPORT_SLOTS	(2 * XPORT_MAX)	/* hash slots: half full at most */
#define XPORT_ACCEPTS	16		/* per listen event */
#define XPORT_ACCEPT_PAUSE_MS	1000	/* after EMFILE on accept */
#define XPORT_LISTENERS	2

struct xnet {
	struct session		*s;		/* borrowed */
	struct loop		*loop;		/* borrowed */
	struct xport		*slot[XPORT_SLOTS];	/* by peer id */
	size_t			 n;
	uint32_t		 fd_peer[FD_SETSIZE];	/* TCP: fd -> peer */
	struct xport		*ready[XPORT_MAX];
	size_t			 nready;
	struct xnet_dialer	 utp;
	int			 lfd[XPORT_LISTENERS];
	size_t			 nlfd;
	uint64_t		 listen_resume_ms;
	bool			 no_dial;
	bool			 reads_blocked;	/* download limit hit */
	struct thr_addr		 bind;		/* --bind-address, family 0:
						 * any */
};

static size_t
xnet_hash(uint32_t id)
{
	return (size_t)((id * 2654435761u) % XPORT_SLOTS);
}

struct xnet *
xnet_new(struct session *s, struct loop *l)
{
	struct xnet *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->s = s;
	n->loop = l;
	return n;
}

struct xport *
xnet_find(const struct xnet *n, uint32_t peer_id)
{
	for (size_t i = xnet_hash(peer_id), k = 0; k < XPORT_SLOTS;
	    k++, i = (i + 1) % XPORT_SLOTS) {
		if (n->slot[i] == NULL)
			return NULL;
		if (n->slot[i]->peer_id == peer_id)
			return n->slot[i];
	}
	return NULL;
}

struct xport *
xnet_add(struct xnet *n, const struct xport_ops *ops, struct torrent *t,
    struct peer *p, int fd, void *impl)
{
	uint32_t peer_id = p->id;
	struct xport *x;
	size_t i;

	if (n->n >= XPORT_MAX || (x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->ops = ops;
	x->net = n;
	x->t = t;
	x->p = p;
	x->peer_id = peer_id;
	x->fd = fd;
	x->impl = impl;
	for (i = xnet_hash(peer_id); n->slot[i] != NULL;
	    i = (i + 1) % XPORT_SLOTS)
		;
	n->slot[i] = x;
	n->n++;
	if (fd >= 0 && fd < FD_SETSIZE)
		n->fd_peer[fd] = peer_id;
	return x;
}

/* Take x out of the hash (backward-shift deletion keeps probes short
 * without tombstones) and off the ready list. */
static void
xnet_unlink(struct xnet *n, struct xport *x)
{
	size_t i = xnet_hash(x->peer_id), j;

	while (n->slot[i] != x)
		i = (i + 1) % XPORT_SLOTS;
	n->slot[i] = NULL;
	for (j = (i + 1) % XPORT_SLOTS; n->slot[j] != NULL;
	    j = (j + 1) % XPORT_SLOTS) {
		size_t h = xnet_hash(n->slot[j]->peer_id);

		/* Move slot j back to i if its home is not in (i, j]. */
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			n->slot[i] = n->slot[j];
			n->slot[j] = NULL;
			i = j;
		}
	}
	n->n--;
	for (size_t k = 0; x->pending && k < n->nready; k++)
		if (n->ready[k] == x)
			n->ready[k] = n->ready[--n->nready];
	if (x->fd >= 0 && x->fd < FD_SETSIZE)
		n->fd_peer[x->fd] = 0;
}

void
xnet_ready(struct xport *x)
{
	struct xnet *n = x->net;

	if (x->pending || n->nready == XPORT_MAX)
		return;
	x->pending = true;
	n->ready[n->nready++] = x;
}

/* Close x, and tell the core its peer is gone. */
static void
xnet_close(struct xnet *n, struct xport *x, uint64_t now_ms)
{
	struct torrent *t = x->t;
	struct peer *p = x->p;

	xnet_unlink(n, x);
	x->ops->close(x);
	{
		char a[ADDR_STR_MAX];

		addr_format(&p->addr, a, sizeof(a));
		if (p->phase == PEER_CONNECTING && !p->incoming) {
			if (p->transport == PEER_UTP)	/* TCP next, with both */
				peerset_utp_failed(&t->ps,
				    n->s->opts.transport, &p->addr, now_ms);
			else
				peerset_connect_failed(&t->ps, &p->addr,
				    now_ms);
		}
		/* Closed before the handshake is routine (dead addresses),
		 * except a refusal by the --encryption policy, which the
		 * user asked for. */
		log_msg(&n->s->log, p->phase == PEER_ACTIVE ||
		    strstr(p->why, "encryption") != NULL ? LOG_INFO :
		    LOG_DEBUG, _("peer %s closed: %s"), a,
		    p->why[0] ? p->why : _("closed"));
		torrent_peer_remove(t, p, now_ms);
	}
	free(x);
}

void
xnet_free(struct xnet *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < XPORT_SLOTS; i++)
		while (n->slot[i] != NULL)
			xnet_close(n, n->slot[i], n->s->now_ms);
	for (size_t i = 0; i < n->nlfd; i++)
		loop_del_fd(n->loop, n->lfd[i]);
	free(n);
}

size_t
xnet_count(const struct xnet *n)
{
	return n->n;
}

struct session *
xnet_session(const struct xnet *n)
{
	return n->s;
}

struct loop *
xnet_loop(const struct xnet *n)
{
	return n->loop;
}

void
xnet_set_utp(struct xnet *n, const struct xnet_dialer *d)
{
	n->utp = *d;
}

void
xnet_set_bind(struct xnet *n, const struct thr_addr *a)
{
	n->bind = *a;
}

void
xnet_stop_dialling(struct xnet *n)
{
	n->no_dial = true;
}

/* --- the pump --------------------------------------------------------------- */

/* A connect in progress: has it finished?  False when there is nothing
 * more to do with x now. */
static bool
xnet_connecting(struct xnet *n, struct xport *x, struct torrent *t,
    struct peer *p, uint64_t now_ms)
{
	char why[96];

	switch (x->ops->status(x, why, sizeof(why))) {
	case XPORT_OPEN:
		torrent_peer_connected(t, p, now_ms);
		return true;
	case XPORT_CLOSED:
		peer_kill(p, why);
		return false;
	case XPORT_CONNECTING:
		break;
	}
	if (p->transport == PEER_UTP &&
	    n->s->opts.transport == SESSION_TRANSPORT_BOTH &&
	    now_ms - p->connected_ms >= XPORT_UTP_WAIT_MS)
		peer_kill(p, "uTP connect timed out");
	return false;
}

static void
xnet_read(struct xnet *n, struct xport *x, struct torrent *t, struct peer *p,
    uint64_t now_ms)
{
	struct bucket *limit = &n->s->down_limit;
	size_t got = 0;
	char why[96];

	while (!p->dead && got < XPORT_READ_BUDGET &&
	    bucket_ready(limit, now_ms)) {
		size_t room = p->in.max - p->in.len;
		ssize_t k;

		if (room > PEER_READ_CHUNK)
			room = PEER_READ_CHUNK;
		if (room == 0)
			break;		/* the parser must consume first */
		if ((k = x->ops->read(x, &p->in, room, why, sizeof(why))) < 0) {
			/* Act on what arrived before the close. */
			torrent_peer_input(t, p, now_ms);
			peer_kill(p, why);
			break;
		}
		if (k == 0)
			break;
		got += (size_t)k;
		bucket_take(limit, (uint64_t)k);
		torrent_peer_input(t, p, now_ms);
	}
	if (!bucket_ready(limit, now_ms))
		n->reads_blocked = true;
}

static void
xnet_write(struct xport *x, struct torrent *t, struct peer *p,
    uint64_t now_ms)
{
	char why[96];

	for (int i = 0; i < XPORT_WRITES && !p->dead; i++) {
		bool at_push;
		ssize_t k;

		if (p->out.len == 0)
			break;
		torrent_peer_outgoing(t, p);
		if ((k = x->ops->write(x, &p->out, why, sizeof(why))) < 0) {
			peer_kill(p, why);
			return;
		}
		/* A packet transport stopped at our handshake's end: what
		 * follows goes now, in a packet of its own. */
		at_push = p->out_push != 0 && (size_t)k == p->out_push;
		torrent_peer_sent(t, p, (size_t)k, now_ms);
		if (k == 0 || (p->out.len > 0 && !at_push))
			break;
	}
}

/* Move x's bytes both ways; false when its peer is dead. */
static bool
xnet_move(struct xnet *n, struct xport *x, bool readable, uint64_t now_ms)
{
	struct torrent *t = x->t;
	struct peer *p = x->p;
	char why[96];

	if (p->dead)
		return false;
	if (p->phase == PEER_CONNECTING &&
	    !xnet_connecting(n, x, t, p, now_ms))
		return !p->dead;
	if (readable)
		xnet_read(n, x, t, p, now_ms);
	if (!p->dead && p->phase == PEER_ACTIVE &&
	    x->ops->status(x, why, sizeof(why)) == XPORT_CLOSED) {
		peer_kill(p, why);
		return false;
	}
	xnet_write(x, t, p, now_ms);
	if (p->dead)
		return false;
	x->ops->want(x, bucket_ready(&n->s->down_limit, now_ms),
	    p->out.len > 0);
	return true;
}

void
xnet_pump(struct xnet *n, struct xport *x, bool readable, uint64_t now_ms)
{
	if (!xnet_move(n, x, readable, now_ms))
		xnet_close(n, x, now_ms);
}

/* --- the step --------------------------------------------------------------- */

/* Pump the connections of the peers on a torrent's dirty list. */
static void
xnet_flush_dirty(struct xnet *n, struct torrent *t, uint64_t now_ms)
{
	uint32_t ids[64];
	size_t k;

	while ((k = torrent_take_dirty(t, ids, 64)) > 0)
		for (size_t i = 0; i < k; i++) {
			struct xport *x = xnet_find(n, ids[i]);

			if (x != NULL)
				xnet_pump(n, x, false, now_ms);
		}
}

/*
 * The upload: the session hands out blocks in turn (session_upload
 * shares the limit and the pass among the peers), then the peers that
 * got data, or that the core wrote to, go to their connections.  While
 * blocks keep moving and the connections keep taking them, a few rounds
 * per pass, so that a peer on a fast link is not held to one buffer per
 * wakeup.
 */
static void
xnet_upload(struct xnet *n, uint64_t now_ms)
{
	for (int round = 0; round < XPORT_UPLOAD_ROUNDS; round++) {
		size_t moved = session_upload(n->s, now_ms);

		for (size_t k = 0; k < n->s->ntorrents; k++)
			xnet_flush_dirty(n, n->s->torrents[k], now_ms);
		if (moved == 0)
			break;
	}
}

/* After a tick: every connection (closing one reorders the table, so the
 * pass works on a copy), then the dead peers that had none (web seeds
 * that never opened). */
static void
xnet_pump_all(struct xnet *n, uint64_t now_ms)
{
	struct xport *all[XPORT_MAX];
	size_t m = 0;

	for (size_t i = 0; i < XPORT_SLOTS; i++)
		if (n->slot[i] != NULL)
			all[m++] = n->slot[i];
	for (size_t i = 0; i < m; i++)
		xnet_pump(n, all[i], true, now_ms);
	for (size_t k = 0; k < n->s->ntorrents; k++) {
		struct torrent *t = n->s->torrents[k];

		for (size_t i = 0; i < t->ps.npeers; )
			if (t->ps.peers[i]->dead &&
			    xnet_find(n, t->ps.peers[i]->id) == NULL)
				torrent_peer_remove(t, t->ps.peers[i], now_ms);
			else
				i++;
	}
}

static void	xnet_dial(struct xnet *, struct torrent *, uint64_t);

void
xnet_step(struct xnet *n, uint64_t now_ms, bool all)
{
	/* The download limit refilled: read again. */
	if (n->reads_blocked && bucket_ready(&n->s->down_limit, now_ms)) {
		n->reads_blocked = false;
		all = true;
	}
	while (n->nready > 0) {
		struct xport *x = n->ready[--n->nready];

		x->pending = false;
		xnet_pump(n, x, true, now_ms);
	}
	xnet_upload(n, now_ms);
	if (all)
		xnet_pump_all(n, now_ms);
	if (n->listen_resume_ms != 0 && now_ms >= n->listen_resume_ms) {
		n->listen_resume_ms = 0;
		for (size_t i = 0; i < n->nlfd; i++)
			loop_set_mask(n->loop, n->lfd[i], LOOP_READ);
	}
	for (size_t k = 0; !n->no_dial && k < n->s->ntorrents; k++)
		xnet_dial(n, n->s->torrents[k], now_ms);
}

/* Whether t dials out at all now (a finished run is about to end: a
 * connection now would only be torn down again). */
static bool
xnet_dialling(const struct torrent *t)
{
	return t->phase != TORRENT_CHECKING && t->phase != TORRENT_DONE &&
	    !t->paused && !torrent_finished(t);
}

uint64_t
xnet_wait_ms(const struct xnet *n, uint64_t now_ms)
{
	struct session *s = n->s;
	uint64_t w = UINT64_MAX, d;

	if (n->nready > 0)
		return 0;
	if (n->reads_blocked && (d = bucket_wait_ms(&s->down_limit,
	    now_ms)) < w)
		w = d;
	/* Peers with requests queued wait for the upload limit. */
	if ((d = bucket_wait_ms(&s->up_limit, now_ms)) > 0 && d < w)
		for (size_t k = 0; k < s->ntorrents && w > d; k++)
			for (size_t i = 0; i < s->torrents[k]->ps.npeers; i++)
				if (s->torrents[k]->ps.peers[i]->qlen > 0) {
					w = d;
					break;
				}
	if (n->listen_resume_ms != 0 && (d = n->listen_resume_ms > now_ms ?
	    n->listen_resume_ms - now_ms : 0) < w)
		w = d;
	/* The next address to dial. */
	for (size_t k = 0; !n->no_dial && k < s->ntorrents; k++) {
		uint64_t due = xnet_dialling(s->torrents[k]) ?
		    peerset_dial_due(&s->torrents[k]->ps) : UINT64_MAX;

		if (due != UINT64_MAX && (d = due > now_ms ? due - now_ms :
		    0) < w)
			w = d;
	}
	return w;
}

/* --- TCP -------------------------------------------------------------------- */

static ssize_t
tcp_read(struct xport *x, struct buf *in, size_t max, char *why,
    size_t whylen)
{
	return conn_read(x->fd, in, max, why, whylen);
}

static ssize_t
tcp_write(struct xport *x, struct buf *out, char *why, size_t whylen)
{
	return conn_write(x->fd, out, why, whylen);
}

static enum xport_status
tcp_status(struct xport *x, char *why, size_t whylen)
{
	/* Once open, a closed socket shows as EOF on read. */
	if (x->tcp == XPORT_CLOSED)
		snprintf(why, whylen, "%s", x->why);
	return x->tcp;
}

static void
tcp_want(struct xport *x, bool read, bool write)
{
	loop_set_mask(x->net->loop, x->fd, (read ? LOOP_READ : 0) |
	    (write ? LOOP_WRITE : 0));
}

static void
tcp_close(struct xport *x)
{
	loop_del_fd(x->net->loop, x->fd);
	close(x->fd);
	x->fd = -1;
}

static const struct xport_ops tcp_ops = {
	.name = "tcp",
	.read = tcp_read,
	.write = tcp_write,
	.status = tcp_status,
	.want = tcp_want,
	.close = tcp_close,
};

static void
tcp_event(struct loop *l, int fd, int events, void *ud)
{
	struct xnet *n = ud;
	struct xport *x = n->fd_peer[fd] ? xnet_find(n, n->fd_peer[fd]) :
	    NULL;

	(void)l;
	if (x == NULL) {
		loop_del_fd(n->loop, fd);
		close(fd);
		return;
	}
	/* A connect finishes on writability; nothing to read before. */
	if (x->tcp == XPORT_CONNECTING) {
		if (!(events & LOOP_WRITE))
			return;
		x->tcp = conn_connect_result(fd, x->why, sizeof(x->why)) == 0 ?
		    XPORT_OPEN : XPORT_CLOSED;
	}
	xnet_pump(n, x, (events & LOOP_READ) != 0, loop_now_ms());
}

/* A new TCP connection for t: watch it and enter it in the table. */
static bool
tcp_take(struct xnet *n, struct torrent *t, struct peer *p, int fd, int mask)
{
	struct xport *x;

	if ((x = xnet_add(n, &tcp_ops, t, p, fd, NULL)) == NULL) {
		close(fd);
		peer_kill(p, "too many connections");
		return false;
	}
	x->tcp = mask == LOOP_WRITE ? XPORT_CONNECTING : XPORT_OPEN;
	if (loop_add_fd(n->loop, fd, mask, tcp_event, n) != 0)
		peer_kill(p, "cannot watch socket");
	return true;
}

/* Which torrent takes an incoming TCP peer?  Until the handshake names
 * the info-hash there is only one candidate to give it to: the session
 * holds one torrent today (several need the handshake first). */
struct torrent *
xnet_incoming(struct xnet *n)
{
	struct torrent *t;

	if (n->s->ntorrents == 0)
		return NULL;
	t = n->s->torrents[0];
	if (t->phase == TORRENT_CHECKING || t->paused)
		return NULL;
	return t;
}

static void
listen_event(struct loop *l, int fd, int events, void *ud)
{
	struct xnet *n = ud;
	uint64_t now = loop_now_ms();

	(void)l;
	(void)events;
	for (int i = 0; i < XPORT_ACCEPTS; i++) {
		struct torrent *t;
		struct thr_addr a;
		struct peer *p;
		int cfd, rc = conn_accept(fd, &cfd, &a);

		if (rc == THR_EIO && (errno == EMFILE || errno == ENFILE)) {
			/* Out of descriptors: the pending connection stays
			 * queued and would wake select() at once, forever.
			 * Stop listening for a second; peers already
			 * connected keep working. */
			log_msg(&n->s->log, LOG_WARN, _("cannot accept: %s; "
			    "refusing new connections for a while"),
			    strerror(errno));
			loop_set_mask(n->loop, fd, 0);
			n->listen_resume_ms = now + XPORT_ACCEPT_PAUSE_MS;
			return;
		}
		if (rc != 1)
			return;
		if (cfd >= FD_SETSIZE || n->no_dial ||
		    n->s->opts.transport == SESSION_TRANSPORT_UTP ||
		    (t = xnet_incoming(n)) == NULL ||
		    (p = torrent_peer_add(t, &a, true, PEER_SRC_INCOMING,
		    PEER_TCP, now)) == NULL) {
			close(cfd);	/* full: refuse cleanly */
			continue;
		}
		tcp_take(n, t, p, cfd, LOOP_READ);
	}
}

int
xnet_listen(struct xnet *n, int fd)
{
	if (n->nlfd == XPORT_LISTENERS)
		return THR_ELIMIT;
	if (loop_add_fd(n->loop, fd, LOOP_READ, listen_event, n) != 0)
		return THR_ELIMIT;
	n->lfd[n->nlfd++] = fd;
	return 0;
}

/* Dial the addresses t wants dialled now: over uTP when the address can
 * be reached that way and the policy says so, else over TCP. */
static void
xnet_dial(struct xnet *n, struct torrent *t, uint64_t now_ms)
{
	enum session_transport tp = n->s->opts.transport;
	struct thr_addr a;

	if (!xnet_dialling(t))
		return;
	for (int i = 0; i < XPORT_CONNECTS && peerset_next_dial(&t->ps,
	    now_ms, t->phase == TORRENT_SEEDING, &a); i++) {
		struct peer *p;
		int fd;

		if (n->utp.reaches != NULL && n->utp.reaches(n->utp.ctx, &a) &&
		    peerset_dial_utp(&t->ps, tp, &a)) {
			if ((p = torrent_peer_add(t, &a, false, PEER_SRC_COUNT,
			    PEER_UTP, now_ms)) == NULL) {
				peerset_connect_failed(&t->ps, &a, now_ms);
				break;
			}
			if (n->utp.dial(n->utp.ctx, n, t, p) != 0)
				peer_kill(p, "too many uTP connections");
			continue;
		}
		if (tp == SESSION_TRANSPORT_UTP || conn_connect(&a,
		    n->bind.family != 0 ? &n->bind : NULL, &fd) != 0) {
			peerset_connect_failed(&t->ps, &a, now_ms);
			continue;
		}
		if (fd >= FD_SETSIZE || (p = torrent_peer_add(t, &a, false,
		    PEER_SRC_COUNT, PEER_TCP, now_ms)) == NULL) {
			close(fd);
			peerset_connect_failed(&t->ps, &a, now_ms);
			break;
		}
		/* Known at once (connect bound it): how a connection to
		 * ourselves is recognised (pwp.c). */
		(void)conn_local(fd, &p->local);
		tcp_take(n, t, p, fd, LOOP_WRITE);
	}
}
