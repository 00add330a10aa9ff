/*
 * webseed.c: the web seed engine (BEP 19) between the session's peer
 * wire and HTTP range requests.  See webseed.h for the data model.
 *
 * Blocks are named by (index, begin, length) as the session asked for
 * them; their place in the torrent's byte space is index * piece length
 * + begin, which is what spans and files are measured in.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "escape.h"
#include "webseed.h"
#include "wire.h"
#include "xalloc.h"

/* BEP 6 fast extension, reserved byte 7 bit 0x04: lets us answer with
 * HAVE_ALL and REJECT.  Nothing else: no BEP 10, no DHT. */
static const uint8_t webseed_reserved[8] = { 0, 0, 0, 0, 0, 0, 0, 0x04 };

struct webseed_block {
	uint32_t	 index, begin, length;
	bool		 cancelled;
};

struct webseed_span {
	bool			 used;
	uint64_t		 toff;		/* torrent offset */
	uint64_t		 len;
	uint64_t		 got;		/* bytes in, from the start */
	uint32_t		 job;		/* segment in flight, 0 none */
	uint64_t		 seglen;	/* its length */
	bool			 whole;		/* it is a whole file */
	uint8_t			*data;		/* owned, len bytes */
	struct buf		 url;		/* the segment's URL */
	struct webseed_block	 blocks[WEBSEED_SPAN_BLOCKS];
	uint32_t		 nblocks;
};

struct webseed {
	const struct metainfo	*mi;		/* borrowed */
	char			*base;		/* owned */
	char			 host[WEBSEED_HOST_MAX];
	uint8_t			 peer_id[20];
	struct webseed_block	 queue[WEBSEED_MAX_QUEUED];
	uint32_t		 nqueue;
	struct webseed_span	 spans[WEBSEED_MAX_SPANS];
	struct buf		 out;		/* toward the session */
	bool			 got_handshake;
	bool			 choked;	/* we told the session so */
	uint64_t		 backoff_until, backoff_ms;
	uint32_t		 failures;
	uint32_t		 next_job;
	uint64_t		 last_out_ms;
};

static uint64_t
webseed_toff(const struct webseed *w, const struct webseed_block *b)
{
	return (uint64_t)b->index * w->mi->piece_length + b->begin;
}

/* An append toward the session failed: only if our own bounds are
 * wrong, since every span's room is reserved before it starts. */
static void
webseed_put_simple(struct webseed *w, enum wire_id id, uint64_t now_ms)
{
	(void)wire_put_simple(&w->out, id);
	w->last_out_ms = now_ms;
}

static void
webseed_reject(struct webseed *w, const struct webseed_block *b)
{
	(void)wire_put_request(&w->out, WIRE_REJECT, b->index, b->begin,
	    b->length);
}

/* The host of a URL, between "://" (and any user@) and the path. */
static void
webseed_set_host(struct webseed *w, const char *url)
{
	const char *h = strstr(url, "://"), *e, *at;

	h = h != NULL ? h + 3 : url;
	e = h + strcspn(h, "/?#");
	for (at = h; at < e; at++)
		if (*at == '@')
			h = at + 1;
	escape_str(h, (size_t)(e - h), w->host, sizeof(w->host));
}

struct webseed *
webseed_new(const struct metainfo *mi, const char *url, uint32_t index,
    uint64_t now_ms, struct thr_error *err)
{
	struct webseed *w;
	uint8_t hs[WIRE_HANDSHAKE_LEN];
	char id[21];

	if (mi == NULL || url == NULL || mi->npieces == 0 ||
	    mi->piece_length == 0 || strlen(url) >= WEBSEED_URL_MAX) {
		thr_error_set(err, THR_EINVAL, 0, "bad web seed");
		return NULL;
	}
	if ((w = thr_calloc(1, sizeof(*w))) == NULL ||
	    (w->base = thr_strdup(url)) == NULL) {
		free(w);
		thr_error_set(err, THR_ENOMEM, 0, "out of memory");
		return NULL;
	}
	w->mi = mi;
	webseed_set_host(w, url);
	/* Azureus style with a code no client uses; the index keeps two
	 * seeds from looking like one peer connected twice. */
	snprintf(id, sizeof(id), "-WS0100-%012u", index);
	memcpy(w->peer_id, id, 20);
	buf_init(&w->out, WEBSEED_OUT_MAX);
	for (int i = 0; i < WEBSEED_MAX_SPANS; i++)
		buf_init(&w->spans[i].url, WEBSEED_URL_MAX);
	wire_handshake_build(hs, mi->info_hash, w->peer_id, webseed_reserved);
	(void)buf_append(&w->out, hs, sizeof(hs));
	webseed_put_simple(w, WIRE_HAVE_ALL, now_ms);
	webseed_put_simple(w, WIRE_UNCHOKE, now_ms);
	return w;
}

static void
webseed_span_free(struct webseed_span *sp)
{
	free(sp->data);
	sp->data = NULL;
	sp->used = false;
	sp->job = 0;
	sp->nblocks = 0;
	sp->got = 0;
}

void
webseed_free(struct webseed *w)
{
	if (w == NULL)
		return;
	for (int i = 0; i < WEBSEED_MAX_SPANS; i++) {
		webseed_span_free(&w->spans[i]);
		buf_release(&w->spans[i].url);
	}
	buf_release(&w->out);
	free(w->base);
	free(w);
}

static bool
webseed_request_ok(const struct webseed *w, const struct wire_msg *m)
{
	return m->index < w->mi->npieces && m->length > 0 &&
	    m->length <= WIRE_MAX_BLOCK && (uint64_t)m->begin + m->length <=
	    metainfo_piece_size(w->mi, m->index);
}

static void
webseed_on_request(struct webseed *w, const struct wire_msg *m)
{
	struct webseed_block b = { m->index, m->begin, m->length, false };

	if (w->choked || w->nqueue >= WEBSEED_MAX_QUEUED ||
	    !webseed_request_ok(w, m)) {
		webseed_reject(w, &b);
		return;
	}
	w->queue[w->nqueue++] = b;
}

static bool
webseed_same(const struct webseed_block *b, const struct wire_msg *m)
{
	return b->index == m->index && b->begin == m->begin &&
	    b->length == m->length;
}

static void
webseed_on_cancel(struct webseed *w, const struct wire_msg *m)
{
	for (uint32_t i = 0; i < w->nqueue; i++)
		if (webseed_same(&w->queue[i], m)) {
			memmove(&w->queue[i], &w->queue[i + 1],
			    (w->nqueue - i - 1) * sizeof(w->queue[0]));
			w->nqueue--;
			return;
		}
	for (int s = 0; s < WEBSEED_MAX_SPANS; s++)
		for (uint32_t i = 0; w->spans[s].used &&
		    i < w->spans[s].nblocks; i++)
			if (webseed_same(&w->spans[s].blocks[i], m))
				w->spans[s].blocks[i].cancelled = true;
}

int
webseed_input(struct webseed *w, const uint8_t *data, size_t len,
    size_t *used, uint64_t now_ms)
{
	struct wire_msg m;
	size_t off = 0, n;
	int rc;

	(void)now_ms;
	*used = 0;
	if (!w->got_handshake) {
		if (len < WIRE_HANDSHAKE_LEN)
			return 0;
		if (wire_handshake_parse(data, NULL, NULL, NULL) != 0)
			return THR_EPROTO;
		w->got_handshake = true;
		off = WIRE_HANDSHAKE_LEN;
	}
	while (off < len) {
		rc = wire_parse(data + off, len - off, w->mi->npieces, &m, &n);
		if (rc == 0)
			break;
		if (rc < 0) {
			*used = off;
			return THR_EPROTO;
		}
		off += n;
		if (m.keepalive)
			continue;
		if (m.id == WIRE_REQUEST)
			webseed_on_request(w, &m);
		else if (m.id == WIRE_CANCEL)
			webseed_on_cancel(w, &m);
		/* Interest, haves, our bitfield, extensions: a web seed
		 * has everything and serves anyone, so none matter. */
	}
	*used = off;
	return 0;
}

size_t
webseed_read(struct webseed *w, struct buf *dst, size_t max)
{
	size_t n = w->out.len < max ? w->out.len : max;

	if (dst->max - dst->len < n)
		n = dst->max - dst->len;
	if (n == 0 || buf_append(dst, w->out.data, n) != 0)
		return 0;
	buf_consume(&w->out, n);
	return n;
}

size_t
webseed_pending(const struct webseed *w)
{
	return w->out.len;
}

void
webseed_tick(struct webseed *w, uint64_t now_ms)
{
	if (w->backoff_until != 0 && now_ms >= w->backoff_until) {
		w->backoff_until = 0;
		w->choked = false;
		webseed_put_simple(w, WIRE_UNCHOKE, now_ms);
	}
	if (now_ms - w->last_out_ms >= WEBSEED_KEEPALIVE_MS &&
	    w->out.len == 0) {
		(void)wire_put_keepalive(&w->out);
		w->last_out_ms = now_ms;
	}
}

/* Bytes already promised to the output: what waits, plus every span's
 * PIECE messages. */
static uint64_t
webseed_reserved_out(const struct webseed *w)
{
	uint64_t r = w->out.len;

	for (int s = 0; s < WEBSEED_MAX_SPANS; s++)
		if (w->spans[s].used)
			r += w->spans[s].len + w->spans[s].nblocks * 13u;
	return r;
}

/* Take the first waiting block and every one that continues it. */
static struct webseed_span *
webseed_span_start(struct webseed *w)
{
	struct webseed_span *sp = NULL;
	uint64_t end;
	bool grew = true;

	for (int s = 0; s < WEBSEED_MAX_SPANS && sp == NULL; s++)
		if (!w->spans[s].used)
			sp = &w->spans[s];
	/* Room for the largest span and a margin for rejects. */
	if (sp == NULL || w->nqueue == 0 || webseed_reserved_out(w) +
	    WEBSEED_MAX_SPAN + WEBSEED_SPAN_BLOCKS * 13u + (16u << 10) >
	    WEBSEED_OUT_MAX)
		return NULL;
	sp->blocks[0] = w->queue[0];
	sp->nblocks = 1;
	sp->toff = webseed_toff(w, &w->queue[0]);
	sp->len = w->queue[0].length;
	memmove(&w->queue[0], &w->queue[1], (w->nqueue - 1) *
	    sizeof(w->queue[0]));
	w->nqueue--;
	/* Grow at either end: the picker need not ask in order. */
	while (grew && sp->nblocks < WEBSEED_SPAN_BLOCKS) {
		grew = false;
		end = sp->toff + sp->len;
		for (uint32_t i = 0; i < w->nqueue; i++) {
			struct webseed_block *b = &w->queue[i];
			uint64_t bo = webseed_toff(w, b);

			if ((bo != end && bo + b->length != sp->toff) ||
			    sp->len + b->length > WEBSEED_MAX_SPAN)
				continue;
			if (bo == end)
				sp->blocks[sp->nblocks++] = *b;
			else {
				memmove(&sp->blocks[1], &sp->blocks[0],
				    sp->nblocks * sizeof(sp->blocks[0]));
				sp->blocks[0] = *b;
				sp->nblocks++;
				sp->toff = bo;
			}
			sp->len += b->length;
			memmove(b, b + 1, (w->nqueue - i - 1) * sizeof(*b));
			w->nqueue--;
			grew = true;
			break;
		}
	}
	if ((sp->data = thr_malloc(sp->len)) == NULL) {
		/* Give the blocks back to the session to ask elsewhere. */
		for (uint32_t i = 0; i < sp->nblocks; i++)
			webseed_reject(w, &sp->blocks[i]);
		sp->nblocks = 0;
		return NULL;
	}
	sp->used = true;
	sp->got = 0;
	sp->job = 0;
	return sp;
}

/* The file holding torrent byte off (not an empty one). */
static size_t
webseed_file_at(const struct metainfo *mi, uint64_t off)
{
	size_t lo = 0, hi = mi->nfiles;

	/* Last file starting at or before off. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (mi->files[mid].offset <= off)
			lo = mid;
		else
			hi = mid;
	}
	while (lo + 1 < mi->nfiles && off >= mi->files[lo].offset +
	    mi->files[lo].length)
		lo++;
	return lo;
}

/* Describe the next segment of sp as a job. */
static bool
webseed_segment(struct webseed *w, struct webseed_span *sp,
    struct webseed_fetch *job)
{
	const struct metainfo *mi = w->mi;
	uint64_t x = sp->toff + sp->got, fend;
	size_t f = webseed_file_at(mi, x);

	fend = mi->files[f].offset + mi->files[f].length;
	if (x < mi->files[f].offset || x >= fend ||
	    webseed_url(mi, w->base, f, &sp->url) != 0)
		return false;
	sp->seglen = sp->len - sp->got < fend - x ? sp->len - sp->got :
	    fend - x;
	sp->whole = x == mi->files[f].offset &&
	    sp->seglen == mi->files[f].length;
	if (++w->next_job == 0)
		w->next_job = 1;
	sp->job = w->next_job;
	job->id = sp->job;
	job->url = (const char *)sp->url.data;
	job->offset = x - mi->files[f].offset;
	job->length = sp->seglen;
	job->whole = sp->whole;
	return true;
}

static void	webseed_fail(struct webseed *, uint64_t);

bool
webseed_next_fetch(struct webseed *w, uint64_t now_ms,
    struct webseed_fetch *job)
{
	struct webseed_span *sp = NULL;

	if (w->backoff_until != 0 && now_ms < w->backoff_until)
		return false;
	for (int s = 0; s < WEBSEED_MAX_SPANS && sp == NULL; s++)
		if (w->spans[s].used && w->spans[s].job == 0 &&
		    w->spans[s].got < w->spans[s].len)
			sp = &w->spans[s];
	if (sp == NULL && (sp = webseed_span_start(w)) == NULL)
		return false;
	if (!webseed_segment(w, sp, job)) {
		webseed_fail(w, now_ms);	/* URL too long: no use */
		return false;
	}
	return true;
}

/* Every span dropped, every request rejected; wait, then unchoke. */
static void
webseed_fail(struct webseed *w, uint64_t now_ms)
{
	w->failures++;
	w->backoff_ms = w->backoff_ms == 0 ? WEBSEED_BACKOFF_MS :
	    w->backoff_ms * 2;
	if (w->backoff_ms > WEBSEED_BACKOFF_MAX_MS)
		w->backoff_ms = WEBSEED_BACKOFF_MAX_MS;
	w->backoff_until = now_ms + w->backoff_ms;
	/* BEP 6: a choke cancels nothing, so reject each request after
	 * it; choked first, the session does not ask again at once. */
	if (!w->choked) {
		w->choked = true;
		webseed_put_simple(w, WIRE_CHOKE, now_ms);
	}
	for (int s = 0; s < WEBSEED_MAX_SPANS; s++) {
		struct webseed_span *sp = &w->spans[s];

		for (uint32_t i = 0; sp->used && i < sp->nblocks; i++)
			if (!sp->blocks[i].cancelled)
				webseed_reject(w, &sp->blocks[i]);
		webseed_span_free(sp);
	}
	for (uint32_t i = 0; i < w->nqueue; i++)
		webseed_reject(w, &w->queue[i]);
	w->nqueue = 0;
}

/* A span is in: its blocks go to the session in request order. */
static void
webseed_span_emit(struct webseed *w, struct webseed_span *sp,
    uint64_t now_ms)
{
	for (uint32_t i = 0; i < sp->nblocks; i++) {
		const struct webseed_block *b = &sp->blocks[i];
		uint64_t at = webseed_toff(w, b) - sp->toff;

		if (b->cancelled)
			continue;
		if (wire_put_piece_header(&w->out, b->index, b->begin,
		    b->length) != 0 ||
		    buf_append(&w->out, sp->data + at, b->length) != 0)
			break;	/* room was reserved: cannot happen */
	}
	w->last_out_ms = now_ms;
	webseed_span_free(sp);
}

void
webseed_fetch_done(struct webseed *w, uint32_t id, int status,
    long http_code, const uint8_t *body, size_t len, uint64_t now_ms)
{
	struct webseed_span *sp = NULL;

	for (int s = 0; s < WEBSEED_MAX_SPANS && sp == NULL; s++)
		if (id != 0 && w->spans[s].used && w->spans[s].job == id)
			sp = &w->spans[s];
	if (sp == NULL)
		return;		/* dropped by a failure meanwhile */
	sp->job = 0;
	/* 206 is the range; 200 is the whole file, right only when the
	 * range was the whole file.  Anything else, or another length,
	 * is not the data we asked for. */
	if (status != 0 || body == NULL || len != sp->seglen ||
	    !(http_code == 206 || (http_code == 200 && sp->whole))) {
		webseed_fail(w, now_ms);
		return;
	}
	memcpy(sp->data + sp->got, body, len);
	sp->got += len;
	w->failures = 0;
	w->backoff_ms = 0;
	if (sp->got == sp->len)
		webseed_span_emit(w, sp, now_ms);
}

int
webseed_inflight(const struct webseed *w)
{
	int n = 0;

	for (int s = 0; s < WEBSEED_MAX_SPANS; s++)
		n += w->spans[s].used && w->spans[s].job != 0;
	return n;
}

uint64_t
webseed_backoff_until(const struct webseed *w)
{
	return w->backoff_until;
}

uint32_t
webseed_failures(const struct webseed *w)
{
	return w->failures;
}

const char *
webseed_host(const struct webseed *w)
{
	return w->host;
}

const char *
webseed_base(const struct webseed *w)
{
	return w->base;
}

/* Append p[0..n) percent-encoded. */
static int
webseed_put_escaped(struct buf *out, const char *p, size_t n)
{
	if (n > METAINFO_MAX_PATH)
		return THR_ELIMIT;
	return escape_url(out, p, n);
}

int
webseed_url(const struct metainfo *mi, const char *base, size_t f,
    struct buf *out)
{
	size_t bl = strlen(base);
	bool slash = bl > 0 && base[bl - 1] == '/';
	const char *p, *c;
	int rc;

	buf_reset(out);
	if (f >= mi->nfiles)
		return THR_EINVAL;
	if ((rc = buf_append(out, base, bl)) != 0)
		return rc;
	if (!mi->multi)
		return slash ? webseed_put_escaped(out, mi->name,
		    strlen(mi->name)) : 0;
	/* BEP 19: for a multi-file torrent the URL names a directory
	 * holding the torrent's name directory. */
	if (!slash && (rc = buf_puts(out, "/")) != 0)
		return rc;
	for (p = mi->files[f].path; ; p = c + 1) {
		c = strchr(p, '/');
		if ((rc = webseed_put_escaped(out, p, c != NULL ?
		    (size_t)(c - p) : strlen(p))) != 0)
			return rc;
		if (c == NULL)
			break;
		if ((rc = buf_puts(out, "/")) != 0)
			return rc;
	}
	return 0;
}
