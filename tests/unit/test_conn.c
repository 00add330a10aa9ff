/*
 * test_conn.c: TCP sockets bound to one local address (--bind-address),
 * on 127.0.0.2 and 127.0.0.3, which Linux routes to lo like 127.0.0.1.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/err.h"
#include "net/conn.h"

static struct thr_addr
ip(const char *s)
{
	struct thr_addr a;

	cr_assert_eq(addr_parse_ip(s, &a), 0, "%s", s);
	return a;
}

/* Wait up to 5 s for fd to be ready for events. */
static void
wait_fd(int fd, short events)
{
	struct pollfd p = { fd, events, 0 };

	cr_assert_eq(poll(&p, 1, 5000), 1, "fd %d not ready", fd);
}

Test(conn, listen_and_dial_from_a_bound_address)
{
	struct thr_addr l = ip("127.0.0.2"), from = ip("127.0.0.3"), to, got;
	uint16_t port;
	int lfd, cfd, afd = -1;
	char why[96];

	cr_assert_eq(conn_listen(&l, 0, &lfd, &port), 0, "%s",
	    strerror(errno));
	cr_assert_gt(port, 0);
	to = l;
	to.port = port;
	cr_assert_eq(conn_connect(&to, &from, &cfd), 0);
	wait_fd(lfd, POLLIN);
	for (int i = 0; i < 100 && afd < 0; i++) {
		int rc = conn_accept(lfd, &afd, &got);

		cr_assert_geq(rc, 0);
		if (rc == 0) {
			afd = -1;
			usleep(10000);
		}
	}
	cr_assert_geq(afd, 0, "nothing to accept");
	/* The listener saw the connection come from the bound address. */
	cr_assert_eq(got.family, 4);
	cr_assert_eq(memcmp(got.ip, from.ip, 4), 0, "from %u.%u.%u.%u",
	    got.ip[0], got.ip[1], got.ip[2], got.ip[3]);
	wait_fd(cfd, POLLOUT);
	cr_assert_eq(conn_connect_result(cfd, why, sizeof(why)), 0, "%s",
	    why);
	close(afd);
	close(cfd);
	close(lfd);
}

Test(conn, bound_listener_takes_only_its_address)
{
	struct thr_addr l = ip("127.0.0.2"), other = ip("127.0.0.3");
	uint16_t port, port2;
	int lfd, lfd2, cfd;
	char why[96];

	cr_assert_eq(conn_listen(&l, 0, &lfd, &port), 0);
	/* The same port on another address is free. */
	cr_assert_eq(conn_listen(&other, port, &lfd2, &port2), 0);
	cr_assert_eq(port2, port);
	close(lfd2);
	/* Nobody listens on 127.0.0.3:port now: refused. */
	other.port = port;
	cr_assert_eq(conn_connect(&other, NULL, &cfd), 0);
	wait_fd(cfd, POLLOUT);
	cr_assert_eq(conn_connect_result(cfd, why, sizeof(why)), THR_EIO);
	close(cfd);
	close(lfd);
}

Test(conn, dial_of_the_other_family_refused)
{
	struct thr_addr to = ip("127.0.0.2"), from = ip("::1");
	int fd = -1;

	to.port = 9;
	cr_assert_eq(conn_connect(&to, &from, &fd), THR_EINVAL);
	cr_assert_eq(fd, -1);
}
