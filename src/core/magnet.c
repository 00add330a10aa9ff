/*
 * magnet.c: magnet links (BEP 9).
 *
 * The URI is a query string of key=value pairs after "magnet:?".  We walk
 * it pair by pair, percent-decode each value we care about into one
 * scratch buffer as long as the URI (decoding never grows a value), and
 * copy what we keep into struct magnet.  Tracker and peer arrays are
 * allocated at their cap on first use, so adding never reallocates.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "addr.h"
#include "buf.h"
#include "err.h"
#include "hash.h"
#include "escape.h"
#include "magnet.h"
#include "metainfo.h"
#include "xalloc.h"

#define MAGNET_PREFIX		"magnet:?"
#define MAGNET_PREFIX_LEN	8
#define MAGNET_BTIH		"urn:btih:"
#define MAGNET_BTIH_LEN		9
/* An info-hash in hex (BEP 9) or in base32 (RFC 4648, no padding). */
#define MAGNET_HEX_LEN		40
#define MAGNET_B32_LEN		32

/*
 * Percent-decode p[0..n) into out (room for n + 1 bytes); '+' becomes a
 * space when plus is set.  A '%' without two hex digits stays literal,
 * as browsers do.  Returns the decoded length; out is NUL-terminated but
 * may hold NUL bytes of its own (from %00), so callers use the length.
 */
static size_t
magnet_unescape(const char *p, size_t n, bool plus, char *out)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (p[i] == '%' && n - i >= 3 &&
		    (hi = hexval((unsigned char)p[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)p[i + 2])) >= 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && p[i] == '+')
			out[o++] = ' ';
		else
			out[o++] = p[i];
	}
	out[o] = '\0';
	return o;
}

/* True if key[0..klen) is name or name.<digits>, in any case. */
static bool
magnet_key_is(const char *key, size_t klen, const char *name)
{
	size_t n = strlen(name), i;

	if (klen < n || strncasecmp(key, name, n) != 0)
		return false;
	if (klen == n)
		return true;
	if (key[n] != '.' || klen == n + 1)
		return false;
	for (i = n + 1; i < klen; i++)
		if (key[i] < '0' || key[i] > '9')
			return false;
	return true;
}

/* Decode a 40-digit hex or 32-character base32 hash.  THR_EINVAL if it
 * is neither. */
static int
magnet_hash(const char *s, size_t n, uint8_t ih[20])
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	if (n == MAGNET_HEX_LEN)
		return unhex((const uint8_t *)s, 20, ih) < 0 ? 0 : THR_EINVAL;
	if (n != MAGNET_B32_LEN)
		return THR_EINVAL;
	/* 32 characters of 5 bits are exactly 160 bits: no padding. */
	for (i = 0; i < n; i++) {
		if (s[i] >= 'A' && s[i] <= 'Z')
			v = s[i] - 'A';
		else if (s[i] >= 'a' && s[i] <= 'z')
			v = s[i] - 'a';
		else if (s[i] >= '2' && s[i] <= '7')
			v = s[i] - '2' + 26;
		else
			return THR_EINVAL;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			ih[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return 0;
}

/* Keep dn: control bytes become '?', cut on a UTF-8 boundary. */
static int
magnet_set_name(struct magnet *m, char *s, size_t n)
{
	size_t i;

	if (n > MAGNET_MAX_NAME) {
		n = MAGNET_MAX_NAME;
		/* Do not end in the middle of a multibyte character. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = '?';
	if ((m->name = thr_malloc(n + 1)) == NULL)
		return THR_ENOMEM;
	memcpy(m->name, s, n);
	m->name[n] = '\0';
	return 0;
}

/* True for a tracker URL we can announce to: a known scheme, a host
 * part, and no byte that would not survive in a URL. */
static bool
magnet_tracker_ok(const char *s, size_t n)
{
	static const char *const schemes[] = {
		"http://", "https://", "udp://"
	};
	size_t i, k, sl;
	bool known = false;

	for (k = 0; k < sizeof schemes / sizeof *schemes; k++) {
		sl = strlen(schemes[k]);
		if (n > sl && strncasecmp(s, schemes[k], sl) == 0)
			known = true;
	}
	if (!known)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/*
 * Append a copy of s (n bytes and its NUL) to the list *list of *count
 * strings, allocated for cap on first use, unless it is already there
 * or the list is full (both fine: 0).  0 or THR_ENOMEM.
 */
static int
magnet_add_str(char ***list, size_t *count, size_t cap, const char *s,
    size_t n)
{
	char *c;

	if (*count >= cap)
		return 0;
	for (size_t i = 0; i < *count; i++)
		if (strcmp((*list)[i], s) == 0)
			return 0;
	if (*list == NULL && (*list = thr_calloc(cap, sizeof **list)) == NULL)
		return THR_ENOMEM;
	if ((c = thr_malloc(n + 1)) == NULL)
		return THR_ENOMEM;
	memcpy(c, s, n + 1);
	(*list)[(*count)++] = c;
	return 0;
}

static int
magnet_add_tracker(struct magnet *m, const char *s, size_t n)
{
	if (!magnet_tracker_ok(s, n))
		return 0;
	return magnet_add_str(&m->trackers, &m->ntrackers,
	    MAGNET_MAX_TRACKERS, s, n);
}

static int
magnet_add_webseed(struct magnet *m, const char *s, size_t n)
{
	/* A %00 inside would cut the URL short. */
	if (strlen(s) != n || !metainfo_webseed_ok(s, n))
		return 0;
	return magnet_add_str(&m->webseeds, &m->nwebseeds,
	    MAGNET_MAX_WEBSEEDS, s, n);
}

static int
magnet_add_peer(struct magnet *m, const char *s, size_t n)
{
	struct thr_addr a;
	size_t i;

	/* A %00 inside would make addr_parse see a shorter string. */
	if (strlen(s) != n || m->npeers >= MAGNET_MAX_PEERS ||
	    addr_parse(s, &a) != 0)
		return 0;
	for (i = 0; i < m->npeers; i++)
		if (addr_equal(&m->peers[i], &a))
			return 0;
	if (m->peers == NULL &&
	    (m->peers = thr_calloc(MAGNET_MAX_PEERS, sizeof *m->peers)) == NULL)
		return THR_ENOMEM;
	m->peers[m->npeers++] = a;
	return 0;
}

int
magnet_parse(const char *uri, size_t len, struct magnet *m,
    struct thr_error *err)
{
	const char *key, *val, *amp, *eq;
	uint8_t ih[20];
	bool have_hash = false;
	size_t pos, klen, vlen, n;
	char *tmp = NULL;
	int rc;

	memset(m, 0, sizeof *m);
	if (len > MAGNET_MAX_URI)
		return thr_error_set(err, THR_ELIMIT, MAGNET_MAX_URI,
		    "magnet link longer than %u bytes", MAGNET_MAX_URI);
	if (len < MAGNET_PREFIX_LEN ||
	    strncasecmp(uri, MAGNET_PREFIX, MAGNET_PREFIX_LEN) != 0)
		return thr_error_set(err, THR_EINVAL, 0,
		    "not a magnet link (no \"magnet:?\")");
	if ((tmp = thr_malloc(len + 1)) == NULL) {
		rc = thr_error_set(err, THR_ENOMEM, 0, "out of memory");
		goto fail;
	}
	for (pos = MAGNET_PREFIX_LEN; pos < len; pos = n + 1) {
		amp = memchr(uri + pos, '&', len - pos);
		n = amp != NULL ? (size_t)(amp - uri) : len;
		key = uri + pos;
		eq = memchr(key, '=', n - pos);
		if (eq == NULL)
			continue;
		klen = (size_t)(eq - key);
		val = eq + 1;
		vlen = n - pos - klen - 1;
		rc = 0;
		if (magnet_key_is(key, klen, "xt")) {
			vlen = magnet_unescape(val, vlen, false, tmp);
			if (vlen < MAGNET_BTIH_LEN || strncasecmp(tmp,
			    MAGNET_BTIH, MAGNET_BTIH_LEN) != 0)
				continue;
			if (magnet_hash(tmp + MAGNET_BTIH_LEN,
			    vlen - MAGNET_BTIH_LEN, ih) != 0) {
				rc = thr_error_set(err, THR_EINVAL, pos,
				    "magnet info-hash is not 40 hex or 32 "
				    "base32 characters");
				goto fail;
			}
			if (have_hash && memcmp(ih, m->info_hash, 20) != 0) {
				rc = thr_error_set(err, THR_EINVAL, pos,
				    "magnet link has two different "
				    "info-hashes");
				goto fail;
			}
			memcpy(m->info_hash, ih, 20);
			have_hash = true;
		} else if (magnet_key_is(key, klen, "dn")) {
			if (m->name != NULL)
				continue;
			vlen = magnet_unescape(val, vlen, true, tmp);
			rc = magnet_set_name(m, tmp, vlen);
		} else if (magnet_key_is(key, klen, "tr")) {
			vlen = magnet_unescape(val, vlen, false, tmp);
			rc = magnet_add_tracker(m, tmp, vlen);
		} else if (magnet_key_is(key, klen, "x.pe")) {
			vlen = magnet_unescape(val, vlen, false, tmp);
			rc = magnet_add_peer(m, tmp, vlen);
		} else if (magnet_key_is(key, klen, "ws")) {
			vlen = magnet_unescape(val, vlen, false, tmp);
			rc = magnet_add_webseed(m, tmp, vlen);
		}
		if (rc != 0) {
			rc = thr_error_set(err, rc, pos, "out of memory");
			goto fail;
		}
	}
	if (!have_hash) {
		rc = thr_error_set(err, THR_EINVAL, 0,
		    "magnet link has no urn:btih info-hash");
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	free(tmp);
	magnet_release(m);
	return rc;
}

void
magnet_release(struct magnet *m)
{
	size_t i;

	free(m->name);
	for (i = 0; i < m->ntrackers; i++)
		free(m->trackers[i]);
	free(m->trackers);
	free(m->peers);
	for (i = 0; i < m->nwebseeds; i++)
		free(m->webseeds[i]);
	free(m->webseeds);
	memset(m, 0, sizeof *m);
}

/* Append sep and s percent-encoded. */
static int
magnet_put_escaped(struct buf *out, const char *sep, const char *s)
{
	int rc;

	if ((rc = buf_puts(out, sep)) != 0)
		return rc;
	return escape_url(out, s, strlen(s));
}

int
magnet_format(const uint8_t ih[20], const char *name,
    const char *const *trackers, size_t ntr, struct buf *out)
{
	char hex[2 * 20 + 1];
	size_t start = out->len, i;
	int rc;

	hash_hex(ih, 20, hex);
	if ((rc = buf_printf(out, "%s%s%s", MAGNET_PREFIX "xt=", MAGNET_BTIH,
	    hex)) != 0)
		goto fail;
	if (name != NULL && name[0] != '\0' &&
	    (rc = magnet_put_escaped(out, "&dn=", name)) != 0)
		goto fail;
	for (i = 0; i < ntr; i++)
		if ((rc = magnet_put_escaped(out, "&tr=", trackers[i])) != 0)
			goto fail;
	return 0;
fail:
	/* Leave out as it was: no half-built link. */
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return rc;
}
