/*
 * fuzz_dht.c: libFuzzer target for the DHT engine as a whole.
 *
 * Each input drives a fresh engine (fixed seed) that first learns 16
 * nodes on 127.0.0.1 and starts a search.  The input is then a list of
 * records: one byte op, one byte arg, two bytes big-endian length, data.
 *	op % 6 == 0: data is a datagram from 127.0.0.1:(20000 + arg)
 *	op % 6 == 1: the clock moves by arg * 1000 ms, then dht_tick
 *	op % 6 == 2: dht_search on a hash of arg bytes, announce if arg odd
 *	op % 6 == 3: pop one queued packet; if it is a query, answer it
 *		     with "d1:r" data "1:t" tid "1:y1:re" from its address
 *		     (so the fuzzer reaches the reply paths through the
 *		     random transaction ids)
 *	op % 6 == 4: data goes to dht_load
 *	op % 6 == 5: dht_save, then dht_load of it into a new engine
 * Promises checked: every packet the engine sends parses with
 * krpc_parse and fits DHT_PKT_MAX; the node count fits the buckets;
 * found peers have a port; a saved state loads back with the same id.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/dht.h"
#include "core/err.h"
#include "core/krpc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct krpc_msg m;

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_dht: broken invariant: %s\n", what);
	abort();
}

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

static void
check(struct dht *d)
{
	struct dht_stats st;
	uint8_t ih[DHT_ID_LEN];
	struct thr_addr a;

	dht_get_stats(d, &st);
	if (st.nodes > st.buckets * DHT_K || st.buckets > 160 ||
	    st.buckets == 0)
		fail("node count beyond the buckets");
	if (st.peers_stored > DHT_STORE_MAX)
		fail("peer store over its cap");
	while (dht_pop_peer(d, ih, &a))
		if (a.port == 0 || (a.family != 4 && a.family != 6))
			fail("found peer without a port");
}

/* Pop one packet; answer it with body if it is a query. */
static void
answer(struct dht *d, const uint8_t *body, size_t n, uint64_t now)
{
	uint8_t pkt[DHT_PKT_MAX];
	struct thr_addr to;
	struct buf b;
	size_t len;

	if (!dht_pop_send(d, &to, pkt, sizeof(pkt), &len))
		return;
	if (len > DHT_PKT_MAX || krpc_parse(pkt, len, &m, NULL) != 0)
		fail("the engine sent a packet that does not parse");
	if (m.type != KRPC_QUERY)
		return;
	buf_init(&b, KRPC_MAX_PACKET + 64);
	if (buf_puts(&b, "d1:r") == 0 && buf_append(&b, body, n) == 0 &&
	    buf_printf(&b, "1:t%zu:", m.tidlen) == 0 &&
	    buf_append(&b, m.tid, m.tidlen) == 0 &&
	    buf_puts(&b, "1:y1:re") == 0)
		dht_input(d, &to, b.data, b.len, now);
	buf_release(&b);
}

static void
drain(struct dht *d)
{
	uint8_t pkt[DHT_PKT_MAX];
	struct thr_addr to;
	size_t len;

	while (dht_pop_send(d, &to, pkt, sizeof(pkt), &len))
		if (krpc_parse(pkt, len, &m, NULL) != 0)
			fail("the engine sent a packet that does not parse");
}

static void
save_load(struct dht *d)
{
	struct dht *e;
	struct buf b;
	struct dht_options o;

	dht_options_init(&o);
	o.seed = 99;
	buf_init(&b, DHT_SAVE_MAX);
	if (dht_save(d, &b) != 0)
		fail("save failed");
	if ((e = dht_new(&o, NULL)) == NULL)
		return;
	if (dht_load(e, b.data, b.len, NULL) != 0)
		fail("a saved state does not load");
	if (memcmp(dht_id(e), dht_id(d), DHT_ID_LEN) != 0)
		fail("load changed the id");
	if (dht_nodes(e) != dht_nodes(d))
		fail("load changed the node count");
	dht_free(e);
	buf_release(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dht_options o;
	struct dht *d;
	struct buf b;
	uint8_t ih[DHT_ID_LEN];
	uint64_t now = 1000000;
	size_t off = 0, n;
	int i;

	dht_options_init(&o);
	o.seed = 1;
	if ((d = dht_new(&o, NULL)) == NULL)
		return 0;
	/* Sixteen nodes ping us: a table to answer from and search with. */
	buf_init(&b, 256);
	for (i = 0; i < 16; i++) {
		struct thr_addr a = lo((uint16_t)(20000 + i));

		buf_reset(&b);
		buf_puts(&b, "d1:ad2:id20:");
		for (int k = 0; k < DHT_ID_LEN; k++)
			buf_put_u8(&b, (uint8_t)(i * 16 + k));
		buf_puts(&b, "e1:q4:ping1:t1:x1:y1:qe");
		dht_input(d, &a, b.data, b.len, now);
	}
	buf_release(&b);
	drain(d);
	memset(ih, 0x42, sizeof(ih));
	dht_search(d, ih, 6881, true, now);

	while (size - off >= 4) {
		uint8_t op = data[off], arg = data[off + 1];

		n = (size_t)data[off + 2] << 8 | data[off + 3];
		off += 4;
		if (n > size - off)
			n = size - off;
		switch (op % 6) {
		case 0: {
			struct thr_addr a = lo((uint16_t)(20000 + arg));

			dht_input(d, &a, data + off, n, now);
			break;
		}
		case 1:
			now += (uint64_t)arg * 1000;
			dht_tick(d, now);
			break;
		case 2:
			memset(ih, arg, sizeof(ih));
			dht_search(d, ih, 6881, arg & 1, now);
			break;
		case 3:
			answer(d, data + off, n, now);
			break;
		case 4:
			dht_load(d, data + off, n, NULL);
			break;
		case 5:
			save_load(d);
			break;
		}
		off += n;
		if (dht_deadline(d) > now + DHT_HOUSEKEEP_MS &&
		    dht_deadline(d) > now + DHT_QUERY_TIMEOUT_MS)
			fail("deadline too far away");
		check(d);
	}
	drain(d);
	dht_free(d);
	return 0;
}
