/*
 * test_bitfield.c: the piece set, its wire order and its spare bits.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "core/bitfield.h"
#include "core/err.h"

Test(bitfield, init_is_clear)
{
	struct bitfield bf;
	uint32_t i;

	cr_assert_eq(bitfield_init(&bf, 20), 0);
	cr_assert_eq(bf.nbits, 20);
	cr_assert_eq(bf.count, 0);
	cr_assert_eq(bitfield_bytes(&bf), 3);
	for (i = 0; i < 20; i++)
		cr_assert_not(bitfield_get(&bf, i));
	cr_assert_not(bitfield_full(&bf));
	bitfield_release(&bf);
	cr_assert_null(bf.bits);
}

Test(bitfield, bytes_rounding)
{
	struct bitfield bf;
	static const uint32_t n[] = { 0, 1, 7, 8, 9, 16, 17 };
	static const size_t want[] = { 0, 1, 1, 1, 2, 2, 3 };
	size_t k;

	for (k = 0; k < sizeof(n) / sizeof(n[0]); k++) {
		cr_assert_eq(bitfield_init(&bf, n[k]), 0);
		cr_assert_eq(bitfield_bytes(&bf), want[k], "nbits %u",
		    n[k]);
		bitfield_release(&bf);
	}
}

Test(bitfield, set_is_msb_first)
{
	struct bitfield bf;

	cr_assert_eq(bitfield_init(&bf, 16), 0);
	bitfield_set(&bf, 0);
	bitfield_set(&bf, 9);
	cr_assert_eq(bf.bits[0], 0x80);
	cr_assert_eq(bf.bits[1], 0x40);
	cr_assert(bitfield_get(&bf, 0));
	cr_assert(bitfield_get(&bf, 9));
	cr_assert_not(bitfield_get(&bf, 1));
	cr_assert_eq(bf.count, 2);
	bitfield_release(&bf);
}

Test(bitfield, set_clear_count_no_double_counting)
{
	struct bitfield bf;

	cr_assert_eq(bitfield_init(&bf, 10), 0);
	bitfield_set(&bf, 3);
	bitfield_set(&bf, 3);
	cr_assert_eq(bf.count, 1);
	bitfield_clear(&bf, 3);
	bitfield_clear(&bf, 3);
	cr_assert_eq(bf.count, 0);
	bitfield_clear(&bf, 4);	/* never set: count must not wrap */
	cr_assert_eq(bf.count, 0);
	cr_assert_not(bitfield_get(&bf, 3));
	bitfield_release(&bf);
}

Test(bitfield, out_of_range_is_ignored)
{
	struct bitfield bf;

	cr_assert_eq(bitfield_init(&bf, 9), 0);
	bitfield_set(&bf, 9);
	bitfield_set(&bf, 1000);
	cr_assert_eq(bf.count, 0);
	cr_assert_eq(bf.bits[1], 0);
	cr_assert_not(bitfield_get(&bf, 9));
	cr_assert_not(bitfield_get(&bf, UINT32_MAX));
	bitfield_clear(&bf, 9);
	cr_assert_eq(bf.count, 0);
	bitfield_release(&bf);
}

Test(bitfield, set_all_and_full)
{
	struct bitfield bf;
	uint32_t i;

	cr_assert_eq(bitfield_init(&bf, 11), 0);
	bitfield_set_all(&bf);
	cr_assert(bitfield_full(&bf));
	cr_assert_eq(bf.count, 11);
	cr_assert_eq(bf.bits[0], 0xff);
	cr_assert_eq(bf.bits[1], 0xe0, "spare bits must stay clear");
	bitfield_clear(&bf, 10);
	cr_assert_not(bitfield_full(&bf));
	bitfield_set(&bf, 10);
	cr_assert(bitfield_full(&bf));
	bitfield_release(&bf);

	cr_assert_eq(bitfield_init(&bf, 16), 0);
	for (i = 0; i < 16; i++)
		bitfield_set(&bf, i);
	cr_assert(bitfield_full(&bf));
	cr_assert_eq(bf.bits[1], 0xff);
	bitfield_release(&bf);
}

Test(bitfield, empty_field)
{
	struct bitfield bf;

	cr_assert_eq(bitfield_init(&bf, 0), 0);
	cr_assert_eq(bitfield_bytes(&bf), 0);
	cr_assert(bitfield_full(&bf));
	bitfield_set_all(&bf);
	cr_assert_eq(bf.count, 0);
	cr_assert_eq(bitfield_load(&bf, (const uint8_t *)"", 0), 0);
	cr_assert_eq(bitfield_load(&bf, (const uint8_t *)"\0", 1),
	    THR_EPROTO);
	bitfield_release(&bf);
}

Test(bitfield, load_good)
{
	struct bitfield bf;
	static const uint8_t wire[] = { 0xa5, 0xc0 };

	cr_assert_eq(bitfield_init(&bf, 10), 0);
	cr_assert_eq(bitfield_load(&bf, wire, sizeof(wire)), 0);
	cr_assert_eq(bf.count, 6);
	cr_assert(bitfield_get(&bf, 0));
	cr_assert_not(bitfield_get(&bf, 1));
	cr_assert(bitfield_get(&bf, 2));
	cr_assert(bitfield_get(&bf, 7));
	cr_assert(bitfield_get(&bf, 8));
	cr_assert(bitfield_get(&bf, 9));
	cr_assert_not(bitfield_full(&bf));
	bitfield_release(&bf);
}

Test(bitfield, load_full_sets_full)
{
	struct bitfield bf;
	static const uint8_t wire[] = { 0xff, 0xff, 0xf0 };

	cr_assert_eq(bitfield_init(&bf, 20), 0);
	cr_assert_eq(bitfield_load(&bf, wire, sizeof(wire)), 0);
	cr_assert(bitfield_full(&bf));
	cr_assert_eq(bf.count, 20);
	bitfield_release(&bf);
}

Test(bitfield, load_wrong_length)
{
	struct bitfield bf;
	static const uint8_t wire[] = { 0xff, 0x00, 0x00 };

	cr_assert_eq(bitfield_init(&bf, 10), 0);
	cr_assert_eq(bitfield_load(&bf, wire, 1), THR_EPROTO);
	cr_assert_eq(bitfield_load(&bf, wire, 3), THR_EPROTO);
	cr_assert_eq(bitfield_load(&bf, wire, 0), THR_EPROTO);
	cr_assert_eq(bf.count, 0);
	bitfield_release(&bf);
}

Test(bitfield, load_spare_bits_refused_and_untouched)
{
	struct bitfield bf;
	static const uint8_t bad[] = { 0x00, 0xc1 };
	static const uint8_t bad2[] = { 0xff, 0x20 };

	cr_assert_eq(bitfield_init(&bf, 10), 0);
	bitfield_set(&bf, 4);
	cr_assert_eq(bitfield_load(&bf, bad, sizeof(bad)), THR_EPROTO);
	cr_assert_eq(bitfield_load(&bf, bad2, sizeof(bad2)), THR_EPROTO);
	/* A refused message leaves the old state alone. */
	cr_assert_eq(bf.count, 1);
	cr_assert(bitfield_get(&bf, 4));
	cr_assert_eq(bf.bits[0], 0x08);
	cr_assert_eq(bf.bits[1], 0x00);
	bitfield_release(&bf);
}

Test(bitfield, load_then_mutate_counts)
{
	struct bitfield bf;
	static const uint8_t wire[] = { 0x80 };

	cr_assert_eq(bitfield_init(&bf, 3), 0);
	cr_assert_eq(bitfield_load(&bf, wire, 1), 0);
	cr_assert_eq(bf.count, 1);
	bitfield_set(&bf, 0);
	cr_assert_eq(bf.count, 1);
	bitfield_set(&bf, 2);
	bitfield_set(&bf, 1);
	cr_assert(bitfield_full(&bf));
	bitfield_release(&bf);
}
