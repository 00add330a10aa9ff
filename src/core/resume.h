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
 * This module only encodes and decodes; the store keeps the bytes
 * (store.h record_load / record_save), atomically on disk.
 */
#ifndef THR_RESUME_H
#define THR_RESUME_H

#include <stddef.h>
#include <stdint.h>

#include "bitfield.h"
#include "buf.h"
#include "err.h"
#include "metainfo.h"
#include "store.h"

#define RESUME_MAX_SIZE	(64u << 20)	/* a record we will read */

/* Append the record of have for mi to out, with each file's stamp from
 * st, and the files whose wanted[i] is zero as skipped (wanted:
 * mi->nfiles bytes, or NULL for all wanted).  0, THR_ENOMEM (out full),
 * THR_EIO (a stamp failed). */
int	resume_encode(const struct metainfo *mi, const struct store *st,
	    const struct bitfield *have, const uint8_t *wanted,
	    struct buf *out);
/*
 * Decode the record data[0..len) into have (which must be empty and
 * sized for mi).  0 when it was trusted; THR_EINVAL when it is
 * malformed, for another torrent, or any file changed since (st's
 * stamps).  On any error have is left empty.
 */
int	resume_decode(const uint8_t *data, size_t len,
	    const struct metainfo *mi, const struct store *st,
	    struct bitfield *have, struct thr_error *err);

/*
 * The selection kept in the record data[0..len), into wanted
 * (mi->nfiles bytes): 1 for each file, 0 for each file it lists as
 * skipped.  The selection is the user's choice and holds whether or not
 * the data has changed since, so no stamp is looked at.  0 when read
 * (*nskipped, which may be NULL, says how many are skipped); THR_EINVAL
 * when it is malformed, for another torrent, or names a file the
 * torrent does not have.  On error wanted is left as it was.
 */
int	resume_decode_sel(const uint8_t *data, size_t len,
	    const struct metainfo *mi, uint8_t *wanted, size_t *nskipped,
	    struct thr_error *err);

#endif
