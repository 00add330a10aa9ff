/*
 * fileio.c: small files for the core: bounded reads, atomic writes, the
 * state directory, the log and trace sinks.  See fileio.h.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/i18n.h"
#include "net/fileio.h"

#define FILEIO_CHUNK		65536
#define FILEIO_TRACE_BUF	(1u << 16)
#define FILEIO_BLOB_MAX		(64u << 20)

int
fileio_read(const char *path, size_t max, struct buf *out,
    struct thr_error *err)
{
	uint8_t chunk[FILEIO_CHUNK];
	struct stat sb;
	ssize_t n;
	int fd, rc = 0, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		e = errno;
		return thr_error_set(err, e == ENOENT ? THR_ENOENT : THR_EIO,
		    0, "%s", strerror(e));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return thr_error_set(err, THR_EIO, 0, "%s",
		    _("not a regular file"));
	}
	if (sb.st_size < 0 || (uint64_t)sb.st_size > max) {
		close(fd);
		return thr_error_set(err, THR_ELIMIT, 0,
		    _("larger than %zu bytes"), max);
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			rc = thr_error_set(err, THR_EIO, 0, "%s",
			    strerror(e));
			break;
		}
		if (n == 0)
			break;
		/* The file grew since fstat: still bounded by max. */
		if ((size_t)n > max || out->len > max - (size_t)n) {
			rc = thr_error_set(err, THR_ELIMIT, 0,
			    _("larger than %zu bytes"), max);
			break;
		}
		if (buf_append(out, chunk, (size_t)n) != 0) {
			rc = thr_error_set(err, THR_ENOMEM, 0, "%s",
			    _("out of memory"));
			break;
		}
	}
	close(fd);
	return rc;
}

/* mkdir -p for the state directory (a trusted, user-given path). */
static int
fileio_make_dirs(const char *path)
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

int
fileio_write_atomic(const char *path, const void *data, size_t len,
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
	if (fileio_make_dirs(dir) != 0)
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
fileio_load_metainfo(struct metainfo *m, const char *path,
    struct thr_error *err)
{
	struct buf b;
	int rc;

	memset(m, 0, sizeof(*m));
	buf_init(&b, METAINFO_MAX_FILE_SIZE);
	if ((rc = fileio_read(path, METAINFO_MAX_FILE_SIZE, &b, err)) == 0)
		rc = metainfo_parse(m, b.data, b.len, err);
	else {
		/* System errors name the file; parse errors do not. */
		char why[THR_ERROR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err->msg);
		thr_error_set(err, rc, 0, "%s: %s", path, why);
	}
	buf_release(&b);
	return rc;
}

int
fileio_load_conffile(struct conffile *cf, const char *path,
    const struct conffile_opt *opts, size_t nopts, struct thr_error *err)
{
	struct buf b;
	int rc;

	memset(cf, 0, sizeof(*cf));
	buf_init(&b, CONFFILE_MAX_BYTES + 1);
	rc = fileio_read(path, CONFFILE_MAX_BYTES, &b, err);
	if (rc == 0)
		rc = conffile_parse(cf, (const char *)b.data, b.len, opts,
		    nopts, err);
	buf_release(&b);
	return rc;
}

int
fileio_state_file(const char *state_dir, const uint8_t info_hash[20],
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
fileio_resume_path(const char *state_dir, const uint8_t info_hash[20],
    const char *dir, const char *suffix, char *out, size_t len)
{
	char real[PATH_MAX], hex[41];
	uint8_t key[20];
	struct buf b;
	int rc;

	if (realpath(dir, real) == NULL)
		return THR_EIO;
	buf_init(&b, 20 + PATH_MAX);
	if ((rc = buf_append(&b, info_hash, 20)) != 0 ||
	    (rc = buf_puts(&b, real)) != 0 ||
	    (rc = hash_sha1(b.data, b.len, key)) != 0) {
		buf_release(&b);
		return rc;
	}
	buf_release(&b);
	hash_hex(key, 20, hex);
	if ((size_t)snprintf(out, len, "%s/%s%s", state_dir, hex, suffix) >=
	    len)
		return THR_ELIMIT;
	return 0;
}

int
fileio_lock(const char *path, int *fd, long *owner, struct thr_error *err)
{
	char dir[PATH_MAX], pid[32];
	const char *slash = strrchr(path, '/');
	struct flock fl;
	int len, e;

	*fd = -1;
	*owner = 0;
	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir))
		return thr_error_set(err, THR_EINVAL, 0, "bad state path");
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (fileio_make_dirs(dir) != 0)
		return thr_error_set(err, THR_EIO, 0, "%s: %s", dir,
		    strerror(errno));
	if ((*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0)
		return thr_error_set(err, THR_EIO, 0, "%s: %s", path,
		    strerror(errno));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(*fd, F_SETLK, &fl) == 0) {
		/* For people who look: the lock itself is what counts. */
		len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (ftruncate(*fd, 0) == 0)
			(void)!pwrite(*fd, pid, (size_t)len, 0);
		return 0;
	}
	e = errno;
	if (e == EACCES || e == EAGAIN) {
		/* Held: ask who holds it (it may just have gone, which
		 * leaves the PID unknown). */
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(*fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			*owner = (long)fl.l_pid;
		close(*fd);
		*fd = -1;
		return thr_error_set(err, THR_EBUSY, 0, "%s: locked", path);
	}
	close(*fd);
	*fd = -1;
	return thr_error_set(err, THR_EIO, 0, "%s: %s", path, strerror(e));
}

/* --- the state directory as a blob store ------------------------------ */

static int
fileio_blob_path(const char *state_dir, const char *name, char *out,
    size_t len)
{
	/* Names are ours ("<hex>.torrent", "dht.dat"), never a path. */
	if (strchr(name, '/') != NULL || name[0] == '.' ||
	    (size_t)snprintf(out, len, "%s/%s", state_dir, name) >= len)
		return THR_EINVAL;
	return 0;
}

static int
fileio_blob_load(void *ctx, const char *name, size_t max, struct buf *out,
    struct thr_error *err)
{
	char path[PATH_MAX];

	if (ctx == NULL)
		return THR_ENOENT;
	if (fileio_blob_path(ctx, name, path, sizeof(path)) != 0)
		return thr_error_set(err, THR_EINVAL, 0, "bad state name");
	return fileio_read(path, max < FILEIO_BLOB_MAX ? max :
	    FILEIO_BLOB_MAX, out, err);
}

static int
fileio_blob_save(void *ctx, const char *name, const void *data, size_t len,
    struct thr_error *err)
{
	char path[PATH_MAX];

	if (ctx == NULL)
		return 0;
	if (fileio_blob_path(ctx, name, path, sizeof(path)) != 0)
		return thr_error_set(err, THR_EINVAL, 0, "bad state name");
	return fileio_write_atomic(path, data, len, err);
}

struct blob_store
fileio_blobs(const char *state_dir)
{
	struct blob_store b = { fileio_blob_load, fileio_blob_save,
	    (void *)(uintptr_t)state_dir };

	return b;
}

/* --- sinks ------------------------------------------------------------ */

static void
fileio_log_write(void *ctx, enum log_level lv, const char *line)
{
	FILE *fp = ctx;

	fprintf(fp, "thorrent: %s: %s\n", log_level_name(lv), line);
	fflush(fp);
}

struct log_sink
fileio_log_sink(FILE *fp)
{
	struct log_sink s = { fileio_log_write, fp };

	return s;
}

struct fileio_trace {
	FILE		*fp;
	bool		 waiting;	/* lines written since the flush */
	uint64_t	 flushed_ms;	/* the last flush (0: none yet) */
};

struct fileio_trace *
fileio_trace_open(const char *path, struct thr_error *err)
{
	struct fileio_trace *ft = calloc(1, sizeof(*ft));

	if (ft == NULL) {
		thr_error_set(err, THR_ENOMEM, 0, "%s", _("out of memory"));
		return NULL;
	}
	if ((ft->fp = fopen(path, "we")) == NULL) {
		thr_error_set(err, THR_EIO, 0, "cannot open trace %s: %s",
		    path, strerror(errno));
		free(ft);
		return NULL;
	}
	/* Lines are flushed by the buffer, not one by one: the trace must
	 * not slow the loop.  fileio_trace_close flushes the rest. */
	setvbuf(ft->fp, NULL, _IOFBF, FILEIO_TRACE_BUF);
	return ft;
}

static int
fileio_trace_write(void *ctx, const char *line, size_t len)
{
	struct fileio_trace *ft = ctx;

	if (fwrite(line, 1, len, ft->fp) != len || ferror(ft->fp))
		return THR_EIO;
	ft->waiting = true;
	return 0;
}

struct trace_sink
fileio_trace_sink(struct fileio_trace *ft)
{
	struct trace_sink s = { fileio_trace_write, ft };

	return s;
}

void
fileio_trace_pump(struct fileio_trace *ft, uint64_t now_ms)
{
	if (ft == NULL || !ft->waiting ||
	    now_ms - ft->flushed_ms < FILEIO_TRACE_FLUSH_MS)
		return;
	/* A failed flush leaves the error flag set: the next write
	 * reports it and the trace stops. */
	(void)fflush(ft->fp);
	ft->waiting = false;
	ft->flushed_ms = now_ms;
}

uint64_t
fileio_trace_wait_ms(const struct fileio_trace *ft, uint64_t now_ms)
{
	uint64_t due;

	if (ft == NULL || !ft->waiting)
		return UINT64_MAX;
	due = ft->flushed_ms + FILEIO_TRACE_FLUSH_MS;
	return due > now_ms ? due - now_ms : 0;
}

void
fileio_trace_close(struct fileio_trace *ft)
{
	if (ft == NULL)
		return;
	fclose(ft->fp);
	free(ft);
}
