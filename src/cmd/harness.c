/*
 * harness.c: the child processes of "thorrent demo" and "thorrent
 * swarm".  See harness.h.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmd/harness.h"
#include "core/i18n.h"
#include "net/conn.h"
#include "net/loop.h"

#define HARNESS_READ_BUF	65536	/* trace bytes read at once */
#define HARNESS_WRITE_BUF	65536	/* payload bytes written at once */
#define HARNESS_FTW_FDS		16	/* descriptors nftw may hold */

/* The write end of the self-pipe: the one piece of global state
 * STYLE.md allows. */
static int harness_sigfd = -1;

static const int harness_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define HARNESS_NSIGNALS \
	(sizeof(harness_signals) / sizeof(harness_signals[0]))

static void
harness_on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (harness_sigfd >= 0)
		(void)!write(harness_sigfd, &c, 1);
	errno = saved;
}

static int
harness_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* --- life cycle ------------------------------------------------------- */

static int
harness_signals_on(struct harness *h)
{
	struct sigaction sa;

	if (pipe2(h->sigpipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		h->sigpipe[0] = h->sigpipe[1] = -1;
		return -1;
	}
	harness_sigfd = h->sigpipe[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = harness_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < HARNESS_NSIGNALS; i++)
		sigaction(harness_signals[i], &sa, NULL);
	return 0;
}

int
harness_init(struct harness *h, const char *name, size_t nmax,
    struct thr_error *err)
{
	ssize_t n;

	memset(h, 0, sizeof(*h));
	h->sigpipe[0] = h->sigpipe[1] = -1;
	n = readlink("/proc/self/exe", h->self, sizeof(h->self) - 1);
	if (n <= 0)
		return thr_error_set(err, THR_ENOENT, 0, "%s",
		    _("cannot find the thorrent binary"));
	h->self[n] = '\0';
	if ((h->kids = calloc(nmax, sizeof(*h->kids))) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "%s",
		    _("out of memory"));
	h->nmax = nmax;
	snprintf(h->dir, sizeof(h->dir), "/tmp/thorrent-%s.XXXXXX", name);
	if (mkdtemp(h->dir) == NULL) {
		thr_error_set(err, THR_EIO, 0, _("cannot make a temporary "
		    "directory: %s"), strerror(errno));
		h->dir[0] = '\0';
		harness_release(h);
		return THR_EIO;
	}
	if (harness_signals_on(h) != 0) {
		thr_error_set(err, THR_EIO, 0, _("cannot catch signals: %s"),
		    strerror(errno));
		harness_release(h);
		return THR_EIO;
	}
	return 0;
}

void
harness_signals_off(struct harness *h)
{
	if (h->sigpipe[0] < 0)
		return;
	for (size_t i = 0; i < HARNESS_NSIGNALS; i++)
		signal(harness_signals[i], SIG_DFL);
	harness_sigfd = -1;
	close(h->sigpipe[0]);
	close(h->sigpipe[1]);
	h->sigpipe[0] = h->sigpipe[1] = -1;
}

void
harness_release(struct harness *h)
{
	harness_stop_all(h);
	harness_signals_off(h);
	if (h->dir[0] != '\0')
		nftw(h->dir, harness_rm_one, HARNESS_FTW_FDS,
		    FTW_DEPTH | FTW_PHYS);
	h->dir[0] = '\0';
	free(h->kids);
	h->kids = NULL;
	h->nkids = h->nmax = 0;
}

struct harness_child *
harness_add(struct harness *h, const char *name, const char *log,
    const char *trace)
{
	struct harness_child *c;

	if (h->nkids == h->nmax || strlen(log) >= sizeof(c->log) ||
	    (trace != NULL && strlen(trace) >= sizeof(c->trace)))
		return NULL;
	c = &h->kids[h->nkids++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->log, sizeof(c->log), "%s", log);
	snprintf(c->trace, sizeof(c->trace), "%s", trace ? trace : "");
	c->pid = -1;
	return c;
}

/* --- starting --------------------------------------------------------- */

void
harness_argv_add(struct harness_argv *a, const char *opt, const char *val)
{
	if (a->n + (val != NULL ? 2 : 1) > HARNESS_ARGV_MAX) {
		a->full = true;
		return;
	}
	/* execv takes char *const[]; the strings are not written. */
	a->v[a->n++] = (char *)opt;
	if (val != NULL)
		a->v[a->n++] = (char *)val;
	a->v[a->n] = NULL;
}

int
harness_argv_thorrent(struct harness_argv *a, const char *dir,
    const char *state, const char *trace)
{
	int port = conn_free_port();

	memset(a, 0, sizeof(*a));
	if (port < 0)
		return -1;
	snprintf(a->port, sizeof(a->port), "%d", port);
	harness_argv_add(a, "thorrent", NULL);
	/* A local swarm: keep off the public DHT, the gateway and the
	 * LAN's multicast group; and what runs is what the command line
	 * says, whatever the user's configuration file holds. */
	harness_argv_add(a, "--no-tui", NULL);
	harness_argv_add(a, "--no-dht", NULL);
	harness_argv_add(a, "--no-upnp", NULL);
	harness_argv_add(a, "--no-natpmp", NULL);
	harness_argv_add(a, "--no-lsd", NULL);
	harness_argv_add(a, "--no-config", NULL);
	/* The log is for people to read; the trace is what we follow. */
	harness_argv_add(a, "--log", "info");
	harness_argv_add(a, "--path", dir);
	harness_argv_add(a, "--state-dir", state);
	harness_argv_add(a, "--port", a->port);
	harness_argv_add(a, "--seed-ratio", "-1");
	harness_argv_add(a, "--trace", trace);
	return 0;
}

int
harness_start(struct harness *h, struct harness_child *c, const char *prog,
    const struct harness_argv *a)
{
	pid_t parent = getpid();
	int fd;

	if (a->full || a->n == 0) {
		errno = E2BIG;
		return -1;
	}
	if (prog == NULL)
		prog = h->self;
	fflush(stdout);
	fflush(stderr);
	if ((c->pid = fork()) < 0) {
		c->pid = -1;
		return -1;
	}
	if (c->pid > 0)
		return 0;
	/* The child: SIGTERM when we die, so that nothing outlives an
	 * interrupted command. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(127);
	fd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
	}
	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		dup2(fd, STDIN_FILENO);
	execv(prog, a->v);
	_exit(127);
}

/* --- following -------------------------------------------------------- */

static const char	*harness_line_field(const char *line,
			    const char *key);

/* One complete trace line into c->seen. */
static void
harness_event(struct harness_child *c, const char *line)
{
	struct harness_seen *w = &c->seen;
	uint64_t t, v, down, up;
	char from[16], to[16];
	const char *ok;

	if (!harness_line_t(line, &t)) {
		c->bad_lines++;
		return;
	}
	if (harness_line_is(line, "listen") &&
	    harness_line_u64(line, "port", &v) && v > 0 && v <= UINT16_MAX) {
		w->port = (uint16_t)v;
		w->listening = true;
	} else if (harness_line_is(line, "phase") &&
	    harness_line_str(line, "from", from, sizeof(from)) &&
	    harness_line_str(line, "to", to, sizeof(to))) {
		if (strcmp(from, "checking") == 0)
			w->checked = true;
		if (!w->complete && (strcmp(to, "seeding") == 0 ||
		    strcmp(to, "done") == 0)) {
			w->complete = true;
			w->complete_us = t;
		}
	} else if (harness_line_is(line, "announce_result") &&
	    (ok = harness_line_field(line, "ok")) != NULL &&
	    strncmp(ok, "true", 4) == 0)
		w->announced = true;
	else if (harness_line_is(line, "stop") &&
	    harness_line_u64(line, "downloaded", &down) &&
	    harness_line_u64(line, "uploaded", &up) &&
	    harness_line_u64(line, "verified", &v)) {
		w->stopped = true;
		w->downloaded = down;
		w->uploaded = up;
		w->verified = v;
	}
}

/* The complete lines at the start of buf[0..n); returns the bytes they
 * take (0: no newline in buf). */
static size_t
harness_lines(struct harness_child *c, const char *buf, size_t n)
{
	char line[HARNESS_LINE_MAX];
	size_t used = 0;
	const char *nl;

	while (used < n && (nl = memchr(buf + used, '\n', n - used)) != NULL) {
		size_t len = (size_t)(nl - (buf + used));

		if (c->skipping)
			c->skipping = false;	/* the rest of a long line */
		else if (len >= sizeof(line))
			c->bad_lines++;
		else {
			memcpy(line, buf + used, len);
			line[len] = '\0';
			harness_event(c, line);
		}
		used += len + 1;
	}
	return used;
}

void
harness_follow(struct harness_child *c)
{
	char buf[HARNESS_READ_BUF];
	ssize_t n;
	size_t used;
	int fd;

	if (c->trace[0] == '\0' ||
	    (fd = open(c->trace, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	while ((n = pread(fd, buf, sizeof(buf), c->off)) > 0) {
		used = harness_lines(c, buf, (size_t)n);
		if (used == 0 && (size_t)n < sizeof(buf))
			break;		/* a partial line: for next time */
		if (used == 0) {
			/* A whole buffer without a newline: not a line of
			 * ours.  Skip to the next newline. */
			if (!c->skipping)
				c->bad_lines++;
			c->skipping = true;
			used = (size_t)n;
		}
		c->off += (off_t)used;
	}
	close(fd);
}

static void
harness_reap(struct harness *h)
{
	for (size_t i = 0; i < h->nkids; i++) {
		struct harness_child *c = &h->kids[i];
		int st;

		if (c->pid > 0 && waitpid(c->pid, &st, WNOHANG) == c->pid) {
			c->pid = -1;
			c->status = st;
		}
	}
}

void
harness_pump(struct harness *h)
{
	harness_reap(h);
	for (size_t i = 0; i < h->nkids; i++)
		harness_follow(&h->kids[i]);
}

bool
harness_interrupted(struct harness *h)
{
	char c;

	if (!h->interrupted && h->sigpipe[0] >= 0 &&
	    read(h->sigpipe[0], &c, 1) == 1)
		h->interrupted = true;
	return h->interrupted;
}

bool
harness_wait(struct harness *h, struct harness_child *c, const bool *flag,
    long ms)
{
	uint64_t end = harness_now_us() + (uint64_t)ms * 1000;

	for (;;) {
		harness_follow(c);
		if (*flag)
			return true;
		harness_reap(h);
		if (c->pid < 0 || harness_interrupted(h) ||
		    harness_now_us() > end)
			return false;
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

static bool
harness_port_open(int port)
{
	struct sockaddr_in sin;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (s < 0)
		return false;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(s);
	return ok;
}

bool
harness_wait_port(struct harness *h, struct harness_child *c, int port,
    long ms)
{
	uint64_t end = harness_now_us() + (uint64_t)ms * 1000;

	for (;;) {
		if (harness_port_open(port))
			return true;
		harness_reap(h);
		if (c->pid < 0 || harness_interrupted(h) ||
		    harness_now_us() > end)
			return false;
		harness_sleep_ms(HARNESS_POLL_MS);
	}
}

/* --- stopping --------------------------------------------------------- */

static size_t
harness_live(const struct harness *h)
{
	size_t live = 0;

	for (size_t i = 0; i < h->nkids; i++)
		live += h->kids[i].pid > 0;
	return live;
}

void
harness_stop_all(struct harness *h)
{
	uint64_t end = harness_now_us() + (uint64_t)HARNESS_STOP_MS * 1000;

	for (size_t i = 0; i < h->nkids; i++)
		if (h->kids[i].pid > 0)
			kill(h->kids[i].pid, SIGTERM);
	for (;;) {
		harness_reap(h);
		if (harness_live(h) == 0)
			return;
		if (harness_now_us() > end)
			break;
		harness_sleep_ms(HARNESS_POLL_MS);
	}
	for (size_t i = 0; i < h->nkids; i++) {
		struct harness_child *c = &h->kids[i];

		if (c->pid > 0) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &c->status, 0);
			c->pid = -1;
		}
	}
}

/* --- payloads, time --------------------------------------------------- */

/* splitmix64: a payload follows from its seed, so runs can be replayed
 * with the same piece hashes. */
static uint64_t
harness_mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* n bytes of the stream from *x. */
static void
harness_stream(uint8_t *out, size_t n, uint64_t *x)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t r = harness_mix(x);

		memcpy(out + i, &r, 8);
	}
}

/* n bytes from the system's random source: getrandom may return less
 * than asked for beyond 256 bytes, or be interrupted by a signal. */
static int
harness_random(uint8_t *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = getrandom(out + got, n - got, 0);

		if (k < 0 && errno != EINTR)
			return -1;
		if (k > 0)
			got += (size_t)k;
	}
	return 0;
}

int
harness_write_payload(const char *path, uint64_t size, const uint64_t *seed)
{
	uint8_t chunk[HARNESS_WRITE_BUF];
	uint64_t x = seed != NULL ? *seed : 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	while (size > 0) {
		size_t n = size < sizeof(chunk) ? (size_t)size : sizeof(chunk);

		/* A whole chunk of the stream each time, whatever is
		 * written of it, so the bytes do not depend on the size. */
		if (seed != NULL)
			harness_stream(chunk, sizeof(chunk), &x);
		if ((seed == NULL && harness_random(chunk, n) != 0) ||
		    write(fd, chunk, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		size -= n;
	}
	return close(fd);
}

uint64_t
harness_now_us(void)
{
	return loop_now_us();
}

void
harness_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* --- trace lines ------------------------------------------------------ */

bool
harness_line_t(const char *line, uint64_t *t)
{
	char *end;

	if (strncmp(line, "{\"t\":", 5) != 0 || line[5] < '0' ||
	    line[5] > '9')
		return false;
	errno = 0;
	*t = strtoull(line + 5, &end, 10);
	return errno == 0 && *end == ',';
}

bool
harness_line_is(const char *line, const char *ev)
{
	const char *p = strstr(line, "\"ev\":\"");
	size_t n = strlen(ev);

	return p != NULL && strncmp(p + 6, ev, n) == 0 && p[6 + n] == '"';
}

/* Where the value of "key" starts, or NULL. */
static const char *
harness_line_field(const char *line, const char *key)
{
	size_t n = strlen(key);
	const char *p;

	for (p = strchr(line, '"'); p != NULL; p = strchr(p + 1, '"'))
		if (strncmp(p + 1, key, n) == 0 && p[1 + n] == '"' &&
		    p[2 + n] == ':')
			return p + 3 + n;
	return NULL;
}

bool
harness_line_u64(const char *line, const char *key, uint64_t *out)
{
	const char *p = harness_line_field(line, key);
	char *end;

	if (p == NULL || *p < '0' || *p > '9')
		return false;
	errno = 0;
	*out = strtoull(p, &end, 10);
	return errno == 0;
}

bool
harness_line_str(const char *line, const char *key, char *out, size_t len)
{
	const char *p = harness_line_field(line, key);
	size_t o = 0;

	if (p == NULL || *p != '"' || len == 0)
		return false;
	/* The text as the trace has it, escapes and all. */
	for (p++; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			if (o + 1 < len)
				out[o++] = *p;
			p++;
		}
		if (o + 1 < len)
			out[o++] = *p;
	}
	out[o] = '\0';
	return *p == '"';
}
