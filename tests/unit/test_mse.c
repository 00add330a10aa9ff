/*
 * test_mse.c: Message Stream Encryption.  An initiator and a receiver
 * talk to each other in memory, fed in random chunk sizes down to one
 * byte; a hand-written initiator built straight on OpenSSL checks the
 * receiver against the spec's key derivation and the 1024-byte discard;
 * hostile input at every step must give EAGAIN or EPROTO.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mse.h"

#define BUFMAX	(1u << 16)

static const uint8_t skeys[3][20] = {
	{ 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
	  0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 },
	{ 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
	  0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22 },
	{ 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
	  0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33 },
};

static struct mse_lib lib;

static void
setup(void)
{
	struct thr_error err;

	cr_assert_eq(mse_lib_init(&lib, &err), 0, "%s", err.msg);
}

static void
teardown(void)
{
	mse_lib_release(&lib);
}

TestSuite(mse, .init = setup, .fini = teardown);

/* xorshift64: deterministic padding and chunk sizes. */
static uint64_t
xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
rnd(void *ctx, uint8_t *out, size_t n)
{
	while (n-- > 0)
		*out++ = (uint8_t)xs(ctx);
}

struct side {
	struct mse_config	 cfg;
	uint64_t		 seed;
};

static void
side_init(struct side *s, bool initiator, const uint8_t (*keys)[20],
    size_t n, unsigned allowed, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->seed = seed;
	s->cfg.initiator = initiator;
	s->cfg.skeys = keys;
	s->cfg.nskeys = n;
	s->cfg.allowed = allowed;
	s->cfg.rnd = rnd;
	s->cfg.rnd_ctx = &s->seed;
}

/*
 * Feed b to m in chunks (max 0: random 1..700, else exactly max), drop
 * what was consumed.  Returns the last mse_input result.
 */
static int
feed(struct mse *m, struct buf *in, struct buf *out, size_t max,
    uint64_t *rs)
{
	struct thr_error err;
	size_t chunk, used;
	int rc = THR_EAGAIN;

	if (mse_done(m))
		return 0;
	while (in->len > 0) {
		chunk = max ? max : 1 + xs(rs) % 700;
		if (chunk > in->len)
			chunk = in->len;
		rc = mse_input(m, in->data, chunk, &used, out, &err);
		cr_assert_leq(used, chunk);
		buf_consume(in, used);
		if (rc != THR_EAGAIN)
			break;
		cr_assert_eq(used, chunk, "EAGAIN must consume everything");
	}
	if (in->len == 0 && rc == THR_EAGAIN && !mse_done(m))
		rc = mse_input(m, NULL, 0, &used, out, &err);
	return rc;
}

struct run {
	struct mse	*a, *b;
	struct buf	 a2b, b2a;
	int		 rca, rcb;
};

static void
run_pair(struct run *r, struct side *sa, struct side *sb, size_t max,
    uint64_t seed)
{
	struct thr_error err;
	uint64_t rs = seed;
	int i;

	memset(r, 0, sizeof(*r));
	buf_init(&r->a2b, BUFMAX);
	buf_init(&r->b2a, BUFMAX);
	r->a = mse_new(&lib, &sa->cfg, &err);
	cr_assert_not_null(r->a, "%s", err.msg);
	r->b = mse_new(&lib, &sb->cfg, &err);
	cr_assert_not_null(r->b, "%s", err.msg);
	cr_assert_eq(mse_start(r->a, &r->a2b), 0);
	cr_assert_eq(mse_start(r->b, &r->b2a), 0);
	cr_assert_eq(r->b2a.len, 0);
	r->rca = r->rcb = THR_EAGAIN;
	for (i = 0; i < 10; i++) {
		r->rcb = feed(r->b, &r->a2b, &r->b2a, max, &rs);
		if (r->rcb != 0 && r->rcb != THR_EAGAIN)
			return;
		r->rca = feed(r->a, &r->b2a, &r->a2b, max, &rs);
		if (r->rca != 0 && r->rca != THR_EAGAIN)
			return;
		if (r->rca == 0 && r->rcb == 0)
			return;
	}
}

static void
run_free(struct run *r)
{
	mse_free(r->a);
	mse_free(r->b);
	buf_release(&r->a2b);
	buf_release(&r->b2a);
}

/* After a handshake, data must cross both ways intact. */
static void
check_traffic(struct run *r)
{
	uint8_t msg[300], copy[300];
	size_t i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	memcpy(copy, msg, sizeof(msg));
	cr_assert_eq(mse_encrypt(r->a, copy, sizeof(copy)), 0);
	if (mse_method(r->a) == MSE_RC4)
		cr_assert(memcmp(copy, msg, sizeof(msg)) != 0);
	else
		cr_assert(memcmp(copy, msg, sizeof(msg)) == 0);
	cr_assert_eq(mse_decrypt(r->b, copy, sizeof(copy)), 0);
	cr_assert(memcmp(copy, msg, sizeof(msg)) == 0);
	cr_assert_eq(mse_encrypt(r->b, copy, 100), 0);
	cr_assert_eq(mse_decrypt(r->a, copy, 100), 0);
	cr_assert(memcmp(copy, msg, sizeof(msg)) == 0);
}

static void
handshake(unsigned aa, unsigned ab, unsigned want, const uint8_t *ia,
    size_t ia_len, size_t max, uint64_t seed)
{
	struct side sa, sb;
	struct run r;
	const uint8_t *got;
	size_t len;

	side_init(&sa, true, &skeys[0], 1, aa, seed);
	side_init(&sb, false, &skeys[0], 1, ab, seed * 31 + 1);
	sa.cfg.ia = ia;
	sa.cfg.ia_len = ia_len;
	run_pair(&r, &sa, &sb, max, seed);
	cr_assert_eq(r.rca, 0, "initiator rc %d", r.rca);
	cr_assert_eq(r.rcb, 0, "receiver rc %d", r.rcb);
	cr_assert_eq(mse_method(r.a), want);
	cr_assert_eq(mse_method(r.b), want);
	cr_assert_eq(r.a2b.len, 0);
	cr_assert_eq(r.b2a.len, 0);
	got = mse_ia(r.b, &len);
	cr_assert_eq(len, ia_len);
	if (ia_len > 0)
		cr_assert(memcmp(got, ia, ia_len) == 0);
	else
		cr_assert_null(got);
	check_traffic(&r);
	run_free(&r);
}

Test(mse, rc4_both_ways_random_chunks)
{
	uint64_t seed;

	for (seed = 1; seed <= 8; seed++)
		handshake(MSE_PLAIN | MSE_RC4, MSE_PLAIN | MSE_RC4, MSE_RC4,
		    NULL, 0, 0, seed);
}

Test(mse, one_byte_at_a_time)
{
	uint8_t ia[68];

	memset(ia, 'h', sizeof(ia));
	handshake(MSE_RC4, MSE_RC4, MSE_RC4, NULL, 0, 1, 5);
	handshake(MSE_RC4 | MSE_PLAIN, MSE_PLAIN, MSE_PLAIN, ia, sizeof(ia),
	    1, 6);
}

Test(mse, plaintext_selected)
{
	handshake(MSE_PLAIN | MSE_RC4, MSE_PLAIN, MSE_PLAIN, NULL, 0, 0, 3);
	handshake(MSE_PLAIN, MSE_PLAIN | MSE_RC4, MSE_PLAIN, NULL, 0, 0, 4);
}

Test(mse, initial_payload)
{
	uint8_t ia[MSE_MAX_IA];
	size_t i;

	for (i = 0; i < sizeof(ia); i++)
		ia[i] = (uint8_t)(i ^ 0x5a);
	handshake(MSE_RC4, MSE_RC4 | MSE_PLAIN, MSE_RC4, ia, 68, 0, 9);
	handshake(MSE_RC4, MSE_RC4, MSE_RC4, ia, sizeof(ia), 0, 10);
	handshake(MSE_PLAIN | MSE_RC4, MSE_PLAIN, MSE_PLAIN, ia, 1, 0, 11);
}

Test(mse, receiver_picks_the_asked_torrent)
{
	struct side sa, sb;
	struct run r;

	side_init(&sa, true, &skeys[2], 1, MSE_RC4, 77);
	side_init(&sb, false, skeys, 3, MSE_RC4, 78);
	run_pair(&r, &sa, &sb, 0, 79);
	cr_assert_eq(r.rca, 0);
	cr_assert_eq(r.rcb, 0);
	cr_assert_eq(mse_skey_index(r.b), 2);
	check_traffic(&r);
	run_free(&r);
}

Test(mse, wrong_skey_fails)
{
	struct side sa, sb;
	struct run r;

	side_init(&sa, true, &skeys[2], 1, MSE_RC4, 1);
	side_init(&sb, false, skeys, 2, MSE_RC4, 2);
	run_pair(&r, &sa, &sb, 0, 3);
	cr_assert_eq(r.rcb, THR_EPROTO);
	cr_assert(!mse_done(r.b));
	cr_assert_eq(mse_method(r.b), 0);
	run_free(&r);
}

Test(mse, no_common_method_fails)
{
	struct side sa, sb;
	struct run r;

	side_init(&sa, true, &skeys[0], 1, MSE_PLAIN, 1);
	side_init(&sb, false, &skeys[0], 1, MSE_RC4, 2);
	run_pair(&r, &sa, &sb, 0, 3);
	cr_assert_eq(r.rcb, THR_EPROTO);
	run_free(&r);
	side_init(&sa, true, &skeys[0], 1, MSE_RC4, 1);
	side_init(&sb, false, &skeys[0], 1, MSE_PLAIN, 2);
	run_pair(&r, &sa, &sb, 0, 3);
	cr_assert_eq(r.rcb, THR_EPROTO);
	run_free(&r);
}

Test(mse, data_after_handshake_is_left_to_the_caller)
{
	struct side sa, sb;
	struct thr_error err;
	struct buf a2b, b2a;
	struct mse *a, *b;
	uint8_t msg[5] = { 0, 0, 0, 1, 2 }, tail[5];
	size_t used;

	side_init(&sa, true, &skeys[0], 1, MSE_RC4, 12);
	side_init(&sb, false, &skeys[0], 1, MSE_RC4, 13);
	buf_init(&a2b, BUFMAX);
	buf_init(&b2a, BUFMAX);
	a = mse_new(&lib, &sa.cfg, &err);
	b = mse_new(&lib, &sb.cfg, &err);
	cr_assert_eq(mse_start(a, &a2b), 0);
	cr_assert_eq(mse_input(b, a2b.data, a2b.len, &used, &b2a, &err),
	    THR_EAGAIN);
	buf_reset(&a2b);
	cr_assert_eq(mse_input(a, b2a.data, b2a.len, &used, &a2b, &err),
	    THR_EAGAIN);
	buf_reset(&b2a);
	cr_assert_eq(mse_input(b, a2b.data, a2b.len, &used, &b2a, &err), 0);
	cr_assert_eq(used, a2b.len);
	/* B sends its first message in the same segment as its select. */
	memcpy(tail, msg, sizeof(msg));
	cr_assert_eq(mse_encrypt(b, tail, sizeof(tail)), 0);
	cr_assert_eq(buf_append(&b2a, tail, sizeof(tail)), 0);
	cr_assert_eq(mse_input(a, b2a.data, b2a.len, &used, &a2b, &err), 0);
	cr_assert_eq(used, b2a.len - sizeof(tail));
	memcpy(tail, b2a.data + used, sizeof(tail));
	cr_assert_eq(mse_decrypt(a, tail, sizeof(tail)), 0);
	cr_assert(memcmp(tail, msg, sizeof(msg)) == 0);
	/* A done engine takes nothing more. */
	cr_assert_eq(mse_input(a, msg, sizeof(msg), &used, &a2b, &err), 0);
	cr_assert_eq(used, 0);
	mse_free(a);
	mse_free(b);
	buf_release(&a2b);
	buf_release(&b2a);
}

/* Every prefix of A's whole stream leaves B waiting, never failing. */
Test(mse, truncated_input_waits)
{
	struct side sa, sb;
	struct run r;
	struct thr_error err;
	struct buf all, out;
	struct mse *b;
	size_t i, used;

	side_init(&sa, true, &skeys[0], 1, MSE_RC4, 21);
	side_init(&sb, false, &skeys[0], 1, MSE_RC4, 22);
	sa.cfg.ia = (const uint8_t *)"abc";
	sa.cfg.ia_len = 3;
	sb.cfg.no_pad = true;
	/* Capture everything A sends in a full run. */
	buf_init(&all, BUFMAX);
	memset(&r, 0, sizeof(r));
	buf_init(&r.a2b, BUFMAX);
	buf_init(&r.b2a, BUFMAX);
	r.a = mse_new(&lib, &sa.cfg, &err);
	r.b = mse_new(&lib, &sb.cfg, &err);
	cr_assert_eq(mse_start(r.a, &r.a2b), 0);
	buf_append(&all, r.a2b.data, r.a2b.len);
	cr_assert_eq(mse_input(r.b, r.a2b.data, r.a2b.len, &used, &r.b2a,
	    &err), THR_EAGAIN);
	buf_reset(&r.a2b);
	cr_assert_eq(mse_input(r.a, r.b2a.data, r.b2a.len, &used, &r.a2b,
	    &err), THR_EAGAIN);
	buf_append(&all, r.a2b.data, r.a2b.len);
	/*
	 * B's Yb depends on its private key, so a fresh B cannot finish
	 * A's stream; but each prefix must still only wait (the sync and
	 * later steps fail only on the full stream).  Check the prefixes
	 * a fresh B sees up to the resync window.
	 */
	for (i = 0; i < 96 + MSE_MAX_PAD + MSE_HASH_LEN && i < all.len;
	    i += 7) {
		buf_init(&out, BUFMAX);
		b = mse_new(&lib, &sb.cfg, &err);
		cr_assert_eq(mse_input(b, all.data, i, &used, &out, &err),
		    THR_EAGAIN, "prefix %zu", i);
		cr_assert_eq(used, i);
		mse_free(b);
		buf_release(&out);
	}
	/* The real B, byte by byte, waits until the last byte. */
	for (i = 0; i + 1 < r.a2b.len; i++)
		cr_assert_eq(mse_input(r.b, r.a2b.data + i, 1, &used, &r.b2a,
		    &err), THR_EAGAIN, "byte %zu", i);
	cr_assert_eq(mse_input(r.b, r.a2b.data + i, 1, &used, &r.b2a,
	    &err), 0);
	buf_release(&all);
	run_free(&r);
}

Test(mse, garbage_fails_within_the_window)
{
	struct side sb, sa;
	struct thr_error err;
	struct buf out;
	struct mse *m;
	uint8_t junk[2000];
	uint64_t s = 99;
	size_t used;
	int rc;

	rnd(&s, junk, sizeof(junk));
	junk[0] = 0x7f;		/* Ya below P */
	buf_init(&out, BUFMAX);
	side_init(&sb, false, &skeys[0], 1, MSE_RC4, 1);
	m = mse_new(&lib, &sb.cfg, &err);
	rc = mse_input(m, junk, sizeof(junk), &used, &out, &err);
	cr_assert_eq(rc, THR_EPROTO);
	cr_assert_eq(used, 96 + MSE_MAX_PAD + MSE_HASH_LEN);
	cr_assert_eq(err.code, THR_EPROTO);
	/* Failed stays failed. */
	cr_assert_eq(mse_input(m, junk, 1, &used, &out, &err), THR_EPROTO);
	cr_assert_eq(used, 0);
	mse_free(m);

	side_init(&sa, true, &skeys[0], 1, MSE_RC4, 1);
	m = mse_new(&lib, &sa.cfg, &err);
	cr_assert_eq(mse_start(m, &out), 0);
	rc = mse_input(m, junk, sizeof(junk), &used, &out, &err);
	cr_assert_eq(rc, THR_EPROTO);
	cr_assert_eq(used, 96 + MSE_MAX_PAD + MSE_VC_LEN);
	mse_free(m);
	buf_release(&out);
}

Test(mse, degenerate_keys_refused)
{
	struct side sb;
	struct thr_error err;
	struct buf out;
	struct mse *m;
	uint8_t y[96];
	size_t used;

	buf_init(&out, BUFMAX);
	side_init(&sb, false, &skeys[0], 1, MSE_RC4, 1);
	memset(y, 0, sizeof(y));
	m = mse_new(&lib, &sb.cfg, &err);
	cr_assert_eq(mse_input(m, y, sizeof(y), &used, &out, &err),
	    THR_EPROTO);
	mse_free(m);
	y[95] = 1;
	m = mse_new(&lib, &sb.cfg, &err);
	cr_assert_eq(mse_input(m, y, sizeof(y), &used, &out, &err),
	    THR_EPROTO);
	mse_free(m);
	memset(y, 0xff, sizeof(y));
	m = mse_new(&lib, &sb.cfg, &err);
	cr_assert_eq(mse_input(m, y, sizeof(y), &used, &out, &err),
	    THR_EPROTO);
	cr_assert_eq(out.len, 0);
	mse_free(m);
	buf_release(&out);
}

/* Flip one byte of A's third message: B must refuse, never crash. */
Test(mse, corrupted_fields_fail)
{
	struct side sa, sb;
	struct thr_error err;
	struct buf a2b, b2a;
	struct mse *a, *b;
	size_t used, pos, start;
	int rc;

	for (pos = 0; pos < 20 + 20 + 16; pos++) {
		side_init(&sa, true, &skeys[0], 1, MSE_RC4, 40);
		side_init(&sb, false, &skeys[0], 1, MSE_RC4, 41);
		sa.cfg.no_pad = true;
		buf_init(&a2b, BUFMAX);
		buf_init(&b2a, BUFMAX);
		a = mse_new(&lib, &sa.cfg, &err);
		b = mse_new(&lib, &sb.cfg, &err);
		cr_assert_eq(mse_start(a, &a2b), 0);
		mse_input(b, a2b.data, a2b.len, &used, &b2a, &err);
		buf_reset(&a2b);
		mse_input(a, b2a.data, b2a.len, &used, &a2b, &err);
		start = 0;
		a2b.data[start + pos] ^= 0x40;
		rc = mse_input(b, a2b.data, a2b.len, &used, &b2a, &err);
		/* req1 damaged: B keeps scanning for it and waits. */
		if (pos < 20)
			cr_assert(rc == THR_EAGAIN || rc == THR_EPROTO,
			    "pos %zu rc %d", pos, rc);
		else if (pos >= 20 + 20 + 12 && pos < 20 + 20 + 14)
			/* len(IA) changed: wait for more or too long. */
			cr_assert(rc == THR_EAGAIN || rc == THR_EPROTO ||
			    rc == 0, "pos %zu rc %d", pos, rc);
		else if (pos >= 20 + 20 + 8 && pos < 20 + 20 + 12)
			/* provide bits: may still leave a common method. */
			cr_assert(rc == THR_EPROTO || rc == 0 ||
			    rc == THR_EAGAIN, "pos %zu rc %d", pos, rc);
		else if (pos >= 20 + 20 + 14)
			cr_assert(rc == THR_EPROTO || rc == THR_EAGAIN ||
			    rc == 0, "pos %zu rc %d", pos, rc);
		else
			cr_assert_eq(rc, THR_EPROTO, "pos %zu rc %d", pos,
			    rc);
		mse_free(a);
		mse_free(b);
		buf_release(&a2b);
		buf_release(&b2a);
	}
}

static void
sha1(const char *tag, const uint8_t *a, size_t alen, const uint8_t *b,
    size_t blen, uint8_t out[20])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	cr_assert(EVP_DigestInit_ex2(c, lib.sha1, NULL));
	EVP_DigestUpdate(c, tag, 4);
	EVP_DigestUpdate(c, a, alen);
	if (blen > 0)
		EVP_DigestUpdate(c, b, blen);
	cr_assert(EVP_DigestFinal_ex(c, out, NULL));
	EVP_MD_CTX_free(c);
}

/* RC4 keyed with key, after encrypting 1024 zero bytes, straight EVP. */
static EVP_CIPHER_CTX *
raw_rc4(const uint8_t key[20])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t zero[1024];
	int outl;

	cr_assert(EVP_EncryptInit_ex2(c, lib.rc4, NULL, NULL, NULL));
	cr_assert(EVP_CIPHER_CTX_set_key_length(c, 20));
	cr_assert(EVP_EncryptInit_ex2(c, NULL, key, NULL, NULL));
	memset(zero, 0, sizeof(zero));
	cr_assert(EVP_EncryptUpdate(c, zero, &outl, zero, sizeof(zero)));
	return c;
}

/*
 * An initiator written from the spec with BIGNUM and EVP only, against
 * our receiver: checks S, req1..3, keyA/keyB and the 1024-byte discard.
 */
Test(mse, receiver_matches_hand_built_initiator)
{
	static const char phex[] =
	    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
	    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
	    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
	    "E485B576625E7EC6F44C42E9A63A36210000000000090563";
	struct side sb;
	struct thr_error err;
	struct buf out;
	struct mse *b;
	BIGNUM *p = NULL, *x, *g, *y, *s;
	BN_CTX *bc = BN_CTX_new();
	EVP_CIPHER_CTX *ea, *eb;
	uint8_t ya[96], sec[96], h[20], h3[20], ka[20], kb[20];
	uint8_t third[40 + 16 + 3], reply[14];
	const uint8_t *ia;
	size_t used, ialen, i;
	int outl;

	cr_assert(BN_hex2bn(&p, phex) == 192);
	cr_assert_eq(BN_num_bits(p), 768);
	x = BN_new();
	g = BN_new();
	y = BN_new();
	s = BN_new();
	cr_assert(BN_rand(x, 160, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY));
	BN_set_word(g, 2);
	cr_assert(BN_mod_exp(y, g, x, p, bc));
	cr_assert_eq(BN_bn2binpad(y, ya, 96), 96);

	side_init(&sb, false, &skeys[1], 1, MSE_RC4 | MSE_PLAIN, 5);
	buf_init(&out, BUFMAX);
	b = mse_new(&lib, &sb.cfg, &err);
	cr_assert_eq(mse_input(b, ya, 96, &used, &out, &err), THR_EAGAIN);
	cr_assert_geq(out.len, 96);
	cr_assert_leq(out.len, 96 + MSE_MAX_PAD);
	cr_assert_not_null(BN_bin2bn(out.data, 96, y));
	cr_assert(BN_mod_exp(s, y, x, p, bc));
	cr_assert_eq(BN_bn2binpad(s, sec, 96), 96);
	buf_reset(&out);

	sha1("req1", sec, 96, NULL, 0, third);
	sha1("req2", skeys[1], 20, NULL, 0, h);
	sha1("req3", sec, 96, NULL, 0, h3);
	for (i = 0; i < 20; i++)
		third[20 + i] = h[i] ^ h3[i];
	sha1("keyA", sec, 96, skeys[1], 20, ka);
	sha1("keyB", sec, 96, skeys[1], 20, kb);
	memset(third + 40, 0, 16 + 3);
	third[40 + 11] = 0x03;		/* provide both */
	third[40 + 15] = 3;		/* len(IA) */
	memcpy(third + 56, "xyz", 3);
	ea = raw_rc4(ka);
	cr_assert(EVP_EncryptUpdate(ea, third + 40, &outl, third + 40, 19));
	cr_assert_eq(mse_input(b, third, sizeof(third), &used, &out, &err),
	    0, "%s", err.msg);
	cr_assert_eq(used, sizeof(third));
	cr_assert_eq(mse_method(b), MSE_RC4);
	ia = mse_ia(b, &ialen);
	cr_assert_eq(ialen, 3);
	cr_assert(memcmp(ia, "xyz", 3) == 0);

	cr_assert_eq(out.len, sizeof(reply));
	eb = raw_rc4(kb);
	cr_assert(EVP_EncryptUpdate(eb, reply, &outl, out.data, 14));
	for (i = 0; i < 8; i++)
		cr_assert_eq(reply[i], 0, "VC byte %zu", i);
	cr_assert_eq(reply[11], MSE_RC4);
	cr_assert_eq(reply[12] | reply[13], 0, "len(PadD) 0");

	EVP_CIPHER_CTX_free(ea);
	EVP_CIPHER_CTX_free(eb);
	BN_free(p);
	BN_free(x);
	BN_free(g);
	BN_free(y);
	BN_free(s);
	BN_CTX_free(bc);
	mse_free(b);
	buf_release(&out);
}

/* RFC 6229, key 0x0102030405: keystream at offsets 0 and 16. */
Test(mse, rc4_rfc6229_vector)
{
	static const uint8_t key[5] = { 1, 2, 3, 4, 5 };
	static const uint8_t want[32] = {
		0xb2, 0x39, 0x63, 0x05, 0xf0, 0x3d, 0xc0, 0x27,
		0xcc, 0xc3, 0x52, 0x4a, 0x0a, 0x11, 0x18, 0xa8,
		0x69, 0x82, 0x94, 0x4f, 0x18, 0xfc, 0x82, 0xd5,
		0x89, 0xc4, 0x03, 0xa4, 0x7a, 0x0d, 0x09, 0x19,
	};
	struct mse_rc4 r;
	uint8_t ks[32];

	cr_assert_eq(mse_rc4_init(&r, &lib, key, sizeof(key), 0), 0);
	memset(ks, 0, sizeof(ks));
	cr_assert_eq(mse_rc4_apply(&r, ks, 7), 0);
	cr_assert_eq(mse_rc4_apply(&r, ks + 7, sizeof(ks) - 7), 0);
	cr_assert(memcmp(ks, want, sizeof(want)) == 0);
	mse_rc4_release(&r);
	cr_assert_eq(mse_rc4_apply(&r, ks, 1), THR_EINVAL);
	cr_assert_eq(mse_rc4_init(&r, &lib, key, 0, 0), THR_EINVAL);
}

Test(mse, rc4_discard_skips_1024_bytes)
{
	static const uint8_t key[20] = "0123456789abcdefghij";
	struct mse_rc4 full, cut;
	uint8_t a[1024 + 64], b[64];

	cr_assert_eq(mse_rc4_init(&full, &lib, key, 20, 0), 0);
	cr_assert_eq(mse_rc4_init(&cut, &lib, key, 20, MSE_DISCARD), 0);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	cr_assert_eq(mse_rc4_apply(&full, a, sizeof(a)), 0);
	cr_assert_eq(mse_rc4_apply(&cut, b, sizeof(b)), 0);
	cr_assert(memcmp(a + 1024, b, sizeof(b)) == 0);
	cr_assert(memcmp(a, b, sizeof(b)) != 0);
	mse_rc4_release(&full);
	mse_rc4_release(&cut);
}

Test(mse, peek)
{
	static const uint8_t hs[] = "\023BitTorrent protocol\0\0";
	size_t i;

	for (i = 0; i < 20; i++)
		cr_assert_eq(mse_peek(hs, i), MSE_PEEK_MORE, "n %zu", i);
	cr_assert_eq(mse_peek(NULL, 0), MSE_PEEK_MORE);
	cr_assert_eq(mse_peek(hs, 20), MSE_PEEK_PLAIN);
	cr_assert_eq(mse_peek(hs, 22), MSE_PEEK_PLAIN);
	cr_assert_eq(mse_peek((const uint8_t *)"\023BitTorrent_", 12),
	    MSE_PEEK_ENCRYPTED);
	cr_assert_eq(mse_peek((const uint8_t *)"\x95", 1),
	    MSE_PEEK_ENCRYPTED);
}

Test(mse, bad_config_refused)
{
	struct side s;
	struct thr_error err;
	uint8_t big[MSE_MAX_IA + 1];

	side_init(&s, true, skeys, 2, MSE_RC4, 1);
	cr_assert_null(mse_new(&lib, &s.cfg, &err));
	cr_assert_eq(err.code, THR_EINVAL);
	side_init(&s, false, skeys, 1, 0, 1);
	cr_assert_null(mse_new(&lib, &s.cfg, &err));
	side_init(&s, false, skeys, 1, 4, 1);
	cr_assert_null(mse_new(&lib, &s.cfg, &err));
	side_init(&s, true, skeys, 1, MSE_RC4, 1);
	memset(big, 0, sizeof(big));
	s.cfg.ia = big;
	s.cfg.ia_len = sizeof(big);
	cr_assert_null(mse_new(&lib, &s.cfg, &err));
	side_init(&s, false, skeys, 1, MSE_RC4, 1);
	s.cfg.rnd = NULL;
	cr_assert_null(mse_new(&lib, &s.cfg, &err));
}

Test(mse, not_done_refuses_crypto)
{
	struct side s;
	struct thr_error err;
	struct mse *m;
	uint8_t x[4] = { 0 };
	size_t len;

	side_init(&s, false, skeys, 1, MSE_RC4, 1);
	m = mse_new(&lib, &s.cfg, &err);
	cr_assert_eq(mse_encrypt(m, x, 4), THR_EINVAL);
	cr_assert_eq(mse_decrypt(m, x, 4), THR_EINVAL);
	cr_assert_null(mse_ia(m, &len));
	cr_assert_eq(len, 0);
	cr_assert_eq(mse_method(m), 0);
	mse_free(m);
}

/* A fixed private key makes a recorded exchange replay byte for byte. */
Test(mse, fixed_private_key_replays)
{
	static const uint8_t pa[20] = "initiator-fixed-key!";
	static const uint8_t pb[20] = "receiver-fixed-key!!";
	struct side sa, sb;
	struct run r1, r2;
	struct thr_error err;
	struct buf a1, out;
	struct mse *a, *b;
	size_t used;

	side_init(&sa, true, &skeys[0], 1, MSE_RC4, 50);
	side_init(&sb, false, &skeys[0], 1, MSE_RC4, 51);
	sa.cfg.fixed_priv = pa;
	sb.cfg.fixed_priv = pb;
	sa.cfg.no_pad = sb.cfg.no_pad = true;
	run_pair(&r1, &sa, &sb, 0, 1);
	run_pair(&r2, &sa, &sb, 0, 1);
	cr_assert_eq(r1.rca, 0);
	cr_assert_eq(r2.rcb, 0);
	run_free(&r1);
	run_free(&r2);

	/* Record A's whole stream against one B, replay it to another. */
	buf_init(&a1, BUFMAX);
	buf_init(&out, BUFMAX);
	a = mse_new(&lib, &sa.cfg, &err);
	b = mse_new(&lib, &sb.cfg, &err);
	cr_assert_eq(mse_start(a, &a1), 0);
	cr_assert_eq(mse_input(b, a1.data, a1.len, &used, &out, &err),
	    THR_EAGAIN);
	cr_assert_eq(mse_input(a, out.data, out.len, &used, &a1, &err),
	    THR_EAGAIN);
	mse_free(b);
	buf_reset(&out);
	b = mse_new(&lib, &sb.cfg, &err);
	cr_assert_eq(mse_input(b, a1.data, a1.len, &used, &out, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(used, a1.len);
	mse_free(a);
	mse_free(b);
	buf_release(&a1);
	buf_release(&out);
}

/* An out buffer too small for Yb fails cleanly and stays failed. */
Test(mse, full_output_buffer_fails)
{
	struct side sa, sb;
	struct thr_error err;
	struct buf a2b, small;
	struct mse *a, *b;
	size_t used;

	side_init(&sa, true, &skeys[0], 1, MSE_RC4, 60);
	side_init(&sb, false, &skeys[0], 1, MSE_RC4, 61);
	buf_init(&a2b, BUFMAX);
	buf_init(&small, 50);
	a = mse_new(&lib, &sa.cfg, &err);
	b = mse_new(&lib, &sb.cfg, &err);
	cr_assert_eq(mse_start(a, &small), THR_ELIMIT);
	cr_assert_eq(mse_start(a, &a2b), 0);
	cr_assert_eq(mse_input(b, a2b.data, a2b.len, &used, &small, &err),
	    THR_ELIMIT);
	cr_assert_eq(mse_input(b, a2b.data, a2b.len, &used, &small, &err),
	    THR_ELIMIT);
	cr_assert_eq(used, 0);
	mse_free(a);
	mse_free(b);
	buf_release(&a2b);
	buf_release(&small);
}
