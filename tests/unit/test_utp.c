/*
 * test_utp.c: the uTP engine.  Two engines talk through a small
 * simulated network (seeded: delay, loss, duplication, reordering, and
 * a hook that may drop chosen datagrams) on a simulated clock: bulk
 * transfers must arrive byte for byte, sequence numbers must wrap,
 * selective acks must repair a hole with one retransmission, LEDBAT
 * must follow the queuing delay, timeouts must back off and give up in
 * bounds, a stalled reader must stall the sender without loss, FIN and
 * RESET must close both ends.  A hand-driven peer checks the wire
 * format of the handshake and fast retransmit; hostile packets must be
 * counted and dropped.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/rng.h"
#include "core/utp.h"

#define NET_QMAX	8192
#define STEP_US		1000u
#define MS		1000u
#define SEC		1000000u

struct dgram {
	uint64_t	at;
	uint64_t	order;		/* ties keep send order */
	int		dst;
	size_t		len;
	uint8_t		d[UTP_PACKET_MAX];
};

struct net {
	struct rng	 rng;
	struct utp	*e[2];
	struct thr_addr	 addr[2];
	struct dgram	*q;
	size_t		 nq;
	uint64_t	 order;
	uint64_t	 now;
	unsigned	 loss_pct, dup_pct, reorder_pct;
	uint64_t	 delay_us[2];	/* one-way delay into e[i] */
	bool		 blackhole;
	/* Return true to drop a datagram from e[src]. */
	bool		(*drop)(struct net *, int src, const uint8_t *, size_t);
	unsigned	 nth[2];	/* data packets sent by e[i] */
	unsigned	 types[2][5];	/* packets sent by e[i], by type */
	void		*ctx;
};

static void
mkaddr(struct thr_addr *a, uint8_t last, uint16_t port)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	a->ip[0] = 10;
	a->ip[3] = last;
	a->port = port;
}

static void
net_init(struct net *n, uint64_t seed, const struct utp_config *ca,
    const struct utp_config *cb)
{
	struct utp_config c[2];
	int i;

	memset(n, 0, sizeof *n);
	memset(c, 0, sizeof c);
	if (ca != NULL)
		c[0] = *ca;
	if (cb != NULL)
		c[1] = *cb;
	for (i = 0; i < 2; i++) {
		/* Few slots keep the engines' scans cheap in long runs. */
		if (c[i].max_conns == 0)
			c[i].max_conns = 8;
		c[i].seed = seed * 3 + (uint64_t)i + 1;
	}
	rng_seed(&n->rng, seed);
	n->q = calloc(NET_QMAX, sizeof *n->q);
	cr_assert_not_null(n->q);
	n->e[0] = utp_new(&c[0]);
	n->e[1] = utp_new(&c[1]);
	cr_assert_not_null(n->e[0]);
	cr_assert_not_null(n->e[1]);
	mkaddr(&n->addr[0], 1, 1000);
	mkaddr(&n->addr[1], 2, 2000);
	n->delay_us[0] = n->delay_us[1] = 10 * MS;
	n->now = 1000 * SEC;
}

static void
net_free(struct net *n)
{
	utp_free(n->e[0]);
	utp_free(n->e[1]);
	free(n->q);
}

static void
net_push(struct net *n, int dst, const uint8_t *d, size_t len, uint64_t at)
{
	struct dgram *g;

	cr_assert_lt(n->nq, NET_QMAX, "network queue overflow");
	g = &n->q[n->nq++];
	g->at = at;
	g->order = n->order++;
	g->dst = dst;
	g->len = len;
	memcpy(g->d, d, len);
}

static void
net_send(struct net *n, int src, const struct thr_addr *to, const uint8_t *d,
    size_t len)
{
	int dst = 1 - src;
	uint64_t at;
	unsigned type = d[0] >> 4;

	if (!addr_equal(to, &n->addr[dst]))
		return;		/* e.g. a reset for a spoofed packet */
	cr_assert_leq(len, UTP_PACKET_MAX);
	cr_assert(utp_is_packet(d, len));
	if (type < 5)
		n->types[src][type]++;
	if (type == 0)
		n->nth[src]++;
	if (n->blackhole)
		return;
	if (n->drop != NULL && n->drop(n, src, d, len))
		return;
	if (n->loss_pct > 0 && rng_below(&n->rng, 100) < n->loss_pct)
		return;
	at = n->now + n->delay_us[dst];
	if (n->reorder_pct > 0 && rng_below(&n->rng, 100) < n->reorder_pct)
		at += rng_below(&n->rng, 20 * MS);
	net_push(n, dst, d, len, at);
	if (n->dup_pct > 0 && rng_below(&n->rng, 100) < n->dup_pct)
		net_push(n, dst, d, len, at + rng_below(&n->rng, 5 * MS));
}

static void
net_flush(struct net *n)
{
	uint8_t buf[UTP_PACKET_MAX];
	struct thr_addr to;
	size_t len;
	int i, k;

	for (i = 0; i < 2; i++)
		for (k = 0; k < 100000; k++) {
			len = utp_output(n->e[i], &to, buf, sizeof buf,
			    n->now);
			if (len == 0)
				break;
			net_send(n, i, &to, buf, len);
		}
}

static int
dgram_cmp(const void *a, const void *b)
{
	const struct dgram *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Advance the clock one step and deliver what is due. */
static void
net_step(struct net *n)
{
	size_t i;
	size_t due = 0;
	uint64_t next = UINT64_MAX, t;

	/* Jump over quiet stretches (timeouts) to the next event. */
	for (i = 0; i < n->nq; i++)
		if (n->q[i].at < next)
			next = n->q[i].at;
	for (i = 0; i < 2; i++)
		if ((t = utp_next_deadline(n->e[i])) < next)
			next = t;
	n->now += STEP_US;
	if (next != UINT64_MAX && next > n->now)
		n->now = next;
	qsort(n->q, n->nq, sizeof *n->q, dgram_cmp);
	while (due < n->nq && n->q[due].at <= n->now)
		due++;
	for (i = 0; i < due; i++)
		utp_input(n->e[n->q[i].dst], &n->addr[1 - n->q[i].dst],
		    n->q[i].d, n->q[i].len, n->now);
	memmove(n->q, n->q + due, (n->nq - due) * sizeof *n->q);
	n->nq -= due;
	utp_tick(n->e[0], n->now);
	utp_tick(n->e[1], n->now);
}

static uint8_t
pattern(size_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u;

	return (uint8_t)(x >> 13 ^ x >> 24 ^ i);
}

struct xfer {
	struct utp_conn	*ca, *cb;
	size_t		 total, sent, recvd;
	bool		 mismatch, reading, closing;
};

/* One pass of the applications: A writes the pattern, B checks it. */
static void
xfer_pump(struct net *n, struct xfer *x)
{
	uint8_t buf[65536];
	size_t k, i, want;

	if (x->cb == NULL)
		x->cb = utp_accept(n->e[1]);
	while (x->sent < x->total) {
		want = x->total - x->sent;
		if (want > sizeof buf)
			want = sizeof buf;
		for (i = 0; i < want; i++)
			buf[i] = pattern(x->sent + i);
		k = utp_write(x->ca, buf, want, n->now);
		x->sent += k;
		if (k < want)
			break;
	}
	if (x->closing && x->sent == x->total)
		utp_close(x->ca);
	if (x->cb == NULL || !x->reading)
		return;
	while ((k = utp_read(x->cb, buf, sizeof buf)) > 0) {
		for (i = 0; i < k; i++)
			if (buf[i] != pattern(x->recvd + i))
				x->mismatch = true;
		x->recvd += k;
	}
}

static void
xfer_start(struct net *n, struct xfer *x, size_t total)
{
	memset(x, 0, sizeof *x);
	x->total = total;
	x->reading = true;
	x->ca = utp_connect(n->e[0], &n->addr[1], n->now);
	cr_assert_not_null(x->ca);
	cr_assert_eq(utp_conn_state(x->ca), UTP_CONNECTING);
}

/* Run until B has everything or the time limit passes. */
static void
xfer_run(struct net *n, struct xfer *x, uint64_t limit_us)
{
	uint64_t end = n->now + limit_us;

	net_flush(n);
	while (n->now < end && (x->recvd < x->total || x->cb == NULL)) {
		net_step(n);
		xfer_pump(n, x);
		net_flush(n);
	}
}

static void
transfer(uint64_t seed, unsigned loss, unsigned dup, unsigned reorder,
    const struct utp_config *cfg, size_t total)
{
	struct net n;
	struct xfer x;
	int i;

	net_init(&n, seed, cfg, cfg);
	n.loss_pct = loss;
	n.dup_pct = dup;
	n.reorder_pct = reorder;
	xfer_start(&n, &x, total);
	x.closing = true;
	xfer_run(&n, &x, 600ull * SEC);
	cr_assert_not_null(x.cb, "never accepted");
	cr_assert_eq(x.recvd, total, "got %zu of %zu bytes", x.recvd, total);
	cr_assert(!x.mismatch, "bytes differ");
	/* The FIN follows the data; B answers with its own. */
	for (i = 0; i < 200000 && !utp_conn_eof(x.cb); i++) {
		net_step(&n);
		net_flush(&n);
	}
	cr_assert(utp_conn_eof(x.cb), "no FIN after the data");
	utp_close(x.cb);
	for (i = 0; i < 200000 && (utp_conn_state(x.ca) != UTP_CLOSED ||
	    utp_conn_state(x.cb) != UTP_CLOSED); i++) {
		net_step(&n);
		net_flush(&n);
	}
	cr_assert_eq(utp_conn_state(x.ca), UTP_CLOSED);
	cr_assert_eq(utp_conn_state(x.cb), UTP_CLOSED);
	cr_assert_str_eq(utp_conn_reason(x.ca), "closed");
	cr_assert_str_eq(utp_conn_reason(x.cb), "closed");
	if (loss > 0)
		cr_assert_gt(utp_stats(n.e[0])->retransmits, 0);
	utp_conn_free(x.ca);
	utp_conn_free(x.cb);
	net_step(&n);
	cr_assert_eq(utp_next_deadline(n.e[0]), UINT64_MAX);
	cr_assert_eq(utp_next_deadline(n.e[1]), UINT64_MAX);
	net_free(&n);
}

#define MIB	(1024u * 1024u)

Test(utp, transfer_clean)
{
	transfer(1, 0, 0, 0, NULL, 2 * MIB);
}

Test(utp, transfer_loss_2pct)
{
	transfer(2, 2, 0, 0, NULL, 2 * MIB);
}

Test(utp, transfer_loss_10pct)
{
	transfer(3, 10, 0, 0, NULL, 2 * MIB);
}

Test(utp, transfer_reorder_and_duplicates)
{
	transfer(4, 1, 5, 30, NULL, 2 * MIB);
}

Test(utp, transfer_small_packets_and_buffers)
{
	struct utp_config c;

	memset(&c, 0, sizeof c);
	c.seed = 9;
	c.packet_size = UTP_PACKET_MIN;
	c.send_buf = UTP_BUF_MIN;
	c.recv_buf = UTP_BUF_MIN;
	transfer(5, 3, 2, 10, &c, 256 * 1024);
}

Test(utp, sequence_wraparound)
{
	struct utp_config c;

	memset(&c, 0, sizeof c);
	c.seed = 7;
	c.fixed_seq = true;
	c.seq = 65530;
	transfer(6, 0, 0, 0, &c, 2 * MIB);
	c.seq = 65535 - 40;
	transfer(7, 5, 0, 20, &c, 1 * MIB);
}

/* Drop the 5th data packet from A, once. */
static bool
drop_fifth(struct net *n, int src, const uint8_t *d, size_t len)
{
	(void)len;
	return src == 0 && (d[0] >> 4) == 0 && n->nth[0] == 5;
}

Test(utp, selective_ack_fills_one_hole)
{
	struct net n;
	struct xfer x;

	net_init(&n, 11, NULL, NULL);
	n.drop = drop_fifth;
	xfer_start(&n, &x, 200 * 1024);
	xfer_run(&n, &x, 60ull * SEC);
	cr_assert_eq(x.recvd, x.total);
	cr_assert(!x.mismatch);
	/* One resend, and not a go-back-N. */
	cr_assert_eq(utp_stats(n.e[0])->retransmits, 1);
	cr_assert_eq(utp_stats(n.e[0])->fast_retransmits, 1);
	cr_assert_eq(utp_stats(n.e[0])->timeouts, 0);
	net_free(&n);
}

/* Drop A's data packets 20, 23 and 26, once each. */
static bool
drop_three(struct net *n, int src, const uint8_t *d, size_t len)
{
	(void)len;
	return src == 0 && (d[0] >> 4) == 0 &&
	    (n->nth[0] == 20 || n->nth[0] == 23 || n->nth[0] == 26);
}

/* Regression: the scan for holes used to advance past the lower holes
 * after resending the highest, leaving them to the timeout. */
Test(utp, selective_ack_fills_several_holes)
{
	struct net n;
	struct xfer x;

	net_init(&n, 19, NULL, NULL);
	n.drop = drop_three;
	xfer_start(&n, &x, 200 * 1024);
	xfer_run(&n, &x, 60ull * SEC);
	cr_assert_eq(x.recvd, x.total);
	cr_assert(!x.mismatch);
	cr_assert_eq(utp_stats(n.e[0])->retransmits, 3);
	cr_assert_eq(utp_stats(n.e[0])->fast_retransmits, 3);
	cr_assert_eq(utp_stats(n.e[0])->timeouts, 0);
	net_free(&n);
}

Test(utp, ledbat_follows_delay)
{
	struct net n;
	struct xfer x;
	struct utp_config c;
	uint32_t cw_low, cw_peak, cw_end;
	uint64_t end;

	memset(&c, 0, sizeof c);
	c.seed = 12;
	c.recv_buf = 4 * MIB;
	c.send_buf = 4 * MIB;
	net_init(&n, 12, &c, &c);
	xfer_start(&n, &x, SIZE_MAX / 2);
	cw_low = utp_conn_cwnd(x.ca);
	/* Below target (no queuing): the window grows. */
	xfer_run(&n, &x, 2 * SEC);
	cw_peak = utp_conn_cwnd(x.ca);
	cr_assert_gt(cw_peak, cw_low, "no growth: %u -> %u", cw_low, cw_peak);
	cr_assert_lt(utp_conn_delay_us(x.ca), UTP_TARGET_US);
	/* 200 ms of queuing on A's path, twice the target: it shrinks. */
	n.delay_us[1] = 210 * MS;
	end = n.now + 20ull * SEC;
	xfer_run(&n, &x, end - n.now);
	cw_end = utp_conn_cwnd(x.ca);
	cr_assert_geq(utp_conn_delay_us(x.ca), UTP_TARGET_US);
	cr_assert_lt(cw_end, cw_peak, "no decrease: %u -> %u", cw_peak,
	    cw_end);
	cr_assert(!x.mismatch);
	net_free(&n);
}

Test(utp, rto_backs_off_and_gives_up)
{
	struct net n;
	struct xfer x;
	uint32_t rto, prev;
	uint64_t t0;
	unsigned doublings = 0;
	const char *why;

	net_init(&n, 13, NULL, NULL);
	xfer_start(&n, &x, 100 * 1024);
	xfer_run(&n, &x, 10 * SEC);
	cr_assert_eq(x.recvd, x.total);
	cr_assert_eq(utp_conn_rto_us(x.ca), UTP_RTO_MIN_US,
	    "rto %u with a 20 ms RTT", utp_conn_rto_us(x.ca));
	n.blackhole = true;
	x.total += 4096;
	t0 = n.now;
	prev = utp_conn_rto_us(x.ca);
	while (utp_conn_state(x.ca) != UTP_CLOSED && n.now - t0 < 300 * SEC) {
		net_step(&n);
		xfer_pump(&n, &x);
		net_flush(&n);
		rto = utp_conn_rto_us(x.ca);
		if (rto != prev) {
			cr_assert(rto == 2 * prev || rto == UTP_RTO_MAX_US,
			    "rto %u after %u", rto, prev);
			doublings++;
		}
		prev = rto;
	}
	why = utp_conn_reason(x.ca);
	cr_assert_eq(utp_conn_state(x.ca), UTP_CLOSED);
	cr_assert_str_eq(why, "timed out");
	cr_assert_eq(utp_stats(n.e[0])->timeouts, UTP_MAX_TIMEOUTS + 1);
	cr_assert_eq(doublings, UTP_MAX_TIMEOUTS);
	/* 0.5 + 1 + 2 + ... + 32 s. */
	cr_assert_leq(n.now - t0, 64 * SEC, "gave up after %llu us",
	    (unsigned long long)(n.now - t0));
	net_free(&n);
}

Test(utp, connect_to_silence_fails_in_time)
{
	struct net n;
	struct utp_conn *c;
	uint64_t t0;

	net_init(&n, 14, NULL, NULL);
	n.blackhole = true;
	t0 = n.now;
	c = utp_connect(n.e[0], &n.addr[1], n.now);
	cr_assert_not_null(c);
	net_flush(&n);
	while (utp_conn_state(c) == UTP_CONNECTING && n.now - t0 < 60 * SEC) {
		net_step(&n);
		net_flush(&n);
	}
	cr_assert_eq(utp_conn_state(c), UTP_CLOSED);
	cr_assert_str_eq(utp_conn_reason(c), "connect timed out");
	cr_assert_eq(n.types[0][4], UTP_SYN_TRIES);
	cr_assert_leq(n.now - t0, 6 * SEC + STEP_US);
	utp_conn_free(c);
	cr_assert_eq(utp_next_deadline(n.e[0]), UINT64_MAX);
	net_free(&n);
}

Test(utp, refused_beyond_the_cap)
{
	struct net n;
	struct utp_config cb;
	struct utp_conn *c1, *c2, *in;
	int i;

	memset(&cb, 0, sizeof cb);
	cb.seed = 15;
	cb.max_conns = 1;
	net_init(&n, 15, NULL, &cb);
	c1 = utp_connect(n.e[0], &n.addr[1], n.now);
	c2 = utp_connect(n.e[0], &n.addr[1], n.now);
	for (i = 0; i < 100; i++) {
		net_flush(&n);
		net_step(&n);
	}
	cr_assert_eq(utp_conn_state(c1), UTP_CONNECTED);
	cr_assert_eq(utp_conn_state(c2), UTP_CLOSED);
	cr_assert_str_eq(utp_conn_reason(c2), "refused");
	cr_assert_eq(utp_stats(n.e[1])->refused, 1);
	in = utp_accept(n.e[1]);
	cr_assert_not_null(in);
	cr_assert_null(utp_accept(n.e[1]));
	cr_assert(addr_equal(utp_conn_peer(in), &n.addr[0]));
	utp_conn_free(c1);
	utp_conn_free(c2);
	utp_conn_free(in);
	net_free(&n);
}

Test(utp, receive_window_stalls_sender)
{
	struct net n;
	struct xfer x;
	struct utp_config cb;
	const struct utp_stats *sb;

	memset(&cb, 0, sizeof cb);
	cb.seed = 16;
	cb.recv_buf = 64 * 1024;
	net_init(&n, 16, NULL, &cb);
	xfer_start(&n, &x, 3 * MIB);
	x.reading = false;
	xfer_run(&n, &x, 20 * SEC);
	sb = utp_stats(n.e[1]);
	/* B holds exactly its window and nothing was refused for room. */
	cr_assert_eq(utp_conn_readable(x.cb), 64 * 1024);
	cr_assert_eq(utp_conn_state(x.ca), UTP_CONNECTED);
	cr_assert_lt(sb->no_room, 40, "%llu packets beyond the window",
	    (unsigned long long)sb->no_room);
	cr_assert_gt(utp_conn_queued(x.ca), 0);
	x.reading = true;
	xfer_run(&n, &x, 120 * SEC);
	cr_assert_eq(x.recvd, x.total);
	cr_assert(!x.mismatch);
	net_free(&n);
}

/* A reader that stalls for minutes: the sender probes the zero window
 * at most once per timeout, never gives up on a peer that answers, and
 * resumes when the window opens. */
Test(utp, zero_window_probes_keep_connection)
{
	struct net n;
	struct xfer x;
	struct utp_config cb;
	const struct utp_stats *sa, *sb;

	memset(&cb, 0, sizeof cb);
	cb.recv_buf = UTP_BUF_MIN;
	net_init(&n, 20, NULL, &cb);
	xfer_start(&n, &x, 100 * 1024);
	x.reading = false;
	xfer_run(&n, &x, 300 * SEC);
	sa = utp_stats(n.e[0]);
	sb = utp_stats(n.e[1]);
	cr_assert_eq(utp_conn_state(x.ca), UTP_CONNECTED);
	cr_assert_eq(utp_conn_readable(x.cb), UTP_BUF_MIN);
	cr_assert_gt(sb->no_room, 0, "no probe in five minutes");
	/* Backed off to UTP_RTO_MAX_US: 0.5 + 1 + ... + 16 s, then 30 s
	 * apart. */
	cr_assert_leq(sb->no_room, 20, "%llu probes",
	    (unsigned long long)sb->no_room);
	cr_assert_eq(sa->fast_retransmits, 0);
	/* The window update restarts the flow at once, not after the
	 * backed-off timeout. */
	x.reading = true;
	xfer_run(&n, &x, 5 * SEC);
	cr_assert_eq(x.recvd, x.total);
	cr_assert(!x.mismatch);
	net_free(&n);
}

Test(utp, reset_on_free_without_close)
{
	struct net n;
	struct xfer x;
	int i;

	net_init(&n, 17, NULL, NULL);
	xfer_start(&n, &x, 10000);
	xfer_run(&n, &x, 5 * SEC);
	cr_assert_eq(x.recvd, x.total);
	utp_conn_free(x.ca);
	for (i = 0; i < 100; i++) {
		net_flush(&n);
		net_step(&n);
	}
	cr_assert_eq(utp_conn_state(x.cb), UTP_CLOSED);
	cr_assert_str_eq(utp_conn_reason(x.cb), "connection reset");
	cr_assert_eq(utp_stats(n.e[1])->resets_in, 1);
	cr_assert_eq(utp_write(x.cb, (const uint8_t *)"x", 1, n.now), 0);
	utp_conn_free(x.cb);
	net_free(&n);
}

Test(utp, close_linger_delivers_queued_data)
{
	struct net n;
	struct xfer x;
	uint8_t buf[4096];
	size_t i, j, k;

	net_init(&n, 18, NULL, NULL);
	xfer_start(&n, &x, 300 * 1024);
	/* Write everything, close and release before anything is sent. */
	xfer_pump(&n, &x);
	cr_assert_eq(x.sent, x.total);
	utp_close(x.ca);
	utp_conn_free(x.ca);
	x.ca = NULL;
	for (i = 0; i < 20000 && (x.cb == NULL || !utp_conn_eof(x.cb)); i++) {
		net_flush(&n);
		net_step(&n);
		if (x.cb == NULL)
			x.cb = utp_accept(n.e[1]);
		while (x.cb != NULL &&
		    (k = utp_read(x.cb, buf, sizeof buf)) > 0) {
			for (j = 0; j < k; j++)
				if (buf[j] != pattern(x.recvd + j))
					x.mismatch = true;
			x.recvd += k;
		}
	}
	cr_assert_not_null(x.cb);
	cr_assert(utp_conn_eof(x.cb));
	cr_assert(!x.mismatch);
	utp_close(x.cb);
	for (i = 0; i < 20000 && utp_conn_state(x.cb) != UTP_CLOSED; i++) {
		net_flush(&n);
		net_step(&n);
	}
	cr_assert_eq(utp_conn_state(x.cb), UTP_CLOSED);
	utp_conn_free(x.cb);
	net_step(&n);
	cr_assert_eq(utp_next_deadline(n.e[0]), UINT64_MAX);
	net_free(&n);
}

/* A hand-written peer: helpers to build and read raw packets. */
static size_t
mkpkt(uint8_t *b, unsigned type, uint16_t cid, uint32_t wnd, uint16_t seq,
    uint16_t ack)
{
	memset(b, 0, UTP_HDR_LEN);
	b[0] = (uint8_t)(type << 4 | 1);
	b[2] = (uint8_t)(cid >> 8);
	b[3] = (uint8_t)cid;
	b[4] = 0;
	b[7] = 1;		/* a nonzero timestamp */
	b[12] = (uint8_t)(wnd >> 24);
	b[13] = (uint8_t)(wnd >> 16);
	b[14] = (uint8_t)(wnd >> 8);
	b[15] = (uint8_t)wnd;
	b[16] = (uint8_t)(seq >> 8);
	b[17] = (uint8_t)seq;
	b[18] = (uint8_t)(ack >> 8);
	b[19] = (uint8_t)ack;
	return UTP_HDR_LEN;
}

static uint16_t
g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t
out(struct utp *u, uint8_t *buf, uint64_t now)
{
	struct thr_addr to;

	return utp_output(u, &to, buf, UTP_PACKET_MAX, now);
}

Test(utp, handshake_wire_format_as_initiator)
{
	struct utp_config cfg;
	struct utp *u;
	struct utp_conn *c;
	struct thr_addr peer;
	uint8_t b[UTP_PACKET_MAX], p[64], z[2 * 1100];
	uint64_t now = 5 * SEC;
	uint16_t cid, syn_seq, i;
	size_t len;

	memset(&cfg, 0, sizeof cfg);
	cfg.seed = 21;
	u = utp_new(&cfg);
	mkaddr(&peer, 9, 6881);
	c = utp_connect(u, &peer, now);
	len = out(u, b, now);
	cr_assert_eq(len, UTP_HDR_LEN);
	cr_assert_eq(b[0], 0x41, "SYN is type 4 version 1");
	cid = g16(b + 2);
	syn_seq = g16(b + 16);
	cr_assert_eq(out(u, b, now), 0, "one SYN at a time");
	/* The receiver answers ST_STATE seq 300, ack = SYN's seq. */
	mkpkt(p, 2, cid, 100000, 300, syn_seq);
	utp_input(u, &peer, p, UTP_HDR_LEN, now + 20 * MS);
	cr_assert_eq(utp_conn_state(c), UTP_CONNECTED);
	cr_assert_eq(utp_write(c, (const uint8_t *)"hello", 5, now), 5);
	len = out(u, b, now + 20 * MS);
	cr_assert_eq(len, UTP_HDR_LEN + 5);
	cr_assert_eq(b[0], 0x01, "DATA");
	cr_assert_eq(g16(b + 2), (uint16_t)(cid + 1), "send_id = recv_id + 1");
	cr_assert_eq(g16(b + 16), (uint16_t)(syn_seq + 1));
	cr_assert_eq(g16(b + 18), 299, "ack_nr = the state's seq_nr - 1");
	cr_assert_eq(memcmp(b + 20, "hello", 5), 0);
	/* The receiver's first data packet reuses seq 300. */
	len = mkpkt(p, 0, cid, 100000, 300, (uint16_t)(syn_seq + 1));
	memcpy(p + len, "world", 5);
	utp_input(u, &peer, p, len + 5, now + 40 * MS);
	cr_assert_eq(utp_read(c, b, sizeof b), 5);
	cr_assert_eq(memcmp(b, "world", 5), 0);
	len = out(u, b, now + 40 * MS);
	cr_assert_eq(len, UTP_HDR_LEN);
	cr_assert_eq(b[0], 0x21, "STATE");
	cr_assert_eq(g16(b + 18), 300);
	cr_assert_eq(g16(b + 16), (uint16_t)(syn_seq + 2));

	/* Fast retransmit: the initial window's 2 packets out, the first
	 * lost, 3 duplicate acks. */
	memset(z, 'z', sizeof z);
	cr_assert_eq(utp_write(c, z, sizeof z, now), sizeof z);
	for (i = 0; i < 2; i++)
		cr_assert_gt(out(u, b, now + 50 * MS), UTP_HDR_LEN, "pkt %u",
		    i);
	for (i = 0; i < 3; i++) {
		mkpkt(p, 2, cid, 1000000, 301, (uint16_t)(syn_seq + 1));
		utp_input(u, &peer, p, UTP_HDR_LEN, now + (60 + i) * MS);
	}
	cr_assert_eq(utp_stats(u)->fast_retransmits, 1);
	len = out(u, b, now + 63 * MS);
	cr_assert_gt(len, UTP_HDR_LEN);
	cr_assert_eq(b[0], 0x01);
	cr_assert_eq(g16(b + 16), (uint16_t)(syn_seq + 2));
	cr_assert_eq(utp_stats(u)->retransmits, 1);
	utp_conn_free(c);
	len = out(u, b, now + 70 * MS);
	cr_assert_eq(len, UTP_HDR_LEN);
	cr_assert_eq(b[0], 0x31, "RESET on free");
	utp_free(u);
}

Test(utp, push_ends_a_packet)
{
	struct utp_config cfg;
	struct utp *u;
	struct utp_conn *c;
	struct thr_addr peer;
	uint8_t b[UTP_PACKET_MAX], p[64], hs[68], rest[241];
	uint64_t now = 5 * SEC;
	uint16_t cid, syn_seq;

	/* A BitTorrent handshake and what follows it (extension handshake,
	 * have-all...), written together: with utp_push after the
	 * handshake they leave in two packets, the first ending with the
	 * handshake, as Transmission 3.00 needs. */
	memset(&cfg, 0, sizeof cfg);
	cfg.seed = 23;
	u = utp_new(&cfg);
	mkaddr(&peer, 9, 6881);
	c = utp_connect(u, &peer, now);
	cr_assert_eq(out(u, b, now), UTP_HDR_LEN);
	cid = g16(b + 2);
	syn_seq = g16(b + 16);
	memset(hs, 'h', sizeof hs);
	memset(rest, 'r', sizeof rest);
	/* Written before the connection is up, as a dialler does. */
	cr_assert_eq(utp_write(c, hs, sizeof hs, now), sizeof hs);
	utp_push(c);
	cr_assert_eq(utp_write(c, rest, sizeof rest, now), sizeof rest);
	mkpkt(p, 2, cid, 100000, 300, syn_seq);
	utp_input(u, &peer, p, UTP_HDR_LEN, now + 20 * MS);
	cr_assert_eq(utp_conn_state(c), UTP_CONNECTED);
	cr_assert_eq(out(u, b, now + 20 * MS), UTP_HDR_LEN + sizeof hs);
	cr_assert_eq(memcmp(b + UTP_HDR_LEN, hs, sizeof hs), 0);
	cr_assert_eq(out(u, b, now + 20 * MS), UTP_HDR_LEN + sizeof rest);
	cr_assert_eq(memcmp(b + UTP_HDR_LEN, rest, sizeof rest), 0);
	/* Without a push, bytes written apart still share a packet. */
	cr_assert_eq(utp_write(c, hs, sizeof hs, now), sizeof hs);
	cr_assert_eq(utp_write(c, rest, sizeof rest, now), sizeof rest);
	mkpkt(p, 2, cid, 100000, 300, (uint16_t)(syn_seq + 2));
	utp_input(u, &peer, p, UTP_HDR_LEN, now + 40 * MS);
	cr_assert_eq(out(u, b, now + 40 * MS),
	    UTP_HDR_LEN + sizeof hs + sizeof rest);
	/* A push with nothing unsent is a no-op. */
	utp_push(c);
	cr_assert_eq(utp_write(c, hs, sizeof hs, now), sizeof hs);
	cr_assert_eq(utp_write(c, rest, sizeof rest, now), sizeof rest);
	mkpkt(p, 2, cid, 100000, 300, (uint16_t)(syn_seq + 3));
	utp_input(u, &peer, p, UTP_HDR_LEN, now + 60 * MS);
	cr_assert_eq(out(u, b, now + 60 * MS),
	    UTP_HDR_LEN + sizeof hs + sizeof rest);
	utp_conn_free(c);
	utp_free(u);
}

Test(utp, handshake_wire_format_as_receiver)
{
	struct utp_config cfg;
	struct utp *u;
	struct utp_conn *c;
	struct thr_addr peer;
	uint8_t b[UTP_PACKET_MAX], p[64];
	uint64_t now = 5 * SEC;
	uint16_t rseq;
	size_t len;

	memset(&cfg, 0, sizeof cfg);
	cfg.seed = 22;
	u = utp_new(&cfg);
	mkaddr(&peer, 9, 6881);
	mkpkt(p, 4, 7000, 100000, 65535, 0);
	utp_input(u, &peer, p, UTP_HDR_LEN, now);
	c = utp_accept(u);
	cr_assert_not_null(c);
	len = out(u, b, now);
	cr_assert_eq(len, UTP_HDR_LEN);
	cr_assert_eq(b[0], 0x21);
	cr_assert_eq(g16(b + 2), 7000, "state goes to the SYN's id");
	cr_assert_eq(g16(b + 18), 65535);
	rseq = g16(b + 16);
	/* A duplicate SYN gets the state again, no second connection. */
	utp_input(u, &peer, p, UTP_HDR_LEN, now + MS);
	cr_assert_null(utp_accept(u));
	cr_assert_eq(out(u, b, now + MS), UTP_HDR_LEN);
	cr_assert_eq(g16(b + 16), rseq);
	/* Data from the initiator wraps: seq 0 after the SYN's 65535. */
	len = mkpkt(p, 0, 7001, 100000, 0, (uint16_t)(rseq - 1));
	memcpy(p + len, "abc", 3);
	utp_input(u, &peer, p, len + 3, now + 2 * MS);
	cr_assert_eq(utp_conn_readable(c), 3);
	cr_assert_eq(utp_write(c, (const uint8_t *)"xy", 2, now), 2);
	len = out(u, b, now + 3 * MS);
	cr_assert_eq(len, UTP_HDR_LEN + 2);
	cr_assert_eq(g16(b + 16), rseq, "first data reuses the state's seq");
	cr_assert_eq(g16(b + 18), 0);
	/* A FIN out of order, then the data before it. */
	mkpkt(p, 1, 7001, 100000, 2, (uint16_t)rseq);
	utp_input(u, &peer, p, UTP_HDR_LEN, now + 4 * MS);
	cr_assert(!utp_conn_eof(c));
	len = out(u, b, now + 4 * MS);
	cr_assert_eq(len, UTP_HDR_LEN + 10, "state with a selective ack");
	cr_assert_eq(b[1], 1);
	cr_assert_eq(b[20], 0);
	cr_assert_eq(b[21], 8);
	cr_assert_eq(b[22], 0x01, "bit 0 is ack_nr + 2");
	len = mkpkt(p, 0, 7001, 100000, 1, (uint16_t)rseq);
	memcpy(p + len, "d", 1);
	utp_input(u, &peer, p, len + 1, now + 5 * MS);
	cr_assert_eq(utp_read(c, b, sizeof b), 4);
	cr_assert_eq(memcmp(b, "abcd", 4), 0);
	cr_assert(utp_conn_eof(c));
	cr_assert_eq(utp_conn_state(c), UTP_CLOSING);
	/* Data past the FIN is ignored. */
	len = mkpkt(p, 0, 7001, 100000, 3, (uint16_t)rseq);
	memcpy(p + len, "e", 1);
	utp_input(u, &peer, p, len + 1, now + 6 * MS);
	cr_assert_eq(utp_conn_readable(c), 0);
	utp_conn_free(c);
	utp_free(u);
}

Test(utp, hostile_packets_counted_and_dropped)
{
	struct net n;
	struct xfer x;
	const struct utp_stats *s;
	struct thr_addr stranger;
	uint8_t p[128];
	uint16_t cid, qseq, qack;
	size_t len;
	uint64_t m, u0, o, b;

	net_init(&n, 23, NULL, NULL);
	xfer_start(&n, &x, 50000);
	xfer_run(&n, &x, 5 * SEC);
	cr_assert_eq(x.recvd, x.total);
	s = utp_stats(n.e[1]);
	/* B's recv_id for this connection is A's send id: find it by
	 * looking at A's next packet. */
	p[0] = pattern(x.sent);
	cr_assert_eq(utp_write(x.ca, p, 1, n.now), 1);
	x.sent++;
	x.total++;
	len = out(n.e[0], p, n.now);
	cr_assert_gt(len, 0);
	cid = g16(p + 2);
	qseq = g16(p + 16);
	qack = g16(p + 18);
	utp_input(n.e[1], &n.addr[0], p, len, n.now);

	m = s->malformed;
	utp_input(n.e[1], &n.addr[0], p, 19, n.now);		/* short */
	utp_input(n.e[1], &n.addr[0], NULL, 0, n.now);
	p[0] = 0x02;						/* version 2 */
	utp_input(n.e[1], &n.addr[0], p, 20, n.now);
	p[0] = 0x51;						/* type 5 */
	utp_input(n.e[1], &n.addr[0], p, 20, n.now);
	mkpkt(p, 2, cid, 1000, 0, 0);
	p[1] = 1;						/* cut ext */
	p[20] = 0;
	p[21] = 40;
	utp_input(n.e[1], &n.addr[0], p, 30, n.now);
	utp_input(n.e[1], &n.addr[0], p, 21, n.now);
	cr_assert_eq(s->malformed, m + 6);

	/* Spoofed connection id, and the right id from a stranger. */
	u0 = s->unknown_conn;
	mkpkt(p, 0, (uint16_t)(cid + 77), 1000, 0, 0);
	utp_input(n.e[1], &n.addr[0], p, 20, n.now);
	mkaddr(&stranger, 66, 1000);
	mkpkt(p, 0, cid, 1000, 0, 0);
	utp_input(n.e[1], &stranger, p, 20, n.now);
	mkpkt(p, 3, (uint16_t)(cid + 500), 0, 0, 0);
	utp_input(n.e[1], &n.addr[0], p, 20, n.now);
	cr_assert_eq(s->unknown_conn, u0 + 3);

	/* Out of window and acks for packets never sent. */
	o = s->out_of_window;
	b = s->bad_ack;
	mkpkt(p, 0, cid, 1000, (uint16_t)(qseq + 3000), qack);
	utp_input(n.e[1], &n.addr[0], p, 20, n.now);
	cr_assert_eq(s->out_of_window, o + 1);
	mkpkt(p, 2, cid, 1000, (uint16_t)(qseq + 1),
	    (uint16_t)(qack + 3000));
	utp_input(n.e[1], &n.addr[0], p, 20, n.now);
	cr_assert_eq(s->bad_ack, b + 1);
	cr_assert_eq(utp_conn_state(x.cb), UTP_CONNECTED);

	/* The connection carries on. */
	x.total += 1000;
	xfer_run(&n, &x, 5 * SEC);
	cr_assert_eq(x.recvd, x.total);
	cr_assert(!x.mismatch);
	cr_assert_eq(utp_conn_state(x.ca), UTP_CONNECTED);
	cr_assert_eq(utp_conn_state(x.cb), UTP_CONNECTED);
	net_free(&n);
}

Test(utp, unknown_extension_is_skipped)
{
	struct utp_config cfg;
	struct utp *u;
	struct utp_conn *c;
	struct thr_addr peer;
	uint8_t b[UTP_PACKET_MAX], p[64];
	size_t len;

	memset(&cfg, 0, sizeof cfg);
	cfg.seed = 24;
	u = utp_new(&cfg);
	mkaddr(&peer, 9, 6881);
	mkpkt(p, 4, 100, 100000, 10, 0);
	utp_input(u, &peer, p, UTP_HDR_LEN, SEC);
	c = utp_accept(u);
	cr_assert_not_null(c);
	out(u, b, SEC);
	/* Extension 77 (4 bytes), then a 4-byte selective ack, then data. */
	len = mkpkt(p, 0, 101, 100000, 11, g16(b + 16) - 1);
	p[1] = 77;
	p[len++] = 1;
	p[len++] = 4;
	memset(p + len, 0xee, 4);
	len += 4;
	p[len++] = 0;
	p[len++] = 4;
	memset(p + len, 0, 4);
	len += 4;
	memcpy(p + len, "data", 4);
	utp_input(u, &peer, p, len + 4, SEC);
	cr_assert_eq(utp_read(c, b, sizeof b), 4);
	cr_assert_eq(memcmp(b, "data", 4), 0);
	cr_assert_eq(utp_stats(u)->malformed, 0);
	utp_conn_free(c);
	utp_free(u);
}

Test(utp, is_packet_demux)
{
	uint8_t syn[20] = { 0x41 };
	const uint8_t dht[] = "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t"
	    "2:aa1:y1:qe";
	uint8_t trk[16] = { 0, 0, 0, 0, 0, 0, 0, 1 };

	cr_assert(utp_is_packet(syn, sizeof syn));
	cr_assert(!utp_is_packet(syn, 19));
	cr_assert(!utp_is_packet(dht, sizeof dht - 1));
	cr_assert(!utp_is_packet(trk, sizeof trk));
	syn[0] = 0x51;
	cr_assert(!utp_is_packet(syn, sizeof syn));
	syn[0] = 0x42;
	cr_assert(!utp_is_packet(syn, sizeof syn));
}

Test(utp, random_garbage_never_crashes)
{
	struct net n;
	struct xfer x;
	uint8_t p[256];
	size_t len, i;
	int k;

	net_init(&n, 25, NULL, NULL);
	xfer_start(&n, &x, 20000);
	xfer_run(&n, &x, 5 * SEC);
	for (k = 0; k < 20000; k++) {
		len = rng_below(&n.rng, sizeof p);
		for (i = 0; i < len; i++)
			p[i] = (uint8_t)rng_next(&n.rng);
		if (len > 0)
			p[0] = (uint8_t)(rng_below(&n.rng, 5) << 4 | 1);
		utp_input(n.e[k & 1], &n.addr[1 - (k & 1)], p, len, n.now);
		if (k % 100 == 0) {
			net_step(&n);
			net_flush(&n);
		}
	}
	net_free(&n);
}

Test(utp, idle_connection_sends_keepalives)
{
	struct net n;
	struct xfer x;
	unsigned before, other;
	uint64_t t0;

	net_init(&n, 26, NULL, NULL);
	xfer_start(&n, &x, 1000);
	xfer_run(&n, &x, 5 * SEC);
	cr_assert_eq(x.recvd, x.total);
	before = n.types[0][2];
	other = n.types[0][0] + n.types[0][1] + n.types[0][3];
	t0 = n.now;
	while (n.now - t0 < 100 * SEC) {
		net_step(&n);
		net_flush(&n);
	}
	/* About one state packet each UTP_KEEPALIVE_US, nothing else. */
	cr_assert_geq(n.types[0][2] - before, 100 * SEC / UTP_KEEPALIVE_US);
	cr_assert_leq(n.types[0][2] - before,
	    100 * SEC / UTP_KEEPALIVE_US + 1, "%u state packets",
	    n.types[0][2] - before);
	cr_assert_eq(n.types[0][0] + n.types[0][1] + n.types[0][3], other,
	    "data, FIN or RESET sent while idle");
	cr_assert_eq(utp_conn_state(x.ca), UTP_CONNECTED);
	cr_assert_eq(utp_conn_state(x.cb), UTP_CONNECTED);
	net_free(&n);
}

/* Implementations disagree on the id a reset carries: ours, or the one
 * we send with.  Both must close the connection; others must not. */
Test(utp, reset_matches_either_id)
{
	struct utp_config cfg;
	struct utp *u;
	struct utp_conn *c[2];
	struct thr_addr peer;
	uint8_t b[UTP_PACKET_MAX], p[64];
	uint16_t cid[2];
	int i;

	memset(&cfg, 0, sizeof cfg);
	cfg.seed = 27;
	u = utp_new(&cfg);
	mkaddr(&peer, 9, 6881);
	for (i = 0; i < 2; i++) {
		c[i] = utp_connect(u, &peer, SEC);
		cr_assert_eq(out(u, b, SEC), UTP_HDR_LEN);
		cid[i] = g16(b + 2);
		mkpkt(p, 2, cid[i], 100000, 500, g16(b + 16));
		utp_input(u, &peer, p, UTP_HDR_LEN, SEC);
		cr_assert_eq(utp_conn_state(c[i]), UTP_CONNECTED);
	}
	mkpkt(p, 3, (uint16_t)(cid[0] + 7), 0, 0, 0);
	utp_input(u, &peer, p, UTP_HDR_LEN, SEC);
	cr_assert_eq(utp_stats(u)->unknown_conn, 1);
	mkpkt(p, 3, cid[0], 0, 0, 0);		/* our recv_id */
	utp_input(u, &peer, p, UTP_HDR_LEN, SEC);
	mkpkt(p, 3, (uint16_t)(cid[1] + 1), 0, 0, 0);	/* our send_id */
	utp_input(u, &peer, p, UTP_HDR_LEN, SEC);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(utp_conn_state(c[i]), UTP_CLOSED);
		cr_assert_str_eq(utp_conn_reason(c[i]), "connection reset");
		utp_conn_free(c[i]);
	}
	cr_assert_eq(utp_stats(u)->resets_in, 2);
	cr_assert_eq(out(u, b, SEC), 0, "no reset answers a reset");
	utp_free(u);
}
