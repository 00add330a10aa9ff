/*
 * udpmux.c: one UDP socket for the DHT, the UDP trackers and uTP peers.
 * See udpmux.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bucket.h"
#include "core/buf.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "core/resume.h"
#include "core/udptracker.h"
#include "core/utp.h"
#include "net/resolve.h"
#include "net/udp.h"
#include "net/udpmux.h"

/* BEP 5 bootstrap routers, used when --dht-bootstrap is not given. */
static const char *const udpmux_routers[] = {
	"router.bittorrent.com:6881",
	"dht.transmissionbt.com:6881",
	"router.utorrent.com:6881",
};
#define UDPMUX_NROUTERS	(sizeof(udpmux_routers) / sizeof(udpmux_routers[0]))
#define UDPMUX_MAX_BOOT	STATE_MAX_BOOTSTRAP

struct udpmux_boot {
	struct resolve	res;
	bool		pending;
};

struct udpmux {
	struct thr_state	*s;		/* borrowed */
	struct loop		*l;		/* borrowed */
	int			 fd;		/* IPv4 */
	int			 fd6;		/* IPv6 (uTP, UDP trackers);
						 * -1 without IPv6 */

	/* The UDP tracker being asked (one at a time, as the tier list
	 * asks one URL at a time). */
	struct udptracker	 ut;
	char			 ut_url[1024];
	bool			 ut_ready;	/* ut initialised for ut_url */
	bool			 ut_have_addr;
	struct resolve		 ut_res;
	bool			 ut_resolving;
	bool			 ut_busy;
	struct tracker_announce	 ut_ann;

	struct udpmux_boot	 boot[UDPMUX_MAX_BOOT];
	size_t			 nboot;
	uint64_t		 next_search_ms;
	uint64_t		 next_save_ms;
	char			 dht_file[4096];	/* "" when not saved */

	struct utp		*utp;		/* NULL: --transport tcp */
	uint8_t			 out[UTP_PACKET_MAX];

	uint8_t			 pkt[UDP_DGRAM_MAX];
};

static uint32_t
rng_cb(void *ctx)
{
	return rng_next(ctx);
}

/* Split "HOST:PORT" or "[V6]:PORT". */
static int
split_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long p;
	size_t n;

	if (colon == NULL || colon == s)
		return THR_EINVAL;
	n = (size_t)(colon - s);
	if (s[0] == '[' && n >= 2 && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= hostlen)
		return THR_EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || p == 0 || p > 65535)
		return THR_EINVAL;
	*port = (uint16_t)p;
	return 0;
}

static void
dht_setup(struct udpmux *m, uint64_t now_ms)
{
	struct thr_state *s = m->s;
	struct dht_options o;
	struct thr_error err;
	const char *const *hosts = s->opts.bootstrap;
	size_t nhosts = s->opts.nbootstrap;
	struct buf b;

	if (s->opts.no_dht || (s->have_meta && s->mi.is_private))
		return;
	dht_options_init(&o);
	o.seed = state_rng_seed(s, STATE_RNG_DHT);
	/* Nodes on loopback or private networks, several per IP, are only
	 * believable when the user named the bootstrap nodes (a local test
	 * swarm); on the Internet they are spoofing or misconfiguration. */
	o.allow_private = nhosts > 0;
	o.allow_same_ip = nhosts > 0;
	if ((s->dht = dht_new(&o, &err)) == NULL) {
		log_msg(&s->log, LOG_WARN, _("DHT off: %s"), err.msg);
		return;
	}
	if (nhosts == 0) {
		hosts = udpmux_routers;
		nhosts = UDPMUX_NROUTERS;
	}
	if (s->opts.state_dir != NULL &&
	    resume_state_file(s->opts.state_dir, NULL, "dht.dat",
	    m->dht_file, sizeof(m->dht_file)) == 0) {
		buf_init(&b, DHT_SAVE_MAX);
		if (resume_read_file(m->dht_file, DHT_SAVE_MAX, &b, &err) == 0 &&
		    dht_load(s->dht, b.data, b.len, &err) != 0)
			log_msg(&s->log, LOG_WARN, _("DHT: %s not used: %s"),
			    m->dht_file, err.msg);
		buf_release(&b);
	} else
		m->dht_file[0] = '\0';
	for (size_t i = 0; i < nhosts && m->nboot < UDPMUX_MAX_BOOT; i++) {
		struct udpmux_boot *bt = &m->boot[m->nboot];
		char host[RESOLVE_HOST_MAX];
		uint16_t port;

		if (split_hostport(hosts[i], host, sizeof(host), &port) != 0) {
			log_msg(&s->log, LOG_WARN, _("DHT: bad bootstrap node "
			    "'%.100s' (want HOST:PORT)"), hosts[i]);
			continue;
		}
		resolve_init(&bt->res);
		if (resolve_start(&bt->res, host, port, 4) != 0)
			continue;
		bt->pending = true;
		m->nboot++;
	}
	m->next_search_ms = now_ms;
	m->next_save_ms = now_ms + UDPMUX_SAVE_MS;
	snprintf(s->dht_status, sizeof(s->dht_status), "%s",
	    _("bootstrapping"));
	log_msg(&s->log, LOG_INFO, _("DHT on UDP port %u, %zu bootstrap nodes"),
	    s->port, m->nboot);
}

static void	udp_read(struct udpmux *, int, uint64_t);

static void
udp_event(struct loop *l, int fd, int events, void *ud)
{
	(void)l;
	(void)events;
	udp_read(ud, fd, loop_now_ms());
}

/* The socket for datagrams to a. */
static int
sock_for(const struct udpmux *m, const struct thr_addr *a)
{
	return a->family == 6 ? m->fd6 : m->fd;
}

/*
 * The IPv6 socket on the same port, for uTP peers and UDP trackers
 * reached over IPv6 (the DHT stays IPv4, as BEP 5 defines it).  A host
 * without IPv6 just goes without.
 */
static void
udp6_setup(struct udpmux *m)
{
	struct thr_addr local = m->s->opts.bind;
	struct thr_error e;

	if (local.family == 4)
		return;		/* --bind-address: that address only */
	memset(&e, 0, sizeof(e));
	local.family = 6;	/* "::" unless bound */
	local.port = m->s->port;
	m->fd6 = udp_open_on(&local, &e);
	if (m->fd6 < 0) {
		m->fd6 = -1;
		log_msg(&m->s->log, LOG_DEBUG, "no IPv6 UDP socket: %s",
		    e.msg);
		return;
	}
	if (loop_add_fd(m->l, m->fd6, LOOP_READ, udp_event, m) != 0) {
		close(m->fd6);
		m->fd6 = -1;
	}
}

struct udpmux *
udpmux_new(struct thr_state *s, struct loop *l, struct thr_error *err)
{
	struct udpmux *m = calloc(1, sizeof(*m));
	struct thr_addr local = s->opts.bind;
	int fd = -1;

	if (m == NULL) {
		thr_error_set(err, THR_ENOMEM, 0, "out of memory");
		return NULL;
	}
	/* The IPv4 socket, unless --bind-address names an IPv6 one. */
	local.family = local.family == 0 ? 4 : local.family;
	local.port = s->port;
	if (local.family == 4 && (fd = udp_open_on(&local, err)) < 0) {
		free(m);
		return NULL;
	}
	m->s = s;
	m->l = l;
	m->fd = fd;
	m->fd6 = -1;
	resolve_init(&m->ut_res);
	if (fd >= 0 && loop_add_fd(l, fd, LOOP_READ, udp_event, m) != 0) {
		thr_error_set(err, THR_ELIMIT, 0, "cannot watch the UDP socket");
		close(fd);
		free(m);
		return NULL;
	}
	udp6_setup(m);
	if (m->fd < 0 && m->fd6 < 0) {
		thr_error_set(err, THR_EIO, 0, "no UDP socket on the IPv6 "
		    "--bind-address");
		free(m);
		return NULL;
	}
	if (m->fd >= 0)
		dht_setup(m, loop_now_ms());
	else if (!s->opts.no_dht)	/* BEP 5: the DHT is IPv4 */
		log_msg(&s->log, LOG_INFO, "%s", _("DHT off: it runs over "
		    "IPv4, and --bind-address is an IPv6 address"));
	if (s->opts.transport != STATE_TRANSPORT_TCP) {
		struct utp_config c;

		memset(&c, 0, sizeof(c));
		c.seed = state_rng_seed(s, STATE_RNG_UTP);
		if ((m->utp = utp_new(&c)) == NULL)
			log_msg(&s->log, LOG_WARN, "%s",
			    _("uTP off: out of memory"));
	}
	return m;
}

static void
dht_save_file(struct udpmux *m)
{
	struct thr_error err;
	struct buf b;

	if (m->s->dht == NULL || m->dht_file[0] == '\0')
		return;
	buf_init(&b, DHT_SAVE_MAX);
	if (dht_save(m->s->dht, &b) == 0 &&
	    resume_write_file(m->dht_file, b.data, b.len, &err) != 0)
		log_msg(&m->s->log, LOG_WARN, _("DHT: cannot save: %s"),
		    err.msg);
	buf_release(&b);
}

void
udpmux_free(struct udpmux *m)
{
	if (m == NULL)
		return;
	dht_save_file(m);
	if (m->utp != NULL) {
		const struct utp_stats *st = utp_stats(m->utp);

		/* What hostile or broken senders cost us, for the record. */
		if (st->packets_in > 0)
			log_msg(&m->s->log, LOG_INFO, "uTP: %llu packets in, "
			    "%llu out; dropped %llu malformed, %llu for no "
			    "connection, %llu out of window, %llu bad acks; "
			    "%llu retransmitted, %llu timeouts",
			    (unsigned long long)st->packets_in,
			    (unsigned long long)st->packets_out,
			    (unsigned long long)st->malformed,
			    (unsigned long long)st->unknown_conn,
			    (unsigned long long)st->out_of_window,
			    (unsigned long long)st->bad_ack,
			    (unsigned long long)st->retransmits,
			    (unsigned long long)st->timeouts);
	}
	utp_free(m->utp);	/* every uTP peer was released before */
	resolve_release(&m->ut_res);
	for (size_t i = 0; i < m->nboot; i++)
		resolve_release(&m->boot[i].res);
	if (m->fd >= 0) {
		loop_del_fd(m->l, m->fd);
		close(m->fd);
	}
	if (m->fd6 >= 0) {
		loop_del_fd(m->l, m->fd6);
		close(m->fd6);
	}
	free(m);
}

/* --- UDP tracker -------------------------------------------------------- */

static void
ut_finish(struct udpmux *m, int status, struct tracker_response *r,
    const char *msg, uint64_t now_ms)
{
	m->ut_busy = false;
	udptracker_stop(&m->ut);
	state_tracker_result(m->s, status, r, msg, now_ms);
}

void
udpmux_announce(struct udpmux *m, const char *url,
    const struct tracker_announce *a, uint64_t now_ms)
{
	char host[UDPTRACKER_HOST_MAX];
	uint16_t port;

	/* The same tracker again keeps its connection id and address. */
	if (!m->ut_ready || strcmp(url, m->ut_url) != 0) {
		m->ut_ready = false;
		m->ut_have_addr = false;
		if (strlen(url) >= sizeof(m->ut_url) ||
		    udptracker_init(&m->ut, url, rng_cb,
		    &m->s->rng_tracker) != 0 ||
		    udptracker_parse_url(url, host, sizeof(host), &port,
		    NULL) != 0) {
			m->ut_busy = true;
			ut_finish(m, THR_EINVAL, NULL, "bad udp:// URL",
			    now_ms);
			return;
		}
		snprintf(m->ut_url, sizeof(m->ut_url), "%s", url);
		m->ut_ready = true;
		if (resolve_start(&m->ut_res, host, port, 4) != 0) {
			m->ut_busy = true;
			ut_finish(m, THR_ENOENT, NULL, m->ut_res.error.msg,
			    now_ms);
			m->ut_ready = false;
			return;
		}
		m->ut_resolving = true;
	}
	m->ut_ann = *a;
	m->ut_ann.tracker_id = NULL;
	m->ut_busy = true;
	if (m->ut_have_addr)
		udptracker_start(&m->ut, &m->ut_ann, now_ms);
}

void
udpmux_cancel(struct udpmux *m)
{
	if (m == NULL)
		return;
	m->ut_busy = false;
	udptracker_stop(&m->ut);
}

bool
udpmux_busy(const struct udpmux *m)
{
	return m != NULL && m->ut_busy;
}

static void
ut_pump(struct udpmux *m, uint64_t now_ms)
{
	struct thr_error err;
	uint8_t pkt[UDPTRACKER_PKT_MAX];
	size_t len;
	int rc;

	if (!m->ut_busy)
		return;
	if (m->ut_resolving) {
		if ((rc = resolve_poll(&m->ut_res, &err)) == THR_EAGAIN)
			return;
		m->ut_resolving = false;
		if (rc != 0) {
			m->ut_ready = false;	/* resolve again next time */
			ut_finish(m, rc, NULL, err.msg, now_ms);
			return;
		}
		udptracker_set_addr(&m->ut, &m->ut_res.addrs[0]);
		m->ut_have_addr = true;
		udptracker_start(&m->ut, &m->ut_ann, now_ms);
	}
	while (udptracker_output(&m->ut, now_ms, pkt, sizeof(pkt), &len))
		(void)udp_send(sock_for(m, &m->ut.addr), &m->ut.addr, pkt,
		    len);
	if (udptracker_timed_out(&m->ut) ||
	    (m->ut.n >= UDPMUX_TRACKER_TRIES && m->ut_busy)) {
		/* Give the tier list its next URL; a new connect next time,
		 * the tracker may have restarted. */
		m->ut_ready = false;
		ut_finish(m, THR_EIO, NULL, "no answer from the UDP tracker",
		    now_ms);
	}
}

static void
ut_input(struct udpmux *m, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	struct tracker_response r;
	struct thr_error err;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = udptracker_input(&m->ut, pkt, len, now_ms, &r, &err);
	if (rc == THR_EAGAIN) {
		tracker_response_release(&r);
		ut_pump(m, now_ms);
		return;
	}
	if (rc == 0) {
		ut_finish(m, 0, &r, NULL, now_ms);	/* releases r */
		return;
	}
	tracker_response_release(&r);
	log_msg(&m->s->log, LOG_DEBUG, "UDP tracker: packet ignored: %s",
	    err.msg);
}

/* --- DHT ---------------------------------------------------------------- */

static void
dht_pump(struct udpmux *m, uint64_t now_ms)
{
	struct thr_state *s = m->s;
	struct thr_addr to, peer;
	uint8_t ih[DHT_ID_LEN];
	size_t len;
	int rc;

	if (s->dht == NULL)
		return;
	if (s->have_meta && s->mi.is_private) {
		/* A magnet that turned out private (BEP 27). */
		log_msg(&s->log, LOG_INFO, "%s",
		    _("DHT off: the torrent is private"));
		dht_save_file(m);
		dht_free(s->dht);
		s->dht = NULL;
		s->dht_status[0] = '\0';
		return;
	}
	for (size_t i = 0; i < m->nboot; i++) {
		struct udpmux_boot *bt = &m->boot[i];

		if (!bt->pending ||
		    (rc = resolve_poll(&bt->res, NULL)) == THR_EAGAIN)
			continue;
		bt->pending = false;
		for (size_t k = 0; rc == 0 && k < bt->res.naddrs; k++)
			(void)dht_add_bootstrap(s->dht, &bt->res.addrs[k],
			    now_ms);
	}
	if (now_ms >= dht_deadline(s->dht))
		dht_tick(s->dht, now_ms);
	/* Look the torrent up (and announce it) once the table has
	 * nodes, then again periodically, sooner while short of peers. */
	if (now_ms >= m->next_search_ms && dht_nodes(s->dht) > 0 &&
	    s->phase != STATE_CHECKING &&
	    !dht_searching(s->dht, s->mi.info_hash)) {
		bool few = s->npeers < UDPMUX_FEW_PEERS &&
		    !state_complete(s);

		if (dht_search(s->dht, s->mi.info_hash, s->port, true,
		    now_ms) == 0)
			log_msg(&s->log, LOG_DEBUG, "DHT: looking up and "
			    "announcing the torrent (%zu nodes)",
			    dht_nodes(s->dht));
		m->next_search_ms = now_ms + (few ? UDPMUX_SEARCH_MS :
		    UDPMUX_ANNOUNCE_MS);
	}
	while (dht_pop_send(s->dht, &to, m->pkt, sizeof(m->pkt), &len))
		(void)udp_send(m->fd, &to, m->pkt, len);
	while (dht_pop_peer(s->dht, ih, &peer))
		if (memcmp(ih, s->mi.info_hash, DHT_ID_LEN) == 0 &&
		    !state_banned(s, &peer))
			state_known_add(s, &peer, PEER_SRC_DHT);
	if (now_ms >= m->next_save_ms) {
		dht_save_file(m);
		m->next_save_ms = now_ms + UDPMUX_SAVE_MS;
	}
	if (s->dht_nodes != dht_nodes(s->dht)) {
		s->dht_nodes = dht_nodes(s->dht);
		s->changes++;
	}
	snprintf(s->dht_status, sizeof(s->dht_status), _("%zu nodes"),
	    s->dht_nodes);
}

/* --- input -------------------------------------------------------------- */

static void	utp_send(struct udpmux *);

static void
udp_read(struct udpmux *m, int fd, uint64_t now_ms)
{
	struct thr_addr from;
	ssize_t n;
	/* Datagrams per pass: others wait a turn.  uTP at full speed
	 * brings a thousand 1.2 KB packets in a few milliseconds. */
	int budget = m->utp != NULL ? 2048 : 256;

	while (budget-- > 0 &&
	    (n = udp_recv(fd, m->pkt, sizeof(m->pkt), &from)) != THR_EAGAIN) {
		if (n < 0) {
			if (n == THR_ELIMIT)
				continue;	/* oversized: dropped */
			break;
		}
		if (m->ut_busy && m->ut_have_addr &&
		    addr_equal(&from, &m->ut.addr))
			ut_input(m, m->pkt, (size_t)n, now_ms);
		else if (n > 0 && m->pkt[0] == 'd' && m->s->dht != NULL &&
		    from.family == 4)
			dht_input(m->s->dht, &from, m->pkt, (size_t)n, now_ms);
		else if (m->utp != NULL && utp_is_packet(m->pkt, (size_t)n))
			utp_input(m->utp, &from, m->pkt, (size_t)n,
			    loop_now_us());
	}
	/* Answers usually call for packets at once. */
	udpmux_pump(m, now_ms);
}

void
udpmux_pump(struct udpmux *m, uint64_t now_ms)
{
	if (m == NULL)
		return;
	ut_pump(m, now_ms);
	dht_pump(m, now_ms);
	utp_send(m);
}

/* --- uTP ---------------------------------------------------------------- */

/* Send every datagram the engine has ready.  A full socket buffer drops
 * the packet: uTP retransmits it like one lost on the way. */
static void
utp_send(struct udpmux *m)
{
	uint64_t now_us = loop_now_us();
	struct thr_addr to;
	size_t n;

	if (m->utp == NULL)
		return;
	while ((n = utp_output(m->utp, &to, m->out, sizeof(m->out),
	    now_us)) > 0)
		if (sock_for(m, &to) >= 0)
			(void)udp_send(sock_for(m, &to), &to, m->out, n);
}

bool
udpmux_has_utp(const struct udpmux *m)
{
	return m != NULL && m->utp != NULL;
}

bool
udpmux_utp_reaches(const struct udpmux *m, const struct thr_addr *a)
{
	return udpmux_has_utp(m) && sock_for(m, a) >= 0;
}

int
udpmux_utp_connect(struct udpmux *m, struct peer *p)
{
	struct utp_conn *c;

	if (m == NULL || m->utp == NULL || sock_for(m, &p->addr) < 0 ||
	    (c = utp_connect(m->utp, &p->addr, loop_now_us())) == NULL)
		return THR_ELIMIT;
	p->transport = PEER_UTP;
	p->tp = c;
	p->fd = -1;
	return 0;
}

void
udpmux_utp_release(struct udpmux *m, struct peer *p)
{
	(void)m;
	if (p->transport != PEER_UTP || p->tp == NULL)
		return;
	utp_close(p->tp);
	utp_conn_free(p->tp);
	p->tp = NULL;
}

/* Incoming connections become peers, as accepted TCP sockets do. */
static void
utp_take_incoming(struct udpmux *m, uint64_t now_ms)
{
	struct thr_state *s = m->s;
	struct utp_conn *c;
	struct peer *p;

	while ((c = utp_accept(m->utp)) != NULL) {
		if (s->phase == STATE_CHECKING || s->paused ||
		    (p = state_peer_add_as(s, utp_conn_peer(c), true,
		    PEER_SRC_INCOMING, PEER_UTP, now_ms)) == NULL) {
			utp_conn_free(c);	/* full: refuse */
			continue;
		}
		p->transport = PEER_UTP;
		p->tp = c;
		p->fd = -1;
	}
}

/* Received bytes into p->in, under the download limit, then parsed. */
static void
utp_peer_read(struct thr_state *s, struct peer *p, uint64_t now_ms)
{
	struct utp_conn *c = p->tp;
	size_t got = 0;

	while (!p->dead && got < UDPMUX_UTP_BUDGET &&
	    bucket_ready(&s->down_limit, now_ms) &&
	    utp_conn_readable(c) > 0) {
		size_t room = p->in.max - p->in.len, n;
		uint8_t *dst;

		if (room > PEER_READ_CHUNK)
			room = PEER_READ_CHUNK;
		if (room == 0)
			break;		/* the parser must consume first */
		if ((dst = buf_reserve(&p->in, room)) == NULL) {
			peer_kill(p, "out of memory");
			return;
		}
		n = utp_read(c, dst, room);
		buf_commit(&p->in, n);
		if (n == 0)
			break;
		got += n;
		bucket_take(&s->down_limit, n);
		state_peer_input(s, p, now_ms);
	}
}

/* Write the front of p->out into its connection, up to the end of our
 * handshake if that is still there, which then ends its packet (see
 * p->out_push).  Returns the bytes taken; *pushed tells whether it
 * stopped at the handshake's end rather than for want of room. */
static size_t
utp_peer_put(struct peer *p, bool *pushed, uint64_t now_us)
{
	size_t want = p->out.len, n;

	*pushed = false;
	if (p->out_push > 0 && p->out_push < want)
		want = p->out_push;
	n = utp_write(p->tp, p->out.data, want, now_us);
	if (n > 0 && n == p->out_push) {
		utp_push(p->tp);
		*pushed = true;
	}
	return n;
}

/* What the session has queued, into the connection's send buffer (as
 * much as it takes; the rest waits for the next pass). */
static void
utp_peer_write(struct thr_state *s, struct peer *p, uint64_t now_ms,
    uint64_t now_us)
{
	size_t n;

	if (p->dead || p->out.len == 0)
		return;
	state_peer_outgoing(s, p);
	for (;;) {
		bool pushed;

		/* Our handshake ends its packet; what follows goes into
		 * the next one, in this same pass. */
		if ((n = utp_peer_put(p, &pushed, now_us)) == 0)
			return;
		buf_consume(&p->out, n);
		state_peer_sent(s, p, n, now_ms);
		if (!pushed || p->out.len == 0)
			return;
	}
}

void
udpmux_utp_pump(struct udpmux *m, uint64_t now_ms)
{
	struct thr_state *s;
	uint64_t now_us;

	if (m == NULL || m->utp == NULL)
		return;
	s = m->s;
	now_us = loop_now_us();
	utp_tick(m->utp, now_us);
	utp_take_incoming(m, now_ms);
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];
		enum utp_state st;

		if (p->transport != PEER_UTP || p->tp == NULL || p->dead)
			continue;
		st = utp_conn_state(p->tp);
		if (p->phase == PEER_CONNECTING) {
			if (st == UTP_CONNECTED)
				state_peer_connected(s, p, now_ms);
			else if (st == UTP_CLOSED) {
				peer_kill(p, utp_conn_reason(p->tp));
				continue;
			} else if (s->opts.transport == STATE_TRANSPORT_BOTH &&
			    now_ms - p->connected_ms >= UDPMUX_UTP_WAIT_MS) {
				peer_kill(p, "uTP connect timed out");
				continue;
			} else
				continue;
		}
		utp_peer_read(s, p, now_ms);
		if (p->dead)
			continue;
		if (utp_conn_eof(p->tp)) {
			peer_kill(p, "connection closed by peer");
			continue;
		}
		if (st == UTP_CLOSED && utp_conn_readable(p->tp) == 0) {
			peer_kill(p, utp_conn_reason(p->tp));
			continue;
		}
		utp_peer_write(s, p, now_ms, now_us);
	}
	utp_send(m);
}

void
udpmux_utp_flush(struct udpmux *m, uint64_t now_ms)
{
	struct thr_state *s;
	uint64_t now_us;

	if (m == NULL || m->utp == NULL)
		return;
	s = m->s;
	now_us = loop_now_us();
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];

		if (p->transport == PEER_UTP && p->tp != NULL &&
		    p->phase != PEER_CONNECTING)
			utp_peer_write(s, p, now_ms, now_us);
	}
	utp_send(m);
}

uint64_t
udpmux_wait_ms(const struct udpmux *m, uint64_t now_ms)
{
	uint64_t d, now_us;

	(void)now_ms;
	if (m == NULL || m->utp == NULL)
		return UINT64_MAX;
	if ((d = utp_next_deadline(m->utp)) == UINT64_MAX)
		return UINT64_MAX;
	now_us = loop_now_us();
	return d <= now_us ? 0 : (d - now_us + 999) / 1000;
}
