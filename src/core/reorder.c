/*
 * reorder.c: see reorder.h.  A linear scan of 64 slots is cheaper than
 * any index here: it runs once per early block, next to a 16 KiB copy.
 */
#include "reorder.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void
reorder_init(struct reorder *r)
{
	memset(r, 0, sizeof(*r));
}

void
reorder_release(struct reorder *r)
{
	free(r->mem);
	reorder_init(r);
}

static int
find(const struct reorder *r, uint32_t index, uint32_t begin)
{
	if (r->used == 0)
		return -1;
	for (int i = 0; i < REORDER_SLOTS; i++)
		if (r->len[i] != 0 && r->index[i] == index &&
		    r->begin[i] == begin)
			return i;
	return -1;
}

bool
reorder_put(struct reorder *r, uint32_t index, uint32_t begin,
    const uint8_t *data, uint32_t len)
{
	int i = find(r, index, begin);

	if (len == 0 || len > REORDER_BLOCK) {
		r->missed++;
		return false;
	}
	if (i < 0) {
		if (r->used == REORDER_SLOTS) {
			r->missed++;
			return false;
		}
		for (i = 0; r->len[i] != 0; i++)
			;
	}
	if (r->mem == NULL &&
	    (r->mem = thr_malloc((size_t)REORDER_SLOTS * REORDER_BLOCK)) == NULL) {
		r->missed++;
		return false;
	}
	if (r->len[i] == 0)
		r->used++;
	memcpy(r->mem + (size_t)i * REORDER_BLOCK, data, len);
	r->index[i] = index;
	r->begin[i] = begin;
	r->len[i] = len;
	r->kept++;
	return true;
}

const uint8_t *
reorder_get(const struct reorder *r, uint32_t index, uint32_t begin,
    uint32_t len)
{
	int i = find(r, index, begin);

	if (i < 0 || r->len[i] != len)
		return NULL;
	return r->mem + (size_t)i * REORDER_BLOCK;
}

void
reorder_forget(struct reorder *r, uint32_t index, uint32_t begin)
{
	int i = find(r, index, begin);

	if (i >= 0) {
		r->len[i] = 0;
		r->used--;
	}
}

void
reorder_forget_piece(struct reorder *r, uint32_t index)
{
	for (int i = 0; i < REORDER_SLOTS && r->used > 0; i++)
		if (r->len[i] != 0 && r->index[i] == index) {
			r->len[i] = 0;
			r->used--;
		}
}
