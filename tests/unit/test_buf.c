/*
 * test_buf.c: the capped growable buffer.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"

Test(buf, append_and_nul)
{
	struct buf b;

	buf_init(&b, 100);
	cr_assert_null(b.data);
	cr_assert_eq(buf_append(&b, "abc", 3), 0);
	cr_assert_eq(buf_append(&b, "de", 2), 0);
	cr_assert_eq(b.len, 5);
	cr_assert_str_eq((char *)b.data, "abcde");
	cr_assert_eq(buf_puts(&b, "fg"), 0);
	cr_assert_str_eq((char *)b.data, "abcdefg");
	buf_release(&b);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.max, 100);
}

Test(buf, grows_past_first_allocation)
{
	struct buf b;
	uint8_t chunk[100];
	size_t i;

	memset(chunk, 'x', sizeof(chunk));
	buf_init(&b, 10000);
	for (i = 0; i < 50; i++)
		cr_assert_eq(buf_append(&b, chunk, sizeof(chunk)), 0);
	cr_assert_eq(b.len, 5000);
	cr_assert_eq(b.data[4999], 'x');
	cr_assert_eq(b.data[5000], '\0');
	cr_assert(b.cap <= b.max + 1);
	buf_release(&b);
}

Test(buf, cap_enforced_exactly)
{
	struct buf b;

	buf_init(&b, 8);
	cr_assert_eq(buf_append(&b, "12345678", 8), 0);
	cr_assert_eq(buf_append(&b, "9", 1), THR_ELIMIT);
	cr_assert_eq(b.len, 8);
	cr_assert_str_eq((char *)b.data, "12345678");
	buf_release(&b);

	buf_init(&b, 8);
	cr_assert_eq(buf_append(&b, "123456789", 9), THR_ELIMIT);
	cr_assert_eq(b.len, 0);
	buf_release(&b);
}

Test(buf, cap_overflow_is_refused)
{
	struct buf b;

	buf_init(&b, 16);
	cr_assert_eq(buf_append(&b, "ab", 2), 0);
	/* n near SIZE_MAX must not wrap len + n around. */
	cr_assert_eq(buf_append(&b, "x", SIZE_MAX), THR_ELIMIT);
	cr_assert_eq(buf_append(&b, "x", SIZE_MAX - 1), THR_ELIMIT);
	cr_assert_eq(b.len, 2);
	buf_release(&b);
}

Test(buf, zero_max_refuses_everything)
{
	struct buf b;

	buf_init(&b, 0);
	cr_assert_eq(buf_append(&b, "a", 1), THR_ELIMIT);
	cr_assert_eq(buf_append(&b, "", 0), 0);
	cr_assert_eq(b.len, 0);
	buf_release(&b);
}

Test(buf, consume_partial_and_all)
{
	struct buf b;

	buf_init(&b, 64);
	cr_assert_eq(buf_puts(&b, "hello world"), 0);
	buf_consume(&b, 6);
	cr_assert_eq(b.len, 5);
	cr_assert_str_eq((char *)b.data, "world");
	buf_consume(&b, 0);
	cr_assert_str_eq((char *)b.data, "world");
	buf_consume(&b, 5);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq((char *)b.data, "");
	buf_release(&b);
	/* Consuming frees room under the cap. */
	buf_init(&b, 4);
	cr_assert_eq(buf_append(&b, "abcd", 4), 0);
	buf_consume(&b, 2);
	cr_assert_eq(buf_append(&b, "ef", 2), 0);
	cr_assert_str_eq((char *)b.data, "cdef");
	buf_release(&b);
}

Test(buf, consume_on_empty)
{
	struct buf b;

	buf_init(&b, 4);
	buf_consume(&b, 0);
	cr_assert_eq(b.len, 0);
	buf_reset(&b);
	cr_assert_null(b.data);
}

Test(buf, printf_short)
{
	struct buf b;

	buf_init(&b, 64);
	cr_assert_eq(buf_printf(&b, "%s=%d", "n", 42), 0);
	cr_assert_eq(buf_printf(&b, ";%u", 7u), 0);
	cr_assert_str_eq((char *)b.data, "n=42;7");
	cr_assert_eq(b.len, 6);
	buf_release(&b);
}

Test(buf, printf_long)
{
	struct buf b;
	char big[1001];

	memset(big, 'q', 1000);
	big[1000] = '\0';
	buf_init(&b, 4096);
	cr_assert_eq(buf_puts(&b, "<"), 0);
	cr_assert_eq(buf_printf(&b, "%s|%s", big, big), 0);
	cr_assert_eq(b.len, 2002);
	cr_assert_eq(b.data[0], '<');
	cr_assert_eq(b.data[1], 'q');
	cr_assert_eq(b.data[1001], '|');
	cr_assert_eq(b.data[2001], 'q');
	cr_assert_eq(b.data[2002], '\0');
	cr_assert_eq(strlen((char *)b.data), 2002);
	buf_release(&b);
}

Test(buf, printf_exactly_buffer_boundary)
{
	struct buf b;
	char s[257];

	/* 255 and 256 characters straddle the function's stack buffer. */
	memset(s, 'a', 256);
	s[256] = '\0';
	buf_init(&b, 1024);
	cr_assert_eq(buf_printf(&b, "%.255s", s), 0);
	cr_assert_eq(b.len, 255);
	cr_assert_eq(buf_printf(&b, "%s", s), 0);
	cr_assert_eq(b.len, 511);
	cr_assert_eq(strlen((char *)b.data), 511);
	buf_release(&b);
}

Test(buf, printf_past_cap)
{
	struct buf b;
	char big[600];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 500);
	cr_assert_eq(buf_printf(&b, "%s", big), THR_ELIMIT);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(buf_printf(&b, "%.10s", big), 0);
	cr_assert_eq(buf_printf(&b, "%s", "0123456789"), 0);
	cr_assert_eq(buf_printf(&b, "%.481s", big), THR_ELIMIT);
	cr_assert_eq(buf_printf(&b, "%.480s", big), 0);
	cr_assert_eq(b.len, 500);
	buf_release(&b);
}

Test(buf, reserve_commit)
{
	struct buf b;
	uint8_t *p;

	buf_init(&b, 32);
	cr_assert_eq(buf_puts(&b, "ab"), 0);
	p = buf_reserve(&b, 10);
	cr_assert_not_null(p);
	cr_assert_eq(p, b.data + 2);
	cr_assert_eq(b.len, 2, "reserve must not change len");
	memcpy(p, "cdef", 4);
	buf_commit(&b, 4);
	cr_assert_eq(b.len, 6);
	cr_assert_str_eq((char *)b.data, "abcdef");
	cr_assert_null(buf_reserve(&b, 27));
	cr_assert_not_null(buf_reserve(&b, 26));
	buf_release(&b);
}

Test(buf, reserve_on_fresh_buffer)
{
	struct buf b;
	uint8_t *p;

	buf_init(&b, 8);
	p = buf_reserve(&b, 8);
	cr_assert_not_null(p);
	memcpy(p, "12345678", 8);
	buf_commit(&b, 8);
	cr_assert_str_eq((char *)b.data, "12345678");
	cr_assert_null(buf_reserve(&b, 1));
	buf_release(&b);
}

Test(buf, big_endian_helpers)
{
	struct buf b;

	buf_init(&b, 16);
	cr_assert_eq(buf_put_u32be(&b, 0x01020304u), 0);
	cr_assert_eq(buf_put_u8(&b, 0xfe), 0);
	cr_assert_eq(b.len, 5);
	cr_assert_eq(b.data[0], 1);
	cr_assert_eq(b.data[3], 4);
	cr_assert_eq(b.data[4], 0xfe);
	cr_assert_eq(be32(b.data), 0x01020304u);
	cr_assert_eq(be16(b.data + 2), 0x0304);
	cr_assert_eq(be32((const uint8_t *)"\xff\xff\xff\xff"), 0xffffffffu);
	cr_assert_eq(be16((const uint8_t *)"\xff\x01"), 0xff01);
	buf_release(&b);
}

Test(buf, reset_keeps_allocation)
{
	struct buf b;
	uint8_t *old;

	buf_init(&b, 64);
	cr_assert_eq(buf_puts(&b, "keep"), 0);
	old = b.data;
	buf_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.data, old);
	cr_assert_str_eq((char *)b.data, "");
	cr_assert_eq(buf_puts(&b, "again"), 0);
	cr_assert_str_eq((char *)b.data, "again");
	buf_release(&b);
	cr_assert_eq(buf_puts(&b, "reuse"), 0);
	cr_assert_str_eq((char *)b.data, "reuse");
	buf_release(&b);
}

/*
 * Regression: with max == SIZE_MAX ("no practical cap") the ceiling
 * arithmetic wrapped: max + 1 became 0 and the allocation shrank to
 * nothing, and len + n + 1 wrapped so an absurd n looked as if it fit.
 */
Test(buf, max_size_max_does_not_wrap)
{
	struct buf b;

	buf_init(&b, SIZE_MAX);
	cr_assert_eq(buf_append(&b, "abc", 3), 0);
	cr_assert_str_eq((char *)b.data, "abc");
	cr_assert_geq(b.cap, 4);
	cr_assert_neq(buf_append(&b, "x", SIZE_MAX), 0);
	cr_assert_neq(buf_append(&b, "x", SIZE_MAX - 3), 0);
	cr_assert_null(buf_reserve(&b, SIZE_MAX - 3));
	cr_assert_eq(b.len, 3);
	cr_assert_eq(buf_printf(&b, "%0300d", 1), 0);
	cr_assert_eq(b.len, 303);
	buf_release(&b);
}

Test(buf, unhex)
{
	uint8_t out[3];

	cr_assert_eq(hexval('0'), 0);
	cr_assert_eq(hexval('f'), 15);
	cr_assert_eq(hexval('F'), 15);
	cr_assert_eq(hexval('g'), -1);
	cr_assert_eq(unhex((const uint8_t *)"00aBff", 3, out), -1);
	cr_assert(out[0] == 0x00 && out[1] == 0xab && out[2] == 0xff);
	/* The index of the first bad character, high or low digit. */
	cr_assert_eq(unhex((const uint8_t *)"00zz", 2, out), 2);
	cr_assert_eq(unhex((const uint8_t *)"000z", 2, out), 3);
}
