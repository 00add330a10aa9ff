/*
 * pwcrypt.c: MSE below the wire protocol.  See pwcrypt.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "pwcrypt.h"
#include "torrent.h"

static void
pwcrypt_rnd(void *ctx, uint8_t *out, size_t n)
{
	rng_bytes(ctx, out, n);
}

/* The MSE engine for p, as initiator or receiver, per --encryption. */
static struct mse *
pwcrypt_new(struct torrent *t, bool initiator)
{
	struct session *s = t->sess;
	uint8_t priv[MSE_PRIV_LEN];
	struct mse_config c;
	struct thr_error err;
	struct mse *m;

	memset(&c, 0, sizeof(c));
	c.initiator = initiator;
	c.skeys = (const uint8_t (*)[20])t->mi.info_hash;
	c.nskeys = 1;
	c.allowed = s->opts.crypto == SESSION_CRYPTO_REQUIRE ? MSE_RC4 :
	    MSE_RC4 | MSE_PLAIN;
	c.prefer_plain = s->opts.crypto == SESSION_CRYPTO_PREFER;
	c.rnd = pwcrypt_rnd;
	c.rnd_ctx = &s->rng[SESSION_RNG_MSE];
	session_secret(s, priv, sizeof(priv));
	c.fixed_priv = priv;
	if ((m = mse_new(&s->mse_lib, &c, &err)) == NULL)
		log_msg(t->log, LOG_WARN, _("encryption: %s"), err.msg);
	memset(priv, 0, sizeof(priv));
	return m;
}

bool
pwcrypt_start(struct torrent *t, struct peer *p)
{
	if ((p->mse = pwcrypt_new(t, true)) == NULL)
		return false;
	if (mse_start(p->mse, &p->out) != 0)
		peer_kill(p, "output buffer full");
	p->out_enc = p->out.len;
	return true;
}

/*
 * The first bytes of an incoming connection: MSE or plain BitTorrent?
 * Returns PWCRYPT_MORE (wait, or p was refused), PWCRYPT_PLAIN, or
 * PWCRYPT_DONE when an MSE handshake starts (p is now in PEER_CRYPTO).
 */
static enum pwcrypt_status
pwcrypt_detect(struct torrent *t, struct peer *p)
{
	enum session_crypto crypto = t->sess->opts.crypto;

	switch (mse_peek(p->in.data, p->in.len)) {
	case MSE_PEEK_MORE:
		return PWCRYPT_MORE;
	case MSE_PEEK_PLAIN:
		if (crypto == SESSION_CRYPTO_REQUIRE) {
			peer_kill(p, "plaintext handshake refused "
			    "(--encryption require)");
			return PWCRYPT_MORE;
		}
		p->crypto_checked = true;
		return PWCRYPT_PLAIN;
	case MSE_PEEK_ENCRYPTED:
		break;
	}
	p->crypto_checked = true;
	if (!t->sess->mse_ok || crypto == SESSION_CRYPTO_OFF) {
		peer_kill(p, "encrypted handshake refused (encryption is off)");
		return PWCRYPT_MORE;
	}
	if ((p->mse = pwcrypt_new(t, false)) == NULL) {
		peer_kill(p, "out of memory");
		return PWCRYPT_MORE;
	}
	peer_set_phase(p, PEER_CRYPTO, "encrypted handshake", t->trace);
	return PWCRYPT_DONE;
}

/* The initial payload of an incoming MSE handshake comes first in the
 * stream: put it before what is already in p->in. */
static bool
pwcrypt_prepend_ia(struct peer *p)
{
	size_t ialen;
	const uint8_t *ia = mse_ia(p->mse, &ialen);
	struct buf rest;

	if (ialen == 0)
		return true;
	buf_init(&rest, p->in.max);
	if (buf_append(&rest, p->in.data, p->in.len) != 0) {
		buf_release(&rest);
		peer_kill(p, "out of memory");
		return false;
	}
	buf_reset(&p->in);
	if (buf_append(&p->in, ia, ialen) != 0 ||
	    buf_append(&p->in, rest.data, rest.len) != 0) {
		buf_release(&rest);
		peer_kill(p, "handshake too long");
		return false;
	}
	buf_release(&rest);
	return true;
}

/* Bytes of the MSE handshake. */
static enum pwcrypt_status
pwcrypt_handshake(struct torrent *t, struct peer *p)
{
	struct thr_error err;
	size_t used = 0;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = mse_input(p->mse, p->in.data, p->in.len, &used, &p->out, &err);
	buf_consume(&p->in, used);
	p->out_enc = p->out.len;	/* the engine's bytes are final */
	if (rc == THR_EAGAIN)
		return PWCRYPT_MORE;
	if (rc != 0) {
		char why[sizeof(p->why)];

		snprintf(why, sizeof(why), "encryption handshake failed: %.60s",
		    err.msg);
		peer_kill(p, why);
		return PWCRYPT_MORE;
	}
	p->encrypted = mse_method(p->mse) == MSE_RC4;
	p->obfuscated = !p->encrypted;
	if (p->encrypted)
		mse_decrypt(p->mse, p->in.data, p->in.len);
	if (p->incoming && !pwcrypt_prepend_ia(p))
		return PWCRYPT_MORE;
	trace_emit(t->trace, "encryption", "\"peer\":%u,\"method\":\"%s\"",
	    p->id, p->encrypted ? "rc4" : "plain");
	return PWCRYPT_DONE;
}

enum pwcrypt_status
pwcrypt_input(struct torrent *t, struct peer *p)
{
	enum pwcrypt_status st;

	if (p->phase == PEER_HANDSHAKE && p->incoming && !p->crypto_checked &&
	    (st = pwcrypt_detect(t, p)) != PWCRYPT_DONE)
		return st;
	if (p->phase == PEER_CRYPTO)
		return pwcrypt_handshake(t, p);
	/* New bytes from the net layer. */
	if (p->encrypted)
		mse_decrypt(p->mse, p->in.data + p->in_dec,
		    p->in.len - p->in_dec);
	return PWCRYPT_PLAIN;
}

void
pwcrypt_outgoing(struct peer *p)
{
	if (p->encrypted && p->out_enc < p->out.len)
		mse_encrypt(p->mse, p->out.data + p->out_enc,
		    p->out.len - p->out_enc);
	p->out_enc = p->out.len;
}

void
pwcrypt_sent(struct peer *p, size_t n)
{
	p->out_enc = p->out_enc > n ? p->out_enc - n : 0;
}
