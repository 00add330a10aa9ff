/*
 * bencode.h: a strict, bounded bencode decoder and a streaming encoder.
 *
 * The decoder turns a buffer into a flat array of tokens in document
 * order (as arvidn/libtorrent's bdecode does).  Tokens BORROW the input:
 * the buffer passed to bencode_decode must outlive the struct bencode.
 * Each token records the raw span [start, end) of its value in the input,
 * which is what the info-hash is computed over (SHA-1 of the exact bytes
 * of the "info" value, never a re-encoding).
 *
 * Strictness (BEP 3): integers are i<digits>e with no leading zeros, no
 * "-0", no empty digits, and must fit int64_t; string lengths have no
 * leading zeros and must not run past the buffer; dictionary keys must be
 * strings, and no key may appear twice in one dictionary.  A duplicate
 * would let two clients read two different torrents under one info-hash
 * (libtorrent and Transmission take the first value, rTorrent's map the
 * last), so it is refused wherever bencode is parsed.  Keys out of order
 * are accepted, as libtorrent and Transmission accept them: without
 * duplicates their meaning is the same in every order, and the
 * info-hash covers the bytes as written.  Nesting deeper than
 * BENCODE_MAX_DEPTH or more tokens than the caller's limit is refused.
 * Every failure reports the byte offset where decoding stopped.
 *
 * Navigation: the root is token 0.  The children of a list or dict token
 * t start at t + 1 and are chained through tok.next; a dict's children
 * alternate key, value.  BENCODE_NONE means "no such token".
 */
#ifndef THR_BENCODE_H
#define THR_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Deep enough for any real torrent or KRPC message, shallow enough that
 * a hostile "llllll..." cannot exhaust the stack of any consumer. */
#define BENCODE_MAX_DEPTH	64
/* Default token cap for callers with no better idea (a 100k-piece torrent
 * with 10k files needs about 60k tokens). */
#define BENCODE_DEFAULT_MAX_TOKENS	(1u << 20)
#define BENCODE_NONE		((size_t)-1)

enum bencode_type {
	BENCODE_INT,
	BENCODE_STR,
	BENCODE_LIST,
	BENCODE_DICT,
};

struct bencode_tok {
	enum bencode_type type;
	size_t	start;		/* offset of the first byte of the value */
	size_t	end;		/* offset one past its last byte */
	size_t	next;		/* next sibling, or BENCODE_NONE */
	size_t	nchild;		/* list items, or dict key+value tokens/2 */
	int64_t	ival;		/* BENCODE_INT: the value */
	size_t	soff;		/* BENCODE_STR: offset of the string bytes */
	size_t	slen;		/* BENCODE_STR: length of the string */
};

struct bencode {
	const uint8_t		*buf;	/* borrowed input */
	size_t			 len;
	struct bencode_tok	*toks;	/* owned */
	size_t			 ntoks;
	size_t			 used;	/* bytes consumed by the root value */
};

/*
 * Decode exactly one value that fills all of buf[0..len).  Trailing bytes
 * are an error.  max_tokens bounds memory (THR_ELIMIT past it).
 * On failure b is left empty (safe to release) and err says where.
 */
int	bencode_decode(struct bencode *b, const uint8_t *buf, size_t len,
	    size_t max_tokens, struct thr_error *err);
/*
 * Like bencode_decode but accepts trailing bytes: b->used tells how many
 * bytes the leading value took (used for extension messages that carry
 * bencode followed by raw data).
 */
int	bencode_decode_prefix(struct bencode *b, const uint8_t *buf,
	    size_t len, size_t max_tokens, struct thr_error *err);
void	bencode_release(struct bencode *b);

/* Value of key in dict token d, or BENCODE_NONE (also if d is no dict). */
size_t	bencode_dict_get(const struct bencode *b, size_t d, const char *key);
/* Typed lookups: false if the key is missing or of another type. */
bool	bencode_dict_str(const struct bencode *b, size_t d, const char *key,
	    const uint8_t **p, size_t *len);
bool	bencode_dict_int(const struct bencode *b, size_t d, const char *key,
	    int64_t *v);
/* Accessors on a token; false on a type mismatch. */
bool	bencode_str(const struct bencode *b, size_t t, const uint8_t **p,
	    size_t *len);
bool	bencode_int(const struct bencode *b, size_t t, int64_t *v);
/* First child of a list/dict, or BENCODE_NONE if empty or not a container. */
size_t	bencode_first(const struct bencode *b, size_t t);
/* Next sibling, or BENCODE_NONE. */
size_t	bencode_next(const struct bencode *b, size_t t);
/* True if token t is of the given type. */
bool	bencode_is(const struct bencode *b, size_t t, enum bencode_type type);
/* True if the string token t equals the NUL-terminated s. */
bool	bencode_str_eq(const struct bencode *b, size_t t, const char *s);

/*
 * Encoder: appends to a struct buf.  The caller keeps dict keys sorted
 * (BEP 3 requires it); the encoder does not check.
 * Each returns 0 or the error of buf_append.
 */
int	bencode_put_int(struct buf *out, int64_t v);
int	bencode_put_str(struct buf *out, const void *p, size_t len);
int	bencode_put_cstr(struct buf *out, const char *s);
int	bencode_put_list(struct buf *out);	/* 'l' */
int	bencode_put_dict(struct buf *out);	/* 'd' */
int	bencode_put_end(struct buf *out);	/* 'e' */

#endif
