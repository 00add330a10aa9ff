/*
 * resume.c: the fast-resume record.  See resume.h.
 */
#include "config.h"

#include <string.h>

#include "bencode.h"
#include "buf.h"
#include "resume.h"

static int
encode(const struct metainfo *mi, const struct store *st,
    const struct bitfield *have, const uint8_t *wanted, struct buf *out)
{
	int rc = 0;

	/* Keys in sorted order, as bencode requires. */
	rc |= bencode_put_dict(out);
	rc |= bencode_put_cstr(out, "files");
	rc |= bencode_put_list(out);
	for (size_t i = 0; i < mi->nfiles && rc == 0; i++) {
		int64_t size, mtime;

		if ((rc = st->ops->stamp(st->ctx, i, &size, &mtime)) != 0)
			return rc;
		rc |= bencode_put_list(out);
		rc |= bencode_put_int(out, size);
		rc |= bencode_put_int(out, mtime);
		rc |= bencode_put_end(out);
	}
	rc |= bencode_put_end(out);
	rc |= bencode_put_cstr(out, "info hash");
	rc |= bencode_put_str(out, mi->info_hash, 20);
	rc |= bencode_put_cstr(out, "pieces");
	rc |= bencode_put_str(out, have->bits, bitfield_bytes(have));
	rc |= bencode_put_cstr(out, "skipped");
	rc |= bencode_put_list(out);
	for (size_t i = 0; wanted != NULL && i < mi->nfiles; i++)
		if (!wanted[i])
			rc |= bencode_put_int(out, (int64_t)i);
	rc |= bencode_put_end(out);
	rc |= bencode_put_cstr(out, "version");
	rc |= bencode_put_int(out, 1);
	rc |= bencode_put_end(out);
	return rc != 0 ? THR_ENOMEM : 0;
}

int
resume_encode(const struct metainfo *mi, const struct store *st,
    const struct bitfield *have, const uint8_t *wanted, struct buf *out)
{
	return encode(mi, st, have, wanted, out);
}

int
resume_decode(const uint8_t *data, size_t dlen, const struct metainfo *mi,
    const struct store *st, struct bitfield *have, struct thr_error *err)
{
	struct bencode bc = { 0 };
	const uint8_t *p;
	size_t len, f, i = 0;
	int64_t v;
	int rc = THR_EINVAL;

	if (dlen == 0 || dlen > RESUME_MAX_SIZE) {
		thr_error_set(err, THR_EINVAL, 0, "unreadable record");
		goto out;
	}
	if (bencode_decode(&bc, data, dlen, BENCODE_DEFAULT_MAX_TOKENS,
	    err) != 0)
		goto out;
	if (!bencode_dict_int(&bc, 0, "version", &v) || v != 1 ||
	    !bencode_dict_str(&bc, 0, "info hash", &p, &len) || len != 20 ||
	    memcmp(p, mi->info_hash, 20) != 0 ||
	    !bencode_dict_str(&bc, 0, "pieces", &p, &len) ||
	    bitfield_load(have, p, len) != 0) {
		thr_error_set(err, THR_EINVAL, 0, "%s",
		    "not a record for this torrent");
		goto out;
	}
	f = bencode_dict_get(&bc, 0, "files");
	for (size_t t = bencode_first(&bc, f); ; t = bencode_next(&bc, t)) {
		int64_t size, mtime, rsize, rmtime;
		size_t e;

		if (t == BENCODE_NONE || i == mi->nfiles)
			break;
		e = bencode_first(&bc, t);
		if (e == BENCODE_NONE || !bencode_int(&bc, e, &rsize) ||
		    (e = bencode_next(&bc, e)) == BENCODE_NONE ||
		    !bencode_int(&bc, e, &rmtime) ||
		    st->ops->stamp(st->ctx, i, &size, &mtime) != 0 ||
		    size != rsize || mtime != rmtime) {
			thr_error_set(err, THR_EINVAL, 0, "file %zu changed "
			    "since the resume record", i + 1);
			goto out;
		}
		i++;
	}
	if (i != mi->nfiles) {
		thr_error_set(err, THR_EINVAL, 0, "%s", "wrong file count");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		/* Whatever was loaded is not to be trusted. */
		for (uint32_t k = 0; k < have->nbits; k++)
			bitfield_clear(have, k);
	}
	bencode_release(&bc);
	return rc;
}

int
resume_decode_sel(const uint8_t *data, size_t dlen, const struct metainfo *mi,
    uint8_t *wanted, size_t *nskipped, struct thr_error *err)
{
	struct bencode bc = { 0 };
	const uint8_t *p;
	size_t len, list, n = 0;
	int64_t v;
	int rc = THR_EINVAL;

	if (dlen == 0 || dlen > RESUME_MAX_SIZE) {
		thr_error_set(err, THR_EINVAL, 0, "unreadable record");
		goto out;
	}
	if (bencode_decode(&bc, data, dlen, BENCODE_DEFAULT_MAX_TOKENS,
	    err) != 0)
		goto out;
	if (!bencode_dict_int(&bc, 0, "version", &v) || v != 1 ||
	    !bencode_dict_str(&bc, 0, "info hash", &p, &len) || len != 20 ||
	    memcmp(p, mi->info_hash, 20) != 0) {
		thr_error_set(err, THR_EINVAL, 0, "%s",
		    "not a record for this torrent");
		goto out;
	}
	/* Check every index before changing anything. */
	list = bencode_dict_get(&bc, 0, "skipped");
	if (list != BENCODE_NONE && !bencode_is(&bc, list, BENCODE_LIST)) {
		thr_error_set(err, THR_EINVAL, 0, "%s", "bad skipped list");
		goto out;
	}
	for (size_t t = list == BENCODE_NONE ? BENCODE_NONE :
	    bencode_first(&bc, list); t != BENCODE_NONE;
	    t = bencode_next(&bc, t))
		if (!bencode_int(&bc, t, &v) || v < 0 ||
		    (uint64_t)v >= mi->nfiles) {
			thr_error_set(err, THR_EINVAL, 0, "%s",
			    "skipped file out of range");
			goto out;
		}
	memset(wanted, 1, mi->nfiles);
	for (size_t t = list == BENCODE_NONE ? BENCODE_NONE :
	    bencode_first(&bc, list); t != BENCODE_NONE;
	    t = bencode_next(&bc, t)) {
		(void)bencode_int(&bc, t, &v);
		if (wanted[v]) {
			wanted[v] = 0;
			n++;
		}
	}
	if (nskipped != NULL)
		*nskipped = n;
	rc = 0;
out:
	bencode_release(&bc);
	return rc;
}
