/*
 * wire.c: peer wire message framing (BEP 3, BEP 5 port, BEP 6 fast
 * extension, BEP 10 extended messages).
 *
 * A message is a 4-byte big-endian length, then (unless the length is
 * zero, a keep-alive) one id byte and length - 1 payload bytes.  The
 * parser works on whatever prefix of the stream the caller has buffered:
 * it judges the length prefix against the id as soon as those bytes are
 * present, so an absurd length is refused before its payload is waited
 * for, and it reports "need more" (0) otherwise.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "err.h"
#include "wire.h"

/* Bytes of the length prefix, and of prefix plus id. */
#define WIRE_PREFIX	4
#define WIRE_HEAD	5
/* Fixed message lengths (id byte included), BEP 3/5/6. */
#define WIRE_LEN_SIMPLE	1u
#define WIRE_LEN_HAVE	5u
#define WIRE_LEN_REQ	13u
#define WIRE_LEN_PORT	3u
#define WIRE_LEN_PIECE_HDR 9u

/*
 * The exact bitfield message length for npieces, or 0 when npieces is 0:
 * a torrent started from a magnet link does not know its piece count yet,
 * so the bitfield is then only bounded by WIRE_MAX_MSG and the caller
 * checks it once the metadata arrives.
 */
static uint32_t
wire_bitfield_len(uint32_t npieces)
{
	if (npieces == 0)
		return 0;
	return 1 + npieces / 8 + (npieces % 8 != 0);
}

/* The largest length any message may announce, checked when only the
 * 4-byte prefix has arrived. */
static uint32_t
wire_max_len(uint32_t npieces)
{
	uint32_t max = WIRE_MAX_MSG, bf;

	if (WIRE_LEN_PIECE_HDR + WIRE_MAX_BLOCK > max)
		max = WIRE_LEN_PIECE_HDR + WIRE_MAX_BLOCK;
	bf = wire_bitfield_len(npieces);
	if (bf > max)
		max = bf;
	return max;
}

/* Is length L acceptable for message id? */
static bool
wire_len_ok(uint8_t id, uint32_t l, uint32_t npieces)
{
	uint32_t bf;

	switch (id) {
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		return l == WIRE_LEN_SIMPLE;
	case WIRE_HAVE:
	case WIRE_SUGGEST:
	case WIRE_ALLOWED_FAST:
		return l == WIRE_LEN_HAVE;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		return l == WIRE_LEN_REQ;
	case WIRE_PORT:
		return l == WIRE_LEN_PORT;
	case WIRE_BITFIELD:
		bf = wire_bitfield_len(npieces);
		if (bf == 0)
			return l >= 1 && l <= WIRE_MAX_MSG;
		return l == bf;
	case WIRE_PIECE:
		return l > WIRE_LEN_PIECE_HDR &&
		    l <= WIRE_LEN_PIECE_HDR + WIRE_MAX_BLOCK;
	default:
		/* Extended (BEP 10) and ids we do not know: skippable. */
		return l >= 1 && l <= WIRE_MAX_MSG;
	}
}

int
wire_parse(const uint8_t *buf, size_t len, uint32_t npieces,
    struct wire_msg *m, size_t *consumed)
{
	const uint8_t *p;
	uint32_t l, spare;
	uint8_t id;
	size_t total;

	memset(m, 0, sizeof *m);
	if (len < WIRE_PREFIX)
		return 0;
	l = be32(buf);
	if (l == 0) {
		m->keepalive = true;
		*consumed = WIRE_PREFIX;
		return 1;
	}
	if (l > wire_max_len(npieces))
		return THR_EPROTO;
	if (len < WIRE_HEAD)
		return 0;
	id = buf[WIRE_PREFIX];
	if (!wire_len_ok(id, l, npieces))
		return THR_EPROTO;
	total = (size_t)WIRE_PREFIX + l;
	if (len < total)
		return 0;

	p = buf + WIRE_HEAD;
	m->id = id;
	switch (id) {
	case WIRE_HAVE:
	case WIRE_SUGGEST:
	case WIRE_ALLOWED_FAST:
		m->index = be32(p);
		break;
	case WIRE_REQUEST:
	case WIRE_CANCEL:
	case WIRE_REJECT:
		m->index = be32(p);
		m->begin = be32(p + 4);
		m->length = be32(p + 8);
		/* A zero-length request is meaningless and a huge one is
		 * more than we ever serve or ask for. */
		if (m->length == 0 || m->length > WIRE_MAX_BLOCK)
			return THR_EPROTO;
		break;
	case WIRE_PORT:
		m->port = be16(p);
		break;
	case WIRE_PIECE:
		m->index = be32(p);
		m->begin = be32(p + 4);
		m->payload = p + 8;
		m->payload_len = l - WIRE_LEN_PIECE_HDR;
		break;
	case WIRE_BITFIELD:
		m->payload = p;
		m->payload_len = l - 1;
		/* BEP 3: spare bits at the end must be zero. */
		if (npieces != 0 && npieces % 8 != 0) {
			spare = 0xffu >> (npieces % 8);
			if (p[m->payload_len - 1] & spare)
				return THR_EPROTO;
		}
		break;
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
	case WIRE_HAVE_ALL:
	case WIRE_HAVE_NONE:
		break;
	default:
		m->payload = p;
		m->payload_len = l - 1;
		break;
	}
	*consumed = total;
	return 1;
}

void
wire_handshake_build(uint8_t out[WIRE_HANDSHAKE_LEN],
    const uint8_t info_hash[20], const uint8_t peer_id[20],
    const uint8_t reserved[8])
{
	out[0] = sizeof(WIRE_PROTOCOL) - 1;
	memcpy(out + 1, WIRE_PROTOCOL, sizeof(WIRE_PROTOCOL) - 1);
	if (reserved != NULL)
		memcpy(out + 20, reserved, 8);
	else
		memset(out + 20, 0, 8);
	memcpy(out + 28, info_hash, 20);
	memcpy(out + 48, peer_id, 20);
}

int
wire_handshake_parse(const uint8_t in[WIRE_HANDSHAKE_LEN],
    uint8_t info_hash[20], uint8_t peer_id[20], uint8_t reserved[8])
{
	if (in[0] != sizeof(WIRE_PROTOCOL) - 1 ||
	    memcmp(in + 1, WIRE_PROTOCOL, sizeof(WIRE_PROTOCOL) - 1) != 0)
		return THR_EPROTO;
	if (reserved != NULL)
		memcpy(reserved, in + 20, 8);
	if (info_hash != NULL)
		memcpy(info_hash, in + 28, 20);
	if (peer_id != NULL)
		memcpy(peer_id, in + 48, 20);
	return 0;
}

static void
wire_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
wire_put_keepalive(struct buf *out)
{
	return buf_put_u32be(out, 0);
}

int
wire_put_simple(struct buf *out, enum wire_id id)
{
	uint8_t m[WIRE_HEAD];

	wire_be32(m, WIRE_LEN_SIMPLE);
	m[4] = (uint8_t)id;
	return buf_append(out, m, sizeof m);
}

int
wire_put_have(struct buf *out, uint32_t index)
{
	return wire_put_index(out, WIRE_HAVE, index);
}

int
wire_put_index(struct buf *out, enum wire_id id, uint32_t index)
{
	uint8_t m[WIRE_PREFIX + WIRE_LEN_HAVE];

	wire_be32(m, WIRE_LEN_HAVE);
	m[4] = (uint8_t)id;
	wire_be32(m + 5, index);
	return buf_append(out, m, sizeof m);
}

int
wire_put_bitfield(struct buf *out, const uint8_t *bits, size_t n)
{
	uint8_t *p;

	/* The length prefix counts the id byte and must fit 32 bits. */
	if (n > (size_t)UINT32_MAX - WIRE_HEAD)
		return THR_ELIMIT;
	/* Reserve the whole message first so a failure appends nothing. */
	p = buf_reserve(out, WIRE_HEAD + n);
	if (p == NULL)
		return n + WIRE_HEAD > out->max - out->len ? THR_ELIMIT :
		    THR_ENOMEM;
	wire_be32(p, (uint32_t)(n + 1));
	p[4] = WIRE_BITFIELD;
	if (n > 0)
		memcpy(p + WIRE_HEAD, bits, n);
	buf_commit(out, WIRE_HEAD + n);
	return 0;
}

int
wire_put_request(struct buf *out, enum wire_id id, uint32_t index,
    uint32_t begin, uint32_t length)
{
	uint8_t m[WIRE_PREFIX + WIRE_LEN_REQ];

	wire_be32(m, WIRE_LEN_REQ);
	m[4] = (uint8_t)id;
	wire_be32(m + 5, index);
	wire_be32(m + 9, begin);
	wire_be32(m + 13, length);
	return buf_append(out, m, sizeof m);
}

int
wire_put_piece_header(struct buf *out, uint32_t index, uint32_t begin,
    uint32_t len)
{
	uint8_t m[WIRE_PREFIX + WIRE_LEN_PIECE_HDR];

	if (len > UINT32_MAX - WIRE_LEN_PIECE_HDR)
		return THR_ELIMIT;
	wire_be32(m, WIRE_LEN_PIECE_HDR + len);
	m[4] = WIRE_PIECE;
	wire_be32(m + 5, index);
	wire_be32(m + 9, begin);
	return buf_append(out, m, sizeof m);
}
