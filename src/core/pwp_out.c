/*
 * pwp_out.c: what we send one peer on our own account: choke and
 * unchoke, interest, our requests, our pieces (serving its requests from
 * the store), have, cancel, suggest.  See pwp.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pwcrypt.h"
#include "pwp.h"
#include "torrent.h"
#include "wire.h"

void
pwp_send_simple(struct peer *p, enum wire_id id)
{
	if (wire_put_simple(&p->out, id) != 0)
		peer_kill(p, "output buffer full");
}

bool
pwp_allowed_out(const struct peer *p, uint32_t index)
{
	for (uint32_t i = 0; i < p->nallowed_out; i++)
		if (p->allowed_out[i] == index)
			return true;
	return false;
}

/* --- choking, interest, requests ---------------------------------------- */

void
pwp_set_choke(struct torrent *t, struct peer *p, bool choke)
{
	uint64_t now = t->sess->now_ms;

	if (p->am_choking == choke)
		return;
	p->am_choking = choke;
	trace_emit(t->trace, choke ? "choke" : "unchoke", "\"peer\":%u",
	    p->id);
	if (choke) {
		p->choked_ms = now;
		p->unchoked_ms = 0;
	} else
		p->unchoked_ms = now ? now : 1;
	pwp_send_simple(p, choke ? WIRE_CHOKE : WIRE_UNCHOKE);
	if (!choke)
		return;
	if (!p->fast) {
		peer_queue_clear(p);	/* BEP 3: choking drops requests */
		return;
	}
	/* BEP 6: every dropped request is rejected explicitly; requests
	 * for allowed fast pieces are still served. */
	for (uint32_t n = p->qlen; n > 0; n--) {
		struct picker_block b;

		peer_queue_pop(p, &b);
		if (pwp_allowed_out(p, b.index))
			peer_queue_push(p, &b);
		else if (wire_put_request(&p->out, WIRE_REJECT, b.index,
		    b.begin, b.length) != 0)
			peer_kill(p, "output buffer full");
	}
}

void
pwp_update_interest(struct torrent *t, struct peer *p)
{
	bool want = t->phase == TORRENT_DOWNLOADING &&
	    picker_interesting(&t->pk, &p->have);

	if (want == p->am_interested)
		return;
	p->am_interested = want;
	pwp_send_simple(p, want ? WIRE_INTERESTED : WIRE_NOT_INTERESTED);
	trace_emit(t->trace, want ? "am_interested" : "am_not_interested",
	    "\"peer\":%u", p->id);
}

void
pwp_drop_requests(struct torrent *t, struct peer *p)
{
	for (uint32_t i = 0; i < p->nreqs; i++)
		picker_unrequest(&t->pk, &p->reqs[i]);
	picker_disown(&t->pk, p->id);
	/* Blocks already on the wire may still come; they are not lies. */
	p->unasked_ok += p->nreqs;
	p->nreqs = 0;
}

static bool
pwp_skip(void *ctx, const struct picker_block *b)
{
	return peer_reqs_has(ctx, b);
}

/*
 * The rate a peer sends us payload at, for the pipeline.  The meter
 * averages RATE_WINDOW_S seconds, which on a young connection underrates
 * a fast peer several times over: then the average since it connected
 * (over at least a second) counts if it is higher.
 */
static uint64_t
pwp_pipeline_rate(struct peer *p, uint64_t now_ms)
{
	uint64_t r = rate_get(&p->down, now_ms);
	uint64_t age = now_ms - p->connected_ms, young;

	if (age < (uint64_t)RATE_WINDOW_S * 1000) {
		young = p->downloaded * 1000 / (age > 1000 ? age : 1000);
		if (young > r)
			r = young;
	}
	return r;
}

/*
 * How many requests to keep in flight to p: what it sends us over its
 * round trip (the quickest a block ever came after its request) plus
 * PEER_QUEUE_MS, at least PEER_MIN_REQS (PEER_START_REQS until the first
 * block has come and told the round trip).  So a fast peer never idles,
 * while at a peer that shares a slow upload among many the requests wait
 * no more than half a second: the pieces are chosen when they are about
 * to be sent, with what the swarm has by then (rarest first, and no
 * piece that another peer just got from the same seed), and do not sit
 * for tens of seconds at a slow peer while others could serve them.
 * A web seed fetches many blocks per HTTP range: it keeps at least the
 * old fixed depth.
 */
static uint32_t
pwp_pipeline_depth(struct peer *p, uint64_t now_ms)
{
	uint64_t rtt = p->lat_min_ms, want, min = PEER_MIN_REQS;

	if (p->transport == PEER_WEB) {
		want = rate_get(&p->down, now_ms) * 3 / WIRE_BLOCK;
		min = 32;
	} else if (p->lat_min_ms == UINT64_MAX)
		want = PEER_START_REQS;		/* nothing measured yet */
	else
		want = pwp_pipeline_rate(p, now_ms) * (rtt + PEER_QUEUE_MS) /
		    1000 / WIRE_BLOCK + 1;
	if (want < min)
		want = min;
	if (want > PEER_MAX_REQS)
		want = PEER_MAX_REQS;
	return (uint32_t)want;
}

/* The next block to ask p for: allowed fast pieces while it chokes us,
 * else its suggestions first, then the picker's choice. */
static bool
pwp_pick(struct torrent *t, struct peer *p, struct picker_block *b)
{
	struct rng *rng = &t->sess->rng[SESSION_RNG_PICKER];

	if (p->peer_choking)
		return picker_pick_from(&t->pk, p->id, &p->have, p->allowed_in,
		    p->nallowed_in, pwp_skip, p, b);
	return (p->nsuggested > 0 && picker_pick_from(&t->pk, p->id,
	    &p->have, p->suggested, p->nsuggested, pwp_skip, p, b)) ||
	    picker_pick(&t->pk, p->id, &p->have, rng, pwp_skip, p, b);
}

void
pwp_request_more(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	struct picker_block b;
	uint32_t depth;

	if (p->dead || p->phase != PEER_ACTIVE || !p->am_interested ||
	    t->phase != TORRENT_DOWNLOADING)
		return;
	/* Choked, a BEP 6 peer still serves its allowed fast pieces. */
	if (p->peer_choking && (!p->fast || p->nallowed_in == 0))
		return;
	depth = pwp_pipeline_depth(p, now_ms);
	while (p->nreqs < depth && pwp_pick(t, p, &b)) {
		if (wire_put_request(&p->out, WIRE_REQUEST, b.index, b.begin,
		    b.length) != 0) {
			picker_unrequest(&t->pk, &b);
			break;
		}
		(void)peer_reqs_add(p, &b, now_ms);	/* depth <= max */
		trace_emit(t->trace, "request",
		    "\"peer\":%u,\"index\":%u,\"begin\":%u,\"length\":%u",
		    p->id, b.index, b.begin, b.length);
	}
}

void
pwp_have(struct torrent *t, struct peer *p, uint32_t index)
{
	if (p->phase != PEER_ACTIVE || p->dead)
		return;
	if (wire_put_have(&p->out, index) != 0)
		peer_kill(p, "output buffer full");
	/* Only peers that had it can have become uninteresting. */
	if (bitfield_get(&p->have, index) || t->phase != TORRENT_DOWNLOADING)
		pwp_update_interest(t, p);
}

void
pwp_cancel(struct peer *p, const struct picker_block *b)
{
	if (!peer_reqs_remove(p, b, NULL))
		return;
	p->unasked_ok++;	/* it may cross our cancel */
	if (wire_put_request(&p->out, WIRE_CANCEL, b->index, b->begin,
	    b->length) != 0)
		peer_kill(p, "output buffer full");
}

/* --- serving ------------------------------------------------------------ */

void
pwp_upload_block(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	struct session *s = t->sess;
	struct picker_block b;
	uint8_t *dst;
	uint64_t off;

	if (!peer_queue_pop(p, &b))
		return;
	off = (uint64_t)b.index * t->mi.piece_length + b.begin;
	if (wire_put_piece_header(&p->out, b.index, b.begin, b.length) != 0 ||
	    (dst = buf_reserve(&p->out, b.length)) == NULL) {
		peer_kill(p, "output buffer full");
		return;
	}
	if (store_read(&t->st, off, dst, b.length) != 0) {
		t->fatal = THR_EIO;
		snprintf(t->fatal_msg, sizeof(t->fatal_msg),
		    "cannot read piece %u from disk", b.index);
		peer_kill(p, "disk read failed");
		return;
	}
	buf_commit(&p->out, b.length);
	bucket_take(&s->up_limit, b.length);
	p->uploaded += b.length;
	t->uploaded += b.length;
	rate_add(&p->up, now_ms, b.length);
	rate_add(&t->up, now_ms, b.length);
	rate_add(&s->up, now_ms, b.length);
	trace_emit(t->trace, "sent",
	    "\"peer\":%u,\"index\":%u,\"begin\":%u,\"length\":%u", p->id,
	    b.index, b.begin, b.length);
}

void
pwp_sent(struct peer *p, size_t n, uint64_t now_ms)
{
	pwcrypt_sent(p, n);
	p->out_push = p->out_push > n ? p->out_push - n : 0;
	if (n > 0)
		p->last_send_ms = now_ms;
}

/*
 * BEP 6 suggest: point a newly interested peer at up to two of the
 * rarest pieces (among connected peers) that we have and it lacks, so
 * that rare pieces spread first.
 */
void
pwp_suggest(struct torrent *t, struct peer *p)
{
	struct rng *rng = &t->sess->rng[SESSION_RNG_UPLOAD];
	uint32_t best[2] = { UINT32_MAX, UINT32_MAX };
	uint64_t bk[2] = { UINT64_MAX, UINT64_MAX };

	if (t->have.count == 0 || t->pk.avail == NULL)
		return;
	for (uint32_t i = 0; i < t->mi.npieces; i++) {
		uint64_t k;

		if (!bitfield_get(&t->have, i) || bitfield_get(&p->have, i))
			continue;
		/* Availability first, then a random rank. */
		k = (uint64_t)t->pk.avail[i] << 32 | rng_next(rng);
		if (k < bk[0]) {
			best[1] = best[0];
			bk[1] = bk[0];
			best[0] = i;
			bk[0] = k;
		} else if (k < bk[1]) {
			best[1] = i;
			bk[1] = k;
		}
	}
	for (int k = 0; k < 2; k++)
		if (best[k] != UINT32_MAX &&
		    wire_put_index(&p->out, WIRE_SUGGEST, best[k]) != 0)
			peer_kill(p, "output buffer full");
}

