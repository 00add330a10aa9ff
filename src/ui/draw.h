/*
 * draw.h: what the pane files of the view share, and nothing else sees.
 *
 * struct view holds the curses screen and the view-local state (current
 * pane, scroll offsets, toggles).  Each pane file draws one region of
 * stdscr from a const struct torrent; view.c lays the regions out and
 * owns the screen.  All text goes through draw_text, which counts display
 * columns and never writes past the width it is given or the screen's
 * right edge; strings from torrents or the network go through
 * draw_untrusted, which escapes them first.
 */
#ifndef THR_UI_DRAW_H
#define THR_UI_DRAW_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/i18n.h"
#include "core/torrent.h"
#include "ui/view.h"

/* Longest line we convert for drawing, in characters. */
#define DRAW_LINE_MAX	1024
/* The widest progress bar we render: bar_render needs 3 bytes a cell. */
#define DRAW_BAR_MAX	100

/* Peers table sort orders, cycled by 's'. */
enum draw_sort {
	DRAW_SORT_DOWN,
	DRAW_SORT_UP,
	DRAW_SORT_ADDR,
	DRAW_NSORTS,
};

/* What a piece of text means; draw_attr maps it to colour or to a
 * monochrome attribute. */
enum draw_role {
	ROLE_NORMAL,
	ROLE_TITLE,		/* torrent name, table headings */
	ROLE_DIM,
	ROLE_TAB,		/* the current pane's tab */
	ROLE_MISSING,
	ROLE_REQUESTED,
	ROLE_PARTIAL,
	ROLE_HAVE,
	ROLE_ERROR,
	ROLE_WARN,
	ROLE_INFO,
	ROLE_DEBUG,
	ROLE_PAUSED,
	ROLE_AVAIL0,		/* nobody has it */
	ROLE_AVAIL1,		/* one peer: rare */
	ROLE_AVAIL_FEW,		/* 2..3 */
	ROLE_AVAIL_MANY,	/* 4 and more */
	ROLE_NROLES,
};

struct view {
	SCREEN		*scr;		/* owned */
	FILE		*in, *out;	/* borrowed */
	int		 cols, rows;
	bool		 utf8;		/* locale codeset is UTF-8 */
	bool		 colour;	/* has_colors() at start */
	bool		 need_clear;	/* after a resize: repaint all */
	bool		 help;		/* help overlay shown */
	bool		 avail;		/* piece map shows availability */
	enum draw_sort	 sort;
	enum view_pane	 pane;
	int		 scroll[VIEW_NPANES];	/* see view.c */
	int		 file_cursor;	/* files pane: the highlighted file */
	int		 page;		/* main pane height, for PgUp/PgDn */
	bool		 dirty;		/* view_update: redraw asked */
	uint64_t	 last_draw_ms;
	uint64_t	 drawn_changes;	/* the torrent's and session's
					 * change counters, and the log's, at
					 * the last draw */
	uint64_t	 drawn_logs;
};

/* Start the colour pairs when the terminal has colours (v->colour). */
void	draw_colours(struct view *v);
attr_t	draw_attr(const struct view *v, enum draw_role r);
/*
 * Draw UTF-8 text s at (y, x) in at most width columns (and never past
 * the screen's right edge).  s must already be safe (escaped or our own
 * text).  Returns the columns used.
 */
int	draw_text(struct view *v, int y, int x, int width, const char *s,
	    attr_t a);
/*
 * The columns s takes on screen as draw_text would draw it: labels are
 * translated and a German or CJK label differs from the English in
 * bytes, characters and columns alike, so layout measures with this,
 * never strlen.
 */
int	draw_width(const struct view *v, const char *s);
/* As draw_text, right-aligned in [x, x + width): numeric columns. */
int	draw_text_right(struct view *v, int y, int x, int width,
	    const char *s, attr_t a);
/* As draw_text, for raw bytes from a torrent or peer: escaped first. */
int	draw_untrusted(struct view *v, int y, int x, int width,
	    const char *s, attr_t a);
/* Fill width columns at (y, x) with a progress bar of frac. */
void	draw_bar(struct view *v, int y, int x, int width, double frac,
	    attr_t a);
/* The first row to show of total rows in height rows, after clamping
 * *scroll into range. */
int	draw_clamp(int *scroll, int total, int height);

/* The regions.  top and height give the main pane's rows. */
void	draw_header(struct view *v, const struct torrent *t,
	    uint64_t now_ms);
void	draw_peers(struct view *v, const struct torrent *t,
	    uint64_t now_ms, int top, int height);
void	draw_pieces(struct view *v, const struct torrent *t, int top,
	    int height);
void	draw_files(struct view *v, const struct torrent *t, int top,
	    int height);
void	draw_log(struct view *v, const struct torrent *t, int top,
	    int height);
void	draw_help(struct view *v);
/* What the piece map's glyphs (or, with the availability toggle, its
 * digits) mean, in their colours, from (y, x) in at most width columns;
 * aggregate when cells hold ranges of pieces.  Returns the columns
 * used. */
int	draw_pieces_legend(struct view *v, int y, int x, int width,
	    bool aggregate);

#endif
