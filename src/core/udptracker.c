/*
 * udptracker.c: BEP 15 UDP tracker requests as a state machine over
 * (time, datagram) inputs, with BEP 41 URL data on announces.
 *
 * Data model: the engine holds at most one request.  A request walks
 * IDLE -> CONNECTING -> REQUESTING -> IDLE, skipping CONNECTING while the
 * cached connection id is younger than one minute.  Each step has a
 * transaction id; send_now marks a packet due at once, and deadline_ms
 * the end of the wait for the packet last sent.  Every state change goes
 * through udptracker_set_state.  Wire integers are big-endian.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "tracker.h"
#include "udptracker.h"
#include "xalloc.h"

/* BEP 15 magic constant: the connection id of a connect request. */
#define UDPTRACKER_PROTOCOL_ID	0x41727101980ULL

/* BEP 15 actions. */
#define UDPTRACKER_ACT_CONNECT	0
#define UDPTRACKER_ACT_ANNOUNCE	1
#define UDPTRACKER_ACT_SCRAPE	2
#define UDPTRACKER_ACT_ERROR	3

/* BEP 15 packet sizes. */
#define UDPTRACKER_CONNECT_LEN	16	/* request and answer */
#define UDPTRACKER_ANNOUNCE_LEN	98
#define UDPTRACKER_ANNOUNCE_HDR	20	/* answer before the peers */
#define UDPTRACKER_SCRAPE_LEN	36	/* one info-hash */
#define UDPTRACKER_SCRAPE_ANS	20	/* header, one 12-byte entry */
#define UDPTRACKER_ERROR_HDR	8
#define UDPTRACKER_PEER4	6
#define UDPTRACKER_PEER6	18

/* BEP 41 option types; one URL data option carries at most 255 bytes. */
#define UDPTRACKER_OPT_URLDATA	2
#define UDPTRACKER_OPT_MAX	255u

static void
udptracker_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
udptracker_put64(uint8_t *p, uint64_t v)
{
	udptracker_put32(p, (uint32_t)(v >> 32));
	udptracker_put32(p + 4, (uint32_t)v);
}

static uint32_t
udptracker_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
udptracker_get64(const uint8_t *p)
{
	return (uint64_t)udptracker_get32(p) << 32 | udptracker_get32(p + 4);
}

/* The one place the state changes, so a trace hook has one home. */
static void
udptracker_set_state(struct udptracker *u, enum udptracker_state s)
{
	u->state = s;
	if (s == UDPTRACKER_IDLE || s == UDPTRACKER_TIMED_OUT)
		u->send_now = false;
}

static bool
udptracker_conn_valid(const struct udptracker *u, uint64_t now_ms)
{
	return u->have_conn && now_ms >= u->conn_ms &&
	    now_ms - u->conn_ms < UDPTRACKER_CONN_TTL_MS;
}

/* A new step: fresh transaction id, packet due at once. */
static void
udptracker_step(struct udptracker *u, enum udptracker_state s)
{
	u->tid = u->rnd(u->rnd_ctx);
	u->send_now = true;
	udptracker_set_state(u, s);
}

int
udptracker_parse_url(const char *url, char *host, size_t hostlen,
    uint16_t *port, const char **path)
{
	const char *h, *he, *p;
	unsigned long v;
	size_t hl, nd;

	if (strncasecmp(url, "udp://", 6) != 0)
		return THR_EINVAL;
	h = url + 6;
	if (*h == '[') {
		h++;
		if ((he = strchr(h, ']')) == NULL)
			return THR_EINVAL;
		p = he + 1;
	} else {
		he = h + strcspn(h, ":/?#");
		p = he;
	}
	hl = (size_t)(he - h);
	if (hl == 0)
		return THR_EINVAL;
	/* No user info, spaces or controls: the host goes to the resolver
	 * as it stands. */
	for (const char *c = h; c < he; c++)
		if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '@' ||
		    *c == '[' || *c == ']' || *c == '/')
			return THR_EINVAL;
	if (*p != ':')
		return THR_EINVAL;
	p++;
	v = 0;
	for (nd = 0; p[nd] >= '0' && p[nd] <= '9'; nd++) {
		if (nd >= 5)
			return THR_EINVAL;
		v = v * 10 + (unsigned long)(p[nd] - '0');
	}
	if (nd == 0 || v == 0 || v > 65535)
		return THR_EINVAL;
	p += nd;
	if (*p != '\0' && *p != '/' && *p != '?')
		return THR_EINVAL;
	if (hl >= hostlen)
		return THR_ELIMIT;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)v;
	if (path != NULL)
		*path = p;
	return 0;
}

int
udptracker_init(struct udptracker *u, const char *url,
    uint32_t (*rnd)(void *), void *ctx)
{
	const char *path;
	size_t plen;
	int rc;

	memset(u, 0, sizeof *u);
	u->rnd = rnd;
	u->rnd_ctx = ctx;
	u->scrape_completed = -1;
	udptracker_set_state(u, UDPTRACKER_IDLE);
	rc = udptracker_parse_url(url, u->host, sizeof u->host, &u->port,
	    &path);
	if (rc != 0)
		return rc;
	plen = strlen(path);
	if (plen > sizeof u->urldata)
		return THR_ELIMIT;
	memcpy(u->urldata, path, plen);
	u->urldatalen = plen;
	return 0;
}

void
udptracker_set_addr(struct udptracker *u, const struct thr_addr *a)
{
	if (!addr_equal(&u->addr, a))
		u->have_conn = false;
	u->addr = *a;
}

static void
udptracker_begin(struct udptracker *u, uint64_t now_ms)
{
	u->n = 0;
	u->deadline_ms = now_ms;
	udptracker_step(u, udptracker_conn_valid(u, now_ms) ?
	    UDPTRACKER_REQUESTING : UDPTRACKER_CONNECTING);
}

void
udptracker_start(struct udptracker *u, const struct tracker_announce *a,
    uint64_t now_ms)
{
	u->req = *a;
	u->req.tracker_id = NULL;
	u->scrape = false;
	udptracker_begin(u, now_ms);
}

void
udptracker_scrape_start(struct udptracker *u, const uint8_t info_hash[20],
    uint64_t now_ms)
{
	memset(&u->req, 0, sizeof u->req);
	memcpy(u->req.info_hash, info_hash, sizeof u->req.info_hash);
	u->scrape = true;
	udptracker_begin(u, now_ms);
}

void
udptracker_stop(struct udptracker *u)
{
	if (udptracker_busy(u))
		udptracker_set_state(u, UDPTRACKER_IDLE);
}

/* BEP 15 event numbers differ from enum tracker_event's order. */
static uint32_t
udptracker_event(enum tracker_event e)
{
	switch (e) {
	case TRACKER_EVENT_COMPLETED:
		return 1;
	case TRACKER_EVENT_STARTED:
		return 2;
	case TRACKER_EVENT_STOPPED:
		return 3;
	default:
		return 0;
	}
}

static size_t
udptracker_build(const struct udptracker *u, uint8_t *p)
{
	const struct tracker_announce *a = &u->req;
	size_t len, off, chunk;

	if (u->state == UDPTRACKER_CONNECTING) {
		udptracker_put64(p, UDPTRACKER_PROTOCOL_ID);
		udptracker_put32(p + 8, UDPTRACKER_ACT_CONNECT);
		udptracker_put32(p + 12, u->tid);
		return UDPTRACKER_CONNECT_LEN;
	}
	udptracker_put64(p, u->conn_id);
	udptracker_put32(p + 12, u->tid);
	if (u->scrape) {
		udptracker_put32(p + 8, UDPTRACKER_ACT_SCRAPE);
		memcpy(p + 16, a->info_hash, 20);
		return UDPTRACKER_SCRAPE_LEN;
	}
	udptracker_put32(p + 8, UDPTRACKER_ACT_ANNOUNCE);
	memcpy(p + 16, a->info_hash, 20);
	memcpy(p + 36, a->peer_id, 20);
	udptracker_put64(p + 56, a->downloaded);
	udptracker_put64(p + 64, a->left);
	udptracker_put64(p + 72, a->uploaded);
	udptracker_put32(p + 80, udptracker_event(a->event));
	udptracker_put32(p + 84, 0);	/* IP: the sender's address */
	udptracker_put32(p + 88, a->key);
	udptracker_put32(p + 92, a->numwant > 0 ? (uint32_t)a->numwant :
	    UINT32_MAX);	/* -1: the tracker's default */
	p[96] = (uint8_t)(a->port >> 8);
	p[97] = (uint8_t)a->port;
	len = UDPTRACKER_ANNOUNCE_LEN;
	/* BEP 41: the path and query, split over URL data options that
	 * the tracker concatenates. */
	for (off = 0; off < u->urldatalen; off += chunk) {
		chunk = u->urldatalen - off;
		if (chunk > UDPTRACKER_OPT_MAX)
			chunk = UDPTRACKER_OPT_MAX;
		p[len++] = UDPTRACKER_OPT_URLDATA;
		p[len++] = (uint8_t)chunk;
		memcpy(p + len, u->urldata + off, chunk);
		len += chunk;
	}
	return len;
}

bool
udptracker_output(struct udptracker *u, uint64_t now_ms, uint8_t *pkt,
    size_t cap, size_t *len)
{
	uint64_t wait;

	*len = 0;
	if (!udptracker_busy(u) || cap < UDPTRACKER_PKT_MAX)
		return false;
	if (!u->send_now) {
		if (now_ms < u->deadline_ms)
			return false;
		/* The wait for the last packet is over. */
		if (u->n >= UDPTRACKER_MAX_N) {
			udptracker_set_state(u, UDPTRACKER_TIMED_OUT);
			return false;
		}
		u->n++;
	}
	/* BEP 15: an expired connection id needs a new connect first,
	 * also when retransmitting. */
	if (u->state == UDPTRACKER_REQUESTING &&
	    !udptracker_conn_valid(u, now_ms)) {
		u->have_conn = false;
		udptracker_step(u, UDPTRACKER_CONNECTING);
	}
	*len = udptracker_build(u, pkt);
	u->send_now = false;
	wait = (uint64_t)UDPTRACKER_TIMEOUT_MS << u->n;
	u->deadline_ms = now_ms > UINT64_MAX - wait ? UINT64_MAX :
	    now_ms + wait;
	return true;
}

/* BEP 15 has no "absent": a zero interval gets the HTTP default. */
static int64_t
udptracker_interval(uint32_t v)
{
	return v == 0 ? TRACKER_DEFAULT_INTERVAL : tracker_clamp_interval(v);
}

static int
udptracker_peers(const struct udptracker *u, const uint8_t *p, size_t len,
    struct tracker_response *r, struct thr_error *err)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	size_t esz = u->addr.family == 6 ? UDPTRACKER_PEER6 : UDPTRACKER_PEER4;
	size_t n = len / esz, i, cap;
	struct thr_addr *pa;
	const uint8_t *e;
	uint16_t port;

	cap = n < TRACKER_MAX_PEERS ? n : TRACKER_MAX_PEERS;
	if (cap == 0)
		return 0;
	if ((r->peers = thr_calloc(cap, sizeof *r->peers)) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "no memory for peers");
	for (i = 0; i < n && r->npeers < cap; i++) {
		e = p + i * esz;
		port = (uint16_t)(e[esz - 2] << 8 | e[esz - 1]);
		if (port == 0)
			continue;
		pa = &r->peers[r->npeers++];
		pa->port = port;
		/* An IPv4-mapped IPv6 address is the IPv4 peer itself. */
		if (esz == UDPTRACKER_PEER6 &&
		    memcmp(e, v4mapped, sizeof v4mapped) != 0) {
			pa->family = 6;
			memcpy(pa->ip, e, 16);
		} else {
			pa->family = 4;
			memcpy(pa->ip, esz == UDPTRACKER_PEER6 ? e + 12 : e, 4);
		}
	}
	return 0;
}

/*
 * A matching answer too short to hold its fields.  opentracker answers
 * an announce for a torrent it does not track with the bare 8-byte
 * header; only the tracker knows our transaction id, so this is its
 * final word, and retransmitting for two hours would be pointless.
 */
static int
udptracker_truncated(struct udptracker *u, struct tracker_response *r,
    const char *what, size_t len)
{
	r->failed = true;
	snprintf(r->failure, sizeof r->failure,
	    "truncated %s answer (%zu bytes)", what, len);
	udptracker_set_state(u, UDPTRACKER_IDLE);
	return 0;
}

int
udptracker_input(struct udptracker *u, const uint8_t *pkt, size_t len,
    uint64_t now_ms, struct tracker_response *r, struct thr_error *err)
{
	uint32_t action, want;
	int rc;

	memset(r, 0, sizeof *r);
	r->complete = r->incomplete = -1;
	r->interval = TRACKER_DEFAULT_INTERVAL;
	if (!udptracker_busy(u))
		return thr_error_set(err, THR_EPROTO, 0,
		    "no request in flight");
	if (len < UDPTRACKER_ERROR_HDR)
		return thr_error_set(err, THR_EPROTO, len,
		    "short packet (%zu bytes)", len);
	action = udptracker_get32(pkt);
	if (udptracker_get32(pkt + 4) != u->tid)
		return thr_error_set(err, THR_EPROTO, 4,
		    "unknown transaction id");
	if (action == UDPTRACKER_ACT_ERROR) {
		r->failed = true;
		tracker_copy_text(r->failure, sizeof r->failure,
		    pkt + UDPTRACKER_ERROR_HDR, len - UDPTRACKER_ERROR_HDR);
		/* The error may be about our connection id; a fresh one
		 * costs a single round trip. */
		u->have_conn = false;
		udptracker_set_state(u, UDPTRACKER_IDLE);
		return 0;
	}
	if (u->state == UDPTRACKER_CONNECTING)
		want = UDPTRACKER_ACT_CONNECT;
	else
		want = u->scrape ? UDPTRACKER_ACT_SCRAPE :
		    UDPTRACKER_ACT_ANNOUNCE;
	if (action != want)
		return thr_error_set(err, THR_EPROTO, 0,
		    "action %u, expected %u", action, want);
	switch (action) {
	case UDPTRACKER_ACT_CONNECT:
		if (len < UDPTRACKER_CONNECT_LEN)
			return udptracker_truncated(u, r, "connect", len);
		u->conn_id = udptracker_get64(pkt + 8);
		u->conn_ms = now_ms;
		u->have_conn = true;
		udptracker_step(u, UDPTRACKER_REQUESTING);
		return THR_EAGAIN;
	case UDPTRACKER_ACT_SCRAPE:
		if (len < UDPTRACKER_SCRAPE_ANS)
			return udptracker_truncated(u, r, "scrape", len);
		r->complete = udptracker_get32(pkt + 8);
		u->scrape_completed = udptracker_get32(pkt + 12);
		r->incomplete = udptracker_get32(pkt + 16);
		break;
	default:
		if (len < UDPTRACKER_ANNOUNCE_HDR)
			return udptracker_truncated(u, r, "announce", len);
		if ((rc = udptracker_peers(u, pkt + UDPTRACKER_ANNOUNCE_HDR,
		    len - UDPTRACKER_ANNOUNCE_HDR, r, err)) != 0)
			return rc;
		r->interval = udptracker_interval(udptracker_get32(pkt + 8));
		r->incomplete = udptracker_get32(pkt + 12);
		r->complete = udptracker_get32(pkt + 16);
		break;
	}
	udptracker_set_state(u, UDPTRACKER_IDLE);
	return 0;
}

uint64_t
udptracker_deadline(const struct udptracker *u)
{
	if (!udptracker_busy(u))
		return UINT64_MAX;
	return u->send_now ? 0 : u->deadline_ms;
}

bool
udptracker_busy(const struct udptracker *u)
{
	return u->state == UDPTRACKER_CONNECTING ||
	    u->state == UDPTRACKER_REQUESTING;
}

bool
udptracker_timed_out(const struct udptracker *u)
{
	return u->state == UDPTRACKER_TIMED_OUT;
}
