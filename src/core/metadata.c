/*
 * metadata.c: assembling an info dict from ut_metadata pieces (BEP 9).
 *
 * One buffer of the announced size and one small record per piece; at
 * most METADATA_MAX_PIECES (512) records, so every operation simply
 * walks them.  Nothing is trusted until metadata_verify: a piece only
 * has to have the right length to be stored, and a wrong one costs a
 * restart plus the loss of the peers that sent pieces.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hash.h"
#include "metadata.h"
#include "xalloc.h"

uint32_t
metadata_npieces(size_t size)
{
	if (size > METADATA_MAX_SIZE)
		size = METADATA_MAX_SIZE;
	return (uint32_t)((size + METADATA_PIECE - 1) / METADATA_PIECE);
}

/* Size of piece i of an info dict of size bytes (i < its piece count). */
static size_t
metadata_piece_len(size_t size, uint32_t i)
{
	size_t off = (size_t)i * METADATA_PIECE;

	return size - off < METADATA_PIECE ? size - off : METADATA_PIECE;
}

int
metadata_init(struct metadata *md, size_t size, const uint8_t info_hash[20])
{
	memset(md, 0, sizeof *md);
	if (size == 0)
		return THR_EINVAL;
	if (size > METADATA_MAX_SIZE)
		return THR_ELIMIT;
	md->npieces = metadata_npieces(size);
	md->data = thr_malloc(size);
	md->pieces = thr_calloc(md->npieces, sizeof *md->pieces);
	if (md->data == NULL || md->pieces == NULL) {
		metadata_release(md);
		return THR_ENOMEM;
	}
	md->size = size;
	memcpy(md->info_hash, info_hash, 20);
	return 0;
}

void
metadata_release(struct metadata *md)
{
	free(md->data);
	free(md->pieces);
	memset(md, 0, sizeof *md);
}

int
metadata_next_request(struct metadata *md, uint32_t peer, uint64_t now_ms,
    uint32_t *piece)
{
	struct metadata_piece *mp = NULL;
	uint32_t i;

	for (i = 0; i < md->npieces && mp == NULL; i++)
		if (md->pieces[i].state == METADATA_MISSING)
			mp = &md->pieces[i];
	if (mp == NULL)
		return THR_ENOENT;
	mp->state = METADATA_REQUESTED;
	mp->peer = peer;
	mp->deadline_ms = now_ms + METADATA_TIMEOUT_MS;
	mp->asked = true;
	*piece = (uint32_t)(mp - md->pieces);
	return 0;
}

size_t
metadata_expire(struct metadata *md, uint64_t now_ms, uint32_t *peers,
    size_t max)
{
	size_t n = 0;
	uint32_t i;

	for (i = 0; i < md->npieces; i++) {
		struct metadata_piece *mp = &md->pieces[i];

		if (mp->state != METADATA_REQUESTED || mp->deadline_ms > now_ms)
			continue;
		mp->state = METADATA_MISSING;
		if (n < max)
			peers[n] = mp->peer;
		n++;
	}
	return n;
}

int
metadata_received(struct metadata *md, uint32_t peer, uint32_t piece,
    const uint8_t *data, size_t len)
{
	struct metadata_piece *mp;

	if (piece >= md->npieces ||
	    len != metadata_piece_len(md->size, piece))
		return THR_EPROTO;
	mp = &md->pieces[piece];
	if (mp->state == METADATA_HAVE)
		return 0;
	if (!mp->asked)
		return THR_EPROTO;
	memcpy(md->data + (size_t)piece * METADATA_PIECE, data, len);
	mp->state = METADATA_HAVE;
	mp->peer = peer;
	md->nhave++;
	return 0;
}

void
metadata_rejected(struct metadata *md, uint32_t peer, uint32_t piece)
{
	struct metadata_piece *mp;

	if (piece >= md->npieces)
		return;
	mp = &md->pieces[piece];
	if (mp->state == METADATA_REQUESTED && mp->peer == peer)
		mp->state = METADATA_MISSING;
}

void
metadata_peer_gone(struct metadata *md, uint32_t peer)
{
	uint32_t i;

	for (i = 0; i < md->npieces; i++)
		if (md->pieces[i].state == METADATA_REQUESTED &&
		    md->pieces[i].peer == peer)
			md->pieces[i].state = METADATA_MISSING;
}

bool
metadata_complete(const struct metadata *md)
{
	return md->npieces > 0 && md->nhave == md->npieces;
}

int
metadata_verify(struct metadata *md, uint32_t *bad, size_t bad_max,
    size_t *nbad)
{
	uint8_t h[HASH_SHA1_LEN];
	size_t j, n = 0;
	uint32_t i, id;

	if (nbad != NULL)
		*nbad = 0;
	if (!metadata_complete(md))
		return THR_EAGAIN;
	if (hash_sha1(md->data, md->size, h) != 0)
		return THR_ENOMEM;
	if (memcmp(h, md->info_hash, HASH_SHA1_LEN) == 0)
		return 0;
	for (i = 0; i < md->npieces; i++) {
		id = md->pieces[i].peer;
		for (j = 0; j < n && bad[j] != id; j++)
			continue;
		if (j == n && n < bad_max)
			bad[n++] = id;
		md->pieces[i].state = METADATA_MISSING;
		md->pieces[i].asked = false;
	}
	md->nhave = 0;
	if (nbad != NULL)
		*nbad = n;
	return THR_EPROTO;
}

int
metadata_piece(const uint8_t *info, size_t info_len, uint32_t piece,
    const uint8_t **p, size_t *n)
{
	size_t off;

	/* Checked before multiplying, so off cannot overflow. */
	if (piece >= info_len / METADATA_PIECE +
	    (info_len % METADATA_PIECE != 0))
		return THR_ENOENT;
	off = (size_t)piece * METADATA_PIECE;
	*p = info + off;
	*n = metadata_piece_len(info_len, piece);
	return 0;
}
