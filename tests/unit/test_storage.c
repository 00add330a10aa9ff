/*
 * test_storage.c: the disk store (net/storage.h): mapping, writing,
 * reading torrent bytes across files, refusing paths that would lead out
 * of the directory, and the store interface it gives the core
 * (core/store.h: storage_factory's operations, the resume record beside
 * the data); with the piece checks every store shares (core/store.c:
 * store_verify_span, store_piece_matches) run over data on disk.
 *
 * The metainfo here is built by hand (not parsed) so that these tests
 * depend only on storage; hashes come straight from OpenSSL EVP so they
 * check hash.c too rather than trusting it.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/metainfo.h"
#include "core/store.h"
#include "net/storage.h"

#define PLEN	30000u	/* does not divide any file size */

static char	 tmpdir[64];
static char	 outside[64];

static void
sha1(const uint8_t *p, size_t n, uint8_t out[20])
{
	unsigned int len = 0;

	cr_assert_eq(EVP_Digest(p, n, out, &len, EVP_sha1(), NULL), 1);
	cr_assert_eq(len, 20);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
rm_rf(const char *path)
{
	if (path[0] != '\0')
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
setup_dirs(void)
{
	strcpy(tmpdir, "/tmp/thr-storage-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	strcpy(outside, "/tmp/thr-outside-XXXXXX");
	cr_assert_not_null(mkdtemp(outside));
}

static void
teardown_dirs(void)
{
	rm_rf(tmpdir);
	rm_rf(outside);
}

/* A deterministic, position-dependent pattern (never all zeros). */
static uint8_t
pattern(uint64_t off)
{
	return (uint8_t)((off * 2654435761u) >> 13 ^ off);
}

/*
 * Fill mi from (path, length) pairs; computes offsets, pieces and their
 * hashes over data (total bytes of pattern()), which the caller frees.
 */
static void
mi_build(struct metainfo *mi, const char *const *paths,
    const uint64_t *lens, size_t n, uint64_t plen, uint8_t **datap)
{
	uint64_t off = 0, i, sz;
	uint8_t *data;
	size_t k;

	memset(mi, 0, sizeof(*mi));
	mi->files = calloc(n > 0 ? n : 1, sizeof(*mi->files));
	cr_assert_not_null(mi->files);
	for (k = 0; k < n; k++) {
		mi->files[k].path = paths[k] ? strdup(paths[k]) : NULL;
		mi->files[k].length = lens[k];
		mi->files[k].offset = off;
		off += lens[k];
	}
	mi->nfiles = n;
	mi->total_length = off;
	mi->piece_length = plen;
	mi->npieces = (uint32_t)((off + plen - 1) / plen);
	mi->hashes = calloc(mi->npieces > 0 ? mi->npieces : 1, 20);
	cr_assert_not_null(mi->hashes);
	data = malloc(off > 0 ? off : 1);
	cr_assert_not_null(data);
	for (i = 0; i < off; i++)
		data[i] = pattern(i);
	for (i = 0; i < mi->npieces; i++) {
		sz = off - i * plen < plen ? off - i * plen : plen;
		sha1(data + i * plen, sz, mi->hashes + 20 * i);
	}
	if (datap != NULL)
		*datap = data;
	else
		free(data);
}

static void
mi_free(struct metainfo *mi)
{
	size_t k;

	for (k = 0; k < mi->nfiles; k++)
		free(mi->files[k].path);
	free(mi->files);
	free(mi->hashes);
	memset(mi, 0, sizeof(*mi));
}

/* The standard torrent: three files, the middle one empty, nested. */
static const char *const std_paths[] = {
	"t/a.bin", "t/empty", "t/sub/dir/c.bin"
};
static const uint64_t std_lens[] = { 100000, 0, 70001 };

static void
std_build(struct metainfo *mi, uint8_t **data)
{
	mi_build(mi, std_paths, std_lens, 3, PLEN, data);
}

static char *
under(const char *base, const char *rel)
{
	static char p[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", base, rel);
	return p[k];
}

static off_t
size_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return -1;
	return st.st_size;
}

static bool
dir_is_empty(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A '%s')\"", path);
	return system(cmd) == 0;
}

/*
 * The disk storage s read as the core reads a store: the piece checks
 * live in core/store.c and need only the read operation, which is
 * storage_read for the disk backend (as storage_factory's store has it).
 */
static int
disk_read(void *ctx, uint64_t off, uint8_t *p, size_t len)
{
	return storage_read(ctx, off, p, len);
}

static const struct store_ops disk_read_ops = { .read = disk_read };

static int
verify_span(struct storage *s, uint32_t first, uint32_t n, uint8_t *buf,
    bool *ok)
{
	struct store st = { &disk_read_ops, s };

	return store_verify_span(&st, s->mi, first, n, buf, ok);
}

static int
verify_piece(struct storage *s, uint32_t i, uint8_t *buf, bool *ok)
{
	return verify_span(s, i, 1, buf, ok);
}

/* storage_map */

TestSuite(storage, .init = setup_dirs, .fini = teardown_dirs);

Test(storage, map_inside_one_file)
{
	struct metainfo mi;
	struct storage_span sp[4];

	std_build(&mi, NULL);
	cr_assert_eq(storage_map(&mi, 10, 100, sp, 4), 1);
	cr_assert_eq(sp[0].file, 0);
	cr_assert_eq(sp[0].file_off, 10);
	cr_assert_eq(sp[0].len, 100);
	cr_assert_eq(storage_map(&mi, 100000, 5, sp, 4), 1);
	cr_assert_eq(sp[0].file, 2, "the empty file owns no bytes");
	cr_assert_eq(sp[0].file_off, 0);
	cr_assert_eq(sp[0].len, 5);
	mi_free(&mi);
}

Test(storage, map_across_empty_file)
{
	struct metainfo mi;
	struct storage_span sp[4];

	std_build(&mi, NULL);
	/* Piece 3 is [90000, 120000): the tail of a.bin, head of c.bin. */
	cr_assert_eq(storage_map(&mi, 3 * PLEN, PLEN, sp, 4), 2);
	cr_assert_eq(sp[0].file, 0);
	cr_assert_eq(sp[0].file_off, 90000);
	cr_assert_eq(sp[0].len, 10000);
	cr_assert_eq(sp[1].file, 2);
	cr_assert_eq(sp[1].file_off, 0);
	cr_assert_eq(sp[1].len, 20000);
	mi_free(&mi);
}

Test(storage, map_last_byte_and_clamp)
{
	struct metainfo mi;
	struct storage_span sp[4];

	std_build(&mi, NULL);
	cr_assert_eq(storage_map(&mi, 170000, 1, sp, 4), 1);
	cr_assert_eq(sp[0].file, 2);
	cr_assert_eq(sp[0].file_off, 70000);
	cr_assert_eq(sp[0].len, 1);
	/* Last piece is short: the range is clamped to the torrent. */
	cr_assert_eq(storage_map(&mi, 5 * PLEN, PLEN, sp, 4), 1);
	cr_assert_eq(sp[0].len, 170001 - 5 * PLEN);
	cr_assert_eq(storage_map(&mi, 170001, 1, sp, 4), 0);
	cr_assert_eq(storage_map(&mi, UINT64_MAX, UINT64_MAX, sp, 4), 0);
	cr_assert_eq(storage_map(&mi, 5, 0, sp, 4), 0);
	mi_free(&mi);
}

Test(storage, map_reports_needed_beyond_max)
{
	struct metainfo mi;
	struct storage_span sp[2];

	memset(sp, 0xaa, sizeof(sp));
	std_build(&mi, NULL);
	cr_assert_eq(storage_map(&mi, 0, 170001, sp, 1), 2);
	cr_assert_eq(sp[0].file, 0);
	cr_assert_eq(sp[0].len, 100000);
	cr_assert_eq(sp[1].file, (size_t)0xaaaaaaaaaaaaaaaaull,
	    "must not write past max");
	cr_assert_eq(storage_map(&mi, 0, 170001, NULL, 0), 2);
	mi_free(&mi);
}

Test(storage, map_leading_and_trailing_empty_files)
{
	static const char *const paths[] = { "e0", "e1", "x", "e2", "y",
		"e3" };
	static const uint64_t lens[] = { 0, 0, 3, 0, 4, 0 };
	struct metainfo mi;
	struct storage_span sp[4];

	mi_build(&mi, paths, lens, 6, 2, NULL);
	cr_assert_eq(storage_map(&mi, 0, 7, sp, 4), 2);
	cr_assert_eq(sp[0].file, 2);
	cr_assert_eq(sp[0].len, 3);
	cr_assert_eq(sp[1].file, 4);
	cr_assert_eq(sp[1].file_off, 0);
	cr_assert_eq(sp[1].len, 4);
	cr_assert_eq(storage_map(&mi, 6, 1, sp, 4), 1);
	cr_assert_eq(sp[0].file, 4);
	cr_assert_eq(sp[0].file_off, 3);
	mi_free(&mi);
}

Test(storage, map_many_files_binary_search)
{
	struct metainfo mi;
	struct storage_span sp[4];
	const size_t n = 1000000;
	uint64_t off = 0, o;
	size_t k, got;

	/* A million files, every third empty, the others 1..7 bytes. */
	memset(&mi, 0, sizeof(mi));
	mi.files = calloc(n, sizeof(*mi.files));
	cr_assert_not_null(mi.files);
	for (k = 0; k < n; k++) {
		mi.files[k].length = k % 3 == 1 ? 0 : 1 + k % 7;
		mi.files[k].offset = off;
		off += mi.files[k].length;
	}
	mi.nfiles = n;
	mi.total_length = off;
	for (k = 0; k < n; k += 9973) {
		if (mi.files[k].length == 0)
			continue;
		o = mi.files[k].offset + mi.files[k].length - 1;
		got = storage_map(&mi, o, 2, sp, 4);
		cr_assert_eq(got, 2);
		cr_assert_eq(sp[0].file, k);
		cr_assert_eq(sp[0].len, 1);
		cr_assert_eq(sp[1].file, mi.files[k + 1].length ? k + 1 :
		    k + 2);
	}
	free(mi.files);
}

/* storage_open */

Test(storage, open_creates_full_length_and_dirs)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	struct stat st;

	std_build(&mi, NULL);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(size_of(under(tmpdir, "t/a.bin")), 100000);
	cr_assert_eq(size_of(under(tmpdir, "t/empty")), 0);
	cr_assert_eq(size_of(under(tmpdir, "t/sub/dir/c.bin")), 70001);
	cr_assert_eq(stat(under(tmpdir, "t/sub/dir"), &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(s.nopen + s.nhigh, 3);
	storage_close(&s);
	storage_close(&s);	/* twice is harmless */
	mi_free(&mi);
}

Test(storage, open_is_sparse)
{
	static const char *const paths[] = { "big" };
	static const uint64_t lens[] = { 256u << 20 };
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	struct stat st;

	/* Build by hand: hashing 256 MiB would be slow and is not needed. */
	memset(&mi, 0, sizeof(mi));
	mi.files = calloc(1, sizeof(*mi.files));
	mi.files[0].path = strdup(paths[0]);
	mi.files[0].length = lens[0];
	mi.nfiles = 1;
	mi.total_length = lens[0];
	mi.piece_length = 1u << 20;
	mi.npieces = 256;
	mi.hashes = calloc(256, 20);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(under(tmpdir, "big"), &st), 0);
	cr_assert_eq((uint64_t)st.st_size, lens[0]);
	cr_assert_lt((uint64_t)st.st_blocks * 512, lens[0] / 16,
	    "file should be sparse");
	storage_close(&s);
	mi_free(&mi);
}

Test(storage, open_creates_download_dir_like_mkdir_p)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	char *dir = under(tmpdir, "x/y//z/");

	std_build(&mi, NULL);
	cr_assert_eq(storage_open(&s, &mi, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(size_of(under(tmpdir, "x/y/z/t/a.bin")), 100000);
	storage_close(&s);
	/* Existing directory: fine again. */
	cr_assert_eq(storage_open(&s, &mi, dir, &err), 0, "%s", err.msg);
	storage_close(&s);
	mi_free(&mi);
}

Test(storage, open_dir_is_a_file_fails)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	char *dir = under(tmpdir, "plain");
	int fd;

	fd = open(dir, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	std_build(&mi, NULL);
	cr_assert_eq(storage_open(&s, &mi, dir, &err), THR_EIO);
	cr_assert_not_null(strstr(err.msg, "plain"), "%s", err.msg);
	cr_assert_eq(s.dirfd, -1);
	cr_assert_null(s.fds);
	mi_free(&mi);
}

/* storage_write / storage_read, checked with store_verify_span */

Test(storage, write_out_of_order_read_back_verify)
{
	static const uint32_t order[] = { 5, 2, 0, 4, 1, 3 };
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data, *back, *scratch;
	uint64_t off, sz;
	uint32_t i, k;
	bool ok;

	std_build(&mi, &data);
	cr_assert_eq(mi.npieces, 6);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	scratch = malloc(PLEN);

	/* Nothing written yet: every piece is zeros and fails. */
	for (i = 0; i < mi.npieces; i++) {
		cr_assert_eq(verify_piece(&s, i, scratch, &ok), 0);
		cr_assert_not(ok);
	}
	for (k = 0; k < 6; k++) {
		i = order[k];
		off = (uint64_t)i * PLEN;
		sz = mi.total_length - off < PLEN ? mi.total_length - off :
		    PLEN;
		cr_assert_eq(storage_write(&s, off, data + off, sz), 0);
	}
	for (i = 0; i < mi.npieces; i++) {
		cr_assert_eq(verify_piece(&s, i, scratch, &ok), 0);
		cr_assert(ok, "piece %u", i);
	}
	back = malloc(mi.total_length);
	cr_assert_eq(storage_read(&s, 0, back, mi.total_length), 0);
	cr_assert_eq(memcmp(back, data, mi.total_length), 0);
	/* An odd range crossing the empty file. */
	cr_assert_eq(storage_read(&s, 99990, back, 33), 0);
	cr_assert_eq(memcmp(back, data + 99990, 33), 0);
	storage_close(&s);

	/* What is on disk is the torrent, file by file. */
	cr_assert_eq(size_of(under(tmpdir, "t/a.bin")), 100000);
	cr_assert_eq(size_of(under(tmpdir, "t/sub/dir/c.bin")), 70001);
	free(back);
	free(scratch);
	free(data);
	mi_free(&mi);
}

/*
 * storage_writev: buffers written back to back, within one file (one
 * pwritev) and across the file boundaries and the empty file (span by
 * span); the count and the range are checked.
 */
Test(storage, writev_within_and_across_files)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	struct iovec v[4];
	uint8_t *data, *back;

	std_build(&mi, &data);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	back = calloc(1, mi.total_length);
	/* Inside a.bin: three uneven pieces of [1000, 61000). */
	v[0].iov_base = data + 1000;
	v[0].iov_len = 7;
	v[1].iov_base = data + 1007;
	v[1].iov_len = 40000;
	v[2].iov_base = data + 41007;
	v[2].iov_len = 19993;
	cr_assert_eq(storage_writev(&s, 1000, v, 3), 0);
	/* Across the end of a.bin and the empty file into c.bin. */
	v[0].iov_base = data + 99000;
	v[0].iov_len = 500;
	v[1].iov_base = data + 99500;
	v[1].iov_len = 1000;
	v[2].iov_base = data + 100500;
	v[2].iov_len = 2000;
	cr_assert_eq(storage_writev(&s, 99000, v, 3), 0);
	cr_assert_eq(storage_read(&s, 0, back, mi.total_length), 0);
	cr_assert_eq(memcmp(back + 1000, data + 1000, 60000), 0);
	cr_assert_eq(memcmp(back + 99000, data + 99000, 3500), 0);
	cr_assert_eq(back[999], 0, "nothing before the range");
	cr_assert_eq(back[61000], 0, "nothing after it");
	cr_assert_eq(back[102500], 0);
	/* Nothing to write; too many buffers; past the end. */
	cr_assert_eq(storage_writev(&s, 0, v, 0), 0);
	cr_assert_eq(storage_writev(&s, 0, v, STORAGE_IOV_MAX + 1),
	    THR_EINVAL);
	v[0].iov_base = data;
	v[0].iov_len = 2;
	cr_assert_eq(storage_writev(&s, mi.total_length - 1, v, 1),
	    THR_EINVAL);
	storage_close(&s);
	free(back);
	free(data);
	mi_free(&mi);
}

/* With room under the process limit, every file stays open, above the
 * descriptors select() can watch, so sockets keep the low numbers. */
Test(storage, files_kept_open_above_fd_setsize)
{
	enum { N = 600 };
	static char names[N][32];
	const char *paths[N];
	uint64_t lens[N];
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	struct rlimit rl;
	uint8_t *data, *back;
	size_t k;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < FD_SETSIZE + STORAGE_FD_RESERVE + N + 64)
		cr_skip_test("the fd limit is too low for this test");
	/* Ten files a directory, in order: the directory is reopened
	 * once per ten files, and a file at the top level between. */
	for (k = 0; k < N; k++) {
		if (k % 50 == 49)
			snprintf(names[k], sizeof(names[k]), "top%zu", k);
		else
			snprintf(names[k], sizeof(names[k]), "d%zu/x/f%zu",
			    k / 10, k);
		paths[k] = names[k];
		lens[k] = 1 + k % 29;
	}
	mi_build(&mi, paths, lens, N, 64, &data);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(s.nhigh, N);
	cr_assert_eq(s.nopen, 0);
	for (k = 0; k < N; k++)
		cr_assert_geq(s.fds[k], FD_SETSIZE, "file %zu", k);
	cr_assert_eq(storage_write(&s, 0, data, mi.total_length), 0);
	back = malloc(mi.total_length);
	cr_assert_eq(storage_read(&s, 0, back, mi.total_length), 0);
	cr_assert_eq(memcmp(back, data, mi.total_length), 0);
	storage_close(&s);
	cr_assert_eq(size_of(under(tmpdir, names[N - 2])),
	    (off_t)lens[N - 2]);
	free(back);
	free(data);
	mi_free(&mi);
}

Test(storage, verify_span_matches_piece_by_piece)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data, *scratch, bad = 0xff;
	bool ok[6], one;
	uint32_t i;

	std_build(&mi, &data);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	scratch = malloc((size_t)6 * PLEN);
	cr_assert_eq(storage_write(&s, 0, data, mi.total_length), 0);
	/* Spoil one byte of piece 3: only it may fail, in every span. */
	cr_assert_eq(storage_write(&s, 3 * (uint64_t)PLEN + 7, &bad, 1), 0);
	cr_assert_eq(verify_span(&s, 0, 6, scratch, ok), 0);
	for (i = 0; i < 6; i++) {
		cr_assert_eq(verify_piece(&s, i, scratch, &one), 0);
		cr_assert_eq(ok[i], one, "piece %u", i);
		cr_assert_eq(ok[i], i != 3, "piece %u", i);
	}
	/* A span ending on the short last piece, and one of one piece. */
	cr_assert_eq(verify_span(&s, 4, 2, scratch, ok), 0);
	cr_assert(ok[0] && ok[1]);
	cr_assert_eq(verify_span(&s, 3, 1, scratch, ok), 0);
	cr_assert_not(ok[0]);
	/* Spans that leave the torrent are refused. */
	cr_assert_eq(verify_span(&s, 5, 2, scratch, ok), THR_EINVAL);
	cr_assert_eq(verify_span(&s, 6, 1, scratch, ok), THR_EINVAL);
	cr_assert_eq(verify_span(&s, 0, 0, scratch, ok), THR_EINVAL);
	storage_close(&s);
	free(scratch);
	free(data);
	mi_free(&mi);
}

Test(storage, files_hold_their_bytes)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data, got[16];
	int fd;

	std_build(&mi, &data);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(storage_write(&s, 0, data, mi.total_length), 0);
	storage_close(&s);
	fd = open(under(tmpdir, "t/sub/dir/c.bin"), O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, got, 16, 5), 16);
	cr_assert_eq(memcmp(got, data + 100005, 16), 0);
	close(fd);
	free(data);
	mi_free(&mi);
}

Test(storage, verify_detects_corruption)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data, *scratch, bad;
	bool ok;
	int fd;

	std_build(&mi, &data);
	scratch = malloc(PLEN);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(storage_write(&s, 0, data, mi.total_length), 0);
	/* Flip one byte of c.bin behind storage's back (piece 4). */
	fd = open(under(tmpdir, "t/sub/dir/c.bin"), O_RDWR);
	cr_assert_geq(fd, 0);
	bad = (uint8_t)~data[100000 + 30000];
	cr_assert_eq(pwrite(fd, &bad, 1, 30000), 1);
	close(fd);
	cr_assert_eq(verify_piece(&s, 3, scratch, &ok), 0);
	cr_assert(ok);
	cr_assert_eq(verify_piece(&s, 4, scratch, &ok), 0);
	cr_assert_not(ok);
	cr_assert_eq(verify_piece(&s, 5, scratch, &ok), 0);
	cr_assert(ok);
	/* Through storage_write too. */
	cr_assert_eq(storage_write(&s, 7, &bad, 1), 0);
	cr_assert_eq(verify_piece(&s, 0, scratch, &ok), 0);
	cr_assert_not(ok);
	/* No such piece: refused (a caller counts an error as a
	 * mismatch, as the resume check does). */
	cr_assert_eq(verify_piece(&s, 6, scratch, &ok), THR_EINVAL);
	storage_close(&s);
	free(scratch);
	free(data);
	mi_free(&mi);
}

Test(storage, piece_matches)
{
	struct metainfo mi;
	uint8_t *data;

	std_build(&mi, &data);
	cr_assert(store_piece_matches(&mi, 0, data, PLEN));
	cr_assert(store_piece_matches(&mi, 5, data + 5 * PLEN,
	    170001 - 5 * PLEN));
	cr_assert_not(store_piece_matches(&mi, 5, data + 5 * PLEN, PLEN),
	    "wrong length");
	cr_assert_not(store_piece_matches(&mi, 1, data, PLEN));
	cr_assert_not(store_piece_matches(&mi, 6, data, PLEN));
	data[PLEN + 1] ^= 1;
	cr_assert_not(store_piece_matches(&mi, 1, data + PLEN, PLEN));
	free(data);
	mi_free(&mi);
}

Test(storage, write_out_of_range_refused)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t b[2] = { 1, 2 };

	std_build(&mi, NULL);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_lt(storage_write(&s, 170000, b, 2), 0);
	cr_assert_lt(storage_read(&s, 170001, b, 1), 0);
	cr_assert_lt(storage_write(&s, UINT64_MAX, b, 2), 0);
	cr_assert_eq(storage_write(&s, 170000, b, 1), 0);
	cr_assert_eq(storage_write(&s, 170001, b, 0), 0);
	cr_assert_eq(size_of(under(tmpdir, "t/sub/dir/c.bin")), 70001);
	storage_close(&s);
	mi_free(&mi);
}

Test(storage, read_past_file_end_gives_zeros)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data, got[200];
	size_t k;

	std_build(&mi, &data);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(storage_write(&s, 0, data, mi.total_length), 0);
	/* Someone shortened a.bin while we run. */
	cr_assert_eq(truncate(under(tmpdir, "t/a.bin"), 99900), 0);
	memset(got, 0x55, sizeof(got));
	cr_assert_eq(storage_read(&s, 99800, got, 200), 0);
	cr_assert_eq(memcmp(got, data + 99800, 100), 0);
	for (k = 100; k < 200; k++)
		cr_assert_eq(got[k], 0, "byte %zu", k);
	storage_close(&s);
	free(data);
	mi_free(&mi);
}

Test(storage, reopen_keeps_data)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data, *scratch;
	uint32_t i;
	bool ok;

	std_build(&mi, &data);
	scratch = malloc(PLEN);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(storage_write(&s, 0, data, mi.total_length), 0);
	storage_close(&s);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	for (i = 0; i < mi.npieces; i++) {
		cr_assert_eq(verify_piece(&s, i, scratch, &ok), 0);
		cr_assert(ok, "piece %u lost on reopen", i);
	}
	storage_close(&s);
	free(scratch);
	free(data);
	mi_free(&mi);
}

Test(storage, longer_file_truncated_to_length)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data, *scratch;
	bool ok;
	int fd;

	std_build(&mi, &data);
	scratch = malloc(PLEN);
	cr_assert_eq(mkdir(under(tmpdir, "t"), 0755), 0);
	/* a.bin holds the right bytes and 5000 bytes of junk after. */
	fd = open(under(tmpdir, "t/a.bin"), O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, 100000), 100000);
	cr_assert_eq(write(fd, data, 5000), 5000);
	close(fd);
	fd = open(under(tmpdir, "t/empty"), O_CREAT | O_WRONLY, 0644);
	cr_assert_eq(write(fd, "junk", 4), 4);
	close(fd);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(size_of(under(tmpdir, "t/a.bin")), 100000);
	cr_assert_eq(size_of(under(tmpdir, "t/empty")), 0);
	cr_assert_eq(verify_piece(&s, 0, scratch, &ok), 0);
	cr_assert(ok, "existing bytes kept");
	storage_close(&s);
	free(scratch);
	free(data);
	mi_free(&mi);
}

/* Path safety */

Test(storage, symlink_dir_component_refused)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;

	std_build(&mi, NULL);
	cr_assert_eq(mkdir(under(tmpdir, "t"), 0755), 0);
	cr_assert_eq(symlink(outside, under(tmpdir, "t/sub")), 0);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), THR_EUNSAFE);
	cr_assert_eq(err.code, THR_EUNSAFE);
	cr_assert_not_null(strstr(err.msg, "t/sub"), "%s", err.msg);
	cr_assert(dir_is_empty(outside), "nothing may be written outside");
	cr_assert_eq(s.dirfd, -1);
	cr_assert_null(s.fds);
	mi_free(&mi);
}

Test(storage, symlink_top_component_refused)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;

	std_build(&mi, NULL);
	cr_assert_eq(symlink(outside, under(tmpdir, "t")), 0);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), THR_EUNSAFE);
	cr_assert(dir_is_empty(outside));
	mi_free(&mi);
}

Test(storage, symlink_file_refused_target_untouched)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	char *victim = under(outside, "victim");
	int fd;

	std_build(&mi, NULL);
	fd = open(victim, O_CREAT | O_WRONLY, 0644);
	cr_assert_eq(write(fd, "precious", 8), 8);
	close(fd);
	cr_assert_eq(mkdir(under(tmpdir, "t"), 0755), 0);
	cr_assert_eq(symlink(victim, under(tmpdir, "t/a.bin")), 0);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), THR_EUNSAFE);
	cr_assert_not_null(strstr(err.msg, "t/a.bin"), "%s", err.msg);
	cr_assert_eq(size_of(victim), 8, "target must not be truncated");
	mi_free(&mi);
}

Test(storage, dangling_symlink_file_refused)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;

	std_build(&mi, NULL);
	cr_assert_eq(mkdir(under(tmpdir, "t"), 0755), 0);
	cr_assert_eq(symlink(under(outside, "new"), under(tmpdir, "t/empty")),
	    0);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), THR_EUNSAFE);
	cr_assert(dir_is_empty(outside), "must not create through it");
	mi_free(&mi);
}

Test(storage, file_where_dir_expected_refused)
{
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	int fd;

	std_build(&mi, NULL);
	cr_assert_eq(mkdir(under(tmpdir, "t"), 0755), 0);
	fd = open(under(tmpdir, "t/sub"), O_CREAT | O_WRONLY, 0644);
	close(fd);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), THR_EUNSAFE);
	mi_free(&mi);
}

Test(storage, fifo_refused)
{
	static const char *const paths[] = { "f" };
	static const uint64_t lens[] = { 10 };
	struct metainfo mi;
	struct storage s;
	struct thr_error err;

	mi_build(&mi, paths, lens, 1, 16, NULL);
	cr_assert_eq(mkfifo(under(tmpdir, "f"), 0644), 0);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), THR_EUNSAFE);
	mi_free(&mi);
}

Test(storage, bad_components_rechecked)
{
	static const char *const bad[] = {
		"../escape", "a/../../escape", "a//b", "./a", "a/.", "/abs",
		"a/", ""
	};
	static const uint64_t lens[] = { 1 };
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	char *dir = under(tmpdir, "dl");
	size_t k;

	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		mi_build(&mi, &bad[k], lens, 1, 16, NULL);
		cr_assert_eq(storage_open(&s, &mi, dir, &err), THR_EUNSAFE,
		    "path \"%s\"", bad[k]);
		mi_free(&mi);
	}
	cr_assert_eq(size_of(under(tmpdir, "escape")), -1);
}

Test(storage, more_files_than_open_cap)
{
	enum { N = STORAGE_MAX_OPEN + 44 };
	struct rlimit rl, old;
	int rc;
	static char names[N][32];
	const char *paths[N];
	uint64_t lens[N];
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data, *back, *scratch;
	uint32_t i;
	size_t k;
	bool ok;

	for (k = 0; k < N; k++) {
		snprintf(names[k], sizeof(names[k]), "many/d%zu/f%zu",
		    k % 7, k);
		paths[k] = names[k];
		lens[k] = k % 5 == 0 ? 0 : 10 + k % 13;
	}
	mi_build(&mi, paths, lens, N, 64, &data);
	/* A process limit that leaves room for 20 files above FD_SETSIZE:
	 * those, then STORAGE_MAX_OPEN below it, then one-off opens. */
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = FD_SETSIZE + STORAGE_FD_RESERVE + 20;
	if (rl.rlim_cur > rl.rlim_max)
		cr_skip_test("the hard fd limit is too low for this test");
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	rc = storage_open(&s, &mi, tmpdir, &err);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_assert_eq(s.nhigh, 20);
	cr_assert_eq(s.nopen, STORAGE_MAX_OPEN);
	cr_assert_eq(s.fds[N - 1], -1);
	cr_assert_eq(size_of(under(tmpdir, names[N - 1])), (off_t)lens[N - 1]);
	cr_assert_eq(storage_write(&s, 0, data, mi.total_length), 0);
	back = malloc(mi.total_length);
	cr_assert_eq(storage_read(&s, 0, back, mi.total_length), 0);
	cr_assert_eq(memcmp(back, data, mi.total_length), 0);
	scratch = malloc(64);
	for (i = 0; i < mi.npieces; i++) {
		cr_assert_eq(verify_piece(&s, i, scratch, &ok), 0);
		cr_assert(ok, "piece %u", i);
	}
	storage_close(&s);
	free(scratch);
	free(back);
	free(data);
	mi_free(&mi);
}

Test(storage, single_file_torrent)
{
	static const char *const paths[] = { "only.iso" };
	static const uint64_t lens[] = { 1000 };
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data, scratch[256];
	bool ok;

	mi_build(&mi, paths, lens, 1, 256, &data);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(storage_write(&s, 768, data + 768, 232), 0);
	cr_assert_eq(verify_piece(&s, 3, scratch, &ok), 0);
	cr_assert(ok);
	cr_assert_eq(verify_piece(&s, 2, scratch, &ok), 0);
	cr_assert_not(ok);
	storage_close(&s);
	free(data);
	mi_free(&mi);
}

static int
fd_count(void)
{
	int n = 0, fd;

	for (fd = 0; fd < 4096; fd++) {
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	}
	return n;
}

Test(storage, no_descriptor_leaks)
{
	enum { N = STORAGE_MAX_OPEN + 3 };
	static char names[N][32];
	const char *paths[N];
	uint64_t lens[N];
	struct metainfo mi;
	struct storage s;
	struct thr_error err;
	uint8_t *data;
	int before;
	size_t k;

	for (k = 0; k < N; k++) {
		snprintf(names[k], sizeof(names[k]), "n/a/b/f%zu", k);
		paths[k] = names[k];
		lens[k] = 3;
	}
	mi_build(&mi, paths, lens, N, 16, &data);
	before = fd_count();
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), 0, "%s", err.msg);
	cr_assert_eq(storage_write(&s, 0, data, mi.total_length), 0);
	cr_assert_eq(storage_read(&s, 0, data, mi.total_length), 0);
	storage_close(&s);
	cr_assert_eq(fd_count(), before);

	/* A failure half way must close what was opened so far. */
	cr_assert_eq(unlink(under(tmpdir, "n/a/b/f100")), 0);
	cr_assert_eq(symlink(outside, under(tmpdir, "n/a/b/f100")), 0);
	cr_assert_eq(storage_open(&s, &mi, tmpdir, &err), THR_EUNSAFE);
	cr_assert_eq(fd_count(), before);
	free(data);
	mi_free(&mi);
}

/* The store the core gets: storage_factory (store.h) */

/*
 * Open a store through the disk factory over place, as the session does
 * for a torrent; wanted as for storage_open_sel.
 */
static void
factory_open(struct storage_place *pl, const struct metainfo *mi,
    const uint8_t *wanted, struct store *st)
{
	struct store_factory f = storage_factory(pl);
	struct thr_error err;

	memset(&err, 0, sizeof(err));
	memset(st, 0, sizeof(*st));
	cr_assert_eq(f.open(f.ctx, mi, wanted, st, &err), 0, "%s", err.msg);
	cr_assert(store_is_open(st));
}

Test(storage, factory_store_moves_and_checks_bytes)
{
	struct storage_place pl;
	struct metainfo mi;
	struct store st;
	struct iovec v[2];
	struct thr_error err;
	struct buf b;
	uint8_t *data, *back;
	int64_t size, mtime;
	bool ok[6];

	memset(&pl, 0, sizeof(pl));
	memset(&err, 0, sizeof(err));
	buf_init(&b, 100);
	pl.dir = under(tmpdir, "dl");
	std_build(&mi, &data);
	factory_open(&pl, &mi, NULL, &st);
	cr_assert_eq(size_of(under(tmpdir, "dl/t/a.bin")), 100000);
	cr_assert_eq(size_of(under(tmpdir, "dl/t/empty")), 0);
	cr_assert_eq(size_of(under(tmpdir, "dl/t/sub/dir/c.bin")), 70001);
	/* Made by this run: nothing there can hold a valid piece. */
	cr_assert_not(st.ops->existed(st.ctx, 0, PLEN));
	cr_assert_not(st.ops->existed(st.ctx, 5 * PLEN, 170001 - 5 * PLEN));
	/* The whole torrent in two buffers, across the empty file. */
	v[0].iov_base = data;
	v[0].iov_len = 99000;
	v[1].iov_base = data + 99000;
	v[1].iov_len = mi.total_length - 99000;
	cr_assert_eq(store_writev(&st, 0, v, 2), 0);
	back = calloc(1, mi.total_length);
	cr_assert_not_null(back);
	cr_assert_eq(store_read(&st, 0, back, mi.total_length), 0);
	cr_assert_eq(memcmp(back, data, mi.total_length), 0);
	cr_assert_eq(store_verify_span(&st, &mi, 0, 6, back, ok), 0);
	for (int i = 0; i < 6; i++)
		cr_assert(ok[i], "piece %d", i);
	cr_assert_eq(st.ops->stamp(st.ctx, 0, &size, &mtime), 0);
	cr_assert_eq(size, 100000);
	cr_assert_gt(mtime, 0);
	cr_assert_eq(st.ops->stamp(st.ctx, 1, &size, &mtime), 0);
	cr_assert_eq(size, 0);
	/* No state directory: no record is kept, and saving one is not an
	 * error. */
	cr_assert_eq(st.ops->record_save(st.ctx, "x", 1, &err), 0);
	cr_assert_eq(st.ops->record_load(st.ctx, 100, &b, &err), THR_ENOENT);
	store_close(&st);
	cr_assert_not(store_is_open(&st));
	store_close(&st);	/* twice is harmless */

	/* The next run finds the data from before it. */
	factory_open(&pl, &mi, NULL, &st);
	cr_assert(st.ops->existed(st.ctx, 0, mi.total_length));
	store_close(&st);
	storage_place_release(&pl);
	buf_release(&b);
	free(back);
	free(data);
	mi_free(&mi);
}

/* Files not wanted are not created; a write that touches one (a piece
 * shared with a wanted file) creates it at its full length. */
Test(storage, factory_creates_only_wanted_files)
{
	static const uint8_t wanted[] = { 1, 1, 0 };
	struct storage_place pl;
	struct metainfo mi;
	struct store st;
	struct iovec v;
	uint8_t *data, got[64];
	int64_t size, mtime;
	size_t k;

	memset(&pl, 0, sizeof(pl));
	pl.dir = tmpdir;
	std_build(&mi, &data);
	factory_open(&pl, &mi, wanted, &st);
	cr_assert_eq(size_of(under(tmpdir, "t/a.bin")), 100000);
	cr_assert_eq(size_of(under(tmpdir, "t/sub/dir/c.bin")), -1);
	cr_assert_eq(st.ops->stamp(st.ctx, 2, &size, &mtime), 0);
	cr_assert_eq(size, -1, "a stamp creates nothing");
	cr_assert_eq(size_of(under(tmpdir, "t/sub/dir/c.bin")), -1);
	/* Reading the missing file reads zeros, and creates nothing. */
	memset(got, 0x55, sizeof(got));
	cr_assert_eq(store_read(&st, 4 * PLEN, got, sizeof(got)), 0);
	for (k = 0; k < sizeof(got); k++)
		cr_assert_eq(got[k], 0, "byte %zu", k);
	cr_assert_eq(size_of(under(tmpdir, "t/sub/dir/c.bin")), -1);
	cr_assert_not(st.ops->existed(st.ctx, 4 * PLEN, PLEN));
	/* Piece 3 is the tail of a.bin and the head of c.bin. */
	v.iov_base = data + 3 * PLEN;
	v.iov_len = PLEN;
	cr_assert_eq(store_writev(&st, 3 * PLEN, &v, 1), 0);
	cr_assert_eq(size_of(under(tmpdir, "t/sub/dir/c.bin")), 70001);
	cr_assert_eq(store_read(&st, 100000, got, sizeof(got)), 0);
	cr_assert_eq(memcmp(got, data + 100000, sizeof(got)), 0);
	store_close(&st);
	storage_place_release(&pl);
	free(data);
	mi_free(&mi);
}

/* The resume record lives in the state directory, keyed by the torrent
 * and the download directory: readable before the store is open (the
 * factory's record), and replaced by each save. */
Test(storage, factory_keeps_the_record_per_torrent_and_place)
{
	struct storage_place pl, other;
	struct store_factory f;
	struct thr_error err;
	struct metainfo mi;
	struct store st;
	struct buf b;
	char state[600];

	memset(&pl, 0, sizeof(pl));
	memset(&other, 0, sizeof(other));
	snprintf(state, sizeof(state), "%s", under(tmpdir, "state"));
	pl.dir = under(tmpdir, "dl");
	pl.state_dir = state;
	other.dir = under(tmpdir, "dl2");
	other.state_dir = state;
	std_build(&mi, NULL);
	memset(mi.info_hash, 0x42, sizeof(mi.info_hash));
	buf_init(&b, 1u << 16);
	memset(&err, 0, sizeof(err));
	f = storage_factory(&pl);
	/* The download directory does not exist yet: no record. */
	cr_assert_eq(f.record(f.ctx, &mi, 1u << 16, &b, &err), THR_ENOENT);
	factory_open(&pl, &mi, NULL, &st);
	cr_assert_eq(st.ops->record_load(st.ctx, 1u << 16, &b, &err),
	    THR_ENOENT);
	cr_assert_eq(st.ops->record_save(st.ctx, "first", 5, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(st.ops->record_save(st.ctx, "second", 6, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(st.ops->record_load(st.ctx, 1u << 16, &b, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(b.len, 6);
	cr_assert_eq(memcmp(b.data, "second", 6), 0);
	buf_reset(&b);
	cr_assert_eq(st.ops->record_load(st.ctx, 3, &b, &err), THR_ELIMIT);
	store_close(&st);
	/* Before the next open, through the factory. */
	buf_reset(&b);
	cr_assert_eq(f.record(f.ctx, &mi, 1u << 16, &b, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(b.len, 6);
	cr_assert_eq(memcmp(b.data, "second", 6), 0);
	/* The same torrent in another directory has a record of its own. */
	factory_open(&other, &mi, NULL, &st);
	buf_reset(&b);
	cr_assert_eq(st.ops->record_load(st.ctx, 1u << 16, &b, &err),
	    THR_ENOENT);
	store_close(&st);
	/* Another torrent in the same directory too. */
	memset(mi.info_hash, 0x43, sizeof(mi.info_hash));
	f = storage_factory(&pl);
	buf_reset(&b);
	cr_assert_eq(f.record(f.ctx, &mi, 1u << 16, &b, &err), THR_ENOENT);
	storage_place_release(&pl);
	storage_place_release(&other);
	buf_release(&b);
	mi_free(&mi);
}

/* The factory refuses what storage_open refuses, and leaves the store
 * closed. */
Test(storage, factory_open_refuses_symlink)
{
	struct storage_place pl;
	struct store_factory f;
	struct thr_error err;
	struct metainfo mi;
	struct store st;

	memset(&pl, 0, sizeof(pl));
	pl.dir = tmpdir;
	std_build(&mi, NULL);
	cr_assert_eq(mkdir(under(tmpdir, "t"), 0755), 0);
	cr_assert_eq(symlink(outside, under(tmpdir, "t/sub")), 0);
	memset(&st, 0, sizeof(st));
	memset(&err, 0, sizeof(err));
	f = storage_factory(&pl);
	cr_assert_eq(f.open(f.ctx, &mi, NULL, &st, &err), THR_EUNSAFE);
	cr_assert_not_null(strstr(err.msg, "t/sub"), "%s", err.msg);
	cr_assert_not(store_is_open(&st));
	cr_assert(dir_is_empty(outside), "nothing may be written outside");
	storage_place_release(&pl);
	mi_free(&mi);
}
