/*
 * lsdsock.h: Local Service Discovery (BEP 14) for a run: the multicast
 * sockets and what travels over them.
 *
 * One socket per family, bound to the wildcard address on LSD_PORT with
 * SO_REUSEADDR, so that several clients on one host share the port (and
 * each gets every announce), and joined to the BEP 14 group of its
 * family: 239.192.152.143 or ff15::efc0:988f, on the interface the
 * kernel's routes choose for the group.  Announces go out with a TTL
 * (hop limit) of 1, so they never leave the local link, and with
 * multicast loopback on, so that clients on the same host hear each
 * other (and we hear ourselves: the cookie of core/lsd.h sorts that
 * out).  The IPv6 socket is optional: without it, one log line.
 *
 * core/lsd decides what to send and when (at start, then every 5
 * minutes, never more than once a minute); this module moves the bytes
 * and hands each peer announced for one of the session's info-hashes to
 * that torrent as PEER_SRC_LSD, with the sender's IP and the announced
 * port.  Sockets
 * are non-blocking and close-on-exec; no call waits.
 */
#ifndef THR_LSDSOCK_H
#define THR_LSDSOCK_H

#include <stdint.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/session.h"
#include "net/loop.h"

/* Announces read per wakeup: a flood waits for the next turn. */
#define LSDSOCK_READ_BUDGET	64

struct lsdsock;

/*
 * Open the sockets and watch them in l.  s and l are borrowed for the
 * life of the result; port is the one peers dial; bind (may be NULL) is
 * --bind-address: only that family, announced from that address.  Returns NULL, after
 * one log line saying why, when no socket could be opened; the run goes
 * on without LSD.  The first announce goes out at the first
 * lsdsock_pump.  Private torrents (BEP 27: no peers but the tracker's)
 * are never announced.
 */
struct lsdsock	*lsdsock_new(struct session *s, struct loop *l,
		    uint16_t port, const struct thr_addr *bind);
/* Close the sockets and free.  m may be NULL. */
void	lsdsock_free(struct lsdsock *m);
/*
 * Announce the torrents that are not checking their data and not
 * private, when due.  Call once per loop pass; m may be NULL.
 */
void	lsdsock_pump(struct lsdsock *m, uint64_t now_ms);

/*
 * The low level, for tests: open, bind and join the group for family 4
 * or 6.  Returns the fd, or THR_EINVAL (bad family) / THR_EIO with err
 * (may be NULL) naming the call that failed.  The caller close()s it.
 */
int	lsdsock_open(int family, struct thr_error *err);
/* The group address and port of family (4 or 6) into a. */
void	lsdsock_group(int family, struct thr_addr *a);

#endif
