/*
 * test_escape.c: untrusted strings must come out unable to drive a
 * terminal, while honest UTF-8 names stay readable.
 */
#include "config.h"

#include <string.h>

#include <criterion/criterion.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/escape.h"

/* Escape a NUL-free literal with a roomy buffer. */
static const char *
esc(const char *s, size_t len, char *out, size_t outlen)
{
	escape_str(s, len, out, outlen);
	return out;
}

#define ESC(lit, out)	esc((lit), sizeof(lit) - 1, (out), sizeof(out))

Test(escape, plain_ascii_unchanged)
{
	char out[64];
	size_t n;

	n = escape_str("hello world.txt", 15, out, sizeof(out));
	cr_assert_eq(n, 15);
	cr_assert_str_eq(out, "hello world.txt");
}

Test(escape, control_chars)
{
	char out[64];

	cr_assert_str_eq(ESC("a\nb\tc\rd", out), "a\\x0ab\\x09c\\x0dd");
	cr_assert_str_eq(ESC("\x01\x1f", out), "\\x01\\x1f");
}

Test(escape, embedded_nul)
{
	char out[64];

	cr_assert_str_eq(ESC("a\0b", out), "a\\x00b");
}

Test(escape, del)
{
	char out[64];

	cr_assert_str_eq(ESC("x\x7fy", out), "x\\x7fy");
}

Test(escape, c1_controls_utf8_encoded)
{
	char out[64];

	/* U+009B is the single-character CSI on some terminals. */
	cr_assert_str_eq(ESC("a\xc2\x9b" "31m", out), "a\\xc2\\x9b31m");
	cr_assert_str_eq(ESC("\xc2\x80\xc2\x9f", out),
	    "\\xc2\\x80\\xc2\\x9f");
	/* U+00A0 is just past C1 and is printable. */
	cr_assert_str_eq(ESC("\xc2\xa0", out), "\xc2\xa0");
}

Test(escape, c1_raw_bytes)
{
	char out[64];

	cr_assert_str_eq(ESC("\x9b" "2J", out), "\\x9b2J");
}

Test(escape, ansi_escape_sequence)
{
	char out[64];

	cr_assert_str_eq(ESC("\x1b[31mred\x1b[0m", out),
	    "\\x1b[31mred\\x1b[0m");
	cr_assert_null(strchr(out, 0x1b));
}

Test(escape, backslash_doubled)
{
	char out[64];

	cr_assert_str_eq(ESC("a\\x1b", out), "a\\\\x1b");
}

Test(escape, valid_utf8_kept)
{
	char out[64];

	cr_assert_str_eq(ESC("caf\xc3\xa9", out), "caf\xc3\xa9");
	cr_assert_str_eq(ESC("\xe6\xbc\xa2\xe5\xad\x97", out),
	    "\xe6\xbc\xa2\xe5\xad\x97");
	cr_assert_str_eq(ESC("\xf0\x9f\x98\x80", out), "\xf0\x9f\x98\x80");
}

Test(escape, invalid_utf8)
{
	char out[64];

	/* Lone continuation byte, bad lead bytes. */
	cr_assert_str_eq(ESC("\x80", out), "\\x80");
	cr_assert_str_eq(ESC("\xff\xfe", out), "\\xff\\xfe");
	/* Overlong encodings of '/' and NUL. */
	cr_assert_str_eq(ESC("\xc0\xaf", out), "\\xc0\\xaf");
	cr_assert_str_eq(ESC("\xe0\x80\x80", out), "\\xe0\\x80\\x80");
	/* UTF-16 surrogate and a code point past U+10FFFF. */
	cr_assert_str_eq(ESC("\xed\xa0\x80", out), "\\xed\\xa0\\x80");
	cr_assert_str_eq(ESC("\xf4\x90\x80\x80", out),
	    "\\xf4\\x90\\x80\\x80");
	/* Truncated sequence: the lead is escaped, the rest resyncs. */
	cr_assert_str_eq(ESC("\xe6\xbc" "a", out), "\\xe6\\xbca");
	cr_assert_str_eq(ESC("\xc3", out), "\\xc3");
}

Test(escape, truncation_keeps_utf8_whole)
{
	char out[5];
	size_t n;

	/* "ab" + two bytes of U+00E9 fits 4, and a 3-byte char does not. */
	n = escape_str("ab\xc3\xa9", 4, out, sizeof(out));
	cr_assert_eq(n, 4);
	cr_assert_str_eq(out, "ab\xc3\xa9");
	n = escape_str("abc\xe6\xbc\xa2", 6, out, sizeof(out));
	cr_assert_eq(n, 3);
	cr_assert_str_eq(out, "abc");
}

Test(escape, truncation_keeps_escape_whole)
{
	char out[7];
	size_t n;

	/* "ab" + "\x1b" is 6; one more escape would be 10. */
	n = escape_str("ab\x1b\x1b", 4, out, sizeof(out));
	cr_assert_eq(n, 6);
	cr_assert_str_eq(out, "ab\\x1b");
	n = escape_str("abc\x1b", 4, out, 6);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(out, "abc");
	/* "\\" is two bytes or nothing. */
	n = escape_str("a\\", 2, out, 3);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(out, "a");
}

Test(escape, tiny_output)
{
	char out[4] = "zzz";

	cr_assert_eq(escape_str("abc", 3, out, 0), 0);
	cr_assert_str_eq(out, "zzz");
	cr_assert_eq(escape_str("abc", 3, out, 1), 0);
	cr_assert_str_eq(out, "");
}

Test(escape, buf_append)
{
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(escape_buf(&b, "x="), 0);
	cr_assert_eq(escape_buf(&b, "\x1b[2J\xc3\xa9\\"), 0);
	cr_assert_eq(b.len, strlen("x=\\x1b[2J\xc3\xa9\\\\"));
	cr_assert_str_eq((char *)b.data, "x=\\x1b[2J\xc3\xa9\\\\");
	buf_release(&b);
}

Test(escape, buf_limit)
{
	struct buf b;

	buf_init(&b, 4);
	cr_assert_eq(escape_buf(&b, "\x1b"), 0);
	cr_assert_eq(escape_buf(&b, "\x1b"), THR_ELIMIT);
	buf_release(&b);
}

Test(escape, json_basic)
{
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(escape_json(&b, "a \"q\" \\ b"), 0);
	cr_assert_str_eq((char *)b.data, "\"a \\\"q\\\" \\\\ b\"");
	buf_release(&b);
}

Test(escape, json_empty)
{
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(escape_json(&b, ""), 0);
	cr_assert_str_eq((char *)b.data, "\"\"");
	buf_release(&b);
}

Test(escape, json_controls)
{
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(escape_json(&b, "\n\t\x1b[31m\x7f\xc2\x9b/"), 0);
	cr_assert_str_eq((char *)b.data,
	    "\"\\u000a\\u0009\\u001b[31m\\u007f\\u009b/\"");
	buf_release(&b);
}

Test(escape, json_utf8_and_invalid)
{
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(escape_json(&b,
	    "\xc3\xa9\xe6\xbc\xa2\xff\xc0\xaf"), 0);
	cr_assert_str_eq((char *)b.data,
	    "\"\xc3\xa9\xe6\xbc\xa2\\u00ff\\u00c0\\u00af\"");
	buf_release(&b);
}

Test(escape, url_keeps_unreserved_only)
{
	static const uint8_t bin[] = { 0x00, 0x12, 0xab, 0xff, ' ', '/',
	    '%', '+', '?', '&', '=' };
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(escape_url(&b, "AZaz09-._~", 10), 0);
	cr_assert_str_eq((char *)b.data, "AZaz09-._~");
	buf_reset(&b);
	cr_assert_eq(escape_url(&b, bin, sizeof(bin)), 0);
	cr_assert_str_eq((char *)b.data,
	    "%00%12%AB%FF%20%2F%25%2B%3F%26%3D");
	buf_reset(&b);
	cr_assert_eq(escape_url(&b, "\xc3\xa9", 2), 0);
	cr_assert_str_eq((char *)b.data, "%C3%A9");
	buf_release(&b);
}

Test(escape, url_full_buffer)
{
	struct buf b;

	buf_init(&b, 4);
	cr_assert_neq(escape_url(&b, "\x01\x02", 2), 0);
	buf_release(&b);
}
