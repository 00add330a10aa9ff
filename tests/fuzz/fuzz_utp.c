/*
 * fuzz_utp.c: libFuzzer target for the uTP engine (utp_input, utp_tick,
 * utp_output and the stream calls) on a simulated clock.
 *
 * Input layout:
 *   byte 0	flags: bit 0 opens an outgoing connection to the peer
 *		127.0.0.2:2000 before the first chunk
 *   then operations until the input ends, each one byte op:
 *	op % 4 == 0	a datagram: 2 bytes n, big-endian, then n bytes
 *			(cut short at the end of the input), from the peer,
 *			or from the stranger 127.0.0.3:3000 if op & 4
 *	op % 4 == 1	the clock moves (op >> 3) + 1 units, 1 ms each or
 *			100 ms if op & 4, then utp_tick
 *	op % 4 == 2	(op >> 2) * 37 bytes written to every connection
 *	op % 4 == 3	by (op >> 2) % 4: read everything from every
 *			connection; utp_close the first; utp_conn_free the
 *			first; connect to the peer again
 *   after every operation: utp_accept until NULL, then utp_output until
 *   it returns 0.
 * The engine's seed and configuration are fixed, so its connection ids
 * and sequence numbers repeat from run to run and the seeds (recorded
 * with a real peer engine) replay whole transfers.
 *
 * Invariants checked: every datagram out is a uTP packet of at most
 * packet_size bytes for the peer or the stranger; reads and writes move
 * at most what was asked and the counters follow them; buffers stay
 * within their configured ceilings; states are in range.  A broken
 * promise aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/utp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BUF	16384u	/* small buffers reach the limits quickly */
#define FUZZ_HELD	8u	/* connections the harness holds */
#define FUZZ_DRAIN	2000u	/* packets one drain may produce */

struct fuzz {
	struct utp	*u;
	struct utp_conn	*c[FUZZ_HELD];
	unsigned	 n;
	struct thr_addr	 peer, stranger;
	uint64_t	 now;
	/* Optional: sees every datagram out (seed generation). */
	void		(*hook)(void *, const struct thr_addr *,
			    const uint8_t *, size_t);
	void		*ctx;
};

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_utp: broken invariant: %s\n", what);
	abort();
}

static void
fuzz_addr(struct thr_addr *a, uint8_t last, uint16_t port)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	a->ip[0] = 127;
	a->ip[3] = last;
	a->port = port;
}

static void
fuzz_check_conn(struct utp_conn *c)
{
	enum utp_state s = utp_conn_state(c);

	if (s != UTP_CONNECTING && s != UTP_CONNECTED && s != UTP_CLOSING &&
	    s != UTP_CLOSED)
		fail("state out of range");
	if (utp_conn_queued(c) > FUZZ_BUF || utp_conn_readable(c) > FUZZ_BUF)
		fail("buffer above its ceiling");
	if (utp_conn_writable(c) > FUZZ_BUF - utp_conn_queued(c))
		fail("writable beyond the free space");
	if (utp_conn_reason(c) == NULL ||
	    (s == UTP_CLOSED && utp_conn_reason(c)[0] == '\0'))
		fail("closed without a reason");
}

static void
fuzz_drain(struct fuzz *f)
{
	uint8_t pkt[UTP_PACKET_MAX];
	struct thr_addr to;
	struct utp_conn *c;
	size_t len;
	unsigned i;

	while ((c = utp_accept(f->u)) != NULL) {
		if (f->n < FUZZ_HELD)
			f->c[f->n++] = c;
		else
			utp_conn_free(c);
	}
	for (i = 0; i < FUZZ_DRAIN; i++) {
		len = utp_output(f->u, &to, pkt, sizeof pkt, f->now);
		if (len == 0)
			break;
		if (len > UTP_PACKET_DEFAULT || !utp_is_packet(pkt, len))
			fail("bad datagram out");
		if (!addr_equal(&to, &f->peer) &&
		    !addr_equal(&to, &f->stranger))
			fail("datagram to an address never heard of");
		if (f->hook != NULL)
			f->hook(f->ctx, &to, pkt, len);
	}
	for (i = 0; i < f->n; i++)
		fuzz_check_conn(f->c[i]);
}

static void
fuzz_connect(struct fuzz *f)
{
	struct utp_conn *c;

	if (f->n >= FUZZ_HELD)
		return;
	if ((c = utp_connect(f->u, &f->peer, f->now)) == NULL)
		return;
	if (utp_conn_state(c) != UTP_CONNECTING)
		fail("new connection not connecting");
	f->c[f->n++] = c;
}

static void
fuzz_op(struct fuzz *f, uint8_t op)
{
	uint8_t buf[4096];
	size_t k, want, before;
	unsigned i;

	switch (op % 4) {
	case 1:
		f->now += ((uint64_t)(op >> 3) + 1) *
		    ((op & 4) ? 100000 : 1000);
		utp_tick(f->u, f->now);
		break;
	case 2:
		want = (size_t)(op >> 2) * 37;
		for (k = 0; k < want; k++)
			buf[k] = (uint8_t)(k * 7);
		for (i = 0; i < f->n; i++) {
			before = utp_conn_queued(f->c[i]);
			k = utp_write(f->c[i], buf, want, f->now);
			if (k > want || utp_conn_queued(f->c[i]) != before + k)
				fail("write moved more than it says");
		}
		break;
	case 3:
		switch ((op >> 2) % 4) {
		case 0:
			for (i = 0; i < f->n; i++)
				do {
					before = utp_conn_readable(f->c[i]);
					k = utp_read(f->c[i], buf, sizeof buf);
					if (k > sizeof buf || k > before ||
					    utp_conn_readable(f->c[i]) !=
					    before - k)
						fail("read moved more than "
						    "it says");
				} while (k > 0);
			break;
		case 1:
			if (f->n > 0)
				utp_close(f->c[0]);
			break;
		case 2:
			if (f->n > 0) {
				utp_conn_free(f->c[0]);
				memmove(&f->c[0], &f->c[1],
				    (f->n - 1) * sizeof f->c[0]);
				f->n--;
			}
			break;
		default:
			fuzz_connect(f);
		}
		break;
	}
}

/* Exposed to the seed generator through #include. */
static void
fuzz_run(const uint8_t *data, size_t size,
    void (*hook)(void *, const struct thr_addr *, const uint8_t *, size_t),
    void *ctx)
{
	struct utp_config cfg;
	struct fuzz f;
	size_t off = 1, n;
	unsigned i;
	uint8_t op;

	if (size < 1)
		return;
	memset(&f, 0, sizeof f);
	memset(&cfg, 0, sizeof cfg);
	cfg.seed = 0x7574702d66757a7aULL;
	cfg.max_conns = 6;
	cfg.backlog = 2;
	cfg.send_buf = FUZZ_BUF;
	cfg.recv_buf = FUZZ_BUF;
	if ((f.u = utp_new(&cfg)) == NULL)
		fail("utp_new failed");
	f.hook = hook;
	f.ctx = ctx;
	fuzz_addr(&f.peer, 2, 2000);
	fuzz_addr(&f.stranger, 3, 3000);
	f.now = 1000000000;
	if (data[0] & 1)
		fuzz_connect(&f);
	fuzz_drain(&f);
	while (off < size) {
		op = data[off++];
		if (op % 4 == 0) {
			if (size - off < 2)
				break;
			n = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			if (n > size - off)
				n = size - off;
			utp_input(f.u, (op & 4) ? &f.stranger : &f.peer,
			    data + off, n, f.now);
			off += n;
		} else
			fuzz_op(&f, op);
		fuzz_drain(&f);
	}
	for (i = 0; i < f.n; i++)
		utp_conn_free(f.c[i]);
	utp_free(f.u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(data, size, NULL, NULL);
	return 0;
}
