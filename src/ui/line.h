/*
 * line.h: line mode, the view of a terminal without the full screen (a
 * pipe, a file, --no-tui): one progress line a second on a stream, the
 * same figures the header shows.
 */
#ifndef THR_UI_LINE_H
#define THR_UI_LINE_H

#include <stdint.h>
#include <stdio.h>

#include "core/torrent.h"

#define LINE_PERIOD_MS	1000

struct line {
	FILE		*fp;		/* borrowed */
	uint64_t	 next_ms;
};

void	line_init(struct line *l, FILE *fp);
/* Print t's progress line when a second has passed since the last. */
void	line_update(struct line *l, const struct torrent *t, uint64_t now_ms);
/*
 * The last line of a run that ended well, in either mode: the data this
 * run fetched and verified (endgame duplicates and failed pieces not
 * counted), how long that took and how fast on average, what went out,
 * why seeding stopped when the ratio ended it, and how many files the
 * user left out, so that "complete" never claims them.
 */
void	line_final(FILE *fp, const struct torrent *t);
/* Milliseconds until the next line is due. */
uint64_t	line_wait_ms(const struct line *l, uint64_t now_ms);

#endif
