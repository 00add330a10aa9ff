/*
 * pwp.c: the peer wire protocol of one peer.  See pwp.h.
 *
 * Incoming messages go through pwp_handlers, a table indexed by message
 * id; an id without a handler is ignored (BEP 3: unknown ids must be).
 * Before a magnet's metadata is known there is no piece count, so only a
 * few messages mean anything (pwp_early).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "i18n.h"
#include "peerid.h"
#include "pwcrypt.h"
#include "pwp.h"
#include "peerset.h"
#include "pwp_ext.h"
#include "torrent.h"
#include "wire.h"
#include "xalloc.h"

/* Reserved bits we set: BEP 10 extension protocol (byte 5, 0x10),
 * BEP 6 fast extension (byte 7, 0x04) and, with the DHT on, BEP 5
 * (byte 7, 0x01). */
static const uint8_t pwp_reserved[8] = { 0, 0, 0, 0, 0, 0x10, 0, 0x04 };

static void
pwp_send_handshake(struct torrent *t, struct peer *p)
{
	uint8_t hs[WIRE_HANDSHAKE_LEN], rsv[8];

	memcpy(rsv, pwp_reserved, 8);
	if (t->sess->dht != NULL)
		rsv[7] |= 0x01;
	wire_handshake_build(hs, t->mi.info_hash, t->sess->peer_id, rsv);
	if (buf_append(&p->out, hs, sizeof(hs)) != 0) {
		peer_kill(p, "output buffer full");
		return;
	}
	p->sent_handshake = true;
	/* Transmission 3.00 over uTP reads the handshake and leaves the
	 * rest of its packet unread until another packet comes: what
	 * follows (extension handshake, have-all...) goes in the next. */
	p->out_push = p->out.len;
}

/* Log that we hold a (a seed, or ourselves) for a while. */
static void
pwp_held(struct torrent *t, const struct thr_addr *a, bool self)
{
	char as[ADDR_STR_MAX];

	if (!peerset_hold(&t->ps, a, self))
		return;
	addr_format(a, as, sizeof(as));
	log_msg(t->log, LOG_INFO, self ? _("%s is our own address; not "
	    "dialling it again for %u minutes") : _("%s is a seed, as we "
	    "are; not dialling it again for %u minutes"), as,
	    PEERSET_HOLD_MS / 60000);
}

void
pwp_seeds_part(struct torrent *t, struct peer *p)
{
	if (!p->incoming)
		pwp_held(t, &p->addr, false);
	peer_kill(p, "both are seeds");
}

/*
 * Our own peer id came back in p's handshake.  Accepting, we find the
 * connection we dialled ourselves: over TCP the outgoing one whose local
 * address is p's remote one, over uTP (one UDP port for everything) the
 * outgoing one dialled at p's very address.  Both ends close, and the
 * address we dialled is held.
 */
static void
pwp_self_found(struct torrent *t, struct peer *p)
{
	if (!p->incoming) {
		pwp_held(t, &p->addr, true);
		return;
	}
	for (size_t i = 0; i < t->ps.npeers; i++) {
		struct peer *q = t->ps.peers[i];

		if (q == p || q->incoming)
			continue;
		if (!(q->local.family != 0 && addr_equal(&q->local,
		    &p->addr)) && !(q->transport == PEER_UTP &&
		    addr_equal(&q->addr, &p->addr)))
			continue;
		pwp_held(t, &q->addr, true);
		peer_kill(q, "connected to ourselves");
	}
}

/*
 * BEP 6 allowed fast set: k pieces derived from the peer's /24 and the
 * info-hash, so that every client computes the same set for an address.
 * IPv4 only, as the BEP defines it.
 */
static void
pwp_fast_set(struct torrent *t, struct peer *p)
{
	uint8_t x[24];
	uint32_t k = t->mi.npieces < PEER_FAST_SET ? t->mi.npieces :
	    PEER_FAST_SET;

	p->nallowed_out = 0;
	if (p->addr.family != 4 || k == 0)
		return;
	memcpy(x, p->addr.ip, 3);
	x[3] = 0;
	memcpy(x + 4, t->mi.info_hash, 20);
	hash_sha1(x, sizeof(x), x);
	/* 20 bytes of hash give 5 candidates per round. */
	for (int round = 0; round < 64 && p->nallowed_out < k; round++) {
		for (int i = 0; i < 5 && p->nallowed_out < k; i++) {
			uint32_t idx = be32(x + 4 * i) % t->mi.npieces;
			bool dup = false;

			for (uint32_t j = 0; j < p->nallowed_out; j++)
				dup |= p->allowed_out[j] == idx;
			if (!dup)
				p->allowed_out[p->nallowed_out++] = idx;
		}
		hash_sha1(x, 20, x);
	}
}

/* What follows both handshakes: our pieces (BEP 3 bitfield, or BEP 6
 * have all / have none), then the allowed fast pieces we can serve. */
static void
pwp_send_first(struct torrent *t, struct peer *p)
{
	int rc = 0;

	if (!t->have_meta) {	/* a magnet: nothing to offer yet */
		if (p->fast && wire_put_simple(&p->out, WIRE_HAVE_NONE) != 0)
			peer_kill(p, "output buffer full");
		return;
	}
	if (p->fast && bitfield_full(&t->have))
		rc = wire_put_simple(&p->out, WIRE_HAVE_ALL);
	else if (p->fast && t->have.count == 0)
		rc = wire_put_simple(&p->out, WIRE_HAVE_NONE);
	else if (t->have.count > 0)	/* optional when empty (BEP 3) */
		rc = wire_put_bitfield(&p->out, t->have.bits,
		    bitfield_bytes(&t->have));
	if (p->fast) {
		pwp_fast_set(t, p);
		for (uint32_t i = 0; rc == 0 && i < p->nallowed_out; i++)
			if (bitfield_get(&t->have, p->allowed_out[i]))
				rc = wire_put_index(&p->out, WIRE_ALLOWED_FAST,
				    p->allowed_out[i]);
	}
	if (rc != 0)
		peer_kill(p, "output buffer full");
}

void
pwp_connected(struct torrent *t, struct peer *p, bool plain_only,
    uint64_t now_ms)
{
	enum session_crypto crypto = t->sess->opts.crypto;

	p->last_recv_ms = now_ms;
	/* A web seed is HTTP behind a local engine: nothing to encrypt,
	 * and --encryption require is about peers. */
	if (p->transport == PEER_WEB) {
		peer_set_phase(p, PEER_HANDSHAKE, "web seed", t->trace);
		pwp_send_handshake(t, p);
		return;
	}
	/* Outgoing: encrypted first unless this address refused it. */
	if (t->sess->mse_ok && crypto != SESSION_CRYPTO_OFF &&
	    (!plain_only || crypto == SESSION_CRYPTO_REQUIRE) &&
	    pwcrypt_start(t, p)) {
		peer_set_phase(p, PEER_CRYPTO, "connected", t->trace);
		return;
	}
	if (crypto == SESSION_CRYPTO_REQUIRE) {
		peer_kill(p, "encryption unavailable (--encryption require)");
		return;
	}
	peer_set_phase(p, PEER_HANDSHAKE, "connected", t->trace);
	pwp_send_handshake(t, p);
}

/* --- the message handlers ------------------------------------------------ */

typedef void	pwp_handler(struct torrent *, struct peer *,
		    const struct wire_msg *, uint64_t, struct pwp_event *);

static void
pwp_on_choke(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	trace_emit(t->trace, "choked_by", "\"peer\":%u", p->id);
	p->peer_choking = true;
	/* BEP 6 peers reject what they drop; others drop all. */
	if (!p->fast)
		pwp_drop_requests(t, p);
	picker_disown(&t->pk, p->id);
}

static void
pwp_on_unchoke(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	trace_emit(t->trace, "unchoked_by", "\"peer\":%u", p->id);
	p->peer_choking = false;
	pwp_request_more(t, p, now_ms);
}

static void
pwp_on_interested(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	trace_emit(t->trace, "interested", "\"peer\":%u", p->id);
	p->peer_interested = true;
	if (p->fast)
		pwp_suggest(t, p);
	ev->kind = PWP_EV_INTERESTED;
}

static void
pwp_on_not_interested(struct torrent *t, struct peer *p,
    const struct wire_msg *m, uint64_t now_ms, struct pwp_event *ev)
{
	trace_emit(t->trace, "not_interested", "\"peer\":%u", p->id);
	p->peer_interested = false;
}

static void
pwp_on_have(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	if (m->index >= t->mi.npieces) {
		peer_kill(p, "have index out of range");
		return;
	}
	p->got_first_msg = true;
	trace_emit(t->trace, "have", "\"peer\":%u,\"index\":%u", p->id,
	    m->index);
	if (bitfield_get(&p->have, m->index))
		return;
	bitfield_set(&p->have, m->index);
	picker_add_have(&t->pk, m->index);
	if (!bitfield_get(&t->have, m->index))
		pwp_update_interest(t, p);
	pwp_request_more(t, p, now_ms);
}

static void
pwp_on_bitfield(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	/* BEP 3 wants it first, but aria2 sends a fresh bitfield later
	 * instead of a run of haves: replace the old one. */
	if (p->got_first_msg)
		picker_remove_bitfield(&t->pk, &p->have);
	p->got_first_msg = true;
	if (bitfield_load(&p->have, m->payload, m->payload_len) != 0) {
		bitfield_release(&p->have);
		bitfield_init(&p->have, t->mi.npieces);
		peer_kill(p, "invalid bitfield");
		return;
	}
	picker_add_bitfield(&t->pk, &p->have);
	trace_emit(t->trace, "bitfield", "\"peer\":%u,\"count\":%u", p->id,
	    p->have.count);
	if (t->phase == TORRENT_SEEDING && bitfield_full(&p->have)) {
		pwp_seeds_part(t, p);
		return;
	}
	pwp_update_interest(t, p);
}

static void
pwp_on_request(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	struct picker_block b = { m->index, m->begin, m->length };

	if (m->index >= t->mi.npieces || m->length == 0 ||
	    m->length > WIRE_MAX_BLOCK || (uint64_t)m->begin + m->length >
	    metainfo_piece_size(&t->mi, m->index)) {
		peer_kill(p, "request out of range");
		return;
	}
	if (!bitfield_get(&t->have, m->index)) {
		if (p->fast)
			goto reject;
		peer_kill(p, "requested a piece we do not have");
		return;
	}
	if (p->am_choking && !(p->fast && pwp_allowed_out(p, m->index))) {
		if (p->fast)
			goto reject;
		return;		/* BEP 3: requests while choked are dropped */
	}
	if (peer_queue_push(p, &b)) {
		upsched_wake(&t->sess->upq, p->id);	/* into the round */
		return;
	}
	if (!p->fast) {
		peer_kill(p, "too many requests queued");
		return;
	}
reject:
	if (wire_put_request(&p->out, WIRE_REJECT, b.index, b.begin,
	    b.length) != 0)
		peer_kill(p, "output buffer full");
}

static void
pwp_on_piece(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	struct picker_block b = { m->index, m->begin,
	    (uint32_t)m->payload_len };
	uint64_t sent_ms;

	trace_emit(t->trace, "piece",
	    "\"peer\":%u,\"index\":%u,\"begin\":%u,\"length\":%u", p->id,
	    b.index, b.begin, b.length);
	if (peer_reqs_remove(p, &b, &sent_ms)) {
		if (now_ms >= sent_ms && now_ms - sent_ms < p->lat_min_ms)
			p->lat_min_ms = now_ms - sent_ms;
	} else {
		/* Never asked for, beyond what we cancelled or dropped:
		 * a peer that pushes data at us is lying or broken. */
		if (p->unasked_ok == 0) {
			peer_kill(p, "sent a block we never requested");
			return;
		}
		p->unasked_ok--;
		t->wasted += b.length;
	}
	p->downloaded += b.length;
	p->last_piece_ms = now_ms;
	p->snubbed = false;
	rate_add(&p->down, now_ms, b.length);
	rate_add(&t->down, now_ms, b.length);
	rate_add(&t->sess->down, now_ms, b.length);
	t->downloaded += b.length;
	t->last_block_ms = now_ms;
	if (t->phase == TORRENT_DOWNLOADING) {
		ev->kind = PWP_EV_BLOCK;
		ev->b = b;
		ev->result = intake_block(&t->in, p->id, b.index, b.begin,
		    m->payload, b.length, &ev->piece);
		if (ev->result != INTAKE_IGNORED)
			t->changes++;
	}
	pwp_request_more(t, p, now_ms);
}

static void
pwp_on_cancel(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	struct picker_block b = { m->index, m->begin, m->length };

	peer_queue_remove(p, &b);
}

static void
pwp_on_port(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	/* BEP 5: the peer runs a DHT node there; ask it to join our table
	 * (the engine caps how many such hints it keeps). */
	if (m->port == 0 || p->dht_hinted)
		return;
	p->dht_hinted = true;
	ev->kind = PWP_EV_DHT_NODE;
	ev->addr = p->addr;
	ev->addr.port = m->port;
}

static void
pwp_on_have_all_none(struct torrent *t, struct peer *p,
    const struct wire_msg *m, uint64_t now_ms, struct pwp_event *ev)
{
	if (!p->fast || p->got_first_msg) {
		peer_kill(p, "unexpected have all / have none");
		return;
	}
	p->got_first_msg = true;
	trace_emit(t->trace, m->id == WIRE_HAVE_ALL ? "have_all" :
	    "have_none", "\"peer\":%u", p->id);
	if (m->id == WIRE_HAVE_NONE)
		return;
	bitfield_set_all(&p->have);
	picker_add_bitfield(&t->pk, &p->have);
	if (t->phase == TORRENT_SEEDING) {
		pwp_seeds_part(t, p);
		return;
	}
	pwp_update_interest(t, p);
}

static void
pwp_on_reject(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	struct picker_block b = { m->index, m->begin, m->length };

	if (!p->fast) {
		peer_kill(p, "reject without the fast extension");
		return;
	}
	trace_emit(t->trace, "rejected", "\"peer\":%u,\"index\":%u,"
	    "\"begin\":%u", p->id, m->index, m->begin);
	if (peer_reqs_remove(p, &b, NULL))
		picker_unrequest(&t->pk, &b);
	pwp_request_more(t, p, now_ms);
}

/* Allowed fast (BEP 6) and suggest share one shape: a set of indexes. */
static void
pwp_on_index_set(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	bool suggest = m->id == WIRE_SUGGEST;
	uint32_t *set = suggest ? p->suggested : p->allowed_in;
	uint32_t *n = suggest ? &p->nsuggested : &p->nallowed_in;
	uint32_t cap = suggest ? PEER_MAX_SUGGEST : PEER_MAX_ALLOWED;

	if (!p->fast || m->index >= t->mi.npieces) {
		peer_kill(p, "bad allowed fast or suggest");
		return;
	}
	trace_emit(t->trace, suggest ? "suggest" : "allowed_fast",
	    "\"peer\":%u,\"index\":%u", p->id, m->index);
	for (uint32_t i = 0; i < *n; i++)
		if (set[i] == m->index)
			return;
	if (*n == cap) {	/* keep the newest */
		memmove(set, set + 1, (cap - 1) * sizeof(*set));
		(*n)--;
	}
	set[(*n)++] = m->index;
	pwp_request_more(t, p, now_ms);
}

static void
pwp_on_extended(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	if (pwp_ext_msg(t, p, m->payload, m->payload_len, now_ms))
		ev->kind = PWP_EV_METADATA;
}

static pwp_handler *const pwp_handlers[WIRE_EXTENDED + 1] = {
	[WIRE_CHOKE] = pwp_on_choke,
	[WIRE_UNCHOKE] = pwp_on_unchoke,
	[WIRE_INTERESTED] = pwp_on_interested,
	[WIRE_NOT_INTERESTED] = pwp_on_not_interested,
	[WIRE_HAVE] = pwp_on_have,
	[WIRE_BITFIELD] = pwp_on_bitfield,
	[WIRE_REQUEST] = pwp_on_request,
	[WIRE_PIECE] = pwp_on_piece,
	[WIRE_CANCEL] = pwp_on_cancel,
	[WIRE_PORT] = pwp_on_port,
	[WIRE_SUGGEST] = pwp_on_index_set,
	[WIRE_HAVE_ALL] = pwp_on_have_all_none,
	[WIRE_HAVE_NONE] = pwp_on_have_all_none,
	[WIRE_REJECT] = pwp_on_reject,
	[WIRE_ALLOWED_FAST] = pwp_on_index_set,
	[WIRE_EXTENDED] = pwp_on_extended,
};

/*
 * A message before a magnet's metadata is known.  There is no piece count
 * to check indexes against yet: a bitfield or have-all is kept for later
 * (pwp_adopt_pieces), haves are dropped (the peer's bitfield is what
 * matters), and block traffic is ignored since neither side can have
 * asked for any.
 */
static void
pwp_early(struct torrent *t, struct peer *p, const struct wire_msg *m)
{
	switch (m->id) {
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
		p->peer_choking = m->id == WIRE_CHOKE;
		break;
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
		p->peer_interested = m->id == WIRE_INTERESTED;
		break;
	case WIRE_BITFIELD:
		free(p->early_bits);
		p->early_all = false;
		p->early_len = 0;
		if ((p->early_bits = thr_malloc(m->payload_len)) == NULL) {
			peer_kill(p, "out of memory");
			return;
		}
		memcpy(p->early_bits, m->payload, m->payload_len);
		p->early_len = m->payload_len;
		p->got_first_msg = true;
		break;
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		if (!p->fast || p->got_first_msg) {
			peer_kill(p, "unexpected have all / have none");
			return;
		}
		p->got_first_msg = true;
		p->early_all = m->id == WIRE_HAVE_ALL;
		break;
	default:
		break;
	}
}

static void
pwp_dispatch(struct torrent *t, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms, struct pwp_event *ev)
{
	if (m->keepalive) {
		if (++p->keepalives > PWP_MAX_KEEPALIVES)
			peer_kill(p, "keep-alive flood");
		return;
	}
	p->nudged = false;	/* a new exchange: see pwp_tick */
	if (!t->have_meta && m->id != WIRE_EXTENDED && m->id != WIRE_PORT) {
		pwp_early(t, p, m);
		return;
	}
	if (m->id <= WIRE_EXTENDED && pwp_handlers[m->id] != NULL)
		pwp_handlers[m->id](t, p, m, now_ms, ev);
}

/* --- the handshake ---------------------------------------------------- */

/* Its handshake is for our torrent, not from ourselves, not a second
 * connection to a peer we have.  False (p killed) otherwise. */
static bool
pwp_handshake_ok(struct torrent *t, struct peer *p, const uint8_t ih[20],
    const uint8_t pid[20])
{
	if (memcmp(ih, t->mi.info_hash, 20) != 0) {
		peer_kill(p, "handshake for another torrent");
		return false;
	}
	if (memcmp(pid, t->sess->peer_id, 20) == 0) {
		pwp_self_found(t, p);
		peer_kill(p, "connected to ourselves");
		return false;
	}
	for (size_t i = 0; i < t->ps.npeers; i++) {
		struct peer *q = t->ps.peers[i];

		if (q != p && q->phase == PEER_ACTIVE &&
		    memcmp(q->peer_id, pid, 20) == 0) {
			peer_kill(p, "duplicate connection");
			return false;
		}
	}
	return true;
}

static void
pwp_log_connected(struct torrent *t, struct peer *p)
{
	char a[ADDR_STR_MAX];

	if (trace_on(t->trace)) {
		char cl[2 * PEER_CLIENT_MAX];

		trace_emit(t->trace, "handshake",
		    "\"peer\":%u,\"client\":\"%s\",\"crypto\":\"%s\","
		    "\"transport\":\"%s\"", p->id,
		    trace_str(p->client, cl, sizeof(cl)),
		    p->encrypted ? "rc4" : p->obfuscated ? "obfuscated" :
		    "plain", peer_transport_name(p->transport));
	}
	addr_format(&p->addr, a, sizeof(a));
	log_msg(t->log, LOG_INFO, _("peer %s connected (%s, %s, %s%s)"), a,
	    p->client, p->incoming ? _("incoming") : _("outgoing"),
	    p->encrypted ? _("encrypted") : p->obfuscated ?
	    _("obfuscated handshake") : _("plaintext"),
	    p->transport == PEER_UTP ? ", uTP" : "");
}

static void
pwp_on_handshake(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	uint8_t ih[20], pid[20], rsv[8];
	uint16_t port = t->sess->port;

	if (wire_handshake_parse(p->in.data, ih, pid, rsv) != 0) {
		peer_kill(p, "bad handshake");
		return;
	}
	p->fast = (rsv[7] & 0x04) != 0;
	p->ext = (rsv[5] & 0x10) != 0;
	p->dht = (rsv[7] & 0x01) != 0;
	if (!pwp_handshake_ok(t, p, ih, pid))
		return;
	memcpy(p->peer_id, pid, 20);
	peerid_client(pid, p->client, sizeof(p->client));
	buf_consume(&p->in, WIRE_HANDSHAKE_LEN);
	if (!p->sent_handshake)
		pwp_send_handshake(t, p);
	if (p->ext)	/* BEP 10: the extended handshake comes first */
		pwp_ext_start(t, p, now_ms);
	/* BEP 5: tell a DHT-capable peer our DHT port (the TCP one). */
	if (p->dht && t->sess->dht != NULL &&
	    (buf_put_u32be(&p->out, 3) != 0 ||
	    buf_put_u8(&p->out, WIRE_PORT) != 0 ||
	    buf_put_u8(&p->out, (uint8_t)(port >> 8)) != 0 ||
	    buf_put_u8(&p->out, (uint8_t)port) != 0))
		peer_kill(p, "output buffer full");
	pwp_send_first(t, p);
	peer_set_phase(p, PEER_ACTIVE, "handshake", t->trace);
	p->last_recv_ms = now_ms;
	t->changes++;
	pwp_log_connected(t, p);
}

/* --- input ---------------------------------------------------------------- */

bool
pwp_input_begin(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	session_clock(t->sess, now_ms);
	p->last_recv_ms = now_ms;
	switch (pwcrypt_input(t, p)) {
	case PWCRYPT_MORE:
		p->in_dec = p->in.len;
		return false;
	case PWCRYPT_DONE:
		peer_set_phase(p, PEER_HANDSHAKE, "encrypted", t->trace);
		if (!p->incoming)
			pwp_send_handshake(t, p);
		break;
	case PWCRYPT_PLAIN:
		break;
	}
	if (p->phase == PEER_HANDSHAKE) {
		if (p->in.len < WIRE_HANDSHAKE_LEN) {
			p->in_dec = p->in.len;
			return false;
		}
		pwp_on_handshake(t, p, now_ms);
	}
	p->in_off = 0;
	return !p->dead && p->phase == PEER_ACTIVE;
}

bool
pwp_input_next(struct torrent *t, struct peer *p, uint64_t now_ms,
    struct pwp_event *ev)
{
	struct wire_msg m;
	size_t used;
	int rc;

	memset(ev, 0, sizeof(*ev));
	if (p->dead || p->phase != PEER_ACTIVE || p->in_off >= p->in.len)
		return false;
	rc = wire_parse(p->in.data + p->in_off, p->in.len - p->in_off,
	    t->mi.npieces, &m, &used);
	if (rc == 0)
		return false;
	if (rc < 0) {
		peer_kill(p, "malformed message");
		return false;
	}
	pwp_dispatch(t, p, &m, now_ms, ev);
	p->in_off += used;
	p->partial_ms = 0;
	return true;
}

bool
pwp_input_end(struct torrent *t, struct peer *p, uint64_t now_ms,
    struct pwp_event *ev)
{
	bool failed = false;

	memset(ev, 0, sizeof(*ev));
	/* The queued blocks point into p->in: store them first. */
	if (t->have_meta && t->phase != TORRENT_CHECKING &&
	    intake_flush(&t->in) == INTAKE_DISK_ERROR) {
		ev->kind = PWP_EV_DISK_ERROR;
		failed = true;
	}
	buf_consume(&p->in, p->in_off);
	p->in_off = 0;
	p->in_dec = p->in.len;	/* all of it is plaintext now */
	/* A message must not dribble in forever (one byte a second). */
	if (p->in.len > 0 && p->partial_ms == 0)
		p->partial_ms = now_ms;
	return failed;
}

/* --- time ---------------------------------------------------------------- */

void
pwp_tick(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	uint64_t age = now_ms - p->connected_ms;

	if (p->phase == PEER_CONNECTING && age > PWP_CONNECT_TIMEOUT_MS)
		peer_kill(p, "connect timed out");
	else if ((p->phase == PEER_HANDSHAKE || p->phase == PEER_CRYPTO) &&
	    age > PWP_HANDSHAKE_TIMEOUT_MS)
		peer_kill(p, "handshake timed out");
	else if (p->phase == PEER_ACTIVE &&
	    now_ms - p->last_recv_ms > PWP_IDLE_TIMEOUT_MS)
		peer_kill(p, "idle for too long");
	if (p->partial_ms != 0 && now_ms - p->partial_ms > PWP_MSG_TIMEOUT_MS)
		peer_kill(p, "message too slow to arrive");
	p->keepalives = 0;
	if (p->phase == PEER_ACTIVE && !p->dead &&
	    now_ms - p->last_send_ms > PWP_KEEPALIVE_MS && p->out.len == 0 &&
	    wire_put_keepalive(&p->out) == 0)
		p->last_send_ms = now_ms;
	/*
	 * A connection gone quiet both ways may hold bytes the peer has not
	 * read: Transmission 3.00 over uTP reads a packet only as far as
	 * the message it waited for, and the rest when the next packet
	 * comes.  Whatever the cause, it gets one keep-alive (a packet)
	 * after PWP_NUDGE_MS of quiet, never a wait for the one at
	 * PWP_KEEPALIVE_MS.  Only a message other than a keep-alive allows
	 * the next one, so an idle connection costs one, and two of us
	 * never bounce keep-alives back and forth.
	 */
	if (p->phase == PEER_ACTIVE && !p->dead && !p->nudged &&
	    p->out.len == 0 && now_ms - p->last_send_ms >= PWP_NUDGE_MS &&
	    now_ms - p->last_recv_ms >= PWP_NUDGE_MS &&
	    wire_put_keepalive(&p->out) == 0) {
		p->nudged = true;
		p->last_send_ms = now_ms;
	}
	/* A peer that holds our requests for a minute without sending
	 * anything gets them taken back (snubbed). */
	if (p->phase == PEER_ACTIVE && p->nreqs > 0 &&
	    now_ms - p->last_piece_ms > PWP_SNUB_MS) {
		pwp_drop_requests(t, p);
		p->last_piece_ms = now_ms;
		p->snubbed = true;
	}
	if (t->have_meta)
		pwp_request_more(t, p, now_ms);
}

void
pwp_gone(struct torrent *t, struct peer *p)
{
	if (trace_on(t->trace)) {
		char why[200];

		trace_emit(t->trace, "disconnect",
		    "\"peer\":%u,\"reason\":\"%s\"", p->id,
		    trace_str(p->why[0] ? p->why : "closed", why, sizeof(why)));
	}
	if (t->have_meta)
		pwp_drop_requests(t, p);
	if (p->phase == PEER_ACTIVE && t->have_meta && p->got_first_msg)
		picker_remove_bitfield(&t->pk, &p->have);
	pwp_ext_gone(t, p);
}

void
pwp_adopt_pieces(struct torrent *t, struct peer *p)
{
	bitfield_release(&p->have);
	if (bitfield_init(&p->have, t->mi.npieces) != 0) {
		peer_kill(p, "out of memory");
		return;
	}
	if (p->phase != PEER_ACTIVE)
		return;
	/* The out buffer must hold a whole bitfield message now. */
	p->out.max += t->mi.npieces / 8;
	if (p->early_all)
		bitfield_set_all(&p->have);
	else if (p->early_bits != NULL &&
	    bitfield_load(&p->have, p->early_bits, p->early_len) != 0) {
		peer_kill(p, "invalid bitfield");
		return;
	}
	free(p->early_bits);
	p->early_bits = NULL;
	p->early_len = 0;
}
