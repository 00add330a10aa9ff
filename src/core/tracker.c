/*
 * tracker.c: HTTP tracker announces (BEP 3), compact peer lists (BEP 23,
 * BEP 7 "peers6") and multitracker tiers (BEP 12), without any I/O.
 *
 * The response parser reads a bencoded dictionary into a struct
 * tracker_response that owns a flat array of peer addresses.  Everything
 * the tracker says is hostile: the body is capped, text is copied with
 * control characters replaced, intervals are clamped so a tracker can
 * neither make us hammer it nor forget it, and the peer list is capped.
 *
 * The tier list is a small state machine: (tier, idx) names the URL to
 * use now; failures walk forward through the tiers and, after a whole
 * pass, ask the caller to back off exponentially.
 */
#include "config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>


#include "bencode.h"
#include "buf.h"
#include "err.h"
#include "escape.h"
#include "tracker.h"
#include "xalloc.h"

/* Longer than any numeric IPv6 text (INET6_ADDRSTRLEN is 46). */
#define TRACKER_IP_TEXT_MAX	64
/* Compact entry sizes: BEP 23 (IPv4) and BEP 7 (IPv6). */
#define TRACKER_COMPACT4	6
#define TRACKER_COMPACT6	18
/* Tiers a list may hold, counting --tracker additions. */
#define TRACKER_MAX_TIERS	(METAINFO_MAX_TRACKERS + 64u)

static const char *const tracker_events[] = {
	[TRACKER_EVENT_NONE] = NULL,
	[TRACKER_EVENT_STARTED] = "started",
	[TRACKER_EVENT_COMPLETED] = "completed",
	[TRACKER_EVENT_STOPPED] = "stopped",
};

/* Append sep, "name=" and p[0..n) percent-encoded. */
static int
tracker_put_escaped(struct buf *out, const char *sep, const char *name,
    const void *p, size_t n)
{
	int rc;

	if ((rc = buf_printf(out, "%s%s=", sep, name)) != 0)
		return rc;
	return escape_url(out, p, n);
}

int
tracker_build_url(const char *base, const struct tracker_announce *a,
    struct buf *out)
{
	size_t start = out->len, blen;
	const char *ev = NULL, *sep;
	int rc;

	blen = strlen(base);
	if ((rc = buf_puts(out, base)) != 0)
		goto fail;
	/* The first field needs '?' (or '&' after an existing query),
	 * unless the base already ends with a separator. */
	if (blen > 0 && (base[blen - 1] == '?' || base[blen - 1] == '&'))
		sep = "";
	else
		sep = strchr(base, '?') != NULL ? "&" : "?";
	if ((rc = tracker_put_escaped(out, sep, "info_hash", a->info_hash,
	    sizeof a->info_hash)) != 0)
		goto fail;
	if ((rc = tracker_put_escaped(out, "&", "peer_id", a->peer_id,
	    sizeof a->peer_id)) != 0)
		goto fail;
	if ((unsigned)a->event < sizeof tracker_events / sizeof *tracker_events)
		ev = tracker_events[a->event];
	rc = buf_printf(out, "&port=%u&uploaded=%" PRIu64 "&downloaded=%"
	    PRIu64 "&left=%" PRIu64 "&corrupt=0&key=%08" PRIx32,
	    (unsigned)a->port, a->uploaded, a->downloaded, a->left, a->key);
	if (rc != 0)
		goto fail;
	if (ev != NULL && (rc = buf_printf(out, "&event=%s", ev)) != 0)
		goto fail;
	rc = buf_printf(out, "&numwant=%d&compact=1&no_peer_id=1",
	    a->numwant > 0 ? a->numwant : 0);
	if (rc != 0)
		goto fail;
	if (a->tracker_id != NULL && a->tracker_id[0] != '\0' &&
	    (rc = tracker_put_escaped(out, "&", "trackerid", a->tracker_id,
	    strlen(a->tracker_id))) != 0)
		goto fail;
	return 0;
fail:
	/* Leave out as it was: no half-built URL. */
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return rc;
}

void
tracker_copy_text(char *dst, size_t dstlen, const uint8_t *p, size_t n)
{
	size_t i;

	if (n > dstlen - 1)
		n = dstlen - 1;
	for (i = 0; i < n; i++)
		dst[i] = (p[i] < 0x20 || p[i] == 0x7f) ? '?' : (char)p[i];
	dst[n] = '\0';
}

int64_t
tracker_clamp_interval(int64_t v)
{
	if (v < TRACKER_MIN_INTERVAL)
		return TRACKER_MIN_INTERVAL;
	if (v > TRACKER_MAX_INTERVAL)
		return TRACKER_MAX_INTERVAL;
	return v;
}

/* Append one peer if there is room and its port is usable. */
static void
tracker_add_peer(struct tracker_response *r, size_t cap, int family,
    const uint8_t *ip, uint16_t port)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	struct thr_addr *pa;

	if (port == 0 || r->npeers >= cap)
		return;
	pa = &r->peers[r->npeers++];
	memset(pa, 0, sizeof *pa);
	pa->port = port;
	/* An IPv4-mapped IPv6 address is the IPv4 peer itself. */
	if (family == 6 && memcmp(ip, v4mapped, sizeof v4mapped) == 0) {
		family = 4;
		ip += 12;
	}
	pa->family = family;
	memcpy(pa->ip, ip, family == 6 ? 16 : 4);
}

/* One entry of a dictionary peer list (BEP 3, non-compact). */
static void
tracker_add_dict_peer(struct tracker_response *r, size_t cap,
    const struct bencode *b, size_t t)
{
	char text[TRACKER_IP_TEXT_MAX];
	uint8_t ip[16];
	const uint8_t *s;
	size_t slen;
	int64_t port;

	if (!bencode_is(b, t, BENCODE_DICT))
		return;
	if (!bencode_dict_str(b, t, "ip", &s, &slen) ||
	    !bencode_dict_int(b, t, "port", &port))
		return;
	if (port < 1 || port > 65535 || slen == 0 || slen >= sizeof text ||
	    memchr(s, '\0', slen) != NULL)
		return;
	memcpy(text, s, slen);
	text[slen] = '\0';
	/* Numeric addresses only: resolving host names is I/O the tracker
	 * should not be able to make us do. */
	if (inet_pton(AF_INET, text, ip) == 1)
		tracker_add_peer(r, cap, 4, ip, (uint16_t)port);
	else if (inet_pton(AF_INET6, text, ip) == 1)
		tracker_add_peer(r, cap, 6, ip, (uint16_t)port);
}

/*
 * The scalar fields of the top-level dictionary (token 0 of b): failure
 * and warning text, intervals, tracker id and swarm counts.  Kept apart
 * from the peer list because each field is optional and read on its own,
 * while the peers need an allocation that can fail.
 */
static void
tracker_read_fields(const struct bencode *b, struct tracker_response *r)
{
	const uint8_t *s;
	size_t slen;
	int64_t v;

	if (bencode_dict_str(b, 0, "failure reason", &s, &slen)) {
		r->failed = true;
		tracker_copy_text(r->failure, sizeof r->failure, s, slen);
	}
	if (bencode_dict_str(b, 0, "warning message", &s, &slen))
		tracker_copy_text(r->warning, sizeof r->warning, s, slen);
	if (bencode_dict_int(b, 0, "interval", &v) && v > 0)
		r->interval = tracker_clamp_interval(v);
	if (bencode_dict_int(b, 0, "min interval", &v) && v > 0)
		r->min_interval = tracker_clamp_interval(v);
	/* The id goes back to the tracker verbatim, so keep it only if it
	 * fits whole and is a C string. */
	if (bencode_dict_str(b, 0, "tracker id", &s, &slen) &&
	    slen < sizeof r->tracker_id && memchr(s, '\0', slen) == NULL) {
		memcpy(r->tracker_id, s, slen);
		r->tracker_id[slen] = '\0';
	}
	if (bencode_dict_int(b, 0, "complete", &v) && v >= 0)
		r->complete = v;
	if (bencode_dict_int(b, 0, "incomplete", &v) && v >= 0)
		r->incomplete = v;
}

/*
 * The peers of the top-level dictionary of b: "peers" as a compact
 * string (BEP 23) or a list of dictionaries (BEP 3), and "peers6" (BEP
 * 7).  r->peers is sized once for the upper bound of what is kept, so
 * the only failure is THR_ENOMEM; r->peers stays NULL when no usable
 * peer came.
 */
static int
tracker_read_peers(const struct bencode *b, struct tracker_response *r,
    struct thr_error *err)
{
	const uint8_t *s = NULL, *s6 = NULL;
	size_t slen = 0, s6len = 0, peers, t, want, cap;

	want = 0;
	peers = bencode_dict_get(b, 0, "peers");
	if (peers != BENCODE_NONE) {
		if (bencode_str(b, peers, &s, &slen))
			want += slen / TRACKER_COMPACT4;
		else if (bencode_is(b, peers, BENCODE_LIST))
			want += b->toks[peers].nchild;
	}
	if (bencode_dict_str(b, 0, "peers6", &s6, &s6len))
		want += s6len / TRACKER_COMPACT6;
	cap = want < TRACKER_MAX_PEERS ? want : TRACKER_MAX_PEERS;
	if (cap > 0) {
		r->peers = thr_calloc(cap, sizeof *r->peers);
		if (r->peers == NULL)
			return thr_error_set(err, THR_ENOMEM, 0,
			    "out of memory for %zu peers", cap);
	}

	if (s != NULL) {
		/* A trailing partial entry is ignored (BEP 23 says nothing of
		 * it and real trackers have been seen to send one). */
		for (t = 0; t + TRACKER_COMPACT4 <= slen; t += TRACKER_COMPACT4)
			tracker_add_peer(r, cap, 4, s + t, be16(s + t + 4));
	} else if (peers != BENCODE_NONE &&
	    bencode_is(b, peers, BENCODE_LIST)) {
		for (t = bencode_first(b, peers);
		    t != BENCODE_NONE && r->npeers < cap;
		    t = bencode_next(b, t))
			tracker_add_dict_peer(r, cap, b, t);
	}
	if (s6 != NULL) {
		for (t = 0; t + TRACKER_COMPACT6 <= s6len;
		    t += TRACKER_COMPACT6)
			tracker_add_peer(r, cap, 6, s6 + t, be16(s6 + t + 16));
	}
	if (r->npeers == 0) {
		free(r->peers);
		r->peers = NULL;
	}
	return 0;
}

int
tracker_parse_response(const uint8_t *body, size_t len,
    struct tracker_response *r, struct thr_error *err)
{
	struct bencode b;
	int rc;

	memset(r, 0, sizeof *r);
	r->complete = r->incomplete = -1;
	r->interval = TRACKER_DEFAULT_INTERVAL;
	if (len > TRACKER_MAX_BODY)
		return thr_error_set(err, THR_ELIMIT, TRACKER_MAX_BODY,
		    "tracker response over %u bytes", TRACKER_MAX_BODY);
	/* A body of at most TRACKER_MAX_BODY bytes holds fewer tokens than
	 * the default cap, so a long dictionary peer list cannot fail the
	 * parse; the peers kept are capped below instead. */
	rc = bencode_decode(&b, body, len, BENCODE_DEFAULT_MAX_TOKENS, err);
	if (rc != 0) {
		/* Any bencode failure means "not a bencoded dict" to callers;
		 * err keeps the decoder's offset and message. */
		if (rc != THR_ENOMEM)
			rc = THR_EINVAL;
		if (err != NULL)
			err->code = rc;
		return rc;
	}
	if (!bencode_is(&b, 0, BENCODE_DICT)) {
		rc = thr_error_set(err, THR_EINVAL, 0,
		    "tracker response is not a dictionary");
		goto out;
	}
	tracker_read_fields(&b, r);
	rc = tracker_read_peers(&b, r, err);
out:
	bencode_release(&b);
	if (rc != 0)
		tracker_response_release(r);
	return rc;
}

void
tracker_response_release(struct tracker_response *r)
{
	free(r->peers);
	r->peers = NULL;
	r->npeers = 0;
}

/* Fisher-Yates with the caller's random source, so a seeded run shuffles
 * the same way every time. */
static void
tracker_shuffle(char **v, size_t n, uint32_t (*rnd)(void *), void *ctx)
{
	size_t i, j;
	char *tmp;

	if (rnd == NULL)
		return;
	for (i = n; i > 1; i--) {
		j = rnd(ctx) % i;
		tmp = v[i - 1];
		v[i - 1] = v[j];
		v[j] = tmp;
	}
}

/* Append an empty tier at the end.  THR_ELIMIT / THR_ENOMEM. */
static int
tracker_list_grow(struct tracker_list *tl)
{
	void *p;

	if (tl->ntiers >= TRACKER_MAX_TIERS)
		return THR_ELIMIT;
	p = thr_realloc(tl->tiers, (tl->ntiers + 1) * sizeof *tl->tiers);
	if (p == NULL)
		return THR_ENOMEM;
	tl->tiers = p;
	tl->tiers[tl->ntiers].urls = NULL;
	tl->tiers[tl->ntiers].nurls = 0;
	tl->ntiers++;
	return 0;
}

int
tracker_list_init(struct tracker_list *tl, const struct metainfo *m,
    uint32_t (*rnd)(void *), void *ctx)
{
	size_t i, j, n;
	char **urls;
	int rc;

	memset(tl, 0, sizeof *tl);
	for (i = 0; i < m->ntiers; i++) {
		n = 0;
		for (j = 0; j < m->tiers[i].nurls; j++)
			if (m->tiers[i].urls[j] != NULL &&
			    m->tiers[i].urls[j][0] != '\0')
				n++;
		/* Empty tiers are dropped so the current URL always exists. */
		if (n == 0)
			continue;
		if ((rc = tracker_list_grow(tl)) != 0)
			goto fail;
		urls = thr_calloc(n, sizeof *urls);
		if (urls == NULL) {
			rc = THR_ENOMEM;
			goto fail;
		}
		tl->tiers[tl->ntiers - 1].urls = urls;
		for (j = 0; j < m->tiers[i].nurls; j++) {
			const char *u = m->tiers[i].urls[j];

			if (u == NULL || u[0] == '\0')
				continue;
			urls[tl->tiers[tl->ntiers - 1].nurls] = thr_strdup(u);
			if (urls[tl->tiers[tl->ntiers - 1].nurls] == NULL) {
				rc = THR_ENOMEM;
				goto fail;
			}
			tl->tiers[tl->ntiers - 1].nurls++;
		}
		tracker_shuffle(urls, n, rnd, ctx);
	}
	return 0;
fail:
	tracker_list_release(tl);
	return rc;
}

int
tracker_list_add(struct tracker_list *tl, const char *url)
{
	char **urls;
	int rc;

	if (url == NULL || url[0] == '\0')
		return THR_EINVAL;
	if ((rc = tracker_list_grow(tl)) != 0)
		return rc;
	urls = thr_calloc(1, sizeof *urls);
	if (urls == NULL || (urls[0] = thr_strdup(url)) == NULL) {
		free(urls);
		tl->ntiers--;
		return THR_ENOMEM;
	}
	tl->tiers[tl->ntiers - 1].urls = urls;
	tl->tiers[tl->ntiers - 1].nurls = 1;
	return 0;
}

void
tracker_list_release(struct tracker_list *tl)
{
	size_t i, j;

	for (i = 0; i < tl->ntiers; i++) {
		for (j = 0; j < tl->tiers[i].nurls; j++)
			free(tl->tiers[i].urls[j]);
		free(tl->tiers[i].urls);
	}
	free(tl->tiers);
	memset(tl, 0, sizeof *tl);
}

const char *
tracker_list_current(const struct tracker_list *tl)
{
	if (tl->tier >= tl->ntiers || tl->idx >= tl->tiers[tl->tier].nurls)
		return NULL;
	return tl->tiers[tl->tier].urls[tl->idx];
}

int
tracker_list_failed(struct tracker_list *tl)
{
	unsigned delay;

	if (tl->ntiers == 0)
		return 0;
	if (++tl->idx < tl->tiers[tl->tier].nurls)
		return 0;
	tl->idx = 0;
	if (++tl->tier < tl->ntiers)
		return 0;
	/* A whole pass failed: start over, after a growing pause so a dead
	 * swarm of trackers is not hammered. */
	tl->tier = 0;
	delay = TRACKER_RETRY_MAX;
	if (tl->failures < 16 &&
	    (TRACKER_RETRY_MIN << tl->failures) < TRACKER_RETRY_MAX)
		delay = TRACKER_RETRY_MIN << tl->failures;
	if (tl->failures < 64)
		tl->failures++;
	return (int)delay;
}

void
tracker_list_succeeded(struct tracker_list *tl)
{
	char **urls, *u;

	if (tl->tier < tl->ntiers && tl->idx < tl->tiers[tl->tier].nurls) {
		/* BEP 12: the URL that answered moves to the front. */
		urls = tl->tiers[tl->tier].urls;
		u = urls[tl->idx];
		memmove(urls + 1, urls, tl->idx * sizeof *urls);
		urls[0] = u;
	}
	tl->tier = 0;
	tl->idx = 0;
	tl->failures = 0;
}
