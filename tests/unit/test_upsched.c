/*
 * test_upsched.c: the upload scheduler over virtual time.
 *
 * A small simulated world stands for the loop: each flow has requests
 * (endless, or arriving at a fixed rate), an output buffer that takes a
 * unit only below ROOM bytes and drains DRAIN bytes per step (a socket
 * the peer reads from), and the scheduler is asked for units every step
 * of STEP_MS while the rate limit (core/bucket) has tokens, as
 * session_upload does.  As the transport does, a flow whose requests
 * arrived or whose buffer drained is woken.  No flow is ever favoured by
 * its position: the shares must come out equal.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "core/bucket.h"
#include "core/err.h"
#include "core/upsched.h"

#define UNIT		(16384u + 13u)	/* a block with its header */
#define ROOM		(256u << 10)	/* PEER_OUT_LOW */
#define STEP_MS		10
#define MAXF		8

struct flow {
	uint32_t	id;
	bool		endless;	/* always has requests queued */
	uint64_t	demand;		/* bytes requested, not yet sent */
	uint64_t	demand_per_s;	/* requests arriving, if !endless */
	uint64_t	buffered;	/* in its output buffer */
	uint64_t	drain;		/* bytes the socket takes per step */
	uint64_t	got;		/* bytes scheduled to it */
	bool		gone;
};

struct world {
	struct upsched	u;
	struct flow	f[MAXF];
	int		n;
	uint32_t	order[64];	/* the first ids served, in order */
	size_t		norder;
};

static struct flow *
flow_of(struct world *w, uint32_t id)
{
	for (int i = 0; i < w->n; i++)
		if (w->f[i].id == id && !w->f[i].gone)
			return &w->f[i];
	return NULL;
}

static unsigned	cost_calls;	/* how often the scheduler asked */

static uint32_t
cost(void *ctx, uint32_t id)
{
	struct flow *f = flow_of(ctx, id);

	cost_calls++;
	if (f == NULL || f->buffered >= ROOM ||
	    (!f->endless && f->demand < UNIT))
		return 0;
	return UNIT;
}

static void
add_flow(struct world *w, bool endless, uint64_t demand_per_s,
    uint64_t drain)
{
	struct flow *f = &w->f[w->n];

	cr_assert_lt(w->n, MAXF);
	memset(f, 0, sizeof(*f));
	f->id = (uint32_t)(100 + w->n);	/* ids need not start at 1 */
	f->endless = endless;
	f->demand_per_s = demand_per_s;
	f->drain = drain;
	cr_assert_eq(upsched_add(&w->u, f->id), 0);
	w->n++;
}

/*
 * Run from t0 to t1 (ms): each step the requests arrive and the buffers
 * drain, then units go out while the bucket allows, at most pass_cap
 * bytes per step (0: no cap).
 */
static void
run(struct world *w, struct bucket *b, uint64_t t0, uint64_t t1,
    uint64_t pass_cap)
{
	for (uint64_t t = t0; t < t1; t += STEP_MS) {
		uint64_t moved = 0;
		uint32_t id, bytes;

		for (int i = 0; i < w->n; i++) {
			struct flow *f = &w->f[i];

			f->demand += f->demand_per_s * STEP_MS / 1000;
			f->buffered = f->buffered > f->drain ?
			    f->buffered - f->drain : 0;
			if (!f->gone)
				upsched_wake(&w->u, f->id);
		}
		while ((pass_cap == 0 || moved < pass_cap) &&
		    bucket_ready(b, t) &&
		    (id = upsched_next(&w->u, cost, w, &bytes)) != 0) {
			struct flow *f = flow_of(w, id);

			cr_assert_not_null(f, "scheduled unknown flow %u", id);
			cr_assert_eq(bytes, UNIT);
			bucket_take(b, bytes);
			upsched_charge(&w->u, id, bytes);
			f->got += bytes;
			f->buffered += bytes;
			if (!f->endless)
				f->demand -= bytes;
			moved += bytes;
			if (w->norder < sizeof(w->order) / sizeof(w->order[0]))
				w->order[w->norder++] = id;
		}
	}
}

/* Each of flows [from, to) got share * total within tolerance pct. */
static void
expect_equal(struct world *w, int from, int to, uint64_t total, int pct)
{
	uint64_t want = total / (uint64_t)(to - from);

	for (int i = from; i < to; i++) {
		uint64_t got = w->f[i].got;

		cr_assert(got * 100 >= want * (uint64_t)(100 - pct) &&
		    got * 100 <= want * (uint64_t)(100 + pct),
		    "flow %d got %lu bytes, a fair share is %lu", i,
		    (unsigned long)got, (unsigned long)want);
	}
}

Test(upsched, four_peers_share_a_limited_rate)
{
	struct world w;
	struct bucket b;
	uint64_t total = 0, rate = 256u << 10;

	memset(&w, 0, sizeof(w));
	upsched_init(&w.u, UPSCHED_QUANTUM);
	bucket_init(&b, rate, 0);
	for (int i = 0; i < 4; i++)
		add_flow(&w, true, 0, 1u << 30);	/* loopback: fast */
	run(&w, &b, 0, 10000, 0);
	for (int i = 0; i < 4; i++)
		total += w.f[i].got;
	cr_assert(total >= rate * 10 * 95 / 100 &&
	    total <= rate * 10 * 105 / 100, "moved %lu in 10 s",
	    (unsigned long)total);
	expect_equal(&w, 0, 4, total, 5);
}

Test(upsched, turns_follow_the_order_of_arrival)
{
	struct world w;
	struct bucket b;

	memset(&w, 0, sizeof(w));
	upsched_init(&w.u, UPSCHED_QUANTUM);
	bucket_init(&b, 0, 0);
	for (int i = 0; i < 3; i++)
		add_flow(&w, true, 0, 1u << 30);
	run(&w, &b, 0, STEP_MS, 9 * UNIT);
	cr_assert_eq(w.norder, 9);
	for (size_t k = 0; k < w.norder; k++)
		cr_assert_eq(w.order[k], 100 + k % 3, "turn %zu went to %u", k,
		    w.order[k]);
}

Test(upsched, unlimited_rate_shares_each_pass)
{
	struct world w;
	struct bucket b;
	uint64_t total = 0;

	/* No rate limit, but the loop moves at most 256 KiB per pass: the
	 * pass is what is shared. */
	memset(&w, 0, sizeof(w));
	upsched_init(&w.u, UPSCHED_QUANTUM);
	bucket_init(&b, 0, 0);
	for (int i = 0; i < 4; i++)
		add_flow(&w, true, 0, 1u << 30);
	run(&w, &b, 0, 10000, 256u << 10);
	for (int i = 0; i < 4; i++)
		total += w.f[i].got;
	expect_equal(&w, 0, 4, total, 5);
}

Test(upsched, unlimited_rate_fills_every_buffer)
{
	struct world w;
	struct bucket b;

	/* Without any cap each flow gets what its socket takes: the slow
	 * one is not starved and holds nobody back. */
	memset(&w, 0, sizeof(w));
	upsched_init(&w.u, UPSCHED_QUANTUM);
	bucket_init(&b, 0, 0);
	for (int i = 0; i < 3; i++)
		add_flow(&w, true, 0, 64u << 10);
	add_flow(&w, true, 0, 8u << 10);
	run(&w, &b, 0, 10000, 0);
	expect_equal(&w, 0, 3, w.f[0].got + w.f[1].got + w.f[2].got, 1);
	/* 8 KiB per 10 ms step, give or take the buffer it started with. */
	cr_assert(w.f[3].got >= 1000u * (8u << 10) &&
	    w.f[3].got <= 1000u * (8u << 10) + ROOM + UNIT,
	    "the slow flow got %lu", (unsigned long)w.f[3].got);
}

Test(upsched, a_light_flow_gets_all_it_asks_the_rest_share)
{
	struct world w;
	struct bucket b;
	uint64_t rate = 256u << 10, light = 32000, rest = 0;

	memset(&w, 0, sizeof(w));
	upsched_init(&w.u, UPSCHED_QUANTUM);
	bucket_init(&b, rate, 0);
	add_flow(&w, false, light, 1u << 30);
	for (int i = 0; i < 3; i++)
		add_flow(&w, true, 0, 1u << 30);
	run(&w, &b, 0, 10000, 0);
	/* All it asked for but the last unit still arriving. */
	cr_assert(w.f[0].got + UNIT >= light * 10 && w.f[0].got <= light * 10,
	    "the light flow got %lu of %lu", (unsigned long)w.f[0].got,
	    (unsigned long)(light * 10));
	for (int i = 1; i < 4; i++)
		rest += w.f[i].got;
	cr_assert(rest + w.f[0].got >= rate * 10 * 95 / 100,
	    "the link idled: %lu", (unsigned long)(rest + w.f[0].got));
	expect_equal(&w, 1, 4, rest, 5);
}

Test(upsched, flows_come_and_go)
{
	struct world w;
	struct bucket b;
	uint64_t before[MAXF], total = 0;

	memset(&w, 0, sizeof(w));
	upsched_init(&w.u, UPSCHED_QUANTUM);
	bucket_init(&b, 256u << 10, 0);
	for (int i = 0; i < 4; i++)
		add_flow(&w, true, 0, 1u << 30);
	run(&w, &b, 0, 5000, 0);
	/* The second flow leaves, a fifth arrives: from then on the four
	 * present share equally. */
	upsched_remove(&w.u, w.f[1].id);
	w.f[1].gone = true;
	add_flow(&w, true, 0, 1u << 30);
	for (int i = 0; i < w.n; i++)
		before[i] = w.f[i].got;
	run(&w, &b, 5000, 15000, 0);
	for (int i = 0; i < w.n; i++) {
		w.f[i].got -= before[i];
		total += w.f[i].got;
	}
	cr_assert_eq(w.f[1].got, 0, "a removed flow was served");
	w.f[1] = w.f[4];	/* the four present, side by side */
	expect_equal(&w, 0, 4, total, 5);
}

Test(upsched, removing_the_flow_whose_turn_it_is)
{
	struct world w;
	struct bucket b;
	uint32_t id, bytes;

	memset(&w, 0, sizeof(w));
	upsched_init(&w.u, UPSCHED_QUANTUM);
	bucket_init(&b, 0, 0);
	for (int i = 0; i < 3; i++)
		add_flow(&w, true, 0, 1u << 30);
	id = upsched_next(&w.u, cost, &w, &bytes);
	cr_assert_eq(id, 100);
	upsched_remove(&w.u, 100);
	w.f[0].gone = true;
	cr_assert_eq(upsched_next(&w.u, cost, &w, &bytes), 101);
	upsched_charge(&w.u, 101, bytes);
	cr_assert_eq(upsched_next(&w.u, cost, &w, &bytes), 102);
	upsched_charge(&w.u, 102, bytes);
	upsched_remove(&w.u, 102);	/* the last one: back to the first */
	w.f[2].gone = true;
	cr_assert_eq(upsched_next(&w.u, cost, &w, &bytes), 101);
}

Test(upsched, idle_flows_keep_no_credit)
{
	struct world w;
	struct bucket b;
	uint32_t bytes;

	memset(&w, 0, sizeof(w));
	upsched_init(&w.u, UPSCHED_QUANTUM);
	bucket_init(&b, 0, 0);
	add_flow(&w, false, 0, 1u << 30);
	add_flow(&w, false, 0, 1u << 30);
	cr_assert_eq(upsched_next(&w.u, cost, &w, &bytes), 0,
	    "nobody has anything to send");
	/* Asked many times while idle, the first flow still gets one
	 * unit per turn once it has requests, not a burst. */
	for (int k = 0; k < 100; k++)
		cr_assert_eq(upsched_next(&w.u, cost, &w, &bytes), 0);
	w.f[0].demand = w.f[1].demand = 10 * UNIT;
	w.norder = 0;
	run(&w, &b, 0, STEP_MS, 4 * UNIT);
	cr_assert_eq(w.norder, 4);
	cr_assert_neq(w.order[0], w.order[1], "a flow took two turns in a row");
	cr_assert_neq(w.order[2], w.order[3], "a flow took two turns in a row");
}

Test(upsched, limits)
{
	struct upsched u;
	uint32_t bytes = 7;

	upsched_init(&u, 0);
	cr_assert_eq(u.quantum, 1);
	cr_assert_eq(upsched_add(&u, 0), THR_EINVAL);
	cr_assert_eq(upsched_add(&u, 5), 0);
	cr_assert_eq(upsched_add(&u, 5), THR_EINVAL);
	upsched_remove(&u, 77);		/* unknown: nothing happens */
	upsched_charge(&u, 77, 100);
	cr_assert_eq(u.n, 1);
	upsched_remove(&u, 5);
	cr_assert_eq(upsched_next(&u, cost, NULL, &bytes), 0);
	cr_assert_eq(bytes, 7, "bytes touched without a flow");
	for (uint32_t i = 1; i <= UPSCHED_MAX_FLOWS; i++)
		cr_assert_eq(upsched_add(&u, i), 0);
	cr_assert_eq(upsched_add(&u, UPSCHED_MAX_FLOWS + 1), THR_ELIMIT);
	/* Every id is still found after the table filled: remove them in
	 * another order than they came, then the ids are free again. */
	for (uint32_t i = UPSCHED_MAX_FLOWS; i >= 1; i -= 2)
		upsched_remove(&u, i);
	for (uint32_t i = 1; i <= UPSCHED_MAX_FLOWS; i += 2)
		upsched_remove(&u, i);
	cr_assert_eq(u.n, 0);
	cr_assert_eq(u.nactive, 0);
	cr_assert_eq(upsched_add(&u, 3), 0);
}

/* Ids far apart and colliding in the table (same low bits after the
 * hash) are kept apart, and removing one leaves the others found. */
Test(upsched, ids_that_collide)
{
	struct upsched u;

	upsched_init(&u, UPSCHED_QUANTUM);
	for (uint32_t i = 0; i < 64; i++)
		cr_assert_eq(upsched_add(&u, 1 + i * UPSCHED_TABLE * 128), 0);
	for (uint32_t i = 0; i < 64; i += 3)
		upsched_remove(&u, 1 + i * UPSCHED_TABLE * 128);
	for (uint32_t i = 0; i < 64; i++)
		cr_assert_eq(upsched_add(&u, 1 + i * UPSCHED_TABLE * 128),
		    i % 3 == 0 ? 0 : THR_EINVAL, "id %u", i);
}

/*
 * The loop's cost: with two hundred connections that ask for nothing and
 * one that is served, a pass asks about the busy one only; the idle ones
 * were asked once, when they left the round, and never again until they
 * are woken.
 */
Test(upsched, idle_flows_cost_nothing)
{
	struct world w;
	uint32_t id, bytes;

	memset(&w, 0, sizeof(w));
	upsched_init(&w.u, UPSCHED_QUANTUM);
	add_flow(&w, true, 0, 1u << 30);
	for (uint32_t i = 0; i < 200; i++)
		cr_assert_eq(upsched_add(&w.u, 1000 + i), 0);	/* no flow */
	/* The first turns: each idle one is asked once and leaves. */
	cost_calls = 0;
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(id = upsched_next(&w.u, cost, &w, &bytes), 100);
		upsched_charge(&w.u, id, bytes);
	}
	cr_assert_leq(cost_calls, 203);
	for (int k = 0; k < 1000; k++) {
		cost_calls = 0;
		id = upsched_next(&w.u, cost, &w, &bytes);
		cr_assert_eq(id, 100);
		upsched_charge(&w.u, id, bytes);
		cr_assert_leq(cost_calls, 2, "pass %d asked %u flows", k,
		    cost_calls);
	}
	cr_assert_eq(w.u.nactive, 1);
	/* Woken, an idle one is asked again (and leaves once more). */
	cost_calls = 0;
	upsched_wake(&w.u, 1000);
	upsched_wake(&w.u, 1000);	/* twice: one place in the round */
	cr_assert_eq(w.u.nactive, 2);
	(void)upsched_next(&w.u, cost, &w, &bytes);
	(void)upsched_next(&w.u, cost, &w, &bytes);
	cr_assert_eq(w.u.nactive, 1);
}
