/*
 * escape.h: making untrusted strings (file names, tracker messages,
 * client names) harmless to print.  Control characters (C0, DEL, C1)
 * and invalid UTF-8 bytes become \xNN; a backslash becomes "\\".
 * Valid multibyte UTF-8 passes through unchanged.
 */
#ifndef THR_ESCAPE_H
#define THR_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Escape p[0..len) into out (always NUL-terminated when outlen > 0,
 * truncated on a character boundary).  Returns the length written. */
size_t	escape_str(const void *p, size_t len, char *out, size_t outlen);
/* Append the escaped text of a NUL-terminated string to b. */
int	escape_buf(struct buf *b, const char *s);
/* Append s as a JSON string literal with quotes (control characters as
 * \uXXXX, invalid UTF-8 bytes as \u00XX of the byte). */
int	escape_json(struct buf *b, const char *s);
/* Append p[0..n) percent-encoded for a URL: every byte outside RFC
 * 3986's unreserved set (letters, digits, "-._~") becomes %XX with
 * upper-case hex, as trackers and web servers expect of binary info-hashes
 * and file names.  0 or THR_ELIMIT when b is full. */
int	escape_url(struct buf *b, const void *p, size_t n);

#endif
