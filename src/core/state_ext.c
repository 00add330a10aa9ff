/*
 * state_ext.c: the session's side of the extension protocol (BEP 10):
 * our extended handshake, fetching a magnet's info dict with ut_metadata
 * and serving ours (BEP 9), and peer exchange (BEP 11).
 *
 * The message formats are ext.c's and the piece bookkeeping of the info
 * dict is metadata.c's; this file decides when to send what and what a
 * message changes in the torrent state.  Private torrents (BEP 27) get no
 * pex either way.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "i18n.h"
#include "resume.h"
#include "state_int.h"
#include "wire.h"

/* Append one extended message: length, id 20, extended id, payload built
 * by fn.  The length is patched in once the payload is there. */
static int
ext_frame_begin(struct peer *p, uint8_t ext_id, size_t *start)
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
ext_frame_end(struct peer *p, size_t start, int rc)
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
pex_allowed(const struct thr_state *s)
{
	return !(s->have_meta && s->mi.is_private);
}

void
state_ext_start(struct thr_state *s, struct peer *p, uint64_t now_ms)
{
	struct ext_local l;
	size_t start;

	memset(&l, 0, sizeof(l));
	l.port = s->port;
	l.version = PACKAGE_NAME " " PACKAGE_VERSION;
	l.reqq = PEER_MAX_QUEUED;
	l.metadata_size = s->have_meta ? (uint32_t)s->mi.info_len : 0;
	l.yourip = &p->addr;
	l.pex = pex_allowed(s);
	if (ext_frame_begin(p, EXT_ID_HANDSHAKE, &start) != 0) {
		peer_kill(p, "output buffer full");
		return;
	}
	ext_frame_end(p, start, ext_handshake_build(&p->out, &l));
	/* The first pex goes out a minute after the handshake, not at
	 * once: by then the peer list has settled. */
	p->pex_out_ms = now_ms;
}

/* --- ut_metadata: fetching ------------------------------------------- */

/* Ask p for missing pieces, up to STATE_META_REQS at once: the next one
 * goes out when an answer arrives, or on the tick. */
static void
meta_request(struct thr_state *s, struct peer *p, uint64_t now_ms)
{
	uint32_t piece, asked = 0;
	size_t start;

	if (s->phase != STATE_METADATA || p->exth.ut_metadata == 0 ||
	    p->meta_rejected || s->md.size == 0 || p->dead)
		return;
	for (uint32_t i = 0; i < s->md.npieces; i++)
		if (s->md.pieces[i].state == METADATA_REQUESTED &&
		    s->md.pieces[i].peer == p->id)
			asked++;
	while (asked < STATE_META_REQS &&
	    metadata_next_request(&s->md, p->id, now_ms, &piece) == 0) {
		if (ext_frame_begin(p, p->exth.ut_metadata, &start) != 0) {
			peer_kill(p, "output buffer full");
			return;
		}
		ext_frame_end(p, start, ext_metadata_request(&p->out, piece));
		asked++;
	}
}

/*
 * Requests that went unanswered for METADATA_TIMEOUT_MS are taken back;
 * their pieces are asked again on this tick, of the same peer as of any
 * other (with a single peer, the same one: it may have dropped the
 * request).  A peer that leaves STATE_META_TRIES requests in a row
 * unanswered is dropped, with a log line; the known list dials it again
 * later, with its usual back-off, on a fresh connection.
 */
static void
meta_expire(struct thr_state *s, uint64_t now_ms)
{
	uint32_t ids[METADATA_MAX_PIECES];
	size_t n;

	n = metadata_expire(&s->md, now_ms, ids, METADATA_MAX_PIECES);
	if (n > METADATA_MAX_PIECES)
		n = METADATA_MAX_PIECES;
	for (size_t i = 0; i < n; i++) {
		struct peer *q;
		char a[ADDR_STR_MAX];
		size_t j;

		/* One round per peer, however many pieces it held. */
		for (j = 0; j < i && ids[j] != ids[i]; j++)
			continue;
		if (j < i || (q = state_peer_find(s, ids[i])) == NULL ||
		    q->dead)
			continue;
		q->meta_timeouts++;
		addr_format(&q->addr, a, sizeof(a));
		if (q->meta_timeouts < STATE_META_TRIES) {
			log_msg(&s->log, LOG_DEBUG, "peer %s left a metadata "
			    "request unanswered (%u of %u); asking again", a,
			    q->meta_timeouts, STATE_META_TRIES);
			continue;
		}
		log_msg(&s->log, LOG_INFO, _("peer %s did not answer %u "
		    "metadata requests in a row; dropping it"), a,
		    q->meta_timeouts);
		peer_kill(q, "did not answer metadata requests");
	}
}

/* Wrap the verified info dict as a torrent with the magnet's trackers,
 * for the state directory: a restart then needs no peer to know what to
 * download. */
static void
meta_save(struct thr_state *s)
{
	struct thr_error err;
	struct buf b;
	char path[4096];
	int rc = 0;

	if (s->opts.state_dir == NULL ||
	    resume_state_file(s->opts.state_dir, s->mi.info_hash, ".torrent",
	    path, sizeof(path)) != 0)
		return;
	buf_init(&b, s->md.size + (1u << 20));
	rc |= bencode_put_dict(&b);
	if (s->mi.ntiers > 0) {
		rc |= bencode_put_cstr(&b, "announce-list");
		rc |= bencode_put_list(&b);
		for (size_t i = 0; i < s->mi.ntiers; i++) {
			rc |= bencode_put_list(&b);
			for (size_t j = 0; j < s->mi.tiers[i].nurls; j++)
				rc |= bencode_put_cstr(&b,
				    s->mi.tiers[i].urls[j]);
			rc |= bencode_put_end(&b);
		}
		rc |= bencode_put_end(&b);
	}
	rc |= bencode_put_cstr(&b, "info");
	rc |= buf_append(&b, s->md.data, s->md.size);
	rc |= bencode_put_end(&b);
	if (rc != 0)
		log_msg(&s->log, LOG_WARN, "%s",
		    _("cannot encode the metadata"));
	else if (resume_write_file(path, b.data, b.len, &err) != 0)
		log_msg(&s->log, LOG_WARN, _("cannot save the metadata: %s"),
		    err.msg);
	else
		log_msg(&s->log, LOG_INFO, _("metadata saved to %s"), path);
	buf_release(&b);
}

/* Give a peer the piece count it lacked: its early bitfield or have-all
 * now becomes its have set. */
static void
peer_adopt_pieces(struct thr_state *s, struct peer *p)
{
	bitfield_release(&p->have);
	if (bitfield_init(&p->have, s->mi.npieces) != 0) {
		peer_kill(p, "out of memory");
		return;
	}
	/* The out buffer must hold a whole bitfield message now. */
	p->out.max += s->mi.npieces / 8;
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

static void
meta_complete(struct thr_state *s, uint64_t now_ms)
{
	struct metainfo mi;
	struct thr_error err;
	struct buf b;
	uint32_t bad[16];
	size_t nbad = 0;
	int rc;

	rc = metadata_verify(&s->md, bad, 16, &nbad);
	if (rc == THR_EPROTO) {
		log_msg(&s->log, LOG_WARN, "%s", _("metadata does not match "
		    "the info-hash; asking again"));
		for (size_t i = 0; i < nbad; i++) {
			struct peer *q = state_peer_find(s, bad[i]);
			if (q != NULL)
				peer_kill(q, "sent bad metadata");
		}
		/* The size itself may have been the lie: start over with
		 * the next peer's. */
		metadata_release(&s->md);
		return;
	}
	if (rc != 0)
		return;
	buf_init(&b, s->md.size + 16);
	memset(&err, 0, sizeof(err));
	if (buf_puts(&b, "d4:info") != 0 ||
	    buf_append(&b, s->md.data, s->md.size) != 0 ||
	    buf_puts(&b, "e") != 0)
		rc = THR_ENOMEM;
	else
		rc = metainfo_parse(&mi, b.data, b.len, &err);
	buf_release(&b);
	if (rc != 0) {
		/* The hash matched, so the torrent itself is bad. */
		s->fatal = rc;
		snprintf(s->fatal_msg, sizeof(s->fatal_msg),
		    "the torrent's metadata is invalid: %s", err.msg);
		return;
	}
	/* Keep the magnet's trackers and web seeds: the info dict has
	 * neither. */
	mi.tiers = s->mi.tiers;
	mi.ntiers = s->mi.ntiers;
	s->mi.tiers = NULL;
	s->mi.ntiers = 0;
	mi.webseeds = s->mi.webseeds;
	mi.nwebseeds = s->mi.nwebseeds;
	s->mi.webseeds = NULL;
	s->mi.nwebseeds = 0;
	log_msg(&s->log, LOG_INFO, _("metadata received: %zu bytes, %u pieces, "
	    "%zu files, in %.1f s"), s->md.size, mi.npieces, mi.nfiles,
	    (double)(now_ms - s->meta_started_ms) / 1000);
	trace_emit(&s->trace, "metadata", "\"bytes\":%zu,\"pieces\":%u",
	    s->md.size, mi.npieces);
	metainfo_release(&s->mi);
	s->mi = mi;
	meta_save(s);
	metadata_release(&s->md);
	if ((rc = state_attach(s, &err)) != 0) {
		s->fatal = rc;
		snprintf(s->fatal_msg, sizeof(s->fatal_msg), "%s", err.msg);
		return;
	}
	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i]->phase == PEER_ACTIVE)
			peer_adopt_pieces(s, s->peers[i]);
		else {
			bitfield_release(&s->peers[i]->have);
			if (bitfield_init(&s->peers[i]->have,
			    s->mi.npieces) != 0)
				peer_kill(s->peers[i], "out of memory");
		}
	s->changes++;
}

static void
on_metadata(struct thr_state *s, struct peer *p, const uint8_t *b, size_t n,
    uint64_t now_ms)
{
	struct ext_metadata_msg m;
	struct thr_error err;
	const uint8_t *data;
	size_t len, start;

	if (ext_metadata_parse(b, n, &m, &err) != 0) {
		peer_kill(p, "malformed ut_metadata message");
		return;
	}
	switch (m.type) {
	case EXT_METADATA_REQUEST:
		if (p->exth.ut_metadata == 0)
			break;
		/* Serve only what we have, and not faster than the peer
		 * reads: a full output buffer gets a reject. */
		if (ext_frame_begin(p, p->exth.ut_metadata, &start) != 0) {
			peer_kill(p, "output buffer full");
			return;
		}
		if (s->have_meta && p->out.len < PEER_OUT_LOW &&
		    metadata_piece(s->mi.info, s->mi.info_len, m.piece,
		    &data, &len) == 0)
			ext_frame_end(p, start, ext_metadata_data(&p->out,
			    m.piece, (uint32_t)s->mi.info_len, data, len));
		else
			ext_frame_end(p, start, ext_metadata_reject(&p->out,
			    m.piece));
		break;
	case EXT_METADATA_DATA:
		if (s->phase != STATE_METADATA || s->md.size == 0)
			break;	/* late: we have it already */
		if (m.total_size != s->md.size ||
		    metadata_received(&s->md, p->id, m.piece, m.data,
		    m.len) != 0) {
			peer_kill(p, "sent metadata we did not ask for");
			return;
		}
		p->meta_timeouts = 0;
		if (metadata_complete(&s->md))
			meta_complete(s, now_ms);
		else
			meta_request(s, p, now_ms);
		break;
	case EXT_METADATA_REJECT:
		if (s->phase == STATE_METADATA && s->md.size != 0)
			metadata_rejected(&s->md, p->id, m.piece);
		p->meta_rejected = true;
		break;
	}
}

/* --- ut_pex ------------------------------------------------------------ */

/* The address other peers can dial for p, or false if we do not know
 * its listening port. */
static bool
dialable(const struct peer *p, struct thr_addr *a)
{
	if (p->phase != PEER_ACTIVE || p->dead || p->listen_port == 0)
		return false;
	*a = p->addr;
	a->port = p->listen_port;
	return true;
}

static void
pex_send(struct thr_state *s, struct peer *to, uint64_t now_ms)
{
	struct thr_addr added[PEER_PEX_MAX], dropped[PEER_PEX_MAX], a;
	size_t nadded = 0, ndropped = 0, start;
	uint32_t k;

	to->pex_out_ms = now_ms;
	/* Dropped: sent before, no longer connected. */
	for (k = 0; k < to->npex_sent && ndropped < PEER_PEX_MAX; ) {
		bool live = false;

		for (size_t i = 0; i < s->npeers && !live; i++)
			live = s->peers[i] != to && dialable(s->peers[i], &a) &&
			    addr_equal(&a, &to->pex_sent[k]);
		if (live) {
			k++;
			continue;
		}
		dropped[ndropped++] = to->pex_sent[k];
		to->pex_sent[k] = to->pex_sent[--to->npex_sent];
	}
	/* Added: connected, not sent yet. */
	for (size_t i = 0; i < s->npeers && nadded < PEER_PEX_MAX &&
	    to->npex_sent < PEER_PEX_SENT; i++) {
		bool known = false;

		if (s->peers[i] == to || !dialable(s->peers[i], &a) ||
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
	if (ext_frame_begin(to, to->exth.ut_pex, &start) != 0) {
		peer_kill(to, "output buffer full");
		return;
	}
	ext_frame_end(to, start, ext_pex_build(&to->out, added, NULL, nadded,
	    dropped, ndropped));
	trace_emit(&s->trace, "pex_out", "\"peer\":%u,\"added\":%zu,"
	    "\"dropped\":%zu", to->id, nadded, ndropped);
}

static void
on_pex(struct thr_state *s, struct peer *p, const uint8_t *b, size_t n,
    uint64_t now_ms)
{
	struct ext_pex *x;
	struct thr_error err;
	size_t used = 0;

	if (!pex_allowed(s))
		return;
	/* A peer that sends pex more often than BEP 11 allows gets its
	 * extra messages ignored, so it cannot flood the address list. */
	if (p->pex_in_ms != 0 && now_ms - p->pex_in_ms < PEER_PEX_MIN_MS)
		return;
	if ((x = malloc(sizeof(*x))) == NULL)
		return;
	if (ext_pex_parse(b, n, x, &err) != 0) {
		free(x);
		peer_kill(p, "malformed pex message");
		return;
	}
	p->pex_in_ms = now_ms;
	for (size_t i = 0; i < x->nadded; i++) {
		if (x->added[i].port == 0 || state_banned(s, &x->added[i]))
			continue;
		state_known_add(s, &x->added[i], PEER_SRC_PEX);
		used++;
	}
	trace_emit(&s->trace, "pex_in", "\"peer\":%u,\"added\":%zu,"
	    "\"dropped\":%zu", p->id, x->nadded, x->ndropped);
	log_msg(&s->log, LOG_DEBUG, "pex: %zu addresses from peer %u", used,
	    p->id);
	free(x);
}

/* --- dispatch ---------------------------------------------------------- */

void
state_ext_msg(struct thr_state *s, struct peer *p, const uint8_t *payload,
    size_t len, uint64_t now_ms)
{
	struct thr_error err;

	if (len < 1 || !p->ext)
		return;	/* BEP 10 messages without the bit: ignore */
	switch (payload[0]) {
	case EXT_ID_HANDSHAKE:
		if (ext_handshake_parse(payload + 1, len - 1, &p->exth,
		    &err) != 0) {
			peer_kill(p, "malformed extension handshake");
			return;
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
		if (s->phase == STATE_METADATA && s->md.size == 0 &&
		    p->exth.metadata_size != 0 && p->exth.ut_metadata != 0 &&
		    metadata_init(&s->md, p->exth.metadata_size,
		    s->mi.info_hash) == 0)
			log_msg(&s->log, LOG_INFO, _("fetching %u bytes of "
			    "metadata"), p->exth.metadata_size);
		if (s->md.size != 0 && p->exth.metadata_size == s->md.size)
			meta_request(s, p, now_ms);
		s->changes++;
		break;
	case EXT_ID_UT_METADATA:
		on_metadata(s, p, payload + 1, len - 1, now_ms);
		break;
	case EXT_ID_UT_PEX:
		on_pex(s, p, payload + 1, len - 1, now_ms);
		break;
	default:
		break;	/* BEP 10: ignore what we did not advertise */
	}
}

void
state_ext_tick(struct thr_state *s, uint64_t now_ms)
{
	if (s->phase == STATE_METADATA && s->md.size != 0)
		meta_expire(s, now_ms);
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];

		if (p->phase != PEER_ACTIVE || p->dead || !p->ext)
			continue;
		if (s->phase == STATE_METADATA) {
			/* A new size source if the last one lied. */
			if (s->md.size == 0 && p->exth.metadata_size != 0 &&
			    p->exth.ut_metadata != 0 && !p->meta_rejected)
				(void)metadata_init(&s->md,
				    p->exth.metadata_size, s->mi.info_hash);
			if (s->md.size != 0 &&
			    p->exth.metadata_size == s->md.size)
				meta_request(s, p, now_ms);
		}
		if (p->exth.ut_pex != 0 && pex_allowed(s) &&
		    now_ms - p->pex_out_ms >= STATE_PEX_PERIOD_MS)
			pex_send(s, p, now_ms);
	}
}

void
state_ext_peer_gone(struct thr_state *s, struct peer *p)
{
	if (s->md.size != 0)
		metadata_peer_gone(&s->md, p->id);
}
