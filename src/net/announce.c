/*
 * announce.c: tracker requests for the session's torrents.  See
 * announce.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/torrent.h"
#include "net/announce.h"

struct announce {
	struct session	*s;		/* borrowed */
	struct http	*http;		/* borrowed */
	struct udpmux	*udp;		/* borrowed, may be NULL */
	long		 req;		/* HTTP request in flight, 0 none */
	uint32_t	 torrent;	/* whose request is in flight */
	struct buf	 url;
};

struct announce *
announce_new(struct session *s, struct http *h, struct udpmux *u)
{
	struct announce *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->s = s;
	a->http = h;
	a->udp = u;
	buf_init(&a->url, ANNOUNCE_URL_MAX);
	return a;
}

void
announce_free(struct announce *a)
{
	if (a == NULL)
		return;
	if (a->req != 0)
		http_cancel(a->http, a->req);
	buf_release(&a->url);
	free(a);
}

/* The torrent a request was for, if it is still in the session. */
static struct torrent *
announce_torrent(const struct announce *a)
{
	for (size_t k = 0; k < a->s->ntorrents; k++)
		if (a->s->torrents[k]->id == a->torrent)
			return a->s->torrents[k];
	return NULL;
}

static void
announce_result(void *ctx, int status, struct tracker_response *r,
    const char *msg, uint64_t now_ms)
{
	struct announce *a = ctx;
	struct torrent *t = announce_torrent(a);

	if (t != NULL)
		torrent_announce_result(t, status, r, msg, now_ms);
	else if (r != NULL)
		tracker_response_release(r);
}

static void
announce_http_done(void *ud, int status, long code, const uint8_t *body,
    size_t len, const char *errmsg)
{
	struct announce *a = ud;
	struct tracker_response r;
	struct thr_error err;

	(void)code;
	a->req = 0;
	memset(&r, 0, sizeof(r));
	memset(&err, 0, sizeof(err));
	if (status == 0 &&
	    (status = tracker_parse_response(body, len, &r, &err)) != 0)
		errmsg = err.msg;
	announce_result(a, status, &r, errmsg, loop_now_ms());
}

/* Send t's announce ann to url. */
static void
announce_send(struct announce *a, struct torrent *t, const char *url,
    const struct tracker_announce *ann, uint64_t now_ms)
{
	long id;

	a->torrent = t->id;
	if (strncmp(url, "udp://", 6) == 0) {
		if (a->udp == NULL)
			torrent_announce_result(t, THR_EIO, NULL,
			    "no UDP socket", now_ms);
		else
			udpmux_announce(a->udp, url, ann, announce_result, a,
			    now_ms);
		return;
	}
	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) {
		torrent_announce_result(t, THR_EINVAL, NULL,
		    "unsupported tracker URL scheme", now_ms);
		return;
	}
	buf_reset(&a->url);
	if (tracker_build_url(url, ann, &a->url) != 0) {
		torrent_announce_result(t, THR_ELIMIT, NULL,
		    "announce URL too long", now_ms);
		return;
	}
	log_msg(&a->s->log, LOG_DEBUG, "announce %s", (char *)a->url.data);
	id = http_get(a->http, (char *)a->url.data, TRACKER_MAX_BODY,
	    announce_http_done, a);
	if (id < 0)
		torrent_announce_result(t, (int)id, NULL,
		    "cannot start request", now_ms);
	else
		a->req = id;
}

void
announce_pump(struct announce *a, uint64_t now_ms)
{
	struct tracker_announce ann;
	const char *url;

	if (a->req != 0 || udpmux_busy(a->udp))
		return;
	for (size_t k = 0; k < a->s->ntorrents; k++) {
		struct torrent *t = a->s->torrents[k];

		if (torrent_announce_next(t, now_ms, &ann, &url)) {
			announce_send(a, t, url, &ann, now_ms);
			return;
		}
	}
}

void
announce_stop(struct announce *a)
{
	if (a->req != 0) {
		http_cancel(a->http, a->req);
		a->req = 0;
	}
	udpmux_cancel(a->udp);
	for (size_t k = 0; k < a->s->ntorrents; k++)
		torrent_announce_stop(a->s->torrents[k]);
}

bool
announce_busy(const struct announce *a)
{
	if (a->req != 0 || udpmux_busy(a->udp))
		return true;
	for (size_t k = 0; k < a->s->ntorrents; k++)
		if (announcer_busy(&a->s->torrents[k]->ann))
			return true;
	return false;
}
