/*
 * swarm.h: "thorrent swarm", a reproducible swarm experiment on
 * loopback, in three files: swarm.c starts and follows the children
 * (through cmd/harness.h), swarm_opts.c reads the command line, and
 * swarm_report.c merges the traces and writes the summary; swarm.c
 * calls the other two, which call neither it nor each other.
 *
 * Data model: the swarm makes a payload from the seed, a torrent for
 * it, and starts S seeders and L leechers, each a thorrent child process
 * with its own JSON Lines trace and log in the output folder.  Children
 * are named seed0.. and leech0..; kids[] holds the seeders first, and
 * child k has the address 127.0.(k + 2).1 (--bind-address) and a seed
 * hashed from --seed and its name.  The leechers find each other
 * through --peer (or opentracker with --tracker).  The experiment clock
 * starts when the first leecher is started; each child's start time on
 * that clock (start_us, negative for seeders) is added to its trace's
 * "t" when the traces are merged into merged.jsonl, from which the
 * summary is computed.  What a child has done while it runs (its port,
 * its check, its completion, its closing counts) comes from its trace
 * events through the harness.  When every leecher is complete, or at
 * the time limit, all children are stopped by PID, the leechers' data
 * are compared with the payload byte for byte, and the temporary data
 * are removed; the output folder stays.
 */
#ifndef THR_SWARM_H
#define THR_SWARM_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd/harness.h"
#include "core/hash.h"

/* Each leecher may be told every other address: run.c takes at most 64
 * --peer options (TORRENT_MAX_GIVEN), so 65 processes in all. */
#define SWARM_MAX_PROCS		65
#define SWARM_MAX_SEEDERS	16
#define SWARM_MAX_SIZE		(4ull << 30)	/* on disk L+1 times */
#define SWARM_MAX_TIME		86400L
#define SWARM_READY_MS		30000	/* a child must listen by then */
#define SWARM_ANNOUNCE_MS	10000	/* a child must reach the tracker */
#define SWARM_TRACKER_MS	10000	/* opentracker must listen by then */
#define SWARM_POLL_MS		100
#define SWARM_LINE_MAX		4096	/* our trace lines are < 2048 bytes */
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
	struct harness_child	*hc;	/* its process, name, log, trace and
					 * what the trace said (harness's) */
	bool		 seeder;
	char		 addr[20];	/* its own loopback address */
	uint64_t	 seed;		/* its --seed */
	int64_t		 start_us;	/* fork time, experiment clock */
	char		 dir[PATH_MAX];
	char		 state[PATH_MAX];	/* its own --state-dir */
	bool		 complete;	/* its trace went to seeding */
	int64_t		 done_us;	/* completion, experiment clock */
	bool		 verified;
	uint64_t	 from_seeds;	/* bytes received from seeders */
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
	struct harness		 h;	/* the work dir and the processes */
	char			 out[SWARM_OUT_MAX];
	char			 torrent[PATH_MAX];
	char			 payload[PATH_MAX];
	char			 hex[2 * HASH_SHA1_LEN + 1];
	char			 tracker_url[64];
	int			 tracker_port;
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
};

/*
 * swarm_opts.c: fill o from the command line (argv[0] is "swarm").
 * Returns -1 to go on, otherwise the exit status, after the usage or one
 * line on stderr (or the help on stdout).
 */
int	swarm_parse_args(int argc, char **argv, struct swarm_opts *o);

/*
 * swarm_report.c, once every child has stopped: compare each complete
 * leecher's data with the payload (swarm_verify); then merge the traces
 * into OUT/merged.jsonl, print the summary on stdout and into
 * OUT/summary.txt, write OUT/peers.tsv (swarm_finish).  swarm_finish
 * returns the exit status: 0 when every leecher completed with data
 * identical to the payload, else 1 after one line on stderr.
 */
void	swarm_verify(struct swarm *sw);
int	swarm_finish(struct swarm *sw);

#endif
