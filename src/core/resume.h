/*
 * resume.h: the fast-resume record, so that a clean restart need not
 * hash the data again.
 *
 * The record (bencoded) holds the info-hash, the verified pieces, each
 * file's size and modification time (ns) when it was saved, and the
 * files the user skipped ("skipped", 0-based indexes; records written
 * before it existed have none and still load).  It is
 * trusted only if every file still has exactly that size and time: any
 * write after the save (a crash mid-download, an edit by hand) changes a
 * time, and then the caller checks the data by hashing as before.  So a
 * stale or hostile record can cost a re-check, never a piece marked had
 * that is not on disk.
 *
 * Saving is atomic: a temporary file in the same directory, fsync,
 * rename over the old record, fsync of the directory.
 */
#ifndef THR_RESUME_H
#define THR_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "bitfield.h"
#include "buf.h"
#include "err.h"
#include "metainfo.h"
#include "storage.h"

#define RESUME_MAX_SIZE	(64u << 20)	/* a record we will read */

/*
 * The record's path for this torrent and download directory: a file in
 * state_dir named from the SHA-1 of the info-hash and the directory's
 * real path (one torrent may be downloaded to several places).  out
 * holds len bytes.  THR_EIO if dir cannot be resolved.
 */
int	resume_path(const char *state_dir, const struct metainfo *mi,
	    const char *dir, char *out, size_t len);
/* Write the record (creating state_dir if needed).  0 or THR_EIO. */
int	resume_save(const char *path, const struct metainfo *mi,
	    struct storage *st, const struct bitfield *have,
	    struct thr_error *err);
/* The same, remembering the files whose wanted[i] is zero as skipped
 * (wanted: mi->nfiles bytes, or NULL for all wanted). */
int	resume_save_sel(const char *path, const struct metainfo *mi,
	    struct storage *st, const struct bitfield *have,
	    const uint8_t *wanted, struct thr_error *err);
/*
 * The selection kept in the record at path, into wanted (mi->nfiles
 * bytes): 1 for each file, 0 for each file it lists as skipped.  The
 * selection is the user's choice and holds whether or not the data has
 * changed since, so no file is looked at.  0 when read (*nskipped, which
 * may be NULL, says how many are skipped); THR_ENOENT without a record;
 * THR_EINVAL when it is malformed, for another torrent, or names a file
 * the torrent does not have.  On error wanted is left as it was.
 */
int	resume_load_sel(const char *path, const struct metainfo *mi,
	    uint8_t *wanted, size_t *nskipped, struct thr_error *err);

/*
 * One download at a time per torrent and directory.  A second thorrent
 * on the same torrent and folder would download it all again beside the
 * first and race it for the same bytes, so the record's path with
 * ".lock" for ".resume" (the same key: info-hash and the directory's
 * real path) is locked with fcntl, which the kernel drops when the
 * process ends however it ends: a crash never leaves a stale lock.  The
 * file holds the owner's PID for people; F_GETLK gives the truth.
 *
 * *fd gets the open, locked file (the caller closes it at the end);
 * 0, THR_EBUSY with the owner's PID in *owner (0 if it cannot be told),
 * THR_EINVAL for a bad path, or THR_EIO.  Creates state_dir if needed.
 */
int	resume_lock(const char *path, int *fd, long *owner,
	    struct thr_error *err);
/*
 * Read the record into have (which must be empty and sized for mi).
 * 0 when it was trusted; THR_ENOENT when there is none; THR_EINVAL when
 * it is malformed, for another torrent, or any file changed since.  On
 * any error have is left empty.
 */
int	resume_load(const char *path, const struct metainfo *mi,
	    struct storage *st, struct bitfield *have, struct thr_error *err);

/*
 * Write data[0..len) to path atomically, as the record is written
 * (creating its directory).  0, THR_EINVAL, THR_EIO.
 */
int	resume_write_file(const char *path, const void *data, size_t len,
	    struct thr_error *err);
/* Append the contents of path to out, at most max bytes.  THR_ENOENT,
 * THR_EIO, THR_ELIMIT, THR_ENOMEM. */
int	resume_read_file(const char *path, size_t max, struct buf *out,
	    struct thr_error *err);
/* "<state_dir>/<hex info-hash><suffix>", e.g. the saved metadata of a
 * magnet (".torrent"); info_hash may be NULL ("dht.dat").  THR_ELIMIT if it does not fit in len. */
int	resume_state_file(const char *state_dir, const uint8_t info_hash[20],
	    const char *suffix, char *out, size_t len);

#endif
