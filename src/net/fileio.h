/*
 * fileio.h: the program's small files, read and written for the core,
 * which only parses and encodes bytes: torrent files, the configuration
 * file, the state directory (resume records, saved metadata, the DHT
 * table), and the sinks the session writes its log and trace to.
 *
 * Reads are bounded (a cap per call) and refuse what is not a regular
 * file; writes are atomic (a temporary file in the same directory, fsync,
 * rename, fsync of the directory), so a crash leaves the old file or the
 * new one, never half of one.
 */
#ifndef THR_FILEIO_H
#define THR_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/conffile.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metainfo.h"
#include "core/store.h"
#include "core/trace.h"

/*
 * Append the contents of the regular file at path to out, at most max
 * bytes.  THR_ENOENT (missing), THR_EIO (unreadable, not a regular file),
 * THR_ELIMIT (larger than max), THR_ENOMEM; err says why without naming
 * the path (callers name it once).
 */
int	fileio_read(const char *path, size_t max, struct buf *out,
	    struct thr_error *err);

/* Write data[0..len) to path atomically, creating its directory (mode
 * 0700) if needed.  0, THR_EINVAL or THR_EIO with err filled. */
int	fileio_write_atomic(const char *path, const void *data, size_t len,
	    struct thr_error *err);

/* Read and parse the torrent file at path (metainfo_parse).  Errors as
 * fileio_read and metainfo_parse; err names the path for system errors. */
int	fileio_load_metainfo(struct metainfo *m, const char *path,
	    struct thr_error *err);

/* Read and parse the configuration file at path (conffile_parse).
 * THR_ENOENT when it does not exist, so that a missing default file can
 * be ignored; otherwise as fileio_read and conffile_parse. */
int	fileio_load_conffile(struct conffile *cf, const char *path,
	    const struct conffile_opt *opts, size_t nopts,
	    struct thr_error *err);

/* "<state_dir>/<hex info_hash><suffix>" (info_hash NULL: no hex part,
 * as for "dht.dat").  THR_ELIMIT if it does not fit in len. */
int	fileio_state_file(const char *state_dir, const uint8_t info_hash[20],
	    const char *suffix, char *out, size_t len);

/*
 * The resume record's path for this torrent and download directory: a
 * file in state_dir named from the SHA-1 of the info-hash and the
 * directory's real path (one torrent may be downloaded to several
 * places), with suffix (".resume", ".lock").  THR_EIO if dir cannot be
 * resolved, THR_ELIMIT.
 */
int	fileio_resume_path(const char *state_dir, const uint8_t info_hash[20],
	    const char *dir, const char *suffix, char *out, size_t len);

/*
 * Lock the file at path (creating it and its directory), so that one
 * process at a time holds it: fcntl, which the kernel drops when the
 * process ends however it ends, so a crash never leaves a stale lock.
 * The file holds the owner's PID for people; F_GETLK gives the truth.
 * *fd gets the open, locked file (the caller closes it at the end); 0,
 * THR_EBUSY with the owner's PID in *owner (0 if it cannot be told),
 * THR_EIO.
 */
int	fileio_lock(const char *path, int *fd, long *owner,
	    struct thr_error *err);

/* The state directory as the session's blob store (store.h): saved
 * metadata, the DHT table.  state_dir is borrowed; NULL keeps nothing
 * (loads find nothing, saves are dropped). */
struct blob_store	fileio_blobs(const char *state_dir);

/* A log sink writing "thorrent: LEVEL: line" to fp (borrowed), flushed
 * at once: the line the user sees on a terminal or in a pipe. */
struct log_sink	fileio_log_sink(FILE *fp);

/*
 * The trace file: open path for writing (truncating) and return its sink;
 * lines are buffered (64 KiB) so that tracing does not slow the loop, and
 * flushed by fileio_trace_close.  A failed write stops the trace (the
 * sink reports it; trace.h logs it once).
 *
 * A process that follows the trace while it is written (thorrent swarm
 * and demo wait on their children's events) must not wait for 64 KiB:
 * fileio_trace_pump, once per loop pass, flushes what waits once the
 * last flush is FILEIO_TRACE_FLUSH_MS old, and fileio_trace_wait_ms
 * tells the loop how long it may sleep before that.  So a line reaches
 * the file within about FILEIO_TRACE_FLUSH_MS, at the cost of at most
 * one write a period.  ft may be NULL (no trace) in all three.
 */
#define FILEIO_TRACE_FLUSH_MS	100
struct fileio_trace;
struct fileio_trace	*fileio_trace_open(const char *path,
			    struct thr_error *err);
struct trace_sink	fileio_trace_sink(struct fileio_trace *ft);
void	fileio_trace_pump(struct fileio_trace *ft, uint64_t now_ms);
/* Milliseconds until lines waiting in the buffer are due to be flushed;
 * UINT64_MAX when none wait. */
uint64_t	fileio_trace_wait_ms(const struct fileio_trace *ft,
		    uint64_t now_ms);
void	fileio_trace_close(struct fileio_trace *ft);

#endif
