/*
 * test_memstore.c: the store held in memory (core/memstore.h), which
 * the simulator and the in-memory swarm tests run on: its bytes and
 * bounds, what it says existed before the run, its stamps, the write
 * failures it can be told to make, the resume record that outlives its
 * stores; the piece checks of core/store.c over it; and a session that
 * checks a torrent kept in it (core/torrent.h).
 *
 * The metainfo of the store tests is built by hand, with hashes from
 * OpenSSL EVP; the session test builds a .torrent with the bencode
 * writer, as tests/memswarm.c does.
 */
#include "config.h"

#include <sys/uio.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "core/bencode.h"
#include "core/err.h"
#include "core/memstore.h"
#include "core/metainfo.h"
#include "core/session.h"
#include "core/store.h"
#include "core/torrent.h"

#define PLEN	1000u
#define TOTAL	4500u		/* five pieces, the last one short */
#define NOW	1000000u

static void
sha1(const uint8_t *p, size_t n, uint8_t out[20])
{
	unsigned int len = 0;

	cr_assert_eq(EVP_Digest(p, n, out, &len, EVP_sha1(), NULL), 1);
	cr_assert_eq(len, 20);
}

static void
payload(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 2654435761u) >> 13 ^ i);
}

/* A one-file metainfo over data (TOTAL bytes): lengths and hashes only,
 * which is all a store reads. */
static void
mi_build(struct metainfo *mi, const uint8_t *data)
{
	memset(mi, 0, sizeof(*mi));
	mi->piece_length = PLEN;
	mi->total_length = TOTAL;
	mi->npieces = (TOTAL + PLEN - 1) / PLEN;
	mi->hashes = calloc(mi->npieces, 20);
	cr_assert_not_null(mi->hashes);
	for (uint32_t i = 0; i < mi->npieces; i++) {
		size_t at = (size_t)i * PLEN;

		sha1(data + at, TOTAL - at < PLEN ? TOTAL - at : PLEN,
		    mi->hashes + 20 * i);
	}
}

static void
open_store(struct memstore *m, const struct metainfo *mi, struct store *st)
{
	struct store_factory f = memstore_factory(m);
	struct thr_error err;

	memset(&err, 0, sizeof(err));
	memset(st, 0, sizeof(*st));
	cr_assert_eq(f.open(f.ctx, mi, NULL, st, &err), 0, "%s", err.msg);
	cr_assert(store_is_open(st));
}

Test(memstore, new_copies_its_bytes_and_is_bounded)
{
	uint8_t data[TOTAL];
	const uint8_t *got;
	struct memstore *m;
	size_t len;

	payload(data, sizeof(data));
	cr_assert_not_null(m = memstore_new(data, sizeof(data), true));
	data[0] ^= 0xff;	/* a copy: the caller's buffer is its own */
	got = memstore_bytes(m, &len);
	cr_assert_eq(len, TOTAL);
	cr_assert_eq(got[0], (uint8_t)(data[0] ^ 0xff));
	cr_assert_eq(memcmp(got + 1, data + 1, TOTAL - 1), 0);
	cr_assert_eq(memstore_writes(m), 0);
	memstore_free(m);

	/* No data: zeros. */
	cr_assert_not_null(m = memstore_new(NULL, 64, false));
	got = memstore_bytes(m, &len);
	cr_assert_eq(len, 64);
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(got[i], 0);
	memstore_free(m);
	cr_assert_null(memstore_new(NULL, (size_t)MEMSTORE_MAX + 1, false));
	memstore_free(NULL);
}

Test(memstore, open_checks_the_length)
{
	uint8_t data[TOTAL];
	struct store_factory f;
	struct thr_error err;
	struct metainfo mi;
	struct memstore *m;
	struct store st;

	payload(data, sizeof(data));
	mi_build(&mi, data);
	cr_assert_not_null(m = memstore_new(NULL, TOTAL - 1, false));
	f = memstore_factory(m);
	cr_assert_null(f.lock, "nothing to lock in memory");
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	cr_assert_eq(f.open(f.ctx, &mi, NULL, &st, &err), THR_EINVAL);
	cr_assert_not(store_is_open(&st));
	cr_assert_not_null(strstr(err.msg, "4499"), "%s", err.msg);
	memstore_free(m);
	free(mi.hashes);
}

Test(memstore, writes_and_reads_within_bounds)
{
	uint8_t data[TOTAL], back[TOTAL], two[2];
	struct metainfo mi;
	struct memstore *m;
	struct store st;
	struct iovec v[3];
	const uint8_t *got;
	size_t len;

	payload(data, sizeof(data));
	two[0] = (uint8_t)~data[TOTAL - 1];
	two[1] = 0x5a;
	mi_build(&mi, data);
	cr_assert_not_null(m = memstore_new(NULL, TOTAL, false));
	open_store(m, &mi, &st);
	/* Three buffers back to back at 100. */
	v[0].iov_base = data + 100;
	v[0].iov_len = 7;
	v[1].iov_base = data + 107;
	v[1].iov_len = 0;
	v[2].iov_base = data + 107;
	v[2].iov_len = 2000;
	cr_assert_eq(store_writev(&st, 100, v, 3), 0);
	cr_assert_eq(store_read(&st, 0, back, TOTAL), 0);
	cr_assert_eq(back[99], 0, "nothing before the range");
	cr_assert_eq(memcmp(back + 100, data + 100, 2007), 0);
	cr_assert_eq(back[2107], 0, "nothing after it");
	got = memstore_bytes(m, &len);
	cr_assert_eq(memcmp(got + 100, data + 100, 2007), 0);
	cr_assert_eq(memstore_writes(m), 1, "one writev, one write");
	/* The last byte, and nothing at the very end. */
	v[0].iov_base = data + TOTAL - 1;
	v[0].iov_len = 1;
	cr_assert_eq(store_writev(&st, TOTAL - 1, v, 1), 0);
	cr_assert_eq(store_read(&st, TOTAL, back, 0), 0);
	/* Past the end; too many buffers; reads past the end. */
	errno = 0;
	v[0].iov_base = two;
	v[0].iov_len = 2;
	cr_assert_eq(store_writev(&st, TOTAL - 1, v, 1), THR_EIO);
	cr_assert_eq(errno, EFBIG);
	cr_assert_eq(got[TOTAL - 1], data[TOTAL - 1], "not overwritten");
	cr_assert_eq(store_writev(&st, UINT64_MAX, v, 1), THR_EIO);
	cr_assert_eq(store_writev(&st, 0, v, STORE_IOV_MAX + 1), THR_EINVAL);
	cr_assert_eq(store_read(&st, TOTAL - 1, back, 2), THR_EIO);
	cr_assert_eq(store_read(&st, UINT64_MAX, back, 1), THR_EIO);
	store_close(&st);
	cr_assert_not(store_is_open(&st));
	memstore_free(m);
	free(mi.hashes);
}

/* A seed's bytes count as data from before the run, a fresh download's
 * as holes; nothing outside the torrent existed. */
Test(memstore, existed_follows_how_it_was_made)
{
	uint8_t data[TOTAL];
	struct metainfo mi;
	struct memstore *seed, *fresh;
	struct store a, b;

	payload(data, sizeof(data));
	mi_build(&mi, data);
	cr_assert_not_null(seed = memstore_new(data, TOTAL, true));
	cr_assert_not_null(fresh = memstore_new(NULL, TOTAL, false));
	open_store(seed, &mi, &a);
	open_store(fresh, &mi, &b);
	cr_assert(a.ops->existed(a.ctx, 0, TOTAL));
	cr_assert(a.ops->existed(a.ctx, 4 * PLEN, TOTAL - 4 * PLEN));
	cr_assert_not(a.ops->existed(a.ctx, 4 * PLEN, PLEN));
	cr_assert_not(a.ops->existed(a.ctx, UINT64_MAX, 1));
	cr_assert_not(b.ops->existed(b.ctx, 0, PLEN));
	store_close(&a);
	store_close(&b);
	memstore_free(seed);
	memstore_free(fresh);
	free(mi.hashes);
}

/* Every file has the same stamp, which moves with each write, as a
 * modification time would. */
Test(memstore, stamp_moves_with_writes)
{
	uint8_t data[TOTAL];
	struct metainfo mi;
	struct memstore *m;
	struct store st;
	struct iovec v;
	int64_t size, t0, t1, t2;

	payload(data, sizeof(data));
	mi_build(&mi, data);
	cr_assert_not_null(m = memstore_new(data, TOTAL, true));
	open_store(m, &mi, &st);
	cr_assert_eq(st.ops->stamp(st.ctx, 0, &size, &t0), 0);
	cr_assert_eq(size, TOTAL);
	cr_assert_eq(st.ops->stamp(st.ctx, 7, &size, &t1), 0);
	cr_assert_eq(t1, t0);
	v.iov_base = data;
	v.iov_len = 10;
	cr_assert_eq(store_writev(&st, 0, &v, 1), 0);
	cr_assert_eq(st.ops->stamp(st.ctx, 0, &size, &t2), 0);
	cr_assert_neq(t2, t0);
	store_close(&st);
	memstore_free(m);
	free(mi.hashes);
}

/* The nth write fails as a full disk would; the others go through. */
Test(memstore, fails_the_write_it_is_told_to)
{
	uint8_t data[TOTAL];
	struct metainfo mi;
	struct memstore *m;
	struct store st;
	struct iovec v;
	const uint8_t *got;
	size_t len;

	payload(data, sizeof(data));
	mi_build(&mi, data);
	cr_assert_not_null(m = memstore_new(NULL, TOTAL, false));
	open_store(m, &mi, &st);
	memstore_fail_write(m, 2);
	v.iov_base = data;
	v.iov_len = PLEN;
	cr_assert_eq(store_writev(&st, 0, &v, 1), 0);
	v.iov_base = data + PLEN;
	errno = 0;
	cr_assert_eq(store_writev(&st, PLEN, &v, 1), THR_EIO);
	cr_assert_eq(errno, ENOSPC);
	got = memstore_bytes(m, &len);
	cr_assert_eq(got[PLEN], 0, "a failed write stores nothing");
	cr_assert_eq(store_writev(&st, PLEN, &v, 1), 0);
	cr_assert_eq(memcmp(got, data, 2 * PLEN), 0);
	cr_assert_eq(memstore_writes(m), 3);
	store_close(&st);
	memstore_free(m);
	free(mi.hashes);
}

/* The record outlives the stores opened on the memstore, so a test can
 * restart a session on the same data and find it. */
Test(memstore, record_outlives_its_stores)
{
	uint8_t data[TOTAL];
	struct store_factory f;
	struct thr_error err;
	struct metainfo mi;
	struct memstore *m;
	struct store st;
	struct buf b;

	payload(data, sizeof(data));
	mi_build(&mi, data);
	cr_assert_not_null(m = memstore_new(data, TOTAL, true));
	f = memstore_factory(m);
	buf_init(&b, 1u << 16);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(f.record(f.ctx, &mi, 1u << 16, &b, &err), THR_ENOENT);
	open_store(m, &mi, &st);
	cr_assert_eq(st.ops->record_load(st.ctx, 1u << 16, &b, &err),
	    THR_ENOENT);
	cr_assert_eq(st.ops->record_save(st.ctx, "first", 5, &err), 0);
	cr_assert_eq(st.ops->record_save(st.ctx, "second", 6, &err), 0);
	cr_assert_eq(st.ops->record_load(st.ctx, 1u << 16, &b, &err), 0);
	cr_assert_eq(b.len, 6);
	cr_assert_eq(memcmp(b.data, "second", 6), 0);
	buf_reset(&b);
	cr_assert_eq(st.ops->record_load(st.ctx, 5, &b, &err), THR_ELIMIT);
	cr_assert_eq(b.len, 0);
	store_close(&st);
	/* Closed: still there, before the next open and after it. */
	cr_assert_eq(f.record(f.ctx, &mi, 1u << 16, &b, &err), 0);
	cr_assert_eq(b.len, 6);
	buf_reset(&b);
	open_store(m, &mi, &st);
	cr_assert_eq(st.ops->record_load(st.ctx, 1u << 16, &b, &err), 0);
	cr_assert_eq(memcmp(b.data, "second", 6), 0);
	store_close(&st);
	buf_release(&b);
	memstore_free(m);
	free(mi.hashes);
}

/* store.c's checks over the memory store: a spoiled piece fails alone,
 * in any span, and spans that leave the torrent are refused. */
Test(memstore, verify_span_and_piece_matches)
{
	uint8_t data[TOTAL], buf[TOTAL], bad = 0;
	struct metainfo mi;
	struct memstore *m;
	struct store st;
	struct iovec v;
	bool ok[5];

	payload(data, sizeof(data));
	mi_build(&mi, data);
	cr_assert_not_null(m = memstore_new(data, TOTAL, true));
	open_store(m, &mi, &st);
	cr_assert_eq(store_verify_span(&st, &mi, 0, 5, buf, ok), 0);
	for (int i = 0; i < 5; i++)
		cr_assert(ok[i], "piece %d", i);
	bad = (uint8_t)~data[2 * PLEN + 3];
	v.iov_base = &bad;
	v.iov_len = 1;
	cr_assert_eq(store_writev(&st, 2 * PLEN + 3, &v, 1), 0);
	cr_assert_eq(store_verify_span(&st, &mi, 0, 5, buf, ok), 0);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(ok[i], i != 2, "piece %d", i);
	cr_assert_eq(store_verify_span(&st, &mi, 2, 3, buf, ok), 0);
	cr_assert(!ok[0] && ok[1] && ok[2]);
	cr_assert_eq(store_verify_span(&st, &mi, 4, 2, buf, ok), THR_EINVAL);
	cr_assert_eq(store_verify_span(&st, &mi, 5, 1, buf, ok), THR_EINVAL);
	cr_assert_eq(store_verify_span(&st, &mi, 0, 0, buf, ok), THR_EINVAL);
	cr_assert(store_piece_matches(&mi, 4, data + 4 * PLEN,
	    TOTAL - 4 * PLEN));
	cr_assert_not(store_piece_matches(&mi, 4, data + 4 * PLEN, PLEN),
	    "wrong length");
	cr_assert_not(store_piece_matches(&mi, 5, data, PLEN));
	store_close(&st);
	memstore_free(m);
	free(mi.hashes);
}

/* --- a session over a memory store -------------------------------------- */

/* The .torrent of data (TOTAL bytes, one file) into out. */
static void
torrent_bytes(const uint8_t *data, struct buf *out)
{
	uint8_t h[5 * 20];

	for (uint32_t i = 0; i < 5; i++) {
		size_t at = (size_t)i * PLEN;

		sha1(data + at, TOTAL - at < PLEN ? TOTAL - at : PLEN,
		    h + 20 * i);
	}
	cr_assert_eq(bencode_put_dict(out), 0);
	bencode_put_cstr(out, "info");
	bencode_put_dict(out);
	bencode_put_cstr(out, "length");
	bencode_put_int(out, TOTAL);
	bencode_put_cstr(out, "name");
	bencode_put_cstr(out, "mem.bin");
	bencode_put_cstr(out, "piece length");
	bencode_put_int(out, PLEN);
	bencode_put_cstr(out, "pieces");
	bencode_put_str(out, h, sizeof(h));
	bencode_put_end(out);
	cr_assert_eq(bencode_put_end(out), 0);
}

/* Run a session's check of the torrent held in m; its torrent in *t. */
static struct session *
check_in(struct memstore *m, const struct buf *tor, struct torrent **t)
{
	struct session_opts so;
	struct torrent_opts to;
	struct thr_error err;
	struct session *s;

	memset(&so, 0, sizeof(so));
	memset(&to, 0, sizeof(to));
	memset(&err, 0, sizeof(err));
	so.seed = 1;
	so.log_level = LOG_ERROR;
	so.transport = SESSION_TRANSPORT_TCP;
	cr_assert_not_null(s = session_new(&so, NOW, &err), "%s", err.msg);
	to.metainfo = tor->data;
	to.metainfo_len = tor->len;
	to.store = memstore_factory(m);
	cr_assert_eq(session_add(s, &to, NOW, t, &err), 0, "%s", err.msg);
	for (int i = 0; i < 100 && (*t)->phase == TORRENT_CHECKING; i++)
		torrent_check_step(*t, NOW);
	cr_assert_eq((*t)->fatal, 0, "%s", (*t)->fatal_msg);
	return s;
}

/*
 * A seed's memory store checks as complete; one spoiled piece is
 * missing; a fresh download is not read at all (its bytes are holes),
 * so it starts with nothing had and nothing hashed.
 */
Test(memstore, session_checks_what_the_store_holds)
{
	uint8_t data[TOTAL];
	struct torrent *t;
	struct session *s;
	struct memstore *m;
	struct buf tor;

	payload(data, sizeof(data));
	buf_init(&tor, 1u << 16);
	torrent_bytes(data, &tor);

	cr_assert_not_null(m = memstore_new(data, TOTAL, true));
	s = check_in(m, &tor, &t);
	cr_assert_eq(t->phase, TORRENT_SEEDING);
	cr_assert(torrent_complete(t));
	cr_assert_eq(t->check_valid, 5);
	session_free(s);
	memstore_free(m);

	data[3 * PLEN] ^= 1;
	cr_assert_not_null(m = memstore_new(data, TOTAL, true));
	s = check_in(m, &tor, &t);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert_eq(t->have.count, 4);
	cr_assert_not(bitfield_get(&t->have, 3));
	cr_assert_eq(t->sel.left, PLEN);
	session_free(s);
	memstore_free(m);

	cr_assert_not_null(m = memstore_new(NULL, TOTAL, false));
	s = check_in(m, &tor, &t);
	cr_assert_eq(t->phase, TORRENT_DOWNLOADING);
	cr_assert_eq(t->have.count, 0);
	cr_assert_eq(t->check_bytes, 0, "holes are not hashed");
	cr_assert_eq(t->sel.left, TOTAL);
	session_free(s);
	memstore_free(m);
	buf_release(&tor);
}
