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
 * Keep enough requests in flight to cover about three seconds of this
 * peer's rate, bounded, so a fast peer on a fat pipe never idles and a
 * slow one does not hoard blocks.
 */
static uint32_t
pwp_pipeline_depth(struct peer *p, uint64_t now_ms)
{
	uint64_t want = rate_get(&p->down, now_ms) * 3 / WIRE_BLOCK;

	if (want < PEER_MIN_REQS * 4)
		want = PEER_MIN_REQS * 4;
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
		p->reqs[p->nreqs++] = b;
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
	if (!peer_reqs_remove(p, b))
		return;
	p->unasked_ok++;	/* it may cross our cancel */
	if (wire_put_request(&p->out, WIRE_CANCEL, b->index, b->begin,
	    b->length) != 0)
		peer_kill(p, "output buffer full");
}

/* --- serving ------------------------------------------------------------ */

void
pwp_fill(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	struct session *s = t->sess;
	struct picker_block b;
	uint8_t *dst;

	session_clock(s, now_ms);
	while (!p->dead && p->out.len < PEER_OUT_LOW &&
	    bucket_ready(&s->up_limit, now_ms) && peer_queue_pop(p, &b)) {
		uint64_t off = (uint64_t)b.index * t->mi.piece_length + b.begin;

		if (wire_put_piece_header(&p->out, b.index, b.begin,
		    b.length) != 0 ||
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
	}
}

void
pwp_sent(struct peer *p, size_t n, uint64_t now_ms)
{
	pwcrypt_sent(p, n);
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
	uint32_t best[2] = { UINT32_MAX, UINT32_MAX };
	uint32_t ba[2] = { UINT32_MAX, UINT32_MAX };

	if (t->have.count == 0 || t->pk.avail == NULL)
		return;
	for (uint32_t i = 0; i < t->mi.npieces; i++) {
		uint32_t a;

		if (!bitfield_get(&t->have, i) || bitfield_get(&p->have, i))
			continue;
		a = t->pk.avail[i];
		if (a < ba[0]) {
			best[1] = best[0];
			ba[1] = ba[0];
			best[0] = i;
			ba[0] = a;
		} else if (a < ba[1]) {
			best[1] = i;
			ba[1] = a;
		}
	}
	for (int k = 0; k < 2; k++)
		if (best[k] != UINT32_MAX &&
		    wire_put_index(&p->out, WIRE_SUGGEST, best[k]) != 0)
			peer_kill(p, "output buffer full");
}

