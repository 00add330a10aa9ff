/*
 * fuzz_ext.c: libFuzzer target for the extension protocol (ext.h) and
 * the metadata assembler (metadata.h).
 *
 * Byte 0 chooses what the rest of the input is:
 *   0  an extension handshake: parsed, checked, then our handshake built
 *      from what was read must parse back to the same values
 *   1  a ut_metadata message: parsed, checked, rebuilt and reparsed
 *   2  a ut_pex message: parsed, checked, rebuilt and reparsed
 *   3  a metadata session: bytes 1-2 give the info dict size (at most
 *      64 KiB here, to stay fast), then 3-byte operations (op, peer,
 *      piece) drive struct metadata, the clock advancing 1 s per
 *      operation; its counters must stay consistent, and no request may
 *      outlive its deadline once expired
 * A broken promise aborts, which libFuzzer reports as a crash.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/ext.h"
#include "core/metadata.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_ext: broken invariant: %s\n", what);
	abort();
}

static void
fuzz_handshake(const uint8_t *p, size_t n)
{
	struct ext_handshake h, h2;
	struct ext_local l;
	struct thr_error err;
	struct buf b;

	memset(&err, 0, sizeof err);
	ext_handshake_init(&h);
	if (ext_handshake_parse(p, n, &h, &err) != 0) {
		if (err.code != THR_EPROTO)
			fail("failed handshake without THR_EPROTO");
		return;
	}
	if (memchr(h.version, '\0', sizeof h.version) == NULL)
		fail("version not NUL-terminated");
	if (h.reqq < 1 || h.reqq > EXT_REQQ_MAX)
		fail("reqq not clamped");
	if (h.metadata_size > EXT_MAX_METADATA)
		fail("metadata_size over the cap");
	if (h.has_yourip && h.yourip.family != 4 && h.yourip.family != 6)
		fail("yourip of no family");
	memset(&l, 0, sizeof l);
	l.port = h.port;
	l.reqq = h.reqq;
	l.metadata_size = h.metadata_size;
	l.yourip = h.has_yourip ? &h.yourip : NULL;
	l.pex = h.ut_pex != 0;
	l.version = "fuzz";
	buf_init(&b, 4096);
	if (ext_handshake_build(&b, &l) != 0)
		fail("handshake build failed");
	ext_handshake_init(&h2);
	if (ext_handshake_parse(b.data, b.len, &h2, &err) != 0)
		fail("built handshake does not parse");
	if (h2.port != h.port || h2.reqq != h.reqq ||
	    h2.metadata_size != h.metadata_size ||
	    h2.has_yourip != h.has_yourip ||
	    (h.has_yourip && !addr_equal(&h.yourip, &h2.yourip)) ||
	    h2.ut_metadata != EXT_ID_UT_METADATA ||
	    h2.ut_pex != (l.pex ? EXT_ID_UT_PEX : 0) ||
	    strcmp(h2.version, "fuzz") != 0)
		fail("handshake round trip changed a value");
	buf_release(&b);
}

static void
fuzz_metadata_msg(const uint8_t *p, size_t n)
{
	struct ext_metadata_msg m, m2;
	struct thr_error err;
	struct buf b;
	int rc;

	memset(&err, 0, sizeof err);
	if (ext_metadata_parse(p, n, &m, &err) != 0) {
		if (err.code != THR_EPROTO)
			fail("failed ut_metadata without THR_EPROTO");
		return;
	}
	if (m.piece >= EXT_MAX_METADATA_PIECES)
		fail("piece out of range");
	buf_init(&b, 2 * EXT_METADATA_PIECE);
	switch (m.type) {
	case EXT_METADATA_REQUEST:
		rc = ext_metadata_request(&b, m.piece);
		break;
	case EXT_METADATA_REJECT:
		rc = ext_metadata_reject(&b, m.piece);
		break;
	case EXT_METADATA_DATA:
		if (m.total_size < 1 || m.total_size > EXT_MAX_METADATA)
			fail("total_size out of range");
		if (m.data < p || m.len > n || m.data + m.len != p + n)
			fail("data not at the end of the input");
		if (m.len == 0 || m.len > EXT_METADATA_PIECE ||
		    (uint64_t)m.piece * EXT_METADATA_PIECE + m.len >
		    m.total_size)
			fail("data length does not fit total_size");
		rc = ext_metadata_data(&b, m.piece, m.total_size, m.data,
		    m.len);
		break;
	default:
		fail("unknown msg_type accepted");
		return;
	}
	if (rc != 0)
		fail("ut_metadata build failed");
	if (ext_metadata_parse(b.data, b.len, &m2, &err) != 0)
		fail("built ut_metadata does not parse");
	if (m2.type != m.type || m2.piece != m.piece ||
	    m2.total_size != m.total_size || m2.len != m.len ||
	    (m.len > 0 && memcmp(m.data, m2.data, m.len) != 0))
		fail("ut_metadata round trip changed a value");
	buf_release(&b);
}

static void
check_pex(const struct ext_pex *x)
{
	size_t i;

	if (x->nadded > EXT_PEX_MAX || x->ndropped > EXT_PEX_MAX)
		fail("pex list over the cap");
	for (i = 0; i < x->nadded; i++)
		if ((x->added[i].family != 4 && x->added[i].family != 6) ||
		    x->added[i].port == 0)
			fail("bad added address");
	for (i = 0; i < x->ndropped; i++)
		if ((x->dropped[i].family != 4 &&
		    x->dropped[i].family != 6) || x->dropped[i].port == 0)
			fail("bad dropped address");
}

static void
fuzz_pex(const uint8_t *p, size_t n)
{
	static struct ext_pex x, x2;
	struct thr_error err;
	struct buf b;
	size_t i;

	memset(&err, 0, sizeof err);
	if (ext_pex_parse(p, n, &x, &err) != 0) {
		if (err.code != THR_EPROTO)
			fail("failed ut_pex without THR_EPROTO");
		return;
	}
	check_pex(&x);
	buf_init(&b, 1 << 16);
	if (ext_pex_build(&b, x.added, x.added_flags, x.nadded, x.dropped,
	    x.ndropped) != 0)
		fail("pex build failed");
	if (ext_pex_parse(b.data, b.len, &x2, &err) != 0)
		fail("built pex does not parse");
	if (x2.nadded != x.nadded || x2.ndropped != x.ndropped)
		fail("pex round trip changed a count");
	for (i = 0; i < x.nadded; i++)
		if (!addr_equal(&x.added[i], &x2.added[i]) ||
		    x.added_flags[i] != x2.added_flags[i])
			fail("pex round trip changed an added peer");
	for (i = 0; i < x.ndropped; i++)
		if (!addr_equal(&x.dropped[i], &x2.dropped[i]))
			fail("pex round trip changed a dropped peer");
	buf_release(&b);
}

static void
fuzz_session(const uint8_t *p, size_t n)
{
	static const uint8_t ih[20];
	static uint8_t piece[EXT_METADATA_PIECE + 1];
	struct metadata md;
	uint32_t bad[4], got, peer, i, have, ids[4];
	uint64_t now = 0;
	size_t size, nbad, len;

	if (n < 2)
		return;
	size = (size_t)p[0] << 8 | p[1];
	if (metadata_init(&md, size, ih) != 0) {
		if (size != 0)
			fail("metadata_init refused a small size");
		return;
	}
	for (p += 2, n -= 2; n >= 3; p += 3, n -= 3) {
		peer = p[1] & 7;
		i = p[2];
		now += 1000;
		switch (p[0] % 7) {
		case 0:
			if (metadata_next_request(&md, peer, now, &got) == 0 &&
			    (got >= md.npieces ||
			    md.pieces[got].state != METADATA_REQUESTED))
				fail("next_request gave a bad piece");
			break;
		case 1:
		case 2:
			/* The right length, or one off when op is 2. */
			len = i < md.npieces ? (i + 1 < md.npieces ?
			    EXT_METADATA_PIECE : md.size -
			    (size_t)i * EXT_METADATA_PIECE) : 1;
			if (p[0] % 7 == 2)
				len += (p[1] & 8) ? 1 : (size_t)-1;
			if (len <= sizeof piece)
				(void)metadata_received(&md, peer, i, piece,
				    len);
			break;
		case 3:
			metadata_rejected(&md, peer, i);
			break;
		case 4:
			metadata_peer_gone(&md, peer);
			break;
		case 5:
			if (metadata_verify(&md, bad, 4, &nbad) == THR_EPROTO &&
			    (md.nhave != 0 || nbad > 4))
				fail("failed verify did not restart");
			break;
		case 6:
			(void)metadata_expire(&md, now, ids, 4);
			for (i = 0; i < md.npieces; i++)
				if (md.pieces[i].state == METADATA_REQUESTED &&
				    md.pieces[i].deadline_ms <= now)
					fail("an expired request is still out");
			break;
		}
		for (have = 0, i = 0; i < md.npieces; i++)
			if (md.pieces[i].state == METADATA_HAVE)
				have++;
		if (have != md.nhave || md.nhave > md.npieces)
			fail("nhave out of step with the pieces");
	}
	metadata_release(&md);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_handshake(data + 1, size - 1);
		break;
	case 1:
		fuzz_metadata_msg(data + 1, size - 1);
		break;
	case 2:
		fuzz_pex(data + 1, size - 1);
		break;
	case 3:
		fuzz_session(data + 1, size - 1);
		break;
	}
	return 0;
}
