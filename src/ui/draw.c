/*
 * draw.c: the drawing primitives every pane uses: colours by meaning
 * (with a monochrome attribute for each), text measured in display
 * columns, escaped untrusted text, bars, scrolling.  They read and write
 * only stdscr and the view's own fields.
 */
#include "config.h"

#include <curses.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/escape.h"
#include "ui/bar.h"
#include "ui/draw.h"

/* An escaped string may be four times longer than its input. */
#define DRAW_ESCAPED_MAX	(4 * DRAW_LINE_MAX)

/*
 * Colours by meaning, and the monochrome attribute for each meaning when
 * the terminal has no colours (htop CRT.h keeps one such table per
 * scheme).  Pair numbers are the role + 1.
 */
static const struct {
	short	fg;		/* -1: the terminal's default */
	attr_t	colour_attr;	/* added to the colour pair */
	attr_t	mono;
} view_roles[ROLE_NROLES] = {
	[ROLE_NORMAL] =		{ -1, A_NORMAL, A_NORMAL },
	[ROLE_TITLE] =		{ -1, A_BOLD, A_BOLD },
	[ROLE_DIM] =		{ -1, A_DIM, A_DIM },
	[ROLE_TAB] =		{ -1, A_REVERSE, A_REVERSE },
	[ROLE_MISSING] =	{ -1, A_DIM, A_DIM },
	[ROLE_REQUESTED] =	{ COLOR_YELLOW, A_NORMAL, A_UNDERLINE },
	[ROLE_PARTIAL] =	{ COLOR_CYAN, A_NORMAL, A_NORMAL },
	[ROLE_HAVE] =		{ COLOR_GREEN, A_NORMAL, A_BOLD },
	[ROLE_ERROR] =		{ COLOR_RED, A_BOLD, A_BOLD | A_REVERSE },
	[ROLE_WARN] =		{ COLOR_YELLOW, A_NORMAL, A_BOLD },
	[ROLE_INFO] =		{ -1, A_NORMAL, A_NORMAL },
	[ROLE_DEBUG] =		{ -1, A_DIM, A_DIM },
	[ROLE_PAUSED] =		{ COLOR_YELLOW, A_BOLD | A_REVERSE,
				    A_BOLD | A_REVERSE },
	[ROLE_AVAIL0] =		{ COLOR_RED, A_NORMAL, A_DIM },
	[ROLE_AVAIL1] =		{ COLOR_YELLOW, A_NORMAL, A_UNDERLINE },
	[ROLE_AVAIL_FEW] =	{ COLOR_CYAN, A_NORMAL, A_NORMAL },
	[ROLE_AVAIL_MANY] =	{ COLOR_GREEN, A_NORMAL, A_BOLD },
};

attr_t
draw_attr(const struct view *v, enum draw_role r)
{
	if ((unsigned)r >= ROLE_NROLES)
		r = ROLE_NORMAL;
	if (!v->colour)
		return view_roles[r].mono;
	return COLOR_PAIR(r + 1) | view_roles[r].colour_attr;
}

int
draw_text(struct view *v, int y, int x, int width, const char *s, attr_t a)
{
	wchar_t wbuf[DRAW_LINE_MAX];
	mbstate_t mbs;
	size_t n = 0, len, k;
	int used = 0, w;
	wchar_t wc;

	if (y < 0 || y >= v->rows || x < 0 || x >= v->cols || width <= 0)
		return 0;
	if (width > v->cols - x)
		width = v->cols - x;
	memset(&mbs, 0, sizeof(mbs));
	len = strlen(s);
	while (len > 0 && n < DRAW_LINE_MAX) {
		if (!v->utf8 && (unsigned char)*s >= 0x80) {
			/* Outside UTF-8 we cannot know what the terminal
			 * would make of the byte. */
			wc = L'?';
			k = 1;
		} else {
			k = mbrtowc(&wc, s, len, &mbs);
			if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
				memset(&mbs, 0, sizeof(mbs));
				wc = L'?';
				k = 1;
			}
		}
		w = wcwidth(wc);
		if (w < 0) {
			wc = L'?';
			w = 1;
		}
		if (used + w > width)
			break;
		wbuf[n++] = wc;
		used += w;
		s += k;
		len -= k;
	}
	if (n == 0)
		return 0;
	attrset(a);
	mvaddnwstr(y, x, wbuf, (int)n);
	attrset(A_NORMAL);
	return used;
}

int
draw_width(const struct view *v, const char *s)
{
	mbstate_t mbs;
	size_t len = strlen(s), k, n = 0;
	int used = 0, w;
	wchar_t wc;

	memset(&mbs, 0, sizeof(mbs));
	/* The same decoding and fallbacks as draw_text. */
	while (len > 0 && n++ < DRAW_LINE_MAX) {
		if (!v->utf8 && (unsigned char)*s >= 0x80) {
			wc = L'?';
			k = 1;
		} else {
			k = mbrtowc(&wc, s, len, &mbs);
			if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
				memset(&mbs, 0, sizeof(mbs));
				wc = L'?';
				k = 1;
			}
		}
		w = wcwidth(wc);
		used += w < 0 ? 1 : w;
		s += k;
		len -= k;
	}
	return used;
}

int
draw_text_right(struct view *v, int y, int x, int width, const char *s,
    attr_t a)
{
	int w = draw_width(v, s);

	if (w < width)
		x += width - w;
	return draw_text(v, y, x, width < w ? width : w, s, a);
}

int
draw_untrusted(struct view *v, int y, int x, int width, const char *s,
    attr_t a)
{
	char esc[DRAW_ESCAPED_MAX];

	if (s == NULL)
		return 0;
	escape_str(s, strnlen(s, DRAW_LINE_MAX), esc, sizeof(esc));
	return draw_text(v, y, x, width, esc, a);
}

void
draw_bar(struct view *v, int y, int x, int width, double frac, attr_t a)
{
	char buf[DRAW_BAR_MAX * 3 + 1];

	if (width > DRAW_BAR_MAX)
		width = DRAW_BAR_MAX;
	if (width <= 0)
		return;
	bar_render(frac, width, v->utf8, buf, sizeof(buf));
	draw_text(v, y, x, width, buf, a);
}

int
draw_clamp(int *scroll, int total, int height)
{
	int max = total > height ? total - height : 0;

	if (*scroll > max)
		*scroll = max;
	if (*scroll < 0)
		*scroll = 0;
	return *scroll;
}

void
draw_colours(struct view *v)
{
	int r;

	v->colour = has_colors();
	if (!v->colour)
		return;
	if (start_color() == ERR) {
		v->colour = false;
		return;
	}
	/* Keep the user's background and foreground where we can. */
	if (use_default_colors() == ERR)
		assume_default_colors(COLOR_WHITE, COLOR_BLACK);
	for (r = 0; r < ROLE_NROLES; r++)
		init_pair((short)(r + 1), view_roles[r].fg, -1);
}

