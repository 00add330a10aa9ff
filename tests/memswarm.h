/*
 * memswarm.h: two sessions in one process, a seed and a leecher, with
 * memory stores, an in-process link and a virtual clock: the whole core
 * without a socket or a file.  Used by the unit tests (test_memswarm.c)
 * and the allocation torture (tests/torture), so it reports failures
 * instead of asserting.
 */
#ifndef THR_TESTS_MEMSWARM_H
#define THR_TESTS_MEMSWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct memswarm_opts {
	uint32_t	 size;		/* payload bytes */
	uint32_t	 piece;		/* piece length */
	uint64_t	 seed;		/* the seed's; the leecher's is + 1 */
	uint32_t	 link_bytes;	/* per step each way */
	uint32_t	 max_steps;	/* of 10 virtual ms */
	struct buf	*trace;		/* both sessions' trace; may be NULL */
};

struct memswarm_result {
	bool		 complete;	/* the leecher has every byte */
	bool		 same_bytes;	/* and they are the seed's */
	uint64_t	 virtual_ms;
	char		 why[256];	/* why not complete ("" if it is) */
};

/*
 * Run one download.  0 when it ran (see r for how it ended), or an
 * error code when it could not start (a session or torrent could not
 * be made: out of memory in the torture).  Frees everything either way.
 */
int	memswarm_run(const struct memswarm_opts *o,
	    struct memswarm_result *r);

#endif
