/*
 * run.c: "thorrent [OPTIONS] FILE.torrent": download, then seed.
 *
 * This file is the glue between the state (core/state.h) and the world:
 * it owns the select() loop, the listening socket, peer sockets, the
 * libcurl multi handle for trackers and the signal self-pipe.  Each loop
 * iteration it pumps every peer (fill and flush buffers), reaps dead
 * ones, starts new connections and announces when due.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/help.h"
#include "core/conffile.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "core/state.h"
#include "core/webseed.h"
#include "net/conn.h"
#include "net/http.h"
#include "net/loop.h"
#include "net/lsdsock.h"
#include "net/portmap.h"
#include "net/udpmux.h"
#include "ui/bar.h"
#include "ui/view.h"

#define RUN_STOP_GRACE_MS	3000	/* wait for the "stopped" announce */
#define RUN_CONNECTS_PER_ITER	8
#define RUN_READ_BUDGET		(1u << 20)	/* per peer per wakeup */
#define RUN_SEND_ROUNDS		8	/* upload rounds per wakeup */
#define RUN_URL_MAX		8192
#define RUN_ACCEPT_PAUSE_MS	1000	/* after EMFILE on accept */
#define RUN_DRAW_MIN_MS		100	/* at most 10 redraws a second */
#define RUN_DRAW_IDLE_MS	1000	/* rates change: redraw anyway */

#define RUN_WEB_RETRY_MS	30000	/* a closed web seed comes back */

/* The one global: the write end of the signal self-pipe (STYLE.md). */
static int run_sigfd = -1;

struct run;

/* One HTTP range request of a web seed; the callback's user data. */
struct run_webreq {
	struct run	*r;
	struct run_web	*slot;
	long		 id;		/* http request, 0 when free */
	uint32_t	 job;		/* the engine's job id */
};

/* A web seed (BEP 19): the engine, owned here, and the pseudo-peer
 * that carries it, named by id (the state may drop it any time). */
struct run_web {
	struct webseed		*ws;		/* owned, NULL when closed */
	uint32_t		 peer_id;
	uint64_t		 retry_ms;	/* when to open it again */
	bool			 named;		/* client set to "web seed" */
	bool			 banned;	/* sent bad data: never again */
	struct run_webreq	 reqs[WEBSEED_MAX_SPANS];
};

struct run {
	struct thr_state	 st;
	struct loop		*loop;		/* owned, large */
	struct http		*http;
	struct udpmux		*udp;		/* NULL without UDP */
	struct portmap		*pm;		/* UPnP / NAT-PMP */
	struct lsdsock		*lsd;		/* BEP 14; NULL when off */
	long			 tracker_req;
	int			 lfd;
	int			 lfd6;		/* IPv6 listener, -1 if none */
	int			 sigpipe[2];
	struct buf		 url;
	struct view		*view;		/* NULL in line mode */
	bool			 redraw;
	uint64_t		 listen_resume_ms;	/* out of fds: pause */
	uint64_t		 last_draw_ms, drawn_changes, drawn_logs;
	uint32_t		 fd_peer[FD_SETSIZE];	/* fd -> peer id */
	uint64_t		 next_tick_ms;
	bool			 progress;
	bool			 quitting;
	uint64_t		 quit_deadline;
	int			 exit_code;
	char			 exit_msg[256];
	struct run_web		 web[METAINFO_MAX_WEBSEEDS];
};

static void
on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	if (run_sigfd >= 0)
		(void)!write(run_sigfd, &c, 1);
	errno = saved;
}

/*
 * The line mode's progress line, once a second on stderr.  Sizes, rates
 * and the ETA are formatted as the view's header formats them, and the
 * bytes are those of the selected files (--files, the files pane): a
 * partial selection must not count what it leaves out as downloaded.
 */
static void
print_progress(struct run *r, uint64_t now)
{
	struct thr_state *s = &r->st;
	char done[32], total[32], down[32], up[32], eta[48], t[32];
	uint64_t dr = rate_get(&s->down, now), ur = rate_get(&s->up, now);
	size_t active = 0;

	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i]->phase == PEER_ACTIVE)
			active++;
	bar_human_bytes(s->wanted_total - s->left, done, sizeof(done));
	bar_human_bytes(s->wanted_total, total, sizeof(total));
	bar_human_rate(dr, down, sizeof(down));
	bar_human_rate(ur, up, sizeof(up));
	if (s->phase == STATE_CHECKING)
		snprintf(eta, sizeof(eta), _("checking %u/%u"), s->check_next,
		    s->mi.npieces);
	else if (s->phase == STATE_METADATA)
		snprintf(eta, sizeof(eta), "%s", _("fetching metadata"));
	else if (s->left == 0)
		snprintf(eta, sizeof(eta), "%s", _("seeding"));
	else {
		bar_human_eta(dr == 0 ? UINT64_MAX : (s->left + dr - 1) / dr,
		    t, sizeof(t));
		snprintf(eta, sizeof(eta), _("eta %s"), t);
	}
	fprintf(stderr, _("thorrent: %5.1f%% %s/%s  down %s  up %s  "
	    "peers %zu  %s\n"), state_percent(s), done, total, down, up,
	    active, eta);
}

/*
 * The last line of a run that ended well, in either mode: the data this
 * run fetched and verified (duplicates of the endgame and failed pieces
 * not counted), how long that took and how fast on average, what went
 * out, why seeding stopped when the ratio ended it (the view is gone by
 * then), and how many files the user left out, so that "complete" never
 * claims them.
 */
static void
print_final(struct run *r)
{
	struct thr_state *s = &r->st;
	char got[32], sent[32], took[32], avg[32], what[96], in[160];
	char out[160];
	size_t skipped = state_skipped_files(s);
	uint64_t ms = s->last_block_ms > s->start_ms ?
	    s->last_block_ms - s->start_ms : 0;

	if (skipped > 0)
		snprintf(what, sizeof(what), ngettext("complete (%zu file "
		    "skipped)", "complete (%zu files skipped)", skipped),
		    skipped);
	else
		snprintf(what, sizeof(what), "%s", _("complete"));
	bar_human_bytes(s->verified, got, sizeof(got));
	bar_human_bytes(s->uploaded, sent, sizeof(sent));
	/* Seconds with a decimal under a minute: a loopback download
	 * takes less than one, and "0:00" would say nothing. */
	if (ms < 60000)
		snprintf(took, sizeof(took), _("%.1f s"), (double)ms / 1000);
	else
		bar_human_eta(ms / 1000, took, sizeof(took));
	bar_human_rate(ms > 0 ? s->verified * 1000 / ms : 0, avg,
	    sizeof(avg));
	if (s->verified == 0)
		snprintf(in, sizeof(in), "%s", _("nothing to download"));
	else
		snprintf(in, sizeof(in), _("%s in %s, average %s"), got, took,
		    avg);
	if (s->phase == STATE_DONE && s->opts.seed_ratio > 0)
		snprintf(out, sizeof(out), _("uploaded %s, seeding stopped "
		    "at ratio %.2f (--seed-ratio %g)"), sent,
		    s->mi.total_length > 0 ? (double)s->uploaded /
		    (double)s->mi.total_length : 0.0, s->opts.seed_ratio);
	else
		snprintf(out, sizeof(out), _("uploaded %s"), sent);
	fprintf(stderr, "thorrent: %s: %s; %s\n", what, in, out);
}

/* --- peers ------------------------------------------------------------ */

static void	peer_event(struct loop *, int, int, void *);
static void	draw(struct run *, uint64_t);

static void
close_peer(struct run *r, struct peer *p)
{
	char a[ADDR_STR_MAX];
	uint32_t id = p->id;

	addr_format(&p->addr, a, sizeof(a));
	if (p->phase == PEER_CONNECTING && !p->incoming) {
		if (p->transport == PEER_UTP)	/* TCP next, with both */
			state_utp_failed(&r->st, &p->addr, loop_now_ms());
		else
			state_connect_failed(&r->st, &p->addr, loop_now_ms());
	}
	udpmux_utp_release(r->udp, p);
	/* Closed before the handshake is routine (dead addresses), except
	 * a refusal by the --encryption policy, which the user asked for. */
	log_msg(&r->st.log, p->phase == PEER_ACTIVE ||
	    strstr(p->why, "encryption") != NULL ? LOG_INFO : LOG_DEBUG,
	    _("peer %s closed: %s"), a, p->why[0] ? p->why : _("closed"));
	if (p->fd >= 0) {
		loop_del_fd(r->loop, p->fd);
		r->fd_peer[p->fd] = 0;
		close(p->fd);
		p->fd = -1;
	}
	state_peer_remove(&r->st, id);
}

/* Move what the session queued for p to its socket. */
static void
flush_peer(struct run *r, struct peer *p, uint64_t now)
{
	char why[96];
	ssize_t n;

	if (p->phase == PEER_CONNECTING || p->dead ||
	    p->transport != PEER_TCP)	/* web_pump, udpmux move theirs */
		return;
	if (p->out.len > 0) {
		state_peer_outgoing(&r->st, p);
		n = conn_write(p->fd, &p->out, why, sizeof(why));
		if (n < 0) {
			peer_kill(p, why);
			return;
		}
		state_peer_sent(&r->st, p, (size_t)n, now);
	}
	/* Under a download limit, stop watching for input until the
	 * bucket refills, or select() would wake us for nothing. */
	loop_set_mask(r->loop, p->fd,
	    (bucket_ready(&r->st.down_limit, now) ? LOOP_READ : 0) |
	    (p->out.len > 0 ? LOOP_WRITE : 0));
}

/*
 * The upload: the session hands out blocks in turn (state_upload shares
 * the limit and the pass among the peers), then every peer's buffer goes
 * to its socket or uTP connection.  While blocks keep moving and the
 * sockets keep taking them, a few rounds per pass, so that a peer on a
 * fast link is not held to one buffer per wakeup.
 */
static void
send_all(struct run *r, uint64_t now)
{
	for (int round = 0; round < RUN_SEND_ROUNDS; round++) {
		size_t moved = state_upload(&r->st, now);

		for (size_t i = 0; i < r->st.npeers; i++)
			flush_peer(r, r->st.peers[i], now);
		udpmux_utp_flush(r->udp, now);
		if (moved == 0)
			break;
	}
}

static void
peer_event(struct loop *l, int fd, int events, void *ud)
{
	struct run *r = ud;
	struct peer *p = state_peer_find(&r->st, r->fd_peer[fd]);
	uint64_t now = loop_now_ms();
	char why[96];

	(void)l;
	if (p == NULL) {
		loop_del_fd(r->loop, fd);
		close(fd);
		return;
	}
	if (p->phase == PEER_CONNECTING) {
		if (!(events & LOOP_WRITE))
			return;
		if (conn_connect_result(fd, why, sizeof(why)) != 0) {
			peer_kill(p, why);
			return;
		}
		state_peer_connected(&r->st, p, now);
	}
	if (events & LOOP_READ) {
		size_t got = 0;

		while (!p->dead && got < RUN_READ_BUDGET &&
		    bucket_ready(&r->st.down_limit, now)) {
			ssize_t n = conn_read(fd, &p->in, PEER_READ_CHUNK,
			    why, sizeof(why));
			if (n < 0) {
				/* Act on what arrived before the close. */
				state_peer_input(&r->st, p, now);
				peer_kill(p, why);
				break;
			}
			if (n == 0)
				break;
			got += (size_t)n;
			bucket_take(&r->st.down_limit, (uint64_t)n);
			state_peer_input(&r->st, p, now);
		}
	}
	flush_peer(r, p, now);
}

static void
listen_event(struct loop *l, int fd, int events, void *ud)
{
	struct run *r = ud;
	uint64_t now = loop_now_ms();

	(void)l;
	(void)events;
	for (int i = 0; i < 16; i++) {
		struct thr_addr a;
		struct peer *p;
		int cfd;

		int rc = conn_accept(fd, &cfd, &a);

		if (rc == THR_EIO && (errno == EMFILE || errno == ENFILE)) {
			/* Out of descriptors: the pending connection stays
			 * queued and would wake select() at once, forever.
			 * Stop listening for a second; peers already
			 * connected keep working. */
			log_msg(&r->st.log, LOG_WARN, _("cannot accept: %s; "
			    "refusing new connections for a while"),
			    strerror(errno));
			loop_set_mask(r->loop, fd, 0);
			r->listen_resume_ms = now + RUN_ACCEPT_PAUSE_MS;
			return;
		}
		if (rc != 1)
			return;
		if (cfd >= FD_SETSIZE || r->st.phase == STATE_CHECKING ||
		    r->st.opts.transport == STATE_TRANSPORT_UTP ||
		    r->st.paused ||
		    (p = state_peer_add(&r->st, &a, true, now)) == NULL) {
			close(cfd);	/* full: refuse cleanly */
			continue;
		}
		p->fd = cfd;
		r->fd_peer[cfd] = p->id;
		if (loop_add_fd(r->loop, cfd, LOOP_READ, peer_event, r) != 0)
			peer_kill(p, "cannot watch socket");
	}
}

static void
connect_more(struct run *r, uint64_t now)
{
	struct thr_addr a;

	for (int i = 0; i < RUN_CONNECTS_PER_ITER &&
	    state_next_connect(&r->st, now, &a); i++) {
		struct peer *p;
		int fd;

		if (udpmux_utp_reaches(r->udp, &a) &&
		    state_dial_utp(&r->st, &a)) {
			if ((p = state_peer_add_as(&r->st, &a, false,
			    PEER_SRC_COUNT, PEER_UTP, now)) == NULL) {
				state_connect_failed(&r->st, &a, now);
				break;
			}
			if (udpmux_utp_connect(r->udp, p) != 0)
				peer_kill(p, "too many uTP connections");
			continue;
		}
		if (r->st.opts.transport == STATE_TRANSPORT_UTP) {
			state_connect_failed(&r->st, &a, now);	/* no UDP */
			continue;
		}
		if (conn_connect(&a, r->st.opts.bind.family != 0 ?
		    &r->st.opts.bind : NULL, &fd) != 0) {
			state_connect_failed(&r->st, &a, now);
			continue;
		}
		if (fd >= FD_SETSIZE ||
		    (p = state_peer_add(&r->st, &a, false, now)) == NULL) {
			close(fd);
			state_connect_failed(&r->st, &a, now);
			break;
		}
		p->fd = fd;
		r->fd_peer[fd] = p->id;
		/* Known at once (connect bound it): how a connection to
		 * ourselves is recognised (state.h). */
		(void)conn_local(fd, &p->local);
		if (loop_add_fd(r->loop, fd, LOOP_WRITE, peer_event, r) != 0)
			peer_kill(p, "cannot watch socket");
	}
}

/* --- tracker ----------------------------------------------------------- */

static void
tracker_done(void *ud, int status, long code, const uint8_t *body,
    size_t len, const char *errmsg)
{
	struct run *r = ud;

	(void)code;
	r->tracker_req = 0;
	state_tracker_done(&r->st, status, body, len, errmsg, loop_now_ms());
}

static void
tracker_pump(struct run *r, uint64_t now)
{
	struct tracker_announce a;
	const char *base;
	long id;

	if (r->tracker_req != 0 || udpmux_busy(r->udp) ||
	    !state_tracker_next(&r->st, now, &a, &base))
		return;
	if (strncmp(base, "udp://", 6) == 0) {
		if (r->udp == NULL)
			state_tracker_result(&r->st, THR_EIO, NULL,
			    "no UDP socket", now);
		else
			udpmux_announce(r->udp, base, &a, now);
		return;
	}
	if (strncmp(base, "http://", 7) != 0 &&
	    strncmp(base, "https://", 8) != 0) {
		state_tracker_result(&r->st, THR_EINVAL, NULL,
		    "unsupported tracker URL scheme", now);
		return;
	}
	buf_reset(&r->url);
	if (tracker_build_url(base, &a, &r->url) != 0) {
		state_tracker_result(&r->st, THR_ELIMIT, NULL,
		    "announce URL too long", now);
		return;
	}
	log_msg(&r->st.log, LOG_DEBUG, "announce %s", (char *)r->url.data);
	id = http_get(r->http, (char *)r->url.data, TRACKER_MAX_BODY,
	    tracker_done, r);
	if (id < 0)
		state_tracker_done(&r->st, (int)id, NULL, 0,
		    "cannot start request", now);
	else
		r->tracker_req = id;
}

/* --- web seeds --------------------------------------------------------- */

/*
 * Each http(s) url-list entry i is a pseudo-peer at the address
 * 0.0.0.(i+1):(i+1), which nothing can dial, so the state's per-address
 * strikes and bans apply per seed.  Its bytes go between p->out / p->in
 * and the engine (core/webseed.h), the engine's jobs to libcurl.
 */
static void
web_addr(size_t i, struct thr_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->ip[3] = (uint8_t)(i + 1);
	a->port = (uint16_t)(i + 1);
}

static void
web_done(void *ud, int status, long code, const uint8_t *body, size_t len,
    const char *errmsg)
{
	struct run_webreq *q = ud;
	struct run_web *w = q->slot;
	uint64_t now = loop_now_ms();
	uint32_t fails;

	q->id = 0;
	if (w->ws == NULL)
		return;
	fails = webseed_failures(w->ws);
	webseed_fetch_done(w->ws, q->job, status, code, body, len, now);
	if (webseed_failures(w->ws) > fails)
		log_msg(&q->r->st.log, LOG_INFO, _("web seed %s: %s; retrying "
		    "in %llu s"), webseed_host(w->ws), status != 0 ? errmsg :
		    code != 206 && code != 200 ? _("unexpected status") :
		    _("wrong length"), (unsigned long long)
		    ((webseed_backoff_until(w->ws) - now) / 1000));
}

/* The engine's peer is gone: cancel its transfers, free it. */
static void
web_close(struct run *r, struct run_web *w, uint64_t now)
{
	for (int k = 0; k < WEBSEED_MAX_SPANS; k++)
		if (w->reqs[k].id != 0) {
			http_cancel(r->http, w->reqs[k].id);
			w->reqs[k].id = 0;
		}
	webseed_free(w->ws);
	w->ws = NULL;
	w->retry_ms = now + RUN_WEB_RETRY_MS;
}

static void
web_open(struct run *r, size_t i, uint64_t now)
{
	struct thr_state *s = &r->st;
	struct run_web *w = &r->web[i];
	struct thr_error err;
	struct thr_addr a;
	struct peer *p;

	web_addr(i, &a);
	if (state_banned(s, &a)) {
		w->banned = true;
		return;
	}
	if ((p = state_peer_add_as(s, &a, false, PEER_SRC_WEB, PEER_WEB,
	    now)) == NULL) {
		w->retry_ms = now + RUN_WEB_RETRY_MS;
		return;
	}
	memset(&err, 0, sizeof(err));
	if ((w->ws = webseed_new(&s->mi, s->mi.webseeds[i], (uint32_t)i, now,
	    &err)) == NULL) {
		peer_kill(p, err.msg);
		w->retry_ms = now + RUN_WEB_RETRY_MS;
		return;
	}
	for (int k = 0; k < WEBSEED_MAX_SPANS; k++) {
		w->reqs[k].r = r;
		w->reqs[k].slot = w;
		w->reqs[k].id = 0;
	}
	w->peer_id = p->id;
	w->named = false;
	p->transport = PEER_WEB;
	p->source = PEER_SRC_WEB;
	p->tp = w->ws;
	p->listen_port = 0;	/* nobody can dial it: keep it out of pex */
	state_peer_connected(s, p, now);
	log_msg(&s->log, LOG_INFO, _("web seed %s: using HTTP range requests"),
	    webseed_host(w->ws));
}

/* The session's bytes to the engine, the engine's jobs to libcurl. */
static void
web_to_engine(struct run *r, struct run_web *w, struct peer *p, uint64_t now)
{
	struct thr_state *s = &r->st;
	struct webseed_fetch job;
	size_t used = 0;

	if (p->out.len > 0) {
		state_peer_outgoing(s, p);
		if (webseed_input(w->ws, p->out.data, p->out.len, &used,
		    now) != 0)
			peer_kill(p, "web seed: cannot follow the session");
		buf_consume(&p->out, used);
		state_peer_sent(s, p, used, now);
	}
	for (int k = 0; k < WEBSEED_MAX_SPANS; k++) {
		long id;

		if (w->reqs[k].id != 0 || !webseed_next_fetch(w->ws, now, &job))
			continue;
		id = http_get_range(r->http, job.url, job.offset, job.length,
		    (size_t)job.length, web_done, &w->reqs[k]);
		if (id < 0) {
			webseed_fetch_done(w->ws, job.id, (int)id, 0, NULL, 0,
			    now);
			break;
		}
		w->reqs[k].id = id;
		w->reqs[k].job = job.id;
	}
}

/* Engine and session both ways.  The requests the session makes on
 * the new data go out in the same pass, not a loop wakeup later. */
static void
web_pump_one(struct run *r, struct run_web *w, struct peer *p, uint64_t now)
{
	struct thr_state *s = &r->st;
	size_t got = 0, n;

	webseed_tick(w->ws, now);
	web_to_engine(r, w, p, now);
	while (!p->dead && got < RUN_READ_BUDGET &&
	    webseed_pending(w->ws) > 0 && bucket_ready(&s->down_limit, now) &&
	    (n = webseed_read(w->ws, &p->in, PEER_READ_CHUNK)) > 0) {
		got += n;
		bucket_take(&s->down_limit, (uint64_t)n);
		state_peer_input(s, p, now);
	}
	if (!p->dead && got > 0)
		web_to_engine(r, w, p, now);
	if (p->phase == PEER_ACTIVE && !w->named) {
		snprintf(p->client, sizeof(p->client), "web seed");
		w->named = true;
	}
}

static void
web_pump(struct run *r, uint64_t now)
{
	struct thr_state *s = &r->st;

	if (!s->have_meta)
		return;
	for (size_t i = 0; i < s->mi.nwebseeds &&
	    i < METAINFO_MAX_WEBSEEDS; i++) {
		struct run_web *w = &r->web[i];
		struct peer *p = NULL;

		if (w->ws != NULL &&
		    (p = state_peer_find(s, w->peer_id)) == NULL) {
			struct thr_addr a;

			web_addr(i, &a);
			if (state_banned(s, &a)) {
				log_msg(&s->log, LOG_WARN, _("web seed %s "
				    "dropped: it sent bad data"),
				    webseed_host(w->ws));
				w->banned = true;
			}
			web_close(r, w, now);
		}
		if (w->ws != NULL && !p->dead)
			web_pump_one(r, w, p, now);
		else if (w->ws == NULL && !w->banned && !r->quitting &&
		    !s->paused && s->phase == STATE_DOWNLOADING &&
		    now >= w->retry_ms)
			web_open(r, i, now);
	}
}

/* At exit, after the peers are closed. */
static void
web_release(struct run *r)
{
	for (size_t i = 0; i < METAINFO_MAX_WEBSEEDS; i++)
		if (r->web[i].ws != NULL)
			web_close(r, &r->web[i], 0);
}

/* --- port mapping ------------------------------------------------------ */

/* Drive UPnP / NAT-PMP and copy their status where the view reads. */
static void
portmap_pump_status(struct run *r, uint64_t now)
{
	const struct portmap_status *u, *n;
	char buf[sizeof(r->st.portmap_status)];

	if (r->pm == NULL)
		return;
	portmap_pump(r->pm, now);
	u = portmap_status(r->pm, PORTMAP_UPNP);
	n = portmap_status(r->pm, PORTMAP_NATPMP);
	snprintf(buf, sizeof(buf), "%s%s%s", u->enabled ? u->text : "",
	    u->enabled && n->enabled ? "  " : "", n->enabled ? n->text : "");
	if (strcmp(buf, r->st.portmap_status) != 0) {
		memcpy(r->st.portmap_status, buf, sizeof(buf));
		r->st.changes++;
	}
}

/* --- the loop ---------------------------------------------------------- */

static void
begin_quit(struct run *r, uint64_t now)
{
	if (r->quitting)
		return;
	r->quitting = true;
	r->quit_deadline = now + RUN_STOP_GRACE_MS;
	if (r->tracker_req != 0) {
		http_cancel(r->http, r->tracker_req);
		r->tracker_req = 0;
	}
	udpmux_cancel(r->udp);
	if (r->pm != NULL)
		portmap_stop(r->pm, now);
	/* Only announce "stopped" to a tracker that knows us. */
	if (r->st.tracker_event != TRACKER_EVENT_STARTED)
		state_tracker_stop(&r->st);
	else
		r->st.tracker_phase = TRACKER_NONE;
}

static void
signal_event(struct loop *l, int fd, int events, void *ud)
{
	struct run *r = ud;
	unsigned char c;

	(void)l;
	(void)events;
	while (read(fd, &c, 1) == 1) {
		if (c == SIGWINCH) {
			if (r->view != NULL) {
				view_resize(r->view);
				r->redraw = true;
			}
			continue;
		}
		if (c == SIGCHLD)
			continue;	/* demo seeders: reaped by the demo */
		if (r->st.phase != STATE_DONE && !state_complete(&r->st)) {
			r->exit_code = CMD_EXIT_ERROR;
			snprintf(r->exit_msg, sizeof(r->exit_msg), "%s",
			    _("interrupted before the download completed"));
		}
		begin_quit(r, loop_now_ms());
	}
}

static void
before_sleep(struct loop *l, void *ud)
{
	struct run *r = ud;
	struct thr_state *s = &r->st;
	uint64_t now = loop_now_ms();

	(void)l;
	if (s->phase == STATE_CHECKING)
		state_check_step(s, now);
	if (now >= r->next_tick_ms) {
		state_tick(s, now);
		if (r->progress)
			print_progress(r, now);
		r->next_tick_ms = now + 1000;
	}
	web_pump(r, now);
	udpmux_utp_pump(r->udp, now);
	send_all(r, now);
	for (size_t i = 0; i < s->npeers; ) {
		struct peer *p = s->peers[i];
		if (p->dead)
			close_peer(r, p);	/* swaps the last one in */
		else
			i++;
	}
	if (s->fatal && !r->quitting) {
		r->exit_code = CMD_EXIT_ERROR;
		snprintf(r->exit_msg, sizeof(r->exit_msg), "%s",
		    s->fatal_msg);
		begin_quit(r, now);
	}
	state_settle(s, now);
	if (s->phase == STATE_DONE && !r->quitting)
		begin_quit(r, now);
	if (s->quit_requested && !r->quitting) {
		if (!state_complete(s)) {
			r->exit_code = CMD_EXIT_ERROR;
			snprintf(r->exit_msg, sizeof(r->exit_msg), "%s",
			    _("stopped before the download completed"));
		}
		begin_quit(r, now);
	}
	if (r->listen_resume_ms != 0 && now >= r->listen_resume_ms) {
		r->listen_resume_ms = 0;
		loop_set_mask(r->loop, r->lfd, LOOP_READ);
		if (r->lfd6 >= 0)
			loop_set_mask(r->loop, r->lfd6, LOOP_READ);
	}
	if (!r->quitting)
		connect_more(r, now);
	udpmux_pump(r->udp, now);
	if (!r->quitting)
		lsdsock_pump(r->lsd, now);
	portmap_pump_status(r, now);
	tracker_pump(r, now);
	draw(r, now);
	if (r->quitting && (now >= r->quit_deadline ||
	    (((s->tracker_phase == TRACKER_NONE && r->tracker_req == 0 &&
	    !udpmux_busy(r->udp)) ||
	    (s->tracker_phase == TRACKER_IDLE &&
	    s->tracker_event != TRACKER_EVENT_STOPPED)) &&
	    (r->pm == NULL || portmap_done(r->pm)))))
		loop_stop(r->loop);
}

static void
key_event(struct loop *l, int fd, int events, void *ud)
{
	struct run *r = ud;
	enum command_id id;
	bool dirty = false;

	(void)l;
	(void)fd;
	(void)events;
	id = view_keys(r->view, &dirty);
	if (dirty)
		r->redraw = true;
	if (id != COMMAND_NONE && command_changes_state(id)) {
		command_exec(&r->st, id, view_selected_file(r->view),
		    loop_now_ms());
		r->redraw = true;
	}
}

static void
draw(struct run *r, uint64_t now)
{
	struct thr_state *s = &r->st;

	if (r->view == NULL || now - r->last_draw_ms < RUN_DRAW_MIN_MS)
		return;
	if (!r->redraw && s->changes == r->drawn_changes &&
	    s->log.seq == r->drawn_logs &&
	    now - r->last_draw_ms < RUN_DRAW_IDLE_MS)
		return;
	view_draw(r->view, s, now);
	r->redraw = false;
	r->last_draw_ms = now;
	r->drawn_changes = s->changes;
	r->drawn_logs = s->log.seq;
}

static int
parse_ratio(const char *s, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || d != d || d > 1e9)
		return -1;
	*out = d;
	return 0;
}

static int
parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_port(const char *s, uint16_t *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int
setup_signals(struct run *r)
{
	struct sigaction sa;

	if (pipe2(r->sigpipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	run_sigfd = r->sigpipe[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

/*
 * A bad option: one line on stderr.  Values from the configuration file
 * name the file and line they came from ("where" is then "FILE:LINE: ")
 * and are an error (status 1) rather than bad usage of the command line.
 */
static int
run_opt_error(const char *where, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
run_opt_error(const char *where, int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "thorrent: %s", where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* An option getopt refused (':' missing value, '?' unknown), named as
 * the user typed it. */
static void
run_bad_option(int c, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char safe[128];

	escape_str(arg, strnlen(arg, 64), safe, sizeof(safe));
	if (c == ':')
		fprintf(stderr, _("thorrent: option '%s' needs a value\n"),
		    safe);
	else if (optopt != 0 && optopt != '?' && optopt < 128 &&
	    strncmp(arg, "--", 2) != 0)
		fprintf(stderr, _("thorrent: unknown option '-%c'\n"),
		    optopt);
	else
		fprintf(stderr, _("thorrent: unknown option '%s'\n"), safe);
}

/* Long options that make no sense in a configuration file. */
static bool
run_config_skips(const char *name)
{
	static const char *const skip[] = { "help", "version", "config",
	    "no-config", "file" };
	size_t i;

	for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcmp(name, skip[i]) == 0)
			return true;
	return false;
}

/*
 * Load the configuration file: path from --config, or the XDG default,
 * which may be missing.  The accepted keys are the long options
 * themselves, so an option added to longopts is at once a key.
 * Returns 0 or an exit status after printing one line.
 */
static int
run_config_load(const struct option *longopts, const char *given,
    struct conffile *cf, char *path, size_t pathlen)
{
	struct conffile_opt copts[64];
	struct thr_error err;
	size_t n = 0;
	int rc;

	memset(cf, 0, sizeof(*cf));
	for (; longopts->name != NULL; longopts++)
		if (!run_config_skips(longopts->name) &&
		    n < sizeof(copts) / sizeof(copts[0])) {
			copts[n].name = longopts->name;
			copts[n].has_arg = longopts->has_arg != no_argument;
			n++;
		}
	if (given != NULL)
		snprintf(path, pathlen, "%s", given);
	else if (!conffile_default_path(getenv("XDG_CONFIG_HOME"),
	    getenv("HOME"), path, pathlen))
		return 0;
	memset(&err, 0, sizeof(err));
	rc = conffile_load(cf, path, copts, n, &err);
	if (rc == THR_ENOENT && given == NULL)
		return 0;
	if (rc == 0)
		return 0;
	if (cf->err_line > 0)
		fprintf(stderr, "thorrent: %s:%u: %s\n", path, cf->err_line,
		    err.msg);
	else
		fprintf(stderr, "thorrent: %s: %s\n", path, err.msg);
	conffile_release(cf);
	return CMD_EXIT_ERROR;
}

/* The getopt value of a long option, by name. */
static int
run_opt_val(const struct option *longopts, const char *name)
{
	for (; longopts->name != NULL; longopts++)
		if (strcmp(longopts->name, name) == 0)
			return longopts->val;
	return '?';
}

int
cmd_view_choice(bool no_tui, bool say, bool *use_view)
{
	const char *term = getenv("TERM");
	char safe[64];

	*use_view = false;
	if (no_tui || !isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return 0;
	if (term != NULL)
		escape_str(term, strnlen(term, 256), safe, sizeof(safe));
	switch (view_term_check(term, STDOUT_FILENO)) {
	case VIEW_TERM_OK:
		*use_view = true;
		return 0;
	case VIEW_TERM_LIMITED:
		if (say && (term == NULL || *term == '\0'))
			fprintf(stderr, "thorrent: %s\n", _("TERM is not set: "
			    "plain progress lines instead of the full-screen "
			    "view"));
		else if (say)
			fprintf(stderr, _("thorrent: TERM=%s cannot move the "
			    "cursor: plain progress lines instead of the "
			    "full-screen view\n"), safe);
		return 0;
	case VIEW_TERM_UNKNOWN:
	default:
		fprintf(stderr, _("thorrent: unknown terminal TERM=%s; set "
		    "TERM to a known type (e.g. xterm-256color) or use "
		    "--no-tui\n"), safe);
		return CMD_EXIT_ERROR;
	}
}

/*
 * The run proper.  *cfp holds the configuration file; the options borrow
 * its text, so cmd_run releases it only after the run is over.
 */
static int
run_main(int argc, char **argv, struct conffile *cfp)
{
	enum { OPT_FILE = 256, OPT_PATH, OPT_LOG, OPT_PEER, OPT_PORT,
	    OPT_RATIO, OPT_NOTUI, OPT_VERSION, OPT_MAXUP, OPT_MAXDOWN,
	    OPT_MAXPEERS, OPT_SLOTS, OPT_STRATEGY, OPT_SEED, OPT_TRACE,
	    OPT_FILES, OPT_STATEDIR, OPT_NODHT, OPT_BOOTSTRAP, OPT_CRYPTO,
	    OPT_NOUPNP, OPT_NONATPMP, OPT_CONFIG, OPT_NOCONFIG,
	    OPT_NOLSD, OPT_TRANSPORT, OPT_BIND };
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, OPT_FILE },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "peer", required_argument, NULL, OPT_PEER },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "seed-ratio", required_argument, NULL, OPT_RATIO },
		{ "no-tui", no_argument, NULL, OPT_NOTUI },
		{ "max-up", required_argument, NULL, OPT_MAXUP },
		{ "max-down", required_argument, NULL, OPT_MAXDOWN },
		{ "max-peers", required_argument, NULL, OPT_MAXPEERS },
		{ "upload-slots", required_argument, NULL, OPT_SLOTS },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "files", required_argument, NULL, OPT_FILES },
		{ "state-dir", required_argument, NULL, OPT_STATEDIR },
		{ "no-dht", no_argument, NULL, OPT_NODHT },
		{ "encryption", required_argument, NULL, OPT_CRYPTO },
		{ "no-upnp", no_argument, NULL, OPT_NOUPNP },
		{ "no-natpmp", no_argument, NULL, OPT_NONATPMP },
		{ "no-lsd", no_argument, NULL, OPT_NOLSD },
		{ "transport", required_argument, NULL, OPT_TRANSPORT },
		{ "bind-address", required_argument, NULL, OPT_BIND },
		{ "dht-bootstrap", required_argument, NULL, OPT_BOOTSTRAP },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "no-config", no_argument, NULL, OPT_NOCONFIG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct state_opts o;
	struct thr_error err;
	struct run *r;
	const char *arg, *cfgpath = NULL, *where = "";
	char wherebuf[4200], cfgfile[4096] = "";
	size_t ci = 0;
	bool nocfg = false;
	int bad;
	const char *torrent = NULL;
	int c, lv, rc;
	bool seeded = false;
	bool no_lsd = false;	/* --no-lsd */
	bool use_view = false;
	char statedir[4096] = "";
	long n;
	uint64_t now;

	memset(&o, 0, sizeof(o));
	o.dir = ".";
	o.port = 6881;
	o.seed_ratio = 1.0;
	o.log_level = LOG_NOTE;
	o.max_peers = 80;
	/*
	 * A first pass finds --help, --version and which configuration file
	 * to read: help must work even when the file is broken.  Errors wait
	 * for the second pass.
	 */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			help_usage(stdout);
			return CMD_EXIT_OK;
		}
		if (c == OPT_VERSION) {
			help_version(stdout);
			return CMD_EXIT_OK;
		}
		if (c == OPT_CONFIG)
			cfgpath = optarg;
		else if (c == OPT_NOCONFIG)
			nocfg = true;
	}
	/* getopt stays quiet: it would name the program by its full path;
	 * run_bad_option says what was wrong instead. */
	if (!nocfg && (rc = run_config_load(longopts, cfgpath, cfp, cfgfile,
	    sizeof(cfgfile))) != 0)
		return rc;
	/*
	 * The configuration file's options come first, as if typed before
	 * the command line, so the command line overrides them (and
	 * repeatable ones such as --peer add up).
	 */
	optind = 0;
	for (;;) {
		if (ci < cfp->n) {
			c = run_opt_val(longopts, cfp->items[ci].name);
			arg = cfp->items[ci].value;
			snprintf(wherebuf, sizeof(wherebuf), "%s:%u: ",
			    cfgfile, cfp->items[ci].line);
			where = wherebuf;
			bad = CMD_EXIT_ERROR;
			ci++;
		} else {
			c = getopt_long(argc, argv, ":h", longopts, NULL);
			if (c == -1)
				break;
			arg = optarg;
			where = "";
			bad = CMD_EXIT_USAGE;
		}
		switch (c) {
		case OPT_FILE:
			torrent = arg;
			break;
		case OPT_PATH:
			o.dir = arg;
			break;
		case OPT_LOG:
			if ((lv = log_parse_level(arg)) < 0)
				return run_opt_error(where, bad,
				    _("unknown log level '%s' (use error, "
				    "warn, note, info or debug)"), arg);
			o.log_level = (enum log_level)lv;
			break;
		case OPT_PEER:
			if (o.ngiven == STATE_MAX_GIVEN)
				return run_opt_error(where, bad,
				    _("at most %d --peer options"),
				    STATE_MAX_GIVEN);
			if (addr_parse(arg, &o.given[o.ngiven]) != 0)
				return run_opt_error(where, bad,
				    _("--peer wants HOST:PORT with a "
				    "numeric address, not '%s'"), arg);
			o.ngiven++;
			break;
		case OPT_PORT:
			if (parse_port(arg, &o.port) != 0)
				return run_opt_error(where, bad,
				    _("--port wants a number from 0 to 65535"));
			break;
		case OPT_RATIO:
			if (parse_ratio(arg, &o.seed_ratio) != 0)
				return run_opt_error(where, bad,
				    _("--seed-ratio wants a number"));
			break;
		case OPT_NOTUI:
			o.no_tui = true;
			break;
		case OPT_MAXPEERS:
		case OPT_SLOTS:
			if (parse_count(arg, c == OPT_MAXPEERS ?
			    STATE_MAX_PEERS : 64, &n) != 0)
				return run_opt_error(where, bad,
				    _("%s wants a number from 1 to %d"),
				    c == OPT_MAXPEERS ? "--max-peers" :
				    "--upload-slots", c == OPT_MAXPEERS ?
				    STATE_MAX_PEERS : 64);
			if (c == OPT_MAXPEERS)
				o.max_peers = (int)n;
			else
				o.upload_slots = (int)n;
			break;
		case OPT_FILES:
			o.files = arg;
			break;
		case OPT_STATEDIR:
			o.state_dir = arg;
			break;
		case OPT_NODHT:
			o.no_dht = true;
			break;
		case OPT_NOUPNP:
			o.no_upnp = true;
			break;
		case OPT_NONATPMP:
			o.no_natpmp = true;
			break;
		case OPT_NOLSD:
			no_lsd = true;
			break;
		case OPT_TRANSPORT:
			if (strcmp(arg, "both") == 0)
				o.transport = STATE_TRANSPORT_BOTH;
			else if (strcmp(arg, "utp") == 0)
				o.transport = STATE_TRANSPORT_UTP;
			else if (strcmp(arg, "tcp") == 0)
				o.transport = STATE_TRANSPORT_TCP;
			else
				return run_opt_error(where, bad,
				    _("--transport is both, utp or tcp, "
				    "not '%s'"), arg);
			break;
		case OPT_BIND:
			if (addr_parse_ip(arg, &o.bind) != 0)
				return run_opt_error(where, bad,
				    _("--bind-address wants a numeric IPv4 or "
				    "IPv6 address, not '%s'"), arg);
			break;
		case OPT_CRYPTO:
			if (strcmp(arg, "prefer") == 0)
				o.crypto = STATE_CRYPTO_PREFER;
			else if (strcmp(arg, "full") == 0)
				o.crypto = STATE_CRYPTO_FULL;
			else if (strcmp(arg, "require") == 0)
				o.crypto = STATE_CRYPTO_REQUIRE;
			else if (strcmp(arg, "off") == 0)
				o.crypto = STATE_CRYPTO_OFF;
			else
				return run_opt_error(where, bad,
				    _("--encryption is prefer, full, "
				    "require or off, not '%s'"), arg);
			break;
		case OPT_BOOTSTRAP:
			if (o.nbootstrap == STATE_MAX_BOOTSTRAP)
				return run_opt_error(where, bad,
				    _("at most %d --dht-bootstrap options"),
				    STATE_MAX_BOOTSTRAP);
			o.bootstrap[o.nbootstrap++] = arg;
			break;
		case OPT_TRACE:
			o.trace_path = arg;
			break;
		case OPT_STRATEGY:
			if (picker_strategy_parse(arg, &o.strategy) != 0)
				return run_opt_error(where, bad,
				    _("--strategy is rarest, random or "
				    "sequential, not '%s'"), arg);
			break;
		case OPT_SEED: {
			char *end;
			errno = 0;
			o.seed = strtoull(arg, &end, 0);
			if (errno != 0 || end == arg || *end != '\0')
				return run_opt_error(where, bad,
				    _("--seed wants a number"));
			seeded = true;
			break;
		}
		case OPT_MAXUP:
		case OPT_MAXDOWN:
			if (bucket_parse_rate(arg, c == OPT_MAXUP ?
			    &o.max_up : &o.max_down) != 0)
				return run_opt_error(where, bad,
				    _("%s wants a rate such as 500K or 2M, "
				    "not '%s'"), c == OPT_MAXUP ? "--max-up" :
				    "--max-down", arg);
			break;
		case OPT_CONFIG:
		case OPT_NOCONFIG:
			break;	/* done in the first pass */
		case 'h':
			help_usage(stdout);
			return CMD_EXIT_OK;
		case OPT_VERSION:
			help_version(stdout);
			return CMD_EXIT_OK;
		default:
			run_bad_option(c, argv);
			fprintf(stderr, "%s\n", _("Try 'thorrent --help' for "
			    "the options."));
			return CMD_EXIT_USAGE;
		}
	}
	if (torrent == NULL && optind < argc)
		torrent = argv[optind++];
	if (torrent == NULL) {
		help_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (optind != argc) {
		char a[128], b[128];

		/* One run is one torrent: say so, not the whole help. */
		escape_str(torrent, strnlen(torrent, 64), a, sizeof(a));
		escape_str(argv[optind], strnlen(argv[optind], 64), b,
		    sizeof(b));
		fprintf(stderr, _("thorrent: one torrent at a time, not both "
		    "'%s' and '%s' (run one thorrent for each)\n"), a, b);
		fprintf(stderr, "%s\n", _("Try 'thorrent --help' for the "
		    "options."));
		return CMD_EXIT_USAGE;
	}
	o.torrent_path = torrent;
	/* The terminal first: an unknown one ends the run while nothing
	 * exists yet, and plain lines are chosen before any file is. */
	if ((rc = cmd_view_choice(o.no_tui, true, &use_view)) != 0)
		return rc;
	/* XDG base directories: $XDG_STATE_HOME/thorrent, by default
	 * ~/.local/state/thorrent. */
	if (o.state_dir == NULL) {
		const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");

		if (x != NULL && x[0] == '/')
			snprintf(statedir, sizeof(statedir), "%s/thorrent", x);
		else if (h != NULL && h[0] == '/')
			snprintf(statedir, sizeof(statedir),
			    "%s/.local/state/thorrent", h);
		if (statedir[0] != '\0')
			o.state_dir = statedir;
	}

	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->loop = malloc(sizeof(*r->loop))) == NULL) {
		fprintf(stderr, "thorrent: %s\n", _("out of memory"));
		free(r);
		return CMD_EXIT_ERROR;
	}
	now = loop_now_ms();
	/* --seed makes every random choice reproducible; by default the
	 * choices vary per run. */
	if (!seeded)
		o.seed = ((uint64_t)getpid() << 32) ^ now;
	memset(&err, 0, sizeof(err));
	if (state_init(&r->st, &o, now, &err) != 0) {
		size_t tlen = strlen(torrent);
		const char *msg = err.msg;
		char safe[256];

		/* A system error names the file itself: once is enough. */
		if (strncmp(msg, torrent, tlen) == 0 &&
		    strncmp(msg + tlen, ": ", 2) == 0)
			msg += tlen + 2;
		escape_str(torrent, tlen, safe, sizeof(safe));
		if (err.offset)
			fprintf(stderr, _("thorrent: %s: %s (at byte %zu)\n"),
			    safe, msg, err.offset);
		else
			fprintf(stderr, "thorrent: %s: %s\n", safe, msg);
		free(r->loop);
		free(r);
		return CMD_EXIT_ERROR;
	}
	loop_init(r->loop);
	buf_init(&r->url, RUN_URL_MAX);
	r->progress = true;
	r->exit_code = CMD_EXIT_OK;
	r->lfd = -1;
	r->lfd6 = -1;
	r->sigpipe[0] = r->sigpipe[1] = -1;
	rc = CMD_EXIT_ERROR;
	/* --bind-address: one listener, on that address; otherwise IPv4
	 * and, where the host has it, IPv6 on every address. */
	if (conn_listen(o.bind.family != 0 ? &o.bind : NULL, o.port, &r->lfd,
	    &r->st.port) != 0) {
		if (o.bind.family != 0) {
			char ip[ADDR_STR_MAX];

			addr_format_ip(&o.bind, ip, sizeof(ip));
			fprintf(stderr, _("thorrent: cannot listen on %s port "
			    "%u or the %d after it: %s\n"), ip, o.port,
			    CONN_PORT_TRIES, strerror(errno));
		} else
			fprintf(stderr, _("thorrent: cannot listen on port %u "
			    "or the %d after it: %s\n"), o.port,
			    CONN_PORT_TRIES, strerror(errno));
		goto out;
	}
	log_msg(&r->st.log, LOG_INFO, _("listening on port %u"), r->st.port);
	if (o.bind.family != 0) {
		char ip[ADDR_STR_MAX];

		addr_format_ip(&o.bind, ip, sizeof(ip));
		log_msg(&r->st.log, LOG_INFO, _("bound to %s: listening, "
		    "dialling and UDP from that address only"), ip);
	}
	if (cfgfile[0] != '\0' && cfp->n > 0)
		log_msg(&r->st.log, LOG_INFO, _("%zu options read from %s"),
		    cfp->n, cfgfile);
	if (o.bind.family == 0 && conn_listen6(r->st.port, &r->lfd6) != 0)
		log_msg(&r->st.log, LOG_INFO,
		    _("no IPv6 listener on port %u: %s"),
		    r->st.port, strerror(errno));
	/* UDP on the same port: the DHT and udp:// trackers.  Without it
	 * the run goes on over TCP alone. */
	if ((r->udp = udpmux_new(&r->st, r->loop, &err)) == NULL)
		log_msg(&r->st.log, LOG_WARN,
		    _("no UDP (DHT, udp:// trackers): %s"), err.msg);
	/* Ask the gateway to forward our ports; with no gateway this is
	 * a log line and nothing else. */
	if (!o.no_upnp || !o.no_natpmp)
		r->pm = portmap_new(r->loop, r->st.port,
		    r->udp != NULL ? r->st.port : 0, !o.no_upnp, !o.no_natpmp,
		    &r->st.log);
	/* Local Service Discovery (BEP 14): peers on the local link.
	 * Multicast leaves this host, so local test runs pass --no-lsd. */
	if (!no_lsd)
		r->lsd = lsdsock_new(&r->st, r->loop);
	else
		log_msg(&r->st.log, LOG_INFO, "%s", _("LSD off (--no-lsd)"));
	if (setup_signals(r) != 0 || (r->http = http_new(r->loop)) == NULL ||
	    http_set_local(r->http, &o.bind) != 0) {
		fprintf(stderr, "thorrent: %s\n", _("cannot set up the loop"));
		goto out;
	}
	/* The view needs a terminal on both ends that can address the
	 * cursor (cmd_view_choice); otherwise (pipes, files, TERM=dumb,
	 * --no-tui) one progress line a second goes to stderr. */
	if (use_view) {
		r->view = view_new(stdin, stdout, &err);
		if (r->view == NULL) {
			fprintf(stderr, "thorrent: %s\n", err.msg);
			goto out;
		}
		r->st.log.fp = NULL;
		r->progress = false;
		if (loop_add_fd(r->loop, STDIN_FILENO, LOOP_READ, key_event,
		    r) != 0) {
			fprintf(stderr, "thorrent: %s\n",
			    _("cannot watch the keyboard"));
			goto out;
		}
		r->redraw = true;
	}
	loop_add_fd(r->loop, r->lfd, LOOP_READ, listen_event, r);
	if (r->lfd6 >= 0)
		loop_add_fd(r->loop, r->lfd6, LOOP_READ, listen_event, r);
	loop_add_fd(r->loop, r->sigpipe[0], LOOP_READ, signal_event, r);
	loop_set_before_sleep(r->loop, before_sleep, r);
	while (!r->loop->stop) {
		/* While checking, do not sleep: check a slice per pass. */
		uint64_t wait = r->st.phase == STATE_CHECKING ? 0 : 200;
		uint64_t w;

		/* Wake when a rate-limit bucket refills. */
		if ((w = bucket_wait_ms(&r->st.down_limit, loop_now_ms())) &&
		    w < wait)
			wait = w;
		if ((w = bucket_wait_ms(&r->st.up_limit, loop_now_ms())) &&
		    w < wait)
			wait = w;
		/* uTP's retransmission and ack timers. */
		if ((w = udpmux_wait_ms(r->udp, loop_now_ms())) < wait)
			wait = w;
		if (loop_run_once(r->loop, wait) != 0)
			break;
	}
	if (r->exit_code == CMD_EXIT_OK && !state_complete(&r->st)) {
		r->exit_code = CMD_EXIT_ERROR;
		snprintf(r->exit_msg, sizeof(r->exit_msg), "%s",
		    _("stopped before the download completed"));
	}
	state_save_resume(&r->st);
	/* Give the terminal back before the last words. */
	view_free(r->view);
	r->view = NULL;
	r->st.log.fp = stderr;
	if (r->exit_code != CMD_EXIT_OK)
		fprintf(stderr, "thorrent: %s\n", r->exit_msg);
	else {
		/* The exact counts, for logs that are read by programs
		 * (thorrent swarm sums the seeders' uploads from them). */
		log_msg(&r->st.log, LOG_INFO, _("done: downloaded %llu bytes, "
		    "uploaded %llu bytes"),
		    (unsigned long long)r->st.downloaded,
		    (unsigned long long)r->st.uploaded);
		print_final(r);
	}
	rc = r->exit_code;
out:
	view_free(r->view);
	r->view = NULL;
	for (size_t i = r->st.npeers; i > 0; i--)
		close_peer(r, r->st.peers[i - 1]);
	web_release(r);
	udpmux_free(r->udp);
	r->udp = NULL;
	portmap_free(r->pm);
	r->pm = NULL;
	lsdsock_free(r->lsd);
	r->lsd = NULL;
	if (r->http != NULL)
		http_free(r->http);
	if (r->lfd >= 0)
		close(r->lfd);
	if (r->lfd6 >= 0)
		close(r->lfd6);
	run_sigfd = -1;
	signal(SIGCHLD, SIG_DFL);
	signal(SIGWINCH, SIG_DFL);
	if (r->sigpipe[0] >= 0) {
		close(r->sigpipe[0]);
		close(r->sigpipe[1]);
	}
	buf_release(&r->url);
	state_release(&r->st);
	free(r->loop);
	free(r);
	return rc;
}

int
cmd_run(int argc, char **argv)
{
	struct conffile cf;
	int rc;

	memset(&cf, 0, sizeof(cf));
	rc = run_main(argc, argv, &cf);
	conffile_release(&cf);
	return rc;
}
