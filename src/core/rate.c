/*
 * rate.c: sliding-window rate meter.
 */
#include "config.h"

#include <string.h>

#include "rate.h"

/* Zero the slots that have gone stale between the last update and now. */
static void
rate_advance(struct rate *r, uint64_t now_ms)
{
	uint64_t sec = now_ms / 1000;

	if (sec <= r->slot_sec)
		return;
	if (sec - r->slot_sec >= RATE_WINDOW_S)
		memset(r->slot, 0, sizeof(r->slot));
	else
		for (uint64_t s = r->slot_sec + 1; s <= sec; s++)
			r->slot[s % RATE_WINDOW_S] = 0;
	r->slot_sec = sec;
}

void
rate_init(struct rate *r, uint64_t now_ms)
{
	memset(r, 0, sizeof(*r));
	r->slot_sec = now_ms / 1000;
}

void
rate_add(struct rate *r, uint64_t now_ms, uint64_t bytes)
{
	rate_advance(r, now_ms);
	r->slot[r->slot_sec % RATE_WINDOW_S] += bytes;
	r->total += bytes;
}

uint64_t
rate_get(struct rate *r, uint64_t now_ms)
{
	uint64_t sum = 0;

	rate_advance(r, now_ms);
	/* The current second is partial; count the full window before it
	 * plus the partial one, over the time they actually span. */
	for (int i = 0; i < RATE_WINDOW_S; i++)
		sum += r->slot[i];
	return sum * 1000 / ((RATE_WINDOW_S - 1) * 1000 + now_ms % 1000 + 1);
}
