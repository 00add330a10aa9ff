/*
 * udp.c: non-blocking UDP sockets.  See udp.h: this file moves
 * datagrams and addresses, and knows no protocol.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/err.h"
#include "net/udp.h"

static socklen_t
udp_to_sockaddr(const struct thr_addr *a, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6;
	struct sockaddr_in *s4;

	memset(ss, 0, sizeof *ss);
	if (a->family == 6) {
		s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		s6->sin6_port = htons(a->port);
		return sizeof *s6;
	}
	s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	memcpy(&s4->sin_addr, a->ip, 4);
	s4->sin_port = htons(a->port);
	return sizeof *s4;
}

static void
udp_from_sockaddr(const struct sockaddr_storage *ss, struct thr_addr *a)
{
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;

	memset(a, 0, sizeof *a);
	if (ss->ss_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)ss;
		a->family = 6;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		s4 = (const struct sockaddr_in *)ss;
		a->family = 4;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	}
}

int
udp_open(int family, uint16_t port, bool loopback_only,
    struct thr_error *err)
{
	struct thr_addr a;

	memset(&a, 0, sizeof a);
	a.family = family;
	a.port = port;
	if (loopback_only) {
		if (family == 4) {
			a.ip[0] = 127;
			a.ip[3] = 1;
		} else
			a.ip[15] = 1;
	}
	return udp_open_on(&a, err);
}

int
udp_open_on(const struct thr_addr *local, struct thr_error *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int s, one = 1, size = UDP_SOCKBUF, e;
	int family = local->family;
	uint16_t port = local->port;

	if (family != 4 && family != 6)
		return thr_error_set(err, THR_EINVAL, 0,
		    "udp: family %d is neither 4 nor 6", family);
	sl = udp_to_sockaddr(local, &ss);
	s = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (s < 0)
		return thr_error_set(err, THR_EIO, 0, "udp: socket: %s",
		    strerror(errno));
	if (family == 6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one,
	    sizeof one) < 0)
		goto fail_errno;
	/* Best effort: the kernel caps these at net.core.[rw]mem_max, and
	 * a smaller buffer only costs dropped datagrams under bursts. */
	(void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	(void)setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	/* Past that cap when we may (CAP_NET_ADMIN): a uTP download at
	 * loopback speed overflows a 208 KiB receive queue. */
	(void)setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
	(void)setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
	if (bind(s, (struct sockaddr *)&ss, sl) < 0)
		goto fail_errno;
	return s;
fail_errno:
	e = errno;
	close(s);
	return thr_error_set(err, THR_EIO, 0, "udp: bind to port %u: %s",
	    (unsigned)port, strerror(e));
}

int
udp_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct thr_addr a;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return THR_EIO;
	udp_from_sockaddr(&ss, &a);
	if (a.family == 0)
		return THR_EIO;
	return a.port;
}

ssize_t
udp_send(int fd, const struct thr_addr *to, const void *p, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	ssize_t n;

	if ((to->family != 4 && to->family != 6) || len > UDP_DGRAM_MAX)
		return THR_EINVAL;
	sl = udp_to_sockaddr(to, &ss);
	do
		n = sendto(fd, p, len, MSG_NOSIGNAL,
		    (const struct sockaddr *)&ss, sl);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	/* ENOBUFS: the interface queue is full, a transient condition. */
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return THR_EAGAIN;
	/* A destination of the other family is refused by the kernel. */
	if (errno == EMSGSIZE || errno == EAFNOSUPPORT || errno == EINVAL)
		return THR_EINVAL;
	return THR_EIO;
}

ssize_t
udp_recv(int fd, void *buf, size_t cap, struct thr_addr *from)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	ssize_t n;

	for (;;) {
		sl = sizeof ss;
		memset(&ss, 0, sizeof ss);
		/* MSG_TRUNC makes Linux return the real length, so a cut
		 * datagram is noticed rather than parsed short. */
		n = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&ss,
		    &sl);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		/* ICMP errors reported on the socket concern one earlier
		 * datagram; the next one may be fine. */
		if (errno == ECONNREFUSED || errno == EHOSTUNREACH ||
		    errno == ENETUNREACH)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return THR_EAGAIN;
		return THR_EIO;
	}
	udp_from_sockaddr(&ss, from);
	if ((size_t)n > cap)
		return THR_ELIMIT;
	return n;
}
