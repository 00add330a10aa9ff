/*
 * fuzz_mse.c: libFuzzer target for the MSE handshake engine.
 *
 * Input layout: byte 0 picks the role (bit 0: 0 receiver, 1 initiator)
 * and the allowed methods (bits 1-2: 0 or 3 both, 1 plaintext, 2 RC4);
 * byte 1 is the chunk size the rest is fed in (0: all at once); the
 * rest is what the peer sends.  The receiver knows two info-hashes.  The
 * engines use fixed DH private keys (FUZZ_PRIV_A for the initiator,
 * FUZZ_PRIV_B for the receiver) so that the seed corpus, recorded from
 * real exchanges between such engines, gets past the DH and the hash
 * checks and the fuzzer can reach the encrypted fields.
 *
 * Invariants checked: consumed never exceeds what was fed, a finished
 * engine selected exactly one allowed method and holds at most
 * MSE_MAX_IA bytes of IA, what it sends stays within the handshake's
 * fixed size, and a failure carries an error code and stays failed.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mse.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Everything we may send: key, pad, req1, req2^req3, VC..IA. */
#define FUZZ_OUT_MAX	(MSE_KEY_LEN + MSE_MAX_PAD + 2 * MSE_HASH_LEN + \
			    MSE_VC_LEN + 4 + 2 + 2 + MSE_MAX_IA)

static const uint8_t fuzz_priv_a[20] = "fuzz-initiator-key-A";
static const uint8_t fuzz_priv_b[20] = "fuzz-receiver-key--B";
static const uint8_t fuzz_skeys[2][20] = {
	"info-hash-number-one", "info-hash-number-two",
};
static const uint8_t fuzz_ia[68] =
    "\023BitTorrent protocol\0\0\0\0\0\0\0\0info-hash-number-one"
    "-TH0001-fuzzfuzzfuzz";

/* OpenSSL's context, made once per process (a harness, not the core). */
static struct mse_lib fuzz_lib;

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_mse: broken invariant: %s\n", what);
	abort();
}

static void
fuzz_rnd(void *ctx, uint8_t *out, size_t n)
{
	uint32_t *s = ctx;

	while (n-- > 0) {
		*s = *s * 1103515245u + 12345u;
		*out++ = (uint8_t)(*s >> 16);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct thr_error err;

	(void)argc;
	(void)argv;
	if (mse_lib_init(&fuzz_lib, &err) != 0) {
		fprintf(stderr, "fuzz_mse: %s\n", err.msg);
		abort();
	}
	return 0;
}

static void
check_done(struct mse *m, unsigned allowed, const uint8_t *rest, size_t n)
{
	uint8_t tmp[64];
	const uint8_t *ia;
	size_t len;
	unsigned method = mse_method(m);

	if ((method != MSE_PLAIN && method != MSE_RC4) ||
	    (method & allowed) == 0)
		fail("finished without one allowed method");
	ia = mse_ia(m, &len);
	if (len > MSE_MAX_IA || (len > 0 && ia == NULL))
		fail("IA out of bounds");
	if (len > 0 && ia != NULL) {
		/* Touch every byte so ASan sees a bad borrow. */
		volatile uint8_t sum = 0;
		for (size_t i = 0; i < len; i++)
			sum ^= ia[i];
		(void)sum;
	}
	len = n < sizeof(tmp) ? n : sizeof(tmp);
	memcpy(tmp, rest, len);
	if (mse_decrypt(m, tmp, len) != 0 || mse_encrypt(m, tmp, len) != 0)
		fail("crypto refused after the handshake");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned allow[4] = {
		MSE_PLAIN | MSE_RC4, MSE_PLAIN, MSE_RC4, MSE_PLAIN | MSE_RC4,
	};
	struct mse_config cfg;
	struct thr_error err;
	struct buf out;
	struct mse *m;
	uint32_t seed = 1;
	size_t chunk, off, used, take;
	int rc = THR_EAGAIN;

	if (size < 2)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.initiator = data[0] & 1;
	cfg.allowed = allow[(data[0] >> 1) & 3];
	cfg.rnd = fuzz_rnd;
	cfg.rnd_ctx = &seed;
	if (cfg.initiator) {
		cfg.skeys = &fuzz_skeys[0];
		cfg.nskeys = 1;
		cfg.fixed_priv = fuzz_priv_a;
		if (data[0] & 8) {
			cfg.ia = fuzz_ia;
			cfg.ia_len = sizeof(fuzz_ia);
		}
	} else {
		cfg.skeys = fuzz_skeys;
		cfg.nskeys = 2;
		cfg.fixed_priv = fuzz_priv_b;
	}
	chunk = data[1];
	data += 2;
	size -= 2;
	buf_init(&out, FUZZ_OUT_MAX);
	memset(&err, 0, sizeof(err));
	if ((m = mse_new(&fuzz_lib, &cfg, &err)) == NULL)
		fail("mse_new failed on a good config");
	if (mse_start(m, &out) != 0)
		fail("mse_start failed");
	off = 0;
	do {
		take = chunk == 0 || chunk > size - off ? size - off : chunk;
		rc = mse_input(m, data + off, take, &used, &out, &err);
		if (used > take)
			fail("consumed more than fed");
		off += used;
		if (rc == THR_EAGAIN && used != take)
			fail("EAGAIN without consuming everything");
	} while (rc == THR_EAGAIN && off < size);
	if (rc == 0) {
		if (!mse_done(m))
			fail("0 but not done");
		check_done(m, cfg.allowed, data + off, size - off);
	} else if (rc != THR_EAGAIN) {
		if (err.code == 0 || mse_done(m))
			fail("failure without an error code");
		if (mse_input(m, data, size, &used, &out, &err) != rc ||
		    used != 0)
			fail("a failed engine came back");
	}
	mse_free(m);
	buf_release(&out);
	return 0;
}
