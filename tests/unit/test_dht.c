/*
 * test_dht.c: the DHT engine on a simulated clock.  Single engines are
 * driven with hand-made KRPC packets (tokens, errors, rate limit, bucket
 * splitting, replacement, save and load); a network of 20 engines
 * exchanging packets in memory checks bootstrap, announce and get_peers
 * end to end.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"
#include "core/dht.h"
#include "core/krpc.h"

#define NNET	20
#define T0	1000000u	/* a monotonic clock does not start at 0 */
#define P(s)	((const uint8_t *)(s)), strlen(s)

static struct krpc_msg q, r;

static struct thr_addr
lo(uint16_t port)
{
	struct thr_addr a;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.ip[0] = 127;
	a.ip[3] = 1;
	a.port = port;
	return a;
}

static struct dht *
mk(uint64_t seed)
{
	struct dht_options o;
	struct dht *d;

	dht_options_init(&o);
	o.seed = seed;
	d = dht_new(&o, NULL);
	cr_assert_not_null(d);
	return d;
}

/* Build a query from a fake node with id byte idb into q. */
static void
mkq(enum krpc_method method, uint8_t idb)
{
	memset(&q, 0, sizeof(q));
	q.type = KRPC_QUERY;
	q.method = method;
	q.tidlen = 2;
	q.tid[0] = 'q';
	q.tid[1] = idb;
	q.has_id = true;
	memset(q.id, idb, 20);
}

static void
send_q(struct dht *d, const struct thr_addr *from, uint64_t now)
{
	struct buf b;

	buf_init(&b, 2048);
	cr_assert_eq(krpc_encode(&b, &q), 0);
	dht_input(d, from, b.data, b.len, now);
	buf_release(&b);
}

/* Pop the next packet, which must go to `to`, into r. */
static void
pop_r(struct dht *d, const struct thr_addr *to)
{
	uint8_t pkt[DHT_PKT_MAX];
	struct thr_addr a;
	size_t len;

	cr_assert(dht_pop_send(d, &a, pkt, sizeof(pkt), &len));
	if (to != NULL)
		cr_assert(addr_equal(&a, to));
	cr_assert_eq(krpc_parse(pkt, len, &r, NULL), 0);
}

static size_t
drain(struct dht *d)
{
	uint8_t pkt[DHT_PKT_MAX];
	struct thr_addr a;
	size_t len, n = 0;

	while (dht_pop_send(d, &a, pkt, sizeof(pkt), &len))
		n++;
	return n;
}

Test(dht, ping_and_find_node_replies)
{
	struct dht *d = mk(1);
	struct thr_addr a = lo(7001);

	mkq(KRPC_PING, 0x40);
	send_q(d, &a, T0);
	pop_r(d, &a);
	cr_assert_eq(r.type, KRPC_REPLY);
	cr_assert(r.has_id);
	cr_assert(memcmp(r.id, dht_id(d), 20) == 0);
	cr_assert_eq(r.tidlen, 2);
	cr_assert_eq(r.tid[1], 0x40);
	cr_assert_eq(dht_nodes(d), 1);

	mkq(KRPC_FIND_NODE, 0x41);
	q.has_target = true;
	memset(q.target, 0x40, 20);
	a = lo(7002);
	send_q(d, &a, T0);
	pop_r(d, &a);
	cr_assert_eq(r.type, KRPC_REPLY);
	cr_assert_eq(r.nnodes, 2);
	cr_assert_eq(r.nodes[0].id[0], 0x40);	/* closest first */
	cr_assert_eq(r.nodes[0].addr.port, 7001);
	cr_assert(!dht_pop_send(d, &a, NULL, 0, NULL));
	dht_free(d);
}

Test(dht, errors_for_unknown_and_bad_queries)
{
	struct dht *d = mk(2);
	struct thr_addr a = lo(7001);
	struct dht_stats st;

	mkq(KRPC_PING, 1);
	q.method = KRPC_UNKNOWN;
	/* The encoder refuses unknown methods: write the packet by hand. */
	dht_input(d, &a, P("d1:ad2:id20:abcdefghij0123456789e"
	    "1:q4:vote1:t2:xy1:y1:qe"), T0);
	pop_r(d, &a);
	cr_assert_eq(r.type, KRPC_ERROR);
	cr_assert_eq(r.ecode, 204);
	cr_assert(memcmp(r.tid, "xy", 2) == 0);

	mkq(KRPC_GET_PEERS, 2);		/* no info_hash */
	send_q(d, &a, T0);
	pop_r(d, &a);
	cr_assert_eq(r.type, KRPC_ERROR);
	cr_assert_eq(r.ecode, 203);

	mkq(KRPC_FIND_NODE, 2);		/* no target */
	send_q(d, &a, T0);
	pop_r(d, &a);
	cr_assert_eq(r.ecode, 203);

	/* Garbage and unsolicited replies are counted, never answered. */
	dht_input(d, &a, P("garbage"), T0);
	dht_input(d, &a, P("d1:rd2:id20:abcdefghij0123456789e"
	    "1:t4:abcd1:y1:re"), T0);
	cr_assert_eq(drain(d), 0);
	dht_get_stats(d, &st);
	cr_assert_eq(st.malformed, 1);
	cr_assert_geq(st.dropped, 1);
	dht_free(d);
}

Test(dht, tokens_and_peer_store)
{
	struct dht *d = mk(3);
	struct thr_addr a = lo(7001), b = lo(7002), c;
	uint8_t tok[KRPC_TOKEN_MAX];
	size_t toklen;

	/* An announce with a made-up token is refused. */
	mkq(KRPC_ANNOUNCE_PEER, 1);
	q.has_info_hash = true;
	memset(q.info_hash, 0xab, 20);
	q.has_port = true;
	q.port = 6000;
	q.has_token = true;
	q.tokenlen = 20;
	send_q(d, &a, T0);
	pop_r(d, &a);
	cr_assert_eq(r.type, KRPC_ERROR);
	cr_assert_eq(r.ecode, 203);

	/* get_peers gives a token and, with no peers, nodes only. */
	mkq(KRPC_GET_PEERS, 1);
	q.has_info_hash = true;
	memset(q.info_hash, 0xab, 20);
	send_q(d, &a, T0);
	pop_r(d, &a);
	cr_assert_eq(r.type, KRPC_REPLY);
	cr_assert(r.has_token);
	cr_assert(!r.has_values);
	memcpy(tok, r.token, r.tokenlen);
	toklen = r.tokenlen;

	/* The token is bound to the IP: another IP cannot use it. */
	c = a;
	c.ip[3] = 2;
	mkq(KRPC_ANNOUNCE_PEER, 1);
	q.has_info_hash = true;
	memset(q.info_hash, 0xab, 20);
	q.has_port = true;
	q.port = 6000;
	q.has_token = true;
	memcpy(q.token, tok, toklen);
	q.tokenlen = toklen;
	send_q(d, &c, T0);
	pop_r(d, &c);
	cr_assert_eq(r.type, KRPC_ERROR);

	/* From the right IP (any port) it stores the peer. */
	send_q(d, &b, T0);
	pop_r(d, &b);
	cr_assert_eq(r.type, KRPC_REPLY);
	/* implied_port: the UDP source port is the peer's port. */
	q.implied_port = true;
	send_q(d, &a, T0);
	pop_r(d, &a);
	cr_assert_eq(r.type, KRPC_REPLY);

	mkq(KRPC_GET_PEERS, 9);
	q.has_info_hash = true;
	memset(q.info_hash, 0xab, 20);
	send_q(d, &c, T0 + 1);
	pop_r(d, &c);
	cr_assert(r.has_values);
	cr_assert_eq(r.nvalues, 2);
	cr_assert(r.values[0].port == 6000 || r.values[1].port == 6000);
	cr_assert(r.values[0].port == 7001 || r.values[1].port == 7001);

	/* After one rotation the old token still works, after two not. */
	dht_tick(d, T0 + DHT_SECRET_MS);
	mkq(KRPC_ANNOUNCE_PEER, 1);
	q.has_info_hash = true;
	memset(q.info_hash, 0xab, 20);
	q.implied_port = true;
	q.has_token = true;
	memcpy(q.token, tok, toklen);
	q.tokenlen = toklen;
	send_q(d, &a, T0 + DHT_SECRET_MS + 1);
	drain(d);
	send_q(d, &a, T0 + DHT_SECRET_MS + 2000);
	pop_r(d, &a);
	cr_assert_eq(r.type, KRPC_REPLY);
	dht_tick(d, T0 + 2 * DHT_SECRET_MS);
	drain(d);
	send_q(d, &a, T0 + 2 * DHT_SECRET_MS + 3000);
	pop_r(d, &a);
	cr_assert_eq(r.type, KRPC_ERROR);

	/* Stored peers expire. */
	dht_tick(d, T0 + DHT_SECRET_MS + DHT_PEER_TTL_MS + 10000);
	drain(d);
	mkq(KRPC_GET_PEERS, 9);
	q.has_info_hash = true;
	memset(q.info_hash, 0xab, 20);
	send_q(d, &c, T0 + DHT_SECRET_MS + DHT_PEER_TTL_MS + 10001);
	pop_r(d, &c);
	cr_assert(!r.has_values);
	dht_free(d);
}

Test(dht, rate_limit)
{
	struct dht *d = mk(4);
	struct thr_addr a = lo(7001);
	struct dht_stats st;

	mkq(KRPC_PING, 7);
	for (int i = 0; i < DHT_RATE_PER_S + 50; i++)
		send_q(d, &a, T0);
	cr_assert_eq(drain(d), DHT_RATE_PER_S);
	dht_get_stats(d, &st);
	cr_assert_eq(st.dropped, 50);
	send_q(d, &a, T0 + 1000);
	cr_assert_eq(drain(d), 1);
	dht_free(d);
}

Test(dht, bucket_splitting)
{
	struct dht *d = mk(5);
	struct dht_stats st;
	const uint8_t *me = dht_id(d);
	uint8_t id[20];

	/* Nodes sharing 0..39 leading bits with us: every one of them has
	 * room, as the bucket holding our id splits for each prefix. */
	for (int i = 0; i < 40; i++) {
		struct thr_addr a = lo((uint16_t)(2000 + i));

		memcpy(id, me, 20);
		id[i / 8] ^= (uint8_t)(0x80u >> (i % 8));
		id[19] ^= 0x55;
		mkq(KRPC_PING, 0);
		memcpy(q.id, id, 20);
		send_q(d, &a, T0);
	}
	drain(d);
	dht_get_stats(d, &st);
	cr_assert_eq(st.nodes, 40);
	cr_assert_geq(st.buckets, 33);

	/* Far nodes (first bit differs) beyond K do not fit. */
	for (int i = 0; i < 20; i++) {
		struct thr_addr a = lo((uint16_t)(3000 + i));

		memcpy(id, me, 20);
		id[0] ^= 0x80;
		id[10] = (uint8_t)i;
		id[11] = 0xee;
		mkq(KRPC_PING, 0);
		memcpy(q.id, id, 20);
		send_q(d, &a, T0);
	}
	drain(d);
	dht_get_stats(d, &st);
	cr_assert_eq(st.nodes, 40 + DHT_K - 1);
	dht_free(d);
}

/* Far node number i (bucket 0 for sure). */
static void
far_id(const struct dht *d, int i, uint8_t *id)
{
	memcpy(id, dht_id(d), 20);
	id[0] ^= 0x80;
	id[5] = (uint8_t)i;
}

Test(dht, questionable_node_replaced_after_failed_pings)
{
	struct dht *d = mk(6);
	struct thr_addr a, newcomer = lo(4100);
	uint8_t id[20], nid[20];
	struct buf b;
	uint64_t now = T0;
	int round;

	for (int i = 0; i < DHT_K; i++) {
		a = lo((uint16_t)(4000 + i));
		far_id(d, i, id);
		mkq(KRPC_PING, 0);
		memcpy(q.id, id, 20);
		send_q(d, &a, now);
		drain(d);
		now += 10;
	}
	far_id(d, 99, nid);
	for (round = 0; round < DHT_MAX_FAILS; round++) {
		mkq(KRPC_PING, 0);
		memcpy(q.id, nid, 20);
		send_q(d, &newcomer, now);
		a = lo(4000);
		pop_r(d, &a);		/* our ping of the oldest */
		cr_assert_eq(r.method, KRPC_PING);
		pop_r(d, &newcomer);	/* our answer to its ping */
		now += DHT_QUERY_TIMEOUT_MS;
		dht_tick(d, now);
		drain(d);
	}
	cr_assert_eq(dht_nodes(d), DHT_K);
	buf_init(&b, 1 << 16);
	cr_assert_eq(dht_save(d, &b), 0);
	cr_assert_not_null(memmem(b.data, b.len, nid, 20));
	far_id(d, 0, id);
	cr_assert_null(memmem(b.data, b.len, id, 20));
	buf_release(&b);
	dht_free(d);
}

Test(dht, save_and_load)
{
	struct dht *d = mk(7), *e = mk(8);
	struct thr_error err;
	struct buf b;
	uint8_t id[20];

	for (int i = 0; i < 30; i++) {
		struct thr_addr a = lo((uint16_t)(5000 + i));

		mkq(KRPC_PING, 0);
		q.id[0] = (uint8_t)(i * 8);
		q.id[1] = (uint8_t)i;
		send_q(d, &a, T0);
	}
	drain(d);
	buf_init(&b, DHT_SAVE_MAX);
	cr_assert_eq(dht_save(d, &b), 0);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(dht_load(e, b.data, b.len, &err), 0, "%s", err.msg);
	cr_assert(memcmp(dht_id(e), dht_id(d), 20) == 0);
	cr_assert_eq(dht_nodes(e), dht_nodes(d));
	/* The loaded nodes are asked for our id at the next tick. */
	dht_tick(e, T0);
	cr_assert_geq(drain(e), 3);

	/* Damaged files are refused and change nothing. */
	memcpy(id, dht_id(e), 20);
	cr_assert_eq(dht_load(e, P("d2:id3:abce"), &err), THR_EINVAL);
	cr_assert_eq(dht_load(e, P("d2:id20:abcdefghij0123456789"
	    "5:nodes3:abce"), &err), THR_EINVAL);
	cr_assert_neq(dht_load(e, P("x"), &err), 0);
	cr_assert_eq(dht_load(e, b.data, DHT_SAVE_MAX + 1, &err),
	    THR_ELIMIT);
	cr_assert(memcmp(dht_id(e), id, 20) == 0);
	cr_assert_eq(dht_nodes(e), dht_nodes(d));
	buf_release(&b);
	dht_free(d);
	dht_free(e);
}

Test(dht, search_api_errors)
{
	struct dht *d = mk(9);
	uint8_t ih[20] = { 1 };
	struct thr_addr a = lo(1);

	cr_assert_eq(dht_search(d, ih, 0, true, T0), THR_EINVAL);
	cr_assert_eq(dht_search(d, ih, 0, false, T0), 0);
	cr_assert(dht_searching(d, ih));
	/* An empty table: the search waits, then gives up. */
	dht_tick(d, T0 + DHT_SEARCH_MAX_MS);
	cr_assert(!dht_searching(d, ih));
	for (int i = 0; i < DHT_MAX_SEARCHES; i++) {
		ih[1] = (uint8_t)i;
		cr_assert_eq(dht_search(d, ih, 1, true, T0), 0);
	}
	ih[1] = 0xff;
	cr_assert_eq(dht_search(d, ih, 1, true, T0), THR_ELIMIT);
	a.port = 0;
	cr_assert_eq(dht_add_bootstrap(d, &a, T0), THR_EINVAL);
	a.family = 6;
	a.port = 1;
	cr_assert_eq(dht_add_bootstrap(d, &a, T0), THR_EINVAL);
	cr_assert_leq(dht_deadline(d),
	    T0 + DHT_SEARCH_MAX_MS + DHT_HOUSEKEEP_MS);
	dht_free(d);
}

Test(dht, ipv6_table_and_nodes6)
{
	struct dht_options o;
	struct dht *d;
	struct thr_addr a, b, v4 = lo(7000);
	struct buf sv;

	dht_options_init(&o);
	o.family = 6;
	o.seed = 10;
	d = dht_new(&o, NULL);
	cr_assert_not_null(d);
	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.ip[0] = 0x20;
	a.ip[1] = 0x01;
	a.ip[15] = 1;
	a.port = 6881;
	b = a;
	b.ip[15] = 2;
	mkq(KRPC_PING, 0x10);
	send_q(d, &a, T0);
	pop_r(d, &a);
	mkq(KRPC_PING, 0x20);
	send_q(d, &v4, T0);	/* answered, but not in a v6 table */
	pop_r(d, &v4);
	cr_assert_eq(dht_nodes(d), 1);
	mkq(KRPC_FIND_NODE, 0x30);
	q.has_target = true;
	send_q(d, &b, T0);
	pop_r(d, &b);
	cr_assert_eq(r.nnodes, 2);
	cr_assert_eq(r.nodes[0].addr.family, 6);
	buf_init(&sv, DHT_SAVE_MAX);
	cr_assert_eq(dht_save(d, &sv), 0);
	cr_assert_not_null(memmem(sv.data, sv.len, "6:nodes6", 8));
	buf_release(&sv);
	cr_assert_eq(dht_add_bootstrap(d, &v4, T0), THR_EINVAL);
	cr_assert_eq(dht_add_bootstrap(d, &a, T0), 0);
	cr_assert_geq(drain(d), 1);
	dht_free(d);

	o.family = 5;
	cr_assert_null(dht_new(&o, NULL));
}

Test(dht, private_and_same_ip_filters)
{
	struct dht_options o;
	struct dht *d;
	struct thr_addr a = lo(7001), pub;

	dht_options_init(&o);
	o.allow_private = false;
	o.allow_same_ip = false;
	d = dht_new(&o, NULL);
	cr_assert_not_null(d);
	mkq(KRPC_PING, 0x10);
	send_q(d, &a, T0);
	cr_assert_eq(drain(d), 1);	/* answered, not added */
	cr_assert_eq(dht_nodes(d), 0);
	memset(&pub, 0, sizeof(pub));
	pub.family = 4;
	pub.ip[0] = 8;
	pub.ip[3] = 8;
	pub.port = 1;
	send_q(d, &pub, T0);
	pub.port = 2;
	mkq(KRPC_PING, 0x11);
	send_q(d, &pub, T0);
	cr_assert_eq(drain(d), 2);
	cr_assert_eq(dht_nodes(d), 1);
	dht_free(d);
}

/* Answer query r (just popped, sent to `to`) with the reply in q. */
static void
answer(struct dht *d, const struct thr_addr *to, uint64_t now)
{
	memcpy(q.tid, r.tid, r.tidlen);
	q.tidlen = r.tidlen;
	send_q(d, to, now);
}

Test(dht, search_asks_bootstrap_nodes_and_announces)
{
	struct dht *d = mk(11);
	struct thr_addr rt = lo(9000), peer;
	uint8_t ih[20], got[20];
	bool saw_gp = false, saw_fn = false;

	memset(ih, 0x77, 20);
	cr_assert_eq(dht_add_bootstrap(d, &rt, T0), 0);
	cr_assert_eq(dht_search(d, ih, 6881, true, T0), 0);
	for (int k = 0; k < 2; k++) {
		pop_r(d, &rt);
		cr_assert_eq(r.type, KRPC_QUERY);
		memset(&q, 0, sizeof(q));
		q.type = KRPC_REPLY;
		q.has_id = true;
		memset(q.id, 0x70, 20);
		if (r.method == KRPC_GET_PEERS) {
			saw_gp = true;
			cr_assert(memcmp(r.info_hash, ih, 20) == 0);
			q.has_token = true;
			q.tokenlen = 4;
			memcpy(q.token, "tok1", 4);
			q.has_values = true;
			q.nvalues = 1;
			q.values[0] = lo(5);
			q.values[0].ip[0] = 1;
		} else {
			saw_fn = true;
			cr_assert_eq(r.method, KRPC_FIND_NODE);
		}
		answer(d, &rt, T0 + 10);
	}
	cr_assert(saw_gp && saw_fn);
	cr_assert(dht_pop_peer(d, got, &peer));
	cr_assert(memcmp(got, ih, 20) == 0);
	cr_assert_eq(peer.port, 5);
	cr_assert_eq(peer.ip[0], 1);
	cr_assert(!dht_pop_peer(d, got, &peer));
	/* The only node answered: the search announces to it. */
	pop_r(d, &rt);
	cr_assert_eq(r.method, KRPC_ANNOUNCE_PEER);
	cr_assert_eq(r.port, 6881);
	cr_assert_eq(r.tokenlen, 4);
	cr_assert(memcmp(r.token, "tok1", 4) == 0);
	cr_assert(!dht_searching(d, ih));
	cr_assert_eq(dht_nodes(d), 1);
	dht_free(d);
}

/* ---- a network of engines in memory ---- */

struct net {
	struct dht	*d[NNET];
	uint64_t	 now;
	unsigned	 lost;	/* drop every lost-th packet, 0: none */
	unsigned	 count;
};

static void
net_pump(struct net *n)
{
	uint8_t pkt[DHT_PKT_MAX];
	struct thr_addr to, from;
	size_t len;
	bool any = true;

	while (any) {
		any = false;
		for (int i = 0; i < NNET; i++)
			while (dht_pop_send(n->d[i], &to, pkt, sizeof(pkt),
			    &len)) {
				int j = to.port - 10000;

				any = true;
				if (j < 0 || j >= NNET)
					continue;
				if (n->lost && ++n->count % n->lost == 0)
					continue;
				from = lo((uint16_t)(10000 + i));
				dht_input(n->d[j], &from, pkt, len, n->now);
			}
	}
}

static void
net_run(struct net *n, uint64_t ms)
{
	uint64_t end = n->now + ms;

	while (n->now < end) {
		n->now += 100;
		for (int i = 0; i < NNET; i++)
			if (dht_deadline(n->d[i]) <= n->now)
				dht_tick(n->d[i], n->now);
		net_pump(n);
	}
}

static void
net_init(struct net *n, unsigned lost)
{
	memset(n, 0, sizeof(*n));
	n->now = T0;
	n->lost = lost;
	for (int i = 0; i < NNET; i++)
		n->d[i] = mk(1000 + (uint64_t)i);
	for (int i = 1; i < NNET; i++) {
		struct thr_addr a = lo(10000);

		cr_assert_eq(dht_add_bootstrap(n->d[i], &a, n->now), 0);
		net_pump(n);
	}
	net_run(n, 30000);
}

static void
net_free(struct net *n)
{
	for (int i = 0; i < NNET; i++)
		dht_free(n->d[i]);
}

static void
net_announce_and_find(unsigned lost)
{
	struct net n;
	uint8_t ih[20], got[20];
	struct thr_addr peer;
	bool found = false;

	net_init(&n, lost);
	for (int i = 0; i < NNET; i++)
		cr_assert_geq(dht_nodes(n.d[i]), DHT_K,
		    "node %d knows %zu", i, dht_nodes(n.d[i]));
	memset(ih, 0x5a, 20);
	cr_assert_eq(dht_search(n.d[5], ih, 7005, true, n.now), 0);
	net_run(&n, 20000);
	cr_assert(!dht_searching(n.d[5], ih));

	cr_assert_eq(dht_search(n.d[17], ih, 0, false, n.now), 0);
	net_run(&n, 20000);
	cr_assert(!dht_searching(n.d[17], ih));
	while (dht_pop_peer(n.d[17], got, &peer)) {
		cr_assert(memcmp(got, ih, 20) == 0);
		if (peer.port == 7005)
			found = true;
	}
	cr_assert(found, "node 17 did not find node 5's announce");
	net_free(&n);
}

Test(dht, network_announce_then_get_peers)
{
	net_announce_and_find(0);
}

Test(dht, network_with_lost_packets)
{
	net_announce_and_find(7);
}

Test(dht, network_reannounce_is_rerunnable)
{
	struct net n;
	uint8_t ih[20];
	struct dht_stats st;

	net_init(&n, 0);
	memset(ih, 0x33, 20);
	for (int k = 0; k < 3; k++) {
		cr_assert_eq(dht_search(n.d[3], ih, 7003, true, n.now), 0);
		net_run(&n, 20000);
		cr_assert(!dht_searching(n.d[3], ih));
	}
	/* Three announces, yet each holder stores the peer once. */
	for (int i = 0; i < NNET; i++) {
		dht_get_stats(n.d[i], &st);
		cr_assert_leq(st.peers_stored, 1);
	}
	net_free(&n);
}
