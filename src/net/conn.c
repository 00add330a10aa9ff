/*
 * conn.c: non-blocking TCP plumbing for peer connections.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/err.h"
#include "net/conn.h"

static socklen_t
to_sockaddr(const struct thr_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a->ip, 16);
		s6->sin6_port = htons(a->port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	memcpy(&s4->sin_addr, a->ip, 4);
	s4->sin_port = htons(a->port);
	return sizeof(*s4);
}

static void
from_sockaddr(const struct sockaddr_storage *ss, struct thr_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)ss;
		a->family = 6;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->family = 4;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	}
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return THR_EIO;
	return 0;
}

/* Bind s to local's address, port 0, before a connect. */
static int
bind_local(int s, const struct thr_addr *local)
{
	struct sockaddr_storage ls;
	struct thr_addr l = *local;
	socklen_t sl;

	l.port = 0;
	sl = to_sockaddr(&l, &ls);
#ifdef IP_BIND_ADDRESS_NO_PORT
	{
		/* The port comes with the connect, as without the bind:
		 * the address alone does not use up ephemeral ports. */
		int one = 1;

		(void)setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
	}
#endif
	return bind(s, (struct sockaddr *)&ls, sl);
}

int
conn_connect(const struct thr_addr *a, const struct thr_addr *local, int *fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(a, &ss);
	int s;

	if (local != NULL && local->family != a->family)
		return THR_EINVAL;
	if ((s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return THR_EIO;
	if (set_nonblock(s) != 0 ||
	    (local != NULL && bind_local(s, local) != 0) ||
	    (connect(s, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS)) {
		close(s);
		return THR_EIO;
	}
	*fd = s;
	return 0;
}

int
conn_connect_result(int fd, char *why, size_t whylen)
{
	int e = 0;
	socklen_t l = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
		e = errno;
	if (e != 0) {
		snprintf(why, whylen, "connect: %s", strerror(e));
		return THR_EIO;
	}
	return 0;
}

int
conn_listen(const struct thr_addr *local, uint16_t port, int *fd,
    uint16_t *actual)
{
	struct thr_addr any;

	if (local == NULL) {
		memset(&any, 0, sizeof(any));
		any.family = 4;		/* 0.0.0.0 */
		local = &any;
	}
	for (int i = 0; i <= CONN_PORT_TRIES; i++) {
		struct sockaddr_storage ss;
		struct thr_addr at = *local, got;
		socklen_t sl;
		int one = 1, s;

		at.port = port == 0 ? 0 : (uint16_t)(port + i);
		sl = to_sockaddr(&at, &ss);
		if ((s = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) < 0)
			return THR_EIO;
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (at.family == 6)	/* as conn_listen6 */
			setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(s, (struct sockaddr *)&ss, sl) == 0 &&
		    listen(s, 64) == 0 && set_nonblock(s) == 0 &&
		    getsockname(s, (struct sockaddr *)&ss, &sl) == 0) {
			from_sockaddr(&ss, &got);
			*fd = s;
			*actual = got.port;
			return 0;
		}
		close(s);
		if (port == 0 || (uint32_t)port + i >= 65535)
			break;
	}
	return THR_EIO;
}

int
conn_listen6(uint16_t port, int *fd)
{
	struct sockaddr_in6 sin6;
	int one = 1;
	int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return THR_EIO;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* IPv6 only: the IPv4 socket already holds the port for IPv4. */
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_any;
	sin6.sin6_port = htons(port);
	if (bind(s, (struct sockaddr *)&sin6, sizeof(sin6)) != 0 ||
	    listen(s, 64) != 0 || set_nonblock(s) != 0) {
		close(s);
		return THR_EIO;
	}
	*fd = s;
	return 0;
}

int
conn_local(int fd, struct thr_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return THR_EIO;
	from_sockaddr(&ss, a);
	return 0;
}

int
conn_accept(int lfd, int *fd, struct thr_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int s = accept4(lfd, (struct sockaddr *)&ss, &sl,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (s < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR || errno == ECONNABORTED)
			return 0;
		return THR_EIO;
	}
	from_sockaddr(&ss, a);
	*fd = s;
	return 1;
}

ssize_t
conn_read(int fd, struct buf *in, size_t max, char *why, size_t whylen)
{
	size_t room = in->max - in->len;
	uint8_t *dst;
	ssize_t n;

	if (max > room)
		max = room;
	if (max == 0)
		return 0;	/* the parser must consume first */
	if ((dst = buf_reserve(in, max)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return THR_EIO;
	}
	n = read(fd, dst, max);
	if (n > 0) {
		buf_commit(in, (size_t)n);
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	snprintf(why, whylen, "%s", n == 0 ? "connection closed by peer" :
	    strerror(errno));
	return THR_EIO;
}

ssize_t
conn_write(int fd, struct buf *out, char *why, size_t whylen)
{
	ssize_t n;

	if (out->len == 0)
		return 0;
	n = send(fd, out->data, out->len, MSG_NOSIGNAL);
	if (n >= 0) {
		buf_consume(out, (size_t)n);
		return n;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	snprintf(why, whylen, "%s", strerror(errno));
	return THR_EIO;
}

int
conn_free_port(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (s < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(s, (struct sockaddr *)&sin, &sl) == 0)
		port = ntohs(sin.sin_port);
	close(s);
	return port;
}
