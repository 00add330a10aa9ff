/*
 * test_loop.c: the select() loop (suite "loop") and the libcurl bridge
 * on top of it (suite "http").
 *
 * The http tests talk only to 127.0.0.1: each starts a forked child that
 * serves a few fixed responses on an ephemeral port, chosen by binding
 * port 0 before the fork so the server is listening before curl connects.
 */
#include "config.h"

#include <criterion/criterion.h>

#include <curl/curl.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "net/http.h"
#include "net/loop.h"

/* Upper bound on how long a test drives the loop waiting for a result. */
#define TEST_DEADLINE_MS	5000

/* ---- loop ---- */

struct rec {
	int	order[16];
	int	n;
	int	events[16];
};

static void
rec_timer(struct loop *l, long id, void *ud)
{
	struct rec *r = ud;

	if (r->n < 16)
		r->order[r->n++] = (int)id;
}

Test(loop, timers_fire_in_deadline_order)
{
	struct loop l;
	struct rec r = { .n = 0 };
	long a, b, c;
	uint64_t start;

	loop_init(&l);
	/* Before the timers: a millisecond may pass while adding them. */
	start = loop_now_ms();
	a = loop_add_timer(&l, 30, rec_timer, &r);
	b = loop_add_timer(&l, 10, rec_timer, &r);
	c = loop_add_timer(&l, 20, rec_timer, &r);
	cr_assert(a > 0 && b > 0 && c > 0);
	while (r.n < 3 && loop_now_ms() - start < TEST_DEADLINE_MS)
		cr_assert_eq(loop_run_once(&l, 100), 0);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.order[0], b);
	cr_assert_eq(r.order[1], c);
	cr_assert_eq(r.order[2], a);
	cr_assert_geq(loop_now_ms() - start, 30);
}

Test(loop, deleted_timer_does_not_fire)
{
	struct loop l;
	struct rec r = { .n = 0 };
	long a, b;

	loop_init(&l);
	a = loop_add_timer(&l, 0, rec_timer, &r);
	b = loop_add_timer(&l, 0, rec_timer, &r);
	loop_del_timer(&l, a);
	cr_assert_eq(loop_run_once(&l, 50), 0);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.order[0], b);
}

static void
readd_timer(struct loop *l, long id, void *ud)
{
	long *newid = ud;

	/* All other slots are busy: this only works if ours was freed. */
	*newid = loop_add_timer(l, 1000, readd_timer, ud);
}

static void
noop_timer(struct loop *l, long id, void *ud)
{
}

Test(loop, timer_slots_full_and_callback_can_add)
{
	struct loop l;
	long newid = 0, first;
	int i;

	loop_init(&l);
	first = loop_add_timer(&l, 0, readd_timer, &newid);
	cr_assert(first > 0);
	for (i = 1; i < LOOP_MAX_TIMERS; i++)
		cr_assert(loop_add_timer(&l, 100000, noop_timer, NULL) > 0);
	cr_assert_eq(loop_add_timer(&l, 1, noop_timer, NULL), THR_ELIMIT);
	cr_assert_eq(loop_run_once(&l, 50), 0);
	cr_assert(newid > first, "re-added timer id %ld", newid);
}

static int zero_ms_runs;

static void
zero_ms_rearm(struct loop *l, long id, void *ud)
{
	zero_ms_runs++;
	loop_add_timer(l, 0, zero_ms_rearm, ud);
}

Test(loop, zero_ms_timer_rearmed_runs_next_iteration)
{
	struct loop l;

	loop_init(&l);
	zero_ms_runs = 0;
	loop_add_timer(&l, 0, zero_ms_rearm, NULL);
	cr_assert_eq(loop_run_once(&l, 10), 0);
	cr_assert_eq(zero_ms_runs, 1);
	cr_assert_eq(loop_run_once(&l, 10), 0);
	cr_assert_eq(zero_ms_runs, 2);
}

struct fdrec {
	int	calls;
	int	events;
	int	fd;
	int	other;		/* fd to delete on first call, -1 if none */
};

static void
fd_cb(struct loop *l, int fd, int events, void *ud)
{
	struct fdrec *r = ud;
	char c;

	r->calls++;
	r->events = events;
	r->fd = fd;
	if (events & LOOP_READ)
		(void)read(fd, &c, 1);
	if (r->other >= 0) {
		loop_del_fd(l, r->other);
		r->other = -1;
	}
}

Test(loop, pipe_read_readiness)
{
	struct loop l;
	struct fdrec r = { .other = -1 };
	int p[2];

	cr_assert_eq(pipe(p), 0);
	loop_init(&l);
	cr_assert_eq(loop_add_fd(&l, p[0], LOOP_READ, fd_cb, &r), 0);
	cr_assert_eq(loop_run_once(&l, 10), 0);
	cr_assert_eq(r.calls, 0, "not readable yet");
	cr_assert_eq(write(p[1], "x", 1), 1);
	cr_assert_eq(loop_run_once(&l, 1000), 0);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.events, LOOP_READ);
	cr_assert_eq(r.fd, p[0]);
	close(p[0]);
	close(p[1]);
}

Test(loop, read_and_write_in_one_call)
{
	struct loop l;
	struct fdrec r = { .other = -1 };
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	cr_assert_eq(write(sv[1], "x", 1), 1);
	loop_init(&l);
	cr_assert_eq(loop_add_fd(&l, sv[0], LOOP_READ | LOOP_WRITE, fd_cb,
	    &r), 0);
	cr_assert_eq(loop_run_once(&l, 1000), 0);
	cr_assert_eq(r.calls, 1);
	cr_assert_eq(r.events, LOOP_READ | LOOP_WRITE);
	close(sv[0]);
	close(sv[1]);
}

Test(loop, callback_deleting_ready_fd_suppresses_it)
{
	struct loop l;
	struct fdrec r1 = { .other = -1 }, r2 = { .other = -1 };
	int a[2], b[2];

	cr_assert_eq(pipe(a), 0);
	cr_assert_eq(pipe(b), 0);
	loop_init(&l);
	/* Both become ready; the lower fd's callback runs first and
	 * unregisters the higher one. */
	cr_assert_eq(write(a[1], "x", 1), 1);
	cr_assert_eq(write(b[1], "x", 1), 1);
	cr_assert_lt(a[0], b[0]);
	r1.other = b[0];
	cr_assert_eq(loop_add_fd(&l, a[0], LOOP_READ, fd_cb, &r1), 0);
	cr_assert_eq(loop_add_fd(&l, b[0], LOOP_READ, fd_cb, &r2), 0);
	cr_assert_eq(loop_run_once(&l, 1000), 0);
	cr_assert_eq(r1.calls, 1);
	cr_assert_eq(r2.calls, 0);
	cr_assert_eq(l.maxfd, a[0], "maxfd follows the delete");
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

Test(loop, idle_mask_is_not_called)
{
	struct loop l;
	struct fdrec r = { .other = -1 };
	int p[2];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "x", 1), 1);
	loop_init(&l);
	cr_assert_eq(loop_add_fd(&l, p[0], LOOP_READ, fd_cb, &r), 0);
	loop_set_mask(&l, p[0], 0);
	cr_assert_eq(loop_run_once(&l, 10), 0);
	cr_assert_eq(r.calls, 0);
	cr_assert_eq(l.maxfd, p[0], "idle fd stays registered");
	loop_set_mask(&l, p[0], LOOP_READ);
	cr_assert_eq(loop_run_once(&l, 1000), 0);
	cr_assert_eq(r.calls, 1);
	close(p[0]);
	close(p[1]);
}

Test(loop, fd_out_of_range_refused)
{
	struct loop l;
	struct fdrec r = { .other = -1 };

	loop_init(&l);
	cr_assert_eq(loop_add_fd(&l, FD_SETSIZE, LOOP_READ, fd_cb, &r),
	    THR_ELIMIT);
	cr_assert_eq(loop_add_fd(&l, FD_SETSIZE + 100, LOOP_READ, fd_cb,
	    &r), THR_ELIMIT);
	cr_assert_eq(loop_add_fd(&l, -1, LOOP_READ, fd_cb, &r), THR_ELIMIT);
	cr_assert_eq(l.maxfd, -1);
	/* Out-of-range set/del are ignored, not crashes. */
	loop_set_mask(&l, FD_SETSIZE, LOOP_READ);
	loop_del_fd(&l, FD_SETSIZE);
	loop_del_fd(&l, -5);
}

Test(loop, maxfd_tracks_add_and_del)
{
	struct loop l;
	struct fdrec r = { .other = -1 };

	loop_init(&l);
	cr_assert_eq(l.maxfd, -1);
	cr_assert_eq(loop_add_fd(&l, 3, LOOP_READ, fd_cb, &r), 0);
	cr_assert_eq(loop_add_fd(&l, 9, LOOP_READ, fd_cb, &r), 0);
	cr_assert_eq(loop_add_fd(&l, 5, LOOP_READ, fd_cb, &r), 0);
	cr_assert_eq(l.maxfd, 9);
	loop_del_fd(&l, 9);
	cr_assert_eq(l.maxfd, 5);
	loop_del_fd(&l, 3);
	cr_assert_eq(l.maxfd, 5);
	loop_del_fd(&l, 5);
	cr_assert_eq(l.maxfd, -1);
}

struct hookrec {
	int	runs;
	int	wfd;
};

static void
hook(struct loop *l, void *ud)
{
	struct hookrec *h = ud;

	h->runs++;
	/* Writing here proves the hook runs before select(): the same
	 * iteration must then see the pipe readable. */
	if (h->runs == 1)
		cr_assert_eq(write(h->wfd, "x", 1), 1);
}

Test(loop, before_sleep_runs_before_select)
{
	struct loop l;
	struct fdrec r = { .other = -1 };
	struct hookrec h = { 0 };
	int p[2];
	uint64_t start;

	cr_assert_eq(pipe(p), 0);
	h.wfd = p[1];
	loop_init(&l);
	loop_set_before_sleep(&l, hook, &h);
	cr_assert_eq(loop_add_fd(&l, p[0], LOOP_READ, fd_cb, &r), 0);
	start = loop_now_ms();
	cr_assert_eq(loop_run_once(&l, 2000), 0);
	cr_assert_eq(h.runs, 1);
	cr_assert_eq(r.calls, 1);
	cr_assert_lt(loop_now_ms() - start, 1000, "did not sleep");
	cr_assert_eq(loop_run_once(&l, 0), 0);
	cr_assert_eq(h.runs, 2);
	close(p[0]);
	close(p[1]);
}

static void
stop_timer(struct loop *l, long id, void *ud)
{
	loop_stop(l);
}

Test(loop, run_until_stop_and_max_wait)
{
	struct loop l;
	uint64_t start;

	loop_init(&l);
	start = loop_now_ms();
	cr_assert_eq(loop_run_once(&l, 30), 0);
	cr_assert_geq(loop_now_ms() - start, 25);
	loop_add_timer(&l, 20, stop_timer, NULL);
	cr_assert_eq(loop_run(&l), 0);
	cr_assert(l.stop);
}

static void
on_alarm(int sig)
{
}

Test(loop, eintr_returns_zero_and_bad_fd_is_eio)
{
	struct loop l;
	struct fdrec r = { .other = -1 };
	struct sigaction sa;
	struct itimerval it;
	uint64_t start;
	int p[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: select sees EINTR */
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 20000;
	cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	loop_init(&l);
	start = loop_now_ms();
	cr_assert_eq(loop_run_once(&l, 3000), 0);
	cr_assert_lt(loop_now_ms() - start, 2000);

	/* A closed fd makes select() fail with EBADF. */
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(loop_add_fd(&l, p[0], LOOP_READ, fd_cb, &r), 0);
	close(p[0]);
	close(p[1]);
	cr_assert_eq(loop_run_once(&l, 10), THR_EIO);
}

/* ---- http ---- */

struct server {
	pid_t	pid;
	int	port;
};

static const char big_body[] =
    "0123456789012345678901234567890123456789"
    "0123456789012345678901234567890123456789";

static void
serve_one(int c)
{
	char req[2048], hdr[256];
	const char *body = NULL;
	size_t len = 0, blen;
	ssize_t n;

	while (len < sizeof(req) - 1) {
		n = read(c, req + len, sizeof(req) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if (strncmp(req, "GET /ok ", 8) == 0) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\n");
		body = "hello world";
	} else if (strncmp(req, "GET /big ", 9) == 0) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\n");
		body = big_body;
	} else if (strncmp(req, "GET /redirect ", 14) == 0) {
		snprintf(hdr, sizeof(hdr),
		    "HTTP/1.0 302 Found\r\nLocation: /ok\r\n");
		body = "";
	} else if (strncmp(req, "GET /loop ", 10) == 0) {
		snprintf(hdr, sizeof(hdr),
		    "HTTP/1.0 302 Found\r\nLocation: /loop\r\n");
		body = "";
	} else if (strncmp(req, "GET /agent ", 11) == 0) {
		snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\n");
		body = strstr(req, "User-Agent: thorrent/") != NULL ?
		    "yes" : "no";
	} else if (strncmp(req, "GET /from ", 10) == 0) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		static char from[INET_ADDRSTRLEN];

		snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\n");
		body = getpeername(c, (struct sockaddr *)&sin, &sl) == 0 &&
		    inet_ntop(AF_INET, &sin.sin_addr, from,
		    sizeof(from)) != NULL ? from : "?";
	} else if (strncmp(req, "GET /hang ", 10) == 0) {
		/* Never answer; leave as soon as the client hangs up. */
		while (read(c, req, sizeof(req)) > 0)
			;
		return;
	} else {
		snprintf(hdr, sizeof(hdr), "HTTP/1.0 404 Not Found\r\n");
		body = "nope";
	}
	blen = strlen(body);
	n = (ssize_t)strlen(hdr);
	snprintf(hdr + n, sizeof(hdr) - (size_t)n,
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
	(void)!write(c, hdr, strlen(hdr));
	(void)!write(c, body, blen);
}

static int
listen_local(int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int s;

	s = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(s, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	cr_assert_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return s;
}

static struct server
server_start(void)
{
	struct server sv;
	int s, c;

	s = listen_local(&sv.port);
	cr_assert_eq(listen(s, 16), 0);
	sv.pid = fork();
	cr_assert_geq(sv.pid, 0);
	if (sv.pid == 0) {
		/* Serve one connection at a time until killed; the
		 * /hang handler blocks only that connection's test. */
		for (;;) {
			c = accept(s, NULL, NULL);
			if (c < 0) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			if (fork() == 0) {
				/* Outlive a killed parent by seconds at most. */
				alarm(10);
				serve_one(c);
				_exit(0);
			}
			close(c);
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
	}
	close(s);
	return sv;
}

static void
server_stop(struct server *sv)
{
	kill(sv->pid, SIGKILL);
	waitpid(sv->pid, NULL, 0);
}

struct result {
	int	done;
	int	status;
	long	code;
	char	body[256];
	size_t	len;
	char	err[256];
};

static void
on_done(void *ud, int status, long code, const uint8_t *body, size_t len,
    const char *errmsg)
{
	struct result *r = ud;

	r->done++;
	r->status = status;
	r->code = code;
	r->len = len;
	cr_assert_not_null(errmsg);
	snprintf(r->err, sizeof(r->err), "%s", errmsg);
	if (status == 0) {
		cr_assert(len == 0 || body != NULL);
		if (len < sizeof(r->body)) {
			memcpy(r->body, body, len);
			r->body[len] = '\0';
		}
	}
}

/* Drive the loop until *done reaches want or the deadline passes. */
static void
run_until(struct loop *l, const int *done, int want, uint64_t ms)
{
	uint64_t start = loop_now_ms();

	while (*done < want && loop_now_ms() - start < ms)
		cr_assert_eq(loop_run_once(l, 50), 0);
}

static void
http_setup_env(void)
{
	/* Only loopback traffic: never route through a configured proxy. */
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
}

static void
http_teardown_env(void)
{
	curl_global_cleanup();
}

static char *
url_for(const struct server *sv, const char *path)
{
	static char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", sv->port, path);
	return url;
}

Test(http, get_200_returns_body, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct loop l;
	struct http *h;
	struct result r = { 0 };
	long id;

	loop_init(&l);
	h = http_new(&l);
	cr_assert_not_null(h);
	id = http_get(h, url_for(&sv, "/ok"), 1024, on_done, &r);
	cr_assert_gt(id, 0);
	run_until(&l, &r.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(r.done, 1);
	cr_assert_eq(r.status, 0, "err: %s", r.err);
	cr_assert_eq(r.code, 200);
	cr_assert_eq(r.len, 11);
	cr_assert_str_eq(r.body, "hello world");
	/* Exactly once: nothing more arrives. */
	run_until(&l, &r.done, 2, 100);
	cr_assert_eq(r.done, 1);
	http_free(h);
	server_stop(&sv);
}

Test(http, set_local_sends_from_that_address, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct thr_addr a;
	struct loop l;
	struct http *h;
	struct result r = { 0 };

	loop_init(&l);
	h = http_new(&l);
	cr_assert_not_null(h);
	a.family = 5;
	cr_assert_eq(http_set_local(h, &a), THR_EINVAL);
	cr_assert_eq(addr_parse_ip("127.0.0.2", &a), 0);
	cr_assert_eq(http_set_local(h, &a), 0);
	cr_assert_gt(http_get(h, url_for(&sv, "/from"), 1024, on_done, &r), 0);
	run_until(&l, &r.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(r.status, 0, "err: %s", r.err);
	cr_assert_str_eq(r.body, "127.0.0.2");
	/* Undone: the default source again. */
	cr_assert_eq(http_set_local(h, NULL), 0);
	cr_assert_gt(http_get(h, url_for(&sv, "/from"), 1024, on_done, &r), 0);
	run_until(&l, &r.done, 2, TEST_DEADLINE_MS);
	cr_assert_eq(r.status, 0, "err: %s", r.err);
	cr_assert_str_eq(r.body, "127.0.0.1");
	http_free(h);
	server_stop(&sv);
}

Test(http, get_404_is_error, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct loop l;
	struct http *h;
	struct result r = { 0 };

	loop_init(&l);
	h = http_new(&l);
	cr_assert_gt(http_get(h, url_for(&sv, "/missing"), 1024, on_done,
	    &r), 0);
	run_until(&l, &r.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(r.done, 1);
	cr_assert_lt(r.status, 0);
	cr_assert_eq(r.code, 404);
	cr_assert_str_eq(r.err, "HTTP 404");
	http_free(h);
	server_stop(&sv);
}

Test(http, body_over_cap_is_too_large, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct loop l;
	struct http *h;
	struct result r = { 0 }, exact = { 0 };

	loop_init(&l);
	h = http_new(&l);
	cr_assert_gt(http_get(h, url_for(&sv, "/big"), 50, on_done, &r), 0);
	/* Exactly at the cap still fits. */
	cr_assert_gt(http_get(h, url_for(&sv, "/big"), sizeof(big_body) - 1,
	    on_done, &exact), 0);
	run_until(&l, &r.done, 1, TEST_DEADLINE_MS);
	run_until(&l, &exact.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(r.done, 1);
	cr_assert_lt(r.status, 0);
	cr_assert(strstr(r.err, "too large") != NULL, "err: %s", r.err);
	cr_assert_eq(exact.done, 1);
	cr_assert_eq(exact.status, 0, "err: %s", exact.err);
	cr_assert_eq(exact.len, sizeof(big_body) - 1);
	http_free(h);
	server_stop(&sv);
}

Test(http, connection_refused_is_error, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv;
	struct loop l;
	struct http *h;
	struct result r = { 0 };
	int s;

	/* A port that was just free and has no listener. */
	s = listen_local(&sv.port);
	close(s);
	loop_init(&l);
	h = http_new(&l);
	cr_assert_gt(http_get(h, url_for(&sv, "/ok"), 1024, on_done, &r), 0);
	run_until(&l, &r.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(r.done, 1);
	cr_assert_eq(r.status, THR_EIO);
	cr_assert_eq(r.code, 0);
	cr_assert_neq(r.err[0], '\0');
	cr_assert_null(strchr(r.err, '\n'));
	http_free(h);
}

Test(http, cancel_means_no_callback, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct loop l;
	struct http *h;
	struct result r = { 0 }, other = { 0 };
	long id;
	int fd;

	loop_init(&l);
	h = http_new(&l);
	id = http_get(h, url_for(&sv, "/hang"), 1024, on_done, &r);
	cr_assert_gt(id, 0);
	/* Let it connect and send, then cancel mid-transfer. */
	run_until(&l, &r.done, 1, 200);
	http_cancel(h, id);
	http_cancel(h, id);		/* twice is harmless */
	http_cancel(h, 12345);		/* unknown ids are ignored */
	cr_assert_gt(http_get(h, url_for(&sv, "/ok"), 1024, on_done,
	    &other), 0);
	run_until(&l, &other.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(other.done, 1);
	cr_assert_eq(other.status, 0);
	cr_assert_eq(r.done, 0);
	http_free(h);
	/* http_free leaves nothing of ours in the loop. */
	for (fd = 0; fd <= l.maxfd; fd++)
		cr_assert_null(l.fds[fd].cb, "fd %d left registered", fd);
	server_stop(&sv);
}

Test(http, free_with_pending_is_silent, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct loop l;
	struct http *h;
	struct result r = { 0 };
	int i;

	loop_init(&l);
	h = http_new(&l);
	cr_assert_gt(http_get(h, url_for(&sv, "/hang"), 1024, on_done, &r), 0);
	cr_assert_gt(http_get(h, url_for(&sv, "/ok"), 1024, on_done, &r), 0);
	run_until(&l, &r.done, 1, 20);
	http_free(h);
	for (i = 0; i < 5; i++)
		cr_assert_eq(loop_run_once(&l, 10), 0);
	cr_assert_eq(l.maxfd, -1);
	for (i = 0; i < LOOP_MAX_TIMERS; i++)
		cr_assert_eq(l.timers[i].id, 0);
	cr_assert_leq(r.done, 1);
	server_stop(&sv);
}

Test(http, follows_redirects_within_limit, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct loop l;
	struct http *h;
	struct result ok = { 0 }, loop = { 0 };

	loop_init(&l);
	h = http_new(&l);
	cr_assert_gt(http_get(h, url_for(&sv, "/redirect"), 1024, on_done,
	    &ok), 0);
	cr_assert_gt(http_get(h, url_for(&sv, "/loop"), 1024, on_done,
	    &loop), 0);
	run_until(&l, &ok.done, 1, TEST_DEADLINE_MS);
	run_until(&l, &loop.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(ok.status, 0, "err: %s", ok.err);
	cr_assert_str_eq(ok.body, "hello world");
	cr_assert_eq(loop.done, 1);
	cr_assert_lt(loop.status, 0);
	http_free(h);
	server_stop(&sv);
}

Test(http, sends_user_agent, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct loop l;
	struct http *h;
	struct result r = { 0 };

	loop_init(&l);
	h = http_new(&l);
	cr_assert_gt(http_get(h, url_for(&sv, "/agent"), 1024, on_done, &r),
	    0);
	run_until(&l, &r.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(r.status, 0, "err: %s", r.err);
	cr_assert_str_eq(r.body, "yes");
	http_free(h);
	server_stop(&sv);
}

Test(http, non_http_scheme_refused, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct loop l;
	struct http *h;
	struct result r = { 0 };

	loop_init(&l);
	h = http_new(&l);
	cr_assert_gt(http_get(h, "file:///etc/passwd", 1024, on_done, &r), 0);
	run_until(&l, &r.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(r.done, 1);
	cr_assert_lt(r.status, 0);
	cr_assert_eq(http_get(h, NULL, 1024, on_done, &r), THR_EINVAL);
	cr_assert_eq(http_get(h, "http://127.0.0.1/", 1024, NULL, &r),
	    THR_EINVAL);
	http_free(h);
}

/* Reentrancy: the first completion starts a new request and cancels a
 * third, all from inside the callback. */
struct chain {
	struct http	*h;
	struct server	*sv;
	struct result	 first, second, victim;
	long		 victim_id;
};

static void
chain_done(void *ud, int status, long code, const uint8_t *body, size_t len,
    const char *errmsg)
{
	struct chain *c = ud;

	on_done(&c->first, status, code, body, len, errmsg);
	http_cancel(c->h, c->victim_id);
	cr_assert_gt(http_get(c->h, url_for(c->sv, "/ok"), 1024, on_done,
	    &c->second), 0);
}

Test(http, callback_may_get_and_cancel, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct loop l;
	struct chain c;

	memset(&c, 0, sizeof(c));
	loop_init(&l);
	c.h = http_new(&l);
	c.sv = &sv;
	cr_assert_gt(http_get(c.h, url_for(&sv, "/ok"), 1024, chain_done, &c),
	    0);
	c.victim_id = http_get(c.h, url_for(&sv, "/hang"), 1024, on_done,
	    &c.victim);
	cr_assert_gt(c.victim_id, 0);
	run_until(&l, &c.second.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(c.first.done, 1);
	cr_assert_eq(c.second.done, 1);
	cr_assert_eq(c.second.status, 0);
	cr_assert_eq(c.victim.done, 0);
	http_free(c.h);
	server_stop(&sv);
}

static void
free_in_cb(void *ud, int status, long code, const uint8_t *body, size_t len,
    const char *errmsg)
{
	struct chain *c = ud;

	on_done(&c->first, status, code, body, len, errmsg);
	http_free(c->h);
	c->h = NULL;
}

Test(http, free_from_callback, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct server sv = server_start();
	struct loop l;
	struct chain c;
	int i;

	memset(&c, 0, sizeof(c));
	loop_init(&l);
	c.h = http_new(&l);
	cr_assert_gt(http_get(c.h, url_for(&sv, "/ok"), 1024, free_in_cb, &c),
	    0);
	cr_assert_gt(http_get(c.h, url_for(&sv, "/hang"), 1024, on_done,
	    &c.victim), 0);
	run_until(&l, &c.first.done, 1, TEST_DEADLINE_MS);
	cr_assert_eq(c.first.done, 1);
	cr_assert_null(c.h);
	for (i = 0; i < 3; i++)
		cr_assert_eq(loop_run_once(&l, 10), 0);
	cr_assert_eq(c.victim.done, 0);
	cr_assert_eq(l.maxfd, -1);
	server_stop(&sv);
}

Test(http, request_table_is_capped, .init = http_setup_env,
    .fini = http_teardown_env)
{
	struct loop l;
	struct http *h;
	struct result r = { 0 };
	long id, last = 0;
	int i, n = 0;

	cr_assert_null(http_new(NULL));
	loop_init(&l);
	h = http_new(&l);
	/* Nothing is sent until the loop runs, so no server is needed. */
	for (i = 0; i < 1000; i++) {
		id = http_get(h, "http://127.0.0.1:9/", 16, on_done, &r);
		if (id < 0)
			break;
		cr_assert_gt(id, last, "ids increase");
		last = id;
		n++;
	}
	cr_assert_eq(id, THR_ELIMIT);
	cr_assert_gt(n, 0);
	cr_assert_lt(n, 1000);
	http_free(h);
	cr_assert_eq(r.done, 0);
}
