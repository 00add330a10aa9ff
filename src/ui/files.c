/*
 * files.c: one row per file of the torrent: index, progress bar,
 * percent, size and path.  Paths come from the torrent and are drawn
 * escaped.  Before a magnet's metadata is known there are no files: the
 * pane says so.
 */
#include "config.h"

#include <stdio.h>

#include "ui/bar.h"
#include "ui/draw.h"

#define FILES_INDEX_W	5
#define FILES_BAR_W	20
#define FILES_PCT_W	6
#define FILES_SIZE_W	10

void
draw_files(struct view *v, const struct torrent *t, int top, int height)
{
	char idx[24], pct[16], size[32], rsize[40];
	attr_t head = draw_attr(v, ROLE_TITLE), norm = draw_attr(v, ROLE_NORMAL);
	int first, y, x, bar_w;
	double frac;

	bar_w = v->cols / 4 < FILES_BAR_W ? v->cols / 4 : FILES_BAR_W;
	x = 0;
	draw_text_right(v, top, x, FILES_INDEX_W, "#", head);
	x += FILES_INDEX_W + 1;
	draw_text(v, top, x, bar_w, _("progress"), head);
	x += bar_w + 1;
	draw_text_right(v, top, x, FILES_PCT_W, _("done"), head);
	x += FILES_PCT_W + 1;
	draw_text_right(v, top, x, FILES_SIZE_W, _("size"), head);
	x += FILES_SIZE_W + 1;
	draw_text(v, top, x, v->cols - x, _("path"), head);

	/* The cursor row is the file that the toggle key acts on; keep it
	 * in range and on screen. */
	if (v->file_cursor >= (int)t->mi.nfiles)
		v->file_cursor = (int)t->mi.nfiles - 1;
	if (v->file_cursor < 0)
		v->file_cursor = 0;
	if (v->file_cursor < v->scroll[VIEW_PANE_FILES])
		v->scroll[VIEW_PANE_FILES] = v->file_cursor;
	if (height > 1 && v->file_cursor >= v->scroll[VIEW_PANE_FILES] +
	    height - 1)
		v->scroll[VIEW_PANE_FILES] = v->file_cursor - height + 2;
	if (t->mi.nfiles == 0 || t->mi.files == NULL) {
		draw_text(v, top + 1, 0, v->cols, t->phase == TORRENT_METADATA ?
		    _("no file list yet: fetching metadata") : _("no files"),
		    draw_attr(v, ROLE_DIM));
		return;
	}
	first = draw_clamp(&v->scroll[VIEW_PANE_FILES], (int)t->mi.nfiles,
	    height - 1);
	for (y = 1; y < height && (size_t)(first + y - 1) < t->mi.nfiles;
	    y++) {
		size_t i = (size_t)(first + y - 1);
		const struct metainfo_file *f = &t->mi.files[i];

		attr_t rowattr = (int)i == v->file_cursor ?
		    norm | A_REVERSE : norm;

		frac = bar_file_progress(t, i);
		/* 1-based, as "thorrent info" and --files count; '-' marks a
		 * file that is not selected for download. */
		snprintf(idx, sizeof(idx), "%c%4zu",
		    t->sel.wanted == NULL || t->sel.wanted[i] ? ' ' : '-',
		    i + 1);
		snprintf(pct, sizeof(pct), "%5.1f%%", 100.0 * frac);
		bar_human_bytes(f->length, size, sizeof(size));
		x = 0;
		draw_text(v, top + y, x, FILES_INDEX_W, idx, rowattr);
		x += FILES_INDEX_W + 1;
		draw_bar(v, top + y, x, bar_w, frac, draw_attr(v,
		    frac >= 1.0 ? ROLE_HAVE : ROLE_PARTIAL));
		x += bar_w + 1;
		draw_text(v, top + y, x, FILES_PCT_W, pct, norm);
		x += FILES_PCT_W + 1;
		/* Right-align the size in its column. */
		snprintf(rsize, sizeof(rsize), "%*s", FILES_SIZE_W, size);
		draw_text(v, top + y, x, FILES_SIZE_W, rsize, norm);
		x += FILES_SIZE_W + 1;
		draw_untrusted(v, top + y, x, v->cols - x,
		    f->path != NULL ? f->path : "?", norm);
	}
}
