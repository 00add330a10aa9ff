/*
 * lsd.c: BEP 14 announces, formatted and parsed, and their schedule.
 * See lsd.h.
 *
 * Data model: a datagram is read line by line, never past len and never
 * as a C string.  Each line is checked for bytes that have no business
 * in an HTTP header (NUL, controls other than tab) before it is looked
 * at; the request line must match exactly, header lines split at the
 * first colon.  The parse result keeps copies of the info-hashes and
 * port, and borrows only the cookie.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"
#include "lsd.h"

#define LSD_REQUEST		"BT-SEARCH * HTTP/1.1"
#define LSD_HOST4		LSD_GROUP4 ":6771"
#define LSD_HOST6		"[" LSD_GROUP6 "]:6771"

static const char lsd_hex[] = "0123456789abcdef";

void
lsd_init(struct lsd *l, uint64_t cookie_bits)
{
	size_t i;

	memset(l, 0, sizeof *l);
	for (i = 0; i < LSD_OWN_COOKIE_LEN; i++)
		l->cookie[i] = lsd_hex[(cookie_bits >> (60 - 4 * i)) & 0xf];
	l->cookie[LSD_OWN_COOKIE_LEN] = '\0';
	l->next_ms = 0;
}

bool
lsd_due(const struct lsd *l, uint64_t now_ms)
{
	return now_ms >= lsd_deadline(l);
}

void
lsd_sent(struct lsd *l, uint64_t now_ms)
{
	l->sent = true;
	l->last_ms = now_ms;
	l->next_ms = now_ms + LSD_ANNOUNCE_MS;
}

void
lsd_poke(struct lsd *l, uint64_t now_ms)
{
	uint64_t t = now_ms;

	if (l->sent && t < l->last_ms + LSD_MIN_GAP_MS)
		t = l->last_ms + LSD_MIN_GAP_MS;
	if (t < l->next_ms)
		l->next_ms = t;
}

uint64_t
lsd_deadline(const struct lsd *l)
{
	/* The floor holds whatever next_ms says, so no caller can make us
	 * announce faster than once a minute (BEP 14). */
	if (l->sent && l->next_ms < l->last_ms + LSD_MIN_GAP_MS)
		return l->last_ms + LSD_MIN_GAP_MS;
	return l->next_ms;
}

static bool
lsd_cookie_ok(const char *c)
{
	size_t i;

	for (i = 0; c[i] != '\0'; i++) {
		if (i >= LSD_COOKIE_MAX)
			return false;
		if ((unsigned char)c[i] <= 0x20 || (unsigned char)c[i] >= 0x7f)
			return false;
	}
	return i > 0;
}

int
lsd_format(int family, uint16_t port, const uint8_t (*hashes)[20],
    size_t n, const char *cookie, char *out, size_t cap, size_t *len)
{
	size_t off, i, k, room;
	int w;

	*len = 0;
	if ((family != 4 && family != 6) || port == 0 || n == 0 ||
	    n > LSD_MAX_HASHES || (cookie != NULL && !lsd_cookie_ok(cookie)))
		return THR_EINVAL;
	room = cap < LSD_MSG_MAX ? cap : LSD_MSG_MAX;
	w = snprintf(out, room, LSD_REQUEST "\r\nHost: %s\r\nPort: %u\r\n",
	    family == 6 ? LSD_HOST6 : LSD_HOST4, (unsigned)port);
	if (w < 0 || (size_t)w >= room)
		return THR_ELIMIT;
	off = (size_t)w;
	for (i = 0; i < n; i++) {
		/* "Infohash: " + 40 + CRLF */
		if (room - off < 52 + 1)
			return THR_ELIMIT;
		memcpy(out + off, "Infohash: ", 10);
		off += 10;
		for (k = 0; k < 20; k++) {
			out[off++] = lsd_hex[hashes[i][k] >> 4];
			out[off++] = lsd_hex[hashes[i][k] & 0xf];
		}
		out[off++] = '\r';
		out[off++] = '\n';
	}
	if (cookie != NULL) {
		w = snprintf(out + off, room - off, "cookie: %s\r\n", cookie);
		if (w < 0 || (size_t)w >= room - off)
			return THR_ELIMIT;
		off += (size_t)w;
	}
	/* BEP 14 ends the announce with two empty lines. */
	if (room - off < 4 + 1)
		return THR_ELIMIT;
	memcpy(out + off, "\r\n\r\n", 4);
	off += 4;
	out[off] = '\0';
	*len = off;
	return 0;
}

/* The header name n[0..nl) is name, ignoring case. */
static bool
lsd_name_is(const uint8_t *n, size_t nl, const char *name)
{
	return nl == strlen(name) &&
	    strncasecmp((const char *)n, name, nl) == 0;
}

static int
lsd_header(struct lsd_msg *m, const uint8_t *p, size_t start,
    size_t linelen, bool *have_port, struct thr_error *err)
{
	const uint8_t *line = p + start, *v, *colon;
	size_t nl, vl, i;
	unsigned long port;
	long bad;

	colon = memchr(line, ':', linelen);
	if (colon == NULL)
		return thr_error_set(err, THR_EINVAL, start,
		    "lsd: header line without a colon");
	nl = (size_t)(colon - line);
	if (nl == 0)
		return thr_error_set(err, THR_EINVAL, start,
		    "lsd: empty header name");
	for (i = 0; i < nl; i++)
		if (line[i] == ' ' || line[i] == '\t')
			return thr_error_set(err, THR_EINVAL, start + i,
			    "lsd: blank in a header name");
	v = colon + 1;
	vl = linelen - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;

	if (lsd_name_is(line, nl, "Port")) {
		if (*have_port)
			return thr_error_set(err, THR_EINVAL, start,
			    "lsd: Port given twice");
		if (vl == 0 || vl > 5)
			return thr_error_set(err, THR_EINVAL, start,
			    "lsd: bad Port");
		port = 0;
		for (i = 0; i < vl; i++) {
			if (v[i] < '0' || v[i] > '9')
				return thr_error_set(err, THR_EINVAL,
				    (size_t)(v - p) + i, "lsd: bad Port");
			port = port * 10 + (unsigned long)(v[i] - '0');
		}
		if (port == 0 || port > 65535)
			return thr_error_set(err, THR_EINVAL,
			    (size_t)(v - p), "lsd: Port %lu out of range",
			    port);
		m->port = (uint16_t)port;
		*have_port = true;
	} else if (lsd_name_is(line, nl, "Infohash")) {
		if (vl != 40)
			return thr_error_set(err, THR_EINVAL, (size_t)(v - p),
			    "lsd: Infohash of %zu characters, not 40", vl);
		if (m->nhashes >= LSD_MAX_HASHES)
			return thr_error_set(err, THR_ELIMIT, start,
			    "lsd: more than %u info-hashes",
			    LSD_MAX_HASHES);
		if ((bad = unhex(v, 20, m->hashes[m->nhashes])) >= 0)
			return thr_error_set(err, THR_EINVAL,
			    (size_t)(v - p) + (size_t)bad,
			    "lsd: Infohash is not hex");
		m->nhashes++;
	} else if (lsd_name_is(line, nl, "Host")) {
		if (vl == strlen(LSD_HOST4) &&
		    memcmp(v, LSD_HOST4, vl) == 0)
			m->host_family = 4;
		else if (vl == strlen(LSD_HOST6) &&
		    strncasecmp((const char *)v, LSD_HOST6, vl) == 0)
			m->host_family = 6;
		else
			m->host_family = 0;
	} else if (lsd_name_is(line, nl, "cookie")) {
		/* Longer cookies are not ours; they are ignored rather
		 * than refused, as the cookie is opaque. */
		if (vl > 0 && vl <= LSD_COOKIE_MAX) {
			m->cookie = (const char *)v;
			m->cookielen = vl;
		}
	}
	/* BEP 14: headers not understood are ignored. */
	return 0;
}

int
lsd_parse(const uint8_t *p, size_t len, struct lsd_msg *m,
    struct thr_error *err)
{
	size_t off = 0, end, linelen, nlines = 0, i;
	bool have_port = false, first = true;
	int rc;

	memset(m, 0, sizeof *m);
	if (len > LSD_MSG_MAX)
		return thr_error_set(err, THR_ELIMIT, LSD_MSG_MAX,
		    "lsd: datagram of %zu bytes, above %u", len,
		    LSD_MSG_MAX);
	while (off < len) {
		const uint8_t *nlp = memchr(p + off, '\n', len - off);

		end = nlp != NULL ? (size_t)(nlp - p) : len;
		linelen = end - off;
		if (linelen > 0 && p[end - 1] == '\r' && nlp != NULL)
			linelen--;
		if (linelen > LSD_LINE_MAX)
			return thr_error_set(err, THR_ELIMIT, off,
			    "lsd: header line above %u bytes", LSD_LINE_MAX);
		for (i = 0; i < linelen; i++) {
			uint8_t c = p[off + i];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return thr_error_set(err, THR_EINVAL, off + i,
				    "lsd: control byte 0x%02x", c);
		}
		if (linelen == 0 && !first)
			break;	/* the end of the headers */
		if (++nlines > LSD_MAX_LINES)
			return thr_error_set(err, THR_ELIMIT, off,
			    "lsd: more than %u lines", LSD_MAX_LINES);
		if (first) {
			if (linelen != strlen(LSD_REQUEST) ||
			    memcmp(p + off, LSD_REQUEST, linelen) != 0)
				return thr_error_set(err, THR_EINVAL, off,
				    "lsd: not a BT-SEARCH request");
			first = false;
		} else if ((rc = lsd_header(m, p, off, linelen, &have_port,
		    err)) != 0)
			return rc;
		off = nlp != NULL ? end + 1 : len;
	}
	if (first)
		return thr_error_set(err, THR_EINVAL, 0,
		    "lsd: empty datagram");
	if (!have_port)
		return thr_error_set(err, THR_EINVAL, off, "lsd: no Port");
	if (m->nhashes == 0)
		return thr_error_set(err, THR_EINVAL, off, "lsd: no Infohash");
	return 0;
}

bool
lsd_has_hash(const struct lsd_msg *m, const uint8_t info_hash[20])
{
	size_t i;

	for (i = 0; i < m->nhashes && i < LSD_MAX_HASHES; i++)
		if (memcmp(m->hashes[i], info_hash, 20) == 0)
			return true;
	return false;
}

bool
lsd_own(const struct lsd *l, const struct lsd_msg *m)
{
	return m->cookie != NULL && m->cookielen == LSD_OWN_COOKIE_LEN &&
	    memcmp(m->cookie, l->cookie, LSD_OWN_COOKIE_LEN) == 0;
}
