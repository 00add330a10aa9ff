/*
 * escape.c: making untrusted strings harmless to print.
 *
 * Names, comments and messages come from torrents, trackers and peers.
 * Printed raw, an ESC or CSI byte would let them drive the terminal
 * (move the cursor, retitle the window, hide text), so every byte that
 * is not printable ASCII or part of a well-formed UTF-8 character is
 * shown as \xNN.  The input is walked one "unit" at a time: one printable
 * byte, one whole valid UTF-8 sequence, or one escaped byte.  A unit is
 * never split, which is what lets escape_str truncate on a character
 * boundary.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "escape.h"

/* The longest escaped form of one unit: a C1 control encoded in UTF-8 is
 * two bytes, each shown as \xNN (8), or \u00NN twice in JSON (12). */
#define ESCAPE_UNIT_MAX	16

/*
 * Length of the well-formed UTF-8 sequence at p[0..len) and its code
 * point, or 0 if the bytes there are not one (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF, no truncated tail).
 */
static size_t
escape_utf8_seq(const uint8_t *p, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c, min;

	if (len == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		c = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static size_t
escape_hex_byte(char *out, const char *prefix, uint8_t byte)
{
	static const char hex[] = "0123456789abcdef";
	size_t n;

	n = strlen(prefix);
	memcpy(out, prefix, n);
	out[n++] = hex[byte >> 4];
	out[n++] = hex[byte & 0x0f];
	return n;
}

/*
 * Escape the unit at p[0..len) into out (ESCAPE_UNIT_MAX bytes, not
 * NUL-terminated).  *used is set to the number of input bytes taken;
 * the return value is the number of output bytes.
 */
static size_t
escape_unit(const uint8_t *p, size_t len, bool json, char *out,
    size_t *used)
{
	const char *pfx = json ? "\\u00" : "\\x";
	uint32_t cp;
	size_t n, i, o;

	n = escape_utf8_seq(p, len, &cp);
	if (n == 0) {
		/* Invalid UTF-8: show the one byte and resync after it. */
		*used = 1;
		return escape_hex_byte(out, pfx, p[0]);
	}
	*used = n;
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
		/* C0, DEL and C1 controls.  In text mode a C1 character is
		 * shown byte by byte so the output says exactly what the
		 * input held; in JSON it is the code point itself. */
		if (json)
			return escape_hex_byte(out, pfx, (uint8_t)cp);
		o = 0;
		for (i = 0; i < n; i++)
			o += escape_hex_byte(out + o, pfx, p[i]);
		return o;
	}
	if (cp == '\\') {
		memcpy(out, "\\\\", 2);
		return 2;
	}
	if (json && cp == '"') {
		memcpy(out, "\\\"", 2);
		return 2;
	}
	memcpy(out, p, n);
	return n;
}

size_t
escape_str(const void *p, size_t len, char *out, size_t outlen)
{
	const uint8_t *in = p;
	char unit[ESCAPE_UNIT_MAX];
	size_t i, o, n, used;

	if (outlen == 0)
		return 0;
	o = 0;
	for (i = 0; i < len; i += used) {
		n = escape_unit(in + i, len - i, false, unit, &used);
		/* Keep one byte for the NUL; never write half a unit. */
		if (n > outlen - 1 - o)
			break;
		memcpy(out + o, unit, n);
		o += n;
	}
	out[o] = '\0';
	return o;
}

static int
escape_append(struct buf *b, const char *s, bool json)
{
	const uint8_t *in = (const uint8_t *)s;
	char unit[ESCAPE_UNIT_MAX];
	size_t i, len, n, used;
	int rc;

	len = strlen(s);
	for (i = 0; i < len; i += used) {
		n = escape_unit(in + i, len - i, json, unit, &used);
		if ((rc = buf_append(b, unit, n)) != 0)
			return rc;
	}
	return 0;
}

int
escape_buf(struct buf *b, const char *s)
{
	return escape_append(b, s, false);
}

int
escape_json(struct buf *b, const char *s)
{
	int rc;

	if ((rc = buf_append(b, "\"", 1)) != 0)
		return rc;
	if ((rc = escape_append(b, s, true)) != 0)
		return rc;
	return buf_append(b, "\"", 1);
}

int
escape_url(struct buf *b, const void *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const uint8_t *s = p;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		uint8_t c = s[i];

		/* RFC 3986 section 2.3: only the unreserved set stays. */
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			rc = buf_put_u8(b, c);
		else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			rc = buf_append(b, e, 3);
		}
	}
	return rc;
}
