/*
 * portmap.c: UPnP IGD and NAT-PMP port mapping.  See portmap.h.
 *
 * Each method is a small state machine changed through one function
 * that logs the change at debug level.  NAT-PMP walks ADDR (public
 * address) -> TCP -> UDP -> MAPPED, back to TCP when the lease is half
 * gone, and DEL_TCP -> DEL_UDP -> END on stop.  UPnP waits in ASK while
 * its child works on a command and sits in MAPPED in between.  IDLE
 * means nothing is mapped and nothing is pending (no gateway, refused);
 * END means stopped.
 *
 * The UPnP helper process itself, and the grammar of the lines it
 * writes, are in portmap_child.c: this file is the parent's side.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <natpmp.h>

#include "core/i18n.h"
#include "net/portmap.h"
#include "net/portmap_child.h"

enum portmap_phase {
	PM_OFF,		/* not asked for */
	PM_IDLE,	/* nothing mapped, nothing pending */
	PM_ADDR,	/* NAT-PMP: public address asked */
	PM_TCP,		/* NAT-PMP: TCP mapping asked */
	PM_UDP,		/* NAT-PMP: UDP mapping asked */
	PM_ASK,		/* UPnP: a command is with the child */
	PM_MAPPED,	/* mapped, waiting to renew */
	PM_DEL_TCP,	/* NAT-PMP: TCP removal asked */
	PM_DEL_UDP,	/* NAT-PMP: UDP removal asked */
	PM_END,		/* stopped */
};

static const char *const portmap_phase_names[] = {
	"off", "idle", "addr", "tcp", "udp", "ask", "mapped", "del-tcp",
	"del-udp", "end",
};

static const char *const portmap_kind_names[] = { "UPnP", "NAT-PMP" };

struct portmap_method {
	enum portmap_phase	 phase;
	uint64_t		 deadline;	/* of the pending request */
	uint64_t		 renew_at;
	struct portmap_status	 st;
};

struct portmap {
	struct loop		*l;		/* borrowed */
	struct log		*log;		/* borrowed, may be NULL */
	uint16_t		 tcp_port, udp_port;
	bool			 stopping;
	uint64_t		 stop_deadline;
	struct portmap_method	 m[PORTMAP_NKINDS];

	/* NAT-PMP */
	natpmp_t		 np;
	bool			 np_open;
	uint32_t		 np_life_tcp, np_life_udp;
	long			 wake_id;	/* loop timer, 0 = none */
	uint64_t		 wake_at;

	/* UPnP child */
	pid_t			 pid;		/* 0 = none or reaped */
	int			 cmd_fd;	/* write end, -1 = closed */
	int			 res_fd;	/* read end, -1 = closed */
	char			 line[PORTMAP_LINE_MAX];
	size_t			 linelen;
	bool			 upnp_deleting;	/* 'd' sent */
};

static void	portmap_natpmp_step(struct portmap *, uint64_t);

static void
portmap_set_phase(struct portmap *pm, enum portmap_kind k,
    enum portmap_phase p)
{
	struct portmap_method *m = &pm->m[k];

	if (m->phase == p)
		return;
	if (pm->log != NULL)
		log_msg(pm->log, LOG_DEBUG, "%s: %s -> %s",
		    portmap_kind_names[k], portmap_phase_names[m->phase],
		    portmap_phase_names[p]);
	m->phase = p;
}

static void
portmap_text(struct portmap *pm, enum portmap_kind k, enum log_level lv,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set the status text of method k ("NAT-PMP: " + fmt) and log it. */
static void
portmap_text(struct portmap *pm, enum portmap_kind k, enum log_level lv,
    const char *fmt, ...)
{
	struct portmap_status *st = &pm->m[k].st;
	char msg[PORTMAP_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The name is short; a long message is cut, as the view would. */
	snprintf(st->text, sizeof(st->text), "%s: %.*s", portmap_kind_names[k],
	    PORTMAP_TEXT_MAX - 10, msg);
	if (pm->log != NULL)
		log_msg(pm->log, lv, "%s", st->text);
}

static void
portmap_text_mapped(struct portmap *pm, enum portmap_kind k,
    enum log_level lv)
{
	struct portmap_status *st = &pm->m[k].st;
	const char *a = st->addr[0] != '\0' ? st->addr : "?";

	st->mapped = st->tcp != 0 || st->udp != 0;
	if (st->tcp != 0 && st->udp != 0 && st->tcp != st->udp)
		portmap_text(pm, k, lv, _("mapped %s:%u (UDP %u)"), a, st->tcp,
		    st->udp);
	else if (st->tcp != 0)
		portmap_text(pm, k, lv, _("mapped %s:%u"), a, st->tcp);
	else
		portmap_text(pm, k, lv, _("mapped %s:%u (UDP only)"), a,
		    st->udp);
}

uint64_t
portmap_renew_at(uint64_t now_ms, uint32_t granted_s)
{
	uint64_t half = granted_s / 2;

	if (half < PORTMAP_MIN_RENEW_S)
		half = PORTMAP_MIN_RENEW_S;
	return now_ms + half * 1000;
}

/*
 * UPnP: the parent's side.
 */

static void
portmap_upnp_start(struct portmap *pm, uint64_t now)
{
	if (portmap_child_spawn(pm->tcp_port, pm->udp_port, &pm->pid,
	    &pm->cmd_fd, &pm->res_fd) != 0) {
		portmap_text(pm, PORTMAP_UPNP, LOG_WARN, _("cannot start: %s"),
		    strerror(errno));
		portmap_set_phase(pm, PORTMAP_UPNP, PM_IDLE);
		return;
	}
	pm->m[PORTMAP_UPNP].deadline = now + PORTMAP_DISCOVER_MS +
	    PORTMAP_UPNP_WAIT_MS;
	portmap_set_phase(pm, PORTMAP_UPNP, PM_ASK);
	snprintf(pm->m[PORTMAP_UPNP].st.text, PORTMAP_TEXT_MAX, "UPnP: %s",
	    _("looking for a gateway"));
}

/* Close our ends: the child removes the mappings it holds and exits. */
static void
portmap_upnp_close(struct portmap *pm)
{
	if (pm->res_fd >= 0) {
		loop_del_fd(pm->l, pm->res_fd);
		close(pm->res_fd);
		pm->res_fd = -1;
	}
	if (pm->cmd_fd >= 0) {
		close(pm->cmd_fd);
		pm->cmd_fd = -1;
	}
}

static void
portmap_upnp_reap(struct portmap *pm)
{
	int st;

	if (pm->pid > 0 && waitpid(pm->pid, &st, WNOHANG) == pm->pid)
		pm->pid = 0;
}

static void
portmap_upnp_command(struct portmap *pm, char c, uint64_t now,
    uint64_t wait_ms)
{
	ssize_t n;

	do
		n = send(pm->cmd_fd, &c, 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		portmap_text(pm, PORTMAP_UPNP, LOG_WARN, _("helper gone"));
		portmap_upnp_close(pm);
		portmap_set_phase(pm, PORTMAP_UPNP,
		    pm->stopping ? PM_END : PM_IDLE);
		return;
	}
	pm->m[PORTMAP_UPNP].deadline = now + wait_ms;
	portmap_set_phase(pm, PORTMAP_UPNP, PM_ASK);
}

static void
portmap_upnp_result(struct portmap *pm, const struct portmap_result *r,
    uint64_t now)
{
	struct portmap_method *m = &pm->m[PORTMAP_UPNP];
	bool was_mapped = m->st.mapped;

	switch (r->kind) {
	case PORTMAP_R_OK:
		snprintf(m->st.addr, sizeof(m->st.addr), "%s", r->addr);
		m->st.tcp = r->tcp;
		m->st.udp = r->udp;
		portmap_text_mapped(pm, PORTMAP_UPNP,
		    was_mapped ? LOG_DEBUG : LOG_INFO);
		m->renew_at = portmap_renew_at(now, PORTMAP_LEASE_S);
		if (!pm->upnp_deleting)
			portmap_set_phase(pm, PORTMAP_UPNP, PM_MAPPED);
		break;
	case PORTMAP_R_NONE:
	case PORTMAP_R_FAIL:
		m->st.mapped = false;
		m->st.tcp = m->st.udp = 0;
		if (r->kind == PORTMAP_R_NONE)
			portmap_text(pm, PORTMAP_UPNP, LOG_INFO, "%s",
			    _("no gateway"));
		else
			portmap_text(pm, PORTMAP_UPNP, LOG_WARN,
			    _("mapping refused: %s"), r->text);
		/* After "none" the child has exited; after "fail" nothing
		 * is mapped, so let it go too. */
		portmap_upnp_close(pm);
		portmap_set_phase(pm, PORTMAP_UPNP,
		    pm->stopping ? PM_END : PM_IDLE);
		break;
	case PORTMAP_R_GONE:
		m->st.mapped = false;
		m->st.tcp = m->st.udp = 0;
		portmap_text(pm, PORTMAP_UPNP, LOG_INFO, _("mappings removed"));
		portmap_upnp_close(pm);
		portmap_set_phase(pm, PORTMAP_UPNP, PM_END);
		break;
	}
}

static void
portmap_upnp_read(struct portmap *pm, uint64_t now)
{
	struct portmap_result r;
	struct thr_error err;
	char *nl;
	size_t used;
	ssize_t n;

	while (pm->res_fd >= 0) {
		n = read(pm->res_fd, pm->line + pm->linelen,
		    sizeof(pm->line) - pm->linelen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* The child ended without a last word. */
			portmap_upnp_close(pm);
			if (pm->m[PORTMAP_UPNP].phase != PM_END &&
			    pm->m[PORTMAP_UPNP].phase != PM_IDLE) {
				pm->m[PORTMAP_UPNP].st.mapped = false;
				portmap_text(pm, PORTMAP_UPNP, LOG_WARN,
				    _("helper exited"));
				portmap_set_phase(pm, PORTMAP_UPNP,
				    pm->stopping ? PM_END : PM_IDLE);
			}
			return;
		}
		pm->linelen += (size_t)n;
		while (pm->res_fd >= 0 &&
		    (nl = memchr(pm->line, '\n', pm->linelen)) != NULL) {
			used = (size_t)(nl - pm->line) + 1;
			if (portmap_parse_line(pm->line, used - 1, &r,
			    &err) != 0) {
				portmap_text(pm, PORTMAP_UPNP, LOG_WARN,
				    _("bad helper line: %s"), err.msg);
				portmap_upnp_close(pm);
				portmap_set_phase(pm, PORTMAP_UPNP,
				    pm->stopping ? PM_END : PM_IDLE);
				return;
			}
			memmove(pm->line, pm->line + used, pm->linelen - used);
			pm->linelen -= used;
			portmap_upnp_result(pm, &r, now);
		}
		if (pm->linelen == sizeof(pm->line)) {
			portmap_text(pm, PORTMAP_UPNP, LOG_WARN,
			    _("helper line too long"));
			portmap_upnp_close(pm);
			portmap_set_phase(pm, PORTMAP_UPNP,
			    pm->stopping ? PM_END : PM_IDLE);
			return;
		}
	}
}

static void
portmap_upnp_event(struct loop *l, int fd, int events, void *ud)
{
	(void)l;
	(void)fd;
	(void)events;
	portmap_upnp_read(ud, loop_now_ms());
}

static void
portmap_upnp_pump(struct portmap *pm, uint64_t now)
{
	struct portmap_method *m = &pm->m[PORTMAP_UPNP];

	portmap_upnp_reap(pm);
	if (pm->res_fd >= 0)
		portmap_upnp_read(pm, now);
	switch (m->phase) {
	case PM_ASK:
		if (now >= m->deadline ||
		    (pm->stopping && now >= pm->stop_deadline)) {
			if (!pm->stopping)
				portmap_text(pm, PORTMAP_UPNP, LOG_WARN,
				    _("no answer from the helper"));
			portmap_upnp_close(pm);
			m->st.mapped = false;
			portmap_set_phase(pm, PORTMAP_UPNP,
			    pm->stopping ? PM_END : PM_IDLE);
		}
		break;
	case PM_MAPPED:
		if (now >= m->renew_at)
			portmap_upnp_command(pm, 'r', now,
			    PORTMAP_UPNP_WAIT_MS);
		break;
	default:
		break;
	}
}

/*
 * NAT-PMP.
 */

static void
portmap_wake(struct loop *l, long id, void *ud)
{
	struct portmap *pm = ud;

	(void)l;
	(void)id;
	pm->wake_id = 0;
	portmap_natpmp_step(pm, loop_now_ms());
}

/* Have the loop wake us at `at` at the latest. */
static void
portmap_wake_at(struct portmap *pm, uint64_t now, uint64_t at)
{
	long id;

	if (pm->wake_id > 0 && pm->wake_at <= at)
		return;
	loop_del_timer(pm->l, pm->wake_id);
	pm->wake_id = 0;
	id = loop_add_timer(pm->l, at > now ? at - now : 0, portmap_wake, pm);
	if (id > 0) {
		pm->wake_id = id;
		pm->wake_at = at;
	}
}

static void
portmap_natpmp_close(struct portmap *pm)
{
	if (!pm->np_open)
		return;
	loop_del_fd(pm->l, pm->np.s);
	closenatpmp(&pm->np);
	pm->np_open = false;
	loop_del_timer(pm->l, pm->wake_id);
	pm->wake_id = 0;
}

/* Send the request of phase p; false if it could not be sent. */
static bool
portmap_natpmp_send(struct portmap *pm, enum portmap_phase p, uint64_t now)
{
	struct portmap_method *m = &pm->m[PORTMAP_NATPMP];
	int r;

	switch (p) {
	case PM_ADDR:
		r = sendpublicaddressrequest(&pm->np);
		break;
	case PM_TCP:
		r = sendnewportmappingrequest(&pm->np, NATPMP_PROTOCOL_TCP,
		    pm->tcp_port, pm->tcp_port, PORTMAP_LEASE_S);
		break;
	case PM_UDP:
		r = sendnewportmappingrequest(&pm->np, NATPMP_PROTOCOL_UDP,
		    pm->udp_port, pm->udp_port, PORTMAP_LEASE_S);
		break;
	case PM_DEL_TCP:
		/* RFC 6886 3.4: lifetime 0 and public port 0 remove. */
		r = sendnewportmappingrequest(&pm->np, NATPMP_PROTOCOL_TCP,
		    pm->tcp_port, 0, 0);
		break;
	case PM_DEL_UDP:
		r = sendnewportmappingrequest(&pm->np, NATPMP_PROTOCOL_UDP,
		    pm->udp_port, 0, 0);
		break;
	default:
		return false;
	}
	if (r < 0)
		return false;
	if (p == PM_DEL_TCP || p == PM_DEL_UDP)
		m->deadline = pm->stop_deadline;
	else
		m->deadline = now + PORTMAP_NATPMP_WAIT_MS;
	portmap_set_phase(pm, PORTMAP_NATPMP, p);
	return true;
}

/* Move on from phase p (answered, refused or timed out). */
static void
portmap_natpmp_next(struct portmap *pm, enum portmap_phase p, uint64_t now)
{
	struct portmap_method *m = &pm->m[PORTMAP_NATPMP];
	bool first = !m->st.mapped;
	uint32_t life;

	switch (p) {
	case PM_ADDR:
		if (portmap_natpmp_send(pm, PM_TCP, now))
			return;
		break;
	case PM_TCP:
		if (pm->udp_port != 0 && portmap_natpmp_send(pm, PM_UDP, now))
			return;
		/* FALLTHROUGH */
	case PM_UDP:
		if (m->st.tcp == 0 && m->st.udp == 0) {
			m->st.mapped = false;
			portmap_text(pm, PORTMAP_NATPMP, LOG_WARN,
			    _("the gateway mapped no port"));
			portmap_natpmp_close(pm);
			portmap_set_phase(pm, PORTMAP_NATPMP, PM_IDLE);
			return;
		}
		portmap_text_mapped(pm, PORTMAP_NATPMP,
		    first ? LOG_INFO : LOG_DEBUG);
		life = PORTMAP_LEASE_S;
		if (m->st.tcp != 0 && pm->np_life_tcp < life)
			life = pm->np_life_tcp;
		if (m->st.udp != 0 && pm->np_life_udp < life)
			life = pm->np_life_udp;
		m->renew_at = portmap_renew_at(now, life);
		portmap_set_phase(pm, PORTMAP_NATPMP, PM_MAPPED);
		return;
	case PM_DEL_TCP:
		if (pm->udp_port != 0 &&
		    portmap_natpmp_send(pm, PM_DEL_UDP, now))
			return;
		/* FALLTHROUGH */
	case PM_DEL_UDP:
		m->st.mapped = false;
		m->st.tcp = m->st.udp = 0;
		portmap_text(pm, PORTMAP_NATPMP, LOG_INFO, "%s",
		    _("mappings removed"));
		break;
	default:
		break;
	}
	portmap_natpmp_close(pm);
	portmap_set_phase(pm, PORTMAP_NATPMP, pm->stopping ? PM_END : PM_IDLE);
}

static int
portmap_natpmp_resptype(enum portmap_phase p)
{
	switch (p) {
	case PM_ADDR:
		return NATPMP_RESPTYPE_PUBLICADDRESS;
	case PM_TCP:
	case PM_DEL_TCP:
		return NATPMP_RESPTYPE_TCPPORTMAPPING;
	default:
		return NATPMP_RESPTYPE_UDPPORTMAPPING;
	}
}

static bool
portmap_natpmp_pending(enum portmap_phase p)
{
	return p == PM_ADDR || p == PM_TCP || p == PM_UDP || p == PM_DEL_TCP ||
	    p == PM_DEL_UDP;
}

static void
portmap_natpmp_step(struct portmap *pm, uint64_t now)
{
	struct portmap_method *m = &pm->m[PORTMAP_NATPMP];
	struct portmap_status *st = &m->st;
	enum portmap_phase p = m->phase;
	natpmpresp_t resp;
	struct timeval tv;
	char a[INET_ADDRSTRLEN];
	int r;

	if (!pm->np_open)
		return;
	if (p == PM_MAPPED) {
		if (now >= m->renew_at && !portmap_natpmp_send(pm, PM_TCP,
		    now))
			portmap_natpmp_next(pm, PM_TCP, now);
		if (!portmap_natpmp_pending(m->phase))
			return;
		p = m->phase;
	}
	if (!portmap_natpmp_pending(p))
		return;
	memset(&resp, 0, sizeof(resp));
	r = readnatpmpresponseorretry(&pm->np, &resp);
	if (r == NATPMP_TRYAGAIN) {
		if (now >= m->deadline) {
			if (p == PM_ADDR) {
				portmap_text(pm, PORTMAP_NATPMP, LOG_INFO,
				    _("no gateway"));
				portmap_natpmp_close(pm);
				portmap_set_phase(pm, PORTMAP_NATPMP,
				    pm->stopping ? PM_END : PM_IDLE);
				return;
			}
			if (pm->log != NULL)
				log_msg(pm->log, LOG_DEBUG, "NAT-PMP: no "
				    "answer in phase %s",
				    portmap_phase_names[p]);
			portmap_natpmp_next(pm, p, now);
			return;
		}
		if (getnatpmprequesttimeout(&pm->np, &tv) == 0 &&
		    tv.tv_sec >= 0) {
			uint64_t ms = (uint64_t)tv.tv_sec * 1000 +
			    (uint64_t)tv.tv_usec / 1000 + 1;
			uint64_t at = now + ms;

			portmap_wake_at(pm, now, at < m->deadline ? at :
			    m->deadline);
		} else
			portmap_wake_at(pm, now, m->deadline);
		return;
	}
	if (r < 0) {
		if (p == PM_ADDR) {
			portmap_text(pm, PORTMAP_NATPMP, LOG_INFO,
			    _("no gateway (%d)"), r);
			portmap_natpmp_close(pm);
			portmap_set_phase(pm, PORTMAP_NATPMP,
			    pm->stopping ? PM_END : PM_IDLE);
			return;
		}
		if (p == PM_TCP)
			st->tcp = 0;
		else if (p == PM_UDP)
			st->udp = 0;
		if (pm->log != NULL)
			log_msg(pm->log, LOG_DEBUG, "NAT-PMP: error %d in "
			    "phase %s", r, portmap_phase_names[p]);
		portmap_natpmp_next(pm, p, now);
		return;
	}
	if (resp.type != portmap_natpmp_resptype(p)) {
		/* A late answer to an earlier request (a retransmission was
		 * answered twice): ask again for what we are waiting for. */
		if (!portmap_natpmp_send(pm, p, now))
			portmap_natpmp_next(pm, p, now);
		return;
	}
	switch (p) {
	case PM_ADDR:
		if (inet_ntop(AF_INET, &resp.pnu.publicaddress.addr, a,
		    sizeof(a)) != NULL)
			snprintf(st->addr, sizeof(st->addr), "%s", a);
		break;
	case PM_TCP:
		st->tcp = resp.pnu.newportmapping.lifetime != 0 ?
		    resp.pnu.newportmapping.mappedpublicport : 0;
		pm->np_life_tcp = resp.pnu.newportmapping.lifetime;
		break;
	case PM_UDP:
		st->udp = resp.pnu.newportmapping.lifetime != 0 ?
		    resp.pnu.newportmapping.mappedpublicport : 0;
		pm->np_life_udp = resp.pnu.newportmapping.lifetime;
		break;
	default:
		break;
	}
	portmap_natpmp_next(pm, p, now);
}

static void
portmap_natpmp_event(struct loop *l, int fd, int events, void *ud)
{
	(void)l;
	(void)fd;
	(void)events;
	portmap_natpmp_step(ud, loop_now_ms());
}

static void
portmap_natpmp_start(struct portmap *pm, uint64_t now)
{
	int r;

	r = initnatpmp(&pm->np, 0, 0);
	if (r < 0) {
		portmap_text(pm, PORTMAP_NATPMP, LOG_INFO, _("no gateway%s"),
		    r == NATPMP_ERR_CANNOTGETGATEWAY ?
		    _(" (no default route)") : "");
		portmap_set_phase(pm, PORTMAP_NATPMP, PM_IDLE);
		return;
	}
	pm->np_open = true;
	if (loop_add_fd(pm->l, pm->np.s, LOOP_READ, portmap_natpmp_event,
	    pm) != 0) {
		closenatpmp(&pm->np);
		pm->np_open = false;
		portmap_text(pm, PORTMAP_NATPMP, LOG_WARN,
		    _("too many files open"));
		portmap_set_phase(pm, PORTMAP_NATPMP, PM_IDLE);
		return;
	}
	snprintf(pm->m[PORTMAP_NATPMP].st.text, PORTMAP_TEXT_MAX, "NAT-PMP: %s",
	    _("looking for a gateway"));
	if (!portmap_natpmp_send(pm, PM_ADDR, now)) {
		portmap_text(pm, PORTMAP_NATPMP, LOG_INFO, _("no gateway"));
		portmap_natpmp_close(pm);
		portmap_set_phase(pm, PORTMAP_NATPMP, PM_IDLE);
		return;
	}
	portmap_wake_at(pm, now, now + 260);
}

/*
 * Life cycle.
 */

struct portmap *
portmap_new(struct loop *l, uint16_t tcp_port, uint16_t udp_port, bool upnp,
    bool natpmp, struct log *log)
{
	struct portmap *pm;
	uint64_t now = loop_now_ms();
	int k;

	pm = calloc(1, sizeof(*pm));
	if (pm == NULL)
		return NULL;
	pm->l = l;
	pm->log = log;
	pm->tcp_port = tcp_port;
	pm->udp_port = udp_port;
	pm->cmd_fd = pm->res_fd = -1;
	for (k = 0; k < PORTMAP_NKINDS; k++) {
		pm->m[k].phase = PM_OFF;
		snprintf(pm->m[k].st.text, PORTMAP_TEXT_MAX, "%s: %s",
		    portmap_kind_names[k], _("off"));
	}
	if (upnp) {
		pm->m[PORTMAP_UPNP].st.enabled = true;
		portmap_upnp_start(pm, now);
		if (pm->res_fd >= 0 && loop_add_fd(l, pm->res_fd, LOOP_READ,
		    portmap_upnp_event, pm) != 0) {
			portmap_text(pm, PORTMAP_UPNP, LOG_WARN,
			    _("too many files open"));
			portmap_upnp_close(pm);
			portmap_set_phase(pm, PORTMAP_UPNP, PM_IDLE);
		}
	}
	if (natpmp) {
		pm->m[PORTMAP_NATPMP].st.enabled = true;
		portmap_natpmp_start(pm, now);
	}
	return pm;
}

void
portmap_pump(struct portmap *pm, uint64_t now_ms)
{
	struct portmap_method *m = &pm->m[PORTMAP_NATPMP];

	portmap_upnp_pump(pm, now_ms);
	portmap_natpmp_step(pm, now_ms);
	/* A removal still unanswered at the stop deadline is given up. */
	if (pm->stopping && now_ms >= pm->stop_deadline &&
	    portmap_natpmp_pending(m->phase)) {
		portmap_natpmp_close(pm);
		portmap_set_phase(pm, PORTMAP_NATPMP, PM_END);
	}
}

void
portmap_stop(struct portmap *pm, uint64_t now_ms)
{
	struct portmap_method *u = &pm->m[PORTMAP_UPNP];
	struct portmap_method *n = &pm->m[PORTMAP_NATPMP];

	if (pm->stopping)
		return;
	pm->stopping = true;
	pm->stop_deadline = now_ms + PORTMAP_STOP_MS;

	if (u->phase == PM_MAPPED || (u->phase == PM_ASK &&
	    pm->cmd_fd >= 0)) {
		/* While a command is pending, 'd' waits in the pipe. */
		pm->upnp_deleting = true;
		portmap_upnp_command(pm, 'd', now_ms, PORTMAP_STOP_MS);
	} else if (u->phase != PM_OFF)
		portmap_set_phase(pm, PORTMAP_UPNP, PM_END);

	/* A mapping asked for may be granted as we leave: remove it too. */
	if (n->phase == PM_MAPPED || n->phase == PM_TCP || n->phase == PM_UDP) {
		if (!portmap_natpmp_send(pm, PM_DEL_TCP, now_ms))
			portmap_natpmp_next(pm, PM_DEL_TCP, now_ms);
	} else if (n->phase != PM_OFF) {
		portmap_natpmp_close(pm);
		portmap_set_phase(pm, PORTMAP_NATPMP, PM_END);
	}
}

bool
portmap_done(const struct portmap *pm)
{
	int k;

	if (!pm->stopping)
		return false;
	for (k = 0; k < PORTMAP_NKINDS; k++)
		if (pm->m[k].phase != PM_OFF && pm->m[k].phase != PM_END)
			return false;
	return true;
}

const struct portmap_status *
portmap_status(const struct portmap *pm, enum portmap_kind k)
{
	if ((int)k < 0 || k >= PORTMAP_NKINDS)
		k = PORTMAP_UPNP;
	return &pm->m[k].st;
}

void
portmap_free(struct portmap *pm)
{
	int st;

	if (pm == NULL)
		return;
	portmap_natpmp_close(pm);
	loop_del_timer(pm->l, pm->wake_id);
	portmap_upnp_close(pm);
	if (pm->pid > 0) {
		portmap_upnp_reap(pm);
		if (pm->pid > 0 && !pm->upnp_deleting &&
		    pm->m[PORTMAP_UPNP].phase == PM_MAPPED) {
			/* Not stopped: the child saw EOF and removes the
			 * mappings on its own; let it, it exits after. */
		} else if (pm->pid > 0) {
			kill(pm->pid, SIGTERM);
			waitpid(pm->pid, &st, 0);
		}
	}
	free(pm);
}
