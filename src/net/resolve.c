/*
 * resolve.c: non-blocking name lookups with getaddrinfo_a.
 *
 * Data model: struct resolve (owned by the caller, touched only by the
 * loop's thread) and struct resolve_job (the gaicb and what it points to,
 * on the heap, shared with glibc's lookup thread).  The job carries a
 * reference count of two while the lookup is queued or running: one for
 * the owner, one for the end-of-lookup notification.  See resolve.h for
 * why the job cannot simply be freed on cancel.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/addr.h"
#include "core/err.h"
#include "net/resolve.h"

struct resolve_job {
	struct gaicb	 cb;
	struct addrinfo	 hints;
	char		 host[RESOLVE_HOST_MAX];
	atomic_int	 refs;
};

/* Drop one share; the last one frees the job and any result in it. */
static void
resolve_job_unref(struct resolve_job *job)
{
	if (atomic_fetch_sub(&job->refs, 1) != 1)
		return;
	if (job->cb.ar_result != NULL)
		freeaddrinfo(job->cb.ar_result);
	free(job);
}

/* Runs in a glibc notification thread when the lookup has ended. */
static void
resolve_notify(union sigval sv)
{
	resolve_job_unref(sv.sival_ptr);
}

static int
resolve_fail(struct resolve *r, int code, const char *what)
{
	r->state = RESOLVE_FAILED;
	r->naddrs = 0;
	return thr_error_set(&r->error, code, 0, "resolve: %s", what);
}

static void
resolve_add(struct resolve *r, int family, const void *ip)
{
	struct thr_addr a;
	size_t i;

	if (r->naddrs >= RESOLVE_MAX_ADDRS ||
	    (r->family != 0 && r->family != family))
		return;
	memset(&a, 0, sizeof a);
	a.family = family;
	a.port = r->port;
	memcpy(a.ip, ip, family == 6 ? 16 : 4);
	for (i = 0; i < r->naddrs; i++)
		if (addr_equal(&r->addrs[i], &a))
			return;
	r->addrs[r->naddrs++] = a;
}

void
resolve_init(struct resolve *r)
{
	memset(r, 0, sizeof *r);
	r->state = RESOLVE_IDLE;
}

/* Copy host without its IPv6 brackets; false if it does not fit. */
static bool
resolve_copy_host(char *dst, size_t dstlen, const char *host)
{
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n == 0 || n >= dstlen || memchr(host, '\0', n) != NULL)
		return false;
	memcpy(dst, host, n);
	dst[n] = '\0';
	return true;
}

int
resolve_start(struct resolve *r, const char *host, uint16_t port,
    int family)
{
	struct resolve_job *job;
	struct gaicb *list[1];
	struct sigevent sev;
	char name[RESOLVE_HOST_MAX];
	uint8_t ip[16];
	int rc;

	resolve_cancel(r);
	r->family = family;
	r->port = port;
	if (family != 0 && family != 4 && family != 6)
		return resolve_fail(r, THR_EINVAL, "bad address family");
	if (!resolve_copy_host(name, sizeof name, host))
		return resolve_fail(r, THR_EINVAL, "empty or overlong host");

	/* Numeric hosts need no resolver and must not wait for one. */
	if (inet_pton(AF_INET, name, ip) == 1 ||
	    inet_pton(AF_INET6, name, ip) == 1) {
		resolve_add(r, strchr(name, ':') != NULL ? 6 : 4, ip);
		if (r->naddrs == 0)
			return resolve_fail(r, THR_ENOENT,
			    "numeric host of the other family");
		r->state = RESOLVE_DONE;
		return 0;
	}

	if ((job = calloc(1, sizeof *job)) == NULL)
		return resolve_fail(r, THR_ENOMEM, "out of memory");
	memcpy(job->host, name, sizeof name);
	job->hints.ai_family = family == 4 ? AF_INET : family == 6 ?
	    AF_INET6 : AF_UNSPEC;
	/* One entry per address, not one per socket type.  No
	 * AI_ADDRCONFIG: it hides "localhost" on hosts with only a
	 * loopback interface. */
	job->hints.ai_socktype = SOCK_DGRAM;
	job->cb.ar_name = job->host;
	job->cb.ar_request = &job->hints;
	atomic_init(&job->refs, 2);
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = resolve_notify;
	sev.sigev_value.sival_ptr = job;
	list[0] = &job->cb;
	if ((rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev)) != 0) {
		/* No notification will come, but glibc may have queued the
		 * lookup anyway (it does when only its notification list
		 * could not be allocated).  Free the job unless a thread is
		 * using it right now; that rare case leaks one job rather
		 * than risk a use after free. */
		if (gai_cancel(&job->cb) != EAI_NOTCANCELED) {
			atomic_store(&job->refs, 1);
			resolve_job_unref(job);
		}
		return resolve_fail(r, rc == EAI_MEMORY ? THR_ENOMEM :
		    THR_EIO, gai_strerror(rc));
	}
	r->job = job;
	r->state = RESOLVE_PENDING;
	return 0;
}

static int
resolve_gai_code(int rc)
{
	switch (rc) {
	case EAI_NONAME:
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
	case EAI_FAMILY:
		return THR_ENOENT;
	case EAI_MEMORY:
		return THR_ENOMEM;
	default:
		return THR_EIO;
	}
}

/* The lookup has ended: take its answer and drop our share. */
static void
resolve_finish(struct resolve *r, int rc)
{
	struct resolve_job *job = r->job;
	const struct addrinfo *ai;

	r->job = NULL;
	r->naddrs = 0;
	if (rc == 0) {
		for (ai = job->cb.ar_result; ai != NULL; ai = ai->ai_next) {
			if (ai->ai_family == AF_INET &&
			    ai->ai_addrlen >= sizeof(struct sockaddr_in))
				resolve_add(r, 4, &((const struct sockaddr_in *)
				    ai->ai_addr)->sin_addr);
			else if (ai->ai_family == AF_INET6 &&
			    ai->ai_addrlen >= sizeof(struct sockaddr_in6))
				resolve_add(r, 6,
				    &((const struct sockaddr_in6 *)
				    ai->ai_addr)->sin6_addr);
		}
		if (r->naddrs > 0)
			r->state = RESOLVE_DONE;
		else
			resolve_fail(r, THR_ENOENT, "no usable address");
	} else
		resolve_fail(r, resolve_gai_code(rc), gai_strerror(rc));
	resolve_job_unref(job);
}

int
resolve_poll(struct resolve *r, struct thr_error *err)
{
	int rc;

	if (r->state == RESOLVE_PENDING) {
		rc = gai_error(&r->job->cb);
		if (rc == EAI_INPROGRESS)
			return THR_EAGAIN;
		resolve_finish(r, rc);
	}
	switch (r->state) {
	case RESOLVE_DONE:
		return 0;
	case RESOLVE_FAILED:
		if (err != NULL)
			*err = r->error;
		return r->error.code;
	default:
		return thr_error_set(err, THR_EINVAL, 0,
		    "resolve: nothing started");
	}
}

void
resolve_cancel(struct resolve *r)
{
	struct resolve_job *job = r->job;

	if (job != NULL) {
		r->job = NULL;
		/* Only a lookup still queued is removed, and then glibc
		 * never notifies: drop its share too.  A running or
		 * finished one notifies, and that drops the last share. */
		if (gai_cancel(&job->cb) == EAI_CANCELED)
			resolve_job_unref(job);
		resolve_job_unref(job);
	}
	resolve_init(r);
}

void
resolve_release(struct resolve *r)
{
	resolve_cancel(r);
}
