/*
 * buf.c: growable byte buffers with a ceiling.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "xalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Grow so that n more bytes plus a NUL fit.  Doubling keeps appends
 * amortised O(1); the ceiling keeps hostile input bounded. */
static int
buf_grow(struct buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *p;

	/* The last test keeps len + n + 1 from wrapping when max is
	 * SIZE_MAX. */
	if (n > b->max || b->len > b->max - n || b->len + n == SIZE_MAX)
		return THR_ELIMIT;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (b->max < SIZE_MAX && ncap > b->max + 1)
		ncap = b->max + 1;
	p = thr_realloc(b->data, ncap);
	if (p == NULL)
		return THR_ENOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

uint8_t *
buf_reserve(struct buf *b, size_t n)
{
	if (buf_grow(b, n) != 0)
		return NULL;
	return b->data + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	int rc;

	if ((rc = buf_grow(b, n)) != 0)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return THR_EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	if ((rc = buf_grow(b, (size_t)n)) != 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_append(b, &v, 1);
}

int
buf_put_u32be(struct buf *b, uint32_t v)
{
	uint8_t p[4];

	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return buf_append(b, p, 4);
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long
unhex(const uint8_t *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0)
			return (long)(2 * i);
		if (lo < 0)
			return (long)(2 * i + 1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return -1;
}
