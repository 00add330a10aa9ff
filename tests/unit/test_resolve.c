/*
 * test_resolve.c: the two network helpers of the UDP trackers: name
 * resolution without blocking (suite resolve) and UDP sockets (suite
 * udp).  Only numeric hosts and "localhost" are resolved, and datagrams
 * only go to loopback.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/err.h"
#include "core/tracker.h"
#include "core/udptracker.h"
#include "net/resolve.h"
#include "net/udp.h"

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Poll until the lookup ends, for at most 10 s (a hung lookup fails). */
static int
wait_poll(struct resolve *r, struct thr_error *err)
{
	int rc, i;

	for (i = 0; i < 1000; i++) {
		if ((rc = resolve_poll(r, err)) != THR_EAGAIN)
			return rc;
		sleep_ms(10);
	}
	cr_assert_fail("lookup still running after 10 s");
	return rc;
}

Test(resolve, numeric_v4_at_once)
{
	struct resolve r;
	struct thr_error err;

	resolve_init(&r);
	cr_assert_eq(resolve_start(&r, "127.0.0.1", 6969, 0), 0);
	cr_assert_eq(r.state, RESOLVE_DONE);
	cr_assert_null(r.job);
	cr_assert_eq(resolve_poll(&r, &err), 0);
	cr_assert_eq(resolve_poll(&r, &err), 0);
	cr_assert_eq(r.naddrs, 1);
	cr_assert_eq(r.addrs[0].family, 4);
	cr_assert(memcmp(r.addrs[0].ip, "\x7f\0\0\x01", 4) == 0);
	cr_assert_eq(r.addrs[0].port, 6969);
	resolve_release(&r);
	cr_assert_eq(r.state, RESOLVE_IDLE);
}

Test(resolve, numeric_v6_and_brackets)
{
	static const uint8_t one[16] = { [15] = 1 };
	struct resolve r;

	resolve_init(&r);
	cr_assert_eq(resolve_start(&r, "::1", 80, 0), 0);
	cr_assert_eq(resolve_poll(&r, NULL), 0);
	cr_assert_eq(r.addrs[0].family, 6);
	cr_assert(memcmp(r.addrs[0].ip, one, 16) == 0);
	cr_assert_eq(resolve_start(&r, "[::1]", 81, 6), 0);
	cr_assert_eq(resolve_poll(&r, NULL), 0);
	cr_assert_eq(r.addrs[0].port, 81);
	resolve_release(&r);
}

Test(resolve, bad_requests)
{
	struct resolve r;
	struct thr_error err;
	char longname[300];

	resolve_init(&r);
	cr_assert_eq(resolve_poll(&r, &err), THR_EINVAL);
	cr_assert_eq(resolve_start(&r, "", 1, 0), THR_EINVAL);
	cr_assert_eq(resolve_poll(&r, &err), THR_EINVAL);
	cr_assert_eq(err.code, THR_EINVAL);
	cr_assert_eq(resolve_start(&r, "[]", 1, 0), THR_EINVAL);
	cr_assert_eq(resolve_start(&r, "127.0.0.1", 1, 5), THR_EINVAL);
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	cr_assert_eq(resolve_start(&r, longname, 1, 0), THR_EINVAL);
	cr_assert_eq(resolve_start(&r, "127.0.0.1", 1, 6), THR_ENOENT);
	memset(&err, 0, sizeof err);
	cr_assert_eq(resolve_poll(&r, &err), THR_ENOENT);
	cr_assert_eq(err.code, THR_ENOENT);
	cr_assert(strstr(err.msg, "family") != NULL, "%s", err.msg);
	cr_assert_eq(resolve_start(&r, "::1", 1, 4), THR_ENOENT);
	resolve_release(&r);
}

Test(resolve, localhost)
{
	struct resolve r;
	struct thr_error err;
	size_t i;

	resolve_init(&r);
	cr_assert_eq(resolve_start(&r, "localhost", 6881, 0), 0);
	cr_assert_eq(wait_poll(&r, &err), 0, "%s", err.msg);
	cr_assert_geq(r.naddrs, 1);
	cr_assert_leq(r.naddrs, RESOLVE_MAX_ADDRS);
	for (i = 0; i < r.naddrs; i++) {
		cr_assert(addr_is_loopback(&r.addrs[i]));
		cr_assert_eq(r.addrs[i].port, 6881);
	}
	/* The answer stays until the next start. */
	cr_assert_eq(resolve_poll(&r, &err), 0);

	cr_assert_eq(resolve_start(&r, "localhost", 1, 4), 0);
	cr_assert_eq(wait_poll(&r, &err), 0, "%s", err.msg);
	for (i = 0; i < r.naddrs; i++)
		cr_assert_eq(r.addrs[i].family, 4);
	resolve_release(&r);
}

Test(resolve, cancel_while_running)
{
	struct resolve r[16];
	struct thr_error err;
	size_t i;
	int round;

	/* Release lookups at every stage: queued, running, finished but
	 * not polled.  Each job must end up freed exactly once (run this
	 * suite under ASan or valgrind to see it). */
	for (round = 0; round < 5; round++) {
		for (i = 0; i < 16; i++) {
			resolve_init(&r[i]);
			cr_assert_eq(resolve_start(&r[i], "localhost", 1, 0),
			    0);
		}
		if (round > 0)
			sleep_ms(round * 5);
		for (i = 0; i < 16; i++)
			resolve_release(&r[i]);
	}
	/* A new start replaces a pending one. */
	resolve_init(&r[0]);
	cr_assert_eq(resolve_start(&r[0], "localhost", 1, 0), 0);
	cr_assert_eq(resolve_start(&r[0], "127.0.0.2", 2, 0), 0);
	cr_assert_eq(resolve_poll(&r[0], &err), 0);
	cr_assert_eq(r[0].naddrs, 1);
	cr_assert_eq(r[0].addrs[0].ip[3], 2);
	resolve_release(&r[0]);
	/* Let the notification threads run before the process ends. */
	sleep_ms(200);
}

Test(udp, loopback_roundtrip)
{
	struct thr_addr to, from;
	struct thr_error err;
	uint8_t buf[UDP_DGRAM_MAX];
	int a, b, pa, pb;

	a = udp_open(4, 0, true, &err);
	cr_assert_geq(a, 0, "%s", err.msg);
	b = udp_open(4, 0, true, &err);
	cr_assert_geq(b, 0, "%s", err.msg);
	pa = udp_local_port(a);
	pb = udp_local_port(b);
	cr_assert_gt(pa, 0);
	cr_assert_gt(pb, 0);
	cr_assert_eq(udp_recv(b, buf, sizeof buf, &from), THR_EAGAIN);
	cr_assert_eq(addr_parse("127.0.0.1:1", &to), 0);
	to.port = (uint16_t)pb;
	cr_assert_eq(udp_send(a, &to, "hello", 5), 5);
	cr_assert_eq(udp_send(a, &to, "", 0), 0);
	sleep_ms(20);
	cr_assert_eq(udp_recv(b, buf, sizeof buf, &from), 5);
	cr_assert(memcmp(buf, "hello", 5) == 0);
	cr_assert_eq(from.family, 4);
	cr_assert_eq(from.port, pa);
	cr_assert(addr_is_loopback(&from));
	cr_assert_eq(udp_recv(b, buf, sizeof buf, &from), 0);
	cr_assert_eq(udp_recv(b, buf, sizeof buf, &from), THR_EAGAIN);
	/* A datagram longer than the buffer is reported, not cut. */
	cr_assert_eq(udp_send(a, &to, "0123456789", 10), 10);
	sleep_ms(20);
	cr_assert_eq(udp_recv(b, buf, 4, &from), THR_ELIMIT);
	cr_assert_eq(udp_recv(b, buf, sizeof buf, &from), THR_EAGAIN);
	close(a);
	close(b);
}

/* --bind-address: datagrams leave from the bound address, and the same
 * port is free on another. */
Test(udp, bound_to_one_address)
{
	struct thr_addr la, lb, to, from;
	struct thr_error err;
	uint8_t buf[16];
	int a, b, c;

	cr_assert_eq(addr_parse_ip("127.0.0.2", &la), 0);
	cr_assert_eq(addr_parse_ip("127.0.0.3", &lb), 0);
	a = udp_open_on(&la, &err);
	cr_assert_geq(a, 0, "%s", err.msg);
	lb.port = (uint16_t)udp_local_port(a);
	b = udp_open_on(&lb, &err);
	cr_assert_geq(b, 0, "%s", err.msg);
	la.port = lb.port;
	c = udp_open_on(&la, &err);
	cr_assert_eq(c, THR_EIO, "the same address and port twice");
	to = lb;
	cr_assert_eq(udp_send(a, &to, "hi", 2), 2);
	sleep_ms(20);
	cr_assert_eq(udp_recv(b, buf, sizeof buf, &from), 2);
	cr_assert_eq(memcmp(from.ip, la.ip, 4), 0, "from %u.%u.%u.%u",
	    from.ip[0], from.ip[1], from.ip[2], from.ip[3]);
	cr_assert_eq(from.port, la.port);
	close(a);
	close(b);
}

Test(udp, errors)
{
	struct thr_addr to;
	struct thr_error err;
	int a, b, port;

	memset(&err, 0, sizeof err);
	cr_assert_eq(udp_open(5, 0, true, &err), THR_EINVAL);
	cr_assert_eq(err.code, THR_EINVAL);
	a = udp_open(4, 0, true, NULL);
	cr_assert_geq(a, 0);
	port = udp_local_port(a);
	/* The port is taken. */
	b = udp_open(4, (uint16_t)port, true, &err);
	cr_assert_eq(b, THR_EIO);
	cr_assert(strstr(err.msg, "bind") != NULL, "%s", err.msg);
	/* An IPv6 destination on an IPv4 socket. */
	cr_assert_eq(addr_parse("[::1]:1", &to), 0);
	cr_assert_eq(udp_send(a, &to, "x", 1), THR_EINVAL);
	to.family = 0;
	cr_assert_eq(udp_send(a, &to, "x", 1), THR_EINVAL);
	close(a);
}

Test(udp, ipv6_loopback)
{
	struct thr_addr to, from;
	uint8_t buf[64];
	int a;

	a = udp_open(6, 0, true, NULL);
	if (a < 0)
		cr_skip_test("no IPv6 loopback here");
	cr_assert_eq(addr_parse("[::1]:1", &to), 0);
	to.port = (uint16_t)udp_local_port(a);
	cr_assert_eq(udp_send(a, &to, "six", 3), 3);
	sleep_ms(20);
	cr_assert_eq(udp_recv(a, buf, sizeof buf, &from), 3);
	cr_assert_eq(from.family, 6);
	cr_assert(addr_equal(&from, &to));
	close(a);
}

static uint32_t
fixed_rnd(void *ctx)
{
	uint32_t *v = ctx;

	return *v += 0x01010101;
}

/* Receive one datagram, waiting up to a second for it. */
static ssize_t
recv_wait(int fd, uint8_t *buf, size_t cap, struct thr_addr *from)
{
	ssize_t n;
	int i;

	for (i = 0; i < 100; i++) {
		if ((n = udp_recv(fd, buf, cap, from)) != THR_EAGAIN)
			return n;
		sleep_ms(10);
	}
	return THR_EAGAIN;
}

/* The engine over real sockets, against a scripted tracker. */
Test(udp, tracker_exchange_over_loopback)
{
	struct udptracker u;
	struct tracker_announce a;
	struct tracker_response r;
	struct thr_addr from, self;
	struct resolve res;
	uint8_t pkt[UDPTRACKER_PKT_MAX], buf[UDP_DGRAM_MAX];
	uint32_t seed = 7;
	char url[64];
	size_t len;
	ssize_t n;
	int c, t;

	c = udp_open(4, 0, true, NULL);
	t = udp_open(4, 0, true, NULL);
	cr_assert_geq(c, 0);
	cr_assert_geq(t, 0);
	snprintf(url, sizeof url, "udp://127.0.0.1:%d/announce",
	    udp_local_port(t));
	cr_assert_eq(udptracker_init(&u, url, fixed_rnd, &seed), 0);
	resolve_init(&res);
	cr_assert_eq(resolve_start(&res, u.host, u.port, 0), 0);
	cr_assert_eq(resolve_poll(&res, NULL), 0);
	udptracker_set_addr(&u, &res.addrs[0]);
	resolve_release(&res);

	memset(&a, 0, sizeof a);
	memset(a.info_hash, 0x11, 20);
	memcpy(a.peer_id, "-TH0001-000000000000", 20);
	a.port = 7000;
	a.event = TRACKER_EVENT_STARTED;
	udptracker_start(&u, &a, 0);
	cr_assert(udptracker_output(&u, 0, pkt, sizeof pkt, &len));
	cr_assert_eq(udp_send(c, &u.addr, pkt, len), (ssize_t)len);
	n = recv_wait(t, buf, sizeof buf, &from);
	cr_assert_eq(n, 16);
	/* Connect answer: action 0, same transaction id, id 0x99. */
	memmove(buf + 4, buf + 12, 4);
	memset(buf, 0, 4);
	memset(buf + 8, 0, 7);
	buf[15] = 0x99;
	cr_assert_eq(udp_send(t, &from, buf, 16), 16);
	n = recv_wait(c, buf, sizeof buf, &self);
	cr_assert_eq(n, 16);
	cr_assert(addr_equal(&self, &u.addr));
	cr_assert_eq(udptracker_input(&u, buf, (size_t)n, 10, &r, NULL),
	    THR_EAGAIN);
	tracker_response_release(&r);
	cr_assert(udptracker_output(&u, 10, pkt, sizeof pkt, &len));
	cr_assert_eq(udp_send(c, &u.addr, pkt, len), (ssize_t)len);
	n = recv_wait(t, buf, sizeof buf, &from);
	cr_assert_eq(n, 98 + 2 + 9);
	cr_assert_eq(buf[7], 0x99);
	cr_assert(memcmp(buf + 100, "/announce", 9) == 0);
	/* Announce answer with one peer, 10.0.0.1:7001. */
	memmove(buf + 4, buf + 12, 4);
	memset(buf, 0, 4);
	buf[3] = 1;
	memset(buf + 8, 0, 12);
	buf[10] = 0x07;	/* interval 1800 = 0x708 */
	buf[11] = 0x08;
	buf[19] = 1;	/* one seeder */
	memcpy(buf + 20, "\x0a\x00\x00\x01\x1b\x59", 6);
	cr_assert_eq(udp_send(t, &from, buf, 26), 26);
	n = recv_wait(c, buf, sizeof buf, &self);
	cr_assert_eq(n, 26);
	cr_assert_eq(udptracker_input(&u, buf, (size_t)n, 20, &r, NULL), 0);
	cr_assert_eq(r.interval, 1800);
	cr_assert_eq(r.complete, 1);
	cr_assert_eq(r.npeers, 1);
	cr_assert_eq(r.peers[0].port, 7001);
	tracker_response_release(&r);
	close(c);
	close(t);
}
