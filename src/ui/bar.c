/*
 * bar.c: numbers to cells and strings for the view.
 *
 * Everything here is a pure function of its arguments and of a const
 * struct torrent, so the unit tests can check every glyph and every
 * aggregated piece cell without a terminal.
 *
 * A bar of width cells is measured in eighths of a cell: the whole cells
 * are drawn full, at most one cell shows the remaining eighths (UTF-8
 * only; ASCII has no partial glyph), the rest are empty.  The eighths are
 * rounded down, and a fraction below 1 never draws a full bar, so "done"
 * is never shown early.
 *
 * The piece map splits npieces pieces over ncells cells as contiguous
 * ranges, cell c holding [c * n / ncells, (c + 1) * n / ncells), computed
 * in 64 bits so that no product wraps; each piece lands in exactly one
 * cell.
 */
#include "config.h"

#include <math.h>		/* isnan */
#include <stdio.h>
#include <string.h>

#include "ui/bar.h"

/* U+2588 FULL BLOCK, U+2591 LIGHT SHADE, and U+258F..U+2589, the left
 * one-eighth to seven-eighths blocks, all "\xe2\x96" plus one byte. */
#define BAR_UTF8_LEAD0		0xe2
#define BAR_UTF8_LEAD1		0x96
#define BAR_UTF8_FULL		0x88
#define BAR_UTF8_EMPTY		0x91
#define BAR_UTF8_EIGHTHS	0x90	/* minus k gives k eighths */

/* An ETA further out than this is noise: show "-" instead. */
#define BAR_ETA_MAX_SECS	(99ULL * 24 * 3600)

/* Append one cell's glyph; false (nothing written) if it does not fit
 * with the terminating NUL. */
static bool
bar_put(char *out, size_t outlen, size_t *pos, bool utf8, int eighths)
{
	if (!utf8) {
		if (*pos + 2 > outlen)
			return false;
		out[(*pos)++] = eighths == 8 ? '#' : '-';
		return true;
	}
	if (*pos + 4 > outlen)
		return false;
	out[(*pos)++] = (char)BAR_UTF8_LEAD0;
	out[(*pos)++] = (char)BAR_UTF8_LEAD1;
	if (eighths == 8)
		out[(*pos)++] = (char)BAR_UTF8_FULL;
	else if (eighths == 0)
		out[(*pos)++] = (char)BAR_UTF8_EMPTY;
	else
		out[(*pos)++] = (char)(BAR_UTF8_EIGHTHS - eighths);
	return true;
}

void
bar_render(double frac, int width, bool utf8, char *out, size_t outlen)
{
	uint64_t total, units;
	size_t pos = 0;
	int c;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (width <= 0)
		return;
	if (isnan(frac) || frac < 0)
		frac = 0;
	if (frac > 1)
		frac = 1;

	total = (uint64_t)width * 8;
	/* Rounded down (the product is >= 0, so the cast floors); the
	 * small epsilon keeps exact fractions such as 0.3 of 10 cells from
	 * losing an eighth to binary rounding. */
	units = (uint64_t)(frac * (double)total + 1e-9);
	if (units > total)
		units = total;
	if (frac < 1 && units == total)
		units = total - 1;
	if (!utf8)
		units -= units % 8;

	for (c = 0; c < width; c++) {
		uint64_t start = (uint64_t)c * 8;
		int e;

		if (units >= start + 8)
			e = 8;
		else if (units > start)
			e = (int)(units - start);
		else
			e = 0;
		if (!bar_put(out, outlen, &pos, utf8, e))
			break;
	}
	out[pos] = '\0';
}

void
bar_human_bytes(uint64_t v, char *out, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double d;
	size_t u;

	if (len == 0)
		return;
	if (v < 1024) {
		snprintf(out, len, "%u B", (unsigned)v);
		return;
	}
	d = (double)v / 1024.0;
	u = 0;
	/* Move up a unit before "%.1f" would print 1024.0. */
	while (d >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		d /= 1024.0;
		u++;
	}
	snprintf(out, len, "%.1f %s", d, units[u]);
}

void
bar_human_rate(uint64_t v, char *out, size_t len)
{
	char b[32];

	bar_human_bytes(v, b, sizeof(b));
	snprintf(out, len, "%s/s", b);
}

void
bar_human_eta(uint64_t secs, char *out, size_t len)
{
	if (len == 0)
		return;
	if (secs > BAR_ETA_MAX_SECS) {
		/* UINT64_MAX, "unknown", lands here too. */
		snprintf(out, len, "-");
		return;
	}
	if (secs >= 3600)
		snprintf(out, len, "%u:%02u:%02u", (unsigned)(secs / 3600),
		    (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
	else
		snprintf(out, len, "%u:%02u", (unsigned)(secs / 60),
		    (unsigned)(secs % 60));
}

/* What piece i is, from the have field and the picker's active pieces.
 * The picker may not exist yet (resume check): then it is MISSING. */
static enum cell_kind
bar_piece_kind(const struct torrent *t, uint32_t i)
{
	const struct picker *pk = &t->pk;
	const struct picker_piece *pp;
	size_t a;
	uint32_t b;

	if (bitfield_get(&t->have, i))
		return CELL_HAVE;
	if (pk->state == NULL || pk->active == NULL || i >= pk->npieces ||
	    pk->state[i] != PICKER_ACTIVE)
		return CELL_MISSING;
	for (a = 0; a < pk->nactive; a++) {
		pp = &pk->active[a];
		if (pp->index != i)
			continue;
		if (pp->nrecv > 0)
			return CELL_PARTIAL;
		for (b = 0; pp->blk != NULL && b < pp->nblocks; b++)
			if (pp->blk[b] >= 1 && pp->blk[b] <= PICKER_BLK_MAXREQ)
				return CELL_REQUESTED;
		return CELL_MISSING;
	}
	return CELL_MISSING;
}

uint32_t
bar_piece_cells(const struct torrent *t, struct cell *cells,
    uint32_t ncells)
{
	uint32_t n = t->mi.npieces, c, i, had;
	enum cell_kind k, best;
	uint32_t av, minav;
	struct cell *cl;

	if (n == 0 || ncells == 0)
		return 0;
	if (ncells > n)
		ncells = n;
	for (c = 0; c < ncells; c++) {
		cl = &cells[c];
		cl->first = (uint32_t)((uint64_t)c * n / ncells);
		cl->last = (uint32_t)(((uint64_t)c + 1) * n / ncells - 1);
		had = 0;
		best = CELL_MISSING;
		minav = UINT32_MAX;
		for (i = cl->first; i <= cl->last; i++) {
			k = bar_piece_kind(t, i);
			if (k == CELL_HAVE) {
				had++;
				/* A had piece in an unfinished range shows
				 * as progress, not as done. */
				k = CELL_PARTIAL;
			}
			if (k > best)
				best = k;
			av = t->pk.avail != NULL && i < t->pk.npieces ?
			    t->pk.avail[i] : 0;
			if (av < minav)
				minav = av;
		}
		cl->kind = had == cl->last - cl->first + 1 ? CELL_HAVE : best;
		cl->frac = (double)had / (double)(cl->last - cl->first + 1);
		cl->avail = minav;
	}
	return ncells;
}

double
bar_file_progress(const struct torrent *t, size_t i)
{
	const struct metainfo *mi = &t->mi;
	const struct metainfo_file *f;
	uint64_t fend, pstart, pend, lo, hi, got = 0;
	uint64_t first, last, p;

	if (i >= mi->nfiles || mi->files == NULL)
		return 0;
	f = &mi->files[i];
	/* Nothing to fetch: an empty file is as done as it can be. */
	if (f->length == 0)
		return 1.0;
	if (mi->piece_length == 0 || f->offset > UINT64_MAX - f->length)
		return 0;
	fend = f->offset + f->length;
	first = f->offset / mi->piece_length;
	last = (fend - 1) / mi->piece_length;
	if (last >= mi->npieces) {
		if (mi->npieces == 0)
			return 0;
		last = mi->npieces - 1;
	}
	for (p = first; p <= last; p++) {
		if (!bitfield_get(&t->have, (uint32_t)p))
			continue;
		pstart = p * mi->piece_length;
		pend = pstart + mi->piece_length;
		lo = pstart > f->offset ? pstart : f->offset;
		hi = pend < fend ? pend : fend;
		if (hi > lo)
			got += hi - lo;
	}
	return (double)got / (double)f->length;
}

double
bar_peer_progress(const struct torrent *t, const struct peer *p)
{
	double f;

	if (t->mi.npieces == 0)
		return 0;
	f = (double)p->have.count / (double)t->mi.npieces;
	return f > 1 ? 1 : f;
}

void
bar_peer_flags(const struct peer *p, char out[8])
{
	memset(out, '.', 6);
	if (p->am_interested)
		out[0] = p->peer_choking ? 'd' : 'D';
	if (p->peer_interested)
		out[1] = p->am_choking ? 'u' : 'U';
	out[2] = p->incoming ? 'I' : 'O';
	if (p->snubbed)
		out[3] = 'S';
	if (p->encrypted)
		out[4] = 'E';
	else if (p->obfuscated)
		out[4] = 'e';
	/* 'P' as in uTorrent's peer list; a web seed says so in its
	 * client column. */
	if (p->transport == PEER_UTP)
		out[5] = 'P';
	out[6] = '\0';
	out[7] = '\0';
}
