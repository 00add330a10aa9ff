/*
 * test_bencode.c: the strict decoder's accepted forms, every rejection
 * with its error code and byte offset, the caps, and encoder round-trips.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bencode.h"

/* Decode a literal with an explicit length (literals may hold NUL). */
static int
dec_n(struct bencode *b, const char *s, size_t n, struct thr_error *e)
{
	memset(e, 0, sizeof(*e));
	return bencode_decode(b, (const uint8_t *)s, n,
	    BENCODE_DEFAULT_MAX_TOKENS, e);
}

static int
dec(struct bencode *b, const char *s, struct thr_error *e)
{
	return dec_n(b, s, strlen(s), e);
}

/* Expect s to be rejected with code at offset, message containing what. */
static void
reject(const char *s, int code, size_t offset, const char *what)
{
	struct bencode b;
	struct thr_error e;
	int rc;

	rc = dec(&b, s, &e);
	cr_assert_eq(rc, code, "\"%s\": rc %d, want %d (%s)", s, rc, code,
	    e.msg);
	cr_assert_eq(e.code, code);
	cr_assert_eq(e.offset, offset, "\"%s\": offset %zu, want %zu (%s)", s,
	    e.offset, offset, e.msg);
	cr_assert(strstr(e.msg, what) != NULL, "\"%s\": message \"%s\"", s,
	    e.msg);
	cr_assert_null(b.toks);
	cr_assert_eq(b.ntoks, 0);
	bencode_release(&b);
}

static void
accept_int(const char *s, int64_t want)
{
	struct bencode b;
	struct thr_error e;
	int64_t v;

	cr_assert_eq(dec(&b, s, &e), 0, "\"%s\": %s", s, e.msg);
	cr_assert_eq(b.ntoks, 1);
	cr_assert(bencode_int(&b, 0, &v));
	cr_assert_eq(v, want);
	cr_assert_eq(b.toks[0].start, 0);
	cr_assert_eq(b.toks[0].end, strlen(s));
	bencode_release(&b);
}

Test(bencode, int_values)
{
	accept_int("i0e", 0);
	accept_int("i42e", 42);
	accept_int("i-17e", -17);
	accept_int("i10e", 10);
}

Test(bencode, int_extremes)
{
	accept_int("i9223372036854775807e", INT64_MAX);
	accept_int("i-9223372036854775808e", INT64_MIN);
}

Test(bencode, int_overflow)
{
	reject("i9223372036854775808e", THR_EINVAL, 19, "overflow");
	reject("i-9223372036854775809e", THR_EINVAL, 20, "overflow");
	reject("i99999999999999999999999999e", THR_EINVAL, 19, "overflow");
}

Test(bencode, int_leading_zero)
{
	reject("i03e", THR_EINVAL, 1, "leading zero in integer");
	reject("i00e", THR_EINVAL, 1, "leading zero in integer");
	reject("i-03e", THR_EINVAL, 2, "leading zero in integer");
}

Test(bencode, int_negative_zero)
{
	reject("i-0e", THR_EINVAL, 1, "negative zero");
}

Test(bencode, int_empty)
{
	reject("ie", THR_EINVAL, 1, "no digits");
	reject("i-e", THR_EINVAL, 2, "no digits");
}

Test(bencode, int_truncated)
{
	reject("i42", THR_EINVAL, 3, "truncated");
	reject("i", THR_EINVAL, 1, "truncated");
	reject("i-", THR_EINVAL, 2, "truncated");
}

Test(bencode, int_bad_byte)
{
	reject("i4xe", THR_EINVAL, 2, "unexpected byte");
	reject("i+4e", THR_EINVAL, 1, "unexpected byte");
	reject("i--4e", THR_EINVAL, 2, "unexpected byte");
}

Test(bencode, string_basic)
{
	struct bencode b;
	struct thr_error e;
	const uint8_t *p;
	size_t n;

	cr_assert_eq(dec(&b, "4:spam", &e), 0);
	cr_assert(bencode_str(&b, 0, &p, &n));
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(p, "spam", 4), 0);
	cr_assert_eq(b.toks[0].soff, 2);
	cr_assert_eq(b.toks[0].slen, 4);
	cr_assert_eq(b.toks[0].start, 0);
	cr_assert_eq(b.toks[0].end, 6);
	cr_assert(bencode_str_eq(&b, 0, "spam"));
	cr_assert_not(bencode_str_eq(&b, 0, "spa"));
	cr_assert_not(bencode_str_eq(&b, 0, "spams"));
	bencode_release(&b);
}

Test(bencode, string_empty_and_binary)
{
	struct bencode b;
	struct thr_error e;
	const uint8_t *p;
	size_t n;

	cr_assert_eq(dec(&b, "0:", &e), 0);
	cr_assert(bencode_str(&b, 0, &p, &n));
	cr_assert_eq(n, 0);
	bencode_release(&b);

	cr_assert_eq(dec_n(&b, "3:a\0b", 5, &e), 0);
	cr_assert(bencode_str(&b, 0, &p, &n));
	cr_assert_eq(n, 3);
	cr_assert_eq(p[1], '\0');
	bencode_release(&b);
}

Test(bencode, string_leading_zero)
{
	reject("03:abc", THR_EINVAL, 0, "leading zero in string length");
	reject("00:", THR_EINVAL, 0, "leading zero in string length");
}

Test(bencode, string_past_end)
{
	reject("5:abc", THR_EINVAL, 0, "past end");
	reject("l1:a5:abce", THR_EINVAL, 4, "past end");
	reject("18446744073709551615:x", THR_EINVAL, 0, "past end");
}

Test(bencode, string_length_overflow)
{
	reject("99999999999999999999999:a", THR_EINVAL, 0, "overflow");
}

Test(bencode, string_bad_length)
{
	reject("12", THR_EINVAL, 2, "truncated");
	reject("3xabc", THR_EINVAL, 1, "expected ':'");
	reject("-3:abc", THR_EINVAL, 0, "unexpected byte");
}

Test(bencode, empty_input)
{
	reject("", THR_EINVAL, 0, "truncated");
}

Test(bencode, unexpected_byte)
{
	reject("x", THR_EINVAL, 0, "unexpected byte 0x78");
	reject("li1ex", THR_EINVAL, 4, "unexpected byte");
	reject("e", THR_EINVAL, 0, "unexpected byte");
}

Test(bencode, list_children)
{
	struct bencode b;
	struct thr_error e;
	size_t c;
	int64_t v;

	cr_assert_eq(dec(&b, "li1e4:spamlee", &e), 0);
	cr_assert_eq(b.ntoks, 4);
	cr_assert(bencode_is(&b, 0, BENCODE_LIST));
	cr_assert_eq(b.toks[0].nchild, 3);
	cr_assert_eq(b.toks[0].end, 13);
	c = bencode_first(&b, 0);
	cr_assert_eq(c, 1);
	cr_assert(bencode_int(&b, c, &v));
	cr_assert_eq(v, 1);
	c = bencode_next(&b, c);
	cr_assert(bencode_str_eq(&b, c, "spam"));
	c = bencode_next(&b, c);
	cr_assert(bencode_is(&b, c, BENCODE_LIST));
	cr_assert_eq(bencode_first(&b, c), BENCODE_NONE);
	cr_assert_eq(b.toks[c].start, 10);
	cr_assert_eq(b.toks[c].end, 12);
	cr_assert_eq(bencode_next(&b, c), BENCODE_NONE);
	bencode_release(&b);
}

Test(bencode, nested_siblings_skip_subtrees)
{
	struct bencode b;
	struct thr_error e;
	size_t c;

	/* The second child must be reachable past the first's subtree. */
	cr_assert_eq(dec(&b, "lli1ei2eeli3eee", &e), 0);
	c = bencode_first(&b, 0);
	cr_assert_eq(b.toks[c].nchild, 2);
	c = bencode_next(&b, c);
	cr_assert_eq(c, 4);
	cr_assert_eq(b.toks[c].start, 9);
	cr_assert_eq(b.toks[c].end, 14);
	cr_assert_eq(bencode_next(&b, c), BENCODE_NONE);
	bencode_release(&b);
}

Test(bencode, dict_raw_spans)
{
	const char *s = "d3:cow3:moo4:spaml1:a1:bee";
	struct bencode b;
	struct thr_error e;
	size_t v;

	cr_assert_eq(dec(&b, s, &e), 0);
	cr_assert(bencode_is(&b, 0, BENCODE_DICT));
	cr_assert_eq(b.toks[0].nchild, 2);
	cr_assert_eq(b.toks[0].start, 0);
	cr_assert_eq(b.toks[0].end, strlen(s));
	v = bencode_dict_get(&b, 0, "spam");
	cr_assert(bencode_is(&b, v, BENCODE_LIST));
	cr_assert_eq(b.toks[v].start, 17);
	cr_assert_eq(b.toks[v].end, 25);
	cr_assert_eq(memcmp(s + b.toks[v].start, "l1:a1:be", 8), 0);
	v = bencode_dict_get(&b, 0, "cow");
	cr_assert(bencode_str_eq(&b, v, "moo"));
	cr_assert_eq(bencode_dict_get(&b, 0, "moo"), BENCODE_NONE);
	cr_assert_eq(b.used, strlen(s));
	bencode_release(&b);
}

Test(bencode, dict_typed_lookups)
{
	struct bencode b;
	struct thr_error e;
	const uint8_t *p;
	size_t n;
	int64_t v;

	cr_assert_eq(dec(&b, "d1:ai5e1:b2:xye", &e), 0);
	cr_assert(bencode_dict_int(&b, 0, "a", &v));
	cr_assert_eq(v, 5);
	cr_assert_not(bencode_dict_str(&b, 0, "a", &p, &n));
	cr_assert(bencode_dict_str(&b, 0, "b", &p, &n));
	cr_assert_eq(n, 2);
	cr_assert_not(bencode_dict_int(&b, 0, "b", &v));
	cr_assert_not(bencode_dict_int(&b, 0, "c", &v));
	/* Lookups on a non-dict or out-of-range token are refused. */
	cr_assert_eq(bencode_dict_get(&b, 2, "a"), BENCODE_NONE);
	cr_assert_eq(bencode_dict_get(&b, 99, "a"), BENCODE_NONE);
	cr_assert_eq(bencode_first(&b, 99), BENCODE_NONE);
	cr_assert_eq(bencode_next(&b, 99), BENCODE_NONE);
	bencode_release(&b);
}

Test(bencode, dict_unsorted_keys_accepted)
{
	struct bencode b;
	struct thr_error e;
	int64_t v;

	/* Out of order but each key once: one meaning, kept as written. */
	cr_assert_eq(dec(&b, "d1:bi1e1:ai2e2:abi3e1:ci4ee", &e), 0, "%s",
	    e.msg);
	cr_assert(bencode_dict_int(&b, 0, "b", &v));
	cr_assert_eq(v, 1);
	cr_assert(bencode_dict_int(&b, 0, "a", &v));
	cr_assert_eq(v, 2);
	cr_assert(bencode_dict_int(&b, 0, "ab", &v));
	cr_assert_eq(v, 3);
	bencode_release(&b);
	/* A prefix is not the same key. */
	cr_assert_eq(dec(&b, "d2:abi1e1:ai2ee", &e), 0, "%s", e.msg);
	bencode_release(&b);
	cr_assert_eq(dec(&b, "d0:i1e1:ai2ee", &e), 0, "%s", e.msg);
	bencode_release(&b);
}

Test(bencode, dict_duplicate_keys_rejected)
{
	/* Two clients could read two different values: refused, at the
	 * second occurrence. */
	reject("d1:ai1e1:ai2ee", THR_EINVAL, 7, "duplicate");
	/* Not adjacent, in an unsorted dict: found when it closes. */
	reject("d1:bi1e1:ai2e1:bi3ee", THR_EINVAL, 13, "duplicate");
	reject("d1:ci1e1:bi2e1:ai3e1:ci4ee", THR_EINVAL, 19, "duplicate");
	/* In a nested dict, and an empty key twice. */
	reject("d4:infod4:name1:x4:name1:yee", THR_EINVAL, 17, "duplicate");
	reject("ld0:i1e0:i2eee", THR_EINVAL, 7, "duplicate");
	/* The same key in two different dicts is fine. */
	{
		struct bencode b;
		struct thr_error e;

		cr_assert_eq(dec(&b, "ld1:ai1eed1:ai2eee", &e), 0, "%s",
		    e.msg);
		bencode_release(&b);
	}
}

Test(bencode, dict_many_unsorted_keys_fast)
{
	enum { N = 200000 };
	struct bencode b;
	struct thr_error e;
	struct buf in;
	char key[16];

	/* Keys in descending order: every one is out of order, so the
	 * whole dict goes through the sorting check, which must stay
	 * O(n log n) (comparing all pairs would take minutes). */
	buf_init(&in, 16u << 20);
	cr_assert_eq(bencode_put_dict(&in), 0);
	for (int i = N; i > 0; i--) {
		snprintf(key, sizeof(key), "%08d", i);
		cr_assert_eq(bencode_put_cstr(&in, key), 0);
		cr_assert_eq(bencode_put_int(&in, i), 0);
	}
	cr_assert_eq(bencode_put_end(&in), 0);
	cr_assert_eq(bencode_decode(&b, in.data, in.len,
	    BENCODE_DEFAULT_MAX_TOKENS, &e), 0, "%s", e.msg);
	cr_assert_eq(b.toks[0].nchild, N);
	bencode_release(&b);
	/* The same with one key repeated far from its twin. */
	in.len--;
	cr_assert_eq(bencode_put_cstr(&in, "00100000"), 0);
	cr_assert_eq(bencode_put_int(&in, 0), 0);
	cr_assert_eq(bencode_put_end(&in), 0);
	cr_assert_eq(bencode_decode(&b, in.data, in.len,
	    BENCODE_DEFAULT_MAX_TOKENS, &e), THR_EINVAL);
	cr_assert(strstr(e.msg, "duplicate") != NULL, "%s", e.msg);
	cr_assert_eq(e.offset, in.len - 1 - 3 - 10);
	buf_release(&in);
}

Test(bencode, dict_value_is_not_mistaken_for_key)
{
	struct bencode b;
	struct thr_error e;

	/* "b" appears as a value; lookups must only match keys. */
	cr_assert_eq(dec(&b, "d1:a1:b1:ci1ee", &e), 0);
	cr_assert_eq(bencode_dict_get(&b, 0, "b"), BENCODE_NONE);
	bencode_release(&b);
}

Test(bencode, dict_non_string_key)
{
	reject("di1ei2ee", THR_EINVAL, 1, "not a string");
	reject("dlei1ee", THR_EINVAL, 1, "not a string");
	reject("d1:ai1edei2ee", THR_EINVAL, 7, "not a string");
}

Test(bencode, dict_missing_value)
{
	reject("d3:fooe", THR_EINVAL, 6, "no value");
}

Test(bencode, truncated_containers)
{
	reject("li1e", THR_EINVAL, 4, "truncated");
	reject("d1:a", THR_EINVAL, 4, "truncated");
	reject("l", THR_EINVAL, 1, "truncated");
	reject("d", THR_EINVAL, 1, "truncated");
}

Test(bencode, empty_containers)
{
	struct bencode b;
	struct thr_error e;

	cr_assert_eq(dec(&b, "lledee", &e), 0);
	cr_assert_eq(b.ntoks, 3);
	cr_assert_eq(b.toks[0].nchild, 2);
	cr_assert(bencode_is(&b, 2, BENCODE_DICT));
	cr_assert_eq(b.toks[2].nchild, 0);
	cr_assert_eq(bencode_first(&b, 2), BENCODE_NONE);
	bencode_release(&b);
}

Test(bencode, trailing_garbage)
{
	reject("i1ei2e", THR_EINVAL, 3, "trailing");
	reject("4:spamx", THR_EINVAL, 6, "trailing");
	reject("lee", THR_EINVAL, 2, "trailing");
}

Test(bencode, prefix_allows_trailing_bytes)
{
	const char *s = "d1:ai1ee\x01\x02raw";
	struct bencode b;
	struct thr_error e;

	cr_assert_eq(bencode_decode_prefix(&b, (const uint8_t *)s, strlen(s),
	    16, &e), 0);
	cr_assert_eq(b.used, 8);
	cr_assert_eq(b.ntoks, 3);
	bencode_release(&b);

	/* A prefix decode still needs one complete value. */
	cr_assert_eq(bencode_decode_prefix(&b, (const uint8_t *)"d1:a", 4,
	    16, &e), THR_EINVAL);
	cr_assert_eq(e.offset, 4);
}

static char *
nest(size_t depth, char open)
{
	char *s = malloc(2 * depth + 1);

	cr_assert_not_null(s);
	memset(s, open, depth);
	memset(s + depth, 'e', depth);
	s[2 * depth] = '\0';
	return s;
}

Test(bencode, depth_at_limit_accepted)
{
	struct bencode b;
	struct thr_error e;
	char *s = nest(BENCODE_MAX_DEPTH, 'l');

	cr_assert_eq(dec(&b, s, &e), 0, "%s", e.msg);
	cr_assert_eq(b.ntoks, BENCODE_MAX_DEPTH);
	bencode_release(&b);
	free(s);
}

Test(bencode, depth_bomb)
{
	char *s = nest(BENCODE_MAX_DEPTH + 1, 'l');

	reject(s, THR_ELIMIT, BENCODE_MAX_DEPTH, "nesting deeper");
	free(s);
	/* A huge bomb costs no more than a small one. */
	s = nest(1000000, 'l');
	reject(s, THR_ELIMIT, BENCODE_MAX_DEPTH, "nesting deeper");
	free(s);
}

Test(bencode, depth_bomb_in_dict)
{
	struct buf o;
	int i;

	buf_init(&o, 4096);
	for (i = 0; i < BENCODE_MAX_DEPTH + 5; i++)
		cr_assert_eq(buf_puts(&o, "d1:k"), 0);
	cr_assert_eq(buf_puts(&o, "i1e"), 0);
	reject((const char *)o.data, THR_ELIMIT, 4 * BENCODE_MAX_DEPTH,
	    "nesting deeper");
	buf_release(&o);
}

Test(bencode, token_cap)
{
	const char *s = "li1ei2ei3ee";
	struct bencode b;
	struct thr_error e;

	cr_assert_eq(bencode_decode(&b, (const uint8_t *)s, strlen(s), 4, &e),
	    0);
	cr_assert_eq(b.ntoks, 4);
	bencode_release(&b);

	cr_assert_eq(bencode_decode(&b, (const uint8_t *)s, strlen(s), 3, &e),
	    THR_ELIMIT);
	cr_assert_eq(e.code, THR_ELIMIT);
	cr_assert_eq(e.offset, 7);
	cr_assert(strstr(e.msg, "tokens") != NULL);
	cr_assert_null(b.toks);

	cr_assert_eq(bencode_decode(&b, (const uint8_t *)s, strlen(s), 0, &e),
	    THR_ELIMIT);
	cr_assert_eq(e.offset, 0);
}

Test(bencode, many_tokens_grow)
{
	struct bencode b;
	struct thr_error e;
	struct buf o;
	int i;
	int64_t v;

	buf_init(&o, 1 << 20);
	cr_assert_eq(bencode_put_list(&o), 0);
	for (i = 0; i < 10000; i++)
		cr_assert_eq(bencode_put_int(&o, i), 0);
	cr_assert_eq(bencode_put_end(&o), 0);
	cr_assert_eq(bencode_decode(&b, o.data, o.len, 10001, &e), 0);
	cr_assert_eq(b.toks[0].nchild, 10000);
	cr_assert(bencode_int(&b, 10000, &v));
	cr_assert_eq(v, 9999);
	bencode_release(&b);
	cr_assert_eq(bencode_decode(&b, o.data, o.len, 10000, &e), THR_ELIMIT);
	buf_release(&o);
}

Test(bencode, accessor_type_mismatch)
{
	struct bencode b;
	struct thr_error e;
	const uint8_t *p;
	size_t n;
	int64_t v;

	cr_assert_eq(dec(&b, "li1ee", &e), 0);
	cr_assert_not(bencode_str(&b, 1, &p, &n));
	cr_assert_not(bencode_int(&b, 0, &v));
	cr_assert_not(bencode_str_eq(&b, 1, "1"));
	cr_assert_eq(bencode_first(&b, 1), BENCODE_NONE);
	cr_assert_not(bencode_is(&b, BENCODE_NONE, BENCODE_INT));
	bencode_release(&b);
	/* Releasing twice is harmless. */
	bencode_release(&b);
}

Test(bencode, encoder_output)
{
	struct buf o;

	buf_init(&o, 1024);
	cr_assert_eq(bencode_put_dict(&o), 0);
	cr_assert_eq(bencode_put_cstr(&o, "a"), 0);
	cr_assert_eq(bencode_put_int(&o, INT64_MIN), 0);
	cr_assert_eq(bencode_put_cstr(&o, "b"), 0);
	cr_assert_eq(bencode_put_list(&o), 0);
	cr_assert_eq(bencode_put_str(&o, "x\0y", 3), 0);
	cr_assert_eq(bencode_put_str(&o, NULL, 0), 0);
	cr_assert_eq(bencode_put_int(&o, 0), 0);
	cr_assert_eq(bencode_put_end(&o), 0);
	cr_assert_eq(bencode_put_end(&o), 0);
	cr_assert_eq(o.len, 42);
	cr_assert_eq(memcmp(o.data,
	    "d1:ai-9223372036854775808e1:bl3:x\0y0:i0eee", 42), 0);
	buf_release(&o);
}

Test(bencode, encoder_round_trip)
{
	struct bencode b;
	struct thr_error e;
	struct buf o;
	const uint8_t *p;
	size_t n, l, c;
	int64_t v;

	buf_init(&o, 1024);
	bencode_put_dict(&o);
	bencode_put_cstr(&o, "int");
	bencode_put_int(&o, INT64_MAX);
	bencode_put_cstr(&o, "list");
	bencode_put_list(&o);
	bencode_put_cstr(&o, "one");
	bencode_put_int(&o, -1);
	bencode_put_dict(&o);
	bencode_put_end(&o);
	bencode_put_end(&o);
	bencode_put_cstr(&o, "str");
	bencode_put_str(&o, "\xff\x00\x01", 3);
	cr_assert_eq(bencode_put_end(&o), 0);

	cr_assert_eq(bencode_decode(&b, o.data, o.len, 64, &e), 0, "%s",
	    e.msg);
	cr_assert(bencode_dict_int(&b, 0, "int", &v));
	cr_assert_eq(v, INT64_MAX);
	l = bencode_dict_get(&b, 0, "list");
	cr_assert_eq(b.toks[l].nchild, 3);
	c = bencode_first(&b, l);
	cr_assert(bencode_str_eq(&b, c, "one"));
	c = bencode_next(&b, c);
	cr_assert(bencode_int(&b, c, &v));
	cr_assert_eq(v, -1);
	c = bencode_next(&b, c);
	cr_assert(bencode_is(&b, c, BENCODE_DICT));
	cr_assert(bencode_dict_str(&b, 0, "str", &p, &n));
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(p, "\xff\x00\x01", 3), 0);
	bencode_release(&b);
	buf_release(&o);
}

Test(bencode, encoder_respects_buf_cap)
{
	struct buf o;

	buf_init(&o, 4);
	cr_assert_eq(bencode_put_cstr(&o, "ab"), 0);
	cr_assert_eq(bencode_put_cstr(&o, "cd"), THR_ELIMIT);
	/* A refused string leaves no half-written length prefix. */
	cr_assert_eq(o.len, 4);
	buf_release(&o);
}
