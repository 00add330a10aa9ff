/*
 * mse.c: the MSE/PHE handshake as a byte-driven state machine.
 *
 * Each state asks for a fixed number of bytes (m->need) gathered in
 * m->acc, except the two resync states, which take one byte at a time
 * and look for their marker at the end of what they hold, giving up past
 * the spec's window.  So the engine never reads past the handshake and
 * never holds more than MSE_MAX_IA bytes, whatever the peer sends.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "mse.h"
#include "xalloc.h"

/* The spec's 768-bit prime P; the generator is 2. */
static const char mse_prime_hex[] =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1"
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245"
    "E485B576625E7EC6F44C42E9A63A36210000000000090563";

#define MSE_PRIV_BITS	(MSE_PRIV_LEN * 8)
#define MSE_SYNC_A	(MSE_MAX_PAD + MSE_HASH_LEN)	/* PadA, req1 */
#define MSE_SYNC_B	(MSE_MAX_PAD + MSE_VC_LEN)	/* PadB, VC */

enum mse_state {
	MSE_S_START,		/* initiator: Ya not sent yet */
	MSE_S_YA,		/* receiver: reading Ya */
	MSE_S_YB,		/* initiator: reading Yb */
	MSE_S_SYNC_REQ1,	/* receiver: PadA then HASH('req1', S) */
	MSE_S_REQ2,		/* receiver: the obfuscated SKEY hash */
	MSE_S_VC,		/* receiver: VC, provide, len(PadC) */
	MSE_S_PADC,
	MSE_S_IALEN,
	MSE_S_IA,
	MSE_S_SYNC_VC,		/* initiator: PadB then ENCRYPT(VC) */
	MSE_S_SELECT,		/* initiator: crypto_select, len(PadD) */
	MSE_S_PADD,
	MSE_S_DONE,
	MSE_S_FAILED,
};

struct mse {
	struct mse_lib	*lib;
	enum mse_state	 state;
	int		 fail_code;
	bool		 initiator;
	bool		 no_pad;
	unsigned	 allowed;
	bool		 prefer_plain;
	unsigned	 method;
	uint8_t		 skeys[MSE_MAX_SKEYS][20];
	size_t		 nskeys;
	size_t		 skey_idx;
	mse_rnd_fn	*rnd;
	void		*rnd_ctx;
	BIGNUM		*priv;
	uint8_t		 secret[MSE_KEY_LEN];
	uint8_t		 marker[MSE_HASH_LEN];	/* resync target */
	size_t		 marker_len;
	struct mse_rc4	 enc;
	struct mse_rc4	 dec;
	size_t		 need;
	size_t		 window;		/* resync only */
	size_t		 stream_off;		/* peer bytes read */
	size_t		 ia_len;
	bool		 ia_kept;
	uint8_t		 ia_out[MSE_MAX_IA];	/* A: to send */
	size_t		 ia_out_len;
	size_t		 acc_len;
	uint8_t		 acc[MSE_MAX_IA];	/* B: ends in IA */
};

int
mse_lib_init(struct mse_lib *lib, struct thr_error *err)
{
	OSSL_LIB_CTX *ctx;

	memset(lib, 0, sizeof(*lib));
	if ((ctx = OSSL_LIB_CTX_new()) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "no memory for "
		    "an OpenSSL context");
	lib->libctx = ctx;
	/* Loading legacy into a fresh context hides default: load both. */
	if ((lib->prov_default = OSSL_PROVIDER_load(ctx, "default")) == NULL)
		goto fail;
	if ((lib->prov_legacy = OSSL_PROVIDER_load(ctx, "legacy")) == NULL) {
		mse_lib_release(lib);
		return thr_error_set(err, THR_ENOENT, 0, "OpenSSL legacy "
		    "provider not available: no RC4, so no encryption");
	}
	if ((lib->rc4 = EVP_CIPHER_fetch(ctx, "RC4", NULL)) == NULL) {
		mse_lib_release(lib);
		return thr_error_set(err, THR_ENOENT, 0, "OpenSSL has no "
		    "RC4: no encryption");
	}
	if ((lib->sha1 = EVP_MD_fetch(ctx, "SHA1", NULL)) == NULL)
		goto fail;
	return 0;
fail:
	mse_lib_release(lib);
	return thr_error_set(err, THR_ENOENT, 0, "OpenSSL default provider "
	    "not available");
}

void
mse_lib_release(struct mse_lib *lib)
{
	EVP_MD_free(lib->sha1);
	EVP_CIPHER_free(lib->rc4);
	if (lib->prov_legacy != NULL)
		OSSL_PROVIDER_unload(lib->prov_legacy);
	if (lib->prov_default != NULL)
		OSSL_PROVIDER_unload(lib->prov_default);
	OSSL_LIB_CTX_free(lib->libctx);
	memset(lib, 0, sizeof(*lib));
}

int
mse_rc4_init(struct mse_rc4 *r, struct mse_lib *lib, const uint8_t *key,
    size_t len, size_t discard)
{
	EVP_CIPHER_CTX *c;
	uint8_t junk[256];
	size_t n;

	r->ctx = NULL;
	if (lib->rc4 == NULL || len == 0 || len > 256)
		return THR_EINVAL;
	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return THR_ENOMEM;
	/* RC4's default key is 16 bytes: set the length before the key. */
	if (!EVP_EncryptInit_ex2(c, lib->rc4, NULL, NULL, NULL) ||
	    !EVP_CIPHER_CTX_set_key_length(c, (int)len) ||
	    !EVP_EncryptInit_ex2(c, NULL, key, NULL, NULL)) {
		EVP_CIPHER_CTX_free(c);
		return THR_EINVAL;
	}
	r->ctx = c;
	while (discard > 0) {
		n = discard < sizeof(junk) ? discard : sizeof(junk);
		memset(junk, 0, n);
		if (mse_rc4_apply(r, junk, n) != 0) {
			mse_rc4_release(r);
			return THR_EINVAL;
		}
		discard -= n;
	}
	return 0;
}

int
mse_rc4_apply(struct mse_rc4 *r, uint8_t *p, size_t n)
{
	int outl, chunk;

	if (r->ctx == NULL)
		return THR_EINVAL;
	while (n > 0) {
		chunk = n > 65536 ? 65536 : (int)n;
		if (!EVP_EncryptUpdate(r->ctx, p, &outl, p, chunk) ||
		    outl != chunk)
			return THR_EINVAL;
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

void
mse_rc4_release(struct mse_rc4 *r)
{
	EVP_CIPHER_CTX_free(r->ctx);
	r->ctx = NULL;
}

/* SHA-1 of a 4-byte tag followed by up to two byte strings. */
static int
mse_hash(struct mse_lib *lib, const char tag[4], const uint8_t *a,
    size_t alen, const uint8_t *b, size_t blen, uint8_t out[MSE_HASH_LEN])
{
	EVP_MD_CTX *c;
	int ok;

	if ((c = EVP_MD_CTX_new()) == NULL)
		return THR_ENOMEM;
	ok = EVP_DigestInit_ex2(c, lib->sha1, NULL) &&
	    EVP_DigestUpdate(c, tag, 4) &&
	    (alen == 0 || EVP_DigestUpdate(c, a, alen)) &&
	    (blen == 0 || EVP_DigestUpdate(c, b, blen)) &&
	    EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
	return ok ? 0 : THR_ENOMEM;
}

static BIGNUM *
mse_prime(void)
{
	BIGNUM *p = NULL;

	if (BN_hex2bn(&p, mse_prime_hex) == 0)
		return NULL;
	return p;
}

/* out = base^priv mod P as 96 big-endian bytes. */
static int
mse_modexp(struct mse *m, const BIGNUM *base, uint8_t out[MSE_KEY_LEN])
{
	BN_CTX *bctx;
	BIGNUM *p, *r;
	int rc = THR_ENOMEM;

	bctx = BN_CTX_new_ex(m->lib->libctx);
	p = mse_prime();
	r = BN_new();
	if (bctx == NULL || p == NULL || r == NULL)
		goto out;
	if (!BN_mod_exp(r, base, m->priv, p, bctx) ||
	    BN_bn2binpad(r, out, MSE_KEY_LEN) != MSE_KEY_LEN)
		goto out;
	rc = 0;
out:
	BN_free(r);
	BN_free(p);
	BN_CTX_free(bctx);
	return rc;
}

struct mse *
mse_new(struct mse_lib *lib, const struct mse_config *cfg,
    struct thr_error *err)
{
	struct mse *m;
	BN_CTX *bctx;

	if (lib == NULL || lib->rc4 == NULL || lib->sha1 == NULL ||
	    cfg->rnd == NULL || cfg->skeys == NULL || cfg->nskeys == 0 ||
	    cfg->nskeys > MSE_MAX_SKEYS ||
	    (cfg->initiator && cfg->nskeys != 1) ||
	    (cfg->allowed & (MSE_PLAIN | MSE_RC4)) == 0 ||
	    (cfg->allowed & ~(MSE_PLAIN | MSE_RC4)) != 0 ||
	    cfg->ia_len > MSE_MAX_IA || (cfg->ia_len > 0 && cfg->ia == NULL)) {
		thr_error_set(err, THR_EINVAL, 0, "bad MSE configuration");
		return NULL;
	}
	if ((m = thr_calloc(1, sizeof(*m))) == NULL) {
		thr_error_set(err, THR_ENOMEM, 0, "no memory for MSE");
		return NULL;
	}
	m->lib = lib;
	m->initiator = cfg->initiator;
	m->no_pad = cfg->no_pad;
	m->allowed = cfg->allowed;
	m->prefer_plain = cfg->prefer_plain;
	m->nskeys = cfg->nskeys;
	memcpy(m->skeys, cfg->skeys, cfg->nskeys * 20);
	m->rnd = cfg->rnd;
	m->rnd_ctx = cfg->rnd_ctx;
	if (cfg->initiator && cfg->ia_len > 0) {
		memcpy(m->ia_out, cfg->ia, cfg->ia_len);
		m->ia_out_len = cfg->ia_len;
	}
	bctx = BN_CTX_new_ex(lib->libctx);
	if (bctx == NULL || (m->priv = BN_secure_new()) == NULL ||
	    (cfg->fixed_priv != NULL ?
	    BN_bin2bn(cfg->fixed_priv, MSE_PRIV_BITS / 8, m->priv) == NULL :
	    !BN_priv_rand_ex(m->priv, MSE_PRIV_BITS, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ANY, 0, bctx))) {
		BN_CTX_free(bctx);
		mse_free(m);
		thr_error_set(err, THR_ENOMEM, 0, "no DH private key");
		return NULL;
	}
	BN_CTX_free(bctx);
	if (cfg->initiator)
		m->state = MSE_S_START;
	else {
		m->state = MSE_S_YA;
		m->need = MSE_KEY_LEN;
	}
	return m;
}

void
mse_free(struct mse *m)
{
	if (m == NULL)
		return;
	BN_clear_free(m->priv);
	mse_rc4_release(&m->enc);
	mse_rc4_release(&m->dec);
	OPENSSL_cleanse(m->secret, sizeof(m->secret));
	free(m);
}

/* Our public key, then 0..MSE_MAX_PAD random bytes. */
static int
mse_send_key(struct mse *m, struct buf *out)
{
	uint8_t y[MSE_KEY_LEN], pad[MSE_MAX_PAD], r[2];
	BIGNUM *g;
	size_t padlen = 0;
	int rc;

	if ((g = BN_new()) == NULL || !BN_set_word(g, 2)) {
		BN_free(g);
		return THR_ENOMEM;
	}
	rc = mse_modexp(m, g, y);
	BN_free(g);
	if (rc != 0)
		return rc;
	if (!m->no_pad) {
		m->rnd(m->rnd_ctx, r, sizeof(r));
		padlen = ((size_t)r[0] << 8 | r[1]) % (MSE_MAX_PAD + 1);
		m->rnd(m->rnd_ctx, pad, padlen);
	}
	if ((rc = buf_append(out, y, sizeof(y))) != 0 ||
	    (rc = buf_append(out, pad, padlen)) != 0)
		return rc;
	return 0;
}

/* S from the peer's key in acc; refuses the degenerate keys 0, 1, P-1. */
static int
mse_secret(struct mse *m, struct thr_error *err)
{
	BIGNUM *y, *p;
	int rc;

	y = BN_bin2bn(m->acc, MSE_KEY_LEN, NULL);
	p = mse_prime();
	if (y == NULL || p == NULL || !BN_sub_word(p, 1)) {
		BN_free(y);
		BN_free(p);
		return thr_error_set(err, THR_ENOMEM, 0, "no memory");
	}
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, p) >= 0) {
		BN_free(y);
		BN_free(p);
		return thr_error_set(err, THR_EPROTO, m->stream_off,
		    "MSE: degenerate DH public key");
	}
	BN_free(p);
	rc = mse_modexp(m, y, m->secret);
	BN_free(y);
	if (rc != 0)
		return thr_error_set(err, rc, 0, "MSE: DH failed");
	return 0;
}

/* Key both RC4 streams from S and the matched SKEY. */
static int
mse_keys(struct mse *m)
{
	uint8_t ka[MSE_HASH_LEN], kb[MSE_HASH_LEN];
	const uint8_t *skey = m->skeys[m->skey_idx];
	int rc;

	if ((rc = mse_hash(m->lib, "keyA", m->secret, MSE_KEY_LEN, skey, 20,
	    ka)) != 0 ||
	    (rc = mse_hash(m->lib, "keyB", m->secret, MSE_KEY_LEN, skey, 20,
	    kb)) != 0)
		return rc;
	rc = mse_rc4_init(&m->enc, m->lib, m->initiator ? ka : kb,
	    MSE_HASH_LEN, MSE_DISCARD);
	if (rc == 0)
		rc = mse_rc4_init(&m->dec, m->lib, m->initiator ? kb : ka,
		    MSE_HASH_LEN, MSE_DISCARD);
	OPENSSL_cleanse(ka, sizeof(ka));
	OPENSSL_cleanse(kb, sizeof(kb));
	return rc;
}

/* Append ENCRYPT(VC, bits, len(pad) = 0) and, for A, len(IA), IA. */
static int
mse_send_encrypted(struct mse *m, unsigned bits, struct buf *out)
{
	uint8_t *p;
	size_t n = MSE_VC_LEN + 4 + 2;

	if (m->initiator)
		n += 2 + m->ia_out_len;
	if ((p = buf_reserve(out, n)) == NULL)
		return THR_ELIMIT;
	/*
	 * PadC and PadD stay empty: the spec reserves them and some
	 * clients mishandle non-empty ones.
	 */
	memset(p, 0, n);
	p[MSE_VC_LEN + 3] = (uint8_t)bits;
	if (m->initiator) {
		p[MSE_VC_LEN + 6] = (uint8_t)(m->ia_out_len >> 8);
		p[MSE_VC_LEN + 7] = (uint8_t)m->ia_out_len;
		memcpy(p + MSE_VC_LEN + 8, m->ia_out, m->ia_out_len);
	}
	if (mse_rc4_apply(&m->enc, p, n) != 0)
		return THR_EINVAL;
	buf_commit(out, n);
	return 0;
}

/* Initiator: Yb is in acc. */
static int
mse_on_yb(struct mse *m, struct buf *out, struct thr_error *err)
{
	uint8_t h[MSE_HASH_LEN], h3[MSE_HASH_LEN];
	int rc, i;

	if ((rc = mse_secret(m, err)) != 0)
		return rc;
	if ((rc = mse_keys(m)) != 0)
		return thr_error_set(err, rc, 0, "MSE: RC4 setup failed");
	if ((rc = mse_hash(m->lib, "req1", m->secret, MSE_KEY_LEN, NULL, 0,
	    h)) != 0 || (rc = buf_append(out, h, sizeof(h))) != 0)
		return thr_error_set(err, rc, 0, "MSE: cannot send req1");
	if ((rc = mse_hash(m->lib, "req2", m->skeys[0], 20, NULL, 0,
	    h)) != 0 || (rc = mse_hash(m->lib, "req3", m->secret,
	    MSE_KEY_LEN, NULL, 0, h3)) != 0)
		return thr_error_set(err, rc, 0, "MSE: hash failed");
	for (i = 0; i < MSE_HASH_LEN; i++)
		h[i] ^= h3[i];
	if ((rc = buf_append(out, h, sizeof(h))) != 0 ||
	    (rc = mse_send_encrypted(m, m->allowed, out)) != 0)
		return thr_error_set(err, rc, 0, "MSE: cannot send provide");
	/* B's ENCRYPT(VC) is the first 8 bytes of B's keystream. */
	memset(m->marker, 0, MSE_VC_LEN);
	if (mse_rc4_apply(&m->dec, m->marker, MSE_VC_LEN) != 0)
		return thr_error_set(err, THR_EINVAL, 0, "MSE: RC4 failed");
	m->marker_len = MSE_VC_LEN;
	m->window = MSE_SYNC_B;
	m->state = MSE_S_SYNC_VC;
	return 0;
}

/* Receiver: Ya is in acc. */
static int
mse_on_ya(struct mse *m, struct buf *out, struct thr_error *err)
{
	int rc;

	if ((rc = mse_secret(m, err)) != 0)
		return rc;
	if ((rc = mse_send_key(m, out)) != 0)
		return thr_error_set(err, rc, 0, "MSE: cannot send Yb");
	if ((rc = mse_hash(m->lib, "req1", m->secret, MSE_KEY_LEN, NULL, 0,
	    m->marker)) != 0)
		return thr_error_set(err, rc, 0, "MSE: hash failed");
	m->marker_len = MSE_HASH_LEN;
	m->window = MSE_SYNC_A;
	m->state = MSE_S_SYNC_REQ1;
	return 0;
}

/* Receiver: HASH('req2', SKEY) xor HASH('req3', S) is in acc. */
static int
mse_on_req2(struct mse *m, struct thr_error *err)
{
	uint8_t h3[MSE_HASH_LEN], h[MSE_HASH_LEN];
	size_t i;
	int rc;

	if ((rc = mse_hash(m->lib, "req3", m->secret, MSE_KEY_LEN, NULL, 0,
	    h3)) != 0)
		return thr_error_set(err, rc, 0, "MSE: hash failed");
	for (i = 0; i < MSE_HASH_LEN; i++)
		m->acc[i] ^= h3[i];
	for (i = 0; i < m->nskeys; i++) {
		if ((rc = mse_hash(m->lib, "req2", m->skeys[i], 20, NULL, 0,
		    h)) != 0)
			return thr_error_set(err, rc, 0, "MSE: hash failed");
		if (memcmp(h, m->acc, MSE_HASH_LEN) == 0)
			break;
	}
	if (i == m->nskeys)
		return thr_error_set(err, THR_EPROTO, m->stream_off -
		    MSE_HASH_LEN, "MSE: peer asks for a torrent we lack");
	m->skey_idx = i;
	if ((rc = mse_keys(m)) != 0)
		return thr_error_set(err, rc, 0, "MSE: RC4 setup failed");
	m->state = MSE_S_VC;
	m->need = MSE_VC_LEN + 4 + 2;
	return 0;
}

/* Pick one of the peer's methods we allow; RC4 first. */
static unsigned
mse_choose(unsigned mine, unsigned theirs, bool prefer_plain)
{
	unsigned common = mine & theirs;

	if (prefer_plain && (common & MSE_PLAIN))
		return MSE_PLAIN;
	if (common & MSE_RC4)
		return MSE_RC4;
	if (common & MSE_PLAIN)
		return MSE_PLAIN;
	return 0;
}

/* Act on a full acc; sets the next state and need. */
static int
mse_step(struct mse *m, struct buf *out, struct thr_error *err)
{
	size_t start = m->stream_off - m->acc_len;
	uint32_t v;
	int rc;

	switch (m->state) {
	case MSE_S_YA:
		return mse_on_ya(m, out, err);
	case MSE_S_YB:
		return mse_on_yb(m, out, err);
	case MSE_S_SYNC_REQ1:
		m->state = MSE_S_REQ2;
		m->need = MSE_HASH_LEN;
		return 0;
	case MSE_S_REQ2:
		return mse_on_req2(m, err);
	case MSE_S_SYNC_VC:
		m->state = MSE_S_SELECT;
		m->need = 4 + 2;
		return 0;
	default:
		break;
	}
	if (mse_rc4_apply(&m->dec, m->acc, m->acc_len) != 0)
		return thr_error_set(err, THR_EINVAL, 0, "MSE: RC4 failed");
	switch (m->state) {
	case MSE_S_VC:
		if (memcmp(m->acc, "\0\0\0\0\0\0\0\0", MSE_VC_LEN) != 0)
			return thr_error_set(err, THR_EPROTO, start,
			    "MSE: bad verification constant");
		v = be32(m->acc + MSE_VC_LEN);
		if ((m->method = mse_choose(m->allowed, v, m->prefer_plain)) == 0)
			return thr_error_set(err, THR_EPROTO, start + 8,
			    "MSE: no common method (peer offers 0x%x)", v);
		m->need = be16(m->acc + MSE_VC_LEN + 4);
		if (m->need > MSE_MAX_PAD)
			return thr_error_set(err, THR_EPROTO, start + 12,
			    "MSE: PadC of %zu bytes", m->need);
		m->state = MSE_S_PADC;
		return 0;
	case MSE_S_PADC:
		m->state = MSE_S_IALEN;
		m->need = 2;
		return 0;
	case MSE_S_IALEN:
		m->ia_len = be16(m->acc);
		if (m->ia_len > MSE_MAX_IA)
			return thr_error_set(err, THR_EPROTO, start,
			    "MSE: IA of %zu bytes", m->ia_len);
		m->need = m->ia_len;
		m->state = MSE_S_IA;
		return 0;
	case MSE_S_IA:
		m->ia_kept = m->ia_len > 0;
		if ((rc = mse_send_encrypted(m, m->method, out)) != 0)
			return thr_error_set(err, rc, 0,
			    "MSE: cannot send select");
		m->state = MSE_S_DONE;
		return 0;
	case MSE_S_SELECT:
		v = be32(m->acc);
		if ((v != MSE_PLAIN && v != MSE_RC4) || (v & m->allowed) == 0)
			return thr_error_set(err, THR_EPROTO, start,
			    "MSE: peer selected 0x%x", v);
		m->method = v;
		m->need = be16(m->acc + 4);
		if (m->need > MSE_MAX_PAD)
			return thr_error_set(err, THR_EPROTO, start + 4,
			    "MSE: PadD of %zu bytes", m->need);
		m->state = MSE_S_PADD;
		return 0;
	case MSE_S_PADD:
		m->state = MSE_S_DONE;
		return 0;
	default:
		return thr_error_set(err, THR_EINVAL, 0, "MSE: bad state");
	}
}

int
mse_start(struct mse *m, struct buf *out)
{
	int rc;

	if (!m->initiator || m->state != MSE_S_START)
		return 0;
	if ((rc = mse_send_key(m, out)) != 0)
		return rc;
	m->state = MSE_S_YB;
	m->need = MSE_KEY_LEN;
	return 0;
}

static bool
mse_syncing(const struct mse *m)
{
	return m->state == MSE_S_SYNC_REQ1 || m->state == MSE_S_SYNC_VC;
}

int
mse_input(struct mse *m, const uint8_t *in, size_t n, size_t *consumed,
    struct buf *out, struct thr_error *err)
{
	size_t used = 0, take;
	int rc;

	*consumed = 0;
	if (m->state == MSE_S_FAILED)
		return thr_error_set(err, m->fail_code, m->stream_off,
		    "MSE: handshake already failed");
	if (m->state == MSE_S_START)
		return thr_error_set(err, THR_EINVAL, 0,
		    "MSE: mse_start not called");
	while (m->state != MSE_S_DONE) {
		if (mse_syncing(m)) {
			if (used == n)
				break;
			m->acc[m->acc_len++] = in[used++];
			m->stream_off++;
			if (m->acc_len >= m->marker_len &&
			    memcmp(m->acc + m->acc_len - m->marker_len,
			    m->marker, m->marker_len) == 0)
				rc = mse_step(m, out, err);
			else if (m->acc_len >= m->window) {
				rc = thr_error_set(err, THR_EPROTO,
				    m->stream_off, "MSE: no sync within %zu "
				    "bytes", m->window);
				goto fail;
			} else
				continue;
		} else {
			take = m->need - m->acc_len;
			if (take > n - used)
				take = n - used;
			if (take > 0)
				memcpy(m->acc + m->acc_len, in + used, take);
			m->acc_len += take;
			used += take;
			m->stream_off += take;
			if (m->acc_len < m->need)
				break;
			rc = mse_step(m, out, err);
		}
		if (rc != 0)
			goto fail;
		if (m->state != MSE_S_DONE || !m->ia_kept)
			m->acc_len = 0;
	}
	*consumed = used;
	return m->state == MSE_S_DONE ? 0 : THR_EAGAIN;
fail:
	*consumed = used;
	m->fail_code = rc;
	m->state = MSE_S_FAILED;
	return rc;
}

bool
mse_done(const struct mse *m)
{
	return m->state == MSE_S_DONE;
}

unsigned
mse_method(const struct mse *m)
{
	return m->state == MSE_S_DONE ? m->method : 0;
}

size_t
mse_skey_index(const struct mse *m)
{
	return m->skey_idx;
}

const uint8_t *
mse_ia(const struct mse *m, size_t *len)
{
	if (m->state != MSE_S_DONE || !m->ia_kept) {
		*len = 0;
		return NULL;
	}
	*len = m->ia_len;
	return m->acc;
}

int
mse_encrypt(struct mse *m, uint8_t *p, size_t n)
{
	if (m->state != MSE_S_DONE)
		return THR_EINVAL;
	if (m->method != MSE_RC4)
		return 0;
	return mse_rc4_apply(&m->enc, p, n);
}

int
mse_decrypt(struct mse *m, uint8_t *p, size_t n)
{
	if (m->state != MSE_S_DONE)
		return THR_EINVAL;
	if (m->method != MSE_RC4)
		return 0;
	return mse_rc4_apply(&m->dec, p, n);
}

enum mse_peek
mse_peek(const uint8_t *p, size_t n)
{
	static const char hs[] = "\023BitTorrent protocol";
	size_t len = sizeof(hs) - 1;

	if (n == 0)
		return MSE_PEEK_MORE;
	if (n > len)
		n = len;
	if (memcmp(p, hs, n) != 0)
		return MSE_PEEK_ENCRYPTED;
	return n == len ? MSE_PEEK_PLAIN : MSE_PEEK_MORE;
}
