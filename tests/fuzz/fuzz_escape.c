/*
 * fuzz_escape.c: libFuzzer target for escape_str, escape_buf and
 * escape_json.
 *
 * The first byte picks the output size for escape_str, so truncation is
 * tried at every length; the output buffer is a heap block of exactly
 * that size so ASan catches a write past it.  Outputs must keep
 * escape.h's promises: NUL-terminated, no control characters, valid
 * UTF-8, and a JSON literal in quotes with no raw control characters.
 * A broken promise aborts, which libFuzzer reports as a crash.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/escape.h"

#define FUZZ_BUF_MAX	(1u << 20)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_escape: broken invariant: %s\n", what);
	abort();
}

/* Length of the valid UTF-8 sequence at p (shortest form, no
 * surrogates, at most U+10FFFF), or 0. */
static size_t
utf8_len(const uint8_t *p, size_t len)
{
	uint32_t cp;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Text safe to print: valid UTF-8 without C0, DEL or C1 controls. */
static void
check_safe(const uint8_t *p, size_t len, const char *who)
{
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(stderr, "%s: control byte 0x%02x at %zu\n",
			    who, p[i], i);
			fail("control character in escaped output");
		}
		if ((n = utf8_len(p + i, len - i)) == 0) {
			fprintf(stderr, "%s: bad UTF-8 at %zu\n", who, i);
			fail("invalid UTF-8 in escaped output");
		}
		/* C1 controls are U+0080..U+009F: 0xc2 0x80..0x9f. */
		if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			fail("C1 control in escaped output");
		i += n;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b;
	char *out, *s;
	size_t outlen, n, i;

	if (size < 1)
		return 0;
	outlen = data[0];
	data++;
	size--;

	/* escape_str into exactly outlen bytes. */
	if ((out = malloc(outlen > 0 ? outlen : 1)) == NULL)
		return 0;
	n = escape_str(data, size, out, outlen);
	if (outlen > 0) {
		if (n >= outlen || out[n] != '\0' || strlen(out) != n)
			fail("escape_str length or terminator wrong");
		check_safe((const uint8_t *)out, n, "escape_str");
	} else if (n != 0) {
		fail("escape_str wrote into a zero-size buffer");
	}
	free(out);

	/* The string functions take NUL-terminated text. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	buf_init(&b, FUZZ_BUF_MAX);
	if (escape_buf(&b, s) == 0)
		check_safe(b.data != NULL ? b.data : (const uint8_t *)"",
		    b.len, "escape_buf");
	buf_release(&b);

	buf_init(&b, FUZZ_BUF_MAX);
	if (escape_json(&b, s) == 0) {
		if (b.len < 2 || b.data[0] != '"' || b.data[b.len - 1] != '"')
			fail("escape_json output not in quotes");
		check_safe(b.data, b.len, "escape_json");
		/* An unescaped quote inside would end the literal early. */
		i = 1;
		while (i < b.len - 1) {
			if (b.data[i] == '"')
				fail("escape_json left a raw quote inside");
			i += b.data[i] == '\\' ? 2 : 1;
		}
		if (i != b.len - 1)
			fail("escape_json escaped its closing quote");
	}
	buf_release(&b);
	free(s);
	return 0;
}
