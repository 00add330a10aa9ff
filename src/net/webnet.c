/*
 * webnet.c: web seeds as transports.  See webnet.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/i18n.h"
#include "core/torrent.h"
#include "core/webseed.h"
#include "net/webnet.h"

struct webnet_seed;

/* One HTTP range request of a web seed; the callback's user data. */
struct webnet_req {
	struct webnet_seed	*seed;
	long			 id;		/* http request, 0 when free */
	uint32_t		 job;		/* the engine's job id */
};

/* A web seed slot of a torrent: the engine while open, the transport
 * that carries it, and when to open it again. */
struct webnet_seed {
	struct webnet		*w;
	uint32_t		 torrent;	/* torrent id */
	size_t			 index;		/* in the url-list */
	struct webseed		*ws;		/* owned, NULL when closed */
	struct xport		*x;		/* NULL when closed */
	uint64_t		 retry_ms;
	bool			 named;		/* client set to "web seed" */
	bool			 banned;	/* sent bad data: never again */
	struct webnet_req	 reqs[WEBSEED_MAX_SPANS];
};

struct webnet {
	struct session		*s;	/* borrowed */
	struct xnet		*n;	/* borrowed */
	struct http		*http;	/* borrowed */
	struct {
		uint32_t		 id;	/* torrent id, 0: free */
		struct webnet_seed	 seeds[METAINFO_MAX_WEBSEEDS];
	}			 t[WEBNET_TORRENTS];
};

struct webnet *
webnet_new(struct session *s, struct xnet *n, struct http *h)
{
	struct webnet *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->s = s;
	w->n = n;
	w->http = h;
	return w;
}

void
webnet_free(struct webnet *w)
{
	free(w);
}

static void
webnet_addr(size_t i, struct thr_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->ip[3] = (uint8_t)(i + 1);
	a->port = (uint16_t)(i + 1);
}

/* --- the transport operations -------------------------------------------- */

static void
webnet_done(void *ud, int status, long code, const uint8_t *body,
    size_t len, const char *errmsg)
{
	struct webnet_req *q = ud;
	struct webnet_seed *sd = q->seed;
	uint64_t now = loop_now_ms();
	uint32_t fails;

	q->id = 0;
	if (sd->ws == NULL)
		return;
	fails = webseed_failures(sd->ws);
	webseed_fetch_done(sd->ws, q->job, status, code, body, len, now);
	if (webseed_failures(sd->ws) > fails)
		log_msg(&sd->w->s->log, LOG_INFO, _("web seed %s: %s; retrying "
		    "in %llu s"), webseed_host(sd->ws), status != 0 ? errmsg :
		    code != 206 && code != 200 ? _("unexpected status") :
		    _("wrong length"), (unsigned long long)
		    ((webseed_backoff_until(sd->ws) - now) / 1000));
	if (sd->x != NULL)
		xnet_ready(sd->x);
}

static ssize_t
web_op_read(struct xport *x, struct buf *in, size_t max, char *why,
    size_t whylen)
{
	struct webnet_seed *sd = x->impl;

	(void)why;
	(void)whylen;
	webseed_tick(sd->ws, loop_now_ms());
	if (webseed_pending(sd->ws) == 0)
		return 0;
	return (ssize_t)webseed_read(sd->ws, in, max);
}

/* The engine's range requests to libcurl. */
static void
webnet_fetch(struct webnet_seed *sd, uint64_t now)
{
	struct webseed_fetch job;

	for (int k = 0; k < WEBSEED_MAX_SPANS; k++) {
		long id;

		if (sd->reqs[k].id != 0 || !webseed_next_fetch(sd->ws, now,
		    &job))
			continue;
		id = http_get_range(sd->w->http, job.url, job.offset,
		    job.length, (size_t)job.length, webnet_done, &sd->reqs[k]);
		if (id < 0) {
			webseed_fetch_done(sd->ws, job.id, (int)id, 0, NULL, 0,
			    now);
			break;
		}
		sd->reqs[k].id = id;
		sd->reqs[k].job = job.id;
	}
}

static ssize_t
web_op_write(struct xport *x, struct buf *out, char *why, size_t whylen)
{
	struct webnet_seed *sd = x->impl;
	uint64_t now = loop_now_ms();
	size_t used = 0;

	if (out->len > 0 && webseed_input(sd->ws, out->data, out->len, &used,
	    now) != 0) {
		snprintf(why, whylen, "web seed: cannot follow the session");
		return THR_EIO;
	}
	buf_consume(out, used);
	webnet_fetch(sd, now);
	/* The client name once the engine answered the handshake. */
	if (!sd->named && x->p->phase == PEER_ACTIVE) {
		snprintf(x->p->client, sizeof(x->p->client), "web seed");
		sd->named = true;
	}
	return (ssize_t)used;
}

static enum xport_status
web_op_status(struct xport *x, char *why, size_t whylen)
{
	(void)x;
	(void)why;
	(void)whylen;
	return XPORT_OPEN;	/* HTTP has no connection to wait for */
}

static void
web_op_want(struct xport *x, bool read, bool write)
{
	(void)x;
	(void)read;
	(void)write;	/* finished requests wake the seed */
}

/* The transport is closing: cancel the transfers, free the engine, and
 * come back later unless the seed was banned for bad data. */
static void
web_op_close(struct xport *x)
{
	struct webnet_seed *sd = x->impl;
	struct webnet *w = sd->w;
	struct thr_addr a;

	for (int k = 0; k < WEBSEED_MAX_SPANS; k++)
		if (sd->reqs[k].id != 0) {
			http_cancel(w->http, sd->reqs[k].id);
			sd->reqs[k].id = 0;
		}
	webnet_addr(sd->index, &a);
	if (peerset_banned(&x->t->ps, &a)) {
		log_msg(&w->s->log, LOG_WARN, _("web seed %s dropped: it sent "
		    "bad data"), webseed_host(sd->ws));
		sd->banned = true;
	}
	webseed_free(sd->ws);
	sd->ws = NULL;
	sd->x = NULL;
	sd->retry_ms = loop_now_ms() + WEBNET_RETRY_MS;
}

static const struct xport_ops web_ops = {
	.name = "web",
	.read = web_op_read,
	.write = web_op_write,
	.status = web_op_status,
	.want = web_op_want,
	.close = web_op_close,
};

/* --- opening -------------------------------------------------------------- */

static void
webnet_open(struct webnet *w, struct torrent *t, struct webnet_seed *sd,
    uint64_t now)
{
	struct thr_error err;
	struct thr_addr a;
	struct peer *p;

	webnet_addr(sd->index, &a);
	if (peerset_banned(&t->ps, &a)) {
		sd->banned = true;
		return;
	}
	if ((p = torrent_peer_add(t, &a, false, PEER_SRC_WEB, PEER_WEB,
	    now)) == NULL) {
		sd->retry_ms = now + WEBNET_RETRY_MS;
		return;
	}
	memset(&err, 0, sizeof(err));
	if ((sd->ws = webseed_new(&t->mi, t->mi.webseeds[sd->index],
	    (uint32_t)sd->index, now, &err)) == NULL) {
		peer_kill(p, err.msg);
		sd->retry_ms = now + WEBNET_RETRY_MS;
		return;
	}
	for (int k = 0; k < WEBSEED_MAX_SPANS; k++) {
		sd->reqs[k].seed = sd;
		sd->reqs[k].id = 0;
	}
	sd->named = false;
	p->listen_port = 0;	/* nobody can dial it: keep it out of pex */
	snprintf(p->host, sizeof(p->host), "%s", webseed_host(sd->ws));
	if ((sd->x = xnet_add(w->n, &web_ops, t, p, -1, sd)) == NULL) {
		webseed_free(sd->ws);
		sd->ws = NULL;
		peer_kill(p, "too many connections");
		sd->retry_ms = now + WEBNET_RETRY_MS;
		return;
	}
	log_msg(&w->s->log, LOG_INFO, _("web seed %s: using HTTP range "
	    "requests"), webseed_host(sd->ws));
	xnet_ready(sd->x);	/* the pump sees it open: handshake */
}

/* The slots of torrent t (taking a free one, or one of a torrent that
 * left), or NULL when all are in use. */
static struct webnet_seed *
webnet_slots(struct webnet *w, const struct torrent *t)
{
	for (size_t i = 0; i < WEBNET_TORRENTS; i++)
		if (w->t[i].id == t->id)
			return w->t[i].seeds;
	for (size_t i = 0; i < WEBNET_TORRENTS; i++) {
		bool live = false;

		for (size_t k = 0; k < w->s->ntorrents && !live; k++)
			live = w->t[i].id != 0 &&
			    w->s->torrents[k]->id == w->t[i].id;
		if (live)
			continue;
		memset(&w->t[i], 0, sizeof(w->t[i]));
		w->t[i].id = t->id;
		for (size_t k = 0; k < METAINFO_MAX_WEBSEEDS; k++) {
			w->t[i].seeds[k].w = w;
			w->t[i].seeds[k].torrent = t->id;
			w->t[i].seeds[k].index = k;
		}
		return w->t[i].seeds;
	}
	return NULL;
}

void
webnet_pump(struct webnet *w, uint64_t now_ms)
{
	for (size_t k = 0; k < w->s->ntorrents; k++) {
		struct torrent *t = w->s->torrents[k];
		struct webnet_seed *sd;

		if (!t->have_meta || t->mi.nwebseeds == 0 || t->paused ||
		    t->phase != TORRENT_DOWNLOADING ||
		    (sd = webnet_slots(w, t)) == NULL)
			continue;
		for (size_t i = 0; i < t->mi.nwebseeds &&
		    i < METAINFO_MAX_WEBSEEDS; i++)
			if (sd[i].ws == NULL && !sd[i].banned &&
			    now_ms >= sd[i].retry_ms)
				webnet_open(w, t, &sd[i], now_ms);
	}
}
