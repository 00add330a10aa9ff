/*
 * mse.h: Message Stream Encryption / Protocol Header Encryption (the
 * Vuze/libtorrent "MSE" handshake), without I/O.
 *
 * The engine takes the bytes a peer sent and appends the bytes to send to
 * a caller's struct buf.  The exchange, A the initiator and B the
 * receiver, with P the spec's 768-bit prime, generator 2:
 *
 *   A->B  Ya, PadA
 *   B->A  Yb, PadB
 *   A->B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
 *         ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA), IA)
 *   B->A  ENCRYPT(VC, crypto_select, len(PadD), PadD)
 *
 * S is the DH secret, SKEY the torrent's info-hash, VC eight zero bytes.
 * A encrypts with RC4 keyed HASH('keyA', S, SKEY), B with HASH('keyB', S,
 * SKEY), both dropping the first 1024 bytes of keystream.  Every pad is
 * at most MSE_MAX_PAD bytes, so each resync scan has a fixed window; a
 * sync not found in it, a bad VC, an unknown info-hash or no common
 * method is THR_EPROTO.
 *
 * mse_input consumes exactly the handshake's bytes and no more: when it
 * returns 0 the bytes after *consumed are the peer's first wire bytes,
 * still encrypted if RC4 was selected (pass them to mse_decrypt).  The
 * receiver also hands over IA, the initiator's initial payload (usually
 * its BitTorrent handshake), already decrypted: treat it as the first
 * bytes of the stream.
 *
 * Memory is fixed at mse_new (about 9 KiB); nothing grows with input.
 * OpenSSL state lives in struct mse_lib, which the program owns: no
 * globals.  RC4 needs OpenSSL's legacy provider; if it cannot be loaded,
 * mse_lib_init fails and the caller should log one line and speak
 * plaintext BitTorrent only.
 */
#ifndef THR_MSE_H
#define THR_MSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define MSE_KEY_LEN	96	/* Ya, Yb and S: 768 bits, big-endian */
#define MSE_PRIV_LEN	20	/* our DH private key: 160 bits (the spec
				 * asks for at least 128) */
#define MSE_HASH_LEN	20	/* SHA-1 */
#define MSE_VC_LEN	8
#define MSE_MAX_PAD	512	/* spec: PadA..PadD are 0..512 bytes */
#define MSE_MAX_IA	4096	/* our cap on len(IA); the BitTorrent
				 * handshake is 68, BEP 10 may follow */
#define MSE_MAX_SKEYS	16	/* info-hashes a receiver tells apart */
#define MSE_DISCARD	1024	/* keystream bytes dropped per key */

/* crypto_provide / crypto_select bits. */
#define MSE_PLAIN	0x01u
#define MSE_RC4		0x02u

/* OpenSSL context with the default and legacy providers: one per program. */
struct mse_lib {
	void	*libctx;	/* OSSL_LIB_CTX *, owned */
	void	*prov_default;	/* OSSL_PROVIDER * */
	void	*prov_legacy;	/* OSSL_PROVIDER * */
	void	*rc4;		/* EVP_CIPHER * */
	void	*sha1;		/* EVP_MD * */
};

/*
 * Create lib's own OpenSSL library context and load the providers.
 * Returns 0, THR_ENOMEM, or THR_ENOENT with a message in err (may be
 * NULL) when RC4 or SHA-1 is unavailable; lib is then released.
 */
int	mse_lib_init(struct mse_lib *lib, struct thr_error *err);
/* Free everything; safe on a zeroed or released lib. */
void	mse_lib_release(struct mse_lib *lib);

/* RC4 keystream (exposed so tests can check it against RFC 6229). */
struct mse_rc4 {
	void	*ctx;		/* EVP_CIPHER_CTX *, owned */
};

/*
 * Key r with key[0..len) (1..256 bytes) and drop the first discard bytes
 * of keystream.  Returns 0, THR_EINVAL or THR_ENOMEM.
 */
int	mse_rc4_init(struct mse_rc4 *r, struct mse_lib *lib,
	    const uint8_t *key, size_t len, size_t discard);
/* XOR the next n keystream bytes into p, in place.  0 or THR_EINVAL. */
int	mse_rc4_apply(struct mse_rc4 *r, uint8_t *p, size_t n);
void	mse_rc4_release(struct mse_rc4 *r);

/* Fills out[0..n) with random bytes (the padding). */
typedef void	mse_rnd_fn(void *ctx, uint8_t *out, size_t n);

/*
 * skeys: the initiator's one info-hash, or the receiver's 1 to
 * MSE_MAX_SKEYS.  ia: the initiator's initial payload, may be NULL.
 * Both are copied.  fixed_priv is for tests and fuzzing only: a fixed
 * 20-byte DH private key, so that a recorded exchange replays; NULL in
 * real use.
 */
struct mse_config {
	bool		 initiator;
	const uint8_t	(*skeys)[20];
	size_t		 nskeys;
	unsigned	 allowed;	/* MSE_PLAIN and/or MSE_RC4 */
	bool		 prefer_plain;	/* receiver: select MSE_PLAIN when
					 * both are possible (the default
					 * picks MSE_RC4) */
	const uint8_t	*ia;
	size_t		 ia_len;	/* at most MSE_MAX_IA */
	mse_rnd_fn	*rnd;		/* padding source, required */
	void		*rnd_ctx;
	bool		 no_pad;	/* send PadA/PadB empty (tests) */
	const uint8_t	*fixed_priv;
};

struct mse;

/*
 * A new engine; lib must outlive it.  The DH private key is
 * cfg->fixed_priv (MSE_PRIV_LEN bytes: the caller's secret source) or,
 * when NULL, from OpenSSL's generator in lib; never from cfg->rnd.  Returns NULL with
 * err (may be NULL) set to THR_EINVAL (bad config) or THR_ENOMEM.
 */
struct mse	*mse_new(struct mse_lib *lib, const struct mse_config *cfg,
		    struct thr_error *err);
void		 mse_free(struct mse *m);

/*
 * The initiator's first message (Ya, PadA) appended to out; a no-op for
 * the receiver.  Call once, before mse_input.  Returns 0 or the
 * buf_append error.
 */
int	mse_start(struct mse *m, struct buf *out);

/*
 * Feed in[0..n) (may be 0 bytes; in may then be NULL).  Sets *consumed
 * to the bytes used and appends any reply to out, which must have room
 * for MSE_KEY_LEN + MSE_MAX_PAD bytes (the receiver's Yb, PadB), or 56
 * plus the IA length (the initiator's third message).
 * Returns THR_EAGAIN while the handshake needs more bytes, 0 once it is
 * done (then mse_method etc. are valid and *consumed may be < n), or
 * THR_EPROTO (with err's offset into the peer's stream), THR_ENOMEM or a
 * buf error; after an error the engine only returns that error again.
 */
int	mse_input(struct mse *m, const uint8_t *in, size_t n,
	    size_t *consumed, struct buf *out, struct thr_error *err);

bool	mse_done(const struct mse *m);
/* The selected method, MSE_PLAIN or MSE_RC4; 0 before the end. */
unsigned mse_method(const struct mse *m);
/* The receiver's matched index into cfg->skeys (0 for the initiator). */
size_t	mse_skey_index(const struct mse *m);
/*
 * The receiver's decrypted IA, borrowed from m (valid until mse_free);
 * NULL with *len 0 when the initiator sent none, or for the initiator.
 */
const uint8_t *mse_ia(const struct mse *m, size_t *len);

/*
 * After the handshake: en/decrypt p[0..n) in place, continuing the
 * streams; no-ops when plaintext was selected.  Returns 0, or
 * THR_EINVAL before the handshake is done.
 */
int	mse_encrypt(struct mse *m, uint8_t *p, size_t n);
int	mse_decrypt(struct mse *m, uint8_t *p, size_t n);

/*
 * Tell an incoming connection's first bytes apart: a plaintext
 * handshake starts with 19 and "BitTorrent protocol".  Looks at up to 20
 * bytes; MSE_PEEK_MORE while p[0..n) is a prefix of that.
 */
enum mse_peek {
	MSE_PEEK_MORE,
	MSE_PEEK_PLAIN,
	MSE_PEEK_ENCRYPTED,
};
enum mse_peek	mse_peek(const uint8_t *p, size_t n);

#endif
