/*
 * resolve.h: host name resolution that never blocks the select() loop.
 *
 * getaddrinfo() can wait for DNS for many seconds, so names go to glibc's
 * getaddrinfo_a (GAI_NOWAIT; in libc itself since glibc 2.34, no -lanl),
 * whose helper threads do the waiting.  The loop asks for the outcome
 * with resolve_poll from a timer (every RESOLVE_POLL_MS or so) or when it
 * next needs the address.  Numeric hosts ("127.0.0.1", "::1", "[::1]")
 * are parsed at once and never reach the resolver.
 *
 * Ownership and lifetime: struct resolve is embedded by its owner and
 * holds one share of a heap job (the gaicb, the name and the hints,
 * which glibc's thread reads and writes while the lookup runs).  The
 * other share belongs to the lookup: glibc calls a notification function
 * (SIGEV_THREAD, in a thread of its own) when the lookup ends, and that
 * drops it.  Whoever drops the last share frees the job.  So
 * resolve_cancel and resolve_release are safe at any time, even while a
 * lookup is running and gai_cancel cannot stop it: the owner forgets the
 * job at once and the running lookup frees it when it finishes.  A
 * lookup still running when the process exits is simply abandoned.
 * Only the job's reference count is shared between threads; the
 * results are read by the owner after gai_error says the lookup is over.
 */
#ifndef THR_RESOLVE_H
#define THR_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/err.h"

#define RESOLVE_MAX_ADDRS	8	/* addresses kept per name */
#define RESOLVE_HOST_MAX	256	/* DNS names are at most 253 bytes */
#define RESOLVE_POLL_MS		50	/* a sensible poll period */

enum resolve_state {
	RESOLVE_IDLE,		/* nothing asked, or cancelled */
	RESOLVE_PENDING,	/* the lookup runs */
	RESOLVE_DONE,		/* addrs[0..naddrs) hold the answer */
	RESOLVE_FAILED,		/* error says why */
};

struct resolve_job;

struct resolve {
	enum resolve_state	 state;
	struct resolve_job	*job;	/* our share, while PENDING */
	int			 family;	/* 0, 4 or 6, as asked */
	uint16_t		 port;	/* put into every address */
	struct thr_addr		 addrs[RESOLVE_MAX_ADDRS];
	size_t			 naddrs;
	struct thr_error	 error;	/* when FAILED */
};

/* Make r idle.  Nothing is allocated. */
void	resolve_init(struct resolve *r);
/*
 * Look up host (copied; "[v6]" brackets allowed) for port.  family is 4
 * or 6 to want only that family, 0 for both.  A lookup already running
 * in r is cancelled first.  Returns 0 when the lookup started or, for a
 * numeric host, already finished; THR_EINVAL for an empty or overlong
 * host or a bad family, THR_ENOENT for a numeric host of the other
 * family, THR_ENOMEM, or THR_EIO when glibc refused the request.  After
 * an error r is FAILED with the same code.
 */
int	resolve_start(struct resolve *r, const char *host, uint16_t port,
	    int family);
/*
 * The outcome so far: THR_EAGAIN while the lookup runs; 0 with
 * r->addrs[0..r->naddrs) filled (naddrs >= 1), in the resolver's order
 * of preference, duplicates removed; or an error, with err (may be NULL)
 * filled: THR_ENOENT (no such name, or no address of the family),
 * THR_EIO (the DNS failed, maybe for a while), THR_ENOMEM, or
 * THR_EINVAL when nothing was started.  Never blocks; may be called
 * again after the end and returns the same outcome.
 */
int	resolve_poll(struct resolve *r, struct thr_error *err);
/* Abandon any lookup and make r idle (see the lifetime note above). */
void	resolve_cancel(struct resolve *r);
/* Same as resolve_cancel: after it r holds nothing and may be freed. */
void	resolve_release(struct resolve *r);

#endif
