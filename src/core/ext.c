/*
 * ext.c: extension protocol messages (BEP 10), ut_metadata (BEP 9) and
 * ut_pex (BEP 11).
 *
 * Each parser decodes the payload with the bounded bencode decoder
 * (EXT_MAX_TOKENS), reads the keys it knows with typed lookups, and
 * range-checks every number before it narrows it.  Parsed values go into
 * a local copy first, so a message that fails leaves the caller's struct
 * as it was.  Builders write dict keys in sorted order, as BEP 3 requires.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "addr.h"
#include "bencode.h"
#include "buf.h"
#include "err.h"
#include "escape.h"
#include "ext.h"

/* Compact peer entries: BEP 11 uses BEP 23's 6-byte IPv4 form and BEP
 * 7's 18-byte IPv6 form. */
#define EXT_COMPACT4	6
#define EXT_COMPACT6	18

/* Decode payload p[0..n) into b and check that its root is a dict.  With
 * prefix set, bytes after the dict are allowed (ut_metadata data). */
static int
ext_decode(struct bencode *b, const uint8_t *p, size_t n, bool prefix,
    const char *what, struct thr_error *err)
{
	struct thr_error e;
	int rc;

	memset(&e, 0, sizeof e);
	if (prefix)
		rc = bencode_decode_prefix(b, p, n, EXT_MAX_TOKENS, &e);
	else
		rc = bencode_decode(b, p, n, EXT_MAX_TOKENS, &e);
	if (rc != 0)
		return thr_error_set(err, THR_EPROTO, e.offset, "%s: %s", what,
		    e.msg);
	if (!bencode_is(b, 0, BENCODE_DICT)) {
		bencode_release(b);
		return thr_error_set(err, THR_EPROTO, 0, "%s: not a dictionary",
		    what);
	}
	return 0;
}

static int
ext_put_key_int(struct buf *out, const char *key, int64_t v)
{
	int rc;

	if ((rc = bencode_put_cstr(out, key)) != 0)
		return rc;
	return bencode_put_int(out, v);
}

int
ext_handshake_build(struct buf *out, const struct ext_local *l)
{
	int rc;

	if ((rc = bencode_put_dict(out)) != 0 ||
	    (rc = bencode_put_cstr(out, "m")) != 0 ||
	    (rc = bencode_put_dict(out)) != 0 ||
	    (rc = ext_put_key_int(out, "ut_metadata",
	    EXT_ID_UT_METADATA)) != 0)
		return rc;
	if (l->pex && (rc = ext_put_key_int(out, "ut_pex",
	    EXT_ID_UT_PEX)) != 0)
		return rc;
	if ((rc = bencode_put_end(out)) != 0)
		return rc;
	if (l->metadata_size > 0 && (rc = ext_put_key_int(out,
	    "metadata_size", l->metadata_size)) != 0)
		return rc;
	if (l->port > 0 && (rc = ext_put_key_int(out, "p", l->port)) != 0)
		return rc;
	if (l->reqq > 0 && (rc = ext_put_key_int(out, "reqq", l->reqq)) != 0)
		return rc;
	if (l->version != NULL && ((rc = bencode_put_cstr(out, "v")) != 0 ||
	    (rc = bencode_put_cstr(out, l->version)) != 0))
		return rc;
	if (l->yourip != NULL && (l->yourip->family == 4 ||
	    l->yourip->family == 6) && ((rc = bencode_put_cstr(out,
	    "yourip")) != 0 || (rc = bencode_put_str(out, l->yourip->ip,
	    l->yourip->family == 4 ? 4 : 16)) != 0))
		return rc;
	return bencode_put_end(out);
}

void
ext_handshake_init(struct ext_handshake *h)
{
	memset(h, 0, sizeof *h);
	h->reqq = EXT_REQQ_DEFAULT;
}

/* An extension id from "m": one byte, 0 meaning disabled (BEP 10). */
static uint8_t
ext_read_id(const struct bencode *b, size_t t)
{
	int64_t v;

	if (!bencode_int(b, t, &v) || v < 1 || v > 255)
		return 0;
	return (uint8_t)v;
}

int
ext_handshake_parse(const uint8_t *p, size_t n, struct ext_handshake *h,
    struct thr_error *err)
{
	struct ext_handshake t = *h;
	struct bencode b;
	const uint8_t *s;
	size_t m, v, slen;
	int64_t i;
	int rc;

	if ((rc = ext_decode(&b, p, n, false, "extension handshake",
	    err)) != 0)
		return rc;
	m = bencode_dict_get(&b, 0, "m");
	if (m != BENCODE_NONE && bencode_is(&b, m, BENCODE_DICT)) {
		if ((v = bencode_dict_get(&b, m, "ut_metadata")) !=
		    BENCODE_NONE)
			t.ut_metadata = ext_read_id(&b, v);
		if ((v = bencode_dict_get(&b, m, "ut_pex")) != BENCODE_NONE)
			t.ut_pex = ext_read_id(&b, v);
	}
	if (bencode_dict_int(&b, 0, "p", &i) && i >= 1 && i <= 65535)
		t.port = (uint16_t)i;
	if (bencode_dict_int(&b, 0, "reqq", &i))
		t.reqq = i < 1 ? 1 : i > EXT_REQQ_MAX ? EXT_REQQ_MAX :
		    (uint32_t)i;
	if (bencode_dict_int(&b, 0, "metadata_size", &i) && i >= 1 &&
	    i <= EXT_MAX_METADATA)
		t.metadata_size = (uint32_t)i;
	if (bencode_dict_str(&b, 0, "v", &s, &slen))
		escape_str(s, slen, t.version, sizeof t.version);
	if (bencode_dict_str(&b, 0, "yourip", &s, &slen) &&
	    (slen == 4 || slen == 16)) {
		memset(&t.yourip, 0, sizeof t.yourip);
		t.yourip.family = slen == 4 ? 4 : 6;
		memcpy(t.yourip.ip, s, slen);
		t.has_yourip = true;
	}
	bencode_release(&b);
	*h = t;
	return 0;
}

/* Size of piece `piece` of a total_size info dict, 0 if out of range. */
static size_t
ext_piece_len(uint32_t total_size, uint32_t piece)
{
	uint32_t npieces;

	npieces = (total_size + EXT_METADATA_PIECE - 1) / EXT_METADATA_PIECE;
	if (piece >= npieces)
		return 0;
	if (piece + 1 < npieces)
		return EXT_METADATA_PIECE;
	return total_size - piece * EXT_METADATA_PIECE;
}

int
ext_metadata_parse(const uint8_t *p, size_t n, struct ext_metadata_msg *m,
    struct thr_error *err)
{
	struct ext_metadata_msg t;
	struct bencode b;
	int64_t type, piece, total;
	size_t want;
	int rc;

	if ((rc = ext_decode(&b, p, n, true, "ut_metadata", err)) != 0)
		return rc;
	memset(&t, 0, sizeof t);
	if (!bencode_dict_int(&b, 0, "msg_type", &type) || type < 0 ||
	    type > EXT_METADATA_REJECT) {
		rc = thr_error_set(err, THR_EPROTO, 0,
		    "ut_metadata: missing or unknown msg_type");
		goto out;
	}
	if (!bencode_dict_int(&b, 0, "piece", &piece) || piece < 0 ||
	    piece >= EXT_MAX_METADATA_PIECES) {
		rc = thr_error_set(err, THR_EPROTO, 0,
		    "ut_metadata: missing or out-of-range piece");
		goto out;
	}
	t.type = (enum ext_metadata_type)type;
	t.piece = (uint32_t)piece;
	if (t.type == EXT_METADATA_DATA) {
		if (!bencode_dict_int(&b, 0, "total_size", &total) ||
		    total < 1 || total > EXT_MAX_METADATA) {
			rc = thr_error_set(err, THR_EPROTO, 0,
			    "ut_metadata: missing or out-of-range total_size");
			goto out;
		}
		t.total_size = (uint32_t)total;
		if ((want = ext_piece_len(t.total_size, t.piece)) == 0) {
			rc = thr_error_set(err, THR_EPROTO, 0,
			    "ut_metadata: piece %" PRIu32 " past total_size %"
			    PRIu32, t.piece, t.total_size);
			goto out;
		}
		if (n - b.used != want) {
			rc = thr_error_set(err, THR_EPROTO, b.used,
			    "ut_metadata: piece %" PRIu32 " has %zu bytes, "
			    "not %zu", t.piece, n - b.used, want);
			goto out;
		}
		t.data = p + b.used;
		t.len = want;
	}
	*m = t;
	rc = 0;
out:
	bencode_release(&b);
	return rc;
}

static int
ext_metadata_dict(struct buf *out, int type, uint32_t piece,
    uint32_t total_size)
{
	int rc;

	if ((rc = bencode_put_dict(out)) != 0 ||
	    (rc = ext_put_key_int(out, "msg_type", type)) != 0 ||
	    (rc = ext_put_key_int(out, "piece", piece)) != 0)
		return rc;
	if (type == EXT_METADATA_DATA &&
	    (rc = ext_put_key_int(out, "total_size", total_size)) != 0)
		return rc;
	return bencode_put_end(out);
}

int
ext_metadata_request(struct buf *out, uint32_t piece)
{
	return ext_metadata_dict(out, EXT_METADATA_REQUEST, piece, 0);
}

int
ext_metadata_reject(struct buf *out, uint32_t piece)
{
	return ext_metadata_dict(out, EXT_METADATA_REJECT, piece, 0);
}

int
ext_metadata_data(struct buf *out, uint32_t piece, uint32_t total_size,
    const uint8_t *data, size_t len)
{
	int rc;

	if ((rc = ext_metadata_dict(out, EXT_METADATA_DATA, piece,
	    total_size)) != 0)
		return rc;
	return buf_append(out, data, len);
}

/*
 * Append the whole entries of the compact list s[0..slen) (entry size
 * esz, family fam) to addrs, with flags from f[0..flen) when flags is not
 * NULL, up to EXT_PEX_MAX in all.
 */
static void
ext_pex_read(struct thr_addr *addrs, uint8_t *flags, size_t *count,
    const uint8_t *s, size_t slen, const uint8_t *f, size_t flen,
    size_t esz, int fam)
{
	struct thr_addr a;
	size_t i, iplen = esz - 2;

	for (i = 0; i < slen / esz && *count < EXT_PEX_MAX; i++) {
		memset(&a, 0, sizeof a);
		a.family = fam;
		memcpy(a.ip, s + i * esz, iplen);
		a.port = be16(s + i * esz + iplen);
		if (a.port == 0)
			continue;
		if (flags != NULL)
			flags[*count] = i < flen ? f[i] : 0;
		addrs[(*count)++] = a;
	}
}

int
ext_pex_parse(const uint8_t *p, size_t n, struct ext_pex *x,
    struct thr_error *err)
{
	static const struct {
		const char	*key, *fkey;
		size_t		 esz;
		int		 fam;
		bool		 added;
	} lists[] = {
		{ "added", "added.f", EXT_COMPACT4, 4, true },
		{ "added6", "added6.f", EXT_COMPACT6, 6, true },
		{ "dropped", NULL, EXT_COMPACT4, 4, false },
		{ "dropped6", NULL, EXT_COMPACT6, 6, false },
	};
	struct bencode b;
	const uint8_t *s, *f;
	size_t slen, flen, k;
	int rc;

	if ((rc = ext_decode(&b, p, n, false, "ut_pex", err)) != 0)
		return rc;
	memset(x, 0, sizeof *x);
	for (k = 0; k < sizeof lists / sizeof *lists; k++) {
		if (!bencode_dict_str(&b, 0, lists[k].key, &s, &slen))
			continue;
		f = NULL;
		flen = 0;
		if (lists[k].fkey != NULL &&
		    !bencode_dict_str(&b, 0, lists[k].fkey, &f, &flen)) {
			f = NULL;
			flen = 0;
		}
		if (lists[k].added)
			ext_pex_read(x->added, x->added_flags, &x->nadded, s,
			    slen, f, flen, lists[k].esz, lists[k].fam);
		else
			ext_pex_read(x->dropped, NULL, &x->ndropped, s, slen,
			    NULL, 0, lists[k].esz, lists[k].fam);
	}
	bencode_release(&b);
	return 0;
}

/* Append key and the compact string of the entries of family fam. */
static int
ext_pex_put(struct buf *out, const char *key, const struct thr_addr *a,
    size_t n, int fam)
{
	size_t i, cnt = 0, iplen = fam == 4 ? 4 : 16;
	uint8_t port[2];
	int rc;

	for (i = 0; i < n; i++)
		if (a[i].family == fam)
			cnt++;
	if ((rc = bencode_put_cstr(out, key)) != 0 ||
	    (rc = buf_printf(out, "%zu:", cnt * (iplen + 2))) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (a[i].family != fam)
			continue;
		port[0] = (uint8_t)(a[i].port >> 8);
		port[1] = (uint8_t)a[i].port;
		if ((rc = buf_append(out, a[i].ip, iplen)) != 0 ||
		    (rc = buf_append(out, port, 2)) != 0)
			return rc;
	}
	return 0;
}

/* Append key and the flags of the added entries of family fam. */
static int
ext_pex_put_flags(struct buf *out, const char *key,
    const struct thr_addr *a, const uint8_t *flags, size_t n, int fam)
{
	size_t i, cnt = 0;
	uint8_t f;
	int rc;

	for (i = 0; i < n; i++)
		if (a[i].family == fam)
			cnt++;
	if ((rc = bencode_put_cstr(out, key)) != 0 ||
	    (rc = buf_printf(out, "%zu:", cnt)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (a[i].family != fam)
			continue;
		f = flags != NULL ? flags[i] : 0;
		if ((rc = buf_append(out, &f, 1)) != 0)
			return rc;
	}
	return 0;
}

int
ext_pex_build(struct buf *out, const struct thr_addr *added,
    const uint8_t *added_flags, size_t nadded,
    const struct thr_addr *dropped, size_t ndropped)
{
	size_t i;
	int rc;

	if (nadded > EXT_PEX_MAX || ndropped > EXT_PEX_MAX)
		return THR_ELIMIT;
	for (i = 0; i < nadded; i++)
		if (added[i].family != 4 && added[i].family != 6)
			return THR_EINVAL;
	for (i = 0; i < ndropped; i++)
		if (dropped[i].family != 4 && dropped[i].family != 6)
			return THR_EINVAL;
	/* Keys in BEP 3 order: "added" < "added.f" < "added6" < ... */
	if ((rc = bencode_put_dict(out)) != 0 ||
	    (rc = ext_pex_put(out, "added", added, nadded, 4)) != 0 ||
	    (rc = ext_pex_put_flags(out, "added.f", added, added_flags,
	    nadded, 4)) != 0 ||
	    (rc = ext_pex_put(out, "added6", added, nadded, 6)) != 0 ||
	    (rc = ext_pex_put_flags(out, "added6.f", added, added_flags,
	    nadded, 6)) != 0 ||
	    (rc = ext_pex_put(out, "dropped", dropped, ndropped, 4)) != 0 ||
	    (rc = ext_pex_put(out, "dropped6", dropped, ndropped, 6)) != 0)
		return rc;
	return bencode_put_end(out);
}
