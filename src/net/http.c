/*
 * http.c: libcurl's multi interface driven by our select() loop, in the
 * manner of curl docs/examples/multi-event.c.
 *
 * Data model: struct http owns one CURLM and a singly linked list of
 * requests, each with its easy handle, its capped body buffer and its
 * completion callback.  Callers name requests by id, never by pointer.
 * libcurl tells us which sockets to watch (http_socket_cb registers them
 * with the loop, with http_fd_cb as callback and the http as user data)
 * and when to wake it (http_timer_cb keeps at most one loop timer).
 * After every curl_multi_socket_action we drain curl_multi_info_read and
 * complete finished transfers.
 *
 * Reentrancy: a request is unlinked and its easy handle removed from the
 * multi before its callback runs, so the callback may start new requests
 * or cancel others (removing an easy handle also drops its queued "done"
 * message).  http_free from inside a callback is deferred until the
 * drain finishes.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/err.h"
#include "http.h"

/* Concurrent requests per http: trackers and web seeds need a handful. */
#define HTTP_MAX_REQUESTS	64

struct http_req {
	long		 id;
	CURL		*easy;
	struct buf	 body;
	http_done_cb	*cb;
	void		*ud;
	int		 write_err;	/* buf_append failure, 0 if none */
	char		 errbuf[CURL_ERROR_SIZE];
	struct http_req	*next;
};

struct http {
	struct loop	*loop;
	CURLM		*multi;
	long		 timer_id;	/* loop timer for curl, 0 if none */
	long		 next_id;
	struct http_req	*reqs;
	int		 nreqs;
	int		 draining;	/* inside http_drain */
	bool		 free_pending;	/* http_free called while draining */
	char		 local[80];	/* CURLOPT_INTERFACE, "" if none */
	long		 ipresolve;	/* CURLOPT_IPRESOLVE */
};

static void	http_drain(struct http *);
static void	http_destroy(struct http *);

static size_t
http_write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct http_req *r = userp;
	size_t n;
	int rc;

	if (nmemb != 0 && size > SIZE_MAX / nmemb) {
		r->write_err = THR_ELIMIT;
		return 0;
	}
	n = size * nmemb;
	if (n == 0)
		return 0;
	rc = buf_append(&r->body, ptr, n);
	if (rc != 0) {
		/* Returning less than n makes curl abort the transfer. */
		r->write_err = rc;
		return 0;
	}
	return n;
}

/* select() cannot watch fds at or above FD_SETSIZE: refuse them before
 * curl connects, so the transfer fails cleanly instead of hanging. */
static int
http_sockopt_cb(void *userp, curl_socket_t fd, curlsocktype purpose)
{
	if (fd < 0 || fd >= FD_SETSIZE)
		return CURL_SOCKOPT_ERROR;
	return CURL_SOCKOPT_OK;
}

static void
http_fd_cb(struct loop *l, int fd, int events, void *ud)
{
	struct http *h = ud;
	int flags = 0, running;

	if (events & LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	http_drain(h);
}

static void
http_on_timer(struct loop *l, long id, void *ud)
{
	struct http *h = ud;
	int running;

	/* The loop freed the slot before calling us. */
	if (h->timer_id == id)
		h->timer_id = 0;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_drain(h);
}

static int
http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct http *h = userp;
	int mask = 0;

	if (what == CURL_POLL_REMOVE) {
		loop_del_fd(h->loop, s);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		mask |= LOOP_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		mask |= LOOP_WRITE;
	if (socketp == NULL) {
		if (loop_add_fd(h->loop, s, mask, http_fd_cb, h) != 0)
			return -1;
		/* Any non-NULL marker: this socket is now registered. */
		curl_multi_assign(h->multi, s, h);
	} else
		loop_set_mask(h->loop, s, mask);
	return 0;
}

static int
http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;
	long id;

	if (h->timer_id != 0) {
		loop_del_timer(h->loop, h->timer_id);
		h->timer_id = 0;
	}
	if (timeout_ms < 0)
		return 0;
	/* A 0 ms timer fires on the loop's next pass, not from inside
	 * curl, which must not be re-entered from its own callback. */
	id = loop_add_timer(h->loop, (uint64_t)timeout_ms, http_on_timer, h);
	if (id < 0)
		return -1;
	h->timer_id = id;
	return 0;
}

struct http *
http_new(struct loop *l)
{
	struct http *h;

	if (l == NULL)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->loop = l;
	h->next_id = 1;
	h->multi = curl_multi_init();
	if (h->multi == NULL)
		goto free_h;
	if (curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION,
	    http_socket_cb) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION,
	    http_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK)
		goto cleanup_multi;
	return h;

cleanup_multi:
	curl_multi_cleanup(h->multi);
free_h:
	free(h);
	return NULL;
}

static void
http_req_free(struct http_req *r)
{
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	buf_release(&r->body);
	free(r);
}

/* Unlink r from the list and detach its easy handle from the multi. */
static void
http_unlink(struct http *h, struct http_req *r)
{
	struct http_req **pp;

	for (pp = &h->reqs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			h->nreqs--;
			break;
		}
	}
	r->next = NULL;
	curl_multi_remove_handle(h->multi, r->easy);
}

static void
http_destroy(struct http *h)
{
	struct http_req *r;
	int fd;

	while ((r = h->reqs) != NULL) {
		http_unlink(h, r);
		http_req_free(r);
	}
	curl_multi_cleanup(h->multi);
	if (h->timer_id != 0)
		loop_del_timer(h->loop, h->timer_id);
	/*
	 * curl may keep connections cached past the last transfer and need
	 * not report their removal on cleanup: drop whatever we registered.
	 */
	for (fd = h->loop->maxfd; fd >= 0; fd--) {
		if (h->loop->fds[fd].cb == http_fd_cb &&
		    h->loop->fds[fd].ud == h)
			loop_del_fd(h->loop, fd);
	}
	free(h);
}

void
http_free(struct http *h)
{
	struct http_req *r;

	if (h == NULL)
		return;
	if (h->draining) {
		/* Called from a completion callback: cancel now, free once
		 * the drain that called it has finished. */
		while ((r = h->reqs) != NULL) {
			http_unlink(h, r);
			http_req_free(r);
		}
		h->free_pending = true;
		return;
	}
	http_destroy(h);
}

int
http_set_local(struct http *h, const struct thr_addr *local)
{
	char ip[ADDR_STR_MAX];

	if (local == NULL || local->family == 0) {
		h->local[0] = '\0';
		return 0;
	}
	if (local->family != 4 && local->family != 6)
		return THR_EINVAL;
	addr_format_ip(local, ip, sizeof(ip));
	/* "host!": an address, never an interface name to look up. */
	snprintf(h->local, sizeof(h->local), "host!%s", ip);
	h->ipresolve = local->family == 6 ? CURL_IPRESOLVE_V6 :
	    CURL_IPRESOLVE_V4;
	return 0;
}

static int
http_setup(struct http *h, struct http_req *r, const char *url)
{
	CURL *e = r->easy;
	int rc = 0;

#define HTTP_SET(opt, val) \
	do { if (curl_easy_setopt(e, opt, val) != CURLE_OK) rc = -1; } while (0)
	HTTP_SET(CURLOPT_URL, url);
	HTTP_SET(CURLOPT_PRIVATE, r);
	HTTP_SET(CURLOPT_WRITEFUNCTION, http_write_cb);
	HTTP_SET(CURLOPT_WRITEDATA, r);
	HTTP_SET(CURLOPT_ERRORBUFFER, r->errbuf);
	HTTP_SET(CURLOPT_SOCKOPTFUNCTION, http_sockopt_cb);
	HTTP_SET(CURLOPT_FOLLOWLOCATION, 1L);
	HTTP_SET(CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
	HTTP_SET(CURLOPT_CONNECTTIMEOUT, (long)HTTP_CONNECT_TIMEOUT_S);
	HTTP_SET(CURLOPT_TIMEOUT, (long)HTTP_TOTAL_TIMEOUT_S);
	/* Signals would interrupt our loop; the loop does all waiting. */
	HTTP_SET(CURLOPT_NOSIGNAL, 1L);
	HTTP_SET(CURLOPT_USERAGENT, "thorrent/" PACKAGE_VERSION);
	if (h->local[0] != '\0') {
		HTTP_SET(CURLOPT_INTERFACE, h->local);
		HTTP_SET(CURLOPT_IPRESOLVE, h->ipresolve);
	}
	/* "" offers every encoding curl can decode; max_body caps the
	 * decoded bytes, so a compression bomb still hits the ceiling. */
	HTTP_SET(CURLOPT_ACCEPT_ENCODING, "");
	/* A tracker must not redirect us to file:// or anything else. */
#if LIBCURL_VERSION_NUM >= 0x075500
	HTTP_SET(CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	HTTP_SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	HTTP_SET(CURLOPT_REDIR_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#undef HTTP_SET
	return rc;
}

/* Start a GET, of a byte range when range is not NULL ("a-b"). */
static long
http_start(struct http *h, const char *url, const char *range,
    size_t max_body, http_done_cb *cb, void *ud)
{
	struct http_req *r;

	if (h == NULL || url == NULL || cb == NULL)
		return THR_EINVAL;
	if (h->free_pending)
		return THR_EINVAL;
	if (h->nreqs >= HTTP_MAX_REQUESTS)
		return THR_ELIMIT;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return THR_ENOMEM;
	buf_init(&r->body, max_body);
	r->cb = cb;
	r->ud = ud;
	r->easy = curl_easy_init();
	if (r->easy == NULL)
		goto free_r;
	if (http_setup(h, r, url) != 0)
		goto free_r;
	/* A range counts bytes of the encoded body: ask for none. */
	if (range != NULL &&
	    (curl_easy_setopt(r->easy, CURLOPT_RANGE, range) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING,
	    (char *)NULL) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT,
	    (long)HTTP_RANGE_TIMEOUT_S) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_LIMIT,
	    (long)HTTP_LOW_SPEED) != CURLE_OK ||
	    curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_TIME,
	    (long)HTTP_LOW_SPEED_S) != CURLE_OK))
		goto free_r;
	if (curl_multi_add_handle(h->multi, r->easy) != CURLM_OK)
		goto free_r;
	r->id = h->next_id++;
	r->next = h->reqs;
	h->reqs = r;
	h->nreqs++;
	return r->id;

free_r:
	http_req_free(r);
	return THR_ENOMEM;
}

long
http_get(struct http *h, const char *url, size_t max_body, http_done_cb *cb,
    void *ud)
{
	return http_start(h, url, NULL, max_body, cb, ud);
}

long
http_get_range(struct http *h, const char *url, uint64_t offset,
    uint64_t len, size_t max_body, http_done_cb *cb, void *ud)
{
	char range[48];

	if (len == 0 || offset > UINT64_MAX - len)
		return THR_EINVAL;
	snprintf(range, sizeof(range), "%llu-%llu",
	    (unsigned long long)offset,
	    (unsigned long long)(offset + len - 1));
	return http_start(h, url, range, max_body, cb, ud);
}

void
http_cancel(struct http *h, long id)
{
	struct http_req *r;

	if (h == NULL)
		return;
	for (r = h->reqs; r != NULL; r = r->next) {
		if (r->id == id) {
			http_unlink(h, r);
			http_req_free(r);
			return;
		}
	}
}

static struct http_req *
http_find_easy(struct http *h, CURL *easy)
{
	struct http_req *r;

	for (r = h->reqs; r != NULL; r = r->next) {
		if (r->easy == easy)
			return r;
	}
	return NULL;
}

/* Report one finished transfer and free it. */
static void
http_complete(struct http *h, struct http_req *r, CURLcode res)
{
	char msg[CURL_ERROR_SIZE + 32];
	const char *errmsg = "";
	long code = 0;
	int status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	http_unlink(h, r);
	if (r->write_err == THR_ELIMIT) {
		status = THR_ELIMIT;
		errmsg = "response too large";
	} else if (r->write_err != 0) {
		status = r->write_err;
		errmsg = "out of memory";
	} else if (res != CURLE_OK) {
		status = THR_EIO;
		/* The error buffer says more ("... port N: Connection
		 * refused") than the generic string; keep it one line. */
		if (r->errbuf[0] != '\0') {
			r->errbuf[strcspn(r->errbuf, "\r\n")] = '\0';
			errmsg = r->errbuf;
		} else
			errmsg = curl_easy_strerror(res);
	} else if (code < 200 || code > 299) {
		status = THR_EIO;
		snprintf(msg, sizeof(msg), "HTTP %ld", code);
		errmsg = msg;
	}
	if (status == 0)
		r->cb(r->ud, 0, code, r->body.data, r->body.len, errmsg);
	else
		r->cb(r->ud, status, code, NULL, 0, errmsg);
	http_req_free(r);
}

static void
http_drain(struct http *h)
{
	struct http_req *r;
	CURLMsg *m;
	int left;

	h->draining++;
	while (!h->free_pending &&
	    (m = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		r = http_find_easy(h, m->easy_handle);
		if (r == NULL)
			continue;
		http_complete(h, r, m->data.result);
	}
	h->draining--;
	if (h->draining == 0 && h->free_pending)
		http_destroy(h);
}
