/*
 * fuzz_bencode.c: libFuzzer target for the bencode decoder.
 *
 * Beyond "does not crash", it checks what bencode.h promises: every
 * token's span lies inside the input, the tree walk through first/next
 * visits exactly the tokens decoded, and because the decoder is strict
 * (canonical integers and lengths) re-encoding the tree in document
 * order gives back the input byte for byte.  A broken promise aborts,
 * which libFuzzer reports as a crash.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bencode.h"
#include "core/buf.h"
#include "core/err.h"

/* Small enough that the token limit is hit by short inputs too. */
#define FUZZ_SMALL_TOKENS	64u

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_bencode: broken invariant: %s\n", what);
	abort();
}

/* Re-encode token t into out; returns the token after t's subtree. */
static size_t
reencode(const struct bencode *b, size_t t, struct buf *out, size_t *seen)
{
	const struct bencode_tok *k;
	const uint8_t *p;
	size_t c, n, len, after;
	int64_t v;

	if (t >= b->ntoks)
		fail("token index out of range");
	k = &b->toks[t];
	(*seen)++;
	if (k->start >= k->end || k->end > b->len)
		fail("token span outside the input");
	switch (k->type) {
	case BENCODE_INT:
		if (!bencode_int(b, t, &v) || v != k->ival)
			fail("bencode_int disagrees with the token");
		bencode_put_int(out, v);
		return t + 1;
	case BENCODE_STR:
		if (!bencode_str(b, t, &p, &len))
			fail("bencode_str refused a string token");
		if (k->soff < k->start || k->soff + k->slen != k->end ||
		    p != b->buf + k->soff || len != k->slen)
			fail("string bytes outside their token");
		bencode_put_str(out, p, len);
		return t + 1;
	case BENCODE_LIST:
	case BENCODE_DICT:
		if (k->type == BENCODE_LIST)
			bencode_put_list(out);
		else
			bencode_put_dict(out);
		n = 0;
		after = t + 1;
		for (c = bencode_first(b, t); c != BENCODE_NONE;
		    c = bencode_next(b, c)) {
			if (c != after)
				fail("children are not in document order");
			if (k->type == BENCODE_DICT && n % 2 == 0 &&
			    !bencode_is(b, c, BENCODE_STR))
				fail("dictionary key is not a string");
			after = reencode(b, c, out, seen);
			n++;
		}
		if (k->type == BENCODE_DICT) {
			if (n % 2 != 0)
				fail("dictionary with a key and no value");
			n /= 2;
		}
		if (n != k->nchild)
			fail("nchild disagrees with the walk");
		bencode_put_end(out);
		return after;
	}
	fail("unknown token type");
	return 0;
}

static void
check(const struct bencode *b, const uint8_t *data, size_t used)
{
	struct buf out;
	size_t seen = 0, c;
	const uint8_t *p;
	size_t len;
	int64_t v;

	if (b->ntoks == 0 || b->toks[0].start != 0 || b->toks[0].end != used)
		fail("root does not span the consumed bytes");
	buf_init(&out, used + 64);
	if (reencode(b, 0, &out, &seen) != b->ntoks || seen != b->ntoks)
		fail("tree walk does not cover every token");
	if (out.len != used || memcmp(out.data, data, used) != 0)
		fail("re-encoding differs from the input");
	buf_release(&out);

	/* Lookups must be safe on any token, of any type. */
	for (c = 0; c < b->ntoks && c < 256; c++) {
		(void)bencode_dict_get(b, c, "info");
		(void)bencode_dict_str(b, c, "announce", &p, &len);
		(void)bencode_dict_int(b, c, "length", &v);
		(void)bencode_str_eq(b, c, "pieces");
	}
	if (bencode_first(b, BENCODE_NONE) != BENCODE_NONE ||
	    bencode_next(b, BENCODE_NONE) != BENCODE_NONE)
		fail("navigation from BENCODE_NONE found a token");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bencode b;
	struct thr_error err;
	int rc;

	memset(&b, 0, sizeof(b));
	memset(&err, 0, sizeof(err));
	rc = bencode_decode(&b, data, size, BENCODE_DEFAULT_MAX_TOKENS, &err);
	if (rc == 0) {
		check(&b, data, size);
	} else if (rc > 0 || err.code == 0 || (size_t)err.offset > size) {
		fail("decode error without a code or with a bad offset");
	}
	bencode_release(&b);

	memset(&b, 0, sizeof(b));
	rc = bencode_decode_prefix(&b, data, size, FUZZ_SMALL_TOKENS, &err);
	if (rc == 0) {
		if (b.used == 0 || b.used > size || b.ntoks > FUZZ_SMALL_TOKENS)
			fail("prefix decode used a bad length");
		check(&b, data, b.used);
	}
	bencode_release(&b);
	return 0;
}
