/*
 * run.c: "thorrent [OPTIONS] FILE.torrent": download, then seed.
 *
 * The wiring of a run: the options (cmd/opts.h) make a session and its
 * torrent (core/session.h, core/torrent.h); the net layer carries the
 * peers (net/xport.h: TCP, uTP through net/udpmux.h, web seeds through
 * net/webnet.h), the trackers (net/announce.h), the local network
 * (net/lsdsock.h) and the gateway (net/portmap.h); the view or line mode
 * (ui/) shows it.  This file owns the select() loop, the signals, and
 * the decision to stop.
 */
#include "config.h"

#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "core/addr.h"
#include "core/escape.h"
#include "core/i18n.h"
#include "core/session.h"
#include "core/torrent.h"
#include "net/announce.h"
#include "net/conn.h"
#include "net/fileio.h"
#include "net/http.h"
#include "net/loop.h"
#include "net/lsdsock.h"
#include "net/portmap.h"
#include "net/storage.h"
#include "net/udpmux.h"
#include "net/webnet.h"
#include "net/xport.h"
#include "ui/line.h"
#include "ui/view.h"

#define RUN_STOP_GRACE_MS	3000	/* wait for the "stopped" announce */
#define RUN_CHECK_SLICE_MS	0	/* checking: no sleep between slices */

/* The one global: the write end of the signal self-pipe (STYLE.md). */
static int run_sigfd = -1;

struct run {
	struct run_opts		 o;
	struct session		*s;
	struct torrent		*t;
	struct loop		*loop;		/* owned, large */
	struct http		*http;
	struct xnet		*xn;
	struct udpmux		*udp;		/* NULL without UDP */
	struct announce		*ann;
	struct webnet		*web;
	struct portmap		*pm;		/* UPnP / NAT-PMP */
	struct lsdsock		*lsd;		/* BEP 14; NULL when off */
	struct fileio_trace	*trace;
	struct storage_place	 place;
	struct buf		 meta;		/* the .torrent's bytes */
	int			 lfd, lfd6;	/* listeners, -1 if none */
	int			 sigpipe[2];
	struct view		*view;		/* NULL in line mode */
	struct line		 line;
	bool			 lines;		/* line mode prints progress */
	bool			 redraw;
	uint64_t		 next_tick_ms;
	bool			 quitting;
	uint64_t		 quit_deadline;
	int			 exit_code;
	char			 exit_msg[256];
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

/* Key material for MSE: the system's generator (getrandom never fails
 * for a few bytes once the pool is up; /dev/urandom behind it). */
static void
run_secret(void *ctx, uint8_t *out, size_t n)
{
	size_t got = 0;

	(void)ctx;
	while (got < n) {
		ssize_t k = getrandom(out + got, n - got, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (got < n) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			while (got < n) {
				ssize_t k = read(fd, out + got, n - got);

				if (k <= 0)
					break;
				got += (size_t)k;
			}
			close(fd);
		}
	}
}

/* --- the quit decision ----------------------------------------------------- */

static void
run_quit(struct run *r, uint64_t now, const char *why)
{
	if (r->quitting)
		return;
	if (why != NULL && r->exit_code == CMD_EXIT_OK) {
		r->exit_code = CMD_EXIT_ERROR;
		snprintf(r->exit_msg, sizeof(r->exit_msg), "%s", why);
	}
	r->quitting = true;
	r->quit_deadline = now + RUN_STOP_GRACE_MS;
	xnet_stop_dialling(r->xn);
	announce_stop(r->ann);
	if (r->pm != NULL)
		portmap_stop(r->pm, now);
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
		run_quit(r, loop_now_ms(), r->t->phase != TORRENT_DONE &&
		    !torrent_complete(r->t) ? _("interrupted before the "
		    "download completed") : NULL);
	}
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
		command_exec(r->s, r->t, id, view_selected_file(r->view),
		    loop_now_ms());
		r->redraw = true;
	}
}

/* Drive UPnP / NAT-PMP and tell the session what they say. */
static void
run_portmap(struct run *r, uint64_t now)
{
	const struct portmap_status *u, *n;
	char buf[SESSION_STATUS_MAX];

	if (r->pm == NULL)
		return;
	portmap_pump(r->pm, now);
	u = portmap_status(r->pm, PORTMAP_UPNP);
	n = portmap_status(r->pm, PORTMAP_NATPMP);
	snprintf(buf, sizeof(buf), "%s%s%s", u->enabled ? u->text : "",
	    u->enabled && n->enabled ? "  " : "", n->enabled ? n->text : "");
	session_set_status(r->s, SESSION_STATUS_PORTMAP, buf);
}

/* Whether to stop now, and why. */
static void
run_settle(struct run *r, uint64_t now)
{
	struct torrent *t = r->t;

	if (t->fatal && !r->quitting)
		run_quit(r, now, t->fatal_msg);
	torrent_settle(t, now);
	if (t->phase == TORRENT_DONE)
		run_quit(r, now, NULL);
	if (r->s->quit_requested)
		run_quit(r, now, torrent_complete(t) ? NULL :
		    _("stopped before the download completed"));
	if (r->quitting && (now >= r->quit_deadline ||
	    (!announce_busy(r->ann) && (r->pm == NULL ||
	    portmap_done(r->pm)))))
		loop_stop(r->loop);
}

/*
 * One pass of the loop: the session's timers when due, the data check,
 * the transports that have something to do, the trackers, DHT and LSD,
 * the screen, and the decision to stop.
 */
static void
before_sleep(struct loop *l, void *ud)
{
	struct run *r = ud;
	uint64_t now = loop_now_ms();
	bool tick = now >= r->next_tick_ms;

	(void)l;
	if (r->t->phase == TORRENT_CHECKING)
		torrent_check_step(r->t, now);
	if (tick)
		r->next_tick_ms = session_tick(r->s, now);
	webnet_pump(r->web, now);
	xnet_step(r->xn, now, tick);
	udpmux_pump(r->udp, now);
	if (!r->quitting)
		lsdsock_pump(r->lsd, now);
	run_portmap(r, now);
	announce_pump(r->ann, now);
	if (r->view != NULL) {
		view_update(r->view, r->t, now, r->redraw);
		r->redraw = false;
	} else if (r->lines)
		line_update(&r->line, r->t, now);
	run_settle(r, now);
	/* What this pass traced reaches the file soon, for those who
	 * follow it while we run (thorrent swarm, demo). */
	fileio_trace_pump(r->trace, now);
}

/* How long the loop may sleep: until the next timer of anything. */
static uint64_t
run_wait_ms(const struct run *r, uint64_t now)
{
	uint64_t w = r->next_tick_ms > now ? r->next_tick_ms - now : 0, d;

	if (r->t->phase == TORRENT_CHECKING)
		return RUN_CHECK_SLICE_MS;
	if ((d = xnet_wait_ms(r->xn, now)) < w)
		w = d;
	if ((d = udpmux_wait_ms(r->udp, now)) < w)
		w = d;
	if (r->view != NULL && (d = view_wait_ms(r->view, now)) < w)
		w = d;
	if ((d = fileio_trace_wait_ms(r->trace, now)) < w)
		w = d;
	if (r->quitting && (d = r->quit_deadline > now ?
	    r->quit_deadline - now : 0) < w)
		w = d;
	return w;
}

static int
run_signals(struct run *r)
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

/* --- set up ------------------------------------------------------------------ */

/* The session and its torrent from the options.  0 or an exit status
 * after one line. */
static int
run_session(struct run *r, uint64_t now)
{
	struct run_opts *o = &r->o;
	struct session_opts so;
	struct torrent_opts to;
	struct thr_error err;
	const char *msg = err.msg;
	char safe[256];
	size_t tlen;
	int rc = 0;

	memset(&so, 0, sizeof(so));
	memset(&err, 0, sizeof(err));
	if (o->trace_path != NULL &&
	    (r->trace = fileio_trace_open(o->trace_path, &err)) == NULL) {
		fprintf(stderr, "thorrent: %s\n", err.msg);
		return CMD_EXIT_ERROR;
	}
	/* --seed makes every random choice reproducible (key material
	 * included); by default the choices vary per run. */
	so.seed = o->seeded ? o->seed : ((uint64_t)getpid() << 32) ^ now;
	if (!o->seeded)
		so.secret = run_secret;
	so.log_level = o->log_level;
	so.log = fileio_log_sink(stderr);
	if (r->trace != NULL)
		so.trace = fileio_trace_sink(r->trace);
	so.blobs = fileio_blobs(o->state_dir);
	so.max_up = o->max_up;
	so.max_down = o->max_down;
	so.max_peers = o->max_peers;
	so.crypto = o->crypto;
	so.transport = o->transport;
	so.dht = !o->no_dht;
	if ((r->s = session_new(&so, now, &err)) == NULL) {
		fprintf(stderr, "thorrent: %s\n", err.msg);
		return CMD_EXIT_ERROR;
	}
	memset(&to, 0, sizeof(to));
	r->place.dir = o->dir;
	r->place.state_dir = o->state_dir;
	to.store = storage_factory(&r->place);
	to.files = o->files;
	memcpy(to.given, o->given, sizeof(to.given));
	to.ngiven = o->ngiven;
	to.seed_ratio = o->seed_ratio;
	to.upload_slots = o->upload_slots;
	to.strategy = o->strategy;
	buf_init(&r->meta, METAINFO_MAX_FILE_SIZE);
	if (strncmp(o->torrent, "magnet:", 7) == 0)
		to.magnet = o->torrent;
	else if ((rc = fileio_read(o->torrent, METAINFO_MAX_FILE_SIZE,
	    &r->meta, &err)) == 0) {
		to.metainfo = r->meta.data;
		to.metainfo_len = r->meta.len;
	}
	if (rc == 0 && (rc = session_add(r->s, &to, now, &r->t, &err)) == 0)
		return 0;
	tlen = strlen(o->torrent);
	/* A system error names the file itself: once is enough. */
	if (strncmp(msg, o->torrent, tlen) == 0 &&
	    strncmp(msg + tlen, ": ", 2) == 0)
		msg += tlen + 2;
	escape_str(o->torrent, tlen, safe, sizeof(safe));
	if (err.offset)
		fprintf(stderr, _("thorrent: %s: %s (at byte %zu)\n"), safe,
		    msg, err.offset);
	else
		fprintf(stderr, "thorrent: %s: %s\n", safe, msg);
	return CMD_EXIT_ERROR;
}

/* Sockets, UDP, the gateway, LSD, HTTP.  0 or an exit status. */
static int
run_net(struct run *r)
{
	struct run_opts *o = &r->o;
	struct udpmux_opts uo;
	struct thr_error err;
	uint16_t port;

	const struct thr_addr *bind = o->bind.family != 0 ? &o->bind : NULL;
	char ip[ADDR_STR_MAX] = "";

	/* --bind-address: one listener, on that address; otherwise IPv4
	 * and, where the host has it, IPv6 on every address. */
	if (bind != NULL)
		addr_format_ip(bind, ip, sizeof(ip));
	if (conn_listen(bind, o->port, &r->lfd, &port) != 0) {
		if (bind != NULL)
			fprintf(stderr, _("thorrent: cannot listen on %s port "
			    "%u or the %d after it: %s\n"), ip, o->port,
			    CONN_PORT_TRIES, strerror(errno));
		else
			fprintf(stderr, _("thorrent: cannot listen on port %u "
			    "or the %d after it: %s\n"), o->port,
			    CONN_PORT_TRIES, strerror(errno));
		return CMD_EXIT_ERROR;
	}
	session_set_port(r->s, port);
	log_msg(&r->s->log, LOG_INFO, _("listening on port %u"), port);
	if (bind != NULL)
		log_msg(&r->s->log, LOG_INFO, _("bound to %s: listening, "
		    "dialling and UDP from that address only"), ip);
	if ((r->xn = xnet_new(r->s, r->loop)) == NULL ||
	    xnet_listen(r->xn, r->lfd) != 0) {
		fprintf(stderr, "thorrent: %s\n", _("cannot set up the loop"));
		return CMD_EXIT_ERROR;
	}
	xnet_set_bind(r->xn, &o->bind);
	if (bind != NULL)
		;	/* one listener only */
	else if (conn_listen6(port, &r->lfd6) != 0)
		log_msg(&r->s->log, LOG_INFO,
		    _("no IPv6 listener on port %u: %s"), port,
		    strerror(errno));
	else
		(void)xnet_listen(r->xn, r->lfd6);
	/* UDP on the same port: the DHT, udp:// trackers, uTP.  Without
	 * it the run goes on over TCP alone. */
	memset(&uo, 0, sizeof(uo));
	uo.port = port;
	uo.bootstrap = o->bootstrap;
	uo.nbootstrap = o->nbootstrap;
	uo.utp = o->transport != SESSION_TRANSPORT_TCP;
	uo.bind = o->bind;
	memset(&err, 0, sizeof(err));
	if ((r->udp = udpmux_new(r->s, r->loop, r->xn, &uo, &err)) == NULL)
		log_msg(&r->s->log, LOG_WARN,
		    _("no UDP (DHT, udp:// trackers): %s"), err.msg);
	/* Ask the gateway to forward our ports; with no gateway this is
	 * a log line and nothing else. */
	if (!o->no_upnp || !o->no_natpmp)
		r->pm = portmap_new(r->loop, port, r->udp != NULL ? port : 0,
		    !o->no_upnp, !o->no_natpmp, &r->s->log);
	/* Local Service Discovery (BEP 14): peers on the local link.
	 * Multicast leaves this host, so local test runs pass --no-lsd. */
	if (!o->no_lsd)
		r->lsd = lsdsock_new(r->s, r->loop, port, bind);
	else
		log_msg(&r->s->log, LOG_INFO, "%s", _("LSD off (--no-lsd)"));
	if (run_signals(r) != 0 || (r->http = http_new(r->loop)) == NULL ||
	    http_set_local(r->http, &o->bind) != 0 ||
	    (r->ann = announce_new(r->s, r->http, r->udp)) == NULL ||
	    (r->web = webnet_new(r->s, r->xn, r->http)) == NULL) {
		fprintf(stderr, "thorrent: %s\n", _("cannot set up the loop"));
		return CMD_EXIT_ERROR;
	}
	loop_add_fd(r->loop, r->sigpipe[0], LOOP_READ, signal_event, r);
	return 0;
}

/* The view needs a terminal on both ends that can address the cursor
 * (cmd_view_choice, made before anything was created); otherwise (pipes,
 * files, TERM=dumb, --no-tui) one progress line a second goes to stderr. */
static int
run_view(struct run *r, bool use_view)
{
	struct thr_error err;

	r->lines = true;
	line_init(&r->line, stderr);
	if (!use_view)
		return 0;
	memset(&err, 0, sizeof(err));
	if ((r->view = view_new(stdin, stdout, &err)) == NULL) {
		fprintf(stderr, "thorrent: %s\n", err.msg);
		return CMD_EXIT_ERROR;
	}
	{
		struct log_sink none = { NULL, NULL };

		/* The log pane shows the lines. */
		session_set_log_sink(r->s, &none);
	}
	r->lines = false;
	if (loop_add_fd(r->loop, STDIN_FILENO, LOOP_READ, key_event, r) != 0) {
		fprintf(stderr, "thorrent: %s\n",
		    _("cannot watch the keyboard"));
		return CMD_EXIT_ERROR;
	}
	r->redraw = true;
	return 0;
}

int
cmd_view_choice(bool no_tui, bool say, bool *use_view)
{
	const char *term = getenv("TERM");
	char safe[64] = "";

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

/* Tear down in the order things depend on each other. */
static void
run_free(struct run *r)
{
	view_free(r->view);
	r->view = NULL;
	xnet_free(r->xn);		/* every connection, uTP ones too */
	webnet_free(r->web);
	announce_free(r->ann);
	udpmux_free(r->udp);
	portmap_free(r->pm);
	lsdsock_free(r->lsd);
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
	session_free(r->s);
	fileio_trace_close(r->trace);
	buf_release(&r->meta);
	free(r->loop);
	free(r);
}

static int
run_loop(struct run *r)
{
	/*
	 * The pass first, then the wait it leaves: a wait computed before
	 * the pass would sleep through what the pass decided (a quit, a
	 * sooner timer).
	 */
	for (;;) {
		before_sleep(r->loop, r);
		if (r->loop->stop || loop_run_once(r->loop,
		    run_wait_ms(r, loop_now_ms())) != 0)
			break;
	}
	if (r->exit_code == CMD_EXIT_OK && !torrent_complete(r->t)) {
		r->exit_code = CMD_EXIT_ERROR;
		snprintf(r->exit_msg, sizeof(r->exit_msg), "%s",
		    _("stopped before the download completed"));
	}
	torrent_save_resume(r->t);
	/* Give the terminal back before the last words. */
	view_free(r->view);
	r->view = NULL;
	{
		struct log_sink err = fileio_log_sink(stderr);

		session_set_log_sink(r->s, &err);
	}
	if (r->exit_code != CMD_EXIT_OK)
		fprintf(stderr, "thorrent: %s\n", r->exit_msg);
	else {
		/* The exact counts, for the user; programs find them in
		 * the trace's "stop" event. */
		log_msg(&r->s->log, LOG_INFO, _("done: downloaded %llu bytes, "
		    "uploaded %llu bytes"),
		    (unsigned long long)r->t->downloaded,
		    (unsigned long long)r->t->uploaded);
		line_final(stderr, r->t);
	}
	return r->exit_code;
}

int
cmd_run(int argc, char **argv)
{
	struct conffile cf;
	struct run *r;
	bool use_view = false;
	int rc;

	memset(&cf, 0, sizeof(cf));
	r = calloc(1, sizeof(*r));
	if (r == NULL || (r->loop = malloc(sizeof(*r->loop))) == NULL) {
		fprintf(stderr, "thorrent: %s\n", _("out of memory"));
		free(r);
		return CMD_EXIT_ERROR;
	}
	r->lfd = r->lfd6 = -1;
	r->sigpipe[0] = r->sigpipe[1] = -1;
	r->exit_code = CMD_EXIT_OK;
	loop_init(r->loop);
	/* The terminal first: an unknown one ends the run while nothing
	 * exists yet, and plain lines are chosen before any file is. */
	if ((rc = opts_parse(argc, argv, &r->o, &cf)) < 0 &&
	    (rc = cmd_view_choice(r->o.no_tui, true, &use_view)) == 0 &&
	    (rc = run_session(r, loop_now_ms())) == 0) {
		if (cf.n > 0)
			log_msg(&r->s->log, LOG_INFO, _("%zu options read "
			    "from %s"), cf.n, r->o.config_used);
		if ((rc = run_net(r)) == 0 && (rc = run_view(r, use_view)) == 0)
			rc = run_loop(r);
	}
	run_free(r);
	conffile_release(&cf);
	return rc;
}
