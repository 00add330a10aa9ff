/*
 * harness.h: the child processes of "thorrent demo" and "thorrent swarm".
 *
 * Data model: a harness owns a private work directory under /tmp, a
 * fixed table of children and the signal self-pipe of the command that
 * uses it.  A child is a process started from an argv, with its
 * standard output and error in a log file that only people read, and,
 * when it is a thorrent, a --trace file that the harness follows while
 * the child runs: what a child has done (it listens, its data are
 * checked, a tracker answered, its download is complete, its closing
 * counts) comes from its trace events (thorrent(1), TRACE FORMAT), never
 * from its log text, whose language and wording are free to change.
 *
 *	struct harness h;
 *	harness_init(&h, "swarm", nmax, &err);	binary, work dir, signals
 *	c = harness_add(&h, name, logpath, tracepath);
 *	harness_argv_thorrent(&a, dir, statedir, tracepath);
 *	harness_argv_add(&a, "--max-up", "2M"); ...; harness_argv_add(&a,
 *	    torrent, NULL);
 *	harness_start(&h, c, NULL, &a);
 *	harness_wait(&h, c, &c->seen.listening, ms);
 *	loop: harness_pump(&h); look at c->seen, c->pid; harness_sleep_ms
 *	harness_stop_all(&h);
 *	harness_release(&h);		stops the rest, removes the work dir
 *
 * Children are stopped by PID: SIGTERM to all at once, HARNESS_STOP_MS
 * for all, then SIGKILL.  Each child also gets SIGTERM if we die first
 * (PR_SET_PDEATHSIG), so an interrupted command leaves no process
 * behind.  Every wait is bounded, and ends early when the child dies or
 * a signal (SIGINT, SIGTERM, SIGHUP) arrives.
 *
 * A trace is read in bounded pieces from where the last read stopped; a
 * partial last line waits for the next read, and a line longer than
 * HARNESS_LINE_MAX is skipped and counted.  Errors are returned, never
 * printed, except where a function says so.
 */
#ifndef THR_HARNESS_H
#define THR_HARNESS_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define HARNESS_STOP_MS		5000	/* SIGTERM, then SIGKILL */
#define HARNESS_POLL_MS		20	/* a wait looks again this often */
#define HARNESS_LINE_MAX	4096	/* our trace lines are < 2048 bytes
					 * (TRACE_LINE_MAX) */
#define HARNESS_DIR_MAX		64	/* "/tmp/thorrent-NAME.XXXXXX" */
/* A leecher of the swarm is told up to 64 other peers (--peer twice
 * each), and a score of options besides. */
#define HARNESS_ARGV_MAX	192

/* What a child's trace has said so far. */
struct harness_seen {
	bool		 listening;	/* a "listen" event: port below */
	uint16_t	 port;
	bool		 checked;	/* a "phase" event from checking */
	bool		 announced;	/* an "announce_result" that is ok */
	bool		 complete;	/* a "phase" event to seeding or done */
	uint64_t	 complete_us;	/* its "t" */
	bool		 stopped;	/* the "stop" event, with the run's */
	uint64_t	 downloaded;	/* counts */
	uint64_t	 uploaded;
	uint64_t	 verified;
};

struct harness_child {
	char			 name[16];
	char			 log[PATH_MAX];		/* stdout, stderr */
	char			 trace[PATH_MAX];	/* "": none */
	pid_t			 pid;		/* -1 before the start and
						 * once reaped */
	int			 status;	/* wait status once reaped */
	off_t			 off;		/* trace bytes read */
	bool			 skipping;	/* inside a line too long */
	unsigned long		 bad_lines;	/* skipped or not ours */
	struct harness_seen	 seen;
};

struct harness {
	char			 self[PATH_MAX];	/* our binary */
	char			 dir[HARNESS_DIR_MAX];	/* work dir, "" */
	struct harness_child	*kids;		/* owned, nmax of them */
	size_t			 nkids, nmax;
	int			 sigpipe[2];	/* -1 when off */
	bool			 interrupted;	/* sticky */
};

/* An argv under construction: pointers to the caller's strings, which
 * must outlive harness_start, and the port number's text. */
struct harness_argv {
	char	*v[HARNESS_ARGV_MAX + 1];	/* ends in NULL */
	int	 n;
	bool	 full;		/* an option did not fit: not started */
	char	 port[16];
};

/*
 * Find our own binary, make the work directory /tmp/thorrent-NAME.XXXXXX
 * (name is "demo" or "swarm"), room for nmax children, and catch SIGINT,
 * SIGTERM and SIGHUP on a self-pipe.  0, or an error with err filled (a
 * translated line for "thorrent: NAME: "); nothing is left to release.
 */
int	harness_init(struct harness *h, const char *name, size_t nmax,
	    struct thr_error *err);
/* Give SIGINT, SIGTERM and SIGHUP back to their defaults, before
 * handing the process to a command with signals of its own (the demo's
 * download); harness_release does it too. */
void	harness_signals_off(struct harness *h);
/* Stop every child still running, give the signals back, remove the
 * work directory with everything in it, free the table. */
void	harness_release(struct harness *h);

/*
 * A new child named name (at most 15 bytes kept) with its log and trace
 * paths (trace may be NULL: a child that writes no trace).  Returns it,
 * or NULL when nmax children exist or a path is too long.  The harness
 * owns it; the pointer stays valid until harness_release.
 */
struct harness_child	*harness_add(struct harness *h, const char *name,
			    const char *log, const char *trace);

/*
 * The start of a thorrent child's argv, which keeps it local and
 * private: no view, no DHT, no gateway, no LSD, no configuration file,
 * its data in dir and its resume record and lock in state (seeders of
 * one folder each need their own), a free port of 127.0.0.1 as asked
 * for, seeding until stopped, and its trace in trace.  Add the rest,
 * the torrent last.  0, or -1 when no port is free.
 */
int	harness_argv_thorrent(struct harness_argv *a, const char *dir,
	    const char *state, const char *trace);
/* Append opt and, unless NULL, its value; full is set when it does not
 * fit. */
void	harness_argv_add(struct harness_argv *a, const char *opt,
	    const char *val);

/*
 * Start child c: prog (NULL: our own binary) with a's argv, standard
 * output and error to c's log, standard input from /dev/null.  0, or -1
 * with errno (E2BIG for a full argv).
 */
int	harness_start(struct harness *h, struct harness_child *c,
	    const char *prog, const struct harness_argv *a);

/* Reap the children that have exited and read what their traces added;
 * never blocks. */
void	harness_pump(struct harness *h);
/* Read what c's trace added since the last read into c->seen. */
void	harness_follow(struct harness_child *c);
/*
 * Wait up to ms for *flag (a field of c->seen) to become true.  False
 * on timeout, when c died, or when a signal arrived
 * (harness_interrupted then says so).
 */
bool	harness_wait(struct harness *h, struct harness_child *c,
	    const bool *flag, long ms);
/* Wait up to ms for a TCP listener on 127.0.0.1:port, a child that
 * writes no trace (opentracker).  False as harness_wait. */
bool	harness_wait_port(struct harness *h, struct harness_child *c,
	    int port, long ms);
/* A signal arrived since harness_init (sticky). */
bool	harness_interrupted(struct harness *h);
/* SIGTERM to every live child, up to HARNESS_STOP_MS for all of them,
 * then SIGKILL; every child is reaped. */
void	harness_stop_all(struct harness *h);

/*
 * A payload file of size bytes at path: the bytes of a splitmix64
 * stream from *seed (the same seed gives the same file, so runs can be
 * replayed), or from the system's random source when seed is NULL.  0,
 * or -1 with errno.
 */
int	harness_write_payload(const char *path, uint64_t size,
	    const uint64_t *seed);

/* The monotonic clock in microseconds, and a sleep. */
uint64_t	harness_now_us(void);
void	harness_sleep_ms(long ms);

/*
 * One trace line (NUL-terminated, as read back from a file we wrote):
 * its "t", the test of its event name, the unsigned number or the text
 * of a field.  Field names are found as "key": outside strings, which
 * JSON escaping makes unambiguous (a quote inside a string is always
 * escaped).  False when absent or malformed; text is cut to len.
 */
bool	harness_line_t(const char *line, uint64_t *t);
bool	harness_line_is(const char *line, const char *ev);
bool	harness_line_u64(const char *line, const char *key, uint64_t *out);
bool	harness_line_str(const char *line, const char *key, char *out,
	    size_t len);

#endif
