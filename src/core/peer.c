/*
 * peer.c: the peer record and its request lists.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"
#include "xalloc.h"

struct peer *
peer_new(uint32_t id, const struct thr_addr *addr, bool incoming,
    uint32_t npieces, uint64_t now_ms)
{
	struct peer *p = thr_calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (bitfield_init(&p->have, npieces) != 0) {
		free(p);
		return NULL;
	}
	p->id = id;
	p->addr = *addr;
	p->incoming = incoming;
	/* The first phase is set here, at birth; later ones only by
	 * peer_set_phase. */
	p->phase = incoming ? PEER_HANDSHAKE : PEER_CONNECTING;
	p->am_choking = true;
	p->peer_choking = true;
	/* The outgoing cap must hold a whole bitfield message. */
	buf_init(&p->in, PEER_IN_MAX);
	buf_init(&p->out, PEER_OUT_LOW + (2u << 20) + npieces / 8);
	rate_init(&p->down, now_ms);
	rate_init(&p->up, now_ms);
	p->connected_ms = now_ms;
	p->last_recv_ms = now_ms;
	p->last_send_ms = now_ms;
	p->last_piece_ms = now_ms;
	p->lat_min_ms = UINT64_MAX;
	snprintf(p->client, sizeof(p->client), "?");
	ext_handshake_init(&p->exth);
	p->source = incoming ? PEER_SRC_INCOMING : PEER_SRC_TRACKER;
	p->listen_port = incoming ? 0 : addr->port;
	return p;
}

void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	bitfield_release(&p->have);
	free(p->early_bits);
	mse_free(p->mse);
	buf_release(&p->in);
	buf_release(&p->out);
	free(p);
}

static bool
blk_eq(const struct picker_block *a, const struct picker_block *b)
{
	return a->index == b->index && a->begin == b->begin &&
	    a->length == b->length;
}

bool
peer_reqs_remove(struct peer *p, const struct picker_block *b,
    uint64_t *sent_ms)
{
	for (uint32_t i = 0; i < p->nreqs; i++) {
		if (blk_eq(&p->reqs[i], b)) {
			if (sent_ms != NULL)
				*sent_ms = p->req_ms[i];
			memmove(&p->reqs[i], &p->reqs[i + 1],
			    (p->nreqs - i - 1) * sizeof(p->reqs[0]));
			memmove(&p->req_ms[i], &p->req_ms[i + 1],
			    (p->nreqs - i - 1) * sizeof(p->req_ms[0]));
			p->nreqs--;
			return true;
		}
	}
	return false;
}

bool
peer_reqs_add(struct peer *p, const struct picker_block *b, uint64_t now_ms)
{
	if (p->nreqs == PEER_MAX_REQS)
		return false;
	p->reqs[p->nreqs] = *b;
	p->req_ms[p->nreqs] = now_ms;
	p->nreqs++;
	return true;
}

bool
peer_reqs_has(const struct peer *p, const struct picker_block *b)
{
	for (uint32_t i = 0; i < p->nreqs; i++)
		if (blk_eq(&p->reqs[i], b))
			return true;
	return false;
}

bool
peer_queue_push(struct peer *p, const struct picker_block *b)
{
	if (p->qlen == PEER_MAX_QUEUED)
		return false;
	p->queue[(p->qhead + p->qlen) % PEER_MAX_QUEUED] = *b;
	p->qlen++;
	return true;
}

bool
peer_queue_pop(struct peer *p, struct picker_block *b)
{
	if (p->qlen == 0)
		return false;
	*b = p->queue[p->qhead];
	p->qhead = (p->qhead + 1) % PEER_MAX_QUEUED;
	p->qlen--;
	return true;
}

void
peer_queue_remove(struct peer *p, const struct picker_block *b)
{
	uint32_t keep = 0;

	/* Compact in place, preserving order. */
	for (uint32_t i = 0; i < p->qlen; i++) {
		struct picker_block *q =
		    &p->queue[(p->qhead + i) % PEER_MAX_QUEUED];
		if (blk_eq(q, b))
			continue;
		p->queue[(p->qhead + keep) % PEER_MAX_QUEUED] = *q;
		keep++;
	}
	p->qlen = keep;
}

void
peer_queue_clear(struct peer *p)
{
	p->qhead = 0;
	p->qlen = 0;
}

const char *
peer_source_name(enum peer_source src)
{
	static const char *const names[PEER_SRC_COUNT] = {
		"tracker", "dht", "pex", "incoming", "manual", "lsd", "web"
	};

	return (unsigned)src < PEER_SRC_COUNT ? names[src] : "?";
}

const char *
peer_transport_name(enum peer_transport t)
{
	switch (t) {
	case PEER_TCP:
		return "tcp";
	case PEER_UTP:
		return "utp";
	case PEER_WEB:
		return "web";
	}
	return "?";
}

void
peer_kill(struct peer *p, const char *why)
{
	if (p->dead)
		return;
	p->dead = true;
	snprintf(p->why, sizeof(p->why), "%s", why);
}

static const char *const peer_phase_names[] = {
	"connecting", "crypto", "handshake", "active"
};

const char *
peer_phase_name(enum peer_phase ph)
{
	return (unsigned)ph < sizeof(peer_phase_names) /
	    sizeof(peer_phase_names[0]) ? peer_phase_names[ph] : "?";
}

void
peer_set_phase(struct peer *p, enum peer_phase ph, const char *why,
    struct trace *tr)
{
	if (p->phase == ph)
		return;
	trace_emit(tr, "peer_phase",
	    "\"peer\":%u,\"from\":\"%s\",\"to\":\"%s\",\"why\":\"%s\"",
	    p->id, peer_phase_name(p->phase), peer_phase_name(ph), why);
	p->phase = ph;
}
