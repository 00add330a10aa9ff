/*
 * lsdsock.c: BEP 14 multicast sockets.  See lsdsock.h: this file opens,
 * joins and sends; net/udp.c receives.
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
#include "core/lsd.h"
#include "net/lsdsock.h"
#include "net/udp.h"

/* BEP 14 groups are org-local and site-local; we keep announces on the
 * local link, where the peers we can reach directly are. */
#define LSDSOCK_TTL	1

void
lsdsock_group(int family, struct thr_addr *a)
{
	memset(a, 0, sizeof *a);
	a->family = family == 6 ? 6 : 4;
	a->port = LSD_PORT;
	if (a->family == 6)
		(void)inet_pton(AF_INET6, LSD_GROUP6, a->ip);
	else
		(void)inet_pton(AF_INET, LSD_GROUP4, a->ip);
}

static int
lsdsock_open4(int s, const char **what)
{
	struct sockaddr_in sin;
	struct ip_mreq mr;
	unsigned char ttl = LSDSOCK_TTL, loop = 1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(LSD_PORT);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	*what = "bind";
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) < 0)
		return -1;
#ifdef IP_MULTICAST_ALL
	{
		/* Linux hands a wildcard socket every group any socket
		 * on the host joined; we want ours only. */
		int zero = 0;

		(void)setsockopt(s, IPPROTO_IP, IP_MULTICAST_ALL, &zero,
		    sizeof zero);
	}
#endif
	memset(&mr, 0, sizeof mr);
	(void)inet_pton(AF_INET, LSD_GROUP4, &mr.imr_multiaddr);
	mr.imr_interface.s_addr = htonl(INADDR_ANY);
	*what = "join 239.192.152.143";
	if (setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) < 0)
		return -1;
	*what = "IP_MULTICAST_TTL";
	if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0)
		return -1;
	*what = "IP_MULTICAST_LOOP";
	if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
	    sizeof loop) < 0)
		return -1;
	return 0;
}

static int
lsdsock_open6(int s, const char **what)
{
	struct sockaddr_in6 sin6;
	struct ipv6_mreq mr;
	int one = 1, hops = LSDSOCK_TTL;

	*what = "IPV6_V6ONLY";
	if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
		return -1;
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(LSD_PORT);
	sin6.sin6_addr = in6addr_any;
	*what = "bind";
	if (bind(s, (struct sockaddr *)&sin6, sizeof sin6) < 0)
		return -1;
#ifdef IPV6_MULTICAST_ALL
	{
		int zero = 0;

		(void)setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero,
		    sizeof zero);
	}
#endif
	memset(&mr, 0, sizeof mr);
	(void)inet_pton(AF_INET6, LSD_GROUP6, &mr.ipv6mr_multiaddr);
	mr.ipv6mr_interface = 0;
	*what = "join ff15::efc0:988f";
	if (setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr) < 0)
		return -1;
	*what = "IPV6_MULTICAST_HOPS";
	if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops,
	    sizeof hops) < 0)
		return -1;
	*what = "IPV6_MULTICAST_LOOP";
	if (setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &one,
	    sizeof one) < 0)
		return -1;
	return 0;
}

int
lsdsock_open(int family, struct thr_error *err)
{
	const char *what = "socket";
	int s, one = 1, e;

	if (family != 4 && family != 6)
		return thr_error_set(err, THR_EINVAL, 0,
		    "lsd: family %d is neither 4 nor 6", family);
	s = socket(family == 6 ? AF_INET6 : AF_INET,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		goto fail_errno;
	/* Several clients on one host share port 6771 (BEP 14). */
	what = "SO_REUSEADDR";
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		goto fail_close;
	if ((family == 6 ? lsdsock_open6(s, &what) :
	    lsdsock_open4(s, &what)) < 0)
		goto fail_close;
	return s;
fail_close:
	e = errno;
	close(s);
	errno = e;
fail_errno:
	return thr_error_set(err, THR_EIO, 0, "lsd: IPv%d %s: %s", family,
	    what, strerror(errno));
}

ssize_t
lsdsock_send(int fd, int family, const void *p, size_t len)
{
	struct thr_addr g;

	lsdsock_group(family, &g);
	return udp_send(fd, &g, p, len);
}
