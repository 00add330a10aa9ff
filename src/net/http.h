/*
 * http.h: HTTP(S) GETs through libcurl's multi interface, driven by the
 * loop: libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION)
 * and when to wake it (CURLMOPT_TIMERFUNCTION), and we never call a
 * blocking curl function.  Each body is capped; a larger one aborts the
 * transfer with an error.
 *
 * libcurl's global state is the program's to set up: main must call
 * curl_global_init(CURL_GLOBAL_DEFAULT) once before the first http_new
 * (and curl_global_cleanup at exit); http_new does not, since that state
 * is process-wide and not thread-safe to initialise lazily.
 */
#ifndef THR_HTTP_H
#define THR_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "loop.h"

#define HTTP_MAX_REDIRECTS	5
#define HTTP_CONNECT_TIMEOUT_S	15
#define HTTP_TOTAL_TIMEOUT_S	30
#define HTTP_RANGE_TIMEOUT_S	300	/* a range of up to a few MiB */
#define HTTP_LOW_SPEED		1024	/* bytes/s a range must keep up... */
#define HTTP_LOW_SPEED_S	30	/* ...over this many seconds */

/*
 * Completion: status is 0 and body/len the response (borrowed, valid
 * only during the call) when the server answered 2xx; otherwise status is
 * a negative thr_err and errmsg (never NULL) says what went wrong.
 */
typedef void	http_done_cb(void *ud, int status, long http_code,
		    const uint8_t *body, size_t len, const char *errmsg);

struct http;	/* opaque */

/* NULL on failure.  The loop must outlive the http. */
struct http	*http_new(struct loop *l);
void	http_free(struct http *h);	/* cancels pending requests silently */
/* Start a GET; max_body bounds the response. Returns a request id > 0 or
 * a negative thr_err. cb is called exactly once unless cancelled. */
long	http_get(struct http *h, const char *url, size_t max_body,
	    http_done_cb *cb, void *ud);
/* The same for bytes offset..offset+len-1 of url (an HTTP Range request,
 * no content encoding, so the bytes are the file's); len > 0.  It may
 * take HTTP_RANGE_TIMEOUT_S as long as it moves HTTP_LOW_SPEED bytes a
 * second, so a slow server still delivers a large range.  The
 * callback gets the status code (206 for the range, 200 when the server
 * sent the whole file instead) and the body; max_body as above. */
long	http_get_range(struct http *h, const char *url, uint64_t offset,
	    uint64_t len, size_t max_body, http_done_cb *cb, void *ud);
void	http_cancel(struct http *h, long id);
/*
 * Make the requests started from now on from local's address
 * (--bind-address) and to servers of its family only; NULL or family 0
 * undoes it.  THR_EINVAL for another family.
 */
int	http_set_local(struct http *h, const struct thr_addr *local);

#endif
