/*
 * buf.h: a growable byte buffer with a ceiling fixed at init.
 *
 * Every buffer that fills from the network or from a file gets its cap
 * when it is created, so a hostile peer can never make it grow without
 * bound (the same idea as curl's dynbuf).  data is NUL-terminated past
 * len whenever cap > 0 so text helpers may print it, but binary users
 * must always use len.
 */
#ifndef THR_BUF_H
#define THR_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t	*data;		/* owned; NULL until first append */
	size_t	 len;		/* bytes in use */
	size_t	 cap;		/* bytes allocated */
	size_t	 max;		/* ceiling for len */
};

/* Prepare an empty buffer that will refuse to hold more than max bytes. */
void	buf_init(struct buf *b, size_t max);
/* Free the storage; the buffer is empty and reusable (same max). */
void	buf_release(struct buf *b);
/* Append n bytes.  THR_ELIMIT past max, THR_ENOMEM on allocation failure. */
int	buf_append(struct buf *b, const void *p, size_t n);
/* Append a NUL-terminated string (without its NUL). */
int	buf_puts(struct buf *b, const char *s);
/* Append printf-formatted text. */
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append big-endian integers (the wire protocol's byte order). */
int	buf_put_u8(struct buf *b, uint8_t v);
int	buf_put_u32be(struct buf *b, uint32_t v);
/* Drop the first n bytes (n <= len). */
void	buf_consume(struct buf *b, size_t n);
/* Make room for n more bytes and return a pointer to them (len unchanged);
 * NULL when over max or out of memory.  Use buf_commit after filling. */
uint8_t	*buf_reserve(struct buf *b, size_t n);
void	buf_commit(struct buf *b, size_t n);
/* Reset len to 0, keeping the allocation. */
void	buf_reset(struct buf *b);

/* Big-endian reads from raw bytes (caller checked the length). */
uint32_t	be32(const uint8_t *p);
uint16_t	be16(const uint8_t *p);

/* The value of hex digit c (either case), or -1. */
int	hexval(int c);
/* Decode the 2 * n hex digits at s into out[0..n).  Returns the index
 * of the first bad character, or -1 when all were hex. */
long	unhex(const uint8_t *s, size_t n, uint8_t *out);

#endif
