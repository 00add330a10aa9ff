/*
 * intake.c: blocks to the store, hashed on the way.  See intake.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"
#include "wire.h"
#include "xalloc.h"

int
intake_init(struct intake *in, const struct metainfo *mi,
    const struct store *st, struct picker *pk)
{
	memset(in, 0, sizeof(*in));
	in->mi = mi;
	in->st = st;
	in->pk = pk;
	reorder_init(&in->ro);
	in->nhs = pk->max_active > 0 ? pk->max_active : 1;
	in->hs = thr_calloc(in->nhs, sizeof(*in->hs));
	in->slot_of = thr_calloc(mi->npieces, sizeof(*in->slot_of));
	in->block = thr_malloc(WIRE_BLOCK);
	if (in->hs == NULL || in->slot_of == NULL || in->block == NULL) {
		intake_release(in);
		return THR_ENOMEM;
	}
	return 0;
}

void
intake_release(struct intake *in)
{
	for (size_t i = 0; in->hs != NULL && i < in->nhs; i++)
		if (in->hs[i].on)
			hash_abort(&in->hs[i].h);
	free(in->hs);
	free(in->slot_of);
	free(in->block);
	reorder_release(&in->ro);
	memset(in, 0, sizeof(*in));
}

size_t
intake_reordered(const struct intake *in)
{
	return in->ro.used;
}

/* The running hash of piece index, started if need be; NULL when no slot
 * is free (cannot happen: slots match the picker's active pieces) or on
 * THR_ENOMEM. */
static struct intake_hash *
intake_hash_of(struct intake *in, uint32_t index)
{
	struct intake_hash *h;

	if (in->slot_of[index] != 0)
		return &in->hs[in->slot_of[index] - 1];
	for (size_t i = 0; i < in->nhs; i++) {
		h = &in->hs[i];
		if (h->on)
			continue;
		if (hash_init(&h->h) != 0)
			return NULL;
		h->on = true;
		h->index = index;
		h->hashed = 0;
		in->slot_of[index] = (uint16_t)(i + 1);
		return h;
	}
	return NULL;
}

/* The piece is done with (verified, failed, given up): free its hash
 * and its early blocks. */
static void
intake_drop(struct intake *in, uint32_t index)
{
	if (in->slot_of[index] != 0) {
		struct intake_hash *h = &in->hs[in->slot_of[index] - 1];

		if (h->on)
			hash_abort(&h->h);
		h->on = false;
		in->slot_of[index] = 0;
	}
	reorder_forget_piece(&in->ro, index);
}

/* Give piece index up after a disk error: it stays missing. */
static void
intake_give_up(struct intake *in, uint32_t index)
{
	for (size_t i = 0; i < in->ngiven_up; i++)
		if (in->given_up[i] == index)
			return;
	if (in->pk->state[index] == PICKER_ACTIVE)
		picker_piece_done(in->pk, index, false);
	intake_drop(in, index);
	if (in->ngiven_up < INTAKE_MAX_GIVEN_UP)
		in->given_up[in->ngiven_up++] = index;
}

/* Write the queue; on failure give up every piece in it and `also`
 * (UINT32_MAX: none).  0 or -1. */
static int
intake_write(struct intake *in, uint32_t also)
{
	int n = in->wb.n, e = 0;

	if (n == 0)
		return 0;
	in->wb.n = 0;
	/* Insertion sort: at most STORE_IOV_MAX, mostly in order. */
	for (int k = 1; k < n; k++) {
		struct iovec v = in->wb.iov[k];
		uint64_t o = in->wb.off[k];
		uint32_t x = in->wb.index[k];
		int j = k;

		for (; j > 0 && in->wb.off[j - 1] > o; j--) {
			in->wb.iov[j] = in->wb.iov[j - 1];
			in->wb.off[j] = in->wb.off[j - 1];
			in->wb.index[j] = in->wb.index[j - 1];
		}
		in->wb.iov[j] = v;
		in->wb.off[j] = o;
		in->wb.index[j] = x;
	}
	for (int a = 0, b; a < n && e == 0; a = b) {
		for (b = a + 1; b < n && in->wb.off[b] == in->wb.off[b - 1] +
		    in->wb.iov[b - 1].iov_len; b++)
			;
		if (store_writev(in->st, in->wb.off[a], in->wb.iov + a,
		    b - a) != 0)
			e = errno ? errno : EIO;
	}
	if (e == 0)
		return 0;
	in->err = e;
	for (int k = 0; k < n; k++)
		intake_give_up(in, in->wb.index[k]);
	if (also != UINT32_MAX)
		intake_give_up(in, also);
	return -1;
}

/* Queue a block; a full queue is written first.  0 or -1. */
static int
intake_queue(struct intake *in, uint32_t index, uint64_t off,
    const uint8_t *data, uint32_t len)
{
	if (in->wb.n == STORE_IOV_MAX && intake_write(in, index) != 0)
		return -1;
	in->wb.iov[in->wb.n].iov_base = (void *)(uintptr_t)data;
	in->wb.iov[in->wb.n].iov_len = len;
	in->wb.off[in->wb.n] = off;
	in->wb.index[in->wb.n++] = index;
	return 0;
}

/* Feed the piece's hash with every block received in order from where it
 * stands.  0 or -1 (a read back failed). */
static int
intake_hash_forward(struct intake *in, struct intake_hash *h,
    const struct picker_piece *pp, uint32_t blk, const uint8_t *data)
{
	uint64_t base = (uint64_t)pp->index * in->mi->piece_length;

	while (h->hashed < pp->nblocks &&
	    pp->blk[h->hashed] == PICKER_BLK_RECV) {
		uint32_t begin = h->hashed * WIRE_BLOCK;
		uint32_t len = pp->size - begin < WIRE_BLOCK ?
		    pp->size - begin : WIRE_BLOCK;
		const uint8_t *src = data;

		if (h->hashed != blk && (src = reorder_get(&in->ro,
		    pp->index, begin, len)) == NULL) {
			if (intake_write(in, pp->index) != 0)
				return -1;
			if (store_read(in->st, base + begin, in->block,
			    len) != 0) {
				in->err = errno ? errno : EIO;
				intake_give_up(in, pp->index);
				return -1;
			}
			src = in->block;
		}
		hash_update(&h->h, src, len);
		if (h->hashed != blk)
			reorder_forget(&in->ro, pp->index, begin);
		h->hashed++;
	}
	return 0;
}

/* The piece is whole and written: compare its hash, tell the picker. */
static enum intake_result
intake_check(struct intake *in, struct intake_hash *h,
    const struct picker_piece *pp, struct intake_piece *out)
{
	uint8_t digest[HASH_SHA1_LEN];
	bool ok;

	out->index = pp->index;
	out->size = pp->size;
	out->ncontrib = pp->ncontrib;
	memcpy(out->contrib, pp->contrib, sizeof(out->contrib));
	ok = h->hashed == pp->nblocks && hash_final(&h->h, digest) == 0 &&
	    memcmp(digest, in->mi->hashes + (size_t)pp->index * 20, 20) == 0;
	h->on = false;		/* final released the context */
	in->slot_of[pp->index] = 0;
	reorder_forget_piece(&in->ro, out->index);
	picker_piece_done(in->pk, out->index, ok);
	return ok ? INTAKE_VERIFIED : INTAKE_FAILED;
}

enum intake_result
intake_block(struct intake *in, uint32_t peer_id, uint32_t index,
    uint32_t begin, const uint8_t *data, uint32_t len,
    struct intake_piece *piece)
{
	struct picker_piece *pp = NULL;
	struct intake_hash *h;
	enum picker_recv r;

	in->ngiven_up = 0;
	r = picker_received(in->pk, peer_id, index, begin, data, len, &pp);
	if (r == PICKER_RECV_IGNORED)
		return INTAKE_IGNORED;
	if ((h = intake_hash_of(in, index)) == NULL) {
		in->err = ENOMEM;
		intake_give_up(in, index);
		return INTAKE_DISK_ERROR;
	}
	/* Straight to the store (no copy into a piece buffer), then hash;
	 * an early block is also kept in memory for its turn. */
	if (intake_queue(in, index, (uint64_t)index * in->mi->piece_length +
	    begin, data, len) != 0)
		return INTAKE_DISK_ERROR;
	if (begin / WIRE_BLOCK != h->hashed)
		reorder_put(&in->ro, index, begin, data, len);
	if (intake_hash_forward(in, h, pp, begin / WIRE_BLOCK, data) != 0)
		return INTAKE_DISK_ERROR;
	if (r != PICKER_RECV_COMPLETE)
		return INTAKE_STORED;
	if (intake_write(in, index) != 0)
		return INTAKE_DISK_ERROR;
	return intake_check(in, h, pp, piece);
}

enum intake_result
intake_flush(struct intake *in)
{
	in->ngiven_up = 0;
	return intake_write(in, UINT32_MAX) == 0 ? INTAKE_STORED :
	    INTAKE_DISK_ERROR;
}
