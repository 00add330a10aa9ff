/*
 * resume.c: the fast-resume record.  See resume.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bencode.h"
#include "buf.h"
#include "hash.h"
#include "resume.h"

int
resume_path(const char *state_dir, const struct metainfo *mi,
    const char *dir, char *out, size_t len)
{
	char real[PATH_MAX], hex[41];
	uint8_t key[20];
	struct buf b;
	int rc;

	if (realpath(dir, real) == NULL)
		return THR_EIO;
	buf_init(&b, 20 + PATH_MAX);
	if ((rc = buf_append(&b, mi->info_hash, 20)) != 0 ||
	    (rc = buf_puts(&b, real)) != 0 ||
	    (rc = hash_sha1(b.data, b.len, key)) != 0) {
		buf_release(&b);
		return rc;
	}
	buf_release(&b);
	hash_hex(key, 20, hex);
	if ((size_t)snprintf(out, len, "%s/%s.resume", state_dir, hex) >= len)
		return THR_ELIMIT;
	return 0;
}

/* mkdir -p for the state directory (a trusted, user-given path). */
static int
make_dirs(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return THR_EIO;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return THR_EIO;
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return THR_EIO;
	return 0;
}

static int
encode(const struct metainfo *mi, struct storage *st,
    const struct bitfield *have, const uint8_t *wanted, struct buf *out)
{
	int rc = 0;

	/* Keys in sorted order, as bencode requires. */
	rc |= bencode_put_dict(out);
	rc |= bencode_put_cstr(out, "files");
	rc |= bencode_put_list(out);
	for (size_t i = 0; i < mi->nfiles && rc == 0; i++) {
		int64_t size, mtime;

		if ((rc = storage_stamp(st, i, &size, &mtime)) != 0)
			return rc;
		rc |= bencode_put_list(out);
		rc |= bencode_put_int(out, size);
		rc |= bencode_put_int(out, mtime);
		rc |= bencode_put_end(out);
	}
	rc |= bencode_put_end(out);
	rc |= bencode_put_cstr(out, "info hash");
	rc |= bencode_put_str(out, mi->info_hash, 20);
	rc |= bencode_put_cstr(out, "pieces");
	rc |= bencode_put_str(out, have->bits, bitfield_bytes(have));
	rc |= bencode_put_cstr(out, "skipped");
	rc |= bencode_put_list(out);
	for (size_t i = 0; wanted != NULL && i < mi->nfiles; i++)
		if (!wanted[i])
			rc |= bencode_put_int(out, (int64_t)i);
	rc |= bencode_put_end(out);
	rc |= bencode_put_cstr(out, "version");
	rc |= bencode_put_int(out, 1);
	rc |= bencode_put_end(out);
	return rc != 0 ? THR_ENOMEM : 0;
}

int
resume_write_file(const char *path, const void *data, size_t len,
    struct thr_error *err)
{
	char tmp[PATH_MAX + 8], dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd = -1, rc;

	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return thr_error_set(err, THR_EINVAL, 0, "bad state path");
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (make_dirs(dir) != 0)
		return thr_error_set(err, THR_EIO, 0, "%s: %s", dir,
		    strerror(errno));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len ||
	    fsync(fd) != 0) {
		rc = thr_error_set(err, THR_EIO, 0, "%s: %s", tmp,
		    strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = thr_error_set(err, THR_EIO, 0, "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	/* The rename itself must reach the disk too. */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		fsync(fd);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int
resume_read_file(const char *path, size_t max, struct buf *out,
    struct thr_error *err)
{
	uint8_t chunk[65536];
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return thr_error_set(err, errno == ENOENT ? THR_ENOENT : THR_EIO,
		    0, "%s: %s", path, strerror(errno));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)n > max) {
			rc = thr_error_set(err, THR_ELIMIT, 0, "%s: over %zu "
			    "bytes", path, max);
			break;
		}
		if (buf_append(out, chunk, (size_t)n) != 0) {
			rc = thr_error_set(err, THR_ENOMEM, 0, "out of memory");
			break;
		}
	}
	if (n < 0 && rc == 0)
		rc = thr_error_set(err, THR_EIO, 0, "%s: %s", path,
		    strerror(errno));
	close(fd);
	return rc;
}

int
resume_state_file(const char *state_dir, const uint8_t info_hash[20],
    const char *suffix, char *out, size_t len)
{
	char hex[41] = "";

	if (info_hash != NULL)
		hash_hex(info_hash, 20, hex);
	if ((size_t)snprintf(out, len, "%s/%s%s", state_dir, hex,
	    suffix) >= len)
		return THR_ELIMIT;
	return 0;
}

int
resume_save(const char *path, const struct metainfo *mi, struct storage *st,
    const struct bitfield *have, struct thr_error *err)
{
	return resume_save_sel(path, mi, st, have, NULL, err);
}

int
resume_save_sel(const char *path, const struct metainfo *mi,
    struct storage *st, const struct bitfield *have, const uint8_t *wanted,
    struct thr_error *err)
{
	struct buf b;
	int rc;

	buf_init(&b, RESUME_MAX_SIZE);
	if ((rc = encode(mi, st, have, wanted, &b)) != 0)
		thr_error_set(err, rc, 0, "cannot encode the resume record");
	else
		rc = resume_write_file(path, b.data, b.len, err);
	buf_release(&b);
	return rc;
}

int
resume_load(const char *path, const struct metainfo *mi, struct storage *st,
    struct bitfield *have, struct thr_error *err)
{
	struct bencode bc = { 0 };
	struct stat sb;
	uint8_t *data = NULL;
	const uint8_t *p;
	size_t len, f, i = 0;
	int64_t v;
	int fd, rc = THR_EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? THR_ENOENT :
		    thr_error_set(err, THR_EIO, 0, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &sb) != 0 || sb.st_size <= 0 ||
	    sb.st_size > RESUME_MAX_SIZE ||
	    (data = malloc((size_t)sb.st_size)) == NULL ||
	    read(fd, data, (size_t)sb.st_size) != sb.st_size) {
		thr_error_set(err, THR_EINVAL, 0, "%s: unreadable", path);
		goto out;
	}
	if (bencode_decode(&bc, data, (size_t)sb.st_size,
	    BENCODE_DEFAULT_MAX_TOKENS, err) != 0)
		goto out;
	if (!bencode_dict_int(&bc, 0, "version", &v) || v != 1 ||
	    !bencode_dict_str(&bc, 0, "info hash", &p, &len) || len != 20 ||
	    memcmp(p, mi->info_hash, 20) != 0 ||
	    !bencode_dict_str(&bc, 0, "pieces", &p, &len) ||
	    bitfield_load(have, p, len) != 0) {
		thr_error_set(err, THR_EINVAL, 0, "%s: not a record for this "
		    "torrent", path);
		goto out;
	}
	f = bencode_dict_get(&bc, 0, "files");
	for (size_t t = bencode_first(&bc, f); ; t = bencode_next(&bc, t)) {
		int64_t size, mtime, rsize, rmtime;
		size_t e;

		if (t == BENCODE_NONE || i == mi->nfiles)
			break;
		e = bencode_first(&bc, t);
		if (e == BENCODE_NONE || !bencode_int(&bc, e, &rsize) ||
		    (e = bencode_next(&bc, e)) == BENCODE_NONE ||
		    !bencode_int(&bc, e, &rmtime) ||
		    storage_stamp(st, i, &size, &mtime) != 0 ||
		    size != rsize || mtime != rmtime) {
			thr_error_set(err, THR_EINVAL, 0, "file %zu changed "
			    "since the resume record", i + 1);
			goto out;
		}
		i++;
	}
	if (i != mi->nfiles) {
		thr_error_set(err, THR_EINVAL, 0, "%s: wrong file count",
		    path);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0) {
		/* Whatever was loaded is not to be trusted. */
		for (uint32_t k = 0; k < have->nbits; k++)
			bitfield_clear(have, k);
	}
	bencode_release(&bc);
	free(data);
	close(fd);
	return rc;
}

int
resume_load_sel(const char *path, const struct metainfo *mi,
    uint8_t *wanted, size_t *nskipped, struct thr_error *err)
{
	struct bencode bc = { 0 };
	struct buf b;
	const uint8_t *p;
	size_t len, list, n = 0;
	int64_t v;
	int rc;

	buf_init(&b, RESUME_MAX_SIZE);
	if ((rc = resume_read_file(path, RESUME_MAX_SIZE, &b, err)) != 0)
		goto out;
	rc = THR_EINVAL;
	if (bencode_decode(&bc, b.data, b.len, BENCODE_DEFAULT_MAX_TOKENS,
	    err) != 0)
		goto out;
	if (!bencode_dict_int(&bc, 0, "version", &v) || v != 1 ||
	    !bencode_dict_str(&bc, 0, "info hash", &p, &len) || len != 20 ||
	    memcmp(p, mi->info_hash, 20) != 0) {
		thr_error_set(err, THR_EINVAL, 0, "%s: not a record for this "
		    "torrent", path);
		goto out;
	}
	/* Check every index before changing anything. */
	list = bencode_dict_get(&bc, 0, "skipped");
	if (list != BENCODE_NONE && !bencode_is(&bc, list, BENCODE_LIST)) {
		thr_error_set(err, THR_EINVAL, 0, "%s: bad skipped list", path);
		goto out;
	}
	for (size_t t = list == BENCODE_NONE ? BENCODE_NONE :
	    bencode_first(&bc, list); t != BENCODE_NONE;
	    t = bencode_next(&bc, t)) {
		if (!bencode_int(&bc, t, &v) || v < 0 ||
		    (uint64_t)v >= mi->nfiles) {
			thr_error_set(err, THR_EINVAL, 0, "%s: skipped file "
			    "out of range", path);
			goto out;
		}
	}
	memset(wanted, 1, mi->nfiles);
	for (size_t t = list == BENCODE_NONE ? BENCODE_NONE :
	    bencode_first(&bc, list); t != BENCODE_NONE;
	    t = bencode_next(&bc, t)) {
		(void)bencode_int(&bc, t, &v);
		if (wanted[v]) {
			wanted[v] = 0;
			n++;
		}
	}
	if (nskipped != NULL)
		*nskipped = n;
	rc = 0;
out:
	bencode_release(&bc);
	buf_release(&b);
	return rc;
}

int
resume_lock(const char *path, int *fd, long *owner, struct thr_error *err)
{
	char lock[PATH_MAX], dir[PATH_MAX], pid[32];
	const char *slash = strrchr(path, '/');
	size_t n = strlen(path);
	struct flock fl;
	int len;

	*fd = -1;
	*owner = 0;
	if (slash == NULL || n < 7 || strcmp(path + n - 7, ".resume") != 0 ||
	    n + 1 > sizeof(lock) || (size_t)(slash - path) >= sizeof(dir))
		return thr_error_set(err, THR_EINVAL, 0, "bad state path");
	memcpy(lock, path, n - 7);
	memcpy(lock + n - 7, ".lock", 6);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (make_dirs(dir) != 0)
		return thr_error_set(err, THR_EIO, 0, "%s: %s", dir,
		    strerror(errno));
	if ((*fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0)
		return thr_error_set(err, THR_EIO, 0, "%s: %s", lock,
		    strerror(errno));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(*fd, F_SETLK, &fl) != 0) {
		int e = errno;

		if (e == EACCES || e == EAGAIN) {
			/* Held: ask who holds it (it may just have gone,
			 * which leaves the PID unknown). */
			memset(&fl, 0, sizeof(fl));
			fl.l_type = F_WRLCK;
			fl.l_whence = SEEK_SET;
			if (fcntl(*fd, F_GETLK, &fl) == 0 &&
			    fl.l_type != F_UNLCK)
				*owner = (long)fl.l_pid;
			close(*fd);
			*fd = -1;
			return thr_error_set(err, THR_EBUSY, 0, "%s: locked",
			    lock);
		}
		close(*fd);
		*fd = -1;
		return thr_error_set(err, THR_EIO, 0, "%s: %s", lock,
		    strerror(e));
	}
	/* For people who look: the lock itself is what counts. */
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) == 0)
		(void)!pwrite(*fd, pid, (size_t)len, 0);
	return 0;
}
