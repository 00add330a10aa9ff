/*
 * storage.c: the torrent's bytes on disk.
 *
 * Data model: the torrent is the byte range [0, total_length); file k of
 * mi->files covers [offset, offset + length) of it, in order and without
 * gaps, so a torrent offset is turned into (file, offset in file) with a
 * binary search over the offsets.  Zero-length files own no bytes: they
 * are created on disk but never appear in a span.
 *
 * Every file is reached from s->dirfd one path component at a time with
 * mkdirat and openat(O_NOFOLLOW), so a symlink planted anywhere under the
 * download directory is refused (THR_EUNSAFE) instead of followed.  The
 * descriptors stay open, moved above FD_SETSIZE (storage.h says why);
 * past the process limit the rest are opened for each read or write and
 * closed again.  Opening ten thousand files one path component at a
 * time is most of the cost of starting a large torrent, so the directory
 * of the last file opened is kept: files of one directory come together
 * in a torrent's file list.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/i18n.h"
#include "net/fileio.h"
#include "net/storage.h"

/* The longest component we can pass to openat (POSIX NAME_MAX). */
#define STORAGE_NAME_MAX	NAME_MAX

/* Files must be addressable through off_t. */
#define STORAGE_MAX_FILE_LEN	((uint64_t)INT64_MAX)

static int	storage_mkdir_p(const char *dir, struct thr_error *err);
static int	storage_walk_dirs(struct storage *s, const char *path,
		    bool create, int *curp, size_t *startp, char *name,
		    struct thr_error *err);
static void	storage_cache_dir(struct storage *s, const char *path,
		    size_t start, int cur);
static int	storage_fit_file(struct storage *s, size_t i, int fd,
		    bool sizeit, struct thr_error *err);
static int	storage_open_file(struct storage *s, size_t i, bool sizeit,
		    bool create,
		    int *fdp, struct thr_error *err);
static bool	storage_keep(struct storage *s, size_t i, int *fdp);
static size_t	storage_find(const struct metainfo *mi, uint64_t off);
static int	storage_io(struct storage *s, uint64_t off, uint8_t *rp,
		    const uint8_t *wp, size_t len);

/*
 * Create dir and its missing parents.  dir is the user's own choice, so
 * symlinks in it are followed like mkdir -p would; only paths taken from
 * the torrent are distrusted.
 */
static int
storage_mkdir_p(const char *dir, struct thr_error *err)
{
	struct stat st;
	size_t n, i;
	char *p;
	int saved;

	n = strlen(dir);
	if (n == 0)
		return thr_error_set(err, THR_EINVAL, 0,
		    "empty download directory");
	if ((p = malloc(n + 1)) == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		if (p[i - 1] == '/')
			continue;	/* "a//b" or a trailing slash */
		p[i] = '\0';
		if (mkdir(p, 0755) == -1) {
			saved = errno;
			/* Existing directories may report EEXIST or, on
			 * some file systems, EACCES/EROFS: look, do not
			 * guess. */
			if (stat(p, &st) == -1 || !S_ISDIR(st.st_mode)) {
				thr_error_set(err, THR_EIO, 0, "%s: %s", p,
				    strerror(saved == EEXIST ? ENOTDIR :
				    saved));
				free(p);
				return THR_EIO;
			}
		}
		if (i < n)
			p[i] = '/';
	}
	free(p);
	return 0;
}

/*
 * Walk the parent directories of path (a file's path below s->dirfd)
 * one component at a time, with mkdirat when create, refusing a
 * symlink or a non-directory at every step.  This is the whole of the
 * defence against a torrent writing outside the download directory, so
 * it checks every component again even though metainfo refused unsafe
 * ones.  On success *curp is the directory that holds the file (s->dirfd,
 * s->dcache_fd or a new descriptor the caller owns), *startp the offset
 * of the file's name in path, and name (STORAGE_NAME_MAX + 1 bytes) that
 * name.  Errors as storage_open_file, with nothing left open.
 */
static int
storage_walk_dirs(struct storage *s, const char *path, bool create,
    int *curp, size_t *startp, char *name, struct thr_error *err)
{
	const char *slash;
	size_t plen, start, end, clen;
	int cur, nfd, saved;

	plen = strlen(path);
	cur = s->dirfd;
	start = 0;
	slash = memrchr(path, '/', plen);
	if (slash != NULL && s->dcache_fd >= 0 &&
	    (size_t)(slash - path) == s->dcache_len &&
	    memcmp(path, s->dcache_path, s->dcache_len) == 0) {
		/* The same directory as the last file: its components were
		 * checked and opened then. */
		cur = s->dcache_fd;
		start = s->dcache_len + 1;
	}
	for (;;) {
		slash = memchr(path + start, '/', plen - start);
		end = slash != NULL ? (size_t)(slash - path) : plen;
		clen = end - start;
		/* metainfo already refused these; check again because a
		 * mistake here would write outside the directory. */
		if (clen == 0 || (clen == 1 && path[start] == '.') ||
		    (clen == 2 && memcmp(path + start, "..", 2) == 0)) {
			thr_error_set(err, THR_EUNSAFE, 0,
			    "%s: unsafe path component", path);
			goto close_cur;
		}
		if (clen > STORAGE_NAME_MAX) {
			thr_error_set(err, THR_EIO, 0, "%.*s: %s", (int)end,
			    path, strerror(ENAMETOOLONG));
			goto close_cur;
		}
		memcpy(name, path + start, clen);
		name[clen] = '\0';
		if (slash == NULL)
			break;

		/* EEXIST covers a planted symlink too; the O_NOFOLLOW open
		 * below is what refuses it. */
		if (create && mkdirat(cur, name, 0755) == -1 &&
		    errno != EEXIST) {
			thr_error_set(err, THR_EIO, 0, "%.*s: %s", (int)end,
			    path, strerror(errno));
			goto close_cur;
		}
		nfd = openat(cur, name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		saved = errno;
		if (cur != s->dirfd && cur != s->dcache_fd)
			close(cur);
		cur = s->dirfd;
		if (nfd == -1) {
			if (saved == ENOENT && !create)
				return thr_error_set(err, THR_ENOENT, 0,
				    "%.*s: not created", (int)end, path);
			if (saved == ELOOP || saved == ENOTDIR)
				return thr_error_set(err, THR_EUNSAFE, 0,
				    "%.*s: not a directory or a symlink, "
				    "refusing to follow", (int)end, path);
			return thr_error_set(err, THR_EIO, 0, "%.*s: %s",
			    (int)end, path, strerror(saved));
		}
		cur = nfd;
		start = end + 1;
	}
	*curp = cur;
	*startp = start;
	return 0;

close_cur:
	if (cur != s->dirfd && cur != s->dcache_fd)
		close(cur);
	return err->code;
}

/*
 * Take cur, the directory storage_walk_dirs opened for the file at path
 * whose name begins at start: keep it as s->dcache_fd for the next file
 * (files of one directory come together in a torrent's file list), or
 * close it if there is no memory to remember its path.  s->dirfd and the
 * cached directory itself are left alone.
 */
static void
storage_cache_dir(struct storage *s, const char *path, size_t start,
    int cur)
{
	char *dp;

	if (cur == s->dirfd || cur == s->dcache_fd)
		return;
	if ((dp = malloc(start)) == NULL) {
		close(cur);
		return;
	}
	if (s->dcache_fd >= 0)
		close(s->dcache_fd);
	free(s->dcache_path);
	memcpy(dp, path, start - 1);
	s->dcache_path = dp;
	s->dcache_len = start - 1;
	s->dcache_fd = cur;
}

/*
 * Check that fd, just opened as file i, is a regular file, note its
 * size before we touched it in s->prior, and with sizeit make it exactly
 * its torrent length.  THR_EUNSAFE for anything but a regular file (a
 * planted FIFO or device), THR_EIO; fd stays open either way and is the
 * caller's to close.
 */
static int
storage_fit_file(struct storage *s, size_t i, int fd, bool sizeit,
    struct thr_error *err)
{
	const struct metainfo_file *f = &s->mi->files[i];
	struct stat st;

	if (fstat(fd, &st) == -1)
		return thr_error_set(err, THR_EIO, 0, "%s: %s", f->path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return thr_error_set(err, THR_EUNSAFE, 0,
		    "%s: not a regular file", f->path);
	/* ftruncate both grows sparsely and cuts a longer leftover file to
	 * its exact length, so piece offsets line up with the torrent. */
	if (s->prior != NULL && s->prior[i] == UINT64_MAX)
		s->prior[i] = (uint64_t)st.st_size;
	if (sizeit && (uint64_t)st.st_size != f->length &&
	    ftruncate(fd, (off_t)f->length) == -1)
		return thr_error_set(err, THR_EIO, 0, "%s: %s", f->path,
		    strerror(errno));
	return 0;
}

/*
 * Open file i below s->dirfd.  With create, make it and its parent
 * directories as needed; without, a missing file or directory gives
 * THR_ENOENT.  With sizeit, make the file exactly its torrent length.
 */
static int
storage_open_file(struct storage *s, size_t i, bool sizeit, bool create,
    int *fdp, struct thr_error *err)
{
	const struct metainfo_file *f = &s->mi->files[i];
	const char *path = f->path;
	char name[STORAGE_NAME_MAX + 1];
	size_t start = 0;
	struct thr_error local;
	int cur = -1, fd, saved, rc;

	/* The helpers return err->code, so err is never NULL here. */
	if (err == NULL)
		err = &local;
	*fdp = -1;
	if (path == NULL)
		return thr_error_set(err, THR_EUNSAFE, 0,
		    "file %zu has no path", i);
	if (f->length > STORAGE_MAX_FILE_LEN)
		return thr_error_set(err, THR_ELIMIT, 0,
		    "%s: file too large", path);
	if ((rc = storage_walk_dirs(s, path, create, &cur, &start, name,
	    err)) != 0)
		return rc;

	/* O_NONBLOCK so that a planted FIFO cannot hang us before the
	 * S_ISREG check; it means nothing for regular files. */
	fd = openat(cur, name, O_RDWR | (create ? O_CREAT : 0) | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK, 0644);
	saved = errno;
	storage_cache_dir(s, path, start, cur);
	if (fd == -1) {
		if (saved == ENOENT && !create)
			return thr_error_set(err, THR_ENOENT, 0,
			    "%s: not created", path);
		if (saved == ELOOP)
			return thr_error_set(err, THR_EUNSAFE, 0,
			    "%s: is a symlink, refusing to follow", path);
		return thr_error_set(err, THR_EIO, 0, "%s: %s", path,
		    strerror(saved));
	}
	if ((rc = storage_fit_file(s, i, fd, sizeit, err)) != 0) {
		close(fd);
		return rc;
	}
	*fdp = fd;
	return 0;
}

/*
 * Keep *fdp open as file i's descriptor if the caps allow, moved above
 * FD_SETSIZE when it can be (*fdp is updated).  False: the caller must
 * treat it as a one-off descriptor.
 */
static bool
storage_keep(struct storage *s, size_t i, int *fdp)
{
	if (s->nhigh < s->high_cap) {
		int hi = fcntl(*fdp, F_DUPFD_CLOEXEC, FD_SETSIZE);

		if (hi >= 0) {
			close(*fdp);
			*fdp = hi;
			s->fds[i] = hi;
			s->nhigh++;
			return true;
		}
	}
	if (s->nopen < STORAGE_MAX_OPEN) {
		s->fds[i] = *fdp;
		s->nopen++;
		return true;
	}
	return false;
}

int
storage_open(struct storage *s, const struct metainfo *mi, const char *dir,
    struct thr_error *err)
{
	return storage_open_sel(s, mi, dir, NULL, err);
}

int
storage_make_dir(const char *dir, struct thr_error *err)
{
	return storage_mkdir_p(dir, err);
}

int
storage_open_sel(struct storage *s, const struct metainfo *mi,
    const char *dir, const uint8_t *wanted, struct thr_error *err)
{
	struct rlimit rl;
	size_t i;
	int rc, fd;

	s->mi = mi;
	s->dirfd = -1;
	s->fds = NULL;
	s->nopen = 0;
	s->nhigh = 0;
	s->high_cap = 0;
	s->prior = NULL;
	s->spare_fd = -1;
	s->dcache_fd = -1;
	s->dcache_path = NULL;
	s->dcache_len = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur > FD_SETSIZE + STORAGE_FD_RESERVE) {
		rlim_t room = rl.rlim_cur - FD_SETSIZE - STORAGE_FD_RESERVE;

		s->high_cap = room < STORAGE_MAX_HIGH ? (size_t)room :
		    STORAGE_MAX_HIGH;
	}

	if ((rc = storage_mkdir_p(dir, err)) != 0)
		return rc;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd == -1)
		return thr_error_set(err, THR_EIO, 0, "%s: %s", dir,
		    strerror(errno));
	if (mi->nfiles > 0) {
		s->fds = calloc(mi->nfiles, sizeof(*s->fds));
		if (s->fds == NULL) {
			rc = thr_error_set(err, THR_ENOMEM, 0,
			    "out of memory");
			goto close_all;
		}
	}
	if (mi->nfiles > 0 &&
	    (s->prior = malloc(mi->nfiles * sizeof(*s->prior))) == NULL) {
		rc = thr_error_set(err, THR_ENOMEM, 0, "out of memory");
		goto close_all;
	}
	for (i = 0; i < mi->nfiles; i++) {
		s->fds[i] = -1;
		s->prior[i] = UINT64_MAX;	/* not seen yet */
	}
	for (i = 0; i < mi->nfiles; i++) {
		bool want = wanted == NULL || wanted[i];

		/* Unselected files are opened only if they already exist;
		 * they are created when a shared piece first touches them. */
		rc = storage_open_file(s, i, want, want, &fd, err);
		if (!want && rc == THR_ENOENT)
			continue;
		if (rc != 0)
			goto close_all;
		if (!storage_keep(s, i, &fd))
			close(fd);
	}
	return 0;

close_all:
	storage_close(s);
	return rc;
}

void
storage_close(struct storage *s)
{
	size_t i;

	if (s->fds != NULL && s->mi != NULL) {
		for (i = 0; i < s->mi->nfiles; i++) {
			if (s->fds[i] >= 0)
				close(s->fds[i]);
		}
		/* Only an opened storage has a meaningful spare. */
		if (s->spare_fd >= 0)
			close(s->spare_fd);
	}
	s->spare_fd = -1;
	/* A zeroed storage has fd 0 here: only a path says it is ours. */
	if (s->dcache_path != NULL && s->dcache_fd >= 0)
		close(s->dcache_fd);
	s->dcache_fd = -1;
	free(s->dcache_path);
	s->dcache_path = NULL;
	s->dcache_len = 0;
	free(s->fds);
	free(s->prior);
	s->prior = NULL;
	s->fds = NULL;
	s->nopen = 0;
	s->nhigh = 0;
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
}

/*
 * Index of the file holding byte off: the last file starting at or before
 * off.  Zero-length files share their offset with the next file, so the
 * last one with that offset is the non-empty one (or the very last file).
 */
static size_t
storage_find(const struct metainfo *mi, uint64_t off)
{
	size_t lo = 0, hi = mi->nfiles, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (mi->files[mid].offset <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 ? lo - 1 : 0;
}

size_t
storage_map(const struct metainfo *mi, uint64_t off, uint64_t len,
    struct storage_span *spans, size_t max)
{
	const struct metainfo_file *f;
	uint64_t fo, n;
	size_t i, need = 0;

	if (len == 0 || off >= mi->total_length)
		return 0;
	if (len > mi->total_length - off)
		len = mi->total_length - off;
	for (i = storage_find(mi, off); i < mi->nfiles && len > 0; i++) {
		f = &mi->files[i];
		if (f->length == 0 || off < f->offset ||
		    off - f->offset >= f->length)
			continue;
		fo = off - f->offset;
		n = f->length - fo;
		if (n > len)
			n = len;
		if (need < max && spans != NULL) {
			spans[need].file = i;
			spans[need].file_off = fo;
			spans[need].len = n;
		}
		need++;
		off += n;
		len -= n;
	}
	return need;
}

/* Write all of p or fail; a short write is retried, not an error. */
static int
storage_pwrite(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, (off_t)off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return THR_EIO;
		}
		if (n == 0)
			return THR_EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Read len bytes; what lies past the file's end reads as zeros. */
static int
storage_pread(int fd, uint8_t *p, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, p, len, (off_t)off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return THR_EIO;
		}
		if (n == 0) {
			memset(p, 0, len);
			break;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Read into rp or write from wp (exactly one is non-NULL). */
static int
storage_io(struct storage *s, uint64_t off, uint8_t *rp, const uint8_t *wp,
    size_t len)
{
	const struct metainfo *mi = s->mi;
	const struct metainfo_file *f;
	uint64_t fo, n;
	size_t i;
	int fd, rc;

	if (len == 0)
		return 0;
	if (off > mi->total_length || len > mi->total_length - off)
		return THR_EINVAL;
	if (s->fds == NULL)
		return THR_EIO;
	for (i = storage_find(mi, off); i < mi->nfiles && len > 0; i++) {
		f = &mi->files[i];
		if (f->length == 0 || off < f->offset ||
		    off - f->offset >= f->length)
			continue;
		fo = off - f->offset;
		n = f->length - fo;
		if (n > len)
			n = len;
		fd = s->fds[i];
		if (fd < 0 && s->spare_fd >= 0 && s->spare_file == i)
			fd = s->spare_fd;
		if (fd < 0) {
			/* Past STORAGE_MAX_OPEN, or not created yet (an
			 * unselected file): open for this span, creating it
			 * at full length only to write. */
			rc = storage_open_file(s, i, wp != NULL, wp != NULL,
			    &fd, NULL);
			if (rc == THR_ENOENT && rp != NULL) {
				memset(rp, 0, (size_t)n);
				rp += n;
				off += n;
				len -= (size_t)n;
				continue;
			}
			if (rc != 0)
				return rc;
			if (!storage_keep(s, i, &fd)) {
				if (s->spare_fd >= 0)
					close(s->spare_fd);
				s->spare_fd = fd;
				s->spare_file = i;
			}
		}
		if (rp != NULL)
			rc = storage_pread(fd, rp, (size_t)n, fo);
		else
			rc = storage_pwrite(fd, wp, (size_t)n, fo);
		if (rc != 0)
			return rc;
		if (rp != NULL)
			rp += n;
		else
			wp += n;
		off += n;
		len -= (size_t)n;
	}
	/* Bytes left over mean the file table has a gap. */
	return len == 0 ? 0 : THR_EIO;
}

int
storage_stamp(struct storage *s, size_t i, int64_t *size, int64_t *mtime_ns)
{
	struct stat st;
	int fd = s->fds[i], rc;

	if (fd < 0) {
		rc = storage_open_file(s, i, false, false, &fd, NULL);
		if (rc == THR_ENOENT) {
			*size = -1;
			*mtime_ns = 0;
			return 0;
		}
		if (rc != 0)
			return rc;
	}
	rc = fstat(fd, &st) == 0 ? 0 : THR_EIO;
	if (fd != s->fds[i])
		close(fd);
	if (rc != 0)
		return rc;
	*size = (int64_t)st.st_size;
	*mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
	    st.st_mtim.tv_nsec;
	return 0;
}

bool
storage_range_existed(const struct storage *s, uint64_t off, uint64_t len)
{
	const struct metainfo *mi = s->mi;

	if (s->prior == NULL)
		return true;
	for (size_t i = storage_find(mi, off); i < mi->nfiles && len > 0;
	    i++) {
		const struct metainfo_file *f = &mi->files[i];
		uint64_t fo, n, seen;

		if (f->length == 0 || off < f->offset ||
		    off - f->offset >= f->length)
			continue;
		fo = off - f->offset;
		n = f->length - fo < len ? f->length - fo : len;
		/* A file we never opened (unselected, absent) has nothing. */
		seen = s->prior[i] == UINT64_MAX ? 0 : s->prior[i];
		if (fo + n > seen)
			return false;
		off += n;
		len -= n;
	}
	return true;
}

int
storage_write(struct storage *s, uint64_t off, const uint8_t *p, size_t len)
{
	return storage_io(s, off, NULL, p, len);
}

int
storage_read(struct storage *s, uint64_t off, uint8_t *p, size_t len)
{
	return storage_io(s, off, p, NULL, len);
}

int
storage_writev(struct storage *s, uint64_t off, const struct iovec *iov,
    int iovcnt)
{
	const struct metainfo *mi = s->mi;
	struct iovec v[STORAGE_IOV_MAX];
	uint64_t len = 0, fo;
	size_t i;
	int fd, rc;

	if (iovcnt <= 0 || iovcnt > STORAGE_IOV_MAX)
		return iovcnt == 0 ? 0 : THR_EINVAL;
	for (int k = 0; k < iovcnt; k++)
		len += iov[k].iov_len;
	if (off > mi->total_length || len > mi->total_length - off)
		return THR_EINVAL;
	i = s->fds != NULL ? storage_find(mi, off) : mi->nfiles;
	/* The usual case, one open file: one pwritev. */
	if (i < mi->nfiles && (fd = s->fds[i]) >= 0 &&
	    off >= mi->files[i].offset &&
	    off - mi->files[i].offset + len <= mi->files[i].length) {
		struct iovec *cur = v;
		int n = iovcnt;

		memcpy(v, iov, (size_t)iovcnt * sizeof(*v));
		fo = off - mi->files[i].offset;
		while (n > 0) {
			ssize_t w = pwritev(fd, cur, n, (off_t)fo);

			if (w == -1 && errno == EINTR)
				continue;
			if (w <= 0)
				return THR_EIO;
			fo += (uint64_t)w;
			/* A short write: skip what went out, go on. */
			while (n > 0 && (size_t)w >= cur->iov_len) {
				w -= (ssize_t)cur->iov_len;
				cur++;
				n--;
			}
			if (n > 0) {
				cur->iov_base = (uint8_t *)cur->iov_base + w;
				cur->iov_len -= (size_t)w;
			}
		}
		return 0;
	}
	/* Across files, or a file not open: one span at a time. */
	for (int k = 0; k < iovcnt; k++) {
		if ((rc = storage_io(s, off, NULL, iov[k].iov_base,
		    iov[k].iov_len)) != 0)
			return rc;
		off += iov[k].iov_len;
	}
	return 0;
}
