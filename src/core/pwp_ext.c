/*
 * pwp_ext.c: the extension protocol of one peer.  See pwp_ext.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ext.h"
#include "i18n.h"
#include "pwp_ext.h"
#include "torrent.h"
#include "wire.h"
#include "xalloc.h"

/* Append one extended message: length, id 20, extended id, payload built
 * by the caller.  The length is patched in once the payload is there. */
static int
pwp_ext_frame_begin(struct peer *p, uint8_t ext_id, size_t *start)
{
	*start = p->out.len;
	if (buf_put_u32be(&p->out, 0) != 0 ||
	    buf_put_u8(&p->out, WIRE_EXTENDED) != 0 ||
	    buf_put_u8(&p->out, ext_id) != 0) {
		p->out.len = *start;
		return THR_ELIMIT;
	}
	return 0;
}

static void
pwp_ext_frame_end(struct peer *p, size_t start, int rc)
{
	uint32_t n;

	if (rc != 0) {
		p->out.len = start;
		peer_kill(p, "output buffer full");
		return;
	}
	n = (uint32_t)(p->out.len - start - 4);
	p->out.data[start] = (uint8_t)(n >> 24);
	p->out.data[start + 1] = (uint8_t)(n >> 16);
	p->out.data[start + 2] = (uint8_t)(n >> 8);
	p->out.data[start + 3] = (uint8_t)n;
}

static bool
pwp_ext_pex_allowed(const struct torrent *t)
{
	return !(t->have_meta && t->mi.is_private);
}

void
pwp_ext_start(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	struct ext_local l;
	size_t start;

	memset(&l, 0, sizeof(l));
	l.port = t->sess->port;
	l.version = PACKAGE_NAME " " PACKAGE_VERSION;
	l.reqq = PEER_MAX_QUEUED;
	l.metadata_size = t->have_meta ? (uint32_t)t->mi.info_len : 0;
	l.yourip = &p->addr;
	l.pex = pwp_ext_pex_allowed(t);
	if (pwp_ext_frame_begin(p, EXT_ID_HANDSHAKE, &start) != 0) {
		peer_kill(p, "output buffer full");
		return;
	}
	pwp_ext_frame_end(p, start, ext_handshake_build(&p->out, &l));
	/* The first pex goes out a minute after the handshake, not at
	 * once: by then the peer list has settled. */
	p->pex_out_ms = now_ms;
}

/* Ask p for missing pieces, up to PWP_EXT_META_REQS at once: the next
 * one goes out when an answer arrives, or on the tick. */
void
pwp_ext_request(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	uint32_t piece, asked = 0;
	size_t start;

	if (t->phase != TORRENT_METADATA || p->exth.ut_metadata == 0 ||
	    p->meta_rejected || t->md.size == 0 || p->dead)
		return;
	for (uint32_t i = 0; i < t->md.npieces; i++)
		if (t->md.pieces[i].state == METADATA_REQUESTED &&
		    t->md.pieces[i].peer == p->id)
			asked++;
	while (asked < PWP_EXT_META_REQS &&
	    metadata_next_request(&t->md, p->id, now_ms, &piece) == 0) {
		if (pwp_ext_frame_begin(p, p->exth.ut_metadata, &start) != 0) {
			peer_kill(p, "output buffer full");
			return;
		}
		pwp_ext_frame_end(p, start, ext_metadata_request(&p->out, piece));
		asked++;
	}
}

/* True when this message completed the info dict. */
static bool
pwp_ext_on_metadata(struct torrent *t, struct peer *p, const uint8_t *b,
    size_t n, uint64_t now_ms)
{
	struct ext_metadata_msg m;
	struct thr_error err;
	const uint8_t *data;
	size_t len, start;

	if (ext_metadata_parse(b, n, &m, &err) != 0) {
		peer_kill(p, "malformed ut_metadata message");
		return false;
	}
	switch (m.type) {
	case EXT_METADATA_REQUEST:
		if (p->exth.ut_metadata == 0)
			break;
		/* Serve only what we have, and not faster than the peer
		 * reads: a full output buffer gets a reject. */
		if (pwp_ext_frame_begin(p, p->exth.ut_metadata, &start) != 0) {
			peer_kill(p, "output buffer full");
			return false;
		}
		if (t->have_meta && p->out.len < PEER_OUT_LOW &&
		    metadata_piece(t->mi.info, t->mi.info_len, m.piece,
		    &data, &len) == 0)
			pwp_ext_frame_end(p, start, ext_metadata_data(&p->out,
			    m.piece, (uint32_t)t->mi.info_len, data, len));
		else
			pwp_ext_frame_end(p, start, ext_metadata_reject(&p->out,
			    m.piece));
		break;
	case EXT_METADATA_DATA:
		if (t->phase != TORRENT_METADATA || t->md.size == 0)
			break;	/* late: we have it already */
		if (m.total_size != t->md.size ||
		    metadata_received(&t->md, p->id, m.piece, m.data,
		    m.len) != 0) {
			peer_kill(p, "sent metadata we did not ask for");
			return false;
		}
		p->meta_timeouts = 0;
		if (metadata_complete(&t->md))
			return true;
		pwp_ext_request(t, p, now_ms);
		break;
	case EXT_METADATA_REJECT:
		if (t->phase == TORRENT_METADATA && t->md.size != 0)
			metadata_rejected(&t->md, p->id, m.piece);
		p->meta_rejected = true;
		break;
	}
	return false;
}

/* The address other peers can dial for p, or false if we do not know
 * its listening port. */
static bool
pwp_ext_dialable(const struct peer *p, struct thr_addr *a)
{
	if (p->phase != PEER_ACTIVE || p->dead || p->listen_port == 0)
		return false;
	*a = p->addr;
	a->port = p->listen_port;
	return true;
}

static void
pwp_ext_pex_send(struct torrent *t, struct peer *to, uint64_t now_ms)
{
	struct thr_addr added[PEER_PEX_MAX], dropped[PEER_PEX_MAX], a;
	size_t nadded = 0, ndropped = 0, start;
	uint32_t k;

	to->pex_out_ms = now_ms;
	/* Dropped: sent before, no longer connected. */
	for (k = 0; k < to->npex_sent && ndropped < PEER_PEX_MAX; ) {
		bool live = false;

		for (size_t i = 0; i < t->ps.npeers && !live; i++)
			live = t->ps.peers[i] != to && pwp_ext_dialable(t->ps.peers[i], &a) &&
			    addr_equal(&a, &to->pex_sent[k]);
		if (live) {
			k++;
			continue;
		}
		dropped[ndropped++] = to->pex_sent[k];
		to->pex_sent[k] = to->pex_sent[--to->npex_sent];
	}
	/* Added: connected, not sent yet. */
	for (size_t i = 0; i < t->ps.npeers && nadded < PEER_PEX_MAX &&
	    to->npex_sent < PEER_PEX_SENT; i++) {
		bool known = false;

		if (t->ps.peers[i] == to || !pwp_ext_dialable(t->ps.peers[i], &a) ||
		    addr_equal(&a, &to->addr))
			continue;
		for (k = 0; k < to->npex_sent && !known; k++)
			known = addr_equal(&a, &to->pex_sent[k]);
		if (known)
			continue;
		added[nadded++] = a;
		to->pex_sent[to->npex_sent++] = a;
	}
	if (nadded == 0 && ndropped == 0)
		return;
	if (pwp_ext_frame_begin(to, to->exth.ut_pex, &start) != 0) {
		peer_kill(to, "output buffer full");
		return;
	}
	pwp_ext_frame_end(to, start, ext_pex_build(&to->out, added, NULL, nadded,
	    dropped, ndropped));
	trace_emit(t->trace, "pex_out", "\"peer\":%u,\"added\":%zu,"
	    "\"dropped\":%zu", to->id, nadded, ndropped);
}

static void
pwp_ext_on_pex(struct torrent *t, struct peer *p, const uint8_t *b, size_t n,
    uint64_t now_ms)
{
	struct ext_pex *x;
	struct thr_error err;
	size_t used = 0;

	if (!pwp_ext_pex_allowed(t))
		return;
	/* A peer that sends pex more often than BEP 11 allows gets its
	 * extra messages ignored, so it cannot flood the address list. */
	if (p->pex_in_ms != 0 && now_ms - p->pex_in_ms < PEER_PEX_MIN_MS)
		return;
	if ((x = thr_malloc(sizeof(*x))) == NULL)
		return;
	if (ext_pex_parse(b, n, x, &err) != 0) {
		free(x);
		peer_kill(p, "malformed pex message");
		return;
	}
	p->pex_in_ms = now_ms;
	for (size_t i = 0; i < x->nadded; i++) {
		if (x->added[i].port == 0 || peerset_banned(&t->ps, &x->added[i]))
			continue;
		peerset_known_add(&t->ps, &x->added[i], PEER_SRC_PEX);
		used++;
	}
	trace_emit(t->trace, "pex_in", "\"peer\":%u,\"added\":%zu,"
	    "\"dropped\":%zu", p->id, x->nadded, x->ndropped);
	log_msg(t->log, LOG_DEBUG, "pex: %zu addresses from peer %u", used,
	    p->id);
	free(x);
}

bool
pwp_ext_msg(struct torrent *t, struct peer *p, const uint8_t *payload,
    size_t len, uint64_t now_ms)
{
	struct thr_error err;

	if (len < 1 || !p->ext)
		return false;	/* BEP 10 messages without the bit: ignore */
	switch (payload[0]) {
	case EXT_ID_HANDSHAKE:
		if (ext_handshake_parse(payload + 1, len - 1, &p->exth,
		    &err) != 0) {
			peer_kill(p, "malformed extension handshake");
			return false;
		}
		if (p->incoming && p->exth.port != 0)
			p->listen_port = p->exth.port;
		/* The peer id names most clients; "v" names the rest. */
		if (p->exth.version[0] != '\0' && (p->client[0] == '?' ||
		    strncmp(p->client, "unknown", 7) == 0)) {
			size_t n = strlen(p->exth.version);

			if (n >= sizeof(p->client))
				n = sizeof(p->client) - 1;
			memcpy(p->client, p->exth.version, n);
			p->client[n] = '\0';
		}
		if (t->phase == TORRENT_METADATA && t->md.size == 0 &&
		    p->exth.metadata_size != 0 && p->exth.ut_metadata != 0 &&
		    metadata_init(&t->md, p->exth.metadata_size,
		    t->mi.info_hash) == 0)
			log_msg(t->log, LOG_INFO, _("fetching %u bytes of "
			    "metadata"), p->exth.metadata_size);
		if (t->md.size != 0 && p->exth.metadata_size == t->md.size)
			pwp_ext_request(t, p, now_ms);
		t->changes++;
		break;
	case EXT_ID_UT_METADATA:
		return pwp_ext_on_metadata(t, p, payload + 1, len - 1,
		    now_ms);
	case EXT_ID_UT_PEX:
		pwp_ext_on_pex(t, p, payload + 1, len - 1, now_ms);
		break;
	default:
		break;	/* BEP 10: ignore what we did not advertise */
	}
	return false;
}

void
pwp_ext_tick(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	if (p->phase != PEER_ACTIVE || p->dead || !p->ext)
		return;
	if (t->phase == TORRENT_METADATA) {
		/* A new size source if the last one lied. */
		if (t->md.size == 0 && p->exth.metadata_size != 0 &&
		    p->exth.ut_metadata != 0 && !p->meta_rejected)
			(void)metadata_init(&t->md, p->exth.metadata_size,
			    t->mi.info_hash);
		if (t->md.size != 0 && p->exth.metadata_size == t->md.size)
			pwp_ext_request(t, p, now_ms);
	}
	if (p->exth.ut_pex != 0 && pwp_ext_pex_allowed(t) &&
	    now_ms - p->pex_out_ms >= PWP_EXT_PEX_PERIOD_MS)
		pwp_ext_pex_send(t, p, now_ms);
}

void
pwp_ext_gone(struct torrent *t, struct peer *p)
{
	if (t->md.size != 0)
		metadata_peer_gone(&t->md, p->id);
}

/*
 * Requests that went unanswered for METADATA_TIMEOUT_MS are taken back;
 * their pieces are asked again on this tick, of the same peer as of any
 * other (with a single peer, the same one: it may have dropped the
 * request).  A peer that leaves PWP_EXT_META_TRIES requests in a row
 * unanswered is dropped, with a log line; the known list dials it again
 * later, with its usual back-off, on a fresh connection.
 */
void
pwp_ext_expire(struct torrent *t, uint64_t now_ms)
{
	uint32_t ids[METADATA_MAX_PIECES];
	size_t n;

	if (t->phase != TORRENT_METADATA || t->md.size == 0)
		return;
	n = metadata_expire(&t->md, now_ms, ids, METADATA_MAX_PIECES);
	if (n > METADATA_MAX_PIECES)
		n = METADATA_MAX_PIECES;
	for (size_t i = 0; i < n; i++) {
		struct peer *q;
		char a[ADDR_STR_MAX];
		size_t j;

		/* One round per peer, however many pieces it held. */
		for (j = 0; j < i && ids[j] != ids[i]; j++)
			continue;
		if (j < i || (q = peerset_find(&t->ps, ids[i])) == NULL ||
		    q->dead)
			continue;
		q->meta_timeouts++;
		addr_format(&q->addr, a, sizeof(a));
		if (q->meta_timeouts < PWP_EXT_META_TRIES) {
			log_msg(t->log, LOG_DEBUG, "peer %s left a metadata "
			    "request unanswered (%u of %u); asking again", a,
			    q->meta_timeouts, PWP_EXT_META_TRIES);
			continue;
		}
		log_msg(t->log, LOG_INFO, _("peer %s did not answer %u "
		    "metadata requests in a row; dropping it"), a,
		    q->meta_timeouts);
		peer_kill(q, "did not answer metadata requests");
	}
}
