/*
 * swarm.c: "thorrent swarm": what to run for a swarm experiment, and
 * when it ends.  The data model is in swarm.h; the processes, their
 * traces and the work directory are the harness's (harness.h); the
 * command line is swarm_opts.c's, the summary swarm_report.c's.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/swarm.h"
#include "core/i18n.h"
#include "core/metainfo.h"
#include "net/conn.h"
#include "net/fileio.h"

static int64_t
swarm_clock(const struct swarm *sw)
{
	return (int64_t)(harness_now_us() - sw->t0_us);
}

/* Find an executable on PATH; fills out and returns true if found. */
static bool
swarm_which(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *colon;

	if (path == NULL)
		return false;
	for (p = path; *p != '\0'; p = *colon != '\0' ? colon + 1 : colon) {
		colon = strchr(p, ':');
		if (colon == NULL)
			colon = p + strlen(p);
		if (colon == p)
			continue;
		if ((size_t)snprintf(out, len, "%.*s/%s", (int)(colon - p), p,
		    prog) < len && access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/*
 * The --seed of a child: the first 8 bytes, big-endian, of the SHA-1 of
 * the text "N/NAME" (N the swarm's --seed in decimal, NAME the child's,
 * e.g. "1/leech3"), so that the children of one swarm and of swarms
 * with neighbouring seeds share no seed.
 */
static uint64_t
swarm_child_seed(uint64_t seed, const char *name)
{
	char text[64];
	uint8_t h[HASH_SHA1_LEN];
	uint64_t v = 0;

	snprintf(text, sizeof(text), "%" PRIu64 "/%s", seed, name);
	if (hash_sha1(text, strlen(text), h) != 0)
		return seed;	/* no SHA-1: unreachable once the torrent
				 * was made */
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v;
}

/* --- children --------------------------------------------------------- */

static bool
swarm_start_child(struct swarm *sw, int idx)
{
	struct swarm_child *k = &sw->kids[idx];
	char seed[32], peers[SWARM_MAX_PROCS][32];
	struct harness_argv a;
	int np = 0;

	snprintf(seed, sizeof(seed), "0x%016" PRIx64, k->seed);
	errno = EADDRNOTAVAIL;
	if (harness_argv_thorrent(&a, k->dir, k->state, k->hc->trace) != 0)
		goto fail;
	harness_argv_add(&a, "--bind-address", k->addr);
	harness_argv_add(&a, "--strategy", sw->o.strategy);
	harness_argv_add(&a, "--seed", seed);
	if (k->seeder || sw->o.leech_max_up != NULL)
		harness_argv_add(&a, "--max-up", k->seeder ? sw->o.max_up :
		    sw->o.leech_max_up);
	/*
	 * Without a tracker, a leecher is told the seeders and the leechers
	 * started before it, which already listen (at the port their traces
	 * named); the ones after it dial in.  So the mesh is complete and
	 * no dial hits a closed port, which would cost a back-off of 30 s
	 * or more.
	 */
	for (int j = 0; !k->seeder && !sw->use_tracker && j < idx; j++) {
		snprintf(peers[np], sizeof(peers[np]), "%s:%u",
		    sw->kids[j].addr, (unsigned)sw->kids[j].hc->seen.port);
		harness_argv_add(&a, "--peer", peers[np++]);
	}
	harness_argv_add(&a, sw->torrent, NULL);
	k->start_us = swarm_clock(sw);
	if (harness_start(&sw->h, k->hc, NULL, &a) == 0)
		return true;
fail:
	fprintf(stderr, _("thorrent: swarm: cannot start %s: %s\n"),
	    k->hc->name, strerror(errno));
	return false;
}

/* Wait until the child listens (and, with a tracker, has announced):
 * the events of its trace. */
static bool
swarm_wait_ready(struct swarm *sw, struct swarm_child *k)
{
	struct harness_child *c = k->hc;
	bool ok = harness_wait(&sw->h, c, &c->seen.listening, SWARM_READY_MS);

	if (ok && k->seeder)
		ok = harness_wait(&sw->h, c, &c->seen.checked, SWARM_READY_MS);
	if (ok && sw->use_tracker && !harness_wait(&sw->h, c,
	    &c->seen.announced, SWARM_ANNOUNCE_MS))
		fprintf(stderr, _("thorrent: swarm: %s has no answer from the "
		    "tracker yet; going on\n"), c->name);
	if (!ok)
		fprintf(stderr, _("thorrent: swarm: %s did not start; see "
		    "%s\n"), c->name, c->log);
	return ok;
}

/* A leecher's completion, once its trace says so, on the experiment
 * clock (its last hash_ok replaces it in the summary). */
static void
swarm_note(struct swarm_child *k)
{
	const struct harness_seen *w;

	if (k->hc == NULL)
		return;		/* never made: the set-up failed */
	w = &k->hc->seen;
	if (!k->seeder && !k->complete && w->complete) {
		k->complete = true;
		k->done_us = k->start_us + (int64_t)w->complete_us;
	}
}

/* --- opentracker ------------------------------------------------------ */

/* The whitelist and configuration in dir; false on a write error. */
static bool
swarm_tracker_files(struct swarm *sw, const char *dir, const char *conf)
{
	char path[PATH_MAX + 32];
	struct passwd *pw = getpwuid(geteuid());
	FILE *fp;

	snprintf(path, sizeof(path), "%s/whitelist", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return false;
	fprintf(fp, "%s\n", sw->hex);
	if (fclose(fp) != 0 || (fp = fopen(conf, "w")) == NULL)
		return false;
	fprintf(fp, "listen.tcp_udp 127.0.0.1:%d\naccess.whitelist "
	    "whitelist\ntracker.rootdir %s\ntracker.user %s\n",
	    sw->tracker_port, dir, geteuid() == 0 || pw == NULL ? "nobody" :
	    pw->pw_name);
	return fclose(fp) == 0;
}

/*
 * Debian's opentracker is whitelist-only, chroots into tracker.rootdir
 * and refuses to keep root, so as root it is told to become nobody, and
 * the whitelist lives in the rootdir, named relative to it.
 */
static bool
swarm_start_tracker(struct swarm *sw, const char *prog)
{
	char dir[PATH_MAX], conf[PATH_MAX + 32], logpath[PATH_MAX + 16];
	struct harness_child *c;
	struct harness_argv a;

	snprintf(dir, sizeof(dir), "%s/tracker", sw->h.dir);
	snprintf(conf, sizeof(conf), "%s/opentracker.conf", dir);
	snprintf(logpath, sizeof(logpath), "%s/tracker.log", sw->out);
	if (mkdir(dir, 0755) != 0 || chmod(dir, 0755) != 0 ||
	    !swarm_tracker_files(sw, dir, conf) ||
	    (c = harness_add(&sw->h, "opentracker", logpath, NULL)) == NULL)
		return false;
	memset(&a, 0, sizeof(a));
	harness_argv_add(&a, "opentracker", NULL);
	harness_argv_add(&a, "-f", conf);
	if (harness_start(&sw->h, c, prog, &a) != 0 ||
	    !harness_wait_port(&sw->h, c, sw->tracker_port, SWARM_TRACKER_MS))
		return false;
	sw->use_tracker = true;
	return true;
}

/* --- setup ------------------------------------------------------------ */

static bool
swarm_make_out(struct swarm *sw)
{
	struct stat st;

	if (sw->o.out != NULL) {
		if (strlen(sw->o.out) >= sizeof(sw->out)) {
			fprintf(stderr, "thorrent: swarm: %s\n",
			    _("--out names too long a path"));
			return false;
		}
		snprintf(sw->out, sizeof(sw->out), "%s", sw->o.out);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S",
		    localtime_r(&now, &tm));
		snprintf(sw->out, sizeof(sw->out), "swarm-%s", stamp);
	}
	if (mkdir(sw->out, 0755) != 0 && (errno != EEXIST ||
	    stat(sw->out, &st) != 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, _("thorrent: swarm: cannot create %s: %s\n"),
		    sw->out, strerror(errno));
		return false;
	}
	return true;
}

/* Child i: its name, address, seed, folders, log and trace. */
static bool
swarm_make_kid(struct swarm *sw, int i)
{
	struct swarm_child *k = &sw->kids[i];
	char name[16], log[PATH_MAX + 32], trace[PATH_MAX + 32];

	k->seeder = i < sw->o.nseed;
	k->done_us = k->gap_us = k->gap_at_us = k->last_ok_us = -1;
	snprintf(name, sizeof(name), k->seeder ? "seed%d" : "leech%d",
	    k->seeder ? i : i - sw->o.nseed);
	snprintf(log, sizeof(log), "%s/peer-%s.log", sw->out, name);
	snprintf(trace, sizeof(trace), "%s/peer-%s.jsonl", sw->out, name);
	if ((k->hc = harness_add(&sw->h, name, log, trace)) == NULL)
		return false;
	snprintf(k->addr, sizeof(k->addr), "127.0.%d.1", SWARM_ADDR_FIRST + i);
	k->seed = swarm_child_seed(sw->o.seed, name);
	/* Each its own state directory: the seeders share one folder,
	 * which one state directory would lock to one of them, and the
	 * user's home stays out of the experiment. */
	snprintf(k->state, sizeof(k->state), "%s/%s.state", sw->h.dir, name);
	if (k->seeder) {
		snprintf(k->dir, sizeof(k->dir), "%s/seed", sw->h.dir);
		return true;
	}
	snprintf(k->dir, sizeof(k->dir), "%s/%s", sw->h.dir, name);
	return mkdir(k->dir, 0755) == 0 && (k->seedconn =
	    calloc(SWARM_SEEDCONN_MAX, sizeof(*k->seedconn))) != NULL;
}

static bool
swarm_make_kids(struct swarm *sw)
{
	int n = sw->o.nseed + sw->o.nleech;

	if ((sw->kids = calloc((size_t)n, sizeof(*sw->kids))) == NULL)
		return false;
	sw->nkids = n;
	for (int i = 0; i < sw->nkids; i++)
		if (!swarm_make_kid(sw, i))
			return false;
	return true;
}

/* The piece geometry read back from the torrent, and the tables. */
static bool
swarm_read_torrent(struct swarm *sw)
{
	struct metainfo mi;
	struct thr_error err;
	size_t cells;

	memset(&err, 0, sizeof(err));
	if (fileio_load_metainfo(&mi, sw->torrent, &err) != 0) {
		fprintf(stderr, "thorrent: swarm: %s: %s\n", sw->torrent,
		    err.msg);
		return false;
	}
	sw->npieces = mi.npieces;
	sw->piece_len = mi.piece_length;
	hash_hex(mi.info_hash, sizeof(mi.info_hash), sw->hex);
	metainfo_release(&mi);
	cells = (size_t)sw->o.nleech * sw->npieces;
	sw->hash_ok = malloc(cells * sizeof(*sw->hash_ok));
	sw->seed_first = malloc(cells * sizeof(*sw->seed_first));
	if (sw->hash_ok == NULL || sw->seed_first == NULL) {
		fprintf(stderr, "thorrent: swarm: %s\n", _("out of memory"));
		return false;
	}
	for (size_t x = 0; x < cells; x++)
		sw->hash_ok[x] = sw->seed_first[x] = -1;
	return true;
}

/* Payload and torrent. */
static bool
swarm_make_torrent(struct swarm *sw)
{
	char seeddir[HARNESS_DIR_MAX + 16];
	char *cargv[9];
	int n = 0;

	snprintf(seeddir, sizeof(seeddir), "%s/seed", sw->h.dir);
	snprintf(sw->payload, sizeof(sw->payload), "%s/%s", seeddir,
	    SWARM_PAYLOAD);
	snprintf(sw->torrent, sizeof(sw->torrent), "%s/swarm.torrent",
	    sw->out);
	if (mkdir(seeddir, 0755) != 0 || harness_write_payload(sw->payload,
	    sw->o.size, &sw->o.seed) != 0) {
		fprintf(stderr, _("thorrent: swarm: cannot write %s: %s\n"),
		    sw->payload, strerror(errno));
		return false;
	}
	cargv[n++] = "create";
	cargv[n++] = "-o";
	cargv[n++] = sw->torrent;
	cargv[n++] = "--piece-size";
	cargv[n++] = (char *)sw->o.piece_size;
	if (sw->tracker_url[0] != '\0') {
		cargv[n++] = "-t";
		cargv[n++] = sw->tracker_url;
	}
	cargv[n++] = sw->payload;
	cargv[n] = NULL;
	fflush(stdout);
	return cmd_create(n, cargv) == 0 && swarm_read_torrent(sw);
}

/* Payload, torrent, children's folders, and opentracker if asked for
 * and found; false after one line on stderr. */
static bool
swarm_setup(struct swarm *sw)
{
	char tracker[PATH_MAX] = "";

	if (sw->o.tracker) {
		if (swarm_which("opentracker", tracker, sizeof(tracker))) {
			sw->tracker_port = conn_free_port();
			snprintf(sw->tracker_url, sizeof(sw->tracker_url),
			    "http://127.0.0.1:%d/announce", sw->tracker_port);
		} else
			fprintf(stderr, "thorrent: swarm: %s\n",
			    _("opentracker is not on PATH; using --peer "
			    "lists"));
	}
	printf(_("swarm: writing a %" PRIu64 "-byte payload and the torrent "
	    "in %s\n"), sw->o.size, sw->h.dir);
	if (!swarm_make_torrent(sw) || !swarm_make_kids(sw))
		return false;
	if (sw->tracker_url[0] != '\0' && !swarm_start_tracker(sw, tracker)) {
		fprintf(stderr, _("thorrent: swarm: opentracker did not start; "
		    "see %s/tracker.log\n"), sw->out);
		return false;
	}
	return true;
}

/* --- the run ---------------------------------------------------------- */

/* The seeders, then the leechers one by one, each once ready. */
static bool
swarm_start_all(struct swarm *sw)
{
	uint64_t now;
	int64_t shift;

	for (int j = 0; j < sw->o.nseed; j++)
		if (!swarm_start_child(sw, j))
			return false;
	for (int j = 0; j < sw->o.nseed; j++)
		if (!swarm_wait_ready(sw, &sw->kids[j]))
			return false;
	printf(_("swarm: %d seeders ready; starting %d leechers\n"),
	    sw->o.nseed, sw->o.nleech);
	/* The experiment clock starts with the first leecher. */
	now = harness_now_us();
	shift = (int64_t)(now - sw->t0_us);
	for (int j = 0; j < sw->o.nseed; j++)
		sw->kids[j].start_us -= shift;
	sw->t0_us = now;
	for (int i = sw->o.nseed; i < sw->nkids; i++)
		if (!swarm_start_child(sw, i) ||
		    !swarm_wait_ready(sw, &sw->kids[i]))
			return false;
	return true;
}

/* Start everything and wait for the leechers; false on a setup error
 * or an interruption. */
static bool
swarm_run(struct swarm *sw)
{
	int done, live;

	if (!swarm_start_all(sw))
		return false;
	for (;;) {
		harness_pump(&sw->h);
		done = live = 0;
		for (int i = sw->o.nseed; i < sw->nkids; i++) {
			struct swarm_child *k = &sw->kids[i];

			swarm_note(k);
			done += k->complete;
			live += !k->complete && k->hc->pid > 0;
		}
		if (live == 0)
			break;
		if (swarm_clock(sw) > (int64_t)sw->o.time_limit * 1000000) {
			printf(_("swarm: time limit of %ld s reached with %d "
			    "of %d leechers complete\n"), sw->o.time_limit,
			    done, sw->o.nleech);
			break;
		}
		if (harness_interrupted(&sw->h)) {
			fprintf(stderr, "thorrent: swarm: %s\n",
			    _("interrupted"));
			return false;
		}
		harness_sleep_ms(SWARM_POLL_MS);
	}
	return true;
}

static void
swarm_free(struct swarm *sw)
{
	if (sw->kids != NULL)
		for (int i = 0; i < sw->nkids; i++)
			free(sw->kids[i].seedconn);
	free(sw->kids);
	free(sw->hash_ok);
	free(sw->seed_first);
	free(sw);
}

int
cmd_swarm(int argc, char **argv)
{
	struct swarm *sw;
	struct thr_error err;
	int rc;
	bool ran;

	if ((sw = calloc(1, sizeof(*sw))) == NULL) {
		fprintf(stderr, "thorrent: swarm: %s\n", _("out of memory"));
		return CMD_EXIT_ERROR;
	}
	if ((rc = swarm_parse_args(argc, argv, &sw->o)) >= 0) {
		free(sw);
		return rc;
	}
	rc = CMD_EXIT_ERROR;
	memset(&err, 0, sizeof(err));
	/* Every child, and opentracker. */
	if (harness_init(&sw->h, "swarm", (size_t)(sw->o.nseed +
	    sw->o.nleech + 1), &err) != 0) {
		fprintf(stderr, "thorrent: swarm: %s\n", err.msg);
		swarm_free(sw);
		return rc;
	}
	sw->t0_us = harness_now_us();
	ran = swarm_make_out(sw) && swarm_setup(sw) && swarm_run(sw);
	harness_stop_all(&sw->h);
	/* The traces are complete now: the last completions and the
	 * closing counts. */
	harness_pump(&sw->h);
	for (int i = 0; i < sw->nkids; i++)
		swarm_note(&sw->kids[i]);
	swarm_verify(sw);
	if (ran)
		rc = swarm_finish(sw);
	harness_release(&sw->h);
	swarm_free(sw);
	return rc;
}
