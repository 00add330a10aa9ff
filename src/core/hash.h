/*
 * hash.h: SHA-1 through OpenSSL's EVP interface (we never write our own).
 */
#ifndef THR_HASH_H
#define THR_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SHA1_LEN	20

struct hash_ctx {
	void	*evp;	/* EVP_MD_CTX *, owned */
};

/* One-shot SHA-1 of p[0..len) into out.  Returns 0 or THR_ENOMEM. */
int	hash_sha1(const void *p, size_t len, uint8_t out[HASH_SHA1_LEN]);
/*
 * SHA-1 of each piece_len-sized slice of p[0..len) (the last may be
 * shorter) into out, 20 bytes per slice: out holds
 * HASH_SHA1_LEN * ceil(len / piece_len) bytes.  The digest is fetched
 * once per call, not once per piece: a re-check of 16 KiB pieces spends
 * a tenth of its time in OpenSSL's implicit fetch otherwise.
 * Returns 0, THR_EINVAL (piece_len 0) or THR_ENOMEM.
 */
int	hash_sha1_slices(const void *p, size_t len, size_t piece_len,
	    uint8_t *out);
/* Incremental: init, any number of updates, final (which releases). */
int	hash_init(struct hash_ctx *h);
int	hash_update(struct hash_ctx *h, const void *p, size_t len);
int	hash_final(struct hash_ctx *h, uint8_t out[HASH_SHA1_LEN]);
/* Release without a result (on error paths); safe after final. */
void	hash_abort(struct hash_ctx *h);
/* Lower-case hex of n bytes into out (2n+1 bytes with the NUL). */
void	hash_hex(const uint8_t *p, size_t n, char *out);

#endif
