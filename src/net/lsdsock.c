/*
 * lsdsock.c: BEP 14 multicast sockets and the LSD of a run.  See
 * lsdsock.h: this file opens, joins, sends and reads; core/lsd.c knows
 * the message format and the schedule.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/i18n.h"
#include "core/lsd.h"
#include "core/rng.h"
#include "core/torrent.h"
#include "net/lsdsock.h"
#include "net/udp.h"

/* BEP 14 groups are org-local and site-local; we keep announces on the
 * local link, where the peers we can reach directly are. */
#define LSDSOCK_TTL	1

void
lsdsock_group(int family, struct thr_addr *a)
{
	memset(a, 0, sizeof *a);
	a->family = family == 6 ? 6 : 4;
	a->port = LSD_PORT;
	if (a->family == 6)
		(void)inet_pton(AF_INET6, LSD_GROUP6, a->ip);
	else
		(void)inet_pton(AF_INET, LSD_GROUP4, a->ip);
}

static int
lsdsock_open4(int s, const char **what)
{
	struct sockaddr_in sin;
	struct ip_mreq mr;
	unsigned char ttl = LSDSOCK_TTL, loop = 1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(LSD_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	*what = "bind";
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) < 0)
		return -1;
#ifdef IP_MULTICAST_ALL
	{
		/* Linux hands a wildcard socket every group any socket
		 * on the host joined; we want ours only. */
		int zero = 0;

		(void)setsockopt(s, IPPROTO_IP, IP_MULTICAST_ALL, &zero,
		    sizeof zero);
	}
#endif
	memset(&mr, 0, sizeof mr);
	(void)inet_pton(AF_INET, LSD_GROUP4, &mr.imr_multiaddr);
	mr.imr_interface.s_addr = htonl(INADDR_ANY);
	*what = "join 239.192.152.143";
	if (setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
		return -1;
	*what = "IP_MULTICAST_TTL";
	if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0)
		return -1;
	*what = "IP_MULTICAST_LOOP";
	if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
	    sizeof loop) < 0)
		return -1;
	return 0;
}

static int
lsdsock_open6(int s, const char **what)
{
	struct sockaddr_in6 sin6;
	struct ipv6_mreq mr;
	int one = 1, hops = LSDSOCK_TTL;

	*what = "IPV6_V6ONLY";
	if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
		return -1;
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(LSD_PORT);
	sin6.sin6_addr = in6addr_any;
	*what = "bind";
	if (bind(s, (struct sockaddr *)&sin6, sizeof sin6) < 0)
		return -1;
#ifdef IPV6_MULTICAST_ALL
	{
		int zero = 0;

		(void)setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero,
		    sizeof zero);
	}
#endif
	memset(&mr, 0, sizeof mr);
	(void)inet_pton(AF_INET6, LSD_GROUP6, &mr.ipv6mr_multiaddr);
	mr.ipv6mr_interface = 0;
	*what = "join ff15::efc0:988f";
	if (setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr) < 0)
		return -1;
	*what = "IPV6_MULTICAST_HOPS";
	if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
	    sizeof hops) < 0)
		return -1;
	*what = "IPV6_MULTICAST_LOOP";
	if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &one,
	    sizeof one) < 0)
		return -1;
	return 0;
}

int
lsdsock_open(int family, struct thr_error *err)
{
	const char *what = "socket";
	int s, one = 1, e;

	if (family != 4 && family != 6)
		return thr_error_set(err, THR_EINVAL, 0,
		    "lsd: family %d is neither 4 nor 6", family);
	s = socket(family == 6 ? AF_INET6 : AF_INET,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		goto fail_errno;
	/* Several clients on one host share port 6771 (BEP 14). */
	what = "SO_REUSEADDR";
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		goto fail_close;
	if ((family == 6 ? lsdsock_open6(s, &what) :
	    lsdsock_open4(s, &what)) < 0)
		goto fail_close;
	return s;
fail_close:
	e = errno;
	close(s);
	errno = e;
fail_errno:
	return thr_error_set(err, THR_EIO, 0, "lsd: IPv%d %s: %s", family,
	    what, strerror(errno));
}

struct lsdsock {
	struct session		*s;		/* borrowed */
	struct loop		*l;		/* borrowed */
	uint16_t		 port;
	int			 fd[2];		/* IPv4, IPv6; -1 if none */
	struct lsd		 lsd;
	uint8_t			 pkt[LSD_MSG_MAX + 1];	/* + 1: overlong
							 * shows as such */
};

static const int lsdsock_family[2] = { 4, 6 };

static void	lsdsock_read(struct lsdsock *, int);

static void
lsdsock_event(struct loop *l, int fd, int events, void *ud)
{
	(void)l;
	(void)events;
	lsdsock_read(ud, fd);
}

static void
lsdsock_close(struct lsdsock *m)
{
	for (int i = 0; i < 2; i++)
		if (m->fd[i] >= 0) {
			loop_del_fd(m->l, m->fd[i]);
			close(m->fd[i]);
			m->fd[i] = -1;
		}
}

/* True when every torrent of the session is private (BEP 27). */
static bool
lsdsock_all_private(const struct lsdsock *m)
{
	for (size_t k = 0; k < m->s->ntorrents; k++)
		if (!m->s->torrents[k]->have_meta ||
		    !m->s->torrents[k]->mi.is_private)
			return false;
	return m->s->ntorrents > 0;
}

/*
 * --bind-address (IPv4): announce from that address's interface, so
 * that the source address peers answer is the one we listen on, and
 * listen for the group there too.  Best effort: the default interface
 * still works where the two are the same.
 */
static void
lsdsock_bind4(int fd, const struct thr_addr *local)
{
	struct in_addr ia;
	struct ip_mreq mr;

	memcpy(&ia, local->ip, 4);
	(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ia, sizeof ia);
	memset(&mr, 0, sizeof mr);
	(void)inet_pton(AF_INET, LSD_GROUP4, &mr.imr_multiaddr);
	mr.imr_interface = ia;
	(void)setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr);
}

struct lsdsock *
lsdsock_new(struct session *s, struct loop *l, uint16_t port,
    const struct thr_addr *bind)
{
	struct lsdsock *m;
	struct thr_error err;
	int fd;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		log_msg(&s->log, LOG_WARN, "%s", _("LSD off: out of memory"));
		return NULL;
	}
	m->s = s;
	if (lsdsock_all_private(m)) {
		log_msg(&s->log, LOG_INFO, "%s",
		    _("LSD off: the torrent is private"));
		free(m);
		return NULL;
	}
	m->s = s;
	m->l = l;
	m->port = port;
	m->fd[0] = m->fd[1] = -1;
	for (int i = 0; i < 2; i++) {
		/* --bind-address: peers must find us at that address. */
		if (bind != NULL && bind->family != 0 &&
		    bind->family != lsdsock_family[i])
			continue;
		memset(&err, 0, sizeof(err));
		if ((fd = lsdsock_open(lsdsock_family[i], &err)) < 0) {
			log_msg(&s->log, LOG_INFO,
			    _("LSD: IPv%d not used (%s)"),
			    lsdsock_family[i], err.msg);
			continue;
		}
		if (loop_add_fd(l, fd, LOOP_READ, lsdsock_event, m) != 0) {
			log_msg(&s->log, LOG_INFO, _("LSD: IPv%d not used "
			    "(cannot watch the socket)"), lsdsock_family[i]);
			close(fd);
			continue;
		}
		m->fd[i] = fd;
		if (bind != NULL && bind->family == 4)
			lsdsock_bind4(fd, bind);
	}
	if (m->fd[0] < 0 && m->fd[1] < 0) {
		log_msg(&s->log, LOG_INFO, "%s",
		    _("LSD off: no multicast socket"));
		free(m);
		return NULL;
	}
	/* The cookie comes from the seeded PRNG, so --seed replays it. */
	lsd_init(&m->lsd, rng_stream_seed(s->opts.seed, SESSION_RNG_LSD));
	log_msg(&s->log, LOG_INFO, _("LSD on %s%s%s port %u"), m->fd[0] >= 0 ?
	    LSD_GROUP4 : "", m->fd[0] >= 0 && m->fd[1] >= 0 ? _(" and ") : "",
	    m->fd[1] >= 0 ? "[" LSD_GROUP6 "]" : "", LSD_PORT);
	return m;
}

void
lsdsock_free(struct lsdsock *m)
{
	if (m == NULL)
		return;
	lsdsock_close(m);
	free(m);
}

/* The info-hashes to announce: torrents that know what they have and
 * are not private (BEP 27); at most LSD_MAX_HASHES. */
static size_t
lsdsock_hashes(const struct lsdsock *m, uint8_t (*ih)[20])
{
	size_t n = 0;

	for (size_t k = 0; k < m->s->ntorrents && n < LSD_MAX_HASHES; k++) {
		const struct torrent *t = m->s->torrents[k];

		if (t->phase == TORRENT_CHECKING ||
		    (t->have_meta && t->mi.is_private))
			continue;
		memcpy(ih[n++], t->mi.info_hash, 20);
	}
	return n;
}

static void
lsdsock_announce(struct lsdsock *m, const uint8_t (*ih)[20], size_t nih,
    uint64_t now_ms)
{
	struct session *s = m->s;
	struct thr_addr g;
	char out[LSD_MSG_MAX + 1];
	size_t len;
	bool sent = false;

	for (int i = 0; i < 2; i++) {
		if (m->fd[i] < 0 || lsd_format(lsdsock_family[i], m->port,
		    ih, nih, m->lsd.cookie, out, sizeof(out), &len) != 0)
			continue;
		lsdsock_group(lsdsock_family[i], &g);
		if (udp_send(m->fd[i], &g, out, len) == (ssize_t)len)
			sent = true;
		else
			log_msg(&s->log, LOG_DEBUG, "LSD: IPv%d announce not "
			    "sent", lsdsock_family[i]);
	}
	/* A failed send waits for the next turn like a sent one: BEP 14
	 * asks for no more than one announce a minute either way. */
	lsd_sent(&m->lsd, now_ms);
	if (sent)
		log_msg(&s->log, LOG_INFO, _("LSD: announced port %u"),
		    m->port);
}

void
lsdsock_pump(struct lsdsock *m, uint64_t now_ms)
{
	uint8_t ih[LSD_MAX_HASHES][20];
	size_t n;

	if (m == NULL || (m->fd[0] < 0 && m->fd[1] < 0))
		return;
	if (lsdsock_all_private(m)) {
		/* BEP 27: a private torrent gets peers from its tracker
		 * only; with nothing else to announce, LSD has no use. */
		log_msg(&m->s->log, LOG_INFO, "%s",
		    _("LSD off: the torrent is private"));
		lsdsock_close(m);
		return;
	}
	if (!lsd_due(&m->lsd, now_ms))
		return;
	/* While data is being checked, peers that came would find nothing
	 * to fetch: announce once we know what we have. */
	if ((n = lsdsock_hashes(m, ih)) > 0)
		lsdsock_announce(m, (const uint8_t (*)[20])ih, n, now_ms);
}

/* fe80::/10: usable only with a scope id, which struct thr_addr lacks. */
static bool
lsdsock_link_local6(const struct thr_addr *a)
{
	return a->family == 6 && a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80;
}

/* A peer announced t: remember it (only new addresses are logged, so
 * repeats and a flood of made-up ports stay out of the log). */
static void
lsdsock_found(struct lsdsock *m, struct torrent *t, const struct thr_addr *a)
{
	char as[ADDR_STR_MAX];
	size_t n = t->ps.nknown;

	addr_format(a, as, sizeof(as));
	if (lsdsock_link_local6(a) || peerset_banned(&t->ps, a) ||
	    (t->have_meta && t->mi.is_private)) {
		log_msg(&m->s->log, LOG_DEBUG, "LSD: peer %s not used", as);
		return;
	}
	peerset_known_add(&t->ps, a, PEER_SRC_LSD);
	if (t->ps.nknown == n)
		return;
	log_msg(&m->s->log, LOG_INFO, _("LSD: peer %s"), as);
	t->changes++;
}

static void
lsdsock_input(struct lsdsock *m, const struct thr_addr *from,
    const uint8_t *p, size_t len)
{
	struct session *s = m->s;
	struct lsd_msg msg;
	struct thr_error err;
	struct thr_addr a;
	char as[ADDR_STR_MAX];

	memset(&err, 0, sizeof(err));
	addr_format(from, as, sizeof(as));
	if (lsd_parse(p, len, &msg, &err) != 0) {
		log_msg(&s->log, LOG_DEBUG, "LSD: from %s ignored: %s (at "
		    "byte %zu)", as, err.msg, err.offset);
		return;
	}
	if (lsd_own(&m->lsd, &msg))
		return;
	a = *from;
	a.port = msg.port;
	for (size_t k = 0; k < s->ntorrents; k++)
		if (lsd_has_hash(&msg, s->torrents[k]->mi.info_hash))
			lsdsock_found(m, s->torrents[k], &a);
}

static void
lsdsock_read(struct lsdsock *m, int fd)
{
	struct thr_addr from;
	ssize_t n;
	int budget = LSDSOCK_READ_BUDGET;

	while (budget-- > 0 &&
	    (n = udp_recv(fd, m->pkt, sizeof(m->pkt), &from)) != THR_EAGAIN) {
		if (n == THR_ELIMIT)
			continue;	/* above LSD_MSG_MAX: not LSD */
		if (n < 0)
			break;
		lsdsock_input(m, &from, m->pkt, (size_t)n);
	}
}
