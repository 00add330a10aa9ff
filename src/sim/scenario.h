/*
 * scenario.h: the scenario file of "thorrent sim" (and "thorrent swarm
 * --scenario"): a swarm described one item a line.
 *
 *	# a flash crowd on a slow seed
 *	torrent  size=256M piece=256K
 *	network  latency=20ms loss=0
 *	seed     count=1 up=512K leave=never
 *	leechers count=100 up=256K down=2M arrive=poisson:2/s
 *	         leave=on-complete strategy=rarest        (one line: no
 *	                                                   continuation)
 *	leechers count=10 up=0 down=2M arrive=0 name=freeriders
 *	run      seed=1 until=all-complete limit=2h
 *
 * A line is a keyword and key=value words, separated by blanks; '#'
 * starts a comment.  Sizes and rates are written as on the command line
 * (256K, 2M, 1.5G; K = 1024; a rate is bytes per second), times as 30s,
 * 500ms, 2h, 1m30s or a bare number of seconds.  Keywords:
 *
 *   torrent   size=SIZE piece=SIZE [name=WORD]
 *   network   [latency=TIME] [loss=FRACTION|PERCENT%] [connect=TIME]
 *             defaults for every class (one-way latency, packet loss,
 *             connection set-up)
 *   seed, seeds, leechers, peers
 *             a class of peers: count=N up=RATE down=RATE
 *             [name=WORD] [arrive=ARRIVAL] [leave=LEAVE]
 *             [strategy=rarest|random|sequential] [slots=N]
 *             [super-seed=yes|no] [latency=TIME] [loss=...]
 *             [max-peers=N]; "seed" and "seeds" start complete
 *   run       [seed=N] [until=all-complete|TIME] [limit=TIME]
 *             [sample=TIME] [peers=N] (peers each gets from the tracker)
 *
 * ARRIVAL: a time (all at once), poisson:R/s (a Poisson process of rate
 * R per second from time 0), uniform:T1-T2, every:TIME (one at a time),
 * or at:T1,T2,... (one per listed time, cycling).  LEAVE: never,
 * on-complete, after:TIME (that long after completing), at:TIME.
 *
 * Limits: SCENARIO_MAX_CLASSES classes, SCENARIO_MAX_PEERS peers in all,
 * SCENARIO_LINE_MAX bytes a line, SCENARIO_MAX_BYTES a file.  A bad line
 * gets one error with its line number; nothing is partly applied.
 */
#ifndef THR_SIM_SCENARIO_H
#define THR_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/picker.h"

#define SCENARIO_MAX_CLASSES	32
#define SCENARIO_MAX_PEERS	100000
#define SCENARIO_LINE_MAX	1024
#define SCENARIO_MAX_BYTES	(256u << 10)
#define SCENARIO_NAME_MAX	32
#define SCENARIO_MAX_TIMES	64	/* at:T1,T2,... */
#define SCENARIO_MAX_SIZE	(1ull << 40)	/* 1 TiB of payload */
#define SCENARIO_MAX_MS		(30ull * 24 * 3600 * 1000)	/* 30 days */

enum scenario_arrive {
	SCENARIO_ARRIVE_AT,		/* all at t0 */
	SCENARIO_ARRIVE_POISSON,	/* rate per second */
	SCENARIO_ARRIVE_UNIFORM,	/* between t0 and t1 */
	SCENARIO_ARRIVE_EVERY,		/* one each t0 */
	SCENARIO_ARRIVE_LIST,		/* at times[] */
};

enum scenario_leave {
	SCENARIO_LEAVE_NEVER,
	SCENARIO_LEAVE_ON_COMPLETE,
	SCENARIO_LEAVE_AFTER,		/* ms after completing */
	SCENARIO_LEAVE_AT,		/* at ms */
};

struct scenario_class {
	char			 name[SCENARIO_NAME_MAX];
	uint32_t		 line;		/* where it was defined */
	uint32_t		 count;
	bool			 seed;		/* starts complete */
	uint64_t		 up, down;	/* bytes/s; 0 up: none,
						 * 0 down: unlimited */
	enum scenario_arrive	 arrive;
	uint64_t		 arrive_t0_ms, arrive_t1_ms;
	double			 arrive_rate;	/* per second */
	uint64_t		 times_ms[SCENARIO_MAX_TIMES];
	size_t			 ntimes;
	enum scenario_leave	 leave;
	uint64_t		 leave_ms;
	enum picker_strategy	 strategy;
	uint32_t		 slots;		/* 0: the client's default */
	bool			 super_seed;
	uint64_t		 latency_ms;	/* one way */
	double			 loss;		/* 0..1 */
	uint32_t		 max_peers;	/* 0: the client's default */
};

enum scenario_until {
	SCENARIO_UNTIL_ALL_COMPLETE,
	SCENARIO_UNTIL_TIME,
};

struct scenario {
	uint64_t		 size;		/* payload bytes */
	uint32_t		 piece;		/* piece length */
	char			 name[SCENARIO_NAME_MAX];
	uint64_t		 latency_ms;	/* network defaults */
	double			 loss;
	uint64_t		 connect_ms;	/* connection set-up */
	struct scenario_class	 classes[SCENARIO_MAX_CLASSES];
	size_t			 nclasses;
	uint32_t		 npeers;	/* sum of the counts */
	uint64_t		 seed;
	bool			 seeded;	/* run seed= given */
	enum scenario_until	 until;
	uint64_t		 until_ms;
	uint64_t		 limit_ms;	/* stop at the latest */
	uint64_t		 sample_ms;	/* time series interval */
	uint32_t		 numwant;	/* peers per tracker answer */
};

/*
 * Parse text[0..len) into sc (overwritten).  0, or THR_EINVAL /
 * THR_ELIMIT with err->msg naming the line ("line 3: ...") and err->offset
 * the byte where the bad line starts.
 */
int	scenario_parse(struct scenario *sc, const char *text, size_t len,
	    struct thr_error *err);

/* "256K" style sizes (K, M, G, T; 1024-based) and "2h30m" style times,
 * shared with the command line of "thorrent sim".  0 or THR_EINVAL. */
int	scenario_size(const char *s, size_t n, uint64_t *out);
int	scenario_time(const char *s, size_t n, uint64_t *ms);

/* The class peer i (0-based, in file order) belongs to. */
const struct scenario_class	*scenario_class_of(const struct scenario *sc,
				    uint32_t i);

#endif
