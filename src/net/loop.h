/*
 * loop.h: the one single-threaded select() loop (shaped like redis ae.c).
 *
 * File descriptors are registered with read and/or write callbacks;
 * timers fire at monotonic deadlines.  A before-sleep hook runs once per
 * iteration (the place to flush and redraw).  An fd is looked up again
 * after each callback, because a callback may close any fd.  fds at or
 * above FD_SETSIZE are refused (THR_ELIMIT): select() cannot watch them.
 */
#ifndef THR_LOOP_H
#define THR_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/select.h>

#define LOOP_READ	1
#define LOOP_WRITE	2
#define LOOP_MAX_TIMERS	256

struct loop;
typedef void	loop_fd_cb(struct loop *l, int fd, int events, void *ud);
typedef void	loop_timer_cb(struct loop *l, long id, void *ud);
typedef void	loop_hook_cb(struct loop *l, void *ud);

struct loop_fd {
	int		 mask;		/* LOOP_READ | LOOP_WRITE, 0 = unused */
	loop_fd_cb	*cb;
	void		*ud;
};

struct loop_timer {
	long		 id;		/* 0 = free slot */
	uint64_t	 when_ms;	/* monotonic */
	loop_timer_cb	*cb;
	void		*ud;
};

struct loop {
	struct loop_fd		fds[FD_SETSIZE];
	int			maxfd;
	struct loop_timer	timers[LOOP_MAX_TIMERS];
	long			next_timer_id;
	loop_hook_cb		*before_sleep;
	void			*before_sleep_ud;
	bool			stop;
};

/* Monotonic milliseconds. */
uint64_t	loop_now_ms(void);
/* Monotonic microseconds, on the same clock (uTP's timestamps). */
uint64_t	loop_now_us(void);
void	loop_init(struct loop *l);
/* Watch fd for mask events (replaces any previous registration).
 * THR_ELIMIT if fd >= FD_SETSIZE or negative. */
int	loop_add_fd(struct loop *l, int fd, int mask, loop_fd_cb *cb, void *ud);
/* Change the watched events of a registered fd (0 keeps it registered but
 * idle). */
void	loop_set_mask(struct loop *l, int fd, int mask);
void	loop_del_fd(struct loop *l, int fd);
/* One-shot timer after ms milliseconds; returns its id (> 0) or
 * THR_ELIMIT when all slots are in use. */
long	loop_add_timer(struct loop *l, uint64_t ms, loop_timer_cb *cb, void *ud);
void	loop_del_timer(struct loop *l, long id);
void	loop_set_before_sleep(struct loop *l, loop_hook_cb *cb, void *ud);
/* Run one iteration, waiting at most max_wait_ms.  Returns 0, or
 * THR_EIO if select failed for a reason other than EINTR. */
int	loop_run_once(struct loop *l, uint64_t max_wait_ms);
/* Run until loop_stop. */
int	loop_run(struct loop *l);
void	loop_stop(struct loop *l);

#endif
