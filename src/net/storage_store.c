/*
 * storage_store.c: the disk backend of core/store.h (see storage.h): a
 * factory that opens a struct storage for each torrent under the place's
 * download directory, takes the lock beside its resume record, and
 * keeps that record as a file of the state directory.
 */
#include "config.h"

#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/i18n.h"
#include "net/fileio.h"
#include "net/storage.h"

/* --- the store backend (store.h) ------------------------------------ */

struct storage_store {
	struct storage	st;
	char		record[PATH_MAX];	/* "" when none */
};

static int
storage_op_read(void *ctx, uint64_t off, uint8_t *p, size_t len)
{
	return storage_read(&((struct storage_store *)ctx)->st, off, p, len);
}

static int
storage_op_writev(void *ctx, uint64_t off, const struct iovec *iov,
    int iovcnt)
{
	return storage_writev(&((struct storage_store *)ctx)->st, off, iov,
	    iovcnt);
}

static bool
storage_op_existed(void *ctx, uint64_t off, uint64_t len)
{
	return storage_range_existed(&((struct storage_store *)ctx)->st, off,
	    len);
}

static int
storage_op_stamp(void *ctx, size_t i, int64_t *size, int64_t *mtime_ns)
{
	return storage_stamp(&((struct storage_store *)ctx)->st, i, size,
	    mtime_ns);
}

static int
storage_op_record_load(void *ctx, size_t max, struct buf *out,
    struct thr_error *err)
{
	struct storage_store *ss = ctx;

	if (ss->record[0] == '\0')
		return THR_ENOENT;
	return fileio_read(ss->record, max, out, err);
}

static int
storage_op_record_save(void *ctx, const void *data, size_t len,
    struct thr_error *err)
{
	struct storage_store *ss = ctx;

	if (ss->record[0] == '\0')
		return 0;
	return fileio_write_atomic(ss->record, data, len, err);
}

static void
storage_op_close(void *ctx)
{
	struct storage_store *ss = ctx;

	storage_close(&ss->st);
	free(ss);
}

static const struct store_ops storage_ops = {
	.read = storage_op_read,
	.writev = storage_op_writev,
	.existed = storage_op_existed,
	.stamp = storage_op_stamp,
	.record_load = storage_op_record_load,
	.record_save = storage_op_record_save,
	.close = storage_op_close,
};

static int
storage_factory_open(void *ctx, const struct metainfo *mi,
    const uint8_t *wanted, struct store *out, struct thr_error *err)
{
	const struct storage_place *pl = ctx;
	struct storage_store *ss = calloc(1, sizeof(*ss));
	int rc;

	if (ss == NULL)
		return thr_error_set(err, THR_ENOMEM, 0, "out of memory");
	if ((rc = storage_open_sel(&ss->st, mi, pl->dir, wanted, err)) != 0) {
		free(ss);
		return rc;
	}
	if (pl->state_dir != NULL &&
	    fileio_resume_path(pl->state_dir, mi->info_hash, pl->dir,
	    ".resume", ss->record, sizeof(ss->record)) != 0)
		ss->record[0] = '\0';
	out->ops = &storage_ops;
	out->ctx = ss;
	return 0;
}

/*
 * One run per torrent and download directory: the lock file sits beside
 * the resume record and has its key.  The directory is made first (it
 * is the user's, and its real path is the key); no file in it is.
 */
static int
storage_factory_lock(void *ctx, const uint8_t info_hash[20],
    struct thr_error *err)
{
	struct storage_place *pl = ctx;
	char path[PATH_MAX];
	struct thr_error e2;
	long owner = 0;
	int rc, fd;

	if (pl->state_dir == NULL)
		return 0;
	if (pl->nlocks == STORAGE_MAX_LOCKS)
		return thr_error_set(err, THR_ELIMIT, 0, "too many torrents");
	if ((rc = storage_make_dir(pl->dir, err)) != 0)
		return rc;
	errno = 0;
	rc = fileio_resume_path(pl->state_dir, info_hash, pl->dir, ".lock",
	    path, sizeof(path));
	if (rc == THR_EIO)
		return thr_error_set(err, rc, 0, "%s: %s", pl->dir,
		    strerror(errno));
	if (rc != 0)
		return thr_error_set(err, rc, 0, _("state directory path too "
		    "long: %s"), pl->state_dir);
	memset(&e2, 0, sizeof(e2));
	rc = fileio_lock(path, &fd, &owner, &e2);
	if (rc == THR_EBUSY && owner > 0)
		return thr_error_set(err, rc, 0, _("another thorrent (pid %ld) "
		    "is running this torrent in %s; stop it first"), owner,
		    pl->dir);
	if (rc == THR_EBUSY)
		return thr_error_set(err, rc, 0, _("another thorrent is "
		    "running this torrent in %s; stop it first"), pl->dir);
	if (rc != 0)
		return thr_error_set(err, rc, 0, _("cannot lock the torrent: "
		    "%s"), e2.msg);
	pl->locks[pl->nlocks++] = fd;
	return 0;
}

static int
storage_factory_record(void *ctx, const struct metainfo *mi, size_t max,
    struct buf *out, struct thr_error *err)
{
	const struct storage_place *pl = ctx;
	char path[PATH_MAX];

	if (pl->state_dir == NULL || fileio_resume_path(pl->state_dir,
	    mi->info_hash, pl->dir, ".resume", path, sizeof(path)) != 0)
		return THR_ENOENT;
	return fileio_read(path, max, out, err);
}

struct store_factory
storage_factory(struct storage_place *place)
{
	struct store_factory f = { storage_factory_open, storage_factory_lock,
	    storage_factory_record, place };

	return f;
}

void
storage_place_release(struct storage_place *place)
{
	/* Last: the locks outlive every use of the data. */
	while (place->nlocks > 0)
		close(place->locks[--place->nlocks]);
}
