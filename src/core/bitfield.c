/*
 * bitfield.c: a fixed-size set of piece indexes.
 *
 * Bit i lives in byte i / 8 under mask 0x80 >> (i % 8), the order BEP 3
 * puts on the wire, so a loaded field can be sent back unchanged.  The
 * spare bits of the last byte stay clear at all times; count is kept in
 * step with the bits by every mutator so bitfield_full is O(1).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "err.h"
#include "xalloc.h"

static uint8_t
bitfield_mask(uint32_t i)
{
	return (uint8_t)(0x80u >> (i & 7));
}

/* The bits of the last byte that are real pieces (0xff when none spare). */
static uint8_t
bitfield_last_mask(uint32_t nbits)
{
	uint32_t rem = nbits & 7;

	if (rem == 0)
		return 0xff;
	return (uint8_t)(0xffu << (8 - rem));
}

static uint32_t
bitfield_popcount(const uint8_t *p, size_t n)
{
	uint32_t c = 0;
	size_t i;

	for (i = 0; i < n; i++)
		c += (uint32_t)__builtin_popcount(p[i]);
	return c;
}

int
bitfield_init(struct bitfield *bf, uint32_t nbits)
{
	size_t n = ((size_t)nbits + 7) / 8;

	bf->nbits = nbits;
	bf->count = 0;
	/* calloc(0) may return NULL; allocate one byte so bits is never
	 * NULL and callers need no special case for an empty torrent. */
	bf->bits = thr_calloc(n > 0 ? n : 1, 1);
	if (bf->bits == NULL) {
		bf->nbits = 0;
		return THR_ENOMEM;
	}
	return 0;
}

void
bitfield_release(struct bitfield *bf)
{
	free(bf->bits);
	bf->bits = NULL;
	bf->nbits = 0;
	bf->count = 0;
}

size_t
bitfield_bytes(const struct bitfield *bf)
{
	return ((size_t)bf->nbits + 7) / 8;
}

bool
bitfield_get(const struct bitfield *bf, uint32_t i)
{
	if (i >= bf->nbits)
		return false;
	return (bf->bits[i >> 3] & bitfield_mask(i)) != 0;
}

void
bitfield_set(struct bitfield *bf, uint32_t i)
{
	uint8_t m;

	if (i >= bf->nbits)
		return;
	m = bitfield_mask(i);
	if ((bf->bits[i >> 3] & m) == 0) {
		bf->bits[i >> 3] |= m;
		bf->count++;
	}
}

void
bitfield_clear(struct bitfield *bf, uint32_t i)
{
	uint8_t m;

	if (i >= bf->nbits)
		return;
	m = bitfield_mask(i);
	if ((bf->bits[i >> 3] & m) != 0) {
		bf->bits[i >> 3] &= (uint8_t)~m;
		bf->count--;
	}
}

void
bitfield_set_all(struct bitfield *bf)
{
	size_t n = bitfield_bytes(bf);

	if (n == 0)
		return;
	memset(bf->bits, 0xff, n);
	bf->bits[n - 1] = bitfield_last_mask(bf->nbits);
	bf->count = bf->nbits;
}

bool
bitfield_full(const struct bitfield *bf)
{
	return bf->count == bf->nbits;
}

int
bitfield_load(struct bitfield *bf, const uint8_t *p, size_t len)
{
	size_t n = bitfield_bytes(bf);

	if (len != n)
		return THR_EPROTO;
	if (n == 0)
		return 0;
	/* Check before copying so a rejected message leaves bf untouched. */
	if ((p[n - 1] & (uint8_t)~bitfield_last_mask(bf->nbits)) != 0)
		return THR_EPROTO;
	memcpy(bf->bits, p, n);
	bf->count = bitfield_popcount(bf->bits, n);
	return 0;
}
