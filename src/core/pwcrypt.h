/*
 * pwcrypt.h: Message Stream Encryption (mse.h) as a byte-stream filter
 * below the wire protocol of one peer: it runs the MSE handshake on the
 * first bytes of a connection, then decrypts what arrives and encrypts
 * what leaves when the peer and we settled on RC4, so that pwp.c parses
 * and builds plaintext only.
 *
 * Policy (--encryption): require offers RC4 only, prefer and full RC4 or
 * plaintext; as the receiver, prefer selects plaintext and full RC4 when
 * both are offered (an initiator only offers, the receiver selects).
 * The DH private key comes from the session's secret source, the padding
 * from its MSE random stream.
 */
#ifndef THR_PWCRYPT_H
#define THR_PWCRYPT_H

#include <stdbool.h>

#include "peer.h"

struct torrent;

enum pwcrypt_status {
	PWCRYPT_MORE,		/* waiting for bytes (or p was killed) */
	PWCRYPT_PLAIN,		/* p->in holds BitTorrent bytes to parse */
	PWCRYPT_DONE,		/* the MSE handshake just finished: as the
				 * initiator, send our BitTorrent handshake
				 * now; p->in holds what follows */
};

/* Start an outgoing connection's MSE handshake (its first bytes go to
 * p->out).  False when encryption is unavailable (p is not killed). */
bool	pwcrypt_start(struct torrent *t, struct peer *p);
/*
 * New bytes in p->in (from p->in_dec on): the MSE handshake while it
 * runs (detecting it first on an incoming connection), decryption after.
 */
enum pwcrypt_status	pwcrypt_input(struct torrent *t, struct peer *p);
/* p->out is about to be written: encrypt what is new in it. */
void	pwcrypt_outgoing(struct peer *p);
/* n bytes of p->out were written. */
void	pwcrypt_sent(struct peer *p, size_t n);

#endif
