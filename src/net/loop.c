/*
 * loop.c: the select() loop, shaped like redis ae.c.
 *
 * Data model: fds[] is indexed by the descriptor itself, so looking an fd
 * up is O(1) and a callback that closes another fd is seen at once (its
 * slot's mask drops to 0).  An fd counts as registered while its slot has
 * a callback; mask 0 with a callback means registered but idle.  maxfd is
 * the highest registered fd, or -1, and bounds every scan.  Timers live in
 * a fixed array of LOOP_MAX_TIMERS slots (id 0 = free); the few timers a
 * client needs make a linear scan cheaper than a heap.
 *
 * One iteration: before_sleep hook, select() with a timeout that ends at
 * the earliest timer, fd callbacks, then due timers.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

#include "core/err.h"
#include "loop.h"

/*
 * With no timer pending, loop_run still wakes this often so that a stop
 * requested from a signal handler (which cannot reach the loop except
 * through the self-pipe) is never delayed for long.
 */
#define LOOP_IDLE_WAIT_MS	1000

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t
loop_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void
loop_init(struct loop *l)
{
	memset(l, 0, sizeof(*l));
	l->maxfd = -1;
	l->next_timer_id = 1;
	l->before_sleep = NULL;
	l->before_sleep_ud = NULL;
	l->stop = false;
}

int
loop_add_fd(struct loop *l, int fd, int mask, loop_fd_cb *cb, void *ud)
{
	if (fd < 0 || fd >= FD_SETSIZE)
		return THR_ELIMIT;
	if (cb == NULL)
		return THR_EINVAL;
	l->fds[fd].mask = mask & (LOOP_READ | LOOP_WRITE);
	l->fds[fd].cb = cb;
	l->fds[fd].ud = ud;
	if (fd > l->maxfd)
		l->maxfd = fd;
	return 0;
}

void
loop_set_mask(struct loop *l, int fd, int mask)
{
	if (fd < 0 || fd >= FD_SETSIZE || l->fds[fd].cb == NULL)
		return;
	l->fds[fd].mask = mask & (LOOP_READ | LOOP_WRITE);
}

void
loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || fd >= FD_SETSIZE)
		return;
	l->fds[fd].mask = 0;
	l->fds[fd].cb = NULL;
	l->fds[fd].ud = NULL;
	/* Keep maxfd tight so select() and our scans stay short. */
	if (fd == l->maxfd) {
		while (l->maxfd >= 0 && l->fds[l->maxfd].cb == NULL)
			l->maxfd--;
	}
}

long
loop_add_timer(struct loop *l, uint64_t ms, loop_timer_cb *cb, void *ud)
{
	struct loop_timer *t;
	uint64_t now;
	int i;

	if (cb == NULL)
		return THR_EINVAL;
	for (i = 0; i < LOOP_MAX_TIMERS; i++) {
		t = &l->timers[i];
		if (t->id != 0)
			continue;
		now = loop_now_ms();
		/* Saturate rather than wrap: a huge delay means "never". */
		t->when_ms = ms > UINT64_MAX - now ? UINT64_MAX : now + ms;
		t->id = l->next_timer_id++;
		t->cb = cb;
		t->ud = ud;
		return t->id;
	}
	return THR_ELIMIT;
}

void
loop_del_timer(struct loop *l, long id)
{
	int i;

	if (id <= 0)
		return;
	for (i = 0; i < LOOP_MAX_TIMERS; i++) {
		if (l->timers[i].id == id) {
			memset(&l->timers[i], 0, sizeof(l->timers[i]));
			return;
		}
	}
}

void
loop_set_before_sleep(struct loop *l, loop_hook_cb *cb, void *ud)
{
	l->before_sleep = cb;
	l->before_sleep_ud = ud;
}

/* Earliest deadline among the timers, or UINT64_MAX with none. */
static uint64_t
loop_earliest(const struct loop *l)
{
	uint64_t when = UINT64_MAX;
	int i;

	for (i = 0; i < LOOP_MAX_TIMERS; i++) {
		if (l->timers[i].id != 0 && l->timers[i].when_ms < when)
			when = l->timers[i].when_ms;
	}
	return when;
}

/*
 * Fire the due timers in deadline order (ties by id, that is by creation).
 * Only timers that existed when this pass began may fire: a callback that
 * re-arms itself with 0 ms runs again next iteration instead of spinning
 * here forever.  Each slot is freed before its callback runs, so the
 * callback may add timers even when all slots were busy.
 */
static void
loop_fire_timers(struct loop *l)
{
	struct loop_timer t, *best;
	long limit = l->next_timer_id;
	uint64_t now = loop_now_ms();
	int i;

	for (;;) {
		best = NULL;
		for (i = 0; i < LOOP_MAX_TIMERS; i++) {
			struct loop_timer *c = &l->timers[i];

			if (c->id == 0 || c->id >= limit || c->when_ms > now)
				continue;
			if (best == NULL || c->when_ms < best->when_ms ||
			    (c->when_ms == best->when_ms && c->id < best->id))
				best = c;
		}
		if (best == NULL)
			return;
		t = *best;
		memset(best, 0, sizeof(*best));
		t.cb(l, t.id, t.ud);
	}
}

int
loop_run_once(struct loop *l, uint64_t max_wait_ms)
{
	fd_set rfds, wfds;
	struct timeval tv;
	uint64_t now, earliest, wait;
	int fd, maxfd, n, fired, mask;

	/* Like redis: flush and redraw before we may sleep. */
	if (l->before_sleep != NULL)
		l->before_sleep(l, l->before_sleep_ud);
	if (l->stop)
		return 0;	/* the hook ended the loop: no sleep */

	wait = max_wait_ms;
	earliest = loop_earliest(l);
	if (earliest != UINT64_MAX) {
		now = loop_now_ms();
		if (earliest <= now)
			wait = 0;
		else if (earliest - now < wait)
			wait = earliest - now;
	}
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;

	FD_ZERO(&rfds);
	FD_ZERO(&wfds);
	maxfd = l->maxfd;
	for (fd = 0; fd <= maxfd; fd++) {
		if (l->fds[fd].mask & LOOP_READ)
			FD_SET(fd, &rfds);
		if (l->fds[fd].mask & LOOP_WRITE)
			FD_SET(fd, &wfds);
	}

	n = select(maxfd + 1, &rfds, &wfds, NULL, &tv);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return THR_EIO;
	}

	for (fd = 0; n > 0 && fd <= maxfd; fd++) {
		fired = 0;
		if (FD_ISSET(fd, &rfds))
			fired |= LOOP_READ;
		if (FD_ISSET(fd, &wfds))
			fired |= LOOP_WRITE;
		if (fired == 0)
			continue;
		n -= (fired & LOOP_READ ? 1 : 0) + (fired & LOOP_WRITE ? 1 : 0);
		/*
		 * Look the fd up again: an earlier callback this round may
		 * have closed it, unregistered it or narrowed its mask.
		 */
		mask = fired & l->fds[fd].mask;
		if (mask == 0 || l->fds[fd].cb == NULL)
			continue;
		l->fds[fd].cb(l, fd, mask, l->fds[fd].ud);
	}

	loop_fire_timers(l);
	return 0;
}

int
loop_run(struct loop *l)
{
	int rc;

	l->stop = false;
	while (!l->stop) {
		rc = loop_run_once(l, LOOP_IDLE_WAIT_MS);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = true;
}
