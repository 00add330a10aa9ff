/*
 * test_wire.c: peer wire framing.  Every encoder is checked by parsing
 * its output back, every message at every split point, and each length
 * rule with a hostile prefix.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/wire.h"

#define NPIECES	100u	/* 13-byte bitfield, 4 spare bits */

/* Parse the single message in b and check it takes exactly all of b. */
static void
parse_one(const struct buf *b, uint32_t npieces, struct wire_msg *m)
{
	size_t used = 0;
	int rc;

	rc = wire_parse(b->data, b->len, npieces, m, &used);
	cr_assert_eq(rc, 1, "rc %d", rc);
	cr_assert_eq(used, b->len);
}

/* Every strict prefix of a valid message must ask for more bytes. */
static void
check_splits(const struct buf *b, uint32_t npieces)
{
	struct wire_msg m;
	size_t used, i;

	for (i = 0; i < b->len; i++) {
		used = 12345;
		cr_assert_eq(wire_parse(b->data, i, npieces, &m, &used), 0,
		    "split at %zu of %zu", i, b->len);
		cr_assert_eq(used, 12345);
	}
}

static int
parse_raw(const uint8_t *p, size_t n, uint32_t npieces)
{
	struct wire_msg m;
	size_t used;

	return wire_parse(p, n, npieces, &m, &used);
}

Test(wire, keepalive)
{
	struct buf b;
	struct wire_msg m;

	buf_init(&b, 1024);
	cr_assert_eq(wire_put_keepalive(&b), 0);
	cr_assert_eq(b.len, 4);
	parse_one(&b, NPIECES, &m);
	cr_assert(m.keepalive);
	check_splits(&b, NPIECES);
	buf_release(&b);
}

Test(wire, simple_messages_round_trip)
{
	static const enum wire_id ids[] = { WIRE_CHOKE, WIRE_UNCHOKE,
	    WIRE_INTERESTED, WIRE_NOT_INTERESTED, WIRE_HAVE_ALL,
	    WIRE_HAVE_NONE };
	struct buf b;
	struct wire_msg m;
	size_t i;

	for (i = 0; i < sizeof ids / sizeof *ids; i++) {
		buf_init(&b, 1024);
		cr_assert_eq(wire_put_simple(&b, ids[i]), 0);
		cr_assert_eq(b.len, 5);
		parse_one(&b, NPIECES, &m);
		cr_assert_not(m.keepalive);
		cr_assert_eq(m.id, ids[i]);
		check_splits(&b, NPIECES);
		buf_release(&b);
	}
}

Test(wire, have_round_trip)
{
	struct buf b;
	struct wire_msg m;

	buf_init(&b, 1024);
	cr_assert_eq(wire_put_have(&b, 0xdeadbeef), 0);
	cr_assert_eq(b.len, 9);
	parse_one(&b, NPIECES, &m);
	cr_assert_eq(m.id, WIRE_HAVE);
	cr_assert_eq(m.index, 0xdeadbeef);
	check_splits(&b, NPIECES);
	buf_release(&b);
}

Test(wire, bitfield_round_trip)
{
	uint8_t bits[13];
	struct buf b;
	struct wire_msg m;

	memset(bits, 0xa5, sizeof bits);
	bits[12] = 0xf0;	/* 100 pieces: low 4 bits are spare */
	buf_init(&b, 1024);
	cr_assert_eq(wire_put_bitfield(&b, bits, sizeof bits), 0);
	cr_assert_eq(b.len, 4 + 1 + 13);
	parse_one(&b, NPIECES, &m);
	cr_assert_eq(m.id, WIRE_BITFIELD);
	cr_assert_eq(m.payload_len, 13);
	cr_assert_eq(m.payload, b.data + 5);
	cr_assert_arr_eq(m.payload, bits, 13);
	check_splits(&b, NPIECES);
	buf_release(&b);
}

Test(wire, bitfield_wrong_length)
{
	uint8_t bits[14] = { 0 };
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(wire_put_bitfield(&b, bits, 14), 0);
	cr_assert_eq(parse_raw(b.data, b.len, NPIECES), THR_EPROTO);
	/* Rejected as soon as the id byte arrives. */
	cr_assert_eq(parse_raw(b.data, 5, NPIECES), THR_EPROTO);
	buf_reset(&b);
	cr_assert_eq(wire_put_bitfield(&b, bits, 12), 0);
	cr_assert_eq(parse_raw(b.data, b.len, NPIECES), THR_EPROTO);
	buf_release(&b);
}

Test(wire, bitfield_spare_bits_set)
{
	uint8_t bits[13] = { 0 };
	struct buf b;

	bits[12] = 0x08;	/* bit of piece 100, which does not exist */
	buf_init(&b, 1024);
	cr_assert_eq(wire_put_bitfield(&b, bits, 13), 0);
	cr_assert_eq(parse_raw(b.data, b.len, NPIECES), THR_EPROTO);
	buf_release(&b);
}

Test(wire, bitfield_exact_multiple_of_eight)
{
	uint8_t bits[2] = { 0xff, 0xff };
	struct buf b;
	struct wire_msg m;

	buf_init(&b, 1024);
	cr_assert_eq(wire_put_bitfield(&b, bits, 2), 0);
	parse_one(&b, 16, &m);
	cr_assert_eq(m.payload_len, 2);
	buf_release(&b);
}

Test(wire, request_cancel_reject_round_trip)
{
	static const enum wire_id ids[] = { WIRE_REQUEST, WIRE_CANCEL,
	    WIRE_REJECT };
	struct buf b;
	struct wire_msg m;
	size_t i;

	for (i = 0; i < 3; i++) {
		buf_init(&b, 1024);
		cr_assert_eq(wire_put_request(&b, ids[i], 7, 16384,
		    WIRE_BLOCK), 0);
		cr_assert_eq(b.len, 17);
		parse_one(&b, NPIECES, &m);
		cr_assert_eq(m.id, ids[i]);
		cr_assert_eq(m.index, 7);
		cr_assert_eq(m.begin, 16384);
		cr_assert_eq(m.length, WIRE_BLOCK);
		check_splits(&b, NPIECES);
		buf_release(&b);
	}
}

Test(wire, request_length_zero)
{
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(wire_put_request(&b, WIRE_REQUEST, 1, 0, 0), 0);
	cr_assert_eq(parse_raw(b.data, b.len, NPIECES), THR_EPROTO);
	buf_release(&b);
}

Test(wire, request_length_too_big)
{
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(wire_put_request(&b, WIRE_CANCEL, 1, 0,
	    WIRE_MAX_BLOCK + 1), 0);
	cr_assert_eq(parse_raw(b.data, b.len, NPIECES), THR_EPROTO);
	buf_reset(&b);
	cr_assert_eq(wire_put_request(&b, WIRE_REJECT, 1, 0,
	    WIRE_MAX_BLOCK), 0);
	cr_assert_eq(parse_raw(b.data, b.len, NPIECES), 1);
	buf_release(&b);
}

Test(wire, request_wrong_prefix)
{
	/* A request claiming 14 bytes. */
	static const uint8_t m[] = { 0, 0, 0, 14, 6 };

	cr_assert_eq(parse_raw(m, sizeof m, NPIECES), THR_EPROTO);
}

Test(wire, piece_round_trip)
{
	uint8_t data[300];
	struct buf b;
	struct wire_msg m;
	size_t i;

	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;
	buf_init(&b, 4096);
	cr_assert_eq(wire_put_piece_header(&b, 3, 32768, sizeof data), 0);
	cr_assert_eq(b.len, 13);
	cr_assert_eq(buf_append(&b, data, sizeof data), 0);
	parse_one(&b, NPIECES, &m);
	cr_assert_eq(m.id, WIRE_PIECE);
	cr_assert_eq(m.index, 3);
	cr_assert_eq(m.begin, 32768);
	cr_assert_eq(m.payload_len, sizeof data);
	cr_assert_arr_eq(m.payload, data, sizeof data);
	check_splits(&b, NPIECES);
	buf_release(&b);
}

Test(wire, piece_oversized)
{
	struct buf b;

	buf_init(&b, 64);
	cr_assert_eq(wire_put_piece_header(&b, 0, 0, WIRE_MAX_BLOCK + 1), 0);
	/* Only the header is here; the length alone condemns it. */
	cr_assert_eq(parse_raw(b.data, b.len, NPIECES), THR_EPROTO);
	cr_assert_eq(parse_raw(b.data, 5, NPIECES), THR_EPROTO);
	buf_release(&b);
}

Test(wire, piece_largest_allowed_waits)
{
	struct buf b;

	buf_init(&b, 64);
	cr_assert_eq(wire_put_piece_header(&b, 0, 0, WIRE_MAX_BLOCK), 0);
	cr_assert_eq(parse_raw(b.data, b.len, NPIECES), 0);
	buf_release(&b);
}

Test(wire, piece_without_data)
{
	struct buf b;

	buf_init(&b, 64);
	cr_assert_eq(wire_put_piece_header(&b, 0, 0, 0), 0);
	cr_assert_eq(parse_raw(b.data, b.len, NPIECES), THR_EPROTO);
	buf_release(&b);
}

Test(wire, huge_prefix_rejected_with_four_bytes)
{
	static const uint8_t m[] = { 0x80, 0, 0, 0 };

	cr_assert_eq(parse_raw(m, sizeof m, NPIECES), THR_EPROTO);
}

Test(wire, just_over_max_msg_rejected_with_four_bytes)
{
	uint8_t m[4];
	uint32_t l = WIRE_MAX_MSG + 1;

	m[0] = (uint8_t)(l >> 24);
	m[1] = (uint8_t)(l >> 16);
	m[2] = (uint8_t)(l >> 8);
	m[3] = (uint8_t)l;
	cr_assert_eq(parse_raw(m, sizeof m, NPIECES), THR_EPROTO);
	/* WIRE_MAX_MSG itself must wait for the id byte. */
	m[3] = (uint8_t)(l - 1);
	m[2] = (uint8_t)((l - 1) >> 8);
	m[1] = (uint8_t)((l - 1) >> 16);
	m[0] = (uint8_t)((l - 1) >> 24);
	cr_assert_eq(parse_raw(m, sizeof m, NPIECES), 0);
}

Test(wire, fixed_lengths_enforced)
{
	static const uint8_t choke2[] = { 0, 0, 0, 2, 0, 0 };
	static const uint8_t have4[] = { 0, 0, 0, 4, 4 };
	static const uint8_t port5[] = { 0, 0, 0, 5, 9 };
	static const uint8_t allowed6[] = { 0, 0, 0, 6, 17 };
	static const uint8_t haveall2[] = { 0, 0, 0, 2, 14 };

	cr_assert_eq(parse_raw(choke2, sizeof choke2, NPIECES), THR_EPROTO);
	cr_assert_eq(parse_raw(have4, sizeof have4, NPIECES), THR_EPROTO);
	cr_assert_eq(parse_raw(port5, sizeof port5, NPIECES), THR_EPROTO);
	cr_assert_eq(parse_raw(allowed6, sizeof allowed6, NPIECES),
	    THR_EPROTO);
	cr_assert_eq(parse_raw(haveall2, sizeof haveall2, NPIECES),
	    THR_EPROTO);
}

Test(wire, port_message)
{
	static const uint8_t m[] = { 0, 0, 0, 3, 9, 0x1a, 0xe1 };
	struct wire_msg w;
	size_t used;

	cr_assert_eq(wire_parse(m, sizeof m, NPIECES, &w, &used), 1);
	cr_assert_eq(used, sizeof m);
	cr_assert_eq(w.id, WIRE_PORT);
	cr_assert_eq(w.port, 6881);
}

Test(wire, suggest_and_allowed_fast)
{
	static const uint8_t m[] = { 0, 0, 0, 5, 13, 0, 0, 1, 0,
	    0, 0, 0, 5, 17, 0, 0, 0, 9 };
	struct wire_msg w;
	size_t used;

	cr_assert_eq(wire_parse(m, sizeof m, NPIECES, &w, &used), 1);
	cr_assert_eq(used, 9);
	cr_assert_eq(w.id, WIRE_SUGGEST);
	cr_assert_eq(w.index, 256);
	cr_assert_eq(wire_parse(m + used, sizeof m - used, NPIECES, &w,
	    &used), 1);
	cr_assert_eq(w.id, WIRE_ALLOWED_FAST);
	cr_assert_eq(w.index, 9);
}

Test(wire, extended_message)
{
	static const uint8_t m[] = { 0, 0, 0, 5, 20, 0, 'd', 'e', 'x' };
	struct wire_msg w;
	size_t used;

	cr_assert_eq(wire_parse(m, sizeof m, NPIECES, &w, &used), 1);
	cr_assert_eq(w.id, WIRE_EXTENDED);
	cr_assert_eq(w.payload, m + 5);
	cr_assert_eq(w.payload_len, 4);
}

Test(wire, unknown_id_passed_through)
{
	static const uint8_t m[] = { 0, 0, 0, 3, 99, 'a', 'b' };
	struct wire_msg w;
	size_t used;

	cr_assert_eq(wire_parse(m, sizeof m, NPIECES, &w, &used), 1);
	cr_assert_eq(w.id, 99);
	cr_assert_eq(w.payload_len, 2);
}

Test(wire, two_messages_back_to_back)
{
	struct buf b;
	struct wire_msg m;
	size_t used;

	buf_init(&b, 1024);
	cr_assert_eq(wire_put_have(&b, 1), 0);
	cr_assert_eq(wire_put_simple(&b, WIRE_UNCHOKE), 0);
	cr_assert_eq(wire_parse(b.data, b.len, NPIECES, &m, &used), 1);
	cr_assert_eq(m.id, WIRE_HAVE);
	cr_assert_eq(used, 9);
	cr_assert_eq(wire_parse(b.data + used, b.len - used, NPIECES, &m,
	    &used), 1);
	cr_assert_eq(m.id, WIRE_UNCHOKE);
	buf_release(&b);
}

Test(wire, encoder_respects_buf_limit)
{
	uint8_t bits[32] = { 0 };
	struct buf b;

	buf_init(&b, 20);
	cr_assert_eq(wire_put_bitfield(&b, bits, sizeof bits), THR_ELIMIT);
	cr_assert_eq(b.len, 0);
	buf_release(&b);
}

Test(wire, handshake_good)
{
	uint8_t hs[WIRE_HANDSHAKE_LEN], ih[20], pid[20], res[8];
	uint8_t oih[20], opid[20], ores[8];

	memset(ih, 0x11, sizeof ih);
	memset(pid, 0x22, sizeof pid);
	memset(res, 0, sizeof res);
	res[5] = 0x10;	/* BEP 10 */
	wire_handshake_build(hs, ih, pid, res);
	cr_assert_eq(hs[0], 19);
	cr_assert_arr_eq(hs + 1, "BitTorrent protocol", 19);
	cr_assert_eq(wire_handshake_parse(hs, oih, opid, ores), 0);
	cr_assert_arr_eq(oih, ih, 20);
	cr_assert_arr_eq(opid, pid, 20);
	cr_assert_arr_eq(ores, res, 8);
	cr_assert_eq(wire_handshake_parse(hs, NULL, NULL, NULL), 0);
}

Test(wire, handshake_null_reserved_is_zero)
{
	uint8_t hs[WIRE_HANDSHAKE_LEN], ih[20] = { 1 }, pid[20] = { 2 };
	uint8_t res[8], zero[8] = { 0 };

	memset(hs, 0xff, sizeof hs);
	wire_handshake_build(hs, ih, pid, NULL);
	cr_assert_eq(wire_handshake_parse(hs, NULL, NULL, res), 0);
	cr_assert_arr_eq(res, zero, 8);
}

Test(wire, handshake_bad)
{
	uint8_t hs[WIRE_HANDSHAKE_LEN], ih[20] = { 0 }, pid[20] = { 0 };

	wire_handshake_build(hs, ih, pid, NULL);
	hs[0] = 18;
	cr_assert_eq(wire_handshake_parse(hs, NULL, NULL, NULL), THR_EPROTO);
	wire_handshake_build(hs, ih, pid, NULL);
	hs[5] = 't';
	cr_assert_eq(wire_handshake_parse(hs, NULL, NULL, NULL), THR_EPROTO);
}

Test(wire, bitfield_unknown_piece_count)
{
	/* npieces 0: a magnet download before its metadata arrived. */
	static const uint8_t m[] = { 0, 0, 0, 4, 5, 0xff, 0xff, 0xff };
	static const uint8_t huge[] = { 0, 0x10, 0, 1, 5 };
	struct wire_msg w;
	size_t used;

	cr_assert_eq(wire_parse(m, sizeof m, 0, &w, &used), 1);
	cr_assert_eq(w.payload_len, 3);
	cr_assert_eq(parse_raw(huge, sizeof huge, 0), THR_EPROTO);
}

Test(wire, bitfield_larger_than_max_msg)
{
	/* 2^24 pieces need a 2 MiB + 1 bitfield message: not refused on the
	 * prefix even though it exceeds WIRE_MAX_MSG. */
	const uint32_t npieces = 1u << 24;
	static const uint8_t m[] = { 0, 0x20, 0, 1, 5 };

	cr_assert_eq(parse_raw(m, 4, npieces), 0);
	cr_assert_eq(parse_raw(m, sizeof m, npieces), 0);
	cr_assert_eq(parse_raw(m, 4, NPIECES), THR_EPROTO);
}
