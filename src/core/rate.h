/*
 * rate.h: a transfer rate meter.  Bytes are added as they move; the rate
 * is an average over the last RATE_WINDOW_S seconds of one-second slots,
 * so a burst shows up quickly and decays in a few seconds.
 */
#ifndef THR_RATE_H
#define THR_RATE_H

#include <stdint.h>

#define RATE_WINDOW_S	5

struct rate {
	uint64_t	slot[RATE_WINDOW_S];
	uint64_t	slot_sec;	/* second of slot[slot_sec % W] */
	uint64_t	total;		/* all bytes ever added */
};

void	rate_init(struct rate *r, uint64_t now_ms);
void	rate_add(struct rate *r, uint64_t now_ms, uint64_t bytes);
/* Bytes per second averaged over the window ending now. */
uint64_t	rate_get(struct rate *r, uint64_t now_ms);

#endif
