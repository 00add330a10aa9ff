/*
 * bencode.c: strict, bounded bencode decoding into a flat token array,
 * and a small streaming encoder.
 *
 * The decoder is a loop over an explicit stack of open containers (at
 * most BENCODE_MAX_DEPTH), so hostile nesting costs a bounded, fixed
 * amount of memory and never recursion.  Each open container remembers
 * its token and its last child, so a new child is chained to its
 * previous sibling in O(1).  Tokens are appended in document order; the
 * array grows by doubling up to the caller's max_tokens.
 *
 * Every check that could be fooled by arithmetic overflow compares
 * against the remaining room first (lengths, integer magnitudes).
 *
 * Duplicate keys: each key is compared with the one before it in its
 * dictionary, which proves a sorted dictionary (nearly all of them)
 * free of duplicates in one pass.  Only a dictionary whose keys go out
 * of order is checked again when it closes, by sorting its keys
 * (O(n log n), so a hostile dictionary of half a million keys costs
 * milliseconds, not the hours of comparing every pair).
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "xalloc.h"

/* One open list or dict on the decoder's stack. */
struct bencode_frame {
	size_t	tok;		/* the container's token */
	size_t	last;		/* its last child so far, or BENCODE_NONE */
	size_t	count;		/* direct children so far */
	size_t	lastkey;	/* dict: its last key so far, or BENCODE_NONE */
	bool	unsorted;	/* dict: a key came before its predecessor */
};

/* A dict key for the duplicate check of an unsorted dictionary. */
struct bencode_key {
	const uint8_t	*p;
	size_t		 len;
	size_t		 start;	/* offset of the key token, for the error */
};

struct bencode_parser {
	struct bencode		*b;
	size_t			 max_tokens;
	size_t			 cap;	/* allocated tokens */
	struct thr_error	*err;
};

static void
bencode_clear(struct bencode *b)
{
	b->buf = NULL;
	b->len = 0;
	b->toks = NULL;
	b->ntoks = 0;
	b->used = 0;
}

void
bencode_release(struct bencode *b)
{
	free(b->toks);
	bencode_clear(b);
}

/* Append a token; refuses past max_tokens so memory stays bounded. */
static int
bencode_new_tok(struct bencode_parser *ps, size_t pos, size_t *out)
{
	struct bencode *b = ps->b;
	struct bencode_tok *t;
	size_t ncap;

	if (b->ntoks >= ps->max_tokens)
		return thr_error_set(ps->err, THR_ELIMIT, pos,
		    "more than %zu tokens", ps->max_tokens);
	if (b->ntoks == ps->cap) {
		ncap = ps->cap ? ps->cap : 16;
		if (ncap > ps->max_tokens / 2)
			ncap = ps->max_tokens;
		else if (ps->cap != 0)
			ncap = ps->cap * 2;
		if (ncap > SIZE_MAX / sizeof(*t))
			return thr_error_set(ps->err, THR_ENOMEM, pos,
			    "token array too large");
		t = thr_realloc(b->toks, ncap * sizeof(*t));
		if (t == NULL)
			return thr_error_set(ps->err, THR_ENOMEM, pos,
			    "out of memory for tokens");
		b->toks = t;
		ps->cap = ncap;
	}
	t = &b->toks[b->ntoks];
	memset(t, 0, sizeof(*t));
	t->start = pos;
	t->next = BENCODE_NONE;
	*out = b->ntoks++;
	return 0;
}

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Parse i<digits>e at pos; on success *pos is one past the 'e'. */
static int
bencode_parse_int(struct bencode_parser *ps, size_t *pos, int64_t *v)
{
	const uint8_t *p = ps->b->buf;
	size_t len = ps->b->len, i = *pos + 1, first;
	uint64_t mag = 0, limit = INT64_MAX;
	int neg = 0;

	if (i < len && p[i] == '-') {
		neg = 1;
		/* The magnitude of INT64_MIN is one more than INT64_MAX. */
		limit = (uint64_t)INT64_MAX + 1;
		i++;
	}
	first = i;
	for (; i < len && is_digit(p[i]); i++) {
		unsigned d = p[i] - '0';

		if (i == first + 1 && p[first] == '0')
			return thr_error_set(ps->err, THR_EINVAL, first,
			    "leading zero in integer");
		if (mag > (limit - d) / 10)
			return thr_error_set(ps->err, THR_EINVAL, i,
			    "integer overflows int64");
		mag = mag * 10 + d;
	}
	if (i >= len)
		return thr_error_set(ps->err, THR_EINVAL, len,
		    "truncated integer");
	if (p[i] != 'e')
		return thr_error_set(ps->err, THR_EINVAL, i,
		    "unexpected byte 0x%02x in integer", p[i]);
	if (i == first)
		return thr_error_set(ps->err, THR_EINVAL, i,
		    "integer has no digits");
	if (neg && mag == 0)
		return thr_error_set(ps->err, THR_EINVAL, *pos + 1,
		    "negative zero in integer");
	if (neg)
		*v = mag == limit ? INT64_MIN : -(int64_t)mag;
	else
		*v = (int64_t)mag;
	*pos = i + 1;
	return 0;
}

/* Parse <len>:<bytes> at pos; on success *pos is one past the bytes. */
static int
bencode_parse_str(struct bencode_parser *ps, size_t *pos, size_t *soff,
    size_t *slen)
{
	const uint8_t *p = ps->b->buf;
	size_t len = ps->b->len, start = *pos, i, n = 0;

	for (i = start; i < len && is_digit(p[i]); i++) {
		unsigned d = p[i] - '0';

		if (i == start + 1 && p[start] == '0')
			return thr_error_set(ps->err, THR_EINVAL, start,
			    "leading zero in string length");
		if (n > (SIZE_MAX - d) / 10)
			return thr_error_set(ps->err, THR_EINVAL, start,
			    "string length overflows");
		n = n * 10 + d;
	}
	if (i >= len)
		return thr_error_set(ps->err, THR_EINVAL, len,
		    "truncated string length");
	if (p[i] != ':')
		return thr_error_set(ps->err, THR_EINVAL, i,
		    "expected ':' after string length");
	i++;
	/* Compare with the room left, never add to the offset first. */
	if (n > len - i)
		return thr_error_set(ps->err, THR_EINVAL, start,
		    "string length %zu runs past end of input", n);
	*soff = i;
	*slen = n;
	*pos = i + n;
	return 0;
}

/* Byte order of two keys, the shorter first on a common prefix (BEP 3's
 * "sorted as raw strings"). */
static int
bencode_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
bencode_key_qcmp(const void *x, const void *y)
{
	const struct bencode_key *a = x, *b = y;
	int c = bencode_key_cmp(a->p, a->len, b->p, b->len);

	if (c != 0)
		return c;
	/* Equal keys in document order, so the later one is reported. */
	return a->start < b->start ? -1 : a->start > b->start;
}

/*
 * Key ti was just parsed into the dict of frame f: a key equal to the
 * one before it is a duplicate at once; one that sorts before it marks
 * the dict for bencode_dict_check.
 */
static int
bencode_key_next(struct bencode_parser *ps, struct bencode_frame *f,
    size_t ti)
{
	const struct bencode *b = ps->b;
	const struct bencode_tok *k = &b->toks[ti], *prev;
	int c;

	if (f->lastkey != BENCODE_NONE) {
		prev = &b->toks[f->lastkey];
		c = bencode_key_cmp(b->buf + prev->soff, prev->slen,
		    b->buf + k->soff, k->slen);
		if (c == 0)
			return thr_error_set(ps->err, THR_EINVAL, k->start,
			    "duplicate dictionary key");
		if (c > 0)
			f->unsorted = true;
	}
	f->lastkey = ti;
	return 0;
}

/* An unsorted dict has closed: sort its keys and look for equal
 * neighbours. */
static int
bencode_dict_check(struct bencode_parser *ps, const struct bencode_frame *f)
{
	const struct bencode *b = ps->b;
	struct bencode_key *keys;
	size_t n = b->toks[f->tok].nchild, i = 0, k, v;
	int rc = 0;

	if ((keys = thr_calloc(n, sizeof(*keys))) == NULL)
		return thr_error_set(ps->err, THR_ENOMEM, b->toks[f->tok].start,
		    "out of memory checking dictionary keys");
	for (k = f->tok + 1; i < n; k = b->toks[v].next) {
		keys[i].p = b->buf + b->toks[k].soff;
		keys[i].len = b->toks[k].slen;
		keys[i].start = b->toks[k].start;
		i++;
		v = b->toks[k].next;
	}
	qsort(keys, n, sizeof(*keys), bencode_key_qcmp);
	for (i = 1; i < n && rc == 0; i++)
		if (bencode_key_cmp(keys[i - 1].p, keys[i - 1].len, keys[i].p,
		    keys[i].len) == 0)
			rc = thr_error_set(ps->err, THR_EINVAL, keys[i].start,
			    "duplicate dictionary key");
	free(keys);
	return rc;
}

static int
bencode_run(struct bencode *b, const uint8_t *buf, size_t len,
    size_t max_tokens, struct thr_error *err)
{
	struct bencode_frame stack[BENCODE_MAX_DEPTH];
	struct bencode_parser ps;
	struct bencode_frame *top;
	struct bencode_tok *t;
	size_t depth = 0, pos = 0, ti = 0;
	int rc;

	bencode_clear(b);
	b->buf = buf;
	b->len = len;
	ps.b = b;
	ps.max_tokens = max_tokens;
	ps.cap = 0;
	ps.err = err;

	do {
		top = depth > 0 ? &stack[depth - 1] : NULL;
		if (pos >= len)
			return thr_error_set(err, THR_EINVAL, len,
			    "truncated input");
		if (top != NULL && buf[pos] == 'e') {
			t = &b->toks[top->tok];
			if (t->type == BENCODE_DICT) {
				if (top->count % 2 != 0)
					return thr_error_set(err, THR_EINVAL,
					    pos, "dict key has no value");
				t->nchild = top->count / 2;
				if (top->unsorted &&
				    (rc = bencode_dict_check(&ps, top)) != 0)
					return rc;
			} else
				t->nchild = top->count;
			t->end = ++pos;
			depth--;
			continue;
		}
		if (top != NULL && b->toks[top->tok].type == BENCODE_DICT &&
		    top->count % 2 == 0 && !is_digit(buf[pos]))
			return thr_error_set(err, THR_EINVAL, pos,
			    "dict key is not a string");

		if ((rc = bencode_new_tok(&ps, pos, &ti)) != 0)
			return rc;
		if (top != NULL) {
			if (top->last != BENCODE_NONE)
				b->toks[top->last].next = ti;
			top->last = ti;
			top->count++;
		}
		t = &b->toks[ti];
		switch (buf[pos]) {
		case 'i':
			t->type = BENCODE_INT;
			if ((rc = bencode_parse_int(&ps, &pos, &t->ival)) != 0)
				return rc;
			t->end = pos;
			break;
		case 'l':
		case 'd':
			t->type = buf[pos] == 'l' ? BENCODE_LIST : BENCODE_DICT;
			if (depth >= BENCODE_MAX_DEPTH)
				return thr_error_set(err, THR_ELIMIT, pos,
				    "nesting deeper than %d",
				    BENCODE_MAX_DEPTH);
			stack[depth].tok = ti;
			stack[depth].last = BENCODE_NONE;
			stack[depth].count = 0;
			stack[depth].lastkey = BENCODE_NONE;
			stack[depth].unsorted = false;
			depth++;
			pos++;
			break;
		default:
			if (!is_digit(buf[pos]))
				return thr_error_set(err, THR_EINVAL, pos,
				    "unexpected byte 0x%02x", buf[pos]);
			t->type = BENCODE_STR;
			if ((rc = bencode_parse_str(&ps, &pos, &t->soff,
			    &t->slen)) != 0)
				return rc;
			t->end = pos;
			if (top != NULL &&
			    b->toks[top->tok].type == BENCODE_DICT &&
			    top->count % 2 == 1 &&
			    (rc = bencode_key_next(&ps, top, ti)) != 0)
				return rc;
			break;
		}
	} while (depth > 0);

	b->used = pos;
	return 0;
}

int
bencode_decode_prefix(struct bencode *b, const uint8_t *buf, size_t len,
    size_t max_tokens, struct thr_error *err)
{
	int rc;

	if ((rc = bencode_run(b, buf, len, max_tokens, err)) != 0)
		bencode_release(b);
	return rc;
}

int
bencode_decode(struct bencode *b, const uint8_t *buf, size_t len,
    size_t max_tokens, struct thr_error *err)
{
	size_t used;
	int rc;

	if ((rc = bencode_decode_prefix(b, buf, len, max_tokens, err)) != 0)
		return rc;
	if (b->used != len) {
		used = b->used;
		bencode_release(b);
		return thr_error_set(err, THR_EINVAL, used,
		    "trailing bytes after value");
	}
	return 0;
}

bool
bencode_is(const struct bencode *b, size_t t, enum bencode_type type)
{
	return t < b->ntoks && b->toks[t].type == type;
}

bool
bencode_str(const struct bencode *b, size_t t, const uint8_t **p,
    size_t *len)
{
	if (!bencode_is(b, t, BENCODE_STR))
		return false;
	*p = b->buf + b->toks[t].soff;
	*len = b->toks[t].slen;
	return true;
}

bool
bencode_int(const struct bencode *b, size_t t, int64_t *v)
{
	if (!bencode_is(b, t, BENCODE_INT))
		return false;
	*v = b->toks[t].ival;
	return true;
}

bool
bencode_str_eq(const struct bencode *b, size_t t, const char *s)
{
	size_t n = strlen(s);

	if (!bencode_is(b, t, BENCODE_STR) || b->toks[t].slen != n)
		return false;
	return memcmp(b->buf + b->toks[t].soff, s, n) == 0;
}

size_t
bencode_first(const struct bencode *b, size_t t)
{
	if (t >= b->ntoks)
		return BENCODE_NONE;
	if (b->toks[t].type != BENCODE_LIST && b->toks[t].type != BENCODE_DICT)
		return BENCODE_NONE;
	if (b->toks[t].nchild == 0)
		return BENCODE_NONE;
	return t + 1;
}

size_t
bencode_next(const struct bencode *b, size_t t)
{
	if (t >= b->ntoks)
		return BENCODE_NONE;
	return b->toks[t].next;
}

size_t
bencode_dict_get(const struct bencode *b, size_t d, const char *key)
{
	size_t k, v;

	if (!bencode_is(b, d, BENCODE_DICT))
		return BENCODE_NONE;
	for (k = bencode_first(b, d); k != BENCODE_NONE; k = b->toks[v].next) {
		v = b->toks[k].next;
		if (v == BENCODE_NONE)
			break;
		if (bencode_str_eq(b, k, key))
			return v;
	}
	return BENCODE_NONE;
}

bool
bencode_dict_str(const struct bencode *b, size_t d, const char *key,
    const uint8_t **p, size_t *len)
{
	return bencode_str(b, bencode_dict_get(b, d, key), p, len);
}

bool
bencode_dict_int(const struct bencode *b, size_t d, const char *key,
    int64_t *v)
{
	return bencode_int(b, bencode_dict_get(b, d, key), v);
}

int
bencode_put_int(struct buf *out, int64_t v)
{
	return buf_printf(out, "i%" PRId64 "e", v);
}

/* Checks the whole string fits before writing, so a refused string
 * leaves no dangling length prefix in out. */
int
bencode_put_str(struct buf *out, const void *p, size_t len)
{
	char pre[24];
	size_t plen;
	int n, rc;

	n = snprintf(pre, sizeof(pre), "%zu:", len);
	if (n < 0 || (size_t)n >= sizeof(pre))
		return THR_EINVAL;
	plen = (size_t)n;
	if (len > out->max || plen > out->max - len ||
	    out->len > out->max - len - plen)
		return THR_ELIMIT;
	if ((rc = buf_append(out, pre, plen)) != 0)
		return rc;
	if (len == 0)
		return 0;
	return buf_append(out, p, len);
}

int
bencode_put_cstr(struct buf *out, const char *s)
{
	return bencode_put_str(out, s, strlen(s));
}

int
bencode_put_list(struct buf *out)
{
	return buf_put_u8(out, 'l');
}

int
bencode_put_dict(struct buf *out)
{
	return buf_put_u8(out, 'd');
}

int
bencode_put_end(struct buf *out)
{
	return buf_put_u8(out, 'e');
}
