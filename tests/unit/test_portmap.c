/*
 * test_portmap.c: what can be checked without a gateway: the grammar of
 * the UPnP child's result lines (bounded, hostile bytes refused), the
 * renewal timing, and that stopping is immediate or bounded when no
 * gateway has answered.  The mapping itself is tested against miniupnpd
 * in network namespaces by tests/interop/upnp_natpmp.sh.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "net/loop.h"
#include "net/portmap.h"

static int
parse(const char *s, struct portmap_result *r)
{
	struct thr_error err;

	return portmap_parse_line(s, strlen(s), r, &err);
}

Test(portmap, parse_ok)
{
	struct portmap_result r;

	cr_assert_eq(parse("ok 1.2.3.4 6881 6882", &r), 0);
	cr_assert_eq(r.kind, PORTMAP_R_OK);
	cr_assert_str_eq(r.addr, "1.2.3.4");
	cr_assert_eq(r.tcp, 6881);
	cr_assert_eq(r.udp, 6882);

	cr_assert_eq(parse("ok - 0 65535", &r), 0);
	cr_assert_str_eq(r.addr, "");
	cr_assert_eq(r.tcp, 0);
	cr_assert_eq(r.udp, 65535);
}

Test(portmap, parse_none_fail_gone)
{
	struct portmap_result r;

	cr_assert_eq(parse("none no UPnP device answered", &r), 0);
	cr_assert_eq(r.kind, PORTMAP_R_NONE);
	cr_assert_str_eq(r.text, "no UPnP device answered");
	cr_assert_eq(parse("none", &r), 0);
	cr_assert_str_eq(r.text, "");
	cr_assert_eq(parse("fail 718 Conflict\x01\xff", &r), 0);
	cr_assert_eq(r.kind, PORTMAP_R_FAIL);
	cr_assert_str_eq(r.text, "718 Conflict??");
	cr_assert_eq(parse("gone", &r), 0);
	cr_assert_eq(r.kind, PORTMAP_R_GONE);
}

Test(portmap, parse_rejects)
{
	static const char *const bad[] = {
		"", "ok", "ok 1.2.3.4", "ok 1.2.3.4 1", "ok 1.2.3.4 1 ",
		"ok 1.2.3.4 1 2 ", "ok 1.2.3.4 1 2 3", "ok 1.2.3.4 65536 1",
		"ok 1.2.3.4 +1 1", "ok 1.2.3.4 -1 1", "ok 1.2.3.4 123456 1",
		"ok 999.1.1.1 1 1", "ok ::1 1 1", "ok  1 1", "ok 1.2.3.4  1",
		"gone ", "gone x", "GONE", "okay 1.2.3.4 1 1", "nonesuch",
		"ok 1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20 1 1",
	};
	struct portmap_result r;
	struct thr_error err;
	size_t i;
	char big[PORTMAP_LINE_MAX + 8];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i], &r), THR_EINVAL, "accepted \"%s\"",
		    bad[i]);
	/* Not NUL-terminated: the length is what counts. */
	cr_assert_eq(portmap_parse_line("gonexxxx", 4, &r, &err), 0);
	cr_assert_eq(r.kind, PORTMAP_R_GONE);
	cr_assert_eq(portmap_parse_line("ok 1.2.3.4 1 29", 14, &r, &err), 0);
	cr_assert_eq(r.udp, 2);
	/* Too long, even if well formed. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "none ", 5);
	cr_assert_eq(portmap_parse_line(big, PORTMAP_LINE_MAX, &r, &err),
	    THR_EINVAL);
	cr_assert_eq(portmap_parse_line(big, PORTMAP_LINE_MAX - 1, &r, &err),
	    0);
	cr_assert_lt(strlen(r.text), PORTMAP_TEXT_MAX);
	/* err may be NULL. */
	cr_assert_eq(portmap_parse_line("ok", 2, &r, NULL), THR_EINVAL);
}

Test(portmap, renew_at_half_lease)
{
	cr_assert_eq(portmap_renew_at(1000, 3600), 1000 + 1800 * 1000);
	cr_assert_eq(portmap_renew_at(0, 7200), 3600 * 1000);
	/* A tiny or zero lease does not make us hammer the gateway. */
	cr_assert_eq(portmap_renew_at(5, 10), 5 + PORTMAP_MIN_RENEW_S * 1000);
	cr_assert_eq(portmap_renew_at(5, 0), 5 + PORTMAP_MIN_RENEW_S * 1000);
	cr_assert_eq(portmap_renew_at(0, UINT32_MAX),
	    (uint64_t)(UINT32_MAX / 2) * 1000);
}

Test(portmap, both_off_is_done_at_once)
{
	static struct loop l;
	struct portmap *pm;
	const struct portmap_status *st;

	loop_init(&l);
	pm = portmap_new(&l, 6881, 6881, false, false, NULL);
	cr_assert_not_null(pm);
	cr_assert(!portmap_done(pm));
	st = portmap_status(pm, PORTMAP_UPNP);
	cr_assert(!st->enabled);
	cr_assert(!st->mapped);
	cr_assert_str_eq(st->text, "UPnP: off");
	cr_assert_str_eq(portmap_status(pm, PORTMAP_NATPMP)->text,
	    "NAT-PMP: off");
	portmap_pump(pm, loop_now_ms());
	portmap_stop(pm, loop_now_ms());
	cr_assert(portmap_done(pm));
	portmap_stop(pm, loop_now_ms());
	cr_assert(portmap_done(pm));
	portmap_free(pm);
	portmap_free(NULL);
}

/* Stopped before any gateway answered: nothing to remove, done now. */
Test(portmap, natpmp_stop_before_answer_is_immediate)
{
	static struct loop l;
	struct log lg;
	struct portmap *pm;
	uint64_t now;

	memset(&lg, 0, sizeof(lg));
	lg.level = LOG_DEBUG;
	loop_init(&l);
	pm = portmap_new(&l, 6881, 6882, false, true, &lg);
	cr_assert_not_null(pm);
	cr_assert(portmap_status(pm, PORTMAP_NATPMP)->enabled);
	now = loop_now_ms();
	portmap_pump(pm, now);
	portmap_stop(pm, now);
	portmap_pump(pm, now);
	cr_assert(portmap_done(pm));
	cr_assert(!portmap_status(pm, PORTMAP_NATPMP)->mapped);
	portmap_free(pm);
}

/* The UPnP child is still discovering: the stop is bounded by
 * PORTMAP_STOP_MS and the loop never waits on the child. */
Test(portmap, upnp_stop_is_bounded, .timeout = 10)
{
	static struct loop l;
	struct log lg;
	struct portmap *pm;
	uint64_t t0, now;

	memset(&lg, 0, sizeof(lg));
	lg.level = LOG_DEBUG;
	loop_init(&l);
	pm = portmap_new(&l, 6881, 6881, true, false, &lg);
	cr_assert_not_null(pm);
	t0 = loop_now_ms();
	portmap_stop(pm, t0);
	do {
		cr_assert_eq(loop_run_once(&l, 50), 0);
		now = loop_now_ms();
		portmap_pump(pm, now);
		/* Each pass returns at once: no pass may take long. */
	} while (!portmap_done(pm) && now - t0 < PORTMAP_STOP_MS + 1000);
	cr_assert(portmap_done(pm), "not done after %llu ms",
	    (unsigned long long)(now - t0));
	cr_assert_leq(now - t0, PORTMAP_STOP_MS + 200);
	cr_assert(!portmap_status(pm, PORTMAP_UPNP)->mapped);
	portmap_free(pm);
}

/*
 * NAT-PMP against a fake gateway on a simulated clock.  The test makes
 * its own network namespace (Criterion runs each test in its own
 * process) holding a veth pair, so that the default gateway 10.9.0.2
 * is an address of this process; it needs root and is skipped without.
 */
#define FAKE_GW		"10.9.0.2"
#define FAKE_EXT	"5.6.7.8"
#define FAKE_LIFE	600u

struct fake_gw {
	int	fd;
	int	addr_req, map_req[3], del_req[3];	/* by opcode */
};

static void
fake_gw_serve(struct fake_gw *g)
{
	uint8_t q[64], a[16];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n;
	uint32_t life;
	uint16_t priv, pub;

	while ((n = recvfrom(g->fd, q, sizeof(q), 0,
	    (struct sockaddr *)&from, &fl)) > 0) {
		memset(a, 0, sizeof(a));
		a[1] = (uint8_t)(128 + q[1]);
		a[7] = 42;	/* epoch */
		if (q[1] == 0 && n >= 2) {
			g->addr_req++;
			inet_pton(AF_INET, FAKE_EXT, a + 8);
			sendto(g->fd, a, 12, 0, (struct sockaddr *)&from, fl);
			continue;
		}
		if ((q[1] != 1 && q[1] != 2) || n < 12)
			continue;
		priv = (uint16_t)(q[4] << 8 | q[5]);
		life = (uint32_t)q[8] << 24 | (uint32_t)q[9] << 16 |
		    (uint32_t)q[10] << 8 | q[11];
		if (life == 0) {
			g->del_req[q[1]]++;
			pub = 0;
		} else {
			g->map_req[q[1]]++;
			life = FAKE_LIFE;
			pub = (uint16_t)(priv + 1000);
		}
		a[8] = (uint8_t)(priv >> 8);
		a[9] = (uint8_t)priv;
		a[10] = (uint8_t)(pub >> 8);
		a[11] = (uint8_t)pub;
		a[12] = (uint8_t)(life >> 24);
		a[13] = (uint8_t)(life >> 16);
		a[14] = (uint8_t)(life >> 8);
		a[15] = (uint8_t)life;
		sendto(g->fd, a, 16, 0, (struct sockaddr *)&from, fl);
	}
}

/* Run the loop for real until cond or 3 s. */
#define DRIVE(l, g, pm, cond) do {					\
	uint64_t t_ = loop_now_ms();					\
	while (!(cond) && loop_now_ms() - t_ < 3000) {			\
		loop_run_once((l), 20);					\
		fake_gw_serve(g);					\
		portmap_pump((pm), loop_now_ms());			\
	}								\
} while (0)

Test(portmap, natpmp_fake_gateway_maps_renews_removes, .timeout = 20)
{
	static struct loop l;
	struct log lg;
	struct fake_gw g;
	struct sockaddr_in sa;
	struct portmap *pm;
	const struct portmap_status *st;
	uint64_t t;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		cr_skip_test("needs root for a private network namespace");
	if (system("ip link set lo up && "
	    "ip link add v0 type veth peer name v1 && "
	    "ip addr add 10.9.0.1/24 dev v0 && "
	    "ip addr add " FAKE_GW "/24 dev v1 && "
	    "ip link set v0 up && ip link set v1 up && "
	    "ip route add default via " FAKE_GW " dev v0") != 0)
		cr_skip_test("cannot set up the veth pair with ip(8)");
	memset(&g, 0, sizeof(g));
	g.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(g.fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(5351);	/* RFC 6886 */
	inet_pton(AF_INET, FAKE_GW, &sa.sin_addr);
	cr_assert_eq(bind(g.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

	memset(&lg, 0, sizeof(lg));
	lg.level = LOG_DEBUG;
	loop_init(&l);
	pm = portmap_new(&l, 7000, 7001, false, true, &lg);
	cr_assert_not_null(pm);
	st = portmap_status(pm, PORTMAP_NATPMP);
	DRIVE(&l, &g, pm, st->mapped && g.map_req[1] == 1);
	cr_assert(st->mapped, "%s", st->text);
	cr_assert_str_eq(st->addr, FAKE_EXT);
	cr_assert_eq(st->tcp, 8000);
	cr_assert_eq(st->udp, 8001);
	cr_assert_str_eq(st->text, "NAT-PMP: mapped " FAKE_EXT ":8000 "
	    "(UDP 8001)");
	cr_assert_eq(g.addr_req, 1);
	cr_assert_eq(g.map_req[2], 1);
	cr_assert_eq(g.map_req[1], 1);

	/* The gateway granted FAKE_LIFE s, not our hour: renew at half. */
	t = loop_now_ms();
	portmap_pump(pm, t + (FAKE_LIFE / 2 - 5) * 1000);
	fake_gw_serve(&g);
	cr_assert_eq(g.map_req[2], 1, "renewed too early");
	portmap_pump(pm, t + (FAKE_LIFE / 2 + 5) * 1000);
	DRIVE(&l, &g, pm, g.map_req[2] == 2 && g.map_req[1] == 2);
	cr_assert_eq(g.map_req[2], 2);
	cr_assert_eq(g.map_req[1], 2);
	cr_assert(st->mapped);

	portmap_stop(pm, loop_now_ms());
	DRIVE(&l, &g, pm, portmap_done(pm));
	cr_assert(portmap_done(pm));
	cr_assert_eq(g.del_req[2], 1);
	cr_assert_eq(g.del_req[1], 1);
	cr_assert(!st->mapped);
	cr_assert_str_eq(st->text, "NAT-PMP: mappings removed");
	portmap_free(pm);
	close(g.fd);
}
