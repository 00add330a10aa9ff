/*
 * udp.h: one non-blocking UDP socket, protocol-agnostic.
 *
 * A single socket serves the DHT, the UDP trackers and (later) uTP: the
 * caller reads each datagram and demultiplexes it by sender address and
 * first bytes; this module never looks inside a payload.  Every socket is
 * non-blocking and close-on-exec, and asks for UDP_SOCKBUF bytes of
 * kernel buffer each way (uTP bursts need it; the kernel may grant less,
 * silently, under net.core.rmem_max).  IPv6 sockets are IPV6_V6ONLY so
 * that an IPv4 socket can bind the same port beside them.  No call ever
 * waits.  The caller owns the fd and close()s it.
 */
#ifndef THR_UDP_H
#define THR_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/addr.h"
#include "core/err.h"

#define UDP_SOCKBUF	(4 << 20)	/* SO_RCVBUF/SO_SNDBUF wish */
/* A receive buffer this large holds any datagram (IPv4 payloads end at
 * 65507 bytes; IPv6 jumbograms do not cross the Internet). */
#define UDP_DGRAM_MAX	65536u

/*
 * Open a socket of family 4 or 6 bound to port (0: any free port; see
 * udp_local_port) on the wildcard address, or on 127.0.0.1 / ::1 when
 * loopback_only.  Returns the fd (>= 0) or THR_EINVAL (bad family) /
 * THR_EIO, with err (may be NULL) saying which call failed and why.
 */
int	udp_open(int family, uint16_t port, bool loopback_only,
	    struct thr_error *err);
/* The same on local's address and port (--bind-address), the family
 * being local's. */
int	udp_open_on(const struct thr_addr *local, struct thr_error *err);
/* The port fd is bound to, or THR_EIO. */
int	udp_local_port(int fd);
/*
 * Send one datagram of len bytes to `to`, whose family must be the
 * socket's.  Returns len, THR_EAGAIN when the kernel buffer is full (the
 * datagram is dropped: UDP callers retransmit anyway), THR_EINVAL for a
 * family mismatch or an oversized datagram, THR_EIO otherwise.
 */
ssize_t	udp_send(int fd, const struct thr_addr *to, const void *p,
	    size_t len);
/*
 * Receive one datagram into buf[0..cap) and its sender into from.
 * Returns its length (>= 0), THR_EAGAIN when none is waiting,
 * THR_ELIMIT when it was longer than cap (it is consumed and dropped),
 * THR_EIO otherwise.  Call it until THR_EAGAIN when the fd is readable.
 */
ssize_t	udp_recv(int fd, void *buf, size_t cap, struct thr_addr *from);

#endif
