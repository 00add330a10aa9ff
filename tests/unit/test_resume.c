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
