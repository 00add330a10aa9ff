/*
 * wire.h: framing of the peer wire protocol (BEP 3, ids from BEP 6/10),
 * without I/O.  wire_parse reads one message from the front of a byte
 * buffer; the wire_put_* functions append encoded messages to a struct buf.
 *
 * Every message's length prefix is checked against its id BEFORE the
 * payload is looked at (as Transmission's peer-msgs.c does): fixed-size
 * messages must have exactly their size, a bitfield exactly the size the
 * torrent implies, a piece at most WIRE_MAX_BLOCK of data, anything else
 * at most WIRE_MAX_MSG.  A length prefix above these is a protocol
 * violation reported at once, before its bytes arrive, so a peer that
 * announces 2^31 bytes is dropped without us buffering anything.
 */
#ifndef THR_WIRE_H
#define THR_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define WIRE_HANDSHAKE_LEN	68
#define WIRE_PROTOCOL		"BitTorrent protocol"
#define WIRE_BLOCK		16384u		/* the block size we request */
#define WIRE_MAX_BLOCK		131072u		/* largest request we serve */
#define WIRE_MAX_MSG		(1u << 20)	/* other messages (extended) */
#define WIRE_PIECE_HEADER	13u	/* a piece message's length, id,
					 * index and begin (BEP 3) */

enum wire_id {
	WIRE_CHOKE = 0,
	WIRE_UNCHOKE = 1,
	WIRE_INTERESTED = 2,
	WIRE_NOT_INTERESTED = 3,
	WIRE_HAVE = 4,
	WIRE_BITFIELD = 5,
	WIRE_REQUEST = 6,
	WIRE_PIECE = 7,
	WIRE_CANCEL = 8,
	WIRE_PORT = 9,		/* BEP 5 */
	WIRE_SUGGEST = 13,	/* BEP 6 */
	WIRE_HAVE_ALL = 14,
	WIRE_HAVE_NONE = 15,
	WIRE_REJECT = 16,
	WIRE_ALLOWED_FAST = 17,
	WIRE_EXTENDED = 20,	/* BEP 10 */
};

struct wire_msg {
	bool		 keepalive;	/* a zero-length message */
	uint8_t		 id;
	uint32_t	 index;		/* have, request, piece, cancel... */
	uint32_t	 begin;		/* request, piece, cancel, reject */
	uint32_t	 length;	/* request, cancel, reject */
	uint16_t	 port;		/* port */
	const uint8_t	*payload;	/* borrowed from the input buffer: */
	size_t		 payload_len;	/* bitfield bits, piece data, extended
					 * message (after its id byte) */
};

/*
 * Parse one message from buf[0..len).  npieces is the torrent's piece
 * count, used to bound bitfield lengths.
 * Returns 1 and sets *consumed when a whole message was parsed (m's
 * payload points into buf), 0 when more bytes are needed, or THR_EPROTO
 * when the length prefix or contents are invalid for the id.  Unknown ids
 * are returned as messages with their payload, up to WIRE_MAX_MSG.
 */
int	wire_parse(const uint8_t *buf, size_t len, uint32_t npieces,
	    struct wire_msg *m, size_t *consumed);

/* Build the 68-byte handshake. reserved may be NULL (all zero). */
void	wire_handshake_build(uint8_t out[WIRE_HANDSHAKE_LEN],
	    const uint8_t info_hash[20], const uint8_t peer_id[20],
	    const uint8_t reserved[8]);
/* Check a 68-byte handshake's protocol string and split it.
 * THR_EPROTO if the protocol string is wrong. Any out pointer may be NULL. */
int	wire_handshake_parse(const uint8_t in[WIRE_HANDSHAKE_LEN],
	    uint8_t info_hash[20], uint8_t peer_id[20], uint8_t reserved[8]);

/* Encoders; each returns 0 or the buf_append error. */
int	wire_put_keepalive(struct buf *out);
int	wire_put_simple(struct buf *out, enum wire_id id);	/* no payload */
int	wire_put_have(struct buf *out, uint32_t index);
/* have, suggest and allowed fast share one layout: id and a piece index */
int	wire_put_index(struct buf *out, enum wire_id id, uint32_t index);
int	wire_put_bitfield(struct buf *out, const uint8_t *bits, size_t n);
/* request, cancel and reject share one layout */
int	wire_put_request(struct buf *out, enum wire_id id, uint32_t index,
	    uint32_t begin, uint32_t length);
/* The 13-byte header of a piece message carrying len data bytes; the
 * caller appends the data itself. */
int	wire_put_piece_header(struct buf *out, uint32_t index, uint32_t begin,
	    uint32_t len);

#endif
