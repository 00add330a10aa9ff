/*
 * pieces.c: the piece map and the pieces in flight.
 *
 * The map gives one character to each cell of bar_piece_cells, filling
 * the pane's width row by row.  A cell holding one piece shows its kind;
 * a cell aggregating a range shows, in UTF-8, a shade by the fraction
 * had.  Colour (or a monochrome attribute) always gives the kind.  With
 * the availability toggle the cell shows how many peers have its rarest
 * piece: 0-9, '+' for more.
 *
 * Below the map, one row per active piece: index, a bar of blocks
 * received, and the addresses of the peers that sent blocks.
 *
 * Before a magnet's metadata is known there are no pieces: the pane
 * says so instead of drawing an empty map.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/bar.h"
#include "ui/draw.h"

/* Rows the map keeps when pieces are in flight: the rest lists them. */
#define PIECES_MAP_SHARE	2	/* of 3 */

static const char *
pieces_glyph(const struct view *v, const struct cell *c, bool aggregate)
{
	if (!v->utf8) {
		switch (c->kind) {
		case CELL_HAVE:		return "#";
		case CELL_PARTIAL:	return "+";
		case CELL_REQUESTED:	return ":";
		case CELL_MISSING:
		default:		return ".";
		}
	}
	if (aggregate && c->kind != CELL_HAVE) {
		/* Light, medium, dark shade by the fraction had. */
		if (c->frac <= 0.0)
			return c->kind == CELL_MISSING ? "\xc2\xb7" :
			    "\xe2\x96\x91";
		if (c->frac < 0.5)
			return "\xe2\x96\x91";
		if (c->frac < 1.0)
			return "\xe2\x96\x92";
		return "\xe2\x96\x93";
	}
	switch (c->kind) {
	case CELL_HAVE:		return "\xe2\x96\x88";	/* full block */
	case CELL_PARTIAL:	return "\xe2\x96\x92";	/* medium shade */
	case CELL_REQUESTED:	return "\xe2\x96\x91";	/* light shade */
	case CELL_MISSING:
	default:		return "\xc2\xb7";	/* middle dot */
	}
}

static enum draw_role
pieces_role(const struct cell *c)
{
	switch (c->kind) {
	case CELL_HAVE:		return ROLE_HAVE;
	case CELL_PARTIAL:	return ROLE_PARTIAL;
	case CELL_REQUESTED:	return ROLE_REQUESTED;
	case CELL_MISSING:
	default:		return ROLE_MISSING;
	}
}

static void
pieces_map(struct view *v, const struct torrent *t, int top, int rows)
{
	struct cell *cells;
	uint32_t ncells, n, i;
	char digit[2];
	bool aggregate;

	if (rows <= 0 || t->mi.npieces == 0 || t->pk.state == NULL)
		return;
	ncells = (uint32_t)rows * (uint32_t)v->cols;
	cells = calloc(ncells, sizeof(*cells));
	if (cells == NULL) {
		draw_text(v, top, 0, v->cols, _("out of memory"),
		    draw_attr(v, ROLE_ERROR));
		return;
	}
	n = bar_piece_cells(t, cells, ncells);
	aggregate = t->mi.npieces > ncells;
	for (i = 0; i < n && i < ncells; i++) {
		int y = top + (int)(i / (uint32_t)v->cols);
		int x = (int)(i % (uint32_t)v->cols);

		if (v->avail) {
			uint32_t a = cells[i].avail;

			digit[0] = a > 9 ? '+' : (char)('0' + a);
			digit[1] = '\0';
			draw_text(v, y, x, 1, digit, draw_attr(v, a == 0 ?
			    ROLE_AVAIL0 : a == 1 ? ROLE_AVAIL1 : a <= 3 ?
			    ROLE_AVAIL_FEW : ROLE_AVAIL_MANY));
		} else
			draw_text(v, y, x, 1, pieces_glyph(v, &cells[i],
			    aggregate), draw_attr(v, pieces_role(&cells[i])));
	}
	free(cells);
}

int
draw_pieces_legend(struct view *v, int y, int x, int width, bool aggregate)
{
	struct item {
		struct cell	 c;	/* a cell that looks the part */
		const char	*glyph;	/* or this, when not NULL */
		enum draw_role	 role;
		const char	*what;
	};
	const struct item plain[] = {
		{ { CELL_HAVE, 1, 0, 0, 0 }, NULL, ROLE_HAVE, N_("have") },
		{ { CELL_PARTIAL, 0, 0, 0, 0 }, NULL, ROLE_PARTIAL,
		    N_("partial") },
		{ { CELL_REQUESTED, 0, 0, 0, 0 }, NULL, ROLE_REQUESTED,
		    N_("asked") },
		{ { CELL_MISSING, 0, 0, 0, 0 }, NULL, ROLE_MISSING,
		    N_("missing") },
	};
	/* Ranges: the shade says how much of the range is had. */
	const struct item ranges[] = {
		{ { CELL_HAVE, 1, 0, 0, 0 }, NULL, ROLE_HAVE, N_("have") },
		{ { CELL_PARTIAL, 0, 0, 0, 0 }, v->utf8 ?
		    "\xe2\x96\x91\xe2\x96\x92\xe2\x96\x93" : NULL,
		    ROLE_PARTIAL, N_("partly had") },
		{ { CELL_MISSING, 0, 0, 0, 0 }, NULL, ROLE_MISSING,
		    N_("missing") },
	};
	const struct item avail[] = {
		{ { 0, 0, 0, 0, 0 }, "0", ROLE_AVAIL0, N_("no peer") },
		{ { 0, 0, 0, 0, 0 }, "1", ROLE_AVAIL1, N_("one peer") },
		{ { 0, 0, 0, 0, 0 }, "2-9", ROLE_AVAIL_FEW, N_("peers") },
		{ { 0, 0, 0, 0, 0 }, "+", ROLE_AVAIL_MANY, N_("more") },
	};
	const struct item *it = v->avail ? avail : aggregate ? ranges : plain;
	size_t n = v->avail ? sizeof(avail) / sizeof(avail[0]) : aggregate ?
	    sizeof(ranges) / sizeof(ranges[0]) : sizeof(plain) /
	    sizeof(plain[0]);
	int used = 0, w;

	for (size_t i = 0; i < n; i++) {
		const char *g = it[i].glyph != NULL ? it[i].glyph :
		    pieces_glyph(v, &it[i].c, false);
		const char *what = _(it[i].what);

		/* Whole items only: a legend cut in the middle misleads. */
		w = draw_width(v, g) + 1 + draw_width(v, what);
		if (used + w > width)
			break;
		draw_text(v, y, x + used, width - used, g,
		    draw_attr(v, it[i].role));
		used += draw_width(v, g) + 1;
		used += draw_text(v, y, x + used, width - used, what,
		    draw_attr(v, ROLE_DIM));
		used += 2;
	}
	return used;
}

/* "1.2.3.4:5, [::1]:6" for the peers that contributed to a piece. */
static void
pieces_contrib(const struct torrent *t, const struct picker_piece *pp,
    char *out, size_t len)
{
	char addr[ADDR_STR_MAX];
	size_t o = 0;
	uint32_t i;

	out[0] = '\0';
	for (i = 0; i < pp->ncontrib && i < PICKER_MAX_CONTRIB; i++) {
		const struct peer *p = peerset_find(&t->ps, pp->contrib[i]);
		int k;

		if (p != NULL)
			addr_format(&p->addr, addr, sizeof(addr));
		else
			snprintf(addr, sizeof(addr), "gone#%u",
			    pp->contrib[i]);
		k = snprintf(out + o, len - o, "%s%s", o > 0 ? ", " : "",
		    addr);
		if (k < 0 || (size_t)k >= len - o)
			break;
		o += (size_t)k;
	}
}

void
draw_pieces(struct view *v, const struct torrent *t, int top, int height)
{
	char label[64], contrib[PICKER_MAX_CONTRIB * (ADDR_STR_MAX + 2) + 1];
	int map_rows, list_top, list_rows, first, y, x, bar_w;
	size_t nactive = t->pk.state != NULL ? t->pk.nactive : 0;

	if (t->mi.npieces == 0) {
		draw_text(v, top, 0, v->cols, t->phase == TORRENT_METADATA ?
		    _("no pieces yet: fetching metadata") : _("no pieces"),
		    draw_attr(v, ROLE_DIM));
		return;
	}
	map_rows = height;
	if (nactive > 0 && height >= 3) {
		map_rows = height * PIECES_MAP_SHARE / 3;
		/* No more map rows than the pieces need. */
		if (v->cols > 0 && t->mi.npieces > 0) {
			int need = (int)((t->mi.npieces + (uint32_t)v->cols -
			    1) / (uint32_t)v->cols);
			if (need < map_rows)
				map_rows = need;
		}
		if (map_rows < 1)
			map_rows = 1;
	}
	pieces_map(v, t, top, map_rows);
	if (nactive == 0 || height - map_rows < 2)
		return;

	list_top = top + map_rows;
	snprintf(label, sizeof(label), _("in flight: %zu"), nactive);
	draw_text(v, list_top, 0, v->cols, label, draw_attr(v, ROLE_TITLE));
	list_rows = height - map_rows - 1;
	first = draw_clamp(&v->scroll[VIEW_PANE_PIECES], (int)nactive,
	    list_rows);
	for (y = 0; y < list_rows && (size_t)(first + y) < nactive; y++) {
		const struct picker_piece *pp = &t->pk.active[first + y];
		int row = list_top + 1 + y;

		snprintf(label, sizeof(label), "%7u", pp->index);
		x = draw_text(v, row, 0, v->cols, label,
		    draw_attr(v, ROLE_NORMAL)) + 1;
		bar_w = v->cols / 4;
		if (bar_w > 30)
			bar_w = 30;
		draw_bar(v, row, x, bar_w, pp->nblocks > 0 ?
		    (double)pp->nrecv / pp->nblocks : 0.0,
		    draw_attr(v, ROLE_PARTIAL));
		x += bar_w + 1;
		snprintf(label, sizeof(label), "%u/%u", pp->nrecv,
		    pp->nblocks);
		x += draw_text(v, row, x, v->cols - x, label,
		    draw_attr(v, ROLE_NORMAL)) + 1;
		pieces_contrib(t, pp, contrib, sizeof(contrib));
		draw_text(v, row, x, v->cols - x, contrib,
		    draw_attr(v, ROLE_DIM));
	}
}
