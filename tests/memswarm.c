/*
 * memswarm.c: a download between two sessions in memory.  See
 * memswarm.h.
 *
 * Each step of the clock (MEMSWARM_STEP_MS) moves at most link_bytes
 * each way, as the program's transport pump does with a socket: fill
 * the peer's output, encrypt, hand it to the other side's input, let
 * that side parse it; then each session's tick runs when it is due.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bencode.h"
#include "core/hash.h"
#include "core/memstore.h"
#include "core/session.h"
#include "core/torrent.h"

#include "memswarm.h"

#define MEMSWARM_STEP_MS	10u

struct memswarm_side {
	struct session	*s;
	struct torrent	*t;
	struct memstore	*m;
	struct peer	*p;		/* its connection to the other */
	uint64_t	 next_tick;
};

static int
memswarm_trace(void *ctx, const char *line, size_t len)
{
	return buf_append(ctx, line, len);
}

static void
memswarm_payload(uint8_t *p, size_t n)
{
	uint64_t x = 0x243f6a8885a308d3ULL;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

/* The .torrent of the payload into out.  0 or an error. */
static int
memswarm_torrent(const uint8_t *pay, uint32_t size, uint32_t plen,
    struct buf *out)
{
	uint32_t n = (size + plen - 1) / plen;
	uint8_t *h = malloc((size_t)n * 20);
	int rc = 0;

	if (h == NULL)
		return THR_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		size_t at = (size_t)i * plen;

		hash_sha1(pay + at, size - at < plen ? size - at : plen,
		    h + 20 * i);
	}
	rc |= bencode_put_dict(out);
	rc |= bencode_put_cstr(out, "info");
	rc |= bencode_put_dict(out);
	rc |= bencode_put_cstr(out, "length");
	rc |= bencode_put_int(out, size);
	rc |= bencode_put_cstr(out, "name");
	rc |= bencode_put_cstr(out, "mem.bin");
	rc |= bencode_put_cstr(out, "piece length");
	rc |= bencode_put_int(out, plen);
	rc |= bencode_put_cstr(out, "pieces");
	rc |= bencode_put_str(out, h, (size_t)n * 20);
	rc |= bencode_put_end(out);
	rc |= bencode_put_end(out);
	free(h);
	return rc != 0 ? THR_ENOMEM : 0;
}

static int
memswarm_side(struct memswarm_side *sd, const struct memswarm_opts *o,
    const struct buf *tor, const uint8_t *pay, bool seeder, uint64_t now)
{
	struct session_opts so;
	struct torrent_opts to;
	struct thr_error err;
	int rc;

	memset(&so, 0, sizeof(so));
	memset(&err, 0, sizeof(err));
	so.seed = seeder ? o->seed : o->seed + 1;
	so.log_level = LOG_ERROR;
	if (o->trace != NULL) {
		so.trace.write = memswarm_trace;
		so.trace.ctx = o->trace;
	}
	so.crypto = SESSION_CRYPTO_PREFER;
	so.transport = SESSION_TRANSPORT_TCP;
	if ((sd->s = session_new(&so, now, &err)) == NULL)
		return err.code ? err.code : THR_ENOMEM;
	if ((sd->m = memstore_new(seeder ? pay : NULL, o->size,
	    seeder)) == NULL)
		return THR_ENOMEM;
	memset(&to, 0, sizeof(to));
	to.metainfo = tor->data;
	to.metainfo_len = tor->len;
	to.seed_ratio = 0;
	to.store = memstore_factory(sd->m);
	if ((rc = session_add(sd->s, &to, now, &sd->t, &err)) != 0)
		return rc;
	session_set_port(sd->s, seeder ? 6881 : 6882);
	for (int i = 0; i < 1000 && sd->t->phase == TORRENT_CHECKING; i++)
		torrent_check_step(sd->t, now);
	sd->next_tick = now;
	return sd->t->fatal;
}

static void
memswarm_free(struct memswarm_side *sd)
{
	session_free(sd->s);
	memstore_free(sd->m);
}

/* What the program's pump does for a peer, with the other side's input
 * buffer as the wire. */
static void
memswarm_send(struct memswarm_side *from, struct memswarm_side *to,
    uint32_t link, uint64_t now)
{
	struct peer *p = from->p, *q = to->p;
	size_t n;

	if (p == NULL || p->dead || q == NULL || q->dead)
		return;
	(void)session_upload(from->s, now);
	torrent_peer_outgoing(from->t, p);
	n = p->out.len < link ? p->out.len : link;
	if (q->in.max - q->in.len < n)
		n = q->in.max - q->in.len;
	if (n == 0 || buf_append(&q->in, p->out.data, n) != 0)
		return;
	buf_consume(&p->out, n);
	torrent_peer_sent(from->t, p, n, now);
	torrent_peer_input(to->t, q, now);
}

static void
memswarm_tick(struct memswarm_side *sd, uint64_t now)
{
	uint32_t ids[64];

	if (now >= sd->next_tick)
		sd->next_tick = session_tick(sd->s, now);
	(void)torrent_take_dirty(sd->t, ids, 64);
}

/* Connect the two sides and run until the leecher completes, a peer
 * dies, or the steps run out. */
static void
memswarm_loop(struct memswarm_side *a, struct memswarm_side *b,
    const struct memswarm_opts *o, struct memswarm_result *r, uint64_t now)
{
	struct thr_addr aa, ba;
	uint32_t step;

	memset(&aa, 0, sizeof(aa));
	memset(&ba, 0, sizeof(ba));
	aa.family = ba.family = 4;
	aa.ip[0] = 10, aa.ip[3] = 1, aa.port = 6881;
	ba.ip[0] = 10, ba.ip[3] = 2, ba.port = 50000;
	b->p = torrent_peer_add(b->t, &aa, false, PEER_SRC_MANUAL, PEER_TCP,
	    now);
	a->p = torrent_peer_add(a->t, &ba, true, PEER_SRC_INCOMING, PEER_TCP,
	    now);
	if (a->p == NULL || b->p == NULL) {
		snprintf(r->why, sizeof(r->why), "no peer slot");
		return;
	}
	torrent_peer_connected(b->t, b->p, now);
	for (step = 0; step < o->max_steps && !torrent_complete(b->t);
	    step++) {
		now += MEMSWARM_STEP_MS;
		memswarm_send(b, a, o->link_bytes, now);
		memswarm_send(a, b, o->link_bytes, now);
		memswarm_tick(a, now);
		memswarm_tick(b, now);
		if (torrent_complete(b->t))
			break;
		if (a->p->dead || b->p->dead) {
			snprintf(r->why, sizeof(r->why), "seed: %s; leecher: %s",
			    a->p->why, b->p->why);
			break;
		}
	}
	r->virtual_ms = (uint64_t)step * MEMSWARM_STEP_MS;
	r->complete = torrent_complete(b->t);
	if (!r->complete && r->why[0] == '\0')
		snprintf(r->why, sizeof(r->why), "not complete after %u steps",
		    step);
}

int
memswarm_run(const struct memswarm_opts *o, struct memswarm_result *r)
{
	struct memswarm_side a, b;
	uint64_t now = 1000000;
	uint8_t *pay = malloc(o->size ? o->size : 1);
	struct buf tor;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	buf_init(&tor, 1u << 20);
	if (pay == NULL)
		return THR_ENOMEM;
	memswarm_payload(pay, o->size);
	if ((rc = memswarm_torrent(pay, o->size, o->piece, &tor)) == 0 &&
	    (rc = memswarm_side(&a, o, &tor, pay, true, now)) == 0 &&
	    (rc = memswarm_side(&b, o, &tor, pay, false, now)) == 0)
		memswarm_loop(&a, &b, o, r, now);
	if (rc == 0 && r->complete) {
		size_t len;
		const uint8_t *got = memstore_bytes(b.m, &len);

		r->same_bytes = len == o->size &&
		    memcmp(got, pay, o->size) == 0;
	}
	memswarm_free(&a);
	memswarm_free(&b);
	buf_release(&tor);
	free(pay);
	return rc;
}
