/*
 * test_memswarm.c: a whole download between two sessions in memory
 * (tests/memswarm.h): the core as the program runs it (session, torrent,
 * wire protocol, MSE, intake, choker) with memory stores, an in-process
 * link and a virtual clock.  No socket, no file, no real time.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "memswarm.h"

#define SIZE	(1048576u + 5000u)	/* 65 pieces, the last short */
#define PLEN	16384u

static struct memswarm_result
run(uint64_t seed, struct buf *trace)
{
	struct memswarm_opts o = { SIZE, PLEN, seed, 64u << 10, 20000,
	    trace };
	struct memswarm_result r;

	cr_assert_eq(memswarm_run(&o, &r), 0);
	cr_assert(r.complete, "%s", r.why);
	cr_assert(r.same_bytes, "the leecher's bytes differ");
	return r;
}

/* The whole download in memory, well under a second of real time. */
Test(memswarm, downloads_in_memory)
{
	struct timespec t0, t1;
	struct memswarm_result r;
	struct buf trace;
	double wall;

	buf_init(&trace, 64u << 20);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = run(7, &trace);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	wall = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_lt(wall, 1.0, "took %.3f s of real time", wall);
	cr_assert_lt(r.virtual_ms, 60000, "took %llu virtual ms",
	    (unsigned long long)r.virtual_ms);
	cr_assert(strstr((char *)trace.data, "\"ev\":\"hash_ok\"") != NULL);
	buf_release(&trace);
}

/* The same inputs give the same trace, byte for byte; another seed a
 * different one. */
Test(memswarm, same_seed_same_trace)
{
	struct buf t1, t2, t3;
	struct memswarm_result r1, r2;

	buf_init(&t1, 64u << 20);
	buf_init(&t2, 64u << 20);
	buf_init(&t3, 64u << 20);
	r1 = run(7, &t1);
	r2 = run(7, &t2);
	(void)run(8, &t3);
	cr_assert_eq(r1.virtual_ms, r2.virtual_ms);
	cr_assert_eq(t1.len, t2.len, "%zu vs %zu bytes", t1.len, t2.len);
	cr_assert(memcmp(t1.data, t2.data, t1.len) == 0);
	cr_assert(t1.len != t3.len || memcmp(t1.data, t3.data, t1.len) != 0,
	    "another seed gave the same trace");
	buf_release(&t1);
	buf_release(&t2);
	buf_release(&t3);
}
