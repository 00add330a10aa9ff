/*
 * xalloc.h: every allocation of the core goes through these, so that a
 * test can make any one of them fail (curl's "torture" tests do the
 * same): a program built with THR_ALLOC_TORTURE counts the calls and
 * fails the n-th.  In the program they are plain malloc and friends.
 *
 * Memory from these is released with free(3).
 */
#ifndef THR_XALLOC_H
#define THR_XALLOC_H

#include <stddef.h>
#include <stdint.h>

void	*thr_malloc(size_t n);
void	*thr_calloc(size_t n, size_t size);
void	*thr_realloc(void *p, size_t n);
char	*thr_strdup(const char *s);
char	*thr_strndup(const char *s, size_t n);

#ifdef THR_ALLOC_TORTURE
/*
 * The torture switch (tests/torture only): make the n-th allocation from
 * now fail (1 is the next one; 0 fails none) and count from zero again.
 * thr_alloc_count says how many were made since; thr_alloc_failed
 * whether the chosen one has failed yet.  The counter is the one mutable
 * global of such a build, and exists in no other.
 */
void	thr_alloc_fail_at(uint64_t n);
uint64_t	thr_alloc_count(void);
int	thr_alloc_failed(void);
/* The code address that called the allocation that failed (NULL when
 * none has), so that a run can count distinct allocation sites. */
const void	*thr_alloc_failed_site(void);
#endif

#endif
