/*
 * xalloc.c: the core's allocation wrappers.  See xalloc.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#ifdef THR_ALLOC_TORTURE
static uint64_t	xalloc_calls, xalloc_fail_at;
static int	xalloc_did_fail;
static const void *xalloc_failed_site;

void
thr_alloc_fail_at(uint64_t n)
{
	xalloc_calls = 0;
	xalloc_fail_at = n;
	xalloc_did_fail = 0;
	xalloc_failed_site = NULL;
}

const void *
thr_alloc_failed_site(void)
{
	return xalloc_failed_site;
}

uint64_t
thr_alloc_count(void)
{
	return xalloc_calls;
}

int
thr_alloc_failed(void)
{
	return xalloc_did_fail;
}

/* True when this call is the one to fail; site is its caller. */
static int
xalloc_fail(const void *site)
{
	if (++xalloc_calls != xalloc_fail_at)
		return 0;
	xalloc_did_fail = 1;
	xalloc_failed_site = site;
	return 1;
}
#define XALLOC_FAIL()	xalloc_fail(__builtin_return_address(0))
#else
#define XALLOC_FAIL()	0
#endif

void *
thr_malloc(size_t n)
{
	return XALLOC_FAIL() ? NULL : malloc(n ? n : 1);
}

void *
thr_calloc(size_t n, size_t size)
{
	return XALLOC_FAIL() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *
thr_realloc(void *p, size_t n)
{
	return XALLOC_FAIL() ? NULL : realloc(p, n ? n : 1);
}

char *
thr_strdup(const char *s)
{
	return XALLOC_FAIL() ? NULL : strdup(s);
}

char *
thr_strndup(const char *s, size_t n)
{
	return XALLOC_FAIL() ? NULL : strndup(s, n);
}
