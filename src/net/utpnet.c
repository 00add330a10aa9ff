/*
 * utpnet.c: uTP connections as transports.  See utpnet.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/i18n.h"
#include "net/loop.h"
#include "net/udp.h"
#include "net/utpnet.h"

struct utpnet {
	struct session	*s;		/* borrowed */
	struct xnet	*n;		/* borrowed */
	struct utp	*utp;		/* owned */
	int		 fd, fd6;	/* borrowed sockets */
	struct xport	*conns[UTPNET_MAX];	/* our transports */
	size_t		 nconns;
	uint8_t		 out[UTP_PACKET_MAX];
};

/* The uTP side of one connection: the engine's conn and its owner. */
struct utpnet_conn {
	struct utpnet	*u;
	struct utp_conn	*c;
};

struct utpnet *
utpnet_new(struct session *s, struct xnet *n, int fd, int fd6)
{
	struct utpnet *u = calloc(1, sizeof(*u));
	struct utp_config c;

	if (u == NULL) {
		log_msg(&s->log, LOG_WARN, "%s", _("uTP off: out of memory"));
		return NULL;
	}
	memset(&c, 0, sizeof(c));
	c.seed = rng_stream_seed(s->opts.seed, SESSION_RNG_UTP);
	if ((u->utp = utp_new(&c)) == NULL) {
		log_msg(&s->log, LOG_WARN, "%s", _("uTP off: out of memory"));
		free(u);
		return NULL;
	}
	u->s = s;
	u->n = n;
	u->fd = fd;
	u->fd6 = fd6;
	return u;
}

void
utpnet_free(struct utpnet *u)
{
	const struct utp_stats *st;

	if (u == NULL)
		return;
	st = utp_stats(u->utp);
	/* What hostile or broken senders cost us, for the record. */
	if (st->packets_in > 0)
		log_msg(&u->s->log, LOG_INFO, "uTP: %llu packets in, %llu out; "
		    "dropped %llu malformed, %llu for no connection, %llu out "
		    "of window, %llu bad acks; %llu retransmitted, %llu "
		    "timeouts", (unsigned long long)st->packets_in,
		    (unsigned long long)st->packets_out,
		    (unsigned long long)st->malformed,
		    (unsigned long long)st->unknown_conn,
		    (unsigned long long)st->out_of_window,
		    (unsigned long long)st->bad_ack,
		    (unsigned long long)st->retransmits,
		    (unsigned long long)st->timeouts);
	utp_free(u->utp);
	free(u);
}

static int
utpnet_sock(const struct utpnet *u, const struct thr_addr *a)
{
	return a->family == 6 ? u->fd6 : u->fd;
}

/* --- the transport operations ------------------------------------------- */

static ssize_t
utp_op_read(struct xport *x, struct buf *in, size_t max, char *why,
    size_t whylen)
{
	struct utpnet_conn *uc = x->impl;
	uint8_t *dst;
	size_t n;

	if (utp_conn_readable(uc->c) == 0) {
		if (utp_conn_eof(uc->c)) {
			snprintf(why, whylen, "connection closed by peer");
			return THR_EIO;
		}
		return 0;
	}
	if ((dst = buf_reserve(in, max)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return THR_EIO;
	}
	n = utp_read(uc->c, dst, max);
	buf_commit(in, n);
	return (ssize_t)n;
}

/*
 * Bytes into the connection's send buffer, up to the end of our
 * handshake while that is still there (p->out_push): it then ends its
 * packet, since Transmission 3.00 reads a uTP packet only as far as the
 * message it waited for.  The pump calls again for what follows.
 */
static ssize_t
utp_op_write(struct xport *x, struct buf *out, char *why, size_t whylen)
{
	struct utpnet_conn *uc = x->impl;
	struct peer *p = x->p;
	size_t want = out->len, n;

	(void)why;
	(void)whylen;
	if (p->out_push > 0 && p->out_push < want)
		want = p->out_push;
	n = utp_write(uc->c, out->data, want, loop_now_us());
	if (n > 0 && n == p->out_push)
		utp_push(uc->c);
	buf_consume(out, n);
	return (ssize_t)n;
}

static enum xport_status
utp_op_status(struct xport *x, char *why, size_t whylen)
{
	struct utpnet_conn *uc = x->impl;

	switch (utp_conn_state(uc->c)) {
	case UTP_CONNECTING:
		return XPORT_CONNECTING;
	case UTP_CLOSED:
		/* Bytes still to read come first. */
		if (utp_conn_readable(uc->c) > 0)
			return XPORT_OPEN;
		snprintf(why, whylen, "%s", utp_conn_reason(uc->c));
		return XPORT_CLOSED;
	default:
		if (utp_conn_eof(uc->c) && utp_conn_readable(uc->c) == 0) {
			snprintf(why, whylen, "connection closed by peer");
			return XPORT_CLOSED;
		}
		return XPORT_OPEN;
	}
}

static void
utp_op_want(struct xport *x, bool read, bool write)
{
	/* Packets wake uTP, not the socket's readiness: nothing to arm.
	 * Unread bytes under the download limit wait for the refill. */
	(void)x;
	(void)read;
	(void)write;
}

static void
utp_op_close(struct xport *x)
{
	struct utpnet_conn *uc = x->impl;
	struct utpnet *u = uc->u;

	for (size_t i = 0; i < u->nconns; i++)
		if (u->conns[i] == x) {
			u->conns[i] = u->conns[--u->nconns];
			break;
		}
	utp_conn_set_user(uc->c, NULL);
	utp_close(uc->c);
	utp_conn_free(uc->c);
	free(uc);
	x->impl = NULL;
}

static const struct xport_ops utp_ops = {
	.name = "utp",
	.read = utp_op_read,
	.write = utp_op_write,
	.status = utp_op_status,
	.want = utp_op_want,
	.close = utp_op_close,
};

/* c carries peer p of t: a transport in the table.  false (c freed, p
 * killed) when a table is full. */
static bool
utpnet_take(struct utpnet *u, struct torrent *t, struct peer *p,
    struct utp_conn *c)
{
	struct utpnet_conn *uc;
	struct xport *x;

	if (u->nconns == UTPNET_MAX ||
	    (uc = calloc(1, sizeof(*uc))) == NULL) {
		utp_conn_free(c);
		peer_kill(p, "too many uTP connections");
		return false;
	}
	uc->u = u;
	uc->c = c;
	if ((x = xnet_add(u->n, &utp_ops, t, p, -1, uc)) == NULL) {
		utp_conn_free(c);
		free(uc);
		peer_kill(p, "too many connections");
		return false;
	}
	utp_conn_set_user(c, x);
	u->conns[u->nconns++] = x;
	return true;
}

/* --- dialling and accepting ---------------------------------------------- */

static bool
utpnet_reaches(void *ctx, const struct thr_addr *a)
{
	return utpnet_sock(ctx, a) >= 0;
}

static int
utpnet_dial(void *ctx, struct xnet *n, struct torrent *t, struct peer *p)
{
	struct utpnet *u = ctx;
	struct utp_conn *c;

	(void)n;
	if (utpnet_sock(u, &p->addr) < 0 ||
	    (c = utp_connect(u->utp, &p->addr, loop_now_us())) == NULL)
		return THR_ELIMIT;
	return utpnet_take(u, t, p, c) ? 0 : THR_ELIMIT;
}

struct xnet_dialer
utpnet_dialer(struct utpnet *u)
{
	struct xnet_dialer d = { utpnet_reaches, utpnet_dial, u };

	return d;
}

/* Incoming connections become peers, as accepted TCP sockets do. */
static void
utpnet_accept(struct utpnet *u, uint64_t now_ms)
{
	struct utp_conn *c;

	while ((c = utp_accept(u->utp)) != NULL) {
		struct torrent *t = xnet_incoming(u->n);
		struct peer *p;

		if (t == NULL || (p = torrent_peer_add(t, utp_conn_peer(c),
		    true, PEER_SRC_INCOMING, PEER_UTP, now_ms)) == NULL) {
			utp_conn_free(c);	/* full: refuse */
			continue;
		}
		if (utpnet_take(u, t, p, c))
			xnet_ready(utp_conn_user(c));
	}
}

/* --- the engine ------------------------------------------------------------ */

void
utpnet_input(struct utpnet *u, const struct thr_addr *from,
    const uint8_t *pkt, size_t n, uint64_t now_us)
{
	struct utp_conn *c = utp_input(u->utp, from, pkt, n, now_us);
	struct xport *x;

	if (c != NULL && (x = utp_conn_user(c)) != NULL)
		xnet_ready(x);
}

void
utpnet_tick(struct utpnet *u, uint64_t now_ms, uint64_t now_us)
{
	if (now_us >= utp_next_deadline(u->utp)) {
		utp_tick(u->utp, now_us);
		for (size_t i = 0; i < u->nconns; i++)
			xnet_ready(u->conns[i]);
	}
	utpnet_accept(u, now_ms);
}

/* Send every datagram the engine has ready.  A full socket buffer drops
 * the packet: uTP retransmits it like one lost on the way. */
void
utpnet_send(struct utpnet *u, uint64_t now_us)
{
	struct thr_addr to;
	size_t n;

	while ((n = utp_output(u->utp, &to, u->out, sizeof(u->out),
	    now_us)) > 0)
		if (utpnet_sock(u, &to) >= 0)
			(void)udp_send(utpnet_sock(u, &to), &to, u->out, n);
}

uint64_t
utpnet_wait_ms(const struct utpnet *u, uint64_t now_us)
{
	uint64_t d = utp_next_deadline(u->utp);

	if (d == UINT64_MAX)
		return UINT64_MAX;
	return d <= now_us ? 0 : (d - now_us + 999) / 1000;
}
