/*
 * err.h: the one set of error codes used by every thorrent module.
 *
 * Verbs return 0 on success or a negative enum thr_err value.  Parsers of
 * untrusted bytes also fill a caller-provided struct thr_error with the
 * byte offset of the problem and a one-line message; filling it never
 * allocates, so it is safe on every error path.
 */
#ifndef THR_ERR_H
#define THR_ERR_H

#include <stddef.h>

enum thr_err {
	THR_OK = 0,
	THR_EINVAL = -1,	/* malformed input (torrent, bencode, URL) */
	THR_EPROTO = -2,	/* a peer or tracker broke the protocol */
	THR_EIO = -3,		/* a system call on a file or socket failed */
	THR_ENOMEM = -4,	/* allocation failed */
	THR_ELIMIT = -5,	/* a named cap was hit */
	THR_ENOENT = -6,	/* asked-for thing does not exist */
	THR_EAGAIN = -7,	/* not enough bytes yet: call again later */
	THR_EUNSAFE = -8,	/* a path would leave the download directory */
	THR_EBUSY = -9,		/* held by another process (a lock) */
};

#define THR_ERROR_MSG_MAX 200

struct thr_error {
	int	code;
	size_t	offset;		/* byte offset of the problem, 0 if none */
	char	msg[THR_ERROR_MSG_MAX];
};

/*
 * Record an error: sets code, offset and a printf-formatted message
 * (truncated to fit).  err may be NULL, in which case nothing happens.
 * Returns code so callers can write "return thr_error_set(...)".
 */
int	thr_error_set(struct thr_error *err, int code, size_t offset,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A static English name for a code, never NULL. */
const char *thr_strerror(int code);

#endif
