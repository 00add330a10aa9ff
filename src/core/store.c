/*
 * store.c: what every store backend shares: closing, and checking pieces
 * against the torrent's hashes.  See store.h.
 */
#include "config.h"

#include <string.h>

#include "hash.h"
#include "store.h"

void
store_close(struct store *s)
{
	if (s->ops != NULL && s->ops->close != NULL)
		s->ops->close(s->ctx);
	s->ops = NULL;
	s->ctx = NULL;
}

int
store_verify_span(const struct store *s, const struct metainfo *mi,
    uint32_t first, uint32_t n, uint8_t *buf, bool *ok)
{
	uint8_t md[64 * HASH_SHA1_LEN];
	uint64_t off, len;
	uint32_t done = 0;
	int rc;

	if (n == 0 || first >= mi->npieces || n > mi->npieces - first)
		return THR_EINVAL;
	off = (uint64_t)first * mi->piece_length;
	len = (uint64_t)(first + n - 1) * mi->piece_length +
	    metainfo_piece_size(mi, first + n - 1) - off;
	if (len > SIZE_MAX)
		return THR_EINVAL;
	if ((rc = store_read(s, off, buf, (size_t)len)) != 0)
		return rc;
	/* Hash in batches of at most 64 digests: md stays on the stack. */
	while (done < n) {
		uint32_t k = n - done < 64 ? n - done : 64;
		uint64_t b = (uint64_t)done * mi->piece_length;
		uint64_t l = len - b;

		if (l > (uint64_t)k * mi->piece_length)
			l = (uint64_t)k * mi->piece_length;
		if ((rc = hash_sha1_slices(buf + b, (size_t)l,
		    mi->piece_length, md)) != 0)
			return rc;
		for (uint32_t j = 0; j < k; j++)
			ok[done + j] = memcmp(md + (size_t)j * HASH_SHA1_LEN,
			    mi->hashes + (size_t)(first + done + j) *
			    HASH_SHA1_LEN, HASH_SHA1_LEN) == 0;
		done += k;
	}
	return 0;
}

bool
store_piece_matches(const struct metainfo *mi, uint32_t i,
    const uint8_t *data, size_t len)
{
	uint8_t md[HASH_SHA1_LEN];
	uint32_t size;

	if ((size = metainfo_piece_size(mi, i)) == 0 || (uint64_t)len != size)
		return false;
	if (hash_sha1(data, len, md) != 0)
		return false;
	return memcmp(md, mi->hashes + (size_t)i * HASH_SHA1_LEN,
	    HASH_SHA1_LEN) == 0;
}
