/*
 * session.c: what a process shares among its torrents.  See session.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "session.h"
#include "pwp.h"
#include "torrent.h"
#include "wire.h"
#include "xalloc.h"

#define SESSION_DHT_MAX		(1u << 20)	/* a dht.dat we will read */

void
session_stream_seed(uint64_t seed, enum session_stream k, struct rng *out)
{
	rng_seed(out, rng_stream_seed(seed, (uint64_t)k));
}

/* Peer ids follow the Azureus convention: "-TH0100-" then random bytes. */
static void
session_make_peer_id(struct session *s)
{
	static const char alnum[] =
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	struct rng *r = &s->rng[SESSION_RNG_MISC];

	memcpy(s->peer_id, "-TH0100-", 8);
	for (int i = 8; i < 20; i++)
		s->peer_id[i] = (uint8_t)alnum[rng_below(r, sizeof(alnum) - 1)];
}

struct session *
session_new(const struct session_opts *o, uint64_t now_ms,
    struct thr_error *err)
{
	struct session *s = thr_calloc(1, sizeof(*s));
	struct thr_error e2;

	if (s == NULL) {
		thr_error_set(err, THR_ENOMEM, 0, "out of memory");
		return NULL;
	}
	s->opts = *o;
	s->now_ms = now_ms;
	s->log.level = o->log_level;
	s->log.sink = o->log;
	trace_start(&s->trace, &o->trace, &s->now_ms);
	for (int k = 0; k < SESSION_NSTREAMS; k++)
		session_stream_seed(o->seed, (enum session_stream)k, &s->rng[k]);
	session_make_peer_id(s);
	s->announce_key = rng_next(&s->rng[SESSION_RNG_MISC]);
	peerix_init(&s->ix);
	upsched_init(&s->upq, UPSCHED_QUANTUM);
	bucket_init(&s->up_limit, o->max_up, now_ms);
	bucket_init(&s->down_limit, o->max_down, now_ms);
	rate_init(&s->up, now_ms);
	rate_init(&s->down, now_ms);
	if (o->crypto == SESSION_CRYPTO_OFF)
		return s;
	memset(&e2, 0, sizeof(e2));
	if (mse_lib_init(&s->mse_lib, &e2) == 0)
		s->mse_ok = true;
	else if (o->crypto == SESSION_CRYPTO_REQUIRE) {
		thr_error_set(err, THR_ENOENT, 0, "--encryption require, but "
		    "RC4 is not available: %s", e2.msg);
		session_free(s);
		return NULL;
	} else
		log_msg(&s->log, LOG_WARN, _("encryption unavailable (%s); "
		    "plaintext connections only"), e2.msg);
	return s;
}

/* A torrent of the session ends: its counts of the run go to the trace
 * (the "stop" event), so that a reader needs no log text for them. */
static void
session_end_torrent(struct session *s, struct torrent *t)
{
	trace_emit(&s->trace, "stop", "\"downloaded\":%llu,\"uploaded\":%llu,"
	    "\"verified\":%llu", (unsigned long long)t->downloaded,
	    (unsigned long long)t->uploaded, (unsigned long long)t->verified);
	torrent_free(t);
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	while (s->ntorrents > 0)
		session_end_torrent(s, s->torrents[--s->ntorrents]);
	dht_free(s->dht);
	mse_lib_release(&s->mse_lib);
	trace_stop(&s->trace);
	peerix_release(&s->ix);
	free(s);
}

int
session_add(struct session *s, const struct torrent_opts *o, uint64_t now_ms,
    struct torrent **out, struct thr_error *err)
{
	struct torrent *t;

	if (s->ntorrents == SESSION_MAX_TORRENTS)
		return thr_error_set(err, THR_ELIMIT, 0, "at most %d torrents",
		    SESSION_MAX_TORRENTS);
	if ((t = torrent_new(s, o, now_ms, err)) == NULL)
		return err->code;
	if (session_find(s, t->mi.info_hash) != NULL) {
		torrent_free(t);
		return thr_error_set(err, THR_EINVAL, 0, "%s",
		    "this torrent is already in the session");
	}
	s->torrents[s->ntorrents++] = t;
	s->changes++;
	*out = t;
	return 0;
}

void
session_remove(struct session *s, struct torrent *t)
{
	for (size_t i = 0; i < s->ntorrents; i++)
		if (s->torrents[i] == t) {
			memmove(&s->torrents[i], &s->torrents[i + 1],
			    (s->ntorrents - i - 1) * sizeof(s->torrents[0]));
			s->ntorrents--;
			break;
		}
	session_end_torrent(s, t);
	s->changes++;
}

void
session_set_log_sink(struct session *s, const struct log_sink *sink)
{
	s->log.sink = *sink;
}

void
session_set_port(struct session *s, uint16_t port)
{
	s->port = port;
	trace_emit(&s->trace, "listen", "\"port\":%u", (unsigned)port);
}

void
session_set_status(struct session *s, enum session_status which,
    const char *text)
{
	if ((unsigned)which >= SESSION_NSTATUS ||
	    strcmp(s->status[which], text) == 0)
		return;
	snprintf(s->status[which], sizeof(s->status[which]), "%s", text);
	s->changes++;
}

void
session_set_limit(struct session *s, bool up, uint64_t rate)
{
	bucket_set_rate(up ? &s->up_limit : &s->down_limit, rate, s->now_ms);
	s->changes++;
}

int
session_dht_start(struct session *s, bool local)
{
	struct dht_options o;
	struct thr_error err;
	struct buf b;
	int rc;

	if (!s->opts.dht || s->dht != NULL)
		return 0;
	for (size_t i = 0; i < s->ntorrents; i++)
		if (s->torrents[i]->have_meta && s->torrents[i]->mi.is_private)
			return 0;	/* BEP 27: no DHT for a private one */
	dht_options_init(&o);
	o.seed = rng_next(&s->rng[SESSION_RNG_DHT]) |
	    (uint64_t)rng_next(&s->rng[SESSION_RNG_DHT]) << 32;
	o.allow_private = local;
	o.allow_same_ip = local;
	memset(&err, 0, sizeof(err));
	if ((s->dht = dht_new(&o, &err)) == NULL) {
		log_msg(&s->log, LOG_WARN, _("DHT off: %s"), err.msg);
		return err.code;
	}
	if (s->opts.blobs.load == NULL)
		return 0;
	buf_init(&b, SESSION_DHT_MAX);
	rc = s->opts.blobs.load(s->opts.blobs.ctx, "dht.dat", SESSION_DHT_MAX,
	    &b, &err);
	if (rc == 0 && dht_load(s->dht, b.data, b.len, &err) != 0)
		log_msg(&s->log, LOG_WARN, _("DHT: %s not used: %s"),
		    "dht.dat", err.msg);
	buf_release(&b);
	return 0;
}

void
session_dht_save(struct session *s)
{
	struct thr_error err;
	struct buf b;

	if (s->dht == NULL || s->opts.blobs.save == NULL)
		return;
	memset(&err, 0, sizeof(err));
	buf_init(&b, SESSION_DHT_MAX);
	if (dht_save(s->dht, &b) == 0 &&
	    s->opts.blobs.save(s->opts.blobs.ctx, "dht.dat", b.data, b.len,
	    &err) != 0)
		log_msg(&s->log, LOG_WARN, _("DHT: cannot save: %s"), err.msg);
	buf_release(&b);
}

void
session_dht_stop(struct session *s)
{
	dht_free(s->dht);
	s->dht = NULL;
	s->status[SESSION_STATUS_DHT][0] = '\0';
	s->changes++;
}

struct torrent *
session_find(const struct session *s, const uint8_t info_hash[20])
{
	for (size_t i = 0; i < s->ntorrents; i++)
		if (memcmp(s->torrents[i]->mi.info_hash, info_hash, 20) == 0)
			return s->torrents[i];
	return NULL;
}

struct peer *
session_peer_find(const struct session *s, uint32_t id, struct torrent **t)
{
	return peerix_get(&s->ix, id, t);
}

/*
 * What peer id would send next (upsched_cost_fn): its first queued
 * request as a piece message, or 0 when it has none or when its output
 * buffer has not drained below PEER_OUT_LOW yet (its socket is slow:
 * the others go first rather than wait behind it).
 */
static uint32_t
session_upload_cost(void *ctx, uint32_t id)
{
	struct session *s = ctx;
	struct peer *p = peerix_get(&s->ix, id, NULL);

	if (p == NULL || p->dead || p->phase != PEER_ACTIVE || p->qlen == 0 ||
	    p->out.len >= PEER_OUT_LOW)
		return 0;
	return WIRE_PIECE_HEADER + p->queue[p->qhead].length;
}

size_t
session_upload(struct session *s, uint64_t now_ms)
{
	size_t moved = 0;
	uint32_t id, bytes;

	session_clock(s, now_ms);
	while (moved < SESSION_UPLOAD_PASS &&
	    bucket_ready(&s->up_limit, now_ms) &&
	    (id = upsched_next(&s->upq, session_upload_cost, s, &bytes)) != 0) {
		struct torrent *t = NULL;
		struct peer *p = peerix_get(&s->ix, id, &t);

		if (t->fatal)
			break;
		pwp_upload_block(t, p, now_ms);
		torrent_mark_dirty(t, p);
		/* Charged even when the block failed: its peer is dead and
		 * will not be offered again. */
		upsched_charge(&s->upq, id, bytes);
		moved += bytes;
	}
	return moved;
}

void
session_peer_found(struct session *s, const uint8_t info_hash[20],
    const struct thr_addr *a, enum peer_source src)
{
	struct torrent *t = session_find(s, info_hash);

	if (t == NULL || peerset_banned(&t->ps, a))
		return;
	peerset_known_add(&t->ps, a, src);
	t->changes++;
}

uint64_t
session_tick(struct session *s, uint64_t now_ms)
{
	uint64_t next = now_ms + SESSION_TICK_MS;

	session_clock(s, now_ms);
	for (size_t i = 0; i < s->ntorrents; i++) {
		uint64_t n = torrent_tick(s->torrents[i], now_ms);

		if (n < next)
			next = n;
	}
	if (s->dht != NULL && dht_nodes(s->dht) != s->dht_nodes) {
		s->dht_nodes = dht_nodes(s->dht);
		s->changes++;
	}
	return next;
}
