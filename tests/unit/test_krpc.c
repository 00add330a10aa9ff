/*
 * test_krpc.c: KRPC messages (BEP 5): the BEP's own examples, encode and
 * parse round trips of every message we send, and malformed input.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"
#include "core/krpc.h"

#define S(x)	((const uint8_t *)(x)), (sizeof(x) - 1)

static struct krpc_msg m, m2;

static int
parse(const uint8_t *p, size_t n)
{
	struct thr_error err;

	memset(&err, 0, sizeof(err));
	return krpc_parse(p, n, &m, &err);
}

/* Encode m, parse into m2 and return the encoded length. */
static size_t
round_trip(const struct krpc_msg *in)
{
	struct buf b;
	size_t n;

	buf_init(&b, KRPC_MAX_PACKET);
	cr_assert_eq(krpc_encode(&b, in), 0);
	cr_assert_eq(krpc_parse(b.data, b.len, &m2, NULL), 0,
	    "%.*s", (int)b.len, (const char *)b.data);
	n = b.len;
	buf_release(&b);
	return n;
}

Test(krpc, bep5_ping_query)
{
	cr_assert_eq(parse(S("d1:ad2:id20:abcdefghij0123456789e1:q4:ping"
	    "1:t2:aa1:y1:qe")), 0);
	cr_assert_eq(m.type, KRPC_QUERY);
	cr_assert_eq(m.method, KRPC_PING);
	cr_assert_eq(m.tidlen, 2);
	cr_assert(memcmp(m.tid, "aa", 2) == 0);
	cr_assert(m.has_id);
	cr_assert(memcmp(m.id, "abcdefghij0123456789", 20) == 0);
}

Test(krpc, bep5_examples)
{
	cr_assert_eq(parse(S("d1:ad2:id20:abcdefghij01234567896:target20:"
	    "mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe")), 0);
	cr_assert_eq(m.method, KRPC_FIND_NODE);
	cr_assert(m.has_target);
	cr_assert(memcmp(m.target, "mnopqrstuvwxyz123456", 20) == 0);

	cr_assert_eq(parse(S("d1:ad2:id20:abcdefghij01234567899:info_hash20:"
	    "mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe")), 0);
	cr_assert_eq(m.method, KRPC_GET_PEERS);
	cr_assert(m.has_info_hash);

	cr_assert_eq(parse(S("d1:ad2:id20:abcdefghij012345678912:"
	    "implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e"
	    "5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe")), 0);
	cr_assert_eq(m.method, KRPC_ANNOUNCE_PEER);
	cr_assert(m.implied_port);
	cr_assert(m.has_port);
	cr_assert_eq(m.port, 6881);
	cr_assert_eq(m.tokenlen, 8);
	cr_assert(memcmp(m.token, "aoeusnth", 8) == 0);

	cr_assert_eq(parse(S("d1:rd2:id20:abcdefghij01234567895:token8:"
	    "aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re")), 0);
	cr_assert_eq(m.type, KRPC_REPLY);
	cr_assert(m.has_values);
	cr_assert_eq(m.nvalues, 2);
	cr_assert_eq(m.values[0].family, 4);
	cr_assert(memcmp(m.values[0].ip, "axje", 4) == 0);
	cr_assert_eq(m.values[0].port, ('.' << 8) | 'u');

	cr_assert_eq(parse(S("d1:eli201e23:A Generic Error Ocurrede"
	    "1:t2:aa1:y1:ee")), 0);
	cr_assert_eq(m.type, KRPC_ERROR);
	cr_assert_eq(m.ecode, 201);
	cr_assert_eq(m.emsglen, 23);
}

Test(krpc, unknown_method_parses)
{
	cr_assert_eq(parse(S("d1:ad2:id20:abcdefghij0123456789e1:q4:vote"
	    "1:t1:x1:y1:qe")), 0);
	cr_assert_eq(m.method, KRPC_UNKNOWN);
	cr_assert_eq(m.tidlen, 1);
}

Test(krpc, missing_args_still_parse)
{
	/* The server needs the tid to answer 203. */
	cr_assert_eq(parse(S("d1:ade1:q9:get_peers1:t2:zz1:y1:qe")), 0);
	cr_assert(!m.has_id);
	cr_assert(!m.has_info_hash);
}

Test(krpc, malformed)
{
	static const char *bad[] = {
		"",
		"le",
		"i1e",
		"d1:t2:aa1:y1:qe",			/* no q */
		"d1:q4:ping1:t2:aa1:y1:qe",		/* no a */
		"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:y1:qe", /* no t */
		"d1:ade1:q4:ping1:t9:123456789" "1:y1:qe",	/* long t */
		"d1:ade1:q4:ping1:t2:aa1:y1:xe",	/* bad y */
		"d1:ade1:q4:ping1:t2:aa1:y2:qqe",
		"d1:t2:aa1:y1:re",			/* no r */
		"d1:rle1:t2:aa1:y1:re",			/* r not a dict */
		"d1:eli201ee1:t2:aa1:y1:ee",		/* e without text */
		"d1:el3:abci201ee1:t2:aa1:y1:ee",	/* e reversed */
		"d1:t2:aa1:y1:ee",
		"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q",
		"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qee",
		"d1:t2:aai1e1:y1:qe",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct thr_error err;

		memset(&err, 0, sizeof(err));
		cr_assert_neq(krpc_parse((const uint8_t *)bad[i],
		    strlen(bad[i]), &m, &err), 0, "accepted %s", bad[i]);
		cr_assert_neq(err.code, 0);
	}
}

Test(krpc, too_long_packet)
{
	static uint8_t big[KRPC_MAX_PACKET + 1];

	memset(big, 'x', sizeof(big));
	cr_assert_eq(parse(big, sizeof(big)), THR_ELIMIT);
}

Test(krpc, odd_fields_are_dropped)
{
	/* A 19-byte id, a port of 0, a too-long token, a 5-byte value and
	 * a nodes string with a partial entry. */
	cr_assert_eq(parse(S("d1:rd2:id19:abcdefghij0123456785:nodes30:"
	    "ABCDEFGHIJKLMNOPQRST\x7f\x00\x00\x01\x1a\xe1xyzu"
	    "4:porti0e5:token65:"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "6:valuesl5:abcde6:\x01\x02\x03\x04\x00\x00"
	    "6:\x01\x02\x03\x04\x00\x01" "ee1:t0:1:y1:re")), 0);
	cr_assert(!m.has_id);
	cr_assert(!m.has_port);
	cr_assert(!m.has_token);
	cr_assert_eq(m.nnodes, 1);
	cr_assert_eq(m.nodes[0].addr.family, 4);
	cr_assert_eq(m.nodes[0].addr.port, 6881);
	cr_assert_eq(m.nvalues, 1);
	cr_assert_eq(m.values[0].port, 1);
	cr_assert_eq(m.tidlen, 0);
}

Test(krpc, values_and_nodes_capped)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 16);
	buf_puts(&b, "d1:rd2:id20:abcdefghij01234567895:nodes");
	buf_printf(&b, "%d:", 40 * KRPC_NODE4_LEN);
	for (i = 0; i < 40; i++)
		buf_append(&b, "ABCDEFGHIJKLMNOPQRST\x01\x02\x03\x04\x00\x05",
		    KRPC_NODE4_LEN);
	buf_puts(&b, "6:valuesl");
	for (i = 0; i < 150; i++)
		buf_append(&b, "6:\x01\x02\x03\x04\x00\x05", 8);
	buf_puts(&b, "ee1:t1:a1:y1:re");
	cr_assert_eq(parse(b.data, b.len), THR_ELIMIT); /* > 2048 bytes */
	cr_assert_gt(b.len, KRPC_MAX_PACKET);
	buf_release(&b);

	buf_init(&b, KRPC_MAX_PACKET);
	buf_puts(&b, "d1:rd2:id20:abcdefghij01234567895:nodes");
	buf_printf(&b, "%d:", 40 * KRPC_NODE4_LEN);
	for (i = 0; i < 40; i++)
		buf_append(&b, "ABCDEFGHIJKLMNOPQRST\x01\x02\x03\x04\x00\x05",
		    KRPC_NODE4_LEN);
	buf_puts(&b, "e1:t1:a1:y1:re");
	cr_assert_eq(parse(b.data, b.len), 0);
	cr_assert_eq(m.nnodes, KRPC_MAX_NODES);
	buf_release(&b);

	buf_init(&b, KRPC_MAX_PACKET);
	buf_puts(&b, "d1:rd2:id20:abcdefghij01234567896:valuesl");
	for (i = 0; i < 150; i++)
		buf_append(&b, "6:\x01\x02\x03\x04\x00\x05", 8);
	buf_puts(&b, "ee1:t1:a1:y1:re");
	cr_assert_eq(parse(b.data, b.len), 0);
	cr_assert_eq(m.nvalues, KRPC_MAX_VALUES);
	buf_release(&b);
}

Test(krpc, ipv6_nodes_and_values)
{
	struct krpc_msg in;

	memset(&in, 0, sizeof(in));
	in.type = KRPC_REPLY;
	in.tidlen = 4;
	memcpy(in.tid, "\x00\x01\x02\x03", 4);
	in.has_id = true;
	memset(in.id, 0x11, 20);
	in.nnodes = 2;
	memset(in.nodes[0].id, 0x22, 20);
	in.nodes[0].addr.family = 4;
	in.nodes[0].addr.ip[0] = 10;
	in.nodes[0].addr.port = 1;
	memset(in.nodes[1].id, 0x33, 20);
	in.nodes[1].addr.family = 6;
	in.nodes[1].addr.ip[15] = 1;
	in.nodes[1].addr.port = 65535;
	in.nvalues = 2;
	in.has_values = true;
	in.values[0].family = 6;
	in.values[0].ip[0] = 0x20;
	in.values[0].port = 80;
	in.values[1].family = 4;
	in.values[1].ip[3] = 9;
	in.values[1].port = 6881;
	round_trip(&in);
	cr_assert_eq(m2.nnodes, 2);
	cr_assert_eq(m2.nodes[0].addr.family, 4);
	cr_assert_eq(m2.nodes[1].addr.family, 6);
	cr_assert(addr_equal(&m2.nodes[1].addr, &in.nodes[1].addr));
	cr_assert(memcmp(m2.nodes[1].id, in.nodes[1].id, 20) == 0);
	cr_assert_eq(m2.nvalues, 2);
	cr_assert(addr_equal(&m2.values[0], &in.values[0]));
	cr_assert(addr_equal(&m2.values[1], &in.values[1]));
}

Test(krpc, round_trip_queries)
{
	static const enum krpc_method ms[] = { KRPC_PING, KRPC_FIND_NODE,
	    KRPC_GET_PEERS, KRPC_ANNOUNCE_PEER };
	struct krpc_msg in;

	for (size_t i = 0; i < 4; i++) {
		memset(&in, 0, sizeof(in));
		in.type = KRPC_QUERY;
		in.method = ms[i];
		in.tidlen = KRPC_TID_MAX;
		memset(in.tid, 'T', KRPC_TID_MAX);
		in.has_id = true;
		memset(in.id, 'i', 20);
		in.has_target = ms[i] == KRPC_FIND_NODE;
		memset(in.target, 't', 20);
		in.has_info_hash = ms[i] >= KRPC_GET_PEERS;
		memset(in.info_hash, 'h', 20);
		if (ms[i] == KRPC_ANNOUNCE_PEER) {
			in.has_port = true;
			in.port = 51413;
			in.implied_port = true;
			in.has_token = true;
			in.tokenlen = KRPC_TOKEN_MAX;
			memset(in.token, 'k', KRPC_TOKEN_MAX);
		}
		round_trip(&in);
		cr_assert_eq(m2.type, KRPC_QUERY);
		cr_assert_eq(m2.method, ms[i]);
		cr_assert_eq(m2.tidlen, KRPC_TID_MAX);
		cr_assert(memcmp(m2.id, in.id, 20) == 0);
		cr_assert_eq(m2.has_target, in.has_target);
		cr_assert_eq(m2.has_info_hash, in.has_info_hash);
		cr_assert_eq(m2.has_port, in.has_port);
		cr_assert_eq(m2.port, in.port);
		cr_assert_eq(m2.implied_port, in.implied_port);
		cr_assert_eq(m2.tokenlen, in.tokenlen);
		cr_assert(memcmp(m2.token, in.token, in.tokenlen) == 0);
		if (in.has_target)
			cr_assert(memcmp(m2.target, in.target, 20) == 0);
		if (in.has_info_hash)
			cr_assert(memcmp(m2.info_hash, in.info_hash, 20) == 0);
	}
}

Test(krpc, round_trip_error)
{
	struct krpc_msg in;

	memset(&in, 0, sizeof(in));
	in.type = KRPC_ERROR;
	in.tidlen = 2;
	memcpy(in.tid, "ab", 2);
	in.ecode = KRPC_ERR_METHOD;
	in.emsglen = 14;
	memcpy(in.emsg, "Method Unknown", 14);
	round_trip(&in);
	cr_assert_eq(m2.type, KRPC_ERROR);
	cr_assert_eq(m2.ecode, 204);
	cr_assert_eq(m2.emsglen, 14);
	cr_assert(memcmp(m2.emsg, "Method Unknown", 14) == 0);
}

Test(krpc, full_reply_fits_a_datagram)
{
	struct krpc_msg in;
	size_t n;

	memset(&in, 0, sizeof(in));
	in.type = KRPC_REPLY;
	in.tidlen = 4;
	in.has_id = true;
	in.has_token = true;
	in.tokenlen = 20;
	in.nnodes = 8;
	for (size_t i = 0; i < 8; i++) {
		in.nodes[i].addr.family = 4;
		in.nodes[i].addr.port = 1;
	}
	in.nvalues = 50;
	for (size_t i = 0; i < 50; i++) {
		in.values[i].family = 4;
		in.values[i].port = 2;
	}
	n = round_trip(&in);
	cr_assert_lt(n, 1500);
	cr_assert_eq(m2.nvalues, 50);
	cr_assert_eq(m2.nnodes, 8);
}

Test(krpc, encode_refuses)
{
	struct krpc_msg in;
	struct buf b;

	buf_init(&b, KRPC_MAX_PACKET);
	memset(&in, 0, sizeof(in));
	in.type = KRPC_QUERY;
	in.method = KRPC_UNKNOWN;
	cr_assert_eq(krpc_encode(&b, &in), THR_EINVAL);
	in.method = KRPC_NONE;
	cr_assert_eq(krpc_encode(&b, &in), THR_EINVAL);
	in.method = KRPC_PING;
	in.tidlen = KRPC_TID_MAX + 1;
	cr_assert_eq(krpc_encode(&b, &in), THR_EINVAL);
	in.tidlen = 1;
	in.nvalues = 1;
	in.values[0].family = 5;
	cr_assert_eq(krpc_encode(&b, &in), THR_EINVAL);
	cr_assert_eq(b.len, 0);
	buf_release(&b);

	/* A full buffer is THR_ELIMIT. */
	buf_init(&b, 10);
	in.nvalues = 0;
	cr_assert_eq(krpc_encode(&b, &in), THR_ELIMIT);
	buf_release(&b);
	cr_assert_str_eq(krpc_method_name(KRPC_ANNOUNCE_PEER),
	    "announce_peer");
}
