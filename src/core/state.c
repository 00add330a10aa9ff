/*
 * state.c: the session: what happens to the torrent state when bytes,
 * time or tracker answers arrive.  See state.h for the data model.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "hash.h"
#include "i18n.h"
#include "peerid.h"
#include "resume.h"
#include "state_int.h"
#include "wire.h"

static void	state_set_phase(struct thr_state *, enum state_phase);

/*
 * Parse a --files selection: 1-based indexes and ranges, "1,3-5".
 * Fills s->file_wanted.
 */
static int
parse_selection(struct thr_state *s, const char *spec, struct thr_error *err)
{
	const char *p = spec;

	memset(s->file_wanted, 0, s->mi.nfiles);
	if (*p == '\0')
		goto bad;
	while (*p != '\0') {
		char *end;
		unsigned long a, b;

		/* strtoul would accept " 1" and "+1": digits only. */
		if (*p < '0' || *p > '9')
			goto bad;

		errno = 0;
		a = strtoul(p, &end, 10);
		if (end == p || errno != 0)
			goto bad;
		b = a;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				goto bad;
			b = strtoul(p, &end, 10);
			if (end == p || errno != 0)
				goto bad;
		}
		if (a < 1 || b < a || b > s->mi.nfiles)
			return thr_error_set(err, THR_EINVAL, 0,
			    "--files: %lu-%lu is not within 1-%zu", a, b,
			    s->mi.nfiles);
		for (unsigned long i = a; i <= b; i++)
			s->file_wanted[i - 1] = 1;
		if (*end == ',' && end[1] != '\0')
			end++;
		else if (*end != '\0')
			goto bad;
		p = end;
	}
	return 0;
bad:
	return thr_error_set(err, THR_EINVAL, (size_t)(p - spec),
	    "--files wants indexes such as 1,3-5, not '%s'", spec);
}

/*
 * Mark the pieces of selected files wanted (a piece shared with a
 * selected file is wanted too) and recount the bytes left.
 */
static int
apply_selection(struct thr_state *s)
{
	uint64_t plen = s->mi.piece_length;
	uint8_t *want = calloc(s->mi.npieces ? s->mi.npieces : 1, 1);
	int rc = 0;

	if (want == NULL)
		return THR_ENOMEM;
	for (size_t f = 0; f < s->mi.nfiles; f++) {
		const struct metainfo_file *mf = &s->mi.files[f];

		if (!s->file_wanted[f] || mf->length == 0)
			continue;
		for (uint64_t i = mf->offset / plen;
		    i <= (mf->offset + mf->length - 1) / plen; i++)
			want[i] = 1;
	}
	s->wanted_total = 0;
	s->left = 0;
	for (uint32_t i = 0; i < s->mi.npieces && rc == 0; i++) {
		rc = picker_set_wanted(&s->pk, i, want[i]);
		if (!want[i])
			continue;
		s->wanted_total += metainfo_piece_size(&s->mi, i);
		if (!bitfield_get(&s->have, i))
			s->left += metainfo_piece_size(&s->mi, i);
	}
	free(want);
	return rc;
}

/* (Re)build the picker over the pieces we have.  Pieces in memory are
 * bounded by bytes (STATE_ACTIVE_BYTES), never by the torrent's size. */
static int
picker_setup(struct thr_state *s, const struct bitfield *have)
{
	size_t max_active = STATE_ACTIVE_BYTES / s->mi.piece_length;
	int rc;

	if (max_active < 4)
		max_active = 4;
	if (max_active > 512)
		max_active = 512;
	if ((rc = picker_init(&s->pk, &s->mi, have, max_active)) != 0)
		return rc;
	s->pk.strategy = s->opts.strategy;
	s->pk.keep_data = false;	/* blocks go straight to disk */
	s->strategy = picker_strategy_name(s->opts.strategy);
	return apply_selection(s);
}
static void	update_interest(struct thr_state *, struct peer *);
static void	request_more(struct thr_state *, struct peer *, uint64_t);
static void	fill_free_slots(struct thr_state *);

uint64_t
state_rng_seed(const struct thr_state *s, enum state_rng which)
{
	return rng_stream_seed(s->opts.seed, (uint64_t)which);
}

/* Peer ids follow the Azureus convention: "-TH0100-" then random bytes. */
static void
make_peer_id(struct thr_state *s)
{
	static const char alnum[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

	memcpy(s->peer_id, "-TH0100-", 8);
	for (int i = 8; i < 20; i++)
		s->peer_id[i] = (uint8_t)alnum[rng_below(&s->rng,
		    sizeof(alnum) - 1)];
}

static uint32_t
rng_cb(void *ctx)
{
	return rng_next(ctx);
}

/*
 * A magnet link: its trackers become the torrent's, its peers are dialled
 * like --peer ones, and if the state directory holds the info dict from
 * an earlier run the torrent is complete at once.
 */
static int
load_magnet(struct thr_state *s, struct thr_error *err)
{
	const char *uri = s->opts.torrent_path;
	struct magnet m;
	char path[4096];
	int rc;

	if ((rc = magnet_parse(uri, strlen(uri), &m, err)) != 0)
		return rc;
	if (s->opts.state_dir != NULL &&
	    resume_state_file(s->opts.state_dir, m.info_hash, ".torrent",
	    path, sizeof(path)) == 0) {
		struct thr_error e2;

		memset(&e2, 0, sizeof(e2));
		rc = metainfo_load(&s->mi, path, &e2);
		if (rc == 0 && memcmp(s->mi.info_hash, m.info_hash, 20) == 0) {
			s->have_meta = true;
			log_msg(&s->log, LOG_INFO, _("metadata loaded from %s"),
			    path);
		} else {
			if (rc != THR_ENOENT && rc != 0)
				log_msg(&s->log, LOG_WARN, _("saved metadata "
				    "not used: %s"), e2.msg);
			metainfo_release(&s->mi);
		}
	}
	if (!s->have_meta) {
		memcpy(s->mi.info_hash, m.info_hash, 20);
		s->mi.name = m.name;	/* shown until the metadata arrives */
		m.name = NULL;
	}
	/* The link's trackers as one more tier (BEP 12 shuffles it). */
	if (m.ntrackers > 0) {
		struct metainfo_tier *t = realloc(s->mi.tiers,
		    (s->mi.ntiers + 1) * sizeof(*t));

		if (t == NULL) {
			magnet_release(&m);
			return thr_error_set(err, THR_ENOMEM, 0,
			    "out of memory");
		}
		s->mi.tiers = t;
		t[s->mi.ntiers].urls = m.trackers;
		t[s->mi.ntiers].nurls = m.ntrackers;
		s->mi.ntiers++;
		m.trackers = NULL;
		m.ntrackers = 0;
	}
	for (size_t i = 0; i < m.npeers; i++)
		state_known_add(s, &m.peers[i], PEER_SRC_MANUAL);
	/* Web seeds wait in mi until the metadata is here (state_ext.c
	 * carries them over). */
	for (size_t i = 0; i < m.nwebseeds; i++)
		if (metainfo_add_webseed_url(&s->mi, m.webseeds[i],
		    strlen(m.webseeds[i])) != 0) {
			magnet_release(&m);
			return thr_error_set(err, THR_ENOMEM, 0,
			    "out of memory");
		}
	magnet_release(&m);
	return 0;
}

/* The selection of the last run, from the resume record. */
static void
load_selection(struct thr_state *s)
{
	struct thr_error e2;
	size_t n = 0;
	int rc;

	memset(&e2, 0, sizeof(e2));
	rc = resume_load_sel(s->resume_file, &s->mi, s->file_wanted, &n,
	    &e2);
	if (rc == 0 && n > 0)
		log_msg(&s->log, LOG_NOTE, ngettext("%zu file skipped, as in "
		    "the last run", "%zu files skipped, as in the last run", n),
		    n);
	else if (rc != 0 && rc != THR_ENOENT)
		log_msg(&s->log, LOG_INFO, _("selection not restored: %s"),
		    e2.msg);
}

/*
 * One run per torrent and download directory: the lock file sits beside
 * the resume record and has its key.  The directory is made first (it
 * is the user's, and its real path is the key); no file in it is.
 */
static int
state_lock(struct thr_state *s, struct thr_error *err)
{
	const struct state_opts *o = &s->opts;
	char path[sizeof(s->resume_file)];
	struct thr_error e2;
	long owner = 0;
	int rc;

	if (o->state_dir == NULL)
		return 0;
	if ((rc = storage_make_dir(o->dir, err)) != 0)
		return rc;
	errno = 0;
	rc = resume_path(o->state_dir, &s->mi, o->dir, path, sizeof(path));
	if (rc == THR_EIO)
		return thr_error_set(err, rc, 0, "%s: %s", o->dir,
		    strerror(errno));
	if (rc == THR_ELIMIT)
		return thr_error_set(err, rc, 0, _("state directory path too "
		    "long: %s"), o->state_dir);
	if (rc != 0)
		return thr_error_set(err, rc, 0, "%s", thr_strerror(rc));
	memset(&e2, 0, sizeof(e2));
	rc = resume_lock(path, &s->lock_fd, &owner, &e2);
	if (rc == THR_EBUSY && owner > 0)
		return thr_error_set(err, rc, 0, _("another thorrent (pid %ld) "
		    "is running this torrent in %s; stop it first"), owner,
		    o->dir);
	if (rc == THR_EBUSY)
		return thr_error_set(err, rc, 0, _("another thorrent is "
		    "running this torrent in %s; stop it first"), o->dir);
	if (rc != 0)
		return thr_error_set(err, rc, 0, _("cannot lock the torrent: "
		    "%s"), e2.msg);
	s->locked = true;
	return 0;
}

int
state_attach(struct thr_state *s, struct thr_error *err)
{
	const struct state_opts *o = &s->opts;
	int rc;

	s->have_meta = true;
	bitfield_release(&s->have);
	if ((rc = bitfield_init(&s->have, s->mi.npieces)) != 0)
		return thr_error_set(err, rc, 0, "out of memory");
	s->check_span = STATE_CHECK_SPAN / s->mi.piece_length;
	if (s->check_span < 1)
		s->check_span = 1;
	if (s->check_span > STATE_CHECK_MAX_SPAN)
		s->check_span = STATE_CHECK_MAX_SPAN;
	s->scratch = malloc((size_t)s->check_span * s->mi.piece_length);
	s->file_wanted = malloc(s->mi.nfiles ? s->mi.nfiles : 1);
	if (s->scratch == NULL || s->file_wanted == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	memset(s->file_wanted, 1, s->mi.nfiles);
	if (o->state_dir != NULL &&
	    resume_path(o->state_dir, &s->mi, o->dir, s->resume_file,
	    sizeof(s->resume_file)) != 0)
		s->resume_file[0] = '\0';
	/* --files says what to fetch; without it, what the user chose in
	 * the last run (kept in the resume record) still holds. */
	if (o->files != NULL &&
	    (rc = parse_selection(s, o->files, err)) != 0)
		return rc;
	if (o->files == NULL && s->resume_file[0] != '\0')
		load_selection(s);
	if ((rc = storage_open_sel(&s->st, &s->mi, o->dir, s->file_wanted,
	    err)) != 0)
		return rc;
	s->st_open = true;
	if (s->resume_file[0] == '\0' && o->state_dir != NULL &&
	    resume_path(o->state_dir, &s->mi, o->dir, s->resume_file,
	    sizeof(s->resume_file)) != 0)
		s->resume_file[0] = '\0';
	if ((rc = picker_setup(s, NULL)) != 0)
		return thr_error_set(err, rc, 0, "out of memory");
	s->phase = STATE_CHECKING;
	s->changes++;
	return 0;
}

int
state_init(struct thr_state *s, const struct state_opts *o, uint64_t now_ms,
    struct thr_error *err)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->opts = *o;
	s->log.level = o->log_level;
	s->log.fp = stderr;
	rng_seed(&s->rng, state_rng_seed(s, STATE_RNG_SESSION));
	rng_seed(&s->rng_picker, state_rng_seed(s, STATE_RNG_PICKER));
	rng_seed(&s->rng_choker, state_rng_seed(s, STATE_RNG_CHOKER));
	rng_seed(&s->rng_mse, state_rng_seed(s, STATE_RNG_MSE));
	rng_seed(&s->rng_tracker, state_rng_seed(s, STATE_RNG_TRACKER));
	rng_seed(&s->rng_upload, state_rng_seed(s, STATE_RNG_UPLOAD));
	make_peer_id(s);
	s->announce_key = rng_next(&s->rng);
	s->next_peer_id = 1;
	s->start_ms = now_ms;
	rate_init(&s->down, now_ms);
	rate_init(&s->up, now_ms);
	bucket_init(&s->up_limit, o->max_up, now_ms);
	bucket_init(&s->down_limit, o->max_down, now_ms);
	upsched_init(&s->upq, UPSCHED_QUANTUM);

	if (o->trace_path != NULL &&
	    (rc = trace_open(&s->trace, o->trace_path, err)) != 0)
		goto fail;
	s->known = calloc(STATE_MAX_KNOWN, sizeof(*s->known));
	if (s->known == NULL) {
		rc = thr_error_set(err, THR_ENOMEM, 0, "out of memory");
		goto fail;
	}
	if (strncmp(o->torrent_path, "magnet:", 7) == 0)
		rc = load_magnet(s, err);
	else if ((rc = metainfo_load(&s->mi, o->torrent_path, err)) == 0)
		s->have_meta = true;
	if (rc != 0)
		goto fail;
	if (s->mi.trackers_dropped > 0)
		log_msg(&s->log, LOG_WARN, _("the torrent lists %zu trackers "
		    "past the first %u; ignoring them"), s->mi.trackers_dropped,
		    METAINFO_MAX_TRACKERS);
	if ((rc = tracker_list_init(&s->tl, &s->mi, rng_cb, &s->rng)) != 0) {
		thr_error_set(err, rc, 0, "out of memory");
		goto fail;
	}
	if (o->crypto != STATE_CRYPTO_OFF) {
		struct thr_error e2;

		memset(&e2, 0, sizeof(e2));
		if (mse_lib_init(&s->mse_lib, &e2) == 0)
			s->mse_ok = true;
		else if (o->crypto == STATE_CRYPTO_REQUIRE) {
			rc = thr_error_set(err, THR_ENOENT, 0, "--encryption "
			    "require, but RC4 is not available: %s", e2.msg);
			goto fail;
		} else
			log_msg(&s->log, LOG_WARN, _("encryption unavailable "
			    "(%s); plaintext connections only"), e2.msg);
	}
	if ((rc = state_lock(s, err)) != 0)
		goto fail;
	s->tracker_phase = tracker_list_current(&s->tl) ? TRACKER_IDLE :
	    TRACKER_NONE;
	s->tracker_event = TRACKER_EVENT_STARTED;
	s->tracker_seeders = s->tracker_leechers = -1;
	snprintf(s->tracker_status, sizeof(s->tracker_status), "%s",
	    s->tracker_phase == TRACKER_NONE ? _("no tracker") : _("waiting"));
	for (size_t i = 0; i < o->ngiven; i++)
		state_known_add(s, &o->given[i], PEER_SRC_MANUAL);
	if (!s->have_meta) {
		if ((rc = bitfield_init(&s->have, 0)) != 0) {
			thr_error_set(err, rc, 0, "out of memory");
			goto fail;
		}
		s->phase = STATE_METADATA;
		s->meta_started_ms = now_ms;
		return 0;
	}
	if ((rc = state_attach(s, err)) != 0)
		goto fail;
	return 0;
fail:
	state_release(s);
	return rc;
}

void
state_release(struct thr_state *s)
{
	for (size_t i = 0; i < s->npeers; i++)
		peer_free(s->peers[i]);
	s->npeers = 0;
	tracker_list_release(&s->tl);
	metadata_release(&s->md);
	dht_free(s->dht);
	s->dht = NULL;
	mse_lib_release(&s->mse_lib);
	s->mse_ok = false;
	picker_release(&s->pk);
	if (s->st_open)
		storage_close(&s->st);
	s->st_open = false;
	free(s->scratch);
	reorder_release(&s->ro);
	free(s->known);
	free(s->file_wanted);
	s->file_wanted = NULL;
	s->scratch = NULL;
	s->known = NULL;
	bitfield_release(&s->have);
	metainfo_release(&s->mi);
	trace_close(&s->trace);
	/* Last: the lock outlives every use of the data. */
	if (s->locked)
		close(s->lock_fd);
	s->locked = false;
}

static void
state_set_phase(struct thr_state *s, enum state_phase ph)
{
	static const char *const names[] = {
		"checking", "downloading", "seeding", "done", "metadata"
	};

	if (s->phase == ph)
		return;
	log_msg(&s->log, LOG_DEBUG, "phase %s -> %s", names[s->phase],
	    names[ph]);
	s->phase = ph;
}

void
state_check_step(struct thr_state *s, uint64_t now_ms)
{
	uint64_t budget = 0;

	if (s->phase != STATE_CHECKING)
		return;
	if (s->check_next == 0 && s->resume_file[0] != '\0') {
		struct thr_error err;
		int rc = resume_load(s->resume_file, &s->mi, &s->st, &s->have,
		    &err);

		if (rc == 0) {
			/* Trusted: every file is as it was at the save. */
			s->check_valid = s->have.count;
			s->check_next = s->mi.npieces;
			log_msg(&s->log, LOG_INFO, "%s",
			    _("resume record trusted"));
			s->check_start_ms = now_ms ? now_ms : 1;
		} else if (rc != THR_ENOENT)
			log_msg(&s->log, LOG_INFO, _("resume record not used "
			    "(%s); checking the data"), err.msg);
	}
	if (s->check_start_ms == 0)
		s->check_start_ms = now_ms ? now_ms : 1;
	while (s->check_next < s->mi.npieces && budget < STATE_CHECK_BYTES) {
		uint32_t i = s->check_next, n = 0;
		bool ok[STATE_CHECK_MAX_SPAN];

		/* A span: consecutive pieces with data from before this run
		 * (pieces over holes we just created cannot be valid). */
		while (i + n < s->mi.npieces && n < s->check_span &&
		    storage_range_existed(&s->st,
		    (uint64_t)(i + n) * s->mi.piece_length,
		    metainfo_piece_size(&s->mi, i + n)))
			n++;
		if (n == 0) {
			s->check_next++;
			continue;
		}
		s->check_next += n;
		if (storage_verify_span(&s->st, i, n, s->scratch, ok) != 0)
			memset(ok, 0, sizeof(ok));
		for (uint32_t k = 0; k < n; k++) {
			uint64_t sz = metainfo_piece_size(&s->mi, i + k);

			budget += sz;
			s->check_bytes += sz;
			if (ok[k]) {
				bitfield_set(&s->have, i + k);
				s->check_valid++;
			}
		}
	}
	if (s->check_next < s->mi.npieces)
		return;
	picker_release(&s->pk);
	if (picker_setup(s, &s->have) != 0) {
		s->fatal = THR_ENOMEM;
		snprintf(s->fatal_msg, sizeof(s->fatal_msg), "out of memory");
		return;
	}
	/* Peers that arrived while we checked (or fetched metadata) count
	 * toward availability in the new picker too. */
	for (size_t k = 0; k < s->npeers; k++) {
		struct peer *p = s->peers[k];

		if (p->phase == PEER_ACTIVE && p->got_first_msg)
			picker_add_bitfield(&s->pk, &p->have);
	}
	s->check_ms = now_ms - s->check_start_ms;
	log_msg(&s->log, LOG_INFO, _("resume: %u of %u pieces valid (read and "
	    "hashed %.1f MiB in %.3f s)"), s->check_valid, s->mi.npieces,
	    (double)s->check_bytes / 1048576, (double)s->check_ms / 1000);
	if (picker_complete(&s->pk)) {
		s->tracker_sent_completed = true;	/* not completed here */
		state_set_phase(s, STATE_SEEDING);
		log_msg(&s->log, LOG_INFO, "%s", _("complete"));
	} else
		state_set_phase(s, STATE_DOWNLOADING);
	for (size_t k = 0; k < s->npeers; k++)
		if (s->peers[k]->phase == PEER_ACTIVE) {
			update_interest(s, s->peers[k]);
			request_more(s, s->peers[k], now_ms);
		}
}

/* --- peers ------------------------------------------------------------ */

struct peer *
state_peer_find(const struct thr_state *s, uint32_t id)
{
	for (size_t i = 0; i < s->npeers; i++)
		if (s->peers[i]->id == id)
			return s->peers[i];
	return NULL;
}

bool
state_peer_connected_to(const struct thr_state *s, const struct thr_addr *a)
{
	for (size_t i = 0; i < s->npeers; i++)
		if (addr_equal(&s->peers[i]->addr, a))
			return true;
	return false;
}

struct peer *
state_peer_add(struct thr_state *s, const struct thr_addr *a, bool incoming,
    uint64_t now_ms)
{
	return state_peer_add_as(s, a, incoming, PEER_SRC_COUNT, PEER_TCP,
	    now_ms);
}

struct peer *
state_peer_add_as(struct thr_state *s, const struct thr_addr *a,
    bool incoming, enum peer_source src, enum peer_transport tp,
    uint64_t now_ms)
{
	struct peer *p;
	size_t cap = s->opts.max_peers > 0 &&
	    (size_t)s->opts.max_peers < STATE_MAX_PEERS ?
	    (size_t)s->opts.max_peers : STATE_MAX_PEERS;

	if (s->npeers >= cap || state_banned(s, a))
		return NULL;
	p = peer_new(s->next_peer_id++, a, incoming, s->mi.npieces, now_ms);
	if (p == NULL)
		return NULL;
	s->peers[s->npeers++] = p;
	/* Cannot fail: ids are new and UPSCHED_MAX_FLOWS > STATE_MAX_PEERS. */
	(void)upsched_add(&s->upq, p->id);
	for (size_t i = 0; !incoming && i < s->nknown; i++)
		if (addr_equal(&s->known[i].addr, a)) {
			p->source = s->known[i].source;
			break;
		}
	if (src != PEER_SRC_COUNT)
		p->source = src;
	p->transport = tp;
	if (trace_on(&s->trace)) {
		char as[ADDR_STR_MAX];
		addr_format(&p->addr, as, sizeof(as));
		trace_emit(&s->trace, "connect",
		    "\"peer\":%u,\"addr\":\"%s\",\"dir\":\"%s\","
		    "\"source\":\"%s\",\"transport\":\"%s\"", p->id, as,
		    incoming ? "in" : "out", peer_source_name(p->source),
		    peer_transport_name(tp));
	}
	return p;
}

/* Reserved bits we set: BEP 10 extension protocol (byte 5, 0x10),
 * BEP 6 fast extension (byte 7, 0x04) and, with the DHT on, BEP 5
 * (byte 7, 0x01). */
static const uint8_t our_reserved[8] = { 0, 0, 0, 0, 0, 0x10, 0, 0x04 };

static void
send_handshake(struct thr_state *s, struct peer *p)
{
	uint8_t hs[WIRE_HANDSHAKE_LEN];

	uint8_t rsv[8];

	memcpy(rsv, our_reserved, 8);
	if (s->dht != NULL)
		rsv[7] |= 0x01;
	wire_handshake_build(hs, s->mi.info_hash, s->peer_id, rsv);
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

/*
 * BEP 6 allowed fast set: k pieces derived from the peer's /24 and the
 * info-hash, so that every client computes the same set for an address.
 * IPv4 only, as the BEP defines it.
 */
static void
fast_allowed_set(struct thr_state *s, struct peer *p)
{
	uint8_t x[24];
	uint32_t k = s->mi.npieces < PEER_FAST_SET ? s->mi.npieces :
	    PEER_FAST_SET;

	p->nallowed_out = 0;
	if (p->addr.family != 4 || k == 0)
		return;
	memcpy(x, p->addr.ip, 3);
	x[3] = 0;
	memcpy(x + 4, s->mi.info_hash, 20);
	hash_sha1(x, sizeof(x), x);
	/* 20 bytes of hash give 5 candidates per round. */
	for (int round = 0; round < 64 && p->nallowed_out < k; round++) {
		for (int i = 0; i < 5 && p->nallowed_out < k; i++) {
			uint32_t idx = be32(x + 4 * i) % s->mi.npieces;
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
send_first_msgs(struct thr_state *s, struct peer *p)
{
	int rc = 0;

	if (!s->have_meta) {	/* a magnet: nothing to offer yet */
		if (p->fast && wire_put_simple(&p->out, WIRE_HAVE_NONE) != 0)
			peer_kill(p, "output buffer full");
		return;
	}
	if (p->fast && bitfield_full(&s->have))
		rc = wire_put_simple(&p->out, WIRE_HAVE_ALL);
	else if (p->fast && s->have.count == 0)
		rc = wire_put_simple(&p->out, WIRE_HAVE_NONE);
	else if (s->have.count > 0)	/* optional when empty (BEP 3) */
		rc = wire_put_bitfield(&p->out, s->have.bits,
		    bitfield_bytes(&s->have));
	if (p->fast) {
		fast_allowed_set(s, p);
		for (uint32_t i = 0; rc == 0 && i < p->nallowed_out; i++)
			if (bitfield_get(&s->have, p->allowed_out[i]))
				rc = wire_put_index(&p->out, WIRE_ALLOWED_FAST,
				    p->allowed_out[i]);
	}
	if (rc != 0)
		peer_kill(p, "output buffer full");
}

static bool
allowed_out(const struct peer *p, uint32_t index)
{
	for (uint32_t i = 0; i < p->nallowed_out; i++)
		if (p->allowed_out[i] == index)
			return true;
	return false;
}

static void
mse_rnd(void *ctx, uint8_t *out, size_t n)
{
	struct rng *r = ctx;

	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)rng_next(r);
}

/* The MSE engine for p, as initiator or receiver, per --encryption:
 * require offers RC4 only, prefer and full RC4 or plaintext; as the
 * receiver, prefer selects plaintext and full RC4 when both are offered
 * (an initiator only offers, the receiver selects). */
static struct mse *
crypto_new(struct thr_state *s, bool initiator)
{
	struct mse_config c;
	struct thr_error err;
	struct mse *m;

	memset(&c, 0, sizeof(c));
	c.initiator = initiator;
	c.skeys = (const uint8_t (*)[20])s->mi.info_hash;
	c.nskeys = 1;
	c.allowed = s->opts.crypto == STATE_CRYPTO_REQUIRE ? MSE_RC4 :
	    MSE_RC4 | MSE_PLAIN;
	c.prefer_plain = s->opts.crypto == STATE_CRYPTO_PREFER;
	c.rnd = mse_rnd;
	c.rnd_ctx = &s->rng_mse;
	if ((m = mse_new(&s->mse_lib, &c, &err)) == NULL)
		log_msg(&s->log, LOG_WARN, _("encryption: %s"), err.msg);
	return m;
}

static struct state_known *
known_find(struct thr_state *s, const struct thr_addr *a)
{
	for (size_t i = 0; i < s->nknown; i++)
		if (addr_equal(&s->known[i].addr, a))
			return &s->known[i];
	return NULL;
}

/*
 * The known address a is a seed while we seed (self false) or ourselves
 * (self true): hold it.  The hold starts when state_next_connect next
 * looks at it (which is on the same loop turn), so no clock is needed
 * here.  An address we did not dial has no entry: nothing to hold.
 */
static void
known_hold(struct thr_state *s, const struct thr_addr *a, bool self)
{
	struct state_known *k = known_find(s, a);
	char as[ADDR_STR_MAX];

	if (k == NULL || (self ? k->self : k->seed))
		return;
	if (self)
		k->self = true;
	else
		k->seed = true;
	k->hold_ms = 0;
	addr_format(a, as, sizeof(as));
	log_msg(&s->log, LOG_INFO, self ? _("%s is our own address; not "
	    "dialling it again for %u minutes") : _("%s is a seed, as we "
	    "are; not dialling it again for %u minutes"), as,
	    STATE_HOLD_MS / 60000);
}

/* p is a seed and so are we: close, and do not dial it again soon. */
static void
seeds_part(struct thr_state *s, struct peer *p)
{
	if (!p->incoming)
		known_hold(s, &p->addr, false);
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
self_found(struct thr_state *s, struct peer *p)
{
	if (!p->incoming) {
		known_hold(s, &p->addr, true);
		return;
	}
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *q = s->peers[i];

		if (q == p || q->incoming)
			continue;
		if (!(q->local.family != 0 && addr_equal(&q->local,
		    &p->addr)) && !(q->transport == PEER_UTP &&
		    addr_equal(&q->addr, &p->addr)))
			continue;
		known_hold(s, &q->addr, true);
		peer_kill(q, "connected to ourselves");
	}
}

void
state_peer_connected(struct thr_state *s, struct peer *p, uint64_t now_ms)
{
	struct state_known *k = known_find(s, &p->addr);

	p->last_recv_ms = now_ms;
	/* A web seed is HTTP behind a local engine: nothing to encrypt,
	 * and --encryption require is about peers. */
	if (p->transport == PEER_WEB) {
		p->phase = PEER_HANDSHAKE;
		send_handshake(s, p);
		return;
	}
	/* Outgoing: encrypted first unless this address refused it. */
	if (s->mse_ok && s->opts.crypto != STATE_CRYPTO_OFF &&
	    (k == NULL || !k->plain_only || s->opts.crypto ==
	    STATE_CRYPTO_REQUIRE) && (p->mse = crypto_new(s, true)) != NULL) {
		p->phase = PEER_CRYPTO;
		if (mse_start(p->mse, &p->out) != 0)
			peer_kill(p, "output buffer full");
		p->out_enc = p->out.len;
		return;
	}
	if (s->opts.crypto == STATE_CRYPTO_REQUIRE) {
		peer_kill(p, "encryption unavailable (--encryption require)");
		return;
	}
	p->phase = PEER_HANDSHAKE;
	send_handshake(s, p);
}

/*
 * Bytes of an MSE handshake, or the first bytes of an incoming
 * connection.  Returns true when the caller may go on parsing p->in as
 * BitTorrent (decrypted).
 */
static bool
crypto_input(struct thr_state *s, struct peer *p)
{
	struct thr_error err;
	size_t used = 0;
	int rc;

	if (p->phase == PEER_HANDSHAKE && p->incoming && !p->crypto_checked) {
		switch (mse_peek(p->in.data, p->in.len)) {
		case MSE_PEEK_MORE:
			return false;
		case MSE_PEEK_PLAIN:
			if (s->opts.crypto == STATE_CRYPTO_REQUIRE) {
				peer_kill(p, "plaintext handshake refused "
				    "(--encryption require)");
				return false;
			}
			p->crypto_checked = true;
			return true;
		case MSE_PEEK_ENCRYPTED:
			p->crypto_checked = true;
			if (!s->mse_ok || s->opts.crypto == STATE_CRYPTO_OFF) {
				peer_kill(p, "encrypted handshake refused "
				    "(encryption is off)");
				return false;
			}
			if ((p->mse = crypto_new(s, false)) == NULL) {
				peer_kill(p, "out of memory");
				return false;
			}
			p->phase = PEER_CRYPTO;
			break;
		}
	}
	if (p->phase != PEER_CRYPTO)
		return true;
	memset(&err, 0, sizeof(err));
	rc = mse_input(p->mse, p->in.data, p->in.len, &used, &p->out, &err);
	buf_consume(&p->in, used);
	p->out_enc = p->out.len;	/* the engine's bytes are final */
	if (rc == THR_EAGAIN)
		return false;
	if (rc != 0) {
		char why[sizeof(p->why)];

		snprintf(why, sizeof(why), "encryption handshake failed: %.60s",
		    err.msg);
		peer_kill(p, why);
		return false;
	}
	p->encrypted = mse_method(p->mse) == MSE_RC4;
	if (p->encrypted)
		mse_decrypt(p->mse, p->in.data, p->in.len);
	if (!p->incoming) {
		p->phase = PEER_HANDSHAKE;
		send_handshake(s, p);
	} else {
		size_t ialen;
		const uint8_t *ia = mse_ia(p->mse, &ialen);

		p->phase = PEER_HANDSHAKE;
		if (ialen > 0) {
			/* The initial payload comes first in the stream. */
			struct buf rest;

			buf_init(&rest, p->in.max);
			if (buf_append(&rest, p->in.data, p->in.len) != 0) {
				buf_release(&rest);
				peer_kill(p, "out of memory");
				return false;
			}
			buf_reset(&p->in);
			if (buf_append(&p->in, ia, ialen) != 0 ||
			    buf_append(&p->in, rest.data, rest.len) != 0) {
				buf_release(&rest);
				peer_kill(p, "handshake too long");
				return false;
			}
			buf_release(&rest);
		}
	}
	trace_emit(&s->trace, "encryption", "\"peer\":%u,\"method\":\"%s\"",
	    p->id, p->encrypted ? "rc4" : "plain");
	p->obfuscated = !p->encrypted;
	return true;
}

void
state_peer_outgoing(struct thr_state *s, struct peer *p)
{
	(void)s;
	if (p->encrypted && p->out_enc < p->out.len)
		mse_encrypt(p->mse, p->out.data + p->out_enc,
		    p->out.len - p->out_enc);
	p->out_enc = p->out.len;
}

static void
send_simple(struct peer *p, enum wire_id id)
{
	if (wire_put_simple(&p->out, id) != 0)
		peer_kill(p, "output buffer full");
}

static void
set_choke(struct thr_state *s, struct peer *p, bool choke)
{
	if (p->am_choking == choke)
		return;
	p->am_choking = choke;
	trace_emit(&s->trace, choke ? "choke" : "unchoke", "\"peer\":%u",
	    p->id);
	if (choke) {
		p->choked_ms = s->now_ms;
		p->unchoked_ms = 0;
	} else
		p->unchoked_ms = s->now_ms ? s->now_ms : 1;
	send_simple(p, choke ? WIRE_CHOKE : WIRE_UNCHOKE);
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
		if (allowed_out(p, b.index))
			peer_queue_push(p, &b);
		else if (wire_put_request(&p->out, WIRE_REJECT, b.index,
		    b.begin, b.length) != 0)
			peer_kill(p, "output buffer full");
	}
}

static void
update_interest(struct thr_state *s, struct peer *p)
{
	bool want = s->phase == STATE_DOWNLOADING &&
	    picker_interesting(&s->pk, &p->have);

	if (want == p->am_interested)
		return;
	p->am_interested = want;
	send_simple(p, want ? WIRE_INTERESTED : WIRE_NOT_INTERESTED);
	trace_emit(&s->trace, want ? "am_interested" : "am_not_interested",
	    "\"peer\":%u", p->id);
}

/* Give back every request in flight to p (choke, close). */
static void
drop_requests(struct thr_state *s, struct peer *p)
{
	for (uint32_t i = 0; i < p->nreqs; i++)
		picker_unrequest(&s->pk, &p->reqs[i]);
	picker_disown(&s->pk, p->id);
	/* Blocks already on the wire may still come; they are not lies. */
	p->unasked_ok += p->nreqs;
	p->nreqs = 0;
}

static uint64_t	retry_delay(const struct state_known *);

/*
 * With --encryption require, k hung up on our encrypted handshake: most
 * likely it speaks plaintext only, which we may not.  One info line per
 * address says so (the closes themselves are routine, logged at debug),
 * and each refusal counts as a failure, so the dial back-off grows
 * (retry_delay); the other transport is not tried at once either, so
 * TCP and uTP together make at most a few attempts a minute.
 */
static void
crypto_refused(struct thr_state *s, struct state_known *k)
{
	uint64_t next;
	char a[ADDR_STR_MAX];

	k->fails++;
	next = s->now_ms + retry_delay(k);
	if (k->next_try_ms < next)
		k->next_try_ms = next;
	if (k->crypto_refused)
		return;
	k->crypto_refused = true;
	addr_format(&k->addr, a, sizeof(a));
	log_msg(&s->log, LOG_INFO, _("peer %s refused the encrypted "
	    "handshake, and --encryption require allows no plaintext; "
	    "trying it less often"), a);
}

void
state_peer_remove(struct thr_state *s, uint32_t id)
{
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];

		if (p->id != id)
			continue;
		if (trace_on(&s->trace)) {
			char why[200];
			trace_emit(&s->trace, "disconnect",
			    "\"peer\":%u,\"reason\":\"%s\"", id,
			    trace_str(p->why[0] ? p->why : "closed", why,
			    sizeof(why)));
		}
		drop_requests(s, p);
		if (p->phase == PEER_ACTIVE && s->have_meta && p->got_first_msg)
			picker_remove_bitfield(&s->pk, &p->have);
		state_ext_peer_gone(s, p);
		for (size_t k = 0; k < s->nknown; k++)
			if (addr_equal(&s->known[k].addr, &p->addr)) {
				s->known[k].connected = false;
				/* It hung up on our encrypted handshake:
				 * with prefer, dial it again in plaintext
				 * at once; with require, say why once and
				 * back off. */
				if (p->phase == PEER_CRYPTO && !p->incoming &&
				    (s->opts.crypto == STATE_CRYPTO_PREFER ||
				    s->opts.crypto == STATE_CRYPTO_FULL) &&
				    !s->known[k].plain_only) {
					s->known[k].plain_only = true;
					s->known[k].next_try_ms = 0;
				} else if (p->phase == PEER_CRYPTO &&
				    !p->incoming &&
				    s->opts.crypto == STATE_CRYPTO_REQUIRE)
					crypto_refused(s, &s->known[k]);
				else if (p->phase != PEER_ACTIVE &&
				    !p->incoming && p->transport == PEER_TCP &&
				    s->opts.transport ==
				    STATE_TRANSPORT_BOTH &&
				    addr_is_loopback(&p->addr) &&
				    !s->known[k].no_utp &&
				    !s->known[k].try_utp) {
					/* TCP did not get through to a
					 * loopback peer: uTP next, now. */
					s->known[k].try_utp = true;
					s->known[k].next_try_ms = 0;
				}
			}
		if (s->optimistic_id == id)
			s->optimistic_id = 0;
		upsched_remove(&s->upq, id);
		peer_free(p);
		s->peers[i] = s->peers[--s->npeers];
		s->changes++;
		return;
	}
}

static bool
skip_cb(void *ctx, const struct picker_block *b)
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
pipeline_rate(struct peer *p, uint64_t now_ms)
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
pipeline_depth(struct peer *p, uint64_t now_ms)
{
	uint64_t rtt = p->lat_min_ms, want, min = PEER_MIN_REQS;

	if (p->transport == PEER_WEB) {
		want = rate_get(&p->down, now_ms) * 3 / WIRE_BLOCK;
		min = 32;
	} else if (p->lat_min_ms == UINT64_MAX)
		want = PEER_START_REQS;		/* nothing measured yet */
	else
		want = pipeline_rate(p, now_ms) * (rtt + PEER_QUEUE_MS) /
		    1000 / WIRE_BLOCK + 1;
	if (want < min)
		want = min;
	if (want > PEER_MAX_REQS)
		want = PEER_MAX_REQS;
	return (uint32_t)want;
}

static void
request_more(struct thr_state *s, struct peer *p, uint64_t now_ms)
{
	struct picker_block b;
	uint32_t depth;

	if (p->dead || p->phase != PEER_ACTIVE || !p->am_interested ||
	    s->phase != STATE_DOWNLOADING)
		return;
	/* Choked, a BEP 6 peer still serves its allowed fast pieces. */
	if (p->peer_choking && (!p->fast || p->nallowed_in == 0))
		return;
	depth = pipeline_depth(p, now_ms);
	while (p->nreqs < depth) {
		bool got;

		if (p->peer_choking)
			got = picker_pick_from(&s->pk, p->id, &p->have,
			    p->allowed_in, p->nallowed_in, skip_cb, p, &b);
		else
			got = (p->nsuggested > 0 &&
			    picker_pick_from(&s->pk, p->id, &p->have,
			    p->suggested, p->nsuggested, skip_cb, p, &b)) ||
			    picker_pick(&s->pk, p->id, &p->have,
			    &s->rng_picker, skip_cb, p, &b);
		if (!got)
			break;
		if (wire_put_request(&p->out, WIRE_REQUEST, b.index, b.begin,
		    b.length) != 0) {
			picker_unrequest(&s->pk, &b);
			break;
		}
		(void)peer_reqs_add(p, &b, now_ms);	/* depth <= max */
		trace_emit(&s->trace, "request",
		    "\"peer\":%u,\"index\":%u,\"begin\":%u,\"length\":%u",
		    p->id, b.index, b.begin, b.length);
	}
}

/* Tell everyone about a new piece, and re-evaluate interest in the peers
 * that had it: only they can have become uninteresting. */
static void
announce_have(struct thr_state *s, uint32_t index)
{
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];

		if (p->phase != PEER_ACTIVE || p->dead)
			continue;
		if (wire_put_have(&p->out, index) != 0)
			peer_kill(p, "output buffer full");
		if (bitfield_get(&p->have, index) || s->phase != STATE_DOWNLOADING)
			update_interest(s, p);
	}
}

static void
on_complete(struct thr_state *s)
{
	state_set_phase(s, STATE_SEEDING);
	log_msg(&s->log, LOG_INFO, "%s", _("complete"));
	reorder_release(&s->ro);	/* a seed needs none of it */
	/* Seeds have nothing to give each other. */
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];

		update_interest(s, p);
		if (p->phase == PEER_ACTIVE && bitfield_full(&p->have) &&
		    bitfield_full(&s->have))
			seeds_part(s, p);
	}
	if (!s->tracker_sent_completed && s->tracker_phase != TRACKER_NONE) {
		s->tracker_event = TRACKER_EVENT_COMPLETED;
		s->tracker_next_ms = 0;
		s->tracker_sent_completed = true;
	}
}

bool
state_banned(const struct thr_state *s, const struct thr_addr *a)
{
	for (size_t i = 0; i < s->nbanned; i++)
		if (s->banned[i].family == a->family &&
		    memcmp(s->banned[i].ip, a->ip, 16) == 0 &&
		    (s->banned[i].port == 0 || s->banned[i].port == a->port))
			return true;
	return false;
}

/* A peer that took part in STATE_MAX_STRIKES failed pieces is dropped
 * and its IP refused for the rest of the session. */
static void
ban_peer(struct thr_state *s, struct peer *p)
{
	char a[ADDR_STR_MAX];

	addr_format(&p->addr, a, sizeof(a));
	log_msg(&s->log, LOG_WARN, _("banning %s: %u pieces with bad data"), a,
	    p->strikes);
	trace_emit(&s->trace, "ban", "\"peer\":%u,\"addr\":\"%s\"",
	    p->id, a);
	if (!state_banned(s, &p->addr) && s->nbanned < STATE_MAX_BANNED) {
		s->banned[s->nbanned] = p->addr;
		/* On loopback every local peer shares the IP (test swarms,
		 * experiments): ban the address with its port there. */
		if (!addr_is_loopback(&p->addr))
			s->banned[s->nbanned].port = 0;
		s->nbanned++;
	}
	peer_kill(p, "sent corrupt data repeatedly");
}

/*
 * A write failed: a full or failing disk.  The piece stays missing
 * (nothing is marked had that is not on disk), the download pauses and
 * tries again later, so freeing space lets it finish.
 */
static void
disk_failed(struct thr_state *s, uint32_t index, int e)
{
	picker_piece_done(&s->pk, index, false);
	reorder_forget_piece(&s->ro, index);
	log_msg(&s->log, LOG_ERROR, _("cannot write piece %u: %s; "
	    "paused, retrying in %d s"), index, strerror(e),
	    STATE_DISK_RETRY_MS / 1000);
	trace_emit(&s->trace, "disk_error", "\"index\":%u", index);
	state_set_paused(s, true);
	s->disk_retry_ms = s->now_ms + STATE_DISK_RETRY_MS;
}

/*
 * Blocks are written in runs: on_piece queues each block (a pointer into
 * the peer's input buffer), and the flush sorts the queue by offset and
 * writes each run of adjacent blocks with one pwritev, so that blocks a
 * seeder sends out of order within one read still go out together.
 * The queue is flushed before that buffer is consumed, before anything
 * is read back from disk and before a piece is checked, so nothing is
 * ever counted as had that is not written.  On failure every piece in
 * the queue, and piece `also` (UINT32_MAX: none), is given up
 * (disk_failed).  Returns 0 or -1.
 */
static int
wb_flush(struct thr_state *s, uint32_t also)
{
	int n = s->wb.n, e = 0;

	if (n == 0)
		return 0;
	s->wb.n = 0;
	/* Insertion sort: at most STORAGE_IOV_MAX, mostly in order. */
	for (int k = 1; k < n; k++) {
		struct iovec v = s->wb.iov[k];
		uint64_t o = s->wb.off[k];
		uint32_t x = s->wb.index[k];
		int j = k;

		for (; j > 0 && s->wb.off[j - 1] > o; j--) {
			s->wb.iov[j] = s->wb.iov[j - 1];
			s->wb.off[j] = s->wb.off[j - 1];
			s->wb.index[j] = s->wb.index[j - 1];
		}
		s->wb.iov[j] = v;
		s->wb.off[j] = o;
		s->wb.index[j] = x;
	}
	for (int a = 0, b; a < n && e == 0; a = b) {
		for (b = a + 1; b < n && s->wb.off[b] == s->wb.off[b - 1] +
		    s->wb.iov[b - 1].iov_len; b++)
			;
		if (storage_writev(&s->st, s->wb.off[a], s->wb.iov + a,
		    b - a) != 0)
			e = errno ? errno : EIO;
	}
	if (e == 0)
		return 0;
	for (int k = 0; k < n; k++) {
		if (k > 0 && s->wb.index[k] == s->wb.index[k - 1])
			continue;	/* sorted: a piece's blocks are adjacent */
		if (s->wb.index[k] == also)
			also = UINT32_MAX;
		disk_failed(s, s->wb.index[k], e);
	}
	if (also != UINT32_MAX)
		disk_failed(s, also, e);
	return -1;
}

/* Queue a block for writing; a full queue is flushed first.  0, or -1
 * when that flush failed (see wb_flush). */
static int
wb_add(struct thr_state *s, uint32_t index, uint64_t off,
    const uint8_t *data, uint32_t len)
{
	if (s->wb.n == STORAGE_IOV_MAX && wb_flush(s, index) != 0)
		return -1;
	s->wb.iov[s->wb.n].iov_base = (void *)(uintptr_t)data;
	s->wb.iov[s->wb.n].iov_len = len;
	s->wb.off[s->wb.n] = off;
	s->wb.index[s->wb.n++] = index;
	return 0;
}

/*
 * Feed the piece's SHA-1 with every block received in order from
 * pp->hashed on.  The block that just arrived is hashed from the wire
 * buffer, earlier early ones from the reorder store, and only when that
 * was full from disk (the page cache), so no piece is ever buffered
 * whole in memory.
 */
static int
hash_forward(struct thr_state *s, struct picker_piece *pp, uint32_t blk,
    const uint8_t *data)
{
	uint64_t base = (uint64_t)pp->index * s->mi.piece_length;

	if (!pp->hashing) {
		if (hash_init(&pp->hash) != 0)
			return THR_ENOMEM;
		pp->hashing = true;
	}
	while (pp->hashed < pp->nblocks &&
	    pp->blk[pp->hashed] == PICKER_BLK_RECV) {
		uint32_t begin = pp->hashed * WIRE_BLOCK;
		uint32_t len = pp->size - begin < WIRE_BLOCK ?
		    pp->size - begin : WIRE_BLOCK;
		const uint8_t *src = data;

		if (pp->hashed != blk &&
		    (src = reorder_get(&s->ro, pp->index, begin, len)) ==
		    NULL) {
			if (wb_flush(s, pp->index) != 0)
				return THR_EIO;
			if (storage_read(&s->st, base + begin, s->scratch,
			    len) != 0)
				return THR_EIO;
			src = s->scratch;
		}
		hash_update(&pp->hash, src, len);
		if (pp->hashed != blk)
			reorder_forget(&s->ro, pp->index, begin);
		pp->hashed++;
	}
	return 0;
}

static void
piece_verified(struct thr_state *s, struct picker_piece *pp)
{
	uint32_t index = pp->index, size = pp->size;
	uint8_t digest[HASH_SHA1_LEN];
	bool ok = pp->hashing && pp->hashed == pp->nblocks &&
	    hash_final(&pp->hash, digest) == 0 &&
	    memcmp(digest, s->mi.hashes + (size_t)index * 20, 20) == 0;

	pp->hashing = false;	/* final released the context */
	reorder_forget_piece(&s->ro, index);

	trace_emit(&s->trace, ok ? "hash_ok" : "hash_fail",
	    "\"index\":%u,\"peer\":%u", index,
	    pp->ncontrib ? pp->contrib[0] : 0);
	if (!ok) {
		s->hash_fails++;
		s->wasted += size;
		log_msg(&s->log, LOG_WARN, _("piece %u failed its hash check"),
		    index);
		for (uint32_t c = 0; c < pp->ncontrib; c++) {
			struct peer *q = state_peer_find(s, pp->contrib[c]);
			if (q != NULL && ++q->strikes >= STATE_MAX_STRIKES)
				ban_peer(s, q);
		}
		picker_piece_done(&s->pk, index, false);
		return;
	}
	picker_piece_done(&s->pk, index, true);
	bitfield_set(&s->have, index);
	s->verified += size;
	if (picker_wanted(&s->pk, index))
		s->left -= size;
	log_msg(&s->log, LOG_DEBUG, "piece %u verified", index);
	if (picker_complete(&s->pk))
		on_complete(s);
	announce_have(s, index);
}

static void
on_piece(struct thr_state *s, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms)
{
	struct picker_block b = { m->index, m->begin,
	    (uint32_t)m->payload_len };
	struct picker_piece *pp = NULL;
	enum picker_recv r;
	uint64_t sent_ms;

	trace_emit(&s->trace, "piece",
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
		s->wasted += b.length;
	}
	p->downloaded += b.length;
	p->last_piece_ms = now_ms;
	p->snubbed = false;
	rate_add(&p->down, now_ms, b.length);
	rate_add(&s->down, now_ms, b.length);
	s->downloaded += b.length;
	s->last_block_ms = now_ms;
	if (s->phase != STATE_DOWNLOADING)
		return;
	r = picker_received(&s->pk, p->id, b.index, b.begin, m->payload,
	    b.length, &pp);
	if (r == PICKER_RECV_IGNORED)
		return;
	s->changes++;
	/* Straight to disk (no copy into a piece buffer), then hash; an
	 * early block is also kept in memory for its turn to be hashed. */
	if (wb_add(s, b.index, (uint64_t)b.index * s->mi.piece_length +
	    b.begin, m->payload, b.length) != 0)
		return;
	if (b.begin / WIRE_BLOCK != pp->hashed)
		reorder_put(&s->ro, b.index, b.begin, m->payload, b.length);
	if (hash_forward(s, pp, b.begin / WIRE_BLOCK, m->payload) != 0) {
		if (s->pk.state[b.index] == PICKER_ACTIVE)
			disk_failed(s, b.index, errno);
		return;
	}
	/* Endgame: others asked for the same block; cancel theirs. */
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *q = s->peers[i];

		if (q != p && peer_reqs_remove(q, &b, NULL)) {
			q->unasked_ok++;	/* it may cross our cancel */
			if (wire_put_request(&q->out, WIRE_CANCEL, b.index,
			    b.begin, b.length) != 0)
				peer_kill(q, "output buffer full");
		}
	}
	if (r == PICKER_RECV_COMPLETE && wb_flush(s, b.index) == 0)
		piece_verified(s, pp);
}

static void
on_request(struct thr_state *s, struct peer *p, const struct wire_msg *m)
{
	struct picker_block b = { m->index, m->begin, m->length };

	if (m->index >= s->mi.npieces || m->length == 0 ||
	    m->length > WIRE_MAX_BLOCK ||
	    (uint64_t)m->begin + m->length >
	    metainfo_piece_size(&s->mi, m->index)) {
		peer_kill(p, "request out of range");
		return;
	}
	if (!bitfield_get(&s->have, m->index)) {
		if (p->fast)
			goto reject;
		peer_kill(p, "requested a piece we do not have");
		return;
	}
	if (p->am_choking && !(p->fast && allowed_out(p, m->index))) {
		if (p->fast)
			goto reject;
		return;		/* BEP 3: requests while choked are dropped */
	}
	if (peer_queue_push(p, &b))
		return;
	if (!p->fast) {
		peer_kill(p, "too many requests queued");
		return;
	}
reject:
	if (wire_put_request(&p->out, WIRE_REJECT, b.index, b.begin,
	    b.length) != 0)
		peer_kill(p, "output buffer full");
}

/*
 * BEP 6 suggest: point a newly interested peer at up to two of the
 * rarest pieces (among connected peers) that we have and it lacks, so
 * that rare pieces spread first.  Ties are broken at random: a seed
 * whose pieces nobody has yet would otherwise point every newcomer at
 * the same two pieces, and send them to each.
 */
static void
send_suggestions(struct thr_state *s, struct peer *p)
{
	uint32_t best[2] = { UINT32_MAX, UINT32_MAX };
	uint64_t bk[2] = { UINT64_MAX, UINT64_MAX };

	if (s->have.count == 0 || s->pk.avail == NULL)
		return;
	for (uint32_t i = 0; i < s->mi.npieces; i++) {
		uint64_t k;

		if (!bitfield_get(&s->have, i) || bitfield_get(&p->have, i))
			continue;
		/* Availability first, then a random rank. */
		k = (uint64_t)s->pk.avail[i] << 32 | rng_next(&s->rng_upload);
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

/*
 * A message before a magnet's metadata is known.  There is no piece count
 * to check indexes against yet: a bitfield or have-all is kept for later
 * (peer_adopt_pieces in state_ext.c), haves are dropped (the peer's
 * bitfield is what matters), and block traffic is ignored since neither
 * side can have asked for any.
 */
static void
early_msg(struct thr_state *s, struct peer *p, const struct wire_msg *m)
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
		p->early_bits = NULL;
		p->early_len = 0;
		p->early_all = false;
		if ((p->early_bits = malloc(m->payload_len ? m->payload_len :
		    1)) == NULL) {
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
	(void)s;
}

static void
handle_msg(struct thr_state *s, struct peer *p, const struct wire_msg *m,
    uint64_t now_ms)
{
	if (m->keepalive) {
		if (++p->keepalives > STATE_MAX_KEEPALIVES)
			peer_kill(p, "keep-alive flood");
		return;
	}
	p->nudged = false;	/* a new exchange: see state_tick */
	if (m->id == WIRE_EXTENDED) {
		state_ext_msg(s, p, m->payload, m->payload_len, now_ms);
		return;
	}
	if (m->id == WIRE_PORT) {
		/* BEP 5: the peer runs a DHT node there; ask it to join our
		 * table (the engine caps how many such hints it keeps). */
		struct thr_addr a = p->addr;

		a.port = m->port;
		if (s->dht != NULL && a.port != 0 && !p->dht_hinted) {
			p->dht_hinted = true;
			(void)dht_add_bootstrap(s->dht, &a, now_ms);
		}
		return;
	}
	if (!s->have_meta) {
		early_msg(s, p, m);
		return;
	}
	switch (m->id) {
	case WIRE_CHOKE:
		trace_emit(&s->trace, "choked_by", "\"peer\":%u", p->id);
		p->peer_choking = true;
		/* BEP 6 peers reject what they drop; others drop all. */
		if (!p->fast)
			drop_requests(s, p);
		picker_disown(&s->pk, p->id);
		break;
	case WIRE_UNCHOKE:
		trace_emit(&s->trace, "unchoked_by", "\"peer\":%u", p->id);
		p->peer_choking = false;
		request_more(s, p, now_ms);
		break;
	case WIRE_INTERESTED:
		trace_emit(&s->trace, "interested", "\"peer\":%u", p->id);
		p->peer_interested = true;
		if (p->fast)
			send_suggestions(s, p);
		fill_free_slots(s);
		break;
	case WIRE_NOT_INTERESTED:
		trace_emit(&s->trace, "not_interested", "\"peer\":%u", p->id);
		p->peer_interested = false;
		break;
	case WIRE_HAVE:
		if (m->index >= s->mi.npieces) {
			peer_kill(p, "have index out of range");
			return;
		}
		p->got_first_msg = true;
		trace_emit(&s->trace, "have", "\"peer\":%u,\"index\":%u",
		    p->id, m->index);
		if (!bitfield_get(&p->have, m->index)) {
			bitfield_set(&p->have, m->index);
			picker_add_have(&s->pk, m->index);
			if (!bitfield_get(&s->have, m->index))
				update_interest(s, p);
			request_more(s, p, now_ms);
		}
		break;
	case WIRE_BITFIELD:
		/* BEP 3 wants it first, but aria2 sends a fresh bitfield
		 * later instead of a run of haves: replace the old one. */
		if (p->got_first_msg)
			picker_remove_bitfield(&s->pk, &p->have);
		p->got_first_msg = true;
		if (bitfield_load(&p->have, m->payload, m->payload_len) != 0) {
			bitfield_release(&p->have);
			bitfield_init(&p->have, s->mi.npieces);
			peer_kill(p, "invalid bitfield");
			return;
		}
		picker_add_bitfield(&s->pk, &p->have);
		trace_emit(&s->trace, "bitfield", "\"peer\":%u,\"count\":%u",
		    p->id, p->have.count);
		if (s->phase == STATE_SEEDING && bitfield_full(&p->have)) {
			seeds_part(s, p);
			return;
		}
		update_interest(s, p);
		break;
	case WIRE_REQUEST:
		on_request(s, p, m);
		break;
	case WIRE_PIECE:
		on_piece(s, p, m, now_ms);
		request_more(s, p, now_ms);
		break;
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		if (!p->fast || p->got_first_msg) {
			peer_kill(p, "unexpected have all / have none");
			return;
		}
		p->got_first_msg = true;
		trace_emit(&s->trace, m->id == WIRE_HAVE_ALL ? "have_all" :
		    "have_none", "\"peer\":%u", p->id);
		if (m->id == WIRE_HAVE_NONE)
			break;
		bitfield_set_all(&p->have);
		picker_add_bitfield(&s->pk, &p->have);
		if (s->phase == STATE_SEEDING) {
			seeds_part(s, p);
			return;
		}
		update_interest(s, p);
		break;
	case WIRE_REJECT: {
		struct picker_block b = { m->index, m->begin, m->length };

		if (!p->fast) {
			peer_kill(p, "reject without the fast extension");
			return;
		}
		trace_emit(&s->trace, "rejected",
		    "\"peer\":%u,\"index\":%u,\"begin\":%u", p->id, m->index,
		    m->begin);
		if (peer_reqs_remove(p, &b, NULL))
			picker_unrequest(&s->pk, &b);
		request_more(s, p, now_ms);
		break;
	}
	case WIRE_ALLOWED_FAST:
	case WIRE_SUGGEST: {
		uint32_t *set = m->id == WIRE_SUGGEST ? p->suggested :
		    p->allowed_in;
		uint32_t *n = m->id == WIRE_SUGGEST ? &p->nsuggested :
		    &p->nallowed_in;
		uint32_t cap = m->id == WIRE_SUGGEST ? PEER_MAX_SUGGEST :
		    PEER_MAX_ALLOWED;
		bool dup = false;

		if (!p->fast || m->index >= s->mi.npieces) {
			peer_kill(p, "bad allowed fast or suggest");
			return;
		}
		trace_emit(&s->trace, m->id == WIRE_SUGGEST ? "suggest" :
		    "allowed_fast", "\"peer\":%u,\"index\":%u", p->id,
		    m->index);
		for (uint32_t i = 0; i < *n; i++)
			dup |= set[i] == m->index;
		if (dup)
			break;
		if (*n == cap) {	/* keep the newest */
			memmove(set, set + 1, (cap - 1) * sizeof(*set));
			(*n)--;
		}
		set[(*n)++] = m->index;
		request_more(s, p, now_ms);
		break;
	}
	case WIRE_CANCEL: {
		struct picker_block b = { m->index, m->begin, m->length };
		peer_queue_remove(p, &b);
		break;
	}
	default:
		/* Extensions we did not advertise: ignore (BEP 3 says
		 * unknown ids must be ignored). */
		break;
	}
}

static void
on_handshake(struct thr_state *s, struct peer *p, uint64_t now_ms)
{
	uint8_t ih[20], pid[20];

	if (wire_handshake_parse(p->in.data, ih, pid, NULL) != 0) {
		peer_kill(p, "bad handshake");
		return;
	}
	{
		uint8_t rsv[8];
		wire_handshake_parse(p->in.data, NULL, NULL, rsv);
		p->fast = (rsv[7] & 0x04) != 0;
		p->ext = (rsv[5] & 0x10) != 0;
		p->dht = (rsv[7] & 0x01) != 0;
	}
	if (memcmp(ih, s->mi.info_hash, 20) != 0) {
		peer_kill(p, "handshake for another torrent");
		return;
	}
	if (memcmp(pid, s->peer_id, 20) == 0) {
		self_found(s, p);
		peer_kill(p, "connected to ourselves");
		return;
	}
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *q = s->peers[i];
		if (q != p && q->phase == PEER_ACTIVE &&
		    memcmp(q->peer_id, pid, 20) == 0) {
			peer_kill(p, "duplicate connection");
			return;
		}
	}
	memcpy(p->peer_id, pid, 20);
	peerid_client(pid, p->client, sizeof(p->client));
	if (trace_on(&s->trace)) {
		char cl[2 * PEER_CLIENT_MAX];
		trace_emit(&s->trace, "handshake",
		    "\"peer\":%u,\"client\":\"%s\",\"crypto\":\"%s\","
		    "\"transport\":\"%s\"", p->id,
		    trace_str(p->client, cl, sizeof(cl)),
		    p->encrypted ? "rc4" : p->obfuscated ? "obfuscated" :
		    "plain", peer_transport_name(p->transport));
	}
	buf_consume(&p->in, WIRE_HANDSHAKE_LEN);
	if (!p->sent_handshake)
		send_handshake(s, p);
	if (p->ext)	/* BEP 10: the extended handshake comes first */
		state_ext_start(s, p, now_ms);
	/* BEP 5: tell a DHT-capable peer our DHT port (the TCP one). */
	if (p->dht && s->dht != NULL && (buf_put_u32be(&p->out, 3) != 0 ||
	    buf_put_u8(&p->out, WIRE_PORT) != 0 ||
	    buf_put_u8(&p->out, (uint8_t)(s->port >> 8)) != 0 ||
	    buf_put_u8(&p->out, (uint8_t)s->port) != 0))
		peer_kill(p, "output buffer full");
	send_first_msgs(s, p);
	p->phase = PEER_ACTIVE;
	p->last_recv_ms = now_ms;
	s->changes++;
	{
		char a[ADDR_STR_MAX];
		addr_format(&p->addr, a, sizeof(a));
		log_msg(&s->log, LOG_INFO,
		    _("peer %s connected (%s, %s, %s%s)"), a, p->client,
		    p->incoming ? _("incoming") : _("outgoing"),
		    p->encrypted ? _("encrypted") : p->obfuscated ?
		    _("obfuscated handshake") : _("plaintext"),
		    p->transport == PEER_UTP ? ", uTP" : "");
	}
	/* A newcomer gets a free slot at once rather than waiting for the
	 * next choke round. */
}

void
state_peer_input(struct thr_state *s, struct peer *p, uint64_t now_ms)
{
	struct wire_msg m;
	size_t used, off = 0;
	int rc;

	p->last_recv_ms = now_ms;
	if (p->phase == PEER_CRYPTO ||
	    (p->phase == PEER_HANDSHAKE && p->incoming && !p->crypto_checked)) {
		if (!crypto_input(s, p)) {
			p->in_dec = p->in.len;
			return;
		}
	} else if (p->encrypted)	/* new bytes from the net layer */
		mse_decrypt(p->mse, p->in.data + p->in_dec,
		    p->in.len - p->in_dec);
	if (p->phase == PEER_HANDSHAKE) {
		if (p->in.len < WIRE_HANDSHAKE_LEN) {
			p->in_dec = p->in.len;
			return;
		}
		on_handshake(s, p, now_ms);
	}
	/* Consume once at the end: one memmove per read, not per message. */
	while (!p->dead && p->phase == PEER_ACTIVE && off < p->in.len) {
		rc = wire_parse(p->in.data + off, p->in.len - off,
		    s->mi.npieces, &m, &used);
		if (rc == 0)
			break;
		if (rc < 0) {
			peer_kill(p, "malformed message");
			break;
		}
		handle_msg(s, p, &m, now_ms);
		off += used;
		p->partial_ms = 0;
	}
	wb_flush(s, UINT32_MAX);	/* it points into p->in */
	buf_consume(&p->in, off);
	p->in_dec = p->in.len;	/* all of it is plaintext now */
	/* A message must not dribble in forever (one byte a second). */
	if (p->in.len > 0 && p->partial_ms == 0)
		p->partial_ms = now_ms;
}

/* A piece message's header: length, id, index, begin (BEP 3). */
#define STATE_PIECE_HEADER	13u

/*
 * What peer id would send next (upsched_cost_fn): its first queued
 * request as a piece message, or 0 when it has none or when its output
 * buffer has not drained below PEER_OUT_LOW yet (its socket is slow:
 * the others go first rather than wait behind it).
 */
static uint32_t
upload_cost(void *ctx, uint32_t id)
{
	struct thr_state *s = ctx;
	struct peer *p = state_peer_find(s, id);

	if (p == NULL || p->dead || p->phase != PEER_ACTIVE || p->qlen == 0 ||
	    p->out.len >= PEER_OUT_LOW)
		return 0;
	return STATE_PIECE_HEADER + p->queue[p->qhead].length;
}

/* The first queued block of p, read from disk into p->out. */
static void
upload_block(struct thr_state *s, struct peer *p, uint64_t now_ms)
{
	struct picker_block b;
	uint8_t *dst;
	uint64_t off;

	if (!peer_queue_pop(p, &b))
		return;
	off = (uint64_t)b.index * s->mi.piece_length + b.begin;
	if (wire_put_piece_header(&p->out, b.index, b.begin, b.length) != 0 ||
	    (dst = buf_reserve(&p->out, b.length)) == NULL) {
		peer_kill(p, "output buffer full");
		return;
	}
	if (storage_read(&s->st, off, dst, b.length) != 0) {
		s->fatal = THR_EIO;
		snprintf(s->fatal_msg, sizeof(s->fatal_msg),
		    "cannot read piece %u from disk", b.index);
		peer_kill(p, "disk read failed");
		return;
	}
	buf_commit(&p->out, b.length);
	bucket_take(&s->up_limit, b.length);
	p->uploaded += b.length;
	s->uploaded += b.length;
	rate_add(&p->up, now_ms, b.length);
	rate_add(&s->up, now_ms, b.length);
	trace_emit(&s->trace, "sent",
	    "\"peer\":%u,\"index\":%u,\"begin\":%u,\"length\":%u", p->id,
	    b.index, b.begin, b.length);
}

size_t
state_upload(struct thr_state *s, uint64_t now_ms)
{
	size_t moved = 0;
	uint32_t id, bytes;

	while (moved < STATE_UPLOAD_PASS && !s->fatal &&
	    bucket_ready(&s->up_limit, now_ms) &&
	    (id = upsched_next(&s->upq, upload_cost, s, &bytes)) != 0) {
		upload_block(s, state_peer_find(s, id), now_ms);
		/* Charged even when the block failed: its peer is dead and
		 * will not be offered again. */
		upsched_charge(&s->upq, id, bytes);
		moved += bytes;
	}
	return moved;
}

void
state_peer_sent(struct thr_state *s, struct peer *p, size_t n,
    uint64_t now_ms)
{
	(void)s;
	p->out_enc = p->out_enc > n ? p->out_enc - n : 0;
	p->out_push = p->out_push > n ? p->out_push - n : 0;
	if (n > 0)
		p->last_send_ms = now_ms;
}

/* --- known addresses ------------------------------------------------- */

void
state_known_add(struct thr_state *s, const struct thr_addr *a,
    enum peer_source src)
{
	bool given = src == PEER_SRC_MANUAL;

	for (size_t i = 0; i < s->nknown; i++)
		if (addr_equal(&s->known[i].addr, a))
			return;
	if (s->nknown >= STATE_MAX_KNOWN)
		return;
	memset(&s->known[s->nknown], 0, sizeof(s->known[0]));
	s->known[s->nknown].addr = *a;
	s->known[s->nknown].given = given;
	s->known[s->nknown].source = src;
	s->nknown++;
}

/*
 * Wait before trying an address again: 15 s doubling per failure up to
 * 10 minutes; an address the user gave starts at 2 s and stops at 60 s,
 * since it is expected to come up (a seeder still checking its data).
 */
static uint64_t
retry_delay(const struct state_known *k)
{
	uint64_t base = k->given ? STATE_GIVEN_RETRY_MS : STATE_RETRY_MS;
	uint64_t cap = k->given ? 60000 : 600000;
	uint64_t d = base << (k->fails > 8 ? 8 : k->fails);

	return d < cap ? d : cap;
}

bool
state_next_connect(struct thr_state *s, uint64_t now_ms, struct thr_addr *out)
{
	size_t cap = s->opts.max_peers > 0 &&
	    (size_t)s->opts.max_peers < STATE_MAX_PEERS ?
	    (size_t)s->opts.max_peers : STATE_MAX_PEERS;

	/* A finished run is about to end: a connection now would only be
	 * torn down again. */
	if (s->phase == STATE_CHECKING || s->phase == STATE_DONE ||
	    s->paused || s->npeers >= cap || state_finished(s))
		return false;
	for (size_t i = 0; i < s->nknown; i++) {
		struct state_known *k = &s->known[i];

		if ((k->seed || k->self) && k->hold_ms == 0)
			k->hold_ms = now_ms + STATE_HOLD_MS;
		if (k->hold_ms > now_ms)
			continue;
		if (k->hold_ms != 0) {	/* over: one more try */
			k->hold_ms = 0;
			k->seed = k->self = false;
		}
		if (k->connected || k->next_try_ms > now_ms ||
		    state_banned(s, &k->addr))
			continue;
		if (state_peer_connected_to(s, &k->addr))
			continue;
		/* A seed needs no outgoing connections except to the
		 * addresses the user gave. */
		if (s->phase == STATE_SEEDING && !k->given)
			continue;
		if (s->phase == STATE_SEEDING && k->given && k->fails > 0)
			continue;
		k->connected = true;
		k->next_try_ms = now_ms + retry_delay(k);
		*out = k->addr;
		return true;
	}
	return false;
}

bool
state_dial_utp(const struct thr_state *s, const struct thr_addr *a)
{
	switch (s->opts.transport) {
	case STATE_TRANSPORT_UTP:
		return true;
	case STATE_TRANSPORT_TCP:
		return false;
	case STATE_TRANSPORT_BOTH:
		break;
	}
	for (size_t i = 0; i < s->nknown; i++)
		if (addr_equal(&s->known[i].addr, a))
			return !s->known[i].no_utp &&
			    (!addr_is_loopback(a) || s->known[i].try_utp);
	return !addr_is_loopback(a);
}

void
state_utp_failed(struct thr_state *s, const struct thr_addr *a,
    uint64_t now_ms)
{
	if (s->opts.transport != STATE_TRANSPORT_BOTH) {
		state_connect_failed(s, a, now_ms);	/* no TCP to try */
		return;
	}
	for (size_t i = 0; i < s->nknown; i++) {
		struct state_known *k = &s->known[i];

		if (!addr_equal(&k->addr, a))
			continue;
		k->connected = false;
		k->no_utp = true;
		k->try_utp = false;
		k->next_try_ms = 0;
	}
}

void
state_connect_failed(struct thr_state *s, const struct thr_addr *a,
    uint64_t now_ms)
{
	for (size_t i = 0; i < s->nknown; i++) {
		struct state_known *k = &s->known[i];

		if (!addr_equal(&k->addr, a))
			continue;
		k->connected = false;
		k->fails++;
		k->next_try_ms = now_ms + retry_delay(k);
	}
}

/* --- choking ---------------------------------------------------------- */

static size_t
upload_slots(const struct thr_state *s)
{
	return s->opts.upload_slots > 0 ? (size_t)s->opts.upload_slots :
	    STATE_UPLOAD_SLOTS;
}

/*
 * Tit-for-tat: while downloading, reward those who give us the most.
 * While seeding, those who take the most (they spread the data), but in
 * turns: a peer unchoked for STATE_SEED_TURN_MS goes behind every peer
 * that is waiting, longest waiting first, so every interested peer gets
 * served.  Scores are ordered by tier, then by rate or waiting time.
 */
static uint64_t
choke_score(struct thr_state *s, struct peer *p, uint64_t now_ms)
{
	const uint64_t tier = 1ull << 48;

	if (s->phase == STATE_DOWNLOADING)
		return rate_get(&p->down, now_ms);
	/* A turn is a regular slot's: the optimistic peer has none. */
	if (!p->am_choking && p->id != s->optimistic_id &&
	    p->unchoked_ms != 0 && now_ms - p->unchoked_ms < STATE_SEED_TURN_MS)
		return 2 * tier + rate_get(&p->up, now_ms);
	if (p->am_choking)
		return tier + (now_ms - p->choked_ms);
	return rate_get(&p->up, now_ms);
}

/*
 * Unchoke interested peers into free slots at once rather than at the
 * next choke round: a peer that arrives just after a round would
 * otherwise wait up to STATE_CHOKE_PERIOD_MS with nothing to download
 * but allowed-fast pieces.  A free regular slot (one not held by an
 * interested peer) starts a turn; beyond those, a free optimistic slot
 * makes the peer the optimistic one, for a whole STATE_OPTIMISTIC_MS,
 * as run_choker would.  The next round then sees the slots as they
 * are: it used to count the fifth peer unchoked at connect time as a
 * regular one and choke it at once, so the requests it made right after
 * connecting waited for a later seeding turn.  Called when a peer says
 * it is interested and on every tick.
 */
static void
fill_free_slots(struct thr_state *s)
{
	struct peer *opt = state_peer_find(s, s->optimistic_id);
	size_t regular = 0, slots = upload_slots(s);
	bool opt_free = opt == NULL || opt->am_choking ||
	    !opt->peer_interested;

	if (s->phase == STATE_CHECKING || !s->have_meta)
		return;
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];

		if (p->phase == PEER_ACTIVE && !p->am_choking &&
		    p->peer_interested && p != opt)
			regular++;
	}
	for (size_t i = 0; i < s->npeers && (regular < slots || opt_free);
	    i++) {
		struct peer *p = s->peers[i];

		if (p->phase != PEER_ACTIVE || !p->peer_interested ||
		    !p->am_choking)
			continue;
		set_choke(s, p, false);
		if (regular < slots)
			regular++;
		else {
			s->optimistic_id = p->id;
			s->next_optimistic_ms = s->now_ms + STATE_OPTIMISTIC_MS;
			opt_free = false;
		}
	}
}

static void
run_choker(struct thr_state *s, uint64_t now_ms)
{
	struct peer *cand[STATE_MAX_PEERS];
	uint64_t score[STATE_MAX_PEERS];
	size_t n = 0, slots = upload_slots(s), top;
	struct peer *opt = state_peer_find(s, s->optimistic_id);

	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];
		if (p->phase != PEER_ACTIVE || !p->peer_interested)
			continue;
		cand[n] = p;
		score[n] = choke_score(s, p, now_ms);
		n++;
	}
	/* Partial selection sort: the top slots by score. */
	top = n < slots ? n : slots;
	for (size_t i = 0; i < top; i++) {
		size_t best = i;
		for (size_t j = i + 1; j < n; j++)
			if (score[j] > score[best])
				best = j;
		struct peer *tp = cand[i]; cand[i] = cand[best];
		cand[best] = tp;
		uint64_t ts = score[i]; score[i] = score[best];
		score[best] = ts;
	}
	/*
	 * The optimistic slot goes to one of the others (cand[top..n)), so
	 * that it is never wasted on a peer that earned a regular slot.  It
	 * rotates every STATE_OPTIMISTIC_MS, to someone new when possible,
	 * and is drawn again early if its holder left or earned a slot.
	 */
	bool holder_ok = false;
	for (size_t j = top; opt != NULL && j < n; j++)
		holder_ok |= cand[j] == opt;
	/* The optimistic peer earned a regular slot: its turn starts. */
	for (size_t j = 0; opt != NULL && j < top; j++)
		if (cand[j] == opt)
			opt->unchoked_ms = now_ms;
	if (now_ms >= s->next_optimistic_ms || !holder_ok) {
		uint32_t prev = s->optimistic_id, seen = 0;

		s->optimistic_id = 0;
		for (size_t j = top; j < n; j++) {
			if (cand[j]->id == prev && n - top > 1)
				continue;
			if (rng_below(&s->rng_choker, ++seen) == 0)
				s->optimistic_id = cand[j]->id;
		}
		if (now_ms >= s->next_optimistic_ms || prev != 0)
			s->next_optimistic_ms = now_ms + STATE_OPTIMISTIC_MS;
	}
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];
		bool unchoke = p->id == s->optimistic_id;

		if (p->phase != PEER_ACTIVE)
			continue;
		for (size_t j = 0; j < top; j++)
			if (cand[j] == p)
				unchoke = true;
		set_choke(s, p, !unchoke);
	}
	s->next_choke_ms = now_ms + STATE_CHOKE_PERIOD_MS;
}

/*
 * Rate samples for the trace: the session's rates (bytes/s over the
 * meter's window) and totals, then the same for each peer that moved
 * payload within that window, so that a sender's upload can be read
 * from its own trace.
 */
static void
trace_rates(struct thr_state *s, uint64_t now_ms)
{
	size_t active = 0;

	for (size_t i = 0; i < s->npeers; i++)
		active += s->peers[i]->phase == PEER_ACTIVE;
	trace_emit(&s->trace, "rate", "\"down\":%llu,\"up\":%llu,"
	    "\"downloaded\":%llu,\"uploaded\":%llu,\"peers\":%zu",
	    (unsigned long long)rate_get(&s->down, now_ms),
	    (unsigned long long)rate_get(&s->up, now_ms),
	    (unsigned long long)s->downloaded,
	    (unsigned long long)s->uploaded, active);
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];
		uint64_t d = rate_get(&p->down, now_ms);
		uint64_t u = rate_get(&p->up, now_ms);

		if (p->phase != PEER_ACTIVE || (d == 0 && u == 0))
			continue;
		trace_emit(&s->trace, "peer_rate", "\"peer\":%u,"
		    "\"down\":%llu,\"up\":%llu,\"downloaded\":%llu,"
		    "\"uploaded\":%llu", p->id, (unsigned long long)d,
		    (unsigned long long)u, (unsigned long long)p->downloaded,
		    (unsigned long long)p->uploaded);
	}
}

void
state_tick(struct thr_state *s, uint64_t now_ms)
{
	s->now_ms = now_ms;

	if (s->phase == STATE_CHECKING)
		return;
	if (trace_on(&s->trace) && now_ms >= s->next_sample_ms) {
		s->next_sample_ms = now_ms + STATE_RATE_SAMPLE_MS;
		trace_rates(s, now_ms);
	}
	state_ext_tick(s, now_ms);
	for (size_t i = 0; i < s->npeers; i++) {
		struct peer *p = s->peers[i];
		uint64_t age = now_ms - p->connected_ms;

		if (p->phase == PEER_CONNECTING &&
		    age > STATE_CONNECT_TIMEOUT_MS)
			peer_kill(p, "connect timed out");
		else if ((p->phase == PEER_HANDSHAKE ||
		    p->phase == PEER_CRYPTO) &&
		    age > STATE_HANDSHAKE_TIMEOUT_MS)
			peer_kill(p, "handshake timed out");
		else if (p->phase == PEER_ACTIVE &&
		    now_ms - p->last_recv_ms > STATE_IDLE_TIMEOUT_MS)
			peer_kill(p, "idle for too long");
		if (p->partial_ms != 0 &&
		    now_ms - p->partial_ms > STATE_MSG_TIMEOUT_MS)
			peer_kill(p, "message too slow to arrive");
		p->keepalives = 0;
		if (p->phase == PEER_ACTIVE && !p->dead &&
		    now_ms - p->last_send_ms > STATE_KEEPALIVE_MS &&
		    p->out.len == 0 && wire_put_keepalive(&p->out) == 0)
			p->last_send_ms = now_ms;
		/*
		 * A connection gone quiet both ways may hold bytes the peer
		 * has not read: Transmission 3.00 over uTP reads a packet
		 * only as far as the message it waited for, and the rest
		 * when the next packet comes.  Whatever the cause, it gets
		 * one keep-alive (a packet) after STATE_NUDGE_MS of quiet,
		 * never a wait for the one at STATE_KEEPALIVE_MS.  Only a
		 * message other than a keep-alive allows the next one, so
		 * an idle connection costs one, and two of us never bounce
		 * keep-alives back and forth.
		 */
		if (p->phase == PEER_ACTIVE && !p->dead && !p->nudged &&
		    p->out.len == 0 &&
		    now_ms - p->last_send_ms >= STATE_NUDGE_MS &&
		    now_ms - p->last_recv_ms >= STATE_NUDGE_MS &&
		    wire_put_keepalive(&p->out) == 0) {
			p->nudged = true;
			p->last_send_ms = now_ms;
		}
		/* A peer that holds our requests for a minute without
		 * sending anything gets them taken back (snubbed). */
		if (p->phase == PEER_ACTIVE && p->nreqs > 0 &&
		    now_ms - p->last_piece_ms > 60000) {
			drop_requests(s, p);
			p->last_piece_ms = now_ms;
			p->snubbed = true;
		}
		if (s->have_meta)
			request_more(s, p, now_ms);
	}
	if (!s->have_meta)
		return;	/* nothing to choke for or to finish yet */
	if (s->disk_retry_ms != 0 && now_ms >= s->disk_retry_ms) {
		s->disk_retry_ms = 0;
		log_msg(&s->log, LOG_INFO, "%s",
		    _("retrying after the write error"));
		state_set_paused(s, false);
	}
	if (now_ms >= s->next_choke_ms)
		run_choker(s, now_ms);
	else
		fill_free_slots(s);
	state_settle(s, now_ms);
}

/* --- tracker ---------------------------------------------------------- */

bool
state_tracker_next(struct thr_state *s, uint64_t now_ms,
    struct tracker_announce *a, const char **base)
{
	if (s->tracker_phase != TRACKER_IDLE || now_ms < s->tracker_next_ms ||
	    s->phase == STATE_CHECKING)
		return false;
	if ((*base = tracker_list_current(&s->tl)) == NULL)
		return false;
	memset(a, 0, sizeof(*a));
	memcpy(a->info_hash, s->mi.info_hash, 20);
	memcpy(a->peer_id, s->peer_id, 20);
	a->port = s->port;
	a->uploaded = s->uploaded;
	a->downloaded = s->downloaded;
	/* A magnet's size is unknown until its metadata arrives; any
	 * non-zero value tells the tracker we are not a seed. */
	a->left = s->have_meta ? s->left : 1;
	a->event = s->tracker_event;
	a->numwant = s->tracker_event == TRACKER_EVENT_STOPPED ? 0 : 80;
	a->key = s->announce_key;
	a->tracker_id = s->tl.tracker_id[0] ? s->tl.tracker_id : NULL;
	if (trace_on(&s->trace)) {
		static const char *const evn[] = { "none", "started",
		    "completed", "stopped" };
		char u[512];
		trace_emit(&s->trace, "announce",
		    "\"url\":\"%s\",\"event\":\"%s\"",
		    trace_str(*base, u, sizeof(u)), evn[a->event]);
	}
	s->tracker_phase = TRACKER_BUSY;
	return true;
}

bool
state_tracker_due(struct thr_state *s, uint64_t now_ms, struct buf *url)
{
	struct tracker_announce a;
	const char *base;

	if (!state_tracker_next(s, now_ms, &a, &base))
		return false;
	buf_reset(url);
	if (tracker_build_url(base, &a, url) != 0) {
		state_tracker_result(s, THR_ELIMIT, NULL,
		    "announce URL too long", now_ms);
		return false;
	}
	return true;
}

void
state_tracker_done(struct thr_state *s, int status, const uint8_t *body,
    size_t len, const char *errmsg, uint64_t now_ms)
{
	struct tracker_response r;
	struct thr_error err;

	memset(&r, 0, sizeof(r));
	memset(&err, 0, sizeof(err));
	if (status == 0 &&
	    (status = tracker_parse_response(body, len, &r, &err)) != 0)
		errmsg = err.msg;
	state_tracker_result(s, status, &r, errmsg, now_ms);
}

void
state_tracker_result(struct thr_state *s, int status,
    struct tracker_response *r, const char *errmsg, uint64_t now_ms)
{
	char url[128], msg[THR_ERROR_MSG_MAX];
	int wait;
	bool stopped = s->tracker_event == TRACKER_EVENT_STOPPED;
	const char *cur = tracker_list_current(&s->tl);

	/* Tracker URLs come from the torrent: escape before logging. */
	escape_str(cur ? cur : "", cur ? strlen(cur) : 0, url, sizeof(url));
	s->tracker_phase = TRACKER_IDLE;
	snprintf(msg, sizeof(msg), "%s", errmsg ? errmsg : "failed");
	if (status == 0 && r->failed) {
		snprintf(msg, sizeof(msg), "tracker says: %.150s", r->failure);
		status = THR_EPROTO;
	}
	if (status != 0) {
		char e[400];
		trace_emit(&s->trace, "announce_result",
		    "\"ok\":false,\"error\":\"%s\"",
		    trace_str(msg, e, sizeof(e)));
		wait = tracker_list_failed(&s->tl);
		log_msg(&s->log, LOG_WARN, _("tracker %s: %s"), url, msg);
		snprintf(s->tracker_status, sizeof(s->tracker_status),
		    _("error: %.120s"), msg);
		s->tracker_next_ms = now_ms + (uint64_t)wait * 1000;
		if (r != NULL)
			tracker_response_release(r);
		if (stopped)
			s->tracker_phase = TRACKER_NONE;
		return;
	}
	tracker_list_succeeded(&s->tl);
	s->tracker_seeders = r->complete;
	s->tracker_leechers = r->incomplete;
	/* Trace numbers are unsigned: the counts only when given. */
	if (r->complete >= 0 && r->incomplete >= 0)
		trace_emit(&s->trace, "announce_result",
		    "\"ok\":true,\"peers\":%zu,\"interval\":%lld,"
		    "\"seeders\":%lld,\"leechers\":%lld", r->npeers,
		    (long long)r->interval, (long long)r->complete,
		    (long long)r->incomplete);
	else
		trace_emit(&s->trace, "announce_result",
		    "\"ok\":true,\"peers\":%zu,\"interval\":%lld",
		    r->npeers, (long long)r->interval);
	if (r->tracker_id[0])
		snprintf(s->tl.tracker_id, sizeof(s->tl.tracker_id), "%s",
		    r->tracker_id);
	if (r->warning[0])
		log_msg(&s->log, LOG_WARN, _("tracker %s warns: %s"), url,
		    r->warning);
	for (size_t i = 0; i < r->npeers; i++)
		state_known_add(s, &r->peers[i], PEER_SRC_TRACKER);
	s->tracker_interval = r->interval;
	if (r->min_interval > r->interval)
		s->tracker_interval = r->min_interval;
	s->tracker_next_ms = now_ms + (uint64_t)s->tracker_interval * 1000;
	/* What the swarm looks like to the tracker (BEP 3 complete and
	 * incomplete, BEP 15 seeders and leechers) says more than how
	 * many addresses it handed out; "?" for a count it left out. */
	if (r->complete >= 0 || r->incomplete >= 0) {
		char sd[24] = "?", lc[24] = "?";

		if (r->complete >= 0)
			snprintf(sd, sizeof(sd), "%lld",
			    (long long)r->complete);
		if (r->incomplete >= 0)
			snprintf(lc, sizeof(lc), "%lld",
			    (long long)r->incomplete);
		snprintf(s->tracker_status, sizeof(s->tracker_status),
		    _("seeders %s, leechers %s"), sd, lc);
	} else
		snprintf(s->tracker_status, sizeof(s->tracker_status),
		    ngettext("ok: %zu peer", "ok: %zu peers", r->npeers),
		    r->npeers);
	log_msg(&s->log, LOG_INFO, _("tracker %s: %zu peers, next in %llds"),
	    url, r->npeers, (long long)s->tracker_interval);
	s->tracker_event = TRACKER_EVENT_NONE;
	if (stopped)
		s->tracker_phase = TRACKER_NONE;
	tracker_response_release(r);
}

void
state_tracker_stop(struct thr_state *s)
{
	if (s->tracker_phase == TRACKER_NONE)
		return;
	s->tracker_event = TRACKER_EVENT_STOPPED;
	s->tracker_next_ms = 0;
	if (s->tracker_phase == TRACKER_BUSY)
		s->tracker_phase = TRACKER_IDLE;	/* caller cancelled */
}

int
state_set_file_wanted(struct thr_state *s, size_t i, bool want)
{
	int rc;

	if (i >= s->mi.nfiles)
		return THR_EINVAL;
	if (!s->file_wanted[i] == !want)
		return 0;
	s->file_wanted[i] = want;
	log_msg(&s->log, LOG_NOTE, want ? _("file %zu selected") :
	    _("file %zu skipped"), i + 1);
	if (s->phase == STATE_CHECKING)
		return 0;	/* applied when the check ends */
	if ((rc = apply_selection(s)) != 0)
		return rc;
	/* The choice is kept at once, not only at a clean exit. */
	state_save_resume(s);
	s->changes++;
	if (picker_complete(&s->pk)) {
		if (s->phase == STATE_DOWNLOADING)
			on_complete(s);
	} else if (s->phase == STATE_SEEDING) {
		state_set_phase(s, STATE_DOWNLOADING);
		/* Seeds we left alone have something for us again. */
		for (size_t k = 0; k < s->nknown; k++)
			if (s->known[k].seed) {
				s->known[k].seed = false;
				s->known[k].hold_ms = 0;
			}
	}
	for (size_t k = 0; k < s->npeers; k++)
		if (s->peers[k]->phase == PEER_ACTIVE)
			update_interest(s, s->peers[k]);
	return 0;
}

void
state_set_strategy(struct thr_state *s, enum picker_strategy st)
{
	s->opts.strategy = st;
	s->pk.strategy = st;
	s->strategy = picker_strategy_name(st);
	s->changes++;
	trace_emit(&s->trace, "strategy", "\"strategy\":\"%s\"", s->strategy);
	log_msg(&s->log, LOG_INFO, _("strategy %s"), _(s->strategy));
}

void
state_save_resume(struct thr_state *s)
{
	struct thr_error err;

	if (s->resume_file[0] == '\0' || s->phase == STATE_CHECKING ||
	    !s->st_open)
		return;
	if (resume_save_sel(s->resume_file, &s->mi, &s->st, &s->have,
	    s->file_wanted, &err) != 0)
		log_msg(&s->log, LOG_WARN,
		    _("cannot save the resume record: %s"), err.msg);
}

void
state_set_paused(struct thr_state *s, bool paused)
{
	if (s->paused == paused)
		return;
	s->paused = paused;
	log_msg(&s->log, LOG_INFO, "%s", paused ? _("paused") : _("resumed"));
	if (paused) {
		for (size_t i = 0; i < s->npeers; i++)
			peer_kill(s->peers[i], "paused");
		return;
	}
	/* Resume: every address may be tried again at once. */
	for (size_t i = 0; i < s->nknown; i++) {
		s->known[i].next_try_ms = 0;
		s->known[i].fails = 0;
	}
	s->tracker_next_ms = 0;
}

/* --- summaries ---------------------------------------------------------- */

bool
state_complete(const struct thr_state *s)
{
	return s->have_meta && s->phase != STATE_CHECKING &&
	    picker_complete(&s->pk);
}

bool
state_finished(const struct thr_state *s)
{
	if (!state_complete(s))
		return false;
	if (s->opts.seed_ratio < 0)
		return false;
	if (s->opts.seed_ratio == 0)
		return true;
	return (double)s->uploaded >=
	    s->opts.seed_ratio * (double)s->mi.total_length;
}

/*
 * Waiting for the next tick to notice a finished run cost up to a second
 * on every download; the tracker's "completed" announce is the one thing
 * worth a short wait, since "stopped" replaces it once we quit.
 */
void
state_settle(struct thr_state *s, uint64_t now_ms)
{
	if (s->phase != STATE_SEEDING || !state_finished(s))
		return;
	if (s->finish_by_ms == 0)
		s->finish_by_ms = now_ms + STATE_FINISH_WAIT_MS;
	if (s->tracker_phase != TRACKER_NONE &&
	    s->tracker_event == TRACKER_EVENT_COMPLETED &&
	    now_ms < s->finish_by_ms)
		return;
	/* A seeder that falls silent looks crashed: say why it stops
	 * (with --seed-ratio 0 the user asked for exactly this). */
	if (s->opts.seed_ratio > 0)
		log_msg(&s->log, LOG_NOTE, _("seeding stopped: ratio %.2f "
		    "reached (--seed-ratio %g; a negative ratio seeds until "
		    "you quit)"), s->mi.total_length > 0 ?
		    (double)s->uploaded / (double)s->mi.total_length : 0.0,
		    s->opts.seed_ratio);
	state_set_phase(s, STATE_DONE);
}

size_t
state_skipped_files(const struct thr_state *s)
{
	size_t n = 0;

	if (!s->have_meta || s->file_wanted == NULL)
		return 0;
	for (size_t i = 0; i < s->mi.nfiles; i++)
		if (!s->file_wanted[i])
			n++;
	return n;
}

double
state_percent(const struct thr_state *s)
{
	if (s->wanted_total == 0)
		return s->phase == STATE_CHECKING || !s->have_meta ? 0.0 :
		    100.0;
	return 100.0 * (double)(s->wanted_total - s->left) /
	    (double)s->wanted_total;
}
