/*
 * bucket.c: token buckets.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bucket.h"
#include "err.h"

/* A quarter second of burst keeps bursts small enough for the limit to
 * hold over a second, while leaving room for a few 16 KiB blocks. */
static int64_t
burst_for(uint64_t rate)
{
	int64_t b = (int64_t)(rate / 4);

	return b < 16384 ? 16384 : b;
}

void
bucket_init(struct bucket *b, uint64_t rate, uint64_t now_ms)
{
	b->rate = rate;
	b->burst = burst_for(rate);
	b->tokens = b->burst;
	b->last_ms = now_ms;
}

void
bucket_set_rate(struct bucket *b, uint64_t rate, uint64_t now_ms)
{
	(void)bucket_ready(b, now_ms);
	b->rate = rate;
	b->burst = burst_for(rate);
	if (b->tokens > b->burst)
		b->tokens = b->burst;
}

static void
refill(struct bucket *b, uint64_t now_ms)
{
	if (now_ms <= b->last_ms)
		return;
	b->tokens += (int64_t)(b->rate * (now_ms - b->last_ms) / 1000);
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last_ms = now_ms;
}

bool
bucket_ready(struct bucket *b, uint64_t now_ms)
{
	if (b->rate == 0)
		return true;
	refill(b, now_ms);
	return b->tokens > 0;
}

void
bucket_take(struct bucket *b, uint64_t n)
{
	if (b->rate != 0)
		b->tokens -= (int64_t)n;
}

uint64_t
bucket_wait_ms(struct bucket *b, uint64_t now_ms)
{
	if (bucket_ready(b, now_ms))
		return 0;
	return (uint64_t)(-b->tokens + 1) * 1000 / b->rate + 1;
}

int
bucket_parse_rate(const char *s, uint64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || v < 0 || v != v)
		return THR_EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		v *= 1024;
		end++;
		break;
	case 'm': case 'M':
		v *= 1024 * 1024;
		end++;
		break;
	case 'g': case 'G':
		v *= 1024.0 * 1024 * 1024;
		end++;
		break;
	default:
		return THR_EINVAL;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > 1e13)
		return THR_EINVAL;
	*out = (uint64_t)v;
	return 0;
}

void
bucket_format_rate(uint64_t rate, char *out, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double d = (double)rate / 1024.0;
	size_t u = 0;

	if (len == 0)
		return;
	if (rate < 1024) {
		snprintf(out, len, "%u B/s", (unsigned)rate);
		return;
	}
	/* Move up a unit before "%.1f" would print 1024.0. */
	while (d >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		d /= 1024.0;
		u++;
	}
	snprintf(out, len, "%.1f %s/s", d, units[u]);
}
