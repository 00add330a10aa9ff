/*
 * test_resume.c: the fast-resume record (core/resume.h encodes and
 * decodes it) as the disk store keeps it (net/storage.h: the record
 * beside its lock in the state directory, net/fileio.h: its path, the
 * atomic write, the lock): trusted only while every file is exactly as
 * it was at the save.
 *
 * Each test opens the disk store of a three-file torrent (one file
 * empty) through storage_factory, with the download directory as its
 * state directory too, and saves and loads the record the way the
 * torrent does: resume_encode then the store's record_save; record_load
 * then resume_decode; the factory's record (read before the store is
 * open) then resume_decode_sel for the files the user skipped.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/resume.h"
#include "core/store.h"
#include "net/fileio.h"
#include "net/storage.h"

static char dir[64];
static char rec[PATH_MAX];
static struct metainfo mi;
static struct storage_place place;
static struct store_factory fac;
static struct store st;

static void
setup(void)
{
	static const char *const paths[] = { "r/a.bin", "r/empty", "r/b.bin" };
	static const uint64_t lens[] = { 40000, 0, 30000 };
	uint64_t off = 0;
	struct thr_error err;

	snprintf(dir, sizeof(dir), "/tmp/thorrent-resume.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	memset(&mi, 0, sizeof(mi));
	memset(mi.info_hash, 0xab, 20);
	mi.nfiles = 3;
	mi.files = calloc(3, sizeof(*mi.files));
	for (size_t k = 0; k < 3; k++) {
		mi.files[k].path = strdup(paths[k]);
		mi.files[k].length = lens[k];
		mi.files[k].offset = off;
		off += lens[k];
	}
	mi.total_length = off;
	mi.piece_length = 16384;
	mi.npieces = (uint32_t)((off + 16383) / 16384);
	memset(&place, 0, sizeof(place));
	place.dir = dir;
	place.state_dir = dir;
	fac = storage_factory(&place);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(fac.open(fac.ctx, &mi, NULL, &st, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(fileio_resume_path(dir, mi.info_hash, dir, ".resume",
	    rec, sizeof(rec)), 0);
}

static void
teardown(void)
{
	char cmd[128];

	store_close(&st);
	storage_place_release(&place);
	for (size_t k = 0; k < mi.nfiles; k++)
		free(mi.files[k].path);
	free(mi.files);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(resume, .init = setup, .fini = teardown);

/* Save the record of have, with the files whose wanted[i] is zero as
 * skipped (NULL: all wanted), as the torrent does. */
static int
save(const struct bitfield *have, const uint8_t *wanted,
    struct thr_error *err)
{
	struct buf b;
	int rc;

	memset(err, 0, sizeof(*err));
	buf_init(&b, RESUME_MAX_SIZE);
	if ((rc = resume_encode(&mi, &st, have, wanted, &b)) == 0)
		rc = st.ops->record_save(st.ctx, b.data, b.len, err);
	buf_release(&b);
	return rc;
}

/* Load the record into have, as the check does. */
static int
load(struct bitfield *have, struct thr_error *err)
{
	struct buf b;
	int rc;

	memset(err, 0, sizeof(*err));
	buf_init(&b, RESUME_MAX_SIZE);
	if ((rc = st.ops->record_load(st.ctx, RESUME_MAX_SIZE, &b, err)) == 0)
		rc = resume_decode(b.data, b.len, &mi, &st, have, err);
	buf_release(&b);
	return rc;
}

/* The record's bytes as the torrent reads them before opening its
 * store (for the selection), appended to b. */
static int
load_early(struct buf *b, struct thr_error *err)
{
	memset(err, 0, sizeof(*err));
	buf_init(b, RESUME_MAX_SIZE);
	return fac.record(fac.ctx, &mi, RESUME_MAX_SIZE, b, err);
}

/* The selection kept in the record, into wanted. */
static int
load_sel(uint8_t *wanted, size_t *nskipped, struct thr_error *err)
{
	struct buf b;
	int rc;

	if ((rc = load_early(&b, err)) == 0)
		rc = resume_decode_sel(b.data, b.len, &mi, wanted, nskipped,
		    err);
	buf_release(&b);
	return rc;
}

/* Write one byte at torrent offset off through the store. */
static void
write_byte(uint64_t off, uint8_t x)
{
	struct iovec iov = { &x, 1 };

	cr_assert_eq(st.ops->writev(st.ctx, off, &iov, 1), 0);
}

static void
save_some(struct bitfield *have)
{
	struct thr_error err;

	cr_assert_eq(bitfield_init(have, mi.npieces), 0);
	bitfield_set(have, 0);
	bitfield_set(have, 3);
	cr_assert_eq(save(have, NULL, &err), 0, "%s", err.msg);
}

Test(resume, round_trip)
{
	struct bitfield have, back;
	struct thr_error err;
	char tmp[PATH_MAX + 8];

	save_some(&have);
	cr_assert_eq(access(rec, F_OK), 0, "the record is at its path");
	snprintf(tmp, sizeof(tmp), "%s.tmp", rec);
	cr_assert_neq(access(tmp, F_OK), 0, "no temporary file left");
	cr_assert_eq(bitfield_init(&back, mi.npieces), 0);
	cr_assert_eq(load(&back, &err), 0, "%s", err.msg);
	cr_assert_eq(back.count, 2);
	cr_assert(bitfield_get(&back, 0) && bitfield_get(&back, 3));
	bitfield_release(&have);
	bitfield_release(&back);
}

Test(resume, missing_record)
{
	struct bitfield back;
	struct thr_error err;
	struct buf b;

	cr_assert_eq(bitfield_init(&back, mi.npieces), 0);
	cr_assert_eq(load(&back, &err), THR_ENOENT);
	cr_assert_eq(load_early(&b, &err), THR_ENOENT);
	buf_release(&b);
	bitfield_release(&back);
}

Test(resume, changed_file_is_not_trusted)
{
	struct bitfield have, back;
	struct thr_error err;

	save_some(&have);
	usleep(20000);	/* a distinct modification time */
	write_byte(69999, 7);
	cr_assert_eq(bitfield_init(&back, mi.npieces), 0);
	cr_assert_eq(load(&back, &err), THR_EINVAL);
	cr_assert_eq(back.count, 0, "nothing loaded from a stale record");
	cr_assert(strstr(err.msg, "changed") != NULL, "%s", err.msg);
	bitfield_release(&have);
	bitfield_release(&back);
}

Test(resume, other_torrent_is_refused)
{
	struct bitfield have, back;
	struct thr_error err;

	save_some(&have);
	mi.info_hash[0] ^= 1;
	cr_assert_eq(bitfield_init(&back, mi.npieces), 0);
	cr_assert_eq(load(&back, &err), THR_EINVAL);
	cr_assert_eq(back.count, 0);
	mi.info_hash[0] ^= 1;
	bitfield_release(&have);
	bitfield_release(&back);
}

Test(resume, garbage_record_is_refused)
{
	struct bitfield back;
	struct thr_error err;
	int fd = open(rec, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "d7:versioni1e6:pieces1:\xff", 24), 24);
	close(fd);
	cr_assert_eq(bitfield_init(&back, mi.npieces), 0);
	cr_assert_eq(load(&back, &err), THR_EINVAL);
	cr_assert_eq(back.count, 0);
	bitfield_release(&back);
}

Test(resume, path_depends_on_directory)
{
	char other[PATH_MAX];

	cr_assert_eq(fileio_resume_path(dir, mi.info_hash, "/tmp", ".resume",
	    other, sizeof(other)), 0);
	cr_assert_str_neq(other, rec);
	cr_assert(strstr(rec, ".resume") != NULL);
}

/* The files the user skipped come back from the record, whatever became
 * of the data since. */
Test(resume, selection_round_trip)
{
	static const uint8_t sel[3] = { 1, 0, 1 };
	struct bitfield have;
	struct thr_error err;
	uint8_t back[3] = { 9, 9, 9 };
	size_t n = 99;

	cr_assert_eq(bitfield_init(&have, mi.npieces), 0);
	cr_assert_eq(save(&have, sel, &err), 0, "%s", err.msg);
	usleep(20000);
	write_byte(69999, 7);
	cr_assert_eq(load_sel(back, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 1);
	cr_expect(back[0] == 1 && back[1] == 0 && back[2] == 1);
	/* All wanted: an empty list. */
	cr_assert_eq(save(&have, NULL, &err), 0);
	cr_assert_eq(load_sel(back, &n, &err), 0);
	cr_expect_eq(n, 0);
	cr_expect(back[0] == 1 && back[1] == 1 && back[2] == 1);
	bitfield_release(&have);
}

/* Records from before the selection was kept still load: all wanted. */
Test(resume, selection_absent_in_old_record)
{
	struct thr_error err;
	struct buf b;
	uint8_t back[3] = { 0, 0, 0 };
	size_t n = 99;

	buf_init(&b, 4096);
	cr_assert_eq(buf_puts(&b, "d5:filesle9:info hash20:"), 0);
	cr_assert_eq(buf_append(&b, mi.info_hash, 20), 0);
	cr_assert_eq(buf_puts(&b, "6:pieces1:\x80" "7:versioni1ee"), 0);
	cr_assert_eq(fileio_write_atomic(rec, b.data, b.len, &err), 0);
	buf_release(&b);
	cr_assert_eq(load_sel(back, &n, &err), 0, "%s", err.msg);
	cr_expect_eq(n, 0);
	cr_expect(back[0] == 1 && back[1] == 1 && back[2] == 1);
}

/* A record that names a file the torrent lacks changes nothing. */
Test(resume, selection_out_of_range_refused)
{
	static const char *const bad[] = {
		"8:skippedli0ei3ee", "8:skippedli-1ee", "8:skipped3:abc",
		"8:skippedl1:xe",
	};
	struct thr_error err;
	struct buf b;

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		uint8_t back[3] = { 7, 7, 7 };

		buf_init(&b, 4096);
		cr_assert_eq(buf_puts(&b, "d5:filesle9:info hash20:"), 0);
		cr_assert_eq(buf_append(&b, mi.info_hash, 20), 0);
		cr_assert_eq(buf_puts(&b, "6:pieces1:\x80"), 0);
		cr_assert_eq(buf_puts(&b, bad[k]), 0);
		cr_assert_eq(buf_puts(&b, "7:versioni1ee"), 0);
		cr_assert_eq(fileio_write_atomic(rec, b.data, b.len, &err), 0);
		buf_release(&b);
		cr_expect_eq(load_sel(back, NULL, &err), THR_EINVAL, "%s",
		    bad[k]);
		cr_expect(back[0] == 7 && back[1] == 7 && back[2] == 7,
		    "%s", bad[k]);
	}
	/* And one for another torrent (the record found by its path, then
	 * read for a torrent whose info-hash differs). */
	cr_assert_eq(load_early(&b, &err), 0, "%s", err.msg);
	mi.info_hash[0] ^= 1;
	{
		uint8_t back[3] = { 7, 7, 7 };

		cr_expect_eq(resume_decode_sel(b.data, b.len, &mi, back, NULL,
		    &err), THR_EINVAL);
	}
	mi.info_hash[0] ^= 1;
	buf_release(&b);
}

/* The lock: a second process is refused and told the first one's PID;
 * once the first is gone (however it went) the lock is free again. */
Test(resume, lock_names_the_owner)
{
	struct thr_error err;
	int go[2], done[2], fd;
	long owner = 0;
	char c, lock[PATH_MAX], pidstr[32];
	pid_t pid;

	cr_assert_eq(fileio_resume_path(dir, mi.info_hash, dir, ".lock",
	    lock, sizeof(lock)), 0);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(done), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (fileio_lock(lock, &fd, &owner, &err) != 0)
			_exit(1);
		(void)!write(go[1], "x", 1);
		(void)!read(done[0], &c, 1);
		_exit(0);	/* no unlock: the kernel drops it */
	}
	cr_assert_eq(read(go[0], &c, 1), 1);
	cr_expect_eq(fileio_lock(lock, &fd, &owner, &err), THR_EBUSY);
	cr_expect_eq(fd, -1);
	cr_expect_eq(owner, (long)pid);
	/* The store's lock (the one a run takes) says who holds it. */
	memset(&err, 0, sizeof(err));
	cr_expect_eq(fac.lock(fac.ctx, mi.info_hash, &err), THR_EBUSY);
	snprintf(pidstr, sizeof(pidstr), "pid %ld", (long)pid);
	cr_expect(strstr(err.msg, pidstr) != NULL, "%s", err.msg);
	cr_assert_eq(write(done[1], "x", 1), 1);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(fileio_lock(lock, &fd, &owner, &err), 0, "%s", err.msg);
	cr_expect_geq(fd, 0);
	close(fd);
	/* A path without a directory is refused, and nothing is made. */
	cr_expect_eq(fileio_lock("no-directory.lock", &fd, &owner, &err),
	    THR_EINVAL);
	cr_expect_eq(fd, -1);
	cr_expect_neq(access("no-directory.lock", F_OK), 0);
}
