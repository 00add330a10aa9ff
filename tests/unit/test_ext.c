/*
 * test_ext.c: extension protocol messages: the BEP 10 handshake (build,
 * parse, repeat handshakes, hostile values), ut_metadata (BEP 9) and
 * ut_pex (BEP 11) messages, exact encodings and round trips.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/ext.h"

#define S(lit)	(const uint8_t *)(lit), sizeof(lit) - 1

static void
assert_buf(const struct buf *b, const void *want, size_t n)
{
	cr_assert_eq(b->len, n, "length %zu, want %zu", b->len, n);
	cr_assert(memcmp(b->data, want, n) == 0, "got %.*s", (int)b->len,
	    (const char *)b->data);
}

Test(ext, handshake_build_full)
{
	static const char want[] = "d1:md11:ut_metadatai2e6:ut_pexi1ee"
	    "13:metadata_sizei1234e1:pi6881e4:reqqi250e1:v12:thorrent 0.1"
	    "6:yourip4:\x0a\x00\x00\x01" "e";
	struct thr_addr you = { .family = 4, .ip = { 10, 0, 0, 1 },
	    .port = 5 };
	struct ext_local l = { .port = 6881, .version = "thorrent 0.1",
	    .reqq = 250, .metadata_size = 1234, .yourip = &you, .pex = true };
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(ext_handshake_build(&b, &l), 0);
	assert_buf(&b, want, sizeof want - 1);
	buf_release(&b);
}

Test(ext, handshake_build_minimal)
{
	struct ext_local l;
	struct buf b;

	memset(&l, 0, sizeof l);
	buf_init(&b, 1024);
	cr_assert_eq(ext_handshake_build(&b, &l), 0);
	assert_buf(&b, "d1:md11:ut_metadatai2eee", 24);
	buf_release(&b);
}

Test(ext, handshake_build_limit)
{
	struct ext_local l = { .version = "a long version string" };
	struct buf b;

	buf_init(&b, 30);
	cr_assert_eq(ext_handshake_build(&b, &l), THR_ELIMIT);
	buf_release(&b);
}

Test(ext, handshake_round_trip)
{
	struct thr_addr you = { .family = 6, .ip = { 0x20, 1, 0xd, 0xb8,
	    [15] = 7 } };
	struct ext_local l = { .port = 51413, .version = "thorrent/1.0",
	    .reqq = 500, .metadata_size = 99999, .yourip = &you, .pex = true };
	struct ext_handshake h;
	struct thr_error e;
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(ext_handshake_build(&b, &l), 0);
	ext_handshake_init(&h);
	cr_assert_eq(ext_handshake_parse(b.data, b.len, &h, &e), 0, "%s",
	    e.msg);
	cr_assert_eq(h.ut_metadata, EXT_ID_UT_METADATA);
	cr_assert_eq(h.ut_pex, EXT_ID_UT_PEX);
	cr_assert_eq(h.port, 51413);
	cr_assert_eq(h.reqq, 500);
	cr_assert_eq(h.metadata_size, 99999);
	cr_assert_str_eq(h.version, "thorrent/1.0");
	cr_assert(h.has_yourip);
	cr_assert_eq(h.yourip.family, 6);
	cr_assert_arr_eq(h.yourip.ip, you.ip, 16);
	cr_assert_eq(h.yourip.port, 0);
	buf_release(&b);
}

Test(ext, handshake_defaults)
{
	struct ext_handshake h;
	struct thr_error e;

	ext_handshake_init(&h);
	cr_assert_eq(h.reqq, EXT_REQQ_DEFAULT);
	cr_assert_eq(ext_handshake_parse(S("de"), &h, &e), 0);
	cr_assert_eq(h.ut_metadata, 0);
	cr_assert_eq(h.ut_pex, 0);
	cr_assert_eq(h.port, 0);
	cr_assert_eq(h.reqq, EXT_REQQ_DEFAULT);
	cr_assert_eq(h.metadata_size, 0);
	cr_assert_str_eq(h.version, "");
	cr_assert_not(h.has_yourip);
}

Test(ext, handshake_libtorrent_style)
{
	struct ext_handshake h;
	struct thr_error e;

	ext_handshake_init(&h);
	cr_assert_eq(ext_handshake_parse(S("d12:complete_agoi-1e"
	    "1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e"
	    "12:ut_holepunchi4e11:ut_metadatai3e6:ut_pexi1ee"
	    "13:metadata_sizei31235e4:reqqi500e11:upload_onlyi1e"
	    "1:v16:libtorrent 2.0.86:yourip4:\x7f\x00\x00\x01" "e"), &h, &e),
	    0, "%s", e.msg);
	cr_assert_eq(h.ut_metadata, 3);
	cr_assert_eq(h.ut_pex, 1);
	cr_assert_eq(h.metadata_size, 31235);
	cr_assert_eq(h.reqq, 500);
	cr_assert_str_eq(h.version, "libtorrent 2.0.8");
	cr_assert(h.has_yourip);
	cr_assert_eq(h.yourip.family, 4);
	cr_assert_eq(h.yourip.ip[0], 127);
}

Test(ext, handshake_bad_ids)
{
	struct ext_handshake h;
	struct thr_error e;

	ext_handshake_init(&h);
	cr_assert_eq(ext_handshake_parse(S("d1:md11:ut_metadatai256e"
	    "6:ut_pexi-1eee"), &h, &e), 0);
	cr_assert_eq(h.ut_metadata, 0);
	cr_assert_eq(h.ut_pex, 0);
	cr_assert_eq(ext_handshake_parse(S("d1:md11:ut_metadata1:x"
	    "6:ut_pexi255eee"), &h, &e), 0);
	cr_assert_eq(h.ut_metadata, 0);
	cr_assert_eq(h.ut_pex, 255);
	/* An "m" that is no dict changes nothing. */
	cr_assert_eq(ext_handshake_parse(S("d1:mli1eee"), &h, &e), 0);
	cr_assert_eq(h.ut_pex, 255);
}

Test(ext, handshake_repeat_updates_only_given_keys)
{
	struct ext_handshake h;
	struct thr_error e;

	ext_handshake_init(&h);
	cr_assert_eq(ext_handshake_parse(S("d1:md11:ut_metadatai3e"
	    "6:ut_pexi1ee13:metadata_sizei100e1:pi7000e4:reqqi9e1:v1:Xe"),
	    &h, &e), 0);
	/* BEP 10: id 0 disables ut_pex; the rest stays. */
	cr_assert_eq(ext_handshake_parse(S("d1:md6:ut_pexi0eee"), &h, &e), 0);
	cr_assert_eq(h.ut_pex, 0);
	cr_assert_eq(h.ut_metadata, 3);
	cr_assert_eq(h.metadata_size, 100);
	cr_assert_eq(h.port, 7000);
	cr_assert_eq(h.reqq, 9);
	cr_assert_str_eq(h.version, "X");
}

Test(ext, handshake_clamps)
{
	struct ext_handshake h;
	struct thr_error e;

	ext_handshake_init(&h);
	cr_assert_eq(ext_handshake_parse(S("d4:reqqi0ee"), &h, &e), 0);
	cr_assert_eq(h.reqq, 1);
	cr_assert_eq(ext_handshake_parse(S("d4:reqqi-5ee"), &h, &e), 0);
	cr_assert_eq(h.reqq, 1);
	cr_assert_eq(ext_handshake_parse(S("d4:reqqi9223372036854775807ee"),
	    &h, &e), 0);
	cr_assert_eq(h.reqq, EXT_REQQ_MAX);
	cr_assert_eq(ext_handshake_parse(S("d1:pi0ee"), &h, &e), 0);
	cr_assert_eq(h.port, 0);
	cr_assert_eq(ext_handshake_parse(S("d1:pi65536ee"), &h, &e), 0);
	cr_assert_eq(h.port, 0);
	cr_assert_eq(ext_handshake_parse(S("d1:pi65535ee"), &h, &e), 0);
	cr_assert_eq(h.port, 65535);
	cr_assert_eq(ext_handshake_parse(S("d13:metadata_sizei0ee"), &h, &e),
	    0);
	cr_assert_eq(h.metadata_size, 0);
	cr_assert_eq(ext_handshake_parse(S("d13:metadata_sizei-1ee"), &h, &e),
	    0);
	cr_assert_eq(h.metadata_size, 0);
	cr_assert_eq(ext_handshake_parse(S("d13:metadata_sizei8388609ee"),
	    &h, &e), 0);
	cr_assert_eq(h.metadata_size, 0);
	cr_assert_eq(ext_handshake_parse(S("d13:metadata_sizei8388608ee"),
	    &h, &e), 0);
	cr_assert_eq(h.metadata_size, EXT_MAX_METADATA);
	cr_assert_eq(ext_handshake_parse(S("d6:yourip5:abcdee"), &h, &e), 0);
	cr_assert_not(h.has_yourip);
}

Test(ext, handshake_version_escaped_and_truncated)
{
	struct ext_handshake h;
	struct thr_error e;
	char msg[512];
	int n;

	ext_handshake_init(&h);
	cr_assert_eq(ext_handshake_parse(S("d1:v7:a\x1b[2Jb\x00" "e"), &h, &e),
	    0);
	cr_assert_str_eq(h.version, "a\\x1b[2Jb\\x00");
	n = snprintf(msg, sizeof msg, "d1:v300:");
	memset(msg + n, 'v', 300);
	msg[n + 300] = 'e';
	cr_assert_eq(ext_handshake_parse((uint8_t *)msg, (size_t)n + 301, &h,
	    &e), 0);
	cr_assert_eq(strlen(h.version), EXT_VERSION_MAX - 1);
}

Test(ext, handshake_malformed)
{
	static const struct {
		const char	*p;
		size_t		 n;
	} bad[] = {
		{ "", 0 },
		{ "le", 2 },
		{ "i1e", 3 },
		{ "4:abcd", 6 },
		{ "d1:md11:ut_metadatai2ee", 23 },
		{ "d1:pi1eeX", 9 },
		{ "d1:pi01ee", 9 },
		{ "d3:key", 6 },
		{ "di1ei2ee", 8 },
	};
	struct ext_handshake h, before;
	struct thr_error e;
	size_t i;

	ext_handshake_init(&h);
	h.ut_pex = 9;
	before = h;
	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		memset(&e, 0, sizeof e);
		cr_assert_eq(ext_handshake_parse((const uint8_t *)bad[i].p,
		    bad[i].n, &h, &e), THR_EPROTO, "case %zu", i);
		cr_assert_eq(e.code, THR_EPROTO);
		cr_assert(memcmp(&h, &before, sizeof h) == 0);
	}
}

Test(ext, handshake_deep_nesting)
{
	struct ext_handshake h;
	struct thr_error e;
	uint8_t msg[2 * 200 + 2];
	size_t i;

	for (i = 0; i < 200; i++)
		msg[i] = 'l';
	for (i = 0; i < 200; i++)
		msg[200 + i] = 'e';
	ext_handshake_init(&h);
	cr_assert_eq(ext_handshake_parse(msg, 400, &h, &e), THR_EPROTO);
}

Test(ext, metadata_request_and_reject)
{
	struct ext_metadata_msg m;
	struct thr_error e;
	struct buf b;

	buf_init(&b, 1024);
	cr_assert_eq(ext_metadata_request(&b, 3), 0);
	assert_buf(&b, "d8:msg_typei0e5:piecei3ee", 25);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), 0);
	cr_assert_eq(m.type, EXT_METADATA_REQUEST);
	cr_assert_eq(m.piece, 3);
	cr_assert_null(m.data);
	buf_reset(&b);
	cr_assert_eq(ext_metadata_reject(&b, 511), 0);
	assert_buf(&b, "d8:msg_typei2e5:piecei511ee", 27);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), 0);
	cr_assert_eq(m.type, EXT_METADATA_REJECT);
	cr_assert_eq(m.piece, 511);
	buf_release(&b);
}

Test(ext, metadata_data_round_trip)
{
	static uint8_t data[16384];
	struct ext_metadata_msg m;
	struct thr_error e;
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	buf_init(&b, 1 << 20);
	cr_assert_eq(ext_metadata_data(&b, 0, 40000, data, 16384), 0);
	cr_assert(memcmp(b.data, "d8:msg_typei1e5:piecei0e10:total_sizei"
	    "40000ee", 45) == 0);
	cr_assert_eq(b.len, 45 + 16384);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), 0, "%s",
	    e.msg);
	cr_assert_eq(m.type, EXT_METADATA_DATA);
	cr_assert_eq(m.piece, 0);
	cr_assert_eq(m.total_size, 40000);
	cr_assert_eq(m.data, b.data + 45);
	cr_assert_eq(m.len, 16384);
	/* The last piece is the rest: 40000 - 2 * 16384. */
	buf_reset(&b);
	cr_assert_eq(ext_metadata_data(&b, 2, 40000, data, 7232), 0);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), 0, "%s",
	    e.msg);
	cr_assert_eq(m.piece, 2);
	cr_assert_eq(m.len, 7232);
	cr_assert(memcmp(m.data, data, 7232) == 0);
	buf_release(&b);
}

Test(ext, metadata_data_wrong_sizes)
{
	static uint8_t data[16385];
	struct ext_metadata_msg m;
	struct thr_error e;
	struct buf b;

	buf_init(&b, 1 << 20);
	/* Short middle piece. */
	cr_assert_eq(ext_metadata_data(&b, 0, 40000, data, 16383), 0);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), THR_EPROTO);
	cr_assert_not_null(strstr(e.msg, "16383"), "%s", e.msg);
	buf_reset(&b);
	/* Long piece. */
	cr_assert_eq(ext_metadata_data(&b, 0, 40000, data, 16385), 0);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), THR_EPROTO);
	buf_reset(&b);
	/* Last piece one byte long. */
	cr_assert_eq(ext_metadata_data(&b, 2, 40000, data, 7233), 0);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), THR_EPROTO);
	buf_reset(&b);
	/* Piece past the end. */
	cr_assert_eq(ext_metadata_data(&b, 3, 40000, data, 16384), 0);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), THR_EPROTO);
	buf_reset(&b);
	/* A size that fills its pieces exactly. */
	cr_assert_eq(ext_metadata_data(&b, 1, 32768, data, 16384), 0);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), 0);
	buf_reset(&b);
	/* No data at all. */
	cr_assert_eq(ext_metadata_data(&b, 0, 1, data, 0), 0);
	cr_assert_eq(ext_metadata_parse(b.data, b.len, &m, &e), THR_EPROTO);
	buf_release(&b);
}

Test(ext, metadata_malformed)
{
	static const char *const bad[] = {
		"",
		"le",
		"d5:piecei0ee",
		"d8:msg_typei3e5:piecei0ee",
		"d8:msg_typei-1e5:piecei0ee",
		"d8:msg_type1:05:piecei0ee",
		"d8:msg_typei0ee",
		"d8:msg_typei0e5:piecei-1ee",
		"d8:msg_typei0e5:piecei512ee",
		"d8:msg_typei0e5:piecei99999999999999999999ee",
		"d8:msg_typei1e5:piecei0ee" "x",
		"d8:msg_typei1e5:piecei0e10:total_sizei0ee",
		"d8:msg_typei1e5:piecei0e10:total_sizei-5ee" "x",
		"d8:msg_typei1e5:piecei0e10:total_sizei8388609ee",
		"d8:msg_typei1e5:piecei0e10:total_size1:1e" "x",
		"d8:msg_typei0e5:piecei0e",
	};
	struct ext_metadata_msg m;
	struct thr_error e;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++) {
		memset(&e, 0, sizeof e);
		cr_assert_eq(ext_metadata_parse((const uint8_t *)bad[i],
		    strlen(bad[i]), &m, &e), THR_EPROTO, "%s", bad[i]);
		cr_assert_eq(e.code, THR_EPROTO);
	}
}

Test(ext, metadata_request_trailing_bytes_ignored)
{
	struct ext_metadata_msg m;
	struct thr_error e;

	cr_assert_eq(ext_metadata_parse(S("d8:msg_typei0e5:piecei1ee" "zz"),
	    &m, &e), 0);
	cr_assert_eq(m.piece, 1);
	/* Unknown keys are ignored too. */
	cr_assert_eq(ext_metadata_parse(S("d1:xi1e8:msg_typei2e5:piecei0ee"),
	    &m, &e), 0);
	cr_assert_eq(m.type, EXT_METADATA_REJECT);
}

Test(ext, pex_build_exact)
{
	static const char want[] = "d5:added6:\x0a\x00\x00\x01\x1a\xe1"
	    "7:added.f1:\x12" "6:added618:\x20\x01\x0d\xb8"
	    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x50"
	    "8:added6.f1:\x01" "7:dropped6:\x01\x02\x03\x04\x00\x01"
	    "8:dropped60:e";
	struct thr_addr add[2] = {
		{ .family = 6, .ip = { 0x20, 1, 0xd, 0xb8, [15] = 1 },
		    .port = 80 },
		{ .family = 4, .ip = { 10, 0, 0, 1 }, .port = 6881 },
	};
	struct thr_addr drop[1] = {
		{ .family = 4, .ip = { 1, 2, 3, 4 }, .port = 1 },
	};
	uint8_t flags[2] = { EXT_PEX_F_ENCRYPTION,
	    EXT_PEX_F_SEED | EXT_PEX_F_REACHABLE };
	struct buf b;

	buf_init(&b, 4096);
	cr_assert_eq(ext_pex_build(&b, add, flags, 2, drop, 1), 0);
	assert_buf(&b, want, sizeof want - 1);
	buf_release(&b);
}

Test(ext, pex_round_trip)
{
	struct thr_addr add[EXT_PEX_MAX], drop[EXT_PEX_MAX];
	uint8_t flags[EXT_PEX_MAX];
	struct ext_pex x;
	struct thr_error e;
	struct buf b;
	size_t i;

	memset(add, 0, sizeof add);
	memset(drop, 0, sizeof drop);
	for (i = 0; i < EXT_PEX_MAX; i++) {
		add[i].family = i % 3 == 0 ? 6 : 4;
		add[i].ip[0] = (uint8_t)i;
		add[i].ip[add[i].family == 4 ? 3 : 15] = 9;
		add[i].port = (uint16_t)(1000 + i);
		flags[i] = (uint8_t)i;
		drop[i] = add[i];
		drop[i].port++;
	}
	buf_init(&b, 1 << 16);
	cr_assert_eq(ext_pex_build(&b, add, flags, EXT_PEX_MAX, drop,
	    EXT_PEX_MAX), 0);
	cr_assert_eq(ext_pex_parse(b.data, b.len, &x, &e), 0, "%s", e.msg);
	cr_assert_eq(x.nadded, EXT_PEX_MAX);
	cr_assert_eq(x.ndropped, EXT_PEX_MAX);
	/* Parsed order: the IPv4 entries, then the IPv6 ones. */
	for (i = 0; i < x.nadded; i++) {
		cr_assert_eq(x.added[i].family, i < 66 ? 4 : 6, "%zu", i);
		cr_assert_eq(x.added[i].port, 1000 + x.added[i].ip[0]);
		cr_assert_eq(x.added_flags[i], x.added[i].ip[0]);
		cr_assert_eq(x.dropped[i].port, 1001 + x.dropped[i].ip[0]);
	}
	buf_release(&b);
}

Test(ext, pex_build_errors)
{
	struct thr_addr a[EXT_PEX_MAX + 1];
	struct buf b;

	memset(a, 0, sizeof a);
	buf_init(&b, 1 << 16);
	cr_assert_eq(ext_pex_build(&b, a, NULL, EXT_PEX_MAX + 1, NULL, 0),
	    THR_ELIMIT);
	cr_assert_eq(ext_pex_build(&b, NULL, NULL, 0, a, EXT_PEX_MAX + 1),
	    THR_ELIMIT);
	cr_assert_eq(ext_pex_build(&b, a, NULL, 1, NULL, 0), THR_EINVAL);
	cr_assert_eq(ext_pex_build(&b, NULL, NULL, 0, a, 1), THR_EINVAL);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(ext_pex_build(&b, NULL, NULL, 0, NULL, 0), 0);
	assert_buf(&b, "d5:added0:7:added.f0:6:added60:8:added6.f0:"
	    "7:dropped0:8:dropped60:e", 67);
	buf_release(&b);
}

Test(ext, pex_lenient_parsing)
{
	struct ext_pex x;
	struct thr_error e;

	/* 7 bytes: one whole entry and a stray byte; no flags; one with
	 * port 0 among the dropped; a list of the wrong type. */
	cr_assert_eq(ext_pex_parse(S("d5:added7:\x01\x02\x03\x04\x00\x07Z"
	    "6:added6i5e7:dropped12:\x05\x05\x05\x05\x00\x00"
	    "\x06\x06\x06\x06\x00\x06" "e"), &x, &e), 0, "%s", e.msg);
	cr_assert_eq(x.nadded, 1);
	cr_assert_eq(x.added[0].family, 4);
	cr_assert_eq(x.added[0].port, 7);
	cr_assert_eq(x.added_flags[0], 0);
	cr_assert_eq(x.ndropped, 1);
	cr_assert_eq(x.dropped[0].ip[0], 6);
	cr_assert_eq(ext_pex_parse(S("de"), &x, &e), 0);
	cr_assert_eq(x.nadded, 0);
	cr_assert_eq(x.ndropped, 0);
}

Test(ext, pex_cap)
{
	struct ext_pex x;
	struct thr_error e;
	struct buf b;
	size_t i;
	uint8_t ent[6] = { 1, 1, 1, 1, 0, 1 };

	buf_init(&b, 1 << 16);
	cr_assert_eq(buf_puts(&b, "d5:added1800:"), 0);
	for (i = 0; i < 300; i++) {
		ent[3] = (uint8_t)i;
		cr_assert_eq(buf_append(&b, ent, 6), 0);
	}
	cr_assert_eq(buf_puts(&b, "e"), 0);
	cr_assert_eq(ext_pex_parse(b.data, b.len, &x, &e), 0);
	cr_assert_eq(x.nadded, EXT_PEX_MAX);
	buf_release(&b);
}

Test(ext, pex_malformed)
{
	struct ext_pex x;
	struct thr_error e;

	cr_assert_eq(ext_pex_parse(S(""), &x, &e), THR_EPROTO);
	cr_assert_eq(ext_pex_parse(S("le"), &x, &e), THR_EPROTO);
	cr_assert_eq(ext_pex_parse(S("d5:added6:abcdef"), &x, &e),
	    THR_EPROTO);
	cr_assert_eq(ext_pex_parse(S("d5:added99:abcdefe"), &x, &e),
	    THR_EPROTO);
	cr_assert_eq(e.code, THR_EPROTO);
}
