/*
 * test_resume.c: the fast-resume record: trusted only while every file
 * is exactly as it was at the save.
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/resume.h"

static char dir[64];
static char rec[4200];
static struct metainfo mi;
static struct storage st;

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
	cr_assert_eq(storage_open(&st, &mi, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(resume_path(dir, &mi, dir, rec, sizeof(rec)), 0);
}

static void
teardown(void)
{
	char cmd[128];

	storage_close(&st);
	for (size_t k = 0; k < mi.nfiles; k++)
		free(mi.files[k].path);
	free(mi.files);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(resume, .init = setup, .fini = teardown);

static void
save_some(struct bitfield *have)
{
	struct thr_error err;

	cr_assert_eq(bitfield_init(have, mi.npieces), 0);
	bitfield_set(have, 0);
	bitfield_set(have, 3);
	cr_assert_eq(resume_save(rec, &mi, &st, have, &err), 0, "%s",
	    err.msg);
}

Test(resume, round_trip)
{
	struct bitfield have, back;
	struct thr_error err;
	char tmp[4300];

	save_some(&have);
	snprintf(tmp, sizeof(tmp), "%s.tmp", rec);
	cr_assert_neq(access(tmp, F_OK), 0, "no temporary file left");
	cr_assert_eq(bitfield_init(&back, mi.npieces), 0);
	cr_assert_eq(resume_load(rec, &mi, &st, &back, &err), 0, "%s",
	    err.msg);
	cr_assert_eq(back.count, 2);
	cr_assert(bitfield_get(&back, 0) && bitfield_get(&back, 3));
	bitfield_release(&have);
	bitfield_release(&back);
}

Test(resume, missing_record)
{
	struct bitfield back;
	struct thr_error err;

	cr_assert_eq(bitfield_init(&back, mi.npieces), 0);
	cr_assert_eq(resume_load(rec, &mi, &st, &back, &err), THR_ENOENT);
	bitfield_release(&back);
}

Test(resume, changed_file_is_not_trusted)
{
	struct bitfield have, back;
	struct thr_error err;
	uint8_t x = 7;

	save_some(&have);
	usleep(20000);	/* a distinct modification time */
	cr_assert_eq(storage_write(&st, 69999, &x, 1), 0);
	cr_assert_eq(bitfield_init(&back, mi.npieces), 0);
	cr_assert_eq(resume_load(rec, &mi, &st, &back, &err), THR_EINVAL);
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
	cr_assert_eq(resume_load(rec, &mi, &st, &back, &err), THR_EINVAL);
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
	cr_assert_eq(resume_load(rec, &mi, &st, &back, &err), THR_EINVAL);
	cr_assert_eq(back.count, 0);
	bitfield_release(&back);
}

Test(resume, path_depends_on_directory)
{
	char other[4200];

	cr_assert_eq(resume_path(dir, &mi, "/tmp", other, sizeof(other)), 0);
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
	uint8_t x = 7;

	cr_assert_eq(bitfield_init(&have, mi.npieces), 0);
	cr_assert_eq(resume_save_sel(rec, &mi, &st, &have, sel, &err), 0,
	    "%s", err.msg);
	usleep(20000);
	cr_assert_eq(storage_write(&st, 69999, &x, 1), 0);
	cr_assert_eq(resume_load_sel(rec, &mi, back, &n, &err), 0, "%s",
	    err.msg);
	cr_expect_eq(n, 1);
	cr_expect(back[0] == 1 && back[1] == 0 && back[2] == 1);
	/* All wanted: an empty list. */
	cr_assert_eq(resume_save(rec, &mi, &st, &have, &err), 0);
	cr_assert_eq(resume_load_sel(rec, &mi, back, &n, &err), 0);
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
	cr_assert_eq(resume_write_file(rec, b.data, b.len, &err), 0);
	buf_release(&b);
	cr_assert_eq(resume_load_sel(rec, &mi, back, &n, &err), 0, "%s",
	    err.msg);
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
		cr_assert_eq(resume_write_file(rec, b.data, b.len, &err), 0);
		buf_release(&b);
		cr_expect_eq(resume_load_sel(rec, &mi, back, NULL, &err),
		    THR_EINVAL, "%s", bad[k]);
		cr_expect(back[0] == 7 && back[1] == 7 && back[2] == 7,
		    "%s", bad[k]);
	}
	/* And one for another torrent. */
	mi.info_hash[0] ^= 1;
	{
		uint8_t back[3] = { 7, 7, 7 };

		cr_expect_eq(resume_load_sel(rec, &mi, back, NULL, &err),
		    THR_EINVAL);
	}
	mi.info_hash[0] ^= 1;
}

/* The lock: a second process is refused and told the first one's PID;
 * once the first is gone (however it went) the lock is free again. */
Test(resume, lock_names_the_owner)
{
	struct thr_error err;
	int go[2], done[2], fd;
	long owner = 0;
	char c;
	pid_t pid;

	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(done), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (resume_lock(rec, &fd, &owner, &err) != 0)
			_exit(1);
		(void)!write(go[1], "x", 1);
		(void)!read(done[0], &c, 1);
		_exit(0);	/* no unlock: the kernel drops it */
	}
	cr_assert_eq(read(go[0], &c, 1), 1);
	cr_expect_eq(resume_lock(rec, &fd, &owner, &err), THR_EBUSY);
	cr_expect_eq(fd, -1);
	cr_expect_eq(owner, (long)pid);
	cr_assert_eq(write(done[1], "x", 1), 1);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(resume_lock(rec, &fd, &owner, &err), 0, "%s", err.msg);
	cr_expect_geq(fd, 0);
	close(fd);
	cr_expect_eq(resume_lock("/tmp/no-suffix", &fd, &owner, &err),
	    THR_EINVAL);
}
