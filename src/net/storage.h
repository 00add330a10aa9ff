/*
 * storage.h: the torrent's bytes on disk.
 *
 * The torrent is one byte range [0, total_length) split into pieces and,
 * independently, into files; this module maps between the two.  Files
 * are created under the download directory at their full length (sparse,
 * with ftruncate, never shrinking an existing larger file... except to
 * its exact length) and written with pwrite.
 *
 * Safety: every path is opened relative to a directory fd of the download
 * directory, one component at a time (mkdirat/openat with O_NOFOLLOW), so
 * neither ".." (already refused by metainfo) nor a symlink planted inside
 * the directory can make us write elsewhere.
 *
 * This is the disk backend of the core's store (store.h); only the net
 * layer touches the disk.  File descriptors stay open
 * for the life of the storage.  They are moved to numbers at or above
 * FD_SETSIZE, which select() never needs, so a torrent of many files does
 * not starve the sockets; up to the process limit (less a reserve) stay
 * open that way, STORAGE_MAX_OPEN more below FD_SETSIZE when the limit is
 * too low for that; files beyond are opened on demand and closed after
 * use.
 */
#ifndef THR_STORAGE_H
#define THR_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/metainfo.h"
#include "core/store.h"

#define STORAGE_MAX_OPEN	256	/* kept open below FD_SETSIZE */
#define STORAGE_MAX_HIGH	65536	/* kept open at or above it */
#define STORAGE_FD_RESERVE	64	/* of the limit, left to others */

struct storage {
	const struct metainfo	*mi;	/* borrowed, must outlive storage */
	int			 dirfd;	/* the download directory */
	int			*fds;	/* per file, -1 when closed; owned */
	size_t			 nopen;		/* below FD_SETSIZE */
	size_t			 nhigh;		/* at or above it */
	size_t			 high_cap;	/* from RLIMIT_NOFILE */
	int			 dcache_fd;	/* the directory of the last
						 * file opened (many files
						 * share one), -1 if none */
	char			*dcache_path;	/* its path below dirfd */
	size_t			 dcache_len;
	int			 spare_fd;	/* the last file past the cap,
						 * kept open: sequential reads
						 * of many small files open each
						 * once; -1 if none */
	size_t			 spare_file;
	uint64_t		*prior;	/* per file: its size before we first
					 * opened it this run (0: created);
					 * owned, may be NULL */
};

/* One file's share of a byte range. */
struct storage_span {
	size_t		file;		/* index into mi->files */
	uint64_t	file_off;	/* offset inside that file */
	uint64_t	len;
};

/*
 * Open the download directory dir (created if missing) and create every
 * file at its full length (empty files too), with parent directories.
 * Errors: THR_EIO with the path and strerror in err, THR_EUNSAFE if a
 * component is a symlink or not a directory.
 */
int	storage_open(struct storage *s, const struct metainfo *mi,
	    const char *dir, struct thr_error *err);
/*
 * The same, creating only the files whose wanted[i] is non-zero (NULL:
 * all).  An unselected file is used if it exists, and created at full
 * length when a write first touches it (a piece shared with a selected
 * file); reading a missing one reads zeros.  wanted is read only here.
 */
int	storage_open_sel(struct storage *s, const struct metainfo *mi,
	    const char *dir, const uint8_t *wanted, struct thr_error *err);
void	storage_close(struct storage *s);
/*
 * Create the download directory dir and its missing parents, nothing
 * inside it (storage_open does the same first): the session locks the
 * torrent on the directory's real path before any file is made.
 * 0, THR_EINVAL, THR_ENOMEM or THR_EIO with the path in err.
 */
int	storage_make_dir(const char *dir, struct thr_error *err);

/*
 * Split [off, off+len) into file spans.  Fills at most max spans and
 * returns how many were needed (may exceed max: call again with more).
 * Zero-length files are skipped.
 */
size_t	storage_map(const struct metainfo *mi, uint64_t off, uint64_t len,
	    struct storage_span *spans, size_t max);

/* Write/read len bytes at torrent offset off, across files.  0 or THR_EIO
 * (a short read past a file's current end reads zeros). */
int	storage_write(struct storage *s, uint64_t off, const uint8_t *p,
	    size_t len);
int	storage_read(struct storage *s, uint64_t off, uint8_t *p, size_t len);
/*
 * Write iovcnt (at most STORAGE_IOV_MAX) buffers back to back at torrent
 * offset off: one pwritev when they fall in one open file, which is what
 * makes blocks that arrive together cheap to store.  0, THR_EINVAL or
 * THR_EIO.
 */
#define STORAGE_IOV_MAX	STORE_IOV_MAX
struct iovec;
int	storage_writev(struct storage *s, uint64_t off,
	    const struct iovec *iov, int iovcnt);

/*
 * False when some byte of [off, off+len) lies past the size its file had
 * before this run opened it: those bytes are holes we made, so a piece
 * over them cannot be valid and need not be hashed.  (A fresh download
 * then starts without reading gigabytes of zeros.)
 */
bool	storage_range_existed(const struct storage *s, uint64_t off,
	    uint64_t len);

/* Size and modification time (ns since the epoch) of file i, without
 * creating it: size -1 when it does not exist.  0 or THR_EIO. */
int	storage_stamp(struct storage *s, size_t i, int64_t *size,
	    int64_t *mtime_ns);

/*
 * The disk backend of store.h: a factory that opens a struct storage
 * under place->dir for each torrent (storage_open_sel), with its resume
 * record at fileio_resume_path(place->state_dir, ...) when state_dir is
 * not NULL.  place is borrowed and must outlive the stores.
 */
#define STORAGE_MAX_LOCKS	64	/* torrents locked through one place */

struct storage_place {
	const char	*dir;		/* the download directory */
	const char	*state_dir;	/* resume records; NULL: none */
	int		 locks[STORAGE_MAX_LOCKS];	/* held; owned */
	size_t		 nlocks;
};
/* The factory over place (which must outlive it and its stores); its
 * lock takes the ".lock" beside each torrent's resume record, held
 * until storage_place_release. */
struct store_factory	storage_factory(struct storage_place *place);
/* Let go of every lock the place holds. */
void	storage_place_release(struct storage_place *place);

#endif
