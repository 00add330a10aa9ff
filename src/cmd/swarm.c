/*
 * swarm.c: "thorrent swarm": a reproducible swarm experiment on loopback.
 *
 * It makes a payload from the seed, a torrent for it, and starts S
 * seeders and L leechers, each a thorrent child process with its own
 * JSON Lines trace and log in the output folder.  Children are named
 * seed0.. and leech0..; kids[] holds the seeders first, and child k has
 * the address 127.0.(k + 2).1 (--bind-address) and a seed hashed from
 * --seed and its name.  The leechers find each other through --peer (or
 * opentracker with --tracker).  The
 * experiment clock starts when the first leecher is started; each
 * child's start time on that clock (start_us, negative for seeders) is
 * added to its trace's "t" when the traces are merged into merged.jsonl,
 * from which the summary is computed.  When every leecher has logged
 * "complete", or at the time limit, all children are stopped by PID, the
 * leechers' data are compared with the payload byte for byte, and the
 * temporary data are removed; the output folder stays.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "net/conn.h"
#include "core/bucket.h"
#include "core/hash.h"
#include "core/i18n.h"
#include "net/fileio.h"
#include "core/metainfo.h"

/* Each leecher may be told every other address: run.c takes at most 64
 * --peer options (STATE_MAX_GIVEN), so 65 processes in all. */
#define SWARM_MAX_PROCS		65
#define SWARM_MAX_SEEDERS	16
#define SWARM_MAX_SIZE		(4ull << 30)	/* payload is on disk L+1 times */
#define SWARM_MAX_TIME		86400L
#define SWARM_READY_MS		30000	/* a child must listen by then */
#define SWARM_ANNOUNCE_MS	10000	/* a child must reach the tracker */
#define SWARM_POLL_MS		100
#define SWARM_STOP_MS		5000	/* SIGTERM, then SIGKILL */
#define SWARM_LINE_MAX		4096	/* our trace lines are < 200 bytes */
/* Child k is 127.0.(k + 2).1: all of 127.0.0.0/8 is local on Linux, and
 * a /24 each gives each its own BEP 6 allowed fast set, which is derived
 * from the address's /24. */
#define SWARM_ADDR_FIRST	2
#define SWARM_SEEDCONN_MAX	4096	/* seeder connections per leecher */
#define SWARM_PAYLOAD		"payload.bin"
#define SWARM_MIN_PIECE		(16u << 10)	/* thorrent create's bounds */
#define SWARM_MAX_PIECE		(64u << 20)
/* Room in PATH_MAX after the output folder for our own file names. */
#define SWARM_OUT_MAX		(PATH_MAX - 64)

struct swarm_opts {
	int		 nseed;
	int		 nleech;
	uint64_t	 size;
	const char	*piece_size;
	const char	*strategy;
	uint64_t	 seed;
	const char	*max_up;
	const char	*leech_max_up;	/* NULL: unlimited */
	long		 time_limit;	/* seconds */
	const char	*out;		/* NULL: ./swarm-<timestamp> */
	bool		 tracker;
};

struct swarm_child {
	char		 name[16];
	bool		 seeder;
	char		 addr[20];	/* its own loopback address */
	uint64_t	 seed;		/* its --seed */
	int		 port;		/* as logged by the child */
	pid_t		 pid;		/* -1 once reaped */
	int		 status;	/* wait status once reaped */
	int64_t		 start_us;	/* fork time, experiment clock */
	char		 dir[PATH_MAX];
	char		 state[PATH_MAX];	/* its own --state-dir */
	char		 log[PATH_MAX];
	char		 trace[PATH_MAX];
	long		 logoff;	/* log bytes already scanned */
	bool		 listening;	/* these four from the log */
	bool		 checked;
	bool		 announced;
	bool		 complete;
	int64_t		 done_us;	/* completion, experiment clock */
	bool		 verified;
	uint64_t	 from_seeds;	/* bytes received from seeders */
	uint64_t	 uploaded;	/* from the log's last line */
	bool		 has_uploaded;
	int64_t		 gap_us;	/* longest time between two verified
					 * pieces, -1 before the second */
	int64_t		 gap_at_us;	/* when that gap began */
	int64_t		 last_ok_us;	/* its last verified piece, -1 */
	/* Peer ids (in this child's trace) of connections to seeders. */
	unsigned	*seedconn;
	size_t		 nseedconn;
};

struct swarm {
	struct swarm_opts	 o;
	char			 self[PATH_MAX];
	char			 tmp[64];
	char			 out[SWARM_OUT_MAX];
	char			 torrent[PATH_MAX];
	char			 payload[PATH_MAX];
	char			 hex[2 * HASH_SHA1_LEN + 1];
	char			 tracker_url[64];
	int			 tracker_port;
	pid_t			 tracker_pid;
	bool			 use_tracker;	/* opentracker started */
	struct swarm_child	*kids;
	int			 nkids;
	uint64_t		 t0_us;		/* monotonic */
	uint64_t		 piece_len;
	uint32_t		 npieces;
	/* [leecher * npieces + piece]: first hash_ok and first block from
	 * a seeder, experiment clock in µs, -1 for never. */
	int64_t			*hash_ok;
	int64_t			*seed_first;
	unsigned long		 bad_lines;
	int			 sigpipe[2];
};

/* The self-pipe: the one piece of global state STYLE.md allows. */
static int swarm_sigfd = -1;

static void
swarm_on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (swarm_sigfd >= 0)
		(void)!write(swarm_sigfd, &c, 1);
	errno = saved;
}

static uint64_t
swarm_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int64_t
swarm_clock(const struct swarm *sw)
{
	return (int64_t)(swarm_now_us() - sw->t0_us);
}

static void
swarm_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool
swarm_interrupted(struct swarm *sw)
{
	char c;

	return read(sw->sigpipe[0], &c, 1) == 1;
}

static void
swarm_usage(FILE *fp)
{
	fprintf(fp, "%s\n", _("usage: thorrent swarm [--seeders S] "
	    "[--leechers L] [--size SIZE] [--piece-size N]\n"
	    "         [--strategy rarest|random|sequential] [--seed N] "
	    "[--max-up RATE]\n"
	    "         [--leecher-max-up RATE] [--time-limit SECS] "
	    "[--out DIR] [--tracker]"));
}

/* SIZE with an optional K, M or G (powers of 1024). */
static int
swarm_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end != '\0' || v > (SWARM_MAX_SIZE >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int
swarm_parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Returns -1 to go on, otherwise the exit status. */
static int
swarm_parse_args(int argc, char **argv, struct swarm_opts *o)
{
	enum { OPT_SEEDERS = 256, OPT_LEECHERS, OPT_SIZE, OPT_PIECE,
	    OPT_STRATEGY, OPT_SEED, OPT_MAXUP, OPT_LMAXUP, OPT_TIME, OPT_OUT,
	    OPT_TRACKER };
	static const struct option longopts[] = {
		{ "seeders", required_argument, NULL, OPT_SEEDERS },
		{ "leechers", required_argument, NULL, OPT_LEECHERS },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "piece-size", required_argument, NULL, OPT_PIECE },
		{ "strategy", required_argument, NULL, OPT_STRATEGY },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "max-up", required_argument, NULL, OPT_MAXUP },
		{ "leecher-max-up", required_argument, NULL, OPT_LMAXUP },
		{ "time-limit", required_argument, NULL, OPT_TIME },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "tracker", no_argument, NULL, OPT_TRACKER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t rate, psize;
	long v;
	char *end;
	int c;

	o->nseed = 1;
	o->nleech = 8;
	o->size = 32u << 20;
	o->piece_size = "64K";
	o->strategy = "rarest";
	o->seed = 1;
	o->max_up = "2M";
	o->time_limit = 300;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SEEDERS:
		case OPT_LEECHERS:
			if (swarm_parse_long(optarg, 1, c == OPT_SEEDERS ?
			    SWARM_MAX_SEEDERS : SWARM_MAX_PROCS - 1, &v) != 0) {
				fprintf(stderr, _("thorrent: swarm: %s wants a "
				    "number from 1 to %d\n"), c == OPT_SEEDERS ?
				    "--seeders" : "--leechers", c == OPT_SEEDERS ?
				    SWARM_MAX_SEEDERS : SWARM_MAX_PROCS - 1);
				return CMD_EXIT_USAGE;
			}
			if (c == OPT_SEEDERS)
				o->nseed = (int)v;
			else
				o->nleech = (int)v;
			break;
		case OPT_SIZE:
			if (swarm_parse_size(optarg, &o->size) != 0 ||
			    o->size == 0) {
				fprintf(stderr, _("thorrent: swarm: --size wants "
				    "a size such as 512K or 32M, at most 4G, "
				    "not '%s'\n"), optarg);
				return CMD_EXIT_USAGE;
			}
			break;
		case OPT_PIECE:
			/* Checked before the payload is written; create
			 * has the same bounds. */
			if (swarm_parse_size(optarg, &psize) != 0 ||
			    psize < SWARM_MIN_PIECE || psize > SWARM_MAX_PIECE ||
			    (psize & (psize - 1)) != 0) {
				fprintf(stderr, "%s\n", _("thorrent: swarm: "
				    "--piece-size must be a power of two from "
				    "16K to 64M"));
				return CMD_EXIT_USAGE;
			}
			o->piece_size = optarg;
			break;
		case OPT_STRATEGY:
			if (strcmp(optarg, "rarest") != 0 &&
			    strcmp(optarg, "random") != 0 &&
			    strcmp(optarg, "sequential") != 0) {
				fprintf(stderr, _("thorrent: swarm: --strategy "
				    "is rarest, random or sequential, not "
				    "'%s'\n"), optarg);
				return CMD_EXIT_USAGE;
			}
			o->strategy = optarg;
			break;
		case OPT_SEED:
			errno = 0;
			o->seed = strtoull(optarg, &end, 0);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    *optarg == '-') {
				fprintf(stderr, "%s\n", _("thorrent: swarm: "
				    "--seed wants a number"));
				return CMD_EXIT_USAGE;
			}
			break;
		case OPT_MAXUP:
		case OPT_LMAXUP:
			if (bucket_parse_rate(optarg, &rate) != 0) {
				fprintf(stderr, _("thorrent: swarm: %s wants a "
				    "rate such as 500K or 2M, not '%s'\n"),
				    c == OPT_MAXUP ? "--max-up" :
				    "--leecher-max-up", optarg);
				return CMD_EXIT_USAGE;
			}
			if (c == OPT_MAXUP)
				o->max_up = optarg;
			else
				o->leech_max_up = optarg;
			break;
		case OPT_TIME:
			if (swarm_parse_long(optarg, 1, SWARM_MAX_TIME,
			    &o->time_limit) != 0) {
				fprintf(stderr, _("thorrent: swarm: --time-limit "
				    "wants seconds from 1 to %ld\n"),
				    SWARM_MAX_TIME);
				return CMD_EXIT_USAGE;
			}
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_TRACKER:
			o->tracker = true;
			break;
		case 'h':
			swarm_usage(stdout);
			return CMD_EXIT_OK;
		case ':':
			fprintf(stderr, _("thorrent: swarm: option '%s' needs "
			    "a value\n"), argv[optind - 1]);
			swarm_usage(stderr);
			return CMD_EXIT_USAGE;
		default:
			fprintf(stderr, _("thorrent: swarm: invalid option "
			    "'%s'\n"), argv[optind - 1]);
			swarm_usage(stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		swarm_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (o->nseed + o->nleech > SWARM_MAX_PROCS) {
		fprintf(stderr, _("thorrent: swarm: at most %d peers in all\n"),
		    SWARM_MAX_PROCS);
		return CMD_EXIT_USAGE;
	}
	return -1;
}

/* splitmix64: the payload follows from --seed, so runs can be replayed
 * with the same piece hashes. */
static uint64_t
swarm_mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int
swarm_write_payload(const char *path, uint64_t size, uint64_t seed)
{
	uint8_t chunk[65536];
	uint64_t x = seed;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	while (size > 0) {
		size_t n = size < sizeof(chunk) ? (size_t)size : sizeof(chunk);

		for (size_t i = 0; i < sizeof(chunk); i += 8) {
			uint64_t r = swarm_mix(&x);
			memcpy(chunk + i, &r, 8);
		}
		if (write(fd, chunk, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
		size -= n;
	}
	return close(fd);
}

/* Byte-for-byte comparison of two files. */
static bool
swarm_same_file(const char *a, const char *b)
{
	static const size_t chunk = 65536;
	char *x = malloc(chunk), *y = malloc(chunk);
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	bool same = x != NULL && y != NULL && fa != NULL && fb != NULL;

	while (same) {
		size_t na = fread(x, 1, chunk, fa), nb = fread(y, 1, chunk, fb);

		if (na != nb || memcmp(x, y, na) != 0)
			same = false;
		else if (na == 0)
			break;
	}
	if (same && (ferror(fa) || ferror(fb)))
		same = false;
	if (fa != NULL)
		fclose(fa);
	if (fb != NULL)
		fclose(fb);
	free(x);
	free(y);
	return same;
}

static bool
swarm_port_open(int port)
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

static int
swarm_rm_one(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
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
 * Fork and exec argv with stdout and stderr to logpath and stdin from
 * /dev/null.  The child gets SIGTERM when we die, so an interrupted
 * experiment leaves no peers behind.
 */
static pid_t
swarm_spawn(const char *prog, char *const argv[], const char *logpath)
{
	pid_t parent = getpid(), pid;
	int fd;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid != 0)
		return pid;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(127);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	if ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	/* The swarm reads the children's log lines, which must stay in
	 * English: under the C locale gettext translates nothing. */
	setenv("LC_ALL", "C", 1);
	execv(prog, argv);
	_exit(127);
}

/* Reap children that have exited, without blocking. */
static void
swarm_reap(struct swarm *sw)
{
	int st;

	for (int i = 0; i < sw->nkids; i++) {
		struct swarm_child *k = &sw->kids[i];

		if (k->pid > 0 && waitpid(k->pid, &st, WNOHANG) == k->pid) {
			k->pid = -1;
			k->status = st;
		}
	}
}

/*
 * Read the lines the child has added to its log since last time; a
 * partial last line is left for the next call.  Notes the listening
 * port, the end of the check, tracker answers, "complete" and the
 * closing byte count.
 */
static void
swarm_scan_log(struct swarm *sw, struct swarm_child *k)
{
	FILE *fp = fopen(k->log, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long long up, down;

	if (fp == NULL)
		return;
	if (fseek(fp, k->logoff, SEEK_SET) != 0) {
		fclose(fp);
		return;
	}
	while ((n = getline(&line, &cap, fp)) > 0 && line[n - 1] == '\n') {
		k->logoff += (long)n;
		if (sscanf(line, "thorrent: info: listening on port %d",
		    &k->port) == 1)
			k->listening = true;
		else if (strncmp(line, "thorrent: info: resume:", 23) == 0)
			k->checked = true;
		else if (strncmp(line, "thorrent: info: tracker ", 24) == 0 &&
		    strstr(line, " peers, next in ") != NULL)
			k->announced = true;
		else if (!k->seeder && !k->complete &&
		    strcmp(line, "thorrent: info: complete\n") == 0) {
			k->complete = true;
			k->done_us = swarm_clock(sw);
		} else if (sscanf(line, "thorrent: info: done: downloaded %llu "
		    "bytes, uploaded %llu bytes", &down, &up) == 2) {
			k->uploaded = up;
			k->has_uploaded = true;
		}
	}
	free(line);
	fclose(fp);
}

/* Wait until *flag is set by the child's log; false on timeout, death
 * or interruption. */
static bool
swarm_wait_flag(struct swarm *sw, struct swarm_child *k, const bool *flag,
    long ms)
{
	for (long waited = 0; waited <= ms; waited += 20) {
		swarm_scan_log(sw, k);
		if (*flag)
			return true;
		swarm_reap(sw);
		if (k->pid < 0 || swarm_interrupted(sw))
			return false;
		swarm_sleep_ms(20);
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

static bool
swarm_start_child(struct swarm *sw, int idx)
{
	struct swarm_child *k = &sw->kids[idx];
	char port[16], seed[32], peers[SWARM_MAX_PROCS][32];
	char *argv[40 + 2 * SWARM_MAX_PROCS];
	int n = 0, np = 0;

	snprintf(port, sizeof(port), "%d", conn_free_port());
	snprintf(seed, sizeof(seed), "0x%016" PRIx64, k->seed);
	argv[n++] = "thorrent";
	argv[n++] = "--no-tui";
	/* A local swarm: keep off the public DHT, the gateway and the
	 * LAN's multicast group. */
	argv[n++] = "--no-dht";
	argv[n++] = "--no-upnp";
	argv[n++] = "--no-natpmp";
	argv[n++] = "--no-lsd";
	/* The experiment is what the command line says, whatever the
	 * user's configuration file holds. */
	argv[n++] = "--no-config";
	argv[n++] = "--log";
	argv[n++] = "info";
	argv[n++] = "--path";
	argv[n++] = k->dir;
	argv[n++] = "--state-dir";
	argv[n++] = k->state;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--bind-address";
	argv[n++] = k->addr;
	argv[n++] = "--seed-ratio";
	argv[n++] = "-1";
	argv[n++] = "--strategy";
	argv[n++] = (char *)sw->o.strategy;
	argv[n++] = "--seed";
	argv[n++] = seed;
	argv[n++] = "--trace";
	argv[n++] = k->trace;
	if (k->seeder || sw->o.leech_max_up != NULL) {
		argv[n++] = "--max-up";
		argv[n++] = (char *)(k->seeder ? sw->o.max_up :
		    sw->o.leech_max_up);
	}
	/*
	 * Without a tracker, a leecher is told the seeders and the leechers
	 * started before it, which already listen; the ones after it dial
	 * in.  So the mesh is complete and no dial hits a closed port,
	 * which would cost a back-off of 30 s or more.
	 */
	if (!k->seeder && !sw->use_tracker) {
		for (int j = 0; j < idx; j++) {
			snprintf(peers[np], sizeof(peers[np]), "%s:%d",
			    sw->kids[j].addr, sw->kids[j].port);
			argv[n++] = "--peer";
			argv[n++] = peers[np++];
		}
	}
	argv[n++] = sw->torrent;
	argv[n] = NULL;
	k->start_us = swarm_clock(sw);
	k->pid = swarm_spawn(sw->self, argv, k->log);
	if (k->pid < 0) {
		fprintf(stderr, _("thorrent: swarm: cannot start %s: %s\n"),
		    k->name, strerror(errno));
		return false;
	}
	return true;
}

/* Wait until the child listens (and, with a tracker, has announced). */
static bool
swarm_wait_ready(struct swarm *sw, struct swarm_child *k)
{
	bool ok = swarm_wait_flag(sw, k, &k->listening, SWARM_READY_MS);

	if (ok && k->seeder)
		ok = swarm_wait_flag(sw, k, &k->checked, SWARM_READY_MS);
	if (ok && sw->use_tracker &&
	    !swarm_wait_flag(sw, k, &k->announced, SWARM_ANNOUNCE_MS))
		fprintf(stderr, _("thorrent: swarm: %s has no answer from the "
		    "tracker yet; going on\n"), k->name);
	if (!ok)
		fprintf(stderr, _("thorrent: swarm: %s did not start; see "
		    "%s\n"), k->name, k->log);
	return ok;
}

/*
 * Debian's opentracker is whitelist-only, chroots into tracker.rootdir
 * and refuses to keep root, so as root it is told to become nobody, and
 * the whitelist lives in the rootdir, named relative to it.
 */
static bool
swarm_start_tracker(struct swarm *sw, const char *prog)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], logpath[PATH_MAX + 16];
	char *argv[] = { "opentracker", "-f", path, NULL };
	struct passwd *pw = getpwuid(geteuid());
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/tracker", sw->tmp);
	if (mkdir(dir, 0755) != 0 || chmod(dir, 0755) != 0)
		return false;
	snprintf(path, sizeof(path), "%s/whitelist", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return false;
	fprintf(fp, "%s\n", sw->hex);
	if (fclose(fp) != 0)
		return false;
	snprintf(path, sizeof(path), "%s/opentracker.conf", dir);
	if ((fp = fopen(path, "w")) == NULL)
		return false;
	fprintf(fp, "listen.tcp_udp 127.0.0.1:%d\naccess.whitelist "
	    "whitelist\ntracker.rootdir %s\ntracker.user %s\n",
	    sw->tracker_port, dir, geteuid() == 0 || pw == NULL ? "nobody" :
	    pw->pw_name);
	if (fclose(fp) != 0)
		return false;
	snprintf(logpath, sizeof(logpath), "%s/tracker.log", sw->out);
	sw->tracker_pid = swarm_spawn(prog, argv, logpath);
	if (sw->tracker_pid < 0)
		return false;
	for (int waited = 0; waited < 10000; waited += 50) {
		if (swarm_port_open(sw->tracker_port)) {
			sw->use_tracker = true;
			return true;
		}
		if (waitpid(sw->tracker_pid, NULL, WNOHANG) == sw->tracker_pid) {
			sw->tracker_pid = -1;
			return false;
		}
		swarm_sleep_ms(50);
	}
	return false;
}

/* SIGTERM to everyone at once, up to SWARM_STOP_MS for all, then
 * SIGKILL to the rest. */
static void
swarm_stop_all(struct swarm *sw)
{
	int live;

	for (int i = 0; i < sw->nkids; i++)
		if (sw->kids[i].pid > 0)
			kill(sw->kids[i].pid, SIGTERM);
	if (sw->tracker_pid > 0)
		kill(sw->tracker_pid, SIGTERM);
	for (int waited = 0; waited < SWARM_STOP_MS; waited += 50) {
		swarm_reap(sw);
		if (sw->tracker_pid > 0 &&
		    waitpid(sw->tracker_pid, NULL, WNOHANG) == sw->tracker_pid)
			sw->tracker_pid = -1;
		live = sw->tracker_pid > 0;
		for (int i = 0; i < sw->nkids; i++)
			live += sw->kids[i].pid > 0;
		if (live == 0)
			return;
		swarm_sleep_ms(50);
	}
	for (int i = 0; i < sw->nkids; i++) {
		struct swarm_child *k = &sw->kids[i];

		if (k->pid > 0) {
			kill(k->pid, SIGKILL);
			waitpid(k->pid, &k->status, 0);
			k->pid = -1;
		}
	}
	if (sw->tracker_pid > 0) {
		kill(sw->tracker_pid, SIGKILL);
		waitpid(sw->tracker_pid, NULL, 0);
		sw->tracker_pid = -1;
	}
}

/* --- traces ----------------------------------------------------------- */

/* The unsigned number after "key": in a trace line. */
static bool
swarm_field_u64(const char *line, const char *key, uint64_t *out)
{
	char pat[32];
	const char *p;
	char *end;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((p = strstr(line, pat)) == NULL)
		return false;
	p += strlen(pat);
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	*out = strtoull(p, &end, 10);
	return errno == 0;
}

/* True if the event name is ev. */
static bool
swarm_is_ev(const char *line, const char *ev)
{
	const char *p = strstr(line, "\"ev\":\"");
	size_t n = strlen(ev);

	return p != NULL && strncmp(p + 6, ev, n) == 0 && p[6 + n] == '"';
}

/* True if a trace line's "addr" (IP:PORT) is a seeder's: every child
 * has an address of its own, so the IP says who, whichever side dialled
 * and from whatever port. */
static bool
swarm_is_seeder_addr(const struct swarm *sw, const char *line)
{
	const char *a = strstr(line, "\"addr\":\"");

	if (a == NULL)
		return false;
	a += 8;
	for (int j = 0; j < sw->o.nseed; j++) {
		size_t n = strlen(sw->kids[j].addr);

		if (strncmp(a, sw->kids[j].addr, n) == 0 && a[n] == ':')
			return true;
	}
	return false;
}

static bool
swarm_from_seeder(const struct swarm_child *k, unsigned peer)
{
	for (size_t i = 0; i < k->nseedconn; i++)
		if (k->seedconn[i] == peer)
			return true;
	return false;
}

/* One leecher event, t on the experiment clock. */
static void
swarm_account(struct swarm *sw, int li, int64_t t, const char *line)
{
	struct swarm_child *k = &sw->kids[sw->o.nseed + li];
	uint64_t peer, index, len;
	int64_t *slot;

	if (swarm_is_ev(line, "connect")) {
		if (!swarm_field_u64(line, "peer", &peer) ||
		    !swarm_is_seeder_addr(sw, line))
			return;
		if (k->nseedconn < SWARM_SEEDCONN_MAX)
			k->seedconn[k->nseedconn++] = (unsigned)peer;
	} else if (swarm_is_ev(line, "piece")) {
		if (!swarm_field_u64(line, "peer", &peer) ||
		    !swarm_field_u64(line, "index", &index) ||
		    !swarm_field_u64(line, "length", &len) ||
		    index >= sw->npieces || !swarm_from_seeder(k, (unsigned)peer))
			return;
		k->from_seeds += len;
		slot = &sw->seed_first[(size_t)li * sw->npieces + index];
		if (*slot < 0)
			*slot = t;
	} else if (swarm_is_ev(line, "hash_ok")) {
		if (!swarm_field_u64(line, "index", &index) ||
		    index >= sw->npieces)
			return;
		slot = &sw->hash_ok[(size_t)li * sw->npieces + index];
		if (*slot >= 0)
			return;
		*slot = t;
		/* Lines come in time order: the gap since the last one. */
		if (k->last_ok_us >= 0 && t - k->last_ok_us > k->gap_us) {
			k->gap_us = t - k->last_ok_us;
			k->gap_at_us = k->last_ok_us;
		}
		k->last_ok_us = t;
	}
}

struct swarm_src {
	FILE	*fp;
	char	*line;
	size_t	 cap;
	int64_t	 t;		/* experiment clock of line */
	char	*rest;		/* line after the "t" value */
};

/* Next well-formed line of a trace; false at its end. */
static bool
swarm_src_next(struct swarm *sw, struct swarm_src *s, int64_t start_us)
{
	ssize_t n;
	char *end;
	unsigned long long t;

	while (s->fp != NULL && (n = getline(&s->line, &s->cap, s->fp)) > 0) {
		/* A child killed mid-write leaves a partial last line. */
		if (s->line[n - 1] != '\n' || n > SWARM_LINE_MAX ||
		    strncmp(s->line, "{\"t\":", 5) != 0) {
			sw->bad_lines++;
			continue;
		}
		errno = 0;
		t = strtoull(s->line + 5, &end, 10);
		if (errno != 0 || end == s->line + 5 || *end != ',' ||
		    t > INT64_MAX / 2) {
			sw->bad_lines++;
			continue;
		}
		s->t = start_us + (int64_t)t;
		s->rest = end;
		return true;
	}
	return false;
}

/*
 * Merge the children's traces, each already in time order, into
 * OUT/merged.jsonl: every line gets the experiment clock as "t" and its
 * source as "src".  Leecher lines feed the metrics on the way.
 */
static int
swarm_merge(struct swarm *sw)
{
	struct swarm_src *src;
	char path[PATH_MAX + 16];
	FILE *out;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/merged.jsonl", sw->out);
	if ((out = fopen(path, "w")) == NULL)
		return -1;
	if ((src = calloc((size_t)sw->nkids, sizeof(*src))) == NULL) {
		fclose(out);
		return -1;
	}
	for (int i = 0; i < sw->nkids; i++) {
		src[i].fp = fopen(sw->kids[i].trace, "r");
		if (!swarm_src_next(sw, &src[i], sw->kids[i].start_us) &&
		    src[i].fp != NULL) {
			fclose(src[i].fp);
			src[i].fp = NULL;
		}
	}
	for (;;) {
		int best = -1;

		for (int i = 0; i < sw->nkids; i++)
			if (src[i].fp != NULL &&
			    (best < 0 || src[i].t < src[best].t))
				best = i;
		if (best < 0)
			break;
		fprintf(out, "{\"t\":%" PRId64 ",\"src\":\"%s\"%s",
		    src[best].t, sw->kids[best].name, src[best].rest);
		if (best >= sw->o.nseed)
			swarm_account(sw, best - sw->o.nseed, src[best].t,
			    src[best].rest);
		if (!swarm_src_next(sw, &src[best],
		    sw->kids[best].start_us)) {
			fclose(src[best].fp);
			src[best].fp = NULL;
		}
	}
	for (int i = 0; i < sw->nkids; i++)
		free(src[i].line);
	free(src);
	if (fclose(out) != 0)
		rc = -1;
	return rc;
}

/* --- summary ---------------------------------------------------------- */

static int
swarm_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double
swarm_sec(int64_t us)
{
	return (double)us / 1e6;
}

/* Print the summary to fp; returns the number of leechers that
 * completed with verified data. */
static int
swarm_summary(struct swarm *sw, FILE *fp)
{
	int nl = sw->o.nleech, ndone = 0, nver = 0;
	int64_t *times = calloc((size_t)nl, sizeof(*times));
	int64_t spread = 0;
	uint64_t seedup = 0, seedlog = 0, seedpieces = 0;
	bool spread_ok = true, logs_ok = true;
	int worst = -1;		/* the leecher with the longest gap */

	if (times == NULL)
		return 0;
	for (int i = 0; i < nl; i++) {
		struct swarm_child *k = &sw->kids[sw->o.nseed + i];
		int64_t last = -1;
		uint32_t have = 0;

		if (k->gap_us >= 0 &&
		    (worst < 0 || k->gap_us > sw->kids[worst].gap_us))
			worst = sw->o.nseed + i;

		/* The last hash_ok is exact; the log is seen by polling. */
		for (uint32_t p = 0; p < sw->npieces; p++) {
			int64_t t = sw->hash_ok[(size_t)i * sw->npieces + p];

			if (t >= 0) {
				have++;
				if (t > last)
					last = t;
			}
		}
		if (k->complete && have == sw->npieces)
			k->done_us = last;
		if (k->complete)
			times[ndone++] = k->done_us;
		nver += k->complete && k->verified;
		seedup += k->from_seeds;
	}
	for (int j = 0; j < sw->o.nseed; j++) {
		seedlog += sw->kids[j].uploaded;
		logs_ok = logs_ok && sw->kids[j].has_uploaded;
	}
	for (uint32_t p = 0; p < sw->npieces && spread_ok; p++) {
		int64_t first = -1;

		for (int i = 0; i < nl; i++) {
			int64_t t = sw->hash_ok[(size_t)i * sw->npieces + p];

			if (t >= 0 && (first < 0 || t < first))
				first = t;
		}
		if (first < 0)
			spread_ok = false;
		else if (first > spread)
			spread = first;
	}
	if (spread_ok)
		for (size_t x = 0; x < (size_t)nl * sw->npieces; x++)
			seedpieces += sw->seed_first[x] >= 0 &&
			    sw->seed_first[x] <= spread;
	qsort(times, (size_t)ndone, sizeof(*times), swarm_cmp_i64);

	if (sw->o.leech_max_up != NULL)
		fprintf(fp, _("thorrent swarm: strategy %s, seed %" PRIu64 ", "
		    "%d seeders at %s/s, %d leechers at %s/s, %s\n"),
		    sw->o.strategy, sw->o.seed, sw->o.nseed, sw->o.max_up, nl,
		    sw->o.leech_max_up, sw->use_tracker ? _("opentracker") :
		    _("--peer lists"));
	else
		fprintf(fp, _("thorrent swarm: strategy %s, seed %" PRIu64 ", "
		    "%d seeders at %s/s, %d leechers, %s\n"), sw->o.strategy,
		    sw->o.seed, sw->o.nseed, sw->o.max_up, nl,
		    sw->use_tracker ? _("opentracker") : _("--peer lists"));
	fprintf(fp, "%-28s %" PRIu64 " %s, %" PRIu32 " %s %" PRIu64 " %s\n",
	    _("payload"), sw->o.size, _("bytes"), sw->npieces,
	    _("pieces of"), sw->piece_len, _("bytes"));
	fprintf(fp, "%-28s %d / %d, %s %d / %d\n", _("leechers complete"),
	    ndone, nl, _("data verified"), nver, nl);
	if (ndone > 0) {
		int64_t med = ndone % 2 ? times[ndone / 2] :
		    (times[ndone / 2 - 1] + times[ndone / 2]) / 2;

		fprintf(fp, "%-28s %s %.2f  %s %.2f  %s %.2f\n",
		    _("completion (s)"), _("min"), swarm_sec(times[0]),
		    _("median"), swarm_sec(med), _("max"),
		    swarm_sec(times[ndone - 1]));
	} else
		fprintf(fp, "%-28s %s\n", _("completion (s)"), _("none"));
	fprintf(fp, "%-28s %" PRIu64 " %s = %.3f x %s\n",
	    _("seeder upload (traces)"), seedup, _("bytes"),
	    (double)seedup / (double)sw->o.size, _("payload"));
	if (logs_ok)
		fprintf(fp, "%-28s %" PRIu64 " %s = %.3f x %s\n",
		    _("seeder upload (logs)"), seedlog, _("bytes"),
		    (double)seedlog / (double)sw->o.size, _("payload"));
	if (spread_ok) {
		fprintf(fp, "%-28s %.2f\n", _("piece spread (s)"),
		    swarm_sec(spread));
		fprintf(fp, "%-28s %" PRIu64 " = %.3f x %s\n",
		    _("seeder pieces by then"), seedpieces,
		    (double)seedpieces / (double)sw->npieces,
		    _("piece count"));
	} else
		fprintf(fp, "%-28s %s\n", _("piece spread (s)"),
		    _("never: some piece never reached a leecher"));
	if (worst >= 0)
		fprintf(fp, _("%-28s %.2f (%s, from %.2f s)\n"),
		    _("longest gap (s)"), swarm_sec(sw->kids[worst].gap_us),
		    sw->kids[worst].name, swarm_sec(sw->kids[worst].gap_at_us));
	if (sw->bad_lines > 0)
		fprintf(fp, "%-28s %lu\n", _("unreadable trace lines"),
		    sw->bad_lines);
	fprintf(fp, "\n%-8s %-21s %9s %11s %7s %14s %s\n", _("peer"),
	    _("address"), _("start(s)"), _("complete(s)"), _("gap(s)"),
	    _("from seeders"), _("data"));
	for (int i = 0; i < sw->nkids; i++) {
		struct swarm_child *k = &sw->kids[i];
		char done[32], from[32], gap[32], addr[32];

		if (k->seeder)
			snprintf(done, sizeof(done), "-");
		else if (k->complete)
			snprintf(done, sizeof(done), "%.2f",
			    swarm_sec(k->done_us));
		else
			snprintf(done, sizeof(done), "%s", _("no"));
		if (k->seeder)
			snprintf(from, sizeof(from), "-");
		else
			snprintf(from, sizeof(from), "%" PRIu64,
			    k->from_seeds);
		if (k->gap_us >= 0)
			snprintf(gap, sizeof(gap), "%.2f", swarm_sec(k->gap_us));
		else
			snprintf(gap, sizeof(gap), "-");
		snprintf(addr, sizeof(addr), "%s:%d", k->addr, k->port);
		fprintf(fp, "%-8s %-21s %9.3f %11s %7s %14s %s\n", k->name,
		    addr, swarm_sec(k->start_us), done, gap, from, k->seeder ?
		    _("seed") :
		    k->verified ? _("verified") : !k->complete ?
		    _("incomplete") : _("differs"));
	}
	free(times);
	return nver;
}

/* OUT/peers.tsv: what tools/plot-trace needs besides merged.jsonl. */
static void
swarm_write_peers(const struct swarm *sw)
{
	char path[PATH_MAX + 16];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/peers.tsv", sw->out);
	if ((fp = fopen(path, "w")) == NULL)
		return;
	fprintf(fp, "name\trole\tport\tstart_us\tdone_us\tverified\taddr\t"
	    "seed\tgap_us\n");
	for (int i = 0; i < sw->nkids; i++) {
		const struct swarm_child *k = &sw->kids[i];

		fprintf(fp, "%s\t%s\t%d\t%" PRId64 "\t%" PRId64 "\t%d\t%s\t"
		    "0x%016" PRIx64 "\t%" PRId64 "\n", k->name, k->seeder ?
		    "seeder" : "leecher", k->port, k->start_us,
		    k->complete ? k->done_us : -1, k->verified ? 1 : 0,
		    k->addr, k->seed, k->gap_us);
	}
	fprintf(fp, "#pieces\t%" PRIu32 "\n", sw->npieces);
	fclose(fp);
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

static bool
swarm_make_kids(struct swarm *sw)
{
	sw->nkids = sw->o.nseed + sw->o.nleech;
	sw->kids = calloc((size_t)sw->nkids, sizeof(*sw->kids));
	if (sw->kids == NULL)
		return false;
	for (int i = 0; i < sw->nkids; i++) {
		struct swarm_child *k = &sw->kids[i];

		k->seeder = i < sw->o.nseed;
		k->pid = -1;
		k->done_us = -1;
		k->gap_us = -1;
		k->gap_at_us = -1;
		k->last_ok_us = -1;
		snprintf(k->name, sizeof(k->name), k->seeder ? "seed%d" :
		    "leech%d", k->seeder ? i : i - sw->o.nseed);
		snprintf(k->addr, sizeof(k->addr), "127.0.%d.1",
		    SWARM_ADDR_FIRST + i);
		k->seed = swarm_child_seed(sw->o.seed, k->name);
		snprintf(k->log, sizeof(k->log), "%s/peer-%s.log", sw->out,
		    k->name);
		snprintf(k->trace, sizeof(k->trace), "%s/peer-%s.jsonl",
		    sw->out, k->name);
		/* Each its own state directory: the seeders share one
		 * folder, which one state directory would lock to one of
		 * them, and the user's home stays out of the experiment. */
		snprintf(k->state, sizeof(k->state), "%s/%s.state", sw->tmp,
		    k->name);
		if (k->seeder)
			snprintf(k->dir, sizeof(k->dir), "%s/seed", sw->tmp);
		else {
			snprintf(k->dir, sizeof(k->dir), "%s/%s", sw->tmp,
			    k->name);
			if (mkdir(k->dir, 0755) != 0)
				return false;
		}
		if (!k->seeder && (k->seedconn = calloc(SWARM_SEEDCONN_MAX,
		    sizeof(*k->seedconn))) == NULL)
			return false;
	}
	return true;
}

/* Payload, torrent, and the piece geometry read back from it. */
static bool
swarm_make_torrent(struct swarm *sw)
{
	struct metainfo mi;
	struct thr_error err;
	char seeddir[128];
	char *cargv[9];
	int n = 0;

	snprintf(seeddir, sizeof(seeddir), "%s/seed", sw->tmp);
	snprintf(sw->payload, sizeof(sw->payload), "%s/%s", seeddir,
	    SWARM_PAYLOAD);
	snprintf(sw->torrent, sizeof(sw->torrent), "%s/swarm.torrent",
	    sw->out);
	if (mkdir(seeddir, 0755) != 0 ||
	    swarm_write_payload(sw->payload, sw->o.size, sw->o.seed) != 0) {
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
	if (cmd_create(n, cargv) != 0)
		return false;
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
	sw->hash_ok = malloc((size_t)sw->o.nleech * sw->npieces *
	    sizeof(*sw->hash_ok));
	sw->seed_first = malloc((size_t)sw->o.nleech * sw->npieces *
	    sizeof(*sw->seed_first));
	if (sw->hash_ok == NULL || sw->seed_first == NULL) {
		fprintf(stderr, "thorrent: swarm: %s\n", _("out of memory"));
		return false;
	}
	for (size_t x = 0; x < (size_t)sw->o.nleech * sw->npieces; x++)
		sw->hash_ok[x] = sw->seed_first[x] = -1;
	return true;
}

static bool
swarm_setup_signals(struct swarm *sw)
{
	struct sigaction sa;

	if (pipe2(sw->sigpipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return false;
	swarm_sigfd = sw->sigpipe[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = swarm_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return true;
}

static void
swarm_restore_signals(struct swarm *sw)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	swarm_sigfd = -1;
	if (sw->sigpipe[0] >= 0) {
		close(sw->sigpipe[0]);
		close(sw->sigpipe[1]);
	}
}

/* Start everything and wait for the leechers; false on a setup error
 * or an interruption. */
static bool
swarm_run(struct swarm *sw)
{
	int done, live;

	for (int j = 0; j < sw->o.nseed; j++)
		if (!swarm_start_child(sw, j))
			return false;
	for (int j = 0; j < sw->o.nseed; j++)
		if (!swarm_wait_ready(sw, &sw->kids[j]))
			return false;
	printf(_("swarm: %d seeders ready; starting %d leechers\n"),
	    sw->o.nseed, sw->o.nleech);
	/* The experiment clock starts with the first leecher. */
	{
		uint64_t now = swarm_now_us();
		int64_t shift = (int64_t)(now - sw->t0_us);

		for (int j = 0; j < sw->o.nseed; j++)
			sw->kids[j].start_us -= shift;
		sw->t0_us = now;
	}
	for (int i = sw->o.nseed; i < sw->nkids; i++)
		if (!swarm_start_child(sw, i) ||
		    !swarm_wait_ready(sw, &sw->kids[i]))
			return false;
	for (;;) {
		swarm_reap(sw);
		done = live = 0;
		for (int i = sw->o.nseed; i < sw->nkids; i++) {
			struct swarm_child *k = &sw->kids[i];

			swarm_scan_log(sw, k);
			done += k->complete;
			live += !k->complete && k->pid > 0;
		}
		if (live == 0)
			break;
		if (swarm_clock(sw) > (int64_t)sw->o.time_limit * 1000000) {
			printf(_("swarm: time limit of %ld s reached with %d of "
			    "%d leechers complete\n"), sw->o.time_limit, done,
			    sw->o.nleech);
			break;
		}
		if (swarm_interrupted(sw)) {
			fprintf(stderr, "thorrent: swarm: %s\n",
			    _("interrupted"));
			return false;
		}
		swarm_sleep_ms(SWARM_POLL_MS);
	}
	return true;
}

int
cmd_swarm(int argc, char **argv)
{
	struct swarm *sw;
	char tracker[PATH_MAX], path[PATH_MAX + 16];
	FILE *fp;
	ssize_t n;
	int rc, nver = 0;
	bool ran = false;

	if ((sw = calloc(1, sizeof(*sw))) == NULL) {
		fprintf(stderr, "thorrent: swarm: %s\n", _("out of memory"));
		return CMD_EXIT_ERROR;
	}
	sw->sigpipe[0] = sw->sigpipe[1] = -1;
	if ((rc = swarm_parse_args(argc, argv, &sw->o)) >= 0) {
		free(sw);
		return rc;
	}
	rc = CMD_EXIT_ERROR;
	n = readlink("/proc/self/exe", sw->self, sizeof(sw->self) - 1);
	if (n <= 0) {
		fprintf(stderr, "thorrent: swarm: %s\n",
		    _("cannot find the thorrent binary"));
		free(sw);
		return CMD_EXIT_ERROR;
	}
	sw->self[n] = '\0';
	snprintf(sw->tmp, sizeof(sw->tmp), "/tmp/thorrent-swarm.XXXXXX");
	if (!swarm_make_out(sw))
		goto out_free;
	if (mkdtemp(sw->tmp) == NULL) {
		fprintf(stderr, _("thorrent: swarm: cannot make a temporary "
		    "directory: %s\n"), strerror(errno));
		sw->tmp[0] = '\0';
		goto out_free;
	}
	if (!swarm_setup_signals(sw))
		goto out_tmp;
	sw->t0_us = swarm_now_us();
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
	    "in %s\n"), sw->o.size, sw->tmp);
	if (!swarm_make_torrent(sw) || !swarm_make_kids(sw))
		goto out_stop;
	if (sw->tracker_url[0] != '\0' && !swarm_start_tracker(sw, tracker)) {
		fprintf(stderr, _("thorrent: swarm: opentracker did not start; "
		    "see %s/tracker.log\n"), sw->out);
		goto out_stop;
	}
	ran = swarm_run(sw);
out_stop:
	swarm_stop_all(sw);
	if (sw->kids != NULL) {
		for (int i = 0; i < sw->nkids; i++) {
			struct swarm_child *k = &sw->kids[i];

			/* The closing byte count is logged on exit. */
			swarm_scan_log(sw, k);
			if (k->seeder || !k->complete)
				continue;
			snprintf(path, sizeof(path), "%s/%s", k->dir,
			    SWARM_PAYLOAD);
			k->verified = swarm_same_file(sw->payload, path);
		}
	}
	if (ran) {
		if (swarm_merge(sw) != 0)
			fprintf(stderr, _("thorrent: swarm: cannot write "
			    "%s/merged.jsonl\n"), sw->out);
		nver = swarm_summary(sw, stdout);
		snprintf(path, sizeof(path), "%s/summary.txt", sw->out);
		if ((fp = fopen(path, "w")) != NULL) {
			swarm_summary(sw, fp);
			fclose(fp);
		}
		swarm_write_peers(sw);
		printf(_("swarm: traces, logs and summary in %s\n"), sw->out);
		if (nver == sw->o.nleech)
			rc = CMD_EXIT_OK;
		else
			fprintf(stderr, _("thorrent: swarm: %d of %d leechers "
			    "completed with data identical to the payload\n"),
			    nver, sw->o.nleech);
	}
	swarm_restore_signals(sw);
out_tmp:
	nftw(sw->tmp, swarm_rm_one, 16, FTW_DEPTH | FTW_PHYS);
out_free:
	if (sw->kids != NULL)
		for (int i = 0; i < sw->nkids; i++)
			free(sw->kids[i].seedconn);
	free(sw->kids);
	free(sw->hash_ok);
	free(sw->seed_first);
	free(sw);
	return rc;
}
