/*
 * fuzz_wire.c: libFuzzer target for the peer wire protocol parser.
 *
 * The first two bytes choose the torrent's piece count (which bounds
 * bitfield lengths); the rest is a stream of messages parsed one after
 * another with wire_parse, as the session does on p->in.  Each parsed
 * message must consume at least its 4-byte length prefix, never more
 * than is there, and borrow its payload from inside the message.  The
 * stream is also cut at a fuzz-chosen point to check that a prefix of a
 * message asks for more bytes instead of parsing garbage.  Every 68-byte
 * window at the start also goes through wire_handshake_parse, and a
 * handshake built from its fields must parse back to the same fields.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/wire.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_wire: broken invariant: %s\n", what);
	abort();
}

static void
check_msg(const struct wire_msg *m, const uint8_t *buf, size_t used)
{
	if (used < 4)
		fail("message shorter than its length prefix");
	if (m->keepalive) {
		if (used != 4)
			fail("keep-alive longer than 4 bytes");
		return;
	}
	if (m->payload_len > 0 && (m->payload == NULL ||
	    m->payload < buf + 5 || m->payload + m->payload_len > buf + used))
		fail("payload outside its message");
	if (m->id == WIRE_PIECE && m->payload_len > WIRE_MAX_BLOCK)
		fail("piece block larger than WIRE_MAX_BLOCK");
}

/* Parse buf[0..len) as a stream; returns the bytes consumed. */
static size_t
parse_stream(const uint8_t *buf, size_t len, uint32_t npieces)
{
	struct wire_msg m;
	size_t off = 0, used;
	int rc;

	while (off < len) {
		memset(&m, 0, sizeof(m));
		used = 0;
		rc = wire_parse(buf + off, len - off, npieces, &m, &used);
		if (rc < 0)
			break;
		if (rc == 0) {
			if (len - off >= 4 + WIRE_MAX_MSG + 64)
				fail("needs more bytes past every cap");
			break;
		}
		if (rc != 1 || used == 0 || used > len - off)
			fail("bad consumed length");
		check_msg(&m, buf + off, used);
		off += used;
	}
	return off;
}

static void
check_handshake(const uint8_t *data)
{
	uint8_t ih[20], pid[20], res[8], hs[WIRE_HANDSHAKE_LEN];
	uint8_t ih2[20], pid2[20], res2[8];

	if (wire_handshake_parse(data, ih, pid, res) != 0) {
		(void)wire_handshake_parse(data, NULL, NULL, NULL);
		return;
	}
	if (data[0] != strlen(WIRE_PROTOCOL) ||
	    memcmp(data + 1, WIRE_PROTOCOL, strlen(WIRE_PROTOCOL)) != 0)
		fail("accepted a handshake with a wrong protocol string");
	wire_handshake_build(hs, ih, pid, res);
	if (memcmp(hs, data, WIRE_HANDSHAKE_LEN) != 0)
		fail("handshake does not rebuild to the same bytes");
	if (wire_handshake_parse(hs, ih2, pid2, res2) != 0 ||
	    memcmp(ih, ih2, 20) != 0 || memcmp(pid, pid2, 20) != 0 ||
	    memcmp(res, res2, 8) != 0)
		fail("handshake does not parse back");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t npieces;
	size_t whole, cut;
	uint8_t *copy;

	if (size < 2)
		return 0;
	npieces = (uint32_t)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	if (size >= WIRE_HANDSHAKE_LEN)
		check_handshake(data);

	whole = parse_stream(data, size, npieces);

	/* A prefix of the stream: an exact-size copy so that ASan catches
	 * any read past the cut.  It must parse no further than the whole. */
	if (size > 0) {
		cut = (size_t)data[size - 1] * 7 % size;
		if ((copy = malloc(cut > 0 ? cut : 1)) == NULL)
			return 0;
		memcpy(copy, data, cut);
		if (parse_stream(copy, cut, npieces) > whole)
			fail("a prefix parsed further than the whole stream");
		free(copy);
	}
	return 0;
}
