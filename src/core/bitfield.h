/*
 * bitfield.h: a fixed-size set of piece indexes, stored most significant
 * bit first as the wire protocol sends it (BEP 3 "bitfield").
 */
#ifndef THR_BITFIELD_H
#define THR_BITFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bitfield {
	uint8_t		*bits;	/* owned, (nbits + 7) / 8 bytes */
	uint32_t	 nbits;
	uint32_t	 count;	/* number of bits set */
};

/* Allocate an all-clear field.  Returns 0 or THR_ENOMEM. */
int	bitfield_init(struct bitfield *bf, uint32_t nbits);
void	bitfield_release(struct bitfield *bf);
size_t	bitfield_bytes(const struct bitfield *bf);
bool	bitfield_get(const struct bitfield *bf, uint32_t i);
void	bitfield_set(struct bitfield *bf, uint32_t i);
void	bitfield_clear(struct bitfield *bf, uint32_t i);
void	bitfield_set_all(struct bitfield *bf);
bool	bitfield_full(const struct bitfield *bf);
/*
 * Load wire bytes.  THR_EPROTO if len is not exactly bitfield_bytes() or a
 * spare bit past nbits is set (BEP 3 says peers must drop such a peer).
 */
int	bitfield_load(struct bitfield *bf, const uint8_t *p, size_t len);

#endif
