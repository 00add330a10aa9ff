/*
 * torrent.c: a torrent's life cycle and the outcomes of its peers'
 * messages.  See torrent.h for the data model and the layers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "escape.h"
#include "hash.h"
#include "i18n.h"
#include "magnet.h"
#include "pwcrypt.h"
#include "pwp.h"
#include "pwp_ext.h"
#include "resume.h"
#include "tcheck.h"
#include "tmeta.h"
#include "tstats.h"
#include "torrent.h"
#include "xalloc.h"

static const char *const torrent_phase_names[] = {
	"checking", "downloading", "seeding", "done", "metadata"
};

const char *
torrent_phase_name(enum torrent_phase ph)
{
	return (unsigned)ph < sizeof(torrent_phase_names) /
	    sizeof(torrent_phase_names[0]) ? torrent_phase_names[ph] : "?";
}

void
torrent_set_phase(struct torrent *t, enum torrent_phase ph, const char *why)
{
	if (t->phase == ph)
		return;
	log_msg(t->log, LOG_DEBUG, "phase %s -> %s (%s)",
	    torrent_phase_names[t->phase], torrent_phase_names[ph], why);
	trace_emit(t->trace, "phase", "\"from\":\"%s\",\"to\":\"%s\","
	    "\"why\":\"%s\"", torrent_phase_names[t->phase],
	    torrent_phase_names[ph], why);
	t->phase = ph;
	t->changes++;
}

/* p was written to (or killed) for another peer's sake. */
void
torrent_mark_dirty(struct torrent *t, struct peer *p)
{
	if (p->dirty || t->ndirty == PEERSET_MAX_PEERS)
		return;
	p->dirty = true;
	t->dirty[t->ndirty++] = p->id;
}

static void
torrent_touch_all(struct torrent *t)
{
	for (size_t i = 0; i < t->ps.npeers; i++)
		torrent_mark_dirty(t, t->ps.peers[i]);
}

size_t
torrent_take_dirty(struct torrent *t, uint32_t *ids, size_t max)
{
	size_t n = t->ndirty < max ? t->ndirty : max;

	for (size_t i = 0; i < n; i++) {
		struct peer *p = peerset_find(&t->ps, t->dirty[i]);

		ids[i] = t->dirty[i];
		if (p != NULL)
			p->dirty = false;
	}
	memmove(t->dirty, t->dirty + n, (t->ndirty - n) * sizeof(*t->dirty));
	t->ndirty -= n;
	return n;
}

/* --- life cycle --------------------------------------------------------- */

/* (Re)build the picker over the pieces we have, and the intake over it.
 * Pieces in memory are bounded by bytes (TORRENT_ACTIVE_BYTES), never
 * by the torrent's size. */
static int
torrent_picker_setup(struct torrent *t, const struct bitfield *have)
{
	size_t max_active = TORRENT_ACTIVE_BYTES / t->mi.piece_length;
	enum picker_strategy st = t->pk.strategy;
	int rc;

	if (max_active < 4)
		max_active = 4;
	if (max_active > 512)
		max_active = 512;
	intake_release(&t->in);
	picker_release(&t->pk);
	if ((rc = picker_init(&t->pk, &t->mi, have, max_active)) != 0)
		return rc;
	t->pk.strategy = st;
	t->pk.keep_data = false;	/* blocks go straight to the store */
	if ((rc = intake_init(&t->in, &t->mi, &t->st, &t->pk)) != 0)
		return rc;
	return selection_apply(&t->sel, &t->mi, &t->pk, &t->have);
}

/* The selection of the last run, from the resume record. */
static void
torrent_load_selection(struct torrent *t)
{
	const struct store_factory *f = &t->opts.store;
	struct thr_error err;
	struct buf b;
	size_t n = 0;
	int rc;

	if (f->record == NULL)
		return;
	memset(&err, 0, sizeof(err));
	buf_init(&b, RESUME_MAX_SIZE);
	rc = f->record(f->ctx, &t->mi, RESUME_MAX_SIZE, &b, &err);
	if (rc == 0)
		rc = resume_decode_sel(b.data, b.len, &t->mi, t->sel.wanted, &n,
		    &err);
	buf_release(&b);
	if (rc == 0 && n > 0)
		log_msg(t->log, LOG_NOTE, ngettext("%zu file skipped, as in "
		    "the last run", "%zu files skipped, as in the last run", n),
		    n);
	else if (rc != 0 && rc != THR_ENOENT)
		log_msg(t->log, LOG_INFO, _("selection not restored: %s"),
		    err.msg);
}

/*
 * Open the store and prepare the picker once the metainfo is known (at
 * creation, or when a magnet's metadata arrived).  Moves to CHECKING.
 */
static int
torrent_attach(struct torrent *t, const char *files, struct thr_error *err)
{
	int rc;

	t->have_meta = true;
	bitfield_release(&t->have);
	if ((rc = bitfield_init(&t->have, t->mi.npieces)) != 0)
		return thr_error_set(err, rc, 0, "out of memory");
	t->check_span = TORRENT_CHECK_SPAN / t->mi.piece_length;
	if (t->check_span < 1)
		t->check_span = 1;
	if (t->check_span > TORRENT_CHECK_MAX_SPAN)
		t->check_span = TORRENT_CHECK_MAX_SPAN;
	free(t->scratch);
	t->scratch = thr_malloc((size_t)t->check_span * t->mi.piece_length);
	if (t->scratch == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	selection_release(&t->sel);
	if ((rc = selection_init(&t->sel, &t->mi, files, err)) != 0)
		return rc;
	/* --files says what to fetch; without it, what the user chose in
	 * the last run (kept in the resume record) still holds. */
	if (files == NULL)
		torrent_load_selection(t);
	if ((rc = t->opts.store.open(t->opts.store.ctx, &t->mi,
	    t->sel.wanted, &t->st, err)) != 0)
		return rc;
	if ((rc = torrent_picker_setup(t, NULL)) != 0)
		return thr_error_set(err, rc, 0, "out of memory");
	torrent_set_phase(t, TORRENT_CHECKING, "metainfo known");
	t->changes++;
	return 0;
}

struct torrent *
torrent_new(struct session *s, const struct torrent_opts *o, uint64_t now_ms,
    struct thr_error *err)
{
	struct torrent *t = thr_calloc(1, sizeof(*t));
	int rc;

	if (t == NULL) {
		thr_error_set(err, THR_ENOMEM, 0, "out of memory");
		return NULL;
	}
	session_clock(s, now_ms);
	t->id = ++s->next_torrent_id;
	t->sess = s;
	t->log = &s->log;
	t->trace = &s->trace;
	t->opts = *o;
	t->opts.metainfo = NULL;
	t->opts.magnet = NULL;
	t->opts.files = NULL;
	t->start_ms = now_ms;
	t->pk.strategy = o->strategy;
	rate_init(&t->down, now_ms);
	rate_init(&t->up, now_ms);
	choker_init(&t->ch, o->upload_slots > 0 ? (size_t)o->upload_slots : 0);
	if (peerset_init(&t->ps, (size_t)(s->opts.max_peers > 0 ?
	    s->opts.max_peers : 0)) != 0) {
		rc = thr_error_set(err, THR_ENOMEM, 0, "out of memory");
		goto fail;
	}
	if (o->magnet != NULL)
		rc = tmeta_load_magnet(t, o->magnet, err);
	else if ((rc = metainfo_parse(&t->mi, o->metainfo, o->metainfo_len,
	    err)) == 0)
		t->have_meta = true;
	if (rc != 0)
		goto fail;
	/* One run per torrent and place, before anything is created. */
	if (o->store.lock != NULL &&
	    (rc = o->store.lock(o->store.ctx, t->mi.info_hash, err)) != 0)
		goto fail;
	if (t->mi.trackers_dropped > 0)
		log_msg(t->log, LOG_WARN, _("the torrent lists %zu trackers "
		    "past the first %u; ignoring them"), t->mi.trackers_dropped,
		    METAINFO_MAX_TRACKERS);
	if ((rc = announcer_init(&t->ann, &t->mi, &s->rng[SESSION_RNG_MISC],
	    t->log, t->trace)) != 0) {
		thr_error_set(err, rc, 0, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < o->ngiven; i++)
		peerset_known_add(&t->ps, &o->given[i], PEER_SRC_MANUAL);
	if (!t->have_meta) {
		if ((rc = bitfield_init(&t->have, 0)) != 0) {
			thr_error_set(err, rc, 0, "out of memory");
			goto fail;
		}
		t->phase = TORRENT_METADATA;	/* born fetching */
		t->meta_started_ms = now_ms;
		return t;
	}
	if ((rc = torrent_attach(t, o->files, err)) != 0)
		goto fail;
	return t;
fail:
	torrent_free(t);
	return NULL;
}

void
torrent_free(struct torrent *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ps.npeers; i++) {
		peerix_del(&t->sess->ix, t->ps.peers[i]->id);
		upsched_remove(&t->sess->upq, t->ps.peers[i]->id);
	}
	peerset_release(&t->ps);
	announcer_release(&t->ann);
	metadata_release(&t->md);
	intake_release(&t->in);
	picker_release(&t->pk);
	store_close(&t->st);
	selection_release(&t->sel);
	free(t->scratch);
	bitfield_release(&t->have);
	metainfo_release(&t->mi);
	free(t);
}

/* --- the check of existing data ------------------------------------------ */

void
torrent_check_step(struct torrent *t, uint64_t now_ms)
{
	session_clock(t->sess, now_ms);
	if (t->phase != TORRENT_CHECKING)
		return;
	if (t->check_next == 0 && t->check_start_ms == 0)
		tcheck_record(t, now_ms);
	if (t->check_start_ms == 0)
		t->check_start_ms = now_ms ? now_ms : 1;
	tcheck_spans(t);
	if (t->check_next < t->mi.npieces)
		return;
	if (torrent_picker_setup(t, &t->have) != 0) {
		t->fatal = THR_ENOMEM;
		snprintf(t->fatal_msg, sizeof(t->fatal_msg), "out of memory");
		return;
	}
	/* Peers that arrived while we checked (or fetched metadata) count
	 * toward availability in the new picker too. */
	for (size_t k = 0; k < t->ps.npeers; k++) {
		struct peer *p = t->ps.peers[k];

		if (p->phase == PEER_ACTIVE && p->got_first_msg)
			picker_add_bitfield(&t->pk, &p->have);
	}
	t->check_ms = now_ms - t->check_start_ms;
	log_msg(t->log, LOG_INFO, _("resume: %u of %u pieces valid (read and "
	    "hashed %.1f MiB in %.3f s)"), t->check_valid, t->mi.npieces,
	    (double)t->check_bytes / 1048576, (double)t->check_ms / 1000);
	if (picker_complete(&t->pk)) {
		t->ann.sent_completed = true;	/* not completed here */
		torrent_set_phase(t, TORRENT_SEEDING, "data complete");
		log_msg(t->log, LOG_INFO, "%s", _("complete"));
	} else
		torrent_set_phase(t, TORRENT_DOWNLOADING, "data checked");
	for (size_t k = 0; k < t->ps.npeers; k++)
		if (t->ps.peers[k]->phase == PEER_ACTIVE) {
			pwp_update_interest(t, t->ps.peers[k]);
			pwp_request_more(t, t->ps.peers[k], now_ms);
		}
	torrent_touch_all(t);
}

/* --- outcomes ------------------------------------------------------------- */


static void
torrent_on_complete(struct torrent *t)
{
	torrent_set_phase(t, TORRENT_SEEDING, "download complete");
	log_msg(t->log, LOG_INFO, "%s", _("complete"));
	/* Seeds have nothing to give each other. */
	for (size_t i = 0; i < t->ps.npeers; i++) {
		struct peer *p = t->ps.peers[i];

		pwp_update_interest(t, p);
		if (p->phase == PEER_ACTIVE && bitfield_full(&p->have) &&
		    bitfield_full(&t->have))
			pwp_seeds_part(t, p);
	}
	torrent_touch_all(t);
	announcer_completed(&t->ann);
}

/* A peer that took part in TORRENT_MAX_STRIKES failed pieces is dropped
 * and its IP refused for the rest of the session. */
static void
torrent_ban(struct torrent *t, struct peer *p)
{
	char a[ADDR_STR_MAX];

	addr_format(&p->addr, a, sizeof(a));
	log_msg(t->log, LOG_WARN, _("banning %s: %u pieces with bad data"), a,
	    p->strikes);
	trace_emit(t->trace, "ban", "\"peer\":%u,\"addr\":\"%s\"", p->id, a);
	peerset_ban(&t->ps, &p->addr);
	peer_kill(p, "sent corrupt data repeatedly");
	torrent_mark_dirty(t, p);
}

static void
torrent_piece_failed(struct torrent *t, const struct intake_piece *ip)
{
	trace_emit(t->trace, "hash_fail", "\"index\":%u,\"peer\":%u",
	    ip->index, ip->ncontrib ? ip->contrib[0] : 0);
	t->hash_fails++;
	t->wasted += ip->size;
	log_msg(t->log, LOG_WARN, _("piece %u failed its hash check"),
	    ip->index);
	for (uint32_t c = 0; c < ip->ncontrib; c++) {
		struct peer *q = peerset_find(&t->ps, ip->contrib[c]);

		if (q != NULL && ++q->strikes >= TORRENT_MAX_STRIKES)
			torrent_ban(t, q);
	}
}

static void
torrent_piece_verified(struct torrent *t, const struct intake_piece *ip)
{
	trace_emit(t->trace, "hash_ok", "\"index\":%u,\"peer\":%u",
	    ip->index, ip->ncontrib ? ip->contrib[0] : 0);
	bitfield_set(&t->have, ip->index);
	t->verified += ip->size;
	if (picker_wanted(&t->pk, ip->index))
		t->sel.left -= ip->size;
	log_msg(t->log, LOG_DEBUG, "piece %u verified", ip->index);
	if (picker_complete(&t->pk))
		torrent_on_complete(t);
	for (size_t i = 0; i < t->ps.npeers; i++)
		pwp_have(t, t->ps.peers[i], ip->index);
	torrent_touch_all(t);
}

/*
 * A write failed: a full or failing disk.  The pieces given up stay
 * missing (nothing is marked had that is not stored), the download
 * pauses and tries again later, so freeing space lets it finish.
 */
static void
torrent_disk_failed(struct torrent *t)
{
	for (size_t i = 0; i < t->in.ngiven_up; i++) {
		log_msg(t->log, LOG_ERROR, _("cannot write piece %u: %s; "
		    "paused, retrying in %d s"), t->in.given_up[i],
		    strerror(t->in.err), TORRENT_DISK_RETRY_MS / 1000);
		trace_emit(t->trace, "disk_error", "\"index\":%u",
		    t->in.given_up[i]);
	}
	t->in.ngiven_up = 0;
	torrent_set_paused(t, true, "disk error");
	t->disk_retry_ms = t->sess->now_ms + TORRENT_DISK_RETRY_MS;
}

static void
torrent_on_block(struct torrent *t, struct peer *p, struct pwp_event *ev)
{
	if (ev->result == INTAKE_IGNORED)
		return;
	if (ev->result == INTAKE_DISK_ERROR) {
		torrent_disk_failed(t);
		return;
	}
	/* Endgame: others asked for the same block; cancel theirs. */
	for (size_t i = 0; i < t->ps.npeers; i++) {
		struct peer *q = t->ps.peers[i];

		if (q != p && peer_reqs_has(q, &ev->b)) {
			pwp_cancel(q, &ev->b);
			torrent_mark_dirty(t, q);
		}
	}
	if (ev->result == INTAKE_VERIFIED)
		torrent_piece_verified(t, &ev->piece);
	else if (ev->result == INTAKE_FAILED)
		torrent_piece_failed(t, &ev->piece);
}

static void
torrent_on_metadata(struct torrent *t, uint64_t now_ms)
{
	struct thr_error err;
	uint32_t bad[16];
	size_t nbad = 0, size = t->md.size;
	int rc;

	rc = metadata_verify(&t->md, bad, 16, &nbad);
	if (rc == THR_EPROTO) {
		log_msg(t->log, LOG_WARN, "%s", _("metadata does not match "
		    "the info-hash; asking again"));
		for (size_t i = 0; i < nbad; i++) {
			struct peer *q = peerset_find(&t->ps, bad[i]);

			if (q != NULL) {
				peer_kill(q, "sent bad metadata");
				torrent_mark_dirty(t, q);
			}
		}
		/* The size itself may have been the lie: start over with
		 * the next peer's. */
		metadata_release(&t->md);
		return;
	}
	memset(&err, 0, sizeof(err));
	if (rc != 0)
		return;
	if ((rc = tmeta_adopt(t, &err)) != 0) {
		/* The hash matched, so the torrent itself is bad. */
		t->fatal = rc;
		snprintf(t->fatal_msg, sizeof(t->fatal_msg),
		    "the torrent's metadata is invalid: %s", err.msg);
		return;
	}
	log_msg(t->log, LOG_INFO, _("metadata received: %zu bytes, %u pieces, "
	    "%zu files, in %.1f s"), size, t->mi.npieces, t->mi.nfiles,
	    (double)(now_ms - t->meta_started_ms) / 1000);
	trace_emit(t->trace, "metadata", "\"bytes\":%zu,\"pieces\":%u", size,
	    t->mi.npieces);
	tmeta_save(t, t->md.data, t->md.size);
	metadata_release(&t->md);
	if ((rc = torrent_attach(t, NULL, &err)) != 0) {
		t->fatal = rc;
		snprintf(t->fatal_msg, sizeof(t->fatal_msg), "%s", err.msg);
		return;
	}
	for (size_t i = 0; i < t->ps.npeers; i++)
		pwp_adopt_pieces(t, t->ps.peers[i]);
	torrent_touch_all(t);
}

/* Unchoke interested peers into free upload slots at once rather than at
 * the next choke round (choker.h). */
static void
torrent_fill_slots(struct torrent *t)
{
	struct choker_cand cand[PEERSET_MAX_PEERS];
	uint32_t ids[CHOKER_MAX_CAND];
	size_t n = 0, m;

	if (t->phase == TORRENT_CHECKING || !t->have_meta)
		return;
	for (size_t i = 0; i < t->ps.npeers; i++) {
		struct peer *p = t->ps.peers[i];

		if (p->phase != PEER_ACTIVE)
			continue;
		memset(&cand[n], 0, sizeof(cand[n]));
		cand[n].id = p->id;
		cand[n].interested = p->peer_interested;
		cand[n++].choked = p->am_choking;
	}
	m = choker_fill(&t->ch, cand, n, t->sess->now_ms, ids);
	for (size_t i = 0; i < m; i++) {
		struct peer *p = peerset_find(&t->ps, ids[i]);

		pwp_set_choke(t, p, false);
		torrent_mark_dirty(t, p);
	}
}

static void
torrent_apply(struct torrent *t, struct peer *p, struct pwp_event *ev,
    uint64_t now_ms)
{
	switch (ev->kind) {
	case PWP_EV_NONE:
		break;
	case PWP_EV_BLOCK:
		torrent_on_block(t, p, ev);
		break;
	case PWP_EV_DISK_ERROR:
		torrent_disk_failed(t);
		break;
	case PWP_EV_INTERESTED:
		torrent_fill_slots(t);
		break;
	case PWP_EV_DHT_NODE:
		if (t->sess->dht != NULL)
			(void)dht_add_bootstrap(t->sess->dht, &ev->addr,
			    now_ms);
		break;
	case PWP_EV_METADATA:
		torrent_on_metadata(t, now_ms);
		break;
	}
}

/* --- peers ---------------------------------------------------------------- */

struct peer *
torrent_peer_add(struct torrent *t, const struct thr_addr *a, bool incoming,
    enum peer_source src, enum peer_transport tp, uint64_t now_ms)
{
	struct peer *p;

	session_clock(t->sess, now_ms);
	p = peerset_add(&t->ps, t->sess->next_peer_id + 1, a, incoming,
	    t->mi.npieces, src, now_ms);
	if (p == NULL)
		return NULL;
	if (peerix_put(&t->sess->ix, p->id, t, p) != 0) {
		peerset_remove(&t->ps, p, t->sess->opts.crypto,
		    t->sess->opts.transport, now_ms, NULL);
		return NULL;
	}
	t->sess->next_peer_id++;
	p->transport = tp;
	/* Cannot fail: ids are new, and the flows outnumber the peers. */
	(void)upsched_add(&t->sess->upq, p->id);
	if (trace_on(t->trace)) {
		char as[ADDR_STR_MAX];

		addr_format(&p->addr, as, sizeof(as));
		trace_emit(t->trace, "connect",
		    "\"peer\":%u,\"addr\":\"%s\",\"dir\":\"%s\","
		    "\"source\":\"%s\",\"transport\":\"%s\"", p->id, as,
		    incoming ? "in" : "out", peer_source_name(p->source),
		    peer_transport_name(tp));
	}
	return p;
}

void
torrent_peer_connected(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	struct peerset_known *k = peerset_known_find(&t->ps, &p->addr);

	session_clock(t->sess, now_ms);
	pwp_connected(t, p, k != NULL && k->plain_only, now_ms);
}

void
torrent_peer_input(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	struct pwp_event ev;

	if (pwp_input_begin(t, p, now_ms))
		while (pwp_input_next(t, p, now_ms, &ev))
			torrent_apply(t, p, &ev, now_ms);
	if (pwp_input_end(t, p, now_ms, &ev))
		torrent_apply(t, p, &ev, now_ms);
}

void
torrent_peer_outgoing(struct torrent *t, struct peer *p)
{
	(void)t;
	pwcrypt_outgoing(p);
}

void
torrent_peer_sent(struct torrent *t, struct peer *p, size_t n,
    uint64_t now_ms)
{
	session_clock(t->sess, now_ms);
	pwp_sent(p, n, now_ms);
	/* A buffer that drained may take the next block: back into the
	 * upload's round (upsched.h). */
	if (p->qlen > 0 && p->out.len < PEER_OUT_LOW)
		upsched_wake(&t->sess->upq, p->id);
}

void
torrent_peer_remove(struct torrent *t, struct peer *p, uint64_t now_ms)
{
	struct thr_addr a = p->addr;
	bool refused;

	session_clock(t->sess, now_ms);
	pwp_gone(t, p);
	choker_gone(&t->ch, p->id);
	upsched_remove(&t->sess->upq, p->id);
	peerix_del(&t->sess->ix, p->id);
	peerset_remove(&t->ps, p, t->sess->opts.crypto,
	    t->sess->opts.transport, now_ms, &refused);
	if (refused) {
		char as[ADDR_STR_MAX];

		/* The closes themselves are routine (logged at debug): say
		 * once what they mean. */
		addr_format(&a, as, sizeof(as));
		log_msg(t->log, LOG_INFO, _("peer %s refused the encrypted "
		    "handshake, and --encryption require allows no plaintext; "
		    "trying it less often"), as);
	}
	t->changes++;
}

/* --- time ----------------------------------------------------------------- */

static void
torrent_choke_round(struct torrent *t, uint64_t now_ms)
{
	struct choker_cand cand[PEERSET_MAX_PEERS];
	uint32_t ids[CHOKER_MAX_CAND + 1], turn;
	size_t n = 0, m;

	for (size_t i = 0; i < t->ps.npeers; i++) {
		struct peer *p = t->ps.peers[i];

		if (p->phase != PEER_ACTIVE || !p->peer_interested)
			continue;
		cand[n].id = p->id;
		cand[n].interested = true;
		cand[n].choked = p->am_choking;
		cand[n].rate_down = rate_get(&p->down, now_ms);
		cand[n].rate_up = rate_get(&p->up, now_ms);
		cand[n].unchoked_ms = p->unchoked_ms;
		cand[n].choked_ms = p->choked_ms;
		n++;
	}
	m = choker_round(&t->ch, t->phase == TORRENT_SEEDING, cand, n,
	    &t->sess->rng[SESSION_RNG_CHOKER], now_ms, ids, &turn);
	if (turn != 0 && peerset_find(&t->ps, turn) != NULL)
		peerset_find(&t->ps, turn)->unchoked_ms = now_ms;
	for (size_t i = 0; i < t->ps.npeers; i++) {
		struct peer *p = t->ps.peers[i];
		bool unchoke = false;

		if (p->phase != PEER_ACTIVE)
			continue;
		for (size_t j = 0; j < m && !unchoke; j++)
			unchoke = ids[j] == p->id;
		pwp_set_choke(t, p, !unchoke);
	}
}

uint64_t
torrent_tick(struct torrent *t, uint64_t now_ms)
{
	session_clock(t->sess, now_ms);
	if (t->phase == TORRENT_CHECKING)
		return now_ms;		/* checking goes on at once */
	if (trace_on(t->trace) && now_ms >= t->next_sample_ms) {
		t->next_sample_ms = now_ms + TORRENT_RATE_SAMPLE_MS;
		tstats_trace_rates(t, now_ms);
	}
	pwp_ext_expire(t, now_ms);
	for (size_t i = 0; i < t->ps.npeers; i++) {
		pwp_ext_tick(t, t->ps.peers[i], now_ms);
		pwp_tick(t, t->ps.peers[i], now_ms);
	}
	if (!t->have_meta)
		return now_ms + SESSION_TICK_MS;
	if (t->disk_retry_ms != 0 && now_ms >= t->disk_retry_ms) {
		t->disk_retry_ms = 0;
		log_msg(t->log, LOG_INFO, "%s",
		    _("retrying after the write error"));
		torrent_set_paused(t, false, "disk retry");
	}
	if (choker_due(&t->ch, now_ms))
		torrent_choke_round(t, now_ms);
	else
		torrent_fill_slots(t);
	torrent_settle(t, now_ms);
	return now_ms + SESSION_TICK_MS;
}

/* --- commands ------------------------------------------------------------- */

int
torrent_set_file_wanted(struct torrent *t, size_t i, bool want)
{
	int rc;

	if (i >= t->mi.nfiles || !t->have_meta)
		return THR_EINVAL;
	if (!selection_set(&t->sel, i, want))
		return 0;
	log_msg(t->log, LOG_NOTE, want ? _("file %zu selected") :
	    _("file %zu skipped"), i + 1);
	if (t->phase == TORRENT_CHECKING)
		return 0;	/* applied when the check ends */
	if ((rc = selection_apply(&t->sel, &t->mi, &t->pk, &t->have)) != 0)
		return rc;
	/* The choice is kept at once, not only at a clean exit. */
	torrent_save_resume(t);
	t->changes++;
	if (picker_complete(&t->pk)) {
		if (t->phase == TORRENT_DOWNLOADING)
			torrent_on_complete(t);
	} else if (t->phase == TORRENT_SEEDING) {
		torrent_set_phase(t, TORRENT_DOWNLOADING, "file selected");
		/* Seeds we left alone have something for us again. */
		peerset_unhold_seeds(&t->ps);
	}
	for (size_t k = 0; k < t->ps.npeers; k++)
		if (t->ps.peers[k]->phase == PEER_ACTIVE)
			pwp_update_interest(t, t->ps.peers[k]);
	torrent_touch_all(t);
	return 0;
}

void
torrent_set_strategy(struct torrent *t, enum picker_strategy st)
{
	const char *name = picker_strategy_name(st);

	t->pk.strategy = st;
	t->changes++;
	trace_emit(t->trace, "strategy", "\"strategy\":\"%s\"", name);
	log_msg(t->log, LOG_INFO, _("strategy %s"), _(name));
}

enum picker_strategy
torrent_strategy(const struct torrent *t)
{
	return t->pk.strategy;
}

void
torrent_save_resume(struct torrent *t)
{
	struct thr_error err;
	struct buf b;
	int rc;

	if (t->phase == TORRENT_CHECKING || !store_is_open(&t->st))
		return;
	memset(&err, 0, sizeof(err));
	buf_init(&b, RESUME_MAX_SIZE);
	if ((rc = resume_encode(&t->mi, &t->st, &t->have, t->sel.wanted,
	    &b)) != 0)
		thr_error_set(&err, rc, 0, "cannot encode the resume record");
	else
		rc = t->st.ops->record_save(t->st.ctx, b.data, b.len, &err);
	buf_release(&b);
	if (rc != 0)
		log_msg(t->log, LOG_WARN,
		    _("cannot save the resume record: %s"), err.msg);
}

void
torrent_set_paused(struct torrent *t, bool paused, const char *why)
{
	if (t->paused == paused)
		return;
	t->paused = paused;
	t->changes++;
	log_msg(t->log, LOG_INFO, "%s", paused ? _("paused") : _("resumed"));
	trace_emit(t->trace, paused ? "pause" : "resume", "\"why\":\"%s\"",
	    why);
	if (paused) {
		for (size_t i = 0; i < t->ps.npeers; i++)
			peer_kill(t->ps.peers[i], "paused");
		torrent_touch_all(t);
		return;
	}
	/* Resume: every address may be tried again at once. */
	peerset_retry_all(&t->ps);
	announcer_now(&t->ann);
}

/* --- summaries ------------------------------------------------------------ */

bool
torrent_complete(const struct torrent *t)
{
	return t->have_meta && t->phase != TORRENT_CHECKING &&
	    picker_complete(&t->pk);
}

bool
torrent_finished(const struct torrent *t)
{
	if (!torrent_complete(t) || t->opts.seed_ratio < 0)
		return false;
	if (t->opts.seed_ratio == 0)
		return true;
	return (double)t->uploaded >=
	    t->opts.seed_ratio * (double)t->mi.total_length;
}

/*
 * Waiting for the next tick to notice a finished run cost up to a second
 * on every download; the tracker's "completed" announce is the one thing
 * worth a short wait, since "stopped" replaces it once we quit.
 */
void
torrent_settle(struct torrent *t, uint64_t now_ms)
{
	if (t->phase != TORRENT_SEEDING || !torrent_finished(t))
		return;
	if (t->finish_by_ms == 0)
		t->finish_by_ms = now_ms + TORRENT_FINISH_WAIT_MS;
	if (t->ann.phase != ANNOUNCER_NONE &&
	    t->ann.event == TRACKER_EVENT_COMPLETED && now_ms < t->finish_by_ms)
		return;
	/* A seeder that falls silent looks crashed: say why it stops
	 * (with --seed-ratio 0 the user asked for exactly this). */
	if (t->opts.seed_ratio > 0)
		log_msg(t->log, LOG_NOTE, _("seeding stopped: ratio %.2f "
		    "reached (--seed-ratio %g; a negative ratio seeds until "
		    "you quit)"), t->mi.total_length > 0 ?
		    (double)t->uploaded / (double)t->mi.total_length : 0.0,
		    t->opts.seed_ratio);
	torrent_set_phase(t, TORRENT_DONE, "seeding goal reached");
}

double
torrent_percent(const struct torrent *t)
{
	if (t->sel.wanted_total == 0)
		return t->phase == TORRENT_CHECKING || !t->have_meta ? 0.0 :
		    100.0;
	return 100.0 * (double)(t->sel.wanted_total - t->sel.left) /
	    (double)t->sel.wanted_total;
}

/* --- trackers ------------------------------------------------------------- */

bool
torrent_announce_next(struct torrent *t, uint64_t now_ms,
    struct tracker_announce *a, const char **url)
{
	struct announcer_stats st;

	session_clock(t->sess, now_ms);
	if (t->phase == TORRENT_CHECKING)
		return false;
	tstats_announce(t, &st);
	return announcer_next(&t->ann, now_ms, &st, a, url);
}

void
torrent_announce_result(struct torrent *t, int status,
    struct tracker_response *r, const char *errmsg, uint64_t now_ms)
{
	session_clock(t->sess, now_ms);
	announcer_result(&t->ann, status, r, errmsg, &t->ps, now_ms);
	t->changes++;
}

void
torrent_announce_stop(struct torrent *t)
{
	announcer_stop(&t->ann);
}
