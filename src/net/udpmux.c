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
#include "core/udptracker.h"
#include "core/torrent.h"
#include "core/utp.h"
#include "net/resolve.h"
#include "net/udp.h"
#include "net/udpmux.h"
#include "net/utpnet.h"

/* BEP 5 bootstrap routers, used when --dht-bootstrap is not given. */
static const char *const udpmux_routers[] = {
	"router.bittorrent.com:6881",
	"dht.transmissionbt.com:6881",
	"router.utorrent.com:6881",
};
#define UDPMUX_NROUTERS	(sizeof(udpmux_routers) / sizeof(udpmux_routers[0]))
#define UDPMUX_MAX_BOOT	SESSION_MAX_BOOTSTRAP

struct udpmux_boot {
	struct resolve	res;
	bool		pending;
};

struct udpmux {
	struct session		*s;		/* borrowed */
	struct loop		*l;		/* borrowed */
	uint16_t		 port;
	struct thr_addr		 bind;		/* --bind-address, family 0:
						 * any */
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
	udpmux_announce_cb	*ut_cb;
	void			*ut_ctx;

	struct udpmux_boot	 boot[UDPMUX_MAX_BOOT];
	size_t			 nboot;
	struct {
		uint32_t	 id;		/* torrent id, 0: free */
		uint64_t	 next_ms;	/* its next DHT lookup */
	}			 search[SESSION_MAX_TORRENTS];
	uint64_t		 next_save_ms;

	struct utpnet		*utp;		/* NULL: --transport tcp */

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
dht_setup(struct udpmux *m, const struct udpmux_opts *o, uint64_t now_ms)
{
	struct session *s = m->s;
	const char *const *hosts = o->bootstrap;
	size_t nhosts = o->nbootstrap;

	/* Nodes on loopback or private networks, several per IP, are only
	 * believable when the user named the bootstrap nodes (a local test
	 * swarm); on the Internet they are spoofing or misconfiguration. */
	if (session_dht_start(s, nhosts > 0) != 0 || s->dht == NULL)
		return;
	if (nhosts == 0) {
		hosts = udpmux_routers;
		nhosts = UDPMUX_NROUTERS;
	}
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
	m->next_save_ms = now_ms + UDPMUX_SAVE_MS;
	session_set_status(s, SESSION_STATUS_DHT, _("bootstrapping"));
	log_msg(&s->log, LOG_INFO, _("DHT on UDP port %u, %zu bootstrap nodes"),
	    m->port, m->nboot);
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
	struct thr_addr local = m->bind;
	struct thr_error e;

	if (local.family == 4)
		return;		/* --bind-address: that address only */
	memset(&e, 0, sizeof(e));
	local.family = 6;	/* "::" unless bound */
	local.port = m->port;
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
udpmux_new(struct session *s, struct loop *l, struct xnet *n,
    const struct udpmux_opts *o, struct thr_error *err)
{
	struct udpmux *m = calloc(1, sizeof(*m));
	struct thr_addr local = o->bind;
	int fd = -1;

	if (m == NULL) {
		thr_error_set(err, THR_ENOMEM, 0, "out of memory");
		return NULL;
	}
	/* The IPv4 socket, unless --bind-address names an IPv6 one. */
	local.family = local.family == 0 ? 4 : local.family;
	local.port = o->port;
	if (local.family == 4 && (fd = udp_open_on(&local, err)) < 0) {
		free(m);
		return NULL;
	}
	m->s = s;
	m->l = l;
	m->port = o->port;
	m->bind = o->bind;
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
		dht_setup(m, o, loop_now_ms());
	else if (s->opts.dht)	/* BEP 5: the DHT is IPv4 */
		log_msg(&s->log, LOG_INFO, "%s", _("DHT off: it runs over "
		    "IPv4, and --bind-address is an IPv6 address"));
	if (o->utp && (m->utp = utpnet_new(s, n, m->fd, m->fd6)) != NULL) {
		struct xnet_dialer d = utpnet_dialer(m->utp);

		xnet_set_utp(n, &d);
	}
	return m;
}

void
udpmux_free(struct udpmux *m)
{
	if (m == NULL)
		return;
	session_dht_save(m->s);
	utpnet_free(m->utp);
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
	m->ut_cb(m->ut_ctx, status, r, msg, now_ms);
}

void
udpmux_announce(struct udpmux *m, const char *url,
    const struct tracker_announce *a, udpmux_announce_cb *cb, void *ctx,
    uint64_t now_ms)
{
	char host[UDPTRACKER_HOST_MAX];
	uint16_t port;

	m->ut_cb = cb;
	m->ut_ctx = ctx;
	/* The same tracker again keeps its connection id and address. */
	if (!m->ut_ready || strcmp(url, m->ut_url) != 0) {
		m->ut_ready = false;
		m->ut_have_addr = false;
		if (strlen(url) >= sizeof(m->ut_url) ||
		    udptracker_init(&m->ut, url, rng_cb,
		    &m->s->rng[SESSION_RNG_TRACKER]) != 0 ||
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

static bool
dht_torrent_live(const struct session *s, uint32_t id)
{
	for (size_t k = 0; k < s->ntorrents; k++)
		if (s->torrents[k]->id == id)
			return true;
	return false;
}

/* The next lookup time of torrent t (a slot, kept per torrent id; the
 * slot of a torrent that left is taken again). */
static uint64_t *
dht_next_search(struct udpmux *m, const struct torrent *t)
{
	for (size_t i = 0; i < SESSION_MAX_TORRENTS; i++)
		if (m->search[i].id == t->id)
			return &m->search[i].next_ms;
	for (size_t i = 0; i < SESSION_MAX_TORRENTS; i++)
		if (m->search[i].id == 0 ||
		    !dht_torrent_live(m->s, m->search[i].id)) {
			m->search[i].id = t->id;
			m->search[i].next_ms = 0;
			return &m->search[i].next_ms;
		}
	return &m->search[0].next_ms;
}

/* Look each torrent up (and announce it) once the table has nodes, then
 * again periodically, sooner while short of peers. */
static void
dht_search_torrents(struct udpmux *m, uint64_t now_ms)
{
	struct session *s = m->s;

	for (size_t k = 0; k < s->ntorrents; k++) {
		struct torrent *t = s->torrents[k];
		uint64_t *next = dht_next_search(m, t);
		bool few;

		if (now_ms < *next || t->phase == TORRENT_CHECKING ||
		    dht_searching(s->dht, t->mi.info_hash))
			continue;
		few = t->ps.npeers < UDPMUX_FEW_PEERS && !torrent_complete(t);
		if (dht_search(s->dht, t->mi.info_hash, m->port, true,
		    now_ms) == 0)
			log_msg(&s->log, LOG_DEBUG, "DHT: looking up and "
			    "announcing a torrent (%zu nodes)",
			    dht_nodes(s->dht));
		*next = now_ms + (few ? UDPMUX_SEARCH_MS : UDPMUX_ANNOUNCE_MS);
	}
}

static void
dht_pump(struct udpmux *m, uint64_t now_ms)
{
	struct session *s = m->s;
	struct thr_addr to, peer;
	uint8_t ih[DHT_ID_LEN];
	char status[64];
	size_t len;
	int rc;

	if (s->dht == NULL)
		return;
	for (size_t k = 0; k < s->ntorrents; k++)
		if (s->torrents[k]->have_meta && s->torrents[k]->mi.is_private) {
			/* A magnet that turned out private (BEP 27). */
			log_msg(&s->log, LOG_INFO, "%s",
			    _("DHT off: the torrent is private"));
			session_dht_save(s);
			session_dht_stop(s);
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
	if (dht_nodes(s->dht) > 0)
		dht_search_torrents(m, now_ms);
	while (dht_pop_send(s->dht, &to, m->pkt, sizeof(m->pkt), &len))
		(void)udp_send(m->fd, &to, m->pkt, len);
	while (dht_pop_peer(s->dht, ih, &peer))
		session_peer_found(s, ih, &peer, PEER_SRC_DHT);
	if (now_ms >= m->next_save_ms) {
		session_dht_save(s);
		m->next_save_ms = now_ms + UDPMUX_SAVE_MS;
	}
	snprintf(status, sizeof(status), _("%zu nodes"), dht_nodes(s->dht));
	session_set_status(s, SESSION_STATUS_DHT, status);
}

/* --- input -------------------------------------------------------------- */

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
			utpnet_input(m->utp, &from, m->pkt, (size_t)n,
			    loop_now_us());
	}
}

void
udpmux_pump(struct udpmux *m, uint64_t now_ms)
{
	if (m == NULL)
		return;
	ut_pump(m, now_ms);
	dht_pump(m, now_ms);
	if (m->utp != NULL) {
		uint64_t now_us = loop_now_us();

		utpnet_tick(m->utp, now_ms, now_us);
		utpnet_send(m->utp, now_us);
	}
}

bool
udpmux_has_utp(const struct udpmux *m)
{
	return m != NULL && m->utp != NULL;
}

uint64_t
udpmux_wait_ms(const struct udpmux *m, uint64_t now_ms)
{
	uint64_t w = UINT64_MAX, d;

	if (m == NULL)
		return UINT64_MAX;
	if (m->utp != NULL)
		w = utpnet_wait_ms(m->utp, loop_now_us());
	if (m->s->dht != NULL) {
		d = dht_deadline(m->s->dht);
		d = d <= now_ms ? 0 : d - now_ms;
		if (d < w)
			w = d;
	}
	if (m->ut_busy && w > 100)
		w = 100;	/* retransmissions, resolving */
	return w;
}
