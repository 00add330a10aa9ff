/*
 * store.h: where a torrent's bytes live, as the core sees them: a table
 * of operations and the backend's own context.  The core never opens a
 * file; the caller gives the session a factory that opens a store for a
 * torrent once its metainfo is known.
 *
 * Backends: the disk (net/storage.c, files under the download
 * directory) and memory (core/memstore.c, for tests and the simulator).
 *
 * A store is one byte range [0, total_length) of the torrent; how it maps
 * to files is the backend's business.  Every operation is synchronous and
 * bounded by its arguments.  Besides the bytes, a store keeps the
 * torrent's fast-resume record (resume.h encodes it), since the record
 * describes exactly that data.
 */
#ifndef THR_STORE_H
#define THR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "metainfo.h"

#define STORE_IOV_MAX	64	/* buffers in one writev */

struct iovec;

struct store_ops {
	/* len bytes at torrent offset off into p (zeros where nothing was
	 * ever written).  0 or THR_EIO. */
	int	(*read)(void *ctx, uint64_t off, uint8_t *p, size_t len);
	/* iovcnt (<= STORE_IOV_MAX) buffers back to back at off.  0,
	 * THR_EINVAL, or THR_EIO with errno set. */
	int	(*writev)(void *ctx, uint64_t off, const struct iovec *iov,
		    int iovcnt);
	/* False when some byte of [off, off+len) did not exist before this
	 * run: holes we made cannot hold a valid piece, so a fresh
	 * download need not hash them. */
	bool	(*existed)(void *ctx, uint64_t off, uint64_t len);
	/* Size and modification time (ns) of file i, without creating it:
	 * size -1 when it does not exist.  0 or THR_EIO. */
	int	(*stamp)(void *ctx, size_t i, int64_t *size, int64_t *mtime_ns);
	/* The fast-resume record: append it to out (at most max bytes).
	 * 0, THR_ENOENT when there is none, THR_EIO, THR_ELIMIT. */
	int	(*record_load)(void *ctx, size_t max, struct buf *out,
		    struct thr_error *err);
	/* Replace the record atomically.  0 or THR_EIO with err. */
	int	(*record_save)(void *ctx, const void *data, size_t len,
		    struct thr_error *err);
	/* Release everything; ctx is invalid afterwards. */
	void	(*close)(void *ctx);
};

struct store {
	const struct store_ops	*ops;	/* NULL: not open */
	void			*ctx;	/* the backend's, owned by the store */
};

/*
 * Opens the store of a torrent whose metainfo is mi (borrowed: it must
 * outlive the store).  wanted[i] non-zero for the files to create (NULL:
 * all); a backend may create the others when a write first touches them.
 * 0 or an error code with err filled (THR_EIO, THR_EUNSAFE, THR_ENOMEM).
 */
struct store_factory {
	int	(*open)(void *ctx, const struct metainfo *mi,
		    const uint8_t *wanted, struct store *out,
		    struct thr_error *err);
	/* One run per torrent and place: called with the info-hash before
	 * anything is created.  0, or THR_EBUSY with a message naming the
	 * process that holds it, or another error.  NULL: no locking. */
	int	(*lock)(void *ctx, const uint8_t info_hash[20],
		    struct thr_error *err);
	/* The resume record of mi's torrent here, before its store is
	 * open (it says which files the user skipped, which decides what
	 * open creates): appended to out, at most max bytes.  0,
	 * THR_ENOENT, THR_EIO, THR_ELIMIT.  NULL: none. */
	int	(*record)(void *ctx, const struct metainfo *mi, size_t max,
		    struct buf *out, struct thr_error *err);
	void	*ctx;
};

/*
 * The session's small named blobs (the state directory): a magnet's saved
 * metadata ("<hex info-hash>.torrent"), the DHT table ("dht.dat").
 * load appends blob name to out, at most max bytes: 0, THR_ENOENT when
 * there is none, THR_EIO, THR_ELIMIT.  save replaces it atomically.
 * A NULL load or save keeps nothing.
 */
struct blob_store {
	int	(*load)(void *ctx, const char *name, size_t max,
		    struct buf *out, struct thr_error *err);
	int	(*save)(void *ctx, const char *name, const void *data,
		    size_t len, struct thr_error *err);
	void	*ctx;
};

static inline bool
store_is_open(const struct store *s)
{
	return s->ops != NULL;
}

static inline int
store_read(const struct store *s, uint64_t off, uint8_t *p, size_t len)
{
	return s->ops->read(s->ctx, off, p, len);
}

static inline int
store_writev(const struct store *s, uint64_t off, const struct iovec *iov,
    int iovcnt)
{
	return s->ops->writev(s->ctx, off, iov, iovcnt);
}

/* Close s (if open) and mark it closed. */
void	store_close(struct store *s);

/*
 * Read the n consecutive pieces from first into buf (which holds n
 * pieces of mi->piece_length) with one read, and hash them there: ok[k]
 * tells whether piece first + k matches the torrent.  Checking existing
 * data this way costs one read per span instead of one per piece.
 * THR_EINVAL if the span leaves the torrent, THR_EIO, THR_ENOMEM.
 */
int	store_verify_span(const struct store *s, const struct metainfo *mi,
	    uint32_t first, uint32_t n, uint8_t *buf, bool *ok);

/* True if the SHA-1 of data (one whole piece i of mi) matches. */
bool	store_piece_matches(const struct metainfo *mi, uint32_t i,
	    const uint8_t *data, size_t len);

#endif
