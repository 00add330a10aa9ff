/*
 * hash.c: SHA-1 through OpenSSL's EVP interface.
 *
 * The context lives behind a void pointer so that callers need not
 * include OpenSSL headers.  hash_final and hash_abort both free it and
 * clear the pointer, so releasing twice is harmless.
 */
#include "config.h"

#include <openssl/evp.h>

#include "err.h"
#include "hash.h"

int
hash_sha1(const void *p, size_t len, uint8_t out[HASH_SHA1_LEN])
{
	unsigned int n = 0;

	/* EVP_Digest refuses a NULL pointer even for zero bytes on some
	 * versions; give it a valid one. */
	if (p == NULL)
		p = "";
	if (EVP_Digest(p, len, out, &n, EVP_sha1(), NULL) != 1 ||
	    n != HASH_SHA1_LEN)
		return THR_ENOMEM;
	return 0;
}

int
hash_sha1_slices(const void *p, size_t len, size_t piece_len, uint8_t *out)
{
	const uint8_t *b = p;
	EVP_MD *md;
	EVP_MD_CTX *ctx;
	unsigned int n;
	int rc = 0;

	if (piece_len == 0)
		return THR_EINVAL;
	if ((md = EVP_MD_fetch(NULL, "SHA1", NULL)) == NULL)
		return THR_ENOMEM;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		EVP_MD_free(md);
		return THR_ENOMEM;
	}
	for (size_t off = 0; off < len; off += piece_len) {
		size_t l = len - off < piece_len ? len - off : piece_len;

		if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
		    EVP_DigestUpdate(ctx, b + off, l) != 1 ||
		    EVP_DigestFinal_ex(ctx, out, &n) != 1 ||
		    n != HASH_SHA1_LEN) {
			rc = THR_ENOMEM;
			break;
		}
		out += HASH_SHA1_LEN;
	}
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return rc;
}

int
hash_init(struct hash_ctx *h)
{
	EVP_MD_CTX *ctx;

	h->evp = NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return THR_ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return THR_ENOMEM;
	}
	h->evp = ctx;
	return 0;
}

int
hash_update(struct hash_ctx *h, const void *p, size_t len)
{
	if (h->evp == NULL)
		return THR_EINVAL;
	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(h->evp, p, len) != 1)
		return THR_ENOMEM;
	return 0;
}

int
hash_final(struct hash_ctx *h, uint8_t out[HASH_SHA1_LEN])
{
	unsigned int n = 0;
	int rc = 0;

	if (h->evp == NULL)
		return THR_EINVAL;
	if (EVP_DigestFinal_ex(h->evp, out, &n) != 1 || n != HASH_SHA1_LEN)
		rc = THR_ENOMEM;
	hash_abort(h);
	return rc;
}

void
hash_abort(struct hash_ctx *h)
{
	if (h->evp != NULL)
		EVP_MD_CTX_free(h->evp);
	h->evp = NULL;
}

void
hash_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}
