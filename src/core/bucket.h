/*
 * bucket.h: a token bucket for rate limits (--max-up, --max-down).
 *
 * Tokens are bytes.  They refill at rate bytes per second up to burst;
 * a transfer may start whenever the bucket is positive and then takes its
 * whole size, so the count can go negative and the next transfer waits
 * until it is paid back.  Over any long window the bytes moved stay
 * within one block of rate * time, whatever the block size.
 */
#ifndef THR_BUCKET_H
#define THR_BUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bucket {
	uint64_t	rate;		/* bytes per second; 0 = unlimited */
	int64_t		tokens;
	int64_t		burst;
	uint64_t	last_ms;
};

void	bucket_init(struct bucket *b, uint64_t rate, uint64_t now_ms);
/* Change the rate (the fill level is kept, clamped to the new burst). */
void	bucket_set_rate(struct bucket *b, uint64_t rate, uint64_t now_ms);
/* True if a transfer may start now. */
bool	bucket_ready(struct bucket *b, uint64_t now_ms);
void	bucket_take(struct bucket *b, uint64_t n);
/* Milliseconds until bucket_ready turns true (0 if it is). */
uint64_t	bucket_wait_ms(struct bucket *b, uint64_t now_ms);
/*
 * Parse "500K", "2M", "1.5M", "800" (bytes per second; K = 1024) into
 * *out.  "0" means unlimited.  THR_EINVAL on anything else.
 */
int	bucket_parse_rate(const char *s, uint64_t *out);
/*
 * A rate for people, in the units the view uses: "800 B/s", "1.5 MiB/s".
 * 0 gives "0 B/s": saying "unlimited" (translated) is the caller's job.
 * out holds len bytes and is always NUL-terminated when len > 0.
 */
void	bucket_format_rate(uint64_t rate, char *out, size_t len);

#endif
