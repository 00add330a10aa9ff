/*
 * metainfo.c: load and validate a v1 .torrent (BEP 3, 12, 27).
 *
 * The file is decoded into borrowed bencode tokens, checked key by key,
 * and everything kept is copied into struct metainfo, so the caller may
 * free the input afterwards.  The info-hash is the SHA-1 of the exact
 * raw bytes of the "info" value as they appear in the file; re-encoding
 * would change it for torrents with unsorted keys.
 *
 * Validation is all-or-nothing: one bad path component or inconsistent
 * length rejects the whole torrent, so nothing that storage later builds
 * from these paths can escape the download directory.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bencode.h"
#include "hash.h"
#include "metainfo.h"
#include "xalloc.h"

/* How much of a hostile string we quote in an error message. */
#define METAINFO_QUOTE_MAX	40

/*
 * Copy up to METAINFO_QUOTE_MAX bytes of p into out for an error message,
 * replacing anything that is not printable ASCII (or is a quote) with '?'
 * so a torrent cannot inject terminal escapes through our errors.
 */
static const char *
metainfo_quote(const uint8_t *p, size_t len, char *out, size_t outsz)
{
	size_t i, n = len < METAINFO_QUOTE_MAX ? len : METAINFO_QUOTE_MAX;

	if (n > outsz - 1)
		n = outsz - 1;
	for (i = 0; i < n; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"') ?
		    (char)p[i] : '?';
	out[n] = '\0';
	return out;
}

/* Strict UTF-8: no overlongs, no surrogates, nothing past U+10FFFF. */
static bool
metainfo_utf8_ok(const uint8_t *p, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp, min;

	while (i < len) {
		uint8_t c = p[i];

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else
			return false;
		if (n > len - i - 1)
			return false;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

bool
metainfo_component_ok(const uint8_t *p, size_t len)
{
	size_t i;

	if (p == NULL || len == 0)
		return false;
	if ((len == 1 && p[0] == '.') ||
	    (len == 2 && p[0] == '.' && p[1] == '.'))
		return false;
	for (i = 0; i < len; i++)
		if (p[i] == '/' || p[i] == '\\' || p[i] == '\0')
			return false;
	return true;
}

/* A NUL-terminated copy of p[0..len). */
static char *
metainfo_strdup(const uint8_t *p, size_t len)
{
	char *s;

	if (len == SIZE_MAX || (s = thr_malloc(len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

void
metainfo_release(struct metainfo *m)
{
	size_t i, j;

	free(m->name);
	free(m->hashes);
	if (m->files != NULL)
		for (i = 0; i < m->nfiles; i++)
			free(m->files[i].path);
	free(m->files);
	if (m->tiers != NULL)
		for (i = 0; i < m->ntiers; i++) {
			for (j = 0; j < m->tiers[i].nurls; j++)
				free(m->tiers[i].urls[j]);
			free(m->tiers[i].urls);
		}
	free(m->tiers);
	for (i = 0; i < m->nwebseeds; i++)
		free(m->webseeds[i]);
	free(m->webseeds);
	free(m->comment);
	free(m->created_by);
	free(m->info);
	memset(m, 0, sizeof(*m));
}

/*
 * Pick key.utf-8 over key when it is a valid UTF-8 string (BEP 3 leaves
 * the plain key's encoding open; many clients add the .utf-8 variant).
 */
static size_t
metainfo_pick_str(const struct bencode *b, size_t d, const char *key,
    const char *ukey)
{
	const uint8_t *p;
	size_t t, n;

	t = bencode_dict_get(b, d, ukey);
	if (bencode_str(b, t, &p, &n) && metainfo_utf8_ok(p, n))
		return t;
	return bencode_dict_get(b, d, key);
}

/* True if every item of list t is a string of valid UTF-8. */
static bool
metainfo_utf8_list_ok(const struct bencode *b, size_t t)
{
	const uint8_t *p;
	size_t c, n;

	if (!bencode_is(b, t, BENCODE_LIST) || bencode_first(b, t) ==
	    BENCODE_NONE)
		return false;
	for (c = bencode_first(b, t); c != BENCODE_NONE;
	    c = bencode_next(b, c))
		if (!bencode_str(b, c, &p, &n) || !metainfo_utf8_ok(p, n))
			return false;
	return true;
}

static int
metainfo_parse_name(struct metainfo *m, const struct bencode *b, size_t info,
    struct thr_error *err)
{
	char q[METAINFO_QUOTE_MAX + 1];
	const uint8_t *p;
	size_t t, n;

	t = metainfo_pick_str(b, info, "name", "name.utf-8");
	if (t == BENCODE_NONE)
		return thr_error_set(err, THR_EINVAL, b->toks[info].start,
		    "info.name missing");
	if (!bencode_str(b, t, &p, &n))
		return thr_error_set(err, THR_EINVAL, b->toks[t].start,
		    "info.name is not a string");
	if (!metainfo_component_ok(p, n))
		return thr_error_set(err, THR_EUNSAFE, b->toks[t].start,
		    "info.name \"%s\" is unsafe",
		    metainfo_quote(p, n, q, sizeof(q)));
	if ((m->name = metainfo_strdup(p, n)) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	return 0;
}

/* Build name/c1/c2/... for file entry fi, checking every component. */
static int
metainfo_parse_path(struct metainfo *m, const struct bencode *b, size_t ent,
    size_t fi, char **out, struct thr_error *err)
{
	char q[METAINFO_QUOTE_MAX + 1];
	const uint8_t *p;
	size_t pl, c, n, total, namelen = strlen(m->name), at;
	char *s;

	pl = bencode_dict_get(b, ent, "path.utf-8");
	if (!metainfo_utf8_list_ok(b, pl))
		pl = bencode_dict_get(b, ent, "path");
	if (pl == BENCODE_NONE)
		return thr_error_set(err, THR_EINVAL, b->toks[ent].start,
		    "info.files[%zu].path missing", fi);
	if (!bencode_is(b, pl, BENCODE_LIST))
		return thr_error_set(err, THR_EINVAL, b->toks[pl].start,
		    "info.files[%zu].path is not a list", fi);
	if (bencode_first(b, pl) == BENCODE_NONE)
		return thr_error_set(err, THR_EUNSAFE, b->toks[pl].start,
		    "info.files[%zu].path is empty", fi);

	/* First pass: validate and measure, so the join cannot overflow. */
	total = namelen;
	for (c = bencode_first(b, pl); c != BENCODE_NONE;
	    c = bencode_next(b, c)) {
		if (!bencode_str(b, c, &p, &n))
			return thr_error_set(err, THR_EINVAL, b->toks[c].start,
			    "info.files[%zu].path component is not a string",
			    fi);
		if (!metainfo_component_ok(p, n))
			return thr_error_set(err, THR_EUNSAFE, b->toks[c].start,
			    "file path component \"%s\" is unsafe",
			    metainfo_quote(p, n, q, sizeof(q)));
		if (n > METAINFO_MAX_PATH || total > METAINFO_MAX_PATH - n - 1)
			return thr_error_set(err, THR_ELIMIT, b->toks[c].start,
			    "info.files[%zu].path longer than %u bytes", fi,
			    METAINFO_MAX_PATH);
		total += n + 1;
	}

	if ((s = thr_malloc(total + 1)) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	memcpy(s, m->name, namelen);
	at = namelen;
	for (c = bencode_first(b, pl); c != BENCODE_NONE;
	    c = bencode_next(b, c)) {
		(void)bencode_str(b, c, &p, &n);
		s[at++] = '/';
		memcpy(s + at, p, n);
		at += n;
	}
	s[at] = '\0';
	*out = s;
	return 0;
}

/* Read one file's length, refusing negatives and sums past INT64_MAX
 * (file offsets become off_t in storage). */
static int
metainfo_add_length(struct metainfo *m, const struct bencode *b, size_t t,
    size_t at, const char *what, uint64_t *len, struct thr_error *err)
{
	int64_t v;

	if (t == BENCODE_NONE)
		return thr_error_set(err, THR_EINVAL, at, "%s missing", what);
	if (!bencode_int(b, t, &v))
		return thr_error_set(err, THR_EINVAL, b->toks[t].start,
		    "%s is not an integer", what);
	if (v < 0)
		return thr_error_set(err, THR_EINVAL, b->toks[t].start,
		    "%s %" PRId64 " is negative", what, v);
	if (m->total_length > (uint64_t)INT64_MAX - (uint64_t)v)
		return thr_error_set(err, THR_EINVAL, b->toks[t].start,
		    "%s overflows the total length", what);
	*len = (uint64_t)v;
	return 0;
}

static int
metainfo_parse_files(struct metainfo *m, const struct bencode *b, size_t info,
    struct thr_error *err)
{
	struct metainfo_file *f;
	char what[64];
	size_t fl, lt, ent, fi;
	int rc;

	fl = bencode_dict_get(b, info, "files");
	lt = bencode_dict_get(b, info, "length");
	if (fl != BENCODE_NONE && lt != BENCODE_NONE)
		return thr_error_set(err, THR_EINVAL, b->toks[lt].start,
		    "info has both length and files");

	if (fl == BENCODE_NONE) {
		if (lt == BENCODE_NONE)
			return thr_error_set(err, THR_EINVAL,
			    b->toks[info].start,
			    "info.length and info.files missing");
		if ((m->files = thr_calloc(1, sizeof(*m->files))) == NULL)
			return thr_error_set(err, THR_ENOMEM, 0,
			    "out of memory");
		if ((m->files[0].path = metainfo_strdup((const uint8_t *)
		    m->name, strlen(m->name))) == NULL)
			return thr_error_set(err, THR_ENOMEM, 0,
			    "out of memory");
		m->nfiles = 1;
		if ((rc = metainfo_add_length(m, b, lt, 0, "info.length",
		    &m->files[0].length, err)) != 0)
			return rc;
		m->total_length = m->files[0].length;
		return 0;
	}

	if (!bencode_is(b, fl, BENCODE_LIST))
		return thr_error_set(err, THR_EINVAL, b->toks[fl].start,
		    "info.files is not a list");
	m->multi = true;
	if (b->toks[fl].nchild > METAINFO_MAX_FILES)
		return thr_error_set(err, THR_ELIMIT, b->toks[fl].start,
		    "info.files has more than %u entries", METAINFO_MAX_FILES);
	if (b->toks[fl].nchild == 0)
		return thr_error_set(err, THR_EINVAL, b->toks[fl].start,
		    "info.files is empty");
	if ((m->files = thr_calloc(b->toks[fl].nchild, sizeof(*m->files))) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");

	fi = 0;
	for (ent = bencode_first(b, fl); ent != BENCODE_NONE;
	    ent = bencode_next(b, ent), fi++) {
		if (!bencode_is(b, ent, BENCODE_DICT))
			return thr_error_set(err, THR_EINVAL,
			    b->toks[ent].start,
			    "info.files[%zu] is not a dictionary", fi);
		f = &m->files[fi];
		/* Count the entry before filling it so release frees it. */
		m->nfiles = fi + 1;
		snprintf(what, sizeof(what), "info.files[%zu].length", fi);
		if ((rc = metainfo_add_length(m, b,
		    bencode_dict_get(b, ent, "length"), b->toks[ent].start,
		    what, &f->length, err)) != 0)
			return rc;
		if ((rc = metainfo_parse_path(m, b, ent, fi, &f->path,
		    err)) != 0)
			return rc;
		f->offset = m->total_length;
		m->total_length += f->length;
	}
	return 0;
}

static int
metainfo_parse_pieces(struct metainfo *m, const struct bencode *b,
    size_t info, struct thr_error *err)
{
	const uint8_t *p;
	size_t t, n;
	int64_t pl;
	uint64_t want;

	t = bencode_dict_get(b, info, "piece length");
	if (t == BENCODE_NONE)
		return thr_error_set(err, THR_EINVAL, b->toks[info].start,
		    "info.piece length missing");
	if (!bencode_int(b, t, &pl))
		return thr_error_set(err, THR_EINVAL, b->toks[t].start,
		    "info.piece length is not an integer");
	if (pl <= 0)
		return thr_error_set(err, THR_EINVAL, b->toks[t].start,
		    "info.piece length %" PRId64 " is not positive", pl);
	if ((uint64_t)pl > METAINFO_MAX_PIECE_LEN)
		return thr_error_set(err, THR_ELIMIT, b->toks[t].start,
		    "info.piece length %" PRId64 " is larger than %u", pl,
		    METAINFO_MAX_PIECE_LEN);
	m->piece_length = (uint64_t)pl;

	t = bencode_dict_get(b, info, "pieces");
	if (t == BENCODE_NONE)
		return thr_error_set(err, THR_EINVAL, b->toks[info].start,
		    "info.pieces missing");
	if (!bencode_str(b, t, &p, &n))
		return thr_error_set(err, THR_EINVAL, b->toks[t].start,
		    "info.pieces is not a string");
	if (n % HASH_SHA1_LEN != 0)
		return thr_error_set(err, THR_EINVAL, b->toks[t].start,
		    "info.pieces length %zu is not a multiple of 20", n);
	if (n / HASH_SHA1_LEN > METAINFO_MAX_PIECES)
		return thr_error_set(err, THR_ELIMIT, b->toks[t].start,
		    "info.pieces holds more than %u hashes",
		    METAINFO_MAX_PIECES);

	if (m->total_length == 0)
		return thr_error_set(err, THR_EINVAL, b->toks[info].start,
		    "torrent has no data");
	want = m->total_length / m->piece_length +
	    (m->total_length % m->piece_length != 0);
	if (want != n / HASH_SHA1_LEN)
		return thr_error_set(err, THR_EINVAL, b->toks[t].start,
		    "info.pieces holds %zu hashes, expected %" PRIu64,
		    n / HASH_SHA1_LEN, want);
	m->npieces = (uint32_t)(n / HASH_SHA1_LEN);
	if ((m->hashes = thr_malloc(n)) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	memcpy(m->hashes, p, n);
	return 0;
}

/* A tracker URL worth keeping: a non-empty string with no NUL. */
static bool
metainfo_url_ok(const struct bencode *b, size_t t)
{
	const uint8_t *p;
	size_t n;

	return bencode_str(b, t, &p, &n) && n > 0 && memchr(p, '\0', n) ==
	    NULL;
}

/* Append one tier of n URL tokens (n <= the room left under the cap). */
static int
metainfo_add_tier(struct metainfo *m, const struct bencode *b,
    const size_t *toks, size_t n, size_t *ntotal, struct thr_error *err)
{
	struct metainfo_tier *tier, *nt;
	const uint8_t *p;
	size_t i, len;

	nt = thr_realloc(m->tiers, (m->ntiers + 1) * sizeof(*m->tiers));
	if (nt == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	m->tiers = nt;
	tier = &m->tiers[m->ntiers++];
	tier->nurls = 0;
	if ((tier->urls = thr_calloc(n, sizeof(*tier->urls))) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	for (i = 0; i < n; i++) {
		(void)bencode_str(b, toks[i], &p, &len);
		if ((tier->urls[i] = metainfo_strdup(p, len)) == NULL)
			return thr_error_set(err, THR_ENOMEM, 0,
			    "out of memory");
		tier->nurls++;
	}
	*ntotal += n;
	return 0;
}

/*
 * BEP 12 tiers in file order until METAINFO_MAX_TRACKERS URLs are kept;
 * the rest (the tail of the tier that reaches the cap, and every later
 * tier) are counted in m->trackers_dropped, not refused: like
 * libtorrent, a torrent that lists too many trackers is still usable.
 */
static int
metainfo_parse_trackers(struct metainfo *m, const struct bencode *b,
    size_t root, struct thr_error *err)
{
	size_t urls[METAINFO_MAX_TRACKERS];
	size_t al, tier, u, n, ntotal = 0, t;
	int rc;

	al = bencode_dict_get(b, root, "announce-list");
	if (bencode_is(b, al, BENCODE_LIST)) {
		for (tier = bencode_first(b, al); tier != BENCODE_NONE;
		    tier = bencode_next(b, tier)) {
			if (!bencode_is(b, tier, BENCODE_LIST))
				continue;
			n = 0;
			for (u = bencode_first(b, tier); u != BENCODE_NONE;
			    u = bencode_next(b, u)) {
				if (!metainfo_url_ok(b, u))
					continue;
				if (ntotal + n == METAINFO_MAX_TRACKERS)
					m->trackers_dropped++;
				else
					urls[n++] = u;
			}
			if (n == 0)
				continue;
			if ((rc = metainfo_add_tier(m, b, urls, n, &ntotal,
			    err)) != 0)
				return rc;
		}
	}
	if (m->ntiers > 0)
		return 0;
	t = bencode_dict_get(b, root, "announce");
	if (metainfo_url_ok(b, t)) {
		urls[0] = t;
		return metainfo_add_tier(m, b, urls, 1, &ntotal, err);
	}
	return 0;
}

bool
metainfo_webseed_ok(const char *url, size_t n)
{
	if (n > METAINFO_MAX_URL)
		return false;
	if (!(n > 7 && strncasecmp(url, "http://", 7) == 0) &&
	    !(n > 8 && strncasecmp(url, "https://", 8) == 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
			return false;
	return true;
}

int
metainfo_add_webseed_url(struct metainfo *m, const char *url, size_t n)
{
	if (!metainfo_webseed_ok(url, n) ||
	    m->nwebseeds >= METAINFO_MAX_WEBSEEDS)
		return 0;
	for (size_t i = 0; i < m->nwebseeds; i++)
		if (strlen(m->webseeds[i]) == n &&
		    memcmp(m->webseeds[i], url, n) == 0)
			return 0;
	if (m->webseeds == NULL && (m->webseeds =
	    thr_calloc(METAINFO_MAX_WEBSEEDS, sizeof(*m->webseeds))) == NULL)
		return THR_ENOMEM;
	if ((m->webseeds[m->nwebseeds] = metainfo_strdup(
	    (const uint8_t *)url, n)) == NULL)
		return THR_ENOMEM;
	m->nwebseeds++;
	return 0;
}

/* One url-list entry: a string, else ignored. */
static int
metainfo_add_webseed(struct metainfo *m, const struct bencode *b, size_t t)
{
	const uint8_t *p;
	size_t n;

	if (!bencode_str(b, t, &p, &n))
		return 0;
	return metainfo_add_webseed_url(m, (const char *)p, n);
}

/* BEP 19 url-list: a single string or a list of them. */
static int
metainfo_parse_webseeds(struct metainfo *m, const struct bencode *b,
    size_t root, struct thr_error *err)
{
	size_t ul = bencode_dict_get(b, root, "url-list"), u;
	int rc = 0;

	if (ul == BENCODE_NONE || (!bencode_is(b, ul, BENCODE_LIST) &&
	    !bencode_is(b, ul, BENCODE_STR)))
		return 0;
	if (bencode_is(b, ul, BENCODE_STR))
		rc = metainfo_add_webseed(m, b, ul);
	else
		for (u = bencode_first(b, ul); rc == 0 && u != BENCODE_NONE;
		    u = bencode_next(b, u))
			rc = metainfo_add_webseed(m, b, u);
	if (rc != 0)
		return thr_error_set(err, rc, 0, "out of memory");
	return 0;
}

/* Copy an optional string key, preferring key.utf-8; absent is fine. */
static int
metainfo_opt_str(const struct bencode *b, size_t root, const char *key,
    const char *ukey, char **out, struct thr_error *err)
{
	const uint8_t *p;
	size_t n;

	if (!bencode_str(b, metainfo_pick_str(b, root, key, ukey), &p, &n))
		return 0;
	if ((*out = metainfo_strdup(p, n)) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	return 0;
}

static int
metainfo_parse_tree(struct metainfo *m, const struct bencode *b,
    struct thr_error *err)
{
	const struct bencode_tok *it;
	size_t info;
	int64_t v;
	int rc;

	if (!bencode_is(b, 0, BENCODE_DICT))
		return thr_error_set(err, THR_EINVAL, 0,
		    "torrent is not a dictionary");
	info = bencode_dict_get(b, 0, "info");
	if (info == BENCODE_NONE)
		return thr_error_set(err, THR_EINVAL, 0, "info missing");
	if (!bencode_is(b, info, BENCODE_DICT))
		return thr_error_set(err, THR_EINVAL, b->toks[info].start,
		    "info is not a dictionary");
	it = &b->toks[info];
	if ((rc = hash_sha1(b->buf + it->start, it->end - it->start,
	    m->info_hash)) != 0)
		return thr_error_set(err, rc, 0, "cannot compute info-hash");
	m->info_len = it->end - it->start;
	if ((m->info = thr_malloc(m->info_len)) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	memcpy(m->info, b->buf + it->start, m->info_len);

	if ((rc = metainfo_parse_name(m, b, info, err)) != 0 ||
	    (rc = metainfo_parse_files(m, b, info, err)) != 0 ||
	    (rc = metainfo_parse_pieces(m, b, info, err)) != 0 ||
	    (rc = metainfo_parse_trackers(m, b, 0, err)) != 0 ||
	    (rc = metainfo_parse_webseeds(m, b, 0, err)) != 0)
		return rc;

	/* BEP 27: only the value 1 makes a torrent private. */
	m->is_private = bencode_dict_int(b, info, "private", &v) && v == 1;
	if ((rc = metainfo_opt_str(b, 0, "comment", "comment.utf-8",
	    &m->comment, err)) != 0 ||
	    (rc = metainfo_opt_str(b, 0, "created by", "created by.utf-8",
	    &m->created_by, err)) != 0)
		return rc;
	if (bencode_dict_int(b, 0, "creation date", &v))
		m->creation_date = v;
	return 0;
}

int
metainfo_parse(struct metainfo *m, const uint8_t *buf, size_t len,
    struct thr_error *err)
{
	struct bencode b;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = bencode_decode(&b, buf, len, BENCODE_DEFAULT_MAX_TOKENS,
	    err)) != 0)
		return rc;
	rc = metainfo_parse_tree(m, &b, err);
	bencode_release(&b);
	if (rc != 0)
		metainfo_release(m);
	return rc;
}

uint32_t
metainfo_piece_size(const struct metainfo *m, uint32_t i)
{
	uint64_t start;

	if (i >= m->npieces)
		return 0;
	start = (uint64_t)i * m->piece_length;
	if (m->total_length - start < m->piece_length)
		return (uint32_t)(m->total_length - start);
	return (uint32_t)m->piece_length;
}
