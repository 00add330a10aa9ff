/*
 * bar.h: pure functions that turn numbers into what the view draws, so
 * that tests can check them without a terminal.
 *
 * Strings produced here are UTF-8 when utf8 is true (block characters
 * U+2588 and the eighths U+2589..U+258F for the partial cell, U+2591 for
 * empty), plain ASCII otherwise ('#' full, '-' empty, no partial glyph).
 */
#ifndef THR_UI_BAR_H
#define THR_UI_BAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/torrent.h"

/*
 * A progress bar of exactly width cells for frac in [0, 1] (clamped).
 * out must hold width * 3 + 1 bytes.  0 gives all empty, 1 all full.
 * NaN counts as 0; width <= 0 gives "".  Eighths are rounded down and a
 * fraction below 1 never fills the bar.  With a short outlen only whole
 * cells are written, always NUL-terminated (nothing when outlen is 0).
 */
void	bar_render(double frac, int width, bool utf8, char *out, size_t outlen);

/* "1.5 MiB", "512 B", "12.0 GiB" */
void	bar_human_bytes(uint64_t v, char *out, size_t len);
/* "1.5 MiB/s" */
void	bar_human_rate(uint64_t v, char *out, size_t len);
/* "1:02:03", "4:05", "-" for unknown (UINT64_MAX) or beyond 99 days,
 * "∞"-free ASCII */
void	bar_human_eta(uint64_t secs, char *out, size_t len);

/* What one cell of the piece map shows. */
enum cell_kind {
	CELL_MISSING,
	CELL_REQUESTED,		/* in flight, nothing received yet */
	CELL_PARTIAL,		/* some blocks received */
	CELL_HAVE,
};

struct cell {
	enum cell_kind	kind;	/* the most advanced state in the range,
				 * HAVE only if every piece is had */
	double		frac;	/* had fraction of the range, by pieces */
	uint32_t	avail;	/* min availability across the range */
	uint32_t	first, last;	/* piece range [first, last] */
};

/*
 * Split the torrent's pieces over ncells cells (ncells >= 1).  With more
 * cells than pieces, only npieces cells are filled and that count is
 * returned; otherwise each cell aggregates a contiguous range and ncells
 * is returned.
 */
uint32_t	bar_piece_cells(const struct torrent *t, struct cell *cells,
		    uint32_t ncells);

/* Fraction of file i's bytes that lie in pieces we have (1.0 for an
 * empty file, 0 for i out of range).  Costs one step per piece of the
 * file. */
double	bar_file_progress(const struct torrent *t, size_t i);
/* Fraction of the torrent a peer has. */
double	bar_peer_progress(const struct torrent *t, const struct peer *p);

/* Peer flags, fixed width 6: "DdUuIO..." style as in the man page:
 * [0] 'D' we are interested & unchoked by it, 'd' interested but choked,
 * [1] 'U' we upload to it (unchoked & interested), 'u' it is interested
 *     but choked, [2] 'I' incoming / 'O' outgoing, [3] 'S' snubbed,
 * [4] 'E' encrypted (MSE with RC4), [5] unused (the source has its own
 * column).  Unused positions are '.'. */
void	bar_peer_flags(const struct peer *p, char out[8]);

#endif
