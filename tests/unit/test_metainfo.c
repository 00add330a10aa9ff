/*
 * test_metainfo.c: .torrent validation (core/metainfo.h: metainfo_parse)
 * and the reading of a .torrent file (net/fileio.h:
 * fileio_load_metainfo).  Torrents are built in-test with the bencode
 * encoder so each case shows exactly what it varies; the fixtures in
 * tests/data/ pin info-hashes computed independently with python3
 * hashlib over the raw info bytes.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bencode.h"
#include "core/hash.h"
#include "core/metainfo.h"
#include "net/fileio.h"

#define T_MAX	(4u << 20)

/* Where the "info" value sits in a built torrent. */
struct tor {
	struct buf	b;
	size_t		info_start;
	size_t		info_end;
};

static void
kstr(struct buf *o, const char *k, const char *v)
{
	cr_assert_eq(bencode_put_cstr(o, k), 0);
	cr_assert_eq(bencode_put_cstr(o, v), 0);
}

static void
kint(struct buf *o, const char *k, int64_t v)
{
	cr_assert_eq(bencode_put_cstr(o, k), 0);
	cr_assert_eq(bencode_put_int(o, v), 0);
}

/* "pieces" with n distinct fake hashes (piece i is 20 bytes of i). */
static void
kpieces_len(struct buf *o, size_t bytes)
{
	uint8_t *p = malloc(bytes + 1);
	size_t i;

	cr_assert_not_null(p);
	for (i = 0; i < bytes; i++)
		p[i] = (uint8_t)(i / 20);
	cr_assert_eq(bencode_put_cstr(o, "pieces"), 0);
	cr_assert_eq(bencode_put_str(o, p, bytes), 0);
	free(p);
}

static void
kpieces(struct buf *o, size_t n)
{
	kpieces_len(o, n * 20);
}

/* One files[] entry: length and a NULL-terminated list of components. */
static void
file_ent(struct buf *o, int64_t len, ...)
{
	const char *c;
	va_list ap;

	bencode_put_dict(o);
	kint(o, "length", len);
	bencode_put_cstr(o, "path");
	bencode_put_list(o);
	va_start(ap, len);
	while ((c = va_arg(ap, const char *)) != NULL)
		bencode_put_cstr(o, c);
	va_end(ap);
	bencode_put_end(o);
	bencode_put_end(o);
}

static void
tor_begin(struct tor *t, const char *announce)
{
	buf_init(&t->b, T_MAX);
	bencode_put_dict(&t->b);
	if (announce != NULL)
		kstr(&t->b, "announce", announce);
}

static void
info_begin(struct tor *t)
{
	bencode_put_cstr(&t->b, "info");
	t->info_start = t->b.len;
	bencode_put_dict(&t->b);
}

static void
info_end(struct tor *t)
{
	bencode_put_end(&t->b);
	t->info_end = t->b.len;
}

static void
tor_end(struct tor *t)
{
	cr_assert_eq(bencode_put_end(&t->b), 0);
}

/* A complete single-file torrent. */
static void
single(struct tor *t, const char *name, int64_t len, int64_t plen,
    size_t npieces)
{
	tor_begin(t, "http://tracker.example/announce");
	info_begin(t);
	kint(&t->b, "length", len);
	kstr(&t->b, "name", name);
	kint(&t->b, "piece length", plen);
	kpieces(&t->b, npieces);
	info_end(t);
	tor_end(t);
}

/* A multi-file torrent named "dir" with one file whose path is given. */
static void
one_file_path(struct tor *t, ...)
{
	const char *c;
	va_list ap;

	tor_begin(t, NULL);
	info_begin(t);
	bencode_put_cstr(&t->b, "files");
	bencode_put_list(&t->b);
	bencode_put_dict(&t->b);
	kint(&t->b, "length", 10);
	bencode_put_cstr(&t->b, "path");
	bencode_put_list(&t->b);
	va_start(ap, t);
	while ((c = va_arg(ap, const char *)) != NULL)
		bencode_put_cstr(&t->b, c);
	va_end(ap);
	bencode_put_end(&t->b);
	bencode_put_end(&t->b);
	bencode_put_end(&t->b);
	kstr(&t->b, "name", "dir");
	kint(&t->b, "piece length", 16384);
	kpieces(&t->b, 1);
	info_end(t);
	tor_end(t);
}

static int
parse(struct metainfo *m, const struct tor *t, struct thr_error *e)
{
	memset(e, 0, sizeof(*e));
	return metainfo_parse(m, t->b.data, t->b.len, e);
}

/* Expect rejection with code and a message containing what; check that
 * the failed parse left m zeroed. */
static void
expect_fail(struct tor *t, int code, const char *what)
{
	struct metainfo m, zero;
	struct thr_error e;
	int rc;

	rc = parse(&m, t, &e);
	cr_assert_eq(rc, code, "rc %d, want %d (%s)", rc, code, e.msg);
	cr_assert_eq(e.code, code);
	cr_assert(strstr(e.msg, what) != NULL, "message \"%s\" lacks \"%s\"",
	    e.msg, what);
	cr_assert(e.offset < t->b.len);
	memset(&zero, 0, sizeof(zero));
	cr_assert_eq(memcmp(&m, &zero, sizeof(m)), 0);
	metainfo_release(&m);
	buf_release(&t->b);
}

static void
expect_info_hash(const struct metainfo *m, const struct tor *t)
{
	uint8_t h[HASH_SHA1_LEN];

	cr_assert_eq(hash_sha1(t->b.data + t->info_start,
	    t->info_end - t->info_start, h), 0);
	cr_assert_eq(memcmp(m->info_hash, h, HASH_SHA1_LEN), 0);
}

/* tests/data, found from the environment under make check, else from
 * this file's own path (the build compiles it by absolute path). */
static void
data_path(char *out, size_t n, const char *name)
{
	const char *top = getenv("TOP_SRCDIR");
	const char *f = __FILE__, *slash;

	if (top != NULL) {
		snprintf(out, n, "%s/tests/data/%s", top, name);
		return;
	}
	slash = strstr(f, "tests/unit/");
	cr_assert_not_null(slash, "cannot locate tests/data from %s", f);
	snprintf(out, n, "%.*stests/data/%s", (int)(slash - f), f, name);
}

static void
hex_of(const struct metainfo *m, char *out)
{
	hash_hex(m->info_hash, HASH_SHA1_LEN, out);
}

Test(metainfo, valid_single_file)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	single(&t, "hello.txt", 100000, 32768, 4);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(m.name, "hello.txt");
	cr_assert_not(m.multi);
	cr_assert_eq(m.nfiles, 1);
	cr_assert_str_eq(m.files[0].path, "hello.txt");
	cr_assert_eq(m.files[0].length, 100000);
	cr_assert_eq(m.files[0].offset, 0);
	cr_assert_eq(m.total_length, 100000);
	cr_assert_eq(m.piece_length, 32768);
	cr_assert_eq(m.npieces, 4);
	cr_assert_eq(m.hashes[3 * 20], 3);
	cr_assert_eq(metainfo_piece_size(&m, 0), 32768);
	cr_assert_eq(metainfo_piece_size(&m, 3), 100000 - 3 * 32768);
	cr_assert_eq(metainfo_piece_size(&m, 4), 0);
	cr_assert_eq(m.ntiers, 1);
	cr_assert_eq(m.tiers[0].nurls, 1);
	cr_assert_str_eq(m.tiers[0].urls[0], "http://tracker.example/announce");
	cr_assert_not(m.is_private);
	cr_assert_null(m.comment);
	cr_assert_null(m.created_by);
	cr_assert_eq(m.creation_date, 0);
	expect_info_hash(&m, &t);
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, exact_piece_multiple)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	single(&t, "a", 65536, 16384, 4);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(metainfo_piece_size(&m, 3), 16384);
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, valid_multi_file_with_empty_file)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	file_ent(&t.b, 100, "a", "x.bin", NULL);
	file_ent(&t.b, 0, "empty", NULL);
	file_ent(&t.b, 50, "b", NULL);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "dir");
	kint(&t.b, "piece length", 64);
	kpieces(&t.b, 3);
	info_end(&t);
	tor_end(&t);

	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert(m.multi);
	cr_assert_eq(m.nfiles, 3);
	cr_assert_str_eq(m.files[0].path, "dir/a/x.bin");
	cr_assert_str_eq(m.files[1].path, "dir/empty");
	cr_assert_str_eq(m.files[2].path, "dir/b");
	cr_assert_eq(m.files[0].offset, 0);
	cr_assert_eq(m.files[1].offset, 100);
	cr_assert_eq(m.files[1].length, 0);
	cr_assert_eq(m.files[2].offset, 100);
	cr_assert_eq(m.files[2].length, 50);
	cr_assert_eq(m.total_length, 150);
	cr_assert_eq(m.npieces, 3);
	cr_assert_eq(metainfo_piece_size(&m, 0), 64);
	cr_assert_eq(metainfo_piece_size(&m, 1), 64);
	cr_assert_eq(metainfo_piece_size(&m, 2), 22);
	cr_assert_eq(m.ntiers, 0);
	expect_info_hash(&m, &t);
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, info_hash_uses_raw_unsorted_bytes)
{
	struct metainfo m, sorted;
	struct thr_error e;
	struct tor t, s;

	/* Keys out of order: a re-encoding would sort them and change the
	 * hash, so the hash must match the bytes as written. */
	tor_begin(&t, NULL);
	info_begin(&t);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	kint(&t.b, "length", 10);
	info_end(&t);
	tor_end(&t);
	single(&s, "a", 10, 16384, 1);

	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(parse(&sorted, &s, &e), 0, "%s", e.msg);
	expect_info_hash(&m, &t);
	cr_assert_neq(memcmp(m.info_hash, sorted.info_hash, 20), 0);
	metainfo_release(&m);
	metainfo_release(&sorted);
	buf_release(&t.b);
	buf_release(&s.b);
}

Test(metainfo, fixture_valid_single)
{
	struct metainfo m;
	struct thr_error e;
	char path[4096], hex[41];

	data_path(path, sizeof(path), "valid_single.torrent");
	cr_assert_eq(fileio_load_metainfo(&m, path, &e), 0, "%s", e.msg);
	hex_of(&m, hex);
	cr_assert_str_eq(hex, "cd6577e5bd59a246d72f25749a5160df8fdbd1b3");
	cr_assert_str_eq(m.name, "hello.txt");
	cr_assert_eq(m.total_length, 100000);
	cr_assert_eq(m.npieces, 4);
	cr_assert_str_eq(m.comment, "golden single-file");
	cr_assert_str_eq(m.created_by, "thorrent fixture");
	cr_assert_eq(m.creation_date, 1700000000);
	metainfo_release(&m);
}

Test(metainfo, fixture_valid_multi)
{
	struct metainfo m;
	struct thr_error e;
	char path[4096], hex[41];

	data_path(path, sizeof(path), "valid_multi.torrent");
	cr_assert_eq(fileio_load_metainfo(&m, path, &e), 0, "%s", e.msg);
	hex_of(&m, hex);
	cr_assert_str_eq(hex, "8256b31bc3ca9e850f118874e090a51fb7837b2a");
	cr_assert_eq(m.nfiles, 3);
	cr_assert_str_eq(m.files[0].path, "album/cd1/track1.flac");
	cr_assert_str_eq(m.files[1].path, "album/empty.txt");
	cr_assert_eq(m.files[1].offset, 20000);
	cr_assert_eq(m.files[2].offset, 20000);
	cr_assert_eq(m.total_length, 32000);
	cr_assert_eq(m.npieces, 2);
	cr_assert_eq(metainfo_piece_size(&m, 1), 32000 - 16384);
	cr_assert(m.is_private);
	cr_assert_eq(m.ntiers, 2);
	cr_assert_eq(m.tiers[0].nurls, 2);
	cr_assert_str_eq(m.tiers[1].urls[0], "udp://c.example:6969");
	metainfo_release(&m);
}

static void
expect_load_fail(const char *name, int code, const char *what)
{
	struct metainfo m;
	struct thr_error e;
	char path[4096];

	data_path(path, sizeof(path), name);
	cr_assert_eq(fileio_load_metainfo(&m, path, &e), code, "%s: %s",
	    name, e.msg);
	cr_assert(strstr(e.msg, what) != NULL, "%s: \"%s\"", name, e.msg);
	metainfo_release(&m);
}

Test(metainfo, fixtures_hostile)
{
	expect_load_fail("path_dotdot.torrent", THR_EUNSAFE,
	    "file path component \"..\" is unsafe");
	expect_load_fail("path_absolute.torrent", THR_EUNSAFE,
	    "\"/etc\" is unsafe");
	expect_load_fail("name_dotdot.torrent", THR_EUNSAFE,
	    "info.name \"..\" is unsafe");
	expect_load_fail("pieces_not_multiple_of_20.torrent", THR_EINVAL,
	    "not a multiple of 20");
	expect_load_fail("length_overflow.torrent", THR_EINVAL, "overflow");
	/* "name" twice with two values: which file would it be? */
	expect_load_fail("info_duplicate_key.torrent", THR_EINVAL,
	    "duplicate dictionary key");
}

Test(metainfo, load_missing_file)
{
	struct metainfo m;
	struct thr_error e;

	cr_assert_eq(fileio_load_metainfo(&m,
	    "/nonexistent/thorrent.torrent", &e), THR_ENOENT);
	cr_assert(strstr(e.msg, "No such file") != NULL, "%s", e.msg);
	metainfo_release(&m);
}

Test(metainfo, load_directory)
{
	struct metainfo m;
	struct thr_error e;

	cr_assert_eq(fileio_load_metainfo(&m, "/", &e), THR_EIO);
	cr_assert(strstr(e.msg, "not a regular file") != NULL, "%s", e.msg);
	metainfo_release(&m);
}

Test(metainfo, path_dotdot)
{
	struct tor t;

	one_file_path(&t, "..", "etc", "passwd", NULL);
	expect_fail(&t, THR_EUNSAFE, "file path component \"..\" is unsafe");
}

Test(metainfo, path_dotdot_later_component)
{
	struct tor t;

	one_file_path(&t, "ok", "..", "..", "x", NULL);
	expect_fail(&t, THR_EUNSAFE, "\"..\" is unsafe");
}

Test(metainfo, path_dot)
{
	struct tor t;

	one_file_path(&t, ".", "x", NULL);
	expect_fail(&t, THR_EUNSAFE, "\".\" is unsafe");
}

Test(metainfo, path_absolute)
{
	struct tor t;

	one_file_path(&t, "/etc", "passwd", NULL);
	expect_fail(&t, THR_EUNSAFE, "\"/etc\" is unsafe");
}

Test(metainfo, path_empty_component)
{
	struct tor t;

	one_file_path(&t, "a", "", "b", NULL);
	expect_fail(&t, THR_EUNSAFE, "\"\" is unsafe");
}

Test(metainfo, path_slash_inside_component)
{
	struct tor t;

	one_file_path(&t, "a/b", NULL);
	expect_fail(&t, THR_EUNSAFE, "\"a/b\" is unsafe");
}

Test(metainfo, path_backslash)
{
	struct tor t;

	one_file_path(&t, "..\\..\\windows", NULL);
	expect_fail(&t, THR_EUNSAFE, "is unsafe");
}

Test(metainfo, path_empty_list)
{
	struct tor t;

	one_file_path(&t, NULL);
	expect_fail(&t, THR_EUNSAFE, "info.files[0].path is empty");
}

Test(metainfo, path_embedded_nul)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	bencode_put_dict(&t.b);
	kint(&t.b, "length", 10);
	bencode_put_cstr(&t.b, "path");
	bencode_put_list(&t.b);
	bencode_put_str(&t.b, "ok\0../../x", 10);
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "dir");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	/* The NUL is shown as '?' so the message stays one clean line. */
	expect_fail(&t, THR_EUNSAFE, "\"ok?../../x\" is unsafe");
}

Test(metainfo, path_component_not_string)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	bencode_put_dict(&t.b);
	kint(&t.b, "length", 10);
	bencode_put_cstr(&t.b, "path");
	bencode_put_list(&t.b);
	bencode_put_int(&t.b, 7);
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "dir");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "component is not a string");
}

Test(metainfo, name_unsafe)
{
	struct tor t;

	single(&t, "..", 10, 16384, 1);
	expect_fail(&t, THR_EUNSAFE, "info.name \"..\" is unsafe");
	single(&t, "", 10, 16384, 1);
	expect_fail(&t, THR_EUNSAFE, "info.name \"\" is unsafe");
	single(&t, "/etc/passwd", 10, 16384, 1);
	expect_fail(&t, THR_EUNSAFE, "info.name");
	single(&t, ".", 10, 16384, 1);
	expect_fail(&t, THR_EUNSAFE, "info.name");
}

Test(metainfo, name_escapes_are_quoted_safely)
{
	struct thr_error e;
	struct metainfo m;
	struct tor t;

	single(&t, "../\x1b[2J", 10, 16384, 1);
	cr_assert_eq(parse(&m, &t, &e), THR_EUNSAFE);
	cr_assert(strchr(e.msg, '\x1b') == NULL, "%s", e.msg);
	buf_release(&t.b);
}

Test(metainfo, name_missing)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.name missing");
}

Test(metainfo, name_utf8_preferred)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "caf\xe9");
	kstr(&t.b, "name.utf-8", "caf\xc3\xa9");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(m.name, "caf\xc3\xa9");
	cr_assert_str_eq(m.files[0].path, "caf\xc3\xa9");
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, name_utf8_invalid_falls_back)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "plain");
	/* An overlong encoding of '/' is not valid UTF-8. */
	kstr(&t.b, "name.utf-8", "a\xc0\xaf" "b");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(m.name, "plain");
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, name_utf8_unsafe_rejected)
{
	struct tor t;

	/* The preferred key gets the same checks as the plain one. */
	tor_begin(&t, NULL);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "fine");
	kstr(&t.b, "name.utf-8", "..");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EUNSAFE, "info.name \"..\" is unsafe");
}

Test(metainfo, path_utf8_preferred)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	bencode_put_dict(&t.b);
	kint(&t.b, "length", 10);
	bencode_put_cstr(&t.b, "path");
	bencode_put_list(&t.b);
	bencode_put_cstr(&t.b, "na\xefve");
	bencode_put_end(&t.b);
	bencode_put_cstr(&t.b, "path.utf-8");
	bencode_put_list(&t.b);
	bencode_put_cstr(&t.b, "sub");
	bencode_put_cstr(&t.b, "na\xc3\xafve");
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "dir");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(m.files[0].path, "dir/sub/na\xc3\xafve");
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, path_utf8_unsafe_rejected)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	bencode_put_dict(&t.b);
	kint(&t.b, "length", 10);
	bencode_put_cstr(&t.b, "path");
	bencode_put_list(&t.b);
	bencode_put_cstr(&t.b, "safe");
	bencode_put_end(&t.b);
	bencode_put_cstr(&t.b, "path.utf-8");
	bencode_put_list(&t.b);
	bencode_put_cstr(&t.b, "..");
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "dir");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EUNSAFE, "\"..\" is unsafe");
}

Test(metainfo, pieces_not_multiple_of_20)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces_len(&t.b, 30);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.pieces length 30 is not a multiple "
	    "of 20");
}

Test(metainfo, wrong_piece_count)
{
	struct tor t;

	single(&t, "a", 100000, 32768, 3);
	expect_fail(&t, THR_EINVAL, "holds 3 hashes, expected 4");
	single(&t, "a", 100000, 32768, 5);
	expect_fail(&t, THR_EINVAL, "holds 5 hashes, expected 4");
	single(&t, "a", 65536, 16384, 5);
	expect_fail(&t, THR_EINVAL, "expected 4");
}

Test(metainfo, piece_length_invalid)
{
	struct tor t;

	single(&t, "a", 10, 0, 1);
	expect_fail(&t, THR_EINVAL, "info.piece length 0 is not positive");
	single(&t, "a", 10, -16384, 1);
	expect_fail(&t, THR_EINVAL, "is not positive");
	single(&t, "a", 10, (int64_t)1 << 40, 1);
	expect_fail(&t, THR_ELIMIT, "info.piece length");
	single(&t, "a", 10, (int64_t)METAINFO_MAX_PIECE_LEN + 1, 1);
	expect_fail(&t, THR_ELIMIT, "larger than");
}

Test(metainfo, piece_length_at_cap)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	single(&t, "a", (int64_t)METAINFO_MAX_PIECE_LEN * 2,
	    METAINFO_MAX_PIECE_LEN, 2);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(metainfo_piece_size(&m, 1), METAINFO_MAX_PIECE_LEN);
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, piece_length_missing)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "a");
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.piece length missing");
}

Test(metainfo, pieces_missing)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.pieces missing");
}

Test(metainfo, length_overflow)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	file_ent(&t.b, (int64_t)1 << 62, "a", NULL);
	file_ent(&t.b, (int64_t)1 << 62, "b", NULL);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "dir");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.files[1].length overflows");
}

Test(metainfo, length_huge_single)
{
	struct tor t;

	/* Fits int64 but needs far more pieces than were given. */
	single(&t, "a", INT64_MAX, 16384, 1);
	expect_fail(&t, THR_EINVAL, "expected");
}

Test(metainfo, length_negative)
{
	struct tor t;

	single(&t, "a", -5, 16384, 1);
	expect_fail(&t, THR_EINVAL, "info.length -5 is negative");

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	file_ent(&t.b, 10, "a", NULL);
	file_ent(&t.b, -1, "b", NULL);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "dir");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.files[1].length -1 is negative");
}

Test(metainfo, no_data)
{
	struct tor t;

	single(&t, "a", 0, 16384, 0);
	expect_fail(&t, THR_EINVAL, "torrent has no data");

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	file_ent(&t.b, 0, "a", NULL);
	file_ent(&t.b, 0, "b", NULL);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "dir");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 0);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "torrent has no data");
}

Test(metainfo, length_and_files_missing_or_both)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.length and info.files missing");

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	file_ent(&t.b, 10, "a", NULL);
	bencode_put_end(&t.b);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "both length and files");
}

Test(metainfo, files_malformed)
{
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kstr(&t.b, "files", "nope");
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.files is not a list");

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	bencode_put_int(&t.b, 1);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.files[0] is not a dictionary");

	tor_begin(&t, NULL);
	info_begin(&t);
	bencode_put_cstr(&t.b, "files");
	bencode_put_list(&t.b);
	bencode_put_dict(&t.b);
	kint(&t.b, "length", 10);
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	expect_fail(&t, THR_EINVAL, "info.files[0].path missing");
}

Test(metainfo, root_and_info_malformed)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	buf_init(&t.b, T_MAX);
	buf_puts(&t.b, "li1ee");
	expect_fail(&t, THR_EINVAL, "torrent is not a dictionary");

	buf_init(&t.b, T_MAX);
	buf_puts(&t.b, "d8:announce3:urle");
	expect_fail(&t, THR_EINVAL, "info missing");

	buf_init(&t.b, T_MAX);
	buf_puts(&t.b, "d4:infoi1ee");
	expect_fail(&t, THR_EINVAL, "info is not a dictionary");

	/* A bencode error comes through with its own offset. */
	buf_init(&t.b, T_MAX);
	buf_puts(&t.b, "d4:infod6:lengthi03eee");
	cr_assert_eq(parse(&m, &t, &e), THR_EINVAL);
	cr_assert_eq(e.offset, 17);
	cr_assert(strstr(e.msg, "leading zero") != NULL);
	buf_release(&t.b);
}

Test(metainfo, announce_list_tiers)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	tor_begin(&t, "http://ignored/announce");
	bencode_put_cstr(&t.b, "announce-list");
	bencode_put_list(&t.b);
	bencode_put_list(&t.b);
	bencode_put_cstr(&t.b, "http://a/announce");
	bencode_put_cstr(&t.b, "http://b/announce");
	bencode_put_end(&t.b);
	bencode_put_list(&t.b);			/* empty tier: skipped */
	bencode_put_end(&t.b);
	bencode_put_cstr(&t.b, "not-a-tier");	/* not a list: skipped */
	bencode_put_list(&t.b);
	bencode_put_int(&t.b, 5);		/* not a string: skipped */
	bencode_put_cstr(&t.b, "udp://c:80");
	bencode_put_cstr(&t.b, "");		/* empty URL: skipped */
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);

	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(m.ntiers, 2);
	cr_assert_eq(m.tiers[0].nurls, 2);
	cr_assert_str_eq(m.tiers[0].urls[0], "http://a/announce");
	cr_assert_str_eq(m.tiers[0].urls[1], "http://b/announce");
	cr_assert_eq(m.tiers[1].nurls, 1);
	cr_assert_str_eq(m.tiers[1].urls[0], "udp://c:80");
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, announce_list_empty_falls_back)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	tor_begin(&t, "http://only/announce");
	bencode_put_cstr(&t.b, "announce-list");
	bencode_put_list(&t.b);
	bencode_put_list(&t.b);
	bencode_put_end(&t.b);
	bencode_put_end(&t.b);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);

	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(m.ntiers, 1);
	cr_assert_eq(m.tiers[0].nurls, 1);
	cr_assert_str_eq(m.tiers[0].urls[0], "http://only/announce");
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, no_trackers_allowed)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(m.ntiers, 0);
	cr_assert_null(m.tiers);
	metainfo_release(&m);
	buf_release(&t.b);
}

/* An announce-list of ntiers tiers of per URLs each, "http://tI.J/a". */
static void
many_trackers(struct tor *t, unsigned ntiers, unsigned per)
{
	char url[64];

	tor_begin(t, NULL);
	bencode_put_cstr(&t->b, "announce-list");
	bencode_put_list(&t->b);
	for (unsigned i = 0; i < ntiers; i++) {
		bencode_put_list(&t->b);
		for (unsigned j = 0; j < per; j++) {
			snprintf(url, sizeof(url), "http://t%u.%u/a", i, j);
			cr_assert_eq(bencode_put_cstr(&t->b, url), 0);
		}
		bencode_put_end(&t->b);
	}
	bencode_put_end(&t->b);
	info_begin(t);
	kint(&t->b, "length", 10);
	kstr(&t->b, "name", "a");
	kint(&t->b, "piece length", 16384);
	kpieces(&t->b, 1);
	info_end(t);
	tor_end(t);
}

static size_t
count_urls(const struct metainfo *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->ntiers; i++)
		n += m->tiers[i].nurls;
	return n;
}

Test(metainfo, too_many_trackers_capped)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	/* One tier past the cap: the first tiers are kept, the rest
	 * counted, and the torrent is still usable. */
	many_trackers(&t, METAINFO_MAX_TRACKERS + 1, 1);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(m.ntiers, METAINFO_MAX_TRACKERS);
	cr_assert_eq(count_urls(&m), METAINFO_MAX_TRACKERS);
	cr_assert_eq(m.trackers_dropped, 1);
	cr_assert_str_eq(m.tiers[0].urls[0], "http://t0.0/a");
	cr_assert_str_eq(m.tiers[METAINFO_MAX_TRACKERS - 1].urls[0],
	    "http://t255.0/a");
	metainfo_release(&m);
	buf_release(&t.b);

	/* Exactly the cap: nothing dropped. */
	many_trackers(&t, 2, METAINFO_MAX_TRACKERS / 2);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(count_urls(&m), METAINFO_MAX_TRACKERS);
	cr_assert_eq(m.trackers_dropped, 0);
	metainfo_release(&m);
	buf_release(&t.b);

	/* A tier that crosses the cap keeps its head. */
	many_trackers(&t, 3, 100);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(m.ntiers, 3);
	cr_assert_eq(m.tiers[2].nurls, METAINFO_MAX_TRACKERS - 200);
	cr_assert_str_eq(m.tiers[2].urls[0], "http://t2.0/a");
	cr_assert_eq(m.trackers_dropped, 300 - METAINFO_MAX_TRACKERS);
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, announce_list_of_100000_urls)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	/* Both shapes: one huge tier, and 100,000 tiers of one. */
	many_trackers(&t, 1, 100000);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(m.ntiers, 1);
	cr_assert_eq(m.tiers[0].nurls, METAINFO_MAX_TRACKERS);
	cr_assert_eq(m.trackers_dropped, 100000 - METAINFO_MAX_TRACKERS);
	metainfo_release(&m);
	buf_release(&t.b);

	many_trackers(&t, 100000, 1);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(m.ntiers, METAINFO_MAX_TRACKERS);
	cr_assert_eq(m.trackers_dropped, 100000 - METAINFO_MAX_TRACKERS);
	metainfo_release(&m);
	buf_release(&t.b);
}

static void
private_case(int64_t v, bool present, bool want)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	tor_begin(&t, NULL);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	if (present)
		kint(&t.b, "private", v);
	info_end(&t);
	tor_end(&t);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(m.is_private, want, "private=%lld", (long long)v);
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, private_flag)
{
	private_case(1, true, true);
	private_case(0, true, false);
	private_case(2, true, false);
	private_case(0, false, false);
}

Test(metainfo, optional_strings)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	tor_begin(&t, NULL);
	kstr(&t.b, "comment", "hello");
	kstr(&t.b, "created by", "me");
	kint(&t.b, "creation date", 1234567890);
	info_begin(&t);
	kint(&t.b, "length", 10);
	kstr(&t.b, "name", "a");
	kint(&t.b, "piece length", 16384);
	kpieces(&t.b, 1);
	info_end(&t);
	tor_end(&t);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	cr_assert_str_eq(m.comment, "hello");
	cr_assert_str_eq(m.created_by, "me");
	cr_assert_eq(m.creation_date, 1234567890);
	metainfo_release(&m);
	buf_release(&t.b);
}

Test(metainfo, component_ok)
{
	cr_assert(metainfo_component_ok((const uint8_t *)"a", 1));
	cr_assert(metainfo_component_ok((const uint8_t *)"...", 3));
	cr_assert(metainfo_component_ok((const uint8_t *)".hidden", 7));
	cr_assert(metainfo_component_ok((const uint8_t *)"a..b", 4));
	cr_assert_not(metainfo_component_ok((const uint8_t *)"", 0));
	cr_assert_not(metainfo_component_ok(NULL, 0));
	cr_assert_not(metainfo_component_ok((const uint8_t *)".", 1));
	cr_assert_not(metainfo_component_ok((const uint8_t *)"..", 2));
	cr_assert_not(metainfo_component_ok((const uint8_t *)"a/b", 3));
	cr_assert_not(metainfo_component_ok((const uint8_t *)"/", 1));
	cr_assert_not(metainfo_component_ok((const uint8_t *)"a\\b", 3));
	cr_assert_not(metainfo_component_ok((const uint8_t *)"a\0b", 3));
}

Test(metainfo, release_is_idempotent)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;

	single(&t, "a", 10, 16384, 1);
	cr_assert_eq(parse(&m, &t, &e), 0, "%s", e.msg);
	metainfo_release(&m);
	metainfo_release(&m);
	cr_assert_null(m.files);
	buf_release(&t.b);
}

Test(metainfo, every_truncation_rejected)
{
	struct metainfo m;
	struct thr_error e;
	struct tor t;
	size_t n;

	/* No prefix of a valid torrent parses, and none may crash. */
	single(&t, "hello", 100, 64, 2);
	for (n = 0; n < t.b.len; n++)
		cr_assert_neq(metainfo_parse(&m, t.b.data, n, &e), 0,
		    "prefix %zu parsed", n);
	buf_release(&t.b);
}

Test(metainfo, hash_helpers)
{
	uint8_t h[HASH_SHA1_LEN], h2[HASH_SHA1_LEN];
	struct hash_ctx c;
	char hex[41];

	cr_assert_eq(hash_sha1("abc", 3, h), 0);
	hash_hex(h, sizeof(h), hex);
	cr_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	cr_assert_eq(hash_sha1(NULL, 0, h), 0);
	hash_hex(h, sizeof(h), hex);
	cr_assert_str_eq(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");

	cr_assert_eq(hash_init(&c), 0);
	cr_assert_eq(hash_update(&c, "a", 1), 0);
	cr_assert_eq(hash_update(&c, "", 0), 0);
	cr_assert_eq(hash_update(&c, "bc", 2), 0);
	cr_assert_eq(hash_final(&c, h2), 0);
	cr_assert_null(c.evp);
	hash_abort(&c);
	cr_assert_eq(hash_sha1("abc", 3, h), 0);
	cr_assert_eq(memcmp(h, h2, sizeof(h)), 0);

	cr_assert_eq(hash_init(&c), 0);
	hash_abort(&c);
	cr_assert_null(c.evp);
}
