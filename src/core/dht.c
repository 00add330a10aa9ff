/*
 * dht.c: the Mainline DHT engine (BEP 5).
 *
 * Data model (see dht.h for the rules):
 * - b[0..nb): k-buckets by common prefix length with our id; the last
 *   one takes every longer prefix and is the only one split.
 * - s[]: searches, each a list of candidates sorted by XOR distance to
 *   its target (candidates whose id we do not know yet, the bootstrap
 *   addresses, sort first so that they are asked at once).
 * - p[]: our queries in flight, matched to answers by 4-byte transaction
 *   id and source address.  A search is referred to by index plus a
 *   generation number, so the answer to a query of a finished or
 *   restarted search cannot touch the search now in that slot.
 * - store[]: peers announced to us; q[]: packets out; f[]: peers found.
 * All arrays have fixed sizes allocated once in dht_new.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "dht.h"
#include "hash.h"
#include "krpc.h"
#include "rng.h"
#include "xalloc.h"

#define DHT_BITS	(DHT_ID_LEN * 8)
#define DHT_TID_LEN	4
#define DHT_SECRET_LEN	16
/* The bootstrap addresses are asked again this often while the table
 * holds fewer than DHT_K nodes (a lost first packet must not leave us
 * alone for long). */
#define DHT_REBOOT_MS	10000u
/* A questionable node is pinged at most this often. */
#define DHT_PING_MS	DHT_QUERY_TIMEOUT_MS
/* Tokens in a saved state: id, nodes, nodes6 and a few unknown keys. */
#define DHT_SAVE_TOKENS	64

struct dht_node {
	uint8_t		id[DHT_ID_LEN];
	struct thr_addr	addr;
	bool		replied;	/* ever answered a query of ours */
	uint64_t	last_reply;
	bool		queried;	/* ever queried us */
	uint64_t	last_query;
	bool		pinged;
	uint64_t	last_ping;
	int		fails;		/* unanswered queries in a row */
};

struct dht_bucket {
	struct dht_node	nodes[DHT_K];
	size_t		n;
	uint64_t	changed;	/* a node joined or answered */
	bool		has_repl;	/* a newcomer waiting for a place */
	struct dht_node	repl;
};

enum dht_cstate {
	DHT_CAND_NEW,
	DHT_CAND_SENT,
	DHT_CAND_REPLIED,
	DHT_CAND_FAILED,
};

struct dht_cand {
	uint8_t		id[DHT_ID_LEN];
	bool		noid;		/* bootstrap address: id unknown */
	struct thr_addr	addr;
	enum dht_cstate	state;
	uint8_t		token[KRPC_TOKEN_MAX];
	size_t		tokenlen;
};

struct dht_search {
	bool		used;
	bool		get_peers;	/* else find_node */
	bool		announce;
	uint16_t	port;
	uint8_t		target[DHT_ID_LEN];
	uint32_t	gen;
	uint64_t	started;
	struct dht_cand	*c;		/* DHT_SEARCH_NODES, in d->cands */
	size_t		n;
};

struct dht_pending {
	bool		used;
	uint8_t		tid[DHT_TID_LEN];
	struct thr_addr	addr;
	bool		has_id;
	uint8_t		id[DHT_ID_LEN];
	uint64_t	sent;
	int		search;		/* index into s, or -1 */
	uint32_t	gen;
};

struct dht_stored {
	uint8_t		ih[DHT_ID_LEN];
	struct thr_addr	addr;
	uint64_t	expires;
};

struct dht_out {
	struct thr_addr	to;
	size_t		len;
	uint8_t		data[DHT_PKT_MAX];
};

struct dht_found {
	uint8_t		ih[DHT_ID_LEN];
	struct thr_addr	addr;
};

struct dht {
	struct dht_options	o;
	struct rng		rng;
	uint8_t			id[DHT_ID_LEN];

	/* The big arrays live apart and unzeroed: a fresh engine touches
	 * only the pages it uses. */
	struct dht_bucket	*b;	/* DHT_BITS, b[0..nb) valid */
	size_t			nb;
	struct dht_cand		*cands;	/* the searches' candidates */

	struct dht_search	s[DHT_MAX_SEARCHES];
	uint32_t		gen;
	struct dht_pending	p[DHT_MAX_PENDING];

	struct thr_addr		boot[DHT_MAX_BOOTSTRAP];
	size_t			nboot;
	bool			booted;	/* last_boot is set */
	uint64_t		last_boot;
	bool			need_self;	/* nodes loaded: look up our id */

	struct dht_stored	*store;	/* DHT_STORE_MAX */
	size_t			 nstore;
	struct dht_out		*q;	/* DHT_SENDQ_MAX, a ring */
	size_t			 qhead, qlen;
	struct dht_found	*f;	/* DHT_PEERQ_MAX, a ring */
	size_t			 fhead, flen;

	uint8_t			secret[DHT_SECRET_LEN];
	uint8_t			prev_secret[DHT_SECRET_LEN];
	uint64_t		secret_at;

	uint64_t		rate_sec;	/* second of rate_n */
	unsigned		rate_n;
	uint64_t		next_house;
	struct dht_stats	st;
};

static void	dht_search_step(struct dht *, struct dht_search *, uint64_t);

/* ---- ids and distances ---- */

static void
dht_random(struct dht *d, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next(&d->rng);
}

/* Leading bits a and b share (DHT_BITS when equal). */
static size_t
dht_cpl(const uint8_t *a, const uint8_t *b)
{
	size_t i;
	uint8_t x;
	int bit;

	for (i = 0; i < DHT_ID_LEN; i++) {
		if ((x = a[i] ^ b[i]) == 0)
			continue;
		for (bit = 7; bit >= 0 && !(x & (1u << bit)); bit--)
			;
		return i * 8 + (size_t)(7 - bit);
	}
	return DHT_BITS;
}

/* <0 if a is closer to t than b, 0 if as close, >0 if farther. */
static int
dht_xor_cmp(const uint8_t *t, const uint8_t *a, const uint8_t *b)
{
	for (size_t i = 0; i < DHT_ID_LEN; i++) {
		uint8_t da = a[i] ^ t[i], db = b[i] ^ t[i];

		if (da != db)
			return da < db ? -1 : 1;
	}
	return 0;
}

static size_t
dht_bucket_of(const struct dht *d, const uint8_t *id)
{
	size_t c = dht_cpl(id, d->id);

	return c >= d->nb - 1 ? d->nb - 1 : c;
}

static bool
dht_private(const struct thr_addr *a)
{
	const uint8_t *ip = a->ip;

	if (a->family == 4)
		return ip[0] == 0 || ip[0] == 10 || ip[0] == 127 ||
		    (ip[0] == 172 && (ip[1] & 0xf0) == 16) ||
		    (ip[0] == 192 && ip[1] == 168) ||
		    (ip[0] == 169 && ip[1] == 254);
	return addr_is_loopback(a) || (ip[0] & 0xfe) == 0xfc ||
	    (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80);
}

static bool
dht_same_ip(const struct thr_addr *a, const struct thr_addr *b)
{
	return a->family == b->family &&
	    memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

/* May a node at this address be used at all? */
static bool
dht_addr_ok(const struct dht *d, const struct thr_addr *a)
{
	if (a->family != d->o.family || a->port == 0)
		return false;
	return d->o.allow_private || !dht_private(a);
}

/* ---- node states (BEP 5) ---- */

static bool
dht_node_bad(const struct dht_node *n)
{
	return n->fails >= DHT_MAX_FAILS;
}

static bool
dht_node_good(const struct dht_node *n, uint64_t now)
{
	if (dht_node_bad(n) || !n->replied)
		return false;
	return now - n->last_reply < DHT_GOOD_MS ||
	    (n->queried && now - n->last_query < DHT_GOOD_MS);
}

static struct dht_node *
dht_find_node(struct dht *d, const uint8_t *id)
{
	struct dht_bucket *b = &d->b[dht_bucket_of(d, id)];

	for (size_t i = 0; i < b->n; i++)
		if (memcmp(b->nodes[i].id, id, DHT_ID_LEN) == 0)
			return &b->nodes[i];
	return NULL;
}

/* ---- output ---- */

static void
dht_queue(struct dht *d, const struct thr_addr *to, const struct krpc_msg *m)
{
	struct dht_out *o;
	struct buf b;

	if (d->qlen == DHT_SENDQ_MAX) {
		d->st.dropped++;
		return;
	}
	buf_init(&b, DHT_PKT_MAX);
	if (krpc_encode(&b, m) != 0) {
		d->st.dropped++;
		buf_release(&b);
		return;
	}
	o = &d->q[(d->qhead + d->qlen) % DHT_SENDQ_MAX];
	o->to = *to;
	o->len = b.len;
	memcpy(o->data, b.data, b.len);
	d->qlen++;
	buf_release(&b);
}

static void
dht_push_peer(struct dht *d, const uint8_t *ih, const struct thr_addr *a)
{
	struct dht_found *f;

	for (size_t i = 0; i < d->flen; i++) {
		f = &d->f[(d->fhead + i) % DHT_PEERQ_MAX];
		if (memcmp(f->ih, ih, DHT_ID_LEN) == 0 &&
		    addr_equal(&f->addr, a))
			return;
	}
	if (d->flen == DHT_PEERQ_MAX) {
		d->st.dropped++;
		return;
	}
	f = &d->f[(d->fhead + d->flen) % DHT_PEERQ_MAX];
	memcpy(f->ih, ih, DHT_ID_LEN);
	f->addr = *a;
	d->flen++;
}

/*
 * Send a query; the pending entry remembers the search (or -1).  id is
 * the node's id when known.  Returns false when no pending slot is free.
 */
static bool
dht_query(struct dht *d, const struct thr_addr *to, const uint8_t *id,
    enum krpc_method method, const uint8_t *target, int search,
    const struct dht_cand *tok, uint16_t port, uint64_t now)
{
	struct dht_pending *p = NULL;
	struct krpc_msg *m;
	size_t i;

	for (i = 0; i < DHT_MAX_PENDING; i++)
		if (!d->p[i].used) {
			p = &d->p[i];
			break;
		}
	if (p == NULL || (m = thr_calloc(1, sizeof(*m))) == NULL) {
		d->st.dropped++;
		return false;
	}
	memset(p, 0, sizeof(*p));
	p->used = true;
	dht_random(d, p->tid, DHT_TID_LEN);
	p->addr = *to;
	if (id != NULL) {
		p->has_id = true;
		memcpy(p->id, id, DHT_ID_LEN);
	}
	p->sent = now;
	p->search = search;
	p->gen = search >= 0 ? d->s[search].gen : 0;

	m->type = KRPC_QUERY;
	m->method = method;
	memcpy(m->tid, p->tid, DHT_TID_LEN);
	m->tidlen = DHT_TID_LEN;
	m->has_id = true;
	memcpy(m->id, d->id, DHT_ID_LEN);
	if (method == KRPC_FIND_NODE) {
		m->has_target = true;
		memcpy(m->target, target, DHT_ID_LEN);
	} else if (method == KRPC_GET_PEERS ||
	    method == KRPC_ANNOUNCE_PEER) {
		m->has_info_hash = true;
		memcpy(m->info_hash, target, DHT_ID_LEN);
	}
	if (method == KRPC_ANNOUNCE_PEER) {
		m->has_port = true;
		m->port = port;
		m->has_token = true;
		memcpy(m->token, tok->token, tok->tokenlen);
		m->tokenlen = tok->tokenlen;
	}
	dht_queue(d, to, m);
	free(m);
	d->st.queries_out++;
	return true;
}

/* ---- routing table ---- */

/* Split the last bucket: nodes sharing more bits with us move on. */
static void
dht_split(struct dht *d)
{
	struct dht_bucket *old = &d->b[d->nb - 1], *nw = &d->b[d->nb];
	size_t i, keep = 0, lvl = d->nb - 1;

	memset(nw, 0, sizeof(*nw));
	nw->changed = old->changed;
	d->nb++;
	for (i = 0; i < old->n; i++) {
		if (dht_cpl(old->nodes[i].id, d->id) > lvl)
			nw->nodes[nw->n++] = old->nodes[i];
		else
			old->nodes[keep++] = old->nodes[i];
	}
	old->n = keep;
	if (old->has_repl && dht_cpl(old->repl.id, d->id) > lvl) {
		nw->has_repl = true;
		nw->repl = old->repl;
		old->has_repl = false;
	}
}

/*
 * A node sent us a valid message: a reply (replied) or a query.  Update
 * or insert it following BEP 5.
 */
static void
dht_node_seen(struct dht *d, const uint8_t *id, const struct thr_addr *a,
    bool replied, uint64_t now)
{
	struct dht_bucket *b;
	struct dht_node *n, nn;
	size_t i, bi, old;

	if (memcmp(id, d->id, DHT_ID_LEN) == 0 || !dht_addr_ok(d, a))
		return;
	if ((n = dht_find_node(d, id)) != NULL) {
		if (!addr_equal(&n->addr, a)) {
			/* A good node does not move; someone else may be
			 * claiming its id. */
			if (dht_node_good(n, now))
				return;
			n->addr = *a;
		}
		if (replied) {
			n->replied = true;
			n->last_reply = now;
			n->fails = 0;
			d->b[dht_bucket_of(d, id)].changed = now;
		} else {
			n->queried = true;
			n->last_query = now;
		}
		return;
	}
	if (!d->o.allow_same_ip)
		for (bi = 0; bi < d->nb; bi++)
			for (i = 0; i < d->b[bi].n; i++)
				if (dht_same_ip(&d->b[bi].nodes[i].addr, a))
					return;

	memset(&nn, 0, sizeof(nn));
	memcpy(nn.id, id, DHT_ID_LEN);
	nn.addr = *a;
	if (replied) {
		nn.replied = true;
		nn.last_reply = now;
	} else {
		nn.queried = true;
		nn.last_query = now;
	}
	for (;;) {
		bi = dht_bucket_of(d, id);
		b = &d->b[bi];
		if (b->n < DHT_K) {
			b->nodes[b->n++] = nn;
			b->changed = now;
			return;
		}
		if (bi == d->nb - 1 && d->nb < DHT_BITS) {
			dht_split(d);
			continue;
		}
		break;
	}
	for (i = 0; i < b->n; i++)
		if (dht_node_bad(&b->nodes[i])) {
			b->nodes[i] = nn;
			b->changed = now;
			return;
		}
	/* Full of good and questionable nodes: ping the questionable one
	 * seen longest ago; the newcomer waits for its place. */
	old = DHT_K;
	for (i = 0; i < b->n; i++) {
		n = &b->nodes[i];
		if (dht_node_good(n, now))
			continue;
		if (old == DHT_K ||
		    n->last_reply < b->nodes[old].last_reply)
			old = i;
	}
	if (old == DHT_K)
		return;
	if (!b->has_repl || replied) {
		b->has_repl = true;
		b->repl = nn;
	}
	n = &b->nodes[old];
	if (!n->pinged || now - n->last_ping >= DHT_PING_MS) {
		n->pinged = true;
		n->last_ping = now;
		dht_query(d, &n->addr, n->id, KRPC_PING, NULL, -1, NULL, 0,
		    now);
	}
}

/* A query to node id went unanswered. */
static void
dht_node_failed(struct dht *d, const uint8_t *id)
{
	struct dht_bucket *b = &d->b[dht_bucket_of(d, id)];
	struct dht_node *n;

	if ((n = dht_find_node(d, id)) == NULL)
		return;
	if (n->fails < DHT_MAX_FAILS)
		n->fails++;
	if (dht_node_bad(n) && b->has_repl) {
		*n = b->repl;
		b->has_repl = false;
	}
}

/* The up to max usable table nodes closest to target, sorted. */
static size_t
dht_closest(const struct dht *d, const uint8_t *target,
    const struct dht_node **out, size_t max)
{
	size_t bi, i, j, n = 0;

	for (bi = 0; bi < d->nb; bi++)
		for (i = 0; i < d->b[bi].n; i++) {
			const struct dht_node *nd = &d->b[bi].nodes[i];

			if (dht_node_bad(nd))
				continue;
			for (j = n; j > 0 && dht_xor_cmp(target, nd->id,
			    out[j - 1]->id) < 0; j--)
				if (j < max)
					out[j] = out[j - 1];
			if (j < max) {
				out[j] = nd;
				if (n < max)
					n++;
			}
		}
	return n;
}

/* ---- tokens (BEP 5: SHA-1 of a rotating secret and the IP) ---- */

static void
dht_token(const uint8_t *secret, const struct thr_addr *a,
    uint8_t out[HASH_SHA1_LEN])
{
	uint8_t in[DHT_SECRET_LEN + 16];
	size_t iplen = a->family == 6 ? 16 : 4;

	memcpy(in, secret, DHT_SECRET_LEN);
	memcpy(in + DHT_SECRET_LEN, a->ip, iplen);
	if (hash_sha1(in, DHT_SECRET_LEN + iplen, out) != 0)
		memset(out, 0, HASH_SHA1_LEN);
}

static bool
dht_token_ok(const struct dht *d, const struct thr_addr *a,
    const uint8_t *tok, size_t len)
{
	uint8_t t[HASH_SHA1_LEN];

	if (len != HASH_SHA1_LEN)
		return false;
	dht_token(d->secret, a, t);
	if (memcmp(t, tok, len) == 0)
		return true;
	dht_token(d->prev_secret, a, t);
	return memcmp(t, tok, len) == 0;
}

/* ---- peer store ---- */

static void
dht_store_add(struct dht *d, const uint8_t *ih, const struct thr_addr *a,
    uint64_t now)
{
	size_t i, same = 0;
	struct dht_stored *st;

	for (i = 0; i < d->nstore; i++) {
		st = &d->store[i];
		if (memcmp(st->ih, ih, DHT_ID_LEN) != 0)
			continue;
		if (addr_equal(&st->addr, a)) {
			st->expires = now + DHT_PEER_TTL_MS;
			return;
		}
		same++;
	}
	if (same >= DHT_PEERS_PER_HASH || d->nstore >= DHT_STORE_MAX) {
		d->st.dropped++;
		return;
	}
	st = &d->store[d->nstore++];
	memcpy(st->ih, ih, DHT_ID_LEN);
	st->addr = *a;
	st->expires = now + DHT_PEER_TTL_MS;
}

static void
dht_store_expire(struct dht *d, uint64_t now)
{
	size_t i, keep = 0;

	for (i = 0; i < d->nstore; i++)
		if (d->store[i].expires > now)
			d->store[keep++] = d->store[i];
	d->nstore = keep;
}

/* ---- server ---- */

static void
dht_reply_error(struct dht *d, const struct thr_addr *to,
    const struct krpc_msg *q, int code, const char *text)
{
	struct krpc_msg *m;

	if ((m = thr_calloc(1, sizeof(*m))) == NULL)
		return;
	m->type = KRPC_ERROR;
	memcpy(m->tid, q->tid, q->tidlen);
	m->tidlen = q->tidlen;
	m->ecode = code;
	m->emsglen = strlen(text);
	memcpy(m->emsg, text, m->emsglen);
	dht_queue(d, to, m);
	free(m);
}

static void
dht_fill_nodes(const struct dht *d, const uint8_t *target, struct krpc_msg *m)
{
	const struct dht_node *c[DHT_K];
	size_t n = dht_closest(d, target, c, DHT_K);

	for (size_t i = 0; i < n; i++) {
		memcpy(m->nodes[i].id, c[i]->id, DHT_ID_LEN);
		m->nodes[i].addr = c[i]->addr;
	}
	m->nnodes = n;
}

static void
dht_fill_values(struct dht *d, const uint8_t *ih, struct krpc_msg *m)
{
	size_t i, k, start;

	if (d->nstore == 0)
		return;
	/* Start at a random place so that every stored peer gets out
	 * when there are more than fit. */
	start = rng_below(&d->rng, (uint32_t)d->nstore);
	for (k = 0; k < d->nstore && m->nvalues < DHT_REPLY_VALUES; k++) {
		i = (start + k) % d->nstore;
		if (memcmp(d->store[i].ih, ih, DHT_ID_LEN) == 0)
			m->values[m->nvalues++] = d->store[i].addr;
	}
	if (m->nvalues > 0)
		m->has_values = true;
}

/* True if this second's budget of answered queries is not spent. */
static bool
dht_rate_ok(struct dht *d, uint64_t now)
{
	if (now / 1000 != d->rate_sec) {
		d->rate_sec = now / 1000;
		d->rate_n = 0;
	}
	if (d->rate_n >= DHT_RATE_PER_S)
		return false;
	d->rate_n++;
	return true;
}

static void
dht_on_query(struct dht *d, const struct thr_addr *from,
    const struct krpc_msg *q, uint64_t now)
{
	struct krpc_msg *r;
	struct thr_addr peer;
	uint8_t tok[HASH_SHA1_LEN];

	if (!dht_rate_ok(d, now)) {
		d->st.dropped++;
		return;
	}
	if (q->method == KRPC_UNKNOWN) {
		dht_reply_error(d, from, q, KRPC_ERR_METHOD, "Method Unknown");
		return;
	}
	if (!q->has_id ||
	    (q->method == KRPC_FIND_NODE && !q->has_target) ||
	    ((q->method == KRPC_GET_PEERS ||
	    q->method == KRPC_ANNOUNCE_PEER) && !q->has_info_hash)) {
		dht_reply_error(d, from, q, KRPC_ERR_PROTOCOL,
		    "Protocol Error");
		return;
	}
	if (memcmp(q->id, d->id, DHT_ID_LEN) == 0) {
		d->st.dropped++;
		return;
	}
	if (q->method == KRPC_ANNOUNCE_PEER) {
		peer = *from;
		if (!q->implied_port) {
			if (!q->has_port) {
				dht_reply_error(d, from, q, KRPC_ERR_PROTOCOL,
				    "Protocol Error");
				return;
			}
			peer.port = q->port;
		}
		if (!q->has_token ||
		    !dht_token_ok(d, from, q->token, q->tokenlen)) {
			dht_reply_error(d, from, q, KRPC_ERR_PROTOCOL,
			    "Bad Token");
			return;
		}
		dht_store_add(d, q->info_hash, &peer, now);
	}
	dht_node_seen(d, q->id, from, false, now);
	if ((r = thr_calloc(1, sizeof(*r))) == NULL)
		return;
	r->type = KRPC_REPLY;
	memcpy(r->tid, q->tid, q->tidlen);
	r->tidlen = q->tidlen;
	r->has_id = true;
	memcpy(r->id, d->id, DHT_ID_LEN);
	if (q->method == KRPC_FIND_NODE)
		dht_fill_nodes(d, q->target, r);
	if (q->method == KRPC_GET_PEERS) {
		/* Nodes too, even with values: the searcher keeps walking
		 * toward the closest nodes, which is where it announces. */
		dht_fill_nodes(d, q->info_hash, r);
		dht_fill_values(d, q->info_hash, r);
		dht_token(d->secret, from, tok);
		r->has_token = true;
		memcpy(r->token, tok, sizeof(tok));
		r->tokenlen = sizeof(tok);
	}
	dht_queue(d, from, r);
	free(r);
	d->st.queries_in++;
}

/* ---- searches ---- */

static struct dht_search *
dht_search_find(struct dht *d, const uint8_t *target, bool get_peers)
{
	for (size_t i = 0; i < DHT_MAX_SEARCHES; i++)
		if (d->s[i].used && d->s[i].get_peers == get_peers &&
		    memcmp(d->s[i].target, target, DHT_ID_LEN) == 0)
			return &d->s[i];
	return NULL;
}

/* Add a candidate in distance order; noid candidates go first. */
static void
dht_cand_add(struct dht *d, struct dht_search *s, const uint8_t *id,
    const struct thr_addr *a)
{
	struct dht_cand c;
	size_t i, pos;

	if (!dht_addr_ok(d, a) ||
	    (id != NULL && memcmp(id, d->id, DHT_ID_LEN) == 0))
		return;
	for (i = 0; i < s->n; i++) {
		if (addr_equal(&s->c[i].addr, a))
			return;
		if (id != NULL && !s->c[i].noid &&
		    memcmp(s->c[i].id, id, DHT_ID_LEN) == 0)
			return;
	}
	memset(&c, 0, sizeof(c));
	c.addr = *a;
	if (id == NULL)
		c.noid = true;
	else
		memcpy(c.id, id, DHT_ID_LEN);
	for (pos = 0; pos < s->n; pos++) {
		if (c.noid)
			break;
		if (s->c[pos].noid)
			continue;
		if (dht_xor_cmp(s->target, c.id, s->c[pos].id) < 0)
			break;
	}
	if (pos >= DHT_SEARCH_NODES)
		return;
	if (s->n == DHT_SEARCH_NODES)
		s->n--;
	memmove(&s->c[pos + 1], &s->c[pos], (s->n - pos) * sizeof(c));
	s->c[pos] = c;
	s->n++;
}

static void
dht_search_seed(struct dht *d, struct dht_search *s)
{
	const struct dht_node *c[DHT_SEARCH_NODES];
	size_t n = dht_closest(d, s->target, c, DHT_SEARCH_NODES);

	for (size_t i = 0; i < n; i++)
		dht_cand_add(d, s, c[i]->id, &c[i]->addr);
	/* A small table (a young node, a loopback test) also asks the
	 * bootstrap nodes, as libtorrent falls back to its routers: they
	 * may be the only ones holding the peers. */
	if (n < DHT_K)
		for (size_t i = 0; i < d->nboot; i++)
			dht_cand_add(d, s, NULL, &d->boot[i]);
}

static struct dht_search *
dht_search_start(struct dht *d, const uint8_t *target, bool get_peers,
    bool announce, uint16_t port, uint64_t now)
{
	struct dht_search *s;
	struct dht_cand *c;
	size_t i;

	if ((s = dht_search_find(d, target, get_peers)) == NULL) {
		for (i = 0; i < DHT_MAX_SEARCHES; i++)
			if (!d->s[i].used) {
				s = &d->s[i];
				break;
			}
		if (s == NULL)
			return NULL;
	}
	c = s->c;
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->used = true;
	s->get_peers = get_peers;
	s->announce = announce;
	s->port = port;
	memcpy(s->target, target, DHT_ID_LEN);
	s->gen = ++d->gen;
	s->started = now;
	dht_search_seed(d, s);
	return s;
}

static void
dht_search_finish(struct dht *d, struct dht_search *s, uint64_t now)
{
	size_t i, sent = 0;

	if (s->get_peers && s->announce)
		for (i = 0; i < s->n && sent < DHT_K; i++) {
			struct dht_cand *c = &s->c[i];

			if (c->state != DHT_CAND_REPLIED || c->tokenlen == 0)
				continue;
			dht_query(d, &c->addr, c->noid ? NULL : c->id,
			    KRPC_ANNOUNCE_PEER, s->target, -1, c, s->port,
			    now);
			sent++;
		}
	s->used = false;
}

static void
dht_search_step(struct dht *d, struct dht_search *s, uint64_t now)
{
	size_t i, live = 0, inflight = 0;
	bool waiting = false;
	int si = (int)(s - d->s);

	for (i = 0; i < s->n; i++)
		if (s->c[i].state == DHT_CAND_SENT)
			inflight++;
	for (i = 0; i < s->n && live < DHT_K; i++) {
		struct dht_cand *c = &s->c[i];

		if (c->state == DHT_CAND_FAILED)
			continue;
		live++;
		if (c->state == DHT_CAND_NEW && inflight < DHT_ALPHA &&
		    dht_query(d, &c->addr, c->noid ? NULL : c->id,
		    s->get_peers ? KRPC_GET_PEERS : KRPC_FIND_NODE,
		    s->target, si, NULL, 0, now)) {
			c->state = DHT_CAND_SENT;
			inflight++;
		}
		if (c->state != DHT_CAND_REPLIED)
			waiting = true;
	}
	/* Done when the closest live candidates have all answered.  With no
	 * candidate at all, wait for the table to fill (dht_tick reseeds)
	 * until the search times out. */
	if (!waiting && inflight == 0 && live > 0)
		dht_search_finish(d, s, now);
}

static void
dht_on_answer(struct dht *d, const struct thr_addr *from,
    const struct krpc_msg *m, uint64_t now)
{
	struct dht_pending pd;
	struct dht_search *s = NULL;
	struct dht_cand *c = NULL, tmp;
	size_t i;

	for (i = 0; i < DHT_MAX_PENDING; i++)
		if (d->p[i].used && m->tidlen == DHT_TID_LEN &&
		    memcmp(d->p[i].tid, m->tid, DHT_TID_LEN) == 0 &&
		    addr_equal(&d->p[i].addr, from))
			break;
	if (i == DHT_MAX_PENDING) {
		d->st.dropped++;
		return;
	}
	pd = d->p[i];
	d->p[i].used = false;
	d->st.replies_in++;
	if (pd.search >= 0 && d->s[pd.search].used &&
	    d->s[pd.search].gen == pd.gen) {
		s = &d->s[pd.search];
		for (i = 0; i < s->n; i++)
			if (addr_equal(&s->c[i].addr, from)) {
				c = &s->c[i];
				break;
			}
	}
	if (m->type == KRPC_ERROR || !m->has_id ||
	    (pd.has_id && memcmp(pd.id, m->id, DHT_ID_LEN) != 0)) {
		/* An error or an answer from someone else than asked: the
		 * candidate is of no use to the search. */
		if (c != NULL)
			c->state = DHT_CAND_FAILED;
		if (s != NULL)
			dht_search_step(d, s, now);
		return;
	}
	dht_node_seen(d, m->id, from, true, now);
	if (s == NULL)
		return;
	if (c != NULL) {
		c->state = DHT_CAND_REPLIED;
		if (m->has_token) {
			memcpy(c->token, m->token, m->tokenlen);
			c->tokenlen = m->tokenlen;
		}
		if (c->noid) {
			/* Now that its id is known, move it to its place. */
			tmp = *c;
			tmp.noid = false;
			memcpy(tmp.id, m->id, DHT_ID_LEN);
			memmove(c, c + 1, (size_t)(&s->c[s->n] - c - 1) *
			    sizeof(*c));
			s->n--;
			dht_cand_add(d, s, tmp.id, &tmp.addr);
			for (i = 0; i < s->n; i++)
				if (addr_equal(&s->c[i].addr, &tmp.addr)) {
					s->c[i] = tmp;
					break;
				}
		}
	}
	for (i = 0; i < m->nnodes; i++)
		dht_cand_add(d, s, m->nodes[i].id, &m->nodes[i].addr);
	if (s->get_peers)
		for (i = 0; i < m->nvalues; i++)
			dht_push_peer(d, s->target, &m->values[i]);
	dht_search_step(d, s, now);
}

/* ---- public API ---- */

void
dht_options_init(struct dht_options *o)
{
	memset(o, 0, sizeof(*o));
	o->family = 4;
	o->allow_private = true;
	o->allow_same_ip = true;
}

struct dht *
dht_new(const struct dht_options *opts, struct thr_error *err)
{
	struct dht *d;

	if (opts != NULL && opts->family != 0 && opts->family != 4 &&
	    opts->family != 6) {
		thr_error_set(err, THR_EINVAL, 0, "bad address family");
		return NULL;
	}
	if ((d = thr_calloc(1, sizeof(*d))) == NULL)
		goto nomem;
	if (opts != NULL)
		d->o = *opts;
	else
		dht_options_init(&d->o);
	if (d->o.family == 0)
		d->o.family = 4;
	rng_seed(&d->rng, d->o.seed);
	dht_random(d, d->id, DHT_ID_LEN);
	dht_random(d, d->secret, DHT_SECRET_LEN);
	memcpy(d->prev_secret, d->secret, DHT_SECRET_LEN);
	d->b = thr_malloc(DHT_BITS * sizeof(*d->b));
	d->cands = thr_malloc(DHT_MAX_SEARCHES * DHT_SEARCH_NODES *
	    sizeof(*d->cands));
	if (d->b == NULL || d->cands == NULL)
		goto free_d;
	memset(&d->b[0], 0, sizeof(d->b[0]));
	d->nb = 1;
	for (size_t i = 0; i < DHT_MAX_SEARCHES; i++)
		d->s[i].c = d->cands + i * DHT_SEARCH_NODES;
	/* Not zeroed: only entries below the counts are ever read, and
	 * untouched pages of the big send queue cost nothing. */
	d->store = thr_malloc(DHT_STORE_MAX * sizeof(*d->store));
	d->q = thr_malloc(DHT_SENDQ_MAX * sizeof(*d->q));
	d->f = thr_malloc(DHT_PEERQ_MAX * sizeof(*d->f));
	if (d->store == NULL || d->q == NULL || d->f == NULL)
		goto free_d;
	return d;
free_d:
	dht_free(d);
nomem:
	thr_error_set(err, THR_ENOMEM, 0, "out of memory for the DHT");
	return NULL;
}

void
dht_free(struct dht *d)
{
	if (d == NULL)
		return;
	free(d->b);
	free(d->cands);
	free(d->store);
	free(d->q);
	free(d->f);
	free(d);
}

const uint8_t *
dht_id(const struct dht *d)
{
	return d->id;
}

/* Start the lookup of our own id, from the table and bootstrap nodes. */
static void
dht_self_search(struct dht *d, uint64_t now)
{
	struct dht_search *s;

	if ((s = dht_search_find(d, d->id, false)) == NULL &&
	    (s = dht_search_start(d, d->id, false, false, 0, now)) == NULL)
		return;
	for (size_t i = 0; i < d->nboot; i++) {
		dht_cand_add(d, s, NULL, &d->boot[i]);
		/* Ask again one that failed before. */
		for (size_t j = 0; j < s->n; j++)
			if (addr_equal(&s->c[j].addr, &d->boot[i]) &&
			    s->c[j].state == DHT_CAND_FAILED)
				s->c[j].state = DHT_CAND_NEW;
	}
	d->booted = true;
	d->last_boot = now;
	dht_search_step(d, s, now);
}

int
dht_add_bootstrap(struct dht *d, const struct thr_addr *addr, uint64_t now_ms)
{
	size_t i;

	if (addr->family != d->o.family || addr->port == 0)
		return THR_EINVAL;
	for (i = 0; i < d->nboot; i++)
		if (addr_equal(&d->boot[i], addr))
			break;
	if (i == d->nboot) {
		if (d->nboot == DHT_MAX_BOOTSTRAP)
			return THR_ELIMIT;
		d->boot[d->nboot++] = *addr;
	}
	dht_self_search(d, now_ms);
	return 0;
}

void
dht_input(struct dht *d, const struct thr_addr *from, const uint8_t *pkt,
    size_t len, uint64_t now_ms)
{
	struct krpc_msg *m;

	if (from->family != 4 && from->family != 6) {
		d->st.dropped++;
		return;
	}
	if ((m = thr_malloc(sizeof(*m))) == NULL) {
		d->st.dropped++;
		return;
	}
	if (krpc_parse(pkt, len, m, NULL) != 0)
		d->st.malformed++;
	else if (m->type == KRPC_QUERY)
		dht_on_query(d, from, m, now_ms);
	else
		dht_on_answer(d, from, m, now_ms);
	free(m);
}

static void
dht_refresh(struct dht *d, uint64_t now)
{
	uint8_t id[DHT_ID_LEN];
	size_t bi, bit;
	struct dht_bucket *b;
	struct dht_search *s;

	for (bi = 0; bi < d->nb; bi++) {
		b = &d->b[bi];
		if (b->n == 0 || now - b->changed < DHT_REFRESH_MS)
			continue;
		/* A random id in the bucket's range: our first bi bits,
		 * then bit bi flipped (unless it is the last bucket). */
		dht_random(d, id, DHT_ID_LEN);
		for (bit = 0; bit <= bi && bit < DHT_BITS; bit++) {
			uint8_t mask = (uint8_t)(0x80u >> (bit % 8));
			bool one = (d->id[bit / 8] & mask) != 0;

			if (bit == bi && bi != d->nb - 1)
				one = !one;
			if (bit == bi && bi == d->nb - 1)
				break;
			if (one)
				id[bit / 8] |= mask;
			else
				id[bit / 8] &= (uint8_t)~mask;
		}
		b->changed = now;
		if (dht_search_find(d, id, false) == NULL &&
		    (s = dht_search_start(d, id, false, false, 0, now)) != NULL)
			dht_search_step(d, s, now);
		return;		/* one refresh per tick is plenty */
	}
}

void
dht_tick(struct dht *d, uint64_t now_ms)
{
	struct dht_pending *p;
	struct dht_search *s;
	size_t i, j;

	for (i = 0; i < DHT_MAX_PENDING; i++) {
		p = &d->p[i];
		if (!p->used || now_ms - p->sent < DHT_QUERY_TIMEOUT_MS)
			continue;
		p->used = false;
		d->st.timeouts++;
		if (p->has_id)
			dht_node_failed(d, p->id);
		if (p->search < 0 || !d->s[p->search].used ||
		    d->s[p->search].gen != p->gen)
			continue;
		s = &d->s[p->search];
		for (j = 0; j < s->n; j++)
			if (addr_equal(&s->c[j].addr, &p->addr) &&
			    s->c[j].state == DHT_CAND_SENT)
				s->c[j].state = DHT_CAND_FAILED;
	}
	for (i = 0; i < DHT_MAX_SEARCHES; i++) {
		s = &d->s[i];
		if (!s->used)
			continue;
		if (now_ms - s->started >= DHT_SEARCH_MAX_MS) {
			dht_search_finish(d, s, now_ms);
			continue;
		}
		if (s->n == 0)
			dht_search_seed(d, s);
		dht_search_step(d, s, now_ms);
	}
	if (now_ms - d->secret_at >= DHT_SECRET_MS) {
		memcpy(d->prev_secret, d->secret, DHT_SECRET_LEN);
		dht_random(d, d->secret, DHT_SECRET_LEN);
		d->secret_at = now_ms;
	}
	dht_store_expire(d, now_ms);
	if (d->need_self ||
	    (d->nboot > 0 && dht_nodes(d) < DHT_K &&
	    (!d->booted || now_ms - d->last_boot >= DHT_REBOOT_MS))) {
		d->need_self = false;
		dht_self_search(d, now_ms);
	}
	dht_refresh(d, now_ms);
	d->next_house = now_ms + DHT_HOUSEKEEP_MS;
}

uint64_t
dht_deadline(const struct dht *d)
{
	uint64_t t = d->next_house;

	if (d->qlen > 0)
		return 0;
	for (size_t i = 0; i < DHT_MAX_PENDING; i++)
		if (d->p[i].used &&
		    d->p[i].sent + DHT_QUERY_TIMEOUT_MS < t)
			t = d->p[i].sent + DHT_QUERY_TIMEOUT_MS;
	return t;
}

int
dht_search(struct dht *d, const uint8_t info_hash[DHT_ID_LEN],
    uint16_t port, bool announce, uint64_t now_ms)
{
	struct dht_search *s;

	if (announce && port == 0)
		return THR_EINVAL;
	if ((s = dht_search_start(d, info_hash, true, announce, port,
	    now_ms)) == NULL)
		return THR_ELIMIT;
	dht_search_step(d, s, now_ms);
	return 0;
}

bool
dht_searching(const struct dht *d, const uint8_t info_hash[DHT_ID_LEN])
{
	for (size_t i = 0; i < DHT_MAX_SEARCHES; i++)
		if (d->s[i].used && d->s[i].get_peers &&
		    memcmp(d->s[i].target, info_hash, DHT_ID_LEN) == 0)
			return true;
	return false;
}

bool
dht_pop_send(struct dht *d, struct thr_addr *to, uint8_t *pkt, size_t cap,
    size_t *len)
{
	struct dht_out *o;

	while (d->qlen > 0) {
		o = &d->q[d->qhead];
		d->qhead = (d->qhead + 1) % DHT_SENDQ_MAX;
		d->qlen--;
		if (o->len > cap) {
			d->st.dropped++;
			continue;
		}
		*to = o->to;
		memcpy(pkt, o->data, o->len);
		*len = o->len;
		return true;
	}
	return false;
}

bool
dht_pop_peer(struct dht *d, uint8_t info_hash[DHT_ID_LEN],
    struct thr_addr *peer)
{
	struct dht_found *f;

	if (d->flen == 0)
		return false;
	f = &d->f[d->fhead];
	memcpy(info_hash, f->ih, DHT_ID_LEN);
	*peer = f->addr;
	d->fhead = (d->fhead + 1) % DHT_PEERQ_MAX;
	d->flen--;
	return true;
}

size_t
dht_nodes(const struct dht *d)
{
	size_t n = 0;

	for (size_t bi = 0; bi < d->nb; bi++)
		for (size_t i = 0; i < d->b[bi].n; i++)
			if (!dht_node_bad(&d->b[bi].nodes[i]))
				n++;
	return n;
}

void
dht_get_stats(const struct dht *d, struct dht_stats *st)
{
	*st = d->st;
	st->nodes = dht_nodes(d);
	st->buckets = d->nb;
	st->peers_stored = d->nstore;
	st->searches = 0;
	for (size_t i = 0; i < DHT_MAX_SEARCHES; i++)
		if (d->s[i].used)
			st->searches++;
}

int
dht_save(const struct dht *d, struct buf *out)
{
	struct buf nodes;
	size_t bi, i, iplen = d->o.family == 6 ? 16 : 4;
	uint8_t e[KRPC_NODE6_LEN];
	int rc;

	buf_init(&nodes, DHT_BITS * DHT_K * KRPC_NODE6_LEN);
	for (bi = 0; bi < d->nb; bi++)
		for (i = 0; i < d->b[bi].n; i++) {
			const struct dht_node *n = &d->b[bi].nodes[i];

			if (dht_node_bad(n))
				continue;
			memcpy(e, n->id, DHT_ID_LEN);
			memcpy(e + DHT_ID_LEN, n->addr.ip, iplen);
			e[DHT_ID_LEN + iplen] = (uint8_t)(n->addr.port >> 8);
			e[DHT_ID_LEN + iplen + 1] = (uint8_t)n->addr.port;
			if ((rc = buf_append(&nodes, e,
			    DHT_ID_LEN + iplen + 2)) != 0)
				goto out;
		}
	if ((rc = bencode_put_dict(out)) != 0 ||
	    (rc = bencode_put_cstr(out, "id")) != 0 ||
	    (rc = bencode_put_str(out, d->id, DHT_ID_LEN)) != 0 ||
	    (rc = bencode_put_cstr(out,
	    iplen == 4 ? "nodes" : "nodes6")) != 0 ||
	    (rc = bencode_put_str(out, nodes.data, nodes.len)) != 0 ||
	    (rc = bencode_put_end(out)) != 0)
		goto out;
out:
	buf_release(&nodes);
	return rc;
}

int
dht_load(struct dht *d, const uint8_t *buf, size_t len,
    struct thr_error *err)
{
	struct bencode b;
	const uint8_t *id, *p;
	size_t idlen, n, esz, iplen, off;
	struct thr_addr a;
	int rc;

	if (len > DHT_SAVE_MAX)
		return thr_error_set(err, THR_ELIMIT, 0,
		    "saved DHT state of %zu bytes", len);
	if ((rc = bencode_decode(&b, buf, len, DHT_SAVE_TOKENS, err)) != 0)
		return rc;
	iplen = d->o.family == 6 ? 16 : 4;
	esz = DHT_ID_LEN + iplen + 2;
	rc = THR_EINVAL;
	if (!bencode_dict_str(&b, 0, "id", &id, &idlen) ||
	    idlen != DHT_ID_LEN) {
		thr_error_set(err, rc, 0, "no 20-byte id");
		goto out;
	}
	if (!bencode_dict_str(&b, 0, iplen == 4 ? "nodes" : "nodes6", &p,
	    &n))
		n = 0;
	if (n % esz != 0) {
		thr_error_set(err, rc, 0, "nodes of %zu bytes", n);
		goto out;
	}
	rc = 0;
	if (memcmp(id, d->id, DHT_ID_LEN) != 0) {
		/* The buckets are relative to our id: start afresh. */
		memcpy(d->id, id, DHT_ID_LEN);
		memset(&d->b[0], 0, sizeof(d->b[0]));
		d->nb = 1;
		for (size_t i = 0; i < DHT_MAX_SEARCHES; i++)
			d->s[i].used = false;
	}
	for (off = 0; off < n; off += esz) {
		struct dht_node *nd;

		memset(&a, 0, sizeof(a));
		a.family = d->o.family;
		memcpy(a.ip, p + off + DHT_ID_LEN, iplen);
		a.port = be16(p + off + esz - 2);
		/* Insert as if it had queried us: questionable, never
		 * trusted as good until it answers. */
		dht_node_seen(d, p + off, &a, false, 0);
		if ((nd = dht_find_node(d, p + off)) != NULL)
			nd->queried = false;
	}
	d->need_self = true;
out:
	bencode_release(&b);
	return rc;
}
