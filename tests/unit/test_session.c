/*
 * test_session.c: what the session traces for a process that follows
 * its trace (thorrent swarm and demo follow their children's): "listen"
 * with the port once it has one, and "stop" with each torrent's counts
 * of the run when the torrent ends.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/session.h"
#include "memswarm.h"

#define SIZE	(262144u + 777u)	/* 17 pieces, the last short */
#define PLEN	16384u

static int
sink(void *ctx, const char *line, size_t len)
{
	return buf_append(ctx, line, len);
}

/* The trace as a C string (buf's bytes are not terminated). */
static const char *
text(struct buf *b)
{
	cr_assert_eq(buf_append(b, "", 1), 0);
	b->len--;
	return (const char *)b->data;
}

Test(session, listen_is_traced)
{
	struct session_opts so;
	struct thr_error err;
	struct session *s;
	struct buf tr;

	buf_init(&tr, 1u << 16);
	memset(&so, 0, sizeof(so));
	memset(&err, 0, sizeof(err));
	so.seed = 1;
	so.log_level = LOG_ERROR;
	so.trace.write = sink;
	so.trace.ctx = &tr;
	so.crypto = SESSION_CRYPTO_OFF;
	s = session_new(&so, 5000, &err);
	cr_assert_not_null(s, "%s", err.msg);
	s->now_ms = 5250;	/* the clock moved: t counts from the start */
	session_set_port(s, 51413);
	cr_assert_str_eq(text(&tr),
	    "{\"t\":250000,\"ev\":\"listen\",\"port\":51413}\n");
	/* No torrent, no stop event. */
	session_free(s);
	cr_assert_str_eq(text(&tr),
	    "{\"t\":250000,\"ev\":\"listen\",\"port\":51413}\n");
	buf_release(&tr);
}

/* The stop event of a whole download in memory: the leecher verified
 * and received the payload, the seed sent it; nothing comes after. */
Test(session, stop_has_the_counts)
{
	struct memswarm_opts o = { SIZE, PLEN, 3, 64u << 10, 20000, NULL };
	struct memswarm_result r;
	struct buf tr;
	const char *all, *seed, *leech, *p;
	unsigned long long down, up, ver;
	int nstop = 0;

	buf_init(&tr, 64u << 20);
	o.trace = &tr;
	cr_assert_eq(memswarm_run(&o, &r), 0);
	cr_assert(r.complete, "%s", r.why);
	all = text(&tr);
	cr_assert(strstr(all, "\"ev\":\"listen\",\"port\":6881}") != NULL);
	cr_assert(strstr(all, "\"ev\":\"listen\",\"port\":6882}") != NULL);
	for (p = strstr(all, "\"ev\":\"stop\""); p != NULL;
	    p = strstr(p + 1, "\"ev\":\"stop\""))
		nstop++;
	cr_assert_eq(nstop, 2, "%d stop events", nstop);
	/* The seed's session is freed first, then the leecher's. */
	seed = strstr(all, "\"ev\":\"stop\"");
	leech = strstr(seed + 1, "\"ev\":\"stop\"");
	cr_assert_eq(sscanf(seed, "\"ev\":\"stop\",\"downloaded\":%llu,"
	    "\"uploaded\":%llu,\"verified\":%llu}", &down, &up, &ver), 3);
	cr_assert_eq(down, 0);
	cr_assert_geq(up, SIZE);
	cr_assert_eq(ver, 0);
	cr_assert_eq(sscanf(leech, "\"ev\":\"stop\",\"downloaded\":%llu,"
	    "\"uploaded\":%llu,\"verified\":%llu}", &down, &up, &ver), 3);
	cr_assert_geq(down, SIZE);
	cr_assert_eq(up, 0);
	cr_assert_eq(ver, SIZE);
	/* The leecher's stop is the last line of all. */
	cr_assert_eq(strchr(leech, '\n')[1], '\0');
	buf_release(&tr);
}
