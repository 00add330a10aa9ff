/*
 * help.c: the help overlay, generated from the key table so that it
 * lists exactly the keys view_keys obeys.  Keys bound to the same
 * command share one line ("Up/k  scroll up").
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ui/draw.h"
#include "ui/keys.h"

#define HELP_KEYS_W	12

void
draw_help(struct view *v)
{
	const struct keys_binding *kb;
	char names[64], line[160];
	size_t n, i, j, o;
	int nlines = 0, width = 0, top, left, y, len, x, k;
	bool seen;

	kb = keys_table(&n);
	/* Count lines (one per distinct command) and the widest help. */
	for (i = 0; i < n; i++) {
		for (seen = false, j = 0; j < i; j++)
			if (kb[j].cmd == kb[i].cmd)
				seen = true;
		if (seen)
			continue;
		nlines++;
		len = HELP_KEYS_W + 2 + draw_width(v, keys_help(kb[i].cmd));
		if (len > width)
			width = len;
	}
	width += 4;
	if (width > v->cols)
		width = v->cols;
	top = (v->rows - (nlines + 4)) / 2;
	if (top < 0)
		top = 0;
	left = (v->cols - width) / 2;

	/* A blank box: draw spaces so the pane below does not show. */
	memset(line, ' ', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (y = top; y < top + nlines + 4 && y < v->rows; y++)
		draw_text(v, y, left, width, line, draw_attr(v, ROLE_NORMAL));
	draw_text(v, top, left + 2, width - 2, _("keys (any key closes)"),
	    draw_attr(v, ROLE_TITLE));

	y = top + 2;
	for (i = 0; i < n && y < v->rows; i++) {
		for (seen = false, j = 0; j < i; j++)
			if (kb[j].cmd == kb[i].cmd)
				seen = true;
		if (seen)
			continue;
		names[0] = '\0';
		for (o = 0, j = i; j < n; j++) {
			if (kb[j].cmd != kb[i].cmd)
				continue;
			k = snprintf(names + o, sizeof(names) - o, "%s%s",
			    o > 0 ? "/" : "", kb[j].name);
			if (k < 0 || (size_t)k >= sizeof(names) - o)
				break;
			o += (size_t)k;
		}
		x = left + 2;
		draw_text(v, y, x, HELP_KEYS_W, names,
		    draw_attr(v, ROLE_TITLE));
		x += HELP_KEYS_W + 2;
		draw_text(v, y, x, left + width - x, keys_help(kb[i].cmd),
		    draw_attr(v, ROLE_NORMAL));
		y++;
	}
}
