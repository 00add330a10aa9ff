/*
 * lsdsock.h: the multicast sockets of Local Service Discovery (BEP 14).
 *
 * One socket per family, bound to the wildcard address on LSD_PORT with
 * SO_REUSEADDR, so that several clients on one host share the port (and
 * each gets every announce), and joined to the BEP 14 group of its
 * family: 239.192.152.143 or ff15::efc0:988f, on the interface the
 * kernel's routes choose for the group.  Announces go out with a TTL
 * (hop limit) of 1, so they never leave the local link, and with
 * multicast loopback on, so that clients on the same host hear each
 * other (and we hear ourselves: core/lsd.h's cookie sorts that out).
 *
 * Sockets are non-blocking and close-on-exec; the caller owns the fd,
 * reads it with udp_recv (net/udp.h) and close()s it.  No call waits.
 * This module knows no message format: that is core/lsd.h.
 */
#ifndef THR_LSDSOCK_H
#define THR_LSDSOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "core/addr.h"
#include "core/err.h"

/*
 * Open, bind and join the group for family 4 or 6.  Returns the fd, or
 * THR_EINVAL (bad family) / THR_EIO with err (may be NULL) naming the
 * call that failed: a host without IPv6, or without a route for
 * multicast, fails here and the caller goes on without that family.
 */
int	lsdsock_open(int family, struct thr_error *err);
/* The group address and port of family (4 or 6) into a. */
void	lsdsock_group(int family, struct thr_addr *a);
/*
 * Send one announce p[0..len) to the group of family (the socket's).
 * Returns len, THR_EAGAIN when the kernel buffer is full (dropped: the
 * next announce comes anyway), THR_EINVAL or THR_EIO (see udp_send).
 */
ssize_t	lsdsock_send(int fd, int family, const void *p, size_t len);

#endif
